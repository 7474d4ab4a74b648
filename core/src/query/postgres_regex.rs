//! Postgres' regular expressions (`~`, `!~`) as the engine's: a pattern is rewritten in
//! the syntax of the `regex` crate, which DataFusion matches with, when it keeps to the
//! part of Postgres' syntax (advanced regular expressions) that both read alike.
//!
//! Whether a value matches at all does not depend on which of its matches a syntax
//! prefers (Postgres the longest, `regex` the first), so the two agree wherever a pattern
//! describes the same strings in both. That holds for literal characters, `.`, anchors,
//! groups, alternatives, quantifiers (greedy or not) and brackets of literal characters
//! and ASCII ranges. Left out, for Postgres alone: what depends on the collation (classes
//! such as `[[:alpha:]]` and `\w`, case-insensitive matching), escapes written with
//! letters or digits (back references, `\m`, `\y`), embedded options, and anything it
//! would refuse, whose error it then raises itself.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::compute::take;
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use regex::Regex;

use super::columnar::map_values;
use super::QueryError;

/// The `regex` crate's spelling of Postgres' `pattern`, None when the pattern is outside
/// the syntax both read alike (or too large for the crate).
pub fn to_rust_regex(pattern: &str) -> Option<String> {
    let mut parser = Parser {
        rest: pattern.chars().collect(),
        at: 0,
        // Postgres' `.` and negated brackets match a newline: not newline-sensitive.
        out: String::from("(?s)"),
    };
    parser.alternatives()?;
    if parser.at != parser.rest.len() {
        return None;
    }
    Regex::new(&parser.out).ok()?;
    Some(parser.out)
}

/// Whether `value` matches `regex` (in the crate's syntax, see [`to_rust_regex`]).
pub fn regex_match(value: DfExpr, regex: &str) -> Result<DfExpr, QueryError> {
    let regex = Regex::new(regex)
        .map_err(|e| QueryError::Engine(format!("regular expression {regex}: {e}")))?;
    let matching = RegexMatch {
        regex,
        signature: Signature::any(1, Volatility::Immutable),
    };
    Ok(ScalarUDF::from(matching).call(vec![value]))
}

/// Matching with an expression compiled once per query. A tag's dictionary has its
/// values matched once each, where DataFusion's own operator would write out each row's
/// text first.
#[derive(Debug)]
struct RegexMatch {
    regex: Regex,
    signature: Signature,
}

impl PartialEq for RegexMatch {
    fn eq(&self, other: &Self) -> bool {
        self.regex.as_str() == other.regex.as_str()
    }
}

impl Eq for RegexMatch {}

impl Hash for RegexMatch {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.regex.as_str().hash(state);
    }
}

impl ScalarUDFImpl for RegexMatch {
    fn name(&self) -> &str {
        "regex_match"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match args.args.as_slice() {
            [value] => map_values(value, |texts| matches(&self.regex, texts)),
            _ => exec_err!("regex_match takes one argument"),
        }
    }
}

fn matches(regex: &Regex, texts: &ArrayRef) -> Result<ArrayRef> {
    if let Some(dictionary) = texts.as_any_dictionary_opt() {
        let values = matches(regex, dictionary.values())?;
        return Ok(take(&values, dictionary.keys(), None)?);
    }
    let is_match = |text: Option<&str>| text.map(|text| regex.is_match(text));
    let matched: BooleanArray = match texts.data_type() {
        DataType::Utf8 => texts.as_string::<i32>().iter().map(is_match).collect(),
        DataType::LargeUtf8 => texts.as_string::<i64>().iter().map(is_match).collect(),
        DataType::Utf8View => texts.as_string_view().iter().map(is_match).collect(),
        DataType::Null => BooleanArray::new_null(texts.len()),
        other => return exec_err!("regex_match of {other}"),
    };
    Ok(Arc::new(matched))
}

/// Postgres' largest repetition count (`RE_DUP_MAX`).
const MAX_REPEAT: u32 = 255;

struct Parser {
    rest: Vec<char>,
    at: usize,
    out: String,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.rest.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        let found = self.peek() == Some(c);
        if found {
            self.at += 1;
        }
        found
    }

    fn literal(&mut self, c: char) {
        self.out
            .push_str(&regex::escape(c.encode_utf8(&mut [0; 4])));
    }

    /// Branches separated by `|`, none of them empty.
    fn alternatives(&mut self) -> Option<()> {
        self.branch()?;
        while self.eat('|') {
            self.out.push('|');
            self.branch()?;
        }
        Some(())
    }

    /// One or more anchors and quantified atoms.
    fn branch(&mut self) -> Option<()> {
        let mut pieces = 0;
        while let Some(c) = self.peek() {
            match c {
                '|' | ')' => break,
                '^' | '$' => {
                    self.at += 1;
                    self.out.push(c);
                }
                _ => {
                    self.atom()?;
                    self.quantifier()?;
                }
            }
            pieces += 1;
        }
        (pieces > 0).then_some(())
    }

    fn atom(&mut self) -> Option<()> {
        match self.next()? {
            '.' => self.out.push('.'),
            '[' => self.bracket()?,
            '(' => {
                if self.eat('?') {
                    // Of the `(?` forms, only a group that captures nothing reads alike.
                    if !self.eat(':') {
                        return None;
                    }
                }
                self.out.push_str("(?:");
                self.alternatives()?;
                if !self.eat(')') {
                    return None;
                }
                self.out.push(')');
            }
            '\\' => {
                let escaped = self.next()?;
                if !escaped.is_ascii() || escaped.is_ascii_alphanumeric() {
                    return None;
                }
                self.literal(escaped);
            }
            '*' | '+' | '?' | '{' | '}' | ']' | ')' | '|' | '^' | '$' => return None,
            c => self.literal(c),
        }
        Some(())
    }

    /// An optional `*`, `+`, `?` or `{m}`, `{m,}`, `{m,n}`, with its optional `?` (not
    /// greedy: the same strings match).
    fn quantifier(&mut self) -> Option<()> {
        match self.peek() {
            Some(c @ ('*' | '+' | '?')) => {
                self.at += 1;
                self.out.push(c);
            }
            Some('{') => {
                self.at += 1;
                let low = self.count()?;
                let high = match self.eat(',') {
                    false => low.to_string(),
                    true if self.peek() == Some('}') => String::new(),
                    true => {
                        let high = self.count()?;
                        if high < low {
                            return None;
                        }
                        high.to_string()
                    }
                };
                if !self.eat('}') {
                    return None;
                }
                self.out.push_str(&format!("{{{low},{high}}}"));
            }
            _ => return Some(()),
        }
        if self.eat('?') {
            self.out.push('?');
        }
        match self.peek() {
            Some('*' | '+' | '?' | '{') => None,
            _ => Some(()),
        }
    }

    /// A repetition count: decimal digits, at most [`MAX_REPEAT`].
    fn count(&mut self) -> Option<u32> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let digits: String = self.rest[start..self.at].iter().collect();
        if digits.is_empty() || digits.len() > 3 {
            return None;
        }
        let count: u32 = digits.parse().ok()?;
        (count <= MAX_REPEAT).then_some(count)
    }

    /// The rest of a bracket after its `[`: literal characters and ranges between two
    /// ASCII letters of one case or two digits, a leading `]` and a leading or trailing
    /// `-` taken literally.
    fn bracket(&mut self) -> Option<()> {
        self.out.push('[');
        if self.eat('^') {
            self.out.push('^');
        }
        let mut first = true;
        loop {
            let c = self.next()?;
            match c {
                ']' if !first => break,
                '[' | '\\' => return None,
                '-' if !first && self.peek() != Some(']') => return None,
                _ if self.peek() == Some('-') && self.rest.get(self.at + 1) != Some(&']') => {
                    self.at += 1;
                    let end = self.next()?;
                    if !same_ascii_run(c, end) {
                        return None;
                    }
                    self.literal(c);
                    self.out.push('-');
                    self.literal(end);
                }
                _ => self.literal(c),
            }
            first = false;
        }
        self.out.push(']');
        Some(())
    }
}

/// Whether `start-end` is a range of digits, lower-case or upper-case ASCII letters, in
/// order: the same characters in Postgres and in `regex`.
fn same_ascii_run(start: char, end: char) -> bool {
    let kind = |c: char| {
        if c.is_ascii_digit() {
            Some(0)
        } else if c.is_ascii_lowercase() {
            Some(1)
        } else if c.is_ascii_uppercase() {
            Some(2)
        } else {
            None
        }
    };
    kind(start).is_some() && kind(start) == kind(end) && start <= end
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, ArrayRef, AsArray, DictionaryArray, NullArray, StringArray};
    use arrow::datatypes::Int32Type;
    use regex::Regex;

    use super::{matches as match_texts, to_rust_regex};

    #[test]
    fn a_dictionary_matches_as_its_rows_do() {
        let regex = Regex::new(&to_rust_regex("^h[12]$").unwrap()).unwrap();
        let dictionary: DictionaryArray<Int32Type> =
            vec![Some("h1"), None, Some("h3"), Some("h1"), Some("h2")]
                .into_iter()
                .collect();
        let rows: StringArray = vec![Some("h1"), None, Some("h3"), Some("h1"), Some("h2")]
            .into_iter()
            .collect();
        let from_dictionary = match_texts(&regex, &(Arc::new(dictionary) as ArrayRef)).unwrap();
        let from_rows = match_texts(&regex, &(Arc::new(rows) as ArrayRef)).unwrap();
        let expected = [Some(true), None, Some(false), Some(true), Some(true)];
        assert_eq!(
            from_dictionary.as_boolean().iter().collect::<Vec<_>>(),
            expected
        );
        assert_eq!(from_rows.as_boolean().iter().collect::<Vec<_>>(), expected);
        let nulls = match_texts(&regex, &(Arc::new(NullArray::new(2)) as ArrayRef)).unwrap();
        assert_eq!(nulls.null_count(), 2);
    }

    fn matches(pattern: &str, text: &str) -> bool {
        let rust = to_rust_regex(pattern).unwrap_or_else(|| panic!("{pattern} refused"));
        regex::Regex::new(&rust).unwrap().is_match(text)
    }

    #[test]
    fn refuses_what_postgres_reads_differently_or_refuses() {
        let refused = [
            "",
            "a|",
            "|a",
            "()",
            "a**",
            "*a",
            "^*",
            "a{256}",
            "a{3,2}",
            "a{",
            "a{x}",
            "a{1",
            "(a",
            "a)",
            "[a",
            "[[:alpha:]]",
            "[a\\]]",
            "\\d",
            "\\w",
            "\\1",
            "\\y",
            "\\",
            "(?i)a",
            "(?=a)",
            "***=a",
            "[a-Z]",
            "[0-z]",
            "[a-c-e]",
            "[-a-]x{",
            "a}",
            "]",
            "\\é",
            "[é-ü]",
            "[.]x(",
            "a{1}{2}",
            "a+*",
            "(?<n>a)",
        ];
        for pattern in refused {
            assert_eq!(to_rust_regex(pattern), None, "{pattern}");
        }
    }

    // What PostgreSQL 15 answers for `text ~ pattern`.
    #[test]
    fn matches_as_postgres_does() {
        let cases = [
            ("host_1", "^host_1", true),
            ("host_10", "^host_1$", false),
            ("a\nb", "a.b", true),
            ("a\nb", "a[^x]b", true),
            ("a\nb", "^b", false),
            ("a\nb", "a$", false),
            ("xaaay", "xa{2,3}y", true),
            ("xaaaay", "xa{2,3}y", false),
            ("xaaaay", "xa{2,}y", true),
            ("xay", "xa{0}y", false),
            ("xy", "xa{0}y", true),
            ("a]b", "a[]]b", true),
            ("a-b", "a[x-]b", true),
            ("a-b", "a[-x]b", true),
            ("a^b", "a[x^]b", true),
            ("a.b", "a\\.b", true),
            ("axb", "a\\.b", false),
            ("a#b c", "a#b c", true),
            ("café", "^caf.$", true),
            ("naïve", "na[^a-z]ve", true),
            ("us-west-1", "^(us|eu)-(west|east)-[0-9]+$", true),
            ("ap-south-1", "^(us|eu)-(west|east)-[0-9]+$", false),
            ("aaa", "a+?", true),
            ("host_7", "^(?:host_(1|7))$", true),
            ("a{b", "a\\{b", true),
            ("a&b~c", "a&b~c", true),
            ("x", "x|^$", true),
            ("", "x|^$", true),
        ];
        for (text, pattern, expected) in cases {
            assert_eq!(matches(pattern, text), expected, "{text:?} ~ {pattern:?}");
        }
    }
}
