SELECT pg_advisory_unlock(hashtext('auroractl migrate'))
