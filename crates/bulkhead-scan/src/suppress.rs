//! Suppressions: inline comments, Kubernetes annotations, configuration entries and the
//! baseline. Every suppression says why; the ones that silence nothing, name an unknown rule or
//! have expired are reported, so they cannot pile up unseen.
//!
//! - `# bulkhead:ignore RULE[,RULE...] reason` at the end of a line, or alone on the line above,
//!   silences those rules for findings on that line (rule IDs or aliases such as DL3002).
//! - `# bulkhead:ignore-file RULE[,RULE...] reason` anywhere silences them for the whole file.
//! - `ignore.bulkhead.dev/RULE: "reason"` in the annotations of a Kubernetes object or of its
//!   pod template silences RULE for findings inside that object.
//! - `[[scan.ignore]]` entries in the configuration (see `config`), with optional expiry.
//! - A baseline file: findings whose fingerprint it lists are accepted as known.

use crate::catalog;
use crate::model::{Finding, SuppressionNote, SuppressionProblem, SuppressionSource};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

pub const ANNOTATION_PREFIX: &str = "ignore.bulkhead.dev/";

/// An inline comment suppression.
#[derive(Debug, Clone)]
pub struct Inline {
    pub line: u32,
    /// Alone on its line: applies to the next line too.
    pub own_line: bool,
    pub file_wide: bool,
    pub rules: Vec<String>,
    pub reason: String,
    pub used: bool,
}

/// Find `bulkhead:ignore` comments. Only text after a `#` counts (YAML and Dockerfile comments);
/// a `#` inside a quoted YAML value is not a comment but would rarely contain the marker.
pub fn inline_comments(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    if !text.contains("bulkhead:ignore") {
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        // The marker, then the `#` that starts its comment (a `#` earlier on the line may sit
        // inside a quoted value or a URL).
        let Some(marker) = line.find("bulkhead:ignore") else {
            continue;
        };
        let Some(hash) = line[..marker].rfind('#') else {
            continue;
        };
        if !line[hash + 1..marker].trim().is_empty() {
            continue;
        }
        let comment = &line[marker..];
        let (file_wide, rest) = if let Some(r) = comment.strip_prefix("bulkhead:ignore-file") {
            (true, r)
        } else if let Some(r) = comment.strip_prefix("bulkhead:ignore") {
            (false, r)
        } else {
            continue;
        };
        let rest = rest.trim();
        let (rules, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        out.push(Inline {
            line: i as u32 + 1,
            own_line: line[..hash].trim().is_empty(),
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

fn names(rule_key: &str, finding_rule: &str) -> bool {
    catalog::rule(finding_rule).is_some_and(|r| r.is_named(rule_key))
}

impl Inline {
    /// Does this comment silence `f` (a finding spanning lines `start..=end`)?
    pub fn covers(&self, f: &Finding) -> bool {
        if !self.rules.iter().any(|r| names(r, &f.rule)) {
            return false;
        }
        if self.file_wide {
            return true;
        }
        let (start, end) = (f.location.line, f.location.end_line.max(f.location.line));
        (start..=end).contains(&self.line) || (self.own_line && start == self.line + 1)
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
        if !self.used && v.is_empty() {
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
pub fn assign_fingerprints(findings: &mut [Finding]) {
    let mut seen: HashMap<u64, u32> = HashMap::new();
    for f in findings.iter_mut() {
        let snippet: String = f.snippet.split_whitespace().collect::<Vec<_>>().join(" ");
        let base = fnv1a(&[&f.rule, &f.location.path, &f.object, &snippet]);
        let n = seen.entry(base).or_insert(0);
        *n += 1;
        f.fingerprint = format!("{:016x}", fnv1a(&[&format!("{base:x}"), &n.to_string()]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_after_a_hash_in_a_value_still_counts() {
        let v = inline_comments("image: \"app#1\" # bulkhead:ignore k8s-image-latest pinned elsewhere\nx: 1 # not bulkhead:ignore-ish\n");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].rules, vec!["k8s-image-latest"]);
        assert!(!v[0].own_line);
    }

    #[test]
    fn finds_line_and_file_comments() {
        let t = "FROM x\n# bulkhead:ignore DL3002,dockerfile-sudo accepted for the demo\nUSER root\nRUN sudo x # bulkhead:ignore dockerfile-sudo ok\n# bulkhead:ignore-file dockerfile-healthcheck-missing a job image\n";
        let v = inline_comments(t);
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].rules, vec!["DL3002", "dockerfile-sudo"]);
        assert!(v[0].own_line);
        assert_eq!(v[0].reason, "accepted for the demo");
        assert!(!v[1].own_line);
        assert!(v[2].file_wide);
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
