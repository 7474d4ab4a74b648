//! `date_trunc` in a time zone that is not UTC, where a floor in UTC does not cut where
//! Postgres does. To a second, minute or hour, Postgres truncates each time in local time
//! keeping its own offset: a floor of local time, by the offset of each time. To a day or
//! longer it finds the offset of the truncated local time anew, with its own rules for a
//! midnight skipped or repeated when clocks change. Over the times a scan reads, that
//! truncation is a step function of time, which steps where a local day, week, month,
//! quarter or year starts and where the offset changes. The executor finds the offsets
//! from Postgres' zone and, for the steps (see [`step_starts`]), asks Postgres for the
//! bucket of each; the engine looks each time's bucket up.

use arrow::array::AsArray;
use arrow::compute::{max, min};
use arrow::datatypes::{DataType, Int64Type};
use arrow::error::ArrowError;
use chrono::{Datelike, Months, NaiveDate};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use serde::{Deserialize, Serialize};

use super::columnar::map_times;
use super::expr::TruncUnit;
use super::time_bin::bucket_start;

const SECONDS_PER_DAY: i64 = 86_400;
const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The buckets of the times of a range, as Postgres truncates them in one time zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LocalBuckets {
    /// To a day or longer, in time order (from, bucket): the times from second `from`
    /// (since 1970) until the next step's fall in the bucket starting at nanosecond
    /// `bucket` (since 1970). `until` is the last second the steps hold for.
    Steps { steps: Vec<(i64, i64)>, until: i64 },
    /// To a second, minute or hour of `width_ns`, which Postgres cuts in local time keeping
    /// each time's own offset; in time order (from, offset): from second `from` on, local
    /// time is `offset` seconds east of UTC. `until` is the last second they hold for.
    Floors {
        width_ns: i64,
        offsets: Vec<(i64, i64)>,
        until: i64,
    },
    /// `date_trunc(unit, time AT TIME ZONE zone)`: each time's local time, by `offsets`
    /// as in `Floors`, truncated to `unit`, in nanoseconds of local time since 1970 (a
    /// `timestamp` without time zone).
    WallClock {
        unit: TruncUnit,
        offsets: Vec<(i64, i64)>,
        until: i64,
    },
}

impl Default for LocalBuckets {
    /// No buckets: those of a plan, before the scan finds them.
    fn default() -> Self {
        LocalBuckets::Steps {
            steps: Vec::new(),
            until: i64::MIN,
        }
    }
}

impl LocalBuckets {
    /// The buckets of the seconds `starts` (from [`step_starts`]) up to second `until`,
    /// with `bucket` the start of the bucket of a second; None if it has none.
    pub fn steps(
        starts: &[i64],
        until: i64,
        mut bucket: impl FnMut(i64) -> Option<i64>,
    ) -> Option<LocalBuckets> {
        let mut steps: Vec<(i64, i64)> = Vec::with_capacity(starts.len());
        for &from in starts {
            let start = bucket(from)?;
            // A change of offset within a local day starts no new bucket.
            if steps.last().is_none_or(|(_, last)| *last != start) {
                steps.push((from, start));
            }
        }
        Some(LocalBuckets::Steps { steps, until })
    }

    /// The start of the bucket of the time `ns` (nanoseconds since 1970), None outside
    /// the range the buckets were found for.
    pub fn bucket_of(&self, ns: i64) -> Option<i64> {
        let (steps, until) = self.step_list();
        self.bucket_in(ns, steps[step_index(steps, until, ns)?].1)
    }

    /// The value of the one step that holds every time from `from_ns` to `to_ns`, if one
    /// does: a batch's times then need no lookup (see [`Self::bucket_in`]).
    fn one_step(&self, from_ns: i64, to_ns: i64) -> Option<i64> {
        let (steps, until) = self.step_list();
        let first = step_index(steps, until, from_ns)?;
        (step_index(steps, until, to_ns)? == first).then_some(steps[first].1)
    }

    /// The start of the bucket of the time `ns` in the step of value `value`.
    fn bucket_in(&self, ns: i64, value: i64) -> Option<i64> {
        match self {
            LocalBuckets::Steps { .. } => Some(value),
            LocalBuckets::Floors { width_ns, .. } => {
                // A floor of local time: buckets counted from the offset's midnight.
                bucket_start(
                    ns,
                    *width_ns,
                    value.checked_mul(NANOS_PER_SECOND)?.checked_neg()?,
                )
            }
            LocalBuckets::WallClock { unit, .. } => {
                unit_start(*unit, ns.checked_add(value.checked_mul(NANOS_PER_SECOND)?)?)
            }
        }
    }

    /// The steps, each (from second, value), and the last second they hold for.
    fn step_list(&self) -> (&[(i64, i64)], i64) {
        match self {
            LocalBuckets::Steps { steps, until }
            | LocalBuckets::Floors {
                offsets: steps,
                until,
                ..
            }
            | LocalBuckets::WallClock {
                offsets: steps,
                until,
                ..
            } => (steps, *until),
        }
    }
}

/// The start of the `unit` that `ns` (nanoseconds since 1970, of a time without zone)
/// is in, as `date_trunc` of a `timestamp` finds it; None before the earliest such time.
fn unit_start(unit: TruncUnit, ns: i64) -> Option<i64> {
    if let Some((width, origin)) = unit.utc_width_and_origin_ns() {
        return bucket_start(ns, width, origin);
    }
    let first = first_day(unit, ns.div_euclid(NANOS_PER_SECOND * SECONDS_PER_DAY));
    days_of(first).checked_mul(NANOS_PER_SECOND * SECONDS_PER_DAY)
}

/// The months of a month, quarter or year.
fn months_in(unit: TruncUnit) -> u32 {
    match unit {
        TruncUnit::Month => 1,
        TruncUnit::Quarter => 3,
        TruncUnit::Year => 12,
        other => unreachable!("{other:?} is not counted in months"),
    }
}

/// The index of the last step from the second of `ns` or before, None before the first
/// or after `until`.
fn step_index(steps: &[(i64, i64)], until: i64, ns: i64) -> Option<usize> {
    let second = ns.div_euclid(NANOS_PER_SECOND);
    let after = steps.partition_point(|(from, _)| *from <= second);
    (second <= until && after > 0).then(|| after - 1)
}

/// The seconds in `[from, to]` (since 1970) where the local time of a time zone can enter
/// another `unit`: `from`, each change of the zone's offset, and each start of a local
/// unit. `offsets` are the zone's offsets over the range, in order: (from second, seconds
/// east of UTC), the first from at or before `from`. Between two of these seconds local
/// times stay in one unit and keep one offset, so Postgres truncates them all alike.
pub fn step_starts(unit: TruncUnit, offsets: &[(i64, i64)], from: i64, to: i64) -> Vec<i64> {
    let mut starts = Vec::new();
    for (i, &(since, offset)) in offsets.iter().enumerate() {
        let segment_end = offsets
            .get(i + 1)
            .map_or(to, |(next, _)| (next - 1).min(to));
        let mut at = since.max(from);
        if at > segment_end {
            continue;
        }
        starts.push(at);
        loop {
            let next = next_unit_start(unit, at + offset) - offset;
            if next > segment_end {
                break;
            }
            starts.push(next);
            at = next;
        }
    }
    starts
}

/// The first second after local second `local` (counted as if local time were UTC) that
/// starts a `unit`.
fn next_unit_start(unit: TruncUnit, local: i64) -> i64 {
    match unit.utc_width_and_origin_ns() {
        Some((width, origin)) => {
            let (width, origin) = (width / NANOS_PER_SECOND, origin / NANOS_PER_SECOND);
            bucket_start(local, width, origin).expect("a stored time's unit") + width
        }
        None => {
            let first = first_day(unit, local.div_euclid(SECONDS_PER_DAY));
            let next = first
                .checked_add_months(Months::new(months_in(unit)))
                .expect("a stored time's next unit");
            days_of(next) * SECONDS_PER_DAY
        }
    }
}

/// The first day of the month, quarter or year that `day` (since 1970) is in. Quarters
/// start in January, April, July and October.
fn first_day(unit: TruncUnit, day: i64) -> NaiveDate {
    let date = date_of(day);
    let months = months_in(unit);
    NaiveDate::from_ymd_opt(date.year(), date.month0() / months * months + 1, 1)
        .expect("a first of a month")
}

/// 1970-01-01 as days since 0001-01-01.
const UNIX_EPOCH_DAY_FROM_CE: i64 = 719_163;

fn date_of(day: i64) -> NaiveDate {
    i32::try_from(day + UNIX_EPOCH_DAY_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .expect("a stored time's day is a date")
}

fn days_of(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAY_FROM_CE
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct LocalTrunc {
    buckets: LocalBuckets,
    signature: Signature,
}

impl ScalarUDFImpl for LocalTrunc {
    fn name(&self) -> &str {
        "local_date_trunc"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [times] = args.args.as_slice() else {
            return exec_err!("local_date_trunc takes times");
        };
        // Offsets change twice a year at most, and local units start once a day at most:
        // nearly every batch lies within one step, found once for the batch.
        let one_step = match times {
            ColumnarValue::Array(array) => {
                let times = array.as_primitive::<Int64Type>();
                min(times)
                    .zip(max(times))
                    .and_then(|(first, last)| self.buckets.one_step(first, last))
            }
            ColumnarValue::Scalar(_) => None,
        };
        map_times(times, |ns| {
            match one_step {
                Some(value) => self.buckets.bucket_in(ns, value),
                None => self.buckets.bucket_of(ns),
            }
            .ok_or_else(|| {
                ArrowError::ComputeError(format!("no local bucket was found for the time {ns} ns"))
            })
        })
    }
}

/// The start of the bucket of `ns` (nanoseconds since 1970) among `buckets`, in
/// nanoseconds since 1970.
pub fn local_trunc(ns: DfExpr, buckets: &LocalBuckets) -> DfExpr {
    let function = ScalarUDF::from(LocalTrunc {
        buckets: buckets.clone(),
        signature: Signature::exact(vec![DataType::Int64], Volatility::Immutable),
    });
    function.call(vec![ns])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600;
    const DAY: i64 = SECONDS_PER_DAY;

    fn second_of(date: &str, time: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S")
            .unwrap()
            .and_utc()
            .timestamp()
    }

    #[test]
    fn a_fixed_offset_steps_at_each_local_midnight() {
        let from = second_of("2024-03-01", "12:00:00");
        let to = second_of("2024-03-03", "12:00:00");
        // UTC-5: local midnights at 05:00 UTC.
        let starts = step_starts(TruncUnit::Day, &[(i64::MIN, -5 * HOUR)], from, to);
        assert_eq!(
            starts,
            [
                from,
                second_of("2024-03-02", "05:00:00"),
                second_of("2024-03-03", "05:00:00")
            ]
        );
    }

    #[test]
    fn a_change_of_offset_is_a_step_and_moves_the_next_midnight() {
        // New York, 2024-03-10 07:00 UTC: from -5 to -4 hours.
        let change = second_of("2024-03-10", "07:00:00");
        let offsets = [(i64::MIN, -5 * HOUR), (change, -4 * HOUR)];
        let from = second_of("2024-03-09", "12:00:00");
        let to = second_of("2024-03-12", "00:00:00");
        let starts = step_starts(TruncUnit::Day, &offsets, from, to);
        assert_eq!(
            starts,
            [
                from,
                second_of("2024-03-10", "05:00:00"),
                change,
                second_of("2024-03-11", "04:00:00"),
            ]
        );
        // The change starts no bucket: its times are still in the local day of the 10th.
        let buckets = LocalBuckets::steps(&starts, to, |s| {
            Some(
                if s < change {
                    s + (-5 * HOUR)
                } else {
                    s + (-4 * HOUR)
                }
                .div_euclid(DAY)
                    * DAY
                    * NANOS_PER_SECOND,
            )
        })
        .unwrap();
        let LocalBuckets::Steps { steps, .. } = &buckets else {
            panic!("steps")
        };
        assert_eq!(steps.len(), 3);
        let ns = |s: i64| s * NANOS_PER_SECOND;
        assert_eq!(
            buckets.bucket_of(ns(change + 5)),
            Some(ns(second_of("2024-03-10", "00:00:00")))
        );
        assert_eq!(buckets.bucket_of(ns(from - 1)), None);
        assert_eq!(buckets.bucket_of(ns(to + 1)), None);
        assert_eq!(
            buckets.bucket_of(ns(to) + NANOS_PER_SECOND - 1),
            Some(ns(second_of("2024-03-11", "00:00:00")))
        );
    }

    #[test]
    fn hours_floor_in_local_time_with_each_times_own_offset() {
        let ns = |s: i64| s * NANOS_PER_SECOND;
        // Kolkata, 5:30 ahead, and a change to 6:30 ahead at 12:00 UTC.
        let from = second_of("2024-01-01", "00:00:00");
        let change = second_of("2024-01-01", "12:00:00");
        let buckets = LocalBuckets::Floors {
            width_ns: ns(HOUR),
            offsets: vec![(from, 5 * HOUR + 1800), (change, 6 * HOUR + 1800)],
            until: from + DAY,
        };
        // 11:59:59.5 UTC is 17:29:59.5 local: its hour started at 17:00 local, 11:30 UTC.
        assert_eq!(
            buckets.bucket_of(ns(change) - NANOS_PER_SECOND / 2),
            Some(ns(second_of("2024-01-01", "11:30:00")))
        );
        // 12:00 UTC is 18:30 local: from 18:00 local, 11:30 UTC again.
        assert_eq!(
            buckets.bucket_of(ns(change)),
            Some(ns(second_of("2024-01-01", "11:30:00")))
        );
        assert_eq!(buckets.bucket_of(ns(from) - 1), None);
        assert_eq!(buckets.bucket_of(ns(from + DAY + 1)), None);
        // A batch within one offset is floored by it; one across the change has no step.
        let offset = buckets.one_step(ns(from), ns(change) - 1);
        assert_eq!(offset, Some(5 * HOUR + 1800));
        let late = ns(change) - NANOS_PER_SECOND / 2;
        assert_eq!(
            buckets.bucket_in(late, offset.unwrap()),
            buckets.bucket_of(late)
        );
        assert_eq!(buckets.one_step(ns(from), ns(change)), None);
        assert_eq!(buckets.one_step(ns(from), ns(from + DAY + 1)), None);
    }

    #[test]
    fn wall_clock_buckets_are_local_times_without_zone() {
        let ns = |s: i64| s * NANOS_PER_SECOND;
        // Two hours behind UTC, then one.
        let from = second_of("2024-03-31", "00:00:00");
        let change = second_of("2024-03-31", "01:00:00");
        let offsets = vec![(from, -2 * HOUR), (change, -HOUR)];
        let buckets = |unit| LocalBuckets::WallClock {
            unit,
            offsets: offsets.clone(),
            until: from + DAY,
        };
        // 00:30 UTC is 22:30 on the 30th; 01:30 UTC is 00:30 on the 31st.
        let before = ns(from + 1800);
        let after = ns(change + 1800);
        for (unit, time, bucket) in [
            (TruncUnit::Day, before, "2024-03-30 00:00:00"),
            (TruncUnit::Day, after, "2024-03-31 00:00:00"),
            (TruncUnit::Hour, before, "2024-03-30 22:00:00"),
            (TruncUnit::Week, before, "2024-03-25 00:00:00"),
            (TruncUnit::Month, before, "2024-03-01 00:00:00"),
            (TruncUnit::Quarter, after, "2024-01-01 00:00:00"),
            (TruncUnit::Year, after, "2024-01-01 00:00:00"),
        ] {
            let (date, time_of_day) = bucket.split_once(' ').unwrap();
            assert_eq!(
                buckets(unit).bucket_of(time),
                Some(ns(second_of(date, time_of_day))),
                "{unit:?} of {time}"
            );
        }
        assert_eq!(buckets(TruncUnit::Month).bucket_of(ns(from) - 1), None);
    }

    #[test]
    fn clocks_going_back_over_midnight_enter_the_day_before_again() {
        // At local midnight, clocks go back an hour: from +1 to 0 at 23:00 UTC.
        let change = second_of("2024-10-26", "23:00:00");
        let offsets = [(i64::MIN, HOUR), (change, 0)];
        let from = second_of("2024-10-26", "22:00:00");
        let to = second_of("2024-10-27", "01:00:00");
        assert_eq!(
            step_starts(TruncUnit::Day, &offsets, from, to),
            [
                from,
                second_of("2024-10-26", "23:00:00"),
                second_of("2024-10-27", "00:00:00")
            ]
        );
    }

    #[test]
    fn weeks_months_quarters_and_years_start_on_their_local_first_day() {
        let utc = [(i64::MIN, 0)];
        let from = second_of("2024-01-15", "00:00:00");
        let to = second_of("2025-02-01", "00:00:00");
        let count = |unit| step_starts(unit, &utc, from, to).len();
        assert_eq!(count(TruncUnit::Year), 2);
        assert_eq!(count(TruncUnit::Quarter), 5);
        assert_eq!(count(TruncUnit::Month), 14);
        let weeks = step_starts(TruncUnit::Week, &utc, from, to);
        // 2024-01-15 was a Monday; 2025-01-27 the last Monday of the range.
        assert_eq!(weeks.len(), 55);
        assert_eq!(weeks[1], second_of("2024-01-22", "00:00:00"));
        assert_eq!(*weeks.last().unwrap(), second_of("2025-01-27", "00:00:00"));
        let quarters = step_starts(TruncUnit::Quarter, &[(i64::MIN, 2 * HOUR)], from, to);
        assert_eq!(quarters[1], second_of("2024-03-31", "22:00:00"));
        assert_eq!(quarters[4], second_of("2024-12-31", "22:00:00"));
    }

    #[test]
    fn offsets_outside_the_range_add_no_steps() {
        let from = second_of("2024-05-01", "10:00:00");
        let offsets = [
            (i64::MIN, 0),
            (from - DAY, HOUR),
            (from + 3 * DAY, 0),
            (from + 10 * DAY, HOUR),
        ];
        assert_eq!(
            step_starts(TruncUnit::Month, &offsets, from, from + HOUR),
            [from]
        );
    }
}
