"""What ``auroractl health`` reports: levels, sections, findings, thresholds.

Imported by every other module of the package and importing none of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auroractl.errors import InvalidInput

if TYPE_CHECKING:
    import psycopg

OK, WARN, CRIT, UNKNOWN = "OK", "WARN", "CRIT", "UNKNOWN"
# Nagios plugin exit codes.
EXIT_CODES = {OK: 0, WARN: 1, CRIT: 2, UNKNOWN: 3}
# Problems found outrank "could not check": a CRIT is reported even when a section
# could not run; UNKNOWN only when nothing worse was seen.
_SEVERITY = {OK: 0, UNKNOWN: 1, WARN: 2, CRIT: 3}

SECTIONS = (
    "connections",
    "locks",
    "top_queries",
    "conflicts",
    "cache",
    "vacuum",
    "indexes",
    "sequences",
    "storage",
    "partitions",
    "settings",
    "serverless",
    "cloudwatch",
)

# [health] keys of auroractl.toml and their defaults (documented in the README).
DEFAULTS: dict[str, float] = {
    "connections_warn_pct": 80,
    "connections_crit_pct": 95,
    "idle_in_transaction_warn_seconds": 300,
    "idle_in_transaction_crit_seconds": 1800,
    "long_query_seconds": 5,
    "long_query_crit_seconds": 300,
    "long_transaction_warn_seconds": 600,
    "long_transaction_crit_seconds": 3600,
    "lock_wait_warn_seconds": 5,
    "lock_wait_crit_seconds": 60,
    "top_queries_limit": 5,
    "slow_query_mean_ms": 5000,
    "slow_query_min_calls": 10,
    "deadlocks_warn": 1,
    "conflicts_warn": 1,
    "temp_bytes_warn_mb": 10240,
    "cache_hit_warn_pct": 99,
    "cache_hit_crit_pct": 95,
    "cache_min_blocks": 10000,
    "xid_age_warn_pct": 50,
    "xid_age_crit_pct": 75,
    "dead_tuples_min": 10000,
    "dead_tuples_warn_pct": 20,
    "unused_index_min_mb": 10,
    "sequence_warn_pct": 80,
    "sequence_crit_pct": 95,
    "bloat_warn_pct": 50,
    "bloat_min_mb": 100,
    "default_rows_warn": 1,
    "track_activity_query_size_min": 4096,
    "cloudwatch_hours": 3,
    "acu_pinned_pct": 95,
    "acu_pinned_share_pct": 50,
    "query_chars": 200,
}

SETTINGS_READ = (
    "max_connections",
    "superuser_reserved_connections",
    "autovacuum_freeze_max_age",
    "shared_preload_libraries",
    "track_activity_query_size",
    "log_min_duration_statement",
    "block_size",
)

PGSS_HELP = (
    "On Aurora: pg_stat_statements must be in shared_preload_libraries of the DB cluster "
    "parameter group (the default group has it; a custom group needs it added and a "
    "reboot), then run CREATE EXTENSION pg_stat_statements; in this database as the master "
    "user. On plain PostgreSQL: add it to shared_preload_libraries in postgresql.conf (or "
    "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'), restart the server, "
    "then CREATE EXTENSION pg_stat_statements;"
)


@dataclass(frozen=True)
class Finding:
    status: str
    message: str
    object: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    status: str
    summary: str
    findings: tuple[Finding, ...] = ()
    thresholds: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HealthReport:
    status: str
    exit_code: int
    checked_at: dt.datetime
    target: str
    sections: tuple[Section, ...]
    meta: dict[str, Any]


@dataclass(frozen=True)
class Prelude:
    """What every section may need, read in the first round trip."""

    database: str
    checked_at: dt.datetime
    today: dt.date
    server_version: str
    own_pid: int
    settings: dict[str, str]
    pgss_schema: str | None

    def setting_int(self, name: str, default: int = 0) -> int:
        try:
            return int(self.settings.get(name, default))
        except (TypeError, ValueError):
            return default


@dataclass(frozen=True)
class TopQuery:
    queryid: int | None
    query: str
    calls: int
    total_ms: float
    mean_ms: float
    pct_total: float | None
    rows_per_call: float
    hit_pct: float | None
    temp_blks_written: int


class CountingConnection:
    """Wraps a psycopg connection and counts ``execute`` calls (= SQL round trips)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.round_trips = 0

    def execute(self, query: str, params: Mapping[str, Any] | None = None):  # type: ignore[no-untyped-def]
        self.round_trips += 1
        return self.conn.execute(query, params)


# ---------------------------------------------------------------- thresholds


def thresholds(raw: Mapping[str, Any] | None) -> dict[str, float]:
    """Defaults overlaid with ``[health]``; unknown keys and non-numbers are input errors."""
    values = dict(DEFAULTS)
    for key, value in (raw or {}).items():
        if key not in DEFAULTS:
            raise InvalidInput(
                f"unknown [health] setting {key!r} in auroractl.toml",
                hint="known settings: " + ", ".join(sorted(DEFAULTS)),
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidInput(f"[health] {key} = {value!r} must be a number >= 0")
        values[key] = value
    return values


def parse_only(text: str | None) -> tuple[str, ...]:
    """``--only connections,locks`` -> validated section names (all when empty)."""
    if not text:
        return SECTIONS
    names = tuple(dict.fromkeys(n.strip().replace("-", "_") for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise InvalidInput(
            f"--only: unknown section(s) {', '.join(unknown) or text!r}",
            hint="sections: " + ", ".join(SECTIONS),
        )
    return names


def worst(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda s: _SEVERITY[s], default=OK)


TITLES = {
    "connections": "Connections",
    "locks": "Long queries, transactions and blocking",
    "top_queries": "Top queries (pg_stat_statements)",
    "conflicts": "Deadlocks, conflicts and temp files",
    "cache": "Cache hit ratio",
    "vacuum": "Vacuum and wraparound",
    "indexes": "Indexes",
    "sequences": "Sequences and integer keys",
    "storage": "Storage and bloat",
    "partitions": "Partitions",
    "settings": "Settings",
    "serverless": "Serverless v2 capacity and auto-pause",
    "cloudwatch": "CloudWatch",
}
