-- The leading group (领导小组) and its working groups (工作组), with members and duties.

CREATE TABLE org_group (
    tenant_id   TEXT NOT NULL REFERENCES tenant (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    parent_id   TEXT,
    duties      TEXT NOT NULL,
    sort_order  INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name),
    FOREIGN KEY (tenant_id, parent_id) REFERENCES org_group (tenant_id, id)
);

CREATE TABLE org_group_member (
    tenant_id  TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    staff_id   TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('head', 'deputy', 'member', 'liaison')),
    PRIMARY KEY (tenant_id, group_id, staff_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES org_group (tenant_id, id),
    FOREIGN KEY (tenant_id, staff_id) REFERENCES staff (tenant_id, id)
);
