//! Supervision notices (督办单): the list and the printable notice, for the supervisor, leaders
//! and the contacts of the units concerned (a `unit_admin`: notices of units in its subtree).

use std::collections::HashMap;

use askama::Template;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Serialize;
use serde_json::{Map, Value, json};
use store::notice::{Notice, NoticeFilter};
use store::page::PageRequest;

use crate::auth::{CurrentUser, PageUser};
use crate::error::{Error, PageError, Result};
use crate::extract::ApiQuery;
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::pages::{Layout, render};
use crate::policy::{Action, visible_to};
use crate::routes::Routes;
use crate::state::AppState;
use crate::task::Units;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/notices", list)
        .get("/api/v1/notices/{id}", show)
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/notices", list_page)
        .get("/notices/{id}", detail_page)
}

fn reader(user: CurrentUser) -> Result<CurrentUser> {
    visible_to(user, Action::ReadNotices)
}

fn sees(units: &Units, notice: &Notice) -> bool {
    match (&units.scope, &notice.unit_id) {
        (None, _) => true,
        (Some(ids), Some(unit)) => ids.iter().any(|i| i == unit),
        (Some(_), None) => false,
    }
}

/// A notice with what a reader is told of it.
#[derive(Serialize)]
struct NoticeJson {
    id: String,
    number: String,
    record_type: String,
    record_id: String,
    /// The record's title (a task's name).
    record_title: String,
    /// Where the record's page is.
    record_url: String,
    step: String,
    unit_id: Option<String>,
    unit_name: String,
    due_at: String,
    issued_at: String,
    level: i32,
    /// Who it is addressed to at its level.
    addressed_to: String,
    escalated_at: Option<String>,
    closed_at: Option<String>,
    state: &'static str,
}

async fn notice_json(
    state: &AppState,
    user: &CurrentUser,
    units: &Units,
    n: Notice,
) -> Result<NoticeJson> {
    let catalog = crate::i18n::Catalog::zh_cn();
    let (record_title, record_url) = match n.record_type.as_str() {
        "task" => (
            state
                .store
                .task(&user.tenant.id, &n.record_id)
                .await?
                .map(|t| t.title)
                .unwrap_or_default(),
            format!("/tasks/{}", n.record_id),
        ),
        "finding" => (
            state
                .store
                .finding(&user.tenant.id, &n.record_id)
                .await?
                .map(|f| {
                    format!(
                        "{}问题：{}",
                        f.category,
                        f.description.chars().take(30).collect::<String>()
                    )
                })
                .unwrap_or_default(),
            format!("/findings/{}", n.record_id),
        ),
        "appeal" => (
            state
                .store
                .appeal(&user.tenant.id, &n.record_id)
                .await?
                .map(|a| format!("{} {}", a.number, a.title))
                .unwrap_or_default(),
            format!("/appeals/{}", n.record_id),
        ),
        other => (
            store::notification::record_noun(other).to_owned(),
            store::notification::record_url(other, &n.record_id),
        ),
    };
    let unit = n.unit_id.as_deref().and_then(|u| units.by_id.get(u));
    // level 1 the unit's head, 2 its 分管区领导, 3 the supervisor; a missing person passes it up
    let person = match (n.level, unit) {
        (1, Some(u)) => u
            .head_staff_id
            .clone()
            .or_else(|| u.leader_staff_id.clone()),
        (2, Some(u)) => u.leader_staff_id.clone(),
        _ => None,
    };
    let addressed_to = match person {
        Some(id) => match state.store.staff(&user.tenant.id, &id).await? {
            Some(s) => format!("{}（{}）", s.name, s.position),
            None => catalog.t("notice.to.supervisor").to_owned(),
        },
        None => catalog.t("notice.to.supervisor").to_owned(),
    };
    Ok(NoticeJson {
        unit_name: n
            .unit_id
            .as_deref()
            .map(|u| units.name(u))
            .unwrap_or_default(),
        record_title,
        record_url,
        addressed_to,
        due_at: timestamp(n.due_at),
        issued_at: timestamp(n.issued_at),
        escalated_at: n.escalated_at.map(timestamp),
        state: if n.closed_at.is_some() {
            "closed"
        } else {
            "open"
        },
        closed_at: n.closed_at.map(timestamp),
        id: n.id,
        number: n.number,
        record_type: n.record_type,
        record_id: n.record_id,
        step: n.step,
        unit_id: n.unit_id,
        level: n.level,
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    state: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

fn filter(q: &ListQuery, units: &Units) -> Result<NoticeFilter> {
    let open = match q.state.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("open") => Some(true),
        Some("closed") => Some(false),
        Some(_) => return Err(Error::bad_param("state", "状态 state 应为 open 或 closed")),
    };
    Ok(NoticeFilter {
        unit_ids: units.scope.clone(),
        open,
        record: None,
    })
}

/// `GET /api/v1/notices`
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<NoticeJson>>> {
    let user = reader(user)?;
    let units = Units::load_for(&state, &user, Action::ReadNotices).await?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_notices(&user.tenant.id, &filter(&q, &units)?, request)
        .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for n in page.items {
        items.push(notice_json(&state, &user, &units, n).await?);
    }
    Ok(Json(ListBody {
        items,
        page: page.request.page,
        per_page: page.request.per_page,
        total: page.total,
    }))
}

async fn notice_of(
    state: &AppState,
    user: &CurrentUser,
    units: &Units,
    id: &str,
) -> Result<Notice> {
    state
        .store
        .notice(&user.tenant.id, id)
        .await?
        .filter(|n| sees(units, n))
        .ok_or_else(Error::not_found)
}

/// `GET /api/v1/notices/{id}`
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<NoticeJson>> {
    let user = reader(user)?;
    let units = Units::load_for(&state, &user, Action::ReadNotices).await?;
    let notice = notice_of(&state, &user, &units, &id).await?;
    Ok(Json(notice_json(&state, &user, &units, notice).await?))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let notice = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "number": {"type": "string", "description": "e.g. 槐营商督〔2026〕12号"},
        "record_type": {"type": "string"}, "record_id": {"type": "string"}, "record_title": {"type": "string"},
        "record_url": {"type": "string"}, "step": {"type": "string"},
        "unit_id": {"type": ["string", "null"]}, "unit_name": {"type": "string"},
        "due_at": {"type": "string", "format": "date-time"}, "issued_at": {"type": "string", "format": "date-time"},
        "level": {"type": "integer", "description": "1 the unit's head, 2 its 分管区领导, 3 the supervisor"},
        "addressed_to": {"type": "string"},
        "escalated_at": {"type": ["string", "null"], "format": "date-time"},
        "closed_at": {"type": ["string", "null"], "format": "date-time"},
        "state": {"type": "string", "enum": ["open", "closed"]}}});
    let [page, per_page] = paging();
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/notices".into(),
        json!({"get": operation("Supervision notices the user sees, newest first.", &[
            query("state", false, json!({"type": "string"}), "open or closed"), page, per_page], list_of(notice.clone()))}),
    );
    paths.insert(
        "/api/v1/notices/{id}".into(),
        json!({"get": operation("One supervision notice.", &[path("id", "notice id")], notice)}),
    );
    paths
}

#[derive(Template)]
#[template(path = "notices.html")]
struct ListPage {
    layout: Layout,
    notices: Vec<NoticeJson>,
    total: i64,
}

/// `GET /notices`
async fn list_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let units = Units::load_for(&state, &user, Action::ReadNotices).await?;
    let query = ListQuery {
        state: q.get("state").cloned(),
        ..ListQuery::default()
    };
    let page = state
        .store
        .list_notices(
            &user.tenant.id,
            &filter(&query, &units)?,
            PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
    let mut notices = Vec::with_capacity(page.items.len());
    for n in page.items {
        notices.push(notice_json(&state, &user, &units, n).await?);
    }
    render(&ListPage {
        layout: Layout::for_user("notices.title", "tasks", &user),
        notices,
        total: page.total,
    })
}

#[derive(Template)]
#[template(path = "notice_detail.html")]
struct DetailPage {
    layout: Layout,
    notice: NoticeJson,
    tenant_name: String,
    due: String,
    issued_on: String,
}

/// `GET /notices/{id}`: the notice as it is printed and sent.
async fn detail_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let units = Units::load_for(&state, &user, Action::ReadNotices).await?;
    let notice = notice_of(&state, &user, &units, &id).await?;
    let local = |t: chrono::DateTime<chrono::Utc>, f: &str| {
        t.with_timezone(&domain::calendar::shanghai())
            .format(f)
            .to_string()
    };
    let due = local(notice.due_at, "%Y年%m月%d日 %H:%M");
    let issued_on = local(notice.issued_at, "%Y年%m月%d日");
    render(&DetailPage {
        layout: Layout::for_user("notices.detail.title", "tasks", &user)
            .titled(notice.number.clone()),
        tenant_name: user.tenant.name.clone(),
        notice: notice_json(&state, &user, &units, notice).await?,
        due,
        issued_on,
    })
}
