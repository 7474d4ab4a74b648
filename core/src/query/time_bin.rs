//! The start of a time's bucket as one pass over the times. Written with DataFusion's
//! arithmetic, the floor takes four checked kernels, each making a new array: in a query
//! grouping a day of every series by hour, they were a tenth of its time.

use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, AsArray};
use arrow::datatypes::{DataType, Int64Type};
use arrow::error::ArrowError;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::prelude::lit;

/// The start of the bucket of `width` nanoseconds counted from `origin` that `ns` falls
/// in, all in nanoseconds since 1970; None where it is outside the range of stored times.
/// The Euclidean remainder floors times before the origin, as Postgres does.
fn bucket_start(ns: i64, width: i64, origin: i64) -> Option<i64> {
    ns.checked_sub(ns.checked_sub(origin)?.rem_euclid(width))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct TimeBin {
    signature: Signature,
}

impl ScalarUDFImpl for TimeBin {
    fn name(&self) -> &str {
        "time_bin"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [times, ColumnarValue::Scalar(ScalarValue::Int64(Some(width))), ColumnarValue::Scalar(ScalarValue::Int64(Some(origin)))] =
            args.args.as_slice()
        else {
            return exec_err!("time_bin takes times, a width and an origin");
        };
        let (width, origin) = (*width, *origin);
        if width <= 0 {
            return exec_err!("time_bin of width {width}");
        }
        let array = times.to_array(args.number_rows)?;
        let starts: ArrayRef = Arc::new(
            array
                .as_primitive::<Int64Type>()
                .try_unary::<_, Int64Type, ArrowError>(|ns| {
                    bucket_start(ns, width, origin).ok_or_else(|| {
                        ArrowError::ArithmeticOverflow(format!(
                            "the bucket of {ns} ns is outside the range of stored times"
                        ))
                    })
                })?,
        );
        Ok(match times {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&starts, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(starts),
        })
    }
}

static TIME_BIN: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(TimeBin {
        signature: Signature::exact(
            vec![DataType::Int64, DataType::Int64, DataType::Int64],
            Volatility::Immutable,
        ),
    }))
});

/// The start of the bucket of `width` nanoseconds from `origin` that `ns` (nanoseconds
/// since 1970) falls in.
pub fn time_bin(ns: DfExpr, width: i64, origin: i64) -> DfExpr {
    TIME_BIN.call(vec![ns, lit(width), lit(origin)])
}

#[cfg(test)]
mod tests {
    use super::bucket_start;

    #[test]
    fn times_floor_to_their_buckets_on_both_sides_of_the_origin() {
        let hour = 3_600_000_000_000;
        assert_eq!(bucket_start(0, hour, 0), Some(0));
        assert_eq!(bucket_start(hour - 1, hour, 0), Some(0));
        assert_eq!(bucket_start(hour, hour, 0), Some(hour));
        assert_eq!(bucket_start(-1, hour, 0), Some(-hour));
        assert_eq!(bucket_start(-hour, hour, 0), Some(-hour));
        let origin = 15 * 60_000_000_000;
        assert_eq!(bucket_start(origin - 1, hour, origin), Some(origin - hour));
        assert_eq!(
            bucket_start(origin + hour, hour, origin),
            Some(origin + hour)
        );
    }

    #[test]
    fn a_bucket_outside_the_stored_range_is_none() {
        let hour = 3_600_000_000_000;
        assert_eq!(bucket_start(i64::MIN, hour, 0), None);
        assert_eq!(bucket_start(i64::MIN + 5, 10, 6), None);
        assert_eq!(bucket_start(i64::MIN + 5, 10, 3), Some(i64::MIN + 1));
        assert_eq!(bucket_start(i64::MAX, hour, -1), None);
        assert_eq!(
            bucket_start(i64::MAX, hour, 0),
            Some(i64::MAX - i64::MAX % hour)
        );
    }
}
