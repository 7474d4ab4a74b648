//! The exact sum of the squares of whole numbers, which a variance of integers needs (see
//! `numeric_variance`). A square of a `bigint` takes up to 126 bits (of an unsigned field
//! 128) and their sum up to 189 (191), past any native integer: DataFusion's `sum` of
//! squares cast to 256-bit decimals made a standard deviation of `bigint` take two and a
//! half times as long as one of `double precision`. Squares are never negative, so each
//! group adds them into 128 bits and counts the carries out of them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Decimal256Array};
use arrow::datatypes::{i256, DataType, Decimal256Type, Field, FieldRef, Int64Type, UInt64Type};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, GroupsAccumulator, Signature,
    Volatility,
};

use super::one_group::OneGroup;
use super::run_sums::is_counted;

/// The type of the result: a whole number of up to 76 digits.
const SUM_OF_SQUARES: DataType = DataType::Decimal256(76, 0);

/// The sum of the squares of an `Int64` or `UInt64` expression, as `SUM_OF_SQUARES`; NULL
/// for a group without values.
pub fn sum_of_squares(value: Expr) -> Expr {
    AggregateUDF::from(SumOfSquares {
        signature: Signature::uniform(
            1,
            vec![DataType::Int64, DataType::UInt64],
            Volatility::Immutable,
        ),
    })
    .call(vec![value])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SumOfSquares {
    signature: Signature,
}

impl AggregateUDFImpl for SumOfSquares {
    fn name(&self) -> &str {
        "sum_of_squares"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arguments: &[DataType]) -> Result<DataType> {
        Ok(SUM_OF_SQUARES)
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        let name = format_state_name(args.name, "sum");
        Ok(vec![Arc::new(Field::new(name, SUM_OF_SQUARES, true))])
    }

    fn accumulator(&self, args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        let argument = args.expr_fields[0].data_type();
        Ok(Box::new(OneGroup::new(Groups::default(), argument)?))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::<Groups>::default())
    }
}

/// A group's sum: `carries` times 2^128 plus `low`, and whether it has any value.
#[derive(Debug, Clone, Copy, Default)]
struct Total {
    low: u128,
    carries: u64,
    any: bool,
}

impl Total {
    fn add(&mut self, square: u128) {
        let (low, carried) = self.low.overflowing_add(square);
        self.low = low;
        self.carries += u64::from(carried);
        self.any = true;
    }

    fn merge(&mut self, other: i256) {
        let (low, high) = other.to_parts();
        self.add(low);
        self.carries += high as u64;
    }

    fn value(&self) -> Option<i256> {
        self.any
            .then(|| i256::from_parts(self.low, i128::from(self.carries)))
    }
}

#[derive(Debug, Default)]
struct Groups {
    totals: Vec<Total>,
}

impl Groups {
    fn results(totals: &[Total]) -> ArrayRef {
        Arc::new(
            totals
                .iter()
                .map(Total::value)
                .collect::<Decimal256Array>()
                .with_data_type(SUM_OF_SQUARES),
        )
    }

    /// Adds the square of each counted value to its group's total.
    fn add_squares(
        &mut self,
        values: &ArrayRef,
        groups: &[usize],
        filter: Option<&BooleanArray>,
        total_groups: usize,
    ) {
        self.totals.resize(total_groups, Total::default());
        let nulls = values.nulls();
        match values.data_type() {
            DataType::Int64 => {
                let values = values.as_primitive::<Int64Type>().values();
                self.add_each(groups, |row| {
                    is_counted(nulls, filter, row)
                        .then(|| u128::from(values[row].unsigned_abs()).pow(2))
                })
            }
            _ => {
                let values = values.as_primitive::<UInt64Type>().values();
                self.add_each(groups, |row| {
                    is_counted(nulls, filter, row).then(|| u128::from(values[row]).pow(2))
                })
            }
        }
    }

    /// Adds `square(row)` of each row that has one to its group's total.
    fn add_each(&mut self, groups: &[usize], square: impl Fn(usize) -> Option<u128>) {
        for (row, &group) in groups.iter().enumerate() {
            if let Some(square) = square(row) {
                self.totals[group].add(square);
            }
        }
    }
}

impl GroupsAccumulator for Groups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.add_squares(&values[0], group_indices, opt_filter, total_num_groups);
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.totals.resize(total_num_groups, Total::default());
        let sums = values[0].as_primitive::<Decimal256Type>();
        for (row, &group) in group_indices.iter().enumerate() {
            if sums.is_valid(row) {
                self.totals[group].merge(sums.value(row));
            }
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let mut each = Groups::default();
        let rows: Vec<usize> = (0..values[0].len()).collect();
        each.add_squares(&values[0], &rows, opt_filter, rows.len());
        Ok(vec![Self::results(&each.totals)])
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(Self::results(&emit_to.take_needed(&mut self.totals)))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![Self::results(&emit_to.take_needed(&mut self.totals))])
    }

    fn size(&self) -> usize {
        self.totals.capacity() * size_of::<Total>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, UInt64Array};

    fn totals(
        values: ArrayRef,
        groups: &[usize],
        filter: Option<&BooleanArray>,
    ) -> Vec<Option<i256>> {
        let mut accumulator = Groups::default();
        accumulator
            .update_batch(&[values], groups, filter, 3)
            .unwrap();
        let results = accumulator.evaluate(EmitTo::All).unwrap();
        results.as_primitive::<Decimal256Type>().iter().collect()
    }

    #[test]
    fn squares_of_the_largest_values_add_up_exactly() {
        let values: ArrayRef = Arc::new(Int64Array::from(vec![
            Some(i64::MIN),
            Some(i64::MAX),
            Some(i64::MIN),
            None,
            Some(-3),
        ]));
        let min = i256::from_i128(i128::from(i64::MIN).pow(2));
        let max = i256::from_i128(i128::from(i64::MAX).pow(2));
        assert_eq!(
            totals(values, &[0, 0, 0, 1, 1], None),
            vec![Some(min + max + min), Some(i256::from_i128(9)), None]
        );
        let unsigned: ArrayRef = Arc::new(UInt64Array::from(vec![u64::MAX, u64::MAX, 2]));
        let square = i256::from_i128(i128::from(u64::MAX)) * i256::from_i128(i128::from(u64::MAX));
        let only_first_two = BooleanArray::from(vec![true, true, false]);
        assert_eq!(
            totals(unsigned, &[2, 2, 2], Some(&only_first_two)),
            vec![None, None, Some(square + square)]
        );
    }

    #[test]
    fn merged_sums_keep_their_carries() {
        let big = i256::from_i128(i128::from(i64::MIN).pow(2));
        let partial = big + big + big + big;
        let states: ArrayRef = Arc::new(
            Decimal256Array::from(vec![Some(partial), None, Some(partial)])
                .with_data_type(SUM_OF_SQUARES),
        );
        let mut accumulator = Groups::default();
        accumulator.merge_batch(&[states], &[0, 0, 0], 1).unwrap();
        let results = accumulator.evaluate(EmitTo::All).unwrap();
        let results = results.as_primitive::<Decimal256Type>();
        assert_eq!(results.value(0), partial + partial);
    }
}
