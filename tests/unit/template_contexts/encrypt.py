"""Render contexts for sql_templates/encrypt/: ``None`` stands for a hostile identifier.

Batch statements take bind parameters through ``ph`` (``%(after)s`` ... at run time);
here they render as NULL so that pglast can parse them.
"""

PH = {n: "NULL" for n in ("after", "hi", "limit", "sample")}
# "pk" and "target" are not bare keys for the filler: give them hostile names directly.
HOSTILE_TARGET = 'enc"ry pted'
HOSTILE_PK = 'i"d'
_T = {
    "table": None,
    "pk": HOSTILE_PK,
    "column": None,
    "target": HOSTILE_TARGET,
    "decrypt": None,
    "ph": PH,
    # the session settings the key is read from: a quote tries to break out of the literal
    "key_setting": "auroractl.encryption'key",
    "new_key_setting": "auroractl.new'key",
}

CONTEXTS = {
    "encrypt/add_column.sql.j2": {"table": None, "target": HOSTILE_TARGET},
    "encrypt/create_extension.sql.j2": {},
    "encrypt/batch.sql.j2": {**_T, "options": "cipher-algo=aes256, s2k-mode=1"},
    "encrypt/bounds.sql.j2": dict(_T),
    "encrypt/count_plain.sql.j2": dict(_T),
    "encrypt/create_schema.sql.j2": {"schema": None},
    "encrypt/create_trigger.sql.j2": {
        "trigger": None,
        "table": None,
        "column": None,
        "target": HOSTILE_TARGET,
        "function": None,
    },
    "encrypt/drop_trigger.sql.j2": {"trigger": None, "table": None},
    "encrypt/finalize_batch.sql.j2": dict(_T),
    "encrypt/invalidate_function.sql.j2": {"function": None},
    "encrypt/next_key.sql.j2": dict(_T),
    "encrypt/range_batch.sql.j2": {**_T, "options": "cipher-algo=aes256, s2k-mode=1"},
    "encrypt/refused.sql.j2": dict(_T),
    "encrypt/remaining.sql.j2": dict(_T),
    "encrypt/remaining_plain.sql.j2": dict(_T),
    "encrypt/rotate_batch.sql.j2": {**_T, "options": "cipher-algo=aes256"},
    "encrypt/status.sql.j2": {**_T, "sample": True},
    "encrypt/try_decrypt_function.sql.j2": {"function": None},
}
