//! What a pushed-down query asks for, as the planner serialises it into the plan.

use serde::{Deserialize, Serialize};

use super::expr::{Aggregate, Expr};
use crate::schema::Column;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    /// The table's stored columns (tags and fields), as they are now.
    pub columns: Vec<Column>,
    /// Conditions every row must meet.
    pub filters: Vec<Expr>,
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Shape {
    /// The matching rows: `time`, then the named stored columns.
    Rows { columns: Vec<String> },
    /// One row per group: the keys, then each aggregate's result columns
    /// (see [`crate::query::result_columns`]).
    Groups {
        keys: Vec<Expr>,
        aggregates: Vec<Aggregate>,
    },
}
