"""Render contexts for sql_templates/lgpd/: ``None`` stands for a hostile identifier.

Bind parameters go through ``ph`` (``%(id)s`` ... at run time); here they render as
NULL so that pglast can parse them.
"""

from auroractl.ops.lgpd import Match

PH = {n: "NULL" for n in ("id", "label", "pks", "cols", "schema", "names", "pkcols", "limit")}
HOSTILE_PK = ['i"d', "x; drop table y"]
HOSTILE = ("s; drop", 't"x')
# A multi-column match of a row the subject references (the most the template writes).
_MATCH = Match(("a; drop", 'b"c'), HOSTILE, ('x"y', "z;"), 'k"ey', exclusive=True)
_T = {"table": None, "match": _MATCH, "pk": HOSTILE_PK, "ph": PH}
_SETS = [
    {"column": f'c"{kind}', "kind": kind, "ph": "NULL", "prefix": "NULL"}
    for kind in ("null", "fixed", "pseudonym", "hash")
]

CONTEXTS = {
    "lgpd/_row_pk.sql.j2": {"pk": HOSTILE_PK},
    "lgpd/_match.sql.j2": dict(_T),
    "lgpd/_set_value.sql.j2": {**_T, "s": _SETS[2]},
    "lgpd/_set_pending.sql.j2": {**_T, "s": _SETS[3]},
    "lgpd/audit_entries.sql.j2": {"table": None, "ph": PH, "grouped": True, "entry": None},
    "lgpd/decrypt.sql.j2": {**_T, "column": None, "key_setting": "auroractl.encryption'key"},
    "lgpd/delete.sql.j2": {**_T, "count": False},
    "lgpd/lock_subject.sql.j2": {"table": None, "key": None, "ph": PH},
    "lgpd/identifiers.sql.j2": {"table": None, "key": None, "columns": HOSTILE_PK, "ph": PH},
    "lgpd/pks.sql.j2": dict(_T),
    "lgpd/rows.sql.j2": dict(_T),
    "lgpd/scrub_audit.sql.j2": {"table": None, "ph": PH, "count": False, "grouped": True},
    "lgpd/scrub_webhooks.sql.j2": {"table": None, "ph": PH, "count": False, "composite": True},
    "lgpd/update.sql.j2": {**_T, "sets": _SETS, "count": False},
}
WRAPPERS = {
    "lgpd/_row_pk.sql.j2": "SELECT {} FROM t",
    "lgpd/_match.sql.j2": "SELECT 1 FROM t WHERE {}",
    "lgpd/_set_value.sql.j2": "SELECT {} FROM t",
    "lgpd/_set_pending.sql.j2": "SELECT 1 FROM t WHERE {}",
}
