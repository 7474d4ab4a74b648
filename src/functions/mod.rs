//! The SQL functions of the `tsparquet` schema.

mod column_events;
mod compact;
mod export;
mod first_last;
mod parse_lp;
mod write_lp;
mod write_lp_plan;

pub use write_lp_plan::install_hook as install_planner_hook;

/// The extension's schema. Created by the extension script, so it belongs to the extension
/// and `DROP EXTENSION` removes it. Functions name it with `schema = "tsparquet"`.
#[pgrx::pg_schema]
mod tsparquet {}
