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
    /// Where each word is written in the script: one byte range per word, quotes included, in
    /// the order of `words`.
    pub ranges: Vec<std::ops::Range<usize>>,
}

impl Command {
    /// The program name without a path (`/usr/bin/curl` -> `curl`), skipping leading
    /// assignments, `exec`, `command`, and `env` with its options and assignments (see
    /// [`env_command`]).
    pub fn program(&self) -> &str {
        self.command_words()
            .first()
            .map(|(w, _)| w.rsplit('/').next().unwrap_or(w))
            .unwrap_or("")
    }

    /// Words after the program. The words of an `env -S` string after the program are not
    /// among them: they are part of another word.
    pub fn args(&self) -> &[String] {
        let after = self.command_words().iter().skip(1).find_map(|(_, at)| *at);
        after.map_or(&[][..], |at| &self.words[at..])
    }

    /// The words from the program on, each with its index in `words` (`None` for a word of an
    /// `env -S` string).
    fn command_words(&self) -> Vec<(&str, Option<usize>)> {
        let mut words: Vec<(&str, Option<usize>)> = self
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.as_str(), Some(i)))
            .collect();
        let mut i = 0;
        while let Some(&(w, _)) = words.get(i) {
            if w.contains('=') || w == "exec" || w == "command" {
                i += 1;
            } else if w.rsplit('/').next() == Some("env") {
                let command = env_command(&words[i + 1..]);
                words.truncate(i);
                words.extend(command);
            } else {
                break;
            }
        }
        words.split_off(i)
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

/// What `env` reads after its name (`words`, each with its index in the command, `None` for a
/// word of a `-S` string): its assignments and the command it runs, without env's options.
/// GNU env's options that take an argument (busybox and the BSDs have some of them) take the
/// next word (`-u NAME`, `-C DIR`, `--unset NAME`, `--chdir DIR`; a long option also by any
/// prefix, as getopt reads it: none of env's other long options starts with the same letter)
/// or the rest of their word (`-uNAME`, `-iuNAME`, `--unset=NAME`). `-S STRING`
/// (`--split-string`) splits STRING into words that take its place, options included, as
/// `#!/usr/bin/env -S bash -e` uses it. `--` ends the options. An option written after an
/// assignment is skipped too (env would take it for the program and fail): what follows is
/// what the author meant to run.
pub fn env_command<'a>(words: &[(&'a str, Option<usize>)]) -> Vec<(&'a str, Option<usize>)> {
    let mut queue: std::collections::VecDeque<(&'a str, Option<usize>)> =
        words.iter().copied().collect();
    let mut out = Vec::new();
    let mut options = true;
    while let Some((word, at)) = queue.pop_front() {
        if options && word == "--" {
            options = false;
            continue;
        }
        if !(options && word.starts_with('-')) {
            out.push((word, at));
            if word.contains('=') {
                continue;
            }
            out.extend(queue);
            break;
        }
        let (flag, attached) = match word.strip_prefix("--") {
            Some(long) => {
                let (name, value) = match long.split_once('=') {
                    Some((name, value)) => (name, Some(value)),
                    None => (long, None),
                };
                let flag = [('u', "unset"), ('C', "chdir"), ('S', "split-string")]
                    .into_iter()
                    .find(|(_, full)| !name.is_empty() && full.starts_with(name))
                    .map(|(flag, _)| flag);
                (flag, value)
            }
            // In a cluster of short options, the first that takes an argument takes the rest.
            None => match word[1..].find(['u', 'C', 'S']) {
                Some(i) => {
                    let rest = &word[i + 2..];
                    (
                        word[i + 1..].chars().next(),
                        Some(rest).filter(|r| !r.is_empty()),
                    )
                }
                None => (None, None),
            },
        };
        let Some(flag) = flag else { continue };
        let argument = match attached {
            Some(a) => Some(a),
            None => queue.pop_front().map(|(a, _)| a),
        };
        if let (Some(string), 'S') = (argument, flag) {
            for w in split_string(string).into_iter().rev() {
                queue.push_front((w, None));
            }
        }
    }
    out
}

/// The words of an `env -S` string: split at blanks outside quotes, a word written wholly in
/// quotes read without them. (env also reads escapes and `${NAME}` there; a word with them is
/// kept as written.)
fn split_string(s: &str) -> Vec<&str> {
    let mut words = Vec::new();
    let mut start = None;
    let mut quote = None;
    for (i, c) in s.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c.is_whitespace() => {
                if let Some(b) = start.take() {
                    words.push(&s[b..i]);
                }
            }
            None => {
                start.get_or_insert(i);
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
            }
        }
    }
    words.extend(start.map(|b| &s[b..]));
    words
        .into_iter()
        .map(|w| {
            let q = w.chars().next().filter(|c| *c == '\'' || *c == '"');
            match q {
                Some(q) if w.len() >= 2 && w.ends_with(q) && !w[1..w.len() - 1].contains(q) => {
                    &w[1..w.len() - 1]
                }
                _ => w,
            }
        })
        .collect()
}

/// Whether a word (as `commands` splits it) is a redirection, and if so whether its target is
/// the next word: `>`, `>>`, `2>`, `&>`, `&>>`, `<`, `<<<`, `>|` take the next word; `2>&1`,
/// `>&2`, `<&0`, `>/dev/null`, `2>err.log` are whole. `<<EOF` (a heredoc's delimiter) is whole.
pub fn redirection(word: &str) -> Option<bool> {
    let rest = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = match rest.strip_prefix('&') {
        Some(r) if r.starts_with('>') && rest.len() == word.len() => r,
        Some(_) => return None,
        None => rest,
    };
    if !rest.starts_with(['>', '<']) {
        return None;
    }
    let op_len = rest
        .find(|c: char| !matches!(c, '>' | '<' | '|' | '&'))
        .unwrap_or(rest.len());
    // An operator alone (`>`, `>>`, `>&`, `<<<`) takes the next word.
    Some(op_len == rest.len())
}

/// Split a script into commands at `&&`, `||`, `;`, `|`, `&` and line breaks (outside quotes).
/// The `&` of a redirection (`&>`, `&>>`, `>&2`, `2>&1`, `<&0`) is part of its word.
pub fn commands(script: &str) -> Vec<Command> {
    let mut r = Reader::default();
    let mut quote: Option<char> = None;
    let mut chars = script.char_indices().peekable();
    // Whether the byte before `at` is `>` or `<`: a `&` there belongs to a redirection.
    let after_redirect = |at: usize| at > 0 && matches!(script.as_bytes()[at - 1], b'>' | b'<');
    while let Some((at, c)) = chars.next() {
        let next_at = at + c.len_utf8();
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                r.end = next_at;
            }
            (Some('"'), '\\') => {
                if let Some((i, n)) = chars.next() {
                    r.cur.push(n);
                    r.end = i + n.len_utf8();
                }
            }
            (Some(_), c) => {
                r.cur.push(c);
                r.end = next_at;
            }
            (None, '\'') | (None, '"') => {
                quote = Some(c);
                r.begin_word(at);
                r.end = next_at;
            }
            (None, '\\') => match chars.next() {
                Some((_, '\n')) | None => {}
                Some((i, n)) => {
                    r.cur.push(n);
                    r.begin_word(at);
                    r.end = i + n.len_utf8();
                }
            },
            (None, '#') if !r.in_word => {
                // comment to end of line
                for (_, n) in chars.by_ref() {
                    if n == '\n' {
                        break;
                    }
                }
                r.finish_command(false);
            }
            (None, '|') => {
                let piped = chars.peek().map(|p| p.1) != Some('|');
                if !piped {
                    chars.next();
                }
                r.finish_command(piped);
            }
            // `&` of a redirection stays in its word: after `>` or `<` (`>&2`, `2>&1`, `<&0`) or
            // before `>` (`&>`, `&>>`, which starts a word of its own).
            (None, '&') if r.in_word && after_redirect(at) => {
                r.cur.push(c);
                r.end = next_at;
            }
            (None, '&') if chars.peek().map(|p| p.1) == Some('>') => {
                r.flush_word();
                r.cur.push(c);
                r.begin_word(at);
                r.end = next_at;
            }
            (None, '&') | (None, ';') | (None, '\n') | (None, '(') | (None, ')') => {
                if c == '&' && chars.peek().map(|p| p.1) == Some('&') {
                    chars.next();
                }
                r.finish_command(false);
            }
            (None, c) if c.is_whitespace() => r.flush_word(),
            (None, c) => {
                r.cur.push(c);
                r.begin_word(at);
                r.end = next_at;
            }
        }
    }
    r.finish_command(false);
    r.out
}

/// What [`commands`] has read so far: the word being read, the words of the command being
/// read, and the commands done.
#[derive(Default)]
struct Reader {
    out: Vec<Command>,
    words: Vec<String>,
    ranges: Vec<std::ops::Range<usize>>,
    cur: String,
    in_word: bool,
    /// Where the current command's first word starts, and the current word.
    start: Option<usize>,
    word_start: Option<usize>,
    /// Where the last character read into a word ends.
    end: usize,
}

impl Reader {
    /// A word (or more of it) begins at `at`.
    fn begin_word(&mut self, at: usize) {
        self.in_word = true;
        self.start.get_or_insert(at);
        self.word_start.get_or_insert(at);
    }

    fn flush_word(&mut self) {
        if self.in_word {
            self.words.push(std::mem::take(&mut self.cur));
            let begin = self.word_start.take().unwrap_or(self.end);
            self.ranges.push(begin..self.end);
            self.in_word = false;
        }
    }

    /// End the current command (`piped`: its output goes to the next one).
    fn finish_command(&mut self, piped: bool) {
        self.flush_word();
        let begin = self.start.take();
        if !self.words.is_empty() {
            let begin = begin.unwrap_or(self.end);
            self.out.push(Command {
                words: std::mem::take(&mut self.words),
                piped_to_next: piped,
                start: begin,
                end: self.end.max(begin),
                ranges: std::mem::take(&mut self.ranges),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each word's range is where it is written, quotes and escapes included, so a fix can edit
    /// one word of a command in place.
    #[test]
    fn word_ranges_are_where_the_words_are_written() {
        let script = "apt-get -o 'A B' install \\\n  \"x y\" z\\ w; echo ok";
        let cmds = commands(script);
        let written: Vec<&str> = cmds[0].ranges.iter().map(|r| &script[r.clone()]).collect();
        assert_eq!(
            written,
            ["apt-get", "-o", "'A B'", "install", "\"x y\"", "z\\ w"]
        );
        assert_eq!(cmds[0].words.len(), cmds[0].ranges.len());
        assert_eq!(&script[cmds[1].ranges[1].clone()], "ok");
    }

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
    fn ampersand_redirections_stay_in_their_word() {
        let words =
            |s: &str| -> Vec<Vec<String>> { commands(s).into_iter().map(|c| c.words).collect() };
        assert_eq!(
            words("echo x &> /f; echo y &>> /g; echo z >&2; a 2>&1 | tee l; b <&0; c&>/h"),
            vec![
                vec!["echo", "x", "&>", "/f"],
                vec!["echo", "y", "&>>", "/g"],
                vec!["echo", "z", ">&2"],
                vec!["a", "2>&1"],
                vec!["tee", "l"],
                vec!["b", "<&0"],
                vec!["c", "&>/h"],
            ]
        );
        let c = commands("a 2>&1 | tee l");
        assert!(c[0].piped_to_next);
        // `&&` and a lone `&` still end a command.
        assert_eq!(
            words("cmd1 && cmd2 & cmd3&cmd4 &"),
            vec![vec!["cmd1"], vec!["cmd2"], vec!["cmd3"], vec!["cmd4"]]
        );
        // Quoted, `&>` is text.
        assert_eq!(words("echo 'a &> b'"), vec![vec!["echo", "a &> b"]]);
    }

    #[test]
    fn redirection_words_are_known() {
        assert_eq!(redirection(">"), Some(true));
        assert_eq!(redirection("2>"), Some(true));
        assert_eq!(redirection("&>>"), Some(true));
        assert_eq!(redirection("<<<"), Some(true));
        assert_eq!(redirection("2>&1"), Some(false));
        assert_eq!(redirection(">/dev/null"), Some(false));
        assert_eq!(redirection("<&0"), Some(false));
        assert_eq!(redirection("foo==1.0"), None);
        assert_eq!(redirection("2"), None);
        assert_eq!(redirection("a>b"), None);
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
