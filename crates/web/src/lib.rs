//! HTTP API and server-rendered pages of bizenv: one folder (module) per feature with its
//! routes, handlers and templates; `routes` merges them into the sitemap.

pub mod accounts;
pub mod appeal;
pub mod appeal_pages;
pub mod appeal_settings;
pub mod assets;
pub mod attachment;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod channels;
pub mod enterprise;
mod enterprise_import;
pub mod error;
pub mod extract;
pub mod group;
pub mod health;
pub mod home;
pub mod i18n;
pub mod import;
pub mod inbox;
pub mod inspection;
pub mod list;
pub mod metrics;
pub mod notice;
pub mod open311;
pub mod openapi;
pub mod org;
pub mod pages;
mod png;
pub mod policy;
pub mod rating;
mod rating_pages;
pub mod reorg;
pub mod routes;
pub mod settings;
pub mod staff;
pub mod startup;
pub mod state;
pub mod task;
pub mod tenant;
pub mod timeline;
mod visit;

pub use startup::{Application, shutdown_signal};
