//! The threat model of the kubeadm-like nodes (simulated components under their real names, node
//! roots with real modes and owners, the secure and careless cluster dumps): the write-up's five
//! Kubernetes threats are mitigated on the secure node and exposed on the insecure one, each
//! citing the checks that decide it, and the model's flows carry the TLS state the node really
//! has.
//!
//! The same collections, normalised (pids, temporary paths, collection time), are the snapshot
//! fixtures that bulkhead-threats and bulkhead-report test offline
//! (crates/bulkhead-threats/tests/fixtures/k8s-*.snapshot.json); this test fails when they drift
//! from what the builders produce. `BULKHEAD_BLESS=1` rewrites them.

use bulkhead_checks::Status;
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_kube_tests::node::kubeadm_node;
use bulkhead_kube_tests::{audit, collect};
use bulkhead_threats::{EvidenceSet, ThreatModel, ThreatStatus};
use std::collections::BTreeSet;
use std::path::PathBuf;

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

/// Collect a node with its cluster dump and normalise what differs between runs.
fn node_snapshot(secure: bool) -> Snapshot {
    // Directories the node root creates take their mode from the umask; every test here pins
    // the same value.
    unsafe { libc::umask(0o022) };
    let n = kubeadm_node(secure, SIM);
    let dump_name = if secure {
        "dump-secure.yaml"
    } else {
        "dump-insecure.json"
    };
    let dump = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(dump_name);
    let mut s = collect(n.root.path(), n.proc.path(), Some(&dump));
    s.collected_at = "2026-01-01T00:00:00Z".into();
    bulkhead_kube_tests::forget_times(&mut s);
    s.host.kernel = Fact::Unavailable("not read in the fixture".into());
    s.host.processes = Fact::Value(vec![]);
    let k = s.kubernetes.as_mut().unwrap();
    for (i, c) in k.components.values_mut().enumerate() {
        c.process.pid = 1000 + i as u32;
        c.process.ppid = 1;
        c.process.exe = Some(format!("/usr/local/bin/{}", c.name));
        c.process.pid_ns = None;
    }
    if let Some(Fact::Value(d)) = k.cluster.as_mut() {
        d.source = dump_name.into();
    }
    let text = serde_json::to_string(&s)
        .unwrap()
        .replace(&n.root.path().display().to_string(), "/node")
        .replace(&n.proc.path().display().to_string(), "/proc");
    Snapshot::from_json(&text).unwrap()
}

fn threat_model(s: &Snapshot) -> (ThreatModel, bulkhead_checks::Audit) {
    let a = audit(s);
    let mut ev = EvidenceSet::new();
    ev.add_audit(&a);
    let tm = bulkhead_threats::build(&bulkhead_threats::Input {
        snapshot: s,
        evidence: &ev,
        evidence_sources: vec!["cis-kubernetes 1.12".into()],
        user: None,
        user_file: "",
        acceptances: &[],
        planned_fixes: &BTreeSet::new(),
        as_of: "2026-01-15",
        tool_version: "test",
    })
    .expect("threat model builds");
    (tm, a)
}

/// The write-up's Kubernetes threats and the checks each must cite.
const CITED: &[(&str, &[&str])] = &[
    (
        "K8S-S01",
        &[
            "1.2.4", "1.2.5", "1.2.24", "4.2.3", "4.2.9", "1.2.29", "4.2.12",
        ],
    ),
    (
        "K8S-T01",
        &[
            "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.1.5", "1.1.6", "1.1.7", "1.1.8", "1.1.9",
            "1.1.10", "1.1.11", "1.1.12",
        ],
    ),
    ("K8S-R01", &["4.2.1", "4.2.3"]),
    (
        "K8S-I01",
        &[
            "1.2.27", "1.2.28", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "1.2.23", "1.2.26",
        ],
    ),
    ("K8S-E01", &["4.2.2"]),
];

fn cited_checks(tm: &ThreatModel, id: &str) -> BTreeSet<String> {
    tm.threat(id)
        .unwrap()
        .evidence
        .iter()
        .map(|e| e.check.clone())
        .collect()
}

#[test]
fn writeup_kubernetes_threats_are_mitigated_on_the_secure_node() {
    let s = node_snapshot(true);
    let (tm, _) = threat_model(&s);
    for (id, checks) in CITED {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::Mitigated, "{id}: {}", t.reason);
        let cited = cited_checks(&tm, id);
        for c in *checks {
            assert!(cited.contains(*c), "{id} cites {c} (cites {cited:?})");
        }
    }
    // The decisive checks pass on this node: the evidence for S01's API server side says so.
    let s01 = tm.threat("K8S-S01").unwrap();
    assert!(s01
        .evidence
        .iter()
        .any(|e| e.check == "1.2.5" && e.status == Status::Pass));
    // The flows carry the configuration this node really has.
    let flow = |id: &str| {
        tm.flows
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("flow {id}"))
    };
    assert!(flow("k8s.f.api_kubelet:node-1")
        .encryption
        .contains("serving certificate verified against /etc/kubernetes/pki/ca.crt"));
    assert!(flow("k8s.f.api_etcd")
        .authentication
        .contains("apiserver-etcd-client.crt"));
    assert!(flow("k8s.f.api_etcd")
        .authentication
        .contains("etcd requires client certificates"));
    assert!(flow("k8s.f.etcd_peer")
        .authentication
        .contains("peer-client-cert-auth"));
    assert!(flow("k8s.f.etcd_peer").encryption.starts_with("TLS"));
    // Each component found is its own element; the dump's namespace, pod and service account are
    // instances.
    for id in [
        "k8s.apiserver",
        "k8s.controller_manager",
        "k8s.scheduler",
        "k8s.etcd",
        "k8s.kubelet:node-1",
        "k8s.proxy:node-1",
        "k8s.workload:app/pod/web-7d9f",
        "k8s.sa:app/web",
    ] {
        assert!(tm.elements.iter().any(|e| e.id == id), "element {id}");
    }
    assert!(tm
        .boundaries
        .iter()
        .any(|b| b.id == "k8s.b.ns:app" && b.name.contains("restricted")));
    // No read-only port on this node, so no such flow.
    assert!(tm
        .flows
        .iter()
        .all(|f| f.instance_of.as_deref() != Some("k8s.f.readonly")));
    fixture("k8s-secure", &s);
}

#[test]
fn writeup_kubernetes_threats_are_exposed_on_the_insecure_node() {
    let s = node_snapshot(false);
    let (tm, a) = threat_model(&s);
    for (id, checks) in CITED {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::Exposed, "{id}: {}", t.reason);
        let cited = cited_checks(&tm, id);
        for c in *checks {
            assert!(cited.contains(*c), "{id} cites {c} (cites {cited:?})");
        }
        // Every failing check the threat names in its reason is a failing check of the audit.
        let failing: Vec<&str> = a
            .outcomes
            .iter()
            .filter(|o| o.result.status == Status::Fail)
            .map(|o| o.check_id.as_str())
            .collect();
        assert!(
            checks
                .iter()
                .any(|c| failing.contains(c) && t.reason.contains(&format!("{c} ("))),
            "{id}'s reason names a failing check of its own: {}",
            t.reason
        );
    }
    let flow = |id: &str| {
        tm.flows
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("flow {id}"))
    };
    assert!(flow("k8s.f.api_kubelet:node-1")
        .encryption
        .contains("NOT verified"));
    assert!(flow("k8s.f.api_etcd").encryption.starts_with("none"));
    assert!(flow("k8s.f.etcd_peer")
        .authentication
        .contains("not authenticated"));
    assert_eq!(
        flow("k8s.f.readonly:node-1").port,
        "10255",
        "the open read-only port is a flow"
    );
    // kube-proxy does not run here (replaced, as by Cilium): no element, and its threat does
    // not apply.
    assert!(tm.elements.iter().all(|e| e.component != "kube-proxy"));
    assert_eq!(
        tm.threat("K8S-T07").unwrap().status,
        ThreatStatus::NotApplicable
    );
    // The privileged debug pod is an instance that the pod threats target.
    let debug = tm
        .elements
        .iter()
        .find(|e| e.id == "k8s.workload:app/pod/debug")
        .expect("debug pod");
    assert_eq!(debug.attrs["privileged"], serde_json::json!(true));
    assert!(tm.threat("K8S-E02").unwrap().targets.contains(&debug.id));
    fixture("k8s-insecure", &s);
}

/// The managed worker of the platform tests (EKS markers, only a kubelet): the threats of the
/// control plane the provider runs are not applicable and say so; the kubelet's are judged.
#[test]
fn managed_control_plane_threats_are_provider_managed() {
    unsafe { libc::umask(0o022) };
    let r = bulkhead_kube_tests::NodeRoot::new();
    r.write("/etc/eks/release", "BASE_AMI_ID=ami-1\n", 0o644, 0, 0);
    r.write(
        "/etc/kubernetes/kubelet/kubelet-config.json",
        r#"{"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "authentication": {"anonymous": {"enabled": false}, "webhook": {"enabled": true}, "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}}, "authorization": {"mode": "Webhook"}}"#,
        0o600,
        0,
        0,
    );
    r.write(
        "/etc/kubernetes/pki/ca.crt",
        "-----BEGIN CERTIFICATE-----\n",
        0o644,
        0,
        0,
    );
    let args: Vec<String> = "--config=/etc/kubernetes/kubelet/kubelet-config.json --kubeconfig=/var/lib/kubelet/kubeconfig".split(' ').map(String::from).collect();
    let kubelet = bulkhead_kube_tests::SimComponent::start(SIM, "kubelet", &args, &[]);
    let proc = bulkhead_kube_tests::ProcView::new(&[kubelet.pid()]);
    let s = collect(r.path(), proc.path(), None);
    let (tm, _) = threat_model(&s);
    for id in ["K8S-I01", "K8S-T02", "K8S-S03", "K8S-T06", "K8S-D01"] {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::NotApplicable, "{id}: {}", t.reason);
        assert!(
            t.reason
                .starts_with("provider-managed: Amazon EKS runs the control plane"),
            "{id}: {}",
            t.reason
        );
    }
    // The kubelet's side is the customer's: judged from the node's evidence.
    let e01 = tm.threat("K8S-E01").unwrap();
    assert_eq!(e01.status, ThreatStatus::Mitigated, "{}", e01.reason);
    let boundary = tm
        .boundaries
        .iter()
        .find(|b| b.id == "k8s.b.control_plane")
        .unwrap();
    assert_eq!(boundary.name, "Control plane (run by Amazon EKS)");
    let api = tm
        .elements
        .iter()
        .find(|e| e.id == "k8s.apiserver")
        .unwrap();
    assert_eq!(api.attrs["runs"], serde_json::json!("run by Amazon EKS"));
}

/// Compare the normalised snapshot with the fixture the offline tests read.
fn fixture(name: &str, s: &Snapshot) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../bulkhead-threats/tests/fixtures/{name}.snapshot.json"
    ));
    // The environment of whoever runs the tests (a DOCKER_HOST, DOCKER_CONTENT_TRUST exported
    // in their shell) is not the node's: the fixture records none.
    let mut s = s.clone();
    s.host.environment = Default::default();
    let mut actual = serde_json::to_string_pretty(&s).unwrap();
    actual.push('\n');
    bulkhead_testkit::golden::assert_golden_with_hint(
        &path,
        &actual,
        ", then re-bless the threat and report goldens that read this fixture",
    );
}
