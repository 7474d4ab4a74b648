//! Whether PostgreSQL's own compiler takes a regular expression. The engine's `regex`
//! crate takes patterns PostgreSQL refuses as too complex (`(a{0,255}){255}`), and
//! PostgreSQL raises that error wherever it compiles the pattern (a `FILTER` or `CASE`
//! condition, even over rows it never matches): such a pattern stays with PostgreSQL.

use std::ffi::c_int;

use pgrx::prelude::*;

/// PostgreSQL's `regex_t`, 64 bytes on 64-bit machines, only ever handed to its
/// functions: kept larger than it is.
#[repr(C)]
struct CompiledPattern([u64; 16]);

/// The flavour `~` compiles its patterns in (`REG_ADVANCED | REG_NOSUB`).
const ADVANCED_WITHOUT_SUBMATCHES: c_int = 0o3 | 0o20;
const REG_OKAY: c_int = 0;

// Called inside `pg_guard_ffi_boundary`, as pgrx calls Postgres: an error Postgres raises
// (out of memory) becomes a Rust panic there.
unsafe extern "C-unwind" {
    fn pg_regcomp(
        compiled: *mut CompiledPattern,
        pattern: *const pg_sys::pg_wchar,
        length: usize,
        flags: c_int,
        collation: pg_sys::Oid,
    ) -> c_int;
    fn pg_regfree(compiled: *mut CompiledPattern);
}

/// Whether PostgreSQL compiles `pattern` for `~` under `collation` (a deterministic one).
pub fn compiles(pattern: &str, collation: pg_sys::Oid) -> bool {
    let Ok(length) = c_int::try_from(pattern.len()) else {
        return false;
    };
    let mut wide: Vec<pg_sys::pg_wchar> = vec![0; pattern.len() + 1];
    let mut compiled = CompiledPattern([0; 16]);
    // SAFETY: converts the pattern's bytes (UTF-8, the database's encoding) into room for
    // one character per byte and a terminator, and compiles them into a zeroed `regex_t`,
    // freed when compiling succeeded (a failed compile frees what it made).
    unsafe {
        let characters =
            pg_sys::pg_mb2wchar_with_len(pattern.as_ptr().cast(), wide.as_mut_ptr(), length);
        pg_sys::ffi::pg_guard_ffi_boundary(|| {
            // Postgres' own functions, written in C: they raise errors, never unwind.
            #[allow(ffi_unwind_calls)]
            let status = pg_regcomp(
                &mut compiled,
                wide.as_ptr(),
                characters as usize,
                ADVANCED_WITHOUT_SUBMATCHES,
                collation,
            );
            if status == REG_OKAY {
                #[allow(ffi_unwind_calls)]
                pg_regfree(&mut compiled);
            }
            status == REG_OKAY
        })
    }
}
