"""Foreign keys of other tables onto the migrated one.

Until ``cleanup`` they stay where they are: on the original, renamed ``<table>_retired``
at swap and kept equal to the new table by the reverse mirror, which replays each change
as the same kind of change, so every key is checked, cascades or sets NULL as before.
``cleanup`` moves each one onto the new table in its short transaction, never leaving it
unenforced, and validates it afterwards without blocking writers:

- where PostgreSQL allows it (the referenced key contains the partition key, so the new
  table has a unique index on it): the same foreign key, added NOT VALID and validated
  (on a partitioned referencing table: per partition, then attached to the parent);
- otherwise: constraint triggers, named ``auroractl_fk_*``, enforcing the same rule, the
  same ON UPDATE / ON DELETE actions and deferrability (functions in schema auroractl,
  SECURITY DEFINER), validated by a scan that counts rows with a missing key.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.ops.partition_migrate._common import T, render, suffixed
from auroractl.ops.partition_migrate.catalog import STATE_SCHEMA, IncomingFk

if TYPE_CHECKING:
    import psycopg

Name = tuple[str, str]
ACTIONS = {"a": "NO ACTION", "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
FK = "foreign key"
TRIGGERS = "constraint triggers"


@dataclass(frozen=True)
class Move:
    """How one foreign key moves onto the new table at cleanup."""

    fk: IncomingFk
    kind: str  # FK or TRIGGERS
    validated: bool = False

    def record(self) -> dict[str, Any]:
        return {"fk": asdict(self.fk), "kind": self.kind, "validated": self.validated}

    @classmethod
    def from_record(cls, r: dict[str, Any]) -> Move:
        fields = dict(r["fk"])
        for k in ("columns", "ref_columns", "delete_set_columns"):
            fields[k] = tuple(fields.get(k) or ())
        fields["leaves"] = tuple(tuple(x) for x in fields.get("leaves") or ())
        return cls(IncomingFk(**fields), r["kind"], bool(r.get("validated")))


def plan_move(fk: IncomingFk, key: str, unique_on_new: bool | None = None) -> Move:
    """``unique_on_new``: the new table has a unique index on the referenced columns
    (known at cleanup; at prep it is predicted from the partition key)."""
    fits = fk.fits(key) if unique_on_new is None else unique_on_new
    return Move(fk, FK if fits else TRIGGERS)


def describe(fk: IncomingFk) -> str:
    actions = f"ON UPDATE {ACTIONS[fk.on_update]}, ON DELETE {ACTIONS[fk.on_delete]}"
    deferral = (
        (" DEFERRABLE INITIALLY DEFERRED" if fk.deferred else " DEFERRABLE")
        if fk.deferrable
        else ""
    )
    keys = f"({', '.join(fk.columns)}) -> ({', '.join(fk.ref_columns)})"
    return f"{fk.label} {keys}, {actions}{deferral}"


def note(move: Move, table: str, retired: str, key: str) -> str:
    """What prep says will happen to this foreign key."""
    fk = move.fk
    where = f" (declared on partitioned {fk.table}: per partition, then the parent)"
    head = (
        f"foreign key {describe(fk)}: until cleanup it stays on the original (renamed "
        f"{retired} at swap, kept equal by the reverse mirror), enforced and acting as "
        "before; "
    )
    if move.kind == FK:
        return head + (
            f"cleanup re-creates it on the new {table} NOT VALID and validates it without "
            f"blocking writers{where if fk.partitioned else ''}"
        )
    return head + (
        f"PostgreSQL cannot reference the partitioned {table} by ({', '.join(fk.ref_columns)}) "
        f"without {key}, so cleanup replaces it with constraint triggers enforcing the same "
        "rule and actions (auroractl_fk_* on both tables), validated by a scan"
    )


def _tag(fk: IncomingFk) -> str:
    return hashlib.sha256(f"{fk.schema}.{fk.table}.{fk.name}".encode()).hexdigest()[:10]


def functions(fk: IncomingFk) -> tuple[Name, Name]:
    """The check (referencing side) and action (referenced side) functions."""
    tag = _tag(fk)
    return (STATE_SCHEMA, f"fk_{tag}_check"), (STATE_SCHEMA, f"fk_{tag}_action")


def trigger_names(fk: IncomingFk) -> tuple[str, str, str]:
    """(check on the referencing table, on DELETE and on UPDATE of the referenced one)."""
    base = f"auroractl_fk_{_tag(fk)[:6]}_{fk.name}"
    return suffixed(base, "_check"), suffixed(base, "_del"), suffixed(base, "_upd")


def unique_on(conn: psycopg.Connection, relid: int, columns: tuple[str, ...]) -> bool:
    return conn.execute(
        templates.load(T + "has_unique.sql"), {"oid": relid, "columns": list(columns)}
    ).fetchone()[0]


# ---------------------------------------------------------------- cleanup


def move_steps(move: Move, new: Name) -> list[tuple[str, str]]:
    """In cleanup's transaction: the foreign key dropped from the retired table and its
    enforcement on ``new`` in place (NOT VALID, or the triggers)."""
    fk = move.fk
    out = [
        (
            render("drop_constraint.sql.j2", table=fk.qualified, constraint=fk.name),
            f"{fk.label} leaves the retired table",
        )
    ]
    if move.kind == FK:
        targets = (
            [((s, leaf), c) for s, leaf, c in fk.leaves]
            if fk.partitioned
            else [(fk.qualified, fk.name)]
        )
        for table, constraint in targets:
            out.append(
                (
                    _add_fk(fk, new, table, constraint, not_valid=True),
                    "NOT VALID: checks new rows now",
                )
            )
        return out
    return out + _trigger_steps(fk, new)


def _add_fk(fk: IncomingFk, new: Name, table: Name, constraint: str, *, not_valid: bool) -> str:
    return render(
        "add_foreign_key.sql.j2",
        table=table,
        constraint=constraint,
        columns=list(fk.columns),
        referenced=new,
        ref_columns=list(fk.ref_columns),
        match=fk.match,
        on_update=fk.on_update,
        on_delete=fk.on_delete,
        delete_set_columns=list(fk.delete_set_columns),
        deferrable=fk.deferrable,
        deferred=fk.deferred,
        not_valid=not_valid,
    )


def _trigger_steps(fk: IncomingFk, new: Name) -> list[tuple[str, str]]:
    check_fn, action_fn = functions(fk)
    check, on_delete, on_update = trigger_names(fk)
    ctx = {
        "label": fk.label,
        "constraint": fk.name,
        "columns": list(fk.columns),
        "ref_columns": list(fk.ref_columns),
        "referenced": new,
        "referenced_label": templates.ident(new),
        "referencing": fk.qualified,
        "referencing_label": templates.ident(fk.qualified),
        "match": fk.match,
    }
    comment = (
        f"auroractl: enforces foreign key {fk.name} of {templates.ident(fk.qualified)} onto "
        f"{templates.ident(new)} ({describe(fk)}), which PostgreSQL cannot declare on a "
        "partitioned table without its partition key"
    )

    def deferral(action: str) -> dict[str, bool]:
        # only NO ACTION checks may wait for the end of the transaction, as in PostgreSQL
        ok = fk.deferrable and action == "a"
        return {"deferrable": ok, "deferred": ok and fk.deferred}

    triggers = [
        (check, fk.qualified, "INSERT OR UPDATE", check_fn, deferral("a")),
        (on_delete, new, "DELETE", action_fn, deferral(fk.on_delete)),
        (on_update, new, "UPDATE", action_fn, deferral(fk.on_update)),
    ]
    out = [
        (render("fk_check_function.sql.j2", function=check_fn, **ctx), "referencing side"),
        (
            render(
                "fk_action_function.sql.j2",
                function=action_fn,
                on_delete=fk.on_delete,
                on_update=fk.on_update,
                delete_set_columns=list(fk.delete_set_columns),
                **ctx,
            ),
            "referenced side",
        ),
    ]
    for name, table, events, function, d in triggers:
        out.append(
            (
                render(
                    "fk_trigger.sql.j2",
                    trigger=name,
                    table=table,
                    events=events,
                    function=function,
                    **d,
                ),
                "",
            )
        )
        out.append(
            (render("comment_trigger.sql.j2", trigger=name, table=table, comment=comment), "")
        )
    return out


def validation(move: Move, new: Name) -> list[tuple[str, str]]:
    """After cleanup's transaction, each its own statement: (sql, what it is). The last
    one of a partitioned referencing table attaches the validated per-partition keys
    to the parent (a short lock, no scan)."""
    fk = move.fk
    if move.kind == TRIGGERS:
        sql = render(
            "fk_validate.sql.j2",
            label=fk.label,
            constraint=fk.name,
            columns=list(fk.columns),
            ref_columns=list(fk.ref_columns),
            referenced=new,
            referenced_label=templates.ident(new),
            referencing=fk.qualified,
            referencing_label=templates.ident(fk.qualified),
            match=fk.match,
        )
        return [(sql, f"validate {fk.label} (constraint triggers)")]
    if not fk.partitioned:
        sql = render("validate_constraint.sql.j2", table=fk.qualified, constraint=fk.name)
        return [(sql, f"validate {fk.label}")]
    out = [
        (
            render("validate_constraint.sql.j2", table=(s, leaf), constraint=c),
            f"validate {leaf}.{c}",
        )
        for s, leaf, c in fk.leaves
    ]
    out.append((_add_fk(fk, new, fk.qualified, fk.name, not_valid=False), f"attach {fk.label}"))
    return out
