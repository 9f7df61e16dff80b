//! The deploy/ manifests: parsed with bulkhead's own Kubernetes parser (bulkhead-sources), their
//! shape checked (hostPID, the host mounted read-only at /host, `--root /host`, results to
//! stdout, no API token), and scanned with bulkhead's own rules (bulkhead-scan): no failing
//! finding, and every exception is a suppression with a reason that really suppresses something.

use bulkhead_sources::kubernetes::objects;
use bulkhead_sources::yaml::{self, Schema};
use std::path::PathBuf;

fn deploy() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

#[test]
fn manifests_run_bulkhead_on_each_node_read_only() {
    for (file, kind) in [("daemonset.yaml", "DaemonSet"), ("job.yaml", "Job")] {
        let text = std::fs::read_to_string(deploy().join(file)).unwrap();
        let docs = yaml::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        let objs = objects(&docs);
        let o = objs
            .iter()
            .find(|o| o.kind() == kind)
            .unwrap_or_else(|| panic!("{file}: no {kind}"));
        assert_eq!(o.namespace(), Some("bulkhead-system"), "{file}");
        let pod = o.pod().expect("a pod template");
        let spec = pod.spec.to_json(Schema::Yaml11);
        assert_eq!(
            spec["hostPID"], true,
            "{file}: processes of the node must be visible"
        );
        assert_eq!(
            spec["automountServiceAccountToken"], false,
            "{file}: no API credential needed"
        );
        assert!(spec.get("hostNetwork").is_none(), "{file}");
        let volumes = spec["volumes"].as_array().unwrap();
        let host = volumes
            .iter()
            .find(|v| v["hostPath"]["path"] == "/")
            .expect("host root volume");
        let auditors: Vec<&serde_json::Value> = spec["initContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(spec["containers"].as_array().into_iter().flatten())
            .filter(|c| c["image"].as_str().unwrap_or("").starts_with("bulkhead:"))
            .collect();
        assert_eq!(auditors.len(), 1, "{file}: one bulkhead container");
        let c = auditors[0];
        let mounts = c["volumeMounts"].as_array().unwrap();
        let m = mounts.iter().find(|m| m["name"] == host["name"]).unwrap();
        assert_eq!(m["mountPath"], "/host", "{file}");
        assert_eq!(m["readOnly"], true, "{file}: the host is mounted read-only");
        let args: Vec<String> = c["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        let pos = args.iter().position(|a| a == "--root").expect("--root");
        assert_eq!(args[pos + 1], "/host", "{file}");
        assert_eq!(&args[..2], ["audit", "kubernetes"], "{file}");
        assert!(
            !args.iter().any(|a| a == "-o" || a == "--output"),
            "{file}: results go to stdout"
        );
        let sc = &c["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{file}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{file}");
        assert_eq!(
            sc["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{file}"
        );
        assert!(sc.get("privileged").is_none(), "{file}");
    }
}

/// The image carries the label that makes bulkhead leave its own container out of a Docker
/// audit (deploy/README.md, "On a Docker host"); without it the auditor audits itself.
#[test]
fn the_image_is_labelled_as_bulkheads_own() {
    let text = std::fs::read_to_string(deploy().join("Containerfile")).unwrap();
    let labels: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("LABEL "))
        .collect();
    let wanted = format!("LABEL {}=\"true\"", bulkhead_facts::docker::SELF_LABEL);
    assert!(
        labels.contains(&wanted.as_str()),
        "deploy/Containerfile needs `{wanted}`; it has {labels:?}"
    );
}

#[test]
fn bulkheads_own_scanner_finds_nothing_unexplained() {
    let report = bulkhead_scan::engine::scan_paths(
        &[deploy()],
        &bulkhead_scan::engine::ScanOptions::default(),
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        report.files.len(),
        3,
        "Containerfile, daemonset.yaml, job.yaml: {:?}",
        report.files
    );
    let failing: Vec<String> = report
        .findings
        .iter()
        .filter(|f| !matches!(f.status, bulkhead_checks::Status::Info))
        .map(|f| format!("{} {} {}", f.rule, f.object, f.message))
        .collect();
    assert!(
        failing.is_empty(),
        "unexplained findings:\n{}",
        failing.join("\n")
    );
    assert!(
        report.suppression_notes.is_empty(),
        "stale or unknown suppressions: {:?}",
        report.suppression_notes
    );
    // The exceptions the auditor needs are each suppressed with a reason.
    for rule in ["k8s-host-pid", "k8s-sensitive-mount", "k8s-run-as-root"] {
        let s = report
            .suppressed
            .iter()
            .find(|s| s.finding.rule == rule)
            .unwrap_or_else(|| panic!("{rule} not raised"));
        assert!(!s.reason.trim().is_empty());
    }
}
