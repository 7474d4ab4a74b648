//! Writing line protocol into a database (a schema): the one path behind `write_lp` and
//! `COPY ... (FORMAT lineprotocol)`.
//!
//! Who may write: a role with CREATE on the target schema (its owner always has it), or,
//! when the schema does not exist yet, a role with CREATE on the current database, which
//! then owns the new schema. Measurement tables belong to the schema's owner.

pub mod column_changes;
pub mod compaction;
mod database;
mod memory;
pub(crate) mod parallel;
pub mod store;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use pgrx::PgSqlErrorCode;
use tsparquet_core::ingest::Outcome;
use tsparquet_core::line_protocol::{measurement_names, ParseOptions};
use tsparquet_core::pending::{combine, PendingDays, TakenDay};
use tsparquet_core::prepare::{combine_schemas, prepare, split, PreparedDay, PreparedPart};
use tsparquet_core::schema::TableSchema;

use crate::catalog::{lock_database, lock_measurement, measurements};
use crate::errors::{self, report};
use crate::settings::write_threads;

/// Rejected lines kept for the caller (all are counted).
pub const REPORTED_ERRORS: usize = 100;
/// Rejected lines named in an ERROR or WARNING.
pub const ERRORS_IN_MESSAGE: usize = 10;
/// Bytes of input parsed together. With the rows a streaming write keeps
/// (`tsparquet_core::pending::KEPT_BYTES`), bounds what a write holds in memory whatever the
/// size of the whole input.
pub const CHUNK_BYTES: usize = 16 << 20;
/// The least input worth a thread of its own.
const MIN_PART_BYTES: usize = 256 * 1024;

/// A write into one database that may arrive in pieces, inside the caller's transaction, so
/// an ERROR later still undoes all of it. [`LineWriter::finish`] ends it.
pub struct LineWriter {
    database: String,
    options: ParseOptions,
    accept_partial: bool,
    outcome: Outcome,
    /// For a write of many chunks, the rows it keeps decoded to store a day of a measurement
    /// at a time (`tsparquet_core::pending`); without it, each chunk is stored as it comes.
    kept: Option<Kept>,
}

struct Kept {
    days: PendingDays,
    /// Each measurement kept: its table's id and schema.
    tables: BTreeMap<String, (i64, TableSchema)>,
}

impl LineWriter {
    /// Checks that the caller may write into `database`, creating it if they may.
    pub fn open(database: &str, options: ParseOptions, accept_partial: bool) -> Self {
        database::check_name(database);
        memory::keep_freed_memory(0);
        lock_database(database);
        database::ensure(database);
        LineWriter {
            database: database.to_owned(),
            options,
            accept_partial,
            outcome: Outcome::new(REPORTED_ERRORS),
            kept: None,
        }
    }

    /// From now on, keeps the rows until a day of a measurement fills a file: a write of
    /// several chunks.
    fn keep_rows(&mut self) {
        self.kept.get_or_insert_with(|| Kept {
            days: PendingDays::default(),
            tables: BTreeMap::new(),
        });
    }

    /// Writes `lines`, whose first line is line `first_line` of the whole input, a chunk at
    /// a time. Raises an ERROR if the write is strict and a line is bad.
    pub fn write(&mut self, lines: &str, first_line: usize) {
        memory::keep_freed_memory(lines.len());
        let chunks = split(lines, lines.len().div_ceil(CHUNK_BYTES));
        if chunks.len() > 1 {
            self.keep_rows();
        }
        for (chunk, before) in chunks {
            self.write_with(chunk, first_line + before, None::<fn()>);
        }
    }

    /// Writes `lines`, one chunk of a stream, as `write` does, running `beside` on the
    /// backend thread while the lines are parsed on others.
    pub fn write_beside(&mut self, lines: &str, first_line: usize, beside: impl FnOnce()) {
        self.keep_rows();
        self.write_with(lines, first_line, Some(beside));
    }

    fn write_with(&mut self, lines: &str, first_line: usize, beside: Option<impl FnOnce()>) {
        let mut names: BTreeSet<Cow<'_, str>> = BTreeSet::new();
        let mut previous: Option<Cow<'_, str>> = None;
        for name in measurement_names(lines) {
            // Lines of one measurement come in runs: only a new name needs the set.
            if previous.as_ref() != Some(&name) {
                names.insert(name.clone());
                previous = Some(name);
            }
        }
        let mut existing = BTreeMap::new();
        for name in names {
            lock_measurement(&self.database, &name);
            existing.insert(name.to_string(), measurements::find(&self.database, &name));
        }
        let threads = write_threads();
        let parts = threads.min(lines.len() / MIN_PART_BYTES).max(1);
        let options = self.options;
        let encode_files = self.kept.is_none();
        let jobs: Vec<_> = split(lines, parts)
            .into_iter()
            .map(|(piece, before)| {
                let existing = &existing;
                move || {
                    prepare(
                        existing,
                        piece,
                        options,
                        first_line + before,
                        REPORTED_ERRORS,
                        encode_files,
                    )
                }
            })
            .collect();
        let mut prepared: Vec<PreparedPart> = parallel::run_all(jobs, beside)
            .into_iter()
            .map(|part| part.unwrap_or_else(|e| errors::raise(&e)))
            .collect();
        let schemas = match combine_schemas(&existing, &prepared) {
            Some(schemas) => schemas,
            None => {
                // Parts added a column in ways that only the lines in order can settle.
                prepared = vec![prepare(
                    &existing,
                    lines,
                    options,
                    first_line,
                    REPORTED_ERRORS,
                    encode_files,
                )
                .unwrap_or_else(|e| errors::raise(&e))];
                combine_schemas(&existing, &prepared).expect("one part combines with itself")
            }
        };
        for part in &prepared {
            self.outcome.absorb(&part.outcome);
        }
        if !self.accept_partial && self.outcome.rejected() > 0 {
            report(
                PgSqlErrorCode::ERRCODE_INVALID_TEXT_REPRESENTATION,
                &format!(
                    "{} line(s) of line protocol could not be written; nothing was written",
                    self.outcome.rejected()
                ),
                Some(&self.outcome.summary(ERRORS_IN_MESSAGE)),
                Some(
                    "Fix the lines named, or write with accept_partial => true to skip bad lines.",
                ),
            );
        }
        for (measurement, schema) in &schemas {
            let days: Vec<PreparedDay> = prepared
                .iter_mut()
                .filter_map(|part| part.measurements.remove(measurement))
                .flat_map(|m| m.days)
                .collect();
            let existing = &existing[measurement];
            match &mut self.kept {
                None => store::store(&self.database, measurement, existing, schema, days),
                Some(kept) => {
                    let (table_id, _) =
                        store::table_for(&self.database, measurement, existing, schema);
                    kept.tables
                        .insert(measurement.clone(), (table_id, schema.clone()));
                    for day in days {
                        kept.days.add(measurement, day.day);
                    }
                }
            }
        }
        if let Some(kept) = &mut self.kept {
            let full = kept.days.take_full();
            store_kept(&self.database, &kept.tables, full);
        }
    }

    /// Stores what the write has kept and returns what became of its lines.
    pub fn finish(mut self) -> Outcome {
        if let Some(mut kept) = self.kept.take() {
            let all = kept.days.take_all();
            store_kept(&self.database, &kept.tables, all);
        }
        std::mem::replace(&mut self.outcome, Outcome::new(0))
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        // An ERROR unwinds past a writer and drops its rows with the transaction; otherwise
        // rows still kept are rows lost.
        if !std::thread::panicking() && self.kept.as_ref().is_some_and(|k| !k.tables.is_empty()) {
            panic!("a streaming LineWriter was dropped without finish()");
        }
    }
}

/// Stores the days a write has kept, each day's rows as one write of them would.
fn store_kept(database: &str, tables: &BTreeMap<String, (i64, TableSchema)>, taken: Vec<TakenDay>) {
    for (measurement, batches) in taken {
        let (table_id, schema) = &tables[&measurement];
        let days = combine(batches, schema)
            .into_iter()
            .map(|day| PreparedDay { day, parquet: None })
            .collect();
        store::store_days(database, &measurement, *table_id, false, schema, days);
    }
}
