-- Which of the named columns a relation has.
SELECT attname
FROM pg_attribute
WHERE attrelid = %(oid)s AND attnum > 0 AND NOT attisdropped AND attname = ANY(%(columns)s)
