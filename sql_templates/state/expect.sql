-- The version this plan was made for, read by state/guard.sql under the lock.
SELECT set_config('auroractl.state_expected', %(version)s, true)
