//! The enterprise registry (企业库) pages and API: staff roles search and read it; the
//! supervisor saves any enterprise, a street's contact those of its street. The contact's
//! phone is shown masked except to the supervisor and the street's contact.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use domain::enterprise::{IndustryCode, Scale, Status, capital_text, parse_capital, parse_date};
use domain::history::Reader;
use domain::staff::Phone;
use domain::uscc::Uscc;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::enterprise::{Enterprise, EnterpriseFilter, EnterpriseValues, SEARCH_COUNT_CAP, Saved};
use store::page::PageRequest;

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, allows, visible_to};
use crate::routes::Routes;
use crate::staff::{FormErrors, form_value};
use crate::state::AppState;
use crate::task::Units;
use crate::timeline::{TimelineLine, timeline};

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/enterprises", list)
        .get("/api/v1/enterprises/export", export)
        .get("/api/v1/enterprises/liaison", liaison)
        .post("/api/v1/enterprises", create)
        .get("/api/v1/enterprises/{id}", show)
        .route(Method::PATCH, "/api/v1/enterprises/{id}", update)
        .get("/api/v1/enterprises/{id}/history", history)
        .merge(crate::enterprise_import::api())
        .merge(crate::visit::api())
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/enterprises", list_page)
        .get("/enterprises/liaison", liaison_page)
        .get("/enterprises/new", new_page)
        .post("/enterprises/new", new_form)
        .get("/enterprises/{id}", detail_page)
        .get("/enterprises/{id}/edit", edit_page)
        .post("/enterprises/{id}/edit", edit_form)
        .merge(crate::enterprise_import::pages())
        .merge(crate::visit::pages())
}

fn reader(user: CurrentUser) -> Result<CurrentUser> {
    visible_to(user, Action::ReadEnterprises)
}

/// Whether the user keeps this street's enterprises: the supervisor all, a street's contact
/// its own (the policy's scope over the unit tree).
fn keeps(units: &Units, street_id: Option<&str>) -> bool {
    match &units.scope {
        None => true,
        Some(ids) => street_id.is_some_and(|s| ids.iter().any(|i| i == s)),
    }
}

#[derive(Serialize)]
struct Named {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct EnterpriseJson {
    id: String,
    uscc: String,
    name: String,
    legal_rep: String,
    address: String,
    street: Option<Named>,
    industry_code: Option<String>,
    leading_industry: Option<String>,
    scale: Option<&'static str>,
    established_on: Option<String>,
    /// 注册资本, 万元.
    capital: Option<String>,
    status: &'static str,
    contact_name: String,
    contact_phone: Option<String>,
    key_enterprise: bool,
    liaison_leader: Option<Named>,
    liaison_unit: Option<Named>,
    created_at: String,
    updated_at: String,
}

/// What the pages and the API need to name an enterprise's units and leader.
struct Names {
    units: Units,
    leaders: std::collections::HashMap<String, String>,
    phones: Option<Units>,
}

impl Names {
    async fn load(state: &AppState, user: &CurrentUser, items: &[Enterprise]) -> Result<Self> {
        let units = Units::load_for(state, user, Action::ReadEnterprises).await?;
        let ids: Vec<&str> = items
            .iter()
            .filter_map(|e| e.values.liaison_leader_id.as_deref())
            .collect();
        let leaders = state
            .store
            .staff_by_ids(&user.tenant.id, &ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let phones = if allows(&user.account, Action::ManageEnterprises) {
            Some(Units::load_for(state, user, Action::ManageEnterprises).await?)
        } else {
            None
        };
        Ok(Self {
            units,
            leaders,
            phones,
        })
    }

    fn unit(&self, id: Option<&String>) -> Option<Named> {
        id.map(|id| Named {
            id: id.clone(),
            name: self.units.name(id),
        })
    }

    fn json(&self, e: &Enterprise) -> EnterpriseJson {
        let v = &e.values;
        let clear = self
            .phones
            .as_ref()
            .is_some_and(|units| keeps(units, v.street_id.as_deref()));
        EnterpriseJson {
            id: e.id.clone(),
            uscc: v.uscc.as_str().to_owned(),
            name: v.name.clone(),
            legal_rep: v.legal_rep.clone(),
            address: v.address.clone(),
            street: self.unit(v.street_id.as_ref()),
            industry_code: v.industry_code.as_ref().map(|c| c.as_str().to_owned()),
            leading_industry: v.leading_industry.clone(),
            scale: v.scale.map(Scale::label),
            established_on: v.established_on.map(|d| d.to_string()),
            capital: v.capital.map(capital_text),
            status: v.status.label(),
            contact_name: v.contact_name.clone(),
            contact_phone: if clear {
                v.contact_phone.as_ref().map(|p| p.as_str().to_owned())
            } else {
                e.contact_phone_masked.clone()
            },
            key_enterprise: v.key_enterprise,
            liaison_leader: v.liaison_leader_id.as_ref().map(|id| Named {
                id: id.clone(),
                name: self.leaders.get(id).cloned().unwrap_or_default(),
            }),
            liaison_unit: self.unit(v.liaison_unit_id.as_ref()),
            created_at: timestamp(e.created_at),
            updated_at: timestamp(e.updated_at),
        }
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    q: Option<String>,
    street_id: Option<String>,
    industry: Option<String>,
    leading_industry: Option<String>,
    scale: Option<String>,
    status: Option<String>,
    key_enterprise: Option<String>,
    liaison_leader_id: Option<String>,
    /// `none`: without a liaison leader; `set`: with one.
    liaison: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
    /// Export only: `xlsx` or `csv`.
    format: Option<String>,
}

fn given(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl ListQuery {
    fn filter(&self) -> Result<EnterpriseFilter> {
        Ok(EnterpriseFilter {
            q: given(&self.q),
            street_id: given(&self.street_id),
            industry: given(&self.industry),
            leading_industry: given(&self.leading_industry),
            scale: given(&self.scale)
                .map(|s| Scale::parse(&s).map_err(|e| Error::bad_param("scale", e)))
                .transpose()?,
            status: given(&self.status)
                .map(|s| Status::parse(&s).map_err(|e| Error::bad_param("status", e)))
                .transpose()?,
            key_enterprise: match given(&self.key_enterprise).as_deref() {
                None => None,
                Some("true") => Some(true),
                Some("false") => Some(false),
                Some(_) => {
                    return Err(Error::bad_param(
                        "key_enterprise",
                        "key_enterprise 应为 true 或 false",
                    ));
                }
            },
            liaison_leader_id: given(&self.liaison_leader_id),
            without_liaison: match given(&self.liaison).as_deref() {
                None => None,
                Some("none") => Some(true),
                Some("set") => Some(false),
                Some(_) => return Err(Error::bad_param("liaison", "liaison 应为 none 或 set")),
            },
        })
    }
}

/// A store refusal of the query (a fragment too short, a malformed code) is a 400.
fn query_error(e: store::StoreError) -> Error {
    match e {
        store::StoreError::InvalidField { field, message } => Error::bad_param(field, message),
        other => other.into(),
    }
}

/// `GET /api/v1/enterprises`
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<EnterpriseList>> {
    let user = reader(user)?;
    if q.format.is_some() {
        return Err(Error::bad_param(
            "format",
            "format 只用于导出（/api/v1/enterprises/export）",
        ));
    }
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_enterprises(&user.tenant.id, &q.filter()?, request)
        .await
        .map_err(query_error)?;
    let names = Names::load(&state, &user, &page.items).await?;
    let (page, total_is_lower_bound) = capped(page);
    Ok(Json(EnterpriseList {
        list: ListBody::from_page(page, |e| names.json(&e)),
        total_is_lower_bound,
    }))
}

/// A name search counts to [`SEARCH_COUNT_CAP`]: beyond, the total says "at least".
fn capped(mut page: store::page::Page<Enterprise>) -> (store::page::Page<Enterprise>, bool) {
    let over = page.total > SEARCH_COUNT_CAP;
    if over {
        page.total = SEARCH_COUNT_CAP;
    }
    (page, over)
}

#[derive(Serialize)]
struct EnterpriseList {
    #[serde(flatten)]
    list: ListBody<EnterpriseJson>,
    /// True when a name search found more than `total` (it counts to 1,000).
    total_is_lower_bound: bool,
}

/// Most rows one export writes.
const MAX_EXPORT: i64 = 100_000;

/// `GET /api/v1/enterprises/export?format=xlsx|csv` with the list's filters: the file columns
/// of the import template; phones as the user may see them.
async fn export(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response> {
    use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
    let user = reader(user)?;
    let xlsx = match q.format.as_deref().unwrap_or("xlsx") {
        "xlsx" => true,
        "csv" => false,
        _ => return Err(Error::bad_param("format", "format 应为 xlsx 或 csv")),
    };
    let filter = q.filter()?;
    let mut items = Vec::new();
    let mut page = 1;
    loop {
        let found = state
            .store
            .list_enterprises(
                &user.tenant.id,
                &filter,
                PageRequest {
                    page,
                    per_page: PageRequest::MAX_PER_PAGE,
                },
            )
            .await
            .map_err(query_error)?;
        if found.total > MAX_EXPORT {
            return Err(Error::client(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_many_rows",
                format!(
                    "符合条件的企业有 {} 家，超过一次导出的上限 {MAX_EXPORT} 家，请加筛选条件",
                    found.total
                ),
            ));
        }
        let done = found.items.len() < PageRequest::MAX_PER_PAGE as usize;
        items.extend(found.items);
        if done {
            break;
        }
        page += 1;
    }
    let names = Names::load(&state, &user, &items).await?;
    // leaders as the import reads them back: the name, with the unit when two share it
    let leaders = state.store.leader_texts(&user.tenant.id).await?;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|e| {
            let j = names.json(e);
            vec![
                j.uscc,
                j.name,
                j.legal_rep,
                j.address,
                j.street.map(|s| s.name).unwrap_or_default(),
                j.industry_code.unwrap_or_default(),
                j.leading_industry.unwrap_or_default(),
                j.scale.unwrap_or_default().to_owned(),
                j.established_on.unwrap_or_default(),
                j.capital.unwrap_or_default(),
                j.status.to_owned(),
                j.contact_name,
                j.contact_phone.unwrap_or_default(),
                if j.key_enterprise { "是" } else { "否" }.to_owned(),
                j.liaison_leader
                    .map(|l| leaders.get(&l.id).cloned().unwrap_or(l.name))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let columns = domain::enterprise::FILE_COLUMNS;
    let (bytes, content_type, extension) = if xlsx {
        (
            store::import::xlsx_sheet("企业", &columns, &rows)?,
            crate::import::XLSX,
            "xlsx",
        )
    } else {
        (
            store::import::csv_with_bom(&columns, &rows),
            "text/csv; charset=utf-8",
            "csv",
        )
    };
    Ok((
        [
            (CONTENT_TYPE, content_type.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"enterprises.{extension}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Serialize)]
struct LeaderLine {
    id: String,
    name: String,
    enterprises: i64,
    key_enterprises: i64,
}

#[derive(Serialize)]
struct CoverageJson {
    key_enterprises: i64,
    without_liaison: i64,
    leaders: Vec<LeaderLine>,
}

async fn coverage(state: &AppState, user: &CurrentUser) -> Result<CoverageJson> {
    let c = state.store.liaison_coverage(&user.tenant.id).await?;
    let ids: Vec<&str> = c.leaders.iter().map(|(id, ..)| id.as_str()).collect();
    let names: std::collections::HashMap<String, String> = state
        .store
        .staff_by_ids(&user.tenant.id, &ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(CoverageJson {
        key_enterprises: c.key_enterprises,
        without_liaison: c.without_liaison,
        leaders: c
            .leaders
            .iter()
            .map(|(id, all, key)| LeaderLine {
                name: names.get(id).cloned().unwrap_or_default(),
                id: id.clone(),
                enterprises: *all,
                key_enterprises: *key,
            })
            .collect(),
    })
}

/// `GET /api/v1/enterprises/liaison`: liaison coverage (包联).
async fn liaison(State(state): State<AppState>, user: CurrentUser) -> Result<Json<CoverageJson>> {
    let user = reader(user)?;
    Ok(Json(coverage(&state, &user).await?))
}

#[derive(Template)]
#[template(path = "enterprise_liaison.html")]
struct LiaisonPage {
    layout: Layout,
    c: CoverageJson,
    /// The user's own liaison enterprises (a leader linked to their staff record).
    mine: Vec<crate::visit::LiaisonLine>,
}

/// `GET /enterprises/liaison`
async fn liaison_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    render(&LiaisonPage {
        layout: Layout::for_user("enterprises.liaison", "enterprises", &user),
        c: coverage(&state, &user).await?,
        mine: crate::visit::my_liaison(&state, &user).await?,
    })
}

async fn enterprise_of(state: &AppState, user: &CurrentUser, id: &str) -> Result<Enterprise> {
    state
        .store
        .enterprise(&user.tenant.id, id)
        .await?
        .ok_or_else(Error::not_found)
}

/// `GET /api/v1/enterprises/{id}`
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<EnterpriseJson>> {
    let user = reader(user)?;
    let e = enterprise_of(&state, &user, &id).await?;
    let names = Names::load(&state, &user, std::slice::from_ref(&e)).await?;
    Ok(Json(names.json(&e)))
}

/// `GET /api/v1/enterprises/{id}/history`
async fn history(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let user = reader(user)?;
    enterprise_of(&state, &user, &id).await?;
    let items = timeline(&state, &user.tenant.id, "enterprise", &id, Reader::Staff).await?;
    Ok(Json(json!({"items": items})))
}

/// An enterprise as the API writes it: texts as a spreadsheet would hold them.
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct EnterpriseBody {
    uscc: Option<String>,
    name: Option<String>,
    legal_rep: Option<String>,
    address: Option<String>,
    street_id: Option<String>,
    industry_code: Option<String>,
    leading_industry: Option<String>,
    scale: Option<String>,
    established_on: Option<String>,
    capital: Option<String>,
    status: Option<String>,
    contact_name: Option<String>,
    contact_phone: Option<String>,
    key_enterprise: Option<bool>,
    liaison_leader_id: Option<String>,
    liaison_unit_id: Option<String>,
}

impl EnterpriseBody {
    /// The values, over `base` (an update) or from nothing (a create); each bad field named.
    fn values(self, base: Option<&EnterpriseValues>) -> Result<EnterpriseValues> {
        fn opt<T>(
            given: Option<String>,
            old: Option<T>,
            parse: impl Fn(&str) -> Result<T, String>,
            field: &str,
        ) -> Result<Option<T>> {
            match given {
                None => Ok(old),
                Some(text) if text.trim().is_empty() => Ok(None),
                Some(text) => parse(&text).map(Some).map_err(|e| Error::field(field, e)),
            }
        }
        let uscc = match (self.uscc, base) {
            (Some(code), None) => {
                Uscc::parse(&code).map_err(|e| Error::field("uscc", e.to_string()))?
            }
            (None, None) => return Err(Error::field("uscc", "请填写统一社会信用代码")),
            (Some(code), Some(b)) if Uscc::parse(&code).ok().as_ref() != Some(&b.uscc) => {
                return Err(Error::field(
                    "uscc",
                    "统一社会信用代码是企业的标识，不能修改",
                ));
            }
            (_, Some(b)) => b.uscc.clone(),
        };
        let text = |given: Option<String>, old: Option<&String>| {
            given.or_else(|| old.cloned()).unwrap_or_default()
        };
        let id = |given: Option<String>, old: Option<&String>| match given {
            None => old.cloned(),
            Some(v) if v.trim().is_empty() => None,
            Some(v) => Some(v.trim().to_owned()),
        };
        Ok(EnterpriseValues {
            uscc,
            name: text(self.name, base.map(|b| &b.name)),
            legal_rep: text(self.legal_rep, base.map(|b| &b.legal_rep)),
            address: text(self.address, base.map(|b| &b.address)),
            street_id: id(self.street_id, base.and_then(|b| b.street_id.as_ref())),
            industry_code: opt(
                self.industry_code,
                base.and_then(|b| b.industry_code.clone()),
                IndustryCode::parse,
                "industry_code",
            )?,
            leading_industry: id(
                self.leading_industry,
                base.and_then(|b| b.leading_industry.as_ref()),
            ),
            scale: opt(
                self.scale,
                base.and_then(|b| b.scale),
                Scale::parse,
                "scale",
            )?,
            established_on: opt(
                self.established_on,
                base.and_then(|b| b.established_on),
                parse_date,
                "established_on",
            )?,
            capital: opt(
                self.capital,
                base.and_then(|b| b.capital),
                parse_capital,
                "capital",
            )?,
            status: match self.status {
                Some(s) => Status::parse(&s).map_err(|e| Error::field("status", e))?,
                None => base.map_or(Status::Existing, |b| b.status),
            },
            contact_name: text(self.contact_name, base.map(|b| &b.contact_name)),
            contact_phone: opt(
                self.contact_phone,
                base.and_then(|b| b.contact_phone.clone()),
                |p| Phone::parse(p).map_err(|e| e.to_string()),
                "contact_phone",
            )?,
            key_enterprise: self
                .key_enterprise
                .unwrap_or_else(|| base.is_some_and(|b| b.key_enterprise)),
            liaison_leader_id: id(
                self.liaison_leader_id,
                base.and_then(|b| b.liaison_leader_id.as_ref()),
            ),
            liaison_unit_id: id(
                self.liaison_unit_id,
                base.and_then(|b| b.liaison_unit_id.as_ref()),
            ),
        })
    }
}

fn keeper(user: &CurrentUser) -> Result<()> {
    crate::policy::permitted(
        user,
        Action::ManageEnterprises,
        "只有营商办和所在街道的联络员可以维护企业信息",
    )
}

/// Saves values the user keeps (both the old and the new street must be theirs).
async fn save(
    state: &AppState,
    user: &CurrentUser,
    old_street: Option<Option<&str>>,
    values: &EnterpriseValues,
) -> Result<(Enterprise, Saved)> {
    let units = Units::load_for(state, user, Action::ManageEnterprises).await?;
    let refused = || {
        Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "街道联络员只能维护本街道的企业",
        )
    };
    if old_street.is_some_and(|s| !keeps(&units, s)) {
        return Err(refused());
    }
    if !keeps(&units, values.street_id.as_deref()) {
        return Err(Error::field("street_id", "街道联络员只能维护本街道的企业"));
    }
    Ok(state
        .store
        .save_enterprise(&user.audit(), &user.tenant.id, values)
        .await?)
}

/// `POST /api/v1/enterprises`: a new enterprise (a code on file is a conflict: PATCH it).
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<EnterpriseBody>, Error>,
) -> Result<Response> {
    let user = reader(user)?;
    keeper(&user)?;
    let ApiJson(body) = body?;
    let values = body.values(None)?;
    let existing = state
        .store
        .enterprise_id_by_uscc(&user.tenant.id, &values.uscc)
        .await?;
    if existing.is_some() {
        return Err(Error::conflict(format!(
            "统一社会信用代码 {} 已在企业库中，请修改该企业",
            values.uscc
        )));
    }
    let (e, _) = save(&state, &user, None, &values).await?;
    let names = Names::load(&state, &user, std::slice::from_ref(&e)).await?;
    Ok((StatusCode::CREATED, Json(names.json(&e))).into_response())
}

/// `PATCH /api/v1/enterprises/{id}`: the fields given change.
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<EnterpriseBody>, Error>,
) -> Result<Json<EnterpriseJson>> {
    let user = reader(user)?;
    let old = enterprise_of(&state, &user, &id).await?;
    keeper(&user)?;
    let ApiJson(body) = body?;
    let values = body.values(Some(&old.values))?;
    let (e, _) = save(
        &state,
        &user,
        Some(old.values.street_id.as_deref()),
        &values,
    )
    .await?;
    let names = Names::load(&state, &user, std::slice::from_ref(&e)).await?;
    Ok(Json(names.json(&e)))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let named = json!({"type": ["object", "null"], "properties": {"id": {"type": "string"}, "name": {"type": "string"}}});
    let enterprise = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "uscc": {"type": "string"}, "name": {"type": "string"},
        "legal_rep": {"type": "string"}, "address": {"type": "string"}, "street": named.clone(),
        "industry_code": {"type": ["string", "null"]}, "leading_industry": {"type": ["string", "null"]},
        "scale": {"type": ["string", "null"], "enum": ["大型", "中型", "小型", "微型", null]},
        "established_on": {"type": ["string", "null"], "format": "date"},
        "capital": {"type": ["string", "null"], "description": "注册资本（万元）"},
        "status": {"type": "string", "enum": ["存续", "在业", "迁出", "吊销", "注销"]},
        "contact_name": {"type": "string"},
        "contact_phone": {"type": ["string", "null"], "description": "masked except for the supervisor and the street's contact"},
        "key_enterprise": {"type": "boolean"}, "liaison_leader": named.clone(), "liaison_unit": named,
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}});
    let body = json!({"type": "object", "properties": {
        "uscc": {"type": "string"}, "name": {"type": "string"}, "legal_rep": {"type": "string"},
        "address": {"type": "string"}, "street_id": {"type": "string"}, "industry_code": {"type": "string"},
        "leading_industry": {"type": "string"}, "scale": {"type": "string"}, "established_on": {"type": "string"},
        "capital": {"type": "string"}, "status": {"type": "string"}, "contact_name": {"type": "string"},
        "contact_phone": {"type": "string"}, "key_enterprise": {"type": "boolean"},
        "liaison_leader_id": {"type": "string"}, "liaison_unit_id": {"type": "string"}}});
    let id = path("id", "enterprise id");
    let [page, per_page] = paging();
    let with_body = |summary: &str, params: &[Value]| {
        let mut op = operation(summary, params, enterprise.clone());
        op["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": body.clone()}}});
        op
    };
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/enterprises".into(),
        json!({
            "get": operation("Search the registry: a name fragment of two or more characters or a USCC, and filters.", &[
                query("q", false, json!({"type": "string"}), "name fragment (≥ 2 characters) or USCC"),
                query("street_id", false, json!({"type": "string"}), "street unit id"),
                query("industry", false, json!({"type": "string"}), "industry code prefix (C, C39 …)"),
                query("leading_industry", false, json!({"type": "string"}), "leading industry"),
                query("scale", false, json!({"type": "string"}), "大型/中型/小型/微型"),
                query("status", false, json!({"type": "string"}), "存续/在业/迁出/吊销/注销"),
                query("key_enterprise", false, json!({"type": "boolean"}), "key enterprises"),
                query("liaison_leader_id", false, json!({"type": "string"}), "liaison leader (staff id)"),
                query("liaison", false, json!({"type": "string", "enum": ["none", "set"]}), "without / with a liaison leader"),
                page, per_page], {
                    let mut listed = list_of(enterprise.clone());
                    listed["properties"]["total_is_lower_bound"] = json!({"type": "boolean",
                        "description": "a name search counts to 1,000: true when it found more than `total`; its items are newest first"});
                    listed
                }),
            "post": with_body("Add an enterprise (supervisor; a street's contact in its street).", &[]),
        }),
    );
    paths.insert(
        "/api/v1/enterprises/liaison".into(),
        json!({"get": operation("Liaison coverage: key enterprises, those without a liaison leader, each leader's enterprises.", &[],
            json!({"type": "object", "properties": {"key_enterprises": {"type": "integer"}, "without_liaison": {"type": "integer"},
                "leaders": {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "string"},
                    "name": {"type": "string"}, "enterprises": {"type": "integer"}, "key_enterprises": {"type": "integer"}}}}}}))}),
    );
    paths.insert(
        "/api/v1/enterprises/export".into(),
        json!({"get": {"summary": "Export the filtered registry as XLSX or CSV (UTF-8 with BOM), the import template's columns.",
            "parameters": [query("format", false, json!({"type": "string", "enum": ["xlsx", "csv"]}), "file format (xlsx)"),
                query("q", false, json!({"type": "string"}), "as the list")],
            "responses": {"200": {"description": "the file", "content": {
                crate::import::XLSX: {"schema": {"type": "string", "format": "binary"}},
                "text/csv": {"schema": {"type": "string"}}}}}}}),
    );
    paths.insert(
        "/api/v1/enterprises/{id}".into(),
        json!({"get": operation("One enterprise.", std::slice::from_ref(&id), enterprise.clone()),
               "patch": with_body("Change an enterprise's fields (its USCC stays).", std::slice::from_ref(&id))}),
    );
    paths.insert(
        "/api/v1/enterprises/{id}/history".into(),
        json!({"get": operation("The enterprise's timeline.", &[id], json!({"type": "object"}))}),
    );
    paths.insert(
        "/api/v1/enterprises/import".into(),
        json!({"post": crate::enterprise_import::openapi_operation()}),
    );
    paths
}

// ---- pages ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "enterprises.html")]
struct ListPage {
    layout: Layout,
    query: ListQuery,
    items: Vec<EnterpriseJson>,
    total: i64,
    /// A name search found more than `total`.
    total_capped: bool,
    streets: Vec<(String, String)>,
    industries: Vec<String>,
    error: Option<String>,
    may_add: bool,
    /// The current filters as a query string, for the export links.
    filters: String,
}

/// `GET /enterprises`
async fn list_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let request = PageRequest {
        page: q
            .page
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(1)
            .max(1),
        per_page: 50,
    };
    let found = match q.filter() {
        Ok(filter) => state
            .store
            .list_enterprises(&user.tenant.id, &filter, request)
            .await
            .map_err(query_error),
        Err(e) => Err(e),
    };
    let filters = serde_urlencoded::to_string(
        [
            ("q", &q.q),
            ("street_id", &q.street_id),
            ("industry", &q.industry),
            ("leading_industry", &q.leading_industry),
            ("key_enterprise", &q.key_enterprise),
            ("liaison", &q.liaison),
            ("liaison_leader_id", &q.liaison_leader_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| given(v).map(|v| (k, v)))
        .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let (page, error) = match found {
        Ok(page) => (Some(page), None),
        Err(e) if e.status().is_client_error() => (None, Some(e.message().to_owned())),
        Err(e) => return Err(PageError(e)),
    };
    let items = page
        .as_ref()
        .map(|p| p.items.as_slice())
        .unwrap_or_default();
    let names = Names::load(&state, &user, items).await?;
    let mut streets: Vec<(String, String)> = names
        .units
        .by_id
        .values()
        .filter(|u| u.active && u.kind == domain::org::UnitKind::Street)
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    streets.sort_by(|a, b| a.1.cmp(&b.1));
    render(&ListPage {
        layout: Layout::for_user("enterprises.title", "enterprises", &user),
        total: page.as_ref().map_or(0, |p| p.total.min(SEARCH_COUNT_CAP)),
        total_capped: page.as_ref().is_some_and(|p| p.total > SEARCH_COUNT_CAP),
        items: items.iter().map(|e| names.json(e)).collect(),
        industries: state.store.leading_industries(&user.tenant.id).await?,
        streets,
        query: q,
        error,
        may_add: allows(&user.account, Action::ManageEnterprises),
        filters,
    })
}

#[derive(Template)]
#[template(path = "enterprise_detail.html")]
struct DetailPage {
    layout: Layout,
    e: EnterpriseJson,
    timeline: Vec<TimelineLine>,
    may_edit: bool,
    /// The newest liaison visits, when the user reads them.
    visits: Option<Vec<crate::visit::VisitJson>>,
    /// The user may record a visit.
    may_visit: bool,
}

/// `GET /enterprises/{id}`
async fn detail_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let e = enterprise_of(&state, &user, &id).await?;
    let names = Names::load(&state, &user, std::slice::from_ref(&e)).await?;
    let (visits, may_visit) = crate::visit::for_enterprise_page(&state, &user, &e).await?;
    render(&DetailPage {
        visits,
        may_visit,
        layout: Layout::for_user("enterprises.title", "enterprises", &user)
            .titled(e.values.name.clone()),
        may_edit: allows(&user.account, Action::ManageEnterprises)
            && keeps(
                &Units::load_for(&state, &user, Action::ManageEnterprises).await?,
                e.values.street_id.as_deref(),
            ),
        e: names.json(&e),
        timeline: timeline(&state, &user.tenant.id, "enterprise", &id, Reader::Staff).await?,
    })
}

/// The add and edit form: every field as text, as typed.
#[derive(Template)]
#[template(path = "enterprise_form.html")]
struct FormPage {
    layout: Layout,
    csrf: String,
    action: String,
    editing: bool,
    body: EnterpriseBody,
    streets: Vec<(String, String)>,
    industries: Vec<String>,
    /// Candidate liaison leaders (the district leaders): (staff id, name).
    leaders: Vec<(String, String)>,
    /// Units a liaison unit may be: (id, name).
    units: Vec<(String, String)>,
    errors: FormErrors,
}

impl FormPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or_default()
    }

    fn is(&self, v: &Option<String>, candidate: &str) -> bool {
        v.as_deref() == Some(candidate)
    }
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    action: String,
    editing: bool,
    body: EnterpriseBody,
    errors: FormErrors,
) -> Result<FormPage> {
    let keepable = Units::load_for(state, user, Action::ManageEnterprises).await?;
    let mut streets: Vec<(String, String)> = keepable
        .by_id
        .values()
        .filter(|u| u.active && u.kind == domain::org::UnitKind::Street)
        .filter(|u| keeps(&keepable, Some(u.id.as_str())))
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    streets.sort_by(|a, b| a.1.cmp(&b.1));
    let mut units: Vec<(String, String)> = keepable
        .by_id
        .values()
        .filter(|u| {
            u.active
                && matches!(
                    u.kind,
                    domain::org::UnitKind::DistrictOffice
                        | domain::org::UnitKind::Department
                        | domain::org::UnitKind::Street
                )
        })
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect();
    units.sort_by(|a, b| a.1.cmp(&b.1));
    let mut leader_ids: Vec<&str> = keepable
        .by_id
        .values()
        .filter_map(|u| u.leader_staff_id.as_deref())
        .collect();
    leader_ids.sort_unstable();
    leader_ids.dedup();
    let leaders = state
        .store
        .staff_by_ids(&user.tenant.id, &leader_ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(FormPage {
        layout: Layout::for_user(
            if editing {
                "enterprise.edit"
            } else {
                "enterprise.new"
            },
            "enterprises",
            user,
        ),
        csrf: user.csrf_token.clone(),
        action,
        editing,
        body,
        streets,
        industries: state.store.leading_industries(&user.tenant.id).await?,
        leaders,
        units,
        errors,
    })
}

/// The fields of a submitted form (a field left empty clears it; an unchecked box is 否).
fn form_body(form: &[(String, String)]) -> EnterpriseBody {
    let field = |name: &str| Some(form_value(form, name));
    EnterpriseBody {
        uscc: field("uscc"),
        name: field("name"),
        legal_rep: field("legal_rep"),
        address: field("address"),
        street_id: field("street_id"),
        industry_code: field("industry_code"),
        leading_industry: field("leading_industry"),
        scale: field("scale"),
        established_on: field("established_on"),
        capital: field("capital"),
        status: field("status"),
        contact_name: field("contact_name"),
        contact_phone: field("contact_phone"),
        key_enterprise: Some(form_value(form, "key_enterprise") == "true"),
        liaison_leader_id: field("liaison_leader_id"),
        liaison_unit_id: field("liaison_unit_id"),
    }
}

/// The values as a form shows them.
fn body_of(e: &Enterprise) -> EnterpriseBody {
    let v = &e.values;
    EnterpriseBody {
        uscc: Some(v.uscc.as_str().to_owned()),
        name: Some(v.name.clone()),
        legal_rep: Some(v.legal_rep.clone()),
        address: Some(v.address.clone()),
        street_id: v.street_id.clone(),
        industry_code: v.industry_code.as_ref().map(|c| c.as_str().to_owned()),
        leading_industry: v.leading_industry.clone(),
        scale: v.scale.map(|s| s.label().to_owned()),
        established_on: v.established_on.map(|d| d.to_string()),
        capital: v.capital.map(capital_text),
        status: Some(v.status.label().to_owned()),
        contact_name: Some(v.contact_name.clone()),
        contact_phone: v.contact_phone.as_ref().map(|p| p.as_str().to_owned()),
        key_enterprise: Some(v.key_enterprise),
        liaison_leader_id: v.liaison_leader_id.clone(),
        liaison_unit_id: v.liaison_unit_id.clone(),
    }
}

/// `GET /enterprises/new`
async fn new_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    keeper(&user)?;
    let body = EnterpriseBody {
        status: Some(Status::Existing.label().to_owned()),
        ..EnterpriseBody::default()
    };
    render(
        &form_page(
            &state,
            &user,
            "/enterprises/new".into(),
            false,
            body,
            FormErrors::default(),
        )
        .await?,
    )
}

/// `POST /enterprises/new`
async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    keeper(&user)?;
    let body = form_body(&form);
    let saved = async {
        let values = body.clone().values(None)?;
        if state
            .store
            .enterprise_id_by_uscc(&user.tenant.id, &values.uscc)
            .await?
            .is_some()
        {
            return Err(Error::field(
                "uscc",
                format!("统一社会信用代码 {} 已在企业库中", values.uscc),
            ));
        }
        save(&state, &user, None, &values).await
    }
    .await;
    match saved {
        Ok((e, _)) => Ok(see_other(&format!("/enterprises/{}", e.id))),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            let page = form_page(
                &state,
                &user,
                "/enterprises/new".into(),
                false,
                body,
                errors,
            )
            .await?;
            render_status(&page, status)
        }
    }
}

/// The user keeps this enterprise (its street is theirs), else 403.
async fn may_keep(state: &AppState, user: &CurrentUser, e: &Enterprise) -> Result<()> {
    keeper(user)?;
    let units = Units::load_for(state, user, Action::ManageEnterprises).await?;
    if keeps(&units, e.values.street_id.as_deref()) {
        Ok(())
    } else {
        Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "街道联络员只能维护本街道的企业",
        ))
    }
}

/// `GET /enterprises/{id}/edit`
async fn edit_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let e = enterprise_of(&state, &user, &id).await?;
    may_keep(&state, &user, &e).await?;
    render(
        &form_page(
            &state,
            &user,
            format!("/enterprises/{id}/edit"),
            true,
            body_of(&e),
            FormErrors::default(),
        )
        .await?,
    )
}

/// `POST /enterprises/{id}/edit`
async fn edit_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let old = enterprise_of(&state, &user, &id).await?;
    may_keep(&state, &user, &old).await?;
    let mut body = form_body(&form);
    body.uscc = Some(old.values.uscc.as_str().to_owned());
    let saved = async {
        let values = body.clone().values(Some(&old.values))?;
        save(
            &state,
            &user,
            Some(old.values.street_id.as_deref()),
            &values,
        )
        .await
    }
    .await;
    match saved {
        Ok(_) => Ok(see_other(&format!("/enterprises/{id}"))),
        Err(e) if e.status() == StatusCode::FORBIDDEN => Err(PageError(e)),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            let page = form_page(
                &state,
                &user,
                format!("/enterprises/{id}/edit"),
                true,
                body,
                errors,
            )
            .await?;
            render_status(&page, status)
        }
    }
}
