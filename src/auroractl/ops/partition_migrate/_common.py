"""Names and rendering shared by the steps of ``partition migrate``."""

from __future__ import annotations

import hashlib
import shlex
from typing import TYPE_CHECKING, Any

from auroractl import templates
from auroractl.errors import InvalidInput, Precondition
from auroractl.ops.partition_migrate import catalog as cat
from auroractl.ops.partition_migrate.catalog import STATE_SCHEMA
from auroractl.ops.shared.shape import suffixed
from auroractl.plan import Plan, Step

if TYPE_CHECKING:
    import psycopg

T = "partition_migrate/"
FORWARD_TRIGGER = "auroractl_pm_mirror"
REVERSE_TRIGGER = "auroractl_pm_reverse"

__all__ = [
    "FORWARD_TRIGGER",
    "REVERSE_TRIGGER",
    "Steps",
    "T",
    "begin",
    "function_names",
    "render",
    "suffixed",
]


def render(template: str, /, **ctx: Any) -> str:
    sql = templates.render(T + template, **ctx)
    _check_dollar_quotes(sql)
    return sql


def _check_dollar_quotes(sql: str) -> None:
    """A function body is dollar-quoted ($auroractl_...$): a name holding the tag would end
    it early, so such a name is refused rather than rendered."""
    for tag in ("$auroractl_mirror$", "$auroractl_fk$"):
        if sql.count(tag) not in (0, 2):
            raise InvalidInput(f"a name holds {tag}, which auroractl uses to quote function bodies")


def function_names(schema: str, table: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """The forward and reverse mirror functions of one migration (in schema auroractl)."""
    tag = hashlib.sha256(f"{schema}.{table}".encode()).hexdigest()[:12]
    return (STATE_SCHEMA, f"pm_{tag}_forward"), (STATE_SCHEMA, f"pm_{tag}_reverse")


# verb: (the phase it leads to, said when already there; the phase it needs, else refused
# with this message and hint)
_PHASES = {
    "swap": (
        "swapped",
        "already swapped",
        "prepped",
        "{label} is {phase}: nothing to swap",
        None,
    ),
    "unswap": (
        "prepped",
        "not swapped",
        "swapped",
        "{label} is {phase}: the retired table is gone",
        None,
    ),
    "cleanup": (
        "done",
        "already cleaned up",
        "swapped",
        "{label} is not swapped: cleanup drops the retired table after a swap",
        "swap it (auroractl partition migrate swap {label}) or abandon the migration: "
        "auroractl partition migrate abort {label}",
    ),
}


def begin(
    conn: psycopg.Connection, table: str, verb: str
) -> tuple[cat.Migration, str, Plan | None]:
    """The migration of ``table``, the command's name, and a nothing-to-do Plan when the
    verb's work is done already; Precondition when the migration is in another phase."""
    done, done_msg, needs, refused, hint = _PHASES[verb]
    m = cat.find(conn, table)
    command = f"partition migrate {verb} {m.label}"
    if m.phase == done:
        return m, command, Plan(command, f"{m.label} is {done_msg}: nothing to do")
    if m.phase != needs:
        raise Precondition(
            refused.format(label=m.label, phase=m.phase),
            hint=hint.format(label=shlex.quote(m.label)) if hint else None,
        )
    return m, command, None


class Steps(list):
    """The steps of one transaction, each naming the same locks."""

    def __init__(self, txn: str, locks: tuple[str, ...]) -> None:
        super().__init__()
        self.txn, self.locks = txn, locks

    def add(self, sql: str, comment: str = "", params: Any = None) -> None:
        self.append(Step(sql, params, comment=comment, locks=self.locks, txn=self.txn))

    def extend_pairs(self, pairs: list[tuple[str, str]]) -> None:
        for sql, comment in pairs:
            self.add(sql, comment)
