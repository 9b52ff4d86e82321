"""CloudWatch alarms for seed 5.2, idempotent, named with a common prefix.

Per instance (discovered with describe_db_clusters): connections near the instance's
real ``max_connections`` (read from the database), deadlocks, FreeLocalStorage low
(absolute bytes: the Aurora volume grows by itself, local/temp storage does not),
ACUUtilization high; on the writer, MaximumUsedTransactionIDs (wraparound). For the
cluster: slow queries, counted by a CloudWatch Logs metric filter on the cluster's
PostgreSQL log group (``duration: N ms`` lines above the threshold) plus its alarm.

Every alarm's description carries a marker naming the cluster; only alarms with our
prefix AND our marker are ever updated, reported or deleted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from auroractl import aws
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared import cloudwatch, serverless
from auroractl.plan import AwsAction, AwsCall

DEFAULT_FREE_LOCAL_STORAGE = 2 * 1024**3  # 2 GiB
SLOW_QUERY_METRIC = "SlowQueries"
DELETE_BATCH = 100  # DeleteAlarms accepts at most 100 names


@dataclass(frozen=True)
class AlarmsConfig:
    prefix: str
    sns_topic_arn: str | None = None
    connections_pct: float = 80.0
    acu_pct: float = 90.0
    free_local_storage_bytes: int = DEFAULT_FREE_LOCAL_STORAGE
    max_used_xids: int = 1_000_000_000
    slow_query_ms: int = 5000
    log_group: str = ""
    filter_pattern: str = ""

    @property
    def filter_name(self) -> str:
        return f"{self.prefix}slow-queries"


@dataclass(frozen=True)
class AlarmSpec:
    name: str
    metric: str
    namespace: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    treat_missing: str
    description: str
    actions: tuple[str, ...] = ()

    def request(self) -> dict[str, Any]:
        return {
            "AlarmName": self.name,
            "AlarmDescription": self.description,
            "MetricName": self.metric,
            "Namespace": self.namespace,
            "Dimensions": [{"Name": k, "Value": v} for k, v in self.dimensions],
            "Statistic": self.statistic,
            "Period": self.period,
            "EvaluationPeriods": self.evaluation_periods,
            "Threshold": float(self.threshold),
            "ComparisonOperator": self.comparison,
            "TreatMissingData": self.treat_missing,
            "ActionsEnabled": True,
            "AlarmActions": list(self.actions),
            "OKActions": list(self.actions),
        }


@dataclass(frozen=True)
class FilterSpec:
    log_group: str
    name: str
    pattern: str
    namespace: str
    metric: str


@dataclass(frozen=True)
class Change:
    kind: str  # alarm | metric-filter | log-group
    name: str
    action: str  # create | update | unchanged | delete
    detail: str = ""


@dataclass(frozen=True)
class AlarmsPlan:
    cluster_id: str
    prefix: str
    alarms: tuple[AlarmSpec, ...]
    metric_filter: FilterSpec
    changes: tuple[Change, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)
    create_log_group: bool = False

    @property
    def pending(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action != "unchanged")


@dataclass(frozen=True)
class AlarmState:
    name: str
    state: str
    metric: str
    dimensions: str
    threshold: float
    comparison: str
    reason: str
    updated: Any


def marker(cluster_id: str) -> str:
    return f"[auroractl cluster={cluster_id}]"


def config(section: Mapping[str, Any], cluster_id: str) -> AlarmsConfig:
    """``[alarms]`` of auroractl.toml with defaults, validated."""
    known = {
        "prefix",
        "sns_topic_arn",
        "connections_pct",
        "acu_pct",
        "free_local_storage_bytes",
        "max_used_xids",
        "slow_query_ms",
        "log_group",
        "filter_pattern",
    }
    unknown = set(section) - known
    if unknown:
        raise InvalidInput(f"[alarms] has unknown keys: {', '.join(sorted(unknown))}")
    values = dict(section)
    values.setdefault("prefix", f"auroractl-{cluster_id}-")
    values.setdefault("log_group", f"/aws/rds/cluster/{cluster_id}/postgresql")
    cfg = AlarmsConfig(**values)
    if not isinstance(cfg.prefix, str) or not cfg.prefix or len(cfg.prefix) > 150:
        raise InvalidInput("[alarms] prefix must be a non-empty string of at most 150 characters")
    arn = cfg.sns_topic_arn
    if arn is not None and (not isinstance(arn, str) or not arn.startswith("arn:aws")):
        raise InvalidInput(f"[alarms] sns_topic_arn {arn!r} is not an SNS topic ARN")
    for key, low, high in (("connections_pct", 1, 100), ("acu_pct", 1, 100)):
        value = getattr(cfg, key)
        if not isinstance(value, int | float) or not low <= value <= high:
            raise InvalidInput(f"[alarms] {key} = {value!r} must be between {low} and {high}")
    for key in ("free_local_storage_bytes", "max_used_xids", "slow_query_ms"):
        value = getattr(cfg, key)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise InvalidInput(f"[alarms] {key} = {value!r} must be a positive integer")
    if cfg.max_used_xids >= 2**31:
        raise InvalidInput("[alarms] max_used_xids must be below 2^31 (the wraparound limit)")
    return cfg


def default_pattern(slow_query_ms: int) -> str:
    """Space-delimited pattern for RDS's log_line_prefix ``%t:%r:%u@%d:[%p]:``: lines like
    ``2026-01-01 12:00:00 UTC:10.0.0.1(5432):app@escola:[42]:LOG:  duration: 5123.4 ms``."""
    return f'[date, time, prefix, label="duration:", duration_ms>{slow_query_ms}, unit="ms", ...]'


def _instance_alarms(
    m: Any,
    max_connections: int,
    cfg: AlarmsConfig,
    mark: str,
    actions: tuple[str, ...],
    scaling: serverless.Scaling | None = None,
) -> list[AlarmSpec]:
    """One instance's alarms; the transaction-ID alarm only on the writer. A cluster that
    can pause sends no datapoints while paused: missing data is then not a breach (and a
    capacity of 0 breaches none of the thresholds)."""
    dims = (("DBInstanceIdentifier", m.instance),)
    conn_threshold = math.floor(max_connections * cfg.connections_pct / 100)
    quiet = scaling is not None and scaling.pausable

    def alarm(
        kind: str, metric: str, stat: str, period: int, evals: int,
        threshold: float, comparison: str, missing: str, text: str,
    ) -> AlarmSpec:  # fmt: skip
        missing = "notBreaching" if quiet else missing
        return AlarmSpec(
            f"{cfg.prefix}{kind}-{m.instance}", metric, "AWS/RDS", dims, stat, period, evals,
            threshold, comparison, missing, f"{mark} {text}", actions,
        )  # fmt: skip

    specs = [
        alarm(
            "connections", "DatabaseConnections", "Maximum", 60, 5, conn_threshold,
            "GreaterThanThreshold", "missing",
            f"connections > {cfg.connections_pct:g}% of max_connections {max_connections} "
            f"on {m.instance} for 5 min",
        ),
        alarm(
            "deadlocks", "Deadlocks", "Sum", 300, 1, 0, "GreaterThanThreshold", "notBreaching",
            f"deadlocks on {m.instance} in the last 5 min",
        ),
        alarm(
            "free-local-storage", "FreeLocalStorage", "Minimum", 300, 1,
            cfg.free_local_storage_bytes, "LessThanThreshold", "missing",
            f"free local (temp/log) storage below {cfg.free_local_storage_bytes} bytes "
            f"on {m.instance}",
        ),
        alarm(
            "acu-utilization", "ACUUtilization", "Average", 60, 5, cfg.acu_pct,
            "GreaterThanOrEqualToThreshold", "missing",
            f"ACU utilization >= {cfg.acu_pct:g}% of max ACU on {m.instance} for 5 min "
            "(raise MaxCapacity or find the load)",
        ),
    ]  # fmt: skip
    if scaling is not None:
        # Minimum over each 5 minutes at MaxCapacity: the whole quarter-hour pinned.
        specs.append(
            alarm(
                "acu-pinned", "ServerlessDatabaseCapacity", "Minimum", 300, 3,
                scaling.max_capacity, "GreaterThanOrEqualToThreshold", "notBreaching",
                f"{m.instance} pinned at MaxCapacity {scaling.max_capacity:g} ACU for 15 min "
                "(auroractl capacity show)",
            )
        )  # fmt: skip
    if m.role == "WRITER":
        specs.append(
            alarm(
                "max-used-xids", "MaximumUsedTransactionIDs", "Maximum", 300, 1,
                cfg.max_used_xids, "GreaterThanOrEqualToThreshold", "missing",
                f"transaction IDs used >= {cfg.max_used_xids} on {m.instance}: "
                "vacuum before wraparound (2^31)",
            )
        )  # fmt: skip
    return specs


def desired(
    cluster_id: str,
    members: list[Any],
    max_connections: int,
    cfg: AlarmsConfig,
    scaling: serverless.Scaling | None = None,
) -> tuple[list[AlarmSpec], FilterSpec]:
    """The alarms and the metric filter this cluster should have."""
    actions = (cfg.sns_topic_arn,) if cfg.sns_topic_arn else ()
    mark = marker(cluster_id)
    specs: list[AlarmSpec] = []
    for m in members:
        specs += _instance_alarms(m, max_connections, cfg, mark, actions, scaling)
    namespace = f"auroractl/{cluster_id}"
    specs.append(
        AlarmSpec(
            f"{cfg.prefix}slow-queries",
            SLOW_QUERY_METRIC,
            namespace,
            (),
            "Sum",
            300,
            1,
            0,
            "GreaterThanThreshold",
            "notBreaching",
            f"{mark} queries slower than {cfg.slow_query_ms} ms in the last 5 min "
            f"(metric filter {cfg.filter_name} on {cfg.log_group})",
            actions,
        )
    )
    filt = FilterSpec(
        cfg.log_group,
        cfg.filter_name,
        cfg.filter_pattern or default_pattern(cfg.slow_query_ms),
        namespace,
        SLOW_QUERY_METRIC,
    )
    return specs, filt


def ours(cw: Any, cluster_id: str, prefix: str) -> list[dict[str, Any]]:
    """Metric alarms with our prefix and our cluster's marker."""
    mark = marker(cluster_id)
    return [
        a
        for a in aws.paginate(
            cw,
            "describe_alarms",
            "MetricAlarms",
            f"CloudWatch alarms {prefix}*",
            AlarmNamePrefix=prefix,
            AlarmTypes=["MetricAlarm"],
        )
        if (a.get("AlarmDescription") or "").startswith(mark)
    ]


def _same(spec: AlarmSpec, existing: dict[str, Any]) -> bool:
    want = spec.request()
    dims = sorted((d["Name"], d["Value"]) for d in existing.get("Dimensions", []))
    return (
        dims == sorted(spec.dimensions)
        and all(
            existing.get(k) == want[k]
            for k in (
                "AlarmDescription",
                "MetricName",
                "Namespace",
                "Statistic",
                "Period",
                "EvaluationPeriods",
                "ComparisonOperator",
            )
        )
        and float(existing.get("Threshold", math.nan)) == want["Threshold"]
        and existing.get("TreatMissingData", want["TreatMissingData"]) == want["TreatMissingData"]
        and list(existing.get("AlarmActions", [])) == want["AlarmActions"]
        and list(existing.get("OKActions", [])) == want["OKActions"]
    )


def _filters(logs: Any, log_group: str, prefix: str) -> list[dict[str, Any]]:
    try:
        return aws.paginate(
            logs,
            "describe_metric_filters",
            "metricFilters",
            f"log group {log_group}",
            logGroupName=log_group,
            filterNamePrefix=prefix,
        )
    except NotFound:
        return []  # no such log group yet


def _log_group_exists(logs: Any, name: str) -> bool:
    groups = aws.paginate(
        logs, "describe_log_groups", "logGroups", f"log group {name}", logGroupNamePrefix=name
    )
    return any(g.get("logGroupName") == name for g in groups)


def plan(
    rds: Any,
    cw: Any,
    logs: Any,
    cluster_id: str,
    max_connections: int,
    cfg: AlarmsConfig,
    log_min_duration_ms: int | None = None,
) -> AlarmsPlan:
    """What ``apply_action`` would put / delete to converge on the desired alarms."""
    if max_connections < 1:
        raise InvalidInput(f"max_connections {max_connections} must be positive")
    cluster = aws.describe_cluster(rds, cluster_id)
    members = cloudwatch.members(cluster)
    notes: list[str] = []
    if not members:
        notes.append(f"cluster {cluster_id} has no instances: only the slow-query alarm is set")
    if not cfg.sns_topic_arn:
        notes.append("no [alarms] sns_topic_arn configured: alarms will notify nobody")
    if "postgresql" not in (cluster.get("EnabledCloudwatchLogsExports") or []):
        notes.append(
            "the cluster does not export its PostgreSQL log to CloudWatch Logs, so the "
            "slow-query filter sees nothing: aws rds modify-db-cluster --db-cluster-identifier "
            f"{cluster_id} --cloudwatch-logs-export-configuration EnableLogTypes=postgresql"
        )
    if log_min_duration_ms is not None and (
        log_min_duration_ms < 0 or log_min_duration_ms > cfg.slow_query_ms
    ):
        notes.append(
            f"log_min_duration_statement is {log_min_duration_ms} ms: queries over "
            f"{cfg.slow_query_ms} ms are not logged (auroractl params apply sets 1000)"
        )
    scaling = serverless.scaling(cluster)
    if scaling is not None and scaling.pausable:
        notes.append(
            "the cluster can pause (MinCapacity 0): its alarms treat missing data as not "
            "breaching, so a paused cluster stays quiet"
        )
    specs, filt = desired(cluster_id, members, max_connections, cfg, scaling)
    existing = {a["AlarmName"]: a for a in ours(cw, cluster_id, cfg.prefix)}
    changes: list[Change] = []
    for spec in specs:
        old = existing.get(spec.name)
        action = "create" if old is None else ("unchanged" if _same(spec, old) else "update")
        detail = f"{spec.metric} {_op(spec.comparison)} {_number(spec.threshold)}"
        changes.append(Change("alarm", spec.name, action, detail))
    wanted = {s.name for s in specs}
    for name in sorted(set(existing) - wanted):
        changes.append(Change("alarm", name, "delete", "no longer wanted (instance gone?)"))
    create_group = not _log_group_exists(logs, filt.log_group)
    if create_group:
        changes.append(Change("log-group", filt.log_group, "create", "for the metric filter"))
    old_filters = {f["filterName"]: f for f in _filters(logs, filt.log_group, filt.name)}
    old = old_filters.get(filt.name)
    if old is None:
        action = "create"
    else:
        t = (old.get("metricTransformations") or [{}])[0]
        same = (
            old.get("filterPattern") == filt.pattern
            and t.get("metricNamespace") == filt.namespace
            and t.get("metricName") == filt.metric
        )
        action = "unchanged" if same else "update"
    changes.append(Change("metric-filter", filt.name, action, filt.pattern))
    return AlarmsPlan(
        cluster_id,
        cfg.prefix,
        tuple(specs),
        filt,
        tuple(changes),
        tuple(notes),
        create_group,
    )


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"


def _op(comparison: str) -> str:
    return {
        "GreaterThanThreshold": ">",
        "GreaterThanOrEqualToThreshold": ">=",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
    }.get(comparison, comparison)


def apply_action(cw: Any, logs: Any, p: AlarmsPlan) -> AwsAction:
    """The calls that put what changed and delete stale alarms of ours."""
    todo = {c.name for c in p.pending}
    calls: list[AwsCall] = []
    f = p.metric_filter
    if p.create_log_group:
        calls.append(_create_log_group(logs, f.log_group))
    if f.name in todo:
        transform = {
            "metricName": f.metric,
            "metricNamespace": f.namespace,
            "metricValue": "1",
            "defaultValue": 0.0,
        }
        calls.append(
            aws.call(
                logs,
                "put_metric_filter",
                f.name,
                f"metric filter {f.name}",
                logGroupName=f.log_group,
                filterName=f.name,
                filterPattern=f.pattern,
                metricTransformations=[transform],
            )
        )
    calls += [
        aws.call(cw, "put_metric_alarm", spec.name, f"alarm {spec.name}", **spec.request())
        for spec in p.alarms
        if spec.name in todo
    ]
    stale = [c.name for c in p.pending if c.kind == "alarm" and c.action == "delete"]
    calls += _delete_alarms(cw, stale)
    counts = {a: sum(1 for c in p.pending if c.action == a) for a in ("create", "update", "delete")}
    summary = (
        f"converge the CloudWatch alarms of {p.cluster_id}: "
        + ", ".join(f"{n} {a}" for a, n in counts.items() if n)
        if p.pending
        else f"all {len(p.alarms)} alarms of {p.cluster_id} are up to date"
    )
    return AwsAction("alarms apply", summary, cw.meta.region_name, tuple(calls), p.notes)


def _create_log_group(logs: Any, name: str) -> AwsCall:
    """create_log_group, where "it already exists" (created meanwhile) is success."""
    plain = aws.call(logs, "create_log_group", name, f"log group {name}", logGroupName=name)

    def invoke() -> None:
        try:
            logs.create_log_group(logGroupName=name)
        except Exception as exc:
            if aws.error_code(exc) != "ResourceAlreadyExistsException":
                raise aws.aws_error(exc, f"log group {name}") from None

    return AwsCall(plain.service, plain.operation, plain.request, name, invoke)


def _delete_alarms(cw: Any, names: list[str]) -> list[AwsCall]:
    batches = [names[i : i + DELETE_BATCH] for i in range(0, len(names), DELETE_BATCH)]
    return [
        aws.call(cw, "delete_alarms", ",".join(b), "CloudWatch alarms", AlarmNames=b)
        for b in batches
    ]


def status(cw: Any, cluster_id: str, cfg: AlarmsConfig) -> list[AlarmState]:
    return [
        AlarmState(
            name=a["AlarmName"],
            state=a.get("StateValue", ""),
            metric=f"{a.get('Namespace')}/{a.get('MetricName')}",
            dimensions=",".join(f"{d['Name']}={d['Value']}" for d in a.get("Dimensions", [])),
            threshold=float(a.get("Threshold", 0)),
            comparison=_op(a.get("ComparisonOperator", "")),
            reason=a.get("StateReason", ""),
            updated=a.get("StateUpdatedTimestamp"),
        )
        for a in sorted(ours(cw, cluster_id, cfg.prefix), key=lambda a: a["AlarmName"])
    ]


def delete_plan(cw: Any, logs: Any, cluster_id: str, cfg: AlarmsConfig) -> list[Change]:
    changes = [
        Change("alarm", a["AlarmName"], "delete", a.get("MetricName", ""))
        for a in sorted(ours(cw, cluster_id, cfg.prefix), key=lambda a: a["AlarmName"])
    ]
    changes += [
        Change("metric-filter", f["filterName"], "delete", cfg.log_group)
        for f in _filters(logs, cfg.log_group, cfg.prefix)
    ]
    return changes


def delete_action(
    cw: Any, logs: Any, cluster_id: str, cfg: AlarmsConfig, changes: list[Change]
) -> AwsAction:
    """The calls that delete ``changes`` (from ``delete_plan``): our alarms and filter."""
    names = [c.name for c in changes if c.kind == "alarm"]
    calls = _delete_alarms(cw, names)
    calls += [
        aws.call(
            logs,
            "delete_metric_filter",
            c.name,
            f"metric filter {c.name}",
            logGroupName=cfg.log_group,
            filterName=c.name,
        )
        for c in changes
        if c.kind == "metric-filter"
    ]
    summary = (
        f"delete {len(names)} alarm(s) and {len(changes) - len(names)} metric filter(s) "
        f"of {cluster_id}"
        if changes
        else f"no alarms with prefix {cfg.prefix}: nothing to delete"
    )
    return AwsAction("alarms delete", summary, cw.meta.region_name, tuple(calls))


def require_cluster(cluster_id: str | None) -> str:
    if not cluster_id:
        raise Precondition(
            "alarms need an Aurora cluster: the target has no cluster_id",
            hint="use a profile with cluster_id (and region) in auroractl.toml: --profile NAME",
        )
    return cluster_id


def database_limits(conn: Any) -> tuple[int, int | None]:
    """(max_connections, log_min_duration_statement in ms) of the connected instance."""
    max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
    row = conn.execute(
        "SELECT setting FROM pg_catalog.pg_settings WHERE name = 'log_min_duration_statement'"
    ).fetchone()
    return max_connections, int(row[0]) if row else None
