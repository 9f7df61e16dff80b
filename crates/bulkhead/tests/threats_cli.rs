//! `bulkhead threats` and `bulkhead report` end to end through the real binary, on the snapshot
//! fixtures of bulkhead-threats: artifact findings given with `--scan` change threat statuses and
//! are cited as evidence; the Kubernetes audit feeds the Kubernetes threats; a node audited
//! without its cluster dump says which threats that leaves unknown; risk-acceptance mistakes are
//! errors at their file position.
//!
//! The artifacts under tests/threats_cli/ are small: a Dockerfile whose builder stage sets USER
//! but whose final stage runs as root, a compose file with a literal password, a privileged pod.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot(name: &str) -> PathBuf {
    dir().join(format!(
        "../bulkhead-threats/tests/fixtures/{name}.snapshot.json"
    ))
}

fn artifact(name: &str) -> PathBuf {
    dir().join("tests/threats_cli").join(name)
}

/// Run `bulkhead threats --format json` and return the document and stderr.
fn threats(snap: &str, scan: &[&str]) -> (Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulkhead"));
    cmd.args([
        "threats",
        "--format",
        "json",
        "--as-of",
        "2026-01-15",
        "--snapshot",
    ])
    .arg(snapshot(snap));
    for s in scan {
        cmd.arg("--scan").arg(artifact(s));
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "bulkhead threats failed: {stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

/// Assert that the run `out` succeeded, showing its standard error if not.
fn succeeded(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn threat<'a>(doc: &'a Value, id: &str) -> &'a Value {
    doc["threats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap_or_else(|| panic!("{id} in the model"))
}

fn scan_evidence<'a>(t: &'a Value, rule: &str) -> Vec<&'a Value> {
    t["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["check"] == rule && e["source"] == "scan")
        .collect()
}

#[test]
fn root_final_stage_in_a_dockerfile_exposes_dkr_e01() {
    let (before, _) = threats("hardened", &[]);
    assert_eq!(
        threat(&before, "DKR-E01")["status"],
        "mitigated",
        "the hardened host's containers run as non-root"
    );
    let (after, _) = threats("hardened", &["Dockerfile"]);
    let t = threat(&after, "DKR-E01");
    assert_eq!(t["status"], "exposed", "{}", t["reason"]);
    assert!(
        t["reason"]
            .as_str()
            .unwrap()
            .contains("docker.image.non_root_user"),
        "{}",
        t["reason"]
    );
    let ev = scan_evidence(t, "dockerfile-no-user");
    assert_eq!(
        ev.len(),
        1,
        "the final stage's finding is cited once: {:#}",
        t["evidence"]
    );
    let object = ev[0]["object"].as_str().unwrap();
    assert!(object.ends_with("Dockerfile:5 stage 1"), "{object}");
    assert_eq!(ev[0]["status"], "fail");
    assert!(after["evidence_sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s.as_str().unwrap().starts_with("bulkhead scan (1 file, ")));
}

#[test]
fn secret_in_a_compose_file_exposes_dkr_i01_without_showing_it() {
    let (before, _) = threats("hardened", &[]);
    assert_ne!(threat(&before, "DKR-I01")["status"], "exposed");
    let (after, _) = threats("hardened", &["compose.yaml"]);
    let t = threat(&after, "DKR-I01");
    assert_eq!(t["status"], "exposed", "{}", t["reason"]);
    let ev = scan_evidence(t, "compose-secret-env");
    assert_eq!(ev.len(), 1, "{:#}", t["evidence"]);
    assert!(ev[0]["actual"].as_str().unwrap().contains("DB_PASSWORD"));
    let text = after.to_string();
    assert!(
        !text.contains("hunter2"),
        "the secret value never reaches the output"
    );
}

#[test]
fn privileged_pod_manifest_exposes_the_pod_threats() {
    let (before, _) = threats("k8s-secure", &[]);
    for id in ["K8S-E02", "K8S-T05"] {
        assert_eq!(
            threat(&before, id)["status"],
            "mitigated",
            "{id} on the secure node"
        );
    }
    let (after, _) = threats("k8s-secure", &["pod.yaml"]);
    for id in ["K8S-E02", "K8S-T05"] {
        let t = threat(&after, id);
        assert_eq!(t["status"], "exposed", "{id}: {}", t["reason"]);
        let ev = scan_evidence(t, "k8s-privileged");
        assert_eq!(ev.len(), 1, "{id}: {:#}", t["evidence"]);
        assert!(ev[0]["object"]
            .as_str()
            .unwrap()
            .ends_with("pod.yaml:11 Pod/app/debug container shell"));
    }
    // The audit's own evidence is still there beside the scan's.
    let e02 = threat(&after, "K8S-E02");
    assert!(e02["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["check"] == "5.2.2" && e["source"] == "cis-kubernetes 1.12"));
}

#[test]
fn a_saved_scan_report_is_read_as_findings() {
    let report =
        std::env::temp_dir().join(format!("bulkhead-threats-cli-{}.json", std::process::id()));
    let s = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["scan", "--format", "json", "--fail-on", "never", "-o"])
        .arg(&report)
        .arg(artifact("Dockerfile"))
        .status()
        .unwrap();
    assert!(s.success());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulkhead"));
    cmd.args(["threats", "--format", "json", "--snapshot"])
        .arg(snapshot("hardened"))
        .arg("--scan")
        .arg(&report);
    let out = cmd.output().unwrap();
    let _ = std::fs::remove_file(&report);
    succeeded(&out);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(threat(&doc, "DKR-E01")["status"], "exposed");
}

#[test]
fn findings_no_threat_cites_are_reported_not_dropped() {
    // A pod manifest on a Docker-only host: no Kubernetes threat exists to cite it.
    let (doc, stderr) = threats("hardened", &["pod.yaml"]);
    assert!(doc["threats"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| !t["id"].as_str().unwrap().starts_with("K8S-")));
    assert!(
        stderr.contains("no threat of this model cites the findings of")
            && stderr.contains("k8s-privileged"),
        "{stderr}"
    );
}

#[test]
fn a_missing_scan_path_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["threats", "--snapshot"])
        .arg(snapshot("hardened"))
        .args(["--scan", "/nonexistent/Dockerfile"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("--scan /nonexistent/Dockerfile: no such file or directory"));
}

#[test]
fn report_takes_the_kubernetes_audit_and_scan_evidence() {
    let out = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args([
            "report",
            "--format",
            "markdown",
            "--as-of",
            "2026-01-15",
            "--snapshot",
        ])
        .arg(snapshot("k8s-insecure"))
        .arg("--scan")
        .arg(artifact("pod.yaml"))
        .output()
        .unwrap();
    succeeded(&out);
    let md = String::from_utf8_lossy(&out.stdout);
    let k8s = &md[md.find("## 2. Kubernetes threat model").unwrap()
        ..md.find("## 3. Benchmark results").unwrap()];
    for id in ["K8S-S01", "K8S-T01", "K8S-R01", "K8S-I01", "K8S-E01"] {
        assert!(
            k8s.contains(&format!("| {id} |")),
            "{id} in the Kubernetes section"
        );
    }
    assert!(
        k8s.contains("k8s-privileged"),
        "the scanned pod is cited in the Kubernetes section"
    );
    assert!(
        md.contains("### CIS Kubernetes"),
        "the Kubernetes benchmark results are listed"
    );
}

/// The HTML threat model states how many threats there are in each status, as the JSON summary
/// counts them.
#[test]
fn html_threat_model_states_the_summary_counts() {
    let (doc, _) = threats("writeup", &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args([
            "threats",
            "--format",
            "html",
            "--as-of",
            "2026-01-15",
            "--snapshot",
        ])
        .arg(snapshot("writeup"))
        .output()
        .unwrap();
    succeeded(&out);
    let html = String::from_utf8_lossy(&out.stdout);
    let by_status: Vec<String> = doc["summary"]["by_status"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| format!("{v} {}", k.replace('_', " ")))
        .collect();
    let line = format!(
        "<p>{} threats: {}.</p>",
        doc["summary"]["threats"],
        by_status.join(", ")
    );
    assert!(html.contains(&line), "the HTML lacks {line}");
}

/// A file under the system's temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("bulkhead-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The secure node's snapshot as collected without `--cluster-dump`: no dump, and the policies
/// target not detected.
fn without_dump() -> TempFile {
    let mut s: Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot("k8s-secure")).unwrap()).unwrap();
    let k = s["kubernetes"].as_object_mut().unwrap();
    k.remove("cluster");
    k["targets"]["detected"]
        .as_object_mut()
        .unwrap()
        .remove("policies");
    k["targets"]["selected"]
        .as_array_mut()
        .unwrap()
        .retain(|t| t != "policies");
    TempFile::new("no-dump.snapshot.json", &s.to_string())
}

#[test]
fn a_node_without_its_cluster_dump_leaves_the_policy_threats_unknown() {
    let snap = without_dump();
    let out = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["threats", "--format", "json", "--as-of", "2026-01-15"])
        .arg("--snapshot")
        .arg(&snap.0)
        .output()
        .unwrap();
    succeeded(&out);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    for id in [
        "K8S-S07", "K8S-T05", "K8S-I02", "K8S-I07", "K8S-E02", "K8S-E03",
    ] {
        let t = threat(&doc, id);
        assert_eq!(t["status"], "unknown", "{id}: {}", t["reason"]);
        assert!(
            t["reason"]
                .as_str()
                .unwrap()
                .contains("pass --cluster-dump FILE"),
            "{id}: {}",
            t["reason"]
        );
    }
}

/// Run `bulkhead threats --accept FILE` on the insecure node and return its stderr.
fn accept_error(name: &str, yaml: &str) -> (String, String) {
    let file = TempFile::new(name, yaml);
    let out = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["threats", "--format", "json", "--as-of", "2026-01-15"])
        .arg("--snapshot")
        .arg(snapshot("k8s-insecure"))
        .arg("--accept")
        .arg(&file.0)
        .output()
        .unwrap();
    assert!(!out.status.success(), "{name} is refused");
    (
        file.0.display().to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn risk_acceptance_mistakes_are_errors_at_their_position() {
    let entry = |id: &str, expires: &str| {
        format!("  - threat: {id}\n    reason: r\n    owner: ops\n    expires: {expires}\n")
    };
    let (f, e) = accept_error(
        "unknown.yaml",
        &format!(
            "accept:\n{}{}",
            entry("K8S-E01", "2027-06-30"),
            entry("K8S-X99", "2027-06-30")
        ),
    );
    assert!(
        e.contains(&format!("{f}:6:5: accept[1] (K8S-X99): no such threat")),
        "{e}"
    );
    let (f, e) = accept_error(
        "lower.yaml",
        &format!("accept:\n{}", entry("k8s-e01", "2027-06-30")),
    );
    assert!(
        e.contains(&format!(
            "{f}:2:5: accept[0] (k8s-e01): no such threat; threat IDs are case-sensitive, did you mean K8S-E01?"
        )),
        "{e}"
    );
    let (f, e) = accept_error(
        "twice.yaml",
        &format!(
            "accept:\n{}    expires: 2030-01-01\n",
            entry("K8S-I01", "2027-01-01")
        ),
    );
    assert!(
        e.contains(&format!("{f}:6:5: key \"expires\" is written twice")),
        "{e}"
    );
    assert!(e.contains("on line 5 and again on line 6"), "{e}");
    let (f, e) = accept_error(
        "same.yaml",
        &format!(
            "accept:\n{}{}",
            entry("K8S-E01", "2027-06-30"),
            entry("K8S-E01", "2020-01-01")
        ),
    );
    assert!(
        e.contains(&format!(
            "{f}:6:5: accept[1] (K8S-E01): K8S-E01 is already accepted by accept[0] on line 2"
        )),
        "{e}"
    );
}

/// `--format text` is the register for a terminal: coloured only when asked (or on a terminal),
/// never in a pipe by default, and with the same statuses as the JSON model.
#[test]
fn text_format_lists_every_threat_with_its_status_coloured_on_request() {
    let run = |color: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
            .args(["threats", "--format", "text", "--as-of", "2026-01-15"])
            .args(["--color", color, "--snapshot"])
            .arg(snapshot("writeup"))
            .env_remove("NO_COLOR")
            .output()
            .unwrap();
        succeeded(&out);
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = run("auto");
    assert!(!plain.contains('\u{1b}'), "a pipe gets no colour");
    let (doc, _) = threats("writeup", &[]);
    for t in doc["threats"].as_array().unwrap() {
        let tag = match t["status"].as_str().unwrap() {
            "exposed" => "[EXPOSED]",
            "partially_mitigated" => "[PARTIAL]",
            "unknown" => "[UNKNOWN]",
            "accepted" => "[ACCEPTED]",
            "mitigated" => "[MITIGATED]",
            _ => "[N/A]",
        };
        let id = t["id"].as_str().unwrap();
        assert!(
            plain
                .lines()
                .any(|l| l.starts_with(tag) && l[12..].starts_with(&format!("{id} "))),
            "{id} listed as {tag}"
        );
    }
    let coloured = run("always");
    assert!(coloured.contains("\u{1b}[31;1m[EXPOSED]\u{1b}[0m   DKR-S01 "));
    assert!(plain.contains(
        "            * 4.5 fail on environment auditing process: DOCKER_CONTENT_TRUST = unset\n"
    ));
}

/// `bulkhead threats docker` and `bulkhead report docker` model one platform, as `bulkhead
/// audit docker` audits one: a snapshot holding both (a Docker host that is also a Kubernetes
/// node) lists only that platform's threats, and the report says the other was left out rather
/// than that nothing of it was found.
#[test]
fn a_target_models_one_platform_only() {
    let load = |name: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(snapshot(name)).unwrap()).unwrap()
    };
    let mut both = load("writeup");
    both["kubernetes"] = load("k8s-insecure")["kubernetes"].clone();
    let both = TempFile::new("both.snapshot.json", &both.to_string());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
            .args(args)
            .args(["--as-of", "2026-01-15", "--snapshot"])
            .arg(&both.0)
            .output()
            .unwrap();
        succeeded(&out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let platforms = |target: Option<&str>| -> (usize, usize) {
        let mut args = vec!["threats"];
        args.extend(target);
        let doc: Value = serde_json::from_str(&run(&args)).unwrap();
        let ids: Vec<&str> = doc["threats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        (
            ids.iter().filter(|i| i.starts_with("DKR-")).count(),
            ids.iter().filter(|i| i.starts_with("K8S-")).count(),
        )
    };
    let (docker, kube) = platforms(None);
    assert!(
        docker > 0 && kube > 0,
        "both platforms: {docker} and {kube}"
    );
    assert_eq!(platforms(Some("docker")), (docker, 0));
    assert_eq!(platforms(Some("kubernetes")), (0, kube));
    let report = run(&["report", "docker", "--format", "markdown"]);
    assert!(
        report.contains("Left out: this report covers docker only (`bulkhead report docker`); the Kubernetes threats were not evaluated."),
        "{report}"
    );
    assert!(
        report.contains("CIS Docker Benchmark") && !report.contains("CIS Kubernetes Benchmark")
    );
}

/// A report from a snapshot cannot read what containers wrote (a snapshot does not hold it):
/// the read-only fix keeps the usual scratch directories writable and says why in the words of
/// that case, not by sending the reader to a host it may be on already.
#[test]
fn report_from_a_snapshot_says_the_writes_are_not_in_it() {
    let out = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args([
            "report",
            "--select",
            "4.5,5.12,5.25",
            "--ids",
            "cis-1.2.0",
            "--as-of",
            "2026-01-15",
            "--snapshot",
        ])
        .arg(snapshot("writeup"))
        .output()
        .unwrap();
    succeeded(&out);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.contains("- Note: the paths this container writes are not in the snapshot"),
        "{md}"
    );
    assert!(!md.contains("were not read"), "{md}");
    assert!(
        md.contains("--tmpfs /tmp") && md.contains("--tmpfs /run"),
        "{md}"
    );
}
