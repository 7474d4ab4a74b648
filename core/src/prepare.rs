//! A write prepared away from the database: lines parsed, admitted to their tables'
//! schemas and encoded as Parquet, in parts that may run on threads of their own. Only
//! storing the files needs the database.

use std::collections::BTreeMap;

use memchr::memchr_iter;

use crate::batch::{DayBatch, MeasurementBatch};
use crate::ingest::{Existing, Ingest, Outcome};
use crate::line_protocol::{whole_lines_len, ParseOptions};
use crate::parquet_file::{self, StorageError};
use crate::schema::TableSchema;

/// One day of a measurement's rows, and its Parquet file unless the write encodes its rows
/// later (see `pending`).
pub struct PreparedDay {
    pub day: DayBatch,
    pub parquet: Option<Vec<u8>>,
}

/// A measurement's rows in one part: its schema after the part, and its days.
pub struct PreparedMeasurement {
    pub schema: TableSchema,
    pub days: Vec<PreparedDay>,
}

/// One part of a write, ready to store.
pub struct PreparedPart {
    pub outcome: Outcome,
    pub measurements: BTreeMap<String, PreparedMeasurement>,
}

/// Sorts and cuts a measurement's rows into days, each encoded as a Parquet file if
/// `encode_files`.
pub fn encode(
    batch: MeasurementBatch,
    schema: &TableSchema,
    encode_files: bool,
) -> Result<Vec<PreparedDay>, StorageError> {
    batch
        .finish(schema)
        .into_iter()
        .map(|day| {
            let parquet = if encode_files {
                Some(parquet_file::write(&day.batch)?)
            } else {
                None
            };
            Ok(PreparedDay { day, parquet })
        })
        .collect()
}

/// Parses `text`, whose first line is line `first_line` of the input, admits its points to
/// the tables in `existing` (every measurement it names must be there) and, if
/// `encode_files`, encodes them.
pub fn prepare(
    existing: &BTreeMap<String, Existing>,
    text: &str,
    options: ParseOptions,
    first_line: usize,
    reported_rejections: usize,
    encode_files: bool,
) -> Result<PreparedPart, StorageError> {
    let mut ingest = Ingest::new(existing.clone(), reported_rejections);
    ingest.add(text, options, first_line);
    let outcome = ingest.outcome().clone();
    let measurements = ingest
        .into_writes()
        .map(|(name, write)| {
            let days = encode(write.batch, &write.schema, encode_files)?;
            Ok((
                name,
                PreparedMeasurement {
                    schema: write.schema,
                    days,
                },
            ))
        })
        .collect::<Result<_, StorageError>>()?;
    Ok(PreparedPart {
        outcome,
        measurements,
    })
}

/// Cuts `text` into at most `parts` pieces of whole lines, about equal in size, each with
/// the number of lines before it.
pub fn split(text: &str, parts: usize) -> Vec<(&str, usize)> {
    let mut pieces = Vec::with_capacity(parts);
    let mut rest = text;
    let mut lines_before = 0;
    for remaining in (1..=parts.max(1)).rev() {
        let target = rest.len() / remaining;
        let cut = if remaining == 1 {
            rest.len()
        } else {
            line_boundary_from(rest.as_bytes(), target)
        };
        if cut == 0 && !(remaining == 1 && pieces.is_empty()) {
            continue;
        }
        let (piece, after) = rest.split_at(cut);
        pieces.push((piece, lines_before));
        lines_before += memchr_iter(b'\n', piece.as_bytes()).count();
        rest = after;
    }
    pieces
}

/// The first end of a whole line at or after `target`: after a newline outside any string.
fn line_boundary_from(text: &[u8], target: usize) -> usize {
    let mut from = target.saturating_sub(1);
    loop {
        let after = memchr::memchr(b'\n', &text[from..]).map_or(text.len(), |at| from + at + 1);
        let boundary = whole_lines_len(&text[..after]);
        if boundary >= target || after == text.len() {
            return if boundary >= target {
                boundary
            } else {
                text.len()
            };
        }
        from = after;
    }
}

/// The schema of each measurement after all parts, in part order, if the parts agree: no
/// column added by one part with another kind, or a kind it had, in another. None if they
/// do not; then the write must be prepared again in one part, for its lines to be judged in
/// order.
pub fn combine_schemas(
    existing: &BTreeMap<String, Existing>,
    parts: &[PreparedPart],
) -> Option<BTreeMap<String, TableSchema>> {
    let mut combined: BTreeMap<String, TableSchema> = BTreeMap::new();
    for part in parts {
        for (name, measurement) in &part.measurements {
            let schema = combined
                .entry(name.clone())
                .or_insert_with(|| match &existing[name] {
                    Existing::Table { schema, .. } => schema.clone(),
                    _ => TableSchema::default(),
                });
            if !schema.extend_with(&measurement.schema) {
                return None;
            }
        }
    }
    Some(combined)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_protocol::{measurement_names, Precision};

    fn options() -> ParseOptions {
        ParseOptions {
            precision: Precision::Nanoseconds,
            now_ns: 0,
        }
    }

    fn in_parts(existing: &BTreeMap<String, Existing>, text: &str, n: usize) -> Vec<PreparedPart> {
        split(text, n)
            .into_iter()
            .map(|(piece, before)| {
                prepare(existing, piece, options(), 1 + before, 10, true).unwrap()
            })
            .collect()
    }

    fn missing(text: &str) -> BTreeMap<String, Existing> {
        measurement_names(text)
            .map(|m| (m.into_owned(), Existing::Missing))
            .collect()
    }

    #[test]
    fn split_cuts_whole_lines_and_counts_them() {
        let text = "a f=1 1\nb f=2 2\nc f=3 3\nd f=4 4\n";
        let pieces = split(text, 2);
        assert_eq!(
            pieces,
            vec![("a f=1 1\nb f=2 2\n", 0), ("c f=3 3\nd f=4 4\n", 2)]
        );
        assert_eq!(split("a f=1 1\nb f=2 2", 4).len(), 2, "no empty pieces");
        assert_eq!(pieces.iter().map(|p| p.0).collect::<String>(), text);
        assert_eq!(split(text, 1), vec![(text, 0)]);
        assert_eq!(split("", 3), vec![("", 0)]);
    }

    #[test]
    fn split_never_cuts_inside_a_string() {
        let text = "m s=\"long\nlong\nlong\nlong\" 1\nn f=1 2\n";
        let pieces = split(text, 2);
        assert_eq!(pieces[0].0, "m s=\"long\nlong\nlong\nlong\" 1\n");
        assert_eq!(pieces[1], ("n f=1 2\n", 4));
    }

    #[test]
    fn parts_prepare_the_rows_one_part_would() {
        let text: String = (0..100)
            .map(|i| format!("m,h=h{} f={i},g={}i {}\n", i % 3, i * 2, i / 3))
            .collect();
        let existing = missing(&text);
        let whole = prepare(&existing, &text, options(), 1, 10, true).unwrap();
        let parts = in_parts(&existing, &text, 3);
        let rows = |p: &PreparedPart| -> usize {
            p.measurements["m"]
                .days
                .iter()
                .map(|d| d.day.batch.num_rows())
                .sum()
        };
        assert_eq!(parts.iter().map(rows).sum::<usize>(), rows(&whole));
        let schemas = combine_schemas(&existing, &parts).unwrap();
        assert_eq!(schemas["m"], whole.measurements["m"].schema);
    }

    #[test]
    fn rejections_keep_their_line_numbers_in_every_part() {
        let text = "m f=1 1\nm f=x 2\nm f=2 3\nm f=y 4\n";
        let existing = missing(text);
        let lines: Vec<usize> = in_parts(&existing, text, 2)
            .into_iter()
            .flat_map(|part| part.outcome.rejections().to_vec())
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, vec![2, 4]);
    }

    #[test]
    fn parts_that_type_a_new_column_differently_do_not_combine() {
        let text = "m f=1 1\nm f=1i 2\n";
        let existing = missing(text);
        let parts = in_parts(&existing, text, 2);
        assert_eq!(parts.len(), 2);
        assert!(combine_schemas(&existing, &parts).is_none());
        let agreeing = "m f=1 1\nm f=2,g=true 2\n";
        let parts = in_parts(&existing, agreeing, 2);
        let names: Vec<String> = combine_schemas(&existing, &parts).unwrap()["m"]
            .columns()
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(names, vec!["f", "g"]);
    }
}
