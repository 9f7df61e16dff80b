//! Dockerfiles: instructions with spans, build stages, and the values Docker would substitute.
//!
//! Owns: parser directives (`# escape=`), line continuations with either escape character,
//! comments inside continued instructions, heredocs (`RUN <<EOF`, `COPY <<-EOT`, several per
//! instruction), `ONBUILD`, JSON (exec) and shell forms, multi-stage builds (`FROM ... AS name`),
//! the final stage or a `--target`, and `ARG`/`ENV` substitution (`$V`, `${V}`, `${V:-default}`,
//! `${V:+alt}`) in `FROM` and `USER`, which is how the scanner sees that `USER ${APP_UID}` is not
//! root. Nothing read here is ever executed.

use crate::span::{check_text, Limits, LineIndex, SourceError, Span};
use std::collections::BTreeMap;

/// One instruction: keyword, arguments as written (continuations joined), and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// Upper-case keyword: `FROM`, `RUN`, `USER`, ...
    pub keyword: String,
    /// Flags before the arguments (`--platform=...`, `--chown=...`, `--from=...`, `--mount=...`).
    pub flags: Vec<String>,
    /// Arguments after the keyword and flags, continuation lines joined as BuildKit joins them
    /// (escape character and line break removed, the next line appended as written, nothing
    /// added), comment and blank lines inside the continuation dropped; heredoc bodies are not
    /// included.
    pub args: String,
    /// Exec form (`["a", "b"]`) when the arguments are a JSON array.
    pub exec: Option<Vec<String>>,
    /// Heredoc bodies attached to this instruction, in order.
    pub heredocs: Vec<Heredoc>,
    /// `ONBUILD RUN ...`: the trigger instruction (its keyword and args are in `keyword`/`args`).
    pub onbuild: bool,
    /// From the keyword to the end of the last line (heredocs included).
    pub span: Span,
    /// Span of the arguments on the first line, up to its escape character (for edits of simple
    /// instructions); empty at the end of the first line when the arguments start further on.
    pub args_span: Span,
    /// Where `args` is written: `(offset in args, file offset)` of each run of bytes written
    /// together, in order; a run ends where the next starts (see [`Instruction::args_written`]).
    args_runs: Vec<(usize, usize)>,
}

impl Instruction {
    /// The file byte ranges that write bytes `range` of [`Instruction::args`]: one range per
    /// line when the arguments are joined from continuation lines, so a value read across a
    /// line break is found (and masked) where each of its parts is written.
    pub fn args_written(&self, range: std::ops::Range<usize>) -> Vec<std::ops::Range<usize>> {
        let ends = self
            .args_runs
            .iter()
            .skip(1)
            .map(|&(at, _)| at)
            .chain([self.args.len()]);
        self.args_runs
            .iter()
            .zip(ends)
            .filter_map(|(&(run_start, file_at), run_end)| {
                let (a, b) = (range.start.max(run_start), range.end.min(run_end));
                (a < b).then(|| file_at + (a - run_start)..file_at + (b - run_start))
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Heredoc {
    /// The delimiter word (`EOF`).
    pub delimiter: String,
    /// `<<-` strips leading tabs.
    pub strip_tabs: bool,
    pub body: String,
    pub span: Span,
}

/// A build stage: from its `FROM` to the next.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// 0-based position.
    pub index: usize,
    /// `AS name`, lower-cased as BuildKit compares it.
    pub name: Option<String>,
    /// The base image as written.
    pub base: String,
    /// The base image after ARG substitution (global ARGs declared before the first FROM).
    pub base_resolved: String,
    /// Index into `Dockerfile::instructions` of the FROM.
    pub from: usize,
    /// Indices of this stage's instructions (FROM excluded).
    pub body: Vec<usize>,
}

impl Stage {
    /// The base is another stage of this file (by name or index), not an image.
    pub fn base_stage<'d>(&self, file: &'d Dockerfile) -> Option<&'d Stage> {
        let b = self.base_resolved.to_ascii_lowercase();
        file.stages[..self.index]
            .iter()
            .rev()
            .find(|s| s.name.as_deref() == Some(b.as_str()) || s.index.to_string() == b)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dockerfile {
    pub escape: char,
    pub instructions: Vec<Instruction>,
    pub stages: Vec<Stage>,
    /// ARGs declared before the first FROM, with defaults.
    pub global_args: BTreeMap<String, Option<String>>,
}

/// The effective user of a stage: the last USER (after substitution), or the base's user when
/// the base is another stage, or unset (which means root unless the base image sets a user).
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveUser {
    /// As written in the USER instruction.
    pub written: String,
    /// After ARG/ENV substitution; `None` when a variable has no value known from this file.
    pub resolved: Option<String>,
    /// Index of the USER instruction.
    pub instruction: usize,
}

impl Dockerfile {
    /// The stage a build produces: `target` (by name, case-insensitive) or the last one.
    pub fn final_stage(&self, target: Option<&str>) -> Result<&Stage, String> {
        match target {
            None => self
                .stages
                .last()
                .ok_or_else(|| "no FROM instruction: not a Dockerfile".to_string()),
            Some(t) => {
                let t = t.to_ascii_lowercase();
                self.stages
                    .iter()
                    .find(|s| s.name.as_deref() == Some(t.as_str()))
                    .ok_or_else(|| {
                        let names: Vec<&str> = self
                            .stages
                            .iter()
                            .filter_map(|s| s.name.as_deref())
                            .collect();
                        format!(
                            "no stage named {t:?} (stages: {})",
                            if names.is_empty() {
                                "none named".to_string()
                            } else {
                                names.join(", ")
                            }
                        )
                    })
            }
        }
    }

    pub fn instruction(&self, i: usize) -> &Instruction {
        &self.instructions[i]
    }

    /// Variables visible at instruction `at` of `stage`: global ARGs re-declared in the stage,
    /// stage ARGs and ENVs (later ones win), plus what the base stage defined.
    pub fn variables_at(&self, stage: &Stage, at: usize) -> BTreeMap<String, Option<String>> {
        let mut vars = match stage.base_stage(self) {
            Some(base) => self.variables_at(base, usize::MAX),
            None => BTreeMap::new(),
        };
        for &i in stage.body.iter().filter(|&&i| i < at) {
            let ins = &self.instructions[i];
            if ins.onbuild {
                continue;
            }
            match ins.keyword.as_str() {
                "ARG" => {
                    for (name, default) in parse_assignments(&ins.args, true) {
                        let value = default
                            .map(|d| substitute(&d, &vars).unwrap_or(d))
                            .or_else(|| self.global_args.get(&name).cloned().flatten());
                        // An ARG without a value keeps an ENV of the same name.
                        if value.is_some() || !vars.contains_key(&name) {
                            vars.insert(name, value);
                        }
                    }
                }
                "ENV" => {
                    for (name, value) in parse_assignments(&ins.args, false) {
                        let v = value.unwrap_or_default();
                        let v = substitute(&v, &vars).unwrap_or(v);
                        vars.insert(name, Some(v));
                    }
                }
                _ => {}
            }
        }
        vars
    }

    /// The user the stage runs as (see [`EffectiveUser`]), following a base stage.
    pub fn effective_user(&self, stage: &Stage) -> Option<EffectiveUser> {
        let last_user = stage
            .body
            .iter()
            .rev()
            .copied()
            .find(|&i| self.instructions[i].keyword == "USER" && !self.instructions[i].onbuild);
        match last_user {
            Some(i) => {
                let ins = &self.instructions[i];
                let vars = self.variables_at(stage, i);
                let written = ins.args.trim().to_string();
                Some(EffectiveUser {
                    resolved: substitute(&written, &vars),
                    written,
                    instruction: i,
                })
            }
            None => stage
                .base_stage(self)
                .and_then(|base| self.effective_user(base)),
        }
    }

    /// Instructions of `stage` with keyword `kw` (ONBUILD triggers excluded).
    pub fn in_stage<'a>(
        &'a self,
        stage: &'a Stage,
        kw: &'a str,
    ) -> impl Iterator<Item = (usize, &'a Instruction)> + 'a {
        stage
            .body
            .iter()
            .map(move |&i| (i, &self.instructions[i]))
            .filter(move |(_, ins)| ins.keyword == kw && !ins.onbuild)
    }
}

/// Is a user name or `uid[:gid]` root? `root`, `0`, `0:0`, `root:root`, `0:somegroup` all are
/// (only the user part decides; the reference tool treats `0:0` as non-root, see PITFALLS 16).
pub fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name == "root" || (!name.is_empty() && name.chars().all(|c| c == '0'))
}

/// Parse a Dockerfile (bytes as read from disk).
pub fn parse_bytes(bytes: &[u8], limits: &Limits) -> Result<Dockerfile, SourceError> {
    let text = check_text(bytes, limits)?;
    parse(text, limits)
}

/// Parse a Dockerfile.
pub fn parse(text: &str, limits: &Limits) -> Result<Dockerfile, SourceError> {
    if text.len() > limits.max_bytes {
        return Err(SourceError::at(1, 1, "input larger than the size limit"));
    }
    let lines = LineIndex::new(text);
    let line_count = lines.line_count() as u32;
    let line = |n: u32| lines.line_text(text, n);
    let pos_at =
        |n: u32, col_byte: usize| lines.pos(text, lines.line_start(n, text.len()) + col_byte);
    let text_bom = text.strip_prefix('\u{feff}').map(|_| 3).unwrap_or(0);

    // Parser directives: leading `# key=value` comments before anything else.
    let mut escape = '\\';
    let mut n = 1;
    while n <= line_count {
        let l = line(n);
        let l = if n == 1 {
            &l[text_bom.min(l.len())..]
        } else {
            l
        };
        let Some(rest) = l.trim_start().strip_prefix('#') else {
            break;
        };
        let Some((key, value)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().to_ascii_lowercase();
        if key.contains(char::is_whitespace) {
            break;
        }
        if key == "escape" {
            escape = match value.trim() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(SourceError::at(
                        n,
                        1,
                        format!("invalid escape directive {other:?}: use \\ or `"),
                    ))
                }
            };
        }
        n += 1;
    }

    let mut instructions = Vec::new();
    while n <= line_count {
        let raw = line(n);
        // docker build drops a byte order mark before the first line (Windows editors write
        // one); it counts here as indentation, so byte positions stay those of the file.
        let trimmed = match n {
            1 => raw[text_bom.min(raw.len())..].trim_start(),
            _ => raw.trim_start(),
        };
        if trimmed.is_empty() || trimmed.starts_with('#') {
            n += 1;
            continue;
        }
        let first_line = n;
        let indent = raw.len() - trimmed.len();
        // Gather continuation lines the way BuildKit does: drop the escape character and the
        // line break, and append the next line as written, indentation included and no blank
        // added, so `abc\` + `def` reads `abcdef`.
        let mut joined = String::new();
        let mut last_line = n;
        let mut cur = trimmed;
        // How much of `joined` is written on the first line (from its first non-blank).
        let mut on_first_line = None;
        // `(offset in joined, file offset)` of each line's part of `joined`.
        let mut runs = vec![(0, lines.line_start(n, text.len()) + indent)];
        loop {
            let (body, continued) = strip_continuation(cur, escape);
            joined.push_str(body);
            on_first_line.get_or_insert(joined.len());
            if !continued {
                break;
            }
            // Comment lines and blank lines inside the continuation are skipped; the next
            // other line continues the instruction.
            let mut m = last_line + 1;
            while m <= line_count {
                let t = line(m).trim_start();
                if t.starts_with('#') || t.is_empty() {
                    m += 1;
                    continue;
                }
                break;
            }
            if m > line_count {
                break;
            }
            last_line = m;
            cur = line(m);
            runs.push((joined.len(), lines.line_start(m, text.len())));
        }
        let on_first_line = on_first_line.unwrap_or_default();
        // `rest`, and the arguments cut from it, stay slices of `joined`, so where the
        // arguments start in `joined` tells whether (and where) they start on the first line.
        let (keyword, mut rest) = split_word(&joined);
        let mut keyword = keyword.to_ascii_uppercase();
        let mut onbuild = false;
        // Column (in characters) of the keyword that decides, for errors.
        let mut keyword_column = raw[..indent].chars().count() as u32 + 1;
        if keyword == "ONBUILD" {
            onbuild = true;
            let (k, r) = split_word(rest);
            let after = &trimmed["ONBUILD".len().min(trimmed.len())..];
            keyword_column += ("ONBUILD".len() + after.len() - after.trim_start().len()) as u32;
            keyword = k.to_ascii_uppercase();
            rest = r;
        }
        if keyword.is_empty() || !keyword.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(SourceError::at(
                first_line,
                indent as u32 + 1,
                format!(
                    "expected an instruction keyword (FROM, RUN, ...), found {:?}",
                    truncate(&joined, 40)
                ),
            ));
        }
        if !INSTRUCTIONS.contains(&keyword.as_str()) {
            let hint = closest_instruction(&keyword)
                .map(|k| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            return Err(SourceError::at(
                first_line,
                keyword_column,
                format!(
                    "unknown instruction {:?}{hint}: docker build refuses the Dockerfile",
                    truncate(&keyword, 40)
                ),
            ));
        }
        if onbuild && matches!(keyword.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
            return Err(SourceError::at(
                first_line,
                keyword_column,
                format!("ONBUILD cannot trigger {keyword}: docker build refuses the Dockerfile"),
            ));
        }
        let (flags, args_and_blanks) = split_flags(rest);
        let args_start = joined.len() - args_and_blanks.len();
        let args = args_and_blanks.trim_end().to_string();
        // The runs as offsets in `args`: those before the arguments are left out, the one they
        // start in is cut to where they start.
        let args_runs: Vec<(usize, usize)> = runs
            .iter()
            .enumerate()
            .filter(|&(k, _)| runs.get(k + 1).is_none_or(|next| next.0 > args_start))
            .map(|(_, &(at, file_at))| {
                let skipped = args_start.saturating_sub(at);
                (at + skipped - args_start, file_at + skipped)
            })
            .collect();
        // Heredocs start on the line after the instruction's last line.
        let mut heredocs = Vec::new();
        let mut end_line = last_line;
        for (delimiter, strip_tabs) in heredoc_markers(&args, &keyword) {
            if heredocs.len() >= limits.max_depth {
                return Err(SourceError::at(
                    first_line,
                    1,
                    "too many heredocs in one instruction",
                ));
            }
            let start = end_line + 1;
            let mut m = start;
            let mut body = String::new();
            let mut closed = false;
            while m <= line_count {
                let l = line(m);
                let cmp = if strip_tabs {
                    l.trim_start_matches('\t')
                } else {
                    l
                };
                if cmp == delimiter {
                    closed = true;
                    break;
                }
                body.push_str(cmp);
                body.push('\n');
                m += 1;
            }
            if !closed {
                return Err(SourceError::at(
                    first_line,
                    1,
                    format!("heredoc <<{delimiter} is never closed: add a line {delimiter:?}"),
                ));
            }
            heredocs.push(Heredoc {
                delimiter,
                strip_tabs,
                body,
                span: Span::new(pos_at(start, 0), pos_at(m, line(m).len())),
            });
            end_line = m;
        }
        // Only these instructions read a JSON array (another keeps `[1]` as its text).
        let reads_json = matches!(
            keyword.as_str(),
            "RUN" | "CMD" | "ENTRYPOINT" | "SHELL" | "COPY" | "ADD" | "VOLUME"
        );
        let exec = match parse_exec(&args) {
            Ok(exec) => exec,
            Err(why) if reads_json => {
                return Err(SourceError::at(
                    first_line,
                    keyword_column,
                    format!("{keyword}: {why}"),
                ))
            }
            Err(_) => None,
        };
        // HEALTHCHECK's command is read as RUN's: a JSON array of other values than strings
        // after CMD is refused too.
        if keyword == "HEALTHCHECK" {
            let (word, command) = split_word(&args);
            if word.eq_ignore_ascii_case("CMD") {
                if let Err(why) = parse_exec(command) {
                    return Err(SourceError::at(
                        first_line,
                        keyword_column,
                        format!("HEALTHCHECK CMD: {why}"),
                    ));
                }
            }
        }
        let first = line(first_line);
        // The first line's part of `joined` is that line from `indent`, up to its escape.
        let args_span = if !args.is_empty() && args_start < on_first_line {
            Span::new(
                pos_at(first_line, indent + args_start),
                pos_at(first_line, indent + on_first_line),
            )
        } else {
            Span::empty(pos_at(first_line, first.len()))
        };
        instructions.push(Instruction {
            keyword,
            flags,
            args,
            exec,
            heredocs,
            onbuild,
            span: Span::new(
                pos_at(first_line, indent),
                pos_at(end_line, line(end_line).len()),
            ),
            args_span,
            args_runs,
        });
        n = end_line + 1;
    }

    build_stages(instructions, escape)
}

fn build_stages(instructions: Vec<Instruction>, escape: char) -> Result<Dockerfile, SourceError> {
    let mut global_args = BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    for (i, ins) in instructions.iter().enumerate() {
        if ins.onbuild {
            if let Some(s) = stages.last_mut() {
                s.body.push(i);
            }
            continue;
        }
        match ins.keyword.as_str() {
            "FROM" => {
                let words: Vec<&str> = ins.args.split_whitespace().collect();
                let base = words.first().copied().unwrap_or("").to_string();
                if base.is_empty() {
                    return Err(SourceError::new(ins.span.start, "FROM needs an image"));
                }
                let name = match (words.get(1), words.get(2)) {
                    (Some(a), Some(n)) if a.eq_ignore_ascii_case("as") => {
                        Some(n.to_ascii_lowercase())
                    }
                    _ => None,
                };
                let base_resolved = substitute(&base, &global_args).unwrap_or_else(|| base.clone());
                stages.push(Stage {
                    index: stages.len(),
                    name,
                    base,
                    base_resolved,
                    from: i,
                    body: Vec::new(),
                });
            }
            "ARG" if stages.is_empty() => {
                for (k, v) in parse_assignments(&ins.args, true) {
                    global_args.insert(k, v);
                }
            }
            _ => match stages.last_mut() {
                Some(s) => s.body.push(i),
                None => {
                    return Err(SourceError::new(
                        ins.span.start,
                        format!(
                            "{} before the first FROM: only ARG may come before FROM",
                            ins.keyword
                        ),
                    ))
                }
            },
        }
    }
    Ok(Dockerfile {
        escape,
        instructions,
        stages,
        global_args,
    })
}

/// The instructions the Dockerfile frontend knows (keywords are case-insensitive).
pub const INSTRUCTIONS: &[&str] = &[
    "FROM",
    "RUN",
    "CMD",
    "LABEL",
    "MAINTAINER",
    "EXPOSE",
    "ENV",
    "ADD",
    "COPY",
    "ENTRYPOINT",
    "VOLUME",
    "USER",
    "WORKDIR",
    "ARG",
    "ONBUILD",
    "STOPSIGNAL",
    "HEALTHCHECK",
    "SHELL",
];

/// The known instruction a misspelt keyword most likely meant (at most two edits away).
fn closest_instruction(word: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut row: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut prev = row[0];
            row[0] = i + 1;
            for (j, cb) in b.iter().enumerate() {
                let cur = row[j + 1];
                row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
                prev = cur;
            }
        }
        row[b.len()]
    }
    if word.len() > 20 {
        return None;
    }
    INSTRUCTIONS
        .iter()
        .map(|k| (distance(word, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.len() / 2 + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn truncate(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// Remove a trailing escape character (the line continues). Returns the line body.
/// The line without its continuation escape, and whether it continues. As BuildKit reads it:
/// the escape character last, only blanks and tabs after it, and not itself escaped by the one
/// before it (`RUN echo \\` ends the instruction, with the two backslashes in its arguments).
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let t = line.trim_end_matches([' ', '\t', '\r']);
    match t.strip_suffix(escape) {
        Some(body) if body.is_empty() || !body.ends_with(escape) => (body, true),
        _ => (line, false),
    }
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// Leading `--flag[=value]` words, and the rest from its first non-blank (a suffix of `s`).
fn split_flags(s: &str) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    let mut rest = s.trim_start();
    while rest.starts_with("--") {
        let (w, r) = split_word(rest);
        flags.push(w.to_string());
        rest = r;
    }
    (flags, rest)
}

/// Heredoc markers in RUN/COPY/ADD arguments: `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`.
fn heredoc_markers(args: &str, keyword: &str) -> Vec<(String, bool)> {
    if !matches!(keyword, "RUN" | "COPY" | "ADD") || args.trim_start().starts_with('[') {
        return Vec::new();
    }
    let mut out = Vec::new();
    let b = args.as_bytes();
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] == b'<' && b[i + 1] == b'<' && (i == 0 || b[i - 1] != b'<') {
            let mut j = i + 2;
            let strip = b.get(j) == Some(&b'-');
            if strip {
                j += 1;
            }
            let quote = match b.get(j) {
                Some(&q) if q == b'"' || q == b'\'' => {
                    j += 1;
                    Some(q)
                }
                _ => None,
            };
            let start = j;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if j > start {
                if let Some(q) = quote {
                    if b.get(j) != Some(&q) {
                        i += 2;
                        continue;
                    }
                    j += 1;
                }
                let word = args[start..j - quote.map_or(0, |_| 1)].to_string();
                out.push((word, strip));
            }
            i = j.max(i + 2);
        } else {
            i += 1;
        }
    }
    out
}

/// `["a", "b"]` exec form, parsed as JSON. Arguments that are not a JSON array are shell form
/// (None), as Docker reads them; a JSON array holding anything but strings (`["sleep", 5]`) is
/// an error, because Docker refuses the file rather than run it as a shell command.
fn parse_exec(args: &str) -> Result<Option<Vec<String>>, String> {
    let t = args.trim();
    if !t.starts_with('[') {
        return Ok(None);
    }
    let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(t) else {
        return Ok(None);
    };
    items
        .into_iter()
        .map(|item| match item {
            serde_json::Value::String(word) => Ok(word),
            other => Err(format!(
                "the JSON array holds {other}, which is not a string: Docker refuses the file; \
                 quote it (\"{}\")",
                other.to_string().trim_matches('"')
            )),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// `ARG a=1 b` / `ENV a=1 b="x y"` / legacy `ENV key value`.
pub fn parse_assignments(args: &str, is_arg: bool) -> Vec<(String, Option<String>)> {
    let words = shell_words(args);
    if words.is_empty() {
        return Vec::new();
    }
    if !is_arg && !words[0].contains('=') {
        // Legacy `ENV key the rest of the line`.
        let (k, v) = split_word(args);
        return vec![(k.to_string(), Some(unquote(v.trim())))];
    }
    words
        .into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (w, None),
        })
        .collect()
}

fn unquote(s: &str) -> String {
    shell_words(s).join(" ")
}

/// Split on unquoted whitespace, removing quotes (enough for ARG/ENV, not a shell).
pub fn shell_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '"') | (None, '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Substitute `$V`, `${V}`, `${V:-default}`, `${V-default}`, `${V:+alt}`, `${V+alt}` from
/// `vars`. `None` when a referenced variable has no known value and no default applies (the
/// build would take it from `--build-arg`, which a static scan cannot know).
pub fn substitute(s: &str, vars: &BTreeMap<String, Option<String>>) -> Option<String> {
    let mut out = String::new();
    let mut chars = s.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c == '\\' {
            if let Some((_, n)) = chars.next() {
                out.push(n);
            }
            continue;
        }
        if c != '$' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some(&(_, '{')) => {
                chars.next();
                let mut inner = String::new();
                let mut depth = 1;
                for (_, c) in chars.by_ref() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    inner.push(c);
                }
                let (name, op, word) = split_modifier(&inner);
                let value = vars.get(name).cloned().flatten();
                let resolved = match op {
                    "" => value,
                    ":-" => value.filter(|v| !v.is_empty()).or(Some(word.to_string())),
                    "-" => {
                        if vars.get(name).is_some_and(Option::is_some) {
                            value
                        } else {
                            Some(word.to_string())
                        }
                    }
                    ":+" => Some(if value.is_some_and(|v| !v.is_empty()) {
                        word.to_string()
                    } else {
                        String::new()
                    }),
                    "+" => Some(if value.is_some() {
                        word.to_string()
                    } else {
                        String::new()
                    }),
                    _ => value,
                };
                out.push_str(&resolved?);
            }
            Some(&(_, n)) if n.is_ascii_alphabetic() || n == '_' => {
                let mut name = String::new();
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push_str(&vars.get(&name).cloned().flatten()?);
            }
            _ => out.push('$'),
        }
    }
    Some(out)
}

fn split_modifier(inner: &str) -> (&str, &str, &str) {
    for op in [":-", ":+", "-", "+", ":?", "?"] {
        if let Some(i) = inner.find(op) {
            if inner[..i]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return (&inner[..i], op, &inner[i + op.len()..]);
            }
        }
    }
    (inner, "", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Dockerfile {
        parse(text, &Limits::default()).unwrap()
    }

    /// Docker reads arguments that are not a JSON array as shell form, and refuses a JSON array
    /// holding anything but strings (it used to be read here as a shell command).
    #[test]
    fn a_json_array_of_other_values_than_strings_is_an_error() {
        let e = parse("FROM alpine:3.19\nRUN [\"sleep\", 5]\n", &Limits::default()).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("line 2, column 1: "), "{shown}");
        assert!(
            shown.contains("RUN: the JSON array holds 5, which is not a string"),
            "{shown}"
        );
        assert!(parse("FROM a\nONBUILD CMD [\"x\", true]\n", &Limits::default()).is_err());
        let e = parse(
            "FROM a\nHEALTHCHECK --interval=5s CMD [\"probe\", 5]\n",
            &Limits::default(),
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("HEALTHCHECK CMD: the JSON array holds 5"),
            "{e}"
        );
        p("FROM a\nHEALTHCHECK CMD [\"probe\", \"5\"]\nHEALTHCHECK NONE\n");
        // Not JSON at all: shell form, as Docker reads it.
        let d = p("FROM alpine:3.19\nRUN ['sleep', '5']\nRUN [\"a\",]\n");
        assert!(d.instructions.iter().all(|i| i.exec.is_none()));
        let d = p("FROM alpine:3.19\nCMD [\"sleep\", \"5\"]\nLABEL [1]\n");
        assert_eq!(
            d.instructions[1].exec.as_deref(),
            Some(&["sleep".to_string(), "5".to_string()][..])
        );
    }

    #[test]
    fn builder_user_does_not_hide_root_final_stage() {
        // PITFALLS "Artifact scanners" 1: hadolint, Checkov and Trivy all miss this.
        let d = p("FROM golang:1.22 AS build\nUSER builder\nRUN go build\n\nFROM debian:12\nCOPY --from=build /app /app\n");
        let last = d.final_stage(None).unwrap();
        assert_eq!(last.index, 1);
        assert_eq!(d.effective_user(last), None);
        let build = d.final_stage(Some("BUILD")).unwrap();
        assert_eq!(
            d.effective_user(build).unwrap().resolved.as_deref(),
            Some("builder")
        );
    }

    #[test]
    fn user_from_arg_and_env_is_resolved() {
        // PITFALLS "Artifact scanners" 1: `USER ${ARG}` is never resolved by the references.
        let d = p("ARG BASE=alpine:3.19\nFROM ${BASE}\nARG UID=10001\nENV APP_USER=${UID}\nUSER ${APP_USER}:${GID:-10001}\n");
        let s = d.final_stage(None).unwrap();
        assert_eq!(s.base_resolved, "alpine:3.19");
        let u = d.effective_user(s).unwrap();
        assert_eq!(u.written, "${APP_USER}:${GID:-10001}");
        assert_eq!(u.resolved.as_deref(), Some("10001:10001"));
        let d = p("FROM alpine\nARG U=0\nUSER $U\n");
        let u = d.effective_user(d.final_stage(None).unwrap()).unwrap();
        assert!(is_root_user(u.resolved.as_deref().unwrap()));
        let d = p("FROM alpine\nARG U\nUSER $U\n");
        let u = d.effective_user(d.final_stage(None).unwrap()).unwrap();
        assert_eq!(u.resolved, None, "a build-arg without a default is unknown");
    }

    #[test]
    fn root_spellings() {
        for r in ["root", "0", "0:0", "root:root", "0:app", "00"] {
            assert!(is_root_user(r), "{r}");
        }
        for u in ["app", "1000", "10001:0", "nobody"] {
            assert!(!is_root_user(u), "{u}");
        }
    }

    #[test]
    fn heredocs_keep_later_line_numbers_right() {
        // PITFALLS "Artifact scanners" 2: heredocs break hadolint's parser and Checkov's lines.
        let text = "FROM alpine\nRUN <<EOF\napk add curl\nUSER root\nEOF\nCOPY <<-EOT /etc/x\n\thello\n\tEOT\nUSER app\n";
        let d = p(text);
        let run = &d.instructions[1];
        assert_eq!(run.keyword, "RUN");
        assert_eq!(run.heredocs.len(), 1);
        assert_eq!(run.heredocs[0].body, "apk add curl\nUSER root\n");
        assert_eq!(run.span.end.line, 5);
        let copy = &d.instructions[2];
        assert_eq!(copy.heredocs[0].body, "hello\n");
        let user = &d.instructions[3];
        assert_eq!((user.keyword.as_str(), user.span.start.line), ("USER", 9));
        // the `USER root` inside the heredoc is shell text, not an instruction
        assert_eq!(
            d.instructions
                .iter()
                .filter(|i| i.keyword == "USER")
                .count(),
            1
        );
    }

    /// docker build reads a Dockerfile that starts with a byte order mark (BuildKit drops it
    /// from the first line); so must the parser, with and without parser directives, keeping
    /// byte offsets those of the file.
    #[test]
    fn a_byte_order_mark_before_the_first_instruction_is_not_part_of_it() {
        let d = p("\u{feff}FROM alpine:3.19\nUSER app\n");
        assert_eq!(d.instructions[0].keyword, "FROM");
        assert_eq!(d.instructions[0].span.start.offset, 3);
        assert_eq!(d.instructions[1].span.start.line, 2);
        let d = p("\u{feff}# escape=`\nFROM alpine\nRUN echo a `\n  b\n");
        assert_eq!(d.instructions[1].keyword, "RUN");
        let d = p("\u{feff}\n# comment\nFROM alpine\n");
        assert_eq!(d.instructions[0].span.start.line, 3);
        // Anywhere else the mark is text, and not an instruction keyword.
        assert!(parse("FROM alpine\n\u{feff}USER app\n", &Limits::default()).is_err());
    }

    #[test]
    fn escape_directive_and_continuations() {
        let text = "# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  # a comment inside\n  c:\\ `\n  && echo done\nUSER ContainerUser\n";
        let d = p(text);
        assert_eq!(d.escape, '`');
        let run = &d.instructions[1];
        // Each continuation line keeps its indentation, the blank before each backtick stays.
        assert_eq!(run.args, "dir   c:\\   && echo done");
        assert_eq!((run.span.start.line, run.span.end.line), (3, 6));
        assert_eq!(d.instructions[2].span.start.line, 7);
    }

    fn args_of(d: &Dockerfile, keyword: &str) -> Vec<String> {
        d.instructions
            .iter()
            .filter(|i| i.keyword == keyword)
            .map(|i| i.args.clone())
            .collect()
    }

    /// BuildKit (frontend/dockerfile/parser/parser.go, Parse and trimContinuationCharacter)
    /// removes the escape character and the line break and appends the next line as written:
    /// `echo abc\` + `def` runs `echo abcdef`. A blank added between the lines would split
    /// one word in two (a token, a tag, a flag value) and hide it from the rules.
    #[test]
    fn continuation_lines_are_joined_without_a_blank_where_none_is_written() {
        let d = p(concat!(
            "ARG BASE_TAG=3.\\\n19\n",
            "FROM alpine:3.\\\n19 AS base\n",
            "RUN echo abc\\\ndef\n",
            "ENV TOKEN=abc\\\ndef\n",
            "ARG PORT=80\\\n80\n",
            "LABEL org.opencontainers.image.title=bulk\\\nhead\n",
            "COPY --chown=10\\\n001 src/\\\nmain.rs /app/\n",
            "USER ro\\\not\n",
        ));
        assert_eq!(d.global_args["BASE_TAG"].as_deref(), Some("3.19"));
        let stage = &d.stages[0];
        assert_eq!(
            (stage.base.as_str(), stage.name.as_deref()),
            ("alpine:3.19", Some("base"))
        );
        assert_eq!(args_of(&d, "RUN"), ["echo abcdef"]);
        assert_eq!(args_of(&d, "ENV"), ["TOKEN=abcdef"]);
        assert_eq!(args_of(&d, "ARG"), ["BASE_TAG=3.19", "PORT=8080"]);
        assert_eq!(
            args_of(&d, "LABEL"),
            ["org.opencontainers.image.title=bulkhead"]
        );
        let copy = d.instructions.iter().find(|i| i.keyword == "COPY").unwrap();
        assert_eq!(copy.flags, ["--chown=10001"]);
        assert_eq!(copy.args, "src/main.rs /app/");
        let vars = d.variables_at(stage, usize::MAX);
        assert_eq!(vars["TOKEN"].as_deref(), Some("abcdef"));
        assert_eq!(vars["PORT"].as_deref(), Some("8080"));
        let user = d.effective_user(stage).unwrap();
        assert_eq!(user.resolved.as_deref(), Some("root"));
    }

    /// A blank before the escape character and the next line's indentation are text of the
    /// instruction; blanks after the escape character are not.
    #[test]
    fn continuation_lines_keep_the_blanks_that_are_written() {
        let d = p(concat!(
            "FROM debian:12\n",
            "RUN apt-get install -y \\\n    curl \\\n    git\n",
            "RUN echo a \\\nb\n",
            "RUN echo a\\\n\tb\n",
            "RUN echo a\\ \t \nb\n",
            "RUN \\\n  echo b\n",
        ));
        assert_eq!(
            args_of(&d, "RUN"),
            [
                "apt-get install -y     curl     git",
                "echo a b",
                "echo a\tb",
                "echo ab",
                "echo b",
            ]
        );
    }

    /// Comment lines inside a continuation are dropped whole (a backslash ending one neither
    /// continues nor ends the instruction), and blank lines are skipped; BuildKit does the
    /// same (warning about the blank ones). A `#` after other text is not a comment.
    #[test]
    fn comment_and_empty_lines_inside_a_continuation_are_left_out() {
        let d = p(concat!(
            "FROM alpine:3.19\n",
            "RUN apk add \\\n# pinned below \\\n  curl\\\n    # git too\n\n   \n=2.0 \\\n  # last\n  git # not a comment\n",
            "USER app\n",
        ));
        let run = &d.instructions[1];
        assert_eq!(run.args, "apk add   curl=2.0   git # not a comment");
        assert_eq!((run.span.start.line, run.span.end.line), (2, 10));
        assert_eq!(d.instructions[2].span.start.line, 11);
    }

    /// With `# escape=\``, the backtick continues a line and a backslash is text (Windows
    /// paths); joining is the same.
    #[test]
    fn escape_directive_backtick_joins_like_a_backslash() {
        let d = p("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir C:\\Win`\ndows`\n  \\System32\nRUN echo C:\\\nUSER ContainerUser\n");
        assert_eq!(
            args_of(&d, "RUN"),
            ["dir C:\\Windows  \\System32", "echo C:\\"]
        );
        assert_eq!(args_of(&d, "USER"), ["ContainerUser"]);
    }

    /// A doubled escape at the end of a line is an escaped escape character, not a
    /// continuation (BuildKit's line continuation rule); other whitespace than blanks and tabs
    /// after the escape ends the instruction too.
    #[test]
    fn a_doubled_escape_at_the_end_of_a_line_does_not_continue_it() {
        let d = p("FROM alpine:3.19\nRUN echo a\\\\\nUSER app\nRUN echo b \\ \t\n  c\n");
        assert_eq!(args_of(&d, "RUN"), ["echo a\\\\", "echo b   c"]);
        assert_eq!(args_of(&d, "USER"), ["app"]);
        let d = p("# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN echo ``\nUSER ContainerUser\n");
        assert_eq!(args_of(&d, "RUN"), ["echo ``"]);
        assert_eq!(args_of(&d, "USER"), ["ContainerUser"]);
    }

    #[test]
    fn crlf_line_ends_are_not_part_of_joined_arguments() {
        let d = p("FROM alpine:3.19\r\nRUN echo abc\\\r\ndef \\\r\n  ghi\r\nENV A=1\\\r\n2\r\nUSER app\r\n");
        assert_eq!(args_of(&d, "RUN"), ["echo abcdef   ghi"]);
        assert_eq!(args_of(&d, "ENV"), ["A=12"]);
        assert_eq!(d.instructions[3].span.start.line, 7);
    }

    /// An escape character with nothing after it ends the instruction (BuildKit stops reading
    /// at the end of the file): it is not part of the arguments.
    #[test]
    fn an_escape_at_the_end_of_the_file_ends_the_instruction() {
        for text in [
            "FROM alpine:3.19\nRUN echo abc\\",
            "FROM alpine:3.19\nRUN echo abc\\\n",
            "FROM alpine:3.19\nRUN echo abc\\\n\n# the end\n",
        ] {
            let d = p(text);
            let run = &d.instructions[1];
            assert_eq!(run.args, "echo abc", "{text:?}");
            assert_eq!(run.span.end.line, 2, "{text:?}");
            assert_eq!(run.args_span.text(text), "echo abc", "{text:?}");
        }
    }

    /// A heredoc body is passed on as written: an escape character ending one of its lines is
    /// shell text, not a continuation, also when the instruction's own line is continued.
    #[test]
    fn heredoc_bodies_are_not_joined() {
        let d = p("FROM alpine:3.19\nRUN <<EOF sh \\\n  -x\necho a\\\nb \\\n  c\nEOF\nUSER app\n");
        let run = &d.instructions[1];
        assert_eq!(run.args, "<<EOF sh   -x");
        assert_eq!(run.heredocs[0].body, "echo a\\\nb \\\n  c\n");
        assert_eq!(run.span.end.line, 7);
        assert_eq!(args_of(&d, "USER"), ["app"]);
    }

    /// `args_span` covers the arguments as written on the instruction's first line, after the
    /// keyword and flags (scan places findings by column when it equals `args`).
    #[test]
    fn args_span_starts_where_the_arguments_do() {
        let text = concat!(
            "FROM alpine:3.\\\n19\n",
            "COPY --from=a a /x\n",
            "  ONBUILD  RUN  echo hi  \n",
            "RUN apt-get install -y \\\n  curl\n",
            "RUN \\\n  echo b\n",
            "HEALTHCHECK NONE\n",
        );
        let d = p(text);
        let spans: Vec<&str> = d
            .instructions
            .iter()
            .map(|i| i.args_span.text(text))
            .collect();
        assert_eq!(
            spans,
            [
                "alpine:3.",
                "a /x",
                "echo hi  ",
                "apt-get install -y ",
                "",
                "NONE"
            ]
        );
        assert_eq!(d.instructions[4].args_span.start.line, 7);
    }

    /// A value read across continuation lines is found where each of its parts is written
    /// (the scanner masks a secret split that way).
    #[test]
    fn args_written_gives_each_part_of_joined_arguments() {
        let text = concat!(
            "FROM alpine:3.19\r\n",
            "  ENV --x=1 TOKEN=ghp_0123\\\r\n",
            "  # a comment\r\n",
            "\r\n",
            "4567 \\\r\n",
            "  X=1\r\n",
            "RUN echo hi\r\n",
        );
        let d = p(text);
        let written = |i: usize, value: &str| -> Vec<&str> {
            let ins = &d.instructions[i];
            let at = ins.args.find(value).unwrap();
            ins.args_written(at..at + value.len())
                .into_iter()
                .map(|r| &text[r])
                .collect()
        };
        assert_eq!(d.instructions[1].args, "TOKEN=ghp_01234567   X=1");
        assert_eq!(written(1, "TOKEN=ghp_01234567"), ["TOKEN=ghp_0123", "4567"]);
        assert_eq!(written(1, "7   X"), ["7 ", "  X"]);
        assert_eq!(written(2, "echo hi"), ["echo hi"]);
        assert_eq!(written(2, "hi"), ["hi"]);
    }

    #[test]
    fn onbuild_and_exec_form() {
        let d = p("FROM alpine\nONBUILD USER root\nCMD [\"sh\", \"-c\", \"echo hi\"]\n");
        assert!(d.instructions[1].onbuild);
        assert_eq!(d.instructions[1].keyword, "USER");
        assert_eq!(d.effective_user(d.final_stage(None).unwrap()), None);
        assert_eq!(
            d.instructions[2].exec.as_deref(),
            Some(&["sh".to_string(), "-c".into(), "echo hi".into()][..])
        );
    }

    #[test]
    fn user_inherited_from_base_stage() {
        let d = p("FROM alpine AS base\nUSER 1000\nFROM base\nRUN id\n");
        let u = d.effective_user(d.final_stage(None).unwrap()).unwrap();
        assert_eq!(u.resolved.as_deref(), Some("1000"));
    }

    #[test]
    fn clear_errors() {
        let e = parse("FROM alpine\nRUN <<EOF\necho\n", &Limits::default()).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("never closed"), "{e}");
        let e = parse("RUN echo\nFROM x\n", &Limits::default()).unwrap_err();
        assert!(e.message.contains("before the first FROM"), "{e}");
        let e = parse("FROM x\n[[[\n", &Limits::default()).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse_bytes(b"FROM x\n\x00\x01\x02", &Limits::default()).unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn unknown_instructions_are_errors_with_their_line() {
        let e = parse(
            "FROM debian:12.5\nRUN echo ok\nFRUM foo\nUSER 1000\n",
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        assert!(e.message.contains("\"FRUM\""), "{e}");
        assert!(e.message.contains("did you mean FROM?"), "{e}");
        let e = parse("FROM x\n  ONBUILD  runn make\n", &Limits::default()).unwrap_err();
        assert_eq!((e.line, e.column), (2, 12), "{e}");
        let e = parse("FROM x\nONBUILD FROM y\n", &Limits::default()).unwrap_err();
        assert!(e.message.contains("cannot trigger FROM"), "{e}");
        let e = parse("FROM x\nFOOBARBAZ y\n", &Limits::default()).unwrap_err();
        assert!(!e.message.contains("did you mean"), "{e}");
        // Every known keyword in any letter case, directives and comments are fine.
        let all = "# syntax=docker/dockerfile:1\n# escape=\\\n# a comment\narg V=1\nfrom alpine:3.19 as base\nrun true\ncmd [\"true\"]\nlabel a=b\nmaintainer me\nexpose 80\nenv A=1\nadd a /a\ncopy b /b\nentrypoint [\"x\"]\nvolume /v\nuser 1000\nworkdir /w\nonbuild run true\nstopsignal SIGTERM\nhealthcheck NONE\nshell [\"/bin/sh\", \"-c\"]\n";
        let d = p(all);
        assert_eq!(d.instructions.len(), 18);
    }

    #[test]
    fn substitution_forms() {
        let mut v = BTreeMap::new();
        v.insert("A".to_string(), Some("a".to_string()));
        v.insert("E".to_string(), Some(String::new()));
        v.insert("U".to_string(), None);
        assert_eq!(substitute("x$A-${A}", &v).as_deref(), Some("xa-a"));
        assert_eq!(substitute("${E:-d}", &v).as_deref(), Some("d"));
        assert_eq!(substitute("${E-d}", &v).as_deref(), Some(""));
        assert_eq!(substitute("${A:+y}", &v).as_deref(), Some("y"));
        assert_eq!(substitute("${U}", &v), None);
        assert_eq!(substitute("${U:-z}", &v).as_deref(), Some("z"));
    }
}
