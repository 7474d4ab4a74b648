//! Where the engine writes what it spills (a grouping or a sort larger than `work_mem`): the
//! directory Postgres keeps its own temporary files in, under names that begin as
//! Postgres' own do, so that `pg_ls_tmpdir()` lists them and a restart after a crash
//! removes them, and no more in all than `temp_file_limit` allows. DataFusion's default
//! writes them to the operating system's temporary directory, without a bound.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::disk_manager::DiskManager;
use datafusion::execution::{SpillFile, SpillWriter, TempFileFactory};
use futures::Stream;
use tempfile::NamedTempFile;

use super::QueryError;

/// How much of a spill file is read back at a time.
const READ_CHUNK: usize = 128 * 1024;

/// Where and how much one query may spill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpillFiles {
    /// The directory of temporary files Postgres would use (`base/pgsql_tmp`, or
    /// `pgsql_tmp` of one of `temp_tablespaces`), made on first use.
    pub directory: PathBuf,
    /// The start of each file's name (`pgsql_tmp<pid>.tsparquet.`).
    pub prefix: String,
    /// The most the query's files may hold together, in kB; None for no limit.
    pub limit_kb: Option<u64>,
}

impl SpillFiles {
    /// A disk manager for one query, writing its files here.
    pub fn disk_manager(&self) -> Arc<DiskManager> {
        let factory = Factory {
            files: self.clone(),
            written: Arc::new(AtomicU64::new(0)),
        };
        Arc::new(
            DiskManager::builder()
                .with_temp_file_factory(Arc::new(factory))
                .build()
                .expect("a disk manager of a file factory needs no directory"),
        )
    }
}

struct Factory {
    files: SpillFiles,
    /// What the query's files hold together.
    written: Arc<AtomicU64>,
}

impl TempFileFactory for Factory {
    fn create_temp_file(&self, _description: &str) -> Result<Arc<dyn SpillFile>> {
        std::fs::create_dir_all(&self.files.directory)?;
        let file = tempfile::Builder::new()
            .prefix(&self.files.prefix)
            .tempfile_in(&self.files.directory)?;
        Ok(Arc::new(Spilled {
            file,
            size: Arc::new(AtomicU64::new(0)),
            written: self.written.clone(),
            limit_kb: self.files.limit_kb,
        }))
    }
}

/// One spill file, removed when DataFusion drops it.
struct Spilled {
    file: NamedTempFile,
    size: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
    limit_kb: Option<u64>,
}

impl Drop for Spilled {
    fn drop(&mut self) {
        self.written
            .fetch_sub(self.size.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

impl SpillFile for Spilled {
    fn path(&self) -> Option<&Path> {
        Some(self.file.path())
    }

    fn size(&self) -> Option<u64> {
        Some(self.size.load(Ordering::Relaxed))
    }

    fn read_stream(&self) -> Result<Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>> {
        // Read on the query's own thread, as Postgres reads its temporary files.
        let mut file = File::open(self.file.path())?;
        let chunks = std::iter::from_fn(move || {
            let mut chunk = vec![0; READ_CHUNK];
            match file.read(&mut chunk) {
                Ok(0) => None,
                Ok(n) => {
                    chunk.truncate(n);
                    Some(Ok(Bytes::from(chunk)))
                }
                Err(e) => Some(Err(DataFusionError::IoError(e))),
            }
        });
        Ok(Box::pin(futures::stream::iter(chunks)))
    }

    fn open_writer(&self) -> Result<Box<dyn SpillWriter>> {
        Ok(Box::new(Writer {
            file: self.file.as_file().try_clone()?,
            size: self.size.clone(),
            written: self.written.clone(),
            limit_kb: self.limit_kb,
        }))
    }
}

struct Writer {
    file: File,
    size: Arc<AtomicU64>,
    written: Arc<AtomicU64>,
    limit_kb: Option<u64>,
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let len = buf.len() as u64;
        let total = self.written.fetch_add(len, Ordering::Relaxed) + len;
        if let Some(limit_kb) = self.limit_kb.filter(|kb| total > kb.saturating_mul(1024)) {
            self.written.fetch_sub(len, Ordering::Relaxed);
            return Err(io::Error::other(QueryError::TemporaryFileLimit(limit_kb)));
        }
        self.file.write_all(buf)?;
        self.size.fetch_add(len, Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl SpillWriter for Writer {
    fn finish(&mut self) -> Result<()> {
        Ok(())
    }
}
