-- The skeleton: tenants and their settings, the unit tree, the installation-wide
-- working-day calendar, the audit log, and the demo seeding ledger.
-- Business tables carry tenant_id first in their keys so they can be distributed by tenant.

CREATE TABLE tenant (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE tenant_setting (
    tenant_id   TEXT NOT NULL REFERENCES tenant (id),
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE unit (
    tenant_id      TEXT NOT NULL REFERENCES tenant (id),
    id             TEXT NOT NULL,
    code           TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('district_office', 'department', 'street', 'community', 'hall', 'window')),
    parent_id      TEXT,
    staffed_by_id  TEXT,
    sort_order     INTEGER NOT NULL,
    active         BOOLEAN NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, code),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, staffed_by_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX unit_parent ON unit (tenant_id, parent_id);

-- Installation-wide: the official schedule of each loaded year.
CREATE TABLE calendar_year (
    year       INTEGER PRIMARY KEY,
    source     TEXT NOT NULL,
    loaded_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE calendar_day (
    day   TEXT PRIMARY KEY,
    year  INTEGER NOT NULL REFERENCES calendar_year (year) ON DELETE CASCADE,
    kind  TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name  TEXT NOT NULL
);

-- Bumped by every calendar change, so running servers reload without a restart.
CREATE TABLE calendar_version (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    version  BIGINT NOT NULL
);
INSERT INTO calendar_version (id, version) VALUES (1, 0);

-- One chain per tenant plus the installation chain ('*'); the head row serialises writers.
CREATE TABLE audit_chain (
    chain  TEXT PRIMARY KEY,
    seq    BIGINT NOT NULL,
    hash   TEXT NOT NULL
);

CREATE TABLE audit_log (
    chain      TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    tenant_id  TEXT,
    at         TIMESTAMPTZ NOT NULL,
    actor      TEXT NOT NULL,
    client_ip  TEXT,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    changes    TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);

CREATE TABLE demo_seed (
    tenant_id  TEXT NOT NULL REFERENCES tenant (id),
    part       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    seeded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, part)
);
