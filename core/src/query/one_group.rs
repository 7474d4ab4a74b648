//! The accumulator of an aggregate without groups, which DataFusion asks for apart from its
//! groups accumulator, made of the groups accumulator with one group: one code path for
//! both, so the values of a query with and without `GROUP BY` are computed alike.

use arrow::array::{new_empty_array, ArrayRef};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

#[derive(Debug)]
pub(super) struct OneGroup<G: GroupsAccumulator> {
    groups: G,
    /// Group 0 for every row of a batch, kept from batch to batch.
    rows: Vec<usize>,
}

impl<G: GroupsAccumulator> OneGroup<G> {
    /// `groups` holding one group, of no values yet, for arguments of type `argument`.
    pub fn new(mut groups: G, argument: &DataType) -> Result<OneGroup<G>> {
        groups.update_batch(&[new_empty_array(argument)], &[], None, 1)?;
        Ok(OneGroup {
            groups,
            rows: Vec::new(),
        })
    }

    /// The group's state, kept: taken out, then merged back into the emptied group.
    fn kept_state(&mut self) -> Result<Vec<ArrayRef>> {
        let state = self.groups.state(EmitTo::All)?;
        self.groups.merge_batch(&state, &[0], 1)?;
        Ok(state)
    }
}

/// Group 0 for each of `len` rows, from `rows`, grown as needed.
fn group_zero(rows: &mut Vec<usize>, len: usize) -> &[usize] {
    if rows.len() < len {
        rows.resize(len, 0);
    }
    &rows[..len]
}

impl<G: GroupsAccumulator + std::fmt::Debug + Sync> Accumulator for OneGroup<G> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = group_zero(&mut self.rows, values[0].len());
        self.groups.update_batch(values, rows, None, 1)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let rows = group_zero(&mut self.rows, states[0].len());
        self.groups.merge_batch(states, rows, 1)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.kept_state()?
            .iter()
            .map(|state| ScalarValue::try_from_array(state, 0))
            .collect()
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let state = self.kept_state()?;
        let result = self.groups.evaluate(EmitTo::All)?;
        self.groups.merge_batch(&state, &[0], 1)?;
        ScalarValue::try_from_array(&result, 0)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.groups.size() + self.rows.capacity() * size_of::<usize>()
    }
}
