//! Fixes: the format-preserving editors every fix is made with, and the grouping of the edits of
//! chosen findings for `bulkhead harden`.
//!
//! The editors ([`dockerfile`], [`yaml`], [`json`], [`compose`]) are the one implementation of
//! each kind of edit in bulkhead: the scanner's rules build their fixes with them, and
//! bulkhead-harden's fixers (daemon.json merges, compose patches, kubelet configs, static pod
//! manifests, Dockerfile USER and HEALTHCHECK) call the same functions. Each edit rewrites only
//! the bytes of what it changes and is available both as a [`Splice`] (a byte range and its
//! replacement, what a finding's [`Edit`] is made of) and as the edited text.
//!
//! [`plan`] groups the edits of the chosen findings per file, dropping edits that would overlap
//! (the first finding in file order wins; the others stay findings to fix after a re-scan), and
//! [`apply`] applies them to a text. Writing files (backups, atomic replace) is harden's job;
//! nothing here touches the disk.

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
        let overlaps = fix.edits.iter().any(|e| {
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
        entry.edits.extend(fix.edits.iter().cloned());
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
