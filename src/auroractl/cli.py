"""Root command: global options, command groups and the one error boundary."""

from __future__ import annotations

import importlib
import os
import re
from typing import Annotated

import click
import typer
import typer.main
from typer.core import TyperGroup

from auroractl import __version__, output
from auroractl.commands import _context
from auroractl.errors import (
    EXIT_AWS,
    EXIT_DATABASE,
    EXIT_INTERRUPTED,
    EXIT_LOCK_TIMEOUT,
    EXIT_USAGE,
    STEP_ATTRIBUTE,
    AuroraCtlError,
)


def _classify(exc: BaseException) -> tuple[str, int, str | None] | None:
    """Message, exit code and hint for errors we turn into one line; None to re-raise."""
    if isinstance(exc, AuroraCtlError):
        return str(exc), exc.exit_code, exc.hint
    module = type(exc).__module__
    text = " ".join(str(exc).split())[:400]
    if module.startswith("psycopg"):
        sqlstate = getattr(exc, "sqlstate", None)
        step = getattr(exc, STEP_ATTRIBUTE, None)
        where = f" in step {step!r}" if step else ""
        if sqlstate == "55P03":
            return f"lock timeout{where}: {text}", EXIT_LOCK_TIMEOUT, None
        code = f" [{sqlstate}]" if sqlstate else ""
        return f"database error{code}{where}: {text}", EXIT_DATABASE, None
    if module.startswith(("botocore", "boto3")):
        return f"AWS error: {text}", EXIT_AWS, None
    return None


# Every command group and top-level command: name -> (module in auroractl.commands,
# attribute, one-line purpose). They are imported and built only when invoked: building
# all of them costs Typer ~80 ms on every start, cron runs included. The purposes are the
# first lines of each group's help (a unit test keeps them equal).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "sandbox": (
        "sandbox",
        "app",
        "Local PostgreSQL with the demo schema and data (no AWS needed).",
    ),
    "init": (
        "init",
        "init",
        "Install or upgrade auroractl's own tables (ledger, receipts, job state).",
    ),
    "partition": ("partition", "app", "Create, keep ahead, inspect and retire table partitions."),
    "health": (
        "health",
        "health",
        "Check the database's health; exit 0 OK, 1 WARN, 2 CRIT, 3 could not check.",
    ),
    "top-queries": (
        "health",
        "top_queries",
        "Show the top statements of this database from pg_stat_statements (never resets them).",
    ),
    "params": (
        "params",
        "app",
        "Server parameters: show, diff and apply the desired settings (seed 2.1).",
    ),
    "capacity": (
        "capacity",
        "app",
        "Aurora Serverless v2 capacity: right-size it, see what keeps it from pausing, change it.",
    ),
    "alarms": (
        "alarms",
        "app",
        "CloudWatch alarms for the Aurora cluster: apply, status, delete (seed 5.2).",
    ),
    "metrics": (
        "metrics",
        "app",
        "Business metrics view v_metricas_negocio: create it, show today's numbers.",
    ),
    "rls": (
        "rls",
        "app",
        "Tenant isolation with row level security (enable, status, verify, disable).",
    ),
    "audit": (
        "audit",
        "app",
        "Audit trail: who changed which row, when (personal data never copied).",
    ),
    "encrypt": (
        "encrypt",
        "app",
        "Encrypt a column with pgcrypto online: backfill, status, finalize, rotate, keygen.",
    ),
    "lgpd": (
        "lgpd",
        "app",
        "LGPD: personal-data map, erasure (forget), access export and request register.",
    ),
    "backup": ("backup", "app", "Aurora backups: retention policy, manual snapshots, list, prune."),
    "restore-test": (
        "restore_test",
        "app",
        "Restore tests: restore a copy, verify it against the source, tear it down.",
    ),
    "matview": (
        "matview",
        "app",
        "Materialized views: create, refresh (optionally CONCURRENTLY), status, drop.",
    ),
    "schedule": ("schedule", "app", "Recurring jobs with pg_cron: add, list, remove, runs (UTC)."),
    "cache": (
        "cache",
        "app",
        "Query-cache candidates from pg_stat_statements; publish dashboards to Redis.",
    ),
    "migrate": (
        "migrate",
        "app",
        "Versioned schema migrations: NNNN_name.sql.j2 templates and "
        "the ledger auroractl.schema_migrations.",
    ),
    "schema": (
        "schema",
        "app",
        "Schema layout: split tables into domain schemas (requirements 1.2).",
    ),
    "webhooks": (
        "webhooks",
        "app",
        "Webhooks from database events: outbox, subscriptions, dispatcher.",
    ),
    "graphql": (
        "graphql",
        "app",
        "GraphQL through PostGraphile 5: generated setup, roles, readiness check.",
    ),
    "map": (
        "map",
        "app",
        "The data map: tenancy, data subjects, personal columns and erasure rules, "
        "proposed from the catalog and checked for drift.",
    ),
    "history": (
        "history",
        "history",
        "List applied changes (the auroractl.operations ledger), newest first.",
    ),
    "config": ("config", "app", "Show the resolved target and settings."),
}


def build_command(name: str):  # type: ignore[no-untyped-def]
    """Import and build one registered group or command (a click object)."""
    module, attribute, _ = COMMANDS[name]
    target = getattr(importlib.import_module(f"auroractl.commands.{module}"), attribute)
    if isinstance(target, typer.Typer):
        built = typer.main.get_group(target)
    else:
        single = typer.Typer(
            rich_markup_mode=None, pretty_exceptions_enable=False, add_completion=False
        )
        single.command(name)(target)
        built = typer.main.get_command(single)
        # A command may give its usage errors another code (health: Nagios' UNKNOWN).
        built.usage_exit_code = getattr(target, "usage_exit_code", EXIT_USAGE)
    built.name = name
    _keep_examples(built)
    return built


def _keep_examples(command) -> None:  # type: ignore[no-untyped-def]
    """Mark "Example:" paragraphs so click prints them as written instead of rewrapping."""
    if command.help:
        command.help = re.sub(r"(?m)^([ \t]*)(Examples?:)", "\\1\b\n\\1\\2", command.help)
    for sub in getattr(command, "commands", {}).values():
        _keep_examples(sub)


class BoundaryGroup(TyperGroup):
    """The root group: lazy subcommands, and the one error boundary every command runs
    inside (known errors become one line and an exit code)."""

    def list_commands(self, ctx):  # type: ignore[no-untyped-def]
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx, cmd_name):  # type: ignore[no-untyped-def]
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            command = build_command(cmd_name)
        return command

    def format_commands(self, ctx, formatter):  # type: ignore[no-untyped-def]
        """List commands from the registry, without importing any of them."""
        width = formatter.width - 6 - max(len(n) for n in COMMANDS)
        rows = [
            (n, purpose if len(purpose) <= width else purpose[: width - 3] + "...")
            for n, (_, _, purpose) in COMMANDS.items()
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx, args):  # type: ignore[no-untyped-def]
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            _usage_error(exc)

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise  # a bare group: its help, as click prints it
        except click.UsageError as exc:
            _usage_error(exc)
        except KeyboardInterrupt as exc:
            step = getattr(exc, STEP_ATTRIBUTE, None)
            where = f" in step {step!r}" if step else ""
            message = f"interrupted ({getattr(exc, 'signal_name', 'SIGINT')}){where}"
            output.error(message)
            output.error_document(message, EXIT_INTERRUPTED, None)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            classified = _classify(exc)
            if classified is None or os.environ.get("AURORACTL_DEBUG") == "1":
                raise
            message, code, hint = classified
            output.error(message)
            if hint:
                output.info(f"Hint: {hint}")
            output.error_document(message, code, hint)
            raise typer.Exit(code) from None


def _usage_error(exc: click.UsageError) -> None:
    """A bad command line is one line too, like every error, and a Hint naming --help
    (click would print the usage block first)."""
    path = exc.ctx.command_path if exc.ctx is not None else "auroractl"
    command = exc.ctx.command if exc.ctx is not None else None
    output.error(" ".join(exc.format_message().split()))
    output.info(f"Hint: {path} --help")
    raise typer.Exit(getattr(command, "usage_exit_code", EXIT_USAGE)) from None


app = typer.Typer(
    cls=BoundaryGroup,
    name="auroractl",
    help="DBA toolkit for Amazon Aurora PostgreSQL (Serverless v2).\n\n"
    "Without --dsn / --profile / PG* variables, commands use the local sandbox.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: keeps start-up free of rich's import cost
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"auroractl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    dsn: Annotated[
        str | None,
        typer.Option(
            "--dsn",
            help="libpq connection string or URI (overrides everything else).",
            envvar=None,
            show_default=False,
        ),
    ] = None,
    profile: Annotated[
        str | None, typer.Option("--profile", "-p", help="Profile from auroractl.toml.")
    ] = None,
    lock_timeout: Annotated[
        str | None,
        typer.Option(
            "--lock-timeout",
            help="lock_timeout for DDL (default 2s, 1ms to 60s), retried with backoff.",
        ),
    ] = None,
    statement_timeout: Annotated[
        str | None,
        typer.Option("--statement-timeout", help="statement_timeout (default 30min, 1ms to 24h)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only data and errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """DBA toolkit for Amazon Aurora PostgreSQL (Serverless v2)."""
    _context.configure(
        dsn=dsn, profile=profile, lock_timeout=lock_timeout, statement_timeout=statement_timeout
    )
    output.set_quiet(quiet)
    output.set_format("table")  # until the command's own --format is parsed


def main() -> None:
    app(prog_name="auroractl")
