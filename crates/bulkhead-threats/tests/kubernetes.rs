//! The Kubernetes threat model from the node snapshots of bulkhead-kube-tests (a secure and an
//! insecure kubeadm node, each with a cluster dump): golden outputs, the write-up's five threats
//! and the checks they cite, a managed control plane whose threats are the provider's, the
//! cluster dump read on a host where nothing of Kubernetes runs, a node audited without its dump,
//! and controls whose checks could not be evaluated.

mod support;

use bulkhead_checks::Status;
use bulkhead_facts::Fact;
use bulkhead_threats::{svg, MissingInput, ThreatModel, ThreatStatus};
use support::{dump_only, eks_worker, golden, model, snapshot_file, without_dump, Options};

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

/// Wording no reason may use: a verdict over no control at all, or an empty list of controls.
fn assert_reasons_name_their_controls(tm: &ThreatModel) {
    for t in &tm.threats {
        assert!(
            !t.reason.contains(" 0 of 0 ") && !t.reason.starts_with("0 of 0 "),
            "{}: {}",
            t.id,
            t.reason
        );
        assert!(
            !t.reason.contains(": )") && !t.reason.contains(": ;") && !t.reason.ends_with(": "),
            "{}: an empty list in {:?}",
            t.id,
            t.reason
        );
    }
}

/// The same kubeadm nodes audited without `--cluster-dump`: the policy checks (section 5) then
/// report not_applicable because they had nothing to read, and the threats they decide are
/// unknown and name the missing dump, instead of "not applicable" or a mitigation that only the
/// API server's flags support. With the dump, the same node shows them exposed.
#[test]
fn policy_threats_without_a_cluster_dump_are_unknown_and_name_the_missing_dump() {
    for node in ["k8s-secure", "k8s-insecure"] {
        let tm = model(&without_dump(node), Options::default()).unwrap();
        assert_reasons_name_their_controls(&tm);
        // Every control of these threats is a policy check, or (E03, S04) a flag of an API server
        // whose verdict cannot show the threat prevented while the RBAC checks did not run.
        for id in ["K8S-S07", "K8S-T05", "K8S-I02", "K8S-E02"] {
            let t = tm.threat(id).unwrap();
            assert_eq!(t.status, ThreatStatus::Unknown, "{node} {id}: {}", t.reason);
            assert!(
                t.reason
                    .contains("no cluster dump was given (pass --cluster-dump FILE)"),
                "{node} {id}: {}",
                t.reason
            );
            assert_ne!(t.severity, bulkhead_threats::Severity::None, "{node} {id}");
        }
        let e02 = tm.threat("K8S-E02").unwrap();
        assert!(
            e02.reason.contains("5.2.2 (k8s.pss.no_privileged)"),
            "{node}: {}",
            e02.reason
        );
        // The controls say they were not evaluated and why, and the evidence still shows the
        // check's own words.
        let c = e02
            .controls
            .iter()
            .find(|c| c.control == "k8s.pss.no_privileged")
            .unwrap();
        assert_eq!(c.status, None, "{node}");
        assert_eq!(c.missing_input, Some(MissingInput::ClusterDump), "{node}");
        assert!(e02
            .evidence
            .iter()
            .any(|e| e.check == "5.2.2" && e.status == Status::NotApplicable));
        let json: serde_json::Value = serde_json::from_str(&tm.to_json()).unwrap();
        let e02_json = json["threats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "K8S-E02")
            .unwrap();
        assert!(e02_json["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["control"] == "k8s.pss.no_privileged"
                && c["status"] == "not_evaluated"
                && c["missing_input"] == "cluster_dump"));
    }
    // On the secure node the API server's flags pass, but the RBAC checks that decide E03 and
    // the service-account checks of S04 did not run: neither is mitigated, nor held with high
    // confidence.
    let tm = model(&without_dump("k8s-secure"), Options::default()).unwrap();
    for id in ["K8S-E03", "K8S-S04"] {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::Unknown, "{id}: {}", t.reason);
        assert!(t.reason.contains("--cluster-dump"), "{id}: {}", t.reason);
        assert_ne!(
            t.confidence,
            bulkhead_threats::evidence::Confidence::High,
            "{id}"
        );
    }
    let e03 = tm.threat("K8S-E03").unwrap();
    assert!(
        e03.reason
            .starts_with("2 of 6 preventive controls verified;")
            && e03
                .reason
                .contains("5.1.1 (k8s.rbac.cluster_admin_limited)"),
        "{}",
        e03.reason
    );
    // A threat decided by the node's own checks keeps its verdict.
    assert_eq!(
        tm.threat("K8S-E01").unwrap().status,
        ThreatStatus::Mitigated
    );
    // With the dump, the insecure node shows the same policy threats exposed.
    let with_dump = model(&snapshot_file("k8s-insecure"), Options::default()).unwrap();
    for id in ["K8S-S07", "K8S-T05", "K8S-I02", "K8S-E02"] {
        assert_eq!(
            with_dump.threat(id).unwrap().status,
            ThreatStatus::Exposed,
            "{id}"
        );
    }
}

/// `--targets` without policies: the dump is there, but the policy checks did not run; the
/// threats say which selection left them out.
#[test]
fn policy_threats_left_out_by_targets_name_the_selection() {
    let mut s = snapshot_file("k8s-secure");
    s.kubernetes
        .as_mut()
        .unwrap()
        .select_targets(&["master,etcd,controlplane,node".to_string()])
        .unwrap();
    let tm = model(&s, Options::default()).unwrap();
    let t = tm.threat("K8S-T05").unwrap();
    assert_eq!(t.status, ThreatStatus::Unknown, "{}", t.reason);
    assert!(
        t.reason.contains("--targets left out the policies target"),
        "{}",
        t.reason
    );
}

/// The write-up's spoofing threat covers both directions between the API server and the
/// kubelet. An API server started without --tls-cert-file/--tls-private-key-file serves a
/// self-signed certificate the kubelets cannot verify: K8S-S01 is exposed and names 1.2.24,
/// however well the kubelet's side is configured.
#[test]
fn apiserver_without_a_serving_certificate_exposes_the_kubelet_connection() {
    let mut s = snapshot_file("k8s-secure");
    let api = s
        .kubernetes
        .as_mut()
        .unwrap()
        .components
        .get_mut("kube-apiserver")
        .unwrap();
    api.flags
        .occurrences
        .retain(|o| o.name != "tls-cert-file" && o.name != "tls-private-key-file");
    let tm = model(&s, Options::default()).unwrap();
    let s01 = tm.threat("K8S-S01").unwrap();
    assert_eq!(s01.status, ThreatStatus::Exposed, "{}", s01.reason);
    assert!(
        s01.reason.contains("1.2.24 (k8s.apiserver.tls_cert)"),
        "{}",
        s01.reason
    );
    assert!(s01
        .evidence
        .iter()
        .any(|e| e.check == "1.2.24" && e.status == Status::Fail));
}

/// The API server names an encryption configuration that cannot be read: 1.2.27 and 1.2.28
/// report an error. Prevention of K8S-I01 is then not established, so the threat is unknown and
/// names the errors, not partially mitigated.
#[test]
fn a_preventive_control_in_error_makes_the_threat_unknown() {
    let mut s = snapshot_file("k8s-secure");
    s.kubernetes.as_mut().unwrap().encryption = Some(Fact::Unavailable(
        "/etc/kubernetes/enc/missing.yaml: no such file or directory".into(),
    ));
    let tm = model(&s, Options::default()).unwrap();
    let i01 = tm.threat("K8S-I01").unwrap();
    let status_of = |control: &str| {
        i01.controls
            .iter()
            .find(|c| c.control == control)
            .and_then(|c| c.status)
    };
    assert_eq!(
        status_of("k8s.apiserver.encryption_provider_config"),
        Some(Status::Error)
    );
    assert_eq!(
        status_of("k8s.apiserver.encryption_providers"),
        Some(Status::Error)
    );
    assert_eq!(i01.status, ThreatStatus::Unknown, "{}", i01.reason);
    assert!(
        i01.reason.contains("could not be evaluated")
            && i01
                .reason
                .contains("1.2.27 (k8s.apiserver.encryption_provider_config)")
            && i01
                .reason
                .contains("1.2.28 (k8s.apiserver.encryption_providers)"),
        "{}",
        i01.reason
    );
    assert!(
        matches!(
            i01.severity,
            bulkhead_threats::Severity::High | bulkhead_threats::Severity::Critical
        ),
        "unknown counts the full likelihood: {}",
        i01.severity
    );
}

/// No reason over any fixture claims a verdict over no control or prints an empty list.
#[test]
fn no_reason_counts_zero_of_zero_or_lists_nothing() {
    for tm in [
        model(&snapshot_file("k8s-secure"), Options::default()).unwrap(),
        model(&snapshot_file("k8s-insecure"), Options::default()).unwrap(),
        model(&without_dump("k8s-secure"), Options::default()).unwrap(),
        model(&without_dump("k8s-insecure"), Options::default()).unwrap(),
        model(&dump_only("k8s-insecure"), Options::default()).unwrap(),
        model(&eks_worker("k8s-secure"), Options::default()).unwrap(),
    ] {
        assert_reasons_name_their_controls(&tm);
        for t in &tm.threats {
            if t.status == ThreatStatus::PartiallyMitigated {
                assert!(
                    !t.reason.starts_with("0 of "),
                    "{}: partially mitigated with no verified preventive control: {}",
                    t.id,
                    t.reason
                );
            }
        }
    }
}

/// A cluster dump read where nothing of Kubernetes runs proves the cluster, hence its control
/// plane and its nodes: the threats about the API server, etcd, the controller manager, the
/// scheduler and the kubelets are unknown and say which input would decide them, never not
/// applicable. A provider-managed control plane stays the provider's; a dump with neither nodes
/// nor workloads proves no kubelet; `--targets` that leaves the targets out names the selection.
#[test]
fn control_plane_and_node_threats_of_a_dump_only_audit_are_unknown() {
    const CONTROL_PLANE: [&str; 10] = [
        "K8S-S02", "K8S-S03", "K8S-S06", "K8S-T02", "K8S-T04", "K8S-T06", "K8S-I01", "K8S-I05",
        "K8S-D01", "K8S-E04",
    ];
    const KUBELET: [&str; 3] = ["K8S-R01", "K8S-I03", "K8S-E01"];
    let find = |tm: &ThreatModel, id: &str, control: &str| {
        tm.threat(id)
            .unwrap()
            .controls
            .iter()
            .find(|c| c.control == control)
            .cloned()
            .unwrap_or_else(|| panic!("{id} has no control {control}"))
    };
    for name in ["k8s-insecure", "k8s-secure"] {
        let tm = model(&dump_only(name), Options::default()).unwrap();
        assert_reasons_name_their_controls(&tm);
        for id in CONTROL_PLANE {
            let t = tm.threat(id).unwrap();
            assert_eq!(t.status, ThreatStatus::Unknown, "{name} {id}: {}", t.reason);
            assert!(
                t.reason.contains(
                    "not evaluated because the audit did not run where the dump's cluster runs its control plane (run bulkhead on a control-plane node, or pass --snapshot FILE collected there)"
                ),
                "{name} {id}: {}",
                t.reason
            );
            assert_ne!(t.severity, bulkhead_threats::Severity::None, "{name} {id}");
        }
        for id in KUBELET {
            let t = tm.threat(id).unwrap();
            assert_eq!(t.status, ThreatStatus::Unknown, "{name} {id}: {}", t.reason);
            assert!(
                t.reason
                    .contains("the audit did not run on a node of the dump's cluster"),
                "{name} {id}: {}",
                t.reason
            );
        }
        let c = find(&tm, "K8S-I01", "k8s.apiserver.encryption_provider_config");
        assert_eq!(
            (c.status, c.missing_input),
            (None, Some(MissingInput::ControlPlaneNode)),
            "{name}"
        );
        let c = find(&tm, "K8S-E01", "k8s.kubelet.authorization_not_always_allow");
        assert_eq!(
            (c.status, c.missing_input),
            (None, Some(MissingInput::KubeletNode)),
            "{name}"
        );
        let json: serde_json::Value = serde_json::from_str(&tm.to_json()).unwrap();
        let i01 = json["threats"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] == "K8S-I01")
            .unwrap();
        assert!(i01["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["status"] == "not_evaluated" && c["missing_input"] == "control_plane_node"));
        // kube-proxy is optional: nothing shows it runs, so its threat still does not apply.
        assert_eq!(
            tm.threat("K8S-T07").unwrap().status,
            ThreatStatus::NotApplicable
        );
    }

    // A dump of a managed cluster: the provider runs the control plane, as the threats say.
    let mut s = dump_only("k8s-secure");
    let k = s.kubernetes.as_mut().unwrap();
    k.platform.kind = "eks".into();
    k.platform.managed = true;
    let tm = model(&s, Options::default()).unwrap();
    for id in ["K8S-I01", "K8S-T02", "K8S-S03", "K8S-T06", "K8S-D01"] {
        let t = tm.threat(id).unwrap();
        assert_eq!(t.status, ThreatStatus::NotApplicable, "{id}: {}", t.reason);
        assert!(
            t.reason.starts_with("provider-managed"),
            "{id}: {}",
            t.reason
        );
    }
    assert_eq!(
        tm.threat("K8S-E01").unwrap().status,
        ThreatStatus::Unknown,
        "the kubelets are the customer's"
    );

    // A dump with neither nodes nor workloads proves the control plane, not a kubelet.
    let mut s = dump_only("k8s-insecure");
    if let Some(Fact::Value(d)) = s.kubernetes.as_mut().unwrap().cluster.as_mut() {
        d.objects
            .retain(|o| !["Node", "Pod", "Deployment", "DaemonSet"].contains(&o.kind.as_str()));
    }
    let tm = model(&s, Options::default()).unwrap();
    assert_eq!(tm.threat("K8S-I01").unwrap().status, ThreatStatus::Unknown);
    let c = find(&tm, "K8S-E01", "k8s.kubelet.authorization_not_always_allow");
    assert_eq!(
        (c.status, c.missing_input),
        (Some(Status::NotApplicable), None)
    );

    // On the node, --targets that leaves the control plane out names the selection.
    let mut s = snapshot_file("k8s-secure");
    s.kubernetes
        .as_mut()
        .unwrap()
        .select_targets(&["node,policies".to_string()])
        .unwrap();
    let tm = model(&s, Options::default()).unwrap();
    let t = tm.threat("K8S-I01").unwrap();
    assert_eq!(t.status, ThreatStatus::Unknown, "{}", t.reason);
    assert!(
        t.reason
            .contains("--targets left out the control-plane or node target"),
        "{}",
        t.reason
    );
    assert_eq!(
        find(&tm, "K8S-I01", "k8s.apiserver.encryption_provider_config").missing_input,
        Some(MissingInput::NodeTargets)
    );
}

/// etcd started with a `--config-file` that could not be used: every etcd setting is unknown
/// (etcd ignores its flags and ETCD_* variables then). The connections to and between etcd
/// members say so, naming the file and the reason, instead of describing the flags etcd
/// ignores; the threats those settings prevent are unknown, not mitigated.
#[test]
fn etcd_connections_are_unknown_when_its_config_file_could_not_be_used() {
    let mut s = snapshot_file("k8s-secure");
    let why = "/etc/etcd/etcd.yaml: line 2, column 3: invalid YAML: did not find expected key";
    let etcd = s
        .kubernetes
        .as_mut()
        .unwrap()
        .components
        .get_mut("etcd")
        .expect("the secure node runs etcd");
    etcd.config = Some(bulkhead_facts::kube::ConfigFile {
        path: "/etc/etcd/etcd.yaml".into(),
        source: "etcd --config-file".into(),
        content: Fact::Unavailable(why.into()),
        modified_at: None,
    });
    let tm = model(&s, Options::default()).unwrap();
    let unknown = |key: &str| {
        format!("{key} is unknown: etcd takes its settings only from /etc/etcd/etcd.yaml (etcd --config-file), ignoring its flags and ETCD_* variables, and that file could not be used: {why}")
    };
    let flow = |id: &str| tm.flows.iter().find(|f| f.id == id).unwrap();
    let api_etcd = flow("k8s.f.api_etcd");
    assert!(
        api_etcd
            .authentication
            .ends_with(&unknown("client-transport-security.client-cert-auth")),
        "{}",
        api_etcd.authentication
    );
    assert!(
        api_etcd
            .encryption
            .ends_with(&unknown("listen-client-urls")),
        "{}",
        api_etcd.encryption
    );
    assert!(
        !api_etcd
            .authentication
            .contains("etcd requires client certificates"),
        "{}",
        api_etcd.authentication
    );
    let peer = flow("k8s.f.etcd_peer");
    assert_eq!(
        peer.authentication,
        unknown("peer-transport-security.client-cert-auth")
    );
    assert_eq!(peer.encryption, unknown("listen-peer-urls"));
    let s03 = tm.threat("K8S-S03").unwrap();
    assert_eq!(s03.status, ThreatStatus::Unknown, "{}", s03.reason);
}

/// The analysis's top findings name different threats: on the insecure node the kubelet's
/// anonymous access, its client CA and AlwaysAllow all leave the same kubelet threats open, so
/// after the first of them the next findings are those that add threats no finding above them
/// names (the node's PID exhaustion, etcd's data directory), not two more of the same.
#[test]
fn each_ranked_finding_adds_threats_the_ones_above_it_do_not_name() {
    let s = snapshot_file("k8s-insecure");
    let tm = model(&s, Options::default()).unwrap();
    let (ev, _) = support::evidence(&s, Options::default().edition);
    let ranked = bulkhead_threats::analysis::ranked_failures(&tm, &ev);
    let open = |a: &bulkhead_threats::analysis::FindingAnalysis| -> Vec<String> {
        a.open_threats
            .iter()
            .filter(|t| t.status != ThreatStatus::Mitigated)
            .map(|t| t.id.clone())
            .collect()
    };
    let mut named: Vec<String> = Vec::new();
    for a in ranked.iter().take(3) {
        let new: Vec<String> = open(a).into_iter().filter(|t| !named.contains(t)).collect();
        assert!(
            !new.is_empty(),
            "{} names only threats already named ({named:?}); ranked: {:?}",
            a.check,
            ranked.iter().take(5).map(|a| &a.check).collect::<Vec<_>>()
        );
        named.extend(open(a));
    }
    assert_eq!(
        ranked[0].check, "4.2.1",
        "the riskiest failure still comes first"
    );
    // Every failure is still listed once.
    assert_eq!(ranked.len(), ev.failing_controls().len());
}

/// The assessment report puts the Docker and the Kubernetes diagrams on one HTML page: their
/// ids (the arrow markers included) must not repeat, and each diagram's markers must be its own.
#[test]
fn two_diagrams_on_one_page_share_no_id() {
    let docker = model(&snapshot_file("writeup"), Options::default()).unwrap();
    let kube = model(&snapshot_file("k8s-insecure"), Options::default()).unwrap();
    let diagrams = [
        svg::render(&docker, Some(bulkhead_threats::Platform::Docker)),
        svg::render(&kube, Some(bulkhead_threats::Platform::Kubernetes)),
    ];
    let attr = |text: &str, before: &str, after: char| -> Vec<String> {
        text.split(before)
            .skip(1)
            .filter_map(|rest| rest.split(after).next())
            .map(String::from)
            .collect()
    };
    let mut seen = std::collections::BTreeSet::new();
    for d in &diagrams {
        let ids = attr(d, " id=\"", '"');
        for id in &ids {
            assert!(
                seen.insert(id.clone()),
                "id {id} is defined twice on the page"
            );
        }
        for target in attr(d, "url(#", ')') {
            assert!(
                ids.contains(&target),
                "url(#{target}) names no id of its own diagram"
            );
        }
    }
}

/// Relative luminance of a `#rrggbb` colour (WCAG 2).
fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let c = u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap() as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
}

fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The tag that opens `<g class="{class}" ... data-status="...">` group, up to its `</g>`.
fn groups<'a>(svg: &'a str, class: &str) -> Vec<(&'a str, &'a str)> {
    svg.split(&format!("<g class=\"{class}\" "))
        .skip(1)
        .map(|rest| {
            let body = rest.split("</g>").next().unwrap();
            let status = body
                .split("data-status=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap();
            (status, body)
        })
        .collect()
}

/// The drawn strokes (the `stroke="..."` and `stroke-dasharray="..."` of each shape) of a group,
/// leaving out the flow number's circle and the text.
fn strokes(body: &str) -> Vec<(String, Option<String>)> {
    let attr = |tag: &str, name: &str| {
        tag.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(String::from)
    };
    body.split('<')
        .filter(|t| t.starts_with("rect ") || t.starts_with("line "))
        .filter_map(|t| {
            let stroke = attr(t, "stroke")?;
            (stroke != "none").then(|| (stroke, attr(t, "stroke-dasharray")))
        })
        .collect()
}

/// Every status has a colour of its own, readable as text on white; unknown (the evidence does
/// not settle the threat) and not applicable, once two greys, differ in lightness and hue and
/// also in their dash pattern, on the elements and flows drawn and in the status legend, so
/// they read apart without colour. DOT and Mermaid carry the same cue.
#[test]
fn each_status_has_its_own_colour_and_unknown_differs_from_not_applicable_by_more() {
    let colours: std::collections::BTreeSet<&str> =
        ThreatStatus::ALL.iter().map(|s| s.colour()).collect();
    assert_eq!(colours.len(), ThreatStatus::ALL.len(), "{colours:?}");
    for s in ThreatStatus::ALL {
        let c = s.colour();
        assert!(
            c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|x| x.is_ascii_hexdigit()),
            "{s}: {c}"
        );
        assert!(contrast(c, "#ffffff") >= 4.5, "{s}: {c} on white");
    }
    let (unknown, na) = (ThreatStatus::Unknown, ThreatStatus::NotApplicable);
    // Clearly lighter or darker, not only another shade: at least 1.8:1 between the two.
    assert!(
        contrast(unknown.colour(), na.colour()) >= 1.8,
        "{} vs {}",
        unknown.colour(),
        na.colour()
    );
    let (du, dn) = (unknown.dash().unwrap(), na.dash().unwrap());
    assert_ne!(du, dn);
    // Solid stays the plain case: the statuses without a pattern draw no dashes.
    for s in [
        ThreatStatus::Exposed,
        ThreatStatus::PartiallyMitigated,
        ThreatStatus::Accepted,
        ThreatStatus::Mitigated,
    ] {
        assert_eq!(s.dash(), None, "{s}");
    }

    // A cluster dump read on a host without Kubernetes: unknown elements and flows, and flows
    // not applicable.
    let tm = model(&dump_only("k8s-secure"), Options::default()).unwrap();
    let drawing = svg::render(&tm, None);
    let mut seen = std::collections::BTreeSet::new();
    for class in ["element", "flow"] {
        for (status, body) in groups(&drawing, class) {
            let st = ThreatStatus::ALL
                .into_iter()
                .find(|s| s.as_str() == status)
                .unwrap_or_else(|| panic!("status {status}"));
            let drawn = strokes(body);
            assert!(!drawn.is_empty(), "{body}");
            for (colour, dash) in drawn {
                assert_eq!(colour, st.colour(), "{body}");
                assert_eq!(dash.as_deref(), st.dash(), "{body}");
            }
            seen.insert((class, status));
        }
    }
    for want in [
        ("element", "unknown"),
        ("flow", "unknown"),
        ("flow", "not_applicable"),
    ] {
        assert!(seen.contains(&want), "{want:?} not drawn: {seen:?}");
    }
    // The legend: one swatch per status, stroked as its elements are, and named.
    let legend = drawing
        .split("<g class=\"status-legend\">")
        .nth(1)
        .and_then(|r| r.split("</g>").next())
        .expect("status legend");
    for s in ThreatStatus::ALL {
        let swatch = legend
            .split(&format!(
                "<rect class=\"legend-swatch\" data-status=\"{}\"",
                s.as_str()
            ))
            .nth(1)
            .and_then(|r| r.split("/>").next())
            .unwrap_or_else(|| panic!("no legend swatch for {s}"));
        assert!(
            swatch.contains(&format!(" stroke=\"{}\"", s.colour())),
            "{s}: {swatch}"
        );
        match s.dash() {
            Some(d) => assert!(
                swatch.contains(&format!(" stroke-dasharray=\"{d}\"")),
                "{s}: {swatch}"
            ),
            None => assert!(!swatch.contains("stroke-dasharray"), "{s}: {swatch}"),
        }
        assert!(legend.contains(&format!(">{}</text>", s.label())), "{s}");
    }

    // DOT: unknown dashed, not applicable dotted; Mermaid: each class's dash pattern.
    let dot = bulkhead_threats::dot::render(&tm);
    let line_of = |needle: &str| {
        dot.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in DOT"))
    };
    assert!(
        line_of(&format!("color=\"{}\"", unknown.colour())).contains("style=dashed"),
        "{dot}"
    );
    assert!(
        line_of(&format!("color=\"{}\"", na.colour())).contains("style=dotted"),
        "{dot}"
    );
    let mmd = bulkhead_threats::mermaid::render(&tm);
    assert!(mmd.contains(&format!(
        "classDef unknown stroke:{},stroke-width:3px,stroke-dasharray:{du}\n",
        unknown.colour()
    )));
    assert!(mmd.contains(&format!(
        "classDef not_applicable stroke:{},stroke-width:3px,stroke-dasharray:{dn}\n",
        na.colour()
    )));
}
