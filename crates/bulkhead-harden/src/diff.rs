//! Unified diffs of planned edits, with secret values masked.
//!
//! The diff is what a human reviews and what the JSON contract carries; the edit itself keeps the
//! exact bytes. Masking happens line by line, so a compose file's `DB_PASSWORD: hunter2` or a
//! generated encryption key never reaches a terminal or a plan file.

use crate::model::FileEdit;
use bulkhead_facts::mask::{is_secret_name, mask_text, MASK};
use similar::TextDiff;

/// The unified diff of one edit (3 lines of context), secret values masked.
pub fn unified(edit: &FileEdit) -> String {
    let before = edit.before.as_deref().unwrap_or("");
    let old_header = if edit.creates() {
        "/dev/null".to_string()
    } else {
        format!("a/{}", edit.path.trim_start_matches('/'))
    };
    let new_header = format!("b/{}", edit.path.trim_start_matches('/'));
    let diff = TextDiff::from_lines(before, edit.after.as_str());
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&old_header, &new_header)
        .to_string();
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if body.starts_with("---") || body.starts_with("+++") || body.starts_with("@@") {
            out.push_str(body);
        } else if let Some(first) = body.chars().next() {
            out.push(first);
            out.push_str(&mask_line(&body[first.len_utf8()..]));
        }
        out.push_str(nl);
        if nl.is_empty() {
            // similar marks a last line without newline; keep the diff well-formed.
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
    out
}

/// Mask the value of a line that assigns a secret: `key: value` (YAML), `"key": "value"` (JSON),
/// `KEY=value` words (shell, env files, flags) and URL credentials.
pub fn mask_line(line: &str) -> String {
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let (prefix, rest) = match trimmed.strip_prefix("- ") {
        Some(r) => ("- ", r),
        None => ("", trimmed),
    };
    if let Some((key, value)) = split_key_value(rest) {
        let bare = key.trim_matches(|c| c == '"' || c == '\'');
        let v = value.trim();
        let opens_block = v.is_empty() || v == "{" || v == "[" || v == "|" || v == ">";
        // A switch is no secret: `automountServiceAccountToken: false` says how a token is
        // handled, not what it is.
        let switch = matches!(
            v.trim_end_matches(',')
                .trim_matches('"')
                .to_ascii_lowercase()
                .as_str(),
            "true" | "false" | "null"
        );
        if is_secret_name(bare) && !opens_block && !switch {
            let comma = if v.ends_with(',') { "," } else { "" };
            let quoted = v.starts_with('"');
            let masked = if quoted {
                format!("\"{MASK}\"{comma}")
            } else {
                format!("{MASK}{comma}")
            };
            return format!("{indent}{prefix}{key}: {masked}");
        }
    }
    mask_text(line)
}

/// `key: value` or `"key": value`, where the key is a plain word.
fn split_key_value(s: &str) -> Option<(&str, &str)> {
    let (key, value) = if let Some(inner) = s.strip_prefix('"') {
        let end = inner.find('"')?;
        let key = &s[..end + 2];
        let after = s[end + 2..].trim_start().strip_prefix(':')?;
        (key, after)
    } else {
        let (k, v) = s.split_once(':')?;
        if k.is_empty()
            || !k
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return None;
        }
        // `http://...` is not a key.
        if v.starts_with("//") {
            return None;
        }
        (k, v)
    };
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_diff_lines() {
        assert_eq!(
            mask_line("      DB_PASSWORD: hunter2"),
            "      DB_PASSWORD: ***"
        );
        assert_eq!(
            mask_line("  \"api-token\": \"abc\","),
            "  \"api-token\": \"***\","
        );
        assert_eq!(mask_line("    - secret: c2VjcmV0a2V5"), "    - secret: ***");
        assert_eq!(
            mask_line("      - DB_PASSWORD=x"),
            "      - DB_PASSWORD=***"
        );
        assert_eq!(mask_line("  image: nginx:1.25"), "  image: nginx:1.25");
        assert_eq!(mask_line("  \"icc\": false,"), "  \"icc\": false,");
        assert_eq!(mask_line("  secrets:"), "  secrets:");
        assert_eq!(
            mask_line("      automountServiceAccountToken: false"),
            "      automountServiceAccountToken: false"
        );
        assert_eq!(
            mask_line("  \"token\": \"true-ish\","),
            "  \"token\": \"***\","
        );
    }

    #[test]
    fn diff_of_new_file_and_change() {
        let e = FileEdit {
            path: "/etc/x.conf".into(),
            before_sha256: None,
            after_sha256: String::new(),
            create_attrs: None,
            after: "a\nTOKEN=zzz\n".into(),
            before: None,
            real_path: None,
        };
        let d = unified(&e);
        assert!(d.starts_with("--- /dev/null\n+++ b/etc/x.conf\n"), "{d}");
        assert!(d.contains("+TOKEN=***\n"), "{d}");
        assert!(!d.contains("zzz"));
        let e = FileEdit {
            path: "/etc/y".into(),
            before_sha256: Some(String::new()),
            after_sha256: String::new(),
            create_attrs: None,
            after: "one\ntwo\n".into(),
            before: Some("one\n".into()),
            real_path: None,
        };
        assert_eq!(
            unified(&e),
            "--- a/etc/y\n+++ b/etc/y\n@@ -1 +1,2 @@\n one\n+two\n"
        );
    }
}
