//! Snapshots (issue 2, point 4): `bulkhead collect -o snap.json` then `bulkhead audit
//! --snapshot snap.json` gives the live audit's results, offline; container selection applies
//! to a snapshot as it does live; a snapshot of another schema is refused with a clear message.
//!
//! The one field that legitimately differs between two runs is `target.collected_at`: each
//! collection stamps its own time, and an audit of a snapshot reports the snapshot's time (the
//! time its facts are true of), never the time of the offline evaluation. The tests check that
//! and then require everything else to be identical.

use crate::lab_or_skip;
use crate::support::{run, run_env, Lab, TempDir};
use serde_json::Value;

/// Collect the lab into `dir/name` with extra collect arguments.
fn collect(lab: &Lab, dir: &TempDir, name: &str, args: &[&str]) -> String {
    let path = dir.arg(name);
    let mut all = vec!["collect", "docker", "--docker-host", &lab.host, "-o", &path];
    all.extend_from_slice(args);
    let r = run(&all);
    r.expect_code(0);
    assert_eq!(r.stdout, "", "with -o the snapshot goes to the file");
    assert!(r.stderr.contains(&path), "collect says where it wrote\n{r}");
    path
}

fn collected_at(snapshot_path: &str) -> String {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(snapshot_path).unwrap()).unwrap();
    assert_eq!(v["schema"], "bulkhead.snapshot/1");
    v["collected_at"].as_str().unwrap().to_string()
}

/// Assert a snapshot audit's document equals a live one but for the collection time, which
/// must be the snapshot's own.
fn assert_same_but_collection_time(offline: &str, live: &str, snapshot: &str) {
    let snapshot_time = collected_at(snapshot);
    let snapshot_time = snapshot_time.as_str();
    let mut off: Value = serde_json::from_str(offline).unwrap();
    let mut liv: Value = serde_json::from_str(live).unwrap();
    assert_eq!(off["target"]["collected_at"], snapshot_time);
    let live_time = liv["target"]["collected_at"].as_str().unwrap().to_string();
    assert!(
        live_time.as_str() >= snapshot_time,
        "{live_time} < {snapshot_time}"
    );
    off["target"]["collected_at"] = Value::Null;
    liv["target"]["collected_at"] = Value::Null;
    assert!(
        off == liv,
        "snapshot audit differs from the live audit:\n{}\n{}",
        first_difference(&off, &liv),
        daemon_discovery(snapshot)
    );
    // Byte for byte, once the two times are made equal.
    assert_eq!(
        offline.replace(snapshot_time, "T"),
        live.replace(&live_time, "T")
    );
}

/// How the snapshot's collection identified dockerd, for failure messages.
fn daemon_discovery(snapshot: &str) -> String {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(snapshot).unwrap()).unwrap();
    let dockerds: Vec<String> = v["host"]["processes"]["value"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| {
            p["comm"] == "dockerd" || p["exe"].as_str().is_some_and(|e| e.ends_with("/dockerd"))
        })
        .map(|p| format!("pid {} ppid {} argv {}", p["pid"], p["ppid"], p["argv"]))
        .collect();
    format!(
        "snapshot's dockerd discovery: {}\n  dockerd-like processes:\n    {}",
        v["docker"]["daemon"]["process_reason"],
        dockerds.join("\n    ")
    )
}

fn first_difference(a: &Value, b: &Value) -> String {
    fn walk(a: &Value, b: &Value, path: String) -> Option<String> {
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                for k in x.keys().chain(y.keys()) {
                    let (va, vb) = (
                        x.get(k).unwrap_or(&Value::Null),
                        y.get(k).unwrap_or(&Value::Null),
                    );
                    if let Some(d) = walk(va, vb, format!("{path}.{k}")) {
                        return Some(d);
                    }
                }
                None
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (va, vb))| walk(va, vb, format!("{path}[{i}]"))),
            _ if a == b => None,
            _ => Some(format!("{path}: snapshot {a} vs live {b}")),
        }
    }
    walk(a, b, String::new()).unwrap_or_default()
}

#[test]
fn audit_of_a_collected_snapshot_equals_the_live_audit() {
    let lab = lab_or_skip!();
    let dir = TempDir::new("snapshot");
    let _gate = lab.read();
    let snap = collect(lab, &dir, "snap.json", &[]);
    let time = collected_at(&snap);
    let live = lab.audit(&["--format", "json"]);
    live.expect_code(1);
    // Offline: a DOCKER_HOST nothing listens on proves no daemon is asked (--docker-host
    // beside --snapshot is refused as meaningless).
    let offline = run_env(
        &["audit", "docker", "--snapshot", &snap, "--format", "json"],
        &[("DOCKER_HOST", "unix:///nonexistent/bulkhead-e2e.sock")],
    );
    offline.expect_code(1);
    assert_same_but_collection_time(&offline.stdout, &live.stdout, &snap);

    // The text report too, but for its "# collected:" line.
    let text_live = lab.audit(&["--color", "never"]);
    let text_off = run(&["audit", "docker", "--snapshot", &snap, "--color", "never"]);
    let strip = |s: &str| -> String {
        s.lines()
            .filter(|l| !l.starts_with("# collected: "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&text_off.stdout), strip(&text_live.stdout));
    assert!(text_off.stdout.contains(&format!("# collected: {time}\n")));
}

#[test]
fn container_selection_applies_to_a_snapshot_as_it_does_live() {
    let lab = lab_or_skip!();
    let dir = TempDir::new("snapshot-select");
    let _gate = lab.read();
    let all = collect(lab, &dir, "all.json", &["--all-containers"]);
    for args in [
        vec!["--include", "^(plain|created)$"],
        vec!["--label", "tier=web"],
        vec!["--exclude", "^(plain|hostile)$"],
        vec!["--include", "^nothing$"],
    ] {
        let mut live_args = vec!["--format", "json", "--fail-on", "never", "--all-containers"];
        live_args.extend_from_slice(&args);
        let live = lab.audit(&live_args);
        live.expect_code(0);
        let mut off_args = vec![
            "audit",
            "docker",
            "--snapshot",
            &all,
            "--format",
            "json",
            "--fail-on",
            "never",
        ];
        off_args.extend_from_slice(&args);
        let offline = run(&off_args);
        offline.expect_code(0);
        assert_same_but_collection_time(&offline.stdout, &live.stdout, &all);
    }
    // A running-only snapshot cannot answer --all-containers: refused, not silently ignored.
    let running = collect(lab, &dir, "running.json", &[]);
    let r = run(&[
        "audit",
        "docker",
        "--snapshot",
        &running,
        "--all-containers",
    ]);
    r.expect_code(2);
    assert!(
        r.stderr.contains(&running) && r.stderr.contains("--all-containers"),
        "{r}"
    );
}

#[test]
fn snapshot_of_another_schema_or_not_a_snapshot_is_refused() {
    let lab = lab_or_skip!();
    let dir = TempDir::new("snapshot-bad");
    let good = crate::lab_snapshot(lab);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    v["schema"] = "bulkhead.snapshot/99".into();
    let future = dir.arg("future.json");
    std::fs::write(&future, serde_json::to_string(&v).unwrap()).unwrap();
    let r = run(&["audit", "docker", "--snapshot", &future]);
    r.expect_code(2);
    assert_eq!(r.stdout, "");
    for part in [
        future.as_str(),
        "bulkhead.snapshot/99",
        "bulkhead.snapshot/1",
        "bulkhead collect",
    ] {
        assert!(r.stderr.contains(part), "message lacks {part:?}\n{r}");
    }

    // An audit report is not a snapshot.
    let report = dir.arg("report.json");
    let a = run(&[
        "audit",
        "docker",
        "--snapshot",
        good.to_str().unwrap(),
        "--format",
        "json",
        "-o",
        &report,
    ]);
    a.expect_code(1);
    let r = run(&["audit", "docker", "--snapshot", &report]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("bulkhead.audit/1") && r.stderr.contains(&report),
        "{r}"
    );

    let broken = dir.arg("broken.json");
    std::fs::write(&broken, "{\"schema\": \"bulkhead.snapshot/1\",").unwrap();
    let r = run(&["audit", "docker", "--snapshot", &broken]);
    r.expect_code(2);
    assert!(
        r.stderr.contains(&broken) && r.stderr.contains("not valid JSON"),
        "{r}"
    );

    let missing = dir.arg("missing.json");
    let r = run(&["audit", "docker", "--snapshot", &missing]);
    r.expect_code(2);
    assert!(r.stderr.contains(&missing), "{r}");
}
