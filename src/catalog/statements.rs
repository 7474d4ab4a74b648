//! Statements on the extension's catalog that queries and writes run again and again:
//! prepared once per backend and kept. Parsing and planning them again each time cost a
//! tenth of a short query. Postgres' plan cache replans a kept statement when what it reads changes (a
//! dropped and recreated extension included), so keeping them is safe.
//!
//! Each runs its generic plan. Left to choose, the plan cache planned the time-range
//! lookups of every query anew with its values (a custom plan), as a generic plan's
//! estimate for ranges of unknown bounds is higher, though both plans read the same index
//! range: 5% of a short query.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CStr;

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

thread_local! {
    /// Kept statements by their text, which is always a literal of the extension's.
    static KEPT: RefCell<HashMap<&'static CStr, pg_sys::SPIPlanPtr>> =
        RefCell::new(HashMap::new());
}

/// A column of a row of [`select`].
pub struct Row {
    tuple: pg_sys::HeapTuple,
    tupdesc: pg_sys::TupleDesc,
}

impl Row {
    pub fn get<T: FromDatum>(&self, column: i32) -> Option<T> {
        let mut is_null = false;
        // SAFETY: a tuple of the current SPI result, read before the connection closes.
        unsafe {
            let datum = pg_sys::SPI_getbinval(self.tuple, self.tupdesc, column, &mut is_null);
            T::from_datum(datum, is_null)
        }
    }
}

/// Runs the read-only statement `sql` under `snapshot` (null: the statement's own) and
/// makes a value of each row. No transaction ID is taken, so it works on a hot standby.
/// The caller chooses the role and `search_path`.
pub fn select<T>(
    sql: &'static CStr,
    args: &[DatumWithOid<'_>],
    snapshot: pg_sys::Snapshot,
    row: impl Fn(&Row) -> T,
) -> Vec<T> {
    run(sql, args, snapshot, true, row)
}

/// Runs the statement `sql` (a query, or a change with RETURNING) as pgrx's own SPI calls
/// would: once the transaction has changed anything it sees every committed change and
/// its own, through a fresh snapshot, as a writer needs after taking its locks; before
/// that, under the statement's snapshot. Makes a value of each row.
pub fn query<T>(sql: &'static CStr, args: &[DatumWithOid<'_>], row: impl Fn(&Row) -> T) -> Vec<T> {
    // SAFETY: reads the current transaction's ID, if it has one.
    let unchanged =
        unsafe { pg_sys::GetCurrentTransactionIdIfAny() } == pg_sys::InvalidTransactionId;
    run(sql, args, std::ptr::null_mut(), unchanged, row)
}

/// Runs the statement `sql` that changes the catalog (with RETURNING, for its rows), after
/// the commands before it and through a fresh snapshot. Makes a value of each row.
pub fn change<T>(sql: &'static CStr, args: &[DatumWithOid<'_>], row: impl Fn(&Row) -> T) -> Vec<T> {
    run(sql, args, std::ptr::null_mut(), false, row)
}

/// Runs the read-only statement `sql` under `snapshot` (null: the transaction's), as it
/// stands after the commands before it: the transaction's own changes so far included.
pub fn query_as_of<T>(
    sql: &'static CStr,
    args: &[DatumWithOid<'_>],
    snapshot: pg_sys::Snapshot,
    row: impl Fn(&Row) -> T,
) -> Vec<T> {
    run(sql, args, snapshot, false, row)
}

fn run<T>(
    sql: &'static CStr,
    args: &[DatumWithOid<'_>],
    snapshot: pg_sys::Snapshot,
    read_only: bool,
    row: impl Fn(&Row) -> T,
) -> Vec<T> {
    Spi::connect(|_| {
        // SAFETY: a kept statement run inside this SPI connection; each value is copied
        // out before the connection closes.
        unsafe {
            let plan = kept(sql, args);
            let mut values: Vec<pg_sys::Datum> = args
                .iter()
                .map(|a| {
                    a.datum()
                        .map_or(pg_sys::Datum::from(0), |d| d.sans_lifetime())
                })
                .collect();
            let nulls: Vec<std::ffi::c_char> = args
                .iter()
                .map(|a| if a.datum().is_some() { b' ' } else { b'n' } as std::ffi::c_char)
                .collect();
            let status = pg_sys::SPI_execute_snapshot(
                plan,
                values.as_mut_ptr(),
                nulls.as_ptr(),
                snapshot,
                std::ptr::null_mut(),
                read_only,
                true,
                0,
            );
            assert!(status > 0, "catalog statement failed: {status}");
            let table = pg_sys::SPI_tuptable;
            if table.is_null() {
                return Vec::new();
            }
            (0..pg_sys::SPI_processed as usize)
                .map(|i| {
                    row(&Row {
                        tuple: *(*table).vals.add(i),
                        tupdesc: (*table).tupdesc,
                    })
                })
                .collect()
        }
    })
}

/// The first column of the first row of the read-only statement `sql`, under the
/// statement's own snapshot; None without rows or for NULL.
pub fn value<T: FromDatum>(sql: &'static CStr, args: &[DatumWithOid<'_>]) -> Option<T> {
    select(sql, args, std::ptr::null_mut(), |row| row.get::<T>(1))
        .into_iter()
        .next()
        .flatten()
}

/// The kept statement `sql`, prepared now if this backend has not yet.
unsafe fn kept(sql: &'static CStr, args: &[DatumWithOid<'_>]) -> pg_sys::SPIPlanPtr {
    KEPT.with(|kept| {
        if let Some(plan) = kept.borrow().get(sql) {
            return *plan;
        }
        let mut types: Vec<pg_sys::Oid> = args.iter().map(|a| a.oid()).collect();
        // SAFETY: prepares inside the caller's SPI connection, then moves the plan into a
        // memory context of its own that lives as long as the backend.
        let plan = unsafe {
            let plan = pg_sys::SPI_prepare_cursor(
                sql.as_ptr(),
                args.len() as i32,
                types.as_mut_ptr(),
                pg_sys::CURSOR_OPT_GENERIC_PLAN as i32,
            );
            assert!(!plan.is_null(), "prepare a catalog query");
            assert_eq!(pg_sys::SPI_keepplan(plan), 0, "keep a catalog query");
            plan
        };
        kept.borrow_mut().insert(sql, plan);
        plan
    })
}
