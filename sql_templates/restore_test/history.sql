SELECT id, started_at, finished_at, backend, source, restored, outcome, rto_s, rpo_s,
       checks_failed, error
FROM auroractl.restore_tests
ORDER BY id DESC
LIMIT %(limit)s
