"""auroractl capacity: Serverless v2 right-sizing, what keeps it awake, its range."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group(
    "Aurora Serverless v2 capacity: right-size it, see what keeps it from pausing, change it."
)

DaysOpt = Annotated[
    float, typer.Option("--days", help="CloudWatch history to read, in days (at most 455).")
]
WakeOpt = Annotated[
    bool,
    typer.Option("--wake", help="Connect even when paused (resumes it) for the database checks."),
]


def _setup() -> tuple[Any, Any, str, Any]:
    """(rds client, cloudwatch client, cluster id, [capacity] prices) of the target."""
    from auroractl import aws
    from auroractl.errors import Precondition
    from auroractl.ops import capacity as ops

    s = _context.settings()
    t = _context.target(s)
    if not t.cluster_id:
        raise Precondition(
            "capacity needs an Aurora cluster: the target has no cluster_id",
            hint="use a profile with cluster_id (and region) in auroractl.toml: --profile NAME",
        )
    price = ops.prices(s.section("capacity"))
    return aws.for_target(t, "rds"), aws.for_target(t, "cloudwatch"), t.cluster_id, price


@app.command()
def show(
    days: DaysOpt = 14,
    period: Annotated[
        int | None,
        typer.Option("--period", help="Seconds per point (default: the finest CloudWatch keeps)."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Also write an HTML page with the capacity chart."),
    ] = None,
    fmt: opt.FormatOpt = opt.TABLE,
) -> None:
    """Capacity per instance (p50/p95/max, time at max / at min / paused) and a range.

    Reads ServerlessDatabaseCapacity and the volume's I/O and size from CloudWatch in one
    batched get_metric_data; never connects to the database. Recommends MinCapacity and
    MaxCapacity with the monthly cost difference ([capacity] acu_hour etc. set prices)
    and their consequences, and compares Aurora Standard with I/O-Optimized.

    Example:
        auroractl --profile prod capacity show
        auroractl --profile prod capacity show --days 30 --format json --report capacity.html
    """
    from auroractl.ops import capacity as ops

    rds, cw, cluster_id, price = _setup()
    r = ops.report(rds, cw, cluster_id, days=days, period=period, price=price)
    data = ops.as_data(r)
    if report is not None:
        from auroractl.ops.capacity import chart

        try:
            report.write_text(chart.render(r), encoding="utf-8")
        except OSError as exc:
            from auroractl.errors import InvalidInput

            raise InvalidInput(f"cannot write {report}: {exc.strerror or exc}") from None
        output.info(f"Report written to {report}")
    output.result(data, rows=data["instances"], table=lambda: _table(data))


def _table(data: dict) -> None:
    cols = ["instance", "role", "p50", "p95", "maximum", "share_at_max", "share_at_min"]
    output.render(
        data["instances"],
        "table",
        title=f"capacity of {data['cluster_id']} over {data['days']:g} days",
        columns=[*cols, "share_paused", "acu_hours"],
    )
    rec = data["recommendation"]
    if rec:
        output.info(
            f"Recommended: MinCapacity {rec['min_capacity']:g}, MaxCapacity "
            f"{rec['max_capacity']:g}: {rec['monthly_difference_usd']:+,.2f} USD/month "
            f"(prices: {data['prices']['region']}, {data['prices']['as_of']})"
        )
        for line in (*rec["reasons"], *rec["consequences"]):
            output.info(f"  - {line}")
    if data["io_optimized"]:
        output.info(data["io_optimized"]["advice"])
    for note in data["notes"]:
        output.info(f"Note: {note}")


@app.command()
def pause(wake: WakeOpt = False, fmt: opt.FormatOpt = opt.TABLE) -> None:
    """What keeps the cluster from pausing, and what one wake costs in ACU-seconds.

    AWS side (no connection): MinCapacity, rds.logical_replication, RDS Proxy, Global
    Database primary, zero-ETL integrations, DatabaseConnections of the last hour. Database
    side, only when the cluster is not paused or with --wake: replication slots, sessions
    by application_name, pg_cron jobs more frequent than SecondsUntilAutoPause.
    Exit 1 when something blocks pausing.

    Example:
        auroractl --profile prod capacity pause
        auroractl --profile prod capacity pause --wake --format json
    """
    import dataclasses

    from auroractl.ops.capacity import blockers
    from auroractl.ops.shared import serverless

    rds, cw, cluster_id, price = _setup()
    state = serverless.pause_state(rds, cw, cluster_id)
    if state.paused and not wake:
        r = blockers.report(rds, cw, cluster_id, price, paused=True)
    else:
        with _context.connect(connect_timeout=_timeout(state, wake)) as conn:
            r = blockers.report(rds, cw, cluster_id, price, paused=state.paused, conn=conn)
    rows = [dataclasses.asdict(b) for b in r.blockers]
    data = {**dataclasses.asdict(r), "blocking": len(r.blocking)}

    def table() -> None:
        output.render(rows, "table", title=f"what keeps {cluster_id} from pausing")
        output.info(f"A wake costs at least {r.wake_cost_acu_seconds:g} ACU-s: {r.wake_detail}")

    output.result(data, rows=rows, table=table)
    if r.blocking:
        raise typer.Exit(1)


def _timeout(state: Any, wake: bool) -> int | None:
    """A connect timeout that allows for a resume when the cluster is (or may be) paused."""
    from auroractl.ops.shared import serverless

    pausable = state.scaling is not None and state.scaling.pausable
    return serverless.WAKE_CONNECT_TIMEOUT_S if wake or pausable else None


@app.command()
def apply(
    min_capacity: Annotated[float, typer.Option("--min", help="MinCapacity in ACUs (0: pauses).")],
    max_capacity: Annotated[float, typer.Option("--max", help="MaxCapacity in ACUs.")],
    seconds: Annotated[
        int | None,
        typer.Option("--seconds-until-auto-pause", help="Idle seconds before pausing (--min 0)."),
    ] = None,
    dry_run: opt.AwsDryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Set the cluster's Serverless v2 range (ModifyDBCluster, applied immediately).

    The plan states the max_connections consequence (static, derived from the maximum:
    a reboot of the named instances to change it) and any Performance Insights or
    parameter constraint. Never connects to the database.

    Example:
        auroractl --profile prod capacity apply --min 0.5 --max 16 --dry-run
        auroractl --profile prod capacity apply --min 0 --max 8 --seconds-until-auto-pause 600 --yes
    """
    from auroractl.ops.capacity import change

    rds, _, cluster_id, _ = _setup()
    action = change.plan_apply(rds, cluster_id, min_capacity, max_capacity, seconds)
    output.result(_context.apply(None, action, dry_run, yes))
