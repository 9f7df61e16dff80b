//! The threat register for a terminal (`bulkhead threats --format text`): one line per threat
//! with its status, ID, STRIDE letters, title and severity now and after the planned fixes;
//! under each threat that is still open, why, and the evidence that keeps it open. The other
//! formats carry the rest (descriptions, mitigations, references, the data-flow diagram).
//!
//! Host names, reasons and evidence come from the audited system: they are shown terminal-safe,
//! so a hostile container name cannot forge lines or send escape sequences.

use crate::audit_text::terminal_safe;
use bulkhead_threats::evidence::EvidenceItem;
use bulkhead_threats::{Platform, ThreatModel, ThreatResult, ThreatStatus};
use std::fmt::Write;

/// Evidence lines shown under one threat; the rest are counted.
const EVIDENCE_SHOWN: usize = 5;

/// The tag and its colour (SGR parameters) of a status.
fn tag(status: ThreatStatus) -> (&'static str, &'static str) {
    match status {
        ThreatStatus::Exposed => ("EXPOSED", "31;1"),
        ThreatStatus::PartiallyMitigated => ("PARTIAL", "33"),
        ThreatStatus::Unknown => ("UNKNOWN", "35"),
        ThreatStatus::Accepted => ("ACCEPTED", "34"),
        ThreatStatus::Mitigated => ("MITIGATED", "32"),
        ThreatStatus::NotApplicable => ("N/A", "2"),
    }
}

/// Whether a threat still needs someone's attention: its evidence is shown under it.
fn open(status: ThreatStatus) -> bool {
    !matches!(
        status,
        ThreatStatus::Mitigated | ThreatStatus::NotApplicable
    )
}

fn threat(out: &mut String, t: &ThreatResult, color: bool) {
    let (label, sgr) = tag(t.status);
    let tag = format!("[{label}]");
    // Padded to the widest tag, `[MITIGATED]`, so that the IDs line up.
    let pad = " ".repeat(12 - tag.len());
    if color {
        let _ = write!(out, "\x1b[{sgr}m{tag}\x1b[0m{pad}");
    } else {
        let _ = write!(out, "{tag}{pad}");
    }
    let severity = if t.projected_severity == t.severity {
        format!("severity {}", t.severity)
    } else {
        format!(
            "severity {}, {} after the planned fixes",
            t.severity, t.projected_severity
        )
    };
    let _ = writeln!(
        out,
        "{} {} ({}): {severity}",
        terminal_safe(&t.id),
        terminal_safe(&t.title),
        terminal_safe(&t.stride.join(""))
    );
    if !open(t.status) {
        return;
    }
    let indent = " ".repeat(12);
    let _ = writeln!(out, "{indent}why: {}", terminal_safe(&t.reason));
    if let Some(a) = &t.acceptance {
        let _ = writeln!(
            out,
            "{indent}accepted by {} until {}: {}",
            terminal_safe(&a.owner),
            terminal_safe(&a.expires),
            terminal_safe(&a.reason)
        );
    }
    for n in &t.notes {
        let _ = writeln!(out, "{indent}note: {}", terminal_safe(n));
    }
    evidence_lines(out, &indent, &t.evidence);
}

/// One line per check and verdict, naming every object it was made on: 50 containers that all
/// lack the same setting are one line, not 50.
fn evidence_lines(out: &mut String, indent: &str, evidence: &[EvidenceItem]) {
    let mut lines: Vec<(&str, &str, Vec<&EvidenceItem>)> = Vec::new();
    for e in evidence
        .iter()
        .filter(|e| !matches!(e.status.as_str(), "pass" | "not_applicable"))
    {
        let key = (e.check.as_str(), e.status.as_str());
        match lines.iter_mut().find(|l| (l.0, l.1) == key) {
            Some(l) => l.2.push(e),
            None => lines.push((key.0, key.1, vec![e])),
        }
    }
    // Failures first: the lines shown are the ones that keep the threat open most surely.
    lines.sort_by_key(|(_, status, _)| match *status {
        "fail" => 0,
        "error" => 1,
        "warn" => 2,
        "manual" => 3,
        _ => 4,
    });
    for (check, status, items) in lines.iter().take(EVIDENCE_SHOWN) {
        let actual =
            |e: &EvidenceItem| e.actual.as_deref().map(terminal_safe).unwrap_or("-".into());
        // Observations about the host as a whole name no object.
        let mut objects: Vec<&str> = Vec::new();
        for o in items.iter().filter_map(|e| e.named_object()) {
            if !objects.contains(&o) {
                objects.push(o);
            }
        }
        let first = items[0];
        // The observed value once when every observation shows it, else the first one's.
        let observed = if items.iter().all(|e| e.actual == first.actual) {
            format!(": {}", actual(first))
        } else {
            // One object's value, named when several objects are shown; a host-wide observation
            // has no name to give ("; -: ..." said nothing).
            let named = items.iter().find(|e| e.named_object().is_some());
            match named.filter(|_| objects.len() > 1) {
                Some(e) => format!("; {}: {}", terminal_safe(&e.object), actual(e)),
                None => format!(": {} (1 of {} observations)", actual(first), items.len()),
            }
        };
        let on = if objects.is_empty() {
            String::new()
        } else {
            format!(" on {}", objects_named(&objects))
        };
        let _ = writeln!(
            out,
            "{indent}* {} {status}{on}{observed}",
            terminal_safe(check)
        );
    }
    if lines.len() > EVIDENCE_SHOWN {
        let _ = writeln!(
            out,
            "{indent}* … and {} more (--format json lists them all)",
            lines.len() - EVIDENCE_SHOWN
        );
    }
}

/// Objects shown by one evidence line: up to three by name, the rest counted.
fn objects_named(objects: &[&str]) -> String {
    const NAMED: usize = 3;
    let named: Vec<String> = objects
        .iter()
        .take(NAMED)
        .map(|o| terminal_safe(o))
        .collect();
    match objects.len() {
        n if n <= NAMED => named.join(", "),
        n => format!("{} and {} more", named.join(", "), n - NAMED),
    }
}

fn section(out: &mut String, title: &str, threats: &[&ThreatResult], color: bool) {
    if threats.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n[{title}]");
    for t in threats {
        threat(out, t, color);
    }
}

/// `bulkhead threats --format text`.
pub fn render(tm: &ThreatModel, color: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# bulkhead {}: STRIDE threat model of {}",
        terminal_safe(&tm.tool.version),
        terminal_safe(&tm.system.host)
    );
    let _ = writeln!(
        out,
        "# evidence collected at {} ({}); statuses as of {}",
        terminal_safe(&tm.system.collected_at),
        terminal_safe(&tm.evidence_sources.join(", ")),
        terminal_safe(&tm.as_of)
    );
    for p in &tm.system.platforms {
        let threats: Vec<_> = tm.threats_for(*p).collect();
        section(
            &mut out,
            &format!("{} threat model", p.title()),
            &threats,
            color,
        );
    }
    // A threat of the user's own model that names no platform is still listed.
    let known: &[Platform] = &tm.system.platforms;
    let others: Vec<_> = tm
        .threats
        .iter()
        .filter(|t| t.platform.is_none_or(|p| !known.contains(&p)))
        .collect();
    section(&mut out, "Other threats", &others, color);
    let _ = writeln!(out, "\n{}", crate::threats_markdown::counts(tm));
    let _ = writeln!(
        out,
        "Descriptions, mitigations and the data-flow diagram: --format markdown or html."
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_tag_no_wider_than_the_padding() {
        for s in ThreatStatus::ALL {
            let (label, _) = tag(s);
            assert!(label.len() + 2 <= 11, "{label}");
        }
    }

    fn item(object: &str, actual: &str) -> EvidenceItem {
        EvidenceItem {
            check: "2.2".into(),
            control: "docker-2.2".into(),
            object: object.into(),
            status: bulkhead_checks::Status::Fail,
            actual: Some(actual.into()),
            source: "cis-docker 1.6.0".into(),
            confidence: bulkhead_threats::evidence::Confidence::High,
        }
    }

    /// Observations that differ are summed up by one of them: by a named object's when several
    /// objects are shown, never by the host-wide `-` (which printed "; -: ...").
    #[test]
    fn differing_observations_are_summed_up_by_a_named_one() {
        let render = |items: &[EvidenceItem]| {
            let mut out = String::new();
            evidence_lines(&mut out, "", items);
            out
        };
        assert_eq!(
            render(&[
                item("-", "daemon.json unreadable"),
                item("container web", "icc=true"),
                item("container db", "icc=false"),
            ]),
            "* 2.2 fail on container web, container db; container web: icc=true\n"
        );
        assert_eq!(
            render(&[item("-", "a"), item("-", "b")]),
            "* 2.2 fail: a (1 of 2 observations)\n"
        );
        assert_eq!(
            render(&[item("container web", "a"), item("container web", "b")]),
            "* 2.2 fail on container web: a (1 of 2 observations)\n"
        );
    }
}
