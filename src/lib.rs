//! tsparquet: InfluxDB-style time series in PostgreSQL.
//!
//! This crate is the Postgres glue: SQL functions, errors raised as Postgres errors, and
//! (as they arrive) the foreign data wrapper, hooks and settings. The logic itself lives in
//! `tsparquet-core`, which never touches Postgres.
#![deny(ffi_unwind_calls)]

mod catalog;
mod copy;
mod errors;
mod fdw;
mod functions;
mod settings;
mod write;

/// Rust's own allocations (DataFusion's plans and batches, parsed lines) come from mimalloc;
/// Postgres' memory contexts stay on glibc's malloc. A short query makes tens of thousands of
/// small allocations, in which glibc's malloc spent a sixth of the backend's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

::pgrx::pg_module_magic!(name, version);

pgrx::extension_sql_file!("../sql/finalize.sql", name = "finalize", finalize);

#[pgrx::pg_guard]
pub extern "C-unwind" fn _PG_init() {
    settings::register();
    copy::install_hook();
    functions::install_planner_hook();
    fdw::install_invalidation();
    fdw::install_replanning();
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec!["timezone = 'UTC'", "shared_preload_libraries = 'tsparquet'"]
    }
}
