-- The outbox, its trigger function, whether subscriptions name their table (the layout of
-- this version) rather than hold its OID (an older install), and whether they exist. The
-- function counts as installed only in this version (its COMMENT).
SELECT to_regclass('webhook_events') IS NOT NULL,
       coalesce(obj_description(to_regprocedure('criar_webhook_event()'), 'pg_proc')
                = 'auroractl webhooks v2', false),
       EXISTS (SELECT FROM pg_catalog.pg_attribute
               WHERE attrelid = to_regclass('webhook_subscriptions')
                 AND attname = 'table_schema' AND NOT attisdropped),
       to_regclass('webhook_subscriptions') IS NOT NULL
