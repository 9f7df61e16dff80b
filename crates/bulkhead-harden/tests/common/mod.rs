//! Shared test helpers: snapshots and audits built in code, and temporary host roots with real
//! files. Audits are built from check results directly so the planner is tested on exactly the
//! verdicts a test names; the Kubernetes tests and the end-to-end tests (tests/e2e_*.rs) run the
//! real evaluators instead ([`kube_audit`]).

#![allow(dead_code)]

use bulkhead_checks::{
    catalog, Audit, AuditOptions, CheckResult, Context, ObjectResult, Outcome, Selection, Status,
};
use bulkhead_facts::docker::*;
use bulkhead_facts::host::{FileFact, FileKind, FileStat, HostFacts, Process};
use bulkhead_facts::kube::{
    mask_component_argv, parse_component_flags, Component, KubeFacts, Targets,
};
use bulkhead_facts::{Fact, Mode, Snapshot, ToolInfo};
use bulkhead_harden::PlanRequest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A local Docker host whose files live under `root`, with default daemon configuration.
pub fn snapshot(root: &Path) -> Snapshot {
    let mut host = HostFacts {
        root: root.display().to_string(),
        proc: "/proc".into(),
        ..Default::default()
    };
    host.users = Fact::Value(bulkhead_facts::host::parse_passwd(
        "root:x:0:0:root:/root:/bin/bash\netcd:x:998:997::/var/lib/etcd:/usr/sbin/nologin\n",
    ));
    host.groups = Fact::Value(bulkhead_facts::host::parse_group(
        "root:x:0:\ndocker:x:999:\netcd:x:997:\n",
    ));
    let mut s = Snapshot::new(
        ToolInfo::bulkhead("test"),
        "2026-01-01T00:00:00Z".into(),
        host,
    );
    let settings = DaemonSettings::default();
    s.docker = Some(DockerFacts {
        endpoint: Endpoint {
            host: "unix:///var/run/docker.sock".into(),
            transport: "unix".into(),
            tls: false,
            tls_verified: None,
            source: "default".into(),
            local: true,
            api_version: "1.41".into(),
        },
        version: Fact::Value(Version::default()),
        info: Fact::Value(Info::default()),
        daemon: DaemonFacts {
            process: Fact::Value(None),
            config_path: DEFAULT_CONFIG_FILE.into(),
            config: Fact::Value(None),
            paths: resolve_paths(&settings, None),
            ..Default::default()
        },
        containers: Fact::Value(vec![]),
        selection: ContainerSelection::default(),
        images: Fact::Value(vec![]),
        networks: Fact::Value(vec![]),
        swarm: Fact::Value(SwarmFacts::default()),
    });
    s
}

/// Set the daemon's command line and daemon.json content as the collector would record them.
pub fn with_daemon(mut s: Snapshot, args: &str, config: Option<&str>) -> Snapshot {
    let flags = parse_dockerd_flags(
        &args
            .split_whitespace()
            .map(String::from)
            .collect::<Vec<_>>(),
    );
    let d = &mut s.docker.as_mut().unwrap().daemon;
    d.flags = flags.clone();
    let value = config.map(|c| serde_json::from_str::<serde_json::Value>(c).unwrap());
    d.config = Fact::Value(value.clone());
    d.paths = resolve_paths(
        &DaemonSettings::new(flags, value, d.config_path.clone()),
        None,
    );
    s
}

/// Record a file's stat in the snapshot, as collection would.
pub fn with_file(
    mut s: Snapshot,
    path: &str,
    kind: FileKind,
    mode: u32,
    uid: u32,
    gid: u32,
) -> Snapshot {
    s.host.files.insert(
        path.into(),
        FileFact::Present(FileStat {
            kind,
            mode: Mode(mode),
            uid,
            gid,
            owner: None,
            group: None,
            size: 0,
            symlink_target: None,
            ancestors: vec![],
        }),
    );
    s
}

/// A CIS Docker audit in `edition` numbering holding exactly these results (by control ID).
pub fn docker_audit(edition: &str, results: Vec<(&str, CheckResult)>) -> Audit {
    let b = catalog().docker();
    Audit {
        benchmark: b,
        edition: edition.into(),
        outcomes: results
            .into_iter()
            .map(|(id, result)| {
                let control = b
                    .controls
                    .iter()
                    .find(|c| c.id == id)
                    .unwrap_or_else(|| panic!("no control {id}"));
                Outcome {
                    control,
                    check_id: control.id_in(edition).unwrap().to_string(),
                    result,
                }
            })
            .collect(),
    }
}

pub fn fail() -> CheckResult {
    CheckResult::fail("fails")
}

/// A running container `name` of `image` running `cmd`, as its inspect reads, after `edit`.
pub fn running_container(
    name: &str,
    image: &str,
    cmd: &[&str],
    edit: impl FnOnce(&mut Container),
) -> ContainerFacts {
    let mut c = Container {
        id: format!("{:0>64}", name.len()),
        name: format!("/{name}"),
        image: "sha256:abc".into(),
        state: ContainerState {
            status: "running".into(),
            running: true,
            pid: 100,
            health: None,
        },
        config: ContainerConfig {
            image: image.into(),
            cmd: Some(cmd.iter().map(|w| w.to_string()).collect()),
            ..Default::default()
        },
        ..Default::default()
    };
    edit(&mut c);
    ContainerFacts {
        inspect: c,
        processes: Fact::Value(vec![]),
    }
}

/// A check failing on each of `containers`, as an audit names them (name and short ID).
pub fn fail_containers(containers: &[ContainerFacts]) -> CheckResult {
    CheckResult::from_objects(
        containers
            .iter()
            .map(|c| ObjectResult::new("container", c.name(), Status::Fail).id(c.short_id()))
            .collect(),
        "",
    )
}

pub fn fail_file(path: &str, expected: &str) -> CheckResult {
    CheckResult::from_objects(
        vec![ObjectResult::new("file", path, Status::Fail).evidence("mode", "x", expected)],
        "",
    )
}

/// A fresh temporary directory for one test, removed when dropped.
pub use bulkhead_testkit::TempDir as TempRoot;

pub fn temp_root(name: &str) -> TempRoot {
    TempRoot::new(&format!("harden-{name}"))
}

/// Write a file under `root` at host path `path`.
pub fn put(root: &Path, path: &str, content: &str) -> PathBuf {
    let p = root.join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, content).unwrap();
    p
}

/// Fault injection: run the test `child_test` of this same test binary as a child process,
/// with `env_key` naming `dir` and `BULKHEAD_FAILPOINT` set to `point`; wait until the child
/// reaches the failpoint (it writes `dir/marker` there) and kill it with SIGKILL. The child
/// writes `dir/child-finished` if it ran to the end without stopping at the failpoint.
#[allow(dead_code)]
pub fn kill_child_at_failpoint(child_test: &str, env_key: &str, dir: &Path, point: &str) {
    use std::time::{Duration, Instant};
    let marker = dir.join("marker");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", child_test, "--nocapture", "--test-threads=1"])
        .env(env_key, dir.as_os_str())
        .env("BULKHEAD_FAILPOINT", point)
        .env("BULKHEAD_FAILPOINT_MARKER", &marker)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !marker.exists() {
        assert!(
            !dir.join("child-finished").exists(),
            "the child never reached {point}"
        );
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {point}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling the child this test spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
}

/// The CIS Kubernetes checks `only` (IDs, sections or control IDs) evaluated on `s` by the real
/// evaluators.
pub fn kube_audit(s: &Snapshot, only: &[&str]) -> Audit {
    let opts = AuditOptions::default();
    let b = catalog().kubernetes();
    bulkhead_checks::run(
        b,
        b.default_edition(),
        &Context::new(s, &opts),
        &Selection::new(only.iter().map(|x| x.to_string()).collect(), vec![]),
    )
}

/// The status of check `id` in `a`; panics when the audit has no such check.
pub fn status(a: &Audit, id: &str) -> Status {
    a.outcomes
        .iter()
        .find(|o| o.check_id == id)
        .unwrap_or_else(|| panic!("no {id}"))
        .result
        .status
}

/// A plan request for the checks `select` on the host files under `root`.
pub fn request(root: &Path, select: &[&str]) -> PlanRequest {
    PlanRequest {
        root: Some(root.to_path_buf()),
        select: select.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// A Kubernetes component as the collector records one: process 100, started as `exe` with
/// `args` (masked as the collector masks them), with nothing from its environment or a
/// configuration file.
pub fn kube_component(name: &str, exe: &str, args: &[String]) -> Component {
    let argv: Vec<String> = std::iter::once(exe.to_string())
        .chain(args.iter().cloned())
        .collect();
    Component {
        name: name.into(),
        process: Process {
            pid: 100,
            ppid: 1,
            comm: exe
                .rsplit('/')
                .next()
                .unwrap_or(exe)
                .chars()
                .take(15)
                .collect(),
            exe: Some(exe.into()),
            argv: mask_component_argv(&argv),
            ..Default::default()
        },
        cwd: Some("/".into()),
        flags: parse_component_flags(name, args),
        env: BTreeMap::new(),
        env_files: BTreeMap::new(),
        pending_env: BTreeMap::new(),
        config: None,
        unusable_config: BTreeMap::new(),
        source: "process".into(),
        other_pids: vec![],
        started_at: None,
    }
}

/// A node whose files live under `root`, running `components` (its targets detected as the
/// collector detects them), with the rest of its Kubernetes facts from `kube`.
pub fn kube_node(root: &Path, components: Vec<Component>, kube: KubeFacts) -> Snapshot {
    let host = HostFacts {
        root: root.display().to_string(),
        proc: "/proc".into(),
        ..Default::default()
    };
    let mut s = Snapshot::new(
        ToolInfo::bulkhead("test"),
        "2026-01-01T00:00:00Z".into(),
        host,
    );
    let components: BTreeMap<String, Component> = components
        .into_iter()
        .map(|c| (c.name.clone(), c))
        .collect();
    let targets = Targets::detect(&components, false);
    s.kubernetes = Some(KubeFacts {
        components,
        targets,
        ..kube
    });
    s
}
