"""Root command: global options, command groups and the one error boundary."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from typer.core import TyperGroup

from auroractl import __version__, output
from auroractl.commands import _context, history, partition
from auroractl.commands import alarms as alarms_cmd
from auroractl.commands import audit as audit_cmd
from auroractl.commands import backup as backup_cmd
from auroractl.commands import cache as cache_cmd
from auroractl.commands import config as config_cmd
from auroractl.commands import encrypt as encrypt_cmd
from auroractl.commands import graphql as graphql_cmd
from auroractl.commands import health as health_cmd
from auroractl.commands import lgpd as lgpd_cmd
from auroractl.commands import matview as matview_cmd
from auroractl.commands import metrics as metrics_cmd
from auroractl.commands import migrate as migrate_cmd
from auroractl.commands import params as params_cmd
from auroractl.commands import restore_test as restore_test_cmd
from auroractl.commands import rls as rls_cmd
from auroractl.commands import sandbox as sandbox_cmd
from auroractl.commands import schedule as schedule_cmd
from auroractl.commands import schema as schema_cmd
from auroractl.commands import webhooks as webhooks_cmd
from auroractl.errors import (
    EXIT_AWS,
    EXIT_DATABASE,
    EXIT_INTERRUPTED,
    EXIT_LOCK_TIMEOUT,
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
        if sqlstate == "55P03":
            return f"lock timeout: {text}", EXIT_LOCK_TIMEOUT, None
        return f"database error{f' [{sqlstate}]' if sqlstate else ''}: {text}", EXIT_DATABASE, None
    if module.startswith(("botocore", "boto3")):
        return f"AWS error: {text}", EXIT_AWS, None
    return None


class BoundaryGroup(TyperGroup):
    """Every command runs inside here: known errors become one line and an exit code."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            output.error("interrupted")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as exc:
            classified = _classify(exc)
            if classified is None or os.environ.get("AURORACTL_DEBUG") == "1":
                raise
            message, code, hint = classified
            output.error(message)
            if hint:
                output.info(f"Hint: {hint}")
            raise typer.Exit(code) from None


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
app.add_typer(sandbox_cmd.app, name="sandbox")
app.add_typer(partition.app, name="partition")
app.add_typer(config_cmd.app, name="config")
app.add_typer(matview_cmd.app, name="matview")
app.add_typer(schedule_cmd.app, name="schedule")
app.add_typer(cache_cmd.app, name="cache")
app.add_typer(webhooks_cmd.app, name="webhooks")
app.add_typer(graphql_cmd.app, name="graphql")
app.command("history")(history.history)
app.command("health")(health_cmd.health)
app.command("top-queries")(health_cmd.top_queries)
app.add_typer(rls_cmd.app, name="rls")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(encrypt_cmd.app, name="encrypt")
app.add_typer(lgpd_cmd.app, name="lgpd")
app.add_typer(backup_cmd.app, name="backup")
app.add_typer(restore_test_cmd.app, name="restore-test")
app.add_typer(params_cmd.app, name="params")
app.add_typer(alarms_cmd.app, name="alarms")
app.add_typer(metrics_cmd.app, name="metrics")
app.add_typer(migrate_cmd.app, name="migrate")
app.add_typer(schema_cmd.app, name="schema")


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
            "--lock-timeout", help="lock_timeout for DDL (default 2s), retried with backoff."
        ),
    ] = None,
    statement_timeout: Annotated[
        str | None, typer.Option("--statement-timeout", help="statement_timeout (default 30min).")
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


def main() -> None:
    app(prog_name="auroractl")
