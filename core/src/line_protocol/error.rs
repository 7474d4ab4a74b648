use std::fmt;

/// The longest piece of an offending line that an error echoes back.
const ECHO_LIMIT: usize = 200;

/// Why one line of line protocol was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    MissingMeasurement,
    EndsWithBackslash,
    EmptyTagKey,
    MissingTagValue { key: String },
    EmptyTagValue { key: String },
    DuplicateTag { key: String },
    MissingFieldSet,
    EmptyFieldKey,
    MissingFieldValue { key: String },
    DuplicateField { key: String },
    InvalidInteger { value: String },
    IntegerOutOfRange { value: String },
    InvalidUnsigned { value: String },
    UnsignedOutOfRange { value: String },
    InvalidFloat { value: String },
    FloatOutOfRange { value: String },
    InvalidBoolean { value: String },
    UnterminatedString,
    InvalidTimestamp { value: String },
    TimestampOutOfRange { value: String },
    TrailingContent { content: String },
    UnexpectedCharacter { found: char, expected: &'static str },
    NulCharacter,
    NameTooLong { what: &'static str, length: usize },
    StringTooLong { key: String, length: usize },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ErrorKind::*;
        match self {
            MissingMeasurement => write!(f, "missing measurement name"),
            EndsWithBackslash => write!(
                f,
                "a measurement, tag key, tag value or field key may not end with a backslash"
            ),
            EmptyTagKey => write!(f, "empty tag key"),
            MissingTagValue { key } => write!(f, "tag \"{key}\" has no '=' and value"),
            EmptyTagValue { key } => write!(f, "tag \"{key}\" has an empty value"),
            DuplicateTag { key } => write!(f, "duplicate tag key \"{key}\""),
            MissingFieldSet => write!(f, "missing field set: a point needs at least one field"),
            EmptyFieldKey => write!(f, "empty field key"),
            MissingFieldValue { key } => write!(f, "field \"{key}\" has no value"),
            DuplicateField { key } => write!(f, "duplicate field key \"{key}\""),
            InvalidInteger { value } => write!(f, "invalid integer field value '{value}'"),
            IntegerOutOfRange { value } => {
                write!(f, "integer field value '{value}' is out of the range of a 64-bit signed integer")
            }
            InvalidUnsigned { value } => write!(f, "invalid unsigned integer field value '{value}'"),
            UnsignedOutOfRange { value } => write!(
                f,
                "unsigned field value '{value}' is out of the range of a 64-bit unsigned integer"
            ),
            InvalidFloat { value } => write!(f, "invalid field value '{value}'"),
            FloatOutOfRange { value } => {
                write!(f, "float field value '{value}' is out of the range of a 64-bit float")
            }
            InvalidBoolean { value } => write!(f, "invalid boolean field value '{value}'"),
            UnterminatedString => write!(f, "unterminated string field value"),
            InvalidTimestamp { value } => write!(f, "invalid timestamp '{value}'"),
            TimestampOutOfRange { value } => write!(
                f,
                "timestamp '{value}' is out of range at this precision (nanoseconds must fit in a 64-bit integer)"
            ),
            TrailingContent { content } => write!(f, "unexpected content after the point: '{content}'"),
            UnexpectedCharacter { found, expected } => {
                write!(f, "unexpected character {found:?}: expected {expected}")
            }
            NulCharacter => write!(f, "NUL characters are not allowed in line protocol"),
            NameTooLong { what, length } => write!(
                f,
                "{what} is {length} bytes long; the limit is {} bytes",
                super::MAX_NAME_LEN
            ),
            StringTooLong { key, length } => write!(
                f,
                "string value of field \"{key}\" is {length} bytes long; the limit is {} bytes",
                super::MAX_NAME_LEN
            ),
        }
    }
}

/// A rejected line: where it is, why, and (a bounded piece of) what it said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based number of the physical line the point starts on.
    pub line: usize,
    /// 1-based byte column within that line where the problem was found.
    pub column: usize,
    pub kind: ErrorKind,
    /// The offending line, cut to a readable length.
    pub text: String,
}

impl LineError {
    pub(crate) fn new(line: usize, column: usize, kind: ErrorKind, text: &str) -> Self {
        LineError {
            line,
            column,
            kind,
            text: echo(text),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )
    }
}

impl std::error::Error for LineError {}

impl LineError {
    /// The message without the line number, for reports that show the line separately.
    pub fn to_string_without_line(&self) -> String {
        format!("column {}: {}", self.column, self.kind)
    }
}

/// Cuts `text` to at most `ECHO_LIMIT` bytes on a character boundary, marking the cut.
pub fn echo(text: &str) -> String {
    if text.len() <= ECHO_LIMIT {
        return text.to_owned();
    }
    let mut end = ECHO_LIMIT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_on_a_char_boundary() {
        let text = "é".repeat(150);
        let e = LineError::new(1, 1, ErrorKind::MissingFieldSet, &text);
        assert!(e.text.len() <= ECHO_LIMIT + '…'.len_utf8());
        assert!(e.text.ends_with('…'));
        assert!(e.text.starts_with("éé"));
    }

    #[test]
    fn display_names_line_and_column() {
        let e = LineError::new(3, 17, ErrorKind::DuplicateTag { key: "host".into() }, "x");
        assert_eq!(
            e.to_string(),
            "line 3, column 17: duplicate tag key \"host\""
        );
    }
}
