//! Open311 GeoReport v2 (<http://wiki.open311.org/GeoReport_v2>): existing civic-reporting
//! clients list the services (our appeal categories), submit appeals with a system token as
//! `api_key`, and follow them. `jurisdiction_id` is the tenant code (optional while the
//! installation has one tenant). Every resource answers in JSON or XML by its extension, with
//! the specification's field names and error format; GETs are public and carry no personal
//! data: the description only when the submitter agreed to publish it.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::appeal::{AppealState, Kind, Source};
use serde_json::{Map, Value, json};
use store::appeal::{Appeal, AppealFilter, AppealVisibility, Category, NewAppeal};
use store::audit::AuditCtx;
use store::page::PageRequest;
use store::tenant::Tenant;

use crate::auth::PublicAudit;
use crate::list::timestamp;
use crate::routes::Routes;
use crate::state::AppState;

pub(crate) fn routes() -> Routes {
    Routes::default()
        .get("/open311/v2/{resource}", discovery_or_list)
        .post("/open311/v2/{resource}", post_request)
        .get("/open311/v2/services/{service}", service_definition)
        .get("/open311/v2/requests/{request}", one_request)
}

/// The answer's format, from the resource's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Xml,
}

/// `name.json` or `name.xml` → (name, format).
fn split(resource: &str) -> Option<(&str, Format)> {
    if let Some(name) = resource.strip_suffix(".json") {
        Some((name, Format::Json))
    } else {
        resource
            .strip_suffix(".xml")
            .map(|name| (name, Format::Xml))
    }
}

/// A GeoReport answer: a list of records, each a list of named values (`None`: null), in
/// JSON as an array of objects, in XML as `<outer><inner>…</inner></outer>`.
struct Records {
    outer: &'static str,
    inner: &'static str,
    items: Vec<Vec<(&'static str, Field)>>,
}

/// One value of a record.
enum Field {
    Text(Option<String>),
    Bool(bool),
    Number(Option<f64>),
    /// A whole number (an error's code).
    Int(i64),
    /// Nested records (a service definition's attributes).
    List(&'static str, Vec<Vec<(&'static str, Field)>>),
}

fn text(v: impl Into<String>) -> Field {
    Field::Text(Some(v.into()))
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn field_json(f: &Field) -> Value {
    match f {
        Field::Text(v) => v.as_ref().map_or(Value::Null, |s| json!(s)),
        Field::Bool(b) => json!(b),
        Field::Number(n) => n.map_or(Value::Null, |n| json!(n)),
        Field::Int(n) => json!(n),
        Field::List(_, items) => Value::Array(items.iter().map(|r| record_json(r)).collect()),
    }
}

fn record_json(record: &[(&'static str, Field)]) -> Value {
    let mut m = Map::new();
    for (k, f) in record {
        m.insert((*k).to_owned(), field_json(f));
    }
    Value::Object(m)
}

fn record_xml(out: &mut String, inner: &str, record: &[(&'static str, Field)]) {
    out.push_str(&format!("<{inner}>"));
    for (k, f) in record {
        match f {
            Field::Text(None) | Field::Number(None) => out.push_str(&format!("<{k}/>")),
            Field::Text(Some(s)) => out.push_str(&format!("<{k}>{}</{k}>", escape(s))),
            Field::Bool(b) => out.push_str(&format!("<{k}>{b}</{k}>")),
            Field::Number(Some(n)) => out.push_str(&format!("<{k}>{n}</{k}>")),
            Field::Int(n) => out.push_str(&format!("<{k}>{n}</{k}>")),
            Field::List(item, items) => {
                out.push_str(&format!("<{k}>"));
                for r in items {
                    record_xml(out, item, r);
                }
                out.push_str(&format!("</{k}>"));
            }
        }
    }
    out.push_str(&format!("</{inner}>"));
}

fn answer(format: Format, status: StatusCode, records: Records) -> Response {
    match format {
        Format::Json => {
            let body = Value::Array(records.items.iter().map(|r| record_json(r)).collect());
            (status, axum::Json(body)).into_response()
        }
        Format::Xml => {
            let mut out = String::from(r#"<?xml version="1.0" encoding="utf-8"?>"#);
            out.push_str(&format!("<{}>", records.outer));
            for r in &records.items {
                record_xml(&mut out, records.inner, r);
            }
            out.push_str(&format!("</{}>", records.outer));
            (
                status,
                [(CONTENT_TYPE, "application/xml; charset=utf-8")],
                out,
            )
                .into_response()
        }
    }
}

/// An error in the GeoReport format: `[{"code":…,"description":…}]` or
/// `<errors><error><code>…</code><description>…</description></error></errors>`.
struct Open311Error {
    status: StatusCode,
    description: String,
}

fn error(status: StatusCode, description: impl Into<String>) -> Open311Error {
    Open311Error {
        status,
        description: description.into(),
    }
}

impl Open311Error {
    fn into_response(self, format: Format) -> Response {
        let records = Records {
            outer: "errors",
            inner: "error",
            items: vec![vec![
                ("code", Field::Int(i64::from(self.status.as_u16()))),
                ("description", text(self.description)),
            ]],
        };
        answer(format, self.status, records)
    }
}

impl From<store::StoreError> for Open311Error {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::InvalidField { field, message } => {
                error(StatusCode::BAD_REQUEST, format!("{field}: {message}"))
            }
            store::StoreError::Conflict(m) => error(StatusCode::CONFLICT, m),
            store::StoreError::NotFound => error(StatusCode::NOT_FOUND, "not found"),
            other => {
                tracing::error!(error = %other, "open311");
                error(StatusCode::INTERNAL_SERVER_ERROR, "内部错误")
            }
        }
    }
}

type Answer = Result<Response, Open311Error>;

/// Runs `f` for a resource with a known format; an unknown extension is a JSON 404.
async fn with_format<F, Fut>(resource: &str, f: F) -> Response
where
    F: FnOnce(String, Format) -> Fut,
    Fut: std::future::Future<Output = Answer>,
{
    let Some((name, format)) = split(resource) else {
        return error(StatusCode::NOT_FOUND, "unknown format: use .json or .xml")
            .into_response(Format::Json);
    };
    match f(name.to_owned(), format).await {
        Ok(r) => r,
        Err(e) => e.into_response(format),
    }
}

/// The tenant `jurisdiction_id` names; without one, the only tenant.
async fn jurisdiction(state: &AppState, id: Option<&str>) -> Result<Tenant, Open311Error> {
    match id.map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => state
            .store
            .tenant_by_code(code)
            .await?
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "unknown jurisdiction_id")),
        None => {
            let mut tenants = state.store.tenants().await?;
            if tenants.len() == 1 {
                Ok(tenants.remove(0))
            } else {
                Err(error(
                    StatusCode::BAD_REQUEST,
                    "jurisdiction_id is required",
                ))
            }
        }
    }
}

fn service_record(c: &Category) -> Vec<(&'static str, Field)> {
    vec![
        ("service_code", text(&c.code)),
        ("service_name", text(&c.name)),
        ("description", text(&c.description)),
        ("metadata", Field::Bool(false)),
        ("type", text("realtime")),
        ("keywords", text("")),
        ("group", text("")),
    ]
}

/// `GET /open311/v2/services.{json,xml}` and `GET /open311/v2/requests.{json,xml}`.
async fn discovery_or_list(
    State(state): State<AppState>,
    Path(resource): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    with_format(&resource, |name, format| async move {
        let tenant = jurisdiction(&state, q.get("jurisdiction_id").map(String::as_str)).await?;
        match name.as_str() {
            "services" => {
                let items = state
                    .store
                    .appeal_categories(&tenant.id, true)
                    .await?
                    .iter()
                    .map(service_record)
                    .collect();
                Ok(answer(
                    format,
                    StatusCode::OK,
                    Records {
                        outer: "services",
                        inner: "service",
                        items,
                    },
                ))
            }
            "requests" => list_requests(&state, &tenant, &q, format).await,
            _ => Err(error(StatusCode::NOT_FOUND, "unknown resource")),
        }
    })
    .await
}

/// The active category a `service_code` names; unknown: `status` (404 on its own resource,
/// 400 as a field of a posted request).
async fn active_service(
    state: &AppState,
    tenant: &Tenant,
    code: &str,
    status: StatusCode,
) -> Result<Category, Open311Error> {
    state
        .store
        .appeal_categories(&tenant.id, true)
        .await?
        .into_iter()
        .find(|c| c.code == code)
        .ok_or_else(|| error(status, format!("unknown service_code {code}")))
}

/// `GET /open311/v2/services/{service_code}.{json,xml}`: no category has extra fields, so
/// every definition has no attributes.
async fn service_definition(
    State(state): State<AppState>,
    Path(service): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    with_format(&service, |code, format| async move {
        let tenant = jurisdiction(&state, q.get("jurisdiction_id").map(String::as_str)).await?;
        let category = active_service(&state, &tenant, &code, StatusCode::NOT_FOUND).await?;
        Ok(answer(
            format,
            StatusCode::OK,
            Records {
                outer: "service_definitions",
                inner: "service_definition",
                items: vec![vec![
                    ("service_code", text(category.code)),
                    ("attributes", Field::List("attribute", Vec::new())),
                ]],
            },
        ))
    })
    .await
}

/// A request as the public reads it.
fn request_record(
    a: &Appeal,
    categories: &[Category],
    units: &HashMap<String, String>,
) -> Vec<(&'static str, Field)> {
    let updated = [
        Some(a.received_at),
        a.dispatched_at,
        a.accepted_at,
        a.replied_at,
        a.called_back_at,
        a.closed_at,
    ]
    .into_iter()
    .flatten()
    .max()
    .unwrap_or(a.received_at);
    // the deadline of the current step; while submitted, the dispatch deadline
    let expected = a.deadline().filter(|d| d.open).map(|d| timestamp(d.due_at));
    vec![
        ("service_request_id", text(&a.number)),
        (
            "status",
            text(if a.state == AppealState::Closed {
                "closed"
            } else {
                "open"
            }),
        ),
        ("status_notes", text(&a.status_notes)),
        (
            "service_name",
            text(
                categories
                    .iter()
                    .find(|c| c.code == a.category_code)
                    .map(|c| c.name.clone())
                    .unwrap_or_default(),
            ),
        ),
        ("service_code", text(&a.category_code)),
        (
            "description",
            Field::Text(a.publish.then(|| a.content.clone())),
        ),
        (
            "agency_responsible",
            text(
                a.lead_unit_id
                    .as_ref()
                    .and_then(|u| units.get(u).cloned())
                    .unwrap_or_default(),
            ),
        ),
        ("service_notice", text("")),
        ("requested_datetime", text(timestamp(a.received_at))),
        ("updated_datetime", text(timestamp(updated))),
        ("expected_datetime", Field::Text(expected)),
        ("address", text(&a.address)),
        ("address_id", text("")),
        ("zipcode", text("")),
        ("lat", Field::Number(None)),
        ("long", Field::Number(None)),
        ("media_url", text("")),
    ]
}

fn date_param(
    q: &HashMap<String, String>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, Open311Error> {
    match q.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|d| d.with_timezone(&Utc))
            .or_else(|_| NaiveDate::parse_from_str(v, "%Y-%m-%d").map(crate::appeal::day_start))
            .map(Some)
            .map_err(|_| {
                error(
                    StatusCode::BAD_REQUEST,
                    format!("{name} must be a W3C date-time (e.g. 2026-11-28T09:30:00+08:00)"),
                )
            }),
    }
}

/// The categories and the unit names a request's record is told with.
async fn names(
    state: &AppState,
    tenant: &Tenant,
) -> Result<(Vec<Category>, HashMap<String, String>), Open311Error> {
    let categories = state.store.appeal_categories(&tenant.id, false).await?;
    let units = state
        .store
        .units(&tenant.id)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    Ok((categories, units))
}

/// At most this many requests in a list, as the specification's default.
const MAX_LIST: usize = 1_000;

async fn list_requests(
    state: &AppState,
    tenant: &Tenant,
    q: &HashMap<String, String>,
    format: Format,
) -> Answer {
    let ids: Option<Vec<String>> = q.get("service_request_id").map(|v| {
        v.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    });
    let now = state.store.clock().now();
    let mut filter = AppealFilter {
        category_code: q
            .get("service_code")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        ..AppealFilter::default()
    };
    match q.get("status").map(|s| s.trim()).unwrap_or_default() {
        "" => {}
        "open" => filter.open = true,
        "closed" => filter.state = Some(AppealState::Closed),
        other => {
            return Err(error(
                StatusCode::BAD_REQUEST,
                format!("status must be open or closed, not {other}"),
            ));
        }
    }
    if ids.is_some() {
        // requests asked by id are answered whenever they were made
        filter.ids = ids;
    } else {
        let end = date_param(q, "end_date")?;
        filter.since =
            Some(date_param(q, "start_date")?.unwrap_or(end.unwrap_or(now) - Duration::days(90)));
        filter.until = end;
    }
    let vis = AppealVisibility {
        all: true,
        ..AppealVisibility::default()
    };
    let (categories, units) = names(state, tenant).await?;
    let mut items = Vec::new();
    let mut page = 1;
    while items.len() < MAX_LIST {
        let request = PageRequest {
            page,
            per_page: PageRequest::MAX_PER_PAGE,
        };
        let found = state
            .store
            .list_appeals(&tenant.id, &vis, &filter, request)
            .await?;
        let last = found.items.len() < PageRequest::MAX_PER_PAGE as usize;
        for a in &found.items {
            if items.len() < MAX_LIST {
                items.push(request_record(a, &categories, &units));
            }
        }
        if last {
            break;
        }
        page += 1;
    }
    Ok(answer(
        format,
        StatusCode::OK,
        Records {
            outer: "service_requests",
            inner: "request",
            items,
        },
    ))
}

/// `GET /open311/v2/requests/{service_request_id}.{json,xml}`
async fn one_request(
    State(state): State<AppState>,
    Path(request): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    with_format(&request, |id, format| async move {
        let tenant = jurisdiction(&state, q.get("jurisdiction_id").map(String::as_str)).await?;
        let filter = AppealFilter {
            ids: Some(vec![id.clone()]),
            ..AppealFilter::default()
        };
        let vis = AppealVisibility {
            all: true,
            ..AppealVisibility::default()
        };
        let found = state
            .store
            .list_appeals(&tenant.id, &vis, &filter, PageRequest::default())
            .await?;
        let a = found
            .items
            .into_iter()
            .find(|a| a.number == id)
            .ok_or_else(|| {
                error(
                    StatusCode::NOT_FOUND,
                    format!("unknown service_request_id {id}"),
                )
            })?;
        let (categories, units) = names(&state, &tenant).await?;
        Ok(answer(
            format,
            StatusCode::OK,
            Records {
                outer: "service_requests",
                inner: "request",
                items: vec![request_record(&a, &categories, &units)],
            },
        ))
    })
    .await
}

/// `POST /open311/v2/requests.{json,xml}` (form-encoded, as the specification sends it):
/// `api_key` (a system token of the jurisdiction), `service_code`, `description`, and
/// optionally a location, the submitter's name, phone and e-mail. Answers the
/// `service_request_id` at once (no token step).
async fn post_request(
    State(state): State<AppState>,
    Path(resource): Path<String>,
    PublicAudit(public): PublicAudit,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    with_format(&resource, |name, format| async move {
        if name != "requests" {
            return Err(error(StatusCode::NOT_FOUND, "unknown resource"));
        }
        let form: HashMap<String, String> = if headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/json"))
        {
            serde_json::from_slice::<HashMap<String, Value>>(&body)
                .map_err(|_| error(StatusCode::BAD_REQUEST, "the body is not a JSON object"))?
                .into_iter()
                .map(|(k, v)| (k, v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
                .collect()
        } else {
            serde_urlencoded::from_bytes(&body)
                .map_err(|_| error(StatusCode::BAD_REQUEST, "the body is not form-encoded"))?
        };
        let get = |k: &str| {
            form.get(k)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let key =
            get("api_key").ok_or_else(|| error(StatusCode::BAD_REQUEST, "api_key is required"))?;
        let account = state.store.token_account(&key).await?.map_err(|refused| {
            error(StatusCode::FORBIDDEN, format!("api_key refused: {refused}"))
        })?;
        let tenant = match get("jurisdiction_id") {
            Some(code) => jurisdiction(&state, Some(&code)).await?,
            None => state
                .store
                .tenant(&account.tenant_id)
                .await?
                .ok_or_else(|| error(StatusCode::FORBIDDEN, "api_key without jurisdiction"))?,
        };
        if tenant.id != account.tenant_id {
            return Err(error(
                StatusCode::FORBIDDEN,
                "api_key is not valid for this jurisdiction_id",
            ));
        }
        let service_code = get("service_code")
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, "service_code is required"))?;
        let category =
            active_service(&state, &tenant, &service_code, StatusCode::BAD_REQUEST).await?;
        let description = get("description")
            .ok_or_else(|| error(StatusCode::BAD_REQUEST, "description is required"))?;
        let name = [get("first_name"), get("last_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let title: String = description.chars().take(30).collect();
        let address = match (get("address_string"), get("lat"), get("long")) {
            (Some(a), _, _) => a,
            (None, Some(lat), Some(long)) => format!("{lat},{long}"),
            _ => String::new(),
        };
        let ctx = AuditCtx {
            actor: account.username.clone(),
            client_ip: public.client_ip,
        };
        let created = state
            .store
            .create_appeal(
                &ctx,
                &tenant.id,
                &NewAppeal {
                    kind: Kind::Demand,
                    source: Source::Open311,
                    category_code: category.code,
                    street_id: None,
                    enterprise_id: None,
                    title,
                    content: description,
                    address,
                    publish: false,
                    submitter_name: Some(name).filter(|n| !n.is_empty()),
                    submitter_phone: get("phone"),
                    submitter_account_id: None,
                    external_id: None,
                },
            )
            .await?;
        Ok(answer(
            format,
            StatusCode::CREATED,
            Records {
                outer: "service_requests",
                inner: "request",
                items: vec![vec![
                    ("service_request_id", text(created.number)),
                    ("service_notice", text("")),
                    ("account_id", Field::Text(None)),
                ]],
            },
        ))
    })
    .await
}
