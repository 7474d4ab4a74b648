//! The parts of tsparquet that need no Postgres: line protocol parsing now, schema rules,
//! Arrow batch building, Parquet writing and expression translation as they arrive.
//!
//! Nothing here may touch `pg_sys`, so plain `cargo test -p tsparquet-core` covers it in seconds.
#![forbid(unsafe_code)]

pub mod batch;
pub mod byte_ranges;
pub mod column_change;
pub mod compact;
pub mod extreme_rows;
pub mod ingest;
pub mod line_protocol;
pub mod parquet_file;
pub mod parts;
pub mod pending;
pub mod prepare;
pub mod query;
pub mod scan;
pub mod schema;
mod short_eq;
pub mod sql_row;
pub mod sql_text;
#[cfg(test)]
mod test_files;
pub mod time;
pub mod time_range;
