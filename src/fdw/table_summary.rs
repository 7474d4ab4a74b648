//! What the planner asks of a measurement table's files in every query, kept per backend:
//! its row count and the range of its stored times. Reading them from the catalog took a
//! twentieth of a short query. Whatever changes a table's rows (writes, TRUNCATE;
//! compaction only regroups them) invalidates its relcache entry ([`changed`]); Postgres
//! delivers that to every backend with the commit (to the writer at its next command, and
//! undone with a rollback), and the kept summary goes with it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use pgrx::prelude::*;
use tsparquet_core::time_range::NanosRange;

use crate::catalog::files;

/// A table's rows, and its earliest and latest stored times if it has rows.
#[derive(Clone, Copy)]
struct Summary {
    rows: f64,
    times_ns: Option<(i64, i64)>,
}

thread_local! {
    static SUMMARIES: RefCell<HashMap<pg_sys::Oid, Summary>> = RefCell::new(HashMap::new());
    /// Invalidations heard so far: a summary read while one arrives is not kept.
    static HEARD: Cell<u64> = const { Cell::new(0) };
}

fn summary(table: pg_sys::Oid) -> Summary {
    if let Some(summary) = SUMMARIES.with(|kept| kept.borrow().get(&table).copied()) {
        return summary;
    }
    let heard = HEARD.get();
    // Reading the catalog can take a lock, and so hear invalidations (`forget`).
    let (rows, times_ns) = files::planner_summary(super::table_id(table), NanosRange::ALL);
    let summary = Summary {
        rows: rows as f64,
        times_ns,
    };
    if HEARD.get() == heard {
        SUMMARIES.with(|kept| kept.borrow_mut().insert(table, summary));
    }
    summary
}

/// The rows stored for the measurement table `table`.
pub fn rows(table: pg_sys::Oid) -> f64 {
    summary(table).rows
}

/// The rows stored for the measurement table `table` in the UTC days that `range` meets:
/// at least the rows of `range`, however the files of those days are merged later (each
/// file holds rows of one day; a write, which adds rows, invalidates plans made before).
pub fn rows_in_days(table: pg_sys::Oid, range: NanosRange) -> f64 {
    if range == NanosRange::ALL {
        return rows(table);
    }
    let days = range.whole_utc_days();
    files::planner_summary(super::table_id(table), days).0 as f64
}

/// The earliest and latest times stored in the measurement table `table`, in nanoseconds
/// since 1970.
pub fn times_ns(table: pg_sys::Oid) -> Option<(i64, i64)> {
    summary(table).times_ns
}

/// Tells every backend that the rows of `table` changed, when the transaction commits.
pub fn changed(table: pg_sys::Oid) {
    // SAFETY: queues an invalidation message for a relation by OID.
    unsafe { pg_sys::CacheInvalidateRelcacheByRelid(table) }
}

/// Registers `forget` for relcache invalidations: once per backend, from `_PG_init`.
pub fn install_invalidation() {
    // SAFETY: a callback that lives as long as the library, registered once.
    unsafe { pg_sys::CacheRegisterRelcacheCallback(Some(forget), pg_sys::Datum::from(0)) }
}

#[pg_guard]
unsafe extern "C-unwind" fn forget(_arg: pg_sys::Datum, relid: pg_sys::Oid) {
    HEARD.set(HEARD.get() + 1);
    SUMMARIES.with(|kept| {
        let mut kept = kept.borrow_mut();
        if relid == pg_sys::InvalidOid {
            kept.clear();
        } else {
            kept.remove(&relid);
        }
    });
}
