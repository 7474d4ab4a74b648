//! `tsparquet.parse_lp(lines, precision)`: shows how tsparquet reads line protocol, one row
//! per point or rejected line, without writing anything.

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::{Map, Number, Value};
use tsparquet_core::line_protocol::{self, FieldValue, ParseOptions, Point, Precision};
use tsparquet_core::time::unix_nanos_to_postgres_micros;

use crate::errors;

/// One row of `parse_lp`: line, measurement, tags, fields, time, time_ns, error.
type ParsedRow = (
    i64,
    Option<String>,
    Option<JsonB>,
    Option<JsonB>,
    Option<TimestampWithTimeZone>,
    Option<i64>,
    Option<String>,
);

// pgrx reads the column names from the return type, so it must be written out here.
#[allow(clippy::type_complexity)]
#[pg_extern(schema = "tsparquet", parallel_safe)]
fn parse_lp(
    lines: &str,
    precision: default!(&str, "'auto'"),
) -> TableIterator<
    'static,
    (
        name!(line, i64),
        name!(measurement, Option<String>),
        name!(tags, Option<JsonB>),
        name!(fields, Option<JsonB>),
        name!(time, Option<TimestampWithTimeZone>),
        name!(time_ns, Option<i64>),
        name!(error, Option<String>),
    ),
> {
    let precision: Precision = precision.parse().unwrap_or_else(|e| errors::raise(&e));
    let options = ParseOptions {
        precision,
        now_ns: tsparquet_core::time::now_ns(),
    };
    let rows: Vec<ParsedRow> = line_protocol::parse(lines, options)
        .map(|result| match result {
            Ok(point) => point_row(point),
            Err(e) => (
                e.line as i64,
                None,
                None,
                None,
                None,
                None,
                Some(e.to_string_without_line()),
            ),
        })
        .collect();
    TableIterator::new(rows)
}

fn point_row(point: Point<'_>) -> ParsedRow {
    let tags: Map<String, Value> = point
        .tags
        .into_iter()
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    let fields: Map<String, Value> = point
        .fields
        .into_iter()
        .map(|(k, v)| (k.into_owned(), field_json(v)))
        .collect();
    let micros = unix_nanos_to_postgres_micros(point.time_ns);
    let time = TimestampWithTimeZone::try_from(micros)
        .expect("every nanosecond timestamp is within the range of timestamptz");
    (
        point.line as i64,
        Some(point.measurement.into_owned()),
        Some(JsonB(Value::Object(tags))),
        Some(JsonB(Value::Object(fields))),
        Some(time),
        Some(point.time_ns),
        None,
    )
}

fn field_json(value: FieldValue<'_>) -> Value {
    match value {
        FieldValue::Float(v) => Number::from_f64(v).map_or(Value::Null, Value::Number),
        FieldValue::Integer(v) => Value::Number(v.into()),
        FieldValue::Unsigned(v) => Value::Number(v.into()),
        FieldValue::String(v) => Value::String(v.into_owned()),
        FieldValue::Boolean(v) => Value::Bool(v),
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn one_value<T: FromDatum + IntoDatum>(query: &str) -> T {
        Spi::get_one(query)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .unwrap_or_else(|| panic!("{query}: NULL"))
    }

    #[pg_test]
    fn points_become_rows_with_typed_json() {
        let row: String = one_value(
            r#"SELECT format('%s|%s|%s|%s|%s|%s', line, measurement, tags, fields, time, time_ns)
               FROM tsparquet.parse_lp(E'cpu,host=a,dc=x usage=1.5,n=3i,u=7u,s="hi",ok=t 1451606400123456789', 'ns')"#,
        );
        assert_eq!(
            row,
            r#"1|cpu|{"dc": "x", "host": "a"}|{"n": 3, "s": "hi", "u": 7, "ok": true, "usage": 1.5}|2016-01-01 00:00:00.123456+00|1451606400123456789"#
        );
    }

    #[pg_test]
    fn large_integers_keep_every_digit() {
        let fields: String = one_value(
            "SELECT fields::text FROM tsparquet.parse_lp('m i=-9223372036854775808i,u=18446744073709551615u 0')",
        );
        assert_eq!(
            fields,
            r#"{"i": -9223372036854775808, "u": 18446744073709551615}"#
        );
    }

    #[pg_test]
    fn rejected_lines_are_rows_with_an_error() {
        let rows: String = one_value(
            "SELECT string_agg(format('%s:%s:%s', line, measurement IS NULL, error), ' / ' ORDER BY line)
             FROM tsparquet.parse_lp(E'm f=1 1\\nm,t= f=1\\n\\nm f=1,f=2')",
        );
        assert_eq!(
            rows,
            r#"1:f: / 2:t:column 5: tag "t" has an empty value / 4:t:column 7: duplicate field key "f""#
        );
    }

    #[pg_test]
    fn time_is_truncated_toward_minus_infinity() {
        let time: String = one_value("SELECT time::text FROM tsparquet.parse_lp('m f=1 -1', 'ns')");
        assert_eq!(time, "1969-12-31 23:59:59.999999+00");
    }

    #[pg_test]
    fn missing_timestamp_is_the_current_time() {
        let close: bool = one_value(
            "SELECT abs(extract(epoch FROM time - clock_timestamp())) < 60
             FROM tsparquet.parse_lp('m f=1', 's')",
        );
        assert!(close);
    }

    #[pg_test(error = "unknown precision \"minutes\": use ns, us, ms, s or auto")]
    fn unknown_precision_is_an_error() {
        Spi::run("SELECT * FROM tsparquet.parse_lp('m f=1', 'minutes')").unwrap();
    }
}
