//! Stored files kept in the session's memory between queries: small files whole, and the
//! ranges queries read of large ones. A file's bytes never change once stored (rewriting
//! makes a new file with a new id), so cached bytes are the file's for as long as it
//! exists; which files a query reads still comes from its own snapshot.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::rc::Rc;

use bytes::Bytes;
use pgrx::pg_sys;
use tsparquet_core::byte_ranges;
use tsparquet_core::query::{FileInRanges, QueryFile, QueryFiles, StoredFile, WantedRange};

use crate::catalog::files::{self, FileKey, ListedFile};
use crate::settings::FILE_CACHE_SIZE_KB;

/// Files from this size on are read in the ranges a query needs rather than whole: a query
/// engine reads a file's last 512 KiB for its footer, and a query of a few columns or
/// series needs a small part of the rest.
const READ_IN_RANGES_FROM: u64 = 2 << 20;

/// Bytes kept, with the tick of their last use.
struct Kept {
    bytes: Bytes,
    used: u64,
}

/// What the cache keeps of one file: the file whole, or ranges of it (see [`byte_ranges`]).
#[derive(Default)]
struct KeptFile {
    whole: Option<Kept>,
    ranges: BTreeMap<u64, Kept>,
}

/// Where kept bytes are, for eviction: the file, and the first byte of a range (None for
/// the whole file).
type Place = (FileKey, Option<u64>);

#[derive(Default)]
struct Cache {
    files: HashMap<FileKey, KeptFile>,
    /// What the kept bytes cost, each piece charged [`PIECE_OVERHEAD`] besides its bytes.
    bytes: usize,
    tick: u64,
}

/// What keeping a piece costs besides its bytes (its entries and allocation): a query of a
/// few pages keeps pieces of tens of bytes.
const PIECE_OVERHEAD: usize = 128;

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
    /// Of those, the bytes read from the catalog: the session's cache held the others.
    pub from_catalog: Rc<Cell<u64>>,
}

/// The files `listed` for a pushed-down query: small ones whole (from the cache, or read
/// under `snapshot` now), large ones in ranges, read under `snapshot` when the query asks.
pub fn for_query(listed: &[ListedFile], snapshot: pg_sys::Snapshot) -> (QueryFiles, RangeReads) {
    let in_ranges = |file: &ListedFile| file.size >= READ_IN_RANGES_FROM;
    let small: Vec<FileKey> = listed
        .iter()
        .filter(|file| !in_ranges(file))
        .map(|file| file.key)
        .collect();
    let mut loaded = load(&small, snapshot).into_iter();
    let mut reads = RangeReads::default();
    let files = listed
        .iter()
        .map(|file| {
            if in_ranges(file) {
                reads.files += 1;
                reads.size += file.size;
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
    let (counted, from_catalog) = (reads.read.clone(), reads.from_catalog.clone());
    let read = (reads.files > 0).then(|| {
        // Every file of a scan is in the same catalog table.
        let table = listed[0].key.0;
        Box::new(move |wanted: &[WantedRange]| {
            let (bytes, read_from_catalog) = read_ranges(table, wanted, snapshot);
            counted.set(counted.get() + bytes.iter().map(|b| b.len() as u64).sum::<u64>());
            from_catalog.set(from_catalog.get() + read_from_catalog);
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
            .filter(|key| cache.files.get(key).is_none_or(|file| file.whole.is_none()))
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
                bytes: cache.whole(*key, tick).unwrap_or_else(|| {
                    loaded
                        .get(key)
                        .cloned()
                        .expect("a file listed under the snapshot is readable under it")
                }),
            })
            .collect();
        for (key, bytes) in loaded {
            cache.keep((key, None), bytes, tick, capacity());
        }
        cache.evict_to(capacity());
        wanted
    })
}

/// The ranges `wanted` of files of the catalog table `table`, in their order: from the
/// cache, or read under `snapshot` in one query; and how many bytes that query read.
fn read_ranges(
    table: u32,
    wanted: &[WantedRange],
    snapshot: pg_sys::Snapshot,
) -> (Vec<Bytes>, u64) {
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        let tick = cache.next_tick();
        let mut found: Vec<Option<Bytes>> = wanted
            .iter()
            .map(|w| cache.range((table, w.file), &w.range, tick))
            .collect();
        let missing: Vec<usize> = (0..wanted.len()).filter(|&i| found[i].is_none()).collect();
        let mut from_catalog = 0;
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
                from_catalog += bytes.len() as u64;
                let place = ((table, wanted[i].file), Some(wanted[i].range.start));
                cache.keep(place, bytes.clone(), tick, capacity());
                found[i] = Some(bytes);
            }
            cache.evict_to(capacity());
        }
        // A range of a file the snapshot does not see is left out: the engine refuses an
        // answer short of what it asked.
        (found.into_iter().flatten().collect(), from_catalog)
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

    /// The file `key` whole, if kept, marked as used at `tick`.
    fn whole(&mut self, key: FileKey, tick: u64) -> Option<Bytes> {
        let kept = self.files.get_mut(&key)?.whole.as_mut()?;
        kept.used = tick;
        Some(kept.bytes.clone())
    }

    /// The bytes `range` of the file `key`, if kept whole or within a kept range, marked as
    /// used at `tick`.
    fn range(&mut self, key: FileKey, range: &Range<u64>, tick: u64) -> Option<Bytes> {
        let file = self.files.get_mut(&key)?;
        let (start, kept) = match &mut file.whole {
            Some(whole) => (whole.bytes.len() as u64 >= range.end).then_some((0, whole))?,
            None => byte_ranges::holding(&mut file.ranges, range, |kept| kept.bytes.len())?,
        };
        kept.used = tick;
        Some(
            kept.bytes
                .slice((range.start - start) as usize..(range.end - start) as usize),
        )
    }

    /// Keeps `bytes` at `place` if a cache of `capacity` can hold them at all.
    fn keep(&mut self, place: Place, bytes: Bytes, tick: u64, capacity: usize) {
        let cost = bytes.len() + PIECE_OVERHEAD;
        if cost > capacity {
            return;
        }
        let file = self.files.entry(place.0).or_default();
        let kept = Kept { bytes, used: tick };
        let dropped = match place.1 {
            None => file.whole.replace(kept).into_iter().collect(),
            Some(start) => byte_ranges::keep(&mut file.ranges, start, kept, |k| k.bytes.len()),
        };
        self.bytes += cost;
        for dropped in dropped {
            self.bytes -= dropped.bytes.len() + PIECE_OVERHEAD;
        }
    }

    /// Once the cache holds more than `capacity`, drops the least recently used pieces
    /// until it holds at most nine tenths of it: a full cache is sorted once per tenth of
    /// its capacity read, not once per query.
    fn evict_to(&mut self, capacity: usize) {
        if self.bytes <= capacity {
            return;
        }
        let mut by_use: Vec<(u64, Place, usize)> = Vec::new();
        for (key, file) in &self.files {
            if let Some(whole) = &file.whole {
                by_use.push((whole.used, (*key, None), whole.bytes.len()));
            }
            for (start, kept) in &file.ranges {
                by_use.push((kept.used, (*key, Some(*start)), kept.bytes.len()));
            }
        }
        by_use.sort_unstable_by_key(|(used, _, _)| *used);
        let target = capacity / 10 * 9;
        for (_, (key, start), size) in by_use {
            if self.bytes <= target {
                break;
            }
            let file = self.files.get_mut(&key).expect("listed above");
            match start {
                None => file.whole = None,
                Some(start) => {
                    file.ranges.remove(&start);
                }
            }
            if file.whole.is_none() && file.ranges.is_empty() {
                self.files.remove(&key);
            }
            self.bytes -= size + PIECE_OVERHEAD;
        }
    }
}

/// What the cache may hold: `tsparquet.file_cache_size`.
fn capacity() -> usize {
    FILE_CACHE_SIZE_KB.get().max(0) as usize * 1024
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    fn bytes(len: usize) -> Bytes {
        Bytes::from((0..len).map(|i| i as u8).collect::<Vec<u8>>())
    }

    #[pg_test]
    fn a_range_is_served_from_a_kept_range_or_file_that_holds_it() {
        let mut cache = Cache::default();
        let (file, other) = ((1, 7), (1, 8));
        cache.keep((file, Some(100)), bytes(50), 1, 1 << 20);
        assert_eq!(
            cache.range(file, &(110..120), 2),
            Some(bytes(50).slice(10..20))
        );
        assert_eq!(cache.range(file, &(100..150), 2), Some(bytes(50)));
        assert_eq!(
            cache.range(file, &(140..151), 2),
            None,
            "runs past the kept range"
        );
        assert_eq!(cache.range(file, &(90..110), 2), None, "starts before it");
        cache.keep((other, None), bytes(300), 3, 1 << 20);
        assert_eq!(
            cache.range(other, &(200..260), 4),
            Some(bytes(300).slice(200..260))
        );
        assert_eq!(cache.bytes, 350 + 2 * PIECE_OVERHEAD);
    }

    #[pg_test]
    fn a_full_cache_drops_its_least_recently_used_pieces_to_nine_tenths() {
        let mut cache = Cache::default();
        let piece = 1000 - PIECE_OVERHEAD;
        let capacity = 10 * 1000;
        for start in 0..10u64 {
            cache.keep(
                ((1, 7), Some(start * 5000)),
                bytes(piece),
                start + 1,
                capacity,
            );
        }
        // The first piece used again: the second is now the least recently used.
        assert!(cache.range((1, 7), &(0..10), 11).is_some());
        cache.keep(((1, 7), Some(99_000)), bytes(piece), 12, capacity);
        cache.evict_to(capacity);
        assert_eq!(cache.bytes, 9 * 1000);
        assert!(cache.range((1, 7), &(0..10), 13).is_some());
        assert!(cache.range((1, 7), &(5000..5010), 13).is_none());
        assert!(cache.range((1, 7), &(10_000..10_010), 13).is_none());
        assert!(cache.range((1, 7), &(15_000..15_010), 13).is_some());
        // Replacing a piece counts its bytes once; one larger than the cache is not kept.
        cache.keep(((1, 7), Some(0)), bytes(piece), 14, capacity);
        assert_eq!(cache.bytes, 9 * 1000);
        cache.keep(((1, 9), None), bytes(capacity), 15, capacity);
        assert_eq!(cache.bytes, 9 * 1000);
    }
}
