//! A measurement column dropped or renamed in PostgreSQL, applied to the rows of a stored
//! file. Queries, writes and merges all find a file's columns by name, so the files must
//! hold the table's columns under the table's names: data left under a dropped column's
//! name would come back when a column of that name is added again, and a renamed column
//! would read as NULL.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Field, Schema};

use crate::batch::DayBatch;
use crate::compact::{merge_files, ConflictingColumn};
use crate::schema::TableSchema;

/// What happened to a column of a measurement table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnChange {
    Dropped(String),
    Renamed { from: String, to: String },
}

impl ColumnChange {
    /// The name the column has in the files written before the change.
    pub fn stored_name(&self) -> &str {
        match self {
            ColumnChange::Dropped(name) => name,
            ColumnChange::Renamed { from, .. } => from,
        }
    }

    fn applied_to(&self, batch: &RecordBatch) -> RecordBatch {
        match self {
            ColumnChange::Dropped(name) => without(batch, name),
            // A column under the new name can only be the data of a dropped column that
            // files written before dropped columns were removed still hold.
            ColumnChange::Renamed { from, to } => renamed(&without(batch, to), from, to),
        }
    }
}

/// The rows of a file (its `batches`) after a statement's `changes`, as the table `schema`,
/// which the changes have already been made to, now has them: sorted again by its tags and
/// time, since a dropped tag leaves the rows of the series it told apart out of order.
pub fn apply(
    changes: &[ColumnChange],
    batches: &[RecordBatch],
    schema: &TableSchema,
) -> Result<DayBatch, ConflictingColumn> {
    let changed: Vec<RecordBatch> = batches
        .iter()
        .map(|batch| {
            changes
                .iter()
                .fold(batch.clone(), |batch, change| change.applied_to(&batch))
        })
        .collect();
    merge_files(&changed, schema)
}

fn without(batch: &RecordBatch, name: &str) -> RecordBatch {
    match batch.schema().index_of(name) {
        Ok(index) => {
            let mut batch = batch.clone();
            batch.remove_column(index);
            batch
        }
        Err(_) => batch.clone(),
    }
}

fn renamed(batch: &RecordBatch, from: &str, to: &str) -> RecordBatch {
    let fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|field| {
            let field = field.as_ref().clone();
            if field.name() == from {
                field.with_name(to)
            } else {
                field
            }
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), batch.columns().to_vec())
        .expect("a renamed field keeps its column's type")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Column;
    use crate::test_files::{lines_of, written_batch as write};
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, TimestampNanosecondType};

    fn without_column(schema: &TableSchema, name: &str) -> TableSchema {
        TableSchema::new(
            schema
                .columns()
                .iter()
                .filter(|c| c.name != name)
                .cloned()
                .collect(),
        )
    }

    fn renamed_column(schema: &TableSchema, from: &str, to: &str) -> TableSchema {
        TableSchema::new(
            schema
                .columns()
                .iter()
                .map(|c| Column {
                    name: if c.name == from {
                        to.into()
                    } else {
                        c.name.clone()
                    },
                    kind: c.kind,
                })
                .collect(),
        )
    }

    #[test]
    fn a_dropped_field_leaves_the_file_and_the_rows_stay() {
        let mut schema = TableSchema::default();
        let stored = write("m,host=a f=1,g=2i 1\nm,host=b f=3,g=4i 2", &mut schema);
        let table = without_column(&schema, "f");
        let changed = apply(
            &[ColumnChange::Dropped("f".into())],
            std::slice::from_ref(&stored),
            &table,
        )
        .unwrap();
        let mut expected = TableSchema::default();
        let written = write("m,host=a g=2i 1\nm,host=b g=4i 2", &mut expected);
        assert_eq!(changed.batch.schema(), written.schema());
        assert_eq!(lines_of(&changed.batch), lines_of(&written));
        assert_eq!((changed.min_time_ns, changed.max_time_ns), (1, 2));
    }

    #[test]
    fn a_dropped_tag_leaves_the_rows_sorted_by_the_remaining_tags_and_time() {
        let mut schema = TableSchema::default();
        let stored = write(
            "m,dc=x,host=b f=1 1\nm,dc=y,host=a f=2 2\nm,dc=x,host=a f=3 3\nm,dc=y,host=b f=4 4",
            &mut schema,
        );
        let table = without_column(&schema, "dc");
        let changed = apply(
            &[ColumnChange::Dropped("dc".into())],
            std::slice::from_ref(&stored),
            &table,
        )
        .unwrap();
        let mut expected = TableSchema::default();
        let written = write(
            "m,host=b f=1 1\nm,host=a f=2 2\nm,host=a f=3 3\nm,host=b f=4 4",
            &mut expected,
        );
        assert_eq!(changed.batch.schema(), written.schema());
        assert_eq!(lines_of(&changed.batch), lines_of(&written));
        let hosts = arrow::compute::cast(changed.batch.column(0), &DataType::Utf8).unwrap();
        let times = changed
            .batch
            .column(1)
            .as_primitive::<TimestampNanosecondType>();
        let rows: Vec<(&str, i64)> = (0..4)
            .map(|r| (hosts.as_string::<i32>().value(r), times.value(r)))
            .collect();
        assert_eq!(rows, [("a", 2), ("a", 3), ("b", 1), ("b", 4)]);
    }

    #[test]
    fn the_drops_of_one_statement_are_applied_together() {
        let mut schema = TableSchema::default();
        let stored = write(
            "m,dc=x,host=b f=1,g=2i 1\nm,dc=y,host=a f=3,g=4i 2",
            &mut schema,
        );
        let table = without_column(&without_column(&schema, "dc"), "f");
        let drops = [
            ColumnChange::Dropped("dc".into()),
            ColumnChange::Dropped("f".into()),
        ];
        let changed = apply(&drops, std::slice::from_ref(&stored), &table).unwrap();
        let mut expected = TableSchema::default();
        let written = write("m,host=b g=2i 1\nm,host=a g=4i 2", &mut expected);
        assert_eq!(changed.batch.schema(), written.schema());
        assert_eq!(lines_of(&changed.batch), lines_of(&written));
    }

    #[test]
    fn a_renamed_column_keeps_its_values_role_and_place() {
        let mut schema = TableSchema::default();
        let stored = write("m,host=a f=1,g=2i 1\nm,host=b f=3 2", &mut schema);
        let table = renamed_column(&schema, "host", "node");
        let rename = ColumnChange::Renamed {
            from: "host".into(),
            to: "node".into(),
        };
        let changed = apply(&[rename], std::slice::from_ref(&stored), &table).unwrap();
        let mut expected = TableSchema::default();
        let written = write("m,node=a f=1,g=2i 1\nm,node=b f=3 2", &mut expected);
        assert_eq!(changed.batch.schema(), written.schema());
        assert_eq!(lines_of(&changed.batch), lines_of(&written));
    }

    #[test]
    fn a_column_renamed_over_data_left_by_a_dropped_column_replaces_it() {
        let mut schema = TableSchema::default();
        let stored = write("m,host=a f=1,old=5 1", &mut schema);
        let table = renamed_column(&without_column(&schema, "old"), "f", "old");
        let rename = ColumnChange::Renamed {
            from: "f".into(),
            to: "old".into(),
        };
        let changed = apply(&[rename], std::slice::from_ref(&stored), &table).unwrap();
        let mut expected = TableSchema::default();
        let written = write("m,host=a old=1 1", &mut expected);
        assert_eq!(lines_of(&changed.batch), lines_of(&written));
    }
}
