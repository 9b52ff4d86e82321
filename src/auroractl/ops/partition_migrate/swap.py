"""``partition migrate swap``, ``unswap`` and ``abort``: short renames with the original
kept equal by a reverse mirror, everything that depends on the table following it
(``follow``), and the way back to the table exactly as it was before ``prep``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import Precondition
from auroractl.ops.partition_migrate import catalog as cat
from auroractl.ops.partition_migrate import follow
from auroractl.ops.partition_migrate._common import (
    FORWARD_TRIGGER,
    REVERSE_TRIGGER,
    Steps,
    T,
    begin,
    function_names,
)
from auroractl.ops.partition_migrate._common import render as _render
from auroractl.ops.partition_migrate._common import suffixed as _name
from auroractl.ops.partition_migrate.catalog import qualify
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

Name = tuple[str, str]


def _index_renames(
    conn: psycopg.Connection,
    old: Name,
    new: Name,
    old_suffix: str,
    new_suffix: str,
) -> list[str]:
    """Statements giving ``new``'s indexes (named X + new_suffix) the names X of ``old``'s
    indexes, after renaming those to X + old_suffix."""
    old_names = cat.index_names(conn, cat.oid(conn, old))
    new_names = set(cat.index_names(conn, cat.oid(conn, new)))
    out = []
    schema = old[0]
    for name in old_names:
        theirs = _name(name, new_suffix) if new_suffix else name
        ours = _name(name, old_suffix) if old_suffix else name
        if theirs not in new_names:
            continue
        out.append(_render("rename_index.sql.j2", index=(schema, name), name=ours))
        out.append(_render("rename_index.sql.j2", index=(schema, theirs), name=name))
    return out


def _reverse_mirror(m: cat.Migration, function: Name, always: set[str]) -> str:
    """The new table's changes onto the retired one, each as the same kind of change
    (``always``: identity columns an UPDATE may not set)."""
    return _render(
        "reverse_mirror_function.sql.j2",
        function=function,
        source=m.source_q,
        target=m.retired_q,
        columns=list(m.columns),
        match=list(m.pk),
        update_columns=[c for c in m.columns if c not in always],
        conflict_update=[c for c in m.columns if c not in m.pk and c not in always],
    )


def _phase(m: cat.Migration, phase: str) -> tuple[str, str, dict[str, str]]:
    params = {"schema": m.schema, "table": m.table, "phase": phase}
    return templates.load(T + "state_phase.sql"), "", params


def plan_swap(conn: psycopg.Connection, table: str) -> Plan:
    m, command, noop = begin(conn, table, "swap")
    if noop:
        return noop
    if not m.fill_done:
        raise Precondition(
            f"the fill of {m.label} has not finished", hint="run: auroractl partition migrate fill"
        )
    orig, twin, retired = m.source_q, m.twin_q, m.retired_q
    orig_oid, twin_oid = cat.oid(conn, orig), cat.oid(conn, twin)
    _, reverse = function_names(m.schema, m.table)
    triggers = cat.user_triggers(conn, orig_oid)
    views = cat.dependents(conn, orig_oid)
    pubs = cat.publications(conn, orig_oid)
    follow.check_publications(pubs, m.label)
    seqs, twin_seqs = follow.read_sequences(conn, orig_oid), follow.read_sequences(conn, twin_oid)
    seq_grants = follow.sequence_grants(conn, seqs + twin_seqs)
    access = follow.access_steps(cat.access(conn, orig_oid), cat.access(conn, twin_oid), orig)
    always = {c.name for c in cat.source(conn, templates.ident(orig)).columns if c.always}
    steps = Steps("swap", (m.label, qualify(twin)))
    add = steps.add

    add(_render("lock.sql.j2", table=orig, other=twin), "the only lock writers wait on")
    add(_render("drop_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=orig))
    add(
        _render("rename_table.sql.j2", table=orig, name=m.retired),
        f"{m.label} -> {qualify(retired)}",
    )
    add(_render("rename_table.sql.j2", table=twin, name=m.table), f"{qualify(twin)} -> {m.label}")
    # from here on ``orig`` names the new, partitioned table
    for sql in _index_renames(conn, orig, twin, "_retired", "_pm"):
        add(sql)
    steps.extend_pairs(follow.sequence_moves(seqs, twin_seqs, orig, conn_grants=seq_grants))
    for sql in access:
        add(sql, "grants, policies, comments, statistics as the original has them now")
    steps.extend_pairs(follow.moved_triggers(triggers, orig, retired))
    if m.rls_forced:
        add(_render("rls.sql.j2", table=orig, action="force"))
        add(_render("rls.sql.j2", table=retired, action="no force"))
    for sql in follow.moved_publications(pubs, retired, orig):
        add(sql, "the new table takes the original's place in the publication")
    add(
        _reverse_mirror(m, reverse, always),
        "reverse mirror: the retired table stays equal (and its foreign keys enforced), "
        "so unswap loses nothing",
    )
    add(_render("create_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=orig, function=reverse))
    for sql in follow.rebind_views(views):
        add(sql, "dependent view re-bound to the new table")
    sql, comment, params = _phase(m, "swapped")
    add(sql, comment, params)
    matviews = [
        {"oid": v.oid, "schema": v.schema, "name": v.name, "definition": v.definition}
        for v in views
        if v.kind == "m"
    ]
    add(
        templates.load(T + "state_matviews.sql"),
        "materialized views keep reading the retired table until cleanup re-creates them",
        {"schema": m.schema, "table": m.table, "matviews": json.dumps(matviews)},
    )
    return Plan(
        command,
        f"swap {m.label} (unpartitioned -> {qualify(retired)}) with the partitioned "
        f"{qualify(twin)}",
        tuple(steps),
    )


def plan_unswap(conn: psycopg.Connection, table: str) -> Plan:
    m, command, noop = begin(conn, table, "unswap")
    if noop:
        return noop
    return Plan(
        command,
        f"unswap {m.label}: the original unpartitioned table comes back, the twin stays mirrored",
        tuple(_unswap_steps(conn, m)),
    )


def _unswap_steps(conn: psycopg.Connection, m: cat.Migration) -> list[Step]:
    new, twin, retired = m.source_q, m.twin_q, m.retired_q
    new_oid, retired_oid = cat.oid(conn, new), cat.oid(conn, retired)
    forward, reverse = function_names(m.schema, m.table)
    on_new, on_retired = cat.user_triggers(conn, new_oid), cat.user_triggers(conn, retired_oid)
    views = cat.dependents(conn, new_oid)
    pubs = cat.publications(conn, new_oid)
    seqs, retired_seqs = (
        follow.read_sequences(conn, new_oid),
        follow.read_sequences(conn, retired_oid),
    )
    seq_grants = follow.sequence_grants(conn, seqs + retired_seqs)
    access = follow.access_steps(cat.access(conn, new_oid), cat.access(conn, retired_oid), new)
    steps = Steps("unswap", (m.label, qualify(retired)))
    add = steps.add

    add(_render("lock.sql.j2", table=new, other=retired))
    add(_render("drop_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=new))
    for t in on_new:
        add(_render("drop_trigger.sql.j2", trigger=t.name, table=new))
    if m.rls_forced:
        add(_render("rls.sql.j2", table=new, action="no force"))
        add(_render("rls.sql.j2", table=retired, action="force"))
    add(_render("rename_table.sql.j2", table=new, name=m.twin), f"{m.label} -> {qualify(twin)}")
    add(
        _render("rename_table.sql.j2", table=retired, name=m.table),
        f"{qualify(retired)} -> {m.label}",
    )
    # from here on ``new`` names the original table again
    for sql in _index_renames(conn, new, retired, "_pm", "_retired"):
        add(sql)
    steps.extend_pairs(
        follow.sequence_moves(seqs, retired_seqs, new, conn_grants=seq_grants, rename_mine="_pm")
    )
    for sql in access:
        add(sql, "grants, policies, comments, statistics as the new table had them")
    steps.extend_pairs(follow.returned_triggers(on_new, on_retired, new))
    for sql in follow.moved_publications(pubs, twin, new):
        add(sql, "the original takes its place in the publication back")
    add(_render("create_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=new, function=forward))
    add(_render("drop_function.sql.j2", function=reverse))
    for sql in follow.rebind_views(views):
        add(sql, "dependent view re-bound to the original table")
    sql, comment, params = _phase(m, "prepped")
    add(sql, comment, params)
    return list(steps)


# ---------------------------------------------------------------- abort


def plan_abort(conn: psycopg.Connection, table: str) -> Plan:
    """Back to the table as it was before prep: after a swap, unswap first (one
    transaction), then drop the mirror trigger, the twin, the functions and the record
    of the migration (another). A fill still running fails at its next batch."""
    m = cat.find(conn, table)
    command = f"partition migrate abort {m.label}"
    if m.phase == "done":
        raise Precondition(
            f"{m.label} was cleaned up: the original table is gone, there is nothing to go back to"
        )
    steps: list[Step] = []
    if m.phase == "swapped":
        steps += _unswap_steps(conn, m)
    orig, twin = m.source_q, m.twin_q
    forward, reverse = function_names(m.schema, m.table)
    tx = Steps("abort", (m.label, qualify(twin)))
    tx.add(_render("lock.sql.j2", table=orig, other=twin), "a running fill batch ends first")
    tx.add(_render("drop_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=orig))
    tx.add(_render("drop_table.sql.j2", table=twin), "the twin and its partitions")
    tx.add(_render("drop_function.sql.j2", function=forward))
    tx.add(_render("drop_function.sql.j2", function=reverse))
    tx.add(
        templates.load(T + "state_delete.sql"),
        "the migration is forgotten",
        {"schema": m.schema, "table": m.table},
    )
    swapped = " (swapped: unswap first)" if m.phase == "swapped" else ""
    return Plan(
        command,
        f"abandon the migration of {m.label}{swapped}: drop {qualify(twin)}, its mirror "
        "trigger and functions; the original stays as it was",
        (*steps, *tx),
    )
