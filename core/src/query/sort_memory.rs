//! What the engine's sorts and percentiles need of a query's memory (`work_mem`), which
//! decides whether the glue offers them: past it Postgres sorts, spilling where the engine
//! could only fail.

/// Rows per batch of a query that sorts all its rows. DataFusion's sort needs room within
/// the query's memory for about twice each batch it takes in, beside what it keeps to
/// merge its spilled runs; Postgres' smallest `work_mem`, 64 kB, holds little of a batch
/// of 8,192 rows.
pub const SORT_BATCH_ROWS: usize = 1024;

/// The most runs a sort of all rows may spill: each is a file, open until the merge, and
/// thousands (a sort at 64 kB) ran the backend out of file descriptors.
const MAX_SPILLED_RUNS: f64 = 128.0;

/// Whether the engine can sort at most `rows` rows `width` bytes wide within
/// `memory_bytes`: two of its batches at twice their size fit in the three quarters of
/// the memory a sort does not keep to merge, and the rows spill in at most
/// `MAX_SPILLED_RUNS` runs of that size.
pub fn full_sort_fits(width: f64, rows: f64, memory_bytes: f64) -> bool {
    let sorting_bytes = 0.75 * memory_bytes;
    4.0 * SORT_BATCH_ROWS as f64 * width <= sorting_bytes
        && 2.0 * rows * width <= MAX_SPILLED_RUNS * sorting_bytes
}

/// Whether the engine's top-N of `kept` rows fits within `memory_bytes`. DataFusion's
/// top-N holds the input batches its top rows are in, which it cannot spill; measured on
/// the benchmark data, the top 10 and 1,000 rows needed 512 kB whether of 2 or 21
/// columns, the top 10,000 needed 2 MB, the top 100 groups 256 kB.
pub fn top_rows_fit(kept: usize, memory_bytes: f64) -> bool {
    memory_bytes >= (512.0 + 0.2 * kept as f64) * 1024.0
}

/// Whether `percentiles` percentiles of at most `rows` values each fit within
/// `memory_bytes`. Each group keeps its values (8 bytes each, up to twice that as its list
/// grows) until its result is made, DataFusion reserves as much again to sort its groups
/// should it spill them, and the list of a group it spills is copied once more; none of a
/// group's values can be spilled apart. Measured at the worst case, a list that has just
/// grown (`engine::tests::percentiles_at_the_gates_limit_spill_many_groups_and_hold_one`).
pub fn percentile_values_fit(percentiles: usize, rows: f64, memory_bytes: f64) -> bool {
    percentiles == 0 || percentiles as f64 * rows * 48.0 + 256.0 * 1024.0 <= memory_bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    const KB: f64 = 1024.0;
    const MB: f64 = 1024.0 * KB;
    /// The standard benchmark table's rows.
    const TABLE: f64 = 3_456_000.0;

    #[test]
    fn a_full_sort_needs_room_for_its_batches() {
        // Two columns of 8 bytes: not at Postgres' smallest work_mem, at 128 kB.
        assert!(!full_sort_fits(16.0, 1_000.0, 64.0 * KB));
        assert!(full_sort_fits(16.0, 1_000.0, 128.0 * KB));
        // Every column of the benchmark table (416 bytes by Postgres' estimate).
        assert!(!full_sort_fits(416.0, 1_000.0, 2.0 * MB));
        assert!(full_sort_fits(416.0, 1_000.0, 4.0 * MB));
    }

    #[test]
    fn a_full_sort_spills_in_few_runs() {
        // Two columns of the whole benchmark table: about 140 runs at 1 MB, 35 at 4 MB.
        assert!(!full_sort_fits(16.0, TABLE, MB));
        assert!(full_sort_fits(16.0, TABLE, 4.0 * MB));
        // Every column of it: 1.4 GB of rows, past 128 runs of 3 MB.
        assert!(!full_sort_fits(416.0, TABLE, 4.0 * MB));
        assert!(full_sort_fits(416.0, TABLE, 32.0 * MB));
    }

    #[test]
    fn a_top_n_needs_what_it_was_measured_to_need() {
        assert!(!top_rows_fit(10, 256.0 * KB));
        assert!(top_rows_fit(10, MB));
        assert!(top_rows_fit(1_000, MB));
        assert!(!top_rows_fit(10_000, MB));
        assert!(!top_rows_fit(10_000, 2.0 * MB));
        assert!(top_rows_fit(10_000, 4.0 * MB));
    }

    #[test]
    fn percentiles_keep_every_value_of_the_table() {
        // The standard benchmark table needs about 158 MB per percentile.
        assert!(!percentile_values_fit(1, TABLE, 4.0 * MB));
        assert!(percentile_values_fit(1, TABLE, 160.0 * MB));
        assert!(!percentile_values_fit(2, TABLE, 160.0 * MB));
        assert!(percentile_values_fit(1, 80_000.0, 4.0 * MB));
        assert!(!percentile_values_fit(1, 90_000.0, 4.0 * MB));
        assert!(percentile_values_fit(0, TABLE, 64.0 * KB));
    }
}
