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
//! value read while a change commits is dropped at the next look. Readers of a key wait for
//! the one read already under way for it. Only reads that depend on
//! nothing but stored data (not on the clock) may be kept.
//!
//! **Quiet writes.** The rating writer's batches ([`Store::write_ratings`]) store ratings,
//! their running totals and the workflows of bad ones — nothing a kept read depends on — many
//! times a second. They move neither signal: [`Store::advance_quiet_head`] leaves the
//! generation alone, and their audit entries are counted in `audit_chain.quiet`, which the
//! stamp subtracts. So a stream of ratings keeps the organisation, the tokens and the queues
//! in memory. A kept read must therefore never depend on ratings, rating totals, bad ratings
//! or their deadlines, notifications and timelines.

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

impl Version {
    /// Whether a value valid at `self` may answer a read that began at `other` (a value read
    /// later than the read began is as good).
    fn serves(self, other: Version) -> bool {
        self.generation >= other.generation && self.stamp >= other.stamp
    }
}

type Value = Arc<dyn Any + Send + Sync>;

/// A kept value, or the one being read: readers of the same key wait for the first one's
/// read instead of each running the query (after a change, a hundred open queue pages would
/// otherwise all read the same page at once).
struct Entry {
    version: Version,
    value: Arc<tokio::sync::OnceCell<Value>>,
}

#[derive(Default)]
pub(crate) struct ReadCache {
    generation: AtomicU64,
    /// The last stamp read, and when.
    stamp: Mutex<Option<(Instant, i64)>>,
    entries: Mutex<HashMap<String, Entry>>,
    /// How many values were read from the database (tests and benchmarks look at it).
    loads: AtomicU64,
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

    /// The cell holding (or about to hold) `key`'s value for a read that began at `version`.
    fn cell(&self, key: &str, version: Version) -> Arc<tokio::sync::OnceCell<Value>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get(key)
            && entry.version.serves(version)
        {
            return entry.value.clone();
        }
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(key) {
            entries.clear();
        }
        let value = Arc::new(tokio::sync::OnceCell::new());
        entries.insert(
            key.to_owned(),
            Entry {
                version,
                value: value.clone(),
            },
        );
        value
    }
}

impl ReadCache {
    /// Drops one key's value (a read not worth keeping, such as an unknown token).
    pub(crate) fn forget(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

impl Store {
    /// Drops every kept read, as a change would (benchmarks measuring the reads themselves).
    pub fn drop_kept_reads(&self) {
        self.reads.invalidate();
    }

    /// How many kept reads have been read from the database since the store was opened
    /// (served ones are not counted): tests and benchmarks see with it what was kept.
    pub fn kept_read_loads(&self) -> u64 {
        self.reads.loads.load(Ordering::Relaxed)
    }

    /// Forgets the last read of the audit chains' stamp, so the next kept read looks at the
    /// database for changes by other processes instead of waiting up to [`STAMP_REUSE`].
    pub fn recheck_other_processes(&self) {
        *self.reads.stamp.lock().unwrap_or_else(|e| e.into_inner()) = None;
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
        let cell = self.reads.cell(&key, version);
        let value = cell
            .get_or_try_init(|| async {
                self.reads.loads.fetch_add(1, Ordering::Relaxed);
                load.await.map(|v| Arc::new(v) as Value)
            })
            .await?;
        match value.downcast_ref::<T>() {
            Some(value) => Ok(value.clone()),
            // a key names one type; another would be a programming error: read afresh
            None => Err(crate::StoreError::Other(anyhow::anyhow!(
                "kept read {key} holds another type"
            ))),
        }
    }

    /// The sum of the audit chains' sequences less their quiet entries (moves with every
    /// audited commit anywhere but the rating writer's), reused for [`STAMP_REUSE`].
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
            sqlx::query_scalar("SELECT CAST(COALESCE(SUM(seq - quiet), 0) AS BIGINT) FROM audit_chain")
                .fetch_one(pool)
                .await?
        });
        *self.reads.stamp.lock().unwrap_or_else(|e| e.into_inner()) = Some((read_at, stamp));
        Ok(stamp)
    }
}
