-- What a table's readers see of it besides its rows: owner, comment, RLS switch, and per
-- column the comment and the statistics target (-1: the default).
SELECT pg_get_userbyid(c.relowner)::text, obj_description(c.oid, 'pg_class'), c.relrowsecurity,
       ARRAY(SELECT ARRAY[a.attname::text, col_description(c.oid, a.attnum)]
             FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum),
       ARRAY(SELECT ARRAY[a.attname::text, a.attstattarget::text]
             FROM pg_attribute a
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             ORDER BY a.attnum)
FROM pg_class c
WHERE c.oid = %(oid)s
