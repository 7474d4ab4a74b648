//! The order Postgres checks a scan's conditions in (`order_qual_clauses` in
//! `createplan.c`): by security level, then by cost, the written order kept between
//! equals. The engine computes arithmetic that may raise, in a comparison of its own, for
//! the rows the comparisons of arithmetic before it in this order keep, and EXPLAIN shows
//! the conditions of a grouping in this order, as those of a plain scan.

use pgrx::prelude::*;
use pgrx::PgList;

/// `quals` (a list of `RestrictInfo`) in the order Postgres checks them.
pub(super) unsafe fn in_check_order(
    root: *mut pg_sys::PlannerInfo,
    quals: *mut pg_sys::List,
) -> Vec<*mut pg_sys::RestrictInfo> {
    // SAFETY: the quals of a relation of the query being planned.
    unsafe {
        let mut items: Vec<(pg_sys::Index, f64, *mut pg_sys::RestrictInfo)> =
            PgList::<pg_sys::RestrictInfo>::from_pg(quals)
                .iter_ptr()
                .map(|rinfo| {
                    let mut cost = pg_sys::QualCost::default();
                    pg_sys::cost_qual_eval_node(&mut cost, rinfo.cast(), root);
                    let cost = cost.per_tuple;
                    // A cheap leakproof condition may go before those of lower levels.
                    let level = if (*rinfo).leakproof && cost < 10.0 * pg_sys::cpu_operator_cost {
                        0
                    } else {
                        (*rinfo).security_level
                    };
                    (level, cost, rinfo)
                })
                .collect();
        // Stable, as Postgres' insertion sort.
        items.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        items.into_iter().map(|(.., rinfo)| rinfo).collect()
    }
}
