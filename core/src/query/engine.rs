//! Running a pushed-down query: the table's files are handed to DataFusion as an object
//! store of the query's own, so its Parquet reader prunes row groups and pages by their
//! statistics, and results stream back one batch at a time on the caller's thread.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::num::NonZeroUsize;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{DataType, Int64Type, SchemaRef, TimeUnit};
use datafusion::catalog::{MemTable, TableProvider};
use datafusion::common::config::TableParquetOptions;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::physical_plan::parquet::metadata::{
    CachedParquetMetaData, DFParquetMetadata,
};
use datafusion::datasource::physical_plan::parquet::ParquetAccessPlan;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::cache::cache_manager::{CacheManagerConfig, CachedFileMetadataEntry};
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{GreedyMemoryPool, TrackConsumersPool};
use datafusion::execution::object_store::{ObjectStoreRegistry, ObjectStoreUrl};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::functions::datetime::expr_fn::date_trunc;
use datafusion::logical_expr::{cast, lit, Expr as DfExpr, ExprSchemable, LogicalPlan};
use datafusion::optimizer::Optimizer;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_plan::display::DisplayableExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::{execute_stream, ExecutionPlan};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext};
use futures::future::try_join_all;
use futures::StreamExt;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData};

use super::column_facts::ColumnFacts;
use super::direct_plan::{self, ScanFiles};
use super::distinct_groups::aggregate_in_two_steps;
use super::expr::{Aggregate, AggregateFunction, CompareOp, Expr, Value};
use super::file_scans::replace_file_scans;
use super::file_set::{FileSet, QueryFile, StoredFile, WantedRange};
use super::float_order::pg_float_order;
use super::plan_cache::{self, PlanCache};
use super::request::{QueryRequest, Shape, SortKey};
use super::series_extremes;
use super::small_files::{read_small_files_from_memory, DecodedFiles};
use super::sort_memory::SORT_BATCH_ROWS;
use super::spill_files::SpillFiles;
use super::translate::{column, Translator};
use super::{QueryError, StopCheck};
use crate::batch::table_arrow_schema;
use crate::extreme_rows;
use crate::schema::{TableSchema, TIME_COLUMN};

/// How often a running query asks whether it should stop.
const STOP_CHECK: Duration = Duration::from_millis(50);
/// The longest list of values that files, row groups and pages are pruned by.
const MAX_PRUNING_LIST: usize = 1000;
/// Memory for parsed Parquet footers and page indexes kept between queries.
const METADATA_CACHE_BYTES: usize = 64 << 20;

/// Reads ranges of a query's files read in ranges, in the order asked: called between
/// polls of the engine, never while DataFusion runs, so it may call Postgres.
pub type ReadRanges = Box<dyn FnMut(&[WantedRange]) -> Vec<bytes::Bytes>>;

/// The files of a query, and how to read those read in ranges.
pub struct QueryFiles {
    pub files: Vec<QueryFile>,
    pub read: Option<ReadRanges>,
}

impl From<Vec<StoredFile>> for QueryFiles {
    fn from(files: Vec<StoredFile>) -> Self {
        QueryFiles {
            files: files.into_iter().map(QueryFile::Loaded).collect(),
            read: None,
        }
    }
}

/// What a query may use.
pub struct Limits {
    pub memory_bytes: usize,
    /// What the backend may keep of small files decoded (see `small_files`); 0 reads every
    /// file with DataFusion's Parquet reader.
    pub decoded_file_bytes: usize,
    /// Where a grouping over `memory_bytes` may spill; None: it fails instead.
    pub spill: Option<SpillFiles>,
}

/// Where a Postgres result value comes from in a result batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Column(usize),
    /// `avg` of integers: the exact sum divided by the count, done by Postgres so the
    /// result has its numeric scale.
    Average {
        sum: usize,
        count: usize,
    },
    /// A variance or standard deviation of whole numbers, computed by the caller from the
    /// count, exact sum and exact sum of squares (see `whole_number_variance`).
    Variance {
        count: usize,
        sum: usize,
        squares: usize,
        sample: bool,
        stddev: bool,
    },
}

/// A runtime that runs queries on the thread that calls it, and what its queries share.
pub struct Engine {
    runtime: tokio::runtime::Runtime,
    /// Functions, settings and planners, made once: making them is a good part of a
    /// short query's time. Its cache of parsed Parquet footers lives as long.
    context: SessionContext,
    /// The context's state, which never changes, for planning without locking it.
    planning: SessionState,
    /// How every query's files are read: with the session's Parquet settings, which a
    /// table's own, left at their defaults, would override.
    listing: ListingOptions,
    parquet: TableParquetOptions,
    /// Optimised plans of earlier queries, for later ones that differ only in their time
    /// bounds.
    plans: RefCell<PlanCache>,
    /// Small files of earlier queries, decoded.
    decoded: RefCell<DecodedFiles>,
    /// Queries started so far; each registers its files under a name of its own.
    started: Cell<u64>,
    stop: StopCheck,
}

impl Engine {
    /// An engine whose queries use up to `threads` partitions and end early once `stop`
    /// says so: it is asked before each batch, every few tens of milliseconds while
    /// DataFusion works, and before each read of a file. `on_thread_start` runs in any
    /// helper thread the runtime starts (none for in-memory files, but the runtime may
    /// start them for blocking work).
    pub fn new(
        threads: usize,
        stop: StopCheck,
        on_thread_start: impl Fn() + Send + Sync + 'static,
    ) -> Result<Engine, QueryError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .on_thread_start(on_thread_start)
            .build()
            .map_err(|e| QueryError::Engine(e.to_string()))?;
        let context = context(threads)?;
        let parquet = TableParquetOptions {
            global: context
                .state_ref()
                .read()
                .config_options()
                .execution
                .parquet
                .clone(),
            ..TableParquetOptions::default()
        };
        let format = ParquetFormat::default().with_options(parquet.clone());
        Ok(Engine {
            runtime,
            parquet,
            listing: ListingOptions::new(Arc::new(format)).with_file_extension(".parquet"),
            planning: context.state(),
            context,
            plans: RefCell::new(PlanCache::default()),
            decoded: RefCell::new(DecodedFiles::default()),
            started: Cell::new(0),
            stop,
        })
    }

    /// Plans the query over `files` and starts it; starting reads the footers, and the
    /// first phase of a latest-per-group query.
    pub fn start(
        &self,
        request: &QueryRequest,
        params: &[Value],
        files: impl Into<QueryFiles>,
        limits: &Limits,
    ) -> Result<RunningQuery, QueryError> {
        let stop = self.stop;
        let task = self.task(limits, request);
        self.decoded
            .borrow_mut()
            .keep_at_most(limits.decoded_file_bytes);
        let schema = arrow_schema(request);
        let mut files = self.register(files.into())?;
        let store = files.store.clone();
        // Held here while the files go into the query being started, and returned to them.
        let mut read = files.read.take();
        let extremes = series_extremes::rows_answering(
            request,
            &store,
            &schema,
            self.parquet.global.metadata_size_hint,
        );
        let extremes = self
            .drive(&store, &mut read, extremes)
            .map_err(|e| stopped_or(e, stop))?;
        if let Some(rows) = extremes {
            let table = Arc::new(MemTable::try_new(schema, vec![rows])?);
            let plan = Plan {
                params,
                facts: &ColumnFacts::default(),
                footers: &[],
            };
            let mut query = self
                .runtime
                .block_on(self.run(table, request, &plan, task, None))?;
            query.from_footers = true;
            return Ok(query);
        }
        let started = self.drive(&store, &mut read, async {
            let footers = self.read_footers(&files.store).await?;
            let facts = ColumnFacts::of(&schema, &footers, request);
            let plan = Plan {
                params,
                facts: &facts,
                footers: &footers,
            };
            let narrowed;
            let request = match extreme_time_bound(request) {
                Some(bound) => {
                    let table = self.files_table(&files, schema.clone())?;
                    let frame = build(self.context.read_table(table)?, &bound, &plan)?.0;
                    let plan = frame.create_physical_plan().await?;
                    let mut stream = execute_stream(plan, task.clone())?;
                    let mut bounds = Vec::new();
                    while let Some(batch) = next_or_stop(&mut stream, stop).await? {
                        bounds.push(batch);
                    }
                    narrowed = narrow_to_extreme_times(request, bounds);
                    &narrowed
                }
                None => request,
            };
            self.run_over_files(schema, request, &plan, task, files, None)
                .await
        });
        let mut started = started.map_err(|e| stopped_or(e, stop))?;
        if let Some(files) = &mut started.files {
            files.read = read;
        }
        Ok(started)
    }

    /// Starts a request for rows (filters and columns, no grouping or order) over one row
    /// group of `file`: a part of a parallel scan (see `parts`).
    pub fn start_row_group(
        &self,
        request: &QueryRequest,
        params: &[Value],
        file: StoredFile,
        row_group: usize,
        limits: &Limits,
    ) -> Result<RunningQuery, QueryError> {
        if !matches!(request.shape, Shape::Rows { .. })
            || !request.order.is_empty()
            || request.limit.is_some()
        {
            return Err(QueryError::Unsupported(
                "only rows in no particular order and without a limit are read by row group"
                    .to_owned(),
            ));
        }
        let stop = self.stop;
        let task = self.task(limits, request);
        let schema = arrow_schema(request);
        let files = self.register(vec![file].into())?;
        let started = self.runtime.block_on(async {
            let footers = self.read_footers(&files.store).await?;
            let row_groups = footers.first().map_or(0, |footer| footer.num_row_groups());
            let facts = ColumnFacts::of(&schema, &footers, request);
            let plan = Plan {
                params,
                facts: &facts,
                footers: &footers,
            };
            let part = Some((row_group, row_groups));
            self.run_over_files(schema, request, &plan, task, files, part)
                .await
        });
        started.map_err(|e| stopped_or(e, stop))
    }

    /// Runs `future` to its end on the backend's thread, handing the ranges its reads of
    /// `files` wait for to `read` whenever none of its work can go on without them.
    fn drive<T>(
        &self,
        files: &FileSet,
        read: &mut Option<ReadRanges>,
        future: impl Future<Output = Result<T, QueryError>>,
    ) -> Result<T, QueryError> {
        let mut future = pin!(future);
        loop {
            let polled = self
                .runtime
                .block_on(poll_fn(|cx| match future.as_mut().poll(cx) {
                    Poll::Ready(done) => Poll::Ready(Some(done)),
                    Poll::Pending if files.waits(cx.waker()) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }));
            match polled {
                Some(done) => return done,
                None => {
                    let read = read.as_mut().ok_or_else(|| {
                        QueryError::Engine("a file read in ranges with no way to read".to_owned())
                    })?;
                    let wanted = files.take_wanted();
                    let bytes = read(&wanted);
                    files.fill(wanted, bytes)?;
                }
            }
        }
    }

    /// The context of one query, with its memory limit.
    fn task(&self, limits: &Limits, request: &QueryRequest) -> Arc<TaskContext> {
        let shared = self.context.state_ref();
        let state = shared.read();
        let mut config = state.config().clone();
        // What a sort keeps of the query's memory to merge the runs it spilled: DataFusion's
        // 10 MB is more than all of a `work_mem` of 4 MB.
        config.options_mut().execution.sort_spill_reservation_bytes = limits.memory_bytes / 4;
        if request.sorts_all_rows() {
            config = config.with_batch_size(SORT_BATCH_ROWS);
        }
        Arc::new(
            TaskContext::from(&*state)
                .with_session_config(config)
                .with_runtime(query_runtime(&self.context.runtime_env(), limits)),
        )
    }

    /// Starts `request` over `table`.
    async fn run(
        &self,
        table: Arc<dyn TableProvider>,
        request: &QueryRequest,
        plan: &Plan<'_>,
        task: Arc<TaskContext>,
        files: Option<RegisteredFiles>,
    ) -> Result<RunningQuery, QueryError> {
        let (frame, outputs) = build(self.context.read_table(table)?, request, plan)?;
        let plan = frame.create_physical_plan().await?;
        execute(plan, outputs, task, files)
    }

    /// Starts `request` over the query's files; with a `part` (row group, the file's row
    /// groups), over that row group of its one file alone.
    async fn run_over_files(
        &self,
        schema: SchemaRef,
        request: &QueryRequest,
        plan: &Plan<'_>,
        task: Arc<TaskContext>,
        files: RegisteredFiles,
        part: Option<(usize, usize)>,
    ) -> Result<RunningQuery, QueryError> {
        let (logical, outputs) = self.logical_over_files(schema, request, plan, &files)?;
        let mut physical = self.physical_over_files(&logical, &files).await?;
        match part {
            Some((row_group, row_groups)) => {
                physical = only_row_group(physical, row_group, row_groups)?;
            }
            None => {
                physical = read_small_files_from_memory(
                    physical,
                    &files.store,
                    plan.footers,
                    &mut self.decoded.borrow_mut(),
                )?;
            }
        }
        execute(physical, outputs, task, Some(files))
    }

    /// The optimised plan of `request` over the query's files: the kept plan of an earlier
    /// query that differed at most in its time bounds if there is one.
    fn logical_over_files(
        &self,
        schema: SchemaRef,
        request: &QueryRequest,
        plan: &Plan<'_>,
        files: &RegisteredFiles,
    ) -> Result<(LogicalPlan, Vec<Output>), QueryError> {
        let table_schema = DFSchema::try_from(schema.as_ref().clone())?;
        let bounds = RefCell::new(Vec::new());
        let filters = translate_filters(request, plan, &table_schema, Some(&bounds))?;
        let key = plan_cache::key(request, plan.params, &filters, plan.facts)
            .map_err(|e| QueryError::Engine(e.to_string()))?;
        let table = self.files_table(files, schema)?;
        let kept = self.plans.borrow_mut().get(&key);
        let (logical, outputs) = match kept {
            Some(kept) => kept,
            None => {
                let frame = self.context.read_table(table.clone())?;
                let (frame, outputs) = build_filtered(frame, request, plan, filters)?;
                let optimized = frame.into_optimized_plan()?;
                self.plans
                    .borrow_mut()
                    .insert(key, optimized.clone(), outputs.clone());
                (optimized, outputs)
            }
        };
        let logical = plan_cache::bind(logical, table, &bounds.into_inner())?;
        Ok((logical, outputs))
    }

    /// The physical plan of a plan over the query's files: made directly where it has one
    /// of the shapes `direct_plan` knows, by DataFusion's planner otherwise.
    async fn physical_over_files(
        &self,
        logical: &LogicalPlan,
        files: &RegisteredFiles,
    ) -> Result<Arc<dyn ExecutionPlan>, QueryError> {
        if let Some(physical) = direct_plan::plan(logical, &self.scan_files(files), &self.planning)?
        {
            return Ok(physical);
        }
        Ok(self
            .planning
            .query_planner()
            .create_physical_plan(logical, &self.planning)
            .await?)
    }

    /// How a directly made plan reads the query's files: as DataFusion's listing of them
    /// would.
    fn scan_files(&self, files: &RegisteredFiles) -> ScanFiles {
        ScanFiles {
            url: files.url.clone(),
            store: files.store.clone(),
            files: files.store.under(None),
            parquet: self.parquet.clone(),
        }
    }

    /// The table of a query's files.
    fn files_table(
        &self,
        files: &RegisteredFiles,
        schema: SchemaRef,
    ) -> Result<Arc<ListingTable>, QueryError> {
        let config = ListingTableConfig::new(ListingTableUrl::parse(files.url.as_str())?)
            .with_listing_options(self.listing.clone())
            .with_schema(schema);
        Ok(Arc::new(ListingTable::try_new(config)?))
    }

    /// DataFusion's optimised plan for a request, for EXPLAIN: the files are not read.
    pub fn describe(&self, request: &QueryRequest, params: &[Value]) -> Result<String, QueryError> {
        let table = MemTable::try_new(arrow_schema(request), vec![Vec::new()])?;
        let plan = Plan {
            params,
            facts: &ColumnFacts::default(),
            footers: &[],
        };
        let (frame, _) = build(self.context.read_table(Arc::new(table))?, request, &plan)?;
        Ok(frame.into_optimized_plan()?.display_indent().to_string())
    }

    /// Makes `files` readable by the next query, under a name no other query uses.
    fn register(&self, files: QueryFiles) -> Result<RegisteredFiles, QueryError> {
        let number = self.started.get();
        self.started.set(number + 1);
        let url = ObjectStoreUrl::parse(format!("tsparquet://query-{number}/"))?;
        let registry = self.context.runtime_env().object_store_registry.clone();
        let store = Arc::new(FileSet::new(files.files, self.stop));
        registry.register_store(url.as_ref(), store.clone());
        Ok(RegisteredFiles {
            registry,
            url,
            store,
            read: files.read,
        })
    }

    /// Each file's footer, kept in the cache with its page index. DataFusion's Parquet
    /// opener caches only the footer and parses the page index again in every query
    /// that prunes pages: a quarter of the reading in a query of one series' hour.
    async fn read_footers(&self, store: &FileSet) -> Result<Vec<Arc<ParquetMetaData>>, QueryError> {
        let cache = self
            .context
            .runtime_env()
            .cache_manager
            .get_file_metadata_cache();
        // All at once: the reads of files read in ranges are then handed on together.
        try_join_all(store.under(None).into_iter().map(|meta| {
            let cache = cache.clone();
            async move {
                let footer = DFParquetMetadata::new(store, &meta)
                    .with_file_metadata_cache(Some(cache.clone()))
                    .with_metadata_size_hint(self.parquet.global.metadata_size_hint)
                    .with_page_index_policy(Some(PageIndexPolicy::Optional))
                    .fetch_metadata()
                    .await?;
                // Kept without the extreme rows, which the scans would copy again and again.
                Ok(match extreme_rows::footer_without(&footer) {
                    Some(lean) => {
                        let lean = Arc::new(lean);
                        let entry = CachedParquetMetaData::new(lean.clone());
                        let location = meta.location.clone();
                        cache.put(
                            &location,
                            CachedFileMetadataEntry::new(meta, Arc::new(entry)),
                        );
                        lean
                    }
                    None => footer,
                })
            }
        }))
        .await
    }
}

/// A query's files, readable while it exists.
struct RegisteredFiles {
    registry: Arc<dyn ObjectStoreRegistry>,
    url: ObjectStoreUrl,
    store: Arc<FileSet>,
    read: Option<ReadRanges>,
}

impl Drop for RegisteredFiles {
    fn drop(&mut self) {
        // Nothing to do if it is gone: it was only ever this query's.
        let _ = self.registry.deregister_store(self.url.as_ref());
    }
}

/// For a query whose aggregates all take the value at each group's latest time (or all
/// at its earliest): the query of each group's latest (earliest) time. Every group's
/// result rows are at or after the earliest of those times (at or before the latest),
/// so the query can skip the files and row groups outside that range by their
/// statistics, and decode everything else only there: the latest row per series reads
/// the newest data instead of the whole table.
fn extreme_time_bound(request: &QueryRequest) -> Option<QueryRequest> {
    let bound = match request.extreme_aggregate()? {
        AggregateFunction::Last => AggregateFunction::Max,
        _ => AggregateFunction::Min,
    };
    let Shape::Groups { keys, .. } = &request.shape else {
        return None;
    };
    Some(QueryRequest {
        shape: Shape::Groups {
            keys: keys.clone(),
            aggregates: vec![Aggregate::new(bound, Some(Expr::TimeNs))],
        },
        having: Vec::new(),
        order: Vec::new(),
        limit: None,
        ..request.clone()
    })
}

/// `request` restricted to the times from the earliest of the groups' latest times
/// (`bounds`, the results of [`extreme_time_bound`]'s query), or up to the latest of
/// their earliest times.
fn narrow_to_extreme_times(request: &QueryRequest, bounds: Vec<RecordBatch>) -> QueryRequest {
    let latest = request.extreme_aggregate() == Some(AggregateFunction::Last);
    let times = bounds.iter().flat_map(|batch| {
        let column = batch.column(batch.num_columns() - 1);
        let column = column.as_primitive::<Int64Type>();
        column.iter().flatten().collect::<Vec<_>>()
    });
    let bound = if latest { times.min() } else { times.max() };
    let mut narrowed = request.clone();
    if let Some(bound) = bound {
        let op = if latest {
            CompareOp::GreaterOrEqual
        } else {
            CompareOp::LessOrEqual
        };
        narrowed.filters.push(Expr::compare(
            op,
            Expr::TimeNs,
            Expr::Value(Value::Integer(bound)),
        ));
    }
    narrowed
}

fn context(threads: usize) -> Result<SessionContext, QueryError> {
    let mut config = SessionConfig::new()
        .with_target_partitions(threads.max(1))
        .with_batch_size(8192);
    // Statistics are only used for planning joins; gathering them parses every file's
    // footer once more per query.
    config.options_mut().execution.collect_statistics = false;
    // Plans come in simple (a scan, filters, one aggregate): one pass of the rewrite rules
    // finds all there is, and each further pass costs about a tenth of a short query.
    config.options_mut().optimizer.max_passes = 1;
    let parquet = &mut config.options_mut().execution.parquet;
    // Decode the filter's columns first and the others only for matching rows.
    parquet.pushdown_filters = true;
    parquet.reorder_filters = true;
    // Files are written without bloom filters.
    parquet.bloom_filter_on_read = false;
    // Files and pages are pruned by the statistics of each value of an `IN` list (or of
    // `=` comparisons joined by OR, which DataFusion rewrites into one) up to this length;
    // DataFusion's 20 is fewer hosts than a dashboard may pick.
    parquet.max_in_list_size = MAX_PRUNING_LIST;
    // Listings differ from query to query; parsed footers stay valid (see FileSet).
    let caches = CacheManagerConfig::default()
        .with_list_files_cache_limit(0)
        .with_file_statistics_cache_limit(0)
        .with_metadata_cache_limit(METADATA_CACHE_BYTES);
    // Nothing spills but through a query's own files (`Limits::spill`): DataFusion's
    // default writes to the operating system's temporary directory.
    let runtime = RuntimeEnvBuilder::new()
        .with_cache_manager(caches)
        .with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Disabled),
        )
        .build_arc()?;
    let logical = Optimizer::new()
        .rules
        .into_iter()
        .filter(|rule| !UNNEEDED_LOGICAL_RULES.contains(&rule.name()))
        .collect();
    let physical = PhysicalOptimizer::new()
        .rules
        .into_iter()
        .filter(|rule| {
            !UNNEEDED_PHYSICAL_RULES.contains(&rule.name())
                && !WRONG_PHYSICAL_RULES.contains(&rule.name())
        })
        .collect();
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_optimizer_rules(logical)
        .with_physical_optimizer_rules(physical)
        .build();
    Ok(SessionContext::new_with_state(state))
}

/// Rewrites for plan nodes our plans never have (joins, unions, subqueries, windows):
/// each still walks the whole plan, and together they are a good part of planning a
/// short query.
const UNNEEDED_LOGICAL_RULES: &[&str] = &[
    "rewrite_set_comparison",
    "optimize_unions",
    "unions_to_filter",
    "replace_distinct_aggregate",
    "eliminate_join",
    "decorrelate_predicate_subquery",
    "scalar_subquery_to_join",
    "decorrelate_lateral_join",
    "extract_equijoin_predicate",
    "eliminate_cross_join",
    "propagate_empty_relation",
    "filter_null_join_keys",
    "eliminate_outer_join",
];
const UNNEEDED_PHYSICAL_RULES: &[&str] = &[
    "join_selection",
    "WindowTopN",
    "LimitPushPastWindows",
    "HashJoinBuffering",
];

/// Rules that give wrong answers for our plans. `aggregate_statistics` answers
/// `count(DISTINCT host)` from the statistics of a filter `host = 'b'`, which claim exactly
/// one distinct value whenever the input's row count is known, even where no row matches:
/// it answered 1 instead of 0 over in-memory rows (the files' statistics go uncollected).
const WRONG_PHYSICAL_RULES: &[&str] = &["aggregate_statistics"];

/// The engine's runtime with a memory pool and spill files of the query's own.
fn query_runtime(shared: &RuntimeEnv, limits: &Limits) -> Arc<RuntimeEnv> {
    let pool = TrackConsumersPool::new(
        GreedyMemoryPool::new(limits.memory_bytes),
        NonZeroUsize::new(5).expect("not zero"),
    );
    Arc::new(RuntimeEnv {
        memory_pool: Arc::new(pool),
        disk_manager: match &limits.spill {
            Some(files) => files.disk_manager(),
            None => shared.disk_manager.clone(),
        },
        cache_manager: shared.cache_manager.clone(),
        object_store_registry: shared.object_store_registry.clone(),
    })
}

fn arrow_schema(request: &QueryRequest) -> SchemaRef {
    Arc::new(table_arrow_schema(&TableSchema::new(
        request.columns.clone(),
    )))
}

/// What a request is planned with besides its files.
struct Plan<'a> {
    params: &'a [Value],
    facts: &'a ColumnFacts,
    /// The footers of its files, in the order of their names.
    footers: &'a [Arc<ParquetMetaData>],
}

/// `plan` reading only the row group at `index` of its one file, which has `count`.
fn only_row_group(
    plan: Arc<dyn ExecutionPlan>,
    index: usize,
    count: usize,
) -> Result<Arc<dyn ExecutionPlan>, QueryError> {
    let mut restricted = 0;
    let plan = replace_file_scans(plan, |_, config| {
        let mut access = ParquetAccessPlan::new_none(count);
        access.scan(index);
        let groups = config
            .file_groups
            .iter()
            .map(|group| {
                FileGroup::new(
                    group
                        .iter()
                        .map(|file| file.clone().with_extension(access.clone()))
                        .collect(),
                )
            })
            .collect();
        restricted += 1;
        let config = FileScanConfigBuilder::from(config.clone())
            .with_file_groups(groups)
            .build();
        Ok(Some(DataSourceExec::from_data_source(config)))
    })?;
    // Filters that no row meets leave DataFusion nothing to read: a plan of no rows,
    // whichever the row group. Any other plan must read the file exactly once.
    if restricted == 0 && reads_nothing(plan.as_ref()) {
        return Ok(plan);
    }
    if restricted != 1 {
        return Err(QueryError::Unsupported(format!(
            "a plan reading one row group scans its file {restricted} times"
        )));
    }
    Ok(plan)
}

/// Whether every leaf of `plan` is empty.
fn reads_nothing(plan: &dyn ExecutionPlan) -> bool {
    let children = plan.children();
    if children.is_empty() {
        return plan.downcast_ref::<EmptyExec>().is_some();
    }
    children
        .into_iter()
        .all(|child| reads_nothing(child.as_ref()))
}

/// Runs a physical plan.
fn execute(
    plan: Arc<dyn ExecutionPlan>,
    outputs: Vec<Output>,
    task: Arc<TaskContext>,
    files: Option<RegisteredFiles>,
) -> Result<RunningQuery, QueryError> {
    let stream = execute_stream(plan.clone(), task)?;
    Ok(RunningQuery {
        plan,
        stream,
        outputs,
        from_footers: false,
        files,
    })
}

/// The DataFusion plan of a request, and where each Postgres result value is in its rows.
fn build(
    frame: DataFrame,
    request: &QueryRequest,
    plan: &Plan<'_>,
) -> Result<(DataFrame, Vec<Output>), QueryError> {
    let filters = translate_filters(request, plan, frame.schema(), None)?;
    build_filtered(frame, request, plan, filters)
}

/// The request's filters in DataFusion's terms; with `time_bounds`, each time bound a
/// placeholder whose value is collected there (see `plan_cache`).
fn translate_filters(
    request: &QueryRequest,
    plan: &Plan<'_>,
    schema: &DFSchema,
    time_bounds: Option<&RefCell<Vec<ScalarValue>>>,
) -> Result<Vec<DfExpr>, QueryError> {
    let mut translator = Translator {
        params: plan.params,
        schema,
        results: &[],
        facts: plan.facts,
        time_bounds,
        guard: None,
    };
    // Arithmetic that may raise is computed only for the rows every other filter keeps,
    // and those of it before it in the order Postgres checks them (the request's): a row
    // the engine skips by the statistics of a filter is one it need not compute. Postgres
    // leaves the order of its conditions undefined and checks them as a plan has them.
    let mut filters: Vec<Option<DfExpr>> = request
        .filters
        .iter()
        .map(|filter| match filter.may_raise() {
            true => Ok(None),
            false => translator.expr(filter).map(Some),
        })
        .collect::<Result<_, QueryError>>()?;
    let mut guard = filters.iter().flatten().cloned().reduce(DfExpr::and);
    for (filter, translated) in request.filters.iter().zip(filters.iter_mut()) {
        if translated.is_none() {
            translator.guard = guard.clone();
            let expr = translator.expr(filter)?;
            guard = Some(match guard {
                Some(guard) => guard.and(expr.clone()),
                None => expr.clone(),
            });
            *translated = Some(expr);
        }
    }
    Ok(filters.into_iter().flatten().collect())
}

/// [`build`] with the request's filters already translated.
fn build_filtered(
    frame: DataFrame,
    request: &QueryRequest,
    plan: &Plan<'_>,
    filters: Vec<DfExpr>,
) -> Result<(DataFrame, Vec<Output>), QueryError> {
    let (mut frame, outputs) = build_shape(frame, request, plan, filters)?;
    let results: Vec<Option<String>> = outputs
        .iter()
        .map(|output| match output {
            Output::Column(c) => Some(frame.schema().field(*c).name().clone()),
            Output::Average { .. } | Output::Variance { .. } => None,
        })
        .collect();
    for condition in &request.having {
        let schema = frame.schema().clone();
        let translator = Translator {
            params: plan.params,
            schema: &schema,
            results: &results,
            facts: plan.facts,
            time_bounds: None,
            guard: None,
        };
        frame = frame.filter(translator.expr(condition)?)?;
    }
    let frame = order(frame, &request.order, &results)?;
    Ok(match request.limit {
        Some(limit) => (frame.limit(limit.offset, limit.count)?, outputs),
        None => (frame, outputs),
    })
}

/// `frame` sorted by `keys`, each in Postgres' order of its type: floats by
/// `pg_float_order`, every other result type as Arrow orders it.
fn order(
    frame: DataFrame,
    keys: &[SortKey],
    results: &[Option<String>],
) -> Result<DataFrame, QueryError> {
    if keys.is_empty() {
        return Ok(frame);
    }
    let mut sort = Vec::new();
    for (index, key) in keys.iter().enumerate() {
        let Some(Some(name)) = results.get(key.output) else {
            return Err(QueryError::Unsupported(format!(
                "ordering by result {}, which the engine does not compute",
                key.output
            )));
        };
        let mut expr = column(name);
        match expr.get_type(frame.schema())? {
            DataType::Float64 => expr = pg_float_order(expr),
            // Stored times in one microsecond are one `timestamptz`: the keys after it
            // decide between them, as in Postgres.
            DataType::Timestamp(TimeUnit::Nanosecond, _)
                if key.microseconds && index + 1 < keys.len() =>
            {
                expr = date_trunc(lit("microsecond"), expr);
            }
            _ => {}
        }
        sort.push(expr.sort(!key.descending, key.nulls_first));
    }
    Ok(frame.sort(sort)?)
}

fn build_shape(
    frame: DataFrame,
    request: &QueryRequest,
    plan: &Plan<'_>,
    filters: Vec<DfExpr>,
) -> Result<(DataFrame, Vec<Output>), QueryError> {
    let schema = frame.schema().clone();
    let mut frame = frame;
    for filter in filters {
        frame = frame.filter(filter)?;
    }
    // Values outside the filters are written out: a kept plan is keyed by them.
    let translator = Translator {
        params: plan.params,
        schema: &schema,
        results: &[],
        facts: plan.facts,
        time_bounds: None,
        guard: None,
    };
    match &request.shape {
        Shape::Rows { columns } => {
            let names: Vec<&str> = std::iter::once(TIME_COLUMN)
                .chain(columns.iter().map(String::as_str))
                .collect();
            let outputs = (0..names.len()).map(Output::Column).collect();
            Ok((frame.select_columns(&names)?, outputs))
        }
        Shape::Groups { keys, aggregates } => {
            let mut group = Vec::new();
            for (i, key) in keys.iter().enumerate() {
                group.push(grouping(translator.expr(key)?, &schema)?.alias(format!("key{i}")));
            }
            let mut outputs: Vec<Output> = (0..keys.len()).map(Output::Column).collect();
            let mut computed: Vec<(String, DfExpr)> = Vec::new();
            let mut finished: Vec<DfExpr> = (0..keys.len())
                .map(|i| column(&format!("key{i}")))
                .collect();
            // What each computed column is, aggregate and finish (applied to a column
            // without name): an aggregate asked for twice (the count of rows that `avg`s
            // of never-NULL columns share, a sum that an `avg` needs too) is computed once.
            let mut made: Vec<(DfExpr, Option<DfExpr>)> = Vec::new();
            let mut finishing = false;
            let tie_breaker = translator.tie_breaker(aggregates)?;
            for aggregate in aggregates {
                let mut columns = Vec::new();
                for part in translator.aggregate(aggregate, tie_breaker.as_ref())? {
                    let what = (part.aggregate.clone(), part.finish.map(|f| f(column(""))));
                    if let Some(earlier) = made.iter().position(|m| *m == what) {
                        columns.push(keys.len() + earlier);
                        continue;
                    }
                    made.push(what);
                    columns.push(keys.len() + computed.len());
                    let name = format!("value{}", computed.len());
                    finished.push(match part.finish {
                        Some(finish) => {
                            finishing = true;
                            finish(column(&name)).alias(&name)
                        }
                        None => column(&name),
                    });
                    computed.push((name, part.aggregate));
                }
                outputs.push(match (aggregate.function, &columns[..]) {
                    (AggregateFunction::Avg, &[sum, count]) => Output::Average { sum, count },
                    (AggregateFunction::Variance { sample, stddev }, &[count, sum, squares]) => {
                        Output::Variance {
                            count,
                            sum,
                            squares,
                            sample,
                            stddev,
                        }
                    }
                    _ => Output::Column(columns[0]),
                });
            }
            let frame = if request.counts_distinct_per_group() {
                aggregate_in_two_steps(&frame, &group, &computed, |e| grouping(e, &schema))?
            } else {
                frame.aggregate(
                    group,
                    computed
                        .into_iter()
                        .map(|(name, e)| e.alias(name))
                        .collect(),
                )?
            };
            let frame = if finishing {
                frame.select(finished)?
            } else {
                frame
            };
            Ok((frame, outputs))
        }
    }
}

/// A group key as DataFusion groups fastest: tags as string views, which it compares
/// column by column, rather than dictionaries, which it groups through its row format
/// (a cast that copies no strings).
fn grouping(key: DfExpr, schema: &DFSchema) -> Result<DfExpr, QueryError> {
    Ok(match key.get_type(schema)? {
        DataType::Dictionary(_, values) if *values == DataType::Utf8 => {
            cast(key, DataType::Utf8View)
        }
        _ => key,
    })
}

/// The next batch of `stream`, asking `stop` first and every few tens of milliseconds
/// while DataFusion works (and its files before each read).
async fn next_or_stop(
    stream: &mut SendableRecordBatchStream,
    stop: StopCheck,
) -> Result<Option<RecordBatch>, QueryError> {
    if stop() {
        return Err(QueryError::Cancelled);
    }
    let mut ticks = tokio::time::interval(STOP_CHECK);
    loop {
        tokio::select! {
            biased;
            _ = ticks.tick() => if stop() { return Err(QueryError::Cancelled) },
            batch = stream.next() => {
                return batch.transpose().map_err(|e| stopped_or(e.into(), stop))
            }
        }
    }
}

/// `error`, unless the query was asked to stop: then the error is how a read refused
/// ended it.
fn stopped_or(error: QueryError, stop: StopCheck) -> QueryError {
    if stop() {
        QueryError::Cancelled
    } else {
        error
    }
}

/// A started query.
pub struct RunningQuery {
    plan: Arc<dyn ExecutionPlan>,
    stream: SendableRecordBatchStream,
    pub outputs: Vec<Output>,
    /// Whether it runs over the files' extreme rows, kept in their footers, alone.
    pub from_footers: bool,
    /// The files it reads; none when it runs over rows already read.
    files: Option<RegisteredFiles>,
}

impl RunningQuery {
    /// The next batch of results, reading the ranges of files it needs;
    /// [`QueryError::Cancelled`] once the engine's stop check says so.
    pub fn next_batch(&mut self, engine: &Engine) -> Result<Option<RecordBatch>, QueryError> {
        let next = next_or_stop(&mut self.stream, engine.stop);
        match &mut self.files {
            Some(files) => engine.drive(&files.store, &mut files.read, next),
            None => engine.runtime.block_on(next),
        }
    }

    /// The physical plan with what it measured so far.
    pub fn executed_plan(&self) -> String {
        DisplayableExecutionPlan::with_metrics(self.plan.as_ref())
            .indent(true)
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::expr::{ArithmeticOp, Fraction, NumberType, TruncUnit};
    use crate::query::request::Limit;
    use crate::query::small_files;
    use crate::query::sort_memory::percentile_values_fit;
    use crate::test_files::stored_table;
    use arrow::datatypes::{Float64Type, TimestampNanosecondType};
    use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::datasource::physical_plan::FileScanConfig;
    use object_store::path::Path;

    #[test]
    fn every_rule_left_out_is_one_of_datafusions() {
        let logical = Optimizer::new();
        let logical: Vec<&str> = logical.rules.iter().map(|r| r.name()).collect();
        let physical = PhysicalOptimizer::new();
        let physical: Vec<&str> = physical.rules.iter().map(|r| r.name()).collect();
        for name in UNNEEDED_LOGICAL_RULES {
            assert!(logical.contains(name), "no logical rule {name}");
        }
        for name in UNNEEDED_PHYSICAL_RULES.iter().chain(WRONG_PHYSICAL_RULES) {
            assert!(physical.contains(name), "no physical rule {name}");
        }
    }

    /// The maximum of `v` per host over the points from time `from` on, of one host or of
    /// all: each host with its maximum, in host order.
    fn maxima(
        engine: &Engine,
        schema: &TableSchema,
        file: &StoredFile,
        from: Expr,
        params: &[Value],
        host: Option<&str>,
    ) -> Vec<(String, f64)> {
        let mut filters = vec![Expr::compare(CompareOp::GreaterOrEqual, Expr::TimeNs, from)];
        if let Some(host) = host {
            filters.push(Expr::compare(
                CompareOp::Equal,
                Expr::Column("host".into()),
                Expr::Value(Value::Text(host.into())),
            ));
        }
        let request = QueryRequest {
            columns: schema.columns().to_vec(),
            filters,
            shape: Shape::Groups {
                keys: vec![Expr::Column("host".into())],
                aggregates: vec![Aggregate::new(
                    AggregateFunction::Max,
                    Some(Expr::Column("v".into())),
                )],
            },
            having: Vec::new(),
            order: vec![SortKey {
                output: 0,
                descending: false,
                nulls_first: false,
                microseconds: false,
            }],
            limit: None,
        };
        let limits = Limits {
            memory_bytes: 16 << 20,
            decoded_file_bytes: 64 << 20,
            spill: None,
        };
        let mut query = engine
            .start(&request, params, vec![file.clone()], &limits)
            .unwrap();
        let mut rows = Vec::new();
        while let Some(batch) = query.next_batch(engine).unwrap() {
            let hosts = arrow::compute::cast(batch.column(0), &DataType::Utf8).unwrap();
            let values = batch.column(1).as_primitive::<Float64Type>();
            for (host, value) in hosts.as_string::<i32>().iter().zip(values.iter()) {
                rows.push((host.unwrap().to_owned(), value.unwrap()));
            }
        }
        rows
    }

    #[test]
    fn a_plan_is_kept_for_queries_that_differ_only_in_their_time_bounds() {
        let (schema, bytes) =
            stored_table("m,host=a v=1 1\nm,host=a v=2 2\nm,host=b v=3 3\nm,host=b v=4 4\n");
        let file = StoredFile {
            name: "1-1.parquet".to_owned(),
            bytes,
        };
        let engine = Engine::new(1, || false, || {}).unwrap();
        let at = |ns| Expr::Value(Value::Integer(ns));
        let row = |host: &str, v| (host.to_owned(), v);
        assert_eq!(
            maxima(&engine, &schema, &file, at(1), &[], None),
            [row("a", 2.0), row("b", 4.0)]
        );
        // From the kept plan: each query's own bounds, whether constants or parameters.
        assert_eq!(
            maxima(&engine, &schema, &file, at(3), &[], None),
            [row("b", 4.0)]
        );
        assert_eq!(
            maxima(
                &engine,
                &schema,
                &file,
                Expr::Param(0),
                &[Value::Integer(2)],
                None
            ),
            [row("a", 2.0), row("b", 4.0)]
        );
        assert_eq!(maxima(&engine, &schema, &file, at(5), &[], None), []);
        assert_eq!(engine.plans.borrow().len(), 1);
        // Any other value is part of the plan: a plan of its own.
        assert_eq!(
            maxima(&engine, &schema, &file, at(1), &[], Some("a")),
            [row("a", 2.0)]
        );
        assert_eq!(
            maxima(&engine, &schema, &file, at(1), &[], Some("b")),
            [row("b", 4.0)]
        );
        assert_eq!(engine.plans.borrow().len(), 3);
    }

    #[test]
    fn the_row_groups_of_a_file_read_one_by_one_give_the_rows_of_the_whole_file() {
        let lines: String = (0..300_000)
            .map(|t| format!("m,host=h{} v={}i {t}\n", t % 7, t % 1000))
            .collect();
        let (schema, bytes) = stored_table(&lines);
        let file = StoredFile {
            name: "1-1.parquet".to_owned(),
            bytes,
        };
        let request = QueryRequest {
            columns: schema.columns().to_vec(),
            filters: vec![Expr::compare(
                CompareOp::Greater,
                Expr::Column("v".into()),
                Expr::Value(Value::Integer(990)),
            )],
            shape: Shape::Rows {
                columns: vec!["host".into(), "v".into()],
            },
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
        };
        let limits = Limits {
            memory_bytes: 16 << 20,
            decoded_file_bytes: 64 << 20,
            spill: None,
        };
        let engine = Engine::new(1, || false, || {}).unwrap();
        let times = |mut query: RunningQuery| {
            let mut times = Vec::new();
            while let Some(batch) = query.next_batch(&engine).unwrap() {
                let column = batch.column(0).as_primitive::<TimestampNanosecondType>();
                times.extend(column.values().iter().copied());
            }
            times.sort();
            times
        };
        let whole = times(
            engine
                .start(&request, &[], vec![file.clone()], &limits)
                .unwrap(),
        );
        assert_eq!(whole.len(), 300 * 9);
        let mut by_row_group = Vec::new();
        for row_group in 0..3 {
            let part = engine
                .start_row_group(&request, &[], file.clone(), row_group, &limits)
                .unwrap();
            let part = times(part);
            assert!(
                part.len() < whole.len() / 2,
                "row group {row_group}: {} rows",
                part.len()
            );
            by_row_group.extend(part);
        }
        by_row_group.sort();
        assert_eq!(by_row_group, whole);

        // A filter no row meets: no rows from any row group.
        let none = QueryRequest {
            filters: vec![Expr::InList {
                expr: Box::new(Expr::Column("host".into())),
                list: Vec::new(),
                negated: false,
            }],
            ..request.clone()
        };
        for row_group in 0..3 {
            let part = engine.start_row_group(&none, &[], file.clone(), row_group, &limits);
            assert_eq!(times(part.unwrap()), Vec::<i64>::new());
        }

        // Groups and ordered rows are a query's whole answer, not a row group's share.
        let grouped = QueryRequest {
            shape: Shape::Groups {
                keys: vec![Expr::Column("host".into())],
                aggregates: Vec::new(),
            },
            ..request
        };
        let started = engine.start_row_group(&grouped, &[], file, 0, &limits);
        assert!(matches!(started, Err(QueryError::Unsupported(_))));
    }

    /// The rows of `plan`, each as text, sorted.
    fn rows_of(engine: &Engine, plan: Arc<dyn ExecutionPlan>) -> Vec<String> {
        let mut rows = rows_in_order(engine, plan);
        rows.sort();
        rows
    }

    /// The rows of `plan`, each as text, in the order it gives them.
    fn rows_in_order(engine: &Engine, plan: Arc<dyn ExecutionPlan>) -> Vec<String> {
        let task = Arc::new(TaskContext::from(&engine.planning));
        let batches = engine
            .runtime
            .block_on(datafusion::physical_plan::collect(plan, task))
            .unwrap();
        batches.iter().flat_map(rows_as_text).collect()
    }

    /// The rows of `batch`, each its values as text joined by `|`.
    fn rows_as_text(batch: &RecordBatch) -> Vec<String> {
        (0..batch.num_rows())
            .map(|row| {
                let values: Vec<String> = batch
                    .columns()
                    .iter()
                    .map(|c| arrow::util::display::array_value_to_string(c, row).unwrap())
                    .collect();
                values.join("|")
            })
            .collect()
    }

    /// The plans of `request` over `files`: the one `direct_plan` makes, if it makes one,
    /// and DataFusion's; both read the files while `files` lives.
    struct Plans {
        direct: Option<Arc<dyn ExecutionPlan>>,
        datafusion: Arc<dyn ExecutionPlan>,
        files: RegisteredFiles,
        footers: Vec<Arc<ParquetMetaData>>,
    }

    impl Plans {
        /// `plan` reading the small files from memory, as queries do.
        fn with_small_files_in_memory(
            &self,
            engine: &Engine,
            plan: &Arc<dyn ExecutionPlan>,
        ) -> Arc<dyn ExecutionPlan> {
            self.with_small_files_in_memory_up_to(engine, plan, 64 << 20)
        }

        /// `plan` reading at most `capacity` bytes of small files from memory.
        fn with_small_files_in_memory_up_to(
            &self,
            engine: &Engine,
            plan: &Arc<dyn ExecutionPlan>,
            capacity: usize,
        ) -> Arc<dyn ExecutionPlan> {
            engine.decoded.borrow_mut().keep_at_most(capacity);
            read_small_files_from_memory(
                plan.clone(),
                &self.files.store,
                &self.footers,
                &mut engine.decoded.borrow_mut(),
            )
            .unwrap()
        }
    }

    fn both_plans(engine: &Engine, request: &QueryRequest, files: Vec<StoredFile>) -> Plans {
        let schema = arrow_schema(request);
        let files = engine.register(files.into()).unwrap();
        engine.runtime.block_on(async {
            let footers = engine.read_footers(&files.store).await.unwrap();
            let facts = ColumnFacts::of(&schema, &footers, request);
            let plan = Plan {
                params: &[],
                facts: &facts,
                footers: &footers,
            };
            let (logical, _) = engine
                .logical_over_files(schema, request, &plan, &files)
                .unwrap();
            let direct =
                direct_plan::plan(&logical, &engine.scan_files(&files), &engine.planning).unwrap();
            let datafusion = engine
                .planning
                .query_planner()
                .create_physical_plan(&logical, &engine.planning)
                .await
                .unwrap();
            Plans {
                direct,
                datafusion,
                files,
                footers,
            }
        })
    }

    /// How many Parquet files `plan` reads and how many batches of rows it has in memory.
    fn files_and_batches(plan: &Arc<dyn ExecutionPlan>) -> (usize, usize) {
        let mut counts = (0, 0);
        plan.apply(|node| {
            if let Some(source) = node.downcast_ref::<DataSourceExec>() {
                let source = source.data_source();
                if let Some(config) = source.downcast_ref::<FileScanConfig>() {
                    counts.0 += config.file_groups.iter().map(|g| g.len()).sum::<usize>();
                }
                if let Some(memory) = source.downcast_ref::<MemorySourceConfig>() {
                    counts.1 += memory.partitions().iter().map(|p| p.len()).sum::<usize>();
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })
        .unwrap();
        counts
    }

    #[test]
    fn a_directly_made_plan_returns_what_datafusions_plan_returns() {
        // The older file has neither the tag `dc` nor the fields `s` and `ok`.
        let (_, older) = stored_table(
            "m,host=a v=1,n=1i 60000000000\nm,host=b v=2,n=-2i 61000000000\n\
             m,host=b v=7,n=5i 125000000000\n",
        );
        let (schema, newer) = stored_table(
            "m,host=a,dc=x v=3,n=3i,s=\"p\",ok=true 62000000000\n\
             m,host=c,dc=y v=0.5,n=9i,s=\"q\" 126000000000\n\
             m,host=a n=4i,ok=false 190000000000\n",
        );
        let files = vec![
            StoredFile {
                name: "1-1.parquet".to_owned(),
                bytes: older,
            },
            StoredFile {
                name: "1-2.parquet".to_owned(),
                bytes: newer,
            },
        ];
        let column = |name: &str| Expr::Column(name.into());
        let text = |t: &str| Expr::Value(Value::Text(t.into()));
        let of = |function, argument| Aggregate::new(function, argument);
        let rows = |columns: &[&str], filters| rows_request(&schema, columns, filters);
        let minute = Expr::DateTrunc(TruncUnit::Minute, Box::new(Expr::Time));
        let groups = |keys, aggregates, filters| QueryRequest {
            columns: schema.columns().to_vec(),
            filters,
            shape: Shape::Groups { keys, aggregates },
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
        };
        let mut ordered_and_having = groups(
            vec![column("host")],
            vec![
                of(AggregateFunction::CountRows, None),
                of(AggregateFunction::Avg, Some(column("v"))),
            ],
            Vec::new(),
        );
        ordered_and_having.having = vec![Expr::compare(
            CompareOp::Greater,
            Expr::Output(1),
            Expr::Value(Value::Integer(1)),
        )];
        ordered_and_having.order = vec![SortKey {
            output: 0,
            descending: true,
            nulls_first: true,
            microseconds: false,
        }];
        let requests = [
            rows(&["host", "dc", "v", "n", "s", "ok"], Vec::new()),
            rows(
                &["v", "s"],
                vec![
                    Expr::compare(
                        CompareOp::Greater,
                        column("v"),
                        Expr::Value(Value::Float(0.7)),
                    ),
                    Expr::InList {
                        expr: Box::new(column("host")),
                        list: vec![text("a"), text("c")],
                        negated: false,
                    },
                ],
            ),
            rows(
                &["host"],
                vec![Expr::Or(vec![
                    Expr::IsNull {
                        expr: Box::new(column("dc")),
                        negated: false,
                    },
                    Expr::Like {
                        expr: Box::new(column("s")),
                        pattern: Box::new(text("q%")),
                        negated: false,
                    },
                ])],
            ),
            rows(
                &["host", "s"],
                vec![
                    Expr::RegexMatch {
                        expr: Box::new(column("host")),
                        regex: crate::query::to_rust_regex("^[ab]$").unwrap(),
                        negated: false,
                    },
                    Expr::RegexMatch {
                        expr: Box::new(column("s")),
                        regex: crate::query::to_rust_regex("q").unwrap(),
                        negated: true,
                    },
                ],
            ),
            groups(
                vec![column("host"), minute.clone()],
                vec![
                    of(AggregateFunction::CountRows, None),
                    of(AggregateFunction::Count, Some(column("ok"))),
                    of(AggregateFunction::Sum, Some(column("n"))),
                    of(AggregateFunction::Avg, Some(column("v"))),
                    of(AggregateFunction::Min, Some(column("s"))),
                    of(AggregateFunction::Max, Some(column("v"))),
                    of(AggregateFunction::First, Some(column("n"))),
                    of(AggregateFunction::Last, Some(column("v"))),
                    of(
                        AggregateFunction::Variance {
                            sample: true,
                            stddev: true,
                        },
                        Some(column("v")),
                    ),
                    of(
                        AggregateFunction::Variance {
                            sample: false,
                            stddev: false,
                        },
                        Some(column("n")),
                    ),
                    of(AggregateFunction::BoolAnd, Some(column("ok"))),
                    of(AggregateFunction::BoolOr, Some(column("ok"))),
                ],
                vec![Expr::compare(
                    CompareOp::Less,
                    Expr::TimeNs,
                    Expr::Value(Value::Integer(190_000_000_000)),
                )],
            ),
            groups(
                vec![minute],
                vec![of(AggregateFunction::CountDistinct, Some(column("host")))],
                vec![Expr::Not(Box::new(Expr::compare(
                    CompareOp::Equal,
                    column("host"),
                    text("b"),
                )))],
            ),
            ordered_and_having,
        ];
        let engine = Engine::new(1, || false, || {}).unwrap();
        for request in &requests {
            let plans = both_plans(&engine, request, files.clone());
            let direct = plans
                .direct
                .clone()
                .unwrap_or_else(|| panic!("a direct plan of {request:?}"));
            let expected = rows_of(&engine, plans.datafusion.clone());
            assert!(!expected.is_empty(), "{request:?} finds rows");
            assert_eq!(rows_of(&engine, direct.clone()), expected, "{request:?}");
            // Both files are small: read from memory, the older with nulls for the
            // columns written after it, under the same filters.
            for plan in [&direct, &plans.datafusion] {
                let from_memory = plans.with_small_files_in_memory(&engine, plan);
                assert_eq!(files_and_batches(&from_memory), (0, 2), "{request:?}");
                assert_eq!(rows_of(&engine, from_memory), expected, "{request:?}");
            }
        }
        // A limit is left to DataFusion, whose top-N sort prunes the scan.
        let mut limited = requests[0].clone();
        limited.order = vec![SortKey {
            output: 0,
            descending: true,
            nulls_first: true,
            microseconds: false,
        }];
        limited.limit = Some(Limit {
            offset: 0,
            count: Some(1),
        });
        assert!(both_plans(&engine, &limited, files).direct.is_none());
    }

    #[test]
    fn a_filtered_aggregate_takes_only_the_rows_meeting_its_condition() {
        let (schema, bytes) = stored_table(
            "m,host=a v=1,n=10i,ok=true 1\nm,host=a v=2,n=20i,ok=false 2\n\
             m,host=a v=4,n=40i 3\nm,host=b v=8,n=80i,ok=false 4\n",
        );
        let files = vec![StoredFile {
            name: "1-1.parquet".to_owned(),
            bytes,
        }];
        let column = |name: &str| Expr::Column(name.into());
        let filtered = |function, argument, filter| Aggregate {
            filter: Some(filter),
            ..Aggregate::new(function, argument)
        };
        let above_one = Expr::compare(
            CompareOp::Greater,
            column("v"),
            Expr::Value(Value::Float(1.0)),
        );
        let request = groups_request(
            &schema,
            vec![column("host")],
            vec![
                // `ok` is NULL in the third row: a NULL condition takes no row.
                filtered(AggregateFunction::CountRows, None, column("ok")),
                filtered(AggregateFunction::Sum, Some(column("n")), above_one.clone()),
                filtered(AggregateFunction::Avg, Some(column("v")), above_one.clone()),
                filtered(
                    AggregateFunction::Max,
                    Some(column("n")),
                    Expr::Not(Box::new(above_one)),
                ),
                Aggregate::new(AggregateFunction::CountRows, None),
            ],
        );
        let engine = Engine::new(1, || false, || {}).unwrap();
        let plans = both_plans(&engine, &request, files.clone());
        let expected = ["a|1|60|3.0|10|3", "b|0|80|8.0||1"];
        assert_eq!(rows_of(&engine, plans.datafusion.clone()), expected);
        let direct = plans.direct.clone().expect("a direct plan");
        assert_eq!(rows_of(&engine, direct.clone()), expected);
        let from_memory = plans.with_small_files_in_memory(&engine, &direct);
        assert_eq!(rows_of(&engine, from_memory), expected);
        // A distinct count and `last` keep their own DISTINCT and order, and filtered
        // `last`s are not narrowed to the groups' latest times: through every plan, and
        // through a started query, which narrows unfiltered ones.
        let text_rows = |batches: Vec<RecordBatch>| -> Vec<String> {
            let mut rows: Vec<String> = batches.iter().flat_map(rows_as_text).collect();
            rows.sort();
            rows
        };
        let below_three =
            Expr::compare(CompareOp::Less, column("v"), Expr::Value(Value::Float(3.0)));
        let above_one_and_a_half = Expr::compare(
            CompareOp::Greater,
            column("v"),
            Expr::Value(Value::Float(1.5)),
        );
        let distinct_hosts = QueryRequest {
            shape: Shape::Groups {
                keys: Vec::new(),
                aggregates: vec![filtered(
                    AggregateFunction::CountDistinct,
                    Some(column("host")),
                    above_one_and_a_half.clone(),
                )],
            },
            ..request.clone()
        };
        let extremes = QueryRequest {
            shape: Shape::Groups {
                keys: vec![column("host")],
                aggregates: vec![
                    filtered(AggregateFunction::Last, Some(column("n")), below_three),
                    filtered(
                        AggregateFunction::Last,
                        Some(column("v")),
                        above_one_and_a_half,
                    ),
                ],
            },
            ..request.clone()
        };
        let limits = Limits {
            memory_bytes: 16 << 20,
            decoded_file_bytes: 64 << 20,
            spill: None,
        };
        for (request, expected) in [
            (distinct_hosts, vec!["2"]),
            (extremes, vec!["a|20|4.0", "b||8.0"]),
        ] {
            let plans = both_plans(&engine, &request, files.clone());
            assert_eq!(rows_of(&engine, plans.datafusion.clone()), expected);
            if let Some(direct) = plans.direct.clone() {
                assert_eq!(rows_of(&engine, direct), expected);
            }
            let mut query = engine.start(&request, &[], files.clone(), &limits).unwrap();
            let mut batches = Vec::new();
            while let Some(batch) = query.next_batch(&engine).unwrap() {
                batches.push(batch);
            }
            assert_eq!(text_rows(batches), expected, "{request:?}");
        }
    }

    #[test]
    fn arithmetic_in_aggregates_and_filters_gives_postgres_values_and_its_errors_for_the_rows_it_reads(
    ) {
        let (schema, bytes) = stored_table(
            "m,host=a v=1.5,n=10i 1\nm,host=a v=-2,n=-7i 2\n\
             m,host=b v=0,n=3i 3\nm,host=b n=9223372036854775807i 4\n",
        );
        let files = vec![StoredFile {
            name: "1-1.parquet".to_owned(),
            bytes,
        }];
        let column = |name: &str| Expr::Column(name.into());
        let integer = |i| Expr::Value(Value::Integer(i));
        let arithmetic = |op, number, left, right| Expr::Arithmetic {
            op,
            number,
            left: Box::new(left),
            right: Box::new(right),
        };
        let grouped = |filters, aggregates| QueryRequest {
            columns: schema.columns().to_vec(),
            filters,
            shape: Shape::Groups {
                keys: vec![column("host")],
                aggregates,
            },
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
        };
        let engine = Engine::new(1, || false, || {}).unwrap();
        let limits = Limits {
            memory_bytes: 16 << 20,
            decoded_file_bytes: 0,
            spill: None,
        };
        // The plan DataFusion makes and the one made directly give the same rows.
        let in_both_plans = |request: &QueryRequest, expected: &[&str]| {
            let plans = both_plans(&engine, request, files.clone());
            assert_eq!(rows_of(&engine, plans.datafusion), expected);
            if let Some(direct) = plans.direct {
                assert_eq!(rows_of(&engine, direct), expected);
            }
        };
        let run = |request: &QueryRequest| {
            let mut query = engine.start(request, &[], files.clone(), &limits)?;
            let mut rows = Vec::new();
            while let Some(batch) = query.next_batch(&engine)? {
                rows.extend(rows_as_text(&batch));
            }
            rows.sort();
            Ok::<_, QueryError>(rows)
        };

        let values = grouped(
            Vec::new(),
            vec![
                // Integer division truncates toward zero; the sum of bigints is exact.
                Aggregate::new(
                    AggregateFunction::Sum,
                    Some(arithmetic(
                        ArithmeticOp::Divide,
                        NumberType::Integer,
                        column("n"),
                        integer(2),
                    )),
                ),
                Aggregate::new(
                    AggregateFunction::Max,
                    Some(arithmetic(
                        ArithmeticOp::Multiply,
                        NumberType::Float,
                        column("v"),
                        Expr::Value(Value::Float(2.0)),
                    )),
                ),
                Aggregate::new(
                    AggregateFunction::Min,
                    Some(Expr::Negate {
                        number: NumberType::Integer,
                        expr: Box::new(column("n")),
                    }),
                ),
                // A NULL operand gives NULL, which the average leaves out.
                Aggregate::new(
                    AggregateFunction::Avg,
                    Some(arithmetic(
                        ArithmeticOp::Add,
                        NumberType::Float,
                        Expr::ToFloat(Box::new(column("n"))),
                        column("v"),
                    )),
                ),
            ],
        );
        let expected = [
            "a|2|3.0|-10|1.25",
            "b|4611686018427387904|0.0|-9223372036854775807|3.0",
        ];
        assert_eq!(run(&values).unwrap(), expected);
        in_both_plans(&values, &expected);

        // Errors come from the rows the query's filters keep, as Postgres reads them.
        let host_a = vec![Expr::compare(
            CompareOp::Equal,
            column("host"),
            Expr::Value(Value::Text("a".into())),
        )];
        let plus_one = vec![Aggregate::new(
            AggregateFunction::Sum,
            Some(arithmetic(
                ArithmeticOp::Add,
                NumberType::Integer,
                column("n"),
                integer(1),
            )),
        )];
        assert_eq!(
            run(&grouped(host_a.clone(), plus_one.clone())).unwrap(),
            ["a|5"]
        );
        assert_eq!(
            run(&grouped(Vec::new(), plus_one)),
            Err(QueryError::BigintOutOfRange)
        );
        let over_n_less_three = vec![Aggregate::new(
            AggregateFunction::Max,
            Some(arithmetic(
                ArithmeticOp::Divide,
                NumberType::Integer,
                column("n"),
                arithmetic(
                    ArithmeticOp::Subtract,
                    NumberType::Integer,
                    column("n"),
                    integer(3),
                ),
            )),
        )];
        assert_eq!(
            run(&grouped(host_a.clone(), over_n_less_three.clone())).unwrap(),
            ["a|1"]
        );
        assert_eq!(
            run(&grouped(Vec::new(), over_n_less_three)),
            Err(QueryError::DivisionByZero)
        );

        // A filter's arithmetic is computed for the rows the other filters keep, whatever
        // their order: with `host = 'a'`, host b's overflowing `n + 1` is never computed;
        // with a filter that keeps that row, it raises.
        let n_plus_one_positive = Expr::compare(
            CompareOp::Greater,
            arithmetic(
                ArithmeticOp::Add,
                NumberType::Integer,
                column("n"),
                integer(1),
            ),
            integer(0),
        );
        let count = vec![Aggregate::new(AggregateFunction::CountRows, None)];
        let after = grouped(
            vec![host_a[0].clone(), n_plus_one_positive.clone()],
            count.clone(),
        );
        assert_eq!(run(&after).unwrap(), ["a|1"]);
        in_both_plans(&after, &["a|1"]);
        assert_eq!(
            run(&grouped(
                vec![n_plus_one_positive.clone(), host_a[0].clone()],
                count.clone()
            ))
            .unwrap(),
            ["a|1"]
        );
        // Two such filters go in the order Postgres checks them, each computed for the
        // rows the one before it keeps: after `n * 2 > -10`, false for n = -7, the
        // division by `n + 7` is not computed for that row; before it, it raises.
        let n_twice_over_minus_ten = Expr::compare(
            CompareOp::Greater,
            arithmetic(
                ArithmeticOp::Multiply,
                NumberType::Integer,
                column("n"),
                integer(2),
            ),
            integer(-10),
        );
        let ten_over_n_plus_seven_not_negative = Expr::compare(
            CompareOp::GreaterOrEqual,
            arithmetic(
                ArithmeticOp::Divide,
                NumberType::Integer,
                integer(10),
                arithmetic(
                    ArithmeticOp::Add,
                    NumberType::Integer,
                    column("n"),
                    integer(7),
                ),
            ),
            integer(0),
        );
        let in_order = |first: &Expr, second: &Expr| {
            grouped(
                vec![host_a[0].clone(), first.clone(), second.clone()],
                count.clone(),
            )
        };
        assert_eq!(
            run(&in_order(
                &n_twice_over_minus_ten,
                &ten_over_n_plus_seven_not_negative
            ))
            .unwrap(),
            ["a|1"]
        );
        assert_eq!(
            run(&in_order(
                &ten_over_n_plus_seven_not_negative,
                &n_twice_over_minus_ten
            )),
            Err(QueryError::DivisionByZero)
        );
        let n_over_five = Expr::compare(CompareOp::Greater, column("n"), integer(5));
        assert_eq!(
            run(&grouped(vec![n_plus_one_positive, n_over_five], count)),
            Err(QueryError::BigintOutOfRange)
        );

        // A CASE computes a value only for the rows its condition takes: `10 / (n - 3)`
        // never for host b's n = 3. `abs` of a float drops its sign; `%` keeps the
        // dividend's.
        let conditional = grouped(
            Vec::new(),
            vec![
                Aggregate::new(
                    AggregateFunction::Sum,
                    Some(Expr::Case {
                        number: NumberType::Integer,
                        branches: vec![(
                            Expr::compare(CompareOp::NotEqual, column("n"), integer(3)),
                            arithmetic(
                                ArithmeticOp::Divide,
                                NumberType::Integer,
                                integer(10),
                                arithmetic(
                                    ArithmeticOp::Subtract,
                                    NumberType::Integer,
                                    column("n"),
                                    integer(3),
                                ),
                            ),
                        )],
                        otherwise: Box::new(Expr::Value(Value::Null)),
                    }),
                ),
                Aggregate::new(
                    AggregateFunction::Max,
                    Some(Expr::Abs {
                        number: NumberType::Float,
                        expr: Box::new(column("v")),
                    }),
                ),
                Aggregate::new(
                    AggregateFunction::Sum,
                    Some(arithmetic(
                        ArithmeticOp::Remainder,
                        NumberType::Integer,
                        column("n"),
                        integer(4),
                    )),
                ),
            ],
        );
        let expected = ["a|0|2.0|-1", "b|0|0.0|6"];
        assert_eq!(run(&conditional).unwrap(), expected);
        in_both_plans(&conditional, &expected);
        // Compared with a constant, a CASE of constants keeps its later conditions for the
        // rows the earlier ones do not take: `100 / (n - 3)` is never computed for n = 3,
        // whichever plan DataFusion makes of the comparison.
        let n_less_three = arithmetic(
            ArithmeticOp::Subtract,
            NumberType::Integer,
            column("n"),
            integer(3),
        );
        let busy = Expr::compare(
            CompareOp::Equal,
            Expr::Case {
                number: NumberType::Integer,
                branches: vec![
                    (
                        Expr::compare(CompareOp::Equal, column("n"), integer(3)),
                        integer(0),
                    ),
                    (
                        Expr::compare(
                            CompareOp::Greater,
                            arithmetic(
                                ArithmeticOp::Divide,
                                NumberType::Integer,
                                integer(100),
                                n_less_three,
                            ),
                            integer(5),
                        ),
                        integer(1),
                    ),
                ],
                otherwise: Box::new(integer(0)),
            },
            integer(1),
        );
        let any_busy = grouped(
            Vec::new(),
            vec![Aggregate::new(AggregateFunction::BoolOr, Some(busy))],
        );
        let expected = ["a|true", "b|false"];
        assert_eq!(run(&any_busy).unwrap(), expected);
        in_both_plans(&any_busy, &expected);
        // The absolute value of the smallest bigint, -n - 1 for host b's largest n, and a
        // remainder of a division by zero raise Postgres' errors.
        let smallest = arithmetic(
            ArithmeticOp::Subtract,
            NumberType::Integer,
            Expr::Negate {
                number: NumberType::Integer,
                expr: Box::new(column("n")),
            },
            integer(1),
        );
        let of = |expr| vec![Aggregate::new(AggregateFunction::Max, Some(expr))];
        let absolute = of(Expr::Abs {
            number: NumberType::Integer,
            expr: Box::new(smallest),
        });
        assert_eq!(
            run(&grouped(host_a.clone(), absolute.clone())).unwrap(),
            ["a|11"]
        );
        assert_eq!(
            run(&grouped(Vec::new(), absolute)),
            Err(QueryError::BigintOutOfRange)
        );
        let remainder_of_zero = of(arithmetic(
            ArithmeticOp::Remainder,
            NumberType::Integer,
            column("n"),
            integer(0),
        ));
        assert_eq!(
            run(&grouped(Vec::new(), remainder_of_zero)),
            Err(QueryError::DivisionByZero)
        );
    }

    #[test]
    fn a_grouping_over_its_memory_spills_to_the_querys_own_files_and_removes_them() {
        let lines: String = (0..300_000)
            .map(|i| format!("m,host=h{} v={i} {i}\n", i % 100_000))
            .collect();
        let (schema, bytes) = stored_table(&lines);
        let files = vec![StoredFile {
            name: "1-1.parquet".to_owned(),
            bytes,
        }];
        let request = groups_request(
            &schema,
            vec![Expr::Column("host".into())],
            vec![
                Aggregate::new(AggregateFunction::CountRows, None),
                Aggregate::new(AggregateFunction::Max, Some(Expr::Column("v".into()))),
            ],
        );
        let batches = run_spilling(&request, &files);
        let counts = batches
            .iter()
            .flat_map(|batch| batch.column(1).as_primitive::<Int64Type>().iter());
        assert!(counts.clone().all(|count| count == Some(3)));
        assert_eq!(counts.count(), 100_000);
    }

    #[test]
    fn percentiles_of_groups_match_sorted_values_and_fail_cleanly_past_memory() {
        // 300,000 floats and integers in a scrambled order, every tenth row without them,
        // in 3 hosts and two files read side by side.
        let value = |i: i64| (i * 7_919) % 300_007;
        let line = |i: i64| match i % 10 {
            0 => format!("m,host=h{} other=1i {i}\n", i % 3),
            _ => format!(
                "m,host=h{} v={},n={}i {i}\n",
                i % 3,
                value(i) as f64 / 8.0,
                value(i) - 150_000
            ),
        };
        let (schema, first) = stored_table(&(0..150_000).map(line).collect::<String>());
        let (_, second) = stored_table(&(150_000..300_000).map(line).collect::<String>());
        let files = numbered_files([first, second]);
        let fraction = |f| Fraction::new(f).unwrap();
        let cont = |f| {
            Aggregate::new(
                AggregateFunction::PercentileCont(fraction(f)),
                Some(Expr::Column("v".into())),
            )
        };
        let mut above = cont(0.25);
        above.filter = Some(Expr::compare(
            CompareOp::Greater,
            Expr::Column("v".into()),
            Expr::Value(Value::Float(20_000.0)),
        ));
        let request = groups_request(
            &schema,
            vec![Expr::Column("host".into())],
            vec![
                cont(0.5),
                cont(0.9),
                above,
                Aggregate::new(
                    AggregateFunction::PercentileDisc(fraction(0.75)),
                    Some(Expr::Column("n".into())),
                ),
                Aggregate::new(AggregateFunction::CountRows, None),
            ],
        );
        let engine = Engine::new(2, || false, || {}).unwrap();
        let run_request = |request: &QueryRequest, memory_bytes| {
            let limits = Limits {
                memory_bytes,
                decoded_file_bytes: 0,
                spill: None,
            };
            let mut query = engine.start(request, &[], files.clone(), &limits)?;
            let mut batches = Vec::new();
            while let Some(batch) = query.next_batch(&engine)? {
                batches.push(batch);
            }
            Ok::<_, QueryError>(batches)
        };
        let run = |memory_bytes| run_request(&request, memory_bytes);
        // Each host's values, sorted, Postgres' interpolation between two of them, and its
        // discrete pick.
        let sorted = |host: i64, least: i64| {
            let mut values: Vec<i64> = (0..300_000)
                .filter(|i| i % 10 != 0 && i % 3 == host)
                .map(value)
                .filter(|v| *v > least)
                .collect();
            values.sort_unstable();
            values
        };
        let cont_of = |values: &[i64], fraction: f64| {
            let position = fraction * (values.len() - 1) as f64;
            let at = |place: f64| values[place as usize] as f64 / 8.0;
            let (lower, upper) = (at(position.floor()), at(position.ceil()));
            lower + (position - position.floor()) * (upper - lower)
        };
        let disc_of = |values: &[i64], fraction: f64| {
            values[(fraction * values.len() as f64).ceil() as usize - 1] - 150_000
        };
        let expected: Vec<(String, [f64; 3], i64, i64)> = (0..3)
            .map(|host| {
                let values = sorted(host, -1);
                let cont = [
                    cont_of(&values, 0.5),
                    cont_of(&values, 0.9),
                    cont_of(&sorted(host, 160_000), 0.25),
                ];
                (format!("h{host}"), cont, disc_of(&values, 0.75), 100_000)
            })
            .collect();
        let mut rows: Vec<(String, [f64; 3], i64, i64)> = run(64 << 20)
            .unwrap()
            .iter()
            .flat_map(|batch| {
                let floats = |c: usize| batch.column(c).as_primitive::<Float64Type>().clone();
                let integers = |c: usize| batch.column(c).as_primitive::<Int64Type>().clone();
                let hosts = batch.column(0).clone();
                let (p50, p90, p25) = (floats(1), floats(2), floats(3));
                let (p75, counts) = (integers(4), integers(5));
                (0..batch.num_rows())
                    .map(|row| {
                        let host =
                            arrow::util::display::array_value_to_string(&hosts, row).unwrap();
                        let cont = [p50.value(row), p90.value(row), p25.value(row)];
                        (host, cont, p75.value(row), counts.value(row))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(rows, expected);
        // The values kept are counted against the query's memory: without files to
        // spill into, past it the query fails cleanly, where the count alone fits.
        assert!(matches!(
            run(1 << 20),
            Err(QueryError::ResourcesExhausted(_))
        ));
        let count_only = groups_request(
            &schema,
            vec![Expr::Column("host".into())],
            vec![Aggregate::new(AggregateFunction::CountRows, None)],
        );
        let counted = run_request(&count_only, 1 << 20).unwrap();
        assert_eq!(counted.iter().map(RecordBatch::num_rows).sum::<usize>(), 3);
    }

    #[test]
    fn percentiles_at_the_gates_limit_spill_many_groups_and_hold_one() {
        // One more row than a power of two, whose list has room for twice as many, in
        // as little memory as the glue lets one percentile of them have: in one group, in
        // a group per row (which spill), and without groups.
        let rows: i64 = (1 << 16) + 1;
        let memory = (1..)
            .map(|kb| kb << 10)
            .find(|&bytes| percentile_values_fit(1, rows as f64, bytes as f64))
            .unwrap();
        let value = |i: i64| (i * 7_919) % 100_003;
        let lines: String = (0..rows)
            .map(|i| format!("m,host=h v={}i {i}\n", value(i)))
            .collect();
        let (schema, bytes) = stored_table(&lines);
        let files = numbered_files([bytes]);
        let mut sorted: Vec<i64> = (0..rows).map(value).collect();
        sorted.sort_unstable();
        let median = sorted[(0.5 * rows as f64).ceil() as usize - 1];
        let engine = Engine::new(2, || false, || {}).unwrap();
        let directory = tempfile::tempdir().unwrap();
        for keys in [
            vec![Expr::Column("host".into())],
            vec![Expr::TimeNs],
            Vec::new(),
        ] {
            let request = groups_request(
                &schema,
                keys.clone(),
                vec![Aggregate::new(
                    AggregateFunction::PercentileDisc(Fraction::new(0.5).unwrap()),
                    Some(Expr::Column("v".into())),
                )],
            );
            let limits = Limits {
                memory_bytes: memory,
                decoded_file_bytes: 0,
                spill: Some(SpillFiles {
                    directory: directory.path().join("pgsql_tmp"),
                    prefix: "pgsql_tmp1.tsparquet.".to_owned(),
                    limit_kb: None,
                }),
            };
            let mut query = engine.start(&request, &[], files.clone(), &limits).unwrap();
            let mut results = Vec::new();
            while let Some(batch) = query.next_batch(&engine).unwrap() {
                let column = batch.column(batch.num_columns() - 1);
                results.extend(column.as_primitive::<Int64Type>().values().iter().copied());
            }
            if keys == [Expr::TimeNs] {
                // Each row its own group: its own value.
                results.sort_unstable();
                assert!(results == sorted, "{} results", results.len());
            } else {
                assert_eq!(results, [median], "{keys:?}");
            }
        }
    }

    /// Stored files of `contents`, named in their order.
    fn numbered_files(contents: impl IntoIterator<Item = bytes::Bytes>) -> Vec<StoredFile> {
        contents
            .into_iter()
            .enumerate()
            .map(|(i, bytes)| StoredFile {
                name: format!("1-{i}.parquet"),
                bytes,
            })
            .collect()
    }

    /// Runs `request` over `files` with 4 MB of memory, more than it needs, spilling into
    /// a directory of its own, and returns its batches: it leaves no file behind. Allowed
    /// 1 kB of files it fails as Postgres fails past `temp_file_limit`, and allowed none
    /// it runs out of memory.
    fn run_spilling(request: &QueryRequest, files: &[StoredFile]) -> Vec<RecordBatch> {
        let directory = tempfile::tempdir().unwrap();
        let spill = |limit_kb| SpillFiles {
            directory: directory.path().join("pgsql_tmp"),
            prefix: "pgsql_tmp1.tsparquet.".to_owned(),
            limit_kb,
        };
        let engine = Engine::new(1, || false, || {}).unwrap();
        let run = |spill| {
            let limits = Limits {
                memory_bytes: 4 << 20,
                decoded_file_bytes: 0,
                spill,
            };
            let mut query = engine.start(request, &[], files.to_vec(), &limits)?;
            let mut batches = Vec::new();
            while let Some(batch) = query.next_batch(&engine)? {
                batches.push(batch);
            }
            Ok::<_, QueryError>(batches)
        };
        let batches = run(Some(spill(None))).unwrap();
        // It spilled, into the directory it made, and its files are gone.
        let left: Vec<_> = std::fs::read_dir(directory.path().join("pgsql_tmp"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "{left:?}");
        assert!(matches!(
            run(Some(spill(Some(1)))),
            Err(QueryError::TemporaryFileLimit(1))
        ));
        assert!(matches!(run(None), Err(QueryError::ResourcesExhausted(_))));
        batches
    }

    #[test]
    fn a_sort_over_its_memory_spills_to_the_querys_own_files_and_removes_them() {
        // Values in a scrambled order, which the query sorts descending: about 24 MB of
        // rows against 4 MB of memory.
        let value = |i: i64| (i * 7_919) % 1_000_003;
        let lines: String = (0..1_000_000)
            .map(|i| format!("m,host=h{} v={}i {i}\n", i % 7, value(i)))
            .collect();
        let mut expected: Vec<i64> = (0..1_000_000).map(value).collect();
        expected.sort_unstable_by(|a, b| b.cmp(a));
        let (schema, bytes) = stored_table(&lines);
        let files = vec![StoredFile {
            name: "1-1.parquet".to_owned(),
            bytes,
        }];
        let mut request = rows_request(&schema, &["v", "host"], Vec::new());
        request.order = vec![SortKey {
            output: 1,
            descending: true,
            nulls_first: true,
            microseconds: false,
        }];
        let values: Vec<i64> = run_spilling(&request, &files)
            .iter()
            .flat_map(|batch| {
                batch
                    .column(1)
                    .as_primitive::<Int64Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        assert!(values == expected);
    }

    #[test]
    fn a_sort_of_all_rows_takes_batches_small_enough_for_little_memory() {
        // 200,000 rows against 256 kB, of which the merge keeps a quarter: batches of
        // 8,192 rows, taken in at twice their size, would not fit; the sort's do.
        let value = |i: i64| (i * 7_919) % 1_000_003;
        let lines: String = (0..200_000)
            .map(|i| format!("m,host=h v={}i {i}\n", value(i)))
            .collect();
        let mut expected: Vec<i64> = (0..200_000).map(value).collect();
        expected.sort_unstable();
        let (schema, bytes) = stored_table(&lines);
        let files = vec![StoredFile {
            name: "1-1.parquet".to_owned(),
            bytes,
        }];
        let mut request = rows_request(&schema, &["v"], Vec::new());
        request.order = vec![SortKey {
            output: 1,
            descending: false,
            nulls_first: false,
            microseconds: false,
        }];
        let directory = tempfile::tempdir().unwrap();
        let limits = Limits {
            memory_bytes: 256 << 10,
            decoded_file_bytes: 0,
            spill: Some(SpillFiles {
                directory: directory.path().join("pgsql_tmp"),
                prefix: "pgsql_tmp1.tsparquet.".to_owned(),
                limit_kb: None,
            }),
        };
        let engine = Engine::new(1, || false, || {}).unwrap();
        let mut query = engine.start(&request, &[], files, &limits).unwrap();
        let mut values = Vec::new();
        while let Some(batch) = query.next_batch(&engine).unwrap() {
            let column = batch.column(1).as_primitive::<Int64Type>();
            values.extend(column.values().iter().copied());
        }
        assert!(values == expected);
    }

    #[test]
    fn small_files_read_from_memory_give_the_rows_of_the_files_read_beside_them() {
        // A file too large to be small between two small ones, which the second round
        // reads as the first kept them decoded.
        let large_rows = small_files::SMALL_FILE_VALUES as usize / 3 + 1;
        let lines: String = (0..large_rows)
            .map(|t| format!("m,host=h{} v={t} {t}\n", t % 3))
            .collect();
        let (_, large) = stored_table(&lines);
        let (_, first) = stored_table("m,host=h1 v=-1 5\nm,host=h2 v=-2 6\n");
        let (schema, second) = stored_table("m,host=h1 v=-3 7\nm,host=h4 v=-4 8\n");
        let files = numbered_files([first, large, second]);
        let request = QueryRequest {
            columns: schema.columns().to_vec(),
            filters: vec![Expr::compare(
                CompareOp::Less,
                Expr::TimeNs,
                Expr::Value(Value::Integer(8)),
            )],
            shape: Shape::Groups {
                keys: vec![Expr::Column("host".into())],
                aggregates: vec![
                    Aggregate::new(AggregateFunction::CountRows, None),
                    Aggregate::new(AggregateFunction::Min, Some(Expr::Column("v".into()))),
                ],
            },
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
        };
        let engine = Engine::new(1, || false, || {}).unwrap();
        for _ in 0..2 {
            let plans = both_plans(&engine, &request, files.clone());
            let direct = plans.direct.clone().expect("a direct plan");
            assert_eq!(files_and_batches(&direct), (3, 0));
            let from_memory = plans.with_small_files_in_memory(&engine, &direct);
            assert_eq!(files_and_batches(&from_memory), (1, 2));
            assert_eq!(
                rows_of(&engine, from_memory),
                ["h0|3|0.0", "h1|5|-3.0", "h2|3|-2.0"]
            );
        }
        assert_eq!(engine.decoded.borrow().len(), 2);
        // Room for one of the small files: the query takes the first from memory and has
        // the Parquet reader read the other, with the same rows.
        let both = engine.decoded.borrow().bytes();
        let plans = both_plans(&engine, &request, files.clone());
        let direct = plans.direct.clone().expect("a direct plan");
        let one_in_memory = plans.with_small_files_in_memory_up_to(&engine, &direct, both * 3 / 4);
        assert_eq!(files_and_batches(&one_in_memory), (2, 1));
        assert_eq!(
            rows_of(&engine, one_in_memory),
            ["h0|3|0.0", "h1|5|-3.0", "h2|3|-2.0"]
        );
        // Rows come in the order of the files, as the Parquet reader alone gives them.
        let rows = rows_request(&schema, &["v"], request.filters.clone());
        let plans = both_plans(&engine, &rows, files);
        let direct = plans.direct.clone().expect("a direct plan");
        let from_memory = plans.with_small_files_in_memory(&engine, &direct);
        assert_eq!(files_and_batches(&from_memory), (1, 2));
        // Each file's rows by host and time.
        let values: Vec<String> = rows_in_order(&engine, from_memory)
            .iter()
            .map(|row| row.rsplit('|').next().unwrap().to_owned())
            .collect();
        assert_eq!(
            values,
            ["-1.0", "-2.0", "0.0", "3.0", "6.0", "1.0", "4.0", "7.0", "2.0", "5.0", "-3.0"]
        );
        assert_eq!(
            rows_in_order(&engine, direct),
            rows_in_order(
                &engine,
                plans.with_small_files_in_memory(&engine, &plans.datafusion)
            )
        );
    }

    /// The `columns` of the rows of a table passing `filters`, in any order.
    /// A request for `aggregates` of the rows of `schema`'s table grouped by `keys`.
    fn groups_request(
        schema: &TableSchema,
        keys: Vec<Expr>,
        aggregates: Vec<Aggregate>,
    ) -> QueryRequest {
        QueryRequest {
            columns: schema.columns().to_vec(),
            filters: Vec::new(),
            shape: Shape::Groups { keys, aggregates },
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
        }
    }

    fn rows_request(schema: &TableSchema, columns: &[&str], filters: Vec<Expr>) -> QueryRequest {
        QueryRequest {
            columns: schema.columns().to_vec(),
            filters,
            shape: Shape::Rows {
                columns: columns.iter().map(|c| c.to_string()).collect(),
            },
            having: Vec::new(),
            order: Vec::new(),
            limit: None,
        }
    }

    /// The name of the one file `run_rows` queries.
    const FILE_NAME: &str = "1-1.parquet";

    /// Runs a query of the `columns` of the rows passing `filters` over one file of a
    /// table, `FILE_NAME`, to its end: the finished query and the rows it returned.
    fn run_rows(
        engine: &Engine,
        schema: &TableSchema,
        bytes: bytes::Bytes,
        filters: Vec<Expr>,
        columns: &[&str],
    ) -> (RunningQuery, usize) {
        let file = StoredFile {
            name: FILE_NAME.to_owned(),
            bytes,
        };
        let request = rows_request(schema, columns, filters);
        let limits = Limits {
            memory_bytes: 16 << 20,
            decoded_file_bytes: 64 << 20,
            spill: None,
        };
        let mut query = engine.start(&request, &[], vec![file], &limits).unwrap();
        let mut rows = 0;
        while let Some(batch) = query.next_batch(engine).unwrap() {
            rows += batch.num_rows();
        }
        (query, rows)
    }

    /// The pages of a plan's scans that its page index pruned and kept, over all its nodes.
    fn pages_pruned_and_kept(plan: &Arc<dyn ExecutionPlan>) -> (usize, usize) {
        let mut counts = (0, 0);
        for metric in plan.metrics().iter().flat_map(|m| m.iter()) {
            if let datafusion::physical_plan::metrics::MetricValue::PruningMetrics {
                name,
                pruning_metrics,
            } = metric.value()
            {
                if name == "page_index_pages_pruned" {
                    counts.0 += pruning_metrics.pruned();
                    counts.1 += pruning_metrics.matched();
                }
            }
        }
        plan.children()
            .into_iter()
            .map(pages_pruned_and_kept)
            .fold(counts, |(p, k), (cp, ck)| (p + cp, k + ck))
    }

    #[test]
    fn a_window_of_one_series_reads_only_the_page_that_holds_it() {
        // Two row groups: a file that is not read from memory. The window is in the
        // first, whose other pages are pruned; the second is pruned whole.
        let page_rows = crate::parquet_file::PAGE_ROWS;
        let group_rows = crate::parquet_file::ROW_GROUP_ROWS;
        let rows = group_rows + page_rows;
        let lines: String = (0..rows).map(|t| format!("m,host=a v={t} {t}\n")).collect();
        let (schema, bytes) = stored_table(&lines);
        let third_page = (page_rows * 2) as i64;
        let at = |ns| Expr::Value(Value::Integer(ns));
        let filters = vec![
            Expr::compare(CompareOp::GreaterOrEqual, Expr::TimeNs, at(third_page + 10)),
            Expr::compare(CompareOp::Less, Expr::TimeNs, at(third_page + 20)),
        ];
        let engine = Engine::new(1, || false, || {}).unwrap();
        let (query, rows) = run_rows(&engine, &schema, bytes, filters, &["v"]);
        assert_eq!(rows, 10);
        assert_eq!(
            pages_pruned_and_kept(&query.plan),
            (group_rows / page_rows - 1, 1)
        );
    }

    /// What the engine keeps of the test file's footer after a query.
    fn cached_footer(engine: &Engine) -> CachedFileMetadataEntry {
        engine
            .context
            .runtime_env()
            .cache_manager
            .get_file_metadata_cache()
            .get(&Path::from(FILE_NAME))
            .expect("the footer is cached")
    }

    #[test]
    fn a_files_footer_is_cached_without_its_extreme_rows() {
        let lines: String = (0..1024).map(|t| format!("m,host=a v={t} {t}\n")).collect();
        let (schema, bytes) = stored_table(&lines);
        assert!(extreme_rows::read(&bytes).unwrap().is_some());
        let engine = Engine::new(1, || false, || {}).unwrap();
        let (_, rows) = run_rows(&engine, &schema, bytes, Vec::new(), &["v"]);
        assert_eq!(rows, 1024);
        let cached = cached_footer(&engine);
        let footer = cached
            .file_metadata
            .as_any()
            .downcast_ref::<CachedParquetMetaData>()
            .expect("a Parquet footer")
            .parquet_metadata();
        let entries = footer.file_metadata().key_value_metadata();
        assert!(!entries
            .into_iter()
            .flatten()
            .any(|e| e.key == extreme_rows::FOOTER_KEY));
    }

    #[test]
    fn a_query_leaves_each_files_page_index_cached_with_its_footer() {
        let (schema, bytes) = stored_table("m,host=a v=1 1\nm,host=b v=2 2\n");
        let filters = vec![Expr::compare(
            CompareOp::GreaterOrEqual,
            Expr::TimeNs,
            Expr::Value(Value::Integer(2)),
        )];
        let engine = Engine::new(1, || false, || {}).unwrap();
        let (_, rows) = run_rows(&engine, &schema, bytes, filters, &["host"]);
        assert_eq!(rows, 1);
        let cached = cached_footer(&engine);
        assert_eq!(
            cached.file_metadata.extra_info().get("page_index"),
            Some(&"true".to_owned())
        );
    }
}
