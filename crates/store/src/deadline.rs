//! Deadlines of workflow steps, stored: the rule (`domain::deadline::Deadline`) with what was
//! computed from it, so the card sweep reads only rows crossing a threshold (partial indexes
//! `deadline_to_yellow`, `deadline_to_red`). Every change goes through the domain, is audited,
//! and tells the record's timeline.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, SubsecRound, Utc};
use domain::deadline::{Card, Deadline, DeadlineError, Extension, Limit};
use domain::history::Audience;
use serde_json::json;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::history::{NewHistory, history};
use crate::notification::notify;
use crate::{Result, Store, StoreError, new_id};

/// A deadline as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDeadline {
    /// Its id.
    pub id: String,
    /// The record it belongs to (`task`, `appeal`, …) and the record's id.
    pub record_type: String,
    /// The record's id.
    pub record_id: String,
    /// The step it limits (`reply`, `accept`, `report`, …).
    pub step: String,
    /// The unit responsible.
    pub unit_id: Option<String>,
    /// The rule.
    pub deadline: Deadline,
    /// When it ends.
    pub due_at: DateTime<Utc>,
    /// When it turns yellow.
    pub yellow_at: DateTime<Utc>,
    /// Computed with a year without schedule.
    pub provisional: bool,
    /// The clock is stopped.
    pub paused: bool,
    /// The card the sweep last gave it.
    pub card: Card,
    /// False once met.
    pub open: bool,
    /// When the step was done.
    pub met_at: Option<DateTime<Utc>>,
    /// Working minutes spent, once met.
    pub worked_minutes: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    record_type: String,
    record_id: String,
    step: String,
    unit_id: Option<String>,
    spec: String,
    due_at: DateTime<Utc>,
    yellow_at: DateTime<Utc>,
    provisional: bool,
    paused: bool,
    card: String,
    open: bool,
    met_at: Option<DateTime<Utc>>,
    worked_minutes: Option<i64>,
}

const COLUMNS: &str = "id, record_type, record_id, step, unit_id, spec, due_at, yellow_at, \
                       provisional, paused, card, open, met_at, worked_minutes";

fn card_of(s: &str) -> Result<Card> {
    match s {
        "none" => Ok(Card::None),
        "yellow" => Ok(Card::Yellow),
        "red" => Ok(Card::Red),
        other => Err(StoreError::Other(anyhow::anyhow!(
            "deadline card {other:?}"
        ))),
    }
}

impl TryFrom<Row> for StoredDeadline {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self> {
        Ok(StoredDeadline {
            deadline: serde_json::from_str(&r.spec)
                .map_err(|e| StoreError::Other(anyhow::anyhow!("deadline {}: {e}", r.id)))?,
            card: card_of(&r.card)?,
            id: r.id,
            record_type: r.record_type,
            record_id: r.record_id,
            step: r.step,
            unit_id: r.unit_id,
            due_at: r.due_at,
            yellow_at: r.yellow_at,
            provisional: r.provisional,
            paused: r.paused,
            open: r.open,
            met_at: r.met_at,
            worked_minutes: r.worked_minutes,
        })
    }
}

/// A deadline to open.
#[derive(Debug, Clone)]
pub struct NewDeadline<'a> {
    /// The record it belongs to.
    pub record_type: &'a str,
    /// The record's id.
    pub record_id: &'a str,
    /// The step it limits; one open deadline per record and step.
    pub step: &'a str,
    /// The unit responsible.
    pub unit_id: Option<&'a str>,
    /// The limit.
    pub limit: Limit,
    /// When the thing arrived.
    pub received_at: DateTime<Utc>,
}

/// What a change does to a deadline.
#[derive(Debug, Clone)]
pub enum DeadlineChange {
    /// Stop the clock.
    Pause {
        /// Why.
        reason: String,
    },
    /// Start it again.
    Resume,
    /// The one extension, at most `max_days` working days.
    Extend {
        /// Days and reason (approver and time are the caller's actor and now).
        days: u32,
        /// Why.
        reason: String,
        /// The workflow's maximum.
        max_days: u32,
    },
    /// Grant a unit's pending request (`crate::extension`): its days, or `days` when the
    /// approver grants another number, at most `max_days`.
    ApproveRequest {
        /// The request.
        request_id: String,
        /// Days granted instead of those asked.
        days: Option<u32>,
        /// The approver's note.
        note: String,
        /// The workflow's maximum.
        max_days: u32,
    },
    /// The step is done.
    Meet,
}

/// What one card sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sweep {
    /// Deadlines that turned yellow.
    pub yellow: usize,
    /// Deadlines that turned red.
    pub red: usize,
    /// Supervision notices issued (one per red card).
    pub notices: usize,
    /// Notices escalated a level.
    pub escalated: usize,
}

/// A notice's number: the tenant's pattern with `{year}` and `{seq}` filled in.
pub fn notice_number(pattern: &str, year: i32, seq: i64) -> String {
    pattern
        .replace("{year}", &year.to_string())
        .replace("{seq}", &seq.to_string())
}

/// A deadline crossing a threshold, with the card it gets.
#[derive(sqlx::FromRow)]
struct Crossing {
    tenant_id: String,
    id: String,
    record_type: String,
    record_id: String,
    step: String,
    unit_id: Option<String>,
    due_at: DateTime<Utc>,
    card: String,
}

/// Rows per transaction (and audit entry) of a bulk open.
pub const BULK_CHUNK: usize = 10_000;

/// Rows a sweep changes at most per transaction.
const SWEEP_BATCH: i64 = 5_000;

pub(crate) fn refused(e: DeadlineError) -> StoreError {
    match e {
        DeadlineError::AlreadyExtended
        | DeadlineError::NotPaused
        | DeadlineError::PauseOverlaps
        | DeadlineError::RequestPending
        | DeadlineError::RequestDecided => StoreError::Conflict(e.to_string()),
        DeadlineError::ExtensionOutOfRange(_) => StoreError::InvalidField {
            field: "days",
            message: e.to_string(),
        },
        DeadlineError::NoReason => StoreError::InvalidField {
            field: "reason",
            message: e.to_string(),
        },
        DeadlineError::PauseEndsBeforeStart | DeadlineError::PauseBeforeReceipt => {
            StoreError::InvalidField {
                field: "at",
                message: e.to_string(),
            }
        }
    }
}

/// Inserts a planned deadline inside the caller's transaction; answers the rows inserted (0
/// when the record already has an open deadline for that step).
macro_rules! insert_deadline {
    ($tx:expr, $tenant_id:expr, $id:expr, $new:expr, $spec:expr, $s:expr, $now:expr) => {{
        let new: &$crate::deadline::NewDeadline<'_> = $new;
        let s: &domain::deadline::Schedule = $s;
        sqlx::query(
            "INSERT INTO deadline (tenant_id, id, record_type, record_id, step, unit_id, spec, due_at, yellow_at, \
             provisional, paused, card, open, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, FALSE, 'none', TRUE, $11, $11) \
             ON CONFLICT (tenant_id, record_type, record_id, step) DO NOTHING",
        )
        .bind($tenant_id)
        .bind($id)
        .bind(new.record_type)
        .bind(new.record_id)
        .bind(new.step)
        .bind(new.unit_id)
        .bind($spec)
        .bind(s.due_at)
        .bind(s.yellow_at)
        .bind(s.provisional)
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected()
    }};
}
pub(crate) use insert_deadline;

/// Marks an open deadline met at `$now` with the minutes worked, inside the caller's
/// transaction, and closes the supervision notice it was overdue with.
macro_rules! meet_deadline {
    ($tx:expr, $tenant_id:expr, $deadline_id:expr, $now:expr, $worked:expr) => {{
        sqlx::query(
            "UPDATE deadline SET open = FALSE, met_at = $3, worked_minutes = $4, updated_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND open",
        )
        .bind($tenant_id)
        .bind($deadline_id)
        .bind($now)
        .bind($worked)
        .execute(&mut *$tx)
        .await?;
        sqlx::query(
            "UPDATE notice SET closed_at = $3 WHERE tenant_id = $1 AND deadline_id = $2 AND closed_at IS NULL",
        )
        .bind($tenant_id)
        .bind($deadline_id)
        .bind($now)
        .execute(&mut *$tx)
        .await?;
    }};
}
pub(crate) use meet_deadline;

impl Store {
    /// The rule, its JSON and its computed moments for a deadline about to be opened.
    pub(crate) async fn plan_deadline(
        &self,
        tenant_id: &str,
        new: &NewDeadline<'_>,
        now: DateTime<Utc>,
    ) -> Result<(Deadline, String, domain::deadline::Schedule)> {
        let deadline = Deadline::new(new.received_at.trunc_subsecs(0), new.limit);
        let s = self.computed(tenant_id, &deadline, now).await?;
        let spec = serde_json::to_string(&deadline).map_err(|e| StoreError::Other(e.into()))?;
        Ok((deadline, spec, s))
    }

    pub(crate) async fn computed(
        &self,
        tenant_id: &str,
        deadline: &Deadline,
        now: DateTime<Utc>,
    ) -> Result<domain::deadline::Schedule> {
        let calendar = self.calendar().await?;
        let hours = self.working_hours(tenant_id).await?;
        Ok(deadline.schedule(&calendar, &hours, now))
    }

    /// Opens the deadline of a step (audited, on the record's timeline).
    pub async fn open_deadline(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewDeadline<'_>,
    ) -> Result<StoredDeadline> {
        let now = self.clock.now();
        let (deadline, spec, s) = self.plan_deadline(tenant_id, new, now).await?;
        let id = new_id();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted = insert_deadline!(tx, tenant_id, &id, new, &spec, &s, now);
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("该事项的“{}”环节已有办理时限", new.step)));
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: new.record_type,
                record_id: new.record_id,
                event: "deadline_opened",
                audience: Audience::Public,
                detail: json!({"step": new.step, "due_at": s.due_at, "provisional": s.provisional}),
            });
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "deadline",
                entity_id: &id,
                changes: json!({"record_type": new.record_type, "record_id": new.record_id, "step": new.step,
                    "unit_id": new.unit_id, "spec": deadline, "due_at": s.due_at, "yellow_at": s.yellow_at}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.deadline(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Opens many deadlines at once (imports, demo seeding, benchmarks): in transactions of
    /// [`BULK_CHUNK`] rows, each one audit entry with a digest per row; `progress` is told the
    /// rows done. Timelines are the records' own modules' (a bulk load has no per-record event).
    pub async fn open_deadlines(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        news: &[NewDeadline<'_>],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<usize> {
        let now = self.clock.now();
        let calendar = self.calendar().await?;
        let hours = self.working_hours(tenant_id).await?;
        let mut done = 0;
        for chunk in news.chunks(BULK_CHUNK) {
            let mut rows = Vec::with_capacity(chunk.len());
            for new in chunk {
                let deadline = Deadline::new(new.received_at.trunc_subsecs(0), new.limit);
                let s = deadline.schedule(&calendar, &hours, now);
                let spec =
                    serde_json::to_string(&deadline).map_err(|e| StoreError::Other(e.into()))?;
                rows.push((new_id(), new, spec, s));
            }
            let digests: Vec<_> = rows
                .iter()
                .map(|(id, new, spec, s)| {
                    let row = json!({"id": id, "record_type": new.record_type, "record_id": new.record_id,
                        "step": new.step, "spec": spec, "due_at": s.due_at});
                    json!({"id": id, "digest": crate::audit::row_digest(&row)})
                })
                .collect();
            let batch = new_id();
            with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                // multi-row inserts: 14 values a row stay under both databases' parameter limits
                for part in rows.chunks(500) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO deadline (tenant_id, id, record_type, record_id, step, unit_id, spec, due_at, \
                         yellow_at, provisional, paused, card, open, created_at, updated_at) ",
                    );
                    insert.push_values(part, |mut b, (id, new, spec, s)| {
                        b.push_bind(tenant_id)
                            .push_bind(id)
                            .push_bind(new.record_type)
                            .push_bind(new.record_id)
                            .push_bind(new.step)
                            .push_bind(new.unit_id)
                            .push_bind(spec)
                            .push_bind(s.due_at)
                            .push_bind(s.yellow_at)
                            .push_bind(s.provisional)
                            .push_bind(false)
                            .push_bind("none")
                            .push_bind(true)
                            .push_bind(now)
                            .push_bind(now);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                let head = append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(tenant_id),
                    action: "create",
                    entity: "deadline",
                    entity_id: &batch,
                    changes: json!({"rows": digests}),
                });
                tx.commit().await?;
                self.advance_head(head);
            });
            done += chunk.len();
            progress(done);
        }
        // fresh statistics, so the planner keeps using the sweep's partial indexes after a
        // large load (PostgreSQL's autovacuum would get there later)
        if let crate::db::Db::Postgres(pool) = &self.db
            && news.len() >= BULK_CHUNK
        {
            sqlx::query("ANALYZE deadline").execute(pool).await?;
        }
        Ok(done)
    }

    /// The card of every open deadline computed afresh from its rule, without the stored
    /// thresholds: what a sweep would cost without the incremental indexes (the benchmark's
    /// reference). Answers (deadlines read, yellow, red).
    pub async fn recompute_all_cards(&self, tenant_id: &str) -> Result<(usize, usize, usize)> {
        let now = self.clock.now();
        let calendar = self.calendar().await?;
        let hours = self.working_hours(tenant_id).await?;
        let specs: Vec<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT spec FROM deadline WHERE tenant_id = $1 AND open")
                .bind(tenant_id)
                .fetch_all(pool)
                .await?
        });
        let (mut yellow, mut red) = (0, 0);
        for (spec,) in &specs {
            let d: Deadline =
                serde_json::from_str(spec).map_err(|e| StoreError::Other(e.into()))?;
            match d.schedule(&calendar, &hours, now).card(now) {
                Card::Yellow => yellow += 1,
                Card::Red => red += 1,
                Card::None => {}
            }
        }
        Ok((specs.len(), yellow, red))
    }

    /// Pauses, resumes, extends or meets a deadline, now, through the domain's rules; the
    /// due, yellow moment and card are recomputed.
    pub async fn change_deadline(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        change: &DeadlineChange,
    ) -> Result<StoredDeadline> {
        let stored = self
            .deadline(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !stored.open {
            return Err(StoreError::Conflict(
                "该环节已办结，办理时限不能再更改".into(),
            ));
        }
        let now = self.clock.now().trunc_subsecs(0);
        let mut deadline = stored.deadline.clone();
        let request = match change {
            DeadlineChange::ApproveRequest { request_id, .. } => {
                let request = self
                    .extension_request(tenant_id, request_id)
                    .await?
                    .filter(|r| r.deadline_id == id)
                    .ok_or(StoreError::NotFound)?;
                domain::deadline::decide(request.state, domain::deadline::RequestDecision::Approve)
                    .map_err(refused)?;
                Some(request)
            }
            _ => None,
        };
        let (event, detail) = match change {
            DeadlineChange::Pause { reason } => {
                deadline.pause(reason, now).map_err(refused)?;
                (
                    "deadline_paused",
                    json!({"step": stored.step, "reason": reason.trim()}),
                )
            }
            DeadlineChange::Resume => {
                deadline.resume(now).map_err(refused)?;
                ("deadline_resumed", json!({"step": stored.step}))
            }
            DeadlineChange::Extend {
                days,
                reason,
                max_days,
            } => {
                deadline
                    .extend(
                        Extension {
                            days: *days,
                            reason: reason.trim().to_owned(),
                            approved_by: ctx.actor.clone(),
                            approved_at: now,
                        },
                        *max_days,
                    )
                    .map_err(refused)?;
                (
                    "deadline_extended",
                    json!({"step": stored.step, "days": days, "reason": reason.trim()}),
                )
            }
            DeadlineChange::ApproveRequest {
                request_id,
                days,
                max_days,
                ..
            } => {
                let request = request.as_ref().ok_or(StoreError::NotFound)?;
                let days = days.unwrap_or(request.days);
                deadline
                    .extend(
                        Extension {
                            days,
                            reason: request.reason.clone(),
                            approved_by: ctx.actor.clone(),
                            approved_at: now,
                        },
                        *max_days,
                    )
                    .map_err(refused)?;
                (
                    "deadline_extended",
                    json!({"step": stored.step, "days": days, "reason": request.reason, "request_id": request_id}),
                )
            }
            DeadlineChange::Meet => ("deadline_met", json!({"step": stored.step})),
        };
        let s = self.computed(tenant_id, &deadline, now).await?;
        let met = matches!(change, DeadlineChange::Meet);
        let worked = if met {
            let calendar = self.calendar().await?;
            let hours = self.working_hours(tenant_id).await?;
            Some(deadline.worked_minutes(&calendar, &hours, now).value)
        } else {
            None
        };
        // a card only goes down here (an extension, a pause); going up is the sweep's, which
        // tells the timeline
        let card = if met {
            stored.card
        } else {
            stored.card.min(s.card(now))
        };
        let mut detail = detail;
        if let Some(d) = detail.as_object_mut() {
            d.insert("due_at".into(), json!(s.due_at));
            if let Some(w) = worked {
                d.insert("worked_minutes".into(), json!(w));
                d.insert("on_time".into(), json!(now <= s.due_at));
            }
        }
        let spec = serde_json::to_string(&deadline).map_err(|e| StoreError::Other(e.into()))?;
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "UPDATE deadline SET spec = $3, due_at = $4, yellow_at = $5, provisional = $6, paused = $7, card = $8, \
                 open = $9, met_at = $10, worked_minutes = $11, updated_at = $12 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id).bind(id).bind(&spec).bind(s.due_at).bind(s.yellow_at).bind(s.provisional)
            .bind(s.paused).bind(card.as_str()).bind(!met).bind(met.then_some(now)).bind(worked).bind(now)
            .execute(&mut *tx)
            .await?;
            if let (Some(request), DeadlineChange::ApproveRequest { note, .. }) = (&request, change) {
                let decided = sqlx::query(
                    "UPDATE extension_request SET state = 'approved', decided_by = $3, decided_at = $4, decision_note = $5 \
                     WHERE tenant_id = $1 AND id = $2 AND state = 'pending'",
                )
                .bind(tenant_id).bind(&request.id).bind(&ctx.actor).bind(now).bind(note.trim())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if decided != 1 {
                    return Err(refused(DeadlineError::RequestDecided));
                }
                let message = format!(
                    "{}的延期申请已批准，延期 {} 个工作日",
                    crate::notification::record_noun(&stored.record_type),
                    detail["days"]
                );
                let url = crate::notification::record_url(&stored.record_type, &stored.record_id);
                notify!(tx, tenant_id, "extension_decided", &stored.record_type, &stored.record_id, &message, &url, request.unit_id.as_deref(), false, now);
            }
            if met {
                sqlx::query("UPDATE notice SET closed_at = $3 WHERE tenant_id = $1 AND deadline_id = $2 AND closed_at IS NULL")
                    .bind(tenant_id).bind(id).bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: &stored.record_type,
                record_id: &stored.record_id,
                event,
                audience: Audience::Public,
                detail: detail.clone(),
            });
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: event.trim_start_matches("deadline_"),
                entity: "deadline",
                entity_id: id,
                changes: json!({"spec": [stored.deadline, deadline], "due_at": [stored.due_at, s.due_at],
                    "card": [stored.card.as_str(), card.as_str()], "open": [true, !met]}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.deadline(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Recomputes the open deadlines that are provisional or end on or after `from` (after a
    /// calendar load): changed ones are updated, told on their record's timeline and audited
    /// (one entry per tenant with a digest per row). Answers how many changed.
    pub(crate) async fn recompute_deadlines(
        &self,
        ctx: &AuditCtx,
        from: DateTime<Utc>,
    ) -> Result<usize> {
        let now = self.clock.now();
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, (String, String)>(
                "SELECT tenant_id, id FROM deadline WHERE open AND (provisional OR due_at >= $1) ORDER BY tenant_id",
            )
            .bind(from)
            .fetch_all(pool)
            .await?
        });
        let calendar = self.calendar().await?;
        let mut by_tenant: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (tenant, id) in rows {
            by_tenant.entry(tenant).or_default().push(id);
        }
        let mut changed = 0;
        for (tenant_id, ids) in by_tenant {
            let hours = self.working_hours(&tenant_id).await?;
            let mut updates = Vec::new();
            for id in ids {
                let Some(d) = self.deadline(&tenant_id, &id).await? else {
                    continue;
                };
                let s = d.deadline.schedule(&calendar, &hours, now);
                if (s.due_at, s.yellow_at, s.provisional) != (d.due_at, d.yellow_at, d.provisional)
                {
                    updates.push((d, s));
                }
            }
            if updates.is_empty() {
                continue;
            }
            let digests: Vec<_> = updates
                .iter()
                .map(|(d, s)| {
                    let row = json!({"id": d.id, "due_at": [d.due_at, s.due_at], "provisional": [d.provisional, s.provisional]});
                    json!({"id": d.id, "digest": crate::audit::row_digest(&row)})
                })
                .collect();
            let batch = new_id();
            with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                for (d, s) in &updates {
                    sqlx::query(
                        "UPDATE deadline SET due_at = $3, yellow_at = $4, provisional = $5, updated_at = $6 WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(&tenant_id).bind(&d.id).bind(s.due_at).bind(s.yellow_at).bind(s.provisional).bind(now)
                    .execute(&mut *tx)
                    .await?;
                    history!(tx, &tenant_id, ctx, now, &NewHistory {
                        record_type: &d.record_type,
                        record_id: &d.record_id,
                        event: "deadline_recomputed",
                        audience: Audience::Public,
                        detail: json!({"step": d.step, "from": d.due_at, "to": s.due_at}),
                    });
                }
                let head = append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(&tenant_id),
                    action: "recompute",
                    entity: "deadline",
                    entity_id: &batch,
                    changes: json!({"rows": digests}),
                });
                tx.commit().await?;
                self.advance_head(head);
            });
            changed += updates.len();
        }
        Ok(changed)
    }

    /// One deadline.
    pub async fn deadline(&self, tenant_id: &str, id: &str) -> Result<Option<StoredDeadline>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM deadline WHERE tenant_id = $1 AND id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        row.map(StoredDeadline::try_from).transpose()
    }

    /// The deadlines of one record, in the order they were opened.
    pub async fn deadlines_of(
        &self,
        tenant_id: &str,
        record_type: &str,
        record_id: &str,
    ) -> Result<Vec<StoredDeadline>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM deadline WHERE tenant_id = $1 AND record_type = $2 AND record_id = $3 ORDER BY created_at, id"
            )))
            .bind(tenant_id)
            .bind(record_type)
            .bind(record_id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter().map(StoredDeadline::try_from).collect()
    }

    /// The deadlines of several records of one type, per record id, each in the order they
    /// were opened (one query for a page of records).
    pub async fn deadlines_of_many(
        &self,
        tenant_id: &str,
        record_type: &str,
        record_ids: &[String],
    ) -> Result<BTreeMap<String, Vec<StoredDeadline>>> {
        let mut out: BTreeMap<String, Vec<StoredDeadline>> = BTreeMap::new();
        if record_ids.is_empty() {
            return Ok(out);
        }
        let placeholders: Vec<String> = (0..record_ids.len())
            .map(|i| format!("${}", i + 3))
            .collect();
        let sql = format!(
            "SELECT {COLUMNS} FROM deadline WHERE tenant_id = $1 AND record_type = $2 AND record_id IN ({}) \
             ORDER BY created_at, id",
            placeholders.join(", ")
        );
        let rows = with_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql.clone()))
                .bind(tenant_id)
                .bind(record_type);
            for id in record_ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        });
        for row in rows {
            let d = StoredDeadline::try_from(row)?;
            out.entry(d.record_id.clone()).or_default().push(d);
        }
        Ok(out)
    }

    /// Gives yellow and red cards to the open deadlines that crossed a threshold since the
    /// last sweep — only those: the partial indexes hold exactly the candidates. Each change
    /// is on the record's timeline; each tenant's batch is one audit entry with a digest per
    /// row. A sweep run twice (a job retried) changes nothing the second time.
    pub async fn sweep_cards(&self, ctx: &AuditCtx) -> Result<Sweep> {
        let now = self.clock.now();
        let mut sweep = Sweep::default();
        loop {
            // red first: a deadline past both thresholds goes straight to red; the earliest due
            // first, so supervision notices are numbered in the order the deadlines passed
            // (whatever order the database keeps its rows in)
            let rows: Vec<Crossing> = with_pool!(self, pool => {
                let mut rows: Vec<Crossing> = sqlx::query_as(
                    "SELECT tenant_id, id, record_type, record_id, step, unit_id, due_at, 'red' AS card FROM deadline \
                     WHERE open AND NOT paused AND card <> 'red' AND due_at <= $1 ORDER BY due_at, id LIMIT $2",
                )
                .bind(now)
                .bind(SWEEP_BATCH)
                .fetch_all(pool)
                .await?;
                if rows.is_empty() {
                    rows = sqlx::query_as(
                        "SELECT tenant_id, id, record_type, record_id, step, unit_id, due_at, 'yellow' AS card FROM deadline \
                         WHERE open AND NOT paused AND card = 'none' AND yellow_at <= $1 ORDER BY yellow_at, id LIMIT $2",
                    )
                    .bind(now)
                    .bind(SWEEP_BATCH)
                    .fetch_all(pool)
                    .await?;
                }
                rows
            });
            if rows.is_empty() {
                sweep.escalated = self.escalate_notices(ctx).await?;
                return Ok(sweep);
            }
            let mut by_tenant: BTreeMap<String, Vec<_>> = BTreeMap::new();
            for row in rows {
                by_tenant
                    .entry(row.tenant_id.clone())
                    .or_default()
                    .push(row);
            }
            for (tenant_id, rows) in by_tenant {
                let digests: Vec<_> = rows
                    .iter()
                    .map(|c| {
                        let row = json!({"id": c.id, "card": c.card, "due_at": c.due_at});
                        json!({"id": c.id, "digest": crate::audit::row_digest(&row)})
                    })
                    .collect();
                let batch = new_id();
                let pattern = self.notice_pattern(&tenant_id).await?;
                let year = now.with_timezone(&domain::calendar::shanghai()).year();
                let changed = with_pool!(self, pool => {
                    let mut tx = pool.begin_write().await?;
                    let mut changed = Vec::new();
                    let mut notices: Vec<String> = Vec::new();
                    for Crossing { id, record_type, record_id, step, unit_id, due_at: due, card, .. } in &rows {
                        // guarded by the card it had, so a concurrent or repeated sweep changes it once
                        let n = sqlx::query(
                            "UPDATE deadline SET card = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2 AND open \
                             AND NOT paused AND card <> $3 AND card <> 'red'",
                        )
                        .bind(&tenant_id).bind(id).bind(card).bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if n == 1 {
                            history!(tx, &tenant_id, ctx, now, &NewHistory {
                                record_type,
                                record_id,
                                event: if card == "red" { "card_red" } else { "card_yellow" },
                                audience: Audience::Internal,
                                detail: json!({"step": step, "due_at": due}),
                            });
                            changed.push(card.clone());
                            let due_local = due
                                .with_timezone(&domain::calendar::shanghai())
                                .format("%m月%d日 %H:%M");
                            let noun = if step.starts_with("milestone:") {
                                "督查任务节点"
                            } else {
                                crate::notification::record_noun(record_type)
                            };
                            let url = crate::notification::record_url(record_type, record_id);
                            let (event, message) = if card == "red" {
                                ("overdue", format!("{noun}已超过办理时限（{due_local}）"))
                            } else {
                                ("due_soon", format!("{noun}将于 {due_local} 到期，请抓紧办理"))
                            };
                            notify!(tx, &tenant_id, event, record_type, record_id, &message, &url, unit_id.as_deref(), false, now);
                            if card == "red" {
                                // a red card issues the supervision notice, numbered in the year
                                let seq: i64 = sqlx::query_scalar(
                                    "SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM notice WHERE tenant_id = $1 AND year = $2",
                                )
                                .bind(&tenant_id).bind(year)
                                .fetch_one(&mut *tx)
                                .await?;
                                let number = notice_number(&pattern, year, seq);
                                let issued = sqlx::query(
                                    "INSERT INTO notice (tenant_id, id, year, seq, number, deadline_id, record_type, record_id, step, \
                                     unit_id, due_at, issued_at, level) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1) \
                                     ON CONFLICT (tenant_id, deadline_id) DO NOTHING",
                                )
                                .bind(&tenant_id).bind(new_id()).bind(year).bind(seq).bind(&number).bind(id)
                                .bind(record_type).bind(record_id).bind(step).bind(unit_id).bind(due).bind(now)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected();
                                if issued == 1 {
                                    let message = format!("督办单 {number}：{noun}已超期，请立即办理");
                                    notify!(tx, &tenant_id, "notice", record_type, record_id, &message, &url, unit_id.as_deref(), true, now);
                                    history!(tx, &tenant_id, ctx, now, &NewHistory {
                                        record_type,
                                        record_id,
                                        event: "notice_issued",
                                        audience: Audience::Internal,
                                        detail: json!({"step": step, "number": number}),
                                    });
                                    notices.push(number);
                                }
                            }
                        }
                    }
                    let head = append!(self, tx, ctx, now, &AuditEntry {
                        tenant_id: Some(&tenant_id),
                        action: "card",
                        entity: "deadline",
                        entity_id: &batch,
                        changes: json!({"rows": digests, "notices": notices}),
                    });
                    tx.commit().await?;
                    self.advance_head(head);
                    sweep.notices += notices.len();
                    changed
                });
                sweep.red += changed.iter().filter(|c| *c == "red").count();
                sweep.yellow += changed.iter().filter(|c| *c == "yellow").count();
            }
        }
    }
}
