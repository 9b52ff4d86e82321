"""What a new partition copies from its newest sibling: what the parent cannot pass on.

The parent gives every partition its columns, defaults, CHECKs and indexes (copied from
the parent, adopted by ATTACH). What is declared on the partitions themselves has to be
copied from one of them: foreign keys and indexes of their own, row security and its
policies, grants, storage options, the table's and columns' comments. The model is the
newest partition (the latest range, or the last LIST partition created); names that
hold the model's name get the new one's (``payments_2026_03_person_fk`` ->
``payments_2026_04_person_fk``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from auroractl.ops.partition.model import Parent, PartitionInfo
from auroractl.ops.partition.naming import MAX_IDENTIFIER
from auroractl.ops.shared import extras, shape

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class Model:
    """The sibling new partitions are modelled on, and what they take from it."""

    sibling: PartitionInfo
    shape: shape.Shape  # its own indexes and foreign keys
    extras: extras.Extras  # row security, policies, grants, options, comments

    @property
    def empty(self) -> bool:
        return not (self.shape.indexes or self.shape.foreign_keys or self.extras.describe())

    def describe(self) -> str:
        """One line for the plan: which of the sibling's things new partitions get."""
        what = []
        if self.shape.foreign_keys:
            what.append("foreign keys " + ", ".join(fk.name for fk in self.shape.foreign_keys))
        if self.shape.indexes:
            what.append("indexes " + ", ".join(ix.name for ix in self.shape.indexes))
        what += self.extras.describe()
        return f"copied from the newest partition {self.sibling.name}: " + "; ".join(what)


def newest(p: Parent) -> PartitionInfo | None:
    """The sibling a new partition is modelled on (never DEFAULT)."""
    ranges = [r for r in p.ranges if r.oid]
    if ranges:
        return ranges[-1]
    lists = [x for x in p.partitions if x.kind == "list" and x.oid]
    return max(lists, key=lambda x: x.oid) if lists else None


def read(conn: psycopg.Connection, p: Parent) -> Model | None:
    """The newest sibling's own shape and extras; None without a sibling."""
    sibling = newest(p)
    if sibling is None:
        return None
    own = extras.read(conn, sibling.oid)
    inherited = set(extras.read(conn, p.oid).column_comments)  # LIKE copies the parent's
    own = replace(own, column_comments=tuple(c for c in own.column_comments if c not in inherited))
    return Model(sibling, shape.read_local(conn, sibling.oid), own)


def before_attach(model: Model | None, target: tuple[str, str]) -> shape.Copy:
    """Foreign keys (validated apart, while writers write) and indexes of the sibling's own."""
    if model is None:
        return shape.Copy(())
    rename = _renamer(model.sibling.relname, target[1])
    fks = tuple(replace(fk, name=rename(fk.name)) for fk in model.shape.foreign_keys)
    copied = shape.copy(shape.Shape(model.shape.indexes, fks), target, validate_apart=True)
    original = {rename(fk.name): fk.name for fk in model.shape.foreign_keys}
    return replace(
        copied,
        statements=tuple(_like(st, model.sibling.name, original) for st in copied.statements),
    )


def _like(st: shape.Statement, sibling: str, original: dict[str, str]) -> shape.Statement:
    """ "like payments_2026_04_fk" (shape names the copy) -> "like shop.payments_2026_03:
    payments_2026_03_fk": what the statement copies, named as it is on the sibling."""
    if not st.comment.startswith("like "):
        return st
    what = st.comment.removeprefix("like ")
    return replace(st, comment=f"like {sibling}: {original.get(what, what)}")


def after_attach(model: Model | None, target: tuple[str, str]) -> shape.Copy:
    """Row security, policies, grants, options and comments: after the rows moved out of
    DEFAULT, so that forced row security never filters them."""
    if model is None:
        return shape.Copy(())
    rename = _renamer(model.sibling.relname, target[1])
    own = model.extras
    comment = own.comment.replace(model.sibling.relname, target[1]) if own.comment else None
    return extras.copy(replace(own, comment=comment), target, rename)


def _renamer(old: str, new: str) -> Callable[[str], str]:
    """A name holding the sibling's name gets the new partition's, if it still fits."""

    def rename(name: str) -> str:
        renamed = name.replace(old, new)
        return renamed if len(renamed.encode()) <= MAX_IDENTIFIER else name

    return rename
