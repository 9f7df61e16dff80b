//! End-to-end: `bulkhead audit docker` against a REAL rootless dockerd (PITFALL 22), the
//! testkit's `dockerd-rootless.sh` run as its dedicated account, with one container and the
//! account's own `~/.config/docker/daemon.json` and `~/.config/systemd/user/docker.service`.
//! Audited once by root and once by the account itself.
//!
//! Without CI=true a machine that cannot run rootless Docker (no rootlesskit or uidmap, user
//! namespaces disabled, not root) skips with a printed reason; under CI=true that is a failure.

use bulkhead_testkit::{ContainerSpec, DaemonOptions, TestDockerd};
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const CONTAINER: &str = "rootless-web";

/// Paths of a root daemon that must never be the evidence about a rootless one.
const ROOTFUL_LOCATIONS: &[&str] = &[
    "/var/lib/docker",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/etc/docker",
    "/run/containerd",
    "/etc/systemd/system/docker.",
    "/lib/systemd/system/docker.",
];

/// One rootless daemon for this binary (they run one at a time), with its container and the
/// account's configuration in place.
fn daemon() -> Option<&'static TestDockerd> {
    static D: OnceLock<Option<&'static TestDockerd>> = OnceLock::new();
    *D.get_or_init(|| {
        let d = TestDockerd::start_rootless_with(DaemonOptions::default().daemon_json(json!({
            "no-new-privileges": true,
            "log-level": "info",
        })))?;
        let user = d.rootless_user().unwrap();
        // What `dockerd-rootless-setuptool.sh install` writes: the daemon's user unit. The
        // daemon runs from the harness, not from systemd, but the file is where systemd's user
        // manager would load it from, which is what section 3 judges.
        let units = user.home.join(".config/systemd/user");
        std::fs::create_dir_all(&units).unwrap();
        std::fs::write(
            units.join("docker.service"),
            "[Service]\nExecStart=/usr/share/docker.io/contrib/dockerd-rootless.sh\n",
        )
        .unwrap();
        chown_tree(&user.home.join(".config"), user.uid, user.gid);
        d.run(CONTAINER, &ContainerSpec::new());
        Some(d.until_exit())
    })
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() {
        for e in std::fs::read_dir(path).unwrap() {
            chown_tree(&e.unwrap().path(), uid, gid);
        }
    }
}

/// `bulkhead audit docker --docker-host <rootless socket> --format json` with a clean
/// environment, as root or as the daemon's account (with the environment its login has).
/// Returns the exit code and the parsed report.
fn audit(d: &TestDockerd, as_account: bool) -> (i32, Value) {
    let user = d.rootless_user().unwrap();
    let runtime = d.runtime_dir().unwrap();
    let mut bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_bulkhead"));
    if as_account {
        // The account may not reach the build directory; a copy in its runtime directory it can.
        let copy = runtime.join("bulkhead");
        std::fs::copy(&bin, &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        bin = copy;
    }
    let mut cmd = Command::new(&bin);
    cmd.env_clear().env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
    if as_account {
        cmd.uid(user.uid)
            .gid(user.gid)
            .env("HOME", &user.home)
            .env("XDG_RUNTIME_DIR", runtime);
    }
    let host = format!("unix://{}", d.socket_path().display());
    let out = cmd
        .args([
            "audit",
            "docker",
            "--docker-host",
            &host,
            "--format",
            "json",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", bin.display()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "bulkhead exited {code} (as the account: {as_account}): {stderr}"
    );
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON report ({e}); stderr: {stderr}"));
    (code, report)
}

fn result<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result {id}"))
}

fn status(report: &Value, id: &str) -> String {
    result(report, id)["status"].as_str().unwrap().to_string()
}

fn object_names(report: &Value, id: &str) -> Vec<String> {
    result(report, id)["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

/// Everything a result says about the audited system: its message, object names and evidence
/// (not the remediation, which teaches the rootful defaults on purpose).
fn said(r: &Value) -> String {
    let mut s = r["message"].as_str().unwrap_or("").to_string();
    for o in r["objects"].as_array().unwrap() {
        s.push_str(&format!(" {} {} {}", o["name"], o["evidence"], o["note"]));
    }
    s
}

/// What every audit of the rootless daemon shows, whoever runs it.
fn assert_rootless_audit(d: &TestDockerd, report: &Value, who: &str) {
    let user = d.rootless_user().unwrap();
    let runtime = d.runtime_dir().unwrap().display().to_string();
    let home = user.home.display().to_string();
    let socket = d.socket_path().display().to_string();
    let data_root = user.data_root().display().to_string();
    let daemon_json = user.daemon_json().display().to_string();

    assert_eq!(
        report["target"]["rootless"], true,
        "{who}: {}",
        report["target"]
    );
    assert_eq!(report["target"]["containers"]["audited"], 1, "{who}");

    // 2.1: rootless passes, on the evidence of the daemon process run by the account.
    let r = result(report, "2.1");
    assert_eq!(r["status"], "pass", "{who}: {r}");
    assert_eq!(
        r["objects"][0]["evidence"]["actual"],
        format!("rootless, run by uid {}", user.uid),
        "{who}"
    );

    // The daemon.json read is the account's: 2.14 passes from it, and section 3 judges it.
    let r = result(report, "2.14");
    assert_eq!(r["status"], "pass", "{who}: {r}");
    assert_eq!(
        r["objects"][0]["evidence"]["field"],
        format!("{daemon_json} no-new-privileges"),
        "{who}"
    );
    assert_eq!(
        object_names(report, "3.17"),
        [daemon_json.as_str()],
        "{who}"
    );
    assert_eq!(status(report, "3.17"), "pass", "{who}");
    assert_eq!(status(report, "3.18"), "pass", "{who}");

    // Section 1 and 3 name the rootless locations.
    assert_eq!(object_names(report, "1.1.1"), [data_root.as_str()], "{who}");
    assert_eq!(object_names(report, "1.1.5"), [data_root.as_str()], "{who}");
    assert_eq!(
        object_names(report, "1.1.6"),
        [format!("{home}/.config/docker")],
        "{who}"
    );
    assert_eq!(
        object_names(report, "1.1.11"),
        [daemon_json.as_str()],
        "{who}"
    );
    assert_eq!(
        object_names(report, "1.1.4"),
        [format!("{runtime}/docker/containerd")],
        "{who}"
    );
    for id in ["3.15", "3.16"] {
        assert_eq!(object_names(report, id), [socket.as_str()], "{who} {id}");
    }
    // dockerd keeps the sticky bit on what it makes in XDG_RUNTIME_DIR (so the runtime
    // directory's periodic cleanup leaves it alone); it grants no access.
    let r = result(report, "3.16");
    assert_eq!(r["status"], "pass", "{who}: {r}");
    // The socket is the account's, and its group is the daemon's `docker` group inside the
    // user namespace: one of the account's subordinate gids on the host, which only the
    // account's namespaced processes can hold.
    let r = result(report, "3.15");
    let owner = r["objects"][0]["evidence"]["actual"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        owner.starts_with(&format!("{}:", user.name)),
        "{who}: {owner}"
    );
    assert_eq!(r["status"], "pass", "{who}: {r}");
    assert!(
        r["objects"][0]["note"]
            .as_str()
            .is_some_and(|n| n.contains("subordinate gids")),
        "{who}: {r}"
    );
    for id in ["3.23", "3.24"] {
        assert_eq!(
            object_names(report, id),
            [format!("{runtime}/docker/containerd/containerd.sock")],
            "{who} {id}"
        );
        assert_eq!(status(report, id), "pass", "{who} {id}");
    }
    // The daemon's unit is the account's user unit, never the system's docker.service; the
    // system's docker.socket starts the root daemon, not this one.
    let user_unit = format!("{home}/.config/systemd/user/docker.service");
    for id in ["1.1.7", "3.1", "3.2"] {
        assert_eq!(object_names(report, id), [user_unit.as_str()], "{who} {id}");
    }
    assert_eq!(status(report, "3.1"), "pass", "{who}");
    assert_eq!(status(report, "3.2"), "pass", "{who}");
    for id in ["1.1.9", "3.3", "3.4"] {
        let r = result(report, id);
        assert_eq!(r["status"], "not_applicable", "{who} {id}: {r}");
        assert!(
            r["message"].as_str().unwrap().contains("user unit"),
            "{who} {id}: {r}"
        );
    }

    // The docker group grants nothing on a rootless daemon.
    let r = result(report, "1.1.2");
    assert_eq!(r["status"], "not_applicable", "{who}: {r}");
    assert!(r["message"].as_str().unwrap().contains("rootless"), "{who}");

    // The container is audited (its processes read from the host's /proc).
    let r = result(report, "5.26");
    assert_eq!(r["status"], "pass", "{who}: {r}");
    assert_eq!(object_names(report, "5.26"), [CONTAINER], "{who}");

    // No rootful location is evidence about this daemon, in any section.
    for r in report["results"].as_array().unwrap() {
        let s = said(r);
        for rootful in ROOTFUL_LOCATIONS {
            assert!(
                !s.contains(rootful),
                "{who}: {} names {rootful}: {s}",
                r["id"]
            );
        }
    }
}

#[test]
fn root_audits_a_rootless_daemon_in_its_own_locations() {
    let Some(d) = daemon() else { return };
    let (_, report) = audit(d, false);
    assert_rootless_audit(d, &report, "root");
    let errors: Vec<String> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "error")
        .map(|r| format!("{} {}", r["id"], r["message"]))
        .collect();
    assert!(errors.is_empty(), "root: no check errors: {errors:?}");
}

/// The account audits its own daemon without root: what it can read is read (its own files,
/// its daemon's and containers' processes); what only root may read is an error naming the
/// reason, never a verdict made up from nothing.
#[test]
fn the_account_audits_its_own_daemon_without_root() {
    let Some(d) = daemon() else { return };
    let (_, report) = audit(d, true);
    assert_rootless_audit(d, &report, "the account");
    let audit_dir = Path::new("/etc/audit");
    let audit_rules_private = audit_dir.join("rules.d").is_dir()
        && std::fs::metadata(audit_dir).is_ok_and(|m| m.permissions().mode() & 0o005 == 0);
    for r in report["results"].as_array().unwrap() {
        let id = r["id"].as_str().unwrap();
        let is_audit_rule_check = id.starts_with("1.1.") && !["1.1.1", "1.1.2"].contains(&id);
        if r["status"] == "error" {
            // Without root the kernel's rules cannot be listed, and rule files root keeps to
            // itself cannot be read: nothing is known about the rules.
            assert!(
                is_audit_rule_check && audit_rules_private,
                "the account: {id} errors: {r}"
            );
            let message = r["message"].as_str().unwrap();
            assert!(
                message.contains("audit rules could not be read")
                    && message.contains("/etc/audit")
                    && message.contains("ermission denied"),
                "{id}: {message}"
            );
        } else if is_audit_rule_check && audit_rules_private && r["status"] != "not_applicable" {
            panic!("the account: {id} judged audit rules it cannot read: {r}");
        }
    }
}
