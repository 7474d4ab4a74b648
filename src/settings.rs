//! The extension's settings (GUCs), registered when the library loads.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// `tsparquet.enable_copy_lineprotocol`: whether `COPY ... (FORMAT lineprotocol)` is taken
/// over by the extension. Off leaves every COPY to Postgres.
pub static ENABLE_COPY_LINEPROTOCOL: GucSetting<bool> = GucSetting::<bool>::new(true);

/// `tsparquet.write_threads`: threads that parse and encode one write's line protocol, and
/// that decode and encode the files of a merge.
pub static WRITE_THREADS: GucSetting<i32> = GucSetting::<i32>::new(2);

/// `tsparquet.write_threads`, as a count.
pub fn write_threads() -> usize {
    usize::try_from(WRITE_THREADS.get()).unwrap_or(1).max(1)
}

/// `tsparquet.enable_pushdown`: whether filters and aggregates are computed by the query
/// engine over the Parquet files. Off makes every scan hand Postgres all rows.
pub static ENABLE_PUSHDOWN: GucSetting<bool> = GucSetting::<bool>::new(true);

/// `tsparquet.file_cache_size`: kilobytes of stored files, and of ranges of large ones, each
/// backend keeps in memory between queries. 0 reads them from the catalog for each query.
pub static FILE_CACHE_SIZE_KB: GucSetting<i32> = GucSetting::<i32>::new(128 * 1024);

/// `tsparquet.small_file_cache_size`: kilobytes of small files each backend keeps decoded
/// between queries, which it then filters in memory. 0 reads every file with the query
/// engine's Parquet reader.
pub static SMALL_FILE_CACHE_SIZE_KB: GucSetting<i32> = GucSetting::<i32>::new(64 * 1024);

/// `tsparquet.auto_compact`: whether each write merges the small files its days have
/// gathered. Off leaves every file as written, for `tsparquet.compact` to merge.
pub static AUTO_COMPACT: GucSetting<bool> = GucSetting::<bool>::new(true);

pub fn register() {
    GucRegistry::define_bool_guc(
        c"tsparquet.auto_compact",
        c"Lets each write merge the small files of the days it writes into.",
        c"Once a day of a measurement holds ten files of a size (by the number of digits of their row counts), the write that stored the tenth merges them, into one file or, past 32 MiB of decoded rows, a few. Off leaves every file as written until tsparquet.compact is run.",
        &AUTO_COMPACT,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"tsparquet.file_cache_size",
        c"Memory each session uses to keep stored Parquet files between queries.",
        c"Files never change once stored, so a session reads each one (of a file of 2 MiB or more, each range a query needs) from the catalog once while it stays in this cache; 0 turns the cache off.",
        &FILE_CACHE_SIZE_KB,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_int_guc(
        c"tsparquet.small_file_cache_size",
        c"Memory each session uses to keep small Parquet files decoded between queries.",
        c"Files of one row group and at most 524,288 values (rows times columns), such as recent writes not yet merged, are decoded once, kept, and filtered in memory instead of being opened by the query engine's Parquet reader in every query; 0 reads every file with the Parquet reader.",
        &SMALL_FILE_CACHE_SIZE_KB,
        0,
        i32::MAX,
        GucContext::Userset,
        GucFlags::UNIT_KB,
    );
    GucRegistry::define_bool_guc(
        c"tsparquet.enable_pushdown",
        c"Lets the query engine filter and aggregate measurement data where it is stored.",
        c"Off makes every scan of a measurement hand all its rows to PostgreSQL, which then filters and aggregates them itself.",
        &ENABLE_PUSHDOWN,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_int_guc(
        c"tsparquet.write_threads",
        c"Threads that parse and encode the line protocol of one write, and that decode and encode the files of a merge.",
        c"Large writes are cut into this many parts, parsed and encoded side by side, and large merges of files share their files and columns among this many threads; 1 keeps all work on the backend's own thread.",
        &WRITE_THREADS,
        1,
        16,
        GucContext::Userset,
        GucFlags::default(),
    );
    GucRegistry::define_bool_guc(
        c"tsparquet.enable_copy_lineprotocol",
        c"Lets COPY <database> FROM ... WITH (FORMAT lineprotocol) write line protocol.",
        c"Off leaves all COPY statements to PostgreSQL.",
        &ENABLE_COPY_LINEPROTOCOL,
        GucContext::Userset,
        GucFlags::default(),
    );
    // SAFETY: called once while the library loads.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"tsparquet".as_ptr()) };
}
