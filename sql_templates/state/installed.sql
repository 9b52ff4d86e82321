-- Is the version table there, and did auroractl record anything before it was versioned?
SELECT to_regclass('auroractl.state_version') IS NOT NULL,
       EXISTS (SELECT 1
               FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'auroractl' AND c.relkind IN ('r', 'p')
                 AND c.relname = ANY (%(tables)s))
