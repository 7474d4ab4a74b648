//! `tsparquet.export(measurement, directory)`: writes a measurement's data as ordinary
//! Parquet files, one per stored file, each with every column of the table (NULL where
//! a file predates a column), for pyarrow, DuckDB and other readers.
//!
//! Like server-side `COPY ... TO`, it writes files as the server's operating-system user,
//! so it needs the privileges of `pg_write_server_files`, and SELECT on the table.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use pgrx::prelude::*;
use pgrx::{PgRelation, PgSqlErrorCode};
use tsparquet_core::batch::{conform, table_arrow_schema};
use tsparquet_core::ingest::Existing;
use tsparquet_core::parquet_file::{self, FileReader};

use crate::catalog::{files, measurements, select_one, with_safe_search_path};
use crate::errors::{self, report};

#[pg_extern(schema = "tsparquet")]
fn export(measurement: PgRelation, directory: &str) -> i64 {
    with_safe_search_path(|| export_files(&measurement, Path::new(directory)))
}

fn export_files(measurement: &PgRelation, directory: &Path) -> i64 {
    let allowed = select_one::<bool>(
        c"SELECT pg_catalog.has_table_privilege($1, 'SELECT')
            AND pg_catalog.pg_has_role('pg_write_server_files', 'USAGE')",
        &[measurement.oid().into()],
    );
    if allowed != Some(true) {
        report(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            &format!(
                "permission denied to export \"{}\" to server files",
                measurement.name()
            ),
            None,
            Some(
                "Exporting needs SELECT on the table and the privileges of pg_write_server_files.",
            ),
        );
    }
    if !directory.is_absolute() {
        report(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            "the export directory must be an absolute path",
            None,
            None,
        );
    }
    let Existing::Table { schema, table_id } =
        measurements::find(measurement.namespace(), measurement.name())
    else {
        report(
            PgSqlErrorCode::ERRCODE_WRONG_OBJECT_TYPE,
            &format!(
                "\"{}\" is not a tsparquet measurement table",
                measurement.name()
            ),
            None,
            None,
        );
    };
    let target = Arc::new(table_arrow_schema(&schema));
    let io_error = |what: &str, e: std::io::Error| -> ! {
        report(
            PgSqlErrorCode::ERRCODE_IO_ERROR,
            &format!("{what}: {e}"),
            None,
            None,
        )
    };
    std::fs::create_dir_all(directory).unwrap_or_else(|e| {
        io_error(
            &format!("could not create directory \"{}\"", directory.display()),
            e,
        )
    });
    let stored = files::in_time_range(table_id, i64::MIN, i64::MAX, &[]);
    let count = stored.len() as i64;
    for file in stored {
        let batches = FileReader::open(Bytes::from(file.data))
            .and_then(FileReader::read_all)
            .unwrap_or_else(|e| errors::raise(&e));
        let conformed: Vec<_> = batches.iter().map(|b| conform(b, &target)).collect();
        let whole = arrow::compute::concat_batches(&target, &conformed)
            .expect("conformed batches share the table's schema");
        let data = parquet_file::write(&whole).unwrap_or_else(|e| errors::raise(&e));
        let path = directory.join(parquet_file::export_file_name(
            measurement.name(),
            file.file_id,
        ));
        std::fs::write(&path, data)
            .unwrap_or_else(|e| io_error(&format!("could not write \"{}\"", path.display()), e));
    }
    count
}
