"""One module per template group: CONTEXTS, and optionally WRAPPERS / MULTI_STATEMENT.

Every template under sql_templates/ must have a context here (test_templates checks).
"""
