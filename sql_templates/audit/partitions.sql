-- audit.audit_log's partitions with their bounds and sizes.
SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid) AS bound,
       c.reltuples::bigint AS rows_estimate, pg_total_relation_size(c.oid) AS bytes
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
 WHERE i.inhparent = 'audit.audit_log'::regclass
 ORDER BY c.relname;
