//! `percentile_cont(fraction) WITHIN GROUP (ORDER BY value)` of `double precision` and
//! `percentile_disc` of `double precision` and `bigint`, as Postgres computes them.
//!
//! Postgres sorts each group's values (NULLs left out, floats with NaN above all).
//! `percentile_cont` takes the value at place `fraction * (n - 1)` (from 0), or the two
//! around it, `lower + (upper - lower) * part`; `percentile_disc` takes the first value
//! whose place (from 1) reaches `fraction * n`. DataFusion's own `percentile_cont` rounds
//! that part to millionths and orders floats by IEEE 754 total order.
//!
//! Each group keeps its values until its result is made, then selects the one or two it
//! needs rather than sorting them all. DataFusion spills the lists of many groups, but not
//! a part of one group's, where Postgres' sort of a group does: the glue pushes
//! percentiles down only where all the values a query may read fit in `work_mem`
//! (`sort_memory::percentile_values_fit`).

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, FieldRef, Float64Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, Expr, GroupsAccumulator, Signature,
    Volatility,
};

use super::float_order::{from_order_key, order_key};
use super::one_group::OneGroup;
use super::run_sums::is_counted;
use super::QueryError;

/// Which percentile of a group's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `percentile_cont`: interpolated between the values around its place.
    Continuous,
    /// `percentile_disc`: the value at its place.
    Discrete,
}

impl Kind {
    /// The places, from 0, of the values the percentile at `fraction` of `count` values
    /// is made of, and its position between them.
    fn places(self, fraction: f64, count: usize) -> (usize, usize, f64) {
        match self {
            // `percentile_cont_final_common`.
            Kind::Continuous => {
                let position = fraction * (count - 1) as f64;
                (
                    position.floor() as usize,
                    position.ceil() as usize,
                    position,
                )
            }
            // `percentile_disc_final`: the row numbered `ceil(fraction * count)` from 1, the
            // first for a fraction of 0.
            Kind::Discrete => {
                let place = ((fraction * count as f64).ceil() as usize).max(1) - 1;
                (place, place, place as f64)
            }
        }
    }
}

/// The percentile of `kind` at `fraction` (between 0 and 1) of `value`, a `Float64` or, for
/// [`Kind::Discrete`], an `Int64` expression of `value_type`.
pub fn percentile(
    kind: Kind,
    fraction: f64,
    value: Expr,
    value_type: &DataType,
) -> Result<Expr, QueryError> {
    let float = match (kind, value_type) {
        (_, DataType::Float64) => true,
        (Kind::Discrete, DataType::Int64) => false,
        _ => {
            return Err(QueryError::Unsupported(format!(
                "a percentile of {value_type}"
            )))
        }
    };
    Ok(AggregateUDF::from(Percentile {
        kind,
        fraction_bits: fraction.to_bits(),
        float,
        signature: Signature::exact(vec![value_type.clone()], Volatility::Immutable),
    })
    .call(vec![value]))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Percentile {
    kind: Kind,
    /// The fraction's bits: floats have no `Eq`.
    fraction_bits: u64,
    /// Whether the values are floats, kept as keys in Postgres' order (`float_order`);
    /// else integers, kept as they are.
    float: bool,
    signature: Signature,
}

impl Percentile {
    fn groups(&self) -> GroupValues {
        GroupValues {
            kind: self.kind,
            fraction: f64::from_bits(self.fraction_bits),
            float: self.float,
            groups: Vec::new(),
            capacity: 0,
        }
    }
}

impl AggregateUDFImpl for Percentile {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Continuous => "pg_percentile_cont",
            Kind::Discrete => "pg_percentile_disc",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arguments: &[DataType]) -> Result<DataType> {
        Ok(arguments[0].clone())
    }

    fn state_fields(&self, args: StateFieldsArgs<'_>) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new_list(
            format_state_name(args.name, "keys"),
            Field::new_list_field(DataType::Int64, false),
            true,
        ))])
    }

    fn accumulator(&self, args: AccumulatorArgs<'_>) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(OneGroup::new(
            self.groups(),
            args.expr_fields[0].data_type(),
        )?))
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

/// The values of each group, as keys in their order.
#[derive(Debug)]
struct GroupValues {
    kind: Kind,
    fraction: f64,
    float: bool,
    groups: Vec<Vec<i64>>,
    /// The keys the groups' lists have room for, which DataFusion asks for after every
    /// batch: summed as they grow rather than over every group each time.
    capacity: usize,
}

impl GroupValues {
    /// The key at the percentile's place among a group's `keys` (reordered), and for one
    /// between two places the key at the next and how far towards it; None for no values.
    fn places(&self, keys: &mut [i64]) -> Option<(i64, Option<(i64, f64)>)> {
        if keys.is_empty() {
            return None;
        }
        let (lower_place, upper_place, position) = self.kind.places(self.fraction, keys.len());
        let (_, &mut lower, above) = keys.select_nth_unstable(lower_place);
        if upper_place == lower_place {
            return Some((lower, None));
        }
        // The next place holds the least key of those after the lower one; there is one,
        // as the position is at most `count - 1`.
        let upper = *above.iter().min().expect("a key after the lower one");
        Some((lower, Some((upper, position - lower_place as f64))))
    }

    fn results(&self, groups: Vec<Vec<i64>>) -> ArrayRef {
        let places = groups.into_iter().map(|mut keys| self.places(&mut keys));
        if !self.float {
            // Integers have one place: Postgres makes `percentile_cont`'s argument a float.
            return Arc::new(
                places
                    .map(|p| p.map(|(key, _)| key))
                    .collect::<Int64Array>(),
            );
        }
        let value = |(lower, next): (i64, Option<(i64, f64)>)| {
            let lower = from_order_key(lower);
            match next {
                // `float8_lerp`.
                Some((upper, part)) => lower + part * (from_order_key(upper) - lower),
                None => lower,
            }
        };
        Arc::new(places.map(|p| p.map(value)).collect::<Float64Array>())
    }

    fn take(&mut self, emit_to: EmitTo) -> Vec<Vec<i64>> {
        let taken = emit_to.take_needed(&mut self.groups);
        self.capacity -= taken.iter().map(Vec::capacity).sum::<usize>();
        taken
    }

    fn size(&self) -> usize {
        self.groups.capacity() * size_of::<Vec<i64>>() + self.capacity * size_of::<i64>()
    }
}

/// Adds `more` to a group's `keys`, counting the room its list grows by in `capacity`.
fn extend(keys: &mut Vec<i64>, capacity: &mut usize, more: &[i64]) {
    let before = keys.capacity();
    keys.extend_from_slice(more);
    *capacity += keys.capacity() - before;
}

/// Calls `take` with the row and key of each value of `values` (floats if `float`, else
/// integers) that is counted (not NULL, meeting `filter`).
fn each_key(
    float: bool,
    values: &ArrayRef,
    filter: Option<&BooleanArray>,
    mut take: impl FnMut(usize, i64),
) {
    if float {
        let values = values.as_primitive::<Float64Type>();
        for row in 0..values.len() {
            if is_counted(values.nulls(), filter, row) {
                take(row, order_key(values.value(row)));
            }
        }
    } else {
        let values = values.as_primitive::<Int64Type>();
        for row in 0..values.len() {
            if is_counted(values.nulls(), filter, row) {
                take(row, values.value(row));
            }
        }
    }
}

/// Lists of `lengths` keys taken in turn from `keys`, as an aggregate's state: of keys that
/// are never NULL as `state_fields` declares them (DataFusion checks, when it spills the
/// state).
fn as_lists(lengths: impl IntoIterator<Item = usize>, keys: Vec<i64>) -> ArrayRef {
    Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(DataType::Int64, false)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(Int64Array::from(keys)),
        None,
    ))
}

impl GroupsAccumulator for GroupValues {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let (groups, capacity) = (&mut self.groups, &mut self.capacity);
        each_key(self.float, &values[0], opt_filter, |row, key| {
            extend(&mut groups[group_indices[row]], capacity, &[key])
        });
        Ok(())
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.groups.resize_with(total_num_groups, Vec::new);
        let lists = values[0].as_list::<i32>();
        for (row, &group) in group_indices.iter().enumerate() {
            if lists.is_valid(row) {
                let keys = lists.value(row);
                let keys = keys.as_primitive::<Int64Type>();
                extend(&mut self.groups[group], &mut self.capacity, keys.values());
            }
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        // A list of no key or of one for each row.
        let mut lengths = vec![0; values[0].len()];
        let mut keys = Vec::new();
        each_key(self.float, &values[0], opt_filter, |row, key| {
            lengths[row] = 1;
            keys.push(key);
        });
        Ok(vec![as_lists(lengths, keys)])
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let groups = self.take(emit_to);
        Ok(self.results(groups))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let groups = self.take(emit_to);
        Ok(vec![as_lists(groups.iter().map(Vec::len), groups.concat())])
    }

    fn size(&self) -> usize {
        GroupValues::size(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::common::ScalarValue;

    fn groups(kind: Kind, fraction: f64, float: bool) -> GroupValues {
        GroupValues {
            kind,
            fraction,
            float,
            groups: Vec::new(),
            capacity: 0,
        }
    }

    /// The percentile of `values` in one group, in any order.
    fn of(kind: Kind, fraction: f64, values: ArrayRef) -> ScalarValue {
        let float = values.data_type() == &DataType::Float64;
        let mut all = OneGroup::new(groups(kind, fraction, float), values.data_type()).unwrap();
        all.update_batch(&[values]).unwrap();
        all.evaluate().unwrap()
    }

    fn cont(fraction: f64, values: &[f64]) -> Option<f64> {
        let values: ArrayRef = Arc::new(Float64Array::from(values.to_vec()));
        match of(Kind::Continuous, fraction, values) {
            ScalarValue::Float64(result) => result,
            other => panic!("{other:?}"),
        }
    }

    // Expected values are Postgres 15's, for example `SELECT percentile_cont(0.3) WITHIN
    // GROUP (ORDER BY x) FROM unnest(ARRAY[1, 2, 4, 8]::float8[]) x`.
    #[test]
    fn values_between_places_are_interpolated_as_postgres_does() {
        let values = [8.0, 2.0, 1.0, 4.0];
        assert_eq!(cont(0.3, &values), Some(1.9));
        assert_eq!(cont(0.5, &values), Some(3.0));
        assert_eq!(cont(0.0, &values), Some(1.0));
        assert_eq!(cont(1.0, &values), Some(8.0));
        assert_eq!(cont(0.9, &[0.7, 0.1, 0.2]), Some(0.6));
        assert_eq!(cont(0.3, &[0.1, 0.2, 0.7]), Some(0.16));
        assert_eq!(cont(0.5, &[5.0]), Some(5.0));
        assert_eq!(cont(0.5, &[]), None);
    }

    #[test]
    fn floats_are_in_postgres_order_nan_above_infinity() {
        let special = [f64::NAN, -f64::NAN, -0.0, f64::NEG_INFINITY, f64::INFINITY];
        // Sorted: -Infinity, -0, Infinity, NaN, NaN.
        assert_eq!(cont(0.5, &special), Some(f64::INFINITY));
        assert!(cont(1.0, &special).unwrap().is_nan());
        // Between -Infinity and -0: -Infinity + 0.4 * Infinity is NaN, as in Postgres.
        assert!(cont(0.1, &special).unwrap().is_nan());
        // Between Infinity and NaN, NaN.
        assert!(cont(0.75, &[1.0, f64::INFINITY, f64::NAN])
            .unwrap()
            .is_nan());
    }

    // `SELECT percentile_disc(0.3) WITHIN GROUP (ORDER BY x) FROM unnest(ARRAY[10, 20, 30,
    // 40, 50]) x` and so on.
    #[test]
    fn a_discrete_percentile_takes_the_first_value_whose_place_reaches_it() {
        let disc = |fraction, values: &[i64]| {
            of(
                Kind::Discrete,
                fraction,
                Arc::new(Int64Array::from(values.to_vec())),
            )
        };
        let values = [50, 40, 10, 30, 20];
        assert_eq!(disc(0.3, &values), ScalarValue::Int64(Some(20)));
        assert_eq!(disc(0.4, &values), ScalarValue::Int64(Some(20)));
        assert_eq!(disc(0.41, &values), ScalarValue::Int64(Some(30)));
        assert_eq!(disc(0.0, &values), ScalarValue::Int64(Some(10)));
        assert_eq!(disc(1.0, &values), ScalarValue::Int64(Some(50)));
        assert_eq!(disc(0.5, &[i64::MIN]), ScalarValue::Int64(Some(i64::MIN)));
        assert_eq!(disc(0.5, &[]), ScalarValue::Int64(None));
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![
            f64::NAN,
            0.25,
            f64::INFINITY,
            -1.5,
        ]));
        assert_eq!(
            of(Kind::Discrete, 0.75, floats),
            ScalarValue::Float64(Some(f64::INFINITY))
        );
    }

    #[test]
    fn values_kept_as_lists_merge_back_into_their_groups() {
        let mut partial = groups(Kind::Continuous, 0.5, true);
        let values: ArrayRef = Arc::new(Float64Array::from(vec![
            Some(1.0),
            None,
            Some(3.0),
            Some(8.0),
            Some(2.0),
        ]));
        // The last row does not meet the filter, and the NULL is no value.
        let filter = BooleanArray::from(vec![true, true, true, true, false]);
        partial
            .update_batch(&[values], &[0, 0, 1, 0, 1], Some(&filter), 2)
            .unwrap();
        let state = partial.state(EmitTo::All).unwrap();
        let mut merged = groups(Kind::Continuous, 0.5, true);
        merged.merge_batch(&state, &[1, 0], 2).unwrap();
        let results = merged.evaluate(EmitTo::All).unwrap();
        let results = results.as_primitive::<Float64Type>();
        assert_eq!(results.values().as_ref(), &[3.0, 4.5]);
        // Only what is kept is counted.
        assert_eq!(merged.size(), 0);
    }
}
