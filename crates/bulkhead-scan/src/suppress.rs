//! Suppressions: inline comments, Kubernetes annotations, configuration entries and the
//! baseline. Every suppression says why; the ones that silence nothing, name an unknown rule or
//! have expired are reported, so they cannot pile up unseen.
//!
//! - `# bulkhead:ignore RULE[,RULE...] reason` alone on a line silences those rules for findings
//!   on that line and the next; in YAML also at the end of a line, for that line (rule IDs or
//!   aliases such as DL3002).
//! - `# bulkhead:ignore-file RULE[,RULE...] reason` anywhere silences them for the whole file.
//! - Only real comments count (see [`CommentSyntax`]): a marker inside a value (`RUN echo "#
//!   bulkhead:ignore-file ..."`, a quoted annotation) is data and silences nothing.
//! - `ignore.bulkhead.dev/RULE: "reason"` in the annotations of a Kubernetes object or of its
//!   pod template silences RULE for findings inside that object.
//! - `[[scan.ignore]]` entries in the configuration (see `config`), with optional expiry.
//! - A baseline file: findings whose fingerprint it lists are accepted as known.
//!
//! A comment or annotation that gives no reason suppresses nothing; the engine reports it as a
//! finding of the artifact's `*-suppression-without-reason` rule.

use crate::catalog;
use crate::model::{Finding, SuppressionNote, SuppressionProblem, SuppressionSource};
use crate::source_root::SourceRoot;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

pub const ANNOTATION_PREFIX: &str = "ignore.bulkhead.dev/";

/// An inline comment suppression.
#[derive(Debug, Clone)]
pub struct Inline {
    pub line: u32,
    /// Byte range of the marker and what follows it on the line (`bulkhead:ignore RULE reason`).
    pub range: std::ops::Range<usize>,
    /// Alone on its line: applies to the next line too.
    pub own_line: bool,
    pub file_wide: bool,
    pub rules: Vec<String>,
    pub reason: String,
    pub used: bool,
}

/// The comment syntax of a file, which decides where a `bulkhead:ignore` marker counts.
///
/// A marker counts only inside a real comment: text that the file's format throws away. A `#`
/// inside a value (a quoted YAML string, a `RUN echo "# ..."` argument, a block scalar) is data,
/// and data may come from anyone who can get a string into the file, so it must never silence a
/// finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentSyntax {
    /// Dockerfile: a comment is a whole line whose first non-blank character is `#` (outside
    /// heredoc bodies). A `#` later on an instruction line is part of the instruction.
    Dockerfile,
    /// YAML (Kubernetes manifests, Compose files): a `#` at the start of a line or after a blank,
    /// outside quoted scalars (which may span lines) and block scalars (`|`, `>`).
    Yaml,
    /// JSON has no comments.
    None,
}

/// Find `bulkhead:ignore` markers in the real comments of `text`. `opaque` lists byte ranges
/// that hold data, not comments, as the file's parser saw them (heredoc bodies, YAML scalars): a
/// comment that would start inside one of them does not count, whatever the lexing here says.
pub fn inline_comments(
    text: &str,
    syntax: CommentSyntax,
    opaque: &[std::ops::Range<usize>],
) -> Vec<Inline> {
    let mut out = Vec::new();
    if !text.contains("bulkhead:ignore") {
        return out;
    }
    for c in comments(text, syntax) {
        if opaque.iter().any(|r| r.contains(&c.offset)) {
            continue;
        }
        let line = c.line_text;
        let region = &line[c.hash..];
        // The marker, then the `#` that starts its part of the comment (`# note # bulkhead:ignore`
        // counts too: all of it is comment).
        let Some(marker) = region.find("bulkhead:ignore") else {
            continue;
        };
        let Some(hash) = region[..marker].rfind('#') else {
            continue;
        };
        if !region[hash + 1..marker].trim().is_empty() {
            continue;
        }
        let comment = &region[marker..];
        let (file_wide, rest) = if let Some(r) = comment.strip_prefix("bulkhead:ignore-file") {
            (true, r)
        } else if let Some(r) = comment.strip_prefix("bulkhead:ignore") {
            (false, r)
        } else {
            continue;
        };
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            continue; // `bulkhead:ignore-ish`
        }
        let rest = rest.trim();
        let (rules, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let line_start = c.offset - c.hash;
        out.push(Inline {
            line: c.line,
            range: c.offset + marker..line_start + line.trim_end().len(),
            own_line: line[..c.hash].trim().is_empty(),
            file_wide,
            rules: rules
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
            reason: reason.trim().to_string(),
            used: false,
        });
    }
    out
}

/// A comment: its 1-based line, the line's text, and where its `#` is (byte in the line and in
/// the text).
struct Comment<'t> {
    line: u32,
    line_text: &'t str,
    hash: usize,
    offset: usize,
}

fn comments(text: &str, syntax: CommentSyntax) -> Vec<Comment<'_>> {
    let mut out = Vec::new();
    let mut yaml = YamlLexer::default();
    let mut start = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line_text = raw.trim_end_matches(['\n', '\r']);
        let hash = match syntax {
            CommentSyntax::None => None,
            CommentSyntax::Dockerfile => {
                let body = if i == 0 {
                    line_text.trim_start_matches('\u{feff}')
                } else {
                    line_text
                };
                body.trim_start()
                    .starts_with('#')
                    .then(|| line_text.find('#'))
                    .flatten()
            }
            CommentSyntax::Yaml => yaml.line(line_text),
        };
        if let Some(hash) = hash {
            out.push(Comment {
                line: i as u32 + 1,
                line_text,
                hash,
                offset: start + hash,
            });
        }
        start += raw.len();
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Quote {
    #[default]
    None,
    Single,
    Double,
}

/// A line-by-line YAML lexer that knows just enough to tell comments from scalars: quoted
/// scalars (which may continue on the next lines) and block scalars (whose content lines are
/// text, `#` or not).
#[derive(Debug, Default)]
struct YamlLexer {
    quote: Quote,
    /// Inside a block scalar: the indentation of its parent node, and of its content once seen.
    block: Option<(usize, Option<usize>)>,
}

impl YamlLexer {
    /// The byte position of the comment's `#` on this line, if the line has a comment.
    fn line(&mut self, line: &str) -> Option<usize> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if let Some((parent, content)) = self.block {
            if line.trim().is_empty() {
                return None;
            }
            match content {
                None if indent > parent => {
                    self.block = Some((parent, Some(indent)));
                    return None;
                }
                Some(c) if indent >= c => return None,
                _ => self.block = None,
            }
        }
        let b = line.as_bytes();
        let mut comment = None;
        let mut j = 0;
        while j < b.len() {
            match (self.quote, b[j]) {
                (Quote::Double, b'\\') => j += 1,
                (Quote::Double, b'"') => self.quote = Quote::None,
                (Quote::Single, b'\'') if b.get(j + 1) == Some(&b'\'') => j += 1,
                (Quote::Single, b'\'') => self.quote = Quote::None,
                (Quote::None, b'#') if j == 0 || matches!(b[j - 1], b' ' | b'\t') => {
                    comment = Some(j);
                    break;
                }
                (Quote::None, q @ (b'"' | b'\'')) if opens_scalar(&line[..j]) => {
                    self.quote = if q == b'"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    };
                }
                _ => {}
            }
            j += 1;
        }
        if self.quote == Quote::None {
            let content = &line[..comment.unwrap_or(line.len())];
            if let Some(parent) = block_header(content, indent) {
                self.block = Some((parent, None));
            }
        }
        comment
    }
}

/// Can a quoted scalar start after `before` (the line up to the quote)? At the start of a
/// node: the line start, after `key:`, `- `, `? `, or inside a flow collection, or after a tag
/// or an anchor. A quote inside a plain scalar (`it's`) starts nothing.
fn opens_scalar(before: &str) -> bool {
    let t = before.trim_end();
    let spaced = t.len() < before.len();
    if t.is_empty() || t.ends_with(['[', '{', ',', ':']) {
        return true;
    }
    if !spaced {
        return false;
    }
    let last = t.rsplit([' ', '\t']).next().unwrap_or("");
    last == "-" || last == "?" || last.starts_with('!') || last.starts_with('&')
}

/// If this line (without its comment) ends with a block scalar header (`key: |`, `- >-`,
/// `key: !!str |2`), the indentation its content must exceed.
fn block_header(content: &str, indent: usize) -> Option<usize> {
    let t = content.trim_end();
    let (before, last) = match t.rsplit_once([' ', '\t']) {
        Some((b, l)) => (b.trim_end(), l),
        None => ("", t),
    };
    let mut chars = last.chars();
    if !matches!(chars.next(), Some('|' | '>'))
        || !chars.all(|c| c == '-' || c == '+' || c.is_ascii_digit())
    {
        return None;
    }
    let before = before
        .rsplit_once(' ')
        .filter(|(_, w)| w.starts_with('!') || w.starts_with('&'))
        .map(|(b, _)| b.trim_end())
        .unwrap_or(before);
    // The node the scalar belongs to: a key (its column), or a sequence entry (the dash's).
    let mut col = indent;
    let mut rest = &before[indent.min(before.len())..];
    loop {
        match rest.strip_prefix('-') {
            Some(r) if r.is_empty() || r.starts_with(' ') => {
                if r.trim().is_empty() {
                    return Some(col);
                }
                let skip = 1 + (r.len() - r.trim_start().len());
                col += skip;
                rest = &rest[skip..];
            }
            _ => break,
        }
    }
    if rest.is_empty() || rest == "?" {
        return Some(col);
    }
    rest.ends_with(':').then_some(col)
}

fn names(rule_key: &str, finding_rule: &str) -> bool {
    catalog::rule(finding_rule).is_some_and(|r| r.is_named(rule_key))
}

impl Inline {
    /// A suppression without a reason suppresses nothing (every suppression says why).
    pub fn has_reason(&self) -> bool {
        !self.reason.trim().is_empty()
    }

    /// Does this comment silence `f` (a finding spanning lines `start..=end`)?
    pub fn covers(&self, f: &Finding) -> bool {
        if !self.has_reason() || !self.rules.iter().any(|r| names(r, &f.rule)) {
            return false;
        }
        if self.file_wide {
            return true;
        }
        let (start, end) = (f.location.line, f.location.end_line.max(f.location.line));
        (start..=end).contains(&self.line) || (self.own_line && start == self.line + 1)
    }

    /// Does this comment silence `f` through the statement (`first..=last` lines) the finding is
    /// part of? A comment on that statement's lines or alone on the line above it counts as for
    /// a finding spanning the whole statement.
    pub fn covers_statement(&self, f: &Finding, statement: Option<(u32, u32)>) -> bool {
        let Some((first, last)) = statement else {
            return false;
        };
        if !self.has_reason() || !self.rules.iter().any(|r| names(r, &f.rule)) {
            return false;
        }
        (first..=last).contains(&self.line) || (self.own_line && first == self.line + 1)
    }

    pub fn notes(&self, path: &str) -> Vec<SuppressionNote> {
        let source = if self.file_wide {
            SuppressionSource::InlineFile
        } else {
            SuppressionSource::InlineLine
        };
        let mut v = Vec::new();
        for r in &self.rules {
            if catalog::lookup(r).is_none() {
                v.push(SuppressionNote {
                    source: source.clone(),
                    location: format!("{path}:{}", self.line),
                    rule: r.clone(),
                    problem: SuppressionProblem::UnknownRule,
                });
            }
        }
        // Without a reason it cannot be used; that is reported as a finding of its own.
        if !self.used && v.is_empty() && self.has_reason() {
            v.push(SuppressionNote {
                source,
                location: format!("{path}:{}", self.line),
                rule: self.rules.join(","),
                problem: SuppressionProblem::Unused,
            });
        }
        v
    }
}

/// A baseline: fingerprints of accepted findings. Accepts bulkhead's baseline format or a
/// previous `bulkhead.scan/1` JSON report.
#[derive(Debug, Clone, Default)]
pub struct Baseline {
    pub fingerprints: BTreeSet<String>,
}

#[derive(Deserialize)]
struct BaselineFile {
    schema: String,
    #[serde(default)]
    fingerprints: Vec<String>,
    #[serde(default)]
    findings: Vec<FingerprintOnly>,
}

#[derive(Deserialize)]
struct FingerprintOnly {
    fingerprint: String,
}

pub const BASELINE_SCHEMA: &str = "bulkhead.scan-baseline/1";

impl Baseline {
    pub fn parse(text: &str) -> Result<Baseline, String> {
        let f: BaselineFile = serde_json::from_str(text)
            .map_err(|e| format!("line {}, column {}: {e}", e.line(), e.column()))?;
        let fingerprints: BTreeSet<String> = match f.schema.as_str() {
            BASELINE_SCHEMA => f.fingerprints.into_iter().collect(),
            "bulkhead.scan/1" => f.findings.into_iter().map(|x| x.fingerprint).collect(),
            other => {
                return Err(format!(
                    "schema {other:?} is neither {BASELINE_SCHEMA} nor bulkhead.scan/1"
                ))
            }
        };
        Ok(Baseline { fingerprints })
    }

    /// The baseline file for `findings`.
    pub fn render(findings: &[Finding]) -> String {
        let fps: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
        let v = serde_json::json!({"schema": BASELINE_SCHEMA, "fingerprints": fps});
        serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
    }
}

/// The path a fingerprint hashes: relative to the source tree's root when the file lies inside
/// it, else as given.
fn fingerprint_path(path: &str, root: Option<&SourceRoot>) -> String {
    root.and_then(|r| r.relative(path))
        .unwrap_or_else(|| path.to_string())
}

/// FNV-1a, 64 bit: a fixed, dependency-free hash so fingerprints stay stable across builds.
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.bytes().chain(std::iter::once(0u8)) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// Give each finding its fingerprint: rule, path, object and the whitespace-normalised snippet,
/// plus an occurrence counter for identical keys, so moving code up or down keeps it.
///
/// A path inside `root`'s source tree counts as its path from the top of the tree, so
/// `bulkhead scan "$PWD"`, `bulkhead scan .` and a scan run in a subdirectory agree, and a
/// checkout keeps its fingerprints when it moves to another directory.
pub fn assign_fingerprints(findings: &mut [Finding], root: Option<&SourceRoot>) {
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for f in findings.iter_mut() {
        let snippet: String = f.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        let path = fingerprint_path(&f.location.path, root);
        let base = fnv1a(&[&f.rule, &path, &f.object, &snippet]);
        let n = seen.entry(base).or_insert(0);
        *n += 1;
        f.fingerprint = format!("{:016x}", fnv1a(&[&format!("{base:x}"), &n.to_string()]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(t: &str) -> Vec<Inline> {
        inline_comments(t, CommentSyntax::Yaml, &[])
    }

    #[test]
    fn marker_after_a_hash_in_a_value_still_counts() {
        let v = yaml("image: \"app#1\" # bulkhead:ignore k8s-image-latest pinned elsewhere\nx: 1 # not bulkhead:ignore-ish\ny: 2 # bulkhead:ignore-ish x\n");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rules, vec!["k8s-image-latest"]);
        assert!(!v[0].own_line);
    }

    #[test]
    fn finds_line_and_file_comments() {
        let t = "FROM x\n# bulkhead:ignore DL3002,dockerfile-sudo accepted for the demo\nUSER root\n  # bulkhead:ignore dockerfile-sudo ok\nRUN sudo x\n# bulkhead:ignore-file dockerfile-healthcheck-missing a job image\n";
        let v = inline_comments(t, CommentSyntax::Dockerfile, &[]);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].rules, vec!["DL3002", "dockerfile-sudo"]);
        assert!(v[0].own_line);
        assert_eq!(v[0].reason, "accepted for the demo");
        assert_eq!(v[1].line, 4);
        assert!(v[1].own_line);
        assert!(v[2].file_wide);
    }

    #[test]
    fn dockerfile_markers_count_on_comment_lines_only() {
        // The reviewer's injection: the marker is an argument of echo, not a comment.
        let t = "FROM debian:12.5\nUSER root\nRUN echo \"# bulkhead:ignore-file dockerfile-secret,dockerfile-root-final-stage harmless\"\nRUN x # bulkhead:ignore dockerfile-sudo trailing text is part of the instruction\nENV A=1 # bulkhead:ignore dockerfile-secret part of the value\nRUN a && \\\n  echo \\\n  \"# bulkhead:ignore-file dockerfile-sudo continued\"\n";
        assert!(
            inline_comments(t, CommentSyntax::Dockerfile, &[]).is_empty(),
            "{:?}",
            inline_comments(t, CommentSyntax::Dockerfile, &[])
        );
        // A comment line inside a heredoc body is script text: the parser's ranges exclude it.
        let t = "FROM x\nRUN <<EOF\n# bulkhead:ignore-file dockerfile-sudo in the script\nsudo id\nEOF\n";
        let body = t.find("# bulkhead").unwrap()..t.rfind("EOF").unwrap();
        assert_eq!(inline_comments(t, CommentSyntax::Dockerfile, &[]).len(), 1);
        assert!(inline_comments(t, CommentSyntax::Dockerfile, &[body]).is_empty());
    }

    #[test]
    fn yaml_markers_inside_scalars_do_not_count() {
        for t in [
            // the reviewer's annotation value
            "metadata:\n  annotations:\n    description: \"see docs # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed\"\n",
            "d: 'it''s # bulkhead:ignore-file k8s-privileged x'\n",
            "d: \"a \\\" # bulkhead:ignore-file k8s-privileged x\"\n",
            "- \"x # bulkhead:ignore-file k8s-privileged x\"\n",
            "{a: \"x\", b: \"y # bulkhead:ignore-file k8s-privileged x\"}\n",
            "{\"a\":\"y # bulkhead:ignore-file k8s-privileged x\"}\n",
            // a double-quoted scalar over several lines
            "d: \"first line\n  # bulkhead:ignore-file k8s-privileged x\n  end\"\n",
            "d: 'first line\n  # bulkhead:ignore-file k8s-privileged x'\n",
            // block scalars: every content line is text
            "data:\n  script: |\n    echo hi\n    # bulkhead:ignore-file k8s-privileged x\n  other: 1\n",
            "data:\n  script: >-\n\n    # bulkhead:ignore-file k8s-privileged x\n",
            "args:\n- |\n  # bulkhead:ignore-file k8s-privileged x\n",
            "- name: x\n  value: !!str |\n    # bulkhead:ignore-file k8s-privileged x\n",
        ] {
            assert!(yaml(t).is_empty(), "{t}: {:?}", yaml(t));
        }
    }

    #[test]
    fn yaml_real_comments_count() {
        for (t, line, own_line) in [
            ("# bulkhead:ignore-file k8s-privileged x\n", 1, true),
            (
                "a: plain text # bulkhead:ignore k8s-privileged x\n",
                1,
                false,
            ),
            ("a: \"q\" # bulkhead:ignore k8s-privileged x\n", 1, false),
            ("a: 'it''s' # bulkhead:ignore k8s-privileged x\n", 1, false),
            (
                "msg: it's here # bulkhead:ignore k8s-privileged x\n",
                1,
                false,
            ),
            (
                "a: \"two\n  lines\" # bulkhead:ignore k8s-privileged x\n",
                2,
                false,
            ),
            // after a block scalar, a less indented comment is a comment again
            (
                "a:\n  s: |\n    text\n  # bulkhead:ignore k8s-privileged x\n  b: 1\n",
                4,
                true,
            ),
            (
                "- key: |\n    text\n  other: 1 # bulkhead:ignore k8s-privileged x\n",
                3,
                false,
            ),
        ] {
            let v = yaml(t);
            assert_eq!(v.len(), 1, "{t}: {v:?}");
            assert_eq!((v[0].line, v[0].own_line), (line, own_line), "{t}");
        }
        // `a#b` is not a comment (no blank before the `#`)
        assert!(yaml("a: x#bulkhead:ignore k8s-privileged y\n").is_empty());
        // JSON has no comments at all
        assert!(
            inline_comments("# bulkhead:ignore-file x y\n", CommentSyntax::None, &[]).is_empty()
        );
        // whatever the lexer says, a range the parser saw as a scalar is data
        let t = "a: # bulkhead:ignore k8s-privileged x\n";
        let scalar = 3..t.len();
        assert!(inline_comments(t, CommentSyntax::Yaml, std::slice::from_ref(&scalar)).is_empty());
    }

    #[test]
    fn baseline_formats() {
        let b =
            Baseline::parse("{\"schema\":\"bulkhead.scan-baseline/1\",\"fingerprints\":[\"a\"]}")
                .unwrap();
        assert!(b.fingerprints.contains("a"));
        let b = Baseline::parse("{\"schema\":\"bulkhead.scan/1\",\"findings\":[{\"fingerprint\":\"b\",\"rule\":\"x\"}]}").unwrap();
        assert!(b.fingerprints.contains("b"));
        assert!(Baseline::parse("{\"schema\":\"other\"}").is_err());
        let e = Baseline::parse("{\n oops").unwrap_err();
        assert!(e.starts_with("line 2"), "{e}");
    }
}
