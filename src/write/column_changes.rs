//! A measurement column dropped or renamed: the table's files that hold it are rewritten
//! to match the table (see `tsparquet_core::column_change`), in the transaction of the
//! `ALTER TABLE`, so a rolled-back change leaves them as they were.

use pgrx::check_for_interrupts;
use tsparquet_core::column_change::ColumnChange;
use tsparquet_core::schema::TableSchema;

use super::store::replace;
use crate::catalog::files;
use crate::errors;

/// Rewrites each file of the table `table_id` that holds the changed column, one at a time
/// so that memory is bounded by the largest file; `schema` is the table's after the change.
pub fn follow(table_id: i64, schema: &TableSchema, change: &ColumnChange) {
    for file_id in files::holding_column(table_id, change.stored_name()) {
        check_for_interrupts!();
        replace(table_id, &[file_id], |batches| {
            change.apply(batches, schema)
        })
        .unwrap_or_else(|e| errors::raise(&e));
    }
}
