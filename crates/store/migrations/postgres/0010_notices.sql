-- Supervision notices (督办单): issued with a number when a deadline turns red, escalated
-- from the unit's head (level 1) to its 分管区领导 (2) and the supervisor (3) while it stays
-- overdue, closed when the deadline is met.

CREATE TABLE notice (
    tenant_id     TEXT NOT NULL REFERENCES tenant (id),
    id            TEXT NOT NULL,
    year          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    number        TEXT NOT NULL,
    deadline_id   TEXT NOT NULL,
    record_type   TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    step          TEXT NOT NULL,
    unit_id       TEXT,
    due_at        TIMESTAMPTZ NOT NULL,
    issued_at     TIMESTAMPTZ NOT NULL,
    level         INTEGER NOT NULL CHECK (level IN (1, 2, 3)),
    escalated_at  TIMESTAMPTZ,
    closed_at     TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, year, seq),
    UNIQUE (tenant_id, deadline_id)
);
CREATE INDEX notice_open ON notice (tenant_id, issued_at) WHERE closed_at IS NULL;
CREATE INDEX notice_record ON notice (tenant_id, record_type, record_id);
