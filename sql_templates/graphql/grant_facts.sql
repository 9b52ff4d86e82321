-- What `graphql grant` depends on: the roles, the authenticator's membership and CONNECT,
-- schema USAGE, and the tenant partitions the application role can reach directly.
SELECT current_database(),
       EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s),
       EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(authenticator)s),
       coalesce((SELECT rolcanlogin AND NOT rolinherit FROM pg_roles
                 WHERE rolname = %(authenticator)s), false),
       EXISTS (SELECT 1 FROM pg_auth_members m
               JOIN pg_roles r ON r.oid = m.roleid AND r.rolname = %(role)s
               JOIN pg_roles a ON a.oid = m.member AND a.rolname = %(authenticator)s),
       EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(authenticator)s)
           AND has_database_privilege(%(authenticator)s, current_database(), 'CONNECT')
           AS can_connect,
       ARRAY(SELECT s FROM unnest(%(schemas)s::text[]) s
             WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %(role)s)
                OR NOT has_schema_privilege(%(role)s, s, 'USAGE')) AS schemas_without_usage
