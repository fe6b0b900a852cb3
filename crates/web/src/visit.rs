//! Liaison visits (包联走访) on the enterprise registry: a liaison leader records a visit to
//! one of their enterprises (the supervisor to any), each issue raised becoming an appeal; the
//! visits are listed on the enterprise's page and in the API, for the readers the policy names
//! (`policy::reads_visits`); the liaison page shows a leader their enterprises' last visit.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::NaiveDate;
use domain::appeal::Kind;
use domain::visit::{VisitForm, is_stale};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::appeal::{AppealFilter, AppealVisibility};
use store::enterprise::{Enterprise, EnterpriseFilter};
use store::page::PageRequest;
use store::visit::{NewVisit, Visit, VisitIssue};

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, allows, appeal_visibility, reads_visits, records_visit};
use crate::routes::Routes;
use crate::staff::{FormErrors, OrgView, form_value};
use crate::state::AppState;
use crate::task::Units;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/enterprises/{id}/visits", list)
        .post("/api/v1/enterprises/{id}/visits", create)
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/enterprises/{id}/visits/new", new_page)
        .post("/enterprises/{id}/visits/new", new_form)
}

/// Issue rows the page form offers.
const FORM_ISSUES: usize = 3;

// ---- who ----------------------------------------------------------------------------------

/// The enterprise, if the user may read its visits (else 404).
async fn readable(state: &AppState, user: &CurrentUser, id: &str) -> Result<Enterprise> {
    let e = enterprise(state, user, id, Action::ReadVisits).await?;
    if reads(state, user, &e).await? {
        Ok(e)
    } else {
        Err(Error::not_found())
    }
}

/// The enterprise for a user whose role may `action` on visits at all (else 404).
async fn enterprise(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    action: Action,
) -> Result<Enterprise> {
    if !allows(&user.account, action) {
        return Err(Error::not_found());
    }
    state
        .store
        .enterprise(&user.tenant.id, id)
        .await?
        .ok_or_else(Error::not_found)
}

async fn reads(state: &AppState, user: &CurrentUser, e: &Enterprise) -> Result<bool> {
    if !allows(&user.account, Action::ReadVisits) {
        return Ok(false);
    }
    let view = OrgView::load(state, user).await?;
    let path = e
        .values
        .liaison_unit_id
        .as_deref()
        .map(|u| view.path(u))
        .unwrap_or_default();
    Ok(reads_visits(&user.account, &path))
}

async fn records(state: &AppState, user: &CurrentUser, e: &Enterprise) -> Result<bool> {
    if !allows(&user.account, Action::RecordVisits) {
        return Ok(false);
    }
    let own = state
        .store
        .account_staff_id(&user.tenant.id, &user.account.id)
        .await?;
    Ok(records_visit(
        &user.account,
        own.as_deref(),
        e.values.liaison_leader_id.as_deref(),
    ))
}

/// The enterprise, if the user may record a visit to it (else 404).
async fn recordable(state: &AppState, user: &CurrentUser, id: &str) -> Result<Enterprise> {
    let e = enterprise(state, user, id, Action::RecordVisits).await?;
    if records(state, user, &e).await? {
        Ok(e)
    } else {
        Err(Error::not_found())
    }
}

// ---- answers ------------------------------------------------------------------------------

#[derive(Serialize)]
pub(crate) struct Named {
    pub(crate) id: String,
    pub(crate) name: String,
}

#[derive(Serialize)]
pub(crate) struct AppealLine {
    pub(crate) id: String,
    pub(crate) number: String,
    pub(crate) title: String,
    pub(crate) state: &'static str,
    pub(crate) state_label: &'static str,
}

#[derive(Serialize)]
pub(crate) struct VisitJson {
    pub(crate) id: String,
    pub(crate) enterprise_id: String,
    pub(crate) visited_on: String,
    pub(crate) form: &'static str,
    pub(crate) form_label: &'static str,
    pub(crate) people: String,
    pub(crate) summary: String,
    pub(crate) leader: Option<Named>,
    pub(crate) created_at: String,
    /// The appeals raised that the reader sees.
    pub(crate) appeals: Vec<AppealLine>,
}

/// The visits as the reader sees them: the leaders named, the appeals raised that the
/// reader's appeal visibility holds.
async fn visits_json(
    state: &AppState,
    user: &CurrentUser,
    visits: Vec<Visit>,
) -> Result<Vec<VisitJson>> {
    let tenant = &user.tenant.id;
    let mut leader_ids: Vec<&str> = visits
        .iter()
        .filter_map(|v| v.leader_staff_id.as_deref())
        .collect();
    leader_ids.sort_unstable();
    leader_ids.dedup();
    let leaders: HashMap<String, String> = state
        .store
        .staff_by_ids(tenant, &leader_ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let vis = appeals_seen(state, user).await?;
    let ids: Vec<String> = visits.iter().flat_map(|v| v.appeal_ids.clone()).collect();
    let mut appeals = HashMap::new();
    for chunk in ids.chunks(PageRequest::MAX_PER_PAGE as usize) {
        let page = state
            .store
            .list_appeals(
                tenant,
                &vis,
                &AppealFilter {
                    ids: Some(chunk.to_vec()),
                    ..Default::default()
                },
                PageRequest {
                    page: 1,
                    per_page: PageRequest::MAX_PER_PAGE,
                },
            )
            .await?;
        for a in page.items {
            appeals.insert(a.id.clone(), a);
        }
    }
    Ok(visits
        .into_iter()
        .map(|v| VisitJson {
            appeals: v
                .appeal_ids
                .iter()
                .filter_map(|id| appeals.get(id))
                .map(|a| AppealLine {
                    id: a.id.clone(),
                    number: a.number.clone(),
                    title: a.title.clone(),
                    state: a.state.as_str(),
                    state_label: a.state.label(),
                })
                .collect(),
            leader: v.leader_staff_id.as_ref().map(|id| Named {
                id: id.clone(),
                name: leaders.get(id).cloned().unwrap_or_default(),
            }),
            id: v.id,
            enterprise_id: v.enterprise_id,
            visited_on: v.visited_on.to_string(),
            form: v.form.as_str(),
            form_label: v.form.label(),
            people: v.people,
            summary: v.summary,
            created_at: timestamp(v.created_at),
        })
        .collect())
}

/// The appeals the user sees, as the appeal pages decide it.
async fn appeals_seen(state: &AppState, user: &CurrentUser) -> Result<AppealVisibility> {
    if !allows(&user.account, Action::ReadAppeals) {
        return Ok(AppealVisibility::default());
    }
    let subtree = if allows(&user.account, Action::HandleAppeals) {
        Units::load_for(state, user, Action::HandleAppeals)
            .await?
            .scope
    } else {
        None
    };
    Ok(appeal_visibility(&user.account, subtree))
}

/// What the enterprise page shows of visits: the newest ones (`None` when the user does not
/// read them) and whether the user may record one.
pub(crate) async fn for_enterprise_page(
    state: &AppState,
    user: &CurrentUser,
    e: &Enterprise,
) -> Result<(Option<Vec<VisitJson>>, bool)> {
    let may_record = records(state, user, e).await?;
    if !reads(state, user, e).await? {
        return Ok((None, may_record));
    }
    let page = state
        .store
        .list_visits(
            &user.tenant.id,
            &e.id,
            PageRequest {
                page: 1,
                per_page: 20,
            },
        )
        .await?;
    Ok((
        Some(visits_json(state, user, page.items).await?),
        may_record,
    ))
}

/// A liaison enterprise on its leader's page.
pub(crate) struct LiaisonLine {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) key_enterprise: bool,
    /// The last visit (`YYYY-MM-DD`), empty when never visited.
    pub(crate) last_visit: String,
    /// Not visited in the last 90 days.
    pub(crate) stale: bool,
}

/// The enterprises the user is the liaison leader of, with their last visit (empty for a user
/// who is not a leader linked to their staff record).
pub(crate) async fn my_liaison(state: &AppState, user: &CurrentUser) -> Result<Vec<LiaisonLine>> {
    if !user.account.has(domain::account::Role::Leader) {
        return Ok(Vec::new());
    }
    let tenant = &user.tenant.id;
    let Some(staff) = state
        .store
        .account_staff_id(tenant, &user.account.id)
        .await?
    else {
        return Ok(Vec::new());
    };
    let mine = state
        .store
        .list_enterprises(
            tenant,
            &EnterpriseFilter {
                liaison_leader_id: Some(staff),
                ..Default::default()
            },
            PageRequest {
                page: 1,
                per_page: PageRequest::MAX_PER_PAGE,
            },
        )
        .await?;
    let ids: Vec<&str> = mine.items.iter().map(|e| e.id.as_str()).collect();
    let last = state.store.last_visits(tenant, &ids).await?;
    let today = state.store.today();
    let mut lines: Vec<LiaisonLine> = mine
        .items
        .iter()
        .map(|e| {
            let day = last.get(&e.id).copied();
            LiaisonLine {
                id: e.id.clone(),
                name: e.values.name.clone(),
                key_enterprise: e.values.key_enterprise,
                last_visit: day.map(|d| d.to_string()).unwrap_or_default(),
                stale: is_stale(day, today),
            }
        })
        .collect();
    // the longest unvisited first
    lines.sort_by(|a, b| a.last_visit.cmp(&b.last_visit).then(a.name.cmp(&b.name)));
    Ok(lines)
}

// ---- API ----------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    page: Option<String>,
    per_page: Option<String>,
}

/// `GET /api/v1/enterprises/{id}/visits`: newest first.
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<VisitJson>>> {
    let e = readable(&state, &user, &id).await?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_visits(&user.tenant.id, &e.id, request)
        .await?;
    let total = page.total;
    let items = visits_json(&state, &user, page.items).await?;
    Ok(Json(ListBody {
        items,
        page: request.page,
        per_page: request.per_page,
        total,
    }))
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct IssueBody {
    kind: Option<String>,
    category_code: Option<String>,
    title: Option<String>,
    content: Option<String>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct VisitBody {
    visited_on: Option<String>,
    form: Option<String>,
    people: Option<String>,
    summary: Option<String>,
    #[serde(default)]
    issues: Vec<IssueBody>,
}

impl VisitBody {
    fn into_new(self, enterprise_id: &str) -> Result<NewVisit> {
        let visited_on: NaiveDate = match self.visited_on.as_deref().map(str::trim) {
            None | Some("") => return Err(Error::field("visited_on", "请填写走访日期")),
            Some(d) => {
                domain::enterprise::parse_date(d).map_err(|m| Error::field("visited_on", m))?
            }
        };
        let form = match self.form.as_deref().map(str::trim) {
            None | Some("") => VisitForm::Onsite,
            Some(f) => f.parse().map_err(|m: String| Error::field("form", m))?,
        };
        let issues = self
            .issues
            .into_iter()
            .enumerate()
            .map(|(i, issue)| {
                let kind = match issue.kind.as_deref().map(str::trim) {
                    None | Some("") => Kind::Demand,
                    Some(k) => k.parse().map_err(|m: String| {
                        Error::field("issues", format!("第 {} 条问题：{m}", i + 1))
                    })?,
                };
                Ok(VisitIssue {
                    kind,
                    category_code: issue.category_code.unwrap_or_default(),
                    title: issue.title.unwrap_or_default(),
                    content: issue.content.unwrap_or_default(),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(NewVisit {
            enterprise_id: enterprise_id.to_owned(),
            visited_on,
            form,
            people: self.people.unwrap_or_default(),
            summary: self.summary.unwrap_or_default(),
            issues,
        })
    }
}

/// `POST /api/v1/enterprises/{id}/visits`: the liaison leader (the supervisor for any
/// enterprise) records a visit; answers it with the appeals raised (201).
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<VisitBody>, Error>,
) -> Result<Response> {
    let e = recordable(&state, &user, &id).await?;
    let ApiJson(body) = body?;
    let new = body.into_new(&e.id)?;
    let visit = state
        .store
        .record_visit(&user.audit(), &user.tenant.id, &user.account.id, &new)
        .await?;
    let mut json = visits_json(&state, &user, vec![visit]).await?;
    Ok((StatusCode::CREATED, Json(json.pop())).into_response())
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let named = json!({"type": ["object", "null"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}});
    let visit = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "enterprise_id": {"type": "string"},
        "visited_on": {"type": "string", "format": "date"},
        "form": {"type": "string", "enum": VisitForm::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>()},
        "form_label": {"type": "string"}, "people": {"type": "string"}, "summary": {"type": "string"},
        "leader": named, "created_at": {"type": "string", "format": "date-time"},
        "appeals": {"type": "array", "description": "the appeals raised that the reader sees",
            "items": {"type": "object", "properties": {"id": {"type": "string"}, "number": {"type": "string"},
                "title": {"type": "string"}, "state": {"type": "string"}, "state_label": {"type": "string"}}}}}});
    let body = json!({"type": "object", "required": ["visited_on", "summary"], "properties": {
        "visited_on": {"type": "string", "format": "date", "description": "not after today"},
        "form": {"type": "string", "enum": VisitForm::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
            "description": "onsite (default) / forum / phone, or the Chinese label"},
        "people": {"type": "string", "maxLength": 200}, "summary": {"type": "string", "maxLength": 2000},
        "issues": {"type": "array", "maxItems": domain::visit::MAX_ISSUES,
            "description": "each becomes an appeal with source visit, the enterprise and its street",
            "items": {"type": "object", "required": ["category_code", "content"], "properties": {
                "kind": {"type": "string", "enum": Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
                    "description": "demand when left out"},
                "category_code": {"type": "string"}, "title": {"type": "string", "maxLength": 100,
                    "description": "the content's first words when left out"},
                "content": {"type": "string", "maxLength": 5000}}}}}});
    let id = path("id", "enterprise id");
    let [page, per_page] = paging();
    let mut create = operation(
        "Record a liaison visit (the enterprise's liaison leader; the supervisor for any): each issue raised becomes an appeal, all in one transaction. 201.",
        std::slice::from_ref(&id),
        visit.clone(),
    );
    create["requestBody"] =
        json!({"required": true, "content": {"application/json": {"schema": body}}});
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/enterprises/{id}/visits".into(),
        json!({
            "get": operation("The enterprise's liaison visits, newest first (the supervisor, leaders, the liaison unit's contact).",
                &[id, page, per_page], list_of(visit)),
            "post": create,
        }),
    );
    paths
}

// ---- pages --------------------------------------------------------------------------------

/// An issue row of the form, as typed.
#[derive(Default, Clone)]
struct IssueSlot {
    n: usize,
    kind: String,
    category_code: String,
    title: String,
    content: String,
}

#[derive(Template)]
#[template(path = "visit_form.html")]
struct FormPage {
    layout: Layout,
    csrf: String,
    enterprise_id: String,
    enterprise_name: String,
    today: String,
    visited_on: String,
    form: String,
    people: String,
    summary: String,
    issues: Vec<IssueSlot>,
    forms: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    errors: FormErrors,
}

impl FormPage {
    fn is(&self, value: &str, candidate: &str) -> bool {
        value == candidate
    }
}

/// The values typed into the form.
struct Typed {
    visited_on: String,
    form: String,
    people: String,
    summary: String,
    issues: Vec<IssueSlot>,
}

impl Typed {
    fn blank(today: NaiveDate) -> Self {
        Self {
            visited_on: today.to_string(),
            form: VisitForm::Onsite.as_str().to_owned(),
            people: String::new(),
            summary: String::new(),
            issues: (1..=FORM_ISSUES)
                .map(|n| IssueSlot {
                    n,
                    kind: Kind::Demand.as_str().to_owned(),
                    ..IssueSlot::default()
                })
                .collect(),
        }
    }

    fn of(form: &[(String, String)]) -> Self {
        let field = |name: &str| form_value(form, name);
        Self {
            visited_on: field("visited_on"),
            form: field("form"),
            people: field("people"),
            summary: field("summary"),
            issues: (1..=FORM_ISSUES)
                .map(|n| IssueSlot {
                    n,
                    kind: field(&format!("issue{n}_kind")),
                    category_code: field(&format!("issue{n}_category_code")),
                    title: field(&format!("issue{n}_title")),
                    content: field(&format!("issue{n}_content")),
                })
                .collect(),
        }
    }

    /// The visit as the API body would carry it: rows left without a title or content are
    /// not issues.
    fn body(&self) -> VisitBody {
        VisitBody {
            visited_on: Some(self.visited_on.clone()),
            form: Some(self.form.clone()),
            people: Some(self.people.clone()),
            summary: Some(self.summary.clone()),
            issues: self
                .issues
                .iter()
                .filter(|i| !i.title.is_empty() || !i.content.is_empty())
                .map(|i| IssueBody {
                    kind: Some(i.kind.clone()),
                    category_code: Some(i.category_code.clone()),
                    title: Some(i.title.clone()),
                    content: Some(i.content.clone()),
                })
                .collect(),
        }
    }
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    e: &Enterprise,
    typed: Typed,
    errors: FormErrors,
) -> Result<FormPage> {
    let categories = state
        .store
        .appeal_categories(&user.tenant.id, true)
        .await?
        .into_iter()
        .map(|c| (c.code, c.name))
        .collect();
    Ok(FormPage {
        layout: Layout::for_user("visits.new", "enterprises", user),
        csrf: user.csrf_token.clone(),
        enterprise_id: e.id.clone(),
        enterprise_name: e.values.name.clone(),
        today: state.store.today().to_string(),
        visited_on: typed.visited_on,
        form: typed.form,
        people: typed.people,
        summary: typed.summary,
        issues: typed.issues,
        forms: VisitForm::ALL
            .iter()
            .map(|f| (f.as_str().to_owned(), f.label().to_owned()))
            .collect(),
        kinds: Kind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), k.label().to_owned()))
            .collect(),
        categories,
        errors,
    })
}

/// `GET /enterprises/{id}/visits/new`
async fn new_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let e = recordable(&state, &user, &id).await?;
    let typed = Typed::blank(state.store.today());
    render(&form_page(&state, &user, &e, typed, FormErrors::default()).await?)
}

/// `POST /enterprises/{id}/visits/new`
async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let e = recordable(&state, &user, &id).await?;
    let typed = Typed::of(&form);
    let saved = async {
        let new = typed.body().into_new(&e.id)?;
        state
            .store
            .record_visit(&user.audit(), &user.tenant.id, &user.account.id, &new)
            .await
            .map_err(Error::from)
    }
    .await;
    match saved {
        Ok(_) => Ok(see_other(&format!("/enterprises/{}#visits", e.id))),
        Err(err) => {
            let (status, errors) = FormErrors::from_error(err)?;
            let page = form_page(&state, &user, &e, typed, errors).await?;
            render_status(&page, status)
        }
    }
}
