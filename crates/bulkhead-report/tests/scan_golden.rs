//! Golden tests of every `bulkhead scan` output format over one fixture set (a Dockerfile, a
//! compose file, a Deployment and a daemon.json under tests/fixtures/scan). Regenerate with
//! `BULKHEAD_BLESS=1 cargo test -p bulkhead-report --test scan_golden` and review the diff.

use bulkhead_report::{scan_github, scan_json, scan_junit, scan_sarif, scan_text};
use bulkhead_scan::{scan_inputs, ArtifactKind, Input, ScanOptions, ScanReport};
use std::path::PathBuf;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn report() -> ScanReport {
    let files = [
        ("Dockerfile", ArtifactKind::Dockerfile),
        ("compose.yaml", ArtifactKind::Compose),
        ("deploy.yaml", ArtifactKind::Kubernetes),
        ("daemon.json", ArtifactKind::DaemonJson),
    ];
    let inputs: Vec<Input> = files
        .iter()
        .map(|(name, kind)| Input {
            path: format!("fixtures/{name}"),
            bytes: std::fs::read(dir().join("fixtures/scan").join(name)).unwrap(),
            kind: Some(*kind),
        })
        .collect();
    // A fixed date so suppression expiry cannot change the output.
    let opts = ScanOptions {
        today: bulkhead_scan::config::parse_date("2026-01-01").unwrap(),
        threads: 1,
        ..ScanOptions::default()
    };
    scan_inputs(&inputs, &opts)
}

fn golden(name: &str, actual: &str) {
    bulkhead_testkit::golden::assert_golden(&dir().join("golden").join(name), actual);
}

const SECRETS: &[&str] = &[
    "Sup3rSecretValue",
    "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB",
];

fn no_secrets(name: &str, s: &str) {
    for secret in SECRETS {
        assert!(!s.contains(secret), "{name} prints a secret value");
    }
}

#[test]
fn text_output() {
    let s = scan_text::render(&report(), false);
    no_secrets("text", &s);
    assert!(
        s.contains("fixtures/Dockerfile:6:1: high     dockerfile-no-user"),
        "{s}"
    );
    golden("scan.txt", &s);
}

#[test]
fn json_output() {
    let s = scan_json::render(&report(), "0.0.0-test");
    no_secrets("json", &s);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["schema"], "bulkhead.scan/1");
    let f = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "dockerfile-no-user")
        .unwrap();
    assert_eq!(f["location"]["path"], "fixtures/Dockerfile");
    assert_eq!(f["location"]["line"], 6);
    assert_eq!(f["benchmark_refs"]["cis-docker-1.6.0"], "4.1");
    assert_eq!(f["stride"], serde_json::json!(["E"]));
    assert_eq!(f["fix"]["safety"], "review");
    assert!(f["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "CKV_DOCKER_3"));
    // threats and harden read findings back from this document
    let back = bulkhead_scan::fixes::findings_from_json(&s).unwrap();
    assert_eq!(back, report().findings);
    golden("scan.json", &s);
}

#[test]
fn sarif_output_is_what_github_accepts() {
    // PITFALLS "Artifact scanners" 6.
    let s = scan_sarif::render(&report(), "0.0.0-test");
    no_secrets("sarif", &s);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "one run per tool");
    let rules = runs[0]["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        let sev: f64 = r["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&sev));
    }
    let results = runs[0]["results"].as_array().unwrap();
    assert!(results.len() > 10);
    let mut fps = std::collections::BTreeSet::new();
    for r in results {
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(
            loc["artifactLocation"]["uri"]
                .as_str()
                .is_some_and(|u| !u.is_empty()),
            "{r}"
        );
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1, "{r}");
        let fp = r["partialFingerprints"]["bulkhead/v1"].as_str().unwrap();
        assert!(fps.insert(fp.to_string()), "fingerprints are unique");
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
    }
    // stable: the same input gives the same fingerprints
    let again = scan_sarif::render(&report(), "0.0.0-test");
    assert_eq!(s, again);
    golden("scan.sarif", &s);
}

#[test]
fn github_annotations() {
    let s = scan_github::render(&report());
    no_secrets("github", &s);
    assert!(s.lines().all(|l| l.starts_with("::error ")
        || l.starts_with("::warning ")
        || l.starts_with("::notice ")));
    golden("scan.github.txt", &s);
}

#[test]
fn junit_output() {
    let s = scan_junit::render(&report());
    no_secrets("junit", &s);
    assert!(s.starts_with("<?xml"));
    golden("scan.junit.xml", &s);
}
