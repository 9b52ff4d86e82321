INSERT INTO auroractl.restore_tests
    (started_at, backend, source, restored, outcome, rto_s, rpo_s, checks_failed, error,
     os_user, client_host, report)
VALUES
    (%(started_at)s, %(backend)s, %(source)s, %(restored)s, %(outcome)s, %(rto_s)s, %(rpo_s)s,
     %(checks_failed)s, %(error)s, %(os_user)s, %(client_host)s, %(report)s)
RETURNING id
