//! `tsparquet.first(value, time)` and `tsparquet.last(value, time)`: the value at the
//! earliest, or latest, time of each group, as TimescaleDB defines them (a NULL value at
//! that time is the result; rows with a NULL time are skipped). These C functions compute
//! them when PostgreSQL aggregates; a pushed-down query computes them in the engine.

use pgrx::fcinfo::{pg_arg_is_null, pg_getarg_datum_raw};
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use crate::errors;

static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

#[no_mangle]
pub extern "C" fn pg_finfo_tsparquet_first_transition() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

#[no_mangle]
pub extern "C" fn pg_finfo_tsparquet_last_transition() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

#[no_mangle]
pub extern "C" fn pg_finfo_tsparquet_extreme_final() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

/// The aggregate's state, allocated in the aggregate's memory context.
#[repr(C)]
struct Extreme {
    time: i64,
    value: pg_sys::Datum,
    value_is_null: bool,
}

/// A copy of `value` in the current memory context: varlena values detoasted (and
/// flattened), fixed-length and C-string values copied byte for byte.
unsafe fn copy_datum(value: pg_sys::Datum, by_value: bool, length: i16) -> pg_sys::Datum {
    // SAFETY: `value` is a non-null datum of a type with this length and passing.
    unsafe {
        if by_value {
            return value;
        }
        let source = value.cast_mut_ptr::<u8>();
        let size = match length {
            -1 => return pg_sys::Datum::from(pg_sys::pg_detoast_datum_copy(source.cast())),
            -2 => std::ffi::CStr::from_ptr(source.cast())
                .to_bytes_with_nul()
                .len(),
            n => n as usize,
        };
        let target = pg_sys::palloc(size).cast::<u8>();
        std::ptr::copy_nonoverlapping(source, target, size);
        pg_sys::Datum::from(target)
    }
}

/// Keeps the row's value when its time is earlier (`later` false) or later than the kept one.
unsafe fn transition(fcinfo: pg_sys::FunctionCallInfo, later: bool) -> pg_sys::Datum {
    // SAFETY: called by Postgres as an aggregate's transition function with arguments
    // (internal state, value, timestamptz).
    unsafe {
        let mut aggregate_context: pg_sys::MemoryContext = std::ptr::null_mut();
        if pg_sys::AggCheckCallContext(fcinfo, &mut aggregate_context) == 0 {
            errors::report(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                "tsparquet.first and tsparquet.last are aggregates",
                None,
                None,
            );
        }
        let mut state = if pg_arg_is_null(fcinfo, 0) {
            std::ptr::null_mut()
        } else {
            pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<Extreme>()
        };
        if pg_arg_is_null(fcinfo, 2) {
            (*fcinfo).isnull = state.is_null();
            return pg_sys::Datum::from(state);
        }
        let time = pg_getarg_datum_raw(fcinfo, 2).value() as i64;
        let replaces = state.is_null()
            || if later {
                time > (*state).time
            } else {
                time < (*state).time
            };
        if replaces {
            let value_type = pg_sys::get_fn_expr_argtype((*fcinfo).flinfo, 1);
            let (mut length, mut by_value) = (0i16, false);
            pg_sys::get_typlenbyval(value_type, &mut length, &mut by_value);
            if state.is_null() {
                state = pg_sys::MemoryContextAllocZero(
                    aggregate_context,
                    std::mem::size_of::<Extreme>(),
                )
                .cast();
            } else if !by_value && !(*state).value_is_null {
                pg_sys::pfree((*state).value.cast_mut_ptr());
            }
            (*state).time = time;
            (*state).value_is_null = pg_arg_is_null(fcinfo, 1);
            (*state).value = if (*state).value_is_null {
                pg_sys::Datum::from(0)
            } else {
                let previous = pg_sys::MemoryContextSwitchTo(aggregate_context);
                let copy = copy_datum(pg_getarg_datum_raw(fcinfo, 1), by_value, length);
                pg_sys::MemoryContextSwitchTo(previous);
                copy
            };
        }
        (*fcinfo).isnull = false;
        pg_sys::Datum::from(state)
    }
}

/// `tsparquet.first_transition(internal, anyelement, timestamptz)`.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn tsparquet_first_transition(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: Postgres calls it as the transition function of tsparquet.first.
    unsafe { transition(fcinfo, false) }
}

/// `tsparquet.last_transition(internal, anyelement, timestamptz)`.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn tsparquet_last_transition(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: Postgres calls it as the transition function of tsparquet.last.
    unsafe { transition(fcinfo, true) }
}

/// `tsparquet.extreme_final(internal, anyelement, timestamptz)`: the kept value, NULL for
/// a group without a row with a time.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn tsparquet_extreme_final(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: Postgres calls it as the final function of both aggregates; Postgres copies
    // a by-reference result out of the aggregate's memory context.
    unsafe {
        if pg_arg_is_null(fcinfo, 0) {
            (*fcinfo).isnull = true;
            return pg_sys::Datum::from(0);
        }
        let state = pg_getarg_datum_raw(fcinfo, 0).cast_mut_ptr::<Extreme>();
        (*fcinfo).isnull = (*state).value_is_null;
        (*state).value
    }
}
