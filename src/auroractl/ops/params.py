"""Server settings: desired (``[params]`` in auroractl.toml) vs actual, and applying them.

On Aurora (the target names a ``cluster_id``) settings live in the cluster's DB cluster
parameter group: read with ``describe_db_cluster_parameters``, changed with
``modify_db_cluster_parameter_group`` (at most 20 per call; ``immediate`` for dynamic
parameters, ``pending-reboot`` for static ones). ``ALTER SYSTEM`` does not exist there.
On plain PostgreSQL they are read from ``pg_settings`` and changed with ``ALTER SYSTEM``
+ ``pg_reload_conf()``, which needs superuser or ``GRANT ALTER SYSTEM ON PARAMETER``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auroractl import aws, templates
from auroractl.errors import InvalidInput, NotFound, Precondition
from auroractl.ops.shared import cloudwatch, serverless
from auroractl.plan import AwsAction, Plan, Step

if TYPE_CHECKING:
    import psycopg

# The seed's section 2.1, as intent: preload pg_stat_statements (keeping whatever else is
# preloaded), keep 4 kB of query text, log statements slower than 1 s.
DEFAULTS: dict[str, str] = {
    "shared_preload_libraries": "pg_stat_statements",
    "track_activity_query_size": "4096",
    "log_min_duration_statement": "1000",
}
# Comma-separated lists where "desired" means "includes these", never "exactly these".
LIST_PARAMS = frozenset(
    {"shared_preload_libraries", "session_preload_libraries", "local_preload_libraries"}
)
# Used when the parameter group does not say (moto; parameters never set on a group).
KNOWN_STATIC = frozenset(
    {
        "shared_preload_libraries",
        "track_activity_query_size",
        "max_connections",
        "max_worker_processes",
        "max_locks_per_transaction",
        "max_prepared_transactions",
        "wal_level",
        "shared_buffers",
        "cron.database_name",
    }
)
KNOWN_DYNAMIC = frozenset(
    {"log_min_duration_statement", "log_statement", "log_lock_waits", "work_mem"}
)
MODIFY_BATCH = 20  # ModifyDBClusterParameterGroup accepts at most 20 parameters per call
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")

_MEMORY = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3, "tb": 1024**4}
_TIME = {"us": 0.001, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
_QUANTITY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


@dataclass(frozen=True)
class ParamStatus:
    name: str
    desired: str
    actual: str | None  # None: not set / unknown
    to_set: str  # the value apply would write (lists: actual + missing entries)
    apply_type: str  # static | dynamic | unknown
    source: str | None
    in_sync: bool
    pending_restart: bool = False
    modifiable: bool = True
    configured: str | None = None  # PostgreSQL: value in the config files, when readable


@dataclass(frozen=True)
class ParamsReport:
    where: str  # "aurora" | "postgresql"
    target: str  # cluster id / parameter group, or the database
    parameter_group: str | None
    params: tuple[ParamStatus, ...]
    # Aurora: instances whose parameter group status is pending-reboot (static values
    # set but not in effect), and what in the group keeps Serverless v2 from scaling down.
    pending_reboot: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def changes(self) -> tuple[ParamStatus, ...]:
        return tuple(p for p in self.params if not p.in_sync)


@dataclass(frozen=True)
class ParamsResult:
    """What ``params apply`` reports beside the outcome: the parameters it changes and
    what is left to do (reboot the instances / restart the server)."""

    where: str
    target: str
    parameter_group: str | None
    changes: tuple[ParamStatus, ...]
    reboot_needed: bool = False
    instances_to_reboot: tuple[str, ...] = ()
    pending_restart: tuple[str, ...] = ()


def desired(section: Mapping[str, Any]) -> dict[str, str]:
    """The seed's defaults overridden / extended by ``[params]``; values as strings."""
    out = dict(DEFAULTS)
    for name, value in section.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidInput(f"[params]: {name!r} is not a parameter name")
        if isinstance(value, bool):
            value = "on" if value else "off"
        elif isinstance(value, list):
            value = ",".join(str(v) for v in value)
        elif not isinstance(value, str | int | float):
            raise InvalidInput(f"[params] {name}: value must be a string, number or list")
        out[name.lower()] = str(value)
    return out


def _split(value: str | None) -> list[str]:
    return [v.strip().strip('"') for v in (value or "").split(",") if v.strip().strip('"')]


def _normalize(value: str | None, unit: str | None = None) -> str | None:
    """Compare ``1s`` with ``1000`` (unit ms), ``4kB`` with ``4096`` (unit B), on with true."""
    if value is None:
        return None
    text = value.strip().strip("'")
    low = text.lower()
    if low in ("on", "true", "yes"):
        return "on"
    if low in ("off", "false", "no"):
        return "off"
    m = _QUANTITY.match(text)
    if not m:
        return low
    number, suffix = float(m.group(1)), m.group(2).lower()
    base = (unit or "").lower()
    scale_base = re.match(r"^(\d*)(.*)$", base)
    multiplier = int(scale_base.group(1)) if scale_base and scale_base.group(1) else 1
    base_unit = scale_base.group(2) if scale_base else ""
    if suffix:
        for table in (_MEMORY, _TIME):
            if suffix in table and base_unit in table:
                number = number * table[suffix] / (table[base_unit] * multiplier)
                break
        else:
            return low
    if number == int(number):
        return str(int(number))
    return repr(number)


def _compare(name: str, want: str, actual: str | None, unit: str | None) -> tuple[bool, str]:
    """(in sync, value to write)."""
    if name in LIST_PARAMS:
        have = _split(actual)
        missing = [v for v in _split(want) if v not in have]
        return not missing, ",".join(have + missing)
    return _normalize(want, unit) == _normalize(actual, unit), want


# --- Aurora: the DB cluster parameter group -------------------------------------------


def cluster_parameters(rds: Any, group: str) -> dict[str, dict[str, Any]]:
    """Every parameter of ``group`` (all pages), by name."""
    found = aws.paginate(
        rds,
        "describe_db_cluster_parameters",
        "Parameters",
        f"DB cluster parameter group {group!r}",
        DBClusterParameterGroupName=group,
    )
    return {p["ParameterName"]: p for p in found}


def _apply_type(name: str, given: str | None) -> str:
    if given in ("static", "dynamic"):
        return given
    if name in KNOWN_STATIC:
        return "static"
    if name in KNOWN_DYNAMIC:
        return "dynamic"
    return "unknown"


def aurora_status(
    rds: Any, cluster_id: str, want: Mapping[str, str], *, for_apply: bool = False
) -> ParamsReport:
    """Desired vs the cluster's parameter group; ``for_apply`` refuses a default.* group
    before reading anything."""
    cluster = aws.describe_cluster(rds, cluster_id)
    group = cluster.get("DBClusterParameterGroup")
    if not group:
        raise Precondition(f"DB cluster {cluster_id} reports no DB cluster parameter group")
    if for_apply:
        check_modifiable_group(group, cluster_id)
    actual = cluster_parameters(rds, group)
    statuses = []
    for name, value in want.items():
        p = actual.get(name, {})
        current = p.get("ParameterValue")
        in_sync, to_set = _compare(name, value, current, None)
        statuses.append(
            ParamStatus(
                name=name,
                desired=value,
                actual=current,
                to_set=to_set,
                apply_type=_apply_type(name, p.get("ApplyType")),
                source=p.get("Source"),
                in_sync=in_sync,
                pending_restart=p.get("ApplyMethod") == "pending-reboot"
                and any(
                    m.get("DBClusterParameterGroupStatus") == "pending-reboot"
                    for m in cluster.get("DBClusterMembers", [])
                ),
                modifiable=p.get("IsModifiable", True),
            )
        )
    pending = tuple(
        m["DBInstanceIdentifier"]
        for m in cluster.get("DBClusterMembers", [])
        if m.get("DBClusterParameterGroupStatus") == "pending-reboot"
    )
    values = {n: str(p.get("ParameterValue")) for n, p in actual.items() if "ParameterValue" in p}
    values.update({s.name: s.to_set for s in statuses})  # what apply would leave in the group
    warnings = tuple(serverless.capacity_warnings(values)) if serverless.scaling(cluster) else ()
    return ParamsReport("aurora", cluster_id, group, tuple(statuses), pending, warnings)


def check_modifiable_group(group: str, cluster_id: str) -> None:
    if group.startswith("default."):
        family = group.removeprefix("default.")
        raise Precondition(
            f"DB cluster {cluster_id} uses the default parameter group {group}, "
            "which cannot be modified",
            hint=(
                "create a custom group and attach it, then re-run: "
                f"aws rds create-db-cluster-parameter-group --db-cluster-parameter-group-name "
                f"{cluster_id}-params --db-parameter-group-family {family} "
                f"--description 'auroractl {cluster_id}' && aws rds modify-db-cluster "
                f"--db-cluster-identifier {cluster_id} --db-cluster-parameter-group-name "
                f"{cluster_id}-params --apply-immediately (then reboot the instances)"
            ),
        )


def aurora_plan(rds: Any, report: ParamsReport) -> tuple[AwsAction, ParamsResult]:
    """The parameter group modifications, <= 20 parameters per call (one AwsCall each);
    dynamic parameters immediately, the others pending-reboot."""
    group = report.parameter_group or ""
    check_modifiable_group(group, report.target)
    changes = report.changes
    locked = [p.name for p in changes if not p.modifiable]
    if locked:
        raise Precondition(f"parameter(s) not modifiable on Aurora: {', '.join(locked)}")
    calls = tuple(
        aws.call(
            rds,
            "modify_db_cluster_parameter_group",
            group,
            f"DB cluster parameter group {group}",
            DBClusterParameterGroupName=group,
            Parameters=[
                {
                    "ParameterName": p.name,
                    "ParameterValue": p.to_set,
                    # Unknown apply type: pending-reboot is accepted for every parameter.
                    "ApplyMethod": "immediate" if p.apply_type == "dynamic" else "pending-reboot",
                }
                for p in changes[first : first + MODIFY_BATCH]
            ],
        )
        for first in range(0, len(changes), MODIFY_BATCH)
    )
    static = [p.name for p in changes if p.apply_type != "dynamic"]
    instances: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    if static:
        cluster = aws.describe_cluster(rds, report.target)
        instances = tuple(m.instance for m in cloudwatch.members(cluster))
        notes = (
            f"static parameter(s) {', '.join(static)} apply after a reboot of: "
            f"{', '.join(instances) or '(no instances)'} "
            "(aws rds reboot-db-instance --db-instance-identifier NAME)",
        )
    notes += report.warnings
    summary = (
        f"set {len(changes)} parameter(s) of DB cluster parameter group {group}: "
        f"{', '.join(p.name for p in changes)}"
        if changes
        else f"parameters of {group} already match the desired settings"
    )
    action = AwsAction("params apply", summary, rds.meta.region_name, calls, notes)
    result = ParamsResult(report.where, report.target, group, changes, bool(static), instances)
    return action, result


# --- plain PostgreSQL: pg_settings + ALTER SYSTEM ---------------------------------------


def pg_status(conn: psycopg.Connection, want: Mapping[str, str]) -> ParamsReport:
    """pg_settings (running values) and, when readable, pg_file_settings (what the next
    reload / restart will use), so that a change waiting for a restart counts as done."""
    names = list(want)
    rows = conn.execute(templates.load("params/settings.sql"), {"names": names}).fetchall()
    found = {r[0]: r for r in rows}
    unknown = [n for n in want if n not in found]
    if unknown:
        raise NotFound(f"unknown server parameter(s): {', '.join(unknown)}")
    files: dict[str, str] = {}
    readable = conn.execute(
        "SELECT pg_catalog.has_function_privilege("
        "'pg_catalog.pg_show_all_file_settings()', 'EXECUTE')"
    ).fetchone()[0]
    if readable:
        files = dict(
            conn.execute(templates.load("params/file_settings.sql"), {"names": names}).fetchall()
        )
    statuses = []
    for name, value in want.items():
        _, setting, unit, context, source, pending = found[name]
        in_sync, to_set = _compare(name, value, setting, unit)
        configured = files.get(name)
        waiting = False
        if not in_sync and configured is not None:
            # Set in the config file but not in effect yet (restart / reload pending).
            waiting, _ = _compare(name, value, configured, unit)
        statuses.append(
            ParamStatus(
                name=name,
                desired=value,
                actual=setting,
                to_set=to_set,
                apply_type="static" if context == "postmaster" else "dynamic",
                source=source,
                in_sync=in_sync or waiting,
                pending_restart=bool(pending) or (waiting and context == "postmaster"),
                modifiable=context != "internal",
                configured=configured,
            )
        )
    return ParamsReport("postgresql", conn.info.dbname, None, tuple(statuses))


def pg_plan(report: ParamsReport) -> Plan:
    """``ALTER SYSTEM SET`` per differing parameter (outside a transaction), then reload."""
    changes = report.changes
    locked = [p.name for p in changes if not p.modifiable]
    if locked:
        raise Precondition(f"parameter(s) cannot be changed: {', '.join(locked)}")
    steps = [
        Step(
            sql=templates.render(
                "params/alter_system.sql.j2",
                name=tuple(p.name.split(".")),
                values=_split(p.to_set) if p.name in LIST_PARAMS else [p.to_set],
            ),
            autocommit=True,  # ALTER SYSTEM cannot run inside a transaction block
            comment=f"{p.name}: {p.actual} -> {p.to_set} ({p.apply_type})",
        )
        for p in changes
    ]
    if steps:
        steps.append(
            Step(
                sql=templates.load("params/reload.sql").strip(), comment="reload the configuration"
            )
        )
    static = [p.name for p in changes if p.apply_type == "static"]
    notes = (
        (f"static parameter(s) {', '.join(static)} take effect after a server restart",)
        if static
        else ()
    )
    waiting = [p.name for p in report.params if p.pending_restart]
    summary = (
        f"set {len(changes)} server parameter(s): {', '.join(p.name for p in changes)}"
        if changes
        else "server parameters already match the desired settings"
        + (f" (pending a restart: {', '.join(waiting)})" if waiting else "")
    )
    return Plan("params apply", summary, tuple(steps), notes)


def pg_result(conn: psycopg.Connection, report: ParamsReport, applied: bool) -> ParamsResult:
    """What is left after ALTER SYSTEM: parameters waiting for a server restart."""
    waiting = {p.name for p in report.params if p.pending_restart}
    if applied:
        after = pg_status(conn, {p.name: p.desired for p in report.params})
        waiting |= {p.name for p in after.params if p.pending_restart}
        waiting |= {p.name for p in report.changes if p.apply_type == "static"}
    return ParamsResult(
        report.where, report.target, None, report.changes, pending_restart=tuple(sorted(waiting))
    )


def check_alter_system_privilege(conn: psycopg.Connection, names: list[str]) -> None:
    """ALTER SYSTEM needs superuser or (PostgreSQL 15+) GRANT ALTER SYSTEM ON PARAMETER."""
    query = (
        "params/privilege.sql"
        if conn.info.server_version >= 150000
        else "params/privilege_legacy.sql"
    )
    row = conn.execute(templates.load(query), {"names": names}).fetchone()
    missing = list(row[0] or [])
    if missing:
        raise Precondition(
            f"role {conn.info.user} may not run ALTER SYSTEM for {', '.join(missing)}: "
            "it needs superuser or GRANT ALTER SYSTEM ON PARAMETER (PostgreSQL 15+)",
            hint="connect as a superuser (--dsn), or, as one: GRANT ALTER SYSTEM ON PARAMETER "
            f"{', '.join(missing)} TO {conn.info.user}; on Aurora, set cluster_id in the "
            "profile so the DB cluster parameter group is used instead",
        )
