-- The audit log, the trigger function's version tag, hstore's schema and today (UTC).
SELECT to_regclass('audit.audit_log') IS NOT NULL,
       obj_description(to_regprocedure('audit.log_change()'), 'pg_proc'),
       (SELECT n.nspname::text FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
        WHERE e.extname = 'hstore'),
       current_date
