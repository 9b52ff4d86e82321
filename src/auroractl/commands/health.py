"""auroractl health / top-queries: the morning check and the monitor's probe."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

if TYPE_CHECKING:
    from auroractl.ops.health import HealthReport

STYLES = {"OK": "green", "WARN": "yellow", "CRIT": "bold red", "UNKNOWN": "magenta"}
# health speaks Nagios: 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN. Anything that keeps it from
# checking (a bad option, a bad [health] threshold, an unknown profile, an unreachable or
# malformed target) is UNKNOWN: a monitor must not read a configuration error as CRIT.
EXIT_UNKNOWN = 3


@contextlib.contextmanager
def _unknown_on_error() -> Iterator[None]:
    """auroractl's errors keep their one line (and JSON error document), with exit 3."""
    from auroractl.errors import AuroraCtlError

    try:
        yield
    except AuroraCtlError as exc:
        exc.exit_code = EXIT_UNKNOWN
        raise


def health(
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            help="Comma-separated sections: connections, locks, top_queries, conflicts, cache, "
            "vacuum, indexes, sequences, storage, partitions, settings, serverless, cloudwatch.",
        ),
    ] = None,
    wake: Annotated[
        bool,
        typer.Option(
            "--wake",
            help="Check a paused Serverless v2 cluster fully: connect (which resumes it), "
            "with a connect timeout that allows for the resume.",
        ),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write a self-contained HTML report to this file."),
    ] = None,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Check the database's health; exit 0 OK, 1 WARN, 2 CRIT, 3 could not check.

    Sections report OK / WARN / CRIT / UNKNOWN with thresholds from [health] in
    auroractl.toml. Read only: never resets statistics, takes no locks beyond reads.
    On a paused Serverless v2 cluster (read from AWS) it reports the AWS-side sections and
    "paused" as OK without connecting (a connection would resume it); --wake checks all.

    Example:
        auroractl health
        auroractl health --only connections,locks --format json
        auroractl --profile prod health --report health.html
        auroractl --profile prod health --wake
    """
    with _unknown_on_error():
        result = _check(only, wake)
    show(result)
    if report is not None:
        from auroractl.ops.health import report as health_report

        try:
            report.write_text(health_report.render(result), encoding="utf-8")
        except OSError as exc:
            output.error(f"cannot write {report}: {exc.strerror or exc}")
            raise typer.Exit(EXIT_UNKNOWN) from None
        output.info(f"Report written to {report}")
    raise typer.Exit(result.exit_code)


health.usage_exit_code = EXIT_UNKNOWN  # type: ignore[attr-defined]  # read by cli


def _check(only: str | None, wake: bool = False) -> HealthReport:
    """Configure and run the checks; an unreachable database is an UNKNOWN report; a
    paused cluster is reported from AWS alone unless ``wake``."""
    from auroractl import db
    from auroractl.errors import ConnectionFailed
    from auroractl.ops import health as ops

    names = ops.parse_only(only)
    settings = _context.settings()
    limits = ops.thresholds(settings.section("health"))
    target = _context.target(settings)
    label = db.describe(target)
    cloudwatch = None
    if target.cluster_id and "cloudwatch" in names:
        profile = target.profile

        def cloudwatch(th, now):  # type: ignore[no-untyped-def]
            from auroractl.ops.health import cloudwatch as health_cloudwatch

            return health_cloudwatch.section(
                target.cluster_id, profile.region, profile.endpoint_url, th, now
            )

    state, section, timeout = _pause(target, wake)
    if state is not None and state.paused and not wake:
        from auroractl.ops.health import serverless

        return serverless.paused_report(label, names, section, limits, cloudwatch)
    import psycopg

    try:
        with _context.connect(connect_timeout=timeout) as conn:
            return ops.run(
                conn,
                target=label,
                only=names,
                limits=limits,
                cloudwatch=cloudwatch,
                serverless=section,
            )
    except (ConnectionFailed, psycopg.Error) as exc:
        # A monitor must see "could not check" (3), not a generic database error.
        message = " ".join(str(exc).split())[:400]
        output.error(message)
        return ops.unreachable(label, message)


def _pause(target, wake: bool):  # type: ignore[no-untyped-def]
    """(pause state, serverless section, connect timeout) of an Aurora target, from AWS
    only; (None, None, None) when the target names no cluster."""
    if not target.cluster_id:
        return None, None, None
    from auroractl import aws
    from auroractl.ops.health import serverless
    from auroractl.ops.shared.serverless import WAKE_CONNECT_TIMEOUT_S

    rds, cw = aws.for_target(target, "rds"), aws.for_target(target, "cloudwatch")
    state, section = serverless.lookup(rds, cw, target.cluster_id)
    pausable = state is not None and state.scaling is not None and state.scaling.pausable
    if wake and state is not None and state.paused:
        section = serverless.woken(section)
    return state, section, WAKE_CONNECT_TIMEOUT_S if wake or pausable else None


def show(result: HealthReport) -> None:
    """The report in this invocation's mode: JSON, CSV of findings, panels or tables."""
    findings = [
        {"section": s.name, "status": f.status, "object": f.object, "finding": f.message}
        for s in result.sections
        for f in s.findings
    ]
    # CSV keeps its header even when nothing was found.
    empty = [{"section": "", "status": "", "object": "", "finding": ""}]
    output.result(result, rows=findings or empty, table=lambda: _table(result, findings))


def _table(result: HealthReport, findings: list[dict]) -> None:
    if output.stdout().is_terminal:
        _panels(result)
        return
    output.render(
        [{"section": s.name, "status": s.status, "summary": s.summary} for s in result.sections],
        "table",
        title=f"health: {result.status} ({result.target})",
    )
    if findings:
        output.render(findings, "table", title="findings")


def _panels(result: HealthReport) -> None:
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from auroractl.ops.health.checks import tree_lines

    console = output.stdout()
    console.print(
        Text.assemble(
            ("auroractl health ", "bold"),
            (result.status, STYLES[result.status]),
            f"  {result.target}  {result.checked_at:%Y-%m-%d %H:%M:%S %Z}  "
            f"({result.meta.get('round_trips')} round trips, {result.meta.get('seconds')} s)",
        )
    )
    for s in result.sections:
        body = Table.grid(padding=(0, 1))
        body.add_column()
        body.add_row(Text(s.summary))
        if s.findings:
            t = Table(show_edge=False, box=None, padding=(0, 1))
            t.add_column("status")
            t.add_column("object", overflow="fold")
            t.add_column("finding", overflow="fold")
            for f in s.findings[:20]:
                t.add_row(Text(f.status, STYLES[f.status]), f.object or "", f.message)
            if len(s.findings) > 20:
                t.add_row("", "", f"... {len(s.findings) - 20} more (--format json)")
            body.add_row(t)
        if s.name == "top_queries" and s.data.get("by_total"):
            t = Table(show_edge=False, box=None, padding=(0, 1), title="by total time")
            for col in ("calls", "total ms", "mean ms", "% total", "hit %", "query"):
                t.add_column(col, overflow="fold", justify="left" if col == "query" else "right")
            for q in s.data["by_total"]:
                t.add_row(
                    f"{q.calls:,}",
                    f"{q.total_ms:,.0f}",
                    f"{q.mean_ms:,.1f}",
                    f"{q.pct_total or 0:.1f}",
                    "" if q.hit_pct is None else f"{q.hit_pct:.1f}",
                    q.query,
                )
            body.add_row(t)
        if s.name == "locks" and s.data.get("blocking_chains"):
            body.add_row(Text("\n".join(tree_lines(s.data["blocking_chains"]))))
        if s.name == "cloudwatch":
            for series in s.data.get("series", []):
                body.add_row(
                    Text(
                        f"{series['metric']:<28} {series['instance'] or 'cluster':<20} "
                        f"{_spark(series['values'])}  min {series['minimum']} "
                        f"avg {series['average']} max {series['maximum']} {series['unit']}"
                    )
                )
        console.print(
            Panel(
                body,
                title=Text.assemble((f"{s.status} ", STYLES[s.status]), s.title),
                title_align="left",
                border_style=STYLES[s.status],
            )
        )


def _spark(values: list[float]) -> str:
    bars = "▁▂▃▄▅▆▇█"
    if not values:
        return ""
    values = values[-40:]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(bars[int((v - lo) / span * (len(bars) - 1))] for v in values)


def top_queries(
    by: Annotated[
        str, typer.Option("--by", help="Rank by total time, mean time or calls.")
    ] = "total",
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many statements.")] = 10,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Show the top statements of this database from pg_stat_statements (never resets them).

    Columns: calls, total and mean time, % of the database's total time, rows per call,
    shared-buffer hit %, temp blocks written, normalised query text (truncated).

    Example:
        auroractl top-queries --by mean --limit 5
        auroractl top-queries --by calls --format json
    """
    from auroractl.ops import health as ops

    if by not in ops.BY:
        from auroractl.errors import InvalidInput

        raise InvalidInput(f"--by {by!r} must be one of {', '.join(ops.BY)}")
    with _context.connect() as conn:
        rows = ops.top_queries(conn, by, limit)
    output.result(rows, title=f"top queries by {by}")
