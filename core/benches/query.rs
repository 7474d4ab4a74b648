//! Pushed-down queries over a day's compacted file. The fixed cost of a short one: one
//! host's maximum per minute over one hour (TSBS single-groupby-1-1-1; Postgres sorts the
//! 60 groups), as a backend's first query and as its later ones, which reuse the engine's
//! functions, parsed file footers and plans, with the same window or one that moves. And
//! the latest row per host (TSBS lastpoint) from the file's extreme rows, next to the same
//! query reading the file. And the average of every field per host and hour over the day
//! with float fields, as agents write CPU usage: the cost of the accumulator of `avg`; and
//! with floats of full precision, as agents compute them, that query and one host's hour.
//! And every column of the rows over a threshold (TSBS high-cpu-all).
//! `cargo bench -p tsparquet-core --bench query`.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use tsparquet_core::batch::MeasurementBatch;
use tsparquet_core::line_protocol::{parse, FieldType, ParseOptions, Precision};
use tsparquet_core::parquet_file;
use tsparquet_core::query::expr::{
    Aggregate, AggregateFunction, CompareOp, Expr, TruncUnit, Value,
};
use tsparquet_core::query::request::{QueryRequest, Shape};
use tsparquet_core::query::{
    Engine, FileInRanges, Limits, QueryFile, QueryFiles, StoredFile, WantedRange,
};
use tsparquet_core::schema::{ColumnKind, TableSchema};

mod tsbs;
use tsbs::{tsbs_cpu_lines, Fields};

/// One day of 100 hosts every 10 seconds.
const LINES: usize = 864_000;
const HOSTS: usize = 100;
const DAY_START_NS: i64 = 1_451_606_400_000_000_000;
const HOUR_NS: i64 = 3_600_000_000_000;

fn one_day_file() -> (TableSchema, StoredFile) {
    let (schema, mut files) = files_of(LINES, LINES);
    (schema, files.remove(0))
}

/// The first `lines` TSBS lines as files of `per_file` lines each, one table schema.
fn files_of(lines: usize, per_file: usize) -> (TableSchema, Vec<StoredFile>) {
    files_from(&tsbs_cpu_lines(lines, Fields::Integers), per_file)
}

/// `lines` as files of `per_file` lines each, one table schema.
fn files_from(lines: &str, per_file: usize) -> (TableSchema, Vec<StoredFile>) {
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    let points: Vec<_> = parse(lines, options)
        .map(|point| point.expect("TSBS lines parse"))
        .collect();
    let mut schema = TableSchema::default();
    for point in &points {
        schema.admit(point).expect("TSBS points fit one schema");
    }
    let files = points
        .chunks(per_file)
        .enumerate()
        .map(|(i, chunk)| {
            let mut batch = MeasurementBatch::default();
            for point in chunk {
                batch.push(point);
            }
            let mut days = batch.finish(&schema);
            assert_eq!(days.len(), 1, "the lines span one day");
            let bytes = parquet_file::write(&days.remove(0).batch).expect("encodes");
            StoredFile {
                name: format!("{i}.parquet"),
                bytes: Bytes::from(bytes),
            }
        })
        .collect();
    (schema, files)
}

/// The hour from `start_minute` of the day on.
fn one_host_hour(schema: &TableSchema, start_minute: i64) -> QueryRequest {
    let from = DAY_START_NS + start_minute * 60_000_000_000;
    QueryRequest {
        columns: schema.columns().to_vec(),
        filters: vec![
            Expr::compare(
                CompareOp::Equal,
                Expr::Column("hostname".into()),
                Expr::Value(Value::Text("host_9".into())),
            ),
            Expr::compare(
                CompareOp::GreaterOrEqual,
                Expr::TimeNs,
                Expr::Value(Value::Integer(from)),
            ),
            Expr::compare(
                CompareOp::Less,
                Expr::TimeNs,
                Expr::Value(Value::Integer(from + HOUR_NS)),
            ),
        ],
        shape: Shape::Groups {
            keys: vec![Expr::DateTrunc(TruncUnit::Minute, Box::new(Expr::Time))],
            aggregates: vec![Aggregate::new(
                AggregateFunction::Max,
                Some(Expr::Column("usage_user".into())),
            )],
        },
        having: Vec::new(),
        order: Vec::new(),
        limit: None,
    }
}

/// The latest value of every column per host, as `SELECT DISTINCT ON (hostname) * ...
/// ORDER BY hostname, time DESC` asks for it.
fn latest_per_host(schema: &TableSchema) -> QueryRequest {
    let latest = |argument| Aggregate::new(AggregateFunction::Last, Some(argument));
    QueryRequest {
        columns: schema.columns().to_vec(),
        filters: Vec::new(),
        shape: Shape::Groups {
            keys: vec![Expr::Column("hostname".into())],
            aggregates: std::iter::once(latest(Expr::Time))
                .chain(
                    schema
                        .columns()
                        .iter()
                        .map(|c| latest(Expr::Column(c.name.clone()))),
                )
                .collect(),
        },
        having: Vec::new(),
        order: Vec::new(),
        limit: None,
    }
}

/// The average of every field per host and hour, TSBS double-groupby-all's shape.
fn every_average_per_host_hour(schema: &TableSchema) -> QueryRequest {
    QueryRequest {
        columns: schema.columns().to_vec(),
        filters: Vec::new(),
        shape: Shape::Groups {
            keys: vec![
                Expr::Column("hostname".into()),
                Expr::DateTrunc(TruncUnit::Hour, Box::new(Expr::Time)),
            ],
            aggregates: schema
                .columns()
                .iter()
                .filter(|c| c.name.starts_with("usage_"))
                .map(|c| Aggregate::new(AggregateFunction::Avg, Some(Expr::Column(c.name.clone()))))
                .collect(),
        },
        having: Vec::new(),
        order: Vec::new(),
        limit: None,
    }
}

fn run(engine: &Engine, request: &QueryRequest, file: &StoredFile, expected: usize) -> usize {
    run_over(engine, request, vec![file.clone()], expected)
}

fn run_over(
    engine: &Engine,
    request: &QueryRequest,
    files: impl Into<QueryFiles>,
    expected: usize,
) -> usize {
    let rows = count_rows(engine, request, files);
    assert_eq!(rows, expected);
    rows
}

fn count_rows(engine: &Engine, request: &QueryRequest, files: impl Into<QueryFiles>) -> usize {
    let limits = Limits {
        memory_bytes: 4 << 20,
        decoded_file_bytes: 64 << 20,
        spill: None,
    };
    let mut query = engine.start(request, &[], files, &limits).expect("starts");
    let mut rows = 0;
    while let Some(batch) = query.next_batch(engine).expect("runs") {
        rows += batch.num_rows();
    }
    rows
}

/// `file` read in ranges, served from its bytes.
fn in_ranges(file: &StoredFile) -> QueryFiles {
    let bytes = file.bytes.clone();
    QueryFiles {
        files: vec![QueryFile::InRanges(FileInRanges {
            name: file.name.clone(),
            id: 0,
            size: bytes.len() as u64,
        })],
        read: Some(Box::new(move |wanted: &[WantedRange]| {
            wanted
                .iter()
                .map(|w| bytes.slice(w.range.start as usize..w.range.end as usize))
                .collect()
        })),
    }
}

fn bench_query(c: &mut Criterion) {
    let (schema, file) = one_day_file();
    let request = one_host_hour(&schema, 7 * 60);
    let mut group = c.benchmark_group("one_host_one_hour_by_minute");
    group.bench_function("first_query_of_an_engine", |b| {
        b.iter(|| {
            let engine = Engine::new(1, || false, || {}).expect("starts");
            black_box(run(&engine, &request, &file, 60))
        })
    });
    let engine = Engine::new(1, || false, || {}).expect("starts");
    group.bench_function("later_query", |b| {
        b.iter(|| black_box(run(&engine, &request, &file, 60)))
    });
    // As a dashboard asks it: the window moves a minute from one query to the next.
    let mut minute = 0;
    group.bench_function("later_query_moving_window", |b| {
        b.iter(|| {
            minute = (minute + 1) % (23 * 60);
            black_box(run(&engine, &one_host_hour(&schema, minute), &file, 60))
        })
    });
    group.finish();

    let latest = latest_per_host(&schema);
    let mut reading_the_file = latest.clone();
    // Not on tags: the engine cannot answer from the extreme rows, and reads the file.
    reading_the_file.filters.push(Expr::compare(
        CompareOp::GreaterOrEqual,
        Expr::TimeNs,
        Expr::Value(Value::Integer(i64::MIN)),
    ));
    // The file read in ranges, each served from memory as a backend's cache serves it:
    // what reading in ranges costs a query whose ranges are all at hand.
    // Over 12 hours (TSBS double-groupby-all), which the reader reads page by page.
    let mut group = c.benchmark_group("read_in_ranges_from_memory");
    let mut every_average = every_average_per_host_hour(&schema);
    every_average.filters = vec![
        Expr::compare(
            CompareOp::GreaterOrEqual,
            Expr::TimeNs,
            Expr::Value(Value::Integer(DAY_START_NS + 10 * HOUR_NS)),
        ),
        Expr::compare(
            CompareOp::Less,
            Expr::TimeNs,
            Expr::Value(Value::Integer(DAY_START_NS + 22 * HOUR_NS)),
        ),
    ];
    group.sample_size(20);
    group.bench_function("every_average_per_host_hour_whole", |b| {
        b.iter(|| {
            black_box(run_over(
                &engine,
                &every_average,
                vec![file.clone()],
                HOSTS * 12,
            ))
        })
    });
    group.bench_function("every_average_per_host_hour_in_ranges", |b| {
        b.iter(|| {
            black_box(run_over(
                &engine,
                &every_average,
                in_ranges(&file),
                HOSTS * 12,
            ))
        })
    });
    group.finish();

    // TSBS high-cpu-all: every column of the rows over a threshold in 12 hours, where a
    // host's walk stays above it for a while.
    let mut high_usage = every_average.clone();
    high_usage.shape = Shape::Rows {
        columns: schema.columns().iter().map(|c| c.name.clone()).collect(),
    };
    high_usage.filters.push(Expr::compare(
        CompareOp::Greater,
        Expr::Column("usage_user".into()),
        Expr::Value(Value::Integer(90)),
    ));
    let high_rows = count_rows(&engine, &high_usage, vec![file.clone()]);
    assert!(high_rows > 0);
    let mut group = c.benchmark_group("rows_over_a_threshold");
    group.sample_size(20);
    group.bench_function("every_column_over_12_hours", |b| {
        b.iter(|| {
            black_box(run_over(
                &engine,
                &high_usage,
                vec![file.clone()],
                high_rows,
            ))
        })
    });
    group.finish();

    let mut group = c.benchmark_group("latest_row_per_host");
    group.bench_function("from_extreme_rows", |b| {
        b.iter(|| black_box(run(&engine, &latest, &file, HOSTS)))
    });
    group.bench_function("reading_the_file", |b| {
        b.iter(|| black_box(run(&engine, &reading_the_file, &file, HOSTS)))
    });
    group.finish();

    // The first hour as an agent's writes leave it before and after merging: 36 files of
    // 100 seconds, or one. What each further file costs a short query.
    let hour = 360 * HOSTS;
    let (schema, small_files) = files_of(hour, hour / 36);
    let (_, one_file) = files_of(hour, hour);
    let request = one_host_hour(&schema, 0);
    let mut group = c.benchmark_group("one_host_one_hour_written_by_an_agent");
    group.bench_function("one_file", |b| {
        b.iter(|| black_box(run_over(&engine, &request, one_file.clone(), 60)))
    });
    group.bench_function("36_files", |b| {
        b.iter(|| black_box(run_over(&engine, &request, small_files.clone(), 60)))
    });
    group.finish();

    // The integers' `i` suffixes dropped and a fraction added: every field a float.
    let floats = tsbs_cpu_lines(LINES, Fields::Integers)
        .replace("i,", ".5,")
        .replace("i ", ".5 ");
    let (schema, files) = files_from(&floats, LINES);
    let request = every_average_per_host_hour(&schema);
    let float = ColumnKind::Field(FieldType::Float);
    let float_fields = schema.columns().iter().filter(|c| c.kind == float).count();
    assert_eq!(float_fields, 10, "every field a float");
    let mut group = c.benchmark_group("every_average_per_host_hour");
    group.sample_size(20);
    group.bench_function("float_fields", |b| {
        b.iter(|| black_box(run(&engine, &request, &files[0], HOSTS * 24)))
    });
    group.finish();

    // Floats as agents compute them: nearly every value differs.
    let (schema, files) = files_from(&tsbs_cpu_lines(LINES, Fields::FloatsOfFullPrecision), LINES);
    let mut group = c.benchmark_group("float_fields_of_full_precision");
    group.sample_size(20);
    let every_average = every_average_per_host_hour(&schema);
    group.bench_function("every_average_per_host_hour", |b| {
        b.iter(|| black_box(run(&engine, &every_average, &files[0], HOSTS * 24)))
    });
    let hour = one_host_hour(&schema, 7 * 60);
    group.bench_function("one_host_one_hour_by_minute", |b| {
        b.iter(|| black_box(run(&engine, &hour, &files[0], 60)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50);
    targets = bench_query
}
criterion_main!(benches);
