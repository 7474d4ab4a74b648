//! The files one query reads, as a read-only object store. Each name stands for one stored
//! file, whose bytes never change (rewriting stores a new file under a new name), so an
//! object's metadata is the same in every query that reads it: DataFusion's cache of
//! parsed Parquet footers, which checks an object's size and modification time, stays
//! valid from one query to the next.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::{self, BoxStream, StreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, GetResultPayload, ListResult, MultipartUpload, ObjectMeta,
    ObjectStore, PutMultipartOptions, PutOptions, PutPayload, PutResult,
};

use super::{QueryError, StopCheck};

/// A stored file: a name unique to its bytes for the life of the backend, and the bytes.
#[derive(Debug, Clone)]
pub struct StoredFile {
    pub name: String,
    pub bytes: Bytes,
}

#[derive(Debug)]
pub struct FileSet {
    files: BTreeMap<Path, Bytes>,
    stop: StopCheck,
}

impl FileSet {
    /// The files of a query that ends once `stop` says so: every read asks it first.
    /// A blocking operator (an aggregate, a sort) reads all its input before DataFusion
    /// yields, so between reads of row groups is where a cancel can reach it in time.
    pub fn new(files: Vec<StoredFile>, stop: StopCheck) -> FileSet {
        FileSet {
            files: files
                .into_iter()
                .map(|file| (Path::from(file.name), file.bytes))
                .collect(),
            stop,
        }
    }

    /// What the query asks whether to stop.
    pub(super) fn stop_check(&self) -> StopCheck {
        self.stop
    }

    /// The bytes of the file at `location`, if it is one of the query's.
    pub(super) fn bytes(&self, location: &Path) -> Option<&Bytes> {
        self.files.get(location)
    }

    /// The files under `prefix`; names hold no `/`, so there are no directories to list.
    pub(super) fn under(&self, prefix: Option<&Path>) -> Vec<ObjectMeta> {
        self.files
            .iter()
            .filter(|(location, _)| prefix.is_none_or(|p| location.prefix_matches(p)))
            .map(|(location, bytes)| meta(location, bytes))
            .collect()
    }
}

/// Every object's modification time: the bytes under a name never change.
const MODIFIED: DateTime<Utc> = DateTime::UNIX_EPOCH;

fn meta(location: &Path, bytes: &Bytes) -> ObjectMeta {
    ObjectMeta {
        location: location.clone(),
        last_modified: MODIFIED,
        size: bytes.len() as u64,
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
        let Some(bytes) = self.files.get(location) else {
            return Err(object_store::Error::NotFound {
                path: location.to_string(),
                source: "not a file of this query".into(),
            });
        };
        let meta = meta(location, bytes);
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
        let data = bytes.slice(range.start as usize..range.end as usize);
        Ok(GetResult {
            payload: GetResultPayload::Stream(stream::once(async { Ok(data) }).boxed()),
            meta,
            range,
            attributes: Default::default(),
        })
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
