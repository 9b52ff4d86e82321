-- Run by the superuser in the application database (on Aurora the master user may do it).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
