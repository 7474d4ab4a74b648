//! `COPY ... FROM 'file'`: a file the server reads, for roles allowed to read server files.

use std::fs::File;
use std::io::{ErrorKind, Read};

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::stream::Source;
use crate::errors::report;

/// Bytes read from the file at a time.
const READ_SIZE: usize = 1 << 20;

pub struct FileSource {
    path: String,
    file: File,
}

impl FileSource {
    /// Opens `path` if the current role may read server files.
    pub fn open(path: &str) -> Self {
        // SAFETY: a role membership check in the catalogs.
        let allowed = unsafe {
            pg_sys::has_privs_of_role(
                pg_sys::GetUserId(),
                pg_sys::Oid::from(pg_sys::ROLE_PG_READ_SERVER_FILES),
            )
        };
        if !allowed {
            report(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                "permission denied to COPY from a file",
                Some("Only roles with privileges of the \"pg_read_server_files\" role may COPY from a file."),
                Some("Anyone can COPY from stdin. psql's \\copy command also works for anyone."),
            );
        }
        let file = File::open(path).unwrap_or_else(|e| file_error(path, "open", &e));
        FileSource {
            path: path.to_owned(),
            file,
        }
    }
}

impl Source for FileSource {
    fn read_into(&mut self, buffer: &mut Vec<u8>) -> bool {
        let start = buffer.len();
        buffer.resize(start + READ_SIZE, 0);
        let read = loop {
            match self.file.read(&mut buffer[start..]) {
                Ok(read) => break read,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => file_error(&self.path, "read", &e),
            }
        };
        buffer.truncate(start + read);
        read > 0
    }
}

fn file_error(path: &str, action: &str, error: &std::io::Error) -> ! {
    let code = match error.kind() {
        ErrorKind::NotFound => PgSqlErrorCode::ERRCODE_UNDEFINED_FILE,
        ErrorKind::PermissionDenied => PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
        _ => PgSqlErrorCode::ERRCODE_IO_ERROR,
    };
    report(
        code,
        &format!("could not {action} file \"{path}\" for reading: {}", os_message(error)),
        None,
        Some("COPY FROM makes the PostgreSQL server read a file. To send a file from the client, use psql's \\copy."),
    )
}

/// The system's message, as Postgres words it: without Rust's "(os error N)".
fn os_message(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}
