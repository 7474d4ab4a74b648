//! `DISTINCT` pushed down (`UPPERREL_DISTINCT`), as a grouping in the engine.
//!
//! `SELECT DISTINCT host, region FROM cpu` groups by its columns (or time buckets) with no
//! aggregate: Grafana's variable queries, which a table's footers often answer alone.
//!
//! The latest (or earliest) row of each series: `SELECT DISTINCT ON (hostname) * FROM cpu
//! ORDER BY hostname, time DESC` keeps, per value of the `DISTINCT ON` columns, the row
//! first in the order, which is the row with the latest time. The engine groups by those
//! columns and takes every other column's value at the latest (or, with `time ASC`,
//! earliest) time: `tsparquet.last`/`first` per column. Offered when `ORDER BY` is the
//! `DISTINCT ON` columns followed by `time` (or `time_ns`) alone.
//!
//! Both need every filter pushable and a target of the grouped columns alone (and columns,
//! for `DISTINCT ON`). An `ORDER BY` of the few result rows, with a `LIMIT`, is pushed as
//! over any grouping (`ordered`); without one Postgres sorts them.

use pgrx::prelude::*;
use pgrx::PgList;
use tsparquet_core::query::expr::{Aggregate, AggregateFunction, Expr};
use tsparquet_core::query::request::Shape;

use super::describe::deparse;
use super::ordered;
use super::upper::{append_target, grouped_upper_path, upper_private, FilteredRel};

/// The expression a sort or distinct clause refers to in the query's target list.
unsafe fn clause_expr(
    clause: *mut pg_sys::SortGroupClause,
    target_list: *mut pg_sys::List,
) -> *mut pg_sys::Node {
    // SAFETY: a clause of the query and its target list.
    unsafe { pg_sys::get_sortgroupclause_expr(clause, target_list).cast() }
}

/// Whether `ORDER BY` sorts by the `DISTINCT ON` clauses first, then by one more clause,
/// returned with whether that one is descending.
unsafe fn time_clause_after_distinct(
    parse: *mut pg_sys::Query,
) -> Option<(*mut pg_sys::SortGroupClause, bool)> {
    // SAFETY: the query being planned.
    unsafe {
        let distinct = (*parse).distinctClause;
        let sort: Vec<*mut pg_sys::SortGroupClause> =
            PgList::<pg_sys::SortGroupClause>::from_pg((*parse).sortClause)
                .iter_ptr()
                .collect();
        let distinct_count = PgList::<pg_sys::SortGroupClause>::from_pg(distinct).len();
        let (last, leading) = sort.split_last()?;
        if leading.len() != distinct_count
            || leading.iter().any(|clause| {
                pg_sys::get_sortgroupref_clause_noerr((**clause).tleSortGroupRef, distinct)
                    .is_null()
            })
        {
            return None;
        }
        let (mut family, mut input_type, mut strategy) =
            (pg_sys::Oid::INVALID, pg_sys::Oid::INVALID, 0i16);
        if !pg_sys::get_ordering_op_properties(
            (**last).sortop,
            &mut family,
            &mut input_type,
            &mut strategy,
        ) {
            return None;
        }
        Some((*last, strategy as u32 == pg_sys::BTGreaterStrategyNumber))
    }
}

pub unsafe fn add_distinct_path(
    root: *mut pg_sys::PlannerInfo,
    input_rel: *mut pg_sys::RelOptInfo,
    output_rel: *mut pg_sys::RelOptInfo,
) {
    // SAFETY: the planner's structures for the distinct step over one relation.
    unsafe {
        let parse = (*root).parse;
        if (*parse).hasTargetSRFs || (*input_rel).reloptkind != pg_sys::RelOptKind::RELOPT_BASEREL {
            return;
        }
        let path = if (*parse).hasDistinctOn {
            distinct_on_path(root, input_rel, output_rel)
        } else {
            distinct_path(root, input_rel, output_rel)
        };
        if let Some(path) = path {
            pg_sys::add_path(output_rel, path.cast());
        }
    }
}

/// The target's distinct values: the groups of the `DISTINCT` clauses, if the target
/// holds nothing else that reads the rows.
unsafe fn distinct_path(
    root: *mut pg_sys::PlannerInfo,
    input_rel: *mut pg_sys::RelOptInfo,
    output_rel: *mut pg_sys::RelOptInfo,
) -> Option<*mut pg_sys::ForeignPath> {
    // SAFETY: as add_distinct_path.
    unsafe {
        let parse = (*root).parse;
        let mut filtered = FilteredRel::new(root, input_rel)?;
        let (scan_tlist, keys, key_nodes) = distinct_keys(parse, &mut filtered)?;
        let target = (*root).upper_targets[pg_sys::UpperRelationKind::UPPERREL_DISTINCT as usize];
        if !ordered::computable(target, scan_tlist) {
            return None;
        }
        let keys_shown = deparse(filtered.table, filtered.relid, &key_nodes, ", ");
        filtered
            .pushed
            .push(("Pushed Distinct".to_owned(), keys_shown));
        let request = filtered.request(Shape::Groups {
            keys,
            aggregates: Vec::new(),
        });
        let (plan, params) = filtered.into_plan(Vec::new(), request);
        let private = upper_private(&plan, params, scan_tlist, std::ptr::null_mut());
        Some(grouped_upper_path(
            root, input_rel, output_rel, target, &key_nodes, 0.5, private,
        ))
    }
}

/// The `DISTINCT` (or `DISTINCT ON`) clauses as group keys: the scan target list holding
/// them, the keys and their expressions. A clause the same for every row (`'cpu' AS
/// measurement`) distinguishes no rows and is no key; None if no clause is left, since
/// a grouping without keys gives a row even over no rows.
unsafe fn distinct_keys(
    parse: *mut pg_sys::Query,
    filtered: &mut FilteredRel,
) -> Option<(*mut pg_sys::List, Vec<Expr>, Vec<*mut pg_sys::Node>)> {
    // SAFETY: the query being planned.
    unsafe {
        let mut scan_tlist: *mut pg_sys::List = std::ptr::null_mut();
        let mut keys = Vec::new();
        let mut key_nodes = Vec::new();
        for clause in PgList::<pg_sys::SortGroupClause>::from_pg((*parse).distinctClause).iter_ptr()
        {
            let expr = clause_expr(clause, (*parse).targetList);
            if !pg_sys::contain_var_clause(expr) && !pg_sys::contain_volatile_functions(expr) {
                continue;
            }
            keys.push(filtered.translator.group_key(expr)?);
            key_nodes.push(expr);
            append_target(&mut scan_tlist, expr);
        }
        (!keys.is_empty()).then_some((scan_tlist, keys, key_nodes))
    }
}

unsafe fn distinct_on_path(
    root: *mut pg_sys::PlannerInfo,
    input_rel: *mut pg_sys::RelOptInfo,
    output_rel: *mut pg_sys::RelOptInfo,
) -> Option<*mut pg_sys::ForeignPath> {
    // SAFETY: as add_distinct_path.
    unsafe {
        let parse = (*root).parse;
        let (time_clause, latest) = time_clause_after_distinct(parse)?;
        let mut filtered = FilteredRel::new(root, input_rel)?;
        let time = filtered
            .translator
            .column_expr(clause_expr(time_clause, (*parse).targetList))?;
        if !matches!(time, Expr::Time | Expr::TimeNs) {
            return None;
        }
        let (mut scan_tlist, keys, key_nodes) = distinct_keys(parse, &mut filtered)?;
        let translator = &mut filtered.translator;
        let function = if latest {
            AggregateFunction::Last
        } else {
            AggregateFunction::First
        };
        let target = (*root).upper_targets[pg_sys::UpperRelationKind::UPPERREL_DISTINCT as usize];
        let mut aggregates = Vec::new();
        for expr in PgList::<pg_sys::Node>::from_pg((*target).exprs).iter_ptr() {
            if !pg_sys::tlist_member(expr.cast(), scan_tlist).is_null() {
                continue;
            }
            if !pgrx::is_a(expr, pg_sys::NodeTag::T_Var) {
                if pg_sys::contain_var_clause(expr) {
                    return None;
                }
                continue;
            }
            aggregates.push(Aggregate::new(
                function,
                Some(translator.column_expr(expr)?),
            ));
            append_target(&mut scan_tlist, expr);
        }

        let direction = if latest { "latest" } else { "earliest" };
        let keys_shown = deparse(filtered.table, filtered.relid, &key_nodes, ", ");
        filtered.pushed.push((
            "Pushed Distinct On".to_owned(),
            format!("{keys_shown} ({direction} row by time)"),
        ));
        let request = filtered.request(Shape::Groups { keys, aggregates });
        let (plan, params) = filtered.into_plan(Vec::new(), request);

        // As a grouped scan: the engine reads the columns and keeps one row per group,
        // where Postgres would sort every row first.
        let private = upper_private(&plan, params, scan_tlist, std::ptr::null_mut());
        Some(grouped_upper_path(
            root, input_rel, output_rel, target, &key_nodes, 1.0, private,
        ))
    }
}
