"""Aurora backups: retention policy, manual snapshots, listing and pruning (boto3 RDS)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from auroractl import aws
from auroractl.aws import cluster_snapshots, describe_cluster
from auroractl.errors import InvalidInput, Precondition
from auroractl.plan import AwsAction, AwsCall

MADE_BY_KEY, MADE_BY_VALUE = "auroractl:made-by", "auroractl"
RETENTION_MIN, RETENTION_MAX = 1, 35
_WINDOW = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")
_TAG_KEY = re.compile(r"^[\w.:/=+\-@ ]{1,128}$")


@dataclass(frozen=True)
class BackupPolicy:
    cluster: str
    retention_days: int | None
    window: str | None
    copy_tags_to_snapshot: bool | None
    earliest_restorable_time: dt.datetime | None
    latest_restorable_time: dt.datetime | None


@dataclass(frozen=True)
class PolicyChange:
    cluster: str
    before: BackupPolicy
    retention_days: int
    window: str | None
    changed: bool


@dataclass(frozen=True)
class Snapshot:
    id: str
    type: str  # automated | manual
    status: str
    created: dt.datetime | None
    age_days: float | None
    size_gb: int | None
    made_by_auroractl: bool


@dataclass(frozen=True)
class SnapshotListing:
    cluster: str
    earliest_restorable_time: dt.datetime | None
    latest_restorable_time: dt.datetime | None
    snapshots: tuple[Snapshot, ...]


@dataclass(frozen=True)
class PruneItem:
    id: str
    created: dt.datetime | None
    age_days: float | None


def check_retention(days: int) -> int:
    if not RETENTION_MIN <= days <= RETENTION_MAX:
        raise InvalidInput(
            f"--retention {days} is outside {RETENTION_MIN}-{RETENTION_MAX} days "
            "(Aurora's limits for automated backups)"
        )
    return days


def check_window(window: str) -> str:
    """hh:mm-hh:mm in UTC, at least 30 minutes long (RDS's rule)."""
    m = _WINDOW.match(window.strip())
    if not m:
        raise InvalidInput(f"--window {window!r} must look like 03:00-04:00 (UTC)")
    start = int(m.group(1)) * 60 + int(m.group(2))
    end = int(m.group(3)) * 60 + int(m.group(4))
    if (end - start) % 1440 < 30:
        raise InvalidInput(f"--window {window} must be at least 30 minutes long")
    return window.strip()


def parse_tags(values: list[str]) -> list[dict[str, str]]:
    tags = []
    for v in values:
        key, sep, value = v.partition("=")
        if not sep or not key or not _TAG_KEY.match(key) or key.startswith("aws:"):
            raise InvalidInput(f"--tag {v!r} must be key=value (key not starting with aws:)")
        tags.append({"Key": key, "Value": value})
    return tags


def policy(rds: Any, cluster_id: str) -> BackupPolicy:
    c = describe_cluster(rds, cluster_id)
    return BackupPolicy(
        cluster=cluster_id,
        retention_days=c.get("BackupRetentionPeriod"),
        window=c.get("PreferredBackupWindow"),
        copy_tags_to_snapshot=c.get("CopyTagsToSnapshot"),
        earliest_restorable_time=c.get("EarliestRestorableTime"),
        latest_restorable_time=c.get("LatestRestorableTime"),
    )


def policy_action(
    rds: Any, cluster_id: str, retention: int, window: str | None
) -> tuple[AwsAction, PolicyChange]:
    """modify_db_cluster(BackupRetentionPeriod, PreferredBackupWindow, CopyTagsToSnapshot),
    or no call when the cluster already has that policy."""
    check_retention(retention)
    window = check_window(window) if window else None
    before = policy(rds, cluster_id)
    changed = (
        before.retention_days != retention
        or (window is not None and before.window != window)
        or not before.copy_tags_to_snapshot
    )
    request: dict[str, Any] = {
        "DBClusterIdentifier": cluster_id,
        "BackupRetentionPeriod": retention,
        "CopyTagsToSnapshot": True,
        "ApplyImmediately": True,
    }
    if window:
        request["PreferredBackupWindow"] = window
    calls = (
        (aws.call(rds, "modify_db_cluster", cluster_id, f"cluster {cluster_id}", **request),)
        if changed
        else ()
    )
    summary = (
        f"set backup retention of {cluster_id} to {retention} days"
        + (f", window {window} UTC" if window else "")
        if changed
        else f"{cluster_id}: backup policy already as requested; nothing to do"
    )
    action = AwsAction("backup policy apply", summary, rds.meta.region_name, calls)
    return action, PolicyChange(cluster_id, before, retention, window, changed)


def snapshot_name(cluster_id: str, when: dt.datetime) -> str:
    suffix = f"-{when:%Y%m%d-%H%M%S}"
    return f"auroractl-{cluster_id}"[: 255 - len(suffix)] + suffix


def snapshot_action(
    rds: Any,
    cluster_id: str,
    tags: list[dict[str, str]],
    *,
    waiter_delay: int = 30,
    max_attempts: int = 360,
    when: dt.datetime | None = None,
) -> AwsAction:
    """A manual cluster snapshot auroractl-<cluster>-<ts>, waited for until available:
    one call (create + waiter)."""
    name = snapshot_name(cluster_id, when or dt.datetime.now(dt.UTC))
    describe_cluster(rds, cluster_id)
    request = {
        "DBClusterSnapshotIdentifier": name,
        "DBClusterIdentifier": cluster_id,
        "Tags": [{"Key": MADE_BY_KEY, "Value": MADE_BY_VALUE}, *tags],
    }

    def create_and_wait() -> None:
        from botocore.exceptions import WaiterError

        try:
            rds.create_db_cluster_snapshot(**request)
        except Exception as exc:
            raise aws.aws_error(exc, f"snapshot of {cluster_id}") from None
        try:
            rds.get_waiter("db_cluster_snapshot_available").wait(
                DBClusterSnapshotIdentifier=name,
                WaiterConfig={"Delay": waiter_delay, "MaxAttempts": max_attempts},
            )
        except WaiterError as exc:
            raise Precondition(f"snapshot {name} is not available yet: {exc}") from None

    call = AwsCall("rds", "create_db_cluster_snapshot", request, name, create_and_wait)
    summary = f"create snapshot {name} of {cluster_id} and wait until it is available"
    return AwsAction("backup snapshot", summary, rds.meta.region_name, (call,))


def snapshot(rds: Any, name: str) -> Snapshot:
    """One snapshot, as listed."""
    try:
        found = rds.describe_db_cluster_snapshots(DBClusterSnapshotIdentifier=name)
    except Exception as exc:
        raise aws.aws_error(exc, f"snapshot {name}") from None
    return _snapshot(rds, found["DBClusterSnapshots"][0], dt.datetime.now(dt.UTC))


def _made_by_us(rds: Any, snap: dict[str, Any]) -> bool:
    tags = snap.get("TagList")
    if tags is None:
        tags = rds.list_tags_for_resource(ResourceName=snap["DBClusterSnapshotArn"])["TagList"]
    return any(t["Key"] == MADE_BY_KEY and t["Value"] == MADE_BY_VALUE for t in tags)


def _snapshot(rds: Any, s: dict[str, Any], now: dt.datetime) -> Snapshot:
    created = s.get("SnapshotCreateTime")
    manual = s.get("SnapshotType") == "manual"
    return Snapshot(
        id=s["DBClusterSnapshotIdentifier"],
        type=s.get("SnapshotType", "?"),
        status=s.get("Status", "?"),
        created=created,
        age_days=round((now - created).total_seconds() / 86400, 2) if created else None,
        size_gb=s.get("AllocatedStorage"),
        made_by_auroractl=manual and _made_by_us(rds, s),
    )


def list_snapshots(rds: Any, cluster_id: str, now: dt.datetime | None = None) -> SnapshotListing:
    now = now or dt.datetime.now(dt.UTC)
    p = policy(rds, cluster_id)
    snaps = sorted(
        (_snapshot(rds, s, now) for s in cluster_snapshots(rds, cluster_id)),
        key=lambda s: s.created or now,
        reverse=True,
    )
    return SnapshotListing(
        cluster_id, p.earliest_restorable_time, p.latest_restorable_time, tuple(snaps)
    )


def prune_action(
    rds: Any, cluster_id: str, keep_days: int, now: dt.datetime | None = None
) -> tuple[AwsAction, list[PruneItem]]:
    """Delete manual snapshots made by auroractl older than ``keep_days``; nothing else."""
    if keep_days < 0:
        raise InvalidInput(f"--keep-days {keep_days} must be 0 or more")
    now = now or dt.datetime.now(dt.UTC)
    cutoff = now - dt.timedelta(days=keep_days)
    doomed = [
        s
        for s in list_snapshots(rds, cluster_id, now).snapshots
        if s.type == "manual" and s.made_by_auroractl and s.created and s.created < cutoff
    ]
    calls = tuple(
        aws.call(
            rds,
            "delete_db_cluster_snapshot",
            s.id,
            f"delete snapshot {s.id}",
            DBClusterSnapshotIdentifier=s.id,
        )
        for s in doomed
    )
    summary = (
        f"delete {len(doomed)} auroractl snapshot(s) of {cluster_id} older than {keep_days} days"
        if doomed
        else f"no auroractl snapshot of {cluster_id} is older than {keep_days} days"
    )
    action = AwsAction("backup prune", summary, rds.meta.region_name, calls)
    return action, [PruneItem(s.id, s.created, s.age_days) for s in doomed]
