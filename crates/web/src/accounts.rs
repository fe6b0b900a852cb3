//! Account administration as 三员分立 divides it: `sysadmin` creates accounts, disables
//! leavers, unlocks and resets passwords; `secadmin` grants and revokes roles. Both see the
//! tenant's accounts; for every other role they do not exist.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use chrono::{DateTime, Utc};
use domain::account::Role;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::account::{Account, NewAccount};

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::list::{ListBody, page_request};
use crate::openapi::{list_of, operation, paging, path};
use crate::pages::{Layout, render};
use crate::policy::{Action, allows};
use crate::routes::Routes;
use crate::state::AppState;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/accounts", list)
        .post("/api/v1/accounts", create)
        .get("/api/v1/accounts/{id}", show)
        .route(axum::http::Method::PATCH, "/api/v1/accounts/{id}", update)
        .post("/api/v1/accounts/{id}/unlock", unlock)
        .post("/api/v1/accounts/{id}/password", reset_password)
        .route(
            axum::http::Method::PUT,
            "/api/v1/accounts/{id}/staff",
            link_staff,
        )
        .route(
            axum::http::Method::PUT,
            "/api/v1/accounts/{id}/roles",
            set_roles,
        )
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/accounts", list_page)
        .get("/accounts/new", new_page)
        .post("/accounts/new", new_form)
        .get("/accounts/{id}", detail_page)
        .post("/accounts/{id}/action", action_form)
}

/// The user, if they may see accounts at all (else accounts do not exist for them).
fn reader(user: CurrentUser) -> Result<CurrentUser> {
    if allows(&user.account, Action::ReadAccounts) {
        Ok(user)
    } else {
        Err(Error::not_found())
    }
}

fn may(user: &CurrentUser, action: Action) -> Result<()> {
    if allows(&user.account, action) {
        Ok(())
    } else {
        Err(Error::client(
            StatusCode::FORBIDDEN,
            "forbidden",
            match action {
                Action::GrantRoles => "只有安全管理员可以授予或收回角色（三员分立）",
                _ => "只有系统管理员可以创建、停用、解锁账号和重置密码（三员分立）",
            },
        ))
    }
}

async fn account_of(state: &AppState, user: &CurrentUser, id: &str) -> Result<Account> {
    state
        .store
        .account(&user.tenant.id, id)
        .await?
        .ok_or_else(Error::not_found)
}

#[derive(Serialize)]
struct AccountJson {
    id: String,
    username: String,
    display_name: String,
    roles: Vec<&'static str>,
    unit_id: Option<String>,
    uscc: Option<String>,
    disabled: bool,
    locked: bool,
    must_change_password: bool,
}

impl AccountJson {
    fn new(a: Account, now: DateTime<Utc>) -> Self {
        Self {
            locked: a.state.locked_until.is_some_and(|u| u > now),
            roles: a.roles.iter().map(|r| r.as_str()).collect(),
            id: a.id,
            username: a.username,
            display_name: a.display_name,
            unit_id: a.unit_id,
            uscc: a.uscc,
            disabled: a.state.disabled,
            must_change_password: a.state.must_change_password,
        }
    }
}

#[derive(Deserialize)]
struct PagingQuery {
    page: Option<String>,
    per_page: Option<String>,
}

/// `GET /api/v1/accounts`
async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiQuery(q): ApiQuery<PagingQuery>,
) -> Result<Json<ListBody<AccountJson>>> {
    let user = reader(user)?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state.store.list_accounts(&user.tenant.id, request).await?;
    let now = state.store.clock().now();
    Ok(Json(ListBody::from_page(page, |a| {
        AccountJson::new(a, now)
    })))
}

/// `GET /api/v1/accounts/{id}`
async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<AccountJson>> {
    let user = reader(user)?;
    Ok(Json(AccountJson::new(
        account_of(&state, &user, &id).await?,
        state.store.clock().now(),
    )))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAccountBody {
    username: String,
    display_name: String,
    password: String,
}

/// `POST /api/v1/accounts`: a new account without roles (secadmin grants them); its
/// password must be changed at first login.
async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<NewAccountBody>, Error>,
) -> Result<Response> {
    let user = reader(user)?;
    may(&user, Action::ManageAccounts)?;
    let ApiJson(body) = body?;
    let account = state
        .store
        .create_account(
            &user.audit(),
            &NewAccount {
                tenant_id: user.tenant.id.clone(),
                username: body.username,
                display_name: body.display_name,
                password: body.password,
                must_change_password: true,
                roles: vec![],
                unit_code: None,
                uscc: None,
            },
        )
        .await
        .map_err(|e| Error::from_store_on(e, "username"))?;
    Ok((
        StatusCode::CREATED,
        Json(AccountJson::new(account, state.store.clock().now())),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountPatch {
    disabled: bool,
}

/// `PATCH /api/v1/accounts/{id}` with `{"disabled": bool}`: a leaver is disabled, never deleted.
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<AccountPatch>, Error>,
) -> Result<Json<AccountJson>> {
    let user = reader(user)?;
    account_of(&state, &user, &id).await?;
    may(&user, Action::ManageAccounts)?;
    let ApiJson(body) = body?;
    if body.disabled && id == user.account.id {
        return Err(Error::conflict("不能停用自己的账号"));
    }
    let account = state
        .store
        .set_account_disabled(&user.audit(), &user.tenant.id, &id, body.disabled)
        .await?;
    Ok(Json(AccountJson::new(account, state.store.clock().now())))
}

/// `POST /api/v1/accounts/{id}/unlock`
async fn unlock(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<AccountJson>> {
    let user = reader(user)?;
    let account = account_of(&state, &user, &id).await?;
    may(&user, Action::ManageAccounts)?;
    let account = state
        .store
        .unlock_account(&user.audit(), &account.username)
        .await?;
    Ok(Json(AccountJson::new(account, state.store.clock().now())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    password: String,
}

/// `POST /api/v1/accounts/{id}/password`: a new password, to be changed at next login.
async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<PasswordBody>, Error>,
) -> Result<Json<AccountJson>> {
    let user = reader(user)?;
    let account = account_of(&state, &user, &id).await?;
    may(&user, Action::ManageAccounts)?;
    let ApiJson(body) = body?;
    let account = state
        .store
        .reset_password(&user.audit(), &account.username, &body.password)
        .await
        .map_err(|e| Error::from_store_on(e, "password"))?;
    Ok(Json(AccountJson::new(account, state.store.clock().now())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RolesBody {
    roles: Vec<String>,
    unit_code: Option<String>,
    uscc: Option<String>,
}

fn parse_roles(names: &[String]) -> Result<Vec<Role>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            n.trim()
                .parse::<Role>()
                .map_err(|e| Error::field("roles", e.to_string()))
        })
        .collect()
}

async fn apply_roles(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    roles: &[Role],
    unit_code: Option<&str>,
    uscc: Option<&str>,
) -> Result<Account> {
    if id == user.account.id {
        return Err(Error::conflict("不能修改自己的角色"));
    }
    state
        .store
        .set_account_roles(&user.audit(), &user.tenant.id, id, roles, unit_code, uscc)
        .await
        .map_err(|e| Error::from_store_on(e, "roles"))
}

/// `PUT /api/v1/accounts/{id}/roles`: secadmin replaces the account's roles and their scope.
async fn set_roles(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<RolesBody>, Error>,
) -> Result<Json<AccountJson>> {
    let user = reader(user)?;
    account_of(&state, &user, &id).await?;
    may(&user, Action::GrantRoles)?;
    let ApiJson(body) = body?;
    let roles = parse_roles(&body.roles)?;
    let account = apply_roles(
        &state,
        &user,
        &id,
        &roles,
        body.unit_code.as_deref(),
        body.uscc.as_deref(),
    )
    .await?;
    Ok(Json(AccountJson::new(account, state.store.clock().now())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StaffLinkBody {
    #[serde(default)]
    staff_id: Option<String>,
}

/// `PUT /api/v1/accounts/{id}/staff` with `{"staff_id": "…"}` (null or empty unlinks): the
/// staff member the account is, so a leader's liaison enterprises (包联) are theirs.
async fn link_staff(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    body: Result<ApiJson<StaffLinkBody>, Error>,
) -> Result<Json<Value>> {
    let user = reader(user)?;
    account_of(&state, &user, &id).await?;
    may(&user, Action::ManageAccounts)?;
    let ApiJson(body) = body?;
    let staff = body
        .staff_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    state
        .store
        .link_account_staff(&user.audit(), &user.tenant.id, &id, staff)
        .await?;
    Ok(Json(json!({"id": id, "staff_id": staff})))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let account = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "username": {"type": "string"}, "display_name": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}}, "unit_id": {"type": ["string", "null"]},
        "uscc": {"type": ["string", "null"]}, "disabled": {"type": "boolean"}, "locked": {"type": "boolean"},
        "must_change_password": {"type": "boolean"}}});
    let body = |props: Value| json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": props}}}});
    let id = path("id", "account id");
    let mut paths = Map::new();
    let mut create = operation(
        "Create an account without roles (sysadmin).",
        &[],
        account.clone(),
    );
    create["requestBody"] = body(
        json!({"username": {"type": "string"}, "display_name": {"type": "string"}, "password": {"type": "string"}}),
    );
    paths.insert(
        "/api/v1/accounts".into(),
        json!({"get": operation("The tenant's accounts (sysadmin, secadmin).", &paging(), list_of(account.clone())), "post": create}),
    );
    let mut patch = operation(
        "Disable or enable an account (sysadmin).",
        std::slice::from_ref(&id),
        account.clone(),
    );
    patch["requestBody"] = body(json!({"disabled": {"type": "boolean"}}));
    let mut link = operation(
        "Link the account to the staff member it is (sysadmin): a leader's liaison enterprises become theirs to record visits to. Null or empty unlinks.",
        std::slice::from_ref(&id),
        json!({"type": "object", "properties": {"id": {"type": "string"}, "staff_id": {"type": ["string", "null"]}}}),
    );
    link["requestBody"] = body(json!({"staff_id": {"type": ["string", "null"]}}));
    paths.insert("/api/v1/accounts/{id}/staff".into(), json!({"put": link}));
    paths.insert(
        "/api/v1/accounts/{id}".into(),
        json!({"get": operation("One account.", std::slice::from_ref(&id), account.clone()), "patch": patch}),
    );
    paths.insert(
        "/api/v1/accounts/{id}/unlock".into(),
        json!({"post": operation("Clear a lockout (sysadmin).", std::slice::from_ref(&id), account.clone())}),
    );
    let mut password = operation(
        "Set a new password, to be changed at next login (sysadmin).",
        std::slice::from_ref(&id),
        account.clone(),
    );
    password["requestBody"] = body(json!({"password": {"type": "string"}}));
    paths.insert(
        "/api/v1/accounts/{id}/password".into(),
        json!({"post": password}),
    );
    let mut roles = operation(
        "Replace the roles and their scope (secadmin).",
        std::slice::from_ref(&id),
        account,
    );
    roles["requestBody"] = body(
        json!({"roles": {"type": "array", "items": {"type": "string"}}, "unit_code": {"type": ["string", "null"]}, "uscc": {"type": ["string", "null"]}}),
    );
    paths.insert("/api/v1/accounts/{id}/roles".into(), json!({"put": roles}));
    paths
}

struct Row {
    id: String,
    username: String,
    display_name: String,
    roles: String,
    state: &'static str,
}

fn state_key(a: &Account, now: DateTime<Utc>) -> &'static str {
    if a.state.disabled {
        "accounts.state.disabled"
    } else if a.state.locked_until.is_some_and(|u| u > now) {
        "accounts.state.locked"
    } else if a.roles.is_empty() {
        "accounts.state.pending"
    } else {
        "accounts.state.active"
    }
}

fn role_labels(a: &Account) -> String {
    a.roles
        .iter()
        .map(|r| r.label())
        .collect::<Vec<_>>()
        .join("、")
}

#[derive(Template)]
#[template(path = "accounts_list.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    total: i64,
    can_create: bool,
    can_secure: bool,
    can_channels: bool,
}

async fn list_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<PagingQuery>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let request = page_request(q.page.as_deref(), q.per_page.as_deref())?;
    let page = state.store.list_accounts(&user.tenant.id, request).await?;
    let now = state.store.clock().now();
    render(&ListPage {
        can_create: allows(&user.account, Action::ManageAccounts),
        can_secure: allows(&user.account, Action::ManageSecurity),
        can_channels: allows(&user.account, Action::ManageChannels),
        layout: Layout::for_user("accounts.title", "accounts", &user),
        total: page.total,
        rows: page
            .items
            .iter()
            .map(|a| Row {
                id: a.id.clone(),
                username: a.username.clone(),
                display_name: a.display_name.clone(),
                roles: role_labels(a),
                state: state_key(a, now),
            })
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "account_new.html")]
struct NewPage {
    layout: Layout,
    csrf_token: String,
    username: String,
    display_name: String,
    error: Option<(String, String)>,
}

async fn new_page(PageUser(user): PageUser) -> Result<Response, PageError> {
    let user = reader(user)?;
    may(&user, Action::ManageAccounts)?;
    render(&NewPage {
        layout: Layout::for_user("accounts.new.title", "accounts", &user),
        csrf_token: user.csrf_token.clone(),
        username: String::new(),
        display_name: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct NewForm {
    username: String,
    display_name: String,
    password: String,
}

async fn new_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    form: Result<Form<NewForm>, FormRejection>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    may(&user, Action::ManageAccounts)?;
    let Ok(Form(form)) = form else {
        return Err(PageError(Error::bad_request("表单内容不完整，请重新填写")));
    };
    let result = state
        .store
        .create_account(
            &user.audit(),
            &NewAccount {
                tenant_id: user.tenant.id.clone(),
                username: form.username.clone(),
                display_name: form.display_name.clone(),
                password: form.password,
                must_change_password: true,
                roles: vec![],
                unit_code: None,
                uscc: None,
            },
        )
        .await;
    match result {
        Ok(account) => Ok(see_other(&format!("/accounts/{}", account.id))),
        Err(store::StoreError::Invalid(m) | store::StoreError::Conflict(m)) => {
            let mut response = render(&NewPage {
                layout: Layout::for_user("accounts.new.title", "accounts", &user),
                csrf_token: user.csrf_token.clone(),
                username: form.username,
                display_name: form.display_name,
                error: Some(("username".into(), m)),
            })?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "account_detail.html")]
struct DetailPage {
    layout: Layout,
    csrf_token: String,
    account: Row,
    is_self: bool,
    disabled: bool,
    locked: bool,
    can_manage: bool,
    can_grant: bool,
    roles: Vec<(&'static str, &'static str, bool)>,
    unit_code: String,
    uscc: String,
    error: Option<String>,
}

async fn detail(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    let account = account_of(state, user, id).await?;
    let unit_code = match &account.unit_id {
        Some(unit) => state
            .store
            .unit(&user.tenant.id, unit)
            .await?
            .map(|u| u.code)
            .unwrap_or_default(),
        None => String::new(),
    };
    let failed = error.is_some();
    let now = state.store.clock().now();
    let mut response = render(&DetailPage {
        layout: Layout::for_user("accounts.detail.title", "accounts", user)
            .titled(account.display_name.clone()),
        csrf_token: user.csrf_token.clone(),
        is_self: account.id == user.account.id,
        disabled: account.state.disabled,
        locked: account.state.locked_until.is_some_and(|u| u > now),
        can_manage: allows(&user.account, Action::ManageAccounts),
        can_grant: allows(&user.account, Action::GrantRoles),
        roles: Role::ALL
            .iter()
            .map(|r| (r.as_str(), r.label(), account.roles.contains(r)))
            .collect(),
        unit_code,
        uscc: account.uscc.clone().unwrap_or_default(),
        account: Row {
            id: account.id.clone(),
            username: account.username.clone(),
            display_name: account.display_name.clone(),
            roles: role_labels(&account),
            state: state_key(&account, now),
        },
        error,
    })?;
    if failed {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(response)
}

async fn detail_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    detail(&state, &user, &id, None).await
}

/// `POST /accounts/{id}/action` with `action` = disable | enable | unlock | password | roles.
async fn action_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Response, PageError> {
    let user = reader(user)?;
    let account = account_of(&state, &user, &id).await?;
    let fields = form.map(|Form(f)| f).unwrap_or_default();
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let ctx = user.audit();
    let outcome = match get("action") {
        Some("disable") | Some("enable") => {
            may(&user, Action::ManageAccounts)?;
            let disable = get("action") == Some("disable");
            if disable && id == user.account.id {
                Err("不能停用自己的账号".to_owned())
            } else {
                state
                    .store
                    .set_account_disabled(&ctx, &user.tenant.id, &id, disable)
                    .await?;
                Ok(())
            }
        }
        Some("unlock") => {
            may(&user, Action::ManageAccounts)?;
            state.store.unlock_account(&ctx, &account.username).await?;
            Ok(())
        }
        Some("password") => {
            may(&user, Action::ManageAccounts)?;
            match state
                .store
                .reset_password(&ctx, &account.username, get("password").unwrap_or_default())
                .await
            {
                Ok(_) => Ok(()),
                Err(store::StoreError::Invalid(m)) => Err(m),
                Err(e) => return Err(e.into()),
            }
        }
        Some("roles") => {
            may(&user, Action::GrantRoles)?;
            let names: Vec<String> = fields
                .iter()
                .filter(|(k, _)| k == "role")
                .map(|(_, v)| v.clone())
                .collect();
            match parse_roles(&names) {
                Ok(roles) => {
                    match apply_roles(&state, &user, &id, &roles, get("unit_code"), get("uscc"))
                        .await
                    {
                        Ok(_) => Ok(()),
                        Err(Error::Client { message, .. }) => Err(message),
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => Err(e.message().to_owned()),
            }
        }
        _ => return Err(PageError(Error::bad_request("未知的操作"))),
    };
    match outcome {
        Ok(()) => Ok(see_other(&format!("/accounts/{id}"))),
        Err(message) => detail(&state, &user, &id, Some(message)).await,
    }
}
