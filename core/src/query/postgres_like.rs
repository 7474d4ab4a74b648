//! `LIKE` as the engine runs it: DataFusion's matching, except for the one kind of pattern
//! it cannot answer as Postgres does, a pattern ending in a lone escape character.
//! Postgres refuses that (`22025`) only when matching a value reaches that end, so whether
//! a query fails depends on the values; for it, Postgres' own matching is followed step
//! by step to fail where it fails. Slow beside DataFusion's, and used for such patterns
//! alone.

use std::ops::Not;
use std::sync::{Arc, LazyLock};

use arrow::array::{ArrayRef, AsArray, BooleanArray};
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::prelude::cast;

use super::columnar::map_values;
use super::QueryError;

/// Postgres' matching reached the lone escape character that ends the pattern.
#[derive(Debug, PartialEq, Eq)]
pub struct EscapeAtEnd;

/// How matching a value against the rest of a pattern ended.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Matched,
    Failed,
    /// The rest of the pattern cannot match any later part of the value either: the
    /// searches of the `%`s before it stop.
    Abandoned,
}

/// Whether `text` is `LIKE pattern`, `\` escaping, in Postgres' order of steps.
fn like(text: &str, pattern: &str) -> Result<bool, EscapeAtEnd> {
    Ok(match_from(text.as_bytes(), pattern.as_bytes())? == Outcome::Matched)
}

/// The length of the character `text` starts with (`text` is UTF-8, not empty).
fn first_char_len(text: &[u8]) -> usize {
    match text[0] {
        0..0xC0 => 1,
        0xC0..0xE0 => 2,
        0xE0..0xF0 => 3,
        _ => 4,
    }
}

fn match_from(mut text: &[u8], mut pattern: &[u8]) -> Result<Outcome, EscapeAtEnd> {
    if pattern == b"%" {
        return Ok(Outcome::Matched);
    }
    while !text.is_empty() && !pattern.is_empty() {
        match pattern[0] {
            b'\\' => {
                pattern = &pattern[1..];
                let literal = *pattern.first().ok_or(EscapeAtEnd)?;
                if literal != text[0] {
                    return Ok(Outcome::Failed);
                }
            }
            b'%' => return match_after_percent(text, &pattern[1..]),
            b'_' => {
                text = &text[first_char_len(text)..];
                pattern = &pattern[1..];
                continue;
            }
            byte if byte != text[0] => return Ok(Outcome::Failed),
            _ => {}
        }
        // Byte by byte: a character's first bytes have matched, so the rest follow.
        text = &text[1..];
        pattern = &pattern[1..];
    }
    if !text.is_empty() {
        return Ok(Outcome::Failed);
    }
    let rest = pattern.iter().position(|&b| b != b'%');
    Ok(match rest {
        None => Outcome::Matched,
        Some(_) => Outcome::Abandoned,
    })
}

/// Matching `pattern`, what follows a `%`, against `text` or any of its endings.
fn match_after_percent(mut text: &[u8], mut pattern: &[u8]) -> Result<Outcome, EscapeAtEnd> {
    // `%`s and `_`s right after the `%` match any run of at least as many characters.
    while let Some(&byte) = pattern.first() {
        match byte {
            b'%' => pattern = &pattern[1..],
            b'_' if text.is_empty() => return Ok(Outcome::Abandoned),
            b'_' => {
                text = &text[first_char_len(text)..];
                pattern = &pattern[1..];
            }
            _ => break,
        }
    }
    let Some(&first) = pattern.first() else {
        return Ok(Outcome::Matched);
    };
    let first = match first {
        b'\\' => *pattern.get(1).ok_or(EscapeAtEnd)?,
        byte => byte,
    };
    while !text.is_empty() {
        if text[0] == first {
            let outcome = match_from(text, pattern)?;
            if outcome != Outcome::Failed {
                return Ok(outcome);
            }
        }
        text = &text[first_char_len(text)..];
    }
    Ok(Outcome::Abandoned)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PostgresLike {
    signature: Signature,
}

impl ScalarUDFImpl for PostgresLike {
    fn name(&self) -> &str {
        "postgres_like"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [values, ColumnarValue::Scalar(ScalarValue::Utf8(Some(pattern)))] =
            args.args.as_slice()
        else {
            return exec_err!("postgres_like takes values and a constant pattern");
        };
        map_values(values, |array| {
            let matched = array
                .as_string::<i32>()
                .iter()
                .map(|value| value.map(|v| like(v, pattern)).transpose())
                .collect::<Result<BooleanArray, EscapeAtEnd>>()
                .map_err(|EscapeAtEnd| {
                    DataFusionError::External(Box::new(QueryError::LikeEndsInEscape))
                })?;
            Ok(Arc::new(matched) as ArrayRef)
        })
    }
}

static POSTGRES_LIKE: LazyLock<Arc<ScalarUDF>> = LazyLock::new(|| {
    Arc::new(ScalarUDF::from(PostgresLike {
        signature: Signature::exact(vec![DataType::Utf8, DataType::Utf8], Volatility::Immutable),
    }))
});

/// Whether a pattern (in Postgres' form, `\` escaping) ends in a lone escape character.
fn ends_in_escape(pattern: &str) -> bool {
    pattern.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

/// `value [NOT] LIKE pattern`, `pattern_text` the pattern's value where it is known when
/// the query starts.
pub fn like_filter(
    value: DfExpr,
    pattern: DfExpr,
    pattern_text: Option<&str>,
    negated: bool,
) -> DfExpr {
    if !pattern_text.is_some_and(ends_in_escape) {
        return match negated {
            true => value.not_like(pattern),
            false => value.like(pattern),
        };
    }
    let matched = POSTGRES_LIKE.call(vec![cast(value, DataType::Utf8), pattern]);
    match negated {
        true => matched.not(),
        false => matched,
    }
}

#[cfg(test)]
mod tests {
    use super::{ends_in_escape, like, EscapeAtEnd};

    #[test]
    fn a_pattern_ends_in_escape_with_an_odd_run_of_backslashes() {
        assert!(ends_in_escape("abc\\"));
        assert!(ends_in_escape("\\"));
        assert!(ends_in_escape("a\\\\\\"));
        assert!(!ends_in_escape("a\\\\"));
        assert!(!ends_in_escape("a%"));
        assert!(!ends_in_escape(""));
    }

    #[test]
    fn matches_as_postgres_does() {
        let cases = [
            ("abc", "abc", true),
            ("abc", "a%", true),
            ("abc", "%c", true),
            ("abc", "_b_", true),
            ("abc", "%b", false),
            ("ab", "a_c", false),
            ("", "%", true),
            ("", "%%", true),
            ("", "_", false),
            ("a%c", "a\\%c", true),
            ("abc", "a\\%c", false),
            ("a_c", "%\\_%", true),
            ("abc", "%\\_%", false),
            ("éa", "_a", true),
            ("éa", "%a", true),
            ("aé", "a_", true),
            ("xaby", "%a_y", true),
        ];
        for (text, pattern, expected) in cases {
            assert_eq!(
                like(text, pattern),
                Ok(expected),
                "{text:?} LIKE {pattern:?}"
            );
        }
    }

    #[test]
    fn a_trailing_escape_fails_only_where_matching_reaches_it() {
        // Each as Postgres 15 answers it: 22025 or a boolean. Where the text is used up
        // before the pattern, the escape is never read.
        let cases = [
            ("xbc", "x\\", Err(EscapeAtEnd)),
            ("abc", "x\\", Ok(false)),
            ("", "x\\", Ok(false)),
            ("a", "%\\", Err(EscapeAtEnd)),
            ("", "%\\", Ok(false)),
            ("ab", "a\\", Err(EscapeAtEnd)),
            ("a", "a\\", Ok(false)),
            ("ab", "ab\\", Ok(false)),
            ("ab", "%b\\", Ok(false)),
            ("abx", "%b\\", Err(EscapeAtEnd)),
            ("xy", "%b\\", Ok(false)),
            ("x\\", "x\\\\", Ok(true)),
        ];
        for (text, pattern, expected) in cases {
            assert_eq!(like(text, pattern), expected, "{text:?} LIKE {pattern:?}");
        }
    }
}
