"""The erasure log without a database: where it is, its entries, its hashes, a directory's
append-once, and the hashes a forget keeps."""

from __future__ import annotations

import json

import pytest

from auroractl.errors import InvalidInput, NotLogged, Precondition
from auroractl.ops.lgpd import LgpdConfig
from auroractl.ops.lgpd import erasure_log as elog
from auroractl.ops.lgpd.forget import hashes

RID = "2f1c8a4e-2b7d-4d55-9c41-3f4e5a6b7c8d"


def test_the_section_names_the_log():
    assert LgpdConfig.from_section({"erasure_log": " s3://b-1/p "}).erasure_log == "s3://b-1/p"
    with pytest.raises(InvalidInput, match="erasure_log"):
        LgpdConfig.from_section({"erasure_log": ""})


@pytest.mark.parametrize(
    ("spec", "kind", "uri"),
    [
        ("s3://acme-erasures/prod/db", elog.S3Log, "s3://acme-erasures/prod/db"),
        ("s3://acme-erasures", elog.S3Log, "s3://acme-erasures"),
        ("logs/erasures", elog.LocalLog, "/base/logs/erasures"),
        ("/var/lib/erasures", elog.LocalLog, "/var/lib/erasures"),
    ],
)
def test_where_the_log_is(spec, kind, uri):
    from pathlib import Path

    log = elog.open_log(spec, Path("/base"))
    assert isinstance(log, kind) and log.uri == uri


@pytest.mark.parametrize("spec", ["s3://", "s3://UPPER/x", "https://x/y", "  "])
def test_a_malformed_log_is_bad_input(spec):
    with pytest.raises(InvalidInput):
        elog.open_log(spec)


def test_hashes_are_keyed_folded_and_per_column():
    a = elog.hash_value(b"salt-1", "email", " Ana@Example.org ")
    assert a == elog.hash_value(b"salt-1", "email", "ana@example.org")
    assert a != elog.hash_value(b"salt-2", "email", "ana@example.org")
    assert a != elog.hash_value(b"salt-1", "contact", "ana@example.org")
    assert a.startswith("hmac-sha256:") and "ana" not in a


def test_a_forget_keeps_hashes_of_what_it_removed_only():
    before = {"nome": "Ana", "email": "ana@x.org", "apelido": "REMOVIDO", "tel": None}
    after = {"nome": "erased-7", "email": None, "apelido": "REMOVIDO", "tel": None}
    assert set(hashes(b"s", before, after)) == {"nome", "email"}
    assert set(hashes(b"s", before, None)) == {"nome", "email", "apelido"}  # row deleted


def test_a_directory_takes_each_entry_once(tmp_path):
    log = elog.open_log(str(tmp_path / "log"))
    assert log.entries() == [] and log.salt(create=False) is None
    salt = log.salt(create=True)
    assert salt is not None and len(salt) == 32 and log.salt(create=True) == salt
    entry = elog.Entry("public.people", "7", RID, "2026-01-02T03:04:05+00:00",
                       identifiers={"email": "hmac-sha256:00"})  # fmt: skip
    assert log.append(entry) is True
    assert log.append(elog.Entry("public.people", "8", RID, "2027-01-01T00:00:00+00:00")) is False
    assert log.entries() == [entry]  # the first one stays
    assert (tmp_path / "log" / "erasures" / f"{RID}.json").stat().st_mode & 0o077 == 0
    assert [p.name for p in (tmp_path / "log" / "erasures").iterdir()] == [f"{RID}.json"]


def test_a_directory_that_cannot_take_an_entry_is_not_logged(tmp_path):
    log = elog.open_log(str(tmp_path / "log"))
    log.salt(create=True)
    (tmp_path / "log" / "erasures").rmdir()
    (tmp_path / "log" / "erasures").write_text("")
    with pytest.raises(NotLogged, match=RID) as caught:
        log.append(elog.Entry("public.people", "7", RID, "2026-01-02T03:04:05+00:00"))
    assert caught.value.exit_code == 9


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"{}", json.dumps({"subject_table": "t", "subject_id": "1",
                                     "receipt_id": "../../etc", "erased_at": "x"}).encode()],
)  # fmt: skip
def test_a_malformed_entry_is_a_precondition(raw):
    with pytest.raises(Precondition, match="malformed"):
        elog.Entry.parse(raw, "erasures/x.json")
