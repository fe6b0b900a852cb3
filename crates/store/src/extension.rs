//! Requests for the one extension of a deadline: a unit asks (days and reason), the approver
//! grants — the deadline is extended in the same transaction, through
//! `DeadlineChange::ApproveRequest` — or refuses. Rules in `domain::deadline` (`check_request`,
//! `decide`); one pending request per deadline (a partial unique index backs the check).

use chrono::{DateTime, SubsecRound, Utc};
use domain::deadline::{RequestDecision, RequestState, decide};
use domain::history::Audience;
use serde_json::json;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::deadline::refused;
use crate::history::{NewHistory, history};
use crate::notification::notify;
use crate::{Result, Store, StoreError, new_id};

/// A request for an extension.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionRequest {
    /// Its id.
    pub id: String,
    /// The deadline it would extend.
    pub deadline_id: String,
    /// The unit asking.
    pub unit_id: Option<String>,
    /// Working days asked for.
    pub days: u32,
    /// Why.
    pub reason: String,
    /// Who asked (an audit actor).
    pub requested_by: String,
    /// When.
    pub requested_at: DateTime<Utc>,
    /// Where it stands.
    pub state: RequestState,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<DateTime<Utc>>,
    /// The approver's note.
    pub decision_note: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    deadline_id: String,
    unit_id: Option<String>,
    days: i64,
    reason: String,
    requested_by: String,
    requested_at: DateTime<Utc>,
    state: String,
    decided_by: Option<String>,
    decided_at: Option<DateTime<Utc>>,
    decision_note: Option<String>,
}

const COLUMNS: &str = "id, deadline_id, unit_id, CAST(days AS BIGINT) AS days, reason, requested_by, requested_at, \
     state, decided_by, decided_at, decision_note";

impl TryFrom<Row> for ExtensionRequest {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self> {
        Ok(Self {
            state: RequestState::from_code(&r.state).ok_or_else(|| {
                StoreError::Other(anyhow::anyhow!(
                    "extension request {}: state {}",
                    r.id,
                    r.state
                ))
            })?,
            days: u32::try_from(r.days).unwrap_or_default(),
            id: r.id,
            deadline_id: r.deadline_id,
            unit_id: r.unit_id,
            reason: r.reason,
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            decided_by: r.decided_by,
            decided_at: r.decided_at,
            decision_note: r.decision_note,
        })
    }
}

/// A unit's request, as asked.
#[derive(Debug, Clone, Copy)]
pub struct NewExtensionRequest<'a> {
    /// The deadline to extend.
    pub deadline_id: &'a str,
    /// The unit asking.
    pub unit_id: Option<&'a str>,
    /// Working days asked for.
    pub days: u32,
    /// Why.
    pub reason: &'a str,
    /// The workflow's maximum.
    pub max_days: u32,
}

/// What the record is called in messages.
fn noun(record_type: &str) -> &'static str {
    crate::notification::record_noun(record_type)
}

impl Store {
    /// The requests of a record's deadlines, newest first.
    pub async fn extension_requests(
        &self,
        tenant_id: &str,
        record_type: &str,
        record_id: &str,
    ) -> Result<Vec<ExtensionRequest>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM extension_request WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 \
                 ORDER BY requested_at DESC, id DESC"
            )))
            .bind(tenant_id)
            .bind(record_type)
            .bind(record_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// One request.
    pub async fn extension_request(
        &self,
        tenant_id: &str,
        id: &str,
    ) -> Result<Option<ExtensionRequest>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM extension_request WHERE tenant_id = $1 AND id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// A unit asks for the one extension of an open deadline; the supervisors are told.
    pub async fn request_extension(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        asked: &NewExtensionRequest<'_>,
    ) -> Result<ExtensionRequest> {
        let NewExtensionRequest {
            deadline_id,
            unit_id,
            days,
            reason,
            max_days,
        } = *asked;
        let stored = self
            .deadline(tenant_id, deadline_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !stored.open {
            return Err(StoreError::Conflict("该环节已办结，不能申请延期".into()));
        }
        let pending = self
            .extension_requests(tenant_id, &stored.record_type, &stored.record_id)
            .await?
            .iter()
            .any(|r| r.deadline_id == deadline_id && r.state == RequestState::Pending);
        stored
            .deadline
            .check_request(days, reason, max_days, pending)
            .map_err(refused)?;
        let now = self.clock.now().trunc_subsecs(0);
        let id = new_id();
        let reason = reason.trim();
        let message = format!(
            "{}申请延期 {days} 个工作日，请审批",
            noun(&stored.record_type)
        );
        let url = crate::notification::record_url(&stored.record_type, &stored.record_id);
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO extension_request (tenant_id, id, deadline_id, record_type, record_id, unit_id, days, reason, \
                 requested_by, requested_at, state) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'pending') \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant_id).bind(&id).bind(deadline_id).bind(&stored.record_type).bind(&stored.record_id)
            .bind(unit_id).bind(i64::from(days)).bind(reason).bind(&ctx.actor).bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted != 1 {
                return Err(refused(domain::deadline::DeadlineError::RequestPending));
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: &stored.record_type,
                record_id: &stored.record_id,
                event: "extension_requested",
                audience: Audience::Public,
                detail: json!({"step": stored.step, "days": days, "reason": reason}),
            });
            notify!(tx, tenant_id, "extension_requested", &stored.record_type, &stored.record_id, &message, &url, None, true, now);
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "request_extension",
                entity: "deadline",
                entity_id: deadline_id,
                changes: json!({"request_id": id, "days": days, "reason": reason, "unit_id": unit_id}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.extension_request(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// The approver refuses a pending request; the unit is told.
    pub async fn refuse_extension(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        note: &str,
    ) -> Result<ExtensionRequest> {
        let request = self
            .extension_request(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        decide(request.state, RequestDecision::Refuse).map_err(refused)?;
        let note = note.trim();
        if note.is_empty() {
            return Err(StoreError::InvalidField {
                field: "text",
                message: "请填写不予延期的理由".into(),
            });
        }
        let stored = self
            .deadline(tenant_id, &request.deadline_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let now = self.clock.now().trunc_subsecs(0);
        let message = format!("{}的延期申请未获批准", noun(&stored.record_type));
        let url = crate::notification::record_url(&stored.record_type, &stored.record_id);
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let decided = sqlx::query(
                "UPDATE extension_request SET state = 'refused', decided_by = $3, decided_at = $4, decision_note = $5 \
                 WHERE tenant_id = $1 AND id = $2 AND state = 'pending'",
            )
            .bind(tenant_id).bind(id).bind(&ctx.actor).bind(now).bind(note)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if decided != 1 {
                return Err(refused(domain::deadline::DeadlineError::RequestDecided));
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: &stored.record_type,
                record_id: &stored.record_id,
                event: "extension_refused",
                audience: Audience::Public,
                detail: json!({"step": stored.step, "days": request.days, "note": note}),
            });
            notify!(tx, tenant_id, "extension_decided", &stored.record_type, &stored.record_id, &message, &url, request.unit_id.as_deref(), false, now);
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "refuse_extension",
                entity: "deadline",
                entity_id: &request.deadline_id,
                changes: json!({"request_id": id, "state": ["pending", "refused"], "note": note}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.extension_request(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
