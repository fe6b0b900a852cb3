//! The state every handler shares.

use std::sync::Arc;

use store::{RatingQueue, Store};

use crate::metrics::Metrics;

/// Shared by all handlers; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The database behind one API; also holds the clock and the calendar cache.
    pub store: Store,
    /// Request counters and durations by matched route, for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Reverse proxies whose `X-Forwarded-For` is believed for the client address.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Ratings are written through it, many per transaction (group commit).
    pub ratings: RatingQueue,
}
