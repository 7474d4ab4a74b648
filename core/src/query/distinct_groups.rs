//! `count(DISTINCT x)` per group in two steps: group by the keys and `x`, then by the keys,
//! counting the `x` of the first step's groups. DataFusion's one-step `count(DISTINCT)`
//! keeps a set of values per group and reserves about 2 KiB for each set of text values,
//! so a few thousand groups (hosts reporting per minute over two days) exceed the default
//! `work_mem` of 4 MB; two steps need only the (key, value) pairs. Postgres' own answer
//! sorts the values instead, in any number of groups.
//!
//! The other aggregates of the query are taken along as their partial results merge:
//! counts (summed), sums (summed again: exact for integers and numerics; floats add in
//! another order, as they already do against a heap scan), averages of floats (a sum and a
//! count, divided at the end), minima and maxima, `bool_and` and `bool_or`. Queries with
//! any other aggregate (`QueryRequest::counts_distinct_in_one_step`) are left to Postgres
//! by the planner.

use std::sync::Arc;

use super::run_sums::run_sum;
use super::translate::column;
use super::QueryError;
use arrow::datatypes::DataType;
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::expr_fn::{count, sum};
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::{cast, lit, AggregateUDF, Expr as DfExpr, ExprSchemable};

/// The name of the first step's column holding the counted value.
const COUNTED: &str = "counted";

/// How an aggregate of the query is computed in two steps.
enum TwoSteps {
    /// `count(DISTINCT x)`: the count of the first step's `x`.
    Distinct,
    /// A count: the sum of the first step's counts.
    Count,
    /// The same aggregate again, over the first step's results.
    Again(Arc<AggregateUDF>),
    /// The average of a float: its sum and count, divided once merged.
    Average(DfExpr),
}

/// `frame` aggregated by `group` (each named `key{i}`, at least one) into `computed`
/// (name, aggregate) in two steps, for a query with `count(DISTINCT)` of one column.
pub(super) fn aggregate_in_two_steps(
    frame: &DataFrame,
    group: &[DfExpr],
    computed: &[(String, DfExpr)],
    grouping: impl Fn(DfExpr) -> Result<DfExpr, QueryError>,
) -> Result<DataFrame, QueryError> {
    let schema = frame.schema();
    let unmerged =
        |what: &str| QueryError::Unsupported(format!("{what} beside count(DISTINCT) per group"));
    let mut counted: Option<&DfExpr> = None;
    let mut steps = Vec::new();
    for (_, aggregate) in computed {
        let DfExpr::AggregateFunction(AggregateFunction { func, params }) = aggregate else {
            return Err(unmerged("a computed column"));
        };
        let [argument] = &params.args[..] else {
            return Err(unmerged(func.name()));
        };
        if params.filter.is_some() || !params.order_by.is_empty() {
            return Err(unmerged(func.name()));
        }
        let step = match (func.name(), params.distinct) {
            ("count", true) => {
                if counted.is_some_and(|x| x != argument) {
                    return Err(unmerged("count(DISTINCT) of another column"));
                }
                counted = Some(argument);
                TwoSteps::Distinct
            }
            ("count", false) => TwoSteps::Count,
            ("min" | "max" | "bool_and" | "bool_or", false) => TwoSteps::Again(func.clone()),
            ("sum", false) => match argument.get_type(schema)? {
                DataType::Int64 | DataType::Decimal128(..) | DataType::Float64 => {
                    TwoSteps::Again(func.clone())
                }
                _ => return Err(unmerged("a sum of this type")),
            },
            ("avg", false) if argument.get_type(schema)? == DataType::Float64 => {
                TwoSteps::Average(argument.clone())
            }
            (name, _) => return Err(unmerged(name)),
        };
        steps.push(step);
    }
    let Some(counted) = counted else {
        return Err(QueryError::Unsupported(
            "two steps without count(DISTINCT)".into(),
        ));
    };
    let mut first_keys = group.to_vec();
    first_keys.push(grouping(counted.clone())?.alias(COUNTED));
    let mut first = Vec::new();
    let mut second = Vec::new();
    // The second step's columns as the query names them: keys, then each aggregate.
    let mut named: Vec<DfExpr> = (0..group.len())
        .map(|i| column(&format!("key{i}")))
        .collect();
    let mut divides = false;
    for ((name, aggregate), step) in computed.iter().zip(steps) {
        let partial = format!("partial_{name}");
        let merged = match step {
            TwoSteps::Distinct => count(column(COUNTED)),
            TwoSteps::Count => {
                first.push(aggregate.clone().alias(&partial));
                sum(column(&partial))
            }
            TwoSteps::Again(func) => {
                first.push(aggregate.clone().alias(&partial));
                again(func, &partial)
            }
            TwoSteps::Average(argument) => {
                let partial_count = format!("{partial}_count");
                let (sum_name, count_name) = (format!("{name}_sum"), format!("{name}_count"));
                first.push(run_sum(argument.clone()).alias(&partial));
                first.push(count(argument).alias(&partial_count));
                second.push(run_sum(column(&partial)).alias(&sum_name));
                second.push(sum(column(&partial_count)).alias(&count_name));
                // NULL for a group without values, whose sum is NULL. Postgres adds from 0,
                // so an average of `-0`s is 0 where their sum is -0.
                let average =
                    (column(&sum_name) + lit(0.0)) / cast(column(&count_name), DataType::Float64);
                named.push(average.alias(name));
                divides = true;
                continue;
            }
        };
        second.push(merged.alias(name));
        named.push(column(name));
    }
    let second_keys = named[..group.len()].to_vec();
    let merged = frame
        .clone()
        .aggregate(first_keys, first)?
        .aggregate(second_keys, second)?;
    Ok(if divides {
        merged.select(named)?
    } else {
        merged
    })
}

/// The aggregate `func` over the first step's column `partial`.
fn again(func: Arc<AggregateUDF>, partial: &str) -> DfExpr {
    DfExpr::AggregateFunction(AggregateFunction::new_udf(
        func,
        vec![column(partial)],
        false,
        None,
        Vec::new(),
        None,
    ))
}
