//! Quoting for bash (and other shells with ANSI-C quoting: zsh, ksh, busybox sh), so a command
//! shown to a human can be pasted as is. Values come from inspect documents (names, commands,
//! environment) that an attacker may have chosen: every word that is not plainly safe is
//! single-quoted, and single quotes inside it are closed, escaped and reopened. A word holding a
//! character that is not shown as itself — a control character (ESC, CR, LF, TAB, DEL, the C1
//! controls), a Unicode format, bidirectional or invisible character, or a space other than
//! U+0020 — is written in ANSI-C quoting instead, `$'...'`, with each such character escaped
//! (`\e`, `\r`, `\n`, `\t`, or its UTF-8 bytes as `\xHH`, which mean the same in every locale):
//! the printed command is safe to show on a terminal and is exactly the command that runs.
//! Nothing here ever runs a shell.

use std::fmt::Write as _;

/// Whether `c` must not appear raw in a printed command: it acts on the terminal
/// ([`bulkhead_facts::visible::acts_on_terminal`]: C0 controls, DEL, C1 controls, bidirectional
/// marks, overrides and isolates, line and paragraph separators), is a tab or newline (which
/// a terminal shows as blank space or a line break, not as part of a word), or is shown as
/// nothing or as an ordinary space although it is not one: Unicode format characters (zero-width
/// space and joiners, word joiner, invisible operators, byte-order mark, soft hyphen, tags),
/// variation selectors, fillers and spaces other than U+0020.
pub fn needs_escape(c: char) -> bool {
    bulkhead_facts::visible::acts_on_terminal(c)
        || c.is_control()
        || matches!(c,
            '\t' | '\n'
            // Spaces other than U+0020 (Zs).
            | '\u{a0}' | '\u{1680}' | '\u{2000}'..='\u{200a}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
            // Format characters (Cf) and other default-ignorable code points.
            | '\u{ad}' | '\u{34f}' | '\u{600}'..='\u{605}' | '\u{61c}' | '\u{6dd}' | '\u{70f}'
            | '\u{890}'..='\u{891}' | '\u{8e2}' | '\u{115f}'..='\u{1160}' | '\u{17b4}'..='\u{17b5}'
            | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
            | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
            | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}' | '\u{110bd}' | '\u{110cd}'
            | '\u{13430}'..='\u{1343f}' | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}'
            | '\u{e0000}'..='\u{e0fff}')
}

/// Quote one word for a command shown to a human (and pasted into bash).
pub fn quote(word: &str) -> String {
    if word.chars().any(needs_escape) {
        return ansi_c(word);
    }
    quote_posix(word)
}

/// Quote one word for a string that a POSIX `sh` runs, not a person (a health check's
/// `CMD-SHELL`, which `/bin/sh` in the container may be dash): single quotes only, whatever the
/// word holds. Never print the result raw: it can hold control characters.
pub fn quote_posix(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
        // A leading `=` or `~` means something to some shells; quote it.
        && !word.starts_with(['=', '~'])
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// `word` in ANSI-C quoting: printable characters as themselves (backslash and single quote
/// escaped), the others as escapes. A `\xHH` escape takes at most two hex digits, so a digit
/// after it stays a character of its own.
fn ansi_c(word: &str) -> String {
    let mut out = String::with_capacity(word.len() + 16);
    out.push_str("$'");
    for c in word.chars() {
        match c {
            '\\' => out.push_str(r"\\"),
            '\'' => out.push_str(r"\'"),
            '\n' => out.push_str(r"\n"),
            '\r' => out.push_str(r"\r"),
            '\t' => out.push_str(r"\t"),
            '\x1b' => out.push_str(r"\e"),
            c if needs_escape(c) => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Quote and join a command line.
pub fn join<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quote and join a command line for a POSIX `sh` (see [`quote_posix`]).
pub fn join_posix<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|w| quote_posix(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Split a command line written by [`join`] back into words (single quotes, the `'\''` escape,
/// ANSI-C quoting `$'...'` with bash's escapes, double quotes and backslashes outside quotes).
/// For tests and for reading saved commands; it never expands anything.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    // Bytes, as a `\xHH` escape may write one byte of a UTF-8 sequence.
    let mut cur: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    let push = |cur: &mut Vec<u8>, ch: char| {
        let mut buf = [0u8; 4];
        cur.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    };
    let finish = |cur: &mut Vec<u8>| {
        String::from_utf8(std::mem::take(cur)).map_err(|_| "a word is not UTF-8".to_string())
    };
    while let Some(c) = chars.next() {
        match c {
            '$' if chars.peek() == Some(&'\'') => {
                chars.next();
                in_word = true;
                ansi_c_body(&mut chars, &mut cur)?;
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => push(&mut cur, ch),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(ch @ ('"' | '\\' | '$' | '`')) => push(&mut cur, ch),
                            Some(ch) => {
                                cur.push(b'\\');
                                push(&mut cur, ch);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(ch) => push(&mut cur, ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    push(&mut cur, ch);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(finish(&mut cur)?);
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                push(&mut cur, c);
            }
        }
    }
    if in_word {
        words.push(finish(&mut cur)?);
    }
    Ok(words)
}

/// Read the rest of an ANSI-C quoted string (after `$'`, up to and including the closing quote)
/// into `out`, decoding the escapes as bash does.
fn ansi_c_body(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    out: &mut Vec<u8>,
) -> Result<(), String> {
    // Up to `max` digits of `radix`, as a number.
    fn digits(
        chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
        radix: u32,
        max: usize,
        first: Option<u32>,
    ) -> (u32, usize) {
        let (mut n, mut count) = match first {
            Some(d) => (d, 1),
            None => (0, 0),
        };
        while count < max {
            match chars.peek().and_then(|c| c.to_digit(radix)) {
                Some(d) => {
                    n = n * radix + d;
                    count += 1;
                    chars.next();
                }
                None => break,
            }
        }
        (n, count)
    }
    let mut buf = [0u8; 4];
    loop {
        let c = chars.next().ok_or("unterminated $' quote")?;
        let simple = match c {
            '\'' => return Ok(()),
            '\\' => match chars.next().ok_or("unterminated $' quote")? {
                'a' => Some('\x07'),
                'b' => Some('\x08'),
                'e' | 'E' => Some('\x1b'),
                'f' => Some('\x0c'),
                'n' => Some('\n'),
                'r' => Some('\r'),
                't' => Some('\t'),
                'v' => Some('\x0b'),
                ch @ ('\\' | '\'' | '"' | '?') => Some(ch),
                d @ '0'..='7' => {
                    let (n, _) = digits(chars, 8, 3, d.to_digit(8));
                    out.push(n as u8);
                    None
                }
                'x' => {
                    let (n, count) = digits(chars, 16, 2, None);
                    if count == 0 {
                        out.extend_from_slice(br"\x");
                    } else {
                        out.push(n as u8);
                    }
                    None
                }
                u @ ('u' | 'U') => {
                    let (n, count) = digits(chars, 16, if u == 'u' { 4 } else { 8 }, None);
                    match char::from_u32(n).filter(|_| count > 0) {
                        Some(ch) => Some(ch),
                        None => return Err(format!("bad \\{u} escape in $' quote")),
                    }
                }
                'c' => {
                    let ch = chars.next().ok_or("unterminated $' quote")?;
                    out.push((ch as u32 & 0x1f) as u8);
                    None
                }
                other => {
                    out.push(b'\\');
                    Some(other)
                }
            },
            other => Some(other),
        };
        if let Some(ch) = simple {
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_words_round_trip() {
        let words = [
            "docker",
            "run",
            "--name",
            "web",
            "it's",
            "$(rm -rf /)",
            "a b",
            "`id`",
            "",
            "x;y",
            "new\nline",
            "~root",
            "--label=a=b",
        ];
        let line = join(&words);
        assert!(line.contains("'$(rm -rf /)'"));
        assert!(line.contains(r"'it'\''s'"));
        assert_eq!(split(&line).unwrap(), words);
    }

    /// Words an attacker could put in a container's command, environment or labels: terminal
    /// escapes, line breaks, C1 controls, bidirectional and invisible characters, mixed with
    /// quotes, backslashes and characters an escape could swallow.
    const HOSTILE: &[&str] = &[
        "sleep 100000; echo \x1b[31mRED\x1b[0m\r",
        "\x1b[2K\x1b[1A\x1b[2Kerased\r",
        "\x1b]8;;http://evil/\x07link\x1b]8;;\x07",
        "new\nline",
        "tab\there",
        "del\x7f",
        "bell\x07 bs\x08 vt\x0b ff\x0c so\x0e us\x1f",
        "nel\u{85} csi\u{9b}1A \u{80}\u{9f}",
        "user\u{202e}txt.exe",
        "a\u{2066}b\u{2069}c\u{200e}\u{200f}\u{61c}",
        "zero\u{200b}width\u{200d}joiner\u{2060}\u{feff}",
        "line\u{2028}para\u{2029}",
        "soft\u{ad}hyphen nb\u{a0}sp ideo\u{3000}",
        "tag\u{e0041}\u{e007f}",
        "it's \x1b and \\ back\\slash",
        "'\n'",
        "\\x41\x1b\\e",
        "\x01a\x1bff\x1b0\x0112",
        "\x1bé café 日本 🎉\r",
        "$'quoted'\n",
        "$(id)\n`id`",
        "\"double\"\t\"quotes\"",
        "!!\n!$",
        "\r",
    ];

    #[test]
    fn unprintable_words_use_ansi_c_quoting_with_escapes() {
        assert_eq!(
            quote("sleep 100000; echo \x1b[31mRED\x1b[0m\r"),
            r"$'sleep 100000; echo \e[31mRED\e[0m\r'"
        );
        assert_eq!(quote("a\nb\tc"), r"$'a\nb\tc'");
        assert_eq!(quote("it's\x7f\\"), r"$'it\'s\x7f\\'");
        assert_eq!(quote("x\u{85}"), r"$'x\xc2\x85'");
        assert_eq!(quote("user\u{202e}txt"), r"$'user\xe2\x80\xaetxt'");
        assert_eq!(quote("a\u{200b}b"), r"$'a\xe2\x80\x8bb'");
        // Printable characters beside them stay as they are.
        assert_eq!(quote("café\r"), r"$'café\r'");
        for word in HOSTILE {
            let q = quote(word);
            assert!(q.starts_with("$'") && q.ends_with('\''), "{q}");
            assert!(
                !q.bytes().any(|b| b < 0x20 || b == 0x7f),
                "control byte left in {q:?}"
            );
            assert!(
                !q.chars().any(needs_escape),
                "unsafe character left in {q:?}"
            );
            assert_eq!(
                bulkhead_facts::visible::visible(&q),
                q.as_str(),
                "the quoted word is terminal-safe"
            );
        }
    }

    #[test]
    fn unprintable_words_round_trip_through_split() {
        let line = join(HOSTILE);
        assert!(!line.bytes().any(|b| b < 0x20 || b == 0x7f), "{line:?}");
        assert_eq!(split(&line).unwrap(), HOSTILE);
    }

    /// What bash makes of `quoted` words: `printf '%s\0'` of them, run by a real bash (only our
    /// own test words; nothing else is executed), split at the NULs.
    fn through_bash(quoted: &str, locale: &str) -> Vec<Vec<u8>> {
        let out = std::process::Command::new("bash")
            .arg("--norc")
            .arg("--noprofile")
            .arg("-c")
            .arg(format!("printf '%s\\0' {quoted}"))
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("LC_ALL", locale)
            .output()
            .expect("bash runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut words: Vec<Vec<u8>> = out.stdout.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
        assert_eq!(words.pop(), Some(Vec::new()), "output ends with a NUL");
        words
    }

    #[test]
    fn quoted_words_are_exactly_the_words_bash_runs() {
        let plain = [
            "docker",
            "it's",
            "$(rm -rf /)",
            "a b",
            "`id`",
            "x;y",
            "~root",
            "café",
            "\\",
            "!",
        ];
        // In a UTF-8 locale and in the C locale (where bash leaves `\u` escapes as they are; the
        // `\xHH` escapes used here mean the same bytes in every locale).
        for locale in ["C.UTF-8", "C"] {
            for word in HOSTILE.iter().chain(&plain) {
                assert_eq!(
                    through_bash(&quote(word), locale),
                    vec![word.as_bytes().to_vec()],
                    "{word:?} quoted as {} in {locale}",
                    quote(word)
                );
            }
            let all: Vec<&str> = HOSTILE.iter().chain(&plain).copied().collect();
            let expected: Vec<Vec<u8>> = all.iter().map(|w| w.as_bytes().to_vec()).collect();
            assert_eq!(through_bash(&join(&all), locale), expected, "{locale}");
        }
    }

    #[test]
    fn plain_words_stay_plain() {
        assert_eq!(
            join(&[
                "--security-opt",
                "no-new-privileges:true",
                "/tmp:rw,size=64m"
            ]),
            "--security-opt no-new-privileges:true /tmp:rw,size=64m"
        );
    }
}
