//! Statements that call `write_lp` with bound parameters are planned as generic plans.
//!
//! Postgres plans a statement whose parameters are bound (the extended protocol, as every
//! driver sends a query with parameters) by folding their values into the plan as
//! constants, copying each value into the plan and again into the cached plan. A
//! `write_lp` text may be close to 1 GB; for a 500,000-line call those two copies, into
//! freshly mapped memory, took about as long as parsing the lines. A generic plan leaves
//! the parameters where the protocol put them for the executor to read, and such a
//! statement has nothing else a custom plan could make better.

use std::ffi::{c_char, c_int};

use pgrx::prelude::*;
use pgrx::PgList;

use crate::catalog::extension_function_name;

static mut PREVIOUS_HOOK: pg_sys::planner_hook_type = None;

/// Chains the hook in front of any installed before. Called once, as the library loads.
pub fn install_hook() {
    // SAFETY: backends are single-threaded and this runs once, at load time.
    unsafe {
        PREVIOUS_HOOK = pg_sys::planner_hook;
        pg_sys::planner_hook = Some(plan);
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn plan(
    parse: *mut pg_sys::Query,
    query_string: *const c_char,
    cursor_options: c_int,
    bound_params: pg_sys::ParamListInfo,
) -> *mut pg_sys::PlannedStmt {
    // SAFETY: Postgres passes the query it is planning.
    let params = if !bound_params.is_null() && unsafe { calls_write_lp(parse) } {
        std::ptr::null_mut()
    } else {
        bound_params
    };
    // SAFETY: hands the statement on, with the parameters or without.
    unsafe {
        match PREVIOUS_HOOK {
            // A hook written in C raises errors by longjmp, never by unwinding: the guard
            // turns them into an unwind through this frame.
            #[allow(ffi_unwind_calls)]
            Some(previous) => pg_sys::submodules::ffi::pg_guard_ffi_boundary(|| {
                previous(parse, query_string, cursor_options, params)
            }),
            // The bindings guard this call themselves.
            None => pg_sys::standard_planner(parse, query_string, cursor_options, params),
        }
    }
}

/// Whether `query` is a SELECT that calls `tsparquet.write_lp` in its FROM list or as one
/// of its output columns.
///
/// # Safety
/// `query` is a valid, analysed query.
unsafe fn calls_write_lp(query: *mut pg_sys::Query) -> bool {
    // SAFETY: the caller's query, and the lists and nodes in it.
    unsafe {
        let query = &*query;
        if query.commandType != pg_sys::CmdType::CMD_SELECT {
            return false;
        }
        let rtable = PgList::<pg_sys::RangeTblEntry>::from_pg(query.rtable);
        let in_from = rtable.iter_ptr().any(|rte| {
            (*rte).rtekind == pg_sys::RTEKind::RTE_FUNCTION
                && PgList::<pg_sys::RangeTblFunction>::from_pg((*rte).functions)
                    .iter_ptr()
                    .any(|function| is_write_lp((*function).funcexpr))
        });
        in_from
            || PgList::<pg_sys::TargetEntry>::from_pg(query.targetList)
                .iter_ptr()
                .any(|target| is_write_lp((*target).expr.cast()))
    }
}

/// Whether `node` is a call of `tsparquet.write_lp`.
///
/// # Safety
/// `node` is null or a valid node.
unsafe fn is_write_lp(node: *mut pg_sys::Node) -> bool {
    // SAFETY: a valid node.
    unsafe {
        !node.is_null()
            && (*node).type_ == pg_sys::NodeTag::T_FuncExpr
            && extension_function_name((*node.cast::<pg_sys::FuncExpr>()).funcid).as_deref()
                == Some("write_lp")
    }
}
