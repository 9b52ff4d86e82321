-- Whether the audit log exists, and whether it holds grouped entries (row_pks).
SELECT to_regclass('audit.audit_log') IS NOT NULL,
       EXISTS (SELECT 1 FROM pg_attribute
                WHERE attrelid = to_regclass('audit.audit_log') AND attname = 'row_pks'
                  AND NOT attisdropped)
