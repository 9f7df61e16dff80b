//! Verdicts a kubeadm node meets that a reading of the settings alone gets wrong, each judged on
//! what the component really runs with: simulated components (real processes under each name,
//! with real command lines) on node roots with real files, and a real etcd where etcd's own
//! behaviour decides.

use bulkhead_checks::Status::*;
use bulkhead_checks::{Audit, Status};
use bulkhead_kube_tests::{audit, collect, expect, outcome, NodeRoot, ProcView, SimComponent};
use bulkhead_testkit::{EtcdOptions, Issued, TestEtcd};

const SIM: &str = env!("CARGO_BIN_EXE_kube-sim");

const CONFIG: &str = "/var/lib/kubelet/config.yaml";
const DIR: &str = "/etc/kubernetes/kubelet.conf.d";
/// What `kubeadm init` (1.29 to 1.31) writes to /var/lib/kubelet/config.yaml, abridged: its
/// zero durations are "use the default" to the kubelet, which defaults the file it loads.
const KUBEADM_CONFIG: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\n\
authentication:\n  anonymous:\n    enabled: false\n  webhook:\n    cacheTTL: 0s\n    enabled: true\n\
  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n\
authorization:\n  mode: Webhook\n  webhook:\n    cacheAuthorizedTTL: 0s\n    cacheUnauthorizedTTL: 0s\n\
cgroupDriver: systemd\nkind: KubeletConfiguration\nrotateCertificates: true\n\
staticPodPath: /etc/kubernetes/manifests\nstreamingConnectionIdleTimeout: 0s\nsyncFrequency: 0s\n";

fn audit_kubelet(r: &NodeRoot, args: &str) -> Audit {
    let args: Vec<String> = args.split_whitespace().map(String::from).collect();
    let kubelet = SimComponent::start(SIM, "kubelet", &args, &[]);
    let proc = ProcView::new(&[kubelet.pid()]);
    audit(&collect(r.path(), proc.path(), None))
}

fn kubeadm_kubelet_root() -> NodeRoot {
    let r = NodeRoot::new();
    r.write(CONFIG, KUBEADM_CONFIG, 0o600, 0, 0);
    r.mkdir(DIR, 0o755, 0, 0);
    r
}

fn streaming(a: &Audit) -> (Status, String, String) {
    let r = &outcome(a, "4.2.5").result;
    let o = &r.objects[0];
    let ev = o.evidence.clone().unwrap();
    (
        r.status,
        ev.field,
        format!(
            "{} {}",
            r.message.clone().unwrap_or_default(),
            o.note.clone().unwrap_or_default()
        ),
    )
}

/// kubeadm's `streamingConnectionIdleTimeout: 0s` in the `--config` file runs as 4h: the
/// kubelet loads that file with its defaults, which replace a zero timeout. 4.2.5 passes on
/// every kubeadm node, saying why; a fail here sent every kubeadm user after a setting that is
/// already bounded.
#[test]
fn a_zero_idle_timeout_in_the_config_file_is_the_four_hour_default() {
    let r = kubeadm_kubelet_root();
    let a = audit_kubelet(&r, &format!("--config={CONFIG}"));
    let (status, field, note) = streaming(&a);
    assert_eq!(status, Pass, "{note}");
    assert_eq!(field, format!("streamingConnectionIdleTimeout ({CONFIG})"));
    assert!(note.contains("default of 4h"), "{note}");
}

/// A zero on the command line, or in a `--config-dir` drop-in (merged after the defaults), is
/// what runs: no timeout. Both fail, naming where the zero is.
#[test]
fn a_zero_idle_timeout_from_a_flag_or_a_drop_in_fails() {
    let r = kubeadm_kubelet_root();
    let a = audit_kubelet(
        &r,
        &format!("--config={CONFIG} --streaming-connection-idle-timeout 0"),
    );
    let (status, field, _) = streaming(&a);
    assert_eq!(
        (status, field.as_str()),
        (Fail, "--streaming-connection-idle-timeout (command line)")
    );

    let r = kubeadm_kubelet_root();
    let drop_in = format!("{DIR}/90-streams.conf");
    r.write(
        &drop_in,
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nstreamingConnectionIdleTimeout: 0h0m0s\n",
        0o600,
        0,
        0,
    );
    let a = audit_kubelet(&r, &format!("--config={CONFIG} --config-dir={DIR}"));
    let (status, field, _) = streaming(&a);
    assert_eq!(status, Fail);
    assert_eq!(field, format!("streamingConnectionIdleTimeout ({drop_in})"));

    // A bounded value in the file passes as before.
    let r = NodeRoot::new();
    r.write(
        CONFIG,
        &KUBEADM_CONFIG.replace(
            "streamingConnectionIdleTimeout: 0s",
            "streamingConnectionIdleTimeout: 5m",
        ),
        0o600,
        0,
        0,
    );
    let a = audit_kubelet(&r, &format!("--config={CONFIG}"));
    expect(&a, &[("4.2.5", Pass)]);
}

fn audit_etcd(e: &TestEtcd) -> Audit {
    let proc = ProcView::new(&[e.pid()]);
    let s = collect(std::path::Path::new("/"), proc.path(), None);
    audit(&s)
}

/// A real etcd with `--client-cert-auth=true` and `--peer-client-cert-auth=true` but no CA
/// files: it asks for a certificate, yet verifies it against the host's system trust store, not
/// a CA of the cluster. It refuses the cluster's own client certificate (signed by the test CA)
/// while a certificate from any public CA would pass. 2.2 and 2.5 fail, naming the missing CA
/// file; a reading of the switches alone passed them.
#[test]
fn etcd_client_cert_auth_without_a_ca_file_trusts_the_public_cas() {
    let Some(e) = TestEtcd::start(EtcdOptions {
        tls: true,
        no_trusted_ca: true,
        client_cert_auth: true,
        peer_client_cert_auth: true,
        ..Default::default()
    }) else {
        return;
    };
    assert!(
        !e.answers_without_client_cert(),
        "a certificate is required"
    );
    let pki = e.pki().expect("tls");
    let authority = e.client_url().strip_prefix("https://").unwrap();
    let own = Issued {
        cert: pki.client_cert.clone(),
        key: pki.client_key.clone(),
    };
    let answer =
        bulkhead_testkit::etcd::https_get_verified(authority, "/version", &pki.ca_cert, &own);
    assert!(
        answer.is_err(),
        "etcd accepted a certificate of a CA it was never given: {answer:?}"
    );
    let a = audit_etcd(&e);
    expect(
        &a,
        &[("2.1", Pass), ("2.2", Fail), ("2.4", Pass), ("2.5", Fail)],
    );
    for (id, field, callers) in [
        (
            "2.2",
            "--trusted-ca-file not set (nor ETCD_TRUSTED_CA_FILE)",
            "clients",
        ),
        (
            "2.5",
            "--peer-trusted-ca-file not set (nor ETCD_PEER_TRUSTED_CA_FILE)",
            "peers",
        ),
    ] {
        let r = &outcome(&a, id).result;
        let ev = r.objects[0].evidence.clone().unwrap();
        assert_eq!(ev.field, field, "{id}");
        let m = r.message.clone().unwrap_or_default();
        assert!(
            m.contains(&format!(
                "certificates of its {callers} against the host's system trust store"
            )),
            "{id}: {m}"
        );
    }
}

/// The same etcd with its CA files (the kubeadm layout) still passes: the control for the fail
/// above.
#[test]
fn etcd_client_cert_auth_with_a_ca_file_passes() {
    let Some(e) = TestEtcd::start(EtcdOptions {
        tls: true,
        client_cert_auth: true,
        peer_client_cert_auth: true,
        ..Default::default()
    }) else {
        return;
    };
    let pki = e.pki().expect("tls");
    let authority = e.client_url().strip_prefix("https://").unwrap();
    let own = Issued {
        cert: pki.client_cert.clone(),
        key: pki.client_key.clone(),
    };
    assert!(
        bulkhead_testkit::etcd::https_get_verified(authority, "/version", &pki.ca_cert, &own)
            .is_ok(),
        "the cluster's own certificate is accepted"
    );
    let a = audit_etcd(&e);
    expect(&a, &[("2.2", Pass), ("2.5", Pass)]);
}

/// A directory where the etcd manifest should be (`mkdir etcd.yaml` by mistake, a bad volume
/// mount): the kubelet reads no pod from it. 1.1.7 and 1.1.8 are errors naming it, not a fail on
/// a directory's mode 0755 and, worse, a pass on its owner.
#[test]
fn a_manifest_that_is_a_directory_is_an_error_naming_it() {
    let r = NodeRoot::new();
    r.write(
        CONFIG,
        &KUBEADM_CONFIG.replace("streamingConnectionIdleTimeout: 0s\n", ""),
        0o600,
        0,
        0,
    );
    let pod = |c: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {c}\n  namespace: kube-system\nspec:\n  containers:\n  - name: {c}\n    image: registry.k8s.io/{c}:v1.30.4\n"
        )
    };
    for c in [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
    ] {
        r.write(
            &format!("/etc/kubernetes/manifests/{c}.yaml"),
            &pod(c),
            0o600,
            0,
            0,
        );
    }
    r.mkdir("/etc/kubernetes/manifests/etcd.yaml", 0o755, 0, 0);
    r.mkdir("/var/lib/etcd", 0o700, 998, 997);
    let args = |s: &str| -> Vec<String> { s.split_whitespace().map(String::from).collect() };
    let sims = [
        SimComponent::start(SIM, "kubelet", &args(&format!("--config={CONFIG}")), &[]),
        SimComponent::start(
            SIM,
            "kube-apiserver",
            &args("--authorization-mode=Node,RBAC"),
            &[],
        ),
        SimComponent::start(SIM, "etcd", &args("--data-dir=/var/lib/etcd"), &[]),
    ];
    let pids: Vec<u32> = sims.iter().map(SimComponent::pid).collect();
    let proc = ProcView::new(&pids);
    let a = audit(&collect(r.path(), proc.path(), None));
    expect(&a, &[("1.1.1", Pass), ("1.1.7", Error), ("1.1.8", Error)]);
    for id in ["1.1.7", "1.1.8"] {
        let m = outcome(&a, id).result.message.clone().unwrap_or_default();
        assert!(
            m.contains("/etc/kubernetes/manifests/etcd.yaml is a directory"),
            "{id}: {m}"
        );
    }
}
