//! Supervision notices (督办单): issued by the card sweep with the red card (store::deadline),
//! escalated here while the deadline stays overdue (`domain::deadline::escalation_level`),
//! closed when the deadline is met.

use chrono::{DateTime, Utc};
use domain::history::Audience;
use serde_json::json;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::history::{NewHistory, history};
use crate::page::{Page, PageRequest};
use crate::{Result, Store, new_id};

/// The tenant setting holding the notice number pattern.
pub const PATTERN_SETTING: &str = "notice_pattern";

/// A notice as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Notice {
    /// Its id.
    pub id: String,
    /// Its number, e.g. 槐营商督〔2026〕12号.
    pub number: String,
    /// The overdue deadline.
    pub deadline_id: String,
    /// The record it concerns (`task`, …).
    pub record_type: String,
    /// The record's id.
    pub record_id: String,
    /// The overdue step.
    pub step: String,
    /// The unit responsible.
    pub unit_id: Option<String>,
    /// When the step was due.
    pub due_at: DateTime<Utc>,
    /// Issued at.
    pub issued_at: DateTime<Utc>,
    /// 1: the unit's head; 2: its 分管区领导; 3: the supervisor.
    pub level: i32,
    /// Last escalated at.
    pub escalated_at: Option<DateTime<Utc>>,
    /// Closed (the deadline met) at.
    pub closed_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, number, deadline_id, record_type, record_id, step, unit_id, due_at, issued_at, \
                       level, escalated_at, closed_at";

/// Which notices a list shows.
#[derive(Debug, Clone, Default)]
pub struct NoticeFilter {
    /// Only notices of these units (a unit_admin's subtree); `None`: all.
    pub unit_ids: Option<Vec<String>>,
    /// Only open (true) or closed (false) notices.
    pub open: Option<bool>,
    /// Only notices of this record.
    pub record: Option<(String, String)>,
}

/// A notice to raise: id, record type, record id, level from, level to.
type Raise = (String, String, String, i32, i32);

impl Store {
    /// The tenant's notice number pattern: its setting, else the first character of its name
    /// followed by 营商督〔{year}〕{seq}号 (槐荫区 → 槐营商督〔2026〕1号).
    pub async fn notice_pattern(&self, tenant_id: &str) -> Result<String> {
        if let Some(pattern) = self.tenant_setting(tenant_id, PATTERN_SETTING).await? {
            return Ok(pattern);
        }
        let name = self
            .tenant(tenant_id)
            .await?
            .map(|t| t.name)
            .unwrap_or_default();
        let short: String = name.chars().take(1).collect();
        Ok(format!("{short}营商督〔{{year}}〕{{seq}}号"))
    }

    /// Raises open notices to the level their overdue working days call for; each raise is on
    /// the record's timeline, each tenant's batch one audit entry. Answers how many rose.
    pub(crate) async fn escalate_notices(&self, ctx: &AuditCtx) -> Result<usize> {
        let now = self.clock.now();
        let open: Vec<(String, String, String, String, i32, DateTime<Utc>)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT tenant_id, id, record_type, record_id, level, due_at FROM notice \
                 WHERE closed_at IS NULL AND level < 3 ORDER BY tenant_id",
            )
            .fetch_all(pool)
            .await?
        });
        if open.is_empty() {
            return Ok(0);
        }
        let calendar = self.calendar().await?;
        let today = self.today();
        let mut raised: std::collections::BTreeMap<String, Vec<Raise>> = Default::default();
        for (tenant_id, id, record_type, record_id, level, due_at) in open {
            let due_day = due_at
                .with_timezone(&domain::calendar::shanghai())
                .date_naive();
            let overdue = calendar
                .working_days_between(due_day, today.max(due_day))
                .map(|d| d.value)
                .unwrap_or(0);
            let target = domain::deadline::escalation_level(overdue);
            if target > level {
                raised.entry(tenant_id).or_default().push((
                    id,
                    record_type,
                    record_id,
                    level,
                    target,
                ));
            }
        }
        let mut count = 0;
        for (tenant_id, rows) in raised {
            let changes: Vec<_> = rows
                .iter()
                .map(|(id, _, _, from, to)| json!({"id": id, "level": [from, to]}))
                .collect();
            let batch = new_id();
            with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                for (id, record_type, record_id, from, to) in &rows {
                    let n = sqlx::query(
                        "UPDATE notice SET level = $3, escalated_at = $4 WHERE tenant_id = $1 AND id = $2 \
                         AND level = $5 AND closed_at IS NULL",
                    )
                    .bind(&tenant_id).bind(id).bind(to).bind(now).bind(from)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 1 {
                        history!(tx, &tenant_id, ctx, now, &NewHistory {
                            record_type,
                            record_id,
                            event: "notice_escalated",
                            audience: Audience::Internal,
                            detail: json!({"level": to}),
                        });
                        count += 1;
                    }
                }
                let head = append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(&tenant_id),
                    action: "escalate",
                    entity: "notice",
                    entity_id: &batch,
                    changes: json!({"rows": changes}),
                });
                tx.commit().await?;
                self.advance_head(head);
            });
        }
        Ok(count)
    }

    /// One notice.
    pub async fn notice(&self, tenant_id: &str, id: &str) -> Result<Option<Notice>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, Notice>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM notice WHERE tenant_id = $1 AND id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// One page of notices, newest first.
    pub async fn list_notices(
        &self,
        tenant_id: &str,
        filter: &NoticeFilter,
        page: PageRequest,
    ) -> Result<Page<Notice>> {
        let units = filter
            .unit_ids
            .as_ref()
            .map(|u| serde_json::to_string(u).unwrap_or_default());
        let (record_type, record_id) = filter.record.clone().unzip();
        let condition = "tenant_id = $1 AND ($2 IS NULL OR $2 LIKE '%\"' || unit_id || '\"%') \
             AND ($3 IS NULL OR ($3 = (closed_at IS NULL))) AND ($4 IS NULL OR (record_type = $4 AND record_id = $5))";
        let (items, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM notice WHERE {condition}")))
                .bind(tenant_id).bind(&units).bind(filter.open).bind(&record_type).bind(&record_id)
                .fetch_one(pool)
                .await?;
            let items = sqlx::query_as::<_, Notice>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM notice WHERE {condition} ORDER BY issued_at DESC, seq DESC LIMIT $6 OFFSET $7"
            )))
            .bind(tenant_id).bind(&units).bind(filter.open).bind(&record_type).bind(&record_id)
            .bind(page.limit()).bind(page.offset())
            .fetch_all(pool)
            .await?;
            (items, total)
        });
        Ok(Page {
            items,
            request: page,
            total,
        })
    }
}
