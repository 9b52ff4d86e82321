"""encrypt's jobs as data: what is previewed and hashed for the ledger never holds the key."""

from __future__ import annotations

import json

import pytest

from auroractl.errors import InvalidInput, Precondition
from auroractl.ops import encrypt
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
        encrypt.backfill_job(lambda: None, t, KEY, prepare, batch_size=500, jobs=2),
        encrypt.finalize_job(None, t, KEY, "encrypt finalize"),
        encrypt.rotate_job(None, t, KEY, NEW_KEY, "encrypt rotate"),
    ]


def test_preview_fingerprint_and_repr_never_hold_the_key():
    for job in jobs():
        shown = json.dumps(job.preview()) + job.fingerprint() + repr(job)
        assert KEY not in shown and NEW_KEY not in shown
        assert "%(key)s" in job.sql_text()  # the key is a bind parameter
        assert job.kind == "job" and job.preview()["steps"]


def test_finalize_and_rotate_need_the_ciphertext_column_and_two_keys():
    with pytest.raises(Precondition):
        encrypt.finalize_job(None, target(target_type=None), KEY, "encrypt finalize")
    with pytest.raises(InvalidInput):
        encrypt.rotate_job(None, target(), KEY, KEY, "encrypt rotate")
    with pytest.raises(InvalidInput):
        encrypt.backfill_job(lambda: None, target(), KEY, Plan("c", "s"), batch_size=0)


def test_skipped_triggers_are_in_the_preview_and_the_hash():
    t = target()
    quiet = encrypt.Triggers(("people_last_update",), ("always_on",))
    fired = encrypt.Triggers(("people_last_update",), (), fire=True)
    plain = encrypt.finalize_job(None, t, KEY, "encrypt finalize")
    skipping = encrypt.finalize_job(None, t, KEY, "encrypt finalize", triggers=quiet)
    firing = encrypt.finalize_job(None, t, KEY, "encrypt finalize", triggers=fired)
    assert skipping.steps[0].sql == "SET LOCAL session_replication_role = replica"
    assert "session_replication_role" not in plain.sql_text() + firing.sql_text()
    assert skipping.sql_hash() != plain.sql_hash() == firing.sql_hash()
    notes = " ".join(skipping.preview()["notes"])
    assert "people_last_update do not fire" in notes and "always_on fire" in notes
    assert plain.preview()["notes"] == [] and "--fire-triggers" in firing.preview()["notes"][0]
