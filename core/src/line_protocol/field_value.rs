//! Field values: their types and the grammar of unquoted values.

use std::borrow::Cow;
use std::fmt;

use super::error::ErrorKind;

/// The value of one field, typed as line protocol types it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'a> {
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    String(Cow<'a, str>),
    Boolean(bool),
}

/// The type of a field, which decides the type of its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum FieldType {
    Float,
    Integer,
    Unsigned,
    String,
    Boolean,
}

impl FieldValue<'_> {
    pub fn field_type(&self) -> FieldType {
        match self {
            FieldValue::Float(_) => FieldType::Float,
            FieldValue::Integer(_) => FieldType::Integer,
            FieldValue::Unsigned(_) => FieldType::Unsigned,
            FieldValue::String(_) => FieldType::String,
            FieldValue::Boolean(_) => FieldType::Boolean,
        }
    }

    pub fn into_owned(self) -> FieldValue<'static> {
        match self {
            FieldValue::Float(v) => FieldValue::Float(v),
            FieldValue::Integer(v) => FieldValue::Integer(v),
            FieldValue::Unsigned(v) => FieldValue::Unsigned(v),
            FieldValue::String(v) => FieldValue::String(Cow::Owned(v.into_owned())),
            FieldValue::Boolean(v) => FieldValue::Boolean(v),
        }
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FieldType::Float => "float",
            FieldType::Integer => "integer",
            FieldType::Unsigned => "unsigned",
            FieldType::String => "string",
            FieldType::Boolean => "boolean",
        })
    }
}

/// Parses an unquoted field value: a float, an integer (`i` suffix), an unsigned integer
/// (`u` suffix) or a boolean.
pub(crate) fn parse_unquoted(token: &str) -> Result<FieldValue<'static>, ErrorKind> {
    let value = || token.to_owned();
    match token.as_bytes() {
        b"t" | b"T" | b"true" | b"True" | b"TRUE" => return Ok(FieldValue::Boolean(true)),
        b"f" | b"F" | b"false" | b"False" | b"FALSE" => return Ok(FieldValue::Boolean(false)),
        [digits @ .., b'i'] => {
            return match parse_i64(digits) {
                Ok(v) => Ok(FieldValue::Integer(v)),
                Err(Decimal::Invalid) => Err(ErrorKind::InvalidInteger { value: value() }),
                Err(Decimal::OutOfRange) => Err(ErrorKind::IntegerOutOfRange { value: value() }),
            };
        }
        [digits @ .., b'u'] => {
            return match parse_magnitude(digits) {
                Ok(v) => Ok(FieldValue::Unsigned(v)),
                Err(Decimal::Invalid) => Err(ErrorKind::InvalidUnsigned { value: value() }),
                Err(Decimal::OutOfRange) => Err(ErrorKind::UnsignedOutOfRange { value: value() }),
            };
        }
        [first, ..] if first.is_ascii_alphabetic() => {
            return Err(ErrorKind::InvalidBoolean { value: value() });
        }
        _ => {}
    }
    if !is_float(token) {
        return Err(ErrorKind::InvalidFloat { value: value() });
    }
    match token.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(FieldValue::Float(v)),
        _ => Err(ErrorKind::FloatOutOfRange { value: value() }),
    }
}

/// Why a decimal integer could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decimal {
    Invalid,
    OutOfRange,
}

/// Reads `[0-9]+` in one pass. (Rust's own parsing would also take a leading `+`, which
/// line protocol does not.)
fn parse_magnitude(digits: &[u8]) -> Result<u64, Decimal> {
    if digits.is_empty() {
        return Err(Decimal::Invalid);
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return Err(Decimal::Invalid);
        }
        match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d)))
        {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow {
        Err(Decimal::OutOfRange)
    } else {
        Ok(value)
    }
}

/// Reads `-?[0-9]+` as an `i64`.
pub(crate) fn parse_i64(s: &[u8]) -> Result<i64, Decimal> {
    match s {
        [b'-', digits @ ..] => {
            let magnitude = parse_magnitude(digits)?;
            0i64.checked_sub_unsigned(magnitude)
                .ok_or(Decimal::OutOfRange)
        }
        digits => i64::try_from(parse_magnitude(digits)?).map_err(|_| Decimal::OutOfRange),
    }
}

/// `-?D[.D][(e|E)[+-]D]` with `D` one or more digits, as InfluxDB accepts: no `1.`, no `.5`.
/// Rust's float parsing alone would also accept those, `inf`, `NaN` and a leading `+`.
fn is_float(s: &str) -> bool {
    let b = s.strip_prefix('-').unwrap_or(s).as_bytes();
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let whole = digits(0);
    if whole == 0 {
        return false;
    }
    let mut i = whole;
    if b.get(i) == Some(&b'.') {
        let fraction = digits(i + 1);
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent = digits(i);
        if exponent == 0 {
            return false;
        }
        i += exponent;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(token: &str) -> FieldValue<'static> {
        parse_unquoted(token).unwrap_or_else(|e| panic!("{token}: {e}"))
    }

    #[test]
    fn floats() {
        assert_eq!(ok("1"), FieldValue::Float(1.0));
        assert_eq!(ok("-1.5"), FieldValue::Float(-1.5));
        assert_eq!(ok("1e9"), FieldValue::Float(1e9));
        assert_eq!(ok("1.5E-3"), FieldValue::Float(1.5e-3));
        assert_eq!(ok("1e+3"), FieldValue::Float(1e3));
        assert_eq!(ok("-1.234456e06"), FieldValue::Float(-1.234456e06));
        assert_eq!(ok("-1e-0"), FieldValue::Float(-1.0));
        assert_eq!(ok("-0"), FieldValue::Float(-0.0));
        assert_eq!(ok("007.50"), FieldValue::Float(7.5));
    }

    #[test]
    fn bad_floats() {
        for token in [
            "+1", ".", "-", "1e", "1e+", "1E-", "1.2.3", "1-2", "--1", "0x10", "1_000", "1.5e3.2",
            ".5", "-.5", "1.", "1.e3",
        ] {
            assert!(
                matches!(parse_unquoted(token), Err(ErrorKind::InvalidFloat { .. })),
                "{token} should be rejected"
            );
        }
        for token in ["NaN", "inf", "Infinity", "nan", "yes"] {
            assert!(
                matches!(parse_unquoted(token), Err(ErrorKind::InvalidBoolean { .. })),
                "{token} should be rejected"
            );
        }
        assert_eq!(
            parse_unquoted("1e400"),
            Err(ErrorKind::FloatOutOfRange {
                value: "1e400".into()
            })
        );
    }

    #[test]
    fn integers() {
        assert_eq!(ok("12i"), FieldValue::Integer(12));
        assert_eq!(ok("-12i"), FieldValue::Integer(-12));
        assert_eq!(ok("9223372036854775807i"), FieldValue::Integer(i64::MAX));
        assert_eq!(ok("-9223372036854775808i"), FieldValue::Integer(i64::MIN));
        assert!(matches!(
            parse_unquoted("9223372036854775808i"),
            Err(ErrorKind::IntegerOutOfRange { .. })
        ));
        for token in ["i", "-i", "+1i", "1.0i", "1e3i", "1ii", "0x1i"] {
            assert!(
                matches!(parse_unquoted(token), Err(ErrorKind::InvalidInteger { .. })),
                "{token} should be rejected"
            );
        }
    }

    #[test]
    fn unsigned() {
        assert_eq!(ok("12u"), FieldValue::Unsigned(12));
        assert_eq!(ok("18446744073709551615u"), FieldValue::Unsigned(u64::MAX));
        assert!(matches!(
            parse_unquoted("18446744073709551616u"),
            Err(ErrorKind::UnsignedOutOfRange { .. })
        ));
        for token in ["-1u", "u", "+1u", "1.5u"] {
            assert!(
                matches!(
                    parse_unquoted(token),
                    Err(ErrorKind::InvalidUnsigned { .. })
                ),
                "{token} should be rejected"
            );
        }
    }

    #[test]
    fn booleans() {
        for token in ["t", "T", "true", "True", "TRUE"] {
            assert_eq!(ok(token), FieldValue::Boolean(true));
        }
        for token in ["f", "F", "false", "False", "FALSE"] {
            assert_eq!(ok(token), FieldValue::Boolean(false));
        }
        for token in ["tRUE", "fAlse", "yes", "TrUe"] {
            assert!(
                matches!(parse_unquoted(token), Err(ErrorKind::InvalidBoolean { .. })),
                "{token} should be rejected"
            );
        }
    }
}
