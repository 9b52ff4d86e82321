INSERT INTO auroractl.operations
    (duration_ms, os_user, client_host, command, summary, sql_sha256, statements,
     outcome, error, version)
VALUES
    (%(duration_ms)s, %(os_user)s, %(client_host)s, %(command)s, %(summary)s, %(sql_sha256)s,
     %(statements)s, %(outcome)s, %(error)s, %(version)s)
RETURNING id
