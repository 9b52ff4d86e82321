-- Dashboard per empresa (requirements 2.2), aggregating each child table on its own
-- before joining: joining escolas x alunos x contratos first multiplies SUM(valor_total)
-- by the fan-out and explodes the row count.
SELECT e.id,
       e.nome,
       coalesce(es.total_escolas, 0) AS total_escolas,
       coalesce(al.total_alunos, 0)  AS total_alunos,
       coalesce(ct.receita_total, 0) AS receita_total
FROM empresas e
LEFT JOIN (SELECT empresa_id, count(*) AS total_escolas FROM escolas GROUP BY empresa_id) es
       ON es.empresa_id = e.id
LEFT JOIN (SELECT empresa_id, count(*) AS total_alunos FROM alunos GROUP BY empresa_id) al
       ON al.empresa_id = e.id
LEFT JOIN (SELECT empresa_id, sum(valor_total) AS receita_total FROM contratos GROUP BY empresa_id) ct
       ON ct.empresa_id = e.id
