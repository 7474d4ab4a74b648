//! Latest (earliest) values per group from the files' extreme rows alone: when a query's
//! groups and filters depend on tags only, they are the same for every row of a run of one
//! series, so each group's latest row is the latest of its runs' latest rows, which every
//! large file keeps in its footer ([`crate::extreme_rows`]). The query then runs over those
//! rows instead of the files. `max(time)` is the time of that latest row (and `min(time)`
//! of the earliest): the last time a host reported is answered the same way. So are the
//! groups themselves and what depends only on the tag values a group holds (`SELECT
//! DISTINCT host`, `count(DISTINCT host)`), since every series keeps its extreme rows.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::Schema;
use datafusion::datasource::physical_plan::parquet::metadata::DFParquetMetadata;
use futures::future::try_join_all;
use parquet::file::metadata::PageIndexPolicy;
use rustc_hash::FxHashSet;

use super::expr::{Aggregate, AggregateFunction, Expr};
use super::file_set::FileSet;
use super::request::{QueryRequest, Shape};
use super::QueryError;
use crate::batch::conform;
use crate::extreme_rows;
use crate::schema::ColumnKind;

/// The extreme rows of all `files` in `schema`, the request's table schema, if they answer
/// `request`: None when it needs other rows or a file keeps no extreme rows. Footers are
/// read with a suffix of `size_hint` bytes, as the query's scans read them.
pub async fn rows_answering(
    request: &QueryRequest,
    files: &FileSet,
    schema: &Arc<Schema>,
    size_hint: Option<usize>,
) -> Result<Option<Vec<RecordBatch>>, QueryError> {
    if !answered_by_extremes(request) {
        return Ok(None);
    }
    // All at once: the reads of files read in ranges are then handed on together.
    let footers = try_join_all(files.under(None).into_iter().map(|meta| async move {
        let footer = DFParquetMetadata::new(files, &meta)
            .with_metadata_size_hint(size_hint)
            .with_page_index_policy(Some(PageIndexPolicy::Skip))
            .fetch_metadata()
            .await?;
        extreme_rows::from_footer(&footer)
            .map_err(|e| QueryError::Engine(format!("reading stored file {}: {e}", meta.location)))
    }))
    .await?;
    let mut rows = Vec::with_capacity(footers.len());
    for kept in footers {
        let Some(kept) = kept else {
            return Ok(None);
        };
        // A column dropped and written anew with another type: left to the general path.
        let same_types = schema.fields().iter().all(|field| {
            kept.column_by_name(field.name())
                .is_none_or(|column| column.data_type() == field.data_type())
        });
        if !same_types {
            return Ok(None);
        }
        rows.push(conform(&kept, schema));
    }
    Ok(Some(rows))
}

/// Whether the groups and filters depend on tags alone and the extreme rows give every
/// aggregate the value all rows give it.
fn answered_by_extremes(request: &QueryRequest) -> bool {
    let Shape::Groups { keys, aggregates } = &request.shape else {
        return false;
    };
    let tags: FxHashSet<&str> = request
        .columns
        .iter()
        .filter(|c| c.kind == ColumnKind::Tag)
        .map(|c| c.name.as_str())
        .collect();
    keys.iter()
        .chain(&request.filters)
        .all(|expr| on_tags_only(expr, &tags))
        && aggregates
            .iter()
            .all(|aggregate| answered_by_extreme_rows(aggregate, &tags))
}

/// Whether a group's extreme rows give `aggregate` the value its rows give it: a value at
/// the group's earliest or latest time, which is that of an earliest or latest row of one
/// of its series; that time itself; or a function of the tag values the group holds, which
/// every row of a series shares with that series' extreme rows.
fn answered_by_extreme_rows(aggregate: &Aggregate, tags: &FxHashSet<&str>) -> bool {
    if aggregate.filter.is_some() {
        return false;
    }
    match (aggregate.function, &aggregate.argument) {
        (AggregateFunction::First | AggregateFunction::Last, _) => true,
        (AggregateFunction::Min | AggregateFunction::Max, Some(Expr::Time | Expr::TimeNs)) => true,
        (
            AggregateFunction::Min | AggregateFunction::Max | AggregateFunction::CountDistinct,
            Some(argument),
        ) => on_tags_only(argument, tags),
        _ => false,
    }
}

/// Whether `expr` reads no column but the tags `tags`: conditions on them, not values
/// computed from them or from the time.
fn on_tags_only(expr: &Expr, tags: &FxHashSet<&str>) -> bool {
    !expr.any(&|e| match e {
        Expr::Column(name) => !tags.contains(name.as_str()),
        Expr::Value(_)
        | Expr::Param(_)
        | Expr::Compare(..)
        | Expr::InList { .. }
        | Expr::IsNull { .. }
        | Expr::Not(_)
        | Expr::And(_)
        | Expr::Or(_)
        | Expr::Like { .. }
        | Expr::RegexMatch { .. } => false,
        _ => true,
    })
}
