//! Stores the points of one measurement: creates or extends its table and inserts its
//! files, merging them with stored files only where rows share a series and time.

use arrow::array::RecordBatch;
use bytes::Bytes;
use tsparquet_core::batch::{collides, merge};
use tsparquet_core::ingest::Existing;
use tsparquet_core::parquet_file::{self, FileReader, StorageError};
use tsparquet_core::prepare::EncodedDay;
use tsparquet_core::schema::TableSchema;

use crate::catalog::{files, measurements};
use crate::errors;

/// Creates the table (or adds the columns `schema` has beyond the existing ones) and
/// stores `days`, in order: where two hold the same series and time, the later one wins.
pub fn store(
    database: &str,
    measurement: &str,
    existing: &Existing,
    schema: &TableSchema,
    days: Vec<EncodedDay>,
) {
    let (table_id, fresh) = match existing {
        Existing::Table {
            schema: before,
            table_id,
        } => {
            measurements::add_columns(
                database,
                measurement,
                &schema.columns()[before.columns().len()..],
            );
            (*table_id, false)
        }
        _ => (measurements::create(database, measurement, schema), true),
    };
    // A table made by this write holds only the files stored here, whose ranges are known.
    let mut stored: Vec<(i64, i64)> = Vec::new();
    for day in days {
        let range = (day.day.min_time_ns, day.day.max_time_ns);
        let overlaps = stored
            .iter()
            .any(|&(min, max)| range.0 <= max && min <= range.1);
        if fresh && !overlaps {
            files::insert(table_id, &day.day, &day.parquet);
        } else {
            store_beside_existing(table_id, day, schema);
        }
        stored.push(range);
    }
}

/// Stores a day's file next to the files it overlaps in time. Where rows share a series
/// and time with stored ones, the files are merged and replaced, so that reads see one row
/// per series and time.
fn store_beside_existing(table_id: i64, day: EncodedDay, schema: &TableSchema) {
    let overlapping = files::in_time_range(table_id, day.day.min_time_ns, day.day.max_time_ns);
    if overlapping.is_empty() {
        return files::insert(table_id, &day.day, &day.parquet);
    }
    let ids: Vec<i64> = overlapping.iter().map(|f| f.file_id).collect();
    let stored: Vec<Bytes> = overlapping
        .into_iter()
        .map(|f| Bytes::from(f.data))
        .collect();
    let (min, max) = (day.day.min_time_ns, day.day.max_time_ns);
    if !collides(&read(&stored, |f| f.read_keys_between(min, max)), &day.day) {
        return files::insert(table_id, &day.day, &day.parquet);
    }
    let stored_batches = read(&stored, FileReader::read_all);
    let mut in_order: Vec<_> = stored_batches.iter().collect();
    in_order.push(&day.day.batch);
    files::delete(&ids);
    for merged in merge(&in_order, schema) {
        let data = parquet_file::write(&merged.batch).unwrap_or_else(|e| errors::raise(&e));
        files::insert(table_id, &merged, &data);
    }
}

/// The batches of stored `files`, each read by `how`.
pub(crate) fn read(
    files: &[Bytes],
    how: impl Fn(FileReader) -> Result<Vec<RecordBatch>, StorageError>,
) -> Vec<RecordBatch> {
    files
        .iter()
        .flat_map(|data| {
            FileReader::open(data.clone())
                .and_then(&how)
                .unwrap_or_else(|e| errors::raise(&e))
        })
        .collect()
}
