-- Appeals (诉求), SPEC "Appeals". Categories (Open311 services) with a default lead unit and
-- routes by street; the appeal with its submitter sealed and blind-indexed (name, phone),
-- each step's deadline as a row of `deadline` (record 'appeal', steps dispatch, accept, reply,
-- callback, a later round's name carrying its number) and the measured actuals copied here
-- for the figures; co-handling units (协办) each with their part and their own deadline
-- (step 'cohandle:<unit id>'); every callback attempt; the daily numbering.

CREATE TABLE appeal_category (
    tenant_id    TEXT NOT NULL REFERENCES tenant (id),
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    unit_id      TEXT,
    sort_order   BIGINT NOT NULL,
    active       BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, code),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);

CREATE TABLE appeal_route (
    tenant_id      TEXT NOT NULL,
    category_code  TEXT NOT NULL,
    street_id      TEXT NOT NULL,
    unit_id        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, category_code, street_id),
    FOREIGN KEY (tenant_id, category_code) REFERENCES appeal_category (tenant_id, code),
    FOREIGN KEY (tenant_id, street_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);

CREATE TABLE appeal_seq (
    tenant_id  TEXT NOT NULL,
    day        TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE appeal (
    tenant_id              TEXT NOT NULL REFERENCES tenant (id),
    id                     TEXT NOT NULL,
    number                 TEXT NOT NULL,
    tracking_code          TEXT NOT NULL,
    kind                   TEXT NOT NULL CHECK (kind IN ('demand', 'complaint', 'suggestion', 'consultation', 'dispute')),
    source                 TEXT NOT NULL CHECK (source IN ('portal', 'hall', 'duty', 'meeting', 'visit', 'secretary', 'hotline', 'open311')),
    category_code          TEXT NOT NULL,
    street_id              TEXT,
    enterprise_id          TEXT,
    title                  TEXT NOT NULL,
    content                TEXT NOT NULL,
    address                TEXT NOT NULL,
    publish                BOOLEAN NOT NULL,
    submitter_name_enc     TEXT,
    submitter_name_index   TEXT,
    submitter_phone_enc    TEXT,
    submitter_phone_index  TEXT,
    submitter_account_id   TEXT,
    external_id            TEXT,
    secretary              BOOLEAN NOT NULL,
    state                  TEXT NOT NULL CHECK (state IN ('submitted', 'dispatched', 'returned', 'accepted', 'replied', 'called_back', 'closed')),
    proposed_unit_id       TEXT,
    lead_unit_id           TEXT,
    returns                BIGINT NOT NULL,
    reopens                BIGINT NOT NULL,
    missed_callbacks       BIGINT NOT NULL,
    return_reason          TEXT,
    reply                  TEXT,
    status_notes           TEXT NOT NULL,
    received_at            TIMESTAMPTZ NOT NULL,
    dispatched_at          TIMESTAMPTZ,
    accept_due_at          TIMESTAMPTZ,
    accepted_at            TIMESTAMPTZ,
    accept_minutes         BIGINT,
    accept_on_time         BOOLEAN,
    reply_due_at           TIMESTAMPTZ,
    replied_at             TIMESTAMPTZ,
    reply_minutes          BIGINT,
    reply_on_time          BOOLEAN,
    called_back_at         TIMESTAMPTZ,
    callback_contacted     BOOLEAN,
    callback_resolved      BOOLEAN,
    callback_process       TEXT,
    callback_result        TEXT,
    closed_at              TIMESTAMPTZ,
    created_by             TEXT NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    UNIQUE (tracking_code),
    FOREIGN KEY (tenant_id, category_code) REFERENCES appeal_category (tenant_id, code),
    FOREIGN KEY (tenant_id, street_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, enterprise_id) REFERENCES enterprise (tenant_id, id),
    FOREIGN KEY (tenant_id, proposed_unit_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, lead_unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX appeal_received ON appeal (tenant_id, received_at);
-- a unit's appeals, newest first (with the co-handlers' rows, one side of the queue's OR)
CREATE INDEX appeal_unit ON appeal (tenant_id, lead_unit_id, received_at);
CREATE INDEX appeal_state ON appeal (tenant_id, state, received_at);
CREATE INDEX appeal_accept_due ON appeal (tenant_id, accept_due_at);
CREATE INDEX appeal_called_back ON appeal (tenant_id, called_back_at);
CREATE UNIQUE INDEX appeal_external ON appeal (tenant_id, source, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE appeal_cohandler (
    tenant_id   TEXT NOT NULL,
    appeal_id   TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    part        TEXT,
    done_at     TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, appeal_id, unit_id),
    FOREIGN KEY (tenant_id, appeal_id) REFERENCES appeal (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX appeal_cohandler_unit ON appeal_cohandler (tenant_id, unit_id);

CREATE TABLE appeal_callback (
    tenant_id   TEXT NOT NULL,
    id          TEXT NOT NULL,
    appeal_id   TEXT NOT NULL,
    contacted   BOOLEAN NOT NULL,
    resolved    BOOLEAN,
    process     TEXT,
    result      TEXT,
    gave_up     BOOLEAN NOT NULL,
    note        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, appeal_id) REFERENCES appeal (tenant_id, id)
);
CREATE INDEX appeal_callback_appeal ON appeal_callback (tenant_id, appeal_id);
