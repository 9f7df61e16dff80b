//! Golden files: compare a rendering with the file checked in beside the test, or rewrite the
//! file when `BULKHEAD_BLESS` is set (`BULKHEAD_BLESS=1 cargo test ...`), the one switch for
//! every golden test of the workspace. A mismatch names the file and the first line that
//! differs, with both versions of that line.

use std::path::Path;

/// Set to bless: rewrite golden files from the current output instead of comparing.
pub const BLESS_VAR: &str = "BULKHEAD_BLESS";

/// Whether this run rewrites golden files.
pub fn blessing() -> bool {
    std::env::var_os(BLESS_VAR).is_some_and(|v| !v.is_empty())
}

/// Compare `actual` with the golden file at `path`, or write it there when blessing.
/// `hint` is added to a mismatch message (what else to re-bless, for example).
pub fn assert_golden_with_hint(path: &Path, actual: &str, hint: &str) {
    if blessing() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "golden file {} cannot be read ({e}); create it with {BLESS_VAR}=1",
            path.display()
        )
    });
    if let Some(message) = first_difference(&expected, actual) {
        panic!(
            "{} differs from the output {message}\nreview the change, then re-run with {BLESS_VAR}=1{hint}",
            path.display()
        );
    }
}

/// [`assert_golden_with_hint`] without a hint.
pub fn assert_golden(path: &Path, actual: &str) {
    assert_golden_with_hint(path, actual, "");
}

/// Where `expected` and `actual` first differ, as "at line N:" with both lines; None when
/// equal.
pub fn first_difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    for i in 0..e.len().max(a.len()) {
        if e.get(i) != a.get(i) {
            return Some(format!(
                "at line {}:\n  golden: {:?}\n  actual: {:?}",
                i + 1,
                e.get(i),
                a.get(i)
            ));
        }
    }
    Some("only in line endings or a final newline".into())
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn names_the_first_differing_line() {
        assert_eq!(first_difference("a\nb\n", "a\nb\n"), None);
        let d = first_difference("a\nb\nc\n", "a\nB\nc\n").unwrap();
        assert!(d.starts_with("at line 2:"), "{d}");
        assert!(d.contains("\"b\"") && d.contains("\"B\""), "{d}");
    }

    #[test]
    fn a_missing_trailing_line_is_named() {
        let d = first_difference("a\nb\n", "a\n").unwrap();
        assert!(d.starts_with("at line 2:"), "{d}");
        assert!(d.contains("Some(\"b\")") && d.contains("None"), "{d}");
    }

    #[test]
    fn a_missing_final_newline_is_said() {
        let d = first_difference("a\n", "a").unwrap();
        assert_eq!(d, "only in line endings or a final newline");
    }
}
