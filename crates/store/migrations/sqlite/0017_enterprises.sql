-- The enterprise registry (企业库): one row per enterprise, keyed in the tenant by its unified
-- social credit code; the contact's phone sealed with its blind index; the name's bigrams in
-- `enterprise_gram` so a search by any two-character fragment reads an index, then checks the
-- normalised name.

CREATE TABLE enterprise (
    tenant_id            TEXT NOT NULL REFERENCES tenant (id),
    id                   TEXT NOT NULL,
    uscc                 TEXT NOT NULL,
    name                 TEXT NOT NULL,
    name_norm            TEXT NOT NULL,
    legal_rep            TEXT NOT NULL,
    address              TEXT NOT NULL,
    street_id            TEXT,
    industry_code        TEXT,
    leading_industry     TEXT,
    scale                TEXT,
    established_on       TEXT,
    capital              BIGINT,
    status               TEXT NOT NULL,
    contact_name         TEXT NOT NULL,
    contact_phone_enc    TEXT,
    contact_phone_index  TEXT,
    key_enterprise       INTEGER NOT NULL,
    liaison_leader_id    TEXT,
    liaison_unit_id      TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, uscc),
    FOREIGN KEY (tenant_id, street_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, liaison_unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX enterprise_street ON enterprise (tenant_id, street_id);
CREATE INDEX enterprise_key ON enterprise (tenant_id, key_enterprise);
CREATE INDEX enterprise_phone ON enterprise (tenant_id, contact_phone_index);

CREATE TABLE enterprise_gram (
    tenant_id      TEXT NOT NULL,
    gram           TEXT NOT NULL,
    enterprise_id  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, gram, enterprise_id)
);
CREATE INDEX enterprise_gram_enterprise ON enterprise_gram (tenant_id, enterprise_id);
