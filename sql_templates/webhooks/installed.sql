-- The outbox, its trigger function, whether subscriptions name their table (the layout of
-- this version) rather than hold its OID (an older install), and whether they exist.
SELECT to_regclass('webhook_events') IS NOT NULL,
       to_regprocedure('criar_webhook_event()') IS NOT NULL,
       EXISTS (SELECT FROM pg_catalog.pg_attribute
               WHERE attrelid = to_regclass('webhook_subscriptions')
                 AND attname = 'table_schema' AND NOT attisdropped),
       to_regclass('webhook_subscriptions') IS NOT NULL
