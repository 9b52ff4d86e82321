-- User triggers (not constraint triggers, not auroractl's mirrors), deparsed.
SELECT t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled::text
FROM pg_trigger t
WHERE t.tgrelid = %(oid)s AND NOT t.tgisinternal AND t.tgname <> ALL (%(exclude)s)
ORDER BY t.tgname
