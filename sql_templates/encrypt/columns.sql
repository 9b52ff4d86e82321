-- The table's primary key columns (with types) and whether the named columns exist;
-- whether auroractl's decrypt helper is the outdated PARALLEL SAFE one (prepare replaces it).
SELECT ARRAY(SELECT a.attname::text
               FROM pg_index x
               CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
              WHERE x.indrelid = %(oid)s AND x.indisprimary ORDER BY k.ord) AS pk,
       ARRAY(SELECT format_type(a.atttypid, NULL)
               FROM pg_index x
               CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
              WHERE x.indrelid = %(oid)s AND x.indisprimary ORDER BY k.ord) AS pk_types,
       (SELECT format_type(atttypid, NULL) FROM pg_attribute
         WHERE attrelid = %(oid)s AND attname = %(column)s AND attnum > 0 AND NOT attisdropped),
       (SELECT format_type(atttypid, NULL) FROM pg_attribute
         WHERE attrelid = %(oid)s AND attname = %(target)s AND attnum > 0 AND NOT attisdropped),
       EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = %(oid)s AND tgname = %(trigger)s),
       to_regprocedure('auroractl.encrypt_try_decrypt(bytea,text)') IS NOT NULL,
       to_regprocedure('auroractl.encrypt_invalidate()') IS NOT NULL,
       (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = %(oid)s),
       (SELECT relname::text FROM pg_class WHERE oid = %(oid)s),
       EXISTS (SELECT 1 FROM pg_proc
                WHERE oid = to_regprocedure('auroractl.encrypt_try_decrypt(bytea,text)')
                  AND proparallel <> 'u');
