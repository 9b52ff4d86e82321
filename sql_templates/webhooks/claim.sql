-- Claim due events: SKIP LOCKED lets several dispatchers run without taking the same
-- event; an expired lease (a dispatcher that died mid-delivery) makes an event claimable.
WITH due AS (
    SELECT id FROM webhook_events
    WHERE status IN ('pending', 'delivering')
      AND next_attempt_at <= now()
      AND (status = 'pending' OR locked_until < now())
    ORDER BY next_attempt_at, id
    LIMIT %(batch)s
    FOR UPDATE SKIP LOCKED
)
UPDATE webhook_events e
SET status = 'delivering', attempts = e.attempts + 1,
    locked_until = now() + make_interval(secs => %(lease_s)s)
FROM due
WHERE e.id = due.id
RETURNING e.id, e.event_type, e.payload::text, e.endpoint_url, e.attempts,
          e.idempotency_key::text,
          (SELECT secret_env FROM webhook_subscriptions s WHERE s.id = e.subscription_id)
