//! Which `bigint` columns a query may sum in 64 bits. Postgres sums `bigint` into
//! `numeric`, which never overflows; a sum into a 128-bit decimal makes DataFusion convert
//! and check every value, a third of a wide aggregate's time. When the files' statistics
//! bound every value of a column, and their rows are few enough that no sum of those
//! values leaves the 64-bit range, the 64-bit sum is the exact one.

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::{DataType, Schema};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;

use super::column_facts::leaf_index;

/// The names of the `bigint` columns of `schema` among `summed` whose sums over all rows
/// of the files with these footers fit in 64 bits. (Unsigned columns are stored as 64-bit
/// integers too, with statistics a signed reading gets wrong: their type rules them out.)
pub(crate) fn columns_summing_in_64_bits(
    schema: &Schema,
    footers: &[Arc<ParquetMetaData>],
    summed: &[&str],
) -> HashSet<String> {
    let rows: i128 = footers
        .iter()
        .map(|footer| i128::from(footer.file_metadata().num_rows()))
        .sum();
    schema
        .fields()
        .iter()
        .filter(|field| field.data_type() == &DataType::Int64)
        .filter(|field| summed.contains(&field.name().as_str()))
        .filter(|field| {
            largest_magnitude(footers, field.name())
                .is_some_and(|largest| largest.saturating_mul(rows) <= i128::from(i64::MAX))
        })
        .map(|field| field.name().clone())
        .collect()
}

/// The largest absolute value `column` holds in the files, None when some row group's
/// statistics do not say.
fn largest_magnitude(footers: &[Arc<ParquetMetaData>], column: &str) -> Option<i128> {
    let mut largest = 0i128;
    for footer in footers {
        // A file written before the column existed reads it as NULL: nothing to sum.
        let Some(index) = leaf_index(footer, column) else {
            continue;
        };
        for group in footer.row_groups() {
            let Some(Statistics::Int64(values)) = group.column(index).statistics() else {
                return None;
            };
            match (values.min_opt(), values.max_opt()) {
                (Some(&min), Some(&max)) => {
                    largest = largest
                        .max(i128::from(min).abs())
                        .max(i128::from(max).abs());
                }
                _ if values.null_count_opt() == Some(group.num_rows() as u64) => {}
                _ => return None,
            }
        }
    }
    Some(largest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::table_arrow_schema;
    use crate::test_files::stored_table;
    use parquet::file::metadata::ParquetMetaDataReader;

    fn summing_in_64_bits(files: &[&str]) -> Vec<String> {
        let mut schema = None;
        let footers: Vec<_> = files
            .iter()
            .map(|lines| {
                let (table, bytes) = stored_table(lines);
                schema = Some(table);
                Arc::new(
                    ParquetMetaDataReader::new()
                        .parse_and_finish(&bytes)
                        .unwrap(),
                )
            })
            .collect();
        let arrow = table_arrow_schema(&schema.expect("at least one file"));
        let columns: Vec<&str> = arrow.fields().iter().map(|f| f.name().as_str()).collect();
        let mut names: Vec<_> = columns_summing_in_64_bits(&arrow, &footers, &columns)
            .into_iter()
            .collect();
        names.sort();
        names
    }

    #[test]
    fn small_integers_sum_in_64_bits_and_floats_and_unsigned_never_do() {
        assert_eq!(
            summing_in_64_bits(&["m,h=a i=5i,j=-7i,f=1.5,n=1u 1\nm,h=b i=9i,j=3i,f=2,n=2u 2\n"]),
            ["i", "j"]
        );
    }

    #[test]
    fn values_whose_sum_could_overflow_are_summed_exactly() {
        let half = i64::MAX / 2 + 1;
        assert_eq!(
            summing_in_64_bits(&[&format!("m i={half}i,j=1i 1\nm i=1i,j=1i 2\n")]),
            ["j"]
        );
        assert_eq!(
            summing_in_64_bits(&[&format!("m i={}i,j=1i 1\n", i64::MIN)]),
            ["j"],
            "the magnitude of the most negative value is beyond i64::MAX"
        );
    }

    #[test]
    fn the_bound_counts_the_rows_of_every_file() {
        let third = i64::MAX / 3 + 1;
        let file = format!("m i={third}i 1\n");
        assert_eq!(summing_in_64_bits(&[&file, &file]), ["i"]);
        assert_eq!(
            summing_in_64_bits(&[&file, &file, &file]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_row_group_of_only_nulls_bounds_nothing() {
        use arrow::array::{Int64Array, RecordBatch};
        use arrow::datatypes::Field;
        use parquet::arrow::ArrowWriter;

        let schema = Arc::new(Schema::new(vec![
            Field::new("i", DataType::Int64, true),
            Field::new("j", DataType::Int64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from(vec![None, None])),
                Arc::new(Int64Array::from(vec![Some(1), None])),
            ],
        )
        .unwrap();
        let mut file = Vec::new();
        let mut writer = ArrowWriter::try_new(&mut file, schema.clone(), None).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        let footer = ParquetMetaDataReader::new()
            .parse_and_finish(&bytes::Bytes::from(file))
            .unwrap();
        let mut names: Vec<_> =
            columns_summing_in_64_bits(&schema, &[Arc::new(footer)], &["i", "j"])
                .into_iter()
                .collect();
        names.sort();
        assert_eq!(names, ["i", "j"]);
    }

    #[test]
    fn a_column_only_some_files_hold_is_bounded_by_those() {
        assert_eq!(
            summing_in_64_bits(&["m j=1i 1\n", "m i=2i 2\n", "m,h=x i=3i,j=5i 3\n"]),
            ["i", "j"]
        );
    }
}
