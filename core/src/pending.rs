//! The rows a streaming write (`COPY`, a `write_lp` call of several chunks) keeps decoded
//! between its chunks. Stored chunk by chunk, a day of a measurement became a file per
//! chunk, which later writes decoded, merged and encoded again (automatic compaction). Kept
//! until a day holds what makes a file that writes no longer merge, most rows are encoded
//! once; days stored early (past the bounds below, or at the end of the write) may still be
//! merged later.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;

use crate::batch::{merge, repeats_any, DayBatch};
use crate::compact::{self, AUTOMATIC_MERGE_BYTES, MERGED_VALUES};
use crate::schema::TableSchema;

/// Decoded bytes at which a day of a measurement is stored: files of that size are no
/// longer merged by writes (see [`compact::automatic_plan`]).
pub const DAY_BYTES: i64 = AUTOMATIC_MERGE_BYTES / 2;
/// Values (rows × columns) at which a day is stored, so that with the chunk added after it
/// its file stays within [`MERGED_VALUES`].
const DAY_VALUES: i64 = MERGED_VALUES / 2;
/// Memory a write keeps in all (its batches' buffers, as allocated); past it, its largest
/// days are stored.
pub const KEPT_BYTES: i64 = 4 * DAY_BYTES;
/// Days (of all measurements) a write keeps at most: each batch has a cost of its own
/// beyond its buffers, and a load sorted by series touches many days per chunk with few
/// rows each.
pub const KEPT_DAYS: usize = 256;

/// The batches kept by measurement and UTC day, in the order they were written.
#[derive(Default)]
pub struct PendingDays {
    days: BTreeMap<(String, i64), Kept>,
    held: i64,
}

#[derive(Default)]
struct Kept {
    batches: Vec<DayBatch>,
    /// The rows' decoded size, as a stored file counts it (`compact::memory_size`).
    bytes: i64,
    /// The memory the batches hold.
    held: i64,
    values: i64,
}

/// A measurement and the batches of one of its days, in write order.
pub type TakenDay = (String, Vec<DayBatch>);

impl PendingDays {
    pub fn add(&mut self, measurement: &str, day: DayBatch) {
        let held = day.batch.get_array_memory_size() as i64;
        let kept = self
            .days
            .entry((measurement.to_owned(), day.day))
            .or_default();
        kept.bytes += compact::memory_size(&day.batch);
        kept.held += held;
        kept.values += (day.batch.num_rows() * day.batch.num_columns()) as i64;
        kept.batches.push(day);
        self.held += held;
    }

    /// The days to store now: each day that holds a file's worth, then the largest others
    /// while the write keeps more than [`KEPT_BYTES`] or [`KEPT_DAYS`].
    pub fn take_full(&mut self) -> Vec<TakenDay> {
        let full: Vec<(String, i64)> = self
            .days
            .iter()
            .filter(|(_, kept)| kept.bytes >= DAY_BYTES || kept.values >= DAY_VALUES)
            .map(|(key, _)| key.clone())
            .collect();
        let mut taken: Vec<TakenDay> = full.into_iter().map(|key| self.take(key)).collect();
        if self.held > KEPT_BYTES || self.days.len() > KEPT_DAYS {
            let mut by_size: Vec<((String, i64), i64)> = self
                .days
                .iter()
                .map(|(key, kept)| (key.clone(), kept.held))
                .collect();
            by_size.sort_unstable_by_key(|(_, held)| std::cmp::Reverse(*held));
            for (key, _) in by_size {
                if self.held <= KEPT_BYTES && self.days.len() <= KEPT_DAYS {
                    break;
                }
                taken.push(self.take(key));
            }
        }
        taken
    }

    /// Every day kept, for the end of the write.
    pub fn take_all(&mut self) -> Vec<TakenDay> {
        let all: Vec<(String, i64)> = self.days.keys().cloned().collect();
        all.into_iter().map(|key| self.take(key)).collect()
    }

    fn take(&mut self, key: (String, i64)) -> TakenDay {
        let kept = self.days.remove(&key).expect("a kept day");
        self.held -= kept.held;
        (key.0, kept.batches)
    }
}

/// A day's batches, in write order, as the rows one write of them all stores: where a
/// series and time repeats, the later values win.
pub fn combine(batches: Vec<DayBatch>, schema: &TableSchema) -> Vec<DayBatch> {
    if batches.len() < 2 {
        return batches;
    }
    // The chunks of a stream seldom repeat a point: their rows are then put together column
    // by column, and merged point by point only where they do.
    let repeats = (1..batches.len()).any(|i| repeats_any(&batches[..i], &batches[i]));
    if !repeats {
        let rows: Vec<RecordBatch> = batches.iter().map(|d| d.batch.clone()).collect();
        if let Ok(merged) = compact::merge_files(&rows, schema) {
            return vec![merged];
        }
    }
    let rows: Vec<&RecordBatch> = batches.iter().map(|d| &d.batch).collect();
    merge(&rows, schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::points_of;
    use crate::test_files::written_days as write;

    fn lines_of(days: &[DayBatch]) -> Vec<String> {
        days.iter()
            .flat_map(|d| points_of(&d.batch))
            .map(|p| format!("{p:?}"))
            .collect()
    }

    /// A day of `rows` rows with a kilobyte string each, at day `day`.
    fn wide_day(day: i64, rows: usize, schema: &mut TableSchema) -> DayBatch {
        let text = "x".repeat(1024);
        let lines: String = (0..rows)
            .map(|r| {
                format!(
                    "m,host=h{r} s=\"{text}\" {}\n",
                    day * 86_400_000_000_000 + 1
                )
            })
            .collect();
        write(&lines, schema).remove(0)
    }

    #[test]
    fn a_day_is_taken_once_it_holds_a_files_worth() {
        let mut schema = TableSchema::default();
        let mut pending = PendingDays::default();
        // About 5 MiB a batch: three stay, the fourth fills the day.
        for _ in 0..3 {
            pending.add("m", wide_day(0, 5_000, &mut schema));
            assert!(pending.take_full().is_empty());
        }
        pending.add("m", wide_day(1, 5_000, &mut schema));
        assert!(
            pending.take_full().is_empty(),
            "another day fills on its own"
        );
        pending.add("m", wide_day(0, 5_000, &mut schema));
        let taken = pending.take_full();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].0, "m");
        assert_eq!(taken[0].1.len(), 4);
        assert!(taken[0].1.iter().all(|d| d.day == 0));
        let rest = pending.take_all();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].1[0].day, 1);
        assert!(pending.take_all().is_empty());
    }

    #[test]
    fn past_the_kept_bound_the_largest_days_are_taken() {
        let mut schema = TableSchema::default();
        let mut pending = PendingDays::default();
        // Days of about 10 MiB (under a file's worth) until their sum passes the bound.
        for day in 0..8 {
            pending.add("m", wide_day(day, 10_000, &mut schema));
            pending.add("n", wide_day(day, 100, &mut schema));
        }
        let taken = pending.take_full();
        assert!(!taken.is_empty());
        assert!(taken.iter().all(|(measurement, _)| measurement == "m"));
        assert!(pending.held <= KEPT_BYTES);
        let rest = pending.take_all();
        assert_eq!(taken.len() + rest.len(), 16);
        assert_eq!(pending.held, 0);
    }

    #[test]
    fn past_the_kept_days_the_largest_are_taken() {
        let mut schema = TableSchema::default();
        let mut pending = PendingDays::default();
        let days = KEPT_DAYS as i64 + 10;
        for day in 0..days {
            let rows = if day < 10 { 3 } else { 1 };
            let lines: String = (0..rows)
                .map(|r| format!("m,host=h{r} f=1 {}\n", day * 86_400_000_000_000))
                .collect();
            pending.add("m", write(&lines, &mut schema).remove(0));
        }
        let taken = pending.take_full();
        assert_eq!(taken.len(), 10);
        assert!(taken
            .iter()
            .all(|(_, batches)| batches[0].batch.num_rows() == 3));
        assert_eq!(pending.days.len(), KEPT_DAYS);
    }

    #[test]
    fn combined_batches_hold_the_rows_of_one_write_of_them_all() {
        let chunks = [
            "m,host=b f=1 10\nm,host=a f=2 20",
            "m,host=a,dc=x g=4i 7\nm,host=c f=6 3",
            "m,host=b f=7 30\nm,host=a s=\"x\" 40",
        ];
        let mut schema = TableSchema::default();
        let batches: Vec<DayBatch> = chunks.iter().flat_map(|c| write(c, &mut schema)).collect();
        let combined = combine(batches, &schema);
        assert_eq!(combined.len(), 1);
        let mut together = TableSchema::default();
        let all = write(&chunks.join("\n"), &mut together);
        assert_eq!(combined[0].batch.schema(), all[0].batch.schema());
        assert_eq!(lines_of(&combined), lines_of(&all));
    }

    #[test]
    fn a_point_repeated_by_a_later_chunk_takes_its_later_values() {
        let chunks = ["m,host=a f=1,g=1 10\nm,host=b f=2 10", "m,host=a f=9 10"];
        let mut schema = TableSchema::default();
        let batches: Vec<DayBatch> = chunks.iter().flat_map(|c| write(c, &mut schema)).collect();
        let combined = combine(batches, &schema);
        let mut together = TableSchema::default();
        let all = write(&chunks.join("\n"), &mut together);
        assert_eq!(lines_of(&combined), lines_of(&all));
        assert_eq!(
            combined.iter().map(|d| d.batch.num_rows()).sum::<usize>(),
            2
        );
    }
}
