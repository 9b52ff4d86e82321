"""auroractl backup: Aurora cluster backup policy, manual snapshots, listing, pruning."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from auroractl import output
from auroractl.commands import _context
from auroractl.commands._options import DryRunOpt, Format, FormatOpt, YesOpt, group
from auroractl.errors import Precondition, Refused

app = group("Aurora backups: retention policy, manual snapshots, list, prune.")
policy_app = group("Automated backup policy: retention days and backup window.")
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
    p = t.profile
    rds = aws.client("rds", p.region if p else None, p.endpoint_url if p else None)
    return rds, cluster_id, s.section("backup")


def _confirmer(yes: bool):  # type: ignore[no-untyped-def]
    import sys

    def confirm(what: str) -> bool:
        if yes:
            return True
        if not (sys.stdin.isatty() and sys.stderr.isatty()):
            raise Refused(f"refusing to {what} without confirmation: pass --yes (or --dry-run)")
        from rich.prompt import Confirm

        if not Confirm.ask(f"{what.capitalize()}?", console=output.stderr(), default=False):
            raise Refused("cancelled: nothing was changed")
        return True

    return confirm


@policy_app.command("show")
def policy_show(cluster: ClusterOpt = None, fmt: FormatOpt = Format.table) -> None:
    """Show the cluster's backup retention, window and restorable time range.

    Example:
        auroractl --profile prod backup policy show --format json
    """
    from auroractl.ops import backup as ops

    rds, cluster_id, _ = _rds(cluster)
    output.pairs(output.to_jsonable(ops.policy(rds, cluster_id)), fmt.value)


@policy_app.command("apply")
def policy_apply(
    retention: Annotated[
        int, typer.Option("--retention", help="Days of automated backups to keep (1-35).")
    ],
    window: Annotated[
        str | None, typer.Option("--window", help="Preferred backup window, UTC: 03:00-04:00.")
    ] = None,
    cluster: ClusterOpt = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    fmt: FormatOpt = Format.table,
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
    change = ops.apply_policy(
        rds, cluster_id, retention, window, dry_run=dry_run, confirm=_confirmer(yes)
    )
    if not change.changed:
        output.info(f"{cluster_id}: backup policy already as requested; nothing to do")
    elif dry_run:
        output.info(f"dry run: would call modify_db_cluster on {cluster_id}")
    output.pairs(output.to_jsonable(change), fmt.value)


@app.command()
def snapshot(
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Extra tag key=value (repeatable).")
    ] = None,
    cluster: ClusterOpt = None,
    dry_run: DryRunOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Take a manual cluster snapshot auroractl-<cluster>-<timestamp> and wait for it.

    Additive (it deletes and changes nothing), so it needs no --yes: cron-friendly.

    Example:
        auroractl --profile prod backup snapshot --tag reason=pre-migration
    """
    import datetime as dt

    from auroractl.ops import backup as ops

    tags = ops.parse_tags(tag or [])
    rds, cluster_id, section = _rds(cluster)
    if dry_run:
        name = ops.snapshot_name(cluster_id, dt.datetime.now(dt.UTC))
        output.info(f"dry run: would create snapshot {name} of {cluster_id}")
        return
    delay = int(section.get("waiter_delay", 30))
    with output.status(f"snapshot of {cluster_id}: creating (polling every {delay}s)"):
        snap = ops.create_snapshot(rds, cluster_id, tags, waiter_delay=delay)
    output.pairs(output.to_jsonable(snap), fmt.value)


@app.command("list")
def list_(cluster: ClusterOpt = None, fmt: FormatOpt = Format.table) -> None:
    """List automated and manual snapshots (age, type) and the point-in-time window.

    Example:
        auroractl --profile prod backup list --format json
    """
    from auroractl.ops import backup as ops

    rds, cluster_id, _ = _rds(cluster)
    listing = ops.list_snapshots(rds, cluster_id)
    if fmt == Format.json:
        output.render(listing, "json")
        return
    output.render(list(listing.snapshots), fmt.value, title=f"snapshots of {cluster_id}")
    if fmt == Format.table:
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
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """Delete manual snapshots made by auroractl older than N days (never others).

    Example:
        auroractl --profile prod backup prune --keep-days 90 --yes
    """
    from auroractl.errors import InvalidInput
    from auroractl.ops import backup as ops

    if keep_days < 0:
        raise InvalidInput(f"--keep-days {keep_days} must be 0 or more")
    rds, cluster_id, _ = _rds(cluster)
    items = ops.prune(rds, cluster_id, keep_days, dry_run=dry_run, confirm=_confirmer(yes))
    if not items and fmt != Format.json:
        output.info(f"No auroractl snapshot of {cluster_id} is older than {keep_days} days.")
        return
    output.render(items, fmt.value, title="pruned snapshots")
