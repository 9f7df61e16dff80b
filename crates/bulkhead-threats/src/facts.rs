//! Facts the models and the threat library may test, derived from a snapshot.
//!
//! The library never reads the snapshot itself: it names facts by key (`docker.daemon.tcp_listener`)
//! and instance attributes (`privileged` of a container). This module is the one place that turns
//! the snapshot into those keys, and [`KNOWN_FACTS`] lists them so a library or model file that
//! names an unknown fact fails validation instead of silently never matching.

use bulkhead_facts::docker::{ContainerFacts, DaemonSettings, DockerFacts};
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
    ("k8s.node.role", "control-plane, worker or unknown"),
    ("k8s.apiserver.local", "kube-apiserver runs on this node"),
    ("k8s.etcd.local", "etcd runs on this node"),
    ("k8s.kubelet.local", "the kubelet runs on this node"),
    ("k8s.proxy.local", "kube-proxy runs on this node"),
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
    /// Instance family (`container`, `node`) -> instances.
    pub instances: BTreeMap<String, Vec<Instance>>,
}

impl Facts {
    pub fn from_snapshot(s: &Snapshot) -> Facts {
        let mut f = Facts::default();
        f.values
            .insert("docker.present".into(), json!(s.docker.is_some()));
        if let Some(d) = &s.docker {
            docker_facts(d, &mut f);
        }
        kube_facts(s, &mut f);
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

fn docker_facts(d: &DockerFacts, f: &mut Facts) {
    let v = &mut f.values;
    let settings = DaemonSettings::from_facts(&d.daemon);
    let paths = &d.daemon.paths;
    v.insert("docker.local".into(), json!(d.endpoint.local));
    v.insert("docker.rootless".into(), json!(d.daemon.rootless));
    if let Some(sock) = paths.sockets.first() {
        v.insert("docker.daemon.socket".into(), json!(sock));
    }
    let tcp = !paths.tcp_hosts.is_empty();
    v.insert("docker.daemon.tcp_listener".into(), json!(tcp));
    if tcp {
        v.insert(
            "docker.daemon.tcp_address".into(),
            json!(paths.tcp_hosts.join(", ")),
        );
        let verify = settings.bool("tlsverify").map(|(b, _)| b).unwrap_or(false);
        let tls = verify || settings.bool("tls").map(|(b, _)| b).unwrap_or(false);
        v.insert("docker.daemon.tcp_tls_verify".into(), json!(verify));
        v.insert(
            "docker.daemon.tcp_authentication".into(),
            json!(if verify {
                "client certificate (tlsverify)"
            } else {
                "none"
            }),
        );
        v.insert(
            "docker.daemon.tcp_encryption".into(),
            json!(if tls { "TLS" } else { "none" }),
        );
    }
    let (insecure, _) = settings.list("insecure-registries");
    v.insert(
        "docker.daemon.insecure_registries".into(),
        json!(insecure.len()),
    );
    v.insert(
        "docker.daemon.registry_transport".into(),
        json!(if insecure.is_empty() {
            "TLS, certificate verified".to_string()
        } else {
            format!(
                "TLS, but unverified or plain HTTP for {}",
                insecure.join(", ")
            )
        }),
    );
    let (plugins, _) = settings.list("authorization-plugins");
    v.insert(
        "docker.daemon.authorization_plugins".into(),
        json!(plugins.len()),
    );
    let driver = settings
        .string("log-driver")
        .map(|(s, _)| s)
        .or_else(|| {
            d.info
                .value()
                .map(|i| i.logging_driver.clone())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "json-file".into());
    v.insert("docker.daemon.log_driver".into(), json!(driver));
    if let Some(c) = &paths.containerd_socket {
        v.insert("docker.daemon.containerd_socket".into(), json!(c));
    }
    v.insert("docker.daemon.data_root".into(), json!(paths.data_root));
    v.insert("docker.daemon.config_file".into(), json!(paths.config_file));
    if let Some(sw) = d.info.value() {
        v.insert(
            "docker.swarm.active".into(),
            json!(sw.swarm.local_node_state == "active"),
        );
    }
    if let Some(images) = d.images.value() {
        v.insert("docker.images.count".into(), json!(images.len()));
    }
    let Some(containers) = d.containers.value() else {
        return;
    };
    let sockets: Vec<String> = paths
        .sockets
        .iter()
        .cloned()
        .chain(paths.containerd_socket.clone())
        .collect();
    let instances: Vec<Instance> = containers
        .iter()
        .map(|c| container_instance(c, d, &sockets))
        .collect();
    let count = |attr: &str| {
        instances
            .iter()
            .filter(|i| i.attrs.get(attr) == Some(&json!(true)))
            .count()
    };
    f.values
        .insert("docker.containers.count".into(), json!(instances.len()));
    f.values.insert(
        "docker.containers.privileged".into(),
        json!(count("privileged")),
    );
    f.values.insert(
        "docker.containers.docker_socket_mounted".into(),
        json!(count("docker_socket_mounted")),
    );
    f.values.insert(
        "docker.containers.root".into(),
        json!(count("runs_as_root")),
    );
    f.instances.insert("container".into(), instances);
}

/// Is `source` (a bind mount's host path) one of the daemon's sockets, or a directory holding one?
fn mounts_socket(source: &str, sockets: &[String]) -> bool {
    let s = source.trim_end_matches('/');
    let well_known = [
        "/var/run/docker.sock",
        "/run/docker.sock",
        "/run/containerd/containerd.sock",
    ];
    sockets
        .iter()
        .map(String::as_str)
        .chain(well_known)
        .any(|sock| {
            sock == s
                || (!s.is_empty() && sock.starts_with(&format!("{s}/")))
                || (s.is_empty() && !sock.is_empty())
        })
}

fn container_instance(c: &ContainerFacts, d: &DockerFacts, sockets: &[String]) -> Instance {
    let i = &c.inspect;
    let hc = &i.host_config;
    let image_user = d
        .images
        .value()
        .and_then(|imgs| imgs.iter().find(|im| im.inspect.id == i.image))
        .map(|im| im.inspect.config.user.clone());
    let user = if i.config.user.is_empty() {
        image_user.unwrap_or_default()
    } else {
        i.config.user.clone()
    };
    let opts = hc.security_opt.clone().unwrap_or_default();
    let nnp = opts.iter().any(|o| {
        let o = o.replace('=', ":");
        o == "no-new-privileges" || o == "no-new-privileges:true"
    });
    let mut host_mounts: Vec<String> = i
        .mounts
        .iter()
        .filter(|m| m.kind == "bind")
        .map(|m| {
            format!(
                "{}:{}{}",
                m.source,
                m.destination,
                if m.rw { "" } else { ":ro" }
            )
        })
        .collect();
    host_mounts.sort();
    let socket = i
        .mounts
        .iter()
        .filter(|m| m.kind == "bind")
        .any(|m| mounts_socket(&m.source, sockets));
    let mut ports: Vec<String> = i
        .network_settings
        .ports
        .iter()
        .flatten()
        .filter_map(|(p, b)| {
            b.as_ref().map(|bs| {
                bs.iter()
                    .map(|b| {
                        format!(
                            "{}:{}->{p}",
                            if b.host_ip.is_empty() {
                                "0.0.0.0"
                            } else {
                                &b.host_ip
                            },
                            b.host_port
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .flatten()
        .collect();
    ports.sort();
    let attrs = BTreeMap::from([
        ("id".to_string(), json!(c.short_id())),
        ("image".to_string(), json!(i.config.image)),
        ("state".to_string(), json!(i.state.status)),
        (
            "user".to_string(),
            json!(if user.is_empty() {
                "(image default: root)".to_string()
            } else {
                user.clone()
            }),
        ),
        ("runs_as_root".to_string(), json!(is_root_user(&user))),
        ("privileged".to_string(), json!(hc.privileged)),
        ("read_only_rootfs".to_string(), json!(hc.readonly_rootfs)),
        ("no_new_privileges".to_string(), json!(nnp)),
        (
            "cap_add".to_string(),
            json!(hc.cap_add.clone().unwrap_or_default()),
        ),
        (
            "cap_drop".to_string(),
            json!(hc.cap_drop.clone().unwrap_or_default()),
        ),
        ("docker_socket_mounted".to_string(), json!(socket)),
        ("host_mounts".to_string(), json!(host_mounts)),
        (
            "has_host_mounts".to_string(),
            json!(!host_mounts.is_empty()),
        ),
        ("published_ports".to_string(), json!(ports)),
        ("network_mode".to_string(), json!(hc.network_mode)),
        ("pid_mode".to_string(), json!(hc.pid_mode)),
    ]);
    Instance {
        key: c.name().to_string(),
        name: c.name().to_string(),
        attrs,
    }
}

/// Kubernetes facts from the host's processes (found by executable name, never by command-line
/// substring) and the snapshot's Kubernetes section.
fn kube_facts(s: &Snapshot, f: &mut Facts) {
    let procs = s.host.process_list();
    let found = |name: &str| {
        s.kubernetes
            .as_ref()
            .is_some_and(|k| k.components.contains_key(name))
    };
    let runs = |name: &str| found(name) || procs.iter().any(|p| p.is_program(name));
    let apiserver = runs("kube-apiserver");
    let etcd = runs("etcd");
    let kubelet = runs("kubelet");
    let proxy = runs("kube-proxy");
    let present = s.kubernetes.is_some() || apiserver || kubelet;
    f.values.insert("k8s.present".into(), json!(present));
    if !present {
        return;
    }
    let node = s
        .host
        .hostname
        .value()
        .cloned()
        .unwrap_or_else(|| "node".into());
    let role = if apiserver {
        "control-plane"
    } else if kubelet {
        "worker"
    } else {
        "unknown"
    };
    f.values.insert("k8s.node.name".into(), json!(node));
    f.values.insert("k8s.node.role".into(), json!(role));
    f.values
        .insert("k8s.apiserver.local".into(), json!(apiserver));
    f.values.insert("k8s.etcd.local".into(), json!(etcd));
    f.values.insert("k8s.kubelet.local".into(), json!(kubelet));
    f.values.insert("k8s.proxy.local".into(), json!(proxy));
    f.instances.insert(
        "node".into(),
        vec![Instance {
            key: node.clone(),
            name: node,
            attrs: BTreeMap::from([
                ("role".to_string(), json!(role)),
                ("kubelet".to_string(), json!(kubelet)),
                ("kube_proxy".to_string(), json!(proxy)),
            ]),
        }],
    );
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

    #[test]
    fn socket_mount_detection() {
        let socks = vec!["/srv/run/docker.sock".to_string()];
        assert!(mounts_socket("/srv/run/docker.sock", &socks));
        assert!(
            mounts_socket("/srv/run", &socks),
            "a directory holding the socket exposes it"
        );
        assert!(mounts_socket("/var/run/docker.sock", &socks));
        assert!(mounts_socket("/run/containerd/containerd.sock", &socks));
        assert!(
            mounts_socket("/", &socks),
            "the host root holds every socket"
        );
        assert!(!mounts_socket("/srv/data", &socks));
    }
}
