//! `bulkhead scan --format json`: the documented schema `bulkhead.scan/1`, produced by a
//! serializer with one stable shape (fields are never left out because they are empty, except
//! `control` and `fix`, which exist only when the rule has them).

use bulkhead_scan::{ScanReport, Severity};
use serde_json::{json, Value};

pub const SCHEMA: &str = "bulkhead.scan/1";

pub fn render(report: &ScanReport, version: &str) -> String {
    let mut s = serde_json::to_string_pretty(&value(report, version)).unwrap_or_default();
    s.push('\n');
    s
}

pub fn value(report: &ScanReport, version: &str) -> Value {
    let by_severity: serde_json::Map<String, Value> = Severity::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), json!(report.count(*s))))
        .collect();
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let mut v = json!({
                "rule": f.rule,
                "title": f.title,
                "severity": f.severity,
                "status": f.status,
                "message": f.message,
                "artifact": f.artifact,
                "location": {
                    "path": f.location.path,
                    "line": f.location.line,
                    "column": f.location.column,
                    "end_line": f.location.end_line,
                    "end_column": f.location.end_column,
                    "offset": f.location.offset,
                    "length": f.location.length,
                },
                "object": f.object,
                "benchmark_refs": f.benchmark_refs,
                "aliases": f.aliases,
                "stride": f.stride,
                "snippet": f.snippet,
                "fingerprint": f.fingerprint,
            });
            if let Some(c) = &f.control {
                v["control"] = json!(c);
            }
            if let Some(fix) = &f.fix {
                v["fix"] = json!(fix);
            }
            v
        })
        .collect();
    let suppressed: Vec<Value> = report
        .suppressed
        .iter()
        .map(|s| {
            json!({
                "rule": s.finding.rule,
                "location": {"path": s.finding.location.path, "line": s.finding.location.line, "column": s.finding.location.column},
                "object": s.finding.object,
                "source": s.source,
                "reason": s.reason,
                "fingerprint": s.finding.fingerprint,
            })
        })
        .collect();
    json!({
        "schema": SCHEMA,
        "tool": {"name": "bulkhead", "version": version},
        "summary": {
            "files": report.files.len(),
            "findings": report.findings.len(),
            "by_severity": by_severity,
            "errors": report.errors.len(),
            "skipped": report.skipped.len(),
            "suppressed": report.suppressed.len(),
            "baseline_resolved": report.baseline_resolved,
        },
        "files": report.files,
        "findings": findings,
        "errors": report.errors,
        "skipped": report.skipped,
        "suppressed": suppressed,
        "suppression_notes": report.suppression_notes,
    })
}
