//! Sign-in: the login page and API, sessions in a cookie, the CSRF check of every unsafe
//! request that a session cookie authenticates, and the `CurrentUser` extractor.

use std::net::SocketAddr;

use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use store::account::{Account, LoginError, NewSession, SessionInfo};
use store::audit::AuditCtx;

use crate::error::{Error, PageError, Result};
use crate::extract::ApiJson;
use crate::openapi::operation;
use crate::pages::{Layout, render, render_status};
use crate::routes::Routes;
use crate::state::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bizenv_session";

/// Routes a session that must change its password may still use.
const WHILE_MUST_CHANGE: [&str; 4] = [
    "/api/v1/auth/password",
    "/api/v1/auth/logout",
    "/password",
    "/logout",
];

pub(crate) fn api() -> Routes {
    Routes::default()
        .post("/api/v1/auth/login", login)
        .post("/api/v1/auth/logout", logout)
        .post("/api/v1/auth/password", change_password)
        .get("/api/v1/auth/me", me)
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/login", login_page)
        .post("/login", login_form)
        .post("/logout", logout_form)
        .get("/password", password_page)
        .post("/password", password_form)
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
}

/// The client's address: the peer, or — when the peer is a trusted reverse proxy — the
/// nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_address(
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
    trusted: &[std::net::IpAddr],
) -> Option<String> {
    let peer = peer?;
    if !trusted.contains(&peer) {
        return Some(peer.to_string());
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    let client = forwarded
        .iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .copied()
        .unwrap_or(peer);
    Some(client.to_string())
}

fn client_ip(parts: &Parts, state: &AppState) -> Option<String> {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip());
    client_address(&parts.headers, peer, &state.trusted_proxies)
}

/// The audit context of a write by someone without an account (a public form): actor
/// `public`, with the client address.
pub struct PublicAudit(pub AuditCtx);

impl FromRequestParts<AppState> for PublicAudit {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        Ok(PublicAudit(AuditCtx {
            actor: "public".into(),
            client_ip: client_ip(parts, state),
        }))
    }
}

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The account.
    pub account: Account,
    /// The session's CSRF token (for forms).
    pub csrf_token: String,
    /// The account's tenant.
    pub tenant: store::tenant::Tenant,
    /// Whether the tenant is a demo tenant.
    pub demo: bool,
    /// The session cookie's token.
    token: String,
    /// The client address.
    pub client_ip: Option<String>,
}

impl CurrentUser {
    /// The audit context of this user's writes.
    pub fn audit(&self) -> AuditCtx {
        let actor = if self.account.id.starts_with("token:") {
            self.account.username.clone()
        } else {
            format!("user:{}", self.account.id)
        };
        AuditCtx {
            actor,
            client_ip: self.client_ip.clone(),
        }
    }
}

async fn session_of(parts: &Parts, state: &AppState) -> Result<Option<(String, SessionInfo)>> {
    let Some(token) = session_token(&parts.headers) else {
        return Ok(None);
    };
    Ok(state.store.session(&token).await?.map(|s| (token, s)))
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(bearer) = bearer_token(&parts.headers) {
            // the account, its tenant and the demo flag in one read
            let session = state
                .store
                .token_session(&bearer)
                .await?
                .map_err(|refused| {
                    Error::client(
                        StatusCode::UNAUTHORIZED,
                        "invalid_token",
                        refused.to_string(),
                    )
                })?;
            return Ok(CurrentUser {
                tenant: session.tenant,
                demo: session.demo,
                account: session.account,
                csrf_token: String::new(),
                token: String::new(),
                client_ip: client_ip(parts, state),
            });
        }
        let (token, session) = session_of(parts, state).await?.ok_or_else(|| {
            Error::client(StatusCode::UNAUTHORIZED, "unauthenticated", "请先登录")
        })?;
        if session.must_change && !WHILE_MUST_CHANGE.contains(&parts.uri.path()) {
            return Err(Error::client(
                StatusCode::FORBIDDEN,
                "must_change_password",
                "请先修改密码（首次登录或密码已过期）",
            ));
        }
        let tenant = state
            .store
            .tenant(&session.account.tenant_id)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("account without tenant")))?;
        let demo = state.store.is_demo_tenant(&tenant.id).await?;
        Ok(CurrentUser {
            tenant,
            demo,
            account: session.account,
            csrf_token: session.csrf_token,
            token,
            client_ip: client_ip(parts, state),
        })
    }
}

/// The signed-in user if there is one.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(MaybeUser(Some(user))),
            Err(Error::Client { status, .. }) if status == StatusCode::UNAUTHORIZED => {
                Ok(MaybeUser(None))
            }
            Err(e) => Err(e),
        }
    }
}

/// A page's signed-in user: without one, the page redirects to the login page; a user who
/// must change the password is sent to the password page.
pub struct PageUser(pub CurrentUser);

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match CurrentUser::from_request_parts(parts, state).await {
            Ok(user) => Ok(PageUser(user)),
            Err(Error::Client {
                code: "unauthenticated",
                ..
            }) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                Err(see_other(&format!(
                    "/login?next={}",
                    crate::org::encode(next)
                )))
            }
            Err(Error::Client {
                code: "must_change_password",
                ..
            }) => Err(see_other("/password")),
            Err(e) => Err(PageError(e).into_response()),
        }
    }
}

/// A 303 redirect (after a successful form POST, or to the login page).
pub fn see_other(location: &str) -> Response {
    (StatusCode::SEE_OTHER, [(LOCATION, location.to_owned())]).into_response()
}

fn session_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/"
    ))
    .expect("a token is a valid header value")
}

fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("bizenv_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
}

/// Middleware, default deny: an unsafe request authenticated by a live session cookie must
/// carry the session's CSRF token (`X-CSRF-Token` header or `csrf_token` form field).
/// Bearer-token and anonymous requests need none.
pub async fn csrf(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let Some(token) = session_token(request.headers()) else {
        return next.run(request).await;
    };
    let session = match state.store.session(&token).await {
        Ok(Some(s)) => s,
        Ok(None) => return next.run(request).await,
        Err(e) => return Error::from(e).into_response(),
    };
    let header = request
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    // an upload form (imports): buffered up to the upload limit to find its token
    let is_multipart = content_type.starts_with("multipart/form-data");
    let (request, given) = match (header, is_form || is_multipart) {
        (Some(h), _) => (request, Some(h)),
        (None, true) => {
            let (parts, body) = request.into_parts();
            let limit = if is_multipart {
                crate::startup::BODY_LIMIT
            } else {
                1024 * 1024
            };
            let bytes = match axum::body::to_bytes(body, limit).await {
                Ok(b) => b,
                Err(_) => {
                    return Error::client(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "too_large",
                        "表单内容过大",
                    )
                    .into_response();
                }
            };
            let given = if is_multipart {
                multipart_value(&content_type, &bytes, "csrf_token")
            } else {
                form_urlencoded_value(&bytes, "csrf_token")
            };
            (Request::from_parts(parts, Body::from(bytes)), given)
        }
        (None, false) => (request, None),
    };
    if given.as_deref() != Some(session.csrf_token.as_str()) {
        let error = Error::client(
            StatusCode::FORBIDDEN,
            "csrf_failed",
            "请求缺少有效的安全令牌，请刷新页面后重试",
        );
        return if request.uri().path().starts_with("/api/") {
            error.into_response()
        } else {
            PageError(error).into_response()
        };
    }
    next.run(request).await
}

fn form_urlencoded_value(body: &[u8], name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The text of the part named `name` of a `multipart/form-data` body (RFC 7578): parts
/// follow `--boundary` lines; each has headers, a blank line, and its content.
fn multipart_value(content_type: &str, body: &[u8], name: &str) -> Option<String> {
    let boundary = content_type
        .split(';')
        .map(str::trim)
        .find_map(|p| p.strip_prefix("boundary="))?
        .trim_matches('"');
    let delimiter = format!("\r\n--{boundary}").into_bytes();
    let find =
        |haystack: &[u8], needle: &[u8]| haystack.windows(needle.len()).position(|w| w == needle);
    // the first delimiter may open the body without the line break before it
    let mut rest = body.strip_prefix(&delimiter[2..])?;
    while let Some(part) = rest.strip_prefix(b"\r\n") {
        let end = find(part, &delimiter)?;
        let (part, next) = (&part[..end], &part[end + delimiter.len()..]);
        let head_end = find(part, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&part[..head_end]).ok()?;
        let named = head.split("\r\n").any(|line| {
            line.to_ascii_lowercase()
                .starts_with("content-disposition:")
                && line
                    .split(';')
                    .map(str::trim)
                    .any(|p| p == format!("name=\"{name}\""))
        });
        if named {
            return String::from_utf8(part[head_end + 4..].to_vec()).ok();
        }
        rest = next;
    }
    None
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Credentials {
    username: String,
    password: String,
}

fn login_body(session: &NewSession) -> Value {
    let a = &session.account;
    json!({
        "user": {"id": a.id, "username": a.username, "display_name": a.display_name, "tenant_id": a.tenant_id,
                 "unit_id": a.unit_id, "uscc": a.uscc},
        "roles": a.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "csrf_token": session.csrf_token,
        "must_change_password": session.must_change != domain::account::MustChange::None,
    })
}

fn login_error(e: LoginError) -> Error {
    match e {
        LoginError::Invalid => Error::client(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            e.to_string(),
        ),
        LoginError::Locked { .. } => {
            Error::client(StatusCode::LOCKED, "account_locked", e.to_string())
        }
        LoginError::Store(s) => s.into(),
    }
}

/// `POST /api/v1/auth/login`
async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<Response> {
    let ip = client_address(&headers, Some(addr.ip()), &state.trusted_proxies).unwrap_or_default();
    let session = state
        .store
        .login(&c.username, &c.password, Some(&ip))
        .await
        .map_err(login_error)?;
    let mut response = Json(login_body(&session)).into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, session_cookie(&session.token));
    Ok(response)
}

/// `POST /api/v1/auth/logout`
async fn logout(State(state): State<AppState>, user: CurrentUser) -> Result<Response> {
    state.store.end_session(&user.token).await?;
    Ok((StatusCode::NO_CONTENT, [(SET_COOKIE, clear_cookie())]).into_response())
}

/// `GET /api/v1/auth/me`
async fn me(user: CurrentUser) -> Json<Value> {
    let a = &user.account;
    Json(json!({
        "user": {"id": a.id, "username": a.username, "display_name": a.display_name, "tenant_id": a.tenant_id,
                 "unit_id": a.unit_id, "uscc": a.uscc},
        "roles": a.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "csrf_token": user.csrf_token,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// `POST /api/v1/auth/password`
async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode> {
    state
        .store
        .change_password(
            &user.audit(),
            &user.account,
            &change.current_password,
            &change.new_password,
        )
        .await
        .map_err(|e| Error::from_store_on(e, "new_password"))?;
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let user = json!({"type": "object", "properties": {
        "user": {"type": "object"}, "roles": {"type": "array", "items": {"type": "string"}},
        "csrf_token": {"type": "string"}, "must_change_password": {"type": "boolean"}}});
    let body = |props: Value| json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": props}}}});
    let mut paths = Map::new();
    let mut login = operation(
        "Sign in; sets the session cookie. 401 wrong user or password, 423 locked.",
        &[],
        user.clone(),
    );
    login["requestBody"] =
        body(json!({"username": {"type": "string"}, "password": {"type": "string"}}));
    paths.insert("/api/v1/auth/login".into(), json!({"post": login}));
    paths.insert(
        "/api/v1/auth/logout".into(),
        json!({"post": operation("End the session (CSRF token required).", &[], json!({}))}),
    );
    let mut change = operation(
        "Change one's own password (CSRF token required).",
        &[],
        json!({}),
    );
    change["requestBody"] =
        body(json!({"current_password": {"type": "string"}, "new_password": {"type": "string"}}));
    paths.insert("/api/v1/auth/password".into(), json!({"post": change}));
    paths.insert(
        "/api/v1/auth/me".into(),
        json!({"get": operation("The signed-in user, roles and CSRF token.", &[], user)}),
    );
    paths
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    username: String,
    next: String,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

/// Only local paths may be redirect targets.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

async fn login_page(
    axum::extract::Query(q): axum::extract::Query<NextQuery>,
) -> Result<Response, PageError> {
    render(&LoginPage {
        layout: Layout::new("auth.login.title", "login"),
        username: String::new(),
        next: safe_next(q.next.as_deref()),
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
    #[allow(dead_code)]
    csrf_token: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let ip = client_address(&headers, Some(addr.ip()), &state.trusted_proxies).unwrap_or_default();
    match state
        .store
        .login(&form.username, &form.password, Some(&ip))
        .await
    {
        Ok(session) => {
            let target = if session.must_change != domain::account::MustChange::None {
                "/password".to_owned()
            } else {
                next
            };
            let mut response = see_other(&target);
            response
                .headers_mut()
                .insert(SET_COOKIE, session_cookie(&session.token));
            Ok(response)
        }
        Err(LoginError::Store(e)) => Err(e.into()),
        Err(e) => {
            let status = match e {
                LoginError::Locked { .. } => StatusCode::LOCKED,
                _ => StatusCode::UNAUTHORIZED,
            };
            render_status(
                &LoginPage {
                    layout: Layout::new("auth.login.title", "login"),
                    username: form.username.trim().to_owned(),
                    next,
                    error: Some(e.to_string()),
                },
                status,
            )
        }
    }
}

async fn logout_form(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, PageError> {
    state.store.end_session(&user.token).await?;
    let mut response = see_other("/login");
    response.headers_mut().insert(SET_COOKIE, clear_cookie());
    Ok(response)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    csrf_token: String,
    forced: bool,
    error: Option<String>,
    policy: domain::account::PasswordPolicy,
}

async fn password_page(
    State(state): State<AppState>,
    user: Result<CurrentUser, Error>,
) -> Result<Response, PageError> {
    let user = match user {
        Ok(u) => u,
        Err(_) => return Ok(see_other("/login?next=/password")),
    };
    let forced = state
        .store
        .session(&user.token)
        .await?
        .is_some_and(|s| s.must_change);
    render(&PasswordPage {
        layout: Layout::for_user("auth.password.title", "", &user),
        csrf_token: user.csrf_token.clone(),
        forced,
        error: None,
        policy: state.store.password_policy().await?,
    })
}

#[derive(Deserialize)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm_password: String,
}

async fn password_form(
    State(state): State<AppState>,
    user: Result<CurrentUser, Error>,
    form: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Result<Response, PageError> {
    let user = match user {
        Ok(u) => u,
        Err(_) => return Ok(see_other("/login?next=/password")),
    };
    let Ok(Form(form)) = form else {
        return Err(PageError(Error::bad_request("表单内容不完整，请重新填写")));
    };
    let result = if form.new_password != form.confirm_password {
        Err("两次输入的新密码不一致".to_owned())
    } else {
        match state
            .store
            .change_password(
                &user.audit(),
                &user.account,
                &form.current_password,
                &form.new_password,
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(store::StoreError::Invalid(m)) => Err(m),
            Err(e) => return Err(e.into()),
        }
    };
    match result {
        Ok(()) => Ok(see_other("/")),
        Err(message) => {
            let mut response = render(&PasswordPage {
                layout: Layout::for_user("auth.password.title", "", &user),
                csrf_token: user.csrf_token.clone(),
                forced: true,
                error: Some(message),
                policy: state.store.password_policy().await?,
            })?;
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(response)
        }
    }
}

#[cfg(test)]
mod multipart_tests {
    use super::multipart_value;

    #[test]
    fn the_csrf_token_of_an_upload_form_is_found_in_its_multipart_body() {
        let content_type = "multipart/form-data; boundary=----x7";
        let body =
            b"------x7\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc123\r\n\
------x7\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.xlsx\"\r\n\
Content-Type: application/octet-stream\r\n\r\nPK\x03\x04\xff\r\n--\r\n------x7--\r\n";
        assert_eq!(
            multipart_value(content_type, body, "csrf_token").as_deref(),
            Some("abc123")
        );
        // a field after the file, with a quoted boundary
        let body2 = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n\x00\x01csrf_token\r\n\
--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\ntok\r\n--b--\r\n";
        assert_eq!(
            multipart_value("multipart/form-data; boundary=\"b\"", body2, "csrf_token").as_deref(),
            Some("tok")
        );
        // a file whose name merely contains the field's name is not the field
        let body3 =
            b"--b\r\nContent-Disposition: form-data; name=\"csrf_token_x\"\r\n\r\nno\r\n--b--\r\n";
        assert_eq!(
            multipart_value("multipart/form-data; boundary=b", body3, "csrf_token"),
            None
        );
        assert_eq!(
            multipart_value("multipart/form-data", body, "csrf_token"),
            None
        );
        assert_eq!(
            multipart_value(content_type, b"csrf_token=abc123", "csrf_token"),
            None
        );
    }
}

#[cfg(test)]
mod proxy_tests {
    use super::client_address;

    #[test]
    fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "198.51.100.9, 203.0.113.7, 10.0.0.2".parse().unwrap(),
        );
        let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let inner: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let stranger: std::net::IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            client_address(&headers, Some(stranger), &[proxy]).as_deref(),
            Some("192.0.2.1")
        );
        assert_eq!(
            client_address(&headers, Some(proxy), &[proxy]).as_deref(),
            Some("10.0.0.2")
        );
        // the nearest address that is not a trusted proxy; entries further left may be spoofed
        assert_eq!(
            client_address(&headers, Some(proxy), &[proxy, inner]).as_deref(),
            Some("203.0.113.7")
        );
        let empty = axum::http::HeaderMap::new();
        assert_eq!(
            client_address(&empty, Some(proxy), &[proxy]).as_deref(),
            Some("10.0.0.1")
        );
    }
}
