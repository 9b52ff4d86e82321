-- A table's indexes with what copying them needs: the backing constraint (PK / UNIQUE /
-- EXCLUDE) deparsed, the plain key columns (NULL when an expression or predicate is
-- involved) and the definition after "ON [ONLY] schema.table " (identifiers already
-- quoted by PostgreSQL; NULL if the definition does not start as expected).
SELECT ic.relname::text,
       con.conname::text,
       CASE WHEN con.oid IS NOT NULL THEN pg_get_constraintdef(con.oid) END,
       ix.indisunique,
       ix.indisprimary,
       CASE WHEN ix.indexprs IS NULL AND ix.indpred IS NULL THEN
           ARRAY(SELECT a.attname::text
                 FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                 WHERE k.ord <= ix.indnkeyatts
                 ORDER BY k.ord)
       END,
       CASE WHEN starts_with(pg_get_indexdef(ix.indexrelid), p.prefix)
            THEN substr(pg_get_indexdef(ix.indexrelid), length(p.prefix) + 1) END,
       obj_description(ix.indexrelid, 'pg_class')
FROM pg_index ix
JOIN pg_class ic ON ic.oid = ix.indexrelid
JOIN pg_class tc ON tc.oid = ix.indrelid
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid
CROSS JOIN LATERAL (
    SELECT 'CREATE ' || CASE WHEN ix.indisunique THEN 'UNIQUE ' ELSE '' END || 'INDEX '
           || quote_ident(ic.relname) || ' ON '
           || CASE WHEN ic.relkind = 'I' THEN 'ONLY ' ELSE '' END
           || quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) || ' ' AS prefix
) AS p
WHERE ix.indrelid = %(oid)s
ORDER BY ix.indisprimary DESC, ic.relname
