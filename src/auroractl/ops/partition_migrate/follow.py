"""What follows the table through swap and unswap, besides its rows: grants, policies,
comments and statistics targets (synced onto the table taking its name), triggers
(moved, with their state and comment), identity and serial sequences, views (re-bound)
and publications. Pure functions over catalog facts, except the ``read_*`` ones.

Every function returns statements in the order one transaction runs them; names are the
ones the objects have when the statement runs (the swap's renames come first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates
from auroractl.errors import Precondition
from auroractl.ops.partition_migrate import catalog as cat
from auroractl.ops.partition_migrate._common import render, suffixed
from auroractl.ops.partition_migrate.catalog import Access, Policy, Publication, Trigger, View

if TYPE_CHECKING:
    import psycopg

Name = tuple[str, str]
VIEW_OPTIONS = ("security_barrier", "check_option", "security_invoker")


def access_steps(src: Access, dst: Access, table: Name) -> list[str]:
    """Statements giving ``table`` (now described by ``dst``) what ``src`` has."""
    out = []
    if src.comment != dst.comment:
        out.append(render("comment_table.sql.j2", table=table, comment=src.comment))
    theirs = dict(dst.column_comments)
    for col, comment in src.column_comments:
        if col in theirs and theirs[col] != comment:
            out.append(render("comment_column.sql.j2", table=table, column=col, comment=comment))
    targets = dict(dst.stat_targets)
    for col, target in src.stat_targets:
        if col in targets and targets[col] != target:
            out.append(render("set_statistics.sql.j2", table=table, column=col, target=target))
    out += grant_steps(src.grants, dst.grants, table)
    out += policy_steps(src.policies, dst.policies, table)
    if src.rls_enabled != dst.rls_enabled:
        action = "enable" if src.rls_enabled else "disable"
        out.append(render("rls.sql.j2", table=table, action=action))
    return out


def grant_steps(
    src: frozenset[tuple[str, str, bool]],
    dst: frozenset[tuple[str, str, bool]],
    table: Name,
    kind: str = "table",
) -> list[str]:
    """GRANT what ``src`` has and ``dst`` lacks, REVOKE the reverse (grant options too)."""
    have = {(r, p): g for r, p, g in dst}
    want = {(r, p): g for r, p, g in src}
    out = []
    for (role, priv), grantable in sorted(have.items()):
        if (role, priv) not in want or (grantable and not want[(role, priv)]):
            out.append(
                render(
                    "revoke.sql.j2",
                    privilege=priv,
                    table=table,
                    role=role,
                    kind=kind,
                    grant_option=(role, priv) in want,
                )
            )
    for (role, priv), grantable in sorted(want.items()):
        if (role, priv) not in have or (grantable and not have[(role, priv)]):
            out.append(
                render(
                    "grant.sql.j2",
                    privilege=priv,
                    table=table,
                    role=role,
                    grantable=grantable,
                    kind=kind,
                )
            )
    return out


def policy_steps(src: tuple[Policy, ...], dst: tuple[Policy, ...], table: Name) -> list[str]:
    theirs = {p.policy: p for p in dst}
    ours = {p.policy: p for p in src}
    out = [
        render("drop_policy.sql.j2", policy=name, table=table)
        for name, p in theirs.items()
        if ours.get(name) != p
    ]
    out += [
        render("create_policy.sql.j2", table=table, **p.context())
        for name, p in ours.items()
        if theirs.get(name) != p
    ]
    return out


# ---------------------------------------------------------------- triggers


def check_triggers(triggers: list[Trigger] | tuple[Trigger, ...], label: str) -> None:
    bad = [t.name for t in triggers if t.row_transition]
    if bad:
        raise Precondition(
            f"trigger(s) {', '.join(bad)} of {label} are row triggers with transition "
            "tables, which PostgreSQL does not allow on a partitioned table",
            hint="make them statement triggers (FOR EACH STATEMENT), then run it again",
        )


def moved_triggers(triggers: list[Trigger], new: Name, old: Name) -> list[tuple[str, str]]:
    """Swap: each trigger of the original (its definition names the original, which is the
    new table by the time it runs) created on ``new`` in the same state with its comment,
    and disabled on ``old`` (so a mirrored row does not fire it twice)."""
    check_triggers(triggers, templates.ident(new))
    out = []
    for t in triggers:
        out.append((t.definition, f"trigger {t.name} on the new table"))
        if t.enabled != "O":
            out.append(
                (render("enable_trigger.sql.j2", table=new, trigger=t.name, state=t.enabled), "")
            )
        if t.comment is not None:
            out.append(
                (render("comment_trigger.sql.j2", trigger=t.name, table=new, comment=t.comment), "")
            )
        if t.enabled != "D":
            out.append((render("enable_trigger.sql.j2", table=old, trigger=t.name, state="D"), ""))
    return out


def returned_triggers(
    on_new: list[Trigger], on_original: list[Trigger], original: Name
) -> list[tuple[str, str]]:
    """Unswap (after the new table's triggers are dropped and the names are back): the
    original gets the new table's triggers as they are now, in their state; triggers
    dropped from the new table since the swap are dropped from the original too."""
    have = {t.name: t for t in on_original}
    out = []
    for t in on_new:
        mine = have.get(t.name)
        if mine is None:
            out.append((t.definition, f"trigger {t.name}, created after the swap"))
        if (mine.enabled if mine else "O") != t.enabled:
            out.append(
                (
                    render(
                        "enable_trigger.sql.j2", table=original, trigger=t.name, state=t.enabled
                    ),
                    "",
                )
            )
        if (mine.comment if mine else None) != t.comment:
            out.append(
                (
                    render(
                        "comment_trigger.sql.j2", trigger=t.name, table=original, comment=t.comment
                    ),
                    "",
                )
            )
    names = {t.name for t in on_new}
    out += [
        (render("drop_trigger.sql.j2", trigger=t.name, table=original), "dropped since the swap")
        for t in on_original
        if t.name not in names
    ]
    return out


# ---------------------------------------------------------------- sequences


@dataclass(frozen=True)
class Sequence:
    schema: str
    name: str
    column: str
    deptype: str  # a: serial (OWNED BY), i: identity

    @property
    def qualified(self) -> Name:
        return (self.schema, self.name)


def read_sequences(conn: psycopg.Connection, relid: int) -> list[Sequence]:
    return [Sequence(*r) for r in cat.sequences(conn, relid)]


def sequence_moves(
    mine: list[Sequence],
    theirs: list[Sequence],
    table: Name,
    *,
    conn_grants: dict[Name, frozenset] | None = None,
    rename_mine: str = "_retired",
) -> list[tuple[str, str]]:
    """The sequences of the table giving up its name (``mine``) hand over to the table
    taking it (``theirs``, named ``table`` when this runs): a serial one changes owner;
    an identity one (each table has its own) sets ``theirs`` to continue where ``mine``
    is, and the names are exchanged, so ``nextval('x_id_seq')`` keeps meaning this
    table's. ``conn_grants``: each sequence's grants, synced the same way."""
    conn_grants = conn_grants or {}
    out = []
    for seq in mine:
        if seq.deptype == "a":
            sql = render(
                "own_sequence.sql.j2", sequence=seq.qualified, table=table, column=seq.column
            )
            out.append((sql, f"serial sequence {seq.name} now belongs to the table"))
            continue
        other = next((s for s in theirs if s.deptype == "i" and s.column == seq.column), None)
        if other is None:
            raise Precondition(
                f"identity column {seq.column} has no identity on the other table: this "
                "migration was prepared by an older auroractl",
                hint="run: auroractl partition migrate abort, then prep again",
            )
        out.append(
            (
                render(
                    "sequence_copy.sql.j2",
                    source=seq.qualified,
                    target_text=templates.ident(other.qualified),
                ),
                f"identity of {seq.column} continues at the same value",
            )
        )
        parked = suffixed(seq.name, rename_mine)
        out.append((render("rename_sequence.sql.j2", sequence=seq.qualified, name=parked), ""))
        out.append((render("rename_sequence.sql.j2", sequence=other.qualified, name=seq.name), ""))
        out += [
            (sql, "")
            for sql in grant_steps(
                conn_grants.get(seq.qualified, frozenset()),
                conn_grants.get(other.qualified, frozenset()),
                (other.schema, seq.name),  # renamed by now
                kind="sequence",
            )
        ]
    return out


def sequence_grants(conn: psycopg.Connection, seqs: list[Sequence]) -> dict[Name, frozenset]:
    return {s.qualified: frozenset(cat.grants(conn, cat.oid(conn, s.qualified))) for s in seqs}


# ---------------------------------------------------------------- views, publications


def rebind_views(views: list[View]) -> list[str]:
    """CREATE OR REPLACE of each view reading the table, so it reads the table now named
    like the old one; its options kept."""
    out = []
    for v in views:
        if v.kind != "v":
            continue
        options = []
        for opt in v.options:
            key, _, value = opt.partition("=")
            if key not in VIEW_OPTIONS:
                raise Precondition(f"view {v.label} has an option auroractl does not know: {key}")
            options.append((key, value))
        definition = v.definition.rstrip().rstrip(";")
        out.append(
            render(
                "replace_view.sql.j2",
                view=(v.schema, v.name),
                definition=definition,
                options=options,
            )
        )
    return out


def check_publications(pubs: list[Publication], label: str) -> None:
    bad = [p.name for p in pubs if (p.columns or p.where) and not p.via_root]
    if bad:
        raise Precondition(
            f"publication(s) {', '.join(bad)} publish {label} with a column list or row "
            "filter, which PostgreSQL allows on a partitioned table only when the "
            "publication publishes via the partition root",
            hint="ALTER PUBLICATION ... SET (publish_via_partition_root = true), then run it again",
        )


def moved_publications(pubs: list[Publication], old: Name, new: Name) -> list[str]:
    """``new`` takes ``old``'s place in each publication naming it (column list and row
    filter kept); ``old`` leaves, so mirrored rows are not published twice."""
    out = []
    for p in pubs:
        out.append(render("publication_drop.sql.j2", publication=p.name, table=old))
        out.append(
            render(
                "publication_add.sql.j2",
                publication=p.name,
                table=new,
                columns=list(p.columns),
                where=p.where,
            )
        )
    return out
