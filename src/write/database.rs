//! The target database of a write: a schema that the caller may write into, or create.

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use tsparquet_core::schema::check_table_name;
use tsparquet_core::sql_text::quote_identifier;

use crate::catalog::select_one;
use crate::errors::report;

/// Rejects names that cannot be a tsparquet database.
pub fn check_name(database: &str) {
    if let Err(e) = check_table_name("database name", database) {
        report(
            PgSqlErrorCode::ERRCODE_NAME_TOO_LONG,
            &e.to_string(),
            None,
            None,
        );
    }
    if database == "tsparquet" || database == "information_schema" || database.starts_with("pg_") {
        report(
            PgSqlErrorCode::ERRCODE_RESERVED_NAME,
            &format!("\"{database}\" is reserved and cannot be a tsparquet database"),
            None,
            None,
        );
    }
}

/// Creates the schema if the caller may, or checks that the caller may write into it.
pub fn ensure(database: &str) {
    let exists = select_one::<bool>(
        c"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1)",
        &[database.into()],
    )
    .unwrap_or(false);
    let (allowed, why) = if exists {
        let allowed = select_one::<bool>(
            c"SELECT pg_catalog.has_schema_privilege($1, 'CREATE')",
            &[database.into()],
        );
        (
            allowed,
            format!("permission denied to write into database \"{database}\""),
        )
    } else {
        let allowed = select_one::<bool>(
            c"SELECT pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')",
            &[],
        );
        (
            allowed,
            format!("permission denied to create database \"{database}\""),
        )
    };
    if allowed != Some(true) {
        let hint = if exists {
            "Writing line protocol needs CREATE on the schema: GRANT CREATE ON SCHEMA to the writing role."
        } else {
            "Creating a database (a schema) needs CREATE on the current PostgreSQL database."
        };
        report(
            PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
            &why,
            None,
            Some(hint),
        );
    }
    if !exists {
        // As the caller, who then owns the schema.
        Spi::run(&format!("CREATE SCHEMA {}", quote_identifier(database))).expect("create schema");
    }
}
