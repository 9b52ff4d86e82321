-- User triggers (not internal, not auroractl's mirrors), deparsed, with their state,
-- comment, whether a row trigger has transition tables (no partitioned table may), and
-- the function they call.
SELECT t.tgname::text, pg_get_triggerdef(t.oid), t.tgenabled::text,
       obj_description(t.oid, 'pg_trigger'),
       (t.tgtype & 1) = 1 AND (t.tgoldtable IS NOT NULL OR t.tgnewtable IS NOT NULL),
       t.tgfoid::regproc::text
FROM pg_trigger t
WHERE t.tgrelid = %(oid)s AND NOT t.tgisinternal AND t.tgname <> ALL (%(exclude)s)
ORDER BY t.tgname
