-- Buffer cache hits vs reads for user tables and their indexes.
SELECT coalesce(sum(heap_blks_hit), 0)::int8 AS heap_hit,
       coalesce(sum(heap_blks_read), 0)::int8 AS heap_read,
       coalesce(sum(idx_blks_hit), 0)::int8 AS idx_hit,
       coalesce(sum(idx_blks_read), 0)::int8 AS idx_read
  FROM pg_statio_user_tables
