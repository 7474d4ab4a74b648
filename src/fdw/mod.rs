//! The `tsparquet` foreign data wrapper: its handler, which hands Postgres the callbacks,
//! and its validator, which checks options. Written on `pg_sys::FdwRoutine` directly.

mod check_order;
mod describe;
mod distinct;
mod file_cache;
mod modify;
mod options;
mod ordered;
mod parallel;
mod query;
mod regex_check;
mod scan;
mod state;
mod table_summary;
mod time_bounds;
mod time_zone;
mod translate;
mod truncate;
mod upper;

use pgrx::prelude::*;
use pgrx::PgList;

pub use options::table_id;
pub use table_summary::{changed as files_changed, install_invalidation};
pub use time_zone::install_replanning;

/// Version-1 calling convention records for the two C functions of the wrapper.
static V1: pg_sys::Pg_finfo_record = pg_sys::Pg_finfo_record { api_version: 1 };

#[no_mangle]
pub extern "C" fn pg_finfo_tsparquet_fdw_handler() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

#[no_mangle]
pub extern "C" fn pg_finfo_tsparquet_fdw_validator() -> &'static pg_sys::Pg_finfo_record {
    &V1
}

/// `tsparquet.fdw_handler()`: the callbacks of measurement tables.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn tsparquet_fdw_handler(
    _fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: allocates a zeroed node in the current memory context, as Postgres expects.
    let mut routine =
        unsafe { PgBox::<pg_sys::FdwRoutine>::alloc_node(pg_sys::NodeTag::T_FdwRoutine) };
    routine.GetForeignRelSize = Some(scan::get_foreign_rel_size);
    routine.GetForeignPaths = Some(scan::get_foreign_paths);
    routine.GetForeignPlan = Some(scan::get_foreign_plan);
    routine.BeginForeignScan = Some(scan::begin_foreign_scan);
    routine.IterateForeignScan = Some(scan::iterate_foreign_scan);
    routine.ReScanForeignScan = Some(scan::rescan_foreign_scan);
    routine.EndForeignScan = Some(scan::end_foreign_scan);
    routine.ExplainForeignScan = Some(scan::explain_foreign_scan);
    routine.IsForeignScanParallelSafe = Some(parallel::is_foreign_scan_parallel_safe);
    routine.EstimateDSMForeignScan = Some(parallel::estimate_dsm_foreign_scan);
    routine.InitializeDSMForeignScan = Some(parallel::initialize_dsm_foreign_scan);
    routine.ReInitializeDSMForeignScan = Some(parallel::reinitialize_dsm_foreign_scan);
    routine.InitializeWorkerForeignScan = Some(parallel::initialize_worker_foreign_scan);
    routine.ShutdownForeignScan = Some(parallel::shutdown_foreign_scan);
    routine.GetForeignUpperPaths = Some(upper::get_foreign_upper_paths);
    routine.ExecForeignTruncate = Some(truncate::exec_foreign_truncate);
    routine.PlanForeignModify = Some(modify::plan_foreign_modify);
    routine.IsForeignRelUpdatable = Some(modify::is_foreign_rel_updatable);
    routine.BeginForeignModify = Some(modify::begin_foreign_modify);
    routine.BeginForeignInsert = Some(modify::begin_foreign_insert);
    routine.GetForeignModifyBatchSize = Some(modify::get_foreign_modify_batch_size);
    routine.ExecForeignInsert = Some(modify::exec_foreign_insert);
    routine.ExecForeignBatchInsert = Some(modify::exec_foreign_batch_insert);
    routine.EndForeignModify = Some(modify::end_foreign_modify);
    routine.EndForeignInsert = Some(modify::end_foreign_modify);
    pg_sys::Datum::from(routine.into_pg())
}

/// `tsparquet.fdw_validator(options, catalog)`: tables take `table_id`, columns `role`.
#[no_mangle]
#[pg_guard]
pub unsafe extern "C-unwind" fn tsparquet_fdw_validator(
    fcinfo: pg_sys::FunctionCallInfo,
) -> pg_sys::Datum {
    // SAFETY: Postgres calls the validator with (text[] options, oid catalog).
    let (options, catalog) = unsafe {
        let raw = pgrx::pg_getarg_datum_raw(fcinfo, 0);
        let catalog: pg_sys::Oid = pgrx::pg_getarg(fcinfo, 1).unwrap_or(pg_sys::Oid::INVALID);
        (
            PgList::<pg_sys::DefElem>::from_pg(pg_sys::untransformRelOptions(raw)),
            catalog,
        )
    };
    for option in options.iter_ptr() {
        // SAFETY: untransformRelOptions returns DefElems with string values.
        let (name, value) = unsafe {
            let name = std::ffi::CStr::from_ptr((*option).defname)
                .to_string_lossy()
                .into_owned();
            let value = std::ffi::CStr::from_ptr(pg_sys::defGetString(option))
                .to_string_lossy()
                .into_owned();
            (name, value)
        };
        if let Err((code, message)) = options::validate(catalog, &name, &value) {
            crate::errors::report(code, &message, None, None);
        }
        if catalog == pg_sys::ForeignTableRelationId && name == "table_id" {
            options::check_table_id_given(value.parse().expect("validated table_id"));
        }
    }
    pg_sys::Datum::from(0)
}
