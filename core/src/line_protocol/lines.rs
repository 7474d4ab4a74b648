//! Splits input into logical lines. A newline ends a line except inside a quoted string
//! field value, so the splitter follows just enough of the grammar to know where strings are.

use memchr::{memchr, memrchr};

/// One logical line, without its line ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawLine<'a> {
    pub text: &'a str,
    /// 1-based number of the physical line this logical line starts on.
    pub number: usize,
}

pub(crate) struct Lines<'a> {
    input: &'a str,
    pos: usize,
    next_number: usize,
}

impl<'a> Lines<'a> {
    pub fn new(input: &'a str) -> Self {
        Lines {
            input,
            pos: 0,
            next_number: 1,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = RawLine<'a>;

    fn next(&mut self) -> Option<RawLine<'a>> {
        let rest = self.input.get(self.pos..).filter(|r| !r.is_empty())?;
        let bytes = rest.as_bytes();
        let (end, first_newline) = line_end(bytes);
        let newlines_inside = if end > first_newline {
            memchr::memchr_iter(b'\n', &bytes[first_newline..end]).count()
        } else {
            0
        };
        let number = self.next_number;
        self.next_number += 1 + newlines_inside;
        self.pos += (end + 1).min(bytes.len());
        // Every split is at an ASCII byte, so the slice stays on character boundaries.
        let text = &rest[..end];
        let text = text.strip_suffix('\r').unwrap_or(text);
        Some(RawLine { text, number })
    }
}

/// The length of the longest prefix of `input` made of whole lines, each ended by a newline
/// outside any string field value: input that arrives in pieces is parsed up to there.
pub fn whole_lines_len(input: &[u8]) -> usize {
    // Without a quote no newline is inside a string, and the last one ends the whole lines:
    // one memchr instead of a walk from line to line.
    if memchr(b'"', input).is_none() {
        return memrchr(b'\n', input).map_or(0, |at| at + 1);
    }
    let mut pos = 0;
    while pos < input.len() {
        let end = pos + line_end(&input[pos..]).0;
        if end == input.len() {
            break;
        }
        pos = end + 1;
    }
    pos
}

/// Where a line holding only `\.` starts, if one does. COPY's text format ends its data
/// there and psql sends that line, so COPY of line protocol stops there too (no valid
/// line protocol line is `\.`).
pub fn end_of_copy_data(input: &[u8]) -> Option<usize> {
    memchr::memmem::find_iter(input, b"\\.").find(|&at| {
        let starts_line = at == 0 || input[at - 1] == b'\n';
        let rest = &input[at + 2..];
        starts_line && (rest.is_empty() || rest[0] == b'\n' || rest.starts_with(b"\r\n"))
    })
}

/// Where the line at the start of `b` ends (at its newline, or the end of input), and
/// where its first newline is, which is the same place unless a string holds newlines.
fn line_end(b: &[u8]) -> (usize, usize) {
    let first_newline = memchr(b'\n', b).unwrap_or(b.len());
    // Only a quote can hide a newline, so a line without one ends at its first newline.
    if memchr(b'"', &b[..first_newline]).is_none() {
        (first_newline, first_newline)
    } else {
        (logical_line_end(b), first_newline)
    }
}

/// Where the logical line at the start of `b` ends: the first newline outside a string
/// field value, or the end of input.
fn logical_line_end(b: &[u8]) -> usize {
    #[derive(PartialEq, Clone, Copy)]
    enum Section {
        Series,
        Fields,
        InString,
        Timestamp,
    }

    let start = b
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(b.len());
    if b.get(start) == Some(&b'#') {
        return memchr(b'\n', b).unwrap_or(b.len());
    }

    let mut section = Section::Series;
    let mut after_equals = false;
    let mut i = start;
    while i < b.len() {
        let c = b[i];
        if section == Section::InString {
            match c {
                b'\\' => i += 1,
                b'"' => section = Section::Fields,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'\n' => return i,
            // An escape pairs the backslash with the next byte, but never with a newline:
            // outside strings a newline always ends the line.
            b'\\' if b.get(i + 1).is_some_and(|&n| n != b'\n') => {
                after_equals = false;
                i += 2;
                continue;
            }
            b' ' if section == Section::Series => section = Section::Fields,
            b' ' if section == Section::Fields => section = Section::Timestamp,
            b'"' if section == Section::Fields && after_equals => section = Section::InString,
            _ => {}
        }
        after_equals = c == b'=';
        i += 1;
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str) -> Vec<(usize, &str)> {
        Lines::new(input).map(|l| (l.number, l.text)).collect()
    }

    #[test]
    fn splits_on_lf_and_crlf() {
        assert_eq!(
            split("a f=1\r\nb f=2\nc f=3"),
            vec![(1, "a f=1"), (2, "b f=2"), (3, "c f=3")]
        );
    }

    #[test]
    fn keeps_blank_lines_and_numbers_them() {
        assert_eq!(split("\n\na f=1\n"), vec![(1, ""), (2, ""), (3, "a f=1")]);
    }

    #[test]
    fn newline_inside_string_field_does_not_end_line() {
        assert_eq!(
            split("m s=\"a\nb\" 1\nm f=2"),
            vec![(1, "m s=\"a\nb\" 1"), (3, "m f=2")]
        );
    }

    #[test]
    fn escaped_quote_inside_string_does_not_close_it() {
        assert_eq!(
            split("m s=\"a\\\"\nb\"\nn f=1"),
            vec![(1, "m s=\"a\\\"\nb\""), (3, "n f=1")]
        );
    }

    #[test]
    fn quotes_in_tags_and_keys_are_not_strings() {
        assert_eq!(
            split("m,t=\"x f=1\nn f=2"),
            vec![(1, "m,t=\"x f=1"), (2, "n f=2")]
        );
        assert_eq!(
            split("m a\"b=1\nn f=2"),
            vec![(1, "m a\"b=1"), (2, "n f=2")]
        );
    }

    #[test]
    fn escaped_equals_does_not_open_a_string() {
        assert_eq!(
            split("m a\\=\"b=1\nn f=2"),
            vec![(1, "m a\\=\"b=1"), (2, "n f=2")]
        );
    }

    #[test]
    fn comment_with_quote_ends_at_newline() {
        assert_eq!(
            split("# say \"hi\nm f=1"),
            vec![(1, "# say \"hi"), (2, "m f=1")]
        );
    }

    #[test]
    fn unterminated_string_runs_to_end_of_input() {
        assert_eq!(split("m s=\"abc\nn f=1"), vec![(1, "m s=\"abc\nn f=1")]);
    }

    #[test]
    fn whole_lines_stop_before_an_unfinished_line() {
        assert_eq!(whole_lines_len(b"a f=1\nb f=2\nc f="), 12);
        assert_eq!(whole_lines_len(b"a f=1\nb f=2\n"), 12);
        assert_eq!(whole_lines_len(b"a f=1"), 0);
        assert_eq!(whole_lines_len(b""), 0);
        assert_eq!(whole_lines_len(b"\n\n"), 2);
        // The same lines found by the walk that a quote calls for.
        assert_eq!(whole_lines_len(b"a f=1\nb f=2\nc f=\""), 12);
        assert_eq!(whole_lines_len(b"a f=\"1\"\nb f=2\n"), 14);
    }

    #[test]
    fn copy_data_ends_at_a_line_holding_only_backslash_dot() {
        assert_eq!(end_of_copy_data(b"a f=1\n\\.\nb f=2\n"), Some(6));
        assert_eq!(end_of_copy_data(b"\\.\r\n"), Some(0));
        assert_eq!(end_of_copy_data(b"a f=1\n\\."), Some(6));
        assert_eq!(end_of_copy_data(b"a\\.b f=1\n"), None);
        assert_eq!(end_of_copy_data(b"a f=\"\\.x\"\n\\.x f=1\n"), None);
    }

    #[test]
    fn whole_lines_do_not_end_inside_a_string() {
        assert_eq!(whole_lines_len(b"a f=1\nm s=\"x\ny"), 6);
        assert_eq!(whole_lines_len(b"a f=1\nm s=\"x\ny\" 1\n"), 18);
    }

    #[test]
    fn backslash_before_newline_does_not_join_lines() {
        assert_eq!(split("m\\\nn f=\"x\""), vec![(1, "m\\"), (2, "n f=\"x\"")]);
    }
}
