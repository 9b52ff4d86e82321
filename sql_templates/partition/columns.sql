-- Insertable columns of a table, in order (no dropped or generated columns).
SELECT a.attname::text
FROM pg_attribute a
WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attnum
