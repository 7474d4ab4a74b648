//! The extension's catalog: measurement tables in the system catalogs, Parquet files in
//! `tsparquet.files`, and the privileges and locks around changing them.

pub mod files;
pub mod measurements;
mod statements;

use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;

/// The first column of the first row of a query, or None; a kept statement, with the
/// snapshot [`statements::query`] chooses.
pub fn select_one<T: FromDatum>(
    sql: &'static std::ffi::CStr,
    args: &[DatumWithOid<'_>],
) -> Option<T> {
    statements::query(sql, args, |row| row.get::<T>(1))
        .into_iter()
        .next()
        .flatten()
}

/// Runs `f` with `search_path` set to `pg_catalog, pg_temp`, as a `SECURITY DEFINER`
/// function with `SET search_path` would: the caller's schemas cannot shadow the operators,
/// functions and types that the extension's own statements use.
pub fn with_safe_search_path<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: a new GUC nest level, undone below or, after an ERROR, by the abort.
    let level = unsafe {
        let level = pg_sys::NewGUCNestLevel();
        pg_sys::set_config_option(
            c"search_path".as_ptr(),
            c"pg_catalog, pg_temp".as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            0,
            false,
        );
        level
    };
    let restore = RestoreSettings { level };
    let result = f();
    drop(restore);
    result
}

struct RestoreSettings {
    level: i32,
}

impl Drop for RestoreSettings {
    fn drop(&mut self) {
        // While an ERROR unwinds, the transaction's abort restores the settings itself.
        if !std::thread::panicking() {
            // SAFETY: pops the nest level that with_safe_search_path pushed.
            unsafe { pg_sys::AtEOXact_GUC(true, self.level) };
        }
    }
}

/// Runs `f` as the role that owns the extension, for work on the extension's own catalog
/// that the calling role may not do directly. The caller's privileges must be checked first.
pub fn as_extension_owner<T>(f: impl FnOnce() -> T) -> T {
    with_safe_search_path(|| as_owner(f))
}

/// Whether the current role acts for the extension: a superuser, or the extension's owner
/// (as the extension's own statements run, see [`as_extension_owner`]).
pub fn acts_for_extension() -> bool {
    // SAFETY: reads the backend's current user.
    unsafe { pg_sys::superuser() || pg_sys::GetUserId() == extension().owner }
}

/// The extension's row of `pg_extension`: what its owner's work and its locks need.
#[derive(Clone, Copy)]
struct Extension {
    oid: pg_sys::Oid,
    owner: pg_sys::Oid,
}

thread_local! {
    /// The extension's row, and the start of the statement it was read in.
    static EXTENSION: std::cell::Cell<Option<(pg_sys::TimestampTz, Extension)>> =
        const { std::cell::Cell::new(None) };
}

/// The extension's row, read once per statement: a write takes several locks and makes
/// several catalog reads, and each would otherwise look it up again.
fn extension() -> Extension {
    // SAFETY: reads the backend's statement start time.
    let statement = unsafe { pg_sys::GetCurrentStatementStartTimestamp() };
    if let Some((read_at, extension)) = EXTENSION.get() {
        if read_at == statement {
            return extension;
        }
    }
    let extension = read_extension();
    EXTENSION.set(Some((statement, extension)));
    extension
}

/// The extension's row of `pg_extension`, read through its name index as Postgres'
/// `get_extension_oid` does: no system cache covers the table, and a catalog statement
/// cost a short query a tenth of a millisecond.
fn read_extension() -> Extension {
    // SAFETY: an index scan of a system catalog, opened and closed here; the tuple is read
    // before the scan ends.
    unsafe {
        let lock = pg_sys::AccessShareLock as pg_sys::LOCKMODE;
        let extensions = pg_sys::table_open(pg_sys::ExtensionRelationId, lock);
        let mut key = pg_sys::ScanKeyData::default();
        pg_sys::ScanKeyInit(
            &mut key,
            pg_sys::Anum_pg_extension_extname as pg_sys::AttrNumber,
            pg_sys::BTEqualStrategyNumber as pg_sys::StrategyNumber,
            pg_sys::F_NAMEEQ.into(),
            pg_sys::Datum::from(c"tsparquet".as_ptr()),
        );
        let scan = pg_sys::systable_beginscan(
            extensions,
            pg_sys::Oid::from(pg_sys::ExtensionNameIndexId),
            true,
            std::ptr::null_mut(),
            1,
            &mut key,
        );
        let row = pg_sys::systable_getnext(scan);
        let extension = (!row.is_null()).then(|| {
            let form = &*pg_sys::heap_tuple_get_struct::<pg_sys::FormData_pg_extension>(row);
            Extension {
                oid: form.oid,
                owner: form.extowner,
            }
        });
        pg_sys::systable_endscan(scan);
        pg_sys::table_close(extensions, lock);
        extension.expect("the extension is installed")
    }
}

fn as_owner<T>(f: impl FnOnce() -> T) -> T {
    let owner = extension().owner;
    let mut previous_user = pg_sys::Oid::INVALID;
    let mut previous_context = 0;
    // SAFETY: plain reads and writes of the backend's current user; Postgres also restores
    // them itself if an error aborts the transaction.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut previous_user, &mut previous_context);
        pg_sys::SetUserIdAndSecContext(
            owner,
            previous_context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32,
        );
    }
    let restore = RestoreUser {
        previous_user,
        previous_context,
    };
    let result = f();
    drop(restore);
    result
}

struct RestoreUser {
    previous_user: pg_sys::Oid,
    previous_context: i32,
}

impl Drop for RestoreUser {
    fn drop(&mut self) {
        // SAFETY: restores what `as_extension_owner` read.
        unsafe { pg_sys::SetUserIdAndSecContext(self.previous_user, self.previous_context) };
    }
}

/// The name of function `oid` if it is one of the extension's own (in schema `tsparquet`).
pub fn extension_function_name(oid: pg_sys::Oid) -> Option<String> {
    // SAFETY: catalog lookups by OID; unknown OIDs give null names.
    unsafe {
        let schema = pg_sys::get_namespace_name(pg_sys::get_func_namespace(oid));
        if schema.is_null() || std::ffi::CStr::from_ptr(schema).to_bytes() != b"tsparquet" {
            return None;
        }
        let name = pg_sys::get_func_name(oid);
        (!name.is_null()).then(|| {
            std::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        })
    }
}

/// Takes the lock that serialises changes to a database's (a schema's) measurements: taken
/// before any measurement's lock.
pub fn lock_database(database: &str) {
    lock(&format!("{database}\0"));
    refuse_changes_since_snapshot(
        c"SELECT n.oid::text
          FROM (VALUES (1)) AS one
          LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = $1",
        &[database.into()],
        || format!("database \"{database}\""),
    );
}

/// Takes the lock that serialises changes to a measurement's columns and files: writers,
/// inserts and compaction. Several are taken in sorted order to avoid deadlocks.
pub fn lock_measurement(database: &str, measurement: &str) {
    lock(&format!("{database}\0{measurement}"));
    refuse_changes_since_snapshot(
        c"SELECT pg_catalog.concat_ws('|', c.oid, ft.ftoptions::text,
              (SELECT pg_catalog.string_agg(a.attname || ' ' || a.atttypid::text, ','
                                            ORDER BY a.attnum)
               FROM pg_catalog.pg_attribute a
               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
              (SELECT pg_catalog.string_agg(f.file_id::text, ',' ORDER BY f.file_id)
               FROM tsparquet.files f
               WHERE f.table_id = (SELECT pg_catalog.substring(o, '^table_id=([0-9]+)$')::bigint
                                   FROM pg_catalog.unnest(ft.ftoptions) AS o
                                   WHERE o LIKE 'table_id=%')))
          FROM (VALUES (1)) AS one
          LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = $1
          LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = $2
          LEFT JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid",
        &[database.into(), measurement.into()],
        || format!("measurement \"{database}\".\"{measurement}\""),
    );
}

/// Under REPEATABLE READ or SERIALIZABLE, what a writer reads after its lock is granted is
/// still what its transaction's snapshot shows. Had another transaction changed what the
/// lock guards (as `fingerprint` shows it) and committed since, the writer would act on
/// rows that are gone: store a point beside the file that now holds it, merge files another
/// merge replaced, create a table that exists. It fails instead, as an UPDATE of a row
/// changed since the snapshot does, and the client retries the transaction.
fn refuse_changes_since_snapshot(
    fingerprint: &'static std::ffi::CStr,
    args: &[DatumWithOid<'_>],
    what: impl FnOnce() -> String,
) {
    // SAFETY: reads the transaction's isolation level.
    if unsafe { pg_sys::XactIsoLevel } < pg_sys::XACT_REPEATABLE_READ as i32 {
        return;
    }
    let read = |snapshot| {
        as_extension_owner(|| {
            statements::query_as_of(fingerprint, args, snapshot, |row| row.get::<String>(1))
        })
    };
    // SAFETY: a snapshot of now, which SPI copies for the statement it runs.
    let now = unsafe { pg_sys::GetLatestSnapshot() };
    if read(std::ptr::null_mut()) != read(now) {
        crate::errors::report(
            PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE,
            &format!(
                "could not serialize access due to a concurrent write into {}",
                what()
            ),
            Some("Another transaction changed it after this transaction's snapshot was taken."),
            Some("Retry the transaction."),
        );
    }
}

/// Takes a transaction-level lock on `key`. It is an object lock whose class is the
/// extension itself: no statement of another role can take or hold it (an advisory lock
/// could be taken by anyone, who would then block every write), and a wait for it can be
/// cancelled and takes part in deadlock detection, as a wait for a table lock does.
fn lock(key: &str) {
    // What follows the lock changes the catalog, and must see every change committed
    // before the lock was granted: with a transaction ID, each statement under READ
    // COMMITTED takes a fresh snapshot (`statements::query`); other levels are checked by
    // `refuse_changes_since_snapshot`.
    // SAFETY: assigns the transaction an ID, or raises an ERROR; the lock is released when
    // the transaction ends.
    unsafe {
        pg_sys::GetCurrentTransactionId();
        pg_sys::LockDatabaseObject(
            extension().oid,
            pg_sys::Oid::from(key_hash(key)),
            0,
            pg_sys::ExclusiveLock as pg_sys::LOCKMODE,
        );
    }
}

/// The key's 32 bits for the lock: the same in every backend, which all run this library.
/// Two keys that share them only wait for each other.
fn key_hash(key: &str) -> u32 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish() as u32
}
