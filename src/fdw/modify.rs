//! `INSERT` and `COPY` into measurement tables. Rows are buffered as one batch per
//! statement and stored as Parquet when the buffer is full and at the end of the
//! statement, through the same path as line protocol (duplicate rule included), inside the
//! statement's transaction. `UPDATE` and `DELETE` are refused while planning.

use std::borrow::Cow;
use std::ffi::CStr;

use pgrx::prelude::*;
use pgrx::{AnyNumeric, PgSqlErrorCode};
use tsparquet_core::batch::MeasurementBatch;
use tsparquet_core::ingest::Existing;
use tsparquet_core::line_protocol::{FieldType, FieldValue};
use tsparquet_core::prepare::encode;
use tsparquet_core::schema::{ColumnKind, TIME_COLUMN, TIME_NS_COLUMN};
use tsparquet_core::sql_row::{row_point, RowError};
use tsparquet_core::time::unix_nanos_to_postgres_micros;

use super::state;
use crate::catalog::{lock_measurement, measurements, with_safe_search_path};
use crate::errors::{report, PgError};
use crate::write::store;

/// Rows buffered before they are stored: bounds memory, and keeps files large.
const BUFFERED_ROWS: usize = 100_000;
/// Rows Postgres hands over per batch-insert call.
const INSERT_BATCH_SIZE: i32 = 1_000;

impl PgError for RowError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            RowError::NoTime | RowError::NoFields => PgSqlErrorCode::ERRCODE_NOT_NULL_VIOLATION,
            RowError::TimeOutOfRange => PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
            RowError::TimesDisagree { .. } => PgSqlErrorCode::ERRCODE_CHECK_VIOLATION,
        }
    }
}

/// Where a column of the inserted rows goes.
enum Target {
    Time,
    TimeNs,
    Tag(String),
    Field(String, FieldType),
}

struct InsertState {
    database: String,
    measurement: String,
    /// Each stored column's index in the inserted tuple.
    targets: Vec<(usize, Target)>,
    batch: MeasurementBatch,
    /// Whether the table has `AFTER INSERT` triggers: Postgres fires them before the
    /// statement ends, so each batch Postgres hands over is stored at once for them to find.
    store_each_batch: bool,
    /// Whether the table has `AFTER ROW` insert triggers, which read each row back.
    after_row_triggers: bool,
}

#[pg_guard]
pub unsafe extern "C-unwind" fn plan_foreign_modify(
    root: *mut pg_sys::PlannerInfo,
    plan: *mut pg_sys::ModifyTable,
    result_relation: pg_sys::Index,
    _subplan_index: std::ffi::c_int,
) -> *mut pg_sys::List {
    // SAFETY: the planner's own plan and range table.
    let (operation, on_conflict, table) = unsafe {
        let entry = *(*root).simple_rte_array.add(result_relation as usize);
        let name = pg_sys::get_rel_name((*entry).relid);
        (
            (*plan).operation,
            (*plan).onConflictAction,
            CStr::from_ptr(name).to_string_lossy().into_owned(),
        )
    };
    let (what, hint) = match operation {
        pg_sys::CmdType::CMD_UPDATE => (
            "UPDATE",
            "Write the point again: a point with the tags and time of a stored one replaces the fields it names.",
        ),
        pg_sys::CmdType::CMD_DELETE => (
            "DELETE",
            "TRUNCATE removes all rows of a measurement; deleting time ranges comes with retention.",
        ),
        _ if on_conflict != pg_sys::OnConflictAction::ONCONFLICT_NONE => (
            "INSERT ... ON CONFLICT",
            "A row with the tags and time of a stored one replaces the fields it names: no conflict is raised.",
        ),
        _ => return std::ptr::null_mut(),
    };
    report(
        PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
        &format!("measurement table \"{table}\" does not support {what}"),
        None,
        Some(hint),
    )
}

#[pg_guard]
pub unsafe extern "C-unwind" fn is_foreign_rel_updatable(
    _rel: pg_sys::Relation,
) -> std::ffi::c_int {
    1 << pg_sys::CmdType::CMD_INSERT
}

#[pg_guard]
pub unsafe extern "C-unwind" fn begin_foreign_modify(
    mtstate: *mut pg_sys::ModifyTableState,
    rinfo: *mut pg_sys::ResultRelInfo,
    _fdw_private: *mut pg_sys::List,
    _subplan_index: std::ffi::c_int,
    eflags: std::ffi::c_int,
) {
    if eflags & pg_sys::EXEC_FLAG_EXPLAIN_ONLY as i32 == 0 {
        // SAFETY: the executor's own states.
        unsafe { begin(mtstate, rinfo) };
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn begin_foreign_insert(
    mtstate: *mut pg_sys::ModifyTableState,
    rinfo: *mut pg_sys::ResultRelInfo,
) {
    // SAFETY: the executor's own states.
    unsafe { begin(mtstate, rinfo) };
}

unsafe fn begin(mtstate: *mut pg_sys::ModifyTableState, rinfo: *mut pg_sys::ResultRelInfo) {
    // SAFETY: an open result relation of a running statement.
    let (database, measurement, tupdesc, context) = unsafe {
        let relation = (*rinfo).ri_RelationDesc;
        let namespace = pg_sys::get_namespace_name((*(*relation).rd_rel).relnamespace);
        (
            CStr::from_ptr(namespace).to_string_lossy().into_owned(),
            CStr::from_ptr((*(*relation).rd_rel).relname.data.as_ptr())
                .to_string_lossy()
                .into_owned(),
            pgrx::PgTupleDesc::from_pg_unchecked((*relation).rd_att),
            (*(*mtstate).ps.state).es_query_cxt,
        )
    };
    let schema = match with_safe_search_path(|| measurements::find(&database, &measurement)) {
        Existing::Table { schema, .. } => schema,
        Existing::Unusable(reason) => report(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            &reason,
            None,
            Some("Measurement tables are created by writing line protocol to their database."),
        ),
        Existing::Missing => panic!("the result relation {database}.{measurement} exists"),
    };
    let mut targets = Vec::new();
    for (index, attribute) in tupdesc.iter().enumerate() {
        if attribute.attisdropped {
            continue;
        }
        let name = attribute.name();
        let target = match name {
            TIME_COLUMN => Target::Time,
            TIME_NS_COLUMN => Target::TimeNs,
            _ => match schema
                .columns()
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.kind)
            {
                Some(ColumnKind::Tag) => Target::Tag(name.to_owned()),
                Some(ColumnKind::Field(kind)) => Target::Field(name.to_owned(), kind),
                None => panic!("column {name} of a measurement table has no role"),
            },
        };
        targets.push((index, target));
    }
    // SAFETY: the result relation's trigger description, if it has triggers, and its
    // projections.
    let (after_row_triggers, after_statement_triggers) = unsafe {
        let triggers = (*rinfo).ri_TrigDesc;
        (
            !triggers.is_null() && (*triggers).trig_insert_after_row,
            !triggers.is_null() && (*triggers).trig_insert_after_statement,
        )
    };
    let state = InsertState {
        database,
        measurement,
        targets,
        batch: MeasurementBatch::default(),
        store_each_batch: after_row_triggers || after_statement_triggers,
        after_row_triggers,
    };
    // SAFETY: the state lives as long as the statement's memory.
    unsafe { (*rinfo).ri_FdwState = state::attach(context, state).cast() };
}

#[pg_guard]
pub unsafe extern "C-unwind" fn get_foreign_modify_batch_size(
    rinfo: *mut pg_sys::ResultRelInfo,
) -> std::ffi::c_int {
    // SAFETY: reads the result relation's settings. Batching would hold rows back from
    // RETURNING and WITH CHECK OPTION, which need them one at a time. AFTER ROW triggers
    // are queued for each row of a batch and fire when the statement ends, after the
    // batches are stored (`store_each_batch`).
    unsafe {
        let one_at_a_time =
            !(*rinfo).ri_projectReturning.is_null() || !(*rinfo).ri_WithCheckOptions.is_null();
        if one_at_a_time {
            1
        } else {
            INSERT_BATCH_SIZE
        }
    }
}

#[pg_guard]
pub unsafe extern "C-unwind" fn exec_foreign_insert(
    _estate: *mut pg_sys::EState,
    rinfo: *mut pg_sys::ResultRelInfo,
    slot: *mut pg_sys::TupleTableSlot,
    _plan_slot: *mut pg_sys::TupleTableSlot,
) -> *mut pg_sys::TupleTableSlot {
    // SAFETY: the state set in begin, and a slot of the relation's row type.
    unsafe {
        let state = state::get::<InsertState>((*rinfo).ri_FdwState).expect("insert begun");
        let read_back = reads_rows_back(state, rinfo);
        buffer(state, slot, read_back);
        if state.store_each_batch {
            flush(state);
        }
    }
    slot
}

#[pg_guard]
pub unsafe extern "C-unwind" fn exec_foreign_batch_insert(
    _estate: *mut pg_sys::EState,
    rinfo: *mut pg_sys::ResultRelInfo,
    slots: *mut *mut pg_sys::TupleTableSlot,
    _plan_slots: *mut *mut pg_sys::TupleTableSlot,
    count: *mut std::ffi::c_int,
) -> *mut *mut pg_sys::TupleTableSlot {
    // SAFETY: the state set in begin, and `count` slots of the relation's row type.
    unsafe {
        let state = state::get::<InsertState>((*rinfo).ri_FdwState).expect("insert begun");
        let read_back = reads_rows_back(state, rinfo);
        for i in 0..*count as usize {
            buffer(state, *slots.add(i), read_back);
        }
        if state.store_each_batch {
            flush(state);
        }
    }
    slots
}

#[pg_guard]
pub unsafe extern "C-unwind" fn end_foreign_modify(
    _estate: *mut pg_sys::EState,
    rinfo: *mut pg_sys::ResultRelInfo,
) {
    // SAFETY: the state set in begin, if the statement was run.
    if let Some(mut state) = unsafe { state::release::<InsertState>((*rinfo).ri_FdwState) } {
        flush(&mut state);
    }
}

/// Whether something reads each inserted row back: `AFTER ROW` triggers, `RETURNING` or
/// `WITH CHECK OPTION`. The last two may be set up after the insert began (an INSERT begins
/// before its projections are made), so they are asked for when rows come.
unsafe fn reads_rows_back(state: &InsertState, rinfo: *mut pg_sys::ResultRelInfo) -> bool {
    // SAFETY: the executor's result relation of the running insert.
    unsafe {
        state.after_row_triggers
            || !(*rinfo).ri_projectReturning.is_null()
            || !(*rinfo).ri_WithCheckOptions.is_null()
    }
}

/// Adds the row in `slot` to the buffer, storing the buffer when it is full. When the row
/// is `read_back` (by `RETURNING`, `AFTER ROW` triggers, `WITH CHECK OPTION`), the slot is
/// given the `time` and `time_ns` stored for it where the statement named only one.
unsafe fn buffer(state: &mut InsertState, slot: *mut pg_sys::TupleTableSlot, read_back: bool) {
    // SAFETY: as for `buffer_row`, and the slot is the executor's to be given a new tuple.
    unsafe {
        let time_ns = buffer_row(state, slot);
        if read_back {
            complete_times(state, slot, time_ns);
        }
    }
}

/// Adds the row in `slot` to the buffer and returns its time in nanoseconds.
unsafe fn buffer_row(state: &mut InsertState, slot: *mut pg_sys::TupleTableSlot) -> i64 {
    // SAFETY: a slot of the relation's row type; all its attributes are made readable.
    let (values, nulls) = unsafe {
        pg_sys::slot_getallattrs(slot);
        let natts = (*(*slot).tts_tupleDescriptor).natts as usize;
        (
            std::slice::from_raw_parts((*slot).tts_values, natts),
            std::slice::from_raw_parts((*slot).tts_isnull, natts),
        )
    };
    let mut time = None;
    let mut time_ns = None;
    let mut tags = Vec::new();
    let mut fields = Vec::new();
    for (index, target) in &state.targets {
        if nulls[*index] {
            continue;
        }
        let datum = values[*index];
        // SAFETY: each datum has the type of its column, which decided its target.
        unsafe {
            match target {
                Target::Time => time = i64::from_datum(datum, false),
                Target::TimeNs => time_ns = i64::from_datum(datum, false),
                Target::Tag(name) => tags.push((
                    Cow::Borrowed(name.as_str()),
                    Cow::Owned(String::from_datum(datum, false).expect("a tag value")),
                )),
                Target::Field(name, kind) => fields.push((
                    Cow::Borrowed(name.as_str()),
                    field_value(name, *kind, datum),
                )),
            }
        }
    }
    let point = row_point(&state.measurement, time, time_ns, tags, fields)
        .unwrap_or_else(|e| crate::errors::raise(&e));
    state.batch.push(&point);
    let time_ns = point.time_ns;
    if state.batch.rows() >= BUFFERED_ROWS {
        flush(state);
    }
    time_ns
}

/// Gives the row in `slot` the `time` and `time_ns` it is stored with, where it has NULL:
/// what reads the row back sees the stored row's times, as a heap table's reader would.
unsafe fn complete_times(state: &InsertState, slot: *mut pg_sys::TupleTableSlot, time_ns: i64) {
    // SAFETY: the slot's attributes were all made readable by `buffer_row`; the new tuple
    // is formed from copies of them before the slot lets go of its old one.
    unsafe {
        let natts = (*(*slot).tts_tupleDescriptor).natts as usize;
        let mut values = std::slice::from_raw_parts((*slot).tts_values, natts).to_vec();
        let mut nulls = std::slice::from_raw_parts((*slot).tts_isnull, natts).to_vec();
        let mut changed = false;
        for (index, target) in &state.targets {
            let value = match target {
                Target::Time => unix_nanos_to_postgres_micros(time_ns),
                Target::TimeNs => time_ns,
                Target::Tag(_) | Target::Field(..) => continue,
            };
            if nulls[*index] {
                values[*index] = pg_sys::Datum::from(value);
                nulls[*index] = false;
                changed = true;
            }
        }
        if changed {
            let tuple = pg_sys::heap_form_tuple(
                (*slot).tts_tupleDescriptor,
                values.as_mut_ptr(),
                nulls.as_mut_ptr(),
            );
            pg_sys::ExecForceStoreHeapTuple(tuple, slot, true);
        }
    }
}

unsafe fn field_value(name: &str, kind: FieldType, datum: pg_sys::Datum) -> FieldValue<'static> {
    // SAFETY: the caller passes a datum of the column's type, which `kind` follows.
    unsafe {
        match kind {
            FieldType::Float => FieldValue::Float(f64::from_datum(datum, false).expect("float8")),
            FieldType::Integer => FieldValue::Integer(i64::from_datum(datum, false).expect("int8")),
            FieldType::Boolean => {
                FieldValue::Boolean(bool::from_datum(datum, false).expect("bool"))
            }
            FieldType::String => {
                FieldValue::String(Cow::Owned(String::from_datum(datum, false).expect("text")))
            }
            FieldType::Unsigned => {
                // Through text: the numeric is a whole number (the column's scale is 0),
                // and parsing rejects negatives, which a cast to u64 would wrap.
                let number = AnyNumeric::from_datum(datum, false).expect("numeric");
                match number.to_string().parse::<u64>() {
                    Ok(value) => FieldValue::Unsigned(value),
                    Err(_) => report(
                        PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                        &format!("value {number} of unsigned field \"{name}\" is out of range"),
                        Some("Unsigned fields hold whole numbers from 0 to 18446744073709551615."),
                        None,
                    ),
                }
            }
        }
    }
}

/// Stores the buffered rows, next to or merged with the measurement's stored files.
fn flush(state: &mut InsertState) {
    if state.batch.is_empty() {
        return;
    }
    let batch = std::mem::take(&mut state.batch);
    with_safe_search_path(|| {
        lock_measurement(&state.database, &state.measurement);
        let existing = measurements::find(&state.database, &state.measurement);
        let Existing::Table { schema, .. } = &existing else {
            panic!(
                "{}.{} stopped being a measurement table during an insert",
                state.database, state.measurement
            );
        };
        // Encoded when stored, on the write threads.
        let days = encode(batch, schema, false).unwrap_or_else(|e| crate::errors::raise(&e));
        store::store(&state.database, &state.measurement, &existing, schema, days);
    });
}
