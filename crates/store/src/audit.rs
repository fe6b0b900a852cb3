//! The audit log: every write of the store appends an entry inside the writer's own
//! transaction, so no write path can skip it.
//!
//! One chain per tenant plus the installation chain `*`. Each entry's `hash` is the
//! HMAC-SM3, under the audit key kept outside the database, of its fields and the previous
//! entry's hash. The head of each chain (sequence and hash) is also written to a file in the
//! data directory after each commit, so deleting the newest entries, or re-chaining with
//! database access alone, is found by [`Store::verify_audit`] (`bizenv audit verify`).

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::crypto::{hmac_sm3, sm3_hex};
use crate::db::with_pool;
use crate::{Result, Store};

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

    /// Its keyed hash as entry `seq` of its chain after `prev_hash` ([`entry_hash`]).
    pub(crate) fn hash(
        &self,
        key: &[u8],
        seq: i64,
        ctx: &AuditCtx,
        at: DateTime<Utc>,
        changes: &str,
        prev_hash: &str,
    ) -> String {
        entry_hash(
            key,
            self.chain(),
            seq,
            self.tenant_id,
            at,
            &ctx.actor,
            ctx.client_ip.as_deref(),
            self.action,
            self.entity,
            self.entity_id,
            changes,
            prev_hash,
        )
    }
}

/// The digest of one row of a batch, for the batch's single audit entry.
pub fn row_digest(row: &Value) -> String {
    sm3_hex(row.to_string().as_bytes())
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRecord {
    /// The chain (tenant id or `*`).
    pub chain: String,
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The tenant, if any.
    pub tenant_id: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// From where.
    pub client_ip: Option<String>,
    /// What was done.
    pub action: String,
    /// To which entity.
    pub entity: String,
    /// Its id.
    pub entity_id: String,
    /// Changed fields as JSON text.
    pub changes: String,
    /// The previous entry's hash ("" for the first).
    pub prev_hash: String,
    /// HMAC-SM3 of this entry and `prev_hash`.
    pub hash: String,
}

/// The hash of an entry: HMAC-SM3 under the audit key over its fields in a fixed order.
#[allow(clippy::too_many_arguments)]
pub fn entry_hash(
    key: &[u8],
    chain: &str,
    seq: i64,
    tenant_id: Option<&str>,
    at: DateTime<Utc>,
    actor: &str,
    client_ip: Option<&str>,
    action: &str,
    entity: &str,
    entity_id: &str,
    changes: &str,
    prev_hash: &str,
) -> String {
    let canonical = serde_json::json!([
        chain,
        seq,
        tenant_id,
        at.to_rfc3339_opts(SecondsFormat::Micros, true),
        actor,
        client_ip,
        action,
        entity,
        entity_id,
        changes,
        prev_hash
    ]);
    hex::encode(hmac_sm3(key, canonical.to_string().as_bytes()))
}

/// A chain's newest entry, after a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// The chain.
    #[serde(skip)]
    pub chain: String,
    /// Its newest sequence number.
    pub seq: i64,
    /// Its newest hash.
    pub hash: String,
}

/// Appends `$entry` for `$ctx` at `$at` inside the open transaction `$tx` (either backend)
/// and evaluates to the chain's new [`AuditHead`]; after commit, pass it to
/// `Store::advance_head`.
macro_rules! append {
    ($store:expr, $tx:expr, $ctx:expr, $at:expr, $entry:expr) => {{
        let entry: &$crate::audit::AuditEntry<'_> = $entry;
        let ctx: &$crate::audit::AuditCtx = $ctx;
        let at = chrono::SubsecRound::trunc_subsecs($at, 6);
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
        let changes = entry.changes.to_string();
        let hash = entry.hash(&$store.keys.audit, seq, ctx, at, &changes, &prev_hash);
        sqlx::query("UPDATE audit_chain SET hash = $2 WHERE chain = $1")
            .bind(chain)
            .bind(&hash)
            .execute(&mut *$tx)
            .await?;
        sqlx::query(
            "INSERT INTO audit_log (chain, seq, tenant_id, at, actor, client_ip, action, entity, entity_id, changes, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(chain)
        .bind(seq)
        .bind(entry.tenant_id)
        .bind(at)
        .bind(&ctx.actor)
        .bind(&ctx.client_ip)
        .bind(entry.action)
        .bind(entry.entity)
        .bind(entry.entity_id)
        .bind(&changes)
        .bind(&prev_hash)
        .bind(&hash)
        .execute(&mut *$tx)
        .await?;
        $crate::audit::AuditHead {
            chain: chain.to_owned(),
            seq,
            hash,
        }
    }};
}
pub(crate) use append;

/// Appends many entries of one chain in a transaction, as [`append`] would one by one (the
/// same sequence numbers and hashes), with four statements whatever their number: the chain
/// row reserved for all of them, the hashes chained in memory, the rows inserted together.
/// `$entries` yields `(&AuditCtx, DateTime<Utc>, AuditEntry)` of the chain `$chain`; answers
/// the chain's new head (`None` for no entries). With `quiet` the entries are counted as a
/// quiet write's, which the kept reads' stamp leaves out (see [`crate::cache`]); pass the head
/// to `Store::advance_quiet_head` then.
macro_rules! append_all {
    ($store:expr, $tx:expr, $chain:expr, $entries:expr, quiet: $quiet:expr) => {{
        let chain: &str = $chain;
        let entries: Vec<(&$crate::audit::AuditCtx, chrono::DateTime<chrono::Utc>, $crate::audit::AuditEntry<'_>)> =
            $entries;
        let mut head: Option<$crate::audit::AuditHead> = None;
        if !entries.is_empty() {
            let n = i64::try_from(entries.len()).unwrap_or(i64::MAX);
            sqlx::query(
                "INSERT INTO audit_chain (chain, seq, hash) VALUES ($1, 0, '') ON CONFLICT (chain) DO NOTHING",
            )
            .bind(chain)
            .execute(&mut *$tx)
            .await?;
            let (last, mut prev_hash): (i64, String) = sqlx::query_as(
                "UPDATE audit_chain SET seq = seq + $2, quiet = quiet + $3 WHERE chain = $1 RETURNING seq, hash",
            )
            .bind(chain)
            .bind(n)
            .bind(if $quiet { n } else { 0 })
            .fetch_one(&mut *$tx)
            .await?;
            let mut rows = Vec::with_capacity(entries.len());
            for (i, (ctx, at, entry)) in entries.iter().enumerate() {
                debug_assert_eq!(entry.chain(), chain);
                let seq = last - n + 1 + i64::try_from(i).unwrap_or(0);
                let at = chrono::SubsecRound::trunc_subsecs(*at, 6);
                let changes = entry.changes.to_string();
                let hash = entry.hash(&$store.keys.audit, seq, ctx, at, &changes, &prev_hash);
                rows.push((seq, at, *ctx, entry, changes, std::mem::replace(&mut prev_hash, hash.clone()), hash));
            }
            sqlx::query("UPDATE audit_chain SET hash = $2 WHERE chain = $1")
                .bind(chain)
                .bind(&prev_hash)
                .execute(&mut *$tx)
                .await?;
            // 12 values a row: 1,000 rows stay under both databases' parameter limits
            for part in rows.chunks(1_000) {
                let mut insert = sqlx::QueryBuilder::new(
                    "INSERT INTO audit_log (chain, seq, tenant_id, at, actor, client_ip, action, entity, entity_id, changes, \
                     prev_hash, hash) ",
                );
                insert.push_values(part, |mut b, (seq, at, ctx, entry, changes, prev, hash)| {
                    b.push_bind(chain)
                        .push_bind(*seq)
                        .push_bind(entry.tenant_id)
                        .push_bind(*at)
                        .push_bind(&ctx.actor)
                        .push_bind(&ctx.client_ip)
                        .push_bind(entry.action)
                        .push_bind(entry.entity)
                        .push_bind(entry.entity_id)
                        .push_bind(changes)
                        .push_bind(prev)
                        .push_bind(hash);
                });
                insert.build().execute(&mut *$tx).await?;
            }
            head = Some($crate::audit::AuditHead {
                chain: chain.to_owned(),
                seq: last,
                hash: prev_hash,
            });
        }
        head
    }};
}
pub(crate) use append_all;

/// What `verify_audit` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditReport {
    /// Chains checked.
    pub chains: usize,
    /// Entries checked.
    pub entries: usize,
    /// Each break found, naming its chain and place.
    pub problems: Vec<String>,
}

const RECORD_COLUMNS: &str = "chain, seq, tenant_id, at, actor, client_ip, action, entity, entity_id, changes, prev_hash, hash";

impl Store {
    /// Records a chain's new head in the file outside the database (after the commit).
    /// A failure is logged, not returned: the change is committed, and a head file that lags
    /// behind the database is not a break (every entry still carries its keyed hash).
    pub(crate) fn advance_head(&self, head: AuditHead) {
        self.reads.invalidate();
        self.advance_quiet_head(head);
    }

    /// As [`Self::advance_head`] after a quiet write (its entries appended with `quiet`), which
    /// keeps the reads kept between requests (see [`crate::cache`]).
    pub(crate) fn advance_quiet_head(&self, head: AuditHead) {
        if let Err(e) = self.write_head(&head) {
            tracing::error!(error = format!("{e:#}"), chain = %head.chain, "writing the audit chain head");
        }
    }

    fn write_head(&self, head: &AuditHead) -> anyhow::Result<()> {
        let path = self.data_dir.audit_heads();
        let lock_path = path.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("opening {}", lock_path.display()))?;
        lock.lock().context("locking the audit head file")?;
        let mut heads = read_heads(&path)?;
        let newer = heads.get(&head.chain).is_none_or(|h| h.seq < head.seq);
        if newer {
            heads.insert(head.chain.clone(), head.clone());
            let tmp = path.with_extension("json.tmp");
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(serde_json::to_string_pretty(&heads)?.as_bytes())?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
        }
        lock.unlock()?;
        Ok(())
    }

    /// The newest `limit` entries of a chain (tenant id, or `*` for the installation), newest first.
    pub async fn audit_entries(&self, chain: &str, limit: i64) -> Result<Vec<AuditRecord>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, AuditRecord>(sqlx::AssertSqlSafe(format!(
                "SELECT {RECORD_COLUMNS} FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT $2"
            )))
            .bind(chain)
            .bind(limit)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// One page of a chain, newest first.
    pub async fn audit_page(
        &self,
        chain: &str,
        page: crate::page::PageRequest,
    ) -> Result<crate::page::Page<AuditRecord>> {
        let (items, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE chain = $1")
                .bind(chain)
                .fetch_one(pool)
                .await?;
            let items = sqlx::query_as::<_, AuditRecord>(sqlx::AssertSqlSafe(format!(
                "SELECT {RECORD_COLUMNS} FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT $2 OFFSET $3"
            )))
            .bind(chain)
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
            (items, total)
        });
        Ok(crate::page::Page {
            items,
            request: page,
            total,
        })
    }

    /// Checks every chain: sequence without gaps, each entry's keyed hash, the links between
    /// entries, and the heads kept outside the database.
    pub async fn verify_audit(&self) -> Result<AuditReport> {
        let mut report = AuditReport::default();
        let heads = read_heads(&self.data_dir.audit_heads())?;
        let mut chains: Vec<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT DISTINCT chain FROM audit_log")
                .fetch_all(pool)
                .await?
        });
        for chain in heads.keys() {
            if !chains.contains(chain) {
                chains.push(chain.clone());
            }
        }
        chains.sort();
        for chain in chains {
            report.chains += 1;
            let entries: Vec<AuditRecord> = with_pool!(self, pool => {
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {RECORD_COLUMNS} FROM audit_log WHERE chain = $1 ORDER BY seq"
                )))
                .bind(&chain)
                .fetch_all(pool)
                .await?
            });
            report.entries += entries.len();
            let name = if chain == "*" {
                "安装级链".to_owned()
            } else {
                format!("租户链 {chain}")
            };
            let mut expected = 1;
            let mut prev = String::new();
            for e in &entries {
                if e.seq != expected {
                    report.problems.push(format!(
                        "{name}：第 {expected} 至 {} 条记录缺失（被删除）",
                        e.seq - 1
                    ));
                } else if e.prev_hash != prev {
                    report.problems.push(format!(
                        "{name}：第 {} 条记录与前一条的链接不符（插入或替换）",
                        e.seq
                    ));
                }
                let hash = entry_hash(
                    &self.keys.audit,
                    &e.chain,
                    e.seq,
                    e.tenant_id.as_deref(),
                    e.at,
                    &e.actor,
                    e.client_ip.as_deref(),
                    &e.action,
                    &e.entity,
                    &e.entity_id,
                    &e.changes,
                    &e.prev_hash,
                );
                if hash != e.hash {
                    report.problems.push(format!(
                        "{name}：第 {} 条记录的内容被改动或伪造（校验值不符）",
                        e.seq
                    ));
                }
                expected = e.seq + 1;
                prev = e.hash.clone();
            }
            if let Some(head) = heads.get(&chain) {
                let last = entries.last().map(|e| e.seq).unwrap_or(0);
                if head.seq > last {
                    report.problems.push(format!(
                        "{name}：最新的第 {} 至 {} 条记录缺失（库外链头记录到第 {} 条）",
                        last + 1,
                        head.seq,
                        head.seq
                    ));
                } else if let Some(e) = entries.iter().find(|e| e.seq == head.seq)
                    && e.hash != head.hash
                {
                    report.problems.push(format!(
                        "{name}：第 {} 条记录与库外链头不符（链被重写）",
                        head.seq
                    ));
                }
            }
        }
        Ok(report)
    }
}

fn read_heads(path: &std::path::Path) -> anyhow::Result<BTreeMap<String, AuditHead>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut heads: BTreeMap<String, AuditHead> = serde_json::from_str(&text)
                .with_context(|| format!("reading {}", path.display()))?;
            for (chain, head) in heads.iter_mut() {
                head.chain = chain.clone();
            }
            Ok(heads)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}
