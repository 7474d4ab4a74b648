//! `TRUNCATE` of measurement tables releases their files.

use pgrx::prelude::*;
use pgrx::PgList;

use crate::catalog::files;

#[pg_guard]
pub unsafe extern "C-unwind" fn exec_foreign_truncate(
    rels: *mut pg_sys::List,
    _behavior: pg_sys::DropBehavior::Type,
    _restart_seqs: bool,
) {
    // SAFETY: Postgres passes the list of opened relations to truncate, privileges checked.
    let relations = unsafe { PgList::<pg_sys::RelationData>::from_pg(rels) };
    for relation in relations.iter_ptr() {
        // SAFETY: each element is an open relation.
        let oid = unsafe { (*relation).rd_id };
        files::delete_table(super::table_id(oid));
        super::files_changed(oid);
    }
}
