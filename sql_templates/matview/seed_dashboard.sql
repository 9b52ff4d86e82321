-- The requirements document's original query, kept only to benchmark and test against.
SELECT e.id,
       e.nome,
       COUNT(DISTINCT es.id) AS total_escolas,
       COUNT(DISTINCT a.id)  AS total_alunos,
       SUM(c.valor_total)    AS receita_total
FROM empresas e
LEFT JOIN escolas es ON es.empresa_id = e.id
LEFT JOIN alunos a ON a.empresa_id = e.id
LEFT JOIN contratos c ON c.empresa_id = e.id
GROUP BY e.id, e.nome
