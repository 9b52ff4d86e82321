"""``capacity pause``: what keeps a Serverless v2 cluster from pausing, and what a wake costs.

The AWS-side checks never touch the database. The database-side ones (replication slots,
sessions by application_name, pg_cron jobs) need a connection, which resumes a paused
instance: the command makes them only when the cluster is not paused, or with --wake.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import TYPE_CHECKING, Any

from auroractl import aws, templates
from auroractl.errors import AuroraCtlError
from auroractl.ops.capacity import cloud
from auroractl.ops.capacity.model import Blocker, PauseReport, Prices
from auroractl.ops.shared import cloudwatch
from auroractl.ops.shared.serverless import DEFAULT_PAUSE_SECONDS, RESUME_SECONDS

if TYPE_CHECKING:
    import psycopg

WEBHOOKS_POLL_S = 1.0  # `webhooks dispatch --loop` sleeps this long between empty polls
_SECONDS = re.compile(r"^\s*(\d+)\s+seconds?\s*$")


def aws_checks(rds: Any, cw: Any, f: cloud.ClusterFacts, now: dt.datetime) -> list[Blocker]:
    """Logical replication, RDS Proxy, Global Database primary, zero-ETL, and the
    DatabaseConnections CloudWatch saw in the last hour (all without connecting)."""
    value = f.parameters.get("rds.logical_replication")
    out = [
        Blocker(
            "rds.logical_replication",
            "blocks" if value in ("1", "on") else "ok",
            f"rds.logical_replication = {value or '0 (default)'} in the cluster parameter group"
            + (": incompatible with auto-pause" if value in ("1", "on") else ""),
        )
    ]
    for check in (_proxy, _global, _zero_etl):
        try:
            out.append(check(rds, f))
        except AuroraCtlError as exc:  # aws.paginate's one-line error (moto lacks some APIs)
            name = check.__name__.strip("_").replace("_", "-")
            out.append(Blocker(name, "unknown", f"could not check: {_one_line(exc)}"))
    out.append(_connections(cw, f, now))
    return out


def _proxy(rds: Any, f: cloud.ClusterFacts) -> Blocker:
    proxies = aws.paginate(rds, "describe_db_proxies", "DBProxies", "RDS proxies")
    using = []
    for p in proxies:
        targets = aws.paginate(
            rds, "describe_db_proxy_targets", "Targets", f"targets of proxy {p['DBProxyName']}",
            DBProxyName=p["DBProxyName"],
        )  # fmt: skip
        if any(
            f.cluster_id in (t.get("TrackedClusterId"), t.get("RdsResourceId")) for t in targets
        ):
            using.append(p["DBProxyName"])
    if using:
        return Blocker("rds-proxy", "blocks", f"RDS Proxy {', '.join(using)} targets the cluster")
    return Blocker("rds-proxy", "ok", f"no RDS Proxy targets the cluster ({len(proxies)} checked)")


def _global(rds: Any, f: cloud.ClusterFacts) -> Blocker:
    arn = f.cluster.get("DBClusterArn")
    found = aws.paginate(rds, "describe_global_clusters", "GlobalClusters", "global clusters")
    for g in found:
        for m in g.get("GlobalClusterMembers", []):
            if m.get("DBClusterArn") == arn and m.get("IsWriter"):
                return Blocker(
                    "global-database",
                    "blocks",
                    f"primary of Global Database {g.get('GlobalClusterIdentifier')}",
                )
    return Blocker("global-database", "ok", "not the primary of a Global Database")


def _zero_etl(rds: Any, f: cloud.ClusterFacts) -> Blocker:
    arn = f.cluster.get("DBClusterArn") or f.cluster_id
    found = aws.paginate(
        rds, "describe_integrations", "Integrations", "zero-ETL integrations",
        Filters=[{"Name": "source-arn", "Values": [arn]}],
    )  # fmt: skip
    if found:
        names = ", ".join(i.get("IntegrationName", "?") for i in found)
        return Blocker("zero-etl", "blocks", f"zero-ETL integration(s) {names}")
    return Blocker("zero-etl", "ok", "no zero-ETL integration from this cluster")


def _connections(cw: Any, f: cloud.ClusterFacts, now: dt.datetime) -> Blocker:
    queries = [
        cloudwatch.query(f"d{i}", "DatabaseConnections", m.instance, "Maximum", period=300)
        for i, m in enumerate(f.members)
    ]
    try:
        series = cloudwatch.fetch(cw, f.cluster_id, queries, now - dt.timedelta(hours=1), now)
    except AuroraCtlError as exc:  # fetch's one-line AWS error: say so, keep the report
        return Blocker("connections (CloudWatch)", "unknown", f"could not check: {exc}")
    busy = {s.instance: max(s.values) for s in series if s.values and max(s.values) > 0}
    if busy:
        text = ", ".join(f"{k} max {v:g}" for k, v in busy.items())
        return Blocker(
            "connections (CloudWatch)", "blocks", f"DatabaseConnections last hour: {text}"
        )
    return Blocker("connections (CloudWatch)", "ok", "no DatabaseConnections in the last hour")


def db_checks(conn: psycopg.Connection, pause_seconds: int) -> list[Blocker]:
    """Replication slots, live sessions by application_name, pg_cron jobs firing more
    often than SecondsUntilAutoPause."""
    slots = conn.execute(templates.load("capacity/slots.sql")).fetchall()
    active = [f"{r[0]} ({r[1]}{' ' + r[2] if r[2] else ''})" for r in slots if r[3]]
    out = [
        Blocker(
            "replication slots",
            "blocks" if active else "ok",
            f"active: {', '.join(active)}" if active else f"{len(slots)} slot(s), none active",
        )
    ]
    rows = conn.execute(templates.load("capacity/activity.sql")).fetchall()
    apps = ", ".join(f"{r[0]} ({r[1]} session(s), last active {r[2]:%H:%M} UTC)" for r in rows)
    out.append(
        Blocker(
            "sessions (last hour)",
            "blocks" if rows else "ok",
            apps or "no other client session active in the last hour",
        )
    )
    out.append(_cron(conn, pause_seconds))
    return out


def _cron(conn: psycopg.Connection, pause_seconds: int) -> Blocker:
    here = conn.execute("SELECT pg_catalog.to_regclass('cron.job') IS NOT NULL").fetchone()[0]
    if not here:
        return Blocker("pg_cron", "skipped", "pg_cron is not installed in this database")
    frequent = []
    for jobid, name, schedule in conn.execute(templates.load("capacity/cron_jobs.sql")):
        every = interval_seconds(schedule)
        if every is not None and every < pause_seconds:
            frequent.append(f"{name or jobid} '{schedule}' (every {every:g} s)")
    if frequent:
        return Blocker(
            "pg_cron", "blocks", f"more often than every {pause_seconds} s: {', '.join(frequent)}"
        )
    return Blocker("pg_cron", "ok", f"no job runs more often than every {pause_seconds} s")


def interval_seconds(schedule: str, now: dt.datetime | None = None) -> float | None:
    """The shortest gap between two runs of a pg_cron schedule ('N seconds' or 5-field
    cron) over the next day; None when it cannot be read."""
    m = _SECONDS.match(schedule or "")
    if m:
        return float(m.group(1))
    from croniter import croniter

    if len(schedule.split()) != 5 or not croniter.is_valid(schedule):
        return None
    start = now or dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday: weekdays and ends
    it = croniter(schedule, start)
    runs = [it.get_next(dt.datetime) for _ in range(200)]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(runs)]
    return min(gaps) if gaps else None


def wake_cost(f: cloud.ClusterFacts, price: Prices) -> tuple[float, float, str]:
    """A wake resumes the writer and the readers in promotion tiers 0-1, each running at
    least the 0.5 ACU floor for the resume and then SecondsUntilAutoPause after the last
    connection closes: the least a single wake can bill."""
    seconds = f.scaling.seconds_until_auto_pause or DEFAULT_PAUSE_SECONDS
    tiers = {
        m["DBInstanceIdentifier"]: m.get("PromotionTier", 1)
        for m in f.cluster.get("DBClusterMembers", [])
    }
    together = [
        m.instance for m in f.members if m.role == "WRITER" or tiers.get(m.instance, 1) <= 1
    ]
    acu_seconds = len(together) * 0.5 * (seconds + RESUME_SECONDS)
    usd = acu_seconds / 3600 * price.acu_hour
    detail = (
        f"{len(together)} instance(s) resume together ({', '.join(together) or 'none'}) x "
        f"0.5 ACU x ({RESUME_SECONDS} s resume + {seconds} s until auto-pause) = "
        f"{acu_seconds:g} ACU-s = ${usd:.4f} at ${price.acu_hour}/ACU-hour; a wake every "
        f"{seconds} s or less never lets it pause"
    )
    return acu_seconds, round(usd, 4), detail


def report(
    rds: Any,
    cw: Any,
    cluster_id: str,
    price: Prices,
    *,
    paused: bool,
    conn: psycopg.Connection | None = None,
    now: dt.datetime | None = None,
) -> PauseReport:
    f = cloud.facts(rds, cluster_id, want=("rds.logical_replication",))
    seconds = f.scaling.seconds_until_auto_pause or DEFAULT_PAUSE_SECONDS
    blockers = aws_checks(rds, cw, f, now or dt.datetime.now(dt.UTC))
    if conn is not None:
        blockers += db_checks(conn, seconds)
    else:
        why = "the cluster is paused: connecting would resume it (--wake to check)"
        blockers += [
            Blocker(name, "skipped", why)
            for name in ("replication slots", "sessions (last hour)", "pg_cron")
        ]
    blockers.append(
        Blocker(
            "webhooks dispatch --loop",
            "info",
            f"polls every {WEBHOOKS_POLL_S:g} s while idle: a running dispatcher keeps the "
            f"cluster awake; run `webhooks dispatch --once` from a scheduler instead",
        )
    )
    if not f.scaling.pausable:
        blockers.insert(
            0,
            Blocker(
                "MinCapacity",
                "blocks",
                f"MinCapacity is {f.scaling.min_capacity:g}: only 0 pauses "
                "(auroractl capacity apply --min 0 --max N)",
            ),
        )
    acu_s, usd, detail = wake_cost(f, price)
    return PauseReport(cluster_id, f.scaling, paused, tuple(blockers), acu_s, usd, detail)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200]
