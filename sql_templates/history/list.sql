SELECT id, finished_at, duration_ms, db_user, os_user, command, summary, statements,
       outcome, error
FROM auroractl.operations
WHERE (%(command)s::text IS NULL OR command LIKE %(command)s || '%%')
ORDER BY id DESC
LIMIT %(limit)s
