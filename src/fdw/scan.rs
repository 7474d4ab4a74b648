//! The foreign scan of a measurement table: every row Postgres asks for, read from the
//! table's Parquet files with only the referenced columns decoded. Postgres evaluates all
//! quals itself (pushdown comes later).
//!
//! Planner-to-executor data travels in `fdw_private` as a serialised string. The executor
//! state is Rust data owned by a holder freed with the query's memory context, so it is
//! dropped even when an ERROR ends the query before `EndForeignScan`.

use std::ffi::CString;

use arrow::array::{Array, ArrayRef, AsArray, TimestampNanosecondArray};
use arrow::datatypes::{
    DataType, Float64Type, Int32Type, Int64Type, TimestampNanosecondType, UInt64Type,
};
use bytes::Bytes;
use pgrx::prelude::*;
use pgrx::{AnyNumeric, PgList, PgSqlErrorCode};
use serde::{Deserialize, Serialize};
use tsparquet_core::scan::TableScan;
use tsparquet_core::schema::{TIME_COLUMN, TIME_NS_COLUMN};
use tsparquet_core::time::unix_nanos_to_postgres_micros;
use tsparquet_core::time_range::{NanosRange, TimeBound};

use super::state;
use super::time_bounds::{self, BoundValues};
use crate::catalog::files;
use crate::errors;

/// What the planner tells the executor.
#[derive(Serialize, Deserialize)]
struct ScanPlan {
    /// 1-based attribute numbers the query reads.
    attributes: Vec<i16>,
    /// Bounds on the time columns; their values are the plan's `fdw_exprs`, in order.
    time_bounds: Vec<TimeBound>,
}

#[pg_guard]
pub unsafe extern "C-unwind" fn get_foreign_rel_size(
    root: *mut pg_sys::PlannerInfo,
    baserel: *mut pg_sys::RelOptInfo,
    foreigntableid: pg_sys::Oid,
) {
    let rows = files::row_count(super::table_id(foreigntableid)) as f64;
    // SAFETY: the planner hands a valid relation; clauselist_selectivity reads its quals.
    unsafe {
        let selectivity = pg_sys::clauselist_selectivity(
            root,
            (*baserel).baserestrictinfo,
            0,
            pg_sys::JoinType::JOIN_INNER,
            std::ptr::null_mut(),
        );
        (*baserel).tuples = rows;
        (*baserel).rows = (rows * selectivity).max(1.0).round();
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn get_foreign_paths(
    root: *mut pg_sys::PlannerInfo,
    baserel: *mut pg_sys::RelOptInfo,
    _foreigntableid: pg_sys::Oid,
) {
    // SAFETY: builds one path for the relation the planner passed.
    unsafe {
        let rows = (*baserel).rows;
        let startup = 10.0;
        // Decoding a stored row costs about as much as a heap tuple in a sequential scan.
        let total = startup + (*baserel).tuples * pg_sys::cpu_tuple_cost * 2.0;
        let path = pg_sys::create_foreignscan_path(
            root,
            baserel,
            std::ptr::null_mut(),
            rows,
            startup,
            total,
            std::ptr::null_mut(),
            (*baserel).lateral_relids,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        );
        pg_sys::add_path(baserel, path.cast());
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn get_foreign_plan(
    _root: *mut pg_sys::PlannerInfo,
    baserel: *mut pg_sys::RelOptInfo,
    foreigntableid: pg_sys::Oid,
    _best_path: *mut pg_sys::ForeignPath,
    tlist: *mut pg_sys::List,
    scan_clauses: *mut pg_sys::List,
    outer_plan: *mut pg_sys::Plan,
) -> *mut pg_sys::ForeignScan {
    // SAFETY: reads the relation's target list and quals, builds the plan node.
    unsafe {
        let relid = (*baserel).relid;
        let mut used: *mut pg_sys::Bitmapset = std::ptr::null_mut();
        pg_sys::pull_varattnos((*(*baserel).reltarget).exprs.cast(), relid, &mut used);
        let quals = PgList::<pg_sys::RestrictInfo>::from_pg((*baserel).baserestrictinfo);
        for rinfo in quals.iter_ptr() {
            pg_sys::pull_varattnos((*rinfo).clause.cast(), relid, &mut used);
        }
        let mut attributes = Vec::new();
        let mut whole_row = false;
        let mut member = -1;
        loop {
            member = pg_sys::bms_next_member(used, member);
            if member < 0 {
                break;
            }
            let attnum = member + pg_sys::FirstLowInvalidHeapAttributeNumber;
            match attnum {
                0 => whole_row = true,
                n if n > 0 => attributes.push(n as i16),
                _ => {}
            }
        }
        if whole_row {
            attributes = (1..=(*baserel).max_attr).collect();
        }
        let (time_bounds, bound_values) = time_bounds::find(relid, foreigntableid, scan_clauses);
        let plan = serde_json::to_string(&ScanPlan {
            attributes,
            time_bounds,
        })
        .expect("a scan plan serialises");
        let text = CString::new(plan).expect("JSON has no NUL");
        let private = pg_sys::lappend(
            std::ptr::null_mut(),
            pg_sys::makeString(pg_sys::pstrdup(text.as_ptr())).cast(),
        );
        pg_sys::make_foreignscan(
            tlist,
            pg_sys::extract_actual_clauses(scan_clauses, false),
            relid,
            bound_values,
            private,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            outer_plan,
        )
    }
}

/// Where a scanned attribute's values come from.
enum Source {
    Time,
    TimeNs,
    Column(String),
}

struct ScanState {
    scan: TableScan,
    /// The files read: those whose time range meets the range the bounds allow.
    files: ScanFiles,
    /// Scanned attributes: 0-based index into the tuple and source.
    attributes: Vec<(usize, Source, pg_sys::Oid, String)>,
    /// For the current batch, a reader of each scanned attribute's column, if the file has it.
    columns: Vec<Option<DatumReader>>,
    time: Option<TimestampNanosecondArray>,
}

/// The plan written by `get_foreign_plan` into the node's `fdw_private`.
unsafe fn scan_plan(plan_node: *mut pg_sys::ForeignScan) -> ScanPlan {
    // SAFETY: fdw_private holds one String node with the serialised plan.
    let text = unsafe {
        let private = PgList::<pg_sys::String>::from_pg((*plan_node).fdw_private);
        std::ffi::CStr::from_ptr((*private.get_ptr(0).expect("scan plan")).sval)
    };
    serde_json::from_slice(text.to_bytes()).expect("scan plan written by get_foreign_plan")
}

#[pg_guard]
pub unsafe extern "C-unwind" fn begin_foreign_scan(
    node: *mut pg_sys::ForeignScanState,
    eflags: i32,
) {
    if eflags & pg_sys::EXEC_FLAG_EXPLAIN_ONLY as i32 != 0 {
        return;
    }
    // SAFETY: reads the plan and relation of an initialised scan node.
    unsafe {
        let plan_node = (*node).ss.ps.plan.cast::<pg_sys::ForeignScan>();
        let plan = scan_plan(plan_node);
        let relation = (*node).ss.ss_currentRelation;
        let tupdesc = pgrx::PgTupleDesc::from_pg_unchecked((*relation).rd_att);
        let mut attributes = Vec::new();
        for attnum in plan.attributes {
            let index = attnum as usize - 1;
            let Some(attribute) = tupdesc.get(index) else {
                continue;
            };
            if attribute.attisdropped {
                continue;
            }
            let name = attribute.name().to_owned();
            let source = match name.as_str() {
                TIME_COLUMN => Source::Time,
                TIME_NS_COLUMN => Source::TimeNs,
                _ => Source::Column(name.clone()),
            };
            attributes.push((index, source, attribute.atttypid, name));
        }
        let mut wanted: Vec<String> = vec![TIME_COLUMN.to_owned()];
        wanted.extend(attributes.iter().filter_map(|(_, s, _, _)| match s {
            Source::Column(name) => Some(name.clone()),
            _ => None,
        }));
        let bounds = BoundValues::new(node, plan.time_bounds, (*plan_node).fdw_exprs);
        let mut files = ScanFiles {
            table_id: super::table_id((*relation).rd_id),
            wanted,
            range: NanosRange::ALL,
            read: 0,
            bounds,
        };
        let scan = files.load(node);
        let state = ScanState {
            scan,
            files,
            attributes,
            columns: Vec::new(),
            time: None,
        };
        let holder = state::attach((*(*node).ss.ps.state).es_query_cxt, state);
        (*node).fdw_state = holder.cast();
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn iterate_foreign_scan(
    node: *mut pg_sys::ForeignScanState,
) -> *mut pg_sys::TupleTableSlot {
    // SAFETY: fills the scan slot of a scan begun by begin_foreign_scan.
    unsafe {
        let slot = (*node).ss.ss_ScanTupleSlot;
        pg_sys::ExecClearTuple(slot);
        let Some(state) = state::get::<ScanState>((*node).fdw_state) else {
            return slot;
        };
        let row = match state.scan.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => return slot,
            Err(e) => errors::raise(&e),
        };
        let index = row.index;
        if row.new_batch {
            pg_sys::check_for_interrupts!();
            let batch = row.batch.clone();
            state.time = batch
                .column_by_name(TIME_COLUMN)
                .map(|c| c.as_primitive::<TimestampNanosecondType>().clone());
            state.columns = state
                .attributes
                .iter()
                .map(|(_, source, type_oid, name)| match source {
                    Source::Column(column) => batch
                        .column_by_name(column)
                        .inspect(|c| check_type(name, *type_oid, c.data_type()))
                        .map(datum_reader),
                    _ => None,
                })
                .collect();
        }
        let natts = (*(*slot).tts_tupleDescriptor).natts as usize;
        let values = std::slice::from_raw_parts_mut((*slot).tts_values, natts);
        let nulls = std::slice::from_raw_parts_mut((*slot).tts_isnull, natts);
        nulls.fill(true);
        let time = state
            .time
            .as_ref()
            .expect("every file has a time column")
            .value(index);
        for ((position, source, _, _), column) in state.attributes.iter().zip(&state.columns) {
            let datum = match source {
                Source::Time => Some(pg_sys::Datum::from(unix_nanos_to_postgres_micros(time))),
                Source::TimeNs => Some(pg_sys::Datum::from(time)),
                Source::Column(_) => column.as_ref().and_then(|read| read(index)),
            };
            if let Some(datum) = datum {
                values[*position] = datum;
                nulls[*position] = false;
            }
        }
        pg_sys::ExecStoreVirtualTuple(slot);
        slot
    }
}

/// Stored data must have the type the column has now, or its bytes would be misread.
fn check_type(column: &str, type_oid: pg_sys::Oid, stored: &DataType) {
    let matches = match stored {
        DataType::Dictionary(..) | DataType::Utf8 => type_oid == pg_sys::TEXTOID,
        DataType::Float64 => type_oid == pg_sys::FLOAT8OID,
        DataType::Int64 => type_oid == pg_sys::INT8OID,
        DataType::UInt64 => type_oid == pg_sys::NUMERICOID,
        DataType::Boolean => type_oid == pg_sys::BOOLOID,
        _ => false,
    };
    if !matches {
        errors::report(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            &format!("column \"{column}\" no longer has the type its stored data was written with ({stored})"),
            None,
            Some("Do not change the types of measurement columns."),
        );
    }
}

/// Reads the value at a row of one stored column as a datum in the current (per-tuple)
/// memory context, None for NULL. Made once per batch, so rows pay no type dispatch.
type DatumReader = Box<dyn Fn(usize) -> Option<pg_sys::Datum>>;

fn datum_reader(column: &ArrayRef) -> DatumReader {
    fn reader<A: Array + Clone + 'static>(
        array: &A,
        value: impl Fn(&A, usize) -> Option<pg_sys::Datum> + 'static,
    ) -> DatumReader {
        let array = array.clone();
        Box::new(move |row| {
            if array.is_null(row) {
                None
            } else {
                value(&array, row)
            }
        })
    }
    match column.data_type() {
        DataType::Dictionary(..) => {
            let values = column
                .as_dictionary::<Int32Type>()
                .values()
                .as_string::<i32>()
                .clone();
            reader(column.as_dictionary::<Int32Type>(), move |tags, row| {
                values.value(tags.keys().value(row) as usize).into_datum()
            })
        }
        DataType::Utf8 => reader(column.as_string::<i32>(), |a, row| {
            a.value(row).into_datum()
        }),
        DataType::Float64 => reader(column.as_primitive::<Float64Type>(), |a, row| {
            a.value(row).into_datum()
        }),
        DataType::Int64 => reader(column.as_primitive::<Int64Type>(), |a, row| {
            a.value(row).into_datum()
        }),
        DataType::UInt64 => reader(column.as_primitive::<UInt64Type>(), |a, row| {
            AnyNumeric::from(a.value(row)).into_datum()
        }),
        DataType::Boolean => reader(column.as_boolean(), |a, row| a.value(row).into_datum()),
        other => panic!("stored column of unexpected type {other}"),
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn rescan_foreign_scan(node: *mut pg_sys::ForeignScanState) {
    // SAFETY: the node's state was set by begin_foreign_scan.
    if let Some(state) = unsafe { state::get::<ScanState>((*node).fdw_state) } {
        // Parameters may have changed (the scan of a correlated subquery): the bounds are
        // computed again, and other files read if they now allow another range.
        if state.files.bounds.is_empty()
            || unsafe { state.files.bounds.range(node) } == state.files.range
        {
            state.scan.restart();
        } else {
            state.scan = unsafe { state.files.load(node) };
            state.columns.clear();
            state.time = None;
        }
    }
}

/// Which files a scan reads.
struct ScanFiles {
    table_id: i64,
    /// The columns decoded.
    wanted: Vec<String>,
    bounds: BoundValues,
    /// The range the bounds allowed when the files were loaded.
    range: NanosRange,
    /// How many files were read, for EXPLAIN ANALYZE.
    read: usize,
}

impl ScanFiles {
    /// Computes the bounds and loads the files that meet them.
    unsafe fn load(&mut self, node: *mut pg_sys::ForeignScanState) -> TableScan {
        self.range = if self.bounds.is_empty() {
            NanosRange::ALL
        } else {
            // SAFETY: the caller passes the node the bounds were prepared for.
            unsafe { self.bounds.range(node) }
        };
        let stored: Vec<Bytes> = if self.range.is_empty() {
            Vec::new()
        } else {
            files::in_time_range(self.table_id, self.range.min, self.range.max)
                .into_iter()
                .map(|f| Bytes::from(f.data))
                .collect()
        };
        self.read = stored.len();
        TableScan::new(stored, self.wanted.clone())
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn explain_foreign_scan(
    node: *mut pg_sys::ForeignScanState,
    es: *mut pg_sys::ExplainState,
) {
    // SAFETY: the plan node's private data, and the scan state if the scan ran.
    unsafe {
        let plan_node = (*node).ss.ps.plan.cast::<pg_sys::ForeignScan>();
        let plan = scan_plan(plan_node);
        if !plan.time_bounds.is_empty() {
            let bounds = CString::new(time_bounds::describe(&plan.time_bounds)).expect("no NUL");
            pg_sys::ExplainPropertyText(c"Files Pruned By".as_ptr(), bounds.as_ptr(), es);
        }
        if let Some(state) = state::get::<ScanState>((*node).fdw_state) {
            let read = format!(
                "{} of {}",
                state.files.read,
                files::count(state.files.table_id)
            );
            let read = CString::new(read).expect("no NUL");
            pg_sys::ExplainPropertyText(c"Files Read".as_ptr(), read.as_ptr(), es);
        }
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn end_foreign_scan(node: *mut pg_sys::ForeignScanState) {
    // SAFETY: the node's state was set by begin_foreign_scan.
    drop(unsafe { state::release::<ScanState>((*node).fdw_state) });
}
