"""Render contexts for sql_templates/restore_test/: ``None`` stands for a hostile identifier.

count/checksum take a bind parameter (%(cutoff)s) when a timestamp column is given,
which pglast cannot parse, so they are rendered here without one; the column variant
is exercised against a real database by the integration tests.
"""

CONTEXTS = {
    "restore_test/count.sql.j2": {"table": None, "column": False},
    "restore_test/checksum.sql.j2": {"table": None, "column": False},
    "restore_test/newest.sql.j2": {"table": None, "column": None},
    "restore_test/create_database.sql.j2": {"name": None},
    "restore_test/comment_database.sql.j2": {
        "name": None,
        "comment": "auroractl restore drill of x'; delete from z; --",
    },
    "restore_test/drop_database.sql.j2": {"name": None},
}
