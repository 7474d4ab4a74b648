//! Pushed-down expressions in DataFusion's terms, with Postgres' meaning kept: `time` is
//! compared at microsecond precision, integer sums are exact, buckets floor toward minus
//! infinity.

use arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::{Column as DfColumn, ScalarValue};
use datafusion::functions::datetime::expr_fn::date_trunc;
use datafusion::functions::string::expr_fn::concat;
use datafusion::functions_aggregate::expr_fn::{
    avg, bool_and, bool_or, count, count_distinct, first_value, last_value, max, min, sum,
};
use std::cell::RefCell;
use std::ops::Not;
use std::sync::Arc;

use datafusion::common::DFSchema;
use datafusion::functions::math::expr_fn::abs;
use datafusion::logical_expr::expr::{Case, Placeholder};
use datafusion::logical_expr::{cast, lit, placeholder, Expr as DfExpr, ExprSchemable, SortExpr};

use super::column_facts::ColumnFacts;
use super::date_part::date_part;
use super::expr::{Aggregate, AggregateFunction, BinOutput, CompareOp, Expr, NumberType, Value};
use super::float_order::{canonical, pg_float_from_key, pg_float_key, pg_float_order};
use super::float_variance::float_variance;
use super::greatest_least::greatest_or_least;
use super::local_trunc::{local_trunc, LocalBuckets};
use super::opaque::opaque;
use super::percentile::{percentile, Kind};
use super::postgres_arithmetic::{arithmetic, data_type, negate};
use super::postgres_like::like_filter;
use super::postgres_regex::regex_match;
use super::run_sums::{run_avg, run_sum, run_sum_of_integers};
use super::sum_of_squares::sum_of_squares;
use super::time_bin::time_bin;
use super::QueryError;
use crate::schema::TIME_COLUMN;
use crate::time::postgres_micros_to_unix_nanos;

const UTC: &str = "UTC";
const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// The type of an exact sum of integers, as Postgres' `numeric` holds it.
const EXACT_SUM: DataType = DataType::Decimal128(38, 0);

pub(crate) struct Translator<'a> {
    pub params: &'a [Value],
    pub schema: &'a DFSchema,
    /// The engine's column of each result of a grouped query, for [`Expr::Output`]; None
    /// for results Postgres computes.
    pub results: &'a [Option<String>],
    /// What the files' statistics prove about the aggregated columns.
    pub facts: &'a ColumnFacts,
    /// Where the stored-time bounds of comparisons are collected, each made a placeholder
    /// so that the plan serves queries that differ only in their time ranges; None to
    /// write them as literals.
    pub time_bounds: Option<&'a RefCell<Vec<ScalarValue>>>,
    /// The rows arithmetic is computed for (see [`arithmetic`]); None for every row.
    pub guard: Option<DfExpr>,
}

/// The column `name`, unqualified: the engine's plans read one table.
pub(super) fn column(name: &str) -> DfExpr {
    DfExpr::Column(DfColumn::new_unqualified(name))
}

fn stored_time() -> DfExpr {
    column(TIME_COLUMN)
}

fn nanos(value: i64) -> DfExpr {
    lit(nanos_value(value))
}

fn nanos_value(value: i64) -> ScalarValue {
    ScalarValue::TimestampNanosecond(Some(value), Some(UTC.into()))
}

/// The name of the placeholder of the n-th collected time bound (0-based).
pub(crate) fn time_bound_name(n: usize) -> String {
    format!("$time_bound{n}")
}

/// The first stored nanosecond whose microsecond is `micros` (a Postgres timestamp), held
/// to the range of stored times.
fn first_nanos_of(micros: i64) -> i64 {
    postgres_micros_to_unix_nanos(micros).unwrap_or(if micros < 0 { i64::MIN } else { i64::MAX })
}

fn unknown() -> DfExpr {
    lit(ScalarValue::Boolean(None))
}

impl Translator<'_> {
    fn value(&self, expr: &Expr) -> Option<Value> {
        match expr {
            Expr::Value(v) => Some(v.clone()),
            Expr::Param(n) => self.params.get(*n).cloned(),
            _ => None,
        }
    }

    fn literal(value: &Value) -> Result<DfExpr, QueryError> {
        Ok(match value {
            Value::Null => lit(ScalarValue::Null),
            Value::Boolean(b) => lit(*b),
            Value::Integer(i) => lit(*i),
            Value::Float(f) => lit(canonical(*f)),
            Value::Text(t) => lit(t.as_str()),
            Value::Timestamp(micros) => nanos(first_nanos_of(*micros)),
            Value::Array(_) => {
                return Err(QueryError::Unsupported("an array outside = ANY".into()))
            }
        })
    }

    pub fn expr(&self, expr: &Expr) -> Result<DfExpr, QueryError> {
        Ok(match expr {
            Expr::Column(name) => column(name),
            // Two stored times in one microsecond are one Postgres value.
            Expr::Time => date_trunc(lit("microsecond"), stored_time()),
            Expr::TimeNs => cast(stored_time(), DataType::Int64),
            Expr::Value(_) | Expr::Param(_) => match self.value(expr) {
                Some(value) => Self::literal(&value)?,
                // Described before its parameters are known (EXPLAIN without running).
                None => placeholder(format!("${}", param_number(expr))),
            },
            Expr::Output(n) => match self.results.get(*n) {
                Some(Some(name)) => column(name),
                _ => {
                    return Err(QueryError::Unsupported(format!(
                        "result {n}, which the engine does not compute"
                    )))
                }
            },
            Expr::Compare(op, left, right) => self.compare(*op, left, right)?,
            Expr::InList {
                expr,
                list,
                negated,
            } => self.in_list(expr, list, *negated)?,
            Expr::IsNull { expr, negated } => {
                let e = self.expr(expr)?;
                if *negated {
                    e.is_not_null()
                } else {
                    e.is_null()
                }
            }
            Expr::And(items) => self.combine(items, DfExpr::and, true)?,
            Expr::Or(items) => self.combine(items, DfExpr::or, false)?,
            Expr::Not(e) => self.expr(e)?.not(),
            Expr::Like {
                expr,
                pattern,
                negated,
            } => {
                let text = match self.value(pattern) {
                    Some(Value::Text(text)) => Some(text),
                    _ => None,
                };
                like_filter(
                    self.expr(expr)?,
                    self.expr(pattern)?,
                    text.as_deref(),
                    *negated,
                )
            }
            Expr::RegexMatch {
                expr,
                regex,
                negated,
            } => {
                let matched = regex_match(self.expr(expr)?, regex)?;
                match negated {
                    true => matched.not(),
                    false => matched,
                }
            }
            Expr::DateTrunc(unit, time) => match unit.utc_width_and_origin_ns() {
                // DataFusion's date_trunc converts each zoned timestamp through the
                // calendar; a unit of fixed width is a plain integer floor.
                Some((width, origin)) => self.bin(width, origin, time, BinOutput::Timestamp)?,
                None => date_trunc(lit(unit.name()), self.time_source(time)?),
            },
            Expr::DatePart { field, time } => {
                let local_ns = match &**time {
                    Expr::LocalDateTrunc { time, buckets, .. } => self.local_ns(time, buckets)?,
                    time => cast(self.expr(time)?, DataType::Int64),
                };
                date_part(*field, local_ns)
            }
            Expr::LocalDateTrunc { time, buckets, .. } => {
                cast(self.local_ns(time, buckets)?, stored_time_type())
            }
            Expr::TimeBin {
                width_ns,
                origin_ns,
                time,
                output,
            } => self.bin(*width_ns, *origin_ns, time, *output)?,
            Expr::Arithmetic {
                op,
                number,
                left,
                right,
            } => arithmetic(
                *op,
                *number,
                self.operand(left)?,
                self.operand(right)?,
                self.guard.clone(),
            ),
            Expr::Negate { number, expr } => {
                negate(*number, self.operand(expr)?, self.guard.clone())
            }
            Expr::ToFloat(expr) => cast(self.expr(expr)?, DataType::Float64),
            Expr::Abs { number, expr } => self.abs(*number, expr)?,
            Expr::GreatestOrLeast {
                greatest,
                number,
                values,
            } => {
                let values = values
                    .iter()
                    .map(|value| self.number_of_type(*number, value))
                    .collect::<Result<Vec<_>, _>>()?;
                greatest_or_least(*greatest, *number, values)
            }
            Expr::Case {
                number,
                branches,
                otherwise,
            } => {
                let mut taken = Vec::with_capacity(branches.len());
                for (condition, value) in branches {
                    let value = self.number_of_type(*number, value)?;
                    taken.push((Box::new(self.expr(condition)?), Box::new(value)));
                }
                let otherwise = self.number_of_type(*number, otherwise)?;
                opaque(DfExpr::Case(Case::new(
                    None,
                    taken,
                    Some(Box::new(otherwise)),
                )))
            }
        })
    }

    /// A value of a CASE or of `GREATEST`: DataFusion plans them with values of their type,
    /// and a NULL constant has none of its own.
    fn number_of_type(&self, number: NumberType, expr: &Expr) -> Result<DfExpr, QueryError> {
        Ok(match (self.value(expr), number) {
            (Some(Value::Null), NumberType::Integer) => lit(ScalarValue::Int64(None)),
            (Some(Value::Null), NumberType::Float) => lit(ScalarValue::Float64(None)),
            // Nor has a parameter described before it is known (EXPLAIN without running).
            (None, _) if matches!(expr, Expr::Param(_)) => {
                cast(self.expr(expr)?, data_type(number))
            }
            _ => self.operand(expr)?,
        })
    }

    /// `abs(expr)`: of a float, its magnitude (0 of -0); of an integer, its negation where it
    /// is negative, which raises Postgres' error for the one `bigint` without a positive.
    fn abs(&self, number: NumberType, expr: &Expr) -> Result<DfExpr, QueryError> {
        let value = self.operand(expr)?;
        Ok(match number {
            NumberType::Float => abs(cast(value, DataType::Float64)),
            NumberType::Integer => {
                let negated = negate(number, value.clone(), self.guard.clone());
                let negative = value.clone().lt(lit(0i64));
                opaque(DfExpr::Case(Case::new(
                    None,
                    vec![(Box::new(negative), Box::new(negated))],
                    Some(Box::new(value)),
                )))
            }
        })
    }

    /// An operand of arithmetic: a float value as it is, where a comparison takes -0 as 0.
    fn operand(&self, expr: &Expr) -> Result<DfExpr, QueryError> {
        match self.value(expr) {
            Some(Value::Float(f)) => Ok(lit(f)),
            _ => self.expr(expr),
        }
    }

    /// The start of the bucket of `width` nanoseconds, counted from `origin` (nanoseconds
    /// since 1970), that `time` falls in.
    fn bin(
        &self,
        width: i64,
        origin: i64,
        time: &Expr,
        output: BinOutput,
    ) -> Result<DfExpr, QueryError> {
        if width <= 0 {
            return Err(QueryError::Unsupported(format!("a bin of {width} ns")));
        }
        let ns = cast(self.time_source(time)?, DataType::Int64);
        let start = time_bin(ns, width, origin);
        Ok(match output {
            BinOutput::Timestamp => cast(start, stored_time_type()),
            BinOutput::EpochSeconds => start / lit(NANOS_PER_SECOND),
        })
    }

    /// The bucket in local time of `time`, as nanoseconds since 1970.
    fn local_ns(&self, time: &Expr, buckets: &LocalBuckets) -> Result<DfExpr, QueryError> {
        Ok(local_trunc(
            cast(self.time_source(time)?, DataType::Int64),
            buckets,
        ))
    }

    /// The stored time a bucket is computed from: flooring `time` to microseconds first
    /// changes no bucket of a second or wider.
    fn time_source(&self, time: &Expr) -> Result<DfExpr, QueryError> {
        match time {
            Expr::Time => Ok(stored_time()),
            other => self.expr(other),
        }
    }

    fn combine(
        &self,
        items: &[Expr],
        join: fn(DfExpr, DfExpr) -> DfExpr,
        empty: bool,
    ) -> Result<DfExpr, QueryError> {
        let mut out: Option<DfExpr> = None;
        for item in items {
            let e = self.expr(item)?;
            out = Some(match out {
                Some(o) => join(o, e),
                None => e,
            });
        }
        Ok(out.unwrap_or(lit(empty)))
    }

    fn compare(&self, op: CompareOp, left: &Expr, right: &Expr) -> Result<DfExpr, QueryError> {
        match self.value(right) {
            Some(value) => self.compare_value(op, left, &value),
            None => Ok(apply(op, self.ordered(left)?, self.ordered(right)?)),
        }
    }

    /// `expr` as Postgres orders it: floats through `pg_float_order`.
    fn ordered(&self, expr: &Expr) -> Result<DfExpr, QueryError> {
        let e = self.expr(expr)?;
        let is_float = matches!(self.value(expr), Some(Value::Float(_)))
            || expr.number_type() == Some(NumberType::Float)
            || matches!(expr, Expr::Column(_) | Expr::Output(_))
                && e.get_type(self.schema).map_err(QueryError::from)? == DataType::Float64;
        Ok(if is_float { pg_float_order(e) } else { e })
    }

    /// A stored time a comparison bounds `time` by.
    fn time_bound(&self, ns: i64) -> DfExpr {
        let Some(bounds) = self.time_bounds else {
            return nanos(ns);
        };
        let mut bounds = bounds.borrow_mut();
        let name = time_bound_name(bounds.len());
        bounds.push(nanos_value(ns));
        let field = Field::new(&name, stored_time_type(), true);
        DfExpr::Placeholder(Placeholder::new_with_field(name, Some(Arc::new(field))))
    }

    /// `left op value`. Comparisons of `time` and `time_ns` become ranges of stored
    /// nanoseconds, which Parquet statistics can prune by.
    fn compare_value(
        &self,
        op: CompareOp,
        left: &Expr,
        value: &Value,
    ) -> Result<DfExpr, QueryError> {
        if *value == Value::Null {
            return Ok(unknown());
        }
        match (left, value) {
            (Expr::Time, Value::Timestamp(micros)) => {
                let start = first_nanos_of(*micros);
                let next = first_nanos_of(micros.saturating_add(1));
                let time = stored_time;
                Ok(match op {
                    CompareOp::GreaterOrEqual => time().gt_eq(self.time_bound(start)),
                    CompareOp::Greater => time().gt_eq(self.time_bound(next)),
                    CompareOp::Less => time().lt(self.time_bound(start)),
                    CompareOp::LessOrEqual => time().lt(self.time_bound(next)),
                    CompareOp::Equal => time()
                        .gt_eq(self.time_bound(start))
                        .and(time().lt(self.time_bound(next))),
                    CompareOp::NotEqual => time()
                        .lt(self.time_bound(start))
                        .or(time().gt_eq(self.time_bound(next))),
                })
            }
            (Expr::TimeNs, Value::Integer(ns)) => {
                Ok(apply(op, stored_time(), self.time_bound(*ns)))
            }
            _ => Ok(apply(op, self.ordered(left)?, Self::literal(value)?)),
        }
    }

    /// `expr [NOT] IN (list)` as comparisons with each item (each value of an array), never
    /// as DataFusion's list: its simplifier takes lists whose items are not literals for
    /// disjoint sets (it reduced `s <> ALL($1) OR s <> ALL($2)` to true in the plans
    /// EXPLAIN shows).
    fn in_list(&self, expr: &Expr, list: &[Expr], negated: bool) -> Result<DfExpr, QueryError> {
        let mut comparisons = Vec::new();
        for item in list {
            match self.value(item) {
                Some(Value::Array(values)) => {
                    for value in &values {
                        comparisons.push(self.compare_value(CompareOp::Equal, expr, value)?);
                    }
                }
                _ => comparisons.push(self.compare(CompareOp::Equal, expr, item)?),
            }
        }
        // An empty list gives the same answer for every row, NULL or not.
        let Some(any) = comparisons.into_iter().reduce(DfExpr::or) else {
            return Ok(lit(negated));
        };
        let answer = if negated { any.not() } else { any };
        if !self.may_be_null(expr) {
            return Ok(answer);
        }
        // DataFusion's simplifier merges two lists of one column joined by AND (or negated
        // ones by OR) into their intersection, and a list left empty into a constant, which
        // is wrong where the column is NULL and Postgres' answer is NULL. A list with this
        // second condition is no longer a bare list, and the condition changes no answer:
        // it is TRUE where the column has a value, and NULL where the list's answer is.
        let value = self.expr(expr)?;
        Ok(answer.and(value.is_not_null().or(lit(ScalarValue::Boolean(None)))))
    }

    /// Whether `expr` can be NULL in some row: a column not proven present in every row
    /// of every file, or a result of the query; never the time.
    fn may_be_null(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Column(name) => !self.facts.never_null.contains(name),
            Expr::Time
            | Expr::TimeNs
            | Expr::DateTrunc(..)
            | Expr::LocalDateTrunc { .. }
            | Expr::TimeBin { .. } => false,
            _ => true,
        }
    }

    /// The DataFusion aggregates for one Postgres aggregate, in the order of its result
    /// columns. `tie_breaker` orders the rows of a group at the same time for `first` and
    /// `last`, after the time (see [`Translator::tie_breaker`]).
    pub fn aggregate(
        &self,
        aggregate: &Aggregate,
        tie_breaker: Option<&DfExpr>,
    ) -> Result<Vec<AggregatePart>, QueryError> {
        let argument = match &aggregate.argument {
            Some(a) => Some(self.expr(a)?),
            None => None,
        };
        let arg = || {
            argument
                .clone()
                .ok_or_else(|| QueryError::Unsupported("an aggregate without argument".into()))
        };
        let argument_type = match &argument {
            Some(a) => Some(a.get_type(self.schema).map_err(QueryError::from)?),
            None => None,
        };
        let integer = argument_type.as_ref().is_some_and(DataType::is_integer);
        let float = argument_type == Some(DataType::Float64);
        // Postgres sums integers into numeric: exact, never overflowing.
        let exact_sum = || {
            Ok::<_, QueryError>(match &aggregate.argument {
                Some(Expr::Column(name)) if self.facts.narrow_sums.contains(name) => {
                    AggregatePart {
                        aggregate: run_sum_of_integers(arg()?),
                        finish: Some(|total| cast(total, EXACT_SUM)),
                    }
                }
                _ => AggregatePart::plain(sum(cast(arg()?, EXACT_SUM))),
            })
        };
        let extreme = |function: fn(DfExpr) -> DfExpr| {
            Ok::<_, QueryError>(if float {
                AggregatePart {
                    aggregate: function(pg_float_key(arg()?)),
                    finish: Some(pg_float_from_key),
                }
            } else {
                AggregatePart::plain(function(arg()?))
            })
        };
        let count_values = || {
            Ok::<_, QueryError>(AggregatePart::plain(match &aggregate.argument {
                Some(Expr::Column(name)) if self.facts.never_null.contains(name) => count_rows(),
                _ => count(arg()?),
            }))
        };
        let parts = match aggregate.function {
            AggregateFunction::CountRows => vec![AggregatePart::plain(count_rows())],
            AggregateFunction::Count => vec![count_values()?],
            AggregateFunction::CountDistinct => vec![AggregatePart::plain(count_distinct(arg()?))],
            AggregateFunction::Sum if integer => vec![exact_sum()?],
            AggregateFunction::Sum if float => vec![AggregatePart::plain(run_sum(arg()?))],
            AggregateFunction::Sum => vec![AggregatePart::plain(sum(arg()?))],
            AggregateFunction::Avg if integer => {
                vec![exact_sum()?, count_values()?]
            }
            AggregateFunction::Avg if float => vec![AggregatePart::plain(run_avg(arg()?))],
            AggregateFunction::Avg => vec![AggregatePart::plain(avg(arg()?))],
            // Postgres computes the `numeric` result of whole numbers from exact sums.
            AggregateFunction::Variance { .. } if integer => {
                vec![
                    count_values()?,
                    exact_sum()?,
                    AggregatePart::plain(sum_of_squares(arg()?)),
                ]
            }
            AggregateFunction::Variance { sample, stddev } if float => {
                vec![AggregatePart::plain(float_variance(arg()?, sample, stddev))]
            }
            AggregateFunction::Variance { .. } => {
                return Err(QueryError::Unsupported(
                    "a variance of neither integers nor floats".into(),
                ))
            }
            AggregateFunction::BoolAnd => vec![AggregatePart::plain(bool_and(arg()?))],
            AggregateFunction::BoolOr => vec![AggregatePart::plain(bool_or(arg()?))],
            AggregateFunction::Min => vec![extreme(min)?],
            AggregateFunction::Max => vec![extreme(max)?],
            AggregateFunction::First => {
                vec![AggregatePart::plain(first_value(
                    arg()?,
                    by_time_then(tie_breaker),
                ))]
            }
            AggregateFunction::Last => {
                vec![AggregatePart::plain(last_value(
                    arg()?,
                    by_time_then(tie_breaker),
                ))]
            }
            AggregateFunction::PercentileCont(fraction)
            | AggregateFunction::PercentileDisc(fraction) => {
                let kind = match aggregate.function {
                    AggregateFunction::PercentileCont(_) => Kind::Continuous,
                    _ => Kind::Discrete,
                };
                let value_type = argument_type.as_ref().unwrap_or(&DataType::Null);
                let call = percentile(kind, fraction.value(), arg()?, value_type)?;
                vec![AggregatePart::plain(call)]
            }
        };
        let Some(filter) = &aggregate.filter else {
            return Ok(parts);
        };
        let filter = self.expr(filter)?;
        parts
            .into_iter()
            .map(|part| {
                // Set on the call itself: DataFusion's builder (`.filter(..).build()`)
                // would also reset the call's DISTINCT and ORDER BY.
                let DfExpr::AggregateFunction(mut call) = part.aggregate else {
                    return Err(QueryError::Unsupported(
                        "a filter on a computed aggregate".into(),
                    ));
                };
                call.params.filter = Some(Box::new(filter.clone()));
                Ok(AggregatePart {
                    aggregate: DfExpr::AggregateFunction(call),
                    finish: part.finish,
                })
            })
            .collect()
    }

    /// What orders each group's rows at one time for the `first` and `last` aggregates of
    /// a request, after the time: their text and boolean arguments joined into one key.
    /// DataFusion breaks such ties one way for those types and another way for numbers, so
    /// with the key every such aggregate takes its value from the same row, and a
    /// `DISTINCT ON` (the last value of each column) returns a row that exists. Rows whose
    /// keys are equal too give the same text and booleans whichever of them is taken;
    /// numbers alone need no key, as they all break ties the same way.
    pub fn tie_breaker(&self, aggregates: &[Aggregate]) -> Result<Option<DfExpr>, QueryError> {
        let mut parts: Vec<DfExpr> = Vec::new();
        for aggregate in aggregates {
            if !matches!(
                aggregate.function,
                AggregateFunction::First | AggregateFunction::Last
            ) {
                continue;
            }
            let Some(argument) = &aggregate.argument else {
                continue;
            };
            let value = self.expr(argument)?;
            let joined = match value.get_type(self.schema)? {
                DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 | DataType::Boolean => {
                    true
                }
                DataType::Dictionary(_, value) => value.is_string(),
                _ => false,
            };
            if joined && !parts.contains(&value) {
                parts.push(value);
            }
        }
        // One key: each extra sort key costs every aggregate a comparison per row. A
        // separator no tag holds keeps ("a", NULL) apart from (NULL, "a").
        let parts: Vec<DfExpr> = parts
            .into_iter()
            .flat_map(|value| [cast(value, DataType::Utf8), lit("\u{1}")])
            .collect();
        Ok((!parts.is_empty()).then(|| concat(parts)))
    }
}

/// The order of `first` and `last`: by the stored time, then by the tie breaker.
fn by_time_then(tie_breaker: Option<&DfExpr>) -> Vec<SortExpr> {
    std::iter::once(stored_time())
        .chain(tie_breaker.cloned())
        .map(|e| e.sort(true, false))
        .collect()
}

/// `count(*)`, one expression for every count of rows so that the plan keeps one.
fn count_rows() -> DfExpr {
    count(lit(1i64))
}

/// One DataFusion aggregate of a Postgres aggregate, and the expression, if any, that
/// turns its result into the value Postgres expects.
pub(crate) struct AggregatePart {
    pub aggregate: DfExpr,
    pub finish: Option<fn(DfExpr) -> DfExpr>,
}

impl AggregatePart {
    fn plain(aggregate: DfExpr) -> AggregatePart {
        AggregatePart {
            aggregate,
            finish: None,
        }
    }
}

/// The Arrow type `time` is stored as.
fn stored_time_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some(UTC.into()))
}

fn param_number(expr: &Expr) -> usize {
    match expr {
        Expr::Param(n) => n + 1,
        _ => 0,
    }
}

fn apply(op: CompareOp, left: DfExpr, right: DfExpr) -> DfExpr {
    match op {
        CompareOp::Equal => left.eq(right),
        CompareOp::NotEqual => left.not_eq(right),
        CompareOp::Less => left.lt(right),
        CompareOp::LessOrEqual => left.lt_eq(right),
        CompareOp::Greater => left.gt(right),
        CompareOp::GreaterOrEqual => left.gt_eq(right),
    }
}
