-- Where the hstore extension lives, if it is installed.
SELECT n.nspname::text
  FROM pg_extension e
  JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'hstore';
