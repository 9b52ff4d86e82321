-- Remember when this migration started (session setting), for its duration in the ledger.
SELECT set_config('auroractl.migration_started', clock_timestamp()::text, false)
