"""Query-cache candidates (requirements 2.3) and publishing the dashboard to Redis."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import ConnectionFailed, InvalidInput, Precondition

if TYPE_CHECKING:
    import psycopg

KEY_PREFIX = "dashboard:empresa:"
_TABLE = re.compile(r'\b(?:from|join)\s+((?:"[^"]+"|\w+)(?:\.(?:"[^"]+"|\w+))?)', re.I)


@dataclass(frozen=True)
class Candidate:
    queryid: str
    calls: int
    total_ms: float
    mean_ms: float
    rows_per_call: float
    hit_ratio: float | None
    tables: tuple[str, ...]
    table_writes: int
    query: str


@dataclass(frozen=True)
class Published:
    keys: int
    removed: int
    ttl_s: int | None
    source: str


def candidates(conn: psycopg.Connection, limit: int = 20) -> list[Candidate]:
    """Read-only statements by time a cache would save, with how often their tables change."""
    if limit < 1:
        raise InvalidInput(f"--limit {limit} must be at least 1")
    if not conn.execute("SELECT to_regclass('pg_stat_statements') IS NOT NULL").fetchone()[0]:
        raise Precondition(
            "pg_stat_statements is not installed in this database: "
            "CREATE EXTENSION pg_stat_statements (on Aurora it is preloaded "
            "by the default cluster parameter group)"
        )
    writes = {}
    for name, schema, count in conn.execute(templates.load("cache/table_writes.sql")):
        writes[name] = writes.get(name, 0) + count
        writes[f"{schema}.{name}"] = count
    out = []
    for qid, calls, total, mean, rows, hit, query in conn.execute(
        templates.load("cache/candidates.sql"), {"limit": limit}
    ):
        tables = tuple(
            dict.fromkeys(
                t.replace('"', "") for t in _TABLE.findall(query) if t.replace('"', "") in writes
            )
        )
        out.append(
            Candidate(
                qid,
                calls,
                round(total, 2),
                round(mean, 3),
                round(rows / calls, 1) if calls else 0.0,
                None if hit is None else round(hit, 4),
                tables,
                sum(writes[t] for t in tables),
                " ".join(query.split())[:300],
            )
        )
    return out


def dashboard_rows(conn: psycopg.Connection, view: tuple[str, str]) -> list[dict[str, Any]]:
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(templates.render("cache/select_all.sql.j2", view=view)).fetchall()
    return [{str(k): _plain(v) for k, v in r.items()} for r in rows]


def _plain(value: Any) -> Any:
    """A value as JSON holds it: numbers as numbers, dates as ISO text."""
    import datetime as dt
    import decimal

    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_publish(redis_url: str, ttl: int | None, what: str = "--redis") -> None:
    """The Redis URL and TTL, checked before any connection (to the database or Redis) so
    that a refresh never commits and then fails to publish. The URL is never echoed: it
    may hold a password."""
    check_ttl(ttl)
    problem = _redis_url_problem(redis_url)
    if problem:
        raise InvalidInput(
            f"{what} is not a Redis URL like redis://host:6379/0: {problem}",
            hint="put a password in AURORACTL_REDIS_URL, not on the command line",
        )


def check_ttl(ttl: int | None) -> None:
    if ttl is not None and ttl < 1:
        raise InvalidInput(f"--ttl {ttl} must be a positive number of seconds")


def _redis_url_problem(text: str) -> str | None:
    from urllib.parse import urlsplit

    if any(c.isspace() for c in text):
        return "it contains whitespace"
    try:
        url = urlsplit(text)
        port = url.port  # ValueError unless a number from 0 to 65535
    except ValueError as exc:
        return str(exc)
    if url.scheme not in REDIS_SCHEMES:
        return f"the scheme must be one of {', '.join(f'{s}://' for s in REDIS_SCHEMES)}"
    if url.scheme == "unix":
        return None if url.path else "it names no socket path"
    if not url.hostname:
        return "it names no host"
    if port == 0:
        return "port 0"
    database = url.path.strip("/")
    if database and not database.isdigit():
        return "the database (its path) must be a number"
    return None


def publish(rows: list[dict[str, Any]], redis_url: str, ttl: int | None, source: str) -> Published:
    """Replace every ``dashboard:empresa:<id>`` key in one MULTI/EXEC transaction.

    Redis runs a transaction's commands with nothing interleaved, so a reader sees either
    the whole previous set or the whole new one.
    """
    import redis

    check_publish(redis_url, ttl)
    client = redis.Redis.from_url(redis_url, socket_timeout=10, socket_connect_timeout=5)
    try:
        existing = {k.decode() for k in client.scan_iter(match=f"{KEY_PREFIX}*", count=1000)}
        new = {f"{KEY_PREFIX}{r['id']}": json.dumps(r, ensure_ascii=False) for r in rows}
        stale = existing - set(new)
        pipe = client.pipeline(transaction=True)
        if stale:
            pipe.delete(*stale)
        for key, value in new.items():
            pipe.set(key, value, ex=ttl)
        pipe.execute()
    except redis.exceptions.ConnectionError as exc:
        raise ConnectionFailed(f"cannot reach Redis: {' '.join(str(exc).split())[:200]}") from None
    finally:
        client.close()
    return Published(len(new), len(stale), ttl, source)
