//! The rows of several plans of one partition each, one plan after the other, in one
//! partition. DataFusion's union gives each input a partition of its own, and read as one
//! by its coalescing node they run side by side, their rows mixed in whatever order their
//! tasks run. A chain keeps the order of its inputs: a scan whose files are read partly
//! from memory returns its rows in the order of its files, as a scan reading them all does.
//! It also asks before each batch whether the query should stop, as reads of files do: an
//! aggregate reads all its input before DataFusion yields, and rows already in memory are
//! read without any file read to ask.

use std::fmt;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{internal_err, DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, Partitioning, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, MetricsSet};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::{QueryError, StopCheck};

#[derive(Debug)]
pub(super) struct ChainExec {
    inputs: Vec<Arc<dyn ExecutionPlan>>,
    properties: Arc<PlanProperties>,
    stop: StopCheck,
    /// The rows it hands on, for `EXPLAIN ANALYZE`.
    metrics: ExecutionPlanMetricsSet,
}

impl ChainExec {
    /// The rows of `inputs` in turn, which have one partition each and rows of `schema`,
    /// ending once `stop` says so.
    pub(super) fn new(
        inputs: Vec<Arc<dyn ExecutionPlan>>,
        schema: SchemaRef,
        stop: StopCheck,
    ) -> ChainExec {
        let properties = PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(1),
            EmissionType::Incremental,
            Boundedness::Bounded,
        );
        ChainExec {
            inputs,
            properties: Arc::new(properties),
            stop,
            metrics: ExecutionPlanMetricsSet::new(),
        }
    }
}

impl DisplayAs for ChainExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChainExec: inputs={}", self.inputs.len())
    }
}

impl ExecutionPlan for ChainExec {
    fn name(&self) -> &str {
        "ChainExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        self.inputs.iter().collect()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(ChainExec::new(children, self.schema(), self.stop)))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("a chain has one partition, not partition {partition}");
        }
        // Each input starts once the one before it has ended.
        let stop = self.stop;
        let handed_on = BaselineMetrics::new(&self.metrics, partition);
        let batches = stream::iter(self.inputs.clone())
            .map(move |input| input.execute(0, context.clone()))
            .try_flatten()
            .map(move |batch| match stop() {
                true => Err(DataFusionError::External(Box::new(QueryError::Cancelled))),
                false => batch.inspect(|b| handed_on.record_output(b.num_rows())),
            });
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            batches,
        )))
    }
}
