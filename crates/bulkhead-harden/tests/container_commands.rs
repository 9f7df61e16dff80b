//! The `docker run` command a container fix prints: terminal-safe and exact whatever the
//! container's creator put in its command, environment and labels, and without the
//! `label=disable` Docker added for a host namespace or privileged mode the fix removes.
//! Inspect documents are built in code; the last test reads a real container from the
//! testkit's private dockerd.

mod common;

use bulkhead_checks::{catalog, Audit, AuditOptions, Context, Selection};
use bulkhead_collect::{CollectOptions, ContainerFilter, Want};
use bulkhead_facts::docker::*;
use bulkhead_facts::Fact;
use bulkhead_harden::{plan, render, shell, Fix, PlanRequest};
use bulkhead_testkit::{ContainerSpec, TestDockerd};
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

fn container(name: &str, edit: impl FnOnce(&mut Container)) -> ContainerFacts {
    running_container(name, "bb", &["/bin/sleep", "100000"], edit)
}

fn request(root: &Path) -> PlanRequest {
    PlanRequest {
        root: Some(root.to_path_buf()),
        threat_links: Some(vec![]),
        ..Default::default()
    }
}

/// The docker-run fix planned for `c` failing the controls `failing` (1.6.0 numbering).
fn run_fix(root: &Path, c: &ContainerFacts, failing: &[&str]) -> Fix {
    let mut snap = snapshot(root);
    snap.docker.as_mut().unwrap().containers = Fact::Value(vec![c.clone()]);
    let audit = docker_audit(
        "1.6.0",
        failing
            .iter()
            .map(|id| (*id, fail_containers(std::slice::from_ref(c))))
            .collect(),
    );
    let p = plan(&snap, &[audit], &request(root)).unwrap();
    p.fix(&format!("docker-run:{}", c.name()))
        .unwrap_or_else(|| panic!("no run fix: {:#?}", p.unfixed))
        .clone()
}

fn run_argv(f: &Fix) -> &[String] {
    &f.action
        .steps
        .iter()
        .find(|s| s.argv[1] == "run" || s.argv[1] == "create")
        .expect("a docker run step")
        .argv
}

/// `printf '%s\0'` of the quoted words, run by a real bash (our own test text only), split at
/// the NULs.
fn through_bash(quoted: &str) -> Vec<Vec<u8>> {
    let out = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c"])
        .arg(format!("printf '%s\\0' {quoted}"))
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("LC_ALL", "C")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut words: Vec<Vec<u8>> = out.stdout.split(|b| *b == 0).map(<[u8]>::to_vec).collect();
    assert_eq!(words.pop(), Some(Vec::new()));
    words
}

/// No control byte (other than the line breaks between lines) and no character that acts on
/// a terminal or hides itself.
fn assert_terminal_safe(text: &str) {
    for line in text.lines() {
        assert!(
            !line.bytes().any(|b| b < 0x20 || b == 0x7f),
            "control byte in {line:?}"
        );
        assert!(
            !line.chars().any(shell::needs_escape),
            "unsafe character in {line:?}"
        );
    }
}

/// `docker run -d --name esc bb /bin/sh -c "sleep 100000; echo $(printf '\033[31mRED\033[0m')"`
/// and friends: whoever creates the container chooses this text, and an admin is told to run
/// the command.
#[test]
fn recreate_command_with_escape_sequences_is_terminal_safe_and_runs_the_same_words() {
    let root = temp_root("esc");
    let script = "sleep 100000; echo \x1b[31mRED\x1b[0m\r";
    let c = container("esc", |c| {
        c.config.cmd = Some(vec!["/bin/sh".into(), "-c".into(), script.into()]);
        c.config.env = vec![
            "NOTE=line one\nline two\ttabbed".into(),
            "FILE=invoice\u{202e}fdp.exe".into(),
        ];
        c.config.labels = BTreeMap::from([(
            "title".into(),
            "\x1b]0;owned\x07\u{9b}2J\u{200b}\x7f".into(),
        )]);
        c.config.working_dir = "/srv/\x1b[2Kapp".into();
    });
    let f = run_fix(&root, &c, &["docker.container.read_only_rootfs"]);
    let run = run_argv(&f);
    assert!(run.iter().any(|w| w == script), "{run:?}");
    let text = f.command().unwrap();
    assert_terminal_safe(&text);
    let line = text
        .lines()
        .find(|l| l.starts_with("docker run"))
        .expect("the run line");
    assert!(
        line.ends_with(r"bb /bin/sh -c $'sleep 100000; echo \e[31mRED\e[0m\r'"),
        "{line}"
    );
    // Pasted into bash, the line is exactly the planned words, byte for byte.
    let expected: Vec<Vec<u8>> = run.iter().map(|w| w.as_bytes().to_vec()).collect();
    assert_eq!(through_bash(line), expected, "{line}");
    assert_eq!(&shell::split(line).unwrap(), run);
    // The printed plan (what `bulkhead harden` shows) is terminal-safe as well.
    let snap_plan = {
        let mut snap = snapshot(&root);
        snap.docker.as_mut().unwrap().containers = Fact::Value(vec![c.clone()]);
        let audit = docker_audit(
            "1.6.0",
            vec![(
                "docker.container.read_only_rootfs",
                fail_containers(std::slice::from_ref(&c)),
            )],
        );
        plan(&snap, &[audit], &request(&root)).unwrap()
    };
    let shown = render::text(&snap_plan, true);
    assert!(shown.contains(r"\e[31mRED\e[0m\r"), "{shown}");
    assert_terminal_safe(&shown);
}

#[test]
fn label_disable_docker_added_for_host_pid_goes_with_host_pid() {
    let root = temp_root("pid-label");
    let c = container("priv", |c| {
        c.host_config.pid_mode = "host".into();
        c.host_config.security_opt = Some(vec!["label=disable".into()]);
    });
    let f = run_fix(
        &root,
        &c,
        &[
            "docker.container.no_host_pid",
            "docker.container.no_host_ipc",
            "docker.container.no_host_uts",
            "docker.container.no_host_userns",
        ],
    );
    let line = shell::join(run_argv(&f));
    assert_eq!(
        line, "docker run --detach --name priv bb /bin/sleep 100000",
        "{line}"
    );
    assert!(
        f.notes.iter().any(|n| n.contains("label=disable")
            && n.contains("--pid host")
            && n.contains("add it back by hand")),
        "{:?}",
        f.notes
    );
}

#[test]
fn label_disable_old_spelling_goes_with_privileged_and_host_ipc() {
    let root = temp_root("priv-label");
    let c = container("both", |c| {
        c.host_config.privileged = true;
        c.host_config.ipc_mode = "host".into();
        c.host_config.security_opt =
            Some(vec!["label:disable".into(), "apparmor=unconfined".into()]);
    });
    let f = run_fix(
        &root,
        &c,
        &[
            "docker.container.not_privileged",
            "docker.container.no_host_ipc",
        ],
    );
    let line = shell::join(run_argv(&f));
    assert!(!line.contains("label"), "{line}");
    assert!(
        !line.contains("--privileged") && !line.contains("--ipc"),
        "{line}"
    );
    // Other security options stay.
    assert!(
        line.contains("--security-opt apparmor=unconfined"),
        "{line}"
    );
    assert!(
        f.notes
            .iter()
            .any(|n| n.contains("label:disable") && n.contains("--privileged and --ipc host")),
        "{:?}",
        f.notes
    );
}

#[test]
fn label_disable_is_kept_while_a_cause_stays() {
    let root = temp_root("keep-label");
    // Host PID goes, but the container stays privileged (5.4 not selected) or keeps the host's
    // IPC namespace: Docker would add label=disable again anyway, and the command says so.
    for (name, edit) in [
        (
            "priv-pid",
            Box::new(|c: &mut Container| {
                c.host_config.privileged = true;
                c.host_config.pid_mode = "host".into();
            }) as Box<dyn Fn(&mut Container)>,
        ),
        (
            "ipc-pid",
            Box::new(|c: &mut Container| {
                c.host_config.ipc_mode = "host".into();
                c.host_config.pid_mode = "host".into();
            }),
        ),
    ] {
        let c = container(name, |c| {
            edit(c);
            c.host_config.security_opt = Some(vec!["label=disable".into()]);
        });
        let f = run_fix(&root, &c, &["docker.container.no_host_pid"]);
        let line = shell::join(run_argv(&f));
        assert!(line.contains("--security-opt label=disable"), "{line}");
        assert!(!line.contains("--pid"), "{line}");
        assert!(
            !f.notes.iter().any(|n| n.contains("label=disable")),
            "{:?}",
            f.notes
        );
    }
    // Without any cause, label=disable was asked for: it stays.
    let c = container("asked", |c| {
        c.host_config.security_opt = Some(vec!["label=disable".into()]);
    });
    let f = run_fix(&root, &c, &["docker.container.no_host_pid"]);
    assert!(shell::join(run_argv(&f)).contains("--security-opt label=disable"));
}

/// A real container created with `--pid host` (the test dockerd adds `label=disable` itself):
/// the planned command for 5.16, 5.17, 5.21 and 5.31 (1.6.0) drops both.
#[test]
fn real_host_pid_container_is_recreated_without_label_disable() {
    let Some(d) = TestDockerd::shared() else {
        return;
    };
    d.ensure_image();
    let name = "bh-cmd-hostpid";
    let _ = d.docker_cli(&["rm", "-f", name]);
    d.run(name, &ContainerSpec::new().pid_mode("host"));
    let root = temp_root("real-pid");
    let snap = bulkhead_collect::collect(&CollectOptions {
        root: root.to_path_buf(),
        docker: Want::Required,
        docker_host: Some(d.docker_host()),
        containers: ContainerFilter {
            include: vec![format!("^{name}$")],
            ..Default::default()
        },
        kubernetes: Want::Skip,
        ..Default::default()
    })
    .expect("collection from the test dockerd");
    let c = snap
        .docker
        .as_ref()
        .unwrap()
        .containers
        .value()
        .unwrap()
        .iter()
        .find(|c| c.name() == name)
        .expect("the container")
        .clone();
    let added = c
        .inspect
        .host_config
        .security_opt
        .iter()
        .flatten()
        .any(|o| o == "label=disable");
    eprintln!(
        "the daemon set SecurityOpt {:?}",
        c.inspect.host_config.security_opt
    );
    let selected = ["5.16", "5.17", "5.21", "5.31"];
    let opts = AuditOptions::default();
    let ctx = Context::new(&snap, &opts);
    let audit: Audit = bulkhead_checks::run(
        catalog().docker(),
        "1.6.0",
        &ctx,
        &Selection::new(selected.iter().map(|s| s.to_string()).collect(), vec![]),
    );
    let request = PlanRequest {
        select: selected.iter().map(|s| s.to_string()).collect(),
        root: Some(root.to_path_buf()),
        threat_links: Some(vec![]),
        ..Default::default()
    };
    let p = plan(&snap, std::slice::from_ref(&audit), &request).unwrap();
    let f = p
        .fix(&format!("docker-run:{name}"))
        .unwrap_or_else(|| panic!("no run fix: {:#?}", p.unfixed));
    let line = shell::join(run_argv(f));
    assert!(!line.contains("--pid"), "{line}");
    assert!(!line.contains("label=disable"), "{line}");
    if added {
        assert!(
            f.notes.iter().any(|n| n.contains("label=disable")),
            "{:?}",
            f.notes
        );
    }
    let _ = d.docker_cli(&["rm", "-f", name]);
}
