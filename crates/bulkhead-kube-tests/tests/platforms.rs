//! Platforms and layouts: RKE2 and k3s paths, a managed (EKS) worker whose control plane the
//! provider runs, etcd settings from /etc/default/etcd, and a file only visible inside a
//! component's own mount namespace (read through /proc/<pid>/root). Components are simulated
//! processes under their real names; files are real, with real modes and owners.

use bulkhead_checks::Status::*;
use bulkhead_kube_tests::{
    audit, collect, outcome, status, NodeRoot, ProcView, SimComponent, TempDir,
};

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

fn a(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

#[test]
fn rke2_layout_is_recognised() {
    let r = NodeRoot::new();
    r.mkdir("/etc/rancher/rke2", 0o755, 0, 0);
    r.write(
        "/etc/rancher/rke2/rke2.yaml",
        "apiVersion: v1\nkind: Config\n",
        0o600,
        0,
        0,
    );
    r.mkdir("/var/lib/rancher/rke2/server/tls", 0o700, 0, 0);
    r.write(
        "/var/lib/rancher/rke2/server/tls/client-ca.crt",
        "c",
        0o644,
        0,
        0,
    );
    r.write(
        "/var/lib/rancher/rke2/server/tls/client-ca.key",
        "k",
        0o600,
        0,
        0,
    );
    r.write(
        "/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml",
        "kind: Pod\n",
        0o600,
        0,
        0,
    );
    r.write(
        "/var/lib/rancher/rke2/agent/kubelet.kubeconfig",
        "kind: Config\n",
        0o644,
        0,
        0,
    );
    let sims = [
        SimComponent::start(SIM, "rke2", &a("server"), &[]),
        SimComponent::start(SIM, "kube-apiserver", &a("--client-ca-file=/var/lib/rancher/rke2/server/tls/client-ca.crt --authorization-mode=Node,RBAC"), &[]),
        SimComponent::start(SIM, "kubelet", &a("--kubeconfig=/var/lib/rancher/rke2/agent/kubelet.kubeconfig --pod-manifest-path=/var/lib/rancher/rke2/agent/pod-manifests"), &[]),
    ];
    let proc = ProcView::new(&sims.iter().map(SimComponent::pid).collect::<Vec<_>>());
    let s = collect(r.path(), proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    assert_eq!(k.platform.kind, "rke2", "{:?}", k.platform);
    assert!(
        k.benchmark.reason.contains("RKE2 layout"),
        "{}",
        k.benchmark.reason
    );
    assert_eq!(
        k.path("admin_conf").unwrap().path,
        "/etc/rancher/rke2/rke2.yaml"
    );
    assert_eq!(
        k.path("apiserver_manifest").unwrap().path,
        "/var/lib/rancher/rke2/agent/pod-manifests/kube-apiserver.yaml"
    );
    assert_eq!(
        k.path("etcd_data_dir").unwrap().path,
        "/var/lib/rancher/rke2/server/db/etcd"
    );
    assert!(k.file_sets["pki"]
        .paths
        .iter()
        .any(|p| p == "/var/lib/rancher/rke2/server/tls/client-ca.key"));
    let au = audit(&s);
    assert_eq!(status(&au, "1.1.1"), Pass);
    assert_eq!(status(&au, "1.1.13"), Pass);
    assert_eq!(status(&au, "1.1.21"), Pass);
    assert_eq!(status(&au, "4.1.5"), Fail, "kubelet.kubeconfig is 0644");
}

#[test]
fn k3s_components_inside_one_process_are_explained() {
    let r = NodeRoot::new();
    r.write("/etc/rancher/k3s/k3s.yaml", "kind: Config\n", 0o644, 0, 0);
    let sims = [SimComponent::start(
        SIM,
        "k3s",
        &a("server --kube-apiserver-arg=profiling=false"),
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let s = collect(r.path(), proc.path(), None);
    let k = s.kubernetes.as_ref().unwrap();
    assert_eq!(k.platform.kind, "k3s");
    // The API server runs inside the k3s process: a component of it, with the flags k3s passes.
    let api = &k.components["kube-apiserver"];
    assert_eq!(api.process.pid, sims[0].pid());
    assert_eq!(api.flags.last("profiling").as_deref(), Some("false"));
    assert!(api.label().contains("inside k3s server"), "{}", api.label());
    assert_eq!(
        k.path("admin_conf").unwrap().path,
        "/etc/rancher/k3s/k3s.yaml"
    );
}

/// A managed worker (EKS markers): master, etcd and control-plane checks are not applicable as
/// provider-managed even when forced with --targets; node checks are evaluated.
#[test]
fn managed_worker_reports_provider_managed_control_plane() {
    let r = NodeRoot::new();
    r.write("/etc/eks/release", "BASE_AMI_ID=ami-1\n", 0o644, 0, 0);
    r.write(
        "/etc/kubernetes/kubelet/kubelet-config.json",
        r#"{"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration", "authentication": {"anonymous": {"enabled": false}, "webhook": {"enabled": true}}, "authorization": {"mode": "Webhook"}}"#,
        0o644,
        0,
        0,
    );
    let sims = [SimComponent::start(SIM, "kubelet", &a("--config=/etc/kubernetes/kubelet/kubelet-config.json --kubeconfig=/var/lib/kubelet/kubeconfig"), &[])];
    let proc = ProcView::new(&[sims[0].pid()]);
    let mut s = collect(r.path(), proc.path(), None);
    let k = s.kubernetes.as_mut().unwrap();
    assert_eq!(
        (k.platform.kind.as_str(), k.platform.managed),
        ("eks", true)
    );
    assert!(
        k.benchmark
            .reason
            .contains("Amazon EKS manages the control plane"),
        "{}",
        k.benchmark.reason
    );
    k.select_targets(&["master".into(), "etcd".into(), "node".into()])
        .unwrap();
    let au = audit(&s);
    for id in ["1.2.1", "1.1.1", "2.1", "3.2.1"] {
        let r = &outcome(&au, id).result;
        assert_eq!(r.status, NotApplicable, "{id}: {r:?}");
        assert!(
            r.message.as_deref().unwrap().contains("provider-managed"),
            "{id}: {r:?}"
        );
    }
    assert_eq!(status(&au, "4.2.1"), Pass);
    assert_eq!(status(&au, "4.2.2"), Pass);
    assert_eq!(status(&au, "4.1.9"), Fail, "kubelet-config.json is 0644");
}

/// etcd configured by its service's environment file (Debian): systemd hands the file's
/// variables to etcd, so the running etcd's environment holds them, and that is where its
/// settings are read (the file's variables are recorded as far as etcd has them).
#[test]
fn etcd_settings_from_etc_default_etcd() {
    let r = NodeRoot::new();
    r.write(
        "/etc/default/etcd",
        "# Debian\nETCD_CLIENT_CERT_AUTH=\"true\"\nETCD_DATA_DIR=/var/lib/etcd/default\n\
         ETCD_LISTEN_CLIENT_URLS=https://10.0.0.5:2379\nETCD_CERT_FILE=/etc/etcd/server.crt\n\
         ETCD_KEY_FILE=/etc/etcd/server.key\nETCD_TRUSTED_CA_FILE=/etc/etcd/ca.crt\n",
        0o644,
        0,
        0,
    );
    r.mkdir("/var/lib/etcd/default", 0o700, 998, 997);
    // The environment systemd gives etcd from that file.
    let env = [
        ("ETCD_CLIENT_CERT_AUTH", "true"),
        ("ETCD_DATA_DIR", "/var/lib/etcd/default"),
        ("ETCD_LISTEN_CLIENT_URLS", "https://10.0.0.5:2379"),
        ("ETCD_CERT_FILE", "/etc/etcd/server.crt"),
        ("ETCD_KEY_FILE", "/etc/etcd/server.key"),
        ("ETCD_TRUSTED_CA_FILE", "/etc/etcd/ca.crt"),
    ];
    let sims = [SimComponent::start(SIM, "etcd", &[], &env)];
    let proc = ProcView::new(&[sims[0].pid()]);
    let s = collect(r.path(), proc.path(), None);
    let etcd = &s.kubernetes.as_ref().unwrap().components["etcd"];
    assert_eq!(etcd.env_files["/etc/default/etcd"].len(), 6, "{etcd:?}");
    let au = audit(&s);
    let ev = outcome(&au, "2.2").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(
        (ev.field.as_str(), ev.actual.as_str()),
        ("ETCD_CLIENT_CERT_AUTH (environment)", "true")
    );
    assert_eq!(status(&au, "2.2"), Pass);
    assert_eq!(
        s.kubernetes
            .as_ref()
            .unwrap()
            .path("etcd_data_dir")
            .unwrap()
            .path,
        "/var/lib/etcd/default"
    );
}

/// A file the component names that the audited root does not hold (a ConfigMap mounted into
/// kube-proxy's container) is read through /proc/<pid>/root. Here the simulated kube-proxy runs
/// in the host's mount namespace, so its /proc/<pid>/root is `/` and the file lives in /tmp,
/// outside the node root.
#[test]
fn files_only_the_component_sees_are_read_through_its_root() {
    let r = NodeRoot::new();
    let outside = TempDir::new("ns");
    let kubeconfig = outside.path().join("kubeconfig.conf");
    std::fs::write(&kubeconfig, "kind: Config\n").unwrap();
    std::fs::set_permissions(
        &kubeconfig,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let args = vec![format!("--kubeconfig={}", kubeconfig.display())];
    let sims = [SimComponent::start(SIM, "kube-proxy", &args, &[])];
    let proc = ProcView::new(&[sims[0].pid()]);
    let s = collect(r.path(), proc.path(), None);
    assert!(!r.host(&kubeconfig.display().to_string()).exists());
    let au = audit(&s);
    let res = &outcome(&au, "4.1.3").result;
    assert_eq!(res.status, Pass, "{res:?}");
}

/// The API server's `--authentication-config` file is read where the flag points, and its
/// anonymous section decides 1.2.1: anonymous access on the health paths alone passes, with no
/// --anonymous-auth flag (which the API server would refuse beside the section).
#[test]
fn anonymous_access_from_the_authentication_configuration_file() {
    let r = NodeRoot::new();
    let file = "/etc/kubernetes/authn/config.yaml";
    let with = |anonymous: &str| {
        r.write(
            file,
            &format!("apiVersion: apiserver.config.k8s.io/v1beta1\nkind: AuthenticationConfiguration\n{anonymous}"),
            0o600,
            0,
            0,
        );
        let sims = [SimComponent::start(
            SIM,
            "kube-apiserver",
            &[format!("--authentication-config={file}")],
            &[],
        )];
        let proc = ProcView::new(&[sims[0].pid()]);
        audit(&collect(r.path(), proc.path(), None))
    };
    let au =
        with("anonymous:\n  enabled: true\n  conditions:\n  - path: /livez\n  - path: /readyz\n");
    assert_eq!(status(&au, "1.2.1"), Pass);
    let ev = outcome(&au, "1.2.1").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(
        (ev.field.as_str(), ev.actual.as_str()),
        (
            "anonymous (/etc/kubernetes/authn/config.yaml)",
            "enabled: true, on /livez, /readyz"
        )
    );
    let au = with("anonymous:\n  enabled: true\n");
    assert_eq!(status(&au, "1.2.1"), Fail);
}

/// The API server's `--authorization-config` file is read where the flag points, and its
/// authorizers decide 1.2.6 to 1.2.8 in place of `--authorization-mode`.
#[test]
fn authorizers_from_the_authorization_configuration_file() {
    let r = NodeRoot::new();
    let file = "/etc/kubernetes/authz.yaml";
    r.write(
        file,
        "apiVersion: apiserver.config.k8s.io/v1\nkind: AuthorizationConfiguration\nauthorizers:\n- type: Node\n  name: node\n- type: RBAC\n  name: rbac\n",
        0o600,
        0,
        0,
    );
    let sims = [SimComponent::start(
        SIM,
        "kube-apiserver",
        &[format!("--authorization-config={file}")],
        &[],
    )];
    let proc = ProcView::new(&[sims[0].pid()]);
    let au = audit(&collect(r.path(), proc.path(), None));
    for id in ["1.2.6", "1.2.7", "1.2.8"] {
        assert_eq!(status(&au, id), Pass, "{id}");
    }
    let ev = outcome(&au, "1.2.7").result.objects[0]
        .evidence
        .clone()
        .unwrap();
    assert_eq!(
        (ev.field.as_str(), ev.actual.as_str()),
        ("authorizers (/etc/kubernetes/authz.yaml)", "Node,RBAC")
    );
}
