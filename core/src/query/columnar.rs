//! Scalar functions of ours that map their arguments' values: scalar arguments are mapped
//! as arrays of one and the result handed back as a scalar.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::Int64Type;
use arrow::error::ArrowError;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;

/// `map` of `arguments` as arrays of the batch's `rows` (of one where every argument is a
/// scalar, and then a scalar result).
pub fn map_arguments(
    arguments: &[ColumnarValue],
    rows: usize,
    map: impl FnOnce(&[ArrayRef], usize) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let scalars = arguments
        .iter()
        .all(|argument| matches!(argument, ColumnarValue::Scalar(_)));
    let rows = if scalars { 1 } else { rows };
    let arrays = arguments
        .iter()
        .map(|argument| argument.to_array(rows))
        .collect::<Result<Vec<_>>>()?;
    let mapped = map(&arrays, rows)?;
    Ok(match scalars {
        true => ColumnarValue::Scalar(ScalarValue::try_from_array(&mapped, 0)?),
        false => ColumnarValue::Array(mapped),
    })
}

/// `argument` with `map` applied to its values, as a scalar if it was one.
pub fn map_values(
    argument: &ColumnarValue,
    map: impl FnOnce(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    map_arguments(std::slice::from_ref(argument), 1, |arrays, _| {
        map(&arrays[0])
    })
}

/// `argument`, of `Int64` times, with `map` applied to each time.
pub fn map_times(
    argument: &ColumnarValue,
    map: impl Fn(i64) -> std::result::Result<i64, ArrowError>,
) -> Result<ColumnarValue> {
    map_values(argument, |array| {
        let mapped = array
            .as_primitive::<Int64Type>()
            .try_unary::<_, Int64Type, _>(map)?;
        Ok(Arc::new(mapped) as ArrayRef)
    })
}
