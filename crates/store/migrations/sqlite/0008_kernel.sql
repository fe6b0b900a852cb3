-- The workflow kernel: deadlines of workflow steps with their cards, and the job table.
--
-- A deadline row keeps the rule (`spec`: limit, pauses, extension as JSON) and what was
-- computed from it (due, yellow moment, provisional, paused), so the card sweep only reads
-- the rows crossing a threshold through the two partial indexes.

CREATE TABLE deadline (
    tenant_id       TEXT NOT NULL REFERENCES tenant (id),
    id              TEXT NOT NULL,
    record_type     TEXT NOT NULL,
    record_id       TEXT NOT NULL,
    step            TEXT NOT NULL,
    unit_id         TEXT,
    spec            TEXT NOT NULL,
    due_at          TEXT NOT NULL,
    yellow_at       TEXT NOT NULL,
    provisional     INTEGER NOT NULL,
    paused          INTEGER NOT NULL,
    card            TEXT NOT NULL CHECK (card IN ('none', 'yellow', 'red')),
    open            INTEGER NOT NULL,
    met_at          TEXT,
    worked_minutes  BIGINT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, record_type, record_id, step)
);
CREATE INDEX deadline_to_yellow ON deadline (yellow_at) WHERE open AND NOT paused AND card = 'none';
CREATE INDEX deadline_to_red ON deadline (due_at) WHERE open AND NOT paused AND card <> 'red';
CREATE INDEX deadline_provisional ON deadline (tenant_id) WHERE open AND provisional;

-- Background jobs: claimed with a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
-- writer), enqueued once per dedupe key, retried with backoff until max attempts.
CREATE TABLE job (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT,
    kind         TEXT NOT NULL,
    dedupe_key   TEXT NOT NULL UNIQUE,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_at       TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    lease_owner  TEXT,
    lease_until  TEXT,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX job_due ON job (state, run_at);
