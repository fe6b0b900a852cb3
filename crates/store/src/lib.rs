//! Persistence of bizenv on SQLite (embedded default) and PostgreSQL (server), behind one API.
//!
//! `Store` holds one of two typed sqlx pools; every query is one SQL text run on either
//! (`$1` placeholders work on both). Each aggregate has its module; every write goes through
//! a function that takes an [`audit::AuditCtx`] and appends to the audit log in the same
//! transaction, so no write path can skip it.

pub mod account;
pub mod appeal;
pub mod appeal_import;
pub mod attachment;
pub mod audit;
mod cache;
pub mod calendar;
pub mod crypto;
mod db;
pub mod deadline;
pub mod delivery;
pub mod demo;
pub mod enterprise;
pub mod enterprise_import;
pub mod extension;
pub mod group;
pub mod history;
pub mod import;
pub mod inspection;
pub mod job;
pub mod keys;
pub mod notice;
pub mod notification;
pub mod page;
pub mod rating;
pub mod rating_queue;
pub mod reorg;
pub mod service;
pub mod staff;
pub mod synthetic;
pub mod task;
pub mod tenant;
pub mod token;
pub mod unit;
pub mod visit;

pub use db::{DatabaseUrl, Store};
pub use rating_queue::RatingQueue;

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist (or is not in this tenant).
    #[error("not found")]
    NotFound,
    /// A uniqueness or state conflict the caller can explain to the user.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Input the store refuses, with a message for the user.
    #[error("invalid: {0}")]
    Invalid(String),
    /// One field the store refuses, named so a form can show the message beside it.
    #[error("invalid {field}: {message}")]
    InvalidField {
        /// The field's name in the API and forms.
        field: &'static str,
        /// The message for the user.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Anything else (migrations, files).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Result of store calls.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A new string id: UUID v7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}
