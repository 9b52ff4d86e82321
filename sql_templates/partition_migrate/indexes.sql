-- Indexes with their constraint kind, plain key columns (NULL when an expression is
-- involved) and the deparsed definition after "ON table " (identifiers already quoted).
SELECT ic.relname::text,
       con.contype::text,
       con.conname::text,
       ix.indisunique,
       ix.indisprimary,
       CASE WHEN ix.indexprs IS NULL AND ix.indpred IS NULL THEN
           ARRAY(SELECT a.attname::text
                 FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                 WHERE k.ord <= ix.indnkeyatts
                 ORDER BY k.ord)
       END AS key_columns,
       substr(pg_get_indexdef(ix.indexrelid),
              strpos(pg_get_indexdef(ix.indexrelid), ' USING ') + 1) AS tail,
       obj_description(ix.indexrelid, 'pg_class')
FROM pg_index ix
JOIN pg_class ic ON ic.oid = ix.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = ix.indexrelid AND con.conrelid = ix.indrelid
WHERE ix.indrelid = %(oid)s
ORDER BY ix.indisprimary DESC, ic.relname
