//! The password and session policy, kept by `secadmin` (三员分立); for every other role
//! these settings do not exist.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use domain::account::PasswordPolicy;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::ApiJson;
use crate::openapi::operation;
use crate::pages::{Layout, render};
use crate::policy::{Action, allows};
use crate::routes::Routes;
use crate::state::AppState;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/settings/password-policy", show)
        .route(Method::PUT, "/api/v1/settings/password-policy", update)
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/settings/security", page)
        .post("/settings/security", form)
}

fn keeper(user: CurrentUser) -> Result<CurrentUser> {
    if allows(&user.account, Action::ManageSecurity) {
        Ok(user)
    } else {
        Err(Error::not_found())
    }
}

/// `GET /api/v1/settings/password-policy`
async fn show(State(state): State<AppState>, user: CurrentUser) -> Result<Json<PasswordPolicy>> {
    keeper(user)?;
    Ok(Json(state.store.password_policy().await?))
}

/// `PUT /api/v1/settings/password-policy` with every setting.
async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<PasswordPolicy>, Error>,
) -> Result<Json<PasswordPolicy>> {
    let user = keeper(user)?;
    let ApiJson(policy) = body?;
    state
        .store
        .set_password_policy(&user.audit(), &policy)
        .await?;
    Ok(Json(state.store.password_policy().await?))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let policy = json!({"type": "object", "properties": {
        "min_length": {"type": "integer", "minimum": 8, "maximum": 64},
        "min_classes": {"type": "integer", "minimum": 2, "maximum": 4},
        "max_age_days": {"type": "integer", "minimum": 30, "maximum": 365},
        "max_failures": {"type": "integer", "minimum": 3, "maximum": 10},
        "lockout_minutes": {"type": "integer", "minimum": 5, "maximum": 1440},
        "idle_minutes": {"type": "integer", "minimum": 5, "maximum": 120},
        "max_sessions": {"type": "integer", "minimum": 1, "maximum": 10}}});
    let mut put = operation(
        "Set the password and session policy (secadmin).",
        &[],
        policy.clone(),
    );
    put["requestBody"] =
        json!({"required": true, "content": {"application/json": {"schema": policy.clone()}}});
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/settings/password-policy".into(),
        json!({"get": operation("The password and session policy (secadmin).", &[], policy), "put": put}),
    );
    paths
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    layout: Layout,
    csrf_token: String,
    policy: PasswordPolicy,
    message: Option<(bool, String)>,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, PageError> {
    let user = keeper(user)?;
    render(&SecurityPage {
        layout: Layout::for_user("security.title", "accounts", &user),
        csrf_token: user.csrf_token.clone(),
        policy: state.store.password_policy().await?,
        message: q
            .saved
            .map(|_| (true, "安全策略已保存，立即生效".to_owned())),
    })
}

#[derive(Deserialize)]
struct PolicyForm {
    min_length: String,
    min_classes: String,
    max_age_days: String,
    max_failures: String,
    lockout_minutes: String,
    idle_minutes: String,
    max_sessions: String,
}

impl PolicyForm {
    fn parse(&self) -> Result<PasswordPolicy, String> {
        fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
            value
                .trim()
                .parse()
                .map_err(|_| format!("“{}”不是有效的整数", value.trim()))
        }
        Ok(PasswordPolicy {
            min_length: number(&self.min_length)?,
            min_classes: number(&self.min_classes)?,
            max_age_days: number(&self.max_age_days)?,
            max_failures: number(&self.max_failures)?,
            lockout_minutes: number(&self.lockout_minutes)?,
            idle_minutes: number(&self.idle_minutes)?,
            max_sessions: number(&self.max_sessions)?,
        })
    }
}

async fn form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    form: Result<axum::Form<PolicyForm>, FormRejection>,
) -> Result<Response, PageError> {
    let user = keeper(user)?;
    let axum::Form(form) = form.map_err(|_| Error::bad_request("表单内容不完整，请重新填写"))?;
    let outcome = match form.parse() {
        Ok(policy) => match state
            .store
            .set_password_policy(&user.audit(), &policy)
            .await
        {
            Ok(()) => return Ok(see_other("/settings/security?saved=1")),
            Err(store::StoreError::InvalidField { message, .. }) => message,
            Err(e) => return Err(e.into()),
        },
        Err(message) => message,
    };
    let mut response = render(&SecurityPage {
        layout: Layout::for_user("security.title", "accounts", &user),
        csrf_token: user.csrf_token.clone(),
        policy: state.store.password_policy().await?,
        message: Some((false, outcome)),
    })?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}
