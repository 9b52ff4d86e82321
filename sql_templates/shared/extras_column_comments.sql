-- A table's column comments, in column order.
SELECT att.attname::text, col_description(att.attrelid, att.attnum)
FROM pg_attribute att
WHERE att.attrelid = %(oid)s AND att.attnum > 0 AND NOT att.attisdropped
  AND col_description(att.attrelid, att.attnum) IS NOT NULL
ORDER BY att.attnum
