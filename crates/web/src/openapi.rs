//! `GET /api/v1/openapi.json`: the API described in OpenAPI 3.1. Each feature writes the
//! description of its own routes next to its handlers (`fn openapi_paths`); a test checks
//! that every route of the router is described here.

use axum::Json;
use serde_json::{Map, Value, json};

use crate::routes::Routes;
use crate::{accounts, audit, auth, calendar, group, org, settings, staff};

pub(crate) fn api() -> Routes {
    Routes::default().get("/api/v1/openapi.json", show)
}

async fn show() -> Json<Value> {
    Json(document())
}

/// The whole document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for feature in [
        auth::openapi_paths(),
        accounts::openapi_paths(),
        settings::openapi_paths(),
        audit::openapi_paths(),
        calendar::openapi_paths(),
        org::openapi_paths(),
        group::openapi_paths(),
        crate::reorg::openapi_paths(),
        staff::openapi_paths(),
        crate::task::openapi_paths(),
        crate::notice::openapi_paths(),
        crate::inbox::openapi_paths(),
        crate::channels::openapi_paths(),
        crate::enterprise::openapi_paths(),
        crate::visit::openapi_paths(),
        crate::inspection::openapi_paths(),
        crate::appeal::openapi_paths(),
        crate::rating::openapi_paths(),
        own_paths(),
    ] {
        paths.extend(feature);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "bizenv 营商环境优化平台 API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "JSON under /api/v1. Errors: {\"error\":{\"code\",\"message\",\"fields\"}}. Lists: ?page&per_page (max 200) → {items,page,per_page,total}. Ids are strings; timestamps RFC 3339 with offset; dates YYYY-MM-DD."
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "fields": {"type": "object", "additionalProperties": {"type": "string"}}
                        }
                    }}
                }
            }
        }
    })
}

fn own_paths() -> Map<String, Value> {
    let mut paths = Map::new();
    paths.insert(
        "/api/v1/openapi.json".into(),
        json!({"get": operation("This document.", &[], json!({"type": "object"}))}),
    );
    paths
}

/// An operation answering `ok` (a JSON schema) with 200, and the error body for 4xx.
pub(crate) fn operation(summary: &str, parameters: &[Value], ok: Value) -> Value {
    json!({
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": ok}}},
            "4XX": {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
    })
}

/// A query parameter.
pub(crate) fn query(name: &str, required: bool, schema: Value, description: &str) -> Value {
    json!({"name": name, "in": "query", "required": required, "schema": schema, "description": description})
}

/// A path parameter.
pub(crate) fn path(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}, "description": description})
}

/// The list envelope around `item`.
pub(crate) fn list_of(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": item},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"}
        }
    })
}

/// The paging parameters of a list.
pub(crate) fn paging() -> [Value; 2] {
    [
        query(
            "page",
            false,
            json!({"type": "integer", "minimum": 1}),
            "1-based page",
        ),
        query(
            "per_page",
            false,
            json!({"type": "integer", "minimum": 1, "maximum": 200}),
            "items per page, default 50",
        ),
    ]
}

/// The `tenant` parameter (needed when the installation has several tenants).
pub(crate) fn tenant() -> Value {
    query(
        "tenant",
        false,
        json!({"type": "string"}),
        "tenant region code, e.g. 370104; optional when the installation has one tenant",
    )
}
