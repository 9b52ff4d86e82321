-- The audit trail, newest first, with optional filters (NULL = no filter).
SELECT id, changed_at, table_name, operation, row_pk, app_user_id, db_user,
       host(client_addr) AS client_addr, txid, changed_columns, redacted_columns,
       old_values, new_values
  FROM audit.audit_log
 WHERE (%(table)s::text IS NULL OR table_name = %(table)s)
   AND (%(since)s::timestamptz IS NULL OR changed_at >= %(since)s)
   AND (%(user)s::bigint IS NULL OR app_user_id = %(user)s)
   AND (%(row_id)s::text IS NULL OR row_pk = %(row_id)s)
 ORDER BY changed_at DESC, id DESC
 LIMIT %(limit)s;
