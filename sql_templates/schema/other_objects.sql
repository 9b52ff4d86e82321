-- Objects in the schema besides the given tables and what moves with them (indexes,
-- owned sequences, row types): a schema with any is not dropped by revert.
SELECT count(*) FROM (
    SELECT c.oid FROM pg_class c
    WHERE c.relnamespace = to_regnamespace(%(schema)s)
      AND NOT c.oid = ANY(%(oids)s::oid[])
      AND NOT (c.relkind IN ('i', 'I')
               AND EXISTS (SELECT 1 FROM pg_index i
                           WHERE i.indexrelid = c.oid AND i.indrelid = ANY(%(oids)s::oid[])))
      AND NOT (c.relkind = 'S'
               AND EXISTS (SELECT 1 FROM pg_depend d
                           WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                             AND d.refobjid = ANY(%(oids)s::oid[]) AND d.deptype IN ('a', 'i')))
    UNION ALL
    SELECT p.oid FROM pg_proc p WHERE p.pronamespace = to_regnamespace(%(schema)s)
    UNION ALL
    SELECT t.oid FROM pg_type t
    WHERE t.typnamespace = to_regnamespace(%(schema)s) AND t.typrelid = 0
      AND t.typcategory <> 'A'
) o
