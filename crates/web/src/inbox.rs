//! The in-app inbox: every signed-in user reads their own messages and marks them read.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use axum::{Form, Json};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::notification::Notification;
use store::page::PageRequest;

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, query};
use crate::pages::{Layout, render};
use crate::routes::Routes;
use crate::staff::form_value;
use crate::state::AppState;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/notifications", list)
        .post("/api/v1/notifications/read", read)
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/inbox", page)
        .post("/inbox/read", read_form)
}

#[derive(Serialize)]
struct NotificationJson {
    id: String,
    event: String,
    title: String,
    url: String,
    read: bool,
    created_at: String,
}

impl From<Notification> for NotificationJson {
    fn from(n: Notification) -> Self {
        Self {
            read: n.state == "read",
            created_at: timestamp(n.created_at),
            id: n.id,
            event: n.event,
            title: n.title,
            url: n.url,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    unread: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

fn unread(q: &ListQuery) -> Result<bool> {
    match q.unread.as_deref() {
        None | Some("") | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(Error::bad_param("unread", "unread 应为 true 或 false")),
    }
}

/// `GET /api/v1/notifications`: the user's own inbox.
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<NotificationJson>>> {
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .inbox(&user.tenant.id, &user.account.id, unread(&q)?, request)
        .await?;
    Ok(Json(ListBody::from_page(page, NotificationJson::from)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReadBody {
    ids: Option<Vec<String>>,
}

/// `POST /api/v1/notifications/read`: `{"ids": [...]}`, or `{}` for all.
async fn read(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<ReadBody>, Error>,
) -> Result<Json<Value>> {
    let ApiJson(body) = body?;
    let marked = state
        .store
        .mark_read(&user.tenant.id, &user.account.id, body.ids.as_deref())
        .await?;
    Ok(Json(json!({"marked": marked})))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let item = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "event": {"type": "string", "enum": ["assigned", "due_soon", "overdue", "notice", "extension_requested", "extension_decided"]},
        "title": {"type": "string"}, "url": {"type": "string"}, "read": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}}});
    let [page, per_page] = paging();
    let mut read = operation(
        "Mark one's own messages read: these ids, or all.",
        &[],
        json!({"type": "object", "properties": {"marked": {"type": "integer"}}}),
    );
    read["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {"type": "object",
        "properties": {"ids": {"type": "array", "items": {"type": "string"}}}}}}});
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/notifications".into(),
        json!({"get": operation("The signed-in user's inbox, newest first.", &[
            query("unread", false, json!({"type": "boolean"}), "only unread"), page, per_page], list_of(item))}),
    );
    paths.insert("/api/v1/notifications/read".into(), json!({"post": read}));
    paths
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    layout: Layout,
    csrf: String,
    items: Vec<NotificationJson>,
    unread: i64,
}

/// `GET /inbox`
async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let all = state
        .store
        .inbox(
            &user.tenant.id,
            &user.account.id,
            false,
            PageRequest {
                page: 1,
                per_page: 100,
            },
        )
        .await?;
    let unread = state
        .store
        .inbox(
            &user.tenant.id,
            &user.account.id,
            true,
            PageRequest::default(),
        )
        .await?
        .total;
    render(&InboxPage {
        layout: Layout::for_user("inbox.title", "inbox", &user),
        csrf: user.csrf_token.clone(),
        items: all.items.into_iter().map(Into::into).collect(),
        unread,
    })
}

/// `POST /inbox/read`: one message (`id`) or all.
async fn read_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = form_value(&form, "id");
    let ids = (!id.is_empty()).then(|| vec![id]);
    state
        .store
        .mark_read(&user.tenant.id, &user.account.id, ids.as_deref())
        .await?;
    Ok(see_other("/inbox"))
}
