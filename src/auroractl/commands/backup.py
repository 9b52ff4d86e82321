"""auroractl backup: Aurora cluster backup policy, manual snapshots, listing, pruning."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands import _options as opt
from auroractl.errors import Precondition

if TYPE_CHECKING:
    from auroractl.plan import AwsAction

app = opt.group("Aurora backups: retention policy, manual snapshots, list, prune.")
policy_app = opt.group("Automated backup policy: retention days and backup window.")
app.add_typer(policy_app, name="policy")

ClusterOpt = Annotated[
    str | None,
    typer.Option("--cluster", help="DB cluster identifier (default: the profile's cluster_id)."),
]


def _rds(cluster: str | None) -> tuple[Any, str, dict[str, Any]]:
    from auroractl import aws

    s = _context.settings()
    t = _context.target(s)
    cluster_id = cluster or t.cluster_id
    if not cluster_id:
        raise Precondition(
            "backup needs an Aurora target: a profile with cluster_id (or --cluster)"
        )
    return aws.for_target(t, "rds"), cluster_id, s.section("backup")


def _apply(action: AwsAction, result: Any, dry_run: bool, yes: bool) -> None:
    """The action applied (or previewed); the outcome carries what it changes."""
    output.result(replace(_context.apply(None, action, dry_run, yes), result=result))


@policy_app.command("show")
def policy_show(cluster: ClusterOpt = None, fmt: opt.FormatOpt = opt.TABLE) -> None:
    """Show the cluster's backup retention, window and restorable time range.

    Example:
        auroractl --profile prod backup policy show --format json
    """
    from auroractl.ops import backup as ops

    rds, cluster_id, _ = _rds(cluster)
    data = output.to_jsonable(ops.policy(rds, cluster_id))
    output.result(data, rows=[{"key": k, "value": v} for k, v in data.items()])


@policy_app.command("apply")
def policy_apply(
    retention: Annotated[
        int, typer.Option("--retention", help="Days of automated backups to keep (1-35).")
    ],
    window: Annotated[
        str | None, typer.Option("--window", help="Preferred backup window, UTC: 03:00-04:00.")
    ] = None,
    cluster: ClusterOpt = None,
    dry_run: opt.AwsDryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Set the retention period (and window); turns on copy-tags-to-snapshot.

    Example:
        auroractl --profile prod backup policy apply --retention 30 --window 03:00-04:00 --yes
    """
    from auroractl.ops import backup as ops

    ops.check_retention(retention)  # bad input fails before any AWS call
    if window:
        ops.check_window(window)
    rds, cluster_id, _ = _rds(cluster)
    action, change = ops.policy_action(rds, cluster_id, retention, window)
    _apply(action, change, dry_run, yes)


@app.command()
def snapshot(
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Extra tag key=value (repeatable).")
    ] = None,
    cluster: ClusterOpt = None,
    dry_run: opt.AwsDryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Take a manual cluster snapshot auroractl-<cluster>-<timestamp> and wait for it.

    A change like any other: --yes (cron) or a confirmation; --dry-run shows the call.

    Example:
        auroractl --profile prod backup snapshot --tag reason=pre-migration --yes
    """
    from auroractl.ops import backup as ops

    tags = ops.parse_tags(tag or [])
    rds, cluster_id, section = _rds(cluster)
    delay = int(section.get("waiter_delay", 30))
    action = ops.snapshot_action(rds, cluster_id, tags, waiter_delay=delay)
    outcome = _context.apply(None, action, dry_run, yes)
    made = ops.snapshot(rds, action.resources[0]) if outcome.status == "applied" else None
    output.result(replace(outcome, result=made))


@app.command("list")
def list_(cluster: ClusterOpt = None, fmt: opt.FormatOpt = opt.TABLE) -> None:
    """List automated and manual snapshots (age, type) and the point-in-time window.

    Example:
        auroractl --profile prod backup list --format json
    """
    from auroractl.ops import backup as ops

    rds, cluster_id, _ = _rds(cluster)
    listing = ops.list_snapshots(rds, cluster_id)
    output.result(
        listing,
        rows=list(listing.snapshots),
        table=lambda: _list_table(listing),
    )


def _list_table(listing: Any) -> None:
    output.render(list(listing.snapshots), "table", title=f"snapshots of {listing.cluster}")
    output.info(
        f"Point-in-time restore window: {listing.earliest_restorable_time} .. "
        f"{listing.latest_restorable_time}"
    )


@app.command()
def prune(
    keep_days: Annotated[
        int, typer.Option("--keep-days", help="Keep auroractl snapshots newer than N days.")
    ],
    cluster: ClusterOpt = None,
    dry_run: opt.AwsDryRunOpt = False,
    yes: opt.YesOpt = False,
    fmt: opt.ChangeFormatOpt = opt.TEXT,
) -> None:
    """Delete manual snapshots made by auroractl older than N days (never others).

    Example:
        auroractl --profile prod backup prune --keep-days 90 --dry-run
        auroractl --profile prod backup prune --keep-days 90 --yes
    """
    from auroractl.errors import InvalidInput
    from auroractl.ops import backup as ops

    if keep_days < 0:
        raise InvalidInput(f"--keep-days {keep_days} must be 0 or more")
    rds, cluster_id, _ = _rds(cluster)
    action, doomed = ops.prune_action(rds, cluster_id, keep_days)
    _apply(action, doomed, dry_run, yes)
