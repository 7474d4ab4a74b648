//! `+ - * /` of `bigint` and `double precision`, and `%` of `bigint`, as Postgres computes
//! them: the same values, and its errors where it raises them. DataFusion's own operators wrap an integer
//! that overflows and give a float's infinity or zero silently; Postgres raises
//! "bigint out of range", "value out of range: overflow" or "underflow", and "division by
//! zero" (`int8.c`, `float.h`).

use std::sync::{Arc, LazyLock};

use arrow::array::{Array, ArrayRef, ArrowPrimitiveType, AsArray, PrimitiveArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{exec_err, DataFusionError, Result};
use datafusion::logical_expr::{
    cast, lit, ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature, TypeSignature, Volatility,
};

use super::columnar::map_arguments;
use super::expr::{ArithmeticOp, NumberType};
use super::QueryError;

/// A float's result, or Postgres' overflow where finite operands made an infinity.
fn not_overflowed(result: f64, left: f64, right: f64) -> Result<f64, QueryError> {
    if result.is_infinite() && !left.is_infinite() && !right.is_infinite() {
        return Err(QueryError::Overflow);
    }
    Ok(result)
}

/// Postgres' `float8pl`.
fn float_add(left: f64, right: f64) -> Result<f64, QueryError> {
    not_overflowed(left + right, left, right)
}

/// Postgres' `float8mi`.
fn float_subtract(left: f64, right: f64) -> Result<f64, QueryError> {
    not_overflowed(left - right, left, right)
}

/// Postgres' `float8mul`: also an underflow where operands that are not zero made zero.
fn float_multiply(left: f64, right: f64) -> Result<f64, QueryError> {
    let result = not_overflowed(left * right, left, right)?;
    if result == 0.0 && left != 0.0 && right != 0.0 {
        return Err(QueryError::Underflow);
    }
    Ok(result)
}

/// Postgres' `float8div`: a zero divisor raises unless the dividend is NaN.
fn float_divide(left: f64, right: f64) -> Result<f64, QueryError> {
    if right == 0.0 && !left.is_nan() {
        return Err(QueryError::DivisionByZero);
    }
    let result = left / right;
    if result.is_infinite() && !left.is_infinite() {
        return Err(QueryError::Overflow);
    }
    if result == 0.0 && left != 0.0 && !right.is_infinite() {
        return Err(QueryError::Underflow);
    }
    Ok(result)
}

fn in_range(result: Option<i64>) -> Result<i64, QueryError> {
    result.ok_or(QueryError::BigintOutOfRange)
}

/// Postgres' `int8div`, truncating toward zero.
fn integer_divide(left: i64, right: i64) -> Result<i64, QueryError> {
    if right == 0 {
        return Err(QueryError::DivisionByZero);
    }
    in_range(left.checked_div(right))
}

/// Postgres' `int8mod`: the sign of the dividend, and 0 for a divisor of -1, whose
/// quotient of the smallest `bigint` would overflow.
fn integer_remainder(left: i64, right: i64) -> Result<i64, QueryError> {
    match right {
        0 => Err(QueryError::DivisionByZero),
        -1 => Ok(0),
        _ => Ok(left % right),
    }
}

/// `op` applied to each pair of values that are both present in a row not `skipped`;
/// NULL where either is not, as Postgres' strict operators give, and in skipped rows,
/// without computing anything for those rows.
fn each_pair<T: ArrowPrimitiveType>(
    left: &ArrayRef,
    right: &ArrayRef,
    skipped: Option<&NullBuffer>,
    op: impl Fn(T::Native, T::Native) -> Result<T::Native, QueryError>,
) -> Result<ArrayRef> {
    let (left, right) = (left.as_primitive::<T>(), right.as_primitive::<T>());
    let nulls = NullBuffer::union(left.nulls(), right.nulls());
    let nulls = NullBuffer::union(nulls.as_ref(), skipped).filter(|n| n.null_count() > 0);
    let mut values = Vec::with_capacity(left.len());
    let raised = |e| DataFusionError::External(Box::new(e));
    let pairs = left.values().iter().zip(right.values().iter());
    match &nulls {
        None => {
            for (l, r) in pairs {
                values.push(op(*l, *r).map_err(raised)?);
            }
        }
        Some(nulls) => {
            for (row, (l, r)) in pairs.enumerate() {
                values.push(match nulls.is_null(row) {
                    true => T::Native::default(),
                    false => op(*l, *r).map_err(raised)?,
                });
            }
        }
    }
    Ok(Arc::new(PrimitiveArray::<T>::new(values.into(), nulls)))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PostgresArithmetic {
    name: String,
    op: ArithmeticOp,
    number: NumberType,
    signature: Signature,
}

impl PostgresArithmetic {
    fn new(op: ArithmeticOp, number: NumberType) -> PostgresArithmetic {
        let data_type = data_type(number);
        PostgresArithmetic {
            name: format!("postgres_{number:?}_{op:?}").to_lowercase(),
            op,
            number,
            // The third argument, where given, is the guard: see `arithmetic`.
            signature: Signature::one_of(
                vec![
                    TypeSignature::Exact(vec![data_type.clone(), data_type.clone()]),
                    TypeSignature::Exact(vec![data_type.clone(), data_type, DataType::Boolean]),
                ],
                Volatility::Immutable,
            ),
        }
    }
}

impl ScalarUDFImpl for PostgresArithmetic {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(data_type(self.number))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        map_arguments(&args.args, args.number_rows, |arrays, _| {
            let (l, r, guard) = match arrays {
                [left, right] => (left, right, None),
                [left, right, guard] => (left, right, Some(guard)),
                _ => return exec_err!("{} takes two or three arguments", self.name),
            };
            let skipped = guard.map(rows_not_guarded);
            self.compute(l, r, skipped.as_ref())
        })
    }
}

impl PostgresArithmetic {
    /// `left op right` in each row not `skipped`.
    fn compute(&self, l: &ArrayRef, r: &ArrayRef, s: Option<&NullBuffer>) -> Result<ArrayRef> {
        use ArithmeticOp::{Add, Divide, Multiply, Remainder, Subtract};
        // One loop for each operator, in which its function is inlined.
        Ok(match (self.number, self.op) {
            (NumberType::Float, Add) => each_pair::<Float64Type>(l, r, s, float_add)?,
            (NumberType::Float, Subtract) => each_pair::<Float64Type>(l, r, s, float_subtract)?,
            (NumberType::Float, Multiply) => each_pair::<Float64Type>(l, r, s, float_multiply)?,
            (NumberType::Float, Divide) => each_pair::<Float64Type>(l, r, s, float_divide)?,
            (NumberType::Integer, Add) => {
                each_pair::<Int64Type>(l, r, s, |a, b| in_range(a.checked_add(b)))?
            }
            (NumberType::Integer, Subtract) => {
                each_pair::<Int64Type>(l, r, s, |a, b| in_range(a.checked_sub(b)))?
            }
            (NumberType::Integer, Multiply) => {
                each_pair::<Int64Type>(l, r, s, |a, b| in_range(a.checked_mul(b)))?
            }
            (NumberType::Integer, Divide) => each_pair::<Int64Type>(l, r, s, integer_divide)?,
            (NumberType::Integer, Remainder) => each_pair::<Int64Type>(l, r, s, integer_remainder)?,
            (NumberType::Float, Remainder) => {
                return exec_err!("Postgres has no remainder of double precision")
            }
        })
    }
}

/// The rows a guard does not hold for (false or NULL), as the nulls of a buffer.
fn rows_not_guarded(guard: &ArrayRef) -> NullBuffer {
    let guard = guard.as_boolean();
    let held = match guard.nulls() {
        Some(nulls) => guard.values() & nulls.inner(),
        None => guard.values().clone(),
    };
    NullBuffer::new(held)
}

pub(super) fn data_type(number: NumberType) -> DataType {
    match number {
        NumberType::Integer => DataType::Int64,
        NumberType::Float => DataType::Float64,
    }
}

type Function = (ArithmeticOp, NumberType, Arc<ScalarUDF>);

static FUNCTIONS: LazyLock<Vec<Function>> = LazyLock::new(|| {
    [NumberType::Integer, NumberType::Float]
        .into_iter()
        .flat_map(|number| {
            [
                ArithmeticOp::Add,
                ArithmeticOp::Subtract,
                ArithmeticOp::Multiply,
                ArithmeticOp::Divide,
                ArithmeticOp::Remainder,
            ]
            .map(|op| {
                let function = PostgresArithmetic::new(op, number);
                (op, number, Arc::new(ScalarUDF::from(function)))
            })
        })
        .collect()
});

/// `left op right`, both made `number`'s type first (a NULL constant has none), computed
/// only in the rows where `guard` (if any) is true: NULL in the others, where it raises
/// nothing. A filter's guard is the conditions Postgres checks before it, for Postgres
/// computes a condition only for the rows those keep, where DataFusion computes every
/// condition over a whole batch.
pub fn arithmetic(
    op: ArithmeticOp,
    number: NumberType,
    left: DfExpr,
    right: DfExpr,
    guard: Option<DfExpr>,
) -> DfExpr {
    let (.., function) = FUNCTIONS
        .iter()
        .find(|(o, n, _)| *o == op && *n == number)
        .expect("a function for every operator and type");
    let data_type = data_type(number);
    let mut args = vec![cast(left, data_type.clone()), cast(right, data_type)];
    args.extend(guard);
    function.call(args)
}

/// `-expr`: a float's sign flipped, an integer taken from zero (which raises Postgres'
/// error for the one `bigint` without a negative), where `guard` holds.
pub fn negate(number: NumberType, expr: DfExpr, guard: Option<DfExpr>) -> DfExpr {
    match number {
        NumberType::Float => DfExpr::Negative(Box::new(cast(expr, DataType::Float64))),
        NumberType::Integer => arithmetic(ArithmeticOp::Subtract, number, lit(0i64), expr, guard),
    }
}

#[cfg(test)]
mod tests {
    use super::{
        float_add, float_divide, float_multiply, float_subtract, in_range, integer_divide,
        integer_remainder,
    };
    use crate::query::QueryError;

    #[test]
    fn floats_raise_where_postgres_raises() {
        assert_eq!(float_add(1.5, 2.0), Ok(3.5));
        assert_eq!(float_add(f64::MAX, f64::MAX), Err(QueryError::Overflow));
        assert_eq!(
            float_subtract(-f64::MAX, f64::MAX),
            Err(QueryError::Overflow)
        );
        assert_eq!(float_multiply(1e300, 1e300), Err(QueryError::Overflow));
        assert_eq!(float_multiply(1e-300, 1e-300), Err(QueryError::Underflow));
        assert_eq!(float_divide(1e-300, 1e300), Err(QueryError::Underflow));
        assert_eq!(float_divide(1e300, 1e-300), Err(QueryError::Overflow));
        assert_eq!(float_divide(1.0, 0.0), Err(QueryError::DivisionByZero));
        assert_eq!(float_divide(0.0, -0.0), Err(QueryError::DivisionByZero));
        // Infinities and NaNs in, infinities and NaNs out, as Postgres gives them.
        assert_eq!(float_add(f64::INFINITY, 1.0), Ok(f64::INFINITY));
        assert!(float_subtract(f64::INFINITY, f64::INFINITY)
            .unwrap()
            .is_nan());
        assert_eq!(float_multiply(f64::INFINITY, -2.0), Ok(f64::NEG_INFINITY));
        assert!(float_multiply(f64::INFINITY, 0.0).unwrap().is_nan());
        assert_eq!(float_divide(5.0, f64::INFINITY), Ok(0.0));
        assert!(float_divide(f64::NAN, 0.0).unwrap().is_nan());
        assert_eq!(float_divide(f64::INFINITY, 2.0), Ok(f64::INFINITY));
        // Signed zeros as IEEE gives them: Postgres shows -0.
        assert!(float_multiply(-1.0, 0.0).unwrap().is_sign_negative());
        assert!(float_add(0.0, -0.0).unwrap().is_sign_positive());
    }

    #[test]
    fn integers_raise_where_postgres_raises() {
        assert_eq!(in_range((i64::MAX - 1).checked_add(1)), Ok(i64::MAX));
        assert_eq!(
            in_range(i64::MAX.checked_add(1)),
            Err(QueryError::BigintOutOfRange)
        );
        assert_eq!(integer_divide(7, -2), Ok(-3));
        assert_eq!(integer_divide(-7, 2), Ok(-3));
        assert_eq!(integer_divide(1, 0), Err(QueryError::DivisionByZero));
        assert_eq!(integer_divide(0, 0), Err(QueryError::DivisionByZero));
        assert_eq!(
            integer_divide(i64::MIN, -1),
            Err(QueryError::BigintOutOfRange)
        );
        assert_eq!(integer_divide(i64::MIN, 1), Ok(i64::MIN));
    }

    #[test]
    fn remainders_take_the_dividends_sign() {
        // Postgres 15: SELECT -7::int8 % 2, 7::int8 % -2, (-9223372036854775808)::int8 % -1.
        assert_eq!(integer_remainder(-7, 2), Ok(-1));
        assert_eq!(integer_remainder(7, -2), Ok(1));
        assert_eq!(integer_remainder(i64::MIN, -1), Ok(0));
        assert_eq!(integer_remainder(i64::MIN, i64::MAX), Ok(-1));
        assert_eq!(integer_remainder(5, 0), Err(QueryError::DivisionByZero));
    }
}
