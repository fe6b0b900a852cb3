//! Record history (timelines): the `record_history` table, written inside the same
//! transaction as the change it tells of, read per record. What a reader is shown is decided
//! by `domain::history`; names of actors are resolved here for staff readers.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::history::Audience;

use crate::db::with_pool;
use crate::{Result, Store, StoreError};

/// One entry of a record's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// Position in the record's timeline, from 1.
    pub seq: i64,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened: a code such as `created`, `renamed`, `merged_into`.
    pub event: String,
    /// Who acted, as the audit log names them (`user:<id>`, `cli:<os user>`, `demo`, `system`).
    pub actor: String,
    /// Who may read it.
    pub audience: Audience,
    /// The event's parameters (names, dates, ids), never personal data.
    pub detail: serde_json::Value,
}

/// An entry to append.
#[derive(Debug, Clone)]
pub(crate) struct NewHistory<'a> {
    pub(crate) record_type: &'a str,
    pub(crate) record_id: &'a str,
    pub(crate) event: &'a str,
    pub(crate) audience: Audience,
    pub(crate) detail: serde_json::Value,
}

/// Appends an entry to a record's timeline inside the caller's transaction.
macro_rules! history {
    ($tx:expr, $tenant_id:expr, $ctx:expr, $at:expr, $entry:expr) => {{
        let entry: &$crate::history::NewHistory<'_> = $entry;
        let ctx: &$crate::audit::AuditCtx = $ctx;
        let tenant_id: &str = $tenant_id;
        let seq: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) + 1 FROM record_history \
             WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3",
        )
        .bind(tenant_id)
        .bind(entry.record_type)
        .bind(entry.record_id)
        .fetch_one(&mut *$tx)
        .await?;
        sqlx::query(
            "INSERT INTO record_history (tenant_id, record_type, record_id, seq, at, event, actor, audience, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(tenant_id)
        .bind(entry.record_type)
        .bind(entry.record_id)
        .bind(seq)
        .bind($at)
        .bind(entry.event)
        .bind(&ctx.actor)
        .bind(entry.audience.as_str())
        .bind(entry.detail.to_string())
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use history;

#[derive(sqlx::FromRow)]
struct HistoryRow {
    seq: i64,
    at: DateTime<Utc>,
    event: String,
    actor: String,
    audience: String,
    detail: String,
}

impl Store {
    /// The timeline of one record, oldest first.
    pub async fn history(
        &self,
        tenant_id: &str,
        record_type: &str,
        record_id: &str,
    ) -> Result<Vec<HistoryEntry>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, HistoryRow>(
                "SELECT seq, at, event, actor, audience, detail FROM record_history \
                 WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 ORDER BY seq",
            )
            .bind(tenant_id)
            .bind(record_type)
            .bind(record_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(HistoryEntry {
                    seq: r.seq,
                    at: r.at,
                    event: r.event,
                    actor: r.actor,
                    audience: r.audience.parse().map_err(|e: String| {
                        StoreError::Other(anyhow::anyhow!("record_history: {e}"))
                    })?,
                    detail: serde_json::from_str(&r.detail)
                        .map_err(|e| StoreError::Other(anyhow::anyhow!("record_history: {e}")))?,
                })
            })
            .collect()
    }

    /// The display names of the accounts among `actors` (`user:<id>`), keyed by actor.
    pub async fn actor_names(
        &self,
        tenant_id: &str,
        actors: &[&str],
    ) -> Result<HashMap<String, String>> {
        let mut names = HashMap::new();
        for actor in actors {
            if names.contains_key(*actor) {
                continue;
            }
            if let Some(id) = actor.strip_prefix("user:")
                && let Some(account) = self.account(tenant_id, id).await?
            {
                names.insert((*actor).to_owned(), account.display_name);
            }
        }
        Ok(names)
    }
}
