//! `tsparquet.follow_column_changes()`: the event trigger behind `ALTER TABLE` on
//! measurement tables. A dropped or renamed column's files are rewritten to match the
//! table (`crate::write::column_changes`); `time` and `time_ns`, which every measurement
//! has under those names, cannot be dropped or renamed; a column's type cannot be
//! changed, since its stored data keeps the type it was written with, nor can the options
//! that say what the files hold (`role`, `table_id`); and an added column must be a tag or
//! a field, or the table could take no more points.

use std::ffi::CStr;

use pgrx::prelude::*;
use pgrx::{PgList, PgSqlErrorCode};
use tsparquet_core::column_change::ColumnChange;
use tsparquet_core::ingest::Existing;
use tsparquet_core::schema::{TIME_COLUMN, TIME_NS_COLUMN};
use tsparquet_core::sql_text::quote_identifier;

use crate::catalog::{lock_measurement, measurements, with_safe_search_path};
use crate::errors::report;
use crate::write::column_changes;

static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

#[no_mangle]
pub extern "C" fn pg_finfo_tsparquet_follow_column_changes() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

/// Runs on `sql_drop` (for dropped columns) and on `ddl_command_end` of `ALTER TABLE` and
/// `ALTER FOREIGN TABLE` (for renamed and retyped columns).
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn tsparquet_follow_column_changes(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: Postgres passes the call's context: event trigger data when run as one.
    let context = unsafe { (*fcinfo).context };
    if context.is_null() || !unsafe { pgrx::is_a(context, pg_sys::NodeTag::T_EventTriggerData) } {
        report(
            PgSqlErrorCode::ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED,
            "tsparquet.follow_column_changes() runs only as an event trigger",
            None,
            None,
        );
    }
    // SAFETY: checked to be event trigger data, which lives for the call.
    let data = unsafe { &*(context as *const pg_sys::EventTriggerData) };
    // SAFETY: the event's name, a C string.
    let event = unsafe { CStr::from_ptr(data.event) };
    match event.to_bytes() {
        b"sql_drop" => with_safe_search_path(|| {
            for (table, columns) in measurements::dropped_columns() {
                let drops: Vec<ColumnChange> =
                    columns.into_iter().map(ColumnChange::Dropped).collect();
                follow(table, &drops);
            }
        }),
        // SAFETY: the statement's parse tree, which lives for the call.
        b"ddl_command_end" => unsafe { altered(data.parsetree) },
        _ => {}
    }
    pg_sys::Datum::from(0)
}

/// Renamed columns are followed, and retyped ones and added ones that are neither a tag nor
/// a field refused, in the altered table and in the tables that inherit its columns.
unsafe fn altered(statement: *mut pg_sys::Node) {
    // SAFETY: a parse tree node; its type is checked before it is read as one.
    unsafe {
        if pgrx::is_a(statement, pg_sys::NodeTag::T_RenameStmt) {
            let rename = &*(statement as *const pg_sys::RenameStmt);
            if rename.renameType != pg_sys::ObjectType::OBJECT_COLUMN {
                return;
            }
            let change = ColumnChange::Renamed {
                from: text(rename.subname),
                to: text(rename.newname),
            };
            let Some(named) = relation_oid(rename.relation) else {
                return;
            };
            with_safe_search_path(|| {
                for table in measurements::with_inheritors(named) {
                    follow(table, std::slice::from_ref(&change));
                }
            });
        } else if pgrx::is_a(statement, pg_sys::NodeTag::T_AlterTableStmt) {
            let alter = &*(statement as *const pg_sys::AlterTableStmt);
            let commands = PgList::<pg_sys::AlterTableCmd>::from_pg(alter.cmds);
            let retyped = commands
                .iter_ptr()
                .find(|c| (**c).subtype == pg_sys::AlterTableType::AT_AlterColumnType)
                .map(|c| text((*c).name));
            let added = commands
                .iter_ptr()
                .any(|c| (*c).subtype == pg_sys::AlterTableType::AT_AddColumn);
            let changed_option = commands.iter_ptr().find_map(|c| changed_option(&*c));
            if retyped.is_none() && !added && changed_option.is_none() {
                return;
            }
            let Some(named) = relation_oid(alter.relation) else {
                return;
            };
            with_safe_search_path(|| {
                for table in measurements::with_inheritors(named) {
                    let Some((database, measurement)) = measurements::measurement_names(table)
                    else {
                        continue;
                    };
                    // Options are the named table's own: they do not recurse.
                    if let Some(option) = changed_option.as_ref().filter(|_| table == named) {
                        refuse_option_change(option, &database, &measurement);
                    }
                    if let Some(column) = &retyped {
                        report(
                            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                            &format!(
                                "cannot change the type of column {} of measurement {}.{}",
                                quote_identifier(column),
                                quote_identifier(&database),
                                quote_identifier(&measurement)
                            ),
                            Some("Its stored data keeps the type it was written with."),
                            Some("Add a column of the new type, or write the values under another field name."),
                        );
                    }
                    if let Existing::Unusable(reason) = measurements::find(&database, &measurement)
                    {
                        report(
                            PgSqlErrorCode::ERRCODE_INVALID_COLUMN_DEFINITION,
                            &reason,
                            None,
                            Some("A measurement's columns are tags (text, OPTIONS (role 'tag')) and fields (double precision, bigint, numeric(20,0), text or boolean, OPTIONS (role 'field'))."),
                        );
                    }
                }
            });
        }
    }
}

/// An option a command sets to another value or drops: a column's `role` or the table's
/// `table_id`, as (option, column). They say what the stored files hold, which a new value
/// would not change. Adding one is allowed: pg_dump's output adds the columns' options after
/// creating the table.
unsafe fn changed_option(command: &pg_sys::AlterTableCmd) -> Option<(String, Option<String>)> {
    let column = match command.subtype {
        pg_sys::AlterTableType::AT_AlterColumnGenericOptions => {
            // SAFETY: the command's column name, a C string.
            Some(unsafe { text(command.name) })
        }
        pg_sys::AlterTableType::AT_GenericOptions => None,
        _ => return None,
    };
    // SAFETY: the options of a generic-options command are a list of DefElems.
    let options = unsafe { PgList::<pg_sys::DefElem>::from_pg(command.def as *mut pg_sys::List) };
    let changed = options.iter_ptr().find(|option| {
        // SAFETY: a DefElem of the list.
        let action = unsafe { (**option).defaction };
        action == pg_sys::DefElemAction::DEFELEM_SET
            || action == pg_sys::DefElemAction::DEFELEM_DROP
    })?;
    // SAFETY: the DefElem's name, a C string.
    Some((unsafe { text((*changed).defname) }, column))
}

fn refuse_option_change(
    (option, column): &(String, Option<String>),
    database: &str,
    measurement: &str,
) -> ! {
    let of_column = column
        .as_deref()
        .map(|c| format!(" of column {}", quote_identifier(c)))
        .unwrap_or_default();
    report(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        &format!(
            "cannot change option {option}{of_column} of measurement {}.{}",
            quote_identifier(database),
            quote_identifier(measurement)
        ),
        Some("The measurement's stored files were written for the value it has."),
        column.is_some().then_some(
            "To make a tag a field or a field a tag, write its values under a new name.",
        ),
    );
}

/// The table a statement names, found as the statement found it (with the caller's
/// `search_path`); None once it is gone.
unsafe fn relation_oid(relation: *mut pg_sys::RangeVar) -> Option<pg_sys::Oid> {
    // SAFETY: the statement has run, holding its lock on the table; a table it no longer
    // finds gives InvalidOid.
    let table = unsafe {
        pg_sys::RangeVarGetRelidExtended(
            relation,
            pg_sys::NoLock as pg_sys::LOCKMODE,
            pg_sys::RVROption::RVR_MISSING_OK,
            None,
            std::ptr::null_mut(),
        )
    };
    (table != pg_sys::Oid::INVALID).then_some(table)
}

/// Columns of `table` changed by one statement: if it is a measurement, its files follow.
fn follow(table: pg_sys::Oid, changes: &[ColumnChange]) {
    let Some((database, name)) = measurements::measurement_names(table) else {
        return;
    };
    for change in changes {
        let column = change.stored_name();
        if column == TIME_COLUMN || column == TIME_NS_COLUMN {
            let verb = match change {
                ColumnChange::Dropped(_) => "drop",
                ColumnChange::Renamed { .. } => "rename",
            };
            report(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                &format!(
                    "cannot {verb} column {} of measurement {}.{}",
                    quote_identifier(column),
                    quote_identifier(&database),
                    quote_identifier(&name)
                ),
                Some("Every measurement table has the columns time and time_ns."),
                None,
            );
        }
    }
    lock_measurement(&database, &name);
    // Read after the lock, as writers read it: columns a writer added before are seen.
    if let Existing::Table { schema, table_id } = measurements::find(&database, &name) {
        column_changes::follow(table_id, &schema, changes);
    }
}

unsafe fn text(name: *const std::ffi::c_char) -> String {
    // SAFETY: a C string of the parse tree.
    unsafe { CStr::from_ptr(name) }
        .to_string_lossy()
        .into_owned()
}
