-- What an UPDATE of the table fires besides auroractl's own invalidation trigger: the
-- user's triggers on it and its partitions (name, tgenabled: O origin, A always, R replica),
-- and the foreign keys that hold the column a job writes (in replica mode they are not
-- checked, so that column must be in none).
WITH rels AS (
    SELECT %(oid)s::oid AS relid
    UNION
    SELECT relid FROM pg_partition_tree(%(oid)s)
), trg AS (
    SELECT CASE WHEN t.tgrelid = %(oid)s THEN t.tgname::text
                ELSE t.tgrelid::regclass::text || '.' || t.tgname END AS name,
           t.tgenabled::text AS enabled
      FROM pg_trigger t
      JOIN rels r ON r.relid = t.tgrelid
     WHERE NOT t.tgisinternal
       AND t.tgparentid = 0                -- a partition's clone is its parent's trigger
       AND t.tgtype & 16 <> 0              -- TRIGGER_TYPE_UPDATE
       AND t.tgenabled <> 'D'
       AND t.tgfoid IS DISTINCT FROM to_regprocedure('auroractl.encrypt_invalidate()')
)
SELECT (SELECT coalesce(json_agg(json_build_array(name, enabled) ORDER BY name), '[]') FROM trg),
       ARRAY(SELECT c.conname::text
               FROM pg_constraint c
              WHERE c.contype = 'f'
                AND (EXISTS (SELECT 1 FROM pg_attribute a
                              WHERE a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
                                AND c.conrelid IN (SELECT relid FROM rels)
                                AND a.attname = %(column)s)
                  OR EXISTS (SELECT 1 FROM pg_attribute a
                              WHERE a.attrelid = c.confrelid AND a.attnum = ANY (c.confkey)
                                AND c.confrelid IN (SELECT relid FROM rels)
                                AND a.attname = %(column)s))
              ORDER BY 1)
