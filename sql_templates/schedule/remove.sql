SELECT cron.unschedule(%(name)s)
