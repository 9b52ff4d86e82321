UPDATE webhook_events
SET status = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL,
    locked_until = NULL
WHERE status = 'failed' AND (%(id)s::bigint IS NULL OR id = %(id)s)
