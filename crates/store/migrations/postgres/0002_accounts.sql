-- Accounts (one tenant each, username unique in the installation), their sessions, and the
-- login log. Passwords are argon2id PHC strings; session ids are stored as SM3 digests of the
-- cookie token, so a copy of the database cannot be replayed as a session.

CREATE TABLE account (
    tenant_id             TEXT NOT NULL REFERENCES tenant (id),
    id                    TEXT NOT NULL,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    roles                 TEXT NOT NULL,
    unit_id               TEXT,
    uscc                  TEXT,
    failed_count          INTEGER NOT NULL,
    locked_until          TIMESTAMPTZ,
    password_changed_at   TIMESTAMPTZ NOT NULL,
    must_change_password  BOOLEAN NOT NULL,
    disabled              BOOLEAN NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, unit_id) REFERENCES unit (tenant_id, id)
);

CREATE TABLE session (
    id_hash       TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    csrf_token    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    client_ip     TEXT,
    FOREIGN KEY (tenant_id, account_id) REFERENCES account (tenant_id, id)
);
CREATE INDEX session_account ON session (tenant_id, account_id);

CREATE TABLE login_log (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT,
    at          TIMESTAMPTZ NOT NULL,
    username    TEXT NOT NULL,
    account_id  TEXT,
    outcome     TEXT NOT NULL,
    client_ip   TEXT
);
CREATE INDEX login_log_at ON login_log (tenant_id, at);
