//! Pushed-down queries run by DataFusion over stored files, with Postgres' meaning.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::RecordBatch;
use arrow::util::display::array_value_to_string;
use bytes::Bytes;
use tsparquet_core::batch::MeasurementBatch;
use tsparquet_core::line_protocol::{parse, FieldValue, ParseOptions, Precision};
use tsparquet_core::parquet_file;
use tsparquet_core::query::expr::{
    Aggregate, AggregateFunction, BinOutput, CompareOp, Expr, TruncUnit, Value,
};
use tsparquet_core::query::request::{Limit, QueryRequest, Shape, SortKey};
use tsparquet_core::query::{
    Engine, FileInRanges, Limits, Output, QueryError, QueryFile, QueryFiles, StoredFile,
    WantedRange,
};
use tsparquet_core::schema::TableSchema;
use tsparquet_core::sql_row::row_point;
use tsparquet_core::time::unix_nanos_to_postgres_micros;

/// A stored file under a name no other file of the test run has: the engine keeps parsed
/// footers by name, as a backend does for its files.
fn stored(bytes: Vec<u8>) -> StoredFile {
    static FILES: AtomicUsize = AtomicUsize::new(0);
    StoredFile {
        name: format!("{}.parquet", FILES.fetch_add(1, Ordering::Relaxed)),
        bytes: Bytes::from(bytes),
    }
}

/// A table written by `writes` in turn, one file per day of each write.
fn table(writes: &[&str]) -> (TableSchema, Vec<StoredFile>) {
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    let mut schema = TableSchema::default();
    let mut files = Vec::new();
    for write in writes {
        let mut batch = MeasurementBatch::default();
        for point in parse(write, options) {
            let point = point.unwrap();
            schema.admit(&point).unwrap();
            batch.push(&point);
        }
        for day in batch.finish(&schema) {
            files.push(stored(parquet_file::write(&day.batch).unwrap()));
        }
    }
    (schema, files)
}

/// The files of one write of `v` floats, one row per value with tag `id` its position:
/// values line protocol cannot carry (NaN of either sign, infinities) as SQL rows give them.
fn float_table(values: &[f64]) -> (QueryRequest, Vec<StoredFile>) {
    let mut schema = TableSchema::default();
    let mut batch = MeasurementBatch::default();
    for (i, v) in values.iter().enumerate() {
        let point = row_point(
            "m",
            None,
            Some(i as i64),
            vec![("id".into(), i.to_string().into())],
            vec![("v".into(), FieldValue::Float(*v))],
        )
        .unwrap();
        schema.admit(&point).unwrap();
        batch.push(&point);
    }
    let files = batch
        .finish(&schema)
        .into_iter()
        .map(|day| stored(parquet_file::write(&day.batch).unwrap()))
        .collect();
    let request = QueryRequest {
        columns: schema.columns().to_vec(),
        filters: Vec::new(),
        shape: rows(&["id"]),
        having: Vec::new(),
        order: Vec::new(),
        limit: None,
    };
    (request, files)
}

/// A request over the table `writes` make, and that table's files.
fn request(writes: &[&str], filters: Vec<Expr>, shape: Shape) -> (QueryRequest, Vec<StoredFile>) {
    let (schema, files) = table(writes);
    let request = QueryRequest {
        columns: schema.columns().to_vec(),
        filters,
        shape,
        having: Vec::new(),
        order: Vec::new(),
        limit: None,
    };
    (request, files)
}

fn limits() -> Limits {
    Limits {
        memory_bytes: 64 << 20,
        decoded_file_bytes: 64 << 20,
        spill: None,
    }
}

/// Limits under which every file is read by the Parquet reader, none from memory: its
/// reads show in the plan and ask whether to stop.
fn limits_reading_each_file() -> Limits {
    Limits {
        decoded_file_bytes: 0,
        ..limits()
    }
}

fn engine() -> Engine {
    Engine::new(2, || false, || {}).unwrap()
}

fn run_with(
    writes: &[&str],
    filters: Vec<Expr>,
    shape: Shape,
    params: &[Value],
) -> Result<(Vec<Output>, Vec<Vec<String>>), QueryError> {
    let (request, files) = request(writes, filters, shape);
    let engine = engine();
    let mut query = engine.start(&request, params, files, &limits())?;
    let mut rows = Vec::new();
    while let Some(batch) = query.next_batch(&engine)? {
        rows.extend(strings(&batch));
    }
    rows.sort();
    Ok((query.outputs.clone(), rows))
}

fn run(writes: &[&str], filters: Vec<Expr>, shape: Shape) -> Vec<Vec<String>> {
    run_with(writes, filters, shape, &[]).unwrap().1
}

fn strings(batch: &RecordBatch) -> Vec<Vec<String>> {
    (0..batch.num_rows())
        .map(|row| {
            batch
                .columns()
                .iter()
                .map(|c| {
                    if c.is_null(row) {
                        "NULL".to_owned()
                    } else {
                        array_value_to_string(c, row).unwrap()
                    }
                })
                .collect()
        })
        .collect()
}

fn rows(columns: &[&str]) -> Shape {
    Shape::Rows {
        columns: columns.iter().map(|c| c.to_string()).collect(),
    }
}

fn column(name: &str) -> Expr {
    Expr::Column(name.into())
}

fn text(value: &str) -> Expr {
    Expr::Value(Value::Text(value.into()))
}

fn integer(value: i64) -> Expr {
    Expr::Value(Value::Integer(value))
}

fn at_micros_of(unix_nanos: i64) -> Expr {
    Expr::Value(Value::Timestamp(unix_nanos_to_postgres_micros(unix_nanos)))
}

fn times(result: Vec<Vec<String>>) -> Vec<String> {
    result.into_iter().map(|r| r[0].clone()).collect()
}

const HOSTS: &str =
    "cpu,host=a u=1i 1000000000\ncpu,host=b u=2i 2000000000\ncpu,host=c u=3i 3000000000";

#[test]
fn tag_equality_and_lists() {
    let equal = run(
        &[HOSTS],
        vec![Expr::compare(CompareOp::Equal, column("host"), text("b"))],
        rows(&["host", "u"]),
    );
    assert_eq!(equal, vec![vec!["1970-01-01T00:00:02Z", "b", "2"]]);
    let listed = run(
        &[HOSTS],
        vec![Expr::InList {
            expr: Box::new(column("host")),
            list: vec![text("a"), text("c"), Expr::Value(Value::Null)],
            negated: false,
        }],
        rows(&["host"]),
    );
    assert_eq!(
        listed.iter().map(|r| r[1].as_str()).collect::<Vec<_>>(),
        ["a", "c"]
    );
    // NOT IN with a NULL in the list is never true, as in Postgres.
    let not_in = run(
        &[HOSTS],
        vec![Expr::InList {
            expr: Box::new(column("host")),
            list: vec![text("a"), Expr::Value(Value::Null)],
            negated: true,
        }],
        rows(&["host"]),
    );
    assert!(not_in.is_empty());
}

#[test]
fn parameters_and_arrays_are_values_known_at_start() {
    let (_, result) = run_with(
        &[HOSTS],
        vec![
            Expr::InList {
                expr: Box::new(column("host")),
                list: vec![Expr::Param(0)],
                negated: false,
            },
            Expr::compare(CompareOp::Greater, column("u"), Expr::Param(1)),
        ],
        rows(&["host"]),
        &[
            Value::Array(vec![Value::Text("a".into()), Value::Text("c".into())]),
            Value::Integer(1),
        ],
    )
    .unwrap();
    assert_eq!(result.len(), 1);
    assert_eq!(result[0][1], "c");
}

#[test]
fn a_like_pattern_ending_in_its_escape_fails_where_postgres_matching_reaches_the_end() {
    let like = |hosts: &str, negated: bool| {
        run_with(
            &[hosts],
            vec![Expr::Like {
                expr: Box::new(column("host")),
                pattern: Box::new(Expr::Param(0)),
                negated,
            }],
            rows(&["host"]),
            &[Value::Text("x\\".into())],
        )
        .map(|(_, rows)| rows.into_iter().map(|r| r[1].clone()).collect::<Vec<_>>())
    };
    // No value starts with `x`: matching never reaches the escape.
    assert_eq!(
        like("m,host=ab u=1i 1\nm u=2i 2", false).unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(like("m,host=ab u=1i 1\nm u=2i 2", true).unwrap(), ["ab"]);
    // `x` alone ends the text first; `xb` reaches the escape.
    assert_eq!(
        like("m,host=x u=1i 1", false).unwrap(),
        Vec::<String>::new()
    );
    let reached = like("m,host=ab u=1i 1\nm,host=xb u=2i 2", true);
    assert!(
        matches!(reached, Err(QueryError::LikeEndsInEscape)),
        "{reached:?}"
    );
    // Read by the Parquet reader, whose row filter wraps the error in errors of its own.
    let filter = Expr::Like {
        expr: Box::new(column("host")),
        pattern: Box::new(Expr::Param(0)),
        negated: false,
    };
    let (request, files) = request(
        &["m,host=ab u=1i 1\nm,host=xb u=2i 2"],
        vec![filter],
        rows(&["host"]),
    );
    let engine = engine();
    let params = [Value::Text("x\\".into())];
    let reached = engine
        .start(&request, &params, files, &limits_reading_each_file())
        .and_then(|mut query| {
            while query.next_batch(&engine)?.is_some() {}
            Ok(())
        });
    assert!(
        matches!(reached, Err(QueryError::LikeEndsInEscape)),
        "{reached:?}"
    );
}

#[test]
fn time_compares_at_microsecond_precision() {
    // Three stored times: two in the microsecond 1 µs after 1970, one in the next.
    let points = "m f=1i 1000\nm f=2i 1999\nm f=3i 2000";
    let compare = |op| {
        times(run(
            &[points],
            vec![Expr::compare(op, Expr::Time, at_micros_of(1000))],
            rows(&["f"]),
        ))
    };
    // Sorted as text.
    let first_two = vec![
        "1970-01-01T00:00:00.000001999Z".to_owned(),
        "1970-01-01T00:00:00.000001Z".to_owned(),
    ];
    let last = vec!["1970-01-01T00:00:00.000002Z".to_owned()];
    assert_eq!(compare(CompareOp::Equal), first_two);
    assert_eq!(compare(CompareOp::LessOrEqual), first_two);
    assert_eq!(compare(CompareOp::Greater), last);
    assert_eq!(compare(CompareOp::GreaterOrEqual).len(), 3);
    assert!(compare(CompareOp::Less).is_empty());
    assert_eq!(compare(CompareOp::NotEqual), last);
    let exact = run(
        &[points],
        vec![Expr::compare(CompareOp::Equal, Expr::TimeNs, integer(1999))],
        rows(&["f"]),
    );
    assert_eq!(exact.len(), 1);
    assert_eq!(exact[0][1], "2");
}

#[test]
fn floats_compare_as_postgres_orders_them() {
    // Postgres: -0 = 0; every NaN equals every NaN and is above +Infinity.
    let values = [
        -f64::NAN,
        f64::NAN,
        -0.0,
        0.0,
        1.5,
        -1.5,
        f64::NEG_INFINITY,
        f64::INFINITY,
    ];
    let (mut request, files) = float_table(&values);
    let engine = engine();
    let mut ids = |filter: Expr, param: f64| {
        request.filters = vec![filter];
        let mut query = engine
            .start(&request, &[Value::Float(param)], files.clone(), &limits())
            .unwrap();
        let mut ids = Vec::new();
        while let Some(batch) = query.next_batch(&engine).unwrap() {
            ids.extend(
                strings(&batch)
                    .into_iter()
                    .map(|r| r[1].parse::<usize>().unwrap()),
            );
        }
        ids.sort();
        ids
    };
    let v = || column("v");
    let compare = |op| Expr::compare(op, v(), Expr::Param(0));
    assert_eq!(ids(compare(CompareOp::Equal), 0.0), [2, 3]);
    assert_eq!(ids(compare(CompareOp::Equal), -0.0), [2, 3]);
    assert_eq!(ids(compare(CompareOp::Greater), 0.0), [0, 1, 4, 7]);
    assert_eq!(
        ids(compare(CompareOp::GreaterOrEqual), -0.0),
        [0, 1, 2, 3, 4, 7]
    );
    assert_eq!(ids(compare(CompareOp::Less), 0.0), [5, 6]);
    assert_eq!(ids(compare(CompareOp::NotEqual), 0.0), [0, 1, 4, 5, 6, 7]);
    assert_eq!(ids(compare(CompareOp::Equal), f64::NAN), [0, 1]);
    assert_eq!(ids(compare(CompareOp::Equal), -f64::NAN), [0, 1]);
    assert_eq!(ids(compare(CompareOp::Less), f64::NAN), [2, 3, 4, 5, 6, 7]);
    assert_eq!(ids(compare(CompareOp::Greater), f64::INFINITY), [0, 1]);
    assert_eq!(ids(compare(CompareOp::Greater), 1.0), [0, 1, 4, 7]);
    let in_list = Expr::InList {
        expr: Box::new(v()),
        list: vec![Expr::Param(0), Expr::Value(Value::Float(-1.5))],
        negated: false,
    };
    assert_eq!(ids(in_list, f64::NAN), [0, 1, 5]);
    assert_eq!(
        ids(Expr::Not(Box::new(compare(CompareOp::LessOrEqual))), 0.0),
        [0, 1, 4, 7]
    );

    // min and max: NaN of either sign is the greatest value, -0 keeps its sign.
    request.filters = vec![];
    request.shape = groups(
        vec![],
        vec![
            (AggregateFunction::Min, Some(v())),
            (AggregateFunction::Max, Some(v())),
        ],
    );
    let extremes = |request: &QueryRequest, files: Vec<StoredFile>| {
        let mut query = engine.start(request, &[], files, &limits()).unwrap();
        let batch = query.next_batch(&engine).unwrap().unwrap();
        strings(&batch).remove(0)
    };
    assert_eq!(extremes(&request, files.clone()), ["-inf", "NaN"]);
    let (_, signed_zero) = float_table(&[-f64::NAN, -0.0, 2.0]);
    assert_eq!(extremes(&request, signed_zero), ["-0.0", "NaN"]);
    // The same per group (DataFusion aggregates groups by other code).
    let one_group = Expr::IsNull {
        expr: Box::new(column("id")),
        negated: false,
    };
    request.shape = groups(
        vec![one_group],
        vec![
            (AggregateFunction::Min, Some(v())),
            (AggregateFunction::Max, Some(v())),
        ],
    );
    assert_eq!(extremes(&request, files), ["false", "-inf", "NaN"]);
    let (_, infinities) = float_table(&[f64::INFINITY, f64::NEG_INFINITY]);
    assert_eq!(extremes(&request, infinities), ["false", "-inf", "inf"]);
    let (_, only_negative_infinity) = float_table(&[f64::NEG_INFINITY]);
    assert_eq!(
        extremes(&request, only_negative_infinity),
        ["false", "-inf", "-inf"]
    );
}

#[test]
fn float_sums_that_overflow_from_finite_values_raise_postgres_error() {
    let summed = |values: &[f64], function: AggregateFunction| {
        let (mut request, files) = float_table(values);
        request.shape = groups(vec![], vec![(function, Some(column("v")))]);
        let engine = engine();
        let mut query = engine.start(&request, &[], files, &limits())?;
        let batch = query.next_batch(&engine)?.unwrap();
        Ok::<_, QueryError>(strings(&batch).remove(0).remove(0))
    };
    for function in [AggregateFunction::Sum, AggregateFunction::Avg] {
        let overflow = summed(&[1e308, 1e308], function);
        assert!(
            matches!(overflow, Err(QueryError::Overflow)),
            "{function:?}: {overflow:?}"
        );
        // Postgres adds row by row: the overflow raises before a later infinity.
        let overflow = summed(&[1e308, 1e308, f64::NEG_INFINITY], function);
        assert!(matches!(overflow, Err(QueryError::Overflow)));
        assert_eq!(summed(&[1e308, f64::INFINITY], function).unwrap(), "inf");
        assert_eq!(summed(&[f64::NAN, 1e308, 1e308], function).unwrap(), "NaN");
    }
    assert_eq!(
        summed(&[1e308, -1e308], AggregateFunction::Sum).unwrap(),
        "0.0"
    );
    // `avg` also keeps Postgres' spread of the values, whose square overflows here...
    let spread = summed(&[1e308, -1e308], AggregateFunction::Avg);
    assert!(matches!(spread, Err(QueryError::Overflow)), "{spread:?}");
    // ...and not for equal values however large.
    assert_eq!(
        summed(&[1e300, 1e300, 1e300], AggregateFunction::Avg).unwrap(),
        "1e300"
    );
    assert_eq!(
        QueryError::Overflow.to_string(),
        "value out of range: overflow"
    );
}

/// The results of `request` in the order the engine gives them.
fn ordered(request: &QueryRequest, files: Vec<StoredFile>) -> Vec<Vec<String>> {
    let engine = engine();
    let mut query = engine.start(request, &[], files, &limits()).unwrap();
    let mut rows = Vec::new();
    while let Some(batch) = query.next_batch(&engine).unwrap() {
        rows.extend(strings(&batch));
    }
    rows
}

/// A sort key as Postgres sorts `time` (to the microsecond) or a result of another type.
fn sort_key(output: usize, descending: bool, nulls_first: bool) -> SortKey {
    SortKey {
        output,
        descending,
        nulls_first,
        microseconds: true,
    }
}

#[test]
fn order_and_limit_follow_postgres() {
    // Floats sort NaN (of either sign) last ascending, -0 and 0 together.
    let values = [2.0, -f64::NAN, -0.0, f64::NEG_INFINITY, f64::NAN, 1.0];
    let (mut floats, files) = float_table(&values);
    floats.shape = rows(&["v"]);
    floats.order = vec![sort_key(1, false, false)];
    let v = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[1].clone()).collect::<Vec<_>>();
    let ascending = v(ordered(&floats, files.clone()));
    assert_eq!(&ascending[..2], ["-inf", "-0.0"].map(String::from));
    assert_eq!(&ascending[2..4], ["1.0", "2.0"].map(String::from));
    assert_eq!(&ascending[4..], ["NaN", "NaN"].map(String::from));
    floats.order = vec![sort_key(1, true, false)];
    floats.limit = Some(Limit {
        offset: 2,
        count: Some(2),
    });
    assert_eq!(v(ordered(&floats, files)), ["2.0", "1.0"]);

    // Groups ordered by an aggregate, then by key; NULL keys placed as asked.
    let (mut request, files) = request(
        &["m,host=a u=5i 1\nm,host=b u=7i 2\nm,host=c u=5i 3\nm u=6i 4\nm,host=a u=1i 5"],
        vec![],
        groups(
            vec![column("host")],
            vec![(AggregateFunction::Max, Some(column("u")))],
        ),
    );
    request.order = vec![sort_key(1, true, false), sort_key(0, false, true)];
    assert_eq!(
        ordered(&request, files.clone()),
        [["b", "7"], ["NULL", "6"], ["a", "5"], ["c", "5"]].map(|r| r.map(String::from).to_vec())
    );
    request.order = vec![sort_key(0, true, true)];
    request.limit = Some(Limit {
        offset: 0,
        count: Some(2),
    });
    assert_eq!(
        ordered(&request, files.clone()),
        [["NULL", "6"], ["c", "5"]].map(|r| r.map(String::from).to_vec())
    );
    // The average of integers is divided by Postgres: it is not ordered by.
    request.shape = groups(
        vec![column("host")],
        vec![(AggregateFunction::Avg, Some(column("u")))],
    );
    request.order = vec![sort_key(1, false, false)];
    let engine = engine();
    assert!(matches!(
        engine.start(&request, &[], files, &limits()),
        Err(QueryError::Unsupported(_))
    ));
}

#[test]
fn times_in_one_microsecond_tie_in_an_order_by_time_then_another_key_but_not_by_time_ns() {
    // Postgres sees one time in each pair (microseconds; before 1970 too), so v decides.
    let (mut request, files) = request(
        &[
            "m,h=a v=2i 1700000000000000000\nm,h=b v=1i 1700000000000000500\n\
           m,h=c v=4i -1000000000000000001\nm,h=d v=3i -1000000000000000999",
        ],
        vec![],
        rows(&["h", "v"]),
    );
    request.order = vec![sort_key(0, false, false), sort_key(2, false, false)];
    let hosts = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[1].clone()).collect::<Vec<_>>();
    assert_eq!(
        hosts(ordered(&request, files.clone())),
        ["d", "c", "b", "a"]
    );
    request.order = vec![sort_key(0, true, false), sort_key(2, true, false)];
    request.limit = Some(Limit {
        offset: 0,
        count: Some(1),
    });
    assert_eq!(hosts(ordered(&request, files.clone())), ["a"]);
    // `time_ns`, the same stored times, orders them to the nanosecond.
    let time_ns = |descending| SortKey {
        microseconds: false,
        ..sort_key(0, descending, false)
    };
    request.limit = None;
    request.order = vec![time_ns(false), sort_key(2, false, false)];
    assert_eq!(
        hosts(ordered(&request, files.clone())),
        ["d", "c", "a", "b"]
    );
    request.order = vec![time_ns(true), sort_key(2, false, false)];
    assert_eq!(hosts(ordered(&request, files)), ["b", "a", "c", "d"]);
}

#[test]
fn having_filters_the_groups() {
    let (mut request, files) = request(
        &["m,host=a u=5i,f=0.5 1\nm,host=b u=7i,f=-0.0 2\nm,host=c u=5i,f=1 3\nm u=6i 4"],
        vec![],
        groups(
            vec![column("host")],
            vec![
                (AggregateFunction::Max, Some(column("u"))),
                (AggregateFunction::Min, Some(column("f"))),
                (AggregateFunction::Avg, Some(column("u"))),
            ],
        ),
    );
    let output = |n| Box::new(Expr::Output(n));
    request.having = vec![Expr::compare(
        CompareOp::Greater,
        Expr::Output(1),
        integer(5),
    )];
    request.order = vec![sort_key(0, false, false)];
    let hosts = |rows: Vec<Vec<String>>| rows.into_iter().map(|r| r[0].clone()).collect::<Vec<_>>();
    assert_eq!(hosts(ordered(&request, files.clone())), ["b", "NULL"]);
    // Floats in Postgres' order: -0 = 0; a NULL minimum is not >= anything.
    request.having = vec![Expr::compare(
        CompareOp::GreaterOrEqual,
        Expr::Output(2),
        Expr::Value(Value::Float(0.0)),
    )];
    assert_eq!(hosts(ordered(&request, files.clone())), ["a", "b", "c"]);
    request.having = vec![Expr::Or(vec![
        Expr::compare(CompareOp::Equal, Expr::Output(0), text("c")),
        Expr::IsNull {
            expr: output(2),
            negated: false,
        },
    ])];
    assert_eq!(hosts(ordered(&request, files.clone())), ["c", "NULL"]);
    // The average of integers is Postgres' to compute: the engine refuses to filter by it.
    request.having = vec![Expr::compare(
        CompareOp::Greater,
        Expr::Output(3),
        integer(5),
    )];
    assert!(!request.is_engine_result(3));
    assert!(matches!(
        engine().start(&request, &[], files, &limits()),
        Err(QueryError::Unsupported(_))
    ));
}

#[test]
fn first_and_last_take_the_values_at_the_extreme_times() {
    // Written out of time order and in two files; b's latest point lacks u.
    let result = run(
        &[
            "m,host=a u=2i 20\nm,host=b u=5i 10\nm,host=a u=1i 10",
            "m,host=a u=3i 30\nm,host=b v=1i 40\nm,host=a u=0i 5",
        ],
        vec![],
        groups(
            vec![column("host")],
            vec![
                (AggregateFunction::First, Some(column("u"))),
                (AggregateFunction::Last, Some(column("u"))),
                (AggregateFunction::Last, Some(column("host"))),
            ],
        ),
    );
    assert_eq!(result, [["a", "0", "3", "a"], ["b", "5", "NULL", "b"]]);

    // Only latest values: the query first finds each group's latest time and reads from
    // the earliest of those on; groups whose latest point is old keep it.
    let writes = [
        "m,host=a u=1i 10\nm,host=b u=5i 10\nm,host=c u=7i 12",
        "m,host=a u=2i 20\nm,host=c u=8i 15\nm,host=b v=1i 40",
        "m,host=a u=3i 30",
    ];
    let latest = |function| {
        run(
            &writes,
            vec![Expr::compare(CompareOp::Less, Expr::TimeNs, integer(35))],
            groups(
                vec![column("host")],
                vec![
                    (function, Some(column("u"))),
                    (function, Some(Expr::TimeNs)),
                ],
            ),
        )
    };
    assert_eq!(
        latest(AggregateFunction::Last),
        [["a", "3", "30"], ["b", "5", "10"], ["c", "8", "15"]]
    );
    assert_eq!(
        latest(AggregateFunction::First),
        [["a", "1", "10"], ["b", "5", "10"], ["c", "7", "12"]]
    );
}

/// The last value of each of `columns` per `dc` (what a `DISTINCT ON (dc)` asks for) over
/// `writes`, one group, which must be the values of one of the `stored` rows.
fn assert_latest_is_a_stored_row(writes: &[&str], columns: &[&str], stored: &[&[&str]]) {
    let latest = columns
        .iter()
        .map(|&c| {
            let argument = if c == "time_ns" {
                Expr::TimeNs
            } else {
                column(c)
            };
            (AggregateFunction::Last, Some(argument))
        })
        .collect();
    let result = run(writes, vec![], groups(vec![column("dc")], latest));
    assert_eq!(result.len(), 1);
    assert!(
        stored.iter().any(|row| result[0] == *row),
        "{result:?} is no stored row"
    );
}

#[test]
fn latest_values_of_rows_tied_on_time_come_from_one_row() {
    // Three hosts of one dc at the same latest time, in two files, one of them lacking a
    // field: the last value of each column (a DISTINCT ON dc) must be one row's values.
    assert_latest_is_a_stored_row(
        &[
            "m,host=a,dc=x u=4i,v=40i 20\nm,host=b,dc=x u=5i 20\nm,host=a,dc=x u=1i,v=10i 10",
            "m,host=c,dc=x u=6i,v=6i 20\nm,host=c,dc=x u=3i,v=30i 10",
        ],
        &["host", "u", "v", "time_ns"],
        &[
            &["x", "a", "4", "40", "20"],
            &["x", "b", "5", "NULL", "20"],
            &["x", "c", "6", "6", "20"],
        ],
    );
}

#[test]
fn latest_numbers_and_booleans_of_rows_tied_on_time_come_from_one_row() {
    // No text argument: each tied row lacks one of the values.
    assert_latest_is_a_stored_row(
        &["m,host=a,dc=x i=1i,b=true 20\nm,host=b,dc=x f=2,b=false 20\nm,host=c,dc=x i=3i,f=3 20"],
        &["i", "f", "b"],
        &[
            &["x", "1", "NULL", "true"],
            &["x", "NULL", "2.0", "false"],
            &["x", "3", "3.0", "NULL"],
        ],
    );
}

/// Writes where each series has enough rows for its files to keep their extreme rows:
/// written out of time order, over two files, with a series whose latest point lacks a
/// field, one without the tag, and one whose latest point is in the older file.
fn series_with_many_rows() -> Vec<String> {
    let point = |host: &str, region: &str, u: i64, t: i64| {
        let tags = if host.is_empty() {
            String::new()
        } else {
            format!(",host={host}")
        };
        format!("m{tags},region={region} u={u}i,v={}.5 {t}\n", u % 7)
    };
    let mut first = String::new();
    let mut second = String::new();
    for t in (0..1024i64).rev() {
        first.push_str(&point("a", "eu", t, t * 10));
        first.push_str(&point("b", "us", 2 * t, t * 10 + 3));
        first.push_str(&point("c", "us", 3 * t, t * 10 + 5));
        first.push_str(&point("", "eu", 4 * t, t * 10 + 7));
        second.push_str(&point("a", "eu", t + 10000, 50000 + t * 10));
        second.push_str(&point("b", "eu", t + 20000, 50000 + t * 10));
        second.push_str(&point("", "us", t + 30000, 40000 - t * 10));
    }
    // b's latest point (in region eu) has v only.
    second.push_str("m,host=b,region=eu v=9.5 90000\n");
    vec![first, second]
}

/// The latest (earliest) values per group, from the files' extreme rows and, for
/// comparison, from all rows (a filter that every row passes but that is not on tags
/// makes the engine read the files).
fn per_group_both_ways(
    writes: &[String],
    filters: Vec<Expr>,
    shape: Shape,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let writes: Vec<&str> = writes.iter().map(String::as_str).collect();
    let (request, files) = request(&writes, filters, shape);
    for file in &files {
        assert!(
            tsparquet_core::extreme_rows::read(&file.bytes)
                .unwrap()
                .is_some(),
            "every file keeps its extreme rows"
        );
    }
    let engine = engine();
    let results = |request: &QueryRequest| {
        let mut query = engine
            .start(request, &[], files.clone(), &limits_reading_each_file())
            .unwrap();
        let plan = query.executed_plan();
        let mut rows = drain(&mut query, &engine);
        rows.sort();
        (rows, plan)
    };
    let (extremes, plan) = results(&request);
    assert!(!plan.contains(".parquet"), "reads no file: {plan}");
    let mut everything = request.clone();
    everything.filters.push(Expr::compare(
        CompareOp::GreaterOrEqual,
        Expr::TimeNs,
        integer(i64::MIN),
    ));
    let (all_rows, plan) = results(&everything);
    assert!(plan.contains(".parquet"), "reads the files: {plan}");
    (extremes, all_rows)
}

#[test]
fn latest_and_earliest_values_per_group_come_from_the_files_extreme_rows() {
    let writes = series_with_many_rows();
    for function in [AggregateFunction::Last, AggregateFunction::First] {
        let every_column = |keys: Vec<Expr>| {
            groups(
                keys,
                ["u", "v", "host", "region"]
                    .into_iter()
                    .map(|c| (function, Some(column(c))))
                    .chain([(function, Some(Expr::TimeNs)), (function, Some(Expr::Time))])
                    .collect(),
            )
        };
        for keys in [vec![column("host")], vec![column("region")], vec![]] {
            let (extremes, all_rows) =
                per_group_both_ways(&writes, vec![], every_column(keys.clone()));
            assert_eq!(extremes, all_rows, "{function:?} by {keys:?}");
        }
        let on_tags = vec![Expr::Or(vec![
            Expr::compare(CompareOp::NotEqual, column("host"), text("b")),
            Expr::IsNull {
                expr: Box::new(column("host")),
                negated: false,
            },
        ])];
        let (extremes, all_rows) =
            per_group_both_ways(&writes, on_tags, every_column(vec![column("region")]));
        assert_eq!(extremes, all_rows, "{function:?} with a filter on tags");
    }
    let (latest, _) = per_group_both_ways(
        &writes,
        vec![],
        groups(
            vec![column("host")],
            vec![
                (AggregateFunction::Last, Some(column("u"))),
                (AggregateFunction::Last, Some(Expr::TimeNs)),
            ],
        ),
    );
    assert_eq!(
        latest,
        [
            ["NULL", "30000", "40000"],
            ["a", "11023", "60230"],
            ["b", "NULL", "90000"],
            ["c", "3069", "10235"]
        ]
    );
}

#[test]
fn a_filtered_latest_time_comes_from_the_rows_meeting_the_filter() {
    // Each series' latest rows fail the filter: its latest time is of an earlier row.
    let writes = series_with_many_rows();
    let writes: Vec<&str> = writes.iter().map(String::as_str).collect();
    let mut latest = Aggregate::new(AggregateFunction::Max, Some(Expr::TimeNs));
    latest.filter = Some(Expr::compare(CompareOp::Less, column("u"), integer(100)));
    let shape = Shape::Groups {
        keys: vec![column("host")],
        aggregates: vec![latest],
    };
    let (request, files) = request(&writes, vec![], shape);
    let engine = engine();
    let mut query = engine
        .start(&request, &[], files, &limits_reading_each_file())
        .unwrap();
    assert!(
        query.executed_plan().contains(".parquet"),
        "reads the files"
    );
    let mut rows = drain(&mut query, &engine);
    rows.sort();
    assert_eq!(
        rows,
        [["NULL", "247"], ["a", "990"], ["b", "493"], ["c", "335"]]
    );
}

#[test]
fn the_latest_and_earliest_time_per_group_come_from_the_files_extreme_rows() {
    let writes = series_with_many_rows();
    for (bound, extreme) in [
        (AggregateFunction::Max, AggregateFunction::Last),
        (AggregateFunction::Min, AggregateFunction::First),
    ] {
        let shape = groups(
            vec![column("region")],
            vec![
                (bound, Some(Expr::Time)),
                (bound, Some(Expr::TimeNs)),
                (extreme, Some(column("u"))),
            ],
        );
        let (extremes, all_rows) = per_group_both_ways(&writes, vec![], shape);
        assert_eq!(extremes, all_rows, "{bound:?}(time) by region");
        assert_eq!(extremes.len(), 2, "eu and us: {extremes:?}");
    }
    let (latest, _) = per_group_both_ways(
        &writes,
        vec![],
        groups(
            vec![column("host")],
            vec![(AggregateFunction::Max, Some(Expr::TimeNs))],
        ),
    );
    assert_eq!(
        latest,
        [
            ["NULL", "40000"],
            ["a", "60230"],
            ["b", "90000"],
            ["c", "10235"]
        ]
    );
}

#[test]
fn groups_and_their_tag_values_and_time_ranges_come_from_the_files_extreme_rows() {
    let writes = series_with_many_rows();
    let time_range = [
        (AggregateFunction::Min, Some(Expr::Time)),
        (AggregateFunction::Max, Some(Expr::TimeNs)),
    ];
    // The engine takes no first or last value beside a count of distinct values.
    let values = [
        time_range.to_vec(),
        vec![
            (AggregateFunction::First, Some(column("u"))),
            (AggregateFunction::Last, Some(column("v"))),
        ],
    ]
    .concat();
    let tag_values = [
        time_range.to_vec(),
        vec![
            (AggregateFunction::CountDistinct, Some(column("host"))),
            (AggregateFunction::Min, Some(column("host"))),
            (AggregateFunction::Max, Some(column("host"))),
        ],
    ]
    .concat();
    let on_tags = vec![Expr::compare(
        CompareOp::NotEqual,
        column("host"),
        text("c"),
    )];
    for (keys, aggregates, filters) in [
        (vec![column("host")], vec![], vec![]),
        (vec![column("region"), column("host")], vec![], vec![]),
        (vec![column("region")], vec![], on_tags.clone()),
        (vec![column("region")], values.clone(), vec![]),
        (vec![], values.clone(), vec![]),
        (vec![column("region")], values, on_tags.clone()),
        (vec![column("region")], tag_values.clone(), vec![]),
        (vec![], tag_values.clone(), vec![]),
        (vec![column("region")], tag_values, on_tags),
    ] {
        let shape = groups(keys.clone(), aggregates.clone());
        let (extremes, all_rows) = per_group_both_ways(&writes, filters.clone(), shape);
        assert_eq!(
            extremes, all_rows,
            "{aggregates:?} by {keys:?} where {filters:?}"
        );
    }
    // No row has host 'zz': no distinct value, whatever the statistics of a filter on it.
    let (nobody, _) = per_group_both_ways(
        &writes,
        vec![Expr::compare(CompareOp::Equal, column("host"), text("zz"))],
        groups(
            vec![],
            vec![(AggregateFunction::CountDistinct, Some(column("host")))],
        ),
    );
    assert_eq!(nobody, [["0"]]);
    let (series, _) = per_group_both_ways(
        &writes,
        vec![],
        groups(vec![column("region"), column("host")], vec![]),
    );
    assert_eq!(
        series,
        [
            ["eu", "NULL"],
            ["eu", "a"],
            ["eu", "b"],
            ["us", "NULL"],
            ["us", "b"],
            ["us", "c"]
        ]
    );
}

#[test]
fn aggregates_of_other_rows_than_the_extreme_ones_read_the_files() {
    let writes = series_with_many_rows();
    let writes: Vec<&str> = writes.iter().map(String::as_str).collect();
    for aggregate in [
        (AggregateFunction::CountRows, None),
        (AggregateFunction::Count, Some(column("host"))),
        (AggregateFunction::Min, Some(column("u"))),
        (AggregateFunction::CountDistinct, Some(column("v"))),
    ] {
        let (request, files) = request(
            &writes,
            vec![],
            groups(vec![column("host")], vec![aggregate.clone()]),
        );
        let engine = engine();
        let mut query = engine
            .start(&request, &[], files, &limits_reading_each_file())
            .unwrap();
        let plan = query.executed_plan();
        drain(&mut query, &engine);
        assert!(
            plan.contains(".parquet"),
            "{aggregate:?} reads the files: {plan}"
        );
    }
}

#[test]
fn a_comparison_with_null_matches_nothing_even_negated() {
    for filter in [
        Expr::compare(CompareOp::Equal, column("host"), Expr::Value(Value::Null)),
        Expr::Not(Box::new(Expr::compare(
            CompareOp::Less,
            Expr::Time,
            Expr::Value(Value::Null),
        ))),
    ] {
        assert!(run(&[HOSTS], vec![filter], rows(&["host"])).is_empty());
    }
}

#[test]
fn like_and_boolean_logic() {
    let filter = Expr::Or(vec![
        Expr::Like {
            expr: Box::new(column("host")),
            pattern: Box::new(text("a%")),
            negated: false,
        },
        Expr::And(vec![
            Expr::IsNull {
                expr: Box::new(column("host")),
                negated: true,
            },
            Expr::compare(CompareOp::GreaterOrEqual, column("u"), integer(3)),
        ]),
    ]);
    let result = run(&[HOSTS], vec![filter], rows(&["host"]));
    assert_eq!(
        result.iter().map(|r| r[1].as_str()).collect::<Vec<_>>(),
        ["a", "c"]
    );
}

#[test]
fn columns_written_later_read_as_null_in_older_files() {
    let result = run(
        &["m,host=a f=1i 1", "m,host=a f=2i,g=true 2"],
        vec![],
        rows(&["f", "g"]),
    );
    assert_eq!(result[0][2], "NULL");
    assert_eq!(result[1][2], "true");
}

fn groups(keys: Vec<Expr>, aggregates: Vec<(AggregateFunction, Option<Expr>)>) -> Shape {
    Shape::Groups {
        keys,
        aggregates: aggregates
            .into_iter()
            .map(|(function, argument)| Aggregate::new(function, argument))
            .collect(),
    }
}

#[test]
fn aggregates_per_minute_and_tag() {
    let minute = 60_000_000_000i64;
    let lines = [
        format!("cpu,host=a u=1i,f=0.5 {}", 0),
        format!("cpu,host=a u=9223372036854775807i,f=1.5 {}", minute - 1),
        format!("cpu,host=a u=4i {}", minute),
        format!("cpu,host=b u=7i,f=2.0 {}", 1),
    ]
    .join("\n");
    let shape = groups(
        vec![
            Expr::DateTrunc(TruncUnit::Minute, Box::new(Expr::Time)),
            column("host"),
        ],
        vec![
            (AggregateFunction::CountRows, None),
            (AggregateFunction::Count, Some(column("f"))),
            (AggregateFunction::Sum, Some(column("u"))),
            (AggregateFunction::Avg, Some(column("u"))),
            (AggregateFunction::Avg, Some(column("f"))),
            (AggregateFunction::Max, Some(column("u"))),
            (AggregateFunction::Min, Some(Expr::Time)),
        ],
    );
    let (outputs, result) = run_with(&[&lines], vec![], shape, &[]).unwrap();
    // `avg(u)` is computed from the sum already asked for and, u being in every row, from
    // the count of rows: each is computed once.
    assert_eq!(
        outputs,
        vec![
            Output::Column(0),
            Output::Column(1),
            Output::Column(2),
            Output::Column(3),
            Output::Column(4),
            Output::Average { sum: 4, count: 2 },
            Output::Column(5),
            Output::Column(6),
            Output::Column(7),
        ]
    );
    assert_eq!(
        result,
        vec![
            // The sum of integers is exact where bigint would overflow.
            vec![
                "1970-01-01T00:00:00Z",
                "a",
                "2",
                "2",
                "9223372036854775808",
                "1.0",
                "9223372036854775807",
                "1970-01-01T00:00:00Z",
            ],
            vec![
                "1970-01-01T00:00:00Z",
                "b",
                "1",
                "1",
                "7",
                "2.0",
                "7",
                "1970-01-01T00:00:00Z",
            ],
            vec![
                "1970-01-01T00:01:00Z",
                "a",
                "1",
                "0",
                "4",
                "NULL",
                "4",
                "1970-01-01T00:01:00Z",
            ],
        ]
    );
}

#[test]
fn epoch_buckets_floor_before_1970() {
    let result = run(
        &["m f=1i -1\nm f=2i 0\nm f=3i 299999999999\nm f=4i 300000000000"],
        vec![],
        groups(
            vec![Expr::TimeBin {
                width_ns: 300_000_000_000,
                origin_ns: 0,
                time: Box::new(Expr::Time),
                output: BinOutput::EpochSeconds,
            }],
            vec![(AggregateFunction::CountRows, None)],
        ),
    );
    assert_eq!(
        result,
        vec![vec!["-300", "1"], vec!["0", "2"], vec!["300", "1"]]
    );
}

#[test]
fn date_trunc_floors_times_before_1970_too() {
    let hour = 3_600_000_000_000i64;
    let lines = [-1, 0, hour + 1]
        .iter()
        .map(|t| format!("m f=1i {t}"))
        .collect::<Vec<_>>()
        .join("\n");
    let trunc = |unit| Expr::DateTrunc(unit, Box::new(Expr::Time));
    let result = run(
        &[&lines],
        vec![],
        groups(
            vec![
                trunc(TruncUnit::Second),
                trunc(TruncUnit::Hour),
                trunc(TruncUnit::Day),
                trunc(TruncUnit::Week),
                trunc(TruncUnit::Month),
                trunc(TruncUnit::Quarter),
            ],
            vec![(AggregateFunction::CountRows, None)],
        ),
    );
    assert_eq!(
        result,
        vec![
            vec![
                "1969-12-31T23:59:59Z",
                "1969-12-31T23:00:00Z",
                "1969-12-31T00:00:00Z",
                "1969-12-29T00:00:00Z",
                "1969-12-01T00:00:00Z",
                "1969-10-01T00:00:00Z",
                "1"
            ],
            vec![
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "1969-12-29T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "1"
            ],
            vec![
                "1970-01-01T01:00:00Z",
                "1970-01-01T01:00:00Z",
                "1970-01-01T00:00:00Z",
                "1969-12-29T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00Z",
                "1"
            ],
        ]
    );
}

#[test]
fn time_bins_count_from_their_origin_in_both_directions() {
    // 15-minute bins from 00:05: 00:04:59 is in the bin of 23:50 the day before.
    let minute = 60_000_000_000i64;
    let lines = [
        4 * minute + 59_000_000_000,
        5 * minute,
        19 * minute,
        20 * minute,
    ]
    .iter()
    .map(|t| format!("m f=1i {t}"))
    .collect::<Vec<_>>()
    .join("\n");
    let result = run(
        &[&lines],
        vec![],
        groups(
            vec![Expr::TimeBin {
                width_ns: 15 * minute,
                origin_ns: 5 * minute,
                time: Box::new(Expr::Time),
                output: BinOutput::Timestamp,
            }],
            vec![(AggregateFunction::CountRows, None)],
        ),
    );
    assert_eq!(
        result,
        vec![
            vec!["1969-12-31T23:50:00Z", "1"],
            vec!["1970-01-01T00:05:00Z", "2"],
            vec!["1970-01-01T00:20:00Z", "1"],
        ]
    );
}

#[test]
fn distinct_count_and_no_rows() {
    let distinct = run(
        &[HOSTS, "cpu,host=a u=5i 5000000000"],
        vec![],
        groups(
            vec![],
            vec![(AggregateFunction::CountDistinct, Some(column("host")))],
        ),
    );
    assert_eq!(distinct, vec![vec!["3"]]);
    // Without groups, an aggregate over no rows is one row, as in Postgres.
    let none = run(
        &[HOSTS],
        vec![Expr::compare(CompareOp::Equal, column("host"), text("z"))],
        groups(
            vec![],
            vec![
                (AggregateFunction::CountRows, None),
                (AggregateFunction::Max, Some(column("u"))),
            ],
        ),
    );
    assert_eq!(none, vec![vec!["0", "NULL"]]);
    let grouped_none = run(
        &[HOSTS],
        vec![Expr::compare(CompareOp::Equal, column("host"), text("z"))],
        groups(
            vec![column("host")],
            vec![(AggregateFunction::CountRows, None)],
        ),
    );
    assert!(grouped_none.is_empty());
}

#[test]
fn a_table_without_files_has_no_rows() {
    let (request, _) = request(&[HOSTS], vec![], rows(&["host"]));
    let engine = engine();
    let mut query = engine.start(&request, &[], Vec::new(), &limits()).unwrap();
    assert!(query.next_batch(&engine).unwrap().is_none());
}

/// How often the stop check of [`stopping_engine`] was asked, and from which call on it
/// says yes.
static STOP_ASKED: AtomicUsize = AtomicUsize::new(0);
static STOP_FROM: AtomicUsize = AtomicUsize::new(usize::MAX);

fn stop_when_asked_enough() -> bool {
    STOP_ASKED.fetch_add(1, Ordering::SeqCst) + 1 >= STOP_FROM.load(Ordering::SeqCst)
}

/// An engine whose stop check says yes from its `from`-th call on, counting from now.
fn stopping_engine() -> Engine {
    Engine::new(1, stop_when_asked_enough, || {}).unwrap()
}

fn stop_from(from: usize) {
    STOP_ASKED.store(0, Ordering::SeqCst);
    STOP_FROM.store(from, Ordering::SeqCst);
}

/// One test, as the stop check is shared by the engines it makes.
#[test]
fn a_stop_request_ends_the_query() {
    let engine = stopping_engine();
    let (rows_request, files) = request(&[HOSTS], vec![], rows(&["host"]));
    stop_from(usize::MAX);
    let mut query = engine.start(&rows_request, &[], files, &limits()).unwrap();
    stop_from(1);
    assert!(matches!(
        query.next_batch(&engine),
        Err(QueryError::Cancelled)
    ));

    // A latest-per-group query reads data while starting: it stops there too.
    let (latest, files) = request(
        &[HOSTS],
        vec![],
        groups(
            vec![column("host")],
            vec![(AggregateFunction::Last, Some(column("u")))],
        ),
    );
    assert!(matches!(
        engine.start(&latest, &[], files, &limits()),
        Err(QueryError::Cancelled)
    ));

    // An aggregate reads all its files before DataFusion hands anything back or yields:
    // a stop that comes while it reads (after the check before the batch and the first
    // periodic one) ends it at the next file.
    let writes: Vec<String> = (0..10)
        .map(|i| format!("m,host=h{i} u={i}i {}", 1_000_000_000 + i))
        .collect();
    let writes: Vec<&str> = writes.iter().map(String::as_str).collect();
    let (per_host, files) = request(
        &writes,
        vec![],
        groups(
            vec![column("host")],
            vec![(AggregateFunction::Sum, Some(column("u")))],
        ),
    );
    assert_eq!(files.len(), 10);
    stop_from(usize::MAX);
    let mut query = engine
        .start(&per_host, &[], files.clone(), &limits_reading_each_file())
        .unwrap();
    stop_from(3);
    assert!(matches!(
        query.next_batch(&engine),
        Err(QueryError::Cancelled)
    ));
    // Unstopped, it asks before reading each file.
    stop_from(usize::MAX);
    let mut query = engine
        .start(&per_host, &[], files.clone(), &limits_reading_each_file())
        .unwrap();
    stop_from(usize::MAX);
    let mut groups_seen = 0;
    while let Some(batch) = query.next_batch(&engine).unwrap() {
        groups_seen += batch.num_rows();
    }
    assert_eq!(groups_seen, 10);
    assert!(STOP_ASKED.load(Ordering::SeqCst) >= 10);

    // Small files are decoded while the query starts, each after asking; kept decoded,
    // they are read again by later queries.
    let reading_from_memory = stopping_engine();
    stop_from(usize::MAX);
    let mut query = reading_from_memory
        .start(&per_host, &[], files.clone(), &limits_reading_each_file())
        .unwrap();
    drain(&mut query, &reading_from_memory);
    // Their footers are kept from that query: the first ask is before the first decoding.
    stop_from(1);
    assert!(matches!(
        reading_from_memory.start(&per_host, &[], files.clone(), &limits()),
        Err(QueryError::Cancelled)
    ));
    for _ in 0..2 {
        stop_from(usize::MAX);
        let mut query = reading_from_memory
            .start(&per_host, &[], files.clone(), &limits())
            .unwrap();
        assert!(!query.executed_plan().contains(".parquet"));
        assert_eq!(drain(&mut query, &reading_from_memory).len(), 10);
    }
}

#[test]
fn a_query_over_its_memory_limit_fails_cleanly() {
    let lines: Vec<String> = (0..50_000)
        .map(|i| format!("m,host=h{i} f={i}i {i}"))
        .collect();
    let (request, files) = request(
        &[&lines.join("\n")],
        vec![],
        groups(
            vec![column("host")],
            vec![(AggregateFunction::Max, Some(column("f")))],
        ),
    );
    let engine = engine();
    let small = Limits {
        memory_bytes: 64 << 10,
        decoded_file_bytes: 64 << 20,
        spill: None,
    };
    let outcome = engine
        .start(&request, &[], files, &small)
        .and_then(|mut q| while_rows(&mut q, &engine));
    assert!(
        matches!(outcome, Err(QueryError::ResourcesExhausted(_))),
        "{outcome:?}"
    );
}

fn while_rows(
    query: &mut tsparquet_core::query::RunningQuery,
    engine: &Engine,
) -> Result<(), QueryError> {
    while query.next_batch(engine)?.is_some() {}
    Ok(())
}

/// All rows of a started query, as strings, in the order the engine gives them.
fn drain(query: &mut tsparquet_core::query::RunningQuery, engine: &Engine) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    while let Some(batch) = query.next_batch(engine).unwrap() {
        rows.extend(strings(&batch));
    }
    rows
}

#[test]
fn queries_open_at_once_on_one_engine_each_read_their_own_files() {
    let engine = engine();
    let (first, first_files) = request(&["m,host=a u=1i 1"], vec![], rows(&["host", "u"]));
    let (second, second_files) = request(&["m,host=b u=2i 2"], vec![], rows(&["host", "u"]));
    let mut a = engine
        .start(&first, &[], first_files.clone(), &limits())
        .unwrap();
    let mut b = engine.start(&second, &[], second_files, &limits()).unwrap();
    assert_eq!(
        drain(&mut b, &engine),
        [["1970-01-01T00:00:00.000000002Z", "b", "2"]]
    );
    assert_eq!(
        drain(&mut a, &engine),
        [["1970-01-01T00:00:00.000000001Z", "a", "1"]]
    );
    drop((a, b));
    // A later query of the engine reads the same file again, from its kept footer.
    let mut again = engine.start(&first, &[], first_files, &limits()).unwrap();
    assert_eq!(
        drain(&mut again, &engine),
        [["1970-01-01T00:00:00.000000001Z", "a", "1"]]
    );
}

#[test]
fn the_plan_is_described_without_reading_files() {
    let (request, _) = request(
        &[HOSTS],
        vec![Expr::compare(CompareOp::Equal, column("host"), text("b"))],
        groups(
            vec![column("host")],
            vec![(AggregateFunction::Max, Some(column("u")))],
        ),
    );
    let plan = engine().describe(&request, &[]).unwrap();
    assert!(
        plan.contains("Aggregate: groupBy=[[CAST(?table?.host AS Utf8View) AS key0]]"),
        "{plan}"
    );
    assert!(plan.contains("host = "), "{plan}");
}

#[test]
fn integer_sums_run_in_64_bits_only_where_the_files_statistics_allow() {
    let sums = |lines: &str| {
        let (request, files) = request(
            &[lines],
            vec![],
            groups(
                vec![column("host")],
                vec![
                    (AggregateFunction::Sum, Some(column("u"))),
                    (AggregateFunction::Avg, Some(column("u"))),
                ],
            ),
        );
        let engine = engine();
        let mut query = engine.start(&request, &[], files, &limits()).unwrap();
        let plan = query.executed_plan();
        (drain(&mut query, &engine), plan)
    };
    // The sum and the average share one sum.
    let (small, plan) = sums("cpu,host=a u=2i 1\ncpu,host=a u=5i 2");
    assert_eq!(small, [["a", "7", "2"]]);
    // Summed in 64 bits, the total is made exact afterwards; a sum of exact values needs
    // no such step.
    let made_exact = "CAST(value0@1 AS Decimal128(38, 0))";
    assert!(plan.contains(made_exact), "{plan}");
    let (large, plan) = sums("cpu,host=a u=9223372036854775807i 1\ncpu,host=a u=5i 2");
    assert_eq!(large, [["a", "9223372036854775812", "2"]]);
    assert!(!plan.contains(made_exact), "{plan}");
}

#[test]
fn a_long_list_of_tag_values_prunes_pages_by_their_statistics() {
    // 30 hosts of 5,000 rows each, in two row groups: h00's rows are in the first.
    let mut lines = String::new();
    for host in 0..30 {
        for t in 0..5000 {
            lines.push_str(&format!("m,host=h{host:02} v={t} {t}\n"));
        }
    }
    // More values than DataFusion prunes by unless told to: h00 and 24 hosts never written.
    let hosts: Vec<Expr> = std::iter::once(text("h00"))
        .chain((0..24).map(|n| text(&format!("x{n:02}"))))
        .collect();
    let filters = vec![Expr::InList {
        expr: Box::new(column("host")),
        list: hosts,
        negated: false,
    }];
    let (request, files) = request(&[&lines], filters, rows(&["host"]));
    let engine = engine();
    let mut query = engine.start(&request, &[], files, &limits()).unwrap();
    assert_eq!(drain(&mut query, &engine).len(), 5000);
    let plan = query.executed_plan();
    assert!(
        plan.contains("row_groups_pruned_statistics=2 total → 1 matched"),
        "{plan}"
    );
}

#[test]
fn a_distinct_count_in_thousands_of_groups_fits_a_small_memory_limit() {
    // 6,000 times, each with one to three hosts; `u` is the time's number, `v` half of it.
    let lines: Vec<String> = (0..6_000)
        .flat_map(|i| {
            (0..=i % 3).map(move |h| format!("m,host=h{h} u={i}i,v={} {i}", i as f64 / 2.0))
        })
        .collect();
    let (request, files) = request(
        &[&lines.join("\n")],
        vec![],
        groups(
            vec![Expr::TimeNs],
            vec![
                (AggregateFunction::CountDistinct, Some(column("host"))),
                (AggregateFunction::CountRows, None),
                (AggregateFunction::Sum, Some(column("u"))),
                (AggregateFunction::Max, Some(column("host"))),
                (AggregateFunction::Avg, Some(column("v"))),
                (AggregateFunction::Sum, Some(column("v"))),
            ],
        ),
    );
    let engine = engine();
    // A set of text values per group would reserve about 2 KiB each: 12 MB.
    let small = Limits {
        memory_bytes: 4 << 20,
        decoded_file_bytes: 64 << 20,
        spill: None,
    };
    let mut query = engine.start(&request, &[], files, &small).unwrap();
    let mut rows = drain(&mut query, &engine);
    rows.sort_by_key(|row| row[0].parse::<usize>().unwrap());
    assert_eq!(rows.len(), 6_000);
    for (i, row) in rows.iter().enumerate() {
        let hosts = i % 3 + 1;
        let expected = [
            i.to_string(),
            hosts.to_string(),
            hosts.to_string(),
            (i * hosts).to_string(),
            format!("h{}", hosts - 1),
            format!("{:?}", i as f64 / 2.0),
            format!("{:?}", (i * hosts) as f64 / 2.0),
        ];
        assert_eq!(row, &expected, "time {i}");
    }
    let plan = query.executed_plan();
    assert_eq!(plan.matches("AggregateExec").count(), 2, "{plan}");
}

#[test]
fn only_distinct_counts_that_merge_from_two_steps_are_grouped_by_the_engine() {
    let shape = |keys: Vec<Expr>, aggregates: Vec<(AggregateFunction, Option<Expr>)>| {
        request(&[HOSTS], vec![], groups(keys, aggregates)).0
    };
    let distinct_host = (AggregateFunction::CountDistinct, Some(column("host")));
    let one_step =
        |keys: Vec<Expr>, aggregates| shape(keys, aggregates).counts_distinct_in_one_step();
    // Two steps: one counted column beside aggregates that merge.
    assert!(!one_step(
        vec![Expr::TimeNs],
        vec![
            distinct_host.clone(),
            (AggregateFunction::Avg, Some(column("u"))),
            (AggregateFunction::CountDistinct, Some(column("host"))),
        ]
    ));
    // One step: beside the value at the latest time, or another counted column.
    assert!(one_step(
        vec![Expr::TimeNs],
        vec![
            distinct_host.clone(),
            (AggregateFunction::Last, Some(column("u")))
        ]
    ));
    assert!(one_step(
        vec![Expr::TimeNs],
        vec![
            distinct_host.clone(),
            (AggregateFunction::CountDistinct, Some(column("u")))
        ]
    ));
    // Without keys there is one group, one set of values.
    assert!(!one_step(
        vec![],
        vec![distinct_host, (AggregateFunction::First, Some(column("u")))]
    ));
}

#[test]
fn lists_of_one_column_leave_its_nulls_null_however_they_combine() {
    // Row c has no `s`: every comparison of it is NULL, and so is each condition below.
    let writes = ["m,host=a s=\"v1\" 1\nm,host=b s=\"x\" 2\nm,host=c u=1i 3"];
    let list = |values: &[&str], negated| Expr::InList {
        expr: Box::new(column("s")),
        list: values.iter().map(|v| text(v)).collect(),
        negated,
    };
    let hosts = |filter: Expr| -> Vec<String> {
        run(&writes, vec![filter], rows(&["host"]))
            .into_iter()
            .map(|row| row[1].clone())
            .collect()
    };
    // The lists share no value: merged, the first would always hold, the second never.
    assert_eq!(
        hosts(Expr::Or(vec![
            list(&["v1", "r0"], true),
            list(&["v2", "h1"], true)
        ])),
        ["a", "b"]
    );
    assert_eq!(
        hosts(Expr::Not(Box::new(Expr::And(vec![
            list(&["v1"], false),
            list(&["v2"], false)
        ])))),
        ["a", "b"]
    );
    // Against no values the answer is the same for every row, as `s <> ALL ('{}')` is.
    assert_eq!(hosts(list(&[], true)), ["a", "b", "c"]);
    assert!(hosts(list(&[], false)).is_empty());
}

/// `files` as files read in ranges, served from their bytes; the reads are counted: the
/// calls of the reader, and the bytes it hands on.
fn in_ranges(files: &[StoredFile]) -> (QueryFiles, Rc<Cell<(usize, usize)>>) {
    let read = Rc::new(Cell::new((0, 0)));
    let counted = read.clone();
    let by_id: Vec<Bytes> = files.iter().map(|file| file.bytes.clone()).collect();
    let files = files
        .iter()
        .enumerate()
        .map(|(id, file)| {
            QueryFile::InRanges(FileInRanges {
                name: file.name.clone(),
                id: id as i64,
                size: file.bytes.len() as u64,
            })
        })
        .collect();
    let reader = move |wanted: &[WantedRange]| {
        // Ranges that touch (a column chunk's pages one after another) are asked for as one.
        let mut asked: Vec<(i64, u64, u64)> = wanted
            .iter()
            .map(|w| (w.file, w.range.start, w.range.end))
            .collect();
        asked.sort_unstable();
        for pair in asked.windows(2) {
            assert!(
                pair[0].0 != pair[1].0 || pair[0].2 < pair[1].1,
                "touching ranges asked apart: {pair:?}"
            );
        }
        let bytes: Vec<Bytes> = wanted
            .iter()
            .map(|w| by_id[w.file as usize].slice(w.range.start as usize..w.range.end as usize))
            .collect();
        let (calls, total) = counted.get();
        counted.set((
            calls + 1,
            total + bytes.iter().map(Bytes::len).sum::<usize>(),
        ));
        bytes
    };
    let files = QueryFiles {
        files,
        read: Some(Box::new(reader)),
    };
    (files, read)
}

#[test]
fn files_read_in_ranges_give_the_rows_of_files_loaded_whole_reading_what_the_query_needs() {
    // 30 hosts of 5,000 rows each with five fields, in two row groups, written twice:
    // two large files, both keeping their extreme rows. The fields are noise, which
    // does not compress, so each file is far larger than the suffix read for its footer.
    let mut noise = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        noise ^= noise << 13;
        noise ^= noise >> 7;
        noise ^= noise << 17;
        (noise >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut write = |offset: i64| {
        let mut lines = String::new();
        for host in 0..30 {
            for t in 0..5000 {
                let time = offset + t * 1000;
                let (v, w, x, y, z) = (next(), next(), next(), next(), next());
                lines.push_str(&format!(
                    "m,host=h{host:02} v={v},w={w},x={x},y={y},z={z} {time}\n"
                ));
            }
        }
        lines
    };
    let (first, second) = (write(0), write(86_400_000_000_000));
    let one_host = vec![Expr::compare(CompareOp::Equal, column("host"), text("h07"))];
    let cases = [
        (
            "one host's rows",
            one_host.clone(),
            rows(&["host", "v"]),
            true,
        ),
        (
            "sums per host",
            vec![],
            groups(
                vec![column("host")],
                vec![(AggregateFunction::Sum, Some(column("w")))],
            ),
            false,
        ),
        (
            "latest per host",
            vec![],
            groups(
                vec![column("host")],
                vec![(AggregateFunction::Last, Some(column("v")))],
            ),
            true,
        ),
    ];
    let engine = engine();
    for (what, filters, shape, reads_a_part) in cases {
        let (request, files) = request(&[&first, &second], filters, shape);
        assert_eq!(files.len(), 2, "{what}");
        let total: usize = files.iter().map(|file| file.bytes.len()).sum();
        let mut whole = engine
            .start(&request, &[], files.clone(), &limits())
            .unwrap();
        let mut expected = drain(&mut whole, &engine);
        expected.sort();
        assert!(!expected.is_empty(), "{what}");
        // The footers are kept by name: the files are read anew under other names.
        let renamed: Vec<StoredFile> = files
            .iter()
            .map(|file| stored(file.bytes.to_vec()))
            .collect();
        let (in_ranges, read) = in_ranges(&renamed);
        let mut query = engine.start(&request, &[], in_ranges, &limits()).unwrap();
        let mut got = drain(&mut query, &engine);
        got.sort();
        assert_eq!(got, expected, "{what}");
        let (calls, bytes) = read.get();
        assert!(calls > 0, "{what}: reads ranges");
        if reads_a_part {
            assert!(bytes * 4 < total, "{what}: read {bytes} of {total} bytes");
        }
    }
}
