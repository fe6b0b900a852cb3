//! The organisation, read side: the unit tree, list and detail as pages, and the units API.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use domain::org::UnitKind;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::unit::{Unit, UnitFilter};

use crate::auth::{CurrentUser, PageUser};
use crate::error::{Error, PageError, Result};
use crate::extract::ApiQuery;
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::pages::{Layout, render};
use crate::policy::{Action, allows};
use crate::routes::Api;
use crate::state::AppState;

pub(crate) fn api() -> Api {
    Api::default()
        .get("/api/v1/units", list)
        .get("/api/v1/units/{id}", show)
}

pub(crate) fn pages() -> Router<AppState> {
    Router::new()
        .route("/units", get(tree_page))
        .route("/units/list", get(list_page))
        .route("/units/{id}", get(detail_page))
}

#[derive(Serialize)]
struct UnitJson {
    id: String,
    code: String,
    name: String,
    kind: &'static str,
    parent_id: Option<String>,
    staffed_by_id: Option<String>,
    active: bool,
    created_at: String,
    updated_at: String,
}

impl From<Unit> for UnitJson {
    fn from(u: Unit) -> Self {
        Self {
            id: u.id,
            code: u.code,
            name: u.name,
            kind: u.kind.as_str(),
            parent_id: u.parent_id,
            staffed_by_id: u.staffed_by_id,
            active: u.active,
            created_at: timestamp(u.created_at),
            updated_at: timestamp(u.updated_at),
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
    Ok(Json(ListBody::from_page(page, UnitJson::from)))
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
    Ok(Json(unit.into()))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let unit = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "code": {"type": "string"}, "name": {"type": "string"},
        "kind": {"type": "string", "enum": UnitKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>()},
        "parent_id": {"type": ["string", "null"]}, "staffed_by_id": {"type": ["string", "null"]},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}});
    let [page, per_page] = paging();
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/units".into(),
        json!({"get": operation(
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
        json!({"get": operation("One unit.", &[path("id", "unit id")], unit)}),
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
    render(&DetailPage {
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
