//! Keeps the memory a write's text was received into for the next write.
//!
//! PostgreSQL receives a `write_lp` call's text into fresh memory twice (the message, then
//! the text value) and frees both when the call ends. glibc gives freed memory at the top of
//! its heap back to the kernel beyond a trim threshold, and serves blocks above an mmap
//! threshold from new mappings, so a client writing batch after batch had each batch's text
//! page-faulted in anew: a fifth of a 5,000-line call. glibc raises both thresholds itself
//! after freeing large blocks, but only as far as the largest block freed so far, which
//! still lets each call's texts be given back. A backend that writes line protocol has them
//! raised at once to the ceilings of glibc's own adjustment (32 MB and 64 MB): it keeps up
//! to 64 MB of freed memory for its next write, and texts above 32 MB are mapped anew, as
//! they would have been.

use std::sync::Once;

/// Blocks up to this size come from the heap.
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Freed memory at the top of the heap kept for later allocations.
const TRIM_THRESHOLD: i32 = 2 * MMAP_THRESHOLD;

/// Raises the thresholds, once per backend.
pub fn keep_freed_memory() {
    static RAISED: Once = Once::new();
    RAISED.call_once(|| {
        #[cfg(target_env = "gnu")]
        // SAFETY: mallopt only changes the allocator's parameters, under its own lock.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
        }
    });
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

    #[pg_test]
    fn after_a_write_a_freed_text_sized_block_stays_for_the_next() {
        Spi::run("SELECT tsparquet.write_lp('memory_test', 'm f=1 1')").unwrap();
        // A 5,000-line batch's text, several times over; glibc's own default maps it apart.
        const SIZE: usize = 24 << 20;
        let (mapped_before, _) = mapped_and_free();
        // SAFETY: a block of this test's own, freed before it ends.
        unsafe {
            let block = libc::malloc(SIZE);
            assert!(!block.is_null());
            assert!(
                mapped_and_free().0 < mapped_before + SIZE,
                "the block comes from the heap, not from a mapping of its own"
            );
            libc::free(block);
        }
        assert!(
            mapped_and_free().1 >= SIZE,
            "the freed block stays in the heap instead of going back to the kernel"
        );
    }
}
