//! Helpers shared by the integration tests (a `common/mod.rs` is no test target of its own).

use bulkhead_scan::ScanReport;

/// Every field of the findings the text format prints (place, rule, title, object, message,
/// snippet, fix): what a secret must not reach in any output.
pub fn printed_fields(r: &ScanReport) -> String {
    r.findings
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}: {} {}\n  {}: {}\n{}\n{}\n",
                f.location.path,
                f.location.line,
                f.location.column,
                f.rule,
                f.title,
                f.object,
                f.message,
                f.snippet,
                f.fix.as_ref().map(|x| x.description.as_str()).unwrap_or("")
            )
        })
        .collect()
}
