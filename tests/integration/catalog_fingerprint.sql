-- What the catalog says about a table and everything hanging on it, without OIDs: equal
-- before and after a change that claims to leave the table as it was. %(table)s: its name.
WITH t AS (SELECT %(table)s::regclass::oid AS oid)
SELECT 'table', format('%s %s owner=%s rls=%s/%s replident=%s options=%s acl=%s comment=%s',
       c.relname, c.relkind, pg_get_userbyid(c.relowner), c.relrowsecurity,
       c.relforcerowsecurity, c.relreplident, c.reloptions, c.relacl,
       obj_description(c.oid, 'pg_class'))
FROM pg_class c, t WHERE c.oid = t.oid
UNION ALL
SELECT 'column', format('%s %s notnull=%s default=%s identity=%s generated=%s stats=%s comment=%s',
       a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated, a.attstattarget,
       col_description(a.attrelid, a.attnum))
FROM pg_attribute a JOIN t ON a.attrelid = t.oid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', format('%s on %s: %s valid=%s deferrable=%s/%s', con.conname,
       con.conrelid::regclass, pg_get_constraintdef(con.oid), con.convalidated,
       con.condeferrable, con.condeferred)
FROM pg_constraint con, t WHERE con.conrelid = t.oid OR con.confrelid = t.oid
UNION ALL
SELECT 'index', pg_get_indexdef(i.indexrelid) || ' ' || coalesce(obj_description(i.indexrelid, 'pg_class'), '')
FROM pg_index i JOIN t ON i.indrelid = t.oid
UNION ALL
SELECT 'trigger', format('%s on %s enabled=%s comment=%s', pg_get_triggerdef(tg.oid),
       tg.tgrelid::regclass, tg.tgenabled, obj_description(tg.oid, 'pg_trigger'))
FROM pg_trigger tg
WHERE NOT tg.tgisinternal
  AND (tg.tgrelid = (SELECT oid FROM t)
       OR tg.tgrelid IN (SELECT conrelid FROM pg_constraint WHERE confrelid = (SELECT oid FROM t))
       OR tg.tgname LIKE 'auroractl%')
UNION ALL
SELECT 'policy', format('%s %s %s roles=%s using=%s check=%s', p.polname, p.polcmd,
       p.polpermissive, p.polroles::regrole[], pg_get_expr(p.polqual, p.polrelid),
       pg_get_expr(p.polwithcheck, p.polrelid))
FROM pg_policy p JOIN t ON p.polrelid = t.oid
UNION ALL
SELECT 'sequence', format('%s deptype=%s column=%s type=%s start=%s inc=%s last=%s acl=%s',
       s.relname, d.deptype, a.attname, format_type(sq.seqtypid, NULL), sq.seqstart,
       sq.seqincrement, pg_sequence_last_value(s.oid), s.relacl)
FROM pg_depend d JOIN t ON d.refobjid = t.oid
JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
JOIN pg_sequence sq ON sq.seqrelid = s.oid
JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
UNION ALL
SELECT 'view', format('%s %s options=%s acl=%s: %s', v.relname, v.relkind, v.reloptions,
       v.relacl, pg_get_viewdef(v.oid))
FROM pg_class v
WHERE v.relkind IN ('v', 'm') AND v.oid IN (
    SELECT r.ev_class FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = (SELECT oid FROM t))
UNION ALL
SELECT 'publication', format('%s cols=%s where=%s', p.pubname, pr.prattrs,
       pg_get_expr(pr.prqual, pr.prrelid))
FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
JOIN t ON pr.prrelid = t.oid
UNION ALL
SELECT 'relation in schema', format('%s %s', c.relname, c.relkind)
FROM pg_class c
WHERE c.relnamespace = (SELECT relnamespace FROM pg_class WHERE oid = (SELECT oid FROM t))
  AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
UNION ALL
SELECT 'function in auroractl', p.proname::text
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'auroractl'
ORDER BY 1, 2
