-- Tables (and views) a migration can name as t.<name>: per name, the one in the
-- preferred schema, else the one visible on the search_path, else the first by schema.
SELECT DISTINCT ON (c.relname) c.relname, n.nspname
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'auroractl')
  AND n.nspname NOT LIKE 'pg\_%%'
ORDER BY c.relname, (n.nspname = %(schema)s) DESC, pg_table_is_visible(c.oid) DESC, n.nspname
