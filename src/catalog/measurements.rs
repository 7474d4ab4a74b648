//! Measurement tables: foreign tables of the `tsparquet` server, one per measurement, with
//! `time`, `time_ns` and a column per tag and field. Each column's role is an FDW option
//! (`role 'tag'`) and its comment; each table's `table_id` option keys its files.

use pgrx::prelude::*;
use tsparquet_core::ingest::Existing;
use tsparquet_core::schema::{Column, ColumnKind, TableSchema, TIME_COLUMN, TIME_NS_COLUMN};
use tsparquet_core::sql_text::{quote_identifier, quote_literal};

use super::{as_extension_owner, select_one, statements};

/// The `table_id` option of a measurement table's options, if it is one.
pub fn table_id_option(options: &[String]) -> Option<i64> {
    options
        .iter()
        .find_map(|o| o.strip_prefix("table_id=")?.parse().ok())
}

/// The OID of the table `database.measurement`, which exists.
pub fn oid(database: &str, measurement: &str) -> pg_sys::Oid {
    let (database, measurement) = (
        std::ffi::CString::new(database).expect("names have no NUL"),
        std::ffi::CString::new(measurement).expect("names have no NUL"),
    );
    // SAFETY: catalog lookups by name; a missing schema raises the usual error.
    unsafe {
        let schema = pg_sys::get_namespace_oid(database.as_ptr(), false);
        pg_sys::get_relname_relid(measurement.as_ptr(), schema)
    }
}

/// What `database.measurement` is.
pub fn find(database: &str, measurement: &str) -> Existing {
    let found = statements::query(
        c"SELECT c.oid, s.srvname::text, ft.ftoptions
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          LEFT JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid
          LEFT JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
          WHERE n.nspname = $1 AND c.relname = $2",
        &[database.into(), measurement.into()],
        |row| {
            let oid: pg_sys::Oid = row.get(1).expect("oid");
            let server: Option<String> = row.get(2);
            let options: Option<Vec<String>> = row.get(3);
            (oid, server, options.unwrap_or_default())
        },
    )
    .into_iter()
    .next();
    let Some((oid, server, options)) = found else {
        return Existing::Missing;
    };
    let name = format!("{database}.{measurement}");
    let table_id = table_id_option(&options);
    match (server.as_deref(), table_id) {
        (Some("tsparquet"), Some(table_id)) => match columns(oid) {
            Ok(schema) => Existing::Table { schema, table_id },
            Err(reason) => Existing::Unusable(format!("{name} cannot take points: {reason}")),
        },
        _ => Existing::Unusable(format!(
            "\"{name}\" exists and is not a tsparquet measurement table"
        )),
    }
}

fn columns(table: pg_sys::Oid) -> Result<TableSchema, String> {
    let rows: Vec<(String, String, Vec<String>)> = statements::query(
        c"SELECT attname::text, pg_catalog.format_type(atttypid, atttypmod), attfdwoptions
          FROM pg_catalog.pg_attribute
          WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped
          ORDER BY attnum",
        &[table.into()],
        |row| {
            let options: Option<Vec<String>> = row.get(3);
            (
                row.get(1).expect("attname"),
                row.get(2).expect("type"),
                options.unwrap_or_default(),
            )
        },
    );
    let mut columns = Vec::new();
    for (name, sql_type, options) in rows {
        let role = options
            .iter()
            .find_map(|o| o.strip_prefix("role="))
            .unwrap_or("");
        let time_type = match name.as_str() {
            TIME_COLUMN => Some(("time", "timestamp with time zone")),
            TIME_NS_COLUMN => Some(("time_ns", "bigint")),
            _ => None,
        };
        if let Some(expected) = time_type {
            if (role, sql_type.as_str()) != expected {
                return Err(format!(
                    "column \"{name}\" ({sql_type}) is not the measurement's time column"
                ));
            }
            continue;
        }
        let kind = ColumnKind::from_catalog(role, &sql_type).ok_or_else(|| {
            format!("column \"{name}\" ({sql_type}) is not a tag or field column")
        })?;
        columns.push(Column { name, kind });
    }
    Ok(TableSchema::new(columns))
}

fn column_definition(column: &Column) -> String {
    format!(
        "{} {} OPTIONS (role {})",
        quote_identifier(&column.name),
        column.kind.qualified_sql_type(),
        quote_literal(column.kind.role())
    )
}

fn comment_statements(table: &str, columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| {
            format!(
                "COMMENT ON COLUMN {table}.{} IS {};",
                quote_identifier(&c.name),
                quote_literal(c.kind.role())
            )
        })
        .collect()
}

/// Creates the measurement table, owned by the schema's owner, and returns its `table_id`.
/// The caller's right to create in the schema must be checked first.
pub fn create(database: &str, measurement: &str, schema: &TableSchema) -> i64 {
    let table = format!(
        "{}.{}",
        quote_identifier(database),
        quote_identifier(measurement)
    );
    as_extension_owner(|| {
        let table_id: i64 = Spi::get_one("SELECT nextval('tsparquet.table_ids')")
            .expect("allocate a table id")
            .expect("nextval is not null");
        let owner: String = select_one(
            c"SELECT nspowner::pg_catalog.regrole::text FROM pg_catalog.pg_namespace WHERE nspname = $1",
            &[database.into()],
        )
        .expect("the schema exists");
        let mut definitions = vec![
            format!("{TIME_COLUMN} pg_catalog.timestamptz OPTIONS (role 'time') NOT NULL"),
            format!("{TIME_NS_COLUMN} pg_catalog.int8 OPTIONS (role 'time_ns') NOT NULL"),
        ];
        definitions.extend(schema.columns().iter().map(column_definition));
        let sql = format!(
            "CREATE FOREIGN TABLE {table} ({}) SERVER tsparquet OPTIONS (table_id '{table_id}');
             ALTER FOREIGN TABLE {table} OWNER TO {owner};
             COMMENT ON COLUMN {table}.{TIME_COLUMN} IS 'time (microsecond precision)';
             COMMENT ON COLUMN {table}.{TIME_NS_COLUMN} IS 'time in nanoseconds since 1970-01-01 UTC';
             {}",
            definitions.join(", "),
            comment_statements(&table, schema.columns()),
        );
        Spi::run(&sql).expect("create the measurement table");
        table_id
    })
}

/// Adds columns to a measurement table.
pub fn add_columns(database: &str, measurement: &str, columns: &[Column]) {
    if columns.is_empty() {
        return;
    }
    let table = format!(
        "{}.{}",
        quote_identifier(database),
        quote_identifier(measurement)
    );
    let additions: Vec<String> = columns
        .iter()
        .map(|c| format!("ADD COLUMN {}", column_definition(c)))
        .collect();
    let sql = format!(
        "ALTER FOREIGN TABLE {table} {}; {}",
        additions.join(", "),
        comment_statements(&table, columns)
    );
    as_extension_owner(|| Spi::run(&sql).expect("add columns to the measurement table"));
}

/// The columns of foreign tables that the statement running a `sql_drop` event trigger
/// dropped: each table with the names of its dropped columns.
pub fn dropped_columns() -> Vec<(pg_sys::Oid, Vec<String>)> {
    statements::query(
        c"SELECT objid, pg_catalog.array_agg(address_names[3])
          FROM pg_catalog.pg_event_trigger_dropped_objects()
          WHERE object_type = 'foreign table column'
          GROUP BY objid",
        &[],
        |row| {
            (
                row.get::<pg_sys::Oid>(1).expect("objid"),
                row.get::<Vec<String>>(2)
                    .expect("a column's address has its name"),
            )
        },
    )
}

/// `table` and the tables that inherit from it, at any depth.
pub fn with_inheritors(table: pg_sys::Oid) -> Vec<pg_sys::Oid> {
    statements::query(
        c"WITH RECURSIVE tables(oid) AS (
              SELECT $1::pg_catalog.oid
              UNION
              SELECT i.inhrelid FROM pg_catalog.pg_inherits i JOIN tables t ON i.inhparent = t.oid)
          SELECT oid FROM tables",
        &[table.into()],
        |row| row.get::<pg_sys::Oid>(1).expect("oid"),
    )
}

/// The schema and name of `table`, if it is a foreign table of the `tsparquet` server.
pub fn measurement_names(table: pg_sys::Oid) -> Option<(String, String)> {
    first_table_names(
        c"SELECT n.nspname::text, c.relname::text
          FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid
          JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
          WHERE c.oid = $1 AND s.srvname = 'tsparquet'",
        &[table.into()],
    )
}

/// The schema and name of the foreign table of the `tsparquet` server with `table_id`.
pub fn holding_table_id(table_id: i64) -> Option<(String, String)> {
    first_table_names(
        c"SELECT n.nspname::text, c.relname::text
          FROM pg_catalog.pg_foreign_table ft
          JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
          JOIN pg_catalog.pg_class c ON c.oid = ft.ftrelid
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
          WHERE s.srvname = 'tsparquet'
            AND pg_catalog.concat('table_id=', $1) = ANY (ft.ftoptions)",
        &[table_id.into()],
    )
}

/// The (schema, name) of the first row of a query for a table's schema and name.
fn first_table_names(
    sql: &'static std::ffi::CStr,
    args: &[pgrx::datum::DatumWithOid<'_>],
) -> Option<(String, String)> {
    statements::query(sql, args, |row| {
        (
            row.get::<String>(1).expect("nspname"),
            row.get::<String>(2).expect("relname"),
        )
    })
    .into_iter()
    .next()
}
