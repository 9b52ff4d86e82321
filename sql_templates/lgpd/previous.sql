-- The latest completed erasure of a subject (for idempotent re-runs).
SELECT id, request_id::text, requested_at, due_at, completed_at, tables, legal_holds, identifiers
FROM auroractl.lgpd_requests
WHERE kind = 'erasure' AND status = 'completed'
  AND subject_table = %(subject_table)s AND subject_id = %(subject_id)s
ORDER BY id DESC
LIMIT 1
