-- Only the dispatcher holding this attempt's claim may settle it.
UPDATE webhook_events
SET status = 'delivered', delivered_at = now(), locked_until = NULL,
    last_http_status = %(http_status)s, last_error = NULL
WHERE id = %(id)s AND attempts = %(attempt)s AND status = 'delivering'
