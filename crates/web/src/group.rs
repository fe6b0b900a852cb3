//! The leading group (领导小组) and its working groups (工作组): every staff role reads them;
//! the sysadmin maintains them through the API.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::org::GroupRole;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::group::{Group, NewGroup};

use crate::auth::{CurrentUser, PageUser};
use crate::error::{Error, PageError, Result};
use crate::extract::ApiJson;
use crate::openapi::{operation, path};
use crate::pages::{Layout, render};
use crate::policy::{Action, permitted, visible_to};
use crate::routes::Routes;
use crate::state::AppState;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/groups", list)
        .post("/api/v1/groups", create)
        .get("/api/v1/groups/{id}", show)
        .route(Method::PATCH, "/api/v1/groups/{id}", update)
        .route(Method::PUT, "/api/v1/groups/{id}/members", set_members)
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/groups", list_page)
        .get("/groups/{id}", detail_page)
}

fn reader(user: CurrentUser) -> Result<CurrentUser> {
    visible_to(user, Action::ReadOrg)
}

fn manager(user: &CurrentUser) -> Result<()> {
    permitted(
        user,
        Action::ManageOrg,
        "只有系统管理员可以维护领导小组和工作组",
    )
}

#[derive(Serialize)]
struct MemberJson {
    staff_id: String,
    name: String,
    position: String,
    role: &'static str,
}

#[derive(Serialize)]
struct GroupJson {
    id: String,
    name: String,
    parent_id: Option<String>,
    duties: String,
    members: Vec<MemberJson>,
}

impl From<Group> for GroupJson {
    fn from(g: Group) -> Self {
        Self {
            id: g.id,
            name: g.name,
            parent_id: g.parent_id,
            duties: g.duties,
            members: g
                .members
                .into_iter()
                .map(|m| MemberJson {
                    staff_id: m.staff_id,
                    name: m.name,
                    position: m.position,
                    role: m.role.as_str(),
                })
                .collect(),
        }
    }
}

async fn group_of(state: &AppState, user: &CurrentUser, id: &str) -> Result<Group> {
    state
        .store
        .group(&user.tenant.id, id)
        .await?
        .ok_or_else(Error::not_found)
}

/// `GET /api/v1/groups`: every group, leading groups each followed by their working groups.
async fn list(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>> {
    let user = reader(user)?;
    let groups: Vec<GroupJson> = state
        .store
        .groups(&user.tenant.id)
        .await?
        .into_iter()
        .map(GroupJson::from)
        .collect();
    let total = groups.len();
    Ok(Json(
        json!({"items": groups, "page": 1, "per_page": total.max(1), "total": total}),
    ))
}

/// `GET /api/v1/groups/{id}`
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<GroupJson>> {
    let user = reader(user)?;
    Ok(Json(group_of(&state, &user, &id).await?.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewGroupBody {
    name: String,
    parent_id: Option<String>,
    #[serde(default)]
    duties: String,
}

/// `POST /api/v1/groups`
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<NewGroupBody>, Error>,
) -> Result<Response> {
    let user = reader(user)?;
    manager(&user)?;
    let ApiJson(body) = body?;
    let group = state
        .store
        .create_group(
            &user.audit(),
            &user.tenant.id,
            &NewGroup {
                name: body.name,
                parent_id: body.parent_id,
                duties: body.duties,
            },
        )
        .await
        .map_err(|e| Error::from_store_on(e, "name"))?;
    Ok((StatusCode::CREATED, Json(GroupJson::from(group))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupPatch {
    name: Option<String>,
    duties: Option<String>,
}

/// `PATCH /api/v1/groups/{id}`
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<GroupPatch>, Error>,
) -> Result<Json<GroupJson>> {
    let user = reader(user)?;
    group_of(&state, &user, &id).await?;
    manager(&user)?;
    let ApiJson(body) = body?;
    let group = state
        .store
        .update_group(
            &user.audit(),
            &user.tenant.id,
            &id,
            body.name.as_deref(),
            body.duties.as_deref(),
        )
        .await
        .map_err(|e| Error::from_store_on(e, "name"))?;
    Ok(Json(group.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersBody {
    members: Vec<MemberBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberBody {
    staff_id: String,
    role: String,
}

/// `PUT /api/v1/groups/{id}/members`: the whole membership at once.
async fn set_members(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<MembersBody>, Error>,
) -> Result<Json<GroupJson>> {
    let user = reader(user)?;
    group_of(&state, &user, &id).await?;
    manager(&user)?;
    let ApiJson(body) = body?;
    let members = body
        .members
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            m.role
                .parse::<GroupRole>()
                .map(|role| (m.staff_id, role))
                .map_err(|e| Error::field(&format!("members[{i}].role"), e))
        })
        .collect::<Result<Vec<_>>>()?;
    let group = state
        .store
        .set_group_members(&user.audit(), &user.tenant.id, &id, &members)
        .await
        .map_err(|e| Error::from_store_on(e, "members"))?;
    Ok(Json(group.into()))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let group = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "parent_id": {"type": ["string", "null"]},
        "duties": {"type": "string"},
        "members": {"type": "array", "items": {"type": "object", "properties": {
            "staff_id": {"type": "string"}, "name": {"type": "string"}, "position": {"type": "string"},
            "role": {"type": "string", "enum": ["head", "deputy", "member", "liaison"]}}}}}});
    let body = |props: Value| json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": props}}}});
    let id = path("id", "group id");
    let mut paths = Map::new();
    let mut create = operation(
        "Create a group (sysadmin); with parent_id a working group.",
        &[],
        group.clone(),
    );
    create["requestBody"] = body(
        json!({"name": {"type": "string"}, "parent_id": {"type": ["string", "null"]}, "duties": {"type": "string"}}),
    );
    paths.insert(
        "/api/v1/groups".into(),
        json!({"get": operation("The leading group(s) and working groups.", &[], crate::openapi::list_of(group.clone())), "post": create}),
    );
    let mut patch = operation(
        "Rename a group or rewrite its duties (sysadmin).",
        std::slice::from_ref(&id),
        group.clone(),
    );
    patch["requestBody"] = body(json!({"name": {"type": "string"}, "duties": {"type": "string"}}));
    paths.insert(
        "/api/v1/groups/{id}".into(),
        json!({"get": operation("One group with its members.", std::slice::from_ref(&id), group.clone()), "patch": patch}),
    );
    let mut members = operation(
        "Replace the members (sysadmin).",
        std::slice::from_ref(&id),
        group,
    );
    members["requestBody"] = body(
        json!({"members": {"type": "array", "items": {"type": "object", "properties": {
        "staff_id": {"type": "string"}, "role": {"type": "string", "enum": ["head", "deputy", "member", "liaison"]}}}}}),
    );
    paths.insert(
        "/api/v1/groups/{id}/members".into(),
        json!({"put": members}),
    );
    paths
}

struct GroupView {
    id: String,
    name: String,
    working: bool,
    duties: String,
    members: Vec<(String, String, &'static str)>,
}

impl From<Group> for GroupView {
    fn from(g: Group) -> Self {
        Self {
            working: g.parent_id.is_some(),
            members: g
                .members
                .into_iter()
                .map(|m| (m.name, m.position, m.role.label()))
                .collect(),
            id: g.id,
            name: g.name,
            duties: g.duties,
        }
    }
}

#[derive(Template)]
#[template(path = "groups.html")]
struct ListPage {
    layout: Layout,
    groups: Vec<GroupView>,
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let groups = state.store.groups(&user.tenant.id).await?;
    render(&ListPage {
        layout: Layout::for_user("groups.title", "units", &user),
        groups: groups.into_iter().map(GroupView::from).collect(),
    })
}

#[derive(Template)]
#[template(path = "group_detail.html")]
struct DetailPage {
    layout: Layout,
    group: GroupView,
}

async fn detail_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let group = group_of(&state, &user, &id).await?;
    render(&DetailPage {
        layout: Layout::for_user("groups.title", "units", &user).titled(group.name.clone()),
        group: group.into(),
    })
}
