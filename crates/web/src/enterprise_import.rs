//! Import of the enterprise registry (CSV or XLSX): the upload page with its result and a
//! downloadable XLSX of the row errors, the template, and the raw-body API. The supervisor
//! imports any street's enterprises, a street's contact those of their street. Who may act is
//! decided before the body is read (404 for who may not read the registry, 403 for other
//! readers); the parsing and the rules are `store::enterprise_import`'s.

use askama::Template;
use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::handler::Handler;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use store::enterprise_import::{
    EnterpriseImport, FILE_LIMIT, FileKind, enterprise_template, error_report_xlsx,
};
use store::import::{ImportReport, RowError};

use crate::auth::{CurrentUser, PageUser};
use crate::error::{Error, PageError, Result};
use crate::import::XLSX;
use crate::pages::{Layout, render, render_status};
use crate::policy::{Action, permitted, visible_to};
use crate::routes::Routes;
use crate::state::AppState;
use crate::task::Units;

pub(crate) fn api() -> Routes {
    Routes::default().post(
        "/api/v1/enterprises/import",
        import_api.layer(DefaultBodyLimit::max(FILE_LIMIT)),
    )
}

pub(crate) fn pages() -> Routes {
    Routes::default()
        .get("/enterprises/import", page)
        .post(
            "/enterprises/import",
            upload.layer(DefaultBodyLimit::max(FILE_LIMIT + 64 * 1024)),
        )
        .get("/enterprises/import/template.xlsx", template)
        .get("/enterprises/import/reports/{id}", report)
}

/// The user if they may import, with the streets they are confined to (`None`: all).
async fn importer(
    state: &AppState,
    user: CurrentUser,
) -> Result<(CurrentUser, Option<Vec<String>>)> {
    let user = visible_to(user, Action::ReadEnterprises)?;
    permitted(
        &user,
        Action::ManageEnterprises,
        "只有营商办和所在街道的联络员可以导入企业",
    )?;
    let units = Units::load_for(state, &user, Action::ManageEnterprises).await?;
    let streets = units.scope.map(|scope| {
        scope
            .into_iter()
            .filter(|id| {
                units
                    .by_id
                    .get(id)
                    .is_some_and(|u| u.kind == domain::org::UnitKind::Street)
            })
            .collect()
    });
    Ok((user, streets))
}

async fn run(
    state: &AppState,
    user: &CurrentUser,
    streets: Option<Vec<String>>,
    bytes: &[u8],
    claimed: FileKind,
) -> Result<(ImportReport, Option<String>)> {
    let EnterpriseImport { report, .. } = state
        .store
        .import_enterprises(
            &user.audit(),
            &user.tenant.id,
            bytes,
            claimed,
            streets.as_deref(),
            &|_| {},
        )
        .await?;
    let report_url = if report.errors.is_empty() {
        None
    } else {
        let xlsx = error_report_xlsx(&report)?;
        let id = state.store.keep_import_report(&user.account.id, &xlsx)?;
        Some(format!("/enterprises/import/reports/{id}"))
    };
    Ok((report, report_url))
}

#[derive(Template)]
#[template(path = "enterprise_import.html")]
struct ImportPage {
    layout: Layout,
    csrf: String,
    error: Option<String>,
    report: Option<ImportReport>,
    report_url: Option<String>,
    columns: Vec<(&'static str, &'static str)>,
    /// A row changes the stored enterprise of its code (the shared result block shows it).
    updates: bool,
}

impl ImportPage {
    fn new(user: &CurrentUser) -> Self {
        let columns = domain::enterprise::FILE_COLUMNS
            .iter()
            .zip(COLUMN_RULES)
            .map(|(c, r)| (*c, r))
            .collect();
        Self {
            layout: Layout::for_user("enterprises.import", "enterprises", user),
            csrf: user.csrf_token.clone(),
            error: None,
            report: None,
            report_url: None,
            columns,
            updates: true,
        }
    }
}

/// What each file column takes, in the order of `FILE_COLUMNS`.
const COLUMN_RULES: [&str; 15] = [
    "必填；18 位，按 GB 32100 校验；同一企业再次导入时按此更新",
    "必填；不超过 100 个字",
    "不超过 50 个字",
    "不超过 200 个字",
    "本区街道的名称（如“振兴街街道”）或代码",
    "国民经济行业分类（GB/T 4754-2017）：门类字母加 2–4 位数字，如 C3011",
    "本区的主导产业之一",
    "大型、中型、小型、微型（或 大、中、小、微）",
    "如 2015-03-01、2015/3/1、2015年3月1日，或 Excel 日期",
    "以万元计的数字，最多 4 位小数",
    "存续、在业、迁出、吊销、注销；留空为存续",
    "不超过 50 个字",
    "11 位手机号码或带区号的固定电话；加密保存",
    "是 或 否",
    "在岗人员姓名；同名时写成“姓名（所在单位）”；所在单位即包联单位",
];

/// `GET /enterprises/import`
async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    let (user, _) = importer(&state, user).await?;
    render(&ImportPage::new(&user))
}

/// The `file` field of the form: its bytes and the kind its name claims.
async fn uploaded_file(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Option<(Bytes, FileKind)>> {
    let mut multipart =
        multipart.map_err(|_| Error::bad_request("请通过页面上的表单选择并上传文件"))?;
    let unreadable = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            Error::bad_request("无法读取上传的文件，请重新上传")
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(unreadable)? {
        if field.name() == Some("file") {
            let kind = FileKind::from_name(field.file_name().unwrap_or_default());
            let bytes = field.bytes().await.map_err(unreadable)?;
            return Ok(Some((bytes, kind)).filter(|(b, _)| !b.is_empty()));
        }
    }
    Ok(None)
}

fn too_large() -> Error {
    Error::client(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!(
            "文件过大：一次最多导入 {} MB，请分成几个文件",
            FILE_LIMIT / 1024 / 1024
        ),
    )
}

/// `POST /enterprises/import`
async fn upload(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let (user, streets) = importer(&state, user).await?;
    let mut page = ImportPage::new(&user);
    let outcome = match uploaded_file(multipart).await {
        Ok(Some((bytes, kind))) => run(&state, &user, streets, &bytes, kind).await,
        Ok(None) => Err(Error::field("file", "请选择要导入的 CSV 或 XLSX 文件")),
        Err(e) => Err(e),
    };
    match outcome {
        Ok((report, report_url)) => {
            page.report = Some(report);
            page.report_url = report_url;
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

pub(crate) fn xlsx_download(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (CONTENT_TYPE, XLSX.to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /enterprises/import/template.xlsx`
async fn template(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, PageError> {
    importer(&state, user).await?;
    Ok(xlsx_download(
        enterprise_template()?,
        "enterprise-import-template.xlsx",
    ))
}

/// `GET /enterprises/import/reports/{id}`: a row-error report, to the one who imported.
async fn report(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let (user, _) = importer(&state, user).await?;
    let bytes = state
        .store
        .import_report(&user.account.id, &id)?
        .ok_or_else(Error::not_found)?;
    Ok(xlsx_download(bytes, "enterprise-import-errors.xlsx"))
}

#[derive(Serialize)]
struct ImportJson {
    created: usize,
    updated: usize,
    unchanged: usize,
    errors: Vec<RowError>,
    /// Where the row errors can be downloaded as XLSX (absent when there are none).
    #[serde(skip_serializing_if = "Option::is_none")]
    report_url: Option<String>,
}

/// `POST /api/v1/enterprises/import`: the file as the raw body; its `Content-Type` may say
/// what it claims to be (`text/csv`, the XLSX type), else the content decides.
async fn import_api(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportJson>> {
    let (user, streets) = importer(&state, user).await?;
    // who may act is decided before the body is read, so a refused body tells nothing
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            Error::bad_request("无法读取请求体")
        }
    })?;
    let claimed = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(FileKind::from_media_type)
        .unwrap_or(FileKind::Unknown);
    let (report, report_url) = run(&state, &user, streets, &body, claimed).await?;
    Ok(Json(ImportJson {
        created: report.created,
        updated: report.updated,
        unchanged: report.unchanged,
        errors: report.errors,
        report_url,
    }))
}

/// The OpenAPI description of the import route.
pub(crate) fn openapi_operation() -> Value {
    let mut op = crate::import::openapi_operation(
        "enterprises (supervisor; a street's contact for their street)",
        &domain::enterprise::FILE_COLUMNS.join(", "),
    );
    op["description"] = json!(
        "Import enterprises from CSV (UTF-8 with or without BOM, or GB18030) or XLSX sent as the raw body; \
         Content-Type text/csv or the XLSX type says what the body claims to be, else the content decides. \
         Upsert by 统一社会信用代码; columns left out of the file keep stored values. 200 with the counts and \
         every refused row (row number as a spreadsheet shows it, column, reason) and `report_url`, an XLSX of the \
         row errors; the good rows landed and importing the same file again changes nothing. 422 for a file-level \
         error (empty, not a table, XLSX claimed but not XLSX, a required column missing), 413 over 200 MB: nothing changed."
    );
    op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["report_url"] =
        json!({"type": "string"});
    op["requestBody"]["content"]["text/csv"] =
        json!({"schema": {"type": "string", "format": "binary"}});
    op
}
