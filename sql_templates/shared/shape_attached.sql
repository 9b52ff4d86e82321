-- A partition's indexes that are attached to an index of its parent (ATTACH adopts them).
SELECT ic.relname::text
FROM pg_index ix
JOIN pg_class ic ON ic.oid = ix.indexrelid
WHERE ix.indrelid = %(oid)s
  AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = ix.indexrelid)
