-- The application role's attributes and whether the current user may SET ROLE to it.
SELECT r.rolname::text, r.rolsuper, r.rolbypassrls, r.rolcanlogin,
       pg_has_role(current_user, r.oid, 'MEMBER') AS current_user_is_member
  FROM pg_roles r
 WHERE r.rolname = %(role)s;
