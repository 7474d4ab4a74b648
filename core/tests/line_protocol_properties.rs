//! Properties of the parser over generated input: it never panics, and whatever it accepts
//! it writes back as line protocol that parses to the same point.

use std::borrow::Cow;

use proptest::prelude::*;
use tsparquet_core::line_protocol::{parse, FieldValue, ParseOptions, Point, Precision};

fn options() -> ParseOptions {
    ParseOptions {
        precision: Precision::Nanoseconds,
        now_ns: 42,
    }
}

/// Text made mostly of the characters that matter to line protocol, so that generated
/// input reaches deep into the grammar rather than failing on its first byte.
fn line_protocol_like() -> impl Strategy<Value = String> {
    "[a-c ,=\\\\\"\\n\\r\\t#0-9.eiuEtTfF+-é\u{0}]{0,120}"
}

/// Lines with the shape of line protocol whose elements are raw text full of backslashes,
/// delimiters and quotes, so that many parse and exercise escaping.
fn structured_line() -> impl Strategy<Value = String> {
    let raw = "([a-cé\"#]|\\\\[,= \\\\a\"]){1,4}";
    let value = prop_oneof![
        Just("1".to_owned()),
        Just("-2i".to_owned()),
        Just("3u".to_owned()),
        Just("T".to_owned()),
        "\"([a-c ,=\n]|\\\\[\\\\\"a]){0,6}\"",
    ];
    (
        raw,
        prop::collection::vec((raw, raw), 0..3),
        prop::collection::vec((raw, value), 1..3),
        prop::option::of(any::<i64>()),
    )
        .prop_map(|(measurement, tags, fields, time)| {
            let mut line = measurement;
            for (k, v) in tags {
                line.push_str(&format!(",{k}={v}"));
            }
            let fields: Vec<String> = fields
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            line.push(' ');
            line.push_str(&fields.join(","));
            if let Some(t) = time {
                line.push_str(&format!(" {t}"));
            }
            line
        })
}

/// Names that line protocol can carry: no newline, tab, carriage return or NUL, not ending
/// in a backslash, and (for a measurement) not starting with `#`.
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 ,=\\\\\"#_.é€-]{1,12}".prop_filter("ends in a backslash or starts with #", |s| {
        !s.ends_with('\\') && !s.starts_with('#')
    })
}

fn field_value() -> impl Strategy<Value = FieldValue<'static>> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |v| v.is_finite())
            .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        "[^\u{0}]{0,20}".prop_map(|s| FieldValue::String(Cow::Owned(s))),
    ]
}

fn point() -> impl Strategy<Value = Point<'static>> {
    (
        name(),
        prop::collection::btree_map(name(), name(), 0..5),
        prop::collection::btree_map(name(), field_value(), 1..5),
        any::<i64>(),
    )
        .prop_map(|(measurement, tags, fields, time_ns)| Point {
            line: 1,
            measurement: Cow::Owned(measurement),
            tags: tags
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)))
                .collect(),
            fields: fields
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), v))
                .collect(),
            time_ns,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn never_panics_and_reports_positions(input in line_protocol_like()) {
        for result in parse(&input, options()) {
            if let Err(e) = result {
                prop_assert!(e.line >= 1);
                prop_assert!(e.column >= 1);
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn never_panics_on_arbitrary_text(input in any::<String>()) {
        for result in parse(&input, options()) {
            let _ = result;
        }
    }

    #[test]
    fn accepted_input_round_trips(input in line_protocol_like()) {
        for parsed in parse(&input, options()).flatten() {
            let written = parsed.to_string();
            let reparsed: Vec<_> = parse(&written, options()).collect();
            prop_assert_eq!(reparsed.len(), 1, "{:?} wrote {:?}", input, written);
            let mut again = reparsed.into_iter().next().unwrap().unwrap();
            again.line = parsed.line;
            prop_assert_eq!(again, parsed);
        }
    }

    #[test]
    fn accepted_structured_lines_round_trip(input in structured_line()) {
        for parsed in parse(&input, options()).flatten() {
            let written = parsed.to_string();
            let again = parse(&written, options()).next().unwrap();
            prop_assert_eq!(again.as_ref().ok(), Some(&parsed), "{:?} wrote {:?}", input, written);
        }
    }

    #[test]
    fn generated_points_round_trip(point in point()) {
        let written = point.to_string();
        let reparsed: Vec<_> = parse(&written, options()).collect();
        prop_assert_eq!(reparsed.len(), 1, "{:?}", written);
        match &reparsed[0] {
            Ok(p) => prop_assert_eq!(p, &point, "{:?}", written),
            Err(e) => prop_assert!(false, "{:?} did not parse: {}", written, e),
        }
    }
}

/// The structured generator must produce accepted lines often, or the round-trip property
/// above would hold vacuously.
#[test]
fn structured_lines_are_often_accepted() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let mut runner = TestRunner::deterministic();
    let strategy = structured_line();
    let total = 1_000;
    let accepted = (0..total)
        .filter(|_| {
            let line = strategy.new_tree(&mut runner).unwrap().current();
            parse(&line, options()).all(|r| r.is_ok())
        })
        .count();
    assert!(
        accepted * 5 > total,
        "only {accepted} of {total} generated lines parsed"
    );
}
