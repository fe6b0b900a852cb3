//! Extractors that turn axum's rejections into our error body.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A JSON body; malformed JSON is a 400, a body of the wrong shape a 422, too large a 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_error(&rejection)),
        }
    }
}

fn json_error(rejection: &JsonRejection) -> Error {
    match rejection {
        JsonRejection::JsonDataError(e) => Error::client(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            format!("请求内容不符合要求：{}", e.body_text()),
        ),
        JsonRejection::JsonSyntaxError(_) => Error::client(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "请求体不是有效的 JSON",
        ),
        JsonRejection::MissingJsonContentType(_) => Error::client(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            "请求须使用 Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::client(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "请求体过大")
        }
        _ => Error::client(StatusCode::BAD_REQUEST, "bad_request", "无法读取请求体"),
    }
}

/// Query parameters; a query that does not fit is a 400.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(QueryRejection::FailedToDeserializeQueryString(e)) => Err(Error::client(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("查询参数有误：{}", e.body_text()),
            )),
            Err(_) => Err(Error::client(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "查询参数有误",
            )),
        }
    }
}
