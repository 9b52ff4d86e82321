"""The demo's migrations shipped with auroractl (``--directory demo``): well named, render
for the demo schema, and pass squawk's lock-safety lint (when the squawk binary, PyPI
squawk-cli, is installed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pglast
import pytest

from auroractl.ops import migrate

DIR = migrate.demo_directory()
MIGRATIONS = migrate.discover(DIR)
DEMO_T = migrate.Tables(
    {n: ("public", n) for n in ("usuarios", "alunos", "escolas", "empresas", "contratos")}
)


def _squawk() -> str | None:
    local = Path(sys.executable).parent / "squawk"
    return str(local) if local.exists() else shutil.which("squawk")


def test_shipped_migrations_are_numbered_from_one_without_gaps():
    assert [m.version for m in MIGRATIONS] == list(range(1, len(MIGRATIONS) + 1))
    assert len(MIGRATIONS) >= 4


def test_only_the_concurrent_index_migration_runs_in_autocommit():
    auto = {m.name for m in MIGRATIONS if m.autocommit}
    assert auto == {"usuarios_ultimo_acesso_idx"}
    for m in MIGRATIONS:
        sql = migrate.render(DIR, m, {"schema": "public", "t": DEMO_T})
        assert ("CONCURRENTLY" in sql) == m.autocommit, m.file


@pytest.mark.parametrize("m", MIGRATIONS, ids=lambda m: m.file)
def test_renders_to_sql_pglast_accepts(m):
    sql = migrate.render(DIR, m, {"schema": "public", "t": DEMO_T})
    statements = pglast.parse_sql(sql)
    if m.autocommit:
        assert len(migrate.split_statements(sql)) == len(statements)


@pytest.mark.skipif(_squawk() is None, reason="squawk (pip install squawk-cli) not installed")
@pytest.mark.parametrize("m", MIGRATIONS, ids=lambda m: m.file)
def test_squawk_finds_no_lock_unsafe_ddl(m, tmp_path):
    sql = migrate.render(DIR, m, {"schema": "public", "t": DEMO_T})
    file = tmp_path / m.file.removesuffix(".j2")
    file.write_text(sql + "\n")
    args = [_squawk(), "--config", str(DIR / ".squawk.toml"), "--reporter", "gcc", str(file)]
    if not m.autocommit:
        args.insert(1, "--assume-in-transaction")
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(_squawk() is None, reason="squawk (pip install squawk-cli) not installed")
def test_squawk_does_flag_a_blocking_index(tmp_path):
    """The lint is live: a plain CREATE INDEX on an existing table is an error."""
    file = tmp_path / "bad.sql"
    file.write_text("CREATE INDEX usuarios_nome_idx ON public.usuarios (nome);\n")
    result = subprocess.run(
        [_squawk(), "--config", str(DIR / ".squawk.toml"), str(file)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "require-concurrent-index-creation" in result.stdout


def test_split_statements_respects_quotes_comments_and_dollar_bodies():
    sql = (
        "-- a; comment\nSELECT 'a;b', \"c;d\";\n/* x; */ SELECT $f$ ; $f$;\n"
        "SELECT $$it's;$$  ;\n-- trailing; comment only\n"
    )
    assert migrate.split_statements(sql) == [
        "-- a; comment\nSELECT 'a;b', \"c;d\"",
        "/* x; */ SELECT $f$ ; $f$",
        "SELECT $$it's;$$",
    ]


def test_discover_rejects_bad_names_and_duplicate_versions(tmp_path):
    (tmp_path / "0001_a.sql.j2").write_text("SELECT 1;\n")
    (tmp_path / "0001_b.sql.j2").write_text("SELECT 1;\n")
    with pytest.raises(migrate.InvalidInput, match="same version"):
        migrate.discover(tmp_path)
    (tmp_path / "0001_b.sql.j2").unlink()
    (tmp_path / "2-bad.sql.j2").write_text("SELECT 1;\n")
    with pytest.raises(migrate.InvalidInput, match="NNNN_name"):
        migrate.discover(tmp_path)


def test_checksum_ignores_line_endings(tmp_path):
    (tmp_path / "0001_a.sql.j2").write_bytes(b"SELECT 1;\r\nSELECT 2;\r\n")
    (tmp_path / "0002_a.sql.j2").write_bytes(b"SELECT 1;\nSELECT 2;\n")
    a, b = migrate.discover(tmp_path)
    assert a.checksum == b.checksum


def test_the_demo_migrations_are_opt_in():
    with pytest.raises(migrate.Precondition, match="--directory demo"):
        migrate.directory(migrate.config({}))
    cfg = migrate.config({"directory": "demo"})
    assert migrate.directory(cfg) == DIR and migrate.series(cfg) == "demo"
    assert migrate.series(migrate.config({"directory": str(DIR)})) == "demo"
    assert migrate.series(migrate.config({"directory": str(DIR.parent)})) == "default"
    assert migrate.series(migrate.config({"directory": "demo", "series": "x"})) == "x"
    with pytest.raises(migrate.InvalidInput, match="series"):
        migrate.config({"series": "a b"})
