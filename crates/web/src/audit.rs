//! The auditor's view: the audit log of the tenant and of the installation, the login log,
//! and the chain check. Only `auditor` reads them; for every other role they do not exist.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::auth::{CurrentUser, PageUser};
use crate::error::{Error, PageError, Result};
use crate::extract::ApiQuery;
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, query};
use crate::pages::{Layout, render};
use crate::policy::{Action, allows};
use crate::routes::Routes;
use crate::state::AppState;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/audit/entries", entries)
        .get("/api/v1/audit/logins", logins)
        .get("/api/v1/audit/verify", verify)
}

pub(crate) fn pages() -> Routes {
    Routes::default().get("/audit", page)
}

fn auditor(user: CurrentUser) -> Result<CurrentUser> {
    if allows(&user.account, Action::ReadAudit) {
        Ok(user)
    } else {
        Err(Error::not_found())
    }
}

#[derive(Deserialize)]
struct EntriesQuery {
    chain: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

/// The chain asked for: the user's tenant (default) or the installation's.
fn chain_of(user: &CurrentUser, asked: Option<&str>) -> Result<String> {
    match asked.unwrap_or("tenant") {
        "tenant" => Ok(user.tenant.id.clone()),
        "installation" => Ok("*".to_owned()),
        other => Err(Error::bad_param(
            "chain",
            format!("chain 应为 tenant 或 installation，不能是“{other}”"),
        )),
    }
}

#[derive(Serialize)]
struct EntryJson {
    seq: i64,
    at: String,
    actor: String,
    client_ip: Option<String>,
    action: String,
    entity: String,
    entity_id: String,
    changes: Value,
    hash: String,
}

impl From<store::audit::AuditRecord> for EntryJson {
    fn from(r: store::audit::AuditRecord) -> Self {
        Self {
            seq: r.seq,
            at: timestamp(r.at),
            actor: r.actor,
            client_ip: r.client_ip,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            changes: serde_json::from_str(&r.changes).unwrap_or(Value::String(r.changes)),
            hash: r.hash,
        }
    }
}

/// `GET /api/v1/audit/entries?chain=tenant|installation`
async fn entries(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<EntriesQuery>,
) -> Result<Json<ListBody<EntryJson>>> {
    let user = auditor(user)?;
    let chain = chain_of(&user, q.chain.as_deref())?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state.store.audit_page(&chain, request).await?;
    Ok(Json(ListBody::from_page(page, EntryJson::from)))
}

#[derive(Deserialize)]
struct PagingQuery {
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Serialize)]
struct LoginJson {
    at: String,
    username: String,
    outcome: String,
    client_ip: Option<String>,
}

/// `GET /api/v1/audit/logins`
async fn logins(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<PagingQuery>,
) -> Result<Json<ListBody<LoginJson>>> {
    let user = auditor(user)?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state.store.login_log_page(&user.tenant.id, request).await?;
    Ok(Json(ListBody::from_page(page, |r| LoginJson {
        at: timestamp(r.at),
        username: r.username,
        outcome: r.outcome,
        client_ip: r.client_ip,
    })))
}

/// `GET /api/v1/audit/verify`: the chain check, as `bizenv audit verify` runs it.
async fn verify(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>> {
    auditor(user)?;
    let report = state.store.verify_audit().await?;
    Ok(Json(json!({
        "intact": report.problems.is_empty(),
        "chains": report.chains,
        "entries": report.entries,
        "problems": report.problems,
    })))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let [page, per_page] = paging();
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/audit/entries".into(),
        json!({"get": operation(
            "Audit log entries, newest first (auditor only; 404 for other roles).",
            &[query("chain", false, json!({"type": "string", "enum": ["tenant", "installation"]}), "which chain, default tenant"), page.clone(), per_page.clone()],
            list_of(json!({"type": "object", "properties": {
                "seq": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}, "actor": {"type": "string"},
                "client_ip": {"type": ["string", "null"]}, "action": {"type": "string"}, "entity": {"type": "string"},
                "entity_id": {"type": "string"}, "changes": {}, "hash": {"type": "string"}}})),
        )}),
    );
    paths.insert(
        "/api/v1/audit/logins".into(),
        json!({"get": operation(
            "The tenant's login log, newest first (auditor only).",
            &[page, per_page],
            list_of(json!({"type": "object", "properties": {
                "at": {"type": "string", "format": "date-time"}, "username": {"type": "string"},
                "outcome": {"type": "string"}, "client_ip": {"type": ["string", "null"]}}})),
        )}),
    );
    paths.insert(
        "/api/v1/audit/verify".into(),
        json!({"get": operation(
            "Checks every audit chain (auditor only).",
            &[],
            json!({"type": "object", "properties": {"intact": {"type": "boolean"}, "chains": {"type": "integer"},
                "entries": {"type": "integer"}, "problems": {"type": "array", "items": {"type": "string"}}}}),
        )}),
    );
    paths
}

struct EntryView {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    entity: String,
    changes: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    installation: bool,
    entries: Vec<EntryView>,
    total: i64,
    logins: Vec<(String, String, String, String)>,
    problems: Vec<String>,
    chains: usize,
    checked: usize,
}

/// `GET /audit`: the newest entries, the newest logins and the chain check.
async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<EntriesQuery>,
) -> Result<Response, PageError> {
    let user = auditor(user)?;
    let chain = chain_of(&user, q.chain.as_deref())?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state.store.audit_page(&chain, request).await?;
    let logins = state
        .store
        .login_log_page(&user.tenant.id, store::page::PageRequest::default())
        .await?;
    let report = state.store.verify_audit().await?;
    render(&AuditPage {
        layout: Layout::for_user("audit.title", "audit", &user),
        installation: chain == "*",
        total: page.total,
        entries: page
            .items
            .into_iter()
            .map(|e| EntryView {
                seq: e.seq,
                at: timestamp(e.at),
                actor: e.actor,
                action: e.action,
                entity: e.entity,
                changes: e.changes,
            })
            .collect(),
        logins: logins
            .items
            .into_iter()
            .map(|l| {
                (
                    timestamp(l.at),
                    l.username,
                    l.outcome,
                    l.client_ip.unwrap_or_default(),
                )
            })
            .collect(),
        problems: report.problems,
        chains: report.chains,
        checked: report.entries,
    })
}
