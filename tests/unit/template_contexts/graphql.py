"""Render contexts for sql_templates/graphql/: ``None`` stands for a hostile identifier."""

CONTEXTS = {
    "graphql/create_authenticator.sql.j2": {"role": None},
    "graphql/grant_member.sql.j2": {"role": None, "member": None},
    "graphql/grant_connect.sql.j2": {"database": None, "role": None},
    "graphql/revoke_table.sql.j2": {"table": None, "role": None},
}
