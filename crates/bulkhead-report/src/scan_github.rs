//! `bulkhead scan --format github`: GitHub Actions workflow commands, one annotation per finding
//! (`::error file=...,line=...::message`), with the escaping the runner requires so a hostile
//! file name or message cannot inject another command.

use bulkhead_scan::{ScanReport, Severity};
use std::fmt::Write;

/// Escape message data (`%`, CR, LF).
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a property value (also `:` and `,`).
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &ScanReport) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let cmd = match f.severity {
            Severity::Critical | Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "notice",
        };
        let end = f.location.end_line.max(f.location.line);
        let _ = writeln!(
            out,
            "::{cmd} file={},line={},col={},endLine={},title={}::{}",
            prop(&f.location.path),
            f.location.line,
            f.location.column,
            end,
            prop(&format!("{} {}", f.rule, f.title)),
            data(&format!("{}: {}", f.object, f.message))
        );
    }
    for e in &report.errors {
        let _ = writeln!(
            out,
            "::error file={},line={},col={},title=bulkhead could not scan this file::{}",
            prop(&e.path),
            e.line,
            e.column,
            data(&e.message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_injection() {
        assert_eq!(super::data("a\n::error::x%"), "a%0A::error::x%25");
        assert_eq!(super::prop("a,b:c"), "a%2Cb%3Ac");
    }
}
