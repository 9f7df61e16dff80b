//! `--format docker-bench-json` (issue 2, point 7): docker-bench-security's field names so its
//! consumers keep working, valid JSON whatever the audited host holds, and one shape whether or
//! not checks are selected.
//!
//! PITFALL 19 (docker-bench-security): its JSON is assembled with printf, so a quote or a
//! backslash in what it found breaks the document, and selecting single checks changes the
//! shape. The hostile bind-mount path and the `--only` comparison below fail on that behaviour.

use crate::support::{results_by_id, HOSTILE, HOSTILE_DIR, LABELLED, PLAIN};
use crate::{audit_snapshot, lab_or_skip};
use serde_json::Value;
use std::collections::BTreeSet;

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// docker-bench's four results for bulkhead's seven statuses (docs/json-audit.md).
fn docker_bench_result(status: &str) -> &'static str {
    match status {
        "pass" => "PASS",
        "fail" | "warn" | "error" => "WARN",
        "info" | "not_applicable" => "INFO",
        "manual" => "NOTE",
        other => panic!("unknown status {other}"),
    }
}

/// Assert docker-bench's field names at every level; return every result entry.
fn assert_shape(doc: &Value) -> Vec<Value> {
    assert_eq!(
        keys(doc),
        set(&[
            "dockerbenchsecurity",
            "start",
            "tests",
            "checks",
            "score",
            "end"
        ])
    );
    assert!(doc["dockerbenchsecurity"].is_string());
    assert!(doc["start"].is_i64() && doc["end"].is_i64());
    assert!(doc["start"].as_i64() <= doc["end"].as_i64());
    let mut entries = Vec::new();
    for t in doc["tests"].as_array().expect("tests") {
        assert_eq!(keys(t), set(&["id", "desc", "results"]));
        for r in t["results"].as_array().expect("results") {
            assert_eq!(
                keys(r),
                set(&[
                    "id",
                    "desc",
                    "result",
                    "details",
                    "items",
                    "remediation",
                    "remediation-impact"
                ]),
                "{r}"
            );
            assert!(r["items"].as_array().unwrap().iter().all(Value::is_string));
            let sec = r["id"].as_str().unwrap().split('.').next().unwrap();
            assert_eq!(t["id"], sec, "{r}");
            entries.push(r.clone());
        }
    }
    assert_eq!(doc["checks"], entries.len());
    entries
}

#[test]
fn field_names_results_and_score_match_the_audit() {
    let lab = lab_or_skip!();
    let r = audit_snapshot(lab, &["--format", "docker-bench-json"]);
    r.expect_code(1);
    let doc = r.json();
    let entries = assert_shape(&doc);
    let bulk = audit_snapshot(lab, &["--format", "json"]).json();
    let by_id = results_by_id(&bulk);
    assert_eq!(entries.len(), by_id.len());
    assert_eq!(doc["score"], bulk["summary"]["score"]);
    let sections: Vec<&str> = doc["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(sections, ["1", "2", "3", "4", "5", "6", "7"]);
    assert_eq!(doc["tests"][4]["desc"], "Container Runtime");
    for e in &entries {
        let b = &by_id[e["id"].as_str().unwrap()];
        let status = b["status"].as_str().unwrap();
        assert_eq!(e["desc"], b["title"]);
        assert_eq!(e["result"], docker_bench_result(status), "{e}");
        // The real status is never lost: details start with it.
        assert!(
            e["details"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{status}: ")),
            "{e}"
        );
        assert_eq!(e["remediation"], b["remediation"]);
    }
    let e513 = entries.iter().find(|e| e["id"] == "5.13").unwrap();
    assert_eq!(e513["result"], "WARN");
    assert_eq!(
        e513["items"],
        serde_json::json!([HOSTILE, LABELLED, PLAIN]),
        "items name the failing containers"
    );
}

#[test]
fn hostile_path_is_escaped_and_comes_back_intact() {
    let lab = lab_or_skip!();
    let r = audit_snapshot(lab, &["--format", "docker-bench-json", "--only", "5.6"]);
    r.expect_code(1);
    // Valid JSON (a printf-built document breaks on the quote), and the raw control characters
    // of the path are escaped in the text.
    assert!(!r.stdout.contains('\u{1b}'), "raw ESC in the JSON text");
    let doc = r.json();
    let e = &doc["tests"][0]["results"][0];
    assert_eq!(e["id"], "5.6");
    assert_eq!(e["items"], serde_json::json!([HOSTILE]));
    let details = e["details"].as_str().unwrap();
    assert!(
        details.contains(&lab.hostile_source),
        "details do not carry the path {:?}: {details:?}",
        lab.hostile_source
    );
    assert!(details.contains(HOSTILE_DIR));
}

#[test]
fn one_shape_with_and_without_only() {
    let lab = lab_or_skip!();
    let all = audit_snapshot(lab, &["--format", "docker-bench-json"]).json();
    let one = audit_snapshot(lab, &["--format", "docker-bench-json", "--only", "5.13"]).json();
    let one_entries = assert_shape(&one);
    assert_shape(&all);
    assert_eq!(keys(&all), keys(&one));
    assert_eq!(one_entries.len(), 1);
    assert_eq!(one["checks"], 1);
    assert_eq!(one["tests"].as_array().unwrap().len(), 1);
    assert_eq!(keys(&one["tests"][0]), keys(&all["tests"][4]));
    // The selected entry is the same entry as in the full document.
    let full = all["tests"][4]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "5.13")
        .unwrap();
    assert_eq!(&one_entries[0], full);
    // A whole section selected keeps the same shape too.
    let sec = audit_snapshot(lab, &["--format", "docker-bench-json", "--only", "7"]).json();
    assert_shape(&sec);
    assert_eq!(sec["tests"][0]["id"], "7");
}

#[test]
fn live_run_times_bracket_the_audit_and_snapshot_runs_use_the_collection_time() {
    let lab = lab_or_skip!();
    let before = now();
    let live = {
        let _gate = lab.read();
        lab.audit(&["--format", "docker-bench-json", "--only", "5.13"])
            .json()
    };
    let after = now();
    let (start, end) = (
        live["start"].as_i64().unwrap(),
        live["end"].as_i64().unwrap(),
    );
    assert!(
        before <= start && start <= end && end <= after,
        "{start}..{end} not in {before}..{after}"
    );
    // Offline evaluation of a snapshot renders the same document every time: its times are
    // the snapshot's collection time.
    let a = audit_snapshot(lab, &["--format", "docker-bench-json"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let b = audit_snapshot(lab, &["--format", "docker-bench-json"]);
    assert_eq!(a.stdout, b.stdout);
    let collected = audit_snapshot(lab, &["--format", "json"]).json()["target"]["collected_at"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = a.json();
    assert_eq!(doc["start"], doc["end"]);
    assert_eq!(unix_of(&collected), doc["start"].as_i64().unwrap());
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Unix seconds of `YYYY-MM-DDTHH:MM:SSZ`, computed independently of bulkhead's own code
/// (days counted year by year).
fn unix_of(t: &str) -> i64 {
    let n = |a: usize, b: usize| t[a..b].parse::<i64>().unwrap();
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days: i64 = (1970..y).map(|y| if leap(y) { 366 } else { 365 }).sum();
    let month_days = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    days += month_days[..(m - 1) as usize].iter().sum::<i64>() + d - 1;
    days * 86_400 + n(11, 13) * 3_600 + n(14, 16) * 60 + n(17, 19)
}
