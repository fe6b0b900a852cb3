-- Milestones (节点) of a supervision task: each with its own deadline on the kernel (step
-- 'milestone:<seq>'), reported reached by the lead unit before it may ask for completion.

CREATE TABLE task_milestone (
    tenant_id  TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    title      TEXT NOT NULL,
    due_on     TEXT NOT NULL,
    done_at    TIMESTAMPTZ,
    done_note  TEXT,
    PRIMARY KEY (tenant_id, task_id, seq),
    FOREIGN KEY (tenant_id, task_id) REFERENCES task (tenant_id, id)
);
