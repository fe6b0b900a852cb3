-- Mail and SMS: the outbox rows of those channels are claimed by the sender (next_at is the
-- earliest next attempt, or the end of a claim while one is sending), retried with backoff,
-- and each user's choice of what reaches them where is kept with their sealed addresses.

ALTER TABLE notification ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notification ADD COLUMN next_at TIMESTAMPTZ;
ALTER TABLE notification ADD COLUMN sent_at TIMESTAMPTZ;
ALTER TABLE notification ADD COLUMN last_error TEXT;
CREATE INDEX notification_outbox ON notification (next_at) WHERE state = 'queued';

CREATE TABLE notification_preference (
    tenant_id     TEXT NOT NULL REFERENCES tenant (id),
    account_id    TEXT NOT NULL,
    email_enc     TEXT,
    mobile_enc    TEXT,
    email_events  TEXT NOT NULL,
    sms_events    TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, account_id),
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id)
);
