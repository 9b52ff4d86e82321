SELECT count(*) FROM webhook_events
WHERE status = 'failed' AND (%(id)s::bigint IS NULL OR id = %(id)s)
