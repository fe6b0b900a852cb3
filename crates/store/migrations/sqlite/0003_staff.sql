-- Staff (人员) of a tenant's units: a primary unit and further units for part-time posts
-- (兼职). The phone is personal data: stored only sealed with SM4 (`phone_enc`, see
-- store::crypto::FieldCipher) and as a keyed blind index (`phone_index`) for exact search.
-- Units get their head (负责人) and the district leader in charge (分管区领导), both staff.

CREATE TABLE staff (
    tenant_id    TEXT NOT NULL REFERENCES tenant (id),
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    unit_id      TEXT NOT NULL,
    position     TEXT NOT NULL,
    phone_enc    TEXT,
    phone_index  TEXT,
    active       INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX staff_phone ON staff (tenant_id, phone_index);
CREATE INDEX staff_unit_primary ON staff (tenant_id, unit_id);

CREATE TABLE staff_unit (
    tenant_id  TEXT NOT NULL,
    staff_id   TEXT NOT NULL,
    unit_id    TEXT NOT NULL,
    PRIMARY KEY (tenant_id, staff_id, unit_id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);
CREATE INDEX staff_unit_unit ON staff_unit (tenant_id, unit_id);

-- SQLite cannot add a two-column foreign key to an existing table; the store checks that
-- both name an active staff member of the tenant (PostgreSQL also enforces it).
ALTER TABLE unit ADD COLUMN head_staff_id TEXT;
ALTER TABLE unit ADD COLUMN leader_staff_id TEXT;
