SELECT DISTINCT ON (matview) matview, started_at, duration_ms, row_count, concurrent
FROM auroractl.matview_refreshes
ORDER BY matview, started_at DESC
