//! Pure domain rules of bizenv: validated types, the working-day calendar and the clock
//! abstraction. No I/O, no web, no database: everything here is testable by value.

pub mod account;
pub mod calendar;
pub mod clock;
pub mod deadline;
pub mod enterprise;
pub mod finding;
pub mod history;
pub mod notify;
pub mod org;
pub mod reorg;
pub mod staff;
pub mod task;
pub mod upload;
pub mod uscc;
