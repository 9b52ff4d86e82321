-- Whether a foreign key of that name exists (one that rls status no longer lists).
SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE contype = 'f' AND conname = %(name)s)
