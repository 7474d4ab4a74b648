//! `COPY <database> FROM STDIN|'file' WITH (FORMAT lineprotocol [, PRECISION p]
//! [, ACCEPT_PARTIAL b])`: line protocol streamed into a database, every byte as sent.
//!
//! Postgres' own COPY formats would unescape backslashes, so the statement is taken over
//! in a `ProcessUtility_hook` that speaks the COPY protocol itself. The hook needs the
//! library loaded before the statement arrives: `shared_preload_libraries = 'tsparquet'`.

mod client;
mod file;
mod options;
mod stream;

use std::ffi::{c_char, CStr};

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use tsparquet_core::line_protocol::ParseOptions;

use crate::catalog::with_safe_search_path;
use crate::errors::{report, warn};
use crate::settings::ENABLE_COPY_LINEPROTOCOL;
use crate::write::{LineWriter, ERRORS_IN_MESSAGE};

static mut PREVIOUS_HOOK: pg_sys::ProcessUtility_hook_type = None;

/// Chains the hook in front of any installed before. Called once, as the library loads.
pub fn install_hook() {
    // SAFETY: backends are single-threaded and this runs once, at load time.
    unsafe {
        PREVIOUS_HOOK = pg_sys::ProcessUtility_hook;
        pg_sys::ProcessUtility_hook = Some(process_utility);
    }
}

#[pg_guard]
#[allow(clippy::too_many_arguments)]
unsafe extern "C-unwind" fn process_utility(
    statement: *mut pg_sys::PlannedStmt,
    query_string: *const c_char,
    read_only_tree: bool,
    context: pg_sys::ProcessUtilityContext::Type,
    params: pg_sys::ParamListInfo,
    query_env: *mut pg_sys::QueryEnvironment,
    dest: *mut pg_sys::DestReceiver,
    completion: *mut pg_sys::QueryCompletion,
) {
    // SAFETY: Postgres passes a valid planned utility statement.
    if let Some(copy) = unsafe { lineprotocol_copy(statement) } {
        let written = copy_lineprotocol(copy);
        if !completion.is_null() {
            // SAFETY: the completion record Postgres handed over.
            unsafe {
                (*completion).commandTag = pg_sys::CommandTag::CMDTAG_COPY;
                (*completion).nprocessed = written;
            }
        }
        return;
    }
    // SAFETY: hands the statement on unchanged.
    unsafe {
        match PREVIOUS_HOOK {
            // A hook written in C raises errors by longjmp, never by unwinding: the guard
            // turns them into an unwind through this frame.
            #[allow(ffi_unwind_calls)]
            Some(previous) => pg_sys::submodules::ffi::pg_guard_ffi_boundary(|| {
                previous(
                    statement,
                    query_string,
                    read_only_tree,
                    context,
                    params,
                    query_env,
                    dest,
                    completion,
                )
            }),
            // The bindings guard this call themselves.
            None => pg_sys::standard_ProcessUtility(
                statement,
                query_string,
                read_only_tree,
                context,
                params,
                query_env,
                dest,
                completion,
            ),
        }
    }
}

/// The statement, if it is a COPY with FORMAT lineprotocol that this database's extension
/// should run.
unsafe fn lineprotocol_copy(
    statement: *mut pg_sys::PlannedStmt,
) -> Option<&'static pg_sys::CopyStmt> {
    // SAFETY: the caller passes a valid planned statement.
    let node = unsafe { (*statement).utilityStmt };
    if !unsafe { pgrx::is_a(node, pg_sys::NodeTag::T_CopyStmt) } {
        return None;
    }
    // SAFETY: checked to be a CopyStmt; it lives as long as the statement.
    let copy = unsafe { &*(node as *const pg_sys::CopyStmt) };
    if !options::is_lineprotocol(copy) || !ENABLE_COPY_LINEPROTOCOL.get() {
        return None;
    }
    // SAFETY: a catalog lookup; with missing_ok it returns InvalidOid instead of raising.
    let installed = unsafe { pg_sys::get_extension_oid(c"tsparquet".as_ptr(), true) };
    (installed != pg_sys::Oid::INVALID).then_some(copy)
}

/// Runs the COPY and returns the number of lines written.
fn copy_lineprotocol(copy: &pg_sys::CopyStmt) -> u64 {
    let database = check_statement(copy);
    let options = options::from_list(copy.options);
    // SAFETY: raises an ERROR in a read-only transaction or on a standby.
    unsafe { pg_sys::PreventCommandIfReadOnly(c"COPY FROM".as_ptr()) };
    let parse = ParseOptions {
        precision: options.precision,
        now_ns: tsparquet_core::time::now_ns(),
    };
    let outcome = with_safe_search_path(|| {
        // The caller's rights are checked before the client is asked for data.
        if copy.filename.is_null() {
            let mut writer = LineWriter::open(&database, parse, options.accept_partial);
            stream::copy_lines(&mut client::ClientCopyIn::begin(), &mut writer);
            writer.finish()
        } else {
            // SAFETY: a NUL-terminated file name from the parser.
            let path = unsafe { CStr::from_ptr(copy.filename) }.to_string_lossy();
            let mut file = file::FileSource::open(&path);
            let mut writer = LineWriter::open(&database, parse, options.accept_partial);
            stream::copy_lines(&mut file, &mut writer);
            writer.finish()
        }
    });
    if outcome.rejected() > 0 {
        warn(
            PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
            &format!(
                "{} line(s) of line protocol were skipped",
                outcome.rejected()
            ),
            Some(&outcome.summary(ERRORS_IN_MESSAGE)),
            Some("With ACCEPT_PARTIAL false, one bad line rejects the whole COPY."),
        );
    }
    outcome.written()
}

/// Checks the parts of the statement that FORMAT lineprotocol does not take, and returns
/// the database named.
fn check_statement(copy: &pg_sys::CopyStmt) -> String {
    if !copy.is_from || !copy.query.is_null() {
        report(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "COPY TO does not support FORMAT lineprotocol",
            None,
            Some("Read measurements with SELECT, or write their Parquet files with tsparquet.export()."),
        );
    }
    if copy.is_program {
        report(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "COPY FROM PROGRAM does not support FORMAT lineprotocol",
            None,
            Some("Pipe the program's output into COPY ... FROM STDIN, for example with psql's \\copy ... FROM PROGRAM."),
        );
    }
    if !copy.whereClause.is_null() {
        report(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "COPY FROM with FORMAT lineprotocol does not support WHERE",
            None,
            None,
        );
    }
    // SAFETY: a COPY FROM names a relation, which the parser filled in.
    let relation = unsafe { &*copy.relation };
    if !relation.schemaname.is_null() || !relation.catalogname.is_null() || !copy.attlist.is_null()
    {
        report(
            PgSqlErrorCode::ERRCODE_SYNTAX_ERROR,
            "COPY FROM with FORMAT lineprotocol takes a database name, not a table or columns",
            None,
            Some("Name the database (a schema) alone, as in COPY mydb FROM STDIN WITH (FORMAT lineprotocol): each line names its measurement."),
        );
    }
    // SAFETY: a NUL-terminated name from the parser.
    unsafe { CStr::from_ptr(relation.relname) }
        .to_string_lossy()
        .into_owned()
}
