-- Attachments of records (a task's progress reports today; evidence and appeal files later):
-- the file lives in the data directory (attachments/<tenant>/<id>), written atomically; the
-- row keeps its name, type, size and SM3 digest. Who may read one is the record's policy.

CREATE TABLE attachment (
    tenant_id     TEXT NOT NULL REFERENCES tenant (id),
    id            TEXT NOT NULL,
    record_type   TEXT NOT NULL,
    record_id     TEXT NOT NULL,
    file_name     TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    sm3           TEXT NOT NULL,
    actor         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX attachment_record ON attachment (tenant_id, record_type, record_id);
