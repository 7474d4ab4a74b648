//! The time range a scan's filters allow, from comparisons of `time` or `time_ns` with
//! values known when the scan starts. Files outside it are not read; Postgres still
//! applies every filter itself, so a range only needs to contain all matching rows.

use serde::{Deserialize, Serialize};

use crate::batch::NANOS_PER_DAY;
use crate::time::postgres_micros_to_unix_nanos;

/// The column a bound is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeColumn {
    /// `time`: a `timestamptz`, microseconds since 2000-01-01, the stored nanoseconds
    /// truncated toward minus infinity.
    Time,
    /// `time_ns`: the stored nanoseconds since 1970-01-01.
    TimeNs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Equal,
    GreaterOrEqual,
    Greater,
}

impl Comparison {
    /// The comparison an operator of this name makes, for the built-in ordering operators.
    pub fn from_operator(name: &str) -> Option<Comparison> {
        [
            Comparison::Less,
            Comparison::LessOrEqual,
            Comparison::Equal,
            Comparison::GreaterOrEqual,
            Comparison::Greater,
        ]
        .into_iter()
        .find(|c| c.symbol() == name)
    }

    /// The operator's name.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Equal => "=",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Greater => ">",
        }
    }

    /// The comparison with its operands swapped: `v < column` is `column > v`.
    pub fn swapped(self) -> Comparison {
        match self {
            Comparison::Less => Comparison::Greater,
            Comparison::LessOrEqual => Comparison::GreaterOrEqual,
            Comparison::Equal => Comparison::Equal,
            Comparison::GreaterOrEqual => Comparison::LessOrEqual,
            Comparison::Greater => Comparison::Less,
        }
    }
}

/// `column <comparison> value`, the value computed when the scan starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeBound {
    pub column: TimeColumn,
    pub comparison: Comparison,
}

/// An inclusive range of stored nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NanosRange {
    pub min: i64,
    pub max: i64,
}

impl NanosRange {
    pub const ALL: NanosRange = NanosRange {
        min: i64::MIN,
        max: i64::MAX,
    };

    /// The range that contains every row satisfying all bounds. A bound whose value is
    /// NULL, or out of nanosecond range (such as `infinity`), leaves the range as it is:
    /// the range may be wider than needed, never narrower.
    pub fn of(bounds: &[(TimeBound, Option<i64>)]) -> NanosRange {
        let mut range = NanosRange::ALL;
        for (bound, value) in bounds {
            let Some(value) = value else { continue };
            // The stored nanoseconds whose column value equals `value`: [first, last].
            let (first, last) = match bound.column {
                TimeColumn::TimeNs => (*value, *value),
                TimeColumn::Time => match postgres_micros_to_unix_nanos(*value) {
                    Some(ns) => (ns, ns.saturating_add(999)),
                    None => continue,
                },
            };
            match bound.comparison {
                Comparison::Less => range.max = range.max.min(first.saturating_sub(1)),
                Comparison::LessOrEqual => range.max = range.max.min(last),
                Comparison::Equal => {
                    range.min = range.min.max(first);
                    range.max = range.max.min(last);
                }
                Comparison::GreaterOrEqual => range.min = range.min.max(first),
                Comparison::Greater => range.min = range.min.max(last.saturating_add(1)),
            }
        }
        range
    }

    /// Whether no row can be in the range.
    pub fn is_empty(&self) -> bool {
        self.min > self.max
    }

    /// The range widened to the whole UTC days it meets: the days whose files hold its
    /// rows, as every file holds rows of one UTC day.
    pub fn whole_utc_days(self) -> NanosRange {
        if self.is_empty() {
            return self;
        }
        let start = self
            .min
            .div_euclid(NANOS_PER_DAY)
            .saturating_mul(NANOS_PER_DAY);
        let end = (self.max.div_euclid(NANOS_PER_DAY).saturating_add(1))
            .saturating_mul(NANOS_PER_DAY)
            .saturating_sub(1);
        NanosRange {
            min: if self.min == i64::MIN {
                i64::MIN
            } else {
                start
            },
            max: if self.max == i64::MAX { i64::MAX } else { end },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH_2000_NS: i64 = 946_684_800_000_000_000;

    fn bound(column: TimeColumn, comparison: Comparison, value: i64) -> (TimeBound, Option<i64>) {
        (TimeBound { column, comparison }, Some(value))
    }

    #[test]
    fn time_bounds_cover_every_nanosecond_of_their_microsecond() {
        use Comparison::*;
        let range = NanosRange::of(&[
            bound(TimeColumn::Time, GreaterOrEqual, 10),
            bound(TimeColumn::Time, LessOrEqual, 20),
        ]);
        assert_eq!(range.min, EPOCH_2000_NS + 10_000);
        assert_eq!(range.max, EPOCH_2000_NS + 20_999);
        let range = NanosRange::of(&[
            bound(TimeColumn::Time, Greater, 10),
            bound(TimeColumn::Time, Less, 20),
        ]);
        assert_eq!(
            (range.min, range.max),
            (EPOCH_2000_NS + 11_000, EPOCH_2000_NS + 19_999)
        );
        let range = NanosRange::of(&[bound(TimeColumn::Time, Equal, 0)]);
        assert_eq!((range.min, range.max), (EPOCH_2000_NS, EPOCH_2000_NS + 999));
    }

    #[test]
    fn time_ns_bounds_are_exact() {
        use Comparison::*;
        let range = NanosRange::of(&[
            bound(TimeColumn::TimeNs, Greater, 5),
            bound(TimeColumn::TimeNs, LessOrEqual, 9),
        ]);
        assert_eq!((range.min, range.max), (6, 9));
        assert!(NanosRange::of(&[
            bound(TimeColumn::TimeNs, Less, 5),
            bound(TimeColumn::TimeNs, Greater, 5)
        ])
        .is_empty());
    }

    #[test]
    fn unknown_and_infinite_values_do_not_narrow() {
        let range = NanosRange::of(&[
            (
                TimeBound {
                    column: TimeColumn::Time,
                    comparison: Comparison::Less,
                },
                None,
            ),
            bound(TimeColumn::Time, Comparison::GreaterOrEqual, i64::MIN),
            bound(TimeColumn::Time, Comparison::LessOrEqual, i64::MAX),
        ]);
        assert_eq!(range, NanosRange::ALL);
    }

    #[test]
    fn operands_swap() {
        assert_eq!(
            Comparison::from_operator("<").map(Comparison::swapped),
            Some(Comparison::Greater)
        );
        assert_eq!(Comparison::from_operator("<>"), None);
    }

    #[test]
    fn a_range_widens_to_the_utc_days_it_meets() {
        const DAY: i64 = NANOS_PER_DAY;
        let range = NanosRange {
            min: 3 * DAY + 5,
            max: 4 * DAY + 1,
        };
        let days = range.whole_utc_days();
        assert_eq!((days.min, days.max), (3 * DAY, 5 * DAY - 1));
        // Before 1970, and a day's last nanosecond, which ends it.
        let early = NanosRange {
            min: -1,
            max: DAY - 1,
        }
        .whole_utc_days();
        assert_eq!((early.min, early.max), (-DAY, DAY - 1));
        // An open side stays open.
        let open = NanosRange {
            min: DAY,
            max: i64::MAX,
        }
        .whole_utc_days();
        assert_eq!((open.min, open.max), (DAY, i64::MAX));
        assert_eq!(NanosRange::ALL.whole_utc_days(), NanosRange::ALL);
        let empty = NanosRange { min: 5, max: 4 };
        assert_eq!(empty.whole_utc_days(), empty);
    }
}
