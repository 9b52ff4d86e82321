-- How often each table changes: write counters since the last statistics reset.
SELECT relname, schemaname, n_tup_ins + n_tup_upd + n_tup_del AS writes
FROM pg_stat_user_tables
