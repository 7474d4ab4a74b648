//! Stores the points of one measurement: creates or extends its table and inserts its
//! files, merging them with stored files only where rows share a series and time, then
//! merges the small files the write has gathered (see `compaction`).

use std::collections::BTreeSet;

use arrow::array::RecordBatch;
use bytes::Bytes;
use tsparquet_core::batch::{collides, merge_into_stored, repeats_any, DayBatch};
use tsparquet_core::compact;
use tsparquet_core::ingest::Existing;
use tsparquet_core::parquet_file::{self, FileReader, StorageError};
use tsparquet_core::prepare::PreparedDay;
use tsparquet_core::schema::TableSchema;

use super::{compaction, parallel};
use crate::catalog::{files, measurements};
use crate::errors;
use crate::settings::write_threads;

/// Creates the table (or adds the columns `schema` has beyond the existing ones) and
/// stores `days`, in order: where two hold the same series and time, the later one wins.
pub fn store(
    database: &str,
    measurement: &str,
    existing: &Existing,
    schema: &TableSchema,
    days: Vec<PreparedDay>,
) {
    let (table_id, fresh) = table_for(database, measurement, existing, schema);
    store_days(database, measurement, table_id, fresh, schema, days);
}

/// Creates the table, or adds the columns `schema` has beyond the existing ones: its id,
/// and whether it was created now.
pub fn table_for(
    database: &str,
    measurement: &str,
    existing: &Existing,
    schema: &TableSchema,
) -> (i64, bool) {
    match existing {
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
    }
}

/// Stores `days` into the table `table_id`, which has every column of `schema` (and, if
/// `fresh`, no rows yet), in order: where two hold the same series and time, the later one
/// wins. Days without their file are encoded here, when stored as they are.
pub fn store_days(
    database: &str,
    measurement: &str,
    table_id: i64,
    fresh: bool,
    schema: &TableSchema,
    days: Vec<PreparedDay>,
) {
    // The days this call has stored so far, with the id of the file each went into as is.
    // The parts of one write often meet at an instant: their rows are compared here rather
    // than read back from the files just written.
    let mut written: Vec<(Option<i64>, DayBatch)> = Vec::new();
    let touched: BTreeSet<i64> = days.iter().map(|d| d.day.day).collect();
    for PreparedDay { day, parquet } in days {
        let file_id = if repeats_any(written.iter().map(|(_, d)| d), &day) {
            store_beside(table_id, &day, parquet, schema, &[]);
            None
        } else if fresh {
            // Every row of a table made by this call is in `written`.
            Some(insert_as_is(table_id, &day, parquet))
        } else {
            let own: Vec<i64> = written.iter().filter_map(|(id, _)| *id).collect();
            store_beside(table_id, &day, parquet, schema, &own)
        };
        written.push((file_id, day));
    }
    drop(written);
    compaction::after_write(table_id, schema, &touched);
    crate::fdw::files_changed(measurements::oid(database, measurement));
}

/// Stores a day's file next to the stored files it overlaps in time, leaving out the files
/// `except` (whose rows the caller knows the day does not repeat). Where rows share a series
/// and time with stored ones, the day is merged with the files holding those rows, which it
/// replaces, so that reads see one row per series and time. A stored point is in one file
/// only, so the other files stay as they are: a re-sent batch rewrites the files of its own
/// points, not every file of its time range. The id of the day's file if it was stored as is.
fn store_beside(
    table_id: i64,
    day: &DayBatch,
    parquet: Option<Vec<u8>>,
    schema: &TableSchema,
    except: &[i64],
) -> Option<i64> {
    let (min, max) = (day.min_time_ns, day.max_time_ns);
    let overlapping = files::in_time_range(table_id, min, max, except);
    let ids: Vec<i64> = overlapping.iter().map(|f| f.file_id).collect();
    let stored: Vec<Bytes> = overlapping
        .into_iter()
        .map(|f| Bytes::from(f.data))
        .collect();
    let keys = read_each(&stored, |f| f.read_keys_between(min, max));
    let (colliding_ids, colliding): (Vec<i64>, Vec<Bytes>) = ids
        .into_iter()
        .zip(stored)
        .zip(keys)
        .filter(|(_, keys)| collides(keys, day))
        .map(|(file, _)| file)
        .unzip();
    if colliding.is_empty() {
        return Some(insert_as_is(table_id, day, parquet));
    }
    let stored_batches = read(&colliding, FileReader::read_all);
    files::delete(&colliding_ids);
    for merged in merge_into_stored(&stored_batches, day, schema) {
        files::insert(table_id, &merged, &encode(&merged.batch));
    }
    None
}

/// Inserts `day` as one file: `parquet`, or the day encoded now.
fn insert_as_is(table_id: i64, day: &DayBatch, parquet: Option<Vec<u8>>) -> i64 {
    let parquet = parquet.unwrap_or_else(|| encode(&day.batch));
    files::insert(table_id, day, &parquet)
}

/// Stored bytes, or decoded bytes, below which a read, or an encoding, stays on the backend
/// thread: starting threads costs more than they would save.
const BYTES_WORTH_THREADS: usize = 1 << 20;
const DECODED_BYTES_WORTH_THREADS: i64 = 4 << 20;

/// The batches of stored `files`, each read by `how`; the files of a large read are shared
/// out among the write threads.
pub(crate) fn read(
    files: &[Bytes],
    how: impl Fn(FileReader) -> Result<Vec<RecordBatch>, StorageError> + Sync,
) -> Vec<RecordBatch> {
    read_each(files, how).into_iter().flatten().collect()
}

/// The batches of each of the stored `files`, in their order, each read by `how`.
fn read_each(
    files: &[Bytes],
    how: impl Fn(FileReader) -> Result<Vec<RecordBatch>, StorageError> + Sync,
) -> Vec<Vec<RecordBatch>> {
    let bytes: usize = files.iter().map(Bytes::len).sum();
    let threads = if bytes < BYTES_WORTH_THREADS {
        1
    } else {
        write_threads()
    };
    let per_thread = files.len().div_ceil(threads).max(1);
    let how = &how;
    let jobs: Vec<_> = files
        .chunks(per_thread)
        .map(|share| {
            move || -> Result<Vec<Vec<RecordBatch>>, StorageError> {
                share
                    .iter()
                    .map(|data| how(FileReader::open(data.clone())?))
                    .collect()
            }
        })
        .collect();
    parallel::run_all(jobs, None::<fn()>)
        .into_iter()
        .flat_map(|share| share.unwrap_or_else(|e| errors::raise(&e)))
        .collect()
}

/// Replaces the files `file_ids` of the table `table_id` by one file of the rows that
/// `rows` makes of their batches.
pub(crate) fn replace<E>(
    table_id: i64,
    file_ids: &[i64],
    rows: impl FnOnce(&[RecordBatch]) -> Result<DayBatch, E>,
) -> Result<(), E> {
    let stored: Vec<Bytes> = files::with_ids(file_ids)
        .into_iter()
        .map(|file| Bytes::from(file.data))
        .collect();
    let replacement = rows(&read(&stored, FileReader::read_all))?;
    files::delete(file_ids);
    files::insert(table_id, &replacement, &encode(&replacement.batch));
    Ok(())
}

/// `batch` as a stored file; the columns of a large batch are encoded on the write threads.
pub(crate) fn encode(batch: &RecordBatch) -> Vec<u8> {
    let threads = if compact::memory_size(batch) < DECODED_BYTES_WORTH_THREADS {
        1
    } else {
        write_threads()
    };
    parquet_file::write_with(batch, threads, |jobs| parallel::run_all(jobs, None::<fn()>))
        .unwrap_or_else(|e| errors::raise(&e))
}
