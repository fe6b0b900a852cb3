//! The one error type of the web layer.
//!
//! Which error goes where: the domain returns typed errors of its own; the store returns
//! [`store::StoreError`] (not found, conflict, invalid, database); handlers turn either into
//! [`Error`], which answers with SPEC's JSON error body, or — through [`PageError`] — with a
//! Chinese error page. Internal causes are logged with their chain and shown only as a plain
//! 500, never with details.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Result of handlers.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error answered to the client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A 4xx the client can act on.
    #[error("{status}: {code}: {message}")]
    Client {
        /// 400, 401, 403, 404, 409, 413, 422, 423 or 429.
        status: StatusCode,
        /// snake_case code for programs.
        code: &'static str,
        /// Chinese message for people.
        message: String,
        /// Per-field messages.
        fields: BTreeMap<String, String>,
    },
    /// Something broke on our side; logged, answered as a plain 500.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// A client error with status, code and message.
    pub fn client(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status,
            code,
            message: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// 404: absent, or not visible to this user (the two are never told apart).
    pub fn not_found() -> Self {
        Self::client(StatusCode::NOT_FOUND, "not_found", "您访问的内容不存在")
    }

    /// 400: a malformed request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::client(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 400 about one parameter, named in `fields`.
    pub fn bad_param(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::bad_request(message.clone()).with_field(name, message)
    }

    /// 422: the request was understood but a field is invalid.
    pub fn field(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message.clone(),
        )
        .with_field(name, message)
    }

    /// 409: a conflict with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::client(StatusCode::CONFLICT, "conflict", message)
    }

    /// Adds a per-field message.
    pub fn with_field(mut self, name: &str, message: impl Into<String>) -> Self {
        if let Error::Client { fields, .. } = &mut self {
            fields.insert(name.to_owned(), message.into());
        }
        self
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Client { status, .. } => *status,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to people.
    pub fn message(&self) -> &str {
        match self {
            Error::Client { message, .. } => message,
            Error::Internal(_) => "系统内部错误，请稍后重试；如持续出现请联系系统管理员",
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Error::Client { code, .. } => code,
            Error::Internal(_) => "internal",
        }
    }

    fn log(&self) {
        if let Error::Internal(cause) = self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
    }
}

impl Error {
    /// A store error, with an unnamed validation message attached to `field` (for forms and
    /// 422 bodies that name the field); every other store error as `From` maps it.
    pub fn from_store_on(e: store::StoreError, field: &str) -> Self {
        match e {
            store::StoreError::Invalid(m) => Error::field(field, m),
            other => other.into(),
        }
    }
}

impl From<store::StoreError> for Error {
    fn from(e: store::StoreError) -> Self {
        use store::StoreError::*;
        match e {
            NotFound => Error::not_found(),
            Conflict(m) => Error::conflict(m),
            Invalid(m) => Error::client(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", m),
            InvalidField { field, message } => Error::field(field, message),
            Database(e) => Error::Internal(anyhow::Error::new(e).context("database")),
            Other(e) => Error::Internal(e),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: BodyInner<'a>,
}

#[derive(Serialize)]
struct BodyInner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    fields: BTreeMap<String, String>,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let fields = match &self {
            Error::Client { fields, .. } => fields.clone(),
            Error::Internal(_) => BTreeMap::new(),
        };
        let body = Body {
            error: BodyInner {
                code: self.code(),
                message: self.message(),
                fields,
            },
        };
        (self.status(), Json(body)).into_response()
    }
}

/// An error of a page handler: the same error, answered as a Chinese HTML page.
#[derive(Debug)]
pub struct PageError(pub Error);

impl<E: Into<Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.log();
        crate::pages::error_page(self.0.status(), self.0.message())
    }
}
