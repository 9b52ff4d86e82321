-- Foreign keys and the empresa_id indexes a multi-tenant schema lives on.
ALTER TABLE escolas        ADD FOREIGN KEY (empresa_id) REFERENCES empresas (id);
ALTER TABLE alunos         ADD FOREIGN KEY (empresa_id) REFERENCES empresas (id);
ALTER TABLE alunos         ADD FOREIGN KEY (escola_id)  REFERENCES escolas (id);
ALTER TABLE professores    ADD FOREIGN KEY (empresa_id) REFERENCES empresas (id);
ALTER TABLE professores    ADD FOREIGN KEY (escola_id)  REFERENCES escolas (id);
ALTER TABLE usuarios       ADD FOREIGN KEY (empresa_id) REFERENCES empresas (id);
ALTER TABLE ai_preferences ADD FOREIGN KEY (empresa_id) REFERENCES empresas (id);
ALTER TABLE ai_preferences ADD FOREIGN KEY (usuario_id) REFERENCES usuarios (id) ON DELETE CASCADE;
ALTER TABLE contratos      ADD FOREIGN KEY (empresa_id) REFERENCES empresas (id);
ALTER TABLE contratos      ADD FOREIGN KEY (aluno_id)   REFERENCES alunos (id);

CREATE INDEX escolas_empresa_id_idx        ON escolas (empresa_id);
CREATE INDEX alunos_empresa_id_idx         ON alunos (empresa_id);
CREATE INDEX alunos_escola_id_idx          ON alunos (escola_id);
CREATE INDEX professores_empresa_id_idx    ON professores (empresa_id);
CREATE INDEX professores_escola_id_idx     ON professores (escola_id);
CREATE INDEX usuarios_empresa_id_idx       ON usuarios (empresa_id);
CREATE UNIQUE INDEX usuarios_email_key     ON usuarios (email);
CREATE INDEX ai_preferences_usuario_id_idx ON ai_preferences (usuario_id);
CREATE INDEX ai_preferences_empresa_id_idx ON ai_preferences (empresa_id);
CREATE INDEX contratos_empresa_id_idx      ON contratos (empresa_id);
CREATE INDEX contratos_aluno_id_idx        ON contratos (aluno_id);
