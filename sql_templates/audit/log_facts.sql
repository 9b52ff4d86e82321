-- The audit log, the trigger function's version tag, hstore's schema, today (UTC), whether
-- the log has row_pks, whether its GIN index on row_pks is valid (NULL: none), and its
-- partitions with the state of their own index on row_pks (valid, invalid or NULL: none).
SELECT to_regclass('audit.audit_log') IS NOT NULL,
       obj_description(to_regprocedure('audit.log_change()'), 'pg_proc'),
       (SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'hstore'),
       current_date,
       EXISTS (SELECT 1 FROM pg_attribute
                WHERE attrelid = to_regclass('audit.audit_log') AND attname = 'row_pks'
                  AND NOT attisdropped),
       (SELECT x.indisvalid FROM pg_index x
         WHERE x.indexrelid = to_regclass('audit.audit_log_rows_idx')),
       coalesce((SELECT jsonb_agg(jsonb_build_array(c.relname::text,
                    (SELECT CASE WHEN x.indisvalid THEN 'valid' ELSE 'invalid' END
                       FROM pg_index x
                      WHERE x.indexrelid = to_regclass(format('audit.%I',
                                left(c.relname || '_row_pks_idx', 63))))) ORDER BY c.relname)
                   FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                  WHERE i.inhparent = to_regclass('audit.audit_log')), '[]'::jsonb)
