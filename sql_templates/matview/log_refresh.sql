INSERT INTO auroractl.matview_refreshes (matview, started_at, duration_ms, row_count, concurrent)
VALUES (%(matview)s, %(started_at)s, %(duration_ms)s, %(row_count)s, %(concurrent)s)
