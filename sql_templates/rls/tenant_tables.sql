-- Tables (plain or partitioned) with a tenant column, their RLS flags, policies and indexes.
SELECT n.nspname AS schema,
       c.relname AS name,
       c.relkind::text AS relkind,
       c.relispartition AS is_partition,
       (SELECT pn.nspname || '.' || pc.relname
          FROM pg_inherits i
          JOIN pg_class pc ON pc.oid = i.inhparent
          JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid LIMIT 1) AS parent,
       pg_get_userbyid(c.relowner) AS owner,
       format_type(a.atttypid, a.atttypmod) AS column_type,
       format_type(COALESCE(NULLIF(ty.typbasetype, 0), a.atttypid), NULL) AS base_type,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       COALESCE((SELECT array_agg(p.polname::text ORDER BY p.polname)
                   FROM pg_policy p WHERE p.polrelid = c.oid), '{}') AS policies,
       COALESCE((SELECT array_agg(p.polname::text || '=' || COALESCE(obj_description(p.oid, 'pg_policy'), '')
                                  ORDER BY p.polname)
                   FROM pg_policy p WHERE p.polrelid = c.oid), '{}') AS policy_comments,
       EXISTS (SELECT 1 FROM pg_index x
                WHERE x.indrelid = c.oid AND x.indkey[0] = a.attnum) AS has_tenant_index,
       CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s)
            THEN has_table_privilege(%(role)s, c.oid, 'SELECT,INSERT,UPDATE,DELETE')
            ELSE false END AS app_role_has_access,
       -- sequences a column DEFAULT calls nextval() on (serial, or a plain DEFAULT
       -- nextval): an INSERT by the application role needs USAGE on them (identity
       -- columns do not); only those the role lacks.
       COALESCE((SELECT array_agg(ARRAY[sn.nspname::text, sq.relname::text] ORDER BY sq.relname)
                   FROM pg_attrdef ad
                   JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                                   AND d.refclassid = 'pg_class'::regclass
                   JOIN pg_class sq ON sq.oid = d.refobjid AND sq.relkind = 'S'
                   JOIN pg_namespace sn ON sn.oid = sq.relnamespace
                  WHERE ad.adrelid = c.oid
                    -- CASE: the privilege check runs on sequences only, whatever the order
                    AND NOT CASE WHEN sq.relkind = 'S'
                                  AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s)
                                 THEN has_sequence_privilege(%(role)s, sq.oid, 'USAGE')
                                 ELSE false END),
                '{}') AS sequences_to_grant
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = %(column)s
                     AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type ty ON ty.oid = a.atttypid
 WHERE c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'auroractl')
   AND n.nspname NOT LIKE 'pg\_%%'
 ORDER BY c.relispartition, n.nspname, c.relname;
