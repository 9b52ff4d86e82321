-- A table's own foreign keys to another table: name, columns, referenced columns, validated.
SELECT con.conname::text,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i),
       con.convalidated
FROM pg_constraint con
WHERE con.contype = 'f' AND con.conrelid = to_regclass(%(table)s)
  AND con.confrelid = to_regclass(%(referenced)s)
ORDER BY con.conname
