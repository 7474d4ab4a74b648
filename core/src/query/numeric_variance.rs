//! The variance and standard deviation Postgres gives of whole numbers (`bigint` and
//! unsigned fields), whose results are `numeric`: computed from the exact count, sum and
//! sum of squares the engine adds up, digit for digit as `numeric_stddev_internal` does.
//! Postgres divides to a scale it chooses from the operands (`select_div_scale`),
//! rounding half away from zero, then takes the square root rounded to that same scale;
//! the scale is what `numeric` shows, so a result must match it to the last digit.

use arrow::datatypes::i256;
use num_bigint::{BigInt, Sign};

/// The least significant digits a quotient keeps (`NUMERIC_MIN_SIG_DIGITS`).
const MIN_SIGNIFICANT_DIGITS: i64 = 16;
/// Decimal digits in each digit of `numeric`'s base 10,000 (`DEC_DIGITS`).
const BASE_DIGITS: i64 = 4;
/// The largest scale `numeric` shows (`NUMERIC_MAX_DISPLAY_SCALE`).
const MAX_SCALE: i64 = 1000;

/// `var_samp` (`sample`) or `var_pop` of values whose number is `count`, sum `sum` and
/// sum of squares `squares`, or with `stddev` its square root, as `numeric` text; None
/// where Postgres gives NULL (no values; one value for a sample).
pub fn whole_number_variance(
    count: i64,
    sum: i128,
    squares: i256,
    sample: bool,
    stddev: bool,
) -> Option<String> {
    if count == 0 || (sample && count <= 1) {
        return None;
    }
    let n = BigInt::from(count);
    let sum = BigInt::from(sum);
    let squares = BigInt::from_signed_bytes_le(&squares.to_le_bytes());
    let numerator = &n * squares - &sum * &sum;
    if numerator.sign() != Sign::Plus {
        return Some("0".into());
    }
    let denominator = if sample { &n * (&n - 1) } else { &n * &n };
    let scale = division_scale(&numerator, &denominator);
    let shift = BigInt::from(10).pow(scale as u32);
    let variance = rounded_quotient(&numerator * &shift, &denominator);
    let digits = if stddev {
        // The root of the variance at one digit more, truncated, then rounded: the root
        // correctly rounded, as `sqrt_var` computes it.
        let root = (variance * shift * BigInt::from(100)).sqrt();
        (root + 5) / 10
    } else {
        variance
    };
    Some(with_scale(digits, scale as usize))
}

/// The scale of `numerator / denominator` (both positive whole numbers), as
/// `select_div_scale` chooses it: enough for 16 significant digits of the quotient,
/// estimated from the weights and leading digits of the operands in base 10,000.
fn division_scale(numerator: &BigInt, denominator: &BigInt) -> i64 {
    let (weight1, first1) = weight_and_first_digit(numerator);
    let (weight2, first2) = weight_and_first_digit(denominator);
    let mut quotient_weight = weight1 - weight2;
    if first1 <= first2 {
        quotient_weight -= 1;
    }
    (MIN_SIGNIFICANT_DIGITS - quotient_weight * BASE_DIGITS).clamp(0, MAX_SCALE)
}

/// The weight (the power of 10,000 of its leading digit) and the leading digit of a
/// positive whole number in `numeric`'s base 10,000.
fn weight_and_first_digit(value: &BigInt) -> (i64, u32) {
    let decimal = value.to_string();
    let length = decimal.len() as i64;
    let leading = ((length - 1) % BASE_DIGITS + 1) as usize;
    let first = decimal[..leading].parse().expect("decimal digits");
    ((length - 1) / BASE_DIGITS, first)
}

/// `numerator / denominator` (both positive) rounded half away from zero.
fn rounded_quotient(numerator: BigInt, denominator: &BigInt) -> BigInt {
    (numerator * 2 + denominator) / (denominator * 2)
}

/// `digits` (not negative) with the last `scale` of them after the decimal point.
fn with_scale(digits: BigInt, scale: usize) -> String {
    let text = format!("{digits:0>width$}", width = scale + 1);
    if scale == 0 {
        return text;
    }
    let (whole, fraction) = text.split_at(text.len() - scale);
    format!("{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(values: &[i64], sample: bool, stddev: bool) -> Option<String> {
        let sum = values.iter().map(|&v| i128::from(v)).sum();
        let squares = values
            .iter()
            .map(|&v| i256::from_i128(i128::from(v) * i128::from(v)))
            .fold(i256::ZERO, |total, square| total + square);
        whole_number_variance(values.len() as i64, sum, squares, sample, stddev)
    }

    // Each expected value is what Postgres 15 returns for the same values, for example
    // `SELECT stddev(x) FROM unnest(ARRAY[1, 2, 3, 4]::bigint[]) x`.
    #[test]
    fn results_have_postgres_digits_and_scale() {
        assert_eq!(
            of(&[1, 2, 3, 4], true, false).unwrap(),
            "1.6666666666666667"
        );
        assert_eq!(of(&[1, 2, 3, 4], true, true).unwrap(), "1.2909944487358056");
        assert_eq!(
            of(&[1, 2, 3, 4], false, false).unwrap(),
            "1.2500000000000000"
        );
        assert_eq!(
            of(&[1, 2, 3, 4], false, true).unwrap(),
            "1.1180339887498948"
        );
        assert_eq!(
            of(&[3, 5, 1, 90, 17, 2, 2], true, true).unwrap(),
            "32.5956468025439016"
        );
        assert_eq!(
            of(&[3, 5, 1, 90, 17, 2, 2], true, false).unwrap(),
            "1062.4761904761904762"
        );
        assert_eq!(of(&[0, 1_000_000], true, true).unwrap(), "707106.78118655");
        assert_eq!(
            of(&[i64::MIN, i64::MAX], true, false).unwrap(),
            "170141183460469231713240559642174554113"
        );
        assert_eq!(
            of(&[i64::MIN, i64::MAX, 0], false, true).unwrap(),
            "7530851732716320752"
        );
    }

    #[test]
    fn too_few_values_give_null_and_equal_values_zero() {
        assert_eq!(of(&[], false, false), None);
        assert_eq!(of(&[7], true, true), None);
        assert_eq!(of(&[7], false, true).unwrap(), "0");
        assert_eq!(of(&[5, 5, 5], true, false).unwrap(), "0");
    }
}
