//! Parses one logical line into a point, borrowing from the input and allocating only to
//! unescape.
//!
//! The grammar follows InfluxDB 3's parser: `\\` unescapes to one backslash in every element,
//! an unknown escape keeps both characters, `=` may appear unescaped in a measurement or tag
//! value, and floats are `-?D[.D][e[+-]D]`. Where InfluxDB's parsers disagree with each other,
//! the stricter and clearer rule is kept: duplicate tag or field keys, an unescaped comma
//! inside a tag or field key, a trailing comma after the field set, and infinite floats are
//! errors. Two things are accepted that InfluxDB 3 rejects: a CRLF line ending and trailing
//! spaces after the field set.

use std::borrow::Cow;
use std::collections::HashSet;

use memchr::memchr2;
use rustc_hash::FxHashMap;

use super::error::{ErrorKind, LineError};
use super::field_value::{parse_i64, parse_unquoted, Decimal, FieldValue};
use super::lines::{Lines, RawLine};
use super::precision::Precision;
use super::MAX_NAME_LEN;

/// One parsed point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point<'a> {
    /// 1-based number of the line the point starts on.
    pub line: usize,
    pub measurement: Cow<'a, str>,
    pub tags: Tags<'a>,
    pub fields: Fields<'a>,
    /// Nanoseconds since the Unix epoch.
    pub time_ns: i64,
}

type Tags<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;
type Fields<'a> = Vec<(Cow<'a, str>, FieldValue<'a>)>;

/// Series already parsed in this input: their text as written (measurement and tag set, up
/// to the space before the fields), the measurement and the tags. A write repeats a few
/// series over many lines, so most lines copy their series from here instead of parsing it.
type SeenSeries<'a> = FxHashMap<&'a str, (Cow<'a, str>, Tags<'a>)>;

/// How many series are remembered before starting over, which bounds the memory a write of
/// ever new series costs.
const SEEN_SERIES_LIMIT: usize = 4096;

/// How timestamps of a write are read.
#[derive(Debug, Clone, Copy)]
pub struct ParseOptions {
    pub precision: Precision,
    /// The current time, used for points written without a timestamp.
    pub now_ns: i64,
}

/// Iterates over the points of an input, one result per non-blank, non-comment line.
pub struct Parser<'a> {
    lines: Lines<'a>,
    precision: Precision,
    default_time_ns: i64,
    /// The text of the line behind the last result.
    current_text: &'a str,
    /// The measurement and tag set of the last point, as written.
    current_series: &'a str,
    seen_series: SeenSeries<'a>,
    /// Tag and field counts of the previous point: lines of one write tend to be alike, so
    /// these size the next point's vectors without regrowing them.
    sizes: (usize, usize),
    /// The vectors of a point the caller is done with, for the next point.
    spare: Option<(Tags<'a>, Fields<'a>)>,
}

impl<'a> Parser<'a> {
    pub fn new(input: &'a str, options: ParseOptions) -> Self {
        Parser {
            lines: Lines::new(input),
            precision: options.precision,
            default_time_ns: options.precision.default_time(options.now_ns),
            sizes: (0, 1),
            spare: None,
            current_text: "",
            current_series: "",
            seen_series: SeenSeries::default(),
        }
    }

    /// Takes back a point the caller is done with: its vectors hold the next point's tags
    /// and fields, which saves allocating them for every line.
    pub fn recycle(&mut self, point: Point<'a>) {
        let (mut tags, mut fields) = (point.tags, point.fields);
        tags.clear();
        fields.clear();
        self.spare = Some((tags, fields));
    }

    /// The text of the line the last result came from, as written.
    pub fn current_text(&self) -> &'a str {
        self.current_text
    }

    /// The measurement and tag set of the last point, as written: points whose texts are
    /// equal belong to one series (points of one series may also be written differently,
    /// with their tags in another order or other escapes).
    pub fn current_series(&self) -> &'a str {
        self.current_series
    }
}

impl<'a> Iterator for Parser<'a> {
    type Item = Result<Point<'a>, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        for RawLine { text, number } in self.lines.by_ref() {
            let body = text.trim_start_matches([' ', '\t']);
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let offset = text.len() - body.len();
            self.current_text = text;
            let mut cursor = Cursor {
                s: body,
                b: body.as_bytes(),
                i: 0,
            };
            let vectors = self.spare.take().unwrap_or_else(|| {
                (
                    Vec::with_capacity(self.sizes.0),
                    Vec::with_capacity(self.sizes.1.max(1)),
                )
            });
            let parsed = cursor.point(
                number,
                self.precision,
                self.default_time_ns,
                vectors,
                &mut self.seen_series,
            );
            if let Ok((point, series)) = &parsed {
                self.sizes = (point.tags.len(), point.fields.len());
                self.current_series = series;
            }
            let parsed = parsed.map(|(point, _)| point);
            return Some(parsed.map_err(|(position, kind)| {
                LineError::new(number, offset + position + 1, kind, text)
            }));
        }
        None
    }
}

/// The measurement names of `input`'s lines, in order, without parsing the rest of each
/// line. Lines whose measurement cannot be read are left out.
pub fn measurement_names(input: &str) -> impl Iterator<Item = Cow<'_, str>> {
    Lines::new(input).filter_map(|RawLine { text, .. }| {
        let body = text.trim_start_matches([' ', '\t']);
        if body.is_empty() || body.starts_with('#') {
            return None;
        }
        let mut cursor = Cursor {
            s: body,
            b: body.as_bytes(),
            i: 0,
        };
        cursor
            .name(Element::Measurement)
            .ok()
            .filter(|name| !name.is_empty())
    })
}

/// The parts of a line that are names, each with its own delimiters and escapes.
#[derive(Clone, Copy, PartialEq)]
enum Element {
    Measurement,
    TagKey,
    TagValue,
    FieldKey,
}

impl Element {
    fn describe(self) -> &'static str {
        match self {
            Element::Measurement => "measurement name",
            Element::TagKey => "tag key",
            Element::TagValue => "tag value",
            Element::FieldKey => "field key",
        }
    }

    /// Bytes that end a scan of this element (or, for `\` and NUL, need a closer look).
    fn stops(self) -> &'static [bool; 256] {
        match self {
            Element::Measurement => &MEASUREMENT_STOPS,
            Element::TagKey | Element::FieldKey => &KEY_STOPS,
            Element::TagValue => &TAG_VALUE_STOPS,
        }
    }

    /// Characters that a backslash escapes in this element.
    fn escapable(self) -> &'static [u8] {
        match self {
            Element::Measurement => b", \\",
            _ => b",= \\",
        }
    }
}

const fn stop_table(stops: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < stops.len() {
        table[stops[i] as usize] = true;
        i += 1;
    }
    table
}

static MEASUREMENT_STOPS: [bool; 256] = stop_table(b", \t\\\0");
static KEY_STOPS: [bool; 256] = stop_table(b",= \t\\\0");
static TAG_VALUE_STOPS: [bool; 256] = stop_table(b", \t\\\0");

/// An error found while parsing: the byte offset within the line and what is wrong.
type Failure = (usize, ErrorKind);

struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    /// The point, and its measurement and tag set as written.
    fn point(
        &mut self,
        line: usize,
        precision: Precision,
        default_time_ns: i64,
        (mut tags, fields): (Tags<'a>, Fields<'a>),
        seen: &mut SeenSeries<'a>,
    ) -> Result<(Point<'a>, &'a str), Failure> {
        let measurement = self.series(&mut tags, seen)?;
        let series = &self.s[..self.i];
        match self.peek() {
            None => return Err((self.i, ErrorKind::MissingFieldSet)),
            Some(b' ') => {}
            Some(_) => return Err(self.unexpected_character("a space before the field set")),
        }
        self.skip_spaces();
        if self.at_end() {
            return Err((self.i, ErrorKind::MissingFieldSet));
        }
        let fields = self.fields(fields)?;
        let time_ns = self.timestamp(precision)?.unwrap_or(default_time_ns);
        let point = Point {
            line,
            measurement,
            tags,
            fields,
            time_ns,
        };
        Ok((point, series))
    }

    /// The measurement, and the tags into `tags`. A series text seen before is taken from
    /// `seen`: its text reaches the first space and has no escapes, so it parses exactly as
    /// it did then, whatever follows it.
    fn series(
        &mut self,
        tags: &mut Tags<'a>,
        seen: &mut SeenSeries<'a>,
    ) -> Result<Cow<'a, str>, Failure> {
        let plain = match memchr2(b' ', b'\\', self.b) {
            Some(space) if self.b[space] == b' ' => Some(&self.s[..space]),
            _ => None,
        };
        if let Some(text) = plain {
            if let Some((measurement, known)) = seen.get(text) {
                tags.extend(known.iter().cloned());
                self.i = text.len();
                return Ok(measurement.clone());
            }
        }
        let measurement = self.name(Element::Measurement)?;
        if measurement.is_empty() {
            return Err((0, ErrorKind::MissingMeasurement));
        }
        if self.peek() == Some(b',') {
            self.tags(tags)?;
        }
        if let Some(text) = plain.filter(|text| text.len() == self.i) {
            if seen.len() == SEEN_SERIES_LIMIT {
                seen.clear();
            }
            seen.insert(text, (measurement.clone(), tags.clone()));
        }
        Ok(measurement)
    }

    /// Skips one or more spaces; false when there was none.
    fn skip_spaces(&mut self) -> bool {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        self.i > start
    }

    /// The error for content that cannot follow what was parsed.
    fn trailing(&self) -> Failure {
        let content = self.s[self.i..].to_owned();
        (self.i, ErrorKind::TrailingContent { content })
    }

    fn unexpected_character(&self, expected: &'static str) -> Failure {
        let found = self.s[self.i..].chars().next().unwrap_or(' ');
        (self.i, ErrorKind::UnexpectedCharacter { found, expected })
    }

    /// Scans a name element up to its first unescaped delimiter, borrowing it from the
    /// input; names with escapes (or errors) take the slower path.
    #[inline]
    fn name(&mut self, element: Element) -> Result<Cow<'a, str>, Failure> {
        let start = self.i;
        let stops = element.stops();
        let mut i = start;
        while i < self.b.len() && !stops[self.b[i] as usize] {
            i += 1;
        }
        if matches!(self.b.get(i), Some(b'\\' | 0)) {
            return self.escaped_name(element, start);
        }
        self.i = i;
        checked_length(Cow::Borrowed(&self.s[start..i]), element, start)
    }

    #[cold]
    fn escaped_name(&mut self, element: Element, start: usize) -> Result<Cow<'a, str>, Failure> {
        let stops = element.stops();
        self.i = start;
        loop {
            while self.i < self.b.len() && !stops[self.b[self.i] as usize] {
                self.i += 1;
            }
            match self.peek() {
                Some(b'\\') => {
                    if self.i + 1 == self.b.len() {
                        return Err((self.i, ErrorKind::EndsWithBackslash));
                    }
                    // Skip the escaped character whole: it may be more than one byte long.
                    let next = self.s[self.i + 1..]
                        .chars()
                        .next()
                        .map_or(1, char::len_utf8);
                    self.i += 1 + next;
                }
                Some(0) => return Err((self.i, ErrorKind::NulCharacter)),
                _ => break,
            }
        }
        let value = unescape(&self.s[start..self.i], element.escapable());
        if value.ends_with('\\') {
            return Err((self.i, ErrorKind::EndsWithBackslash));
        }
        checked_length(Cow::Owned(value), element, start)
    }

    /// `,key=value` pairs after the measurement; the cursor stands on the first comma.
    fn tags(&mut self, tags: &mut Tags<'a>) -> Result<(), Failure> {
        let mut seen = KeySet::default();
        while self.peek() == Some(b',') {
            self.i += 1;
            let key_start = self.i;
            let key = self.name(Element::TagKey)?;
            if key.is_empty() {
                return Err((key_start, ErrorKind::EmptyTagKey));
            }
            if self.peek() != Some(b'=') {
                return Err((
                    self.i,
                    ErrorKind::MissingTagValue {
                        key: key.into_owned(),
                    },
                ));
            }
            self.i += 1;
            let value = self.name(Element::TagValue)?;
            if value.is_empty() {
                return Err((
                    self.i,
                    ErrorKind::EmptyTagValue {
                        key: key.into_owned(),
                    },
                ));
            }
            if !seen.insert(&key, tags.iter().map(|(k, _)| k.as_ref())) {
                return Err((
                    key_start,
                    ErrorKind::DuplicateTag {
                        key: key.into_owned(),
                    },
                ));
            }
            tags.push((key, value));
        }
        Ok(())
    }

    fn fields(&mut self, mut fields: Fields<'a>) -> Result<Fields<'a>, Failure> {
        let mut seen = KeySet::default();
        loop {
            let key_start = self.i;
            let key = self.name(Element::FieldKey)?;
            if key.is_empty() {
                return Err((key_start, ErrorKind::EmptyFieldKey));
            }
            match self.peek() {
                Some(b'=') => {}
                None | Some(b' ' | b',') => {
                    return Err((
                        self.i,
                        ErrorKind::MissingFieldValue {
                            key: key.into_owned(),
                        },
                    ))
                }
                Some(_) => return Err(self.unexpected_character("'=' after the field key")),
            }
            self.i += 1;
            let value = self.field_value(&key)?;
            if !seen.insert(&key, fields.iter().map(|(k, _)| k.as_ref())) {
                return Err((
                    key_start,
                    ErrorKind::DuplicateField {
                        key: key.into_owned(),
                    },
                ));
            }
            fields.push((key, value));
            match self.peek() {
                Some(b',') => self.i += 1,
                None | Some(b' ') => return Ok(fields),
                Some(_) => return Err(self.trailing()),
            }
        }
    }

    fn field_value(&mut self, key: &str) -> Result<FieldValue<'a>, Failure> {
        let start = self.i;
        match self.peek() {
            None | Some(b' ' | b',') => Err((
                start,
                ErrorKind::MissingFieldValue {
                    key: key.to_owned(),
                },
            )),
            Some(b'"') => self.string_value(key),
            Some(_) => {
                while self.i < self.b.len() && !matches!(self.b[self.i], b' ' | b',') {
                    self.i += 1;
                }
                parse_unquoted(&self.s[start..self.i]).map_err(|kind| (start, kind))
            }
        }
    }

    /// A quoted string; `\"` and `\\` unescape, any other backslash stays as written.
    fn string_value(&mut self, key: &str) -> Result<FieldValue<'a>, Failure> {
        let open = self.i;
        let body_start = open + 1;
        let mut i = body_start;
        let mut escaped = false;
        let close = loop {
            match memchr2(b'"', b'\\', &self.b[i..]) {
                None => return Err((open, ErrorKind::UnterminatedString)),
                Some(p) if self.b[i + p] == b'"' => break i + p,
                Some(p) => {
                    escaped = true;
                    i += p + 2;
                    if i > self.b.len() {
                        return Err((open, ErrorKind::UnterminatedString));
                    }
                }
            }
        };
        let raw = &self.s[body_start..close];
        if memchr::memchr(0, raw.as_bytes()).is_some() {
            return Err((open, ErrorKind::NulCharacter));
        }
        let value = if escaped {
            Cow::Owned(unescape(raw, b"\"\\"))
        } else {
            Cow::Borrowed(raw)
        };
        if value.len() > MAX_NAME_LEN {
            return Err((
                open,
                ErrorKind::StringTooLong {
                    key: key.to_owned(),
                    length: value.len(),
                },
            ));
        }
        self.i = close + 1;
        Ok(FieldValue::String(value))
    }

    /// The optional timestamp after the field set, converted to nanoseconds.
    fn timestamp(&mut self, precision: Precision) -> Result<Option<i64>, Failure> {
        self.skip_spaces();
        if self.at_end() {
            return Ok(None);
        }
        let start = self.i;
        while self.i < self.b.len() && self.b[self.i] != b' ' {
            self.i += 1;
        }
        let token = &self.s[start..self.i];
        let value = || token.to_owned();
        let out_of_range = || (start, ErrorKind::TimestampOutOfRange { value: value() });
        let raw = match parse_i64(token.as_bytes()) {
            Ok(raw) => raw,
            Err(Decimal::Invalid) => {
                return Err((start, ErrorKind::InvalidTimestamp { value: value() }))
            }
            Err(Decimal::OutOfRange) => return Err(out_of_range()),
        };
        let nanos = precision.to_nanos(raw).ok_or_else(out_of_range)?;
        self.skip_spaces();
        if !self.at_end() {
            return Err(self.trailing());
        }
        Ok(Some(nanos))
    }
}

fn checked_length<'a>(
    name: Cow<'a, str>,
    element: Element,
    start: usize,
) -> Result<Cow<'a, str>, Failure> {
    if name.len() > MAX_NAME_LEN {
        let what = element.describe();
        return Err((
            start,
            ErrorKind::NameTooLong {
                what,
                length: name.len(),
            },
        ));
    }
    Ok(name)
}

/// Replaces `\c` by `c` for each `c` in `escapable`; any other backslash sequence is kept.
fn unescape(raw: &str, escapable: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(p) = rest.find('\\') {
        out.push_str(&rest[..p]);
        let Some(next) = rest[p + 1..].chars().next() else {
            out.push('\\');
            return out;
        };
        if next.is_ascii() && escapable.contains(&(next as u8)) {
            out.push(next);
        } else {
            out.push('\\');
            out.push(next);
        }
        rest = &rest[p + 1 + next.len_utf8()..];
    }
    out.push_str(rest);
    out
}

/// Finds duplicate keys. A 64-bit filter of key fingerprints clears almost every key without
/// a comparison; a key that may repeat is compared with the keys before it, until a line has
/// so many keys that a hash set is cheaper.
#[derive(Default)]
struct KeySet {
    filter: u64,
    hashed: Option<HashSet<String>>,
}

impl KeySet {
    const LINEAR_LIMIT: usize = 16;

    /// Records `key` (never empty); false if one of `previous` (all keys recorded so far)
    /// equals it.
    fn insert<'k>(
        &mut self,
        key: &str,
        mut previous: impl ExactSizeIterator<Item = &'k str>,
    ) -> bool {
        if let Some(set) = &mut self.hashed {
            return set.insert(key.to_owned());
        }
        if previous.len() >= Self::LINEAR_LIMIT {
            let mut set: HashSet<String> = previous.map(str::to_owned).collect();
            let fresh = set.insert(key.to_owned());
            self.hashed = Some(set);
            return fresh;
        }
        let bit = 1u64 << (fingerprint(key) >> 58);
        let maybe_seen = self.filter & bit != 0;
        self.filter |= bit;
        !maybe_seen || !previous.any(|k| k == key)
    }
}

/// A cheap hash of a key from its length and three of its bytes.
fn fingerprint(key: &str) -> u64 {
    let b = key.as_bytes();
    let mix = |x: u64, v: u8| (x ^ u64::from(v)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let h = mix(b.len() as u64, b[0]);
    mix(mix(h, b[b.len() / 2]), b[b.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_series_remembered_stay_within_their_limit() {
        let series = 3 * SEEN_SERIES_LIMIT;
        let input: String = (0..series)
            .map(|i| format!("m,host=h{i} v=1 {i}\n"))
            .collect();
        let options = ParseOptions {
            precision: Precision::Nanoseconds,
            now_ns: 0,
        };
        let mut parser = Parser::new(&input, options);
        let mut most = 0;
        while let Some(point) = parser.next() {
            point.unwrap();
            most = most.max(parser.seen_series.len());
        }
        assert_eq!(most, SEEN_SERIES_LIMIT);
    }
}
