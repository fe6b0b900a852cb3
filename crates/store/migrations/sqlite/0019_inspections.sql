-- Inspections (明察暗访), findings (问题) and accountability (问责), SPEC "Inspections and
-- accountability". A covert inspection is seen by its team (`inspection_member`) and the
-- supervisor only; a finding's rectification deadline is a row of `deadline` (record
-- 'finding', step 'rectify') opened when the responsible unit sets its plan; evidence files
-- are attachments of record 'inspection' or 'finding' (those of a submission tied to it by
-- `report_id`).

CREATE TABLE inspection (
    tenant_id   TEXT NOT NULL REFERENCES tenant (id),
    id          TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('open', 'covert')),
    title       TEXT NOT NULL,
    held_on     TEXT NOT NULL,
    notes       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX inspection_held ON inspection (tenant_id, held_on);

CREATE TABLE inspection_member (
    tenant_id      TEXT NOT NULL,
    inspection_id  TEXT NOT NULL,
    account_id     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, inspection_id, account_id),
    FOREIGN KEY (tenant_id, inspection_id) REFERENCES inspection (tenant_id, id)
);
CREATE INDEX inspection_member_account ON inspection_member (tenant_id, account_id);

CREATE TABLE inspection_target (
    tenant_id      TEXT NOT NULL,
    inspection_id  TEXT NOT NULL,
    unit_id        TEXT NOT NULL,
    PRIMARY KEY (tenant_id, inspection_id, unit_id),
    FOREIGN KEY (tenant_id, inspection_id) REFERENCES inspection (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);

CREATE TABLE finding (
    tenant_id      TEXT NOT NULL REFERENCES tenant (id),
    id             TEXT NOT NULL,
    inspection_id  TEXT,
    source         TEXT NOT NULL CHECK (source IN ('inspection', 'self_check', 'duty', 'rating', 'appeal', 'media')),
    category       TEXT NOT NULL,
    severity       TEXT NOT NULL CHECK (severity IN ('general', 'serious', 'severe')),
    description    TEXT NOT NULL,
    found_on       TEXT NOT NULL,
    unit_id        TEXT,
    persons        TEXT NOT NULL,
    state          TEXT NOT NULL CHECK (state IN ('open', 'assigned', 'rectifying', 'submitted', 'verified')),
    published      INTEGER NOT NULL,
    claim_unit_id  TEXT,
    measures       TEXT,
    planned_on     TEXT,
    result         TEXT,
    assigned_at    TEXT,
    submitted_at   TEXT,
    verified_at    TEXT,
    verified_by    TEXT,
    verify_note    TEXT,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, inspection_id) REFERENCES inspection (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id),
    FOREIGN KEY (tenant_id, claim_unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX finding_found ON finding (tenant_id, found_on);
CREATE INDEX finding_unit ON finding (tenant_id, unit_id);
CREATE INDEX finding_inspection ON finding (tenant_id, inspection_id);

CREATE TABLE accountability (
    tenant_id   TEXT NOT NULL REFERENCES tenant (id),
    id          TEXT NOT NULL,
    measure     TEXT NOT NULL,
    unit_id     TEXT NOT NULL,
    person      TEXT NOT NULL,
    basis       TEXT NOT NULL,
    decided_by  TEXT NOT NULL,
    decided_on  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX accountability_unit ON accountability (tenant_id, unit_id);

CREATE TABLE accountability_finding (
    tenant_id          TEXT NOT NULL,
    accountability_id  TEXT NOT NULL,
    finding_id         TEXT NOT NULL,
    PRIMARY KEY (tenant_id, accountability_id, finding_id),
    FOREIGN KEY (tenant_id, accountability_id) REFERENCES accountability (tenant_id, id),
    FOREIGN KEY (tenant_id, finding_id) REFERENCES finding (tenant_id, id)
);
CREATE INDEX accountability_finding_finding ON accountability_finding (tenant_id, finding_id);
