//! Fields of a time's calendar date and clock, as `extract(field from time)` and
//! `date_part('field', time)` give them: the hour of the day, the day of the week, the
//! month. Computed from a local time (nanoseconds since 1970 of a clock without time
//! zone), which is the time itself in UTC and otherwise the truncation of the time's wall
//! clock to the field's unit (see [`DateField::unit`]).

use std::cell::Cell;

use arrow::datatypes::DataType;
use chrono::{DateTime, Datelike};
use datafusion::common::{exec_err, Result};
use datafusion::logical_expr::{
    ColumnarValue, Expr as DfExpr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};
use serde::{Deserialize, Serialize};

use super::columnar::map_times;
use super::expr::TruncUnit;

const MINUTE_NS: i64 = 60_000_000_000;
const HOUR_NS: i64 = 60 * MINUTE_NS;
const DAY_NS: i64 = 24 * HOUR_NS;

/// A field whose values are whole numbers, the same in every time of one minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DateField {
    Minute,
    Hour,
    /// Of the month, from 1.
    Day,
    /// From 0, Sunday.
    DayOfWeek,
    /// From 1, Monday, to 7, Sunday.
    IsoDayOfWeek,
    /// From 1.
    DayOfYear,
    /// The ISO week of the year, from 1: weeks start on Monday, and week 1 holds January 4.
    Week,
    Month,
    Quarter,
    Year,
    /// The year of the ISO week.
    IsoYear,
    Decade,
    Century,
    Millennium,
}

impl DateField {
    /// The field a name of `extract` or `date_part` stands for, of those names Postgres
    /// documents that give whole numbers.
    pub fn from_name(name: &str) -> Option<DateField> {
        Some(match name.to_ascii_lowercase().as_str() {
            "minute" => DateField::Minute,
            "hour" => DateField::Hour,
            "day" => DateField::Day,
            "dow" => DateField::DayOfWeek,
            "isodow" => DateField::IsoDayOfWeek,
            "doy" => DateField::DayOfYear,
            "week" => DateField::Week,
            "month" => DateField::Month,
            "quarter" => DateField::Quarter,
            "year" => DateField::Year,
            "isoyear" => DateField::IsoYear,
            "decade" => DateField::Decade,
            "century" => DateField::Century,
            "millennium" => DateField::Millennium,
            _ => return None,
        })
    }

    /// The unit a local time can be truncated to and keep this field.
    pub fn unit(self) -> TruncUnit {
        match self {
            DateField::Minute => TruncUnit::Minute,
            DateField::Hour => TruncUnit::Hour,
            _ => TruncUnit::Day,
        }
    }

    /// The field of the local time `ns` (nanoseconds since 1970). The stored times are
    /// years 1677 to 2262, where Postgres' rules for years before 1 AD do not apply.
    fn of(self, ns: i64) -> i64 {
        let date = || DateTime::from_timestamp_nanos(ns).naive_utc();
        let year = || i64::from(date().year());
        match self {
            DateField::Minute => ns.div_euclid(MINUTE_NS).rem_euclid(60),
            DateField::Hour => ns.div_euclid(HOUR_NS).rem_euclid(24),
            DateField::Day => date().day().into(),
            DateField::DayOfWeek => date().weekday().num_days_from_sunday().into(),
            DateField::IsoDayOfWeek => date().weekday().number_from_monday().into(),
            DateField::DayOfYear => date().ordinal().into(),
            DateField::Week => date().iso_week().week().into(),
            DateField::Month => date().month().into(),
            DateField::Quarter => ((date().month() - 1) / 3 + 1).into(),
            DateField::Year => year(),
            DateField::IsoYear => date().iso_week().year().into(),
            DateField::Decade => year() / 10,
            DateField::Century => (year() + 99) / 100,
            DateField::Millennium => (year() + 999) / 1000,
        }
    }
}

/// One field of local times (see [`date_part`]).
#[derive(Debug, PartialEq, Eq, Hash)]
struct DatePart {
    field: DateField,
    signature: Signature,
}

impl ScalarUDFImpl for DatePart {
    fn name(&self) -> &str {
        "date_field"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [times] = args.args.as_slice() else {
            return exec_err!("date_field takes times");
        };
        let field = self.field;
        // Times come in order within a series: a day's field is found once per run.
        let last_day = Cell::new(None);
        map_times(times, |ns| {
            if field.unit() != TruncUnit::Day {
                return Ok(field.of(ns));
            }
            let day = ns.div_euclid(DAY_NS);
            Ok(match last_day.get() {
                Some((last, value)) if last == day => value,
                _ => {
                    let value = field.of(ns);
                    last_day.set(Some((day, value)));
                    value
                }
            })
        })
    }
}

/// `field` of the local times `ns` (nanoseconds since 1970), as bigints.
pub fn date_part(field: DateField, ns: DfExpr) -> DfExpr {
    ScalarUDF::from(DatePart {
        field,
        signature: Signature::exact(vec![DataType::Int64], Volatility::Immutable),
    })
    .call(vec![ns])
}

#[cfg(test)]
mod tests {
    use super::DateField;

    // PostgreSQL 15: extract(field FROM timestamp '...') for each field.
    #[test]
    fn fields_are_postgres_own() {
        let ns = |text: &str| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc()
                .timestamp_nanos_opt()
                .unwrap()
        };
        let cases = [
            ("2024-12-30 23:59:00", "minute", 59),
            ("2024-12-30 23:59:00", "hour", 23),
            ("2024-12-30 23:59:00", "day", 30),
            ("2024-12-30 23:59:00", "dow", 1),
            ("2024-12-29 00:00:00", "dow", 0),
            ("2024-12-29 00:00:00", "isodow", 7),
            ("2024-12-30 23:59:00", "doy", 365),
            ("2024-12-31 00:00:00", "doy", 366),
            ("2024-12-30 23:59:00", "week", 1),
            ("2021-01-03 00:00:00", "week", 53),
            ("2024-12-30 23:59:00", "month", 12),
            ("2024-12-30 23:59:00", "quarter", 4),
            ("2024-04-01 00:00:00", "quarter", 2),
            ("2024-12-30 23:59:00", "year", 2024),
            ("2024-12-30 23:59:00", "isoyear", 2025),
            ("2021-01-03 00:00:00", "isoyear", 2020),
            ("2024-12-30 23:59:00", "decade", 202),
            ("2000-01-01 00:00:00", "century", 20),
            ("2001-01-01 00:00:00", "century", 21),
            ("2000-01-01 00:00:00", "millennium", 2),
            ("2001-01-01 00:00:00", "millennium", 3),
            ("1677-09-22 01:02:00", "hour", 1),
            ("1969-12-31 23:00:00", "hour", 23),
            ("1969-12-31 23:00:00", "dow", 3),
        ];
        for (time, name, expected) in cases {
            let field = DateField::from_name(name).unwrap();
            assert_eq!(field.of(ns(time)), expected, "{name} of {time}");
        }
    }

    #[test]
    fn fields_with_fractions_are_not_taken() {
        assert_eq!(DateField::from_name("epoch"), None);
        assert_eq!(DateField::from_name("second"), None);
    }
}
