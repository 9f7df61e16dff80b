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
        // Line 0 means the whole file: an annotation on the file, with no line or column.
        let place = match (e.line, e.column) {
            (0, _) => String::new(),
            (l, 0) => format!(",line={l}"),
            (l, c) => format!(",line={l},col={c}"),
        };
        let _ = writeln!(
            out,
            "::error file={}{place},title=bulkhead could not scan this file::{}",
            prop(&e.path),
            data(&e.message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use bulkhead_scan::{FileError, ScanReport};

    #[test]
    fn whole_file_errors_name_no_line() {
        let report = ScanReport {
            errors: vec![
                FileError {
                    path: "a,b:c.yaml".into(),
                    line: 0,
                    column: 0,
                    message: "cannot read: 100% broken\nsecond line".into(),
                },
                FileError {
                    path: "d.yaml".into(),
                    line: 3,
                    column: 5,
                    message: "invalid YAML".into(),
                },
            ],
            ..ScanReport::default()
        };
        assert_eq!(
            super::render(&report),
            "::error file=a%2Cb%3Ac.yaml,title=bulkhead could not scan this file::cannot read: 100%25 broken%0Asecond line\n\
             ::error file=d.yaml,line=3,col=5,title=bulkhead could not scan this file::invalid YAML\n"
        );
    }

    #[test]
    fn escapes_injection() {
        assert_eq!(super::data("a\n::error::x%"), "a%0A::error::x%25");
        assert_eq!(super::prop("a,b:c"), "a%2Cb%3Ac");
    }
}
