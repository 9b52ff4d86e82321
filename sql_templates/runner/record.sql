INSERT INTO auroractl.operations
    (duration_ms, os_user, client_host, command, summary, sql_sha256, statements,
     outcome, error, version, kind, rows, resources, region)
VALUES
    (%(duration_ms)s, %(os_user)s, %(client_host)s, %(command)s, %(summary)s, %(sha256)s,
     %(statements)s, %(outcome)s, %(error)s, %(version)s, %(kind)s, %(rows)s,
     %(resources)s, %(region)s)
RETURNING id
