-- Notifications: an outbox row per recipient and channel, written in the transaction of the
-- event (a task assigned, a deadline due within a working day, overdue, a notice issued).
-- The in-app inbox reads its channel's rows; mail and SMS drivers will send theirs.

CREATE TABLE notification (
    tenant_id    TEXT NOT NULL REFERENCES tenant (id),
    id           TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    channel      TEXT NOT NULL CHECK (channel IN ('inbox', 'email', 'sms')),
    event        TEXT NOT NULL,
    record_type  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    title        TEXT NOT NULL,
    url          TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'read', 'failed')),
    created_at   TEXT NOT NULL,
    read_at      TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notification_inbox ON notification (tenant_id, account_id, channel, state);
