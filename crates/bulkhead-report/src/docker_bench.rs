//! `--format docker-bench-json`: docker-bench-security's field names (dockerbenchsecurity, start,
//! tests[].id/desc/results[], checks, score, end) so existing consumers keep working, but made by
//! a serializer (properly escaped) and always in one shape.
//!
//! Status mapping, since docker-bench knows only PASS, WARN, INFO and NOTE: pass -> PASS;
//! fail, warn and error -> WARN (each needs attention; `details` says which); info and
//! not_applicable -> INFO; manual -> NOTE. `details` is the real status and the roll-up message,
//! then each failing, warning or unreadable object with its evidence; `items` names every object
//! that neither passes nor is not applicable.

use crate::audit_json::{section_of_outcome, section_title};
use bulkhead_checks::{Audit, Status};
use serde::Serialize;

#[derive(Serialize)]
struct Document {
    dockerbenchsecurity: String,
    start: i64,
    tests: Vec<Section>,
    checks: usize,
    score: i64,
    end: i64,
}

#[derive(Serialize)]
struct Section {
    id: String,
    desc: String,
    results: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    id: String,
    desc: String,
    result: &'static str,
    details: String,
    items: Vec<String>,
    remediation: String,
    #[serde(rename = "remediation-impact")]
    remediation_impact: String,
}

pub fn result_label(s: Status) -> &'static str {
    match s {
        Status::Pass => "PASS",
        Status::Fail | Status::Warn | Status::Error => "WARN",
        Status::Info | Status::NotApplicable => "INFO",
        Status::Manual => "NOTE",
    }
}

/// `start` and `end` are Unix seconds.
pub fn render(audit: &Audit, tool_version: &str, start: i64, end: i64) -> String {
    let mut tests: Vec<Section> = Vec::new();
    for o in &audit.outcomes {
        let sec = section_of_outcome(audit, o);
        if tests.last().map(|t| t.id != sec).unwrap_or(true) {
            tests.push(Section {
                desc: section_title(audit, &sec),
                id: sec,
                results: Vec::new(),
            });
        }
        let status_word = o.result.status.as_str();
        let mut details = match &o.result.message {
            Some(m) => format!("{status_word}: {m}"),
            None => status_word.to_string(),
        };
        // docker-bench puts what it found (`container:/etc`) in its output; consumers that show
        // only `details` should see why each object needs attention, as the text report does.
        for obj in o
            .result
            .objects
            .iter()
            .filter(|obj| matches!(obj.status, Status::Fail | Status::Warn | Status::Error))
        {
            details.push_str(&format!(
                "; [{}] {} {}",
                obj.status.as_str(),
                obj.kind,
                obj.name
            ));
            if let Some(e) = &obj.evidence {
                details.push_str(&format!(
                    ": {} = {} (expected {})",
                    e.field, e.actual, e.expected
                ));
            }
        }
        let items = o
            .result
            .objects
            .iter()
            .filter(|obj| !matches!(obj.status, Status::Pass | Status::NotApplicable))
            .map(|obj| obj.name.clone())
            .collect();
        tests.last_mut().expect("pushed above").results.push(Entry {
            id: o.check_id.clone(),
            desc: o.control.title.clone(),
            result: result_label(o.result.status),
            details,
            items,
            remediation: o.control.remediation.trim().to_string(),
            remediation_impact: String::new(),
        });
    }
    let doc = Document {
        dockerbenchsecurity: format!("bulkhead {tool_version}"),
        start,
        checks: audit.outcomes.len(),
        score: audit.score(),
        tests,
        end,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("serializes");
    s.push('\n');
    s
}
