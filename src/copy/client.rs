//! The COPY-in sub-protocol with the client: `CopyInResponse`, then `CopyData` messages
//! until `CopyDone` or `CopyFail`, as Postgres' own COPY FROM STDIN reads them.

use std::ffi::{c_char, c_int, CStr};

use pgrx::prelude::*;
use pgrx::PgSqlErrorCode;

use super::stream::Source;
use crate::errors::report;

/// The largest CopyData message Postgres itself accepts (`PQ_LARGE_MESSAGE_LIMIT`).
const LARGE_MESSAGE_LIMIT: c_int = 0x3fff_ffff - 1;
/// The largest control message (`PQ_SMALL_MESSAGE_LIMIT`).
const SMALL_MESSAGE_LIMIT: c_int = 10_000;

// Declarations of `libpq/libpq.h`, which the bindings leave out. Postgres raises errors
// with longjmp, never by unwinding, so these are called through `pg_guard_ffi_boundary`.
#[repr(C)]
struct CommMethods {
    comm_reset: unsafe extern "C" fn(),
    flush: unsafe extern "C" fn() -> c_int,
    flush_if_writable: unsafe extern "C" fn() -> c_int,
    is_send_pending: unsafe extern "C" fn() -> bool,
    putmessage: unsafe extern "C" fn(c_char, *const c_char, usize) -> c_int,
    putmessage_noblock: unsafe extern "C" fn(c_char, *const c_char, usize),
}

unsafe extern "C" {
    static PqCommMethods: *const CommMethods;
    fn pq_startmsgread();
    fn pq_getbyte() -> c_int;
    fn pq_getmessage(message: pg_sys::StringInfo, max_length: c_int) -> c_int;
}

/// Data sent by the client after `COPY ... FROM STDIN`.
pub struct ClientCopyIn {
    message: pg_sys::StringInfo,
    done: bool,
}

impl ClientCopyIn {
    /// Tells the client to start sending: one text column.
    pub fn begin() -> Self {
        // SAFETY: whereToSendOutput is the backend's own setting.
        if unsafe { pg_sys::whereToSendOutput } != pg_sys::CommandDest::DestRemote {
            report(
                PgSqlErrorCode::ERRCODE_FEATURE_NOT_SUPPORTED,
                "COPY FROM STDIN with FORMAT lineprotocol needs a client connection",
                None,
                None,
            );
        }
        // SAFETY: builds and sends a protocol message as Postgres' ReceiveCopyBegin does.
        unsafe {
            let response = pg_sys::makeStringInfo();
            pg_sys::pq_beginmessage(response, b'G' as c_char);
            pg_sys::pq_sendbyte(response, 0);
            pg_sys::pq_sendint16(response, 1);
            pg_sys::pq_sendint16(response, 0);
            pg_sys::pq_endmessage(response);
            guarded(|| ((*PqCommMethods).flush)());
        }
        ClientCopyIn {
            // SAFETY: an empty buffer in the statement's memory context.
            message: unsafe { pg_sys::makeStringInfo() },
            done: false,
        }
    }
}

impl Source for ClientCopyIn {
    fn read_into(&mut self, buffer: &mut Vec<u8>) -> bool {
        while !self.done {
            // SAFETY: reads one whole message, holding off cancels in between as Postgres
            // does, so that a cancel never leaves half a message unread.
            let kind = unsafe {
                pg_sys::QueryCancelHoldoffCount += 1;
                let kind = guarded(|| {
                    pq_startmsgread();
                    pq_getbyte()
                });
                let limit = match u8::try_from(kind) {
                    Ok(b'd') => LARGE_MESSAGE_LIMIT,
                    Ok(b'c' | b'f' | b'H' | b'S') => SMALL_MESSAGE_LIMIT,
                    Ok(_) => report(
                        PgSqlErrorCode::ERRCODE_PROTOCOL_VIOLATION,
                        &format!("unexpected message type 0x{kind:02X} during COPY from stdin"),
                        None,
                        None,
                    ),
                    Err(_) => lost_connection(),
                };
                if guarded(|| pq_getmessage(self.message, limit)) != 0 {
                    lost_connection();
                }
                pg_sys::QueryCancelHoldoffCount -= 1;
                kind as u8
            };
            match kind {
                b'd' => {
                    // SAFETY: the message body that pq_getmessage filled.
                    let body = unsafe {
                        std::slice::from_raw_parts(
                            (*self.message).data as *const u8,
                            (*self.message).len as usize,
                        )
                    };
                    buffer.extend_from_slice(body);
                    return true;
                }
                b'c' => self.done = true,
                b'f' => {
                    // SAFETY: a CopyFail body is one NUL-terminated string.
                    let why = unsafe { CStr::from_ptr((*self.message).data) }.to_string_lossy();
                    report(
                        PgSqlErrorCode::ERRCODE_QUERY_CANCELED,
                        &format!("COPY from stdin failed: {why}"),
                        None,
                        None,
                    );
                }
                // Flush and Sync may come from clients using the extended protocol.
                _ => {}
            }
        }
        false
    }
}

/// Runs a call into Postgres that may raise an ERROR, which then unwinds the Rust frames.
unsafe fn guarded<T>(call: impl FnOnce() -> T) -> T {
    // SAFETY: the caller's call into Postgres is sound on its own.
    unsafe { pg_sys::submodules::ffi::pg_guard_ffi_boundary(call) }
}

fn lost_connection() -> ! {
    report(
        PgSqlErrorCode::ERRCODE_CONNECTION_FAILURE,
        "unexpected EOF on client connection with an open transaction",
        None,
        None,
    )
}
