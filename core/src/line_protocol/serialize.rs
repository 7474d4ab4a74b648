//! Writes points back as line protocol, escaping each element so that parsing the output
//! gives the same point.

use std::fmt::{self, Write};

use super::field_value::FieldValue;
use super::parser::Point;

/// Writes a string field value: `"` and `\` escaped.
fn write_string(f: &mut impl Write, s: &str) -> fmt::Result {
    let mut rest = s;
    while let Some(p) = rest.find(['"', '\\']) {
        f.write_str(&rest[..p])?;
        f.write_char('\\')?;
        f.write_char(char::from(rest.as_bytes()[p]))?;
        rest = &rest[p + 1..];
    }
    f.write_str(rest)
}

/// Writes a name with a backslash before each delimiter in `escapable`. A backslash in the
/// name is doubled only where it would otherwise escape what follows it; before any other
/// character it reads back as written, as an unknown escape.
fn write_name(f: &mut impl Write, name: &str, escapable: &[u8]) -> fmt::Result {
    let is_escapable =
        |c: Option<char>| c.is_some_and(|c| c.is_ascii() && escapable.contains(&(c as u8)));
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let next = chars.peek().copied();
            f.write_str(if next.is_none() || is_escapable(next) {
                "\\\\"
            } else {
                "\\"
            })?;
        } else if is_escapable(Some(c)) {
            f.write_char('\\')?;
            f.write_char(c)?;
        } else {
            f.write_char(c)?;
        }
    }
    Ok(())
}

impl fmt::Display for FieldValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Rust prints the shortest decimal that reads back as the same f64.
            FieldValue::Float(v) => write!(f, "{v}"),
            FieldValue::Integer(v) => write!(f, "{v}i"),
            FieldValue::Unsigned(v) => write!(f, "{v}u"),
            FieldValue::Boolean(v) => write!(f, "{v}"),
            FieldValue::String(v) => {
                f.write_char('"')?;
                write_string(f, v)?;
                f.write_char('"')
            }
        }
    }
}

/// Line protocol for the point with a nanosecond timestamp. Names that line protocol
/// cannot carry (empty, ending in a backslash, holding a newline, NUL, or a tab not after a
/// backslash, or a measurement starting with `#`) do not survive the trip.
impl fmt::Display for Point<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_name(f, &self.measurement, b", \\")?;
        for (key, value) in &self.tags {
            f.write_char(',')?;
            write_name(f, key, b",= \\")?;
            f.write_char('=')?;
            write_name(f, value, b",= \\")?;
        }
        for (i, (key, value)) in self.fields.iter().enumerate() {
            f.write_char(if i == 0 { ' ' } else { ',' })?;
            write_name(f, key, b",= \\")?;
            write!(f, "={value}")?;
        }
        write!(f, " {}", self.time_ns)
    }
}
