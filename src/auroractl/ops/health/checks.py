"""The catalog sections of ``auroractl health``: one function and at most one query each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from auroractl import templates
from auroractl.ops.health.model import (
    CRIT,
    OK,
    PGSS_HELP,
    TITLES,
    UNKNOWN,
    WARN,
    CountingConnection,
    Finding,
    Prelude,
    Section,
    worst,
)
from auroractl.ops.health.queries import fetch_top_queries, ranked
from auroractl.ops.shared.catalog import shell_table, sql_name

XID_LIMIT = 2**31
MB = 1024 * 1024

Th = Mapping[str, float]


def _pick(th: Th, *keys: str) -> dict[str, float]:
    return {k: th[k] for k in keys}


def _level(value: float, warn: float, crit: float) -> str:
    return CRIT if value >= crit else WARN if value >= warn else OK


def _section(name: str, findings: list[Finding], summary: str, thresholds: dict, **data: Any):
    status = worst(f.status for f in findings if f.status != OK)
    return Section(name, TITLES[name], status, summary, tuple(findings), thresholds, data)


def _size(n: float | None) -> str:
    if n is None:
        return "?"
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n}"


def _secs(s: float) -> str:
    s = float(s)
    if s < 120:
        return f"{s:.0f}s"
    if s < 7200:
        return f"{s / 60:.0f}min"
    return f"{s / 3600:.1f}h"


# ---------------------------------------------------------------- 1 connections


def connections(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    idle_warn = th["idle_in_transaction_warn_seconds"]
    row = conn.execute(
        templates.load("health/connections.sql"),
        {"idle_seconds": idle_warn, "query_chars": int(th["query_chars"])},
    ).fetchone()
    total, by_state, idle = row
    max_conn = ctx.setting_int("max_connections", 100)
    pct = round(100.0 * total / max(max_conn, 1), 1)
    findings: list[Finding] = []
    level = _level(pct, th["connections_warn_pct"], th["connections_crit_pct"])
    if level != OK:
        findings.append(
            Finding(level, f"{total} of max_connections {max_conn} in use ({pct}%)", None)
        )
    for s in idle:
        status = CRIT if s["seconds"] >= th["idle_in_transaction_crit_seconds"] else WARN
        findings.append(
            Finding(
                status,
                f"pid {s['pid']} ({s['user']}, {s['application'] or 'no application'}) "
                f"{s['state']} for {_secs(s['seconds'])}: {s['query']}",
                f"pid {s['pid']}",
                s,
            )
        )
    summary = f"{total} of {max_conn} connections ({pct}%)"
    if idle:
        summary += f"; {len(idle)} idle in transaction >= {_secs(idle_warn)}"
    return _section(
        "connections",
        findings,
        summary,
        _pick(
            th,
            "connections_warn_pct",
            "connections_crit_pct",
            "idle_in_transaction_warn_seconds",
            "idle_in_transaction_crit_seconds",
        ),
        total=total,
        max_connections=max_conn,
        used_pct=pct,
        by_state=by_state,
        idle_in_transaction=idle,
    )


# ---------------------------------------------------------------- 2 locks


def _tree(sessions: dict[int, dict], edges: dict[int, list[int]]) -> list[dict]:
    """Blocking chains as nested nodes: roots block others and wait on nobody we saw."""
    blocked = {p for children in edges.values() for p in children}
    roots = [p for p in edges if p not in blocked] or sorted(edges)[:1]  # a cycle: start anywhere

    def node(pid: int, seen: frozenset[int]) -> dict:
        s = sessions.get(pid, {})
        children = [] if pid in seen else edges.get(pid, [])
        return {
            "pid": pid,
            "state": s.get("state"),
            "user": s.get("user"),
            "seconds": s.get("query_seconds"),
            "query": s.get("query"),
            "blocks": [node(c, seen | {pid}) for c in sorted(children)],
        }

    return [node(r, frozenset()) for r in sorted(roots)]


def tree_lines(nodes: list[dict], depth: int = 0) -> list[str]:
    """The blocking tree as indented text lines."""
    lines = []
    for n in nodes:
        secs = f", {_secs(n['seconds'])}" if n.get("seconds") is not None else ""
        prefix = "    " * (depth - 1) + "└── " if depth else ""
        lines.append(
            f"{prefix}pid {n['pid']} ({n.get('state') or '?'}{secs}): {n.get('query') or ''}"
        )
        lines.extend(tree_lines(n["blocks"], depth + 1))
    return lines


_LOCK_COLUMNS = (
    "pid",
    "backend_type",
    "user",
    "database",
    "application",
    "state",
    "wait_event_type",
    "wait_event",
    "query_seconds",
    "xact_seconds",
    "query",
    "blocked_by",
)


def _session_finding(
    s: dict, seconds: float, limits: tuple[float, float], what: str, details: dict
) -> Finding | None:
    """A finding about session ``s`` once ``seconds`` reaches the (warn, crit) limits."""
    if seconds < limits[0]:
        return None
    level = _level(seconds, *limits)
    return Finding(level, f"pid {s['pid']} {what}: {s['query']}", f"pid {s['pid']}", details)


def _lock_wait(s: dict, th: Th) -> Finding | None:
    wait = s["query_seconds"] or 0.0
    what = f"waits {_secs(wait)} on a lock held by pid(s) {', '.join(map(str, s['blocked_by']))}"
    limits = th["lock_wait_warn_seconds"], th["lock_wait_crit_seconds"]
    return _session_finding(s, wait, limits, what, {"blocked_by": s["blocked_by"], "seconds": wait})


def _long_query(s: dict, th: Th) -> Finding | None:
    if s["state"] != "active":
        return None
    seconds = s["query_seconds"] or 0
    limits = th["long_query_seconds"], th["long_query_crit_seconds"]
    details = {"seconds": s["query_seconds"], "user": s["user"]}
    return _session_finding(s, seconds, limits, f"query running {_secs(seconds)}", details)


def _long_transaction(s: dict, th: Th) -> Finding | None:
    seconds = s["xact_seconds"] or 0
    limits = th["long_transaction_warn_seconds"], th["long_transaction_crit_seconds"]
    what = f"transaction open {_secs(seconds)} ({s['state']})"
    details = {"seconds": s["xact_seconds"], "user": s["user"]}
    return _session_finding(s, seconds, limits, what, details)


def locks(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    rows = conn.execute(
        templates.load("health/locks.sql"),
        {
            "query_chars": int(th["query_chars"]),
            "long_query_seconds": th["long_query_seconds"],
            "long_transaction_seconds": th["long_transaction_warn_seconds"],
        },
    ).fetchall()
    sessions = {r[0]: dict(zip(_LOCK_COLUMNS, r, strict=True)) for r in rows}
    findings: list[Finding] = []
    edges: dict[int, list[int]] = {}
    long_queries = long_xacts = 0
    for s in sessions.values():
        for blocker in s["blocked_by"] or []:
            edges.setdefault(blocker, []).append(s["pid"])
        client = s["backend_type"] == "client backend"
        # A session waiting on a lock is reported as waiting, not as a long query.
        if s["blocked_by"]:
            query = None
            findings += [f for f in [_lock_wait(s, th)] if f]
        else:
            query = _long_query(s, th) if client else None
        xact = _long_transaction(s, th) if client else None
        findings += [f for f in (query, xact) if f]
        long_queries += query is not None
        long_xacts += xact is not None
    chains = _tree(sessions, edges) if edges else []
    blocked_count = sum(1 for s in sessions.values() if s["blocked_by"])
    summary = (
        f"{long_queries} query(ies) > {_secs(th['long_query_seconds'])}, "
        f"{long_xacts} transaction(s) > {_secs(th['long_transaction_warn_seconds'])}, "
        f"{blocked_count} blocked session(s)"
    )
    return _section(
        "locks",
        findings,
        summary,
        _pick(
            th,
            "long_query_seconds",
            "long_query_crit_seconds",
            "long_transaction_warn_seconds",
            "long_transaction_crit_seconds",
            "lock_wait_warn_seconds",
            "lock_wait_crit_seconds",
        ),
        blocking_chains=chains,
        sessions=list(sessions.values()),
    )


# ---------------------------------------------------------------- 3 top queries


def top_queries(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    import psycopg

    limit = int(th["top_queries_limit"])
    thresholds = _pick(th, "top_queries_limit", "slow_query_mean_ms", "slow_query_min_calls")
    if not ctx.pgss_schema:
        return Section(
            "top_queries",
            TITLES["top_queries"],
            UNKNOWN,
            "could not check: pg_stat_statements is not installed in this database",
            (Finding(UNKNOWN, PGSS_HELP, "pg_stat_statements"),),
            thresholds,
        )
    try:
        rows, total_ms, statements = fetch_top_queries(
            conn, ctx.pgss_schema, limit, int(th["query_chars"])
        )
    except psycopg.errors.ObjectNotInPrerequisiteState as exc:
        return Section(
            "top_queries",
            TITLES["top_queries"],
            UNKNOWN,
            f"could not check: {' '.join(str(exc).split())}",
            (Finding(UNKNOWN, PGSS_HELP, "pg_stat_statements"),),
            thresholds,
        )
    data = {by: ranked(rows, by, limit) for by in ("total", "mean", "calls")}
    findings = [
        Finding(
            WARN,
            f"mean {q.mean_ms:,.0f} ms over {q.calls:,} calls: {q.query}",
            f"queryid {q.queryid}",
            {"mean_ms": q.mean_ms, "calls": q.calls},
        )
        for q in data["mean"]
        if q.mean_ms >= th["slow_query_mean_ms"] and q.calls >= th["slow_query_min_calls"]
    ]
    summary = f"{statements} statement(s), {total_ms / 1000:,.1f} s total execution time"
    return _section(
        "top_queries",
        findings,
        summary,
        thresholds,
        database_total_ms=round(total_ms, 3),
        statements=statements,
        by_total=data["total"],
        by_mean=data["mean"],
        by_calls=data["calls"],
    )


# ---------------------------------------------------------------- 4 conflicts


def conflicts(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    row = conn.execute(templates.load("health/conflicts.sql")).fetchone()
    deadlocks, conflicts_, temp_files, temp_bytes, reset, started = row
    since = reset or started
    findings = []
    if deadlocks >= th["deadlocks_warn"]:
        findings.append(Finding(WARN, f"{deadlocks} deadlock(s) since {since:%Y-%m-%d %H:%M}"))
    if conflicts_ >= th["conflicts_warn"]:
        findings.append(
            Finding(WARN, f"{conflicts_} recovery conflict(s) (queries cancelled on a replica)")
        )
    if temp_bytes >= th["temp_bytes_warn_mb"] * MB:
        findings.append(
            Finding(
                WARN,
                f"{temp_files:,} temp file(s), {_size(temp_bytes)} written: "
                "sorts/hashes spilling to disk (work_mem)",
            )
        )
    summary = (
        f"{deadlocks} deadlocks, {conflicts_} conflicts, {temp_files:,} temp files "
        f"({_size(temp_bytes)}) since {since:%Y-%m-%d %H:%M}"
    )
    return _section(
        "conflicts",
        findings,
        summary,
        _pick(th, "deadlocks_warn", "conflicts_warn", "temp_bytes_warn_mb"),
        deadlocks=deadlocks,
        conflicts=conflicts_,
        temp_files=temp_files,
        temp_bytes=temp_bytes,
        since=since,
    )


# ---------------------------------------------------------------- 5 cache


def cache(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    heap_hit, heap_read, idx_hit, idx_read = conn.execute(
        templates.load("health/cache.sql")
    ).fetchone()
    findings = []
    ratios: dict[str, float | None] = {}
    for label, hit, read in (("tables", heap_hit, heap_read), ("indexes", idx_hit, idx_read)):
        total = hit + read
        ratio = round(100.0 * hit / total, 2) if total else None
        ratios[label] = ratio
        if ratio is None or total < th["cache_min_blocks"]:
            continue
        if ratio < th["cache_hit_crit_pct"]:
            findings.append(Finding(CRIT, f"{label} cache hit ratio {ratio}%"))
        elif ratio < th["cache_hit_warn_pct"]:
            findings.append(Finding(WARN, f"{label} cache hit ratio {ratio}%"))

    def fmt(v: float | None) -> str:
        return "n/a" if v is None else f"{v}%"

    summary = f"tables {fmt(ratios['tables'])}, indexes {fmt(ratios['indexes'])}"
    if heap_hit + heap_read + idx_hit + idx_read < th["cache_min_blocks"]:
        summary += " (too few block accesses to judge)"
    return _section(
        "cache",
        findings,
        summary,
        _pick(th, "cache_hit_warn_pct", "cache_hit_crit_pct", "cache_min_blocks"),
        tables_hit_pct=ratios["tables"],
        indexes_hit_pct=ratios["indexes"],
        blocks={
            "heap_hit": heap_hit,
            "heap_read": heap_read,
            "idx_hit": idx_hit,
            "idx_read": idx_read,
        },
    )


# ---------------------------------------------------------------- 6 vacuum


def vacuum(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    databases, oldest, dead = conn.execute(
        templates.load("health/vacuum.sql"),
        {"dead_min": int(th["dead_tuples_min"]), "dead_pct": th["dead_tuples_warn_pct"]},
    ).fetchone()
    freeze_max = ctx.setting_int("autovacuum_freeze_max_age", 200_000_000)
    findings = []
    for d in databases:
        # Multixact IDs wrap around the same way: judge whichever is closer.
        pct = round(100.0 * max(d["xid_age"], d["mxid_age"]) / XID_LIMIT, 1)
        d["pct_of_wraparound"] = pct
        level = _level(pct, th["xid_age_warn_pct"], th["xid_age_crit_pct"])
        if level != OK:
            findings.append(
                Finding(
                    level,
                    f"database {d['database']}: age(datfrozenxid) {d['xid_age']:,}, "
                    f"mxid_age(datminmxid) {d['mxid_age']:,}: {pct}% of the 2^31 wraparound "
                    f"limit (autovacuum_freeze_max_age {freeze_max:,}); VACUUM (FREEZE) the "
                    "oldest tables",
                    d["database"],
                    d,
                )
            )
    for t in dead:
        findings.append(
            Finding(
                WARN,
                f"{t['dead_tuples']:,} dead tuples ({t['dead_pct']}%), last autovacuum "
                f"{t['last_autovacuum'] or 'never'}",
                t["table"],
                t,
            )
        )
    top = databases[0] if databases else {"xid_age": 0, "database": "?"}
    summary = (
        f"oldest database xid age {top['xid_age']:,} ({top['database']}, "
        f"{round(100.0 * top['xid_age'] / XID_LIMIT, 1)}% of 2^31; "
        f"autovacuum_freeze_max_age {freeze_max:,}); {len(dead)} table(s) with many dead tuples"
    )
    return _section(
        "vacuum",
        findings,
        summary,
        _pick(
            th, "xid_age_warn_pct", "xid_age_crit_pct", "dead_tuples_min", "dead_tuples_warn_pct"
        ),
        databases=databases,
        oldest_tables=oldest,
        dead_tuples=dead,
        autovacuum_freeze_max_age=freeze_max,
    )


# ---------------------------------------------------------------- 7 indexes


def indexes(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    row = conn.execute(
        templates.load("health/indexes.sql"),
        {"unused_min_bytes": int(th["unused_index_min_mb"] * MB)},
    ).fetchone()
    count, unused_count, unused, duplicate, invalid, fks, reset = row
    findings = []
    for i in invalid:
        what = "partitioned index with invalid partitions" if i["partitioned"] else "INVALID index"
        findings.append(
            Finding(
                WARN,
                f"{what} on {i['table_name']} (a failed CREATE INDEX CONCURRENTLY?): "
                "drop it and build it again",
                i["index_name"],
                i,
            )
        )
    for d in duplicate:
        findings.append(
            Finding(
                WARN,
                f"duplicate of {d['covered_by']} on {d['table_name']} ({_size(d['bytes'])})",
                d["index_name"],
                d,
            )
        )
    for u in unused:
        findings.append(
            Finding(
                WARN,
                f"never scanned since stats reset ({_size(u['bytes'])}) on {u['table_name']}",
                u["index_name"],
                u,
            )
        )
    for f in fks:
        findings.append(
            Finding(
                WARN,
                f"foreign key {f['constraint_name']} ({f['columns']}) -> {f['referenced']} "
                "has no index on the referencing columns",
                f["table_name"],
                f,
            )
        )
    summary = (
        f"{count} indexes: {unused_count} unused, {len(duplicate)} duplicate, "
        f"{len(invalid)} invalid; {len(fks)} foreign key(s) without an index"
    )
    return _section(
        "indexes",
        findings,
        summary,
        _pick(th, "unused_index_min_mb"),
        indexes=count,
        unused_count=unused_count,
        stats_reset=reset,
    )


# ---------------------------------------------------------------- 8 sequences


def sequences(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    count, unreadable, top = conn.execute(
        templates.load("health/sequences.sql"), {"top": 20}
    ).fetchone()
    findings = []
    for s in top:
        level = _level(float(s["used_pct"]), th["sequence_warn_pct"], th["sequence_crit_pct"])
        if level == OK:
            continue
        owner = (
            f" ({s['table_name']}.{s['column_name']} {s['column_type']})" if s["table_name"] else ""
        )
        findings.append(
            Finding(
                level,
                f"{s['used_pct']}% used: {s['last_value']:,} of {s['max_value']:,}{owner}",
                s["sequence_name"],
                s,
            )
        )
    highest = f"; highest {top[0]['used_pct']}% ({top[0]['sequence_name']})" if top else ""
    summary = f"{count} sequence(s){highest}"
    if unreadable:
        summary += f"; {unreadable} not readable by this user"
    return _section(
        "sequences",
        findings,
        summary,
        _pick(th, "sequence_warn_pct", "sequence_crit_pct"),
        sequences=count,
        top=[s for s in top[:10]],
    )


# ---------------------------------------------------------------- 9 storage


def storage(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    size, tables, idx, bloated = conn.execute(
        templates.load("health/storage.sql"),
        {
            "top": 10,
            "bloat_min_bytes": int(th["bloat_min_mb"] * MB),
            "bloat_pct": th["bloat_warn_pct"],
        },
    ).fetchone()
    findings = [
        Finding(
            WARN,
            f"estimated bloat {_size(b['bloat_bytes'])} ({b['bloat_pct']}% of "
            f"{_size(b['bytes'])}): VACUUM FULL / pg_repack to reclaim",
            b["name"],
            b,
        )
        for b in bloated
    ]
    biggest = f"; largest table {tables[0]['name']} {_size(tables[0]['bytes'])}" if tables else ""
    return _section(
        "storage",
        findings,
        f"database {_size(size)}{biggest}",
        _pick(th, "bloat_warn_pct", "bloat_min_mb"),
        database_bytes=size,
        largest_tables=tables,
        largest_indexes=idx,
        bloated=bloated,
    )


# ---------------------------------------------------------------- 10 partitions


def partitions(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    from auroractl.ops import partition as part

    cap = max(int(th["default_rows_warn"]), 1) * 1000
    rows = conn.execute(templates.load("health/partitions.sql"), {"cap": cap}).fetchall()
    findings: list[Finding] = []
    tables = []
    for oid, schema, name, strat, natts, key, key_type, parts_json, default_rows in rows:
        label = sql_name(schema, name)
        strategy = part.STRATEGIES.get(strat, strat)
        info: dict[str, Any] = {
            "table": label,
            "strategy": strategy,
            "key": key,
            "partitions": len(parts_json),
        }
        if natts == 1 and key_type:
            parts = tuple(part.partition_info(tuple(p), key_type) for p in parts_json)
            parent = part.Parent(oid, schema, name, strategy, key, key_type, ctx.today, parts)
            interval = part.interval_of(parent) if parent.temporal and strategy == "range" else None
            info["interval"] = interval
            if interval in ("year", "month"):
                _coverage(parent, interval, info, findings)
        if default_rows is not None:
            info["default_rows"] = default_rows
            if default_rows >= th["default_rows_warn"]:
                shown = f"{default_rows:,}" + ("+" if default_rows >= cap else "")
                findings.append(
                    Finding(
                        WARN,
                        f"{shown} row(s) in the DEFAULT partition: create the missing "
                        "partitions (auroractl partition ensure --table "
                        f"{shell_table(schema, name)})",
                        label,
                        {"default_rows": default_rows},
                    )
                )
        tables.append(info)
    summary = f"{len(tables)} partitioned table(s)"
    return _section("partitions", findings, summary, _pick(th, "default_rows_warn"), tables=tables)


def _coverage(parent: Any, interval: str, info: dict, findings: list[Finding]) -> None:
    from auroractl.ops import partition as part

    current = part.period_start(parent.today, interval)
    nxt = part.add_period(current, interval)
    wanted = [current, nxt]

    def covered(day: dt.date) -> bool:
        for r in parent.ranges:
            lo, hi = part.as_date(r.lower), part.as_date(r.upper)
            if (lo is None or lo <= day) and (hi is None or day < hi):
                return True
        return False

    info["current_period_covered"] = covered(wanted[0])
    info["next_period_covered"] = covered(wanted[1])
    period = "year" if interval == "year" else "month"
    label, arg = sql_name(parent.schema, parent.name), parent.shell
    if not info["current_period_covered"]:
        has_default = parent.default is not None
        findings.append(
            Finding(
                WARN if has_default else CRIT,
                f"no partition for the current {period} ({current.isoformat()}): "
                + ("rows go to DEFAULT" if has_default else "inserts fail")
                + f"; run auroractl partition ensure --table {arg}",
                label,
                {"period_start": current},
            )
        )
    if not info["next_period_covered"]:
        findings.append(
            Finding(
                WARN,
                f"no partition for next {period} ({nxt.isoformat()}); run "
                f"auroractl partition ensure --ahead 1 --table {arg}",
                label,
                {"period_start": nxt},
            )
        )


# ---------------------------------------------------------------- 11 settings


def settings(conn: CountingConnection, ctx: Prelude, th: Th) -> Section:
    s = ctx.settings
    findings = []
    preload = [p.strip() for p in s.get("shared_preload_libraries", "").split(",")]
    if "pg_stat_statements" not in preload:
        findings.append(
            Finding(
                WARN,
                "pg_stat_statements is not in shared_preload_libraries. " + PGSS_HELP,
                "shared_preload_libraries",
            )
        )
    size = ctx.setting_int("track_activity_query_size", 1024)
    if size < th["track_activity_query_size_min"]:
        findings.append(
            Finding(
                WARN,
                f"track_activity_query_size is {size}: long queries are cut in pg_stat_activity "
                f"(recommended >= {int(th['track_activity_query_size_min'])}; "
                "static, needs a reboot)",
                "track_activity_query_size",
            )
        )
    if s.get("log_min_duration_statement", "-1") == "-1":
        findings.append(
            Finding(
                WARN,
                "log_min_duration_statement is -1: slow queries are not logged (recommended "
                "5000 ms, the slow-query threshold)",
                "log_min_duration_statement",
            )
        )
    values = {
        k: s.get(k)
        for k in (
            "shared_preload_libraries",
            "track_activity_query_size",
            "log_min_duration_statement",
            "max_connections",
        )
    }
    return _section(
        "settings",
        findings,
        f"{3 - len(findings)} of 3 recommendations met" if len(findings) <= 3 else "",
        _pick(th, "track_activity_query_size_min"),
        settings=values,
    )


CHECKS: dict[str, Callable[[CountingConnection, Prelude, Th], Section]] = {
    "connections": connections,
    "locks": locks,
    "top_queries": top_queries,
    "conflicts": conflicts,
    "cache": cache,
    "vacuum": vacuum,
    "indexes": indexes,
    "sequences": sequences,
    "storage": storage,
    "partitions": partitions,
    "settings": settings,
}
