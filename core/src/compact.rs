//! Compaction: a measurement's small files of one UTC day merged into larger ones.
//!
//! Every write stores a file per day it touches, so a table written in many small batches
//! gathers many small files per day, and each file a query opens costs its footer, its
//! statistics and a scan of its own. Stored files never share a series and time (a write
//! merges such rows when it stores them), so merging files is sorting their rows by tags
//! and time, with nothing to deduplicate.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray, UInt32Array};
use arrow::datatypes::{Field, Int32Type, Schema, TimestampNanosecondType};
use rustc_hash::FxHashMap;

use crate::batch::{arrow_schema_of, conform, day_of_rows, DayBatch, NANOS_PER_DAY};
use crate::schema::TableSchema;

/// A stored file, as compaction plans by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileSummary {
    pub file_id: i64,
    pub min_time_ns: i64,
    pub row_count: i64,
    /// Bytes its rows take decoded (in Arrow arrays), which is what merging it holds.
    pub memory_size: i64,
}

/// Values (rows × columns) a merged file holds at most. Bounds the memory of a merge: the
/// decoded rows of its files and their sorted copy, about 8 bytes per value each.
pub const MERGED_VALUES: i64 = 64 << 20;

/// Decoded bytes a merge that a write makes holds at most. A merge holds about three
/// copies of its rows (decoded, put together, sorted), on top of what the write holds;
/// values alone do not bound that for long strings.
pub const AUTOMATIC_MERGE_BYTES: i64 = 32 << 20;

/// Files of one size class that a day gathers before a write merges them (automatic
/// compaction). A file's class is the number of decimal digits of its row count, and ten
/// files of a class hold at least as many rows as the class above starts with, so a merge
/// of a whole class makes a file of a higher class: a row is rewritten once per class it
/// climbs (about log10 of a day's rows over a write's rows), and a day keeps fewer than
/// this many files of each class. Where [`AUTOMATIC_MERGE_BYTES`] cuts a class into
/// several merges, their files may stay in the class; files holding half that bound are
/// not merged by writes at all.
pub const FILES_PER_CLASS: usize = 10;

/// The groups of files to merge, each into one file: files of one UTC day, in id order,
/// together holding at most [`MERGED_VALUES`] for files of `columns` columns (tags, time and
/// fields). A file holding half that already stays as it is; a group needs two files at
/// least.
pub fn plan(files: &[FileSummary], columns: usize) -> Vec<Vec<i64>> {
    let limit = Limit {
        rows: max_rows(columns),
        bytes: i64::MAX,
    };
    let days = gather(files, limit, day_of);
    days.into_values()
        .flat_map(|day| bounded_groups(day, limit))
        .collect()
}

/// The groups a write merges of the files of the days it touched: in a day, the files of
/// any size class that has [`FILES_PER_CLASS`] of them, grouped as [`plan`] groups them
/// and also holding at most [`AUTOMATIC_MERGE_BYTES`] decoded.
pub fn automatic_plan(files: &[FileSummary], columns: usize) -> Vec<Vec<i64>> {
    let limit = Limit {
        rows: max_rows(columns),
        bytes: AUTOMATIC_MERGE_BYTES,
    };
    let classes = gather(files, limit, |file| {
        (day_of(file), file.row_count.max(1).ilog10())
    });
    classes
        .into_values()
        .filter(|class| class.len() >= FILES_PER_CLASS)
        .flat_map(|class| bounded_groups(class, limit))
        .collect()
}

/// What a merged file holds at most.
#[derive(Clone, Copy)]
struct Limit {
    rows: i64,
    bytes: i64,
}

impl Limit {
    fn holds(&self, rows: i64, bytes: i64) -> bool {
        rows <= self.rows && bytes <= self.bytes
    }

    /// Whether `file` holds less than half of the limit, and so is worth merging.
    fn holds_twice(&self, file: &FileSummary) -> bool {
        file.row_count.saturating_mul(2) < self.rows
            && file.memory_size.saturating_mul(2) < self.bytes
    }
}

fn max_rows(columns: usize) -> i64 {
    (MERGED_VALUES / columns.max(1) as i64).max(1)
}

fn day_of(file: &FileSummary) -> i64 {
    file.min_time_ns.div_euclid(NANOS_PER_DAY)
}

/// The first and last nanosecond of UTC day `day` (days since 1970-01-01) that a time can
/// hold: the first and last days are cut short by the range of `i64`.
pub fn day_bounds(day: i64) -> (i64, i64) {
    let start = day.checked_mul(NANOS_PER_DAY).unwrap_or(i64::MIN);
    let end = (day + 1)
        .checked_mul(NANOS_PER_DAY)
        .map_or(i64::MAX, |next| next - 1);
    (start, end)
}

/// The files, of `files` (each an id and its stored columns' names and types, as Arrow
/// writes the types), that cannot be merged with the table's other files: those holding a
/// column of the table with another type than the table's (the column was dropped and
/// added again as another type), and those holding a column the table no longer has with
/// a type another of `files` holds it with another type.
pub fn conflicting_files(table: &Schema, files: &[(i64, Vec<(String, String)>)]) -> Vec<i64> {
    let mut types: BTreeMap<&str, std::collections::BTreeSet<&str>> = BTreeMap::new();
    for (_, columns) in files {
        for (name, kind) in columns {
            types.entry(name).or_default().insert(kind);
        }
    }
    files
        .iter()
        .filter(|(_, columns)| {
            columns
                .iter()
                .any(|(name, kind)| match table.field_with_name(name) {
                    Ok(field) => field.data_type().to_string() != *kind,
                    Err(_) => types[name.as_str()].len() > 1,
                })
        })
        .map(|(id, _)| *id)
        .collect()
}

/// The files worth merging (holding less than half of `limit`), by `key`.
fn gather<K: Ord>(
    files: &[FileSummary],
    limit: Limit,
    key: impl Fn(&FileSummary) -> K,
) -> BTreeMap<K, Vec<FileSummary>> {
    let mut gathered: BTreeMap<K, Vec<FileSummary>> = BTreeMap::new();
    for file in files.iter().filter(|f| limit.holds_twice(f)) {
        gathered.entry(key(file)).or_default().push(*file);
    }
    gathered
}

/// `files` in id order, cut into groups within `limit`; groups of one dropped.
fn bounded_groups(mut files: Vec<FileSummary>, limit: Limit) -> Vec<Vec<i64>> {
    files.sort_by_key(|f| f.file_id);
    let mut groups = Vec::new();
    let mut group: Vec<i64> = Vec::new();
    let (mut rows, mut bytes) = (0, 0);
    for file in files {
        if !limit.holds(rows + file.row_count, bytes + file.memory_size) {
            groups.push(std::mem::take(&mut group));
            (rows, bytes) = (0, 0);
        }
        group.push(file.file_id);
        rows += file.row_count;
        bytes += file.memory_size;
    }
    groups.push(group);
    groups.retain(|g| g.len() > 1);
    groups
}

/// The bytes the rows of `batch` take decoded: a file's [`FileSummary::memory_size`].
/// Counts only the rows of a sliced batch, as a file holds only those, but all of a
/// dictionary's values (a merged batch's tags keep the values of every merged file).
pub fn memory_size(batch: &RecordBatch) -> i64 {
    batch
        .columns()
        .iter()
        .map(|column| {
            column
                .to_data()
                .get_slice_memory_size()
                .expect("arrays of stored types have a size")
        })
        .sum::<usize>() as i64
}

/// Two stored files, or a file and the table, disagree on a column's type (a column was
/// dropped and added again with another type).
#[derive(Debug, PartialEq, Eq)]
pub struct ConflictingColumn(pub String);

impl fmt::Display for ConflictingColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stored files hold column \"{}\" with another type than the table or each other",
            self.0
        )
    }
}

/// The rows of one day's files as one batch, sorted as a write sorts them: by the table's
/// tags in column order (absent tags first), then time. Its columns are the table's that
/// the files have, in table order, then any the table does not have (its data stays as it
/// was); a file without a column gives NULLs.
pub fn merge_files(
    batches: &[RecordBatch],
    schema: &TableSchema,
) -> Result<DayBatch, ConflictingColumn> {
    let present = |name: &str| batches.iter().any(|b| b.schema().index_of(name).is_ok());
    let mut fields: Vec<Field> = arrow_schema_of(schema, present)
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    for batch in batches {
        for field in batch.schema_ref().fields() {
            match fields.iter().find(|f| f.name() == field.name()) {
                Some(known) if known.data_type() != field.data_type() => {
                    return Err(ConflictingColumn(field.name().clone()));
                }
                Some(_) => {}
                None => fields.push(field.as_ref().clone()),
            }
        }
    }
    let target = Arc::new(Schema::new(fields));
    let tag_count = schema.tags().filter(|c| present(&c.name)).count();
    let conformed: Vec<RecordBatch> = batches.iter().map(|b| conform(b, &target)).collect();
    let all = arrow::compute::concat_batches(&target, &conformed)
        .expect("conformed batches share one schema");
    let times: Vec<i64> = all
        .column(tag_count)
        .as_primitive::<TimestampNanosecondType>()
        .values()
        .to_vec();
    let series = series_ranks(&all.columns()[..tag_count]);
    let mut order: Vec<u32> = (0..all.num_rows() as u32).collect();
    // Each batch is sorted already: a stable sort merges such runs instead of sorting anew.
    order.sort_by_key(|&r| (series[r as usize], times[r as usize]));
    let sorted = arrow::compute::take_record_batch(&all, &UInt32Array::from(order))
        .expect("row indices are in range");
    Ok(day_of_rows(sorted))
}

/// For each row, the rank of its series (its tag values in column order, NULL first)
/// among the series of all rows.
fn series_ranks(tags: &[ArrayRef]) -> Vec<u32> {
    let rows = tags.first().map_or(0, |t| t.len());
    // Each tag's values as ranks among that column's values: 0 for NULL.
    let value_ranks: Vec<Vec<u32>> = tags
        .iter()
        .map(|column| {
            let column = column.as_dictionary::<Int32Type>();
            let entry_ranks = entry_ranks(column.values().as_string());
            (0..rows)
                .map(|r| {
                    if column.is_valid(r) {
                        entry_ranks[column.keys().value(r) as usize] + 1
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect();
    let key = |r: usize| -> Vec<u32> { value_ranks.iter().map(|v| v[r]).collect() };
    // Rows of a series come in runs (each file is sorted by series): one lookup per run.
    let mut series: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
    let mut row_series = Vec::with_capacity(rows);
    for r in 0..rows {
        let same_as_previous = r > 0 && value_ranks.iter().all(|v| v[r] == v[r - 1]);
        if same_as_previous {
            row_series.push(row_series[r - 1]);
        } else {
            let next = series.len() as u32;
            row_series.push(*series.entry(key(r)).or_insert(next));
        }
    }
    let mut by_key: Vec<(Vec<u32>, u32)> = series.into_iter().collect();
    by_key.sort_unstable();
    let mut rank = vec![0u32; by_key.len()];
    for (position, (_, id)) in by_key.iter().enumerate() {
        rank[*id as usize] = position as u32;
    }
    row_series.iter().map(|&s| rank[s as usize]).collect()
}

/// The rank of each entry of a dictionary among its distinct values (equal values, equal
/// ranks: dictionaries of concatenated files may repeat a value).
fn entry_ranks(values: &StringArray) -> Vec<u32> {
    let mut by_value: Vec<usize> = (0..values.len()).collect();
    by_value.sort_unstable_by(|&a, &b| values.value(a).cmp(values.value(b)));
    let mut ranks = vec![0u32; values.len()];
    let mut rank = 0;
    for (position, &entry) in by_value.iter().enumerate() {
        if position > 0 && values.value(by_value[position - 1]) != values.value(entry) {
            rank += 1;
        }
        ranks[entry] = rank;
    }
    ranks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_files::{lines_of, written_batch as write};

    #[test]
    fn merged_files_hold_the_rows_of_one_write_of_them_all() {
        let mut schema = TableSchema::default();
        let first = write(
            "m,host=b f=1 10\nm,host=a f=2 20\nm,host=a f=3 5",
            &mut schema,
        );
        let second = write("m,host=a,dc=x g=4i 7\nm f=5 1\nm,host=c f=6 3", &mut schema);
        let third = write("m,host=b f=7 30\nm,host=a s=\"x\" 40", &mut schema);
        let merged = merge_files(&[first, second, third], &schema).unwrap();

        let mut together = TableSchema::default();
        let all = write(
            "m,host=b f=1 10\nm,host=a f=2 20\nm,host=a f=3 5\n\
             m,host=a,dc=x g=4i 7\nm f=5 1\nm,host=c f=6 3\n\
             m,host=b f=7 30\nm,host=a s=\"x\" 40",
            &mut together,
        );
        assert_eq!(merged.batch.schema(), all.schema());
        assert_eq!(lines_of(&merged.batch), lines_of(&all));
        assert_eq!((merged.min_time_ns, merged.max_time_ns), (1, 40));
        assert_eq!(merged.day, 0);
    }

    #[test]
    fn a_column_missing_from_some_files_reads_as_null_there() {
        let mut schema = TableSchema::default();
        let old = write("m,host=a f=1 1", &mut schema);
        let new = write("m,host=a,region=eu f=2,g=true 2", &mut schema);
        let merged = merge_files(&[old.clone(), new], &schema).unwrap();
        let dropped = TableSchema::new(
            schema
                .columns()
                .iter()
                .filter(|c| c.name != "f")
                .cloned()
                .collect(),
        );
        let kept = merge_files(std::slice::from_ref(&old), &dropped).unwrap();
        assert_eq!(
            kept.batch.schema().field(2).name(),
            "f",
            "a column the table no longer has keeps its data"
        );
        let mut retyped = TableSchema::default();
        write("m,host=a f=1i 1", &mut retyped);
        assert_eq!(
            merge_files(&[old], &retyped).err(),
            Some(ConflictingColumn("f".into()))
        );
        let schema = merged.batch.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(names, ["host", "region", "time", "f", "g"]);
        let region = merged.batch.column(1);
        // Absent tags sort first: the row without a region, then the one with it.
        assert!(region.is_null(0) && region.is_valid(1));
        assert!(merged.batch.column(4).is_null(0));
    }

    fn file(file_id: i64, day: i64, row_count: i64) -> FileSummary {
        FileSummary {
            file_id,
            min_time_ns: day * NANOS_PER_DAY + 5,
            row_count,
            memory_size: row_count * 100,
        }
    }

    #[test]
    fn files_are_merged_by_day_in_groups_of_bounded_size() {
        let columns = 4;
        let max_rows = MERGED_VALUES / columns as i64;
        let files = [
            file(1, 0, 10),
            file(2, 1, 10),
            file(3, 0, 10),
            file(4, 0, max_rows / 2),
            file(5, 1, 10),
            file(6, 2, 10),
            file(7, -1, max_rows / 3),
            file(8, -1, max_rows / 3),
            file(9, -1, max_rows / 3),
            file(10, -1, 10),
        ];
        assert_eq!(
            plan(&files, columns),
            vec![vec![7, 8, 9], vec![1, 3], vec![2, 5]],
            "day -1: three thirds fill a file, the last file alone is no group; day 0: \
             the large file stays; day 2: a single file stays"
        );
        assert!(plan(&[], columns).is_empty());
    }

    #[test]
    fn a_write_merges_a_days_files_of_one_size_class_once_it_has_ten() {
        let columns = 4;
        let nine: Vec<FileSummary> = (1..=9).map(|id| file(id, 0, 200 + id)).collect();
        assert!(
            automatic_plan(&nine, columns).is_empty(),
            "nine files of a class stay"
        );
        let mut ten = nine.clone();
        ten.push(file(10, 0, 999));
        assert_eq!(
            automatic_plan(&ten, columns),
            vec![(1..=10).collect::<Vec<_>>()]
        );

        let mut mixed = nine.clone();
        mixed.push(file(10, 0, 1000));
        mixed.push(file(11, 1, 250));
        mixed.extend((12..=20).map(|id| file(id, 0, 99)));
        assert!(
            automatic_plan(&mixed, columns).is_empty(),
            "a file of another class or another day does not complete a class"
        );
        mixed.push(file(21, 0, 10));
        assert_eq!(
            automatic_plan(&mixed, columns),
            vec![(12..=21).collect::<Vec<_>>()],
            "the files of 10 to 99 rows, the nine of hundreds left"
        );
    }

    #[test]
    fn merging_a_full_class_makes_a_file_of_a_higher_class() {
        // Repeated writes of 37 rows, each followed by the merges they call for, as a
        // write does: the rows are rewritten once per class climbed, and the day ends in
        // few files.
        let columns = 4;
        let mut files: Vec<FileSummary> = Vec::new();
        let mut next_id = 0;
        let mut rows_written = 0;
        for _ in 0..5000 {
            next_id += 1;
            files.push(file(next_id, 0, 37));
            rows_written += 37;
            loop {
                let groups = automatic_plan(&files, columns);
                if groups.is_empty() {
                    break;
                }
                for group in groups {
                    let merged: Vec<FileSummary> = files
                        .iter()
                        .filter(|f| group.contains(&f.file_id))
                        .copied()
                        .collect();
                    let classes: Vec<u32> = merged.iter().map(|f| f.row_count.ilog10()).collect();
                    let rows: i64 = merged.iter().map(|f| f.row_count).sum();
                    assert!(rows.ilog10() > classes[0], "{classes:?} -> {rows}");
                    rows_written += rows;
                    files.retain(|f| !group.contains(&f.file_id));
                    next_id += 1;
                    files.push(file(next_id, 0, rows));
                }
            }
        }
        // 185,000 rows: classes 10-99, 100-999, 1,000-9,999 and 10,000-99,999.
        let stored: i64 = files.iter().map(|f| f.row_count).sum();
        assert_eq!(stored, 5000 * 37);
        assert!(files.len() < 9 * 5, "{} files", files.len());
        assert!(
            rows_written < stored * 5,
            "each row rewritten once per class at most"
        );
    }

    #[test]
    fn a_write_merges_no_more_decoded_bytes_than_its_bound() {
        let columns = 4;
        let wide = |file_id, memory_size| FileSummary {
            memory_size,
            ..file(file_id, 0, 5_000)
        };
        let quarter = AUTOMATIC_MERGE_BYTES / 4;
        let mut files: Vec<FileSummary> = (1..=10).map(|id| wide(id, quarter)).collect();
        assert_eq!(
            automatic_plan(&files, columns),
            vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8], vec![9, 10]]
        );
        files.push(wide(11, AUTOMATIC_MERGE_BYTES / 2));
        assert_eq!(
            automatic_plan(&files, columns).concat(),
            (1..=10).collect::<Vec<_>>(),
            "a file of half the bound is never merged by a write"
        );
        assert_eq!(
            plan(&files, columns),
            vec![(1..=11).collect::<Vec<_>>()],
            "tsparquet.compact bounds values only"
        );
    }

    #[test]
    fn a_slice_takes_the_memory_of_its_rows_only() {
        let lines: String = (0..1000)
            .map(|i| format!("m,host=h{} note=\"{}\" {i}\n", i % 3, "x".repeat(100)))
            .collect();
        let batch = write(&lines, &mut TableSchema::default());
        let whole = memory_size(&batch);
        assert!(whole > 100 * 1000, "{whole}");
        let tenth = memory_size(&batch.slice(0, 100));
        assert!(
            tenth * 8 < whole && tenth * 12 > whole,
            "{tenth} of {whole}"
        );
    }

    #[test]
    fn days_are_bounded_by_the_range_of_times() {
        assert_eq!(day_bounds(0), (0, NANOS_PER_DAY - 1));
        assert_eq!(day_bounds(-1), (-NANOS_PER_DAY, -1));
        let last = i64::MAX.div_euclid(NANOS_PER_DAY);
        let first = i64::MIN.div_euclid(NANOS_PER_DAY);
        assert_eq!(day_bounds(last).1, i64::MAX);
        assert_eq!(day_bounds(first).0, i64::MIN);
        assert!(day_bounds(last).0 > 0 && day_bounds(first).1 < 0);
    }

    #[test]
    fn files_holding_a_column_with_another_type_conflict() {
        let mut schema = TableSchema::default();
        write("m,host=a x=\"s\",v=1i 1", &mut schema);
        let table = crate::batch::table_arrow_schema(&schema);
        let kind = |name: &str| table.field_with_name(name).unwrap().data_type().to_string();
        let column = |name: &str, kind: &str| (name.to_owned(), kind.to_owned());
        let files = vec![
            (1, vec![column("host", &kind("host")), column("x", "Int64")]),
            (
                2,
                vec![column("host", &kind("host")), column("x", &kind("x"))],
            ),
            (3, vec![column("v", &kind("v")), column("gone", "Int64")]),
            (4, vec![column("gone", "Float64")]),
            (5, vec![column("gone2", "Float64")]),
        ];
        assert_eq!(conflicting_files(&table, &files), vec![1, 3, 4]);
        assert!(conflicting_files(&table, &files[1..2]).is_empty());
    }
}
