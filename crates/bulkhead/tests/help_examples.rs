//! Every example shown by `bulkhead ... --help` runs through the real binary, in a safe form.
//!
//! The examples are read from the help itself, rendered at 80 columns (the narrowest terminal
//! they are written for: a line clap had to wrap would show up here as a broken command), so a
//! new command or example is covered without touching this test. The unit tests in cli.rs check
//! that every command has examples and that each parses; this one checks that they work.
//!
//! Each command's examples run in order in a fresh directory holding the files they name: the
//! audit golden snapshot as snap.json, a cluster dump, a Dockerfile, manifests, a compose file
//! and risk acceptances. Safe means that nothing outside that directory is read or changed:
//! - audit, threats and report read the snapshot (`--snapshot snap.json` is added) instead of
//!   this host; with `--cluster-dump` they read empty `--root` and `--proc` directories instead;
//! - harden and verify work on a root directory of their own (`--root`, its etc/hostname that
//!   of the snapshot's host, so that `--apply` from the snapshot is allowed there), with the
//!   snapshot; verify's examples start from an apply made there;
//! - the run history, HOME and XDG_STATE_HOME are inside the directory; redirections are
//!   dropped (standard output is captured), and the programs around bulkhead in a pipeline
//!   (kubectl, man, gzip) are not run: kubectl's output is the cluster dump fixture.
//!
//! What cannot run without a real system is skipped and listed: an example that reads the live
//! Docker daemon (`collect` without a cluster dump, `--docker-host`), restarts one
//! (`--restart-daemon`), or needs a PostgreSQL server. Every other example must exit 0 or 1
//! (1 is a finding, which is what an audit or scan of the fixtures has) and print no error.

use bulkhead_testkit::TempDir;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_bulkhead"));
    // clap wraps help to the terminal's width; with no terminal (captured output) it reads
    // COLUMNS.
    c.env("COLUMNS", "80");
    c
}

/// The long help of the command at `path` (empty: the top level).
fn long_help(path: &[String]) -> String {
    let out = bin().args(path).arg("--help").output().unwrap();
    assert!(out.status.success(), "bulkhead {path:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The lines of a help section (`Commands:`, `Examples:`) up to the blank line that ends it.
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines()
        .skip_while(|l| *l != heading)
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect()
}

/// Every command path, found by walking the "Commands:" sections of the help; clap's own
/// `help` is left out.
fn command_paths() -> Vec<Vec<String>> {
    let mut paths = vec![Vec::new()];
    let mut i = 0;
    while i < paths.len() {
        let path: Vec<String> = paths[i].clone();
        let help = long_help(&path);
        for line in section(&help, "Commands:") {
            // An entry is indented by two spaces; a wrapped description by more.
            let Some(name) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) else {
                continue;
            };
            let name = name.split_whitespace().next().unwrap_or_default();
            if name != "help" {
                let mut sub = path.clone();
                sub.push(name.to_string());
                paths.push(sub);
            }
        }
        i += 1;
    }
    paths
}

/// The examples of a help text: each `#` comment line starts one; its command lines follow.
fn examples(help: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in section(help, "Examples:").into_iter().map(str::trim) {
        match line.strip_prefix('#') {
            Some(comment) => out.push((comment.trim().to_string(), Vec::new())),
            None => match out.last_mut() {
                Some((_, lines)) => lines.push(line.to_string()),
                None => out.push((String::new(), vec![line.to_string()])),
            },
        }
    }
    out
}

/// One simple command of a line: its `VAR=value` prefixes and its words, redirections dropped.
struct Simple {
    env: Vec<(String, String)>,
    argv: Vec<String>,
}

fn simple(words: &[String]) -> Simple {
    let mut env = Vec::new();
    let mut argv = Vec::new();
    let mut redirect = false;
    for w in words {
        if std::mem::take(&mut redirect) {
            continue;
        }
        match w.as_str() {
            ">" | ">>" | "<" | "2>" => redirect = true,
            _ if w.starts_with('>') || w.starts_with('<') => {}
            _ if argv.is_empty() && w.contains('=') && !w.starts_with('-') => {
                let (k, v) = w.split_once('=').unwrap();
                env.push((k.to_string(), v.to_string()));
            }
            _ => argv.push(w.clone()),
        }
    }
    Simple { env, argv }
}

/// The directory a command's examples run in, with the files they name.
struct Workdir {
    dir: TempDir,
}

impl Workdir {
    fn new() -> Workdir {
        let dir = TempDir::new("help-examples");
        let snapshot =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/audit/snapshot.json");
        std::fs::copy(&snapshot, dir.join("snap.json")).unwrap();
        let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  containers:\n  - name: web\n    image: nginx:1.25\n    securityContext:\n      privileged: true\n";
        let dump = format!(
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: shop\n- {}",
            pod.replace('\n', "\n  ").trim_end()
        );
        let files: [(&str, String); 6] = [
            ("cluster-dump.yaml", format!("{dump}\n")),
            (
                "Dockerfile",
                "FROM debian:12 AS build\nRUN echo build > /out\nFROM debian:12 AS runtime\nCOPY --from=build /out /out\nCMD [\"cat\", \"/out\"]\n".into(),
            ),
            ("k8s/pod.yaml", pod.to_string()),
            (
                "deploy/compose.yaml",
                "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n".into(),
            ),
            (
                "accept.yaml",
                "accept:\n  - threat: DKR-R01\n    reason: images are built and signed by CI only\n    owner: platform-team\n    expires: 2027-06-30\n".into(),
            ),
            // harden --apply from a snapshot is allowed only on the snapshot's host.
            ("root/etc/hostname", "lab-host\n".into()),
        ];
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        for d in ["empty/root", "empty/proc", "home", "state"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        Workdir { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.arg(name)
    }

    /// `argv` in its safe form, or why it cannot run here.
    fn safe_form(
        &self,
        argv: &[String],
        env: &BTreeMap<String, String>,
    ) -> Result<Vec<String>, String> {
        let has = |flag: &str| {
            argv.iter()
                .any(|a| a == flag || a.starts_with(&format!("{flag}=")))
        };
        let value = |flag: &str| {
            argv.iter()
                .position(|a| a == flag)
                .and_then(|i| argv.get(i + 1))
                .cloned()
        };
        if has("--docker-host") {
            return Err("names a live Docker daemon".into());
        }
        if has("--restart-daemon") {
            return Err("restarts a live dockerd".into());
        }
        let store = value("--store").or_else(|| env.get("BULKHEAD_STORE").cloned());
        if store.is_some_and(|s| s.starts_with("postgres")) {
            return Err("needs a PostgreSQL server".into());
        }
        let kubernetes_only = argv.iter().any(|a| a == "kubernetes" || a == "k8s");
        let mut out = argv.to_vec();
        let empty_host = [
            "--root".to_string(),
            self.path("empty/root"),
            "--proc".to_string(),
            self.path("empty/proc"),
        ];
        match argv.get(1).map(String::as_str) {
            Some("collect") if has("--cluster-dump") && kubernetes_only => out.extend(empty_host),
            Some("collect") => return Err("collects from the live Docker daemon".into()),
            Some("audit" | "threats" | "report") if !has("--snapshot") => {
                if !has("--cluster-dump") {
                    out.extend(["--snapshot".to_string(), self.path("snap.json")]);
                } else if kubernetes_only {
                    out.extend(empty_host);
                } else {
                    return Err("audits the live Docker daemon beside the cluster dump".into());
                }
            }
            Some("harden" | "verify") => {
                // Whatever root the example names, the changes land in this one.
                if let Some(i) = out.iter().position(|a| a == "--root") {
                    out.drain(i..(i + 2).min(out.len()));
                }
                out.extend(["--root".to_string(), self.path("root")]);
                if !has("--snapshot") {
                    out.extend(["--snapshot".to_string(), self.path("snap.json")]);
                }
            }
            _ => {}
        }
        Ok(out)
    }

    fn command(&self, argv: &[String], env: &BTreeMap<String, String>) -> Command {
        let mut c = bin();
        c.args(&argv[1..]).current_dir(&*self.dir);
        for var in [
            "DOCKER_HOST",
            "DOCKER_CONTEXT",
            "DOCKER_CONFIG",
            "BULKHEAD_STORE",
        ] {
            c.env_remove(var);
        }
        c.env("HOME", self.path("home"))
            .env("XDG_STATE_HOME", self.path("state"))
            .env("NO_COLOR", "1");
        c.envs(env);
        c
    }
}

/// What became of the examples, for the assertions and the test's output.
#[derive(Default)]
struct Tally {
    ran: usize,
    skipped: Vec<String>,
    failures: Vec<String>,
}

/// Run one example line in `w`. `env` holds what earlier `export` lines of the same example set.
fn run_line(w: &Workdir, line: &str, env: &mut BTreeMap<String, String>, tally: &mut Tally) {
    let words = bulkhead_testkit::shell::words(line);
    // `&&`, `||` and `;` separate pipelines; `|` separates the commands of one.
    for pipeline in words.split(|x| matches!(x.as_str(), "&&" | "||" | ";")) {
        let commands: Vec<Simple> = pipeline.split(|x| x == "|").map(simple).collect();
        let mut stdin: Option<Vec<u8>> = None;
        let mut failed = false;
        for (i, c) in commands.iter().enumerate() {
            match c.argv.first().map(String::as_str) {
                Some("export") => {
                    for kv in &c.argv[1..] {
                        if let Some((k, v)) = kv.split_once('=') {
                            env.insert(k.to_string(), v.to_string());
                        }
                    }
                }
                Some("bulkhead") => {
                    let mut env_here = env.clone();
                    env_here.extend(c.env.iter().cloned());
                    let argv = match w.safe_form(&c.argv, &env_here) {
                        Ok(a) => a,
                        Err(why) => {
                            tally.skipped.push(format!("`{line}`: {why}"));
                            continue;
                        }
                    };
                    let mut cmd = w.command(&argv, &env_here);
                    cmd.stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped());
                    let mut child = cmd.spawn().unwrap();
                    let input = stdin.take().unwrap_or_default();
                    child.stdin.take().unwrap().write_all(&input).unwrap();
                    let out = child.wait_with_output().unwrap();
                    tally.ran += 1;
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    let ok = matches!(out.status.code(), Some(0 | 1)) && !stderr.contains("error:");
                    if !ok {
                        tally.failures.push(format!(
                            "`{line}` ran as `{}`: exit {:?}\n{stderr}",
                            argv.join(" "),
                            out.status.code()
                        ));
                    }
                    failed |= out.status.code() != Some(0);
                }
                // A program feeding bulkhead (kubectl get ... -o yaml): its output is the
                // cluster dump. One reading bulkhead's output (man, gzip) is not run.
                Some(_) if i + 1 < commands.len() => {
                    stdin = Some(std::fs::read(w.dir.join("cluster-dump.yaml")).unwrap());
                }
                _ => {}
            }
        }
        // As the shell does, `a && b` stops after a command that did not succeed.
        if failed && line.contains("&&") {
            break;
        }
    }
}

#[test]
fn every_example_in_the_help_runs() {
    let mut tally = Tally::default();
    for path in command_paths() {
        let help = long_help(&path);
        let w = Workdir::new();
        if path == ["verify"] {
            // verify compares with what an apply recorded: make one, as its examples assume.
            let setup: Vec<String> = ["bulkhead", "harden", "docker", "--apply"]
                .map(String::from)
                .to_vec();
            let argv = w.safe_form(&setup, &BTreeMap::new()).unwrap();
            let out = w.command(&argv, &BTreeMap::new()).output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "setting up verify: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for (_, lines) in examples(&help) {
            let mut env = BTreeMap::new();
            for line in &lines {
                run_line(&w, line, &mut env, &mut tally);
            }
        }
    }
    eprintln!("{} example commands ran", tally.ran);
    for s in &tally.skipped {
        eprintln!("skipped {s}");
    }
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n\n"));
    assert!(
        tally.ran >= 30,
        "only {} example commands ran; skipped: {:#?}",
        tally.ran,
        tally.skipped
    );
}

/// Generated text read through a pipe the reader closes early (`bulkhead completions bash |
/// head`) ends quietly, as every other output does, instead of panicking.
#[test]
fn completions_and_man_end_quietly_on_a_closed_pipe() {
    for args in [&["completions", "bash"][..], &["man"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before anything is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}
