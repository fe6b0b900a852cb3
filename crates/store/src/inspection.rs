//! Inspections (明察暗访), findings (问题) and accountability (问责). A finding's steps go
//! through `domain::finding::next` and `check_step`; assigning opens a plan deadline on the
//! kernel (record `finding`, step `plan`), the unit's plan meets it and opens the
//! rectification deadline (step `rectify`) to the day the unit names, and verification meets
//! that. Every write is audited and told on the record's timeline. Who sees what is the
//! caller's policy, given here as a [`Visibility`] the queries apply in SQL, so lists and
//! counts never hold what a reader may not see.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use domain::deadline::{Card, Limit};
use domain::finding::{
    FindingAction, FindingState, InspectionKind, Measure, Severity, Source, StepFacts,
};
use domain::history::Audience;
use serde_json::json;

use crate::attachment::record_file;
use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::deadline::{NewDeadline, StoredDeadline, insert_deadline, meet_deadline};
use crate::history::{NewHistory, history};
use crate::notification::notify;
use crate::page::{Page, PageRequest};
use crate::task::ReportFiles;
use crate::{Result, Store, StoreError, new_id};

/// The deadline step of the responsible unit's plan, opened on assignment.
pub const PLAN_STEP: &str = "plan";
/// The deadline step of the rectification, opened by the plan.
pub const RECTIFY_STEP: &str = "rectify";

/// An inspection as stored.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// Its id.
    pub id: String,
    /// Open (明察) or covert (暗访).
    pub kind: InspectionKind,
    /// Title, e.g. 政务服务大厅窗口作风暗访.
    pub title: String,
    /// The day it was held.
    pub held_on: NaiveDate,
    /// Notes.
    pub notes: String,
    /// The team: account ids.
    pub member_ids: Vec<String>,
    /// The inspected units.
    pub target_unit_ids: Vec<String>,
    /// Who recorded it (an audit actor).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// An inspection to record.
#[derive(Debug, Clone)]
pub struct NewInspection {
    /// Open or covert.
    pub kind: InspectionKind,
    /// Title, 1–100 characters.
    pub title: String,
    /// The day it was held (not in the future).
    pub held_on: NaiveDate,
    /// Notes, up to 2000 characters.
    pub notes: String,
    /// The team: accounts of the tenant holding `inspector` or `supervisor`; the recorder is
    /// added when an inspector.
    pub member_ids: Vec<String>,
    /// The inspected units, at least one.
    pub target_unit_ids: Vec<String>,
}

/// What a reader sees of inspections and findings, as their roles grant it (the policy
/// module decides; the queries apply the union).
#[derive(Debug, Clone, Default)]
pub struct Visibility {
    /// Everything (the supervisor).
    pub all: bool,
    /// Open inspections, covert ones of teams with this account, and the findings of both
    /// and those the account recorded (an inspector).
    pub team_of: Option<String>,
    /// Open inspections and every finding but the unassigned ones of covert inspections (a
    /// leader).
    pub leader: bool,
    /// Findings of these units once assigned or claimed by them (a unit_admin's subtree).
    pub units: Option<Vec<String>>,
    /// Published findings (observers; units, to claim them).
    pub published: bool,
}

impl Visibility {
    /// Whether the reader sees any inspection at all.
    pub fn reads_inspections(&self) -> bool {
        self.all || self.team_of.is_some() || self.leader
    }

    /// Whether the reader sees anything at all.
    pub fn reads_findings(&self) -> bool {
        self.reads_inspections() || self.units.is_some() || self.published
    }

    /// Whether the reader sees this inspection (members as stored).
    pub fn sees_inspection(&self, inspection: &Inspection) -> bool {
        self.all
            || ((self.leader || self.team_of.is_some()) && inspection.kind == InspectionKind::Open)
            || self
                .team_of
                .as_ref()
                .is_some_and(|a| inspection.member_ids.contains(a))
    }

    fn units_json(&self) -> Option<String> {
        self.units
            .as_ref()
            .map(|u| serde_json::to_string(u).unwrap_or_default())
    }
}

/// The SQL condition of inspections a [`Visibility`] sees: $2 all, $3 team account, $4 leader.
const INSPECTION_VISIBLE: &str = "($2 OR (($3 IS NOT NULL OR $4) AND i.kind = 'open') \
     OR ($3 IS NOT NULL AND EXISTS (SELECT 1 FROM inspection_member m WHERE m.tenant_id = i.tenant_id \
         AND m.inspection_id = i.id AND m.account_id = $3)))";

/// The SQL condition of findings a [`Visibility`] sees: $2 all, $3 team account, $4 leader,
/// $5 units (JSON list), $6 published, $7 the team account's actor.
const FINDING_VISIBLE: &str = "($2 \
     OR ($4 AND (f.state <> 'open' OR f.inspection_id IS NULL OR EXISTS (SELECT 1 FROM inspection i \
         WHERE i.tenant_id = f.tenant_id AND i.id = f.inspection_id AND i.kind = 'open'))) \
     OR ($3 IS NOT NULL AND (f.created_by = $7 OR EXISTS (SELECT 1 FROM inspection i WHERE i.tenant_id = f.tenant_id \
         AND i.id = f.inspection_id AND (i.kind = 'open' OR EXISTS (SELECT 1 FROM inspection_member m \
         WHERE m.tenant_id = i.tenant_id AND m.inspection_id = i.id AND m.account_id = $3))))) \
     OR ($5 IS NOT NULL AND ((f.state <> 'open' AND $5 LIKE '%\"' || f.unit_id || '\"%') \
         OR $5 LIKE '%\"' || f.claim_unit_id || '\"%')) \
     OR ($6 AND f.published))";

/// A finding as stored, with its open deadline.
#[derive(Debug, Clone)]
pub struct Finding {
    /// Its id.
    pub id: String,
    /// The inspection it was found in.
    pub inspection_id: Option<String>,
    /// Where it comes from.
    pub source: Source,
    /// 作风、纪律、效率、流程、环境…
    pub category: String,
    /// How grave.
    pub severity: Severity,
    /// What was found.
    pub description: String,
    /// The day it was found.
    pub found_on: NaiveDate,
    /// The responsible unit (proposed while open, assigned after).
    pub unit_id: Option<String>,
    /// Responsible persons, as named (may be empty).
    pub persons: String,
    /// Where it stands.
    pub state: FindingState,
    /// Published: units may claim it, observers read it.
    pub published: bool,
    /// A unit's claim awaiting confirmation.
    pub claim_unit_id: Option<String>,
    /// The unit's measures (整改措施).
    pub measures: Option<String>,
    /// The day the unit will be done (整改时限).
    pub planned_on: Option<NaiveDate>,
    /// What the unit did (整改进展), as last submitted.
    pub result: Option<String>,
    /// Assigned at.
    pub assigned_at: Option<DateTime<Utc>>,
    /// Last submitted at.
    pub submitted_at: Option<DateTime<Utc>>,
    /// Verified at.
    pub verified_at: Option<DateTime<Utc>>,
    /// Who verified (an audit actor).
    pub verified_by: Option<String>,
    /// The verifier's opinion (验收意见).
    pub verify_note: Option<String>,
    /// Who recorded it (an audit actor).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Its deadlines on the kernel (plan, rectify).
    pub deadlines: Vec<StoredDeadline>,
}

impl Finding {
    /// The deadline running now: the plan's while assigned, the rectification's after.
    pub fn deadline(&self) -> Option<&StoredDeadline> {
        let step = match self.state {
            FindingState::Assigned => PLAN_STEP,
            FindingState::Rectifying | FindingState::Submitted | FindingState::Verified => {
                RECTIFY_STEP
            }
            FindingState::Open => return None,
        };
        self.deadlines.iter().find(|d| d.step == step)
    }

    /// The card it shows now (none once verified).
    pub fn card(&self) -> Card {
        match (self.state, self.deadline()) {
            (FindingState::Verified, _) | (_, None) => Card::None,
            (_, Some(d)) if !d.open => Card::None,
            (_, Some(d)) => d.card,
        }
    }
}

/// A finding to record; with several responsible units it is split into one per unit.
#[derive(Debug, Clone)]
pub struct NewFinding {
    /// The inspection it was found in (source inspection).
    pub inspection_id: Option<String>,
    /// Where it comes from.
    pub source: Source,
    /// Category, 1–20 characters.
    pub category: String,
    /// How grave.
    pub severity: Severity,
    /// What was found, 1–2000 characters.
    pub description: String,
    /// The day it was found (not in the future).
    pub found_on: NaiveDate,
    /// The responsible units (proposed; a self-check's is the unit itself); may be empty
    /// while open.
    pub unit_ids: Vec<String>,
    /// Responsible persons, up to 100 characters.
    pub persons: String,
}

/// An action on a finding, with what it carries.
#[derive(Debug, Clone)]
pub enum FindingStep {
    /// The supervisor assigns it to a unit.
    Assign {
        /// The responsible unit.
        unit_id: String,
        /// Responsible persons (replaces those recorded, when given).
        persons: Option<String>,
        /// A note to the unit.
        note: String,
    },
    /// A unit claims a published finding.
    Claim {
        /// The claiming unit (`None`: the user acts through no unit).
        unit_id: Option<String>,
        /// Why it is theirs.
        note: String,
    },
    /// The supervisor confirms the pending claim.
    ConfirmClaim {
        /// Opinion.
        note: String,
    },
    /// The supervisor refuses the pending claim.
    RefuseClaim {
        /// Why, required.
        note: String,
    },
    /// The responsible unit sets its plan.
    Plan {
        /// The acting unit (`None`: not the responsible unit's contact).
        unit_id: Option<String>,
        /// Measures, 1–2000 characters.
        measures: String,
        /// The day it will be done: the rectification deadline is the close of that day.
        planned_on: NaiveDate,
    },
    /// The responsible unit submits what it did, with evidence.
    Submit {
        /// The acting unit.
        unit_id: Option<String>,
        /// What was done, 1–2000 characters.
        result: String,
    },
    /// The supervisor verifies it.
    Verify {
        /// The verifier's own unit, if any: nobody verifies their own unit's finding.
        verifier_unit_id: Option<String>,
        /// Opinion (验收意见), 1–500 characters.
        note: String,
    },
    /// The supervisor sends it back to rectifying.
    Reject {
        /// Why, required.
        note: String,
    },
    /// The supervisor publishes it.
    Publish,
}

impl FindingStep {
    /// The domain's action.
    pub fn action(&self) -> FindingAction {
        match self {
            FindingStep::Assign { .. } => FindingAction::Assign,
            FindingStep::Claim { .. } => FindingAction::Claim,
            FindingStep::ConfirmClaim { .. } => FindingAction::ConfirmClaim,
            FindingStep::RefuseClaim { .. } => FindingAction::RefuseClaim,
            FindingStep::Plan { .. } => FindingAction::Plan,
            FindingStep::Submit { .. } => FindingAction::Submit,
            FindingStep::Verify { .. } => FindingAction::Verify,
            FindingStep::Reject { .. } => FindingAction::Reject,
            FindingStep::Publish => FindingAction::Publish,
        }
    }
}

/// Which findings a list shows, within what the reader sees.
#[derive(Debug, Clone, Default)]
pub struct FindingFilter {
    /// Only this state.
    pub state: Option<FindingState>,
    /// Only this source.
    pub source: Option<Source>,
    /// Only of this inspection.
    pub inspection_id: Option<String>,
    /// Only of this responsible unit.
    pub unit_id: Option<String>,
    /// Only published ones.
    pub published: Option<bool>,
    /// Description containing this text.
    pub q: Option<String>,
}

/// An accountability decision (问责).
#[derive(Debug, Clone)]
pub struct Decision {
    /// Its id.
    pub id: String,
    /// What was decided.
    pub measure: Measure,
    /// The unit decided on, or the person's unit.
    pub unit_id: String,
    /// The person decided on (empty for a unit measure).
    pub person: String,
    /// The basis (事实与依据).
    pub basis: String,
    /// The deciding body (e.g. 区纪委监委).
    pub decided_by: String,
    /// The day of the decision.
    pub decided_on: NaiveDate,
    /// The findings it answers.
    pub finding_ids: Vec<String>,
    /// Working days from the earliest linked finding to the decision (从严从快).
    pub working_days: Option<i64>,
    /// When recorded.
    pub created_at: DateTime<Utc>,
}

/// A decision to record.
#[derive(Debug, Clone)]
pub struct NewDecision {
    /// What is decided.
    pub measure: Measure,
    /// The unit decided on, or the person's unit.
    pub unit_id: String,
    /// The person, required for a person's measure, empty for a unit's.
    pub person: String,
    /// Basis, 1–2000 characters.
    pub basis: String,
    /// The deciding body, 1–50 characters.
    pub decided_by: String,
    /// The day of the decision, not before its findings were found, not in the future.
    pub decided_on: NaiveDate,
    /// The findings it answers, at least one.
    pub finding_ids: Vec<String>,
}

/// A unit's self-check list at a glance: findings it listed itself, by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SelfCheckCount {
    /// The unit.
    pub unit_id: String,
    /// Listed in all.
    pub listed: i64,
    /// Verified (销号).
    pub verified: i64,
    /// Being rectified (assigned, rectifying, submitted).
    pub open: i64,
    /// Of those open, past their deadline.
    pub overdue: i64,
}

#[derive(sqlx::FromRow)]
struct InspectionRow {
    id: String,
    kind: String,
    title: String,
    held_on: String,
    notes: String,
    created_by: String,
    created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct FindingRow {
    id: String,
    inspection_id: Option<String>,
    source: String,
    category: String,
    severity: String,
    description: String,
    found_on: String,
    unit_id: Option<String>,
    persons: String,
    state: String,
    published: bool,
    claim_unit_id: Option<String>,
    measures: Option<String>,
    planned_on: Option<String>,
    result: Option<String>,
    assigned_at: Option<DateTime<Utc>>,
    submitted_at: Option<DateTime<Utc>>,
    verified_at: Option<DateTime<Utc>>,
    verified_by: Option<String>,
    verify_note: Option<String>,
    created_by: String,
    created_at: DateTime<Utc>,
}

const FINDING_COLUMNS: &str = "f.id, f.inspection_id, f.source, f.category, f.severity, f.description, f.found_on, \
     f.unit_id, f.persons, f.state, f.published, f.claim_unit_id, f.measures, f.planned_on, f.result, f.assigned_at, \
     f.submitted_at, f.verified_at, f.verified_by, f.verify_note, f.created_by, f.created_at";

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::InvalidField {
        field,
        message: message.into(),
    }
}

pub(crate) fn text(field: &'static str, value: &str, max: usize, what: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(invalid(field, format!("{what}应为 1 到 {max} 个字符")));
    }
    Ok(value.to_owned())
}

pub(crate) fn optional_text(
    field: &'static str,
    value: &str,
    max: usize,
    what: &str,
) -> Result<String> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(invalid(field, format!("{what}不能超过 {max} 个字符")));
    }
    Ok(value.to_owned())
}

pub(crate) fn corrupt(what: &str, id: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Other(anyhow::anyhow!("{what} {id}: {e}"))
}

fn date(value: &str, what: &str, id: &str) -> Result<NaiveDate> {
    value.parse().map_err(|e| corrupt(what, id, e))
}

impl Store {
    /// Checks that every id names an active unit of the tenant, without repeats.
    pub(crate) async fn active_units(
        &self,
        tenant_id: &str,
        ids: &[String],
        field: &'static str,
    ) -> Result<()> {
        let units: HashMap<String, crate::unit::Unit> = self
            .units(tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        let mut seen = HashSet::new();
        for id in ids {
            match units.get(id) {
                Some(u) if !u.active => {
                    return Err(invalid(field, format!("单位“{}”已停用或撤并", u.name)));
                }
                Some(_) => {}
                None => return Err(invalid(field, "单位不存在")),
            }
            if !seen.insert(id) {
                return Err(invalid(field, "单位重复"));
            }
        }
        Ok(())
    }

    /// Records an inspection with its team and targets.
    pub async fn create_inspection(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewInspection,
    ) -> Result<Inspection> {
        let title = text("title", &new.title, 100, "检查名称")?;
        let notes = optional_text("notes", &new.notes, 2000, "检查情况")?;
        if new.held_on > self.today() {
            return Err(invalid("held_on", "检查日期不能晚于今天"));
        }
        if new.target_unit_ids.is_empty() {
            return Err(invalid("target_unit_ids", "请选择被检查单位"));
        }
        self.active_units(tenant_id, &new.target_unit_ids, "target_unit_ids")
            .await?;
        let mut members: Vec<String> = Vec::new();
        if let Some(id) = ctx.actor.strip_prefix("user:")
            && let Some(me) = self.account(tenant_id, id).await?
            && me.roles.contains(&domain::account::Role::Inspector)
        {
            members.push(me.id);
        }
        for id in &new.member_ids {
            let account = self
                .account(tenant_id, id)
                .await?
                .ok_or_else(|| invalid("member_ids", "检查组成员不存在"))?;
            let may = account.roles.iter().any(|r| {
                matches!(
                    r,
                    domain::account::Role::Inspector | domain::account::Role::Supervisor
                )
            });
            if !may {
                return Err(invalid(
                    "member_ids",
                    format!(
                        "“{}”不是明察暗访组成员或督查，不能加入检查组",
                        account.display_name
                    ),
                ));
            }
            if !members.contains(&account.id) {
                members.push(account.id);
            }
        }
        if members.is_empty() {
            return Err(invalid("member_ids", "请选择检查组成员"));
        }
        let id = new_id();
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO inspection (tenant_id, id, kind, title, held_on, notes, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(tenant_id).bind(&id).bind(new.kind.as_str()).bind(&title).bind(new.held_on.to_string())
            .bind(&notes).bind(&ctx.actor).bind(now)
            .execute(&mut *tx)
            .await?;
            for member in &members {
                sqlx::query("INSERT INTO inspection_member (tenant_id, inspection_id, account_id) VALUES ($1, $2, $3)")
                    .bind(tenant_id).bind(&id).bind(member)
                    .execute(&mut *tx)
                    .await?;
            }
            for unit in &new.target_unit_ids {
                sqlx::query("INSERT INTO inspection_target (tenant_id, inspection_id, unit_id) VALUES ($1, $2, $3)")
                    .bind(tenant_id).bind(&id).bind(unit)
                    .execute(&mut *tx)
                    .await?;
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: "inspection",
                record_id: &id,
                event: "recorded",
                audience: Audience::Internal,
                detail: json!({"kind": new.kind.as_str(), "held_on": new.held_on.to_string()}),
            });
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "inspection",
                entity_id: &id,
                changes: json!({"kind": new.kind.as_str(), "title": title, "held_on": new.held_on.to_string(),
                    "notes": notes, "member_ids": members, "target_unit_ids": new.target_unit_ids}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.inspection(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One inspection with its team and targets (no visibility applied: the caller's policy
    /// asks [`Visibility::sees_inspection`]).
    pub async fn inspection(&self, tenant_id: &str, id: &str) -> Result<Option<Inspection>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, InspectionRow>(
                "SELECT id, kind, title, held_on, notes, created_by, created_at FROM inspection WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id).bind(id)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => Ok(self.complete_inspections(tenant_id, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn complete_inspections(
        &self,
        tenant_id: &str,
        rows: Vec<InspectionRow>,
    ) -> Result<Vec<Inspection>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (members, targets): (Vec<(String,)>, Vec<(String,)>) = with_pool!(self, pool => {
                let members = sqlx::query_as(
                    "SELECT account_id FROM inspection_member WHERE tenant_id = $1 AND inspection_id = $2 ORDER BY account_id",
                )
                .bind(tenant_id).bind(&row.id)
                .fetch_all(pool)
                .await?;
                let targets = sqlx::query_as(
                    "SELECT unit_id FROM inspection_target WHERE tenant_id = $1 AND inspection_id = $2 ORDER BY unit_id",
                )
                .bind(tenant_id).bind(&row.id)
                .fetch_all(pool)
                .await?;
                (members, targets)
            });
            out.push(Inspection {
                kind: row
                    .kind
                    .parse()
                    .map_err(|e| corrupt("inspection", &row.id, e))?,
                held_on: date(&row.held_on, "inspection", &row.id)?,
                member_ids: members.into_iter().map(|m| m.0).collect(),
                target_unit_ids: targets.into_iter().map(|t| t.0).collect(),
                id: row.id,
                title: row.title,
                notes: row.notes,
                created_by: row.created_by,
                created_at: row.created_at,
            });
        }
        Ok(out)
    }

    /// One page of the inspections `visibility` sees, newest first.
    pub async fn list_inspections(
        &self,
        tenant_id: &str,
        visibility: &Visibility,
        kind: Option<InspectionKind>,
        page: PageRequest,
    ) -> Result<Page<Inspection>> {
        if !visibility.reads_inspections() {
            return Ok(Page {
                items: Vec::new(),
                request: page,
                total: 0,
            });
        }
        let kind = kind.map(|k| k.as_str());
        let condition =
            format!("i.tenant_id = $1 AND {INSPECTION_VISIBLE} AND ($5 IS NULL OR i.kind = $5)");
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM inspection i WHERE {condition}")))
                .bind(tenant_id).bind(visibility.all).bind(&visibility.team_of).bind(visibility.leader).bind(kind)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query_as::<_, InspectionRow>(sqlx::AssertSqlSafe(format!(
                "SELECT i.id, i.kind, i.title, i.held_on, i.notes, i.created_by, i.created_at FROM inspection i \
                 WHERE {condition} ORDER BY i.held_on DESC, i.id DESC LIMIT $6 OFFSET $7"
            )))
            .bind(tenant_id).bind(visibility.all).bind(&visibility.team_of).bind(visibility.leader).bind(kind)
            .bind(page.limit()).bind(page.offset())
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        Ok(Page {
            items: self.complete_inspections(tenant_id, rows).await?,
            request: page,
            total,
        })
    }

    /// Records a finding, split into one per responsible unit; a self-check is assigned to
    /// the unit at once (it listed its own problem), anything else waits for the supervisor.
    pub async fn create_findings(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewFinding,
    ) -> Result<Vec<Finding>> {
        self.create_findings_at(ctx, tenant_id, new, self.clock.now())
            .await
    }

    /// As [`Self::create_findings`], recorded at `now` (the demo's year of findings was
    /// recorded in the past; everyone else records now).
    pub(crate) async fn create_findings_at(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewFinding,
        now: DateTime<Utc>,
    ) -> Result<Vec<Finding>> {
        let category = text("category", &new.category, 20, "问题类别")?;
        let description = text("description", &new.description, 2000, "问题描述")?;
        let persons = optional_text("persons", &new.persons, 100, "责任人")?;
        if new.found_on > self.today() {
            return Err(invalid("found_on", "发现日期不能晚于今天"));
        }
        match (&new.inspection_id, new.source) {
            (Some(inspection_id), domain::finding::Source::Inspection) => {
                self.inspection(tenant_id, inspection_id)
                    .await?
                    .ok_or_else(|| invalid("inspection_id", "检查不存在"))?;
            }
            (None, domain::finding::Source::Inspection) => {
                return Err(invalid("inspection_id", "明察暗访发现的问题须属于一次检查"));
            }
            (Some(_), _) => {
                return Err(invalid("inspection_id", "只有明察暗访发现的问题属于检查"));
            }
            (None, _) => {}
        }
        self.active_units(tenant_id, &new.unit_ids, "unit_ids")
            .await?;
        let state = domain::finding::initial_state(new.source);
        let self_check = new.source == domain::finding::Source::SelfCheck;
        if self_check && new.unit_ids.len() != 1 {
            return Err(invalid("unit_ids", "自查问题的责任单位应为本单位"));
        }
        let units: Vec<Option<&String>> = if new.unit_ids.is_empty() {
            vec![None]
        } else {
            new.unit_ids.iter().map(Some).collect()
        };
        let ids: Vec<String> = units.iter().map(|_| new_id()).collect();
        let mut planned = Vec::with_capacity(units.len());
        for (id, unit) in ids.iter().zip(units) {
            let plan = match (state, unit) {
                (FindingState::Assigned, Some(unit_id)) => {
                    Some(self.plan_step(tenant_id, id, unit_id, now).await?)
                }
                _ => None,
            };
            planned.push((id, unit, plan));
        }
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let mut head = None;
            for (id, unit, plan) in &planned {
                sqlx::query(
                    "INSERT INTO finding (tenant_id, id, inspection_id, source, category, severity, description, found_on, \
                     unit_id, persons, state, published, assigned_at, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, FALSE, $12, $13, $14, $14)",
                )
                .bind(tenant_id).bind(*id).bind(&new.inspection_id).bind(new.source.as_str()).bind(&category)
                .bind(new.severity.as_str()).bind(&description).bind(new.found_on.to_string()).bind(unit)
                .bind(&persons).bind(state.as_str()).bind((state == FindingState::Assigned).then_some(now)).bind(&ctx.actor).bind(now)
                .execute(&mut *tx)
                .await?;
                if let Some((deadline_id, deadline, spec, schedule)) = plan {
                    insert_deadline!(tx, tenant_id, deadline_id, deadline, spec, schedule, now);
                }
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "finding",
                    record_id: id,
                    event: if self_check { "listed" } else { "recorded" },
                    audience: Audience::Internal,
                    detail: json!({"source": new.source.as_str(), "severity": new.severity.as_str(), "unit_id": unit}),
                });
                head = Some(append!(self, tx, ctx, now, &AuditEntry {
                    tenant_id: Some(tenant_id),
                    action: "create",
                    entity: "finding",
                    entity_id: id,
                    changes: json!({"inspection_id": new.inspection_id, "source": new.source.as_str(),
                        "category": category, "severity": new.severity.as_str(), "description": description,
                        "found_on": new.found_on.to_string(), "unit_id": unit, "persons": persons,
                        "state": state.as_str(), "split_of": ids,
                        "deadline_id": plan.as_ref().map(|p| &p.0)}),
                }));
            }
            tx.commit().await?;
            head
        });
        if let Some(head) = head {
            self.advance_head(head);
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(
                self.finding(tenant_id, id)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            );
        }
        Ok(out)
    }

    /// The plan deadline of a finding assigned now to `unit_id`.
    async fn plan_step<'a>(
        &self,
        tenant_id: &str,
        id: &'a str,
        unit_id: &'a str,
        now: DateTime<Utc>,
    ) -> Result<(String, NewDeadline<'a>, String, domain::deadline::Schedule)> {
        let deadline = NewDeadline {
            record_type: "finding",
            record_id: id,
            step: PLAN_STEP,
            unit_id: Some(unit_id),
            limit: Limit::WorkingDays(domain::finding::PLAN_DAYS),
            received_at: now,
        };
        let (_, spec, schedule) = self.plan_deadline(tenant_id, &deadline, now).await?;
        Ok((new_id(), deadline, spec, schedule))
    }

    /// Takes a step on a finding through the domain's rules; who may take it is the caller's
    /// policy. Files (a submission's evidence) are tied in the step's transaction.
    pub async fn act_on_finding(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        step: &FindingStep,
        files: ReportFiles,
    ) -> Result<Finding> {
        self.act_on_finding_at(ctx, tenant_id, id, step, files, self.clock.now())
            .await
    }

    /// As [`Self::act_on_finding`], taken at `now` (the demo's past steps).
    pub(crate) async fn act_on_finding_at(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        step: &FindingStep,
        files: ReportFiles,
        now: DateTime<Utc>,
    ) -> Result<Finding> {
        let finding = self
            .finding(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let action = step.action();
        let next = domain::finding::next(finding.state, action)
            .map_err(|r| StoreError::Conflict(r.to_string()))?;
        let acting = match step {
            FindingStep::Claim { unit_id, .. }
            | FindingStep::Plan { unit_id, .. }
            | FindingStep::Submit { unit_id, .. } => unit_id.as_deref(),
            FindingStep::Verify {
                verifier_unit_id, ..
            } => verifier_unit_id.as_deref(),
            _ => None,
        };
        let evidence = files.linked.len() + files.new.len();
        domain::finding::check_step(
            action,
            StepFacts {
                published: finding.published,
                claim_pending: finding.claim_unit_id.is_some(),
                own_unit: acting.is_some() && acting == finding.unit_id.as_deref(),
                has_unit: acting.is_some(),
                evidence,
            },
        )
        .map_err(|r| invalid(r.field, r.message))?;
        if evidence > 0 && action != FindingAction::Submit {
            return Err(invalid(
                "attachment_ids",
                "只有提交整改结果可以附带佐证材料",
            ));
        }
        if action == FindingAction::Publish && finding.published {
            return Err(StoreError::Conflict("该问题已公开".into()));
        }
        // the columns a step sets, its note, the unit told, and the deadlines it opens/meets
        let mut unit_id = finding.unit_id.clone();
        let mut persons = finding.persons.clone();
        let mut claim = finding.claim_unit_id.clone();
        let (mut measures, mut planned_on) = (finding.measures.clone(), finding.planned_on);
        let mut result = finding.result.clone();
        let mut verify_note = finding.verify_note.clone();
        let mut opens = None;
        let mut meets = None;
        let note = match step {
            FindingStep::Assign {
                unit_id: to,
                persons: named,
                note,
            } => {
                self.active_units(tenant_id, std::slice::from_ref(to), "unit_id")
                    .await?;
                unit_id = Some(to.clone());
                if let Some(named) = named {
                    persons = optional_text("persons", named, 100, "责任人")?;
                }
                claim = None;
                optional_text("note", note, 500, "交办意见")?
            }
            FindingStep::Claim { unit_id: by, note } => {
                claim = by.clone();
                text("note", note, 500, "认领说明")?
            }
            FindingStep::ConfirmClaim { note } => {
                unit_id = claim.take();
                optional_text("note", note, 500, "确认意见")?
            }
            FindingStep::RefuseClaim { note } => {
                claim = None;
                text("note", note, 500, "驳回理由")?
            }
            FindingStep::Plan {
                measures: m,
                planned_on: day,
                ..
            } => {
                measures = Some(text("measures", m, 2000, "整改措施")?);
                planned_on = Some(*day);
                m.trim().to_owned()
            }
            FindingStep::Submit { result: r, .. } => {
                result = Some(text("result", r, 2000, "整改情况")?);
                r.trim().to_owned()
            }
            FindingStep::Verify { note, .. } => {
                verify_note = Some(text("note", note, 500, "验收意见")?);
                note.trim().to_owned()
            }
            FindingStep::Reject { note } => text("note", note, 500, "退回理由")?,
            FindingStep::Publish => String::new(),
        };
        if next == FindingState::Assigned {
            let unit = unit_id
                .as_deref()
                .ok_or_else(|| invalid("unit_id", "请选择责任单位"))?;
            opens = Some(self.plan_step(tenant_id, id, unit, now).await?);
        }
        if let FindingStep::Plan {
            planned_on: day, ..
        } = step
        {
            let calendar = self.calendar().await?;
            let hours = self.working_hours(tenant_id).await?;
            let receipt_day = calendar
                .receipt(&hours, now)
                .value
                .with_timezone(&domain::calendar::shanghai())
                .date_naive();
            if *day < receipt_day {
                return Err(invalid(
                    "planned_on",
                    "整改时限不能早于今天（或下一个工作日）",
                ));
            }
            let days = calendar
                .working_days_between(receipt_day, *day)
                .map_err(|e| invalid("planned_on", e.to_string()))?
                .value;
            let deadline = NewDeadline {
                record_type: "finding",
                record_id: id,
                step: RECTIFY_STEP,
                unit_id: unit_id.as_deref(),
                limit: Limit::WorkingDays(days),
                received_at: now,
            };
            let (_, spec, schedule) = self.plan_deadline(tenant_id, &deadline, now).await?;
            opens = Some((new_id(), deadline, spec, schedule));
        }
        let to_meet = match action {
            FindingAction::Plan => finding.deadlines.iter().find(|d| d.step == PLAN_STEP),
            FindingAction::Verify => finding.deadlines.iter().find(|d| d.step == RECTIFY_STEP),
            _ => None,
        };
        if let Some(d) = to_meet.filter(|d| d.open) {
            let calendar = self.calendar().await?;
            let hours = self.working_hours(tenant_id).await?;
            meets = Some((
                d.id.clone(),
                d.deadline.worked_minutes(&calendar, &hours, now).value,
                now <= d.due_at,
            ));
        }
        let published = finding.published || action == FindingAction::Publish;
        let submission_id = new_id();
        let event = match action {
            FindingAction::Assign => "assigned",
            FindingAction::Claim => "claimed",
            FindingAction::ConfirmClaim => "claim_confirmed",
            FindingAction::RefuseClaim => "claim_refused",
            FindingAction::Plan => "planned",
            FindingAction::Submit => "submitted",
            FindingAction::Verify => "verified",
            FindingAction::Reject => "rejected",
            FindingAction::Publish => "published",
        };
        let assigned_now = next == FindingState::Assigned && finding.state != next;
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE finding SET state = $3, unit_id = $4, persons = $5, claim_unit_id = $6, measures = $7, planned_on = $8, \
                 result = $9, verify_note = $10, published = $11, updated_at = $12, \
                 assigned_at = CASE WHEN $13 THEN $12 ELSE assigned_at END, \
                 submitted_at = CASE WHEN $14 THEN $12 ELSE submitted_at END, \
                 verified_at = CASE WHEN $15 THEN $12 ELSE verified_at END, \
                 verified_by = CASE WHEN $15 THEN $16 ELSE verified_by END \
                 WHERE tenant_id = $1 AND id = $2 AND state = $17 AND published = $18 \
                 AND COALESCE(claim_unit_id, '') = $19",
            )
            .bind(tenant_id).bind(id).bind(next.as_str()).bind(&unit_id).bind(&persons).bind(&claim)
            .bind(&measures).bind(planned_on.map(|d| d.to_string())).bind(&result).bind(&verify_note)
            .bind(published).bind(now).bind(assigned_now).bind(action == FindingAction::Submit)
            .bind(action == FindingAction::Verify).bind(&ctx.actor).bind(finding.state.as_str())
            .bind(finding.published).bind(finding.claim_unit_id.as_deref().unwrap_or(""))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict("该问题刚被他人处理，请刷新后重试".into()));
            }
            if action == FindingAction::Submit {
                for linked in &files.linked {
                    let tied = sqlx::query(
                        "UPDATE attachment SET report_id = $3 WHERE tenant_id = $1 AND id = $2 AND record_type = 'finding' \
                         AND record_id = $4 AND report_id IS NULL AND actor = $5",
                    )
                    .bind(tenant_id).bind(linked).bind(&submission_id).bind(id).bind(&ctx.actor)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if tied != 1 {
                        return Err(invalid("attachment_ids", "佐证材料不存在、不是本人为该问题上传的，或已随其他提交"));
                    }
                }
                for file in &files.new {
                    record_file!(tx, tenant_id, ctx, now, "finding", id, Some(submission_id.as_str()), file);
                }
            }
            if let Some((deadline_id, worked, _)) = &meets {
                meet_deadline!(tx, tenant_id, deadline_id, now, worked);
            }
            if let Some((deadline_id, deadline, spec, schedule)) = &opens {
                // a finding assigned again after a refused claim has no plan deadline yet;
                // the unique key (record, step) keeps a second one out
                insert_deadline!(tx, tenant_id, deadline_id, deadline, spec, schedule, now);
            }
            let url = format!("/findings/{id}");
            match action {
                FindingAction::Assign | FindingAction::ConfirmClaim => {
                    let message = format!("新交办整改问题：{}", short(&finding.description));
                    notify!(tx, tenant_id, "assigned", "finding", id, &message, &url, unit_id.as_deref(), false, now);
                }
                FindingAction::Claim | FindingAction::Submit => {
                    let message = match action {
                        FindingAction::Claim => format!("有单位认领问题，待确认：{}", short(&finding.description)),
                        _ => format!("整改结果待验收：{}", short(&finding.description)),
                    };
                    notify!(tx, tenant_id, event, "finding", id, &message, &url, None, true, now);
                }
                FindingAction::Reject | FindingAction::Verify | FindingAction::RefuseClaim => {
                    let message = match action {
                        FindingAction::Reject => format!("整改结果被退回：{}", short(&finding.description)),
                        FindingAction::Verify => format!("整改已验收销号：{}", short(&finding.description)),
                        _ => format!("认领未获确认：{}", short(&finding.description)),
                    };
                    let to = match action {
                        FindingAction::RefuseClaim => finding.claim_unit_id.as_deref(),
                        _ => unit_id.as_deref(),
                    };
                    notify!(tx, tenant_id, event, "finding", id, &message, &url, to, false, now);
                }
                _ => {}
            }
            let mut detail = json!({"note": note, "unit_id": unit_id});
            if let Some(d) = detail.as_object_mut() {
                if let Some(day) = planned_on.filter(|_| action == FindingAction::Plan) {
                    d.insert("planned_on".into(), json!(day.to_string()));
                }
                if let Some((_, worked, on_time)) = &meets {
                    d.insert("worked_minutes".into(), json!(worked));
                    d.insert("on_time".into(), json!(on_time));
                }
                if action == FindingAction::Claim {
                    d.insert("unit_id".into(), json!(claim));
                }
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: "finding",
                record_id: id,
                event,
                audience: Audience::Public,
                detail,
            });
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: action.as_str(),
                entity: "finding",
                entity_id: id,
                changes: json!({"state": [finding.state.as_str(), next.as_str()], "unit_id": [finding.unit_id, unit_id],
                    "claim_unit_id": [finding.claim_unit_id, claim], "published": [finding.published, published],
                    "note": note, "measures": measures, "planned_on": planned_on.map(|d| d.to_string()),
                    "deadline_opened": opens.as_ref().map(|o| &o.0), "deadline_met": meets.as_ref().map(|m| &m.0),
                    "attachments_tied": files.linked, "attachments": files.new.iter().map(|f| f.audit()).collect::<Vec<_>>()}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        for file in files.new {
            file.keep();
        }
        self.finding(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One finding with its deadlines (no visibility applied: see [`Self::visible_finding`]).
    pub async fn finding(&self, tenant_id: &str, id: &str) -> Result<Option<Finding>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, FindingRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {FINDING_COLUMNS} FROM finding f WHERE f.tenant_id = $1 AND f.id = $2"
            )))
            .bind(tenant_id).bind(id)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => Ok(self.complete_findings(tenant_id, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    /// One finding, if `visibility` sees it.
    pub async fn visible_finding(
        &self,
        tenant_id: &str,
        visibility: &Visibility,
        actor: &str,
        id: &str,
    ) -> Result<Option<Finding>> {
        let filter = FindingFilter::default();
        let (condition, _) = finding_condition(&filter);
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, FindingRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {FINDING_COLUMNS} FROM finding f WHERE {condition} AND f.id = $14"
            )))
            .bind(tenant_id).bind(visibility.all).bind(&visibility.team_of).bind(visibility.leader)
            .bind(visibility.units_json()).bind(visibility.published).bind(actor)
            .bind(None::<&str>).bind(None::<&str>).bind(None::<&str>).bind(None::<&str>).bind(None::<bool>)
            .bind(None::<&str>).bind(id)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => Ok(self.complete_findings(tenant_id, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn complete_findings(
        &self,
        tenant_id: &str,
        rows: Vec<FindingRow>,
    ) -> Result<Vec<Finding>> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let deadlines = self.deadlines_of(tenant_id, "finding", &row.id).await?;
            let id = row.id.clone();
            out.push(Finding {
                source: row.source.parse().map_err(|e| corrupt("finding", &id, e))?,
                severity: row
                    .severity
                    .parse()
                    .map_err(|e| corrupt("finding", &id, e))?,
                state: row.state.parse().map_err(|e| corrupt("finding", &id, e))?,
                found_on: date(&row.found_on, "finding", &id)?,
                planned_on: row
                    .planned_on
                    .as_deref()
                    .map(|d| date(d, "finding", &id))
                    .transpose()?,
                deadlines,
                id: row.id,
                inspection_id: row.inspection_id,
                category: row.category,
                description: row.description,
                unit_id: row.unit_id,
                persons: row.persons,
                published: row.published,
                claim_unit_id: row.claim_unit_id,
                measures: row.measures,
                result: row.result,
                assigned_at: row.assigned_at,
                submitted_at: row.submitted_at,
                verified_at: row.verified_at,
                verified_by: row.verified_by,
                verify_note: row.verify_note,
                created_by: row.created_by,
                created_at: row.created_at,
            });
        }
        Ok(out)
    }

    /// One page of the findings `visibility` sees, newest found first. `actor` is the
    /// reader's audit actor (an inspector sees what they recorded).
    pub async fn list_findings(
        &self,
        tenant_id: &str,
        visibility: &Visibility,
        actor: &str,
        filter: &FindingFilter,
        page: PageRequest,
    ) -> Result<Page<Finding>> {
        if !visibility.reads_findings() {
            return Ok(Page {
                items: Vec::new(),
                request: page,
                total: 0,
            });
        }
        let (condition, q) = finding_condition(filter);
        let state = filter.state.map(|s| s.as_str());
        let source = filter.source.map(|s| s.as_str());
        let units = visibility.units_json();
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM finding f WHERE {condition}")))
                .bind(tenant_id).bind(visibility.all).bind(&visibility.team_of).bind(visibility.leader)
                .bind(&units).bind(visibility.published).bind(actor)
                .bind(state).bind(source).bind(&filter.inspection_id).bind(&filter.unit_id).bind(filter.published).bind(&q)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query_as::<_, FindingRow>(sqlx::AssertSqlSafe(format!(
                "SELECT {FINDING_COLUMNS} FROM finding f WHERE {condition} ORDER BY f.found_on DESC, f.id DESC LIMIT $14 OFFSET $15"
            )))
            .bind(tenant_id).bind(visibility.all).bind(&visibility.team_of).bind(visibility.leader)
            .bind(&units).bind(visibility.published).bind(actor)
            .bind(state).bind(source).bind(&filter.inspection_id).bind(&filter.unit_id).bind(filter.published).bind(&q)
            .bind(page.limit()).bind(page.offset())
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        Ok(Page {
            items: self.complete_findings(tenant_id, rows).await?,
            request: page,
            total,
        })
    }

    /// Per unit, the findings it listed on its own self-check list and how far they got.
    pub async fn self_check_counts(
        &self,
        tenant_id: &str,
        unit_ids: Option<&[String]>,
    ) -> Result<Vec<SelfCheckCount>> {
        let units = unit_ids.map(|u| serde_json::to_string(u).unwrap_or_default());
        let rows: Vec<(String, i64, i64, i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT f.unit_id, COUNT(*), \
                 SUM(CASE WHEN f.state = 'verified' THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN f.state <> 'verified' THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN f.state <> 'verified' AND EXISTS (SELECT 1 FROM deadline d WHERE d.tenant_id = f.tenant_id \
                     AND d.record_type = 'finding' AND d.record_id = f.id AND d.open AND d.card = 'red') THEN 1 ELSE 0 END) \
                 FROM finding f WHERE f.tenant_id = $1 AND f.source = 'self_check' \
                 AND ($2 IS NULL OR $2 LIKE '%\"' || f.unit_id || '\"%') \
                 GROUP BY f.unit_id ORDER BY f.unit_id",
            )
            .bind(tenant_id).bind(&units)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(unit_id, listed, verified, open, overdue)| SelfCheckCount {
                    unit_id,
                    listed,
                    verified,
                    open,
                    overdue,
                },
            )
            .collect())
    }

    /// Records an accountability decision linked to findings.
    pub async fn create_decision(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewDecision,
    ) -> Result<Decision> {
        let basis = text("basis", &new.basis, 2000, "问责事实与依据")?;
        let decided_by = text("decided_by", &new.decided_by, 50, "决定机关")?;
        let person = optional_text("person", &new.person, 50, "被问责人")?;
        match (new.measure.on_unit(), person.is_empty()) {
            (true, false) => {
                return Err(invalid(
                    "person",
                    format!("“{}”是对单位的问责，不填被问责人", new.measure.label()),
                ));
            }
            (false, true) => {
                return Err(invalid(
                    "person",
                    format!("“{}”是对个人的问责，请填写被问责人", new.measure.label()),
                ));
            }
            _ => {}
        }
        self.active_units(tenant_id, std::slice::from_ref(&new.unit_id), "unit_id")
            .await?;
        if new.decided_on > self.today() {
            return Err(invalid("decided_on", "决定日期不能晚于今天"));
        }
        if new.finding_ids.is_empty() {
            return Err(invalid("finding_ids", "请选择问责所针对的问题"));
        }
        let mut seen = HashSet::new();
        for finding_id in &new.finding_ids {
            let finding = self
                .finding(tenant_id, finding_id)
                .await?
                .ok_or_else(|| invalid("finding_ids", "问题不存在"))?;
            if !seen.insert(finding_id) {
                return Err(invalid("finding_ids", "问题重复"));
            }
            if finding.found_on > new.decided_on {
                return Err(invalid("decided_on", "决定日期不能早于问题的发现日期"));
            }
        }
        let id = new_id();
        let now = self.clock.now();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO accountability (tenant_id, id, measure, unit_id, person, basis, decided_by, decided_on, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(tenant_id).bind(&id).bind(new.measure.as_str()).bind(&new.unit_id).bind(&person).bind(&basis)
            .bind(&decided_by).bind(new.decided_on.to_string()).bind(&ctx.actor).bind(now)
            .execute(&mut *tx)
            .await?;
            for finding_id in &new.finding_ids {
                sqlx::query("INSERT INTO accountability_finding (tenant_id, accountability_id, finding_id) VALUES ($1, $2, $3)")
                    .bind(tenant_id).bind(&id).bind(finding_id)
                    .execute(&mut *tx)
                    .await?;
                history!(tx, tenant_id, ctx, now, &NewHistory {
                    record_type: "finding",
                    record_id: finding_id,
                    event: "accountability",
                    audience: Audience::Internal,
                    detail: json!({"measure": new.measure.as_str(), "decided_on": new.decided_on.to_string(), "decision_id": id}),
                });
            }
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "accountability",
                entity_id: &id,
                changes: json!({"measure": new.measure.as_str(), "unit_id": new.unit_id, "person": person, "basis": basis,
                    "decided_by": decided_by, "decided_on": new.decided_on.to_string(), "finding_ids": new.finding_ids}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.decisions(tenant_id, None, None)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Accountability decisions, newest first: of units in `unit_ids` (all: `None`), or only
    /// those answering `finding_id`.
    pub async fn decisions(
        &self,
        tenant_id: &str,
        unit_ids: Option<&[String]>,
        finding_id: Option<&str>,
    ) -> Result<Vec<Decision>> {
        let units = unit_ids.map(|u| serde_json::to_string(u).unwrap_or_default());
        #[allow(clippy::type_complexity)]
        let (rows, links): (
            Vec<(
                String,
                String,
                String,
                String,
                String,
                String,
                String,
                DateTime<Utc>,
            )>,
            Vec<(String, String, String)>,
        ) = with_pool!(self, pool => {
            let rows = sqlx::query_as(
                "SELECT a.id, a.measure, a.unit_id, a.person, a.basis, a.decided_by, a.decided_on, a.created_at FROM accountability a \
                 WHERE a.tenant_id = $1 AND ($2 IS NULL OR $2 LIKE '%\"' || a.unit_id || '\"%') \
                 AND ($3 IS NULL OR EXISTS (SELECT 1 FROM accountability_finding l WHERE l.tenant_id = a.tenant_id \
                     AND l.accountability_id = a.id AND l.finding_id = $3)) \
                 ORDER BY a.decided_on DESC, a.id DESC",
            )
            .bind(tenant_id).bind(&units).bind(finding_id)
            .fetch_all(pool)
            .await?;
            let links = sqlx::query_as(
                "SELECT l.accountability_id, l.finding_id, f.found_on FROM accountability_finding l \
                 JOIN finding f ON f.tenant_id = l.tenant_id AND f.id = l.finding_id WHERE l.tenant_id = $1 \
                 ORDER BY l.finding_id",
            )
            .bind(tenant_id)
            .fetch_all(pool)
            .await?;
            (rows, links)
        });
        let calendar = self.calendar().await?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, measure, unit_id, person, basis, decided_by, decided_on, created_at) in rows {
            let decided_on = date(&decided_on, "accountability", &id)?;
            let linked: Vec<&(String, String, String)> =
                links.iter().filter(|l| l.0 == id).collect();
            let earliest = linked
                .iter()
                .filter_map(|l| l.2.parse::<NaiveDate>().ok())
                .min();
            let working_days = earliest.and_then(|found| {
                calendar
                    .working_days_between(found, decided_on)
                    .ok()
                    .map(|d| i64::from(d.value))
            });
            out.push(Decision {
                measure: measure
                    .parse()
                    .map_err(|e| corrupt("accountability", &id, e))?,
                finding_ids: linked.iter().map(|l| l.1.clone()).collect(),
                working_days,
                id,
                unit_id,
                person,
                basis,
                decided_by,
                decided_on,
                created_at,
            });
        }
        Ok(out)
    }
}

/// The WHERE clause of a finding list: $1 tenant, $2–$7 the visibility (see
/// [`FINDING_VISIBLE`]), $8 state, $9 source, $10 inspection, $11 unit, $12 published, $13 a
/// LIKE pattern on the description; and the pattern.
fn finding_condition(filter: &FindingFilter) -> (String, Option<String>) {
    let q = filter
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| {
            let escaped = q
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        });
    (
        format!(
            "f.tenant_id = $1 AND {FINDING_VISIBLE} AND ($8 IS NULL OR f.state = $8) AND ($9 IS NULL OR f.source = $9) \
             AND ($10 IS NULL OR f.inspection_id = $10) AND ($11 IS NULL OR f.unit_id = $11) \
             AND ($12 IS NULL OR f.published = $12) AND ($13 IS NULL OR f.description LIKE $13 ESCAPE '\\')"
        ),
        q,
    )
}

/// The first 30 characters of a description, for a message.
pub(crate) fn short(description: &str) -> String {
    let mut s: String = description.chars().take(30).collect();
    if description.chars().count() > 30 {
        s.push('…');
    }
    s
}
