//! Reorganisation (机构改革) pages and API: every staff role reads them; the sysadmin records
//! renames, merges and splits with their effective date and document, and withdraws planned
//! ones. A unit's history (`/api/v1/units/{id}/history`) tells its former names and timeline.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use domain::history::Reader;
use domain::reorg::{ReorgKind, ReorgState};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::reorg::{Move, MoveWhat, NewPart, NewReorganisation, Plan, Reorganisation};
use store::unit::Unit;

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, allows, permitted, visible_to};
use crate::routes::Routes;
use crate::staff::{FormErrors, form_value};
use crate::state::AppState;
use crate::timeline::{TimelineLine, timeline};

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/reorganisations", list)
        .post("/api/v1/reorganisations", create)
        .get("/api/v1/reorganisations/{id}", show)
        .post("/api/v1/reorganisations/{id}/cancel", cancel)
        .get("/api/v1/units/{id}/history", unit_history)
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/reorganisations", list_page)
        .get("/reorganisations/new", new_page)
        .post("/reorganisations/new", new_form)
        .get("/reorganisations/{id}", detail_page)
        .post("/reorganisations/{id}/cancel", cancel_form)
}

fn reader(user: CurrentUser) -> Result<CurrentUser> {
    visible_to(user, Action::ReadOrg)
}

fn manager(user: &CurrentUser) -> Result<()> {
    permitted(user, Action::ManageOrg, "只有系统管理员可以登记机构调整")
}

#[derive(Serialize)]
struct UnitRef {
    id: String,
    code: String,
    name: String,
    role: String,
}

#[derive(Serialize)]
struct ReorgJson {
    id: String,
    kind: &'static str,
    state: &'static str,
    effective_on: String,
    document: String,
    plan: Plan,
    units: Vec<UnitRef>,
    last_error: Option<String>,
    created_at: String,
    applied_at: Option<String>,
}

fn reorg_json(r: Reorganisation, units: &HashMap<String, Unit>) -> ReorgJson {
    ReorgJson {
        kind: r.plan.kind().as_str(),
        state: r.state.as_str(),
        effective_on: r.effective_on.to_string(),
        units: r
            .units
            .iter()
            .filter_map(|(id, role)| {
                units.get(id).map(|u| UnitRef {
                    id: u.id.clone(),
                    code: u.code.clone(),
                    name: u.name.clone(),
                    role: role.clone(),
                })
            })
            .collect(),
        id: r.id,
        document: r.document,
        plan: r.plan,
        last_error: r.last_error,
        created_at: timestamp(r.created_at),
        applied_at: r.applied_at.map(timestamp),
    }
}

async fn units_by_id(state: &AppState, tenant_id: &str) -> Result<HashMap<String, Unit>> {
    Ok(state
        .store
        .units(tenant_id)
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect())
}

async fn reorg_of(state: &AppState, user: &CurrentUser, id: &str) -> Result<Reorganisation> {
    state
        .store
        .reorganisation(&user.tenant.id, id)
        .await?
        .ok_or_else(Error::not_found)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    unit_id: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

/// `GET /api/v1/reorganisations`
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<ReorgJson>>> {
    let user = reader(user)?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_reorganisations(
            &user.tenant.id,
            q.unit_id.as_deref().filter(|u| !u.is_empty()),
            request,
        )
        .await?;
    let units = units_by_id(&state, &user.tenant.id).await?;
    Ok(Json(ListBody::from_page(page, |r| reorg_json(r, &units))))
}

/// `GET /api/v1/reorganisations/{id}`
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ReorgJson>> {
    let user = reader(user)?;
    let reorg = reorg_of(&state, &user, &id).await?;
    let units = units_by_id(&state, &user.tenant.id).await?;
    Ok(Json(reorg_json(reorg, &units)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReorgBody {
    kind: Option<String>,
    effective_on: Option<String>,
    document: Option<String>,
    // rename
    unit_id: Option<String>,
    name: Option<String>,
    // merge
    source_ids: Option<Vec<String>>,
    target_id: Option<String>,
    new_target: Option<NewPart>,
    // split
    source_id: Option<String>,
    keep_source: Option<bool>,
    parts: Option<Vec<NewPart>>,
    moves: Option<Vec<Move>>,
}

fn required(value: Option<String>, field: &str, message: &str) -> Result<String> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::field(field, message))
}

impl ReorgBody {
    /// The reorganisation the body describes; each missing or malformed field named.
    fn into_new(self) -> Result<NewReorganisation> {
        let kind: ReorgKind = required(self.kind, "kind", "请选择调整类型")?
            .parse()
            .map_err(|e: String| Error::field("kind", e))?;
        let effective_on = required(self.effective_on, "effective_on", "请填写生效日期")?;
        let effective_on = NaiveDate::parse_from_str(&effective_on, "%Y-%m-%d")
            .map_err(|_| Error::field("effective_on", "生效日期应为 YYYY-MM-DD 格式的日期"))?;
        let plan = match kind {
            ReorgKind::Rename => Plan::Rename {
                unit_id: required(self.unit_id, "unit_id", "请选择要更名的单位")?,
                name: required(self.name, "name", "请填写新名称")?,
            },
            ReorgKind::Merge => Plan::Merge {
                source_ids: self
                    .source_ids
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| Error::field("source_ids", "请列出被合并的单位"))?,
                target_id: self.target_id.filter(|t| !t.trim().is_empty()),
                new_target: self.new_target,
            },
            ReorgKind::Split => Plan::Split {
                source_id: required(self.source_id, "source_id", "请选择被拆分的单位")?,
                keep_source: self.keep_source.unwrap_or(false),
                parts: self.parts.unwrap_or_default(),
                moves: self.moves.unwrap_or_default(),
            },
        };
        Ok(NewReorganisation {
            effective_on,
            document: self.document.unwrap_or_default(),
            plan,
        })
    }
}

/// `POST /api/v1/reorganisations`
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<ReorgBody>, Error>,
) -> Result<Response> {
    let user = reader(user)?;
    manager(&user)?;
    // who may act is decided before the body is read, so a refused body tells nothing
    let ApiJson(body) = body?;
    let new = body.into_new()?;
    let reorg = state
        .store
        .create_reorganisation(&user.audit(), &user.tenant.id, &new)
        .await?;
    let units = units_by_id(&state, &user.tenant.id).await?;
    Ok((StatusCode::CREATED, Json(reorg_json(reorg, &units))).into_response())
}

/// `POST /api/v1/reorganisations/{id}/cancel`
async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<ReorgJson>> {
    let user = reader(user)?;
    reorg_of(&state, &user, &id).await?;
    manager(&user)?;
    let reorg = state
        .store
        .cancel_reorganisation(&user.audit(), &user.tenant.id, &id)
        .await?;
    let units = units_by_id(&state, &user.tenant.id).await?;
    Ok(Json(reorg_json(reorg, &units)))
}

#[derive(Serialize)]
struct FormerName {
    name: String,
    /// The first day it was no longer used.
    until: String,
}

#[derive(Serialize)]
struct HistoryJson {
    unit_id: String,
    name: String,
    dissolved_on: Option<String>,
    former_names: Vec<FormerName>,
    items: Vec<TimelineLine>,
}

/// `GET /api/v1/units/{id}/history`: former names and the unit's timeline.
async fn unit_history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<HistoryJson>> {
    let user = reader(user)?;
    let unit = state
        .store
        .unit(&user.tenant.id, &id)
        .await?
        .ok_or_else(Error::not_found)?;
    let former = state.store.former_names(&user.tenant.id, &id).await?;
    let items = timeline(&state, &user.tenant.id, "unit", &id, Reader::Staff).await?;
    Ok(Json(HistoryJson {
        unit_id: unit.id,
        name: unit.name,
        dissolved_on: unit.dissolved_on.map(|d| d.to_string()),
        former_names: former
            .into_iter()
            .map(|(until, name)| FormerName {
                name,
                until: until.to_string(),
            })
            .collect(),
        items,
    }))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let part = json!({"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}});
    let reorg = json!({"type": "object", "properties": {
        "id": {"type": "string"},
        "kind": {"type": "string", "enum": ["rename", "merge", "split"]},
        "state": {"type": "string", "enum": ["planned", "applied", "cancelled"]},
        "effective_on": {"type": "string", "format": "date"},
        "document": {"type": "string", "description": "文号 of the deciding document"},
        "plan": {"type": "object"},
        "units": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string"}, "code": {"type": "string"}, "name": {"type": "string"},
            "role": {"type": "string", "enum": ["source", "target"]}}}},
        "last_error": {"type": ["string", "null"]},
        "created_at": {"type": "string", "format": "date-time"},
        "applied_at": {"type": ["string", "null"], "format": "date-time"}}});
    let id = path("id", "reorganisation id");
    let mut paths = Map::new();
    let mut create = operation(
        "Record a reorganisation (sysadmin); applied at once when its day has come, else on the day.",
        &[],
        reorg.clone(),
    );
    create["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object",
        "required": ["kind", "effective_on", "document"], "properties": {
        "kind": {"type": "string", "enum": ["rename", "merge", "split"]},
        "effective_on": {"type": "string", "format": "date"},
        "document": {"type": "string"},
        "unit_id": {"type": "string", "description": "rename: the unit"},
        "name": {"type": "string", "description": "rename: the new name"},
        "source_ids": {"type": "array", "items": {"type": "string"}, "description": "merge: units dissolved"},
        "target_id": {"type": "string", "description": "merge: existing unit merged into"},
        "new_target": part.clone(),
        "source_id": {"type": "string", "description": "split: the unit split"},
        "keep_source": {"type": "boolean"},
        "parts": {"type": "array", "items": part},
        "moves": {"type": "array", "items": {"type": "object", "properties": {
            "what": {"type": "string", "enum": ["staff", "unit", "account"]},
            "id": {"type": "string"}, "to": {"type": "string", "description": "code of a new part"}}}}}}}}});
    let [page, per_page] = paging();
    paths.insert(
        "/api/v1/reorganisations".into(),
        json!({
            "get": operation("Reorganisations, newest effective date first.", &[
                query("unit_id", false, json!({"type": "string"}), "only those touching this unit"), page, per_page,
            ], list_of(reorg.clone())),
            "post": create,
        }),
    );
    paths.insert(
        "/api/v1/reorganisations/{id}".into(),
        json!({"get": operation("One reorganisation.", std::slice::from_ref(&id), reorg.clone())}),
    );
    paths.insert(
        "/api/v1/reorganisations/{id}/cancel".into(),
        json!({"post": operation("Withdraw a planned reorganisation (sysadmin).", std::slice::from_ref(&id), reorg)}),
    );
    paths.insert(
        "/api/v1/units/{id}/history".into(),
        json!({"get": operation("A unit's former names and timeline.", &[path("id", "unit id")],
            json!({"type": "object", "properties": {
                "unit_id": {"type": "string"}, "name": {"type": "string"},
                "dissolved_on": {"type": ["string", "null"], "format": "date"},
                "former_names": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "until": {"type": "string", "format": "date"}}}},
                "items": {"type": "array", "items": {"type": "object", "properties": {
                    "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
                    "event": {"type": "string"}, "text": {"type": "string"},
                    "actor": {"type": ["string", "null"]}}}}}}))}),
    );
    paths
}

/// A reorganisation as a page line.
struct ReorgView {
    id: String,
    kind: &'static str,
    state: ReorgState,
    effective_on: String,
    document: String,
    sources: Vec<(String, String)>,
    targets: Vec<(String, String)>,
    last_error: Option<String>,
    applied_at: Option<String>,
}

impl ReorgView {
    fn new(r: Reorganisation, units: &HashMap<String, Unit>) -> Self {
        let named = |role: &str| {
            r.units
                .iter()
                .filter(|(_, ro)| ro == role)
                .filter_map(|(id, _)| units.get(id).map(|u| (u.id.clone(), u.name.clone())))
                .collect()
        };
        Self {
            sources: named("source"),
            targets: named("target"),
            id: r.id,
            kind: r.plan.kind().as_str(),
            state: r.state,
            effective_on: r.effective_on.to_string(),
            document: r.document,
            last_error: r.last_error,
            applied_at: r.applied_at.map(crate::list::local_minute),
        }
    }

    fn state_key(&self) -> String {
        format!("reorg.state.{}", self.state.as_str())
    }

    fn kind_key(&self) -> String {
        format!("reorg.kind.{}", self.kind)
    }

    fn planned(&self) -> bool {
        self.state == ReorgState::Planned
    }
}

#[derive(Template)]
#[template(path = "reorgs.html")]
struct ListPage {
    layout: Layout,
    reorgs: Vec<ReorgView>,
    manage: bool,
}

/// `GET /reorganisations`
async fn list_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let request = page_request(q.get("page").map(String::as_str), Some("200"))?;
    let page = state
        .store
        .list_reorganisations(&user.tenant.id, None, request)
        .await?;
    let units = units_by_id(&state, &user.tenant.id).await?;
    render(&ListPage {
        layout: Layout::for_user("reorg.title", "units", &user),
        manage: allows(&user.account, Action::ManageOrg),
        reorgs: page
            .items
            .into_iter()
            .map(|r| ReorgView::new(r, &units))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "reorg_detail.html")]
struct DetailPage {
    layout: Layout,
    csrf: String,
    reorg: ReorgView,
    manage: bool,
    error: Option<String>,
}

async fn detail(
    state: &AppState,
    user: &CurrentUser,
    reorg: Reorganisation,
    error: Option<String>,
) -> Result<DetailPage> {
    let units = units_by_id(state, &user.tenant.id).await?;
    let reorg = ReorgView::new(reorg, &units);
    Ok(DetailPage {
        layout: Layout::for_user("reorg.detail.title", "units", user)
            .titled(reorg.document.clone()),
        csrf: user.csrf_token.clone(),
        manage: allows(&user.account, Action::ManageOrg),
        reorg,
        error,
    })
}

/// `GET /reorganisations/{id}`
async fn detail_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let reorg = reorg_of(&state, &user, &id).await?;
    render(&detail(&state, &user, reorg, None).await?)
}

/// `POST /reorganisations/{id}/cancel`
async fn cancel_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let reorg = reorg_of(&state, &user, &id).await?;
    manager(&user)?;
    match state
        .store
        .cancel_reorganisation(&user.audit(), &user.tenant.id, &id)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/reorganisations/{id}"))),
        Err(e) => {
            let e = Error::from(e);
            let status = e.status();
            if status.is_server_error() {
                return Err(PageError(e));
            }
            render_status(
                &detail(&state, &user, reorg, Some(e.message().to_owned())).await?,
                status,
            )
        }
    }
}

#[derive(Template)]
#[template(path = "reorg_form.html")]
struct FormPage {
    layout: Layout,
    csrf: String,
    kind: &'static str,
    effective_on: String,
    document: String,
    unit: String,
    name: String,
    sources: String,
    target: String,
    new_code: String,
    new_name: String,
    source: String,
    keep_source: bool,
    parts: String,
    moves: String,
    errors: FormErrors,
}

impl FormPage {
    fn blank(user: &CurrentUser, kind: ReorgKind, today: NaiveDate) -> Self {
        Self {
            layout: Layout::for_user(&format!("reorg.new.{}", kind.as_str()), "units", user),
            csrf: user.csrf_token.clone(),
            kind: kind.as_str(),
            effective_on: today.to_string(),
            document: String::new(),
            unit: String::new(),
            name: String::new(),
            sources: String::new(),
            target: String::new(),
            new_code: String::new(),
            new_name: String::new(),
            source: String::new(),
            keep_source: false,
            parts: String::new(),
            moves: String::new(),
            errors: FormErrors::default(),
        }
    }
}

fn form_kind(value: Option<&str>) -> Result<ReorgKind> {
    value
        .unwrap_or("rename")
        .parse()
        .map_err(|e: String| Error::bad_param("kind", e))
}

/// `GET /reorganisations/new?kind=rename|merge|split`
async fn new_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    manager(&user)?;
    let kind = form_kind(q.get("kind").map(String::as_str))?;
    let mut page = FormPage::blank(&user, kind, state.store.today());
    if let Some(unit) = q.get("unit") {
        page.unit.clone_from(unit);
        page.source.clone_from(unit);
        page.sources.clone_from(unit);
    }
    render(&page)
}

/// Splits a list the clerk typed: one item per line, or separated by commas, 、 or spaces.
fn items(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c == '，' || c == '、' || c.is_whitespace())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The form's unit codes as ids; an unknown code is refused on `field`.
fn code_to_id(units: &HashMap<String, Unit>, code: &str, field: &str) -> Result<String> {
    units
        .values()
        .find(|u| u.code == code)
        .map(|u| u.id.clone())
        .ok_or_else(|| Error::field(field, format!("单位代码 {code} 不存在")))
}

/// The API body the page form describes; codes, staff names and usernames resolved.
async fn form_body(state: &AppState, user: &CurrentUser, page: &FormPage) -> Result<ReorgBody> {
    let units = units_by_id(state, &user.tenant.id).await?;
    let mut body = ReorgBody {
        kind: Some(page.kind.to_owned()),
        effective_on: Some(page.effective_on.clone()),
        document: Some(page.document.clone()),
        ..ReorgBody::default()
    };
    let optional_code = |code: &str, field: &str| -> Result<Option<String>> {
        match code.trim() {
            "" => Ok(None),
            c => code_to_id(&units, c, field).map(Some),
        }
    };
    match page.kind {
        "rename" => {
            body.unit_id = optional_code(&page.unit, "unit")?;
            body.name = Some(page.name.clone());
        }
        "merge" => {
            body.source_ids = Some(
                items(&page.sources)
                    .iter()
                    .map(|c| code_to_id(&units, c, "sources"))
                    .collect::<Result<_>>()?,
            );
            body.target_id = optional_code(&page.target, "target")?;
            if !page.new_code.trim().is_empty() || !page.new_name.trim().is_empty() {
                if body.target_id.is_some() {
                    return Err(Error::field(
                        "target",
                        "请在“并入已有单位”和“组建新单位”中二选一",
                    ));
                }
                body.new_target = Some(NewPart {
                    code: page.new_code.trim().to_owned(),
                    name: page.new_name.trim().to_owned(),
                });
            }
        }
        _ => {
            let source_id = optional_code(&page.source, "source")?;
            body.keep_source = Some(page.keep_source);
            let mut parts = Vec::new();
            for (n, line) in page.parts.lines().enumerate() {
                let line = line.trim();
                if line.is_empty() {
                    continue;
                }
                let Some((code, name)) = line.split_once(char::is_whitespace) else {
                    return Err(Error::field(
                        "parts",
                        format!("第 {} 行应为“代码 名称”", n + 1),
                    ));
                };
                parts.push(NewPart {
                    code: code.trim().to_owned(),
                    name: name.trim().to_owned(),
                });
            }
            let mut moves = Vec::new();
            if let Some(source_id) = &source_id {
                let staff = state
                    .store
                    .list_staff(
                        &user.tenant.id,
                        &store::staff::StaffFilter {
                            unit_id: Some(source_id.clone()),
                            ..Default::default()
                        },
                        store::page::PageRequest {
                            page: 1,
                            per_page: store::page::PageRequest::MAX_PER_PAGE,
                        },
                    )
                    .await?
                    .items;
                for (n, line) in page.moves.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    let Some((what, to)) = line.rsplit_once(char::is_whitespace) else {
                        return Err(Error::field(
                            "moves",
                            format!(
                                "第 {} 行应为“下级单位代码、人员姓名或账号 新单位代码”",
                                n + 1
                            ),
                        ));
                    };
                    let what = what.trim();
                    let found = if let Some(u) = units.values().find(|u| {
                        u.code == what
                            && (u.parent_id.as_deref() == Some(source_id)
                                || u.staffed_by_id.as_deref() == Some(source_id))
                    }) {
                        (MoveWhat::Unit, u.id.clone())
                    } else {
                        let named: Vec<_> = staff
                            .iter()
                            .filter(|s| s.name == what && s.unit_id == *source_id && s.active)
                            .collect();
                        match named.as_slice() {
                            [one] => (MoveWhat::Staff, one.id.clone()),
                            [_, _, ..] => {
                                return Err(Error::field(
                                    "moves",
                                    format!(
                                        "第 {} 行：原单位有多名“{what}”，请通过接口按人员编号指定",
                                        n + 1
                                    ),
                                ));
                            }
                            [] => match state.store.account_by_username(what).await? {
                                Some(a)
                                    if a.tenant_id == user.tenant.id
                                        && a.unit_id.as_deref() == Some(source_id) =>
                                {
                                    (MoveWhat::Account, a.id)
                                }
                                _ => {
                                    return Err(Error::field(
                                        "moves",
                                        format!(
                                            "第 {} 行：“{what}”不是原单位的下级单位、在职人员或账号",
                                            n + 1
                                        ),
                                    ));
                                }
                            },
                        }
                    };
                    moves.push(Move {
                        what: found.0,
                        id: found.1,
                        to: to.trim().to_owned(),
                    });
                }
            }
            body.source_id = source_id;
            body.parts = Some(parts);
            body.moves = Some(moves);
        }
    }
    Ok(body)
}

/// The page's name for a field the store or the body names.
fn form_field(field: &str) -> &str {
    match field {
        "unit_id" => "unit",
        "source_ids" => "sources",
        "target_id" => "target",
        "new_target" => "new_code",
        "source_id" => "source",
        other => other,
    }
}

/// `POST /reorganisations/new`
async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    manager(&user)?;
    let kind = form_kind(Some(&form_value(&form, "kind")))?;
    let mut page = FormPage::blank(&user, kind, state.store.today());
    page.effective_on = form_value(&form, "effective_on");
    page.document = form_value(&form, "document");
    page.unit = form_value(&form, "unit");
    page.name = form_value(&form, "name");
    page.sources = form_value(&form, "sources");
    page.target = form_value(&form, "target");
    page.new_code = form_value(&form, "new_code");
    page.new_name = form_value(&form, "new_name");
    page.source = form_value(&form, "source");
    page.keep_source = form_value(&form, "keep_source") == "true";
    page.parts = form_value(&form, "parts");
    page.moves = form_value(&form, "moves");
    let result = async {
        let new = form_body(&state, &user, &page).await?.into_new()?;
        Ok::<_, Error>(
            state
                .store
                .create_reorganisation(&user.audit(), &user.tenant.id, &new)
                .await?,
        )
    }
    .await;
    match result {
        Ok(reorg) => Ok(see_other(&format!("/reorganisations/{}", reorg.id))),
        Err(e) => {
            let e = match e {
                Error::Client {
                    status,
                    code,
                    message,
                    fields,
                } => Error::Client {
                    status,
                    code,
                    message,
                    fields: fields
                        .into_iter()
                        .map(|(k, v)| (form_field(&k).to_owned(), v))
                        .collect(),
                },
                other => other,
            };
            let (status, errors) = FormErrors::from_error(e)?;
            page.errors = errors;
            render_status(&page, status)
        }
    }
}
