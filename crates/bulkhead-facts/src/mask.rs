//! Masking of secret values. Applied at collection time, so a snapshot, and every output made
//! from it, never holds a secret that bulkhead read from the host.

/// What replaces a masked value.
pub const MASK: &str = "***";

/// Words that, as a whole word of a name, mark it as holding a secret (`DB_PASSWORD`,
/// `githubToken`, `REDIS_AUTH`). Matched per word, so `kubelet-certificate-authority` is not a
/// secret because `authority` is not `auth`.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "secret",
    "secrets",
    "token",
    "tokens",
    "apikey",
    "passphrase",
    "credential",
    "credentials",
    "auth",
    "cookie",
    "dsn",
    "signature",
    "privatekey",
    "accesskey",
];

/// Adjacent word pairs that mark a secret (`aws_secret_access_key` is caught by `secret` already;
/// these catch `API_KEY`, `private-key`, `access_key`, `session_key`, `client_key`,
/// `connection_string`).
const SECRET_PAIRS: &[(&str, &str)] = &[
    ("api", "key"),
    ("private", "key"),
    ("access", "key"),
    ("session", "key"),
    ("client", "key"),
    ("connection", "string"),
    ("master", "key"),
];

/// A name ending in one of these words names a file, a mode or a switch, not a secret value
/// (`--token-auth-file`, `etcd-keyfile`, `authorization-mode`).
const NOT_SECRET_LAST_WORDS: &[&str] = &[
    "file",
    "keyfile",
    "path",
    "dir",
    "mode",
    "enabled",
    "type",
    "ttl",
    "webhook",
    "authority",
];

/// Split a name into lower-case words at `_`, `-`, `.`, spaces and camelCase boundaries.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Does this variable, flag or key name look like it holds a secret?
pub fn is_secret_name(name: &str) -> bool {
    let w = words(name);
    let Some(last) = w.last() else { return false };
    if NOT_SECRET_LAST_WORDS.contains(&last.as_str()) {
        return false;
    }
    if matches!(
        w[0].as_str(),
        "authorization" | "authentication" | "anonymous"
    ) {
        return false;
    }
    w.iter().any(|x| SECRET_WORDS.contains(&x.as_str()))
        || w.windows(2)
            .any(|p| SECRET_PAIRS.contains(&(p[0].as_str(), p[1].as_str())))
}

/// Values that hold no secret whatever their name says: switches, numbers, paths to files (the
/// file is the secret, not its name), and values already masked.
fn harmless_value(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || v == MASK
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off"
        )
        || v.parse::<f64>().is_ok()
        || (v.starts_with('/') && !v.contains(char::is_whitespace))
}

/// Should the value of `name` be masked? Only when the name looks secret and the value is not a
/// switch, a number or a file path.
pub fn should_mask(name: &str, value: &str) -> bool {
    is_secret_name(name) && !harmless_value(value)
}

/// Mask the value of a `NAME=value` assignment when it holds a secret.
pub fn mask_assignment(assignment: &str) -> String {
    match assignment.split_once('=') {
        Some((name, value)) if should_mask(name, value) => format!("{name}={MASK}"),
        _ => assignment.to_string(),
    }
}

/// Mask secret values in a command line: `--password=x`, `--password x`, `PASSWORD=x`, and
/// credentials in URLs (`https://user:pass@host`).
pub fn mask_argv(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut pending_name: Option<&str> = None;
    for word in argv {
        if let Some(name) = pending_name.take() {
            if !word.starts_with('-') {
                out.push(if should_mask(name, word) {
                    MASK.to_string()
                } else {
                    word.clone()
                });
                continue;
            }
        }
        if let Some(body) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) {
            match body.split_once('=') {
                Some((name, v)) if should_mask(name, v) => {
                    out.push(format!("{}={MASK}", &word[..word.len() - v.len() - 1]));
                    continue;
                }
                None if is_secret_name(body) => pending_name = Some(body),
                _ => {}
            }
        }
        out.push(mask_text(word));
    }
    out
}

/// Mask secrets inside free text: `NAME=value` words whose name looks secret, and URL userinfo.
/// Used for image history lines (`ENV DB_PASSWORD=x`) and similar text.
pub fn mask_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&mask_url_userinfo(&mask_assignment(word)));
    }
    out
}

/// `scheme://user:password@host` -> `scheme://user:***@host`.
pub fn mask_url_userinfo(word: &str) -> String {
    if let Some(scheme_end) = word.find("://") {
        let rest = &word[scheme_end + 3..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..authority_end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                return format!(
                    "{}{}:{MASK}{}",
                    &word[..scheme_end + 3],
                    &rest[..colon],
                    &rest[at..]
                );
            }
        }
    }
    word.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "DB_PASSWORD",
            "GITHUB_TOKEN",
            "aws_secret_access_key",
            "etcd-password",
            "API_KEY",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in [
            "PATH",
            "token-auth-file",
            "etcd-keyfile",
            "authorization-mode",
            "anonymous-auth",
            "HOME",
        ] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn argv() {
        let argv: Vec<String> = [
            "etcd",
            "--password",
            "hunter2",
            "--db-token=abc",
            "--name",
            "x",
            "https://u:p@h/x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            mask_argv(&argv),
            vec![
                "etcd",
                "--password",
                "***",
                "--db-token=***",
                "--name",
                "x",
                "https://u:***@h/x"
            ]
        );
    }

    #[test]
    fn text() {
        assert_eq!(
            mask_text("/bin/sh -c #(nop)  ENV DB_PASSWORD=s3cret PATH=/usr/bin"),
            "/bin/sh -c #(nop)  ENV DB_PASSWORD=*** PATH=/usr/bin"
        );
    }
}
