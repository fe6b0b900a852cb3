//! Rating pages: the public mobile rating page a QR code or a case receipt opens (no login;
//! the link's unguessable token names what is rated), the unit dashboard (satisfaction rate
//! and index with n, the one-visit and on-time rates, a 12-month trend drawn as SVG), the
//! supervisor's bad-rating queue, a bad rating's page with the steps the reader may take, and
//! a window's QR code (SVG, PNG) and printable A5 card. The rater's identity appears on one
//! page only: the supervisor's audited reveal.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, HOST, SET_COOKIE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::org::UnitKind;
use domain::rating::{BadAction, BadState, Channel, Level, Reason};
use store::rating::{NewRating, Rating, RatingTarget};

use crate::appeal_pages::percent;
use crate::auth::{MaybeUser, PageUser, PublicAudit};
use crate::error::{Error, PageError, Result};
use crate::list::local_minute;
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, allows, visible_to};
use crate::rating::{
    BadActionBody, BadQuery, RatingReader, bad_filter, group_totals, months, months_back, period,
    take_bad_step,
};
use crate::routes::Routes;
use crate::staff::{FormErrors, form_value};
use crate::state::AppState;

/// The rating pages.
pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/rate/{token}", rate_page)
        .post("/rate/{token}", rate_form)
        .get("/ratings", dashboard_page)
        .get("/ratings/staff/{id}", staff_page)
        .get("/bad-ratings", queue_page)
        .get("/bad-ratings/{id}", bad_page)
        .post("/bad-ratings/{id}/action", action_form)
        .post("/bad-ratings/{id}/rater", rater_form)
        .get("/windows/{id}/qr.svg", qr_svg)
        .get("/windows/{id}/qr.png", qr_png)
        .get("/windows/{id}/card", card_page)
        .get("/cases/import", crate::import::cases_page)
        .post(
            "/cases/import",
            crate::import::cases_upload.layer(crate::import::body_limit()),
        )
        .get("/cases/import/template.xlsx", crate::import::cases_template)
        .get("/cases/import/reports/{id}", crate::import::cases_report)
        .get("/cases/new", case_form_page)
        .post("/cases/new", case_form)
        .get("/cases/{id}/receipt", case_receipt)
}

// ---- the public rating page ---------------------------------------------------------------

/// The cookie that identifies a rating device (one QR rating per device and day), signed
/// by the store ([`store::Store::device_cookie`]).
const DEVICE_COOKIE: &str = "bz_device";

/// The device of a request: its cookie's id if the signature holds (else none: a new device).
fn device_of(store: &store::Store, headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(k, _)| *k == DEVICE_COOKIE)
        .find_map(|(_, v)| store.device_of_cookie(v))
}

#[derive(Template)]
#[template(path = "rate.html")]
struct RatePage {
    layout: Layout,
    action: String,
    /// What is rated, in words (a window's name; a case's item and number).
    subject: String,
    levels: Vec<(u8, &'static str)>,
    reasons: Vec<(&'static str, &'static str)>,
    process: String,
    result: String,
    chosen: Vec<String>,
    comment: String,
    name: String,
    phone: String,
    /// A case's rating exists: the form changes it.
    changing: bool,
    /// Thanks shown after a rating was stored.
    done: bool,
    /// A signed-in browser's CSRF token (a window device may be signed in).
    csrf: Option<String>,
    errors: FormErrors,
}

impl RatePage {
    fn has_reason(&self, code: &&str) -> bool {
        self.chosen.iter().any(|c| c == code)
    }
}

async fn rate_subject(
    state: &AppState,
    tenant_id: &str,
    target: &RatingTarget,
) -> Result<(String, Option<Rating>)> {
    match target {
        RatingTarget::Case(id) => {
            let case = state
                .store
                .case(tenant_id, id)
                .await?
                .ok_or_else(Error::not_found)?;
            let item = state
                .store
                .service_item(tenant_id, &case.item_code)
                .await?
                .map(|i| i.name)
                .unwrap_or_default();
            let existing = state.store.rating_of_case(tenant_id, id).await?;
            Ok((format!("{item}（办件编号 {}）", case.number), existing))
        }
        RatingTarget::Window(id) | RatingTarget::Department(id) => {
            let unit = state
                .store
                .unit(tenant_id, id)
                .await?
                .ok_or_else(Error::not_found)?;
            Ok((unit.name, None))
        }
        RatingTarget::Staff(_) => Err(Error::not_found()),
    }
}

async fn rate_blank(state: &AppState, token: &str) -> Result<(String, RatingTarget, RatePage)> {
    let (tenant_id, target) = state
        .store
        .rating_link(token)
        .await?
        .ok_or_else(Error::not_found)?;
    let tenant = state
        .store
        .tenant(&tenant_id)
        .await?
        .ok_or_else(Error::not_found)?;
    let (subject, existing) = rate_subject(state, &tenant_id, &target).await?;
    let mut layout = Layout::new("rating.rate.title", "home");
    layout.tenant_name = Some(tenant.name.clone());
    layout.demo = state.store.is_demo_tenant(&tenant_id).await?;
    let page = RatePage {
        layout,
        action: format!("/rate/{token}"),
        subject,
        levels: [5u8, 4, 3, 2, 1]
            .iter()
            .map(|n| {
                let l = Level::new(i64::from(*n)).expect("1..=5");
                (*n, l.label())
            })
            .collect(),
        reasons: Reason::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        process: existing
            .as_ref()
            .map(|r| r.process.get().to_string())
            .unwrap_or_default(),
        result: existing
            .as_ref()
            .map(|r| r.result.get().to_string())
            .unwrap_or_default(),
        chosen: existing
            .as_ref()
            .map(|r| r.reasons.iter().map(|x| x.as_str().to_owned()).collect())
            .unwrap_or_default(),
        comment: existing
            .as_ref()
            .map(|r| r.comment.clone())
            .unwrap_or_default(),
        name: String::new(),
        phone: String::new(),
        changing: existing.is_some(),
        done: false,
        csrf: None,
        errors: FormErrors::default(),
    };
    Ok((tenant_id, target, page))
}

/// `GET /rate/{token}`: the rating form of what the token names; an unknown or altered
/// token is 404.
async fn rate_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    MaybeUser(user): MaybeUser,
) -> Result<Response, PageError> {
    let (_, _, mut page) = rate_blank(&state, &token).await?;
    page.csrf = user.map(|u| u.csrf_token);
    render(&page)
}

fn score_of(form: &[(String, String)], name: &str) -> Result<i64> {
    let v = form_value(form, name);
    if v.is_empty() {
        return Err(Error::field(name, "请选择满意程度"));
    }
    v.parse::<i64>()
        .map_err(|_| Error::field(name, "评价等级应为 1 至 5"))
}

/// `POST /rate/{token}`: stores the rating (a case's existing rating is changed), the device
/// cookie set so the per-device rules hold.
async fn rate_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    PublicAudit(public): PublicAudit,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    // the rater is anonymous to the audit log too: no address kept
    let public = store::audit::AuditCtx {
        client_ip: None,
        ..public
    };
    let (tenant_id, target, mut page) = rate_blank(&state, &token).await?;
    page.csrf = user.map(|u| u.csrf_token);
    page.process = form_value(&form, "process");
    page.result = form_value(&form, "result");
    page.chosen = form
        .iter()
        .filter(|(k, v)| k == "reasons" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    page.comment = form_value(&form, "comment");
    page.name = form_value(&form, "rater_name");
    page.phone = form_value(&form, "rater_phone");
    let device = device_of(&state.store, &headers).unwrap_or_else(store::rating::link_token);
    let stored = async {
        let process = score_of(&form, "process")?;
        let result = score_of(&form, "result")?;
        let reasons = crate::rating::reasons(&page.chosen)?;
        if let (RatingTarget::Case(case_id), true) = (&target, page.changing) {
            let existing = state
                .store
                .rating_of_case(&tenant_id, case_id)
                .await?
                .ok_or_else(Error::not_found)?;
            state
                .store
                .change_rating(
                    &public,
                    &tenant_id,
                    &existing.id,
                    &store::rating::RatingChange {
                        process,
                        result,
                        reasons,
                        comment: page.comment.clone(),
                    },
                )
                .await?;
            return Ok::<_, Error>(());
        }
        let channel = match target {
            RatingTarget::Case(_) => Channel::Online,
            _ => Channel::Qr,
        };
        state
            .ratings
            .create(
                &state.store,
                &public,
                &tenant_id,
                &NewRating {
                    target: target.clone(),
                    channel,
                    process,
                    result,
                    reasons,
                    comment: page.comment.clone(),
                    rater_name: Some(page.name.clone()),
                    rater_phone: Some(page.phone.clone()),
                    device: Some(device.clone()),
                    public: true,
                },
            )
            .await?;
        Ok(())
    }
    .await;
    let mut response = match stored {
        Ok(()) => {
            page.done = true;
            render(&page)?
        }
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            page.errors = errors;
            render_status(&page, status)?
        }
    };
    if let Ok(cookie) = format!(
        "{DEVICE_COOKIE}={}; Path=/rate; Max-Age=31536000; HttpOnly; SameSite=Lax",
        state.store.device_cookie(&device)
    )
    .parse()
    {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    Ok(response)
}

// ---- a staff member's ratings -------------------------------------------------------------

/// One rating on a staff member's page: scores, reasons, comment, the case's item — never who
/// gave it.
struct StaffRatingLine {
    id: String,
    rated: String,
    item: String,
    process: &'static str,
    result: &'static str,
    reasons: String,
    comment: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "staff_ratings.html")]
struct StaffRatingsPage {
    layout: Layout,
    staff_id: String,
    unit: String,
    total: DashLine,
    months: Vec<DashLine>,
    recent: Vec<StaffRatingLine>,
}

/// `GET /ratings/staff/{id}`: a staff member's ratings over the last 12 months — month by
/// month and the newest 50 — for readers of ratings whose scope holds one of the member's
/// posts or the unit staffing the member's window (else 404); only the ratings whose
/// responsible unit is in that scope.
async fn staff_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let r = RatingReader::load(&state, user, Action::ReadRatings).await?;
    let staff = state
        .store
        .staff(r.tenant(), &id)
        .await?
        .ok_or_else(Error::not_found)?;
    let posts = std::iter::once(&staff.unit_id).chain(&staff.part_time_unit_ids);
    let staffed_by = |u: &str| {
        r.units
            .by_id
            .get(u)
            .and_then(|unit| unit.staffed_by_id.as_deref())
    };
    if !crate::policy::reads_staff_ratings(r.scope(), posts, staffed_by) {
        return Err(Error::not_found().into());
    }
    let (_, to) = period(&state, None, None)?;
    let from = months_back(to, 11).format("%Y-%m").to_string();
    let (months, recent) = state
        .store
        .staff_ratings(r.tenant(), &id, r.scope(), &from, 50)
        .await?;
    let (by_month, total) = group_totals(&months, "month");
    let items: HashMap<String, String> = state
        .store
        .service_items(r.tenant())
        .await?
        .into_iter()
        .map(|i| (i.code, i.name))
        .collect();
    let layout = Layout::for_user("rating.staff.title", "ratings", &r.user);
    let title = format!("{}：{}", layout.t("rating.staff.title"), staff.name);
    render(&StaffRatingsPage {
        layout: layout.titled(title),
        staff_id: staff.id.clone(),
        unit: r.units.name(&staff.unit_id),
        total: dash_line(String::new(), &total),
        months: by_month
            .iter()
            .rev()
            .map(|l| dash_line(l.key.clone(), l))
            .collect(),
        recent: recent
            .iter()
            .map(|x| StaffRatingLine {
                id: x.id.clone(),
                rated: local_minute(x.rated_at),
                item: items.get(&x.item_code).cloned().unwrap_or_default(),
                process: x.process.label(),
                result: x.result.label(),
                reasons: reason_text(x),
                comment: x.comment.clone(),
                state: x.bad.as_ref().map_or("", |b| b.state.label()),
            })
            .collect(),
    })
}

// ---- the dashboard ------------------------------------------------------------------------

/// A line of the dashboard's table.
struct DashLine {
    name: String,
    n: u64,
    process_rate: String,
    process_index: String,
    result_rate: String,
    result_index: String,
    index: String,
    bad: u64,
}

fn one_decimal(r: Option<f64>) -> String {
    r.map_or_else(|| "—".to_owned(), |r| format!("{r:.1}"))
}

fn dash_line(name: String, l: &crate::rating::TotalLine) -> DashLine {
    DashLine {
        name,
        n: l.process.n,
        process_rate: percent(l.process.satisfaction_rate()),
        process_index: one_decimal(l.process.index()),
        result_rate: percent(l.result.satisfaction_rate()),
        result_index: one_decimal(l.result.index()),
        index: one_decimal(domain::rating::ranking_index(&l.process, &l.result)),
        bad: l.bad,
    }
}

struct CaseLine {
    name: String,
    completed: u64,
    one_visit: String,
    on_time: String,
    days: String,
}

#[derive(Template)]
#[template(path = "ratings_dashboard.html")]
struct DashboardPage {
    layout: Layout,
    from: String,
    to: String,
    total: DashLine,
    units: Vec<DashLine>,
    channels: Vec<DashLine>,
    cases: Vec<CaseLine>,
    /// The 12-month trend as an SVG drawing (server-side; escaped numbers only).
    trend: Trend,
    open_bad: i64,
    overdue_bad: i64,
    may_queue: bool,
    /// The supervisor: a link to the case upload.
    may_import: bool,
}

/// A trend chart: two polylines (process, result index) over the months.
struct Trend {
    width: u32,
    height: u32,
    process: String,
    result: String,
    labels: Vec<(u32, String)>,
}

fn trend(lines: &[crate::rating::TotalLine], months: &[String]) -> Trend {
    let (width, height) = (320u32, 140u32);
    let step = if months.len() > 1 {
        (width - 40) / (months.len() as u32 - 1)
    } else {
        0
    };
    let y = |v: f64| (height as f64 - 20.0 - v / 100.0 * (height as f64 - 30.0)).round();
    let mut process = Vec::new();
    let mut result = Vec::new();
    let mut labels = Vec::new();
    for (i, m) in months.iter().enumerate() {
        let x = 20 + step * i as u32;
        if let Some(l) = lines.iter().find(|l| &l.key == m) {
            if let Some(v) = l.process.index() {
                process.push(format!("{x},{}", y(v)));
            }
            if let Some(v) = l.result.index() {
                result.push(format!("{x},{}", y(v)));
            }
        }
        if i % 3 == 0 || i + 1 == months.len() {
            labels.push((x, m.get(2..).unwrap_or(m).to_owned()));
        }
    }
    Trend {
        width,
        height,
        process: process.join(" "),
        result: result.join(" "),
        labels,
    }
}

async fn dashboard_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let r = RatingReader::load(&state, user, Action::ReadRatingFigures).await?;
    let day = |k: &str| {
        q.get(k)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.parse::<chrono::NaiveDate>()
                    .map_err(|_| Error::bad_param(k, "日期格式应为 YYYY-MM-DD"))
            })
            .transpose()
    };
    let (from, to) = period(&state, day("from")?, day("to")?)?;
    let (first, last) = months(from, to);
    let rows = state
        .store
        .rating_totals(r.tenant(), r.scope(), &first, &last)
        .await?;
    let (units, total) = group_totals(&rows, "unit");
    let (channels, _) = group_totals(&rows, "channel");
    let trend_from = months_back(to, 11);
    let (tf, tl) = months(trend_from, to);
    let trend_rows = state
        .store
        .rating_totals(r.tenant(), r.scope(), &tf, &tl)
        .await?;
    let (by_month, _) = group_totals(&trend_rows, "month");
    let month_keys: Vec<String> = (0..12)
        .rev()
        .map(|n| months_back(to, n).format("%Y-%m").to_string())
        .collect();
    let cases = state
        .store
        .case_figures(
            r.tenant(),
            "unit",
            r.scope(),
            crate::appeal::day_start(from),
            crate::appeal::day_start(to + chrono::Duration::days(1)),
        )
        .await?;
    let may_queue = allows(&r.user.account, Action::ReadRatings);
    let (open_bad, overdue_bad) = if may_queue {
        let open = bad_filter(
            &r,
            &BadQuery {
                open: Some(true),
                ..BadQuery::default()
            },
        )?;
        let overdue = bad_filter(
            &r,
            &BadQuery {
                open: Some(true),
                overdue: Some(true),
                ..BadQuery::default()
            },
        )?;
        (
            state.store.count_bad_ratings(r.tenant(), &open).await?,
            state.store.count_bad_ratings(r.tenant(), &overdue).await?,
        )
    } else {
        (0, 0)
    };
    let mut units: Vec<DashLine> = units
        .iter()
        .map(|l| dash_line(r.units.name(&l.key), l))
        .collect();
    units.sort_by_key(|l| std::cmp::Reverse(l.n));
    let page = DashboardPage {
        layout: Layout::for_user("rating.dashboard.title", "ratings", &r.user),
        from: from.to_string(),
        to: to.to_string(),
        total: dash_line("合计".into(), &total),
        units,
        channels: channels
            .iter()
            .map(|l| {
                let name = Channel::from_code_or_label(&l.key)
                    .map_or(l.key.clone(), |c| c.label().to_owned());
                dash_line(name, l)
            })
            .collect(),
        cases: cases
            .iter()
            .map(|c| CaseLine {
                name: r.units.name(&c.key),
                completed: c.counts.completed,
                one_visit: percent(c.counts.one_visit_rate()),
                on_time: percent(c.counts.on_time_rate()),
                days: one_decimal(c.counts.average_days()),
            })
            .collect(),
        trend: trend(&by_month, &month_keys),
        open_bad,
        overdue_bad,
        may_import: allows(&r.user.account, Action::ManageRatings),
        may_queue,
    };
    render(&page)
}

// ---- the bad-rating queue and page --------------------------------------------------------

struct BadLine {
    id: String,
    unit: String,
    process: &'static str,
    result: &'static str,
    reasons: String,
    state: &'static str,
    due: String,
    card: &'static str,
    rated: String,
}

#[derive(Template)]
#[template(path = "bad_ratings.html")]
struct QueuePage {
    layout: Layout,
    lines: Vec<BadLine>,
    states: Vec<(&'static str, &'static str)>,
    state: String,
    overdue: bool,
    due: bool,
}

fn reason_text(r: &Rating) -> String {
    r.reasons
        .iter()
        .map(|x| x.label())
        .collect::<Vec<_>>()
        .join("、")
}

async fn queue_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let r = RatingReader::load(&state, user, Action::ReadRatings).await?;
    let chosen = q.get("state").cloned().unwrap_or_default();
    let overdue = q.get("overdue").is_some_and(|v| v == "true");
    let due = q.get("due").is_some_and(|v| v == "true");
    let query = BadQuery {
        state: Some(chosen.clone()).filter(|s| !s.is_empty()),
        open: Some(chosen.is_empty()),
        overdue: Some(overdue),
        due: Some(due),
    };
    let filter = bad_filter(&r, &query)?;
    let items = state.store.bad_ratings(r.tenant(), &filter, 500).await?;
    let lines = items
        .iter()
        .map(|x| {
            let bad = x.bad.as_ref();
            let due = bad.and_then(|b| b.deadline());
            BadLine {
                id: x.id.clone(),
                unit: r.units.name(&x.unit_id),
                process: x.process.label(),
                result: x.result.label(),
                reasons: reason_text(x),
                state: bad.map_or("", |b| b.state.label()),
                due: due.map(|d| local_minute(d.due_at)).unwrap_or_default(),
                card: due.map_or("none", |d| d.card.as_str()),
                rated: local_minute(x.rated_at),
            }
        })
        .collect();
    render(&QueuePage {
        layout: Layout::for_user("rating.queue.title", "ratings", &r.user),
        lines,
        states: BadState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        state: chosen,
        overdue,
        due,
    })
}

#[derive(Template)]
#[template(path = "bad_rating_detail.html")]
struct BadPage {
    layout: Layout,
    id: String,
    unit: String,
    target: &'static str,
    channel: &'static str,
    process: &'static str,
    result: &'static str,
    reasons: String,
    comment: String,
    flags: String,
    rated: String,
    state: &'static str,
    anonymous: bool,
    due: String,
    notes: Vec<(&'static str, String)>,
    /// The actions the reader may offer now: (code, label).
    actions: Vec<(&'static str, &'static str)>,
    /// The supervisor may reveal the rater.
    may_reveal: bool,
    rater: Option<(String, String)>,
    errors: FormErrors,
    note: String,
}

async fn bad_detail(
    state: &AppState,
    r: &RatingReader,
    id: &str,
    rater: Option<(String, String)>,
) -> Result<BadPage> {
    let x = r.bad(state, id).await?;
    let bad = x.bad.clone().ok_or_else(Error::not_found)?;
    let actor = r.actor(&x);
    let objection_open = state.store.objection_open(r.tenant(), &bad).await?;
    let actions = BadAction::ALL
        .iter()
        .copied()
        .filter(|a| *a != BadAction::Withdraw)
        .filter(|a| domain::rating::check_bad_actor(*a, actor).is_ok())
        .filter(|a| {
            let facts = domain::rating::BadFacts {
                anonymous: bad.anonymous,
                objections: bad.objections,
                objection_open,
                reworks: bad.reworks,
            };
            domain::rating::next_bad(bad.state, *a, facts).is_ok()
        })
        .map(|a| (a.as_str(), a.label()))
        .collect();
    let supervisor = r.supervisor();
    let theirs = |v: &Option<String>| if supervisor { v.clone() } else { None };
    let (verify_note, callback_note) = (theirs(&bad.verify_note), theirs(&bad.callback_note));
    let mut notes = Vec::new();
    for (label, v) in [
        ("核实情况", &verify_note),
        ("申诉理由", &bad.objection),
        ("申诉审核", &bad.objection_note),
        ("整改情况", &bad.rectification),
        ("无法整改说明", &bad.unfixable),
        ("回访记录", &callback_note),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            notes.push((label, v.clone()));
        }
    }
    Ok(BadPage {
        layout: Layout::for_user("rating.bad.title", "ratings", &r.user),
        id: x.id.clone(),
        unit: r.units.name(&bad.unit_id),
        target: x.target.label(),
        channel: x.channel.label(),
        process: x.process.label(),
        result: x.result.label(),
        reasons: reason_text(&x),
        comment: x.comment.clone(),
        flags: x
            .flags
            .iter()
            .filter(|_| supervisor)
            .map(|f| match f.as_str() {
                "burst" => "同一设备短时多次评价",
                "own_staff" => "疑似工作人员评价本窗口",
                _ => "其他",
            })
            .collect::<Vec<_>>()
            .join("、"),
        rated: local_minute(x.rated_at),
        state: bad.state.label(),
        anonymous: bad.anonymous,
        due: bad
            .deadline()
            .map(|d| local_minute(d.due_at))
            .unwrap_or_default(),
        notes,
        actions,
        may_reveal: allows(&r.user.account, Action::ManageRatings) && x.has_rater,
        rater,
        errors: FormErrors::default(),
        note: String::new(),
    })
}

async fn bad_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let r = RatingReader::load(&state, user, Action::ReadRatings).await?;
    render(&bad_detail(&state, &r, &id, None).await?)
}

async fn action_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let r = RatingReader::load(&state, user, Action::ReadRatings).await?;
    let rating = r.bad(&state, &id).await?;
    let body = BadActionBody {
        action: Some(form_value(&form, "action")),
        note: form_value(&form, "note"),
    };
    match take_bad_step(&state, &r, &rating, body).await {
        Ok(_) => Ok(crate::auth::see_other(&format!("/bad-ratings/{id}"))),
        Err(e) if e.status() == StatusCode::FORBIDDEN => Err(e.into()),
        Err(e) => {
            let mut page = bad_detail(&state, &r, &id, None).await?;
            page.note = form_value(&form, "note");
            let (status, errors) = FormErrors::from_error(e)?;
            page.errors = errors;
            render_status(&page, status)
        }
    }
}

/// `POST /bad-ratings/{id}/rater`: the supervisor reveals the rater to call them (audited);
/// 404 for everyone else.
async fn rater_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = visible_to(user, Action::ManageRatings)?;
    let r = RatingReader::load(&state, user, Action::ReadRatings).await?;
    r.bad(&state, &id).await?;
    let (name, phone) = state
        .store
        .rater_identity(&r.user.audit(), r.tenant(), &id)
        .await?;
    let rater = Some((name.unwrap_or_default(), phone.unwrap_or_default()));
    render(&bad_detail(&state, &r, &id, rater).await?)
}

// ---- QR codes and the window card ---------------------------------------------------------

/// The link a window's QR code holds: this server's address as the request named it.
async fn window_link(
    state: &AppState,
    user: crate::auth::CurrentUser,
    headers: &HeaderMap,
    id: &str,
) -> Result<(String, String)> {
    let user = visible_to(user, Action::ManageRatings)?;
    let unit = state
        .store
        .unit(&user.tenant.id, id)
        .await?
        .filter(|u| u.kind == UnitKind::Window)
        .ok_or_else(Error::not_found)?;
    let token = state
        .store
        .window_rating_token(&user.audit(), &user.tenant.id, id)
        .await?;
    Ok((format!("{}/rate/{token}", origin(headers)), unit.name))
}

/// This server's origin as the request named it (the QR codes' links): the `Host` header
/// when it is a plain host name, `https` when a proxy says so.
fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let proto = headers
        .get("x-forwarded-proto")
        .and_then(|h| h.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    format!("{proto}://{host}")
}

fn qr(link: &str) -> Result<qrcode::QrCode> {
    qrcode::QrCode::with_error_correction_level(link.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| Error::Internal(anyhow::anyhow!("QR: {e}")))
}

/// The QR code as SVG: one path of the dark modules, a 4-module quiet zone.
pub(crate) fn qr_svg_of(code: &qrcode::QrCode) -> String {
    let w = code.width();
    let size = w + 8;
    let mut d = String::new();
    for (i, c) in code.to_colors().iter().enumerate() {
        if *c == qrcode::Color::Dark {
            d.push_str(&format!("M{} {}h1v1h-1z", i % w + 4, i / w + 4));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{d}\"/></svg>"
    )
}

async fn qr_svg(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (link, _) = window_link(&state, user, &headers, &id).await?;
    let svg = qr_svg_of(&qr(&link)?);
    Ok((
        [(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, "no-store")],
        svg,
    )
        .into_response())
}

async fn qr_png(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (link, _) = window_link(&state, user, &headers, &id).await?;
    let code = qr(&link)?;
    let png = crate::png::qr_png(&code, 8);
    Ok((
        [(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-store")],
        png,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "window_card.html")]
struct CardPage {
    layout: Layout,
    window: String,
    link: String,
    svg: String,
    id: String,
}

async fn card_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let layout = Layout::for_user("rating.card.title", "ratings", &user);
    let (link, window) = window_link(&state, user, &headers, &id).await?;
    let svg = qr_svg_of(&qr(&link)?);
    render(&CardPage {
        layout,
        window,
        link,
        svg,
        id,
    })
}

// ---- the window's case entry and the receipt ----------------------------------------------

#[derive(Template)]
#[template(path = "case_form.html")]
struct CaseFormPage {
    layout: Layout,
    items: Vec<(String, String)>,
    statuses: Vec<(&'static str, &'static str)>,
    item_code: String,
    number: String,
    status: String,
    visits: String,
    uscc: String,
    errors: FormErrors,
}

async fn case_form_blank(
    state: &AppState,
    user: &crate::auth::CurrentUser,
) -> Result<CaseFormPage> {
    let items = state
        .store
        .service_items(&user.tenant.id)
        .await?
        .into_iter()
        .filter(|i| i.active)
        .map(|i| (i.code.clone(), format!("{}（{}）", i.name, i.code)))
        .collect();
    Ok(CaseFormPage {
        layout: Layout::for_user("rating.case.new", "ratings", user),
        items,
        statuses: domain::service::CaseStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        item_code: String::new(),
        number: String::new(),
        status: "completed".into(),
        visits: "1".into(),
        uscc: String::new(),
        errors: FormErrors::default(),
    })
}

/// `GET /cases/new`: window staff (and the supervisor) record a case handled at the window.
async fn case_form_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let user = visible_to(user, Action::RecordCases)?;
    render(&case_form_blank(&state, &user).await?)
}

/// Where a case entered by `user` was handled: their window (its staffing unit handles it,
/// at the street level when a street staffs it), else the item's department.
async fn case_place(
    state: &AppState,
    user: &crate::auth::CurrentUser,
    item: &store::service::ServiceItem,
) -> Result<(String, Option<String>, domain::service::HandlingLevel)> {
    use domain::service::HandlingLevel;
    if let Some(unit_id) = &user.account.unit_id
        && let Some(window) = state
            .store
            .unit(&user.tenant.id, unit_id)
            .await?
            .filter(|u| u.kind == UnitKind::Window)
    {
        let handler = window.staffed_by_id.clone().unwrap_or(window.id.clone());
        let level = match state.store.unit(&user.tenant.id, &handler).await? {
            Some(u) if u.kind == UnitKind::Street => HandlingLevel::Street,
            _ => HandlingLevel::District,
        };
        return Ok((handler, Some(window.id), level));
    }
    Ok((item.unit_id.clone(), None, HandlingLevel::District))
}

async fn case_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = visible_to(user, Action::RecordCases)?;
    let mut page = case_form_blank(&state, &user).await?;
    page.item_code = form_value(&form, "item_code");
    page.number = form_value(&form, "number");
    page.status = form_value(&form, "status");
    page.visits = form_value(&form, "visits");
    page.uscc = form_value(&form, "enterprise_uscc");
    let stored = async {
        let item = state
            .store
            .service_item(&user.tenant.id, &page.item_code)
            .await?
            .filter(|i| i.active)
            .ok_or_else(|| Error::field("item_code", "请选择办理事项"))?;
        let status = page
            .status
            .parse::<domain::service::CaseStatus>()
            .map_err(|e| Error::field("status", e))?;
        let visits = page
            .visits
            .trim()
            .parse::<u32>()
            .map_err(|_| Error::field("visits", "跑动次数应为 0 至 50 的整数"))?;
        let (unit_id, window_id, level) = case_place(&state, &user, &item).await?;
        let now = state.store.clock().now();
        let number = if page.number.trim().is_empty() {
            format!(
                "CK{}{}",
                now.with_timezone(&domain::calendar::shanghai())
                    .format("%Y%m%d%H%M%S"),
                &store::rating::link_token()[..4].to_uppercase()
            )
        } else {
            page.number.trim().to_owned()
        };
        let outcome = state
            .store
            .ingest_cases(
                &user.audit(),
                &user.tenant.id,
                &[store::service::NewCase {
                    number,
                    item_code: item.code.clone(),
                    unit_id,
                    window_id,
                    staff_id: None,
                    enterprise_uscc: Some(page.uscc.clone()).filter(|u| !u.trim().is_empty()),
                    level,
                    channel: "window".into(),
                    status,
                    visits,
                    result: String::new(),
                    received_at: now,
                    completed_at: status.is_final().then_some(now),
                    pauses: Vec::new(),
                }],
            )
            .await?;
        match outcome.into_iter().next() {
            Some(store::service::CaseOutcome::Created(id)) => Ok(id),
            Some(store::service::CaseOutcome::Refused { field, message }) => {
                Err(Error::field(field, message))
            }
            _ => Err(Error::field("number", "该办件编号已登记")),
        }
    }
    .await;
    match stored {
        Ok(id) => Ok(crate::auth::see_other(&format!("/cases/{id}/receipt"))),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            page.errors = errors;
            render_status(&page, status)
        }
    }
}

#[derive(Template)]
#[template(path = "case_receipt.html")]
struct ReceiptPage {
    layout: Layout,
    number: String,
    item: String,
    status: &'static str,
    received: String,
    link: String,
    svg: String,
}

/// `GET /cases/{id}/receipt`: the receipt to hand over or print, with the QR code through
/// which the applicant rates the case.
async fn case_receipt(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = visible_to(user, Action::RecordCases)?;
    let case = state
        .store
        .case(&user.tenant.id, &id)
        .await?
        .ok_or_else(Error::not_found)?;
    let item = state
        .store
        .service_item(&user.tenant.id, &case.item_code)
        .await?
        .map(|i| i.name)
        .unwrap_or_default();
    let link = format!("{}/rate/{}", origin(&headers), case.rating_token);
    let svg = qr_svg_of(&qr(&link)?);
    render(&ReceiptPage {
        layout: Layout::for_user("rating.case.receipt", "ratings", &user),
        number: case.number,
        item,
        status: domain::service::CaseStatus::from_code_or_label(&case.status)
            .map_or("", |s| s.label()),
        received: local_minute(case.received_at),
        link,
        svg,
    })
}
