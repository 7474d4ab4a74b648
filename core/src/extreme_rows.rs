//! A file's extreme rows: for each run of rows of one series, the row with its earliest
//! time and the row with its latest time, kept in the file's footer. The latest (earliest)
//! row of any group of series is among the extreme rows of the table's files, so "the
//! latest point per host" reads a few hundred rows instead of every row of the newest day.
//!
//! They are kept only for files with many rows per series, where they cost a small part of
//! the file: a file of a small write has nearly as many extreme rows as rows.

use std::io::Cursor;
use std::ops::Range;

use arrow::array::{ArrayRef, AsArray, RecordBatch, UInt32Array};
use arrow::compute::{cast, concat_batches, partition, take_record_batch};
use arrow::datatypes::{DataType, TimestampNanosecondType};
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use base64::prelude::BASE64_STANDARD as BASE64;
use base64::Engine as _;
use bytes::Bytes;
use parquet::file::metadata::{
    FileMetaData, KeyValue, ParquetMetaData, ParquetMetaDataBuilder, ParquetMetaDataReader,
};

use crate::parquet_file::StorageError;
use crate::schema::TIME_COLUMN;

/// The footer key of the extreme rows: an Arrow IPC stream, in base64 as Arrow keeps its
/// schema there.
pub const FOOTER_KEY: &str = "tsparquet.extreme_rows";
/// Fewest rows per run of a series, on average, for a file to keep its extreme rows: at
/// most one row in 512 is repeated in the footer, where it takes some 20 times the bytes
/// of a row in the columns (uncompressed), so the file grows by at most a few percent.
const MIN_ROWS_PER_RUN: usize = 1024;

/// The footer entry holding `batch`'s extreme rows, if it has enough rows per series.
pub fn footer_entry(batch: &RecordBatch) -> Result<Option<KeyValue>, StorageError> {
    // Most writes are small: they are told apart without finding their series.
    if batch.num_rows() < MIN_ROWS_PER_RUN {
        return Ok(None);
    }
    let runs = series_runs(batch)?;
    if batch.num_rows() < MIN_ROWS_PER_RUN * runs.len() {
        return Ok(None);
    }
    let Some(times) = batch
        .column_by_name(TIME_COLUMN)
        .and_then(|c| c.as_primitive_opt::<TimestampNanosecondType>())
    else {
        return Err(StorageError::new("a batch to store has no time column"));
    };
    let times = times.values();
    let mut rows: Vec<u32> = Vec::with_capacity(2 * runs.len());
    for run in runs {
        let in_run = || run.clone().map(|row| (times[row], row));
        let (Some((_, earliest)), Some((_, latest))) = (in_run().min(), in_run().max()) else {
            continue;
        };
        rows.push(earliest as u32);
        if latest != earliest {
            rows.push(latest as u32);
        }
    }
    let extremes = take_record_batch(batch, &UInt32Array::from(rows))?;
    Ok(Some(KeyValue::new(
        FOOTER_KEY.to_owned(),
        encode(&with_own_dictionaries(&extremes)?)?,
    )))
}

/// `batch` with each tag column dictionary-encoded anew: taken rows keep the dictionary of
/// the whole file (of every file merged into it, after compaction), which would all be
/// written out with them.
fn with_own_dictionaries(batch: &RecordBatch) -> Result<RecordBatch, StorageError> {
    let columns = batch
        .columns()
        .iter()
        .map(|column| match column.data_type() {
            tag @ DataType::Dictionary(..) => Ok(cast(&cast(column, &DataType::Utf8)?, tag)?),
            _ => Ok(column.clone()),
        })
        .collect::<Result<Vec<ArrayRef>, StorageError>>()?;
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// The runs of consecutive rows with the same tag values.
fn series_runs(batch: &RecordBatch) -> Result<Vec<Range<usize>>, StorageError> {
    let tags: Vec<ArrayRef> = batch
        .schema()
        .fields()
        .iter()
        .zip(batch.columns())
        .filter(|(field, _)| matches!(field.data_type(), DataType::Dictionary(..)))
        .map(|(_, column)| column.clone())
        .collect();
    if tags.is_empty() {
        return Ok(std::iter::once(0..batch.num_rows()).collect());
    }
    Ok(partition(&tags)?.ranges())
}

fn encode(batch: &RecordBatch) -> Result<String, StorageError> {
    let mut bytes = Vec::new();
    let mut writer = StreamWriter::try_new(&mut bytes, &batch.schema())?;
    writer.write(batch)?;
    writer.finish()?;
    drop(writer);
    Ok(BASE64.encode(bytes))
}

/// The extreme rows kept in `file`'s footer; None for a file that keeps none.
pub fn read(file: &Bytes) -> Result<Option<RecordBatch>, StorageError> {
    from_footer(&ParquetMetaDataReader::new().parse_and_finish(file)?)
}

/// The extreme rows kept in a file's `footer`; None if it keeps none.
pub fn from_footer(footer: &ParquetMetaData) -> Result<Option<RecordBatch>, StorageError> {
    let entry = footer
        .file_metadata()
        .key_value_metadata()
        .and_then(|entries| entries.iter().find(|e| e.key == FOOTER_KEY))
        .and_then(|e| e.value.as_deref());
    let Some(encoded) = entry else {
        return Ok(None);
    };
    let bytes = BASE64
        .decode(encoded)
        .map_err(|e| StorageError::new(&format!("a file's extreme rows: {e}")))?;
    let mut reader = StreamReader::try_new(Cursor::new(bytes), None)?;
    let schema = reader.schema();
    let mut batches = Vec::new();
    for batch in &mut reader {
        batches.push(batch?);
    }
    Ok(Some(concat_batches(&schema, &batches)?))
}

/// `footer` without its extreme rows, if it keeps them. A reader that makes an Arrow schema
/// of a footer copies each of its entries into the schema, and the schema is copied again
/// for each projection and filter of a scan: tens of kilobytes each time, in every query,
/// for rows that only [`read`] uses, which parses the footer itself.
pub fn footer_without(footer: &ParquetMetaData) -> Option<ParquetMetaData> {
    let file = footer.file_metadata();
    let entries = file.key_value_metadata()?;
    if !entries.iter().any(|e| e.key == FOOTER_KEY) {
        return None;
    }
    let others: Vec<KeyValue> = entries
        .iter()
        .filter(|e| e.key != FOOTER_KEY)
        .cloned()
        .collect();
    let lean = FileMetaData::new(
        file.version(),
        file.num_rows(),
        file.created_by().map(str::to_owned),
        (!others.is_empty()).then_some(others),
        file.schema_descr_ptr(),
        file.column_orders().cloned(),
    );
    let mut whole = footer.clone().into_builder();
    Some(
        ParquetMetaDataBuilder::new(lean)
            .set_row_groups(whole.take_row_groups())
            .set_column_index(whole.take_column_index())
            .set_offset_index(whole.take_offset_index())
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_files::{stored, stored_footer};
    use parquet::arrow::parquet_to_arrow_schema;

    fn times_and_hosts(batch: &RecordBatch) -> Vec<(String, i64)> {
        let hosts =
            arrow::compute::cast(batch.column_by_name("host").unwrap(), &DataType::Utf8).unwrap();
        let hosts = hosts.as_string::<i32>();
        let times = batch
            .column_by_name(TIME_COLUMN)
            .unwrap()
            .as_primitive::<TimestampNanosecondType>();
        (0..batch.num_rows())
            .map(|i| (hosts.value(i).to_owned(), times.value(i)))
            .collect()
    }

    #[test]
    fn a_file_with_many_rows_per_series_keeps_each_series_earliest_and_latest_row() {
        let mut lines = String::new();
        // Written out of time order: the file is sorted, the extremes are found anyway.
        for t in (1..=1024).rev() {
            lines.push_str(&format!("m,host=b u={t}i {}\n", t * 10));
            lines.push_str(&format!("m,host=a u={t}i {}\n", t * 10 + 1));
        }
        let extremes = read(&stored(&lines)).unwrap().expect("kept");
        assert_eq!(
            times_and_hosts(&extremes),
            [
                ("a".to_owned(), 11),
                ("a".to_owned(), 10241),
                ("b".to_owned(), 10),
                ("b".to_owned(), 10240)
            ]
        );
        let u = extremes
            .column_by_name("u")
            .unwrap()
            .as_primitive::<arrow::datatypes::Int64Type>();
        assert_eq!(u.values().to_vec(), [1, 1024, 1, 1024]);
    }

    #[test]
    fn a_footer_without_its_extreme_rows_keeps_everything_else() {
        let lines: String = (0..1024)
            .map(|t| format!("m,host=a u={t}i {t}\n"))
            .collect();
        let footer = stored_footer(&lines);
        let keys = |footer: &ParquetMetaData| -> Vec<String> {
            let entries = footer.file_metadata().key_value_metadata();
            entries.map_or(Vec::new(), |e| e.iter().map(|e| e.key.clone()).collect())
        };
        assert!(keys(&footer).contains(&FOOTER_KEY.to_owned()));
        let lean = footer_without(&footer).expect("the file keeps extreme rows");
        assert_eq!(keys(&lean), ["ARROW:schema"]);
        assert_eq!(lean.row_groups(), footer.row_groups());
        assert_eq!(lean.column_index(), footer.column_index());
        assert_eq!(lean.offset_index(), footer.offset_index());
        let arrow_schema = |footer: &ParquetMetaData| {
            let file = footer.file_metadata();
            parquet_to_arrow_schema(file.schema_descr(), file.key_value_metadata()).unwrap()
        };
        assert_eq!(arrow_schema(&lean).fields(), arrow_schema(&footer).fields());
        assert!(footer_without(&lean).is_none());
    }

    #[test]
    fn a_file_with_few_rows_per_series_keeps_none() {
        let lines: String = (0..1023)
            .map(|t| format!("m,host=a u=1i {t}\nm,host=b u=1i {t}\n"))
            .collect();
        assert!(read(&stored(&lines)).unwrap().is_none());
        let lines: String = (0..1024).map(|t| format!("m u=1i {t}\n")).collect();
        let extremes = read(&stored(&lines))
            .unwrap()
            .expect("one run of 1024 rows");
        assert_eq!(extremes.num_rows(), 2);
    }

    #[test]
    fn extreme_rows_carry_only_their_own_tag_values() {
        // A merged file's tag dictionary holds the values of every file merged into it.
        let parts: Vec<RecordBatch> = (0..200)
            .map(|i| {
                let lines: String = (0..8)
                    .map(|t| format!("m,host=h{i},rack=r{i}-{t} u=1i {}\n", i * 100 + t))
                    .collect();
                let batches = crate::parquet_file::FileReader::open(stored(&lines))
                    .unwrap()
                    .read_all()
                    .unwrap();
                concat_batches(&batches[0].schema(), &batches).unwrap()
            })
            .collect();
        let merged = concat_batches(&parts[0].schema(), &parts).unwrap();
        let one_series = merged.slice(0, 1);
        let many_rows = concat_batches(&one_series.schema(), vec![&one_series; 1024]).unwrap();
        let entry = footer_entry(&many_rows)
            .unwrap()
            .expect("one run of 1024 rows");
        let encoded = entry.value.unwrap();
        assert!(encoded.len() < 4096, "{} bytes", encoded.len());
    }

    #[test]
    fn a_missing_tag_is_a_series_of_its_own() {
        let lines: String = (0..1024)
            .map(|t| format!("m,host=a u=1i {t}\nm u=2i {t}\n"))
            .collect();
        let extremes = read(&stored(&lines)).unwrap().expect("kept");
        assert_eq!(extremes.num_rows(), 4);
        assert_eq!(extremes.column_by_name("host").unwrap().null_count(), 2);
    }
}
