//! JUnit XML: one test suite per benchmark section, one test case per check, so CI systems show
//! failing checks as failing tests. fail -> <failure>, error -> <error>; manual, warn and
//! not_applicable -> <skipped> with the reason (they need a person, not a red build).

use crate::audit_json::{section_of_outcome, section_title};
use crate::xml::escape;
use crate::Target;
use bulkhead_checks::{Audit, Status};
use std::fmt::Write;

pub fn render(audits: &[(Audit, Target)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = audits.iter().map(|(a, _)| a.outcomes.len()).sum();
    let failures: usize = audits.iter().map(|(a, _)| a.count(Status::Fail)).sum();
    let errors: usize = audits.iter().map(|(a, _)| a.count(Status::Error)).sum();
    let _ = writeln!(out, "<testsuites name=\"bulkhead\" tests=\"{total}\" failures=\"{failures}\" errors=\"{errors}\">");
    for (audit, target) in audits {
        let mut sections: Vec<String> = audit
            .outcomes
            .iter()
            .map(|o| section_of_outcome(audit, o))
            .collect();
        sections.dedup();
        for sec in sections {
            let cases: Vec<_> = audit
                .outcomes
                .iter()
                .filter(|o| section_of_outcome(audit, o) == sec)
                .collect();
            let count = |s: Status| cases.iter().filter(|o| o.result.status == s).count();
            let skipped = cases
                .iter()
                .filter(|o| {
                    matches!(
                        o.result.status,
                        Status::Manual | Status::Warn | Status::NotApplicable
                    )
                })
                .count();
            let suite = format!(
                "{} {} {sec} {}",
                audit.benchmark.id,
                audit.benchmark.default_edition(),
                section_title(audit, &sec)
            );
            let _ = writeln!(
                out,
                "  <testsuite name=\"{}\" hostname=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" timestamp=\"{}\">",
                escape(suite.trim()),
                escape(&target.host),
                cases.len(),
                count(Status::Fail),
                count(Status::Error),
                skipped,
                escape(&junit_timestamp(&target.collected_at))
            );
            for o in cases {
                let name = format!("{} - {}", o.check_id, o.control.title);
                let class = format!("{}.{}", audit.benchmark.id, o.control.id);
                let msg = o.result.message.clone().unwrap_or_default();
                let body: String = o
                    .result
                    .objects
                    .iter()
                    .map(|obj| {
                        let ev = obj
                            .evidence
                            .as_ref()
                            .map(|e| {
                                format!(": {} = {} (expected {})", e.field, e.actual, e.expected)
                            })
                            .unwrap_or_default();
                        let note = obj
                            .note
                            .as_ref()
                            .map(|n| format!(" ({n})"))
                            .unwrap_or_default();
                        format!(
                            "[{}] {} {}{ev}{note}\n",
                            obj.status.label(),
                            obj.kind,
                            obj.name
                        )
                    })
                    .collect();
                let _ = write!(
                    out,
                    "    <testcase name=\"{}\" classname=\"{}\">",
                    escape(&name),
                    escape(&class)
                );
                match o.result.status {
                    Status::Fail => {
                        let _ = write!(
                            out,
                            "<failure message=\"{}\" type=\"fail\">{}</failure>",
                            escape(&msg),
                            escape(&body)
                        );
                    }
                    Status::Error => {
                        let _ = write!(
                            out,
                            "<error message=\"{}\" type=\"error\">{}</error>",
                            escape(&msg),
                            escape(&body)
                        );
                    }
                    Status::Manual | Status::Warn | Status::NotApplicable => {
                        let _ = write!(
                            out,
                            "<skipped message=\"{}: {}\"/>",
                            o.result.status.as_str(),
                            escape(&msg)
                        );
                    }
                    Status::Pass | Status::Info => {
                        if !body.is_empty() || !msg.is_empty() {
                            let _ = write!(
                                out,
                                "<system-out>{}{}</system-out>",
                                escape(&msg),
                                escape(&format!("\n{body}"))
                            );
                        }
                    }
                }
                let _ = writeln!(out, "</testcase>");
            }
            let _ = writeln!(out, "  </testsuite>");
        }
    }
    out.push_str("</testsuites>\n");
    out
}

/// JUnit's `timestamp` is an ISO 8601 date-time without a zone (the strict Ant schema rejects one);
/// bulkhead's collection times are UTC, so the trailing `Z` and fractions are dropped.
fn junit_timestamp(rfc3339: &str) -> String {
    let t = rfc3339.trim_end_matches('Z');
    t.split('.').next().unwrap_or(t).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamp_has_no_zone() {
        assert_eq!(
            super::junit_timestamp("2026-11-28T06:05:54Z"),
            "2026-11-28T06:05:54"
        );
        assert_eq!(
            super::junit_timestamp("2026-11-28T06:05:54.123Z"),
            "2026-11-28T06:05:54"
        );
    }
}
