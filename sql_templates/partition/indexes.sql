-- The parent's indexes, as the statements that recreate them on a standalone table:
-- constraint-backed ones (PK / UNIQUE / EXCLUDE) as ADD CONSTRAINT, the rest as CREATE INDEX.
-- Definitions are deparsed by PostgreSQL itself (identifiers already quoted).
SELECT ic.relname,
       con.oid IS NOT NULL AS is_constraint,
       CASE WHEN con.oid IS NOT NULL THEN pg_get_constraintdef(con.oid) END AS constraint_def,
       ix.indisunique,
       CASE WHEN starts_with(pg_get_indexdef(ix.indexrelid), prefix)
            THEN substr(pg_get_indexdef(ix.indexrelid), length(prefix) + 1) END AS index_tail
FROM pg_index ix
JOIN pg_class ic ON ic.oid = ix.indexrelid
JOIN pg_class tc ON tc.oid = ix.indrelid
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid
CROSS JOIN LATERAL (
    SELECT 'CREATE ' || CASE WHEN ix.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
           || quote_ident(ic.relname) || ' ON ONLY ' || quote_ident(tn.nspname) || '.'
           || quote_ident(tc.relname) || ' ' AS prefix
) AS p
WHERE ix.indrelid = %(oid)s
ORDER BY ic.relname
