-- Reorganisation (机构改革) and record history (timelines).
--
-- A unit dissolved by a merge or split keeps its row (inactive, with the day it ended), and a
-- renamed unit keeps its former names with the day each stopped being used, so records made
-- earlier stay attributed to the unit as it was. Days are 'YYYY-MM-DD' text, as in the calendar.

ALTER TABLE unit ADD COLUMN dissolved_on TEXT;

CREATE TABLE unit_former_name (
    tenant_id          TEXT NOT NULL,
    unit_id            TEXT NOT NULL,
    valid_until        TEXT NOT NULL,
    name               TEXT NOT NULL,
    reorganisation_id  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, unit_id, valid_until),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);

CREATE TABLE reorganisation (
    tenant_id     TEXT NOT NULL REFERENCES tenant (id),
    id            TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('rename', 'merge', 'split')),
    state         TEXT NOT NULL CHECK (state IN ('planned', 'applied', 'cancelled')),
    effective_on  TEXT NOT NULL,
    document      TEXT NOT NULL,
    plan          TEXT NOT NULL,
    last_error    TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    applied_at    TIMESTAMPTZ,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX reorganisation_due ON reorganisation (state, effective_on);

-- The units a reorganisation touches, so a unit's page finds them: 'source' (renamed,
-- dissolved or split) and 'target' (merged into, or made by a split).
CREATE TABLE reorganisation_unit (
    tenant_id          TEXT NOT NULL,
    reorganisation_id  TEXT NOT NULL,
    unit_id            TEXT NOT NULL,
    role               TEXT NOT NULL CHECK (role IN ('source', 'target')),
    PRIMARY KEY (tenant_id, reorganisation_id, unit_id, role),
    FOREIGN KEY (tenant_id, reorganisation_id) REFERENCES reorganisation (tenant_id, id)
);
CREATE INDEX reorganisation_unit_unit ON reorganisation_unit (tenant_id, unit_id);

-- What happened to a business record, for the people who work with it (not the audit log):
-- an event code with its parameters, who acted (an audit actor, resolved to a name when shown
-- to staff) and who may read it ('public': the submitter too; 'internal': staff only).
CREATE TABLE record_history (
    tenant_id    TEXT NOT NULL REFERENCES tenant (id),
    record_type  TEXT NOT NULL,
    record_id    TEXT NOT NULL,
    seq          BIGINT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    event        TEXT NOT NULL,
    actor        TEXT NOT NULL,
    audience     TEXT NOT NULL CHECK (audience IN ('public', 'internal')),
    detail       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, record_type, record_id, seq)
);
