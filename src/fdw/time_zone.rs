//! A plan that pushes `date_trunc` down cuts at UTC boundaries, so it is only right while
//! the session's TimeZone is UTC (see `translate::session_is_utc`). Postgres' own plans never
//! depend on TimeZone, so nothing makes it plan a cached statement again when the setting
//! changes: the setting's assign hook is chained so that every change marks the cached
//! plans for planning anew, in the new time zone.

use std::ffi::{c_char, c_void, CStr};

use pgrx::prelude::*;

static mut ASSIGN_TIME_ZONE: pg_sys::GucStringAssignHook = None;

/// Chains `assign` after TimeZone's own assign hook. Called once, as the library loads.
pub fn install_replanning() {
    // SAFETY: backends are single-threaded; the GUC table is read and one hook of a
    // setting replaced, once, at load time.
    unsafe {
        let settings = pg_sys::get_guc_variables();
        let count = usize::try_from(pg_sys::GetNumConfigOptions()).unwrap_or(0);
        for i in 0..count {
            let setting = *settings.add(i);
            if (*setting).vartype == pg_sys::config_type::PGC_STRING
                && CStr::from_ptr((*setting).name) == c"TimeZone"
            {
                let setting = setting.cast::<pg_sys::config_string>();
                ASSIGN_TIME_ZONE = (*setting).assign_hook;
                (*setting).assign_hook = Some(assign);
                return;
            }
        }
    }
}

/// Runs wherever a setting may change, aborts included: it must not fail. Neither does
/// `ResetPlanCache`, which only sets flags.
unsafe extern "C-unwind" fn assign(value: *const c_char, extra: *mut c_void) {
    // SAFETY: hands Postgres' arguments to the hook they were meant for, then marks the
    // backend's cached plans invalid, as Postgres does after a lost invalidation message.
    unsafe {
        if let Some(assign_time_zone) = ASSIGN_TIME_ZONE {
            // Postgres' own hook, written in C: assign hooks never raise errors.
            #[allow(ffi_unwind_calls)]
            assign_time_zone(value, extra);
        }
        pg_sys::ResetPlanCache();
    }
}
