//! Time conversions between line protocol's nanoseconds and Postgres' microseconds.

/// Microseconds from the Unix epoch (1970-01-01) to Postgres' epoch (2000-01-01).
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// A Postgres `timestamptz` value (microseconds since 2000-01-01 UTC) for nanoseconds since
/// the Unix epoch. Rounds toward minus infinity, so a point always lands in the time
/// bucket its exact time is in. Every `i64` of nanoseconds fits.
pub fn unix_nanos_to_postgres_micros(nanos: i64) -> i64 {
    nanos.div_euclid(1_000) - POSTGRES_EPOCH_MICROS
}

/// Nanoseconds since the Unix epoch for a Postgres `timestamptz` value, if they fit in 64
/// bits (years 1677 to 2262; not for `infinity`).
pub fn postgres_micros_to_unix_nanos(micros: i64) -> Option<i64> {
    micros
        .checked_add(POSTGRES_EPOCH_MICROS)
        .and_then(|unix| unix.checked_mul(1_000))
}

/// The current time in nanoseconds since the Unix epoch.
pub fn now_ns() -> i64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970");
    i64::try_from(since_epoch.as_nanos()).expect("the clock is before 2262")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_epoch_is_zero() {
        assert_eq!(unix_nanos_to_postgres_micros(946_684_800_000_000_000), 0);
    }

    #[test]
    fn rounds_toward_minus_infinity() {
        let epoch = 946_684_800_000_000_000;
        assert_eq!(unix_nanos_to_postgres_micros(epoch + 1_999), 1);
        assert_eq!(unix_nanos_to_postgres_micros(epoch - 1), -1);
        assert_eq!(unix_nanos_to_postgres_micros(epoch - 1_000), -1);
        assert_eq!(unix_nanos_to_postgres_micros(epoch - 1_001), -2);
    }

    #[test]
    fn extremes_fit() {
        assert_eq!(
            unix_nanos_to_postgres_micros(i64::MIN),
            i64::MIN.div_euclid(1_000) - POSTGRES_EPOCH_MICROS
        );
        assert_eq!(
            unix_nanos_to_postgres_micros(i64::MAX),
            i64::MAX / 1_000 - POSTGRES_EPOCH_MICROS
        );
    }
}
