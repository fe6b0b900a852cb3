//! The sitemap: every feature's router merged in one place, and the API route list the
//! OpenAPI test compares with the document.

use axum::Router;
use axum::handler::Handler;
use axum::http::{Method, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use crate::error::Error;
use crate::state::AppState;
use crate::{
    accounts, assets, audit, auth, calendar, group, health, home, metrics, notice, openapi, org,
    pages, reorg, settings, staff, task,
};

/// A router of pages or API routes that remembers each (method, path) it was given.
#[derive(Default)]
pub struct Routes {
    router: Router<AppState>,
    routes: Vec<(Method, &'static str)>,
}

impl Routes {
    /// Adds `handler` for `method` at `path`.
    pub fn route<H, T>(mut self, method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let method_router: MethodRouter<AppState> = match method.as_str() {
            "GET" => axum::routing::get(handler),
            "POST" => axum::routing::post(handler),
            "PUT" => axum::routing::put(handler),
            "PATCH" => axum::routing::patch(handler),
            "DELETE" => axum::routing::delete(handler),
            other => panic!("unsupported method {other}"),
        };
        self.router = self.router.route(path, method_router);
        self.routes.push((method, path));
        self
    }

    /// Adds a GET route.
    pub fn get<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(Method::GET, path, handler)
    }

    /// Adds a POST route.
    pub fn post<H, T>(self, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(Method::POST, path, handler)
    }

    /// Adds another feature's API routes.
    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.routes.extend(other.routes);
        self
    }
}

/// Every API route, by feature.
fn api() -> Routes {
    Routes::default()
        .merge(auth::api())
        .merge(accounts::api())
        .merge(settings::api())
        .merge(audit::api())
        .merge(calendar::api())
        .merge(org::api())
        .merge(group::api())
        .merge(reorg::api())
        .merge(staff::api())
        .merge(task::api())
        .merge(notice::api())
        .merge(crate::inbox::api())
        .merge(crate::channels::api())
        .merge(crate::enterprise::api())
        .merge(crate::inspection::api())
        .merge(crate::appeal::api())
        .merge(crate::rating::api())
        .merge(openapi::api())
}

/// Every page, by feature.
fn pages() -> Routes {
    Routes::default()
        .merge(home::pages())
        .merge(auth::pages())
        .merge(accounts::pages())
        .merge(settings::pages())
        .merge(audit::pages())
        .merge(calendar::pages())
        .merge(org::pages())
        .merge(group::pages())
        .merge(reorg::pages())
        .merge(staff::pages())
        .merge(task::pages())
        .merge(notice::pages())
        .merge(crate::attachment::pages())
        .merge(crate::inbox::pages())
        .merge(crate::channels::pages())
        .merge(crate::enterprise::pages())
        .merge(crate::inspection::pages())
        .merge(crate::appeal_pages::pages())
        .merge(crate::appeal_settings::pages())
        .merge(crate::rating_pages::pages())
}

/// The (method, path) of every route under `/api/v1`, as the router serves them.
pub fn api_routes() -> Vec<(Method, &'static str)> {
    api().routes
}

/// The Open311 GeoReport v2 endpoints (their own format, outside `/api/v1`).
fn open311() -> Routes {
    crate::open311::routes()
}

/// The (method, path) of every page and API route the router serves (the operations
/// endpoints `/healthz`, `/metrics` and `/assets/…` aside): what the role × route test walks.
pub fn all_routes() -> Vec<(Method, &'static str)> {
    let mut all = pages().routes;
    all.extend(api().routes);
    all.extend(open311().routes);
    all
}

/// The whole application: pages, API, operations endpoints, assets, fallbacks.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(pages().router)
        .merge(api().router)
        .merge(open311().router)
        .route("/healthz", get(health::check))
        .route("/metrics", get(metrics::show))
        .merge(assets::router())
        .fallback(not_found)
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), auth::csrf))
        .with_state(state)
}

/// Unknown API routes answer the JSON 404; anything else the Chinese 404 page.
async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        Error::not_found().into_response()
    } else {
        pages::error_page(
            axum::http::StatusCode::NOT_FOUND,
            "您访问的页面不存在，请检查地址或返回首页",
        )
    }
}
