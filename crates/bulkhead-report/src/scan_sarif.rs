//! `bulkhead scan --format sarif`: SARIF 2.1.0 that GitHub code scanning accepts (PITFALLS
//! "Artifact scanners" 6): exactly one run, a physical location on every result, rules carrying
//! `security-severity`, stable `partialFingerprints`. Files that could not be scanned are tool
//! execution notifications (with their location), not results.

use bulkhead_scan::{Finding, Safety, ScanReport, Severity, SourceRoot};
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

/// The `uriBaseId` of every relative artifact URI: the top of the source tree the scan ran in
/// (the repository's root, against which GitHub code scanning reads relative URIs).
pub const SRCROOT: &str = "%SRCROOT%";

/// Percent-encode a path for a URI (RFC 3986 unreserved characters and `/` stay as they are).
fn encode(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The URI of a path as reported (percent-encoded); absolute paths become file:// URIs.
pub fn uri(path: &str) -> String {
    if path.starts_with('/') {
        format!("file://{}", encode(path))
    } else {
        encode(path)
    }
}

/// The artifact location of a reported path. A file inside the source tree (see
/// [`SourceRoot`]: the repository holding the scan's directory) is a relative URI with
/// `uriBaseId` %SRCROOT%, named from the top of the tree as code scanning reads it, so no local
/// directory leaks into it and it reads the same wherever the checkout is and whichever
/// directory the scan ran in; any other file is an absolute file:// URI.
fn artifact_location(path: &str, root: Option<&SourceRoot>) -> Value {
    let Some(root) = root else {
        return json!({"uri": uri(path)});
    };
    match root.relative(path) {
        Some(rel) => json!({"uri": encode(&rel), "uriBaseId": SRCROOT}),
        None => json!({"uri": uri(&root.absolute(path).unwrap_or_else(|| path.to_string()))}),
    }
}

/// A rule's `name`: SARIF wants a readable identifier that differs from the opaque `id`
/// (`dockerfile-no-user` -> `DockerfileNoUser`).
fn friendly_name(id: &str) -> String {
    id.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
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

/// `root` says where the scan ran and the top of its source tree, which becomes
/// `originalUriBaseIds` %SRCROOT%; without it, paths are written as given.
pub fn render(report: &ScanReport, version: &str, root: Option<&SourceRoot>) -> String {
    let mut s = serde_json::to_string_pretty(&value(report, version, root)).unwrap_or_default();
    s.push('\n');
    s
}

pub fn value(report: &ScanReport, version: &str, root: Option<&SourceRoot>) -> Value {
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
                "name": friendly_name(id),
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
                        "artifactLocation": artifact_location(&f.location.path, root),
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
                    "artifactChanges": [{"artifactLocation": artifact_location(&f.location.path, root), "replacements": replacements}],
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
                    "artifactLocation": artifact_location(&e.path, root),
                    "region": {"startLine": e.line.max(1), "startColumn": e.column.max(1)},
                }}],
            })
        })
        .collect();
    let mut run = json!({
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
    });
    if let Some(top) = root.and_then(|r| r.top.to_str()) {
        let dir = format!("{}/", top.trim_end_matches('/'));
        run["originalUriBaseIds"] = json!({SRCROOT: {"uri": uri(&dir)}});
    }
    json!({
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    })
}
