//! Comparisons of `time` or `time_ns` with values known when a scan starts (constants,
//! query parameters, `now() - interval '1 hour'`): found while planning, computed when
//! the scan starts and again at each rescan, and used to read only the files whose time
//! range meets them. The comparisons stay in the plan's filter as well: pruning only
//! skips files that could not hold a matching row.

use std::ffi::{CStr, CString};

use pgrx::prelude::*;
use pgrx::PgList;
use tsparquet_core::query::expr::Value;
use tsparquet_core::schema::{TIME_COLUMN, TIME_NS_COLUMN};
use tsparquet_core::time_range::{Comparison, NanosRange, TimeBound, TimeColumn};

/// The bounds found among a relation's filters, and the value side of each, in order.
pub unsafe fn find(
    relid: pg_sys::Index,
    table: pg_sys::Oid,
    clauses: *mut pg_sys::List,
) -> (Vec<TimeBound>, *mut pg_sys::List) {
    let mut bounds = Vec::new();
    let mut values: *mut pg_sys::List = std::ptr::null_mut();
    // SAFETY: as `bounding`; the values are copied into the planner's memory context.
    unsafe {
        for (bound, _, value) in bounding(relid, table, clauses) {
            bounds.push(bound);
            values = pg_sys::lappend(values, pg_sys::copyObjectImpl(value.cast()));
        }
    }
    (bounds, values)
}

/// The share of a relation's rows that the files its bounds leave are expected to hold:
/// the planner's selectivity of the filters that are bounds.
pub unsafe fn share_in_bounds(
    root: *mut pg_sys::PlannerInfo,
    rel: *mut pg_sys::RelOptInfo,
    table: pg_sys::Oid,
) -> f64 {
    // SAFETY: a base relation being planned, and its RestrictInfos.
    unsafe {
        let mut clauses: *mut pg_sys::List = std::ptr::null_mut();
        for (_, rinfo, _) in bounding((*rel).relid, table, (*rel).baserestrictinfo) {
            clauses = pg_sys::lappend(clauses, rinfo.cast());
        }
        super::scan::selectivity(root, clauses)
    }
}

/// The range of stored nanoseconds that the bounds among a relation's filters allow with
/// the values known when planning: constants (and the parameters of a custom plan, which
/// the planner makes constants). A plan is made anew for other constants.
pub unsafe fn constant_range(
    relid: pg_sys::Index,
    table: pg_sys::Oid,
    clauses: *mut pg_sys::List,
) -> NanosRange {
    // SAFETY: as `bounding`; a Const node of a bound's timestamptz or bigint by value.
    unsafe {
        let values: Vec<(TimeBound, Option<i64>)> = bounding(relid, table, clauses)
            .into_iter()
            .map(|(bound, _, value)| {
                let constant = value.cast::<pg_sys::Const>();
                let known = pgrx::is_a(value, pg_sys::NodeTag::T_Const) && !(*constant).constisnull;
                (bound, known.then(|| (*constant).constvalue.value() as i64))
            })
            .collect();
        NanosRange::of(&values)
    }
}

/// Each filter among `clauses` that bounds a time column: the bound, the filter, and its
/// value side.
unsafe fn bounding(
    relid: pg_sys::Index,
    table: pg_sys::Oid,
    clauses: *mut pg_sys::List,
) -> Vec<(TimeBound, *mut pg_sys::RestrictInfo, *mut pg_sys::Node)> {
    // SAFETY: the planner's catalog lookups and its list of RestrictInfos.
    unsafe {
        let attnum = |name: &str| {
            let name = CString::new(name).expect("column names have no NUL");
            pg_sys::get_attnum(table, name.as_ptr())
        };
        let columns = [
            (
                attnum(TIME_COLUMN),
                TimeColumn::Time,
                pg_sys::TIMESTAMPTZOID,
            ),
            (attnum(TIME_NS_COLUMN), TimeColumn::TimeNs, pg_sys::INT8OID),
        ];
        let mut found = Vec::new();
        let clauses = PgList::<pg_sys::RestrictInfo>::from_pg(clauses);
        for rinfo in clauses.iter_ptr() {
            let clause = (*rinfo).clause.cast::<pg_sys::Node>();
            if !pgrx::is_a(clause, pg_sys::NodeTag::T_OpExpr) {
                continue;
            }
            let op = clause.cast::<pg_sys::OpExpr>();
            let args = PgList::<pg_sys::Node>::from_pg((*op).args);
            let (Some(left), Some(right)) = (args.get_ptr(0), args.get_ptr(1)) else {
                continue;
            };
            let column_of = |node: *mut pg_sys::Node| {
                if !pgrx::is_a(node, pg_sys::NodeTag::T_Var) {
                    return None;
                }
                let var = node.cast::<pg_sys::Var>();
                if (*var).varno as pg_sys::Index != relid || (*var).varlevelsup != 0 {
                    return None;
                }
                columns
                    .iter()
                    .find(|(attnum, ..)| *attnum == (*var).varattno)
            };
            let (column, value, swapped) = match (column_of(left), column_of(right)) {
                (Some(column), None) => (column, right, false),
                (None, Some(column)) => (column, left, true),
                _ => continue,
            };
            let (_, column, type_oid) = *column;
            let mut left_type = pg_sys::Oid::INVALID;
            let mut right_type = pg_sys::Oid::INVALID;
            pg_sys::op_input_types((*op).opno, &mut left_type, &mut right_type);
            let name = CStr::from_ptr(pg_sys::get_opname((*op).opno)).to_string_lossy();
            let Some(comparison) = Comparison::from_operator(&name) else {
                continue;
            };
            // Built-in ordering of the column's own type, against a value computed once:
            // for `time`, a date or timestamp made the `timestamptz` Postgres compares.
            let (column_type, value_type) = match swapped {
                true => (right_type, left_type),
                false => (left_type, right_type),
            };
            if column_type != type_oid || !pg_sys::is_pseudo_constant_clause(value) {
                continue;
            }
            let value = match column {
                _ if value_type == type_oid => value,
                TimeColumn::Time => match super::translate::as_timestamptz(value, value_type) {
                    Some(converted) => converted,
                    None => continue,
                },
                TimeColumn::TimeNs => continue,
            };
            let comparison = if swapped {
                comparison.swapped()
            } else {
                comparison
            };
            found.push((TimeBound { column, comparison }, rinfo, value));
        }
        found
    }
}

/// The values of the bounds, ready to evaluate at the start of each scan, with the other
/// parameters of the plan (`fdw_exprs`) that follow them.
pub struct BoundValues {
    bounds: Vec<TimeBound>,
    exprs: *mut pg_sys::List,
    states: Vec<*mut pg_sys::ExprState>,
}

impl BoundValues {
    /// Prepares the value expressions the planner stored in `fdw_exprs`.
    pub unsafe fn new(
        node: *mut pg_sys::ForeignScanState,
        bounds: Vec<TimeBound>,
        fdw_exprs: *mut pg_sys::List,
    ) -> Self {
        // SAFETY: initialises expressions of this plan node for its executor state.
        let states = unsafe {
            let list = pg_sys::ExecInitExprList(fdw_exprs, node.cast());
            PgList::<pg_sys::ExprState>::from_pg(list)
                .iter_ptr()
                .collect()
        };
        BoundValues {
            bounds,
            exprs: fdw_exprs,
            states,
        }
    }

    /// The range of stored nanoseconds the bounds allow, with the current parameter values.
    pub unsafe fn range(&self, node: *mut pg_sys::ForeignScanState) -> NanosRange {
        let values: Vec<(TimeBound, Option<i64>)> = self
            .bounds
            .iter()
            .zip(&self.states)
            .map(|(bound, state)| {
                let mut is_null = false;
                // SAFETY: an initialised expression of this node, evaluated in its
                // per-tuple context; timestamptz and bigint are 64-bit values by value.
                let datum = unsafe {
                    pg_sys::ExecEvalExprSwitchContext(
                        *state,
                        (*node).ss.ps.ps_ExprContext,
                        &mut is_null,
                    )
                };
                (*bound, (!is_null).then(|| datum.value() as i64))
            })
            .collect();
        NanosRange::of(&values)
    }

    /// The values of all of the plan's parameters, the bounds' first.
    pub unsafe fn param_values(&self, node: *mut pg_sys::ForeignScanState) -> Vec<Value> {
        // SAFETY: the states were initialised from these expressions for this node.
        unsafe { super::query::param_values(node, &self.states, self.exprs) }
    }

    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }
}

/// The bounds as EXPLAIN shows them: `time >= …, time_ns < …`.
pub fn describe(bounds: &[TimeBound]) -> String {
    bounds
        .iter()
        .map(|b| {
            let column = match b.column {
                TimeColumn::Time => TIME_COLUMN,
                TimeColumn::TimeNs => TIME_NS_COLUMN,
            };
            format!("{column} {} …", b.comparison.symbol())
        })
        .collect::<Vec<_>>()
        .join(", ")
}
