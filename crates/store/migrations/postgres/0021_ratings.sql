-- Service items and cases (事项、办件), ratings (好差评) and bad ratings (差评), SPEC "Service
-- items and cases" and "Ratings".
--
-- A rating link (评价码) is an unguessable token naming what it rates: a window (its QR card)
-- or a case (its receipt); the token is looked up, never parsed, so altering it names nothing.
-- A rating's rater is sealed with SM4 and blind-indexed (name, phone); the device is kept only
-- as a keyed hash. Running totals per responsible unit × month × item × channel are updated in
-- the rating's own transaction, so dashboards read a few hundred rows whatever the volume.
-- A bad rating's steps run on the kernel (record 'bad_rating', steps verify, rectify, …).

CREATE TABLE service_item (
    tenant_id      TEXT NOT NULL REFERENCES tenant (id),
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    unit_id        TEXT NOT NULL,
    category       TEXT NOT NULL,
    levels         TEXT NOT NULL,
    promised_days  BIGINT NOT NULL,
    legal_days     BIGINT NOT NULL,
    max_visits     BIGINT NOT NULL,
    materials      TEXT NOT NULL,
    online         BOOLEAN NOT NULL,
    active         BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, code),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);

CREATE TABLE service_case (
    tenant_id      TEXT NOT NULL REFERENCES tenant (id),
    id             TEXT NOT NULL,
    number         TEXT NOT NULL,
    item_code      TEXT NOT NULL,
    unit_id        TEXT NOT NULL,
    window_id      TEXT,
    staff_id       TEXT,
    enterprise_id  TEXT,
    level          TEXT NOT NULL CHECK (level IN ('district', 'street', 'community')),
    channel        TEXT NOT NULL CHECK (channel IN ('window', 'online', 'mail')),
    status         TEXT NOT NULL CHECK (status IN ('received', 'processing', 'completed', 'refused', 'withdrawn')),
    visits         BIGINT NOT NULL,
    result         TEXT NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    completed_at   TIMESTAMPTZ,
    working_days   BIGINT,
    on_time        BOOLEAN,
    rating_token   TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, number),
    UNIQUE (rating_token),
    FOREIGN KEY (tenant_id, item_code) REFERENCES service_item (tenant_id, code),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, window_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, enterprise_id) REFERENCES enterprise (tenant_id, id)
);
CREATE INDEX service_case_unit ON service_case (tenant_id, unit_id, completed_at);
CREATE INDEX service_case_completed ON service_case (tenant_id, completed_at);

-- The QR links of windows (a case's link is its rating_token).
CREATE TABLE rating_link (
    token       TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenant (id),
    window_id   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (tenant_id, window_id) REFERENCES unit (tenant_id, id)
);
CREATE UNIQUE INDEX rating_link_window ON rating_link (tenant_id, window_id);

CREATE TABLE rating (
    tenant_id         TEXT NOT NULL REFERENCES tenant (id),
    id                TEXT NOT NULL,
    target            TEXT NOT NULL CHECK (target IN ('case', 'window', 'staff', 'department')),
    case_id           TEXT,
    window_id         TEXT,
    staff_id          TEXT,
    unit_id           TEXT NOT NULL,
    item_code         TEXT NOT NULL,
    channel           TEXT NOT NULL CHECK (channel IN ('device', 'qr', 'online', 'sms', 'hotline', 'visit')),
    process           BIGINT NOT NULL CHECK (process BETWEEN 1 AND 5),
    result            BIGINT NOT NULL CHECK (result BETWEEN 1 AND 5),
    reasons           TEXT NOT NULL,
    comment           TEXT NOT NULL,
    rater_name_enc    TEXT,
    rater_name_index  TEXT,
    rater_phone_enc   TEXT,
    rater_phone_index TEXT,
    device            TEXT,
    flags             TEXT NOT NULL,
    counted           BOOLEAN NOT NULL,
    month             TEXT NOT NULL,
    rated_at          TIMESTAMPTZ NOT NULL,
    created_by        TEXT NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, case_id) REFERENCES service_case (tenant_id, id),
    FOREIGN KEY (tenant_id, window_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);
-- one rating per case
CREATE UNIQUE INDEX rating_case ON rating (tenant_id, case_id) WHERE case_id IS NOT NULL;
CREATE INDEX rating_unit ON rating (tenant_id, unit_id, rated_at);
CREATE INDEX rating_device ON rating (tenant_id, device, rated_at) WHERE device IS NOT NULL;
CREATE INDEX rating_phone ON rating (tenant_id, rater_phone_index, rated_at) WHERE rater_phone_index IS NOT NULL;

-- Running totals of counted ratings: responsible unit × month × item ('' for none) × channel.
CREATE TABLE rating_total (
    tenant_id          TEXT NOT NULL,
    unit_id            TEXT NOT NULL,
    month              TEXT NOT NULL,
    item_code          TEXT NOT NULL,
    channel            TEXT NOT NULL,
    n                  BIGINT NOT NULL,
    process_satisfied  BIGINT NOT NULL,
    process_points     BIGINT NOT NULL,
    result_satisfied   BIGINT NOT NULL,
    result_points      BIGINT NOT NULL,
    bad                BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, unit_id, month, item_code, channel)
);

-- the units' roll-ups (item_code '*'), what dashboards read
CREATE INDEX rating_total_rollup ON rating_total (tenant_id, item_code, month);

CREATE TABLE bad_rating (
    tenant_id        TEXT NOT NULL,
    rating_id        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('verifying', 'rectifying', 'objected', 'reviewing', 'callback', 'closed', 'invalid', 'withdrawn')),
    anonymous        BOOLEAN NOT NULL,
    unit_id          TEXT NOT NULL,
    staff_id         TEXT,
    objections       BIGINT NOT NULL,
    reworks          BIGINT NOT NULL,
    valid_at         TIMESTAMPTZ,
    verify_note      TEXT,
    objection        TEXT,
    objection_note   TEXT,
    rectification    TEXT,
    unfixable        TEXT,
    callback_note    TEXT,
    satisfied        BOOLEAN,
    closed_at        TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, rating_id),
    FOREIGN KEY (tenant_id, rating_id) REFERENCES rating (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX bad_rating_state ON bad_rating (tenant_id, state, created_at);
CREATE INDEX bad_rating_unit ON bad_rating (tenant_id, unit_id, created_at);
