//! What a pushed-down query asks for, as the planner serialises it into the plan.

use serde::{Deserialize, Serialize};

use super::expr::{Aggregate, AggregateFunction, Expr, LocalZone, NumberType, TruncUnit};
use super::local_trunc::LocalBuckets;
use crate::line_protocol::FieldType;
use crate::schema::{Column, ColumnKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    /// The table's stored columns (tags and fields), as they are now.
    pub columns: Vec<Column>,
    /// Conditions every row must meet.
    pub filters: Vec<Expr>,
    pub shape: Shape,
    /// Conditions every group must meet (`HAVING`), over the results ([`Expr::Output`]).
    pub having: Vec<Expr>,
    /// The order of the results, most significant key first; empty for any order.
    pub order: Vec<SortKey>,
    pub limit: Option<Limit>,
}

/// One key of `ORDER BY`: a result column in Postgres' order of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SortKey {
    /// The result column, counted as Postgres sees them (`time` then the columns of
    /// [`Shape::Rows`]; the keys then the aggregates of [`Shape::Groups`]).
    pub output: usize,
    pub descending: bool,
    pub nulls_first: bool,
    /// Whether Postgres compares the result as a `timestamptz` (`time`, a time bucket),
    /// which holds stored times to the microsecond: times in one microsecond are equal.
    /// `time_ns`, the same stored times, is compared to the nanosecond.
    pub microseconds: bool,
}

/// `LIMIT count OFFSET offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub offset: usize,
    /// None: all rows after the offset.
    pub count: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    /// The matching rows: `time`, then the named stored columns.
    Rows { columns: Vec<String> },
    /// One row per group: the keys, then each aggregate's result columns
    /// (see [`crate::query::result_columns`]).
    Groups {
        keys: Vec<Expr>,
        aggregates: Vec<Aggregate>,
    },
}

impl QueryRequest {
    /// Whether the request gives no rows when no stored row is read, whatever the values
    /// of its parameters: rows, or groups by keys. An aggregate without keys gives a row.
    pub fn is_empty_without_rows(&self) -> bool {
        match &self.shape {
            Shape::Rows { .. } => true,
            Shape::Groups { keys, .. } => !keys.is_empty(),
        }
    }

    /// The buckets of each `date_trunc` in local time the request computes, in its
    /// filters, keys and aggregates (or of whose local time it takes a field), with its
    /// unit and zone, for the executor to find when the scan starts (see
    /// [`Expr::LocalDateTrunc`]).
    pub fn local_buckets_mut(&mut self) -> Vec<(TruncUnit, &LocalZone, &mut LocalBuckets)> {
        let mut exprs: Vec<&mut Expr> = self.filters.iter_mut().collect();
        if let Shape::Groups { keys, aggregates } = &mut self.shape {
            exprs.extend(keys.iter_mut());
            for aggregate in aggregates {
                exprs.extend(aggregate.argument.iter_mut().chain(&mut aggregate.filter));
            }
        }
        let mut found = Vec::new();
        for expr in exprs {
            expr.local_truncs_mut(&mut found);
        }
        found
    }

    /// Whether result column `output` is one the engine computes, so it can order and
    /// filter by it: any but an average, variance or standard deviation of integers, which
    /// Postgres finishes itself to give them numeric's scale.
    pub fn is_engine_result(&self, output: usize) -> bool {
        match &self.shape {
            Shape::Rows { columns } => output <= columns.len(),
            Shape::Groups { keys, aggregates } => match output.checked_sub(keys.len()) {
                None => true,
                Some(i) => aggregates.get(i).is_some_and(|a| {
                    !matches!(
                        a.function,
                        AggregateFunction::Avg | AggregateFunction::Variance { .. }
                    ) || !self.is_integer(a.argument.as_ref())
                }),
            },
        }
    }

    /// Whether the engine sorts every matching row: an order over rows without a limit
    /// (a limit makes it a top-N, which keeps only the top rows).
    pub fn sorts_all_rows(&self) -> bool {
        matches!(self.shape, Shape::Rows { .. }) && !self.order.is_empty() && self.limit.is_none()
    }

    /// Whether a `count(DISTINCT)` is computed per group: with keys, which the engine does
    /// in two steps (see `distinct_groups`).
    pub fn counts_distinct_per_group(&self) -> bool {
        matches!(&self.shape, Shape::Groups { keys, aggregates }
            if !keys.is_empty()
                && aggregates.iter().any(|a| a.function == AggregateFunction::CountDistinct))
    }

    /// Whether the engine would count distinct values per group in one step, keeping a set
    /// of values for each group (about 2 KiB for text, so a few hundred groups can exceed
    /// `work_mem`): a `count(DISTINCT)` beside `first`/`last`, a variance, a percentile, or
    /// a `count(DISTINCT)` of another column, which do not merge from its two steps, or
    /// with a `FILTER` on any aggregate, which its steps do not carry. Postgres groups such
    /// a query instead, sorting the values; the engine refuses it.
    pub fn counts_distinct_in_one_step(&self) -> bool {
        let Shape::Groups { aggregates, .. } = &self.shape else {
            return false;
        };
        let mut counted = aggregates
            .iter()
            .filter(|a| a.function == AggregateFunction::CountDistinct)
            .map(|a| &a.argument);
        let first_counted = counted.next();
        self.counts_distinct_per_group()
            && (counted.any(|other| Some(other) != first_counted)
                || aggregates.iter().any(|a| {
                    a.filter.is_some()
                        || matches!(
                            a.function,
                            AggregateFunction::First
                                | AggregateFunction::Last
                                | AggregateFunction::Variance { .. }
                        )
                        || a.function.is_percentile()
                }))
    }

    /// `Last` if every aggregate takes the value at its group's latest time, `First` if
    /// every one takes it at the earliest; None for any other query.
    pub fn extreme_aggregate(&self) -> Option<AggregateFunction> {
        let Shape::Groups { aggregates, .. } = &self.shape else {
            return None;
        };
        let function = aggregates.first()?.function;
        let extreme = matches!(function, AggregateFunction::Last | AggregateFunction::First);
        // A filtered one takes the value at the latest time its condition meets, which
        // the group's latest time does not bound.
        (extreme
            && aggregates
                .iter()
                .all(|a| a.function == function && a.filter.is_none()))
        .then_some(function)
    }

    /// The columns some aggregate of the request adds up (`sum`, `avg`, a variance).
    pub fn summed_columns(&self) -> Vec<&str> {
        self.aggregated_columns(|f| {
            matches!(
                f,
                AggregateFunction::Sum
                    | AggregateFunction::Avg
                    | AggregateFunction::Variance { .. }
            )
        })
    }

    /// The columns some aggregate of the request counts the values of (`count`, `avg`, a
    /// variance).
    pub fn counted_columns(&self) -> Vec<&str> {
        self.aggregated_columns(|f| {
            matches!(
                f,
                AggregateFunction::Count
                    | AggregateFunction::Avg
                    | AggregateFunction::Variance { .. }
            )
        })
    }

    fn aggregated_columns(&self, counts: impl Fn(AggregateFunction) -> bool) -> Vec<&str> {
        let Shape::Groups { aggregates, .. } = &self.shape else {
            return Vec::new();
        };
        aggregates
            .iter()
            .filter(|a| counts(a.function))
            .filter_map(|a| match &a.argument {
                Some(Expr::Column(name)) => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    fn is_integer(&self, expr: Option<&Expr>) -> bool {
        match expr {
            Some(Expr::TimeNs) => true,
            Some(Expr::Column(name)) => self.columns.iter().any(|c| {
                c.name == *name
                    && matches!(
                        c.kind,
                        ColumnKind::Field(FieldType::Integer | FieldType::Unsigned)
                    )
            }),
            Some(computed) => computed.number_type() == Some(NumberType::Integer),
            None => false,
        }
    }
}
