//! Optimised plans kept for queries that differ only in their time ranges. A dashboard asks
//! the same question of a moving window again and again, and making and optimising the
//! DataFusion plan is a good part of a short query's time. A kept plan has each stored-time
//! bound of its filters as a placeholder; everything else it was made from is its key.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{Expr as DfExpr, LogicalPlan, TableScan};

use super::column_facts::ColumnFacts;
use super::engine::Output;
use super::expr::Value;
use super::request::QueryRequest;
use super::translate::time_bound_name;

/// Plans kept per backend; the least recently used is dropped for a new one.
const KEPT_PLANS: usize = 64;

#[derive(Default)]
pub struct PlanCache {
    plans: HashMap<String, Kept>,
    tick: u64,
}

struct Kept {
    plan: LogicalPlan,
    outputs: Vec<Output>,
    used: u64,
}

impl PlanCache {
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.plans.len()
    }

    pub fn get(&mut self, key: &str) -> Option<(LogicalPlan, Vec<Output>)> {
        self.tick += 1;
        let kept = self.plans.get_mut(key)?;
        kept.used = self.tick;
        Some((kept.plan.clone(), kept.outputs.clone()))
    }

    pub fn insert(&mut self, key: String, plan: LogicalPlan, outputs: Vec<Output>) {
        if self.plans.len() >= KEPT_PLANS {
            let oldest = self
                .plans
                .iter()
                .min_by_key(|(_, kept)| kept.used)
                .map(|(key, _)| key.clone());
            if let Some(oldest) = oldest {
                self.plans.remove(&oldest);
            }
        }
        self.tick += 1;
        let used = self.tick;
        self.plans.insert(
            key,
            Kept {
                plan,
                outputs,
                used,
            },
        );
    }
}

/// Everything a request's plan is made from except its time bounds: the filters as
/// translated (time bounds as placeholders, every other value written out), the rest of
/// the request, the parameters if anything outside the filters uses them, and what the
/// files' statistics proved about the aggregated columns.
pub fn key(
    request: &QueryRequest,
    params: &[Value],
    filters: &[DfExpr],
    facts: &ColumnFacts,
) -> Result<String, serde_json::Error> {
    let rest = serde_json::to_string(&(
        &request.columns,
        &request.shape,
        &request.having,
        &request.order,
        &request.limit,
    ))?;
    // Conservative: a column or text that merely looks like a parameter keys by them too.
    let params = if rest.contains("\"Param\"") {
        format!("{params:?}")
    } else {
        String::new()
    };
    Ok(format!("{filters:?}\n{rest}\n{params}\n{}", facts.key()))
}

/// A kept plan reading `table`, with `bounds` (in the order the translation collected
/// them) in place of its placeholders. Only predicates hold placeholders, so no schema
/// changes; result names are kept in case one ever ends up in a projection.
pub fn bind(
    plan: LogicalPlan,
    table: Arc<dyn TableProvider>,
    bounds: &[ScalarValue],
) -> Result<LogicalPlan, DataFusionError> {
    let values: HashMap<String, &ScalarValue> = bounds
        .iter()
        .enumerate()
        .map(|(n, value)| (time_bound_name(n), value))
        .collect();
    let bound = plan.transform_up(|node| {
        let node = match node {
            LogicalPlan::TableScan(scan) => Transformed::yes(LogicalPlan::TableScan(TableScan {
                source: provider_as_source(table.clone()),
                ..scan
            })),
            other => Transformed::no(other),
        };
        node.transform_data(|node| {
            let names = NamePreserver::new(&node);
            node.map_expressions(|expr| {
                let name = names.save(&expr);
                let filled = expr.transform_up(|e| match e {
                    DfExpr::Placeholder(placeholder) => match values.get(&placeholder.id) {
                        Some(value) => {
                            Ok(Transformed::yes(DfExpr::Literal((*value).clone(), None)))
                        }
                        None => Err(DataFusionError::Internal(format!(
                            "no value for {} in a kept plan",
                            placeholder.id
                        ))),
                    },
                    other => Ok(Transformed::no(other)),
                })?;
                Ok(filled.update_data(|e| name.restore(e)))
            })
        })
    })?;
    Ok(bound.data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::expr::{Aggregate, AggregateFunction, CompareOp, Expr};
    use crate::query::request::Shape;
    use crate::test_files::stored_table;

    /// The maximum of `v` per host from the time in parameter 0 on, with `having` on it.
    fn request(having: Vec<Expr>) -> QueryRequest {
        let (schema, _) = stored_table("m,host=a v=1 1\n");
        QueryRequest {
            columns: schema.columns().to_vec(),
            filters: vec![Expr::compare(
                CompareOp::GreaterOrEqual,
                Expr::TimeNs,
                Expr::Param(0),
            )],
            shape: Shape::Groups {
                keys: vec![Expr::Column("host".into())],
                aggregates: vec![Aggregate::new(
                    AggregateFunction::Max,
                    Some(Expr::Column("v".into())),
                )],
            },
            having,
            order: Vec::new(),
            limit: None,
        }
    }

    #[test]
    fn parameters_key_a_plan_only_where_they_are_used_outside_the_filters() {
        // The filters as translated, the same for every parameter value: their bound is a
        // placeholder.
        let filters = [DfExpr::Placeholder(
            datafusion::logical_expr::expr::Placeholder::new_with_field(time_bound_name(0), None),
        )];
        let key = |request: &QueryRequest, params: &[Value]| {
            key(request, params, &filters, &ColumnFacts::default()).unwrap()
        };
        let time_only = request(Vec::new());
        assert_eq!(
            key(&time_only, &[Value::Integer(1)]),
            key(&time_only, &[Value::Integer(2)])
        );
        let having = request(vec![Expr::compare(
            CompareOp::Greater,
            Expr::Output(1),
            Expr::Param(1),
        )]);
        assert_ne!(
            key(&having, &[Value::Integer(1), Value::Float(5.0)]),
            key(&having, &[Value::Integer(1), Value::Float(6.0)])
        );
    }
}
