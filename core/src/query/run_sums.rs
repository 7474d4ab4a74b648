//! `sum` and `avg` of `double precision` that add up each run of rows of one group in a
//! register. A table's rows come sorted by series, then time, so a group (a series' hour)
//! arrives as a run of hundreds of rows. DataFusion's accumulators read and write the
//! group's running sum and count in memory for every row, each addition waiting for the
//! store of the one before: a fifth of a wide aggregate's time. These make the same
//! additions in the same order, so their results are the same to the last bit, and raise
//! Postgres' error where an addition of finite values overflows.

use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, ArrowNativeTypeOp, ArrowPrimitiveType, AsArray, BooleanArray, PrimitiveArray,
    UInt64Array,
};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::compute::kernels::numeric::div;
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type, UInt64Type};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, GroupsAccumulator, Signature,
    Volatility,
};

use super::one_group::OneGroup;

/// `sum(value)` of a `Float64` expression.
pub fn run_sum(value: Expr) -> Expr {
    AggregateUDF::from(RunSum::new(Finish::Sum, DataType::Float64)).call(vec![value])
}

/// `avg(value)` of a `Float64` expression.
pub fn run_avg(value: Expr) -> Expr {
    AggregateUDF::from(RunSum::new(Finish::Average, DataType::Float64)).call(vec![value])
}

/// `sum(value)` of an `Int64` expression whose sums are known not to overflow (see
/// `narrow_sums`): the wrapping additions are exact.
pub fn run_sum_of_integers(value: Expr) -> Expr {
    AggregateUDF::from(RunSum::new(Finish::Sum, DataType::Int64)).call(vec![value])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Finish {
    Sum,
    /// The sum divided by the count, as `Float64`.
    Average,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct RunSum {
    finish: Finish,
    summed: DataType,
    signature: Signature,
}

impl RunSum {
    fn new(finish: Finish, summed: DataType) -> RunSum {
        RunSum {
            finish,
            signature: Signature::exact(vec![summed.clone()], Volatility::Immutable),
            summed,
        }
    }

    fn totals<T: ArrowPrimitiveType>(&self, start: T::Native) -> GroupTotals<T> {
        GroupTotals {
            finish: self.finish,
            start,
            sums: Vec::new(),
            counts: Vec::new(),
            summed: PhantomData,
        }
    }

    /// Where a float total starts. Postgres' `sum` starts from the first value, so a sum of
    /// `-0`s is `-0`: starting from `-0`, which added to any value gives that value, gives
    /// the same. Its `avg` starts from `0`, so an average of `-0`s is `0`.
    fn float_start(&self) -> f64 {
        match self.finish {
            Finish::Sum => -0.0,
            Finish::Average => 0.0,
        }
    }
}

impl AggregateUDFImpl for RunSum {
    fn name(&self) -> &str {
        match self.finish {
            Finish::Sum => "sum",
            Finish::Average => "avg",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arguments: &[DataType]) -> Result<DataType> {
        Ok(match self.finish {
            Finish::Sum => self.summed.clone(),
            Finish::Average => DataType::Float64,
        })
    }

    fn state_fields(&self, _args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![
            Arc::new(Field::new("sum", self.summed.clone(), false)),
            Arc::new(Field::new("count", DataType::UInt64, false)),
        ])
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(match self.summed {
            DataType::Int64 => Box::new(OneGroup::new(self.totals::<Int64Type>(0), &self.summed)?),
            _ => Box::new(OneGroup::new(
                self.totals::<Float64Type>(self.float_start()),
                &self.summed,
            )?),
        })
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(match self.summed {
            DataType::Int64 => Box::new(self.totals::<Int64Type>(0)),
            _ => Box::new(self.totals::<Float64Type>(self.float_start())),
        })
    }
}

/// A type these aggregates add up, and how its additions overflow.
trait Summed: ArrowPrimitiveType {
    /// Whether additions can overflow: integers are summed only where they cannot
    /// (`run_sum_of_integers`).
    const CHECKED: bool;

    /// `value`'s magnitude, for `may_have_overflowed`.
    fn magnitude(value: Self::Native) -> f64;

    /// Whether adding values no larger than `largest` to `total` may have overflowed
    /// before giving `sum` of `rows` rows: a cheap screen, true wherever `overflowed` can be.
    fn may_have_overflowed(
        finish: Finish,
        total: Self::Native,
        sum: Self::Native,
        rows: u64,
        largest: f64,
    ) -> bool;

    /// Whether adding `value`, the sum of `rows` rows, to `total`, the sum of `before`
    /// rows, giving `sum`, overflows where Postgres raises its error.
    fn overflowed(
        finish: Finish,
        total: Self::Native,
        before: u64,
        value: Self::Native,
        rows: u64,
        sum: Self::Native,
    ) -> bool;
}

/// Below this, no square of `spread_overflowed` overflows: the square root of the largest
/// double, 1.34e154, with room for rounding.
const SAFE_SPREAD: f64 = 1e154;

impl Summed for Float64Type {
    const CHECKED: bool = true;

    fn magnitude(value: f64) -> f64 {
        value.abs()
    }

    fn may_have_overflowed(finish: Finish, total: f64, sum: f64, rows: u64, largest: f64) -> bool {
        // Each row's `value * N - sum` is at most `2 * rows * largest + |total|`; a sum
        // that is not finite may hide an overflow before an infinity or a NaN.
        !sum.is_finite()
            || (finish == Finish::Average
                && 2.0 * rows as f64 * largest + total.abs() >= SAFE_SPREAD)
    }

    fn overflowed(
        finish: Finish,
        total: f64,
        before: u64,
        value: f64,
        rows: u64,
        sum: f64,
    ) -> bool {
        // An infinite operand gives an infinite sum without error, and makes the spread
        // Postgres keeps beside the sum NaN, which it no longer checks.
        if total.is_infinite() || value.is_infinite() {
            return false;
        }
        sum.is_infinite()
            || (finish == Finish::Average
                && before > 0
                && spread_overflowed(total, before, value, rows, sum))
    }
}

/// Whether the sum of squared deviations that Postgres' `avg(double precision)` keeps (for
/// `variance`, which shares its state) overflows. `float8_accum` adds a row's
/// `(value * N - sum)²`, `float8_combine` a merged state's `N1 * N2 * d²` (`d` the
/// difference of the two means), each divided afterwards; the divided squares add up to
/// less than the largest of them, so only a square can overflow.
fn spread_overflowed(total: f64, before: u64, value: f64, rows: u64, sum: f64) -> bool {
    let square = if rows == 1 {
        let d = value * (before + 1) as f64 - sum;
        d * d
    } else {
        let d = total / before as f64 - value / rows as f64;
        before as f64 * rows as f64 * d * d
    };
    square.is_infinite()
}

impl Summed for Int64Type {
    const CHECKED: bool = false;

    fn magnitude(_: i64) -> f64 {
        0.0
    }

    fn may_have_overflowed(_: Finish, _: i64, _: i64, _: u64, _: f64) -> bool {
        false
    }

    fn overflowed(_: Finish, _: i64, _: u64, _: i64, _: u64, _: i64) -> bool {
        false
    }
}

/// Postgres' error for a float addition that overflowed.
pub(super) fn overflow_error() -> DataFusionError {
    DataFusionError::External(Box::new(super::QueryError::Overflow))
}

/// Whether row `row` counts: its value is not NULL (by `nulls`, the values' null buffer)
/// and the aggregate's filter, if any, is true for it.
pub(super) fn is_counted(
    nulls: Option<&NullBuffer>,
    filter: Option<&BooleanArray>,
    row: usize,
) -> bool {
    nulls.is_none_or(|n| n.is_valid(row)) && filter.is_none_or(|f| f.is_valid(row) && f.value(row))
}

/// The sum and count of every group.
#[derive(Debug)]
struct GroupTotals<T: ArrowPrimitiveType> {
    finish: Finish,
    /// Each group's total before its first value.
    start: T::Native,
    sums: Vec<T::Native>,
    counts: Vec<u64>,
    summed: PhantomData<fn() -> T>,
}

impl<T: Summed> GroupTotals<T> {
    /// Adds `add(row)` of each counted row to its group's total, run by run, and
    /// `count(row)` to its count; an addition that overflows fails them all. A run that may
    /// have overflowed, given the largest magnitude it adds, or any run when `exact`, is
    /// added again row by row to find out: checking every addition made an average of
    /// floats a quarter slower, keeping the largest magnitude costs it about 2%.
    fn add_runs(
        &mut self,
        groups: &[usize],
        total_groups: usize,
        exact: bool,
        counted: impl Fn(usize) -> bool,
        add: impl Fn(usize) -> T::Native,
        count: impl Fn(usize) -> u64,
    ) -> Result<()> {
        self.sums.resize(total_groups, self.start);
        self.counts.resize(total_groups, 0);
        let mut row = 0;
        while row < groups.len() {
            let group = groups[row];
            let (total, before) = (self.sums[group], self.counts[group]);
            let (first, mut sum, mut rows, mut largest) = (row, total, 0, 0.0);
            while row < groups.len() && groups[row] == group {
                if counted(row) {
                    let value = add(row);
                    sum = sum.add_wrapping(value);
                    // NaN compares false: left out, as `may_have_overflowed` allows.
                    if T::CHECKED && T::magnitude(value) > largest {
                        largest = T::magnitude(value);
                    }
                    rows += count(row);
                }
                row += 1;
            }
            self.sums[group] = sum;
            self.counts[group] += rows;
            let suspect =
                exact || T::may_have_overflowed(self.finish, total, sum, before + rows, largest);
            if T::CHECKED && suspect {
                let mut sum = total;
                let mut before = before;
                for row in (first..row).filter(|&row| counted(row)) {
                    let (value, rows) = (add(row), count(row));
                    let total = sum;
                    sum = total.add_wrapping(value);
                    if T::overflowed(self.finish, total, before, value, rows, sum) {
                        return Err(overflow_error());
                    }
                    before += rows;
                }
            }
        }
        Ok(())
    }

    fn add_values(
        &mut self,
        values: &ArrayRef,
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total_groups: usize,
    ) -> Result<()> {
        let values = values.as_primitive::<T>();
        let data = values.values();
        if values.null_count() == 0 && filter.is_none() {
            self.add_runs(groups, total_groups, false, |_| true, |r| data[r], |_| 1)
        } else {
            self.add_runs(
                groups,
                total_groups,
                false,
                |r| is_counted(values.nulls(), filter, r),
                |r| data[r],
                |_| 1,
            )
        }
    }

    fn add_states(
        &mut self,
        states: &[ArrayRef],
        groups: &[usize],
        total_groups: usize,
    ) -> Result<()> {
        let sums = states[0].as_primitive::<T>();
        let counts_of = states[1].as_primitive::<UInt64Type>();
        // A state of no values adds nothing: not even its start, which would turn a sum
        // of `-0`s into `0`. States are few: each addition is checked.
        self.add_runs(
            groups,
            total_groups,
            true,
            |r| is_counted(sums.nulls(), None, r) && counts_of.value(r) > 0,
            |r| sums.value(r),
            |r| counts_of.value(r),
        )
    }

    /// Each group's result: NULL for a group without values.
    fn results(&self, sums: Vec<T::Native>, counts: Vec<u64>) -> Result<ArrayRef> {
        let counts = UInt64Array::new(counts.into(), None);
        let valid = NullBuffer::from(counts.values().iter().map(|&c| c > 0).collect::<Vec<_>>());
        let sums = PrimitiveArray::<T>::new(sums.into(), Some(valid));
        Ok(match self.finish {
            Finish::Sum => Arc::new(sums),
            Finish::Average => div(
                &cast(&sums, &DataType::Float64)?,
                &cast(&counts, &DataType::Float64)?,
            )?,
        })
    }

    fn states(sums: Vec<T::Native>, counts: Vec<u64>) -> Vec<ArrayRef> {
        vec![
            Arc::new(PrimitiveArray::<T>::new(sums.into(), None)),
            Arc::new(UInt64Array::new(counts.into(), None)),
        ]
    }
}

impl<T: Summed + Debug> GroupsAccumulator for GroupTotals<T> {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add_values(&values[0], group_indices, opt_filter, total_num_groups)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.add_states(values, group_indices, total_num_groups)
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = values[0].as_primitive::<T>();
        let counted = |row| is_counted(values.nulls(), opt_filter, row);
        let sums = (0..values.len())
            .map(|row| {
                if counted(row) {
                    values.value(row)
                } else {
                    self.start
                }
            })
            .collect();
        let counts = (0..values.len())
            .map(|row| u64::from(counted(row)))
            .collect();
        Ok(Self::states(sums, counts))
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let sums = emit_to.take_needed(&mut self.sums);
        let counts = emit_to.take_needed(&mut self.counts);
        self.results(sums, counts)
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let sums = emit_to.take_needed(&mut self.sums);
        let counts = emit_to.take_needed(&mut self.counts);
        Ok(Self::states(sums, counts))
    }

    fn size(&self) -> usize {
        self.sums.capacity() * size_of::<T::Native>() + self.counts.capacity() * size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array};
    use datafusion::common::ScalarValue;

    fn totals(finish: Finish) -> GroupTotals<Float64Type> {
        let sum = RunSum::new(finish, DataType::Float64);
        sum.totals(sum.float_start())
    }

    fn floats(values: &[Option<f64>]) -> ArrayRef {
        Arc::new(values.iter().copied().collect::<Float64Array>())
    }

    fn results(accumulator: &mut dyn GroupsAccumulator) -> Vec<Option<f64>> {
        let array = accumulator.evaluate(EmitTo::All).unwrap();
        array.as_primitive::<Float64Type>().iter().collect()
    }

    #[test]
    fn groups_in_runs_and_scattered_add_up_in_row_order() {
        // 0.1 + 0.2 + 0.3 differs from 0.3 + 0.2 + 0.1 in its last bit: each group's
        // values are added in the order of their rows, runs or not.
        let values = floats(&[Some(0.1), Some(0.2), Some(1.0), Some(0.3), None, Some(5.0)]);
        let groups = [0, 0, 1, 0, 2, 1];
        let mut sums = totals(Finish::Sum);
        sums.update_batch(std::slice::from_ref(&values), &groups, None, 3)
            .unwrap();
        assert_eq!(results(&mut sums), [Some(0.1 + 0.2 + 0.3), Some(6.0), None]);
        let mut averages = totals(Finish::Average);
        averages.update_batch(&[values], &groups, None, 3).unwrap();
        assert_eq!(
            results(&mut averages),
            [Some((0.1 + 0.2 + 0.3) / 3.0), Some(3.0), None]
        );
    }

    #[test]
    fn integer_sums_are_integers() {
        let mut sums: GroupTotals<Int64Type> = RunSum::new(Finish::Sum, DataType::Int64).totals(0);
        let values: ArrayRef = Arc::new(Int64Array::from(vec![Some(5), None, Some(-7), Some(1)]));
        sums.update_batch(&[values], &[1, 1, 1, 2], None, 4)
            .unwrap();
        let results = sums.evaluate(EmitTo::All).unwrap();
        let results: Vec<Option<i64>> = results.as_primitive::<Int64Type>().iter().collect();
        assert_eq!(results, [None, Some(-2), Some(1), None]);
    }

    #[test]
    fn a_sum_of_negative_zeros_is_negative_zero_and_their_average_zero() {
        // As in Postgres: `sum` starts from the first value, `avg` from 0. Group 1 gets
        // its -0 through a merged state, beside a state of no values.
        let zeros = floats(&[Some(-0.0), Some(-0.0), Some(0.0), Some(-0.0)]);
        let signs = |accumulator: &mut GroupTotals<Float64Type>| {
            results(accumulator)
                .iter()
                .map(|r| r.map(|v| v.is_sign_negative()))
                .collect::<Vec<_>>()
        };
        let mut sums = totals(Finish::Sum);
        sums.update_batch(std::slice::from_ref(&zeros), &[0, 0, 2, 2], None, 3)
            .unwrap();
        let mut part = totals(Finish::Sum);
        part.update_batch(&[floats(&[Some(-0.0), None])], &[0, 1], None, 2)
            .unwrap();
        sums.merge_batch(&part.state(EmitTo::All).unwrap(), &[1, 1], 3)
            .unwrap();
        assert_eq!(signs(&mut sums), [Some(true), Some(true), Some(false)]);
        let mut averages = totals(Finish::Average);
        averages
            .update_batch(&[zeros], &[0, 0, 1, 1], None, 2)
            .unwrap();
        assert_eq!(signs(&mut averages), [Some(false), Some(false)]);
    }

    #[test]
    fn rows_the_filter_leaves_out_are_not_counted() {
        let values = floats(&[Some(1.0), Some(2.0), Some(4.0)]);
        let filter = BooleanArray::from(vec![Some(true), Some(false), None]);
        let mut averages = totals(Finish::Average);
        averages
            .update_batch(&[values], &[0, 0, 0], Some(&filter), 1)
            .unwrap();
        assert_eq!(results(&mut averages), [Some(1.0)]);
    }

    #[test]
    fn merged_states_give_the_average_of_all_rows() {
        let mut first = totals(Finish::Average);
        first
            .update_batch(&[floats(&[Some(1.0), Some(2.0)])], &[0, 1], None, 2)
            .unwrap();
        let mut second = totals(Finish::Average);
        second
            .update_batch(
                &[floats(&[Some(4.0), Some(7.0), None])],
                &[0, 0, 1],
                None,
                2,
            )
            .unwrap();
        let mut merged = totals(Finish::Average);
        merged
            .merge_batch(&first.state(EmitTo::All).unwrap(), &[0, 1], 2)
            .unwrap();
        merged
            .merge_batch(&second.state(EmitTo::All).unwrap(), &[0, 1], 2)
            .unwrap();
        // Rows passed on as states of their own, as a partial aggregate may.
        let rows = merged
            .convert_to_state(&[floats(&[Some(3.0), None])], None)
            .unwrap();
        merged.merge_batch(&rows, &[1, 0], 2).unwrap();
        assert_eq!(results(&mut merged), [Some(4.0), Some(2.5)]);
    }

    #[test]
    fn an_addition_of_finite_values_that_overflows_fails() {
        let overflows = |result: Result<()>| {
            matches!(result, Err(DataFusionError::External(e))
                if matches!(e.downcast_ref(), Some(super::super::QueryError::Overflow)))
        };
        for finish in [Finish::Sum, Finish::Average] {
            let mut sums = totals(finish);
            let big = floats(&[Some(1e308), Some(f64::INFINITY), Some(1e308)]);
            // An infinite value makes an infinite sum, as in Postgres.
            assert!(sums.update_batch(&[big], &[0, 1, 1], None, 2).is_ok());
            assert!(overflows(sums.update_batch(
                &[floats(&[Some(1e308)])],
                &[0],
                None,
                2
            )));
            // Partial sums merged overflow as Postgres' combine function does.
            let mut part = totals(finish);
            part.update_batch(&[floats(&[Some(-1e308), Some(-1e308)])], &[0, 1], None, 2)
                .unwrap();
            let mut merged = totals(finish);
            let state = part.state(EmitTo::All).unwrap();
            merged.merge_batch(&state, &[0, 1], 2).unwrap();
            assert!(overflows(merged.merge_batch(&state, &[0, 1], 2)));
        }
        // avg: values far apart overflow the spread Postgres keeps beside the sum, row by
        // row and in merged states of one or more rows.
        let mut averages = totals(Finish::Average);
        let far = floats(&[Some(1e200), Some(1e200), Some(-1e200), Some(1e200)]);
        assert!(overflows(averages.update_batch(
            std::slice::from_ref(&far),
            &[0, 0, 0, 1],
            None,
            2
        )));
        let mut sums = totals(Finish::Sum);
        assert!(sums.update_batch(&[far], &[0, 0, 0, 1], None, 2).is_ok());
        let mut near = totals(Finish::Average);
        near.update_batch(&[floats(&[Some(1e200), Some(1e200)])], &[0, 1], None, 2)
            .unwrap();
        let mut opposite = totals(Finish::Average);
        opposite
            .update_batch(&[floats(&[Some(-1e200), Some(-1e200)])], &[0, 0], None, 2)
            .unwrap();
        let mut merged = totals(Finish::Average);
        merged
            .merge_batch(&near.state(EmitTo::All).unwrap(), &[0, 1], 2)
            .unwrap();
        let opposite = opposite.state(EmitTo::All).unwrap();
        assert!(overflows(merged.merge_batch(&opposite, &[1, 0], 2)));
        // Smaller values, alternating: the square of `(value * N - sum)` overflows at the
        // 15th row, as Postgres finds (and not with 13 rows).
        let alternating = |rows: usize| {
            floats(
                &(1..=rows)
                    .map(|i| Some(if i % 2 == 0 { 1e153 } else { -1e153 }))
                    .collect::<Vec<_>>(),
            )
        };
        let mut averages = totals(Finish::Average);
        assert!(averages
            .update_batch(&[alternating(13)], &[0; 13], None, 1)
            .is_ok());
        let mut averages = totals(Finish::Average);
        assert!(overflows(averages.update_batch(
            &[alternating(30)],
            &[0; 30],
            None,
            1
        )));
        // A NaN in the batch does not hide another group's spread.
        let mut averages = totals(Finish::Average);
        let nan_beside = floats(
            &std::iter::once(Some(f64::NAN))
                .chain((1..=30).map(|i| Some(if i % 2 == 0 { 1e153 } else { -1e153 })))
                .collect::<Vec<_>>(),
        );
        let groups: Vec<usize> = std::iter::once(0).chain([1; 30]).collect();
        assert!(overflows(averages.update_batch(
            &[nan_beside],
            &groups,
            None,
            2
        )));
        let mut integers: GroupTotals<Int64Type> =
            RunSum::new(Finish::Sum, DataType::Int64).totals(0);
        let values: ArrayRef = Arc::new(Int64Array::from(vec![i64::MAX, 1]));
        assert!(integers.update_batch(&[values], &[0, 0], None, 1).is_ok());
    }

    #[test]
    fn without_groups_the_total_is_null_until_a_value_counts() {
        let mut total = OneGroup::new(totals(Finish::Sum), &DataType::Float64).unwrap();
        total.update_batch(&[floats(&[None])]).unwrap();
        assert_eq!(total.evaluate().unwrap(), ScalarValue::Float64(None));
        total.update_batch(&[floats(&[Some(2.5), None])]).unwrap();
        let state: Vec<ArrayRef> = total
            .state()
            .unwrap()
            .iter()
            .map(|s| s.to_array().unwrap())
            .collect();
        total.merge_batch(&state).unwrap();
        assert_eq!(total.evaluate().unwrap(), ScalarValue::Float64(Some(5.0)));
    }
}
