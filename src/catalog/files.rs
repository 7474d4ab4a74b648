//! Rows of `tsparquet.files`: the Parquet files of every measurement.

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;
use tsparquet_core::batch::{DayBatch, ROLE_METADATA_KEY};
use tsparquet_core::compact::{self, FileSummary};
use tsparquet_core::time_range::NanosRange;

use super::as_extension_owner;
use super::statements::{self, Row};

/// A stored file.
pub struct StoredFile {
    pub file_id: i64,
    pub data: Vec<u8>,
}

/// Stores one day's file of a measurement; returns the file's id.
pub fn insert(table_id: i64, day: &DayBatch, data: &[u8]) -> i64 {
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
        statements::change(
            c"INSERT INTO tsparquet.files
                 (table_id, min_time_ns, max_time_ns, row_count, byte_size, memory_size,
                  columns, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING file_id",
            &[
                table_id.into(),
                day.min_time_ns.into(),
                day.max_time_ns.into(),
                (day.batch.num_rows() as i64).into(),
                (data.len() as i64).into(),
                compact::memory_size(&day.batch).into(),
                JsonB(serde_json::Value::Array(columns)).into(),
                data.into(),
            ],
            |row| row.get::<i64>(1),
        )
        .into_iter()
        .next()
        .flatten()
        .expect("the insert returns the file's id")
    })
}

/// The files of a table whose time range meets `[min_time_ns, max_time_ns]`, but for the
/// files `except`, oldest first; all of them for the full range.
pub fn in_time_range(
    table_id: i64,
    min_time_ns: i64,
    max_time_ns: i64,
    except: &[i64],
) -> Vec<StoredFile> {
    stored_files(
        c"SELECT file_id, data FROM tsparquet.files
          WHERE table_id = $1 AND max_time_ns >= $2 AND min_time_ns <= $3
            AND file_id <> ALL ($4)
          ORDER BY file_id",
        &[
            table_id.into(),
            min_time_ns.into(),
            max_time_ns.into(),
            except.to_vec().into(),
        ],
    )
}

/// The files `file_ids`, oldest first.
pub fn with_ids(file_ids: &[i64]) -> Vec<StoredFile> {
    stored_files(
        c"SELECT file_id, data FROM tsparquet.files WHERE file_id = ANY ($1) ORDER BY file_id",
        &[file_ids.to_vec().into()],
    )
}

/// The ids of a table's files that hold a column named one of `columns`, oldest first.
pub fn holding_columns(table_id: i64, columns: &[&str]) -> Vec<i64> {
    as_extension_owner(|| {
        statements::query(
            c"SELECT file_id FROM tsparquet.files f
              WHERE table_id = $1
                AND EXISTS (SELECT FROM pg_catalog.jsonb_array_elements(f.columns) c
                            WHERE c ->> 'name' = ANY ($2))
              ORDER BY file_id",
            &[table_id.into(), columns.to_vec().into()],
            |row| row.get::<i64>(1).expect("file_id is not null"),
        )
    })
}

/// Stored files as the transaction sees them (see [`statements::query`]).
fn stored_files(
    sql: &'static std::ffi::CStr,
    args: &[pgrx::datum::DatumWithOid<'_>],
) -> Vec<StoredFile> {
    as_extension_owner(|| {
        statements::query(sql, args, |row| StoredFile {
            file_id: row.get(1).expect("file_id is not null"),
            data: row.get(2).expect("data is not null"),
        })
    })
}

/// What compaction needs to know of each file of a table whose time range meets
/// `[min_time_ns, max_time_ns]`, with the transaction's own changes (see
/// [`statements::query`]).
pub fn summaries(table_id: i64, min_time_ns: i64, max_time_ns: i64) -> Vec<FileSummary> {
    as_extension_owner(|| {
        statements::query(
            c"SELECT file_id, min_time_ns, row_count, memory_size FROM tsparquet.files
              WHERE table_id = $1 AND max_time_ns >= $2 AND min_time_ns <= $3",
            &[table_id.into(), min_time_ns.into(), max_time_ns.into()],
            |row| FileSummary {
                file_id: row.get(1).expect("file_id is not null"),
                min_time_ns: row.get(2).expect("min_time_ns is not null"),
                row_count: row.get(3).expect("row_count is not null"),
                memory_size: row.get(4).expect("memory_size is not null"),
            },
        )
    })
}

/// The names and (Arrow) types of the columns each of the files `file_ids` was written
/// with.
pub fn column_types(file_ids: &[i64]) -> Vec<(i64, Vec<(String, String)>)> {
    as_extension_owner(|| {
        statements::query(
            c"SELECT f.file_id, c ->> 'name', c ->> 'type'
              FROM tsparquet.files f, jsonb_array_elements(f.columns) c
              WHERE f.file_id = ANY ($1)
              ORDER BY f.file_id",
            &[file_ids.to_vec().into()],
            |row| {
                let id: i64 = row.get(1).expect("file_id is not null");
                let name: String = row.get(2).expect("a column has a name");
                let kind: String = row.get(3).expect("a column has a type");
                (id, name, kind)
            },
        )
    })
    .chunk_by(|a, b| a.0 == b.0)
    .map(|columns| {
        let id = columns[0].0;
        let columns = columns
            .iter()
            .map(|(_, name, kind)| (name.clone(), kind.clone()))
            .collect();
        (id, columns)
    })
    .collect()
}

/// A stored file's identity for caches: its id, and the catalog table it is in (a
/// recreated extension starts its ids again in a new table).
pub type FileKey = (u32, i64);

/// A stored file as a scan lists it: its key, its size in bytes and the range of its
/// times (nanoseconds since 1970).
#[derive(Debug, Clone, Copy)]
pub struct ListedFile {
    pub key: FileKey,
    pub size: u64,
    pub times: (i64, i64),
}

/// The table's files whose time range meets `[min_time_ns, max_time_ns]`, oldest first,
/// as `snapshot` (a query's) sees them. A scan must not see files its own transaction
/// wrote or replaced after the query started (a cursor read after a write), which a plain
/// SPI query would once the transaction has written.
pub fn in_time_range_as_of(
    table_id: i64,
    min_time_ns: i64,
    max_time_ns: i64,
    snapshot: pg_sys::Snapshot,
) -> Vec<ListedFile> {
    select_as_of(
        c"SELECT tableoid, file_id, byte_size, min_time_ns, max_time_ns FROM tsparquet.files
          WHERE table_id = $1 AND max_time_ns >= $2 AND min_time_ns <= $3 ORDER BY file_id",
        &[table_id.into(), min_time_ns.into(), max_time_ns.into()],
        snapshot,
        |row| ListedFile {
            key: (
                row.get::<pg_sys::Oid>(1).expect("tableoid").to_u32(),
                row.get::<i64>(2).expect("file_id is not null"),
            ),
            size: row.get::<i64>(3).expect("byte_size is not null") as u64,
            times: (
                row.get::<i64>(4).expect("min_time_ns is not null"),
                row.get::<i64>(5).expect("max_time_ns is not null"),
            ),
        },
    )
}

/// The bytes of the files `file_ids`, with their ids, as `snapshot` sees them.
pub fn data_as_of(file_ids: &[i64], snapshot: pg_sys::Snapshot) -> Vec<(i64, Vec<u8>)> {
    select_as_of(
        c"SELECT file_id, data FROM tsparquet.files WHERE file_id = ANY ($1)",
        &[file_ids.to_vec().into()],
        snapshot,
        |row| {
            (
                row.get::<i64>(1).expect("file_id is not null"),
                row.get::<Vec<u8>>(2).expect("data is not null"),
            )
        },
    )
}

/// The bytes of ranges of stored files, each (file id, first byte, length), in their
/// order, as `snapshot` sees them (None for a file it does not see). Files are stored
/// uncompressed out of line, so Postgres reads only the chunks of a file that hold a range.
pub fn ranges_as_of(
    ranges: &[(i64, i64, i64)],
    snapshot: pg_sys::Snapshot,
) -> Vec<Option<Vec<u8>>> {
    let column = |pick: fn(&(i64, i64, i64)) -> i64| ranges.iter().map(pick).collect::<Vec<_>>();
    select_as_of(
        c"SELECT substring(f.data FROM (r.start + 1)::int FOR r.length::int)
          FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) WITH ORDINALITY
               AS r(file_id, start, length, n)
          LEFT JOIN tsparquet.files f USING (file_id) ORDER BY r.n",
        &[
            column(|r| r.0).into(),
            column(|r| r.1).into(),
            column(|r| r.2).into(),
        ],
        snapshot,
        |row| row.get::<Vec<u8>>(1),
    )
}

/// Runs a read-only query on the extension's catalog under `snapshot`, as its owner.
fn select_as_of<T>(
    sql: &'static std::ffi::CStr,
    args: &[pgrx::datum::DatumWithOid<'_>],
    snapshot: pg_sys::Snapshot,
    row: impl Fn(&Row) -> T,
) -> Vec<T> {
    as_extension_owner(|| statements::select(sql, args, snapshot, row))
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

/// How many files a table has.
pub fn count(table_id: i64) -> i64 {
    one_number(
        c"SELECT count(*) FROM tsparquet.files WHERE table_id = $1",
        table_id,
    )
}

/// What the planner needs of the files of a table whose time range meets `range`: the rows
/// they store (for its estimates, and to bound what a query reads) and their earliest and
/// latest stored times, if any. As of now rather than as of the statement's snapshot: a
/// summary kept until the table's next invalidation must include every commit whose
/// invalidation this backend has already heard.
pub fn planner_summary(table_id: i64, range: NanosRange) -> (i64, Option<(i64, i64)>) {
    as_extension_owner(|| {
        // SAFETY: a snapshot of now, which SPI copies for the statement it runs.
        let now = unsafe { pg_sys::GetLatestSnapshot() };
        statements::select(
            c"SELECT coalesce(sum(row_count), 0)::bigint, min(min_time_ns), max(max_time_ns) \
              FROM tsparquet.files \
              WHERE table_id = $1 AND max_time_ns >= $2 AND min_time_ns <= $3",
            &[table_id.into(), range.min.into(), range.max.into()],
            now,
            |row| {
                let range = row.get::<i64>(2).zip(row.get::<i64>(3));
                (row.get::<i64>(1).unwrap_or(0), range)
            },
        )
    })
    .into_iter()
    .next()
    .unwrap_or((0, None))
}

/// The number a one-row query of a table's files gives.
fn one_number(sql: &'static std::ffi::CStr, table_id: i64) -> i64 {
    as_extension_owner(|| statements::value(sql, &[table_id.into()])).unwrap_or(0)
}
