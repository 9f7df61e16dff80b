//! k3s runs the API server, controller manager, scheduler, kubelet, kube-proxy and embedded etcd
//! inside one `k3s server` process (`k3s agent`: kubelet and kube-proxy). Before, no process of
//! those names existed, so every check was not applicable ("no control-plane component runs on
//! this node") on a k3s server whose pass-through options turned anonymous access on. Now each
//! embedded component is judged on what k3s passes it (config.yaml, its drop-ins, then the
//! command line), and a setting k3s chooses itself is manual with the reason, never an upstream
//! default. Files are real (modes, owners) under a temporary root; k3s is a simulated process.

use bulkhead_checks::Status::*;
use bulkhead_kube_tests::{audit, collect, expect, outcome, NodeRoot, ProcView, SimComponent};

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

fn a(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

fn k3s_root() -> NodeRoot {
    let r = NodeRoot::new();
    r.write(
        "/etc/rancher/k3s/k3s.yaml",
        "apiVersion: v1\nkind: Config\nusers:\n- name: default\n  user:\n    token: KUBECONFIGSECRET\n",
        0o600,
        0,
        0,
    );
    r.write(
        "/etc/rancher/k3s/config.yaml",
        "token: CONFIGSECRET\nkube-apiserver-arg:\n  - \"anonymous-auth=true\"\n  - \"profiling=false\"\nkubelet-arg:\n  - \"read-only-port=10255\"\n",
        0o600,
        0,
        0,
    );
    // A drop-in appends (`+`) to the list of the main file.
    r.write(
        "/etc/rancher/k3s/config.yaml.d/10-authz.yaml",
        "kube-apiserver-arg+:\n  - \"authorization-mode=AlwaysAllow\"\n",
        0o600,
        0,
        0,
    );
    r.write(
        "/var/lib/rancher/k3s/server/token",
        "K10x::server:SERVERSECRET\n",
        0o600,
        0,
        0,
    );
    r.mkdir("/var/lib/rancher/k3s/server/db/etcd", 0o700, 0, 0);
    r.write(
        "/var/lib/rancher/k3s/server/tls/server-ca.crt",
        "c",
        0o644,
        0,
        0,
    );
    r.write(
        "/var/lib/rancher/k3s/server/tls/server-ca.key",
        "k",
        0o644,
        0,
        0,
    );
    r.write(
        "/var/lib/rancher/k3s/agent/kubelet.kubeconfig",
        "kind: Config\n",
        0o666,
        0,
        0,
    );
    r
}

#[test]
fn a_k3s_server_is_audited_through_its_pass_through_options() {
    let r = k3s_root();
    let sims = [SimComponent::start(
        SIM,
        "k3s",
        &a("server --cluster-init --token FLAGSECRET --kubelet-arg anonymous-auth=true --etcd-arg=client-cert-auth=false"),
        &[("K3S_TOKEN", "ENVSECRET")],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let s = collect(r.path(), proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    assert_eq!(
        k.targets.selected,
        ["master", "etcd", "controlplane", "node"],
        "{:?}",
        k.targets
    );
    let au = audit(&s);
    expect(
        &au,
        &[
            // From config.yaml and its drop-in.
            ("1.2.1", Fail),
            ("1.2.6", Fail),
            ("1.2.15", Pass),
            // From the command line's pass-through options, both forms.
            ("4.2.1", Fail),
            ("2.2", Fail),
            ("4.2.4", Fail),
            // k3s's own choice, not the upstream default: manual, not fail.
            ("1.2.2", Manual),
            ("1.3.2", Manual),
            ("4.2.14", Manual),
            ("2.1", Manual),
            // Files at k3s's paths.
            ("1.1.11", Pass),
            ("1.1.13", Pass),
            ("1.1.21", Fail),
            ("4.1.5", Fail),
        ],
    );
    let o = &outcome(&au, "1.2.6").result.objects[0];
    assert!(o.name.contains("inside k3s server"), "{o:?}");
    assert_eq!(o.evidence.as_ref().unwrap().actual, "AlwaysAllow");
    let manual = &outcome(&au, "1.3.2").result.objects[0];
    assert!(
        manual
            .note
            .as_deref()
            .unwrap()
            .contains("--kube-controller-manager-arg"),
        "{manual:?}"
    );
    // No secret anywhere in what is recorded or reported.
    let text = serde_json::to_string(&s).unwrap() + &format!("{au:?}");
    for secret in [
        "FLAGSECRET",
        "ENVSECRET",
        "CONFIGSECRET",
        "SERVERSECRET",
        "KUBECONFIGSECRET",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

/// A k3s agent runs only the kubelet and kube-proxy: the control-plane sections are not
/// applicable, with the reason.
#[test]
fn a_k3s_agent_has_no_control_plane() {
    let r = k3s_root();
    let sims = [SimComponent::start(
        SIM,
        "k3s",
        &a("agent --server https://10.0.0.1:6443 --kubelet-arg=anonymous-auth=false"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(
        &au,
        &[
            ("1.2.1", NotApplicable),
            ("2.2", NotApplicable),
            ("3.2.1", NotApplicable),
            ("4.2.1", Pass),
            ("4.2.4", Fail),
        ],
    );
}
