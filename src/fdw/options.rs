//! Options of measurement tables (`table_id`) and their columns (`role`).

use pgrx::prelude::*;
use pgrx::{PgList, PgSqlErrorCode};
use tsparquet_core::sql_text::quote_identifier;

/// Checks one option: an unknown name or a bad value is an error with its SQLSTATE.
pub fn validate(
    catalog: pg_sys::Oid,
    name: &str,
    value: &str,
) -> Result<(), (PgSqlErrorCode, String)> {
    let bad_value =
        |message: String| Err((PgSqlErrorCode::ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE, message));
    match (catalog, name) {
        // Written as the catalog compares it ('table_id=7'): "07" or "+7" would name the
        // files of 7 without matching it.
        (pg_sys::ForeignTableRelationId, "table_id") => match value.parse::<i64>() {
            Ok(id) if id > 0 && id.to_string() == value => Ok(()),
            _ => bad_value(format!(
                "invalid table_id \"{value}\": it must be a positive integer without sign or leading zeros"
            )),
        },
        (pg_sys::AttributeRelationId, "role") => match value {
            "tag" | "field" | "time" | "time_ns" => Ok(()),
            _ => bad_value(format!(
                "invalid role \"{value}\": use tag, field, time or time_ns"
            )),
        },
        _ => Err((
            PgSqlErrorCode::ERRCODE_FDW_INVALID_OPTION_NAME,
            format!("tsparquet has no option \"{name}\" here"),
        )),
    }
}

/// A `table_id` given to a table (by `CREATE FOREIGN TABLE` or `ALTER ... OPTIONS`) names the
/// stored files of a measurement, which the table's privileges then open. Only a role acting
/// for the extension may give one (the extension creating a measurement, a superuser
/// restoring a dump), and never one that another table has.
pub fn check_table_id_given(table_id: i64) {
    if !crate::catalog::acts_for_extension() {
        crate::errors::report(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            "permission denied to give a table the option table_id",
            Some("A table_id names a measurement's stored files: only a superuser may give one."),
            Some("Measurement tables are created by writing line protocol to their database."),
        );
    }
    let holder = crate::catalog::with_safe_search_path(|| {
        crate::catalog::measurements::holding_table_id(table_id)
    });
    if let Some((database, measurement)) = holder {
        crate::errors::report(
            PgSqlErrorCode::ERRCODE_DUPLICATE_OBJECT,
            &format!(
                "table_id {table_id} is already the table_id of {}.{}",
                quote_identifier(&database),
                quote_identifier(&measurement)
            ),
            Some("Two tables with one table_id would read and change the same stored files."),
            None,
        );
    }
}

/// The value of the option `name` in a list of FDW options.
fn option_value(options: *mut pg_sys::List, name: &str) -> Option<String> {
    // SAFETY: FDW option lists hold DefElems with string values.
    unsafe {
        PgList::<pg_sys::DefElem>::from_pg(options)
            .iter_ptr()
            .find(|option| {
                std::ffi::CStr::from_ptr((**option).defname).to_bytes() == name.as_bytes()
            })
            .map(|option| {
                std::ffi::CStr::from_ptr(pg_sys::defGetString(option))
                    .to_string_lossy()
                    .into_owned()
            })
    }
}

/// The `table_id` option of a measurement table.
pub fn table_id(relation: pg_sys::Oid) -> i64 {
    // SAFETY: the relation is a foreign table of this wrapper; Postgres raises an error
    // itself if it is not a foreign table.
    let options = unsafe { (*pg_sys::GetForeignTable(relation)).options };
    if let Some(id) = option_value(options, "table_id").and_then(|v| v.parse().ok()) {
        return id;
    }
    crate::errors::report(
        PgSqlErrorCode::ERRCODE_FDW_OPTION_NAME_NOT_FOUND,
        "this tsparquet table has no table_id option",
        None,
        Some("Measurement tables are created by tsparquet.write_lp."),
    )
}

/// The `role` option of a measurement table's column: tag, field, time or time_ns.
pub fn column_role(relation: pg_sys::Oid, attnum: i16) -> Option<String> {
    // SAFETY: a catalog lookup of a column's options.
    option_value(
        unsafe { pg_sys::GetForeignColumnOptions(relation, attnum) },
        "role",
    )
}
