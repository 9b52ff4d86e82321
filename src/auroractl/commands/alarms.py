"""auroractl alarms: CloudWatch alarms for the cluster (seed 5.2)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt

app = opt.group("CloudWatch alarms for the Aurora cluster: apply, status, delete (seed 5.2).")


def _setup(*services: str) -> tuple[Any, ...]:
    """(alarms config, one client per service, cluster id) for the target profile."""
    from auroractl import aws
    from auroractl.ops import alarms as ops

    s = _context.settings()
    t = _context.target(s)
    cluster_id = ops.require_cluster(t.cluster_id)
    cfg = ops.config(s.section("alarms"), cluster_id)
    clients = [aws.for_target(t, name) for name in services]
    return cfg, *clients, cluster_id


@app.command()
def apply(
    dry_run: opt.AwsDryRunOpt = False, yes: opt.YesOpt = False, fmt: opt.ChangeFormatOpt = opt.TEXT
) -> None:
    """Create or update the alarms (idempotent put_metric_alarm) and the slow-query filter.

    Connections > 80% of the instance's max_connections (read with SHOW max_connections),
    Deadlocks > 0 over 5 min, slow queries > 5 s (CloudWatch Logs metric filter on the
    cluster's PostgreSQL log group + alarm), FreeLocalStorage below N bytes,
    ACUUtilization >= 90%, MaximumUsedTransactionIDs high; on Serverless v2, capacity
    pinned at MaxCapacity for 15 min. A cluster that can pause (MinCapacity 0) gets alarms
    that treat missing data as not breaching, and a paused one is not connected to
    (max_connections is estimated from MaxCapacity). Actions go to [alarms]
    sns_topic_arn. Alarms of ours for instances that no longer exist are deleted.
    --dry-run lists the calls with their requests.

    Example:
        auroractl --profile prod alarms apply --dry-run
        auroractl --profile prod alarms apply --yes
    """
    from auroractl.ops import alarms as ops
    from auroractl.ops.shared import serverless

    cfg, cw, logs, rds, cluster_id = _setup("cloudwatch", "logs", "rds")
    state = serverless.pause_state(rds, cw, cluster_id)
    if state.paused and state.scaling is not None:
        # Connecting would resume it: max_connections is estimated from the range instead.
        estimate = serverless.max_connections(
            state.scaling.max_capacity, state.scaling.min_capacity
        )
        p = ops.plan(rds, cw, logs, cluster_id, estimate, cfg)
        p = replace(
            p,
            notes=(
                *p.notes,
                f"the cluster is paused: max_connections {estimate} is estimated from "
                f"MaxCapacity {state.scaling.max_capacity:g} (not read, which would resume it)",
            ),
        )
        outcome = _context.apply(None, ops.apply_action(cw, logs, p), dry_run, yes)
    else:
        with _context.connect() as conn:
            max_connections, log_min = ops.database_limits(conn)
            p = ops.plan(rds, cw, logs, cluster_id, max_connections, cfg, log_min)
            outcome = _context.apply(conn, ops.apply_action(cw, logs, p), dry_run, yes)
    output.result(replace(outcome, result=p.changes))


@app.command()
def status(fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Show each of our alarms with its state; exit 1 when any is in ALARM.

    Example:
        auroractl --profile prod alarms status --format json
    """
    from auroractl.ops import alarms as ops

    cfg, cw, cluster_id = _setup("cloudwatch")
    rows = ops.status(cw, cluster_id, cfg)
    if not rows:
        output.info(f"No alarms with prefix {cfg.prefix}: create them with auroractl alarms apply")
    output.result(
        rows,
        title=f"alarms {cfg.prefix}*",
        columns=["name", "state", "metric", "dimensions", "comparison", "threshold", "updated"],
    )
    if any(r.state == "ALARM" for r in rows):
        raise typer.Exit(1)


@app.command()
def delete(
    dry_run: opt.AwsDryRunOpt = False, yes: opt.YesOpt = False, fmt: opt.ChangeFormatOpt = opt.TEXT
) -> None:
    """Delete our alarms (prefix + cluster marker) and the slow-query metric filter only.

    Example:
        auroractl --profile prod alarms delete --dry-run
        auroractl --profile prod alarms delete --yes
    """
    from auroractl.ops import alarms as ops

    cfg, cw, logs, cluster_id = _setup("cloudwatch", "logs")
    changes = ops.delete_plan(cw, logs, cluster_id, cfg)
    action = ops.delete_action(cw, logs, cluster_id, cfg, changes)
    outcome = _context.apply(None, action, dry_run, yes)
    output.result(replace(outcome, result=tuple(changes)))
