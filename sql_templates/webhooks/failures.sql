SELECT coalesce(last_error, 'HTTP ' || last_http_status) AS reason, count(*) AS events
FROM webhook_events
WHERE status = 'failed' OR (status = 'pending' AND attempts > 0)
GROUP BY 1
ORDER BY 2 DESC
LIMIT 10
