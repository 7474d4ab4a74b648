//! Points of a measurement into day batches and Parquet files, and back.

use arrow::array::{
    Array, AsArray, BooleanArray, DictionaryArray, Float64Array, Int64Array, RecordBatch,
    StringArray, TimestampNanosecondArray, UInt64Array,
};
use arrow::datatypes::Int32Type;
use bytes::Bytes;
use tsparquet_core::batch::{DayBatch, MeasurementBatch, ROLE_METADATA_KEY};
use tsparquet_core::line_protocol::{parse, ParseOptions, Precision};
use tsparquet_core::parquet_file::{self, FileReader};
use tsparquet_core::schema::TableSchema;

const DAY: i64 = 86_400_000_000_000;

fn batches(input: &str) -> (TableSchema, Vec<DayBatch>) {
    batches_pushing_without_text(input, |_| false)
}

/// Parses and batches `input` as a write does; the lines `without_text` picks are pushed
/// without their series text, as rows from SQL are.
fn batches_pushing_without_text(
    input: &str,
    without_text: impl Fn(usize) -> bool,
) -> (TableSchema, Vec<DayBatch>) {
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    let mut schema = TableSchema::default();
    let mut batch = MeasurementBatch::default();
    let mut parser = parse(input, options);
    while let Some(point) = parser.next() {
        let point = point.unwrap();
        schema.admit(&point).unwrap();
        if without_text(point.line) {
            batch.push(&point);
        } else {
            batch.push_parsed(&point, parser.current_series());
        }
    }
    let days = batch.finish(&schema);
    (schema, days)
}

fn column_names(batch: &RecordBatch) -> Vec<String> {
    batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

fn tag_values(batch: &RecordBatch, name: &str) -> Vec<Option<String>> {
    let dict: &DictionaryArray<Int32Type> = batch.column_by_name(name).unwrap().as_dictionary();
    let values: &StringArray = dict.values().as_string();
    dict.keys()
        .iter()
        .map(|k| k.map(|k| values.value(k as usize).to_owned()))
        .collect()
}

fn times(batch: &RecordBatch) -> Vec<i64> {
    let t: &TimestampNanosecondArray = batch.column_by_name("time").unwrap().as_primitive();
    t.values().to_vec()
}

fn floats(batch: &RecordBatch, name: &str) -> Vec<Option<f64>> {
    let a: &Float64Array = batch.column_by_name(name).unwrap().as_primitive();
    a.iter().collect()
}

#[test]
fn same_series_and_time_merge_with_later_values_winning() {
    let (_, days) = batches("m,h=a f=1,g=2 10\nm,h=b f=9 10\nm,h=a f=5,k=7 10\nm,h=a f=6 11");
    let b = &days[0].batch;
    assert_eq!(b.num_rows(), 3);
    assert_eq!(
        tag_values(b, "h"),
        vec![Some("a".into()), Some("a".into()), Some("b".into())]
    );
    assert_eq!(times(b), vec![10, 11, 10]);
    assert_eq!(floats(b, "f"), vec![Some(5.0), Some(6.0), Some(9.0)]);
    assert_eq!(floats(b, "g"), vec![Some(2.0), None, None]);
    assert_eq!(floats(b, "k"), vec![Some(7.0), None, None]);
}

#[test]
fn fields_land_in_their_columns_whatever_their_order() {
    let (_, days) = batches("m,h=a f=1,g=2 1\nm,h=a g=4,f=3 2\nm,h=a f=5,g=6 3\nm,h=a g=8 4");
    let b = &days[0].batch;
    assert_eq!(floats(b, "f"), vec![Some(1.0), Some(3.0), Some(5.0), None]);
    assert_eq!(
        floats(b, "g"),
        vec![Some(2.0), Some(4.0), Some(6.0), Some(8.0)]
    );
}

#[test]
fn series_do_not_depend_on_tag_order() {
    let (_, days) = batches("m,a=1,b=2 f=1 1\nm,b=2,a=1 f=2 1");
    assert_eq!(days[0].batch.num_rows(), 1);
    assert_eq!(floats(&days[0].batch, "f"), vec![Some(2.0)]);
}

#[test]
fn points_pushed_with_and_without_their_text_find_one_series() {
    let input = "m,a=1,b=2 f=1 1\nm,b=2,a=1 g=2 1\nm,a=1,b=2 h=3 1\nm,a=1,b=2 f=4 2";
    let (_, days) = batches_pushing_without_text(input, |line| line == 3);
    let b = &days[0].batch;
    assert_eq!(b.num_rows(), 2);
    assert_eq!(floats(b, "f"), vec![Some(1.0), Some(4.0)]);
    assert_eq!(floats(b, "g"), vec![Some(2.0), None]);
    assert_eq!(floats(b, "h"), vec![Some(3.0), None]);
}

#[test]
fn rows_sort_by_tags_in_column_order_then_time() {
    let input = "m,host=b,dc=x f=1 3\nm,host=a,dc=y f=2 2\nm,host=a,dc=y f=3 1\nm,dc=z f=4 5\nm,host=a,dc=x f=5 9";
    let (_, days) = batches(input);
    let b = &days[0].batch;
    assert_eq!(column_names(b), vec!["host", "dc", "time", "f"]);
    assert_eq!(
        tag_values(b, "host"),
        vec![
            None,
            Some("a".into()),
            Some("a".into()),
            Some("a".into()),
            Some("b".into())
        ]
    );
    assert_eq!(
        tag_values(b, "dc"),
        vec![
            Some("z".into()),
            Some("x".into()),
            Some("y".into()),
            Some("y".into()),
            Some("x".into())
        ]
    );
    assert_eq!(times(b), vec![5, 9, 1, 2, 3]);
}

#[test]
fn rows_are_cut_into_utc_days() {
    let input = format!(
        "m,h=a f=1 {}\nm,h=a f=2 {}\nm,h=b f=3 -1\nm,h=a f=4 {}",
        DAY + 5,
        7,
        2 * DAY - 1
    );
    let (_, days) = batches(&input);
    let summary: Vec<(i64, i64, i64, usize)> = days
        .iter()
        .map(|d| (d.day, d.min_time_ns, d.max_time_ns, d.batch.num_rows()))
        .collect();
    assert_eq!(
        summary,
        vec![(-1, -1, -1, 1), (0, 7, 7, 1), (1, DAY + 5, 2 * DAY - 1, 2)]
    );
}

#[test]
fn every_field_type_is_stored_and_read_back() {
    let input = r#"m,t=x f=1.5,i=-3i,u=18446744073709551615u,s="hé",b=true 1
m,t=y f=2.5 2"#;
    let (_, days) = batches(input);
    let file = parquet_file::write(&days[0].batch).unwrap();
    let reader = FileReader::open(Bytes::from(file)).unwrap();
    let role = |name: &str| {
        reader
            .schema()
            .field_with_name(name)
            .unwrap()
            .metadata()
            .get(ROLE_METADATA_KEY)
            .cloned()
    };
    assert_eq!(role("t").as_deref(), Some("tag"));
    assert_eq!(role("u").as_deref(), Some("field"));
    let read: Vec<RecordBatch> = reader
        .read(&["t", "time", "f", "i", "u", "s", "b"])
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let b = &read[0];
    assert_eq!(b.num_rows(), 2);
    assert_eq!(tag_values(b, "t"), vec![Some("x".into()), Some("y".into())]);
    assert_eq!(floats(b, "f"), vec![Some(1.5), Some(2.5)]);
    let i: &Int64Array = b.column_by_name("i").unwrap().as_primitive();
    assert_eq!(i.iter().collect::<Vec<_>>(), vec![Some(-3), None]);
    let u: &UInt64Array = b.column_by_name("u").unwrap().as_primitive();
    assert_eq!(u.iter().collect::<Vec<_>>(), vec![Some(u64::MAX), None]);
    let s: &StringArray = b.column_by_name("s").unwrap().as_string();
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![Some("hé"), None]);
    let flags: &BooleanArray = b.column_by_name("b").unwrap().as_boolean();
    assert_eq!(flags.iter().collect::<Vec<_>>(), vec![Some(true), None]);
    let t: &TimestampNanosecondArray = b.column_by_name("time").unwrap().as_primitive();
    assert_eq!(t.timezone(), Some("UTC"));
}

#[test]
fn reading_decodes_only_the_named_columns_the_file_has() {
    let (_, days) = batches("m,t=x f=1,g=2 1");
    let file = Bytes::from(parquet_file::write(&days[0].batch).unwrap());
    let read: Vec<RecordBatch> = FileReader::open(file)
        .unwrap()
        .read(&["g", "not_in_file"])
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(column_names(&read[0]), vec!["g"]);
    assert!(read[0].column(0).null_count() == 0);
}

/// TSBS cpu-only shaped data must stay compact: the storage target is 10 bytes per row.
#[test]
fn tsbs_like_rows_take_few_bytes() {
    let hosts = 50;
    let intervals = 400;
    let mut state: u64 = 42;
    let mut walk = vec![50i64; hosts * 10];
    let mut input = String::new();
    for t in 0..intervals {
        for h in 0..hosts {
            input.push_str(&format!(
                "cpu,hostname=host_{h},region=r{},datacenter=d{},rack={},os=Ubuntu16.10,arch=x64,team=SF,service={},service_version=1,service_environment=production ",
                h % 3, h % 7, h % 100, h % 20
            ));
            for f in 0..10 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let v = &mut walk[h * 10 + f];
                *v = (*v + (state % 3) as i64 - 1).clamp(0, 100);
                input.push_str(&format!("{}usage_{f}={v}i", if f > 0 { "," } else { "" }));
            }
            input.push_str(&format!(
                " {}\n",
                1_451_606_400_000_000_000_i64 + t * 10_000_000_000
            ));
        }
    }
    let (_, days) = batches(&input);
    let bytes: usize = days
        .iter()
        .map(|d| parquet_file::write(&d.batch).unwrap().len())
        .sum();
    let rows = hosts * intervals as usize;
    let per_row = bytes as f64 / rows as f64;
    assert!(per_row < 10.0, "{per_row:.2} bytes per row");
}

#[test]
fn stored_rows_read_back_as_the_points_written() {
    let input = r#"m,t=x f=1.5,i=-3i,u=7u,s="hé",b=true 5
m,t=y,z=q f=2.5 6"#;
    let (_, days) = batches(input);
    let points = tsparquet_core::batch::points_of(&days[0].batch);
    let written: Vec<String> = points.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        written,
        vec![
            r#",t=x f=1.5,i=-3i,u=7u,s="hé",b=true 5"#,
            ",t=y,z=q f=2.5 6"
        ]
    );
}

#[test]
fn only_rows_with_the_same_series_and_time_collide() {
    let (_, old) = batches("m,h=a f=1,g=1 10\nm,h=b f=1 20");
    let (_, touching) = batches("m,h=b f=2 10\nm,h=a f=2 20\nm,h=a f=2 30");
    assert!(!tsparquet_core::batch::collides(
        &[old[0].batch.clone()],
        &touching[0]
    ));
    let (_, untagged) = batches("m f=2 10");
    assert!(
        !tsparquet_core::batch::collides(&[old[0].batch.clone()], &untagged[0]),
        "a point without the tag is another series"
    );
    let (schema, repeat) = batches("m,h=a f=5,k=1 10");
    assert!(tsparquet_core::batch::collides(
        &[old[0].batch.clone()],
        &repeat[0]
    ));

    let mut full_schema = schema.clone();
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    for p in parse("m,h=a f=1,g=1 10", options) {
        full_schema.admit(&p.unwrap()).unwrap();
    }
    let merged_full =
        tsparquet_core::batch::merge(&[&old[0].batch, &repeat[0].batch], &full_schema);
    assert_eq!(merged_full.len(), 1);
    let points: Vec<String> = tsparquet_core::batch::points_of(&merged_full[0].batch)
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(points, vec![",h=a f=5,k=1,g=1 10", ",h=b f=1 20"]);
}

#[test]
fn a_write_merges_only_the_stored_rows_it_repeats() {
    // Two series stored, then their tag dropped: one series with two rows at each time.
    let (_, stored) = batches(
        "m,h=a,r=x f=1 1\nm,h=b,r=x f=2 1\nm,h=a,r=x f=3 2\nm,h=b,r=x f=4 2\n\
         m,h=a,r=x f=5 3\nm,h=b,r=x f=6 3",
    );
    let mut stored = stored[0].batch.clone();
    stored.remove_column(stored.schema().index_of("h").unwrap());
    let (schema, _) = batches("m,r=x f=0,w=0 0");
    let (_, new) = batches("m,r=x w=7 3");
    let merged = tsparquet_core::batch::merge_into_stored(&[stored], &new[0], &schema);
    let mut points: Vec<String> = merged
        .iter()
        .flat_map(|day| tsparquet_core::batch::points_of(&day.batch))
        .map(|p| p.to_string())
        .collect();
    points.sort();
    assert_eq!(
        points,
        [
            ",r=x f=1 1",
            ",r=x f=2 1",
            ",r=x f=3 2",
            ",r=x f=4 2",
            ",r=x f=6,w=7 3"
        ]
    );
}

#[test]
fn keys_are_read_only_for_rows_in_the_time_range() {
    let (_, days) = batches("m,h=a,r=x f=1 10\nm,h=a f=2 20\nm,h=b f=3 15\nm,h=c f=4 30");
    let file = Bytes::from(parquet_file::write(&days[0].batch).unwrap());
    let keys = FileReader::open(file.clone())
        .unwrap()
        .read_keys_between(12, 20)
        .unwrap();
    let keys = arrow::compute::concat_batches(&keys[0].schema(), &keys).unwrap();
    assert_eq!(column_names(&keys), ["h", "r", "time"]);
    assert_eq!(times(&keys), [20, 15]);
    assert_eq!(
        tag_values(&keys, "h"),
        [Some("a".to_owned()), Some("b".to_owned())]
    );
    let none = FileReader::open(file)
        .unwrap()
        .read_keys_between(31, i64::MAX)
        .unwrap();
    assert_eq!(none.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
}

#[test]
fn old_files_conform_to_the_table_schema_with_nulls() {
    let (_, old) = batches("m,h=a f=1 1");
    let (schema, _) = batches("m,h=a f=1 1\nm,h=b,z=q f=2,g=true 2");
    let target = std::sync::Arc::new(tsparquet_core::batch::table_arrow_schema(&schema));
    let conformed = tsparquet_core::batch::conform(&old[0].batch, &target);
    assert_eq!(column_names(&conformed), vec!["h", "z", "time", "f", "g"]);
    assert_eq!(conformed.column_by_name("g").unwrap().null_count(), 1);
    assert_eq!(floats(&conformed, "f"), vec![Some(1.0)]);
}
