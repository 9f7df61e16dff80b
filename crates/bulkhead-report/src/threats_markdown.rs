//! Markdown rendering of a threat model: the Mermaid diagram, a threat table, and each threat
//! with its status, reason, evidence and fix. Used by `bulkhead threats --format markdown` and
//! by the assessment report.
//!
//! Names, reasons and evidence come from the audited host and go through crate::markdown;
//! library descriptions, mitigations and references are authored Markdown and do not.

use crate::markdown::{cell, code, fenced, line_start, text};
use bulkhead_threats::{Platform, ThreatModel, ThreatResult, ThreatStatus};
use std::fmt::Write;

pub fn stride(t: &ThreatResult) -> String {
    t.stride.join("")
}

/// The threat table and details of one platform, headings at `level`.
pub fn platform_section(tm: &ThreatModel, p: Platform, level: usize, out: &mut String) {
    let h = "#".repeat(level);
    let threats: Vec<&ThreatResult> = tm.threats_for(p).collect();
    let _ = writeln!(out, "{h} Data-flow diagram\n");
    let sub = sub_model(tm, p);
    let _ = writeln!(
        out,
        "{}",
        fenced("mermaid", &bulkhead_threats::mermaid::render(&sub))
    );
    let _ = writeln!(out, "Flows:\n");
    for (i, f) in sub.flows.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {} → {}: {}, {}; authentication: {}; encryption: {}",
            i + 1,
            line_start(&text(tm.item_name(&f.from))),
            text(tm.item_name(&f.to)),
            text(&f.protocol),
            text(&f.port),
            text(&f.authentication),
            text(&f.encryption)
        );
    }
    let _ = writeln!(out, "\n{h} Threats\n");
    let _ = writeln!(
        out,
        "| ID | STRIDE | Threat | Status | Severity (after planned fixes) | Confidence |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for t in &threats {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} ({}) | {} |",
            cell(&t.id),
            cell(&stride(t)),
            cell(&t.title),
            t.status.label(),
            t.severity,
            t.projected_severity,
            t.confidence.as_str()
        );
    }
    out.push('\n');
    for t in threats {
        threat_details(tm, t, level + 1, out);
    }
}

/// A copy of the model restricted to one platform (for per-platform diagrams).
pub fn sub_model(tm: &ThreatModel, p: Platform) -> ThreatModel {
    let mut s = tm.clone();
    s.elements.retain(|e| e.platform == p);
    s.flows.retain(|f| f.platform == p);
    s.boundaries.retain(|b| b.platform == p);
    s
}

pub fn threat_details(tm: &ThreatModel, t: &ThreatResult, level: usize, out: &mut String) {
    let h = "#".repeat(level);
    let _ = writeln!(out, "{h} {} {}\n", text(&t.id), text(&t.title));
    let _ = writeln!(
        out,
        "- **Status:** {}{} ({})\n- **Severity:** {} now, {} after the planned fixes (likelihood {}{}, impact {})\n- **STRIDE:** {}\n- **Targets:** {}",
        t.status.label(),
        t.computed_status.map(|c| format!(" (evidence says {})", c.label())).unwrap_or_default(),
        text(&t.reason),
        t.severity,
        t.projected_severity,
        t.likelihood.current,
        if t.likelihood.raised_by.is_empty() { String::new() } else { format!(", raised because {}", text(&t.likelihood.raised_by.join("; "))) },
        t.impact,
        text(&stride(t)),
        if t.targets.is_empty() {
            // Said, not left blank: a threat that does not apply here targets nothing.
            "none on this host".to_string()
        } else {
            t.targets.iter().map(|x| code(tm.item_name(x))).collect::<Vec<_>>().join(", ")
        }
    );
    if let Some(a) = &t.acceptance {
        let _ = writeln!(
            out,
            "- **Accepted** by {} until {}: {}",
            text(&a.owner),
            text(&a.expires),
            text(&a.reason)
        );
    }
    for n in &t.notes {
        let _ = writeln!(out, "- **Note:** {}", text(n));
    }
    let _ = writeln!(out, "\n{}\n", t.description);
    let failing: Vec<_> = t
        .evidence
        .iter()
        .filter(|e| e.status.as_str() != "pass" && e.status.as_str() != "not_applicable")
        .collect();
    if !failing.is_empty() {
        // A mitigated threat's observations that do not pass are of controls that detect it, or
        // items to review: they do not keep it open, and saying so would contradict its status.
        let heading = if t.status == ThreatStatus::Mitigated {
            "Observations that do not pass (detecting controls and items to review; prevention holds):"
        } else {
            "Evidence that keeps it open:"
        };
        let _ = writeln!(out, "{heading}\n");
        for e in failing.iter().take(12) {
            let _ = writeln!(
                out,
                "- {} {}{}: {}{}",
                line_start(&text(&e.check)),
                code(e.status.as_str()),
                on_object(e),
                e.actual.as_deref().map(text).unwrap_or_else(|| "-".into()),
                format_args!(" ({} confidence)", e.confidence.as_str())
            );
        }
        if failing.len() > 12 {
            let _ = writeln!(out, "- … and {} more", failing.len() - 12);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "Mitigation: {}\n", t.mitigation);
    let refs = t.refs.labelled();
    if !refs.is_empty() {
        let _ = writeln!(out, "References: {}\n", refs.join(", "));
    }
}

/// `bulkhead threats --format markdown`.
pub fn render(tm: &ThreatModel) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Threat model of {}\n", text(&tm.system.host));
    let _ = writeln!(
        out,
        "Generated by bulkhead {} on {} from evidence collected at {} ({}). Each status is computed from that evidence.\n",
        text(&tm.tool.version),
        text(&tm.as_of),
        text(&tm.system.collected_at),
        text(&tm.evidence_sources.join(", "))
    );
    summary(tm, &mut out);
    for p in tm.system.platforms.clone() {
        let _ = writeln!(out, "## {} threat model\n", p.title());
        platform_section(tm, p, 3, &mut out);
    }
    out
}

pub fn summary(tm: &ThreatModel, out: &mut String) {
    let _ = writeln!(out, "{}\n", counts(tm));
}

/// `29 threats: 11 exposed, 4 mitigated, ...` (the model's own words, no markup).
pub fn counts(tm: &ThreatModel) -> String {
    format!(
        "{} threats: {}.",
        tm.summary.threats,
        tm.summary
            .by_status
            .iter()
            .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// ` on OBJECT` for an observation about one object; nothing for one about the host (or the
/// cluster) as a whole, so that the line reads `4.12 manual: ...`.
pub(crate) fn on_object(e: &bulkhead_threats::evidence::EvidenceItem) -> String {
    e.named_object()
        .map(|o| format!(" on {}", text(o)))
        .unwrap_or_default()
}
