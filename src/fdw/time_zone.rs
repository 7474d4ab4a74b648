//! A plan that pushes `date_trunc` down is only right in the time zone it was planned in.
//! It cuts at UTC boundaries in UTC; in any other zone by the zone's offsets or the
//! buckets Postgres gives, found for the times the scan reads ([`local_buckets`]).
//! Postgres' own plans never depend on TimeZone, so nothing makes it plan a cached
//! statement again when the setting changes: the setting's assign hook is chained so that
//! every change marks the cached plans for planning anew, in the new time zone.

use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use tsparquet_core::query::expr::{LocalZone, TruncUnit};
use tsparquet_core::query::{step_starts, LocalBuckets};
use tsparquet_core::time::{postgres_micros_to_unix_nanos, unix_nanos_to_postgres_micros};

use crate::errors;

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

/// The buckets of `date_trunc` to `unit` in local time of `zone` for the times from
/// `from_ns` to `to_ns` (nanoseconds since 1970): for a second, minute or hour the zone's
/// offsets, each time floored in local time; for a day or longer, Postgres' own
/// `date_trunc` at the seconds where local time enters another unit or changes offset;
/// for a truncation of local time without time zone, the zone's offsets.
pub fn local_buckets(unit: TruncUnit, zone: &LocalZone, from_ns: i64, to_ns: i64) -> LocalBuckets {
    let tz = match zone {
        LocalZone::Session | LocalZone::SessionWallClock => Some(session_time_zone()),
        LocalZone::Named(name) => zone_by_name(name, false),
        LocalZone::WallClock(name) => zone_by_name(name, true),
    };
    let Some(tz) = tz else {
        errors::report(
            PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
            "a time zone given to a pushed-down date_trunc has changed its meaning since the plan was made",
            None,
            Some("Prepare the statement again, or SET tsparquet.enable_pushdown = off."),
        )
    };
    let (from, to) = (
        from_ns.div_euclid(NANOS_PER_SECOND),
        to_ns.div_euclid(NANOS_PER_SECOND),
    );
    let mut offsets = vec![(from, local_offset(from, tz))];
    let mut at = from;
    while let Some(change) = next_offset_change(at, tz) {
        if change > to {
            break;
        }
        offsets.push((change, local_offset(change, tz)));
        at = change;
    }
    if let LocalZone::WallClock(_) | LocalZone::SessionWallClock = zone {
        return LocalBuckets::WallClock {
            unit,
            offsets,
            until: to,
        };
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
    let zone_name = match zone {
        LocalZone::Named(name) => Some(name.as_str().into_datum()),
        _ => None,
    };
    let buckets = LocalBuckets::steps(&starts, to, |second| {
        let micros = unix_nanos_to_postgres_micros(second.checked_mul(NANOS_PER_SECOND)?);
        let time = Some(pg_sys::Datum::from(micros));
        // SAFETY: Postgres' date_trunc(text, timestamptz [, text]).
        let bucket = unsafe {
            match zone_name {
                Some(zone_name) => pgrx::direct_function_call::<pg_sys::TimestampTz>(
                    pg_sys::timestamptz_trunc_zone,
                    &[unit_name, time, zone_name],
                ),
                None => pgrx::direct_function_call::<pg_sys::TimestampTz>(
                    pg_sys::timestamptz_trunc,
                    &[unit_name, time],
                ),
            }
        }?;
        postgres_micros_to_unix_nanos(bucket)
    });
    buckets.expect("the planner keeps every bucket of the stored times in range")
}

/// The zone `name` stands for in `date_trunc(unit, time, name)` (`wall_clock` false) or
/// in `time AT TIME ZONE name` (true), looked up as Postgres does there: as an
/// abbreviation first (of a fixed offset, or of a zone's changing one), then as a zone's
/// name. None if it stands for none, or in `AT TIME ZONE` for an abbreviation of a zone,
/// whose offset Postgres finds by the abbreviation's own rules.
pub fn zone_by_name(name: &str, wall_clock: bool) -> Option<*mut pg_sys::pg_tz> {
    // Postgres cuts longer names to this many bytes.
    const LONGEST_NAME: usize = 255;
    if name.len() > LONGEST_NAME {
        return None;
    }
    let name = CString::new(name).ok()?;
    // SAFETY: Postgres' own lookups of a NUL-terminated name, in the current memory
    // context; the zones they give live as long as the backend.
    unsafe {
        let lower = pg_sys::downcase_truncate_identifier(
            name.as_ptr(),
            name.as_bytes().len() as c_int,
            false,
        );
        let mut offset: c_int = 0;
        let mut abbreviated: *mut pg_sys::pg_tz = std::ptr::null_mut();
        let zone =
            match pg_sys::DecodeTimezoneAbbrev(0, lower, &mut offset, &mut abbreviated) as u32 {
                pg_sys::TZ | pg_sys::DTZ => pg_sys::pg_tzset_offset(-c_long::from(offset)),
                pg_sys::DYNTZ if !wall_clock => abbreviated,
                pg_sys::DYNTZ => std::ptr::null_mut(),
                _ => pg_sys::pg_tzset(name.as_ptr()),
            };
        (!zone.is_null()).then_some(zone)
    }
}

fn session_time_zone() -> *mut pg_sys::pg_tz {
    // SAFETY: Postgres always sets the session's time zone.
    unsafe { pg_sys::session_timezone }
}

/// The second (since 1970) of the next change of `zone`'s offset from UTC after second
/// `at`, None if no later change is known (the zone's last offset holds).
fn next_offset_change(at: i64, zone: *const pg_sys::pg_tz) -> Option<i64> {
    let (mut before, mut after): (c_long, c_long) = (0, 0);
    let (mut before_dst, mut after_dst) = (0, 0);
    let mut change: pg_sys::pg_time_t = 0;
    // SAFETY: reads a zone of Postgres', which lives as long as the backend.
    let found = unsafe {
        pg_sys::pg_next_dst_boundary(
            &at,
            &mut before,
            &mut before_dst,
            &mut change,
            &mut after,
            &mut after_dst,
            zone,
        )
    };
    assert!(
        found >= 0,
        "the time zone knows the offsets of stored times"
    );
    (found == 1).then_some(change)
}

/// The offset from UTC (seconds east) of local time in `zone` at second `at` since 1970,
/// as Postgres finds a `timestamptz`'s local time.
fn local_offset(at: i64, zone: *const pg_sys::pg_tz) -> i64 {
    // SAFETY: pg_localtime of a zone of Postgres', which lives as long as the backend; its
    // result is static and read at once.
    unsafe {
        let local = pg_sys::pg_localtime(&at, zone);
        assert!(!local.is_null(), "a stored time has a local time");
        (*local).tm_gmtoff
    }
}
