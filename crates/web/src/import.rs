//! Import of units and staff from XLSX (sysadmin), of cases and of 12345 hotline work orders
//! (as appeals) from CSV or XLSX (supervisor): the upload pages with their result (counts and
//! a table of row errors), the templates to download, and the raw-body API of units and
//! staff. Routes are registered by `org`, `staff`, `rating_pages` and `appeal_pages`; the
//! parsing and the rules are the store's.
//!
//! Who may act is decided before the body is read: 404 for who may not read the
//! organisation (or staff), 403 for other readers, so a refused upload reveals nothing.

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use store::import::ImportReport;

use crate::auth::{CurrentUser, PageUser};
use crate::error::{Error, PageError, Result};
use crate::openapi::operation;
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, allows};
use crate::staff::manager;
use crate::state::AppState;

/// The media type of an XLSX file.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Uploads may be as large as the application's body limit (SPEC: 300 MB), not axum's 2 MB.
pub(crate) fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(crate::startup::BODY_LIMIT)
}

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subject {
    Units,
    Staff,
    /// 办件: the provincial platform's export (CSV or XLSX).
    Cases,
    /// 12345 hotline work orders, received as appeals (CSV or XLSX).
    Appeals,
}

impl Subject {
    /// The page's own path.
    fn path(self) -> &'static str {
        match self {
            Subject::Units => "/units/import",
            Subject::Staff => "/staff/import",
            Subject::Cases => "/cases/import",
            Subject::Appeals => "/appeals/import",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Subject::Units => "import.units.title",
            Subject::Staff => "import.staff.title",
            Subject::Cases => "import.cases.title",
            Subject::Appeals => "import.appeals.title",
        }
    }

    fn template_name(self) -> &'static str {
        match self {
            Subject::Units => "units-import-template.xlsx",
            Subject::Staff => "staff-import-template.xlsx",
            Subject::Cases => "cases-import-template.xlsx",
            Subject::Appeals => "hotline-import-template.xlsx",
        }
    }

    /// The user, if they may import: 404 for who may not read what is imported, 403 for
    /// other readers.
    fn importer(self, user: CurrentUser) -> Result<CurrentUser> {
        let read = match self {
            Subject::Units => Action::ReadOrg,
            Subject::Staff => Action::ReadStaff,
            // as the import API: the supervisor's alone, 404 for everyone else
            Subject::Cases => return crate::policy::visible_to(user, Action::ManageRatings),
            // as the import API: the supervisor's alone, 404 for everyone else
            Subject::Appeals => return crate::policy::visible_to(user, Action::ManageAppeals),
        };
        if !allows(&user.account, read) {
            return Err(Error::not_found());
        }
        manager(&user)?;
        Ok(user)
    }

    /// Imports `bytes`; `claimed` is what the upload says it is (CSV and XLSX files only).
    async fn import(
        self,
        state: &AppState,
        user: &CurrentUser,
        bytes: &[u8],
        claimed: store::enterprise_import::FileKind,
    ) -> Result<ImportReport> {
        let report = match self {
            Subject::Units => {
                state
                    .store
                    .import_units(&user.audit(), &user.tenant.id, bytes)
                    .await?
            }
            Subject::Staff => {
                state
                    .store
                    .import_staff(&user.audit(), &user.tenant.id, bytes)
                    .await?
            }
            Subject::Cases => {
                let table = read_file(bytes, claimed)?;
                state
                    .store
                    .import_cases(&user.audit(), &user.tenant.id, &table)
                    .await?
            }
            Subject::Appeals => {
                let table = read_file(bytes, claimed)?;
                state
                    .store
                    .import_hotline(&user.audit(), &user.tenant.id, &table)
                    .await?
            }
        };
        Ok(report)
    }

    fn template(self) -> Result<Vec<u8>> {
        Ok(match self {
            Subject::Units => store::import::units_template()?,
            Subject::Staff => store::import::staff_template()?,
            Subject::Cases => store::service::cases_template()?,
            Subject::Appeals => store::appeal_import::hotline_template()?,
        })
    }
}

/// A CSV or XLSX file as a table; a file that is not one is the `file` field's 422.
pub(crate) fn read_file(
    bytes: &[u8],
    claimed: store::enterprise_import::FileKind,
) -> Result<store::import::Table> {
    store::enterprise_import::read_enterprise_file(bytes, claimed).map_err(|e| {
        Error::field(
            "file",
            e.to_string().trim_start_matches("invalid: ").to_owned(),
        )
    })
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Layout,
    csrf: String,
    action: &'static str,
    units: bool,
    cases: bool,
    /// Hotline work orders: `unchanged` counts the ones imported before.
    appeals: bool,
    /// Whether a row can change a stored record (not for hotline work orders: one imported
    /// before is left as it is).
    updates: bool,
    error: Option<String>,
    report: Option<ImportReport>,
    /// Never for units and staff (their errors are on the page only).
    report_url: Option<String>,
}

impl ImportPage {
    fn new(subject: Subject, user: &CurrentUser) -> Self {
        Self {
            layout: Layout::for_user(
                subject.title(),
                match subject {
                    Subject::Cases => "ratings",
                    Subject::Appeals => "appeals",
                    Subject::Units | Subject::Staff => "units",
                },
                user,
            ),
            csrf: user.csrf_token.clone(),
            action: subject.path(),
            units: subject == Subject::Units,
            cases: subject == Subject::Cases,
            appeals: subject == Subject::Appeals,
            updates: subject != Subject::Appeals,
            error: None,
            report: None,
            report_url: None,
        }
    }
}

async fn page(subject: Subject, user: CurrentUser) -> Result<Response, PageError> {
    let user = subject.importer(user)?;
    render(&ImportPage::new(subject, &user))
}

/// The bytes of the form's `file` field.
async fn uploaded_file(multipart: Result<Multipart, MultipartRejection>) -> Result<Option<Bytes>> {
    let mut multipart =
        multipart.map_err(|_| Error::bad_request("请通过页面上的表单选择并上传 XLSX 文件"))?;
    let unreadable = |_| Error::bad_request("无法读取上传的文件，请重新上传");
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await.map_err(unreadable)?;
            return Ok(Some(bytes).filter(|b| !b.is_empty()));
        }
    }
    Ok(None)
}

async fn upload(
    subject: Subject,
    state: AppState,
    user: CurrentUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let user = subject.importer(user)?;
    // who may act is decided before the body is read, so a refused body tells nothing
    let mut page = ImportPage::new(subject, &user);
    let outcome = match uploaded_file(multipart).await {
        Ok(Some(bytes)) => {
            subject
                .import(
                    &state,
                    &user,
                    &bytes,
                    store::enterprise_import::FileKind::Unknown,
                )
                .await
        }
        Ok(None) => Err(Error::field(
            "file",
            if matches!(subject, Subject::Cases | Subject::Appeals) {
                "请选择要导入的 CSV 或 XLSX 文件"
            } else {
                "请选择要导入的 XLSX 文件"
            },
        )),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(report) => {
            page.report_url = keep_report(subject, &state, &user, &report)?;
            page.report = Some(report);
            render(&page)
        }
        Err(Error::Client {
            status, message, ..
        }) => {
            page.error = Some(message);
            render_status(&page, status)
        }
        Err(e) => Err(e.into()),
    }
}

async fn template(subject: Subject, user: CurrentUser) -> Result<Response, PageError> {
    let user = subject.importer(user)?;
    drop(user);
    let bytes = subject.template()?;
    Ok((
        [
            (CONTENT_TYPE, XLSX.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", subject.template_name()),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Case and hotline files: the row errors also as a spreadsheet to fix and send again, kept
/// for the importer alone; answers where to download it (none without row errors).
fn keep_report(
    subject: Subject,
    state: &AppState,
    user: &CurrentUser,
    report: &ImportReport,
) -> Result<Option<String>> {
    if !matches!(subject, Subject::Cases | Subject::Appeals) || report.errors.is_empty() {
        return Ok(None);
    }
    let xlsx = store::enterprise_import::error_report_xlsx(report)?;
    let id = state.store.keep_import_report(&user.account.id, &xlsx)?;
    Ok(Some(format!("{}/reports/{id}", subject.path())))
}

/// What an import API answers: the report, and where its row errors are as XLSX.
#[derive(serde::Serialize)]
pub(crate) struct ApiReport {
    #[serde(flatten)]
    report: ImportReport,
    /// The row errors as XLSX, for the importer (case and hotline files with row errors).
    #[serde(skip_serializing_if = "Option::is_none")]
    report_url: Option<String>,
}

/// An import API: the file as the raw body; its `Content-Type` may say what it claims to be
/// (`text/csv`, the XLSX type), else the content decides.
async fn api(
    subject: Subject,
    state: AppState,
    user: CurrentUser,
    headers: &axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ApiReport>> {
    let user = subject.importer(user)?;
    // who may act is decided before the body is read, so a refused body tells nothing
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::client(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "文件过大")
        } else {
            Error::bad_request("无法读取请求体")
        }
    })?;
    let claimed = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(store::enterprise_import::FileKind::from_media_type)
        .unwrap_or(store::enterprise_import::FileKind::Unknown);
    let report = subject.import(&state, &user, &body, claimed).await?;
    let report_url = keep_report(subject, &state, &user, &report)?;
    Ok(Json(ApiReport { report, report_url }))
}

/// `GET /units/import`
pub(crate) async fn units_page(PageUser(user): PageUser) -> Result<Response, PageError> {
    page(Subject::Units, user).await
}

/// `POST /units/import`
pub(crate) async fn units_upload(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    upload(Subject::Units, state, user, multipart).await
}

/// `GET /units/import/template.xlsx`
pub(crate) async fn units_template(PageUser(user): PageUser) -> Result<Response, PageError> {
    template(Subject::Units, user).await
}

/// `POST /api/v1/units/import`
pub(crate) async fn units_api(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ApiReport>> {
    api(Subject::Units, state, user, &headers, body).await
}

/// `GET /staff/import`
pub(crate) async fn staff_page(PageUser(user): PageUser) -> Result<Response, PageError> {
    page(Subject::Staff, user).await
}

/// `POST /staff/import`
pub(crate) async fn staff_upload(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    upload(Subject::Staff, state, user, multipart).await
}

/// `GET /staff/import/template.xlsx`
pub(crate) async fn staff_template(PageUser(user): PageUser) -> Result<Response, PageError> {
    template(Subject::Staff, user).await
}

/// `POST /api/v1/staff/import`
pub(crate) async fn staff_api(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ApiReport>> {
    api(Subject::Staff, state, user, &headers, body).await
}

/// `GET /cases/import`
pub(crate) async fn cases_page(PageUser(user): PageUser) -> Result<Response, PageError> {
    page(Subject::Cases, user).await
}

/// `POST /cases/import`
pub(crate) async fn cases_upload(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    upload(Subject::Cases, state, user, multipart).await
}

/// `GET /cases/import/template.xlsx`
pub(crate) async fn cases_template(PageUser(user): PageUser) -> Result<Response, PageError> {
    template(Subject::Cases, user).await
}

/// A row-error report of a case or hotline import, to the one who imported (404 otherwise).
async fn error_report(
    subject: Subject,
    state: AppState,
    user: CurrentUser,
    id: &str,
) -> Result<Response, PageError> {
    let user = subject.importer(user)?;
    let bytes = state
        .store
        .import_report(&user.account.id, id)?
        .ok_or_else(Error::not_found)?;
    Ok(crate::enterprise_import::xlsx_download(
        bytes,
        match subject {
            Subject::Appeals => "hotline-import-errors.xlsx",
            _ => "case-import-errors.xlsx",
        },
    ))
}

/// `GET /cases/import/reports/{id}`
pub(crate) async fn cases_report(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    error_report(Subject::Cases, state, user, &id).await
}

/// `GET /appeals/import/reports/{id}`
pub(crate) async fn appeals_report(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    error_report(Subject::Appeals, state, user, &id).await
}

/// `POST /api/v1/cases/import`: the provincial platform's export (CSV in UTF-8 or GB18030, or
/// XLSX) as the raw body; every bad row answered with its row, column and reason, the good
/// rows landed (the supervisor).
pub(crate) async fn cases_api(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ApiReport>> {
    api(Subject::Cases, state, user, &headers, body).await
}

/// `POST /api/v1/appeals/import`: a 12345 hotline export (CSV in UTF-8 or GB18030, or XLSX)
/// as the raw body, each work order received as an appeal of source `hotline`; every bad row
/// answered with its row, column and reason, the good rows landed, work orders imported before
/// counted as `unchanged` (the supervisor).
pub(crate) async fn appeals_api(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ApiReport>> {
    api(Subject::Appeals, state, user, &headers, body).await
}

/// `GET /appeals/import`
pub(crate) async fn appeals_page(PageUser(user): PageUser) -> Result<Response, PageError> {
    page(Subject::Appeals, user).await
}

/// `POST /appeals/import`
pub(crate) async fn appeals_upload(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    upload(Subject::Appeals, state, user, multipart).await
}

/// `GET /appeals/import/template.xlsx`
pub(crate) async fn appeals_template(PageUser(user): PageUser) -> Result<Response, PageError> {
    template(Subject::Appeals, user).await
}

/// The OpenAPI operation of an import route.
pub(crate) fn openapi_operation(what: &str, columns: &str) -> Value {
    let report = json!({"type": "object", "required": ["created", "updated", "unchanged", "errors"], "properties": {
        "created": {"type": "integer"}, "updated": {"type": "integer"}, "unchanged": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["row", "column", "reason"], "properties": {
            "row": {"type": "integer", "description": "spreadsheet row number; the header is row 1"},
            "column": {"type": "string", "description": "the column's header"},
            "reason": {"type": "string"}}}}}});
    let mut op = operation(
        &format!(
            "Import {what} from an XLSX file sent as the raw body (sysadmin; other readers 403). Columns: {columns}. \
             200 even with row errors (the good rows landed; importing the same file again changes nothing); \
             422 for a file-level error (not an XLSX table, a required column missing): nothing changed."
        ),
        &[],
        report,
    );
    op["requestBody"] = json!({"required": true, "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}});
    op
}
