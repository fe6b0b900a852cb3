//! Request counts and durations by matched route, in Prometheus text format at `/metrics`.
//! Labelled by the route pattern (`/api/v1/units/{id}`), never the raw path, so the number
//! of series stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// Upper bounds of the duration histogram, in seconds.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// The counters, keyed by (method, route, status).
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    /// Records one request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock().expect("metrics lock");
        let entry = series
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default();
        entry.count += 1;
        entry.sum += seconds;
        for (bound, count) in BUCKETS.iter().zip(entry.buckets.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let series = self.series.lock().expect("metrics lock").clone();
        let mut out = String::new();
        out.push_str("# HELP bizenv_http_requests_total HTTP requests by method, matched route and status.\n");
        out.push_str("# TYPE bizenv_http_requests_total counter\n");
        for ((method, route, status), s) in &series {
            let _ = writeln!(
                out,
                "bizenv_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP bizenv_http_request_duration_seconds Time to answer, by method and matched route.\n");
        out.push_str("# TYPE bizenv_http_request_duration_seconds histogram\n");
        let mut by_route: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((method, route, _), s) in &series {
            let total = by_route.entry((method, route)).or_default();
            total.count += s.count;
            total.sum += s.sum;
            for (t, c) in total.buckets.iter_mut().zip(s.buckets) {
                *t += c;
            }
        }
        for ((method, route), s) in by_route {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            for (bound, count) in BUCKETS.iter().zip(s.buckets) {
                let _ = writeln!(
                    out,
                    "bizenv_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}"
                );
            }
            let _ = writeln!(
                out,
                "bizenv_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "bizenv_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "bizenv_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

fn escape(label: &str) -> String {
    label.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Middleware: times the request and records it under its matched route (or `unmatched`).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    state.metrics.record(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// `GET /metrics`.
pub async fn show(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::Metrics;

    #[test]
    fn requests_are_counted_by_route_and_status() {
        let m = Metrics::default();
        m.record("GET", "/api/v1/units/{id}", 200, 0.003);
        m.record("GET", "/api/v1/units/{id}", 200, 0.2);
        m.record("GET", "/api/v1/units/{id}", 404, 0.001);
        let text = m.render();
        assert!(text.contains(
            "bizenv_http_requests_total{method=\"GET\",route=\"/api/v1/units/{id}\",status=\"200\"} 2"
        ));
        assert!(text.contains("status=\"404\"} 1"));
        assert!(text.contains(
            "bizenv_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/units/{id}\",le=\"0.005\"} 2"
        ));
        assert!(text.contains(
            "bizenv_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/units/{id}\"} 3"
        ));
    }
}
