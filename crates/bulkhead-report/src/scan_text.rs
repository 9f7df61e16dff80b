//! `bulkhead scan` terminal output: one block per finding with the source snippet (secrets
//! already masked by the engine), its references and the fix, then errors, suppression notes and
//! a summary line.

use crate::audit_text::terminal_safe;
use bulkhead_scan::{Finding, ScanReport, Severity, SuppressionProblem};
use std::fmt::Write;

fn paint(color: bool, code: &str, s: &str) -> String {
    if color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn severity_color(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
        Severity::Info => "2",
    }
}

/// A line of a scanned file as shown: [`terminal_safe`], but tabs kept as they are (harmless on a
/// terminal, and how many Dockerfiles indent their continuation lines).
fn snippet_safe(line: &str) -> String {
    line.split('\t')
        .map(terminal_safe)
        .collect::<Vec<_>>()
        .join("\t")
}

fn finding(out: &mut String, f: &Finding, color: bool) {
    let sev = format!("{:<8}", f.severity.as_str());
    let _ = writeln!(
        out,
        "{}:{}:{}: {} {} {}",
        terminal_safe(&f.location.path),
        f.location.line,
        f.location.column,
        paint(color, severity_color(f.severity), &sev),
        paint(color, "1", &f.rule),
        f.title
    );
    let _ = writeln!(
        out,
        "  {}: {}",
        terminal_safe(&f.object),
        terminal_safe(&f.message)
    );
    let width = (f.location.end_line.max(f.location.line)).to_string().len();
    for (i, line) in f.snippet.lines().enumerate() {
        let n = f.location.line as usize + i;
        // A control character in the line is shown as an escape several columns wide, so the
        // carets are placed by what is shown, not by the characters of the file.
        let shown = snippet_safe(line);
        let _ = writeln!(out, "  {n:>width$} | {shown}");
        if i == 0 {
            let col_chars = f.location.column.max(1) as usize - 1;
            let shown_width = |chars: usize| {
                let end = line
                    .char_indices()
                    .nth(chars)
                    .map_or(line.len(), |(at, _)| at);
                snippet_safe(&line[..end]).chars().count()
            };
            let col = shown_width(col_chars);
            let rest = shown.chars().count().saturating_sub(col).max(1);
            let len = if f.location.end_line == f.location.line {
                let end_chars = (f.location.end_column.max(1) as usize - 1).max(col_chars);
                shown_width(end_chars).saturating_sub(col).clamp(1, rest)
            } else {
                rest
            };
            let _ = writeln!(
                out,
                "  {:>width$} | {}{}",
                "",
                " ".repeat(col),
                paint(color, severity_color(f.severity), &"^".repeat(len.min(120)))
            );
        }
    }
    let mut refs: Vec<String> = f
        .benchmark_refs
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    if !f.stride.is_empty() {
        refs.push(format!(
            "STRIDE {}",
            f.stride
                .iter()
                .map(|s| s.letter().to_string())
                .collect::<Vec<_>>()
                .join("")
        ));
    }
    if !f.aliases.is_empty() {
        refs.push(format!("also {}", f.aliases.join(", ")));
    }
    if !refs.is_empty() {
        let _ = writeln!(out, "  = {}", refs.join(" | "));
    }
    if let Some(fix) = &f.fix {
        let safety = match fix.safety {
            bulkhead_scan::Safety::Safe => "safe",
            bulkhead_scan::Safety::Review => "review",
        };
        let _ = writeln!(out, "  = fix ({safety}): {}", fix.description);
    }
    out.push('\n');
}

pub fn render(report: &ScanReport, color: bool) -> String {
    let mut out = String::new();
    for f in &report.findings {
        finding(&mut out, f, color);
    }
    for e in &report.errors {
        let _ = writeln!(out, "{} {e}", paint(color, "1;31", "error:"));
    }
    for s in &report.skipped {
        let _ = writeln!(out, "skipped: {s}");
    }
    for n in &report.suppression_notes {
        let what = match n.problem {
            SuppressionProblem::Unused => "suppresses nothing",
            SuppressionProblem::Expired => "has expired and no longer suppresses",
            SuppressionProblem::UnknownRule => "names an unknown rule",
        };
        let _ = writeln!(
            out,
            "note: suppression of {} at {} {what}",
            n.rule, n.location
        );
    }
    if !report.errors.is_empty()
        || !report.skipped.is_empty()
        || !report.suppression_notes.is_empty()
    {
        out.push('\n');
    }
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter(|s| report.count(**s) > 0)
        .map(|s| format!("{} {}", report.count(*s), s.as_str()))
        .collect();
    let _ = write!(
        out,
        "{} finding{} in {} file{}",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        report.files.len(),
        if report.files.len() == 1 { "" } else { "s" }
    );
    if !counts.is_empty() {
        let _ = write!(out, " ({})", counts.join(", "));
    }
    if !report.suppressed.is_empty() {
        let _ = write!(out, "; {} suppressed", report.suppressed.len());
    }
    if report.baseline_resolved > 0 {
        let _ = write!(
            out,
            "; {} baseline finding(s) fixed",
            report.baseline_resolved
        );
    }
    if !report.errors.is_empty() {
        let _ = write!(
            out,
            "; {} file(s) could not be scanned",
            report.errors.len()
        );
    }
    out.push('\n');
    out
}
