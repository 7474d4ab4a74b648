//! Aggregates pushed down (`GetForeignUpperPaths`, `UPPERREL_GROUP_AGG`): when every
//! filter, group key, aggregate and `HAVING` condition of a query on one measurement is
//! translatable, a foreign scan of the grouped relation computes the groups in the query
//! engine and hands Postgres one row per group. Otherwise nothing is offered and Postgres
//! aggregates.
//!
//! The scan's target list (`fdw_scan_tlist`) holds the group keys, then the aggregates
//! (those only `HAVING` uses last): the order of the engine's result columns. `ORDER BY` and `LIMIT` over such a scan, or
//! over a scan of rows, are in `ordered`.

use pgrx::prelude::*;
use pgrx::PgList;
use tsparquet_core::query::expr::{Aggregate, Expr};
use tsparquet_core::query::request::{QueryRequest, Shape};
use tsparquet_core::query::sort_memory;
use tsparquet_core::time_range::TimeBound;

use super::check_order;
use super::describe::{deparse, relation_name};
use super::distinct;
use super::ordered;
use super::scan::{plan_private, ScanPlan};
use super::time_bounds;
use super::translate::Translator;
use crate::settings::ENABLE_PUSHDOWN;

/// The target list of the grouped scan: group keys first, then aggregates, each once.
/// An expression over aggregates and group keys (`round(avg(x)::numeric, 2)`, `max(x) -
/// min(x)`) is computed by Postgres from the scan's results, as `postgres_fdw` does: only
/// its aggregates are pushed. Its columns outside aggregates are group keys or parts of
/// one, which the parser checked, and Postgres finds them among the keys.
unsafe fn grouped_target_list(
    target: *mut pg_sys::PathTarget,
    group_clause: *mut pg_sys::List,
) -> (*mut pg_sys::List, usize) {
    // SAFETY: the planner's grouped target.
    unsafe {
        let exprs = PgList::<pg_sys::Node>::from_pg((*target).exprs);
        let mut keys = Vec::new();
        let mut aggregates = Vec::new();
        for (i, expr) in exprs.iter_ptr().enumerate() {
            let sortgroupref = if (*target).sortgrouprefs.is_null() {
                0
            } else {
                *(*target).sortgrouprefs.add(i)
            };
            if pgrx::is_a(expr, pg_sys::NodeTag::T_Aggref) {
                aggregates.push(expr);
            } else if sortgroupref != 0
                && !pg_sys::get_sortgroupref_clause_noerr(sortgroupref, group_clause).is_null()
            {
                keys.push((expr, sortgroupref));
            } else {
                aggregates.extend(aggregates_in(expr));
            }
        }
        // A key grouped by twice (`SELECT host AS __text, host AS __value ... GROUP BY 1, 2`,
        // as Grafana asks for a variable's values) is one result column.
        let mut list: *mut pg_sys::List = std::ptr::null_mut();
        let mut key_count = 0;
        for (expr, sortgroupref) in keys {
            if pg_sys::tlist_member(expr.cast(), list).is_null() {
                (*append_target(&mut list, expr)).ressortgroupref = sortgroupref;
                key_count += 1;
            }
        }
        for expr in aggregates {
            if pg_sys::tlist_member(expr.cast(), list).is_null() {
                append_target(&mut list, expr);
            }
        }
        (list, key_count)
    }
}

/// The columns and aggregates `expr` uses (not those inside its aggregates).
pub(super) unsafe fn columns_and_aggregates(expr: *mut pg_sys::Node) -> Vec<*mut pg_sys::Node> {
    // SAFETY: an expression of the planner's.
    unsafe {
        let used = pg_sys::pull_var_clause(
            expr,
            (pg_sys::PVC_INCLUDE_AGGREGATES | pg_sys::PVC_RECURSE_PLACEHOLDERS) as i32,
        );
        PgList::<pg_sys::Node>::from_pg(used).iter_ptr().collect()
    }
}

/// The aggregates `expr` uses.
unsafe fn aggregates_in(expr: *mut pg_sys::Node) -> Vec<*mut pg_sys::Node> {
    // SAFETY: an expression of the planner's.
    unsafe {
        columns_and_aggregates(expr)
            .into_iter()
            .filter(|node| pgrx::is_a(*node, pg_sys::NodeTag::T_Aggref))
            .collect()
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn get_foreign_upper_paths(
    root: *mut pg_sys::PlannerInfo,
    stage: pg_sys::UpperRelationKind::Type,
    input_rel: *mut pg_sys::RelOptInfo,
    output_rel: *mut pg_sys::RelOptInfo,
    extra: *mut std::ffi::c_void,
) {
    if !ENABLE_PUSHDOWN.get() {
        return;
    }
    // SAFETY: the planner's structures for an upper step over one relation.
    unsafe {
        match stage {
            pg_sys::UpperRelationKind::UPPERREL_GROUP_AGG => {}
            pg_sys::UpperRelationKind::UPPERREL_DISTINCT => {
                return distinct::add_distinct_path(root, input_rel, output_rel)
            }
            pg_sys::UpperRelationKind::UPPERREL_ORDERED => {
                return ordered::add_ordered_path(root, input_rel, output_rel)
            }
            pg_sys::UpperRelationKind::UPPERREL_FINAL => {
                return ordered::add_limited_path(root, input_rel, output_rel, extra.cast())
            }
            _ => return,
        }
        if (*input_rel).reloptkind != pg_sys::RelOptKind::RELOPT_BASEREL {
            return;
        }
        let extra = extra.cast::<pg_sys::GroupPathExtraData>();
        let parse = (*root).parse;
        if (*extra).patype != pg_sys::PartitionwiseAggregateType::PARTITIONWISE_AGGREGATE_NONE
            || !(*parse).groupingSets.is_null()
            || (*parse).hasTargetSRFs
        {
            return;
        }
        let having = (*extra).havingQual.cast::<pg_sys::List>();
        if let Some(path) = grouped_path(root, input_rel, output_rel, having) {
            pg_sys::add_path(output_rel, path.cast());
        }
    }
}

/// `list` with a new entry for `expr` at its end; the entry, to set more of it.
pub(super) unsafe fn append_target(
    list: &mut *mut pg_sys::List,
    expr: *mut pg_sys::Node,
) -> *mut pg_sys::TargetEntry {
    // SAFETY: a target list being built in the planner's memory context.
    unsafe {
        let resno = PgList::<pg_sys::TargetEntry>::from_pg(*list).len() as i16 + 1;
        let entry = pg_sys::makeTargetEntry(expr.cast(), resno, std::ptr::null_mut(), false);
        *list = pg_sys::lappend(*list, entry.cast());
        entry
    }
}

/// The `fdw_private` of an upper path, read back by [`plan`]: the serialised plan, the
/// parameter expressions, the scan target list and the conditions Postgres checks on the
/// scan's rows ([`local_conditions`]; NIL for none).
pub(super) unsafe fn upper_private(
    plan: &ScanPlan,
    params: *mut pg_sys::List,
    scan_tlist: *mut pg_sys::List,
    local_conditions: *mut pg_sys::List,
) -> *mut pg_sys::List {
    // SAFETY: lists of the planner's memory context.
    unsafe {
        let private = pg_sys::lappend(plan_private(plan), params.cast());
        let private = pg_sys::lappend(private, scan_tlist.cast());
        pg_sys::lappend(private, local_conditions.cast())
    }
}

/// A path computing one row per group of `key_nodes` in the engine. `cost_per_row` is
/// what the engine spends on each input row, in units of `cpu_operator_cost`.
pub(super) unsafe fn grouped_upper_path(
    root: *mut pg_sys::PlannerInfo,
    input_rel: *mut pg_sys::RelOptInfo,
    output_rel: *mut pg_sys::RelOptInfo,
    target: *mut pg_sys::PathTarget,
    key_nodes: &[*mut pg_sys::Node],
    cost_per_row: f64,
    private: *mut pg_sys::List,
) -> *mut pg_sys::ForeignPath {
    // SAFETY: the planner's structures for an upper step over one relation.
    unsafe {
        let mut group_exprs: *mut pg_sys::List = std::ptr::null_mut();
        for node in key_nodes {
            group_exprs = pg_sys::lappend(group_exprs, node.cast());
        }
        let rows = if key_nodes.is_empty() {
            1.0
        } else {
            pg_sys::estimate_num_groups(
                root,
                group_exprs,
                (*input_rel).rows,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        let startup = 10.0 + (*input_rel).tuples * pg_sys::cpu_operator_cost * cost_per_row;
        let total = startup + rows * pg_sys::cpu_tuple_cost;
        pg_sys::create_foreign_upper_path(
            root,
            output_rel,
            target,
            rows,
            startup,
            total,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            private,
        )
    }
}

/// A base relation whose quals are all translated for the engine: what an upper scan
/// (grouped, ordered, distinct) starts from, since every row it reads must meet them.
pub(super) struct FilteredRel {
    /// The range table index of the table's scan.
    pub relid: pg_sys::Index,
    pub table: pg_sys::Oid,
    pub time_bounds: Vec<TimeBound>,
    pub translator: Translator,
    pub filters: Vec<Expr>,
    /// What EXPLAIN shows so far: the relation and the filter.
    pub pushed: Vec<(String, String)>,
}

impl FilteredRel {
    /// None if some qual is not translatable, or if the scan also reads tables inheriting
    /// from the measurement, whose rows the engine does not hold.
    pub unsafe fn new(
        root: *mut pg_sys::PlannerInfo,
        rel: *mut pg_sys::RelOptInfo,
    ) -> Option<FilteredRel> {
        // SAFETY: a base relation of the query being planned.
        unsafe {
            let relid = (*rel).relid;
            let table = (**(*root).simple_rte_array.add(relid as usize)).relid;
            if reads_inheriting_tables(root, relid, table) {
                return None;
            }
            let quals = (*rel).baserestrictinfo;
            let (time_bounds, bound_values) = time_bounds::find(relid, table, quals);
            let mut translator = Translator::new(relid, table, bound_values);
            let mut filters = Vec::new();
            let mut filter_nodes = Vec::new();
            for rinfo in check_order::in_check_order(root, quals) {
                if (*rinfo).pseudoconstant {
                    return None;
                }
                let clause = (*rinfo).clause.cast::<pg_sys::Node>();
                filters.push(translator.qual(clause)?);
                filter_nodes.push(clause);
            }
            let mut pushed = vec![("Relation".to_owned(), relation_name(table))];
            if !filter_nodes.is_empty() {
                pushed.push((
                    "Pushed Filter".to_owned(),
                    deparse(table, relid, &filter_nodes, " AND "),
                ));
            }
            Some(FilteredRel {
                relid,
                table,
                time_bounds,
                translator,
                filters,
                pushed,
            })
        }
    }
}

/// Whether the scan of range table entry `relid`, of `table`, also reads tables inheriting
/// from it: whether the planner gave it a child of another table. A table that once had
/// such tables is planned as the parent of itself alone.
unsafe fn reads_inheriting_tables(
    root: *mut pg_sys::PlannerInfo,
    relid: pg_sys::Index,
    table: pg_sys::Oid,
) -> bool {
    // SAFETY: the planner's range table and the inheritance it expanded.
    unsafe {
        PgList::<pg_sys::AppendRelInfo>::from_pg((*root).append_rel_list)
            .iter_ptr()
            .any(|info| {
                (*info).parent_relid == relid
                    && (**(*root).simple_rte_array.add((*info).child_relid as usize)).relid != table
            })
    }
}

impl FilteredRel {
    /// The request for `shape` over the filtered rows (the filters move into it).
    pub fn request(&mut self, shape: Shape) -> QueryRequest {
        QueryRequest {
            columns: self.translator.stored_columns(),
            filters: std::mem::take(&mut self.filters),
            shape,
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
        }
    }

    /// The scan plan running `query` and reading `attributes`, and the expressions of its
    /// parameters.
    pub fn into_plan(
        self,
        attributes: Vec<i16>,
        query: QueryRequest,
    ) -> (ScanPlan, *mut pg_sys::List) {
        let plan = ScanPlan {
            table: self.table.to_u32(),
            attributes,
            time_bounds: self.time_bounds,
            time_zone: self.translator.time_zone(),
            query: Some(query),
            pushed: self.pushed,
            work_mem_kb: super::query::work_mem_kb(),
        };
        (plan, self.translator.params())
    }
}

/// `list` with the aggregates of `having` that are not in it yet appended.
unsafe fn with_having_aggregates(
    mut list: *mut pg_sys::List,
    having: *mut pg_sys::List,
) -> *mut pg_sys::List {
    // SAFETY: the grouped scan's target list and the query's HAVING conditions.
    unsafe {
        for node in aggregates_in(having.cast()) {
            if pg_sys::tlist_member(node.cast(), list).is_null() {
                append_target(&mut list, node);
            }
        }
        list
    }
}

unsafe fn grouped_path(
    root: *mut pg_sys::PlannerInfo,
    input_rel: *mut pg_sys::RelOptInfo,
    output_rel: *mut pg_sys::RelOptInfo,
    having: *mut pg_sys::List,
) -> Option<*mut pg_sys::ForeignPath> {
    // SAFETY: as get_foreign_upper_paths.
    unsafe {
        let mut filtered = FilteredRel::new(root, input_rel)?;
        let (table, relid) = (filtered.table, filtered.relid);
        let translator = &mut filtered.translator;
        let target = (*root).upper_targets[pg_sys::UpperRelationKind::UPPERREL_GROUP_AGG as usize];
        let (list, key_count) = grouped_target_list(target, (*(*root).parse).groupClause);
        // The aggregates only HAVING uses are computed too, after the target's.
        let list = with_having_aggregates(list, having);
        let entries: Vec<*mut pg_sys::Node> = PgList::<pg_sys::TargetEntry>::from_pg(list)
            .iter_ptr()
            .map(|entry| (*entry).expr.cast())
            .collect();
        let (key_nodes, aggregate_nodes) = entries.split_at(key_count);
        let mut keys: Vec<Expr> = Vec::new();
        for node in key_nodes {
            keys.push(translator.group_key(*node)?);
        }
        let mut aggregates: Vec<Aggregate> = Vec::new();
        for node in aggregate_nodes {
            aggregates.push(translator.aggregate(node.cast())?);
        }
        let percentiles = aggregates
            .iter()
            .filter(|a| a.function.is_percentile())
            .count();
        let mut request = filtered.request(Shape::Groups { keys, aggregates });
        if request.counts_distinct_in_one_step() {
            return None;
        }
        // A percentile keeps every value it takes in memory.
        if percentiles > 0
            && !sort_memory::percentile_values_fit(
                percentiles,
                super::ordered::rows_bound(input_rel, table),
                super::ordered::work_mem_bytes(),
            )
        {
            return None;
        }
        let having_nodes: Vec<*mut pg_sys::Node> =
            PgList::<pg_sys::Node>::from_pg(having).iter_ptr().collect();
        let translator = &mut filtered.translator;
        translator.read_results(&entries, |output| request.is_engine_result(output));
        // A condition the engine cannot check is checked by Postgres on the groups the
        // scan returns (its aggregates are among them).
        let mut pushed_having = Vec::new();
        let mut local_having: *mut pg_sys::List = std::ptr::null_mut();
        for node in having_nodes {
            match translator.attempt(|t| t.filter(node)) {
                Some(condition) => {
                    request.having.push(condition);
                    pushed_having.push(node);
                }
                None => local_having = pg_sys::lappend(local_having, node.cast()),
            }
        }
        for (label, nodes, separator) in [
            ("Pushed Group Key", key_nodes, ", "),
            ("Pushed Aggregates", aggregate_nodes, ", "),
            ("Pushed Having", &pushed_having[..], " AND "),
        ] {
            if !nodes.is_empty() {
                filtered
                    .pushed
                    .push((label.to_owned(), deparse(table, relid, nodes, separator)));
            }
        }
        let (plan, params) = filtered.into_plan(Vec::new(), request);

        // The engine reads only the needed columns and aggregates them a batch at a time:
        // far less per row than handing each row to Postgres.
        let private = upper_private(&plan, params, list, local_having);
        Some(grouped_upper_path(
            root, input_rel, output_rel, target, key_nodes, 0.5, private,
        ))
    }
}

/// The conditions Postgres checks on the rows of the upper scan `path`: a grouped scan's
/// `HAVING` conditions the engine cannot check.
pub(super) unsafe fn local_conditions(path: *mut pg_sys::ForeignPath) -> *mut pg_sys::List {
    // SAFETY: a path built here or in `ordered`.
    unsafe {
        PgList::<pg_sys::Node>::from_pg((*path).fdw_private)
            .get_ptr(3)
            .map_or(std::ptr::null_mut(), |list| list.cast())
    }
}

/// The plan of a scan of an upper relation (grouped, ordered or limited) chosen by the
/// planner.
pub unsafe fn plan(
    best_path: *mut pg_sys::ForeignPath,
    tlist: *mut pg_sys::List,
    outer_plan: *mut pg_sys::Plan,
) -> *mut pg_sys::ForeignScan {
    // SAFETY: a path built here or in `ordered`: fdw_private holds the serialised plan, the
    // parameter expressions and the scan target list.
    unsafe {
        let private = PgList::<pg_sys::Node>::from_pg((*best_path).fdw_private);
        let plan_text = private.get_ptr(0).expect("upper scan plan");
        let params = private.get_ptr(1).unwrap_or(std::ptr::null_mut());
        let scan_tlist = private.get_ptr(2).unwrap_or(std::ptr::null_mut());
        pg_sys::make_foreignscan(
            tlist,
            local_conditions(best_path),
            0,
            params.cast(),
            pg_sys::lappend(std::ptr::null_mut(), plan_text.cast()),
            scan_tlist.cast(),
            std::ptr::null_mut(),
            outer_plan,
        )
    }
}
