-- Installation-wide settings (the password and session policy kept by secadmin).
CREATE TABLE installation_setting (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
