"""Which data map a command reads: the sandbox has its own, other targets the project's."""

from __future__ import annotations

from pathlib import Path

from auroractl.commands import _context


def test_the_sandbox_has_its_own_map_unless_one_is_named(tmp_path, monkeypatch):
    _context.configure()  # no --dsn / --profile left from an earlier invocation
    monkeypatch.setenv("AURORACTL_SANDBOX_DIR", str(tmp_path / "sb"))
    assert _context.map_path() == tmp_path / "sb" / "auroractl-map.toml"
    assert _context.map_path("m.toml") == Path("m.toml")
    monkeypatch.setenv("AURORACTL_DSN", "host=db.example")
    assert _context.map_path() == Path("auroractl-map.toml")
    monkeypatch.delenv("AURORACTL_DSN")
    config = tmp_path / "auroractl.toml"
    config.write_text('[map]\nfile = "mine.toml"\n')
    monkeypatch.setenv("AURORACTL_CONFIG", str(config))
    assert _context.map_path() == tmp_path / "mine.toml"
