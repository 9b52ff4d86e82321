"""Copy a table's shape (indexes, their constraints, foreign keys) onto another table.

One reading of the catalog (``read``) and one pure function (``copy``) serve both ways
auroractl builds a table like another: a partition built beside its parent before
ATTACH (``partition create``: PostgreSQL names the copies, so ATTACH adopts them), and a
partitioned twin of a plain table (``partition migrate prep``: named copies, the primary
key gains the partition key, a unique index without that key cannot stay unique).
Definitions are PostgreSQL's own deparsed text, never user input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from auroractl import templates

if TYPE_CHECKING:
    import psycopg

T = "shared/"
MAX_IDENTIFIER = 63


@dataclass(frozen=True)
class Index:
    name: str
    constraint: str | None  # the PK / UNIQUE / EXCLUDE constraint it backs
    constraint_def: str | None
    unique: bool
    primary: bool
    key_columns: tuple[str, ...] | None  # None when an expression or predicate is involved
    tail: str | None  # "USING btree (col)"; None when it could not be isolated
    comment: str | None = None


@dataclass(frozen=True)
class ForeignKey:
    name: str
    definition: str


@dataclass(frozen=True)
class Shape:
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()


@dataclass(frozen=True)
class Statement:
    sql: str
    comment: str = ""


@dataclass(frozen=True)
class Copy:
    statements: tuple[Statement, ...]
    cannot_carry: tuple[str, ...] = ()  # what the target cannot enforce, for the plan's notes


def suffixed(base: str, suffix: str) -> str:
    """``base`` + ``suffix`` within PostgreSQL's 63-byte identifier limit."""
    room = MAX_IDENTIFIER - len(suffix.encode())
    return base.encode()[:room].decode(errors="ignore") + suffix


def read(conn: psycopg.Connection, oid: int) -> Shape:
    indexes = tuple(
        Index(name, con, condef, unique, primary, tuple(cols) if cols else None, tail, comment)
        for name, con, condef, unique, primary, cols, tail, comment in conn.execute(
            templates.load(T + "shape_indexes.sql"), {"oid": oid}
        )
    )
    fks = tuple(
        ForeignKey(name, definition)
        for name, definition in conn.execute(
            templates.load(T + "shape_foreign_keys.sql"), {"oid": oid}
        )
    )
    return Shape(indexes, fks)


def read_local(conn: psycopg.Connection, oid: int) -> Shape:
    """What a partition has of its own, beyond what its parent gives every partition: the
    indexes (and the constraints they back) not attached to one of the parent's, and its
    own foreign keys."""
    full = read(conn, oid)
    attached = {
        name for (name,) in conn.execute(templates.load(T + "shape_attached.sql"), {"oid": oid})
    }
    return Shape(tuple(ix for ix in full.indexes if ix.name not in attached), full.foreign_keys)


def copy(
    shape: Shape,
    target: tuple[str, str],
    *,
    suffix: str | None = None,
    partition_key: str | None = None,
    primary_key: tuple[str, ...] | None = None,
    validate_apart: bool = False,
) -> Copy:
    """The statements giving ``target`` the shape of the table ``shape`` was read from.

    ``suffix``: name each copy after its original + suffix (and carry index comments);
    None lets PostgreSQL name them. ``partition_key``: ``target`` is partitioned on that
    column, so its primary key is ``primary_key`` and only unique indexes containing the
    key stay unique. ``validate_apart``: foreign keys are added NOT VALID and validated
    in a separate statement (a scan that does not block writers of ``target``).
    """
    out: list[Statement] = []
    cannot: list[str] = []
    for ix in shape.indexes:
        name = suffixed(ix.name, suffix) if suffix else None
        if ix.tail is None and not (ix.primary and partition_key is not None):
            continue  # a definition PostgreSQL did not deparse as expected: not copied
        if partition_key is not None:
            out.append(_onto_partitioned(ix, target, name, partition_key, primary_key, cannot))
        elif ix.constraint is not None:
            out.append(_constraint(target, ix, suffixed(ix.constraint, suffix) if suffix else None))
        else:
            out.append(_index(target, name, ix.unique, ix.tail or "", ix.name))
        if name and ix.comment:
            out.append(
                Statement(
                    templates.render(
                        T + "shape_index_comment.sql.j2",
                        index=(target[0], name),
                        comment=ix.comment,
                    )
                )
            )
    for fk in shape.foreign_keys:
        out += _foreign_key(target, fk, validate_apart)
    return Copy(tuple(out), tuple(cannot))


def _onto_partitioned(
    ix: Index,
    target: tuple[str, str],
    name: str | None,
    key: str,
    primary_key: tuple[str, ...] | None,
    cannot: list[str],
) -> Statement:
    if ix.primary:
        sql = templates.render(
            T + "shape_constraint.sql.j2",
            table=target,
            constraint=name,
            primary_key=list(primary_key or ix.key_columns or ()),
        )
        return Statement(sql, "primary key with the partition key")
    unique = ix.unique and ix.key_columns is not None and key in ix.key_columns
    if ix.unique and not unique:
        cannot.append(
            f"unique index {ix.name} does not contain {key}: a partitioned table cannot "
            "enforce it, so the twin gets it as a plain index"
        )
    return _index(target, name, unique, ix.tail or "", ix.name)


def _index(
    target: tuple[str, str], name: str | None, unique: bool, tail: str, like: str
) -> Statement:
    sql = templates.render(
        T + "shape_index.sql.j2", index=name, table=target, unique=unique, index_tail=tail
    )
    return Statement(sql, f"like {like}")


def _constraint(target: tuple[str, str], ix: Index, name: str | None) -> Statement:
    sql = templates.render(
        T + "shape_constraint.sql.j2",
        table=target,
        constraint=name,
        constraint_def=ix.constraint_def,
    )
    return Statement(sql, f"like {ix.name}")


def _foreign_key(target: tuple[str, str], fk: ForeignKey, validate_apart: bool) -> list[Statement]:
    add = templates.render(
        T + "shape_constraint.sql.j2",
        table=target,
        constraint=fk.name,
        constraint_def=fk.definition,
        not_valid=validate_apart,
    )
    if not validate_apart:
        return [Statement(add, f"foreign key {fk.name}")]
    validate = templates.render(T + "shape_validate.sql.j2", table=target, constraint=fk.name)
    return [Statement(add, f"like {fk.name}"), Statement(validate)]
