//! Inspections (明察暗访), findings (问题), self-check lists (对照检查清单), the rectification
//! ledger (整改台账) and accountability (问责): API and pages. What a user sees is the policy
//! module's [`inspection_visibility`], applied by the store's queries, so a covert inspection
//! does not exist (404, absent from lists and counts) for anyone off its team but the
//! supervisor, and a unit sees its assigned findings, never the inspection they came from.

use std::collections::HashMap;

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use domain::finding::{FindingAction, FindingState, InspectionKind, Measure, Severity, Source};
use domain::history::Reader;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::inspection::{
    Decision, Finding, FindingFilter, FindingStep, Inspection, NewDecision, NewFinding,
    NewInspection, Visibility,
};
use store::page::PageRequest;
use store::task::ReportFiles;

use crate::attachment::{FileLine, created_file, file_lines, files_json};
use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, Scope, allows, inspection_visibility, permitted, scope, visible_to};
use crate::routes::Routes;
use crate::staff::{FormErrors, form_value};
use crate::state::AppState;
use crate::task::Units;
use crate::timeline::{TimelineLine, timeline};

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/inspections", list_inspections)
        .post("/api/v1/inspections", create_inspection)
        .get("/api/v1/inspections/{id}", show_inspection)
        .get("/api/v1/inspections/{id}/attachments", inspection_files)
        .post(
            "/api/v1/inspections/{id}/attachments",
            attach_inspection.layer(crate::attachment::body_limit()),
        )
        .get("/api/v1/findings", list_findings)
        .post("/api/v1/findings", create_finding)
        .get("/api/v1/findings/export", export)
        .get("/api/v1/findings/self-checks", self_checks)
        .get("/api/v1/findings/{id}", show_finding)
        .post("/api/v1/findings/{id}/actions", act)
        .get("/api/v1/findings/{id}/history", history)
        .get("/api/v1/findings/{id}/attachments", finding_files)
        .post(
            "/api/v1/findings/{id}/attachments",
            attach_finding.layer(crate::attachment::body_limit()),
        )
        .get("/api/v1/accountability", list_decisions)
        .post("/api/v1/accountability", create_decision)
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/inspections", inspections_page)
        .get("/inspections/new", new_inspection_page)
        .post("/inspections/new", new_inspection_form)
        .get("/inspections/{id}", inspection_page)
        .post(
            "/inspections/{id}/attachments",
            attach_inspection_form.layer(crate::attachment::body_limit()),
        )
        .get("/findings", findings_page)
        .get("/findings/new", new_finding_page)
        .post("/findings/new", new_finding_form)
        .get("/findings/self-checks", self_checks_page)
        .get("/findings/{id}", finding_page)
        .post(
            "/findings/{id}/action",
            action_form.layer(crate::attachment::body_limit()),
        )
        .get("/accountability", decisions_page)
        .post("/accountability", new_decision_form)
}

// ---- who sees what ------------------------------------------------------------------------

/// The user with their units (a `unit_admin`'s subtree) and what they see.
struct Reading {
    user: CurrentUser,
    units: Units,
    vis: Visibility,
}

impl Reading {
    async fn load(state: &AppState, user: CurrentUser, action: Action) -> Result<Self> {
        let user = visible_to(user, action)?;
        let units = Units::load_for(state, &user, Action::RectifyFindings).await?;
        let vis = inspection_visibility(&user.account, units.scope.clone());
        Ok(Self { user, units, vis })
    }

    fn tenant(&self) -> &str {
        &self.user.tenant.id
    }

    fn actor(&self) -> String {
        self.user.audit().actor
    }

    async fn inspection(&self, state: &AppState, id: &str) -> Result<Inspection> {
        state
            .store
            .inspection(self.tenant(), id)
            .await?
            .filter(|i| self.vis.sees_inspection(i))
            .ok_or_else(Error::not_found)
    }

    async fn finding(&self, state: &AppState, id: &str) -> Result<Finding> {
        state
            .store
            .visible_finding(self.tenant(), &self.vis, &self.actor(), id)
            .await?
            .ok_or_else(Error::not_found)
    }

    /// The unit of the user's subtree responsible for the finding, if any.
    fn own_unit(&self, finding: &Finding) -> Option<String> {
        let ids = self.units.scope.as_ref()?;
        finding
            .unit_id
            .as_ref()
            .filter(|u| allows(&self.user.account, Action::RectifyFindings) && ids.contains(u))
            .cloned()
    }

    /// Whose records the user reads under `action`, as the policy scopes it: `Some(None)`
    /// the tenant's, `Some(Some(units))` a `unit_admin`'s subtree, `None` none.
    fn units_under(&self, action: Action) -> Option<Option<Vec<String>>> {
        match scope(&self.user.account, action) {
            Scope::Tenant => Some(None),
            Scope::Subtree(_) => Some(Some(self.units.scope.clone().unwrap_or_default())),
            Scope::Nothing => None,
        }
    }

    /// Evidence of a finding is added by the supervisor, an inspector who sees its
    /// inspection, and the responsible unit, until it is verified.
    fn may_attach(&self, f: &Finding) -> Result<()> {
        let a = &self.user.account;
        let may = allows(a, Action::ManageFindings)
            || (allows(a, Action::RecordInspections) && f.inspection_id.is_some())
            || self.own_unit(f).is_some();
        if !may {
            return Err(Error::client(
                StatusCode::FORBIDDEN,
                "forbidden",
                "只有督查、检查组和责任单位可以上传佐证材料",
            ));
        }
        if f.state == FindingState::Verified {
            return Err(Error::conflict("该问题已整改销号，不能再上传材料"));
        }
        Ok(())
    }

    /// Whether the user sees the inspection a finding came from (and so its whole story).
    async fn sees_origin(&self, state: &AppState, finding: &Finding) -> Result<bool> {
        Ok(match &finding.inspection_id {
            None => true,
            Some(id) => state
                .store
                .inspection(self.tenant(), id)
                .await?
                .is_some_and(|i| self.vis.sees_inspection(&i)),
        })
    }
}

/// Whether the user sees the inspection (attachments follow it).
pub(crate) async fn sees_inspection(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
) -> Result<bool> {
    if !allows(&user.account, Action::ReadInspections) {
        return Ok(false);
    }
    let r = Reading::load(state, user.clone(), Action::ReadInspections).await?;
    Ok(r.inspection(state, id).await.is_ok())
}

/// Whether the user sees the finding (attachments follow it).
pub(crate) async fn sees_finding(state: &AppState, user: &CurrentUser, id: &str) -> Result<bool> {
    if !allows(&user.account, Action::ReadFindings) {
        return Ok(false);
    }
    let r = Reading::load(state, user.clone(), Action::ReadFindings).await?;
    Ok(r.finding(state, id).await.is_ok())
}

// ---- JSON ---------------------------------------------------------------------------------

#[derive(Serialize)]
struct UnitRef {
    id: String,
    name: String,
}

fn unit_ref(units: &Units, id: &str) -> UnitRef {
    UnitRef {
        id: id.to_owned(),
        name: units.name(id),
    }
}

#[derive(Serialize)]
struct InspectionJson {
    id: String,
    kind: &'static str,
    title: String,
    held_on: String,
    notes: String,
    members: Vec<String>,
    targets: Vec<UnitRef>,
    created_at: String,
}

async fn inspection_json(state: &AppState, r: &Reading, i: Inspection) -> Result<InspectionJson> {
    let mut members = Vec::with_capacity(i.member_ids.len());
    for id in &i.member_ids {
        if let Some(a) = state.store.account(r.tenant(), id).await? {
            members.push(a.display_name);
        }
    }
    Ok(InspectionJson {
        kind: i.kind.as_str(),
        held_on: i.held_on.to_string(),
        members,
        targets: i
            .target_unit_ids
            .iter()
            .map(|u| unit_ref(&r.units, u))
            .collect(),
        created_at: timestamp(i.created_at),
        id: i.id,
        title: i.title,
        notes: i.notes,
    })
}

#[derive(Serialize)]
struct FindingJson {
    id: String,
    /// Only for readers who see the inspection.
    inspection_id: Option<String>,
    source: &'static str,
    category: String,
    severity: &'static str,
    description: String,
    found_on: String,
    unit: Option<UnitRef>,
    persons: String,
    state: &'static str,
    published: bool,
    claim_unit: Option<UnitRef>,
    measures: Option<String>,
    planned_on: Option<String>,
    result: Option<String>,
    assigned_at: Option<String>,
    submitted_at: Option<String>,
    verified_at: Option<String>,
    verify_note: Option<String>,
    due_at: Option<String>,
    card: &'static str,
    provisional: bool,
}

fn finding_json(f: Finding, units: &Units, sees_origin: bool) -> FindingJson {
    let deadline = f.deadline().filter(|d| d.open);
    FindingJson {
        due_at: deadline.map(|d| timestamp(d.due_at)),
        provisional: deadline.is_some_and(|d| d.provisional),
        card: f.card().as_str(),
        inspection_id: f.inspection_id.clone().filter(|_| sees_origin),
        source: f.source.as_str(),
        severity: f.severity.as_str(),
        found_on: f.found_on.to_string(),
        unit: f.unit_id.as_deref().map(|u| unit_ref(units, u)),
        state: f.state.as_str(),
        claim_unit: f.claim_unit_id.as_deref().map(|u| unit_ref(units, u)),
        planned_on: f.planned_on.map(|d| d.to_string()),
        assigned_at: f.assigned_at.map(timestamp),
        submitted_at: f.submitted_at.map(timestamp),
        verified_at: f.verified_at.map(timestamp),
        id: f.id,
        category: f.category,
        description: f.description,
        persons: f.persons,
        published: f.published,
        measures: f.measures,
        result: f.result,
        verify_note: f.verify_note,
    }
}

async fn findings_json(
    state: &AppState,
    r: &Reading,
    items: Vec<Finding>,
) -> Result<Vec<FindingJson>> {
    // a page holds a few inspections' findings: ask once per inspection
    let mut seen: HashMap<Option<String>, bool> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for f in items {
        let origin = match seen.get(&f.inspection_id) {
            Some(known) => *known,
            None => {
                let known = r.sees_origin(state, &f).await?;
                seen.insert(f.inspection_id.clone(), known);
                known
            }
        };
        out.push(finding_json(f, &r.units, origin));
    }
    Ok(out)
}

#[derive(Serialize)]
struct DecisionJson {
    id: String,
    measure: &'static str,
    measure_label: &'static str,
    unit: UnitRef,
    person: String,
    basis: String,
    decided_by: String,
    decided_on: String,
    finding_ids: Vec<String>,
    working_days: Option<i64>,
}

fn decision_json(d: Decision, units: &Units) -> DecisionJson {
    DecisionJson {
        measure: d.measure.as_str(),
        measure_label: d.measure.label(),
        unit: unit_ref(units, &d.unit_id),
        decided_on: d.decided_on.to_string(),
        id: d.id,
        person: d.person,
        basis: d.basis,
        decided_by: d.decided_by,
        finding_ids: d.finding_ids,
        working_days: d.working_days,
    }
}

// ---- inspections API ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct InspectionQuery {
    kind: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

fn parse_opt<T: std::str::FromStr<Err = String>>(
    name: &str,
    value: Option<&str>,
) -> Result<Option<T>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|e: String| Error::bad_param(name, e)),
        None => Ok(None),
    }
}

/// `GET /api/v1/inspections`
async fn list_inspections(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<InspectionQuery>,
) -> Result<Json<ListBody<InspectionJson>>> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    let kind = parse_opt::<InspectionKind>("kind", q.kind.as_deref())?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_inspections(r.tenant(), &r.vis, kind, request)
        .await?;
    let mut items = Vec::with_capacity(page.items.len());
    for i in page.items {
        items.push(inspection_json(&state, &r, i).await?);
    }
    Ok(Json(ListBody {
        items,
        page: page.request.page,
        per_page: page.request.per_page,
        total: page.total,
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewInspectionBody {
    kind: Option<String>,
    title: Option<String>,
    held_on: Option<String>,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    member_ids: Vec<String>,
    #[serde(default)]
    target_unit_ids: Vec<String>,
}

fn required_date(field: &str, value: Option<&str>, what: &str) -> Result<NaiveDate> {
    let value = value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::field(field, format!("请填写{what}")))?;
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| Error::field(field, format!("{what}应为 YYYY-MM-DD 格式的日期")))
}

impl NewInspectionBody {
    fn into_new(self) -> Result<NewInspection> {
        let kind = self
            .kind
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| Error::field("kind", "请选择检查方式（明察或暗访）"))?
            .parse()
            .map_err(|e: String| Error::field("kind", e))?;
        Ok(NewInspection {
            kind,
            title: self.title.unwrap_or_default(),
            held_on: required_date("held_on", self.held_on.as_deref(), "检查日期")?,
            notes: self.notes,
            member_ids: self.member_ids,
            target_unit_ids: self.target_unit_ids,
        })
    }
}

fn recorder(user: &CurrentUser) -> Result<()> {
    permitted(
        user,
        Action::RecordInspections,
        "只有明察暗访组成员和督查可以记录检查",
    )
}

/// `POST /api/v1/inspections`
async fn create_inspection(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<NewInspectionBody>, Error>,
) -> Result<Response> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    recorder(&r.user)?;
    let ApiJson(body) = body?;
    let inspection = state
        .store
        .create_inspection(&r.user.audit(), r.tenant(), &body.into_new()?)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(inspection_json(&state, &r, inspection).await?),
    )
        .into_response())
}

/// `GET /api/v1/inspections/{id}`
async fn show_inspection(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<InspectionJson>> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    let inspection = r.inspection(&state, &id).await?;
    Ok(Json(inspection_json(&state, &r, inspection).await?))
}

/// `GET /api/v1/inspections/{id}/attachments`
async fn inspection_files(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    r.inspection(&state, &id).await?;
    files_json(&state, r.tenant(), "inspection", &id).await
}

/// Evidence of an inspection: its team and the supervisor add it.
async fn attach_to_inspection(
    state: &AppState,
    r: &Reading,
    id: &str,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<store::attachment::Attachment> {
    let inspection = r.inspection(state, id).await?;
    let on_team = inspection.member_ids.contains(&r.user.account.id);
    if !(allows(&r.user.account, Action::ManageFindings) || on_team) {
        return Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "只有检查组成员和督查可以上传检查佐证",
        ));
    }
    let (name, upload) = crate::attachment::receive(state, multipart).await?;
    Ok(state
        .store
        .attach(&r.user.audit(), r.tenant(), "inspection", id, &name, upload)
        .await?)
}

/// `POST /api/v1/inspections/{id}/attachments`
async fn attach_inspection(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    Ok(created_file(
        attach_to_inspection(&state, &r, &id, multipart).await?,
    ))
}

/// The 201 answer of an upload.
// ---- findings API -------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FindingQuery {
    state: Option<String>,
    source: Option<String>,
    inspection_id: Option<String>,
    unit_id: Option<String>,
    published: Option<String>,
    q: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

impl FindingQuery {
    fn filter(&self) -> Result<FindingFilter> {
        let published = match self.published.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => {
                return Err(Error::bad_param(
                    "published",
                    "published 应为 true 或 false",
                ));
            }
        };
        let nonempty = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
        Ok(FindingFilter {
            state: parse_opt("state", self.state.as_deref())?,
            source: parse_opt("source", self.source.as_deref())?,
            inspection_id: nonempty(&self.inspection_id),
            unit_id: nonempty(&self.unit_id),
            published,
            q: nonempty(&self.q),
        })
    }
}

/// `GET /api/v1/findings`
async fn list_findings(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<FindingQuery>,
) -> Result<Json<ListBody<FindingJson>>> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_findings(r.tenant(), &r.vis, &r.actor(), &q.filter()?, request)
        .await?;
    Ok(Json(ListBody {
        page: page.request.page,
        per_page: page.request.per_page,
        total: page.total,
        items: findings_json(&state, &r, page.items).await?,
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewFindingBody {
    inspection_id: Option<String>,
    source: Option<String>,
    category: Option<String>,
    severity: Option<String>,
    description: Option<String>,
    found_on: Option<String>,
    #[serde(default)]
    unit_ids: Vec<String>,
    #[serde(default)]
    persons: String,
}

/// Checks who records a finding of this source and completes it: the supervisor any source;
/// an inspector one of an inspection they see; a unit's contact its self-check (its own
/// unit when none is named).
async fn new_finding(state: &AppState, r: &Reading, body: NewFindingBody) -> Result<NewFinding> {
    let source: Source = body
        .source
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::field("source", "请选择问题来源"))?
        .parse()
        .map_err(|e: String| Error::field("source", e))?;
    let severity: Severity = body
        .severity
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| Error::field("severity", "请选择严重程度"))?
        .parse()
        .map_err(|e: String| Error::field("severity", e))?;
    let account = &r.user.account;
    let inspection_id = body.inspection_id.filter(|i| !i.trim().is_empty());
    let mut unit_ids: Vec<String> = body
        .unit_ids
        .into_iter()
        .filter(|u| !u.trim().is_empty())
        .collect();
    let forbidden = |message: &str| Error::client(StatusCode::FORBIDDEN, "forbidden", message);
    if source == Source::SelfCheck && allows(account, Action::RectifyFindings) {
        if unit_ids.is_empty()
            && let Some(own) = &account.unit_id
        {
            unit_ids.push(own.clone());
        }
        let scope = r.units.scope.as_deref().unwrap_or_default();
        if unit_ids.iter().any(|u| !scope.contains(u)) {
            return Err(Error::field(
                "unit_ids",
                "自查问题只能列入本单位（或下属单位）",
            ));
        }
    } else if allows(account, Action::ManageFindings) {
    } else if allows(account, Action::RecordInspections) {
        if source != Source::Inspection {
            return Err(forbidden("明察暗访组只能记录检查中发现的问题"));
        }
        // an inspection the inspector does not see is as absent as one that does not exist
        if let Some(id) = &inspection_id
            && r.inspection(state, id).await.is_err()
        {
            return Err(Error::field("inspection_id", "检查不存在"));
        }
    } else if allows(account, Action::RectifyFindings) {
        return Err(forbidden("单位联络员只能列入本单位的自查问题"));
    } else {
        return Err(forbidden("您不能记录问题"));
    }
    Ok(NewFinding {
        inspection_id,
        source,
        category: body.category.unwrap_or_default(),
        severity,
        description: body.description.unwrap_or_default(),
        found_on: required_date("found_on", body.found_on.as_deref(), "发现日期")?,
        unit_ids,
        persons: body.persons,
    })
}

/// Readers who neither record nor rectify (leaders, observers) only read.
fn may_record(user: &CurrentUser) -> Result<()> {
    let a = &user.account;
    if [
        Action::ManageFindings,
        Action::RecordInspections,
        Action::RectifyFindings,
    ]
    .into_iter()
    .any(|action| allows(a, action))
    {
        Ok(())
    } else {
        Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "您只能查看问题",
        ))
    }
}

/// `POST /api/v1/findings`: one finding per responsible unit (201 with the list).
async fn create_finding(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<NewFindingBody>, Error>,
) -> Result<Response> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    may_record(&r.user)?;
    let ApiJson(body) = body?;
    let new = new_finding(&state, &r, body).await?;
    let created = state
        .store
        .create_findings(&r.user.audit(), r.tenant(), &new)
        .await?;
    let items = findings_json(&state, &r, created).await?;
    Ok((StatusCode::CREATED, Json(json!({"items": items}))).into_response())
}

/// `GET /api/v1/findings/{id}`
async fn show_finding(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<FindingJson>> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    let f = r.finding(&state, &id).await?;
    let origin = r.sees_origin(&state, &f).await?;
    Ok(Json(finding_json(f, &r.units, origin)))
}

/// `GET /api/v1/findings/{id}/history`: a unit reading a finding of an inspection it does
/// not see reads the public entries without names.
async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    let f = r.finding(&state, &id).await?;
    let reader = if r.sees_origin(&state, &f).await? {
        Reader::Staff
    } else {
        Reader::Submitter
    };
    let items = timeline(&state, r.tenant(), "finding", &id, reader).await?;
    Ok(Json(json!({"items": items})))
}

/// `GET /api/v1/findings/{id}/attachments`
async fn finding_files(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    r.finding(&state, &id).await?;
    files_json(&state, r.tenant(), "finding", &id).await
}

/// Evidence of a finding: the supervisor, an inspector who sees its inspection, and the
/// responsible unit add it until it is verified.
async fn attach_to_finding(
    state: &AppState,
    r: &Reading,
    id: &str,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<store::attachment::Attachment> {
    let f = r.finding(state, id).await?;
    r.may_attach(&f)?;
    let (name, upload) = crate::attachment::receive(state, multipart).await?;
    Ok(state
        .store
        .attach(&r.user.audit(), r.tenant(), "finding", id, &name, upload)
        .await?)
}

/// `POST /api/v1/findings/{id}/attachments`
async fn attach_finding(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    Ok(created_file(
        attach_to_finding(&state, &r, &id, multipart).await?,
    ))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActionBody {
    action: Option<String>,
    unit_id: Option<String>,
    persons: Option<String>,
    measures: Option<String>,
    planned_on: Option<String>,
    #[serde(default)]
    attachment_ids: Vec<String>,
    #[serde(default)]
    text: String,
}

/// The step a user takes: the supervisor's steps need `ManageFindings`, a unit's
/// `RectifyFindings`; anyone else who sees the finding gets 403.
fn step_of(r: &Reading, f: &Finding, body: ActionBody) -> Result<FindingStep> {
    let action: FindingAction = body
        .action
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(|e: String| Error::field("action", e))?;
    let account = &r.user.account;
    let note = body.text;
    match action {
        FindingAction::Claim | FindingAction::Plan | FindingAction::Submit => {
            permitted(
                &r.user,
                Action::RectifyFindings,
                "只有单位联络员可以认领和整改问题",
            )?;
            Ok(match action {
                FindingAction::Claim => FindingStep::Claim {
                    unit_id: account.unit_id.clone(),
                    note,
                },
                FindingAction::Plan => FindingStep::Plan {
                    unit_id: r.own_unit(f),
                    measures: body.measures.unwrap_or_default(),
                    planned_on: required_date(
                        "planned_on",
                        body.planned_on.as_deref(),
                        "整改时限",
                    )?,
                },
                _ => FindingStep::Submit {
                    unit_id: r.own_unit(f),
                    result: note,
                },
            })
        }
        _ => {
            permitted(
                &r.user,
                Action::ManageFindings,
                "只有督查（营商办）可以办理此操作",
            )?;
            Ok(match action {
                FindingAction::Assign => FindingStep::Assign {
                    unit_id: body
                        .unit_id
                        .filter(|u| !u.trim().is_empty())
                        .or_else(|| f.unit_id.clone())
                        .ok_or_else(|| Error::field("unit_id", "请选择责任单位"))?,
                    persons: body.persons,
                    note,
                },
                FindingAction::ConfirmClaim => FindingStep::ConfirmClaim { note },
                FindingAction::RefuseClaim => FindingStep::RefuseClaim { note },
                FindingAction::Verify => FindingStep::Verify {
                    verifier_unit_id: account.unit_id.clone(),
                    note,
                },
                FindingAction::Reject => FindingStep::Reject { note },
                _ => FindingStep::Publish,
            })
        }
    }
}

/// Readers who neither manage nor rectify only read: 403 before the body is read.
fn may_act(user: &CurrentUser) -> Result<()> {
    if allows(&user.account, Action::ManageFindings)
        || allows(&user.account, Action::RectifyFindings)
    {
        Ok(())
    } else {
        Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "您只能查看该问题",
        ))
    }
}

async fn take_step(
    state: &AppState,
    r: &Reading,
    id: &str,
    mut body: ActionBody,
    mut files: ReportFiles,
) -> Result<Finding> {
    let f = r.finding(state, id).await?;
    files.linked.append(&mut body.attachment_ids);
    // a step the finding's state refuses says so before its fields are checked
    if let Some(Ok(action)) = body.action.as_deref().map(str::parse::<FindingAction>)
        && let Err(refusal) = domain::finding::next(f.state, action)
    {
        return Err(Error::conflict(refusal.to_string()));
    }
    let step = step_of(r, &f, body)?;
    Ok(state
        .store
        .act_on_finding(&r.user.audit(), r.tenant(), id, &step, files)
        .await?)
}

/// `POST /api/v1/findings/{id}/actions`: `{"action": "plan", "measures": "…", "planned_on": "…"}`.
async fn act(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<ActionBody>, Error>,
) -> Result<Json<FindingJson>> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    r.finding(&state, &id).await?;
    may_act(&r.user)?;
    let ApiJson(body) = body?;
    let f = take_step(&state, &r, &id, body, ReportFiles::default()).await?;
    let origin = r.sees_origin(&state, &f).await?;
    Ok(Json(finding_json(f, &r.units, origin)))
}

/// `GET /api/v1/findings/self-checks`: per unit (a `unit_admin`: of its subtree), the
/// problems it listed itself and how far they got.
async fn self_checks(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    let items: Vec<Value> = self_check_lines(&state, &r)
        .await?
        .into_iter()
        .map(|l| {
            json!({"unit": {"id": l.unit_id, "name": l.unit}, "listed": l.listed,
                "verified": l.verified, "open": l.open, "overdue": l.overdue})
        })
        .collect();
    Ok(Json(json!({"items": items})))
}

struct SelfCheckLine {
    unit_id: String,
    unit: String,
    listed: i64,
    verified: i64,
    open: i64,
    overdue: i64,
}

/// Self-check lists: the supervisor and leaders see every unit; a `unit_admin` its
/// subtree; inspectors and observers none (404).
async fn self_check_lines(state: &AppState, r: &Reading) -> Result<Vec<SelfCheckLine>> {
    let scope = r
        .units_under(Action::ReadSelfChecks)
        .ok_or_else(Error::not_found)?;
    Ok(state
        .store
        .self_check_counts(r.tenant(), scope.as_deref())
        .await?
        .into_iter()
        .map(|c| SelfCheckLine {
            unit: r.units.name(&c.unit_id),
            unit_id: c.unit_id,
            listed: c.listed,
            verified: c.verified,
            open: c.open,
            overdue: c.overdue,
        })
        .collect())
}

// ---- the ledger ---------------------------------------------------------------------------

/// The ledger's columns, as offices keep them.
pub const LEDGER_COLUMNS: [&str; 14] = [
    "序号",
    "问题来源",
    "发现时间",
    "问题描述",
    "责任单位",
    "责任人",
    "整改措施",
    "整改时限",
    "整改进展",
    "完成时间",
    "验收人",
    "验收意见",
    "销号状态",
    "问责情况",
];

/// `GET /api/v1/findings/export` with the list's filters: the rectification ledger
/// (整改台账) of every finding the user sees, as XLSX.
async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<FindingQuery>,
) -> Result<Response> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    let filter = q.filter()?;
    let mut findings = Vec::new();
    let mut request = PageRequest {
        page: 1,
        per_page: PageRequest::MAX_PER_PAGE,
    };
    loop {
        let page = state
            .store
            .list_findings(r.tenant(), &r.vis, &r.actor(), &filter, request)
            .await?;
        let done = page.items.len() < request.per_page as usize;
        findings.extend(page.items);
        if done {
            break;
        }
        request.page += 1;
    }
    // oldest first, as a ledger is kept
    findings.reverse();
    let decisions = decisions_for(&state, &r).await?;
    let mut actors: Vec<&str> = findings
        .iter()
        .filter_map(|f| f.verified_by.as_deref())
        .collect();
    actors.dedup();
    let names = state.store.actor_names(r.tenant(), &actors).await?;
    let rows: Vec<Vec<String>> = findings
        .iter()
        .enumerate()
        .map(|(n, f)| {
            let decided: Vec<String> = decisions
                .iter()
                .filter(|d| d.finding_ids.contains(&f.id))
                .map(|d| {
                    let whom = if d.person.is_empty() {
                        r.units.name(&d.unit_id)
                    } else {
                        d.person.clone()
                    };
                    format!(
                        "{}{}（{}，{}）",
                        whom,
                        d.measure.label(),
                        d.decided_by,
                        d.decided_on
                    )
                })
                .collect();
            vec![
                (n + 1).to_string(),
                f.source.label().to_owned(),
                f.found_on.to_string(),
                f.description.clone(),
                f.unit_id
                    .as_deref()
                    .map(|u| r.units.name(u))
                    .unwrap_or_default(),
                f.persons.clone(),
                f.measures.clone().unwrap_or_default(),
                f.planned_on.map(|d| d.to_string()).unwrap_or_default(),
                f.result
                    .clone()
                    .unwrap_or_else(|| f.state.label().to_owned()),
                f.verified_at
                    .map(|t| {
                        t.with_timezone(&domain::calendar::shanghai())
                            .date_naive()
                            .to_string()
                    })
                    .unwrap_or_default(),
                f.verified_by
                    .as_ref()
                    .map(|a| names.get(a).cloned().unwrap_or_else(|| a.clone()))
                    .unwrap_or_default(),
                f.verify_note.clone().unwrap_or_default(),
                if f.state == FindingState::Verified {
                    "已销号"
                } else {
                    "未销号"
                }
                .to_owned(),
                if decided.is_empty() {
                    "无".to_owned()
                } else {
                    decided.join("；")
                },
            ]
        })
        .collect();
    let bytes = store::import::xlsx_sheet("整改台账", &LEDGER_COLUMNS, &rows)?;
    Ok((
        [
            (CONTENT_TYPE, crate::import::XLSX.to_owned()),
            (
                CONTENT_DISPOSITION,
                "attachment; filename=\"ledger.xlsx\"".to_owned(),
            ),
        ],
        bytes,
    )
        .into_response())
}

// ---- accountability -----------------------------------------------------------------------

/// Whose accountability decisions the user reads: `Some(None)` all (the supervisor, leaders,
/// observers), `Some(Some(units))` those on a `unit_admin`'s subtree, `None` none.
fn decision_scope(r: &Reading) -> Option<Option<Vec<String>>> {
    r.units_under(Action::ReadAccountability)
}

/// The decisions the user reads.
async fn decisions_for(state: &AppState, r: &Reading) -> Result<Vec<Decision>> {
    decisions_on(state, r, None).await
}

/// The decisions the user reads, answering `finding_id` when given.
async fn decisions_on(
    state: &AppState,
    r: &Reading,
    finding_id: Option<&str>,
) -> Result<Vec<Decision>> {
    let Some(scope) = decision_scope(r) else {
        return Ok(Vec::new());
    };
    Ok(state
        .store
        .decisions(r.tenant(), scope.as_deref(), finding_id)
        .await?)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DecisionQuery {
    page: Option<String>,
    per_page: Option<String>,
}

/// `GET /api/v1/accountability`
async fn list_decisions(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<DecisionQuery>,
) -> Result<Json<ListBody<DecisionJson>>> {
    let r = Reading::load(&state, user, Action::ReadAccountability).await?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let all: Vec<DecisionJson> = decisions_for(&state, &r)
        .await?
        .into_iter()
        .map(|d| decision_json(d, &r.units))
        .collect();
    Ok(Json(ListBody::from_all(all, request)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NewDecisionBody {
    measure: Option<String>,
    unit_id: Option<String>,
    #[serde(default)]
    person: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    decided_by: String,
    decided_on: Option<String>,
    #[serde(default)]
    finding_ids: Vec<String>,
}

async fn new_decision(state: &AppState, r: &Reading, body: NewDecisionBody) -> Result<NewDecision> {
    let measure: Measure = body
        .measure
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| Error::field("measure", "请选择问责方式"))?
        .parse()
        .map_err(|e: String| Error::field("measure", e))?;
    // a finding the supervisor does not see cannot be named (the supervisor sees all)
    for id in &body.finding_ids {
        if r.finding(state, id).await.is_err() {
            return Err(Error::field("finding_ids", "问题不存在"));
        }
    }
    Ok(NewDecision {
        measure,
        unit_id: body
            .unit_id
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| Error::field("unit_id", "请选择被问责单位（或被问责人所在单位）"))?,
        person: body.person,
        basis: body.basis,
        decided_by: body.decided_by,
        decided_on: required_date("decided_on", body.decided_on.as_deref(), "决定日期")?,
        finding_ids: body.finding_ids,
    })
}

/// `POST /api/v1/accountability` (supervisor)
async fn create_decision(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<NewDecisionBody>, Error>,
) -> Result<Response> {
    let r = Reading::load(&state, user, Action::ReadAccountability).await?;
    permitted(
        &r.user,
        Action::ManageFindings,
        "只有督查（营商办）可以记录问责",
    )?;
    let ApiJson(body) = body?;
    let new = new_decision(&state, &r, body).await?;
    let d = state
        .store
        .create_decision(&r.user.audit(), r.tenant(), &new)
        .await?;
    Ok((StatusCode::CREATED, Json(decision_json(d, &r.units))).into_response())
}

// ---- pages --------------------------------------------------------------------------------

/// Units a finding may name as responsible: the active units but windows.
fn unit_choices(units: &Units) -> Vec<(String, String)> {
    choices_of(units, false)
}

/// The active units, windows too when `windows` (an inspection's targets).
fn choices_of(units: &Units, windows: bool) -> Vec<(String, String)> {
    let mut choices: Vec<&store::unit::Unit> = units
        .by_id
        .values()
        .filter(|u| u.active && (windows || u.kind != domain::org::UnitKind::Window))
        .collect();
    choices.sort_by_key(|u| (u.kind, u.sort_order, u.code.clone()));
    choices
        .into_iter()
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect()
}

/// Every value of `name` in a form, blanks left out (checkboxes).
fn form_values(form: &[(String, String)], name: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

fn form_errors(e: Error) -> Result<(StatusCode, FormErrors), PageError> {
    FormErrors::from_error(e)
}

struct InspectionLine {
    id: String,
    title: String,
    kind: &'static str,
    covert: bool,
    held_on: String,
    targets: String,
}

fn inspection_line(i: &Inspection, units: &Units) -> InspectionLine {
    InspectionLine {
        id: i.id.clone(),
        title: i.title.clone(),
        kind: i.kind.label(),
        covert: i.kind == InspectionKind::Covert,
        held_on: i.held_on.to_string(),
        targets: i
            .target_unit_ids
            .iter()
            .map(|u| units.name(u))
            .collect::<Vec<_>>()
            .join("、"),
    }
}

#[derive(Template)]
#[template(path = "inspections.html")]
struct InspectionsPage {
    layout: Layout,
    inspections: Vec<InspectionLine>,
    total: i64,
    may_record: bool,
}

/// `GET /inspections`
async fn inspections_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    let page = state
        .store
        .list_inspections(
            r.tenant(),
            &r.vis,
            None,
            PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
    render(&InspectionsPage {
        layout: Layout::for_user("inspections.title", "findings", &r.user),
        inspections: page
            .items
            .iter()
            .map(|i| inspection_line(i, &r.units))
            .collect(),
        total: page.total,
        may_record: allows(&r.user.account, Action::RecordInspections),
    })
}

#[derive(Template)]
#[template(path = "inspection_form.html")]
struct InspectionFormPage {
    layout: Layout,
    csrf: String,
    kind: String,
    title: String,
    held_on: String,
    notes: String,
    members: Vec<String>,
    targets: Vec<String>,
    /// Inspectors and supervisors: (id, name).
    member_choices: Vec<(String, String)>,
    unit_choices: Vec<(String, String)>,
    errors: FormErrors,
}

impl InspectionFormPage {
    fn has_member(&self, id: &str) -> bool {
        self.members.iter().any(|m| m == id)
    }

    fn has_target(&self, id: &str) -> bool {
        self.targets.iter().any(|m| m == id)
    }
}

async fn blank_inspection_form(state: &AppState, r: &Reading) -> Result<InspectionFormPage> {
    let accounts = state
        .store
        .list_accounts(
            r.tenant(),
            PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
    let member_choices = accounts
        .items
        .into_iter()
        .filter(|a| !a.state.disabled && a.id != r.user.account.id)
        .filter(|a| {
            a.roles.iter().any(|role| {
                matches!(
                    role,
                    domain::account::Role::Inspector | domain::account::Role::Supervisor
                )
            })
        })
        .map(|a| (a.id, a.display_name))
        .collect();
    Ok(InspectionFormPage {
        layout: Layout::for_user("inspections.new", "findings", &r.user),
        csrf: r.user.csrf_token.clone(),
        kind: String::new(),
        title: String::new(),
        held_on: String::new(),
        notes: String::new(),
        members: Vec::new(),
        targets: Vec::new(),
        member_choices,
        unit_choices: choices_of(&r.units, true),
        errors: FormErrors::default(),
    })
}

/// `GET /inspections/new`
async fn new_inspection_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    recorder(&r.user)?;
    render(&blank_inspection_form(&state, &r).await?)
}

/// `POST /inspections/new`
async fn new_inspection_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    recorder(&r.user)?;
    let mut page = blank_inspection_form(&state, &r).await?;
    page.kind = form_value(&form, "kind");
    page.title = form_value(&form, "title");
    page.held_on = form_value(&form, "held_on");
    page.notes = form_value(&form, "notes");
    page.members = form_values(&form, "member_ids");
    page.targets = form_values(&form, "target_unit_ids");
    let body = NewInspectionBody {
        kind: Some(page.kind.clone()),
        title: Some(page.title.clone()),
        held_on: Some(page.held_on.clone()),
        notes: page.notes.clone(),
        member_ids: page.members.clone(),
        target_unit_ids: page.targets.clone(),
    };
    let created = match body.into_new() {
        Ok(new) => state
            .store
            .create_inspection(&r.user.audit(), r.tenant(), &new)
            .await
            .map_err(Error::from),
        Err(e) => Err(e),
    };
    match created {
        Ok(i) => Ok(see_other(&format!("/inspections/{}", i.id))),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            page.errors = errors;
            render_status(&page, status)
        }
    }
}

/// A file as a page lists it: (url, name, size in KB, is an image).
#[derive(Template)]
#[template(path = "inspection_detail.html")]
struct InspectionPage {
    layout: Layout,
    csrf: String,
    inspection: InspectionLine,
    notes: String,
    members: Vec<String>,
    files: Vec<FileLine>,
    findings: Vec<FindingLine>,
    may_attach: bool,
    may_record: bool,
    error: Option<String>,
}

async fn inspection_detail(
    state: &AppState,
    r: &Reading,
    id: &str,
    error: Option<String>,
) -> Result<InspectionPage> {
    let i = r.inspection(state, id).await?;
    let json = inspection_json(state, r, i.clone()).await?;
    let findings = state
        .store
        .list_findings(
            r.tenant(),
            &r.vis,
            &r.actor(),
            &FindingFilter {
                inspection_id: Some(i.id.clone()),
                ..FindingFilter::default()
            },
            PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
    let on_team = i.member_ids.contains(&r.user.account.id);
    Ok(InspectionPage {
        layout: Layout::for_user("inspections.title", "findings", &r.user).titled(i.title.clone()),
        csrf: r.user.csrf_token.clone(),
        inspection: inspection_line(&i, &r.units),
        notes: i.notes.clone(),
        members: json.members,
        files: file_lines(state, r.tenant(), "inspection", id).await?,
        findings: findings
            .items
            .iter()
            .map(|f| FindingLine::new(f, &r.units))
            .collect(),
        may_attach: allows(&r.user.account, Action::ManageFindings) || on_team,
        may_record: allows(&r.user.account, Action::RecordInspections),
        error,
    })
}

/// `GET /inspections/{id}`
async fn inspection_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    render(&inspection_detail(&state, &r, &id, None).await?)
}

/// `POST /inspections/{id}/attachments`
async fn attach_inspection_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadInspections).await?;
    match attach_to_inspection(&state, &r, &id, multipart).await {
        Ok(_) => Ok(see_other(&format!("/inspections/{id}"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let page = inspection_detail(&state, &r, &id, Some(e.message().to_owned())).await?;
            render_status(&page, status)
        }
        Err(e) => Err(PageError(e)),
    }
}

struct FindingLine {
    id: String,
    description: String,
    source: &'static str,
    severity: &'static str,
    severe: bool,
    found_on: String,
    unit: String,
    state: &'static str,
    card: &'static str,
    published: bool,
    due: String,
}

impl FindingLine {
    fn new(f: &Finding, units: &Units) -> Self {
        Self {
            id: f.id.clone(),
            description: f.description.chars().take(60).collect(),
            source: f.source.label(),
            severity: f.severity.label(),
            severe: f.severity == Severity::Severe,
            found_on: f.found_on.to_string(),
            unit: f
                .unit_id
                .as_deref()
                .map(|u| units.name(u))
                .unwrap_or_default(),
            state: f.state.label(),
            card: f.card().as_str(),
            published: f.published,
            due: f
                .deadline()
                .filter(|d| d.open)
                .map(|d| crate::list::local_minute(d.due_at))
                .unwrap_or_default(),
        }
    }

    fn card_key(&self) -> String {
        format!("task.card.{}", self.card)
    }
}

#[derive(Template)]
#[template(path = "findings.html")]
struct FindingsPage {
    layout: Layout,
    findings: Vec<FindingLine>,
    total: i64,
    state: String,
    source: String,
    published: String,
    q: String,
    export_query: String,
    states: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    may_record: bool,
    reads_inspections: bool,
    reads_self_checks: bool,
    reads_accountability: bool,
}

/// `GET /findings`
async fn findings_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let query = FindingQuery {
        state: Some(get("state")),
        source: Some(get("source")),
        published: Some(get("published")),
        q: Some(get("q")),
        ..FindingQuery::default()
    };
    let page = state
        .store
        .list_findings(
            r.tenant(),
            &r.vis,
            &r.actor(),
            &query.filter()?,
            PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
    let export_query = [
        ("state", get("state")),
        ("source", get("source")),
        ("published", get("published")),
        ("q", get("q")),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", crate::org::encode(&v)))
    .collect::<Vec<_>>()
    .join("&");
    let a = &r.user.account;
    render(&FindingsPage {
        layout: Layout::for_user("findings.title", "findings", &r.user),
        findings: page
            .items
            .iter()
            .map(|f| FindingLine::new(f, &r.units))
            .collect(),
        total: page.total,
        state: get("state"),
        source: get("source"),
        published: get("published"),
        q: get("q"),
        export_query,
        states: FindingState::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        sources: Source::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        may_record: allows(a, Action::ManageFindings) || allows(a, Action::RectifyFindings),
        reads_inspections: allows(a, Action::ReadInspections),
        reads_self_checks: allows(a, Action::ReadSelfChecks),
        reads_accountability: allows(a, Action::ReadAccountability),
    })
}

#[derive(Template)]
#[template(path = "finding_form.html")]
struct FindingFormPage {
    layout: Layout,
    csrf: String,
    /// The inspection it is recorded in, if any: (id, title).
    inspection: Option<(String, String)>,
    source: String,
    category: String,
    severity: String,
    description: String,
    found_on: String,
    units: Vec<String>,
    persons: String,
    /// Sources this user may record: (code, label).
    sources: Vec<(&'static str, &'static str)>,
    severities: Vec<(&'static str, &'static str)>,
    categories: Vec<&'static str>,
    unit_choices: Vec<(String, String)>,
    errors: FormErrors,
}

impl FindingFormPage {
    fn has_unit(&self, id: &str) -> bool {
        self.units.iter().any(|u| u == id)
    }
}

async fn blank_finding_form(
    state: &AppState,
    r: &Reading,
    inspection_id: Option<&str>,
) -> Result<FindingFormPage> {
    let a = &r.user.account;
    let inspection = match inspection_id.filter(|i| !i.is_empty()) {
        Some(id) => {
            let i = r.inspection(state, id).await?;
            Some((i.id, i.title))
        }
        None => None,
    };
    let sources: Vec<(&'static str, &'static str)> = Source::ALL
        .iter()
        .filter(|s| match (inspection.is_some(), **s) {
            (true, s) => s == Source::Inspection,
            (false, Source::Inspection) => false,
            (false, Source::SelfCheck) => {
                allows(a, Action::RectifyFindings) || allows(a, Action::ManageFindings)
            }
            (false, _) => allows(a, Action::ManageFindings),
        })
        .map(|s| (s.as_str(), s.label()))
        .collect();
    let unit_choices = if allows(a, Action::ManageFindings) || allows(a, Action::RecordInspections)
    {
        unit_choices(&r.units)
    } else {
        let scope = r.units.scope.clone().unwrap_or_default();
        unit_choices(&r.units)
            .into_iter()
            .filter(|(id, _)| scope.contains(id))
            .collect()
    };
    Ok(FindingFormPage {
        layout: Layout::for_user("findings.new", "findings", &r.user),
        csrf: r.user.csrf_token.clone(),
        source: sources.first().map(|s| s.0.to_owned()).unwrap_or_default(),
        inspection,
        category: String::new(),
        severity: String::new(),
        description: String::new(),
        found_on: state.store.today().to_string(),
        units: Vec::new(),
        persons: String::new(),
        sources,
        severities: Severity::ALL
            .iter()
            .map(|s| (s.as_str(), s.label()))
            .collect(),
        categories: domain::finding::CATEGORIES.to_vec(),
        unit_choices,
        errors: FormErrors::default(),
    })
}

/// `GET /findings/new[?inspection_id=…]`
async fn new_finding_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    may_record(&r.user)?;
    let inspection = q.get("inspection_id").map(String::as_str);
    render(&blank_finding_form(&state, &r, inspection).await?)
}

/// `POST /findings/new`
async fn new_finding_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    may_record(&r.user)?;
    let inspection_id = form_value(&form, "inspection_id");
    let mut page = blank_finding_form(&state, &r, Some(&inspection_id)).await?;
    page.source = form_value(&form, "source");
    page.category = form_value(&form, "category");
    page.severity = form_value(&form, "severity");
    page.description = form_value(&form, "description");
    page.found_on = form_value(&form, "found_on");
    page.units = form_values(&form, "unit_ids");
    page.persons = form_value(&form, "persons");
    let body = NewFindingBody {
        inspection_id: Some(inspection_id.clone()),
        source: Some(page.source.clone()),
        category: Some(page.category.clone()),
        severity: Some(page.severity.clone()),
        description: Some(page.description.clone()),
        found_on: Some(page.found_on.clone()),
        unit_ids: page.units.clone(),
        persons: page.persons.clone(),
    };
    let created = match new_finding(&state, &r, body).await {
        Ok(new) => state
            .store
            .create_findings(&r.user.audit(), r.tenant(), &new)
            .await
            .map_err(Error::from),
        Err(e) => Err(e),
    };
    match created {
        Ok(list) if list.len() == 1 => Ok(see_other(&format!("/findings/{}", list[0].id))),
        Ok(_) if !inspection_id.is_empty() => {
            Ok(see_other(&format!("/inspections/{inspection_id}")))
        }
        Ok(_) => Ok(see_other("/findings")),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            page.errors = errors;
            render_status(&page, status)
        }
    }
}

#[derive(Template)]
#[template(path = "finding_detail.html")]
struct FindingPage {
    layout: Layout,
    csrf: String,
    finding: FindingLine,
    description: String,
    category: String,
    persons: String,
    /// The inspection, for readers who see it: (id, title, kind label).
    inspection: Option<(String, String, &'static str)>,
    claim_unit: String,
    measures: String,
    planned_on: String,
    result: String,
    verify_note: String,
    provisional: bool,
    files: Vec<FileLine>,
    timeline: Vec<TimelineLine>,
    /// Accountability decisions answering it: (measure, whom, by, on).
    decisions: Vec<(String, String, String, String)>,
    unit_choices: Vec<(String, String)>,
    current_unit: String,
    may_assign: bool,
    may_publish: bool,
    may_decide_claim: bool,
    may_claim: bool,
    may_plan: bool,
    may_submit: bool,
    may_verify: bool,
    may_attach: bool,
    today: String,
    error: Option<String>,
}

async fn finding_detail(
    state: &AppState,
    r: &Reading,
    id: &str,
    error: Option<String>,
) -> Result<FindingPage> {
    let f = r.finding(state, id).await?;
    let origin = r.sees_origin(state, &f).await?;
    let a = &r.user.account;
    let manages = allows(a, Action::ManageFindings);
    let rectifies = allows(a, Action::RectifyFindings);
    let own = r.own_unit(&f).is_some();
    let inspection = match (&f.inspection_id, origin) {
        (Some(iid), true) => state
            .store
            .inspection(r.tenant(), iid)
            .await?
            .map(|i| (i.id, i.title, i.kind.label())),
        _ => None,
    };
    let reader = if origin {
        Reader::Staff
    } else {
        Reader::Submitter
    };
    let decisions = decisions_on(state, r, Some(id))
        .await?
        .into_iter()
        .map(|d| {
            let whom = if d.person.is_empty() {
                r.units.name(&d.unit_id)
            } else {
                d.person.clone()
            };
            (
                d.measure.label().to_owned(),
                whom,
                d.decided_by,
                d.decided_on.to_string(),
            )
        })
        .collect();
    // a form is offered when the domain would take its step in this state
    let can = |action: FindingAction| domain::finding::next(f.state, action).is_ok();
    Ok(FindingPage {
        layout: Layout::for_user("findings.title", "findings", &r.user)
            .titled(format!("{}问题", f.category)),
        csrf: r.user.csrf_token.clone(),
        finding: FindingLine::new(&f, &r.units),
        description: f.description.clone(),
        category: f.category.clone(),
        persons: f.persons.clone(),
        inspection,
        claim_unit: f
            .claim_unit_id
            .as_deref()
            .map(|u| r.units.name(u))
            .unwrap_or_default(),
        measures: f.measures.clone().unwrap_or_default(),
        planned_on: f.planned_on.map(|d| d.to_string()).unwrap_or_default(),
        result: f.result.clone().unwrap_or_default(),
        verify_note: f.verify_note.clone().unwrap_or_default(),
        provisional: f.deadline().is_some_and(|d| d.open && d.provisional),
        files: file_lines(state, r.tenant(), "finding", id).await?,
        timeline: timeline(state, r.tenant(), "finding", id, reader).await?,
        decisions,
        unit_choices: unit_choices(&r.units),
        current_unit: f.unit_id.clone().unwrap_or_default(),
        may_assign: manages && can(FindingAction::Assign),
        may_publish: manages && !f.published,
        may_decide_claim: manages && can(FindingAction::ConfirmClaim) && f.claim_unit_id.is_some(),
        may_claim: rectifies
            && can(FindingAction::Claim)
            && f.published
            && f.claim_unit_id.is_none()
            && a.unit_id.is_some(),
        may_plan: own && can(FindingAction::Plan),
        may_submit: own && can(FindingAction::Submit),
        may_verify: manages && can(FindingAction::Verify),
        may_attach: r.may_attach(&f).is_ok(),
        today: state.store.today().to_string(),
        error,
    })
}

/// `GET /findings/{id}`
async fn finding_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    render(&finding_detail(&state, &r, &id, None).await?)
}

/// `POST /findings/{id}/action`: every form of the detail page, multipart (files come with
/// a submission as its evidence, or on their own with `action=attach`).
async fn action_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    r.finding(&state, &id).await?;
    if !allows(&r.user.account, Action::RecordInspections) {
        may_act(&r.user)?;
    }
    let outcome: Result<()> = async {
        let (form, new) =
            crate::attachment::read_form_with_files(&state, r.tenant(), multipart).await?;
        let files = ReportFiles {
            linked: Vec::new(),
            new,
        };
        let action = form_value(&form, "action");
        if action == "attach" {
            r.may_attach(&r.finding(&state, &id).await?)?;
            if files.new.is_empty() {
                return Err(Error::field("file", "请选择要上传的文件"));
            }
            for file in files.new {
                state
                    .store
                    .attach_prepared(&r.user.audit(), r.tenant(), "finding", &id, file)
                    .await?;
            }
            return Ok(());
        }
        may_act(&r.user)?;
        let body = ActionBody {
            action: Some(action),
            unit_id: Some(form_value(&form, "unit_id")),
            persons: Some(form_value(&form, "persons")).filter(|p| !p.is_empty()),
            measures: Some(form_value(&form, "measures")),
            planned_on: Some(form_value(&form, "planned_on")),
            attachment_ids: Vec::new(),
            text: form_value(&form, "text"),
        };
        take_step(&state, &r, &id, body, files).await.map(|_| ())
    }
    .await;
    match outcome {
        Ok(()) => Ok(see_other(&format!("/findings/{id}"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let page = finding_detail(&state, &r, &id, Some(e.message().to_owned())).await?;
            render_status(&page, status)
        }
        Err(e) => Err(PageError(e)),
    }
}

#[derive(Template)]
#[template(path = "self_checks.html")]
struct SelfChecksPage {
    layout: Layout,
    lines: Vec<SelfCheckLine>,
    may_list: bool,
}

/// `GET /findings/self-checks`
async fn self_checks_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadFindings).await?;
    let lines = self_check_lines(&state, &r).await?;
    render(&SelfChecksPage {
        layout: Layout::for_user("self_checks.title", "findings", &r.user),
        may_list: allows(&r.user.account, Action::RectifyFindings),
        lines,
    })
}

struct DecisionLine {
    measure: &'static str,
    unit: String,
    person: String,
    basis: String,
    decided_by: String,
    decided_on: String,
    findings: Vec<String>,
    working_days: String,
}

#[derive(Template)]
#[template(path = "accountability.html")]
struct DecisionsPage {
    layout: Layout,
    csrf: String,
    decisions: Vec<DecisionLine>,
    /// Per unit: (unit, decisions, mean working days from finding to decision).
    by_unit: Vec<(String, usize, String)>,
    /// Per person: (person, unit, the measures taken, in order).
    by_person: Vec<(String, String, String)>,
    may_decide: bool,
    measures: Vec<(&'static str, &'static str)>,
    unit_choices: Vec<(String, String)>,
    /// Findings to link: (id, short description).
    finding_choices: Vec<(String, String)>,
    form: HashMap<String, String>,
    errors: FormErrors,
}

async fn decisions_page_for(state: &AppState, r: &Reading) -> Result<DecisionsPage> {
    let decisions = decisions_for(state, r).await?;
    let mut by_unit: Vec<(String, usize, String)> = Vec::new();
    let mut units: Vec<&str> = decisions.iter().map(|d| d.unit_id.as_str()).collect();
    units.sort();
    units.dedup();
    for unit in units {
        let of: Vec<&Decision> = decisions.iter().filter(|d| d.unit_id == unit).collect();
        let days: Vec<i64> = of.iter().filter_map(|d| d.working_days).collect();
        let mean = if days.is_empty() {
            String::new()
        } else {
            format!("{:.1}", days.iter().sum::<i64>() as f64 / days.len() as f64)
        };
        by_unit.push((r.units.name(unit), of.len(), mean));
    }
    let mut people: Vec<(&str, &str)> = decisions
        .iter()
        .filter(|d| !d.person.is_empty())
        .map(|d| (d.person.as_str(), d.unit_id.as_str()))
        .collect();
    people.sort();
    people.dedup();
    let by_person = people
        .into_iter()
        .map(|(person, unit)| {
            let mut taken: Vec<&Decision> = decisions
                .iter()
                .filter(|d| d.person == person && d.unit_id == unit)
                .collect();
            taken.sort_by_key(|d| d.decided_on);
            let measures = taken
                .iter()
                .map(|d| format!("{} {}", d.decided_on, d.measure.label()))
                .collect::<Vec<_>>()
                .join("；");
            (person.to_owned(), r.units.name(unit), measures)
        })
        .collect();
    let manages = allows(&r.user.account, Action::ManageFindings);
    let finding_choices = if manages {
        state
            .store
            .list_findings(
                r.tenant(),
                &r.vis,
                &r.actor(),
                &FindingFilter::default(),
                PageRequest {
                    page: 1,
                    per_page: PageRequest::MAX_PER_PAGE,
                },
            )
            .await?
            .items
            .into_iter()
            .map(|f| {
                let unit = f
                    .unit_id
                    .as_deref()
                    .map(|u| r.units.name(u))
                    .unwrap_or_default();
                (
                    f.id,
                    format!(
                        "{} {} {}",
                        f.found_on,
                        unit,
                        f.description.chars().take(30).collect::<String>()
                    ),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(DecisionsPage {
        layout: Layout::for_user("accountability.title", "findings", &r.user),
        csrf: r.user.csrf_token.clone(),
        decisions: decisions
            .into_iter()
            .map(|d| DecisionLine {
                measure: d.measure.label(),
                unit: r.units.name(&d.unit_id),
                person: d.person,
                basis: d.basis,
                decided_by: d.decided_by,
                decided_on: d.decided_on.to_string(),
                findings: d.finding_ids,
                working_days: d.working_days.map(|w| w.to_string()).unwrap_or_default(),
            })
            .collect(),
        by_unit,
        by_person,
        may_decide: manages,
        measures: Measure::ALL
            .iter()
            .map(|m| (m.as_str(), m.label()))
            .collect(),
        unit_choices: unit_choices(&r.units),
        finding_choices,
        form: HashMap::new(),
        errors: FormErrors::default(),
    })
}

/// `GET /accountability`
async fn decisions_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadAccountability).await?;
    render(&decisions_page_for(&state, &r).await?)
}

/// `POST /accountability`
async fn new_decision_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let r = Reading::load(&state, user, Action::ReadAccountability).await?;
    permitted(
        &r.user,
        Action::ManageFindings,
        "只有督查（营商办）可以记录问责",
    )?;
    let body = NewDecisionBody {
        measure: Some(form_value(&form, "measure")),
        unit_id: Some(form_value(&form, "unit_id")),
        person: form_value(&form, "person"),
        basis: form_value(&form, "basis"),
        decided_by: form_value(&form, "decided_by"),
        decided_on: Some(form_value(&form, "decided_on")),
        finding_ids: form_values(&form, "finding_ids"),
    };
    let created = match new_decision(&state, &r, body).await {
        Ok(new) => state
            .store
            .create_decision(&r.user.audit(), r.tenant(), &new)
            .await
            .map_err(Error::from),
        Err(e) => Err(e),
    };
    match created {
        Ok(_) => Ok(see_other("/accountability")),
        Err(e) => {
            let (status, errors) = form_errors(e)?;
            let mut page = decisions_page_for(&state, &r).await?;
            page.errors = errors;
            page.form = form.into_iter().collect();
            render_status(&page, status)
        }
    }
}

impl DecisionsPage {
    fn value(&self, name: &str) -> &str {
        self.form.get(name).map(String::as_str).unwrap_or_default()
    }
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let unit = json!({"type": ["object", "null"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}});
    let date = json!({"type": ["string", "null"], "format": "date"});
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let codes = |all: Vec<&'static str>| json!({"type": "string", "enum": all});
    let inspection = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "kind": codes(InspectionKind::ALL.iter().map(|k| k.as_str()).collect()),
        "title": {"type": "string"}, "held_on": {"type": "string", "format": "date"}, "notes": {"type": "string"},
        "members": {"type": "array", "items": {"type": "string"}, "description": "team members' names"},
        "targets": {"type": "array", "items": unit.clone()}, "created_at": {"type": "string", "format": "date-time"}}});
    let finding = json!({"type": "object", "properties": {
        "id": {"type": "string"},
        "inspection_id": {"type": ["string", "null"], "description": "only for readers who see the inspection"},
        "source": codes(Source::ALL.iter().map(|s| s.as_str()).collect()), "category": {"type": "string"},
        "severity": codes(Severity::ALL.iter().map(|s| s.as_str()).collect()), "description": {"type": "string"},
        "found_on": {"type": "string", "format": "date"}, "unit": unit.clone(), "persons": {"type": "string"},
        "state": codes(FindingState::ALL.iter().map(|s| s.as_str()).collect()), "published": {"type": "boolean"},
        "claim_unit": unit.clone(), "measures": {"type": ["string", "null"]}, "planned_on": date,
        "result": {"type": ["string", "null"]}, "assigned_at": time.clone(), "submitted_at": time.clone(),
        "verified_at": time.clone(), "verify_note": {"type": ["string", "null"]}, "due_at": time,
        "card": {"type": "string", "enum": ["none", "yellow", "red"]}, "provisional": {"type": "boolean"}}});
    let decision = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "measure": codes(Measure::ALL.iter().map(|m| m.as_str()).collect()),
        "measure_label": {"type": "string"}, "unit": unit, "person": {"type": "string"}, "basis": {"type": "string"},
        "decided_by": {"type": "string"}, "decided_on": {"type": "string", "format": "date"},
        "finding_ids": {"type": "array", "items": {"type": "string"}},
        "working_days": {"type": ["integer", "null"], "description": "working days from the earliest linked finding to the decision"}}});
    let file = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "file_name": {"type": "string"}, "content_type": {"type": "string"},
        "size": {"type": "integer"}, "sm3": {"type": "string"}, "url": {"type": "string"},
        "report_id": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"}}});
    let files = json!({"type": "object", "properties": {"items": {"type": "array", "items": file.clone()}}});
    let id = path("id", "id");
    let [page, per_page] = paging();
    let body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let upload_body = json!({"required": true, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}}}});
    let mut create_inspection = operation(
        "Record an inspection (inspector, supervisor); an inspector recording it is on its team.",
        &[],
        inspection.clone(),
    );
    create_inspection["requestBody"] = body(
        json!({"type": "object", "required": ["kind", "title", "held_on", "target_unit_ids"],
        "properties": {"kind": {"type": "string", "enum": ["open", "covert"]}, "title": {"type": "string"},
        "held_on": {"type": "string", "format": "date"}, "notes": {"type": "string"},
        "member_ids": {"type": "array", "items": {"type": "string"}}, "target_unit_ids": {"type": "array", "items": {"type": "string"}}}}),
    );
    let mut attach_inspection = operation(
        "Add evidence (pdf, jpg, png, docx, xlsx; ≤ 20 MB) to an inspection: its team or the supervisor.",
        std::slice::from_ref(&id),
        file.clone(),
    );
    attach_inspection["requestBody"] = upload_body.clone();
    let mut create_finding = operation(
        "Record a finding, split into one per responsible unit (201: {items}). Supervisor: any source; inspector: source inspection; unit_admin: self_check of its own units.",
        &[],
        json!({"type": "object", "properties": {"items": {"type": "array", "items": finding.clone()}}}),
    );
    create_finding["requestBody"] = body(
        json!({"type": "object", "required": ["source", "category", "severity", "description", "found_on"],
        "properties": {"inspection_id": {"type": "string"}, "source": {"type": "string"}, "category": {"type": "string"},
        "severity": {"type": "string"}, "description": {"type": "string"}, "found_on": {"type": "string", "format": "date"},
        "unit_ids": {"type": "array", "items": {"type": "string"}}, "persons": {"type": "string"}}}),
    );
    let mut act = operation(
        "A step on a finding: assign, confirm_claim, refuse_claim, verify, reject, publish (supervisor); claim, plan, submit (the unit's contact; submit needs evidence in attachment_ids).",
        std::slice::from_ref(&id),
        finding.clone(),
    );
    act["requestBody"] = body(
        json!({"type": "object", "required": ["action"], "properties": {
        "action": codes(FindingAction::ALL.iter().map(|a| a.as_str()).collect()), "unit_id": {"type": "string"},
        "persons": {"type": "string"}, "measures": {"type": "string"}, "planned_on": {"type": "string", "format": "date"},
        "attachment_ids": {"type": "array", "items": {"type": "string"}}, "text": {"type": "string"}}}),
    );
    let mut attach_finding = operation(
        "Add evidence to a finding: the supervisor, an inspector of its inspection, the responsible unit.",
        std::slice::from_ref(&id),
        file,
    );
    attach_finding["requestBody"] = upload_body;
    let mut create_decision = operation(
        "Record an accountability decision (supervisor).",
        &[],
        decision.clone(),
    );
    create_decision["requestBody"] = body(
        json!({"type": "object", "required": ["measure", "unit_id", "basis", "decided_by", "decided_on", "finding_ids"],
        "properties": {"measure": {"type": "string"}, "unit_id": {"type": "string"}, "person": {"type": "string"},
        "basis": {"type": "string"}, "decided_by": {"type": "string"}, "decided_on": {"type": "string", "format": "date"},
        "finding_ids": {"type": "array", "items": {"type": "string"}}}}),
    );
    let finding_filters = || {
        vec![
            query(
                "state",
                false,
                json!({"type": "string"}),
                "open, assigned, rectifying, submitted or verified",
            ),
            query(
                "source",
                false,
                json!({"type": "string"}),
                "inspection, self_check, duty, rating, appeal or media",
            ),
            query(
                "inspection_id",
                false,
                json!({"type": "string"}),
                "of one inspection",
            ),
            query(
                "unit_id",
                false,
                json!({"type": "string"}),
                "of one responsible unit",
            ),
            query(
                "published",
                false,
                json!({"type": "boolean"}),
                "published or not",
            ),
            query(
                "q",
                false,
                json!({"type": "string"}),
                "text in the description",
            ),
        ]
    };
    let mut list_params = finding_filters();
    list_params.extend([page.clone(), per_page.clone()]);
    let mut paths = Map::new();
    paths.insert("/api/v1/inspections".into(), json!({
        "get": operation("Inspections the user sees (covert ones: its team and the supervisor only).",
            &[query("kind", false, json!({"type": "string"}), "open or covert"), page.clone(), per_page.clone()], list_of(inspection.clone())),
        "post": create_inspection}));
    paths.insert(
        "/api/v1/inspections/{id}".into(),
        json!({"get": operation("One inspection.", std::slice::from_ref(&id), inspection)}),
    );
    paths.insert("/api/v1/inspections/{id}/attachments".into(), json!({
        "get": operation("The inspection's evidence.", std::slice::from_ref(&id), files.clone()), "post": attach_inspection}));
    paths.insert("/api/v1/findings".into(), json!({
        "get": operation("Findings the user sees.", &list_params, list_of(finding.clone())), "post": create_finding}));
    paths.insert("/api/v1/findings/export".into(), json!({"get": operation(
        "The rectification ledger (整改台账) of the findings the user sees, as XLSX: 序号, 问题来源, 发现时间, 问题描述, 责任单位, 责任人, 整改措施, 整改时限, 整改进展, 完成时间, 验收人, 验收意见, 销号状态, 问责情况.",
        &finding_filters(), json!({"type": "string", "format": "binary"}))}));
    paths.insert("/api/v1/findings/self-checks".into(), json!({"get": operation(
        "Per unit, the problems it listed on its self-check list and how far they got.", &[],
        json!({"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
            "unit": {"type": "object"}, "listed": {"type": "integer"}, "verified": {"type": "integer"},
            "open": {"type": "integer"}, "overdue": {"type": "integer"}}}}}}))}));
    paths.insert(
        "/api/v1/findings/{id}".into(),
        json!({"get": operation("One finding.", std::slice::from_ref(&id), finding)}),
    );
    paths.insert("/api/v1/findings/{id}/actions".into(), json!({"post": act}));
    paths.insert("/api/v1/findings/{id}/history".into(), json!({"get": operation(
        "The finding's timeline (a unit reading a covert inspection's finding: public entries, no names).",
        std::slice::from_ref(&id), json!({"type": "object"}))}));
    paths.insert("/api/v1/findings/{id}/attachments".into(), json!({
        "get": operation("The finding's evidence.", std::slice::from_ref(&id), files), "post": attach_finding}));
    paths.insert("/api/v1/accountability".into(), json!({
        "get": operation("Accountability decisions (a unit_admin: those on its subtree).", &[page, per_page], list_of(decision)),
        "post": create_decision}));
    paths
}
