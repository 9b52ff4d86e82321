SELECT jobid, jobname, schedule, command, database, username, active
FROM cron.job
ORDER BY jobname NULLS LAST, jobid
