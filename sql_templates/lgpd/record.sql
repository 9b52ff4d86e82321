-- A receipt. request_id: the erasure's own id when lgpd reapply replays it from the
-- erasure log (the same receipt in every copy), else a new one.
INSERT INTO auroractl.lgpd_requests
    (request_id, kind, subject_table, subject_id, status, requested_at, due_at, completed_at,
     operator, tables, legal_holds, error, identifiers, reapplied_at)
VALUES (coalesce(%(request_id)s::uuid, gen_random_uuid()), %(kind)s, %(subject_table)s,
        %(subject_id)s, %(status)s,
        coalesce(%(requested_at)s::timestamptz, now()),
        coalesce(%(requested_at)s::timestamptz, now()) + interval '15 days',
        CASE WHEN %(status)s = 'completed' THEN clock_timestamp() END,
        %(operator)s, %(tables)s, %(legal_holds)s, %(error)s, %(identifiers)s::jsonb,
        CASE WHEN %(reapplied)s THEN clock_timestamp() END)
RETURNING id, request_id::text, requested_at, due_at, completed_at
