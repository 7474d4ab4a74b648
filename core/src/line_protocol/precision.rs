use std::fmt;
use std::str::FromStr;

/// The unit of the timestamps in a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Precision {
    Nanoseconds,
    Microseconds,
    Milliseconds,
    Seconds,
    /// Guess the unit of each timestamp from its magnitude.
    #[default]
    Auto,
}

/// The error for a precision name that is not one of `ns`, `us`, `ms`, `s`, `auto`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPrecision(pub String);

impl fmt::Display for UnknownPrecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown precision \"{}\": use ns, us, ms, s or auto",
            self.0
        )
    }
}

impl std::error::Error for UnknownPrecision {}

impl FromStr for Precision {
    type Err = UnknownPrecision;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ns" | "n" => Ok(Precision::Nanoseconds),
            "us" | "u" | "µs" => Ok(Precision::Microseconds),
            "ms" => Ok(Precision::Milliseconds),
            "s" => Ok(Precision::Seconds),
            "auto" | "" => Ok(Precision::Auto),
            _ => Err(UnknownPrecision(s.to_owned())),
        }
    }
}

impl Precision {
    /// Nanoseconds in one unit; `None` for `Auto`, whose unit depends on the value.
    fn unit_nanos(self) -> Option<i64> {
        match self {
            Precision::Nanoseconds => Some(1),
            Precision::Microseconds => Some(1_000),
            Precision::Milliseconds => Some(1_000_000),
            Precision::Seconds => Some(1_000_000_000),
            Precision::Auto => None,
        }
    }

    /// The unit `Auto` picks for `raw`: values below 5e9 are seconds, below 5e12
    /// milliseconds, below 5e15 microseconds, anything larger nanoseconds.
    fn resolve(self, raw: i64) -> Precision {
        if self != Precision::Auto {
            return self;
        }
        match raw.unsigned_abs() {
            m if m < 5_000_000_000 => Precision::Seconds,
            m if m < 5_000_000_000_000 => Precision::Milliseconds,
            m if m < 5_000_000_000_000_000 => Precision::Microseconds,
            _ => Precision::Nanoseconds,
        }
    }

    /// Converts a timestamp written at this precision to nanoseconds since the Unix epoch;
    /// `None` when the result does not fit in an `i64`.
    pub fn to_nanos(self, raw: i64) -> Option<i64> {
        let unit = self.resolve(raw).unit_nanos()?;
        raw.checked_mul(unit)
    }

    /// The timestamp of a point written without one: `now_ns` cut down to this precision,
    /// as a client that wrote the current time at this precision would have written it.
    pub fn default_time(self, now_ns: i64) -> i64 {
        let unit = self.unit_nanos().unwrap_or(1);
        now_ns - now_ns.rem_euclid(unit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!("NS".parse(), Ok(Precision::Nanoseconds));
        assert_eq!("us".parse(), Ok(Precision::Microseconds));
        assert_eq!("ms".parse(), Ok(Precision::Milliseconds));
        assert_eq!("s".parse(), Ok(Precision::Seconds));
        assert_eq!("auto".parse(), Ok(Precision::Auto));
        assert!("minutes".parse::<Precision>().is_err());
    }

    #[test]
    fn fixed_precisions_scale() {
        assert_eq!(Precision::Seconds.to_nanos(2), Some(2_000_000_000));
        assert_eq!(Precision::Milliseconds.to_nanos(-2), Some(-2_000_000));
        assert_eq!(Precision::Microseconds.to_nanos(7), Some(7_000));
        assert_eq!(Precision::Nanoseconds.to_nanos(i64::MIN), Some(i64::MIN));
        assert_eq!(Precision::Seconds.to_nanos(i64::MAX), None);
    }

    #[test]
    fn auto_picks_unit_by_magnitude() {
        let auto = Precision::Auto;
        assert_eq!(
            auto.to_nanos(4_999_999_999),
            Some(4_999_999_999_000_000_000)
        );
        assert_eq!(auto.to_nanos(5_000_000_000), Some(5_000_000_000_000_000));
        assert_eq!(
            auto.to_nanos(1_451_606_400_000),
            Some(1_451_606_400_000_000_000)
        );
        assert_eq!(
            auto.to_nanos(1_451_606_400_000_000),
            Some(1_451_606_400_000_000_000)
        );
        assert_eq!(
            auto.to_nanos(1_451_606_400_000_000_000),
            Some(1_451_606_400_000_000_000)
        );
        assert_eq!(auto.to_nanos(-1_000), Some(-1_000_000_000_000));
        assert_eq!(auto.to_nanos(0), Some(0));
        assert_eq!(auto.to_nanos(i64::MIN), Some(i64::MIN));
    }

    #[test]
    fn default_time_truncates_to_precision() {
        let now = 1_700_000_123_456_789_012;
        assert_eq!(
            Precision::Seconds.default_time(now),
            1_700_000_123_000_000_000
        );
        assert_eq!(
            Precision::Milliseconds.default_time(now),
            1_700_000_123_456_000_000
        );
        assert_eq!(
            Precision::Microseconds.default_time(now),
            1_700_000_123_456_789_000
        );
        assert_eq!(Precision::Nanoseconds.default_time(now), now);
        assert_eq!(Precision::Auto.default_time(now), now);
        assert_eq!(Precision::Seconds.default_time(-1), -1_000_000_000);
    }
}
