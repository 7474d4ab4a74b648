//! `ORDER BY` and `LIMIT`/`OFFSET` pushed down (`UPPERREL_ORDERED`, `UPPERREL_FINAL`): the
//! query engine sorts the rows or groups of a pushed-down scan and, with a limit, keeps only
//! the top ones (a bounded top-N instead of a sort of everything in Postgres). Without
//! such a limit, a scan of a table's rows has a path sorted in the order the query wants
//! them (an `ORDER BY`, a window's `PARTITION BY ... ORDER BY`), whose keys travel in its
//! `fdw_private`: the engine sorts every row, within `work_mem` and spilling to the
//! query's temporary files past it, as a sort in Postgres does. Groups and distinct
//! values without a limit are sorted by Postgres.
//!
//! Only orders whose meaning the engine reproduces are pushed: each key a result column
//! sorted by its type's default btree order, text only under the "C" collation (the
//! engine compares bytes), floats in Postgres' order (NaN last ascending), and never an
//! average of integers (Postgres divides it). Limits are constants. Everything else stays
//! with Postgres.

use pgrx::prelude::*;
use pgrx::PgList;
use serde::{Deserialize, Serialize};
use tsparquet_core::query::request::{Limit, QueryRequest, Shape, SortKey};
use tsparquet_core::query::sort_memory;

use super::describe::deparse;
use super::parallel;
use super::scan::{plan_private, read_plan, ScanPlan};
use super::time_bounds;
use super::upper::{
    append_target, columns_and_aggregates, local_conditions, upper_private, FilteredRel,
};

/// Whether text under `collation` sorts by bytes, as the engine sorts it: "C" and "POSIX",
/// and the database default when the database's collations come from the C library
/// (not ICU) and its LC_COLLATE is one of them or C.UTF-8, whose order is that of code
/// points, which UTF-8's bytes keep.
pub(super) fn collation_is_c(collation: pg_sys::Oid) -> bool {
    match collation {
        pg_sys::C_COLLATION_OID | pg_sys::POSIX_COLLATION_OID => true,
        pg_sys::DEFAULT_COLLATION_OID => {
            // SAFETY: reads the backend's LC_COLLATE, which Postgres set from the database
            // when the session started and never changes.
            let locale = unsafe { libc::setlocale(libc::LC_COLLATE, std::ptr::null()) };
            !locale.is_null()
                && sorts_by_bytes(unsafe { std::ffi::CStr::from_ptr(locale) })
                && !database_collates_by_icu()
        }
        _ => false,
    }
}

/// Whether the database's default collation is ICU's, whatever its LC_COLLATE says.
fn database_collates_by_icu() -> bool {
    // SAFETY: the syscache entry of this backend's database, which exists while it runs,
    // read and released within the call.
    unsafe {
        let tuple = pg_sys::SearchSysCache1(
            pg_sys::SysCacheIdentifier::DATABASEOID as i32,
            pg_sys::Datum::from(pg_sys::MyDatabaseId),
        );
        if tuple.is_null() {
            return true;
        }
        let database = pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_database>(tuple);
        let provider = (*database).datlocprovider as u8;
        pg_sys::ReleaseSysCache(tuple);
        provider == pg_sys::COLLPROVIDER_ICU
    }
}

/// Whether the C library's `locale` compares strings as their bytes.
fn sorts_by_bytes(locale: &std::ffi::CStr) -> bool {
    let name = locale.to_bytes();
    name == b"C"
        || name == b"POSIX"
        || name.eq_ignore_ascii_case(b"C.UTF-8")
        || name.eq_ignore_ascii_case(b"C.UTF8")
}

/// A pushed-down scan that an order or a limit can be added to.
pub(super) struct PushedInput {
    pub plan: ScanPlan,
    /// The values of the plan's parameters, for `fdw_exprs`.
    pub params: *mut pg_sys::List,
    /// What the scan returns, as `fdw_scan_tlist`.
    pub scan_tlist: *mut pg_sys::List,
    /// For each entry of the scan target list, its result column in the query request.
    pub outputs: Vec<usize>,
    /// The range table index of the scanned table.
    pub relid: pg_sys::Index,
    pub rows: f64,
    pub total_cost: f64,
}

impl PushedInput {
    /// The path's `fdw_private`: the plan, the parameters and the scan target list.
    unsafe fn private(&self) -> *mut pg_sys::List {
        // SAFETY: lists of the planner's memory context.
        unsafe {
            upper_private(
                &self.plan,
                self.params,
                self.scan_tlist,
                std::ptr::null_mut(),
            )
        }
    }

    fn request(&mut self) -> &mut QueryRequest {
        self.plan
            .query
            .as_mut()
            .expect("a pushed-down input has a query")
    }
}

/// The foreign path of a pushed-down upper relation (`fdw_private` of three items).
unsafe fn upper_input(
    root: *mut pg_sys::PlannerInfo,
    rel: *mut pg_sys::RelOptInfo,
) -> Option<PushedInput> {
    // SAFETY: the paths of a relation the planner passed.
    unsafe {
        // Not a sorted scan of the table, which Postgres hands on to the ordered relation
        // as it is.
        let path = PgList::<pg_sys::Path>::from_pg((*rel).pathlist)
            .iter_ptr()
            .find(|p| {
                (**p).pathtype == pg_sys::NodeTag::T_ForeignScan
                    && (*(**p).parent).reloptkind == pg_sys::RelOptKind::RELOPT_UPPER_REL
            })?
            .cast::<pg_sys::ForeignPath>();
        // Postgres filters its groups after the scan: sorting and keeping the top ones in
        // the engine would come before that.
        if !local_conditions(path).is_null() {
            return None;
        }
        let private = PgList::<pg_sys::Node>::from_pg((*path).fdw_private);
        let plan = read_plan(private.get_ptr(0)?.cast());
        let scan_tlist = private.get_ptr(2)?.cast::<pg_sys::List>();
        let outputs = (0..PgList::<pg_sys::TargetEntry>::from_pg(scan_tlist).len()).collect();
        Some(PushedInput {
            plan,
            params: private.get_ptr(1).unwrap_or(std::ptr::null_mut()).cast(),
            scan_tlist,
            outputs,
            relid: pg_sys::bms_singleton_member((*root).all_baserels) as pg_sys::Index,
            rows: (*path).path.rows,
            total_cost: (*path).path.total_cost,
        })
    }
}

/// The rows of a measurement whose quals are all pushable, returning the Vars of `target`.
unsafe fn rows_input(
    root: *mut pg_sys::PlannerInfo,
    rel: *mut pg_sys::RelOptInfo,
    target: *mut pg_sys::PathTarget,
) -> Option<PushedInput> {
    // SAFETY: a base relation of the query and its quals.
    unsafe {
        let mut filtered = FilteredRel::new(root, rel)?;
        let (relid, translator) = (filtered.relid, &filtered.translator);
        let mut scan_tlist: *mut pg_sys::List = std::ptr::null_mut();
        let mut attributes = Vec::new();
        let mut columns: Vec<String> = Vec::new();
        let mut outputs = Vec::new();
        // The columns the target uses: Postgres computes its expressions from them.
        let vars = pg_sys::pull_var_clause(
            (*target).exprs.cast(),
            pg_sys::PVC_RECURSE_PLACEHOLDERS as i32,
        );
        for expr in PgList::<pg_sys::Node>::from_pg(vars).iter_ptr() {
            let var = expr.cast::<pg_sys::Var>();
            // A whole-row or system column, or another relation's column: not a result
            // column of the engine.
            if (*var).varno as pg_sys::Index != relid
                || (*var).varlevelsup != 0
                || (*var).varattno <= 0
            {
                return None;
            }
            if !pg_sys::tlist_member(expr.cast(), scan_tlist).is_null() {
                continue;
            }
            let attnum = (*var).varattno;
            outputs.push(match translator.stored_name(attnum) {
                Some(name) => {
                    columns.push(name.to_owned());
                    columns.len()
                }
                // time and time_ns: both read the stored time, result column 0.
                None => 0,
            });
            attributes.push(attnum);
            append_target(&mut scan_tlist, expr);
        }
        let request = filtered.request(Shape::Rows { columns });
        let (plan, params) = filtered.into_plan(attributes, request);
        Some(PushedInput {
            plan,
            params,
            scan_tlist,
            outputs,
            relid,
            rows: (*rel).rows,
            total_cost: parallel::cheapest_read_cost(rel),
        })
    }
}

/// Whether Postgres can compute every expression of `target` from what the scan returns:
/// each is returned, or every column and aggregate it uses is.
pub(super) unsafe fn computable(
    target: *mut pg_sys::PathTarget,
    scan_tlist: *mut pg_sys::List,
) -> bool {
    // SAFETY: the planner's target and a target list built for it.
    unsafe {
        let returned =
            |expr: *mut pg_sys::Node| !pg_sys::tlist_member(expr.cast(), scan_tlist).is_null();
        PgList::<pg_sys::Node>::from_pg((*target).exprs)
            .iter_ptr()
            .all(|expr| returned(expr) || columns_and_aggregates(expr).into_iter().all(returned))
    }
}

/// Whether a sort by `pathkey` over an expression of `type_oid` is the order the engine
/// gives that result column.
unsafe fn default_order(pathkey: *mut pg_sys::PathKey, type_oid: pg_sys::Oid) -> bool {
    // SAFETY: catalog lookups.
    unsafe {
        let opclass = pg_sys::GetDefaultOpClass(type_oid, pg_sys::BTREE_AM_OID);
        if opclass == pg_sys::Oid::INVALID
            || pg_sys::get_opclass_family(opclass) != (*pathkey).pk_opfamily
        {
            return false;
        }
        let collation = (*(*pathkey).pk_eclass).ec_collation;
        type_oid != pg_sys::TEXTOID || collation_is_c(collation)
    }
}

/// A sort key as `ORDER BY` writes it: NULLS FIRST/LAST only where not the default.
fn shown_key(sorted: String, descending: bool, nulls_first: bool) -> String {
    let direction = if descending { " DESC" } else { "" };
    let nulls = match (descending, nulls_first) {
        (false, true) => " NULLS FIRST",
        (true, false) => " NULLS LAST",
        _ => "",
    };
    format!("{sorted}{direction}{nulls}")
}

/// How the engine sorts by a path key, as Postgres does.
struct KeyOrder {
    descending: bool,
    nulls_first: bool,
    /// Whether the key is a `timestamptz` (see [`SortKey::microseconds`]).
    microseconds: bool,
    /// The key as EXPLAIN shows it.
    shown: String,
}

/// What `found` makes of the member of `pathkey`'s class it finds, and the order the
/// engine gives it: its type's default order; None if the engine cannot sort by it.
unsafe fn engine_order<T>(
    pathkey: *mut pg_sys::PathKey,
    table: pg_sys::Oid,
    relid: pg_sys::Index,
    found: impl Fn(*mut pg_sys::Expr) -> Option<T>,
) -> Option<(T, KeyOrder)> {
    // SAFETY: a path key of the query being planned.
    unsafe {
        let class = (*pathkey).pk_eclass;
        if (*class).ec_has_volatile {
            return None;
        }
        let (expr, what) = PgList::<pg_sys::EquivalenceMember>::from_pg((*class).ec_members)
            .iter_ptr()
            .find_map(|member| {
                let expr = (*member).em_expr;
                found(expr).map(|what| (expr, what))
            })?;
        let descending = match (*pathkey).pk_strategy as u32 {
            pg_sys::BTLessStrategyNumber => false,
            pg_sys::BTGreaterStrategyNumber => true,
            _ => return None,
        };
        let type_oid = pg_sys::exprType(expr.cast());
        if !default_order(pathkey, type_oid) {
            return None;
        }
        let nulls_first = (*pathkey).pk_nulls_first;
        let shown = shown_key(
            deparse(table, relid, &[expr.cast()], ""),
            descending,
            nulls_first,
        );
        let order = KeyOrder {
            descending,
            nulls_first,
            microseconds: type_oid == pg_sys::TIMESTAMPTZOID,
            shown,
        };
        Some((what, order))
    }
}

/// The query's `ORDER BY` as sort keys over the input's results, and the SQL EXPLAIN
/// shows; None if some key is not pushable.
unsafe fn sort_keys(
    pathkeys: *mut pg_sys::List,
    input: &PushedInput,
) -> Option<(Vec<SortKey>, String)> {
    // SAFETY: the planner's path keys and the input's target list.
    unsafe {
        let request = input.plan.query.as_ref()?;
        let table = pg_sys::Oid::from(input.plan.table);
        let mut keys = Vec::new();
        let mut shown = Vec::new();
        for pathkey in PgList::<pg_sys::PathKey>::from_pg(pathkeys).iter_ptr() {
            let (entry, order) = engine_order(pathkey, table, input.relid, |expr| {
                let entry = pg_sys::tlist_member(expr, input.scan_tlist);
                (!entry.is_null()).then_some(entry)
            })?;
            let output = *input.outputs.get((*entry).resno as usize - 1)?;
            if !request.is_engine_result(output) {
                return None;
            }
            keys.push(SortKey {
                output,
                descending: order.descending,
                nulls_first: order.nulls_first,
                microseconds: order.microseconds,
            });
            shown.push(order.shown);
        }
        Some((keys, shown.join(", ")))
    }
}

/// A key of a scan's rows sorted in the engine: a column of the scanned table.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SortedColumn {
    attnum: i16,
    descending: bool,
    nulls_first: bool,
    microseconds: bool,
}

/// The order of a sorted scan of a table's rows, as its path's `fdw_private`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct SortedScan {
    columns: Vec<SortedColumn>,
    /// The order as EXPLAIN shows it.
    pub shown: String,
}

impl SortedScan {
    /// The order as sort keys over a scan returning the stored time (result 0, for
    /// `time` and `time_ns`) and then `columns`; `stored_name` names an attribute's stored
    /// column, None for the times.
    pub fn keys<'a>(
        &self,
        columns: &[String],
        stored_name: impl Fn(i16) -> Option<&'a str>,
    ) -> Vec<SortKey> {
        self.columns
            .iter()
            .map(|key| SortKey {
                output: match stored_name(key.attnum) {
                    Some(name) => {
                        1 + columns
                            .iter()
                            .position(|c| c == name)
                            .expect("a sorted path's keys are among the scan's columns")
                    }
                    None => 0,
                },
                descending: key.descending,
                nulls_first: key.nulls_first,
                microseconds: key.microseconds,
            })
            .collect()
    }
}

/// Adds a path of `rel`'s rows in the order the query wants them of it (`query_pathkeys`:
/// a window's `PARTITION BY hostname ORDER BY time`, an `ORDER BY` without a limit the
/// engine applies), which the engine sorts: Postgres sorts nothing above the scan. Each
/// key is a column of the table the scan returns.
pub unsafe fn add_sorted_scan_path(
    root: *mut pg_sys::PlannerInfo,
    rel: *mut pg_sys::RelOptInfo,
    table: pg_sys::Oid,
    total: f64,
) {
    // SAFETY: the planner's structures for a base relation.
    unsafe {
        let pathkeys = (*root).query_pathkeys;
        let parse = (*root).parse;
        if pathkeys.is_null() || !plain_select(parse) {
            return;
        }
        // Over a grouping or `DISTINCT`, the engine's own paths of the groups read less
        // than all rows sorted (the latest row per series reads the files' footers).
        if (*parse).hasAggs || !(*parse).groupClause.is_null() || !(*parse).distinctClause.is_null()
        {
            return;
        }
        // An `ORDER BY` with a limit the engine applies is a top-N of the ordered relation
        // (`add_ordered_path`), which sorts less, at a cost the planner cannot tell apart
        // from this one's for few rows.
        if !(*root).sort_pathkeys.is_null() && pushable_limit(parse).is_some() {
            return;
        }
        // The table's rows, kept per backend, settle most queries without reading the
        // catalog for the rows of their days.
        let width = f64::from((*(*rel).reltarget).width);
        let fits = |rows| sort_memory::full_sort_fits(width, rows, work_mem_bytes());
        if !fits(super::table_summary::rows(table)) && !fits(rows_bound(rel, table)) {
            return;
        }
        let relid = (*rel).relid;
        // Returned by the scan, as the keys of an order above it are.
        let returned = |expr: *mut pg_sys::Expr| {
            let var = expr.cast::<pg_sys::Var>();
            let is_column = pgrx::is_a(expr.cast(), pg_sys::NodeTag::T_Var)
                && (*var).varno as pg_sys::Index == relid
                && (*var).varlevelsup == 0
                && (*var).varattno > 0;
            let in_target = || {
                PgList::<pg_sys::Node>::from_pg((*(*rel).reltarget).exprs)
                    .iter_ptr()
                    .any(|e| pg_sys::equal(e.cast(), expr.cast()))
            };
            (is_column && in_target()).then(|| (*var).varattno)
        };
        let mut columns = Vec::new();
        let mut shown = Vec::new();
        for pathkey in PgList::<pg_sys::PathKey>::from_pg(pathkeys).iter_ptr() {
            let Some((attnum, order)) = engine_order(pathkey, table, relid, returned) else {
                return;
            };
            columns.push(SortedColumn {
                attnum,
                descending: order.descending,
                nulls_first: order.nulls_first,
                microseconds: order.microseconds,
            });
            shown.push(order.shown);
        }
        let sorted = SortedScan {
            columns,
            shown: shown.join(", "),
        };
        // Cheaper than Postgres sorting the same rows after the scan, and, as a sort,
        // nothing returned before all is read: a limit above it saves nothing.
        let rows = (*rel).rows;
        let sorted_total = total + rows * pg_sys::cpu_operator_cost;
        let path = pg_sys::create_foreignscan_path(
            root,
            rel,
            std::ptr::null_mut(),
            rows,
            sorted_total,
            sorted_total,
            pathkeys,
            (*rel).lateral_relids,
            std::ptr::null_mut(),
            plan_private(&sorted),
        );
        pg_sys::add_path(rel, path.cast());
    }
}

/// At least the rows a scan of the base relation `rel` of the measurement `table` reads,
/// for what must hold them all in `work_mem`: the rows of the days its constant time
/// bounds meet, the table's without such bounds. The planner's estimate for a window of
/// time is a guess.
pub(super) unsafe fn rows_bound(rel: *mut pg_sys::RelOptInfo, table: pg_sys::Oid) -> f64 {
    // SAFETY: a base relation being planned.
    let range =
        unsafe { time_bounds::constant_range((*rel).relid, table, (*rel).baserestrictinfo) };
    super::table_summary::rows_in_days(table, range)
}

/// What this backend's `work_mem` allows the engine to hold, in bytes.
pub(super) fn work_mem_bytes() -> f64 {
    f64::from(super::query::work_mem_kb()) * 1024.0
}

/// The order of a sorted scan's path (see [`add_sorted_scan_path`]); None for a path of
/// the rows in any order.
pub unsafe fn sorted_scan(path: *mut pg_sys::ForeignPath) -> Option<SortedScan> {
    // SAFETY: a base relation's path, whose fdw_private is empty or one String node.
    unsafe {
        let private = PgList::<pg_sys::String>::from_pg((*path).fdw_private);
        Some(read_plan(private.get_ptr(0)?))
    }
}

/// Adds a path computing the ordered rows or groups of `input_rel` in the engine.
pub unsafe fn add_ordered_path(
    root: *mut pg_sys::PlannerInfo,
    input_rel: *mut pg_sys::RelOptInfo,
    output_rel: *mut pg_sys::RelOptInfo,
) {
    // SAFETY: the planner's structures for the ordering step.
    unsafe {
        let pathkeys = (*root).sort_pathkeys;
        let parse = (*root).parse;
        if (*parse).hasTargetSRFs || pathkeys.is_null() {
            return;
        }
        // Postgres' Limit above this path skips the offset itself. Without a limit the
        // engine applies, rows come sorted from a sorted scan (`add_sorted_scan_path`);
        // groups are few, and Postgres sorts them in less time than the engine takes to
        // set up a sort (cpu-max-all-1's nine hours: 0.07 ms).
        let Some(Limit {
            offset,
            count: Some(count),
        }) = pushable_limit(parse)
        else {
            return;
        };
        let target = (*root).upper_targets[pg_sys::UpperRelationKind::UPPERREL_ORDERED as usize];
        let input = match (*input_rel).reloptkind {
            pg_sys::RelOptKind::RELOPT_BASEREL => rows_input(root, input_rel, target),
            pg_sys::RelOptKind::RELOPT_UPPER_REL => upper_input(root, input_rel),
            _ => None,
        };
        let Some(mut input) = input else {
            return;
        };
        if !computable(target, input.scan_tlist) {
            return;
        }
        let Some((order, shown)) = sort_keys(pathkeys, &input) else {
            return;
        };
        input.request().order = order;
        input.request().limit = Some(Limit {
            offset: 0,
            count: Some(offset + count),
        });
        input.plan.pushed.push(("Pushed Order".to_owned(), shown));
        input
            .plan
            .pushed
            .push(("Pushed Limit".to_owned(), (offset + count).to_string()));
        // Cheaper than Postgres sorting the same rows after the scan.
        let total = input.total_cost + input.rows * pg_sys::cpu_operator_cost;
        let path = pg_sys::create_foreign_upper_path(
            root,
            output_rel,
            target,
            input.rows,
            total,
            total,
            pathkeys,
            std::ptr::null_mut(),
            input.private(),
        );
        pg_sys::add_path(output_rel, path.cast());
    }
}

/// The most rows a pushed-down top-N keeps: it holds them in memory, within `work_mem`,
/// where a sort in Postgres could spill to disk.
const MAX_TOP_ROWS: usize = 10_000;

/// A constant, non-negative `LIMIT`/`OFFSET` value; `Some(None)` for none (NULL or absent).
unsafe fn constant_count(node: *mut pg_sys::Node) -> Option<Option<usize>> {
    // SAFETY: an expression of the query.
    unsafe {
        if node.is_null() {
            return Some(None);
        }
        if !pgrx::is_a(node, pg_sys::NodeTag::T_Const) {
            return None;
        }
        let constant = node.cast::<pg_sys::Const>();
        if (*constant).constisnull {
            return Some(None);
        }
        usize::try_from((*constant).constvalue.value() as i64)
            .ok()
            .map(Some)
    }
}

/// Whether `parse` is a `SELECT` without `FOR UPDATE` and the like, whose rows the engine
/// may order and limit.
unsafe fn plain_select(parse: *mut pg_sys::Query) -> bool {
    // SAFETY: the query being planned.
    unsafe { (*parse).commandType == pg_sys::CmdType::CMD_SELECT && (*parse).rowMarks.is_null() }
}

/// The query's `LIMIT` and `OFFSET` when the engine can apply them: constants, a count,
/// at most `MAX_TOP_ROWS` rows kept, not `WITH TIES`, in a plain `SELECT`.
unsafe fn pushable_limit(parse: *mut pg_sys::Query) -> Option<Limit> {
    // SAFETY: the query being planned.
    unsafe {
        if !plain_select(parse)
            || (*parse).limitOption == pg_sys::LimitOption::LIMIT_OPTION_WITH_TIES
        {
            return None;
        }
        let count = constant_count((*parse).limitCount)??;
        let offset = constant_count((*parse).limitOffset)?.unwrap_or(0);
        let kept = offset.checked_add(count)?;
        let fits = kept <= MAX_TOP_ROWS && sort_memory::top_rows_fit(kept, work_mem_bytes());
        fits.then_some(Limit {
            offset,
            count: Some(count),
        })
    }
}

/// Adds a path computing the limited, ordered result of `input_rel` (the ordered
/// relation) in the engine.
pub unsafe fn add_limited_path(
    root: *mut pg_sys::PlannerInfo,
    input_rel: *mut pg_sys::RelOptInfo,
    output_rel: *mut pg_sys::RelOptInfo,
    extra: *mut pg_sys::FinalPathExtraData,
) {
    // SAFETY: the planner's structures for the final step.
    unsafe {
        if !(*extra).limit_needed || (*input_rel).reloptkind != pg_sys::RelOptKind::RELOPT_UPPER_REL
        {
            return;
        }
        let Some(limit) = pushable_limit((*root).parse) else {
            return;
        };
        let Some(mut input) = upper_input(root, input_rel) else {
            return;
        };
        let target = (*root).upper_targets[pg_sys::UpperRelationKind::UPPERREL_FINAL as usize];
        if input.request().order.is_empty() || !computable(target, input.scan_tlist) {
            return;
        }
        input.request().limit = Some(limit);
        let (offset, count) = (limit.offset, limit.count.unwrap_or(0));
        let shown = if offset == 0 {
            count.to_string()
        } else {
            format!("{count} OFFSET {offset}")
        };
        input
            .plan
            .pushed
            .retain(|(label, _)| label != "Pushed Limit");
        input.plan.pushed.push(("Pushed Limit".to_owned(), shown));
        let rows = (count as f64).min(input.rows);
        // The engine keeps only the top rows instead of sorting all of them.
        let total = input.total_cost - input.rows * pg_sys::cpu_operator_cost * 0.5;
        let path = pg_sys::create_foreign_upper_path(
            root,
            output_rel,
            target,
            rows,
            total,
            total,
            (*root).sort_pathkeys,
            std::ptr::null_mut(),
            input.private(),
        );
        pg_sys::add_path(output_rel, path.cast());
    }
}
