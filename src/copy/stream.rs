//! Line protocol that arrives in pieces, parsed and stored a bounded chunk at a time.

use memchr::memchr_iter;
use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;
use tsparquet_core::line_protocol::{end_of_copy_data, whole_lines_len};

use crate::errors::report;
use crate::write::{LineWriter, CHUNK_BYTES};

/// Where COPY reads from.
pub trait Source {
    /// Appends the next bytes to `buffer`; false once the input is exhausted.
    fn read_into(&mut self, buffer: &mut Vec<u8>) -> bool;
}

/// Writes all of `source` through `writer`, a chunk of whole lines at a time. The next
/// chunk is read while one is parsed and encoded.
pub fn copy_lines(source: &mut dyn Source, writer: &mut LineWriter) {
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
    let mut spare: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
    let mut more = fill(source, &mut buffer);
    let mut next_line = 1;
    while more || !buffer.is_empty() {
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
        let mut next = std::mem::take(&mut spare);
        next.clear();
        if marker.is_none() {
            next.extend_from_slice(&buffer[end..]);
        }
        let read_on = more && marker.is_none();
        writer.write_beside(text, next_line, || {
            if read_on {
                more = fill(source, &mut next);
            }
        });
        next_line += memchr_iter(b'\n', chunk).count();
        if marker.is_some() {
            // The client still ends the COPY with its own message: read up to it.
            while source.read_into(&mut next) {
                next.clear();
            }
            return;
        }
        spare = std::mem::replace(&mut buffer, next);
        check_for_interrupts!();
    }
}

/// Reads until `buffer` holds a chunk; false once the input is exhausted.
fn fill(source: &mut dyn Source, buffer: &mut Vec<u8>) -> bool {
    while buffer.len() < CHUNK_BYTES {
        if !source.read_into(buffer) {
            return false;
        }
    }
    true
}
