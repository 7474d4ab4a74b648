//! Row counts of measurement tables for the planner, kept per backend. The planner asks
//! for one in every query, and counting a table's rows in the catalog took a twentieth of
//! a short query. Whatever changes a table's rows (writes, TRUNCATE; compaction only
//! regroups them) invalidates its relcache entry ([`changed`]); Postgres delivers that to
//! every backend with the commit (to the writer at its next command, and undone with a
//! rollback), and the kept count goes with it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use pgrx::prelude::*;

use crate::catalog::files;

thread_local! {
    static ROWS: RefCell<HashMap<pg_sys::Oid, f64>> = RefCell::new(HashMap::new());
    /// Invalidations heard so far: a count read while one arrives is not kept.
    static HEARD: Cell<u64> = const { Cell::new(0) };
}

/// The rows stored for the measurement table `table`.
pub fn rows(table: pg_sys::Oid) -> f64 {
    if let Some(rows) = ROWS.with(|kept| kept.borrow().get(&table).copied()) {
        return rows;
    }
    let heard = HEARD.get();
    // Reading the catalog can take a lock, and so hear invalidations (`forget`).
    let rows = files::row_count(super::table_id(table)) as f64;
    if HEARD.get() == heard {
        ROWS.with(|kept| kept.borrow_mut().insert(table, rows));
    }
    rows
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
    ROWS.with(|kept| {
        let mut kept = kept.borrow_mut();
        if relid == pg_sys::InvalidOid {
            kept.clear();
        } else {
            kept.remove(&relid);
        }
    });
}
