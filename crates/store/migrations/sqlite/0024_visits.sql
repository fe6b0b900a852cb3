-- Liaison visits (包联走访), SPEC "Enterprise registry": a visit to an enterprise on a date by
-- its liaison leader (the staff member), recorded by an account, with its form, the people
-- met and a summary; each issue raised became an appeal (source 'visit'), linked in
-- `visit_appeal`. `account_id` is the recording account or system token (no foreign key: a
-- token is not an account). A leader's account names the staff member it is (`account.staff_id`), so
-- the policy can tell a liaison leader's own enterprises.

CREATE TABLE visit (
    tenant_id        TEXT NOT NULL REFERENCES tenant (id),
    id               TEXT NOT NULL,
    enterprise_id    TEXT NOT NULL,
    account_id       TEXT NOT NULL,
    leader_staff_id  TEXT,
    visited_on       TEXT NOT NULL,
    form             TEXT NOT NULL CHECK (form IN ('onsite', 'forum', 'phone')),
    people           TEXT NOT NULL,
    summary          TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, enterprise_id) REFERENCES enterprise (tenant_id, id),
    FOREIGN KEY (tenant_id, leader_staff_id) REFERENCES staff (tenant_id, id)
);
CREATE INDEX visit_enterprise ON visit (tenant_id, enterprise_id, visited_on);

CREATE TABLE visit_appeal (
    tenant_id  TEXT NOT NULL,
    visit_id   TEXT NOT NULL,
    appeal_id  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, visit_id, appeal_id),
    UNIQUE (tenant_id, appeal_id),
    FOREIGN KEY (tenant_id, visit_id) REFERENCES visit (tenant_id, id),
    FOREIGN KEY (tenant_id, appeal_id) REFERENCES appeal (tenant_id, id)
);

-- SQLite cannot add a two-column foreign key to an existing table; the store checks that it
-- names an active staff member of the tenant (PostgreSQL also enforces it).
ALTER TABLE account ADD COLUMN staff_id TEXT;
