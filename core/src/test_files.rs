//! Stored files made from line protocol, for the tests of this crate.

use std::collections::BTreeMap;

use bytes::Bytes;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};

use arrow::array::RecordBatch;

use crate::batch::{points_of, DayBatch, MeasurementBatch};
use crate::ingest::Existing;
use crate::line_protocol::{parse, ParseOptions, Precision};
use crate::prepare::prepare;
use crate::schema::TableSchema;

/// The days one write of `lines` (nanosecond times) stores, admitted to `schema`, which
/// becomes the table's schema after the write.
pub fn written_days(lines: &str, schema: &mut TableSchema) -> Vec<DayBatch> {
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    let mut batch = MeasurementBatch::default();
    for point in parse(lines, options) {
        let point = point.expect("a valid line");
        schema.admit(&point).expect("an admissible point");
        batch.push(&point);
    }
    batch.finish(schema)
}

/// The batch one write of `lines` (all in one UTC day) stores, admitted to `schema`.
pub fn written_batch(lines: &str, schema: &mut TableSchema) -> RecordBatch {
    let mut days = written_days(lines, schema);
    assert_eq!(days.len(), 1);
    days.remove(0).batch
}

/// The points of a stored batch, one line each.
pub fn lines_of(batch: &RecordBatch) -> Vec<String> {
    points_of(batch).iter().map(|p| format!("{p:?}")).collect()
}

/// The file one write of `lines` (measurement `m`, nanosecond times, all in one UTC day)
/// stores.
pub fn stored(lines: &str) -> Bytes {
    stored_table(lines).1
}

/// The footer, with its page index, of the file one write of `lines` stores.
pub fn stored_footer(lines: &str) -> ParquetMetaData {
    ParquetMetaDataReader::new()
        .with_page_index_policy(PageIndexPolicy::Required)
        .parse_and_finish(&stored(lines))
        .expect("a readable footer")
}

/// The table schema one write of `lines` makes, and the file it stores (as [`stored`]).
pub fn stored_table(lines: &str) -> (TableSchema, Bytes) {
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    let tables = BTreeMap::from([("m".to_owned(), Existing::Missing)]);
    let part = prepare(&tables, lines, options, 1, 0, true).expect("encodes");
    assert_eq!(part.outcome.rejected(), 0, "every line is written");
    let mut measurement = part.measurements.into_values().next().expect("one table");
    assert_eq!(measurement.days.len(), 1, "the lines span one day");
    let file = Bytes::from(measurement.days.remove(0).parquet.expect("encoded"));
    (measurement.schema, file)
}
