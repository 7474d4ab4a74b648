//! Small files read from memory.
//!
//! DataFusion's Parquet reader prepares each file it opens: the Arrow schema of its footer,
//! the query's filter rewritten for that schema, predicates pruning its row groups and
//! pages, a row filter and a reader per column. That costs about 0.2 ms a file whatever the
//! file holds, more than reading a file of a few thousand rows takes — and an agent's
//! recent writes, before they are merged, are such files, which are what dashboards ask
//! for. A small file is decoded once instead, kept decoded for the backend's later
//! queries, and filtered in memory by the same filter; larger files are read as before.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::compute::concat_batches;
use arrow::datatypes::SchemaRef;
use bytes::Bytes;
use datafusion::common::{DataFusionError, Result};
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::physical_plan::{
    FileGroup, FileScanConfigBuilder, FileSource, ParquetSource,
};
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::projection::ProjectionExprs;
use datafusion::physical_plan::filter::FilterExecBuilder;
use datafusion::physical_plan::projection::ProjectionExec;
use datafusion::physical_plan::ExecutionPlan;
use object_store::path::Path;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::metadata::ParquetMetaData;

use super::chain::ChainExec;
use super::file_scans::replace_file_scans;
use super::file_set::FileSet;
use super::QueryError;
use crate::batch::try_conform;

/// A file is small if it is one row group of at most this many values (rows times
/// columns): 25,000 rows of TSBS cpu data, about 3 MiB decoded.
pub(super) const SMALL_FILE_VALUES: i64 = 512 * 1024;

/// Rows of a file handed on at a time.
const BATCH_ROWS: usize = 8192;

/// Decoded small files, by name (which stands for the same bytes for the life of the
/// backend, see `FileSet`), with the tick of their last use.
#[derive(Default)]
pub(super) struct DecodedFiles {
    files: HashMap<Path, (RecordBatch, u64)>,
    /// Arrow's count of the kept files' buffers.
    bytes: usize,
    /// What they may take; 0 reads no file from memory.
    capacity: usize,
    tick: u64,
}

impl DecodedFiles {
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.files.len()
    }

    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The rows of the small file at `location` with the columns of `table`, if its
    /// columns have the table's types (else the Parquet reader's casts are needed).
    fn rows(
        &mut self,
        location: &Path,
        bytes: &Bytes,
        footer: &Arc<ParquetMetaData>,
        table: &SchemaRef,
    ) -> Option<RecordBatch> {
        if let Some((batch, used)) = self.files.get_mut(location) {
            *used = self.tick;
            return try_conform(batch, table);
        }
        let batch = decode(bytes, footer)?;
        // A file the table reads only through the Parquet reader's casts is not kept.
        let rows = try_conform(&batch, table)?;
        self.keep(location, batch);
        Some(rows)
    }

    /// Keeps `batch` if there is room for it beside the files the current query reads: it
    /// takes the place of files earlier queries used, least recently used first. A query
    /// over more small files than fit keeps the first of them, which the next query finds
    /// again, rather than each file pushing out one that query will need.
    fn keep(&mut self, location: &Path, batch: RecordBatch) {
        let size = batch.get_array_memory_size();
        if size <= self.capacity / 8 && self.make_room(size, self.tick) {
            self.bytes += size;
            self.files.insert(location.clone(), (batch, self.tick));
        }
    }

    /// Keeps at most `capacity` bytes of decoded files from now on.
    pub(super) fn keep_at_most(&mut self, capacity: usize) {
        self.capacity = capacity;
        self.make_room(0, u64::MAX);
    }

    /// Drops files last used before tick `before`, least recently used first, until
    /// `size` more bytes fit; whether they do.
    fn make_room(&mut self, size: usize, before: u64) -> bool {
        if self.bytes + size <= self.capacity {
            return true;
        }
        let mut droppable: Vec<(u64, Path)> = self
            .files
            .iter()
            .filter(|(_, (_, used))| *used < before)
            .map(|(location, (_, used))| (*used, location.clone()))
            .collect();
        droppable.sort_unstable();
        for (_, location) in droppable {
            if self.bytes + size <= self.capacity {
                break;
            }
            if let Some((batch, _)) = self.files.remove(&location) {
                self.bytes -= batch.get_array_memory_size();
            }
        }
        self.bytes + size <= self.capacity
    }
}

/// `plan` with the small files of its Parquet scans read from memory: each such scan
/// becomes a chain (which asks whether to stop between batches) of the scans of its other files and of the small files' rows under the
/// scan's filter and projection, in the order of its files. `footers` are those of the
/// files of `store`, in the order of their names. A query takes at most the decoded files'
/// capacity from memory, so what it holds beside the kept files is bounded too; the rest
/// of its files it reads as before.
pub(super) fn read_small_files_from_memory(
    plan: Arc<dyn ExecutionPlan>,
    store: &FileSet,
    footers: &[Arc<ParquetMetaData>],
    decoded: &mut DecodedFiles,
) -> Result<Arc<dyn ExecutionPlan>> {
    if decoded.capacity == 0 {
        return Ok(plan);
    }
    decoded.tick += 1;
    let footers: HashMap<Path, &Arc<ParquetMetaData>> = store
        .under(None)
        .into_iter()
        .map(|meta| meta.location)
        .zip(footers)
        .collect();
    // What the query takes from memory; once a file does not fit, it takes no more.
    let mut taken = 0;
    let mut full = false;
    replace_file_scans(plan, |node, config| {
        let source = config.file_source();
        // Queries run in one partition: one group of files. A limit or an order the
        // scan promises is kept by reading its files in turn.
        let [files] = config.file_groups.as_slice() else {
            return Ok(None);
        };
        if source.downcast_ref::<ParquetSource>().is_none()
            || config.limit.is_some()
            || !config.output_ordering.is_empty()
        {
            return Ok(None);
        }
        let table = source.table_schema().file_schema().clone();
        // Runs of files read alike, in the order of the files.
        let mut runs: Vec<Run> = Vec::new();
        for file in files.iter() {
            let location = &file.object_meta.location;
            let rows = match (store.bytes(location), footers.get(location)) {
                // Past the query's share, files are not decoded but read.
                (Some(bytes), Some(footer))
                    if is_small(footer)
                        && !full
                        && taken + decoded_size(footer) <= decoded.capacity =>
                {
                    // Decoding is the work here: a stop is asked for before each.
                    if !decoded.files.contains_key(location) && (store.stop_check())() {
                        return Err(DataFusionError::External(Box::new(QueryError::Cancelled)));
                    }
                    decoded.rows(location, bytes, footer, &table)
                }
                _ => None,
            };
            let rows = rows.filter(|rows| {
                let size = rows.get_array_memory_size();
                full |= taken + size > decoded.capacity;
                taken += if full { 0 } else { size };
                !full
            });
            match (rows, runs.last_mut()) {
                (Some(rows), last) => match last {
                    Some(Run::InMemory(batches)) => batches.push(rows),
                    _ => runs.push(Run::InMemory(vec![rows])),
                },
                (_, Some(Run::Read(read))) => read.push(file.clone()),
                _ => runs.push(Run::Read(vec![file.clone()])),
            }
        }
        if !runs.iter().any(|run| matches!(run, Run::InMemory(_))) {
            return Ok(None);
        }
        let inputs = runs
            .into_iter()
            .map(|run| match run {
                Run::InMemory(batches) => filtered(batches, table.clone(), source.as_ref()),
                Run::Read(files) => Ok(DataSourceExec::from_data_source(
                    FileScanConfigBuilder::from(config.clone())
                        .with_file_groups(vec![FileGroup::new(files)])
                        .build(),
                ) as Arc<dyn ExecutionPlan>),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(Arc::new(ChainExec::new(
            inputs,
            node.schema(),
            store.stop_check(),
        ))))
    })
}

/// Files of a scan next to each other that are read alike.
enum Run {
    InMemory(Vec<RecordBatch>),
    Read(Vec<PartitionedFile>),
}

/// The rows of `batches` (with the columns of `table`) under the filter and projection of
/// the Parquet scan `source`.
fn filtered(
    batches: Vec<RecordBatch>,
    table: SchemaRef,
    source: &dyn FileSource,
) -> Result<Arc<dyn ExecutionPlan>> {
    // In batches of at most BATCH_ROWS, after each of which the chain asks whether to stop.
    let batches: Vec<RecordBatch> = batches
        .iter()
        .flat_map(|batch| {
            (0..batch.num_rows())
                .step_by(BATCH_ROWS)
                .map(|start| batch.slice(start, BATCH_ROWS.min(batch.num_rows() - start)))
        })
        .collect();
    let mut plan: Arc<dyn ExecutionPlan> =
        MemorySourceConfig::try_new_exec(&[batches], table, None)?;
    let projection = source.projection();
    // Columns alone are taken before filtering: only they are copied.
    let columns = projection.and_then(column_indices);
    let filter = source.filter();
    let projected = filter.is_some() && columns.is_some();
    if let Some(predicate) = filter {
        plan = Arc::new(
            FilterExecBuilder::new(predicate, plan)
                .apply_projection(columns)?
                .build()?,
        );
    }
    if let Some(projection) = projection.filter(|_| !projected) {
        plan = Arc::new(ProjectionExec::try_new(projection.iter().cloned(), plan)?);
    }
    Ok(plan)
}

/// The column each expression of `projection` is, if each is a column.
fn column_indices(projection: &ProjectionExprs) -> Option<Vec<usize>> {
    projection
        .iter()
        .map(|e| e.expr.downcast_ref::<Column>().map(Column::index))
        .collect()
}

/// About what a file takes decoded: its data uncompressed.
fn decoded_size(footer: &ParquetMetaData) -> usize {
    usize::try_from(footer.row_group(0).total_byte_size()).unwrap_or(usize::MAX)
}

fn is_small(footer: &ParquetMetaData) -> bool {
    let columns = footer.file_metadata().schema_descr().num_columns() as i64;
    footer.num_row_groups() == 1 && footer.file_metadata().num_rows() * columns <= SMALL_FILE_VALUES
}

/// Every row of a file, as one batch with the file's columns.
fn decode(bytes: &Bytes, footer: &Arc<ParquetMetaData>) -> Option<RecordBatch> {
    let metadata = ArrowReaderMetadata::try_new(footer.clone(), ArrowReaderOptions::new()).ok()?;
    let schema = metadata.schema().clone();
    let rows = usize::try_from(footer.file_metadata().num_rows()).ok()?;
    let batches = ParquetRecordBatchReaderBuilder::new_with_metadata(bytes.clone(), metadata)
        .with_batch_size(rows.max(1))
        .build()
        .ok()?
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    concat_batches(&schema, &batches).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::table_arrow_schema;
    use crate::test_files::{stored_footer, stored_table};

    #[test]
    fn past_their_capacity_the_least_recently_used_files_are_dropped() {
        let files: Vec<(Path, Bytes, Arc<ParquetMetaData>)> = (0..9)
            .map(|i| {
                let lines = format!("m,host=h{i} v={i} {i}\n");
                let (_, bytes) = stored_table(&lines);
                (
                    Path::from(format!("1-{i}.parquet")),
                    bytes,
                    Arc::new(stored_footer(&lines)),
                )
            })
            .collect();
        let (schema, _) = stored_table("m,host=h0 v=0 0\n");
        let table: SchemaRef = Arc::new(table_arrow_schema(&schema));
        let size = decode(&files[0].1, &files[0].2)
            .unwrap()
            .get_array_memory_size();
        let mut decoded = DecodedFiles::default();
        // Eight files' worth: each of them is small enough to keep.
        decoded.keep_at_most(8 * size);
        let read = |decoded: &mut DecodedFiles, i: usize| {
            decoded.tick += 1;
            let (location, bytes, footer) = &files[i];
            decoded.rows(location, bytes, footer, &table).unwrap()
        };
        for i in 0..8 {
            assert_eq!(read(&mut decoded, i).num_rows(), 1);
        }
        assert_eq!(decoded.len(), 8);
        // The first is used again: the second is the least recently used.
        read(&mut decoded, 0);
        read(&mut decoded, 8);
        let kept = |decoded: &DecodedFiles, i: usize| decoded.files.contains_key(&files[i].0);
        assert!(kept(&decoded, 0) && !kept(&decoded, 1) && kept(&decoded, 8));
        assert_eq!(decoded.len(), 8);
        assert_eq!(decoded.bytes, 8 * size);
        // A smaller capacity drops more; none reads nothing from memory.
        decoded.keep_at_most(2 * size);
        assert_eq!(decoded.len(), 2);
        assert!(kept(&decoded, 0) && kept(&decoded, 8));
        decoded.keep_at_most(0);
        assert_eq!((decoded.len(), decoded.bytes), (0, 0));
        // One query over more files than fit keeps the first of them, for the next one.
        decoded.keep_at_most(8 * size);
        for _ in 0..2 {
            decoded.tick += 1;
            for (location, bytes, footer) in &files {
                decoded.rows(location, bytes, footer, &table).unwrap();
            }
            assert!((0..8).all(|i| kept(&decoded, i)) && !kept(&decoded, 8));
        }
    }
}
