//! `bulkhead scan --format sarif`: SARIF 2.1.0 that GitHub code scanning accepts (PITFALLS
//! "Artifact scanners" 6): exactly one run, a physical location on every result, rules carrying
//! `security-severity`, stable `partialFingerprints`. Files that could not be scanned are tool
//! execution notifications (with their location), not results.

use bulkhead_scan::{Finding, Safety, ScanReport, Severity};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// A relative URI for a path as reported (percent-encoding what URIs cannot hold); absolute
/// paths become file:// URIs.
pub fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    if path.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

fn region(f: &Finding) -> Value {
    let mut r = json!({
        "startLine": f.location.line.max(1),
        "startColumn": f.location.column.max(1),
        "endLine": f.location.end_line.max(f.location.line).max(1),
        "byteOffset": f.location.offset,
        "byteLength": f.location.length,
        "snippet": {"text": f.snippet},
    });
    if f.location.end_line <= f.location.line && f.location.end_column > f.location.column {
        r["endColumn"] = json!(f.location.end_column);
    }
    r
}

pub fn render(report: &ScanReport, version: &str) -> String {
    let mut s = serde_json::to_string_pretty(&value(report, version)).unwrap_or_default();
    s.push('\n');
    s
}

pub fn value(report: &ScanReport, version: &str) -> Value {
    // Rules referenced by results, in a stable order.
    let mut used: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &report.findings {
        let n = used.len();
        used.entry(f.rule.as_str()).or_insert(n);
    }
    let mut ordered: Vec<(&str, usize)> = used.iter().map(|(k, v)| (*k, *v)).collect();
    ordered.sort_by_key(|(_, i)| *i);
    let rules: Vec<Value> = ordered
        .iter()
        .map(|(id, _)| {
            let r = bulkhead_scan::catalog::rule(id);
            let (title, why, fix, sev, stride, refs, aliases) = match r {
                Some(r) => (r.title.as_str(), r.why.as_str(), r.fix.as_str(), r.severity, r.stride.clone(), r.benchmark_refs.clone(), r.aliases.clone()),
                None => (*id, "", "", Severity::Medium, Vec::new(), BTreeMap::new(), Vec::new()),
            };
            let mut tags = vec!["security".to_string()];
            tags.extend(stride.iter().map(|s| format!("STRIDE/{}", s.name())));
            tags.extend(refs.iter().map(|(k, v)| format!("{k}/{v}")));
            json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": title},
                "fullDescription": {"text": why},
                "help": {"text": format!("{why}\n\nFix: {fix}"), "markdown": format!("{why}\n\n**Fix:** {fix}")},
                "defaultConfiguration": {"level": level(sev)},
                "properties": {
                    "security-severity": sev.security_severity(),
                    "precision": "high",
                    "tags": tags,
                    "aliases": aliases,
                },
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut v = json!({
                "ruleId": f.rule,
                "ruleIndex": used[f.rule.as_str()],
                "level": level(f.severity),
                "message": {"text": format!("{} ({})", f.message, f.object)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri(&f.location.path)},
                        "region": region(f),
                    },
                    "logicalLocations": [{"name": f.object, "kind": "object"}],
                }],
                "partialFingerprints": {"bulkhead/v1": f.fingerprint},
                "properties": {
                    "object": f.object,
                    "benchmark_refs": f.benchmark_refs,
                    "control": f.control,
                    "severity": f.severity,
                },
            });
            if let Some(fix) = &f.fix {
                let replacements: Vec<Value> = fix
                    .edits
                    .iter()
                    .map(|e| json!({"deletedRegion": {"byteOffset": e.offset, "byteLength": e.length}, "insertedContent": {"text": e.replacement}}))
                    .collect();
                let safety = match fix.safety {
                    Safety::Safe => "safe",
                    Safety::Review => "review",
                };
                v["fixes"] = json!([{
                    "description": {"text": format!("{} ({safety})", fix.description)},
                    "artifactChanges": [{"artifactLocation": {"uri": uri(&f.location.path)}, "replacements": replacements}],
                }]);
            }
            v
        })
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": {"text": e.message},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri(&e.path)},
                    "region": {"startLine": e.line.max(1), "startColumn": e.column.max(1)},
                }}],
            })
        })
        .collect();
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "bulkhead",
                "informationUri": "https://example.invalid/bulkhead",
                "semanticVersion": version,
                "version": version,
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }],
    })
}
