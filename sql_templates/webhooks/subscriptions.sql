-- Each subscription and whether it can fire: its table exists (by name), and carries the
-- trigger of each operation it subscribes (auroractl's webhook_<event>_<op>, or any
-- trigger calling criar_webhook_event with the event).
SELECT s.id, s.event_type, s.table_schema, s.table_name, s.operations, s.endpoint_url,
       s.active, c.oid IS NOT NULL AS table_exists,
       ARRAY(SELECT op FROM unnest(s.operations) AS op
             WHERE c.oid IS NULL OR NOT EXISTS (
                 SELECT FROM pg_catalog.pg_trigger t
                 WHERE t.tgrelid = c.oid AND t.tgenabled <> 'D'
                   AND t.tgfoid = 'criar_webhook_event()'::regprocedure
                   AND (t.tgname = left('webhook_' || s.event_type || '_' || op, 63)
                        OR (t.tgtype & CASE op WHEN 'insert' THEN 4 WHEN 'delete' THEN 8
                                               ELSE 16 END) <> 0
                           AND position(convert_to(s.event_type, 'UTF8') IN t.tgargs) > 0)))
           AS missing_triggers
FROM webhook_subscriptions s
LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.table_schema
LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.table_name
ORDER BY s.id
