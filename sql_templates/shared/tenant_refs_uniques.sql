-- A table's valid unique indexes on plain columns without a predicate: name, the
-- constraint it backs (NULL for a bare index), its key columns in order.
SELECT c.relname::text, con.conname::text,
       ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(n, o)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n ORDER BY k.o)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                            AND con.contype IN ('p', 'u')
WHERE i.indrelid = to_regclass(%(table)s) AND i.indisunique AND i.indisvalid
  AND i.indpred IS NULL AND i.indexprs IS NULL
  AND i.indnkeyatts = i.indnatts
ORDER BY c.relname
