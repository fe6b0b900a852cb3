-- Supervision tasks (督查督办): the programme's measures decomposed into tasks with a lead
-- unit, cooperating units and a deadline (a row of `deadline`, step 'complete'), and the
-- units' progress reports.

CREATE TABLE task (
    tenant_id     TEXT NOT NULL REFERENCES tenant (id),
    id            TEXT NOT NULL,
    number        TEXT NOT NULL,
    measure       TEXT NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL,
    lead_unit_id  TEXT NOT NULL,
    state         TEXT NOT NULL CHECK (state IN ('assigned', 'in_progress', 'submitted', 'completed')),
    due_on        TEXT NOT NULL,
    progress      INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    completed_at  TEXT,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    FOREIGN KEY (tenant_id, lead_unit_id) REFERENCES unit (tenant_id, id)
);

CREATE TABLE task_unit (
    tenant_id  TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('lead', 'cooperating')),
    PRIMARY KEY (tenant_id, task_id, unit_id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES task (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX task_unit_unit ON task_unit (tenant_id, unit_id);

CREATE TABLE task_report (
    tenant_id  TEXT NOT NULL,
    id         TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    progress   INTEGER NOT NULL,
    text       TEXT NOT NULL,
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, task_id) REFERENCES task (tenant_id, id)
);
CREATE INDEX task_report_task ON task_report (tenant_id, task_id, at);
