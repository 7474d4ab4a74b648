//! Collects the points of one measurement into columns — one row per series and time, a
//! later write of a field replacing an earlier one — then sorts them by tags and time and
//! cuts them into one Arrow batch per UTC day.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array,
    RecordBatch, StringArray, StringBuilder, TimestampNanosecondArray, UInt64Array,
};
use arrow::datatypes::{
    DataType, Field, Float64Type, Int32Type, Int64Type, Schema, TimeUnit, UInt64Type,
};
use rustc_hash::{FxHashMap, FxHashSet};

use crate::line_protocol::{FieldType, FieldValue, Point};
use crate::schema::{ColumnKind, TableSchema, TIME_COLUMN};
use crate::short_eq::same_name;

pub(crate) const NANOS_PER_DAY: i64 = 86_400 * 1_000_000_000;
/// Arrow field metadata key naming a column's role, `tag` or `field`.
pub const ROLE_METADATA_KEY: &str = "tsparquet.role";

/// The rows of one UTC day, ready to be written as one Parquet file.
#[derive(Debug)]
pub struct DayBatch {
    /// Days since 1970-01-01.
    pub day: i64,
    pub batch: RecordBatch,
    pub min_time_ns: i64,
    pub max_time_ns: i64,
}

enum Values {
    Float(Vec<f64>),
    Integer(Vec<i64>),
    Unsigned(Vec<u64>),
    String(Vec<String>),
    Boolean(Vec<bool>),
}

struct FieldColumn {
    name: String,
    values: Values,
    present: Vec<bool>,
}

impl FieldColumn {
    fn new(name: &str, kind: FieldType, rows: usize) -> Self {
        let values = match kind {
            FieldType::Float => Values::Float(vec![0.0; rows]),
            FieldType::Integer => Values::Integer(vec![0; rows]),
            FieldType::Unsigned => Values::Unsigned(vec![0; rows]),
            FieldType::String => Values::String(vec![String::new(); rows]),
            FieldType::Boolean => Values::Boolean(vec![false; rows]),
        };
        FieldColumn {
            name: name.to_owned(),
            values,
            present: vec![false; rows],
        }
    }

    fn push_absent(&mut self) {
        self.present.push(false);
        match &mut self.values {
            Values::Float(v) => v.push(0.0),
            Values::Integer(v) => v.push(0),
            Values::Unsigned(v) => v.push(0),
            Values::String(v) => v.push(String::new()),
            Values::Boolean(v) => v.push(false),
        }
    }

    fn set(&mut self, row: usize, value: &FieldValue<'_>) {
        self.present[row] = true;
        match (&mut self.values, value) {
            (Values::Float(v), FieldValue::Float(x)) => v[row] = *x,
            (Values::Integer(v), FieldValue::Integer(x)) => v[row] = *x,
            (Values::Unsigned(v), FieldValue::Unsigned(x)) => v[row] = *x,
            (Values::String(v), FieldValue::String(x)) => v[row] = x.to_string(),
            (Values::Boolean(v), FieldValue::Boolean(x)) => v[row] = *x,
            _ => panic!(
                "field {} changed type: points must be admitted to the table schema first",
                self.name
            ),
        }
    }

    /// The column's values in `order`, absent values as nulls.
    fn array(&self, order: &[u32]) -> ArrayRef {
        let present = |r: usize| self.present[r];
        let rows = order.iter().map(|&r| r as usize);
        match &self.values {
            Values::Float(v) => Arc::new(
                rows.map(|r| present(r).then(|| v[r]))
                    .collect::<Float64Array>(),
            ),
            Values::Integer(v) => Arc::new(
                rows.map(|r| present(r).then(|| v[r]))
                    .collect::<Int64Array>(),
            ),
            Values::Unsigned(v) => Arc::new(
                rows.map(|r| present(r).then(|| v[r]))
                    .collect::<UInt64Array>(),
            ),
            Values::String(v) => Arc::new(
                rows.map(|r| present(r).then(|| v[r].as_str()))
                    .collect::<StringArray>(),
            ),
            Values::Boolean(v) => Arc::new(
                rows.map(|r| present(r).then(|| v[r]))
                    .collect::<BooleanArray>(),
            ),
        }
    }
}

/// The rows of one measurement in one write.
#[derive(Default)]
pub struct MeasurementBatch {
    /// Canonical series key (sorted `key\0value\0` pairs) to series number.
    series: FxHashMap<Box<str>, u32>,
    /// Series key with the tags in the order a point listed them, or a parsed point's
    /// series text as written, to series number: the points of a series usually list their
    /// tags alike, and are found here unsorted. The two kinds of key never collide: a key
    /// with tags holds NUL bytes, which line protocol text cannot, and text is never empty.
    series_as_listed: FxHashMap<Box<str>, u32>,
    /// Each series' tags, sorted by key.
    series_tags: Vec<Vec<(Box<str>, Box<str>)>>,
    row_series: Vec<u32>,
    row_time: Vec<i64>,
    row_of: FxHashMap<(u32, i64), u32>,
    fields: Vec<FieldColumn>,
    field_positions: FxHashMap<String, usize>,
    /// The field keys of the last point and their columns: the next point usually names
    /// the same fields in the same order.
    last_fields: Vec<(Box<str>, usize)>,
    /// Room for building series keys, reused from point to point.
    listed_key: String,
}

impl MeasurementBatch {
    pub fn rows(&self) -> usize {
        self.row_time.len()
    }

    pub fn is_empty(&self) -> bool {
        self.row_time.is_empty()
    }

    /// Adds a point. A point with the series and time of an earlier one merges into its row:
    /// its fields replace the earlier values, other fields stay.
    pub fn push(&mut self, point: &Point<'_>) {
        let series = self.series_number(&point.tags);
        self.push_row(point, series);
    }

    /// Adds a point parsed from line protocol, with its measurement and tag set as written
    /// (`Parser::current_series`), which finds its series without building a key.
    pub fn push_parsed(&mut self, point: &Point<'_>, series_text: &str) {
        let series = match self.series_as_listed.get(series_text) {
            Some(&n) => n,
            None => {
                let n = self.canonical_series_number(&point.tags);
                self.series_as_listed.insert(series_text.into(), n);
                n
            }
        };
        self.push_row(point, series);
    }

    fn push_row(&mut self, point: &Point<'_>, series: u32) {
        let row = match self.row_of.entry((series, point.time_ns)) {
            Entry::Occupied(e) => *e.get() as usize,
            Entry::Vacant(e) => {
                let row = self.row_time.len();
                e.insert(u32::try_from(row).expect("fewer than 2^32 rows in one write"));
                self.row_series.push(series);
                self.row_time.push(point.time_ns);
                for column in &mut self.fields {
                    column.push_absent();
                }
                row
            }
        };
        let same_fields = self.last_fields.len() == point.fields.len()
            && self
                .last_fields
                .iter()
                .zip(&point.fields)
                .all(|((known, _), (key, _))| same_name(known, key));
        if same_fields {
            for ((_, column), (_, value)) in self.last_fields.iter().zip(&point.fields) {
                self.fields[*column].set(row, value);
            }
            return;
        }
        self.last_fields.clear();
        for (key, value) in &point.fields {
            let column = match self.field_positions.get(key.as_ref()) {
                Some(&i) => i,
                None => {
                    let rows = self.row_time.len();
                    self.fields
                        .push(FieldColumn::new(key, value.field_type(), rows));
                    self.field_positions
                        .insert(key.to_string(), self.fields.len() - 1);
                    self.fields.len() - 1
                }
            };
            self.fields[column].set(row, value);
            self.last_fields.push((key.as_ref().into(), column));
        }
    }

    fn series_number(&mut self, tags: &[(Cow<'_, str>, Cow<'_, str>)]) -> u32 {
        let mut listed = std::mem::take(&mut self.listed_key);
        listed.clear();
        write_series_key(
            tags.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
            &mut listed,
        );
        let n = match self.series_as_listed.get(listed.as_str()) {
            Some(&n) => n,
            None => {
                let n = self.canonical_series_number(tags);
                self.series_as_listed.insert(listed.as_str().into(), n);
                n
            }
        };
        self.listed_key = listed;
        n
    }

    fn canonical_series_number(&mut self, tags: &[(Cow<'_, str>, Cow<'_, str>)]) -> u32 {
        let mut sorted: Vec<&(Cow<'_, str>, Cow<'_, str>)> = tags.iter().collect();
        if !sorted.is_sorted_by(|a, b| a.0 <= b.0) {
            sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        }
        let mut key = String::new();
        write_series_key(
            sorted.iter().map(|(k, v)| (k.as_ref(), v.as_ref())),
            &mut key,
        );
        if let Some(&n) = self.series.get(key.as_str()) {
            return n;
        }
        let n = u32::try_from(self.series_tags.len()).expect("fewer than 2^32 series in one write");
        self.series.insert(key.into_boxed_str(), n);
        self.series_tags.push(
            sorted
                .iter()
                .map(|(k, v)| (k.as_ref().into(), v.as_ref().into()))
                .collect(),
        );
        n
    }

    /// Sorts the rows by the table's tags (in column order, absent tags first) and time, and
    /// cuts them into one batch per UTC day. Columns: the tags and fields that occur in the
    /// rows, in table order, with `time` between them.
    pub fn finish(self, schema: &TableSchema) -> Vec<DayBatch> {
        if let Some(missing) = self.fields.iter().find(|f| schema.get(&f.name).is_none()) {
            panic!(
                "field {} is not in the table schema given to finish()",
                missing.name
            );
        }
        let tag_columns: Vec<&str> = schema
            .tags()
            .map(|c| c.name.as_str())
            .filter(|name| {
                self.series_tags
                    .iter()
                    .any(|tags| tags.iter().any(|(k, _)| &**k == *name))
            })
            .collect();
        let series_values: Vec<Vec<Option<&str>>> = self
            .series_tags
            .iter()
            .map(|tags| {
                tag_columns
                    .iter()
                    .map(|name| tags.iter().find(|(k, _)| &**k == *name).map(|(_, v)| &**v))
                    .collect()
            })
            .collect();
        let mut by_tags: Vec<u32> = (0..series_values.len() as u32).collect();
        by_tags
            .sort_unstable_by(|&a, &b| series_values[a as usize].cmp(&series_values[b as usize]));
        let mut rank = vec![0u32; by_tags.len()];
        for (position, &series) in by_tags.iter().enumerate() {
            rank[series as usize] = position as u32;
        }

        let day_of = |t: i64| t.div_euclid(NANOS_PER_DAY);
        let mut order: Vec<u32> = (0..self.row_time.len() as u32).collect();
        order.sort_unstable_by_key(|&r| {
            let t = self.row_time[r as usize];
            (day_of(t), rank[self.row_series[r as usize] as usize], t)
        });

        let fields: Vec<&FieldColumn> = schema
            .columns()
            .iter()
            .filter_map(|c| self.field_positions.get(&c.name).map(|&i| &self.fields[i]))
            .collect();
        let arrow_schema = Arc::new(self.arrow_schema(&tag_columns, &fields, schema));

        order
            .chunk_by(|&a, &b| {
                day_of(self.row_time[a as usize]) == day_of(self.row_time[b as usize])
            })
            .map(|rows| {
                let mut columns: Vec<ArrayRef> = Vec::with_capacity(arrow_schema.fields().len());
                columns.extend((0..tag_columns.len()).map(|tag| {
                    tag_array(
                        rows.iter().map(|&r| self.row_series[r as usize] as usize),
                        |series| series_values[series][tag],
                        series_values.len(),
                    )
                }));
                let times: Vec<i64> = rows.iter().map(|&r| self.row_time[r as usize]).collect();
                let (min_time_ns, max_time_ns) = times
                    .iter()
                    .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
                columns.push(Arc::new(
                    TimestampNanosecondArray::from(times).with_timezone("UTC"),
                ));
                columns.extend(fields.iter().map(|f| f.array(rows)));
                DayBatch {
                    day: day_of(min_time_ns),
                    batch: RecordBatch::try_new(arrow_schema.clone(), columns)
                        .expect("columns match the schema built for them"),
                    min_time_ns,
                    max_time_ns,
                }
            })
            .collect()
    }

    fn arrow_schema(&self, tags: &[&str], fields: &[&FieldColumn], schema: &TableSchema) -> Schema {
        let mut out: Vec<Field> = tags
            .iter()
            .map(|name| column_field(name, ColumnKind::Tag))
            .collect();
        out.push(time_field());
        for f in fields {
            let kind = schema
                .get(&f.name)
                .expect("fields are admitted to the schema")
                .kind;
            out.push(column_field(&f.name, kind));
        }
        Schema::new(out)
    }
}

/// The Arrow field of a tag or field column, its role in the metadata.
fn column_field(name: &str, kind: ColumnKind) -> Field {
    Field::new(name, arrow_type(kind), true).with_metadata(HashMap::from([(
        ROLE_METADATA_KEY.to_owned(),
        kind.role().to_owned(),
    )]))
}

fn time_field() -> Field {
    Field::new(
        TIME_COLUMN,
        DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        false,
    )
}

/// Writes the key identifying a series: its tags, sorted by key, as `key\0value\0` pairs.
/// NUL cannot appear in a name, so it separates the parts unambiguously.
fn write_series_key<'t>(sorted_tags: impl Iterator<Item = (&'t str, &'t str)>, out: &mut String) {
    for (k, v) in sorted_tags {
        out.push_str(k);
        out.push('\0');
        out.push_str(v);
        out.push('\0');
    }
}

/// The points stored in a batch read from a file: dictionary columns are tags, `time` is
/// the time, the other columns are fields; nulls are absent tags and fields.
pub fn points_of<'b>(batch: &'b RecordBatch) -> Vec<Point<'b>> {
    let mut points: Vec<Point<'b>> = (0..batch.num_rows())
        .map(|_| Point {
            line: 0,
            measurement: Cow::Borrowed(""),
            tags: Vec::new(),
            fields: Vec::new(),
            time_ns: 0,
        })
        .collect();
    for (field, column) in batch.schema_ref().fields().iter().zip(batch.columns()) {
        let name = field.name().as_str();
        if name == TIME_COLUMN {
            let times: &TimestampNanosecondArray = column.as_primitive();
            for (point, t) in points.iter_mut().zip(times.values()) {
                point.time_ns = *t;
            }
            continue;
        }
        if let DataType::Dictionary(..) = column.data_type() {
            let tags = column.as_dictionary::<Int32Type>();
            let values: &StringArray = tags.values().as_string();
            for (row, point) in points.iter_mut().enumerate() {
                if column.is_valid(row) {
                    let value = values.value(tags.keys().value(row) as usize);
                    point.tags.push((Cow::Borrowed(name), Cow::Borrowed(value)));
                }
            }
            continue;
        }
        let value_at: Box<dyn Fn(usize) -> FieldValue<'b> + 'b> = match column.data_type() {
            DataType::Float64 => {
                let values = column.as_primitive::<Float64Type>();
                Box::new(move |row| FieldValue::Float(values.value(row)))
            }
            DataType::Int64 => {
                let values = column.as_primitive::<Int64Type>();
                Box::new(move |row| FieldValue::Integer(values.value(row)))
            }
            DataType::UInt64 => {
                let values = column.as_primitive::<UInt64Type>();
                Box::new(move |row| FieldValue::Unsigned(values.value(row)))
            }
            DataType::Utf8 => {
                let values = column.as_string::<i32>();
                Box::new(move |row| FieldValue::String(Cow::Borrowed(values.value(row))))
            }
            DataType::Boolean => {
                let values = column.as_boolean();
                Box::new(move |row| FieldValue::Boolean(values.value(row)))
            }
            other => panic!("column {name} of a stored file has unexpected type {other}"),
        };
        for (row, point) in points.iter_mut().enumerate() {
            if column.is_valid(row) {
                point.fields.push((Cow::Borrowed(name), value_at(row)));
            }
        }
    }
    points
}

/// A tag column as a dictionary array over the rows of `row_series` (their series
/// numbers, below `series`): each series' value is looked up once, not once per row.
fn tag_array<'v>(
    row_series: impl Iterator<Item = usize>,
    value_of: impl Fn(usize) -> Option<&'v str>,
    series: usize,
) -> ArrayRef {
    let mut key_of_series: Vec<Option<Option<i32>>> = vec![None; series];
    let mut keys_of_values: FxHashMap<&str, i32> = FxHashMap::default();
    let mut values = StringBuilder::new();
    let keys: Int32Array = row_series
        .map(|s| {
            *key_of_series[s].get_or_insert_with(|| {
                value_of(s).map(|value| {
                    let next = i32::try_from(keys_of_values.len()).expect("fewer than 2^31 values");
                    *keys_of_values.entry(value).or_insert_with(|| {
                        values.append_value(value);
                        next
                    })
                })
            })
        })
        .collect();
    Arc::new(
        DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values.finish()))
            .expect("every key indexes a value"),
    )
}

/// Whether `new` repeats a series and time of the days `earlier`, checked only against
/// those whose time ranges meet its own.
pub fn repeats_any<'a>(earlier: impl IntoIterator<Item = &'a DayBatch>, new: &DayBatch) -> bool {
    let meeting: Vec<RecordBatch> = earlier
        .into_iter()
        .filter(|d| new.min_time_ns <= d.max_time_ns && d.min_time_ns <= new.max_time_ns)
        .map(|d| d.batch.clone())
        .collect();
    collides(&meeting, new)
}

/// Whether any row of `new` has the series and time of a row in `existing`, files that
/// overlap it in time. Only then must they be merged for reads to see one row per key.
pub fn collides(existing: &[RecordBatch], new: &DayBatch) -> bool {
    let shared = SharedKeys::of(existing, &new.batch);
    !shared.times.is_empty()
        && existing
            .iter()
            .any(|batch| shared.repeats(batch).any(|repeats| repeats))
}

/// The series and time of the rows of a new batch at times that stored rows have too: the
/// only new rows that may repeat stored ones. Series keys are built only for rows whose
/// times match, which are few: files of successive writes usually share no more than the
/// instant where one ends and the next begins.
struct SharedKeys {
    times: FxHashSet<i64>,
    keys: FxHashSet<(String, i64)>,
}

impl SharedKeys {
    fn of(existing: &[RecordBatch], new: &RecordBatch) -> SharedKeys {
        let new_times: FxHashSet<i64> = times(new).iter().copied().collect();
        let times: FxHashSet<i64> = existing
            .iter()
            .flat_map(|batch| times(batch).iter().copied())
            .filter(|t| new_times.contains(t))
            .collect();
        let keys = self::times(new)
            .iter()
            .enumerate()
            .filter(|(_, t)| times.contains(t))
            .map(|(row, &t)| (row_series_key(new, row), t))
            .collect();
        SharedKeys { times, keys }
    }

    /// For each row of a stored `batch`, whether it has the series and time of a new row.
    fn repeats<'b>(&'b self, batch: &'b RecordBatch) -> impl Iterator<Item = bool> + 'b {
        times(batch).iter().enumerate().map(move |(row, &t)| {
            self.times.contains(&t) && self.keys.contains(&(row_series_key(batch, row), t))
        })
    }
}

fn times(batch: &RecordBatch) -> &[i64] {
    batch
        .column_by_name(TIME_COLUMN)
        .expect("every batch has a time column")
        .as_primitive::<arrow::datatypes::TimestampNanosecondType>()
        .values()
}

/// The series key of one stored row: its tags (the dictionary columns) that are not null.
fn row_series_key(batch: &RecordBatch, row: usize) -> String {
    let mut tags: Vec<(&str, &str)> = batch
        .schema_ref()
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(_, column)| matches!(column.data_type(), DataType::Dictionary(..)))
        .filter(|(_, column)| column.is_valid(row))
        .map(|(field, column)| {
            let tags = column.as_dictionary::<Int32Type>();
            let values: &StringArray = tags.values().as_string();
            (
                field.name().as_str(),
                values.value(tags.keys().value(row) as usize),
            )
        })
        .collect();
    tags.sort_unstable();
    let mut key = String::new();
    write_series_key(tags.into_iter(), &mut key);
    key
}

/// A day's new rows merged into the `stored` batches of the files holding rows of the same
/// series and time: each such stored row takes the fields the new one names. Only those
/// rows are merged; the files' other rows stay as they are, even two that share a series
/// and time, as dropping the tag that told them apart leaves them.
pub fn merge_into_stored(
    stored: &[RecordBatch],
    new: &DayBatch,
    schema: &TableSchema,
) -> Vec<DayBatch> {
    let shared = SharedKeys::of(stored, &new.batch);
    let mut repeated = Vec::new();
    let mut kept = Vec::new();
    for batch in stored {
        let repeats: BooleanArray = shared.repeats(batch).map(Some).collect();
        let filter = |mask: &BooleanArray| {
            arrow::compute::filter_record_batch(batch, mask).expect("a mask of the batch's rows")
        };
        repeated.push(filter(&repeats));
        let others = filter(&arrow::compute::not(&repeats).expect("a boolean mask"));
        if others.num_rows() > 0 {
            kept.push(others);
        }
    }
    let mut in_order: Vec<&RecordBatch> = repeated.iter().collect();
    in_order.push(&new.batch);
    let merged = merge(&in_order, schema);
    if kept.is_empty() {
        return merged;
    }
    let all: Vec<RecordBatch> = kept
        .iter()
        .cloned()
        .chain(merged.iter().map(|day| day.batch.clone()))
        .collect();
    match crate::compact::merge_files(&all, schema) {
        Ok(day) => vec![day],
        // A stored column of another type than the table's: each part stays a file.
        Err(_) => kept.into_iter().map(day_of_rows).chain(merged).collect(),
    }
}

/// Stored rows of one day, sorted as stored, as a day's batch.
pub(crate) fn day_of_rows(batch: RecordBatch) -> DayBatch {
    let (min_time_ns, max_time_ns) = times(&batch)
        .iter()
        .fold((i64::MAX, i64::MIN), |(low, high), &t| {
            (low.min(t), high.max(t))
        });
    DayBatch {
        day: min_time_ns.div_euclid(NANOS_PER_DAY),
        batch,
        min_time_ns,
        max_time_ns,
    }
}

/// Merges stored rows with new ones as one write would: `batches` in write order, later
/// values of a field winning.
pub fn merge(batches: &[&RecordBatch], schema: &TableSchema) -> Vec<DayBatch> {
    let mut merged = MeasurementBatch::default();
    for batch in batches {
        for point in points_of(batch) {
            merged.push(&point);
        }
    }
    merged.finish(schema)
}

/// The Arrow schema of a whole table: its tags, `time`, its fields, in table order.
pub fn table_arrow_schema(schema: &TableSchema) -> Schema {
    arrow_schema_of(schema, |_| true)
}

/// The Arrow schema of the table's columns named `keep`: tags, `time`, fields, in table
/// order.
pub(crate) fn arrow_schema_of(schema: &TableSchema, keep: impl Fn(&str) -> bool) -> Schema {
    let mut fields: Vec<Field> = schema
        .tags()
        .filter(|c| keep(&c.name))
        .map(|c| column_field(&c.name, c.kind))
        .collect();
    fields.push(time_field());
    fields.extend(
        schema
            .columns()
            .iter()
            .filter(|c| c.kind != ColumnKind::Tag && keep(&c.name))
            .map(|c| column_field(&c.name, c.kind)),
    );
    Schema::new(fields)
}

/// A stored batch with every column of `target`: its own columns, and nulls for the
/// columns written after it.
pub fn conform(batch: &RecordBatch, target: &Arc<Schema>) -> RecordBatch {
    try_conform(batch, target).expect("stored columns have the table's types")
}

/// [`conform`], or `None` if a column of `batch` has another type than in `target` (a
/// column dropped and added again as another type).
pub fn try_conform(batch: &RecordBatch, target: &Arc<Schema>) -> Option<RecordBatch> {
    let columns: Vec<ArrayRef> = target
        .fields()
        .iter()
        .map(|field| match batch.column_by_name(field.name()) {
            Some(column) => column.clone(),
            None => arrow::array::new_null_array(field.data_type(), batch.num_rows()),
        })
        .collect();
    RecordBatch::try_new(target.clone(), columns).ok()
}

/// The Arrow type a field column is stored as.
pub fn arrow_type(kind: ColumnKind) -> DataType {
    match kind {
        ColumnKind::Tag => {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        }
        ColumnKind::Field(FieldType::Float) => DataType::Float64,
        ColumnKind::Field(FieldType::Integer) => DataType::Int64,
        ColumnKind::Field(FieldType::Unsigned) => DataType::UInt64,
        ColumnKind::Field(FieldType::String) => DataType::Utf8,
        ColumnKind::Field(FieldType::Boolean) => DataType::Boolean,
    }
}
