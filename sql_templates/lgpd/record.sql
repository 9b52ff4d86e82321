INSERT INTO auroractl.lgpd_requests
    (kind, subject_table, subject_id, status, requested_at, due_at, completed_at, operator,
     tables, legal_holds, error)
VALUES (%(kind)s, %(subject_table)s, %(subject_id)s, %(status)s,
        coalesce(%(requested_at)s::timestamptz, now()),
        coalesce(%(requested_at)s::timestamptz, now()) + interval '15 days',
        CASE WHEN %(status)s = 'completed' THEN clock_timestamp() END,
        %(operator)s, %(tables)s, %(legal_holds)s, %(error)s)
RETURNING id, request_id::text, requested_at, due_at, completed_at
