//! Staff (人员): the list, detail and forms as pages, and the staff API.
//!
//! Who sees whom is `policy`'s: `ReadStaff` (a `unit_admin` only staff with a post in its
//! unit's subtree; others are 404 and left out of lists and totals), `ManageOrg` to create and
//! change (403 on a visible record), `ReadStaffPhone` for the phone in clear, which only
//! `GET /api/v1/staff/{id}/phone` and the page's button (`POST /staff/{id}/phone`) answer, each
//! read audited by the store. Everything else
//! shows the phone masked.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};
use store::staff::{NewStaff, Staff, StaffChange, StaffFilter};
use store::unit::Unit;

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::import;
use crate::list::{ListBody, page_request, timestamp};
use crate::openapi::{list_of, operation, paging, path, query};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, Scope, allows, scope, sees_unit};
use crate::routes::Routes;
use crate::state::AppState;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/staff", list)
        .post("/api/v1/staff", create)
        .get("/api/v1/staff/{id}", show)
        .route(Method::PATCH, "/api/v1/staff/{id}", update)
        .get("/api/v1/staff/{id}/phone", phone)
        .post(
            "/api/v1/staff/import",
            import::staff_api.layer(import::body_limit()),
        )
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/staff", list_page)
        .get("/staff/new", new_page)
        .post("/staff/new", new_form)
        .get("/staff/{id}", detail_page)
        .post("/staff/{id}/phone", phone_page)
        .get("/staff/{id}/edit", edit_page)
        .post("/staff/{id}/edit", edit_form)
        .get("/staff/import", import::staff_page)
        .post(
            "/staff/import",
            import::staff_upload.layer(import::body_limit()),
        )
        .get("/staff/import/template.xlsx", import::staff_template)
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent (with `#[serde(default)]`).
pub(crate) fn nullable<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The tenant's units, to place records in the tree and decide what a user sees.
pub(crate) struct OrgView {
    units: HashMap<String, Unit>,
}

impl OrgView {
    pub(crate) async fn load(state: &AppState, user: &CurrentUser) -> Result<Self> {
        let units = state.store.units(&user.tenant.id).await?;
        Ok(Self {
            units: units.into_iter().map(|u| (u.id.clone(), u)).collect(),
        })
    }

    pub(crate) fn unit(&self, id: &str) -> Option<&Unit> {
        self.units.get(id)
    }

    /// Unit ids from the root down to `id`.
    pub(crate) fn path(&self, id: &str) -> Vec<&str> {
        let mut path = Vec::new();
        let mut next = self.units.get(id);
        while let Some(unit) = next {
            path.push(unit.id.as_str());
            next = unit.parent_id.as_deref().and_then(|p| self.units.get(p));
        }
        path.reverse();
        path
    }

    /// Whether `user` sees `staff`: one of its posts lies in the user's scope.
    pub(crate) fn sees(&self, user: &CurrentUser, staff: &Staff) -> bool {
        std::iter::once(&staff.unit_id)
            .chain(&staff.part_time_unit_ids)
            .any(|u| sees_unit(&user.account, Action::ReadStaff, &self.path(u)))
    }

    fn name(&self, id: &str) -> String {
        self.units
            .get(id)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    /// Active units in tree order (for the forms' choices), each with its indented name.
    pub(crate) fn choices(&self, keep: impl Fn(&Unit) -> bool) -> Vec<(String, String)> {
        let mut children: HashMap<Option<&str>, Vec<&Unit>> = HashMap::new();
        for unit in self.units.values() {
            children
                .entry(unit.parent_id.as_deref())
                .or_default()
                .push(unit);
        }
        for list in children.values_mut() {
            list.sort_by(|a, b| (a.sort_order, &a.code).cmp(&(b.sort_order, &b.code)));
        }
        let mut out = Vec::new();
        let mut stack: Vec<(&Unit, usize)> = children
            .get(&None)
            .map(|r| r.iter().rev().map(|u| (*u, 0)).collect())
            .unwrap_or_default();
        while let Some((unit, depth)) = stack.pop() {
            if unit.active && keep(unit) {
                out.push((
                    unit.id.clone(),
                    format!("{}{}", "　".repeat(depth), unit.name),
                ));
            }
            if let Some(kids) = children.get(&Some(unit.id.as_str())) {
                stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
            }
        }
        out
    }
}

/// The user, if they may read staff at all; otherwise staff do not exist for them.
fn reader(user: CurrentUser) -> Result<CurrentUser> {
    if allows(&user.account, Action::ReadStaff) {
        Ok(user)
    } else {
        Err(Error::not_found())
    }
}

/// A staff member the user sees, or 404.
async fn visible(state: &AppState, user: &CurrentUser, view: &OrgView, id: &str) -> Result<Staff> {
    let staff = state
        .store
        .staff(&user.tenant.id, id)
        .await?
        .ok_or_else(Error::not_found)?;
    if view.sees(user, &staff) {
        Ok(staff)
    } else {
        Err(Error::not_found())
    }
}

/// 403 unless the user may change the organisation (on records they see).
pub(crate) fn manager(user: &CurrentUser) -> Result<()> {
    if allows(&user.account, Action::ManageOrg) {
        Ok(())
    } else {
        Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "只有系统管理员可以维护单位和人员",
        ))
    }
}

#[derive(Serialize)]
struct StaffJson {
    id: String,
    name: String,
    unit_id: String,
    part_time_unit_ids: Vec<String>,
    position: String,
    has_phone: bool,
    phone_masked: Option<String>,
    active: bool,
    created_at: String,
    updated_at: String,
}

impl From<Staff> for StaffJson {
    fn from(s: Staff) -> Self {
        Self {
            id: s.id,
            name: s.name,
            unit_id: s.unit_id,
            part_time_unit_ids: s.part_time_unit_ids,
            position: s.position,
            has_phone: s.has_phone,
            phone_masked: s.phone_masked,
            active: s.active,
            created_at: timestamp(s.created_at),
            updated_at: timestamp(s.updated_at),
        }
    }
}

#[derive(Deserialize, Default)]
struct ListQuery {
    unit_id: Option<String>,
    q: Option<String>,
    phone: Option<String>,
    active: Option<String>,
    page: Option<String>,
    per_page: Option<String>,
}

impl ListQuery {
    fn filter(&self, user: &CurrentUser) -> Result<StaffFilter> {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let active = match self.active.as_deref().filter(|a| !a.is_empty()) {
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(Error::bad_param("active", "active 应为 true 或 false")),
            None => None,
        };
        let within = match scope(&user.account, Action::ReadStaff) {
            Scope::Tenant => None,
            Scope::Subtree(root) => Some(root.to_owned()),
            Scope::Nothing => return Err(Error::not_found()),
        };
        Ok(StaffFilter {
            unit_id: text(&self.unit_id),
            name_contains: text(&self.q),
            phone: text(&self.phone),
            within,
            active,
        })
    }
}

/// `GET /api/v1/staff`
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListBody<StaffJson>>> {
    let user = reader(user)?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state
        .store
        .list_staff(&user.tenant.id, &q.filter(&user)?, request)
        .await?;
    Ok(Json(ListBody::from_page(page, StaffJson::from)))
}

/// `GET /api/v1/staff/{id}`
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<StaffJson>> {
    let user = reader(user)?;
    let view = OrgView::load(&state, &user).await?;
    Ok(Json(visible(&state, &user, &view, &id).await?.into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewStaffBody {
    name: String,
    unit_id: String,
    #[serde(default)]
    part_time_unit_ids: Vec<String>,
    position: String,
    phone: Option<String>,
}

/// `POST /api/v1/staff`
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<NewStaffBody>, Error>,
) -> Result<Response> {
    let user = reader(user)?;
    manager(&user)?;
    // who may act is decided before the body is read, so a refused body tells nothing
    let ApiJson(body) = body?;
    let staff = state
        .store
        .create_staff(
            &user.audit(),
            &user.tenant.id,
            &NewStaff {
                name: body.name,
                unit_id: body.unit_id,
                part_time_unit_ids: body.part_time_unit_ids,
                position: body.position,
                phone: body.phone,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(StaffJson::from(staff))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffPatch {
    name: Option<String>,
    unit_id: Option<String>,
    part_time_unit_ids: Option<Vec<String>>,
    position: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    phone: Option<Option<String>>,
    active: Option<bool>,
}

/// `PATCH /api/v1/staff/{id}`
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<StaffPatch>, Error>,
) -> Result<Json<StaffJson>> {
    let user = reader(user)?;
    let view = OrgView::load(&state, &user).await?;
    visible(&state, &user, &view, &id).await?;
    manager(&user)?;
    // who may act is decided before the body is read, so a refused body tells nothing
    let ApiJson(body) = body?;
    let change = StaffChange {
        name: body.name,
        unit_id: body.unit_id,
        part_time_unit_ids: body.part_time_unit_ids,
        position: body.position,
        phone: body.phone,
        active: body.active,
    };
    let staff = state
        .store
        .update_staff(&user.audit(), &user.tenant.id, &id, &change)
        .await?;
    Ok(Json(staff.into()))
}

/// The phone of a staff member the user sees, in clear, if they may read it (the store
/// audits each read); 404 for staff they do not see, 403 for the rest.
async fn phone_in_clear(state: &AppState, user: &CurrentUser, id: &str) -> Result<Option<String>> {
    let view = OrgView::load(state, user).await?;
    visible(state, user, &view, id).await?;
    if !allows(&user.account, Action::ReadStaffPhone) {
        return Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            "只有系统管理员可以查看完整电话号码",
        ));
    }
    Ok(state
        .store
        .staff_phone(&user.audit(), &user.tenant.id, id)
        .await?)
}

/// `GET /api/v1/staff/{id}/phone`
async fn phone(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let user = reader(user)?;
    let phone = phone_in_clear(&state, &user, &id).await?;
    Ok(Json(json!({"id": id, "phone": phone})))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let staff = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "unit_id": {"type": "string"},
        "part_time_unit_ids": {"type": "array", "items": {"type": "string"}},
        "position": {"type": "string"}, "has_phone": {"type": "boolean"},
        "phone_masked": {"type": ["string", "null"], "description": "e.g. 138****8000"},
        "active": {"type": "boolean"},
        "created_at": {"type": "string", "format": "date-time"}, "updated_at": {"type": "string", "format": "date-time"}}});
    let body = |props: Value, required: &[&str]| {
        json!({"required": true, "content": {"application/json": {"schema": {
            "type": "object", "properties": props, "required": required, "additionalProperties": false}}}})
    };
    let [page, per_page] = paging();
    let mut paths = Map::new();
    let mut create = operation(
        "Create a staff member (sysadmin; others 403). 201 with the staff member; 422 names the field.",
        &[],
        staff.clone(),
    );
    create["responses"]["201"] = create["responses"]["200"].clone();
    create["requestBody"] = body(
        json!({"name": {"type": "string", "maxLength": 32}, "unit_id": {"type": "string"},
               "part_time_unit_ids": {"type": "array", "items": {"type": "string"}},
               "position": {"type": "string", "maxLength": 32},
               "phone": {"type": ["string", "null"], "description": "11-digit mobile, or fixed line with area code"}}),
        &["name", "unit_id", "position"],
    );
    paths.insert(
        "/api/v1/staff".into(),
        json!({
            "get": operation(
                "The tenant's staff the user may see (a unit_admin: its unit's subtree), phones masked.",
                &[
                    query("unit_id", false, json!({"type": "string"}), "only staff with a post in this unit"),
                    query("q", false, json!({"type": "string"}), "name contains"),
                    query("phone", false, json!({"type": "string"}), "exact phone (found by blind index)"),
                    query("active", false, json!({"type": "boolean"}), "only active or disabled staff"),
                    page,
                    per_page,
                ],
                list_of(staff.clone()),
            ),
            "post": create,
        }),
    );
    let mut patch = operation(
        "Change a staff member (sysadmin; 403 for others who see it). `phone: null` removes the phone.",
        &[path("id", "staff id")],
        staff.clone(),
    );
    patch["requestBody"] = body(
        json!({"name": {"type": "string"}, "unit_id": {"type": "string"},
               "part_time_unit_ids": {"type": "array", "items": {"type": "string"}},
               "position": {"type": "string"}, "phone": {"type": ["string", "null"]},
               "active": {"type": "boolean"}}),
        &[],
    );
    paths.insert(
        "/api/v1/staff/{id}".into(),
        json!({
            "get": operation("One staff member, phone masked.", &[path("id", "staff id")], staff),
            "patch": patch,
        }),
    );
    paths.insert(
        "/api/v1/staff/{id}/phone".into(),
        json!({"get": operation(
            "The phone in clear (sysadmin; 403 for others who see the staff member). Each read is audited as read_phone.",
            &[path("id", "staff id")],
            json!({"type": "object", "properties": {"id": {"type": "string"}, "phone": {"type": ["string", "null"]}}}),
        )}),
    );
    paths.insert(
        "/api/v1/staff/import".into(),
        json!({"post": import::openapi_operation(
            "staff (a row updates the staff member with the same 姓名 in the same 所属单位, else creates one; a blank 手机号 keeps the stored phone)",
            "姓名, 所属单位代码, 职务, 手机号 (optional; mobile or fixed line with area code), 兼职单位代码 (optional; several separated by 、 , or ；)",
        )}),
    );
    paths
}

/// Per-field messages of a refused form, and a message for the form as a whole.
#[derive(Default)]
pub(crate) struct FormErrors {
    fields: BTreeMap<String, String>,
    /// A message not tied to one field.
    pub(crate) general: Option<String>,
}

impl FormErrors {
    /// The message beside `field`, if any.
    pub(crate) fn get(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(String::as_str)
    }

    /// The status and messages of a refused form; an internal error stays an error.
    pub(crate) fn from_error(e: Error) -> Result<(StatusCode, Self), PageError> {
        match e {
            Error::Client {
                status,
                message,
                fields,
                ..
            } => {
                let general = fields.is_empty().then_some(message);
                Ok((status, Self { fields, general }))
            }
            other => Err(PageError(other)),
        }
    }
}

/// The value of `name` in a parsed form (the last one given), trimmed.
pub(crate) fn form_value(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_default()
}

/// Every non-empty value of `name` (a multiple select).
fn form_values(form: &[(String, String)], name: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

/// A staff member as the pages show them.
struct StaffLine {
    staff: Staff,
    unit_name: String,
}

#[derive(Template)]
#[template(path = "staff_list.html")]
struct ListPage {
    layout: Layout,
    staff: Vec<StaffLine>,
    q: String,
    phone_searched: bool,
    unit_id: String,
    unit_name: String,
    manage: bool,
    page: u32,
    pages: u32,
    total: i64,
    prev_link: Option<String>,
    next_link: Option<String>,
}

/// `GET /staff`: search by name, exact phone, unit.
async fn list_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let filter = q.filter(&user)?;
    let page = state
        .store
        .list_staff(&user.tenant.id, &filter, request)
        .await?;
    let view = OrgView::load(&state, &user).await?;
    let per_page = i64::from(request.per_page);
    let pages = u32::try_from(((page.total + per_page - 1) / per_page).max(1)).unwrap_or(1);
    let link = |p: u32| {
        let mut params = vec![format!("page={p}")];
        // never the phone: a searched number stays out of the page
        for (key, value) in [("q", &q.q), ("unit_id", &q.unit_id)] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                params.push(format!("{key}={}", crate::org::encode(v)));
            }
        }
        format!("/staff?{}", params.join("&"))
    };
    let unit_id = filter.unit_id.clone().unwrap_or_default();
    render(&ListPage {
        layout: Layout::for_user("staff.list.title", "units", &user),
        staff: page
            .items
            .into_iter()
            .map(|s| StaffLine {
                unit_name: view.name(&s.unit_id),
                staff: s,
            })
            .collect(),
        q: filter.name_contains.clone().unwrap_or_default(),
        phone_searched: filter.phone.is_some(),
        unit_name: view.name(&unit_id),
        unit_id,
        manage: allows(&user.account, Action::ManageOrg),
        page: request.page,
        pages,
        total: page.total,
        prev_link: (request.page > 1).then(|| link(request.page - 1)),
        next_link: (request.page < pages).then(|| link(request.page + 1)),
    })
}

#[derive(Template)]
#[template(path = "staff_detail.html")]
struct DetailPage {
    layout: Layout,
    csrf: String,
    staff: Staff,
    unit_name: String,
    part_time: Vec<(String, String)>,
    manage: bool,
    /// The user reads ratings: a link to the member's 好差评 page.
    ratings: bool,
    /// The user may ask for the phone in clear.
    may_read_phone: bool,
    /// The phone in clear, after the user asked (a POST, audited; never in a URL).
    phone_clear: Option<String>,
}

/// `GET /staff/{id}`
async fn detail_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    render(&detail(&state, &user, &id, None).await?)
}

/// `POST /staff/{id}/phone`: the detail page with the phone in clear (sysadmin; audited).
async fn phone_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let phone = phone_in_clear(&state, &user, &id).await?;
    let mut response = render(&detail(&state, &user, &id, phone).await?)?;
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

async fn detail(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    phone_clear: Option<String>,
) -> Result<DetailPage> {
    let view = OrgView::load(state, user).await?;
    let staff = visible(state, user, &view, id).await?;
    Ok(DetailPage {
        csrf: user.csrf_token.clone(),
        may_read_phone: staff.has_phone && allows(&user.account, Action::ReadStaffPhone),
        phone_clear,
        layout: Layout::for_user("staff.detail.title", "units", user).titled(staff.name.clone()),
        unit_name: view.name(&staff.unit_id),
        part_time: staff
            .part_time_unit_ids
            .iter()
            .map(|u| (u.clone(), view.name(u)))
            .collect(),
        manage: allows(&user.account, Action::ManageOrg),
        ratings: allows(&user.account, Action::ReadRatings),
        staff,
    })
}

#[derive(Template)]
#[template(path = "staff_form.html")]
struct FormPage {
    layout: Layout,
    csrf: String,
    /// The form's target: `/staff/new` or `/staff/{id}/edit`.
    action: String,
    editing: bool,
    name: String,
    unit_id: String,
    part_time: Vec<String>,
    position: String,
    has_phone: bool,
    phone_masked: String,
    active: bool,
    units: Vec<(String, String)>,
    errors: FormErrors,
}

impl FormPage {
    fn is_part_time(&self, id: &str) -> bool {
        self.part_time.iter().any(|p| p == id)
    }
}

/// A sysadmin's form page; others who see staff get 403.
fn form_user(user: CurrentUser) -> Result<CurrentUser> {
    let user = reader(user)?;
    manager(&user)?;
    Ok(user)
}

fn respond(page: &impl Template, status: StatusCode) -> Result<Response, PageError> {
    render_status(page, status)
}

/// `GET /staff/new`
async fn new_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = form_user(user)?;
    let view = OrgView::load(&state, &user).await?;
    render(&FormPage {
        layout: Layout::for_user("staff.new.title", "units", &user),
        csrf: user.csrf_token.clone(),
        action: "/staff/new".into(),
        editing: false,
        name: String::new(),
        unit_id: q.get("unit_id").cloned().unwrap_or_default(),
        part_time: Vec::new(),
        position: String::new(),
        has_phone: false,
        phone_masked: String::new(),
        active: true,
        units: view.choices(|_| true),
        errors: FormErrors::default(),
    })
}

/// `POST /staff/new`
async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = form_user(user)?;
    let phone = form_value(&form, "phone");
    let new = NewStaff {
        name: form_value(&form, "name"),
        unit_id: form_value(&form, "unit_id"),
        part_time_unit_ids: form_values(&form, "part_time_unit_ids"),
        position: form_value(&form, "position"),
        phone: (!phone.is_empty()).then_some(phone),
    };
    match state
        .store
        .create_staff(&user.audit(), &user.tenant.id, &new)
        .await
    {
        Ok(staff) => Ok(see_other(&format!("/staff/{}", staff.id))),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e.into())?;
            let view = OrgView::load(&state, &user).await?;
            // the phone is not sent back: a refused form must not echo personal data
            respond(
                &FormPage {
                    layout: Layout::for_user("staff.new.title", "units", &user),
                    csrf: user.csrf_token.clone(),
                    action: "/staff/new".into(),
                    editing: false,
                    name: new.name,
                    unit_id: new.unit_id,
                    part_time: new.part_time_unit_ids,
                    position: new.position,
                    has_phone: false,
                    phone_masked: String::new(),
                    active: true,
                    units: view.choices(|_| true),
                    errors,
                },
                status,
            )
        }
    }
}

/// `GET /staff/{id}/edit`
async fn edit_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let view = OrgView::load(&state, &user).await?;
    let staff = visible(&state, &user, &view, &id).await?;
    let user = form_user(user)?;
    render(&FormPage {
        layout: Layout::for_user("staff.edit.title", "units", &user),
        csrf: user.csrf_token.clone(),
        action: format!("/staff/{}/edit", staff.id),
        editing: true,
        name: staff.name,
        unit_id: staff.unit_id,
        part_time: staff.part_time_unit_ids,
        position: staff.position,
        has_phone: staff.has_phone,
        phone_masked: staff.phone_masked.unwrap_or_default(),
        active: staff.active,
        units: view.choices(|_| true),
        errors: FormErrors::default(),
    })
}

/// `POST /staff/{id}/edit`: a blank phone keeps the one on file; `clear_phone` removes it.
async fn edit_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let view = OrgView::load(&state, &user).await?;
    let staff = visible(&state, &user, &view, &id).await?;
    let user = form_user(user)?;
    let phone = form_value(&form, "phone");
    let change = StaffChange {
        name: Some(form_value(&form, "name")),
        unit_id: Some(form_value(&form, "unit_id")),
        part_time_unit_ids: Some(form_values(&form, "part_time_unit_ids")),
        position: Some(form_value(&form, "position")),
        phone: if !form_value(&form, "clear_phone").is_empty() {
            Some(None)
        } else if phone.is_empty() {
            None
        } else {
            Some(Some(phone))
        },
        active: Some(form_value(&form, "active") != "false"),
    };
    match state
        .store
        .update_staff(&user.audit(), &user.tenant.id, &id, &change)
        .await
    {
        Ok(staff) => Ok(see_other(&format!("/staff/{}", staff.id))),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e.into())?;
            respond(
                &FormPage {
                    layout: Layout::for_user("staff.edit.title", "units", &user),
                    csrf: user.csrf_token.clone(),
                    action: format!("/staff/{}/edit", staff.id),
                    editing: true,
                    name: change.name.unwrap_or_default(),
                    unit_id: change.unit_id.unwrap_or_default(),
                    part_time: change.part_time_unit_ids.unwrap_or_default(),
                    position: change.position.unwrap_or_default(),
                    has_phone: staff.has_phone,
                    phone_masked: staff.phone_masked.unwrap_or_default(),
                    active: change.active.unwrap_or(staff.active),
                    units: view.choices(|_| true),
                    errors,
                },
                status,
            )
        }
    }
}
