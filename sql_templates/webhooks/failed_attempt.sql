UPDATE webhook_events
SET status = CASE WHEN attempts >= %(max_attempts)s THEN 'failed' ELSE 'pending' END,
    next_attempt_at = now() + make_interval(secs => %(backoff_s)s),
    locked_until = NULL, last_error = %(error)s, last_http_status = %(http_status)s
WHERE id = %(id)s AND attempts = %(attempt)s AND status = 'delivering'
