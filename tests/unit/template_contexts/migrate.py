"""sql_templates/migrate/ holds only static catalog / ledger queries (no .j2)."""

CONTEXTS: dict = {}
