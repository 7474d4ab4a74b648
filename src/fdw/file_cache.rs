//! Stored files kept in the session's memory between queries. A file's bytes never change
//! once stored (rewriting makes a new file with a new id), so a cached file is the file for
//! as long as it exists; which files a query reads still comes from its own snapshot.

use std::cell::RefCell;
use std::collections::HashMap;

use bytes::Bytes;
use pgrx::pg_sys;
use tsparquet_core::query::StoredFile;

use crate::catalog::files::{self, FileKey};
use crate::settings::FILE_CACHE_SIZE_KB;

#[derive(Default)]
struct Cache {
    /// File → bytes and the tick of their last use.
    files: HashMap<FileKey, (Bytes, u64)>,
    bytes: usize,
    tick: u64,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The files `keys`, in that order: from the cache, or read under `snapshot`. Each is named
/// by its key, which no other file has in the life of the backend.
pub fn load(keys: &[FileKey], snapshot: pg_sys::Snapshot) -> Vec<StoredFile> {
    let capacity = FILE_CACHE_SIZE_KB.get().max(0) as usize * 1024;
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        cache.tick += 1;
        let tick = cache.tick;
        let missing: Vec<i64> = keys
            .iter()
            .filter(|key| !cache.files.contains_key(key))
            .map(|(_, id)| *id)
            .collect();
        let mut loaded: HashMap<FileKey, Bytes> = HashMap::new();
        if !missing.is_empty() {
            let table = keys[0].0;
            for (id, data) in files::data_as_of(&missing, snapshot) {
                loaded.insert((table, id), Bytes::from(data));
            }
        }
        let wanted: Vec<StoredFile> = keys
            .iter()
            .map(|key| {
                let bytes = match cache.files.get_mut(key) {
                    Some((bytes, used)) => {
                        *used = tick;
                        bytes.clone()
                    }
                    None => loaded
                        .get(key)
                        .cloned()
                        .expect("a file listed under the snapshot is readable under it"),
                };
                StoredFile {
                    // Zero-padded: the engine reads files in the order of their names,
                    // which is then the order they were written in.
                    name: format!("{}-{:020}.parquet", key.0, key.1),
                    bytes,
                }
            })
            .collect();
        for (key, bytes) in loaded {
            if bytes.len() <= capacity {
                cache.bytes += bytes.len();
                cache.files.insert(key, (bytes, tick));
            }
        }
        cache.evict_to(capacity);
        wanted
    })
}

impl Cache {
    /// Drops the least recently used files until the cache holds at most `capacity` bytes.
    fn evict_to(&mut self, capacity: usize) {
        if self.bytes <= capacity {
            return;
        }
        let mut by_use: Vec<(u64, FileKey, usize)> = self
            .files
            .iter()
            .map(|(key, (bytes, used))| (*used, *key, bytes.len()))
            .collect();
        by_use.sort_unstable();
        for (_, key, size) in by_use {
            if self.bytes <= capacity {
                break;
            }
            self.files.remove(&key);
            self.bytes -= size;
        }
    }
}
