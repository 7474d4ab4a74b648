//! Rows written by SQL (`INSERT`, `COPY` into a measurement table) as points: the same
//! rules as line protocol, plus how `time` and `time_ns` give a row its exact time.

use std::borrow::Cow;
use std::fmt;

use crate::line_protocol::{FieldValue, Point};
use crate::time::{postgres_micros_to_unix_nanos, unix_nanos_to_postgres_micros};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowError {
    /// Neither `time` nor `time_ns` was given.
    NoTime,
    /// `time` is outside what nanoseconds since 1970 in 64 bits can hold.
    TimeOutOfRange,
    /// `time_ns` was given with a `time` that is not its value at microsecond precision.
    TimesDisagree { time_ns: i64 },
    /// Every field of the row is NULL.
    NoFields,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowError::NoTime => write!(f, "a row needs a time: \"time\" and \"time_ns\" are both null"),
            RowError::TimeOutOfRange => write!(
                f,
                "time is out of range: stored times lie between 1677-09-21 and 2262-04-11"
            ),
            RowError::TimesDisagree { time_ns } => write!(
                f,
                "\"time\" does not agree with \"time_ns\" {time_ns}: give one, or both for the same instant"
            ),
            RowError::NoFields => write!(f, "a row needs at least one field value that is not null"),
        }
    }
}

impl std::error::Error for RowError {}

/// A row as a point. `time` is a Postgres `timestamptz` (microseconds since 2000-01-01);
/// when both are given, `time` must be `time_ns` at microsecond precision.
pub fn row_point<'a>(
    measurement: &'a str,
    time: Option<i64>,
    time_ns: Option<i64>,
    tags: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
) -> Result<Point<'a>, RowError> {
    let time_ns = match (time, time_ns) {
        (None, None) => return Err(RowError::NoTime),
        (Some(micros), None) => {
            postgres_micros_to_unix_nanos(micros).ok_or(RowError::TimeOutOfRange)?
        }
        (None, Some(ns)) => ns,
        (Some(micros), Some(ns)) => {
            if unix_nanos_to_postgres_micros(ns) != micros {
                return Err(RowError::TimesDisagree { time_ns: ns });
            }
            ns
        }
    };
    if fields.is_empty() {
        return Err(RowError::NoFields);
    }
    Ok(Point {
        line: 0,
        measurement: Cow::Borrowed(measurement),
        tags,
        fields,
        time_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

    fn point(time: Option<i64>, time_ns: Option<i64>) -> Result<i64, RowError> {
        row_point(
            "m",
            time,
            time_ns,
            vec![],
            vec![("f".into(), FieldValue::Float(1.0))],
        )
        .map(|p| p.time_ns)
    }

    #[test]
    fn time_alone_gives_nanoseconds() {
        assert_eq!(point(Some(0), None), Ok(946_684_800_000_000_000));
        assert_eq!(point(Some(-POSTGRES_EPOCH_MICROS - 1), None), Ok(-1_000));
    }

    #[test]
    fn time_ns_alone_is_exact() {
        assert_eq!(point(None, Some(1_234_567)), Ok(1_234_567));
    }

    #[test]
    fn both_must_name_the_same_instant() {
        let ns = 946_684_800_000_001_999;
        assert_eq!(point(Some(1), Some(ns)), Ok(ns));
        assert_eq!(
            point(Some(2), Some(ns)),
            Err(RowError::TimesDisagree { time_ns: ns })
        );
        assert_eq!(
            point(Some(-1), Some(946_684_799_999_999_999)),
            Ok(946_684_799_999_999_999)
        );
    }

    #[test]
    fn a_time_is_required() {
        assert_eq!(point(None, None), Err(RowError::NoTime));
    }

    #[test]
    fn infinite_and_far_times_are_out_of_range() {
        assert_eq!(point(Some(i64::MAX), None), Err(RowError::TimeOutOfRange));
        assert_eq!(point(Some(i64::MIN), None), Err(RowError::TimeOutOfRange));
        let last = i64::MAX / 1_000 - POSTGRES_EPOCH_MICROS;
        assert_eq!(point(Some(last), None), Ok(i64::MAX / 1_000 * 1_000));
        assert_eq!(point(Some(last + 1), None), Err(RowError::TimeOutOfRange));
    }

    #[test]
    fn a_field_is_required() {
        let result = row_point("m", Some(0), None, vec![("t".into(), "a".into())], vec![]);
        assert_eq!(result.map(|p| p.time_ns), Err(RowError::NoFields));
    }
}
