//! Masking of secret values. Applied at collection time, so a snapshot, and every output made
//! from it, never holds a secret that bulkhead read from the host.

/// What replaces a masked value.
pub const MASK: &str = "***";

/// Words that make a variable, flag or key name look like it holds a secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "access_key",
    "access-key",
    "accesskey",
    "private_key",
    "private-key",
    "privatekey",
    "credential",
    "auth",
    "passphrase",
    "session_key",
    "client_key",
    "connection_string",
    "dsn",
    "cookie",
    "signature",
];

/// Names that contain a secret word but are known not to hold a secret value (paths to files,
/// modes, switches).
const NOT_SECRET_SUFFIXES: &[&str] =
    &["file", "path", "dir", "mode", "enabled", "type", "url_path"];

/// Does this variable, flag or key name look like it holds a secret?
pub fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace('-', "_");
    let lower = lower.trim_start_matches('_');
    if !SECRET_WORDS
        .iter()
        .any(|w| lower.contains(&w.replace('-', "_")))
    {
        return false;
    }
    // `--token-auth-file`, `--etcd-keyfile`, `authorization-mode`: names of a file or a mode.
    !NOT_SECRET_SUFFIXES.iter().any(|s| lower.ends_with(s))
        && !matches!(lower, "authorization" | "anonymous_auth" | "auth_mode")
        && !lower.starts_with("authorization")
        && !lower.starts_with("authentication")
}

/// Mask the value of a `NAME=value` assignment when the name looks secret.
pub fn mask_assignment(assignment: &str) -> String {
    match assignment.split_once('=') {
        Some((name, value)) if is_secret_name(name) && !value.is_empty() => {
            format!("{name}={MASK}")
        }
        _ => assignment.to_string(),
    }
}

/// Mask secret values in a command line: `--password=x`, `--password x`, `PASSWORD=x`, and
/// credentials in URLs (`https://user:pass@host`).
pub fn mask_argv(argv: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut mask_next = false;
    for word in argv {
        if mask_next {
            mask_next = false;
            if !word.starts_with('-') {
                out.push(MASK.to_string());
                continue;
            }
        }
        if let Some(body) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) {
            match body.split_once('=') {
                Some((name, v)) if is_secret_name(name) && !v.is_empty() => {
                    out.push(format!("{}={MASK}", &word[..word.len() - v.len() - 1]));
                    continue;
                }
                None if is_secret_name(body) => mask_next = true,
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
