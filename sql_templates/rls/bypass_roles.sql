-- Roles that are never bound by row level security.
SELECT rolname::text, rolsuper, rolbypassrls, rolcanlogin
  FROM pg_roles
 WHERE (rolsuper OR rolbypassrls)
   AND rolname NOT LIKE 'pg\_%%'
 ORDER BY rolname;
