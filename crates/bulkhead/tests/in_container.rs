//! bulkhead's own container image auditing the Docker host it runs on, run with exactly the
//! `docker run` command deploy/README.md documents ("On a Docker host"), against the testkit's
//! private daemons (never the system's).
//!
//! The image is deploy/Containerfile's, made without a registry: instead of `FROM debian:12-slim`
//! it holds the bulkhead binary under test and the shared libraries it loads, imported with the
//! Containerfile's other instructions (`LABEL`, `USER`, `ENTRYPOINT`, ...) as `--change`s, read
//! from the Containerfile itself so that the two cannot drift apart.
//!
//! Two daemons run: the audited one, and a decoy with another configuration, because a host (and
//! this test machine, running other tests' daemons) may run several dockerd processes and the one
//! serving the mounted socket must be told apart from the others although its socket has another
//! path inside the container than on the host's command line.
//!
//! Without CI=true a machine that cannot run dockerd (no docker.io, not root) skips the live test
//! with a printed reason; under CI=true that is a failure.

use bulkhead_testkit::image::{program_with_libraries, rootfs_tar_of};
use bulkhead_testkit::{shell, ContainerSpec, DaemonOptions, TestDockerd};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// bulkhead_facts::docker::SELF_LABEL, spelled as users spell it.
const SELF_LABEL: &str = "io.bulkhead.self";

/// The image reference of the Containerfile's build command (`-t bulkhead:0.1.0`), as the
/// documented command names it.
const DOCUMENTED_IMAGE: &str = "bulkhead:0.1.0";

/// The image the test builds in place of it, on the audited daemon only.
const TEST_IMAGE: &str = "bulkhead-test/in-container:1";

/// The daemon socket as the documented command mounts it (`-v SOURCE:TARGET`).
const DOCUMENTED_SOCKET: &str = "/var/run/docker.sock";

/// The container name the documented command gives.
const DOCUMENTED_NAME: &str = "bulkhead-audit";

/// A test container of the audited daemon, which must be audited.
const WEB: &str = "web";

/// The log levels of the two daemons' daemon.json: 2.3 must report the audited daemon's.
const AUDITED_LOG_LEVEL: &str = "warn";
const DECOY_LOG_LEVEL: &str = "debug";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_repo_file(rel: &str) -> String {
    let p = repo_root().join(rel);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// What deploy/Containerfile makes of the binary: where its COPY puts it, and the image
/// instructions that `docker import --change` applies.
struct ContainerfileImage {
    binary_in_image: String,
    changes: Vec<String>,
}

fn containerfile_image() -> ContainerfileImage {
    let text = read_repo_file("deploy/Containerfile");
    let mut binary_in_image = None;
    let mut changes = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (instruction, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        match instruction.to_ascii_uppercase().as_str() {
            // Replaced by the binary's own libraries: no registry to pull the base from.
            "FROM" => {}
            "COPY" => {
                let words: Vec<&str> = rest.split_whitespace().collect();
                assert_eq!(
                    words.first(),
                    Some(&"target/release/bulkhead"),
                    "deploy/Containerfile copies something else than the binary: {line}"
                );
                binary_in_image = words.last().map(|s| s.to_string());
            }
            "LABEL" | "USER" | "ENTRYPOINT" | "CMD" | "HEALTHCHECK" | "ENV" | "WORKDIR" => {
                changes.push(line.to_string())
            }
            other => panic!(
                "deploy/Containerfile has a {other} instruction this test cannot reproduce with \
                 `docker import --change`; teach the test what it does: {line}"
            ),
        }
    }
    ContainerfileImage {
        binary_in_image: binary_in_image.expect("deploy/Containerfile COPYs the binary"),
        changes,
    }
}

/// The `docker run` command of deploy/README.md's "On a Docker host" section, split into words
/// as the shell would (continuation lines joined).
fn documented_command() -> Vec<String> {
    let readme = read_repo_file("deploy/README.md");
    let section = readme
        .split("\n## On a Docker host\n")
        .nth(1)
        .expect("deploy/README.md has a section \"On a Docker host\"");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the section shows the command in a ```sh block");
    let words = shell::words(&block.replace("\\\n", " "));
    assert_eq!(
        &words[..2],
        ["docker", "run"],
        "the documented command is a docker run: {block}"
    );
    words
}

/// The documented command as the test runs it: only the image name and the socket's source path
/// replaced (the socket keeps its documented path inside the container), and the arguments after
/// the image replaced by `args` when given.
fn command_for_test(socket_source: &Path, args: Option<&[&str]>) -> Vec<String> {
    let mut words = documented_command();
    let documented_mount = format!("{DOCUMENTED_SOCKET}:{DOCUMENTED_SOCKET}");
    let mounts = words.iter().filter(|w| **w == documented_mount).count();
    assert_eq!(
        mounts, 1,
        "the command mounts {documented_mount}: {words:?}"
    );
    for w in words.iter_mut() {
        if *w == documented_mount {
            *w = format!("{}:{DOCUMENTED_SOCKET}", socket_source.display());
        }
    }
    let image = words
        .iter()
        .position(|w| w == DOCUMENTED_IMAGE)
        .unwrap_or_else(|| panic!("the command runs {DOCUMENTED_IMAGE}: {words:?}"));
    words[image] = TEST_IMAGE.to_string();
    if let Some(args) = args {
        words.truncate(image + 1);
        words.extend(args.iter().map(|s| s.to_string()));
    }
    words
}

/// Removes what the test made on the audited daemon, also when an assertion fails: the
/// bulkhead container (if `--rm` did not get to it), the test containers and the image. The
/// daemons themselves, their directories and everything in them go when they are dropped.
struct Cleanup<'a> {
    d: &'a TestDockerd,
    containers: Vec<String>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        self.d.remove(DOCUMENTED_NAME);
        for c in &self.containers {
            self.d.remove(c);
        }
        self.d.remove_image(TEST_IMAGE);
    }
}

/// One run of the documented container.
struct ContainerRun {
    words: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Display for ContainerRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.stdout.chars().take(4000).collect();
        write!(
            f,
            "$ {}\nexit {}\n--- stderr\n{}\n--- stdout (first 4000 chars)\n{head}",
            self.words.join(" "),
            self.code,
            self.stderr
        )
    }
}

fn run_container(d: &TestDockerd, words: &[String]) -> ContainerRun {
    let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
    let out = d
        .docker_cli(&args)
        .unwrap_or_else(|e| panic!("{e} (CI=true needs the docker CLI)"));
    ContainerRun {
        words: words.to_vec(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn results_by_id(doc: &Value) -> BTreeMap<String, Value> {
    doc["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .map(|r| (r["id"].as_str().expect("id").to_string(), r.clone()))
        .collect()
}

fn container_names(result: &Value) -> Vec<String> {
    result["objects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|o| o["kind"] == "container")
        .filter_map(|o| o["name"].as_str().map(String::from))
        .collect()
}

/// Everything a result says, for "does it name X" assertions.
fn said(result: &Value) -> String {
    result.to_string()
}

#[test]
fn the_containerfile_marks_bulkheads_own_container() {
    let image = containerfile_image();
    let label = image
        .changes
        .iter()
        .find(|c| c.starts_with("LABEL "))
        .unwrap_or_else(|| {
            panic!("deploy/Containerfile sets no LABEL; it needs {SELF_LABEL}=\"true\"")
        });
    assert_eq!(label, &format!("LABEL {SELF_LABEL}=\"true\""));
    let entrypoint = image
        .changes
        .iter()
        .find(|c| c.starts_with("ENTRYPOINT "))
        .expect("an ENTRYPOINT");
    assert!(
        entrypoint.contains(&format!("\"{}\"", image.binary_in_image)),
        "the entrypoint runs the copied binary: {entrypoint}"
    );
}

#[test]
fn the_documented_container_audits_the_host_and_the_daemon_behind_its_socket() {
    // The decoy first, so that two dockerd processes run whatever else this machine runs.
    let Some(decoy) = TestDockerd::start_with(
        DaemonOptions::default().daemon_json(json!({ "log-level": DECOY_LOG_LEVEL })),
    ) else {
        return;
    };
    let Some(d) = TestDockerd::start_with(
        DaemonOptions::default().daemon_json(json!({ "log-level": AUDITED_LOG_LEVEL })),
    ) else {
        return;
    };
    let mut cleanup = Cleanup {
        d: &d,
        containers: Vec::new(),
    };
    cleanup.containers.push(d.run(WEB, &ContainerSpec::new()));
    // A container on the decoy must not show up in the audit of the other daemon.
    decoy.run("decoy-web", &ContainerSpec::new());

    let image = containerfile_image();
    let files = program_with_libraries(
        Path::new(env!("CARGO_BIN_EXE_bulkhead")),
        &image.binary_in_image,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let tar = rootfs_tar_of(&files).unwrap_or_else(|e| panic!("{e}"));
    let changes: Vec<&str> = image.changes.iter().map(String::as_str).collect();
    d.import_tar(TEST_IMAGE, &changes, &tar);
    drop(tar);

    let socket = d.socket_path();
    let config = d.config_file().display().to_string();
    let data_root = d.data_root().display().to_string();
    let socket_path = socket.display().to_string();

    // --- The JSON audit, exactly as documented.
    let words = command_for_test(&socket, None);
    let run = run_container(&d, &words);
    assert!(
        run.code == 0 || run.code == 1,
        "the audit ran (exit 0 or 1)\n{run}"
    );
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}\n{run}"));
    let by_id = results_by_id(&doc);
    assert_eq!(doc["target"]["kind"], "docker", "{run}");
    assert_eq!(doc["target"]["local"], true, "{}", doc["target"]);
    assert_eq!(
        doc["target"]["endpoint"],
        format!("unix://{DOCUMENTED_SOCKET}"),
        "{}",
        doc["target"]
    );
    assert!(
        !run.stdout.contains("remote daemon"),
        "no result may call the daemon behind a mounted socket remote\n{run}"
    );

    // bulkhead's own container is left out; the daemon's other container is audited.
    for (id, r) in &by_id {
        assert!(
            !container_names(r).contains(&DOCUMENTED_NAME.to_string()),
            "{id} audits bulkhead's own container: {}",
            said(r)
        );
        assert!(
            !container_names(r).contains(&"decoy-web".to_string()),
            "{id} audits a container of another daemon: {}",
            said(r)
        );
    }
    assert_eq!(
        container_names(&by_id["5.13"]),
        [WEB],
        "5.13 judges the running test container: {}",
        said(&by_id["5.13"])
    );

    // Section 2 comes from the audited daemon's own flags and daemon.json.
    let log_level = &by_id["2.3"];
    assert_eq!(log_level["status"], "fail", "{}", said(log_level));
    let evidence = &log_level["objects"][0]["evidence"];
    assert_eq!(
        (evidence["actual"].as_str(), evidence["field"].as_str()),
        (
            Some(AUDITED_LOG_LEVEL),
            Some(format!("{config} log-level").as_str())
        ),
        "2.3 reports the audited daemon's log level from its daemon.json, not the decoy's \
         {DECOY_LOG_LEVEL:?}: {}",
        said(log_level)
    );
    assert_eq!(
        log_level["objects"][0]["name"],
        format!("dockerd (pid {})", d.pid()),
        "{}",
        said(log_level)
    );
    // The harness starts every test daemon with --iptables=false.
    let iptables = &by_id["2.4"];
    assert_eq!(iptables["status"], "fail", "{}", said(iptables));
    for (id, r) in by_id.iter().filter(|(_, r)| r["section"] == "2") {
        assert_ne!(r["status"], "error", "{id}: {}", said(r));
        let why = r["message"].as_str().unwrap_or_default();
        assert!(
            !(r["status"] == "not_applicable" && why.contains("dockerd")),
            "{id} could not find the daemon: {}",
            said(r)
        );
    }

    // Sections 1 and 3: the audited daemon's files, read under /host.
    let containerd_socket = d.containerd_socket().display().to_string();
    let file_checks: Vec<(&str, &str)> = vec![
        ("1.1.1", data_root.as_str()),
        ("1.1.11", config.as_str()),
        // The containerd this daemon started, not the decoy's.
        ("3.23", containerd_socket.as_str()),
        ("3.15", socket_path.as_str()),
        ("3.16", socket_path.as_str()),
        ("3.17", config.as_str()),
        ("3.18", config.as_str()),
    ];
    for (id, path) in file_checks {
        let r = &by_id[id];
        assert!(
            r["status"] == "pass" || r["status"] == "fail",
            "{id} is evaluated: {}",
            said(r)
        );
        assert!(said(r).contains(path), "{id} names {path}: {}", said(r));
    }

    let errors: Vec<String> = by_id
        .iter()
        .filter(|(_, r)| r["status"] == "error")
        .map(|(id, r)| format!("{id}: {}", r["message"]))
        .collect();
    assert!(
        errors.is_empty(),
        "checks that could not be evaluated:\n{}",
        errors.join("\n")
    );

    // --- The text report of the same command.
    let text = run_container(
        &d,
        &command_for_test(&socket, Some(&["audit", "docker", "--root", "/host"])),
    );
    assert!(text.code == 0 || text.code == 1, "{text}");
    assert!(
        text.stdout.contains("[FAIL] 2.3 - ") && text.stdout.contains(AUDITED_LOG_LEVEL),
        "{text}"
    );
    // bulkhead's own container is named only where the report says what it left out, and why.
    let (left_out, rest): (Vec<&str>, Vec<&str>) = text
        .stdout
        .lines()
        .partition(|l| l.starts_with("# containers: "));
    assert!(
        left_out.len() == 1
            && left_out[0].contains(&format!("{DOCUMENTED_NAME} (bulkhead's own container")),
        "{text}"
    );
    assert!(
        !rest
            .iter()
            .any(|l| l.contains(DOCUMENTED_NAME) || l.contains("remote daemon")),
        "{text}"
    );
    assert!(text.stdout.contains(&format!("container {WEB}")), "{text}");

    // --- The snapshot: which daemon process was chosen, the own container listed as skipped
    // with the reason, and the host's listening sockets (not the container's, which has none).
    let host_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let host_port = host_listener.local_addr().unwrap().port();
    let collect = run_container(
        &d,
        &command_for_test(&socket, Some(&["collect", "docker", "--root", "/host"])),
    );
    assert_eq!(collect.code, 0, "{collect}");
    let snapshot: Value = serde_json::from_str(&collect.stdout)
        .unwrap_or_else(|e| panic!("the snapshot is not JSON: {e}\n{collect}"));
    let daemon = &snapshot["docker"]["daemon"];
    assert_eq!(
        daemon["process"]["value"]["pid"],
        d.pid(),
        "the audited daemon's process (pid {}; the decoy is pid {}): {}",
        d.pid(),
        decoy.pid(),
        daemon["process_reason"]
    );
    let skipped = snapshot["docker"]["selection"]["skipped"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let own = skipped
        .iter()
        .find(|s| s["name"] == DOCUMENTED_NAME)
        .unwrap_or_else(|| {
            panic!(
                "bulkhead's own container is listed as skipped: {}",
                snapshot["docker"]["selection"]
            )
        });
    assert!(
        own["reason"]
            .as_str()
            .unwrap_or_default()
            .contains(SELF_LABEL),
        "{own}"
    );
    let listeners = snapshot["host"]["listeners"]["value"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        listeners
            .iter()
            .any(|l| l["port"] == host_port && l["address"] == "127.0.0.1"),
        "the host's listener 127.0.0.1:{host_port} is among the listening sockets: {}",
        snapshot["host"]["listeners"]
    );
    drop(host_listener);

    // --- Audit rules. The documented command reads the rule files under /host: listing the
    // kernel's rules needs CAP_AUDIT_CONTROL, which it leaves out, and the reason says how to
    // add it. With the capability added, /host is recognised as the root the daemon runs on, so
    // the kernel's loaded rules are read, a rule loaded by hand (in no file) among them.
    let rules = &snapshot["host"]["audit"]["value"];
    assert_eq!(rules["source"], "files", "{}", snapshot["host"]["audit"]);
    assert!(
        rules["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("--cap-add AUDIT_CONTROL"),
        "{rules}"
    );
    let rule = bulkhead_testkit::KernelAuditRules::new("bulkhead-in-container");
    rule.add(&["-w", &d.data_root().display().to_string(), "-p", "wa"]);
    let mut with_audit_control =
        command_for_test(&socket, Some(&["collect", "docker", "--root", "/host"]));
    let cap_drop = with_audit_control
        .iter()
        .position(|w| w == "--cap-drop")
        .expect("the command drops capabilities");
    with_audit_control.splice(
        cap_drop..cap_drop,
        ["--cap-add".into(), "AUDIT_CONTROL".into()],
    );
    let collect = run_container(&d, &with_audit_control);
    assert_eq!(collect.code, 0, "{collect}");
    let snapshot: Value = serde_json::from_str(&collect.stdout)
        .unwrap_or_else(|e| panic!("the snapshot is not JSON: {e}\n{collect}"));
    let rules = &snapshot["host"]["audit"]["value"];
    assert_eq!(rules["source"], "kernel", "{}", snapshot["host"]["audit"]);
    assert!(
        rules["rules"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["key"] == rule.key())),
        "the rule loaded by hand is listed: {rules}"
    );
    drop(cleanup);
}
