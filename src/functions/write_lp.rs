//! `tsparquet.write_lp(database, lines, precision, accept_partial)`: writes line protocol
//! into the measurement tables of a database (a schema), creating and extending them.
//!
//! Who may write: a role with CREATE on the target schema (its owner always has it), or,
//! when the schema does not exist yet, a role with CREATE on the current database, which
//! then owns the new schema. Measurement tables belong to the schema's owner.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use pgrx::prelude::*;
use pgrx::{JsonB, PgSqlErrorCode};
use serde_json::json;
use tsparquet_core::batch::{collides, merge, DayBatch};
use tsparquet_core::ingest::{Existing, Ingest, MeasurementWrite};
use tsparquet_core::line_protocol::{measurement_names, ParseOptions, Precision};
use tsparquet_core::parquet_file::{self, FileReader};
use tsparquet_core::schema::{check_table_name, TableSchema};
use tsparquet_core::sql_text::quote_identifier;

use crate::catalog::{files, lock, measurements, select_one, with_safe_search_path};
use crate::errors::{self, report};

/// Rejected lines reported in `errors` (all are counted in `rejected`).
const REPORTED_ERRORS: usize = 100;
/// Rejected lines named in the ERROR of a strict write.
const ERRORS_IN_MESSAGE: usize = 10;

#[allow(clippy::type_complexity)]
#[pg_extern(schema = "tsparquet")]
fn write_lp(
    database: &str,
    lines: &str,
    precision: default!(&str, "'auto'"),
    accept_partial: default!(bool, true),
) -> TableIterator<
    'static,
    (
        name!(written, i64),
        name!(rejected, i64),
        name!(errors, JsonB),
    ),
> {
    let precision: Precision = precision.parse().unwrap_or_else(|e| errors::raise(&e));
    let options = ParseOptions {
        precision,
        now_ns: tsparquet_core::time::now_ns(),
    };
    let (written, rejected, errors) =
        with_safe_search_path(|| write_and_store(database, lines, options, accept_partial));
    TableIterator::once((written, rejected, errors))
}

/// The whole write: returns (written, rejected, errors).
fn write_and_store(
    database: &str,
    lines: &str,
    options: ParseOptions,
    accept_partial: bool,
) -> (i64, i64, JsonB) {
    let ingest = write(database, lines, options, accept_partial);
    let errors: Vec<serde_json::Value> = ingest
        .rejections()
        .iter()
        .map(|r| json!({"line": r.line, "error": r.error, "text": r.text}))
        .collect();
    let row = (
        ingest.written() as i64,
        ingest.rejected() as i64,
        JsonB(errors.into()),
    );
    ingest
        .into_writes()
        .for_each(|(measurement, w)| store(database, &measurement, w));
    row
}

/// Checks privileges, locks and looks up the measurements, and admits the points. Returns
/// the ingest with everything but the stored files.
fn write(database: &str, lines: &str, options: ParseOptions, accept_partial: bool) -> Ingest {
    if let Err(e) = check_table_name("database name", database) {
        report(
            PgSqlErrorCode::ERRCODE_NAME_TOO_LONG,
            &e.to_string(),
            None,
            None,
        );
    }
    if database == "tsparquet" || database == "information_schema" || database.starts_with("pg_") {
        report(
            PgSqlErrorCode::ERRCODE_RESERVED_NAME,
            &format!("\"{database}\" is reserved and cannot be a tsparquet database"),
            None,
            None,
        );
    }
    lock(&format!("{database}\0"));
    ensure_schema(database);

    let names: BTreeSet<String> = measurement_names(lines).map(|m| m.into_owned()).collect();
    let mut existing = BTreeMap::new();
    for name in names {
        lock(&format!("{database}\0{name}"));
        existing.insert(name.clone(), measurements::find(database, &name));
    }
    let mut ingest = Ingest::new(existing, REPORTED_ERRORS);
    ingest.add(lines, options, 1);
    if !accept_partial && ingest.rejected() > 0 {
        let detail: Vec<String> = ingest
            .rejections()
            .iter()
            .take(ERRORS_IN_MESSAGE)
            .map(|r| format!("line {}: {}", r.line, r.error))
            .collect();
        report(
            PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
            &format!(
                "{} line(s) of line protocol could not be written; nothing was written",
                ingest.rejected()
            ),
            Some(&detail.join("\n")),
            Some("Fix the lines named, or write with accept_partial => true to skip bad lines."),
        );
    }
    ingest
}

/// Creates the schema if the caller may, or checks that the caller may write into it.
fn ensure_schema(database: &str) {
    let exists = select_one::<bool>(
        "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
        &[database.into()],
    )
    .unwrap_or(false);
    let (allowed, why) = if exists {
        let allowed = select_one::<bool>(
            "SELECT pg_catalog.has_schema_privilege($1, 'CREATE')",
            &[database.into()],
        );
        (
            allowed,
            format!("permission denied to write into database \"{database}\""),
        )
    } else {
        let allowed = select_one::<bool>(
            "SELECT pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')",
            &[],
        );
        (
            allowed,
            format!("permission denied to create database \"{database}\""),
        )
    };
    if allowed != Some(true) {
        let hint = if exists {
            "Writing line protocol needs CREATE on the schema: GRANT CREATE ON SCHEMA to the writing role."
        } else {
            "Creating a database (a schema) needs CREATE on the current PostgreSQL database."
        };
        report(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            &why,
            None,
            Some(hint),
        );
    }
    if !exists {
        // As the caller, who then owns the schema.
        Spi::run(&format!("CREATE SCHEMA {}", quote_identifier(database))).expect("create schema");
    }
}

/// Creates or extends the measurement's table and stores its points as files.
fn store(database: &str, measurement: &str, write: MeasurementWrite) {
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
    let stored_batches: Vec<_> = overlapping
        .into_iter()
        .flat_map(|f| {
            FileReader::open(Bytes::from(f.data))
                .and_then(FileReader::read_all)
                .unwrap_or_else(|e| errors::raise(&e))
        })
        .collect();
    if !collides(&stored_batches, &day) {
        return store_file(table_id, &day);
    }
    let mut in_order: Vec<_> = stored_batches.iter().collect();
    in_order.push(&day.batch);
    files::delete(&ids);
    for merged in merge(&in_order, schema) {
        store_file(table_id, &merged);
    }
}

fn store_file(table_id: i64, day: &DayBatch) {
    let data = parquet_file::write(&day.batch).unwrap_or_else(|e| errors::raise(&e));
    files::insert(table_id, day, &data);
}
