"""The sandbox through the CLI: a second real cluster in a temp dir, tiny scale."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from auroractl.sandbox import free_port


@pytest.fixture
def sandbox_env(monkeypatch):
    parent = Path(tempfile.mkdtemp(prefix="auroractl-sandbox-"))
    parent.chmod(0o755)  # the server's OS user (postgres, when we are root) must traverse it
    root = parent / "sb"
    monkeypatch.setenv("AURORACTL_SANDBOX_DIR", str(root))
    monkeypatch.setenv("AURORACTL_SANDBOX_PORT", str(free_port()))
    return root


def test_sandbox_lifecycle_and_default_target(cli, sandbox_env):
    down = cli("partition", "status")
    assert down.exit_code == 5 and "sandbox up" in down.stderr  # not running: says how to start
    try:
        up = cli("sandbox", "up", "--scale", "0.01", "--format", "json")
        assert up.exit_code == 0, up.stderr
        data = json.loads(up.stdout)
        assert data["running"] and data["rows"]["alunos"] == 2000
        assert data["rows"]["contratos"] == 1000 + 5
        # Without any target, commands use the sandbox and say so on stderr.
        status = cli("partition", "status", "--format", "json")
        assert status.exit_code == 0, status.stderr
        assert "using the local sandbox" in status.stderr
        assert json.loads(status.stdout)["default_rows"] == 5
        # Idempotent: a second `up` keeps the data.
        again = json.loads(cli("sandbox", "up", "--format", "json").stdout)
        assert again["loaded_seconds"] is None and again["rows"] == data["rows"]
        assert cli("sandbox", "reset").exit_code == 4  # destructive: needs --yes
        assert cli("sandbox", "down", "--purge").exit_code == 4
        reset = cli("sandbox", "reset", "--scale", "0.002", "--yes", "--format", "json")
        assert reset.exit_code == 0, reset.stderr
        assert json.loads(reset.stdout)["rows"]["alunos"] == 400
        stopped = cli("sandbox", "down", "--format", "json")
        assert json.loads(stopped.stdout)["running"] is False
    finally:
        cli("sandbox", "down", "--purge", "--yes")
    assert not sandbox_env.exists()
    # Both destructive changes are in the local ledger (the sandbox's own database is gone).
    from auroractl import ledger

    assert [r["command"] for r in ledger.read_file()] == ["sandbox down --purge", "sandbox reset"]


def test_sandbox_up_writes_the_sandboxs_own_data_map(cli, sandbox_env):
    decoy = Path("auroractl-map.toml")  # another database's map in the working directory
    decoy.write_text("version = 1\n")
    path = sandbox_env / "auroractl-map.toml"
    try:
        up = cli("sandbox", "up", "--scale", "0.002", "--format", "json")
        assert up.exit_code == 0, up.stderr
        assert json.loads(up.stdout)["data_map"] == str(path)
        assert decoy.read_text() == "version = 1\n"
        # Commands on the sandbox find its map without --map, and it matches the demo.
        check = cli("map", "check", "--format", "json")
        assert check.exit_code == 0, check.stdout + check.stderr
        show = cli("map", "show", "--format", "json")
        assert show.exit_code == 0, show.stderr
        shown = json.loads(show.stdout)
        assert shown["path"] == str(path)
        assert [s["table"] for s in shown["subject"] if s.get("default")] == ["public.usuarios"]
        assert "public.usuarios" in shown["columns"]
        # --map still wins.
        other = cli("map", "show", "--map", "other.toml")
        assert other.exit_code == 3 and "other.toml" in other.stderr
        # A reviewed edit survives `up`; `reset` reloads the demo and writes the map again.
        edited = path.read_text() + "# reviewed\n"
        path.write_text(edited)
        assert cli("sandbox", "up").exit_code == 0
        assert path.read_text() == edited
        reset = cli("sandbox", "reset", "--scale", "0.002", "--yes")
        assert reset.exit_code == 0, reset.stderr
        assert path.is_file() and "# reviewed" not in path.read_text()
    finally:
        cli("sandbox", "down", "--purge", "--yes")
    assert not path.exists()


def test_bad_scale_is_rejected(cli, sandbox_env):
    result = cli("sandbox", "up", "--scale", "0")
    assert result.exit_code == 2 and "--scale" in result.stderr
    assert not sandbox_env.exists()


def test_missing_server_binaries_is_one_clear_error(cli, sandbox_env, monkeypatch, tmp_path):
    monkeypatch.setenv("AURORACTL_PG_BINDIR", str(tmp_path))  # a directory without initdb
    result = cli("sandbox", "up", "--scale", "0.01")
    assert result.exit_code == 3
    assert "has no initdb/pg_ctl" in result.stderr and "apt-get install postgresql-15" in (
        result.stderr
    )
    assert not sandbox_env.exists()


def test_up_on_a_port_in_use_refuses_before_initdb(cli, sandbox_env, monkeypatch, cluster):
    monkeypatch.setenv("AURORACTL_SANDBOX_PORT", str(cluster.port))  # the suite's own server
    result = cli("sandbox", "up", "--scale", "0.01", "--format", "json")
    assert result.exit_code == 5
    assert result.stderr.splitlines()[-1].startswith(f"Error: port {cluster.port} on 127.0.0.1")
    assert json.loads(result.stdout)["exit_code"] == 5
    assert not sandbox_env.exists()  # no data directory left behind
