//! Stored files made from line protocol, for the tests of this crate.

use bytes::Bytes;

use crate::batch::MeasurementBatch;
use crate::line_protocol::{parse, ParseOptions, Precision};
use crate::parquet_file;
use crate::schema::TableSchema;

/// The file one write of `lines` (nanosecond times, all in one UTC day) stores.
pub fn stored(lines: &str) -> Bytes {
    let options = ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 0,
    };
    let mut schema = TableSchema::default();
    let mut batch = MeasurementBatch::default();
    for point in parse(lines, options) {
        let point = point.expect("parses");
        schema.admit(&point).expect("fits the table");
        batch.push(&point);
    }
    let mut days = batch.finish(&schema);
    assert_eq!(days.len(), 1, "the lines span one day");
    Bytes::from(parquet_file::write(&days.remove(0).batch).expect("encodes"))
}
