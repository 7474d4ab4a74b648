//! Parallel scans of measurement tables, as PostgreSQL scans heap tables in parallel: a
//! partial path that a Gather above it runs in the leader and its workers at once, each
//! process reading the row groups it takes (see `tsparquet_core::parts`) and evaluating
//! the pushed-down filters on them. What the processes share is one counter in the
//! query's dynamic shared memory: the number of row groups taken.

use std::sync::atomic::AtomicU64;

use pgrx::prelude::*;
use pgrx::PgList;

use super::scan;
use super::time_bounds;
use super::translate::Translator;

/// The partial path of a scan of `baserel` whose whole path costs `startup` and `total`:
/// the same scan shared among the workers that the table's size calls for.
pub(super) unsafe fn add_partial_path(
    root: *mut pg_sys::PlannerInfo,
    baserel: *mut pg_sys::RelOptInfo,
    table: pg_sys::Oid,
    startup: f64,
    total: f64,
) {
    // SAFETY: the planner's relation, whose paths are being made.
    unsafe {
        if !(*baserel).consider_parallel || !(*baserel).lateral_relids.is_null() {
            return;
        }
        // The workers PostgreSQL would give a heap table holding the rows the scan reads.
        // A dashboard's window of time reads few of a table's files: PostgreSQL expects a
        // closed range to hold half a percent of the rows, and a scan of them is over
        // before workers would have started. A bound on one side only it expects to hold
        // a third, whether it leaves an hour or a year. One host's rows are together in
        // each file, and a filter on the first tag reads only theirs.
        let rows = (*baserel).tuples
            * time_bounds::share_in_bounds(root, baserel, table)
            * share_of_series(root, baserel, table);
        let width = pg_sys::get_relation_data_width(table, std::ptr::null_mut());
        let pages = rows * f64::from(width.max(1)) / f64::from(pg_sys::BLCKSZ);
        let workers = pg_sys::compute_parallel_worker(
            baserel,
            pages,
            -1.0,
            pg_sys::max_parallel_workers_per_gather,
        );
        if workers <= 0 {
            return;
        }
        let divisor = parallel_divisor(workers);
        let path = pg_sys::create_foreignscan_path(
            root,
            baserel,
            std::ptr::null_mut(),
            ((*baserel).rows / divisor).max(1.0).round(),
            startup,
            startup + (total - startup) / divisor,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        (*path).path.parallel_aware = true;
        (*path).path.parallel_safe = true;
        (*path).path.parallel_workers = workers;
        pg_sys::add_partial_path(baserel, path.cast());
    }
}

/// The share of a relation's rows that its filters on the first tag are expected to keep,
/// where the engine takes them: files sort rows by their tags in column order, so such a
/// filter skips the row groups and pages of other series. A filter on a later tag skips
/// little, one the engine does not take nothing.
unsafe fn share_of_series(
    root: *mut pg_sys::PlannerInfo,
    rel: *mut pg_sys::RelOptInfo,
    table: pg_sys::Oid,
) -> f64 {
    // SAFETY: a base relation being planned, its RestrictInfos and the table's catalog.
    unsafe {
        let relid = (*rel).relid;
        let mut translator = Translator::new(relid, table, std::ptr::null_mut());
        let Some(first_tag) = translator.first_tag() else {
            return 1.0;
        };
        let member = i32::from(first_tag) - pg_sys::FirstLowInvalidHeapAttributeNumber;
        let mut on_first_tag: *mut pg_sys::List = std::ptr::null_mut();
        for rinfo in PgList::<pg_sys::RestrictInfo>::from_pg((*rel).baserestrictinfo).iter_ptr() {
            let clause = (*rinfo).clause.cast::<pg_sys::Node>();
            let mut attributes: *mut pg_sys::Bitmapset = std::ptr::null_mut();
            pg_sys::pull_varattnos(clause, relid, &mut attributes);
            if pg_sys::bms_num_members(attributes) == 1
                && pg_sys::bms_is_member(member, attributes)
                && translator.filter(clause).is_some()
            {
                on_first_tag = pg_sys::lappend(on_first_tag, rinfo.cast());
            }
        }
        super::scan::selectivity(root, on_first_tag)
    }
}

/// What reading the rows of `rel` costs at the least, by its cheapest path or shared by
/// parallel workers: a pushed-down order and limit, which the engine answers from less
/// than all of them, must cost less than any plan that reads them all and sorts.
pub(super) unsafe fn cheapest_read_cost(rel: *mut pg_sys::RelOptInfo) -> f64 {
    // SAFETY: the paths of a relation being planned; the partial paths are kept sorted
    // by total cost, the cheapest first.
    unsafe {
        let cheapest = (*rel).cheapest_total_path;
        let whole = if cheapest.is_null() {
            0.0
        } else {
            (*cheapest).total_cost
        };
        match PgList::<pg_sys::Path>::from_pg((*rel).partial_pathlist).get_ptr(0) {
            Some(partial) => whole.min((*partial).total_cost),
            None => whole,
        }
    }
}

/// How many processes' worth of work `workers` and a participating leader do: the
/// leader does less the more workers it has to collect tuples from (as PostgreSQL costs
/// its own parallel scans).
fn parallel_divisor(workers: i32) -> f64 {
    let mut divisor = f64::from(workers);
    // SAFETY: reads a GUC variable of this backend.
    if unsafe { pg_sys::parallel_leader_participation } {
        let leader = 1.0 - 0.3 * f64::from(workers);
        if leader > 0.0 {
            divisor += leader;
        }
    }
    divisor
}

#[pg_guard]
pub unsafe extern "C-unwind" fn is_foreign_scan_parallel_safe(
    _root: *mut pg_sys::PlannerInfo,
    _rel: *mut pg_sys::RelOptInfo,
    _rte: *mut pg_sys::RangeTblEntry,
) -> bool {
    // Workers read the same catalog rows and files as the leader, as of its snapshot.
    true
}

#[pg_guard]
pub unsafe extern "C-unwind" fn estimate_dsm_foreign_scan(
    _node: *mut pg_sys::ForeignScanState,
    _pcxt: *mut pg_sys::ParallelContext,
) -> pg_sys::Size {
    std::mem::size_of::<AtomicU64>()
}

#[pg_guard]
pub unsafe extern "C-unwind" fn initialize_dsm_foreign_scan(
    node: *mut pg_sys::ForeignScanState,
    _pcxt: *mut pg_sys::ParallelContext,
    coordinate: *mut std::ffi::c_void,
) {
    // SAFETY: `coordinate` is this node's chunk of the query's shared memory, of the size
    // asked for and MAXALIGNed, and no worker runs yet.
    unsafe {
        let taken = coordinate.cast::<AtomicU64>();
        taken.write(AtomicU64::new(0));
        scan::share_parts(node, taken);
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn reinitialize_dsm_foreign_scan(
    _node: *mut pg_sys::ForeignScanState,
    _pcxt: *mut pg_sys::ParallelContext,
    coordinate: *mut std::ffi::c_void,
) {
    // SAFETY: the counter written by initialize_dsm_foreign_scan; the workers of the last
    // scan are gone and the next ones not started.
    unsafe { coordinate.cast::<AtomicU64>().write(AtomicU64::new(0)) };
}

#[pg_guard]
pub unsafe extern "C-unwind" fn initialize_worker_foreign_scan(
    node: *mut pg_sys::ForeignScanState,
    _toc: *mut pg_sys::shm_toc,
    coordinate: *mut std::ffi::c_void,
) {
    // SAFETY: the counter the leader wrote, in shared memory mapped for the whole query.
    unsafe { scan::share_parts(node, coordinate.cast()) };
}

#[pg_guard]
pub unsafe extern "C-unwind" fn shutdown_foreign_scan(node: *mut pg_sys::ForeignScanState) {
    // SAFETY: the node's state; PostgreSQL detaches the parallel context's shared memory
    // after this, and sets up new memory (InitializeDSM) before the scan runs again.
    unsafe { scan::stop_sharing_parts(node) };
}
