//! The foreign scan of a measurement table. Filters the query engine can evaluate exactly
//! are pushed down to it (it then reads the table's Parquet files and prunes by their
//! statistics); without any, the files are read directly. Either way only the referenced
//! columns are decoded, and Postgres evaluates the filters that were not pushed down.
//! A scan of a grouped relation (see `upper`) returns the engine's groups instead.
//!
//! Planner-to-executor data travels in `fdw_private` as a serialised string. The executor
//! state is Rust data owned by a holder freed with the query's memory context, so it is
//! dropped even when an ERROR ends the query before `EndForeignScan`.

use std::ffi::CString;
use std::sync::atomic::AtomicU64;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, TimestampNanosecondArray};
use arrow::datatypes::{
    DataType, Float64Type, Int32Type, Int64Type, TimestampNanosecondType, UInt64Type,
};
use pgrx::prelude::*;
use pgrx::{AnyNumeric, PgList, PgMemoryContexts, PgSqlErrorCode};
use serde::{Deserialize, Serialize};
use tsparquet_core::parts::{self, Part};
use tsparquet_core::query::expr::Value;
use tsparquet_core::query::request::{QueryRequest, Shape};
use tsparquet_core::query::{RunningQuery, StoredFile};
use tsparquet_core::scan::TableScan;
use tsparquet_core::schema::{TIME_COLUMN, TIME_NS_COLUMN};
use tsparquet_core::time::unix_nanos_to_postgres_micros;
use tsparquet_core::time_range::{NanosRange, TimeBound};

use super::describe::deparse;
use super::file_cache::{self, RangeReads};
use super::ordered;
use super::parallel;
use super::query;
use super::state;
use super::time_bounds::{self, BoundValues};
use super::time_zone::{self, session_zone};
use super::translate::Translator;
use super::upper;
use crate::catalog::files::{self, ListedFile};
use crate::errors;
use crate::settings::ENABLE_PUSHDOWN;

/// What the planner tells the executor.
#[derive(Serialize, Deserialize)]
pub(super) struct ScanPlan {
    /// The foreign table.
    pub table: u32,
    /// 1-based attribute numbers the query reads (of a scan of the table's rows).
    pub attributes: Vec<i16>,
    /// Bounds on the time columns; their values are the first of the plan's `fdw_exprs`.
    pub time_bounds: Vec<TimeBound>,
    /// The work pushed down to the query engine; its parameters are the `fdw_exprs`.
    pub query: Option<QueryRequest>,
    /// The session time zone the pushed-down work is only exact in (the one it was planned
    /// in): a cached plan may run after `SET TimeZone`.
    pub time_zone: Option<String>,
    /// What EXPLAIN shows about the pushed-down work: labels and SQL text.
    pub pushed: Vec<(String, String)>,
    /// The `work_mem` the plan was made under, in kB: what the planner let the engine hold
    /// (a percentile's values, a sort or top-N it cannot spill) fits in it, and a cached
    /// plan may run after `SET work_mem` lower.
    pub work_mem_kb: i32,
}

/// A pushed-down query as a scan runs it.
#[derive(Clone)]
pub(super) struct Pushed {
    pub request: QueryRequest,
    /// The values of its parameters, computed as the scan starts.
    pub params: Vec<Value>,
    /// See [`ScanPlan::work_mem_kb`].
    pub work_mem_kb: i32,
}

/// A plan (or a path's order) as `fdw_private`: a list holding one String node.
pub(super) fn plan_private(plan: &impl Serialize) -> *mut pg_sys::List {
    let text = serde_json::to_string(plan).expect("a plan serialises");
    let text = CString::new(text).expect("JSON has no NUL");
    // SAFETY: copies the text into the current memory context.
    unsafe {
        pg_sys::lappend(
            std::ptr::null_mut(),
            pg_sys::makeString(pg_sys::pstrdup(text.as_ptr())).cast(),
        )
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn get_foreign_rel_size(
    root: *mut pg_sys::PlannerInfo,
    baserel: *mut pg_sys::RelOptInfo,
    foreigntableid: pg_sys::Oid,
) {
    let rows = super::table_summary::rows(foreigntableid);
    // SAFETY: the planner hands a valid relation, whose quals are read.
    unsafe {
        let selectivity = selectivity(root, (*baserel).baserestrictinfo);
        (*baserel).tuples = rows;
        (*baserel).rows = (rows * selectivity).max(1.0).round();
    }
}

/// The share of a base relation's rows the planner expects `clauses` (RestrictInfos of
/// it) to keep.
pub(super) unsafe fn selectivity(
    root: *mut pg_sys::PlannerInfo,
    clauses: *mut pg_sys::List,
) -> f64 {
    // SAFETY: the caller's planner state and clauses.
    unsafe {
        pg_sys::clauselist_selectivity(
            root,
            clauses,
            0,
            pg_sys::JoinType::JOIN_INNER,
            std::ptr::null_mut(),
        )
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn get_foreign_paths(
    root: *mut pg_sys::PlannerInfo,
    baserel: *mut pg_sys::RelOptInfo,
    foreigntableid: pg_sys::Oid,
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
        if ENABLE_PUSHDOWN.get() {
            ordered::add_sorted_scan_path(root, baserel, foreigntableid, total);
        }
        parallel::add_partial_path(root, baserel, foreigntableid, startup, total);
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn get_foreign_plan(
    _root: *mut pg_sys::PlannerInfo,
    baserel: *mut pg_sys::RelOptInfo,
    foreigntableid: pg_sys::Oid,
    best_path: *mut pg_sys::ForeignPath,
    tlist: *mut pg_sys::List,
    scan_clauses: *mut pg_sys::List,
    outer_plan: *mut pg_sys::Plan,
) -> *mut pg_sys::ForeignScan {
    // SAFETY: reads the relation's target list and quals, builds the plan node.
    unsafe {
        if (*baserel).reloptkind == pg_sys::RelOptKind::RELOPT_UPPER_REL {
            return upper::plan(best_path, tlist, outer_plan);
        }
        let relid = (*baserel).relid;
        let (time_bounds, bound_values) = time_bounds::find(relid, foreigntableid, scan_clauses);
        let mut translator = Translator::new(relid, foreigntableid, bound_values);
        let mut filters = Vec::new();
        let mut pushed_nodes = Vec::new();
        let mut local: *mut pg_sys::List = std::ptr::null_mut();
        // Arithmetic that may raise is left to Postgres, which computes it row by row as
        // the rows are asked for: the engine computes filters for whole batches, also for
        // rows that a LIMIT, an EXISTS or a cursor never asks for. (A grouping, which asks
        // for every row, takes it: see `upper`.)
        for rinfo in PgList::<pg_sys::RestrictInfo>::from_pg(scan_clauses).iter_ptr() {
            let clause = (*rinfo).clause.cast::<pg_sys::Node>();
            let filter = if ENABLE_PUSHDOWN.get() && !(*rinfo).pseudoconstant {
                translator.attempt(|t| t.qual(clause).filter(|filter| !filter.may_raise()))
            } else {
                None
            };
            match filter {
                Some(filter) => {
                    filters.push(filter);
                    pushed_nodes.push(clause);
                }
                None => local = pg_sys::lappend(local, rinfo.cast()),
            }
        }
        // The columns the query returns and those of the conditions Postgres checks; a
        // column only pushed conditions use is read by the engine and not returned.
        let mut used: *mut pg_sys::Bitmapset = std::ptr::null_mut();
        pg_sys::pull_varattnos((*(*baserel).reltarget).exprs.cast(), relid, &mut used);
        for rinfo in PgList::<pg_sys::RestrictInfo>::from_pg(local).iter_ptr() {
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
        let mut pushed = Vec::new();
        let sorted = ordered::sorted_scan(best_path);
        let query = if filters.is_empty() && sorted.is_none() {
            None
        } else {
            if !filters.is_empty() {
                pushed.push((
                    "Pushed Filter".to_owned(),
                    deparse(foreigntableid, relid, &pushed_nodes, " AND "),
                ));
            }
            let columns: Vec<String> = attributes
                .iter()
                .filter_map(|a| translator.stored_name(*a).map(str::to_owned))
                .collect();
            let mut order = Vec::new();
            if let Some(sorted) = sorted {
                order = sorted.keys(&columns, |attnum| translator.stored_name(attnum));
                pushed.push(("Pushed Order".to_owned(), sorted.shown));
            }
            Some(QueryRequest {
                columns: translator.stored_columns(),
                filters,
                shape: Shape::Rows { columns },
                having: Vec::new(),
                order,
                limit: None,
            })
        };
        let plan = ScanPlan {
            table: foreigntableid.to_u32(),
            attributes,
            time_bounds,
            time_zone: translator.time_zone(),
            query,
            pushed,
            work_mem_kb: query::work_mem_kb(),
        };
        pg_sys::make_foreignscan(
            tlist,
            pg_sys::extract_actual_clauses(local, false),
            relid,
            translator.params(),
            plan_private(&plan),
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

/// Where a scan's batches come from.
enum Batches {
    Files(TableScan),
    Query(RunningQuery),
    /// This process's share of a parallel scan.
    Parts(PartScan),
}

impl Batches {
    fn next_batch(&mut self) -> Option<RecordBatch> {
        match self {
            Batches::Files(scan) => scan.next_batch().unwrap_or_else(|e| errors::raise(&e)),
            Batches::Query(running) => query::next_batch(running),
            Batches::Parts(parts) => parts.next_batch(),
        }
    }
}

/// The row groups a process of a parallel scan takes, one at a time, each read as a scan
/// of its own.
struct PartScan {
    files: Vec<StoredFile>,
    parts: Vec<Part>,
    /// How many parts all the scan's processes have taken: in the query's shared memory.
    taken: *const AtomicU64,
    /// What the part being read is pushed down as, if anything.
    query: Option<Pushed>,
    columns: Vec<String>,
    current: Option<Box<Batches>>,
}

impl PartScan {
    fn next_batch(&mut self) -> Option<RecordBatch> {
        loop {
            if let Some(batch) = self.current.as_mut().and_then(|part| part.next_batch()) {
                return Some(batch);
            }
            // SAFETY: the scan is shut down, dropping this, before the memory goes.
            let taken = unsafe { &*self.taken };
            let part = parts::take(taken, &self.parts)?;
            let file = self.files[part.file].clone();
            self.current = Some(Box::new(match &self.query {
                Some(pushed) => Batches::Query(query::start_row_group(
                    &pushed.request,
                    &pushed.params,
                    file,
                    part.row_group,
                    pushed.work_mem_kb,
                )),
                None => Batches::Files(TableScan::of_row_group(
                    file.bytes,
                    part.row_group,
                    self.columns.clone(),
                )),
            }));
        }
    }
}

/// How a batch's rows become tuples.
enum Fill {
    /// Rows of the table: each scanned attribute (0-based index into the tuple, source,
    /// type, name) from its column.
    Rows(Vec<(usize, Source, pg_sys::Oid, String)>),
    /// Groups: tuple column i from the query's output i, of the given type.
    Groups(Vec<pg_sys::Oid>),
}

struct ScanState {
    /// None until the files are loaded and reading starts: at the first row, not in
    /// BeginForeignScan, because the plan's init plans (which may compute parameters)
    /// are only set up after it.
    batches: Option<Batches>,
    /// The files read: those whose time range meets the range the bounds allow.
    files: ScanFiles,
    fill: Fill,
    /// The session time zone the pushed-down query is only exact in, as Postgres' zone and
    /// by name: a cursor's rows are fetched after the scan began, maybe in another zone.
    time_zone: Option<(*mut pg_sys::pg_tz, String)>,
    /// The pushed-down query, when there is one.
    query: Option<Pushed>,
    batch: Option<RecordBatch>,
    next_row: usize,
    /// For the current batch, a reader per filled column (None: the file lacks it).
    readers: Vec<Option<DatumReader>>,
    time: Option<TimestampNanosecondArray>,
    /// Datums shared by the rows of the current batch (see [`datum_reader`]): emptied when
    /// the next batch is read, deleted with the query's memory.
    batch_memory: pg_sys::MemoryContext,
    /// In a parallel-aware scan run with a parallel context, the count of parts its
    /// processes have taken: set when the context's shared memory is set up or attached,
    /// cleared when the scan is shut down, before that memory goes.
    taken: Option<*const AtomicU64>,
}

impl ScanState {
    /// Loads the files the bounds allow and starts reading them.
    unsafe fn start(&mut self, node: *mut pg_sys::ForeignScanState) {
        // SAFETY: the node the state belongs to.
        let listed = unsafe { self.files.list(node) };
        self.batch = None;
        self.next_row = 0;
        // Nothing to read, and nothing to give: the parameters are left uncomputed, as
        // Postgres computes a filter's values only for a row that reaches them (a failing
        // sub-query over an empty time range raises no error), and the engine unstarted.
        let empty = |query: &Pushed| query.request.is_empty_without_rows();
        if listed.is_empty() && self.query.as_ref().is_none_or(empty) {
            self.batches = Some(Batches::Files(TableScan::new(
                Vec::new(),
                self.files.wanted.clone(),
            )));
            return;
        }
        if let Some(query) = &mut self.query {
            // SAFETY: as above.
            query.params = unsafe { self.files.bounds.param_values(node) };
            let times = listed.iter().map(|file| file.times);
            if let Some((from, to)) = times.reduce(|a, b| (a.0.min(b.0), a.1.max(b.1))) {
                for (unit, zone, buckets) in query.request.local_buckets_mut() {
                    *buckets = time_zone::local_buckets(unit, zone, from, to);
                }
            }
        }
        if let Some(taken) = self.taken {
            let stored = self.files.load(&listed);
            let parts = parts::parts(stored.iter().map(|file| &file.bytes));
            self.batches = Some(Batches::Parts(PartScan {
                parts: parts.unwrap_or_else(|e| errors::raise(&e)),
                files: stored,
                taken,
                query: self.query.clone(),
                columns: self.files.wanted.clone(),
                current: None,
            }));
            return;
        }
        self.batches = Some(match &self.query {
            None => {
                let stored = self.files.load(&listed);
                let files = stored.into_iter().map(|file| file.bytes).collect();
                Batches::Files(TableScan::new(files, self.files.wanted.clone()))
            }
            Some(pushed) => {
                let (files, reads) = file_cache::for_query(&listed, self.files.snapshot);
                self.files.in_ranges = reads;
                Batches::Query(query::start(pushed, files))
            }
        });
    }

    /// Makes the readers of a new batch.
    fn read(&mut self, batch: RecordBatch) {
        // SAFETY: the rows of the last batch were handed on before this one was asked for.
        unsafe { pg_sys::MemoryContextReset(self.batch_memory) };
        let memory = self.batch_memory;
        match &self.fill {
            Fill::Rows(attributes) => {
                self.time = batch
                    .column_by_name(TIME_COLUMN)
                    .map(|c| c.as_primitive::<TimestampNanosecondType>().clone());
                self.readers = attributes
                    .iter()
                    .map(|(_, source, type_oid, name)| match source {
                        Source::Column(column) => batch
                            .column_by_name(column)
                            .inspect(|c| check_type(name, *type_oid, c.data_type()))
                            .map(|c| datum_reader(c, memory)),
                        _ => None,
                    })
                    .collect();
            }
            Fill::Groups(types) => {
                let Some(Batches::Query(running)) = &self.batches else {
                    unreachable!("groups come from a pushed-down query");
                };
                self.readers = query::group_readers(&batch, &running.outputs, types, memory)
                    .into_iter()
                    .map(Some)
                    .collect();
            }
        }
        self.batch = Some(batch);
        self.next_row = 0;
    }
}

/// The plan in a String node written by [`plan_private`].
pub(super) unsafe fn read_plan<T: serde::de::DeserializeOwned>(node: *mut pg_sys::String) -> T {
    // SAFETY: the caller passes the String node of a plan.
    let text = unsafe { std::ffi::CStr::from_ptr((*node).sval) };
    serde_json::from_slice(text.to_bytes()).expect("plan written by plan_private")
}

/// The plan written by `get_foreign_plan` into the node's `fdw_private`.
unsafe fn scan_plan(plan_node: *mut pg_sys::ForeignScan) -> ScanPlan {
    // SAFETY: fdw_private holds one String node with the serialised plan.
    unsafe {
        let private = PgList::<pg_sys::String>::from_pg((*plan_node).fdw_private);
        read_plan(private.get_ptr(0).expect("scan plan"))
    }
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
        if let Some(zone) = plan.time_zone.as_ref().filter(|z| **z != session_zone()) {
            time_zone_changed(zone);
        }
        let table = pg_sys::Oid::from(plan.table);
        let mut attributes = Vec::new();
        let relation = (*node).ss.ss_currentRelation;
        // Attributes fill their place in the table's rows, or with no relation (a scan of
        // an ordered upper relation) their place in the scan target list.
        let by_position = relation.is_null();
        let relation = if by_position {
            pg_sys::RelationIdGetRelation(table)
        } else {
            relation
        };
        let tupdesc = pgrx::PgTupleDesc::from_pg_unchecked((*relation).rd_att);
        for (position, attnum) in plan.attributes.iter().enumerate() {
            let index = *attnum as usize - 1;
            let Some(attribute) = tupdesc.get(index) else {
                continue;
            };
            if attribute.attisdropped {
                continue;
            }
            let name = attribute.name().to_owned();
            let source = match name.as_str() {
                TIME_COLUMN => {
                    check_time_type(&name, attribute.atttypid, pg_sys::TIMESTAMPTZOID);
                    Source::Time
                }
                TIME_NS_COLUMN => {
                    check_time_type(&name, attribute.atttypid, pg_sys::INT8OID);
                    Source::TimeNs
                }
                _ => Source::Column(name.clone()),
            };
            let place = if by_position { position } else { index };
            attributes.push((place, source, attribute.atttypid, name));
        }
        drop(tupdesc);
        if by_position {
            pg_sys::RelationClose(relation);
        }
        let mut wanted: Vec<String> = vec![TIME_COLUMN.to_owned()];
        wanted.extend(attributes.iter().filter_map(|(_, s, _, _)| match s {
            Source::Column(name) => Some(name.clone()),
            _ => None,
        }));
        let fill = match &plan.query {
            Some(QueryRequest {
                shape: Shape::Groups { .. },
                ..
            }) => {
                let slot_desc = pgrx::PgTupleDesc::from_pg_unchecked(
                    (*(*node).ss.ss_ScanTupleSlot).tts_tupleDescriptor,
                );
                let types = slot_desc.iter().map(|a| a.atttypid).collect();
                Fill::Groups(types)
            }
            _ => Fill::Rows(attributes),
        };
        let bounds = BoundValues::new(node, plan.time_bounds, (*plan_node).fdw_exprs);
        let files = ScanFiles {
            table_id: super::table_id(table),
            snapshot: (*(*node).ss.ps.state).es_snapshot,
            wanted,
            range: NanosRange::ALL,
            read: 0,
            in_ranges: RangeReads::default(),
            bounds,
        };
        let state = ScanState {
            batches: None,
            files,
            fill,
            time_zone: plan.time_zone.map(|zone| (pg_sys::session_timezone, zone)),
            query: plan.query.map(|request| Pushed {
                request,
                params: Vec::new(),
                work_mem_kb: plan.work_mem_kb,
            }),
            batch: None,
            next_row: 0,
            readers: Vec::new(),
            time: None,
            taken: None,
            batch_memory: pg_sys::AllocSetContextCreateExtended(
                (*(*node).ss.ps.state).es_query_cxt,
                c"tsparquet batch".as_ptr(),
                pg_sys::ALLOCSET_DEFAULT_MINSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_INITSIZE as usize,
                pg_sys::ALLOCSET_DEFAULT_MAXSIZE as usize,
            ),
        };
        let holder = state::attach((*(*node).ss.ps.state).es_query_cxt, state);
        (*node).fdw_state = holder.cast();
    }
}

/// Refuses to run a pushed-down `date_trunc` made for time zone `zone` in another one.
fn time_zone_changed(zone: &str) -> ! {
    errors::report(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        &format!("this plan groups by date_trunc as in time zone \"{zone}\", but the session's TimeZone has changed"),
        None,
        Some("Prepare the statement or declare the cursor again in this time zone, or SET tsparquet.enable_pushdown = off before preparing it."),
    )
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
        // Postgres keeps one zone per name: another zone is another TimeZone.
        if let Some((_, zone)) = state
            .time_zone
            .as_ref()
            .filter(|(planned, _)| *planned != pg_sys::session_timezone)
        {
            time_zone_changed(zone);
        }
        if state.batches.is_none() {
            state.start(node);
        }
        while state
            .batch
            .as_ref()
            .is_none_or(|b| state.next_row >= b.num_rows())
        {
            pg_sys::check_for_interrupts!();
            match state.batches.as_mut().expect("started above").next_batch() {
                Some(batch) => state.read(batch),
                None => {
                    state.batch = None;
                    return slot;
                }
            }
        }
        let index = state.next_row;
        state.next_row += 1;
        let natts = (*(*slot).tts_tupleDescriptor).natts as usize;
        let values = std::slice::from_raw_parts_mut((*slot).tts_values, natts);
        let nulls = std::slice::from_raw_parts_mut((*slot).tts_isnull, natts);
        nulls.fill(true);
        match &state.fill {
            Fill::Rows(attributes) => {
                let time = state
                    .time
                    .as_ref()
                    .expect("every file has a time column")
                    .value(index);
                for ((position, source, _, _), column) in attributes.iter().zip(&state.readers) {
                    let datum = match source {
                        Source::Time => {
                            Some(pg_sys::Datum::from(unix_nanos_to_postgres_micros(time)))
                        }
                        Source::TimeNs => Some(pg_sys::Datum::from(time)),
                        Source::Column(_) => column.as_ref().and_then(|read| read(index)),
                    };
                    if let Some(datum) = datum {
                        values[*position] = datum;
                        nulls[*position] = false;
                    }
                }
            }
            Fill::Groups(..) => {
                for (position, reader) in state.readers.iter().enumerate() {
                    if let Some(datum) = reader.as_ref().and_then(|read| read(index)) {
                        values[position] = datum;
                        nulls[position] = false;
                    }
                }
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

/// `time` and `time_ns` are read from the stored time, whatever the table says: a column of
/// another type under one of those names would take its bytes as its own datum.
fn check_time_type(column: &str, type_oid: pg_sys::Oid, expected: pg_sys::Oid) {
    if type_oid != expected {
        errors::report(
            PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
            &format!("column \"{column}\" of a measurement table must be the stored time"),
            Some("Its type is not the type of the measurement's time column of that name."),
            Some("Do not rename other columns to time or time_ns."),
        );
    }
}

/// Reads the value at a row of one stored column as a datum in the current (per-tuple)
/// memory context, None for NULL. Made once per batch, so rows pay no type dispatch.
pub(super) type DatumReader = Box<dyn Fn(usize) -> Option<pg_sys::Datum>>;

pub(super) fn datum_reader(column: &ArrayRef, batch_memory: pg_sys::MemoryContext) -> DatumReader {
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
            let tags = column.as_dictionary::<Int32Type>();
            let values = tags.values().as_string::<i32>().clone();
            if values.len() > tags.len() {
                return reader(tags, move |tags, row| {
                    values.value(tags.keys().value(row) as usize).into_datum()
                });
            }
            // A tag's few values repeat down the batch: each is made once, in memory that
            // lasts as long as the batch, and its rows share it.
            let made = std::cell::RefCell::new(vec![None; values.len()]);
            reader(tags, move |tags, row| {
                let key = tags.keys().value(row) as usize;
                let mut made = made.borrow_mut();
                // SAFETY: the batch's context, which outlives the readers of the batch.
                let datum = *made[key].get_or_insert_with(|| unsafe {
                    PgMemoryContexts::For(batch_memory)
                        .switch_to(|_| values.value(key).into_datum())
                        .expect("text makes a datum")
                });
                Some(datum)
            })
        }
        DataType::Utf8 => reader(column.as_string::<i32>(), |a, row| {
            a.value(row).into_datum()
        }),
        DataType::Utf8View => reader(column.as_string_view(), |a, row| a.value(row).into_datum()),
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

/// Makes the scan of `node` one of the processes of a parallel scan, taking parts from
/// the count at `taken`. PostgreSQL calls the callbacks that share parts for
/// parallel-aware scans only; one that it runs without a parallel context (a cursor, say)
/// never gets a count and reads everything.
pub(super) unsafe fn share_parts(node: *mut pg_sys::ForeignScanState, taken: *const AtomicU64) {
    // SAFETY: the node's state, set by begin_foreign_scan.
    if let Some(state) = unsafe { state::get::<ScanState>((*node).fdw_state) } {
        state.taken = Some(taken);
        state.batches = None;
    }
}

/// Drops what refers to the shared count of a parallel scan of `node`, whose memory goes
/// next; a scan with no count keeps its place (a cursor's scan is shut down between
/// fetches).
pub(super) unsafe fn stop_sharing_parts(node: *mut pg_sys::ForeignScanState) {
    // SAFETY: the node's state, set by begin_foreign_scan.
    if let Some(state) = unsafe { state::get::<ScanState>((*node).fdw_state) } {
        if state.taken.take().is_some() {
            state.batches = None;
        }
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn rescan_foreign_scan(node: *mut pg_sys::ForeignScanState) {
    // SAFETY: the node's state was set by begin_foreign_scan.
    if let Some(state) = unsafe { state::get::<ScanState>((*node).fdw_state) } {
        // Parameters may have changed (the scan of a correlated subquery): a pushed-down
        // query starts again with their new values; a plain scan reads other files if the
        // bounds now allow another range.
        let same_files = || {
            state.files.bounds.is_empty()
                || unsafe { state.files.bounds.range(node) } == state.files.range
        };
        match &mut state.batches {
            Some(Batches::Files(scan)) if same_files() => {
                scan.restart();
                state.batch = None;
            }
            _ => state.batches = None,
        }
    }
}

/// Which files a scan reads.
struct ScanFiles {
    table_id: i64,
    /// The query's snapshot: files are read as it sees them, even when loaded later.
    snapshot: pg_sys::Snapshot,
    /// The columns decoded.
    wanted: Vec<String>,
    bounds: BoundValues,
    /// The range the bounds allowed when the files were loaded.
    range: NanosRange,
    /// How many files were read, for EXPLAIN ANALYZE.
    read: usize,
    /// Of those, the files read in ranges by a pushed-down query.
    in_ranges: RangeReads,
}

impl ScanFiles {
    /// Computes the bounds and lists the files that meet them.
    unsafe fn list(&mut self, node: *mut pg_sys::ForeignScanState) -> Vec<ListedFile> {
        self.range = if self.bounds.is_empty() {
            NanosRange::ALL
        } else {
            // SAFETY: the caller passes the node the bounds were prepared for.
            unsafe { self.bounds.range(node) }
        };
        let listed = if self.range.is_empty() {
            Vec::new()
        } else {
            files::in_time_range_as_of(self.table_id, self.range.min, self.range.max, self.snapshot)
        };
        self.read = listed.len();
        listed
    }

    /// The files `listed`, loaded whole.
    fn load(&self, listed: &[ListedFile]) -> Vec<StoredFile> {
        let keys: Vec<_> = listed.iter().map(|file| file.key).collect();
        file_cache::load(&keys, self.snapshot)
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
        let text = |label: &str, value: &str| {
            let label = CString::new(label).expect("no NUL");
            let value = CString::new(value).expect("no NUL");
            pg_sys::ExplainPropertyText(label.as_ptr(), value.as_ptr(), es);
        };
        for (label, pushed) in &plan.pushed {
            text(label, pushed);
        }
        if !plan.time_bounds.is_empty() {
            text("Files Pruned By", &time_bounds::describe(&plan.time_bounds));
        }
        let state = state::get::<ScanState>((*node).fdw_state);
        if let Some(state) = &state {
            let footers = matches!(
                &state.batches,
                Some(Batches::Query(running)) if running.from_footers
            );
            let read = format!(
                "{} of {}{}",
                state.files.read,
                files::count(state.files.table_id),
                if footers {
                    " (their footers' earliest and latest row of each series only)"
                } else {
                    ""
                }
            );
            text("Files Read", &read);
            let in_ranges = &state.files.in_ranges;
            if in_ranges.files > 0 {
                let read = format!(
                    "{} of {} bytes of {} file{}, {} of them from the catalog",
                    in_ranges.read.get(),
                    in_ranges.size,
                    in_ranges.files,
                    if in_ranges.files == 1 { "" } else { "s" },
                    in_ranges.from_catalog.get()
                );
                text("Read In Ranges", &read);
            }
        }
        if let (Some(request), true) = (&plan.query, (*es).verbose) {
            let params = match &state {
                Some(ScanState {
                    query: Some(pushed),
                    ..
                }) => pushed.params.as_slice(),
                _ => &[],
            };
            let described = query::with_engine(|engine| engine.describe(request, params))
                .unwrap_or_else(|e| e.to_string());
            text("DataFusion Plan", &described);
            if let Some(ScanState {
                batches: Some(Batches::Query(running)),
                ..
            }) = &state
            {
                text("DataFusion Execution", &running.executed_plan());
            }
        }
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn end_foreign_scan(node: *mut pg_sys::ForeignScanState) {
    // SAFETY: the node's state was set by begin_foreign_scan.
    drop(unsafe { state::release::<ScanState>((*node).fdw_state) });
}
