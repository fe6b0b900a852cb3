-- A unit's request for the one extension of a deadline, decided by the approver (the
-- supervisor): pending → approved (the deadline is extended in the same transaction) or
-- refused.

CREATE TABLE extension_request (
    tenant_id      TEXT NOT NULL REFERENCES tenant (id),
    id             TEXT NOT NULL,
    deadline_id    TEXT NOT NULL,
    record_type    TEXT NOT NULL,
    record_id      TEXT NOT NULL,
    unit_id        TEXT,
    days           INTEGER NOT NULL,
    reason         TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    requested_at   TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
    decided_by     TEXT,
    decided_at     TEXT,
    decision_note  TEXT,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, deadline_id) REFERENCES deadline (tenant_id, id)
);
CREATE INDEX extension_request_record ON extension_request (tenant_id, record_type, record_id);
CREATE UNIQUE INDEX extension_request_one_pending ON extension_request (tenant_id, deadline_id) WHERE state = 'pending';
