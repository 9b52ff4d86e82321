"""The erasure log round trip on a real PostgreSQL: a pg_dump taken before `lgpd forget`,
restored into a new database, brings the subject back; `lgpd reapply` erases it again,
changing exactly the rows `forget` changed, and a restore-test drill does the same on its
copy. The subject comes from the data map (its default subject), never from the demo.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from auroractl.ops.shared import datamap as dm
from auroractl.sandbox import ADMIN_ROLE, find_bindir
from tests.conftest import superuser

LOG_CONFIG = '[lgpd]\nerasure_log = "erasures"\n'


def user_rows(conn: psycopg.Connection) -> dict[str, set[str]]:
    """Every row of every user table (leaf partitions included, auroractl's own state
    left out), as the md5 of its text."""
    tables = conn.execute(
        "SELECT schemaname, relname FROM pg_stat_user_tables WHERE schemaname <> 'auroractl'"
    ).fetchall()
    q = sql.SQL("SELECT md5(t::text) FROM {} t")
    return {
        f"{s}.{t}": {r[0] for r in conn.execute(q.format(sql.Identifier(s, t)))} for s, t in tables
    }


def changed(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, set[str]]:
    """The rows of ``before`` that ``after`` no longer has (changed or deleted), by table."""
    out = {t: rows - after.get(t, set()) for t, rows in before.items()}
    return {t: rows for t, rows in out.items() if rows}


@dataclass
class Restored:
    """A pg_dump of the target taken before the erasure, restorable into new databases."""

    cluster: object
    dump: Path
    made: list[str]
    extensions: frozenset[str]

    def restore(self, name: str) -> str:
        """A new database from the dump, as the admin role; the extensions only a superuser
        may create are created first (as on Aurora, where rds_superuser has them)."""
        from auroractl.ops.restore_test.local import filter_toc

        with superuser(self.cluster) as su:  # type: ignore[arg-type]
            su.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(name), sql.Identifier(ADMIN_ROLE)
                )
            )
        self.made.append(name)
        with superuser(self.cluster, name) as su:  # type: ignore[arg-type]
            for ext in self.extensions:
                su.execute(sql.SQL("CREATE EXTENSION {}").format(sql.Identifier(ext)))
        pg_restore = str(find_bindir() / "pg_restore")
        toc = subprocess.run([pg_restore, "-l", str(self.dump)], capture_output=True, text=True)
        listing = self.dump.with_suffix(".list")
        listing.write_text(filter_toc(toc.stdout, self.extensions))
        target = self.cluster.conninfo(name)  # type: ignore[attr-defined]
        done = subprocess.run(
            [pg_restore, "--no-owner", "-L", str(listing), "-d", target, str(self.dump)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return target


@pytest.fixture
def dumped(cluster, tmp_path) -> Iterator[Callable[[str], Restored]]:
    made: list[str] = []

    def take(conninfo: str) -> Restored:
        dump = tmp_path / "before.dump"
        pg_dump = str(find_bindir() / "pg_dump")
        done = subprocess.run(
            [pg_dump, "-Fc", "-f", str(dump), "-d", conninfo],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        with psycopg.connect(conninfo) as c:
            exts = {r[0] for r in c.execute("SELECT extname FROM pg_extension")} - {"plpgsql"}
        return Restored(cluster, dump, made, frozenset(exts))

    yield take
    with superuser(cluster) as su:
        for name in made:
            su.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def subject_of(map_path: Path, conn: psycopg.Connection) -> tuple[str, str, dict[str, str]]:
    """The map's default subject table, one of its ids, and that row's identifying values."""
    from auroractl.ops.lgpd import IDENTIFIER_CLASSES

    m = dm.load(map_path)
    s = m.default_subject()
    assert s is not None
    cols = [c.column for c in m.columns_of(s.table)
            if c.cls in IDENTIFIER_CLASSES and c.rule.kind != "keep"]  # fmt: skip
    assert cols, "the map marks no identifying column of the subject"
    schema, _, name = s.table.partition(".")
    q = sql.SQL("SELECT {}, {} FROM {} ORDER BY 1 OFFSET 2 LIMIT 1").format(
        sql.Identifier(s.key[0]),
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in cols),
        sql.Identifier(schema, name),
    )
    sid, *values = conn.execute(q).fetchone()
    return s.table, str(sid), {c: v for c, v in zip(cols, values, strict=True) if v}


def still_there(conn: psycopg.Connection, table: str, sid: str, values: dict[str, str]) -> list:
    """The identifying values of the subject's row (by the map's key) that it still holds."""
    m = dm.load(Path(dm.DEFAULT_FILE))
    s = m.subject(table)
    assert s is not None
    schema, _, name = table.partition(".")
    q = sql.SQL("SELECT {} FROM {} WHERE {}::text = %s").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in values),
        sql.Identifier(schema, name),
        sql.Identifier(s.key[0]),
    )
    row = conn.execute(q, [sid]).fetchone()
    return [] if row is None else [c for c, v in zip(values, row, strict=True) if v == values[c]]


def ok(result) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 0, result.stdout + result.stderr


def log_entries(root: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((root / "erasures").glob("*.json"))]


def round_trip(cli, cluster, conninfo, map_path, dumped, monkeypatch, tmp_path, name):  # type: ignore[no-untyped-def]
    """Dump, forget one subject (logged), restore the dump, reapply: the checks shared by
    the demo and the English schema. Returns the restored database's conninfo."""
    (tmp_path / "auroractl.toml").write_text(LOG_CONFIG)
    with psycopg.connect(conninfo, autocommit=True) as a:
        table, sid, values = subject_of(map_path, a)
        backup = dumped(conninfo)
        ok(cli("lgpd", "forget", sid, "--yes"))
        forgotten = user_rows(a)
        receipt = a.execute(
            "SELECT request_id::text FROM auroractl.lgpd_requests WHERE subject_id = %s", [sid]
        ).fetchone()[0]
    # the log: one entry, no personal value, hashes of what was erased
    [entry] = log_entries(tmp_path / "erasures")
    assert (entry["subject_table"], entry["subject_id"], entry["receipt_id"]) == (
        table, sid, receipt,
    )  # fmt: skip
    assert set(entry["identifiers"]) == set(values)
    text = "\n".join(p.read_text() for p in (tmp_path / "erasures").rglob("*.json"))
    assert not [v for v in values.values() if v.casefold() in text.casefold()]

    # the restore brings the subject back
    b = backup.restore(name)
    monkeypatch.setenv("AURORACTL_DSN", b)
    with psycopg.connect(b, autocommit=True) as copy:
        restored = user_rows(copy)
        assert still_there(copy, table, sid, values) == list(values)
        dry = cli("lgpd", "reapply", "--dry-run", "--format", "json")
        ok(dry)
        plan = json.loads(dry.stdout)
        assert plan["status"] == "dry-run" and plan["steps"]
        assert any(f"re-apply {table} {sid} (receipt {receipt}" in n for n in plan["notes"])
        assert user_rows(copy) == restored  # a dry run changes nothing

        done = cli("lgpd", "reapply", "--yes", "--format", "json")
        ok(done)
        doc = json.loads(done.stdout)
        assert doc["status"] == "applied" and doc["result"]["reapplied"] == 1
        assert still_there(copy, table, sid, values) == []
        # reapply changed exactly the rows forget changed, nothing else
        assert changed(restored, user_rows(copy)) == changed(restored, forgotten) != {}
        held = copy.execute(
            "SELECT request_id::text, reapplied_at IS NOT NULL, identifiers "
            "FROM auroractl.lgpd_requests WHERE subject_id = %s",
            [sid],
        ).fetchall()
        assert held == [(receipt, True, entry["identifiers"])]  # the same receipt
        again = cli("lgpd", "reapply", "--yes", "--format", "json")
        ok(again)
        assert json.loads(again.stdout)["status"] == "nothing-to-do"
        after = user_rows(copy)
    return b, forgotten, after


def test_reapply_after_restoring_a_dump(cli, cluster, dsn, demo_map, dumped, monkeypatch, tmp_path):
    _, forgotten, after = round_trip(
        cli, cluster, dsn, demo_map, dumped, monkeypatch, tmp_path, f"rb{os.getpid()}_demo"
    )
    assert after == forgotten  # the demo has no trigger: the copy is the source, row for row


def test_reapply_on_the_english_schema(cli, cluster, en_dsn, en_map, dumped, monkeypatch, tmp_path):
    round_trip(cli, cluster, en_dsn, en_map, dumped, monkeypatch, tmp_path, f"rb{os.getpid()}_en")


def test_an_erasure_the_log_missed_is_written_by_the_rerun(cli, dsn, conn, demo_map, tmp_path):
    (tmp_path / "auroractl.toml").write_text(LOG_CONFIG)
    _, sid, values = subject_of(demo_map, conn)
    other = str(int(sid) + 1)
    ok(cli("lgpd", "forget", other, "--yes"))  # the log exists, with its salt
    folder = tmp_path / "erasures" / "erasures"
    kept = folder.with_name("kept")
    folder.rename(kept)
    folder.write_text("not a directory")  # the log cannot take an entry now
    failed = cli("lgpd", "forget", sid, "--yes", "--format", "json")
    assert failed.exit_code == 9, failed.stderr
    assert "NOT in the erasure log" in failed.stderr and "Run the same lgpd forget" in failed.stderr
    doc = json.loads(failed.stdout)
    assert doc["status"] == "applied" and len(doc["result"]["unlogged"]) == 1
    assert (
        conn.execute(
            "SELECT count(*) FROM auroractl.lgpd_requests WHERE subject_id = %s AND status = "
            "'completed'",
            [sid],
        ).fetchone()[0]
        == 1
    )  # erased in the database all the same

    folder.unlink()
    kept.rename(folder)
    rerun = cli("lgpd", "forget", sid, "--yes")
    ok(rerun)
    assert "already forgotten" in rerun.stderr and "1 erasure(s) appended" in rerun.stderr
    entries = {e["subject_id"]: e for e in log_entries(tmp_path / "erasures")}
    assert set(entries) == {other, sid}
    assert set(entries[sid]["identifiers"]) == set(values)  # the receipt kept the hashes
    ok(cli("lgpd", "forget", sid, "--yes"))
    assert len(log_entries(tmp_path / "erasures")) == 2  # append-only, once per erasure


def test_an_unreachable_log_stops_forget_before_anything_is_erased(
    cli, dsn, conn, demo_map, tmp_path
):
    (tmp_path / "blocked").write_text("a file, not a directory")
    (tmp_path / "auroractl.toml").write_text('[lgpd]\nerasure_log = "blocked/log"\n')
    _, sid, _ = subject_of(demo_map, conn)
    before = user_rows(conn)
    result = cli("lgpd", "forget", sid, "--yes")
    assert result.exit_code == 3, result.stderr
    assert "erasure log" in result.stderr and len(result.stderr.strip().splitlines()) <= 2
    assert user_rows(conn) == before


def test_reapply_without_a_log_refuses(cli, dsn, demo_map):
    result = cli("lgpd", "reapply", "--dry-run")
    assert result.exit_code == 3 and "erasure_log" in result.stderr


def test_restore_test_reapplies_the_log_on_its_copy(
    cli, cluster, dsn, conn, demo_map, dumped, monkeypatch, tmp_path
):
    """The drill, on a database restored from before an erasure: its copy gets the erasure
    re-applied and verified; the database under test itself is left as it was."""
    from auroractl.ops.lgpd import reapply
    from auroractl.ops.lgpd.erasure_log import open_log

    (tmp_path / "auroractl.toml").write_text(LOG_CONFIG)
    _, sid, _ = subject_of(demo_map, conn)
    backup = dumped(dsn)
    ok(cli("lgpd", "forget", sid, "--yes"))
    b = backup.restore(f"rb{os.getpid()}_drill")
    monkeypatch.setenv("AURORACTL_DSN", b)
    with psycopg.connect(b, autocommit=True) as old:
        before = user_rows(old)
        m = dm.load(demo_map)
        presence = reapply.check_absent(old, m, open_log(str(tmp_path / "erasures")))
        assert presence.checked == 1 and len(presence.present) == 2  # no receipt; values back

        steps = cli("restore-test", "--dry-run", "--format", "json")
        ok(steps)
        assert any("re-apply the erasure log" in s for s in json.loads(steps.stdout)["steps"])
        result = cli("restore-test", "--format", "json", "--report", str(tmp_path / "r.md"))
        ok(result)
        report = json.loads(result.stdout)
        assert report["outcome"] == "passed" and report["erasures_reapplied"] == 1
        checks = {c["name"]: c for c in report["checks"]}
        assert checks["lgpd: erasures re-applied"]["status"] == "pass"
        assert checks["lgpd: no erased subject present"]["status"] == "pass"
        assert "| erasures re-applied | 1 |" in (tmp_path / "r.md").read_text()
        assert user_rows(old) == before  # the drill changed only its copy


def test_restore_test_fails_when_an_erasure_cannot_be_reapplied(
    cli, cluster, dsn, conn, demo_map, dumped, monkeypatch, tmp_path
):
    """The erasure log names a subject table the map does not: the drill's copy keeps that
    subject, and the verification says so."""
    from auroractl.ops.lgpd.erasure_log import Entry, open_log

    (tmp_path / "auroractl.toml").write_text(LOG_CONFIG)
    log = open_log(str(tmp_path / "erasures"))
    log.salt(create=True)
    log.append(
        Entry(
            "public.nao_mapeada",
            "1",
            "0b5d7c6e-6f1e-4c1b-9a51-1d1c0d7a9e01",
            "2026-01-01T00:00:00+00:00",
        )
    )
    result = cli("restore-test", "--format", "json")
    assert result.exit_code == 1, result.stderr
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["lgpd: no erased subject present"]["status"] == "fail"
