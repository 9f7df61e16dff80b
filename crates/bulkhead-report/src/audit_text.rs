//! The terminal report, in the shape docker-bench-security users know:
//! `[PASS] 5.13 - Ensure that the container's root filesystem is mounted as read only`, section
//! headers, indented detail lines naming each failing object, and a summary with the score.

use crate::audit_json::{numbering_label, Summary};
use crate::{Target, TextOptions};
use bulkhead_checks::{Audit, ObjectResult, Status};
use std::fmt::Write;

fn paint(text: &str, status: Status, color: bool) -> String {
    if !color {
        return text.to_string();
    }
    let code = match status {
        Status::Pass => "32",
        Status::Fail => "31;1",
        Status::Warn => "33",
        Status::Info => "34",
        Status::Manual | Status::NotApplicable => "2",
        Status::Error => "35;1",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// Text read from the audited system (mount paths, labels, file names) is shown with control
/// characters escaped (`\u{1b}`, `\n`), so a hostile name cannot inject terminal escape
/// sequences or forge report lines. Bidirectional-text overrides are escaped for the same reason.
pub fn terminal_safe(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let bidi = matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// One object's verdict as a line: `container web: HostConfig.ReadonlyRootfs = false (expected true)`.
pub fn object_line(o: &ObjectResult) -> String {
    let mut s = format!("{} {}", o.kind, o.name);
    if let Some(e) = &o.evidence {
        let _ = write!(s, ": {} = {} (expected {})", e.field, e.actual, e.expected);
    }
    if let Some(n) = &o.note {
        let _ = write!(s, "{}{n}", if o.evidence.is_some() { "; " } else { ": " });
    }
    terminal_safe(&s)
}

/// Render one audit as docker-bench-style text.
pub fn render(audit: &Audit, target: &Target, tool_version: &str, opts: TextOptions) -> String {
    let b = audit.benchmark;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# bulkhead {tool_version}: {} {} (numbering {})",
        b.name,
        b.default_edition(),
        numbering_label(&audit.edition)
    );
    let _ = writeln!(out, "# target: {}", terminal_safe(&target.describe()));
    if let Some(reason) = target.benchmark_reason() {
        let _ = writeln!(out, "# benchmark: {reason}");
    }
    let _ = writeln!(out, "# collected: {}", target.collected_at);
    let sections = b.section_titles(&audit.edition);
    let mut shown_sections: Vec<String> = Vec::new();
    for o in &audit.outcomes {
        // Print each section header (and sub-section header) the first time a check of it appears.
        let parts: Vec<&str> = o.check_id.split('.').collect();
        for depth in 1..parts.len() {
            let sec = parts[..depth].join(".");
            if !shown_sections.contains(&sec) {
                if let Some(title) = sections.get(&sec) {
                    if depth == 1 {
                        out.push('\n');
                    }
                    let _ = writeln!(
                        out,
                        "{} {sec} - {title}",
                        paint("[INFO]", Status::Info, opts.color)
                    );
                }
                shown_sections.push(sec);
            }
        }
        let st = o.result.status;
        let tag = paint(&format!("[{}]", st.label()), st, opts.color);
        let _ = writeln!(out, "{tag} {} - {}", o.check_id, o.control.title);
        let detailed: Vec<&ObjectResult> = o
            .result
            .objects
            .iter()
            .filter(|obj| {
                opts.verbose || !matches!(obj.status, Status::Pass | Status::NotApplicable)
            })
            .collect();
        if let Some(m) = &o.result.message {
            // The message is worth a line when it says something the object lines do not.
            if detailed.is_empty() || !matches!(st, Status::Fail | Status::Pass) {
                let _ = writeln!(out, "       * {}", terminal_safe(m));
            }
        }
        for obj in detailed {
            let mark = format!("[{}]", obj.status.label());
            let _ = writeln!(
                out,
                "       * {} {}",
                paint(&mark, obj.status, opts.color),
                object_line(obj)
            );
        }
    }
    let s = Summary::of(audit);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Summary: {} {}: {} pass, {} fail, {} warn, {} info, {} manual, {} not applicable, {} error",
        s.total,
        if s.total == 1 { "check" } else { "checks" },
        s.pass,
        s.fail,
        s.warn,
        s.info,
        s.manual,
        s.not_applicable,
        s.error
    );
    let pct = s
        .score_percent
        .map(|p| format!(" ({p}% of scored, evaluated checks pass)"))
        .unwrap_or_default();
    let _ = writeln!(out, "Score: {}{pct}", s.score);
    // Checks this edition has that the selected numbering lacks (independent of --only).
    let missing = b.controls_in(b.default_edition()).len() - b.controls_in(&audit.edition).len();
    if audit.edition != b.default_edition() && missing > 0 {
        let _ = writeln!(
            out,
            "Note: checks of {} {} that have no number in {} are not shown; use --ids {} to see all.",
            b.name,
            b.default_edition(),
            numbering_label(&audit.edition),
            numbering_label(b.default_edition())
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn control_and_bidi_characters_are_escaped_quotes_and_non_ascii_kept() {
        assert_eq!(
            terminal_safe("/srv/a \"q\\ü\u{1b}[31mred\nline\u{202e}"),
            "/srv/a \"q\\ü\\u{1b}[31mred\\nline\\u{202e}"
        );
    }
}
