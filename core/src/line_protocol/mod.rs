//! InfluxDB line protocol: `measurement[,tag=value...] field=value[,field=value...] [timestamp]`.

mod error;
mod field_value;
mod lines;
mod parser;
mod precision;
mod serialize;

pub use error::{echo, ErrorKind, LineError};
pub use field_value::{FieldType, FieldValue};
pub use lines::{end_of_copy_data, whole_lines_len};
pub use parser::{measurement_names, ParseOptions, Parser, Point};
pub use precision::{Precision, UnknownPrecision};

/// The longest name (measurement, tag key or value, field key) or string field value, in bytes.
pub const MAX_NAME_LEN: usize = 64 * 1024;

/// Parses `input`, yielding one result per line that is not blank or a comment.
pub fn parse(input: &str, options: ParseOptions) -> Parser<'_> {
    Parser::new(input, options)
}
