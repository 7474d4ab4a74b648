//! A plan that pushes `date_trunc` down is only right in the time zone it was planned in.
//! It cuts at UTC boundaries in UTC, and to a second, minute or hour in a zone whose
//! offsets from UTC over the table's stored times are whole units of the truncation
//! ([`offsets_are_whole`]). Otherwise it cuts by the zone's offsets or the buckets
//! Postgres gives, found for the times the scan reads ([`local_buckets`]). Postgres' own
//! plans never depend on TimeZone, so nothing makes it plan a cached statement again when
//! the setting changes: the setting's assign hook is chained so that every change marks
//! the cached plans for planning anew, in the new time zone.

use std::ffi::{c_char, c_long, c_void, CStr};

use pgrx::prelude::*;
use tsparquet_core::query::expr::TruncUnit;
use tsparquet_core::query::{step_starts, LocalBuckets};
use tsparquet_core::time::{postgres_micros_to_unix_nanos, unix_nanos_to_postgres_micros};

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const DAY_NS: i64 = 86_400 * NANOS_PER_SECOND;

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
    let to = to_ns.div_euclid(NANOS_PER_SECOND);
    let mut at = from_ns.div_euclid(NANOS_PER_SECOND);
    loop {
        let Some((before, change)) = next_offset_change(at) else {
            return false;
        };
        if before % unit_seconds != 0 {
            return false;
        }
        match change {
            Some(change) if change <= to => at = change + 1,
            _ => return true,
        }
    }
}

/// The buckets of `date_trunc(unit, time)` in the session's time zone for the times from
/// `from_ns` to `to_ns` (nanoseconds since 1970): for a second, minute or hour the zone's
/// offsets, each time floored in local time; for a day or longer, Postgres' own
/// `date_trunc` at the seconds where local time enters another unit or changes offset.
pub fn local_buckets(unit: TruncUnit, from_ns: i64, to_ns: i64) -> LocalBuckets {
    let (from, to) = (
        from_ns.div_euclid(NANOS_PER_SECOND),
        to_ns.div_euclid(NANOS_PER_SECOND),
    );
    let mut offsets = vec![(from, local_offset(from))];
    let mut at = from;
    while let Some((_, Some(change))) = next_offset_change(at) {
        if change > to {
            break;
        }
        offsets.push((change, local_offset(change)));
        at = change;
    }
    if let Some((width_ns, _)) = unit
        .utc_width_and_origin_ns()
        .filter(|(width, _)| *width < DAY_NS)
    {
        return LocalBuckets::Floors {
            width_ns,
            offsets,
            until: to,
        };
    }
    let starts = step_starts(unit, &offsets, from, to);
    let unit_name = unit.name().into_datum();
    let buckets = LocalBuckets::steps(&starts, to, |second| {
        let micros = unix_nanos_to_postgres_micros(second.checked_mul(NANOS_PER_SECOND)?);
        // SAFETY: Postgres' date_trunc(text, timestamptz), in the session's time zone.
        let bucket = unsafe {
            pgrx::direct_function_call::<pg_sys::TimestampTz>(
                pg_sys::timestamptz_trunc,
                &[unit_name, Some(pg_sys::Datum::from(micros))],
            )
        }?;
        postgres_micros_to_unix_nanos(bucket)
    });
    buckets.expect("the planner keeps every bucket of the stored times in range")
}

/// The session's time zone's offset from UTC (seconds east) just after second `at` (since
/// 1970), and the second of its next change, None if no later change is known (the zone's
/// last offset holds). None if the zone cannot tell.
fn next_offset_change(at: i64) -> Option<(i64, Option<i64>)> {
    let (mut before, mut after): (c_long, c_long) = (0, 0);
    let (mut before_dst, mut after_dst) = (0, 0);
    let mut change: pg_sys::pg_time_t = 0;
    // SAFETY: reads the session's time zone, which Postgres always sets.
    let found = unsafe {
        pg_sys::pg_next_dst_boundary(
            &at,
            &mut before,
            &mut before_dst,
            &mut change,
            &mut after,
            &mut after_dst,
            pg_sys::session_timezone,
        )
    };
    match found {
        0 => Some((before, None)),
        1 => Some((before, Some(change))),
        _ => None,
    }
}

/// The offset from UTC (seconds east) of local time in the session's time zone at
/// second `at` since 1970, as Postgres finds a `timestamptz`'s local time.
fn local_offset(at: i64) -> i64 {
    // SAFETY: pg_localtime of the session's time zone, which Postgres always sets; its
    // result is static and read at once.
    unsafe {
        let local = pg_sys::pg_localtime(&at, pg_sys::session_timezone);
        assert!(!local.is_null(), "a stored time has a local time");
        (*local).tm_gmtoff
    }
}
