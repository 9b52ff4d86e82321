-- pg_cron's active jobs, when pg_cron lives in this database (cron.database_name).
SELECT jobid, coalesce(jobname, '') AS jobname, schedule
FROM cron.job
WHERE active
ORDER BY jobid
