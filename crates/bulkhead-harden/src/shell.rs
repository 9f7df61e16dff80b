//! Quoting for POSIX shells, so a command shown to a human can be pasted as is. Values come from
//! inspect documents (names, commands, environment) that an attacker may have chosen: every word
//! that is not plainly safe is single-quoted, and single quotes inside it are closed, escaped and
//! reopened. Nothing here ever runs a shell.

/// Quote one word.
pub fn quote(word: &str) -> String {
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

/// Quote and join a command line.
pub fn join<S: AsRef<str>>(argv: &[S]) -> String {
    argv.iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Split a command line written by [`join`] back into words (single quotes, the `'\''` escape,
/// double quotes and backslashes outside quotes). For tests and for reading saved commands; it
/// never expands anything.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => cur.push(ch),
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
                            Some(ch @ ('"' | '\\' | '$' | '`')) => cur.push(ch),
                            Some(ch) => {
                                cur.push('\\');
                                cur.push(ch);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(ch) => cur.push(ch),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(ch) = chars.next() {
                    cur.push(ch);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
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
