-- The tenant root table's key: the tenant column when it has one, else its one-column
-- primary key; with the key's base type (through a domain).
SELECT a.attname::text,
       format_type(COALESCE(NULLIF(ty.typbasetype, 0), a.atttypid), NULL) AS base_type
  FROM pg_attribute a
  JOIN pg_type ty ON ty.oid = a.atttypid
 WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped
   AND (a.attname = %(column)s
        OR a.attnum = (SELECT x.indkey[0] FROM pg_index x
                        WHERE x.indrelid = %(oid)s AND x.indisprimary AND x.indnatts = 1))
 ORDER BY a.attname = %(column)s DESC
 LIMIT 1;
