//! Attachments over HTTP: a multipart `file` field received in chunks into the store's
//! [`store::attachment::Upload`] (cut off midway: 400, nothing kept), and the download of one,
//! which the record's own policy decides (a record the user does not see: 404).

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use store::attachment::{Attachment, Upload};

use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::list::timestamp;
use crate::routes::Routes;
use crate::state::AppState;

pub(crate) fn pages() -> Routes {
    Routes::default().get("/attachments/{id}", download)
}

/// Attachment routes accept a little more than the 20 MB limit, so an oversized file gets
/// the store's own message; far larger bodies are cut by this limit (413).
pub(crate) fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(domain::upload::MAX_ATTACHMENT_BYTES as usize + 1024 * 1024)
}

/// Receives the form's `file` field: its name and the upload.
pub(crate) async fn receive(
    state: &AppState,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(String, Upload)> {
    let mut multipart = multipart
        .map_err(|_| Error::field("file", "请通过表单（multipart/form-data）选择并上传文件"))?;
    while let Some(field) = multipart.next_field().await.map_err(cut_off)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or_default().to_owned();
        return Ok((name, receive_field(state, field).await?));
    }
    Err(Error::field("file", "请选择要上传的文件"))
}

/// Reads a multipart page form whose `file` fields come with what it sends (a report, a
/// submission): its text fields, and each named file checked and moved into place, ready to
/// be recorded in the step's transaction (dropped unrecorded, a file is removed).
pub(crate) async fn read_form_with_files(
    state: &AppState,
    tenant_id: &str,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(Vec<(String, String)>, Vec<store::attachment::PreparedFile>)> {
    let mut multipart = multipart.map_err(|_| Error::bad_request("表单内容不完整，请重新填写"))?;
    let (mut form, mut files) = (Vec::new(), Vec::new());
    while let Some(field) = multipart.next_field().await.map_err(cut_off)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            if file_name.is_empty() {
                continue;
            }
            let upload = receive_field(state, field).await?;
            files.push(state.store.prepare_file(tenant_id, &file_name, upload)?);
        } else {
            form.push((name, field.text().await.map_err(cut_off)?));
        }
    }
    Ok((form, files))
}

/// Reads a page form sent either way: URL-encoded (no files), or multipart with `file` fields
/// (each checked and moved into place, as [`read_form_with_files`] does).
pub(crate) async fn read_any_form(
    state: &AppState,
    tenant_id: &str,
    request: axum::extract::Request,
) -> Result<(Vec<(String, String)>, Vec<store::attachment::PreparedFile>)> {
    use axum::extract::FromRequest;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let received = Multipart::from_request(request, state).await;
        read_form_with_files(state, tenant_id, received).await
    } else {
        let axum::Form(form) = axum::Form::<Vec<(String, String)>>::from_request(request, state)
            .await
            .map_err(|_| Error::bad_request("表单内容不完整，请重新填写"))?;
        Ok((form, Vec::new()))
    }
}

/// A form route that takes up to `files` attachments: a little more than their limit.
pub(crate) fn body_limit_for(files: usize) -> DefaultBodyLimit {
    DefaultBodyLimit::max(files * domain::upload::MAX_ATTACHMENT_BYTES as usize + 1024 * 1024)
}

/// An upload cut off midway: nothing was kept.
pub(crate) fn cut_off<E>(_: E) -> Error {
    Error::bad_param("file", "文件上传中断，未保存，请重新上传")
}

/// Receives one file part in chunks into an [`Upload`], refused past the size limit.
pub(crate) async fn receive_field(
    state: &AppState,
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<Upload> {
    let mut upload = state.store.receive_upload()?;
    while let Some(chunk) = field.chunk().await.map_err(cut_off)? {
        upload.write(&chunk).map_err(|e| {
            Error::client(
                axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                e.to_string(),
            )
            .with_field("file", e.to_string())
        })?;
    }
    Ok(upload)
}

/// An attachment as the API answers it.
#[derive(serde::Serialize)]
pub(crate) struct AttachmentJson {
    id: String,
    file_name: String,
    content_type: String,
    size: i64,
    sm3: String,
    url: String,
    created_at: String,
    /// The report it came with, if one.
    report_id: Option<String>,
}

impl From<Attachment> for AttachmentJson {
    fn from(a: Attachment) -> Self {
        Self {
            url: format!("/attachments/{}", a.id),
            id: a.id,
            file_name: a.file_name,
            content_type: a.content_type,
            size: a.size,
            sm3: a.sm3,
            created_at: timestamp(a.created_at),
            report_id: a.report_id,
        }
    }
}

/// `GET /attachments/{id}`: the file, if the user sees the record it belongs to.
async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let attachment = state
        .store
        .attachment(&user.tenant.id, &id)
        .await?
        .ok_or_else(Error::not_found)?;
    let visible = match attachment.record_type.as_str() {
        "task" => crate::task::sees_task(&state, &user, &attachment.record_id).await?,
        "inspection" => {
            crate::inspection::sees_inspection(&state, &user, &attachment.record_id).await?
        }
        "finding" => crate::inspection::sees_finding(&state, &user, &attachment.record_id).await?,
        "appeal" => crate::appeal::sees_appeal(&state, &user, &attachment.record_id).await?,
        _ => false,
    };
    if !visible {
        return Err(Error::not_found());
    }
    let bytes = std::fs::read(state.store.attachment_path(&user.tenant.id, &attachment.id))
        .map_err(|e| Error::Internal(anyhow::Error::new(e).context("reading an attachment")))?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        crate::org::encode(&attachment.file_name)
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&attachment.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("\"sm3-{}\"", attachment.sm3)) {
        headers.insert(header::ETAG, v);
    }
    Ok(response)
}

/// A file as the pages list it: (url, name, KB, image).
pub(crate) type FileLine = (String, String, i64, bool);

/// The files of a record as the pages list them.
pub(crate) async fn file_lines(
    state: &AppState,
    tenant: &str,
    record: &str,
    id: &str,
) -> Result<Vec<FileLine>> {
    Ok(state
        .store
        .attachments_of(tenant, record, id)
        .await?
        .into_iter()
        .map(|a| {
            (
                format!("/attachments/{}", a.id),
                a.file_name,
                (a.size + 1023) / 1024,
                a.content_type.starts_with("image/"),
            )
        })
        .collect())
}

/// `{"items": [...]}`: the files of a record as the API lists them.
pub(crate) async fn files_json(
    state: &AppState,
    tenant: &str,
    record: &str,
    id: &str,
) -> Result<Json<Value>> {
    let items: Vec<crate::attachment::AttachmentJson> = state
        .store
        .attachments_of(tenant, record, id)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(json!({"items": items})))
}

/// 201 with the stored file.
pub(crate) fn created_file(a: store::attachment::Attachment) -> Response {
    (
        StatusCode::CREATED,
        Json(crate::attachment::AttachmentJson::from(a)),
    )
        .into_response()
}
