//! Raises errors of the core crate as Postgres errors. Each error type is mapped to its
//! SQLSTATE here, once.

use std::fmt::Display;

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use tsparquet_core::compact::ConflictingColumn;
use tsparquet_core::line_protocol::UnknownPrecision;
use tsparquet_core::parquet_file::StorageError;

/// An error that has a Postgres error code and, where it helps the user, a hint.
pub(crate) trait PgError: Display {
    fn sqlstate(&self) -> PgSqlErrorCode;

    fn hint(&self) -> Option<&str> {
        None
    }

    fn detail(&self) -> Option<&str> {
        None
    }
}

impl PgError for UnknownPrecision {
    fn sqlstate(&self) -> PgSqlErrorCode {
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
    }
}

impl PgError for ConflictingColumn {
    fn sqlstate(&self) -> PgSqlErrorCode {
        PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH
    }

    fn hint(&self) -> Option<&str> {
        Some("The files were left as they were; queries read them as before.")
    }
}

impl PgError for StorageError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        PgSqlErrorCode::ERRCODE_DATA_CORRUPTED
    }
}

/// Raises an ERROR with its SQLSTATE, message and, where they help, detail and hint.
pub(crate) fn report(
    code: PgSqlErrorCode,
    message: &str,
    detail: Option<&str>,
    hint: Option<&str>,
) -> ! {
    emit(PgLogLevel::ERROR, code, message, detail, hint);
    unreachable!("an ERROR report does not return")
}

/// Sends the client a WARNING; the statement goes on.
pub(crate) fn warn(code: PgSqlErrorCode, message: &str, detail: Option<&str>, hint: Option<&str>) {
    emit(PgLogLevel::WARNING, code, message, detail, hint);
}

fn emit(
    level: PgLogLevel,
    code: PgSqlErrorCode,
    message: &str,
    detail: Option<&str>,
    hint: Option<&str>,
) {
    let mut report = ErrorReport::new(code, message.to_owned(), "tsparquet");
    if let Some(detail) = detail {
        report = report.set_detail(detail);
    }
    if let Some(hint) = hint {
        report = report.set_hint(hint);
    }
    report.report(level);
}

/// Raises `error` as a Postgres ERROR. Never returns: Postgres unwinds the statement.
pub(crate) fn raise(error: &impl PgError) -> ! {
    report(
        error.sqlstate(),
        &error.to_string(),
        error.detail(),
        error.hint(),
    )
}
