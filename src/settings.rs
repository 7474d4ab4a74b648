//! The extension's settings (GUCs), registered when the library loads.

use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// `tsparquet.enable_copy_lineprotocol`: whether `COPY ... (FORMAT lineprotocol)` is taken
/// over by the extension. Off leaves every COPY to Postgres.
pub static ENABLE_COPY_LINEPROTOCOL: GucSetting<bool> = GucSetting::<bool>::new(true);

pub fn register() {
    GucRegistry::define_bool_guc(
        c"tsparquet.enable_copy_lineprotocol",
        c"Lets COPY <database> FROM ... WITH (FORMAT lineprotocol) write line protocol.",
        c"Off leaves all COPY statements to PostgreSQL.",
        &ENABLE_COPY_LINEPROTOCOL,
        GucContext::Userset,
        GucFlags::default(),
    );
    // SAFETY: called once while the library loads.
    unsafe { pgrx::pg_sys::MarkGUCPrefixReserved(c"tsparquet".as_ptr()) };
}
