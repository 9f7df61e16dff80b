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
    // DOCKER_PASS, SMTP_PASS: a word of its own, so BYPASS or PASSTHROUGH stay visible.
    "pass",
    "jwt",
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
    ("cert", "key"),
    ("signing", "key"),
    ("encryption", "key"),
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

/// One lower-case word of a name, kept inline: every word the lists above compare has at most
/// 16 bytes, so a longer word can equal none of them and is kept empty.
#[derive(Clone, Copy, Default)]
struct Word {
    bytes: [u8; 16],
    len: usize,
}

impl Word {
    fn as_str(&self) -> &str {
        match self.bytes.get(..self.len) {
            Some(b) => std::str::from_utf8(b).unwrap_or(""),
            None => "",
        }
    }
}

/// Call `each` with the lower-case words of a name, split at `_`, `-`, `.`, spaces and other
/// characters that are not ASCII letters or digits, and at camelCase boundaries. Names are
/// judged for every process's command line and every environment variable of an audit, so no
/// word is allocated.
fn for_each_word(name: &str, mut each: impl FnMut(&Word)) {
    let mut cur = Word::default();
    let mut prev_lower = false;
    for &c in name.as_bytes() {
        if !c.is_ascii_alphanumeric() {
            if cur.len > 0 {
                each(&cur);
                cur.len = 0;
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && cur.len > 0 {
            each(&cur);
            cur.len = 0;
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if let Some(b) = cur.bytes.get_mut(cur.len) {
            *b = c.to_ascii_lowercase();
        }
        cur.len += 1;
    }
    if cur.len > 0 {
        each(&cur);
    }
}

/// Does this variable, flag or key name look like it holds a secret?
pub fn is_secret_name(name: &str) -> bool {
    let mut count = 0;
    let mut first_says_not = false;
    let mut secret = false;
    let mut prev = Word::default();
    for_each_word(name, |w| {
        let word = w.as_str();
        if count == 0 {
            first_says_not = matches!(word, "authorization" | "authentication" | "anonymous");
        }
        if SECRET_WORDS.contains(&word)
            || (count > 0 && SECRET_PAIRS.contains(&(prev.as_str(), word)))
        {
            secret = true;
        }
        prev = *w;
        count += 1;
    });
    // `prev` is now the last word.
    secret && !first_says_not && !NOT_SECRET_LAST_WORDS.contains(&prev.as_str())
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
        || (v.starts_with('/') && !v.contains(char::is_whitespace) && !looks_like_key(v))
}

/// Base64 key material, which begins with `/` once in 64 keys: long, only base64 characters,
/// upper and lower case and digits mixed, and no `.` as a file name would have. A path that
/// happens to look so is masked too, which costs less than showing a key.
fn looks_like_key(v: &str) -> bool {
    v.len() >= 16
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'_' | b'-'))
        && v.bytes().any(|b| b.is_ascii_uppercase())
        && v.bytes().any(|b| b.is_ascii_lowercase())
        && v.bytes().any(|b| b.is_ascii_digit())
}

/// Should the value of `name` be masked? Only when the name looks secret and the value is not a
/// switch, a number or a file path.
pub fn should_mask(name: &str, value: &str) -> bool {
    is_secret_name(name) && !harmless_value(value)
}

/// Mask the value of a `NAME=value` assignment when it holds a secret: all of it when the name
/// looks secret, else the credentials inside it (`DATABASE_URL=postgres://app:***@db/x`).
pub fn mask_assignment(assignment: &str) -> String {
    let Some((name, value)) = assignment.split_once('=') else {
        return assignment.to_string();
    };
    // `https://host/api/token?format=json` is a URL with a query, not a variable: the secret
    // query parameters are found by their own names ([`url_secrets`]), and the others stay.
    if name.contains("://") {
        return mask_credentials(assignment);
    }
    match mask_secret_named_value(assignment) {
        Some(masked) => masked,
        None => format!("{name}={}", mask_credentials(value)),
    }
}

/// The assignment with its whole value masked when its name looks secret and the value is not
/// harmless; None otherwise (not an assignment, a URL, or nothing to mask by name).
fn mask_secret_named_value(assignment: &str) -> Option<String> {
    let (name, value) = assignment.split_once('=')?;
    if name.contains("://") || !is_secret_name(name) {
        return None;
    }
    // Quotes around the value and punctuation that closes the surrounding syntax (`true,` in a
    // YAML flow list, `x"]` at the end of a JSON array) belong to the text, not to the value:
    // judged without them, and kept around the mask so the text still parses.
    let core = value.trim_end_matches([',', ']', '}', ')', ';', '"', '\'']);
    let tail = &value[core.len()..];
    let (lead, core) = match core.chars().next() {
        Some(q @ ('"' | '\'')) if tail.contains(q) => (&core[..1], &core[1..]),
        _ => ("", core),
    };
    (!harmless_value(core)).then(|| format!("{name}={lead}{MASK}{tail}"))
}

/// `text` with the values of its space-separated `NAME=value` words masked where the name looks
/// secret (see [`mask_secret_named_value`]); credentials found by their form are left to the
/// caller, which looks for them once in the whole text.
fn mask_secret_named_values(text: &str) -> String {
    if !text.contains('=') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match mask_secret_named_value(word) {
            Some(masked) => out.push_str(&masked),
            None => out.push_str(word),
        }
    }
    out
}

/// Mask secret values in a command line: `--password=x`, `--password x`, `PASSWORD=x`, and the
/// credentials [`credential_spans`] recognises (`https://user:pass@host`, `curl -u user:pass`,
/// `Authorization: Bearer ...`, token formats such as `ghp_...`).
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
        out.push(mask_secret_named_values(word));
    }
    // Credentials found by their form, also those that span words (`curl -u user:pass`): found
    // once in the joined command line, each word masked where they fall in it.
    let mut joined = String::new();
    let mut starts = Vec::with_capacity(out.len());
    for w in &out {
        if !joined.is_empty() {
            joined.push(' ');
        }
        starts.push(joined.len());
        joined.push_str(w);
    }
    let spans = credential_spans(&joined);
    if spans.is_empty() {
        return out;
    }
    out.iter()
        .zip(starts)
        .map(|(w, at)| {
            let inside: Vec<(usize, usize)> = spans
                .iter()
                .filter(|(a, b, _)| *a < at + w.len() && *b > at)
                .map(|(a, b, _)| ((*a).max(at) - at, (*b).min(at + w.len()) - at))
                .collect();
            replace_spans(w, &inside)
        })
        .collect()
}

/// Mask secrets inside free text: `NAME=value` words whose name looks secret, and every
/// credential [`credential_spans`] recognises (URL userinfo, curl/wget user and password
/// options, bearer tokens, token formats). Used for image history lines (`ENV DB_PASSWORD=x`),
/// the snippets of `bulkhead scan` and similar text.
pub fn mask_text(text: &str) -> String {
    mask_credentials(&mask_secret_named_values(text))
}

/// Replace every credential [`credential_spans`] finds in `text` with the mask.
pub fn mask_credentials(text: &str) -> String {
    let spans: Vec<(usize, usize)> = credential_spans(text)
        .into_iter()
        .map(|(a, b, _)| (a, b))
        .collect();
    replace_spans(text, &spans)
}

/// `text` with the (sorted, non-overlapping) byte ranges replaced by the mask.
fn replace_spans(text: &str, spans: &[(usize, usize)]) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(a, b) in spans {
        if a < at || b <= a {
            continue;
        }
        out.push_str(&text[at..a]);
        out.push_str(MASK);
        at = b;
    }
    out.push_str(&text[at..]);
    out
}

/// `scheme://user:password@host` -> `scheme://user:***@host`.
pub fn mask_url_userinfo(word: &str) -> String {
    let spans: Vec<(usize, usize)> = url_passwords(word).into_iter().collect();
    replace_spans(word, &spans)
}

/// Credentials recognisable in free text by their format or their place, as byte ranges of the
/// secret part (sorted, not overlapping) and what each is:
///
/// - token formats: AWS access key IDs (`AKIA...`), GitHub (`ghp_...`, `github_pat_...`), GitLab
///   (`glpat-...`), Slack (`xoxb-...`), Stripe live keys (`sk_live_...`), npm (`npm_...`), Google
///   API keys (`AIza...`) and JSON Web Tokens (`eyJ...`);
/// - the password of URL userinfo (`https://user:password@host`);
/// - secrets a URL carries in its path or query ([`url_secrets`]): the token of a Slack, Discord
///   or Microsoft Teams webhook, and query parameters such as `token=`, `access_token=`, an Azure
///   shared access signature's `sig=` or `X-Amz-Signature=`;
/// - the password of curl's `-u`/`--user`/`-U`/`--proxy-user user:password` and wget's
///   `--password`/`--http-password`/`--ftp-password`/`--proxy-password`;
/// - the token after `Bearer`, and the credentials after `Basic` in an Authorization header.
///
/// References such as `$TOKEN` or `${TOKEN}` and already masked values are not credentials.
pub fn credential_spans(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut found = token_formats(text);
    let words = Mentions::of(text.as_bytes());
    if words.scheme_separator {
        found.extend(
            url_passwords(text)
                .into_iter()
                .map(|(a, b)| (a, b, "a password in a URL")),
        );
        found.extend(url_secrets(text));
    }
    if words.curl_or_wget {
        found.extend(command_line_passwords(text));
    }
    if words.authorization_scheme {
        found.extend(authorization_values(text));
    }
    if found.len() < 2 {
        return found;
    }
    // The first finder wins where two overlap (`https://u:ghp_...@host` is a GitHub token).
    // The spans kept do not overlap, so sorted by start their ends are sorted too: a new span
    // can only overlap the kept span starting last before its end.
    let mut kept: std::collections::BTreeMap<usize, (usize, &'static str)> = Default::default();
    for (a, b, what) in found {
        let overlaps = kept
            .range(..b)
            .next_back()
            .is_some_and(|(_, (end, _))| *end > a);
        if !overlaps {
            kept.insert(a, (b, what));
        }
    }
    kept.into_iter()
        .map(|(a, (b, what))| (a, b, what))
        .collect()
}

/// Which words the finders of [`credential_spans`] start from a text holds, read in one pass:
/// an audit masks every command line of the host and most hold none of them, so the finders
/// that need one are not run at all.
#[derive(Default)]
struct Mentions {
    /// `://`
    scheme_separator: bool,
    /// `curl` or `wget`, letter case ignored.
    curl_or_wget: bool,
    /// `bearer` or `basic`, letter case ignored.
    authorization_scheme: bool,
}

impl Mentions {
    fn of(b: &[u8]) -> Mentions {
        let mut m = Mentions::default();
        let at = |i: usize, word: &[u8]| {
            b.get(i..i + word.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(word))
        };
        for (i, c) in b.iter().enumerate() {
            match c {
                b':' => m.scheme_separator |= at(i, b"://"),
                b'c' | b'C' => m.curl_or_wget |= at(i, b"curl"),
                b'w' | b'W' => m.curl_or_wget |= at(i, b"wget"),
                b'b' | b'B' => m.authorization_scheme |= at(i, b"bearer") || at(i, b"basic"),
                _ => {}
            }
        }
        m
    }
}

fn is_token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// Is this value a reference to something else, empty, or already masked?
fn not_a_value(v: &str) -> bool {
    v.is_empty() || v.starts_with('$') || v == MASK || v.starts_with("***")
}

/// Token formats recognised by their prefix and length.
fn token_formats(text: &str) -> Vec<(usize, usize, &'static str)> {
    // (prefix, minimum total length, exact length, what)
    const FORMATS: &[(&str, usize, bool, &str)] = &[
        ("AKIA", 20, true, "an AWS access key ID"),
        ("ASIA", 20, true, "an AWS access key ID"),
        ("ghp_", 36, false, "a GitHub token"),
        ("gho_", 36, false, "a GitHub token"),
        ("ghu_", 36, false, "a GitHub token"),
        ("ghs_", 36, false, "a GitHub token"),
        ("ghr_", 36, false, "a GitHub token"),
        ("github_pat_", 40, false, "a GitHub token"),
        ("glpat-", 26, false, "a GitLab token"),
        ("xoxb-", 20, false, "a Slack token"),
        ("xoxp-", 20, false, "a Slack token"),
        ("xoxa-", 20, false, "a Slack token"),
        ("xoxr-", 20, false, "a Slack token"),
        ("sk_live_", 24, false, "a Stripe secret key"),
        ("rk_live_", 24, false, "a Stripe secret key"),
        ("npm_", 40, false, "an npm token"),
        ("AIza", 39, true, "a Google API key"),
    ];
    const SHORTEST: usize = {
        let mut shortest = usize::MAX;
        let mut i = 0;
        while i < FORMATS.len() {
            if FORMATS[i].1 < shortest {
                shortest = FORMATS[i].1;
            }
            i += 1;
        }
        shortest
    };
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Each run of token characters is read once; candidates start at its start or after a `-`
    // or `_` inside it (`x-AKIA...`), so hostile text stays linear.
    while i < b.len() {
        if !is_token_byte(b[i]) {
            i += 1;
            continue;
        }
        let run = i;
        let mut end = i;
        while end < b.len() && is_token_byte(b[end]) {
            end += 1;
        }
        if (run == 0 || b[run - 1] != b'.') && text[run..end].starts_with("eyJ") {
            if let Some(jwt) = jwt_end(b, run) {
                out.push((run, jwt, "a JSON Web Token"));
                i = jwt;
                continue;
            }
        }
        for k in run..end {
            if end - k < SHORTEST {
                break;
            }
            if (k > run && b[k - 1].is_ascii_alphanumeric())
                || !FORMATS
                    .iter()
                    .any(|(prefix, ..)| prefix.as_bytes()[0] == b[k])
            {
                continue;
            }
            let word = &text[k..end];
            let hit = FORMATS.iter().find(|(prefix, len, exact, _)| {
                word.starts_with(prefix)
                    && if *exact {
                        word.len() == *len
                    } else {
                        word.len() >= *len
                    }
            });
            if let Some((prefix, _, _, what)) = hit {
                let body_ok = match *prefix {
                    "AKIA" | "ASIA" => word
                        .bytes()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()),
                    _ => true,
                };
                if body_ok {
                    out.push((k, end, *what));
                    break;
                }
            }
        }
        i = end;
    }
    out
}

/// A JSON Web Token starting at `i`: three base64url segments, the first two of ten characters
/// or more (the signature may be empty).
fn jwt_end(b: &[u8], i: usize) -> Option<usize> {
    let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let mut j = i;
    for segment in 0..3 {
        let start = j;
        while j < b.len() && j - start < 16384 && b64(b[j]) {
            j += 1;
        }
        if segment < 2 {
            if j - start < 10 || j >= b.len() || b[j] != b'.' {
                return None;
            }
            j += 1;
        }
    }
    Some(j)
}

/// The passwords of URL userinfo (`scheme://user:password@host`).
fn url_passwords(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let scheme_end = from + i;
        let authority = scheme_end + 3;
        from = authority;
        if scheme_end == 0 || !text.as_bytes()[scheme_end - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut cap = (authority + 2048).min(text.len());
        while !text.is_char_boundary(cap) {
            cap -= 1;
        }
        let rest = &text[authority..cap];
        let end = rest
            .find(|c: char| c.is_whitespace() || "/?#\"'\\<>`".contains(c))
            .unwrap_or(rest.len());
        let Some(at) = rest[..end].rfind('@') else {
            continue;
        };
        let Some(colon) = rest[..at].find(':') else {
            continue;
        };
        let pass = &rest[colon + 1..at];
        if !not_a_value(pass) {
            out.push((authority + colon + 1, authority + at));
        }
    }
    out
}

/// Characters that end a URL written in text: blanks, quotes, angle brackets (`<https://...>`),
/// the backslash of an escape and the backtick of Markdown or a shell.
fn ends_url(c: u8) -> bool {
    c.is_ascii_whitespace() || c.is_ascii_control() || b"\"'<>`\\".contains(&c)
}

/// The path segments of a URL from `at` (a `/`) up to its query, fragment or end, at most `max`
/// of them, as byte ranges without their slashes.
fn path_segments(b: &[u8], mut at: usize, max: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    while out.len() < max && at < b.len() && b[at] == b'/' {
        let start = at + 1;
        let mut j = start;
        while j < b.len() && !ends_url(b[j]) && !matches!(b[j], b'/' | b'?' | b'#') {
            j += 1;
        }
        out.push((start, j));
        at = j;
    }
    out
}

/// Is `host` the domain `domain` or a name below it (letter case ignored)?
fn in_domain(host: &[u8], domain: &[u8]) -> bool {
    host.len() >= domain.len()
        && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain)
        && (host.len() == domain.len() || host[host.len() - domain.len() - 1] == b'.')
}

/// A webhook token in a path segment: letters, digits, `_` and `-`. A reference (`${TOKEN}`) or
/// a placeholder in brackets (`<token>`, `...`) is not one; a placeholder word in the token's
/// place is masked like a token, which hides nothing anyone needs.
fn token_segment(text: &str, (a, b): (usize, usize)) -> bool {
    b > a
        && text[a..b]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Secrets a URL carries outside its userinfo, as byte ranges of the secret part. The scheme,
/// host and the rest of the path stay visible, so a masked URL still says what it points at:
///
/// - incoming webhooks, whose path is the credential: Slack
///   (`hooks.slack.com/services/T.../B.../***`, also `/workflows/` and `/triggers/`), Discord
///   (`discord.com/api/webhooks/ID/***`) and Microsoft Teams connectors
///   (`*.webhook.office.com/webhookb2/.../IncomingWebhook/***`, `outlook.office.com/webhook/...`);
/// - query or fragment parameters whose name says they are secret (`token`, `access_token`,
///   `api_key`, `client_secret`, `X-Amz-Signature`, `X-Amz-Security-Token`, `Signature`, as
///   [`is_secret_name`] reads names), the `sig` of an Azure shared access signature (which also
///   signs Logic Apps and Power Automate webhook URLs), and the `code` of an Azure Functions URL
///   (its function key).
///
/// Other URLs are left alone: registry mirrors, download links, `?page=2`, `?token_type=bearer`,
/// and references such as `?token=$TOKEN`.
fn url_secrets(text: &str) -> Vec<(usize, usize, &'static str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    // The end of the last URL whose query was read. A URL inside another one (a redirect target
    // in a query) ends where that one ends and its query was read with it, so no byte of a
    // query is read twice, whatever the text holds.
    let mut read_to = 0;
    while let Some(i) = text[from..].find("://") {
        let scheme_end = from + i;
        let authority = scheme_end + 3;
        from = authority;
        if scheme_end == 0 || !b[scheme_end - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut host_end = authority;
        while host_end < b.len() && !ends_url(b[host_end]) && !b"/?#".contains(&b[host_end]) {
            host_end += 1;
        }
        let host_port = &text[authority..host_end];
        let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
        let host = host_port.split(':').next().unwrap_or("").as_bytes();
        // Webhooks: the host and the first path segments say where the token is.
        let slack = host.eq_ignore_ascii_case(b"hooks.slack.com");
        let discord = in_domain(host, b"discord.com") || in_domain(host, b"discordapp.com");
        let teams = host.eq_ignore_ascii_case(b"outlook.office.com")
            || host.eq_ignore_ascii_case(b"outlook.office365.com")
            || (in_domain(host, b"webhook.office.com") && host.len() > b"webhook.office.com".len());
        let segs = if slack || discord || teams {
            path_segments(b, host_end, 8)
        } else {
            Vec::new()
        };
        let seg = |k: usize| segs.get(k).map(|&(a, e)| &text[a..e]).unwrap_or("");
        if slack && matches!(seg(0), "services" | "workflows" | "triggers") {
            // /services/TEAM/BOT/TOKEN, /workflows/TEAM/APP/ID/TOKEN, /triggers/TEAM/ID/TOKEN:
            // the last segment is the token, the IDs before it are not secret.
            let n = segs
                .iter()
                .take_while(|&&(a, e)| e > a && b[a..e].iter().all(u8::is_ascii_alphanumeric))
                .count();
            if n >= 4 && token_segment(text, segs[n - 1]) {
                out.push((segs[n - 1].0, segs[n - 1].1, "a Slack webhook URL"));
            }
        }
        if discord && seg(0) == "api" {
            // /api/webhooks/ID/TOKEN, also with a version: /api/v10/webhooks/ID/TOKEN.
            let k = if seg(1).starts_with('v') && seg(1)[1..].bytes().all(|c| c.is_ascii_digit()) {
                2
            } else {
                1
            };
            if seg(k) == "webhooks"
                && !seg(k + 1).is_empty()
                && seg(k + 1).bytes().all(|c| c.is_ascii_digit())
                && segs.get(k + 2).is_some_and(|&s| token_segment(text, s))
            {
                let (a, e) = segs[k + 2];
                out.push((a, e, "a Discord webhook URL"));
            }
        }
        if teams {
            // .../IncomingWebhook/KEY/OWNER[/SIGNATURE]: everything after IncomingWebhook.
            if let Some(k) = segs
                .iter()
                .position(|&(a, e)| text[a..e].eq_ignore_ascii_case("incomingwebhook"))
            {
                // Connector URLs have two or three segments there, well within the eight read.
                if let (Some(&(a, _)), Some(&(_, e))) = (segs.get(k + 1), segs.last()) {
                    if e > a && !not_a_value(&text[a..e]) {
                        out.push((a, e, "a Microsoft Teams webhook URL"));
                    }
                }
            }
        }
        // Query and fragment parameters, once per outermost URL.
        if authority < read_to {
            continue;
        }
        let mut end = host_end;
        while end < b.len() && !ends_url(b[end]) {
            end += 1;
        }
        read_to = end;
        let Some(q) = text[host_end..end].find(['?', '#']).map(|q| host_end + q) else {
            continue;
        };
        let azure_functions = in_domain(host, b"azurewebsites.net");
        let mut at = q + 1;
        while at < end {
            let stop = text[at..end]
                .find(['&', '?', '#', ';'])
                .map_or(end, |k| at + k);
            let param = &text[at..stop];
            if let Some((name, value)) = param.split_once('=') {
                // Punctuation after a URL in prose or in a YAML flow list is not the value's.
                let value = value.trim_end_matches([',', '.', ')', ']', '}']);
                let secret_name = is_secret_name(name)
                    || name.eq_ignore_ascii_case("sig")
                    || (azure_functions && name == "code");
                if secret_name
                    && !harmless_value(value)
                    && !not_a_value(value)
                    && !value.starts_with('{')
                {
                    let a = at + name.len() + 1;
                    out.push((a, a + value.len(), "a secret in a URL query"));
                }
            }
            at = stop + 1;
        }
    }
    out
}

/// Words of a text with their byte offsets, and whether a line break (not escaped by a
/// trailing `\`) came before each.
fn words_with_breaks(text: &str) -> Vec<(usize, &str, bool)> {
    let mut out = Vec::new();
    let mut newline = false;
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((s, &text[s..i], newline));
                newline = false;
            }
            if c == '\n' && !out.last().is_some_and(|(_, w, _)| w.ends_with('\\')) {
                newline = true;
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..], newline));
    }
    out
}

/// Passwords on a curl or wget command line: curl's `-u user:pass` (also `--user`, `-U`,
/// `--proxy-user`, `--user=...`, `-uuser:pass` and combined short options such as `-ku`), and
/// wget's `--password`, `--http-password`, `--ftp-password`, `--proxy-password`.
fn command_line_passwords(text: &str) -> Vec<(usize, usize, &'static str)> {
    // Called only for a text that mentions curl or wget ([`Mentions`]).
    let mut out = Vec::new();
    let words = words_with_breaks(text);
    let unquote = |w: &str| w.trim_matches(|c| c == '"' || c == '\'').to_string();
    let mut program: Option<&str> = None;
    let mut i = 0;
    while i < words.len() {
        let (at, w, newline) = words[i];
        if newline || matches!(w, "&&" | "||" | "|" | ";" | "&") {
            program = None;
        }
        let name = unquote(w);
        let base = name.rsplit('/').next().unwrap_or("");
        if base == "curl" || base == "wget" {
            program = Some(if base == "curl" { "curl" } else { "wget" });
            i += 1;
            continue;
        }
        let Some(prog) = program else {
            i += 1;
            continue;
        };
        // The value of the option: glued (`--opt=v`, `-uv`) or the next word.
        let mut value: Option<(usize, &str)> = None;
        let next = || words.get(i + 1).filter(|n| !n.2).map(|n| (n.0, n.1));
        if prog == "curl" {
            if let Some(v) = w
                .strip_prefix("--user=")
                .or_else(|| w.strip_prefix("--proxy-user="))
            {
                value = Some((at + w.len() - v.len(), v));
            } else if w == "--user" || w == "--proxy-user" {
                value = next();
            } else if let Some(flags) = w.strip_prefix('-').filter(|f| !f.starts_with('-')) {
                if let Some(k) = flags.find(['u', 'U']) {
                    if flags[..k].bytes().all(|c| c.is_ascii_alphabetic()) {
                        value = if k + 1 == flags.len() {
                            next()
                        } else {
                            Some((at + 1 + k + 1, &flags[k + 1..]))
                        };
                    }
                }
            }
            if let Some((v_at, v)) = value {
                let lead = v.len() - v.trim_start_matches(['"', '\'']).len();
                let body = v[lead..].trim_end_matches(['"', '\'', ';']);
                if let Some(colon) = body.find(':') {
                    let pass = &body[colon + 1..];
                    if !not_a_value(pass) {
                        let a = v_at + lead + colon + 1;
                        out.push((a, a + pass.len(), "a password in a curl user option"));
                    }
                }
            }
        } else {
            for opt in [
                "--password",
                "--http-password",
                "--ftp-password",
                "--proxy-password",
            ] {
                if let Some(v) = w.strip_prefix(opt).and_then(|r| r.strip_prefix('=')) {
                    value = Some((at + w.len() - v.len(), v));
                } else if w == opt {
                    value = next();
                }
            }
            if let Some((v_at, v)) = value {
                let lead = v.len() - v.trim_start_matches(['"', '\'']).len();
                let pass = v[lead..].trim_end_matches(['"', '\'', ';']);
                if !not_a_value(pass) {
                    let a = v_at + lead;
                    out.push((a, a + pass.len(), "a password in a wget option"));
                }
            }
        }
        i += 1;
    }
    out
}

/// `Bearer TOKEN` anywhere, and `Basic CREDENTIALS` after `Authorization:`.
fn authorization_values(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut out = Vec::new();
    let lower = text.to_ascii_lowercase();
    for (scheme, what, needs_header) in [
        ("bearer", "a bearer token", false),
        ("basic", "basic authentication credentials", true),
    ] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(scheme) {
            let start = from + i;
            from = start + scheme.len();
            let b = text.as_bytes();
            if start > 0 && b[start - 1].is_ascii_alphanumeric() {
                continue;
            }
            if needs_header && !lower[..start].trim_end().ends_with("authorization:") {
                continue;
            }
            let mut j = from;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            if j == from {
                continue;
            }
            let v = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b"._~+/=-".contains(&b[j])) {
                j += 1;
            }
            let token = &text[v..j];
            if token.len() >= 8 && !not_a_value(token) {
                out.push((v, j, what));
            }
        }
    }
    out
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
        // camelCase, pairs across a boundary, and words longer than any listed one.
        for (n, secret) in [
            ("githubToken", true),
            ("apiKey", true),
            ("X-Amz-Security-Token", true),
            ("averyveryverylongprefix_PASSWORD", true),
            ("averyveryverylongpassword", false),
            ("DB_PASSWORD_FILE", false),
            ("tokenizer", false),
            ("", false),
            ("__", false),
            ("pässword_token", true),
        ] {
            assert_eq!(is_secret_name(n), secret, "{n}");
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

    /// An assignment keeps a harmless value, loses a value under a secret-looking name, and
    /// keeps the rest of a value that only holds a credential (a URL password).
    #[test]
    fn assignments_mask_secret_names_and_credentials_inside_values() {
        for (given, want) in [
            (
                "DATABASE_URL=postgres://app:hunter2d@db/x",
                "DATABASE_URL=postgres://app:***@db/x",
            ),
            ("PASS=hunter2f", "PASS=***"),
            ("DOCKER_PASS=hunter2v", "DOCKER_PASS=***"),
            ("JWT=hunter2g", "JWT=***"),
            ("DOCKER_CERT_KEY=hunter2k", "DOCKER_CERT_KEY=***"),
            (
                "DOCKER_CERT_KEY=/etc/docker/key.pem",
                "DOCKER_CERT_KEY=/etc/docker/key.pem",
            ),
            (
                "DB_PASSWORD=/run/secrets/db_password",
                "DB_PASSWORD=/run/secrets/db_password",
            ),
            // A base64 key that begins with `/` is no path.
            (
                "ENCRYPTION_SECRET=/80De5x1nHUIkT9CCXUWts3J0gBjmzl8CT4LdHHqaow=",
                "ENCRYPTION_SECRET=***",
            ),
            (
                "SECRET=/80De5x1n/HUIkT9CCXU/Wts3J0gBjmzl8CT4LdHHqaow",
                "SECRET=***",
            ),
            ("BYPASS_PROXY=hunter", "BYPASS_PROXY=hunter"),
            // Inside a YAML flow list or a quoted JSON string: the syntax around the value stays.
            ("--client-cert-auth=true,", "--client-cert-auth=true,"),
            ("--token-expiration=true]", "--token-expiration=true]"),
            ("--db-password=hunter2x,", "--db-password=***,"),
            ("PASSWORD=\"hunter2y\"", "PASSWORD=\"***\""),
            ("API_TOKEN=\"hunter2z\"]", "API_TOKEN=\"***\"]"),
            ("PATH=/usr/bin", "PATH=/usr/bin"),
            (
                "DOCKER_HOST=tcp://alice:hunter2w@docker:2376",
                "DOCKER_HOST=tcp://alice:***@docker:2376",
            ),
        ] {
            assert_eq!(mask_assignment(given), want, "{given}");
        }
    }

    #[test]
    fn credentials_in_text_are_masked() {
        for (text, masked) in [
            (
                "RUN curl -k -u admin:S3cr3tPassw0rd https://internal.example.com/a.tgz -o /a.tgz",
                "RUN curl -k -u admin:*** https://internal.example.com/a.tgz -o /a.tgz",
            ),
            ("curl --user admin:pw12345 https://x", "curl --user admin:*** https://x"),
            ("curl --user=admin:pw12345 https://x", "curl --user=admin:*** https://x"),
            ("curl -uadmin:pw12345 https://x", "curl -uadmin:*** https://x"),
            ("curl -fsSLu 'admin:pw 1' x", "curl -fsSLu 'admin:*** 1' x"),
            ("curl -U proxy:pw12345 x", "curl -U proxy:*** x"),
            ("/usr/bin/curl \\\n  -u admin:pw12345 x", "/usr/bin/curl \\\n  -u admin:*** x"),
            ("wget --password=pw12345 x", "wget --password=*** x"),
            ("wget --http-password pw12345 x", "wget --http-password *** x"),
            (
                "curl -H \"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\" https://x | sh",
                "curl -H \"Authorization: Bearer ***\" https://x | sh",
            ),
            ("Authorization: Bearer abcdefgh12345678", "Authorization: Bearer ***"),
            ("authorization: Basic dXNlcjpwYXNzd29yZA==", "authorization: Basic ***"),
            (
                "pip install --index-url https://user:glpat-abcdefghij1234567890@gitlab.example.com/simple foo",
                "pip install --index-url https://user:***@gitlab.example.com/simple foo",
            ),
            (
                "ADD https://user:pw123456@example.com/x.tgz /x",
                "ADD https://user:***@example.com/x.tgz /x",
            ),
            (
                "  DATABASE_URL: postgres://app:pgpass9876@db:5432/app",
                "  DATABASE_URL: postgres://app:***@db:5432/app",
            ),
            ("url=\"https://u:p@h\"", "url=\"https://u:***@h\""),
            ("key: AKIAIOSFODNN7EXAMPLE", "key: ***"),
            ("x=ghp_1234567890abcdefghijklmnopqrstuvwxyzAB;", "x=***;"),
            // The quotes around a masked value stay, so the line still parses.
            ("LABEL token=\"sk_live_abcdefghijklmnop1234\"", "LABEL token=\"***\""),
            ("LABEL key=\"sk_live_abcdefghijklmnop1234\"", "LABEL key=\"***\""),
            ("t glpat-abcdefghij1234567890 t", "t *** t"),
            ("k: AIzaSyA1234567890abcdefghijklmnopqrstuv", "k: ***"),
            ("x-AKIAIOSFODNN7EXAMPLE", "x-***"),
        ] {
            assert_eq!(mask_text(text), masked, "{text}");
        }
        // Not credentials: references, user names without a password, uid:gid outside curl,
        // ordinary words.
        for text in [
            "curl -u \"$USER:$PASS\" https://x",
            "curl -u admin https://x",
            "curl https://user:${TOKEN}@host/x",
            "git clone ssh://git@github.com/x/y",
            "docker run --user 1000:1000 -u app:app x",
            "useradd -u 10001 app",
            "Authorization: Bearer $TOKEN",
            "Basic auth is enabled",
            "https://example.com/AKIA/x",
            "image: nginx:1.25",
        ] {
            assert_eq!(mask_text(text), text, "{text}");
        }
        // A command for curl, then another: `-u` after the separator is not curl's.
        assert_eq!(
            mask_text("curl -fsS x && sort -u a:b"),
            "curl -fsS x && sort -u a:b"
        );
        // What each is, for messages.
        let t = "curl -u a:pw12345 https://u:ghp_1234567890abcdefghijklmnopqrstuvwxyzAB@h";
        let what: Vec<&str> = credential_spans(t).iter().map(|c| c.2).collect();
        assert_eq!(
            what,
            vec!["a password in a curl user option", "a GitHub token"]
        );
    }

    #[test]
    fn argv_credentials_across_words() {
        let argv: Vec<String> = [
            "curl",
            "-u",
            "admin:pw12345",
            "-H",
            "Authorization: Bearer abcdefgh12345678",
            "https://u:p4ss@h/x",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            mask_argv(&argv),
            vec![
                "curl",
                "-u",
                "admin:***",
                "-H",
                "Authorization: Bearer ***",
                "https://u:***@h/x"
            ]
        );
        let argv: Vec<String> = ["docker", "run", "--user", "app:app", "x"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(mask_argv(&argv), argv);
    }

    /// Webhook URLs carry their credential in the path, signed and token URLs in the query: the
    /// secret part is masked, the scheme, host and the rest stay so the URL can be recognised.
    #[test]
    fn secrets_in_url_paths_and_queries_are_masked() {
        for (text, masked) in [
            (
                "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
                "https://hooks.slack.com/services/T00000000/B00000000/***",
            ),
            (
                "https://hooks.slack.com/workflows/T01234567/A01234567/123456789012345678/AbCdEfGh1234567890ABCDEF",
                "https://hooks.slack.com/workflows/T01234567/A01234567/123456789012345678/***",
            ),
            (
                "https://hooks.slack.com/triggers/T01234567/1234567890123/0123456789abcdef0123456789abcdef",
                "https://hooks.slack.com/triggers/T01234567/1234567890123/***",
            ),
            (
                "https://discord.com/api/webhooks/123456789012345678/AbCdEf-GhIjKl_MnOpQrStUvWxYz0123456789",
                "https://discord.com/api/webhooks/123456789012345678/***",
            ),
            (
                "https://discord.com/api/webhooks/123456/TOKEN",
                "https://discord.com/api/webhooks/123456/***",
            ),
            (
                "https://ptb.discordapp.com/api/v10/webhooks/123456/AbCdEf-123456?wait=true",
                "https://ptb.discordapp.com/api/v10/webhooks/123456/***?wait=true",
            ),
            (
                "https://contoso.webhook.office.com/webhookb2/7a1d1f2e-0000-4000-8000-000000000000@72f988bf-86f1-41af-91ab-2d7cd011db47/IncomingWebhook/0123456789abcdef0123456789abcdef/8b2f1c3d-0000-4000-8000-000000000000/V2AbCdEf-GhIjKl_MnOp",
                "https://contoso.webhook.office.com/webhookb2/7a1d1f2e-0000-4000-8000-000000000000@72f988bf-86f1-41af-91ab-2d7cd011db47/IncomingWebhook/***",
            ),
            (
                "https://outlook.office.com/webhook/a1b2c3d4@e5f6a7b8/IncomingWebhook/0123456789abcdef/c9d0e1f2",
                "https://outlook.office.com/webhook/a1b2c3d4@e5f6a7b8/IncomingWebhook/***",
            ),
            (
                "https://api.example.com/v1/items?token=abc123def456&page=2",
                "https://api.example.com/v1/items?token=***&page=2",
            ),
            (
                "https://app.example.com/cb#access_token=ya29.a0AfH6SMabc&token_type=Bearer&expires_in=3599",
                "https://app.example.com/cb#access_token=***&token_type=Bearer&expires_in=3599",
            ),
            (
                "https://acct.blob.core.windows.net/c/b.tgz?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=AbCd%2BEfGh%3D",
                "https://acct.blob.core.windows.net/c/b.tgz?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01T00:00:00Z&sig=***",
            ),
            (
                "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef",
                "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=***",
            ),
            (
                "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=AbCdEfGhIjKlMnOp",
                "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=***",
            ),
            (
                "https://fn.azurewebsites.net/api/Hook?code=AbCdEf12345==",
                "https://fn.azurewebsites.net/api/Hook?code=***",
            ),
            // In a command line, a JSON string, a YAML flow list, a redirect target.
            (
                "curl -X POST -d @msg.json https://hooks.slack.com/services/T1/B2/abcdefgh12345678 && echo sent",
                "curl -X POST -d @msg.json https://hooks.slack.com/services/T1/B2/*** && echo sent",
            ),
            (
                "{\"url\": \"https://discord.com/api/webhooks/1/abcdefghijk\"}",
                "{\"url\": \"https://discord.com/api/webhooks/1/***\"}",
            ),
            (
                "urls: [https://x.example.com/?api_key=abcdef123456, https://y.example.com/]",
                "urls: [https://x.example.com/?api_key=***, https://y.example.com/]",
            ),
            (
                "https://login.example.com/?next=https://app.example.com/cb?access_token=abcdef123456",
                "https://login.example.com/?next=https://app.example.com/cb?access_token=***",
            ),
            (
                "https://user:pw123456@hooks.slack.com/services/T1/B2/abcdefgh?token=q1w2e3r4",
                "https://user:***@hooks.slack.com/services/T1/B2/***?token=***",
            ),
        ] {
            assert_eq!(mask_text(text), masked, "{text}");
            assert_eq!(mask_credentials(text), masked, "{text}");
        }
        // Under a name that does not look secret, as environment variables, labels and flags
        // are masked: the URL's secret goes, the name and the rest stay.
        assert_eq!(
            mask_assignment(
                "SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
            ),
            "SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/***"
        );
        assert_eq!(
            mask_assignment("com.example.alerts=\"https://discord.com/api/webhooks/42/abcdefgh\""),
            "com.example.alerts=\"https://discord.com/api/webhooks/42/***\""
        );
        let argv: Vec<String> = [
            "notify",
            "--webhook=https://hooks.slack.com/services/T1/B2/abcdefgh12345678",
            "--url",
            "https://x.example.com/upload?sig=AbCd%3D",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            mask_argv(&argv),
            vec![
                "notify",
                "--webhook=https://hooks.slack.com/services/T1/B2/***",
                "--url",
                "https://x.example.com/upload?sig=***",
            ]
        );
        let what: Vec<&str> = credential_spans(
            "https://hooks.slack.com/services/T1/B2/abcdefgh https://discord.com/api/webhooks/1/abc https://a.webhook.office.com/webhookb2/x@y/IncomingWebhook/k/o https://h/?token=abcdef",
        )
        .iter()
        .map(|c| c.2)
        .collect();
        assert_eq!(
            what,
            vec![
                "a Slack webhook URL",
                "a Discord webhook URL",
                "a Microsoft Teams webhook URL",
                "a secret in a URL query"
            ]
        );
    }

    /// Ordinary URLs hold no secret and stay as written, query parameters included: a URL is
    /// not a `NAME=value` assignment even when its path has a secret-looking word.
    #[test]
    fn ordinary_urls_are_not_masked() {
        for text in [
            "https://mirror.gcr.io",
            "{\"registry-mirrors\": [\"https://mirror.gcr.io\", \"https://registry-1.docker.io/v2/\"]}",
            "https://example.com/path/to/file",
            "https://example.com/download?file=token.txt&version=2",
            "https://api.example.com/token?format=json",
            "https://example.com/secrets/list?sort=name&page=2",
            "https://login.example.com/authorize?response_type=token&client_id=app&redirect_uri=https://app.example.com/cb",
            "https://example.com/cb#token_type=bearer&expires_in=3600",
            "https://example.com/?token=$TOKEN&b=${SIG}",
            "https://example.com/?token={token}&auth=true",
            "https://hooks.slack.com/services/",
            "https://hooks.slack.com/services/${SLACK_PATH}",
            "https://api.slack.com/apps/A0123/incoming-webhooks",
            "https://discord.com/channels/123456/789012",
            "https://discord.com/api/webhooks/${DISCORD_ID}/${DISCORD_TOKEN}",
            "https://outlook.office.com/mail/inbox",
            "https://example.com/hooks/IncomingWebhook/abc",
            "https://github.com/org/repo/blob/main/README.md?plain=1#L10",
            "https://example.com/api?code=linux",
            "ADD https://example.com/releases/v1.2/app.tgz?sig-check=1 /app.tgz",
        ] {
            assert_eq!(mask_text(text), text, "{text}");
            assert_eq!(mask_credentials(text), text, "{text}");
        }
        assert_eq!(
            mask_assignment("NOTIFY_URL=https://api.example.com/token?format=json"),
            "NOTIFY_URL=https://api.example.com/token?format=json"
        );
        assert_eq!(
            mask_assignment("REGISTRY_MIRROR=https://mirror.example.com:5000/v2/"),
            "REGISTRY_MIRROR=https://mirror.example.com:5000/v2/"
        );
    }

    #[test]
    fn hostile_text_is_masked_in_linear_time() {
        let t = "a-".repeat(2_000_000);
        let started = std::time::Instant::now();
        assert_eq!(mask_credentials(&t), t);
        let u = "x://".repeat(1_000_000);
        assert_eq!(mask_credentials(&u), u);
        // URLs inside URLs, and webhook paths repeated: each byte is read a bounded number of
        // times.
        let q = "https://h/?next=".repeat(200_000);
        assert_eq!(mask_credentials(&q), q);
        let s = "https://hooks.slack.com/services/".repeat(100_000);
        assert_eq!(mask_credentials(&s), s);
        let t = "https://a.webhook.office.com/IncomingWebhook/".repeat(100_000);
        assert!(mask_credentials(&t).len() < t.len());
        assert!(started.elapsed().as_secs() < 20);
    }

    #[test]
    fn text() {
        assert_eq!(
            mask_text("/bin/sh -c #(nop)  ENV DB_PASSWORD=s3cret PATH=/usr/bin"),
            "/bin/sh -c #(nop)  ENV DB_PASSWORD=*** PATH=/usr/bin"
        );
    }
}
