//! Keeps the memory a write's text was received into for the next write.
//!
//! PostgreSQL receives a `write_lp` call's text into fresh memory twice (the message, then
//! the text value) and frees both when the call ends. glibc serves blocks above its mmap
//! threshold (32 MB at most) from mappings of their own, unmapped when freed, and gives
//! freed memory at the top of its heap back to the kernel beyond a trim threshold. So each
//! call had its text page-faulted in anew, the kernel zeroing every page: a fifth of a
//! 5,000-line call, a quarter of a 500,000-line call (172 MB of text, 90,000 faults), and on
//! a virtual machine that hands freed memory back to its host up to 80% of it (`perf`:
//! `clear_page_erms` under `pq_getmessage` and `textin`).
//!
//! A backend that writes line protocol therefore takes large blocks from its heap too, never
//! from mappings of their own, and keeps freed memory at the top of its heap for a text as
//! large as the largest it has been sent: three times the text (the message buffer grows by
//! doubling to up to twice its size, then the text value), and 64 MB besides, at most 1 GB
//! in all. The next write of that size finds its memory in place. Beyond that, the heap is
//! trimmed as glibc always trims it.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Freed memory kept besides the texts: a few 5,000-line texts, and the rest of a call.
const KEPT_BESIDE_TEXTS: usize = 64 << 20;
/// Freed memory kept at the most, whatever the size of the texts.
const MOST_KEPT: usize = 1 << 30;

/// Keeps enough freed memory for texts of `text_len` bytes, from now on in this backend.
pub fn keep_freed_memory(text_len: usize) {
    static KEPT: AtomicUsize = AtomicUsize::new(0);
    let wanted = text_len
        .saturating_mul(3)
        .saturating_add(KEPT_BESIDE_TEXTS)
        .min(MOST_KEPT);
    if KEPT.fetch_max(wanted, Ordering::Relaxed) >= wanted {
        return;
    }
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only changes the allocator's parameters, under its own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(
            libc::M_TRIM_THRESHOLD,
            i32::try_from(wanted).expect("at most 1 GB"),
        );
    }
}

#[cfg(all(target_env = "gnu", any(test, feature = "pg_test")))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// Bytes glibc holds in blocks mapped apart, and free bytes in its heaps.
    fn mapped_and_free() -> (usize, usize) {
        // SAFETY: reads the allocator's statistics.
        let info = unsafe { libc::mallinfo2() };
        (info.hblkhd, info.fordblks)
    }

    /// Mallocs and frees a block of `size` bytes, asserting that it came from the heap and
    /// stayed there once freed.
    fn assert_block_kept(size: usize) {
        let (mapped_before, _) = mapped_and_free();
        // SAFETY: a block of this test's own, freed before it ends.
        unsafe {
            let block = libc::malloc(size);
            assert!(!block.is_null());
            assert!(
                mapped_and_free().0 < mapped_before + size,
                "the block comes from the heap, not from a mapping of its own"
            );
            libc::free(block);
        }
        assert!(
            mapped_and_free().1 >= size,
            "the freed block stays in the heap instead of going back to the kernel"
        );
    }

    #[pg_test]
    fn after_a_write_a_freed_text_sized_block_stays_for_the_next() {
        Spi::run("SELECT tsparquet.write_lp('memory_test', 'm f=1 1')").unwrap();
        // A 5,000-line batch's text, several times over; glibc's own default maps it apart.
        assert_block_kept(24 << 20);
    }

    #[pg_test]
    fn a_large_text_leaves_room_for_the_next_of_its_size() {
        // A 300,000-line text: above any mmap threshold glibc accepts.
        const TEXT: usize = 100 << 20;
        super::keep_freed_memory(TEXT);
        assert_block_kept(TEXT);
    }
}
