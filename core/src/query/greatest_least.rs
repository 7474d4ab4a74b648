//! `GREATEST` and `LEAST` of `bigint` and `double precision` as Postgres computes them
//! (`ExecEvalMinMax`): NULLs ignored, NULL only where every value is; floats in Postgres'
//! order (every NaN equal and above Infinity, -0 equal to 0); and of equal values the
//! first kept, so `greatest(-0, 0)` is -0. DataFusion's own compare floats by IEEE total
//! order.

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use super::columnar::map_arguments;
use super::expr::NumberType;
use super::float_order::{canonical, order_key};
use super::postgres_arithmetic::data_type;

#[derive(Debug, PartialEq, Eq, Hash)]
struct GreatestOrLeast {
    greatest: bool,
    number: NumberType,
    signature: Signature,
}

impl ScalarUDFImpl for GreatestOrLeast {
    fn name(&self) -> &str {
        match (self.greatest, self.number) {
            (true, NumberType::Integer) => "postgres_greatest_integer",
            (true, NumberType::Float) => "postgres_greatest_float",
            (false, NumberType::Integer) => "postgres_least_integer",
            (false, NumberType::Float) => "postgres_least_float",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(data_type(self.number))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_arguments(&args.args, args.number_rows, |arrays, rows| {
            Ok(match self.number {
                NumberType::Integer => {
                    Arc::new(pick::<Int64Type, _>(arrays, rows, self.greatest, |v| v))
                }
                // Floats Postgres finds equal (-0 and 0, NaNs) have one key.
                NumberType::Float => {
                    Arc::new(pick::<Float64Type, _>(arrays, rows, self.greatest, |v| {
                        order_key(canonical(v))
                    }))
                }
            })
        })
    }
}

/// In each row, the first present value no later one is greater than (or, for the least,
/// less than) by `key`.
fn pick<T: ArrowPrimitiveType, K: Ord>(
    arrays: &[ArrayRef],
    rows: usize,
    greatest: bool,
    key: impl Fn(T::Native) -> K,
) -> PrimitiveArray<T> {
    let arrays: Vec<&PrimitiveArray<T>> = arrays.iter().map(|a| a.as_primitive::<T>()).collect();
    (0..rows)
        .map(|row| {
            let mut kept: Option<(T::Native, K)> = None;
            for array in &arrays {
                if array.is_null(row) {
                    continue;
                }
                let value = array.value(row);
                let value_key = key(value);
                let replaces = match &kept {
                    None => true,
                    Some((_, kept_key)) if greatest => value_key > *kept_key,
                    Some((_, kept_key)) => value_key < *kept_key,
                };
                if replaces {
                    kept = Some((value, value_key));
                }
            }
            kept.map(|(value, _)| value)
        })
        .collect()
}

type Function = (bool, NumberType, Arc<ScalarUDF>);

static FUNCTIONS: LazyLock<Vec<Function>> = LazyLock::new(|| {
    [true, false]
        .into_iter()
        .flat_map(|greatest| {
            [NumberType::Integer, NumberType::Float].map(|number| {
                let function = GreatestOrLeast {
                    greatest,
                    number,
                    signature: Signature::variadic(vec![data_type(number)], Volatility::Immutable),
                };
                (greatest, number, Arc::new(ScalarUDF::from(function)))
            })
        })
        .collect()
});

/// `GREATEST(values)` if `greatest`, else `LEAST(values)`, of values of `number`'s type.
pub fn greatest_or_least(greatest: bool, number: NumberType, values: Vec<DfExpr>) -> DfExpr {
    let (.., function) = FUNCTIONS
        .iter()
        .find(|(g, n, _)| *g == greatest && *n == number)
        .expect("a function for both and each type");
    function.call(values)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, Float64Array, Int64Array};
    use arrow::datatypes::{Float64Type, Int64Type};

    use super::pick;
    use crate::query::float_order::{canonical, order_key};

    fn floats(values: &[Option<f64>]) -> ArrayRef {
        Arc::new(Float64Array::from(values.to_vec()))
    }

    #[test]
    fn floats_in_postgres_order_keep_the_first_of_equals() {
        // Postgres 15: SELECT greatest(-0::float8, 0), least(0::float8, -0),
        // greatest(1, 'NaN', 'Infinity'), least('NaN'::float8, NULL), greatest(NULL::float8, NULL).
        let arrays = [
            floats(&[Some(-0.0), Some(0.0), Some(1.0), Some(f64::NAN), None]),
            floats(&[Some(0.0), Some(-0.0), Some(f64::NAN), None, None]),
            floats(&[None, None, Some(f64::INFINITY), None, None]),
        ];
        let key = |v: f64| order_key(canonical(v));
        let greatest = pick::<Float64Type, _>(&arrays, 5, true, key);
        let least = pick::<Float64Type, _>(&arrays, 5, false, key);
        let bits = |a: &Float64Array| -> Vec<Option<u64>> {
            a.iter().map(|v| v.map(f64::to_bits)).collect()
        };
        assert_eq!(
            bits(&greatest),
            [
                Some((-0.0f64).to_bits()),
                Some(0.0f64.to_bits()),
                Some(f64::NAN.to_bits()),
                Some(f64::NAN.to_bits()),
                None
            ]
        );
        assert_eq!(
            bits(&least),
            [
                Some((-0.0f64).to_bits()),
                Some(0.0f64.to_bits()),
                Some(1.0f64.to_bits()),
                Some(f64::NAN.to_bits()),
                None
            ]
        );
    }

    #[test]
    fn integers_ignore_nulls() {
        let arrays: [ArrayRef; 2] = [
            Arc::new(Int64Array::from(vec![Some(i64::MIN), None, Some(3)])),
            Arc::new(Int64Array::from(vec![Some(-1), None, None])),
        ];
        let greatest = pick::<Int64Type, _>(&arrays, 3, true, |v| v);
        assert_eq!(
            greatest.iter().collect::<Vec<_>>(),
            [Some(-1), None, Some(3)]
        );
        let least = pick::<Int64Type, _>(&arrays, 3, false, |v| v);
        assert_eq!(
            least.iter().collect::<Vec<_>>(),
            [Some(i64::MIN), None, Some(3)]
        );
    }
}
