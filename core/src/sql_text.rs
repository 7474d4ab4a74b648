//! Quoting names and values into SQL text, for the statements the extension builds.

/// `name` as a quoted SQL identifier: `"` doubled inside double quotes.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `value` as a standard-conforming SQL string literal: `'` doubled inside single quotes.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_keep_case_and_escape_quotes() {
        assert_eq!(quote_identifier("Cpu"), "\"Cpu\"");
        assert_eq!(quote_identifier("a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_identifier("x; DROP"), "\"x; DROP\"");
    }

    #[test]
    fn literals_escape_single_quotes_only() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "'a\\b'");
    }
}
