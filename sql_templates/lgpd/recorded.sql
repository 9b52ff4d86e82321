-- Which of these erasure receipts this database holds (lgpd reapply skips them).
SELECT request_id::text
FROM auroractl.lgpd_requests
WHERE request_id = ANY (%(ids)s::uuid[])
