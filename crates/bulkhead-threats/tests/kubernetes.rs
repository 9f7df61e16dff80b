//! The Kubernetes threat model from the node snapshots of bulkhead-kube-tests (a secure and an
//! insecure kubeadm node, each with a cluster dump): golden outputs, the write-up's five threats
//! and the checks they cite, a managed control plane whose threats are the provider's, and the
//! cluster dump read on a host where nothing of Kubernetes runs.

mod support;

use bulkhead_threats::{svg, ThreatModel, ThreatStatus};
use support::{dump_only, eks_worker, golden, model, snapshot_file, Options};

fn outputs(name: &str, tm: &ThreatModel) {
    golden(&format!("golden/{name}/threats.json"), &tm.to_json());
    golden(&format!("golden/{name}/dfd.svg"), &svg::render(tm, None));
    golden(
        &format!("golden/{name}/dfd.dot"),
        &bulkhead_threats::dot::render(tm),
    );
    golden(
        &format!("golden/{name}/dfd.mmd"),
        &bulkhead_threats::mermaid::render(tm),
    );
    golden(
        &format!("golden/{name}/otm.json"),
        &bulkhead_threats::otm::render(tm),
    );
}

const WRITE_UP: [&str; 5] = ["K8S-S01", "K8S-T01", "K8S-R01", "K8S-I01", "K8S-E01"];

#[test]
fn insecure_node_golden_and_exposed_threats() {
    let tm = model(&snapshot_file("k8s-insecure"), Options::default()).unwrap();
    outputs("k8s-insecure", &tm);
    for id in WRITE_UP {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::Exposed, "{id}: {}", t.reason);
        assert!(
            t.evidence
                .iter()
                .any(|e| e.status == bulkhead_checks::Status::Fail),
            "{id} cites failing evidence"
        );
    }
    assert_eq!(tm.evidence_sources, vec!["cis-kubernetes 1.12".to_string()]);
    // Only Kubernetes: no Docker threat is listed.
    assert!(tm.threats.iter().all(|t| t.id.starts_with("K8S-")));
}

#[test]
fn secure_node_golden_and_mitigated_threats() {
    let tm = model(&snapshot_file("k8s-secure"), Options::default()).unwrap();
    outputs("k8s-secure", &tm);
    for id in WRITE_UP {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::Mitigated, "{id}: {}", t.reason);
        assert!(
            t.evidence
                .iter()
                .all(|e| e.status != bulkhead_checks::Status::Fail),
            "{id}: no failing evidence"
        );
    }
}

/// The secure node's facts as an EKS worker (the control-plane processes removed, the platform
/// relabelled): the audit leaves the control plane to the provider, and so do the threats; the
/// node's own threats keep their verdicts.
#[test]
fn managed_control_plane_threats_are_not_applicable() {
    let tm = model(&eks_worker("k8s-secure"), Options::default()).unwrap();
    for id in [
        "K8S-I01", "K8S-T02", "K8S-S03", "K8S-T06", "K8S-D01", "K8S-T04",
    ] {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::NotApplicable, "{id}: {}", t.reason);
        assert!(
            t.reason.starts_with("provider-managed: Amazon EKS"),
            "{id}: {}",
            t.reason
        );
    }
    for id in ["K8S-E01", "K8S-R01"] {
        assert_eq!(
            tm.threat(id).unwrap().status,
            ThreatStatus::Mitigated,
            "{id}"
        );
    }
    // S01 is judged on the kubelet's side, and says which controls it left to the provider.
    let s01 = tm.threat("K8S-S01").unwrap();
    assert_eq!(s01.status, ThreatStatus::Mitigated, "{}", s01.reason);
    assert!(
        s01.reason
            .contains("control-plane controls are left to Amazon EKS"),
        "{}",
        s01.reason
    );
    // Without the provider, the same facts keep those threats applicable.
    let own = model(&snapshot_file("k8s-secure"), Options::default()).unwrap();
    assert_eq!(
        own.threat("K8S-I01").unwrap().status,
        ThreatStatus::Mitigated
    );
}

/// The insecure node's cluster dump read where no kubelet (nor anything else of Kubernetes) runs:
/// its pods name no node, so a stand-in node runs them, and the threats about how workloads
/// are run are judged from the dump's failing pods instead of "nothing it targets exists".
#[test]
fn dump_workloads_are_run_by_a_stand_in_node_when_no_kubelet_runs_here() {
    let tm = model(&dump_only("k8s-insecure"), Options::default()).unwrap();
    outputs("k8s-dump-only", &tm);
    let kubelet = tm
        .elements
        .iter()
        .find(|e| e.component == "kubelet")
        .expect("a kubelet runs the dump's workloads");
    assert_eq!(kubelet.attrs["audited"], serde_json::json!(false));
    assert!(
        tm.elements
            .iter()
            .filter(|e| e.component == "kubelet")
            .count()
            == 1,
        "one stand-in node, not one per workload"
    );
    for w in tm
        .elements
        .iter()
        .filter(|e| e.instance_of.as_deref() == Some("k8s.workload"))
    {
        let run = format!(
            "k8s.f.run_workload:{}",
            w.id.trim_start_matches("k8s.workload:")
        );
        let flow = tm
            .flows
            .iter()
            .find(|f| f.id == run)
            .unwrap_or_else(|| panic!("{} is run by a kubelet", w.id));
        assert_eq!(flow.from, kubelet.id);
        assert_eq!(flow.to, w.id);
    }
    let s07 = tm.threat("K8S-S07").unwrap();
    assert_eq!(s07.status, ThreatStatus::Exposed, "{}", s07.reason);
    assert!(
        s07.targets
            .iter()
            .any(|t| t == "k8s.f.run_workload:app/pod/debug"),
        "{:?}",
        s07.targets
    );
    for control in ["k8s.pss.no_host_network", "k8s.pss.no_host_pid"] {
        assert!(s07.reason.contains(control), "{}", s07.reason);
    }
}
