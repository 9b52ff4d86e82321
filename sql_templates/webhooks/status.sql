SELECT event_type, status, count(*) AS events,
       extract(epoch FROM now() - min(created_at) FILTER (WHERE status = 'pending'))::float8
           AS oldest_pending_s,
       max(attempts) AS max_attempts
FROM webhook_events
GROUP BY event_type, status
ORDER BY event_type, status
