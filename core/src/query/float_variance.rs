//! `var_samp`, `var_pop`, `stddev_samp` and `stddev_pop` of `double precision` as Postgres
//! computes them: each group keeps the count, sum and sum of squared deviations of its
//! values, updated row by row by Youngs and Cramer's formulas (`float8_accum`) and merged
//! as `float8_combine` merges them, with Postgres' overflow error where finite values
//! overflow. DataFusion's own variance keeps other sums (Welford's), so its results differ
//! in their last digits and it raises no error.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, GroupsAccumulator, Signature,
    Volatility,
};

use super::one_group::OneGroup;
use super::run_sums::{is_counted, overflow_error};

/// The variance of a `Float64` expression (of a sample, or of the population), or with
/// `stddev` its square root.
pub fn float_variance(value: Expr, sample: bool, stddev: bool) -> Expr {
    AggregateUDF::from(FloatVariance {
        sample,
        stddev,
        signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
    })
    .call(vec![value])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FloatVariance {
    sample: bool,
    stddev: bool,
    signature: Signature,
}

impl AggregateUDFImpl for FloatVariance {
    fn name(&self) -> &str {
        // Not DataFusion's own names, whose results differ.
        match (self.sample, self.stddev) {
            (true, false) => "pg_var_samp",
            (false, false) => "pg_var_pop",
            (true, true) => "pg_stddev_samp",
            (false, true) => "pg_stddev_pop",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arguments: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(["count", "sum", "squares"]
            .into_iter()
            .map(|part| {
                let name = format_state_name(args.name, part);
                Arc::new(Field::new(name, DataType::Float64, false))
            })
            .collect())
    }

    fn accumulator(&self, _args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup::new(self.groups(), &DataType::Float64)?))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs<'_>) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        _args: AccumulatorArgs<'_>,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(self.groups()))
    }
}

impl FloatVariance {
    fn groups(&self) -> Groups {
        Groups {
            sample: self.sample,
            stddev: self.stddev,
            states: Vec::new(),
        }
    }
}

/// What Postgres keeps of a group's values: their count, sum, and sum of squared
/// deviations from their mean.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct State {
    count: f64,
    sum: f64,
    squares: f64,
}

impl State {
    /// `float8_accum`: adds one value.
    fn add(&mut self, value: f64) -> Result<()> {
        let before = *self;
        self.count += 1.0;
        self.sum += value;
        if before.count > 0.0 {
            let deviation = value * self.count - self.sum;
            self.squares += deviation * deviation / (self.count * before.count);
            if self.sum.is_infinite() || self.squares.is_infinite() {
                // Infinite values make the spread NaN without error; finite ones that
                // overflow raise.
                if !before.sum.is_infinite() && !value.is_infinite() {
                    return Err(overflow_error());
                }
                self.squares = f64::NAN;
            }
        } else if !value.is_finite() {
            // Else one infinite or NaN value alone would have a variance of zero.
            self.squares = f64::NAN;
        }
        Ok(())
    }

    /// `float8_combine`: adds the values another state holds.
    fn merge(&mut self, other: State) -> Result<()> {
        if other.count == 0.0 {
            return Ok(());
        }
        if self.count == 0.0 {
            *self = other;
            return Ok(());
        }
        let count = self.count + other.count;
        let sum = self.sum + other.sum;
        if sum.is_infinite() && self.sum.is_finite() && other.sum.is_finite() {
            return Err(overflow_error());
        }
        let difference = self.sum / self.count - other.sum / other.count;
        let squares = self.squares
            + other.squares
            + self.count * other.count * difference * difference / count;
        if squares.is_infinite() && self.squares.is_finite() && other.squares.is_finite() {
            return Err(overflow_error());
        }
        *self = State {
            count,
            sum,
            squares,
        };
        Ok(())
    }

    /// The aggregate's result: NULL where it is undefined, for no values, or one value of
    /// a sample.
    fn result(&self, sample: bool, stddev: bool) -> Option<f64> {
        let divisor = if sample { self.count - 1.0 } else { self.count };
        if divisor <= 0.0 {
            return None;
        }
        let variance = self.squares / divisor;
        Some(if stddev { variance.sqrt() } else { variance })
    }
}

/// The state of every group.
#[derive(Debug)]
struct Groups {
    sample: bool,
    stddev: bool,
    states: Vec<State>,
}

impl Groups {
    fn results(&self, states: &[State]) -> ArrayRef {
        Arc::new(
            states
                .iter()
                .map(|s| s.result(self.sample, self.stddev))
                .collect::<Float64Array>(),
        )
    }

    fn state_arrays(states: &[State]) -> Vec<ArrayRef> {
        let column = |part: fn(&State) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(states.iter().map(part)))
        };
        vec![
            column(|s| s.count),
            column(|s| s.sum),
            column(|s| s.squares),
        ]
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
        self.states.resize(total_num_groups, State::default());
        let values = values[0].as_primitive::<Float64Type>();
        for (row, &group) in group_indices.iter().enumerate() {
            if is_counted(values.nulls(), opt_filter, row) {
                self.states[group].add(values.value(row))?;
            }
        }
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.states.resize(total_num_groups, State::default());
        let [count, sum, squares] = [0, 1, 2].map(|i| values[i].as_primitive::<Float64Type>());
        for (row, &group) in group_indices.iter().enumerate() {
            self.states[group].merge(State {
                count: count.value(row),
                sum: sum.value(row),
                squares: squares.value(row),
            })?;
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let values = values[0].as_primitive::<Float64Type>();
        let mut states = vec![State::default(); values.len()];
        for (row, state) in states.iter_mut().enumerate() {
            if is_counted(values.nulls(), opt_filter, row) {
                state.add(values.value(row))?;
            }
        }
        Ok(Self::state_arrays(&states))
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let states = emit_to.take_needed(&mut self.states);
        Ok(self.results(&states))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let states = emit_to.take_needed(&mut self.states);
        Ok(Self::state_arrays(&states))
    }

    fn size(&self) -> usize {
        self.states.capacity() * size_of::<State>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::ScalarValue;

    fn state_of(values: &[f64]) -> Result<State> {
        let mut state = State::default();
        for &v in values {
            state.add(v)?;
        }
        Ok(state)
    }

    // Expected values are Postgres 15's, for example
    // `SELECT var_samp(x) FROM unnest(ARRAY[0.1, 0.2, 0.3]::float8[]) x`.
    #[test]
    fn results_are_postgres_to_the_last_bit() {
        let state = state_of(&[0.1, 0.2, 0.3]).unwrap();
        assert_eq!(state.result(true, false), Some(0.009999999999999992));
        assert_eq!(state.result(false, true), Some(0.08164965809277257));
        assert_eq!(state_of(&[5.0]).unwrap().result(true, true), None);
        assert_eq!(state_of(&[5.0]).unwrap().result(false, false), Some(0.0));
        assert_eq!(State::default().result(false, false), None);
    }

    #[test]
    fn without_groups_rows_in_batches_give_the_same_result() {
        let variance = FloatVariance {
            sample: true,
            stddev: false,
            signature: Signature::any(1, Volatility::Immutable),
        };
        let mut all = OneGroup::new(variance.groups(), &DataType::Float64).unwrap();
        assert_eq!(all.evaluate().unwrap(), ScalarValue::Float64(None));
        let batch =
            |values: Vec<f64>| -> Vec<ArrayRef> { vec![Arc::new(Float64Array::from(values))] };
        all.update_batch(&batch(vec![0.1, 0.2])).unwrap();
        all.update_batch(&batch(vec![0.3])).unwrap();
        let expected = ScalarValue::Float64(Some(0.009999999999999992));
        assert_eq!(all.evaluate().unwrap(), expected);
        let state = all.state().unwrap();
        assert_eq!(state[0], ScalarValue::Float64(Some(3.0)));
        // Neither the state nor the result takes the rows away.
        assert_eq!(all.evaluate().unwrap(), expected);
    }

    #[test]
    fn infinite_values_give_nan_and_finite_overflow_raises() {
        let infinite = state_of(&[f64::INFINITY]).unwrap();
        assert!(infinite.result(false, false).unwrap().is_nan());
        assert!(state_of(&[1.0, f64::INFINITY, 2.0])
            .unwrap()
            .result(true, true)
            .unwrap()
            .is_nan());
        assert!(state_of(&[1e308, -1e308]).is_err());
        assert!(state_of(&[1.7e308, 1.7e308]).is_err());
    }

    #[test]
    fn merged_states_combine_as_postgres_combines_them() {
        let mut left = state_of(&[1.0, 2.0]).unwrap();
        left.merge(state_of(&[3.0, 4.0]).unwrap()).unwrap();
        assert_eq!(left.result(true, false), Some(1.6666666666666667));
        let mut empty = State::default();
        empty.merge(state_of(&[3.0]).unwrap()).unwrap();
        assert_eq!(empty, state_of(&[3.0]).unwrap());
        let mut far = state_of(&[1e200]).unwrap();
        assert!(far.merge(state_of(&[-1e200]).unwrap()).is_err());
    }
}
