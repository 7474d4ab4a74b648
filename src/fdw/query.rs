//! Pushed-down queries in the backend: one DataFusion engine per backend running on its
//! thread, parameters computed by Postgres, results turned into datums, and the engine's
//! errors raised as Postgres errors here, at the boundary.

use std::cell::OnceCell;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{
    DataType, Decimal128Type, Decimal256Type, Int64Type, TimestampNanosecondType,
};
use pgrx::prelude::*;
use pgrx::{AnyNumeric, PgList, PgSqlErrorCode};
use tsparquet_core::query::expr::Value;
use tsparquet_core::query::request::QueryRequest;
use tsparquet_core::query::{
    whole_number_variance, Engine, Limits, Output, QueryError, QueryFiles, RunningQuery,
    SpillFiles, StoredFile,
};
use tsparquet_core::time::unix_nanos_to_postgres_micros;

use super::scan::{datum_reader, DatumReader, Pushed};
use crate::errors::{self, PgError};
use crate::settings::SMALL_FILE_CACHE_SIZE_KB;
use crate::write::parallel::block_signals_for_good;

thread_local! {
    static ENGINE: OnceCell<Engine> = const { OnceCell::new() };
}

/// Runs `f` with the backend's engine, started on first use.
pub fn with_engine<R>(f: impl FnOnce(&Engine) -> R) -> R {
    ENGINE.with(|cell| {
        let engine = cell.get_or_init(|| {
            // One partition: DataFusion runs on the backend's thread.
            Engine::new(1, should_stop, block_signals_for_good).unwrap_or_else(|e| {
                errors::report(
                    PgSqlErrorCode::ERRCODE_INSUFFICIENT_RESOURCES,
                    &format!("could not start the query engine: {e}"),
                    None,
                    None,
                )
            })
        });
        f(engine)
    })
}

/// This backend's `work_mem`, in kB.
pub fn work_mem_kb() -> i32 {
    // SAFETY: reads a GUC variable of this backend.
    unsafe { pg_sys::work_mem }
}

/// What a query planned under `planned_work_mem_kb` may use: the larger of that and the
/// `work_mem` now (what the planner let the engine hold fits in it),
/// `tsparquet.small_file_cache_size` for the small files the backend keeps decoded, and
/// spill files as Postgres' own temporary files, within `temp_file_limit`.
pub fn limits(planned_work_mem_kb: i32) -> Limits {
    // SAFETY: reads GUC variables of this backend.
    let (temp_file_limit_kb, pid) = unsafe { (pg_sys::temp_file_limit, pg_sys::MyProcPid) };
    let work_mem_kb = work_mem_kb().max(planned_work_mem_kb).max(64) as usize;
    Limits {
        memory_bytes: work_mem_kb * 1024,
        decoded_file_bytes: SMALL_FILE_CACHE_SIZE_KB.get().max(0) as usize * 1024,
        spill: Some(SpillFiles {
            directory: temporary_file_directory(),
            prefix: format!("pgsql_tmp{pid}.tsparquet."),
            limit_kb: u64::try_from(temp_file_limit_kb).ok(),
        }),
    }
}

/// The directory Postgres puts its next temporary file in: the next of
/// `temp_tablespaces` in turn, else the database's own tablespace (`base/pgsql_tmp` for
/// the default one), as `OpenTemporaryFile` chooses it.
fn temporary_file_directory() -> std::path::PathBuf {
    // SAFETY: within a transaction (a query starting); TempTablespacePath writes at most
    // MAXPGPATH bytes, NUL included.
    unsafe {
        pg_sys::PrepareTempTablespaces();
        let mut tablespace = pg_sys::GetNextTempTableSpace();
        if tablespace == pg_sys::InvalidOid {
            tablespace = pg_sys::MyDatabaseTableSpace;
        }
        let mut path = [0 as std::ffi::c_char; pg_sys::MAXPGPATH as usize];
        pg_sys::TempTablespacePath(path.as_mut_ptr(), tablespace);
        let data_directory = std::ffi::CStr::from_ptr(pg_sys::DataDir).to_string_lossy();
        let relative = std::ffi::CStr::from_ptr(path.as_ptr()).to_string_lossy();
        std::path::Path::new(data_directory.as_ref()).join(relative.as_ref())
    }
}

/// Whether a cancel, a statement timeout or a termination is pending and Postgres would
/// act on it now. Only reads flags the signal handlers set: safe while DataFusion runs.
fn should_stop() -> bool {
    // SAFETY: reads sig_atomic_t flags and counters of this backend.
    unsafe {
        let pending = std::ptr::read_volatile(&raw const pg_sys::InterruptPending) != 0;
        let cancel = std::ptr::read_volatile(&raw const pg_sys::QueryCancelPending) != 0;
        let die = std::ptr::read_volatile(&raw const pg_sys::ProcDiePending) != 0;
        pending
            && (die || cancel)
            && pg_sys::InterruptHoldoffCount == 0
            && pg_sys::QueryCancelHoldoffCount == 0
            && pg_sys::CritSectionCount == 0
    }
}

/// Starts a pushed-down query; a cancel while it starts raises Postgres' own error.
pub fn start(pushed: &Pushed, files: QueryFiles) -> RunningQuery {
    let limits = limits(pushed.work_mem_kb);
    with_engine(|engine| engine.start(&pushed.request, &pushed.params, files, &limits))
        .unwrap_or_else(|e| raise_start_error(e))
}

fn raise_start_error(e: QueryError) -> ! {
    if matches!(e, QueryError::Cancelled) {
        pg_sys::check_for_interrupts!();
    }
    errors::raise(&e)
}

/// Starts a pushed-down query over one row group of `file` (a part of a parallel scan).
pub fn start_row_group(
    request: &QueryRequest,
    params: &[Value],
    file: StoredFile,
    row_group: usize,
    planned_work_mem_kb: i32,
) -> RunningQuery {
    let limits = limits(planned_work_mem_kb);
    let started =
        with_engine(|engine| engine.start_row_group(request, params, file, row_group, &limits));
    started.unwrap_or_else(|e| raise_start_error(e))
}

/// The next batch of a running query. A pending cancel stops DataFusion and is then
/// raised by Postgres itself.
pub fn next_batch(query: &mut RunningQuery) -> Option<RecordBatch> {
    loop {
        match with_engine(|engine| query.next_batch(engine)) {
            Ok(batch) => return batch,
            Err(QueryError::Cancelled) => {
                pg_sys::check_for_interrupts!();
            }
            Err(e) => errors::raise(&e),
        }
    }
}

impl PgError for QueryError {
    fn sqlstate(&self) -> PgSqlErrorCode {
        match self {
            QueryError::Cancelled => PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
            QueryError::ResourcesExhausted(_) => PgSqlErrorCode::ERRCODE_OUT_OF_MEMORY,
            QueryError::Overflow | QueryError::Underflow | QueryError::BigintOutOfRange => {
                PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE
            }
            QueryError::DivisionByZero => PgSqlErrorCode::ERRCODE_DIVISION_BY_ZERO,
            QueryError::TemporaryFileLimit(_) => {
                PgSqlErrorCode::ERRCODE_CONFIGURATION_LIMIT_EXCEEDED
            }
            QueryError::LikeEndsInEscape => PgSqlErrorCode::ERRCODE_INVALID_ESCAPE_SEQUENCE,
            QueryError::Unsupported(_) => PgSqlErrorCode::ERRCODE_INTERNAL_ERROR,
            QueryError::Engine(_) => PgSqlErrorCode::ERRCODE_FDW_ERROR,
        }
    }

    fn hint(&self) -> Option<&str> {
        match self {
            QueryError::ResourcesExhausted(_) => Some(
                "Raise work_mem, or SET tsparquet.enable_pushdown = off to let PostgreSQL do the work.",
            ),
            _ => None,
        }
    }

    fn detail(&self) -> Option<&str> {
        match self {
            QueryError::ResourcesExhausted(engine_message) => Some(engine_message),
            _ => None,
        }
    }
}

/// The values of the query's parameters: its `fdw_exprs`, evaluated now.
pub unsafe fn param_values(
    node: *mut pg_sys::ForeignScanState,
    states: &[*mut pg_sys::ExprState],
    exprs: *mut pg_sys::List,
) -> Vec<Value> {
    // SAFETY: the plan's fdw_exprs and their initialised states, evaluated in the node's
    // per-tuple context.
    unsafe {
        let exprs = PgList::<pg_sys::Node>::from_pg(exprs);
        states
            .iter()
            .zip(exprs.iter_ptr())
            .map(|(state, expr)| {
                let mut is_null = false;
                let datum = pg_sys::ExecEvalExprSwitchContext(
                    *state,
                    (*node).ss.ps.ps_ExprContext,
                    &mut is_null,
                );
                value_of(datum, is_null, pg_sys::exprType(expr))
            })
            .collect()
    }
}

/// A parameter's value; the planner only makes parameters of these types.
unsafe fn value_of(datum: pg_sys::Datum, is_null: bool, type_oid: pg_sys::Oid) -> Value {
    if is_null {
        return Value::Null;
    }
    // SAFETY: the datum is a non-null value of `type_oid`.
    unsafe {
        let element_type = pg_sys::get_element_type(type_oid);
        if element_type != pg_sys::Oid::INVALID {
            return Value::Array(array_elements(datum, element_type));
        }
        match type_oid {
            pg_sys::INT8OID => Value::Integer(i64::from_datum(datum, false).unwrap_or_default()),
            pg_sys::INT4OID => {
                Value::Integer(i32::from_datum(datum, false).unwrap_or_default().into())
            }
            pg_sys::INT2OID => {
                Value::Integer(i16::from_datum(datum, false).unwrap_or_default().into())
            }
            pg_sys::FLOAT8OID => Value::Float(f64::from_datum(datum, false).unwrap_or_default()),
            pg_sys::FLOAT4OID => {
                Value::Float(f32::from_datum(datum, false).unwrap_or_default().into())
            }
            pg_sys::BOOLOID => Value::Boolean(bool::from_datum(datum, false).unwrap_or_default()),
            pg_sys::TEXTOID => Value::Text(String::from_datum(datum, false).unwrap_or_default()),
            pg_sys::TIMESTAMPTZOID => Value::Timestamp(datum.value() as i64),
            other => panic!("the planner made a parameter of unexpected type {other:?}"),
        }
    }
}

/// The elements of an array datum, each a value of `element_type`.
unsafe fn array_elements(datum: pg_sys::Datum, element_type: pg_sys::Oid) -> Vec<Value> {
    // SAFETY: the datum is a non-null array of `element_type`; its elements are read in
    // the current (per-tuple) memory context.
    unsafe {
        let array = pg_sys::pg_detoast_datum(datum.cast_mut_ptr()).cast::<pg_sys::ArrayType>();
        let (mut length, mut by_value, mut align) = (0i16, false, 0 as std::ffi::c_char);
        pg_sys::get_typlenbyvalalign(element_type, &mut length, &mut by_value, &mut align);
        let mut elements: *mut pg_sys::Datum = std::ptr::null_mut();
        let mut nulls: *mut bool = std::ptr::null_mut();
        let mut count = 0;
        pg_sys::deconstruct_array(
            array,
            element_type,
            length.into(),
            by_value,
            align,
            &mut elements,
            &mut nulls,
            &mut count,
        );
        (0..count as usize)
            .map(|i| value_of(*elements.add(i), *nulls.add(i), element_type))
            .collect()
    }
}

/// Readers of one result batch of a grouped query, one per output, each making a datum
/// of the Postgres type of its column.
pub fn group_readers(
    batch: &RecordBatch,
    outputs: &[Output],
    types: &[pg_sys::Oid],
    batch_memory: pg_sys::MemoryContext,
) -> Vec<DatumReader> {
    outputs
        .iter()
        .zip(types)
        .map(|(output, type_oid)| match *output {
            Output::Column(i) => value_reader(batch.column(i), *type_oid, batch_memory),
            Output::Average { sum, count } => {
                let sum = whole_number_reader(batch.column(sum));
                let count = batch.column(count).as_primitive::<Int64Type>().clone();
                Box::new(move |row| {
                    let n = count.value(row);
                    if n == 0 {
                        return None;
                    }
                    let total = numeric(sum(row)?);
                    // SAFETY: numeric_div of two numerics, into the current memory context.
                    unsafe {
                        pgrx::direct_function_call_as_datum(
                            pg_sys::numeric_div,
                            &[Some(total), Some(numeric(n.into()))],
                        )
                    }
                }) as DatumReader
            }
            Output::Variance {
                count,
                sum,
                squares,
                sample,
                stddev,
            } => {
                let sum = whole_number_reader(batch.column(sum));
                let count = batch.column(count).as_primitive::<Int64Type>().clone();
                let squares = batch
                    .column(squares)
                    .as_primitive::<Decimal256Type>()
                    .clone();
                Box::new(move |row| {
                    let text = whole_number_variance(
                        count.value(row),
                        sum(row).unwrap_or(0),
                        squares.value(row),
                        sample,
                        stddev,
                    )?;
                    let text = std::ffi::CString::new(text).expect("digits hold no NUL");
                    // SAFETY: numeric_in of digits, into the current memory context.
                    unsafe {
                        pgrx::direct_function_call_as_datum(
                            pg_sys::numeric_in,
                            &[
                                Some(pg_sys::Datum::from(text.as_ptr())),
                                Some(pg_sys::InvalidOid.into()),
                                Some((-1i32).into()),
                            ],
                        )
                    }
                }) as DatumReader
            }
        })
        .collect()
}

fn value_reader(
    column: &ArrayRef,
    type_oid: pg_sys::Oid,
    batch_memory: pg_sys::MemoryContext,
) -> DatumReader {
    match (column.data_type(), type_oid) {
        (DataType::Timestamp(..), _) => {
            let times = column.as_primitive::<TimestampNanosecondType>().clone();
            Box::new(move |row| {
                (!times.is_null(row))
                    .then(|| pg_sys::Datum::from(unix_nanos_to_postgres_micros(times.value(row))))
            })
        }
        (DataType::Int64 | DataType::Decimal128(..), pg_sys::NUMERICOID) => {
            let read = whole_number_reader(column);
            Box::new(move |row| read(row).map(numeric))
        }
        // `sum` of `integer` values (a CASE of integer constants) is a `bigint`, and `min`
        // and `max` of them are `integer`s: the engine holds them as bigints.
        (DataType::Decimal128(..), pg_sys::INT8OID) => {
            let read = whole_number_reader(column);
            Box::new(move |row| {
                let sum = i64::try_from(read(row)?).unwrap_or_else(|_| out_of_range("bigint"));
                Some(pg_sys::Datum::from(sum))
            })
        }
        (DataType::Int64, pg_sys::INT4OID) => {
            let read = whole_number_reader(column);
            Box::new(move |row| {
                let value = i32::try_from(read(row)?).unwrap_or_else(|_| out_of_range("integer"));
                Some(pg_sys::Datum::from(value))
            })
        }
        _ => datum_reader(column, batch_memory),
    }
}

/// Postgres' error for a result its type cannot hold.
fn out_of_range(type_name: &str) -> ! {
    errors::report(
        PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        &format!("{type_name} out of range"),
        None,
        None,
    )
}

/// Reads whole numbers (bigint or exact sums).
fn whole_number_reader(column: &ArrayRef) -> Box<dyn Fn(usize) -> Option<i128>> {
    match column.data_type() {
        DataType::Decimal128(_, 0) => {
            let values = column.as_primitive::<Decimal128Type>().clone();
            Box::new(move |row| (!values.is_null(row)).then(|| values.value(row)))
        }
        DataType::Int64 => {
            let values = column.as_primitive::<Int64Type>().clone();
            Box::new(move |row| (!values.is_null(row)).then(|| values.value(row).into()))
        }
        other => panic!("a whole-number result of type {other}"),
    }
}

/// A whole number as a numeric datum in the current memory context. Made by Postgres'
/// own conversion, without the copies in and out of Rust memory that `AnyNumeric` makes:
/// a result row of averages makes one per value.
fn numeric(value: i128) -> pg_sys::Datum {
    let made = match i64::try_from(value) {
        // SAFETY: int8_numeric of a bigint, into the current memory context.
        Ok(small) => unsafe {
            pgrx::direct_function_call_as_datum(pg_sys::int8_numeric, &[Some(small.into())])
        },
        Err(_) => AnyNumeric::from(value).into_datum(),
    };
    made.expect("a number converts to a numeric")
}
