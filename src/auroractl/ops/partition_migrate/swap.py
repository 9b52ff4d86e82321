"""``partition migrate swap``, ``unswap`` and ``cleanup``: short renames with the
original kept equal by a reverse mirror, and the retired table dropped after a verify."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import Precondition
from auroractl.ops.partition_migrate import catalog as cat
from auroractl.ops.partition_migrate._common import (
    FORWARD_TRIGGER,
    REVERSE_TRIGGER,
    T,
    function_names,
)
from auroractl.ops.partition_migrate._common import render as _render
from auroractl.ops.partition_migrate._common import suffixed as _name
from auroractl.ops.partition_migrate.catalog import qualify
from auroractl.ops.shared import shape
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg


def _index_renames(
    conn: psycopg.Connection,
    old: tuple[str, str],
    new: tuple[str, str],
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


# verb: (the phase it leads to, said when already there; the phase it needs, else refused)
_PHASES = {
    "swap": ("swapped", "already swapped", "prepped", "{label} is {phase}: nothing to swap"),
    "unswap": (
        "prepped",
        "not swapped",
        "swapped",
        "{label} is {phase}: the retired table is gone",
    ),
    "cleanup": (
        "done",
        "already cleaned up",
        "swapped",
        "{label} is not swapped yet: cleanup drops the retired table after swap",
    ),
}


def _begin(
    conn: psycopg.Connection, table: str, verb: str
) -> tuple[cat.Migration, str, Plan | None]:
    """The migration of ``table``, the command's name, and a nothing-to-do Plan when the
    verb's work is done already; Precondition when the migration is in another phase."""
    done, done_msg, needs, refused = _PHASES[verb]
    m = cat.find(conn, table)
    command = f"partition migrate {verb} {m.label}"
    if m.phase == done:
        return m, command, Plan(command, f"{m.label} is {done_msg}: nothing to do")
    if m.phase != needs:
        raise Precondition(refused.format(label=m.label, phase=m.phase))
    return m, command, None


class _Steps(list):
    """The steps of one transaction, each naming the same locks."""

    def __init__(self, txn: str, locks: tuple[str, ...]) -> None:
        super().__init__()
        self.txn, self.locks = txn, locks

    def add(self, sql: str, comment: str = "", params: Any = None) -> None:
        self.append(Step(sql, params, comment=comment, locks=self.locks, txn=self.txn))


def _views(conn: psycopg.Connection, oid: int) -> list[str]:
    return [
        _render(
            "replace_view.sql.j2", view=(schema, rel), definition=definition.rstrip().rstrip(";")
        )
        for _, schema, rel, kind, definition in cat.dependents(conn, oid)
        if kind == "v"
    ]


def _sequence_moves(sequences: list, table: tuple[str, str]) -> list[tuple[str, str]]:
    """The original's sequences feed the new table: serial ones change owner, identity
    ones (partitioned tables have no identity) become its column default."""
    out = []
    for seq_schema, seq, col, deptype in sequences:
        if deptype == "a":
            sql = _render(
                "own_sequence.sql.j2", sequence=(seq_schema, seq), table=table, column=col
            )
            out.append((sql, "the serial sequence now belongs to the new table"))
        else:
            sql = _render(
                "set_default_nextval.sql.j2",
                table=table,
                column=col,
                sequence_text=templates.ident((seq_schema, seq)),
            )
            out.append((sql, "identity sequence feeds the new table's default"))
    return out


def _reverse_mirror(m: cat.Migration, function: tuple[str, str]) -> str:
    return _render(
        "mirror_function.sql.j2",
        function=function,
        target=m.retired_q,
        columns=list(m.columns),
        match=list(m.pk),
        conflict=list(m.pk),
        update_columns=[c for c in m.columns if c not in m.pk],
    )


def plan_swap(conn: psycopg.Connection, table: str) -> Plan:
    m, command, noop = _begin(conn, table, "swap")
    if noop:
        return noop
    if not m.fill_done:
        raise Precondition(
            f"the fill of {m.label} has not finished", hint="run: auroractl partition migrate fill"
        )
    orig, twin, retired = m.source_q, m.twin_q, m.retired_q
    orig_oid = cat.oid(conn, orig)
    _, reverse = function_names(m.schema, m.table)
    triggers = cat.user_triggers(conn, orig_oid)
    views = _views(conn, orig_oid)
    renames = _index_renames(conn, orig, twin, "_retired", "_pm")
    sequences = cat.sequences(conn, orig_oid)
    steps = _Steps("swap", (m.label, qualify(twin)))
    add = steps.add

    add(_render("lock.sql.j2", table=orig, other=twin), "the only lock writers wait on")
    add(_render("drop_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=orig))
    add(
        _render("rename_table.sql.j2", table=orig, name=m.retired),
        f"{m.label} -> {qualify(retired)}",
    )
    add(_render("rename_table.sql.j2", table=twin, name=m.table), f"{qualify(twin)} -> {m.label}")
    for sql in renames:
        add(sql)
    for sql, comment in _sequence_moves(sequences, orig):
        add(sql, comment)
    for name, definition, _ in triggers:
        add(definition, f"trigger {name} on the new table")
        add(_render("enable_trigger.sql.j2", table=retired, trigger=name, enable=False))
    if m.rls_forced:
        add(_render("rls.sql.j2", table=orig, action="force"))
        add(_render("rls.sql.j2", table=retired, action="no force"))
    add(
        _reverse_mirror(m, reverse),
        "reverse mirror: the retired table stays equal, so unswap loses nothing",
    )
    add(_render("create_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=orig, function=reverse))
    for sql in views:
        add(sql, "dependent view re-bound to the new table")
    add(
        templates.load(T + "state_phase.sql"),
        params={"schema": m.schema, "table": m.table, "phase": "swapped"},
    )
    matviews = [
        {"oid": o, "schema": s, "name": r, "definition": d}
        for o, s, r, kind, d in cat.dependents(conn, orig_oid)
        if kind == "m"
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
    m, command, noop = _begin(conn, table, "unswap")
    if noop:
        return noop
    new, twin, retired = m.source_q, m.twin_q, m.retired_q
    new_oid = cat.oid(conn, new)
    retired_oid = cat.oid(conn, retired)
    forward, reverse = function_names(m.schema, m.table)
    views = _views(conn, new_oid)
    # indexes: new's X -> X_pm, retired's X_retired -> X
    renames = _index_renames(conn, new, retired, "_pm", "_retired")
    steps = _Steps("unswap", (m.label, qualify(retired)))
    add = steps.add

    add(_render("lock.sql.j2", table=new, other=retired))
    add(_render("drop_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=new))
    for name, _, _ in cat.user_triggers(conn, new_oid):
        add(_render("drop_trigger.sql.j2", trigger=name, table=new))
    for name, _, enabled in cat.user_triggers(conn, retired_oid):
        if enabled == "D":
            add(_render("enable_trigger.sql.j2", table=retired, trigger=name, enable=True))
    if m.rls_forced:
        add(_render("rls.sql.j2", table=new, action="no force"))
        add(_render("rls.sql.j2", table=retired, action="force"))
    add(_render("rename_table.sql.j2", table=new, name=m.twin), f"{m.label} -> {qualify(twin)}")
    add(
        _render("rename_table.sql.j2", table=retired, name=m.table),
        f"{qualify(retired)} -> {m.label}",
    )
    for sql in renames:
        add(sql)
    for seq_schema, seq, col, deptype in cat.sequences(conn, new_oid):
        if deptype == "a":
            add(_render("own_sequence.sql.j2", sequence=(seq_schema, seq), table=new, column=col))
    for _, _, col, deptype in cat.sequences(conn, retired_oid):
        if deptype == "i":
            add(_render("drop_default.sql.j2", table=twin, column=col))
    add(_render("create_trigger.sql.j2", trigger=FORWARD_TRIGGER, table=new, function=forward))
    add(_render("drop_function.sql.j2", function=reverse))
    for sql in views:
        add(sql, "dependent view re-bound to the original table")
    add(
        templates.load(T + "state_phase.sql"),
        params={"schema": m.schema, "table": m.table, "phase": "prepped"},
    )
    return Plan(
        command,
        f"unswap {m.label}: the original unpartitioned table comes back, the twin stays mirrored",
        tuple(steps),
    )


# ---------------------------------------------------------------- cleanup


def plan_cleanup(conn: psycopg.Connection, table: str) -> Plan:
    m, command, noop = _begin(conn, table, "cleanup")
    if noop:
        return noop
    if not (m.verified_ok and m.verified_phase == "swapped"):
        raise Precondition(
            f"no passing verify of {m.label} since the swap",
            hint="run: auroractl partition migrate verify " + m.label,
        )
    retired_oid = cat.oid(conn, m.retired_q)
    deps = cat.dependents(conn, retired_oid)
    views = [f"{s}.{r}" for _, s, r, kind, _ in deps if kind == "v"]
    if views:
        raise Precondition(
            f"view(s) {', '.join(views)} still read {qualify(m.retired_q)}",
            hint="re-create them on the new table (views bind by OID), then cleanup",
        )
    saved = {mv["oid"]: mv["definition"] for mv in m.matviews or []}
    matviews = [d for d in deps if d[3] == "m"]
    unknown = [f"{s}.{r}" for o, s, r, _, _ in matviews if o not in saved]
    if unknown:
        raise Precondition(
            f"materialized view(s) {', '.join(unknown)} read {qualify(m.retired_q)} but were "
            "not there at swap time",
            hint="re-create them on the new table, then cleanup",
        )
    identity = [c for _, _, c, d in cat.sequences(conn, retired_oid) if d == "i"]
    if identity:
        raise Precondition(
            f"identity column(s) {', '.join(identity)} of {qualify(m.retired_q)} feed the new "
            "table's default: dropping it would drop the sequence",
            hint="give the new table its own sequence first",
        )
    _, reverse = function_names(m.schema, m.table)
    forward, _ = function_names(m.schema, m.table)
    steps = _Steps("cleanup", (m.label, qualify(m.retired_q)))
    add = steps.add

    for mv_oid, schema, rel, _, _ in matviews:
        definition = saved[mv_oid]
        steps.extend(
            Step(sql, comment=comment, locks=(f"{schema}.{rel}",), txn="cleanup")
            for sql, comment in _recreate_matview(conn, mv_oid, (schema, rel), definition)
        )
    add(_render("drop_trigger.sql.j2", trigger=REVERSE_TRIGGER, table=m.source_q))
    for schema, rel, conname, definition in conn.execute(
        templates.load(T + "referencing_fks.sql"), {"oid": retired_oid}
    ):
        add(
            _render("drop_constraint.sql.j2", table=(schema, rel), constraint=conname),
            f"{definition}: cannot reference the partitioned table",
        )
    add(_render("drop_table.sql.j2", table=m.retired_q), "the retired unpartitioned table")
    add(_render("drop_function.sql.j2", function=reverse))
    add(_render("drop_function.sql.j2", function=forward))
    add(
        templates.load(T + "state_phase.sql"),
        params={"schema": m.schema, "table": m.table, "phase": "done"},
    )
    return Plan(command, f"drop {qualify(m.retired_q)} and the mirror functions", tuple(steps))


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
