-- Sessions of these roles connected to this database now.
SELECT usename, count(*)
FROM pg_stat_activity
WHERE datname = current_database() AND usename = ANY(%(roles)s)
GROUP BY usename
ORDER BY usename
