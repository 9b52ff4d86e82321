SELECT id, request_id::text, kind, subject_table, subject_id, status, requested_at, due_at,
       completed_at, operator, tables, legal_holds, error,
       CASE WHEN status = 'completed' THEN completed_at > due_at ELSE now() > due_at END AS overdue
FROM auroractl.lgpd_requests
WHERE (%(status)s::text IS NULL OR status = %(status)s)
  AND (%(subject_ids)s::text[] IS NULL OR subject_id = ANY (%(subject_ids)s::text[]))
ORDER BY id DESC
LIMIT %(limit)s
