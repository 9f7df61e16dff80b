//! Kubernetes facts and instances, from the snapshot's Kubernetes section (components found by
//! executable name, their settings, the kubelet configuration, the platform) and the cluster dump.
//!
//! Besides yes/no facts, this module writes what each connection of the reference model really
//! looks like on this node, in words: whether the API server verifies the kubelet's serving
//! certificate (`--kubelet-certificate-authority`), which client certificate it shows etcd, whether
//! etcd demands client and peer certificates. A side that runs elsewhere is described as not
//! visible from here (or run by the provider) rather than guessed.
//!
//! Instances: the audited node and the nodes of the dump; with a dump, its namespaces, the
//! workloads in them (as the policy checks see them: the Pods, or the pod templates when the dump
//! holds no Pod) and the service accounts those workloads use. Each family is bounded; the rest
//! is grouped into one instance that says how many it stands for, so a large cluster still gives
//! a readable diagram.
//!
//! Every workload is drawn on a node, so that the model says how it is run: the node its Pod
//! names, else the audited node, else (nothing of Kubernetes runs here, as when a dump is read on
//! a workstation) one unaudited stand-in node for wherever the cluster runs them. Without it, the
//! threats about running workloads would find nothing to target while the dump's pods fail the
//! checks that guard against them.

use super::{Facts, Instance};
use bulkhead_checks::kube::pods::{containers, pod_views};
use bulkhead_facts::kube::{
    ClusterDump, Component, KubeFacts, KubeletKey, APISERVER, CONTROLLER_MANAGER, ETCD, KUBELET,
    PROXY, SCHEDULER,
};
use bulkhead_facts::{Fact, Snapshot};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// At most this many node instances (the audited node first); the rest are grouped. The stand-in
/// node (see [`STAND_IN_NODE`]) comes on top, and only when no node was audited.
pub const MAX_NODES: usize = 5;
/// At most this many namespaces with workloads; the rest are grouped.
pub const MAX_NAMESPACES: usize = 8;
/// At most this many workloads per namespace; the rest are grouped.
pub const MAX_WORKLOADS_PER_NAMESPACE: usize = 6;
/// At most this many service accounts per namespace; the rest are grouped.
pub const MAX_SERVICE_ACCOUNTS_PER_NAMESPACE: usize = 4;

/// Key of the instance that stands for the namespaces beyond [`MAX_NAMESPACES`].
const MORE_NAMESPACES: &str = "more-namespaces";

/// Key of the stand-in node that runs the dump's workloads when no node was audited and the dump
/// does not place them. Node names are DNS subdomains, which never hold `_`, so it cannot clash
/// with a node of the dump.
pub const STAND_IN_NODE: &str = "any_node";

pub(super) fn kube_facts(s: &Snapshot, f: &mut Facts) {
    let k = s.kubernetes.as_ref();
    let procs = s.host.process_list();
    let local = |name: &str| {
        k.is_some_and(|k| k.components.contains_key(name))
            || procs.iter().any(|p| p.is_program(name))
    };
    let present = k.is_some() || local(APISERVER) || local(KUBELET);
    f.values.insert("k8s.present".into(), json!(present));
    if !present {
        return;
    }
    let component = |name: &str| k.and_then(|k| k.component(name));
    let managed = k.is_some_and(|k| k.platform.managed);
    let provider = k
        .map(|k| k.platform.provider_name().to_string())
        .unwrap_or_else(|| "Kubernetes".into());
    let any_local = [
        APISERVER,
        CONTROLLER_MANAGER,
        SCHEDULER,
        ETCD,
        KUBELET,
        PROXY,
    ]
    .iter()
    .any(|c| local(c));
    let role = if local(APISERVER) {
        "control-plane"
    } else if local(KUBELET) {
        "worker"
    } else if any_local {
        "unknown"
    } else {
        "none (cluster dump only)"
    };
    let v = &mut f.values;
    let node_name = s
        .host
        .hostname
        .value()
        .cloned()
        .unwrap_or_else(|| "node".into());
    v.insert("k8s.node.name".into(), json!(node_name));
    v.insert("k8s.node.role".into(), json!(role));
    v.insert(
        "k8s.platform".into(),
        json!(k
            .map(|k| k.platform.kind.clone())
            .unwrap_or_else(|| "unknown".into())),
    );
    v.insert("k8s.managed".into(), json!(managed));
    v.insert("k8s.provider".into(), json!(provider));
    v.insert(
        "k8s.control_plane".into(),
        json!(if managed {
            format!("Control plane (run by {provider})")
        } else {
            "Control plane".to_string()
        }),
    );
    for (key, name) in [
        ("apiserver", APISERVER),
        ("controller_manager", CONTROLLER_MANAGER),
        ("scheduler", SCHEDULER),
        ("etcd", ETCD),
        ("kubelet", KUBELET),
        ("proxy", PROXY),
    ] {
        v.insert(format!("k8s.{key}.local"), json!(local(name)));
        let place = if local(name) {
            "runs on this node".to_string()
        } else if managed && !matches!(name, KUBELET | PROXY) {
            format!("run by {provider}")
        } else {
            "not on this node".to_string()
        };
        v.insert(format!("k8s.{key}.where"), json!(place));
    }
    let api = component(APISERVER);
    let etcd = component(ETCD);
    let elsewhere = |what: &str| {
        if managed {
            format!("{what} run by {provider}, not visible from this node")
        } else {
            format!("{what} not visible from this node")
        }
    };
    v.insert(
        "k8s.audit_log".into(),
        json!(match api {
            Some(a) => setting(a, "audit-log-path")
                .unwrap_or_else(|| "not configured (no --audit-log-path)".into()),
            None => elsewhere("the API server's audit settings are"),
        }),
    );
    let (authn, enc) = match api {
        Some(a) => user_api(a),
        None => (elsewhere("the API server is"), "TLS".to_string()),
    };
    v.insert("k8s.user_api.authentication".into(), json!(authn));
    v.insert("k8s.user_api.encryption".into(), json!(enc));
    let (authn, enc) = api_etcd(api, etcd, &elsewhere);
    v.insert("k8s.api_etcd.authentication".into(), json!(authn));
    v.insert("k8s.api_etcd.encryption".into(), json!(enc));
    let (authn, enc) = match etcd {
        Some(e) => etcd_peer(e),
        None => (elsewhere("etcd is"), elsewhere("etcd is")),
    };
    v.insert("k8s.etcd_peer.authentication".into(), json!(authn));
    v.insert("k8s.etcd_peer.encryption".into(), json!(enc));
    for (key, name) in [
        ("controller_manager", CONTROLLER_MANAGER),
        ("scheduler", SCHEDULER),
    ] {
        let creds = match component(name) {
            Some(c) => match setting(c, "kubeconfig") {
                Some(p) => format!("client certificate from {p}"),
                None => "in-cluster service-account credentials (no --kubeconfig)".into(),
            },
            None => elsewhere(&format!("{name} is")),
        };
        v.insert(format!("k8s.{key}.credentials"), json!(creds));
    }
    let dump = k.and_then(|k| k.cluster.as_ref()).and_then(Fact::value);
    v.insert("k8s.cluster.dump".into(), json!(dump.is_some()));
    let audited = any_local.then(|| node_name.clone());
    let mut nodes = node_instances(k, audited.as_deref(), role, dump);
    let workloads = dump
        .map(|d| workload_instances(d, &nodes, audited.as_deref()))
        .unwrap_or_default();
    if workloads
        .workloads
        .iter()
        .any(|w| w.attrs.get("node") == Some(&json!(STAND_IN_NODE)))
    {
        nodes.push(stand_in_node(k));
    }
    for n in &mut nodes {
        let placed = workloads
            .workloads
            .iter()
            .filter(|w| w.attrs.get("node") == Some(&json!(n.key)))
            .count();
        n.attrs.insert("workloads".into(), json!(placed));
    }
    f.values.insert(
        "k8s.cluster.namespaces".into(),
        json!(workloads.namespaces.len()),
    );
    f.values
        .insert("k8s.cluster.workloads".into(), json!(workloads.count));
    f.values.insert(
        "k8s.cluster.privileged_workloads".into(),
        json!(workloads.privileged),
    );
    f.instances.insert("node".into(), nodes);
    f.instances.insert("namespace".into(), workloads.namespaces);
    f.instances.insert("workload".into(), workloads.workloads);
    f.instances
        .insert("service_account".into(), workloads.service_accounts);
}

/// A component's setting, when set to something.
fn setting(c: &Component, flag: &str) -> Option<String> {
    c.setting(flag)
        .map(|s| s.value)
        .filter(|v| !v.trim().is_empty())
}

fn kubelet_setting(k: &KubeFacts, key: &KubeletKey) -> Option<String> {
    // A value that cannot be known (an unreadable drop-in) shows as unset here; the checks say
    // why.
    k.kubelet_setting(key)
        .and_then(Result::ok)
        .map(|s| s.value)
        .filter(|v| !v.trim().is_empty())
}

fn is_true(v: Option<String>) -> bool {
    v.as_deref().and_then(bulkhead_facts::flags::parse_go_bool) == Some(true)
}

/// The API server's client certificate towards the kubelet or etcd: it shows one only when both
/// the certificate and its key are given.
fn client_certificate(cert: Option<String>, key: Option<String>, peer: &str) -> String {
    let (cert_flag, key_flag) = match peer {
        "etcd" => ("--etcd-certfile", "--etcd-keyfile"),
        _ => ("--kubelet-client-certificate", "--kubelet-client-key"),
    };
    match (cert, key) {
        (Some(c), Some(_)) => format!("API server client certificate {c}"),
        (Some(c), None) => format!("the API server names a client certificate ({c}) but no key ({key_flag}), so it shows none"),
        (None, _) => format!("the API server shows no client certificate ({cert_flag} not set)"),
    }
}

/// How the API server authenticates clients on its secure port, and how that port is encrypted.
fn user_api(a: &Component) -> (String, String) {
    let mut parts = Vec::new();
    match setting(a, "client-ca-file") {
        Some(ca) => parts.push(format!("client certificates checked against {ca}")),
        None => parts.push("no client CA (--client-ca-file not set)".into()),
    }
    parts.push("tokens".into());
    if let Some(t) = setting(a, "token-auth-file") {
        parts.push(format!("a static token file ({t})"));
    }
    // The API server accepts anonymous requests unless told otherwise.
    let anonymous = a
        .setting("anonymous-auth")
        .and_then(|s| s.as_bool())
        .unwrap_or(true);
    parts.push(if anonymous {
        "anonymous requests accepted".into()
    } else {
        "anonymous requests refused".into()
    });
    let enc = match setting(a, "tls-cert-file") {
        Some(c) => format!("TLS ({c})"),
        None => {
            "TLS with a self-signed certificate the API server made (no --tls-cert-file)".into()
        }
    };
    (parts.join("; "), enc)
}

/// The API server to etcd connection, seen from both ends where they run here.
fn api_etcd(
    api: Option<&Component>,
    etcd: Option<&Component>,
    elsewhere: &dyn Fn(&str) -> String,
) -> (String, String) {
    let mut authn = Vec::new();
    let mut enc = Vec::new();
    match api {
        Some(a) => {
            authn.push(client_certificate(
                setting(a, "etcd-certfile"),
                setting(a, "etcd-keyfile"),
                "etcd",
            ));
            let servers = setting(a, "etcd-servers").unwrap_or_default();
            let plain: Vec<&str> = servers
                .split(',')
                .map(str::trim)
                .filter(|u| u.starts_with("http://"))
                .collect();
            if !plain.is_empty() {
                enc.push(format!("none: --etcd-servers uses {}", plain.join(", ")));
            } else if servers.is_empty() {
                enc.push("unknown (--etcd-servers not set)".into());
            } else {
                match setting(a, "etcd-cafile") {
                    Some(ca) => enc.push(format!("TLS, etcd's certificate verified against {ca}")),
                    None => enc.push(
                        "TLS, but etcd's certificate is not verified (no --etcd-cafile)".into(),
                    ),
                }
            }
        }
        None => {
            authn.push(elsewhere("the API server is"));
        }
    }
    match etcd {
        Some(e) => {
            // etcd with a configuration file it could not use: what it runs with is unknown,
            // and the flags and variables it ignores say nothing about it.
            if let Err(why) = e.try_setting("client-cert-auth") {
                authn.push(why);
            } else if is_true(setting(e, "client-cert-auth")) {
                let ca = setting(e, "trusted-ca-file")
                    .map(|c| format!(", CA {c}"))
                    .unwrap_or_default();
                authn.push(format!(
                    "etcd requires client certificates (client-cert-auth{ca})"
                ));
            } else {
                authn.push("etcd serves any client that connects (client-cert-auth off)".into());
            }
            let urls =
                setting(e, "listen-client-urls").unwrap_or_else(|| "http://localhost:2379".into());
            let plain: Vec<&str> = urls
                .split(',')
                .map(str::trim)
                .filter(|u| u.starts_with("http://"))
                .collect();
            if let Err(why) = e.try_setting("listen-client-urls") {
                enc.push(why);
            } else if !plain.is_empty() {
                enc.push(format!("etcd listens without TLS on {}", plain.join(", ")));
            } else if setting(e, "cert-file").is_none() && is_true(setting(e, "auto-tls")) {
                enc.push("etcd serves a self-signed certificate (auto-tls)".into());
            }
        }
        None if api.is_some() => authn.push(elsewhere("etcd is")),
        None => {}
    }
    if enc.is_empty() {
        enc.push(if api.is_none() && etcd.is_none() {
            elsewhere("this connection is")
        } else {
            "TLS".into()
        });
    }
    (authn.join("; "), enc.join("; "))
}

/// Traffic between etcd members (port 2380).
fn etcd_peer(e: &Component) -> (String, String) {
    // Unknown (with the reason naming etcd's configuration file) when that file could not be
    // used, rather than etcd's defaults.
    if let (Err(authn), Err(enc)) = (
        e.try_setting("peer-client-cert-auth"),
        e.try_setting("listen-peer-urls"),
    ) {
        return (authn, enc);
    }
    let authn = if is_true(setting(e, "peer-client-cert-auth")) {
        let ca = setting(e, "peer-trusted-ca-file")
            .map(|c| format!(", CA {c}"))
            .unwrap_or_default();
        format!("members must show certificates (peer-client-cert-auth{ca})")
    } else {
        "members are not authenticated (peer-client-cert-auth off)".into()
    };
    let urls = setting(e, "listen-peer-urls").unwrap_or_else(|| "http://localhost:2380".into());
    let plain: Vec<&str> = urls
        .split(',')
        .map(str::trim)
        .filter(|u| u.starts_with("http://"))
        .collect();
    let enc = if !plain.is_empty() {
        format!("none: peers are served on {}", plain.join(", "))
    } else if let Some(c) = setting(e, "peer-cert-file") {
        format!("TLS ({c})")
    } else if is_true(setting(e, "peer-auto-tls")) {
        "TLS with self-signed certificates (peer-auto-tls)".into()
    } else {
        "TLS expected but no peer certificate configured".into()
    };
    (authn, enc)
}

/// The API server to kubelet connection (port 10250) of the audited node, and the kubelet's
/// own credentials towards the API server.
fn api_kubelet(k: Option<&KubeFacts>, managed_by: Option<&str>) -> BTreeMap<String, Value> {
    let api = k.and_then(|k| k.component(APISERVER));
    let kubelet_here = k.is_some_and(|k| k.component(KUBELET).is_some());
    let mut authn = Vec::new();
    let mut enc = "TLS".to_string();
    match api {
        Some(a) => {
            authn.push(client_certificate(
                setting(a, "kubelet-client-certificate"),
                setting(a, "kubelet-client-key"),
                "kubelet",
            ));
            enc = match setting(a, "kubelet-certificate-authority") {
                Some(ca) => format!("TLS, the kubelet's serving certificate verified against {ca}"),
                None => "TLS, but the kubelet's serving certificate is NOT verified (no --kubelet-certificate-authority)".into(),
            };
        }
        None => {
            let who = managed_by
                .map(|p| format!("run by {p}, "))
                .unwrap_or_default();
            authn.push(format!(
                "the API server side is {who}not visible from this node"
            ));
        }
    }
    let mut attrs = BTreeMap::new();
    let mut read_only_port = 0;
    let mut kubelet_api = "node client certificate".to_string();
    if let (Some(k), true) = (k, kubelet_here) {
        match kubelet_setting(k, &KubeletKey::CLIENT_CA_FILE) {
            Some(ca) => authn.push(format!(
                "the kubelet checks client certificates against {ca}"
            )),
            None => authn.push("the kubelet has no client CA, so it cannot tell who calls".into()),
        }
        let anonymous = is_true(kubelet_setting(k, &KubeletKey::ANONYMOUS_AUTH));
        authn.push(if anonymous {
            "anonymous requests accepted".into()
        } else {
            "anonymous requests refused".into()
        });
        read_only_port = kubelet_setting(k, &KubeletKey::READ_ONLY_PORT)
            .and_then(|p| p.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if let Some(kc) = kubelet_setting(k, &KubeletKey::KUBECONFIG) {
            kubelet_api = format!("node client certificate from {kc}");
        }
    } else {
        authn.push("the kubelet side was not audited".into());
    }
    attrs.insert(
        "_api_kubelet_authentication".into(),
        json!(authn.join("; ")),
    );
    attrs.insert("_api_kubelet_encryption".into(), json!(enc));
    attrs.insert("_kubelet_api_authentication".into(), json!(kubelet_api));
    attrs.insert("read_only_port".into(), json!(read_only_port));
    attrs
}

/// kube-proxy's credentials towards the API server.
fn proxy_credentials(k: &KubeFacts) -> String {
    let from_config = k
        .proxy_config
        .as_ref()
        .and_then(|c| c.content.value())
        .and_then(|v| v.pointer("/clientConnection/kubeconfig"))
        .and_then(Value::as_str)
        .map(String::from);
    let from_flag = k.component(PROXY).and_then(|p| setting(p, "kubeconfig"));
    match from_flag.or(from_config) {
        Some(p) => format!("client certificate or token from {p}"),
        None => "in-cluster service-account credentials".into(),
    }
}

fn node_instances(
    k: Option<&KubeFacts>,
    audited: Option<&str>,
    role: &str,
    dump: Option<&ClusterDump>,
) -> Vec<Instance> {
    let managed_by = k
        .filter(|k| k.platform.managed)
        .map(|k| k.platform.provider_name().to_string());
    let mut out = Vec::new();
    if let Some(name) = audited {
        let mut attrs = api_kubelet(k, managed_by.as_deref());
        attrs.insert("role".into(), json!(role));
        attrs.insert("audited".into(), json!(true));
        attrs.insert(
            "kube_proxy".into(),
            json!(k.is_some_and(|k| k.component(PROXY).is_some())),
        );
        attrs.insert(
            "_proxy_credentials".into(),
            json!(k.map(proxy_credentials).unwrap_or_default()),
        );
        out.push(Instance {
            key: name.to_string(),
            name: name.to_string(),
            attrs,
        });
    }
    let others: Vec<(&str, &Value)> = dump
        .map(|d| {
            d.of_kind("Node")
                .map(|n| (n.name.as_str(), &n.body))
                .filter(|(n, _)| Some(*n) != audited)
                .collect()
        })
        .unwrap_or_default();
    let room = MAX_NODES.saturating_sub(out.len());
    let unaudited = |role: &str| {
        let mut attrs = api_kubelet(None, managed_by.as_deref());
        attrs.insert("role".into(), json!(role));
        attrs.insert("audited".into(), json!(false));
        attrs.insert("kube_proxy".into(), json!(false));
        attrs
    };
    let show = if others.len() > room {
        room.saturating_sub(1)
    } else {
        others.len()
    };
    for (name, body) in &others[..show] {
        let labels = body.pointer("/metadata/labels").and_then(Value::as_object);
        let cp = labels.is_some_and(|l| {
            l.keys().any(|k| {
                k == "node-role.kubernetes.io/control-plane"
                    || k == "node-role.kubernetes.io/master"
            })
        });
        out.push(Instance {
            key: name.to_string(),
            name: format!("{name} (from the cluster dump)"),
            attrs: unaudited(if cp { "control-plane" } else { "worker" }),
        });
    }
    if others.len() > show {
        let rest = others.len() - show;
        let mut attrs = unaudited("worker");
        attrs.insert("grouped".into(), json!(rest));
        out.push(Instance {
            key: "more-nodes".into(),
            name: format!("{rest} more nodes"),
            attrs,
        });
    }
    out
}

/// The node drawn for workloads that no audited node and no node of the dump is known to run:
/// not audited, its kubelet's settings unknown, standing for whichever nodes run them.
fn stand_in_node(k: Option<&KubeFacts>) -> Instance {
    let managed_by = k
        .filter(|k| k.platform.managed)
        .map(|k| k.platform.provider_name().to_string());
    let mut attrs = api_kubelet(None, managed_by.as_deref());
    attrs.insert("role".into(), json!("unknown"));
    attrs.insert("audited".into(), json!(false));
    attrs.insert("kube_proxy".into(), json!(false));
    attrs.insert("stand_in".into(), json!(true));
    Instance {
        key: STAND_IN_NODE.into(),
        name: "any node (not audited, not named by the dump)".into(),
        attrs,
    }
}

/// Namespaces, workloads and service accounts of a cluster dump, bounded and grouped.
#[derive(Default)]
struct Workloads {
    namespaces: Vec<Instance>,
    workloads: Vec<Instance>,
    service_accounts: Vec<Instance>,
    /// Workloads in the dump, before grouping.
    count: usize,
    privileged: usize,
}

/// What one workload's pod spec says, with effective values (a container's securityContext
/// over the pod's, init and ephemeral containers included).
struct Workload {
    namespace: String,
    key: String,
    name: String,
    privileged: bool,
    escalation_allowed: bool,
    /// `yes`, `no`, or `the image decides`.
    runs_as_root: &'static str,
    host_namespaces: BTreeSet<String>,
    host_paths: BTreeSet<String>,
    added_capabilities: BTreeSet<String>,
    service_account: String,
    token_mounted: bool,
    node: Option<String>,
}

fn read_workloads(d: &ClusterDump) -> Vec<Workload> {
    let sa_automount: BTreeMap<(String, String), bool> = d
        .of_kind("ServiceAccount")
        .filter_map(|o| {
            let b = o.body.get("automountServiceAccountToken")?.as_bool()?;
            Some((
                (
                    o.namespace.clone().unwrap_or_else(|| "default".into()),
                    o.name.clone(),
                ),
                b,
            ))
        })
        .collect();
    pod_views(d)
        .iter()
        .map(|p| {
            let cs = containers(p);
            let sc =
                |c: &Value, key: &str| c.get("securityContext").and_then(|s| s.get(key)).cloned();
            let pod_sc = |key: &str| {
                p.spec
                    .get("securityContext")
                    .and_then(|s| s.get(key))
                    .cloned()
            };
            let privileged = cs
                .iter()
                .any(|c| sc(c.spec, "privileged").and_then(|v| v.as_bool()) == Some(true));
            let escalation_allowed = cs.iter().any(|c| {
                sc(c.spec, "privileged").and_then(|v| v.as_bool()) == Some(true)
                    || sc(c.spec, "allowPrivilegeEscalation").and_then(|v| v.as_bool())
                        != Some(false)
            });
            let roots: Vec<Option<bool>> = cs
                .iter()
                .map(|c| {
                    let user = sc(c.spec, "runAsUser")
                        .or_else(|| pod_sc("runAsUser"))
                        .and_then(|v| v.as_i64());
                    let non_root = sc(c.spec, "runAsNonRoot")
                        .or_else(|| pod_sc("runAsNonRoot"))
                        .and_then(|v| v.as_bool());
                    match (user, non_root) {
                        (Some(0), _) => Some(true),
                        (Some(_), _) | (None, Some(true)) => Some(false),
                        _ => None,
                    }
                })
                .collect();
            let runs_as_root = if roots.contains(&Some(true)) {
                "yes"
            } else if !roots.is_empty() && roots.iter().all(|r| *r == Some(false)) {
                "no"
            } else {
                "the image decides"
            };
            let host_namespaces = ["hostNetwork", "hostPID", "hostIPC"]
                .iter()
                .filter(|k| p.spec.get(**k).and_then(Value::as_bool) == Some(true))
                .map(|k| k.to_string())
                .collect();
            let host_paths = p
                .spec
                .get("volumes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    v.pointer("/hostPath/path")
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .collect();
            let added_capabilities = cs
                .iter()
                .flat_map(|c| {
                    c.spec
                        .pointer("/securityContext/capabilities/add")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .map(|s| s.trim_start_matches("CAP_").to_uppercase())
                })
                .collect();
            let service_account = p
                .spec
                .get("serviceAccountName")
                .or_else(|| p.spec.get("serviceAccount"))
                .and_then(Value::as_str)
                .unwrap_or("default")
                .to_string();
            let token_mounted = p
                .spec
                .get("automountServiceAccountToken")
                .and_then(Value::as_bool)
                .or_else(|| {
                    sa_automount
                        .get(&(p.namespace.clone(), service_account.clone()))
                        .copied()
                })
                .unwrap_or(true);
            Workload {
                namespace: p.namespace.clone(),
                key: format!("{}/{}/{}", p.namespace, p.kind.to_lowercase(), p.name),
                name: format!("{} {}/{}", p.kind, p.namespace, p.name),
                privileged,
                escalation_allowed,
                runs_as_root,
                host_namespaces,
                host_paths,
                added_capabilities,
                service_account,
                token_mounted,
                node: p
                    .spec
                    .get("nodeName")
                    .and_then(Value::as_str)
                    .map(String::from),
            }
        })
        .collect()
}

fn list(set: &BTreeSet<String>) -> Value {
    json!(set.iter().collect::<Vec<_>>())
}

/// A workload instance; `grouped` workloads are merged into one (any privileged one makes the
/// group privileged, and so on).
fn workload_instance(
    key: String,
    name: String,
    ws: &[&Workload],
    node: &str,
    placement: &str,
) -> Instance {
    let union = |f: &dyn Fn(&Workload) -> &BTreeSet<String>| {
        ws.iter()
            .flat_map(|w| f(w).iter().cloned())
            .collect::<BTreeSet<String>>()
    };
    let root = if ws.iter().any(|w| w.runs_as_root == "yes") {
        "yes"
    } else if ws.iter().all(|w| w.runs_as_root == "no") {
        "no"
    } else {
        "the image decides"
    };
    let host_paths = union(&|w| &w.host_paths);
    let mut attrs = BTreeMap::from([
        ("namespace".to_string(), json!(ws[0].namespace)),
        (
            "privileged".to_string(),
            json!(ws.iter().any(|w| w.privileged)),
        ),
        (
            "escalation_allowed".to_string(),
            json!(ws.iter().any(|w| w.escalation_allowed)),
        ),
        ("runs_as_root".to_string(), json!(root)),
        (
            "host_namespaces".to_string(),
            list(&union(&|w| &w.host_namespaces)),
        ),
        ("has_host_path".to_string(), json!(!host_paths.is_empty())),
        ("host_paths".to_string(), list(&host_paths)),
        (
            "added_capabilities".to_string(),
            list(&union(&|w| &w.added_capabilities)),
        ),
        (
            "service_accounts".to_string(),
            list(&ws.iter().map(|w| w.service_account.clone()).collect()),
        ),
        (
            "token_mounted".to_string(),
            json!(ws.iter().any(|w| w.token_mounted)),
        ),
        ("placement".to_string(), json!(placement)),
        ("node".to_string(), json!(node)),
    ]);
    if ws.len() > 1 {
        attrs.insert("grouped".into(), json!(ws.len()));
    }
    Instance { key, name, attrs }
}

fn workload_instances(d: &ClusterDump, nodes: &[Instance], audited: Option<&str>) -> Workloads {
    let all = read_workloads(d);
    let mut by_ns: BTreeMap<String, Vec<&Workload>> = BTreeMap::new();
    for w in &all {
        by_ns.entry(w.namespace.clone()).or_default().push(w);
    }
    let pss: BTreeMap<&str, String> = d
        .of_kind("Namespace")
        .map(|n| {
            let level = n
                .body
                .pointer("/metadata/labels/pod-security.kubernetes.io~1enforce")
                .and_then(Value::as_str)
                .unwrap_or("not enforced");
            (n.name.as_str(), level.to_string())
        })
        .collect();
    let mut out = Workloads {
        count: all.len(),
        privileged: all.iter().filter(|w| w.privileged).count(),
        ..Default::default()
    };
    // The node that runs a workload: the one its Pod names when that node is shown, else the
    // audited node (the dump does not say where a pod template's pods run), else the stand-in.
    let place = |w: &[&Workload]| -> (String, String) {
        let named = w[0]
            .node
            .as_ref()
            .filter(|n| w.len() == 1 && nodes.iter().any(|i| &i.key == *n));
        match (named, audited) {
            (Some(n), _) => (n.clone(), format!("scheduled on {n}")),
            (None, Some(a)) => (
                a.to_string(),
                format!("placement not in the dump; drawn on the audited node {a}"),
            ),
            (None, None) => (
                STAND_IN_NODE.to_string(),
                "placement not in the dump and no node audited; drawn on a stand-in node".into(),
            ),
        }
    };
    let mut namespaces: Vec<(String, Vec<&Workload>)> = by_ns.into_iter().collect();
    let grouped_ns = if namespaces.len() > MAX_NAMESPACES {
        let rest: Vec<(String, Vec<&Workload>)> = namespaces.split_off(MAX_NAMESPACES - 1);
        Some(rest)
    } else {
        None
    };
    for (ns, ws) in &namespaces {
        let level = pss
            .get(ns.as_str())
            .cloned()
            .unwrap_or_else(|| "not enforced".into());
        out.namespaces.push(Instance {
            key: ns.clone(),
            name: format!("Namespace {ns} (Pod Security: {level})"),
            attrs: BTreeMap::from([
                ("workloads".to_string(), json!(ws.len())),
                ("pod_security".to_string(), json!(level)),
            ]),
        });
        let shown = if ws.len() > MAX_WORKLOADS_PER_NAMESPACE {
            MAX_WORKLOADS_PER_NAMESPACE - 1
        } else {
            ws.len()
        };
        for w in &ws[..shown] {
            let (node, placement) = place(std::slice::from_ref(w));
            out.workloads.push(workload_instance(
                w.key.clone(),
                w.name.clone(),
                std::slice::from_ref(w),
                &node,
                &placement,
            ));
        }
        if ws.len() > shown {
            let rest = &ws[shown..];
            let (node, placement) = place(rest);
            out.workloads.push(workload_instance(
                format!("{ns}/more"),
                format!("{} more workloads in {ns}", rest.len()),
                rest,
                &node,
                &placement,
            ));
        }
        service_accounts(ns, ns, ws, &mut out.service_accounts);
    }
    if let Some(rest) = grouped_ns {
        let ws: Vec<&Workload> = rest.iter().flat_map(|(_, w)| w.iter().copied()).collect();
        out.namespaces.push(Instance {
            key: MORE_NAMESPACES.into(),
            name: format!("{} more namespaces", rest.len()),
            attrs: BTreeMap::from([
                ("workloads".to_string(), json!(ws.len())),
                ("grouped".to_string(), json!(rest.len())),
                ("pod_security".to_string(), json!("see each namespace")),
            ]),
        });
        let (node, placement) = place(&ws);
        let mut inst = workload_instance(
            format!("{MORE_NAMESPACES}/more"),
            format!("{} workloads in {} more namespaces", ws.len(), rest.len()),
            &ws,
            &node,
            &placement,
        );
        inst.attrs
            .insert("namespace".into(), json!(MORE_NAMESPACES));
        out.workloads.push(inst);
        service_accounts(
            MORE_NAMESPACES,
            "the grouped namespaces",
            &ws,
            &mut out.service_accounts,
        );
    }
    out
}

/// The service accounts the workloads of one namespace (or group) use, bounded.
fn service_accounts(ns_key: &str, ns_label: &str, ws: &[&Workload], out: &mut Vec<Instance>) {
    let mut used: BTreeMap<String, Vec<&Workload>> = BTreeMap::new();
    for w in ws {
        let name = if ns_key == MORE_NAMESPACES {
            format!("{}/{}", w.namespace, w.service_account)
        } else {
            w.service_account.clone()
        };
        used.entry(name).or_default().push(w);
    }
    let entries: Vec<(String, Vec<&Workload>)> = used.into_iter().collect();
    let shown = if entries.len() > MAX_SERVICE_ACCOUNTS_PER_NAMESPACE {
        MAX_SERVICE_ACCOUNTS_PER_NAMESPACE - 1
    } else {
        entries.len()
    };
    let make = |key: String, name: String, users: Vec<&Workload>| {
        let mounted: Vec<String> = users
            .iter()
            .filter(|w| w.token_mounted)
            .map(|w| w.name.clone())
            .collect();
        let token_use = if mounted.is_empty() {
            "service-account token, mounted into none of its workloads".to_string()
        } else {
            format!("service-account token, mounted into {}", mounted.join(", "))
        };
        Instance {
            key,
            name,
            attrs: BTreeMap::from([
                ("namespace".to_string(), json!(ns_key)),
                (
                    "used_by".to_string(),
                    json!(users.iter().map(|w| w.name.clone()).collect::<Vec<_>>()),
                ),
                ("mounted_in".to_string(), json!(mounted)),
                ("token_mounted".to_string(), json!(!mounted.is_empty())),
                ("_token_use".to_string(), json!(token_use)),
            ]),
        }
    };
    for (sa, users) in entries[..shown].iter().cloned() {
        out.push(make(
            format!("{ns_key}/{sa}"),
            format!("Service account {ns_label}/{sa}"),
            users,
        ));
    }
    if entries.len() > shown {
        let rest = &entries[shown..];
        let users: Vec<&Workload> = rest.iter().flat_map(|(_, u)| u.iter().copied()).collect();
        out.push(make(
            format!("{ns_key}/more"),
            format!("{} more service accounts in {ns_label}", rest.len()),
            users,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulkhead_facts::kube::ClusterDump;

    fn pod(ns: &str, name: &str, spec: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": ns, "name": name}, "spec": spec})
    }

    #[test]
    fn workload_attributes_are_effective_values() {
        let d = ClusterDump::from_documents(
            "dump.yaml",
            vec![
                json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"namespace": "app", "name": "quiet"}, "automountServiceAccountToken": false}),
                pod(
                    "app",
                    "web",
                    json!({
                        "serviceAccountName": "quiet",
                        "securityContext": {"runAsNonRoot": true},
                        "containers": [{"name": "c", "securityContext": {"allowPrivilegeEscalation": false}}]
                    }),
                ),
                pod(
                    "app",
                    "debug",
                    json!({
                        "hostPID": true,
                        "securityContext": {"runAsUser": 1000},
                        "volumes": [{"name": "root", "hostPath": {"path": "/"}}],
                        "containers": [{"name": "c", "securityContext": {"runAsUser": 0, "privileged": true, "capabilities": {"add": ["CAP_SYS_ADMIN"]}}}]
                    }),
                ),
            ],
        );
        let w = workload_instances(&d, &[], None);
        let get = |key: &str| {
            w.workloads
                .iter()
                .find(|i| i.key == key)
                .unwrap_or_else(|| panic!("{key}"))
        };
        let web = get("app/pod/web");
        assert_eq!(web.attrs["runs_as_root"], json!("no"));
        assert_eq!(web.attrs["escalation_allowed"], json!(false));
        assert_eq!(
            web.attrs["token_mounted"],
            json!(false),
            "the service account turns automounting off"
        );
        let debug = get("app/pod/debug");
        assert_eq!(
            debug.attrs["runs_as_root"],
            json!("yes"),
            "the container's runAsUser 0 overrides the pod's 1000"
        );
        assert_eq!(debug.attrs["privileged"], json!(true));
        assert_eq!(debug.attrs["host_namespaces"], json!(["hostPID"]));
        assert_eq!(debug.attrs["host_paths"], json!(["/"]));
        assert_eq!(debug.attrs["added_capabilities"], json!(["SYS_ADMIN"]));
        assert_eq!(
            debug.attrs["token_mounted"],
            json!(true),
            "the default account mounts its token"
        );
        assert_eq!((w.count, w.privileged), (2, 1));
        let sas: Vec<&str> = w.service_accounts.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(sas, ["app/default", "app/quiet"]);
    }

    #[test]
    fn every_workload_is_drawn_on_a_node() {
        let d = ClusterDump::from_documents(
            "dump.yaml",
            vec![
                pod(
                    "app",
                    "placed",
                    json!({"nodeName": "w1", "containers": [{"name": "c"}]}),
                ),
                pod("app", "floating", json!({"containers": [{"name": "c"}]})),
            ],
        );
        let shown = [Instance {
            key: "w1".into(),
            name: "w1 (from the cluster dump)".into(),
            attrs: BTreeMap::new(),
        }];
        let node_of = |w: &Workloads, key: &str| {
            w.workloads
                .iter()
                .find(|i| i.key == key)
                .map(|i| i.attrs["node"].clone())
                .unwrap_or_else(|| panic!("{key}"))
        };
        // The Pod's own node when it is shown, else the audited node.
        let w = workload_instances(&d, &shown, Some("cp"));
        assert_eq!(node_of(&w, "app/pod/placed"), json!("w1"));
        assert_eq!(node_of(&w, "app/pod/floating"), json!("cp"));
        // No node audited: the stand-in, never no node at all.
        let w = workload_instances(&d, &shown, None);
        assert_eq!(node_of(&w, "app/pod/placed"), json!("w1"));
        assert_eq!(node_of(&w, "app/pod/floating"), json!(STAND_IN_NODE));
        let w = workload_instances(&d, &[], None);
        assert_eq!(node_of(&w, "app/pod/placed"), json!(STAND_IN_NODE));
    }

    #[test]
    fn large_dumps_are_grouped() {
        let mut docs = Vec::new();
        for ns in 0..12 {
            for p in 0..9 {
                docs.push(pod(
                    &format!("ns{ns:02}"),
                    &format!("p{p}"),
                    json!({"serviceAccountName": format!("sa{p}"), "containers": [{"name": "c"}]}),
                ));
            }
        }
        let d = ClusterDump::from_documents("dump.yaml", docs);
        let w = workload_instances(&d, &[], None);
        assert_eq!(w.count, 108);
        assert_eq!(w.namespaces.len(), MAX_NAMESPACES);
        let last = w.namespaces.last().unwrap();
        assert_eq!(
            (last.key.as_str(), last.name.as_str()),
            (MORE_NAMESPACES, "5 more namespaces")
        );
        assert_eq!(last.attrs["workloads"], json!(45));
        // Per shown namespace: five workloads and one group of four.
        let ns0: Vec<&Instance> = w
            .workloads
            .iter()
            .filter(|i| i.attrs["namespace"] == json!("ns00"))
            .collect();
        assert_eq!(ns0.len(), MAX_WORKLOADS_PER_NAMESPACE);
        assert_eq!(ns0.last().unwrap().name, "4 more workloads in ns00");
        assert_eq!(ns0.last().unwrap().attrs["grouped"], json!(4));
        let sa0: Vec<&Instance> = w
            .service_accounts
            .iter()
            .filter(|i| i.attrs["namespace"] == json!("ns00"))
            .collect();
        assert_eq!(sa0.len(), MAX_SERVICE_ACCOUNTS_PER_NAMESPACE);
        assert_eq!(sa0.last().unwrap().name, "6 more service accounts in ns00");
        // Everything is accounted for: shown plus grouped equals the dump.
        let total: usize = w
            .workloads
            .iter()
            .map(|i| i.attrs.get("grouped").and_then(Value::as_u64).unwrap_or(1) as usize)
            .sum();
        assert_eq!(total, 108);
    }
}
