//! Unified diffs of planned edits, with secret values masked.
//!
//! The diff is what a human reviews and what the JSON contract carries; the edit itself keeps the
//! exact bytes. Masking happens in two passes over each side of the edit, before the lines are
//! printed:
//!
//! 1. the whole text, read as YAML or JSON when it parses (Kubernetes manifests, compose files,
//!    daemon.json, kubelet configs), has the values of its secrets masked where they are: a
//!    value under a secret-like key, the `value` of an env entry whose `name` is secret-like
//!    (`- name: DB_PASSWORD` / `value: x` spans two lines, which no line can tell alone), every
//!    entry of a Secret's `data` and `stringData` (block scalars included), the value of a
//!    `NAME=value` list item, and well-known credential shapes anywhere (GitHub, Slack and AWS
//!    tokens, private keys; bulkhead-scan's detector). Text that is not YAML gets the credential
//!    shapes only. The whole text also goes through the masker every other output uses
//!    (bulkhead-facts' `mask_text`), which finds what no single line shows: the value of a
//!    secret option that is the next item of a YAML list (`- --oidc-client-secret` / `- x`),
//!    the next line of a JSON array, or a line continued with `\` ([`masked_spans`]).
//! 2. every printed line goes through [`mask_line`]: `key: value`, `KEY=value` words and URL
//!    credentials, with bulkhead-facts' masking helpers.
//!
//! Secret values are found in each whole side and masked on the lines that hold them, so hunk
//! headers count the lines of the real files; a context line is masked wherever either side
//! finds a secret on it. So a compose file's `DB_PASSWORD: hunter2`, a manifest's env value or
//! Secret data, or a generated encryption key never reaches a terminal or a plan file.

use crate::model::FileEdit;
use bulkhead_facts::mask::{
    is_secret_name, mask_assignment, mask_credentials, mask_text, should_mask, MASK,
};
use bulkhead_sources::yaml::{Node, NodeKind};
use similar::{ChangeTag, TextDiff};
use std::ops::Range;

/// The unified diff of one edit (3 lines of context), secret values masked.
pub fn unified(edit: &FileEdit) -> String {
    let before = edit.before.as_deref().unwrap_or("");
    let after = edit.after.as_str();
    let old_header = if edit.creates() {
        "/dev/null".to_string()
    } else {
        format!("a/{}", edit.path.trim_start_matches('/'))
    };
    let new_header = format!("b/{}", edit.path.trim_start_matches('/'));
    let old_lines = secret_lines(before);
    let new_lines = secret_lines(after);
    let diff = TextDiff::from_lines(before, after);
    let mut out = String::new();
    let mut udiff = diff.unified_diff();
    udiff.context_radius(3);
    for (i, hunk) in udiff.iter_hunks().enumerate() {
        if i == 0 {
            out.push_str(&format!("--- {old_header}\n+++ {new_header}\n"));
        }
        out.push_str(&format!("{}\n", hunk.header()));
        for change in hunk.iter_changes() {
            let old = change.old_index().and_then(|i| old_lines.get(i));
            let new = change.new_index().and_then(|i| new_lines.get(i));
            let (sign, line) = match change.tag() {
                ChangeTag::Delete => ("-", old.map(|(l, r)| render_line(l, r))),
                ChangeTag::Insert => ("+", new.map(|(l, r)| render_line(l, r))),
                // Context is the same text on both sides: masked where either side masks it.
                ChangeTag::Equal => (
                    " ",
                    old.zip(new).map(|((l, a), (_, b))| {
                        render_line(l, &a.iter().chain(b).cloned().collect::<Vec<_>>())
                    }),
                ),
            };
            // Both sides have as many lines as similar counts; should one not, the raw line is
            // masked alone rather than printed as it is.
            let line =
                line.unwrap_or_else(|| mask_line(change.value().trim_end_matches(['\n', '\r'])));
            out.push_str(sign);
            out.push_str(&line);
            out.push('\n');
            if diff.newline_terminated() && change.missing_newline() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out
}

/// Each line of `text` (split as similar splits lines, terminator dropped) with the byte ranges,
/// relative to the line, of the secret values on it.
fn secret_lines(text: &str) -> Vec<(&str, Vec<Range<usize>>)> {
    let spans = secret_spans(text);
    let mut out = Vec::new();
    let mut offset = 0;
    for line in lines_inclusive(text) {
        let body = line.trim_end_matches(['\n', '\r']);
        let (start, end) = (offset, offset + body.len());
        let ranges = spans
            .iter()
            .filter(|r| r.start < end && r.end > start)
            .map(|r| r.start.max(start) - start..r.end.min(end) - start)
            .collect();
        out.push((body, ranges));
        offset += line.len();
    }
    out
}

/// A line with its secret ranges masked, then [`mask_line`]'s masking.
fn render_line(line: &str, ranges: &[Range<usize>]) -> String {
    let mut ranges = ranges.to_vec();
    ranges.sort_by_key(|r| (r.start, r.end));
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for r in ranges {
        let start = r.start.max(at);
        if start >= r.end {
            continue;
        }
        out.push_str(&line[at..start]);
        out.push_str(&mask_piece(&line[start..r.end]));
        at = r.end;
    }
    out.push_str(&line[at..]);
    mask_line(&out)
}

/// The mask for the part of a secret value on one line: its indentation, a block scalar
/// indicator (`|`, `>-`) and the quotes around a quoted value are kept.
fn mask_piece(piece: &str) -> String {
    let content = piece.trim_start();
    let indent = &piece[..piece.len() - content.len()];
    let indicator = content.starts_with(['|', '>'])
        && content[1..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '+');
    if content.is_empty() || indicator {
        return piece.to_string();
    }
    match content.chars().next().filter(|q| *q == '"' || *q == '\'') {
        Some(q) if content.len() >= 2 && content.ends_with(q) => format!("{indent}{q}{MASK}{q}"),
        _ => format!("{indent}{MASK}"),
    }
}

/// Lines with their terminators: `\n`, `\r\n` or a lone `\r` ends a line (as similar tokenizes
/// lines, so indices match its changes).
fn lines_inclusive(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\r' if b.get(i + 1) == Some(&b'\n') => {
                out.push(&text[start..i + 2]);
                i += 2;
                start = i;
            }
            b'\r' | b'\n' => {
                out.push(&text[start..=i]);
                i += 1;
                start = i;
            }
            _ => i += 1,
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// Byte ranges of `text` holding secret values: from the YAML structure when the text parses,
/// and credential shapes anywhere.
fn secret_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans: Vec<Range<usize>> = bulkhead_scan::rules::secret_patterns(text)
        .into_iter()
        .map(|(a, b, _)| a..b)
        .collect();
    spans.extend(masked_spans(text));
    if let Ok(docs) = bulkhead_sources::yaml::parse(text) {
        for d in &docs {
            yaml_spans(&d.root, text, &mut spans);
        }
    }
    spans.retain(|r| r.start < r.end && r.end <= text.len());
    spans.sort_by_key(|r| (r.start, r.end));
    spans
}

/// Byte ranges of `text` that the masker of every other output masks when it reads the whole
/// text at once: also the secrets no single line shows, such as the value of a static pod's
/// `- --oidc-client-secret`, which is the next item of the list, or of an option continued on
/// the next line. [`mask_credentials`] (the forms of secrets) is taken as it masks the whole
/// text, across lines too; [`mask_text`] (those and `NAME=value` words) where it masks within
/// one line, as it takes the words of `NAME=value` as split by blanks only, so a word's value
/// would run on into the next line (a line's `NAME=value` words are masked by [`mask_line`]).
fn masked_spans(text: &str) -> Vec<Range<usize>> {
    let mut out = changed_ranges(text, &mask_credentials(text));
    out.extend(
        changed_ranges(text, &mask_text(text))
            .into_iter()
            .filter(|r| !text[r.clone()].contains(['\n', '\r'])),
    );
    out
}

/// The ranges of `text` that `masked` (the text as a masker returned it) replaced: the masker
/// says what it masks only by the text it returns, and the mask only ever replaces a range, so
/// a byte diff of the two is small. Should the diff stop at its deadline, its ranges are
/// coarser, never smaller. Ranges are widened to whole characters.
fn changed_ranges(text: &str, masked: &str) -> Vec<Range<usize>> {
    if masked == text {
        return Vec::new();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let ops = similar::capture_diff_slices_deadline(
        similar::Algorithm::Myers,
        text.as_bytes(),
        masked.as_bytes(),
        Some(deadline),
    );
    let mut out = Vec::new();
    for op in ops {
        let (at, len) = match op {
            similar::DiffOp::Delete {
                old_index, old_len, ..
            }
            | similar::DiffOp::Replace {
                old_index, old_len, ..
            } => (old_index, old_len),
            _ => continue,
        };
        let (mut a, mut b) = (at, at + len);
        while !text.is_char_boundary(a) {
            a -= 1;
        }
        while !text.is_char_boundary(b) {
            b += 1;
        }
        out.push(a..b);
    }
    out
}

fn scalar_value(n: &Node) -> Option<&str> {
    match &n.kind {
        NodeKind::Scalar(s) => Some(s.value.as_str()),
        _ => None,
    }
}

/// Every scalar under `n` (a Secret's data entry may be written as anything).
fn all_scalars(n: &Node, out: &mut Vec<Range<usize>>) {
    match &n.kind {
        NodeKind::Scalar(s) if !s.value.is_empty() => out.push(n.span.range()),
        NodeKind::Scalar(_) => {}
        NodeKind::Seq(items) => items.iter().for_each(|i| all_scalars(i, out)),
        NodeKind::Map(entries) => entries.iter().for_each(|(_, v)| all_scalars(v, out)),
    }
}

/// The range of `inner` (part of the scalar's value) in the source text of scalar `n`, or the
/// whole scalar when escapes make the source differ from the value.
fn inner_range(n: &Node, text: &str, inner: &str) -> Range<usize> {
    let src = n.span.text(text);
    match src.find(inner) {
        Some(i) if !inner.is_empty() => {
            n.span.start.offset + i..n.span.start.offset + i + inner.len()
        }
        _ => n.span.range(),
    }
}

fn yaml_spans(n: &Node, text: &str, out: &mut Vec<Range<usize>>) {
    match &n.kind {
        NodeKind::Scalar(s) => {
            for (a, b, _) in bulkhead_scan::rules::secret_patterns(&s.value) {
                out.push(inner_range(n, text, &s.value[a..b]));
            }
            // `- DB_PASSWORD=x` (compose environment lists, argument lists).
            if let Some((name, value)) = s.value.split_once('=') {
                if !name.contains(char::is_whitespace) && mask_assignment(&s.value) != s.value {
                    out.push(inner_range(n, text, value));
                }
            }
        }
        NodeKind::Seq(items) => items.iter().for_each(|i| yaml_spans(i, text, out)),
        NodeKind::Map(entries) => {
            let get = |key: &str| {
                entries
                    .iter()
                    .rev()
                    .find(|(k, _)| scalar_value(k) == Some(key))
                    .map(|(_, v)| v)
            };
            let is_secret_object = get("kind").and_then(scalar_value) == Some("Secret");
            // An env entry: `{name: DB_PASSWORD, value: x}`.
            if let (Some(name), Some(value)) = (get("name").and_then(scalar_value), get("value")) {
                if let Some(v) = scalar_value(value) {
                    if should_mask(name, v) {
                        out.push(value.span.range());
                    }
                }
            }
            for (k, v) in entries {
                let key = scalar_value(k).unwrap_or("");
                if is_secret_object && (key == "data" || key == "stringData") {
                    if let NodeKind::Map(data) = &v.kind {
                        data.iter().for_each(|(_, x)| all_scalars(x, out));
                    }
                    continue;
                }
                // A scalar under a secret-like key (block scalars included); a list or map
                // under one (compose `secrets: [db_password]`) names secrets, it holds none.
                if let Some(value) = scalar_value(v) {
                    if should_mask(key, value) {
                        out.push(v.span.range());
                    }
                }
                yaml_spans(v, text, out);
            }
        }
    }
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
    // A quoted list item (`- "API_TOKEN=x"`): mask inside the quotes and keep them.
    for q in ['"', '\''] {
        if let Some(inner) = rest
            .strip_prefix(q)
            .and_then(|r| r.strip_suffix(q))
            .filter(|i| !i.contains(q))
        {
            return format!("{indent}{prefix}{q}{}{q}", mask_text(inner));
        }
    }
    // Dockerfile `ENV NAME value` (the form without `=`).
    let words: Vec<&str> = rest.splitn(3, ' ').collect();
    if let [instruction, name, value] = words[..] {
        if instruction.eq_ignore_ascii_case("ENV")
            && !name.contains('=')
            && should_mask(name, value)
        {
            return format!("{indent}{prefix}{instruction} {name} {MASK}");
        }
    }
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

    /// A manifest edit the way `harden --scan` makes one: the change lands next to env values,
    /// Secret data and ConfigMap entries, so they show up as diff context.
    fn manifest_edit(before: &str, after: &str) -> FileEdit {
        FileEdit {
            path: "insecure.yaml".into(),
            before_sha256: Some(String::new()),
            after_sha256: String::new(),
            create_attrs: None,
            after: after.into(),
            before: Some(before.into()),
            real_path: None,
            generated_secret: false,
        }
    }

    const MANIFEST: &str = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p1, namespace: shop}\n  spec:\n    hostNetwork: true\n    containers:\n    - name: c\n      image: nginx:1.25\n      env:\n      - name: DB_PASSWORD\n        value: \"literalpw12345\"\n      - name: GH\n        value: ghp_1234567890abcdefghijklmnopqrstuvwxyzAB\n      - {name: API_TOKEN, value: flowtoken98765}\n      - name: LOG_LEVEL\n        value: debug\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: db, namespace: shop}\n  type: Opaque\n  data:\n    config.json: eyJhdXRocyI6e319\n  stringData:\n    tls.key: |\n      -----BEGIN PRIVATE KEY-----\n      MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n      -----END PRIVATE KEY-----\n    plain: plaintexttoken123\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cfg, namespace: shop}\n  data:\n    DATABASE_URL: postgres://app:pgpass9876@db:5432/app\n    application.properties: |\n      spring.datasource.password=springpw555\n";

    const MANIFEST_SECRETS: &[&str] = &[
        "literalpw12345",
        "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
        "flowtoken98765",
        "eyJhdXRocyI6e319",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "plaintexttoken123",
        "pgpass9876",
        "springpw555",
    ];

    /// A generated encryption key is base64, and one in 64 begins with `/`: it is masked all
    /// the same, not taken for a file path, in a JSON configuration written on one line.
    #[test]
    fn a_key_that_begins_with_a_slash_is_masked() {
        let key = "/80De5x1nHUIkT9CCXUWts3J0gBjmzl8CT4LdHHqaow=";
        let before = "{\"kind\": \"EncryptionConfiguration\", \"resources\": [{\"resources\": [\"secrets\"], \"providers\": [\n  {\"identity\": {}}\n]}]}\n";
        let after = before.replace(
            "[\n  {\"identity\"",
            &format!("[\n  {{\"aescbc\": {{\"keys\": [{{\"name\": \"k1\", \"secret\": \"{key}\"}}]}}}},\n  {{\"identity\""),
        );
        let d = unified(&manifest_edit(before, &after));
        assert!(d.contains("\"secret\": \"***\""), "{d}");
        assert!(!d.contains(key), "{d}");
    }

    #[test]
    fn kubernetes_secret_values_are_masked_in_a_new_manifest() {
        let mut e = manifest_edit("", MANIFEST);
        e.before = None;
        e.before_sha256 = None;
        let d = unified(&e);
        for s in MANIFEST_SECRETS {
            assert!(!d.contains(s), "{s} leaked:\n{d}");
        }
        // Masked, not dropped: the reviewer still sees which entries hold a secret.
        for line in [
            "+        value: \"***\"\n",
            "+        value: ***\n",
            "+      - {name: API_TOKEN, value: ***}\n",
            "+        value: debug\n",
            "+    config.json: ***\n",
            "+    tls.key: |\n",
            "+      ***\n",
            "+    plain: ***\n",
            "+    DATABASE_URL: postgres://app:***@db:5432/app\n",
            "+      spring.datasource.password=***\n",
        ] {
            assert!(d.contains(line), "{line:?} missing:\n{d}");
        }
        assert_eq!(d.lines().count(), 2 + 1 + MANIFEST.lines().count(), "{d}");
    }

    #[test]
    fn kubernetes_secret_values_are_masked_in_diff_context() {
        let after = MANIFEST
            .replace("hostNetwork: true", "hostNetwork: false")
            .replace(
                "      env:\n",
                "      securityContext: {privileged: false}\n      env:\n",
            )
            .replace(
                "      - {name: API_TOKEN",
                "      - {name: TZ, value: UTC}\n      - {name: API_TOKEN",
            )
            .replace(
                "    plain: plaintexttoken123\n",
                "    plain: plaintexttoken123\n  immutable: true\n",
            )
            .replace(
                "  data:\n    DATABASE_URL",
                "  immutable: true\n  data:\n    DATABASE_URL",
            );
        let d = unified(&manifest_edit(MANIFEST, &after));
        for s in MANIFEST_SECRETS {
            assert!(!d.contains(s), "{s} leaked:\n{d}");
        }
        for line in [
            "         value: \"***\"\n",
            "         value: ***\n",
            "       ***\n",
            "     plain: ***\n",
            "     DATABASE_URL: postgres://app:***@db:5432/app\n",
            "-    hostNetwork: true\n",
            "+    hostNetwork: false\n",
        ] {
            assert!(d.contains(line), "{line:?} missing:\n{d}");
        }
        // Hunk headers count lines of the real files: masking keeps every line.
        assert!(d.contains("@@ -5,15 +5,17 @@\n"), "{d}");
    }

    #[test]
    fn a_secret_in_only_one_side_of_a_change_is_masked_on_both() {
        // The env entry's name changes to a secret-like one: the old line is a plain value, the
        // new one a secret; the value line is context and must follow the new name.
        let before = "env:\n- name: MODE\n  value: s3cr3tvalue42\n";
        let after = "env:\n- name: DB_PASSWORD\n  value: s3cr3tvalue42\n";
        let d = unified(&manifest_edit(before, after));
        assert!(!d.contains("s3cr3tvalue42"), "{d}");
        // A value shorter than the mask: the masked line is the longer one.
        let d = unified(&manifest_edit(
            &before.replace("s3cr3tvalue42", "ab"),
            &after.replace("s3cr3tvalue42", "ab"),
        ));
        assert!(d.contains("\n   value: ***\n"), "{d}");
        // Quoted list items keep their closing quote.
        let before = "environment:\n  - \"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG\"\n";
        let after = format!("{before}read_only: true\n");
        let d = unified(&manifest_edit(before, &after));
        assert!(d.contains("   - \"AWS_SECRET_ACCESS_KEY=***\"\n"), "{d}");
        // A Dockerfile's `ENV NAME value`.
        let before = "FROM alpine:3.19\nENV API_KEY hunter3value\n";
        let after = format!("{before}USER 10001:10001\n");
        let d = unified(&manifest_edit(before, &after));
        assert!(d.contains(" ENV API_KEY ***\n"), "{d}");
    }

    /// The review's static pod manifest, as `harden` edits it: a secret option's value is the
    /// next item of the command list (no line alone shows it is a value), next to the lines
    /// the edit changes; mask_text, read over the whole manifest, finds it.
    #[test]
    fn a_value_in_the_next_list_item_is_masked_as_mask_text_masks_it() {
        let before = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\n  annotations:\n    secret.example.com/db-password: vq4-annot-77\nspec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.30.0\n    command:\n    - kube-apiserver\n    - --etcd-servers=https://u:vq4-etcd-77@etcd:2379\n    - --oidc-client-secret\n    - vq4-oidc-77\n    - --token-auth-file=/etc/kubernetes/tokens.csv\n    - --encryption-provider-config=/etc/kubernetes/enc.yaml\n    - --service-account-signing-key-file\n    - /etc/kubernetes/pki/sa.key\n    env:\n    - name: DB_PASSWORD\n      value: vq4-env-77\n";
        let after = before.replace(
            "    - --token-auth-file=/etc/kubernetes/tokens.csv\n",
            "    - --profiling=false\n",
        );
        for e in [manifest_edit(before, &after), {
            let mut e = manifest_edit("", before);
            e.before = None;
            e
        }] {
            let d = unified(&e);
            assert!(!d.contains("vq4-"), "{d}");
            assert!(
                d.contains("     - --oidc-client-secret\n")
                    || d.contains("+    - --oidc-client-secret\n"),
                "{d}"
            );
            assert!(d.contains(" - ***\n"), "{d}");
            // A file path is no secret: shown as it is.
            assert!(d.contains("/etc/kubernetes/pki/sa.key\n"), "{d}");
        }
        // The same over lines of a JSON file (daemon.json's runtime arguments).
        let before = "{\n  \"runtimes\": {\"kata\": {\"path\": \"/usr/bin/kata\", \"runtimeArgs\": [\n    \"--token\",\n    \"vq4-json-77\"\n  ]}}\n}\n";
        let after = before.replace("{\n  \"runtimes\"", "{\n  \"icc\": false,\n  \"runtimes\"");
        let d = unified(&manifest_edit(before, &after));
        assert!(!d.contains("vq4-"), "{d}");
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
            generated_secret: false,
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
            generated_secret: false,
        };
        assert_eq!(
            unified(&e),
            "--- a/etc/y\n+++ b/etc/y\n@@ -1 +1,2 @@\n one\n+two\n"
        );
    }
}
