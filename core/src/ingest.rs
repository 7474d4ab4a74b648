//! One write of line protocol: points grouped by measurement, each admitted to its table's
//! schema and collected into a batch, and the lines that could not be written.

use std::collections::BTreeMap;

use crate::batch::MeasurementBatch;
use crate::line_protocol::{parse, ParseOptions};
use crate::schema::{check_table_name, TableSchema};

/// What the database holds under a measurement's name.
#[derive(Debug, Clone)]
pub enum Existing {
    /// Nothing: the table will be created.
    Missing,
    /// A measurement table with these columns, its files keyed by `table_id`.
    Table { schema: TableSchema, table_id: i64 },
    /// Something that is not a measurement table; its lines are rejected with this reason.
    Unusable(String),
}

/// A line that was not written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub line: usize,
    pub error: String,
    pub text: String,
}

/// The points of one measurement in this write.
pub struct MeasurementWrite {
    pub existing: Existing,
    /// The table's columns after this write: the existing ones, then those it adds.
    pub schema: TableSchema,
    pub batch: MeasurementBatch,
}

/// What became of a write's lines: how many were written and rejected, and the first
/// `capacity` rejections, so that a million bad lines do not build a million messages.
#[derive(Debug, Clone)]
pub struct Outcome {
    written: u64,
    rejected: u64,
    rejections: Vec<Rejection>,
    capacity: usize,
}

impl Outcome {
    pub fn new(capacity: usize) -> Self {
        Outcome {
            written: 0,
            rejected: 0,
            rejections: Vec::new(),
            capacity,
        }
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The first rejections, in line order.
    pub fn rejections(&self) -> &[Rejection] {
        &self.rejections
    }

    fn reject(&mut self, line: usize, error: String, text: &str) {
        self.rejected += 1;
        if self.rejections.len() < self.capacity {
            let text = crate::line_protocol::echo(text);
            self.rejections.push(Rejection { line, error, text });
        }
    }

    /// Adds the outcome of the lines that came after.
    pub fn absorb(&mut self, later: &Outcome) {
        self.written += later.written;
        self.rejected += later.rejected;
        let room = self.capacity.saturating_sub(self.rejections.len());
        self.rejections
            .extend(later.rejections.iter().take(room).cloned());
    }

    /// The first `count` rejections as `line N: error`, one per line, then how many more.
    pub fn summary(&self, count: usize) -> String {
        let mut text: Vec<String> = self
            .rejections
            .iter()
            .take(count)
            .map(|r| format!("line {}: {}", r.line, r.error))
            .collect();
        let unnamed = self.rejected - text.len() as u64;
        if unnamed > 0 {
            text.push(format!("and {unnamed} more"));
        }
        text.join("\n")
    }
}

/// Collects a write: its points by measurement, and what became of its lines.
pub struct Ingest {
    measurements: BTreeMap<String, MeasurementWrite>,
    outcome: Outcome,
}

impl Ingest {
    /// `existing` tells, for each measurement name the input uses, what the database holds.
    pub fn new(existing: BTreeMap<String, Existing>, capacity: usize) -> Self {
        let measurements = existing
            .into_iter()
            .map(|(name, existing)| {
                let schema = match &existing {
                    Existing::Table { schema, .. } => schema.clone(),
                    _ => TableSchema::default(),
                };
                (
                    name,
                    MeasurementWrite {
                        existing,
                        schema,
                        batch: MeasurementBatch::default(),
                    },
                )
            })
            .collect();
        Ingest {
            measurements,
            outcome: Outcome::new(capacity),
        }
    }

    /// Parses `input` and admits its points; the line numbers of `input` are offset by
    /// `first_line - 1`, for input that arrives in pieces.
    pub fn add(&mut self, input: &str, options: ParseOptions, first_line: usize) {
        let mut parser = parse(input, options);
        while let Some(result) = parser.next() {
            let point = match result {
                Ok(point) => point,
                Err(e) => {
                    self.reject(first_line - 1 + e.line, e.to_string_without_line(), &e.text);
                    continue;
                }
            };
            let line = first_line - 1 + point.line;
            if let Err(e) = check_table_name("measurement name", &point.measurement) {
                self.reject(line, e.to_string(), parser.current_text());
                continue;
            }
            let Some(target) = self.measurements.get_mut(point.measurement.as_ref()) else {
                panic!(
                    "measurement {} was not looked up before the write",
                    point.measurement
                );
            };
            let admitted = match &target.existing {
                Existing::Unusable(reason) => Err(reason.clone()),
                _ => target.schema.admit(&point).map_err(|e| e.to_string()),
            };
            match admitted {
                Ok(()) => {
                    target.batch.push_parsed(&point, parser.current_series());
                    self.outcome.written += 1;
                }
                Err(error) => self.reject(line, error, parser.current_text()),
            }
            parser.recycle(point);
        }
    }

    fn reject(&mut self, line: usize, error: String, text: &str) {
        self.outcome.reject(line, error, text);
    }

    pub fn outcome(&self) -> &Outcome {
        &self.outcome
    }

    /// The measurements that have points to write, by name.
    pub fn into_writes(self) -> impl Iterator<Item = (String, MeasurementWrite)> {
        self.measurements
            .into_iter()
            .filter(|(_, w)| !w.batch.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_protocol::FieldType;
    use crate::line_protocol::{measurement_names, Precision};
    use crate::schema::{Column, ColumnKind};

    fn options() -> ParseOptions {
        ParseOptions {
            precision: Precision::Nanoseconds,
            now_ns: 0,
        }
    }

    fn lookup(input: &str, existing: impl Fn(&str) -> Existing) -> BTreeMap<String, Existing> {
        measurement_names(input)
            .map(|m| (m.to_string(), existing(&m)))
            .collect()
    }

    #[test]
    fn points_group_by_measurement_and_bad_lines_are_counted() {
        let input = "cpu,h=a u=1 1\nmem f=2i 1\ncpu,h=a u=oops 2\ncpu u=1i 3\n\nmem f=3i 4";
        let mut ingest = Ingest::new(lookup(input, |_| Existing::Missing), 10);
        ingest.add(input, options(), 1);
        assert_eq!(
            (ingest.outcome().written(), ingest.outcome().rejected()),
            (3, 2)
        );
        let lines: Vec<usize> = ingest
            .outcome()
            .rejections()
            .iter()
            .map(|r| r.line)
            .collect();
        assert_eq!(lines, vec![3, 4]);
        assert_eq!(
            ingest.outcome().rejections()[1].error,
            "field type conflict: column u is double precision, line has integer"
        );
        let writes: Vec<(String, usize)> = ingest
            .into_writes()
            .map(|(name, w)| (name, w.batch.rows()))
            .collect();
        assert_eq!(writes, vec![("cpu".into(), 1), ("mem".into(), 2)]);
    }

    #[test]
    fn existing_columns_decide_types() {
        let existing = TableSchema::new(vec![Column {
            name: "u".into(),
            kind: ColumnKind::Field(FieldType::Integer),
        }]);
        let input = "cpu  u=1   1\ncpu u=2i 2";
        let mut ingest = Ingest::new(
            lookup(input, |_| Existing::Table {
                schema: existing.clone(),
                table_id: 1,
            }),
            10,
        );
        ingest.add(input, options(), 1);
        assert_eq!(
            (ingest.outcome().written(), ingest.outcome().rejected()),
            (1, 1)
        );
        assert_eq!(ingest.outcome().rejections()[0].line, 1);
        assert_eq!(
            ingest.outcome().rejections()[0].text,
            "cpu  u=1   1",
            "the line as written"
        );
    }

    #[test]
    fn unusable_tables_reject_their_lines() {
        let input = "t f=1 1\nok f=1 1";
        let mut ingest = Ingest::new(
            lookup(input, |m| {
                if m == "t" {
                    Existing::Unusable("not ours".into())
                } else {
                    Existing::Missing
                }
            }),
            10,
        );
        ingest.add(input, options(), 1);
        assert_eq!(
            ingest.outcome().rejections(),
            &[Rejection {
                line: 1,
                error: "not ours".into(),
                text: "t f=1 1".into()
            }]
        );
    }

    #[test]
    fn rejections_are_bounded_but_all_counted() {
        let input = "m f=x\n".repeat(50);
        let mut ingest = Ingest::new(lookup(&input, |_| Existing::Missing), 5);
        ingest.add(&input, options(), 1);
        assert_eq!(ingest.outcome().rejected(), 50);
        assert_eq!(ingest.outcome().rejections().len(), 5);
    }

    #[test]
    fn outcomes_of_parts_add_up_within_the_same_bound() {
        let input = "m f=x\n".repeat(4);
        let mut first = Ingest::new(lookup(&input, |_| Existing::Missing), 3);
        first.add(&input, options(), 1);
        let mut second = Ingest::new(lookup(&input, |_| Existing::Missing), 3);
        second.add(&input, options(), 5);
        let mut total = first.outcome().clone();
        total.absorb(second.outcome());
        assert_eq!((total.written(), total.rejected()), (0, 8));
        let lines: Vec<usize> = total.rejections().iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 2, 3]);
        assert_eq!(
            total.summary(2),
            "line 1: column 5: invalid boolean field value 'x'\nline 2: column 5: invalid boolean field value 'x'\nand 6 more"
        );
    }

    #[test]
    fn line_numbers_continue_across_pieces() {
        let input = "m f=x";
        let mut ingest = Ingest::new(lookup(input, |_| Existing::Missing), 5);
        ingest.add(input, options(), 101);
        assert_eq!(ingest.outcome().rejections()[0].line, 101);
    }

    #[test]
    fn long_measurement_names_are_rejected() {
        let input = format!("{} f=1", "m".repeat(64));
        let mut ingest = Ingest::new(lookup(&input, |_| Existing::Missing), 5);
        ingest.add(&input, options(), 1);
        assert_eq!(ingest.outcome().rejected(), 1);
        assert!(ingest.outcome().rejections()[0]
            .error
            .contains("limited to 63 bytes"));
    }
}
