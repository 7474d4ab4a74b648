//! A measurement column dropped or renamed: the table's files that hold it are rewritten
//! to match the table (see `tsparquet_core::column_change`), in the transaction of the
//! `ALTER TABLE`, so a rolled-back change leaves them as they were.

use pgrx::check_for_interrupts;
use tsparquet_core::column_change::{self, ColumnChange};
use tsparquet_core::schema::TableSchema;

use super::store::replace;
use crate::catalog::files;
use crate::errors;

/// Rewrites each file of the table `table_id` that holds a changed column, once for all
/// of a statement's `changes` and one file at a time, so that memory is bounded by the
/// largest file; `schema` is the table's after the changes.
pub fn follow(table_id: i64, schema: &TableSchema, changes: &[ColumnChange]) {
    let names: Vec<&str> = changes.iter().map(ColumnChange::stored_name).collect();
    for file_id in files::holding_columns(table_id, &names) {
        check_for_interrupts!();
        replace(table_id, &[file_id], |batches| {
            column_change::apply(changes, batches, schema)
        })
        .unwrap_or_else(|e| errors::raise(&e));
    }
}
