-- Jobs run in the application database, from the database pg_cron lives in (Aurora).
SELECT cron.schedule_in_database(%(name)s, %(schedule)s, %(command)s, %(database)s)
