//! Service items, cases and ratings (好差评): the JSON API. Cases arrive in batches
//! (idempotent on the case number); ratings come from system tokens and window devices (no
//! per-device limits) and from the public QR page (see `rating_pages`); bad ratings run
//! through the store's workflow. Which ratings a user sees is the policy module's unit scope;
//! the rater's identity is never in these answers except on the supervisor's audited `/rater`
//! read.

use axum::Json;
use axum::extract::{Path, State};
use axum::handler::Handler;
use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use domain::rating::{BadAction, BadActor, BadState, Channel, Reason, Tally};
use domain::service::{CaseStatus, HandlingLevel};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use store::rating::{BadFilter, BadStepInput, NewRating, Rating, RatingTarget, RatingTotal};
use store::service::{CaseOutcome, NewCase, ServiceItem};

use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::openapi::{operation, path, query};
use crate::policy::{Action, allows, permitted, visible_to};
use crate::routes::Routes;
use crate::state::AppState;
use crate::task::Units;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/service-items", list_items)
        .post("/api/v1/service-items", save_item)
        .post("/api/v1/cases", ingest_cases)
        .post(
            "/api/v1/cases/import",
            crate::import::cases_api.layer(crate::import::body_limit()),
        )
        .get("/api/v1/cases/figures", case_figures)
        .post("/api/v1/ratings", create_rating)
        .get("/api/v1/ratings/figures", rating_figures)
        .get("/api/v1/bad-ratings", list_bad)
        .get("/api/v1/bad-ratings/{id}", show_bad)
        .post("/api/v1/bad-ratings/{id}/actions", act_bad)
        .get("/api/v1/bad-ratings/{id}/rater", rater)
        .get("/api/v1/rating-limits", limits)
        .route(axum::http::Method::PUT, "/api/v1/rating-limits", set_limits)
}

/// `GET /api/v1/rating-limits`: the bad-rating steps' limits and the rating window, in
/// working days (the supervisor).
async fn limits(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<domain::rating::BadLimits>> {
    let user = visible_to(user, Action::ManageRatings)?;
    Ok(Json(state.store.rating_limits(&user.tenant.id).await?))
}

/// `PUT /api/v1/rating-limits`: sets them (fields left out keep the SPEC defaults, after
/// Shandong practice; some provinces give rectification 15 days); deadlines opened from now
/// on follow them.
async fn set_limits(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<domain::rating::BadLimits>, Error>,
) -> Result<Json<domain::rating::BadLimits>> {
    let user = visible_to(user, Action::ManageRatings)?;
    let ApiJson(limits) = body?;
    state
        .store
        .set_rating_limits(&user.audit(), &user.tenant.id, &limits)
        .await?;
    Ok(Json(limits))
}

// ---- who sees what ------------------------------------------------------------------------

/// A reader of ratings with the units they see (`None`: the whole tenant).
pub(crate) struct RatingReader {
    pub(crate) user: CurrentUser,
    pub(crate) units: Units,
}

impl RatingReader {
    /// The reader, if they may read ratings at all (else 404).
    pub(crate) async fn load(state: &AppState, user: CurrentUser, action: Action) -> Result<Self> {
        let user = visible_to(user, action)?;
        let units = Units::load_for(state, &user, action).await?;
        Ok(Self { user, units })
    }

    pub(crate) fn tenant(&self) -> &str {
        &self.user.tenant.id
    }

    /// The reader is the supervisor (sees flags and call notes).
    pub(crate) fn supervisor(&self) -> bool {
        allows(&self.user.account, Action::ManageRatings)
    }

    pub(crate) fn scope(&self) -> Option<&[String]> {
        self.units.scope.as_deref()
    }

    /// The bad rating, if the reader sees its responsible unit (else 404).
    pub(crate) async fn bad(&self, state: &AppState, id: &str) -> Result<Rating> {
        let rating = state
            .store
            .rating(self.tenant(), id)
            .await?
            .filter(|r| r.bad.is_some())
            .ok_or_else(Error::not_found)?;
        let unit = &rating
            .bad
            .as_ref()
            .map(|b| b.unit_id.clone())
            .unwrap_or_default();
        match self.scope() {
            Some(ids) if !ids.contains(unit) => Err(Error::not_found()),
            _ => Ok(rating),
        }
    }

    /// Who the reader is for the bad-rating step rules.
    pub(crate) fn actor(&self, rating: &Rating) -> BadActor {
        let account = &self.user.account;
        let unit = rating
            .bad
            .as_ref()
            .map(|b| b.unit_id.as_str())
            .unwrap_or("");
        let own_unit = allows(account, Action::RectifyRatings)
            && self
                .scope()
                .is_some_and(|ids| ids.iter().any(|i| i == unit));
        BadActor {
            supervisor: allows(account, Action::ManageRatings),
            // the unit's contact lodges the objection on behalf of the rated staff member
            rated_staff: own_unit,
            responsible_unit: own_unit,
        }
    }
}

// ---- service items ------------------------------------------------------------------------

fn item_json(i: &ServiceItem) -> Value {
    json!({"code": i.code, "name": i.name, "unit_id": i.unit_id, "category": i.category,
        "levels": i.levels.iter().map(|l| l.as_str()).collect::<Vec<_>>(), "promised_days": i.promised_days,
        "legal_days": i.legal_days, "max_visits": i.max_visits, "materials": i.materials, "online": i.online,
        "active": i.active})
}

async fn list_items(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>> {
    let user = visible_to(user, Action::ReadRatingFigures)?;
    let items = state.store.service_items(&user.tenant.id).await?;
    Ok(Json(
        json!({"items": items.iter().map(item_json).collect::<Vec<_>>()}),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ItemBody {
    code: String,
    name: String,
    unit_id: String,
    #[serde(default)]
    category: String,
    levels: Vec<String>,
    promised_days: u32,
    legal_days: u32,
    max_visits: u32,
    #[serde(default)]
    materials: String,
    #[serde(default)]
    online: bool,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

async fn save_item(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<ItemBody>, Error>,
) -> Result<Json<Value>> {
    let user = visible_to(user, Action::ManageRatings)?;
    let ApiJson(b) = body?;
    let levels = b
        .levels
        .iter()
        .map(|l| {
            l.parse::<HandlingLevel>()
                .map_err(|e| Error::field("levels", e))
        })
        .collect::<Result<Vec<_>>>()?;
    let item = state
        .store
        .save_service_item(
            &user.audit(),
            &user.tenant.id,
            &ServiceItem {
                code: b.code,
                name: b.name,
                unit_id: b.unit_id,
                category: b.category,
                levels,
                promised_days: b.promised_days,
                legal_days: b.legal_days,
                max_visits: b.max_visits,
                materials: b.materials,
                online: b.online,
                active: b.active,
            },
        )
        .await?;
    Ok(Json(item_json(&item)))
}

// ---- cases --------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseBody {
    number: String,
    item_code: String,
    unit_id: String,
    window_id: Option<String>,
    staff_id: Option<String>,
    enterprise_uscc: Option<String>,
    #[serde(default = "district")]
    level: String,
    #[serde(default = "window")]
    channel: String,
    status: String,
    #[serde(default)]
    visits: u32,
    #[serde(default)]
    result: String,
    received_at: DateTime<Utc>,
    completed_at: Option<DateTime<Utc>>,
    /// Times spent waiting for the applicant's materials (补正), in order.
    #[serde(default)]
    pauses: Vec<domain::service::CasePause>,
}

fn district() -> String {
    "district".into()
}

fn window() -> String {
    "window".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CasesBody {
    cases: Vec<Value>,
}

/// The largest batch one request may carry.
const MAX_BATCH: usize = 1000;

/// `POST /api/v1/cases`: a batch from the provincial platform or the window. Each case is
/// answered on its own (`created`, `updated`, `unchanged`, or `refused` with its field and
/// reason); the good ones land.
async fn ingest_cases(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<CasesBody>, Error>,
) -> Result<Json<Value>> {
    let user = visible_to(user, Action::RecordCases)?;
    let ApiJson(body) = body?;
    if body.cases.is_empty() || body.cases.len() > MAX_BATCH {
        return Err(Error::field(
            "cases",
            format!("每批应有 1 到 {MAX_BATCH} 个办件"),
        ));
    }
    let mut results = Vec::with_capacity(body.cases.len());
    let mut parsed: Vec<(usize, NewCase)> = Vec::new();
    for (i, raw) in body.cases.into_iter().enumerate() {
        let case = serde_json::from_value::<CaseBody>(raw)
            .map_err(|e| ("body", format!("格式不正确：{e}")))
            .and_then(|c| {
                let level = c.level.parse::<HandlingLevel>().map_err(|e| ("level", e))?;
                let status = c.status.parse::<CaseStatus>().map_err(|e| ("status", e))?;
                Ok(NewCase {
                    number: c.number,
                    item_code: c.item_code,
                    unit_id: c.unit_id,
                    window_id: c.window_id,
                    staff_id: c.staff_id,
                    enterprise_uscc: c.enterprise_uscc,
                    level,
                    channel: c.channel,
                    status,
                    visits: c.visits,
                    result: c.result,
                    received_at: c.received_at,
                    completed_at: c.completed_at,
                    pauses: c.pauses,
                })
            });
        match case {
            Ok(c) => {
                results.push(Value::Null);
                parsed.push((i, c));
            }
            Err((field, message)) => results.push(
                json!({"index": i, "outcome": "refused", "field": field, "message": message}),
            ),
        }
    }
    // window staff send their own window's cases only
    if !allows(&user.account, Action::ManageRatings) {
        let own = user.account.unit_id.clone();
        parsed.retain(|(i, c)| {
            let mine = c.window_id.is_some() && c.window_id == own;
            if !mine {
                results[*i] = json!({"index": i, "number": c.number, "outcome": "refused", "field": "window_id",
                    "message": "只能登记本窗口的办件"});
            }
            mine
        });
    }
    let cases: Vec<NewCase> = parsed.iter().map(|(_, c)| c.clone()).collect();
    let outcomes = state
        .store
        .ingest_cases(&user.audit(), &user.tenant.id, &cases)
        .await?;
    for ((i, case), outcome) in parsed.iter().zip(outcomes) {
        results[*i] = match outcome {
            CaseOutcome::Created(id) => {
                json!({"index": i, "number": case.number, "outcome": "created", "id": id})
            }
            CaseOutcome::Updated(id) => {
                json!({"index": i, "number": case.number, "outcome": "updated", "id": id})
            }
            CaseOutcome::Unchanged(id) => {
                json!({"index": i, "number": case.number, "outcome": "unchanged", "id": id})
            }
            CaseOutcome::Refused { field, message } => {
                json!({"index": i, "number": case.number, "outcome": "refused", "field": field, "message": message})
            }
        };
    }
    let refused = results.iter().filter(|r| r["outcome"] == "refused").count();
    Ok(Json(json!({"results": results, "refused": refused})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FigureQuery {
    pub(crate) by: Option<String>,
    pub(crate) from: Option<NaiveDate>,
    pub(crate) to: Option<NaiveDate>,
}

fn rate(r: Option<f64>) -> Value {
    r.map_or(Value::Null, |r| json!((r * 10000.0).round() / 10000.0))
}

/// The first and last day of a figure query: the current month unless given.
pub(crate) fn period(
    state: &AppState,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(NaiveDate, NaiveDate)> {
    let today = state
        .store
        .clock()
        .now()
        .with_timezone(&domain::calendar::shanghai())
        .date_naive();
    let first = today.with_day(1).unwrap_or(today);
    let from = from.unwrap_or(first);
    let to = to.unwrap_or(today);
    if from.year() < 2000 || to.year() > 2100 {
        return Err(Error::bad_param(
            "from",
            "查询期间应在 2000 年至 2100 年之间",
        ));
    }
    if to < from || (to - from).num_days() > 3 * 366 {
        return Err(Error::bad_param(
            "to",
            "查询期间应为三年以内，且结束日不早于开始日",
        ));
    }
    Ok((from, to))
}

async fn case_figures(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<FigureQuery>,
) -> Result<Json<Value>> {
    let r = RatingReader::load(&state, user, Action::ReadRatingFigures).await?;
    let (from, to) = period(&state, q.from, q.to)?;
    let by = q.by.as_deref().unwrap_or("unit");
    if !["unit", "item", "level"].contains(&by) {
        return Err(Error::bad_param("by", "分组应为 unit、item 或 level"));
    }
    let rows = state
        .store
        .case_figures(
            r.tenant(),
            by,
            r.scope(),
            crate::appeal::day_start(from),
            crate::appeal::day_start(to + chrono::Duration::days(1)),
        )
        .await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|f| {
            json!({"key": f.key, "name": if by == "unit" { r.units.name(&f.key) } else { f.key.clone() },
                "completed": f.counts.completed, "one_visit": f.counts.one_visit, "on_time": f.counts.on_time,
                "one_visit_rate": rate(f.counts.one_visit_rate()), "on_time_rate": rate(f.counts.on_time_rate()),
                "average_days": f.counts.average_days().map(|d| (d * 10.0).round() / 10.0)})
        })
        .collect();
    Ok(Json(
        json!({"from": from.to_string(), "to": to.to_string(), "items": items}),
    ))
}

// ---- ratings ------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RatingBody {
    pub(crate) target: Option<String>,
    pub(crate) target_id: Option<String>,
    pub(crate) channel: Option<String>,
    pub(crate) process: Option<i64>,
    pub(crate) result: Option<i64>,
    #[serde(default)]
    pub(crate) reasons: Vec<String>,
    #[serde(default)]
    pub(crate) comment: String,
    pub(crate) rater_name: Option<String>,
    pub(crate) rater_phone: Option<String>,
    pub(crate) device: Option<String>,
}

/// The reason tags of a form or a request.
pub(crate) fn reasons(all: &[String]) -> Result<Vec<Reason>> {
    all.iter()
        .filter(|r| !r.trim().is_empty())
        .map(|r| r.parse::<Reason>().map_err(|e| Error::field("reasons", e)))
        .collect()
}

/// A score as given: 422 when missing.
pub(crate) fn score(field: &str, v: Option<i64>) -> Result<i64> {
    v.ok_or_else(|| Error::field(field, "请选择满意程度"))
}

/// The JSON of a rating: scores, reasons, comment and what it rates — never who gave it.
pub(crate) fn rating_json(units: &Units, r: &Rating, supervisor: bool) -> Value {
    // the supervisor's notes of calls with the rater and the anti-gaming flags (which could
    // tell a unit that one of its own rated it) are the supervisor's alone
    let theirs = |v: &Option<String>| if supervisor { v.clone() } else { None };
    let bad = r.bad.as_ref().map(|b| {
        let due = b.deadline();
        json!({"state": b.state.as_str(), "state_label": b.state.label(), "anonymous": b.anonymous,
            "unit": {"id": b.unit_id, "name": units.name(&b.unit_id)}, "objections": b.objections, "reworks": b.reworks,
            "valid_at": b.valid_at, "verify_note": theirs(&b.verify_note), "objection": b.objection,
            "objection_note": b.objection_note, "rectification": b.rectification, "unfixable": b.unfixable,
            "callback_note": theirs(&b.callback_note), "satisfied": b.satisfied, "closed_at": b.closed_at,
            "due_at": due.map(|d| d.due_at), "step": due.map(|d| d.step.clone()),
            "card": due.map_or("none", |d| d.card.as_str())})
    });
    json!({"id": r.id, "target": r.target.as_str(), "case_id": r.case_id, "window_id": r.window_id,
        "staff_id": r.staff_id, "unit": {"id": r.unit_id, "name": units.name(&r.unit_id)}, "item_code": r.item_code,
        "channel": r.channel.as_str(), "process": r.process.get(), "result": r.result.get(),
        "reasons": r.reasons.iter().map(|x| x.as_str()).collect::<Vec<_>>(), "comment": r.comment,
        "flags": if supervisor { r.flags.clone() } else { Vec::new() }, "counted": r.counted, "month": r.month, "rated_at": r.rated_at, "bad": bad})
}

/// The target a request names.
pub(crate) fn target_of(kind: Option<&str>, id: Option<String>) -> Result<RatingTarget> {
    let id = id
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| Error::field("target_id", "请指明评价对象"))?;
    match kind.unwrap_or("") {
        "case" => Ok(RatingTarget::Case(id)),
        "window" => Ok(RatingTarget::Window(id)),
        "staff" => Ok(RatingTarget::Staff(id)),
        "department" => Ok(RatingTarget::Department(id)),
        _ => Err(Error::field(
            "target",
            "评价对象应为 case（办件）、window（窗口）、staff（工作人员）或 department（部门）",
        )),
    }
}

/// `POST /api/v1/ratings`: a rating from a system (the provincial platform, a window device):
/// not subject to the public page's per-device limits.
async fn create_rating(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<RatingBody>, Error>,
) -> Result<Json<Value>> {
    let user = visible_to(user, Action::RecordRatings)?;
    let ApiJson(b) = body?;
    let channel = b
        .channel
        .as_deref()
        .unwrap_or("online")
        .parse::<Channel>()
        .map_err(|e| Error::field("channel", e))?;
    let target = target_of(b.target.as_deref(), b.target_id)?;
    // a window's rating device sends ratings of its own window and cases only
    if !allows(&user.account, Action::ManageRatings) {
        let own = user.account.unit_id.clone().unwrap_or_default();
        let mine = match &target {
            RatingTarget::Window(id) => *id == own,
            RatingTarget::Case(id) => state
                .store
                .case(&user.tenant.id, id)
                .await?
                .is_some_and(|c| c.window_id.as_deref() == Some(own.as_str())),
            RatingTarget::Staff(_) | RatingTarget::Department(_) => false,
        };
        domain::rating::check_device_rating(channel, mine)
            .map_err(|r| Error::field(r.field, r.message))?;
    }
    let new = NewRating {
        target,
        channel,
        process: score("process", b.process)?,
        result: score("result", b.result)?,
        reasons: reasons(&b.reasons)?,
        comment: b.comment,
        rater_name: b.rater_name,
        rater_phone: b.rater_phone,
        device: b.device,
        public: false,
    };
    let rating = state
        .ratings
        .create(&state.store, &user.audit(), &user.tenant.id, &new)
        .await?;
    // the answer names one unit: the responsible one
    let units = Units::named(&state, &user.tenant.id, &rating.unit_id).await?;
    Ok(Json(rating_json(
        &units,
        &rating,
        allows(&user.account, Action::ManageRatings),
    )))
}

/// Sums of the running totals by a key.
pub(crate) struct TotalLine {
    pub(crate) key: String,
    pub(crate) process: Tally,
    pub(crate) result: Tally,
    pub(crate) bad: u64,
}

/// The totals grouped by `by` (`unit`, `month`, `item` or `channel`), and their sum.
pub(crate) fn group_totals(rows: &[RatingTotal], by: &str) -> (Vec<TotalLine>, TotalLine) {
    let mut map: std::collections::BTreeMap<String, TotalLine> = Default::default();
    let mut all = TotalLine {
        key: String::new(),
        process: Tally::default(),
        result: Tally::default(),
        bad: 0,
    };
    for t in rows {
        let key = match by {
            "month" => t.month.clone(),
            "item" => t.item_code.clone(),
            "channel" => t.channel.clone(),
            _ => t.unit_id.clone(),
        };
        let line = map.entry(key.clone()).or_insert_with(|| TotalLine {
            key,
            process: Tally::default(),
            result: Tally::default(),
            bad: 0,
        });
        for l in [&mut *line, &mut all] {
            l.process.merge(&t.process);
            l.result.merge(&t.result);
            l.bad += t.bad;
        }
    }
    (map.into_values().collect(), all)
}

/// The months `[from, to]` of a period as YYYY-MM.
pub(crate) fn months(from: NaiveDate, to: NaiveDate) -> (String, String) {
    (
        from.format("%Y-%m").to_string(),
        to.format("%Y-%m").to_string(),
    )
}

fn line_json(name: String, l: &TotalLine) -> Value {
    json!({"key": l.key, "name": name, "n": l.process.n, "bad": l.bad,
        "process_rate": rate(l.process.satisfaction_rate()), "process_index": l.process.index().map(|i| (i * 10.0).round() / 10.0),
        "result_rate": rate(l.result.satisfaction_rate()), "result_index": l.result.index().map(|i| (i * 10.0).round() / 10.0),
        "index": domain::rating::ranking_index(&l.process, &l.result).map(|i| (i * 10.0).round() / 10.0)})
}

/// `GET /api/v1/ratings/figures`: satisfaction rate and index (process, result, their mean)
/// with n, from the running totals, by unit, month, item or channel.
async fn rating_figures(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<FigureQuery>,
) -> Result<Json<Value>> {
    let r = RatingReader::load(&state, user, Action::ReadRatingFigures).await?;
    let by = q.by.as_deref().unwrap_or("unit");
    if !["unit", "month", "item", "channel"].contains(&by) {
        return Err(Error::bad_param(
            "by",
            "分组应为 unit、month、item 或 channel",
        ));
    }
    let (from, to) = period(&state, q.from, q.to)?;
    let (first, last) = months(from, to);
    // the units' roll-ups, unless the figures go by item
    let rows = if by == "item" {
        state
            .store
            .rating_item_totals(r.tenant(), r.scope(), &first, &last)
            .await?
    } else {
        state
            .store
            .rating_totals(r.tenant(), r.scope(), &first, &last)
            .await?
    };
    let (lines, all) = group_totals(&rows, by);
    let items: Vec<Value> = lines
        .iter()
        .map(|l| {
            let name = if by == "unit" {
                r.units.name(&l.key)
            } else {
                l.key.clone()
            };
            line_json(name, l)
        })
        .collect();
    Ok(Json(
        json!({"from": first, "to": last, "by": by, "items": items,
        "total": line_json("合计".into(), &all)}),
    ))
}

// ---- bad ratings --------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct BadQuery {
    pub(crate) state: Option<String>,
    pub(crate) open: Option<bool>,
    pub(crate) overdue: Option<bool>,
    pub(crate) due: Option<bool>,
}

/// The filter of a bad-rating list.
pub(crate) fn bad_filter(r: &RatingReader, q: &BadQuery) -> Result<BadFilter> {
    let mut states = Vec::new();
    if let Some(s) = q.state.as_deref().filter(|s| !s.is_empty()) {
        states.push(
            s.parse::<BadState>()
                .map_err(|e| Error::bad_param("state", e))?,
        );
    } else if q.open == Some(true) {
        states = BadState::ALL
            .iter()
            .copied()
            .filter(|s| !store::rating::is_final(*s))
            .collect();
    }
    Ok(BadFilter {
        unit_ids: r.scope().map(<[String]>::to_vec),
        states,
        overdue: q.overdue == Some(true),
        due: q.due == Some(true),
    })
}

async fn list_bad(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<BadQuery>,
) -> Result<Json<Value>> {
    let r = RatingReader::load(&state, user, Action::ReadRatings).await?;
    let filter = bad_filter(&r, &q)?;
    let items = state.store.bad_ratings(r.tenant(), &filter, 500).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|x| rating_json(&r.units, x, r.supervisor()))
        .collect();
    Ok(Json(json!({"items": items, "total": items.len()})))
}

async fn show_bad(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let r = RatingReader::load(&state, user, Action::ReadRatings).await?;
    let rating = r.bad(&state, &id).await?;
    Ok(Json(rating_json(&r.units, &rating, r.supervisor())))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct BadActionBody {
    pub(crate) action: Option<String>,
    #[serde(default)]
    pub(crate) note: String,
}

/// Takes a step on a bad rating for the reader: 403 for a reader who takes none.
pub(crate) async fn take_bad_step(
    state: &AppState,
    r: &RatingReader,
    rating: &Rating,
    body: BadActionBody,
) -> Result<Rating> {
    if !allows(&r.user.account, Action::ManageRatings) {
        permitted(
            &r.user,
            Action::RectifyRatings,
            "只有督查人员和责任单位可以办理差评",
        )?;
    }
    let action = body
        .action
        .as_deref()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| Error::field("action", "请选择操作"))?
        .parse::<BadAction>()
        .map_err(|e| Error::field("action", e))?;
    let step = BadStepInput {
        action,
        note: body.note,
        actor: r.actor(rating),
    };
    Ok(state
        .store
        .act_on_bad_rating(&r.user.audit(), r.tenant(), &rating.id, &step)
        .await?)
}

async fn act_bad(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<BadActionBody>, Error>,
) -> Result<Json<Value>> {
    let r = RatingReader::load(&state, user, Action::ReadRatings).await?;
    let rating = r.bad(&state, &id).await?;
    let ApiJson(body) = body?;
    let rating = take_bad_step(&state, &r, &rating, body).await?;
    Ok(Json(rating_json(&r.units, &rating, r.supervisor())))
}

/// `GET /api/v1/bad-ratings/{id}/rater`: the rater's name and phone for the supervisor's
/// call (audited); 404 for everyone else.
async fn rater(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let r = RatingReader::load(&state, user, Action::ManageRatings).await?;
    r.bad(&state, &id).await?;
    let (name, phone) = state
        .store
        .rater_identity(&r.user.audit(), r.tenant(), &id)
        .await?;
    Ok(Json(json!({"name": name, "phone": phone})))
}

/// The first day of the month `n` months before `day`'s.
pub(crate) fn months_back(day: NaiveDate, n: u32) -> NaiveDate {
    day.with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(n)))
        .unwrap_or(day)
}

// ---- OpenAPI ------------------------------------------------------------------------------

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let codes = |all: Vec<&'static str>| json!({"type": "string", "enum": all});
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let obj = json!({"type": "object"});
    let string = json!({"type": "string"});
    let date = json!({"type": "string", "format": "date"});
    let figures_params = |groups: Value| {
        vec![
            query("by", false, groups, "grouping"),
            query(
                "from",
                false,
                date.clone(),
                "first day (default: the month's first)",
            ),
            query("to", false, date.clone(), "last day (default: today)"),
        ]
    };
    let rating = json!({"type": "object", "description": "A rating without its rater's identity.", "properties": {
        "id": {"type": "string"}, "target": {"type": "string"}, "process": {"type": "integer"}, "result": {"type": "integer"},
        "reasons": {"type": "array", "items": {"type": "string"}}, "comment": {"type": "string"},
        "channel": codes(Channel::ALL.iter().map(|c| c.as_str()).collect()), "flags": {"type": "array"},
        "counted": {"type": "boolean"}, "bad": {"type": ["object", "null"]}}});
    let mut paths = Map::new();
    let mut save = operation(
        "Add or change a service item; the supervisor.",
        &[],
        obj.clone(),
    );
    save["requestBody"] = body(
        json!({"type": "object", "required": ["code", "name", "unit_id", "levels", "promised_days", "legal_days", "max_visits"],
        "properties": {"code": string, "name": string, "unit_id": string, "category": string,
            "levels": {"type": "array", "items": codes(HandlingLevel::ALL.iter().map(|l| l.as_str()).collect())},
            "promised_days": {"type": "integer"}, "legal_days": {"type": "integer"}, "max_visits": {"type": "integer"},
            "materials": string, "online": {"type": "boolean"}, "active": {"type": "boolean"}}}),
    );
    paths.insert(
        "/api/v1/service-items".into(),
        json!({"get": operation("The service items.", &[], obj.clone()), "post": save}),
    );
    let mut cases = operation(
        "A batch of cases (≤ 1000), idempotent on the case number; each answered on its own.",
        &[],
        obj.clone(),
    );
    cases["requestBody"] = body(
        json!({"type": "object", "required": ["cases"], "properties": {"cases": {"type": "array",
        "items": {"type": "object", "required": ["number", "item_code", "unit_id", "status", "received_at"], "properties": {
            "number": string, "item_code": string, "unit_id": string, "window_id": string, "staff_id": string,
            "enterprise_uscc": string, "level": codes(HandlingLevel::ALL.iter().map(|l| l.as_str()).collect()),
            "channel": codes(vec!["window", "online", "mail"]),
            "status": codes(CaseStatus::ALL.iter().map(|s| s.as_str()).collect()), "visits": {"type": "integer"},
            "result": string, "received_at": {"type": "string", "format": "date-time"},
            "completed_at": {"type": "string", "format": "date-time"},
            "pauses": {"type": "array", "description": "Waiting for the applicant's materials (补正), in order; working days are counted net of them.",
                "items": {"type": "object", "required": ["from"], "properties": {
                    "from": {"type": "string", "format": "date-time"},
                    "to": {"type": "string", "format": "date-time", "nullable": true}}}}}}}}}),
    );
    paths.insert("/api/v1/cases".into(), json!({"post": cases}));
    let mut import = crate::import::openapi_operation(
        "cases (the supervisor)",
        &store::service::CASE_COLUMNS_IN_FILE.join(", "),
    );
    import["description"] = json!(
        "Import cases from CSV (UTF-8 with or without BOM, or GB18030) or XLSX sent as the raw body; upsert by 办件编号; \
         times in Beijing time as YYYY-MM-DD HH:MM. 200 with the counts, every refused row (row, column, reason) and `report_url`, the refused rows as an XLSX for \
         the importer to fix and send again (absent without row errors)."
    );
    import["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["report_url"] =
        json!({"type": "string"});
    paths.insert("/api/v1/cases/import".into(), json!({"post": import}));
    paths.insert(
        "/api/v1/cases/figures".into(),
        json!({"get": operation("One-visit rate, on-time rate and average working days of completed cases.",
            &figures_params(codes(vec!["unit", "item", "level"])), obj.clone())}),
    );
    let mut create = operation(
        "A rating from a system or a window device (no per-device limits).",
        &[],
        rating.clone(),
    );
    create["requestBody"] = body(
        json!({"type": "object", "required": ["target", "target_id", "process", "result"],
        "properties": {"target": codes(vec!["case", "window", "staff", "department"]), "target_id": string,
            "channel": codes(Channel::ALL.iter().map(|c| c.as_str()).collect()),
            "process": {"type": "integer", "minimum": 1, "maximum": 5}, "result": {"type": "integer", "minimum": 1, "maximum": 5},
            "reasons": {"type": "array", "items": codes(Reason::ALL.iter().map(|r| r.as_str()).collect())},
            "comment": {"type": "string", "maxLength": 500}, "rater_name": string, "rater_phone": string, "device": string}}),
    );
    paths.insert("/api/v1/ratings".into(), json!({"post": create}));
    paths.insert(
        "/api/v1/ratings/figures".into(),
        json!({"get": operation("Satisfaction rate and index (process, result, mean) with n, from the running totals.",
            &figures_params(codes(vec!["unit", "month", "item", "channel"])), obj.clone())}),
    );
    paths.insert(
        "/api/v1/bad-ratings".into(),
        json!({"get": operation("The bad ratings the user sees, oldest first.",
            &[query("state", false, codes(BadState::ALL.iter().map(|s| s.as_str()).collect()), "state"),
              query("open", false, codes(vec!["true", "false"]), "not ended"),
              query("overdue", false, codes(vec!["true", "false"]), "the running step is overdue"),
              query("due", false, codes(vec!["true", "false"]), "the running step carries a yellow card (due within its warning time) or is overdue")], obj.clone())}),
    );
    let id = path("id", "the rating's id");
    paths.insert(
        "/api/v1/bad-ratings/{id}".into(),
        json!({"get": operation("One bad rating.", std::slice::from_ref(&id), rating.clone())}),
    );
    let mut act = operation(
        "Take a step: valid, invalid, uphold, overrule, accept_unfixable, refuse_unfixable, satisfied, unsatisfied (the supervisor); object, rectify, unfixable (the responsible unit).",
        std::slice::from_ref(&id),
        rating,
    );
    act["requestBody"] = body(
        json!({"type": "object", "required": ["action"], "properties": {
        "action": codes(BadAction::ALL.iter().map(|a| a.as_str()).collect()), "note": string}}),
    );
    paths.insert(
        "/api/v1/bad-ratings/{id}/actions".into(),
        json!({"post": act}),
    );
    let limits = json!({"type": "object", "properties": {
        "verify_days": {"type": "integer"}, "objection_days": {"type": "integer"},
        "objection_decision_days": {"type": "integer"}, "rectify_days": {"type": "integer"},
        "review_days": {"type": "integer"}, "callback_days": {"type": "integer"},
        "rating_window_days": {"type": "integer"}}});
    let mut put_limits = operation(
        "Set the bad-rating limits and the rating window in working days; the supervisor.",
        &[],
        limits.clone(),
    );
    put_limits["requestBody"] = body(limits.clone());
    paths.insert(
        "/api/v1/rating-limits".into(),
        json!({"get": operation("The bad-rating limits; the supervisor.", &[], limits), "put": put_limits}),
    );
    paths.insert(
        "/api/v1/bad-ratings/{id}/rater".into(),
        json!({"get": operation("The rater's name and phone (the supervisor; each read audited).", &[id], obj)}),
    );
    paths
}
