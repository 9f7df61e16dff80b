//! Dockerfile rules. The final stage (or `--target`) is what ships: user, health check, cache
//! and CMD rules look at it; supply-chain and secret rules look at every stage.

use super::shell::{self, commands, Command};
use super::{is_literal_secret, parse_image, secret_patterns, DockerfileRule, Out};
use crate::config::Config;
use crate::fixes::dockerfile::{healthcheck_splice, stage_port, user_splice_when};
use crate::model::Safety;
use bulkhead_sources::dockerfile::{
    is_root_user, parse_assignments, Dockerfile, Instruction, Stage,
};
use bulkhead_sources::{LineIndex, Span};

pub struct Ctx<'a> {
    pub file: &'a Dockerfile,
    pub final_stage: &'a Stage,
    pub config: &'a Config,
}

impl<'a> Ctx<'a> {
    fn stage_label(&self, s: &Stage) -> String {
        match &s.name {
            Some(n) => format!("stage {} ({n})", s.index),
            None => format!("stage {}", s.index),
        }
    }

    /// Stage that instruction `i` belongs to.
    fn stage_of(&self, i: usize) -> &'a Stage {
        self.file
            .stages
            .iter()
            .rev()
            .find(|s| s.from <= i)
            .unwrap_or(self.final_stage)
    }

    fn object_of(&self, i: usize) -> String {
        self.stage_label(self.stage_of(i))
    }

    /// Every RUN (ONBUILD excluded) with its script: arguments plus heredoc bodies.
    fn runs(&self) -> impl Iterator<Item = (usize, &'a Instruction, String)> + '_ {
        self.file
            .instructions
            .iter()
            .enumerate()
            .filter(|(_, i)| i.keyword == "RUN" && !i.onbuild)
            .map(|(n, i)| (n, i, script(i)))
    }

    fn final_runs(&self) -> Vec<(usize, &'a Instruction, String)> {
        let body = &self.final_stage.body;
        self.runs().filter(|(n, _, _)| body.contains(n)).collect()
    }
}

/// Arguments as a message shows them. Continuation lines are joined as Docker joins them, the
/// next line's indentation included, so a run of blanks is shown as one; rules read the
/// arguments as they are.
fn shown_args(args: &str) -> String {
    args.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn script(i: &Instruction) -> String {
    let mut s = script_head(i);
    for h in &i.heredocs {
        s.push('\n');
        s.push_str(&h.body);
    }
    s
}

/// The part of [`script`] before the heredoc bodies: the arguments, or what an exec form runs
/// (see [`exec_script`]).
fn script_head(i: &Instruction) -> String {
    match &i.exec {
        Some(words) => {
            let words: Vec<Placed> = words.iter().map(|w| Placed::unplaced(w)).collect();
            exec_script(&words).text
        }
        None => i.args.clone(),
    }
}

/// Text with the file offset each of its bytes is written at (`at[i]` for byte `i`, `end` for
/// the end of the text), so a range of a script read from an exec form's JSON strings, where an
/// escape makes the text shorter than what is written, maps back to the file.
#[derive(Debug, Default, Clone, PartialEq)]
struct Placed {
    text: String,
    at: Vec<usize>,
    end: usize,
}

impl Placed {
    /// Text whose place is not known (only its content is read).
    fn unplaced(text: &str) -> Placed {
        Placed {
            text: text.to_string(),
            at: vec![0; text.len()],
            end: 0,
        }
    }

    /// Append `s`, every byte of it written at `at`.
    fn push(&mut self, s: &str, at: usize) {
        self.text.push_str(s);
        self.at.extend(std::iter::repeat_n(at, s.len()));
    }

    fn append(&mut self, other: &Placed) {
        self.text.push_str(&other.text);
        self.at.extend_from_slice(&other.at);
        self.end = other.end;
    }

    /// Where byte `i` of the text is written (the end of the text for `i` at its length).
    fn offset(&self, i: usize) -> usize {
        self.at.get(i).copied().unwrap_or(self.end)
    }
}

/// Shells that run the script they are given with `-c` as a POSIX shell does (PowerShell's
/// `-c` abbreviates `-Command` and is not one of them).
const POSIX_SHELLS: &[&str] = &["sh", "bash", "ash", "dash", "zsh", "ksh", "mksh"];

/// An exec-form RUN that starts a POSIX shell on a script: which word of the argv is the
/// script, and whether the shell's own options switch on pipefail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShellCommand {
    script: usize,
    pipefail: bool,
}

/// The program a word names, without its directory (`/bin/sh`, `C:\msys64\usr\bin\bash.exe`).
fn program_name(word: &str) -> &str {
    let name = word.rsplit(['/', '\\']).next().unwrap_or(word);
    name.strip_suffix(".exe").unwrap_or(name)
}

/// Does the argv of an exec form run a POSIX shell with `-c` (`["sh", "-c", SCRIPT]`), read as
/// the shell reads its command line: `c` in any option cluster (`-ec`, `-euxc`), options after
/// it (`-c -e`), `-o NAME` / `-O NAME` taking the next word, `--` or `-` ending the options, and
/// the first word after them is the script (the words after it are `$0`, `$1`, ...). The shell
/// may be started through `env` (with its assignments and options, read as env reads them: see
/// [`shell::env_command`]) or `busybox`. The script must be a word of the argv: one inside an
/// `env -S` string is not read.
fn exec_shell_command(argv: &[String]) -> Option<ShellCommand> {
    // The words from the program on, each with its index in `argv` (`None` inside `env -S`).
    let mut words: Vec<(&str, Option<usize>)> = argv
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), Some(i)))
        .collect();
    loop {
        match program_name(words.first()?.0) {
            "env" => {
                words = shell::env_command(&words[1..]);
                let assignments = words.iter().take_while(|(w, _)| w.contains('=')).count();
                words.drain(..assignments);
            }
            "busybox" => {
                words.remove(0);
            }
            _ => break,
        }
    }
    if !POSIX_SHELLS.contains(&program_name(words[0].0)) {
        return None;
    }
    let (mut command_mode, mut pipefail) = (false, false);
    let mut k = 1;
    while let Some(&(word, _)) = words.get(k) {
        if word == "--" || word == "-" {
            k += 1;
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            // bash's long options; these two take a file name.
            k += if matches!(long, "rcfile" | "init-file") {
                2
            } else {
                1
            };
            continue;
        }
        let Some(cluster) = word.strip_prefix(['-', '+']).filter(|c| !c.is_empty()) else {
            break;
        };
        let on = word.starts_with('-');
        k += 1;
        for flag in cluster.chars() {
            match flag {
                'c' if on => command_mode = true,
                'o' | 'O' => {
                    let (name, _) = words.get(k)?;
                    k += 1;
                    if flag == 'o' && *name == "pipefail" {
                        pipefail = on;
                    }
                }
                _ => {}
            }
        }
    }
    if !command_mode {
        return None;
    }
    Some(ShellCommand {
        script: words.get(k)?.1?,
        pipefail,
    })
}

/// What an exec-form RUN runs, as a script for the shell rules. No shell reads the argv, so its
/// words are quoted where a shell would split or read them (`|` there is an argument, not a
/// pipe) and the rules see them as one command's words. When the argv starts a POSIX shell with
/// `-c`, the script it is given is a shell script like a shell-form RUN's: it follows, on its
/// own line, the words that start the shell (so `env TOKEN=x sh -c ...` is still read).
fn exec_script(argv: &[Placed]) -> Placed {
    let words: Vec<String> = argv.iter().map(|w| w.text.clone()).collect();
    let Some(shell) = exec_shell_command(&words) else {
        return quoted_words(argv.iter());
    };
    let script = &argv[shell.script];
    let mut out = quoted_words(
        argv.iter()
            .enumerate()
            .filter(|(n, _)| *n != shell.script)
            .map(|(_, w)| w),
    );
    out.push("\n", script.offset(0));
    out.append(script);
    out
}

/// Words joined into one command line that [`commands`] reads back as these words: a word
/// with a character outside the plain ones is single-quoted (a `'` in it as `'\''`), after
/// the `NAME=` of an assignment-like word (`TOKEN='a b'`), which is how the assignment rules
/// find where a variable is set.
fn quoted_words<'a>(words: impl Iterator<Item = &'a Placed>) -> Placed {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    let mut out = Placed::default();
    for (n, word) in words.enumerate() {
        if n > 0 {
            out.push(" ", out.end);
        }
        if !word.text.is_empty() && word.text.chars().all(plain) {
            out.append(word);
            continue;
        }
        let name_end = match word.text.split_once('=') {
            Some((name, _)) if is_variable_name(name) => name.len() + 1,
            _ => 0,
        };
        for i in 0..name_end {
            out.push(&word.text[i..=i], word.offset(i));
        }
        out.push("'", word.offset(name_end));
        for (i, ch) in word.text.char_indices().skip_while(|(i, _)| *i < name_end) {
            let at = word.offset(i);
            if ch == '\'' {
                out.push("'\\''", at);
            } else {
                out.push(ch.encode_utf8(&mut [0; 4]), at);
            }
        }
        out.push("'", word.end);
        out.end = word.end;
    }
    out
}

/// The strings of a JSON array of strings written at file offset `base`, each with where its
/// characters are written (an escape such as `\u0061` or `\"` for the character it stands
/// for, the closing quote as the end). `None` when `written` is not such an array.
fn placed_json_strings(written: &str, base: usize) -> Option<Vec<Placed>> {
    let b = written.as_bytes();
    let skip_blanks = |mut i: usize| {
        while b
            .get(i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            i += 1;
        }
        i
    };
    let hex4 = |i: usize| {
        let digits = written.get(i..i + 4)?;
        u32::from_str_radix(digits, 16).ok()
    };
    let mut words = Vec::new();
    let mut i = skip_blanks(0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    i = skip_blanks(i + 1);
    if b.get(i) == Some(&b']') {
        return Some(words);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        i += 1;
        let mut word = Placed::default();
        loop {
            let at = base + i;
            let (ch, len) = match *b.get(i)? {
                b'"' => {
                    word.end = at;
                    i += 1;
                    break;
                }
                b'\\' => match *b.get(i + 1)? {
                    b'"' => ('"', 2),
                    b'\\' => ('\\', 2),
                    b'/' => ('/', 2),
                    b'b' => ('\u{8}', 2),
                    b'f' => ('\u{c}', 2),
                    b'n' => ('\n', 2),
                    b'r' => ('\r', 2),
                    b't' => ('\t', 2),
                    b'u' => {
                        let high = hex4(i + 2)?;
                        if (0xD800..0xDC00).contains(&high) {
                            if written.get(i + 6..i + 8) != Some("\\u") {
                                return None;
                            }
                            let low = hex4(i + 8)?;
                            let code =
                                0x10000 + ((high - 0xD800) << 10) + low.checked_sub(0xDC00)?;
                            (char::from_u32(code)?, 12)
                        } else {
                            (char::from_u32(high)?, 6)
                        }
                    }
                    _ => return None,
                },
                _ => {
                    let ch = written[i..].chars().next()?;
                    (ch, ch.len_utf8())
                }
            };
            word.push(ch.encode_utf8(&mut [0; 4]), at);
            i += len;
        }
        words.push(word);
        i = skip_blanks(i);
        match b.get(i)? {
            b',' => i = skip_blanks(i + 1),
            b']' => return Some(words),
            _ => return None,
        }
    }
}

/// Where each byte of an instruction's [`script_head`] is written, when its arguments are
/// written on its one line as they are read (arguments joined from continuation lines are
/// not: a finding about them points at the whole instruction).
fn placed_head(ins: &Instruction, out: &Out<'_>) -> Option<Placed> {
    let written = ins.args_span.text(out.text);
    if written != ins.args {
        return None;
    }
    let base = ins.args_span.start.offset;
    let head = match &ins.exec {
        None => Placed {
            text: written.to_string(),
            at: (base..base + written.len()).collect(),
            end: base + written.len(),
        },
        Some(words) => {
            let placed = placed_json_strings(written, base)?;
            if !placed.iter().map(|w| &w.text).eq(words.iter()) {
                return None;
            }
            exec_script(&placed)
        }
    };
    (head.text == script_head(ins)).then_some(head)
}

/// Where bytes `range` of an instruction's [`script`] are written. A heredoc body keeps its
/// lines, so text there is found on its own line(s), from the first non-blank character; text
/// in the arguments, which may be joined from continuation lines, (or a range that is not in
/// one body) gives the whole instruction.
fn script_span(ins: &Instruction, range: std::ops::Range<usize>, out: &Out<'_>) -> Span {
    let mut base = script_head(ins).len();
    for h in &ins.heredocs {
        base += 1; // the line break that joins the body
        let body = base..base + h.body.len();
        base = body.end;
        if !body.contains(&range.start) {
            continue;
        }
        let line_of = |at: usize| {
            let rel = at.clamp(body.start, body.end) - body.start;
            h.span.start.line + h.body[..rel].matches('\n').count() as u32
        };
        let (first, last) = (line_of(range.start), line_of(range.end.max(range.start)));
        let (text, lines) = (out.text, out.lines);
        let first_text = lines.line_text(text, first);
        let indent = first_text.len() - first_text.trim_start().len();
        let start = lines.line_start(first, text.len()) + indent;
        let end = lines.line_start(last, text.len()) + lines.line_text(text, last).trim_end().len();
        if end < start || last > ins.span.end.line {
            return ins.span;
        }
        return Span::new(lines.pos(text, start), lines.pos(text, end));
    }
    ins.span
}

/// Where commands of a RUN are written (see [`script_span`]): from the first to the last.
fn commands_span(ins: &Instruction, cmds: &[&Command], out: &Out<'_>) -> Span {
    match (
        cmds.iter().map(|c| c.start).min(),
        cmds.iter().map(|c| c.end).max(),
    ) {
        (Some(start), Some(end)) => script_span(ins, start..end, out),
        _ => ins.span,
    }
}

pub const REGISTRY: &[(&str, DockerfileRule)] = &[
    ("dockerfile-root-final-stage", root_final_stage),
    ("dockerfile-no-user", no_user),
    ("dockerfile-healthcheck-missing", healthcheck_missing),
    ("dockerfile-multiple-healthcheck", multiple_healthcheck),
    ("dockerfile-add-instead-of-copy", add_instead_of_copy),
    ("dockerfile-secret", secret),
    ("dockerfile-latest-tag", latest_tag),
    ("dockerfile-untagged-image", untagged_image),
    ("dockerfile-untrusted-registry", untrusted_registry),
    ("dockerfile-unpinned-packages", unpinned_packages),
    ("dockerfile-apt-recommends", apt_recommends),
    ("dockerfile-lone-update", lone_update),
    ("dockerfile-package-cache", package_cache),
    ("dockerfile-dist-upgrade", dist_upgrade),
    (
        "dockerfile-tls-verification-disabled",
        tls_verification_disabled,
    ),
    ("dockerfile-sudo", sudo),
    ("dockerfile-sudoers-nopasswd", sudoers_nopasswd),
    ("dockerfile-chpasswd", chpasswd),
    ("dockerfile-expose-ssh", expose_ssh),
    ("dockerfile-invalid-port", invalid_port),
    ("dockerfile-setuid", setuid),
    ("dockerfile-image-not-pinned", image_not_pinned),
    ("dockerfile-workdir-relative", workdir_relative),
    ("dockerfile-workdir-system", workdir_system),
    ("dockerfile-run-cd", run_cd),
    ("dockerfile-maintainer", maintainer),
    ("dockerfile-multiple-cmd", multiple_cmd),
    ("dockerfile-shell-form-cmd", shell_form_cmd),
    ("dockerfile-stage-alias", stage_alias),
    ("dockerfile-copy-whole-fs", copy_whole_fs),
    ("dockerfile-apt", apt),
    ("dockerfile-pipefail", pipefail),
    ("dockerfile-curl-pipe-shell", curl_pipe_shell),
];

/// The uid:gid the USER fixes write: above 10000, so it collides with no account of the base
/// image (and passes k8s-low-uid).
const FIX_USER: &str = "10001:10001";

/// The user the USER fixes write into the final stage, and how their description names it.
/// Windows has no numeric uids (`USER 10001:10001` fails when the container starts): there the
/// fix switches to `ContainerUser`, the unprivileged account of Microsoft's images.
fn fix_user(c: &Ctx<'_>) -> (&'static str, &'static str) {
    if windows_stage(c.file, c.final_stage) {
        ("ContainerUser", "ContainerUser")
    } else {
        (FIX_USER, "uid 10001")
    }
}

/// The administrator account of Windows containers: the equivalent of root there (user names
/// are not case-sensitive on Windows).
fn windows_admin(c: &Ctx<'_>, user: &str) -> bool {
    windows_stage(c.file, c.final_stage)
        && user.trim().eq_ignore_ascii_case("ContainerAdministrator")
}

/// Base images known to set a non-root USER in their own configuration.
fn base_sets_non_root(image: &str) -> bool {
    let r = parse_image(image);
    r.tag.as_deref().is_some_and(|t| t.contains("nonroot"))
}

/// The image a stage ultimately builds on (following stage references).
fn root_image<'a>(file: &'a Dockerfile, mut stage: &'a Stage) -> &'a str {
    while let Some(b) = stage.base_stage(file) {
        stage = b;
    }
    &stage.base_resolved
}

/// The USER of a stage as the build expands it when the only variables it cannot resolve are
/// global ARGs (declared before the first FROM) that the stage does not declare again: a global
/// ARG is not visible inside a stage until the stage repeats `ARG NAME`, so the build expands
/// it to nothing there (unless the base image has an ENV of that name). Returns the expansion
/// and the names of those ARGs; None when the USER depends on anything else.
fn user_with_undeclared_global_args(
    file: &Dockerfile,
    stage: &Stage,
    user: &bulkhead_sources::dockerfile::EffectiveUser,
) -> Option<(String, Vec<String>)> {
    // The stage the USER instruction is in (the final stage or one it builds on).
    let mut owner = stage;
    while !owner.body.contains(&user.instruction) {
        owner = owner.base_stage(file)?;
    }
    let vars = file.variables_at(owner, user.instruction);
    let hidden: Vec<&String> = file
        .global_args
        .keys()
        .filter(|n| !vars.contains_key(*n))
        .collect();
    // Which of them the USER reads: give each a marker of its own and see which come out.
    let mut probe = vars.clone();
    for (i, name) in hidden.iter().enumerate() {
        probe.insert((*name).clone(), Some(format!("\u{1}{i}\u{1}")));
    }
    let marked = bulkhead_sources::dockerfile::substitute(&user.written, &probe)?;
    let unseen: Vec<String> = hidden
        .iter()
        .enumerate()
        .filter(|(i, _)| marked.contains(&format!("\u{1}{i}\u{1}")))
        .map(|(_, n)| (*n).clone())
        .collect();
    if unseen.is_empty() {
        return None;
    }
    let mut empty = vars;
    for name in &unseen {
        empty.insert(name.clone(), Some(String::new()));
    }
    let expanded = bulkhead_sources::dockerfile::substitute(&user.written, &empty)?;
    Some((expanded, unseen))
}

fn root_final_stage(c: &Ctx<'_>, out: &mut Out<'_>) {
    let Some(user) = c.file.effective_user(c.final_stage) else {
        return;
    };
    let Some(resolved) = user.resolved.as_deref() else {
        // `ARG UID=10001` before FROM and `USER $UID` in the stage: the stage never declares
        // UID again, so the build sees an empty USER, and an empty USER is root.
        let Some((expanded, unseen)) =
            user_with_undeclared_global_args(c.file, c.final_stage, &user)
        else {
            return;
        };
        let name = expanded.split(':').next().unwrap_or("").trim();
        if !name.is_empty() && !is_root_user(name) {
            return;
        }
        let ins = c.file.instruction(user.instruction);
        let names = unseen.join(", ");
        let redeclare: Vec<String> = unseen.iter().map(|n| format!("ARG {n}")).collect();
        let (fix_user, fix_name) = fix_user(c);
        // Judged root above, though the USER does not resolve: replace it.
        let edit = user_splice_when(out.text, c.file, c.final_stage, fix_user, |_| true)
            .map(|s| out.splice(s));
        out.hit(
            "dockerfile-root-final-stage",
            ins.span,
            c.stage_label(c.final_stage),
            format!(
                "the final stage runs as root: USER {} expands {} to nothing, as {} declared before the first FROM and not again in this stage (a global ARG is only visible in a stage that repeats it: add {} after the FROM), so the user is {}",
                shown_args(&user.written),
                names,
                if unseen.len() == 1 { "it is an ARG" } else { "they are ARGs" },
                redeclare.join(" and "),
                if name.is_empty() { "empty, which is root".to_string() } else { format!("{} (root)", shown_args(&expanded)) },
            ),
        )
        .fix(
            format!("switch to {fix_name} (make sure the application can run unprivileged)"),
            Safety::Review,
            edit.into_iter().collect(),
        );
        return;
    };
    let admin = windows_admin(c, resolved);
    if !is_root_user(resolved) && !admin {
        return;
    }
    let ins = c.file.instruction(user.instruction);
    let shown = if resolved == user.written {
        format!("USER {}", shown_args(resolved))
    } else {
        format!(
            "USER {} (resolves to {})",
            shown_args(&user.written),
            shown_args(resolved)
        )
    };
    // The shared Dockerfile edit: a root USER of the final stage is replaced; root inherited
    // from a base stage gets a USER line of the final stage's own.
    let (fix_user, fix_name) = fix_user(c);
    let edit = user_splice_when(out.text, c.file, c.final_stage, fix_user, |u| {
        is_root_user(u) || windows_admin(c, u)
    })
    .map(|s| out.splice(s));
    let message = if admin {
        format!("the final stage runs as the administrator: {shown} is the administrator account of Windows containers, the equivalent of root")
    } else {
        format!("the final stage runs as root: {shown}")
    };
    out.hit(
        "dockerfile-root-final-stage",
        ins.span,
        c.stage_label(c.final_stage),
        message,
    )
    .fix(
        format!("switch to {fix_name} (make sure the application can run unprivileged)"),
        Safety::Review,
        edit.into_iter().collect(),
    );
}

fn no_user(c: &Ctx<'_>, out: &mut Out<'_>) {
    if c.file.effective_user(c.final_stage).is_some() {
        return;
    }
    let image = root_image(c.file, c.final_stage);
    if base_sets_non_root(image) {
        return;
    }
    let from = c.file.instruction(c.final_stage.from);
    let builder_users: Vec<String> = c
        .file
        .stages
        .iter()
        .filter(|s| s.index != c.final_stage.index)
        .filter(|s| c.file.effective_user(s).is_some())
        .map(|s| c.stage_label(s))
        .collect();
    let mut message = format!(
        "the final stage (FROM {}) never sets USER, so it runs as the base image's user (root unless the image says otherwise)",
        c.final_stage.base
    );
    if !builder_users.is_empty() {
        message.push_str(&format!(
            "; the USER in {} does not apply to the final stage",
            builder_users.join(", ")
        ));
    }
    // The shared Dockerfile edit: USER after the build steps, before the run-time metadata.
    let (fix_user, _) = fix_user(c);
    let edit = user_splice_when(out.text, c.file, c.final_stage, fix_user, is_root_user)
        .map(|s| out.splice(s));
    out.hit(
        "dockerfile-no-user",
        from.span,
        c.stage_label(c.final_stage),
        message,
    )
    .fix(
        format!(
            "add USER {} to the final stage (make sure the application can run unprivileged)",
            fix_user
        ),
        Safety::Review,
        edit.into_iter().collect(),
    );
}

fn stage_chain<'a>(file: &'a Dockerfile, stage: &'a Stage) -> Vec<&'a Stage> {
    let mut v = vec![stage];
    let mut s = stage;
    while let Some(b) = s.base_stage(file) {
        v.push(b);
        s = b;
    }
    v
}

fn healthcheck_missing(c: &Ctx<'_>, out: &mut Out<'_>) {
    let has = stage_chain(c.file, c.final_stage)
        .iter()
        .any(|s| c.file.in_stage(s, "HEALTHCHECK").next().is_some());
    if has {
        return;
    }
    let from = c.file.instruction(c.final_stage.from);
    // Only a port says what to probe; an application-level command is the user's to write.
    let fix = stage_port(c.file, c.final_stage).and_then(|port| {
        healthcheck_splice(
            out.text,
            c.file,
            c.final_stage,
            &format!("nc -z 127.0.0.1 {port} || exit 1"),
        )
        .map(|s| (port, out.splice(s)))
    });
    let h = out.hit(
        "dockerfile-healthcheck-missing",
        from.span,
        c.stage_label(c.final_stage),
        "the final stage defines no HEALTHCHECK",
    );
    if let Some((port, edit)) = fix {
        h.fix(
            format!("add a HEALTHCHECK that probes port {port} with nc (the image needs an nc with -z, such as netcat-openbsd or Alpine's busybox, not Debian's busybox; an application-level check is better)"),
            Safety::Review,
            vec![edit],
        );
    }
}

fn multiple_healthcheck(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.file.stages {
        for (_, ins) in c.file.in_stage(s, "HEALTHCHECK").skip(1) {
            out.hit(
                "dockerfile-multiple-healthcheck",
                ins.span,
                c.stage_label(s),
                "a second HEALTHCHECK in this stage overrides the first",
            );
        }
    }
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://") || s.starts_with("git@")
}

fn is_archive(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    [
        ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst",
    ]
    .iter()
    .any(|e| l.ends_with(e))
}

/// Sources of COPY/ADD (all words but the last; exec form supported).
fn copy_sources(ins: &Instruction) -> Vec<String> {
    let words = match &ins.exec {
        Some(w) => w.clone(),
        None => bulkhead_sources::dockerfile::shell_words(&ins.args),
    };
    let words: Vec<String> = words.into_iter().filter(|w| !w.starts_with("<<")).collect();
    if words.len() < 2 {
        return Vec::new();
    }
    words[..words.len() - 1].to_vec()
}

fn add_instead_of_copy(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins) in c.file.instructions.iter().enumerate() {
        if ins.keyword != "ADD" || ins.onbuild || !ins.heredocs.is_empty() {
            continue;
        }
        let sources = copy_sources(ins);
        if sources.is_empty() {
            continue;
        }
        let has_checksum = ins.flags.iter().any(|f| f.starts_with("--checksum"));
        if sources.iter().any(|s| is_url(s)) {
            if !has_checksum {
                out.hit(
                    "dockerfile-add-instead-of-copy",
                    ins.span,
                    c.object_of(n),
                    "ADD downloads a remote file without verifying a checksum",
                );
            }
            continue;
        }
        if sources.iter().all(|s| is_archive(s)) {
            continue; // unpacking a local archive is what ADD is for
        }
        let kw = Span::new(
            ins.span.start,
            out.lines.pos(out.text, ins.span.start.offset + 3),
        );
        let edit = out.edit(kw, "COPY");
        out.hit(
            "dockerfile-add-instead-of-copy",
            ins.span,
            c.object_of(n),
            format!(
                "ADD of local file(s) {}: COPY does the same without ADD's extra behaviour",
                sources.join(" ")
            ),
        )
        .fix("replace ADD with COPY", Safety::Safe, vec![edit]);
    }
}

/// Files that hold credentials when copied into an image (public keys and CA bundles do not).
fn is_secret_file(src: &str) -> bool {
    let name = src.rsplit('/').next().unwrap_or(src).to_ascii_lowercase();
    if name.ends_with(".pub") {
        return false;
    }
    match name.as_str() {
        "id_rsa" | "id_dsa" | "id_ecdsa" | "id_ed25519" | ".env" | ".npmrc" | ".pypirc"
        | ".netrc" | ".git-credentials" | "credentials" | ".htpasswd" | "kubeconfig"
        | ".dockercfg" => true,
        "config.json" => src.contains(".docker/"),
        n => {
            n.ends_with(".key")
                || n.ends_with(".p12")
                || n.ends_with(".pfx")
                || (n.ends_with(".pem") && (n.contains("key") || n.contains("private")))
        }
    }
}

/// Secrets that end up in the image or its history: secret-named ARG/ENV values and credentials
/// in them, credential files copied in, and credentials written anywhere else in an instruction
/// (a URL with a password in ADD or RUN, `curl -u user:pass`, a bearer token, a token in a LABEL
/// or a heredoc). One finding per variable, or one per instruction for the rest, so a value that
/// is both secret-named and a known token format is reported once.
fn secret(c: &Ctx<'_>, out: &mut Out<'_>) {
    secret_args_written(c, out);
    let (text, lines) = (out.text, out.lines);
    for (n, ins) in c.file.instructions.iter().enumerate() {
        if ins.onbuild {
            continue;
        }
        let mut variables = false;
        match ins.keyword.as_str() {
            "ENV" | "ARG" => {
                let is_arg = ins.keyword == "ARG";
                for (name, value) in parse_assignments(&ins.args, is_arg) {
                    let found = value.as_deref().map(secret_patterns).unwrap_or_default();
                    let literal = value
                        .as_deref()
                        .is_some_and(|v| is_literal_secret(&name, v));
                    // A secret-named ARG without a default is still recorded in the image history
                    // when passed with --build-arg.
                    let arg_without_value =
                        is_arg && value.is_none() && is_literal_secret(&name, "placeholder");
                    if found.is_empty() && !literal && !arg_without_value {
                        continue;
                    }
                    variables = true;
                    let message = if !found.is_empty() {
                        format!(
                            "{} {name} holds {}; it is stored in the image",
                            ins.keyword,
                            descriptions(&found)
                        )
                    } else if literal {
                        format!(
                            "{} {name} holds a literal secret value; it is stored in the image",
                            ins.keyword
                        )
                    } else {
                        format!("ARG {name} is a secret passed as a build argument; build arguments are recorded in the image history")
                    };
                    let h = out.hit("dockerfile-secret", ins.span, c.object_of(n), message);
                    let v = value.unwrap_or_default();
                    if literal || found.is_empty() {
                        mask_value(h, text, lines, ins, &v);
                    } else {
                        for (a, b, _) in &found {
                            mask_value(h, text, lines, ins, &v[*a..*b]);
                        }
                    }
                }
            }
            "COPY" | "ADD" => {
                for src in copy_sources(ins) {
                    if is_secret_file(&src) {
                        out.hit(
                            "dockerfile-secret",
                            ins.span,
                            c.object_of(n),
                            format!("{} copies {src}, which looks like a credential file, into the image", ins.keyword),
                        );
                    }
                }
            }
            _ => {}
        }
        if variables {
            continue;
        }
        let s = script(ins);
        // Variables a RUN command sets to a literal secret, each its own finding; a credential
        // inside such a value is not reported again below.
        let assigned = if ins.keyword == "RUN" {
            run_secret_assignments(c, out, n, ins, &s)
        } else {
            Vec::new()
        };
        // Credentials anywhere else in the instruction: RUN scripts, ADD URLs, LABEL values,
        // CMD/HEALTHCHECK lines, heredoc bodies.
        let found: Vec<_> = secret_patterns(&s)
            .into_iter()
            .filter(|(a, b, _)| !assigned.iter().any(|r| r.start <= *a && *b <= r.end))
            .collect();
        if found.is_empty() {
            continue;
        }
        let first = found.iter().map(|f| f.0).min().unwrap_or(0);
        let last = found.iter().map(|f| f.1).max().unwrap_or(first);
        let span = script_span(ins, first..last, out);
        let places: Vec<Span> = found
            .iter()
            .filter_map(|(a, b, _)| exec_secret_place(ins, *a..*b, out))
            .collect();
        let h = out
            .hit(
                "dockerfile-secret",
                span,
                c.object_of(n),
                format!("{} contains {}", ins.keyword, descriptions(&found)),
            )
            .within(ins.span);
        for (a, b, _) in &found {
            mask_value(h, text, lines, ins, &s[*a..*b]);
        }
        for place in places {
            h.secret(place);
        }
    }
}

/// Builtins whose arguments are assignments (`export DB_PASSWORD=x`).
const ASSIGNING_BUILTINS: &[&str] = &["export", "declare", "typeset", "readonly", "local"];

/// The `NAME=value` words of a command that set variables: those before the program (`env`
/// included: `DB_PASSWORD=x ./migrate`, `env TOKEN=x make`) and the arguments of an assigning
/// builtin (`export TOKEN=x`). Values as the shell reads them, quotes removed.
fn assignments(cmd: &Command) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    let mut words: Vec<(&str, Option<usize>)> =
        cmd.words.iter().map(|w| (w.as_str(), None)).collect();
    let mut i = 0;
    while let Some(&(w, _)) = words.get(i) {
        i += 1;
        match w.split_once('=') {
            Some((name, value)) if is_variable_name(name) => found.push((name, value)),
            // `env` (also by its path, as an exec form names it): its options, and the words
            // they take (`-u NAME`), are neither assignments nor the command.
            _ if program_name(w) == "env" => {
                let rest = shell::env_command(&words[i..]);
                words.truncate(i);
                words.extend(rest);
            }
            // Shell words that start a command (`if x; then TOKEN=y z; fi`).
            _ if matches!(w, "exec" | "command" | "then" | "do" | "else" | "{" | "!") => {}
            _ if ASSIGNING_BUILTINS.contains(&w) => break,
            _ => return found,
        }
    }
    found.extend(
        words[i.min(words.len())..]
            .iter()
            .filter_map(|(w, _)| w.split_once('='))
            .filter(|(name, _)| is_variable_name(name)),
    );
    found
}

fn is_variable_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Report the variables the commands of a RUN set to a literal secret (`DB_PASSWORD=x
/// ./migrate`, `export AWS_SECRET_ACCESS_KEY=...`, also in a heredoc): the RUN line is kept in
/// the image's history, so the value ships with the image even when the variable does not.
/// A value that is expanded when the build runs (`$DB_PASSWORD`, `${X}`, `$(cat
/// /run/secrets/pw)`, backticks) is not written in the file. Returns where each reported
/// assignment is written in the script, from its name to the end of its value.
fn run_secret_assignments(
    c: &Ctx<'_>,
    out: &mut Out<'_>,
    n: usize,
    ins: &Instruction,
    script: &str,
) -> Vec<std::ops::Range<usize>> {
    let mut reported = Vec::new();
    for cmd in commands(script) {
        for (name, value) in assignments(&cmd) {
            if value.contains(['$', '`']) || !is_literal_secret(name, value) {
                continue;
            }
            let Some(range) = assignment_range(script, &cmd, name) else {
                continue;
            };
            let found = secret_patterns(value);
            let what = if found.is_empty() {
                "a literal secret value".to_string()
            } else {
                descriptions(&found)
            };
            let span = run_place(ins, range.clone(), out);
            let value_place = exec_secret_place(ins, range.start + name.len() + 1..range.end, out);
            let (text, lines) = (out.text, out.lines);
            let h = out
                .hit(
                    "dockerfile-secret",
                    span,
                    c.object_of(n),
                    format!(
                        "RUN sets {name} to {what}; the image history keeps the RUN line, value included"
                    ),
                )
                .within(ins.span);
            mask_value(h, text, lines, ins, value);
            if let Some(place) = value_place {
                h.secret(place);
            }
            reported.push(range);
        }
    }
    reported
}

/// Where `name=` is written in `cmd` (a word of its own), to the end of its value's word.
fn assignment_range(script: &str, cmd: &Command, name: &str) -> Option<std::ops::Range<usize>> {
    let written = &script[cmd.start..cmd.end];
    let needle = format!("{name}=");
    let at = written.match_indices(&needle).map(|(i, _)| i).find(|&i| {
        written[..i]
            .chars()
            .next_back()
            .is_none_or(char::is_whitespace)
    })?;
    let value_start = at + needle.len();
    let mut quote = None;
    let mut end = written.len();
    for (i, ch) in written[value_start..].char_indices() {
        match (quote, ch) {
            (Some(q), ch) if ch == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(ch),
            (None, ch) if ch.is_whitespace() => {
                end = value_start + i;
                break;
            }
            _ => {}
        }
    }
    Some(cmd.start + at..cmd.start + end)
}

/// The place of bytes `range` of a RUN's script: exact when the arguments (or the exec form's
/// JSON array) are written on the instruction's one line as they are read, else as
/// [`script_span`] gives it (the line(s) in a heredoc, the whole instruction for arguments
/// joined from continuation lines).
fn run_place(ins: &Instruction, range: std::ops::Range<usize>, out: &Out<'_>) -> Span {
    head_place(ins, range.clone(), out).unwrap_or_else(|| script_span(ins, range, out))
}

/// Where the exec form writes bytes `range` of its [`script_head`], to be masked there: its JSON
/// strings may write a secret with escapes (`\u0061`, `\"`), where a search for the value
/// does not find it.
fn exec_secret_place(
    ins: &Instruction,
    range: std::ops::Range<usize>,
    out: &Out<'_>,
) -> Option<Span> {
    ins.exec.as_ref()?;
    head_place(ins, range, out)
}

/// Where bytes `range` of an instruction's [`script_head`] are written (see [`placed_head`]).
fn head_place(ins: &Instruction, range: std::ops::Range<usize>, out: &Out<'_>) -> Option<Span> {
    let head = placed_head(ins, out)?;
    if range.end > head.text.len() {
        return None;
    }
    let (start, end) = (head.offset(range.start), head.offset(range.end));
    // An exec form's script is read after the words that start its shell, some of which
    // (`$0`, `$1`, ...) are written after it: a range across that seam has no one place.
    if end < start {
        return None;
    }
    Some(Span::new(
        out.lines.pos(out.text, start),
        out.lines.pos(out.text, end),
    ))
}

/// "a GitHub token", "a GitHub token and a password in a URL", ... (each kind once).
fn descriptions(found: &[(usize, usize, &'static str)]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for (_, _, what) in found {
        if !kinds.contains(what) {
            kinds.push(what);
        }
    }
    match kinds.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => kinds.join(""),
    }
}

/// Record every place `value` is written in instruction `ins` as a secret span: each occurrence
/// written as is (on one line, in a heredoc body), and each occurrence in the arguments joined
/// from continuation lines, one span per line it is written on, so no part of it is shown.
fn mask_value(h: &mut super::Hit, text: &str, lines: &LineIndex, ins: &Instruction, value: &str) {
    if value.is_empty() {
        return;
    }
    let within = ins.span;
    let span_of = |range: std::ops::Range<usize>| {
        Span::new(lines.pos(text, range.start), lines.pos(text, range.end))
    };
    let region = within.text(text);
    let mut from = 0;
    while let Some(i) = region[from..].find(value) {
        let start = within.start.offset + from + i;
        h.secret(span_of(start..start + value.len()));
        from += i + value.len();
    }
    for (at, _) in ins.args.match_indices(value) {
        let parts = ins.args_written(at..at + value.len());
        // Written on one line, the search of the file above found it.
        if parts.len() > 1 {
            for part in parts {
                h.secret(span_of(part));
            }
        }
    }
}

/// Stages whose base is an image (not another stage, not scratch), with the resolved name.
fn image_stages<'a>(c: &'a Ctx<'a>) -> impl Iterator<Item = (&'a Stage, &'a str)> + 'a {
    c.file.stages.iter().filter_map(move |s| {
        if s.base_stage(c.file).is_some() {
            return None;
        }
        let b = s.base_resolved.as_str();
        if b.eq_ignore_ascii_case("scratch") || b.contains('$') {
            return None;
        }
        Some((s, b))
    })
}

fn latest_tag(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (s, image) in image_stages(c) {
        let r = parse_image(image);
        if r.digest.is_none() && r.tag.as_deref() == Some("latest") {
            out.hit(
                "dockerfile-latest-tag",
                c.file.instruction(s.from).span,
                c.stage_label(s),
                format!("FROM {image} uses the moving latest tag"),
            );
        }
    }
}

fn untagged_image(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (s, image) in image_stages(c) {
        let r = parse_image(image);
        if r.digest.is_none() && r.tag.is_none() {
            out.hit(
                "dockerfile-untagged-image",
                c.file.instruction(s.from).span,
                c.stage_label(s),
                format!("FROM {image} has no tag or digest, which means latest"),
            );
        }
    }
}

fn registry_of(image: &str) -> String {
    parse_image(image)
        .registry
        .unwrap_or_else(|| "docker.io".to_string())
}

/// Is `image` from one of the trusted registries (`docker.io` names Docker Hub)?
pub fn trusted(image: &str, trusted: &[String]) -> bool {
    let reg = registry_of(image);
    trusted.iter().any(|t| {
        let t = t.trim_end_matches('/');
        reg == t || image.starts_with(&format!("{t}/"))
    })
}

fn untrusted_registry(c: &Ctx<'_>, out: &mut Out<'_>) {
    if c.config.trusted_registries.is_empty() {
        return;
    }
    for (s, image) in image_stages(c) {
        if !trusted(image, &c.config.trusted_registries) {
            out.hit(
                "dockerfile-untrusted-registry",
                c.file.instruction(s.from).span,
                c.stage_label(s),
                format!(
                    "FROM {image} comes from {}, which is not in scan.trusted_registries",
                    registry_of(image)
                ),
            );
        }
    }
}

/// Options of a package manager that take the next word as their value when written apart
/// (`apt-get -t bookworm-backports`, `apk add --virtual .build-deps`, `pip install
/// --trusted-host HOST`): that word is neither the subcommand nor a package.
fn value_options(program: &str) -> &'static [&'static str] {
    match program {
        "apt-get" | "apt" => &[
            "-o",
            "--option",
            "-t",
            "--target-release",
            "--default-release",
            "-c",
            "--config-file",
        ],
        "apk" => &[
            "-t",
            "--virtual",
            "-X",
            "--repository",
            "-p",
            "--root",
            "--arch",
            "--keys-dir",
            "--repositories-file",
            "--cache-dir",
            "--cache-max-age",
            "--timeout",
        ],
        "pip" | "pip3" => &[
            "-i",
            "--index-url",
            "--extra-index-url",
            "--trusted-host",
            "-c",
            "--constraint",
            "-f",
            "--find-links",
            "-t",
            "--target",
            "--prefix",
            "--root",
            "--platform",
            "--python-version",
            "--implementation",
            "--abi",
            "--progress-bar",
            "--src",
            "--upgrade-strategy",
            "--only-binary",
            "--no-binary",
            "--cache-dir",
            "--log",
            "--proxy",
            "--retries",
            "--timeout",
            "--cert",
            "--client-cert",
            "--report",
            "--root-user-action",
            "--python",
            "-C",
            "--config-settings",
            "--global-option",
        ],
        "yum" | "dnf" | "microdnf" => &[
            "-c",
            "--config",
            "--installroot",
            "--releasever",
            "--repo",
            "--repoid",
            "--enablerepo",
            "--disablerepo",
            "--setopt",
            "-x",
            "--exclude",
        ],
        "zypper" => &["-r", "--repo", "--from", "-t", "--type"],
        "npm" => &[
            "--prefix",
            "--registry",
            "--omit",
            "--include",
            "-w",
            "--workspace",
            "--cache",
            "--loglevel",
            "--userconfig",
            "--tag",
        ],
        "gem" => &[
            "-s",
            "--source",
            "-i",
            "--install-dir",
            "-n",
            "--bindir",
            "--platform",
        ],
        _ => &[],
    }
}

/// The words of a package-manager command that are neither options nor option values nor
/// redirections (`2>&1`, `> FILE`, `&>> FILE`): the subcommand, then the packages.
fn pm_operands(cmd: &Command) -> Vec<&str> {
    let takes_value = value_options(cmd.program());
    let mut out = Vec::new();
    let mut args = cmd.args().iter().map(String::as_str);
    while let Some(w) = args.next() {
        if let Some(takes_target) = shell::redirection(w) {
            if takes_target {
                args.next();
            }
        } else if w.starts_with('-') {
            if takes_value.contains(&w) {
                args.next();
            }
        } else {
            out.push(w);
        }
    }
    out
}

fn subcommand(cmd: &Command) -> Option<&str> {
    pm_operands(cmd).first().copied()
}

/// Package installs without versions, by package manager.
fn unpinned(cmd: &Command) -> Vec<String> {
    let prog = cmd.program();
    let sub = subcommand(cmd).unwrap_or("");
    let pkgs: Vec<&str> = pm_operands(cmd).into_iter().skip(1).collect();
    let all = |f: &dyn Fn(&str) -> bool| -> Vec<String> {
        pkgs.iter()
            .filter(|p| !f(p))
            .map(|p| p.to_string())
            .collect()
    };
    match (prog, sub) {
        ("apt-get", "install") | ("apt", "install") => {
            all(&|p| p.contains('=') || p.ends_with(".deb") || p.contains('$'))
        }
        // A local package file (`/tmp/x.apk`) has the version it was built with.
        ("apk", "add") => {
            all(&|p| p.contains('=') || p.contains('$') || p.contains('/') || p.ends_with(".apk"))
        }
        ("yum" | "dnf" | "microdnf" | "zypper", "install") => all(&|p| {
            p.contains('$')
                || p.ends_with(".rpm")
                || p.split('-')
                    .skip(1)
                    .any(|part| part.starts_with(|ch: char| ch.is_ascii_digit()))
        }),
        ("pip" | "pip3", "install") => {
            if cmd.has("-r") || cmd.has_prefix("--requirement") || cmd.has("-e") || cmd.has(".") {
                return Vec::new();
            }
            all(&|p| p.contains("==") || p.contains('/') || p.contains('$') || p.ends_with(".whl"))
        }
        ("npm", "install" | "i") => {
            if pkgs.is_empty() {
                return Vec::new();
            }
            all(&|p| p.trim_start_matches('@').contains('@') || p.contains('/') || p == ".")
        }
        ("gem", "install") => {
            if cmd.has("-v") || cmd.has_prefix("--version") {
                return Vec::new();
            }
            all(&|p| p.contains(':'))
        }
        ("go", "install") => all(&|p| p.contains('@') && !p.ends_with("@latest")),
        _ => Vec::new(),
    }
}

fn unpinned_packages(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins, s) in c.runs().collect::<Vec<_>>() {
        let mut missing = Vec::new();
        let cmds = commands(&s);
        let mut culprits = Vec::new();
        for cmd in &cmds {
            let m = unpinned(cmd);
            if !m.is_empty() {
                missing.extend(m);
                culprits.push(cmd);
            }
        }
        if !missing.is_empty() {
            let span = commands_span(ins, &culprits, out);
            out.hit(
                "dockerfile-unpinned-packages",
                span,
                c.object_of(n),
                format!(
                    "packages installed without a version: {}",
                    missing.join(", ")
                ),
            )
            .within(ins.span);
        }
    }
}

/// Does this apt-get or apt install leave recommended packages on (no
/// `--no-install-recommends`, no `APT::Install-Recommends` option set off)?
fn installs_recommends(cmd: &Command) -> bool {
    matches!(cmd.program(), "apt-get" | "apt")
        && subcommand(cmd) == Some("install")
        && !cmd.has("--no-install-recommends")
        && !cmd.words.iter().any(|w| {
            w.contains("Install-Recommends=false")
                || w.contains("Install-Recommends=0")
                || w.contains("Install-Recommends=no")
        })
}

fn apt_recommends(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins, s) in c.runs().collect::<Vec<_>>() {
        let cmds = commands(&s);
        let culprits: Vec<&Command> = cmds.iter().filter(|c| installs_recommends(c)).collect();
        let Some(first) = culprits.first() else {
            continue;
        };
        // Safe fix: the flag right after each `install` subcommand (apt-get and apt read their
        // options before or after it), wherever the options before it put that word. All of
        // this RUN's installs or none, so applying the fix clears the finding.
        let edits: Option<Vec<_>> = culprits
            .iter()
            .map(|cmd| recommends_edit(ins, &s, cmd, out))
            .collect();
        let span = commands_span(ins, &culprits, out);
        let h = out
            .hit(
                "dockerfile-apt-recommends",
                span,
                c.object_of(n),
                format!(
                    "{} install without --no-install-recommends",
                    first.program()
                ),
            )
            .within(ins.span);
        if let Some(edits) = edits.filter(|e| !e.is_empty()) {
            h.fix("add --no-install-recommends", Safety::Safe, edits);
        }
    }
}

/// The edit that adds `--no-install-recommends` after the `install` word of `cmd`, a command of
/// the script `s` of `ins`: inside the script as a word of its own, or, in an exec form that
/// runs apt-get directly (`["apt-get", "install", ...]`), as a JSON string of its own after
/// `"install"`. None when that word is not written in the file exactly as it is read.
fn recommends_edit(
    ins: &Instruction,
    s: &str,
    cmd: &Command,
    out: &Out<'_>,
) -> Option<crate::model::Edit> {
    let sub = subcommand(cmd)?;
    let index = cmd
        .words
        .iter()
        .position(|w| std::ptr::eq(w.as_str(), sub))?;
    let words = cmd.ranges.clone();
    if words.len() != cmd.words.len() {
        return None;
    }
    let range = words[index].clone();
    if &s[range.clone()] != "install" {
        return None;
    }
    let written = script_written(ins, range, out)?;
    if out.text.get(written.clone()) != Some("install") {
        return None;
    }
    let bare_exec = ins
        .exec
        .as_ref()
        .is_some_and(|argv| exec_shell_command(argv).is_none());
    if bare_exec {
        // `"install"` becomes `"install", "--no-install-recommends"`.
        if out.text.as_bytes().get(written.end) != Some(&b'"') {
            return None;
        }
        return Some(out.insert(written.end, "\", \"--no-install-recommends"));
    }
    Some(out.insert(written.end, " --no-install-recommends"))
}

/// The file bytes that write bytes `range` of an instruction's [`script`], when they are
/// written in one piece: in the arguments (one line of them, or the exec form's JSON strings) or
/// in a heredoc body.
fn script_written(
    ins: &Instruction,
    range: std::ops::Range<usize>,
    out: &Out<'_>,
) -> Option<std::ops::Range<usize>> {
    let head_len = script_head(ins).len();
    if range.end <= head_len {
        if ins.exec.is_some() {
            let span = head_place(ins, range, out)?;
            return Some(span.start.offset..span.end.offset);
        }
        let parts = ins.args_written(range);
        return match parts.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        };
    }
    let mut base = head_len;
    for h in &ins.heredocs {
        base += 1; // the line break that joins the body
        let body = base..base + h.body.len();
        base = body.end;
        if !(body.start <= range.start && range.end <= body.end) {
            continue;
        }
        let (a, b) = (range.start - body.start, range.end - body.start);
        if h.body[a..b].contains('\n') {
            return None;
        }
        let line_start = h.body[..a].rfind('\n').map_or(0, |i| i + 1);
        let line = h.span.start.line + h.body[..a].matches('\n').count() as u32;
        let (text, lines) = (out.text, out.lines);
        let file_line = lines.line_start(line, text.len());
        let tabs = if h.strip_tabs {
            let t = lines.line_text(text, line);
            t.len() - t.trim_start_matches('\t').len()
        } else {
            0
        };
        let start = file_line + tabs + (a - line_start);
        return Some(start..start + (b - a));
    }
    None
}

fn is_update(cmd: &Command) -> bool {
    matches!(
        (cmd.program(), subcommand(cmd).unwrap_or("")),
        ("apt-get" | "apt", "update")
            | ("apk", "update")
            | ("yum" | "dnf", "makecache")
            | ("zypper", "refresh" | "ref")
    )
}

fn is_install(cmd: &Command) -> bool {
    matches!(
        (cmd.program(), subcommand(cmd).unwrap_or("")),
        ("apt-get" | "apt", "install" | "upgrade" | "dist-upgrade")
            | ("apk", "add" | "upgrade")
            | ("yum" | "dnf" | "microdnf", "install" | "update" | "upgrade")
            | ("zypper", "install" | "in" | "update" | "up")
    )
}

fn lone_update(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins, s) in c.runs().collect::<Vec<_>>() {
        let cmds = commands(&s);
        if cmds.iter().any(is_update) && !cmds.iter().any(is_install) {
            let updates: Vec<&Command> = cmds.iter().filter(|c| is_update(c)).collect();
            let span = commands_span(ins, &updates, out);
            out.hit(
                "dockerfile-lone-update",
                span,
                c.object_of(n),
                "the package index is updated without installing in the same RUN; a cached layer will go stale",
            )
            .within(ins.span);
        }
    }
}

fn package_cache(c: &Ctx<'_>, out: &mut Out<'_>) {
    let env_no_pip_cache = c
        .file
        .in_stage(c.final_stage, "ENV")
        .any(|(_, i)| i.args.contains("PIP_NO_CACHE_DIR"));
    for (n, ins, s) in c.final_runs() {
        let cmds = commands(&s);
        let mounts_cache = ins.flags.iter().any(|f| f.contains("type=cache"));
        if mounts_cache {
            continue;
        }
        let cleans = |pred: &dyn Fn(&Command) -> bool| cmds.iter().any(pred);
        let mut problems = Vec::new();
        // The install commands that leave a cache behind, to point at.
        let mut culprits: Vec<&Command> = Vec::new();
        let mut blame =
            |pred: &dyn Fn(&Command) -> bool| culprits.extend(cmds.iter().filter(|c| pred(c)));
        // The lists are written by `update`: a RUN that installs without updating adds none
        // (removing lists an earlier layer keeps would not make the image smaller; that layer is
        // `dockerfile-lone-update`'s finding). `apt` writes the same lists as `apt-get`.
        let apt = |c: &Command, sub: &str| {
            matches!(c.program(), "apt-get" | "apt") && subcommand(c) == Some(sub)
        };
        if cmds.iter().any(|c| apt(c, "install"))
            && cmds.iter().any(|c| apt(c, "update"))
            && !cleans(&|c| {
                c.program() == "rm" && c.words.iter().any(|w| w.starts_with("/var/lib/apt/lists"))
            })
        {
            blame(&|c| apt(c, "install"));
            problems.push("apt lists not removed (rm -rf /var/lib/apt/lists/*)");
        }
        if cmds
            .iter()
            .any(|c| c.program() == "apk" && subcommand(c) == Some("add") && !c.has("--no-cache"))
            && !cleans(&|c| {
                c.program() == "rm" && c.words.iter().any(|w| w.starts_with("/var/cache/apk"))
            })
        {
            blame(&|c| {
                c.program() == "apk" && subcommand(c) == Some("add") && !c.has("--no-cache")
            });
            problems.push("apk add without --no-cache");
        }
        for (pm, clean) in [
            ("yum", "clean"),
            ("dnf", "clean"),
            ("microdnf", "clean"),
            ("zypper", "clean"),
        ] {
            if cmds
                .iter()
                .any(|c| c.program() == pm && matches!(subcommand(c), Some("install" | "in")))
                && !cleans(&|c| c.program() == pm && subcommand(c) == Some(clean))
                && !cleans(&|c| {
                    c.program() == "rm" && c.words.iter().any(|w| w.starts_with("/var/cache/"))
                })
            {
                blame(&|c| c.program() == pm && matches!(subcommand(c), Some("install" | "in")));
                problems.push(match pm {
                    "yum" => "yum cache not cleaned (yum clean all)",
                    "dnf" => "dnf cache not cleaned (dnf clean all)",
                    "microdnf" => "microdnf cache not cleaned (microdnf clean all)",
                    _ => "zypper cache not cleaned (zypper clean)",
                });
            }
        }
        if !env_no_pip_cache
            && cmds.iter().any(|c| {
                matches!(c.program(), "pip" | "pip3")
                    && subcommand(c) == Some("install")
                    && !c.has("--no-cache-dir")
            })
        {
            blame(&|c| {
                matches!(c.program(), "pip" | "pip3")
                    && subcommand(c) == Some("install")
                    && !c.has("--no-cache-dir")
            });
            problems.push("pip install without --no-cache-dir");
        }
        if cmds
            .iter()
            .any(|c| c.program() == "yarn" && matches!(subcommand(c), Some("install") | None))
            && !cleans(&|c| c.program() == "yarn" && subcommand(c) == Some("cache"))
        {
            blame(&|c| c.program() == "yarn" && matches!(subcommand(c), Some("install") | None));
            problems.push("yarn cache not cleaned (yarn cache clean)");
        }
        if !problems.is_empty() {
            let span = commands_span(ins, &culprits, out);
            out.hit(
                "dockerfile-package-cache",
                span,
                c.object_of(n),
                problems.join("; "),
            )
            .within(ins.span);
        }
    }
}

fn dist_upgrade(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins, s) in c.runs().collect::<Vec<_>>() {
        for cmd in commands(&s) {
            let sub = subcommand(&cmd).unwrap_or("");
            let hit = match cmd.program() {
                "apt-get" | "apt" => matches!(sub, "upgrade" | "dist-upgrade" | "full-upgrade"),
                "apk" => sub == "upgrade",
                "yum" | "dnf" | "microdnf" => {
                    matches!(sub, "upgrade" | "update" | "distro-sync")
                        && cmd.operands().count() == 1
                }
                "zypper" => {
                    matches!(sub, "dist-upgrade" | "dup" | "update" | "up")
                        && cmd.operands().count() == 1
                }
                _ => false,
            };
            if hit {
                let span = commands_span(ins, &[&cmd], out);
                out.hit(
                    "dockerfile-dist-upgrade",
                    span,
                    c.object_of(n),
                    format!(
                        "{} {sub} upgrades every package of the base image",
                        cmd.program()
                    ),
                )
                .within(ins.span);
                break;
            }
        }
    }
}

/// Flags and variables that switch off TLS or signature verification.
fn verification_off(cmd: &Command) -> Option<&'static str> {
    let prog = cmd.program();
    let has = |w: &str| cmd.has(w);
    match prog {
        "curl"
            if has("-k")
                || has("--insecure")
                || cmd.words.iter().any(|w| {
                    w.starts_with('-') && !w.starts_with("--") && w.contains('k') && w.len() <= 6
                }) =>
        {
            Some("curl without certificate checks (-k/--insecure)")
        }
        "wget" if has("--no-check-certificate") => Some("wget --no-check-certificate"),
        "pip" | "pip3" if cmd.has_prefix("--trusted-host") => Some("pip --trusted-host"),
        "apk" if has("--allow-untrusted") => Some("apk --allow-untrusted"),
        "apt-get" | "apt"
            if has("--allow-unauthenticated")
                || has("--force-yes")
                || cmd.has_prefix("--allow-insecure") =>
        {
            Some("apt-get without signature checks")
        }
        "yum" | "dnf" | "microdnf" | "zypper" if has("--nogpgcheck") || has("--no-gpg-checks") => {
            Some("package signature checks disabled (--nogpgcheck)")
        }
        "rpm" if has("--nosignature") || has("--nodigest") => Some("rpm --nosignature"),
        "npm" | "yarn"
            if cmd
                .words
                .windows(2)
                .any(|w| w[0] == "strict-ssl" && w[1] == "false")
                || cmd
                    .words
                    .iter()
                    .any(|w| w == "strict-ssl=false" || w == "--strict-ssl=false") =>
        {
            Some("npm strict-ssl false")
        }
        "git"
            if cmd
                .words
                .iter()
                .any(|w| w.to_ascii_lowercase().contains("sslverify=false")) =>
        {
            Some("git http.sslVerify=false")
        }
        _ => None,
    }
}

const INSECURE_ENV: &[(&str, &[&str])] = &[
    ("PYTHONHTTPSVERIFY", &["0"]),
    ("NODE_TLS_REJECT_UNAUTHORIZED", &["0"]),
    ("GIT_SSL_NO_VERIFY", &["1", "true"]),
    ("NPM_CONFIG_STRICT_SSL", &["false"]),
    ("PIP_TRUSTED_HOST", &[]),
    ("CURL_INSECURE", &["1", "true"]),
    ("DOCKER_CONTENT_TRUST", &["0"]),
];

fn tls_verification_disabled(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins) in c.file.instructions.iter().enumerate() {
        if ins.onbuild {
            continue;
        }
        match ins.keyword.as_str() {
            "RUN" => {
                let s = script(ins);
                let cmds = commands(&s);
                // `sslverify=0` written into a yum/dnf repo file
                let repo_off = ["sslverify=0", "sslverify=false", "gpgcheck=0"]
                    .iter()
                    .filter_map(|w| s.find(w).map(|i| i..i + w.len()))
                    .min_by_key(|r| r.start);
                if let Some((cmd, what)) = cmds
                    .iter()
                    .find_map(|cmd| verification_off(cmd).map(|w| (cmd, w)))
                {
                    let span = commands_span(ins, &[cmd], out);
                    out.hit(
                        "dockerfile-tls-verification-disabled",
                        span,
                        c.object_of(n),
                        what,
                    )
                    .within(ins.span);
                } else if let Some(at) = repo_off {
                    let span = script_span(ins, at, out);
                    out.hit(
                        "dockerfile-tls-verification-disabled",
                        span,
                        c.object_of(n),
                        "repository configured with sslverify/gpgcheck off",
                    )
                    .within(ins.span);
                }
            }
            "ENV" | "ARG" => {
                for (name, value) in parse_assignments(&ins.args, ins.keyword == "ARG") {
                    let v = value.unwrap_or_default().to_ascii_lowercase();
                    if let Some((_, bad)) = INSECURE_ENV
                        .iter()
                        .find(|(k, _)| k.eq_ignore_ascii_case(&name))
                    {
                        if (bad.is_empty() && !v.is_empty()) || bad.contains(&v.as_str()) {
                            out.hit(
                                "dockerfile-tls-verification-disabled",
                                ins.span,
                                c.object_of(n),
                                format!("{name}={} switches off verification", shown_args(&v)),
                            );
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

fn each_command(
    c: &Ctx<'_>,
    out: &mut Out<'_>,
    rule: &'static str,
    test: &dyn Fn(&Command) -> Option<String>,
) {
    for (n, ins, s) in c.runs().collect::<Vec<_>>() {
        let cmds = commands(&s);
        if let Some((cmd, msg)) = cmds.iter().find_map(|cmd| test(cmd).map(|m| (cmd, m))) {
            let span = commands_span(ins, &[cmd], out);
            out.hit(rule, span, c.object_of(n), msg).within(ins.span);
        }
    }
}

fn sudo(c: &Ctx<'_>, out: &mut Out<'_>) {
    each_command(c, out, "dockerfile-sudo", &|cmd| {
        (cmd.program() == "sudo").then(|| "RUN uses sudo".to_string())
    });
}

/// A file that a command of a RUN writes, and what goes into it.
struct FileWrite<'c> {
    /// The file as the command names it (`/etc/sudoers.d/app`, `~/.npmrc` for a tool's own
    /// configuration file).
    path: String,
    /// Index in the RUN's commands of the command that writes the file.
    writer: usize,
    /// The commands whose words (arguments, here-strings) become the file's content: those of
    /// the pipeline up to the writer that print them and the filters after them (see
    /// [`content_sources`]), or the writer alone when it takes the content as arguments (`sed
    /// -i`, `git config`).
    sources: Vec<&'c Command>,
    /// Byte range in the script of a heredoc the writer reads, and whether the shell expands
    /// variables in it (its delimiter is not quoted).
    heredoc: Option<(std::ops::Range<usize>, bool)>,
}

/// Output redirections of a command (`> FILE`, `>> FILE`, `>| FILE`, `&> FILE`, `1> FILE`), read
/// from how it is written in `raw` (outside quotes). Redirections of other descriptors (`2>
/// err.log`), duplications (`>&2`) and devices (`/dev/null`, `/dev/stderr`) write no file.
fn redirect_targets(raw: &str) -> Vec<String> {
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let (mut quote, mut i) = (None::<u8>, 0);
    while i < b.len() {
        let c = b[i];
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(b'"'), b'\\') => i += 1,
            (Some(_), _) => {}
            (None, b'\'' | b'"') => quote = Some(c),
            (None, b'\\') => i += 1,
            (None, b'>') => {
                // The descriptor written before `>` (a word of digits), if any.
                let mut d = i;
                while d > 0 && b[d - 1].is_ascii_digit() {
                    d -= 1;
                }
                let fd_ok = d == i
                    || (raw[d..i] == *"1" && (d == 0 || b[d - 1].is_ascii_whitespace()))
                    || (d > 0 && !b[d - 1].is_ascii_whitespace() && b[d - 1] != b'&');
                i += 1;
                if matches!(b.get(i), Some(b'>' | b'|')) {
                    i += 1;
                }
                if b.get(i) == Some(&b'&') {
                    i += 1; // `>&N` duplicates a descriptor
                    continue;
                }
                while b.get(i).is_some_and(|c| *c == b' ' || *c == b'\t') {
                    i += 1;
                }
                let mut bytes = Vec::new();
                let mut q = None::<u8>;
                while let Some(&c) = b.get(i) {
                    match (q, c) {
                        (Some(x), c) if c == x => q = None,
                        (Some(_), _) => bytes.push(c),
                        (None, b'\'' | b'"') => q = Some(c),
                        (None, c) if c.is_ascii_whitespace() || b";|&<>()".contains(&c) => break,
                        (None, _) => bytes.push(c),
                    }
                    i += 1;
                }
                let word = String::from_utf8_lossy(&bytes).into_owned();
                if fd_ok && !word.is_empty() && !word.starts_with("/dev/") {
                    out.push(word);
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The heredoc a command reads (`cat <<EOF > FILE`, `<<-EOF`, `<<'EOF'`): the range of its
/// body in the script, from the line after the command to the delimiter line (or the end),
/// and whether its delimiter is unquoted, so the shell expands `$NAME` in it.
fn heredoc_of(s: &str, cmd: &Command) -> Option<(std::ops::Range<usize>, bool)> {
    let raw = &s[cmd.start..cmd.end];
    let at = raw.find("<<")?;
    let rest = &raw[at + 2..];
    if rest.starts_with('<') {
        return None; // a here-string, read with the command's words
    }
    let (rest, strip_tabs) = match rest.strip_prefix('-') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let rest = rest.trim_start();
    let word: String = rest
        .chars()
        .take_while(|c| !c.is_whitespace() && !";|&<>()".contains(*c))
        .collect();
    let quoted = word.contains(['\'', '"', '\\']);
    let delimiter: String = word.chars().filter(|c| !"'\"\\".contains(*c)).collect();
    if delimiter.is_empty() {
        return None;
    }
    let start = s[cmd.end..].find('\n').map(|i| cmd.end + i + 1)?;
    let mut end = s.len();
    let mut line_at = start;
    for line in s[start..].split_inclusive('\n') {
        let l = line.trim_end_matches('\n');
        let l = if strip_tabs {
            l.trim_start_matches('\t')
        } else {
            l
        };
        if l == delimiter {
            end = line_at;
            break;
        }
        line_at += line.len();
    }
    Some((start..end, !quoted))
}

/// Operands of a command that are neither options nor redirections.
fn plain_operands(cmd: &Command) -> Vec<&str> {
    let mut out = Vec::new();
    let mut skip = false;
    for w in cmd.args() {
        if skip {
            skip = false;
            continue;
        }
        if w.starts_with('-') {
            continue;
        }
        if w.contains('>') || w.contains('<') {
            // `> FILE` takes the next word; `>FILE` is the redirection itself.
            skip = w.ends_with('>') || w.ends_with('<');
            continue;
        }
        out.push(w.as_str());
    }
    out
}

/// Programs that print their arguments (`echo`, `printf`) or whose arguments are a script that
/// can put its own text into what they print (`sed 's/x/TEXT/'`, `awk '{print "TEXT"}'`).
fn prints_arguments(program: &str) -> bool {
    matches!(
        program,
        "echo" | "printf" | "sed" | "gsed" | "awk" | "gawk" | "mawk" | "nawk"
    )
}

/// Programs whose output is (a transformation of) their input: what comes into them from a
/// printer, a heredoc or a here-string goes on into their output.
fn passes_input(program: &str) -> bool {
    prints_arguments(program)
        || matches!(
            program,
            "cat"
                | "tee"
                | "base64"
                | "base32"
                | "basenc"
                | "tr"
                | "head"
                | "tail"
                | "sort"
                | "uniq"
                | "cut"
                | "rev"
                | "tac"
                | "fold"
                | "paste"
                | "grep"
                | "xxd"
                | "od"
                | "iconv"
                | "envsubst"
                | "jq"
                | "yq"
                | "dd"
                | "gzip"
                | "gunzip"
                | "zcat"
                | "bzip2"
                | "xz"
        )
}

/// The commands of a pipeline whose text reaches its output: commands that print their
/// arguments, a filter that reads a heredoc or a here-string, and the filters downstream of
/// them. A program that fetches or installs (`curl`, `wget`, `pip`, `git clone`) prints a
/// response or a log, not its arguments, and what is piped into it goes no further.
fn content_sources<'c>(s: &str, piped: &[&'c Command]) -> Vec<&'c Command> {
    let mut out = Vec::new();
    let mut carrying = false;
    for &c in piped {
        let program = c.program();
        let own_input = c.words.iter().any(|w| w.starts_with("<<<")) || heredoc_of(s, c).is_some();
        carrying = prints_arguments(program) || (passes_input(program) && (carrying || own_input));
        if carrying {
            out.push(c);
        }
    }
    out
}

/// Every file the commands of a RUN script `s` write with content the script gives them:
/// through an output redirection, `tee`, `dd of=`, `sed -i`, or a tool that stores its
/// arguments in its configuration file (`git config`, `npm config set`).
fn file_writes<'c>(s: &str, cmds: &'c [Command]) -> Vec<FileWrite<'c>> {
    let mut out = Vec::new();
    let mut pipeline_start = 0;
    for (i, cmd) in cmds.iter().enumerate() {
        if i > 0 && !cmds[i - 1].piped_to_next {
            pipeline_start = i;
        }
        let piped: Vec<&Command> = cmds[pipeline_start..=i].iter().collect();
        // What of the pipeline reaches the file: the commands that print text of the script
        // and the filters after them, with the heredoc one of them reads.
        let mut content = content_sources(s, &piped);
        if !content.last().is_some_and(|c| std::ptr::eq(*c, cmd)) {
            // The writer's output is its own (a response, a log), not the text given to it.
            content.clear();
        }
        let content_heredoc = content.iter().find_map(|c| heredoc_of(s, c));
        let mut push = |path: String, sources: Vec<&'c Command>, heredoc| {
            out.push(FileWrite {
                path,
                writer: i,
                sources,
                heredoc,
            })
        };
        for target in redirect_targets(&s[cmd.start..cmd.end]) {
            push(target, content.clone(), content_heredoc.clone());
        }
        let args = cmd.args();
        match cmd.program() {
            "tee" => {
                let before: Vec<&Command> = content
                    .iter()
                    .copied()
                    .filter(|c| !std::ptr::eq(*c, cmd))
                    .collect();
                for f in plain_operands(cmd) {
                    if !f.starts_with("/dev/") {
                        push(f.to_string(), before.clone(), content_heredoc.clone());
                    }
                }
            }
            "dd" => {
                if let Some(f) = args.iter().find_map(|w| w.strip_prefix("of=")) {
                    if !f.starts_with("/dev/") {
                        push(f.to_string(), content.clone(), content_heredoc.clone());
                    }
                }
            }
            "sed"
                if args
                    .iter()
                    .any(|w| w.starts_with("-i") || w.starts_with("--in-place")) =>
            {
                let ops = plain_operands(cmd);
                // The first operand is the script unless -e or -f gives it.
                let explicit = args
                    .iter()
                    .any(|w| w == "-e" || w == "-f" || w.starts_with("--expression"));
                let files = if explicit {
                    &ops[..]
                } else {
                    ops.get(1..).unwrap_or(&[])
                };
                for f in files {
                    push(f.to_string(), vec![cmd], heredoc_of(s, cmd));
                }
            }
            "git" if args.first().map(String::as_str) == Some("config") => {
                let file = args
                    .iter()
                    .position(|w| w == "-f" || w == "--file")
                    .and_then(|k| args.get(k + 1).cloned())
                    .or_else(|| {
                        args.iter()
                            .find_map(|w| w.strip_prefix("--file=").map(str::to_string))
                    });
                let path = match file {
                    Some(f) => f,
                    None if cmd.has("--system") => "/etc/gitconfig".into(),
                    None if cmd.has("--global") => "~/.gitconfig".into(),
                    None => ".git/config".into(),
                };
                let reading = args.iter().any(|w| {
                    w == "--get"
                        || w == "--get-all"
                        || w == "--list"
                        || w == "-l"
                        || w.starts_with("--unset")
                });
                if !reading && !path.starts_with("/dev/") {
                    push(path, vec![cmd], heredoc_of(s, cmd));
                }
            }
            "npm"
                if matches!(
                    (
                        args.first().map(String::as_str),
                        args.get(1).map(String::as_str)
                    ),
                    (Some("config"), Some("set")) | (Some("set"), _)
                ) =>
            {
                push("~/.npmrc".into(), vec![cmd], heredoc_of(s, cmd));
            }
            _ => {}
        }
    }
    out
}

/// A path as compared for removal: the home directory written as `~` however it is named.
fn home_path(p: &str) -> String {
    for home in ["${HOME}", "$HOME", "/root"] {
        if let Some(rest) = p.strip_prefix(home) {
            if rest.is_empty() || rest.starts_with('/') {
                return format!("~{rest}");
            }
        }
    }
    p.trim_end_matches('/').to_string()
}

/// Does a command after `after` remove `path` (or a directory above it) in the same RUN, so the
/// file never reaches the layer?
fn removed_later(cmds: &[Command], after: usize, path: &str) -> bool {
    let path = home_path(path);
    cmds.iter().skip(after + 1).any(|cmd| {
        matches!(cmd.program(), "rm" | "shred" | "unlink")
            && plain_operands(cmd).iter().any(|op| {
                let op = home_path(op);
                path == op || path.strip_prefix(&op).is_some_and(|r| r.starts_with('/'))
            })
    })
}

/// Does `raw` (shell text) expand the variable `name` (`$NAME`, `${NAME}`, `${NAME:-x}`), outside
/// single quotes?
fn expands(raw: &str, name: &str) -> bool {
    let b = raw.as_bytes();
    let (mut single, mut double, mut i) = (false, false, 0);
    while i < b.len() {
        match b[i] {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'\\' if !single => i += 1,
            b'$' if !single => {
                let rest = &raw[i + 1..];
                let rest = rest.strip_prefix('{').unwrap_or(rest);
                if let Some(after) = rest.strip_prefix(name) {
                    if !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                        return true;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// The text a write puts into its file, as written in the script: its source commands and the
/// heredoc it reads.
fn written_text(s: &str, w: &FileWrite<'_>) -> Vec<(String, bool)> {
    let mut parts: Vec<(String, bool)> = w
        .sources
        .iter()
        .map(|c| (s[c.start..c.end].to_string(), true))
        .collect();
    if let Some((body, expanded)) = &w.heredoc {
        parts.push((s[body.clone()].to_string(), *expanded));
    }
    parts
}

/// The scripts a `sed` command runs: the values of `-e`/`--expression`, or its first operand
/// when none is given (and no `-f` file).
fn sed_scripts(cmd: &Command) -> Vec<&str> {
    let args = cmd.args();
    let mut out = Vec::new();
    let mut explicit = false;
    let mut i = 0;
    while i < args.len() {
        let w = args[i].as_str();
        if w == "-e" || w == "--expression" {
            out.extend(args.get(i + 1).map(String::as_str));
            explicit = true;
            i += 1;
        } else if let Some(e) = w.strip_prefix("--expression=") {
            out.push(e);
            explicit = true;
        } else if w == "-f" || w.starts_with("--file") {
            explicit = true;
        } else if let Some(e) = w.strip_prefix("-e").filter(|e| !e.is_empty()) {
            out.push(e);
            explicit = true;
        }
        i += 1;
    }
    if !explicit {
        out.extend(plain_operands(cmd).first().copied());
    }
    out
}

/// The text a sed script puts into its output: the replacement of each `s` command and the text
/// that each `a`, `i` and `c` command adds. An address before a command (`/re/`, `\cREc`, a
/// line number, `$`, a range `a,b`, `first~step`, `addr,+N`, negated with `!`) is skipped, so a
/// letter of a pattern is never read as a command (`/^jenkins.*NOPASSWD/d` deletes lines).
fn sed_added(script: &str) -> Vec<String> {
    let c: Vec<char> = script.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Up to the next unescaped `delim` from `i` (exclusive); `i` ends after the delimiter.
    let delimited = |i: &mut usize, delim: char| -> String {
        let mut text = String::new();
        while *i < c.len() && c[*i] != delim {
            if c[*i] == '\\' && *i + 1 < c.len() {
                text.push(c[*i]);
                *i += 1;
            }
            text.push(c[*i]);
            *i += 1;
        }
        *i += 1;
        text
    };
    let address = |i: &mut usize| {
        match c.get(*i) {
            Some(d) if d.is_ascii_digit() => {
                while c.get(*i).is_some_and(|d| d.is_ascii_digit() || *d == '~') {
                    *i += 1;
                }
            }
            Some('$') => *i += 1,
            Some('+') | Some('~') => {
                *i += 1;
                while c.get(*i).is_some_and(|d| d.is_ascii_digit()) {
                    *i += 1;
                }
            }
            Some('/') => {
                *i += 1;
                delimited(i, '/');
            }
            Some('\\') if *i + 1 < c.len() => {
                let d = c[*i + 1];
                *i += 2;
                delimited(i, d);
            }
            _ => return,
        }
        // Regex flags: `I` (case), `M` (multi-line).
        while matches!(c.get(*i), Some('I' | 'M')) {
            *i += 1;
        }
    };
    let blank = |i: &mut usize| {
        while c.get(*i).is_some_and(|d| *d == ' ' || *d == '\t') {
            *i += 1;
        }
    };
    let to_end = |i: &mut usize, stops: &str| {
        while *i < c.len() && !stops.contains(c[*i]) {
            *i += 1;
        }
    };
    while i < c.len() {
        if c[i].is_whitespace() || matches!(c[i], ';' | '{' | '}') {
            i += 1;
            continue;
        }
        address(&mut i);
        blank(&mut i);
        if c.get(i) == Some(&',') {
            i += 1;
            blank(&mut i);
            address(&mut i);
            blank(&mut i);
        }
        while matches!(c.get(i), Some('!')) {
            i += 1;
            blank(&mut i);
        }
        let Some(&cmd) = c.get(i) else { break };
        i += 1;
        match cmd {
            's' => {
                let Some(&d) = c.get(i) else { break };
                i += 1;
                delimited(&mut i, d);
                out.push(delimited(&mut i, d));
                to_end(&mut i, ";\n}");
            }
            'y' => {
                let Some(&d) = c.get(i) else { break };
                i += 1;
                delimited(&mut i, d);
                delimited(&mut i, d);
            }
            'a' | 'i' | 'c' => {
                // `a text`, `a\text`, or `a\` and the text on the next line(s), each line
                // but the last ending with `\`.
                blank(&mut i);
                if c.get(i) == Some(&'\\') {
                    i += 1;
                    if c.get(i) == Some(&'\n') {
                        i += 1;
                    }
                }
                blank(&mut i);
                let mut text = String::new();
                while i < c.len() && c[i] != '\n' {
                    if c[i] == '\\' && c.get(i + 1) == Some(&'\n') {
                        text.push('\n');
                        i += 2;
                        continue;
                    }
                    text.push(c[i]);
                    i += 1;
                }
                out.push(text);
            }
            // A comment, a label or a file name runs to the end of the line.
            '#' | ':' | 'r' | 'R' | 'w' | 'W' => to_end(&mut i, "\n"),
            _ => to_end(&mut i, ";\n}"),
        }
    }
    out
}

/// The text `echo` or `printf` prints, read from its words: echo's operands joined by blanks,
/// printf's format with its arguments put in for each `%s` (the format used again while
/// arguments remain, as printf does). `\n` starts a new line. `None` for other commands, and
/// for a printf format with other conversions.
fn printed_text(cmd: &Command) -> Option<String> {
    let words: Vec<&str> = {
        let mut out = Vec::new();
        let mut args = cmd.args().iter().map(String::as_str);
        while let Some(w) = args.next() {
            match shell::redirection(w) {
                Some(true) => {
                    args.next();
                }
                Some(false) => {}
                None => out.push(w),
            }
        }
        out
    };
    let text = match cmd.program() {
        "echo" => {
            let start = words
                .iter()
                .position(|w| {
                    !(w.len() > 1
                        && w.starts_with('-')
                        && w[1..].chars().all(|c| matches!(c, 'n' | 'e' | 'E')))
                })
                .unwrap_or(words.len());
            words[start..].join(" ")
        }
        "printf" => {
            let mut words = &words[..];
            if words.first() == Some(&"-v") {
                words = words.get(2..).unwrap_or(&[]);
            }
            if words.first() == Some(&"--") {
                words = &words[1..];
            }
            let (format, args) = words.split_first()?;
            let without = format.replace("%%", "").replace("%s", "");
            if without.contains('%') {
                return None;
            }
            let per = format.matches("%s").count() - format.matches("%%s").count();
            let fill = |chunk: &[&str]| {
                let mut it = chunk.iter();
                format
                    .split("%%")
                    .map(|part| {
                        let mut pieces = part.split("%s");
                        let mut s = pieces.next().unwrap_or("").to_string();
                        for piece in pieces {
                            s.push_str(it.next().copied().unwrap_or(""));
                            s.push_str(piece);
                        }
                        s
                    })
                    .collect::<Vec<_>>()
                    .join("%")
            };
            if per == 0 || args.is_empty() {
                fill(&[])
            } else {
                args.chunks(per).map(fill).collect()
            }
        }
        _ => return None,
    };
    Some(text.replace("\\n", "\n"))
}

/// The sudoers rule with NOPASSWD that text written into a sudoers file holds, if any: a line
/// that is not a comment and grants NOPASSWD. echo and printf are read for the lines they print
/// (see [`printed_text`]); for `sed`, only what an `s` command puts in or an `a`/`i`/`c`
/// command adds counts, not a pattern it looks for or a line it deletes (see [`sed_added`]).
fn nopasswd_rule(w: &FileWrite<'_>, cmds: &[Command], s: &str) -> Option<String> {
    let grants = |t: &str| {
        let t = t.trim();
        t.contains("NOPASSWD") && !t.starts_with('#')
    };
    let rule_in = |text: &str| {
        text.lines()
            .find(|l| grants(l))
            .map(|l| l.trim().trim_start_matches('\\').trim().to_string())
    };
    let writer = &cmds[w.writer];
    let sed_rule = |cmd: &Command| {
        sed_scripts(cmd)
            .into_iter()
            .flat_map(sed_added)
            .find_map(|added| rule_in(&added.replace("\\n", "\n")))
    };
    if writer.program() == "sed" && w.sources.len() == 1 && std::ptr::eq(w.sources[0], writer) {
        return sed_rule(writer);
    }
    for c in &w.sources {
        let found = if c.program() == "sed" {
            sed_rule(c)
        } else if let Some(text) = printed_text(c) {
            rule_in(&text)
        } else {
            c.words.iter().find_map(|word| rule_in(word))
        };
        if found.is_some() {
            return found;
        }
    }
    let (body, _) = w.heredoc.clone()?;
    rule_in(&s[body])
}

fn is_sudoers(path: &str) -> bool {
    path == "/etc/sudoers" || path.starts_with("/etc/sudoers.d/")
}

/// Passwordless sudo written into the image: a NOPASSWD rule put into /etc/sudoers or a file
/// of /etc/sudoers.d by a RUN (echo/printf with a redirection, tee, sed -i, a heredoc) or by
/// a COPY heredoc.
fn sudoers_nopasswd(c: &Ctx<'_>, out: &mut Out<'_>) {
    // Whom the rule lets become root: its first word, when that is a plausible user or group
    // name (not a variable the build fills in, or text that is not a rule).
    let who = |rule: &str| {
        let plausible = |name: &str| {
            name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        };
        let first = rule.split_whitespace().next().unwrap_or("");
        match first {
            "ALL" => "every user".to_string(),
            g if g.strip_prefix('%').is_some_and(plausible) => {
                format!("the members of group {}", &g[1..])
            }
            u if plausible(u) => format!("user {u}"),
            _ => "a user".to_string(),
        }
    };
    for (n, ins, s) in c.runs().collect::<Vec<_>>() {
        let cmds = commands(&s);
        for w in file_writes(&s, &cmds) {
            if !is_sudoers(&w.path) || removed_later(&cmds, w.writer, &w.path) {
                continue;
            }
            let Some(rule) = nopasswd_rule(&w, &cmds, &s) else {
                continue;
            };
            let mut place: Vec<&Command> = w.sources.clone();
            place.push(&cmds[w.writer]);
            let span = commands_span(ins, &place, out);
            out.hit(
                "dockerfile-sudoers-nopasswd",
                span,
                c.object_of(n),
                format!(
                    "RUN writes a NOPASSWD rule into {}: {} can become root without a password",
                    w.path,
                    who(&rule)
                ),
            )
            .within(ins.span);
            break;
        }
    }
    for (n, ins) in c.file.instructions.iter().enumerate() {
        if !matches!(ins.keyword.as_str(), "COPY" | "ADD") || ins.onbuild || ins.heredocs.is_empty()
        {
            continue;
        }
        let words = bulkhead_sources::dockerfile::shell_words(&ins.args);
        let Some(dest) = words.last().filter(|d| !d.starts_with("<<")) else {
            continue;
        };
        if !(is_sudoers(dest) || dest.trim_end_matches('/') == "/etc/sudoers.d") {
            continue;
        }
        let rule = ins.heredocs.iter().find_map(|h| {
            h.body
                .lines()
                .find(|l| l.contains("NOPASSWD") && !l.trim().starts_with('#'))
                .map(|l| l.trim().to_string())
        });
        if let Some(rule) = rule {
            out.hit(
                "dockerfile-sudoers-nopasswd",
                ins.span,
                c.object_of(n),
                format!(
                    "{} writes a NOPASSWD rule into {dest}: {} can become root without a password",
                    ins.keyword,
                    who(&rule)
                ),
            );
        }
    }
}

/// A build argument with a secret-looking name that a RUN writes into a file of the image
/// (`ARG SSH_PRIVATE_KEY` then `echo "$SSH_PRIVATE_KEY" > /root/.ssh/id_rsa`): the value,
/// given with --build-arg, is then stored in that layer, readable by anyone who pulls the image
/// even after a later step deletes the file. Only the ARGs declared in the RUN's stage before
/// it are in scope. A file removed again in the same RUN never reaches the layer.
fn secret_args_written(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins, s) in c.runs().collect::<Vec<_>>() {
        let stage = c.stage_of(n);
        let args: Vec<String> = stage
            .body
            .iter()
            .filter(|&&k| k < n)
            .map(|&k| c.file.instruction(k))
            .filter(|i| i.keyword == "ARG" && !i.onbuild)
            .flat_map(|i| parse_assignments(&i.args, true))
            .map(|(name, _)| name)
            .filter(|name| is_literal_secret(name, "placeholder"))
            .collect();
        if args.is_empty() {
            continue;
        }
        let cmds = commands(&s);
        let mut reported = Vec::new();
        for w in file_writes(&s, &cmds) {
            if removed_later(&cmds, w.writer, &w.path) {
                continue;
            }
            let parts = written_text(&s, &w);
            for name in &args {
                if reported.contains(name)
                    || !parts
                        .iter()
                        .any(|(t, expanded)| *expanded && expands(t, name))
                {
                    continue;
                }
                reported.push(name.clone());
                let mut place: Vec<&Command> = w.sources.clone();
                place.push(&cmds[w.writer]);
                let span = commands_span(ins, &place, out);
                let builder = if stage.index == c.final_stage.index {
                    ""
                } else {
                    " (a builder stage: the layer stays in the build cache, and in any image built or copied from this stage)"
                };
                out.hit(
                    "dockerfile-secret",
                    span,
                    c.object_of(n),
                    format!(
                        "RUN writes build argument {name} into {}: its value is stored in that layer of the image{builder}",
                        w.path
                    ),
                )
                .within(ins.span);
            }
        }
    }
}

fn chpasswd(c: &Ctx<'_>, out: &mut Out<'_>) {
    each_command(c, out, "dockerfile-chpasswd", &|cmd| match cmd.program() {
        "chpasswd" => Some("RUN sets a password with chpasswd".into()),
        "passwd" if cmd.has("--stdin") => Some("RUN sets a password with passwd --stdin".into()),
        "useradd" | "usermod" if cmd.has("-p") || cmd.has_prefix("--password") => {
            Some(format!("RUN sets a password with {} -p", cmd.program()))
        }
        _ => None,
    });
}

/// Ports of an EXPOSE: (text, low, high) where high may exceed 65535.
fn exposed(ins: &Instruction) -> Vec<(String, u64, u64)> {
    ins.args
        .split_whitespace()
        .filter(|w| !w.contains('$'))
        .map(|w| {
            let p = w.split('/').next().unwrap_or(w);
            let (a, b) = p.split_once('-').unwrap_or((p, p));
            (
                w.to_string(),
                a.parse().unwrap_or(u64::MAX),
                b.parse().unwrap_or(u64::MAX),
            )
        })
        .collect()
}

fn expose_ssh(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (_, ins) in c.file.in_stage(c.final_stage, "EXPOSE") {
        if exposed(ins)
            .iter()
            .any(|(w, lo, hi)| *lo <= 22 && 22 <= *hi && !w.ends_with("/udp"))
        {
            out.hit(
                "dockerfile-expose-ssh",
                ins.span,
                c.stage_label(c.final_stage),
                "EXPOSE includes port 22 (SSH)",
            );
        }
    }
}

fn invalid_port(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins) in c.file.instructions.iter().enumerate() {
        if ins.keyword != "EXPOSE" || ins.onbuild {
            continue;
        }
        for (w, lo, hi) in exposed(ins) {
            if lo > 65535 || hi > 65535 || lo > hi {
                out.hit(
                    "dockerfile-invalid-port",
                    ins.span,
                    c.object_of(n),
                    format!("EXPOSE {w} is not a valid port or range"),
                );
            }
        }
    }
}

fn setuid(c: &Ctx<'_>, out: &mut Out<'_>) {
    each_command(c, out, "dockerfile-setuid", &|cmd| {
        if cmd.program() != "chmod" {
            return None;
        }
        cmd.operands().find_map(|m| {
            let symbolic = m.contains("+s")
                || m.contains("u+s")
                || m.contains("g+s")
                || (m.contains('=')
                    && m.split(',')
                        .any(|p| p.contains('s') && (p.starts_with('u') || p.starts_with('g'))));
            let octal = m.len() == 4
                && m.chars().all(|c| c.is_digit(8))
                && matches!(m.as_bytes()[0], b'2' | b'4' | b'6');
            (symbolic || octal).then(|| format!("chmod {m} sets the setuid/setgid bit"))
        })
    });
}

fn image_not_pinned(c: &Ctx<'_>, out: &mut Out<'_>) {
    let image = root_image(c.file, c.final_stage);
    if image.eq_ignore_ascii_case("scratch") || image.contains('$') {
        return;
    }
    if parse_image(image).digest.is_none() {
        let mut s = c.final_stage;
        while let Some(b) = s.base_stage(c.file) {
            s = b;
        }
        out.hit(
            "dockerfile-image-not-pinned",
            c.file.instruction(s.from).span,
            c.stage_label(s),
            format!("the shipped image builds on {image}, which is not pinned by digest"),
        );
    }
}

fn workdirs<'a>(c: &'a Ctx<'a>) -> impl Iterator<Item = (usize, &'a Instruction)> + 'a {
    c.file
        .instructions
        .iter()
        .enumerate()
        .filter(|(_, i)| i.keyword == "WORKDIR" && !i.onbuild)
}

fn workdir_relative(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins) in workdirs(c) {
        let d = ins.args.trim().trim_matches('"');
        let windows = d.len() >= 2 && d.as_bytes()[1] == b':';
        if !d.starts_with('/') && !d.starts_with('$') && !windows && !d.is_empty() {
            out.hit(
                "dockerfile-workdir-relative",
                ins.span,
                c.object_of(n),
                format!("WORKDIR {} is relative", shown_args(d)),
            );
        }
    }
}

fn workdir_system(c: &Ctx<'_>, out: &mut Out<'_>) {
    const SYSTEM: &[&str] = &[
        "/",
        "/bin",
        "/boot",
        "/dev",
        "/etc",
        "/lib",
        "/lib64",
        "/proc",
        "/sbin",
        "/sys",
        "/usr",
        "/usr/bin",
        "/usr/sbin",
        "/usr/lib",
        "/var",
    ];
    for (n, ins) in workdirs(c) {
        let d = ins.args.trim().trim_matches('"');
        let norm = if d == "/" { d } else { d.trim_end_matches('/') };
        if SYSTEM.contains(&norm) {
            out.hit(
                "dockerfile-workdir-system",
                ins.span,
                c.object_of(n),
                format!("WORKDIR {} is a system directory", shown_args(d)),
            );
        }
    }
}

fn run_cd(c: &Ctx<'_>, out: &mut Out<'_>) {
    each_command(c, out, "dockerfile-run-cd", &|cmd| {
        (cmd.program() == "cd").then(|| "RUN changes directory with cd".to_string())
    });
}

fn maintainer(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins) in c.file.instructions.iter().enumerate() {
        if ins.keyword == "MAINTAINER" {
            let value = ins.args.trim().replace('"', "\\\"");
            let edit = out.edit(
                ins.span,
                format!("LABEL org.opencontainers.image.authors=\"{value}\""),
            );
            out.hit(
                "dockerfile-maintainer",
                ins.span,
                c.object_of(n),
                "MAINTAINER is deprecated",
            )
            .fix(
                "replace with LABEL org.opencontainers.image.authors",
                Safety::Safe,
                vec![edit],
            );
        }
    }
}

fn multiple_cmd(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.file.stages {
        for kw in ["CMD", "ENTRYPOINT"] {
            for (_, ins) in c.file.in_stage(s, kw).skip(1) {
                out.hit(
                    "dockerfile-multiple-cmd",
                    ins.span,
                    c.stage_label(s),
                    format!("a second {kw} in this stage overrides the first"),
                );
            }
        }
    }
}

fn shell_form_cmd(c: &Ctx<'_>, out: &mut Out<'_>) {
    for kw in ["CMD", "ENTRYPOINT"] {
        for (_, ins) in c.file.in_stage(c.final_stage, kw) {
            if ins.exec.is_none() && !ins.args.trim().is_empty() {
                out.hit(
                    "dockerfile-shell-form-cmd",
                    ins.span,
                    c.stage_label(c.final_stage),
                    format!(
                        "{kw} in shell form runs under /bin/sh -c and does not receive signals"
                    ),
                );
            }
        }
    }
}

fn stage_alias(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.file.stages {
        if let Some(name) = &s.name {
            if c.file.stages[..s.index]
                .iter()
                .any(|o| o.name.as_deref() == Some(name))
            {
                out.hit(
                    "dockerfile-stage-alias",
                    c.file.instruction(s.from).span,
                    c.stage_label(s),
                    format!("stage name {name} is used twice"),
                );
            }
        }
        for (_, ins) in c.file.in_stage(s, "COPY") {
            if let Some(from) = ins.flags.iter().find_map(|f| f.strip_prefix("--from=")) {
                let from = from.to_ascii_lowercase();
                if s.name.as_deref() == Some(from.as_str()) || from == s.index.to_string() {
                    out.hit(
                        "dockerfile-stage-alias",
                        ins.span,
                        c.stage_label(s),
                        format!("COPY --from={from} copies from the stage it is in"),
                    );
                }
            }
        }
    }
}

fn copy_whole_fs(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins) in c.file.instructions.iter().enumerate() {
        if ins.keyword != "COPY"
            || ins.onbuild
            || !ins.flags.iter().any(|f| f.starts_with("--from="))
        {
            continue;
        }
        if copy_sources(ins).iter().any(|s| s == "/" || s == "/*") {
            out.hit(
                "dockerfile-copy-whole-fs",
                ins.span,
                c.object_of(n),
                "COPY --from copies the whole file system of the other stage",
            );
        }
    }
}

fn apt(c: &Ctx<'_>, out: &mut Out<'_>) {
    each_command(c, out, "dockerfile-apt", &|cmd| {
        (cmd.program() == "apt" && subcommand(cmd).is_some()).then(|| {
            format!(
                "apt {} in a script; use apt-get",
                subcommand(cmd).unwrap_or("")
            )
        })
    });
}

/// Does a SHELL instruction run RUN scripts with pipefail (or in a shell whose pipes fail
/// without it: PowerShell, cmd)?
fn shell_sets_pipefail(ins: &Instruction) -> bool {
    ["pipefail", "pwsh", "powershell", "cmd"]
        .iter()
        .any(|w| ins.args.contains(w))
}

/// What a `set` command does to pipefail: `Some(true)` for `-o pipefail` or an option cluster
/// with `o` before it (`-euxo pipefail`), `Some(false)` for `+o pipefail`; the last one wins.
fn set_pipefail(cmd: &Command) -> Option<bool> {
    if cmd.program() != "set" {
        return None;
    }
    let args = cmd.args();
    let mut state = None;
    for (option, next) in args.iter().zip(args.iter().skip(1)) {
        let on = option.starts_with('-');
        let cluster = option.strip_prefix(['-', '+']).unwrap_or("");
        if next == "pipefail" && !cluster.starts_with('-') && cluster.contains('o') {
            state = Some(on);
        }
    }
    state
}

/// Does a stage build a Windows image? Its base image (through the stages of this file) is one
/// of Microsoft's Windows images, or the file uses the backtick escape that Windows Dockerfiles
/// take (a backslash is their path separator). Without a SHELL such a stage runs RUN under
/// `cmd /S /C`, not a POSIX shell.
fn windows_stage(file: &Dockerfile, stage: &Stage) -> bool {
    if file.escape == '`' {
        return true;
    }
    let image = root_image(file, stage).to_ascii_lowercase();
    image.starts_with("mcr.microsoft.com/windows")
        || image.starts_with("mcr.microsoft.com/dotnet/framework/")
        || ["nanoserver", "servercore"]
            .iter()
            .any(|w| image.contains(w))
}

fn pipefail(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.file.stages {
        // SHELL is part of the image configuration: a stage built on a stage of this file
        // starts with that stage's shell. Without one, the default: /bin/sh on Linux, and on
        // Windows cmd, which is not judged (as a SHELL naming cmd is not).
        let mut shell_has_pipefail = match stage_chain(c.file, s)
            .iter()
            .skip(1)
            .find_map(|base| c.file.in_stage(base, "SHELL").last())
        {
            Some((_, ins)) => shell_sets_pipefail(ins),
            None => windows_stage(c.file, s),
        };
        for &i in &s.body {
            let ins = c.file.instruction(i);
            if ins.onbuild {
                continue;
            }
            if ins.keyword == "SHELL" {
                shell_has_pipefail = shell_sets_pipefail(ins);
            }
            if ins.keyword != "RUN" {
                continue;
            }
            let protected = match &ins.exec {
                None => shell_has_pipefail,
                // The exec form does not use SHELL: only a POSIX shell it starts itself runs
                // the script, with the options written on its command line.
                Some(argv) => match exec_shell_command(argv) {
                    Some(shell) => shell.pipefail,
                    None => continue,
                },
            };
            if protected {
                continue;
            }
            // Only a `set` that runs before the pipe protects it.
            let mut script_has_pipefail = false;
            let cmds = commands(&script(ins));
            let unprotected = cmds.iter().find(|cmd| {
                if let Some(on) = set_pipefail(cmd) {
                    script_has_pipefail = on;
                }
                cmd.piped_to_next && !script_has_pipefail
            });
            if let Some(piped) = unprotected {
                let span = commands_span(ins, &[piped], out);
                out.hit(
                    "dockerfile-pipefail",
                    span,
                    c.stage_label(s),
                    "a pipe in RUN hides failures of the commands before it (no pipefail)",
                )
                .within(ins.span);
            }
        }
    }
}

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "ash", "dash", "ksh", "mksh", "python", "python2", "python3", "perl",
    "ruby", "node",
];

/// Interpreters that run a script read on standard input but whose `-c` is not a script
/// (`php -c` names an ini file): `curl -sS https://getcomposer.org/installer | php`.
const STDIN_INTERPRETERS: &[&str] = &["php"];

fn interprets_input(program: &str) -> bool {
    SHELLS.contains(&program) || STDIN_INTERPRETERS.contains(&program)
}

/// Commands that download: curl, wget, fetch, and PowerShell's web cmdlets (by name or alias,
/// in any letter case, run directly or on a `powershell -Command` line) and
/// `WebClient.DownloadString`.
fn downloads(cmd: &Command) -> bool {
    const WEB_CMDLETS: &[&str] = &["iwr", "irm", "invoke-webrequest", "invoke-restmethod"];
    let program = cmd.program().to_ascii_lowercase();
    let words: Vec<String> = cmd.words.iter().map(|w| w.to_ascii_lowercase()).collect();
    matches!(program.as_str(), "curl" | "wget" | "fetch")
        || WEB_CMDLETS.contains(&program.as_str())
        || (is_powershell(&program) && words.iter().any(|w| WEB_CMDLETS.contains(&w.as_str())))
        || words.iter().any(|w| w.contains("downloadstring"))
}

fn is_powershell(program: &str) -> bool {
    matches!(
        program,
        "powershell" | "powershell.exe" | "pwsh" | "pwsh.exe"
    )
}

/// PowerShell's `Invoke-Expression` (alias `iex`), which runs the text it is given as a script.
fn invokes_expression(cmd: &Command) -> bool {
    let p = cmd.program().to_ascii_lowercase();
    p == "iex" || p == "invoke-expression"
}

/// Does a command run what it reads on standard input as a script? A shell or interpreter,
/// also started through sudo or busybox (`| sudo -E bash -`, `| busybox sh`; `env bash` is
/// read as bash), or PowerShell's Invoke-Expression.
fn runs_input(cmd: &Command) -> bool {
    let p = cmd.program();
    interprets_input(p)
        || (matches!(p, "sudo" | "busybox") && cmd.args().iter().any(|w| interprets_input(w)))
        || invokes_expression(cmd)
}

/// Does a command pass what it reads on to its output unchanged, so that a download piped
/// through it reaches the next command as it was downloaded? `tee` does (it also writes a copy
/// to its files), and `cat` when it reads its input (no file, or `-`: `cat FILE` prints the
/// file instead). Filters that select or check (`grep`, `sha256sum -c`, `gpg --verify`) are not
/// counted: what they let through is not simply the download.
fn passes_input_on(cmd: &Command) -> bool {
    match cmd.program() {
        "tee" => true,
        "cat" => {
            let files: Vec<&String> = cmd
                .args()
                .iter()
                .filter(|w| *w == "-" || !w.starts_with('-'))
                .collect();
            files.is_empty() || files.iter().any(|w| *w == "-")
        }
        _ => false,
    }
}

/// The script a shell is given on its command line (`powershell -Command "a | b"`, `sh -c
/// "a | b"`), whose pipes are inside one quoted word of the outer script.
fn inline_script(cmd: &Command) -> Option<String> {
    let program = cmd.program().to_ascii_lowercase();
    let args = cmd.args();
    let flag = args.iter().position(|w| {
        let w = w.to_ascii_lowercase();
        w == "-c" || (is_powershell(&program) && w == "-command")
    })?;
    if is_powershell(&program) {
        // PowerShell joins every argument after -Command into the script.
        Some(args[flag + 1..].join(" "))
    } else if SHELLS.contains(&program.as_str()) {
        args.get(flag + 1).cloned()
    } else {
        None
    }
}

/// Where a script runs what it downloads without checking it, as a byte range of the script:
/// a download piped into an interpreter, a download substituted into a command line (`sh -c
/// "$(curl ...)"`, `iex (iwr ...)`), or either inside a script given to a shell with `-c` /
/// `-Command` (then the range is that shell's command).
fn downloaded_and_run(script: &str) -> Option<std::ops::Range<usize>> {
    let cmds = commands(script);
    let piped = cmds.iter().enumerate().find_map(|(i, download)| {
        if !download.piped_to_next || !downloads(download) {
            return None;
        }
        let after = &cmds[i + 1..];
        let passed_on = after
            .iter()
            .take_while(|cmd| cmd.piped_to_next && passes_input_on(cmd))
            .count();
        let runner = after.get(passed_on)?;
        runs_input(runner).then_some(download.start..runner.end)
    });
    if piped.is_some() {
        return piped;
    }
    let substituted = ["$(curl", "$(wget", "<(curl", "<(wget", "`curl"]
        .iter()
        .filter_map(|w| script.find(w).map(|i| i..i + w.len()))
        .min_by_key(|r| r.start);
    if substituted.is_some() {
        return substituted;
    }
    // `iex (iwr URL)`, `Invoke-Expression ((New-Object Net.WebClient).DownloadString(URL))`: the
    // reader splits at the parentheses, so the download is one of the commands after the `iex`
    // up to the end of its statement.
    for (i, iex) in cmds.iter().enumerate() {
        if !invokes_expression(iex)
            || !iex.args().is_empty()
            || !script[iex.end..].trim_start().starts_with('(')
        {
            continue;
        }
        let statement = cmds[i + 1..]
            .iter()
            .take_while(|next| !script[iex.end..next.start].contains([';', '|', '&', '\n']));
        if let Some(download) = statement.filter(|next| downloads(next)).last() {
            return Some(iex.start..download.end);
        }
    }
    cmds.iter()
        .find(|cmd| inline_script(cmd).is_some_and(|s| downloaded_and_run(&s).is_some()))
        .map(|cmd| cmd.start..cmd.end)
}

fn curl_pipe_shell(c: &Ctx<'_>, out: &mut Out<'_>) {
    for (n, ins, s) in c.runs().collect::<Vec<_>>() {
        let Some(at) = downloaded_and_run(&s) else {
            continue;
        };
        let span = script_span(ins, at, out);
        out.hit(
            "dockerfile-curl-pipe-shell",
            span,
            c.object_of(n),
            "a downloaded script is run without verification",
        )
        .within(ins.span);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn exec_shell_command_reads_the_shell_command_line() {
        for (words, script, pipefail) in [
            (&["sh", "-c", "x"][..], 2, false),
            (&["/bin/sh", "-ec", "x"], 2, false),
            (&["bash", "-euxc", "x", "arg0", "arg1"], 2, false),
            (&["bash", "-c", "-e", "x"], 3, false),
            (&["bash", "-o", "pipefail", "-c", "x"], 4, true),
            (&["bash", "-euo", "pipefail", "-c", "x"], 4, true),
            (
                &["bash", "-o", "pipefail", "+o", "pipefail", "-c", "x"],
                6,
                false,
            ),
            (
                &["bash", "--noprofile", "--rcfile", "f", "-c", "x"],
                5,
                false,
            ),
            (&["sh", "-c", "--", "-x"], 3, false),
            (&["busybox", "sh", "-c", "x"], 3, false),
            (&["/usr/bin/env", "A=1", "-i", "dash", "-c", "x"], 5, false),
            (&["C:\\msys64\\usr\\bin\\bash.exe", "-c", "x"], 2, false),
            // env's options that take the next word: it is their argument, not the program.
            (&["env", "-u", "HOME", "sh", "-c", "x"], 5, false),
            (&["env", "-C", "/app", "-i", "bash", "-c", "x"], 6, false),
            (
                &["env", "--unset", "HOME", "--chdir", "/", "sh", "-c", "x"],
                7,
                false,
            ),
            (&["env", "--un", "HOME", "sh", "-c", "x"], 5, false),
            (&["env", "-iu", "HOME", "A=1", "sh", "-c", "x"], 6, false),
            // Written in one word, the argument takes no other.
            (
                &["env", "-uHOME", "--unset=PATH", "-C/", "sh", "-c", "x"],
                6,
                false,
            ),
            // `-S` splits its argument into words that start the command (`#!/usr/bin/env -S`).
            (&["env", "-S", "bash -e", "-c", "x"], 4, false),
            (
                &["/usr/bin/env", "--split-string=-u HOME sh", "-c", "x"],
                3,
                false,
            ),
            (&["env", "--", "A=1", "sh", "-c", "x"], 5, false),
        ] {
            assert_eq!(
                exec_shell_command(&argv(words)),
                Some(ShellCommand { script, pipefail }),
                "{words:?}"
            );
        }
        for words in [
            &["sh", "script.sh"][..],
            &["sh", "-c"],
            &["sh", "-e", "script.sh", "-c"],
            &["pwsh", "-c", "x"],
            &["powershell", "-Command", "x"],
            &["curl", "-c", "jar", "https://x"],
            &["env"],
            &[],
            // The word after `-u` is the variable to unset, so the program is `-c`'s neighbour.
            &["env", "-u", "sh", "-c", "x"],
            // `-S` gives the command: here a program that is no shell, given `sh -c x` as its
            // arguments.
            &["env", "-S", "./run", "sh", "-c", "x"],
            // The script itself inside a `-S` string is no word of the argv.
            &["env", "-S", "sh -c x"],
            // After `--` a word starting with `-` is the program.
            &["env", "--", "-i", "sh", "-c", "x"],
        ] {
            assert_eq!(exec_shell_command(&argv(words)), None, "{words:?}");
        }
    }

    #[test]
    fn json_strings_know_where_each_character_is_written() {
        let written = r#"[ "a\"b" ,"\u00e9\ud83d\ude00x", ""]"#;
        let words = placed_json_strings(written, 100).unwrap();
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, vec!["a\"b", "é😀x", ""]);
        // `a` at 3, the escaped quote at 4 (two bytes written), `b` at 6, the end at 7.
        assert_eq!(words[0].at, vec![103, 104, 106]);
        assert_eq!(words[0].end, 107);
        // é: one six-byte escape; the emoji: a surrogate pair of twelve bytes.
        let x = words[1].text.find('x').unwrap();
        assert_eq!(words[1].offset(0), 111);
        assert_eq!(words[1].offset(x), 129);
        assert_eq!(words[2].end, 134);
        for broken in [
            r#"["a",]"#,
            r#"["a" "b"]"#,
            r#"["a\q"]"#,
            r#"["\ud83d"]"#,
            "[1]",
        ] {
            assert_eq!(placed_json_strings(broken, 0), None, "{broken}");
        }
    }

    #[test]
    fn exec_argv_is_read_back_as_its_words() {
        let argv = ["curl", "https://x/?a=1&b=2", "|", "it's", "", "T=a b"];
        let words: Vec<Placed> = argv.iter().map(|w| Placed::unplaced(w)).collect();
        let script = exec_script(&words).text;
        let cmds = commands(&script);
        assert_eq!(cmds.len(), 1, "{script}");
        assert_eq!(cmds[0].words, argv);
        // The value of an assignment-like word is quoted after its `NAME=`.
        assert!(script.ends_with(" T='a b'"), "{script}");
    }
}
