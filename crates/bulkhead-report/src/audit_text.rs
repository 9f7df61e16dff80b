//! The terminal report, in the shape docker-bench-security users know:
//! `[PASS] 5.13 - Ensure that the container's root filesystem is mounted as read only`, section
//! headers, indented detail lines naming each failing object, and a summary with the score.

use crate::audit_json::{numbering_label, section_title, Summary, UNNUMBERED};
use crate::{Target, TextOptions};
use bulkhead_checks::{Audit, ObjectResult, Status};
use bulkhead_facts::visible::{acts_on_terminal, any_byte};
use std::fmt::Write;

/// Append `text`, coloured for `status` when `color` is on.
fn paint_into(out: &mut String, text: &str, status: Status, color: bool) {
    if !color {
        out.push_str(text);
        return;
    }
    let code = match status {
        Status::Pass => "32",
        Status::Fail => "31;1",
        Status::Warn => "33",
        Status::Info => "34",
        Status::Manual | Status::NotApplicable => "2",
        Status::Error => "35;1",
    };
    out.push_str("\x1b[");
    out.push_str(code);
    out.push('m');
    out.push_str(text);
    out.push_str("\x1b[0m");
}

/// `[FAIL]`, coloured when `color` is on.
fn tag_into(out: &mut String, status: Status, color: bool) {
    let mut tag = String::with_capacity(8);
    tag.push('[');
    tag.push_str(status.label());
    tag.push(']');
    paint_into(out, &tag, status, color);
}

/// Text read from the audited system (mount paths, labels, file names) is shown with control
/// characters escaped (`\u{1b}`, `\n`), so a hostile name cannot inject terminal escape
/// sequences or forge report lines. Bidirectional-text overrides and the other characters
/// [`acts_on_terminal`] names are escaped for the same reason. (Every output passes
/// [`bulkhead_facts::visible::visible`] as well; this is the escaping of one value on its line.)
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_terminal_safe(&mut out, s);
    out
}

/// [`terminal_safe`], appended to `out`.
fn push_terminal_safe(out: &mut String, s: &str) {
    if !any_byte(s, |b| !(0x20..0x7f).contains(&b)) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if c.is_control() || acts_on_terminal(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
}

/// One object's verdict as a line: `container web: HostConfig.ReadonlyRootfs = false (expected true)`.
pub fn object_line(o: &ObjectResult) -> String {
    let mut out = String::new();
    push_object_line(&mut out, o);
    out
}

/// [`object_line`], appended to `out`. Each part is made terminal-safe on its own, which is the
/// same as escaping the joined line: the joining text is plain ASCII.
fn push_object_line(out: &mut String, o: &ObjectResult) {
    push_terminal_safe(out, o.kind.as_str());
    out.push(' ');
    push_terminal_safe(out, &o.name);
    if let Some(e) = &o.evidence {
        out.push_str(": ");
        push_terminal_safe(out, &e.field);
        out.push_str(" = ");
        push_terminal_safe(out, &e.actual);
        out.push_str(" (expected ");
        push_terminal_safe(out, &e.expected);
        out.push(')');
    }
    if let Some(n) = &o.note {
        out.push_str(if o.evidence.is_some() { "; " } else { ": " });
        push_terminal_safe(out, n);
    }
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
    if let Some(scope) = &target.containers {
        let _ = writeln!(out, "# containers: {}", terminal_safe(&scope.describe()));
    }
    let _ = writeln!(out, "# collected: {}", target.collected_at);
    let sections = b.section_titles(&audit.edition);
    let mut shown_sections: Vec<&str> = Vec::new();
    // A first guess of a line per check; the detail lines of failing objects grow it from there.
    out.reserve(audit.outcomes.len() * 120);
    let mut unnumbered_shown = false;
    for o in &audit.outcomes {
        let numbered = o.control.id_in(&audit.edition).is_some();
        if !numbered && !unnumbered_shown {
            out.push('\n');
            paint_into(&mut out, "[INFO]", Status::Info, opts.color);
            out.push(' ');
            out.push_str(&section_title(audit, UNNUMBERED));
            out.push('\n');
            unnumbered_shown = true;
        }
        // Print each section header (and sub-section header) the first time a check of it appears.
        let dots = o
            .check_id
            .match_indices('.')
            .map(|(i, _)| i)
            .filter(|_| numbered);
        for (depth, end) in dots.enumerate() {
            let sec = &o.check_id[..end];
            if !shown_sections.contains(&sec) {
                if let Some(title) = sections.get(sec) {
                    if depth == 0 {
                        out.push('\n');
                    }
                    paint_into(&mut out, "[INFO]", Status::Info, opts.color);
                    out.push(' ');
                    out.push_str(sec);
                    out.push_str(" - ");
                    out.push_str(title);
                    out.push('\n');
                }
                shown_sections.push(sec);
            }
        }
        let st = o.result.status;
        tag_into(&mut out, st, opts.color);
        out.push(' ');
        out.push_str(&o.check_id);
        if !numbered {
            // Its number where it has one, so it can be found in the benchmark's own text.
            if let Some(current) = o.control.id_in(b.default_edition()) {
                out.push_str(" (");
                out.push_str(current);
                out.push_str(" in ");
                out.push_str(&numbering_label(b.default_edition()));
                out.push(')');
            }
        }
        out.push_str(" - ");
        out.push_str(&o.control.title);
        out.push('\n');
        let shown = |obj: &&ObjectResult| {
            opts.verbose || !matches!(obj.status, Status::Pass | Status::NotApplicable)
        };
        if let Some(m) = &o.result.message {
            // The message is worth a line when it says something the object lines do not.
            let no_detail = !o.result.objects.iter().any(|obj| shown(&obj));
            if no_detail || !matches!(st, Status::Fail | Status::Pass) {
                out.push_str("       * ");
                push_terminal_safe(&mut out, m);
                out.push('\n');
            }
        }
        for obj in o.result.objects.iter().filter(shown) {
            out.push_str("       * ");
            tag_into(&mut out, obj.status, opts.color);
            out.push(' ');
            push_object_line(&mut out, obj);
            out.push('\n');
        }
    }
    let s = Summary::of(audit);
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "Summary: {} {}: {}",
        s.total,
        if s.total == 1 { "check" } else { "checks" },
        s.counts()
    );
    let pct = s
        .score_percent
        .map(|p| format!(" ({p}% of scored, evaluated checks pass)"))
        .unwrap_or_default();
    let _ = writeln!(out, "Score: {}{pct}", s.score);
    // Checks of this run that the selected numbering lacks: with `--only 4.5,5.12` none of them
    // ran, and the note would claim checks the summary does not count.
    let missing = audit
        .outcomes
        .iter()
        .filter(|o| o.control.id_in(&audit.edition).is_none())
        .count();
    if missing > 0 {
        let _ = writeln!(
            out,
            "Note: {missing} {} of {} {} {} no number in {}: {} evaluated and counted like the others, and listed last by control ID.",
            if missing == 1 { "check" } else { "checks" },
            b.name,
            b.default_edition(),
            if missing == 1 { "has" } else { "have" },
            numbering_label(&audit.edition),
            if missing == 1 { "it is" } else { "they are" },
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
