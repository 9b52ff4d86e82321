-- An index of that name left INVALID by an interrupted CREATE INDEX CONCURRENTLY.
SELECT EXISTS (
    SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.oid = to_regclass(%(index)s) AND NOT i.indisvalid
)
