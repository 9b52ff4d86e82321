-- Publications naming the table (FOR TABLE), with its column list and row filter.
SELECT p.pubname::text,
       ARRAY(SELECT a.attname::text FROM unnest(pr.prattrs) AS k(attnum)
             JOIN pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.attnum
             ORDER BY a.attnum),
       pg_get_expr(pr.prqual, pr.prrelid),
       p.pubviaroot
FROM pg_publication_rel pr
JOIN pg_publication p ON p.oid = pr.prpubid
WHERE pr.prrelid = %(oid)s
ORDER BY 1
