//! Parquet files of measurement data: written from one day's batch, read back with only
//! the columns a query needs.

use std::fmt;

use crate::extreme_rows;
use crate::schema::TIME_COLUMN;
use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::datatypes::{DataType, Field, SchemaRef, TimestampNanosecondType};
use bytes::Bytes;
use parquet::arrow::arrow_reader::{
    ArrowPredicateFn, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder, RowFilter,
};
use parquet::arrow::arrow_writer::{
    compute_leaves, ArrowColumnChunk, ArrowColumnWriter, ArrowLeafColumn,
};
use parquet::arrow::{ArrowWriter, ProjectionMask};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

/// Rows per row group: small enough that statistics on the leading tag skip most of a file
/// for a query on one series.
pub(crate) const ROW_GROUP_ROWS: usize = 128 * 1024;
/// The largest dictionary of a float column's values in a row group. A gauge of few values
/// keeps one; values computed from counters (`usage_user=2.5125628140703518`) nearly all
/// differ, and past this the rest of the column chunk is split by byte stream instead, which
/// zstd compresses better. Any page of a chunk is read with its dictionary: Parquet's 1 MiB
/// made a query of one series' hour decode a megabyte of dictionary per column.
const FLOAT_DICTIONARY_BYTES: usize = 64 * 1024;
/// Rows per data page: about six hours of one series at a 10 s interval. A query of a window
/// of hours reads only the pages that hold it: rows inside a page that it leaves out are
/// decoded anyway to be skipped, as delta-encoded values cannot be stepped over.
pub(crate) const PAGE_ROWS: usize = 2048;
/// Rows decoded at a time.
const READ_BATCH_ROWS: usize = 8192;

/// A Parquet file that could not be written or read.
#[derive(Debug)]
pub struct StorageError(String);

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StorageError {}

impl StorageError {
    pub(crate) fn new(message: &str) -> Self {
        StorageError(format!("Parquet: {message}"))
    }
}

impl From<parquet::errors::ParquetError> for StorageError {
    fn from(e: parquet::errors::ParquetError) -> Self {
        StorageError(format!("Parquet: {e}"))
    }
}

impl From<arrow::error::ArrowError> for StorageError {
    fn from(e: arrow::error::ArrowError) -> Self {
        StorageError::from(parquet::errors::ParquetError::from(e))
    }
}

/// The name of a stored file exported into a directory: the measurement's name and the
/// file's id. A measurement's name may hold any character, so a `/` becomes `_`: the file
/// stays in the directory the export was given.
pub fn export_file_name(measurement: &str, file_id: i64) -> String {
    format!("{}-{file_id}.parquet", measurement.replace('/', "_"))
}

/// Writes a batch as a Parquet file: zstd, page statistics, dictionary-encoded tags and
/// strings, delta-encoded times and integers (consecutive rows of a series differ little),
/// and the series' extreme rows in the footer where the file has many rows per series.
pub fn write(batch: &RecordBatch) -> Result<Vec<u8>, StorageError> {
    write_with(batch, 1, |jobs| jobs.into_iter().map(|job| job()).collect())
}

/// Encoded column chunks with their places (row group, column).
pub type EncodedChunks = Result<Vec<(usize, usize, ArrowColumnChunk)>, ParquetError>;

/// Encodes some of a file's column chunks.
pub type EncodeJob<'a> = Box<dyn FnOnce() -> EncodedChunks + Send + 'a>;

/// Writes a batch as [`write`] does, its column chunks encoded by `jobs` jobs that `run`
/// runs (side by side, for a large batch) and whose results it returns in any order.
pub fn write_with<'a>(
    batch: &'a RecordBatch,
    jobs: usize,
    run: impl FnOnce(Vec<EncodeJob<'a>>) -> Vec<EncodedChunks>,
) -> Result<Vec<u8>, StorageError> {
    let mut out = Vec::new();
    // The Arrow writer puts the Arrow schema in the footer; its parts encode the columns.
    let (mut file, factory) =
        ArrowWriter::try_new(&mut out, batch.schema(), Some(properties(batch)?))?
            .into_serialized_writer()?;
    let mut pieces: Vec<(usize, usize, ArrowColumnWriter, ArrowLeafColumn)> = Vec::new();
    for (group, start) in (0..batch.num_rows()).step_by(ROW_GROUP_ROWS).enumerate() {
        let rows = batch.slice(start, ROW_GROUP_ROWS.min(batch.num_rows() - start));
        let writers = factory.create_column_writers(group)?;
        let mut leaves = Vec::with_capacity(writers.len());
        for (field, column) in rows.schema().fields().iter().zip(rows.columns()) {
            leaves.extend(compute_leaves(field, column)?);
        }
        for (column, (writer, leaf)) in writers.into_iter().zip(leaves).enumerate() {
            pieces.push((group, column, writer, leaf));
        }
    }
    let jobs = jobs.clamp(1, pieces.len().max(1));
    let mut shares: Vec<Vec<_>> = (0..jobs).map(|_| Vec::new()).collect();
    for (index, piece) in pieces.into_iter().enumerate() {
        shares[index % jobs].push(piece);
    }
    let encode_jobs: Vec<EncodeJob<'a>> = shares
        .into_iter()
        .map(|share| -> EncodeJob<'a> {
            Box::new(move || {
                share
                    .into_iter()
                    .map(|(group, column, mut writer, leaf)| {
                        writer.write(&leaf)?;
                        Ok((group, column, writer.close()?))
                    })
                    .collect()
            })
        })
        .collect();
    let mut chunks = Vec::new();
    for result in run(encode_jobs) {
        chunks.extend(result?);
    }
    chunks.sort_unstable_by_key(|(group, column, _)| (*group, *column));
    let mut chunks = chunks.into_iter().peekable();
    while let Some(&(group, ..)) = chunks.peek() {
        let mut row_group = file.next_row_group()?;
        while let Some((_, _, chunk)) = chunks.next_if(|(g, ..)| *g == group) {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
    }
    file.close()?;
    Ok(out)
}

fn properties(batch: &RecordBatch) -> Result<WriterProperties, StorageError> {
    let mut properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_key_value_metadata(extreme_rows::footer_entry(batch)?.map(|entry| vec![entry]));
    for field in batch.schema().fields() {
        if field.data_type() == &DataType::Float64 {
            let path = ColumnPath::from(field.name().as_str());
            properties = properties
                .set_column_dictionary_page_size_limit(path.clone(), FLOAT_DICTIONARY_BYTES)
                .set_column_encoding(path, Encoding::BYTE_STREAM_SPLIT);
        }
        if matches!(
            field.data_type(),
            DataType::Timestamp(..) | DataType::Int64 | DataType::UInt64
        ) {
            let path = ColumnPath::from(field.name().as_str());
            properties = properties
                .set_column_dictionary_enabled(path.clone(), false)
                .set_column_encoding(path, Encoding::DELTA_BINARY_PACKED);
        }
    }
    Ok(properties.build())
}

/// A file opened for reading: its schema, and a reader of the named columns it has.
pub struct FileReader {
    builder: ParquetRecordBatchReaderBuilder<Bytes>,
}

impl FileReader {
    pub fn open(file: Bytes) -> Result<Self, StorageError> {
        Ok(FileReader {
            builder: ParquetRecordBatchReaderBuilder::try_new(file)?,
        })
    }

    pub fn schema(&self) -> &SchemaRef {
        self.builder.schema()
    }

    pub fn row_group_count(&self) -> usize {
        self.builder.metadata().num_row_groups()
    }

    /// Reads only the row group at `index`.
    pub fn only_row_group(self, index: usize) -> Self {
        FileReader {
            builder: self.builder.with_row_groups(vec![index]),
        }
    }

    /// Reads every column.
    pub fn read_all(self) -> Result<Vec<RecordBatch>, StorageError> {
        self.read_where(|_| true)
    }

    /// Reads what identifies the rows whose time is within `[min_time_ns, max_time_ns]`:
    /// their tag columns and `time`. Tags are decoded only for those rows, so checking a
    /// write against a large file costs little more than reading the file's times.
    pub fn read_keys_between(
        self,
        min_time_ns: i64,
        max_time_ns: i64,
    ) -> Result<Vec<RecordBatch>, StorageError> {
        let time_root = self
            .schema()
            .index_of(TIME_COLUMN)
            .map_err(|_| StorageError::new("a stored file has no time column"))?;
        let in_range = ArrowPredicateFn::new(
            ProjectionMask::roots(self.builder.parquet_schema(), [time_root]),
            move |batch| {
                let times = batch.column(0).as_primitive::<TimestampNanosecondType>();
                Ok(times
                    .values()
                    .iter()
                    .map(|&t| Some((min_time_ns..=max_time_ns).contains(&t)))
                    .collect::<BooleanArray>())
            },
        );
        let filtered = FileReader {
            builder: self
                .builder
                .with_row_filter(RowFilter::new(vec![Box::new(in_range)])),
        };
        filtered.read_where(|f| {
            f.name() == TIME_COLUMN || matches!(f.data_type(), DataType::Dictionary(..))
        })
    }

    fn read_where(self, wanted: impl Fn(&Field) -> bool) -> Result<Vec<RecordBatch>, StorageError> {
        let names: Vec<String> = self
            .schema()
            .fields()
            .iter()
            .filter(|f| wanted(f))
            .map(|f| f.name().clone())
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Ok(self.read(&names)?.collect::<Result<_, _>>()?)
    }

    /// Reads the columns among `columns` that the file has; the rest the caller reads as NULL.
    pub fn read(self, columns: &[&str]) -> Result<ParquetRecordBatchReader, StorageError> {
        let roots: Vec<usize> = self
            .builder
            .schema()
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| columns.contains(&f.name().as_str()))
            .map(|(i, _)| i)
            .collect();
        let mask = ProjectionMask::roots(self.builder.parquet_schema(), roots);
        Ok(self
            .builder
            .with_projection(mask)
            .with_batch_size(READ_BATCH_ROWS)
            .build()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_files::{stored, stored_footer};
    use arrow::array::AsArray;
    use arrow::datatypes::Float64Type;
    use parquet::file::metadata::{ColumnChunkMetaData, RowGroupMetaData};

    #[test]
    fn export_file_names_stay_in_their_directory() {
        assert_eq!(export_file_name("cpu", 7), "cpu-7.parquet");
        assert_eq!(export_file_name("../../tmp/x", 4), ".._.._tmp_x-4.parquet");
        assert_eq!(export_file_name("/etc/m", 1), "_etc_m-1.parquet");
        let directory = std::path::Path::new("/export");
        for name in ["..", "../..", "/abs", "a/../../b"] {
            let path = directory.join(export_file_name(name, 1));
            assert_eq!(path.parent(), Some(directory), "{name}");
        }
    }

    fn column_chunk<'a>(row_group: &'a RowGroupMetaData, name: &str) -> &'a ColumnChunkMetaData {
        row_group
            .columns()
            .iter()
            .find(|c| c.column_path().string() == name)
            .unwrap_or_else(|| panic!("column {name}"))
    }

    #[test]
    fn files_are_zstd_with_statistics_dictionary_tags_and_delta_times() {
        let lines: String = (0..100)
            .map(|t| format!("m,host=h{} u={t}i,s=\"x\" {t}\n", t % 3))
            .collect();
        let metadata = stored_footer(&lines);
        let row_group = metadata.row_group(0);
        let column = |name: &str| column_chunk(row_group, name);
        for chunk in row_group.columns() {
            assert!(
                matches!(chunk.compression(), Compression::ZSTD(_)),
                "{}",
                chunk.column_path()
            );
            assert!(chunk.statistics().is_some(), "{}", chunk.column_path());
        }
        for name in ["host", "s"] {
            assert!(column(name).dictionary_page_offset().is_some(), "{name}");
        }
        for name in ["time", "u"] {
            assert!(
                column(name)
                    .encodings()
                    .any(|e| e == parquet::basic::Encoding::DELTA_BINARY_PACKED),
                "{name}"
            );
        }
        let hosts = column("host").statistics().unwrap();
        assert_eq!(hosts.min_bytes_opt(), Some(&b"h0"[..]));
        assert_eq!(hosts.max_bytes_opt(), Some(&b"h2"[..]));
    }

    #[test]
    fn floats_of_few_values_keep_a_dictionary_and_others_are_split_by_byte_stream() {
        let rows = 20_000;
        let noise = |t: usize| (t as f64 * 0.618_033_988_749_894_9).fract() * 100.0;
        let lines: String = (0..rows)
            .map(|t| format!("m,host=a few={}.5,many={} {t}\n", t % 10, noise(t)))
            .collect();
        let metadata = stored_footer(&lines);
        let row_group = metadata.row_group(0);
        let column = |name: &str| column_chunk(row_group, name);
        let encodings = |name: &str| column(name).encodings().collect::<Vec<_>>();
        assert!(
            encodings("few").contains(&Encoding::RLE_DICTIONARY),
            "{:?}",
            encodings("few")
        );
        assert!(!encodings("few").contains(&Encoding::BYTE_STREAM_SPLIT));
        assert!(
            encodings("many").contains(&Encoding::BYTE_STREAM_SPLIT),
            "{:?}",
            encodings("many")
        );
        let many = column("many");
        let dictionary = many.data_page_offset() - many.dictionary_page_offset().unwrap();
        assert!(
            dictionary as usize <= FLOAT_DICTIONARY_BYTES + 64,
            "{dictionary} bytes"
        );

        let reader = ParquetRecordBatchReaderBuilder::try_new(stored(&lines))
            .unwrap()
            .build()
            .unwrap();
        let mut read = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let values = batch
                .column_by_name("many")
                .unwrap()
                .as_primitive::<Float64Type>();
            read.extend(values.values().iter().copied());
        }
        let written: Vec<f64> = (0..rows).map(noise).collect();
        assert_eq!(read, written);
    }

    #[test]
    fn a_data_page_holds_page_rows_rows() {
        let lines: String = (0..PAGE_ROWS * 5 / 2)
            .map(|t| format!("m,host=a u={t}i {t}\n"))
            .collect();
        let metadata = stored_footer(&lines);
        let row_group = &metadata.offset_index().expect("page index written")[0];
        for column in row_group {
            let starts: Vec<i64> = column
                .page_locations()
                .iter()
                .map(|page| page.first_row_index)
                .collect();
            let page = PAGE_ROWS as i64;
            assert_eq!(starts, [0, page, 2 * page]);
        }
    }

    #[test]
    fn columns_encoded_side_by_side_make_the_same_file() {
        let lines: String = (0..ROW_GROUP_ROWS * 5 / 2)
            .map(|t| {
                format!(
                    "m,host=h{} u={t}i,f={}.5,s=\"x{}\" {t}\n",
                    t % 7,
                    t % 13,
                    t % 5
                )
            })
            .collect();
        let file = FileReader::open(crate::test_files::stored(&lines)).unwrap();
        let batches = file.read_all().unwrap();
        let batch = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
        let one_by_one = write(&batch).unwrap();
        let side_by_side = write_with(&batch, 3, |jobs| {
            std::thread::scope(|scope| {
                let running: Vec<_> = jobs.into_iter().map(|job| scope.spawn(job)).collect();
                running.into_iter().map(|job| job.join().unwrap()).collect()
            })
        })
        .unwrap();
        assert_eq!(side_by_side, one_by_one);
        // The same file as the Arrow writer makes writing the batch whole.
        let mut whole = Vec::new();
        let properties = properties(&batch)
            .unwrap()
            .into_builder()
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let mut writer =
            ArrowWriter::try_new(&mut whole, batch.schema(), Some(properties)).unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();
        assert_eq!(side_by_side, whole);
        let metadata = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(side_by_side))
            .unwrap()
            .metadata()
            .clone();
        let groups: Vec<i64> = metadata.row_groups().iter().map(|g| g.num_rows()).collect();
        let full = ROW_GROUP_ROWS as i64;
        assert_eq!(groups, [full, full, full / 2]);
    }
}
