//! A plan that pushes `date_trunc` down cuts at UTC boundaries, so it is only right in the
//! time zone it was planned in: UTC, or one whose offsets from UTC over the table's stored
//! times are whole units of the truncation ([`offsets_are_whole`]). Postgres' own plans
//! never depend on TimeZone, so nothing makes it plan a cached statement again when the
//! setting changes: the setting's assign hook is chained so that every change marks the
//! cached plans for planning anew, in the new time zone.

use std::ffi::{c_char, c_long, c_void, CStr};

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

/// The name of the session's time zone.
pub fn session_zone() -> String {
    // SAFETY: Postgres always sets the session's time zone, whose name it keeps.
    unsafe {
        CStr::from_ptr(pg_sys::pg_get_timezone_name(pg_sys::session_timezone))
            .to_string_lossy()
            .into_owned()
    }
}

/// Whether every offset from UTC of the session's time zone between `from_ns` and `to_ns`
/// (nanoseconds since 1970) is a whole number of `unit_seconds`. Postgres truncates a
/// `timestamptz` to a second, minute or hour in local time and keeps the value's own
/// offset (even in the hour repeated when clocks go back), so there the truncation in local
/// time and the one in UTC are the same instant: Europe/Berlin's hours since 1893, but not
/// its minutes before (an offset of 0:53:28), nor Asia/Kolkata's hours (5:30).
pub fn offsets_are_whole(unit_seconds: i64, from_ns: i64, to_ns: i64) -> bool {
    let to = to_ns.div_euclid(1_000_000_000);
    let mut at = from_ns.div_euclid(1_000_000_000);
    loop {
        let (mut before, mut after): (c_long, c_long) = (0, 0);
        let (mut before_dst, mut after_dst) = (0, 0);
        let mut boundary: pg_sys::pg_time_t = 0;
        // SAFETY: reads the session's time zone, which Postgres always sets.
        let found = unsafe {
            pg_sys::pg_next_dst_boundary(
                &at,
                &mut before,
                &mut before_dst,
                &mut boundary,
                &mut after,
                &mut after_dst,
                pg_sys::session_timezone,
            )
        };
        if found < 0 || before % unit_seconds != 0 {
            return false;
        }
        // No change of offset after `at` (none known: the zone's last offset holds), or
        // none before `to`.
        if found == 0 || boundary > to {
            return true;
        }
        at = boundary + 1;
    }
}
