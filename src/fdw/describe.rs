//! Pushed-down work as SQL text for EXPLAIN, written while planning.

use std::ffi::CStr;

use pgrx::prelude::*;

/// `nodes` (expressions over range table entry `relid`, the scan of `table`) as Postgres
/// prints them, joined by `separator`.
pub unsafe fn deparse(
    table: pg_sys::Oid,
    relid: pg_sys::Index,
    nodes: &[*mut pg_sys::Node],
    separator: &str,
) -> String {
    // SAFETY: deparses copies of expression nodes whose Vars name the one relation, against
    // a context holding just that relation.
    unsafe {
        let context = pg_sys::deparse_context_for(pg_sys::get_rel_name(table), table);
        nodes
            .iter()
            .map(|node| {
                let copy = pg_sys::copyObjectImpl(node.cast()).cast::<pg_sys::Node>();
                pg_sys::ChangeVarNodes(copy, relid as i32, 1, 0);
                let text = pg_sys::deparse_expression(copy, context, false, false);
                CStr::from_ptr(text).to_string_lossy().into_owned()
            })
            .collect::<Vec<_>>()
            .join(separator)
    }
}

/// A table's name, qualified with its schema, as EXPLAIN shows it.
pub fn relation_name(table: pg_sys::Oid) -> String {
    // SAFETY: catalog lookups by OID of a table the planner holds a lock on.
    unsafe {
        let schema = pg_sys::get_namespace_name(pg_sys::get_rel_namespace(table));
        let name = pg_sys::get_rel_name(table);
        let quoted = |s: *mut std::ffi::c_char| {
            CStr::from_ptr(pg_sys::quote_identifier(s))
                .to_string_lossy()
                .into_owned()
        };
        format!("{}.{}", quoted(schema), quoted(name))
    }
}
