//! Appeals (诉求): intake from every channel, routing to a lead unit, the steps through
//! `domain::appeal::next` with each step's deadline on the kernel (record `appeal`, steps
//! named by `domain::appeal::Step::name`), callbacks, and the three rates. The submitter's
//! name and phone are sealed with their blind index; only [`Store::appeal_submitter`] opens
//! them, and each opening is audited. Who sees which appeals is the caller's policy, given
//! as an [`AppealVisibility`] the queries apply in SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use domain::appeal::{
    Actor, AppealAction, AppealState, Counts, Facts, Kind, Limits, Satisfaction, Source, Step,
};
use domain::deadline::{Card, Deadline, Limit};
use domain::history::Audience;
use serde_json::json;

use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::deadline::{NewDeadline, StoredDeadline, insert_deadline, meet_deadline};
use crate::history::{NewHistory, history};
use crate::inspection::{corrupt, invalid, optional_text, short, text};
use crate::notification::notify;
use crate::page::{Page, PageRequest};
use crate::{Result, Store, StoreError, new_id};

/// The tenant setting holding the step limits (JSON of `domain::appeal::Limits`).
pub const LIMITS_SETTING: &str = "appeal.limits";

/// An appeal category (an Open311 service).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Category {
    /// Its code (`service_code`).
    pub code: String,
    /// Its name.
    pub name: String,
    /// What it covers.
    pub description: String,
    /// The default lead unit.
    pub unit_id: Option<String>,
    /// Display order.
    pub sort_order: i64,
    /// Offered on forms.
    pub active: bool,
}

/// An appeal to receive.
#[derive(Debug, Clone)]
pub struct NewAppeal {
    /// What kind.
    pub kind: Kind,
    /// Through which channel.
    pub source: Source,
    /// The category's code.
    pub category_code: String,
    /// The street it concerns.
    pub street_id: Option<String>,
    /// The enterprise it concerns (an enterprise account's own, or named at the hall).
    pub enterprise_id: Option<String>,
    /// A title, 1–100 characters.
    pub title: String,
    /// What is asked, 1–5000 characters.
    pub content: String,
    /// Where, up to 200 characters.
    pub address: String,
    /// The submitter agrees to publish the content (Open311 `description`).
    pub publish: bool,
    /// The submitter's name (sealed).
    pub submitter_name: Option<String>,
    /// The submitter's phone (sealed); required from the public.
    pub submitter_phone: Option<String>,
    /// The account that submitted it (an enterprise's).
    pub submitter_account_id: Option<String>,
    /// The number in another system (the hotline's), unique per source.
    pub external_id: Option<String>,
}

/// A co-handling unit (协办) and its part.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Cohandler {
    /// The unit.
    pub unit_id: String,
    /// What it contributed.
    pub part: Option<String>,
    /// When.
    pub done_at: Option<DateTime<Utc>>,
}

/// A callback attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackRecord {
    /// Reached the submitter.
    pub contacted: bool,
    /// Resolved, as the submitter says.
    pub resolved: Option<bool>,
    /// Satisfaction with the process.
    pub process: Option<Satisfaction>,
    /// Satisfaction with the result.
    pub result: Option<Satisfaction>,
    /// The third attempt without reaching the submitter.
    pub gave_up: bool,
    /// The caller's note.
    pub note: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An appeal as stored (the submitter still sealed).
#[derive(Debug, Clone)]
pub struct Appeal {
    /// Its id.
    pub id: String,
    /// Its number (SQ + day + sequence).
    pub number: String,
    /// The submitter's tracking code.
    pub tracking_code: String,
    /// What kind.
    pub kind: Kind,
    /// Through which channel.
    pub source: Source,
    /// Its category's code.
    pub category_code: String,
    /// The street it concerns.
    pub street_id: Option<String>,
    /// The enterprise it concerns.
    pub enterprise_id: Option<String>,
    /// Title.
    pub title: String,
    /// Content.
    pub content: String,
    /// Where.
    pub address: String,
    /// The submitter agreed to publish the content.
    pub publish: bool,
    /// A submitter name or phone is on file.
    pub has_submitter: bool,
    /// The account that submitted it.
    pub submitter_account_id: Option<String>,
    /// The hotline's number.
    pub external_id: Option<String>,
    /// 书记直通车.
    pub secretary: bool,
    /// Where it stands.
    pub state: AppealState,
    /// The lead unit the routing proposes.
    pub proposed_unit_id: Option<String>,
    /// The lead unit (主办).
    pub lead_unit_id: Option<String>,
    /// Returns so far.
    pub returns: u32,
    /// Reopenings so far.
    pub reopens: u32,
    /// Callback attempts that did not reach the submitter, since the last reply.
    pub missed_callbacks: u32,
    /// The last return's reason.
    pub return_reason: Option<String>,
    /// The reply.
    pub reply: Option<String>,
    /// What the public is told (Open311 `status_notes`).
    pub status_notes: String,
    /// Received at.
    pub received_at: DateTime<Utc>,
    /// Last dispatched at.
    pub dispatched_at: Option<DateTime<Utc>>,
    /// The (latest) accept deadline.
    pub accept_due_at: Option<DateTime<Utc>>,
    /// Accepted at.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Working minutes from dispatch to acceptance.
    pub accept_minutes: Option<i64>,
    /// Accepted within the limit.
    pub accept_on_time: Option<bool>,
    /// The (latest) reply deadline as set on acceptance.
    pub reply_due_at: Option<DateTime<Utc>>,
    /// Replied at.
    pub replied_at: Option<DateTime<Utc>>,
    /// Working minutes from acceptance to the reply.
    pub reply_minutes: Option<i64>,
    /// Replied within the limit (extension included).
    pub reply_on_time: Option<bool>,
    /// The last callback.
    pub called_back_at: Option<DateTime<Utc>>,
    /// Its outcome: reached.
    pub callback_contacted: Option<bool>,
    /// Resolved.
    pub callback_resolved: Option<bool>,
    /// Process satisfaction.
    pub callback_process: Option<Satisfaction>,
    /// Result satisfaction.
    pub callback_result: Option<Satisfaction>,
    /// Closed at.
    pub closed_at: Option<DateTime<Utc>>,
    /// Who recorded it (an audit actor).
    pub created_by: String,
    /// Its deadlines on the kernel.
    pub deadlines: Vec<StoredDeadline>,
    /// Co-handling units.
    pub cohandlers: Vec<Cohandler>,
}

impl Appeal {
    /// The deadline of the step running now.
    pub fn deadline(&self) -> Option<&StoredDeadline> {
        let step = domain::appeal::running_step(self.state)?;
        self.deadlines
            .iter()
            .filter(|d| d.open && Step::of_name(&d.step) == Some(step))
            .max_by_key(|d| d.due_at)
    }

    /// The card it shows now.
    pub fn card(&self) -> Card {
        self.deadline().map_or(Card::None, |d| d.card)
    }

    /// The counted facts of the domain's rules.
    pub fn facts(&self) -> Facts {
        Facts {
            returns: self.returns,
            reopens: self.reopens,
            missed_callbacks: self.missed_callbacks,
            contacted: false,
            unsatisfied: self.callback_contacted == Some(true)
                && (self.callback_resolved == Some(false)
                    || self.callback_result == Some(Satisfaction::Dissatisfied)
                    || self.callback_process == Some(Satisfaction::Dissatisfied)),
        }
    }
}

/// A step on an appeal, with what it carries.
#[derive(Debug, Clone)]
pub enum AppealStep {
    /// The supervisor sends it to a lead unit, with co-handling units.
    Dispatch {
        /// The lead unit.
        unit_id: String,
        /// Co-handling units.
        cohandler_ids: Vec<String>,
        /// Instructions.
        note: String,
    },
    /// The lead unit accepts it.
    Accept {
        /// The acting unit.
        unit_id: Option<String>,
        /// A note.
        note: String,
    },
    /// The lead unit returns it with a reason.
    Return {
        /// The acting unit.
        unit_id: Option<String>,
        /// Why.
        reason: String,
    },
    /// The lead unit replies.
    Reply {
        /// The acting unit.
        unit_id: Option<String>,
        /// The reply.
        reply: String,
        /// What the public is told; the reply's first words when empty.
        status_notes: String,
    },
    /// The supervisor records a callback attempt.
    Callback {
        /// Reached the submitter.
        contacted: bool,
        /// Resolved (when reached).
        resolved: Option<bool>,
        /// Process satisfaction (when reached).
        process: Option<Satisfaction>,
        /// Result satisfaction (when reached).
        result: Option<Satisfaction>,
        /// A note.
        note: String,
    },
    /// The supervisor closes it.
    Close {
        /// A note.
        note: String,
    },
    /// The supervisor sends it back to the lead unit.
    Reopen {
        /// Why.
        note: String,
    },
}

impl AppealStep {
    /// The domain's action.
    pub fn action(&self) -> AppealAction {
        match self {
            AppealStep::Dispatch { .. } => AppealAction::Dispatch,
            AppealStep::Accept { .. } => AppealAction::Accept,
            AppealStep::Return { .. } => AppealAction::Return,
            AppealStep::Reply { .. } => AppealAction::Reply,
            AppealStep::Callback { .. } => AppealAction::Callback,
            AppealStep::Close { .. } => AppealAction::Close,
            AppealStep::Reopen { .. } => AppealAction::Reopen,
        }
    }

    fn acting_unit(&self) -> Option<&str> {
        match self {
            AppealStep::Accept { unit_id, .. }
            | AppealStep::Return { unit_id, .. }
            | AppealStep::Reply { unit_id, .. } => unit_id.as_deref(),
            _ => None,
        }
    }
}

/// Which appeals a reader sees.
#[derive(Debug, Clone, Default)]
pub struct AppealVisibility {
    /// Every appeal of the tenant.
    pub all: bool,
    /// Those led or co-handled by these units (a `unit_admin`'s subtree).
    pub units: Option<Vec<String>>,
    /// Those submitted by this account (an enterprise).
    pub account_id: Option<String>,
}

impl AppealVisibility {
    /// Whether it sees anything at all.
    pub fn reads_any(&self) -> bool {
        self.all || self.units.is_some() || self.account_id.is_some()
    }
}

/// Which appeals a list shows.
#[derive(Debug, Clone, Default)]
pub struct AppealFilter {
    /// In this state.
    pub state: Option<AppealState>,
    /// Not closed.
    pub open: bool,
    /// Of this kind.
    pub kind: Option<Kind>,
    /// From this channel.
    pub source: Option<Source>,
    /// In this category.
    pub category_code: Option<String>,
    /// Led by this unit.
    pub unit_id: Option<String>,
    /// Concerning this street.
    pub street_id: Option<String>,
    /// 书记直通车 only.
    pub secretary: bool,
    /// With a red card running.
    pub overdue: bool,
    /// Received at or after.
    pub since: Option<DateTime<Utc>>,
    /// Received before.
    pub until: Option<DateTime<Utc>>,
    /// These ids only.
    pub ids: Option<Vec<String>>,
    /// Title, content or number containing this.
    pub q: Option<String>,
}

/// A submitter's identity, opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitter {
    /// Name.
    pub name: Option<String>,
    /// Phone.
    pub phone: Option<String>,
}

/// How the three rates are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FigureGroup {
    /// By lead unit.
    Unit,
    /// By street.
    Street,
    /// By kind.
    Kind,
    /// By month (Asia/Shanghai), `YYYY-MM`.
    Month,
}

#[derive(sqlx::FromRow)]
struct AppealRow {
    id: String,
    number: String,
    tracking_code: String,
    kind: String,
    source: String,
    category_code: String,
    street_id: Option<String>,
    enterprise_id: Option<String>,
    title: String,
    content: String,
    address: String,
    publish: bool,
    has_submitter: bool,
    submitter_account_id: Option<String>,
    external_id: Option<String>,
    secretary: bool,
    state: String,
    proposed_unit_id: Option<String>,
    lead_unit_id: Option<String>,
    returns: i64,
    reopens: i64,
    missed_callbacks: i64,
    return_reason: Option<String>,
    reply: Option<String>,
    status_notes: String,
    received_at: DateTime<Utc>,
    dispatched_at: Option<DateTime<Utc>>,
    accept_due_at: Option<DateTime<Utc>>,
    accepted_at: Option<DateTime<Utc>>,
    accept_minutes: Option<i64>,
    accept_on_time: Option<bool>,
    reply_due_at: Option<DateTime<Utc>>,
    replied_at: Option<DateTime<Utc>>,
    reply_minutes: Option<i64>,
    reply_on_time: Option<bool>,
    called_back_at: Option<DateTime<Utc>>,
    callback_contacted: Option<bool>,
    callback_resolved: Option<bool>,
    callback_process: Option<String>,
    callback_result: Option<String>,
    closed_at: Option<DateTime<Utc>>,
    created_by: String,
}

const COLUMNS: &str = "a.id, a.number, a.tracking_code, a.kind, a.source, a.category_code, a.street_id, \
     a.enterprise_id, a.title, a.content, a.address, a.publish, \
     (a.submitter_name_enc IS NOT NULL OR a.submitter_phone_enc IS NOT NULL) AS has_submitter, \
     a.submitter_account_id, a.external_id, a.secretary, a.state, a.proposed_unit_id, a.lead_unit_id, a.returns, \
     a.reopens, a.missed_callbacks, a.return_reason, a.reply, a.status_notes, a.received_at, a.dispatched_at, \
     a.accept_due_at, a.accepted_at, a.accept_minutes, a.accept_on_time, a.reply_due_at, a.replied_at, \
     a.reply_minutes, a.reply_on_time, a.called_back_at, a.callback_contacted, a.callback_resolved, \
     a.callback_process, a.callback_result, a.closed_at, a.created_by";

/// The timeline's detail of a received appeal (with the hotline's time, when it has one).
/// The timeline entry of a received appeal (with the hotline's own time, for an import).
pub(crate) fn received_detail(p: &PreparedAppeal, number: &str) -> serde_json::Value {
    let mut detail =
        json!({"source": p.source.as_str(), "kind": p.kind.as_str(), "number": number});
    if let Some(at) = p.hotline_at {
        detail["hotline_received_at"] = json!(at);
    }
    detail
}

fn satisfaction(value: Option<String>, id: &str) -> Result<Option<Satisfaction>> {
    value
        .map(|v| v.parse().map_err(|e| corrupt("appeal", id, e)))
        .transpose()
}

fn count(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The condition and its text binds (from `$2`; `$1` is the tenant) of a visibility and a
/// filter. Only fixed SQL is written into the text; every value is bound.
/// On PostgreSQL the co-handled ids come as an array, which its planner joins to the lead
/// unit's range in one bitmap (an `IN (subquery)` under an `OR` makes it scan every row).
fn condition(
    vis: &AppealVisibility,
    filter: &AppealFilter,
    postgres: bool,
) -> (String, Vec<String>) {
    let mut binds: Vec<String> = Vec::new();
    let bind = |value: String, binds: &mut Vec<String>| {
        binds.push(value);
        format!("${}", binds.len() + 1)
    };
    let mut parts = vec!["a.tenant_id = $1".to_owned()];
    if !vis.all {
        let mut who = Vec::new();
        if let Some(units) = &vis.units {
            let list: Vec<String> = units.iter().map(|u| bind(u.clone(), &mut binds)).collect();
            if !list.is_empty() {
                let list = list.join(", ");
                // two indexable terms (the lead unit's index, the primary key), so both
                // databases read the union of two index ranges rather than every row
                let (open, close) = if postgres {
                    ("= ANY(ARRAY(", "))")
                } else {
                    ("IN (", ")")
                };
                who.push(format!(
                    "(a.lead_unit_id IN ({list}) OR a.id {open}SELECT c.appeal_id FROM appeal_cohandler c \
                     WHERE c.tenant_id = $1 AND c.unit_id IN ({list}){close})"
                ));
            }
        }
        if let Some(account) = &vis.account_id {
            who.push(format!(
                "a.submitter_account_id = {}",
                bind(account.clone(), &mut binds)
            ));
        }
        if who.is_empty() {
            who.push("1 = 0".to_owned());
        }
        parts.push(format!("({})", who.join(" OR ")));
    }
    if let Some(state) = filter.state {
        parts.push(format!(
            "a.state = {}",
            bind(state.as_str().to_owned(), &mut binds)
        ));
    }
    if filter.open {
        parts.push("a.state <> 'closed'".to_owned());
    }
    if let Some(kind) = filter.kind {
        parts.push(format!(
            "a.kind = {}",
            bind(kind.as_str().to_owned(), &mut binds)
        ));
    }
    if let Some(source) = filter.source {
        parts.push(format!(
            "a.source = {}",
            bind(source.as_str().to_owned(), &mut binds)
        ));
    }
    if let Some(code) = &filter.category_code {
        parts.push(format!(
            "a.category_code = {}",
            bind(code.clone(), &mut binds)
        ));
    }
    if let Some(unit) = &filter.unit_id {
        parts.push(format!(
            "a.lead_unit_id = {}",
            bind(unit.clone(), &mut binds)
        ));
    }
    if let Some(street) = &filter.street_id {
        parts.push(format!(
            "a.street_id = {}",
            bind(street.clone(), &mut binds)
        ));
    }
    if filter.secretary {
        parts.push("a.secretary".to_owned());
    }
    if filter.overdue {
        parts.push(
            "EXISTS (SELECT 1 FROM deadline d WHERE d.tenant_id = a.tenant_id AND d.record_type = 'appeal' \
             AND d.record_id = a.id AND d.open AND d.card = 'red')"
                .to_owned(),
        );
    }
    if let Some(ids) = &filter.ids {
        let list: Vec<String> = ids.iter().map(|i| bind(i.clone(), &mut binds)).collect();
        if list.is_empty() {
            parts.push("1 = 0".to_owned());
        } else {
            parts.push(format!(
                "(a.id IN ({0}) OR a.number IN ({0}))",
                list.join(", ")
            ));
        }
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let escaped = q
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let p = bind(format!("%{escaped}%"), &mut binds);
        parts.push(format!(
            "(a.title LIKE {p} ESCAPE '\\' OR a.content LIKE {p} ESCAPE '\\' OR a.number LIKE {p} ESCAPE '\\')"
        ));
    }
    (parts.join(" AND "), binds)
}

macro_rules! bind_all {
    ($query:expr, $tenant_id:expr, $binds:expr, $filter:expr) => {{
        let mut q = $query.bind($tenant_id);
        for b in $binds {
            q = q.bind(b);
        }
        q.bind($filter.since).bind($filter.until)
    }};
}

/// An appeal checked and planned by [`Store::prepare_appeal`], ready for [`insert_appeal`].
#[derive(Debug, Clone)]
pub(crate) struct PreparedAppeal {
    pub(crate) id: String,
    /// When the hotline took the call (an imported work order).
    pub(crate) hotline_at: Option<DateTime<Utc>>,
    pub(crate) kind: Kind,
    pub(crate) source: Source,
    pub(crate) category_code: String,
    pub(crate) street_id: Option<String>,
    pub(crate) enterprise_id: Option<String>,
    pub(crate) title: String,
    pub(crate) content: String,
    pub(crate) address: String,
    pub(crate) publish: bool,
    pub(crate) sealed_name: Option<String>,
    pub(crate) name_index: Option<String>,
    pub(crate) sealed_phone: Option<String>,
    pub(crate) phone_index: Option<String>,
    pub(crate) submitter_account_id: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) secretary: bool,
    /// The district office, told of a 书记直通车 appeal.
    pub(crate) office: Option<String>,
    pub(crate) proposed: Option<String>,
    pub(crate) tracking: String,
    /// The day of receipt (Asia/Shanghai, `YYYYMMDD`), the number's prefix.
    pub(crate) day: String,
    pub(crate) dispatch_step: String,
    pub(crate) limit: Limit,
    pub(crate) spec: String,
    pub(crate) schedule: domain::deadline::Schedule,
    pub(crate) deadline_id: String,
}

/// Receives a [`PreparedAppeal`] at `$now` inside the caller's transaction `$tx` (either
/// backend): numbers it, inserts it `submitted`, opens its dispatch deadline on the kernel,
/// starts its timeline, tells the supervisors (and for 书记直通车 the district office) and
/// audits it; evaluates to the audit chain's new head. Every intake path goes through here.
macro_rules! insert_appeal {
    ($store:expr, $tx:expr, $tenant_id:expr, $ctx:expr, $now:expr, $prepared:expr) => {{
        let p: &$crate::appeal::PreparedAppeal = $prepared;
        let tenant_id: &str = $tenant_id;
        let ctx: &$crate::audit::AuditCtx = $ctx;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO appeal_seq (tenant_id, day, seq) VALUES ($1, $2, 1) \
             ON CONFLICT (tenant_id, day) DO UPDATE SET seq = appeal_seq.seq + 1 RETURNING seq",
        )
        .bind(tenant_id)
        .bind(&p.day)
        .fetch_one(&mut *$tx)
        .await?;
        let number = format!("SQ{}{seq:04}", p.day);
        let status_notes = "已收到，正在派发";
        let inserted = sqlx::query(
            "INSERT INTO appeal (tenant_id, id, number, tracking_code, kind, source, category_code, street_id, enterprise_id, \
             title, content, address, publish, submitter_name_enc, submitter_name_index, submitter_phone_enc, \
             submitter_phone_index, submitter_account_id, external_id, secretary, state, proposed_unit_id, returns, reopens, \
             missed_callbacks, status_notes, received_at, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, 'submitted', \
             $21, 0, 0, 0, $22, $23, $24, $23, $23) ON CONFLICT DO NOTHING",
        )
        .bind(tenant_id).bind(&p.id).bind(&number).bind(&p.tracking).bind(p.kind.as_str()).bind(p.source.as_str())
        .bind(&p.category_code).bind(&p.street_id).bind(&p.enterprise_id).bind(&p.title).bind(&p.content).bind(&p.address)
        .bind(p.publish).bind(&p.sealed_name).bind(&p.name_index).bind(&p.sealed_phone).bind(&p.phone_index)
        .bind(&p.submitter_account_id).bind(&p.external_id).bind(p.secretary).bind(&p.proposed).bind(status_notes)
        .bind(now).bind(&ctx.actor)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            return Err($crate::StoreError::Conflict(format!(
                "外部编号“{}”的诉求已导入",
                p.external_id.as_deref().unwrap_or_default()
            )));
        }
        let deadline = $crate::deadline::NewDeadline {
            record_type: "appeal",
            record_id: &p.id,
            step: &p.dispatch_step,
            unit_id: None,
            limit: p.limit,
            received_at: now,
        };
        $crate::deadline::insert_deadline!($tx, tenant_id, &p.deadline_id, &deadline, &p.spec, &p.schedule, now);
        $crate::history::history!($tx, tenant_id, ctx, now, &$crate::history::NewHistory {
            record_type: "appeal",
            record_id: &p.id,
            event: "received",
            audience: domain::history::Audience::Public,
            detail: $crate::appeal::received_detail(p, &number),
        });
        let url = format!("/appeals/{}", p.id);
        let message = format!("新诉求待派发：{}", $crate::inspection::short(&p.title));
        $crate::notification::notify!($tx, tenant_id, "appeal_received", "appeal", &p.id, &message, &url, None, true, now);
        if let Some(office) = &p.office {
            let message = format!("书记直通车诉求：{}", $crate::inspection::short(&p.title));
            $crate::notification::notify!($tx, tenant_id, "secretary", "appeal", &p.id, &message, &url, Some(office.as_str()), false, now);
        }
        $crate::audit::append!($store, $tx, ctx, now, &$crate::audit::AuditEntry {
            tenant_id: Some(tenant_id),
            action: "create",
            entity: "appeal",
            entity_id: &p.id,
            changes: {
                let mut changes = serde_json::json!({"number": number, "kind": p.kind.as_str(), "source": p.source.as_str(),
                "category_code": p.category_code, "street_id": p.street_id, "enterprise_id": p.enterprise_id,
                "title": p.title, "content": p.content, "address": p.address, "publish": p.publish,
                "submitter_name": p.name_index, "submitter_phone": p.phone_index,
                "submitter_account_id": p.submitter_account_id, "external_id": p.external_id,
                "secretary": p.secretary, "proposed_unit_id": p.proposed, "deadline_id": p.deadline_id});
                if let Some(at) = p.hotline_at {
                    changes["hotline_received_at"] = serde_json::json!(at);
                }
                changes
            },
        })
    }};
}
pub(crate) use insert_appeal;

impl Store {
    /// The appeal categories, in display order (`active_only`: those offered on forms).
    pub async fn appeal_categories(
        &self,
        tenant_id: &str,
        active_only: bool,
    ) -> Result<Vec<Category>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, Category>(
                "SELECT code, name, description, unit_id, sort_order, active FROM appeal_category \
                 WHERE tenant_id = $1 AND (active OR NOT $2) ORDER BY sort_order, code",
            )
            .bind(tenant_id)
            .bind(active_only)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// Adds or changes a category (its code stays).
    pub async fn save_appeal_category(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        category: &Category,
    ) -> Result<Category> {
        let code = category.code.trim();
        if code.is_empty()
            || code.len() > 20
            || !code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(invalid(
                "code",
                "类别代码应为 1 到 20 位字母、数字、“-”或“_”",
            ));
        }
        let name = text("name", &category.name, 30, "类别名称")?;
        let description = optional_text("description", &category.description, 200, "类别说明")?;
        if let Some(unit) = &category.unit_id {
            self.active_units(tenant_id, std::slice::from_ref(unit), "unit_id")
                .await?;
        }
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO appeal_category (tenant_id, code, name, description, unit_id, sort_order, active) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tenant_id, code) DO UPDATE SET \
                 name = excluded.name, description = excluded.description, unit_id = excluded.unit_id, \
                 sort_order = excluded.sort_order, active = excluded.active",
            )
            .bind(tenant_id).bind(code).bind(&name).bind(&description).bind(&category.unit_id)
            .bind(category.sort_order).bind(category.active)
            .execute(&mut *tx)
            .await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "save",
                entity: "appeal_category",
                entity_id: code,
                changes: json!({"name": name, "description": description, "unit_id": category.unit_id,
                    "sort_order": category.sort_order, "active": category.active}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(Category {
            code: code.to_owned(),
            name,
            description,
            ..category.clone()
        })
    }

    /// Routes a category in a street to a lead unit (`None`: the category's default again).
    pub async fn set_appeal_route(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        category_code: &str,
        street_id: &str,
        unit_id: Option<&str>,
    ) -> Result<()> {
        self.appeal_category(tenant_id, category_code)
            .await?
            .ok_or_else(|| invalid("category_code", "诉求类别不存在"))?;
        self.street(tenant_id, street_id).await?;
        if let Some(unit) = unit_id {
            self.active_units(tenant_id, &[unit.to_owned()], "unit_id")
                .await?;
        }
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM appeal_route WHERE tenant_id = $1 AND category_code = $2 AND street_id = $3")
                .bind(tenant_id).bind(category_code).bind(street_id)
                .execute(&mut *tx)
                .await?;
            if let Some(unit) = unit_id {
                sqlx::query("INSERT INTO appeal_route (tenant_id, category_code, street_id, unit_id) VALUES ($1, $2, $3, $4)")
                    .bind(tenant_id).bind(category_code).bind(street_id).bind(unit)
                    .execute(&mut *tx)
                    .await?;
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "route",
                entity: "appeal_category",
                entity_id: category_code,
                changes: json!({"street_id": street_id, "unit_id": unit_id}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(())
    }

    async fn appeal_category(&self, tenant_id: &str, code: &str) -> Result<Option<Category>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, Category>(
                "SELECT code, name, description, unit_id, sort_order, active FROM appeal_category \
                 WHERE tenant_id = $1 AND code = $2",
            )
            .bind(tenant_id)
            .bind(code)
            .fetch_optional(pool)
            .await?
        });
        Ok(row)
    }

    async fn street(&self, tenant_id: &str, street_id: &str) -> Result<crate::unit::Unit> {
        match self.unit(tenant_id, street_id).await? {
            Some(u) if u.kind == domain::org::UnitKind::Street && u.active => Ok(u),
            _ => Err(invalid("street_id", "所属街道不存在或已撤并")),
        }
    }

    /// The lead unit the routing proposes for a category in a street: the street's route,
    /// else the category's default.
    pub async fn proposed_unit(
        &self,
        tenant_id: &str,
        category: &Category,
        street_id: Option<&str>,
    ) -> Result<Option<String>> {
        if let Some(street) = street_id {
            let routed: Option<String> = with_pool!(self, pool => {
                sqlx::query_scalar(
                    "SELECT unit_id FROM appeal_route WHERE tenant_id = $1 AND category_code = $2 AND street_id = $3",
                )
                .bind(tenant_id)
                .bind(&category.code)
                .bind(street)
                .fetch_optional(pool)
                .await?
            });
            if routed.is_some() {
                return Ok(routed);
            }
        }
        Ok(category.unit_id.clone())
    }

    /// The routes set (category × street → lead unit): `(category_code, street_id, unit_id)`
    /// by category and street.
    pub async fn appeal_routes(&self, tenant_id: &str) -> Result<Vec<(String, String, String)>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT category_code, street_id, unit_id FROM appeal_route WHERE tenant_id = $1 \
                 ORDER BY category_code, street_id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    /// The tenant's step limits (SPEC defaults unless set).
    pub async fn appeal_limits(&self, tenant_id: &str) -> Result<Limits> {
        self.tenant_json(tenant_id, LIMITS_SETTING).await
    }

    /// Sets the tenant's step limits (effective for deadlines opened from now on).
    pub async fn set_appeal_limits(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        limits: &Limits,
    ) -> Result<()> {
        limits.validate().map_err(|r| invalid(r.field, r.message))?;
        self.set_tenant_json(ctx, tenant_id, LIMITS_SETTING, limits)
            .await
    }

    /// Receives an appeal: numbered, given a tracking code and a proposed lead unit, its
    /// dispatch deadline opened, the supervisors (and for 书记直通车 the district office) told.
    pub async fn create_appeal(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewAppeal,
    ) -> Result<Appeal> {
        self.create_appeal_at(ctx, tenant_id, new, self.clock.now())
            .await
    }

    /// As [`Self::create_appeal`], received at `now` (the demo's past appeals).
    pub(crate) async fn create_appeal_at(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewAppeal,
        now: DateTime<Utc>,
    ) -> Result<Appeal> {
        self.receive_appeal(ctx, tenant_id, new, now, None, Vec::new())
            .await
    }

    /// As [`Self::create_appeal`], for a row of a hotline export: `hotline_at`, when the
    /// hotline took the call, is kept on the timeline's entry and in the audit; the deadlines
    /// run from the import, when the district receives it.
    pub(crate) async fn create_hotline_appeal(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewAppeal,
        hotline_at: Option<DateTime<Utc>>,
    ) -> Result<Appeal> {
        self.receive_appeal(
            ctx,
            tenant_id,
            new,
            self.clock.now(),
            hotline_at,
            Vec::new(),
        )
        .await
    }

    /// As [`Self::create_appeal`], with the files the submitter sent along (each checked and
    /// moved into place by [`Self::prepare_file`]), recorded in the appeal's transaction: the
    /// appeal and its files land together or not at all.
    pub async fn create_appeal_with_files(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewAppeal,
        files: Vec<crate::attachment::PreparedFile>,
    ) -> Result<Appeal> {
        self.receive_appeal(ctx, tenant_id, new, self.clock.now(), None, files)
            .await
    }

    async fn receive_appeal(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewAppeal,
        now: DateTime<Utc>,
        hotline_at: Option<DateTime<Utc>>,
        files: Vec<crate::attachment::PreparedFile>,
    ) -> Result<Appeal> {
        let mut prepared = self.prepare_appeal(tenant_id, new, now).await?;
        prepared.hotline_at = hotline_at;
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut head = insert_appeal!(self, tx, tenant_id, ctx, now, &prepared);
            for file in &files {
                crate::attachment::record_file!(tx, tenant_id, ctx, now, "appeal", &prepared.id, None, file);
                let mut changes = file.audit();
                changes["record_type"] = json!("appeal");
                changes["record_id"] = json!(prepared.id);
                head = append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(tenant_id),
                    action: "create",
                    entity: "attachment",
                    entity_id: &file.id,
                    changes,
                });
            }
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        for file in files {
            file.keep();
        }
        self.appeal(tenant_id, &prepared.id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Checks an appeal to receive at `now` and plans what its insert needs (the routing,
    /// the dispatch deadline, the sealed submitter): everything [`insert_appeal`] writes
    /// inside a caller's transaction, read before it.
    pub(crate) async fn prepare_appeal(
        &self,
        tenant_id: &str,
        new: &NewAppeal,
        now: DateTime<Utc>,
    ) -> Result<PreparedAppeal> {
        let category = self
            .appeal_category(tenant_id, new.category_code.trim())
            .await?
            .filter(|c| c.active)
            .ok_or_else(|| invalid("category_code", "诉求类别不存在或已停用"))?;
        let title = text("title", &new.title, 100, "标题")?;
        let content = text("content", &new.content, 5000, "诉求内容")?;
        let address = optional_text("address", &new.address, 200, "地址")?;
        if let Some(street) = &new.street_id {
            self.street(tenant_id, street).await?;
        }
        if let Some(enterprise) = &new.enterprise_id {
            self.enterprise(tenant_id, enterprise)
                .await?
                .ok_or_else(|| invalid("enterprise_id", "企业不存在"))?;
        }
        let name = match new.submitter_name.as_deref().map(str::trim) {
            Some(n) if !n.is_empty() => Some(text("submitter_name", n, 50, "姓名")?),
            _ => None,
        };
        let phone = match new.submitter_phone.as_deref().map(str::trim) {
            Some(p) if !p.is_empty() => Some(
                domain::staff::Phone::parse(p)
                    .map_err(|e| invalid("submitter_phone", e.to_string()))?
                    .as_str()
                    .to_owned(),
            ),
            _ => None,
        };
        if new.source == Source::Portal && new.submitter_account_id.is_none() && phone.is_none() {
            return Err(invalid(
                "submitter_phone",
                "请留下联系电话，以便承办单位答复和回访",
            ));
        }
        let external_id = match new.external_id.as_deref().map(str::trim) {
            Some(e) if !e.is_empty() => Some(text("external_id", e, 64, "外部编号")?),
            _ => None,
        };
        let proposed = self
            .proposed_unit(tenant_id, &category, new.street_id.as_deref())
            .await?;
        let limits = self.appeal_limits(tenant_id).await?;
        let id = new_id();
        let dispatch_step = Step::Dispatch.name(1);
        let limit = limits.of(Step::Dispatch, new.kind);
        let deadline = NewDeadline {
            record_type: "appeal",
            record_id: &id,
            step: &dispatch_step,
            unit_id: None,
            limit,
            received_at: now,
        };
        let (_, spec, schedule) = self.plan_deadline(tenant_id, &deadline, now).await?;
        let secretary = new.source == Source::Secretary;
        let office = if secretary {
            self.district_office(tenant_id).await?
        } else {
            None
        };
        Ok(PreparedAppeal {
            kind: new.kind,
            source: new.source,
            category_code: category.code,
            street_id: new.street_id.clone(),
            enterprise_id: new.enterprise_id.clone(),
            title,
            content,
            address,
            publish: new.publish,
            sealed_name: name.as_deref().map(|n| self.cipher.encrypt(n)),
            name_index: name.as_deref().map(|n| self.index.of(n)),
            sealed_phone: phone.as_deref().map(|p| self.cipher.encrypt(p)),
            phone_index: phone.as_deref().map(|p| self.index.of(p)),
            submitter_account_id: new.submitter_account_id.clone(),
            external_id,
            secretary,
            office,
            proposed,
            tracking: domain::appeal::tracking_code(u64::from_le_bytes(
                crate::crypto::random_bytes::<8>(),
            )),
            day: now
                .with_timezone(&domain::calendar::shanghai())
                .format("%Y%m%d")
                .to_string(),
            dispatch_step,
            limit,
            spec,
            schedule,
            deadline_id: new_id(),
            id,
            hotline_at: None,
        })
    }

    /// The district office (the secretary's office is told of 书记直通车 appeals).
    async fn district_office(&self, tenant_id: &str) -> Result<Option<String>> {
        Ok(self
            .units(tenant_id)
            .await?
            .into_iter()
            .find(|u| u.kind == domain::org::UnitKind::DistrictOffice && u.active)
            .map(|u| u.id))
    }

    /// Takes a step on an appeal through the domain's rules; who may take it is the caller's
    /// policy (the unit steps' lead-unit rule is checked here).
    pub async fn act_on_appeal(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        step: &AppealStep,
    ) -> Result<Appeal> {
        self.take_appeal_step(ctx, tenant_id, id, step, self.clock.now(), true)
            .await
    }

    /// As [`Self::act_on_appeal`], taken at `now` (the demo's past steps: nobody is sent an
    /// SMS about them).
    pub(crate) async fn act_on_appeal_at(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        step: &AppealStep,
        now: DateTime<Utc>,
    ) -> Result<Appeal> {
        self.take_appeal_step(ctx, tenant_id, id, step, now, false)
            .await
    }

    /// Takes a step at `now`; `live` steps tell the submitter of a reply by SMS.
    async fn take_appeal_step(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        step: &AppealStep,
        now: DateTime<Utc>,
        live: bool,
    ) -> Result<Appeal> {
        let appeal = self
            .appeal(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let action = step.action();
        let mut facts = appeal.facts();
        if let AppealStep::Callback { contacted, .. } = step {
            facts.contacted = *contacted;
        }
        let next = domain::appeal::next(appeal.state, action, facts)
            .map_err(|r| StoreError::Conflict(r.to_string()))?;
        let limits = self.appeal_limits(tenant_id).await?;
        let calendar = self.calendar().await?;
        let hours = self.working_hours(tenant_id).await?;
        if matches!(
            action,
            AppealAction::Accept | AppealAction::Return | AppealAction::Reply
        ) {
            let acting = step.acting_unit();
            let within = appeal.dispatched_at.is_some_and(|at| {
                Deadline::new(at, Limit::WorkingDays(limits.return_days))
                    .schedule(&calendar, &hours, now)
                    .due_at
                    >= now
            });
            domain::appeal::check_unit_step(
                action,
                Actor {
                    has_unit: acting.is_some(),
                    lead_unit: acting.is_some() && acting == appeal.lead_unit_id.as_deref(),
                    within_return_window: within,
                },
            )
            .map_err(|r| invalid(r.field, r.message))?;
        }
        // what the step changes
        let mut lead = appeal.lead_unit_id.clone();
        let (mut returns, mut reopens, mut missed) =
            (appeal.returns, appeal.reopens, appeal.missed_callbacks);
        let mut return_reason = appeal.return_reason.clone();
        let mut reply = appeal.reply.clone();
        let mut status_notes = appeal.status_notes.clone();
        let mut cohandlers: Vec<String> = Vec::new();
        let mut callback: Option<CallbackRecord> = None;
        let (opens_step, meets_step): (Option<(Step, u32)>, Option<Step>);
        let note = match step {
            AppealStep::Dispatch {
                unit_id,
                cohandler_ids,
                note,
            } => {
                self.active_units(tenant_id, std::slice::from_ref(unit_id), "unit_id")
                    .await?;
                self.active_units(tenant_id, cohandler_ids, "cohandler_ids")
                    .await?;
                lead = Some(unit_id.clone());
                cohandlers = cohandler_ids.clone();
                status_notes = "已派发承办单位".into();
                opens_step = Some((Step::Accept, returns + 1));
                meets_step = Some(Step::Dispatch);
                optional_text("note", note, 500, "派发意见")?
            }
            AppealStep::Accept { note, .. } => {
                status_notes = "承办单位已受理，正在办理".into();
                opens_step = Some((Step::Reply, reopens + 1));
                meets_step = Some(Step::Accept);
                optional_text("note", note, 500, "受理意见")?
            }
            AppealStep::Return { reason, .. } => {
                let reason = text("reason", reason, 500, "退回理由")?;
                returns += 1;
                return_reason = Some(reason.clone());
                lead = None;
                status_notes = "正在重新派发".into();
                opens_step = Some((Step::Dispatch, returns + 1));
                meets_step = Some(Step::Accept);
                reason
            }
            AppealStep::Reply {
                reply: r,
                status_notes: public,
                ..
            } => {
                let r = text("reply", r, 5000, "答复内容")?;
                let public = optional_text("status_notes", public, 500, "公开答复摘要")?;
                status_notes = if public.is_empty() {
                    format!("已答复：{}", short(&r))
                } else {
                    public
                };
                reply = Some(r.clone());
                missed = 0;
                opens_step = Some((Step::Callback, reopens + 1));
                meets_step = Some(Step::Reply);
                r
            }
            AppealStep::Callback {
                contacted,
                resolved,
                process,
                result,
                note,
            } => {
                let note = optional_text("note", note, 500, "回访记录")?;
                if *contacted {
                    let resolved =
                        resolved.ok_or_else(|| invalid("resolved", "请选择问题是否解决"))?;
                    let process = process.ok_or_else(|| invalid("process", "请选择过程满意度"))?;
                    let result = result.ok_or_else(|| invalid("result", "请选择结果满意度"))?;
                    callback = Some(CallbackRecord {
                        contacted: true,
                        resolved: Some(resolved),
                        process: Some(process),
                        result: Some(result),
                        gave_up: false,
                        note: note.clone(),
                        at: now,
                    });
                } else {
                    if resolved.is_some() || process.is_some() || result.is_some() {
                        return Err(invalid(
                            "contacted",
                            "未联系上诉求人时不能填写解决情况和满意度",
                        ));
                    }
                    callback = Some(CallbackRecord {
                        contacted: false,
                        resolved: None,
                        process: None,
                        result: None,
                        gave_up: next == AppealState::CalledBack,
                        note: note.clone(),
                        at: now,
                    });
                }
                if next == AppealState::Replied {
                    missed += 1;
                }
                opens_step = None;
                meets_step = (next == AppealState::CalledBack).then_some(Step::Callback);
                note
            }
            AppealStep::Close { note } => {
                status_notes = "已办结".into();
                opens_step = None;
                meets_step = None;
                optional_text("note", note, 500, "办结意见")?
            }
            AppealStep::Reopen { note } => {
                let note = text("note", note, 500, "重办理由")?;
                reopens += 1;
                status_notes = "回访不满意，正在重新办理".into();
                opens_step = Some((Step::Reply, reopens + 1));
                meets_step = None;
                note
            }
        };
        if cohandlers.contains(lead.as_ref().unwrap_or(&String::new())) {
            return Err(invalid("cohandler_ids", "协办单位不能是主办单位"));
        }
        let met = match meets_step {
            Some(step) => appeal
                .deadlines
                .iter()
                .filter(|d| d.open && Step::of_name(&d.step) == Some(step))
                .max_by_key(|d| d.due_at)
                .map(|d| {
                    (
                        d.id.clone(),
                        d.deadline.worked_minutes(&calendar, &hours, now).value,
                        now <= d.due_at,
                    )
                }),
            None => None,
        };
        let mut opened = Vec::new();
        if let Some((s, round)) = opens_step {
            let unit = match s {
                Step::Accept | Step::Reply => lead.clone(),
                Step::Dispatch | Step::Callback => None,
            };
            opened.push((s.name(round), unit, limits.of(s, appeal.kind)));
        }
        for unit in &cohandlers {
            opened.push((
                format!("cohandle:{unit}"),
                Some(unit.clone()),
                limits.of(Step::Reply, appeal.kind),
            ));
        }
        let mut planned = Vec::with_capacity(opened.len());
        for (name, unit, limit) in &opened {
            let deadline = NewDeadline {
                record_type: "appeal",
                record_id: id,
                step: name,
                unit_id: unit.as_deref(),
                limit: *limit,
                received_at: now,
            };
            let (_, spec, schedule) = self.plan_deadline(tenant_id, &deadline, now).await?;
            planned.push((new_id(), deadline, spec, schedule));
        }
        let due_of = |s: Step| {
            planned
                .iter()
                .find(|p| Step::of_name(p.1.step) == Some(s))
                .map(|p| p.3.due_at)
        };
        let accept_due = due_of(Step::Accept).or(appeal.accept_due_at);
        let reply_due = due_of(Step::Reply).or(appeal.reply_due_at);
        let event = match action {
            AppealAction::Dispatch => "dispatched",
            AppealAction::Accept => "accepted",
            AppealAction::Return => "returned",
            AppealAction::Reply => "replied",
            AppealAction::Callback => "called_back",
            AppealAction::Close => "closed",
            AppealAction::Reopen => "reopened",
        };
        let office = if appeal.secretary {
            self.district_office(tenant_id).await?
        } else {
            None
        };
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE appeal SET state = $3, lead_unit_id = $4, returns = $5, reopens = $6, missed_callbacks = $7, \
                 return_reason = $8, reply = $9, status_notes = $10, accept_due_at = $11, reply_due_at = $12, updated_at = $13, \
                 dispatched_at = CASE WHEN $14 = 'dispatch' THEN $13 ELSE dispatched_at END, \
                 accepted_at = CASE WHEN $14 = 'accept' THEN $13 ELSE accepted_at END, \
                 accept_minutes = CASE WHEN $14 = 'accept' THEN $15 ELSE accept_minutes END, \
                 accept_on_time = CASE WHEN $14 = 'accept' THEN $16 ELSE accept_on_time END, \
                 replied_at = CASE WHEN $14 = 'reply' THEN $13 ELSE replied_at END, \
                 reply_minutes = CASE WHEN $14 = 'reply' THEN $15 ELSE reply_minutes END, \
                 reply_on_time = CASE WHEN $14 = 'reply' THEN $16 ELSE reply_on_time END, \
                 closed_at = CASE WHEN $14 = 'close' THEN $13 ELSE closed_at END \
                 WHERE tenant_id = $1 AND id = $2 AND state = $17 AND returns = $18 AND reopens = $19 AND missed_callbacks = $20",
            )
            .bind(tenant_id).bind(id).bind(next.as_str()).bind(&lead).bind(i64::from(returns)).bind(i64::from(reopens))
            .bind(i64::from(missed)).bind(&return_reason).bind(&reply).bind(&status_notes).bind(accept_due).bind(reply_due)
            .bind(now).bind(action.as_str()).bind(met.as_ref().map(|m| m.1)).bind(met.as_ref().map(|m| m.2))
            .bind(appeal.state.as_str()).bind(i64::from(appeal.returns)).bind(i64::from(appeal.reopens))
            .bind(i64::from(appeal.missed_callbacks))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict("该诉求刚被他人处理，请刷新后重试".into()));
            }
            if let Some(c) = &callback {
                sqlx::query(
                    "INSERT INTO appeal_callback (tenant_id, id, appeal_id, contacted, resolved, process, result, gave_up, note, \
                     created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(tenant_id).bind(new_id()).bind(id).bind(c.contacted).bind(c.resolved)
                .bind(c.process.map(|s| s.as_str())).bind(c.result.map(|s| s.as_str())).bind(c.gave_up).bind(&c.note)
                .bind(&ctx.actor).bind(now)
                .execute(&mut *tx)
                .await?;
                if next == AppealState::CalledBack {
                    sqlx::query(
                        "UPDATE appeal SET called_back_at = $3, callback_contacted = $4, callback_resolved = $5, \
                         callback_process = $6, callback_result = $7 WHERE tenant_id = $1 AND id = $2",
                    )
                    .bind(tenant_id).bind(id).bind(now).bind(c.contacted).bind(c.resolved)
                    .bind(c.process.map(|s| s.as_str())).bind(c.result.map(|s| s.as_str()))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for unit in &cohandlers {
                sqlx::query(
                    "INSERT INTO appeal_cohandler (tenant_id, appeal_id, unit_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(tenant_id).bind(id).bind(unit)
                .execute(&mut *tx)
                .await?;
            }
            if let Some((deadline_id, worked, _)) = &met {
                meet_deadline!(tx, tenant_id, deadline_id, now, worked);
            }
            for (deadline_id, deadline, spec, schedule) in &planned {
                insert_deadline!(tx, tenant_id, deadline_id, deadline, spec, schedule, now);
            }
            let url = format!("/appeals/{id}");
            let title = short(&appeal.title);
            match action {
                AppealAction::Dispatch => {
                    let message = format!("新派发诉求，请受理：{title}");
                    notify!(tx, tenant_id, "dispatched", "appeal", id, &message, &url, lead.as_deref(), false, now);
                    for unit in &cohandlers {
                        let message = format!("新派发协办诉求：{title}");
                        notify!(tx, tenant_id, "cohandle", "appeal", id, &message, &url, Some(unit.as_str()), false, now);
                    }
                }
                AppealAction::Return | AppealAction::Reply => {
                    let message = match action {
                        AppealAction::Return => format!("诉求被退回，请重新派发：{title}"),
                        _ => format!("诉求已答复，请回访：{title}"),
                    };
                    notify!(tx, tenant_id, event, "appeal", id, &message, &url, None, true, now);
                }
                AppealAction::Reopen => {
                    let message = format!("回访不满意，诉求重办：{title}");
                    notify!(tx, tenant_id, event, "appeal", id, &message, &url, lead.as_deref(), false, now);
                }
                _ => {}
            }
            if live && action == AppealAction::Reply {
                // the submitter hears of the reply on the phone they gave (sealed as stored)
                let text = format!(
                    "您提交的诉求（编号{}）已有答复，请凭查询码{}查看办理结果。",
                    appeal.number, appeal.tracking_code
                );
                sqlx::query(
                    "INSERT INTO notification (tenant_id, id, account_id, channel, event, record_type, record_id, title, url, \
                     state, created_at, next_at, to_enc) \
                     SELECT tenant_id, $3, '', 'sms', 'replied_submitter', 'appeal', id, $4, $5, 'queued', $6, $6, submitter_phone_enc \
                     FROM appeal WHERE tenant_id = $1 AND id = $2 AND submitter_phone_enc IS NOT NULL",
                )
                .bind(tenant_id).bind(id).bind(new_id()).bind(&text)
                .bind(format!("/track/{}", appeal.tracking_code)).bind(now)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(office) = &office {
                let message = format!("书记直通车诉求{}：{title}", action.label());
                notify!(tx, tenant_id, "secretary", "appeal", id, &message, &url, Some(office.as_str()), false, now);
            }
            // the submitter reads this entry: the staff's note goes in an internal one
            let mut detail = json!({"unit_id": lead, "state": next.as_str()});
            if let Some(d) = detail.as_object_mut() {
                if !cohandlers.is_empty() {
                    d.insert("cohandler_ids".into(), json!(cohandlers));
                }
                if let Some((_, worked, on_time)) = &met {
                    d.insert("worked_minutes".into(), json!(worked));
                    d.insert("on_time".into(), json!(on_time));
                }
                if let Some(c) = &callback {
                    d.insert("contacted".into(), json!(c.contacted));
                    d.insert("resolved".into(), json!(c.resolved));
                    d.insert("process".into(), json!(c.process.map(|s| s.as_str())));
                    d.insert("result".into(), json!(c.result.map(|s| s.as_str())));
                }
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: "appeal",
                record_id: id,
                event,
                audience: Audience::Public,
                detail,
            });
            if !note.is_empty() && action != AppealAction::Reply {
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "appeal",
                    record_id: id,
                    event: "noted",
                    audience: Audience::Internal,
                    detail: json!({"note": note, "step": action.as_str()}),
                });
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: action.as_str(),
                entity: "appeal",
                entity_id: id,
                changes: json!({"state": [appeal.state.as_str(), next.as_str()], "lead_unit_id": [appeal.lead_unit_id, lead],
                    "returns": returns, "reopens": reopens, "missed_callbacks": missed, "note": note,
                    "cohandler_ids": cohandlers, "status_notes": status_notes,
                    "callback": callback.as_ref().map(|c| json!({"contacted": c.contacted, "resolved": c.resolved,
                        "process": c.process.map(|s| s.as_str()), "result": c.result.map(|s| s.as_str()), "gave_up": c.gave_up})),
                    "deadline_met": met.as_ref().map(|m| &m.0),
                    "deadlines_opened": planned.iter().map(|p| &p.0).collect::<Vec<_>>()}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.appeal(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// A co-handling unit records its part; its deadline is met.
    pub async fn record_cohandler_part(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        unit_id: &str,
        part: &str,
    ) -> Result<Appeal> {
        let appeal = self
            .appeal(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let cohandler = appeal
            .cohandlers
            .iter()
            .find(|c| c.unit_id == unit_id)
            .ok_or_else(|| invalid("unit_id", "本单位不是该诉求的协办单位"))?;
        if cohandler.done_at.is_some() {
            return Err(StoreError::Conflict("本单位已提交协办意见".into()));
        }
        if matches!(
            appeal.state,
            AppealState::Replied | AppealState::CalledBack | AppealState::Closed
        ) {
            return Err(StoreError::Conflict(
                "主办单位已答复，不能再提交协办意见".into(),
            ));
        }
        let part = text("part", part, 2000, "协办意见")?;
        let now = self.clock.now();
        let step = format!("cohandle:{unit_id}");
        let met = match appeal.deadlines.iter().find(|d| d.open && d.step == step) {
            Some(d) => {
                let calendar = self.calendar().await?;
                let hours = self.working_hours(tenant_id).await?;
                Some((
                    d.id.clone(),
                    d.deadline.worked_minutes(&calendar, &hours, now).value,
                ))
            }
            None => None,
        };
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE appeal_cohandler SET part = $4, done_at = $5 WHERE tenant_id = $1 AND appeal_id = $2 \
                 AND unit_id = $3 AND done_at IS NULL",
            )
            .bind(tenant_id).bind(id).bind(unit_id).bind(&part).bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done != 1 {
                return Err(StoreError::Conflict("本单位已提交协办意见".into()));
            }
            if let Some((deadline_id, worked)) = &met {
                meet_deadline!(tx, tenant_id, deadline_id, now, worked);
            }
            let url = format!("/appeals/{id}");
            let message = format!("协办单位已提交意见：{}", short(&appeal.title));
            notify!(tx, tenant_id, "cohandled", "appeal", id, &message, &url, appeal.lead_unit_id.as_deref(), false, now);
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: "appeal",
                record_id: id,
                event: "cohandled",
                audience: Audience::Internal,
                detail: json!({"unit_id": unit_id, "note": part}),
            });
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "cohandle",
                entity: "appeal",
                entity_id: id,
                changes: json!({"unit_id": unit_id, "part": part, "deadline_met": met.as_ref().map(|m| &m.0)}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.appeal(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One appeal with its deadlines and co-handlers (no visibility applied).
    pub async fn appeal(&self, tenant_id: &str, id: &str) -> Result<Option<Appeal>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, AppealRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM appeal a WHERE a.tenant_id = $1 AND a.id = $2"
            )))
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => Ok(self.complete_appeals(tenant_id, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// The appeal a tracking code names, with its tenant id (the code is the submitter's key:
    /// no login).
    pub async fn appeal_by_tracking_code(&self, code: &str) -> Result<Option<(String, Appeal)>> {
        let Some(code) = domain::appeal::normalise_tracking_code(code) else {
            return Ok(None);
        };
        let found: Option<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT tenant_id, id FROM appeal WHERE tracking_code = $1")
                .bind(&code)
                .fetch_optional(pool)
                .await?
        });
        match found {
            Some((tenant_id, id)) => {
                Ok(self.appeal(&tenant_id, &id).await?.map(|a| (tenant_id, a)))
            }
            None => Ok(None),
        }
    }

    /// The appeal if `visibility` sees it.
    pub async fn visible_appeal(
        &self,
        tenant_id: &str,
        visibility: &AppealVisibility,
        id: &str,
    ) -> Result<Option<Appeal>> {
        let filter = AppealFilter {
            ids: Some(vec![id.to_owned()]),
            ..AppealFilter::default()
        };
        let page = self
            .list_appeals(tenant_id, visibility, &filter, PageRequest::default())
            .await?;
        Ok(page.items.into_iter().find(|a| a.id == id))
    }

    /// One page of the appeals `visibility` sees, newest first (kept until the next audited
    /// change: a unit's queue is read far more often than it changes).
    pub async fn list_appeals(
        &self,
        tenant_id: &str,
        visibility: &AppealVisibility,
        filter: &AppealFilter,
        page: PageRequest,
    ) -> Result<Page<Appeal>> {
        self.cached(
            format!("appeals|{tenant_id}|{visibility:?}|{filter:?}|{page:?}"),
            self.load_appeals(tenant_id, visibility, filter, page),
        )
        .await
    }

    async fn load_appeals(
        &self,
        tenant_id: &str,
        visibility: &AppealVisibility,
        filter: &AppealFilter,
        page: PageRequest,
    ) -> Result<Page<Appeal>> {
        if !visibility.reads_any() {
            return Ok(Page {
                items: Vec::new(),
                request: page,
                total: 0,
            });
        }
        let (condition, binds) = condition(visibility, filter, self.backend() == "postgres");
        let n = binds.len() + 2;
        let times = format!(
            " AND (${n} IS NULL OR a.received_at >= ${n}) AND (${0} IS NULL OR a.received_at < ${0})",
            n + 1
        );
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = bind_all!(
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM appeal a WHERE {condition}{times}"))),
                tenant_id, &binds, filter
            )
            .fetch_one(pool)
            .await?;
            // the page's keys first (sorting ten thousand keys, not ten thousand whole rows),
            // then its rows; on SQLite the row number breaks ties
            let key = if self.backend() == "postgres" { "a.id" } else { "a.rowid" };
            let rows = bind_all!(
                sqlx::query_as::<_, AppealRow>(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM appeal a WHERE a.tenant_id = $1 AND {key} IN (SELECT {key} FROM appeal a \
                     WHERE {condition}{times} ORDER BY a.received_at DESC, {key} DESC LIMIT ${} OFFSET ${}) \
                     ORDER BY a.received_at DESC, {key} DESC", n + 2, n + 3
                ))),
                tenant_id, &binds, filter
            )
            .bind(page.limit())
            .bind(page.offset())
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        Ok(Page {
            items: self.complete_appeals(tenant_id, rows).await?,
            request: page,
            total,
        })
    }

    async fn complete_appeals(&self, tenant_id: &str, rows: Vec<AppealRow>) -> Result<Vec<Appeal>> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut deadlines = self.deadlines_of_many(tenant_id, "appeal", &ids).await?;
        let mut cohandlers: BTreeMap<String, Vec<Cohandler>> = BTreeMap::new();
        if !ids.is_empty() {
            let placeholders: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT appeal_id, unit_id, part, done_at FROM appeal_cohandler WHERE tenant_id = $1 \
                 AND appeal_id IN ({}) ORDER BY unit_id",
                placeholders.join(", ")
            );
            type Found = (String, String, Option<String>, Option<DateTime<Utc>>);
            let found: Vec<Found> = with_pool!(self, pool => {
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(tenant_id);
                for id in &ids {
                    q = q.bind(id);
                }
                q.fetch_all(pool).await?
            });
            for (appeal_id, unit_id, part, done_at) in found {
                cohandlers.entry(appeal_id).or_default().push(Cohandler {
                    unit_id,
                    part,
                    done_at,
                });
            }
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id = r.id.clone();
            out.push(Appeal {
                kind: r.kind.parse().map_err(|e| corrupt("appeal", &id, e))?,
                source: r.source.parse().map_err(|e| corrupt("appeal", &id, e))?,
                state: r.state.parse().map_err(|e| corrupt("appeal", &id, e))?,
                callback_process: satisfaction(r.callback_process, &id)?,
                callback_result: satisfaction(r.callback_result, &id)?,
                deadlines: deadlines.remove(&id).unwrap_or_default(),
                cohandlers: cohandlers.remove(&id).unwrap_or_default(),
                returns: count(r.returns),
                reopens: count(r.reopens),
                missed_callbacks: count(r.missed_callbacks),
                id: r.id,
                number: r.number,
                tracking_code: r.tracking_code,
                category_code: r.category_code,
                street_id: r.street_id,
                enterprise_id: r.enterprise_id,
                title: r.title,
                content: r.content,
                address: r.address,
                publish: r.publish,
                has_submitter: r.has_submitter,
                submitter_account_id: r.submitter_account_id,
                external_id: r.external_id,
                secretary: r.secretary,
                proposed_unit_id: r.proposed_unit_id,
                lead_unit_id: r.lead_unit_id,
                return_reason: r.return_reason,
                reply: r.reply,
                status_notes: r.status_notes,
                received_at: r.received_at,
                dispatched_at: r.dispatched_at,
                accept_due_at: r.accept_due_at,
                accepted_at: r.accepted_at,
                accept_minutes: r.accept_minutes,
                accept_on_time: r.accept_on_time,
                reply_due_at: r.reply_due_at,
                replied_at: r.replied_at,
                reply_minutes: r.reply_minutes,
                reply_on_time: r.reply_on_time,
                called_back_at: r.called_back_at,
                callback_contacted: r.callback_contacted,
                callback_resolved: r.callback_resolved,
                closed_at: r.closed_at,
                created_by: r.created_by,
            });
        }
        Ok(out)
    }

    /// The submitter's name and phone in clear, for the supervisor; the read is audited.
    pub async fn appeal_submitter(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
    ) -> Result<Submitter> {
        type Sealed = (
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Sealed> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT submitter_name_enc, submitter_phone_enc, submitter_name_index, submitter_phone_index \
                 FROM appeal WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let (name, phone, name_index, phone_index) = row.ok_or(StoreError::NotFound)?;
        let open = |sealed: Option<String>| {
            sealed
                .map(|s| {
                    self.cipher
                        .decrypt(&s)
                        .map_err(|e| corrupt("appeal submitter", id, e))
                })
                .transpose()
        };
        let submitter = Submitter {
            name: open(name)?,
            phone: open(phone)?,
        };
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "read_submitter",
                entity: "appeal",
                entity_id: id,
                changes: json!({"submitter_name": name_index, "submitter_phone": phone_index}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        Ok(submitter)
    }

    /// The callback attempts of an appeal, oldest first.
    pub async fn appeal_callbacks(&self, tenant_id: &str, id: &str) -> Result<Vec<CallbackRecord>> {
        type Row = (
            bool,
            Option<bool>,
            Option<String>,
            Option<String>,
            bool,
            String,
            DateTime<Utc>,
        );
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT contacted, resolved, process, result, gave_up, note, created_at FROM appeal_callback \
                 WHERE tenant_id = $1 AND appeal_id = $2 ORDER BY created_at, id",
            )
            .bind(tenant_id)
            .bind(id)
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(
                |(contacted, resolved, process, result, gave_up, note, at)| {
                    Ok(CallbackRecord {
                        contacted,
                        resolved,
                        process: satisfaction(process, id)?,
                        result: satisfaction(result, id)?,
                        gave_up,
                        note,
                        at,
                    })
                },
            )
            .collect()
    }

    /// The three rates of the appeals `visibility` sees (and `filter` keeps; its time bounds
    /// aside), per group, over `[from, to)`: the
    /// response rate over appeals whose accept deadline fell in the period, the resolution
    /// and satisfaction rates over the callbacks made in it (the last reached callback of a
    /// reopened appeal counts again, as 12345 counts each callback).
    pub async fn appeal_figures(
        &self,
        tenant_id: &str,
        visibility: &AppealVisibility,
        filter: &AppealFilter,
        group: FigureGroup,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<BTreeMap<String, Counts>> {
        let mut out: BTreeMap<String, Counts> = BTreeMap::new();
        if !visibility.reads_any() {
            return Ok(out);
        }
        let (condition, binds) = condition(visibility, filter, self.backend() == "postgres");
        let n = binds.len() + 2;
        type Due = (
            Option<String>,
            Option<String>,
            String,
            DateTime<Utc>,
            Option<bool>,
        );
        type Call = (
            Option<String>,
            Option<String>,
            String,
            DateTime<Utc>,
            bool,
            Option<bool>,
            Option<String>,
            bool,
        );
        let (due, calls): (Vec<Due>, Vec<Call>) = with_pool!(self, pool => {
            let mut q = sqlx::query_as::<_, Due>(sqlx::AssertSqlSafe(format!(
                "SELECT a.lead_unit_id, a.street_id, a.kind, a.accept_due_at, a.accept_on_time FROM appeal a \
                 WHERE {condition} AND a.accept_due_at >= ${n} AND a.accept_due_at < ${}", n + 1
            )))
            .bind(tenant_id);
            for b in &binds {
                q = q.bind(b);
            }
            let due = q.bind(from).bind(to).fetch_all(pool).await?;
            let mut q = sqlx::query_as::<_, Call>(sqlx::AssertSqlSafe(format!(
                "SELECT a.lead_unit_id, a.street_id, a.kind, c.created_at, c.contacted, c.resolved, c.result, c.gave_up \
                 FROM appeal_callback c JOIN appeal a ON a.tenant_id = c.tenant_id AND a.id = c.appeal_id \
                 WHERE {condition} AND c.created_at >= ${n} AND c.created_at < ${} AND (c.contacted OR c.gave_up)", n + 1
            )))
            .bind(tenant_id);
            for b in &binds {
                q = q.bind(b);
            }
            let calls = q.bind(from).bind(to).fetch_all(pool).await?;
            (due, calls)
        });
        let key = |unit: &Option<String>,
                   street: &Option<String>,
                   kind: &str,
                   at: DateTime<Utc>| match group {
            FigureGroup::Unit => unit.clone().unwrap_or_default(),
            FigureGroup::Street => street.clone().unwrap_or_default(),
            FigureGroup::Kind => kind.to_owned(),
            FigureGroup::Month => {
                let d = at.with_timezone(&domain::calendar::shanghai());
                format!("{:04}-{:02}", d.year(), d.month())
            }
        };
        for (unit, street, kind, at, on_time) in &due {
            let c = out.entry(key(unit, street, kind, *at)).or_default();
            c.accept_due += 1;
            if *on_time == Some(true) {
                c.accepted_in_time += 1;
            }
        }
        for (unit, street, kind, at, contacted, resolved, result, gave_up) in &calls {
            let c = out.entry(key(unit, street, kind, *at)).or_default();
            if *contacted {
                c.reached += 1;
                if *resolved == Some(true) {
                    c.resolved += 1;
                }
                let satisfied = result
                    .as_deref()
                    .and_then(Satisfaction::from_code_or_label)
                    .is_some_and(Satisfaction::counts_satisfied);
                if satisfied {
                    c.satisfied += 1;
                }
            } else if *gave_up {
                c.unreached += 1;
            }
        }
        Ok(out)
    }
}

/// An appeal written in bulk (a benchmark's load, a data migration): already past intake,
/// without a submitter on file.
#[derive(Debug, Clone)]
pub struct BulkAppeal {
    /// Its number.
    pub number: String,
    /// Its kind.
    pub kind: Kind,
    /// Its channel.
    pub source: Source,
    /// Its category.
    pub category_code: String,
    /// Its lead unit.
    pub lead_unit_id: Option<String>,
    /// Where it stands.
    pub state: AppealState,
    /// Title.
    pub title: String,
    /// Content.
    pub content: String,
    /// Received at.
    pub received_at: DateTime<Utc>,
}

impl Store {
    /// Writes many appeals at once, in transactions of [`crate::deadline::BULK_CHUNK`] rows,
    /// each one audit entry with a digest per row; `progress` is told the rows done. A number
    /// already on file fails its chunk (nothing of it stays).
    pub async fn insert_appeals(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        all: &[BulkAppeal],
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<usize> {
        let now = self.clock.now();
        let mut done = 0;
        for chunk in all.chunks(crate::deadline::BULK_CHUNK) {
            let ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();
            let codes: Vec<String> = chunk
                .iter()
                .map(|_| {
                    domain::appeal::tracking_code(u64::from_le_bytes(
                        crate::crypto::random_bytes::<8>(),
                    ))
                })
                .collect();
            let digests: Vec<serde_json::Value> = chunk
                .iter()
                .zip(&ids)
                .map(|(a, id)| {
                    let row = format!(
                        "{}|{}|{}|{}|{:?}|{}|{}|{}",
                        a.number,
                        a.kind.as_str(),
                        a.category_code,
                        a.state.as_str(),
                        a.lead_unit_id,
                        a.title,
                        a.content,
                        a.received_at.to_rfc3339()
                    );
                    json!({"id": id, "digest": crate::crypto::sm3_hex(row.as_bytes())})
                })
                .collect();
            let batch = new_id();
            let head = with_pool!(self, pool => {
                let mut tx = pool.begin_write().await?;
                // 20 values a row: 1,000 rows stay under both databases' parameter limits
                for (part, (part_ids, part_codes)) in chunk
                    .chunks(1_000)
                    .zip(ids.chunks(1_000).zip(codes.chunks(1_000)))
                {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO appeal (tenant_id, id, number, tracking_code, kind, source, category_code, title, \
                         content, address, publish, secretary, state, lead_unit_id, returns, reopens, missed_callbacks, \
                         status_notes, received_at, created_by, created_at, updated_at) ",
                    );
                    let rows = part.iter().zip(part_ids.iter().zip(part_codes));
                    insert.push_values(rows, |mut b, (a, (id, code))| {
                        b.push_bind(tenant_id)
                            .push_bind(id)
                            .push_bind(&a.number)
                            .push_bind(code)
                            .push_bind(a.kind.as_str())
                            .push_bind(a.source.as_str())
                            .push_bind(&a.category_code)
                            .push_bind(&a.title)
                            .push_bind(&a.content)
                            .push_bind("")
                            .push_bind(false)
                            .push_bind(false)
                            .push_bind(a.state.as_str())
                            .push_bind(&a.lead_unit_id)
                            .push_bind(0_i64)
                            .push_bind(0_i64)
                            .push_bind(0_i64)
                            .push_bind(a.state.label())
                            .push_bind(a.received_at)
                            .push_bind(&ctx.actor)
                            .push_bind(a.received_at)
                            .push_bind(now);
                    });
                    insert.build().execute(&mut *tx).await?;
                }
                let head = append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(tenant_id),
                    action: "create_bulk",
                    entity: "appeal",
                    entity_id: &batch,
                    changes: json!({"rows": digests}),
                });
                tx.commit().await?;
                head
            });
            self.advance_head(head);
            done += chunk.len();
            progress(done);
        }
        // fresh statistics, so the planners read a unit's queue by its index
        with_pool!(self, pool => {
            sqlx::query("ANALYZE appeal").execute(pool).await?;
        });
        Ok(done)
    }
}
