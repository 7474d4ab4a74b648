//! A scan over a table's files: the batches of each file in turn, decoding only the columns
//! the query needs.

use arrow::array::RecordBatch;
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReader;

use crate::parquet_file::{FileReader, StorageError};

pub struct TableScan {
    /// Each file, and the one row group read from it if not all.
    files: Vec<(Bytes, Option<usize>)>,
    columns: Vec<String>,
    next_file: usize,
    reader: Option<ParquetRecordBatchReader>,
}

impl TableScan {
    /// Scans `files` in order, reading the columns among `columns` that each file has.
    pub fn new(files: Vec<Bytes>, columns: Vec<String>) -> Self {
        TableScan {
            files: files.into_iter().map(|file| (file, None)).collect(),
            columns,
            next_file: 0,
            reader: None,
        }
    }

    /// Scans one row group of `file` (a part of a parallel scan).
    pub fn of_row_group(file: Bytes, row_group: usize, columns: Vec<String>) -> Self {
        TableScan {
            files: vec![(file, Some(row_group))],
            columns,
            next_file: 0,
            reader: None,
        }
    }

    /// Starts again from the first row.
    pub fn restart(&mut self) {
        self.next_file = 0;
        self.reader = None;
    }

    /// The next batch of rows; each has the scanned columns its file has.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, StorageError> {
        loop {
            if let Some(reader) = &mut self.reader {
                match reader.next() {
                    Some(batch) => return Ok(Some(batch?)),
                    None => self.reader = None,
                }
            }
            let Some((file, row_group)) = self.files.get(self.next_file) else {
                return Ok(None);
            };
            self.next_file += 1;
            let names: Vec<&str> = self.columns.iter().map(String::as_str).collect();
            let mut reader = FileReader::open(file.clone())?;
            if let Some(row_group) = row_group {
                reader = reader.only_row_group(*row_group);
            }
            self.reader = Some(reader.read(&names)?);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_files::stored as file;
    use arrow::array::AsArray;
    use arrow::datatypes::TimestampNanosecondType;

    #[test]
    fn batches_of_every_file_in_order_and_again_after_restart() {
        let files = vec![file("m f=1 1\nm f=2 2"), file("m g=3 3"), file("m f=4 4")];
        let mut scan = TableScan::new(files, vec!["time".into(), "f".into()]);
        let mut seen = Vec::new();
        while let Some(batch) = scan.next_batch().unwrap() {
            let names: Vec<String> = batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            seen.push((batch.num_rows(), names.join(",")));
        }
        assert_eq!(
            seen,
            vec![
                (2, "time,f".into()),
                (1, "time".into()),
                (1, "time,f".into())
            ]
        );
        scan.restart();
        assert_eq!(scan.next_batch().unwrap().map(|b| b.num_rows()), Some(2));
    }

    #[test]
    fn a_row_group_scan_reads_that_row_group_alone() {
        let lines: String = (0..300_000).map(|t| format!("m f={t}i {t}\n")).collect();
        let file = file(&lines);
        let times = |row_group| {
            let mut scan = TableScan::of_row_group(file.clone(), row_group, vec!["time".into()]);
            let mut times = Vec::new();
            while let Some(batch) = scan.next_batch().unwrap() {
                let column = batch.column(0).as_primitive::<TimestampNanosecondType>();
                times.extend(column.values().iter().copied());
            }
            times
        };
        let second = times(1);
        assert_eq!(second.len(), 128 * 1024);
        assert_eq!(second.first(), Some(&(128 * 1024)));
        assert_eq!(times(2).len(), 300_000 - 2 * 128 * 1024);
    }

    #[test]
    fn a_table_without_files_has_no_rows() {
        let mut scan = TableScan::new(Vec::new(), vec!["time".into()]);
        assert!(scan.next_batch().unwrap().is_none());
    }

    #[test]
    fn a_damaged_file_is_an_error() {
        let mut scan = TableScan::new(
            vec![Bytes::from_static(b"not parquet")],
            vec!["time".into()],
        );
        assert!(scan.next_batch().is_err());
    }
}
