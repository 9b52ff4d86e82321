"""``partition migrate verify``: counts and checksums of every column per key range."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition_migrate import catalog as cat
from auroractl.ops.partition_migrate._common import T
from auroractl.ops.partition_migrate._common import render as _render
from auroractl.ops.partition_migrate.catalog import qualify
from auroractl.ops.partition_migrate.fill import boundaries, key_params, placeholders

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Difference:
    key: tuple[str, ...]
    in_source: bool
    in_target: bool


@dataclass(frozen=True)
class VerifyResult:
    table: str
    source: str
    target: str
    phase: str
    source_rows: int
    target_rows: int
    ranges: int
    differing_ranges: int
    differences: tuple[Difference, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.differing_ranges == 0 and self.source_rows == self.target_rows


def verify(
    conn: psycopg.Connection, table: str, *, ranges: int = 16, limit: int = 20
) -> VerifyResult:
    """Counts and checksums of every column per key range, original vs twin (or, after the
    swap, new vs retired), in one REPEATABLE READ snapshot; records the outcome."""
    from auroractl.ops.shared.session import maintenance

    if not 1 <= ranges <= 1024:
        raise InvalidInput(f"--ranges {ranges} is out of range (1-1024)")
    if not 1 <= limit <= 10_000:
        raise InvalidInput(f"--limit {limit} is out of range (1-10000)")
    m = cat.find(conn, table)
    if m.phase == "done":
        raise Precondition(f"{m.label} was cleaned up: nothing to verify")
    if m.phase == "swapped":
        source, target = (m.schema, m.table), m.retired_q
    else:
        source, target = m.source_q, m.twin_q
    n = len(m.pk)
    src_rows = dst_rows = 0
    bad = 0
    diffs: list[Difference] = []
    with maintenance(conn):
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            edges = [None, *boundaries(conn, m, source, ranges), None]
            for lo, hi in itertools.pairwise(edges):
                ctx = {
                    "columns": list(m.columns),
                    "pk": list(m.pk),
                    "lower": placeholders("l", n) if lo else [],
                    "upper": placeholders("u", n) if hi else [],
                }
                params = {**key_params("l", lo), **key_params("u", hi)}
                a = conn.execute(_render("checksum.sql.j2", table=source, **ctx), params).fetchone()
                b = conn.execute(_render("checksum.sql.j2", table=target, **ctx), params).fetchone()
                src_rows += a[0]
                dst_rows += b[0]
                if tuple(a) != tuple(b):
                    bad += 1
                    if len(diffs) < limit:
                        rows = conn.execute(
                            _render(
                                "diff_keys.sql.j2",
                                table=source,
                                other=target,
                                ph={"limit": "%(limit)s"},
                                **ctx,
                            ),
                            {**params, "limit": limit - len(diffs)},
                        ).fetchall()
                        diffs += [Difference(tuple(k), s, t) for k, s, t in rows]
        finally:
            conn.execute("ROLLBACK")
    result = VerifyResult(
        m.label,
        qualify(source),
        qualify(target),
        m.phase,
        src_rows,
        dst_rows,
        len(edges) - 1,
        bad,
        tuple(diffs),
    )
    conn.execute(
        templates.load(T + "state_verified.sql"),
        {"schema": m.schema, "table": m.table, "ok": result.ok},
    )
    return result
