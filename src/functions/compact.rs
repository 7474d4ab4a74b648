//! `tsparquet.compact(measurement)`: merges each day's small files of a measurement into
//! larger ones, so that queries open fewer files (see `tsparquet_core::compact`).
//!
//! Maintenance for the table's owner, like `VACUUM`: the rows stay the same. It runs in the
//! caller's transaction and waits for writers of the table (they take the same lock).

use pgrx::prelude::*;
use pgrx::{PgRelation, PgSqlErrorCode};
use tsparquet_core::batch::table_arrow_schema;
use tsparquet_core::compact;
use tsparquet_core::ingest::Existing;

use crate::catalog::{files, lock_measurement, measurements, select_one, with_safe_search_path};
use crate::errors::{self, report};
use crate::write::compaction;

#[pg_extern(schema = "tsparquet")]
fn compact(
    measurement: PgRelation,
) -> TableIterator<'static, (name!(files_before, i64), name!(files_after, i64))> {
    let (before, after) = with_safe_search_path(|| compact_files(&measurement));
    TableIterator::once((before, after))
}

fn compact_files(measurement: &PgRelation) -> (i64, i64) {
    let owner = select_one::<bool>(
        c"SELECT pg_catalog.pg_has_role(relowner, 'USAGE') FROM pg_catalog.pg_class WHERE oid = $1",
        &[measurement.oid().into()],
    );
    if owner != Some(true) {
        report(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            &format!("must be owner of table {}", measurement.name()),
            None,
            Some("Compaction is maintenance for the table's owner, as VACUUM is."),
        );
    }
    let (database, name) = (measurement.namespace(), measurement.name());
    // Writers change the table's files and columns under this lock; the table is read after
    // taking it, so compaction sees every column they added.
    lock_measurement(database, name);
    let Existing::Table { schema, table_id } = measurements::find(database, name) else {
        report(
            PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
            &format!("\"{name}\" is not a tsparquet measurement table"),
            None,
            None,
        );
    };
    let stored = files::summaries(table_id, i64::MIN, i64::MAX);
    let groups = compact::plan(&stored, table_arrow_schema(&schema).fields().len());
    for group in &groups {
        check_for_interrupts!();
        compaction::merge(table_id, &schema, group).unwrap_or_else(|e| errors::raise(&e));
    }
    let replaced: usize = groups.iter().map(|g| g.len() - 1).sum();
    (stored.len() as i64, (stored.len() - replaced) as i64)
}
