//! An expression DataFusion's simplifier does not look into. It moves a comparison with a
//! CASE whose values are constants into the CASE, and then writes that CASE of booleans
//! as ANDs and ORs of its conditions, which compute every condition for every row:
//! Postgres computes a CASE's later conditions only for the rows the earlier ones did not
//! take, and `CASE WHEN n = 0 THEN 0 WHEN 100 / n > 5 THEN 1 ELSE 0 END = 1` must not
//! divide by zero.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
struct Opaque {
    signature: Signature,
}

impl ScalarUDFImpl for Opaque {
    fn name(&self) -> &str {
        "opaque"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types {
            [value] => Ok(value.clone()),
            _ => exec_err!("opaque takes one argument"),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match <[ColumnarValue; 1]>::try_from(args.args) {
            Ok([value]) => Ok(value),
            Err(_) => exec_err!("opaque takes one argument"),
        }
    }
}

static OPAQUE: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(Opaque {
        signature: Signature::any(1, Volatility::Immutable),
    }))
});

/// `expr` as it is, out of the simplifier's sight.
pub fn opaque(expr: DfExpr) -> DfExpr {
    OPAQUE.call(vec![expr])
}
