-- Each migrations directory is its own series (`[migrate] series`, `--series`; `demo`
-- for the demo's migrations shipped with auroractl): a version is applied per series,
-- so one directory's migrations never show as pending or changed for another.
ALTER TABLE auroractl.schema_migrations
    ADD COLUMN IF NOT EXISTS series text NOT NULL DEFAULT 'default';

-- Rows written before series existed: those of the shipped demo migrations (same
-- version and checksum) belong to `demo`, any other to the user's `default` series.
UPDATE auroractl.schema_migrations
SET series = 'demo'
WHERE (version, checksum) IN (
    (1, '738ebee80d535964b43625e8aab13216838cd72c80ab3158eafbc61ebf6839c6'),
    (2, '09b92058ed743783b73753f4567f9c040ddd3cd1489d3f2359e8b45361e82d6f'),
    (3, '0f1bd177474a01ff7d81db969bca558d681a8baefc364db1cf7e6025b7eedfaf'),
    (4, 'b7a7f087014141f18fbed6e6a087a879365d3ae8bbf2e3d6c2f83ec533f19a1e'),
    (5, '06d0ad76549e3be5815b90f2293b06a5b8aed6630a6633226dd30afea4867031'));

ALTER TABLE auroractl.schema_migrations DROP CONSTRAINT schema_migrations_pkey;
ALTER TABLE auroractl.schema_migrations ADD PRIMARY KEY (series, version);
