-- Tables whose rows row-level security would hide from the current role even in an
-- auroractl maintenance session: pg_dump could not copy them whole. Tables we own that
-- carry the maintenance policy of `auroractl rls enable` are readable in full. Extension
-- configuration tables are reported separately (is_ext_config) so their data can be left
-- out of the drill.
SELECT n.nspname, c.relname,
       EXISTS (SELECT 1 FROM pg_extension e WHERE c.oid = ANY (e.extconfig)) AS is_ext_config
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND c.relrowsecurity
  AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))
  AND NOT (pg_has_role(c.relowner, 'USAGE')
           AND EXISTS (SELECT 1 FROM pg_policy p
                       WHERE p.polrelid = c.oid AND p.polname = 'auroractl_maintenance'))
  AND NOT (SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user)
ORDER BY 1, 2
