"""Names of auroractl's own objects, and defaults shared by several features."""

from __future__ import annotations

AUDIT_LOG = "audit.audit_log"  # the audit trail (`audit setup`); lgpd scrubs it

# Column names treated as personal data when nothing else is configured: never copied
# into webhook payloads, flagged by `graphql check`.
PERSONAL_COLUMNS = (
    "documento_identidade",
    "documento_identidade_encrypted",
    "telefone",
    "endereco",
    "foto_perfil",
    "email",
)
