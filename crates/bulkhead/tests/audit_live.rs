//! End-to-end tests of the `bulkhead audit` command line against a real dockerd: the testkit's
//! private daemon (own socket, data root, exec root, pidfile; never the user's), one per test
//! binary, with the small lab of containers described in `audit_support`. Every test runs the
//! real binary as a user or a CI job would and checks what they see: the text report, the JSON
//! contract, docker-bench JSON, JUnit, container and check selection, snapshots, exit codes,
//! error messages, the catalog commands and the run history.
//!
//! Without CI=true a machine that cannot run dockerd (no docker.io, not root) skips these tests
//! with a printed reason; under CI=true that is a failure.

#[path = "audit_support/mod.rs"]
mod support;

#[path = "audit_live/catalog.rs"]
mod catalog;
#[path = "audit_live/docker_bench.rs"]
mod docker_bench;
#[path = "audit_live/errors.rs"]
mod errors;
#[path = "audit_live/exit_codes.rs"]
mod exit_codes;
#[path = "audit_live/history.rs"]
mod history;
#[path = "audit_live/json_contract.rs"]
mod json_contract;
#[path = "audit_live/junit.rs"]
mod junit;
#[path = "audit_live/selection.rs"]
mod selection;
#[path = "audit_live/snapshot.rs"]
mod snapshot;
#[path = "audit_live/text.rs"]
mod text;

use std::path::PathBuf;
use std::sync::OnceLock;
use support::{lab, run, Lab};

/// One snapshot of the lab (`bulkhead collect docker -o FILE`), for tests that compare formats
/// rendered from the very same facts. It lives in the daemon's directory, removed at exit.
pub fn lab_snapshot(lab: &Lab) -> PathBuf {
    static SNAPSHOT: OnceLock<PathBuf> = OnceLock::new();
    SNAPSHOT
        .get_or_init(|| {
            let _gate = lab.read();
            let path = lab.d.dir().join("e2e-lab-snapshot.json");
            let p = path.to_str().expect("UTF-8 path");
            run(&["collect", "docker", "--docker-host", &lab.host, "-o", p]).expect_code(0);
            path
        })
        .clone()
}

/// The lab, or return from the test (the testkit printed why; under CI=true it panicked).
#[macro_export]
macro_rules! lab_or_skip {
    () => {
        match $crate::support::lab() {
            Some(l) => l,
            None => return,
        }
    };
}

/// `bulkhead audit docker --snapshot <lab snapshot> ARGS...`
pub fn audit_snapshot(lab: &Lab, args: &[&str]) -> support::Run {
    let snap = lab_snapshot(lab);
    let mut all = vec!["audit", "docker", "--snapshot", snap.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn the_lab_is_what_the_tests_assume() {
    let Some(lab) = lab() else { return };
    let _gate = lab.read();
    for (name, state) in [
        (support::PLAIN, "running"),
        (support::HARDENED, "running"),
        (support::CREATED, "created"),
        (support::LABELLED, "running"),
        (support::SELF, "running"),
        (support::HOSTILE, "running"),
    ] {
        let v = lab.d.inspect(&lab.ids[name]);
        assert_eq!(v["State"]["Status"], state, "{name}");
    }
    let hostile = lab.d.inspect(&lab.ids[support::HOSTILE]);
    assert_eq!(hostile["Mounts"][0]["Source"], lab.hostile_source.as_str());
}
