//! Appeals (诉求) pages: the public form and the tracking page (no login), the staff queue,
//! hall entry, the detail page with the forms of the steps the reader may take now, and the
//! three rates (三率). What a reader sees is the policy module's [`appeal_visibility`],
//! applied by the store's queries; every change goes through the store's appeal API. The
//! submitter's identity appears on one page only: the supervisor's audited reveal.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Utc};
use domain::appeal::{AppealAction, AppealState, Counts, Kind, Satisfaction, Source, Weights};
use domain::history::Reader;
use domain::org::UnitKind;
use store::appeal::{Appeal, Category, FigureGroup, NewAppeal, Submitter};

use crate::appeal::{
    ActionBody, AppealQuery, AppealReader, DeadlineBody, FigureQuery, Figures, attach_to_appeal,
    change_running_deadline, may_act, take_step,
};
use crate::auth::{CurrentUser, MaybeUser, PageUser, PublicAudit, see_other};
use crate::error::{Error, PageError, Result};
use crate::list::{local_minute, page_request};
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, allows, permitted, visible_to};
use crate::routes::Routes;
use crate::staff::{FormErrors, form_value};
use crate::state::AppState;
use crate::task::Units;
use crate::tenant::CurrentTenant;
use crate::timeline::{TimelineLine, timeline};

/// The appeal pages: the public form and tracking (no login), and the staff pages.
pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/appeal", public_form_page)
        .post(
            "/appeal",
            public_form.layer(crate::attachment::body_limit_for(PUBLIC_FILES)),
        )
        .get("/track", track_form_page)
        .get("/track/{code}", track_page)
        .get("/appeals", appeals_page)
        .get("/appeals/new", new_appeal_page)
        .post("/appeals/new", new_appeal_form)
        .get("/appeals/figures", figures_page)
        .get("/appeals/import", crate::import::appeals_page)
        .post(
            "/appeals/import",
            crate::import::appeals_upload.layer(crate::import::body_limit()),
        )
        .get(
            "/appeals/import/template.xlsx",
            crate::import::appeals_template,
        )
        .get(
            "/appeals/import/reports/{id}",
            crate::import::appeals_report,
        )
        .get("/appeals/{id}", appeal_page)
        .post("/appeals/{id}/action", action_form)
        .post("/appeals/{id}/cohandle", cohandle_form)
        .post("/appeals/{id}/deadline", deadline_form)
        .post(
            "/appeals/{id}/attachments",
            attach_form.layer(crate::attachment::body_limit()),
        )
        .post("/appeals/{id}/submitter", submitter_form)
}

// ---- who sees what ------------------------------------------------------------------------

// ---- shared pieces ------------------------------------------------------------------------

/// (code, label) of every value of a named enum.
fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter().map(|v| (code(*v), label(*v))).collect()
}

/// Units an appeal may be led or co-handled by: the active units but windows, in kind order.
fn unit_choices(units: &Units) -> Vec<(String, String)> {
    let mut list: Vec<&store::unit::Unit> = units
        .by_id
        .values()
        .filter(|u| u.active && u.kind != UnitKind::Window)
        .collect();
    list.sort_by_key(|u| (u.kind, u.sort_order, u.code.clone()));
    list.into_iter()
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect()
}

/// The active streets, for the forms and filters.
fn street_choices<'a>(
    all: impl IntoIterator<Item = &'a store::unit::Unit>,
) -> Vec<(String, String)> {
    let mut streets: Vec<&store::unit::Unit> = all
        .into_iter()
        .filter(|u| u.active && u.kind == UnitKind::Street)
        .collect();
    streets.sort_by_key(|u| (u.sort_order, u.code.clone()));
    streets
        .into_iter()
        .map(|u| (u.id.clone(), u.name.clone()))
        .collect()
}

/// Every non-empty value of `name` in a form (a multiple select).
fn form_values(form: &[(String, String)], name: &str) -> Vec<String> {
    form.iter()
        .filter(|(k, v)| k == name && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned())
        .collect()
}

/// An optional form value: `None` when blank.
fn optional(form: &[(String, String)], name: &str) -> Option<String> {
    Some(form_value(form, name)).filter(|v| !v.is_empty())
}

/// A yes/no select: `None` when blank.
fn yes_no(form: &[(String, String)], name: &str, what: &str) -> Result<Option<bool>> {
    match form_value(form, name).as_str() {
        "" => Ok(None),
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        _ => Err(Error::field(name, format!("请选择{what}"))),
    }
}

/// The catalogue key of whether a step was done in time, or empty.
fn on_time_key(on_time: Option<bool>) -> &'static str {
    match on_time {
        Some(true) => "appeal.on_time",
        Some(false) => "appeal.late",
        None => "",
    }
}

/// The catalogue key of yes or no, or empty.
fn yes_no_key(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "appeal.yes",
        Some(false) => "appeal.no",
        None => "",
    }
}

/// Working minutes as (hours, minutes), for pages.
fn hours_minutes(minutes: Option<i64>) -> Option<(i64, i64)> {
    minutes.map(|m| (m / 60, m % 60))
}

/// An appeal as a row of the queue (never the submitter's identity).
struct AppealLine {
    id: String,
    number: String,
    title: String,
    kind: &'static str,
    source: &'static str,
    state: &'static str,
    lead_unit: String,
    card: &'static str,
    received: String,
    secretary: bool,
    due: String,
}

impl AppealLine {
    fn new(a: &Appeal, units: &Units) -> Self {
        Self {
            id: a.id.clone(),
            number: a.number.clone(),
            title: a.title.clone(),
            kind: a.kind.label(),
            source: a.source.label(),
            state: a.state.label(),
            lead_unit: a
                .lead_unit_id
                .as_deref()
                .map(|u| units.name(u))
                .unwrap_or_default(),
            card: a.card().as_str(),
            received: local_minute(a.received_at),
            secretary: a.secretary,
            due: a
                .deadline()
                .map(|d| local_minute(d.due_at))
                .unwrap_or_default(),
        }
    }

    fn card_key(&self) -> String {
        format!("task.card.{}", self.card)
    }
}

// ---- the public form -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "appeal_form.html")]
struct AppealFormPage {
    layout: Layout,
    /// Where the form posts (with `?tenant=` for the public).
    action: String,
    /// The session's token, when someone is signed in.
    csrf: Option<String>,
    /// Staff entry: the source is chosen.
    staff: bool,
    /// The phone must be given (the anonymous public).
    phone_required: bool,
    /// An enterprise account submits its own appeal.
    as_enterprise: bool,
    kind: String,
    source: String,
    category_code: String,
    street_id: String,
    title: String,
    content: String,
    address: String,
    submitter_name: String,
    submitter_phone: String,
    publish: bool,
    kinds: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    categories: Vec<Category>,
    streets: Vec<(String, String)>,
    /// Where "back" leads.
    back: String,
    errors: FormErrors,
}

impl AppealFormPage {
    async fn blank(
        state: &AppState,
        tenant_id: &str,
        layout: Layout,
        action: String,
        csrf: Option<String>,
    ) -> Result<Self> {
        let categories = state.store.appeal_categories(tenant_id, true).await?;
        let units = state.store.units(tenant_id).await?;
        Ok(Self {
            layout,
            action,
            csrf,
            staff: false,
            phone_required: true,
            as_enterprise: false,
            kind: Kind::Demand.as_str().to_owned(),
            source: String::new(),
            category_code: String::new(),
            street_id: String::new(),
            title: String::new(),
            content: String::new(),
            address: String::new(),
            submitter_name: String::new(),
            submitter_phone: String::new(),
            publish: false,
            kinds: choices(Kind::ALL, Kind::as_str, Kind::label),
            sources: Vec::new(),
            categories,
            streets: street_choices(&units),
            back: "/".to_owned(),
            errors: FormErrors::default(),
        })
    }

    /// Takes the submitted values, so a refused form shows them again.
    fn fill(&mut self, form: &[(String, String)]) {
        self.kind = form_value(form, "kind");
        self.source = form_value(form, "source");
        self.category_code = form_value(form, "category_code");
        self.street_id = form_value(form, "street_id");
        self.title = form_value(form, "title");
        self.content = form_value(form, "content");
        self.address = form_value(form, "address");
        self.submitter_name = form_value(form, "submitter_name");
        self.submitter_phone = form_value(form, "submitter_phone");
        self.publish = form_value(form, "publish") == "true";
    }

    /// The appeal the form describes, from `source` (the store checks the rest).
    fn new_appeal(&self, source: Source) -> Result<NewAppeal> {
        let kind: Kind = self
            .kind
            .parse()
            .map_err(|_| Error::field("kind", "请选择诉求类型"))?;
        let some = |v: &str| Some(v.to_owned()).filter(|v| !v.is_empty());
        Ok(NewAppeal {
            kind,
            source,
            category_code: self.category_code.clone(),
            street_id: some(&self.street_id),
            enterprise_id: None,
            title: self.title.clone(),
            content: self.content.clone(),
            address: self.address.clone(),
            publish: self.publish,
            submitter_name: some(&self.submitter_name),
            submitter_phone: some(&self.submitter_phone),
            submitter_account_id: None,
            external_id: None,
        })
    }
}

/// A public page's layout titled by `title_key`.
fn public_layout(title_key: &str, tenant: &CurrentTenant, user: Option<&CurrentUser>) -> Layout {
    Layout::for_tenant(title_key, "appeal", tenant).with_user(user)
}

/// The public form's address: visitors name the tenant, as an installation may hold several
/// districts.
fn public_action(tenant: &CurrentTenant, user: Option<&CurrentUser>) -> String {
    match user {
        Some(_) => "/appeal".to_owned(),
        None => format!("/appeal?tenant={}", crate::org::encode(&tenant.tenant.code)),
    }
}

async fn public_blank(
    state: &AppState,
    tenant: &CurrentTenant,
    user: Option<&CurrentUser>,
) -> Result<AppealFormPage> {
    let mut page = AppealFormPage::blank(
        state,
        &tenant.tenant.id,
        public_layout("appeal.public.title", tenant, user),
        public_action(tenant, user),
        user.map(|u| u.csrf_token.clone()),
    )
    .await?;
    let enterprise = user.is_some_and(|u| allows(&u.account, Action::SubmitAppeals));
    page.as_enterprise = enterprise;
    page.phone_required = !enterprise;
    Ok(page)
}

/// Files a submitter may send with the public form.
const PUBLIC_FILES: usize = 5;

/// `GET /appeal`: the public form (no login; an enterprise account submits its own).
async fn public_form_page(
    State(state): State<AppState>,
    tenant: Result<CurrentTenant, Error>,
    MaybeUser(user): MaybeUser,
) -> Result<Response, PageError> {
    let tenant = tenant?;
    render(&public_blank(&state, &tenant, user.as_ref()).await?)
}

#[derive(Template)]
#[template(path = "appeal_receipt.html")]
struct ReceiptPage {
    layout: Layout,
    number: String,
    tracking_code: String,
    /// `/track/{code}`.
    track_link: String,
    /// Where to enter another.
    again: String,
}

fn track_link(code: &str) -> String {
    format!("/track/{}", crate::org::encode(code))
}

/// The enterprise an enterprise account is bound to, if it is in the registry.
async fn own_enterprise(state: &AppState, user: &CurrentUser) -> Result<Option<String>> {
    let Some(uscc) = user
        .account
        .uscc
        .as_deref()
        .and_then(|u| domain::uscc::Uscc::parse(u).ok())
    else {
        return Ok(None);
    };
    Ok(state
        .store
        .enterprise_id_by_uscc(&user.tenant.id, &uscc)
        .await?)
}

/// `POST /appeal`: receives a portal appeal and shows the receipt with the tracking code —
/// rendered, not redirected to, so the code is shown once and never lands in a URL.
async fn public_form(
    State(state): State<AppState>,
    tenant: Result<CurrentTenant, Error>,
    MaybeUser(user): MaybeUser,
    PublicAudit(public): PublicAudit,
    request: axum::extract::Request,
) -> Result<Response, PageError> {
    let tenant = tenant?;
    let mut page = public_blank(&state, &tenant, user.as_ref()).await?;
    // the text fields and the files (checked and kept aside until the appeal's transaction)
    let (form, files) =
        match crate::attachment::read_any_form(&state, &tenant.tenant.id, request).await {
            Ok(read) => read,
            Err(e) => {
                let (status, errors) = FormErrors::from_error(e)?;
                page.errors = errors;
                return render_status(&page, status);
            }
        };
    page.fill(&form);
    let created = async {
        if files.len() > PUBLIC_FILES {
            return Err(Error::field(
                "file",
                format!("最多上传 {PUBLIC_FILES} 个文件"),
            ));
        }
        let mut new = page.new_appeal(Source::Portal)?;
        if let Some(u) = user
            .as_ref()
            .filter(|u| allows(&u.account, Action::SubmitAppeals))
        {
            new.submitter_account_id = Some(u.account.id.clone());
            new.enterprise_id = own_enterprise(&state, u).await?;
        }
        // the signed-in user's write, or the anonymous public's
        let ctx = user.as_ref().map_or(public, CurrentUser::audit);
        Ok::<_, Error>(
            state
                .store
                .create_appeal_with_files(&ctx, &tenant.tenant.id, &new, files)
                .await?,
        )
    }
    .await;
    match created {
        Ok(appeal) => render(&ReceiptPage {
            layout: public_layout("appeal.receipt.title", &tenant, user.as_ref()),
            track_link: track_link(&appeal.tracking_code),
            number: appeal.number,
            tracking_code: appeal.tracking_code,
            again: public_action(&tenant, user.as_ref()),
        }),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            page.errors = errors;
            render_status(&page, status)
        }
    }
}

// ---- tracking -------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "appeal_track_form.html")]
struct TrackFormPage {
    layout: Layout,
    code: String,
    /// The code was looked up and names no appeal.
    unknown: bool,
}

/// `GET /track[?code=…]`: the form to type a tracking code; a typed code goes to its page.
async fn track_form_page(
    MaybeUser(user): MaybeUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let typed = q.get("code").map(|c| c.trim()).unwrap_or_default();
    if !typed.is_empty() {
        let code =
            domain::appeal::normalise_tracking_code(typed).unwrap_or_else(|| typed.to_owned());
        return Ok(see_other(&track_link(&code)));
    }
    render(&TrackFormPage {
        layout: Layout::new("appeal.track.title", "appeal").with_user(user.as_ref()),
        code: String::new(),
        unknown: false,
    })
}

#[derive(Template)]
#[template(path = "appeal_track.html")]
struct TrackPage {
    layout: Layout,
    number: String,
    kind: &'static str,
    category: String,
    state: &'static str,
    closed: bool,
    received: String,
    status_notes: String,
    reply: Option<String>,
    lead_unit: String,
    timeline: Vec<TimelineLine>,
}

/// The name of a category by its code (its code when it is gone).
fn category_name(categories: &[Category], code: &str) -> String {
    categories
        .iter()
        .find(|c| c.code == code)
        .map_or_else(|| code.to_owned(), |c| c.name.clone())
}

/// `GET /track/{code}`: what the submitter may know of their appeal — its status, the reply
/// once given, and the public entries of its timeline without staff names.
async fn track_page(
    State(state): State<AppState>,
    MaybeUser(user): MaybeUser,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    let Some((tenant_id, appeal)) = state.store.appeal_by_tracking_code(&code).await? else {
        let page = TrackFormPage {
            layout: Layout::new("appeal.track.title", "appeal").with_user(user.as_ref()),
            code,
            unknown: true,
        };
        return render_status(&page, StatusCode::NOT_FOUND);
    };
    let tenant = state
        .store
        .tenant(&tenant_id)
        .await?
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("appeal without tenant")))?;
    let demo = state.store.is_demo_tenant(&tenant_id).await?;
    let current = CurrentTenant { tenant, demo };
    let categories = state.store.appeal_categories(&tenant_id, false).await?;
    let units = state.store.units(&tenant_id).await?;
    let lead_unit = appeal
        .lead_unit_id
        .as_deref()
        .and_then(|id| units.iter().find(|u| u.id == id))
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let replied = matches!(
        appeal.state,
        AppealState::Replied | AppealState::CalledBack | AppealState::Closed
    );
    render(&TrackPage {
        layout: Layout::for_tenant("appeal.track.title", "appeal", &current)
            .with_user(user.as_ref()),
        number: appeal.number.clone(),
        kind: appeal.kind.label(),
        category: category_name(&categories, &appeal.category_code),
        state: appeal.state.label(),
        closed: appeal.state == AppealState::Closed,
        received: local_minute(appeal.received_at),
        status_notes: appeal.status_notes.clone(),
        reply: appeal.reply.clone().filter(|_| replied),
        lead_unit,
        timeline: timeline(&state, &tenant_id, "appeal", &appeal.id, Reader::Submitter).await?,
    })
}

// ---- the queue ------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "appeals.html")]
struct AppealsPage {
    layout: Layout,
    appeals: Vec<AppealLine>,
    total: i64,
    page: u32,
    pages: u32,
    prev_link: Option<String>,
    next_link: Option<String>,
    state: String,
    kind: String,
    source: String,
    unit_id: String,
    street_id: String,
    q: String,
    overdue: bool,
    secretary: bool,
    states: Vec<(&'static str, &'static str)>,
    kinds: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    unit_choices: Vec<(String, String)>,
    streets: Vec<(String, String)>,
    may_record: bool,
    /// The supervisor: the links to the settings and import pages.
    manages: bool,
    may_submit: bool,
    reads_figures: bool,
}

/// `GET /appeals`: the queue of the appeals the reader sees, filtered and paged.
async fn appeals_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let r = AppealReader::load(&state, user).await?;
    let get = |k: &str| q.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let request = page_request(
        q.get("page").map(String::as_str),
        q.get("per_page").map(String::as_str),
    )?;
    let nonempty = |v: String| Some(v).filter(|v| !v.is_empty());
    // the page's filters are the API's
    let filter = AppealQuery {
        state: nonempty(get("state")),
        kind: nonempty(get("kind")),
        source: nonempty(get("source")),
        category_code: nonempty(get("category_code")),
        unit_id: nonempty(get("unit_id")),
        street_id: nonempty(get("street_id")),
        q: nonempty(get("q")),
        overdue: nonempty(get("overdue")),
        secretary: nonempty(get("secretary")),
        ..AppealQuery::default()
    }
    .filter()?;
    let page = state
        .store
        .list_appeals(r.tenant(), &r.vis, &filter, request)
        .await?;
    let per_page = i64::from(request.per_page);
    let pages = u32::try_from(((page.total + per_page - 1) / per_page).max(1)).unwrap_or(1);
    let kept: Vec<String> = [
        "state",
        "kind",
        "source",
        "category_code",
        "unit_id",
        "street_id",
        "q",
        "overdue",
        "secretary",
        "per_page",
    ]
    .into_iter()
    .filter_map(|k| nonempty(get(k)).map(|v| format!("{k}={}", crate::org::encode(&v))))
    .collect();
    let link = |p: u32| {
        let mut params = kept.clone();
        params.push(format!("page={p}"));
        format!("/appeals?{}", params.join("&"))
    };
    let a = &r.user.account;
    render(&AppealsPage {
        layout: Layout::for_user("appeals.title", "appeals", &r.user),
        appeals: page
            .items
            .iter()
            .map(|x| AppealLine::new(x, &r.units))
            .collect(),
        total: page.total,
        page: request.page,
        pages,
        prev_link: (request.page > 1).then(|| link(request.page - 1)),
        next_link: (request.page < pages).then(|| link(request.page + 1)),
        state: get("state"),
        kind: get("kind"),
        source: get("source"),
        unit_id: get("unit_id"),
        street_id: get("street_id"),
        q: get("q"),
        overdue: get("overdue") == "true",
        secretary: get("secretary") == "true",
        states: choices(AppealState::ALL, AppealState::as_str, AppealState::label),
        kinds: choices(Kind::ALL, Kind::as_str, Kind::label),
        sources: choices(Source::ALL, Source::as_str, Source::label),
        unit_choices: unit_choices(&r.units),
        streets: street_choices(r.units.by_id.values()),
        may_record: allows(a, Action::RecordAppeals),
        manages: allows(a, Action::ManageAppeals),
        may_submit: allows(a, Action::SubmitAppeals),
        reads_figures: allows(a, Action::ReadAppealFigures),
    })
}

// ---- hall entry -----------------------------------------------------------------------------

/// The channels staff enter appeals from (the portal, the hotline import and Open311 come
/// in by themselves).
const STAFF_SOURCES: [Source; 5] = [
    Source::Hall,
    Source::Secretary,
    Source::Duty,
    Source::Meeting,
    Source::Visit,
];

async fn staff_blank(state: &AppState, user: &CurrentUser) -> Result<AppealFormPage> {
    let layout = Layout::for_user("appeals.new", "appeals", user);
    let mut page = AppealFormPage::blank(
        state,
        &user.tenant.id,
        layout,
        "/appeals/new".to_owned(),
        Some(user.csrf_token.clone()),
    )
    .await?;
    page.staff = true;
    page.phone_required = false;
    page.source = Source::Hall.as_str().to_owned();
    page.sources = choices(&STAFF_SOURCES, Source::as_str, Source::label);
    page.back = if allows(&user.account, Action::ReadAppeals) {
        "/appeals".to_owned()
    } else {
        "/".to_owned()
    };
    Ok(page)
}

/// `GET /appeals/new`: hall entry by window staff or the supervisor.
async fn new_appeal_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let user = visible_to(user, Action::RecordAppeals)?;
    render(&staff_blank(&state, &user).await?)
}

/// `POST /appeals/new`: to the appeal's page when the user reads it, else the receipt with
/// the tracking code to hand over.
async fn new_appeal_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let user = visible_to(user, Action::RecordAppeals)?;
    let mut page = staff_blank(&state, &user).await?;
    page.fill(&form);
    let created = async {
        let source = Source::from_code_or_label(&page.source)
            .filter(|s| STAFF_SOURCES.contains(s))
            .ok_or_else(|| Error::field("source", "请选择诉求来源"))?;
        let new = page.new_appeal(source)?;
        Ok::<_, Error>(
            state
                .store
                .create_appeal(&user.audit(), &user.tenant.id, &new)
                .await?,
        )
    }
    .await;
    match created {
        Ok(appeal) if allows(&user.account, Action::ReadAppeals) => {
            Ok(see_other(&format!("/appeals/{}", appeal.id)))
        }
        Ok(appeal) => render(&ReceiptPage {
            layout: Layout::for_user("appeal.receipt.title", "appeals", &user),
            track_link: track_link(&appeal.tracking_code),
            number: appeal.number,
            tracking_code: appeal.tracking_code,
            again: "/appeals/new".to_owned(),
        }),
        Err(e) => {
            let (status, errors) = FormErrors::from_error(e)?;
            page.errors = errors;
            render_status(&page, status)
        }
    }
}

// ---- the detail page ------------------------------------------------------------------------

/// A deadline of an appeal as the page shows it.
struct DeadlineLine {
    /// The catalogue key of its step.
    step_key: String,
    /// The unit it binds (co-handlers; the lead unit's steps).
    unit: String,
    due: String,
    card: &'static str,
    open: bool,
    paused: bool,
    provisional: bool,
    met: String,
    worked: Option<(i64, i64)>,
}

impl DeadlineLine {
    fn card_key(&self) -> String {
        format!("task.card.{}", self.card)
    }
}

fn deadline_line(d: &store::deadline::StoredDeadline, units: &Units) -> DeadlineLine {
    let base = if d.step.starts_with("cohandle:") {
        "cohandle"
    } else {
        d.step.split('.').next().unwrap_or_default()
    };
    DeadlineLine {
        step_key: format!("appeal.step.{base}"),
        unit: d
            .unit_id
            .as_deref()
            .map(|u| units.name(u))
            .unwrap_or_default(),
        due: local_minute(d.due_at),
        card: if d.open { d.card.as_str() } else { "none" },
        open: d.open,
        paused: d.paused,
        provisional: d.provisional,
        met: d.met_at.map(local_minute).unwrap_or_default(),
        worked: hours_minutes(d.worked_minutes),
    }
}

/// A co-handling unit and its part.
struct CohandlerLine {
    unit: String,
    part: String,
    done: String,
}

/// A callback attempt.
struct CallbackLine {
    at: String,
    contacted: bool,
    /// The catalogue key of 是 / 否, or empty.
    resolved: &'static str,
    process: &'static str,
    result: &'static str,
    gave_up: bool,
    note: String,
}

#[derive(Template)]
#[template(path = "appeal_detail.html")]
struct AppealPage {
    layout: Layout,
    csrf: String,
    appeal: AppealLine,
    category: String,
    street: String,
    /// The enterprise concerned, for the readers of identities.
    enterprise: Option<(String, String)>,
    content: String,
    address: String,
    publish: bool,
    external_id: String,
    proposed_unit: String,
    returns: u32,
    reopens: u32,
    missed_callbacks: u32,
    return_reason: String,
    reply: String,
    status_notes: String,
    dispatched: String,
    accepted: String,
    accept_worked: Option<(i64, i64)>,
    /// The catalogue key of 按时 / 超时, or empty.
    accept_on_time: &'static str,
    replied: String,
    reply_worked: Option<(i64, i64)>,
    reply_on_time: &'static str,
    closed: String,
    deadlines: Vec<DeadlineLine>,
    cohandlers: Vec<CohandlerLine>,
    callbacks: Vec<CallbackLine>,
    timeline: Vec<TimelineLine>,
    unit_choices: Vec<(String, String)>,
    default_unit: String,
    satisfactions: Vec<(&'static str, &'static str)>,
    may_dispatch: bool,
    may_accept: bool,
    may_return: bool,
    may_reply: bool,
    may_callback: bool,
    may_close: bool,
    may_reopen: bool,
    may_cohandle: bool,
    /// The appeal's files.
    files: Vec<crate::attachment::FileLine>,
    /// The reader may add a file.
    may_attach: bool,
    /// The supervisor may extend the running reply deadline (once).
    may_extend: bool,
    /// The supervisor or the lead unit may stop the running clock.
    may_pause: bool,
    /// … or start it again.
    may_resume: bool,
    may_read_submitter: bool,
    submitter: Option<Submitter>,
    error: Option<String>,
}

impl AppealPage {
    fn may_any_step(&self) -> bool {
        self.may_dispatch
            || self.may_accept
            || self.may_return
            || self.may_reply
            || self.may_callback
            || self.may_close
            || self.may_reopen
            || self.may_cohandle
            || self.may_extend
            || self.may_pause
            || self.may_resume
    }
}

async fn appeal_detail(
    state: &AppState,
    r: &AppealReader,
    id: &str,
    submitter: Option<Submitter>,
    error: Option<String>,
) -> Result<AppealPage> {
    let a = r.appeal(state, id).await?;
    let account = &r.user.account;
    let manages = allows(account, Action::ManageAppeals);
    let own = r.acting_unit(&a);
    let lead = own.is_some() && own == a.lead_unit_id;
    let cohandling = r.cohandling_unit(&a);
    let running = a.deadline().filter(|d| d.open).cloned();
    let running = running.as_ref();
    // a form is offered when the domain would take its step in this state
    let can = |action: AppealAction| domain::appeal::next(a.state, action, a.facts()).is_ok();
    let may_cohandle = cohandling.as_ref().is_some_and(|u| {
        a.cohandlers
            .iter()
            .any(|c| &c.unit_id == u && c.done_at.is_none())
    }) && !matches!(
        a.state,
        AppealState::Replied | AppealState::CalledBack | AppealState::Closed
    );
    let categories = state.store.appeal_categories(r.tenant(), false).await?;
    let reads_identity = allows(account, Action::ReadAppealSubmitter);
    let enterprise = match (&a.enterprise_id, reads_identity) {
        (Some(eid), true) => state
            .store
            .enterprise(r.tenant(), eid)
            .await?
            .map(|e| (e.id, e.values.name)),
        _ => None,
    };
    let callbacks = state
        .store
        .appeal_callbacks(r.tenant(), id)
        .await?
        .into_iter()
        .map(|c| CallbackLine {
            at: local_minute(c.at),
            contacted: c.contacted,
            resolved: yes_no_key(c.resolved),
            process: c.process.map(Satisfaction::label).unwrap_or_default(),
            result: c.result.map(Satisfaction::label).unwrap_or_default(),
            gave_up: c.gave_up,
            note: c.note,
        })
        .collect();
    let name_of = |u: &Option<String>| u.as_deref().map(|u| r.units.name(u)).unwrap_or_default();
    let when = |t: Option<DateTime<Utc>>| t.map(local_minute).unwrap_or_default();
    Ok(AppealPage {
        layout: Layout::for_user("appeals.title", "appeals", &r.user)
            .titled(format!("{} {}", a.number, a.title)),
        csrf: r.user.csrf_token.clone(),
        appeal: AppealLine::new(&a, &r.units),
        category: category_name(&categories, &a.category_code),
        street: name_of(&a.street_id),
        enterprise,
        content: a.content.clone(),
        address: a.address.clone(),
        publish: a.publish,
        external_id: a.external_id.clone().unwrap_or_default(),
        proposed_unit: name_of(&a.proposed_unit_id),
        returns: a.returns,
        reopens: a.reopens,
        missed_callbacks: a.missed_callbacks,
        return_reason: a.return_reason.clone().unwrap_or_default(),
        reply: a.reply.clone().unwrap_or_default(),
        status_notes: a.status_notes.clone(),
        dispatched: when(a.dispatched_at),
        accepted: when(a.accepted_at),
        accept_worked: hours_minutes(a.accept_minutes),
        accept_on_time: on_time_key(a.accept_on_time),
        replied: when(a.replied_at),
        reply_worked: hours_minutes(a.reply_minutes),
        reply_on_time: on_time_key(a.reply_on_time),
        closed: when(a.closed_at),
        deadlines: a
            .deadlines
            .iter()
            .map(|d| deadline_line(d, &r.units))
            .collect(),
        cohandlers: a
            .cohandlers
            .iter()
            .map(|c| CohandlerLine {
                unit: r.units.name(&c.unit_id),
                part: c.part.clone().unwrap_or_default(),
                done: when(c.done_at),
            })
            .collect(),
        callbacks,
        timeline: timeline(state, r.tenant(), "appeal", id, r.timeline_reader()).await?,
        unit_choices: unit_choices(&r.units),
        default_unit: a
            .lead_unit_id
            .clone()
            .or_else(|| a.proposed_unit_id.clone())
            .unwrap_or_default(),
        satisfactions: choices(Satisfaction::ALL, Satisfaction::as_str, Satisfaction::label),
        may_dispatch: manages && can(AppealAction::Dispatch),
        may_accept: lead && can(AppealAction::Accept),
        may_return: lead && can(AppealAction::Return),
        may_reply: lead && can(AppealAction::Reply),
        may_callback: manages && can(AppealAction::Callback),
        may_close: manages && can(AppealAction::Close),
        may_reopen: manages && can(AppealAction::Reopen),
        may_cohandle,
        files: crate::attachment::file_lines(state, r.tenant(), "appeal", id).await?,
        may_attach: a.state != AppealState::Closed
            && (manages
                || lead
                || cohandling.is_some()
                || a.submitter_account_id.as_deref() == Some(account.id.as_str())),
        may_extend: manages
            && running.is_some_and(|d| {
                d.deadline.extension.is_none()
                    && domain::appeal::Step::of_name(&d.step) == Some(domain::appeal::Step::Reply)
            }),
        may_pause: (manages || lead) && running.is_some_and(|d| !d.paused),
        may_resume: (manages || lead) && running.is_some_and(|d| d.paused),
        may_read_submitter: reads_identity && a.has_submitter && submitter.is_none(),
        submitter,
        error,
    })
}

/// `GET /appeals/{id}`
async fn appeal_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let r = AppealReader::load(&state, user).await?;
    render(&appeal_detail(&state, &r, &id, None, None).await?)
}

/// A detail-page form as the API's step body (the API and the pages take steps alike).
fn action_body(form: &[(String, String)]) -> Result<ActionBody> {
    Ok(ActionBody {
        action: optional(form, "action"),
        unit_id: optional(form, "unit_id"),
        cohandler_ids: form_values(form, "cohandler_ids"),
        note: form_value(form, "note"),
        reason: form_value(form, "reason"),
        reply: form_value(form, "reply"),
        status_notes: form_value(form, "status_notes"),
        contacted: yes_no(form, "contacted", "是否联系上诉求人")?,
        resolved: yes_no(form, "resolved", "问题是否解决")?,
        process: optional(form, "process"),
        result: optional(form, "result"),
    })
}

/// A refused step shows the detail page again with the message and the step's status (409 for
/// the wrong state, 422 for a field, 403 for a step not the user's); 404 and internal errors
/// stay error pages.
async fn after_step(
    state: &AppState,
    r: &AppealReader,
    id: &str,
    outcome: Result<()>,
) -> Result<Response, PageError> {
    match outcome {
        Ok(()) => Ok(see_other(&format!("/appeals/{id}"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let page = appeal_detail(state, r, id, None, Some(e.message().to_owned())).await?;
            render_status(&page, status)
        }
        Err(e) => Err(PageError(e)),
    }
}

/// `POST /appeals/{id}/action`: every step form of the detail page (`action` and its fields).
async fn action_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let r = AppealReader::load(&state, user).await?;
    let a = r.appeal(&state, &id).await?;
    may_act(&r.user)?;
    let outcome = async {
        // a step the appeal's state refuses says so before its fields are checked
        if let Ok(action) = form_value(&form, "action").parse::<AppealAction>()
            && let Err(refusal) = domain::appeal::next(a.state, action, a.facts())
        {
            return Err(Error::conflict(refusal.to_string()));
        }
        take_step(&state, &r, &a, action_body(&form)?).await?;
        Ok(())
    }
    .await;
    after_step(&state, &r, &id, outcome).await
}

/// `POST /appeals/{id}/cohandle`: a co-handling unit's part (`part`).
async fn cohandle_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let r = AppealReader::load(&state, user).await?;
    let a = r.appeal(&state, &id).await?;
    may_act(&r.user)?;
    let outcome = async {
        permitted(
            &r.user,
            Action::HandleAppeals,
            "只有协办单位的联络员可以提交协办意见",
        )?;
        let unit = r
            .cohandling_unit(&a)
            .ok_or_else(|| Error::field("unit_id", "本单位不是该诉求的协办单位"))?;
        state
            .store
            .record_cohandler_part(
                &r.user.audit(),
                r.tenant(),
                &id,
                &unit,
                &form_value(&form, "part"),
            )
            .await?;
        Ok(())
    }
    .await;
    after_step(&state, &r, &id, outcome).await
}

/// `POST /appeals/{id}/deadline`: extend the reply, pause or resume the clock (`change`,
/// `days`, `reason`).
async fn deadline_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    Form(form): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let r = AppealReader::load(&state, user).await?;
    let a = r.appeal(&state, &id).await?;
    may_act(&r.user)?;
    let outcome = async {
        let days = match optional(&form, "days") {
            None => None,
            Some(d) => Some(
                d.parse::<u32>()
                    .map_err(|_| Error::field("days", "延期天数应为正整数"))?,
            ),
        };
        let body = DeadlineBody {
            change: optional(&form, "change"),
            days,
            reason: form_value(&form, "reason"),
        };
        change_running_deadline(&state, &r, &a, body).await?;
        Ok(())
    }
    .await;
    after_step(&state, &r, &id, outcome).await
}

/// `POST /appeals/{id}/attachments`: a file from the detail page (multipart, `file`).
async fn attach_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let r = AppealReader::load(&state, user).await?;
    let outcome = attach_to_appeal(&state, &r, &id, multipart)
        .await
        .map(|_| ());
    after_step(&state, &r, &id, outcome).await
}

/// `POST /appeals/{id}/submitter`: the supervisor opens the submitter's name and phone (the
/// store audits the read); shown on this response only, never in a URL.
async fn submitter_form(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    // the submitter's identity does not exist for anyone but the supervisor (404)
    let user = visible_to(user, Action::ReadAppealSubmitter)?;
    let r = AppealReader::load(&state, user).await?;
    r.appeal(&state, &id).await?;
    let submitter = state
        .store
        .appeal_submitter(&r.user.audit(), r.tenant(), &id)
        .await?;
    render(&appeal_detail(&state, &r, &id, Some(submitter), None).await?)
}

// ---- the three rates ------------------------------------------------------------------------

/// A group's three rates as the page shows them: percentages with one decimal, "—" without
/// a denominator.
struct FigureLine {
    name: String,
    response: String,
    accept_due: u64,
    resolution: String,
    satisfaction: String,
    reached: u64,
    unreached: u64,
    score: String,
    /// For ordering.
    score_value: Option<f64>,
}

/// A rate as a percentage with one decimal, "—" without a denominator.
pub(crate) fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

fn figure_line(name: String, c: &Counts) -> FigureLine {
    let score = c.score(Weights::default());
    FigureLine {
        name,
        response: percent(c.response_rate()),
        accept_due: c.accept_due,
        resolution: percent(c.resolution_rate()),
        satisfaction: percent(c.satisfaction_rate()),
        reached: c.reached,
        unreached: c.unreached,
        score: score.map_or_else(|| "—".to_owned(), |s| format!("{s:.1}")),
        score_value: score,
    }
}

#[derive(Template)]
#[template(path = "appeal_figures.html")]
struct FiguresPage {
    layout: Layout,
    by: String,
    from: String,
    to: String,
    /// The heading of the group column (a catalogue key).
    group_key: &'static str,
    /// Only appeals of this kind (a code), or all.
    kind: String,
    /// Only appeals of this category, or all.
    category_code: String,
    kinds: Vec<(&'static str, &'static str)>,
    categories: Vec<Category>,
    lines: Vec<FigureLine>,
    total: FigureLine,
    weights: Weights,
}

/// `GET /appeals/figures[?by=unit|street|kind|month&from=…&to=…&kind=…&category_code=…]`:
/// the three rates per group over the days `from`–`to` (default: this month so far); a
/// `unit_admin` reads its subtree's.
async fn figures_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, PageError> {
    let user = visible_to(user, Action::ReadAppealFigures)?;
    let param = |name: &str| {
        q.get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let query = FigureQuery {
        by: param("by"),
        category_code: param("category_code"),
        kind: param("kind"),
        from: param("from"),
        to: param("to"),
    };
    let figures = Figures::read(&state, &user, &query).await?;
    let group = figures.group;
    let (by, group_key) = match group {
        FigureGroup::Unit => ("unit", "appeal.figures.by.unit"),
        FigureGroup::Street => ("street", "appeal.figures.by.street"),
        FigureGroup::Kind => ("kind", "appeal.figures.by.kind"),
        FigureGroup::Month => ("month", "appeal.figures.by.month"),
    };
    let (from, to) = (figures.from, figures.to);
    let kind = query.kind.clone().unwrap_or_default();
    let category = query.category_code.clone().unwrap_or_default();
    let catalog = crate::i18n::Catalog::zh_cn();
    let mut lines: Vec<FigureLine> = figures
        .rows
        .iter()
        .map(|(key, c)| {
            let name = match group {
                FigureGroup::Unit if key.is_empty() => {
                    catalog.t("appeal.figures.no_unit").to_owned()
                }
                FigureGroup::Street if key.is_empty() => {
                    catalog.t("appeal.figures.no_street").to_owned()
                }
                _ => figures.name(key),
            };
            figure_line(name, c)
        })
        .collect();
    let total = figures.total;
    if matches!(group, FigureGroup::Unit | FigureGroup::Street) {
        // a ranking: best combined score first, those without one last
        lines.sort_by(|a, b| {
            b.score_value
                .partial_cmp(&a.score_value)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.name.cmp(&b.name))
        });
    }
    render(&FiguresPage {
        layout: Layout::for_user("appeal.figures.title", "appeals", &user),
        by: by.to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        group_key,
        kind,
        category_code: category,
        kinds: choices(Kind::ALL, Kind::as_str, Kind::label),
        categories: state
            .store
            .appeal_categories(&user.tenant.id, false)
            .await?,
        lines,
        total: figure_line(catalog.t("appeal.figures.total").to_owned(), &total),
        weights: Weights::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_show_one_decimal_and_a_dash_without_denominator() {
        assert_eq!(percent(Some(0.755)), "75.5%");
        assert_eq!(percent(Some(1.0)), "100.0%");
        assert_eq!(percent(None), "—");
        let line = figure_line(
            "甲局".into(),
            &Counts {
                accept_due: 8,
                accepted_in_time: 6,
                reached: 10,
                resolved: 7,
                satisfied: 9,
                unreached: 2,
            },
        );
        assert_eq!(line.response, "75.0%");
        assert_eq!(line.resolution, "70.0%");
        assert_eq!(line.satisfaction, "90.0%");
        assert_eq!(line.score, "78.5");
        let empty = figure_line("乙局".into(), &Counts::default());
        assert_eq!((empty.response.as_str(), empty.score.as_str()), ("—", "—"));
    }

    #[test]
    fn every_step_and_action_has_a_chinese_name() {
        let catalog = crate::i18n::Catalog::zh_cn();
        for step in ["dispatch", "accept", "reply", "callback", "cohandle"] {
            assert!(catalog.has(&format!("appeal.step.{step}")), "{step}");
        }
        for event in [
            "received",
            "dispatched",
            "accepted",
            "returned",
            "replied",
            "called_back",
            "closed",
            "reopened",
            "cohandled",
        ] {
            assert!(catalog.has(&format!("history.appeal.{event}")), "{event}");
        }
    }

    #[test]
    fn a_shanghai_day_starts_at_sixteen_hundred_utc_the_day_before() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(
            crate::appeal::day_start(day).to_rfc3339(),
            "2026-02-28T16:00:00+00:00"
        );
    }
}
