//! Facts the models and the threat library may test, derived from a snapshot.
//!
//! The library never reads the snapshot itself: it names facts by key (`docker.daemon.tcp_listener`)
//! and instance attributes (`privileged` of a container). This module is the one place that turns
//! the snapshot into those keys, and [`KNOWN_FACTS`] lists them so a library or model file that
//! names an unknown fact fails validation instead of silently never matching. Docker facts are
//! derived in `docker.rs`, Kubernetes facts in `kube.rs`.

mod docker;
mod kube;

use bulkhead_facts::Snapshot;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Every fact key this module can produce, with what it means.
pub const KNOWN_FACTS: &[(&str, &str)] = &[
    ("docker.present", "the snapshot holds Docker facts"),
    (
        "docker.local",
        "the Docker daemon runs on the host whose files were read",
    ),
    ("docker.rootless", "the daemon runs rootless"),
    ("docker.daemon.socket", "the daemon's first unix socket"),
    (
        "docker.daemon.default_bridge",
        "the daemon has a default bridge network (false with bridge: none)",
    ),
    (
        "docker.daemon.tcp_listener",
        "the daemon listens on TCP (hosts / -H tcp://)",
    ),
    (
        "docker.daemon.tcp_address",
        "the TCP addresses it listens on",
    ),
    (
        "docker.daemon.tcp_tls_verify",
        "tlsverify is on for the TCP listener",
    ),
    (
        "docker.daemon.tcp_authentication",
        "how TCP clients are authenticated",
    ),
    (
        "docker.daemon.tcp_encryption",
        "how the TCP listener is encrypted",
    ),
    (
        "docker.daemon.insecure_registries",
        "number of registries reached without TLS verification",
    ),
    (
        "docker.daemon.registry_transport",
        "how the daemon reaches registries",
    ),
    (
        "docker.daemon.authorization_plugins",
        "number of authorization plugins",
    ),
    ("docker.daemon.log_driver", "the default log driver"),
    (
        "docker.daemon.containerd_socket",
        "the containerd socket the daemon uses",
    ),
    ("docker.daemon.data_root", "the daemon's data root"),
    ("docker.daemon.config_file", "the daemon.json that applies"),
    ("docker.containers.count", "audited containers"),
    (
        "docker.containers.privileged",
        "audited containers running privileged",
    ),
    (
        "docker.containers.docker_socket_mounted",
        "audited containers with the Docker or containerd socket mounted",
    ),
    (
        "docker.containers.root",
        "audited containers whose process runs as root",
    ),
    ("docker.images.count", "images on the host"),
    ("docker.swarm.active", "swarm mode is active"),
    (
        "k8s.present",
        "the snapshot holds Kubernetes facts or Kubernetes components run here",
    ),
    ("k8s.node.name", "the audited node's name"),
    (
        "k8s.node.role",
        "control-plane, worker, or none (a cluster dump alone)",
    ),
    (
        "k8s.platform",
        "kubeadm, k3s, rke2, eks, gke, aks or generic",
    ),
    (
        "k8s.managed",
        "the provider runs the control plane (EKS, GKE, AKS)",
    ),
    (
        "k8s.provider",
        "the platform's name for messages (Amazon EKS, kubeadm, ...)",
    ),
    (
        "k8s.control_plane",
        "the control plane's boundary name, saying who runs it",
    ),
    ("k8s.apiserver.local", "kube-apiserver runs on this node"),
    (
        "k8s.controller_manager.local",
        "kube-controller-manager runs on this node",
    ),
    ("k8s.scheduler.local", "kube-scheduler runs on this node"),
    ("k8s.etcd.local", "etcd runs on this node"),
    ("k8s.kubelet.local", "the kubelet runs on this node"),
    ("k8s.proxy.local", "kube-proxy runs on this node"),
    (
        "k8s.apiserver.where",
        "where kube-apiserver runs, as seen from this node",
    ),
    (
        "k8s.controller_manager.where",
        "where kube-controller-manager runs",
    ),
    ("k8s.scheduler.where", "where kube-scheduler runs"),
    ("k8s.etcd.where", "where etcd runs"),
    (
        "k8s.audit_log",
        "the API server's audit log path, or why none is known",
    ),
    (
        "k8s.user_api.authentication",
        "how the API server authenticates its clients",
    ),
    (
        "k8s.user_api.encryption",
        "how the API server's port is encrypted",
    ),
    (
        "k8s.api_etcd.authentication",
        "how the API server and etcd authenticate each other",
    ),
    (
        "k8s.api_etcd.encryption",
        "how API server to etcd traffic is encrypted",
    ),
    (
        "k8s.etcd_peer.authentication",
        "how etcd members authenticate each other",
    ),
    (
        "k8s.etcd_peer.encryption",
        "how etcd peer traffic is encrypted",
    ),
    (
        "k8s.controller_manager.credentials",
        "the controller manager's API credentials",
    ),
    (
        "k8s.scheduler.credentials",
        "the scheduler's API credentials",
    ),
    ("k8s.cluster.dump", "a cluster dump was read"),
    (
        "k8s.cluster.namespaces",
        "namespaces with workloads in the cluster dump",
    ),
    (
        "k8s.cluster.workloads",
        "workloads (pods, or pod templates) in the cluster dump",
    ),
    (
        "k8s.cluster.privileged_workloads",
        "workloads of the dump with a privileged container",
    ),
];

/// One instance of a template element (a container, a node), with its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Suffix of the instance's IDs: `web` gives `dkr.container:web`.
    pub key: String,
    pub name: String,
    pub attrs: BTreeMap<String, Value>,
}

/// Facts and instances derived from one snapshot.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub values: BTreeMap<String, Value>,
    /// Instance family (`container`, `node`, `namespace`, `workload`, `service_account`) ->
    /// instances.
    pub instances: BTreeMap<String, Vec<Instance>>,
}

impl Facts {
    pub fn from_snapshot(s: &Snapshot) -> Facts {
        let mut f = Facts::default();
        f.values
            .insert("docker.present".into(), json!(s.docker.is_some()));
        if let Some(d) = &s.docker {
            docker::docker_facts(d, &mut f);
        }
        kube::kube_facts(s, &mut f);
        f
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key)
    }

    pub fn bool(&self, key: &str) -> bool {
        self.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    pub fn instances(&self, family: &str) -> &[Instance] {
        self.instances.get(family).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Replace `{fact.key}` placeholders with fact values and `{attr}` with the instance's
    /// attributes (`?` when unknown).
    pub fn interpolate(&self, template: &str, attrs: &BTreeMap<String, Value>) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                out.push_str(&rest[start..]);
                return out;
            };
            let key = &rest[start + 1..start + len];
            // Dotted names are facts (`docker.daemon.socket`); bare names are attributes of the
            // instance being built (`name`, `key`, `user`).
            let v = match key.strip_prefix("attr.") {
                Some(a) => attrs.get(a),
                None if key.contains('.') => self.get(key),
                None => attrs.get(key),
            };
            out.push_str(&match v {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .map(String::from)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(v) => v.to_string(),
                None => "?".into(),
            });
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        out
    }
}

/// Is this user specification root? Empty (the image default), `root`, `0`, and any `0:<group>` or
/// `root:<group>` form all run the process as uid 0 (PITFALL docker 16: `0:0` and `root:root`
/// are root too).
pub fn is_root_user(user: &str) -> bool {
    let u = user.trim();
    let name = u.split(':').next().unwrap_or(u);
    name.is_empty() || name == "root" || name == "0"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_user_forms_pitfall_docker_16() {
        // PITFALL docker 16: docker-bench treats `0:0` and `root:root` as non-root users.
        for u in ["", "root", "0", "0:0", "root:root", "0:1000", " root "] {
            assert!(is_root_user(u), "{u:?} runs as root");
        }
        for u in ["10001", "app", "1000:1000", "nobody:nogroup"] {
            assert!(!is_root_user(u), "{u:?} is not root");
        }
    }
}
