//! The working-day calendar: the public API (no login) and the calendar page.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Response;
use chrono::{Datelike, NaiveDate};
use domain::calendar::{CalendarError, Dated};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, query, tenant};
use crate::pages::{Layout, render};
use crate::routes::Routes;
use crate::state::AppState;
use crate::tenant::CurrentTenant;

/// Most items one batch request may compute.
const MAX_BATCH: usize = 1000;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/calendar/add-working-days", add_working_days)
        .post("/api/v1/calendar/add-working-days", add_working_days_batch)
        .get(
            "/api/v1/calendar/working-days-between",
            working_days_between,
        )
        .get("/api/v1/calendar/years", years)
        .get("/api/v1/calendar/working-hours", working_hours)
        .route(
            axum::http::Method::PUT,
            "/api/v1/calendar/working-hours",
            set_working_hours,
        )
        .post("/api/v1/calendar/years", load_years)
}

/// The user, if they keep the calendar (sysadmin); the calendar is public, so others get 403.
fn keeper(user: crate::auth::CurrentUser) -> Result<crate::auth::CurrentUser> {
    if crate::policy::allows(&user.account, crate::policy::Action::ManageCalendar) {
        Ok(user)
    } else {
        Err(Error::client(
            axum::http::StatusCode::FORBIDDEN,
            "forbidden",
            "只有系统管理员可以维护工作日历和工作时间",
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkingHoursBody {
    working_hours: String,
}

/// `PUT /api/v1/calendar/working-hours` with `{"working_hours": "09:00-12:00,13:30-17:30"}`.
async fn set_working_hours(
    State(state): State<AppState>,
    user: crate::auth::CurrentUser,
    body: Result<ApiJson<WorkingHoursBody>, Error>,
) -> Result<Json<Value>> {
    let user = keeper(user)?;
    let ApiJson(body) = body?;
    let hours = domain::calendar::WorkingHours::parse(&body.working_hours)
        .map_err(|e| Error::field("working_hours", e.to_string()))?;
    state
        .store
        .set_working_hours(&user.audit(), &user.tenant.id, &hours)
        .await?;
    Ok(Json(
        json!({"working_hours": hours.to_string(), "minutes_per_day": hours.minutes_per_day()}),
    ))
}

/// `POST /api/v1/calendar/years` with a schedule file (docs/CALENDAR.md) as the body: loads or
/// replaces those years at once for every running server.
async fn load_years(
    State(state): State<AppState>,
    user: crate::auth::CurrentUser,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Result<Json<Value>> {
    let user = keeper(user)?;
    let text = body.map_err(|_| Error::bad_request("请求体应为 UTF-8 文本的日历文件"))?;
    let years = domain::calendar::parse_schedule_file(&text)
        .map_err(|e| Error::field("file", e.to_string()))?;
    state
        .store
        .load_calendar_years(&user.audit(), "api", &years)
        .await?;
    Ok(Json(json!({
        "years": years.iter().map(|y| json!({
            "year": y.year(), "holidays": y.holidays().len(), "workdays": y.workdays().len()
        })).collect::<Vec<_>>()
    })))
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/calendar", page)
        .post("/calendar/working-hours", working_hours_form)
        .post("/calendar/years", years_form)
}

/// Parses a `YYYY-MM-DD` parameter.
fn parse_date(name: &str, value: Option<&str>) -> Result<NaiveDate> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::bad_param(name, format!("缺少日期参数 {name}，格式为 YYYY-MM-DD")))?;
    if value.len() != 10 {
        return Err(bad_date(name, value));
    }
    NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad_date(name, value))
}

fn bad_date(name: &str, value: &str) -> Error {
    Error::bad_param(
        name,
        format!("参数 {name} 的值“{value}”不是有效日期，格式应为 YYYY-MM-DD，例如 2026-09-30"),
    )
}

/// Parses the `days` parameter: an integer 0–366.
fn parse_days(value: Option<&str>) -> Result<u32> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::bad_param("days", "缺少参数 days（工作日天数，0 到 366）"))?;
    let days: i64 = value
        .parse()
        .map_err(|_| Error::bad_param("days", format!("天数“{value}”应为整数")))?;
    u32::try_from(days)
        .ok()
        .filter(|d| *d <= 366)
        .ok_or_else(|| Error::bad_param("days", CalendarError::DaysOutOfRange.to_string()))
}

fn calendar_error(e: CalendarError) -> Error {
    let field = match e {
        CalendarError::DaysOutOfRange => "days",
        CalendarError::ToBeforeFrom => "to",
        CalendarError::DateOutOfRange => "from",
    };
    Error::bad_param(field, e.to_string())
}

#[derive(Deserialize)]
struct AddQuery {
    from: Option<String>,
    days: Option<String>,
}

#[derive(Serialize)]
struct DateAnswer {
    date: NaiveDate,
    provisional: bool,
}

impl From<Dated<NaiveDate>> for DateAnswer {
    fn from(d: Dated<NaiveDate>) -> Self {
        Self {
            date: d.value,
            provisional: d.provisional,
        }
    }
}

/// `GET /api/v1/calendar/add-working-days?from=YYYY-MM-DD&days=N`
async fn add_working_days(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AddQuery>,
) -> Result<Json<DateAnswer>> {
    let from = parse_date("from", q.from.as_deref())?;
    let days = parse_days(q.days.as_deref())?;
    let calendar = state.store.calendar().await?;
    let answer = calendar
        .add_working_days(from, days)
        .map_err(calendar_error)?;
    Ok(Json(answer.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Batch {
    items: Vec<BatchItem>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchItem {
    from: String,
    days: i64,
}

/// `POST /api/v1/calendar/add-working-days` with `{"items":[{"from","days"},…]}`: the same
/// calculation for many receipts at once (e.g. cases imported from the provincial platform).
async fn add_working_days_batch(
    State(state): State<AppState>,
    ApiJson(batch): ApiJson<Batch>,
) -> Result<Json<Value>> {
    if batch.items.len() > MAX_BATCH {
        return Err(Error::field(
            "items",
            format!("一次最多计算 {MAX_BATCH} 条"),
        ));
    }
    let mut parsed = Vec::with_capacity(batch.items.len());
    let mut invalid: Option<Error> = None;
    for (i, item) in batch.items.iter().enumerate() {
        let from = NaiveDate::parse_from_str(&item.from, "%Y-%m-%d")
            .ok()
            .filter(|_| item.from.len() == 10);
        let days = u32::try_from(item.days).ok().filter(|d| *d <= 366);
        match (from, days) {
            (Some(from), Some(days)) => parsed.push((from, days)),
            (from, days) => {
                let mut e = invalid
                    .take()
                    .unwrap_or_else(|| Error::field(&format!("items[{i}]"), "部分条目有误"));
                if from.is_none() {
                    e = e.with_field(
                        &format!("items[{i}].from"),
                        format!("“{}”不是有效日期，格式应为 YYYY-MM-DD", item.from),
                    );
                }
                if days.is_none() {
                    e = e.with_field(
                        &format!("items[{i}].days"),
                        CalendarError::DaysOutOfRange.to_string(),
                    );
                }
                invalid = Some(e);
            }
        }
    }
    if let Some(e) = invalid {
        return Err(e);
    }
    let calendar = state.store.calendar().await?;
    let items = parsed
        .into_iter()
        .map(|(from, days)| calendar.add_working_days(from, days).map(DateAnswer::from))
        .collect::<Result<Vec<_>, _>>()
        .map_err(calendar_error)?;
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize)]
struct BetweenQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Serialize)]
struct DaysAnswer {
    days: u32,
    provisional: bool,
}

/// `GET /api/v1/calendar/working-days-between?from=…&to=…`
async fn working_days_between(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BetweenQuery>,
) -> Result<Json<DaysAnswer>> {
    let from = parse_date("from", q.from.as_deref())?;
    let to = parse_date("to", q.to.as_deref())?;
    let calendar = state.store.calendar().await?;
    let answer = calendar
        .working_days_between(from, to)
        .map_err(calendar_error)?;
    Ok(Json(DaysAnswer {
        days: answer.value,
        provisional: answer.provisional,
    }))
}

#[derive(Deserialize)]
struct PagingQuery {
    page: Option<String>,
    per_page: Option<String>,
}

#[derive(Serialize)]
struct YearJson {
    year: i32,
    source: String,
    loaded_at: String,
    holidays: Vec<HolidayJson>,
    workdays: Vec<NaiveDate>,
}

#[derive(Serialize)]
struct HolidayJson {
    date: NaiveDate,
    name: String,
}

/// `GET /api/v1/calendar/years`: the official schedules loaded.
async fn years(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PagingQuery>,
) -> Result<Json<ListBody<YearJson>>> {
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let calendar = state.store.calendar().await?;
    let items = state
        .store
        .calendar_years()
        .await?
        .into_iter()
        .map(|info| {
            let schedule = calendar.years().find(|y| y.year() == info.year);
            YearJson {
                year: info.year,
                source: info.source,
                loaded_at: timestamp(info.loaded_at),
                holidays: schedule
                    .map(|s| {
                        s.holidays()
                            .iter()
                            .map(|(d, n)| HolidayJson {
                                date: *d,
                                name: n.clone(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                workdays: schedule
                    .map(|s| s.workdays().iter().copied().collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    Ok(Json(ListBody::from_all(items, request)))
}

/// `GET /api/v1/calendar/working-hours`: the tenant's working periods.
async fn working_hours(
    State(state): State<AppState>,
    tenant: CurrentTenant,
) -> Result<Json<Value>> {
    let hours = state.store.working_hours(&tenant.tenant.id).await?;
    let periods: Vec<Value> = hours
        .periods()
        .iter()
        .map(|(from, to)| json!({"from": from.format("%H:%M").to_string(), "to": to.format("%H:%M").to_string()}))
        .collect();
    Ok(Json(json!({
        "tenant": tenant.tenant.code,
        "periods": periods,
        "minutes_per_day": hours.minutes_per_day(),
    })))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let mut put_hours = operation(
        "Set the tenant's working hours (sysadmin).",
        &[],
        json!({"type": "object", "properties": {"working_hours": {"type": "string"}, "minutes_per_day": {"type": "integer"}}}),
    );
    put_hours["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": {
        "type": "object", "required": ["working_hours"], "properties": {"working_hours": {"type": "string", "example": "09:00-12:00,13:30-17:30"}}}}}});
    let mut load = operation(
        "Load or replace official schedules from a schedule file (sysadmin; format in docs/CALENDAR.md).",
        &[],
        json!({"type": "object", "properties": {"years": {"type": "array"}}}),
    );
    load["requestBody"] =
        json!({"required": true, "content": {"text/plain": {"schema": {"type": "string"}}}});
    let date_answer = json!({"type": "object", "required": ["date", "provisional"], "properties": {
        "date": {"type": "string", "format": "date"}, "provisional": {"type": "boolean"}}});
    let date = json!({"type": "string", "format": "date"});
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/calendar/add-working-days".into(),
        json!({
            "get": operation(
                "The close day of N working days after the day of receipt (public).",
                &[
                    query("from", true, date.clone(), "day of receipt"),
                    query("days", true, json!({"type": "integer", "minimum": 0, "maximum": 366}), "working days"),
                ],
                date_answer.clone(),
            ),
            "post": {
                "summary": "The same for up to 1000 receipts at once (public).",
                "requestBody": {"required": true, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["items"], "properties": {"items": {"type": "array", "maxItems": MAX_BATCH,
                    "items": {"type": "object", "required": ["from", "days"], "properties": {
                        "from": {"type": "string", "format": "date"}, "days": {"type": "integer", "minimum": 0, "maximum": 366}}}}}}}}},
                "responses": operation("", &[], json!({"type": "object", "properties": {"items": {"type": "array", "items": date_answer}}}))["responses"].clone()
            }
        }),
    );
    paths.insert(
        "/api/v1/calendar/working-days-between".into(),
        json!({"get": operation(
            "Working days after `from` up to and including `to` (public).",
            &[query("from", true, date.clone(), "start (not counted)"), query("to", true, date, "end (counted)")],
            json!({"type": "object", "required": ["days", "provisional"], "properties": {
                "days": {"type": "integer"}, "provisional": {"type": "boolean"}}}),
        )}),
    );
    paths.insert(
        "/api/v1/calendar/years".into(),
        json!({"post": load, "get": operation(
            "The official schedules loaded, by year.",
            &paging(),
            list_of(json!({"type": "object", "properties": {
                "year": {"type": "integer"}, "source": {"type": "string"}, "loaded_at": {"type": "string", "format": "date-time"},
                "holidays": {"type": "array", "items": {"type": "object", "properties": {"date": {"type": "string"}, "name": {"type": "string"}}}},
                "workdays": {"type": "array", "items": {"type": "string", "format": "date"}}}})),
        )}),
    );
    paths.insert(
        "/api/v1/calendar/working-hours".into(),
        json!({"put": put_hours, "get": operation(
            "The tenant's daily working periods.",
            &[tenant()],
            json!({"type": "object", "properties": {"tenant": {"type": "string"}, "minutes_per_day": {"type": "integer"},
                "periods": {"type": "array", "items": {"type": "object", "properties": {"from": {"type": "string"}, "to": {"type": "string"}}}}}}),
        )}),
    );
    paths
}

/// One loaded year on the page.
struct YearView {
    year: i32,
    source: String,
    holidays: Vec<(String, String)>,
    workdays: Vec<String>,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Layout,
    today: String,
    today_working: bool,
    missing_next_year: Option<i32>,
    hours: String,
    years: Vec<YearView>,
    from: String,
    days: String,
    result: Option<(String, bool)>,
    form_error: Option<(String, String)>,
    /// The sysadmin's CSRF token: shows the forms that keep the calendar.
    keeper_csrf: Option<String>,
    /// What the sysadmin's last form did, or why it was refused.
    keeper_message: Option<(bool, String)>,
}

#[derive(Deserialize)]
struct PageQuery {
    from: Option<String>,
    days: Option<String>,
    saved: Option<String>,
}

/// `GET /calendar`: loaded schedules, working hours, and a deadline calculator.
async fn page(
    State(state): State<AppState>,
    tenant: Result<CurrentTenant, Error>,
    crate::auth::MaybeUser(user): crate::auth::MaybeUser,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Response, PageError> {
    let saved = match q.saved.as_deref() {
        Some("hours") => Some((true, "工作时间已保存".to_owned())),
        Some("years") => Some((true, "节假日安排已导入，立即生效".to_owned())),
        _ => None,
    };
    calendar_page(&state, tenant?, user, q, saved).await
}

async fn calendar_page(
    state: &AppState,
    tenant: CurrentTenant,
    user: Option<crate::auth::CurrentUser>,
    q: PageQuery,
    keeper_message: Option<(bool, String)>,
) -> Result<Response, PageError> {
    let calendar = state.store.calendar().await?;
    let today = state
        .store
        .clock()
        .now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    // From 1 November the next year's official schedule is due (SPEC).
    let missing_next_year =
        (today.month() >= 11 && !calendar.has_year(today.year() + 1)).then_some(today.year() + 1);
    let hours = state.store.working_hours(&tenant.tenant.id).await?;
    let infos = state.store.calendar_years().await?;
    let years = infos
        .into_iter()
        .map(|info| {
            let schedule = calendar.years().find(|y| y.year() == info.year);
            YearView {
                year: info.year,
                source: info.source,
                holidays: schedule
                    .map(|s| {
                        s.holidays()
                            .iter()
                            .map(|(d, n)| (d.to_string(), n.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
                workdays: schedule
                    .map(|s| s.workdays().iter().map(|d| d.to_string()).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let asked = q.from.is_some() || q.days.is_some();
    let (result, form_error) = if asked {
        let computed = parse_date("from", q.from.as_deref())
            .and_then(|from| Ok((from, parse_days(q.days.as_deref())?)))
            .and_then(|(from, days)| {
                calendar
                    .add_working_days(from, days)
                    .map_err(calendar_error)
            });
        match computed {
            Ok(d) => (Some((d.value.to_string(), d.provisional)), None),
            Err(Error::Client {
                fields, message, ..
            }) => {
                let (field, msg) = fields
                    .into_iter()
                    .next()
                    .unwrap_or(("from".into(), message));
                (None, Some((field, msg)))
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        (None, None)
    };
    let failed = form_error.is_some();
    let keeper_csrf = user
        .as_ref()
        .filter(|u| crate::policy::allows(&u.account, crate::policy::Action::ManageCalendar))
        .map(|u| u.csrf_token.clone());
    let refused = keeper_message.as_ref().is_some_and(|(ok, _)| !ok);
    let mut response = render(&CalendarPage {
        keeper_csrf,
        keeper_message,
        layout: Layout::for_tenant("calendar.title", "calendar", &tenant).with_user(user.as_ref()),
        today: today.to_string(),
        today_working: calendar.is_working_day(today),
        missing_next_year,
        hours: hours.to_string(),
        years,
        from: q.from.unwrap_or_else(|| today.to_string()),
        days: q.days.unwrap_or_else(|| "5".into()),
        result,
        form_error,
    })?;
    if failed {
        *response.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    if refused {
        *response.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

#[derive(Deserialize)]
struct KeeperForm {
    working_hours: Option<String>,
    file: Option<String>,
}

/// The sysadmin's form posts: set working hours, or load a schedule file pasted as text.
async fn keeper_form(
    state: &AppState,
    user: crate::auth::CurrentUser,
    form: Result<axum::Form<KeeperForm>, axum::extract::rejection::FormRejection>,
    years: bool,
) -> Result<Response, PageError> {
    let user = keeper(user)?;
    let axum::Form(form) = form.map_err(|_| Error::bad_request("表单内容不完整，请重新填写"))?;
    let outcome = if years {
        match domain::calendar::parse_schedule_file(form.file.as_deref().unwrap_or_default()) {
            Ok(parsed) => {
                state
                    .store
                    .load_calendar_years(&user.audit(), "page", &parsed)
                    .await?;
                Ok("years")
            }
            Err(e) => Err(e.to_string()),
        }
    } else {
        match domain::calendar::WorkingHours::parse(
            form.working_hours.as_deref().unwrap_or_default(),
        ) {
            Ok(hours) => {
                state
                    .store
                    .set_working_hours(&user.audit(), &user.tenant.id, &hours)
                    .await?;
                Ok("hours")
            }
            Err(e) => Err(e.to_string()),
        }
    };
    match outcome {
        Ok(saved) => Ok(crate::auth::see_other(&format!("/calendar?saved={saved}"))),
        Err(message) => {
            let tenant = CurrentTenant {
                demo: user.demo,
                tenant: user.tenant.clone(),
            };
            let q = PageQuery {
                from: None,
                days: None,
                saved: None,
            };
            calendar_page(state, tenant, Some(user), q, Some((false, message))).await
        }
    }
}

async fn working_hours_form(
    State(state): State<AppState>,
    crate::auth::PageUser(user): crate::auth::PageUser,
    form: Result<axum::Form<KeeperForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    keeper_form(&state, user, form, false).await
}

async fn years_form(
    State(state): State<AppState>,
    crate::auth::PageUser(user): crate::auth::PageUser,
    form: Result<axum::Form<KeeperForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    keeper_form(&state, user, form, true).await
}
