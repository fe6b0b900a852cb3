//! Notification channels: each user's own preferences (what reaches them by mail or SMS, and
//! their addresses), and the tenant's channel settings kept by `sysadmin` (the SMS gateway and
//! template, the supervision notice number pattern).

use askama::Template;
use axum::extract::State;
use axum::http::Method;
use axum::response::Response;
use axum::{Form, Json};
use domain::notify::{Channel, Event, Preferences, SmsGateway};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use store::delivery::ChannelSettings;

use crate::auth::{CurrentUser, PageUser, see_other};
use crate::error::{Error, PageError, Result};
use crate::extract::ApiJson;
use crate::openapi::operation;
use crate::pages::{Layout, render};
use crate::policy::{Action, allows};
use crate::routes::Routes;
use crate::staff::{FormErrors, form_value};
use crate::state::AppState;

pub(crate) fn api() -> Routes {
    Routes::default()
        .get("/api/v1/notifications/preferences", show_preferences)
        .route(
            Method::PUT,
            "/api/v1/notifications/preferences",
            update_preferences,
        )
        .get("/api/v1/settings/notifications", show_settings)
        .route(
            Method::PUT,
            "/api/v1/settings/notifications",
            update_settings,
        )
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/inbox/preferences", preferences_page)
        .post("/inbox/preferences", preferences_form)
        .get("/settings/notifications", settings_page)
        .post("/settings/notifications", settings_form)
}

/// Preferences as the API shows them to their owner (addresses in clear: they are theirs).
#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PreferencesJson {
    #[serde(default)]
    email: String,
    #[serde(default)]
    mobile: String,
    #[serde(default)]
    email_events: Vec<String>,
    #[serde(default)]
    sms_events: Vec<String>,
}

impl From<&Preferences> for PreferencesJson {
    fn from(p: &Preferences) -> Self {
        let codes = |c: Channel| p.events(c).iter().map(|e| e.code().to_owned()).collect();
        Self {
            email: p
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
            mobile: p
                .mobile
                .as_ref()
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
            email_events: codes(Channel::Email),
            sms_events: codes(Channel::Sms),
        }
    }
}

impl PreferencesJson {
    fn parse(&self) -> Result<Preferences> {
        Preferences::parse(
            &self.email,
            &self.mobile,
            &self.email_events,
            &self.sms_events,
        )
        .map_err(|e| Error::field(e.field, e.message))
    }
}

/// `GET /api/v1/notifications/preferences`: the user's own.
async fn show_preferences(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<PreferencesJson>> {
    let preferences = state
        .store
        .notification_preferences(&user.tenant.id, &user.account.id)
        .await?;
    Ok(Json((&preferences).into()))
}

/// `PUT /api/v1/notifications/preferences` with every field (left out: none).
async fn update_preferences(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<PreferencesJson>, Error>,
) -> Result<Json<PreferencesJson>> {
    let ApiJson(body) = body?;
    let preferences = body.parse()?;
    state
        .store
        .set_notification_preferences(
            &user.audit(),
            &user.tenant.id,
            &user.account.id,
            &preferences,
        )
        .await?;
    Ok(Json((&preferences).into()))
}

fn keeper(user: CurrentUser) -> Result<CurrentUser> {
    if allows(&user.account, Action::ManageChannels) {
        Ok(user)
    } else {
        Err(Error::not_found())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsJson {
    notice_pattern: String,
    sms_gateway: String,
    sms_template: String,
}

impl From<&ChannelSettings> for SettingsJson {
    fn from(s: &ChannelSettings) -> Self {
        Self {
            notice_pattern: s.notice_pattern.clone(),
            sms_gateway: s.sms_gateway.as_setting().to_owned(),
            sms_template: s.sms_template.clone(),
        }
    }
}

impl SettingsJson {
    fn parse(&self) -> Result<ChannelSettings> {
        Ok(ChannelSettings {
            notice_pattern: self.notice_pattern.trim().to_owned(),
            sms_gateway: SmsGateway::parse(&self.sms_gateway)
                .map_err(|m| Error::field("sms_gateway", m))?,
            sms_template: self.sms_template.trim().to_owned(),
        })
    }
}

/// `GET /api/v1/settings/notifications` (sysadmin).
async fn show_settings(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<SettingsJson>> {
    let user = keeper(user)?;
    Ok(Json(
        (&state.store.channel_settings(&user.tenant.id).await?).into(),
    ))
}

/// `PUT /api/v1/settings/notifications` with every setting (sysadmin).
async fn update_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<ApiJson<SettingsJson>, Error>,
) -> Result<Json<SettingsJson>> {
    let user = keeper(user)?;
    let ApiJson(body) = body?;
    let settings = body.parse()?;
    state
        .store
        .set_channel_settings(&user.audit(), &user.tenant.id, &settings)
        .await?;
    Ok(Json(
        (&state.store.channel_settings(&user.tenant.id).await?).into(),
    ))
}

pub(crate) fn openapi_paths() -> Map<String, Value> {
    let events = json!({"type": "array", "items": {"type": "string", "enum": ["assigned", "due_soon", "overdue", "notice", "extension_requested", "extension_decided"]}});
    let preferences = json!({"type": "object", "properties": {
        "email": {"type": "string", "description": "empty: none"},
        "mobile": {"type": "string", "description": "an 11-digit mobile number; empty: none"},
        "email_events": events, "sms_events": events}});
    let settings = json!({"type": "object", "required": ["notice_pattern", "sms_gateway", "sms_template"], "properties": {
        "notice_pattern": {"type": "string", "description": "holds {seq}, may hold {year}"},
        "sms_gateway": {"type": "string", "description": "empty (off), log, or an http:// gateway URL"},
        "sms_template": {"type": "string", "description": "holds {title}, may hold {tenant}"}}});
    let with_body = |summary: &str, schema: &Value| {
        let mut op = operation(summary, &[], schema.clone());
        op["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema}}});
        op
    };
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/notifications/preferences".into(),
        json!({"get": operation("The signed-in user's notification preferences.", &[], preferences.clone()),
               "put": with_body("Set the signed-in user's notification preferences.", &preferences)}),
    );
    paths.insert(
        "/api/v1/settings/notifications".into(),
        json!({"get": operation("The tenant's notification channel settings (sysadmin).", &[], settings.clone()),
               "put": with_body("Set the tenant's notification channel settings (sysadmin).", &settings)}),
    );
    paths
}

/// An event's two check boxes on the preferences page.
struct EventLine {
    code: &'static str,
    label: &'static str,
    email: bool,
    sms: bool,
}

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    layout: Layout,
    csrf: String,
    email: String,
    mobile: String,
    events: Vec<EventLine>,
    errors: FormErrors,
    saved: bool,
}

impl PreferencesPage {
    fn new(user: &CurrentUser, body: &PreferencesJson, errors: FormErrors, saved: bool) -> Self {
        Self {
            layout: Layout::for_user("preferences.title", "inbox", user),
            csrf: user.csrf_token.clone(),
            email: body.email.clone(),
            mobile: body.mobile.clone(),
            events: Event::ALL
                .into_iter()
                .map(|e| EventLine {
                    code: e.code(),
                    label: e.label(),
                    email: body.email_events.iter().any(|c| c == e.code()),
                    sms: body.sms_events.iter().any(|c| c == e.code()),
                })
                .collect(),
            errors,
            saved,
        }
    }
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

/// `GET /inbox/preferences`
async fn preferences_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, PageError> {
    let preferences = state
        .store
        .notification_preferences(&user.tenant.id, &user.account.id)
        .await?;
    render(&PreferencesPage::new(
        &user,
        &(&preferences).into(),
        FormErrors::default(),
        q.saved.is_some(),
    ))
}

/// `POST /inbox/preferences`
async fn preferences_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let values = |name: &str| {
        form.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let body = PreferencesJson {
        email: form_value(&form, "email"),
        mobile: form_value(&form, "mobile"),
        email_events: values("email_events"),
        sms_events: values("sms_events"),
    };
    let saved = match body.parse() {
        Ok(preferences) => state
            .store
            .set_notification_preferences(
                &user.audit(),
                &user.tenant.id,
                &user.account.id,
                &preferences,
            )
            .await
            .map_err(Error::from),
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(see_other("/inbox/preferences?saved=1")),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            let mut response = render(&PreferencesPage::new(&user, &body, errors, false))?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

#[derive(Template)]
#[template(path = "channel_settings.html")]
struct SettingsPage {
    layout: Layout,
    csrf: String,
    settings: SettingsJson,
    mail_relay: bool,
    errors: FormErrors,
    saved: bool,
}

/// `GET /settings/notifications` (sysadmin).
async fn settings_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Result<Response, PageError> {
    let user = keeper(user)?;
    let settings = state.store.channel_settings(&user.tenant.id).await?;
    render(&SettingsPage {
        layout: Layout::for_user("channels.title", "accounts", &user),
        csrf: user.csrf_token.clone(),
        settings: (&settings).into(),
        mail_relay: state.store.mail_relay().is_some(),
        errors: FormErrors::default(),
        saved: q.saved.is_some(),
    })
}

/// `POST /settings/notifications` (sysadmin).
async fn settings_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = keeper(user)?;
    let body = SettingsJson {
        notice_pattern: form_value(&form, "notice_pattern"),
        sms_gateway: form_value(&form, "sms_gateway"),
        sms_template: form_value(&form, "sms_template"),
    };
    let saved = match body.parse() {
        Ok(settings) => state
            .store
            .set_channel_settings(&user.audit(), &user.tenant.id, &settings)
            .await
            .map_err(Error::from),
        Err(e) => Err(e),
    };
    match saved {
        Ok(()) => Ok(see_other("/settings/notifications?saved=1")),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            let mut response = render(&SettingsPage {
                layout: Layout::for_user("channels.title", "accounts", &user),
                csrf: user.csrf_token.clone(),
                settings: body,
                mail_relay: state.store.mail_relay().is_some(),
                errors,
                saved: false,
            })?;
            *response.status_mut() = status;
            Ok(response)
        }
    }
}
