//! What the statistics of a query's files prove about the columns it aggregates: facts
//! that let the engine compute the same results with cheaper aggregates.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::Schema;
use parquet::file::metadata::ParquetMetaData;

use super::narrow_sums::columns_summing_in_64_bits;
use super::request::QueryRequest;

#[derive(Debug, Default)]
pub(crate) struct ColumnFacts {
    /// The `bigint` columns no sum of which leaves the 64-bit range (see `narrow_sums`).
    pub narrow_sums: HashSet<String>,
    /// Counted columns with a value in every row of every file: counting one of them is
    /// counting rows, so all of them share one count instead of each keeping its own per
    /// group (a tenth of a ten-column `avg` query's time each).
    pub never_null: HashSet<String>,
}

impl ColumnFacts {
    pub fn of(
        schema: &Schema,
        footers: &[Arc<ParquetMetaData>],
        request: &QueryRequest,
    ) -> ColumnFacts {
        ColumnFacts {
            narrow_sums: columns_summing_in_64_bits(schema, footers, &request.summed_columns()),
            never_null: request
                .counted_columns()
                .into_iter()
                .filter(|column| never_null(footers, column))
                .map(str::to_owned)
                .collect(),
        }
    }

    /// The facts in a stable order, for the key of a kept plan made with them.
    pub fn key(&self) -> String {
        let sorted = |set: &HashSet<String>| {
            let mut names: Vec<&String> = set.iter().collect();
            names.sort();
            format!("{names:?}")
        };
        format!("{} {}", sorted(&self.narrow_sums), sorted(&self.never_null))
    }
}

/// Whether every row group of every file says it holds no NULL of `column`. A file
/// written before the column existed reads it as NULL.
fn never_null(footers: &[Arc<ParquetMetaData>], column: &str) -> bool {
    footers.iter().all(|footer| {
        let Some(index) = leaf_index(footer, column) else {
            return false;
        };
        footer.row_groups().iter().all(|group| {
            group
                .column(index)
                .statistics()
                .and_then(|statistics| statistics.null_count_opt())
                == Some(0)
        })
    })
}

/// The index of `column` among a file's leaf columns; None if the file was written
/// before the column existed.
pub(super) fn leaf_index(footer: &ParquetMetaData, column: &str) -> Option<usize> {
    footer
        .file_metadata()
        .schema_descr()
        .columns()
        .iter()
        .position(|leaf| leaf.path().parts() == [column])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_files::stored_table;
    use parquet::file::metadata::ParquetMetaDataReader;

    fn never_null_columns(files: &[&str], columns: &[&str]) -> Vec<String> {
        let footers: Vec<_> = files
            .iter()
            .map(|lines| {
                let (_, bytes) = stored_table(lines);
                Arc::new(
                    ParquetMetaDataReader::new()
                        .parse_and_finish(&bytes)
                        .unwrap(),
                )
            })
            .collect();
        columns
            .iter()
            .filter(|column| never_null(&footers, column))
            .map(|column| column.to_string())
            .collect()
    }

    #[test]
    fn a_column_is_never_null_only_if_every_file_has_it_in_every_row() {
        let both = "m,h=a i=1i,f=1.5 1\nm,h=b i=2i,f=2 2\n";
        let gap = "m,h=a i=1i,f=1.5 1\nm,h=b i=2i 2\n";
        let older = "m,h=a i=1i 1\n";
        assert_eq!(
            never_null_columns(&[both], &["i", "f", "h"]),
            ["i", "f", "h"]
        );
        assert_eq!(never_null_columns(&[both, gap], &["i", "f"]), ["i"]);
        assert_eq!(never_null_columns(&[both, older], &["i", "f"]), ["i"]);
        assert_eq!(never_null_columns(&[], &["i"]), ["i"], "no rows: no NULL");
    }
}
