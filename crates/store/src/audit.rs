//! The audit context every write takes, and the append to `audit_log` that runs inside the
//! writer's transaction. One chain per tenant plus the installation chain `*`; the head row
//! in `audit_chain` is updated first, which serialises concurrent writers of a chain.
//!
//! The keyed HMAC-SM3 hash of each entry (and the chain heads kept outside the database)
//! arrive with accounts and audit (issue 3); until then `prev_hash`/`hash` stay empty.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// Who is writing and from where; required by every write function of the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditCtx {
    /// `user:<id>`, `token:<name>`, `cli:<os user>`, `demo` or `system`.
    pub actor: String,
    /// The client address, when the write came over the network.
    pub client_ip: Option<String>,
}

impl AuditCtx {
    /// A write from the command line, attributed to the operating-system user.
    pub fn cli() -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        Self {
            actor: format!("cli:{user}"),
            client_ip: None,
        }
    }

    /// Demo seeding.
    pub fn demo() -> Self {
        Self {
            actor: "demo".to_owned(),
            client_ip: None,
        }
    }

    /// The platform itself (shipped data, scheduled jobs).
    pub fn system() -> Self {
        Self {
            actor: "system".to_owned(),
            client_ip: None,
        }
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// The tenant whose chain records it; `None` for installation-wide data.
    pub tenant_id: Option<&'a str>,
    /// What was done: `create`, `update`, `load`, `seed`, …
    pub action: &'a str,
    /// The table or aggregate changed.
    pub entity: &'a str,
    /// Its id (or a batch id for a batch).
    pub entity_id: &'a str,
    /// The changed fields (personal fields only as blind index), or per-row digests of a batch.
    pub changes: Value,
}

impl AuditEntry<'_> {
    pub(crate) fn chain(&self) -> &str {
        self.tenant_id.unwrap_or("*")
    }
}

/// An entry as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRecord {
    /// The chain (tenant id or `*`).
    pub chain: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To which entity.
    pub entity: String,
    /// Its id.
    pub entity_id: String,
    /// Changed fields as JSON text.
    pub changes: String,
}

/// Appends `$entry` for `$ctx` at `$at` inside the open transaction `$tx` (either backend).
macro_rules! append {
    ($tx:expr, $ctx:expr, $at:expr, $entry:expr) => {{
        let entry: &$crate::audit::AuditEntry<'_> = $entry;
        let ctx: &$crate::audit::AuditCtx = $ctx;
        let chain = entry.chain();
        sqlx::query(
            "INSERT INTO audit_chain (chain, seq, hash) VALUES ($1, 0, '') ON CONFLICT (chain) DO NOTHING",
        )
        .bind(chain)
        .execute(&mut *$tx)
        .await?;
        let (seq, prev_hash): (i64, String) = sqlx::query_as(
            "UPDATE audit_chain SET seq = seq + 1 WHERE chain = $1 RETURNING seq, hash",
        )
        .bind(chain)
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit_log (chain, seq, tenant_id, at, actor, client_ip, action, entity, entity_id, changes, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '')",
        )
        .bind(chain)
        .bind(seq)
        .bind(entry.tenant_id)
        .bind($at)
        .bind(&ctx.actor)
        .bind(&ctx.client_ip)
        .bind(entry.action)
        .bind(entry.entity)
        .bind(entry.entity_id)
        .bind(entry.changes.to_string())
        .bind(prev_hash)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use append;

impl crate::Store {
    /// The newest `limit` entries of a chain (tenant id, or `*` for the installation), newest first.
    pub async fn audit_entries(&self, chain: &str, limit: i64) -> crate::Result<Vec<AuditRecord>> {
        let rows = crate::db::with_pool!(self, pool => {
            sqlx::query_as::<_, AuditRecord>(
                "SELECT chain, seq, at, actor, action, entity, entity_id, changes FROM audit_log \
                 WHERE chain = $1 ORDER BY seq DESC LIMIT $2",
            )
            .bind(chain)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }
}
