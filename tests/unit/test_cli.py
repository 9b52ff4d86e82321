"""CLI wiring: groups, help with examples on every command, input errors before connecting."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
import typer.main

from auroractl.cli import COMMANDS, app, build_command


def all_commands():
    """Every command one can run: the leaves, and the groups that run without a
    subcommand (restore-test), building the lazily registered groups one by one."""
    root = typer.main.get_command(app)
    ctx = click.Context(root)

    def walk(group, path):
        for name in group.list_commands(ctx):
            cmd = group.get_command(ctx, name)
            if hasattr(cmd, "list_commands"):
                if cmd.invoke_without_command:
                    yield [*path, name], cmd
                yield from walk(cmd, [*path, name])
            else:
                yield [*path, name], cmd

    return list(walk(root, []))


def all_groups():
    root = typer.main.get_command(app)
    ctx = click.Context(root)
    groups = [build_command(name) for name in COMMANDS]

    def walk(group):
        yield group
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            if hasattr(sub, "list_commands"):
                yield from walk(sub)

    return [g for top in groups if hasattr(top, "list_commands") for g in walk(top)]


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


def test_restore_test_runs_with_an_example_in_its_help(cli):
    assert ["restore-test"] in [path for path, _ in all_commands()]
    assert "auroractl restore-test --report" in cli("restore-test", "--help").stdout


def test_no_command_offers_shell_completion_installation(cli):
    for path, _ in all_commands():
        assert "--install-completion" not in cli(*path, "--help").stdout, path


def test_group_listings_end_at_a_sentence_not_an_abbreviation():
    """Click cuts a command's listing at the first period a non-lowercase word follows:
    "Erase data subjects (LGPD Art." would be all that shows of "Art. 18"."""
    for group in all_groups():
        for name, cmd in group.commands.items():
            words = cmd.help.partition("\n\n")[0].split()
            shown = cmd.get_short_help_str(limit=500).split()
            cut = words[len(shown) :]
            assert not cut or cut[0][:1].isupper(), (name, " ".join(shown), cut[:3])


AWS_ONLY = (
    ("alarms", "apply"),
    ("alarms", "delete"),
    ("backup", "snapshot"),
    ("backup", "prune"),
    ("backup", "policy", "apply"),
    ("encrypt", "keygen"),
)


@pytest.mark.parametrize("path", AWS_ONLY, ids=" ".join)
def test_dry_run_of_an_aws_only_command_previews_calls_not_sql(cli, path):
    text = " ".join(cli(*path, "--help").stdout.split())
    assert "--dry-run Print the AWS calls" in text and "SQL" not in text.split("--dry-run")[1]


def test_audit_tables_are_any_table_and_all_means_the_same_set_both_ways(cli):
    enable, disable = (
        " ".join(cli("audit", v, "--help").stdout.split()) for v in ("enable", "disable")
    )
    for text in (enable, disable):
        assert "--table TEXT Any user table, no tenant column needed" in text
    all_help = "--all Every user table outside the audit and auroractl schemas"
    assert all_help in enable and all_help in disable
    assert "tenant column." not in enable + disable


@pytest.mark.parametrize(
    "args",
    [
        ("partition", "create", "--bogus"),
        ("partition", "create", "--year", "abc"),
        ("--bogus", "partition"),
        ("partition", "nosuch"),
        ("lgpd", "export", "1", "--format", "table"),
    ],
)
def test_a_usage_error_is_one_line_and_a_hint(cli, args):
    result = cli(*args)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("Error: ") and lines[1].startswith("Hint: ")
    assert "--help" in lines[1] and result.stdout == ""


def test_health_usage_errors_are_unknown_to_a_monitor(cli):
    from auroractl.commands.health import EXIT_UNKNOWN
    from auroractl.ops.health.model import EXIT_CODES

    assert EXIT_UNKNOWN == EXIT_CODES["UNKNOWN"] == 3
    result = cli("health", "--bogus")
    assert result.exit_code == 3 and result.stderr.startswith("Error: No such option")


def test_a_bare_group_still_prints_its_help(cli):
    result = cli("partition")
    assert result.exit_code == 2 and "Commands:" in result.stdout + result.stderr
