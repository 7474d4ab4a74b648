//! Ranges of a file's bytes held in memory, keyed by their first byte: what a query has
//! read of a file it reads in ranges, and what a backend's cache keeps of one.
//!
//! No held range lies within another: a range kept drops those it holds. Ordered by first
//! byte, the held ranges then end in the same order, so the last one starting at or before
//! a wanted range is the only one that can hold it, and a lookup is one step of the map.

use std::collections::BTreeMap;
use std::ops::Range;

/// The held range that holds all of `wanted`, as its first byte and value; `len` gives a
/// value's length in bytes.
pub fn holding<'a, T>(
    held: &'a mut BTreeMap<u64, T>,
    wanted: &Range<u64>,
    len: impl Fn(&T) -> usize,
) -> Option<(u64, &'a mut T)> {
    let (start, value) = held.range_mut(..=wanted.start).next_back()?;
    (*start + len(value) as u64 >= wanted.end).then_some((*start, value))
}

/// Keeps `value`, the bytes from `start` on, and gives back the values no longer held: the
/// ranges it holds, or `value` itself if a held range holds it already.
pub fn keep<T>(
    held: &mut BTreeMap<u64, T>,
    start: u64,
    value: T,
    len: impl Fn(&T) -> usize,
) -> Vec<T> {
    let end = start + len(&value) as u64;
    if holding(held, &(start..end), &len).is_some() {
        return vec![value];
    }
    let within: Vec<u64> = held
        .range(start..end)
        .filter(|(at, v)| **at + len(v) as u64 <= end)
        .map(|(at, _)| *at)
        .collect();
    let dropped = within.iter().filter_map(|at| held.remove(at)).collect();
    held.insert(start, value);
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(ranges: &[(u64, u64)]) -> BTreeMap<u64, Vec<u8>> {
        let mut held = BTreeMap::new();
        for &(start, end) in ranges {
            keep(&mut held, start, vec![0; (end - start) as usize], Vec::len);
        }
        held
    }

    fn holder(held: &mut BTreeMap<u64, Vec<u8>>, wanted: Range<u64>) -> Option<(u64, usize)> {
        holding(held, &wanted, Vec::len).map(|(start, v)| (start, v.len()))
    }

    #[test]
    fn a_range_read_after_a_smaller_one_within_it_holds_all_it_covers() {
        // [50, 55) first, then [10, 100): the smaller one would hide the larger from a
        // wanted range starting after 50.
        let mut ranges = held(&[(50, 55), (10, 100)]);
        assert_eq!(ranges.keys().copied().collect::<Vec<_>>(), [10]);
        assert_eq!(holder(&mut ranges, 60..70), Some((10, 90)));
        assert_eq!(holder(&mut ranges, 90..101), None);
    }

    #[test]
    fn keeping_gives_back_what_is_no_longer_held() {
        let mut ranges = held(&[(0, 10), (20, 30), (40, 50)]);
        let dropped = keep(&mut ranges, 15, vec![1; 20], Vec::len);
        assert_eq!(dropped, [vec![0; 10]], "[20, 30) lies within [15, 35)");
        // Held already: the value comes back, and nothing changes.
        let dropped = keep(&mut ranges, 16, vec![2; 4], Vec::len);
        assert_eq!(dropped, [vec![2; 4]]);
        assert_eq!(ranges.keys().copied().collect::<Vec<_>>(), [0, 15, 40]);
        // Overlapping ranges stay: neither holds the other.
        assert!(keep(&mut ranges, 30, vec![3; 15], Vec::len).is_empty());
        assert_eq!(holder(&mut ranges, 31..44), Some((30, 15)));
        assert_eq!(holder(&mut ranges, 45..50), Some((40, 10)));
        assert_eq!(holder(&mut ranges, 5..20), None);
    }
}
