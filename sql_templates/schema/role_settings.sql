-- Each role's search_path setting: for this database, for all databases, and this
-- database's own; NULL where none.
SELECT r.rolname,
       (SELECT s FROM pg_db_role_setting d, unnest(d.setconfig) s
        WHERE d.setrole = r.oid AND d.setdatabase = db.oid AND s LIKE 'search\_path=%%'),
       (SELECT s FROM pg_db_role_setting d, unnest(d.setconfig) s
        WHERE d.setrole = r.oid AND d.setdatabase = 0 AND s LIKE 'search\_path=%%'),
       (SELECT s FROM pg_db_role_setting d, unnest(d.setconfig) s
        WHERE d.setrole = 0 AND d.setdatabase = db.oid AND s LIKE 'search\_path=%%'),
       (SELECT boot_val FROM pg_settings WHERE name = 'search_path')
FROM pg_roles r
CROSS JOIN (SELECT oid FROM pg_database WHERE datname = current_database()) db
WHERE r.rolname = ANY(%(roles)s)
