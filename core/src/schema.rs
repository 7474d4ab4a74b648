//! Schema on write: how the tags and fields of points become the columns of a measurement
//! table, and which points a table cannot take.

use std::fmt;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::line_protocol::{FieldType, Point};
use crate::short_eq::same_name;

/// PostgreSQL's longest identifier, in bytes (NAMEDATALEN - 1).
pub const MAX_IDENTIFIER_LEN: usize = 63;
/// PostgreSQL's most columns in a table.
pub const MAX_COLUMNS: usize = 1600;
/// The columns every measurement table has besides its tags and fields.
pub const TIME_COLUMN: &str = "time";
pub const TIME_NS_COLUMN: &str = "time_ns";
const BUILT_IN_COLUMNS: usize = 2;

/// Whether a column holds a tag or a field, and a field's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ColumnKind {
    Tag,
    Field(FieldType),
}

impl ColumnKind {
    /// The name of the role, as shown in catalogs and column comments.
    pub fn role(self) -> &'static str {
        match self {
            ColumnKind::Tag => "tag",
            ColumnKind::Field(_) => "field",
        }
    }

    /// The column's type for DDL, qualified so that no `search_path` can change it.
    pub fn qualified_sql_type(self) -> &'static str {
        match self {
            ColumnKind::Tag | ColumnKind::Field(FieldType::String) => "pg_catalog.text",
            ColumnKind::Field(FieldType::Float) => "pg_catalog.float8",
            ColumnKind::Field(FieldType::Integer) => "pg_catalog.int8",
            ColumnKind::Field(FieldType::Unsigned) => "pg_catalog.numeric(20,0)",
            ColumnKind::Field(FieldType::Boolean) => "pg_catalog.bool",
        }
    }

    /// The kind of a stored column from its role option and `format_type` name.
    pub fn from_catalog(role: &str, sql_type: &str) -> Option<ColumnKind> {
        match (role, sql_type) {
            ("tag", "text") => Some(ColumnKind::Tag),
            ("field", "double precision") => Some(ColumnKind::Field(FieldType::Float)),
            ("field", "bigint") => Some(ColumnKind::Field(FieldType::Integer)),
            ("field", "numeric(20,0)") => Some(ColumnKind::Field(FieldType::Unsigned)),
            ("field", "text") => Some(ColumnKind::Field(FieldType::String)),
            ("field", "boolean") => Some(ColumnKind::Field(FieldType::Boolean)),
            _ => None,
        }
    }

    /// The PostgreSQL type of the column.
    pub fn sql_type(self) -> &'static str {
        match self {
            ColumnKind::Tag | ColumnKind::Field(FieldType::String) => "text",
            ColumnKind::Field(FieldType::Float) => "double precision",
            ColumnKind::Field(FieldType::Integer) => "bigint",
            ColumnKind::Field(FieldType::Unsigned) => "numeric(20,0)",
            ColumnKind::Field(FieldType::Boolean) => "boolean",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

/// Why a point cannot be written to its table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemaError {
    NameTooLong {
        what: &'static str,
        name: String,
    },
    ReservedName {
        name: String,
    },
    TypeConflict {
        column: String,
        existing: ColumnKind,
        found: FieldType,
    },
    TagIsField {
        column: String,
    },
    FieldIsTag {
        column: String,
    },
    TooManyColumns {
        needed: usize,
    },
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaError::NameTooLong { what, name } => write!(
                f,
                "{what} \"{name}\" is {} bytes long; PostgreSQL names are limited to {MAX_IDENTIFIER_LEN} bytes",
                name.len()
            ),
            SchemaError::ReservedName { name } => write!(
                f,
                "\"{name}\" cannot be a tag or field name: every measurement has a column \"{name}\""
            ),
            SchemaError::TypeConflict { column, existing, found } => write!(
                f,
                "field type conflict: column {column} is {}, line has {found}",
                existing.sql_type()
            ),
            SchemaError::TagIsField { column } => {
                write!(f, "\"{column}\" is a field of this measurement and cannot be written as a tag")
            }
            SchemaError::FieldIsTag { column } => {
                write!(f, "\"{column}\" is a tag of this measurement and cannot be written as a field")
            }
            SchemaError::TooManyColumns { needed } => write!(
                f,
                "the measurement would need {needed} columns; PostgreSQL allows {MAX_COLUMNS}"
            ),
        }
    }
}

impl std::error::Error for SchemaError {}

/// Checks a measurement or database name.
pub fn check_table_name(what: &'static str, name: &str) -> Result<(), SchemaError> {
    if name.len() > MAX_IDENTIFIER_LEN {
        return Err(SchemaError::NameTooLong {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

fn check_column_name(what: &'static str, name: &str) -> Result<(), SchemaError> {
    check_table_name(what, name)?;
    if name == TIME_COLUMN || name == TIME_NS_COLUMN {
        return Err(SchemaError::ReservedName {
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The tag and field columns of a measurement table, in table order.
#[derive(Debug, Clone, Default)]
pub struct TableSchema {
    columns: Vec<Column>,
    positions: FxHashMap<String, usize>,
    /// The tag keys, then the field keys and types, of the last point admitted: points of
    /// a measurement mostly look alike, and one like it needs no lookups.
    last_admitted: Vec<(Box<str>, Option<FieldType>)>,
}

impl PartialEq for TableSchema {
    fn eq(&self, other: &Self) -> bool {
        self.columns == other.columns
    }
}

impl TableSchema {
    pub fn new(columns: Vec<Column>) -> Self {
        let positions = columns
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        TableSchema {
            columns,
            positions,
            last_admitted: Vec::new(),
        }
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn get(&self, name: &str) -> Option<&Column> {
        self.positions.get(name).map(|&i| &self.columns[i])
    }

    pub fn tags(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|c| c.kind == ColumnKind::Tag)
    }

    /// Admits a point: checks it against the columns, and adds the columns it brings.
    /// A point that cannot be admitted leaves the schema as it was.
    pub fn admit(&mut self, point: &Point<'_>) -> Result<(), SchemaError> {
        if self.like_last_admitted(point) {
            return Ok(());
        }
        let before = self.columns.len();
        let result = self.admit_columns(point);
        if result.is_err() {
            for column in self.columns.drain(before..) {
                self.positions.remove(&column.name);
            }
        } else {
            self.last_admitted.clear();
            self.last_admitted
                .extend(point.tags.iter().map(|(k, _)| (k.as_ref().into(), None)));
            self.last_admitted.extend(
                point
                    .fields
                    .iter()
                    .map(|(k, v)| (k.as_ref().into(), Some(v.field_type()))),
            );
        }
        result
    }

    /// Whether the point has the keys, in the same order, and field types of the last
    /// point admitted. Columns never change once added, so such a point fits as well.
    fn like_last_admitted(&self, point: &Point<'_>) -> bool {
        let (tags, fields) = self
            .last_admitted
            .split_at(point.tags.len().min(self.last_admitted.len()));
        tags.len() == point.tags.len()
            && fields.len() == point.fields.len()
            && !self.last_admitted.is_empty()
            && tags
                .iter()
                .zip(&point.tags)
                .all(|((key, kind), (k, _))| kind.is_none() && same_name(key, k))
            && fields
                .iter()
                .zip(&point.fields)
                .all(|((key, kind), (k, v))| *kind == Some(v.field_type()) && same_name(key, k))
    }

    /// Adds the columns of `later`, a schema grown from the same table, that this one lacks.
    /// False, and nothing added, if a column has another kind here, or if the table would
    /// have too many columns: then the points behind `later` must be admitted again.
    pub fn extend_with(&mut self, later: &TableSchema) -> bool {
        let added: Vec<&Column> = later
            .columns
            .iter()
            .filter(|c| self.get(&c.name).is_none())
            .collect();
        let agree = later
            .columns
            .iter()
            .all(|c| self.get(&c.name).is_none_or(|mine| mine.kind == c.kind));
        if !agree || self.columns.len() + added.len() + BUILT_IN_COLUMNS > MAX_COLUMNS {
            return false;
        }
        for column in added {
            self.push(&column.name, column.kind);
        }
        true
    }

    fn admit_columns(&mut self, point: &Point<'_>) -> Result<(), SchemaError> {
        for (key, _) in &point.tags {
            match self.get(key) {
                Some(Column {
                    kind: ColumnKind::Tag,
                    ..
                }) => {}
                Some(_) => {
                    return Err(SchemaError::TagIsField {
                        column: key.to_string(),
                    })
                }
                None => {
                    check_column_name("tag key", key)?;
                    self.push(key, ColumnKind::Tag);
                }
            }
        }
        for (key, value) in &point.fields {
            let found = value.field_type();
            match self.get(key).map(|c| c.kind) {
                Some(ColumnKind::Field(existing)) if existing == found => {}
                Some(ColumnKind::Field(existing)) => {
                    return Err(SchemaError::TypeConflict {
                        column: key.to_string(),
                        existing: ColumnKind::Field(existing),
                        found,
                    })
                }
                Some(ColumnKind::Tag) => {
                    return Err(SchemaError::FieldIsTag {
                        column: key.to_string(),
                    })
                }
                None => {
                    check_column_name("field key", key)?;
                    self.push(key, ColumnKind::Field(found));
                }
            }
        }
        let needed = self.columns.len() + BUILT_IN_COLUMNS;
        if needed > MAX_COLUMNS {
            return Err(SchemaError::TooManyColumns { needed });
        }
        Ok(())
    }

    fn push(&mut self, name: &str, kind: ColumnKind) {
        self.positions.insert(name.to_owned(), self.columns.len());
        self.columns.push(Column {
            name: name.to_owned(),
            kind,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line_protocol::{parse, ParseOptions, Precision};

    fn admit(schema: &mut TableSchema, line: &str) -> Result<(), SchemaError> {
        let options = ParseOptions {
            precision: Precision::Nanoseconds,
            now_ns: 0,
        };
        let point = parse(line, options).next().unwrap().unwrap();
        schema.admit(&point)
    }

    fn names(schema: &TableSchema) -> Vec<(&str, &str)> {
        schema
            .columns()
            .iter()
            .map(|c| (c.name.as_str(), c.kind.sql_type()))
            .collect()
    }

    #[test]
    fn a_point_like_the_last_is_still_checked_for_types() {
        let mut schema = TableSchema::default();
        admit(&mut schema, "m,h=a f=1,g=1i 1").unwrap();
        admit(&mut schema, "m,h=b f=2,g=2i 2").unwrap();
        assert!(matches!(
            admit(&mut schema, "m,h=c f=3i,g=3i 3"),
            Err(SchemaError::TypeConflict { .. })
        ));
        assert!(matches!(
            admit(&mut schema, "m,f=x f=3,g=3i 3"),
            Err(SchemaError::FieldIsTag { .. }) | Err(SchemaError::TagIsField { .. })
        ));
        admit(&mut schema, "m,h=d f=4,g=4i 4").unwrap();
        assert_eq!(
            names(&schema),
            vec![("h", "text"), ("f", "double precision"), ("g", "bigint")]
        );
    }

    #[test]
    fn columns_come_in_order_of_arrival() {
        let mut schema = TableSchema::default();
        admit(&mut schema, "cpu,host=a,dc=x usage=1.5,n=3i 1").unwrap();
        admit(
            &mut schema,
            "cpu,host=b,rack=7 usage=2,on=true,u=1u,s=\"x\" 2",
        )
        .unwrap();
        assert_eq!(
            names(&schema),
            vec![
                ("host", "text"),
                ("dc", "text"),
                ("usage", "double precision"),
                ("n", "bigint"),
                ("rack", "text"),
                ("on", "boolean"),
                ("u", "numeric(20,0)"),
                ("s", "text"),
            ]
        );
        assert_eq!(schema.tags().count(), 3);
    }

    #[test]
    fn type_conflict_is_rejected_and_changes_nothing() {
        let mut schema = TableSchema::default();
        admit(&mut schema, "cpu usage=1i 1").unwrap();
        let before = schema.clone();
        let e = admit(&mut schema, "cpu,newtag=x usage=1.5,newfield=1 2").unwrap_err();
        assert_eq!(
            e.to_string(),
            "field type conflict: column usage is bigint, line has float"
        );
        assert_eq!(schema, before);
    }

    #[test]
    fn a_name_cannot_be_both_tag_and_field() {
        let mut schema = TableSchema::default();
        admit(&mut schema, "m,host=a f=1 1").unwrap();
        assert_eq!(
            admit(&mut schema, "m host=1 2"),
            Err(SchemaError::FieldIsTag {
                column: "host".into()
            })
        );
        assert_eq!(
            admit(&mut schema, "m,f=x g=1 2"),
            Err(SchemaError::TagIsField { column: "f".into() })
        );
        let mut fresh = TableSchema::default();
        assert_eq!(
            admit(&mut fresh, "m,a=x a=1 2"),
            Err(SchemaError::FieldIsTag { column: "a".into() })
        );
        assert!(fresh.columns().is_empty());
    }

    #[test]
    fn reserved_and_long_names() {
        let mut schema = TableSchema::default();
        assert_eq!(
            admit(&mut schema, "m time=1 1"),
            Err(SchemaError::ReservedName {
                name: "time".into()
            })
        );
        assert_eq!(
            admit(&mut schema, "m,time_ns=1 f=1 1"),
            Err(SchemaError::ReservedName {
                name: "time_ns".into()
            })
        );
        let long = "x".repeat(64);
        assert!(matches!(
            admit(&mut schema, &format!("m {long}=1 1")),
            Err(SchemaError::NameTooLong {
                what: "field key",
                ..
            })
        ));
        assert!(admit(&mut schema, &format!("m {}=1 1", "x".repeat(63))).is_ok());
        assert!(
            check_table_name("measurement", &"é".repeat(32)).is_err(),
            "bytes, not characters"
        );
    }

    #[test]
    fn catalog_types_round_trip() {
        let kinds = [
            ColumnKind::Tag,
            ColumnKind::Field(FieldType::Float),
            ColumnKind::Field(FieldType::Integer),
            ColumnKind::Field(FieldType::Unsigned),
            ColumnKind::Field(FieldType::String),
            ColumnKind::Field(FieldType::Boolean),
        ];
        for kind in kinds {
            assert_eq!(
                ColumnKind::from_catalog(kind.role(), kind.sql_type()),
                Some(kind)
            );
        }
        assert_eq!(ColumnKind::from_catalog("tag", "bigint"), None);
    }

    #[test]
    fn at_most_1600_columns() {
        let mut schema = TableSchema::default();
        let fields: Vec<String> = (0..1598).map(|i| format!("f{i}=1")).collect();
        admit(&mut schema, &format!("m {} 1", fields.join(","))).unwrap();
        assert_eq!(
            admit(&mut schema, "m extra=1 2"),
            Err(SchemaError::TooManyColumns { needed: 1601 })
        );
        assert_eq!(schema.columns().len(), 1598);
    }
}
