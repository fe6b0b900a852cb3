//! Appeals (诉求): the JSON API. Intake from the public (no account, a tracking code to
//! follow it), an enterprise account, and staff at the hall or on the 书记直通车 line; the
//! steps of the workflow; callbacks; the three rates. Which appeals a user sees is the policy
//! module's [`appeal_visibility`], applied in SQL by the store; the submitter's identity is
//! never in these answers except on the supervisor's audited `/submitter` read.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use domain::appeal::{AppealAction, AppealState, Counts, Kind, Satisfaction, Source, Weights};
use domain::history::Reader;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::appeal::{
    Appeal, AppealFilter, AppealStep, AppealVisibility, Category, FigureGroup, NewAppeal,
};

use crate::auth::{CurrentUser, MaybeUser, PublicAudit};
use crate::error::{Error, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::policy::{Action, Scope, allows, appeal_visibility, permitted, scope, visible_to};
use crate::routes::Routes;
use crate::state::AppState;
use crate::task::Units;
use crate::tenant::CurrentTenant;
use crate::timeline::timeline;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/appeal-categories", list_categories)
        .post("/api/v1/appeal-categories", save_category)
        .post("/api/v1/appeal-routes", set_route)
        .get("/api/v1/appeal-limits", limits)
        .route(axum::http::Method::PUT, "/api/v1/appeal-limits", set_limits)
        .get("/api/v1/appeals", list_appeals)
        .post("/api/v1/appeals", create_appeal)
        .get("/api/v1/appeals/figures", figures)
        .post(
            "/api/v1/appeals/import",
            crate::import::appeals_api.layer(crate::import::body_limit()),
        )
        .get("/api/v1/appeals/{id}", show_appeal)
        .post("/api/v1/appeals/{id}/actions", act)
        .post("/api/v1/appeals/{id}/cohandle", cohandle)
        .post("/api/v1/appeals/{id}/deadline", change_deadline)
        .get("/api/v1/appeals/{id}/attachments", appeal_files)
        .post(
            "/api/v1/appeals/{id}/attachments",
            attach_file.layer(crate::attachment::body_limit()),
        )
        .get("/api/v1/appeals/{id}/history", history)
        .get("/api/v1/appeals/{id}/submitter", submitter)
        .post("/api/v1/public/appeals", submit_public)
        .get("/api/v1/public/appeals/{code}", track)
}

// ---- who sees what ------------------------------------------------------------------------

/// The user with their units (a `unit_admin`'s subtree) and the appeals they see.
pub(crate) struct AppealReader {
    pub(crate) user: CurrentUser,
    pub(crate) units: Units,
    pub(crate) vis: AppealVisibility,
}

impl AppealReader {
    /// The reader, if they may read appeals at all (else 404).
    pub(crate) async fn load(state: &AppState, user: CurrentUser) -> Result<Self> {
        let user = visible_to(user, Action::ReadAppeals)?;
        let units = Units::load_for(state, &user, Action::HandleAppeals).await?;
        let subtree = if allows(&user.account, Action::HandleAppeals) {
            units.scope.clone()
        } else {
            None
        };
        let vis = appeal_visibility(&user.account, subtree);
        Ok(Self { user, units, vis })
    }

    pub(crate) fn tenant(&self) -> &str {
        &self.user.tenant.id
    }

    /// The appeal, if the reader sees it (else 404).
    pub(crate) async fn appeal(&self, state: &AppState, id: &str) -> Result<Appeal> {
        state
            .store
            .visible_appeal(self.tenant(), &self.vis, id)
            .await?
            .ok_or_else(Error::not_found)
    }

    /// The unit of the reader's subtree through which they take a unit's step: the lead unit
    /// when it is theirs, else their own unit (which the domain then refuses).
    pub(crate) fn acting_unit(&self, appeal: &Appeal) -> Option<String> {
        if !allows(&self.user.account, Action::HandleAppeals) {
            return None;
        }
        let ids = self.units.scope.as_ref()?;
        appeal
            .lead_unit_id
            .as_ref()
            .filter(|u| ids.contains(u))
            .cloned()
            .or_else(|| self.user.account.unit_id.clone())
    }

    /// Staff read the whole timeline with names; an enterprise reads its own appeal as its
    /// submitter does.
    pub(crate) fn timeline_reader(&self) -> Reader {
        if self.vis.all || self.vis.units.is_some() {
            Reader::Staff
        } else {
            Reader::Submitter
        }
    }

    /// The co-handling unit of the reader's subtree, if any.
    pub(crate) fn cohandling_unit(&self, appeal: &Appeal) -> Option<String> {
        if !allows(&self.user.account, Action::HandleAppeals) {
            return None;
        }
        let ids = self.units.scope.as_ref()?;
        appeal
            .cohandlers
            .iter()
            .find(|c| ids.contains(&c.unit_id))
            .map(|c| c.unit_id.clone())
    }
}

/// Whether the user sees the appeal (its attachments follow it).
pub(crate) async fn sees_appeal(state: &AppState, user: &CurrentUser, id: &str) -> Result<bool> {
    if !allows(&user.account, Action::ReadAppeals) {
        return Ok(false);
    }
    let r = AppealReader::load(state, user.clone()).await?;
    Ok(r.appeal(state, id).await.is_ok())
}

// ---- JSON ---------------------------------------------------------------------------------

#[derive(Serialize)]
struct UnitRef {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct DeadlineJson {
    step: String,
    due_at: String,
    card: &'static str,
    provisional: bool,
    paused: bool,
    open: bool,
    met_at: Option<String>,
    worked_minutes: Option<i64>,
}

#[derive(Serialize)]
struct CohandlerJson {
    unit: UnitRef,
    part: Option<String>,
    done_at: Option<String>,
}

/// An appeal as staff and the submitting enterprise read it: no identity.
#[derive(Serialize)]
struct AppealJson {
    id: String,
    number: String,
    kind: &'static str,
    source: &'static str,
    category_code: String,
    street: Option<UnitRef>,
    enterprise_id: Option<String>,
    title: String,
    content: String,
    address: String,
    publish: bool,
    secretary: bool,
    has_submitter: bool,
    state: &'static str,
    state_label: &'static str,
    proposed_unit: Option<UnitRef>,
    lead_unit: Option<UnitRef>,
    cohandlers: Vec<CohandlerJson>,
    returns: u32,
    reopens: u32,
    missed_callbacks: u32,
    return_reason: Option<String>,
    reply: Option<String>,
    status_notes: String,
    received_at: String,
    dispatched_at: Option<String>,
    accept_due_at: Option<String>,
    accepted_at: Option<String>,
    accept_minutes: Option<i64>,
    accept_on_time: Option<bool>,
    reply_due_at: Option<String>,
    replied_at: Option<String>,
    reply_minutes: Option<i64>,
    reply_on_time: Option<bool>,
    called_back_at: Option<String>,
    callback: Option<Value>,
    closed_at: Option<String>,
    due_at: Option<String>,
    card: &'static str,
    deadlines: Vec<DeadlineJson>,
    /// Only for the enterprise that submitted it.
    tracking_code: Option<String>,
}

fn unit_ref(units: &Units, id: &str) -> UnitRef {
    UnitRef {
        id: id.to_owned(),
        name: units.name(id),
    }
}

fn appeal_json(a: Appeal, units: &Units, own: bool) -> AppealJson {
    let running = a.deadline().map(|d| (timestamp(d.due_at), d.card.as_str()));
    AppealJson {
        kind: a.kind.as_str(),
        source: a.source.as_str(),
        street: a.street_id.as_deref().map(|u| unit_ref(units, u)),
        state: a.state.as_str(),
        state_label: a.state.label(),
        proposed_unit: a.proposed_unit_id.as_deref().map(|u| unit_ref(units, u)),
        lead_unit: a.lead_unit_id.as_deref().map(|u| unit_ref(units, u)),
        cohandlers: a
            .cohandlers
            .iter()
            .map(|c| CohandlerJson {
                unit: unit_ref(units, &c.unit_id),
                part: c.part.clone(),
                done_at: c.done_at.map(timestamp),
            })
            .collect(),
        received_at: timestamp(a.received_at),
        dispatched_at: a.dispatched_at.map(timestamp),
        accept_due_at: a.accept_due_at.map(timestamp),
        accepted_at: a.accepted_at.map(timestamp),
        reply_due_at: a.reply_due_at.map(timestamp),
        replied_at: a.replied_at.map(timestamp),
        called_back_at: a.called_back_at.map(timestamp),
        callback: a.callback_contacted.map(|contacted| {
            json!({"contacted": contacted, "resolved": a.callback_resolved,
                "process": a.callback_process.map(Satisfaction::as_str),
                "result": a.callback_result.map(Satisfaction::as_str)})
        }),
        closed_at: a.closed_at.map(timestamp),
        due_at: running.as_ref().map(|r| r.0.clone()),
        card: running.map_or("none", |r| r.1),
        deadlines: a
            .deadlines
            .iter()
            .map(|d| DeadlineJson {
                step: d.step.clone(),
                due_at: timestamp(d.due_at),
                card: d.card.as_str(),
                provisional: d.provisional,
                paused: d.paused,
                open: d.open,
                met_at: d.met_at.map(timestamp),
                worked_minutes: d.worked_minutes,
            })
            .collect(),
        tracking_code: own.then(|| a.tracking_code.clone()),
        id: a.id,
        number: a.number,
        category_code: a.category_code,
        enterprise_id: a.enterprise_id,
        title: a.title,
        content: a.content,
        address: a.address,
        publish: a.publish,
        secretary: a.secretary,
        has_submitter: a.has_submitter,
        returns: a.returns,
        reopens: a.reopens,
        missed_callbacks: a.missed_callbacks,
        return_reason: a.return_reason,
        reply: a.reply,
        status_notes: a.status_notes,
        accept_minutes: a.accept_minutes,
        accept_on_time: a.accept_on_time,
        reply_minutes: a.reply_minutes,
        reply_on_time: a.reply_on_time,
    }
}

fn json_for(r: &AppealReader, a: Appeal) -> AppealJson {
    let own = a.submitter_account_id.as_deref() == Some(r.user.account.id.as_str());
    appeal_json(a, &r.units, own)
}

// ---- categories and routes ----------------------------------------------------------------

fn category_json(c: &Category) -> Value {
    json!({"code": c.code, "name": c.name, "description": c.description, "unit_id": c.unit_id,
        "sort_order": c.sort_order, "active": c.active})
}

/// `GET /api/v1/appeal-categories`: public, as the forms and Open311 clients need them; the
/// supervisor also sees the inactive ones with `?all=true`.
async fn list_categories(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    MaybeUser(user): MaybeUser,
    ApiQuery(q): ApiQuery<CategoryQuery>,
) -> Result<Json<Value>> {
    let all = q.all.as_deref() == Some("true")
        && user
            .as_ref()
            .is_some_and(|u| allows(&u.account, Action::ManageAppeals));
    let items: Vec<Value> = state
        .store
        .appeal_categories(&tenant.tenant.id, !all)
        .await?
        .iter()
        .map(category_json)
        .collect();
    Ok(Json(json!({"items": items})))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CategoryQuery {
    all: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryBody {
    code: String,
    name: String,
    #[serde(default)]
    description: String,
    unit_id: Option<String>,
    #[serde(default)]
    sort_order: i64,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

/// `POST /api/v1/appeal-categories`: add or change a category (the supervisor).
async fn save_category(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<CategoryBody>, Error>,
) -> Result<Json<Value>> {
    let user = visible_to(user, Action::ManageAppeals)?;
    let ApiJson(b) = body?;
    let saved = state
        .store
        .save_appeal_category(
            &user.audit(),
            &user.tenant.id,
            &Category {
                code: b.code,
                name: b.name,
                description: b.description,
                unit_id: b.unit_id.filter(|u| !u.trim().is_empty()),
                sort_order: b.sort_order,
                active: b.active,
            },
        )
        .await?;
    Ok(Json(category_json(&saved)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteBody {
    category_code: String,
    street_id: String,
    unit_id: Option<String>,
}

/// `POST /api/v1/appeal-routes`: a category in a street goes to this lead unit (`unit_id`
/// null: back to the category's default).
async fn set_route(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<RouteBody>, Error>,
) -> Result<StatusCode> {
    let user = visible_to(user, Action::ManageAppeals)?;
    let ApiJson(b) = body?;
    state
        .store
        .set_appeal_route(
            &user.audit(),
            &user.tenant.id,
            &b.category_code,
            &b.street_id,
            b.unit_id.as_deref().filter(|u| !u.trim().is_empty()),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/appeal-limits`: the tenant's step limits (the supervisor).
async fn limits(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<domain::appeal::Limits>> {
    let user = visible_to(user, Action::ManageAppeals)?;
    Ok(Json(state.store.appeal_limits(&user.tenant.id).await?))
}

/// `PUT /api/v1/appeal-limits`: sets them (fields left out keep the SPEC defaults); deadlines
/// opened from now on follow them.
async fn set_limits(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<domain::appeal::Limits>, Error>,
) -> Result<Json<domain::appeal::Limits>> {
    let user = visible_to(user, Action::ManageAppeals)?;
    let ApiJson(limits) = body?;
    state
        .store
        .set_appeal_limits(&user.audit(), &user.tenant.id, &limits)
        .await?;
    Ok(Json(limits))
}

// ---- intake -------------------------------------------------------------------------------

/// What every intake form and endpoint receives.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppealBody {
    pub(crate) kind: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) category_code: Option<String>,
    pub(crate) street_id: Option<String>,
    pub(crate) enterprise_id: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) content: Option<String>,
    #[serde(default)]
    pub(crate) address: String,
    #[serde(default)]
    pub(crate) publish: bool,
    pub(crate) submitter_name: Option<String>,
    pub(crate) submitter_phone: Option<String>,
    pub(crate) external_id: Option<String>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|v| !v.trim().is_empty())
}

impl AppealBody {
    /// The appeal to receive through `source` (the caller decides which sources a user may
    /// name).
    pub(crate) fn into_new(self, source: Source, account_id: Option<String>) -> Result<NewAppeal> {
        let kind: Kind = nonempty(self.kind)
            .ok_or_else(|| Error::field("kind", "请选择诉求类型"))?
            .parse()
            .map_err(|e: String| Error::field("kind", e))?;
        Ok(NewAppeal {
            kind,
            source,
            category_code: nonempty(self.category_code)
                .ok_or_else(|| Error::field("category_code", "请选择诉求类别"))?,
            street_id: nonempty(self.street_id),
            enterprise_id: nonempty(self.enterprise_id),
            title: self.title.unwrap_or_default(),
            content: self.content.unwrap_or_default(),
            address: self.address,
            publish: self.publish,
            submitter_name: nonempty(self.submitter_name),
            submitter_phone: nonempty(self.submitter_phone),
            submitter_account_id: account_id,
            external_id: nonempty(self.external_id),
        })
    }
}

/// The source a staff user names: the hall by default; 书记直通车, duty, meeting, visit and
/// hotline entries too; never the channels that have their own door (portal, Open311).
pub(crate) fn staff_source(named: Option<&str>) -> Result<Source> {
    let source: Source = match named.map(str::trim).filter(|s| !s.is_empty()) {
        None => Source::Hall,
        Some(s) => s.parse().map_err(|e: String| Error::field("source", e))?,
    };
    if matches!(source, Source::Portal | Source::Open311) {
        return Err(Error::field(
            "source",
            "网上提交和接口诉求由诉求人自行提交，不能代为登记",
        ));
    }
    Ok(source)
}

/// `POST /api/v1/appeals`: an enterprise's own appeal (source portal), or an entry by staff
/// at the hall or on the 书记直通车 line.
async fn create_appeal(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<AppealBody>, Error>,
) -> Result<Response> {
    let a = &user.account;
    // staff enter appeals for others; an enterprise submits its own
    let own = if allows(a, Action::RecordAppeals) {
        false
    } else if allows(a, Action::SubmitAppeals) {
        true
    } else {
        return Err(Error::not_found());
    };
    let ApiJson(body) = body?;
    let new = if own {
        if body.source.as_deref().is_some_and(|s| !s.trim().is_empty()) {
            return Err(Error::field("source", "企业提交的诉求来源为网上提交"));
        }
        body.into_new(Source::Portal, Some(a.id.clone()))?
    } else {
        let source = staff_source(body.source.as_deref())?;
        body.into_new(source, None)?
    };
    let created = state
        .store
        .create_appeal(&user.audit(), &user.tenant.id, &new)
        .await?;
    let receipt = json!({"id": created.id, "number": created.number, "tracking_code": created.tracking_code,
        "state": created.state.as_str()});
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// `POST /api/v1/public/appeals`: anyone, without an account; a phone is required. Answers
/// the number and the tracking code to follow it by.
async fn submit_public(
    State(state): State<AppState>,
    tenant: CurrentTenant,
    PublicAudit(ctx): PublicAudit,
    body: Result<ApiJson<AppealBody>, Error>,
) -> Result<Response> {
    let ApiJson(body) = body?;
    if body.source.as_deref().is_some_and(|s| !s.trim().is_empty()) {
        return Err(Error::field("source", "网上提交的诉求来源为网上提交"));
    }
    let new = body.into_new(Source::Portal, None)?;
    let created = state
        .store
        .create_appeal(&ctx, &tenant.tenant.id, &new)
        .await?;
    let receipt = json!({"number": created.number, "tracking_code": created.tracking_code,
        "state": created.state.as_str()});
    Ok((StatusCode::CREATED, Json(receipt)).into_response())
}

/// What a submitter reads by tracking code: no staff names, no identity, public entries only.
pub(crate) async fn tracking_json(state: &AppState, tenant_id: &str, a: &Appeal) -> Result<Value> {
    let units = state.store.units(tenant_id).await?;
    let name = |id: &Option<String>| {
        id.as_ref()
            .and_then(|id| units.iter().find(|u| &u.id == id))
            .map(|u| u.name.clone())
    };
    let items = timeline(state, tenant_id, "appeal", &a.id, Reader::Submitter).await?;
    Ok(
        json!({"number": a.number, "kind": a.kind.as_str(), "category_code": a.category_code,
        "state": a.state.as_str(), "state_label": a.state.label(), "received_at": timestamp(a.received_at),
        "lead_unit": name(&a.lead_unit_id), "status_notes": a.status_notes,
        "reply": a.reply, "replied_at": a.replied_at.map(timestamp), "closed_at": a.closed_at.map(timestamp),
        "history": items}),
    )
}

/// `GET /api/v1/public/appeals/{code}`: the submitter follows their appeal.
async fn track(State(state): State<AppState>, Path(code): Path<String>) -> Result<Json<Value>> {
    let (tenant_id, appeal) = state
        .store
        .appeal_by_tracking_code(&code)
        .await?
        .ok_or_else(|| {
            Error::client(
                StatusCode::NOT_FOUND,
                "not_found",
                "查询码不存在，请核对后重新输入",
            )
        })?;
    Ok(Json(tracking_json(&state, &tenant_id, &appeal).await?))
}

// ---- reading ------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct AppealQuery {
    pub(crate) state: Option<String>,
    pub(crate) open: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) category_code: Option<String>,
    pub(crate) unit_id: Option<String>,
    pub(crate) street_id: Option<String>,
    pub(crate) secretary: Option<String>,
    pub(crate) overdue: Option<String>,
    pub(crate) q: Option<String>,
    pub(crate) page: Option<String>,
    pub(crate) per_page: Option<String>,
}

fn flag(name: &str, value: Option<&str>) -> Result<bool> {
    match value.map(str::trim) {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(Error::bad_param(name, format!("{name} 应为 true 或 false"))),
    }
}

/// A query parameter naming one of a closed set (state, kind, source); blank is none.
fn named<T: std::str::FromStr<Err = String>>(name: &str, v: &Option<String>) -> Result<Option<T>> {
    nonempty(v.clone())
        .map(|s| s.parse::<T>())
        .transpose()
        .map_err(|e| Error::bad_param(name, e))
}

impl AppealQuery {
    pub(crate) fn filter(&self) -> Result<AppealFilter> {
        Ok(AppealFilter {
            state: named("state", &self.state)?,
            open: flag("open", self.open.as_deref())?,
            kind: named("kind", &self.kind)?,
            source: named("source", &self.source)?,
            category_code: nonempty(self.category_code.clone()),
            unit_id: nonempty(self.unit_id.clone()),
            street_id: nonempty(self.street_id.clone()),
            secretary: flag("secretary", self.secretary.as_deref())?,
            overdue: flag("overdue", self.overdue.as_deref())?,
            q: nonempty(self.q.clone()),
            ..AppealFilter::default()
        })
    }
}

/// `GET /api/v1/appeals`
async fn list_appeals(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<AppealQuery>,
) -> Result<Json<ListBody<AppealJson>>> {
    let r = AppealReader::load(&state, user).await?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_appeals(r.tenant(), &r.vis, &q.filter()?, request)
        .await?;
    Ok(Json(ListBody::from_page(page, |a| json_for(&r, a))))
}

/// `GET /api/v1/appeals/{id}`
async fn show_appeal(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<AppealJson>> {
    let r = AppealReader::load(&state, user).await?;
    let a = r.appeal(&state, &id).await?;
    Ok(Json(json_for(&r, a)))
}

/// `GET /api/v1/appeals/{id}/history`: staff read every entry; the submitting enterprise the
/// public ones without names.
async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let r = AppealReader::load(&state, user).await?;
    r.appeal(&state, &id).await?;
    let items = timeline(&state, r.tenant(), "appeal", &id, r.timeline_reader()).await?;
    Ok(Json(json!({"items": items})))
}

/// `GET /api/v1/appeals/{id}/submitter`: the supervisor reads the submitter's name and
/// phone; each read is audited. Anyone else: 404.
async fn submitter(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let user = visible_to(user, Action::ReadAppealSubmitter)?;
    let r = AppealReader::load(&state, user).await?;
    r.appeal(&state, &id).await?;
    let s = state
        .store
        .appeal_submitter(&r.user.audit(), r.tenant(), &id)
        .await?;
    Ok(Json(json!({"name": s.name, "phone": s.phone})))
}

// ---- steps --------------------------------------------------------------------------------

/// A step as the API and the pages receive it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionBody {
    pub(crate) action: Option<String>,
    pub(crate) unit_id: Option<String>,
    #[serde(default)]
    pub(crate) cohandler_ids: Vec<String>,
    #[serde(default)]
    pub(crate) note: String,
    #[serde(default)]
    pub(crate) reason: String,
    #[serde(default)]
    pub(crate) reply: String,
    #[serde(default)]
    pub(crate) status_notes: String,
    pub(crate) contacted: Option<bool>,
    pub(crate) resolved: Option<bool>,
    pub(crate) process: Option<String>,
    pub(crate) result: Option<String>,
}

fn satisfaction(field: &str, v: Option<String>) -> Result<Option<Satisfaction>> {
    nonempty(v)
        .map(|s| s.parse::<Satisfaction>())
        .transpose()
        .map_err(|e| Error::field(field, e))
}

/// 403 for a reader who takes no step on appeals at all (leaders, enterprises).
pub(crate) fn may_act(user: &CurrentUser) -> Result<()> {
    if allows(&user.account, Action::ManageAppeals) || allows(&user.account, Action::HandleAppeals)
    {
        Ok(())
    } else {
        Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "只有督查人员和承办单位可以办理诉求",
        ))
    }
}

/// Checks who takes the step (the supervisor's steps need [`Action::ManageAppeals`], the
/// unit's [`Action::HandleAppeals`]) and takes it through the store.
pub(crate) async fn take_step(
    state: &AppState,
    r: &AppealReader,
    appeal: &Appeal,
    body: ActionBody,
) -> Result<Appeal> {
    let action: AppealAction = nonempty(body.action)
        .ok_or_else(|| Error::field("action", "请选择操作"))?
        .parse()
        .map_err(|e: String| Error::field("action", e))?;
    let unit_step = matches!(
        action,
        AppealAction::Accept | AppealAction::Return | AppealAction::Reply
    );
    if unit_step {
        permitted(
            &r.user,
            Action::HandleAppeals,
            "只有主办单位的联络员可以受理、退回和答复诉求",
        )?;
    } else {
        permitted(
            &r.user,
            Action::ManageAppeals,
            "只有督查人员可以派发、回访、办结和重办诉求",
        )?;
    }
    let acting = r.acting_unit(appeal);
    let step = match action {
        AppealAction::Dispatch => AppealStep::Dispatch {
            unit_id: nonempty(body.unit_id)
                .or_else(|| appeal.proposed_unit_id.clone())
                .ok_or_else(|| Error::field("unit_id", "请选择主办单位"))?,
            cohandler_ids: body
                .cohandler_ids
                .into_iter()
                .filter(|u| !u.trim().is_empty())
                .collect(),
            note: body.note,
        },
        AppealAction::Accept => AppealStep::Accept {
            unit_id: acting,
            note: body.note,
        },
        AppealAction::Return => AppealStep::Return {
            unit_id: acting,
            reason: if body.reason.trim().is_empty() {
                body.note
            } else {
                body.reason
            },
        },
        AppealAction::Reply => AppealStep::Reply {
            unit_id: acting,
            reply: body.reply,
            status_notes: body.status_notes,
        },
        AppealAction::Callback => AppealStep::Callback {
            contacted: body
                .contacted
                .ok_or_else(|| Error::field("contacted", "请选择是否联系上诉求人"))?,
            resolved: body.resolved,
            process: satisfaction("process", body.process)?,
            result: satisfaction("result", body.result)?,
            note: body.note,
        },
        AppealAction::Close => AppealStep::Close { note: body.note },
        AppealAction::Reopen => AppealStep::Reopen { note: body.note },
    };
    Ok(state
        .store
        .act_on_appeal(&r.user.audit(), r.tenant(), &appeal.id, &step)
        .await?)
}

/// `POST /api/v1/appeals/{id}/actions`
async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<ActionBody>, Error>,
) -> Result<Json<AppealJson>> {
    let r = AppealReader::load(&state, user).await?;
    let appeal = r.appeal(&state, &id).await?;
    may_act(&r.user)?;
    let ApiJson(body) = body?;
    let a = take_step(&state, &r, &appeal, body).await?;
    Ok(Json(json_for(&r, a)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartBody {
    #[serde(default)]
    part: String,
}

/// `POST /api/v1/appeals/{id}/cohandle`: a co-handling unit adds its part.
async fn cohandle(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<PartBody>, Error>,
) -> Result<Json<AppealJson>> {
    let r = AppealReader::load(&state, user).await?;
    let appeal = r.appeal(&state, &id).await?;
    permitted(
        &r.user,
        Action::HandleAppeals,
        "只有协办单位的联络员可以提交协办意见",
    )?;
    let unit = r
        .cohandling_unit(&appeal)
        .ok_or_else(|| Error::field("unit_id", "本单位不是该诉求的协办单位"))?;
    let ApiJson(body) = body?;
    let a = state
        .store
        .record_cohandler_part(&r.user.audit(), r.tenant(), &id, &unit, &body.part)
        .await?;
    Ok(Json(json_for(&r, a)))
}

// ---- attachments --------------------------------------------------------------------------

/// Files of an appeal (pdf, jpg, png, docx, xlsx, ≤ 20 MB) are added by the supervisor, the
/// lead and co-handling units and the submitting enterprise, until it is closed.
pub(crate) async fn attach_to_appeal(
    state: &AppState,
    r: &AppealReader,
    id: &str,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<store::attachment::Attachment> {
    let a = r.appeal(state, id).await?;
    let account = &r.user.account;
    let own = a.submitter_account_id.as_deref() == Some(account.id.as_str());
    let unit = r
        .acting_unit(&a)
        .is_some_and(|u| Some(&u) == a.lead_unit_id.as_ref())
        || r.cohandling_unit(&a).is_some();
    if !(allows(account, Action::ManageAppeals) || unit || own) {
        return Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "只有督查人员、承办单位和诉求企业可以上传材料",
        ));
    }
    if a.state == AppealState::Closed {
        return Err(Error::conflict("该诉求已办结，不能再上传材料"));
    }
    let (name, upload) = crate::attachment::receive(state, multipart).await?;
    Ok(state
        .store
        .attach(&r.user.audit(), r.tenant(), "appeal", id, &name, upload)
        .await?)
}

/// `GET /api/v1/appeals/{id}/attachments`
async fn appeal_files(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let r = AppealReader::load(&state, user).await?;
    r.appeal(&state, &id).await?;
    crate::attachment::files_json(&state, r.tenant(), "appeal", &id).await
}

/// `POST /api/v1/appeals/{id}/attachments` (multipart, field `file`)
async fn attach_file(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    let r = AppealReader::load(&state, user).await?;
    Ok(crate::attachment::created_file(
        attach_to_appeal(&state, &r, &id, multipart).await?,
    ))
}

// ---- the running deadline -----------------------------------------------------------------

/// A change of the running step's deadline: `extend` (the reply's one extension, the
/// supervisor, at most the tenant's maximum), `pause` and `resume` (while waiting on the
/// submitter: the supervisor or the lead unit).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeadlineBody {
    pub(crate) change: Option<String>,
    pub(crate) days: Option<u32>,
    #[serde(default)]
    pub(crate) reason: String,
}

/// Who may change the running deadline and how, checked; the change goes through the kernel.
pub(crate) async fn change_running_deadline(
    state: &AppState,
    r: &AppealReader,
    appeal: &Appeal,
    body: DeadlineBody,
) -> Result<Appeal> {
    use store::deadline::DeadlineChange;
    let manages = allows(&r.user.account, Action::ManageAppeals);
    let lead = r.acting_unit(appeal).is_some() && r.acting_unit(appeal) == appeal.lead_unit_id;
    let change = match body.change.as_deref().map(str::trim) {
        Some("extend") => {
            permitted(
                &r.user,
                Action::ManageAppeals,
                "答复时限延期须由督查人员批准",
            )?;
            let limits = state.store.appeal_limits(r.tenant()).await?;
            let days = body.days.ok_or_else(|| {
                Error::field(
                    "days",
                    format!(
                        "请填写延期天数（1 到 {} 个工作日）",
                        limits.extension_max_days
                    ),
                )
            })?;
            DeadlineChange::Extend {
                days,
                reason: body.reason,
                max_days: limits.extension_max_days,
            }
        }
        Some(kind @ ("pause" | "resume")) => {
            if !(manages || lead) {
                return Err(Error::client(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "只有督查人员和主办单位可以暂停或恢复计时",
                ));
            }
            if kind == "pause" {
                DeadlineChange::Pause {
                    reason: body.reason,
                }
            } else {
                DeadlineChange::Resume
            }
        }
        _ => return Err(Error::field("change", "请选择延期、暂停计时或恢复计时")),
    };
    let deadline = appeal
        .deadline()
        .filter(|d| d.open)
        .ok_or_else(|| Error::conflict("该诉求当前没有计时中的办理时限"))?;
    if matches!(change, DeadlineChange::Extend { .. })
        && domain::appeal::Step::of_name(&deadline.step) != Some(domain::appeal::Step::Reply)
    {
        return Err(Error::conflict("只有答复时限可以延期"));
    }
    state
        .store
        .change_deadline(&r.user.audit(), r.tenant(), &deadline.id, &change)
        .await?;
    r.appeal(state, &appeal.id).await
}

/// `POST /api/v1/appeals/{id}/deadline`
async fn change_deadline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<DeadlineBody>, Error>,
) -> Result<Json<AppealJson>> {
    let r = AppealReader::load(&state, user).await?;
    let appeal = r.appeal(&state, &id).await?;
    may_act(&r.user)?;
    let ApiJson(body) = body?;
    let a = change_running_deadline(&state, &r, &appeal, body).await?;
    Ok(Json(json_for(&r, a)))
}

// ---- figures ------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct FigureQuery {
    pub(crate) by: Option<String>,
    pub(crate) category_code: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
}

/// The period and grouping of a figures request: `from` and `to` are days (Asia/Shanghai),
/// both included; the current month so far by default.
pub(crate) fn figure_request(
    q: &FigureQuery,
    today: NaiveDate,
) -> Result<(FigureGroup, NaiveDate, NaiveDate)> {
    let group = match q.by.as_deref().map(str::trim) {
        None | Some("") | Some("unit") => FigureGroup::Unit,
        Some("street") => FigureGroup::Street,
        Some("kind") => FigureGroup::Kind,
        Some("month") => FigureGroup::Month,
        Some(_) => {
            return Err(Error::bad_param(
                "by",
                "by 应为 unit、street、kind 或 month",
            ));
        }
    };
    let day = |name: &str, v: &Option<String>, default: NaiveDate| -> Result<NaiveDate> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(default),
            Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| Error::bad_param(name, format!("{name} 应为 YYYY-MM-DD 格式的日期"))),
        }
    };
    let first = today.with_day0(0).unwrap_or(today);
    let from = day("from", &q.from, first)?;
    let to = day("to", &q.to, today)?;
    if to < from {
        return Err(Error::bad_param("to", "结束日期不能早于开始日期"));
    }
    Ok((group, from, to))
}

/// The appeals a figures request keeps: a category, a kind.
pub(crate) fn figure_filter(q: &FigureQuery) -> Result<AppealFilter> {
    Ok(AppealFilter {
        category_code: nonempty(q.category_code.clone()),
        kind: named("kind", &q.kind)?,
        ..AppealFilter::default()
    })
}

/// The instant a Shanghai day starts.
pub(crate) fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(domain::calendar::shanghai()).single())
        .map_or(DateTime::<Utc>::MIN_UTC, |t| t.with_timezone(&Utc))
}

pub(crate) fn counts_json(key: &str, name: String, c: &Counts) -> Value {
    json!({"key": key, "name": name, "accept_due": c.accept_due, "accepted_in_time": c.accepted_in_time,
        "reached": c.reached, "resolved": c.resolved, "satisfied": c.satisfied, "unreached": c.unreached,
        "response_rate": c.response_rate(), "resolution_rate": c.resolution_rate(),
        "satisfaction_rate": c.satisfaction_rate(), "score": c.score(Weights::default())})
}

/// The three rates of a figures request, per group, with the units to name them by.
pub(crate) struct Figures {
    pub(crate) group: FigureGroup,
    pub(crate) from: NaiveDate,
    pub(crate) to: NaiveDate,
    pub(crate) rows: std::collections::BTreeMap<String, Counts>,
    pub(crate) total: Counts,
    pub(crate) units: Units,
}

impl Figures {
    /// The rates a user reads: figures are aggregates, so whoever reads them reads the
    /// tenant's, a `unit_admin` its subtree's.
    pub(crate) async fn read(
        state: &AppState,
        user: &CurrentUser,
        q: &FigureQuery,
    ) -> Result<Self> {
        let units = Units::load_for(state, user, Action::ReadAppealFigures).await?;
        let vis = match scope(&user.account, Action::ReadAppealFigures) {
            Scope::Tenant => AppealVisibility {
                all: true,
                ..AppealVisibility::default()
            },
            Scope::Subtree(_) => AppealVisibility {
                units: Some(units.scope.clone().unwrap_or_default()),
                ..AppealVisibility::default()
            },
            Scope::Nothing => return Err(Error::not_found()),
        };
        let (group, from, to) = figure_request(q, state.store.today())?;
        let end = to.succ_opt().unwrap_or(to);
        let rows = state
            .store
            .appeal_figures(
                &user.tenant.id,
                &vis,
                &figure_filter(q)?,
                group,
                day_start(from),
                day_start(end),
            )
            .await?;
        let mut total = Counts::default();
        for c in rows.values() {
            total.accept_due += c.accept_due;
            total.accepted_in_time += c.accepted_in_time;
            total.reached += c.reached;
            total.resolved += c.resolved;
            total.satisfied += c.satisfied;
            total.unreached += c.unreached;
        }
        Ok(Figures {
            group,
            from,
            to,
            rows,
            total,
            units,
        })
    }

    /// A group's name: a unit's or street's name, a kind's label, the month.
    pub(crate) fn name(&self, key: &str) -> String {
        match self.group {
            FigureGroup::Unit | FigureGroup::Street => self.units.name(key),
            FigureGroup::Kind => Kind::from_code_or_label(key)
                .map_or_else(|| key.to_owned(), |k| k.label().to_owned()),
            FigureGroup::Month => key.to_owned(),
        }
    }
}

/// `GET /api/v1/appeals/figures?by=unit|street|kind|month&from=&to=`: the three rates with
/// their denominators, and the weighted score.
async fn figures(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<FigureQuery>,
) -> Result<Json<Value>> {
    let user = visible_to(user, Action::ReadAppealFigures)?;
    let f = Figures::read(&state, &user, &q).await?;
    let items: Vec<Value> = f
        .rows
        .iter()
        .map(|(key, c)| counts_json(key, f.name(key), c))
        .collect();
    Ok(Json(
        json!({"from": f.from.to_string(), "to": f.to.to_string(), "items": items,
        "total": counts_json("", "合计".into(), &f.total)}),
    ))
}

// ---- OpenAPI ------------------------------------------------------------------------------

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let codes = |all: Vec<&'static str>| json!({"type": "string", "enum": all});
    let unit = json!({"type": ["object", "null"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}});
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let appeal = json!({"type": "object", "description": "An appeal without its submitter's identity.", "properties": {
        "id": {"type": "string"}, "number": {"type": "string"},
        "kind": codes(Kind::ALL.iter().map(|k| k.as_str()).collect()),
        "source": codes(Source::ALL.iter().map(|s| s.as_str()).collect()),
        "category_code": {"type": "string"}, "street": unit.clone(), "title": {"type": "string"},
        "content": {"type": "string"}, "address": {"type": "string"}, "publish": {"type": "boolean"},
        "secretary": {"type": "boolean"}, "has_submitter": {"type": "boolean"},
        "state": codes(AppealState::ALL.iter().map(|s| s.as_str()).collect()), "state_label": {"type": "string"},
        "proposed_unit": unit.clone(), "lead_unit": unit,
        "cohandlers": {"type": "array", "items": {"type": "object"}},
        "returns": {"type": "integer"}, "reopens": {"type": "integer"}, "missed_callbacks": {"type": "integer"},
        "reply": {"type": ["string", "null"]}, "status_notes": {"type": "string"},
        "received_at": {"type": "string", "format": "date-time"}, "accept_due_at": time.clone(),
        "accepted_at": time.clone(), "accept_minutes": {"type": ["integer", "null"]},
        "reply_due_at": time.clone(), "replied_at": time.clone(), "reply_minutes": {"type": ["integer", "null"]},
        "called_back_at": time.clone(), "closed_at": time.clone(), "due_at": time,
        "card": {"type": "string", "enum": ["none", "yellow", "red"]},
        "deadlines": {"type": "array", "items": {"type": "object"}},
        "tracking_code": {"type": ["string", "null"], "description": "only for the enterprise that submitted it"}}});
    let new_appeal = json!({"type": "object", "required": ["kind", "category_code", "title", "content"], "properties": {
        "kind": codes(Kind::ALL.iter().map(|k| k.as_str()).collect()),
        "source": {"type": "string", "description": "staff: hall (default), secretary, duty, meeting, visit, hotline"},
        "category_code": {"type": "string"}, "street_id": {"type": "string"}, "enterprise_id": {"type": "string"},
        "title": {"type": "string", "maxLength": 100}, "content": {"type": "string", "maxLength": 5000},
        "address": {"type": "string"}, "publish": {"type": "boolean"}, "submitter_name": {"type": "string"},
        "submitter_phone": {"type": "string"}, "external_id": {"type": "string"}}});
    let receipt = json!({"type": "object", "properties": {"number": {"type": "string"},
        "tracking_code": {"type": "string"}, "state": {"type": "string"}}});
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let id = path("id", "id");
    let [page, per_page] = paging();
    let string = json!({"type": "string"});
    let boolean = json!({"type": "string", "enum": ["true", "false"]});
    let mut paths = Map::new();
    let mut save = operation(
        "Add or change an appeal category (an Open311 service); the supervisor.",
        &[],
        json!({"type": "object"}),
    );
    save["requestBody"] = body(
        json!({"type": "object", "required": ["code", "name"], "properties": {"code": {"type": "string"},
        "name": {"type": "string"}, "description": {"type": "string"}, "unit_id": {"type": ["string", "null"]},
        "sort_order": {"type": "integer"}, "active": {"type": "boolean"}}}),
    );
    paths.insert(
        "/api/v1/appeal-categories".into(),
        json!({"get": operation("The appeal categories (public).", &[query("all", false, boolean.clone(), "the supervisor: inactive ones too")],
            json!({"type": "object"})), "post": save}),
    );
    let mut route = operation(
        "Route a category in a street to a lead unit (null: the category's default); the supervisor.",
        &[],
        json!({"type": "null"}),
    );
    route["requestBody"] = body(
        json!({"type": "object", "required": ["category_code", "street_id"], "properties": {
        "category_code": {"type": "string"}, "street_id": {"type": "string"}, "unit_id": {"type": ["string", "null"]}}}),
    );
    paths.insert("/api/v1/appeal-routes".into(), json!({"post": route}));
    let limits = json!({"type": "object", "properties": {
        "dispatch_minutes": {"type": "integer"}, "accept_days": {"type": "integer"},
        "return_days": {"type": "integer"}, "reply_days": {"type": "integer"},
        "consultation_reply_days": {"type": "integer"}, "extension_max_days": {"type": "integer"},
        "callback_days": {"type": "integer"}}});
    let mut put_limits = operation(
        "Set the tenant's step limits (working minutes for dispatch, working days for the rest); the supervisor.",
        &[],
        limits.clone(),
    );
    put_limits["requestBody"] = body(limits.clone());
    paths.insert(
        "/api/v1/appeal-limits".into(),
        json!({"get": operation("The tenant's step limits; the supervisor.", &[], limits), "put": put_limits}),
    );
    let mut create = operation(
        "Submit an enterprise's own appeal, or enter one received at the hall or on the 书记直通车 line.",
        &[],
        receipt.clone(),
    );
    create["requestBody"] = body(new_appeal.clone());
    let filters = [
        query("state", false, string.clone(), "state"),
        query("open", false, boolean.clone(), "not closed"),
        query("kind", false, string.clone(), "kind"),
        query("source", false, string.clone(), "source"),
        query("category_code", false, string.clone(), "category"),
        query("unit_id", false, string.clone(), "lead unit"),
        query("street_id", false, string.clone(), "street"),
        query("secretary", false, boolean.clone(), "书记直通车 only"),
        query("overdue", false, boolean, "with a red card"),
        query("q", false, string.clone(), "title, content or number"),
        page,
        per_page,
    ];
    paths.insert(
        "/api/v1/appeals".into(),
        json!({"get": operation("The appeals the user sees, newest first.", &filters, list_of(appeal.clone())), "post": create}),
    );
    let mut import = crate::import::openapi_operation(
        "12345 hotline work orders as appeals (the supervisor)",
        &store::appeal_import::HOTLINE_COLUMNS.join(", "),
    );
    import["description"] = json!(
        "Import a 12345 hotline export from CSV (UTF-8 with or without BOM, or GB18030) or XLSX sent as the raw body \
         (the supervisor; others 404): each work order becomes an appeal of source hotline, received like any other \
         (dispatch deadline, caller sealed, lead unit proposed by category × street). Columns: 工单编号, 诉求类型, 诉求分类 \
         and 诉求内容 required; 所属街道, 标题, 诉求地址, 来电人, 来电号码, 受理时间 optional. Idempotent on 工单编号: \
         `unchanged` counts the work orders imported before (nothing is created for them); a number twice in the file \
         is refused on its later rows. 200 with the counts, every refused row (row, column, reason) and `report_url`, the \
         refused rows as an XLSX for the importer (absent without row errors); 422 for a file-level error (not a \
         table, a required column missing, no rows): nothing changed."
    );
    import["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["report_url"] =
        json!({"type": "string"});
    import["requestBody"] = json!({"required": true, "content": {
        "text/csv": {"schema": {"type": "string", "format": "binary"}},
        (crate::import::XLSX): {"schema": {"type": "string", "format": "binary"}}}});
    paths.insert("/api/v1/appeals/import".into(), json!({"post": import}));
    paths.insert(
        "/api/v1/appeals/figures".into(),
        json!({"get": operation("The three rates (response, resolution, satisfaction) with their denominators and the weighted score.",
            &[query("by", false, json!({"type": "string", "enum": ["unit", "street", "kind", "month"]}), "grouping"),
              query("category_code", false, json!({"type": "string"}), "only this category"),
              query("kind", false, json!({"type": "string"}), "only this kind"),
              query("from", false, json!({"type": "string", "format": "date"}), "first day"),
              query("to", false, json!({"type": "string", "format": "date"}), "last day")],
            json!({"type": "object"}))}),
    );
    paths.insert(
        "/api/v1/appeals/{id}".into(),
        json!({"get": operation("One appeal.", std::slice::from_ref(&id), appeal.clone())}),
    );
    let mut act = operation(
        "Take a step: dispatch, callback, close, reopen (the supervisor); accept, return, reply (the lead unit).",
        std::slice::from_ref(&id),
        appeal.clone(),
    );
    act["requestBody"] = body(
        json!({"type": "object", "required": ["action"], "properties": {
        "action": codes(AppealAction::ALL.iter().map(|a| a.as_str()).collect()),
        "unit_id": {"type": "string"}, "cohandler_ids": {"type": "array", "items": {"type": "string"}},
        "note": {"type": "string"}, "reason": {"type": "string"}, "reply": {"type": "string"},
        "status_notes": {"type": "string"}, "contacted": {"type": "boolean"}, "resolved": {"type": "boolean"},
        "process": codes(Satisfaction::ALL.iter().map(|s| s.as_str()).collect()),
        "result": codes(Satisfaction::ALL.iter().map(|s| s.as_str()).collect())}}),
    );
    paths.insert("/api/v1/appeals/{id}/actions".into(), json!({"post": act}));
    let mut part = operation(
        "A co-handling unit adds its part.",
        std::slice::from_ref(&id),
        appeal,
    );
    part["requestBody"] = body(
        json!({"type": "object", "required": ["part"], "properties": {"part": {"type": "string"}}}),
    );
    paths.insert(
        "/api/v1/appeals/{id}/cohandle".into(),
        json!({"post": part}),
    );
    let mut deadline = operation(
        "Change the running step's deadline: extend the reply once (the supervisor, at most the tenant's maximum, 10 working days by default); pause while waiting on the submitter, resume (the supervisor or the lead unit).",
        std::slice::from_ref(&id),
        json!({"type": "object"}),
    );
    deadline["requestBody"] = body(
        json!({"type": "object", "required": ["change"], "properties": {
        "change": {"type": "string", "enum": ["extend", "pause", "resume"]},
        "days": {"type": "integer", "minimum": 1}, "reason": {"type": "string"}}}),
    );
    paths.insert(
        "/api/v1/appeals/{id}/deadline".into(),
        json!({"post": deadline}),
    );
    let file = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "file_name": {"type": "string"}, "content_type": {"type": "string"},
        "size": {"type": "integer"}, "sm3": {"type": "string"}, "url": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"}}});
    let mut upload = operation(
        "Add a file (pdf, jpg, png, docx, xlsx; ≤ 20 MB): the supervisor, the lead and co-handling units, the submitting enterprise; until closed.",
        std::slice::from_ref(&id),
        file.clone(),
    );
    upload["requestBody"] = json!({"required": true, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}});
    paths.insert(
        "/api/v1/appeals/{id}/attachments".into(),
        json!({"get": operation("The appeal's files.", std::slice::from_ref(&id),
            json!({"type": "object", "properties": {"items": {"type": "array", "items": file}}})), "post": upload}),
    );
    paths.insert(
        "/api/v1/appeals/{id}/history".into(),
        json!({"get": operation("The appeal's timeline (the submitting enterprise: public entries, no names).",
            std::slice::from_ref(&id), json!({"type": "object"}))}),
    );
    paths.insert(
        "/api/v1/appeals/{id}/submitter".into(),
        json!({"get": operation("The submitter's name and phone (the supervisor; each read is audited).",
            std::slice::from_ref(&id), json!({"type": "object", "properties": {"name": {"type": ["string", "null"]},
            "phone": {"type": ["string", "null"]}}}))}),
    );
    let mut public = operation(
        "Submit an appeal without an account (a phone is required); answers the tracking code.",
        &[],
        receipt,
    );
    public["requestBody"] = body(new_appeal);
    paths.insert("/api/v1/public/appeals".into(), json!({"post": public}));
    paths.insert(
        "/api/v1/public/appeals/{code}".into(),
        json!({"get": operation("Follow an appeal by its tracking code: state, public notes, the reply, the timeline without names.",
            &[path("code", "tracking code")], json!({"type": "object"}))}),
    );
    paths
}
