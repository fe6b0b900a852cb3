//! The organisation: the unit tree, list and detail as pages, the units API, and the
//! sysadmin's maintenance of units (create, rename, head and leader, disable).

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use domain::history::Reader;
use domain::org::{UnitCode, UnitKind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::page::PageRequest;
use store::staff::{Staff, StaffFilter};
use store::unit::{NewUnit, Unit, UnitChange, UnitFilter};

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::import;
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, Scope, allows, scope};
use crate::routes::Routes;
use crate::staff::{FormErrors, OrgView, form_value, manager, nullable};
use crate::state::AppState;
use crate::timeline::{TimelineLine, timeline};

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/units", list)
        .post("/api/v1/units", create)
        .get("/api/v1/units/{id}", show)
        .route(Method::PATCH, "/api/v1/units/{id}", update)
        .post(
            "/api/v1/units/import",
            import::units_api.layer(import::body_limit()),
        )
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/units", tree_page)
        .get("/units/list", list_page)
        .get("/units/new", new_page)
        .post("/units/new", new_form)
        .get("/units/{id}", detail_page)
        .get("/units/{id}/edit", edit_page)
        .post("/units/{id}/edit", edit_form)
        .get("/units/import", import::units_page)
        .post(
            "/units/import",
            import::units_upload.layer(import::body_limit()),
        )
        .get("/units/import/template.xlsx", import::units_template)
}

#[derive(Serialize)]
struct UnitJson {
    id: String,
    code: String,
    name: String,
    kind: &'static str,
    parent_id: Option<String>,
    staffed_by_id: Option<String>,
    head_staff_id: Option<String>,
    leader_staff_id: Option<String>,
    active: bool,
    created_at: String,
    updated_at: String,
}

impl UnitJson {
    /// The unit as the API answers it; a head or leader the user may not see is left out.
    fn new(u: Unit, staff: &Visible) -> Self {
        Self {
            id: u.id,
            code: u.code,
            name: u.name,
            kind: u.kind.as_str(),
            parent_id: u.parent_id,
            staffed_by_id: u.staffed_by_id,
            head_staff_id: u.head_staff_id.filter(|s| staff.sees(s)),
            leader_staff_id: u.leader_staff_id.filter(|s| staff.sees(s)),
            active: u.active,
            created_at: timestamp(u.created_at),
            updated_at: timestamp(u.updated_at),
        }
    }
}

/// Which of the staff named by some units (as head or leader) a user sees.
enum Visible {
    All,
    Only(HashSet<String>),
}

impl Visible {
    async fn of(state: &AppState, user: &CurrentUser, units: &[&Unit]) -> Result<Self> {
        if scope(&user.account, Action::ReadStaff) == Scope::Tenant {
            return Ok(Visible::All);
        }
        let ids: Vec<&str> = units
            .iter()
            .flat_map(|u| [u.head_staff_id.as_deref(), u.leader_staff_id.as_deref()])
            .flatten()
            .collect();
        if ids.is_empty() {
            return Ok(Visible::Only(HashSet::new()));
        }
        let view = OrgView::load(state, user).await?;
        let staff = state.store.staff_by_ids(&user.tenant.id, &ids).await?;
        Ok(Visible::Only(
            staff
                .into_iter()
                .filter(|s| view.sees(user, s))
                .map(|s| s.id)
                .collect(),
        ))
    }

    fn sees(&self, id: &str) -> bool {
        match self {
            Visible::All => true,
            Visible::Only(ids) => ids.contains(id),
        }
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    kind: Option<String>,
    parent_id: Option<String>,
    q: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

impl ListQuery {
    fn filter(&self) -> Result<UnitFilter> {
        let kind = match self.kind.as_deref().filter(|k| !k.is_empty()) {
            Some(k) => Some(
                k.parse::<UnitKind>()
                    .map_err(|e| Error::bad_param("kind", e.to_string()))?,
            ),
            None => None,
        };
        Ok(UnitFilter {
            kind,
            parent_id: self.parent_id.clone().filter(|p| !p.is_empty()),
            name_contains: self
                .q
                .as_deref()
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(str::to_owned),
        })
    }
}

/// `GET /api/v1/units`
/// The user, if they may read the organisation; otherwise the organisation does not exist for them.
fn reader(user: CurrentUser) -> Result<CurrentUser> {
    if allows(&user.account, Action::ReadOrg) {
        Ok(user)
    } else {
        Err(Error::not_found())
    }
}

async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<UnitJson>>> {
    let user = reader(user)?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_units(&user.tenant.id, &q.filter()?, request)
        .await?;
    let visible = Visible::of(&state, &user, &page.items.iter().collect::<Vec<_>>()).await?;
    Ok(Json(ListBody::from_page(page, |u| {
        UnitJson::new(u, &visible)
    })))
}

/// `GET /api/v1/units/{id}`
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<UnitJson>> {
    let user = reader(user)?;
    let unit = state
        .store
        .unit(&user.tenant.id, &id)
        .await?
        .ok_or_else(Error::not_found)?;
    let visible = Visible::of(&state, &user, &[&unit]).await?;
    Ok(Json(UnitJson::new(unit, &visible)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUnitBody {
    code: String,
    name: String,
    kind: String,
    parent_id: Option<String>,
    staffed_by_id: Option<String>,
}

/// Creates a unit from the API body or the form (parent and staffing unit named by id);
/// each refusal names its field.
async fn create_unit(state: &AppState, user: &CurrentUser, body: &NewUnitBody) -> Result<String> {
    let code = UnitCode::parse(&body.code).map_err(|e| Error::field("code", e.to_string()))?;
    let kind = match body.kind.trim() {
        "" => return Err(Error::field("kind", "请选择单位类型")),
        k => k
            .parse::<UnitKind>()
            .map_err(|e| Error::field("kind", e.to_string()))?,
    };
    let view = OrgView::load(state, user).await?;
    let code_of = |id: &Option<String>, field: &str, missing: &str| -> Result<Option<UnitCode>> {
        match id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
            Some(id) => {
                let unit = view
                    .unit(id)
                    .ok_or_else(|| Error::field(field, missing.to_owned()))?;
                UnitCode::parse(&unit.code)
                    .map(Some)
                    .map_err(|e| Error::Internal(anyhow::anyhow!("stored unit code: {e}")))
            }
            None => Ok(None),
        }
    };
    let new = NewUnit {
        code,
        name: body.name.clone(),
        kind,
        parent: code_of(&body.parent_id, "parent_id", "上级单位不存在")?,
        staffed_by: code_of(&body.staffed_by_id, "staffed_by_id", "派驻单位不存在")?,
    };
    state
        .store
        .create_unit(&user.audit(), &user.tenant.id, &new)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(m) => Error::conflict(m.clone()).with_field("code", m),
            other => other.into(),
        })
}

/// `POST /api/v1/units`
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<NewUnitBody>, Error>,
) -> Result<Response> {
    let user = reader(user)?;
    manager(&user)?;
    // who may act is decided before the body is read, so a refused body tells nothing
    let ApiJson(body) = body?;
    let id = create_unit(&state, &user, &body).await?;
    let unit = state
        .store
        .unit(&user.tenant.id, &id)
        .await?
        .ok_or_else(Error::not_found)?;
    let visible = Visible::of(&state, &user, &[&unit]).await?;
    Ok((StatusCode::CREATED, Json(UnitJson::new(unit, &visible))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitPatch {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    head_staff_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    leader_staff_id: Option<Option<String>>,
    active: Option<bool>,
}

/// `PATCH /api/v1/units/{id}`
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<UnitPatch>, Error>,
) -> Result<Json<UnitJson>> {
    let user = reader(user)?;
    state
        .store
        .unit(&user.tenant.id, &id)
        .await?
        .ok_or_else(Error::not_found)?;
    manager(&user)?;
    // who may act is decided before the body is read, so a refused body tells nothing
    let ApiJson(body) = body?;
    let change = UnitChange {
        name: body.name,
        head_staff_id: body.head_staff_id,
        leader_staff_id: body.leader_staff_id,
        active: body.active,
    };
    let unit = state
        .store
        .update_unit(&user.audit(), &user.tenant.id, &id, &change)
        .await?;
    let visible = Visible::of(&state, &user, &[&unit]).await?;
    Ok(Json(UnitJson::new(unit, &visible)))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let unit = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "code": {"type": "string"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": UnitKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()},
        "parent_id": {"type": ["string", "null"]}, "staffed_by_id": {"type": ["string", "null"]},
        "head_staff_id": {"type": ["string", "null"], "description": "负责人 (left out when the user may not see the staff member)"},
        "leader_staff_id": {"type": ["string", "null"], "description": "分管区领导 (likewise)"},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}});
    let [page, per_page] = paging();
    let mut paths = Map::new();
    let body = |props: Value, required: &[&str]| {
        json!({"required": true, "content": {"application/json": {"schema": {
            "type": "object", "properties": props, "required": required, "additionalProperties": false}}}})
    };
    let mut create = operation(
        "Create one unit (sysadmin; others 403). 201 with the unit; 422 names the field, 409 a code in use.",
        &[],
        unit.clone(),
    );
    create["responses"]["201"] = create["responses"]["200"].clone();
    create["requestBody"] = body(
        json!({"code": {"type": "string"}, "name": {"type": "string", "maxLength": 64},
               "kind": {"type": "string"}, "parent_id": {"type": ["string", "null"]},
               "staffed_by_id": {"type": ["string", "null"], "description": "windows only: a department or street"}}),
        &["code", "name", "kind"],
    );
    let mut patch = operation(
        "Change a unit (sysadmin; 403 for others): name, head, leader (null clears), active (409 while it has active children).",
        &[path("id", "unit id")],
        unit.clone(),
    );
    patch["requestBody"] = body(
        json!({"name": {"type": "string"}, "head_staff_id": {"type": ["string", "null"]},
               "leader_staff_id": {"type": ["string", "null"]}, "active": {"type": "boolean"}}),
        &[],
    );
    paths.insert(
        "/api/v1/units".into(),
        json!({"post": create, "get": operation(
            "The signed-in user's tenant's units, filtered (not for auditor and enterprise roles: 404).",
            &[
                query("kind", false, json!({"type": "string"}), "only this kind"),
                query("parent_id", false, json!({"type": "string"}), "only children of this unit"),
                query("q", false, json!({"type": "string"}), "name contains"),
                page,
                per_page,
            ],
            list_of(unit.clone()),
        )}),
    );
    paths.insert(
        "/api/v1/units/{id}".into(),
        json!({"get": operation("One unit.", &[path("id", "unit id")], unit), "patch": patch}),
    );
    paths.insert(
        "/api/v1/units/import".into(),
        json!({"post": import::openapi_operation(
            "units (upsert by 代码)",
            "代码, 名称, 类型 (区委区政府办公室/部门/街道/村居社区/服务大厅/窗口 or the kind's code name), 上级代码 (all but the top level), 派驻单位代码 (windows only)",
        )}),
    );
    paths
}

/// One line of the rendered tree: opening a branch, a leaf, or closing a branch.
enum TreeLine {
    Open {
        id: String,
        name: String,
        kind: UnitKind,
        count: usize,
        open: bool,
    },
    Leaf {
        id: String,
        name: String,
        kind: UnitKind,
    },
    Close,
}

/// Flattens the tree into lines, children in stored order; top two levels open.
fn tree_lines(units: &[Unit]) -> Vec<TreeLine> {
    let mut children: HashMap<Option<&str>, Vec<&Unit>> = HashMap::new();
    for unit in units {
        children
            .entry(unit.parent_id.as_deref())
            .or_default()
            .push(unit);
    }
    let mut lines = Vec::with_capacity(units.len() * 2);
    fn walk<'a>(
        unit: &'a Unit,
        depth: usize,
        children: &HashMap<Option<&'a str>, Vec<&'a Unit>>,
        lines: &mut Vec<TreeLine>,
    ) {
        match children.get(&Some(unit.id.as_str())) {
            Some(kids) => {
                lines.push(TreeLine::Open {
                    id: unit.id.clone(),
                    name: unit.name.clone(),
                    kind: unit.kind,
                    count: kids.len(),
                    open: depth == 0,
                });
                for kid in kids {
                    walk(kid, depth + 1, children, lines);
                }
                lines.push(TreeLine::Close);
            }
            None => lines.push(TreeLine::Leaf {
                id: unit.id.clone(),
                name: unit.name.clone(),
                kind: unit.kind,
            }),
        }
    }
    for root in children.get(&None).cloned().unwrap_or_default() {
        walk(root, 0, &children, &mut lines);
    }
    lines
}

#[derive(Template)]
#[template(path = "units_tree.html")]
struct TreePage {
    layout: Layout,
    lines: Vec<TreeLine>,
    counts: Vec<(UnitKind, usize)>,
    manage: bool,
}

/// `GET /units`: the unit tree.
async fn tree_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let units = state.store.units(&user.tenant.id).await?;
    let counts = UnitKind::ALL
        .into_iter()
        .map(|k| (k, units.iter().filter(|u| u.kind == k).count()))
        .collect();
    render(&TreePage {
        layout: Layout::for_user("units.tree.title", "units", &user),
        lines: tree_lines(&units),
        counts,
        manage: allows(&user.account, Action::ManageOrg),
    })
}

#[derive(Template)]
#[template(path = "units_list.html")]
struct ListPage {
    layout: Layout,
    units: Vec<(Unit, String)>,
    kinds: Vec<UnitKind>,
    kind: String,
    q: String,
    page: u32,
    pages: u32,
    total: i64,
    prev_link: Option<String>,
    next_link: Option<String>,
}

/// `GET /units/list`: a searchable, paged list.
async fn list_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let filter = q.filter()?;
    let page = state
        .store
        .list_units(&user.tenant.id, &filter, request)
        .await?;
    let all = state.store.units(&user.tenant.id).await?;
    let names: HashMap<&str, &str> = all
        .iter()
        .map(|u| (u.id.as_str(), u.name.as_str()))
        .collect();
    let units = page
        .items
        .iter()
        .map(|u| {
            let parent = u
                .parent_id
                .as_deref()
                .and_then(|p| names.get(p))
                .map(|n| n.to_string())
                .unwrap_or_default();
            (u.clone(), parent)
        })
        .collect();
    let per_page = i64::from(request.per_page);
    let pages = u32::try_from(((page.total + per_page - 1) / per_page).max(1)).unwrap_or(1);
    let link = |p: u32| {
        let mut params = vec![format!("page={p}")];
        if let Some(k) = &q.kind {
            params.push(format!("kind={k}"));
        }
        if let Some(t) = q.q.as_deref().filter(|t| !t.is_empty()) {
            params.push(format!("q={}", encode(t)));
        }
        format!("/units/list?{}", params.join("&"))
    };
    render(&ListPage {
        layout: Layout::for_user("units.list.title", "units", &user),
        units,
        kinds: UnitKind::ALL.to_vec(),
        kind: q.kind.clone().unwrap_or_default(),
        q: q.q.clone().unwrap_or_default(),
        page: request.page,
        pages,
        total: page.total,
        prev_link: (request.page > 1).then(|| link(request.page - 1)),
        next_link: (request.page < pages).then(|| link(request.page + 1)),
    })
}

/// Percent-encodes a query value.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "unit_detail.html")]
struct DetailPage {
    layout: Layout,
    unit: Unit,
    path: Vec<Unit>,
    staffed_by: Option<Unit>,
    children: Vec<Unit>,
    windows_staffed: Vec<Unit>,
    head: Option<Staff>,
    leader: Option<Staff>,
    /// Staff with a post here the user sees; `None` when the user may not read staff.
    staff_count: Option<i64>,
    manage: bool,
    /// Former names: (used until, name), most recent first.
    former_names: Vec<(String, String)>,
    /// Reorganisations touching it: (id, effective date, kind key, state key, document).
    reorgs: Vec<(String, String, String, String, String)>,
    timeline: Vec<TimelineLine>,
}

/// `GET /units/{id}`: one unit with its place in the tree.
async fn detail_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let all = state.store.units(&user.tenant.id).await?;
    let by_id: HashMap<&str, &Unit> = all.iter().map(|u| (u.id.as_str(), u)).collect();
    let unit = (*by_id.get(id.as_str()).ok_or_else(Error::not_found)?).clone();
    let mut path = Vec::new();
    let mut parent = unit.parent_id.as_deref();
    while let Some(p) = parent.and_then(|p| by_id.get(p)) {
        path.push((*p).clone());
        parent = p.parent_id.as_deref();
    }
    path.reverse();
    let (head, leader, staff_count) = if allows(&user.account, Action::ReadStaff) {
        let ids: Vec<&str> = [
            unit.head_staff_id.as_deref(),
            unit.leader_staff_id.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect();
        let view = OrgView::load(&state, &user).await?;
        let named: Vec<Staff> = state
            .store
            .staff_by_ids(&user.tenant.id, &ids)
            .await?
            .into_iter()
            .filter(|s| view.sees(&user, s))
            .collect();
        let pick = |id: &Option<String>| named.iter().find(|s| Some(&s.id) == id.as_ref()).cloned();
        let within = match scope(&user.account, Action::ReadStaff) {
            Scope::Subtree(root) => Some(root.to_owned()),
            _ => None,
        };
        let count = state
            .store
            .list_staff(
                &user.tenant.id,
                &StaffFilter {
                    unit_id: Some(unit.id.clone()),
                    within,
                    ..StaffFilter::default()
                },
                PageRequest {
                    page: 1,
                    per_page: 1,
                },
            )
            .await?
            .total;
        (
            pick(&unit.head_staff_id),
            pick(&unit.leader_staff_id),
            Some(count),
        )
    } else {
        (None, None, None)
    };
    let former_names = state
        .store
        .former_names(&user.tenant.id, &unit.id)
        .await?
        .into_iter()
        .map(|(until, name)| (until.to_string(), name))
        .collect();
    let reorgs = state
        .store
        .list_reorganisations(
            &user.tenant.id,
            Some(&unit.id),
            PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            },
        )
        .await?
        .items
        .into_iter()
        .map(|r| {
            (
                r.id,
                r.effective_on.to_string(),
                format!("reorg.kind.{}", r.plan.kind().as_str()),
                format!("reorg.state.{}", r.state.as_str()),
                r.document,
            )
        })
        .collect();
    let timeline = timeline(&state, &user.tenant.id, "unit", &unit.id, Reader::Staff).await?;
    render(&DetailPage {
        former_names,
        reorgs,
        timeline,
        head,
        leader,
        staff_count,
        manage: allows(&user.account, Action::ManageOrg),
        layout: Layout::for_user("units.detail.title", "units", &user).titled(unit.name.clone()),
        staffed_by: unit
            .staffed_by_id
            .as_deref()
            .and_then(|s| by_id.get(s))
            .map(|u| (*u).clone()),
        children: all
            .iter()
            .filter(|u| u.parent_id.as_deref() == Some(unit.id.as_str()))
            .cloned()
            .collect(),
        windows_staffed: all
            .iter()
            .filter(|u| u.staffed_by_id.as_deref() == Some(unit.id.as_str()))
            .cloned()
            .collect(),
        unit,
        path,
    })
}

#[derive(Template)]
#[template(path = "unit_form.html")]
struct FormPage {
    layout: Layout,
    csrf: String,
    /// `/units/new` or `/units/{id}/edit`.
    action: String,
    editing: bool,
    code: String,
    name: String,
    kind: String,
    kinds: Vec<UnitKind>,
    parent_id: String,
    parents: Vec<(String, String)>,
    staffed_by_id: String,
    staffing: Vec<(String, String)>,
    head_staff_id: String,
    heads: Vec<(String, String)>,
    leader_staff_id: String,
    leaders: Vec<(String, String)>,
    active: bool,
    errors: FormErrors,
}

impl FormPage {
    fn blank(user: &CurrentUser, title: &str, action: String, editing: bool) -> Self {
        Self {
            layout: Layout::for_user(title, "units", user),
            csrf: user.csrf_token.clone(),
            action,
            editing,
            code: String::new(),
            name: String::new(),
            kind: String::new(),
            kinds: UnitKind::ALL.to_vec(),
            parent_id: String::new(),
            parents: Vec::new(),
            staffed_by_id: String::new(),
            staffing: Vec::new(),
            head_staff_id: String::new(),
            heads: Vec::new(),
            leader_staff_id: String::new(),
            leaders: Vec::new(),
            active: true,
            errors: FormErrors::default(),
        }
    }

    async fn new_unit(state: &AppState, user: &CurrentUser) -> Result<Self> {
        let view = OrgView::load(state, user).await?;
        Ok(Self {
            parents: view.choices(|u| u.kind != UnitKind::Window),
            staffing: view.choices(|u| matches!(u.kind, UnitKind::Department | UnitKind::Street)),
            ..Self::blank(user, "units.new.title", "/units/new".into(), false)
        })
    }

    /// The edit form of `unit`: heads from its staff, leaders from the district offices' staff.
    async fn edit_unit(state: &AppState, user: &CurrentUser, unit: &Unit) -> Result<Self> {
        let staff_of = |unit_id: String| async move {
            let filter = StaffFilter {
                unit_id: Some(unit_id),
                active: Some(true),
                ..StaffFilter::default()
            };
            let request = PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            };
            state
                .store
                .list_staff(&user.tenant.id, &filter, request)
                .await
                .map(|p| {
                    p.items
                        .into_iter()
                        .map(|s| (s.id, format!("{}（{}）", s.name, s.position)))
                        .collect::<Vec<_>>()
                })
        };
        let mut leaders = Vec::new();
        for office in state
            .store
            .units(&user.tenant.id)
            .await?
            .into_iter()
            .filter(|u| u.kind == UnitKind::DistrictOffice)
        {
            leaders.extend(staff_of(office.id).await?);
        }
        Ok(Self {
            name: unit.name.clone(),
            head_staff_id: unit.head_staff_id.clone().unwrap_or_default(),
            heads: staff_of(unit.id.clone()).await?,
            leader_staff_id: unit.leader_staff_id.clone().unwrap_or_default(),
            leaders,
            active: unit.active,
            ..Self::blank(
                user,
                "units.edit.title",
                format!("/units/{}/edit", unit.id),
                true,
            )
        })
    }
}

/// The sysadmin's form pages: 404 for who may not read units, 403 for other readers.
fn form_user(user: CurrentUser) -> Result<CurrentUser> {
    let user = reader(user)?;
    manager(&user)?;
    Ok(user)
}

/// `GET /units/new`
async fn new_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = form_user(user)?;
    let mut page = FormPage::new_unit(&state, &user).await?;
    page.parent_id = q.get("parent_id").cloned().unwrap_or_default();
    render(&page)
}

/// `POST /units/new`
async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = form_user(user)?;
    let optional = |name: &str| Some(form_value(&form, name)).filter(|v| !v.is_empty());
    let body = NewUnitBody {
        code: form_value(&form, "code"),
        name: form_value(&form, "name"),
        kind: form_value(&form, "kind"),
        parent_id: optional("parent_id"),
        staffed_by_id: optional("staffed_by_id"),
    };
    match create_unit(&state, &user, &body).await {
        Ok(id) => Ok(see_other(&format!("/units/{id}"))),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            let mut page = FormPage::new_unit(&state, &user).await?;
            page.code = body.code;
            page.name = body.name;
            page.kind = body.kind;
            page.parent_id = body.parent_id.unwrap_or_default();
            page.staffed_by_id = body.staffed_by_id.unwrap_or_default();
            page.errors = errors;
            render_status(&page, status)
        }
    }
}

/// The unit of an edit page: 404 unless the user may read units and it exists.
async fn editable(state: &AppState, user: CurrentUser, id: &str) -> Result<(CurrentUser, Unit)> {
    let user = reader(user)?;
    let unit = state
        .store
        .unit(&user.tenant.id, id)
        .await?
        .ok_or_else(Error::not_found)?;
    manager(&user)?;
    Ok((user, unit))
}

/// `GET /units/{id}/edit`
async fn edit_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (user, unit) = editable(&state, user, &id).await?;
    let page = FormPage::edit_unit(&state, &user, &unit).await?;
    render(&page)
}

/// `POST /units/{id}/edit`
async fn edit_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let (user, unit) = editable(&state, user, &id).await?;
    let optional = |name: &str| Some(form_value(&form, name)).filter(|v| !v.is_empty());
    let change = UnitChange {
        name: Some(form_value(&form, "name")),
        head_staff_id: Some(optional("head_staff_id")),
        leader_staff_id: Some(optional("leader_staff_id")),
        active: Some(form_value(&form, "active") != "false"),
    };
    match state
        .store
        .update_unit(&user.audit(), &user.tenant.id, &id, &change)
        .await
    {
        Ok(unit) => Ok(see_other(&format!("/units/{}", unit.id))),
        Err(e) => {
            // a state conflict (children still active, parent disabled) is about `active`
            let e = match Error::from(e) {
                Error::Client {
                    status: StatusCode::CONFLICT,
                    message,
                    ..
                } => Error::conflict(message.clone()).with_field("active", message),
                other => other,
            };
            let (status, errors) = FormErrors::from_error(e)?;
            let mut page = FormPage::edit_unit(&state, &user, &unit).await?;
            page.name = change.name.unwrap_or_default();
            page.head_staff_id = change.head_staff_id.flatten().unwrap_or_default();
            page.leader_staff_id = change.leader_staff_id.flatten().unwrap_or_default();
            page.active = change.active.unwrap_or(unit.active);
            page.errors = errors;
            render_status(&page, status)
        }
    }
}
