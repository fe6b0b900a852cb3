//! Reads kept between requests, dropped by the next audited change.
//!
//! Every change goes through the store's write API and appends to the audit log in its own
//! transaction, so two facts say whether anything changed since a read:
//! - in this process, [`Store::advance_head`] runs after each audited commit and moves the
//!   cache's generation;
//! - in any process (the CLI, a second server on PostgreSQL), each audited commit raises an
//!   audit chain's sequence, so the sum of the chains' sequences (a few rows, one per tenant)
//!   moves too. It is read at most once per [`STAMP_REUSE`]; a change committed by another
//!   process is therefore seen within that time, one by this process at once.
//!
//! An entry is served only while both are what they were *before* its value was read, so a
//! value read while a change commits is dropped at the next look. Only reads that depend on
//! nothing but stored data (not on the clock) may be kept.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::db::with_pool;
use crate::{Result, Store};

/// How long a read of the audit chains' stamp is reused.
pub(crate) const STAMP_REUSE: Duration = Duration::from_millis(10);

/// At most this many values are kept (all are dropped when it is reached).
const MAX_ENTRIES: usize = 512;

/// What the cache was valid for: this process's generation and the stored stamp.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Version {
    generation: u64,
    stamp: i64,
}

struct Entry {
    version: Version,
    value: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
pub(crate) struct ReadCache {
    generation: AtomicU64,
    /// The last stamp read, and when.
    stamp: Mutex<Option<(Instant, i64)>>,
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for ReadCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("generation", &self.generation.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ReadCache {
    /// After a commit in this process: every kept value is stale.
    pub(crate) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn get<T: Clone + 'static>(&self, key: &str, version: Version) -> Option<T> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key).filter(|e| e.version == version)?;
        entry.value.downcast_ref::<T>().cloned()
    }

    fn put<T: Send + Sync + 'static>(&self, key: String, version: Version, value: T) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                version,
                value: Arc::new(value),
            },
        );
    }
}

impl Store {
    /// Drops every kept read, as a change would (benchmarks measuring the reads themselves).
    pub fn drop_kept_reads(&self) {
        self.reads.invalidate();
    }

    /// `load`'s value under `key`, kept until the next audited change. The key must name
    /// everything the value depends on (tenant, reader, filters, page).
    pub(crate) async fn cached<T, F>(&self, key: String, load: F) -> Result<T>
    where
        T: Clone + Send + Sync + 'static,
        F: Future<Output = Result<T>>,
    {
        // the generation first: a commit after this read makes the entry stale
        let generation = self.reads.generation.load(Ordering::Acquire);
        let version = Version {
            generation,
            stamp: self.audit_stamp().await?,
        };
        if let Some(value) = self.reads.get::<T>(&key, version) {
            return Ok(value);
        }
        let value = load.await?;
        self.reads.put(key, version, value.clone());
        Ok(value)
    }

    /// The sum of the audit chains' sequences (moves with every audited commit anywhere),
    /// reused for [`STAMP_REUSE`].
    async fn audit_stamp(&self) -> Result<i64> {
        {
            let last = self.reads.stamp.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, stamp)) = *last
                && at.elapsed() < STAMP_REUSE
            {
                return Ok(stamp);
            }
        }
        let read_at = Instant::now();
        let stamp: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(seq), 0) AS BIGINT) FROM audit_chain")
                .fetch_one(pool)
                .await?
        });
        *self.reads.stamp.lock().unwrap_or_else(|e| e.into_inner()) = Some((read_at, stamp));
        Ok(stamp)
    }
}
