"""Render contexts for sql_templates/lgpd/: ``None`` stands for a hostile identifier.

Bind parameters go through ``ph`` (``%(id)s`` ... at run time); here they render as
NULL so that pglast can parse them.
"""

PH = {
    n: "NULL" for n in ("id", "label", "pks", "cols", "schema", "names", "key", "secret", "limit")
}
HOSTILE_PK = ['i"d', "x; drop table y"]
_T = {"table": None, "key": None, "pk": HOSTILE_PK, "ph": PH}
_SETS = [{"column": 'no"me', "value": "NULL"}, {"column": "x; drop table y", "value": "NULL"}]

CONTEXTS = {
    "lgpd/_row_pk.sql.j2": {"pk": HOSTILE_PK},
    "lgpd/audit_entries.sql.j2": {"table": None, "ph": PH},
    "lgpd/decrypt.sql.j2": {**_T, "column": None},
    "lgpd/delete.sql.j2": {**_T, "count": False},
    "lgpd/lock_subject.sql.j2": {"table": None, "key": None, "ph": PH},
    "lgpd/pks.sql.j2": dict(_T),
    "lgpd/rows.sql.j2": dict(_T),
    "lgpd/sample.sql.j2": {"table": None, "column": None, "ph": PH},
    "lgpd/scrub_audit.sql.j2": {"table": None, "ph": PH, "count": False},
    "lgpd/scrub_webhooks.sql.j2": {"table": None, "ph": PH, "count": False},
    "lgpd/unlink.sql.j2": {**_T, "count": False},
    "lgpd/update.sql.j2": {**_T, "sets": _SETS, "count": False},
}
WRAPPERS = {"lgpd/_row_pk.sql.j2": "SELECT {} FROM t"}
