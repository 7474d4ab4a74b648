//! How the processes of a parallel scan share a table's files: each row group of each file
//! is one part, and a process takes the next part no other process has taken, from a
//! count of parts taken that all of them share. Taking parts one at a time as each is
//! finished keeps every process busy to the end, however many processes start and
//! however unevenly the filters thin the row groups out.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use parquet::file::metadata::ParquetMetaDataReader;

use crate::parquet_file::StorageError;

/// One row group of one of a scan's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// The index of the file in the scan's list of files.
    pub file: usize,
    pub row_group: usize,
}

/// Every row group of `files`, file by file. Every process of a scan lists its files the
/// same way (as of the same snapshot, in the same order), so a part is the same row group
/// in each of them.
pub fn parts<'a>(files: impl IntoIterator<Item = &'a Bytes>) -> Result<Vec<Part>, StorageError> {
    let mut parts = Vec::new();
    for (file, bytes) in files.into_iter().enumerate() {
        let footer = ParquetMetaDataReader::new().parse_and_finish(bytes)?;
        parts.extend((0..footer.num_row_groups()).map(|row_group| Part { file, row_group }));
    }
    Ok(parts)
}

/// The next part of `parts` that no process has taken yet, if any is left; `taken` counts
/// the parts taken by all the scan's processes together.
pub fn take(taken: &AtomicU64, parts: &[Part]) -> Option<Part> {
    let next = taken.fetch_add(1, Ordering::Relaxed);
    usize::try_from(next)
        .ok()
        .and_then(|next| parts.get(next))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_files::stored;

    #[test]
    fn every_row_group_of_every_file_is_one_part() {
        let many: String = (0..300_000).map(|t| format!("m f={t}i {t}\n")).collect();
        let files = vec![stored("m f=1i 1"), stored(&many), stored("m f=2i 2")];
        let row_groups = crate::parquet_file::FileReader::open(files[1].clone())
            .unwrap()
            .row_group_count();
        assert!(row_groups > 1, "the large file has {row_groups} row group");
        let found = parts(&files).unwrap();
        let mut expected = vec![Part {
            file: 0,
            row_group: 0,
        }];
        expected.extend((0..row_groups).map(|row_group| Part { file: 1, row_group }));
        expected.push(Part {
            file: 2,
            row_group: 0,
        });
        assert_eq!(found, expected);
    }

    #[test]
    fn processes_taking_parts_in_turn_take_each_once() {
        let parts: Vec<Part> = (0..5)
            .map(|row_group| Part { file: 0, row_group })
            .collect();
        let taken = AtomicU64::new(0);
        let mut first = Vec::new();
        let mut second = Vec::new();
        loop {
            let a = take(&taken, &parts);
            let b = take(&taken, &parts);
            first.extend(a);
            second.extend(b);
            if a.is_none() && b.is_none() {
                break;
            }
        }
        let mut all: Vec<usize> = first.iter().chain(&second).map(|p| p.row_group).collect();
        all.sort();
        assert_eq!(all, vec![0, 1, 2, 3, 4]);
        assert_eq!(first.len(), 3);
        assert_eq!(take(&taken, &parts), None, "none left, however often asked");
    }
}
