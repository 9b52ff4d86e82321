"""Test harness: a real, throwaway PostgreSQL cluster started by the suite itself.

The superuser is used only to set the cluster up; tests run auroractl as
``aurora_admin``, a role shaped like Aurora's master user (NOSUPERUSER, CREATEDB,
CREATEROLE, member of pg_monitor / pg_read_all_stats / pg_signal_backend).
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from auroractl.ops import sandbox as sandbox_ops
from auroractl.sandbox import ADMIN_ROLE, LocalCluster, free_port

TEMPLATE_DB = "demo_template"
TEST_SCALE = 0.02  # 1 empresa / 20 escolas / 4k alunos / 2k contratos (+10 in DEFAULT)
_counter = itertools.count()


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    root = Path(tempfile.mkdtemp(prefix="auroractl-test-"))
    c = LocalCluster(root, free_port())
    c.init()
    _require_password_for(c, "secret_user")
    c.start()
    sandbox_ops.bootstrap(c, TEMPLATE_DB)
    with psycopg.connect(c.conninfo(TEMPLATE_DB), autocommit=True) as conn:
        sandbox_ops.load_demo(conn, TEST_SCALE)
    try:
        yield c
    finally:
        c.destroy()


def _require_password_for(c: LocalCluster, role: str) -> None:
    """One role must authenticate with a password (Secrets Manager tests); others trust."""
    hba = c.datadir / "pg_hba.conf"
    hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())


def superuser(c: LocalCluster, dbname: str = "postgres") -> psycopg.Connection:
    return sandbox_ops.superuser_connect(c, dbname)


@pytest.fixture
def dbname(cluster: LocalCluster) -> Iterator[str]:
    """A fresh copy of the demo database for one test."""
    name = f"t{os.getpid()}_{next(_counter)}"
    with superuser(cluster) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(TEMPLATE_DB), sql.Identifier(ADMIN_ROLE)
            )
        )
    yield name
    with superuser(cluster) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


@pytest.fixture
def dsn(cluster: LocalCluster, dbname: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test database as auroractl's target (AURORACTL_DSN), connected as aurora_admin."""
    value = cluster.conninfo(dbname)
    monkeypatch.setenv("AURORACTL_DSN", value)
    monkeypatch.setenv("AURORACTL_LOCK_RETRIES", "1")
    return value


@pytest.fixture
def conn(dsn: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(dsn, autocommit=True) as c:
        yield c


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user config, no libpq variables, no real AWS from the developer's machine."""
    for var in (
        "AURORACTL_DSN",
        "AURORACTL_PROFILE",
        "AURORACTL_CONFIG",
        "AURORACTL_SANDBOX_PORT",
        "AURORACTL_SANDBOX_DIR",
        "AURORACTL_LOCK_TIMEOUT",
        "AURORACTL_STATEMENT_TIMEOUT",
        "AURORACTL_LOCK_RETRIES",
        "AURORACTL_AWS_ENDPOINT_URL",
        "AURORACTL_LEDGER_FILE",
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGDATABASE",
        "PGUSER",
        "PGSERVICE",
        "PGPASSWORD",
    ):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))  # the local ledger file
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def cron(cluster: LocalCluster, dsn: str) -> Iterator[psycopg.Connection]:
    """pg_cron's own database (cron.database_name), as on Aurora's `postgres`; its jobs
    cleared. Skips where pg_cron is not installed (Debian package postgresql-15-cron)."""
    with superuser(cluster) as su:
        name = su.execute("SELECT current_setting('cron.database_name', true)").fetchone()[0]
    if not name:
        pytest.skip("pg_cron is not installed (Debian package postgresql-15-cron)")
    sandbox_ops.bootstrap(cluster, name)
    with superuser(cluster, name) as su:
        su.execute("DELETE FROM cron.job")
        yield su


@pytest.fixture
def cli():
    """Invoke the real CLI in-process; returns the click Result (exit_code, stdout, stderr)."""
    from auroractl.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke
