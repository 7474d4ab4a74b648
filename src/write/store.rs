//! Stores the points of one measurement: creates or extends its table and writes its files.

use arrow::array::RecordBatch;
use bytes::Bytes;
use tsparquet_core::batch::{collides, merge, DayBatch};
use tsparquet_core::ingest::{Existing, MeasurementWrite};
use tsparquet_core::parquet_file::{self, FileReader, StorageError};
use tsparquet_core::schema::TableSchema;

use crate::catalog::{files, measurements};
use crate::errors;

/// Creates or extends the measurement's table and stores its points as files.
pub fn store(database: &str, measurement: &str, write: MeasurementWrite) {
    let existing_table = match &write.existing {
        Existing::Table {
            schema: before,
            table_id,
        } => {
            let added = &write.schema.columns()[before.columns().len()..];
            measurements::add_columns(database, measurement, added);
            Some(*table_id)
        }
        _ => None,
    };
    let table_id = existing_table
        .unwrap_or_else(|| measurements::create(database, measurement, &write.schema));
    for day in write.batch.finish(&write.schema) {
        if existing_table.is_some() {
            store_beside_existing(table_id, day, &write.schema);
        } else {
            store_file(table_id, &day);
        }
    }
}

/// Stores a day's batch next to the files it overlaps in time. Where rows share a series
/// and time with stored ones, the files are merged and replaced, so that reads see one row
/// per series and time.
fn store_beside_existing(table_id: i64, day: DayBatch, schema: &TableSchema) {
    let overlapping = files::in_time_range(table_id, day.min_time_ns, day.max_time_ns);
    if overlapping.is_empty() {
        return store_file(table_id, &day);
    }
    let ids: Vec<i64> = overlapping.iter().map(|f| f.file_id).collect();
    let files: Vec<Bytes> = overlapping
        .into_iter()
        .map(|f| Bytes::from(f.data))
        .collect();
    let stored_keys = read(&files, FileReader::read_keys);
    if !collides(&stored_keys, &day) {
        return store_file(table_id, &day);
    }
    let stored_batches = read(&files, FileReader::read_all);
    let mut in_order: Vec<_> = stored_batches.iter().collect();
    in_order.push(&day.batch);
    files::delete(&ids);
    for merged in merge(&in_order, schema) {
        store_file(table_id, &merged);
    }
}

fn read(
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

fn store_file(table_id: i64, day: &DayBatch) {
    let data = parquet_file::write(&day.batch).unwrap_or_else(|e| errors::raise(&e));
    files::insert(table_id, day, &data);
}
