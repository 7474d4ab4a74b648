//! An integer compared with a decimal, as Postgres does when a query writes
//! `usage > 90.0` on a `bigint` column (it casts the column to numeric), as the same
//! comparison with an integer: exact, and the engine then compares integers.

use super::expr::CompareOp;

/// `x op decimal` for every integer `x` as `x op' bound`; None when no single integer
/// comparison says the same (equality with a fraction, NaN, infinities, bounds outside
/// the 64-bit range) or `decimal` is not a plain decimal number.
pub fn integer_comparison(op: CompareOp, decimal: &str) -> Option<(CompareOp, i64)> {
    let (negative, digits) = match decimal.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, decimal),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let truncated: i64 = format!("{}{whole}", if negative { "-" } else { "" })
        .parse()
        .ok()?;
    let has_fraction = fraction.bytes().any(|b| b != b'0');
    let (floor, ceil) = match (has_fraction, negative) {
        (false, _) => (truncated, truncated),
        (true, false) => (truncated, truncated.checked_add(1)?),
        (true, true) => (truncated.checked_sub(1)?, truncated),
    };
    Some(match op {
        CompareOp::Greater => (CompareOp::Greater, floor),
        CompareOp::GreaterOrEqual => (CompareOp::GreaterOrEqual, ceil),
        CompareOp::Less => (CompareOp::Less, ceil),
        CompareOp::LessOrEqual => (CompareOp::LessOrEqual, floor),
        CompareOp::Equal | CompareOp::NotEqual if !has_fraction => (op, truncated),
        CompareOp::Equal | CompareOp::NotEqual => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::integer_comparison;
    use super::CompareOp::*;

    /// Checks the translation against exact rational comparison for integers around it.
    fn agrees(op: super::CompareOp, decimal: &str, numerator: i128, denominator: i128) {
        let (op2, bound) = integer_comparison(op, decimal).unwrap();
        for x in -300i128..300 {
            let exact = match op {
                Greater => x * denominator > numerator,
                GreaterOrEqual => x * denominator >= numerator,
                Less => x * denominator < numerator,
                LessOrEqual => x * denominator <= numerator,
                Equal => x * denominator == numerator,
                NotEqual => x * denominator != numerator,
            };
            let bound = bound as i128;
            let translated = match op2 {
                Greater => x > bound,
                GreaterOrEqual => x >= bound,
                Less => x < bound,
                LessOrEqual => x <= bound,
                Equal => x == bound,
                NotEqual => x != bound,
            };
            assert_eq!(exact, translated, "{x} {op:?} {decimal}");
        }
    }

    #[test]
    fn integer_comparisons_with_decimals_are_exact() {
        for op in [Greater, GreaterOrEqual, Less, LessOrEqual] {
            agrees(op, "90.0", 90, 1);
            agrees(op, "90.5", 181, 2);
            agrees(op, "-90.25", -361, 4);
            agrees(op, "-0.5", -1, 2);
            agrees(op, "0.000", 0, 1);
            agrees(op, "7", 7, 1);
        }
        agrees(Equal, "90.00", 90, 1);
        agrees(NotEqual, "-3.0", -3, 1);
        assert_eq!(integer_comparison(Equal, "90.5"), None);
        assert_eq!(integer_comparison(Greater, "NaN"), None);
        assert_eq!(integer_comparison(Greater, "Infinity"), None);
        assert_eq!(integer_comparison(Greater, "1e5"), None);
        assert_eq!(integer_comparison(Greater, "99999999999999999999.5"), None);
        assert_eq!(
            integer_comparison(GreaterOrEqual, "9223372036854775806.5"),
            Some((GreaterOrEqual, i64::MAX))
        );
        assert_eq!(
            integer_comparison(GreaterOrEqual, "9223372036854775807.5"),
            None
        );
    }
}
