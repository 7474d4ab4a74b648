//! The options of `COPY ... WITH (FORMAT lineprotocol, ...)`.

use std::ffi::CStr;

use pgrx::prelude::*;
use pgrx::{PgList, PgSqlErrorCode};
use tsparquet_core::line_protocol::Precision;

use crate::errors::{self, report};

const FORMAT: &str = "lineprotocol";

pub struct CopyOptions {
    pub precision: Precision,
    pub accept_partial: bool,
}

/// Whether the statement asks for FORMAT lineprotocol. Reads without raising errors, so
/// that every other COPY reaches Postgres untouched.
pub fn is_lineprotocol(copy: &pg_sys::CopyStmt) -> bool {
    // SAFETY: the parser's option list of DefElems.
    let options = unsafe { PgList::<pg_sys::DefElem>::from_pg(copy.options) };
    let found = options.iter_ptr().any(|option| {
        // SAFETY: DefElems from the parser, each with a name and maybe an argument.
        unsafe {
            name(option) == "format"
                && pgrx::is_a((*option).arg, pg_sys::NodeTag::T_String)
                && CStr::from_ptr((*((*option).arg as *mut pg_sys::String)).sval)
                    .to_bytes()
                    .eq_ignore_ascii_case(FORMAT.as_bytes())
        }
    });
    found
}

/// Reads the options; unknown or repeated ones are errors, as in Postgres' own COPY.
pub fn from_list(list: *mut pg_sys::List) -> CopyOptions {
    let mut options = CopyOptions {
        precision: Precision::Auto,
        accept_partial: true,
    };
    let mut seen: Vec<String> = Vec::new();
    // SAFETY: the parser's option list of DefElems.
    let list = unsafe { PgList::<pg_sys::DefElem>::from_pg(list) };
    for option in list.iter_ptr() {
        // SAFETY: a DefElem from the parser.
        let name = unsafe { name(option) };
        if seen.contains(&name) {
            report(
                PgSqlErrorCode::ERRCODE_SYNTAX_ERROR,
                "conflicting or redundant options",
                Some(&format!("Option \"{name}\" is given more than once.")),
                None,
            );
        }
        match name.as_str() {
            "format" => {}
            "precision" => {
                // SAFETY: defGetString raises a clear ERROR for a missing or odd argument.
                let value = unsafe { CStr::from_ptr(pg_sys::defGetString(option)) };
                options.precision = value
                    .to_string_lossy()
                    .parse()
                    .unwrap_or_else(|e| errors::raise(&e));
            }
            // SAFETY: defGetBoolean raises a clear ERROR for anything but a boolean.
            "accept_partial" => options.accept_partial = unsafe { pg_sys::defGetBoolean(option) },
            _ => report(
                PgSqlErrorCode::ERRCODE_SYNTAX_ERROR,
                &format!("COPY option \"{name}\" is not supported with FORMAT lineprotocol"),
                None,
                Some("FORMAT lineprotocol takes PRECISION ('ns', 'us', 'ms', 's' or 'auto') and ACCEPT_PARTIAL (boolean)."),
            ),
        }
        seen.push(name);
    }
    options
}

/// The option's name, as the parser folded it.
unsafe fn name(option: *mut pg_sys::DefElem) -> String {
    // SAFETY: the caller passes a DefElem, whose name is NUL-terminated.
    unsafe { CStr::from_ptr((*option).defname) }
        .to_string_lossy()
        .into_owned()
}
