//! Positions in a source text: byte offsets for edits, 1-based line and column for people.
//!
//! Every parser in this crate reports locations with these types, so a finding, a SARIF region
//! and a fix edit all point at the same bytes.

use serde::Serialize;
use std::fmt;

/// A position: byte offset into the text, 1-based line, 1-based column counted in characters
/// (Unicode code points, which SARIF calls `unicodeCodePoints`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Pos {
    pub offset: usize,
    pub line: u32,
    pub column: u32,
}

/// A half-open byte range `[start, end)` with the positions of both ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub fn new(start: Pos, end: Pos) -> Span {
        Span { start, end }
    }

    /// An empty span at `pos` (where something is missing and would be inserted).
    pub fn empty(pos: Pos) -> Span {
        Span {
            start: pos,
            end: pos,
        }
    }

    pub fn range(&self) -> std::ops::Range<usize> {
        self.start.offset..self.end.offset
    }

    /// The text this span covers.
    pub fn text<'t>(&self, source: &'t str) -> &'t str {
        source.get(self.range()).unwrap_or("")
    }
}

/// Line starts of a text, to turn byte offsets into lines and columns.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(memchr_newlines(text.as_bytes()).map(|i| i + 1));
        LineIndex { starts }
    }

    /// Position of byte `offset` (clamped to the text and moved back to a char boundary).
    pub fn pos(&self, text: &str, offset: usize) -> Pos {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let line_start = self.starts[line - 1];
        let column = text[line_start..offset].chars().count() + 1;
        Pos {
            offset,
            line: line as u32,
            column: column as u32,
        }
    }

    /// Byte offset where 1-based `line` starts (the text length past the end).
    pub fn line_start(&self, line: u32, text_len: usize) -> usize {
        self.starts
            .get((line as usize).saturating_sub(1))
            .copied()
            .unwrap_or(text_len)
    }

    /// The text of 1-based `line` without its line break.
    pub fn line_text<'t>(&self, text: &'t str, line: u32) -> &'t str {
        let start = self.line_start(line, text.len());
        let end = self.line_start(line + 1, text.len());
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(i, _)| i)
}

/// An input that cannot be parsed, with the place that shows why. `Display` reads
/// `line L, column C: message`; callers prefix the file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceError {
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl SourceError {
    pub fn new(pos: Pos, message: impl Into<String>) -> SourceError {
        SourceError {
            line: pos.line.max(1),
            column: pos.column.max(1),
            message: message.into(),
        }
    }

    pub fn at(line: u32, column: u32, message: impl Into<String>) -> SourceError {
        SourceError {
            line: line.max(1),
            column: column.max(1),
            message: message.into(),
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for SourceError {}

/// Limits that keep hostile input from exhausting memory or time. The defaults are far above any
/// real artifact (the largest CRD bundles nest about 40 levels and hold a few hundred thousand nodes).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of YAML collections (or Dockerfile heredoc count) accepted.
    pub max_depth: usize,
    /// Most YAML nodes in one input, counting each alias expansion in full.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_bytes: 16 * 1024 * 1024,
            max_depth: 128,
            max_nodes: 2_000_000,
        }
    }
}

/// Check that bytes are text this crate can parse: within the size limit, valid UTF-8, no NUL.
/// The error names the line of the first offending byte.
pub fn check_text<'b>(bytes: &'b [u8], limits: &Limits) -> Result<&'b str, SourceError> {
    if bytes.len() > limits.max_bytes {
        return Err(SourceError::at(
            1,
            1,
            format!(
                "input is {} bytes, more than the limit of {} bytes; split the file or raise the limit",
                bytes.len(),
                limits.max_bytes
            ),
        ));
    }
    let line_of = |at: usize| 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count() as u32;
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        SourceError::at(
            line_of(at),
            1,
            format!("not UTF-8 text (invalid byte at offset {at}); binary files cannot be scanned"),
        )
    })?;
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(SourceError::at(
            line_of(at),
            1,
            format!("NUL byte at offset {at}: this looks like a binary file, not text"),
        ));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let text = "a: é\nb: x\r\nc";
        let idx = LineIndex::new(text);
        let p = idx.pos(text, text.find('x').unwrap());
        assert_eq!((p.line, p.column), (2, 4));
        let p = idx.pos(text, text.find('c').unwrap());
        assert_eq!((p.line, p.column), (3, 1));
        // after "é" (2 bytes) the column is 5, not 6
        let p = idx.pos(text, 5);
        assert_eq!((p.line, p.column), (1, 5));
        assert_eq!(idx.line_text(text, 2), "b: x");
    }

    #[test]
    fn binary_and_huge_inputs_are_refused_with_a_line() {
        let limits = Limits::default();
        let e = check_text(b"FROM x\nRUN \xff\xfe", &limits).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("not UTF-8"), "{e}");
        let e = check_text(b"a: 1\n\n\0", &limits).unwrap_err();
        assert_eq!(e.line, 3);
        let small = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        let e = check_text(b"hello", &small).unwrap_err();
        assert!(e.message.contains("more than the limit"), "{e}");
    }
}
