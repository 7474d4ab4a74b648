//! Scalar functions of ours that map each value of their first argument: a scalar
//! argument is mapped as an array of one and handed back as a scalar.

use arrow::array::ArrayRef;
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
