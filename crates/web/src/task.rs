//! Supervision tasks (督查督办) pages and API: the supervisor assigns tasks and accepts or
//! sends back their completion; the units on a task report progress and the lead unit asks
//! for completion; leaders read everything. A `unit_admin` sees the tasks with a unit in its
//! subtree; for everyone else without `ReadTasks` they do not exist.

use std::collections::HashMap;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use domain::deadline::Card;
use domain::deadline::RequestState;
use domain::history::Reader;
use domain::task::{TaskAction, TaskState};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::deadline::DeadlineChange;
use store::extension::{ExtensionRequest, NewExtensionRequest};
use store::page::PageRequest;
use store::task::{Milestone, NewMilestone, NewTask, ReportFiles, Task, TaskFilter, TaskStep};
use store::unit::Unit;

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, Scope, allows, permitted, scope, sees_unit, visible_to};
use crate::routes::Routes;
use crate::staff::{FormErrors, form_value};
use crate::state::AppState;
use crate::timeline::{TimelineLine, timeline};

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/tasks", list)
        .post("/api/v1/tasks", create)
        .get("/api/v1/tasks/{id}", show)
        .post("/api/v1/tasks/{id}/actions", act)
        .get("/api/v1/tasks/{id}/history", history)
        .get("/api/v1/tasks/{id}/attachments", attachments)
        .post(
            "/api/v1/tasks/{id}/attachments",
            attach.layer(crate::attachment::body_limit()),
        )
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/tasks", list_page)
        .get("/tasks/new", new_page)
        .post("/tasks/new", new_form)
        .get("/tasks/{id}", detail_page)
        .post("/tasks/{id}/action", action_form)
        .post(
            "/tasks/{id}/report",
            report_form.layer(crate::attachment::body_limit()),
        )
        .post(
            "/tasks/{id}/attachments",
            attach_form.layer(crate::attachment::body_limit()),
        )
}

/// Whether the user sees the task (attachments follow the task's policy).
pub(crate) async fn sees_task(state: &AppState, user: &CurrentUser, id: &str) -> Result<bool> {
    if !allows(&user.account, Action::ReadTasks) {
        return Ok(false);
    }
    let units = Units::load(state, user).await?;
    Ok(state
        .store
        .task(&user.tenant.id, id)
        .await?
        .is_some_and(|t| units.sees(&t)))
}

/// `GET /api/v1/tasks/{id}/attachments`
async fn attachments(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let user = reader(user)?;
    let units = Units::load(&state, &user).await?;
    task_of(&state, &user, &units, &id).await?;
    let items: Vec<crate::attachment::AttachmentJson> = state
        .store
        .attachments_of(&user.tenant.id, "task", &id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(json!({"items": items})))
}

/// Receives a file for a task: from a unit on it (while open) or the supervisor.
async fn attach_to(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<store::attachment::Attachment> {
    let units = Units::load(state, user).await?;
    let task = task_of(state, user, &units, id).await?;
    let may = allows(&user.account, Action::ManageTasks)
        || (allows(&user.account, Action::ReportTasks) && units.acting_unit(&task).is_some());
    if !may {
        return Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "只有任务所涉单位的联络员和督查可以上传附件",
        ));
    }
    if task.state == TaskState::Completed {
        return Err(Error::conflict("该任务已销号，不能再上传附件"));
    }
    let (name, upload) = crate::attachment::receive(state, multipart).await?;
    Ok(state
        .store
        .attach(&user.audit(), &user.tenant.id, "task", id, &name, upload)
        .await?)
}

/// `POST /api/v1/tasks/{id}/attachments` (multipart, field `file`)
async fn attach(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    let user = reader(user)?;
    let attachment = attach_to(&state, &user, &id, multipart).await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::attachment::AttachmentJson::from(attachment)),
    )
        .into_response())
}

/// `POST /tasks/{id}/attachments`: the detail page's upload form.
async fn attach_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    match attach_to(&state, &user, &id, multipart).await {
        Ok(_) => Ok(see_other(&format!("/tasks/{id}"))),
        Err(e) => page_refusal(&state, &user, &id, e).await,
    }
}

/// The units of the tenant and the subtree a `unit_admin` works in.
pub(crate) struct Units {
    pub(crate) by_id: HashMap<String, Unit>,
    /// `None`: the whole tenant.
    pub(crate) scope: Option<Vec<String>>,
}

impl Units {
    async fn load(state: &AppState, user: &CurrentUser) -> Result<Self> {
        Self::load_for(state, user, Action::ReadTasks).await
    }

    /// The units, scoped as `action` scopes the user: the policy module decides, unit by unit,
    /// over each unit's path in the tree (`policy::sees_unit`), as for staff.
    pub(crate) async fn load_for(
        state: &AppState,
        user: &CurrentUser,
        action: Action,
    ) -> Result<Self> {
        let view = crate::staff::OrgView::load(state, user).await?;
        let all = state.store.units(&user.tenant.id).await?;
        let scope = match scope(&user.account, action) {
            Scope::Tenant => None,
            Scope::Subtree(_) | Scope::Nothing => Some(
                all.iter()
                    .filter(|u| sees_unit(&user.account, action, &view.path(&u.id)))
                    .map(|u| u.id.clone())
                    .collect(),
            ),
        };
        Ok(Self {
            by_id: all.into_iter().map(|u| (u.id.clone(), u)).collect(),
            scope,
        })
    }

    /// Just the unit `id`, for naming it in an answer about one record.
    pub(crate) async fn named(state: &AppState, tenant_id: &str, id: &str) -> Result<Self> {
        let unit = state.store.unit(tenant_id, id).await?;
        Ok(Self {
            by_id: unit.into_iter().map(|u| (u.id.clone(), u)).collect(),
            scope: None,
        })
    }

    pub(crate) fn name(&self, id: &str) -> String {
        self.by_id
            .get(id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    fn sees(&self, task: &Task) -> bool {
        match &self.scope {
            None => true,
            Some(ids) => task.unit_ids().any(|u| ids.iter().any(|i| i == u)),
        }
    }

    /// The unit through which the user acts on the task: the lead if in scope, else the first
    /// cooperating unit in scope.
    fn acting_unit(&self, task: &Task) -> Option<String> {
        let ids = self.scope.as_ref()?;
        task.unit_ids()
            .find(|u| ids.iter().any(|i| i == u))
            .map(str::to_owned)
    }
}

fn reader(user: CurrentUser) -> Result<CurrentUser> {
    visible_to(user, Action::ReadTasks)
}

async fn task_of(state: &AppState, user: &CurrentUser, units: &Units, id: &str) -> Result<Task> {
    state
        .store
        .task(&user.tenant.id, id)
        .await?
        .filter(|t| units.sees(t))
        .ok_or_else(Error::not_found)
}

#[derive(Serialize)]
struct TaskJson {
    id: String,
    number: String,
    measure: String,
    title: String,
    description: String,
    lead_unit: UnitRef,
    cooperating_units: Vec<UnitRef>,
    state: &'static str,
    progress: i32,
    due_on: String,
    due_at: Option<String>,
    card: &'static str,
    provisional: bool,
    completed_at: Option<String>,
    milestones: Vec<MilestoneJson>,
    extension_request: Option<RequestJson>,
}

#[derive(Serialize)]
struct RequestJson {
    id: String,
    days: u32,
    reason: String,
    state: &'static str,
    requested_at: String,
    decided_at: Option<String>,
    decision_note: Option<String>,
}

impl From<&ExtensionRequest> for RequestJson {
    fn from(r: &ExtensionRequest) -> Self {
        Self {
            id: r.id.clone(),
            days: r.days,
            reason: r.reason.clone(),
            state: r.state.as_str(),
            requested_at: timestamp(r.requested_at),
            decided_at: r.decided_at.map(timestamp),
            decision_note: r.decision_note.clone(),
        }
    }
}

#[derive(Serialize)]
struct MilestoneJson {
    seq: i32,
    title: String,
    due_on: String,
    due_at: Option<String>,
    card: &'static str,
    done_at: Option<String>,
    done_note: Option<String>,
}

impl From<&Milestone> for MilestoneJson {
    fn from(m: &Milestone) -> Self {
        Self {
            seq: m.seq,
            title: m.title.clone(),
            due_on: m.due_on.to_string(),
            due_at: m.deadline.as_ref().map(|d| timestamp(d.due_at)),
            card: m.card().as_str(),
            done_at: m.done_at.map(timestamp),
            done_note: m.done_note.clone(),
        }
    }
}

#[derive(Serialize)]
struct UnitRef {
    id: String,
    name: String,
}

fn task_json(t: Task, units: &Units) -> TaskJson {
    let unit = |id: &str| UnitRef {
        id: id.to_owned(),
        name: units.name(id),
    };
    TaskJson {
        lead_unit: unit(&t.lead_unit_id),
        cooperating_units: t.cooperating_unit_ids.iter().map(|u| unit(u)).collect(),
        state: t.state.as_str(),
        card: t.card().as_str(),
        due_at: t.deadline.as_ref().map(|d| timestamp(d.due_at)),
        provisional: t.deadline.as_ref().is_some_and(|d| d.provisional),
        due_on: t.due_on.to_string(),
        completed_at: t.completed_at.map(timestamp),
        milestones: t.milestones.iter().map(Into::into).collect(),
        extension_request: t.extension_request.as_ref().map(Into::into),
        id: t.id,
        number: t.number,
        measure: t.measure,
        title: t.title,
        description: t.description,
        progress: t.progress,
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    card: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

impl ListQuery {
    fn filter(&self, units: &Units) -> Result<TaskFilter> {
        let state = match self.state.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => Some(
                s.parse::<TaskState>()
                    .map_err(|e| Error::bad_param("state", e))?,
            ),
            None => None,
        };
        let card = match self.card.as_deref().filter(|s| !s.is_empty()) {
            Some("none") => Some(Card::None),
            Some("yellow") => Some(Card::Yellow),
            Some("red") => Some(Card::Red),
            Some(_) => {
                return Err(Error::bad_param(
                    "card",
                    "卡片 card 应为 none、yellow 或 red",
                ));
            }
            None => None,
        };
        Ok(TaskFilter {
            unit_ids: units.scope.clone(),
            state,
            card,
        })
    }
}

/// `GET /api/v1/tasks`
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<TaskJson>>> {
    let user = reader(user)?;
    let units = Units::load(&state, &user).await?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_tasks(&user.tenant.id, &q.filter(&units)?, request)
        .await?;
    Ok(Json(ListBody::from_page(page, |t| task_json(t, &units))))
}

/// `GET /api/v1/tasks/{id}`
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<TaskJson>> {
    let user = reader(user)?;
    let units = Units::load(&state, &user).await?;
    let task = task_of(&state, &user, &units, &id).await?;
    Ok(Json(task_json(task, &units)))
}

/// `GET /api/v1/tasks/{id}/history`
async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let user = reader(user)?;
    let units = Units::load(&state, &user).await?;
    task_of(&state, &user, &units, &id).await?;
    let items = timeline(&state, &user.tenant.id, "task", &id, Reader::Staff).await?;
    Ok(Json(json!({"items": items})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewTaskBody {
    number: Option<String>,
    measure: Option<String>,
    title: Option<String>,
    #[serde(default)]
    description: String,
    lead_unit_id: Option<String>,
    #[serde(default)]
    cooperating_unit_ids: Vec<String>,
    due_on: Option<String>,
    #[serde(default)]
    milestones: Vec<MilestoneBody>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct MilestoneBody {
    #[serde(default)]
    title: String,
    #[serde(default)]
    due_on: String,
}

impl NewTaskBody {
    fn into_new(self) -> Result<NewTask> {
        let due_on = self
            .due_on
            .filter(|d| !d.trim().is_empty())
            .ok_or_else(|| Error::field("due_on", "请填写完成时限"))?;
        let due_on = NaiveDate::parse_from_str(due_on.trim(), "%Y-%m-%d")
            .map_err(|_| Error::field("due_on", "完成时限应为 YYYY-MM-DD 格式的日期"))?;
        Ok(NewTask {
            number: self.number.unwrap_or_default(),
            measure: self.measure.unwrap_or_default(),
            title: self.title.unwrap_or_default(),
            description: self.description,
            lead_unit_id: self
                .lead_unit_id
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| Error::field("lead_unit_id", "请选择牵头单位"))?,
            cooperating_unit_ids: self.cooperating_unit_ids,
            due_on,
            milestones: self
                .milestones
                .into_iter()
                .map(|m| {
                    let due_on =
                        NaiveDate::parse_from_str(m.due_on.trim(), "%Y-%m-%d").map_err(|_| {
                            Error::field(
                                "milestones",
                                format!("节点“{}”的时限应为 YYYY-MM-DD 格式的日期", m.title.trim()),
                            )
                        })?;
                    Ok(NewMilestone {
                        title: m.title,
                        due_on,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }
}

fn manager(user: &CurrentUser) -> Result<()> {
    permitted(user, Action::ManageTasks, "只有督查（营商办）可以交办任务")
}

/// `POST /api/v1/tasks`
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<NewTaskBody>, Error>,
) -> Result<Response> {
    let user = reader(user)?;
    manager(&user)?;
    let ApiJson(body) = body?;
    let task = state
        .store
        .create_task(&user.audit(), &user.tenant.id, &body.into_new()?)
        .await?;
    let units = Units::load(&state, &user).await?;
    Ok((StatusCode::CREATED, Json(task_json(task, &units))).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    action: Option<String>,
    progress: Option<i32>,
    /// `extend`: working days added.
    days: Option<u32>,
    /// `milestone`: its number.
    milestone: Option<i32>,
    /// Files uploaded earlier to the task, to come with this report.
    #[serde(default)]
    attachment_ids: Vec<String>,
    #[serde(default)]
    text: String,
}

/// The most working days one extension of a task may add (as for appeals).
const MAX_EXTENSION_DAYS: u32 = 10;

/// The step a user takes: units report and submit through their unit on the task, the
/// supervisor accepts and rejects; anyone else who sees the task gets 403.
fn step_of(user: &CurrentUser, units: &Units, task: &Task, body: ActionBody) -> Result<TaskStep> {
    let action: TaskAction = body
        .action
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|e: String| Error::field("action", e))?;
    match action {
        TaskAction::Report | TaskAction::Submit | TaskAction::Milestone => {
            permitted(
                user,
                Action::ReportTasks,
                "只有任务所涉单位的联络员可以报送进展",
            )?;
            let unit_id = units.acting_unit(task).ok_or_else(|| {
                Error::client(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "只有任务所涉单位的联络员可以报送进展",
                )
            })?;
            Ok(match action {
                TaskAction::Report => TaskStep::Report {
                    unit_id,
                    progress: body
                        .progress
                        .ok_or_else(|| Error::field("progress", "请填写进度（0 到 100）"))?,
                    text: body.text,
                },
                TaskAction::Milestone => TaskStep::Milestone {
                    unit_id,
                    seq: body
                        .milestone
                        .ok_or_else(|| Error::field("milestone", "请选择完成的节点"))?,
                    text: body.text,
                },
                _ => TaskStep::Submit {
                    unit_id,
                    text: body.text,
                },
            })
        }
        TaskAction::Accept | TaskAction::Reject => {
            manager(user)?;
            Ok(if action == TaskAction::Accept {
                TaskStep::Accept { text: body.text }
            } else {
                TaskStep::Reject { text: body.text }
            })
        }
    }
}

/// Readers who neither report nor supervise (leaders) only read: 403 before the body is read.
fn may_act(user: &CurrentUser) -> Result<()> {
    if allows(&user.account, Action::ReportTasks) || allows(&user.account, Action::ManageTasks) {
        Ok(())
    } else {
        Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "您只能查看该任务",
        ))
    }
}

async fn take_step(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    mut body: ActionBody,
    mut files: ReportFiles,
) -> Result<Task> {
    let units = Units::load(state, user).await?;
    let task = task_of(state, user, &units, id).await?;
    files.linked.append(&mut body.attachment_ids);
    let with_files = !(files.linked.is_empty() && files.new.is_empty());
    if let Some(kind @ ("extend" | "request_extension" | "refuse_extension")) =
        body.action.as_deref()
    {
        if with_files {
            return Err(Error::field(
                "attachment_ids",
                "只有报送进展、节点完成和申请销号可以附带文件",
            ));
        }
        let kind = kind.to_owned();
        extension_step(state, user, &units, &task, &kind, body).await?;
        return task_of(state, user, &units, id).await;
    }
    let step = step_of(user, &units, &task, body)?;
    Ok(state
        .store
        .act_on_task_with(&user.audit(), &user.tenant.id, id, &step, files)
        .await?)
}

/// The one extension of a task's deadline: the lead unit asks (`request_extension`), the
/// supervisor grants a pending request or extends directly (`extend`), or refuses the request
/// (`refuse_extension`). The task's state stays.
async fn extension_step(
    state: &AppState,
    user: &CurrentUser,
    units: &Units,
    task: &Task,
    kind: &str,
    body: ActionBody,
) -> Result<()> {
    let deadline = task
        .deadline
        .as_ref()
        .filter(|d| d.open && task.state != TaskState::Completed)
        .ok_or_else(|| Error::conflict("该任务已销号，不能延期"))?;
    let pending = task
        .extension_request
        .as_ref()
        .filter(|r| r.state == RequestState::Pending);
    let days = |body: &ActionBody| {
        body.days.ok_or_else(|| {
            Error::field(
                "days",
                format!("请填写延期天数（1 到 {MAX_EXTENSION_DAYS} 个工作日）"),
            )
        })
    };
    let store = &state.store;
    let (ctx, tenant) = (user.audit(), user.tenant.id.as_str());
    match (kind, pending) {
        ("request_extension", _) => {
            let refusal = "只有牵头单位的联络员可以申请延期";
            permitted(user, Action::ReportTasks, refusal)?;
            let unit_id = units
                .acting_unit(task)
                .ok_or_else(|| Error::client(StatusCode::FORBIDDEN, "forbidden", refusal))?;
            if unit_id != task.lead_unit_id {
                return Err(Error::field("unit_id", refusal));
            }
            let days = days(&body)?;
            store
                .request_extension(
                    &ctx,
                    tenant,
                    &NewExtensionRequest {
                        deadline_id: &deadline.id,
                        unit_id: Some(&unit_id),
                        days,
                        reason: &body.text,
                        max_days: MAX_EXTENSION_DAYS,
                    },
                )
                .await
                .map_err(reason_as_text)?;
        }
        ("refuse_extension", None) => {
            manager(user)?;
            return Err(Error::conflict("没有待审批的延期申请"));
        }
        ("refuse_extension", Some(request)) => {
            manager(user)?;
            store
                .refuse_extension(&ctx, tenant, &request.id, &body.text)
                .await?;
        }
        (_, Some(request)) => {
            manager(user)?;
            store
                .change_deadline(
                    &ctx,
                    tenant,
                    &deadline.id,
                    &DeadlineChange::ApproveRequest {
                        request_id: request.id.clone(),
                        days: body.days,
                        note: body.text,
                        max_days: MAX_EXTENSION_DAYS,
                    },
                )
                .await
                .map_err(reason_as_text)?;
        }
        (_, None) => {
            // the supervisor extends on their own motion
            manager(user)?;
            let days = days(&body)?;
            store
                .change_deadline(
                    &ctx,
                    tenant,
                    &deadline.id,
                    &DeadlineChange::Extend {
                        days,
                        reason: body.text,
                        max_days: MAX_EXTENSION_DAYS,
                    },
                )
                .await
                .map_err(reason_as_text)?;
        }
    }
    Ok(())
}

/// The kernel names an extension's reason `reason`; a task's action carries it as `text`.
fn reason_as_text(e: store::StoreError) -> Error {
    match e {
        store::StoreError::InvalidField {
            field: "reason",
            message,
        } => Error::field("text", message),
        other => other.into(),
    }
}

/// `POST /api/v1/tasks/{id}/actions`: `{"action": "report", "progress": 60, "text": "…"}`.
async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<ActionBody>, Error>,
) -> Result<Json<TaskJson>> {
    let user = reader(user)?;
    let units = Units::load(&state, &user).await?;
    task_of(&state, &user, &units, &id).await?;
    may_act(&user)?;
    let ApiJson(body) = body?;
    let task = take_step(&state, &user, &id, body, ReportFiles::default()).await?;
    Ok(Json(task_json(task, &units)))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let unit = json!({"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}});
    let task = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "number": {"type": "string"}, "measure": {"type": "string"},
        "title": {"type": "string"}, "description": {"type": "string"},
        "lead_unit": unit.clone(), "cooperating_units": {"type": "array", "items": unit},
        "state": {"type": "string", "enum": ["assigned", "in_progress", "submitted", "completed"]},
        "progress": {"type": "integer"}, "due_on": {"type": "string", "format": "date"},
        "due_at": {"type": ["string", "null"], "format": "date-time"},
        "card": {"type": "string", "enum": ["none", "yellow", "red"]},
        "provisional": {"type": "boolean"},
        "completed_at": {"type": ["string", "null"], "format": "date-time"},
        "extension_request": {"type": ["object", "null"], "properties": {
            "id": {"type": "string"}, "days": {"type": "integer"}, "reason": {"type": "string"},
            "state": {"type": "string", "enum": ["pending", "approved", "refused"]},
            "requested_at": {"type": "string", "format": "date-time"},
            "decided_at": {"type": ["string", "null"], "format": "date-time"},
            "decision_note": {"type": ["string", "null"]}}},
        "milestones": {"type": "array", "items": {"type": "object", "properties": {
            "seq": {"type": "integer"}, "title": {"type": "string"}, "due_on": {"type": "string", "format": "date"},
            "due_at": {"type": ["string", "null"], "format": "date-time"},
            "card": {"type": "string", "enum": ["none", "yellow", "red"]},
            "done_at": {"type": ["string", "null"], "format": "date-time"},
            "done_note": {"type": ["string", "null"]}}}}}});
    let id = path("id", "task id");
    let [page, per_page] = paging();
    let mut create = operation("Assign a task (supervisor).", &[], task.clone());
    create["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object",
        "required": ["number", "measure", "title", "lead_unit_id", "due_on"], "properties": {
        "number": {"type": "string"}, "measure": {"type": "string"}, "title": {"type": "string"},
        "description": {"type": "string"}, "lead_unit_id": {"type": "string"},
        "cooperating_unit_ids": {"type": "array", "items": {"type": "string"}},
        "due_on": {"type": "string", "format": "date"},
        "milestones": {"type": "array", "maxItems": 10, "items": {"type": "object", "required": ["title", "due_on"],
            "properties": {"title": {"type": "string"}, "due_on": {"type": "string", "format": "date"}}}}}}}}});
    let mut act = operation(
        "Report progress or ask for completion (a unit on the task); report a milestone reached or ask for the one extension (the lead unit); accept, send back, grant or refuse the extension, or extend on their own motion (supervisor).",
        std::slice::from_ref(&id),
        task.clone(),
    );
    act["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object",
        "required": ["action"], "properties": {
        "action": {"type": "string", "enum": ["report", "submit", "accept", "reject", "milestone",
            "request_extension", "extend", "refuse_extension"]},
        "milestone": {"type": "integer", "description": "milestone: its seq"},
        "attachment_ids": {"type": "array", "items": {"type": "string"},
            "description": "report, milestone, submit: files the same user uploaded to the task before, to come with the report"},
        "days": {"type": "integer", "minimum": 1, "maximum": 10, "description": "request_extension: days asked; extend: days granted (default: those asked)"},
        "progress": {"type": "integer", "minimum": 0, "maximum": 100}, "text": {"type": "string"}}}}}});
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/tasks".into(),
        json!({
            "get": operation("Tasks the user sees (a unit_admin: those with a unit in its subtree).", &[
                query("state", false, json!({"type": "string"}), "assigned, in_progress, submitted or completed"),
                query("card", false, json!({"type": "string"}), "none, yellow or red (open tasks)"),
                page, per_page], list_of(task.clone())),
            "post": create,
        }),
    );
    paths.insert(
        "/api/v1/tasks/{id}".into(),
        json!({"get": operation("One task.", std::slice::from_ref(&id), task)}),
    );
    paths.insert("/api/v1/tasks/{id}/actions".into(), json!({"post": act}));
    let file = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "file_name": {"type": "string"}, "content_type": {"type": "string"},
        "size": {"type": "integer"}, "sm3": {"type": "string"}, "url": {"type": "string"},
        "report_id": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"}}});
    let mut upload = operation(
        "Attach a file (pdf, jpg, png, docx, xlsx; ≤ 20 MB) to a task: a unit on it or the supervisor.",
        std::slice::from_ref(&id),
        file.clone(),
    );
    upload["requestBody"] = json!({"required": true, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}});
    paths.insert(
        "/api/v1/tasks/{id}/attachments".into(),
        json!({"get": operation("The task's attachments.", std::slice::from_ref(&id),
            json!({"type": "object", "properties": {"items": {"type": "array", "items": file}}})),
            "post": upload}),
    );
    paths.insert(
        "/api/v1/tasks/{id}/history".into(),
        json!({"get": operation("The task's timeline.", &[id], json!({"type": "object"}))}),
    );
    paths
}

// ---- pages ------------------------------------------------------------------------------

struct TaskLine {
    id: String,
    number: String,
    title: String,
    lead: String,
    state_key: String,
    card: &'static str,
    due_on: String,
    progress: i32,
}

impl TaskLine {
    fn new(t: &Task, units: &Units) -> Self {
        Self {
            id: t.id.clone(),
            number: t.number.clone(),
            title: t.title.clone(),
            lead: units.name(&t.lead_unit_id),
            state_key: format!("task.state.{}", t.state.as_str()),
            card: t.card().as_str(),
            due_on: t.due_on.to_string(),
            progress: t.progress,
        }
    }

    fn card_key(&self) -> String {
        format!("task.card.{}", self.card)
    }
}

#[derive(Template)]
#[template(path = "tasks.html")]
struct ListPage {
    layout: Layout,
    tasks: Vec<TaskLine>,
    total: i64,
    state: String,
    card: String,
    manage: bool,
}

/// `GET /tasks`
async fn list_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let units = Units::load(&state, &user).await?;
    let query = ListQuery {
        state: q.get("state").cloned(),
        card: q.get("card").cloned(),
        ..ListQuery::default()
    };
    let filter = query.filter(&units)?;
    let page = state
        .store
        .list_tasks(
            &user.tenant.id,
            &filter,
            PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
    render(&ListPage {
        layout: Layout::for_user("tasks.title", "tasks", &user),
        tasks: page
            .items
            .iter()
            .map(|t| TaskLine::new(t, &units))
            .collect(),
        total: page.total,
        state: query.state.unwrap_or_default(),
        card: query.card.unwrap_or_default(),
        manage: allows(&user.account, Action::ManageTasks),
    })
}

struct ReportLine {
    unit: String,
    progress: i32,
    text: String,
    at: String,
    /// (url, name) of the files that came with it.
    files: Vec<(String, String)>,
}

struct MilestoneLine {
    seq: i32,
    title: String,
    due: String,
    card: &'static str,
    done_at: Option<String>,
    note: String,
}

impl MilestoneLine {
    fn card_key(&self) -> String {
        format!("task.card.{}", self.card)
    }
}

#[derive(Template)]
#[template(path = "task_detail.html")]
struct DetailPage {
    layout: Layout,
    csrf: String,
    task: TaskLine,
    measure: String,
    description: String,
    lead: String,
    cooperating: Vec<String>,
    due_at: String,
    provisional: bool,
    reports: Vec<ReportLine>,
    timeline: Vec<TimelineLine>,
    /// (url, name, size in KB) of its attachments.
    files: Vec<(String, String, i64)>,
    may_attach: bool,
    /// (id, number, open) of its supervision notices.
    notices: Vec<(String, String, bool)>,
    may_report: bool,
    may_submit: bool,
    /// (seq, title, due, card, done at, note) of its milestones.
    milestones: Vec<MilestoneLine>,
    /// The lead unit's contact may report milestones reached.
    may_milestone: bool,
    may_decide: bool,
    /// The supervisor may grant the one extension (open task, not yet extended, no request
    /// waiting).
    may_extend: bool,
    /// The request waiting for the supervisor: (days, reason).
    pending_request: Option<(u32, String)>,
    /// The supervisor decides the waiting request.
    may_decide_request: bool,
    /// The lead unit's contact may ask for the extension.
    may_request: bool,
    /// The latest decided request: (approved, days, note).
    decided_request: Option<(bool, u32, String)>,
    error: Option<String>,
}

async fn detail(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    error: Option<String>,
) -> Result<DetailPage> {
    let units = Units::load(state, user).await?;
    let task = task_of(state, user, &units, id).await?;
    let attachments = state
        .store
        .attachments_of(&user.tenant.id, "task", id)
        .await?;
    let reports = state
        .store
        .task_reports(&user.tenant.id, id)
        .await?
        .into_iter()
        .map(|r| ReportLine {
            unit: units.name(&r.unit_id),
            progress: r.progress,
            at: crate::list::local_minute(r.at),
            files: attachments
                .iter()
                .filter(|a| a.report_id.as_deref() == Some(r.id.as_str()))
                .map(|a| (format!("/attachments/{}", a.id), a.file_name.clone()))
                .collect(),
            text: r.text,
        })
        .collect();
    let open = matches!(task.state, TaskState::Assigned | TaskState::InProgress);
    let reporter = allows(&user.account, Action::ReportTasks);
    let manages = allows(&user.account, Action::ManageTasks);
    let extendable = task.state != TaskState::Completed
        && task
            .deadline
            .as_ref()
            .is_some_and(|d| d.open && d.deadline.extension.is_none());
    let pending = task
        .extension_request
        .clone()
        .filter(|r| r.state == RequestState::Pending);
    let acting = units.acting_unit(&task);
    Ok(DetailPage {
        layout: Layout::for_user("tasks.title", "tasks", user).titled(task.title.clone()),
        csrf: user.csrf_token.clone(),
        measure: task.measure.clone(),
        description: task.description.clone(),
        lead: units.name(&task.lead_unit_id),
        cooperating: task
            .cooperating_unit_ids
            .iter()
            .map(|u| units.name(u))
            .collect(),
        due_at: task
            .deadline
            .as_ref()
            .map(|d| crate::list::local_minute(d.due_at))
            .unwrap_or_default(),
        provisional: task.deadline.as_ref().is_some_and(|d| d.provisional),
        reports,
        timeline: timeline(state, &user.tenant.id, "task", id, Reader::Staff).await?,
        files: attachments
            .into_iter()
            .map(|a| {
                (
                    format!("/attachments/{}", a.id),
                    a.file_name,
                    (a.size + 1023) / 1024,
                )
            })
            .collect(),
        may_attach: task.state != TaskState::Completed
            && (allows(&user.account, Action::ManageTasks) || (reporter && acting.is_some())),
        notices: state
            .store
            .list_notices(
                &user.tenant.id,
                &store::notice::NoticeFilter {
                    record: Some(("task".to_owned(), id.to_owned())),
                    ..Default::default()
                },
                PageRequest::default(),
            )
            .await?
            .items
            .into_iter()
            .map(|n| (n.id, n.number, n.closed_at.is_none()))
            .collect(),
        milestones: task
            .milestones
            .iter()
            .map(|m| MilestoneLine {
                seq: m.seq,
                title: m.title.clone(),
                due: m
                    .deadline
                    .as_ref()
                    .map(|d| crate::list::local_minute(d.due_at))
                    .unwrap_or_else(|| m.due_on.to_string()),
                card: m.card().as_str(),
                done_at: m.done_at.map(crate::list::local_minute),
                note: m.done_note.clone().unwrap_or_default(),
            })
            .collect(),
        may_milestone: reporter && open && acting.as_deref() == Some(task.lead_unit_id.as_str()),
        may_report: reporter && open && acting.is_some(),
        may_submit: reporter && open && acting.as_deref() == Some(task.lead_unit_id.as_str()),
        may_decide: allows(&user.account, Action::ManageTasks)
            && task.state == TaskState::Submitted,
        may_extend: extendable && manages && pending.is_none(),
        may_decide_request: manages && pending.is_some() && extendable,
        may_request: extendable
            && pending.is_none()
            && reporter
            && acting.as_deref() == Some(task.lead_unit_id.as_str()),
        pending_request: pending.map(|r| (r.days, r.reason.clone())),
        decided_request: task
            .extension_request
            .as_ref()
            .filter(|r| r.state != RequestState::Pending)
            .map(|r| {
                (
                    r.state == RequestState::Approved,
                    r.days,
                    r.decision_note.clone().unwrap_or_default(),
                )
            }),
        task: TaskLine::new(&task, &units),
        error,
    })
}

/// `GET /tasks/{id}`
async fn detail_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    render(&detail(&state, &user, &id, None).await?)
}

/// `POST /tasks/{id}/action`: the forms of the detail page.
async fn action_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let units = Units::load(&state, &user).await?;
    task_of(&state, &user, &units, &id).await?;
    may_act(&user)?;
    match action_body(&form) {
        Ok(body) => page_step(&state, &user, &id, body, ReportFiles::default()).await,
        Err(e) => page_refusal(&state, &user, &id, e).await,
    }
}

/// `POST /tasks/{id}/report`: the report forms of the detail page (progress, milestone,
/// completion request), multipart with an optional file that comes with the report.
async fn report_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let units = Units::load(&state, &user).await?;
    task_of(&state, &user, &units, &id).await?;
    may_act(&user)?;
    let received = crate::attachment::read_form_with_files(&state, &user.tenant.id, multipart)
        .await
        .map(|(form, new)| {
            (
                form,
                ReportFiles {
                    linked: Vec::new(),
                    new,
                },
            )
        });
    match received.and_then(|(form, files)| Ok((action_body(&form)?, files))) {
        Ok((body, files)) => page_step(&state, &user, &id, body, files).await,
        Err(e) => page_refusal(&state, &user, &id, e).await,
    }
}

/// The detail page again with the refusal's message and status; a 404 stays a 404.
async fn page_refusal(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    e: Error,
) -> Result<Response, PageError> {
    if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND {
        let status = e.status();
        render_status(
            &detail(state, user, id, Some(e.message().to_owned())).await?,
            status,
        )
    } else {
        Err(PageError(e))
    }
}

/// Takes a step from a page form: back to the task, or the page with the refusal.
async fn page_step(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    body: ActionBody,
    files: ReportFiles,
) -> Result<Response, PageError> {
    match take_step(state, user, id, body, files).await {
        Ok(_) => Ok(see_other(&format!("/tasks/{id}"))),
        Err(e) => page_refusal(state, user, id, e).await,
    }
}

/// The action a page form asks for.
fn action_body(form: &[(String, String)]) -> Result<ActionBody> {
    let progress = form_value(form, "progress");
    let days = form_value(form, "days");
    let milestone = form_value(form, "milestone");
    let body = ActionBody {
        milestone: milestone.parse().ok(),
        days: if days.is_empty() {
            None
        } else {
            Some(
                days.parse()
                    .map_err(|_| Error::field("days", "延期天数应为整数"))?,
            )
        },
        action: Some(form_value(form, "action")),
        progress: if progress.is_empty() {
            None
        } else {
            Some(
                progress
                    .parse()
                    .map_err(|_| Error::field("progress", "进度应为 0 到 100 的整数"))?,
            )
        },
        text: form_value(form, "text"),
        attachment_ids: Vec::new(),
    };
    Ok(body)
}

#[derive(Template)]
#[template(path = "task_form.html")]
struct FormPage {
    layout: Layout,
    csrf: String,
    number: String,
    measure: String,
    title: String,
    description: String,
    lead_unit_id: String,
    cooperating: Vec<String>,
    due_on: String,
    /// Milestone rows: (title, due on), a few blank ones to fill.
    milestones: Vec<(String, String)>,
    /// Departments and streets: (id, name).
    choices: Vec<(String, String)>,
    errors: FormErrors,
}

impl FormPage {
    fn is_cooperating(&self, id: &str) -> bool {
        self.cooperating.iter().any(|c| c == id)
    }
}

/// Milestone rows the new-task form offers.
const BLANK_MILESTONES: usize = 5;

/// Every value of `name` in a form, in order, blanks included (rows of fields).
fn form_all(form: &[(String, String)], name: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .collect()
}

async fn blank_form(state: &AppState, user: &CurrentUser) -> Result<FormPage> {
    let units = Units::load(state, user).await?;
    let mut choices: Vec<&Unit> = units
        .by_id
        .values()
        .filter(|u| u.active && u.kind != domain::org::UnitKind::Window)
        .filter(|u| {
            matches!(
                u.kind,
                domain::org::UnitKind::DistrictOffice
                    | domain::org::UnitKind::Department
                    | domain::org::UnitKind::Street
            )
        })
        .collect();
    choices.sort_by_key(|u| (u.kind, u.sort_order, u.code.clone()));
    Ok(FormPage {
        layout: Layout::for_user("tasks.new.title", "tasks", user),
        csrf: user.csrf_token.clone(),
        number: String::new(),
        measure: String::new(),
        title: String::new(),
        description: String::new(),
        lead_unit_id: String::new(),
        cooperating: Vec::new(),
        due_on: String::new(),
        milestones: vec![(String::new(), String::new()); BLANK_MILESTONES],
        choices: choices
            .into_iter()
            .map(|u| (u.id.clone(), u.name.clone()))
            .collect(),
        errors: FormErrors::default(),
    })
}

/// `GET /tasks/new`
async fn new_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    manager(&user)?;
    render(&blank_form(&state, &user).await?)
}

/// `POST /tasks/new`
async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    manager(&user)?;
    let mut page = blank_form(&state, &user).await?;
    page.number = form_value(&form, "number");
    page.measure = form_value(&form, "measure");
    page.title = form_value(&form, "title");
    page.description = form_value(&form, "description");
    page.lead_unit_id = form_value(&form, "lead_unit_id");
    page.due_on = form_value(&form, "due_on");
    page.cooperating = form
        .iter()
        .filter(|(k, v)| k == "cooperating_unit_ids" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    let titles = form_all(&form, "milestone_title");
    let dues = form_all(&form, "milestone_due_on");
    page.milestones = titles.into_iter().zip(dues).collect();
    let filled: Vec<MilestoneBody> = page
        .milestones
        .iter()
        .filter(|(t, d)| !t.trim().is_empty() || !d.trim().is_empty())
        .map(|(title, due_on)| MilestoneBody {
            title: title.clone(),
            due_on: due_on.clone(),
        })
        .collect();
    if page.milestones.len() < BLANK_MILESTONES {
        page.milestones
            .resize(BLANK_MILESTONES, (String::new(), String::new()));
    }
    let body = NewTaskBody {
        milestones: filled,
        number: Some(page.number.clone()),
        measure: Some(page.measure.clone()),
        title: Some(page.title.clone()),
        description: page.description.clone(),
        lead_unit_id: Some(page.lead_unit_id.clone()),
        cooperating_unit_ids: page.cooperating.clone(),
        due_on: Some(page.due_on.clone()),
    };
    let created = match body.into_new() {
        Ok(new) => state
            .store
            .create_task(&user.audit(), &user.tenant.id, &new)
            .await
            .map_err(Error::from),
        Err(e) => Err(e),
    };
    match created {
        Ok(task) => Ok(see_other(&format!("/tasks/{}", task.id))),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            page.errors = errors;
            render_status(&page, status)
        }
    }
}
