//! Scalar functions of ours that map each value of their first argument: a scalar
//! argument is mapped as an array of one and handed back as a scalar.

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::Int64Type;
use arrow::error::ArrowError;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::ColumnarValue;

/// `argument` with `map` applied to its values, as a scalar if it was one.
pub fn map_values(
    argument: &ColumnarValue,
    map: impl FnOnce(&ArrayRef) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let mapped = map(&argument.to_array(1)?)?;
    Ok(match argument {
        ColumnarValue::Scalar(_) => ColumnarValue::Scalar(ScalarValue::try_from_array(&mapped, 0)?),
        ColumnarValue::Array(_) => ColumnarValue::Array(mapped),
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
