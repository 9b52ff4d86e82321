-- Under the lock: refuse when another session changed auroractl's tables after this plan
-- was made (its steps would no longer apply). Nothing has been changed yet.
DO $$
DECLARE
    installed integer := 0;
BEGIN
    IF to_regclass('auroractl.state_version') IS NOT NULL THEN
        EXECUTE 'SELECT coalesce(max(version), 0) FROM auroractl.state_version' INTO installed;
    END IF;
    IF installed <> current_setting('auroractl.state_expected')::integer THEN
        RAISE EXCEPTION 'auroractl''s tables were upgraded by another session (now version %)',
            installed USING HINT = 'run the command again';
    END IF;
END
$$
