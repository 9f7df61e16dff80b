//! Shared by the end-to-end tests of `bulkhead audit`: running the real binary with a clean
//! environment, and the lab of containers on the testkit's private dockerd (never the user's).
//!
//! The lab is small on purpose: each container stands for one thing the command line must get
//! right (a default container, a hardened one, a created-only one, a labelled one holding a
//! secret, bulkhead's own container, and one whose bind mount source is a hostile path). The
//! per-check verdicts on many more container shapes are tested at library level in
//! bulkhead-collect's tests; here we test what a user and a CI system see.

#![allow(dead_code)] // each test binary uses a different part of this module

use bulkhead_testkit::{ContainerSpec, TestDockerd};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::sync::{OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The bulkhead binary Cargo built for these tests.
pub fn bulkhead() -> &'static str {
    env!("CARGO_BIN_EXE_bulkhead")
}

/// Names of the lab's containers.
pub const PLAIN: &str = "plain";
pub const HARDENED: &str = "hardened";
pub const CREATED: &str = "created";
pub const LABELLED: &str = "labelled";
pub const SELF: &str = "self";
pub const HOSTILE: &str = "hostile";

/// The label that marks bulkhead's own container (documented; spelled as users spell it).
pub const SELF_LABEL: &str = "io.bulkhead.self";

/// Running containers the default selection audits (sorted).
pub const RUNNING_AUDITED: &[&str] = &[HARDENED, HOSTILE, LABELLED, PLAIN];

/// The value of a secret environment variable of the labelled container: it must never appear
/// in any output (secret masking).
pub const SECRET_VALUE: &str = "hunter2-bulkhead-e2e-secret";

/// The last component of the hostile bind-mount source: a double quote, a backslash,
/// non-ASCII letters, a terminal escape sequence and a newline. It lies under the daemon's data
/// root, so 5.6 (sensitive host paths) fails on it and its path appears in every format.
pub const HOSTILE_DIR: &str = "hostile \"q\\ü-ß\u{1b}[31m\nline";

/// What one run of the binary gave.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON (panics with the run's output when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!("{self}\nstdout is not JSON: {e}");
        })
    }

    /// Assert the exit code, showing the whole run when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.stdout.chars().take(3000).collect();
        write!(
            f,
            "$ bulkhead {}\nexit {}\n--- stderr\n{}\n--- stdout (first 3000 chars)\n{}",
            self.args.join(" "),
            self.code,
            self.stderr,
            head
        )
    }
}

/// Environment variables a test run never inherits from the developer's or CI's shell: they
/// would change what bulkhead audits or how it prints.
const SCRUBBED: &[&str] = &[
    "DOCKER_HOST",
    "DOCKER_CERT_PATH",
    "DOCKER_TLS_VERIFY",
    "DOCKER_TLS",
    "DOCKER_CONTENT_TRUST",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "BULKHEAD_STORE",
    "XDG_RUNTIME_DIR",
];

/// A `Command` for the binary with a predictable environment.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(bulkhead());
    c.args(args).stdin(Stdio::null());
    for k in SCRUBBED {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Run the binary with `args` and extra environment `env`.
pub fn run_env(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = command(args, env)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bulkhead()));
    Run {
        args: args.iter().map(|s| s.to_string()).collect(),
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn run(args: &[&str]) -> Run {
    run_env(args, &[])
}

/// The lab: the private daemon and its containers.
pub struct Lab {
    pub d: &'static TestDockerd,
    /// `unix:///tmp/bhk-.../docker.sock`
    pub host: String,
    /// Full container IDs by name.
    pub ids: BTreeMap<&'static str, String>,
    /// The hostile bind-mount source as the daemon reports it.
    pub hostile_source: String,
    /// Tests that change the lab (add a container) take the write side; tests that audit it take
    /// the read side, so no audit sees a half-changed lab.
    gate: RwLock<()>,
}

impl Lab {
    /// Read access for a test that audits the lab as built.
    pub fn read(&self) -> RwLockReadGuard<'_, ()> {
        self.gate.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Exclusive access for a test that changes the lab (and undoes the change).
    pub fn write(&self) -> RwLockWriteGuard<'_, ()> {
        self.gate.write().unwrap_or_else(|e| e.into_inner())
    }

    /// `bulkhead audit docker --docker-host <lab> ARGS...`
    pub fn audit(&self, args: &[&str]) -> Run {
        self.audit_env(args, &[])
    }

    pub fn audit_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut all = vec!["audit", "docker", "--docker-host", &self.host];
        all.extend_from_slice(args);
        run_env(&all, env)
    }

    /// The 12-character ID bulkhead shows for a lab container.
    pub fn short_id(&self, name: &str) -> String {
        self.ids[name][..12].to_string()
    }
}

static LAB: OnceLock<Option<Lab>> = OnceLock::new();

/// The lab on this test binary's shared daemon, built on first use. None (after the testkit
/// printed why) when this machine cannot run a daemon outside CI; under CI=true that panics.
pub fn lab() -> Option<&'static Lab> {
    LAB.get_or_init(|| TestDockerd::shared().map(build_lab))
        .as_ref()
}

/// Create the lab's containers on `d` and wait until they are in the state the tests expect.
pub fn build_lab(d: &'static TestDockerd) -> Lab {
    let mut ids = BTreeMap::new();
    ids.insert(PLAIN, d.run(PLAIN, &ContainerSpec::new()));
    // No health check: its probe, an exec every interval, would come and go in the container's
    // process list between two collections (5.7 counts processes), and the snapshot tests
    // require two collections of the lab to be identical.
    let hardened = d.run(
        HARDENED,
        &ContainerSpec::new()
            .read_only()
            .security_opt("no-new-privileges")
            .user("1000")
            .memory(64 * 1024 * 1024)
            .cpu_shares(512)
            .pids_limit(64)
            .cap_drop("ALL"),
    );
    ids.insert(HARDENED, hardened);
    ids.insert(CREATED, d.create(CREATED, &ContainerSpec::new()));
    ids.insert(
        LABELLED,
        d.run(
            LABELLED,
            &ContainerSpec::new()
                .label("tier", "web")
                .env(&format!("DB_PASSWORD={SECRET_VALUE}")),
        ),
    );
    ids.insert(
        SELF,
        d.run(SELF, &ContainerSpec::new().label(SELF_LABEL, "true")),
    );
    let hostile_dir = d.data_root().join(HOSTILE_DIR);
    std::fs::create_dir_all(&hostile_dir)
        .unwrap_or_else(|e| panic!("creating {}: {e}", hostile_dir.display()));
    let hostile_source = hostile_dir.to_str().expect("UTF-8 path").to_string();
    ids.insert(
        HOSTILE,
        d.run(
            HOSTILE,
            &ContainerSpec::new().bind_mount(&hostile_source, "/data", None),
        ),
    );
    Lab {
        d,
        host: d.docker_host(),
        ids,
        hostile_source,
        gate: RwLock::new(()),
    }
}

/// Every result of a `bulkhead.audit/1` document, by check ID.
pub fn results_by_id(doc: &Value) -> BTreeMap<String, Value> {
    doc["results"]
        .as_array()
        .expect("results is an array")
        .iter()
        .map(|r| (r["id"].as_str().expect("id").to_string(), r.clone()))
        .collect()
}

/// The status of each object of one result, by object name.
pub fn object_statuses(result: &Value) -> BTreeMap<String, String> {
    result["objects"]
        .as_array()
        .expect("objects is an array")
        .iter()
        .map(|o| {
            (
                o["name"].as_str().expect("name").to_string(),
                o["status"].as_str().expect("status").to_string(),
            )
        })
        .collect()
}

/// Names of the container objects of one result.
pub fn container_names(result: &Value) -> Vec<String> {
    result["objects"]
        .as_array()
        .expect("objects is an array")
        .iter()
        .filter(|o| o["kind"] == "container")
        .map(|o| o["name"].as_str().expect("name").to_string())
        .collect()
}

/// `target.containers.left_out` of an audit JSON document: name -> reason.
pub fn left_out(doc: &Value) -> BTreeMap<String, String> {
    doc["target"]["containers"]["left_out"]
        .as_array()
        .expect("left_out is an array")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["reason"].as_str().expect("reason").to_string(),
            )
        })
        .collect()
}

pub use bulkhead_testkit::TempDir;
