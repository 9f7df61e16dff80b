//! kubeadm-like node scenarios, secure and insecure, with every file written for real (modes and
//! owners set with chmod and chown) and every component a running simulated process with a
//! kubeadm-like command line.
//!
//! The secure node: kubelet config in JSON at a non-default path whose `authorization.mode:
//! AlwaysAllow` is overridden by a `--config-dir` drop-in (Webhook), kube-proxy with its own
//! config file, etcd configured by flags. The insecure node: a YAML kubelet config with anonymous
//! access, `--anonymous-auth false` written as two words (pflag reads it as true), AlwaysAllow,
//! identity-first encryption, etcd configured only by `ETCD_*` environment, no kube-proxy (as
//! when Cilium replaces it), wide modes and files owned by an ordinary account.

use crate::{NodeRoot, ProcView, SimComponent, KUBE_UID};

pub struct Scenario {
    pub root: NodeRoot,
    pub sims: Vec<SimComponent>,
    pub proc: ProcView,
}

fn args(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

const SECURE_APISERVER: &str = "--advertise-address=10.0.0.10 --allow-privileged=true \
 --anonymous-auth=false --authorization-mode Node,RBAC --client-ca-file=/etc/kubernetes/pki/ca.crt \
 --enable-admission-plugins=NodeRestriction,EventRateLimit --enable-admission-plugins=AlwaysPullImages,DenyServiceExternalIPs \
 --enable-bootstrap-token-auth=true --encryption-provider-config=/etc/kubernetes/enc/enc.yaml \
 --etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt --etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt \
 --etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key --etcd-servers=https://127.0.0.1:2379 \
 --kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt \
 --kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key \
 --kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt --profiling=false \
 --audit-log-path=/var/log/kubernetes/audit.log --audit-log-maxage=30 --audit-log-maxbackup 10 \
 --audit-log-maxsize=100 --audit-policy-file=/etc/kubernetes/audit-policy.yaml \
 --service-account-key-file=/etc/kubernetes/pki/sa.pub --service-account-issuer=https://kubernetes.default.svc \
 --service-account-signing-key-file=/etc/kubernetes/pki/sa.key --service-account-extend-token-expiration=false \
 --tls-cert-file=/etc/kubernetes/pki/apiserver.crt --tls-private-key-file=/etc/kubernetes/pki/apiserver.key \
 --tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 --request-timeout=60s";

const INSECURE_APISERVER: &str = "--advertise-address=10.0.0.10 --anonymous-auth false \
 --authorization-mode=Node,RBAC --authorization-mode=AlwaysAllow --client-ca-file=/etc/kubernetes/pki/ca.crt \
 --enable-admission-plugins=AlwaysAdmit --disable-admission-plugins=ServiceAccount \
 --encryption-provider-config=/etc/kubernetes/enc/enc.yaml --etcd-servers=http://127.0.0.1:2379 \
 --kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt \
 --token-auth-file=/etc/kubernetes/tokens.csv --service-account-lookup=false \
 --tls-cert-file=/etc/kubernetes/pki/apiserver.crt --tls-private-key-file=/etc/kubernetes/pki/apiserver.key \
 --tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_RSA_WITH_AES_128_CBC_SHA";

const SECURE_CM: &str = "--kubeconfig=/etc/kubernetes/controller-manager.conf --profiling=false \
 --use-service-account-credentials=true --service-account-private-key-file=/etc/kubernetes/pki/sa.key \
 --root-ca-file=/etc/kubernetes/pki/ca.crt --bind-address=127.0.0.1 --terminated-pod-gc-threshold=10 \
 --feature-gates=RotateKubeletServerCertificate=true";
const INSECURE_CM: &str =
    "--kubeconfig=/etc/kubernetes/controller-manager.conf --bind-address=0.0.0.0 \
 --feature-gates=RotateKubeletServerCertificate=false";
const SECURE_SCHED: &str =
    "--kubeconfig=/etc/kubernetes/scheduler.conf --profiling=false --bind-address=127.0.0.1";
const INSECURE_SCHED: &str = "--kubeconfig=/etc/kubernetes/scheduler.conf";

const SECURE_ETCD: &str = "--name=node-1 --data-dir=/var/lib/etcd --cert-file=/etc/kubernetes/pki/etcd/server.crt \
 --key-file=/etc/kubernetes/pki/etcd/server.key --client-cert-auth=true --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt \
 --peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt --peer-key-file=/etc/kubernetes/pki/etcd/peer.key \
 --peer-client-cert-auth=true --peer-trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt \
 --listen-client-urls=https://127.0.0.1:2379 --listen-peer-urls=https://10.0.0.10:2380";
const INSECURE_ETCD_ENV: &[(&str, &str)] = &[
    ("ETCD_NAME", "node-1"),
    ("ETCD_DATA_DIR", "/var/lib/etcd"),
    ("ETCD_LISTEN_CLIENT_URLS", "http://127.0.0.1:2379"),
    ("ETCD_AUTO_TLS", "true"),
    ("ETCD_PEER_AUTO_TLS", "true"),
    ("ETCD_TRUSTED_CA_FILE", "/etc/kubernetes/pki/ca.crt"),
];

const SECURE_KUBELET: &str = "--config=/srv/kubelet/config.json --config-dir=/etc/kubernetes/kubelet.conf.d \
 --kubeconfig=/etc/kubernetes/kubelet.conf --container-runtime-endpoint=unix:///run/containerd/containerd.sock";
const INSECURE_KUBELET: &str =
    "--config=/var/lib/kubelet/custom.yaml --kubeconfig=/etc/kubernetes/kubelet.conf \
 --read-only-port=10255 --make-iptables-util-chains=false";

const SECURE_KUBELET_CONFIG: &str = r#"{
  "apiVersion": "kubelet.config.k8s.io/v1beta1",
  "kind": "KubeletConfiguration",
  "staticPodPath": "/etc/kubernetes/manifests",
  "authentication": {"anonymous": {"enabled": false}, "webhook": {"enabled": true}, "x509": {"clientCAFile": "/etc/kubernetes/pki/ca.crt"}},
  "authorization": {"mode": "AlwaysAllow"},
  "readOnlyPort": 0,
  "rotateCertificates": true,
  "serverTLSBootstrap": true,
  "tlsCipherSuites": ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"],
  "podPidsLimit": 4096,
  "seccompDefault": true,
  "eventRecordQPS": 50
}
"#;
const SECURE_DROP_IN: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthorization:\n  mode: Webhook\n";
const INSECURE_KUBELET_CONFIG: &str = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
staticPodPath: /etc/kubernetes/manifests\nauthentication:\n  anonymous:\n    enabled: true\nauthorization:\n  mode: AlwaysAllow\n\
streamingConnectionIdleTimeout: 0s\nrotateCertificates: false\nfeatureGates:\n  RotateKubeletServerCertificate: false\n";

const ENC_SECURE: &str = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources:\n      - secrets\n    providers:\n      - aescbc:\n          keys:\n            - name: key1\n              secret: c2VjcmV0LWtleS1ub3QtdG8tYmUtc2hvd24tMTIzNDU2\n      - identity: {}\n";
const ENC_INSECURE: &str = r#"{"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration", "resources": [{"resources": ["secrets"], "providers": [{"identity": {}}, {"aescbc": {"keys": [{"name": "key1", "secret": "c2VjcmV0LWtleS1ub3QtdG8tYmUtc2hvd24tMTIzNDU2"}]}}]}]}"#;

fn manifest(component: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {component}\n  namespace: kube-system\nspec:\n  containers:\n    - name: {component}\n      image: registry.k8s.io/{component}:v1.30.2\n      command: [{component}]\n  hostNetwork: true\n"
    )
}

/// Build the node and start its components.
pub fn kubeadm_node(secure: bool, sim: &str) -> Scenario {
    let r = NodeRoot::new();
    let (owner, wide) = if secure { (0, false) } else { (KUBE_UID, true) };
    let m = |tight: u32, loose: u32| if wide { loose } else { tight };
    r.mkdir("/etc/kubernetes", 0o755, 0, 0);
    r.mkdir("/etc/kubernetes/manifests", 0o755, 0, 0);
    for c in [
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "etcd",
    ] {
        r.write(
            &format!("/etc/kubernetes/manifests/{c}.yaml"),
            &manifest(c),
            m(0o600, 0o644),
            owner,
            owner,
        );
    }
    r.mkdir("/etc/kubernetes/pki", 0o755, 0, 0);
    r.mkdir("/etc/kubernetes/pki/etcd", 0o755, 0, 0);
    for f in [
        "ca",
        "apiserver",
        "apiserver-kubelet-client",
        "apiserver-etcd-client",
        "etcd/ca",
        "etcd/server",
        "etcd/peer",
    ] {
        r.write(
            &format!("/etc/kubernetes/pki/{f}.crt"),
            "-----BEGIN CERTIFICATE-----\n",
            m(0o644, 0o666),
            0,
            0,
        );
        r.write(
            &format!("/etc/kubernetes/pki/{f}.key"),
            "-----BEGIN PRIVATE KEY-----\n",
            m(0o600, 0o644),
            owner,
            0,
        );
    }
    r.write("/etc/kubernetes/pki/sa.key", "k", m(0o600, 0o640), 0, 0);
    r.write("/etc/kubernetes/pki/sa.pub", "p", 0o644, 0, 0);
    for f in [
        "admin.conf",
        "super-admin.conf",
        "scheduler.conf",
        "controller-manager.conf",
        "kubelet.conf",
    ] {
        r.write(
            &format!("/etc/kubernetes/{f}"),
            "apiVersion: v1\nkind: Config\n",
            m(0o600, 0o644),
            owner,
            owner,
        );
    }
    r.write(
        "/etc/kubernetes/audit-policy.yaml",
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n",
        0o600,
        0,
        0,
    );
    r.mkdir("/etc/kubernetes/enc", 0o700, 0, 0);
    r.write(
        "/etc/kubernetes/enc/enc.yaml",
        if secure { ENC_SECURE } else { ENC_INSECURE },
        0o600,
        0,
        0,
    );
    r.mkdir(
        "/var/lib/etcd",
        m(0o700, 0o755),
        if secure { 998 } else { 0 },
        if secure { 997 } else { 0 },
    );
    r.write(
        "/usr/lib/systemd/system/kubelet.service",
        "[Service]\nExecStart=/usr/bin/kubelet\n",
        m(0o600, 0o644),
        0,
        0,
    );
    r.write(
        "/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "[Service]\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\n",
        m(0o600, 0o664),
        0,
        owner,
    );
    r.write(
        "/etc/cni/net.d/10-calico.conflist",
        "{\"name\": \"k8s-pod-network\"}\n",
        m(0o600, 0o644),
        0,
        0,
    );
    let mut sims = Vec::new();
    let env_none: &[(&str, &str)] = &[];
    if secure {
        r.mkdir("/srv/kubelet", 0o755, 0, 0);
        r.write(
            "/srv/kubelet/config.json",
            SECURE_KUBELET_CONFIG,
            0o600,
            0,
            0,
        );
        r.mkdir("/etc/kubernetes/kubelet.conf.d", 0o755, 0, 0);
        r.write(
            "/etc/kubernetes/kubelet.conf.d/50-authz.conf",
            SECURE_DROP_IN,
            0o600,
            0,
            0,
        );
        r.write(
            "/etc/kubernetes/kubelet.conf.d/README",
            "not a drop-in: only *.conf files count\nauthorization: {mode: AlwaysAllow}\n",
            0o600,
            0,
            0,
        );
        r.mkdir("/var/lib/kube-proxy", 0o755, 0, 0);
        r.write(
            "/var/lib/kube-proxy/config.conf",
            "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmetricsBindAddress: 127.0.0.1:10249\nclientConnection:\n  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf\n",
            0o600,
            0,
            0,
        );
        r.write(
            "/var/lib/kube-proxy/kubeconfig.conf",
            "apiVersion: v1\nkind: Config\n",
            0o600,
            0,
            0,
        );
        sims.push(SimComponent::start(
            sim,
            "kube-apiserver",
            &args(SECURE_APISERVER),
            env_none,
        ));
        sims.push(SimComponent::start(
            sim,
            "kube-controller-manager",
            &args(SECURE_CM),
            env_none,
        ));
        sims.push(SimComponent::start(
            sim,
            "kube-scheduler",
            &args(SECURE_SCHED),
            env_none,
        ));
        sims.push(SimComponent::start(
            sim,
            "etcd",
            &args(SECURE_ETCD),
            env_none,
        ));
        sims.push(SimComponent::start(
            sim,
            "kubelet",
            &args(SECURE_KUBELET),
            env_none,
        ));
        sims.push(SimComponent::start(
            sim,
            "kube-proxy",
            &args("--config=/var/lib/kube-proxy/config.conf --hostname-override=node-1"),
            env_none,
        ));
    } else {
        r.mkdir("/var/lib/kubelet", 0o755, 0, 0);
        r.write(
            "/var/lib/kubelet/custom.yaml",
            INSECURE_KUBELET_CONFIG,
            0o644,
            KUBE_UID,
            KUBE_UID,
        );
        r.write("/etc/kubernetes/tokens.csv", "t0ken,admin,1\n", 0o600, 0, 0);
        sims.push(SimComponent::start(
            sim,
            "kube-apiserver",
            &args(INSECURE_APISERVER),
            env_none,
        ));
        sims.push(SimComponent::start(
            sim,
            "kube-controller-manager",
            &args(INSECURE_CM),
            env_none,
        ));
        sims.push(SimComponent::start(
            sim,
            "kube-scheduler",
            &args(INSECURE_SCHED),
            env_none,
        ));
        sims.push(SimComponent::start(sim, "etcd", &[], INSECURE_ETCD_ENV));
        sims.push(SimComponent::start(
            sim,
            "kubelet",
            &args(INSECURE_KUBELET),
            env_none,
        ));
    }
    let pids: Vec<u32> = sims.iter().map(SimComponent::pid).collect();
    let proc = ProcView::new(&pids);
    Scenario {
        root: r,
        sims,
        proc,
    }
}
