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

/// The objects' notes and the message of a check, for assertions on what it says.
fn said(au: &bulkhead_checks::Audit, id: &str) -> String {
    let r = &outcome(au, id).result;
    let mut text = r.message.clone().unwrap_or_default();
    for o in &r.objects {
        text.push_str(" | ");
        text.push_str(o.note.as_deref().unwrap_or_default());
    }
    text
}

/// A k3s configuration file that cannot be parsed stops k3s at start, so the running k3s read
/// another version of it: every setting of every component inside it is unknown. Before, the
/// file was skipped silently: its settings went missing and the checks called them k3s's own
/// choice (manual), or judged what was left (1.2.1 failed on config.yaml alone).
#[test]
fn a_malformed_k3s_drop_in_makes_every_embedded_setting_an_error() {
    let r = k3s_root();
    // An unclosed flow sequence (the parser stops on line 3); the token must not leak through the parser's reason.
    r.write(
        "/etc/rancher/k3s/config.yaml.d/20-broken.yaml",
        "token: DROPINSECRET\nkube-apiserver-arg+: [\"profiling=true\"\nkubelet-arg: x\n",
        0o600,
        0,
        0,
    );
    r.write(
        "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig",
        "kind: Config\n",
        0o600,
        0,
        0,
    );
    let sims = [SimComponent::start(
        SIM,
        "k3s",
        &a("server --cluster-init --kube-apiserver-arg=anonymous-auth=false"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let s = collect(r.path(), proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    // etcd's own configuration file is not where this is recorded.
    assert!(k.components["etcd"].config.is_none());
    let au = audit(&s);
    expect(
        &au,
        &[
            // Was fail (config.yaml's anonymous-auth=true), pass, manual, manual.
            ("1.2.1", Error),
            ("1.2.15", Error),
            ("1.2.2", Error),
            ("1.3.2", Error),
            ("1.4.1", Error),
            ("2.1", Error),
            ("2.2", Error),
            ("4.2.1", Error),
            ("4.2.14", Error),
            // The kube-proxy kubeconfig is k3s's default path; another could be named in the file.
            ("4.1.3", Error),
            // Only shown, never judged: still manual.
            ("3.1.1", Manual),
            // Files named by nothing in the configuration are still judged.
            ("1.1.21", Fail),
        ],
    );
    for id in ["1.2.1", "2.1", "4.2.1"] {
        let text = said(&au, id);
        assert!(
            text.contains(
                "/etc/rancher/k3s/config.yaml.d/20-broken.yaml: line 3, column 1: invalid YAML"
            ),
            "{id}: {text}"
        );
        assert!(
            !text.contains("etcd takes its settings only"),
            "{id}: {text}"
        );
    }
    assert!(said(&au, "2.1").contains("--etcd-arg"));
    assert!(said(&au, "4.1.3").contains("/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig"));
    let text = serde_json::to_string(&s).unwrap() + &format!("{au:?}");
    assert!(!text.contains("DROPINSECRET"), "token leaked");
}

/// A configuration file k3s cannot read (here a directory where the file should be), or one
/// that holds no mapping of settings, is as unknown as a malformed one.
#[test]
fn an_unreadable_or_non_mapping_k3s_config_is_an_error() {
    let r = NodeRoot::new();
    r.mkdir("/etc/rancher/k3s/config.yaml", 0o700, 0, 0);
    let sims = [SimComponent::start(SIM, "k3s", &a("agent"), &[])];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("4.2.1", Error), ("4.2.4", Error)]);
    let text = said(&au, "4.2.1");
    assert!(
        text.contains("/etc/rancher/k3s/config.yaml: cannot read"),
        "{text}"
    );

    let r = NodeRoot::new();
    r.write(
        "/etc/rancher/k3s/config.yaml",
        "- kubelet-arg=anonymous-auth=false\n",
        0o600,
        0,
        0,
    );
    let sims = [SimComponent::start(SIM, "k3s", &a("agent"), &[])];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("4.2.1", Error)]);
    assert!(said(&au, "4.2.1").contains("not a mapping of k3s settings"));
}

/// kube-proxy inside k3s connects with the kubeconfig k3s writes for it. Before, no path was
/// resolved and 4.1.3/4.1.4 said kube-proxy used in-cluster credentials (not applicable).
#[test]
fn kube_proxy_inside_k3s_is_judged_on_k3s_s_kubeconfig() {
    let r = k3s_root();
    r.write(
        "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig",
        "kind: Config\n",
        0o644,
        0,
        0,
    );
    let sims = [SimComponent::start(SIM, "k3s", &a("agent"), &[])];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("4.1.3", Fail), ("4.1.4", Pass)]);
    assert_eq!(
        outcome(&au, "4.1.3").result.objects[0].name,
        "/var/lib/rancher/k3s/agent/kubeproxy.kubeconfig"
    );

    // A --kube-proxy-arg naming another kubeconfig wins over k3s's.
    r.write("/etc/proxy/kubeconfig", "kind: Config\n", 0o600, 1500, 1500);
    let sims = [SimComponent::start(
        SIM,
        "k3s",
        &a("agent --kube-proxy-arg kubeconfig=/etc/proxy/kubeconfig"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("4.1.3", Pass), ("4.1.4", Fail)]);
    assert_eq!(
        outcome(&au, "4.1.4").result.objects[0].name,
        "/etc/proxy/kubeconfig"
    );
}

/// k3s 1.29+ starts its kubelet with `--config-dir` naming the directory where it writes
/// 00-k3s-defaults.conf: the settings there are judged (before: manual, "k3s's own choice"),
/// `--kubelet-arg` flags win over them, and a setting neither gives stays k3s's own choice.
#[test]
fn the_kubelet_inside_k3s_reads_k3s_s_config_dir() {
    let r = k3s_root();
    r.write(
        "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication:\n  anonymous:\n    enabled: false\nauthorization:\n  mode: Webhook\nreadOnlyPort: 0\n",
        0o600,
        0,
        0,
    );
    let sims = [SimComponent::start(
        SIM,
        "k3s",
        &a("agent --kubelet-arg=anonymous-auth=true"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let s = collect(r.path(), proc.path(), None);
    let au = audit(&s);
    expect(
        &au,
        &[
            // The flag wins over the drop-in's false.
            ("4.2.1", Fail),
            // From the drop-in (was manual).
            ("4.2.2", Pass),
            // config.yaml's --kubelet-arg read-only-port=10255 wins over the drop-in's 0.
            ("4.2.4", Fail),
            // Neither the drop-in nor a flag: still k3s's own choice.
            ("4.2.14", Manual),
            // The drop-in is the kubelet's configuration file (was not applicable).
            ("4.1.9", Pass),
        ],
    );
    let o = &outcome(&au, "4.2.2").result.objects[0];
    assert_eq!(
        o.evidence.as_ref().unwrap().field,
        "authorization.mode (/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf)"
    );
    assert_eq!(
        outcome(&au, "4.2.1").result.objects[0]
            .evidence
            .as_ref()
            .unwrap()
            .field,
        "--anonymous-auth (command line)"
    );
    // A --kubelet-arg config-dir replaces k3s's directory.
    r.mkdir("/etc/kubelet.d", 0o755, 0, 0);
    let sims = [SimComponent::start(
        SIM,
        "k3s",
        &a("agent --kubelet-arg=config-dir=/etc/kubelet.d"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    expect(&au, &[("4.2.2", Manual)]);
}
