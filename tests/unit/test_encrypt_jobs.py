"""encrypt's jobs as data: what is previewed and hashed for the ledger never holds the key,
and the key reaches a session only in its startup options."""

from __future__ import annotations

import json

import pytest

from auroractl import db
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops import encrypt
from auroractl.ops.shared import keys
from auroractl.plan import Job, Plan

KEY = "k3y-for-unit-tests-0123456789abcdef"
NEW_KEY = "n3w-key-for-unit-tests-0123456789ab"


def target(**changes) -> encrypt.Target:
    values = {
        "schema": "public",
        "name": "usuarios",
        "column": "documento_identidade",
        "target": "documento_identidade_encrypted",
        "pk": "id",
        "column_type": "text",
        "target_type": "bytea",
        "has_trigger": True,
        "has_decrypt": True,
        "has_invalidate": True,
    }
    return encrypt.Target(**(values | changes))


def jobs() -> list[Job]:
    t = target()
    prepare = Plan("encrypt backfill", "prepare")
    return [
        encrypt.backfill_job(lambda: None, t, prepare, batch_size=500, jobs=2),
        encrypt.finalize_job(lambda: None, t, "encrypt finalize"),
        encrypt.rotate_job(lambda: None, t, "encrypt rotate"),
    ]


def test_preview_fingerprint_and_repr_never_hold_the_key():
    for job in jobs():
        shown = json.dumps(job.preview()) + job.fingerprint() + repr(job)
        assert KEY not in shown and NEW_KEY not in shown
        # no bind parameter, no literal: the statements read the session's setting
        assert "current_setting('auroractl.encryption_key')" in job.sql_text()
        assert "%(key)s" not in job.sql_text()
        assert job.kind == "job" and job.preview()["steps"]
    assert "current_setting('auroractl.new_encryption_key')" in jobs()[2].sql_text()


def test_finalize_and_rotate_need_the_ciphertext_column_and_two_different_keys():
    with pytest.raises(Precondition):
        encrypt.finalize_job(lambda: None, target(target_type=None), "encrypt finalize")
    with pytest.raises(InvalidInput, match="the new key is the same as the current key"):
        encrypt.check_new_key(KEY, KEY)
    encrypt.check_new_key(KEY, NEW_KEY)
    with pytest.raises(InvalidInput):
        encrypt.backfill_job(lambda: None, target(), Plan("c", "s"), batch_size=0)


def test_an_outdated_decrypt_helper_is_replaced_by_finalize_and_rotate():
    """The helper once declared PARALLEL SAFE: finalize's and rotate's prepare replace it
    (backfill's too: tests/integration); a current one is left alone."""
    old = target(decrypt_outdated=True)
    for job in (
        encrypt.finalize_job(lambda: None, old, "encrypt finalize"),
        encrypt.rotate_job(lambda: None, old, "encrypt rotate"),
    ):
        assert job.prepare is not None and "PARALLEL UNSAFE" in job.prepare.sql_text()
        assert "CREATE OR REPLACE FUNCTION" in job.sql_text()
    assert encrypt.finalize_job(lambda: None, target(), "encrypt finalize").prepare is None
    assert encrypt.rotate_job(lambda: None, target(), "encrypt rotate").prepare is None


@pytest.mark.parametrize(
    "value",
    ["plain-base64+/=key0123456789", "with space\\ and \\ backslash", "tab\tnew\nline'\"q"],
)
def test_secret_options_escape_what_libpq_splits_on(value):
    """libpq's rule for ``options``: whitespace separates, a backslash keeps the next byte.
    Splitting the result by that rule gives back exactly one ``-c name=value``."""
    args: list[str] = []
    arg: str | None = None  # the argument being read, None between arguments
    escaped = False
    for ch in db.secret_options({keys.KEY: value}):
        if not escaped and ch == "\\":
            escaped = True
            continue
        if not escaped and ch.isspace():
            if arg is not None:
                args.append(arg)
            arg = None
            continue
        arg, escaped = (arg or "") + ch, False
    if arg is not None:
        args.append(arg)
    assert args == ["-c", f"{keys.KEY}={value}"]


def test_secret_options_refuse_what_cannot_travel():
    with pytest.raises(InvalidInput):
        db.secret_options({keys.KEY: "x" * (db.MAX_SECRET + 1)})
    with pytest.raises(InvalidInput):
        db.secret_options({keys.KEY: ""})
    with pytest.raises(ValueError):
        db.secret_options({"lock_timeout": "0"})  # only auroractl's own settings


def test_skipped_triggers_are_in_the_preview_and_the_hash():
    t = target()
    quiet = encrypt.Triggers(("people_last_update",), ("always_on",))
    fired = encrypt.Triggers(("people_last_update",), (), fire=True)
    plain = encrypt.finalize_job(lambda: None, t, "encrypt finalize")
    skipping = encrypt.finalize_job(lambda: None, t, "encrypt finalize", triggers=quiet)
    firing = encrypt.finalize_job(lambda: None, t, "encrypt finalize", triggers=fired)
    assert skipping.steps[0].sql == "SET LOCAL session_replication_role = replica"
    assert "session_replication_role" not in plain.sql_text() + firing.sql_text()
    assert skipping.sql_hash() != plain.sql_hash() == firing.sql_hash()
    notes = " ".join(skipping.preview()["notes"])
    assert "people_last_update do not fire" in notes and "always_on fire" in notes
    assert plain.preview()["notes"] == [] and "--fire-triggers" in firing.preview()["notes"][0]
