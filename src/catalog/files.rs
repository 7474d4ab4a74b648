//! Rows of `tsparquet.files`: the Parquet files of every measurement.

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;
use tsparquet_core::batch::{DayBatch, ROLE_METADATA_KEY};

use super::{as_extension_owner, select_one};

/// A stored file.
pub struct StoredFile {
    pub file_id: i64,
    pub data: Vec<u8>,
}

/// Stores one day's file of a measurement.
pub fn insert(table_id: i64, day: &DayBatch, data: &[u8]) {
    let columns: Vec<serde_json::Value> = day
        .batch
        .schema()
        .fields()
        .iter()
        .map(|f| {
            json!({
                "name": f.name(),
                "role": f.metadata().get(ROLE_METADATA_KEY).map_or("time", |r| r.as_str()),
                "type": f.data_type().to_string(),
            })
        })
        .collect();
    as_extension_owner(|| {
        Spi::run_with_args(
            "INSERT INTO tsparquet.files
                 (table_id, min_time_ns, max_time_ns, row_count, byte_size, columns, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                table_id.into(),
                day.min_time_ns.into(),
                day.max_time_ns.into(),
                (day.batch.num_rows() as i64).into(),
                (data.len() as i64).into(),
                JsonB(serde_json::Value::Array(columns)).into(),
                data.into(),
            ],
        )
        .expect("insert into tsparquet.files");
    });
}

/// The files of a table whose time range meets `[min_time_ns, max_time_ns]`, oldest first;
/// all of them for the full range.
pub fn in_time_range(table_id: i64, min_time_ns: i64, max_time_ns: i64) -> Vec<StoredFile> {
    as_extension_owner(|| {
        Spi::connect(|client| {
            client
                .select(
                    "SELECT file_id, data FROM tsparquet.files
                     WHERE table_id = $1 AND max_time_ns >= $2 AND min_time_ns <= $3
                     ORDER BY file_id",
                    None,
                    &[table_id.into(), min_time_ns.into(), max_time_ns.into()],
                )
                .expect("read tsparquet.files")
                .map(|row| StoredFile {
                    file_id: row.get(1).expect("file_id").expect("file_id is not null"),
                    data: row.get(2).expect("data").expect("data is not null"),
                })
                .collect()
        })
    })
}

/// The data of a table's files whose time range meets `[min_time_ns, max_time_ns]`, oldest
/// first, as `snapshot` (a query's) sees them. A scan must not see files its own
/// transaction wrote or replaced after the query started (a cursor read after a write),
/// which a plain SPI query would once the transaction has written.
pub fn in_time_range_as_of(
    table_id: i64,
    min_time_ns: i64,
    max_time_ns: i64,
    snapshot: pg_sys::Snapshot,
) -> Vec<Vec<u8>> {
    const QUERY: &std::ffi::CStr = c"SELECT data FROM tsparquet.files
         WHERE table_id = $1 AND max_time_ns >= $2 AND min_time_ns <= $3 ORDER BY file_id";
    as_extension_owner(|| {
        Spi::connect(|_| {
            // SAFETY: a read-only query prepared and run under the caller's snapshot inside
            // this SPI connection; each value is copied out before the connection closes.
            unsafe {
                let mut types = [pg_sys::INT8OID; 3];
                let plan = pg_sys::SPI_prepare(QUERY.as_ptr(), 3, types.as_mut_ptr());
                let mut values = [
                    pg_sys::Datum::from(table_id),
                    pg_sys::Datum::from(min_time_ns),
                    pg_sys::Datum::from(max_time_ns),
                ];
                let status = pg_sys::SPI_execute_snapshot(
                    plan,
                    values.as_mut_ptr(),
                    std::ptr::null(),
                    snapshot,
                    std::ptr::null_mut(),
                    true,
                    false,
                    0,
                );
                assert_eq!(status, pg_sys::SPI_OK_SELECT as i32, "read tsparquet.files");
                let table = pg_sys::SPI_tuptable;
                (0..pg_sys::SPI_processed as usize)
                    .map(|row| {
                        let mut is_null = false;
                        let datum = pg_sys::SPI_getbinval(
                            *(*table).vals.add(row),
                            (*table).tupdesc,
                            1,
                            &mut is_null,
                        );
                        Vec::<u8>::from_datum(datum, is_null).expect("data is not null")
                    })
                    .collect()
            }
        })
    })
}

pub fn delete(file_ids: &[i64]) {
    as_extension_owner(|| {
        Spi::run_with_args(
            "DELETE FROM tsparquet.files WHERE file_id = ANY($1)",
            &[file_ids.to_vec().into()],
        )
        .expect("delete from tsparquet.files");
    });
}

/// Releases every file of a table.
pub fn delete_table(table_id: i64) {
    as_extension_owner(|| {
        Spi::run_with_args(
            "DELETE FROM tsparquet.files WHERE table_id = $1",
            &[table_id.into()],
        )
        .expect("delete from tsparquet.files");
    });
}

/// Rows stored for a table, for the planner's estimates.
/// How many files a table has.
pub fn count(table_id: i64) -> i64 {
    as_extension_owner(|| {
        select_one::<i64>(
            "SELECT count(*) FROM tsparquet.files WHERE table_id = $1",
            &[table_id.into()],
        )
        .unwrap_or(0)
    })
}

pub fn row_count(table_id: i64) -> i64 {
    as_extension_owner(|| {
        select_one::<i64>(
            "SELECT coalesce(sum(row_count), 0)::bigint FROM tsparquet.files WHERE table_id = $1",
            &[table_id.into()],
        )
        .unwrap_or(0)
    })
}
