//! A kept plan's physical plan, made over again for a later query without DataFusion's
//! physical planning, which is most of the planning left in a short query once its
//! logical plan is kept. The time bounds in it are literals tagged with their number (see
//! `plan_cache::bind`) and its scan reads the files of the query it was made for: both
//! are replaced, and every node is made anew, with metrics and state of its own.
//!
//! A physical plan is kept only where nothing else in it depends on the bounds or the
//! files: one Parquet scan of one group of whole files, bounds only in filters, no
//! filters that operators update while they run.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::datatypes::Schema;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, ScalarValue};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::parquet::CachedParquetFileReaderFactory;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfig, FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::cache::cache_manager::FileMetadataCache;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::Expr as DfExpr;
use datafusion::physical_expr::expressions::{DynamicFilterPhysicalExpr, Literal};
use datafusion::physical_plan::displayable;
use datafusion::physical_plan::filter::{FilterExec, FilterExecBuilder};
use datafusion::physical_plan::{ExecutionPlan, PhysicalExpr};
use object_store::{ObjectMeta, ObjectStore};

/// The metadata key of a time bound's literal; its value is the bound's number.
const BOUND_KEY: &str = "tsparquet.time_bound";

type Result<T> = std::result::Result<T, DataFusionError>;

/// The `n`-th time bound of a query, `value`, as a literal a kept physical plan finds again.
pub fn bound_literal(value: ScalarValue, n: usize) -> DfExpr {
    let metadata = BTreeMap::from([(BOUND_KEY.to_owned(), n.to_string())]);
    DfExpr::Literal(value, Some(metadata.into()))
}

/// Whether `plan`, made with `bounds` time bounds, can be made over again by [`rebind`] for
/// any bounds and files.
pub fn can_rebind(plan: &Arc<dyn ExecutionPlan>, bounds: usize) -> bool {
    let mut scans = 0;
    let mut fits = true;
    // A bound the planner folded into another expression would keep its first value.
    let mut found = vec![false; bounds];
    let mut note_bounds = |expr: &Arc<dyn PhysicalExpr>| {
        let _ = expr.apply(|e| {
            if let Some(slot) = bound_number(e).and_then(|n| found.get_mut(n)) {
                *slot = true;
            }
            Ok(TreeNodeRecursion::Continue)
        });
    };
    let walked = plan.apply(|node| {
        if !node.dynamic_expressions_produced().is_empty() {
            fits = false;
        } else if let Some(scan) = node.downcast_ref::<DataSourceExec>() {
            scans += 1;
            fits = parquet_scan(scan).is_some_and(|(config, source)| {
                if let Some(predicate) = source.filter() {
                    note_bounds(&predicate);
                }
                rebindable_scan(config, source)
            });
        } else if let Some(filter) = node.downcast_ref::<FilterExec>() {
            note_bounds(filter.predicate());
        } else {
            // Only filters and the scan have their expressions rewritten.
            node.apply_expressions(&mut |expr| {
                if holds_bound(expr) {
                    fits = false;
                }
                Ok(TreeNodeRecursion::Continue)
            })?;
        }
        Ok(if fits {
            TreeNodeRecursion::Continue
        } else {
            TreeNodeRecursion::Stop
        })
    });
    walked.is_ok() && fits && scans == 1 && found.iter().all(|&found| found)
}

/// Where a query's files are and how they are read.
pub struct QueryFiles<'a> {
    pub url: &'a ObjectStoreUrl,
    pub objects: Vec<ObjectMeta>,
    pub store: Arc<dyn ObjectStore>,
    /// The cache of parsed footers and page indexes.
    pub footers: Arc<FileMetadataCache>,
}

/// `plan` (one [`can_rebind`] accepts) reading `files`, with `bounds` in place of the
/// bounds it was made with.
pub fn rebind(
    plan: &Arc<dyn ExecutionPlan>,
    files: &QueryFiles<'_>,
    bounds: &[ScalarValue],
) -> Result<Arc<dyn ExecutionPlan>> {
    let rebound = Arc::clone(plan).transform_up(|node| {
        if let Some(scan) = node.downcast_ref::<DataSourceExec>() {
            let (config, source) = parquet_scan(scan).ok_or_else(|| not_rebindable("scan"))?;
            let template = config.file_groups[0]
                .files()
                .first()
                .ok_or_else(|| not_rebindable("an empty scan"))?;
            let group: Vec<PartitionedFile> = files
                .objects
                .iter()
                .map(|meta| PartitionedFile {
                    object_meta: meta.clone(),
                    ..template.clone()
                })
                .collect();
            let reader = CachedParquetFileReaderFactory::new(
                Arc::clone(&files.store),
                Arc::clone(&files.footers),
            );
            let mut config = config.clone();
            config.object_store_url = files.url.clone();
            config.file_groups = vec![FileGroup::new(group)];
            config.file_source = fresh_source(source, bounds, Arc::new(reader))?;
            return Ok(Transformed::yes(
                DataSourceExec::from_data_source(config) as Arc<dyn ExecutionPlan>
            ));
        }
        if let Some(filter) = node.downcast_ref::<FilterExec>() {
            let predicate = with_bounds(filter.predicate(), bounds)?;
            let rebuilt = FilterExecBuilder::from(filter)
                .with_predicate(predicate)
                .build()?;
            return Ok(Transformed::yes(Arc::new(rebuilt) as Arc<dyn ExecutionPlan>));
        }
        Ok(Transformed::yes(node.reset_state()?))
    })?;
    Ok(rebound.data)
}

/// The Parquet scan of `scan`, if it is one.
fn parquet_scan(scan: &DataSourceExec) -> Option<(&FileScanConfig, &ParquetSource)> {
    let config = scan.data_source().downcast_ref::<FileScanConfig>()?;
    let source = config.file_source().downcast_ref::<ParquetSource>()?;
    Some((config, source))
}

/// Whether a scan reads one group of whole files, with its bounds only in its predicate
/// and nothing in it that [`fresh_source`] would not make again.
fn rebindable_scan(config: &FileScanConfig, source: &ParquetSource) -> bool {
    let whole_files = config.file_groups.len() == 1
        && config.file_groups[0]
            .files()
            .iter()
            .all(|file| file.range.is_none() && file.partition_values.is_empty());
    let projection_free = source
        .projection()
        .is_none_or(|projection| projection.iter().all(|p| !holds_bound(&p.expr)));
    let static_predicate = source.filter().is_none_or(|predicate| {
        predicate
            .exists(|e| Ok(e.downcast_ref::<DynamicFilterPhysicalExpr>().is_some()))
            .is_ok_and(|dynamic| !dynamic)
    });
    // Sort pushdown leaves marks that `fresh_source` does not make again.
    let described = displayable(&DataSourceExec::new(Arc::new(config.clone())))
        .one_line()
        .to_string();
    let unsorted =
        !described.contains("reverse_row_groups") && !described.contains("sort_order_for_reorder");
    whole_files && projection_free && static_predicate && unsorted
}

/// A Parquet source like `source`, with metrics of its own, reading through `reader`,
/// with `bounds` in its predicate.
fn fresh_source(
    source: &ParquetSource,
    bounds: &[ScalarValue],
    reader: Arc<CachedParquetFileReaderFactory>,
) -> Result<Arc<dyn FileSource>> {
    let options = source.table_parquet_options().clone();
    let hint = options.global.metadata_size_hint;
    let mut fresh = ParquetSource::new(source.table_schema().clone())
        .with_table_parquet_options(options)
        .with_parquet_file_reader_factory(reader);
    if let Some(hint) = hint {
        fresh = fresh.with_metadata_size_hint(hint);
    }
    if let Some(predicate) = source.filter() {
        fresh = fresh.with_predicate(with_bounds(&predicate, bounds)?);
    }
    match source.projection() {
        Some(projection) => fresh
            .try_pushdown_projection(projection)?
            .ok_or_else(|| not_rebindable("the scan's projection")),
        None => Ok(Arc::new(fresh)),
    }
}

/// `expr` with the tagged literals of time bounds holding `bounds`.
fn with_bounds(
    expr: &Arc<dyn PhysicalExpr>,
    bounds: &[ScalarValue],
) -> Result<Arc<dyn PhysicalExpr>> {
    let rewritten = Arc::clone(expr).transform_up(|e| {
        let Some(n) = bound_number(&e) else {
            return Ok(Transformed::no(e));
        };
        let value = bounds
            .get(n)
            .ok_or_else(|| not_rebindable("a bound beyond the query's"))?;
        let metadata = BTreeMap::from([(BOUND_KEY.to_owned(), n.to_string())]);
        Ok(Transformed::yes(Arc::new(Literal::new_with_metadata(
            value.clone(),
            Some(metadata.into()),
        )) as Arc<dyn PhysicalExpr>))
    })?;
    Ok(rewritten.data)
}

fn holds_bound(expr: &Arc<dyn PhysicalExpr>) -> bool {
    expr.exists(|e| Ok(bound_number(e).is_some()))
        .unwrap_or(true)
}

/// The number of the time bound `expr` is the literal of.
fn bound_number(expr: &Arc<dyn PhysicalExpr>) -> Option<usize> {
    let literal = expr.downcast_ref::<Literal>()?;
    let field = literal.return_field(&Schema::empty()).ok()?;
    field.metadata().get(BOUND_KEY)?.parse().ok()
}

fn not_rebindable(what: &str) -> DataFusionError {
    DataFusionError::Internal(format!("a kept physical plan cannot take {what}"))
}
