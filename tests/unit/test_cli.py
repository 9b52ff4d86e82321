"""CLI wiring: groups, help with examples on every command, input errors before connecting."""

from __future__ import annotations

import subprocess
import sys

import click
import typer.main

from auroractl.cli import COMMANDS, app, build_command


def all_commands():
    """Every leaf command, building the lazily registered groups one by one."""
    root = typer.main.get_command(app)
    ctx = click.Context(root)

    def walk(group, path):
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            if hasattr(cmd, "list_commands"):
                yield from walk(cmd, [*path, name])
            else:
                yield [*path, name], cmd

    return list(walk(root, []))


def test_registry_purposes_are_the_groups_own_help():
    for name, (_, _, purpose) in COMMANDS.items():
        built = build_command(name)
        assert (built.help or "").strip().splitlines()[0] == purpose, name


def test_help_builds_no_command_group():
    code = (
        "import sys; from auroractl.cli import main; sys.argv = ['auroractl', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('auroractl.commands.')"
        " and not m.startswith('auroractl.commands._')), file=sys.stderr)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == "[]"


def test_root_help_lists_every_group_with_a_purpose(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for group in ("sandbox", "partition", "config", "history"):
        assert group in result.stdout


def test_every_command_has_an_example():
    missing = [" ".join(path) for path, cmd in all_commands() if "Example:" not in (cmd.help or "")]
    assert missing == []


def test_bad_year_fails_before_connecting(cli):
    # No database is reachable here: the input error must come first.
    result = cli("--dsn", "host=127.0.0.1 port=1", "partition", "create", "--year", "1899")
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: year 1899 is outside 1900-2200"


def test_non_numeric_year_is_a_usage_error(cli):
    result = cli("partition", "create", "--year", "abc")
    assert result.exit_code == 2


def test_help_does_not_import_heavy_modules():
    code = (
        "import sys; from auroractl.cli import app; "
        "print(sorted(m for m in ('psycopg', 'boto3', 'jinja2', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs():
    out = subprocess.run(
        [sys.executable, "-m", "auroractl", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("auroractl ")


def test_password_in_dsn_is_warned_about_and_never_echoed(cli):
    result = cli(
        "--dsn",
        "postgresql://u:s3cr3t@127.0.0.1:1/x?connect_timeout=2",
        "partition",
        "status",
        "contratos",
    )
    assert result.exit_code == 5
    assert "--dsn carries a password" in result.stderr
    assert "s3cr3t" not in result.stderr + result.stdout
