SELECT d.jobid, j.jobname, d.runid, d.status, d.start_time, d.end_time,
       extract(epoch FROM d.end_time - d.start_time)::float8 AS duration_s,
       d.return_message
FROM cron.job_run_details d
LEFT JOIN cron.job j ON j.jobid = d.jobid
WHERE (%(job)s::text IS NULL OR j.jobname = %(job)s)
ORDER BY d.start_time DESC NULLS LAST, d.runid DESC
LIMIT %(limit)s
