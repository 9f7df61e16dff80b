//! Golden tests of every `bulkhead scan` output format over one fixture set (a Dockerfile, a
//! compose file, a Deployment and a daemon.json under tests/fixtures/scan). Regenerate with
//! `BULKHEAD_BLESS=1 cargo test -p bulkhead-report --test scan_golden` and review the diff.

use bulkhead_report::{scan_github, scan_json, scan_junit, scan_sarif, scan_text};
use bulkhead_scan::{scan_inputs, ArtifactKind, Input, ScanOptions, ScanReport, SourceRoot};
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
    let s = scan_sarif::render(&report(), "0.0.0-test", Some(&repo_root()));
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
    let again = scan_sarif::render(&report(), "0.0.0-test", Some(&repo_root()));
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

/// The SARIF golden's source tree: a scan run at the top of /work/repo.
fn repo_root() -> SourceRoot {
    SourceRoot {
        cwd: "/work/repo".into(),
        top: "/work/repo".into(),
    }
}

/// GitHub reads a relative `uri` against the checkout root; SARIF says which root through
/// `uriBaseId`/`originalUriBaseIds`. Paths inside the scan's directory are relative (also when
/// given as absolute paths), so no local directory leaks and the URI does not change when the
/// checkout moves; a path outside it, or one that climbs out with `..`, is an absolute file URI.
#[test]
fn sarif_uris_are_relative_to_the_source_root() {
    let text = b"FROM debian:12\nRUN apt-get install -y curl\n".to_vec();
    let inputs: Vec<Input> = [
        "plain/Dockerfile",
        "/work/repo/abs/Dockerfile",
        "/elsewhere/Dockerfile",
        "../up/Dockerfile",
        "sp ace/Dockerfile.<&\">'ü",
    ]
    .iter()
    .map(|p| Input {
        path: p.to_string(),
        bytes: text.clone(),
        kind: Some(ArtifactKind::Dockerfile),
    })
    .collect();
    let r = scan_inputs(&inputs, &bulkhead_scan::ScanOptions::default());
    let s = scan_sarif::render(&r, "0.0.0-test", Some(&repo_root()));
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let run = &v["runs"][0];
    assert_eq!(
        run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///work/repo/"
    );
    let mut locs: Vec<(String, String)> = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|res| {
            let a = &res["locations"][0]["physicalLocation"]["artifactLocation"];
            (
                a["uri"].as_str().unwrap().to_string(),
                a["uriBaseId"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    locs.sort();
    locs.dedup();
    let want = |u: &str, b: &str| (u.to_string(), b.to_string());
    assert_eq!(
        locs,
        vec![
            want("abs/Dockerfile", "%SRCROOT%"),
            want("file:///elsewhere/Dockerfile", ""),
            want("file:///work/up/Dockerfile", ""),
            want("plain/Dockerfile", "%SRCROOT%"),
            want("sp%20ace/Dockerfile.%3C%26%22%3E%27%C3%BC", "%SRCROOT%"),
        ]
    );
    assert!(!s.contains("/work/repo/abs"), "absolute path leaked");

    // Run in a subdirectory of the repository, the same files keep the URIs they have when the
    // scan runs at the top: code scanning reads them against the repository's root.
    let in_sub = SourceRoot {
        cwd: "/work/repo/plain".into(),
        top: "/work/repo".into(),
    };
    let sub = scan_inputs(
        &[Input {
            path: "Dockerfile".into(),
            bytes: text.clone(),
            kind: Some(ArtifactKind::Dockerfile),
        }],
        &bulkhead_scan::ScanOptions::default(),
    );
    let v: serde_json::Value =
        serde_json::from_str(&scan_sarif::render(&sub, "0.0.0-test", Some(&in_sub))).unwrap();
    let a = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(a["uri"], "plain/Dockerfile");
    assert_eq!(a["uriBaseId"], "%SRCROOT%");
    assert_eq!(
        v["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
        "file:///work/repo/"
    );
}

/// The SARIF multitool warns (SARIF1001) when a rule's `name` repeats its opaque `id`.
#[test]
fn sarif_rule_names_are_readable_identifiers() {
    let s = scan_sarif::render(&report(), "0.0.0-test", None);
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        let name = r["name"].as_str().unwrap();
        assert_ne!(r["id"].as_str().unwrap(), name);
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
        assert!(name.starts_with(|c: char| c.is_ascii_uppercase()), "{name}");
    }
    assert!(rules.iter().any(|r| r["name"] == "DockerfileNoUser"));
    // without a base there is nothing to state it by
    assert!(v["runs"][0].get("originalUriBaseIds").is_none());
}

/// Both JUnit reports, scan and audit (their golden files, which the renderers' output must
/// equal), validate against junit-10.xsd, the schema Jenkins' xUnit plugin and pytest use
/// (tests/fixtures, MIT, as its header says): strict consumers reject a whole report over one
/// attribute the schema lacks, such as `file` or `line` on a test case. Checked by xmllint
/// (libxml2-utils); under CI=true a missing xmllint fails.
#[test]
fn junit_reports_validate_against_the_junit_schema() {
    let Some(xmllint) = bulkhead_testkit::find_program("xmllint") else {
        assert!(
            !bulkhead_testkit::ci(),
            "CI=true: xmllint (libxml2-utils) is missing"
        );
        eprintln!("skipped: no xmllint");
        return;
    };
    let schema = dir().join("fixtures/junit-10.xsd");
    let scan = scan_junit::render(&report());
    assert_eq!(
        scan,
        std::fs::read_to_string(dir().join("golden/scan.junit.xml")).unwrap(),
        "the golden file is the current output"
    );
    for file in [
        dir().join("golden/scan.junit.xml"),
        dir().join("../../bulkhead/tests/golden/audit/junit.xml"),
    ] {
        let out = std::process::Command::new(&xmllint)
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{} does not validate:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
