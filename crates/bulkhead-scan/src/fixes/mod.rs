//! Fixes: the format-preserving editors every fix is made with, and the grouping of the edits of
//! chosen findings for `bulkhead harden`.
//!
//! The editors ([`dockerfile`], [`yaml`], [`json`], [`compose`]) are the one implementation of
//! each kind of edit in bulkhead: the scanner's rules build their fixes with them, and
//! bulkhead-harden's fixers (daemon.json merges, compose patches, kubelet configs, static pod
//! manifests, Dockerfile USER and HEALTHCHECK) call the same functions. Each edit rewrites only
//! the bytes of what it changes and is available both as a [`Splice`] (a byte range and its
//! replacement, what a finding's [`Edit`] is made of) and as the edited text. Lines an edit adds
//! end the way the file's lines do ([`line_break`]: a CRLF file stays CRLF), and a byte order
//! mark at the start of a file stays there.
//!
//! [`plan`] groups the edits of the chosen findings per file, dropping edits that would overlap
//! (the first finding in file order wins; the others stay findings to fix after a re-scan; an
//! edit identical to one already planned is the same change, made once), and [`apply`] applies
//! them to a text. Writing files (backups, atomic replace) is harden's job; nothing here touches
//! the disk.

pub mod compose;
pub mod dockerfile;
pub mod json;
pub mod yaml;

use crate::engine::apply_edits;
use crate::model::{Edit, Finding, Safety};
use std::collections::BTreeMap;
use std::ops::Range;

/// One edit of a text: replace the bytes of `range` with `text` (an insertion has an empty
/// range). Every editor of this module computes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    pub range: Range<usize>,
    pub text: String,
}

impl Splice {
    pub fn new(range: Range<usize>, text: impl Into<String>) -> Splice {
        Splice {
            range,
            text: text.into(),
        }
    }

    /// An insertion of `text` at byte `at`.
    pub fn insert(at: usize, text: impl Into<String>) -> Splice {
        Splice::new(at..at, text)
    }

    /// `source` with this edit made.
    pub fn apply(&self, source: &str) -> String {
        let mut s = String::with_capacity(source.len() + self.text.len());
        s.push_str(&source[..self.range.start]);
        s.push_str(&self.text);
        s.push_str(&source[self.range.end..]);
        s
    }

    /// This edit with the line breaks of its text written the way `source` writes them
    /// ([`line_break`]). The editors build lines with `\n`; in a file whose lines end in `\r\n`
    /// that would leave mixed line ends, and a tool splitting lines at `\r\n` would read each
    /// new line as part of its neighbour.
    pub fn with_line_breaks_of(mut self, source: &str) -> Splice {
        if line_break(source) == "\r\n" && self.text.contains('\n') {
            self.text = crlf(&self.text);
        }
        self
    }

    /// The edit as a finding's [`Edit`], with the 1-based line and column of its start.
    pub fn to_edit(&self, source: &str, lines: &bulkhead_sources::LineIndex) -> Edit {
        let p = lines.pos(source, self.range.start);
        Edit {
            offset: self.range.start,
            length: self.range.end - self.range.start,
            replacement: self.text.clone(),
            line: p.line,
            column: p.column,
        }
    }
}

/// The line break `text` uses: `"\r\n"` when its first line ends so, else `"\n"` (also for a
/// text of one line). The first line decides, as for Prettier's `endOfLine: auto`: a file with
/// mixed line ends gets the one it starts with, and finding it reads one line, not the file.
pub fn line_break(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// `text` with every `\n` not already preceded by `\r` written as `\r\n`.
fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut prev = '\0';
    for c in text.chars() {
        if c == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// Where the line holding byte `off` starts. The first line starts after a byte order mark, so
/// an edit that rewrites or removes whole lines never drops the mark, and an indentation
/// measured from the line start does not count its three bytes as columns.
pub(crate) fn line_start(text: &str, off: usize) -> usize {
    match text[..off].rfind('\n') {
        Some(i) => i + 1,
        None if text.starts_with('\u{feff}') && off >= BOM.len() => BOM.len(),
        None => 0,
    }
}

/// The UTF-8 byte order mark some Windows editors write at the start of a file.
pub(crate) const BOM: &str = "\u{feff}";

/// The edits for one file and the findings they fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFix {
    pub path: String,
    pub edits: Vec<Edit>,
    /// `rule` and line of each finding fixed, for the plan shown to the user.
    pub fixes: Vec<(String, u32, String)>,
    /// Findings whose fix overlapped an earlier one and was left for the next round.
    pub deferred: Vec<(String, u32)>,
}

/// Collect fixes of `findings` at most as risky as `allowed` (Safe: safe only; Review: both).
pub fn plan(findings: &[Finding], allowed: Safety) -> Vec<FileFix> {
    let mut by_file: BTreeMap<&str, FileFix> = BTreeMap::new();
    for f in findings {
        let Some(fix) = &f.fix else { continue };
        if allowed == Safety::Safe && fix.safety != Safety::Safe {
            continue;
        }
        let entry = by_file
            .entry(f.location.path.as_str())
            .or_insert_with(|| FileFix {
                path: f.location.path.clone(),
                edits: Vec::new(),
                fixes: Vec::new(),
                deferred: Vec::new(),
            });
        // An edit identical to one already planned (two fixes that set the same value, such
        // as daemon-icc's and daemon-iptables' `"iptables": true`) is the same change: it is
        // made once and both findings count as fixed. Any other edit touching a planned one
        // overlaps it.
        let new_edits: Vec<&Edit> = fix
            .edits
            .iter()
            .filter(|e| !entry.edits.contains(e))
            .collect();
        let overlaps = new_edits.iter().any(|e| {
            entry.edits.iter().any(|x| {
                let (a0, a1) = (e.offset, e.offset + e.length);
                let (b0, b1) = (x.offset, x.offset + x.length);
                a0 < b1 && b0 < a1 || (a0 == b0 && (e.length == 0 || x.length == 0))
            })
        });
        if overlaps {
            entry.deferred.push((f.rule.clone(), f.location.line));
            continue;
        }
        entry.edits.extend(new_edits.into_iter().cloned());
        entry
            .fixes
            .push((f.rule.clone(), f.location.line, fix.description.clone()));
    }
    by_file
        .into_values()
        .filter(|f| !f.edits.is_empty())
        .collect()
}

/// Apply a file's planned edits to its current text.
pub fn apply(text: &str, fix: &FileFix) -> Result<String, String> {
    apply_edits(text, &fix.edits).map_err(|e| format!("{}: {e}", fix.path))
}

/// Findings read back from a `bulkhead.scan/1` JSON report (for `threats --scan` and harden).
pub fn findings_from_json(text: &str) -> Result<Vec<Finding>, String> {
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
    if v["schema"] != "bulkhead.scan/1" {
        return Err(format!(
            "schema is {}, expected \"bulkhead.scan/1\" (from `bulkhead scan --format json`)",
            v["schema"]
        ));
    }
    serde_json::from_value(v["findings"].clone()).map_err(|e| format!("findings: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_break_is_the_files() {
        assert_eq!(line_break("a: 1\r\nb: 2\r\n"), "\r\n");
        assert_eq!(line_break("a: 1\nb: 2\r\n"), "\n");
        assert_eq!(line_break("\u{feff}a: 1\r\nb: 2\n"), "\r\n");
        assert_eq!(line_break("a: 1"), "\n");
        assert_eq!(line_break(""), "\n");
        // Only bare line feeds change, so an edit converted twice is the same.
        let s = Splice::insert(0, "x\ny\r\nz\n").with_line_breaks_of("a\r\n");
        assert_eq!(s.text, "x\r\ny\r\nz\r\n");
        assert_eq!(s.clone().with_line_breaks_of("a\r\n"), s);
        assert_eq!(
            Splice::insert(0, "x\n").with_line_breaks_of("a\n").text,
            "x\n"
        );
        assert_eq!(line_start("\u{feff}a\nb", 0), 0);
        assert_eq!(line_start("\u{feff}a\nb", 4), 3);
        assert_eq!(line_start("\u{feff}a\nb", 5), 5);
    }
}
