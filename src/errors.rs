//! Raises errors of the core crate as Postgres errors. Each error type is mapped to its
//! SQLSTATE here, once.

use std::fmt::Display;

use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use tsparquet_core::line_protocol::UnknownPrecision;

/// An error that has a Postgres error code and, where it helps the user, a hint.
pub(crate) trait PgError: Display {
    fn sqlstate(&self) -> PgSqlErrorCode;

    fn hint(&self) -> Option<&str> {
        None
    }
}

impl PgError for UnknownPrecision {
    fn sqlstate(&self) -> PgSqlErrorCode {
        PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE
    }
}

/// Raises `error` as a Postgres ERROR. Never returns: Postgres unwinds the statement.
pub(crate) fn raise(error: &impl PgError) -> ! {
    let mut report = ErrorReport::new(error.sqlstate(), error.to_string(), "tsparquet");
    if let Some(hint) = error.hint() {
        report = report.set_hint(hint);
    }
    report.report(PgLogLevel::ERROR);
    unreachable!("an ERROR report does not return")
}
