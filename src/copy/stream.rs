//! Line protocol that arrives in pieces, parsed and stored a bounded chunk at a time.

use memchr::memchr_iter;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use tsparquet_core::line_protocol::{end_of_copy_data, whole_lines_len};

use crate::errors::report;
use crate::write::LineWriter;

/// Bytes of input parsed and stored together. Bounds what a COPY holds in memory (the
/// input, its batches and their Parquet files) whatever the size of the whole input.
const CHUNK_BYTES: usize = 16 << 20;

/// Where COPY reads from.
pub trait Source {
    /// Appends the next bytes to `buffer`; false once the input is exhausted.
    fn read_into(&mut self, buffer: &mut Vec<u8>) -> bool;
}

/// Writes all of `source` through `writer`, a chunk of whole lines at a time.
pub fn copy_lines(source: &mut dyn Source, writer: &mut LineWriter) {
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
    let mut next_line = 1;
    let mut more = true;
    while more || !buffer.is_empty() {
        while more && buffer.len() < CHUNK_BYTES {
            more = source.read_into(&mut buffer);
        }
        let mut end = if more {
            whole_lines_len(&buffer)
        } else {
            buffer.len()
        };
        let marker = end_of_copy_data(&buffer[..end]);
        if let Some(at) = marker {
            end = at;
        }
        if end == 0 && marker.is_none() {
            report(
                PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
                &format!(
                    "line {next_line} of line protocol is longer than {} MiB",
                    CHUNK_BYTES >> 20
                ),
                None,
                Some("A string field value whose closing quote is missing runs on to the end of the input."),
            );
        }
        let chunk = &buffer[..end];
        let text = std::str::from_utf8(chunk).unwrap_or_else(|e| {
            let line = next_line + memchr_iter(b'\n', &chunk[..e.valid_up_to()]).count();
            report(
                PgSqlErrorCode::ERRCODE_CHARACTER_NOT_IN_REPERTOIRE,
                "invalid byte sequence for encoding \"UTF8\"",
                Some(&format!("The byte is on line {line} of the input.")),
                None,
            )
        });
        writer.write(text, next_line);
        next_line += memchr_iter(b'\n', chunk).count();
        buffer.drain(..end);
        if marker.is_some() {
            // The client still ends the COPY with its own message: read up to it.
            buffer.clear();
            while source.read_into(&mut buffer) {
                buffer.clear();
            }
            return;
        }
        check_for_interrupts!();
    }
}
