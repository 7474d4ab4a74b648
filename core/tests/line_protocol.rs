//! The line protocol rules, one test per rule, through the public API.

use std::borrow::Cow;

use tsparquet_core::line_protocol::{
    parse, ErrorKind, FieldValue, LineError, ParseOptions, Point, Precision, MAX_NAME_LEN,
};

const NOW: i64 = 1_700_000_000_123_456_789;

fn parse_with(input: &str, precision: Precision) -> Vec<Result<Point<'_>, LineError>> {
    parse(
        input,
        ParseOptions {
            precision,
            now_ns: NOW,
        },
    )
    .collect()
}

fn point(input: &str) -> Point<'_> {
    let mut results = parse_with(input, Precision::Nanoseconds);
    assert_eq!(results.len(), 1, "{input:?} should give one result");
    results
        .remove(0)
        .unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
}

fn error(input: &str) -> LineError {
    let mut results = parse_with(input, Precision::Nanoseconds);
    assert_eq!(results.len(), 1, "{input:?} should give one result");
    match results.remove(0) {
        Ok(p) => panic!("{input:?} should be rejected, parsed as {p:?}"),
        Err(e) => e,
    }
}

fn kind(input: &str) -> ErrorKind {
    error(input).kind
}

fn tags<'a>(p: &'a Point<'_>) -> Vec<(&'a str, &'a str)> {
    p.tags
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect()
}

fn field<'a>(p: &'a Point<'_>, key: &str) -> &'a FieldValue<'a> {
    &p.fields
        .iter()
        .find(|(k, _)| k == key)
        .unwrap_or_else(|| panic!("no field {key}"))
        .1
}

fn string(value: &str) -> FieldValue<'_> {
    FieldValue::String(Cow::Borrowed(value))
}

// ---- structure -------------------------------------------------------------------------

#[test]
fn full_tsbs_line() {
    let line = "cpu,hostname=host_0,region=eu-central-1,datacenter=eu-central-1a,rack=6,os=Ubuntu15.10,arch=x86,team=SF,service=19,service_version=1,service_environment=test usage_user=58i,usage_system=2i,usage_idle=24i,usage_nice=61i,usage_iowait=22i,usage_irq=63i,usage_softirq=6i,usage_steal=44i,usage_guest=80i,usage_guest_nice=38i 1451606400000000000";
    let p = point(line);
    assert_eq!(p.line, 1);
    assert_eq!(p.measurement, "cpu");
    assert_eq!(p.tags.len(), 10);
    assert_eq!(tags(&p)[0], ("hostname", "host_0"));
    assert_eq!(tags(&p)[9], ("service_environment", "test"));
    assert_eq!(p.fields.len(), 10);
    assert_eq!(field(&p, "usage_user"), &FieldValue::Integer(58));
    assert_eq!(field(&p, "usage_guest_nice"), &FieldValue::Integer(38));
    assert_eq!(p.time_ns, 1_451_606_400_000_000_000);
}

#[test]
fn tags_are_optional() {
    let p = point("m f=1 5");
    assert!(p.tags.is_empty());
    assert_eq!(p.fields, vec![(Cow::Borrowed("f"), FieldValue::Float(1.0))]);
    assert_eq!(p.time_ns, 5);
}

#[test]
fn missing_timestamp_takes_the_current_time() {
    assert_eq!(point("m f=1").time_ns, NOW);
    let at_seconds = parse_with("m f=1", Precision::Seconds).remove(0).unwrap();
    assert_eq!(at_seconds.time_ns, NOW - NOW % 1_000_000_000);
}

#[test]
fn spaces_between_sections_and_after_them() {
    let p = point("  measurement  a=1i   123   ");
    assert_eq!(p.measurement, "measurement");
    assert_eq!(field(&p, "a"), &FieldValue::Integer(1));
    assert_eq!(p.time_ns, 123);
    assert_eq!(point("m f=1  ").time_ns, NOW);
    assert_eq!(point("\tm f=1 7").time_ns, 7);
}

#[test]
fn blank_and_comment_lines_are_skipped_but_counted() {
    let input = "\n# a comment\n   \n\t# indented comment\nm f=1 1\n\n# \"quoted\nn f=2 2\n";
    let points: Vec<_> = parse_with(input, Precision::Nanoseconds)
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(points.len(), 2);
    assert_eq!((points[0].line, points[0].measurement.as_ref()), (5, "m"));
    assert_eq!((points[1].line, points[1].measurement.as_ref()), (8, "n"));
    assert!(parse_with("", Precision::Auto).is_empty());
    assert!(parse_with("\n\n\n", Precision::Auto).is_empty());
}

#[test]
fn there_are_no_inline_comments() {
    assert!(matches!(
        kind("m f=1 # note"),
        ErrorKind::InvalidTimestamp { .. }
    ));
}

#[test]
fn lf_and_crlf_line_endings() {
    let results = parse_with(
        "a f=1 1\r\nb f=2 2\nc s=\"x\" 3\r\n",
        Precision::Nanoseconds,
    );
    let points: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(points.len(), 3);
    assert_eq!(points[0].time_ns, 1);
    assert_eq!(points[2].fields[0].1, string("x"));
}

#[test]
fn newline_inside_a_string_does_not_end_the_line() {
    let results = parse_with("m s=\"one\ntwo\" 1\nn f=1 2", Precision::Nanoseconds);
    let first = results[0].as_ref().unwrap();
    assert_eq!(first.fields[0].1, string("one\ntwo"));
    let second = results[1].as_ref().unwrap();
    assert_eq!(
        second.line, 3,
        "line numbers count the newline inside the string"
    );
}

#[test]
fn a_bad_line_does_not_affect_the_next() {
    let results = parse_with(
        "m f=x 1\nm f=2 2\nm,t= f=1\nm g=4i 4",
        Precision::Nanoseconds,
    );
    assert_eq!(results.len(), 4);
    assert_eq!(results[0].as_ref().unwrap_err().line, 1);
    assert_eq!(results[1].as_ref().unwrap().time_ns, 2);
    assert_eq!(results[2].as_ref().unwrap_err().line, 3);
    assert_eq!(results[3].as_ref().unwrap().time_ns, 4);
}

#[test]
fn a_series_written_again_parses_as_it_did_the_first_time() {
    let input = "cpu,host=a,dc=x u=1 1\n\
                 cpu,host=a,dc=x u=2 2\n\
                 cpu,host=a,dc=x u= 3\n\
                 cpu,host=a,dc=x\tu=4 4\n\
                 cpu,host=a,host=a u=5 5\n\
                 cpu,host=a,host=a u=6 6\n\
                 cpu,host=a,dc=x u=7 7";
    let results = parse_with(input, Precision::Nanoseconds);
    type Outcome<'r> = Result<(Vec<(&'r str, &'r str)>, i64), &'r ErrorKind>;
    let outcomes: Vec<Outcome<'_>> = results
        .iter()
        .map(|r| {
            r.as_ref()
                .map(|p| (tags(p), p.time_ns))
                .map_err(|e| &e.kind)
        })
        .collect();
    let series = vec![("host", "a"), ("dc", "x")];
    assert_eq!(outcomes[0], Ok((series.clone(), 1)));
    assert_eq!(outcomes[1], Ok((series.clone(), 2)));
    assert!(
        matches!(outcomes[2], Err(ErrorKind::MissingFieldValue { .. })),
        "{:?}",
        outcomes[2]
    );
    assert!(
        matches!(
            outcomes[3],
            Err(ErrorKind::UnexpectedCharacter { found: '\t', .. })
        ),
        "{:?}",
        outcomes[3]
    );
    assert!(matches!(outcomes[4], Err(ErrorKind::DuplicateTag { .. })));
    assert!(
        matches!(outcomes[5], Err(ErrorKind::DuplicateTag { .. })),
        "{:?}",
        outcomes[5]
    );
    assert_eq!(outcomes[6], Ok((series, 7)));
}

#[test]
fn many_series_each_keep_their_own_tags() {
    let hosts = 10_000;
    let input: String = (0..2 * hosts)
        .map(|i| format!("cpu,host=h{},dc=d{} u={i} {i}\n", i % hosts, i % 7))
        .collect();
    let results = parse_with(&input, Precision::Nanoseconds);
    assert_eq!(results.len(), 2 * hosts);
    for (i, result) in results.iter().enumerate() {
        let host = format!("h{}", i % hosts);
        let dc = format!("d{}", i % 7);
        let p = result.as_ref().unwrap();
        assert_eq!(tags(p), vec![("host", host.as_str()), ("dc", dc.as_str())]);
        assert_eq!(p.time_ns, i as i64);
    }
}

#[test]
fn the_series_of_each_point_is_its_text_as_written() {
    let input = "c\\ pu,h=a f=1 1\ncpu,b=2,a=1 f=2 2\ncpu f=3 3\n  cpu,h=a  f=4 4";
    let mut parser = parse(
        input,
        ParseOptions {
            precision: Precision::Nanoseconds,
            now_ns: NOW,
        },
    );
    let mut texts = Vec::new();
    while let Some(point) = parser.next() {
        point.unwrap();
        texts.push(parser.current_series());
    }
    assert_eq!(texts, vec!["c\\ pu,h=a", "cpu,b=2,a=1", "cpu", "cpu,h=a"]);
}

// ---- escaping ----------------------------------------------------------------------------

#[test]
fn measurement_escapes_comma_and_space() {
    assert_eq!(point(r"wea\,ther f=1").measurement, "wea,ther");
    assert_eq!(point(r"wea\ ther f=1").measurement, "wea ther");
    assert_eq!(
        point(r"wea\=ther f=1").measurement,
        r"wea\=ther",
        "= is not escaped in a measurement"
    );
    assert_eq!(
        point("m=x f=1").measurement,
        "m=x",
        "= needs no escape in a measurement"
    );
    assert_eq!(point(r"\#m f=1").measurement, r"\#m");
}

#[test]
fn keys_and_tag_values_escape_comma_equals_and_space() {
    let p = point(r"m,a\ b\,c\=d=v\ w\,x\=y f\ g\,h\=i=1");
    assert_eq!(tags(&p), vec![("a b,c=d", "v w,x=y")]);
    assert_eq!(p.fields[0].0, "f g,h=i");
}

#[test]
fn tag_value_may_hold_an_unescaped_equals() {
    assert_eq!(tags(&point("m,url=a?b=c f=1")), vec![("url", "a?b=c")]);
}

#[test]
fn double_backslash_is_one_backslash_and_does_not_escape_what_follows() {
    assert_eq!(point(r"a\\b f=1").measurement, r"a\b");
    assert_eq!(point(r"a\\\ x f=1").measurement, r"a\ x");
    assert_eq!(tags(&point(r"m,k\\ey=v\\al f=1")), vec![(r"k\ey", r"v\al")]);
}

#[test]
fn unknown_escapes_are_kept_literally() {
    assert_eq!(point(r"m\ax f=1").measurement, r"m\ax");
    assert_eq!(tags(&point(r"m,t=\é\x f=1")), vec![("t", r"\é\x")]);
    assert_eq!(point(r"m f\n=1").fields[0].0, r"f\n");
}

#[test]
fn a_name_may_not_end_with_a_backslash() {
    for line in [
        r"m\",
        r"m,t=v\",
        r"m\\ f=1",
        r"m,t\\=v f=1",
        r"m,t=v\\ f=1",
        r"m f\\=1",
    ] {
        assert_eq!(kind(line), ErrorKind::EndsWithBackslash, "{line}");
    }
}

#[test]
fn string_values_escape_quote_and_backslash_only() {
    let cases = [
        (r#"m s="The \"string\" val""#, r#"The "string" val"#),
        (r#"m s="too hot\cold""#, r"too hot\cold"),
        (r#"m s="too hot\\cold""#, r"too hot\cold"),
        (r#"m s="too hot\\\cold""#, r"too hot\\cold"),
        (r#"m s="too hot\\\\cold""#, r"too hot\\cold"),
        (r#"m s="a\\""#, r"a\"),
        (r#"m s="new\nline""#, r"new\nline"),
        (r#"m s="""#, ""),
        ("m s=\"a, b = c\td\"", "a, b = c\td"),
    ];
    for (line, expected) in cases {
        assert_eq!(point(line).fields[0].1, string(expected), "{line}");
    }
}

#[test]
fn unescaped_names_borrow_from_the_input() {
    let p = point(r#"m,t=v f=1,s="x" 1"#);
    assert!(matches!(p.measurement, Cow::Borrowed(_)));
    assert!(matches!(p.tags[0].1, Cow::Borrowed(_)));
    assert!(matches!(
        p.fields[1].1,
        FieldValue::String(Cow::Borrowed(_))
    ));
    let escaped = point(r"m\ n,t=a\,b f=1 1");
    assert!(matches!(escaped.measurement, Cow::Owned(_)));
    assert!(matches!(escaped.tags[0].1, Cow::Owned(_)));
}

// ---- field values ------------------------------------------------------------------------

#[test]
fn every_field_type_on_one_line() {
    let p = point(r#"foo asdf=23.1,bar=-5i,qux=9u,baz="the string",frab=false,t=T 1234"#);
    assert_eq!(field(&p, "asdf"), &FieldValue::Float(23.1));
    assert_eq!(field(&p, "bar"), &FieldValue::Integer(-5));
    assert_eq!(field(&p, "qux"), &FieldValue::Unsigned(9));
    assert_eq!(field(&p, "baz"), &string("the string"));
    assert_eq!(field(&p, "frab"), &FieldValue::Boolean(false));
    assert_eq!(field(&p, "t"), &FieldValue::Boolean(true));
}

#[test]
fn number_forms() {
    let cases = [
        ("1", FieldValue::Float(1.0)),
        ("-1.5", FieldValue::Float(-1.5)),
        ("1e9", FieldValue::Float(1e9)),
        ("1.5E-3", FieldValue::Float(1.5e-3)),
        ("-1.234456e+06", FieldValue::Float(-1.234456e6)),
        ("12i", FieldValue::Integer(12)),
        ("-9223372036854775808i", FieldValue::Integer(i64::MIN)),
        ("12u", FieldValue::Unsigned(12)),
        ("18446744073709551615u", FieldValue::Unsigned(u64::MAX)),
    ];
    for (value, expected) in cases {
        let line = format!("m f={value} 1");
        assert_eq!(point(&line).fields[0].1, expected, "{line}");
    }
}

type KindCheck = fn(&ErrorKind) -> bool;

#[test]
fn bad_numbers_are_rejected() {
    let cases: [(&str, KindCheck); 9] = [
        ("m f=9223372036854775808i", |k| {
            matches!(k, ErrorKind::IntegerOutOfRange { .. })
        }),
        ("m f=18446744073709551616u", |k| {
            matches!(k, ErrorKind::UnsignedOutOfRange { .. })
        }),
        ("m f=-1u", |k| {
            matches!(k, ErrorKind::InvalidUnsigned { .. })
        }),
        ("m f=1.5i", |k| {
            matches!(k, ErrorKind::InvalidInteger { .. })
        }),
        ("m f=+1", |k| matches!(k, ErrorKind::InvalidFloat { .. })),
        ("m f=1.", |k| matches!(k, ErrorKind::InvalidFloat { .. })),
        ("m f=.5", |k| matches!(k, ErrorKind::InvalidFloat { .. })),
        ("m f=1e400", |k| {
            matches!(k, ErrorKind::FloatOutOfRange { .. })
        }),
        ("m f=23.1.22", |k| {
            matches!(k, ErrorKind::InvalidFloat { .. })
        }),
    ];
    for (line, is_expected) in cases {
        let k = kind(line);
        assert!(is_expected(&k), "{line}: got {k:?}");
    }
}

#[test]
fn booleans_have_ten_spellings() {
    for value in ["t", "T", "true", "True", "TRUE"] {
        assert_eq!(
            point(&format!("m b={value}")).fields[0].1,
            FieldValue::Boolean(true)
        );
    }
    for value in ["f", "F", "false", "False", "FALSE"] {
        assert_eq!(
            point(&format!("m b={value}")).fields[0].1,
            FieldValue::Boolean(false)
        );
    }
    assert!(matches!(kind("m b=tRUE"), ErrorKind::InvalidBoolean { .. }));
    assert!(matches!(kind("m b=yes"), ErrorKind::InvalidBoolean { .. }));
}

// ---- errors --------------------------------------------------------------------------------

#[test]
fn missing_measurement() {
    assert_eq!(kind(",t=1 f=1 1"), ErrorKind::MissingMeasurement);
}

#[test]
fn missing_field_set() {
    for line in ["m", "m ", "m,t=1", "m,t=1   ", "field=1 1234"] {
        let k = kind(line);
        assert!(
            k == ErrorKind::MissingFieldSet || matches!(k, ErrorKind::MissingFieldValue { .. }),
            "{line}: {k:?}"
        );
    }
    assert_eq!(kind("m"), ErrorKind::MissingFieldSet);
    assert_eq!(kind("m,t=1 "), ErrorKind::MissingFieldSet);
}

#[test]
fn tag_errors() {
    assert_eq!(
        kind("m,t= f=1"),
        ErrorKind::EmptyTagValue { key: "t".into() }
    );
    assert_eq!(kind("m,=v f=1"), ErrorKind::EmptyTagKey);
    assert_eq!(kind("m, f=1"), ErrorKind::EmptyTagKey);
    assert_eq!(kind("m,t=1, f=1"), ErrorKind::EmptyTagKey);
    assert_eq!(
        kind("m,t f=1"),
        ErrorKind::MissingTagValue { key: "t".into() }
    );
    assert_eq!(
        kind("m,a,b=1 f=1"),
        ErrorKind::MissingTagValue { key: "a".into() }
    );
}

#[test]
fn duplicate_tag_key_points_at_the_repeat() {
    let e = error("m,host=a,dc=x,host=b f=1");
    assert_eq!(e.kind, ErrorKind::DuplicateTag { key: "host".into() });
    assert_eq!(e.column, 15);
    assert_eq!(
        kind(r"m,a\ b=1,a\ b=2 f=1"),
        ErrorKind::DuplicateTag { key: "a b".into() }
    );
}

#[test]
fn duplicate_keys_are_found_among_many() {
    let many: Vec<String> = (0..40).map(|i| format!("t{i}=v")).collect();
    let line = format!("m,{},t33=w f=1", many.join(","));
    assert_eq!(kind(&line), ErrorKind::DuplicateTag { key: "t33".into() });
    let ok = format!("m,{} f=1", many.join(","));
    assert_eq!(point(&ok).tags.len(), 40);
    let fields: Vec<String> = (0..40).map(|i| format!("f{i}=1")).collect();
    let line = format!("m {},f0=2", fields.join(","));
    assert_eq!(kind(&line), ErrorKind::DuplicateField { key: "f0".into() });
}

#[test]
fn field_errors() {
    assert_eq!(
        kind("m f=1,f=2"),
        ErrorKind::DuplicateField { key: "f".into() }
    );
    assert_eq!(kind("m =1"), ErrorKind::EmptyFieldKey);
    assert_eq!(kind("m f=1,"), ErrorKind::EmptyFieldKey);
    assert_eq!(
        kind("m f"),
        ErrorKind::MissingFieldValue { key: "f".into() }
    );
    assert_eq!(
        kind("m f="),
        ErrorKind::MissingFieldValue { key: "f".into() }
    );
    assert_eq!(
        kind("m f= 1"),
        ErrorKind::MissingFieldValue { key: "f".into() }
    );
    assert_eq!(
        kind("m f=1,g 1"),
        ErrorKind::MissingFieldValue { key: "g".into() }
    );
}

#[test]
fn unterminated_strings() {
    assert_eq!(kind(r#"m s="abc"#), ErrorKind::UnterminatedString);
    assert_eq!(kind(r#"m s="abc\""#), ErrorKind::UnterminatedString);
    assert_eq!(kind(r#"m s="abc\"#), ErrorKind::UnterminatedString);
    // Like InfluxDB, an open quote takes the rest of the input with it.
    assert_eq!(parse_with("m s=\"abc\nn f=1", Precision::Auto).len(), 1);
}

#[test]
fn trailing_garbage() {
    assert_eq!(
        kind(r#"m s="a"b 1"#),
        ErrorKind::TrailingContent {
            content: "b 1".into()
        }
    );
    assert_eq!(
        kind("m f=1 123 456"),
        ErrorKind::TrailingContent {
            content: "456".into()
        }
    );
    assert!(matches!(
        kind("m f=1 123abc"),
        ErrorKind::InvalidTimestamp { .. }
    ));
}

#[test]
fn tabs_do_not_separate() {
    assert!(matches!(
        kind("m\tf=1"),
        ErrorKind::UnexpectedCharacter { found: '\t', .. }
    ));
    assert!(matches!(kind("m f=1\t123"), ErrorKind::InvalidFloat { .. }));
}

#[test]
fn nul_characters_are_rejected() {
    assert_eq!(kind("m,t=a\0b f=1"), ErrorKind::NulCharacter);
    assert_eq!(kind("m s=\"a\0\""), ErrorKind::NulCharacter);
    assert_eq!(kind("\0 f=1"), ErrorKind::NulCharacter);
}

#[test]
fn timestamps() {
    assert_eq!(point("m f=1 -123").time_ns, -123);
    assert_eq!(point("m f=1 0").time_ns, 0);
    assert!(matches!(
        kind("m f=1 +123"),
        ErrorKind::InvalidTimestamp { .. }
    ));
    assert!(matches!(
        kind("m f=1 1.5"),
        ErrorKind::InvalidTimestamp { .. }
    ));
    assert!(matches!(
        kind("m f=1 -"),
        ErrorKind::InvalidTimestamp { .. }
    ));
    assert!(matches!(
        kind("m f=1 99999999999999999999"),
        ErrorKind::TimestampOutOfRange { .. }
    ));
}

#[test]
fn precision_scales_timestamps() {
    let at = |precision, line| parse_with(line, precision).remove(0);
    assert_eq!(
        at(Precision::Seconds, "m f=1 2").unwrap().time_ns,
        2_000_000_000
    );
    assert_eq!(
        at(Precision::Milliseconds, "m f=1 2").unwrap().time_ns,
        2_000_000
    );
    assert_eq!(
        at(Precision::Microseconds, "m f=1 2").unwrap().time_ns,
        2_000
    );
    assert_eq!(at(Precision::Nanoseconds, "m f=1 2").unwrap().time_ns, 2);
    assert_eq!(
        at(Precision::Auto, "m f=1 1451606400").unwrap().time_ns,
        1_451_606_400_000_000_000
    );
    assert_eq!(
        at(Precision::Auto, "m f=1 1451606400000").unwrap().time_ns,
        1_451_606_400_000_000_000
    );
    assert!(matches!(
        at(Precision::Seconds, "m f=1 9300000000000000000")
            .unwrap_err()
            .kind,
        ErrorKind::TimestampOutOfRange { .. }
    ));
}

#[test]
fn errors_carry_line_column_and_text() {
    let results = parse_with("ok f=1 1\n\nbad,t=1 f=1,g=oops 2", Precision::Nanoseconds);
    let e = results[1].as_ref().unwrap_err();
    assert_eq!(e.line, 3);
    assert_eq!(e.column, 15);
    assert_eq!(e.text, "bad,t=1 f=1,g=oops 2");
    assert_eq!(
        e.to_string(),
        "line 3, column 15: invalid boolean field value 'oops'"
    );
    let indented = error("   m,t= f=1");
    assert_eq!(indented.column, 8, "columns count leading whitespace");
}

#[test]
fn long_offending_lines_are_cut_in_errors() {
    let line = format!("m s={}", "x".repeat(10_000));
    let e = error(&line);
    assert!(e.text.len() < 300);
}

#[test]
fn names_and_strings_up_to_64_kib() {
    let longest = "a".repeat(MAX_NAME_LEN);
    assert_eq!(
        point(&format!("{longest} f=1")).measurement.len(),
        MAX_NAME_LEN
    );
    let too_long = "a".repeat(MAX_NAME_LEN + 1);
    assert!(matches!(
        kind(&format!("{too_long} f=1")),
        ErrorKind::NameTooLong {
            what: "measurement name",
            ..
        }
    ));
    assert!(matches!(
        kind(&format!("m,t={too_long} f=1")),
        ErrorKind::NameTooLong {
            what: "tag value",
            ..
        }
    ));
    assert!(matches!(
        kind(&format!("m {too_long}=1")),
        ErrorKind::NameTooLong {
            what: "field key",
            ..
        }
    ));
    assert_eq!(
        point(&format!("m s=\"{longest}\"")).fields[0].1,
        string(&longest)
    );
    assert!(matches!(
        kind(&format!("m s=\"{too_long}\"")),
        ErrorKind::StringTooLong { .. }
    ));
}

#[test]
fn serialized_points_parse_back() {
    let input = r#"we\ a\,ther,lo\=c\ x=a\,b\=c\ d\\e te\ mp=-1.5,n=3i,u=7u,s="q\"u\\o",b=true 1451606400000000000"#;
    let p = point(input);
    let written = p.to_string();
    assert_eq!(point(&written), p);
}
