//! Stored files kept in the session's memory between queries: small files whole, and the
//! ranges queries read of large ones. A file's bytes never change once stored (rewriting
//! makes a new file with a new id), so cached bytes are the file's for as long as it
//! exists; which files a query reads still comes from its own snapshot.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use bytes::Bytes;
use pgrx::pg_sys;
use tsparquet_core::query::{FileInRanges, QueryFile, QueryFiles, StoredFile, WantedRange};

use crate::catalog::files::{self, FileKey, ListedFile};
use crate::settings::FILE_CACHE_SIZE_KB;

/// Files from this size on are read in the ranges a query needs rather than whole: a query
/// engine reads a file's last 512 KiB for its footer, and a query of a few columns or
/// series needs a small part of the rest.
const READ_IN_RANGES_FROM: u64 = 2 << 20;

/// What the cache keeps of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Piece {
    Whole(FileKey),
    /// Bytes `start..end`.
    Range(FileKey, u64, u64),
}

#[derive(Default)]
struct Cache {
    /// Piece → bytes and the tick of their last use.
    pieces: HashMap<Piece, (Bytes, u64)>,
    bytes: usize,
    tick: u64,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// What a query read of its files read in ranges, for EXPLAIN ANALYZE.
#[derive(Debug, Default, Clone)]
pub struct RangeReads {
    pub files: usize,
    /// Their bytes.
    pub size: u64,
    /// The bytes of the ranges read so far, from the cache or the catalog.
    pub read: Rc<Cell<u64>>,
}

/// The files `listed` for a pushed-down query: small ones whole (from the cache, or read
/// under `snapshot` now), large ones in ranges, read under `snapshot` when the query asks.
pub fn for_query(listed: &[ListedFile], snapshot: pg_sys::Snapshot) -> (QueryFiles, RangeReads) {
    let (large, small): (Vec<ListedFile>, Vec<ListedFile>) = listed
        .iter()
        .partition(|file| file.size >= READ_IN_RANGES_FROM);
    let small: Vec<FileKey> = small.iter().map(|file| file.key).collect();
    let mut loaded = load(&small, snapshot).into_iter();
    let files = listed
        .iter()
        .map(|file| {
            if file.size >= READ_IN_RANGES_FROM {
                QueryFile::InRanges(FileInRanges {
                    name: name(file.key),
                    id: file.key.1,
                    size: file.size,
                })
            } else {
                QueryFile::Loaded(loaded.next().expect("one loaded file per small one"))
            }
        })
        .collect();
    let reads = RangeReads {
        files: large.len(),
        size: large.iter().map(|file| file.size).sum(),
        read: Rc::default(),
    };
    let counted = reads.read.clone();
    let read = (!large.is_empty()).then(|| {
        let table = large[0].key.0;
        Box::new(move |wanted: &[WantedRange]| {
            let bytes = read_ranges(table, wanted, snapshot);
            counted.set(counted.get() + bytes.iter().map(|b| b.len() as u64).sum::<u64>());
            bytes
        }) as _
    });
    (QueryFiles { files, read }, reads)
}

/// The files `keys`, in that order: from the cache, or read under `snapshot`. Each is named
/// by its key, which no other file has in the life of the backend.
pub fn load(keys: &[FileKey], snapshot: pg_sys::Snapshot) -> Vec<StoredFile> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let tick = cache.next_tick();
        let missing: Vec<i64> = keys
            .iter()
            .filter(|key| !cache.pieces.contains_key(&Piece::Whole(**key)))
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
            .map(|key| StoredFile {
                name: name(*key),
                bytes: cache.take(Piece::Whole(*key), tick).unwrap_or_else(|| {
                    loaded
                        .get(key)
                        .cloned()
                        .expect("a file listed under the snapshot is readable under it")
                }),
            })
            .collect();
        for (key, bytes) in loaded {
            cache.keep(Piece::Whole(key), bytes, tick);
        }
        cache.evict_to_capacity();
        wanted
    })
}

/// The ranges `wanted` of files of the catalog table `table`, in their order: from the
/// cache, or read under `snapshot` in one query.
fn read_ranges(table: u32, wanted: &[WantedRange], snapshot: pg_sys::Snapshot) -> Vec<Bytes> {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let tick = cache.next_tick();
        let piece = |w: &WantedRange| Piece::Range((table, w.file), w.range.start, w.range.end);
        let mut found: Vec<Option<Bytes>> =
            wanted.iter().map(|w| cache.take(piece(w), tick)).collect();
        let missing: Vec<usize> = (0..wanted.len()).filter(|&i| found[i].is_none()).collect();
        if !missing.is_empty() {
            let ranges: Vec<(i64, i64, i64)> = missing
                .iter()
                .map(|&i| {
                    let range = &wanted[i].range;
                    (
                        wanted[i].file,
                        range.start as i64,
                        (range.end - range.start) as i64,
                    )
                })
                .collect();
            let read = files::ranges_as_of(&ranges, snapshot);
            for (&i, data) in missing.iter().zip(read) {
                let Some(data) = data else { continue };
                let bytes = Bytes::from(data);
                cache.keep(piece(&wanted[i]), bytes.clone(), tick);
                found[i] = Some(bytes);
            }
            cache.evict_to_capacity();
        }
        // A range of a file the snapshot does not see is left out: the engine refuses an
        // answer short of what it asked.
        found.into_iter().flatten().collect()
    })
}

/// The name a file has in the engine: zero-padded, since the engine reads files in the
/// order of their names, which is then the order they were written in.
fn name(key: FileKey) -> String {
    format!("{}-{:020}.parquet", key.0, key.1)
}

impl Cache {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    /// The bytes of `piece`, if kept, marked as used at `tick`.
    fn take(&mut self, piece: Piece, tick: u64) -> Option<Bytes> {
        let (bytes, used) = self.pieces.get_mut(&piece)?;
        *used = tick;
        Some(bytes.clone())
    }

    /// Keeps `bytes` as `piece` if the cache can hold them at all.
    fn keep(&mut self, piece: Piece, bytes: Bytes, tick: u64) {
        if bytes.len() <= capacity() {
            self.bytes += bytes.len();
            if let Some((replaced, _)) = self.pieces.insert(piece, (bytes, tick)) {
                self.bytes -= replaced.len();
            }
        }
    }

    /// Drops the least recently used pieces until the cache holds at most its capacity.
    fn evict_to_capacity(&mut self) {
        let capacity = capacity();
        if self.bytes <= capacity {
            return;
        }
        let mut by_use: Vec<(u64, Piece, usize)> = self
            .pieces
            .iter()
            .map(|(piece, (bytes, used))| (*used, *piece, bytes.len()))
            .collect();
        by_use.sort_unstable_by_key(|(used, _, _)| *used);
        for (_, piece, size) in by_use {
            if self.bytes <= capacity {
                break;
            }
            self.pieces.remove(&piece);
            self.bytes -= size;
        }
    }
}

/// What the cache may hold: `tsparquet.file_cache_size`.
fn capacity() -> usize {
    FILE_CACHE_SIZE_KB.get().max(0) as usize * 1024
}
