//! Background jobs: a table of work claimed with a lease, so a job whose runner died is taken
//! up again when its lease ends; enqueued once per dedupe key (idempotent); retried with
//! backoff. On PostgreSQL several runners claim with `FOR UPDATE SKIP LOCKED`; SQLite has one
//! writer, which serialises claims. Job bookkeeping is operational state, not business data:
//! it is not audited — what a job changes is, through the store's write API.

use chrono::{DateTime, Duration, Utc};

use crate::audit::AuditCtx;
use crate::db::{Db, with_pool};
use crate::{Result, Store, StoreError, new_id};

/// Attempts before a job is given up (`failed`).
pub const MAX_ATTEMPTS: i32 = 5;

/// A claimed job.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Job {
    /// Its id.
    pub id: String,
    /// The tenant it concerns, if one.
    pub tenant_id: Option<String>,
    /// What to do: `card_sweep`, `apply_reorganisations`, `deliver_notifications`.
    pub kind: String,
    /// Its parameters (JSON text).
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

/// The wait before attempt `n + 1` after `n` failed: 30 s, 1 min, 2 min, 4 min …
pub fn backoff(attempts: i32) -> Duration {
    Duration::seconds(30 << attempts.clamp(1, 10).saturating_sub(1))
}

const CLAIMABLE: &str =
    "(state = 'queued' AND run_at <= $3) OR (state = 'running' AND lease_until < $3)";

impl Store {
    /// Queues a job unless one with the same dedupe key exists; answers whether it was new.
    pub async fn enqueue_job(
        &self,
        tenant_id: Option<&str>,
        kind: &str,
        dedupe_key: &str,
        payload: &serde_json::Value,
        run_at: DateTime<Utc>,
    ) -> Result<bool> {
        let now = self.clock.now();
        let inserted = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO job (id, tenant_id, kind, dedupe_key, payload, state, run_at, attempts, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, 'queued', $6, 0, $7, $7) ON CONFLICT (dedupe_key) DO NOTHING",
            )
            .bind(new_id())
            .bind(tenant_id)
            .bind(kind)
            .bind(dedupe_key)
            .bind(payload.to_string())
            .bind(run_at)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(inserted == 1)
    }

    /// Claims the job due first (queued and due, or running with its lease run out) for
    /// `owner` until `lease` from now.
    pub async fn claim_job(&self, owner: &str, lease: Duration) -> Result<Option<Job>> {
        let now = self.clock.now();
        let until = now + lease;
        let set = "SET state = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3";
        let returning = "RETURNING id, tenant_id, kind, payload, attempts";
        let job = match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_as::<_, Job>(sqlx::AssertSqlSafe(format!(
                    "UPDATE job {set} WHERE id = (SELECT id FROM job WHERE {CLAIMABLE} \
                     ORDER BY run_at, kind LIMIT 1 FOR UPDATE SKIP LOCKED) {returning}"
                )))
                .bind(owner)
                .bind(until)
                .bind(now)
                .fetch_optional(pool)
                .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_as::<_, Job>(sqlx::AssertSqlSafe(format!(
                    "UPDATE job {set} WHERE id = (SELECT id FROM job WHERE {CLAIMABLE} \
                     ORDER BY run_at, kind LIMIT 1) {returning}"
                )))
                .bind(owner)
                .bind(until)
                .bind(now)
                .fetch_optional(pool)
                .await?
            }
        };
        Ok(job)
    }

    /// Marks a claimed job done (only its lease holder can).
    pub async fn complete_job(&self, job: &Job, owner: &str) -> Result<()> {
        let now = self.clock.now();
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE job SET state = 'done', lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = $3 \
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            )
            .bind(&job.id)
            .bind(owner)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Records a failure: queued again after [`backoff`], or `failed` after [`MAX_ATTEMPTS`].
    pub async fn fail_job(&self, job: &Job, owner: &str, error: &str) -> Result<()> {
        let now = self.clock.now();
        let (state, run_at) = if job.attempts >= MAX_ATTEMPTS {
            ("failed", now)
        } else {
            ("queued", now + backoff(job.attempts))
        };
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE job SET state = $3, run_at = $4, lease_owner = NULL, lease_until = NULL, last_error = $5, updated_at = $6 \
                 WHERE id = $1 AND lease_owner = $2 AND state = 'running'",
            )
            .bind(&job.id)
            .bind(owner)
            .bind(state)
            .bind(run_at)
            .bind(error)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Runs one claimed job; its effects are audited as the system's.
    async fn run_job(&self, job: &Job) -> Result<()> {
        let ctx = AuditCtx::system();
        match job.kind.as_str() {
            "card_sweep" => {
                let sweep = self.sweep_cards(&ctx).await?;
                if sweep.yellow + sweep.red > 0 {
                    tracing::info!(yellow = sweep.yellow, red = sweep.red, "cards given");
                }
                Ok(())
            }
            "apply_reorganisations" => self.apply_due_reorganisations().await.map(|_| ()),
            "deliver_notifications" => {
                let run = self.deliver_notifications().await?;
                if run.sent + run.retried + run.failed > 0 {
                    tracing::info!(
                        sent = run.sent,
                        retried = run.retried,
                        failed = run.failed,
                        "notifications delivered"
                    );
                }
                Ok(())
            }
            other => Err(StoreError::Other(anyhow::anyhow!(
                "unknown job kind {other:?}"
            ))),
        }
    }

    /// Claims and runs due jobs until none is left; answers how many ran (done or failed).
    pub async fn run_jobs(&self, owner: &str, lease: Duration) -> Result<usize> {
        let mut ran = 0;
        while let Some(job) = self.claim_job(owner, lease).await? {
            match self.run_job(&job).await {
                Ok(()) => self.complete_job(&job, owner).await?,
                Err(e) => {
                    tracing::warn!(job = %job.id, kind = %job.kind, attempts = job.attempts, error = format!("{e:#}"), "job failed");
                    self.fail_job(&job, owner, &format!("{e:#}")).await?;
                }
            }
            ran += 1;
        }
        Ok(ran)
    }

    /// Queues this minute's periodic jobs (card sweep, due reorganisations, mail and SMS) — once per
    /// minute however many servers ask — and runs what is due.
    pub async fn tick(&self, owner: &str) -> Result<usize> {
        let now = self.clock.now();
        let minute = now.format("%Y-%m-%dT%H:%M").to_string();
        for kind in [
            "card_sweep",
            "apply_reorganisations",
            "deliver_notifications",
        ] {
            self.enqueue_job(
                None,
                kind,
                &format!("{kind}:{minute}"),
                &serde_json::json!({}),
                now,
            )
            .await?;
        }
        // finished jobs are kept a week for inspection
        let cutoff = now - Duration::days(7);
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM job WHERE state IN ('done', 'failed') AND updated_at < $1")
                .bind(cutoff)
                .execute(pool)
                .await?;
        });
        self.run_jobs(owner, Duration::minutes(5)).await
    }
}
