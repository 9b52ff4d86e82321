SELECT obj_description(%(oid)s::oid, 'pg_class')
