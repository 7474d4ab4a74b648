//! The expressions a pushed-down query is made of: a small, serialisable language that the
//! planner builds from Postgres expressions it knows to be exact, and that the executor
//! translates to DataFusion once the query's parameters are known.

use serde::{Deserialize, Serialize};

use super::date_part::DateField;
use super::local_trunc::LocalBuckets;
use super::time_bin::bucket_start;

/// A value known when the query starts: a constant of the plan or a parameter's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    /// A `double precision`; only ever a parameter's value, never in a serialised plan.
    Float(f64),
    Text(String),
    /// A Postgres `timestamptz`: microseconds since 2000-01-01 UTC.
    Timestamp(i64),
    /// The elements of an array, for `= ANY(...)`.
    Array(Vec<Value>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

/// An arithmetic operator of Postgres' `bigint` and `double precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArithmeticOp {
    Add,
    Subtract,
    Multiply,
    Divide,
    /// `%`, of `bigint` only: Postgres has no remainder of `double precision`.
    Remainder,
}

/// The type Postgres computes an arithmetic expression in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NumberType {
    /// `bigint`.
    Integer,
    /// `double precision`.
    Float,
}

/// A unit of `date_trunc` whose result does not depend on the time zone when that is UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TruncUnit {
    Second,
    Minute,
    Hour,
    Day,
    /// From Monday, as ISO weeks start.
    Week,
    Month,
    Quarter,
    Year,
}

impl TruncUnit {
    /// The unit a `date_trunc` field name stands for, for the names Postgres documents.
    pub fn from_name(name: &str) -> Option<TruncUnit> {
        Some(match name.to_ascii_lowercase().as_str() {
            "second" | "seconds" => TruncUnit::Second,
            "minute" | "minutes" => TruncUnit::Minute,
            "hour" | "hours" => TruncUnit::Hour,
            "day" | "days" => TruncUnit::Day,
            "week" | "weeks" => TruncUnit::Week,
            "month" | "months" => TruncUnit::Month,
            "quarter" => TruncUnit::Quarter,
            "year" | "years" => TruncUnit::Year,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TruncUnit::Second => "second",
            TruncUnit::Minute => "minute",
            TruncUnit::Hour => "hour",
            TruncUnit::Day => "day",
            TruncUnit::Week => "week",
            TruncUnit::Month => "month",
            TruncUnit::Quarter => "quarter",
            TruncUnit::Year => "year",
        }
    }

    /// The unit's width in nanoseconds and the start of one of its units (nanoseconds
    /// since 1970) where it has a fixed width in UTC; months, quarters and years vary.
    pub fn utc_width_and_origin_ns(self) -> Option<(i64, i64)> {
        const SECOND: i64 = 1_000_000_000;
        const DAY: i64 = 86_400 * SECOND;
        match self {
            TruncUnit::Second => Some((SECOND, 0)),
            TruncUnit::Minute => Some((60 * SECOND, 0)),
            TruncUnit::Hour => Some((3_600 * SECOND, 0)),
            TruncUnit::Day => Some((DAY, 0)),
            // 1970-01-05 was a Monday.
            TruncUnit::Week => Some((7 * DAY, 4 * DAY)),
            TruncUnit::Month | TruncUnit::Quarter | TruncUnit::Year => None,
        }
    }

    /// The longest a unit lasts, in nanoseconds: a second, minute or hour, a day of 24
    /// hours, a week, the longest month, quarter or year.
    fn longest_ns(self) -> i64 {
        const DAY: i64 = 86_400_000_000_000;
        match self.utc_width_and_origin_ns() {
            Some((width, _)) => width,
            None => match self {
                TruncUnit::Month => 31 * DAY,
                TruncUnit::Quarter => 92 * DAY,
                _ => 366 * DAY,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Expr {
    /// A stored tag or field column.
    Column(String),
    /// `time` as Postgres shows it: the stored nanoseconds truncated to microseconds.
    Time,
    /// `time_ns`: the stored nanoseconds.
    TimeNs,
    Value(Value),
    /// The value of the query's n-th parameter (0-based): a Postgres parameter or a stable
    /// expression such as `now() - interval '1 hour'`, computed when the scan starts.
    Param(usize),
    /// Result column n of a grouped query (its keys, then its aggregates), in `HAVING`.
    Output(usize),
    Compare(CompareOp, Box<Expr>, Box<Expr>),
    InList {
        expr: Box<Expr>,
        list: Vec<Expr>,
        negated: bool,
    },
    IsNull {
        expr: Box<Expr>,
        negated: bool,
    },
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    /// `expr LIKE pattern`, with Postgres' default escape character `\`.
    Like {
        expr: Box<Expr>,
        pattern: Box<Expr>,
        negated: bool,
    },
    /// `expr ~ pattern` (`!~` when negated), the pattern written in the syntax of the
    /// `regex` crate that matches the same values (see [`crate::query::to_rust_regex`]).
    RegexMatch {
        expr: Box<Expr>,
        regex: String,
        negated: bool,
    },
    /// `date_trunc(unit, time)` with the session time zone UTC: a floor.
    DateTrunc(TruncUnit, Box<Expr>),
    /// `date_trunc(unit, time)` in local time where that is not a floor in UTC, by the
    /// buckets of the times the scan reads: empty in the plan, found when the scan starts
    /// (see [`crate::query::request::QueryRequest::local_buckets_mut`]).
    LocalDateTrunc {
        unit: TruncUnit,
        zone: LocalZone,
        time: Box<Expr>,
        buckets: LocalBuckets,
    },
    /// A field of the calendar date or clock of the local time `time` (a time in UTC, or
    /// a `LocalDateTrunc` of local time without time zone to the field's unit): `extract`
    /// (a numeric) and, under `ToFloat`, `date_part`.
    DatePart {
        field: DateField,
        time: Box<Expr>,
    },
    /// The start of the bucket of width `width_ns` that `time` falls in, buckets counted
    /// from `origin_ns` (nanoseconds since 1970) in both directions: `date_bin`,
    /// `time_bucket`, and Grafana's `$__timeGroup` expression.
    TimeBin {
        width_ns: i64,
        origin_ns: i64,
        time: Box<Expr>,
        output: BinOutput,
    },
    /// `left op right` in `number`'s type, with Postgres' errors: an integer out of range,
    /// a float's overflow or underflow, a division by zero.
    Arithmetic {
        op: ArithmeticOp,
        number: NumberType,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `-expr`; a `bigint` raises Postgres' error for the one it cannot negate.
    Negate {
        number: NumberType,
        expr: Box<Expr>,
    },
    /// A `bigint` as `double precision`, rounded to the nearest.
    ToFloat(Box<Expr>),
    /// `abs(expr)`; a `bigint` raises Postgres' error for the one without a positive.
    Abs {
        number: NumberType,
        expr: Box<Expr>,
    },
    /// `GREATEST(values)` if `greatest`, else `LEAST(values)`: NULLs ignored, and of equal
    /// values the first.
    GreatestOrLeast {
        greatest: bool,
        number: NumberType,
        values: Vec<Expr>,
    },
    /// `CASE WHEN condition THEN value ... ELSE otherwise END` of `number`'s type (and
    /// `COALESCE`, a CASE of `IS NOT NULL` conditions, and `NULLIF`): each condition computed only for
    /// the rows no earlier one took, and each value only for the rows its condition took,
    /// as Postgres computes them.
    Case {
        number: NumberType,
        branches: Vec<(Expr, Expr)>,
        otherwise: Box<Expr>,
    },
}

/// The time zone whose local time a `date_trunc` truncates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LocalZone {
    /// The session's `TimeZone`: `date_trunc(unit, time)`.
    Session,
    /// `date_trunc(unit, time, zone)`.
    Named(String),
    /// `date_trunc(unit, time AT TIME ZONE zone)`, whose buckets are local times without
    /// time zone.
    WallClock(String),
    /// The session's `TimeZone` as `extract` reads a `timestamptz`: local time without
    /// time zone.
    SessionWallClock,
}

/// How a time bin is given back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOutput {
    /// A `timestamptz`.
    Timestamp,
    /// Whole seconds since 1970, as `floor(extract(epoch from time) / n) * n` gives them.
    EpochSeconds,
}

/// The operands of an expression, `as_ref` and `iter` or `as_mut` and `iter_mut` giving
/// them to read or to change: one list of the variants for both.
macro_rules! operands {
    ($expr:expr, $as_ref:ident, $iter:ident) => {
        match $expr {
            Expr::Negate { expr, .. }
            | Expr::Abs { expr, .. }
            | Expr::ToFloat(expr)
            | Expr::Not(expr)
            | Expr::IsNull { expr, .. }
            | Expr::RegexMatch { expr, .. }
            | Expr::DateTrunc(_, expr)
            | Expr::LocalDateTrunc { time: expr, .. }
            | Expr::DatePart { time: expr, .. }
            | Expr::TimeBin { time: expr, .. } => vec![expr.$as_ref()],
            Expr::Compare(_, left, right)
            | Expr::Arithmetic { left, right, .. }
            | Expr::Like {
                expr: left,
                pattern: right,
                ..
            } => vec![left.$as_ref(), right.$as_ref()],
            Expr::And(items) | Expr::Or(items) | Expr::GreatestOrLeast { values: items, .. } => {
                items.$iter().collect()
            }
            Expr::InList { expr, list, .. } => std::iter::once(expr.$as_ref())
                .chain(list.$iter())
                .collect(),
            Expr::Case {
                branches,
                otherwise,
                ..
            } => branches
                .$iter()
                .flat_map(|(condition, value)| [condition, value])
                .chain(std::iter::once(otherwise.$as_ref()))
                .collect(),
            Expr::Column(_)
            | Expr::Time
            | Expr::TimeNs
            | Expr::Value(_)
            | Expr::Param(_)
            | Expr::Output(_) => Vec::new(),
        }
    };
}

impl Expr {
    pub fn compare(op: CompareOp, left: Expr, right: Expr) -> Expr {
        Expr::Compare(op, Box::new(left), Box::new(right))
    }

    /// The expressions this one is computed from.
    fn operands(&self) -> Vec<&Expr> {
        operands!(self, as_ref, iter)
    }

    /// The expressions this one is computed from, to change.
    fn operands_mut(&mut self) -> Vec<&mut Expr> {
        operands!(self, as_mut, iter_mut)
    }

    /// Whether `holds` is true of this expression or of any it is computed from.
    pub(crate) fn any(&self, holds: &impl Fn(&Expr) -> bool) -> bool {
        holds(self) || self.operands().into_iter().any(|e| e.any(holds))
    }

    /// Whether computing this can raise an error for some row: arithmetic that Postgres
    /// checks, anywhere in it. The engine computes such an expression only for the rows
    /// Postgres would.
    pub fn may_raise(&self) -> bool {
        self.any(&|e| {
            matches!(
                e,
                Expr::Arithmetic { .. }
                    | Expr::Negate {
                        number: NumberType::Integer,
                        ..
                    }
                    | Expr::Abs {
                        number: NumberType::Integer,
                        ..
                    }
            )
        })
    }

    /// Whether computing this can raise an error for some row, as [`Expr::may_raise`], or
    /// holds a `LIKE`, whose pattern may end in its escape character (known only when the
    /// query starts): Postgres raises that error for the values whose matching reaches it.
    pub fn may_raise_or_match(&self) -> bool {
        self.may_raise() || self.any(&|e| matches!(e, Expr::Like { .. }))
    }

    /// The truncations to local time in this expression, each with its unit, zone and
    /// buckets (see [`crate::query::request::QueryRequest::local_buckets_mut`]).
    pub(crate) fn local_truncs_mut<'a>(
        &'a mut self,
        found: &mut Vec<(TruncUnit, &'a LocalZone, &'a mut LocalBuckets)>,
    ) {
        match self {
            Expr::LocalDateTrunc {
                unit,
                zone,
                buckets,
                ..
            } => found.push((*unit, &*zone, buckets)),
            other => {
                for operand in other.operands_mut() {
                    operand.local_truncs_mut(found);
                }
            }
        }
    }

    /// The type of an arithmetic expression, None for other expressions.
    pub fn number_type(&self) -> Option<NumberType> {
        match self {
            Expr::Arithmetic { number, .. }
            | Expr::Negate { number, .. }
            | Expr::Abs { number, .. }
            | Expr::GreatestOrLeast { number, .. }
            | Expr::Case { number, .. } => Some(*number),
            Expr::ToFloat(_) => Some(NumberType::Float),
            _ => None,
        }
    }

    /// Whether the time bucket this is (or each it is computed from) starts at a time the engine can
    /// hold, nanoseconds from -2^63, for every stored time from `earliest_ns` to
    /// `latest_ns`. A bucket starts no later than its times, and later times fall in
    /// buckets no earlier: the earliest time's bucket is the earliest. Postgres reaches
    /// further back. Local time, which a truncation in a time zone computes, must be
    /// held too, at both ends.
    pub fn buckets_in_range(&self, earliest_ns: i64, latest_ns: i64) -> bool {
        // More than any offset of local time from UTC: Postgres takes up to 167 hours.
        const WEEK: i64 = 7 * 86_400_000_000_000;
        match self {
            Expr::DateTrunc(unit, _) => match unit.utc_width_and_origin_ns() {
                Some((width, origin)) => bucket_start(earliest_ns, width, origin).is_some(),
                None => earliest_ns.checked_sub(unit.longest_ns()).is_some(),
            },
            Expr::LocalDateTrunc { unit, .. } => {
                earliest_ns.checked_sub(unit.longest_ns() + WEEK).is_some()
                    && latest_ns.checked_add(WEEK).is_some()
            }
            Expr::TimeBin {
                width_ns,
                origin_ns,
                ..
            } => bucket_start(earliest_ns, *width_ns, *origin_ns).is_some(),
            other => other
                .operands()
                .into_iter()
                .all(|operand| operand.buckets_in_range(earliest_ns, latest_ns)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggregateFunction {
    /// `count(*)`.
    CountRows,
    Count,
    CountDistinct,
    Sum,
    Avg,
    Min,
    Max,
    /// `tsparquet.first(value, time)`: the value at the earliest stored time.
    First,
    /// `tsparquet.last(value, time)`: the value at the latest stored time.
    Last,
    /// `var_samp` (`variance`) when `sample`, else `var_pop`; with `stddev` its square
    /// root, `stddev_samp` (`stddev`) or `stddev_pop`.
    Variance {
        sample: bool,
        stddev: bool,
    },
    /// `bool_and` (`every`): whether every value is true.
    BoolAnd,
    /// `bool_or`: whether any value is true.
    BoolOr,
    /// `percentile_cont(fraction) WITHIN GROUP (ORDER BY value)` of `double precision`.
    PercentileCont(Fraction),
    /// `percentile_disc(fraction) WITHIN GROUP (ORDER BY value)` of `double precision` or
    /// `bigint`.
    PercentileDisc(Fraction),
}

impl AggregateFunction {
    /// Whether the aggregate is a percentile, computed over the values of each group
    /// numbered in order.
    pub fn is_percentile(self) -> bool {
        matches!(
            self,
            AggregateFunction::PercentileCont(_) | AggregateFunction::PercentileDisc(_)
        )
    }
}

/// A fraction between 0 and 1, kept as its bits so that aggregates compare and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fraction(u64);

impl Fraction {
    /// None unless `value` is between 0 and 1.
    pub fn new(value: f64) -> Option<Fraction> {
        (0.0..=1.0)
            .contains(&value)
            .then_some(Fraction(value.to_bits()))
    }

    pub fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub function: AggregateFunction,
    /// The argument; None for `count(*)`.
    pub argument: Option<Expr>,
    /// `FILTER (WHERE condition)`: only the rows meeting it are aggregated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expr>,
}

impl Aggregate {
    /// `function` of `argument` over all the rows of each group.
    pub fn new(function: AggregateFunction, argument: Option<Expr>) -> Aggregate {
        Aggregate {
            function,
            argument,
            filter: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{BinOutput, DateField, Expr, LocalZone, TruncUnit};

    #[test]
    fn buckets_of_the_earliest_storable_times_start_out_of_range() {
        let (earliest, latest) = (i64::MIN + 1_000, i64::MAX - 1_000);
        let day =
            |ns| Expr::DateTrunc(TruncUnit::Day, Box::new(Expr::Time)).buckets_in_range(ns, latest);
        assert!(!day(earliest));
        assert!(day(0));
        // 1677-09-22, the first whole day the engine holds.
        assert!(day(-9_223_286_400_000_000_000));
        let year = Expr::DateTrunc(TruncUnit::Year, Box::new(Expr::Time));
        assert!(!year.buckets_in_range(earliest, latest));
        assert!(year.buckets_in_range(i64::MIN / 2, latest));
        let bin = |width_ns, origin_ns| Expr::TimeBin {
            width_ns,
            origin_ns,
            time: Box::new(Expr::Time),
            output: BinOutput::Timestamp,
        };
        assert!(!bin(60_000_000_000, 0).buckets_in_range(earliest, latest));
        // Buckets counted from the earliest time itself start there.
        assert!(bin(60_000_000_000, earliest).buckets_in_range(earliest, latest));
        assert!(Expr::Time.buckets_in_range(earliest, latest));
    }

    #[test]
    fn local_time_of_the_latest_storable_times_is_out_of_range() {
        let hour = Expr::LocalDateTrunc {
            unit: TruncUnit::Hour,
            zone: LocalZone::SessionWallClock,
            time: Box::new(Expr::Time),
            buckets: Default::default(),
        };
        assert!(hour.buckets_in_range(0, i64::MAX / 2));
        assert!(!hour.buckets_in_range(0, i64::MAX - 1_000));
        let day_of_week = Expr::DatePart {
            field: DateField::DayOfWeek,
            time: Box::new(hour),
        };
        assert!(!day_of_week.buckets_in_range(0, i64::MAX - 1_000));
        assert!(!Expr::ToFloat(Box::new(day_of_week)).buckets_in_range(i64::MIN + 1_000, 0));
    }
}
