-- Replication slots: an active consumer holds a connection open, so the instance never pauses.
SELECT slot_name, slot_type, coalesce(plugin, '') AS plugin, active
FROM pg_catalog.pg_replication_slots
ORDER BY slot_name
