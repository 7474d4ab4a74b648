//! The files one query reads, as a read-only object store. Each name stands for one stored
//! file, whose bytes never change (rewriting stores a new file under a new name), so an
//! object's metadata is the same in every query that reads it: DataFusion's cache of
//! parsed Parquet footers, which checks an object's size and modification time, stays
//! valid from one query to the next.
//!
//! A large file is not loaded whole: DataFusion reads its footer and the column chunks
//! and pages the query needs, which the caller reads from Postgres. Postgres may not be
//! called while DataFusion runs, so a read of a range not yet at hand waits, and the
//! engine, between polls, hands every waiting range to the caller at once (see
//! [`FileSet::take_wanted`]).

use std::collections::BTreeMap;
use std::fmt;
use std::future::poll_fn;
use std::ops::Range;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::future::try_join_all;
use futures::stream::{self, BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, ObjectStoreExt, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use super::{QueryError, StopCheck};
use crate::byte_ranges;

/// A stored file: a name unique to its bytes for the life of the backend, and the bytes.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub name: String,
    pub bytes: Bytes,
}

/// A stored file read in ranges as a query needs them: its name (as [`StoredFile`]'s),
/// the caller's id for it, and its size.
#[derive(Debug, Clone)]
pub struct FileInRanges {
    pub name: String,
    pub id: i64,
    pub size: u64,
}

/// A file a query reads: loaded whole, or read in ranges.
#[derive(Debug, Clone)]
pub enum QueryFile {
    Loaded(StoredFile),
    InRanges(FileInRanges),
}

impl From<StoredFile> for QueryFile {
    fn from(file: StoredFile) -> Self {
        QueryFile::Loaded(file)
    }
}

/// A range of a file read in ranges that a query waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedRange {
    /// The file's id, as [`FileInRanges::id`].
    pub file: i64,
    pub range: Range<u64>,
}

#[derive(Debug)]
enum Contents {
    Loaded(Bytes),
    InRanges {
        id: i64,
        size: u64,
        /// The ranges read so far (see [`byte_ranges`]): a scan of many pages looks each
        /// up here.
        read: Mutex<BTreeMap<u64, Bytes>>,
    },
}

impl Contents {
    fn size(&self) -> u64 {
        match self {
            Contents::Loaded(bytes) => bytes.len() as u64,
            Contents::InRanges { size, .. } => *size,
        }
    }
}

/// Ranges waited for, the reads waiting and the engine's wake-up for handing them on.
#[derive(Debug, Default)]
struct Waiting {
    wanted: Vec<WantedRange>,
    readers: Vec<Waker>,
    engine: Option<Waker>,
}

#[derive(Debug)]
pub struct FileSet {
    files: BTreeMap<Path, Contents>,
    waiting: Mutex<Waiting>,
    stop: StopCheck,
}

impl FileSet {
    /// The files of a query that ends once `stop` says so: every read asks it first.
    /// A blocking operator (an aggregate, a sort) reads all its input before DataFusion
    /// yields, so between reads of row groups is where a cancel can reach it in time.
    pub fn new(files: Vec<QueryFile>, stop: StopCheck) -> FileSet {
        FileSet {
            files: files
                .into_iter()
                .map(|file| match file {
                    QueryFile::Loaded(file) => {
                        (Path::from(file.name), Contents::Loaded(file.bytes))
                    }
                    QueryFile::InRanges(file) => (
                        Path::from(file.name),
                        Contents::InRanges {
                            id: file.id,
                            size: file.size,
                            read: Mutex::new(BTreeMap::new()),
                        },
                    ),
                })
                .collect(),
            waiting: Mutex::new(Waiting::default()),
            stop,
        }
    }

    /// What the query asks whether to stop.
    pub(super) fn stop_check(&self) -> StopCheck {
        self.stop
    }

    /// The bytes of the file at `location`, if it is one of the query's and loaded whole.
    pub(super) fn bytes(&self, location: &Path) -> Option<&Bytes> {
        match self.files.get(location)? {
            Contents::Loaded(bytes) => Some(bytes),
            Contents::InRanges { .. } => None,
        }
    }

    /// The files under `prefix`; names hold no `/`, so there are no directories to list.
    pub(super) fn under(&self, prefix: Option<&Path>) -> Vec<ObjectMeta> {
        self.files
            .iter()
            .filter(|(location, _)| prefix.is_none_or(|p| location.prefix_matches(p)))
            .map(|(location, contents)| meta(location, contents.size()))
            .collect()
    }

    /// Whether a read waits for ranges; `engine` is woken when one starts waiting.
    pub(super) fn waits(&self, engine: &Waker) -> bool {
        let mut waiting = self.waiting.lock().expect("not poisoned");
        if !waiting.engine.as_ref().is_some_and(|w| w.will_wake(engine)) {
            waiting.engine = Some(engine.clone());
        }
        !waiting.wanted.is_empty()
    }

    /// The ranges reads wait for, handed on to be read; each is then [`FileSet::fill`]ed.
    pub(super) fn take_wanted(&self) -> Vec<WantedRange> {
        std::mem::take(&mut self.waiting.lock().expect("not poisoned").wanted)
    }

    /// Gives the reads the bytes of `wanted`, in its order, and wakes them.
    pub(super) fn fill(
        &self,
        wanted: Vec<WantedRange>,
        bytes: Vec<Bytes>,
    ) -> Result<(), QueryError> {
        if wanted.len() != bytes.len() {
            return Err(QueryError::Engine(format!(
                "{} ranges of stored files read for {} asked",
                bytes.len(),
                wanted.len()
            )));
        }
        for (wanted, bytes) in wanted.into_iter().zip(bytes) {
            let read = self.files.values().find_map(|contents| match contents {
                Contents::InRanges { id, read, .. } if *id == wanted.file => Some(read),
                _ => None,
            });
            let Some(read) = read else {
                return Err(QueryError::Engine(format!(
                    "no stored file {} in the query",
                    wanted.file
                )));
            };
            if bytes.len() as u64 != wanted.range.end - wanted.range.start {
                return Err(QueryError::Engine(format!(
                    "stored file {} has {} bytes at {:?}",
                    wanted.file,
                    bytes.len(),
                    wanted.range
                )));
            }
            let mut read = read.lock().expect("not poisoned");
            byte_ranges::keep(&mut read, wanted.range.start, bytes, Bytes::len);
        }
        let readers = std::mem::take(&mut self.waiting.lock().expect("not poisoned").readers);
        readers.into_iter().for_each(Waker::wake);
        Ok(())
    }

    /// The bytes of `range` of a file read in ranges: ready once read, else waited for.
    fn poll_range(
        &self,
        id: i64,
        read: &Mutex<BTreeMap<u64, Bytes>>,
        range: &Range<u64>,
        cx: &mut Context<'_>,
    ) -> Poll<Bytes> {
        let held = byte_ranges::holding(&mut read.lock().expect("not poisoned"), range, Bytes::len)
            .map(|(start, bytes)| {
                bytes.slice((range.start - start) as usize..(range.end - start) as usize)
            });
        if let Some(bytes) = held {
            return Poll::Ready(bytes);
        }
        let mut waiting = self.waiting.lock().expect("not poisoned");
        let wanted = WantedRange {
            file: id,
            range: range.clone(),
        };
        if !waiting.wanted.contains(&wanted) {
            waiting.wanted.push(wanted);
        }
        waiting.readers.push(cx.waker().clone());
        if let Some(engine) = &waiting.engine {
            engine.wake_by_ref();
        }
        Poll::Pending
    }
}

/// Every object's modification time: the bytes under a name never change.
const MODIFIED: DateTime<Utc> = DateTime::UNIX_EPOCH;

fn meta(location: &Path, size: u64) -> ObjectMeta {
    ObjectMeta {
        location: location.clone(),
        last_modified: MODIFIED,
        size,
        e_tag: None,
        version: None,
    }
}

fn read_only(operation: &str) -> object_store::Error {
    object_store::Error::NotImplemented {
        operation: operation.to_owned(),
        implementer: "the read-only file set of a query".to_owned(),
    }
}

impl fmt::Display for FileSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileSet({} files)", self.files.len())
    }
}

#[async_trait]
impl ObjectStore for FileSet {
    async fn put_opts(
        &self,
        _location: &Path,
        _payload: PutPayload,
        _options: PutOptions,
    ) -> object_store::Result<PutResult> {
        Err(read_only("put"))
    }

    async fn put_multipart_opts(
        &self,
        _location: &Path,
        _options: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Err(read_only("put_multipart"))
    }

    async fn get_opts(
        &self,
        location: &Path,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        if (self.stop)() {
            return Err(object_store::Error::Generic {
                store: "FileSet",
                source: Box::new(QueryError::Cancelled),
            });
        }
        let Some(contents) = self.files.get(location) else {
            return Err(object_store::Error::NotFound {
                path: location.to_string(),
                source: "not a file of this query".into(),
            });
        };
        let meta = meta(location, contents.size());
        options.check_preconditions(&meta)?;
        let range = match options.range {
            Some(range) => range
                .as_range(meta.size)
                .map_err(|e| object_store::Error::Generic {
                    store: "FileSet",
                    source: Box::new(e),
                })?,
            None => 0..meta.size,
        };
        let data = match contents {
            Contents::Loaded(bytes) => bytes.slice(range.start as usize..range.end as usize),
            Contents::InRanges { .. } if options.head => Bytes::new(),
            Contents::InRanges { id, read, .. } => {
                poll_fn(|cx| self.poll_range(*id, read, &range, cx)).await
            }
        };
        Ok(GetResult {
            payload: GetResultPayload::Stream(stream::once(async { Ok(data) }).boxed()),
            meta,
            range,
            attributes: Default::default(),
        })
    }

    /// The ranges read all at once, those that touch or overlap as one (the pages of a
    /// column chunk one after another). By default ranges less than a MiB apart are read as
    /// one, which saves requests to a remote store; here a range costs no request of its
    /// own, and the bytes between two ranges would be read for nothing.
    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[Range<u64>],
    ) -> object_store::Result<Vec<Bytes>> {
        let mut joined: Vec<Range<u64>> = ranges.to_vec();
        joined.sort_unstable_by_key(|range| range.start);
        joined.dedup_by(|next, last| {
            let touches = next.start <= last.end;
            if touches {
                last.end = last.end.max(next.end);
            }
            touches
        });
        let read = try_join_all(
            joined
                .iter()
                .map(|range| self.get_range(location, range.clone())),
        )
        .await?;
        Ok(ranges
            .iter()
            .map(|range| {
                let i = joined.partition_point(|joined| joined.start <= range.start) - 1;
                let start = joined[i].start;
                read[i].slice((range.start - start) as usize..(range.end - start) as usize)
            })
            .collect())
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        locations.map(|_| Err(read_only("delete"))).boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        stream::iter(self.under(prefix).into_iter().map(Ok)).boxed()
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        Ok(ListResult {
            common_prefixes: Vec::new(),
            objects: self.under(prefix),
        })
    }

    async fn copy_opts(
        &self,
        _from: &Path,
        _to: &Path,
        _options: CopyOptions,
    ) -> object_store::Result<()> {
        Err(read_only("copy"))
    }
}
