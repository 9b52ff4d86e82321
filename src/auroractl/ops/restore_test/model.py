"""What a restore test is configured with and what it reports, as frozen data."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from auroractl.errors import InvalidInput
from auroractl.ops.restore_test.verify import Check, Facts, Spec, compare, newest

if TYPE_CHECKING:
    import psycopg

    from auroractl.ops.shared.datamap import DataMap

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d)?\s*$")
_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
RESTORED_DSN_ENV = "AURORACTL_RESTORE_TEST_RESTORED_DSN"  # testing aid, see restored_dsn


def parse_duration(value: str | int | float, what: str) -> dt.timedelta:
    """``90``, ``30s``, ``15min``, ``6h``, ``2d`` -> timedelta."""
    m = _DURATION.match(str(value))
    if not m:
        raise InvalidInput(f"{what} {value!r} is not a duration like 30s, 15min, 6h or 2d")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class RestoreTestConfig:
    """``[restore_test]`` settings (command-line options override them)."""

    spec: Spec = field(default_factory=Spec)
    jobs: int = 2
    compression: int = 0  # pg_dump -Z: the dump is temporary, CPU is better spent elsewhere
    ttl: dt.timedelta = dt.timedelta(hours=6)
    timeout: dt.timedelta = dt.timedelta(hours=3)
    waiter_delay: int = 30
    min_acu: float = 0.5
    max_acu: float = 4.0
    db_subnet_group: str | None = None
    security_groups: tuple[str, ...] | None = None
    cluster_parameter_group: str | None = None
    restored_dsn: str | None = None  # testing aid: where the restored cluster is reached

    @classmethod
    def from_section(
        cls, section: dict[str, Any], data_map: DataMap | None = None, **overrides: Any
    ) -> RestoreTestConfig:
        """``data_map``: the target's map, for what the section leaves out (``Spec``)."""

        def num(key: str, default: float, lo: float, hi: float) -> float:
            value = section.get(key, default)
            if not isinstance(value, int | float) or not lo <= value <= hi:
                raise InvalidInput(f"[restore_test] {key} must be a number in {lo}..{hi}")
            return value

        sgs = section.get("security_groups")
        cfg = cls(
            spec=Spec.from_config(section, data_map),
            jobs=int(num("jobs", min(4, os.cpu_count() or 2), 1, 64)),
            compression=int(num("dump_compression", 0, 0, 9)),
            ttl=parse_duration(section.get("ttl", "6h"), "[restore_test] ttl"),
            timeout=parse_duration(section.get("timeout", "3h"), "[restore_test] timeout"),
            waiter_delay=int(num("waiter_delay", 30, 1, 600)),
            min_acu=float(num("min_acu", 0.5, 0, 256)),
            max_acu=float(num("max_acu", 4, 1, 256)),
            db_subnet_group=section.get("db_subnet_group"),
            security_groups=tuple(sgs) if sgs is not None else None,
            cluster_parameter_group=section.get("cluster_parameter_group"),
            restored_dsn=os.environ.get(RESTORED_DSN_ENV) or section.get("restored_dsn"),
        )
        if cfg.min_acu > cfg.max_acu:
            raise InvalidInput("[restore_test] min_acu must not exceed max_acu")
        return replace(cfg, **{k: v for k, v in overrides.items() if v is not None})


@dataclass(frozen=True)
class RestoreTestReport:
    outcome: str  # passed | failed | error
    backend: str  # local | aurora
    source: str
    restored: str
    restore_from: str  # pg_dump snapshot | snapshot <id> | pitr <time>
    requested_at: dt.datetime
    restore_point: dt.datetime | None
    verified_at: dt.datetime | None
    newest_data: dt.datetime | None
    rto_s: float
    rpo_s: float | None
    timings: dict[str, float]
    checks: tuple[Check, ...]
    kept: bool = False
    torn_down: bool = False
    error: str | None = None
    notes: tuple[str, ...] = ()
    id: int | None = None
    erasures_reapplied: int | None = None  # None: no erasure log configured

    @property
    def failed_checks(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]


@dataclass(frozen=True)
class RestoreTestRow:
    """One row of the restore-test history."""

    id: int
    started_at: dt.datetime
    finished_at: dt.datetime
    backend: str
    source: str
    restored: str | None
    outcome: str
    rto_s: float | None
    rpo_s: float | None
    checks_failed: int
    error: str | None


@dataclass(frozen=True)
class Leftover:
    """A copy left behind (by --keep or a killed run), as `cleanup` found it."""

    kind: str  # database | cluster
    name: str
    expires_at: dt.datetime | None
    expired: bool
    action: str  # would drop | would delete | dropped | deleted | kept (...)
    instances: tuple[str, ...] = ()  # Aurora: the cluster's members, deleted first


@dataclass(frozen=True)
class Aftercare:
    """What a run did to its copy once the copy's facts were read — the erasures of the
    erasure log re-applied (``lgpd reapply``, wired by the command) — and its checks."""

    reapplied: int | None = None
    checks: tuple[Check, ...] = ()
    notes: tuple[str, ...] = ()


# Called with a connection to the restored copy, after the copy's facts are collected.
AfterRestore = Callable[["psycopg.Connection"], Aftercare]


@dataclass(frozen=True)
class Started:
    """Who and when: what every report of one run shares."""

    backend: str
    source: str
    restored: str
    requested_at: dt.datetime
    started: float  # time.monotonic() at the request, for the RTO


def begin(backend: str, source: str, restored: str, requested_at: dt.datetime) -> Started:
    return Started(backend, source, restored, requested_at, time.monotonic())


def error_report(run: Started, exc: BaseException) -> RestoreTestReport:
    """The report of a run that could not finish (recorded as outcome ``error``)."""
    return RestoreTestReport(
        outcome="error",
        backend=run.backend,
        source=run.source,
        restored=run.restored,
        restore_from="",
        requested_at=run.requested_at,
        restore_point=None,
        verified_at=None,
        newest_data=None,
        rto_s=round(time.monotonic() - run.started, 3),
        rpo_s=None,
        timings={},
        checks=(),
        error=" ".join(str(exc).split())[:500] or type(exc).__name__,
    )


def verdict(
    run: Started,
    *,
    restore_from: str,
    restore_point: dt.datetime | None,
    source_facts: Facts,
    copy_facts: Facts,
    spec: Spec,
    timings: dict[str, float],
    extra_checks: tuple[Check, ...] = (),
    tolerated_extensions: frozenset[str] = frozenset(),
    notes: tuple[str, ...] = (),
    kept: bool = False,
    aftercare: Aftercare | None = None,
) -> RestoreTestReport:
    """Compare the facts and compute RTO/RPO; ``aftercare``'s checks come last."""
    care = aftercare or Aftercare()
    checks = (
        *extra_checks,
        *compare(source_facts, copy_facts, spec, tolerated_extensions),
        *care.checks,
    )
    newest_data = newest(copy_facts)
    point = newest_data or restore_point
    return RestoreTestReport(
        outcome="failed" if any(c.status == "fail" for c in checks) else "passed",
        backend=run.backend,
        source=run.source,
        restored=run.restored,
        restore_from=restore_from,
        requested_at=run.requested_at,
        restore_point=restore_point,
        verified_at=utcnow(),
        newest_data=newest_data,
        rto_s=round(time.monotonic() - run.started, 3),
        rpo_s=round(max(0.0, (run.requested_at - point).total_seconds()), 3) if point else None,
        timings={k: round(v, 3) for k, v in timings.items()},
        checks=checks,
        kept=kept,
        notes=notes + care.notes,
        erasures_reapplied=care.reapplied,
    )


def expiry_comment(source: str, expires_at: dt.datetime) -> str:
    return f"auroractl restore test of {source}; expires-at={expires_at.isoformat()}"


def parse_expiry(text: str | None) -> dt.datetime | None:
    """The ``expires-at=<iso time>`` in a database comment or tag value; None if absent."""
    m = re.search(r"expires-at=(\S+)", text or "")
    if not m:
        return None
    try:
        value = dt.datetime.fromisoformat(m.group(1))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def settled(found: list[Leftover], status: str) -> list[Leftover]:
    """The leftovers as they stand after a cleanup with this outcome status."""
    if status != "applied":
        return found
    done = {"would drop": "dropped", "would delete": "deleted"}
    return [replace(f, action=done.get(f.action, f.action)) for f in found]
