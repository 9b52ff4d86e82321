-- Whether the table has a unique index a foreign key can reference on exactly these
-- columns (key columns only, no predicate, no expression).
SELECT EXISTS (
    SELECT FROM pg_index i
    WHERE i.indrelid = %(oid)s AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      AND i.indnkeyatts = cardinality(%(columns)s::text[])
      AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text)
           FROM pg_attribute a
           WHERE a.attrelid = i.indrelid
             AND a.attnum = ANY ((i.indkey::int2[])[0:i.indnkeyatts - 1]))
          = (SELECT array_agg(c ORDER BY c) FROM unnest(%(columns)s::text[]) AS c)
)
