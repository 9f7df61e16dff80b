//! Docker facts and instances: the daemon's listeners, registries and paths, and one instance per
//! audited container with the attributes threats test (user, privileged, mounts, ports).

use super::{is_root_user, Facts, Instance};
use bulkhead_facts::docker::{ContainerFacts, DaemonSettings, DockerFacts};
use serde_json::json;
use std::collections::BTreeMap;

pub(super) fn docker_facts(d: &DockerFacts, f: &mut Facts) {
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
    v.insert(
        "docker.daemon.default_bridge".into(),
        json!(has_default_bridge(d, &settings)),
    );
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

/// Does the daemon have a default bridge network? Not when it runs with `bridge: none` (flag
/// `--bridge`/`-b` or daemon.json), nor when its network list is known and holds no default
/// bridge (as checks 2.2 and 5.30 read it); otherwise it does, as dockerd creates one by default.
fn has_default_bridge(d: &DockerFacts, settings: &DaemonSettings) -> bool {
    if settings
        .string("bridge")
        .is_some_and(|(b, _)| b.trim() == "none")
    {
        return false;
    }
    match d.networks.value() {
        Some(networks) => networks.iter().any(|n| {
            n.options
                .get("com.docker.network.bridge.default_bridge")
                .is_some_and(|v| v == "true")
                || (n.name == "bridge" && n.driver == "bridge")
        }),
        None => true,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
