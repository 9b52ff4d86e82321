-- Current value, unit and context of the named server parameters.
SELECT name, setting, unit, context, source, pending_restart
FROM pg_catalog.pg_settings
WHERE name = ANY(%(names)s::text[])
