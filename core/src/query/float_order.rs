//! Floats compared the way Postgres compares `double precision`: -0 equals 0, and every
//! NaN equals every other NaN and is greater than any number. Arrow compares floats by
//! IEEE 754 total order instead (-0 < 0, NaNs ordered by sign and payload), so pushed-down
//! float comparisons go through `pg_float_order(x)`, which maps each value to the one
//! representative of its Postgres equivalence class, on both sides.
//!
//! `min` and `max` of floats run over integer keys in Postgres' order (`pg_float_key`).
//!
//! Being a function call also keeps Parquet statistics out of float comparisons: writers
//! leave NaN out of min/max, so pruning by them would drop rows Postgres returns.

use std::sync::{Arc, LazyLock};

use arrow::array::AsArray;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::columnar::map_values;

/// The representative of `value`'s class under Postgres' float ordering.
pub fn canonical(value: f64) -> f64 {
    if value == 0.0 {
        0.0
    } else {
        one_nan(value)
    }
}

fn one_nan(value: f64) -> f64 {
    if value.is_nan() {
        f64::NAN
    } else {
        value
    }
}

/// Flips the magnitude bits of negative numbers, so signed integer order is IEEE total
/// order; an involution, so it also maps keys back to bits.
fn flip_negative(bits: i64) -> i64 {
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// An integer whose order is Postgres' order of `value` (NaN above all, one NaN), with -0
/// just below 0 so a minimum or maximum keeps the sign of the zero it found.
pub(super) fn order_key(value: f64) -> i64 {
    flip_negative(one_nan(value).to_bits() as i64)
}

pub(super) fn from_order_key(key: i64) -> f64 {
    f64::from_bits(flip_negative(key) as u64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Mapping {
    Canonical,
    ToKey,
    FromKey,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct FloatUdf {
    mapping: Mapping,
    signature: Signature,
}

impl FloatUdf {
    fn types(mapping: Mapping) -> (DataType, DataType) {
        match mapping {
            Mapping::Canonical => (DataType::Float64, DataType::Float64),
            Mapping::ToKey => (DataType::Float64, DataType::Int64),
            Mapping::FromKey => (DataType::Int64, DataType::Float64),
        }
    }
}

impl ScalarUDFImpl for FloatUdf {
    fn name(&self) -> &str {
        match self.mapping {
            Mapping::Canonical => "pg_float_order",
            Mapping::ToKey => "pg_float_key",
            Mapping::FromKey => "pg_float_from_key",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(Self::types(self.mapping).1)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [argument] = args.args.as_slice() else {
            return exec_err!("{} takes one argument", self.name());
        };
        map_values(argument, |array| {
            Ok(match self.mapping {
                Mapping::Canonical => Arc::new(
                    array
                        .as_primitive::<Float64Type>()
                        .unary::<_, Float64Type>(canonical),
                ),
                Mapping::ToKey => Arc::new(
                    array
                        .as_primitive::<Float64Type>()
                        .unary::<_, Int64Type>(order_key),
                ),
                Mapping::FromKey => Arc::new(
                    array
                        .as_primitive::<Int64Type>()
                        .unary::<_, Float64Type>(from_order_key),
                ),
            })
        })
    }
}

fn udf(mapping: Mapping) -> Arc<ScalarUDF> {
    let input = FloatUdf::types(mapping).0;
    Arc::new(ScalarUDF::from(FloatUdf {
        mapping,
        signature: Signature::exact(vec![input], Volatility::Immutable),
    }))
}

static CANONICAL: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| udf(Mapping::Canonical));
static TO_KEY: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| udf(Mapping::ToKey));
static FROM_KEY: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| udf(Mapping::FromKey));

/// `expr` as the value Postgres' float comparisons see.
pub fn pg_float_order(expr: DfExpr) -> DfExpr {
    CANONICAL.call(vec![expr])
}

/// A float as an integer in Postgres' order: DataFusion's grouped `min`/`max` of floats
/// let a NaN be replaced by a later number and never return the infinities.
pub fn pg_float_key(expr: DfExpr) -> DfExpr {
    TO_KEY.call(vec![expr])
}

/// The float `pg_float_key` was made from.
pub fn pg_float_from_key(expr: DfExpr) -> DfExpr {
    FROM_KEY.call(vec![expr])
}

#[cfg(test)]
mod tests {
    use super::{canonical, from_order_key, order_key};

    #[test]
    fn zeros_and_nans_have_one_representative() {
        assert_eq!(canonical(-0.0).to_bits(), 0.0f64.to_bits());
        let negative_nan = -f64::NAN;
        assert!(negative_nan.is_sign_negative());
        assert_eq!(canonical(negative_nan).to_bits(), f64::NAN.to_bits());
        assert_eq!(canonical(-1.5), -1.5);
        assert_eq!(canonical(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn order_keys_sort_as_postgres_and_map_back() {
        let ordered = [
            f64::NEG_INFINITY,
            -f64::MAX,
            -1.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            5e-324,
            2.0,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
        ];
        let keys: Vec<i64> = ordered.iter().map(|v| order_key(*v)).collect();
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "{keys:?}");
        assert!(keys.iter().all(|k| *k != i64::MIN && *k != i64::MAX));
        assert_eq!(order_key(-f64::NAN), order_key(f64::NAN));
        for v in ordered {
            assert_eq!(from_order_key(order_key(v)).to_bits(), v.to_bits());
        }
    }
}
