-- Deadlocks, recovery conflicts and temp files of this database since the last stats reset.
SELECT d.deadlocks,
       d.conflicts,
       d.temp_files,
       d.temp_bytes,
       d.stats_reset,
       pg_postmaster_start_time() AS started_at
  FROM pg_stat_database d
 WHERE d.datname = current_database()
