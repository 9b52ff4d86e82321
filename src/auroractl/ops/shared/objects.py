"""Names of auroractl's own objects, and conventions shared by several features."""

from __future__ import annotations

from collections.abc import Iterable

AUDIT_LOG = "audit.audit_log"  # the audit trail (`audit setup`); lgpd scrubs it
# a grouped audit entry's values of one of its rows (the readers of the log join with it)
AUDIT_ENTRY_VALUES = ("audit", "entry_values")

# `encrypt backfill` writes the ciphertext of column X into X_encrypted by default. A
# ciphertext of personal data is personal data: it is redacted and erased like X.
CIPHERTEXT_SUFFIX = "_encrypted"


def ciphertext_twins(personal: Iterable[str], columns: Iterable[str]) -> list[str]:
    """The ciphertext columns among ``columns`` of the ``personal`` ones (present or
    already dropped by `encrypt finalize`)."""
    present = set(columns)
    return [f"{p}{CIPHERTEXT_SUFFIX}" for p in personal if f"{p}{CIPHERTEXT_SUFFIX}" in present]


def personal_in(personal: Iterable[str], columns: Iterable[str]) -> list[str]:
    """The personal columns of a table: those named, and their ciphertext twins."""
    cols, names = list(columns), list(personal)
    found = [c for c in names if c in cols]
    return found + [c for c in ciphertext_twins(names, cols) if c not in found]


# PostgreSQL keeps 63 bytes of a name; longer ones would be cut silently, and collide.
MAX_IDENTIFIER = 63


def key_name(table: str, columns: Iterable[str], label: str, taken: Iterable[str] = ()) -> str:
    """A new key's or index's name the way PostgreSQL picks one (``<table>_<cols>_<label>``,
    e.g. alunos_empresa_id_escola_id_fkey), cut to 63 bytes; a number follows the label
    while the name is ``taken``."""
    used = set(taken)
    base = "_".join([table, *columns])
    for n in range(1000):
        suffix = f"_{label}{n or ''}"
        room = MAX_IDENTIFIER - len(suffix.encode())
        name = base.encode()[:room].decode(errors="ignore") + suffix
        if name not in used:
            return name
    raise ValueError(f"no free name for {base}_{label}")
