//! Queries pushed down from Postgres plans into DataFusion: the planner describes what to
//! compute (filters, grouping, aggregates) in a small serialisable language, and the
//! executor runs it over the table's Parquet files on the backend thread.

mod chain;
mod column_facts;
mod columnar;
mod date_part;
mod direct_plan;
mod distinct_groups;
mod engine;
pub mod expr;
mod file_scans;
mod file_set;
mod float_order;
mod float_variance;
mod greatest_least;
pub mod integer_bounds;
mod local_trunc;
mod narrow_sums;
mod numeric_variance;
mod one_group;
mod opaque;
mod percentile;
mod plan_cache;
mod postgres_arithmetic;
mod postgres_like;
mod postgres_regex;
pub mod request;
mod run_sums;
mod series_extremes;
mod small_files;
pub mod sort_memory;
mod spill_files;
mod sum_of_squares;
mod time_bin;
mod translate;

pub use date_part::DateField;
pub use engine::{Engine, Limits, Output, QueryFiles, ReadRanges, RunningQuery};
pub use file_set::{FileInRanges, QueryFile, StoredFile, WantedRange};
pub use local_trunc::{step_starts, LocalBuckets};
pub use numeric_variance::whole_number_variance;
pub use postgres_regex::to_rust_regex;
pub use spill_files::SpillFiles;

use std::fmt;

/// Whether the query should stop now (a cancel or a statement timeout is pending). Asked
/// from inside DataFusion, so it may only read flags.
pub type StopCheck = fn() -> bool;

/// Why a pushed-down query failed.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryError {
    /// The caller asked to stop (a cancel or a statement timeout is pending).
    Cancelled,
    /// The query needed more memory than it may use.
    ResourcesExhausted(String),
    /// A `double precision` overflowed (a sum, an average, arithmetic), where Postgres
    /// reports it.
    Overflow,
    /// Arithmetic of `double precision` underflowed to zero, where Postgres reports it.
    Underflow,
    /// Arithmetic of `bigint` left its range.
    BigintOutOfRange,
    DivisionByZero,
    /// Matching a value reached the lone escape character ending a `LIKE` pattern.
    LikeEndsInEscape,
    /// The query's spill files would exceed `temp_file_limit`, in kB.
    TemporaryFileLimit(u64),
    /// The request holds something the translation does not cover: a planner bug.
    Unsupported(String),
    Engine(String),
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QueryError::Cancelled => f.write_str("query cancelled"),
            QueryError::ResourcesExhausted(_) => {
                f.write_str("the query engine needs more memory than work_mem allows")
            }
            QueryError::Overflow => f.write_str("value out of range: overflow"),
            QueryError::Underflow => f.write_str("value out of range: underflow"),
            QueryError::BigintOutOfRange => f.write_str("bigint out of range"),
            QueryError::DivisionByZero => f.write_str("division by zero"),
            QueryError::LikeEndsInEscape => {
                f.write_str("LIKE pattern must not end with escape character")
            }
            QueryError::TemporaryFileLimit(kb) => {
                write!(f, "temporary file size exceeds temp_file_limit ({kb}kB)")
            }
            QueryError::Unsupported(m) => write!(f, "cannot push down {m}"),
            QueryError::Engine(m) => write!(f, "query engine: {m}"),
        }
    }
}

impl std::error::Error for QueryError {}

impl From<datafusion::error::DataFusionError> for QueryError {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        if let Some(refusal) = postgres_refusal(&e) {
            return refusal;
        }
        match e.find_root() {
            datafusion::error::DataFusionError::ResourcesExhausted(m) => {
                QueryError::ResourcesExhausted(m.clone())
            }
            root => QueryError::Engine(root.to_string()),
        }
    }
}

/// The errors Postgres raises for some row's values that the engine's own functions give
/// (`LIKE`, arithmetic, sums of floats).
const RAISED_FOR_VALUES: [QueryError; 5] = [
    QueryError::Overflow,
    QueryError::Underflow,
    QueryError::BigintOutOfRange,
    QueryError::DivisionByZero,
    QueryError::LikeEndsInEscape,
];

/// The error Postgres would raise that the engine's own functions gave, wherever
/// DataFusion or the Parquet reader wrapped it.
fn postgres_refusal(e: &datafusion::error::DataFusionError) -> Option<QueryError> {
    let mut error: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(current) = error {
        // An I/O error's source is its inner error's source: the inner error itself (a
        // spill file's writer refusing) is only reached through `get_ref`.
        let inner = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        for candidate in [Some(current), inner].into_iter().flatten() {
            if let Some(refusal) = candidate.downcast_ref::<QueryError>() {
                if RAISED_FOR_VALUES.contains(refusal)
                    || matches!(refusal, QueryError::TemporaryFileLimit(_))
                {
                    return Some(refusal.clone());
                }
            }
        }
        error = current.source();
    }
    // The Parquet reader's row filter keeps only the text of the error it wraps
    // ("Error evaluating filter predicate: {error:?}").
    let text = e.to_string();
    RAISED_FOR_VALUES
        .into_iter()
        .find(|refusal| text.contains(&format!("External({refusal:?})")))
}

impl From<object_store::Error> for QueryError {
    fn from(e: object_store::Error) -> Self {
        QueryError::Engine(e.to_string())
    }
}
