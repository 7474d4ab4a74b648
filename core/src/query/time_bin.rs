//! The start of a time's bucket as one pass over the times. Written with DataFusion's
//! arithmetic, the floor took four or five kernels, each making a new array (in a query
//! grouping half a day of every series by hour, a tenth of its time), and wrapped around
//! where a time and the origin lie more than 292 years apart.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::DataType;
use arrow::error::ArrowError;
use datafusion::common::{exec_err, Result, ScalarValue};

use super::columnar::map_times;
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::prelude::lit;

/// The start of the bucket of `width` nanoseconds counted from `origin` that `ns` falls
/// in, all in nanoseconds since 1970; None where it starts before the earliest stored
/// time. The Euclidean remainder floors times before the origin, as Postgres does.
pub(super) fn bucket_start(ns: i64, width: i64, origin: i64) -> Option<i64> {
    let into_bucket = match ns.checked_sub(origin) {
        Some(since_origin) => since_origin.rem_euclid(width),
        // Less than `width`, so it fits.
        None => (i128::from(ns) - i128::from(origin)).rem_euclid(i128::from(width)) as i64,
    };
    ns.checked_sub(into_bucket)
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
        map_times(times, |ns| {
            bucket_start(ns, width, origin).ok_or_else(|| {
                ArrowError::ArithmeticOverflow(format!(
                    "the bucket of {ns} ns starts before the earliest stored time"
                ))
            })
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
        assert_eq!(bucket_start(i64::MIN + 5, 10, 3), Some(i64::MIN + 1));
        assert_eq!(bucket_start(i64::MIN + 5, 10, 8), None);
        assert_eq!(
            bucket_start(i64::MAX, hour, 0),
            Some(i64::MAX - i64::MAX % hour)
        );
    }

    #[test]
    fn an_origin_centuries_away_still_floors_exactly() {
        let second = 1_000_000_000;
        let hour = 3600 * second;
        // 1700-01-01 and 2016-01-01 00:30: more than 292 years, the range of an i64 of
        // nanoseconds, apart.
        let origin_1700 = -8_520_336_000 * second;
        let half_past_midnight_2016 = 1_451_608_200 * second;
        assert_eq!(
            bucket_start(half_past_midnight_2016, hour, origin_1700),
            Some(1_451_606_400 * second)
        );
        assert_eq!(
            bucket_start(i64::MAX - 3, 10, i64::MIN + 7),
            Some(i64::MAX - 8)
        );
        assert_eq!(bucket_start(i64::MIN + 3, 10, i64::MAX - 1), None);
        assert_eq!(
            bucket_start(i64::MIN + 9, 10, i64::MAX - 1),
            Some(i64::MIN + 4)
        );
    }
}
