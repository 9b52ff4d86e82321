"""Names of auroractl's own objects, and conventions shared by several features."""

from __future__ import annotations

from collections.abc import Iterable

AUDIT_LOG = "audit.audit_log"  # the audit trail (`audit setup`); lgpd scrubs it

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
