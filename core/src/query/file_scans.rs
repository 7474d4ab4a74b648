//! Rewriting the scans of files in a physical plan after it is made.

use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::Result;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::source::DataSourceExec;
use datafusion::physical_plan::ExecutionPlan;

/// `plan` with each scan of files replaced by what `replace` makes of it (the scan's node
/// and its configuration), where it makes something.
pub(super) fn replace_file_scans(
    plan: Arc<dyn ExecutionPlan>,
    mut replace: impl FnMut(
        &Arc<dyn ExecutionPlan>,
        &FileScanConfig,
    ) -> Result<Option<Arc<dyn ExecutionPlan>>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    Ok(plan
        .transform_up(|node| {
            let replaced = match node
                .downcast_ref::<DataSourceExec>()
                .and_then(|exec| exec.data_source().downcast_ref::<FileScanConfig>())
            {
                Some(config) => replace(&node, config)?,
                None => None,
            };
            Ok(match replaced {
                Some(replaced) => Transformed::yes(replaced),
                None => Transformed::no(node),
            })
        })?
        .data)
}
