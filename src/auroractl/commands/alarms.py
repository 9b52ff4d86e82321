"""auroractl alarms: CloudWatch alarms for the cluster (seed 5.2)."""

from __future__ import annotations

from typing import Any

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands._options import DryRunOpt, Format, FormatOpt, YesOpt, group

app = group("CloudWatch alarms for the Aurora cluster: apply, status, delete (seed 5.2).")


def _setup(*services: str) -> tuple[Any, ...]:
    """(alarms config, one client per service, cluster id) for the target profile."""
    from auroractl import aws
    from auroractl.ops import alarms as ops

    s = _context.settings()
    t = _context.target(s)
    cluster_id = ops.require_cluster(t.cluster_id)
    cfg = ops.config(s.section("alarms"), cluster_id)
    p = t.profile
    region, endpoint = (p.region, p.endpoint_url) if p else (None, None)
    clients = [aws.client(name, region, endpoint) for name in services]
    return cfg, *clients, cluster_id


def _changes(changes: Any, fmt: Format, title: str) -> None:
    rows = list(changes)
    if fmt == Format.table:
        # Table cells go through rich markup: keep "[date, time, ...]" patterns literal.
        from dataclasses import replace

        from rich.markup import escape

        rows = [replace(c, detail=escape(c.detail)) for c in rows]
    output.render(rows, fmt.value, title=title)


@app.command()
def apply(dry_run: DryRunOpt = False, yes: YesOpt = False, fmt: FormatOpt = Format.table) -> None:
    """Create or update the alarms (idempotent put_metric_alarm) and the slow-query filter.

    Connections > 80% of the instance's max_connections (read with SHOW max_connections),
    Deadlocks > 0 over 5 min, slow queries > 5 s (CloudWatch Logs metric filter on the
    cluster's PostgreSQL log group + alarm), FreeLocalStorage below N bytes,
    ACUUtilization >= 90%, MaximumUsedTransactionIDs high; actions go to [alarms]
    sns_topic_arn. Alarms of ours for instances that no longer exist are deleted.

    Example:
        auroractl --profile prod alarms apply --dry-run
        auroractl --profile prod alarms apply --yes
    """
    from auroractl.commands.params import confirm_change
    from auroractl.ops import alarms as ops

    cfg, cw, logs, rds, cluster_id = _setup("cloudwatch", "logs", "rds")
    with _context.connect() as conn:
        max_connections, log_min = ops.database_limits(conn)
    p = ops.plan(rds, cw, logs, cluster_id, max_connections, cfg, log_min)
    for note in p.notes:
        output.info(f"Note: {note}")
    pending = p.pending
    if dry_run or not pending:
        status = "dry-run" if dry_run else "nothing-to-do"
        if fmt == Format.json:
            output.render(
                {"status": status, "changes": list(p.changes), "notes": list(p.notes)}, "json"
            )
        elif dry_run:
            _changes(p.changes, fmt, f"alarms for {cluster_id} (dry run: nothing changed)")
        else:
            output.info(f"All {len(p.alarms)} alarms of {cluster_id} are up to date.")
        return
    confirm_change(
        [f"{c.action} {c.kind} {c.name}: {c.detail}" for c in pending],
        f"CloudWatch alarms of {cluster_id}",
        yes,
    )
    done = ops.apply(cw, logs, p)
    if fmt == Format.json:
        output.render(
            {"status": "applied", "changes": list(p.changes), "notes": list(p.notes)}, "json"
        )
    else:
        _changes(p.changes, fmt, f"alarms for {cluster_id}")
        output.info(f"Done: {len(done)} change(s) for {cluster_id}.")


@app.command()
def status(fmt: FormatOpt = Format.table) -> None:
    """Show each of our alarms with its state; exit 1 when any is in ALARM.

    Example:
        auroractl --profile prod alarms status --format json
    """
    from auroractl.ops import alarms as ops

    cfg, cw, cluster_id = _setup("cloudwatch")
    rows = ops.status(cw, cluster_id, cfg)
    if fmt == Format.table and not rows:
        output.info(f"No alarms with prefix {cfg.prefix}: create them with auroractl alarms apply")
    output.render(
        rows,
        fmt.value,
        title=f"alarms {cfg.prefix}*",
        columns=["name", "state", "metric", "dimensions", "comparison", "threshold", "updated"],
    )
    if any(r.state == "ALARM" for r in rows):
        raise typer.Exit(1)


@app.command()
def delete(dry_run: DryRunOpt = False, yes: YesOpt = False, fmt: FormatOpt = Format.table) -> None:
    """Delete our alarms (prefix + cluster marker) and the slow-query metric filter only.

    Example:
        auroractl --profile prod alarms delete --dry-run
        auroractl --profile prod alarms delete --yes
    """
    from auroractl.commands.params import confirm_change
    from auroractl.ops import alarms as ops

    cfg, cw, logs, cluster_id = _setup("cloudwatch", "logs")
    changes = ops.delete_plan(cw, logs, cluster_id, cfg)
    if dry_run or not changes:
        status = "dry-run" if dry_run else "nothing-to-do"
        if fmt == Format.json:
            output.render({"status": status, "changes": changes}, "json")
        elif changes:
            _changes(changes, fmt, f"would delete ({cluster_id})")
        else:
            output.info(f"No alarms with prefix {cfg.prefix}: nothing to delete.")
        return
    confirm_change(
        [f"delete {c.kind} {c.name}" for c in changes], f"CloudWatch alarms of {cluster_id}", yes
    )
    ops.delete(cw, logs, cfg, changes)
    if fmt == Format.json:
        output.render({"status": "applied", "changes": changes}, "json")
    else:
        output.info(f"Deleted {len(changes)} alarm(s) / metric filter(s) of {cluster_id}.")
