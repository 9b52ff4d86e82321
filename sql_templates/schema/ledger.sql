-- What `schema split apply` changed, so that `revert` undoes exactly that.
CREATE SCHEMA IF NOT EXISTS auroractl;
CREATE TABLE IF NOT EXISTS auroractl.schema_split (
    id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('schema', 'grant', 'search_path', 'table')),
    schema_name text        NOT NULL,   -- the domain schema
    object      text,                   -- table or role
    from_schema text,                   -- table: where it was
    previous    text[],                 -- search_path: the role's previous setting here
    recorded_at timestamptz NOT NULL DEFAULT now(),
    recorded_by text        NOT NULL DEFAULT current_user
);
