//! Group commit for ratings. Ratings arrive faster than one fsync'd transaction each can
//! land (a hall's rating devices at the end of the day, a partner system's batch); each
//! request prepares its rating concurrently ([`Store::prepare_rating`]: checks, lookups,
//! sealing), then hands it to the one writer task, which takes everything waiting — up to
//! [`MAX_BATCH`] — into one transaction ([`Store::write_ratings`]). A request is answered
//! only after that transaction has committed, so an acknowledged rating is on disk; while one
//! batch commits, the next gathers.

use tokio::sync::{mpsc, oneshot};

use crate::audit::AuditCtx;
use crate::rating::{NewRating, PreparedRating, Rating};
use crate::{Result, Store, StoreError};

/// The most ratings one transaction takes.
pub const MAX_BATCH: usize = 512;

struct Job {
    rating: PreparedRating,
    reply: oneshot::Sender<Result<()>>,
}

/// The handle requests write ratings through; cheap to clone.
#[derive(Clone, Debug)]
pub struct RatingQueue {
    sender: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("id", &self.rating.id())
            .finish()
    }
}

impl RatingQueue {
    /// Starts the writer task on the current Tokio runtime; it ends when the last handle is
    /// dropped, after writing what was queued.
    pub fn start(store: Store) -> Self {
        let (sender, mut receiver) = mpsc::channel::<Job>(4 * MAX_BATCH);
        tokio::spawn(async move {
            let mut jobs = Vec::with_capacity(MAX_BATCH);
            while receiver.recv_many(&mut jobs, MAX_BATCH).await > 0 {
                let (ratings, replies): (Vec<_>, Vec<_>) =
                    jobs.drain(..).map(|j| (j.rating, j.reply)).unzip();
                let n = ratings.len();
                // the batch is written in a task of its own: should it panic, its requests
                // are answered with an error and the writer goes on with the next batch
                let writer = store.clone();
                let written =
                    tokio::spawn(async move { writer.write_ratings(&ratings).await }).await;
                let written = written.unwrap_or_else(|e| {
                    Err(StoreError::Other(anyhow::anyhow!(
                        "the rating batch's writer stopped: {e}"
                    )))
                });
                match written {
                    Ok(outcomes) => {
                        for (reply, outcome) in replies.into_iter().zip(outcomes) {
                            let _ = reply.send(outcome);
                        }
                    }
                    Err(e) => {
                        let message = format!("{e:#}");
                        tracing::error!(error = %message, n, "writing ratings");
                        for reply in replies {
                            let _ = reply.send(Err(StoreError::Other(anyhow::anyhow!(
                                "writing ratings: {message}"
                            ))));
                        }
                    }
                }
            }
        });
        Self { sender }
    }

    /// Stores a rating as [`Store::create_rating`] does, in the next batch; returns once
    /// the batch has committed.
    pub async fn create(
        &self,
        store: &Store,
        ctx: &AuditCtx,
        tenant_id: &str,
        new: &NewRating,
    ) -> Result<Rating> {
        let rating = store.prepare_rating(ctx, tenant_id, new).await?;
        let id = rating.id().to_owned();
        let stored = rating.as_stored();
        let (reply, answer) = oneshot::channel();
        let stopped = || StoreError::Other(anyhow::anyhow!("the rating writer has stopped"));
        self.sender
            .send(Job { rating, reply })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())??;
        if let Some(rating) = stored {
            return Ok(rating);
        }
        store
            .rating(tenant_id, &id)
            .await?
            .ok_or(StoreError::NotFound)
    }
}
