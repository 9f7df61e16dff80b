//! Just enough shell reading for RUN steps: split a script into simple commands and words, and
//! find pipes. This never runs anything; it only looks at words.

/// One simple command of a script, its words with quotes removed, whether its output is
/// piped into the next command, and where it is written: the byte range of the script from its
/// first word to the end of its last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub words: Vec<String>,
    pub piped_to_next: bool,
    pub start: usize,
    pub end: usize,
}

impl Command {
    /// The program name without a path (`/usr/bin/curl` -> `curl`), skipping `env VAR=x` and
    /// leading assignments.
    pub fn program(&self) -> &str {
        self.words
            .iter()
            .map(String::as_str)
            .find(|w| !w.contains('=') && *w != "env" && *w != "exec" && *w != "command")
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .unwrap_or("")
    }

    /// Words after the program.
    pub fn args(&self) -> &[String] {
        let p = self
            .words
            .iter()
            .position(|w| !w.contains('=') && w != "env" && w != "exec" && w != "command")
            .unwrap_or(self.words.len());
        self.words.get(p + 1..).unwrap_or(&[])
    }

    pub fn has(&self, word: &str) -> bool {
        self.words.iter().any(|w| w == word)
    }

    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.words.iter().any(|w| w.starts_with(prefix))
    }

    /// Words that are not options, after the program and an optional subcommand.
    pub fn operands(&self) -> impl Iterator<Item = &str> {
        self.args()
            .iter()
            .map(String::as_str)
            .filter(|w| !w.starts_with('-'))
    }
}

/// Split a script into commands at `&&`, `||`, `;`, `|`, `&` and line breaks (outside quotes).
pub fn commands(script: &str) -> Vec<Command> {
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    // Byte offsets: where the current command's first word starts, where its last word ends.
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut chars = script.char_indices().peekable();
    let flush_word = |cur: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(cur));
            *in_word = false;
        }
    };
    let finish = |words: &mut Vec<String>,
                  piped: bool,
                  start: &mut Option<usize>,
                  end: usize,
                  out: &mut Vec<Command>| {
        let begin = start.take();
        if !words.is_empty() {
            let begin = begin.unwrap_or(end);
            out.push(Command {
                words: std::mem::take(words),
                piped_to_next: piped,
                start: begin,
                end: end.max(begin),
            });
        }
    };
    while let Some((at, c)) = chars.next() {
        let next_at = at + c.len_utf8();
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                end = next_at;
            }
            (Some('"'), '\\') => {
                if let Some((i, n)) = chars.next() {
                    cur.push(n);
                    end = i + n.len_utf8();
                }
            }
            (Some(_), c) => {
                cur.push(c);
                end = next_at;
            }
            (None, '\'') | (None, '"') => {
                quote = Some(c);
                in_word = true;
                start.get_or_insert(at);
                end = next_at;
            }
            (None, '\\') => match chars.next() {
                Some((_, '\n')) | None => {}
                Some((i, n)) => {
                    cur.push(n);
                    in_word = true;
                    start.get_or_insert(at);
                    end = i + n.len_utf8();
                }
            },
            (None, '#') if !in_word => {
                // comment to end of line
                for (_, n) in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                flush_word(&mut cur, &mut in_word, &mut words);
                finish(&mut words, false, &mut start, end, &mut out);
            }
            (None, '|') => {
                flush_word(&mut cur, &mut in_word, &mut words);
                if chars.peek().map(|p| p.1) == Some('|') {
                    chars.next();
                    finish(&mut words, false, &mut start, end, &mut out);
                } else {
                    finish(&mut words, true, &mut start, end, &mut out);
                }
            }
            (None, '&') | (None, ';') | (None, '\n') | (None, '(') | (None, ')') => {
                if c == '&' && chars.peek().map(|p| p.1) == Some('&') {
                    chars.next();
                }
                flush_word(&mut cur, &mut in_word, &mut words);
                finish(&mut words, false, &mut start, end, &mut out);
            }
            (None, c) if c.is_whitespace() => flush_word(&mut cur, &mut in_word, &mut words),
            (None, c) => {
                cur.push(c);
                in_word = true;
                start.get_or_insert(at);
                end = next_at;
            }
        }
    }
    flush_word(&mut cur, &mut in_word, &mut words);
    finish(&mut words, false, &mut start, end, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commands_and_pipes() {
        let c = commands("apt-get update && apt-get install -y 'curl' ; curl -fsSL https://x | sh # hi\nrm -rf /x");
        let progs: Vec<_> = c.iter().map(|c| c.program()).collect();
        assert_eq!(progs, vec!["apt-get", "apt-get", "curl", "sh", "rm"]);
        assert!(c[2].piped_to_next);
        assert!(!c[1].piped_to_next);
        assert_eq!(c[1].words, vec!["apt-get", "install", "-y", "curl"]);
        let c = commands("a || b");
        assert!(!c[0].piped_to_next);
        assert_eq!(
            commands("DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get install x")[0].program(),
            "apt-get"
        );
    }

    #[test]
    fn commands_know_where_they_are_written() {
        let script =
            "set -e\n  apt-get install -y 'curl' \\\n    wget # note\ncurl -k https://x | sh\n";
        let c = commands(script);
        let text: Vec<&str> = c.iter().map(|c| &script[c.start..c.end]).collect();
        assert_eq!(
            text,
            vec![
                "set -e",
                "apt-get install -y 'curl' \\\n    wget",
                "curl -k https://x",
                "sh"
            ]
        );
        let c = commands("écho \"é\"; x");
        assert_eq!((c[0].start, c[0].end, c[1].start), (0, 10, 12));
    }
}
