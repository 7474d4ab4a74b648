//! Merging a measurement's files: all of a day's small files when the owner asks
//! (`tsparquet.compact`), and after each write, the files of a size class that the write
//! filled (`tsparquet.auto_compact`, see `tsparquet_core::compact::automatic_plan`).
//!
//! Both run under the measurement's lock, in the caller's transaction: a rolled-back write
//! leaves its days' files as they were. Queries on older snapshots go on reading the files
//! they started with: the replaced files' rows are deleted, which MVCC hides only from
//! later snapshots.

use std::collections::BTreeSet;

use pgrx::check_for_interrupts;
use tsparquet_core::batch::table_arrow_schema;
use tsparquet_core::compact::{self, ConflictingColumn};
use tsparquet_core::schema::TableSchema;

use super::store::replace;
use crate::catalog::files;
use crate::settings::AUTO_COMPACT;

/// Replaces the files `group` of a table by one file of their rows.
pub fn merge(table_id: i64, schema: &TableSchema, group: &[i64]) -> Result<(), ConflictingColumn> {
    replace(table_id, group, |batches| {
        compact::merge_files(batches, schema)
    })
}

/// Merges the files of each size class that has filled up in the UTC `days` a write has
/// just stored into, until none has. Files that disagree with the table on a column's type
/// are left as they are, found from the catalog before anything is read: the write goes
/// on, and `tsparquet.compact` names the column.
pub fn after_write(table_id: i64, schema: &TableSchema, days: &BTreeSet<i64>) {
    if !AUTO_COMPACT.get() {
        return;
    }
    let table = table_arrow_schema(schema);
    let mut unmergeable: Vec<i64> = Vec::new();
    loop {
        let stored: Vec<_> = days
            .iter()
            .flat_map(|day| {
                let (start, end) = compact::day_bounds(*day);
                files::summaries(table_id, start, end)
            })
            .filter(|file| !unmergeable.contains(&file.file_id))
            .collect();
        let groups = compact::automatic_plan(&stored, table.fields().len());
        if groups.is_empty() {
            return;
        }
        for group in groups {
            check_for_interrupts!();
            let conflicting = compact::conflicting_files(&table, &files::column_types(&group));
            let mergeable: Vec<i64> = group
                .into_iter()
                .filter(|id| !conflicting.contains(id))
                .collect();
            unmergeable.extend(conflicting);
            if mergeable.len() > 1 && merge(table_id, schema, &mergeable).is_err() {
                unmergeable.extend(mergeable);
            }
        }
    }
}
