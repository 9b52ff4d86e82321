"""``partition migrate cleanup``: after a passing verify, the retired table goes; what
still pointed at it moves onto the new table first (``references``), and the foreign
keys moved are validated afterwards, each in its own statement that blocks no writer.

A ``plan.Job``: ``prepare`` is the short transaction (materialized views are rebuilt
before it, each in its own), ``run`` the validations. They are recorded in the
migration's ``fk_moves``: an interrupted cleanup, run again, validates what is left.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import Precondition
from auroractl.ops.partition_migrate import catalog as cat
from auroractl.ops.partition_migrate import references as refs
from auroractl.ops.partition_migrate._common import (
    REVERSE_TRIGGER,
    Steps,
    T,
    begin,
    function_names,
)
from auroractl.ops.partition_migrate._common import render as _render
from auroractl.ops.partition_migrate._common import suffixed as _name
from auroractl.ops.partition_migrate.catalog import qualify
from auroractl.ops.shared import shape
from auroractl.plan import Job, JobResult, Plan, Progress, Step

if TYPE_CHECKING:
    import psycopg

LOCK_RETRIES = 20


@dataclass(frozen=True)
class Validated:
    label: str
    kind: str
    seconds: float


@dataclass(frozen=True)
class CleanupResult:
    table: str
    foreign_keys: tuple[Validated, ...] = field(default_factory=tuple)

    @property
    def seconds(self) -> float:
        return sum(v.seconds for v in self.foreign_keys)


def plan_cleanup(conn: psycopg.Connection, table: str) -> Plan | Job:
    m, command, noop = begin(conn, table, "cleanup")
    if noop:
        pending = _pending(m)
        return _job(conn, m, command, None, pending) if pending else noop
    if not (m.verified_ok and m.verified_phase == "swapped"):
        raise Precondition(
            f"no passing verify of {m.label} since the swap",
            hint="run: auroractl partition migrate verify " + m.label,
        )
    retired_oid, new_oid = cat.oid(conn, m.retired_q), cat.oid(conn, m.source_q)
    deps = cat.dependents(conn, retired_oid)
    _check_dependents(conn, m, retired_oid, deps)
    moves = [
        refs.plan_move(fk, m.key_column, refs.unique_on(conn, new_oid, fk.ref_columns))
        for fk in cat.incoming(conn, retired_oid)
    ]
    steps: list[Step] = []
    saved = {mv["oid"]: mv["definition"] for mv in m.matviews or []}
    for v in deps:  # each rebuilt in its own transaction: readers keep the old one meanwhile
        steps.extend(
            Step(sql, comment=comment, locks=(v.label,), txn=f"matview {v.label}")
            for sql, comment in _recreate_matview(conn, v.oid, (v.schema, v.name), saved[v.oid])
        )
    steps += _main_steps(m, moves)
    prepare = Plan(command, f"drop {qualify(m.retired_q)}", tuple(steps))
    return _job(conn, m, command, prepare, list(enumerate(moves)))


def _pending(m: cat.Migration) -> list[tuple[int, refs.Move]]:
    moves = [refs.Move.from_record(r) for r in m.fk_moves or []]
    return [(i, mv) for i, mv in enumerate(moves) if not mv.validated]


def _check_dependents(
    conn: psycopg.Connection, m: cat.Migration, retired_oid: int, deps: list[cat.View]
) -> None:
    views = [v.label for v in deps if v.kind == "v"]
    if views:
        raise Precondition(
            f"view(s) {', '.join(views)} still read {qualify(m.retired_q)}",
            hint="re-create them on the new table (views bind by OID), then cleanup",
        )
    saved = {mv["oid"] for mv in m.matviews or []}
    unknown = [v.label for v in deps if v.oid not in saved]
    if unknown:
        raise Precondition(
            f"materialized view(s) {', '.join(unknown)} read {qualify(m.retired_q)} but were "
            "not there at swap time",
            hint="re-create them on the new table, then cleanup",
        )
    others = cat.others(conn, retired_oid)
    if others:
        raise Precondition(
            f"{'; '.join(others)} still use(s) {qualify(m.retired_q)} (bound by OID)",
            hint=f"re-create them on {m.label}, then cleanup",
        )


def _main_steps(m: cat.Migration, moves: list[refs.Move]) -> list[Step]:
    """One short transaction: the referencing tables and the retired one locked first
    (always in this order), each foreign key moved, the retired table dropped."""
    forward, reverse = function_names(m.schema, m.table)
    referencing = list(dict.fromkeys(qualify(mv.fk.qualified) for mv in moves))
    steps = Steps("cleanup", (*referencing, m.label, qualify(m.retired_q)))
    add = steps.add
    for mv in dict.fromkeys(mv.fk.qualified for mv in moves):
        add(_render("lock_one.sql.j2", table=mv, mode="ACCESS EXCLUSIVE"))
    add(_render("lock_one.sql.j2", table=m.source_q, mode="SHARE ROW EXCLUSIVE"))
    add(_render("lock_one.sql.j2", table=m.retired_q, mode="ACCESS EXCLUSIVE"))
    add(_render("drop_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=m.source_q))
    for mv in moves:
        steps.extend_pairs(refs.move_steps(mv, m.source_q))
    add(_render("drop_table.sql.j2", table=m.retired_q), "the retired unpartitioned table")
    add(_render("drop_function.sql.j2", function=reverse))
    add(_render("drop_function.sql.j2", function=forward))
    add(
        templates.load(T + "state_phase.sql"),
        params={"schema": m.schema, "table": m.table, "phase": "done"},
    )
    add(
        templates.load(T + "state_fk_moves.sql"),
        "what to validate next",
        {
            "schema": m.schema,
            "table": m.table,
            "moves": json.dumps([mv.record() for mv in moves]),
        },
    )
    return list(steps)


def _job(
    conn: psycopg.Connection,
    m: cat.Migration,
    command: str,
    prepare: Plan | None,
    moves: list[tuple[int, refs.Move]],
) -> Job:
    validations = [
        Step(sql, comment=what, locks=(qualify(mv.fk.qualified),))
        for _, mv in moves
        for sql, what in refs.validation(mv, m.source_q)
    ]
    n = len(moves)
    summary = (
        f"drop {qualify(m.retired_q)}; move {n} foreign key(s) onto {m.label}, then validate them"
        if prepare is not None
        else f"validate the {n} foreign key(s) cleanup moved onto {m.label}"
    )
    preview = Plan(command, summary, tuple(validations))

    def run(progress: Progress) -> JobResult:
        progress.start(n)
        done = []
        for i, mv in moves:
            started = time.monotonic()
            for sql, _ in refs.validation(mv, m.source_q):
                _with_lock_retries(conn, sql)
            conn.execute(
                templates.load(T + "state_fk_validated.sql"),
                {"schema": m.schema, "table": m.table, "i": i},
            )
            done.append(Validated(mv.fk.label, mv.kind, time.monotonic() - started))
            progress.advance(1)
        return JobResult(len(done), CleanupResult(m.label, tuple(done)))

    return Job(command, summary, preview, run, prepare=prepare, unit="foreign keys")


def _with_lock_retries(conn: psycopg.Connection, sql: str) -> None:
    """One validation statement; a lock timeout (a long transaction on the table) means
    wait a little and try again: none of them blocks writers once it has its lock."""
    import psycopg

    for failures in range(1, LOCK_RETRIES + 2):
        try:
            conn.execute(sql)
            return
        except psycopg.errors.LockNotAvailable:
            if failures > LOCK_RETRIES:
                raise
            time.sleep(min(2.0, 0.1 * failures))


def _recreate_matview(
    conn: psycopg.Connection, mv_oid: int, view: tuple[str, str], definition: str
) -> list[tuple[str, str]]:
    """Build the materialized view again on the new table under a temporary name (readers
    keep the old one meanwhile), with its indexes, grants and comment; then swap names."""
    if cat.dependents(conn, mv_oid):
        raise Precondition(
            f"views depend on the materialized view {qualify(view)}: re-create it by hand"
        )
    schema, name = view
    temp = _name(name, "_pm")
    out = [
        (
            _render(
                "create_matview.sql.j2",
                view=(schema, temp),
                definition=definition.rstrip().rstrip(";"),
            ),
            f"materialized view {qualify(view)} on the new table (it binds by OID)",
        )
    ]
    mv_shape = shape.read(conn, mv_oid)
    copied = shape.copy(mv_shape, (schema, temp), suffix="_pm")
    out += [(st.sql, st.comment) for st in copied.statements]
    renames = [
        (_render("rename_index.sql.j2", index=(schema, _name(ix.name, "_pm")), name=ix.name), "")
        for ix in mv_shape.indexes
        if ix.tail is not None
    ]
    for role, privilege, grantable in cat.grants(conn, mv_oid):
        out.append(
            (
                _render(
                    "grant.sql.j2",
                    privilege=privilege,
                    table=(schema, temp),
                    role=role,
                    grantable=grantable,
                    kind="table",
                ),
                "",
            )
        )
    comment = conn.execute(templates.load(T + "object_comment.sql"), {"oid": mv_oid}).fetchone()[0]
    if comment:
        out.append((_render("comment_matview.sql.j2", view=(schema, temp), comment=comment), ""))
    out.append(
        (_render("drop_matview.sql.j2", view=view), "the old one, bound to the retired table")
    )
    out.append((_render("rename_matview.sql.j2", view=(schema, temp), name=name), ""))
    return out + renames
