//! Builds the application and binds its listener; runs it until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::http::StatusCode;
use store::Store;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::metrics::Metrics;
use crate::routes;
use crate::state::AppState;

/// Largest request body the pages and API accept (SPEC: imports up to 300 MB).
pub const BODY_LIMIT: usize = 300 * 1024 * 1024;

/// A bound, not yet running server.
pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Store,
    background_jobs: bool,
}

/// How often the server queues the periodic jobs (card sweep, due reorganisations) and runs
/// the job table.
const DUE_WORK_EVERY: Duration = Duration::from_secs(60);

/// Runs the job table at start and then every [`DUE_WORK_EVERY`]; a failed job is retried by
/// the table's backoff, a failed tick is logged and tried again next time.
async fn run_due_work(store: Store) {
    let owner = format!("serve:{}", std::process::id());
    let mut every = tokio::time::interval(DUE_WORK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        if let Err(e) = store.tick(&owner).await {
            tracing::error!(error = format!("{e:#}"), "running jobs");
        }
    }
}

impl Application {
    /// Binds `bind` (port 0 picks a free port) and builds the router over `store`.
    pub async fn build(bind: SocketAddr, store: Store) -> anyhow::Result<Self> {
        Self::build_with(bind, store, Vec::new()).await
    }

    /// As [`Self::build`], believing `X-Forwarded-For` from these reverse proxies for the
    /// client address the audit and login logs record.
    pub async fn build_with(
        bind: SocketAddr,
        store: Store,
        trusted_proxies: Vec<std::net::IpAddr>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("binding {bind}"))?;
        let state = AppState {
            store: store.clone(),
            metrics: Arc::new(Metrics::default()),
            trusted_proxies: Arc::new(trusted_proxies),
            ratings: store::RatingQueue::start(store.clone()),
        };
        let router = routes::router(state)
            .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                Duration::from_secs(300),
            ))
            .layer(CatchPanicLayer::custom(|_| {
                crate::pages::error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "系统内部错误，请稍后重试",
                )
            }))
            // spans carry the path only: query strings may hold personal data (a phone search)
            .layer(TraceLayer::new_for_http().make_span_with(
                |request: &axum::http::Request<axum::body::Body>| {
                    tracing::info_span!(
                        "request",
                        method = %request.method(),
                        path = %request.uri().path(),
                    )
                },
            ));
        Ok(Self {
            listener,
            router,
            store,
            background_jobs: true,
        })
    }

    /// Serves without running the job table every minute: for tests, which drive the jobs
    /// themselves with the injected clock (`Store::tick`, `Store::run_jobs`).
    pub fn without_background_jobs(mut self) -> Self {
        self.background_jobs = false;
        self
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` completes, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let due = self
            .background_jobs
            .then(|| tokio::spawn(run_due_work(self.store.clone())));
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving HTTP");
        if let Some(due) = due {
            due.abort();
        }
        served
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "listening for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "listening for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
