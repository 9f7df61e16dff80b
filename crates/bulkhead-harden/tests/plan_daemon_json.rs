//! Planning daemon.json fixes: a merge that keeps the user's keys, values, order and layout.

mod common;

use bulkhead_harden::{plan, render, FixKind, PlanRequest, Safety};
use common::*;

const DAEMON_JSON: &str = r#"{
    "data-root": "/srv/docker",
    "log-driver": "json-file",
    "log-opts": { "max-size": "10m" },

    "icc": true
}
"#;

fn request(root: &std::path::Path, select: &[&str]) -> PlanRequest {
    PlanRequest {
        root: Some(root.to_path_buf()),
        select: select.iter().map(|s| s.to_string()).collect(),
        threat_links: Some(vec![]),
        ..Default::default()
    }
}

#[test]
fn merge_keeps_existing_keys_values_and_order() {
    let root = temp_root("merge");
    put(&root, "/etc/docker/daemon.json", DAEMON_JSON);
    let snap = with_daemon(snapshot(&root), "-H fd://", Some(DAEMON_JSON));
    let audit = docker_audit(
        "1.6.0",
        vec![
            ("docker.daemon.icc_disabled", fail()),
            ("docker.daemon.log_level_info", fail()),
            ("docker.daemon.live_restore", fail()),
            ("docker.daemon.userland_proxy_disabled", fail()),
            ("docker.daemon.no_new_privileges", fail()),
        ],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.unfixed);
    let f = &p.fixes[0];
    assert_eq!(f.kind, FixKind::DaemonJson);
    assert_eq!(f.checks, vec!["2.2", "2.3", "2.14", "2.15", "2.16"]);
    assert_eq!(f.target.path.as_deref(), Some("/etc/docker/daemon.json"));
    assert_eq!(
        f.safety,
        Safety::Review,
        "icc and userland-proxy need review"
    );
    let after = &f.action.edits[0].after;
    assert_eq!(
        after,
        "{\n    \"data-root\": \"/srv/docker\",\n    \"log-driver\": \"json-file\",\n    \"log-opts\": { \"max-size\": \"10m\" },\n\n    \"icc\": false,\n    \"log-level\": \"info\",\n    \"live-restore\": true,\n    \"userland-proxy\": false,\n    \"no-new-privileges\": true\n}\n"
    );
    let diff = f.diff().unwrap();
    assert!(
        diff.starts_with("--- a/etc/docker/daemon.json\n+++ b/etc/docker/daemon.json\n"),
        "{diff}"
    );
    assert!(
        diff.contains("-    \"icc\": true\n+    \"icc\": false,\n"),
        "{diff}"
    );
    assert!(p.unfixed.is_empty());
}

#[test]
fn select_in_the_old_numbering_fixes_only_those_checks() {
    let root = temp_root("select");
    put(&root, "/etc/docker/daemon.json", "{}\n");
    let snap = with_daemon(snapshot(&root), "", Some("{}"));
    // In CIS Docker 1.2.0 live restore is 2.13 and icc is 2.1.
    let audit = docker_audit(
        "1.2.0",
        vec![
            ("docker.daemon.icc_disabled", fail()),
            ("docker.daemon.live_restore", fail()),
        ],
    );
    let p = plan(&snap, &[audit], &request(&root, &["2.13"])).unwrap();
    assert_eq!(p.fixes.len(), 1);
    assert_eq!(p.fixes[0].checks, vec!["2.13"]);
    assert_eq!(p.fixes[0].safety, Safety::Safe);
    assert_eq!(
        p.fixes[0].action.edits[0].after,
        "{\n  \"live-restore\": true\n}\n"
    );
    assert!(p.fixes[0].restart.as_ref().unwrap().reload_suffices);
    let e = plan(
        &snap,
        &[docker_audit("1.2.0", vec![])],
        &request(&root, &["9.9"]),
    )
    .unwrap_err();
    assert!(e.contains("9.9"), "{e}");
}

/// PITFALLS (CIS Docker) 1 and 2: flags and daemon.json are one configuration. A setting given
/// on dockerd's command line is what runs; writing the same key to daemon.json would make dockerd
/// refuse to start, so the fix names the flag instead.
#[test]
fn pitfall_1_a_setting_on_the_command_line_is_not_written_to_daemon_json() {
    let root = temp_root("flag");
    put(&root, "/etc/docker/daemon.json", "{}\n");
    let snap = with_daemon(snapshot(&root), "--icc=true", Some("{}"));
    let audit = docker_audit("1.6.0", vec![("docker.daemon.icc_disabled", fail())]);
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    assert!(p.fixes.is_empty());
    assert_eq!(p.unfixed.len(), 1);
    assert!(
        p.unfixed[0].reason.contains("flag --icc"),
        "{}",
        p.unfixed[0].reason
    );
}

#[test]
fn missing_daemon_json_is_created_and_json_contract_holds() {
    let root = temp_root("create");
    let snap = snapshot(&root);
    let audit = docker_audit(
        "1.6.0",
        vec![
            ("docker.daemon.log_level_info", fail()),
            ("docker.daemon.remote_logging", fail()),
            ("docker.image.content_trust", fail()),
        ],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    let v: serde_json::Value = serde_json::from_str(&render::json(&p, "test")).unwrap();
    assert_eq!(v["schema"], "bulkhead.harden/1");
    let fixes = v["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 2);
    let d = &fixes[0];
    assert_eq!(d["kind"], "daemon-json");
    assert_eq!(d["checks"], serde_json::json!(["2.3"]));
    assert_eq!(
        d["target"],
        serde_json::json!({"kind": "daemon", "name": "dockerd", "path": "/etc/docker/daemon.json"})
    );
    assert_eq!(d["safety"], "safe");
    assert!(d["diff"].as_str().unwrap().starts_with("--- /dev/null\n"));
    assert!(d["command"].is_null());
    assert_eq!(d["edits"][0]["creates"], true);
    let prof = &fixes[1];
    assert_eq!(prof["kind"], "profile");
    assert_eq!(prof["checks"], serde_json::json!(["4.5"]));
    assert!(prof["diff"]
        .as_str()
        .unwrap()
        .contains("+export DOCKER_CONTENT_TRUST=1\n"));
    assert!(prof["notes"][0].as_str().unwrap().contains("cosign"));
    // Without a collector address 2.13 is not guessed: it is reported with the reason.
    assert_eq!(v["unfixed"][0]["check"], "2.13");
    assert!(v["unfixed"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("--log-address"));
    assert_eq!(
        v["fixed_controls"],
        serde_json::json!(["docker.daemon.log_level_info", "docker.image.content_trust"])
    );
}

/// PITFALLS (CIS Docker) 6 and 22: the daemon.json to edit is the one the daemon reads
/// (`--config-file`, or a rootless daemon's own), and audit rules watch the paths the daemon
/// really uses (its data root), never the textbook defaults.
#[test]
fn pitfall_6_and_22_fixes_follow_the_daemons_real_paths() {
    let root = temp_root("paths");
    put(
        &root,
        "/opt/docker/daemon.json",
        "{\"data-root\": \"/srv/docker\"}\n",
    );
    put(&root, "/srv/docker/.keep", "");
    let mut snap = with_daemon(
        snapshot(&root),
        "--config-file /opt/docker/daemon.json",
        Some("{\"data-root\": \"/srv/docker\"}"),
    );
    snap.docker.as_mut().unwrap().daemon.config_path = "/opt/docker/daemon.json".into();
    let audit = docker_audit(
        "1.6.0",
        vec![
            ("docker.daemon.live_restore", fail()),
            ("docker.audit.data_root", fail()),
        ],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    assert_eq!(
        p.fixes[0].target.path.as_deref(),
        Some("/opt/docker/daemon.json")
    );
    assert!(!root.join("etc/docker/daemon.json").exists());
    let rules = &p
        .fix("audit-rules:/etc/audit/rules.d/bulkhead-docker.rules")
        .unwrap()
        .action
        .edits[0]
        .after;
    assert!(
        rules.contains("-w /srv/docker -p rwxa -k docker\n"),
        "{rules}"
    );
    assert!(!rules.contains("/var/lib/docker"), "{rules}");

    // A rootless daemon reads ~/.config/docker/daemon.json of the user running it.
    let root = temp_root("rootless");
    let mut snap = snapshot(&root);
    let d = &mut snap.docker.as_mut().unwrap().daemon;
    d.rootless = true;
    d.config_path = "/home/alice/.config/docker/daemon.json".into();
    let audit = docker_audit("1.6.0", vec![("docker.daemon.live_restore", fail())]);
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    assert_eq!(
        p.fixes[0].target.path.as_deref(),
        Some("/home/alice/.config/docker/daemon.json")
    );
    assert_eq!(
        p.fixes[0].action.edits[0].after,
        "{\n  \"live-restore\": true\n}\n"
    );
}

/// daemon.json as the collector records it: parsed, secret values masked.
fn as_collected(root: &std::path::Path, path: &str) -> Option<serde_json::Value> {
    let fs = bulkhead_collect::hostfs::HostFs::new(root);
    bulkhead_collect::daemon::read_daemon_json(&fs, path)
        .value()
        .cloned()
        .flatten()
}

#[test]
fn a_masked_secret_in_daemon_json_is_not_a_change() {
    let root = temp_root("secret");
    let path = "/tmp/pd/daemon.json";
    let content = "{\"log-level\":\"debug\",\"log-opts\":{\"splunk-token\":\"abc\",\"splunk-url\":\"https://splunk.example:8088\"}}\n";
    put(&root, path, content);
    let audited = as_collected(&root, path).unwrap();
    assert_eq!(audited["log-opts"]["splunk-token"], "***", "{audited}");
    let mut snap = snapshot(&root);
    let d = &mut snap.docker.as_mut().unwrap().daemon;
    d.config_path = path.into();
    d.config = bulkhead_facts::Fact::Value(Some(audited));
    let audit = || {
        docker_audit(
            "1.6.0",
            vec![
                ("docker.daemon.log_level_info", fail()),
                ("docker.daemon.live_restore", fail()),
            ],
        )
    };
    let p = plan(&snap, &[audit()], &request(&root, &[])).unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    let f = p
        .fix(&format!("daemon-json:{path}"))
        .expect("the daemon.json fix");
    assert_eq!(f.checks, vec!["2.3", "2.15"]);
    // The merge edits the file on disk: the real token stays, the mask is never written.
    let after = &f.action.edits[0].after;
    let written: serde_json::Value = serde_json::from_str(after).unwrap();
    assert_eq!(written["log-opts"]["splunk-token"], "abc", "{after}");
    assert_eq!(written["log-level"], "info");
    assert_eq!(written["live-restore"], true);
    assert!(!after.contains("***"), "{after}");
    // ... and the diff shows it masked.
    assert!(!f.diff().unwrap().contains("abc"), "{}", f.diff().unwrap());

    // A file really changed since the audit is refused, whether a plain value changed, a key
    // was added, or the masked value is no longer a string.
    for changed in [
        "{\"log-level\":\"warn\",\"log-opts\":{\"splunk-token\":\"abc\",\"splunk-url\":\"https://splunk.example:8088\"}}\n",
        "{\"log-level\":\"debug\",\"icc\":false,\"log-opts\":{\"splunk-token\":\"abc\",\"splunk-url\":\"https://splunk.example:8088\"}}\n",
        "{\"log-level\":\"debug\",\"log-opts\":{\"splunk-token\":7,\"splunk-url\":\"https://splunk.example:8088\"}}\n",
        "{\"log-level\":\"debug\",\"log-opts\":{\"splunk-token\":\"abc\"}}\n",
    ] {
        put(&root, path, changed);
        let p = plan(&snap, &[audit()], &request(&root, &[])).unwrap();
        assert!(p.fixes.is_empty(), "{changed}: {:#?}", p.fixes);
        assert_eq!(p.unfixed.len(), 2);
        for u in &p.unfixed {
            assert!(
                u.reason.contains(&format!("{path} is not what the audit read")),
                "{}",
                u.reason
            );
        }
    }
}

/// 2.13 switches the log driver to syslog: the options of the driver it replaces (json-file's
/// `max-size`/`max-file`, splunk's `splunk-token`/`splunk-url`) make dockerd refuse to start
/// ("unknown log opt 'max-size' for syslog log driver"), so they are removed and named.
#[test]
fn remote_logging_drops_log_opts_the_syslog_driver_rejects() {
    let root = temp_root("syslog-opts");
    let text = "{\n  \"log-driver\": \"splunk\",\n  \"log-opts\": {\"max-size\": \"10m\", \"max-file\": \"3\", \"splunk-token\": \"s3cret\", \"splunk-url\": \"https://s:8088\", \"tag\": \"{{.Name}}\", \"mode\": \"non-blocking\"}\n}\n";
    put(&root, "/etc/docker/daemon.json", text);
    let snap = with_daemon(snapshot(&root), "", Some(text));
    let audit = docker_audit("1.6.0", vec![("docker.daemon.remote_logging", fail())]);
    let mut req = request(&root, &[]);
    req.options.log_address = Some("udp://10.0.0.5:514".into());
    let p = plan(&snap, &[audit], &req).unwrap();
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.unfixed);
    let f = &p.fixes[0];
    let after: serde_json::Value = serde_json::from_str(&f.action.edits[0].after).unwrap();
    assert_eq!(
        after,
        serde_json::json!({"log-driver": "syslog", "log-opts": {
            "tag": "{{.Name}}", "mode": "non-blocking", "syslog-address": "udp://10.0.0.5:514"}})
    );
    let changes = f.changes.join("\n");
    for k in ["max-size", "max-file", "splunk-token", "splunk-url"] {
        assert!(changes.contains(&format!("\"{k}\"")), "{changes}");
        assert!(f.may_break.join("\n").contains(k), "{:?}", f.may_break);
    }
    assert!(!changes.contains("s3cret"), "{changes}");
}

/// dockerd refuses `"icc": false` while `--iptables=false`: 2.2 stays unfixed, naming it.
#[test]
fn icc_is_not_disabled_while_iptables_is_off() {
    let root = temp_root("icc-iptables");
    put(&root, "/etc/docker/daemon.json", "{}\n");
    let snap = with_daemon(snapshot(&root), "--iptables=false", Some("{}"));
    let audit = docker_audit(
        "1.6.0",
        vec![
            ("docker.daemon.icc_disabled", fail()),
            ("docker.daemon.live_restore", fail()),
        ],
    );
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    assert_eq!(p.fixes.len(), 1);
    assert!(!p.fixes[0].action.edits[0].after.contains("icc"));
    assert_eq!(p.unfixed.len(), 1, "{:#?}", p.unfixed);
    assert!(
        p.unfixed[0]
            .reason
            .contains("--iptables=false with --icc=false"),
        "{}",
        p.unfixed[0].reason
    );
}

/// A fix that needs a full restart says, when the running daemon has live restore off, that the
/// restart stops its running containers and how to avoid it; a fix a reload applies, or a daemon
/// with live restore on, says nothing of the kind.
#[test]
fn a_restart_that_stops_running_containers_is_named_as_a_risk() {
    let root = temp_root("restart-stops");
    put(&root, "/etc/docker/daemon.json", DAEMON_JSON);
    let mut snap = with_daemon(snapshot(&root), "-H fd://", Some(DAEMON_JSON));
    let info = |s: &mut bulkhead_facts::Snapshot| match &mut s.docker.as_mut().unwrap().info {
        bulkhead_facts::Fact::Value(i) => {
            i.containers_running = 3;
            i.live_restore_enabled = false;
        }
        _ => unreachable!(),
    };
    info(&mut snap);
    let stops = |p: &bulkhead_harden::Plan| {
        p.fixes[0]
            .may_break
            .iter()
            .any(|m| m.contains("stops its 3 running container(s)"))
    };
    // userland-proxy needs a full restart.
    let restart = docker_audit(
        "1.6.0",
        vec![("docker.daemon.userland_proxy_disabled", fail())],
    );
    let p = plan(&snap, std::slice::from_ref(&restart), &request(&root, &[])).unwrap();
    assert!(!p.fixes[0].restart.as_ref().unwrap().reload_suffices);
    assert!(stops(&p), "{:?}", p.fixes[0].may_break);
    // live-restore alone is reloaded, not restarted.
    let reload = docker_audit("1.6.0", vec![("docker.daemon.live_restore", fail())]);
    let p = plan(&snap, &[reload], &request(&root, &[])).unwrap();
    assert!(!stops(&p), "{:?}", p.fixes[0].may_break);
    // With live restore on in the running daemon, the containers survive the restart.
    if let bulkhead_facts::Fact::Value(i) = &mut snap.docker.as_mut().unwrap().info {
        i.live_restore_enabled = true;
    }
    let p = plan(&snap, &[restart], &request(&root, &[])).unwrap();
    assert!(!stops(&p), "{:?}", p.fixes[0].may_break);
}

/// `"icc": false` needs iptables on. When one plan turns iptables on (2.4) and icc off (2.2),
/// the pair is judged on the daemon.json both write together: both are fixed whichever check
/// comes first. With iptables off on the command line neither is, in either order.
#[test]
fn icc_and_iptables_fixed_together_in_either_order() {
    let root = temp_root("icc-iptables-together");
    let config = "{\n  \"iptables\": false\n}\n";
    put(&root, "/etc/docker/daemon.json", config);
    let snap = with_daemon(snapshot(&root), "", Some(config));
    let icc = ("docker.daemon.icc_disabled", fail());
    let iptables = ("docker.daemon.iptables_allowed", fail());
    let mut plans = Vec::new();
    for order in [
        vec![icc.clone(), iptables.clone()],
        vec![iptables.clone(), icc.clone()],
    ] {
        let p = plan(&snap, &[docker_audit("1.6.0", order)], &request(&root, &[])).unwrap();
        assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
        assert_eq!(p.fixes.len(), 1);
        assert_eq!(p.fixes[0].checks, vec!["2.2", "2.4"]);
        let after: serde_json::Value =
            serde_json::from_str(&p.fixes[0].action.edits[0].after).unwrap();
        assert_eq!(after["icc"], false, "{after}");
        assert_eq!(after["iptables"], true, "{after}");
        plans.push(p.fixes[0].action.edits[0].after.clone());
    }
    assert_eq!(
        plans[0], plans[1],
        "the order of the checks changes nothing"
    );

    let snap = with_daemon(snapshot(&root), "--iptables=false", Some("{}"));
    put(&root, "/etc/docker/daemon.json", "{}\n");
    for order in [
        vec![icc.clone(), iptables.clone()],
        vec![iptables.clone(), icc.clone()],
    ] {
        let p = plan(&snap, &[docker_audit("1.6.0", order)], &request(&root, &[])).unwrap();
        assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
        let reason = |check: &str| {
            p.unfixed
                .iter()
                .find(|u| u.check == check)
                .map(|u| u.reason.clone())
                .unwrap_or_default()
        };
        assert!(
            reason("2.4").contains("flag --iptables"),
            "{:#?}",
            p.unfixed
        );
        assert!(
            reason("2.2").contains("--iptables=false with --icc=false"),
            "{:#?}",
            p.unfixed
        );
    }
}

/// Without iptables rules the userland proxy is what forwards published ports: 2.16 is not
/// fixed while iptables is off, unless the same plan turns iptables on (in either order); a file
/// that already holds the pair does not hold up the fixes of other keys, since dockerd starts
/// with it.
#[test]
fn userland_proxy_stays_on_while_iptables_is_off() {
    let root = temp_root("proxy-iptables");
    let proxy = ("docker.daemon.userland_proxy_disabled", fail());
    let live = ("docker.daemon.live_restore", fail());
    let iptables = ("docker.daemon.iptables_allowed", fail());

    put(&root, "/etc/docker/daemon.json", "{}\n");
    let snap = with_daemon(snapshot(&root), "--iptables=false", Some("{}"));
    let audit = docker_audit("1.6.0", vec![proxy.clone(), live.clone()]);
    let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    assert_eq!(p.fixes[0].checks, vec!["2.15"]);
    let after = &p.fixes[0].action.edits[0].after;
    assert!(!after.contains("userland-proxy"), "{after}");
    let unfixed = p.unfixed.iter().find(|u| u.check == "2.16").expect("2.16");
    assert!(
        unfixed
            .reason
            .contains("the userland proxy is what forwards published ports")
            && unfixed.reason.contains("flag --iptables"),
        "{}",
        unfixed.reason
    );

    let config = "{\n  \"iptables\": false\n}\n";
    put(&root, "/etc/docker/daemon.json", config);
    let snap = with_daemon(snapshot(&root), "", Some(config));
    for order in [
        vec![proxy.clone(), iptables.clone()],
        vec![iptables.clone(), proxy.clone()],
    ] {
        let p = plan(&snap, &[docker_audit("1.6.0", order)], &request(&root, &[])).unwrap();
        assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
        let after: serde_json::Value =
            serde_json::from_str(&p.fixes[0].action.edits[0].after).unwrap();
        assert_eq!(
            after,
            serde_json::json!({"iptables": true, "userland-proxy": false})
        );
    }

    let config = "{\n  \"iptables\": false,\n  \"userland-proxy\": false\n}\n";
    put(&root, "/etc/docker/daemon.json", config);
    let snap = with_daemon(snapshot(&root), "", Some(config));
    let p = plan(
        &snap,
        &[docker_audit("1.6.0", vec![live])],
        &request(&root, &[]),
    )
    .unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 1);
    assert_eq!(p.fixes[0].checks, vec!["2.15"]);
}

/// What sending logs to syslog may break depends on the engine and the address: Docker Engine
/// 20.10 and later keep `docker logs` working from a local cache (dual logging), older engines do
/// not; over TCP a container does not start while the collector refuses connections.
#[test]
fn remote_logging_risks_follow_the_engine_version_and_the_address() {
    let root = temp_root("syslog-risks");
    put(&root, "/etc/docker/daemon.json", "{}\n");
    let risks = |engine: &str, address: &str| {
        let mut snap = with_daemon(snapshot(&root), "", Some("{}"));
        if let bulkhead_facts::Fact::Value(v) = &mut snap.docker.as_mut().unwrap().version {
            v.version = engine.into();
        }
        let audit = docker_audit("1.6.0", vec![("docker.daemon.remote_logging", fail())]);
        let mut req = request(&root, &[]);
        req.options.log_address = Some(address.into());
        let p = plan(&snap, &[audit], &req).unwrap();
        p.fixes[0].may_break.join("\n")
    };
    let new = risks("20.10.24+dfsg1", "udp://10.0.0.5:514");
    assert!(
        new.contains("still works from the engine's local cache"),
        "{new}"
    );
    assert!(!new.contains("does not start"), "{new}");
    let old = risks("19.03.15", "udp://10.0.0.5:514");
    assert!(old.contains("no longer shows the output"), "{old}");
    let tcp = risks("26.1.0", "tcp+tls://logs.example:6514");
    assert!(
        tcp.contains("still works from the engine's local cache"),
        "{tcp}"
    );
    assert!(
        tcp.contains("over TCP a container does not start while the collector refuses"),
        "{tcp}"
    );
}

/// A dockerd without CAP_SYS_RESOURCE cannot give a container more open files than it may open
/// itself, and the container then does not start: the default nofile limit is kept within the
/// daemon's own hard limit, with a note; a daemon allowed more (or unlimited) gets the default.
#[test]
fn default_ulimits_stay_within_the_daemons_own_limit() {
    let root = temp_root("nofile-cap");
    put(&root, "/etc/docker/daemon.json", "{}\n");
    let plan_with = |hard: Option<u64>| {
        let mut snap = with_daemon(snapshot(&root), "", Some("{}"));
        snap.docker.as_mut().unwrap().daemon.open_files_limit =
            Some(bulkhead_facts::docker::ResourceLimit {
                soft: Some(1024),
                hard,
            });
        let audit = docker_audit("1.6.0", vec![("docker.daemon.default_ulimits", fail())]);
        let p = plan(&snap, &[audit], &request(&root, &[])).unwrap();
        let f = p.fixes[0].clone();
        let after: serde_json::Value = serde_json::from_str(&f.action.edits[0].after).unwrap();
        (
            after["default-ulimits"]["nofile"].clone(),
            f.notes.join("\n"),
        )
    };
    let (nofile, note) = plan_with(Some(20000));
    assert_eq!(
        nofile,
        serde_json::json!({"Name": "nofile", "Soft": 20000, "Hard": 20000})
    );
    assert!(note.contains("lowered to 20000/20000"), "{note}");
    for roomy in [Some(1048576), None] {
        let (nofile, note) = plan_with(roomy);
        assert_eq!(nofile["Hard"], 65536, "{roomy:?}");
        assert!(!note.contains("lowered"), "{note}");
    }
}

/// With `--iptables=false` on dockerd's command line no fix can turn iptables on: the fix of the
/// iptables check (2.4) is refused too, since a fix writes daemon.json and never the command
/// line. The reasons of 2.2 (icc) and 2.16 (userland proxy) must then not send the user to
/// select 2.4 in the same run, as they do when daemon.json turns iptables off: they name the flag
/// and where to remove it — the unit file the audit found (a user unit for rootless Docker), or,
/// for a dockerd the service manager did not start, the process that did — with the check
/// numbers of the plan's edition.
#[test]
fn with_iptables_off_on_the_command_line_the_reasons_say_to_remove_the_flag() {
    let root = temp_root("iptables-flag-reasons");
    put(&root, "/etc/docker/daemon.json", "{}\n");
    let icc = ("docker.daemon.icc_disabled", fail());
    let iptables = ("docker.daemon.iptables_allowed", fail());
    let proxy = ("docker.daemon.userland_proxy_disabled", fail());
    // dockerd (pid 1234) started by `parent`, with the docker.service unit file `unit`.
    let host = |args: &str, unit: Option<&str>, rootless: bool, parent: u32| {
        let mut snap = with_daemon(snapshot(&root), args, Some("{}"));
        let d = &mut snap.docker.as_mut().unwrap().daemon;
        d.paths
            .units
            .insert("docker.service".into(), unit.map(String::from));
        d.rootless = rootless;
        d.process = bulkhead_facts::Fact::Value(Some(bulkhead_facts::host::Process {
            pid: 1234,
            ppid: parent,
            comm: "dockerd".into(),
            argv: std::iter::once("/usr/bin/dockerd")
                .chain(args.split_whitespace())
                .map(String::from)
                .collect(),
            ..Default::default()
        }));
        snap
    };
    let reasons = |snap: &bulkhead_facts::Snapshot, audit| {
        let p = plan(snap, &[audit], &request(&root, &[])).unwrap();
        assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
        p.unfixed
            .iter()
            .map(|u| (u.check.clone(), u.reason.clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };

    let unit = "/lib/systemd/system/docker.service";
    let snap = host("-H fd:// --iptables=false", Some(unit), false, 1);
    let all = docker_audit("1.6.0", vec![icc.clone(), iptables.clone(), proxy.clone()]);
    let r = reasons(&snap, all);
    assert!(r["2.4"].contains("flag --iptables"), "{}", r["2.4"]);
    assert!(
        r["2.2"].contains("--iptables=false with --icc=false"),
        "{}",
        r["2.2"]
    );
    assert!(
        r["2.16"].contains("the userland proxy is what forwards published ports")
            && r["2.16"].contains("flag --iptables"),
        "{}",
        r["2.16"]
    );
    let remove = format!("remove --iptables=false from the ExecStart= line of docker.service ({unit}, the unit file the audit found) or of a drop-in that overrides it (`systemctl cat docker.service` shows both, with their paths), run `systemctl daemon-reload` and restart dockerd, then run harden again");
    for check in ["2.2", "2.16"] {
        let why = &r[check];
        assert!(!why.contains("Select the iptables check"), "{check}: {why}");
        assert!(
            why.contains(
                "No fix turns iptables on while --iptables=false is on the dockerd command line"
            ) && why.contains("selecting the iptables check (2.4) changes nothing")
                && why.ends_with(&remove),
            "{check}: {why}"
        );
    }
    // The refusal of 2.4 itself points at the same place.
    assert!(
        r["2.4"].contains(&format!(
            "from the ExecStart= line of docker.service ({unit}"
        )),
        "{}",
        r["2.4"]
    );

    // Rootless Docker: a user unit, managed with `systemctl --user`.
    let user_unit = "/home/alice/.config/systemd/user/docker.service";
    let snap = host("--iptables=0", Some(user_unit), true, 777);
    let r = reasons(&snap, docker_audit("1.6.0", vec![proxy.clone()]));
    assert!(
        r["2.16"].contains(&format!(
            "remove --iptables=0 from the ExecStart= line of docker.service ({user_unit}"
        )) && r["2.16"].contains("`systemctl --user cat docker.service`")
            && r["2.16"].contains("run `systemctl --user daemon-reload` and restart dockerd"),
        "{}",
        r["2.16"]
    );

    // No unit file found: no path is made up.
    let snap = host("--iptables=false", None, false, 1);
    let r = reasons(&snap, docker_audit("1.6.0", vec![proxy.clone()]));
    assert!(
        r["2.16"].ends_with("remove --iptables=false from whatever starts dockerd (the audit found no docker.service unit file), restart dockerd, then run harden again"),
        "{}",
        r["2.16"]
    );
    // A root dockerd started by another process than the service manager (by hand, by a
    // script): an installed unit file is not where its command line comes from.
    let snap = host("--iptables=false", Some(unit), false, 4242);
    let r = reasons(&snap, docker_audit("1.6.0", vec![proxy.clone()]));
    assert!(
        r["2.16"].ends_with("remove --iptables=false from whatever started dockerd (pid 1234, a child of pid 4242, not of the service manager), restart dockerd, then run harden again"),
        "{}",
        r["2.16"]
    );
    assert!(!r["2.16"].contains(unit), "{}", r["2.16"]);

    // In CIS Docker 1.2.0 the iptables check is 2.3 and the userland proxy 2.14.
    let snap = host("--iptables=false", Some(unit), false, 1);
    let r = reasons(
        &snap,
        docker_audit("1.2.0", vec![icc.clone(), proxy.clone()]),
    );
    for check in ["2.1", "2.14"] {
        assert!(
            r[check].contains("selecting the iptables check (2.3) changes nothing"),
            "{check}: {}",
            r[check]
        );
    }

    // iptables turned off in daemon.json: selecting the iptables check in the same run is the
    // fix (shown in icc_and_iptables_fixed_together_in_either_order), and the reason says so.
    let config = "{\n  \"iptables\": false\n}\n";
    put(&root, "/etc/docker/daemon.json", config);
    for (edition, iptables_check, proxy_check) in
        [("1.6.0", "2.4", "2.16"), ("1.2.0", "2.3", "2.14")]
    {
        let mut snap = with_daemon(snapshot(&root), "", Some(config));
        snap.docker
            .as_mut()
            .unwrap()
            .daemon
            .paths
            .units
            .insert("docker.service".into(), Some(unit.into()));
        let r = reasons(&snap, docker_audit(edition, vec![proxy.clone()]));
        let why = &r[proxy_check];
        assert!(
            why.ends_with(&format!("Select the iptables check ({iptables_check}) in the same harden run, or enable iptables first, then run harden again")),
            "{edition}: {why}"
        );
        assert!(!why.contains("command line"), "{edition}: {why}");
    }
}
