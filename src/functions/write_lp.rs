//! `tsparquet.write_lp(database, lines, precision, accept_partial)`: writes line protocol
//! into the measurement tables of a database (a schema), creating and extending them.

use pgrx::prelude::*;
use pgrx::JsonB;
use serde_json::json;
use tsparquet_core::line_protocol::{ParseOptions, Precision};

use crate::catalog::with_safe_search_path;
use crate::errors;
use crate::write::LineWriter;

#[allow(clippy::type_complexity)]
#[pg_extern(schema = "tsparquet")]
fn write_lp(
    database: &str,
    lines: &str,
    precision: default!(&str, "'auto'"),
    accept_partial: default!(bool, true),
) -> TableIterator<
    'static,
    (
        name!(written, i64),
        name!(rejected, i64),
        name!(errors, JsonB),
    ),
> {
    let precision: Precision = precision.parse().unwrap_or_else(|e| errors::raise(&e));
    let options = ParseOptions {
        precision,
        now_ns: tsparquet_core::time::now_ns(),
    };
    let outcome = with_safe_search_path(|| {
        let mut writer = LineWriter::open(database, options, accept_partial);
        writer.write(lines, 1);
        writer.finish()
    });
    let errors: Vec<serde_json::Value> = outcome
        .rejections()
        .iter()
        .map(|r| json!({"line": r.line, "error": r.error, "text": r.text}))
        .collect();
    TableIterator::once((
        outcome.written() as i64,
        outcome.rejected() as i64,
        JsonB(errors.into()),
    ))
}
