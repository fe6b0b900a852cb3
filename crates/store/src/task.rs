//! Supervision tasks (督查督办): the first user of the workflow kernel. A task's deadline is a
//! kernel deadline (record `task`, step `complete`) opened in the same transaction as the
//! task and met in the same transaction as its acceptance; every action goes through
//! `domain::task::next`, is audited and is told on the task's timeline. Each milestone has a
//! deadline of its own (step `milestone:<seq>`), met when the lead unit reports it reached.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use domain::deadline::{Card, Limit};
use domain::history::Audience;
use domain::task::{TaskAction, TaskState, UnitRole};
use serde_json::json;

use crate::attachment::record_file;
use crate::audit::{AuditCtx, AuditEntry, append};
use crate::db::{BeginWrite, with_pool};
use crate::deadline::{NewDeadline, StoredDeadline, insert_deadline, meet_deadline};
use crate::history::{NewHistory, history};
use crate::notification::notify;
use crate::page::{Page, PageRequest};
use crate::{Result, Store, StoreError, new_id};

/// The deadline step of a task.
pub const STEP: &str = "complete";

/// A task as stored, with its deadline.
#[derive(Debug, Clone)]
pub struct Task {
    /// Its id.
    pub id: String,
    /// Its number in the programme (e.g. 2-3), unique in the tenant.
    pub number: String,
    /// The measure it belongs to (e.g. 措施二：实施意见).
    pub measure: String,
    /// Title.
    pub title: String,
    /// What is to be done.
    pub description: String,
    /// The lead unit (牵头单位).
    pub lead_unit_id: String,
    /// The cooperating units (配合单位).
    pub cooperating_unit_ids: Vec<String>,
    /// Where it stands.
    pub state: TaskState,
    /// The day it is due.
    pub due_on: NaiveDate,
    /// The last reported progress, 0–100.
    pub progress: i32,
    /// Its deadline on the kernel.
    pub deadline: Option<StoredDeadline>,
    /// Accepted at.
    pub completed_at: Option<DateTime<Utc>>,
    /// Its milestones, in order.
    pub milestones: Vec<Milestone>,
    /// The latest request for the one extension of its deadline.
    pub extension_request: Option<crate::extension::ExtensionRequest>,
}

/// A milestone (节点) of a task.
#[derive(Debug, Clone)]
pub struct Milestone {
    /// Its number on the task, from 1.
    pub seq: i32,
    /// What is reached.
    pub title: String,
    /// The day it is due.
    pub due_on: NaiveDate,
    /// Reported reached at.
    pub done_at: Option<DateTime<Utc>>,
    /// The lead unit's note.
    pub done_note: Option<String>,
    /// Its deadline on the kernel.
    pub deadline: Option<StoredDeadline>,
}

impl Milestone {
    /// The card it shows now (none once reached).
    pub fn card(&self) -> Card {
        match (&self.deadline, self.done_at) {
            (Some(d), None) => d.card,
            _ => Card::None,
        }
    }
}

/// A milestone to set on a new task.
#[derive(Debug, Clone)]
pub struct NewMilestone {
    /// What is reached, 1–50 characters.
    pub title: String,
    /// Due on or before the task.
    pub due_on: NaiveDate,
}

/// Most milestones on one task.
pub const MAX_MILESTONES: usize = 10;

/// The deadline step of milestone `seq`.
pub fn milestone_step(seq: i32) -> String {
    format!("milestone:{seq}")
}

impl Task {
    /// Every unit on the task, lead first.
    pub fn unit_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.lead_unit_id.as_str())
            .chain(self.cooperating_unit_ids.iter().map(String::as_str))
    }

    /// The card it shows now (none once completed).
    pub fn card(&self) -> Card {
        match (&self.deadline, self.state) {
            (_, TaskState::Completed) | (None, _) => Card::None,
            (Some(d), _) => d.card,
        }
    }
}

/// A progress report.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskReport {
    /// Its id.
    pub id: String,
    /// The reporting unit.
    pub unit_id: String,
    /// Progress, 0–100.
    pub progress: i32,
    /// What was done.
    pub text: String,
    /// Who reported (an audit actor).
    pub actor: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// A task to create.
#[derive(Debug, Clone)]
pub struct NewTask {
    /// Number, unique in the tenant.
    pub number: String,
    /// The measure.
    pub measure: String,
    /// Title, 1–100 characters.
    pub title: String,
    /// Description, up to 2000 characters.
    pub description: String,
    /// The lead unit.
    pub lead_unit_id: String,
    /// Cooperating units.
    pub cooperating_unit_ids: Vec<String>,
    /// The day it is due: its deadline is the close of the last working day on or before it.
    pub due_on: NaiveDate,
    /// Milestones, at most [`MAX_MILESTONES`], each due by the task's day.
    pub milestones: Vec<NewMilestone>,
}

/// An action on a task, with what it carries.
#[derive(Debug, Clone)]
pub enum TaskStep {
    /// A unit on the task reports progress (0–100) with a text.
    Report {
        /// The reporting unit: the lead or a cooperating unit.
        unit_id: String,
        /// Progress.
        progress: i32,
        /// What was done, 1–2000 characters.
        text: String,
    },
    /// The lead unit asks for completion.
    Submit {
        /// The asking unit (must be the lead).
        unit_id: String,
        /// A closing note.
        text: String,
    },
    /// The supervisor accepts.
    Accept {
        /// Opinion.
        text: String,
    },
    /// The supervisor sends it back.
    Reject {
        /// Why, required.
        text: String,
    },
    /// The lead unit reports a milestone reached.
    Milestone {
        /// The reporting unit (must be the lead).
        unit_id: String,
        /// The milestone's number.
        seq: i32,
        /// What was done, 1–2000 characters.
        text: String,
    },
}

impl TaskStep {
    fn action(&self) -> TaskAction {
        match self {
            TaskStep::Report { .. } => TaskAction::Report,
            TaskStep::Submit { .. } => TaskAction::Submit,
            TaskStep::Accept { .. } => TaskAction::Accept,
            TaskStep::Reject { .. } => TaskAction::Reject,
            TaskStep::Milestone { .. } => TaskAction::Milestone,
        }
    }
}

/// Files coming with a report.
#[derive(Debug, Default)]
pub struct ReportFiles {
    /// Earlier uploads (by the same person, to the same task, not yet tied) to tie.
    pub linked: Vec<String>,
    /// Files received with the report.
    pub new: Vec<crate::attachment::PreparedFile>,
}

/// Which tasks a list shows.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// Only tasks with a unit in this set (a unit_admin's subtree); `None`: all.
    pub unit_ids: Option<Vec<String>>,
    /// Only this state.
    pub state: Option<TaskState>,
    /// Only this card.
    pub card: Option<Card>,
}

#[derive(sqlx::FromRow)]
struct TaskRow {
    id: String,
    number: String,
    measure: String,
    title: String,
    description: String,
    lead_unit_id: String,
    state: String,
    due_on: String,
    progress: i32,
    completed_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct MilestoneRow {
    seq: i64,
    title: String,
    due_on: String,
    done_at: Option<DateTime<Utc>>,
    done_note: Option<String>,
}

fn invalid(field: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::InvalidField {
        field,
        message: message.into(),
    }
}

fn text(field: &'static str, value: &str, max: usize, what: &str) -> Result<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(invalid(field, format!("{what}应为 1 到 {max} 个字符")));
    }
    Ok(value.to_owned())
}

impl Store {
    /// Creates a task with its deadline, in one transaction.
    pub async fn create_task(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewTask,
    ) -> Result<Task> {
        self.create_task_at(ctx, tenant_id, new, self.clock.now())
            .await
    }

    /// Creates a task assigned at `assigned_at` (the demo's tasks were assigned in the past;
    /// everyone else assigns now): its deadline counts from then.
    pub(crate) async fn create_task_at(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewTask,
        assigned_at: DateTime<Utc>,
    ) -> Result<Task> {
        let number = text("number", &new.number, 16, "编号")?;
        let measure = text("measure", &new.measure, 64, "所属措施")?;
        let title = text("title", &new.title, 100, "任务名称")?;
        let description = new.description.trim().to_owned();
        if description.chars().count() > 2000 {
            return Err(invalid("description", "任务内容不能超过 2000 个字符"));
        }
        let units: HashMap<String, crate::unit::Unit> = self
            .units(tenant_id)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect();
        let active = |id: &str, field: &'static str| match units.get(id) {
            Some(u) if u.active => Ok(()),
            Some(u) => Err(invalid(field, format!("单位“{}”已停用或撤并", u.name))),
            None => Err(invalid(field, "单位不存在")),
        };
        active(&new.lead_unit_id, "lead_unit_id")?;
        let mut seen = HashSet::from([new.lead_unit_id.as_str()]);
        for id in &new.cooperating_unit_ids {
            active(id, "cooperating_unit_ids")?;
            if !seen.insert(id) {
                return Err(invalid(
                    "cooperating_unit_ids",
                    "配合单位重复，或与牵头单位相同",
                ));
            }
        }
        let now = self.clock.now();
        let calendar = self.calendar().await?;
        let hours = self.working_hours(tenant_id).await?;
        let receipt_day = calendar
            .receipt(&hours, assigned_at)
            .value
            .with_timezone(&domain::calendar::shanghai())
            .date_naive();
        if new.due_on < receipt_day {
            return Err(invalid("due_on", "完成时限不能早于今天（或下一个工作日）"));
        }
        let days = calendar
            .working_days_between(receipt_day, new.due_on)
            .map_err(|e| invalid("due_on", e.to_string()))?
            .value;
        if new.milestones.len() > MAX_MILESTONES {
            return Err(invalid(
                "milestones",
                format!("节点不能超过 {MAX_MILESTONES} 个"),
            ));
        }
        let mut milestones = new.milestones.clone();
        milestones.sort_by_key(|m| m.due_on);
        let mut milestone_days = Vec::with_capacity(milestones.len());
        for m in &mut milestones {
            m.title = text("milestones", &m.title, 50, "节点名称")?;
            if m.due_on < receipt_day || m.due_on > new.due_on {
                return Err(invalid(
                    "milestones",
                    format!(
                        "节点“{}”的时限应在今天（或下一个工作日）与任务完成时限之间",
                        m.title
                    ),
                ));
            }
            milestone_days.push(
                calendar
                    .working_days_between(receipt_day, m.due_on)
                    .map_err(|e| invalid("milestones", e.to_string()))?
                    .value,
            );
        }
        let id = new_id();
        let deadline = NewDeadline {
            record_type: "task",
            record_id: &id,
            step: STEP,
            unit_id: Some(&new.lead_unit_id),
            limit: Limit::WorkingDays(days),
            received_at: assigned_at,
        };
        let (_, spec, schedule) = self.plan_deadline(tenant_id, &deadline, now).await?;
        let deadline_id = new_id();
        let steps: Vec<String> = (1..=milestones.len() as i32).map(milestone_step).collect();
        let mut planned = Vec::with_capacity(milestones.len());
        for (step, days) in steps.iter().zip(&milestone_days) {
            let milestone_deadline = NewDeadline {
                step,
                limit: Limit::WorkingDays(*days),
                ..deadline
            };
            let (_, spec, schedule) = self
                .plan_deadline(tenant_id, &milestone_deadline, now)
                .await?;
            planned.push((new_id(), milestone_deadline, spec, schedule));
        }
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO task (tenant_id, id, number, measure, title, description, lead_unit_id, state, due_on, progress, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'assigned', $8, 0, $9, $9) ON CONFLICT (tenant_id, number) DO NOTHING",
            )
            .bind(tenant_id).bind(&id).bind(&number).bind(&measure).bind(&title).bind(&description)
            .bind(&new.lead_unit_id).bind(new.due_on.to_string()).bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                return Err(StoreError::InvalidField { field: "number", message: format!("编号 {number} 已被使用") });
            }
            for (unit_id, role) in std::iter::once((&new.lead_unit_id, "lead"))
                .chain(new.cooperating_unit_ids.iter().map(|u| (u, "cooperating")))
            {
                sqlx::query("INSERT INTO task_unit (tenant_id, task_id, unit_id, role) VALUES ($1, $2, $3, $4)")
                    .bind(tenant_id).bind(&id).bind(unit_id).bind(role)
                    .execute(&mut *tx)
                    .await?;
            }
            insert_deadline!(tx, tenant_id, &deadline_id, &deadline, &spec, &schedule, now);
            for (seq, (m, (milestone_deadline_id, milestone_deadline, spec, schedule))) in
                milestones.iter().zip(&planned).enumerate()
            {
                sqlx::query("INSERT INTO task_milestone (tenant_id, task_id, seq, title, due_on) VALUES ($1, $2, $3, $4, $5)")
                    .bind(tenant_id).bind(&id).bind(seq as i32 + 1).bind(&m.title).bind(m.due_on.to_string())
                    .execute(&mut *tx)
                    .await?;
                insert_deadline!(tx, tenant_id, milestone_deadline_id, milestone_deadline, spec, schedule, now);
            }
            let message = format!("新交办督查任务：{title}（{} 前完成）", new.due_on);
            let url = format!("/tasks/{id}");
            for unit_id in std::iter::once(&new.lead_unit_id).chain(&new.cooperating_unit_ids) {
                notify!(tx, tenant_id, "assigned", "task", &id, &message, &url, Some(unit_id.as_str()), false, now);
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: "task",
                record_id: &id,
                event: "assigned",
                audience: Audience::Public,
                detail: json!({"due_on": new.due_on.to_string(), "due_at": schedule.due_at}),
            });
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: "create",
                entity: "task",
                entity_id: &id,
                changes: json!({"number": number, "measure": measure, "title": title, "description": description,
                    "lead_unit_id": new.lead_unit_id, "cooperating_unit_ids": new.cooperating_unit_ids,
                    "due_on": new.due_on.to_string(), "deadline_id": deadline_id, "deadline": spec,
                    "milestones": milestones.iter().zip(&planned).map(|(m, p)| json!({"title": m.title,
                        "due_on": m.due_on.to_string(), "deadline_id": p.0})).collect::<Vec<_>>()}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        self.task(tenant_id, &id).await?.ok_or(StoreError::NotFound)
    }

    /// Takes a step on a task through the domain's rules; who may take it (the unit on the
    /// task, the supervisor) is the caller's policy.
    pub async fn act_on_task(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        step: &TaskStep,
    ) -> Result<Task> {
        self.act_on_task_with(ctx, tenant_id, id, step, ReportFiles::default())
            .await
    }

    /// As [`Self::act_on_task`], with the files that come with a report (progress, milestone,
    /// completion request): new ones recorded and earlier uploads of the same person tied to
    /// the report, all in the step's transaction — refused, nothing of it stays.
    pub async fn act_on_task_with(
        &self,
        ctx: &AuditCtx,
        tenant_id: &str,
        id: &str,
        step: &TaskStep,
        files: ReportFiles,
    ) -> Result<Task> {
        let task = self
            .task(tenant_id, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let next = domain::task::next(task.state, step.action())
            .map_err(|r| StoreError::Conflict(r.to_string()))?;
        let acting = match step {
            TaskStep::Report { unit_id, .. }
            | TaskStep::Submit { unit_id, .. }
            | TaskStep::Milestone { unit_id, .. } => Some(unit_id.as_str()),
            TaskStep::Accept { .. } | TaskStep::Reject { .. } => None,
        };
        let role = match acting {
            Some(u) if u == task.lead_unit_id => UnitRole::Lead,
            Some(u) if task.cooperating_unit_ids.iter().any(|c| c == u) => UnitRole::Cooperating,
            _ => UnitRole::None,
        };
        let open_milestones = task
            .milestones
            .iter()
            .filter(|m| m.done_at.is_none())
            .count();
        domain::task::check_step(step.action(), role, open_milestones)
            .map_err(|r| invalid(r.field, r.message))?;
        let now = self.clock.now();
        let (event, unit_id, progress, note) = match step {
            TaskStep::Report {
                unit_id,
                progress,
                text: t,
            } => {
                if !(0..=100).contains(progress) {
                    return Err(invalid("progress", "进度应为 0 到 100"));
                }
                (
                    "reported",
                    Some(unit_id.clone()),
                    *progress,
                    text("text", t, 2000, "进展情况")?,
                )
            }
            TaskStep::Submit { unit_id, text: t } => (
                "submitted",
                Some(unit_id.clone()),
                100,
                text("text", t, 2000, "完成情况")?,
            ),
            TaskStep::Accept { text: t } => (
                "completed",
                None,
                100,
                t.trim().chars().take(2000).collect::<String>(),
            ),
            TaskStep::Reject { text: t } => (
                "rejected",
                None,
                task.progress,
                text("text", t, 2000, "退回理由")?,
            ),
            TaskStep::Milestone {
                unit_id,
                seq,
                text: t,
            } => {
                let milestone = task
                    .milestones
                    .iter()
                    .find(|m| m.seq == *seq)
                    .ok_or_else(|| invalid("milestone", "该任务没有这个节点"))?;
                if milestone.done_at.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "节点“{}”已报告完成",
                        milestone.title
                    )));
                }
                (
                    "milestone_done",
                    Some(unit_id.clone()),
                    task.progress,
                    text("text", t, 2000, "节点完成情况")?,
                )
            }
        };
        let milestone = match step {
            TaskStep::Milestone { seq, .. } => task.milestones.iter().find(|m| m.seq == *seq),
            _ => None,
        };
        // acceptance meets the deadline in the same transaction, a milestone reached its own
        let to_meet = match milestone {
            Some(m) => m.deadline.as_ref(),
            None if next == TaskState::Completed => task.deadline.as_ref(),
            None => None,
        };
        let met = match to_meet {
            Some(d) if d.open => {
                let calendar = self.calendar().await?;
                let hours = self.working_hours(tenant_id).await?;
                Some((
                    d.id.clone(),
                    d.deadline.worked_minutes(&calendar, &hours, now).value,
                    now <= d.due_at,
                ))
            }
            _ => None,
        };
        if unit_id.is_none() && !(files.linked.is_empty() && files.new.is_empty()) {
            return Err(invalid(
                "attachment_ids",
                "只有报送进展、节点完成和申请销号可以附带文件",
            ));
        }
        let report_id = new_id();
        let head = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let moved = sqlx::query(
                "UPDATE task SET state = $3, progress = $4, updated_at = $5, completed_at = $6 \
                 WHERE tenant_id = $1 AND id = $2 AND state = $7",
            )
            .bind(tenant_id).bind(id).bind(next.as_str()).bind(progress).bind(now)
            .bind((next == TaskState::Completed).then_some(now)).bind(task.state.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if moved != 1 {
                return Err(StoreError::Conflict("任务刚被他人处理，请刷新后重试".into()));
            }
            if let Some(unit_id) = &unit_id {
                sqlx::query(
                    "INSERT INTO task_report (tenant_id, id, task_id, unit_id, progress, text, actor, at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(tenant_id).bind(&report_id).bind(id).bind(unit_id).bind(progress).bind(&note)
                .bind(&ctx.actor).bind(now)
                .execute(&mut *tx)
                .await?;
                for linked in &files.linked {
                    let tied = sqlx::query(
                        "UPDATE attachment SET report_id = $3 WHERE tenant_id = $1 AND id = $2 AND record_type = 'task' \
                         AND record_id = $4 AND report_id IS NULL AND actor = $5",
                    )
                    .bind(tenant_id).bind(linked).bind(&report_id).bind(id).bind(&ctx.actor)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if tied != 1 {
                        return Err(invalid("attachment_ids", "附件不存在、不是本人为该任务上传的，或已随其他报送提交"));
                    }
                }
                for file in &files.new {
                    record_file!(tx, tenant_id, ctx, now, "task", id, Some(report_id.as_str()), file);
                }
            }
            if let Some(m) = milestone {
                let marked = sqlx::query(
                    "UPDATE task_milestone SET done_at = $4, done_note = $5 WHERE tenant_id = $1 AND task_id = $2 AND seq = $3 AND done_at IS NULL",
                )
                .bind(tenant_id).bind(id).bind(m.seq).bind(now).bind(&note)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if marked != 1 {
                    return Err(StoreError::Conflict(format!("节点“{}”已报告完成", m.title)));
                }
            }
            if let Some((deadline_id, worked, _)) = &met {
                meet_deadline!(tx, tenant_id, deadline_id, now, worked);
            }
            let mut detail = json!({"progress": progress, "text": note, "unit_id": unit_id});
            if let (Some(m), Some(d)) = (milestone, detail.as_object_mut()) {
                d.insert("seq".into(), json!(m.seq));
                d.insert("title".into(), json!(m.title));
            }
            if let (Some((_, worked, on_time)), Some(d)) = (&met, detail.as_object_mut()) {
                d.insert("worked_minutes".into(), json!(worked));
                d.insert("on_time".into(), json!(on_time));
            }
            history!(tx, tenant_id, ctx, now, &NewHistory {
                record_type: "task",
                record_id: id,
                event,
                audience: Audience::Public,
                detail,
            });
            let head = append!(self, tx, ctx, now, &AuditEntry {
                tenant_id: Some(tenant_id),
                action: step.action().as_str(),
                entity: "task",
                entity_id: id,
                changes: json!({"state": [task.state.as_str(), next.as_str()], "progress": [task.progress, progress],
                    "report_id": unit_id.as_ref().map(|_| &report_id), "text": note,
                    "deadline_met": met.as_ref().map(|m| &m.0), "milestone": milestone.map(|m| m.seq),
                    "attachments_tied": files.linked, "attachments": files.new.iter().map(|f| f.audit()).collect::<Vec<_>>()}),
            });
            tx.commit().await?;
            head
        });
        self.advance_head(head);
        for file in files.new {
            file.keep();
        }
        self.task(tenant_id, id).await?.ok_or(StoreError::NotFound)
    }

    /// One task with its units and deadline.
    pub async fn task(&self, tenant_id: &str, id: &str) -> Result<Option<Task>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, TaskRow>(
                "SELECT id, number, measure, title, description, lead_unit_id, state, due_on, progress, completed_at \
                 FROM task WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        match row {
            Some(row) => Ok(self.complete_tasks(tenant_id, vec![row]).await?.pop()),
            None => Ok(None),
        }
    }

    async fn complete_tasks(&self, tenant_id: &str, rows: Vec<TaskRow>) -> Result<Vec<Task>> {
        let mut tasks = Vec::with_capacity(rows.len());
        for row in rows {
            let cooperating: Vec<(String,)> = with_pool!(self, pool => {
                sqlx::query_as(
                    "SELECT unit_id FROM task_unit WHERE tenant_id = $1 AND task_id = $2 AND role = 'cooperating' ORDER BY unit_id",
                )
                .bind(tenant_id)
                .bind(&row.id)
                .fetch_all(pool)
                .await?
            });
            let mut deadlines = self.deadlines_of(tenant_id, "task", &row.id).await?;
            let main = deadlines.iter().position(|d| d.step == STEP);
            let deadline = main.map(|i| deadlines.swap_remove(i));
            let milestone_rows: Vec<MilestoneRow> = with_pool!(self, pool => {
                sqlx::query_as(
                    "SELECT CAST(seq AS BIGINT) AS seq, title, due_on, done_at, done_note FROM task_milestone \
                     WHERE tenant_id = $1 AND task_id = $2 ORDER BY seq",
                )
                .bind(tenant_id)
                .bind(&row.id)
                .fetch_all(pool)
                .await?
            });
            let corrupt = |e: String| StoreError::Other(anyhow::anyhow!("task {}: {e}", row.id));
            let mut milestones = Vec::with_capacity(milestone_rows.len());
            for m in milestone_rows {
                let seq = m.seq as i32;
                let step = milestone_step(seq);
                milestones.push(Milestone {
                    seq,
                    due_on: m.due_on.parse().map_err(|e| corrupt(format!("{e}")))?,
                    deadline: deadlines.iter().find(|d| d.step == step).cloned(),
                    title: m.title,
                    done_at: m.done_at,
                    done_note: m.done_note,
                });
            }
            let extension_request = self
                .extension_requests(tenant_id, "task", &row.id)
                .await?
                .into_iter()
                .next();
            tasks.push(Task {
                extension_request,
                milestones,
                state: row.state.parse().map_err(corrupt)?,
                due_on: row.due_on.parse().map_err(|e| corrupt(format!("{e}")))?,
                cooperating_unit_ids: cooperating.into_iter().map(|c| c.0).collect(),
                deadline,
                id: row.id,
                number: row.number,
                measure: row.measure,
                title: row.title,
                description: row.description,
                lead_unit_id: row.lead_unit_id,
                progress: row.progress,
                completed_at: row.completed_at,
            });
        }
        Ok(tasks)
    }

    /// One page of tasks, by number.
    pub async fn list_tasks(
        &self,
        tenant_id: &str,
        filter: &TaskFilter,
        page: PageRequest,
    ) -> Result<Page<Task>> {
        // the unit scope as a JSON list, matched with a subquery on task_unit
        let units = filter
            .unit_ids
            .as_ref()
            .map(|u| serde_json::to_string(u).unwrap_or_default());
        let state = filter.state.map(|s| s.as_str());
        let card = filter.card.map(|c| c.as_str());
        let condition = "t.tenant_id = $1 AND ($2 IS NULL OR t.state = $2) \
             AND ($3 IS NULL OR (t.state <> 'completed' AND EXISTS (SELECT 1 FROM deadline d WHERE d.tenant_id = t.tenant_id \
                  AND d.record_type = 'task' AND d.record_id = t.id AND d.card = $3))) \
             AND ($4 IS NULL OR EXISTS (SELECT 1 FROM task_unit tu WHERE tu.tenant_id = t.tenant_id AND tu.task_id = t.id \
                  AND $4 LIKE '%\"' || tu.unit_id || '\"%'))";
        let (rows, total) = with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM task t WHERE {condition}")))
                .bind(tenant_id).bind(state).bind(card).bind(&units)
                .fetch_one(pool)
                .await?;
            let rows = sqlx::query_as::<_, TaskRow>(sqlx::AssertSqlSafe(format!(
                "SELECT t.id, t.number, t.measure, t.title, t.description, t.lead_unit_id, t.state, t.due_on, t.progress, t.completed_at \
                 FROM task t WHERE {condition} ORDER BY t.number LIMIT $5 OFFSET $6"
            )))
            .bind(tenant_id).bind(state).bind(card).bind(&units).bind(page.limit()).bind(page.offset())
            .fetch_all(pool)
            .await?;
            (rows, total)
        });
        Ok(Page {
            items: self.complete_tasks(tenant_id, rows).await?,
            request: page,
            total,
        })
    }

    /// A task's progress reports, newest first.
    pub async fn task_reports(&self, tenant_id: &str, task_id: &str) -> Result<Vec<TaskReport>> {
        Ok(with_pool!(self, pool => {
            sqlx::query_as::<_, TaskReport>(
                "SELECT id, unit_id, progress, text, actor, at FROM task_report WHERE tenant_id = $1 AND task_id = $2 \
                 ORDER BY at DESC, id DESC",
            )
            .bind(tenant_id)
            .bind(task_id)
            .fetch_all(pool)
            .await?
        }))
    }
}
