//! Kubernetes node fixes: kubelet config edits, static pod manifest flag edits (API server,
//! controller manager, scheduler, etcd), etcd settings in its service environment file or in
//! its `--config-file`, a generated EncryptionConfiguration wired into the API server (or the
//! existing one edited so that an encrypting provider comes first for secrets, in
//! [`super::kube_encryption`]), and securityContext patches for workloads of a cluster dump (in
//! [`super::kube_pods`]).
//!
//! Each setting is changed where the component really reads it: the kubelet's `--config` file
//! (or the drop-in that sets the key), never a textbook path; a value given on a command line
//! (which overrides the file) is reported instead of being shadowed. An etcd setting that comes
//! from an `ETCD_*` variable is changed in the static pod's `env`, never by adding the flag,
//! which etcd refuses beside the variable; etcd started with a configuration file reads nothing
//! else, so its settings are keys of that file, and a file that cannot be used is not edited
//! (no flag stands in for it). Every edit keeps the file's
//! comments, order and layout. A kubelet field that needs a feature gate (`serverTLSBootstrap`
//! needs RotateKubeletServerCertificate) also turns the gate on where a file turns it off, and
//! before a kubelet fix claims a check, the check's own evaluator judges the configuration as
//! the edited files leave it: a check the edits would not close is listed as unfixed with the
//! reason, and its edits are dropped.
//!
//! The kubelet's files are read as the kubelet decodes them
//! ([`bulkhead_sources::kubelet_decode`]), before and after the edits: a file it refuses (no
//! `apiVersion`/`kind`, a value of the wrong JSON type such as `maxPods: "110"`) stops it from
//! starting whatever the file says, so no kubelet fix is planned while one of its files is
//! refused, nor one whose edited file it would refuse. The reason names the file, the line, why,
//! and what to correct by hand.

use super::{file_edit, ids_of, kube_pods, Fixer, ROOT_FILE, ROOT_PRIVATE_FILE};
use crate::edit::{json, yaml, yaml::Seg};
use crate::files;
use crate::model::{Action, FileEdit, Fix, FixKind, Restart, Safety, Target, Unfixed};
use crate::planner::{Failing, PlanContext, Planned};
use bulkhead_checks::{AuditOptions, Context, Status};
use bulkhead_facts::kube::{
    Component, ConfigFile, EtcdSide, EtcdTls, KubeFacts, KubeletConfig, KubeletKey, APISERVER,
    CONTROLLER_MANAGER, ETCD, KUBELET, SCHEDULER,
};
use bulkhead_facts::Fact;
use bulkhead_sources::kubelet_decode::{self, Decoded, Mistyped, Refused, Role};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    name: "kubernetes",
    handles: |c| {
        spec(c).is_some()
            || kube_pods::handles(c)
            || is_encryption(c)
            || etcd_cert_auth_side(c).is_some()
            || etcd_tls_side(c).is_some()
    },
    plan,
};

/// What a flag must become.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// `--flag=value`.
    Set(&'static str),
    /// No `--flag` at all.
    Remove,
    /// `value` among the comma-separated items.
    Include(&'static str),
    /// `value` not among the items.
    Exclude(&'static str),
}

/// A KubeletConfiguration field (dotted path) and the value it must hold.
#[derive(Clone, Copy)]
struct KubeletField {
    path: &'static str,
    value: fn() -> Value,
    /// A feature gate the field needs on: the kubelet's validation refuses the field while the
    /// gate is off, and the kubelet then does not start.
    gate: Option<&'static str>,
}

/// One control's fix on a component.
struct Spec {
    component: &'static str,
    flag: &'static str,
    wants: &'static [Want],
    /// For the kubelet: the KubeletConfiguration field and its value.
    kubelet: Option<KubeletField>,
    safety: Safety,
    may_break: Option<&'static str>,
}

fn spec(control: &str) -> Option<Spec> {
    use Want::*;
    let s = |component, flag, wants, safety, may_break| Spec {
        component,
        flag,
        wants,
        kubelet: None,
        safety,
        may_break,
    };
    let k = |flag, wants, path: &'static str, value: fn() -> Value, safety, may_break| Spec {
        component: KUBELET,
        flag,
        wants,
        kubelet: Some(KubeletField {
            path,
            value,
            gate: None,
        }),
        safety,
        may_break,
    };
    Some(match control {
        "k8s.apiserver.anonymous_auth_disabled" => s(APISERVER, "anonymous-auth", &[Set("false")], Safety::Review, Some("unauthenticated health checks, such as a load balancer's probes of /livez or /healthz, are refused")),
        "k8s.apiserver.no_token_auth_file" => s(APISERVER, "token-auth-file", &[Remove], Safety::Review, Some("clients that authenticate with the static tokens are refused")),
        "k8s.apiserver.authorization_not_always_allow" => s(APISERVER, "authorization-mode", &[Exclude("AlwaysAllow"), Include("Node"), Include("RBAC")], Safety::Review, Some("requests RBAC does not allow are refused")),
        "k8s.apiserver.authorization_node" => s(APISERVER, "authorization-mode", &[Include("Node")], Safety::Review, None),
        "k8s.apiserver.authorization_rbac" => s(APISERVER, "authorization-mode", &[Include("RBAC")], Safety::Review, Some("requests RBAC does not allow are refused")),
        "k8s.apiserver.admission_no_always_admit" => s(APISERVER, "enable-admission-plugins", &[Exclude("AlwaysAdmit")], Safety::Safe, None),
        "k8s.apiserver.admission_always_pull_images" => s(APISERVER, "enable-admission-plugins", &[Include("AlwaysPullImages")], Safety::Review, Some("every pod start pulls its image: pods cannot start while the registry is unreachable")),
        "k8s.apiserver.admission_service_account" => s(APISERVER, "disable-admission-plugins", &[Exclude("ServiceAccount")], Safety::Safe, None),
        "k8s.apiserver.admission_namespace_lifecycle" => s(APISERVER, "disable-admission-plugins", &[Exclude("NamespaceLifecycle")], Safety::Safe, None),
        "k8s.apiserver.admission_node_restriction" => s(APISERVER, "enable-admission-plugins", &[Include("NodeRestriction")], Safety::Safe, None),
        "k8s.apiserver.profiling_disabled" => s(APISERVER, "profiling", &[Set("false")], Safety::Safe, None),
        "k8s.apiserver.audit_log_maxage" => s(APISERVER, "audit-log-maxage", &[Set("30")], Safety::Safe, None),
        "k8s.apiserver.audit_log_maxbackup" => s(APISERVER, "audit-log-maxbackup", &[Set("10")], Safety::Safe, None),
        "k8s.apiserver.audit_log_maxsize" => s(APISERVER, "audit-log-maxsize", &[Set("100")], Safety::Safe, None),
        "k8s.apiserver.service_account_lookup" => s(APISERVER, "service-account-lookup", &[Set("true")], Safety::Safe, None),
        "k8s.apiserver.no_extended_token_expiration" => s(APISERVER, "service-account-extend-token-expiration", &[Set("false")], Safety::Review, Some("workloads that relied on extended token lifetimes must refresh their tokens")),
        "k8s.controller_manager.profiling_disabled" => s(CONTROLLER_MANAGER, "profiling", &[Set("false")], Safety::Safe, None),
        "k8s.controller_manager.terminated_pod_gc" => s(CONTROLLER_MANAGER, "terminated-pod-gc-threshold", &[Set("10")], Safety::Review, Some("terminated pods beyond the threshold are deleted with their logs")),
        "k8s.controller_manager.service_account_credentials" => s(CONTROLLER_MANAGER, "use-service-account-credentials", &[Set("true")], Safety::Review, Some("controllers need RBAC roles for their own service accounts (kubeadm creates them)")),
        "k8s.controller_manager.bind_localhost" => s(CONTROLLER_MANAGER, "bind-address", &[Set("127.0.0.1")], Safety::Review, Some("metrics scrapers outside the node can no longer reach the controller manager")),
        "k8s.scheduler.profiling_disabled" => s(SCHEDULER, "profiling", &[Set("false")], Safety::Safe, None),
        "k8s.scheduler.bind_localhost" => s(SCHEDULER, "bind-address", &[Set("127.0.0.1")], Safety::Review, Some("metrics scrapers outside the node can no longer reach the scheduler")),
        // Only planned where etcd does not use its automatic certificate (auto_tls_blocker): the
        // switch then changes nothing etcd serves.
        "k8s.etcd.no_auto_tls" => s(ETCD, "auto-tls", &[Set("false")], Safety::Safe, None),
        "k8s.etcd.no_peer_auto_tls" => s(ETCD, "peer-auto-tls", &[Set("false")], Safety::Safe, None),
        "k8s.kubelet.anonymous_auth_disabled" => k("anonymous-auth", &[Set("false")], "authentication.anonymous.enabled", || json!(false), Safety::Review, Some("unauthenticated requests to the kubelet API are refused")),
        "k8s.kubelet.authorization_not_always_allow" => k("authorization-mode", &[Set("Webhook")], "authorization.mode", || json!("Webhook"), Safety::Review, Some("kubelet API requests are authorized by the API server; callers need RBAC on nodes/proxy")),
        "k8s.kubelet.read_only_port_disabled" => k("read-only-port", &[Set("0")], "readOnlyPort", || json!(0), Safety::Review, Some("tools scraping the unauthenticated port 10255 stop working")),
        "k8s.kubelet.streaming_idle_timeout" => k("streaming-connection-idle-timeout", &[Set("4h0m0s")], "streamingConnectionIdleTimeout", || json!("4h0m0s"), Safety::Safe, None),
        "k8s.kubelet.iptables_util_chains" => k("make-iptables-util-chains", &[Set("true")], "makeIPTablesUtilChains", || json!(true), Safety::Safe, None),
        "k8s.kubelet.rotate_certificates" => k("rotate-certificates", &[Set("true")], "rotateCertificates", || json!(true), Safety::Safe, None),
        "k8s.kubelet.rotate_server_certificate" => gated(k("rotate-server-certificates", &[Set("true")], "serverTLSBootstrap", || json!(true), Safety::Review, Some("serving certificate requests must be approved (by hand or by an approver) before the kubelet serves TLS with them")), "RotateKubeletServerCertificate"),
        "k8s.kubelet.pod_pids_limit" => k("pod-max-pids", &[Set("4096")], "podPidsLimit", || json!(4096), Safety::Review, Some("pods starting more than 4096 processes or threads fail to fork")),
        "k8s.kubelet.seccomp_default" => k("seccomp-default", &[Set("true")], "seccompDefault", || json!(true), Safety::Review, Some("containers without a seccomp profile run under RuntimeDefault: blocked system calls fail")),
        _ => return None,
    })
}

/// A kubelet spec whose field needs `gate` on.
fn gated(mut s: Spec, gate: &'static str) -> Spec {
    if let Some(f) = s.kubelet.as_mut() {
        f.gate = Some(gate);
    }
    s
}

fn is_encryption(control: &str) -> bool {
    control == "k8s.apiserver.encryption_provider_config"
        || control == "k8s.apiserver.encryption_providers"
}

/// The manifest role of a static-pod component.
fn manifest_role(component: &str) -> Option<&'static str> {
    match component {
        APISERVER => Some("apiserver_manifest"),
        CONTROLLER_MANAGER => Some("controller_manager_manifest"),
        SCHEDULER => Some("scheduler_manifest"),
        ETCD => Some("etcd_manifest"),
        _ => None,
    }
}

/// The new comma-separated value after applying `wants` to `current`.
fn list_value(current: &str, wants: &[Want]) -> String {
    let mut items: Vec<String> = current
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    for w in wants {
        match w {
            Want::Include(v) if !items.iter().any(|i| i == v) => items.push(v.to_string()),
            Want::Exclude(v) => items.retain(|i| i != v),
            _ => {}
        }
    }
    items.join(",")
}

/// The command-line value `wants` ask for, from the current one (None: remove the flag).
fn wanted_value(current: Option<&str>, wants: &[Want]) -> Option<String> {
    match wants.first() {
        Some(Want::Set(v)) => Some(v.to_string()),
        Some(Want::Remove) => None,
        _ => {
            let v = list_value(current.unwrap_or(""), wants);
            // An emptied `--disable-admission-plugins=` is the same as no flag.
            (!v.is_empty()).then_some(v)
        }
    }
}

/// A static pod manifest: the file, its text, and where its component's command list is.
pub(super) struct Manifest {
    pub(super) path: String,
    read: files::ReadFile,
    text: String,
    container: usize,
}

pub(super) fn find_manifest(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    component: &str,
) -> Result<Manifest, String> {
    let role = manifest_role(component).ok_or("not a static pod component")?;
    let path = kube
        .path(role)
        .map(|p| p.path.clone())
        .ok_or_else(|| format!("no static pod manifest is known for {component}"))?;
    let read = files::read(&ctx.root, &path)?;
    let text = read.content.clone().ok_or_else(|| {
        format!("{path} does not exist: {component} is not run as a static pod here")
    })?;
    let docs = bulkhead_sources::yaml::parse(&text).map_err(|e| format!("{path}: {e}"))?;
    let containers = yaml::node_at(&docs, 0, &[Seg::Key("spec"), Seg::Key("containers")])
        .and_then(|n| n.as_seq())
        .ok_or_else(|| format!("{path}: no spec.containers"))?;
    let container = containers
        .iter()
        .position(|c| {
            let first = c
                .get("command")
                .and_then(|n| n.as_seq())
                .and_then(|s| s.first())
                .and_then(|n| n.as_str());
            first
                .map(|f| f.rsplit('/').next() == Some(component))
                .unwrap_or(false)
                || c.get("name").and_then(|n| n.as_str()) == Some(component)
        })
        .ok_or_else(|| format!("{path}: no container runs {component}"))?;
    Ok(Manifest {
        path,
        read,
        text,
        container,
    })
}

/// Why `--authorization-mode` is not set on API server `c` (None: it can be): with
/// `--authorization-config` its authorizers come from that file, and it does not start with
/// both.
fn authorizers_in_file(c: &Component) -> Option<String> {
    let file = c.setting("authorization-config")?.value;
    Some(format!(
        "the API server takes its authorizers from {file} (--authorization-config) and does not start with --authorization-mode beside it: list the Node and RBAC authorizers there (type: Node, type: RBAC), with no AlwaysAllow"
    ))
}

/// Why `--anonymous-auth` is not added beside the API server's AuthenticationConfiguration (None:
/// it can be): the API server does not start with the flag beside an `anonymous` section of that
/// file, which then decides, and a file that could not be read may hold one.
fn anonymous_in_authentication_config(kube: &KubeFacts) -> Option<String> {
    match kube.authentication.as_ref()? {
        Fact::Value(cfg) => cfg.anonymous.as_ref().map(|_| {
            format!(
                "the API server takes anonymous access from the anonymous section of {} and does not start with --anonymous-auth beside it: set enabled: false there, or limit its conditions to /livez, /readyz and /healthz",
                cfg.path
            )
        }),
        Fact::Unavailable(why) => Some(format!(
            "the API server's authentication configuration could not be read ({why}); if it holds an anonymous section, the API server does not start with --anonymous-auth beside it: check the file, then run harden again"
        )),
    }
}

/// An HTTP probe of a static pod's container, as the kubelet sends it.
struct HttpProbe {
    /// `startupProbe` or `livenessProbe`.
    kind: &'static str,
    path: String,
    /// `httpGet.host`; None: the pod's IP, which with hostNetwork is the node's.
    host: Option<String>,
    /// It sends an `Authorization` header.
    authorized: bool,
}

/// The HTTP probes of the component's container in manifest `m` whose failure makes the kubelet
/// restart it (a failing readiness probe only marks the pod not ready).
fn http_probes(m: &Manifest) -> Vec<HttpProbe> {
    let Ok(docs) = bulkhead_sources::yaml::parse(&m.text) else {
        return Vec::new();
    };
    let Some(container) = yaml::node_at(&docs, 0, &[Seg::Key("spec"), Seg::Key("containers")])
        .and_then(|n| n.as_seq())
        .and_then(|c| c.get(m.container))
    else {
        return Vec::new();
    };
    ["startupProbe", "livenessProbe"]
        .into_iter()
        .filter_map(|kind| {
            let get = container.get(kind)?.get("httpGet")?;
            let text = |key: &str| get.get(key).and_then(|n| n.as_str()).map(String::from);
            let authorized =
                get.get("httpHeaders")
                    .and_then(|h| h.as_seq())
                    .is_some_and(|headers| {
                        headers.iter().any(|h| {
                            h.get("name")
                                .and_then(|n| n.as_str())
                                .is_some_and(|n| n.eq_ignore_ascii_case("authorization"))
                        })
                    });
            Some(HttpProbe {
                kind,
                path: text("path").unwrap_or_else(|| "/".into()),
                host: text("host").filter(|h| !h.is_empty()),
                authorized,
            })
        })
        .collect()
}

/// Why the API server's anonymous access is not turned off in manifest `m` (None: it can be):
/// the kubelet's HTTP probes of the API server carry no credentials unless they set an
/// `Authorization` header, so with anonymous requests refused they get 401, and a failing
/// liveness or startup probe makes the kubelet restart the API server over and over (kubeadm's
/// manifests probe /livez this way).
fn probes_without_credentials(m: &Manifest) -> Option<String> {
    let bare: Vec<String> = http_probes(m)
        .into_iter()
        .filter(|p| !p.authorized)
        .map(|p| format!("{} (GET {})", p.kind, p.path))
        .collect();
    if bare.is_empty() {
        return None;
    }
    Some(format!(
        "{} in {} carry no credentials: with --anonymous-auth=false the API server answers them 401, and the kubelet restarts it over and over. Let them through first, either with an AuthenticationConfiguration (--authentication-config, Kubernetes 1.32 and later) whose anonymous section allows only /livez, /readyz and /healthz, in place of --anonymous-auth, or by giving the probes credentials; then run harden again",
        bare.join(", "),
        m.path
    ))
}

/// Why `component` is not bound to 127.0.0.1 in manifest `m` (None: it can be): an HTTP probe
/// sent to another address (with no `host`, the pod's IP, which with hostNetwork is the node's)
/// then finds nothing listening, and the kubelet restarts the component over and over.
/// kubeadm's manifests probe 127.0.0.1.
fn probes_off_loopback(m: &Manifest, component: &str) -> Option<String> {
    let elsewhere: Vec<String> = http_probes(m)
        .into_iter()
        .filter(|p| {
            !matches!(
                p.host.as_deref(),
                Some("127.0.0.1" | "localhost" | "::1" | "[::1]")
            )
        })
        .map(|p| match &p.host {
            Some(h) => format!("{} (GET {} on {h})", p.kind, p.path),
            None => format!("{} (GET {} on the pod's IP, the node's)", p.kind, p.path),
        })
        .collect();
    if elsewhere.is_empty() {
        return None;
    }
    Some(format!(
        "{} in {} would find nothing listening once {component} binds only 127.0.0.1, and the kubelet would restart it over and over: set their httpGet host to 127.0.0.1 first, then run harden again",
        elsewhere.join(", "),
        m.path
    ))
}

/// Apply one flag change to a manifest's command list: `compute` gives the new value from the
/// current one (None: no flag). Returns whether it changed anything.
///
/// A boolean flag (`boolean`) never takes the next item as its value, as pflag parses it: the
/// items `--anonymous-auth` and `"false"` set the flag to true and leave `false` as a stray
/// argument, which the component refuses. So a bare boolean flag counts as true here, and when
/// it is changed a Go boolean word right after it, meant as its value, goes too.
fn edit_manifest_flag(
    m: &mut Manifest,
    flag: &str,
    boolean: bool,
    compute: impl Fn(Option<&str>) -> Option<String>,
) -> Result<bool, String> {
    let cmd_path = [
        Seg::Key("spec"),
        Seg::Key("containers"),
        Seg::Index(m.container),
        Seg::Key("command"),
    ];
    let docs = bulkhead_sources::yaml::parse(&m.text).map_err(|e| format!("{}: {e}", m.path))?;
    let items: Vec<String> = yaml::node_at(&docs, 0, &cmd_path)
        .and_then(|n| n.as_seq())
        .map(|s| {
            s.iter()
                .map(|n| n.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    let eq = format!("--{flag}=");
    let bare = format!("--{flag}");
    // Occurrences: (index of the flag item, index holding its value). A bare boolean flag holds
    // its own value (true).
    let occ: Vec<(usize, usize)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| {
            if it.starts_with(&eq) || (boolean && *it == bare) {
                Some((i, i))
            } else if *it == bare {
                Some((i, i + 1))
            } else {
                None
            }
        })
        .collect();
    let current = occ.last().and_then(|(i, v)| {
        let it = items.get(*v)?;
        Some(if boolean && *it == bare {
            "true".to_string()
        } else if i == v {
            it[eq.len()..].to_string()
        } else {
            it.clone()
        })
    });
    let new = compute(current.as_deref());
    if new == current {
        return Ok(false);
    }
    // Bare boolean occurrences followed by a boolean word (`--profiling`, `"false"`): the word
    // was meant as the value and is dropped with the flag's old spelling.
    let mut removals: Vec<usize> = occ
        .iter()
        .filter(|(i, _)| boolean && items[*i] == bare)
        .map(|(i, _)| i + 1)
        .filter(|w| {
            items
                .get(*w)
                .is_some_and(|x| bulkhead_facts::flags::parse_go_bool(x.trim()).is_some())
        })
        .collect();
    let e = |r: Result<String, yaml::YamlEditError>| r.map_err(|e| format!("{}: {e}", m.path));
    let mut text = m.text.clone();
    // Replacements keep the number of items; removals follow, last first, so every index
    // stays valid.
    match (&new, occ.last()) {
        (Some(v), Some((i, vi))) if i == vi => {
            text = e(yaml::replace_item(
                &text,
                0,
                &cmd_path,
                *i,
                &json!(format!("--{flag}={v}")),
            ))?;
        }
        (Some(v), Some((_, vi))) => {
            text = e(yaml::replace_item(&text, 0, &cmd_path, *vi, &json!(v)))?;
        }
        (Some(v), None) => {
            text = e(yaml::append(
                &text,
                0,
                &cmd_path,
                &json!(format!("--{flag}={v}")),
            ))?;
        }
        (None, _) => {
            for (i, vi) in &occ {
                removals.push(*i);
                if vi != i {
                    removals.push(*vi);
                }
            }
        }
    }
    removals.sort_unstable();
    removals.dedup();
    for r in removals.iter().rev() {
        text = e(yaml::remove_item(&text, 0, &cmd_path, *r))?;
    }
    m.text = text;
    Ok(true)
}

/// Set the value of variable `var` in the `env` list of the manifest's container. `Ok(None)` when
/// the container defines no such variable; an entry filled from `valueFrom` is not changed.
/// Returns whether the text changed.
fn edit_manifest_env(m: &mut Manifest, var: &str, value: &str) -> Result<Option<bool>, String> {
    let env_path = [
        Seg::Key("spec"),
        Seg::Key("containers"),
        Seg::Index(m.container),
        Seg::Key("env"),
    ];
    let docs = bulkhead_sources::yaml::parse(&m.text).map_err(|e| format!("{}: {e}", m.path))?;
    let Some(entries) = yaml::node_at(&docs, 0, &env_path).and_then(|n| n.as_seq()) else {
        return Ok(None);
    };
    // With a name listed twice the container gets the later value.
    let Some(j) = entries
        .iter()
        .rposition(|e| e.get("name").and_then(|n| n.as_str()) == Some(var))
    else {
        return Ok(None);
    };
    if entries[j].get("valueFrom").is_some() {
        return Err(format!(
            "{}: {var} is filled from valueFrom; change its source by hand",
            m.path
        ));
    }
    if entries[j].get("value").and_then(|n| n.as_str()) == Some(value) {
        return Ok(Some(false));
    }
    let mut at = env_path.to_vec();
    at.push(Seg::Index(j));
    m.text = yaml::set(&m.text, 0, &at, "value", &json!(value))
        .map_err(|e| format!("{}: {e}", m.path))?;
    Ok(Some(true))
}

/// etcd configured through its service's environment file (`/etc/default/etcd`): set
/// `ETCD_<FLAG>=value` in place or append it.
fn edit_env_file(text: &str, var: &str, value: Option<&str>) -> String {
    let mut out = String::new();
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        let assigns = t
            .strip_prefix("export ")
            .unwrap_or(t)
            .split_once('=')
            .map(|(k, _)| k.trim() == var)
            .unwrap_or(false);
        if assigns && !t.starts_with('#') {
            if let (Some(v), false) = (value, done) {
                out.push_str(&format!("{var}=\"{v}\"\n"));
                done = true;
            }
            continue;
        }
        out.push_str(line);
    }
    if let (Some(v), false) = (value, done) {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&format!("{var}=\"{v}\"\n"));
    }
    out
}

fn component<'a>(kube: &'a KubeFacts, name: &str) -> Option<&'a Component> {
    kube.component(name)
}

fn plan(ctx: &PlanContext<'_>, failing: &[Failing<'_>]) -> Planned {
    let mut out = Planned::default();
    let Some(kube) = ctx.snapshot.kubernetes.as_ref() else {
        for f in failing {
            out.unfixed
                .push(f.unfixed(None, "the snapshot holds no Kubernetes facts"));
        }
        return out;
    };
    let (cert_auth, failing): (Vec<&Failing>, Vec<&Failing>) = failing
        .iter()
        .partition(|f| etcd_cert_auth_side(f.control_id()).is_some());
    for f in cert_auth {
        let side = etcd_cert_auth_side(f.control_id()).expect("partitioned on the side");
        out.unfixed.push(match component(kube, ETCD) {
            Some(c) => f.unfixed(Some(&c.label()), etcd_cert_auth_unfixed(c, side)),
            None => f.unfixed(None, "etcd does not run on this node"),
        });
    }
    let (tls, failing): (Vec<&Failing>, Vec<&Failing>) = failing
        .into_iter()
        .partition(|f| etcd_tls_side(f.control_id()).is_some());
    let (flags, rest): (Vec<&Failing>, Vec<&Failing>) = failing
        .into_iter()
        .partition(|f| spec(f.control_id()).is_some());
    let (enc, pods): (Vec<&Failing>, Vec<&Failing>) = rest
        .into_iter()
        .partition(|f| is_encryption(f.control_id()));
    // etcd's automatic TLS on a side that has no certificate files yet waits for this plan's
    // TLS fix of that side (whatever the order of the checks): planned on that fix's result.
    let tls_sides: Vec<EtcdSide> = tls
        .iter()
        .filter_map(|f| etcd_tls_side(f.control_id()))
        .collect();
    let waiting = plan_flags(ctx, kube, &flags, &tls_sides, &mut out);
    // After the flag fixes: an edit of the same file builds on theirs, and each TLS fix's
    // projection of etcd on the previous one's.
    let mut projected: Option<bulkhead_facts::Snapshot> = None;
    let mut given: Vec<EtcdSide> = Vec::new();
    for f in tls {
        if let Some(p) = plan_etcd_tls(ctx, kube, f, projected.as_ref(), &mut out) {
            given.extend(etcd_tls_side(f.control_id()));
            projected = Some(p);
        }
    }
    for (f, why) in waiting {
        let c = component(kube, ETCD).expect("waiting only beside a running etcd");
        let side = auto_tls_side(f.control_id()).expect("an automatic TLS check");
        let base = projected.as_ref().filter(|_| given.contains(&side));
        let Some(base) = base else {
            out.unfixed.push(f.unfixed(Some(&c.label()), why));
            continue;
        };
        if let Err(why) = plan_auto_tls_after_tls(ctx, kube, c, f, side, base, &mut out) {
            out.unfixed.push(f.unfixed(Some(&c.label()), why));
        }
    }
    if !enc.is_empty() {
        plan_encryption(ctx, kube, &enc, &mut out);
    }
    if !pods.is_empty() {
        kube_pods::plan_pods(ctx, kube, &pods, &mut out);
    }
    out
}

/// Plan the flag fixes of `failing`. Returned, with the reason it would be refused: each check
/// of etcd's automatic TLS (2.3, 2.6) refused only because its side serves https:// with no
/// certificate files, when `tls_sides` says this plan also has that side's TLS check (2.1, 2.4),
/// whose fix may give it the files.
fn plan_flags<'a, 'f>(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    failing: &[&'a Failing<'f>],
    tls_sides: &[EtcdSide],
    out: &mut Planned,
) -> Vec<(&'a Failing<'f>, String)> {
    let mut waiting = Vec::new();
    // Group by component, then by file edited.
    let mut by_component: BTreeMap<&'static str, Vec<(&'a Failing<'f>, Spec)>> = BTreeMap::new();
    for f in failing {
        let s = spec(f.control_id()).expect("partitioned on spec");
        by_component.entry(s.component).or_default().push((*f, s));
    }
    for (name, items) in by_component {
        let Some(c) = component(kube, name) else {
            for (f, _) in &items {
                out.unfixed
                    .push(f.unfixed(None, format!("{name} does not run on this node")));
            }
            continue;
        };
        let items: Vec<(&'a Failing<'f>, Spec)> = items
            .into_iter()
            .filter(|(f, s)| {
                let blocker = match name {
                    ETCD => auto_tls_blocker(c, f.control_id()),
                    _ => flag_ignored_beside_config(c, s.flag),
                };
                match blocker {
                    Some(why)
                        if auto_tls_side(f.control_id())
                            .is_some_and(|side| tls_sides.contains(&side)) =>
                    {
                        waiting.push((*f, why));
                        false
                    }
                    Some(why) => {
                        out.unfixed.push(f.unfixed(Some(&c.label()), why));
                        false
                    }
                    None => true,
                }
            })
            .collect();
        if items.is_empty() {
            continue;
        }
        if name == KUBELET {
            plan_kubelet(ctx, kube, c, &items, out);
        } else if name == ETCD && c.config.is_some() {
            // etcd reads nothing but its configuration file then: a flag or a variable would
            // change nothing.
            plan_etcd_config(ctx, kube, c, &items, out);
        } else if name == ETCD && !c.env_files.is_empty() && c.flags.occurrences.is_empty() {
            plan_etcd_env(ctx, c, &items, out);
        } else {
            plan_static_pod(ctx, kube, c, &items, out);
        }
    }
    waiting
}

/// Why `--flag` is not set on `c` (None: it can be): kube-scheduler started with `--config` takes
/// `--profiling` (and its other deprecated flags) from that file and ignores the flag, so adding
/// it would change nothing it runs with and the check would go on failing.
fn flag_ignored_beside_config(c: &Component, flag: &str) -> Option<String> {
    if c.name != SCHEDULER || flag != "profiling" {
        return None;
    }
    let file = c.setting("config")?.value;
    Some(format!(
        "kube-scheduler runs with --config {file}, which decides profiling (enableProfiling, true when unset) and makes the scheduler ignore --profiling: set enableProfiling: false in that file, then restart the scheduler"
    ))
}

/// Why etcd's automatic TLS is not turned off on one side (None: it can be): where an `https://`
/// URL of that side has neither certificate file, the automatic certificate is what etcd serves
/// there, and without it etcd does not start ("TLS key/cert ... must be provided"). Beside
/// certificate files, etcd ignores the switch, and turning it off changes nothing it serves.
fn auto_tls_blocker(c: &Component, control: &str) -> Option<String> {
    let side = auto_tls_side(control)?;
    // Settings that cannot be known are the planners' to report.
    let tls = EtcdTls::of(c, side).ok()?;
    let served = tls.tls_urls();
    (tls.no_cert_files && !served.is_empty()).then(|| {
        let name = |flag: &str| c.setting_name(&side.flag(flag));
        let (cert, key) = (name("cert-file"), name("key-file"));
        let files = format!("{cert} and {key}");
        format!(
            "etcd serves its {} with its automatic certificate ({} {}, and neither {cert} nor {key} is set): with {} off it would not start; give it {files} first, then run harden again",
            side.callers(),
            c.setting_name(side.listen_urls_flag()),
            served.join(", "),
            name("auto-tls")
        )
    })
}

/// The side of etcd whose automatic TLS `control` checks: 2.3 for clients, 2.6 for peers.
fn auto_tls_side(control: &str) -> Option<EtcdSide> {
    match control {
        "k8s.etcd.no_auto_tls" => Some(EtcdSide::Client),
        "k8s.etcd.no_peer_auto_tls" => Some(EtcdSide::Peer),
        _ => None,
    }
}

/// The side of etcd whose client-certificate authentication `control` checks.
fn etcd_cert_auth_side(control: &str) -> Option<EtcdSide> {
    match control {
        "k8s.etcd.client_cert_auth" => Some(EtcdSide::Client),
        "k8s.etcd.peer_client_cert_auth" => Some(EtcdSide::Peer),
        _ => None,
    }
}

/// Why etcd's client-certificate authentication on one side is left to a person, and what they
/// must do. It takes certificate material harden does not make or guess: etcd asks for
/// certificates only on https:// URLs served from certificate files, and checks them against
/// the trusted CA file (which alone turns the checking on); the switch without that file would
/// check them against the public CAs and refuse the cluster's own.
fn etcd_cert_auth_unfixed(c: &Component, side: EtcdSide) -> String {
    let name = |flag: &str| c.setting_name(&side.flag(flag));
    let (cert, key) = (name("cert-file"), name("key-file"));
    let files = format!("{cert} and {key}");
    let ca = name("trusted-ca-file");
    let tls = match EtcdTls::of(c, side) {
        Ok(tls) => tls,
        Err(why) => return format!("{why}; correct that first, then run harden again"),
    };
    let plain = tls.plain_urls();
    let what = if !plain.is_empty() {
        format!(
            "etcd asks for no certificate on plain-HTTP {} ({}): serve its {} only on https:// with {files}, and set {ca}",
            c.setting_name(side.listen_urls_flag()),
            plain.join(", "),
            side.callers()
        )
    } else if tls.automatic() {
        format!(
            "{} is on and neither {cert} nor {key} is set: etcd's automatic certificate replaces its TLS settings and asks for no certificate; give it {files}, and set {ca}",
            name("auto-tls")
        )
    } else {
        let refused = match side {
            EtcdSide::Client => "every client of the cluster, the API server included",
            EtcdSide::Peer => "the other members",
        };
        format!(
            "{ca} is not set, and {} alone would check certificates against the public CAs and refuse {refused}: set {ca}",
            name("client-cert-auth")
        )
    };
    format!(
        "{what} to the CA that signs the {}' certificates; harden neither makes certificates nor guesses which CA signs them",
        side.callers()
    )
}

/// The side of etcd whose transport security (certificate files, `https://` listen URLs)
/// `control` checks: 2.1 for clients, 2.4 for peers.
fn etcd_tls_side(control: &str) -> Option<EtcdSide> {
    match control {
        "k8s.etcd.client_tls" => Some(EtcdSide::Client),
        "k8s.etcd.peer_tls" => Some(EtcdSide::Peer),
        _ => None,
    }
}

/// The flag naming the URLs etcd tells others to reach this side at, and its default.
fn etcd_advertise_flag(side: EtcdSide) -> (&'static str, &'static str) {
    match side {
        EtcdSide::Client => ("advertise-client-urls", "http://localhost:2379"),
        EtcdSide::Peer => ("initial-advertise-peer-urls", "http://localhost:2380"),
    }
}

/// The file names a side's certificate and key go by: kubeadm's, then cfssl's.
fn etcd_pair_names(side: EtcdSide) -> &'static [(&'static str, &'static str)] {
    match side {
        EtcdSide::Client => &[
            ("server.crt", "server.key"),
            ("server.pem", "server-key.pem"),
        ],
        EtcdSide::Peer => &[("peer.crt", "peer.key"), ("peer.pem", "peer-key.pem")],
    }
}

/// kubeadm's directory of etcd's certificates.
const KUBEADM_ETCD_PKI: &str = "/etc/kubernetes/pki/etcd";

/// `http://` items of a comma-separated URL list switched to `https://` (same host and port).
fn https_urls(list: &str) -> String {
    list.split(',')
        .map(|u| {
            let t = u.trim();
            match t.get(..7) {
                Some(s) if s.eq_ignore_ascii_case("http://") => format!("https://{}", &t[7..]),
                _ => t.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The port of a URL (`http://127.0.0.1:2379/` -> `2379`), else the scheme's etcd default.
fn url_port(url: &str, default: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or("");
    match authority.rsplit_once(':') {
        Some((_, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.to_string(),
        _ => default.to_string(),
    }
}

/// Whether `text` holds a PEM block with a header of `want`: a certificate, or an unencrypted
/// private key (`-----BEGIN PRIVATE KEY-----`, `RSA PRIVATE KEY`, `EC PRIVATE KEY`).
fn pem_holds(text: &str, key: bool) -> bool {
    text.lines().map(str::trim).any(|l| {
        let Some(label) = l
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.strip_suffix("-----"))
        else {
            return false;
        };
        if key {
            label.ends_with("PRIVATE KEY") && !label.contains("ENCRYPTED")
        } else {
            label == "CERTIFICATE"
        }
    })
}

/// One file of a candidate pair, read through the bounded regular-file reader under the root
/// (links followed inside it only; a FIFO, device or directory refused unread): `Ok(false)` when
/// it is not there, `Ok(true)` when it is a non-empty PEM file of the right kind that etcd (running
/// as `uid`) can read, else why not. The content is only looked at, never kept.
fn etcd_pem_file(ctx: &PlanContext<'_>, path: &str, key: bool, uid: u32) -> Result<bool, String> {
    let read = files::read(&ctx.root, path)?;
    let Some(text) = read.content.as_deref() else {
        return Ok(false);
    };
    let what = if key {
        "unencrypted PEM private key (-----BEGIN ... PRIVATE KEY-----)"
    } else {
        "PEM certificate (-----BEGIN CERTIFICATE-----)"
    };
    if text.trim().is_empty() {
        return Err(format!("{path} is empty"));
    }
    if !pem_holds(text, key) {
        return Err(format!("{path} holds no {what}"));
    }
    if let Some(a) = read.attrs.filter(|_| uid != 0) {
        let readable = (a.uid == uid && a.mode & 0o400 != 0) || a.mode & 0o044 != 0;
        if !readable {
            return Err(format!(
                "etcd runs as uid {uid} and cannot read {path} (owner uid {}, mode {:04o}): give it to etcd's user (chown), then run harden again",
                a.uid, a.mode
            ));
        }
    }
    Ok(true)
}

/// Where etcd's container finds host path `host` through the hostPath volumes of its static pod
/// manifest (None: no volume holds it, so etcd cannot open it).
fn pod_path(m: &Manifest, host: &str) -> Option<String> {
    let docs = bulkhead_sources::yaml::parse(&m.text).ok()?;
    let pod = docs
        .first()?
        .root
        .to_json(bulkhead_sources::yaml::Schema::Core);
    let volumes = pod.pointer("/spec/volumes")?.as_array()?;
    let mounts = pod
        .pointer(&format!("/spec/containers/{}/volumeMounts", m.container))?
        .as_array()?;
    let mut best: Option<(usize, String)> = None;
    for mount in mounts {
        let (Some(name), Some(at)) = (mount["name"].as_str(), mount["mountPath"].as_str()) else {
            continue;
        };
        let Some(hp) = volumes
            .iter()
            .find(|v| v["name"].as_str() == Some(name))
            .and_then(|v| v.pointer("/hostPath/path"))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let hp = hp.trim_end_matches('/');
        let rest = if host == hp {
            ""
        } else if let Some(r) = host.strip_prefix(hp).filter(|r| r.starts_with('/')) {
            r
        } else {
            continue;
        };
        if best.as_ref().is_none_or(|(len, _)| hp.len() > *len) {
            best = Some((hp.len(), format!("{}{rest}", at.trim_end_matches('/'))));
        }
    }
    best.map(|(_, p)| p)
}

/// A certificate and key found for one side of etcd: host paths, and the paths etcd opens
/// (different only inside a static pod whose volume mounts the directory elsewhere).
struct EtcdPair {
    cert: String,
    key: String,
    cert_in_etcd: String,
    key_in_etcd: String,
    found: String,
}

/// The certificate and key etcd should serve one side with, from the files the node already has:
/// kubeadm's names (`server.crt`/`server.key`, `peer.crt`/`peer.key`) or cfssl's, in the
/// directories other settings name (etcd's CA files, the other side's certificate, the API
/// server's `--etcd-cafile`), then in kubeadm's `/etc/kubernetes/pki/etcd`. Never made or
/// guessed beyond that: without a usable pair, why not and how to make one.
fn find_etcd_pair(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    c: &Component,
    side: EtcdSide,
) -> Result<EtcdPair, String> {
    let other = match side {
        EtcdSide::Client => EtcdSide::Peer,
        EtcdSide::Peer => EtcdSide::Client,
    };
    let mut dirs: Vec<(String, String)> = Vec::new();
    let mut add = |value: Option<String>, why: String| {
        let Some(v) = value else { return };
        if let Some((d, _)) = v.trim().rsplit_once('/') {
            let d = if d.is_empty() { "/" } else { d };
            if d.starts_with('/') && !dirs.iter().any(|(x, _)| x == d) {
                dirs.push((d.to_string(), why));
            }
        }
    };
    for (s, flag) in [
        (side, "trusted-ca-file"),
        (other, "cert-file"),
        (other, "trusted-ca-file"),
    ] {
        let flag = s.flag(flag);
        add(
            c.setting(&flag).map(|s| s.value),
            format!("the directory of etcd's {}", c.setting_name(&flag)),
        );
    }
    if let Some(api) = component(kube, APISERVER) {
        add(
            api.setting("etcd-cafile").map(|s| s.value),
            "the directory of the API server's --etcd-cafile".into(),
        );
    }
    add(
        Some(format!("{KUBEADM_ETCD_PKI}/ca.crt")),
        "kubeadm's etcd directory".into(),
    );
    let manifest = find_manifest(ctx, kube, ETCD).ok();
    let uid = c.process.uid;
    let mut problems: Vec<String> = Vec::new();
    for (dir, why) in &dirs {
        for (cert_name, key_name) in etcd_pair_names(side) {
            let at = |n: &str| format!("{}/{n}", dir.trim_end_matches('/'));
            let (cert, key) = (at(cert_name), at(key_name));
            let c_ok = etcd_pem_file(ctx, &cert, false, uid);
            let k_ok = etcd_pem_file(ctx, &key, true, uid);
            match (&c_ok, &k_ok) {
                (Ok(true), Ok(true)) => {}
                (Ok(false), Ok(false)) => continue,
                _ => {
                    for (r, path) in [(&c_ok, &cert), (&k_ok, &key)] {
                        match r {
                            Err(e) => problems.push(e.clone()),
                            Ok(false) => problems.push(format!("{path} is missing")),
                            Ok(true) => {}
                        }
                    }
                    continue;
                }
            }
            let mapped = match &manifest {
                None => Some((cert.clone(), key.clone())),
                Some(m) => pod_path(m, &cert).zip(pod_path(m, &key)),
            };
            let Some((cert_in_etcd, key_in_etcd)) = mapped else {
                problems.push(format!(
                    "{cert} and {key} are not in a hostPath volume of etcd's container ({}): add one for {dir}, then run harden again",
                    manifest.as_ref().map(|m| m.path.as_str()).unwrap_or_default()
                ));
                continue;
            };
            return Ok(EtcdPair {
                cert,
                key,
                cert_in_etcd,
                key_in_etcd,
                found: format!("{dir} ({why})"),
            });
        }
    }
    let name = |flag: &str| c.setting_name(&side.flag(flag));
    let looked = dirs
        .iter()
        .map(|(d, why)| format!("{d} ({why})"))
        .collect::<Vec<_>>()
        .join(", ");
    let names = etcd_pair_names(side)
        .iter()
        .map(|(c, k)| format!("{c} and {k}"))
        .collect::<Vec<_>>()
        .join(", or ");
    let found = if problems.is_empty() {
        "none of them is there".to_string()
    } else {
        problems.join("; ")
    };
    let (phase, files, what) = match side {
        EtcdSide::Client => (
            "etcd-server",
            "server.crt and server.key",
            "a serving certificate from the CA etcd's clients trust (the API server's --etcd-cafile), naming every address they connect to",
        ),
        EtcdSide::Peer => (
            "etcd-peer",
            "peer.crt and peer.key",
            "a certificate for server and client authentication from the CA the members trust for each other, naming this member's peer addresses",
        ),
    };
    Err(format!(
        "neither {} nor {} is set, and harden found no certificate and key to give etcd for its {}: it looked for {names} in {looked}: {found}. On a kubeadm node, `kubeadm init phase certs {phase}` writes {KUBEADM_ETCD_PKI}/{files} from etcd's CA ({KUBEADM_ETCD_PKI}/ca.crt and ca.key); elsewhere, issue {what}, and write it and its unencrypted key as PEM files etcd can read (the key readable by no one else). Then run harden again, or set {} and {} to them and {} to https:// yourself; harden never makes keys or certificates",
        name("cert-file"),
        name("key-file"),
        side.callers(),
        name("cert-file"),
        name("key-file"),
        c.setting_name(side.listen_urls_flag()),
    ))
}

/// etcd's settings as one fix writes them, where etcd takes them from: the file, its kind and
/// target, the edited text and the node as etcd restarted on it.
struct EtcdWrite {
    kind: FixKind,
    target_kind: &'static str,
    path: String,
    read: files::ReadFile,
    text: String,
    changes: Vec<String>,
    notes: Vec<String>,
    restart: Option<Restart>,
    projected: bulkhead_facts::Snapshot,
}

/// `read` as an earlier fix of this plan leaves the file (fixes of one file chain, each built on
/// the previous one's content, as apply requires).
fn chained(out: &Planned, path: &str, mut read: files::ReadFile) -> files::ReadFile {
    if let Some(e) = out
        .fixes
        .iter()
        .flat_map(|f| f.action.edits.iter())
        .rfind(|e| e.path == path)
    {
        read.content = Some(e.after.clone());
    }
    read
}

/// Write etcd's `settings` (flag, value) where etcd reads them: its `--config-file`, its service's
/// environment file, or its static pod manifest (a variable of the container's env where etcd
/// takes the setting from one, else a flag).
fn etcd_settings_write(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    c: &Component,
    settings: &[(String, String)],
    out: &Planned,
    base: Option<&bulkhead_facts::Snapshot>,
) -> Result<EtcdWrite, String> {
    // etcd as this plan's earlier etcd fixes leave it (their edits are the file this one builds
    // on), else as the snapshot holds it.
    let mut projected = base.unwrap_or(ctx.snapshot).clone();
    let e = projected
        .kubernetes
        .as_mut()
        .and_then(|k| k.components.get_mut(ETCD))
        .expect("etcd is in the snapshot");
    e.started_at = None;
    let mut changes = Vec::new();
    if let Some(cfg) = &c.config {
        let (path, source) = (cfg.path.clone(), cfg.source.as_str());
        if let Fact::Unavailable(why) = &cfg.content {
            return Err(format!(
                "etcd takes its settings only from {path} ({source}), and that file could not be used: {why}; correct it by hand, then run harden again"
            ));
        }
        let read = files::read(&ctx.root, &path).map_err(|e| {
            format!("etcd takes its settings only from {path} ({source}), which harden cannot read now: {e}")
        })?;
        let read = chained(out, &path, read);
        let Some(mut text) = read.content.clone() else {
            return Err(format!(
                "etcd takes its settings only from {path} ({source}), which was not found under --root {}: set {} there by hand, then restart etcd",
                ctx.root.display(),
                settings
                    .iter()
                    .map(|(f, v)| format!("{}: {v}", bulkhead_facts::kube::etcd_config_key(f)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        };
        etcd_document(&text).map_err(|e| {
            format!("{path} ({source}): {e}; correct it by hand, then run harden again")
        })?;
        for (flag, value) in settings {
            let key = bulkhead_facts::kube::etcd_config_key(flag);
            text = set_etcd_key(&text, &key, &etcd_file_value(flag, value))
                .map_err(|e| format!("{path}: {e}"))?;
            changes.push(format!("{key}: {value}"));
        }
        let doc = etcd_document(&text).map_err(|e| {
            format!("{path} as this fix would edit it: {e}; harden does not write a file etcd would not start with")
        })?;
        if let Some(pc) = e.config.as_mut() {
            pc.content = Fact::Value(doc);
            pc.modified_at = None;
        }
        let mut notes = vec![format!(
            "etcd takes every setting from {path} ({source}) and ignores its flags and ETCD_* variables, so the change is made in that file"
        )];
        let restart = if find_manifest(ctx, kube, ETCD).is_ok() {
            notes.push(format!("etcd runs as a static pod: the kubelet does not restart it for a change to {path}; restart its container (crictl stop on the etcd container; the kubelet starts it again)"));
            None
        } else {
            notes.push(format!("etcd reads {path} only when it starts"));
            Some(Restart {
                service: "etcd".into(),
                reload_suffices: false,
            })
        };
        return Ok(EtcdWrite {
            kind: FixKind::EtcdConfig,
            target_kind: "etcd",
            path,
            read,
            text,
            changes,
            notes,
            restart,
            projected,
        });
    }
    if !c.env_files.is_empty() && c.flags.occurrences.is_empty() {
        let path = c.env_files.keys().next().cloned().expect("not empty");
        let read = chained(out, &path, files::read(&ctx.root, &path)?);
        let mut text = read.content.clone().unwrap_or_default();
        for (flag, value) in settings {
            let var = bulkhead_facts::kube::etcd_env_name(flag);
            text = edit_env_file(&text, &var, Some(value));
            changes.push(format!("{var}={value}"));
            if let Some(v) = e.env.get_mut(&var) {
                *v = value.clone();
            }
            e.env_files
                .entry(path.clone())
                .or_default()
                .insert(var, value.clone());
        }
        return Ok(EtcdWrite {
            kind: FixKind::ServiceConfig,
            target_kind: "etcd",
            path,
            read,
            text,
            changes,
            notes: vec!["etcd reads its environment file when its service starts".into()],
            restart: Some(Restart {
                service: "etcd".into(),
                reload_suffices: false,
            }),
            projected,
        });
    }
    let mut m = find_manifest(ctx, kube, ETCD).map_err(|e| {
        format!(
            "{e}; set {} in the way etcd is started",
            settings
                .iter()
                .map(|(f, v)| format!("--{f}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    })?;
    m.read = chained(out, &m.path, m.read.clone());
    if let Some(t) = &m.read.content {
        m.text = t.clone();
    }
    let mut args: Vec<String> = e.process.argv.iter().skip(1).cloned().collect();
    for (flag, value) in settings {
        let var = bulkhead_facts::kube::etcd_env_name(flag);
        if c.env.contains_key(&var) {
            match edit_manifest_env(&mut m, &var, value)? {
                Some(_) => {
                    changes.push(format!("{var}={value} (the container's env)"));
                    e.env.insert(var, value.clone());
                }
                None => {
                    return Err(format!(
                        "etcd takes --{flag} from {var} in its environment, which the container's env in {} does not set; adding the flag would stop etcd (it refuses a flag that repeats one of its ETCD_* variables): set {var}={value} where it is defined, then restart etcd",
                        m.path
                    ))
                }
            }
            continue;
        }
        edit_manifest_flag(&mut m, flag, false, |_| Some(value.clone()))?;
        changes.push(format!("--{flag}={value}"));
        args.push(format!("--{flag}={value}"));
    }
    e.flags = bulkhead_facts::kube::parse_component_flags(ETCD, &args);
    e.process.argv = e.process.argv.iter().take(1).cloned().chain(args).collect();
    Ok(EtcdWrite {
        kind: FixKind::StaticPod,
        target_kind: "static-pod",
        path: m.path.clone(),
        text: m.text.clone(),
        read: m.read,
        changes,
        notes: vec!["the kubelet restarts etcd when its manifest changes; a typo keeps it down, so keep a console on the node".into()],
        restart: None,
        projected,
    })
}

/// The API server of this node reaching etcd over plain HTTP on one of `ports`, switched to
/// https:// in its manifest with etcd: the edit and the change it makes. `Ok(None)` when no
/// API server here uses those URLs. Refused (with what to do) when the switch would cut it off:
/// it has no `--etcd-cafile` to verify etcd's certificate, or etcd asks for client certificates
/// and it has none to give.
fn apiserver_follows_etcd(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    out: &Planned,
    ports: &[String],
    asks_certs: Option<String>,
    pair_dir: &str,
) -> Result<Option<(FileEdit, String)>, String> {
    let Some(api) = component(kube, APISERVER) else {
        return Ok(None);
    };
    let Some(servers) = api.setting("etcd-servers") else {
        return Ok(None);
    };
    let plain: Vec<String> = servers
        .items()
        .into_iter()
        .filter(|u| {
            u.to_ascii_lowercase().starts_with("http://") && ports.contains(&url_port(u, "2379"))
        })
        .collect();
    if plain.is_empty() {
        return Ok(None);
    }
    let cut_off = format!(
        "the API server on this node reaches etcd at {} ({}): with etcd on https:// it",
        plain.join(", "),
        servers.source
    );
    if api.setting("etcd-cafile").is_none() {
        let ca = format!("{pair_dir}/ca.crt");
        let hint = match files::read(&ctx.root, &ca) {
            Ok(r) if r.content.as_deref().is_some_and(|t| pem_holds(t, false)) => {
                format!(" ({ca} is there, if that CA signed it)")
            }
            _ => String::new(),
        };
        return Err(format!(
            "{cut_off} could not verify etcd's certificate (it has no --etcd-cafile) and would lose its storage; harden does not guess which CA signed etcd's certificate: give the API server --etcd-cafile naming that CA{hint}, then run harden again"
        ));
    }
    if let Some(asking) = asks_certs {
        if api.setting("etcd-certfile").is_none() || api.setting("etcd-keyfile").is_none() {
            return Err(format!(
                "{cut_off} would be refused, since etcd then asks its clients for certificates ({asking}) and the API server has no --etcd-certfile and --etcd-keyfile; give it a client certificate signed by etcd's CA (kubeadm: `kubeadm init phase certs apiserver-etcd-client`), then run harden again"
            ));
        }
    }
    let mut m = find_manifest(ctx, kube, APISERVER).map_err(|e| {
        format!("{cut_off} must switch with it, and harden cannot change its --etcd-servers: {e}; switch both by hand")
    })?;
    m.read = chained(out, &m.path, m.read.clone());
    if let Some(t) = &m.read.content {
        m.text = t.clone();
    }
    let new = servers
        .items()
        .iter()
        .map(|u| {
            if plain.contains(u) {
                https_urls(u)
            } else {
                u.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    edit_manifest_flag(&mut m, "etcd-servers", false, |_| Some(new.clone()))?;
    let change = format!("kube-apiserver: --etcd-servers={new} (in {})", m.path);
    Ok(Some((
        file_edit(&m.path, &m.read, m.text.clone(), ROOT_PRIVATE_FILE),
        change,
    )))
}

/// Plan 2.1 or 2.4: give etcd's side the certificate and key the node already has and serve it
/// on https:// only, with its advertised URLs (and, for clients, the API server of this node)
/// following. Always reviewed: every client or peer must change with it.
/// `base`: etcd as this plan's previous TLS fix leaves it. Returns etcd as this fix leaves it
/// (None: no fix).
fn plan_etcd_tls(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    f: &Failing<'_>,
    base: Option<&bulkhead_facts::Snapshot>,
    out: &mut Planned,
) -> Option<bulkhead_facts::Snapshot> {
    let side = etcd_tls_side(f.control_id()).expect("a TLS check");
    let Some(c) = component(kube, ETCD) else {
        out.unfixed
            .push(f.unfixed(None, "etcd does not run on this node"));
        return None;
    };
    match etcd_tls_fix(ctx, kube, c, side, f, base, out) {
        Ok(projected) => Some(projected),
        Err(why) => {
            out.unfixed.push(f.unfixed(Some(&c.label()), why));
            None
        }
    }
}

fn etcd_tls_fix(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    c: &Component,
    side: EtcdSide,
    f: &Failing<'_>,
    base: Option<&bulkhead_facts::Snapshot>,
    out: &mut Planned,
) -> Result<bulkhead_facts::Snapshot, String> {
    let again = |why: String| format!("{why}; correct that first, then run harden again");
    let get = |flag: &str| {
        c.try_setting(flag)
            .map(|s| s.filter(|s| !s.value.trim().is_empty()))
    };
    let (cert_flag, key_flag) = (side.flag("cert-file"), side.flag("key-file"));
    let name = |flag: &str| c.setting_name(flag);
    let mut settings: Vec<(String, String)> = Vec::new();
    let mut may_break: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let (cert, pair_dir) = match (
        get(&cert_flag).map_err(again)?,
        get(&key_flag).map_err(again)?,
    ) {
        (None, None) => {
            let pair = find_etcd_pair(ctx, kube, c, side)?;
            settings.push((cert_flag.clone(), pair.cert_in_etcd.clone()));
            settings.push((key_flag.clone(), pair.key_in_etcd.clone()));
            notes.push(format!(
                "{} and {} were found in {}: regular files under --root holding a PEM certificate and an unencrypted PEM private key; harden made neither",
                pair.cert, pair.key, pair.found
            ));
            may_break.push(format!(
                "etcd does not start if {} and {} do not belong together, and its {} refuse a certificate that has expired or does not name the address they connect to: harden checked only that they are PEM files; check them with `openssl x509 -in {} -noout -dates -ext subjectAltName`",
                pair.cert, pair.key, side.callers(), pair.cert
            ));
            let dir = pair
                .cert
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
            (pair.cert, dir)
        }
        (Some(cs), Some(ks)) => {
            for s in [&cs, &ks] {
                if let Some(bulkhead_facts::host::FileFact::Missing) =
                    ctx.snapshot.host.file(&s.value)
                {
                    return Err(format!(
                        "{} names {}, which does not exist on the node: put the file back, or remove {} and {} so that harden can look for a pair, then run harden again",
                        s.source, s.value, name(&cert_flag), name(&key_flag)
                    ));
                }
            }
            let dir = cs
                .value
                .rsplit_once('/')
                .map(|(d, _)| d.to_string())
                .unwrap_or_default();
            (cs.value, dir)
        }
        (Some(s), None) | (None, Some(s)) => {
            let missing = if get(&cert_flag).ok().flatten().is_some() {
                name(&key_flag)
            } else {
                name(&cert_flag)
            };
            return Err(format!(
                "only {} is set ({}): etcd needs the certificate and its key together; set {missing} to the file that pairs with {}, then run harden again",
                s.source, s.value, s.value
            ));
        }
    };
    // The URLs: plain HTTP ones switch to https:// on the same host and port, and so do the
    // URLs etcd advertises for them (etcd refuses explicit listen URLs without them).
    let tls = EtcdTls::of(c, side).map_err(again)?;
    let plain = tls.plain_urls();
    let mut api_edit = None;
    if !plain.is_empty() {
        let urls_flag = side.listen_urls_flag();
        let current = tls
            .urls
            .as_ref()
            .map(|s| s.value.clone())
            .unwrap_or_else(|| side.default_urls().to_string());
        settings.push((urls_flag.to_string(), https_urls(&current)));
        let (adv_flag, adv_default) = etcd_advertise_flag(side);
        let adv = get(adv_flag)
            .map_err(again)?
            .map(|s| s.value)
            .unwrap_or_else(|| adv_default.to_string());
        let adv_new = https_urls(&adv);
        if adv_new != adv || get(adv_flag).ok().flatten().is_none() {
            settings.push((adv_flag.to_string(), adv_new.clone()));
        }
        let ports: Vec<String> = plain
            .iter()
            .map(|u| {
                url_port(
                    u,
                    if side == EtcdSide::Client {
                        "2379"
                    } else {
                        "2380"
                    },
                )
            })
            .collect();
        match side {
            EtcdSide::Client => {
                let asks = tls
                    .trusted_ca
                    .as_ref()
                    .map(|s| s.source.clone())
                    .or_else(|| {
                        c.setting("client-cert-auth")
                            .filter(|s| s.as_bool() == Some(true))
                            .map(|s| s.source)
                    });
                api_edit = apiserver_follows_etcd(ctx, kube, out, &ports, asks, &pair_dir)?;
                may_break.push(format!(
                    "every client URL of etcd changes from http:// to https:// ({} becomes {}): the API server's --etcd-servers, {} (switched here), and anything else that reaches etcd there (etcdctl, backups, monitoring) must use https://",
                    plain.join(", "),
                    https_urls(&plain.join(",")),
                    name(adv_flag)
                ));
                if component(kube, APISERVER).is_none() {
                    may_break.push("no API server runs on this node: the API servers of the cluster must switch their --etcd-servers to https:// too, or they lose their storage".into());
                }
            }
            EtcdSide::Peer => {
                if let Some(cluster) = get("initial-cluster").map_err(again)? {
                    let old: Vec<String> = adv.split(',').map(|u| u.trim().to_string()).collect();
                    let new = cluster
                        .value
                        .split(',')
                        .map(|entry| match entry.trim().split_once('=') {
                            Some((n, u)) if old.iter().any(|o| o == u.trim()) => {
                                format!("{n}={}", https_urls(u))
                            }
                            _ => entry.trim().to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(",");
                    if new != cluster.value {
                        settings.push(("initial-cluster".into(), new));
                    }
                }
                may_break.push(format!(
                    "every peer URL of this member changes from http:// to https:// ({}): the URL the cluster stores for it (`etcdctl member update MEMBER_ID --peer-urls={}`), and --initial-cluster on the other members must change too, or they cannot reach it",
                    plain.join(", "),
                    adv_new
                ));
            }
        }
    }
    may_break.push(match side {
        EtcdSide::Client => format!(
            "etcd's clients must connect with https:// and trust the CA that signed {cert}: the API server needs --etcd-servers with https:// URLs and --etcd-cafile naming that CA, and --etcd-certfile/--etcd-keyfile when etcd asks for client certificates"
        ),
        EtcdSide::Peer => format!(
            "the other members must reach this one with https:// and trust the CA that signed {cert} ({} on every member)",
            name("peer-trusted-ca-file")
        ),
    });
    let write = etcd_settings_write(ctx, kube, c, &settings, out, base)?;
    if let Some(why) = judge_projected(&write.projected, &[f], "etcd with these settings")
        .into_iter()
        .next()
        .flatten()
    {
        return Err(why);
    }
    let mut changes = write.changes;
    // A service's environment file is created readable, as packages make it.
    let attrs = if write.kind == FixKind::ServiceConfig {
        ROOT_FILE
    } else {
        ROOT_PRIVATE_FILE
    };
    let mut edits = vec![file_edit(&write.path, &write.read, write.text, attrs)];
    if let Some((edit, change)) = api_edit {
        edits.push(edit);
        changes.push(change);
        notes.push("the kubelet restarts the API server when its manifest changes, possibly before etcd serves https://: it reconnects once etcd has restarted".into());
    }
    notes.extend(write.notes);
    push_fix(
        out,
        &[f],
        FixParts {
            kind: write.kind,
            target: Target::new(write.target_kind, "etcd", Some(write.path.clone())),
            edits,
            changes,
            may_break,
            safety: Safety::Review,
            notes,
            restart: write.restart,
        },
    );
    let tag = match side {
        EtcdSide::Client => "client-tls",
        EtcdSide::Peer => "peer-tls",
    };
    name_last_fix(
        out,
        tag,
        format!("Serve etcd's {} over TLS ({})", side.callers(), write.path),
    );
    Ok(write.projected)
}

/// Give the fix just planned an ID suffix and a title of its own: fixes of the same file for
/// different checks (2.1's certificate pair, 2.3's switch) would otherwise share an ID.
fn name_last_fix(out: &mut Planned, tag: &str, title: String) {
    let fix = out.fixes.last_mut().expect("just pushed");
    fix.id = format!("{}#{tag}", fix.id);
    fix.title = title;
}

/// Plan 2.3 or 2.6 on a side that serves https:// with etcd's automatic certificate, on the
/// result of this plan's TLS fix of that side (`base`: etcd as it leaves it), which gives the side
/// certificate files: the switch is written in the same file, after that fix's edit, and claimed
/// only when etcd restarted with both has the files (the switch cannot stop it then) and the
/// check's evaluator passes. Reviewed like the fix it builds on, which it cannot be applied
/// without (apply refuses an edit not planned on the file as it finds it).
fn plan_auto_tls_after_tls(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    c: &Component,
    f: &Failing<'_>,
    side: EtcdSide,
    base: &bulkhead_facts::Snapshot,
    out: &mut Planned,
) -> Result<(), String> {
    let flag = side.flag("auto-tls");
    let tls_fix = out
        .fixes
        .iter()
        .rev()
        .find(|x| {
            x.controls
                .iter()
                .any(|ctl| etcd_tls_side(ctl) == Some(side))
        })
        .map(|x| (x.id.clone(), x.checks.join(", ")))
        .expect("the side's TLS fix is planned");
    let write = etcd_settings_write(
        ctx,
        kube,
        c,
        &[(flag.clone(), "false".into())],
        out,
        Some(base),
    )?;
    if write.read.content.as_deref() == Some(write.text.as_str()) {
        return Err(format!(
            "{} already sets {}: restart etcd, then audit again",
            write.path,
            c.setting_name(&flag)
        ));
    }
    let restarted = write
        .projected
        .kubernetes
        .as_ref()
        .and_then(|k| k.component(ETCD))
        .expect("etcd is in the projection");
    if let Some(why) = auto_tls_blocker(restarted, f.control_id()) {
        return Err(format!("with fix {} applied, {why}", tls_fix.0));
    }
    if let Some(why) = judge_projected(
        &write.projected,
        &[f],
        &format!("etcd with these settings and those of fix {}", tls_fix.0),
    )
    .into_iter()
    .next()
    .flatten()
    {
        return Err(why);
    }
    let attrs = if write.kind == FixKind::ServiceConfig {
        ROOT_FILE
    } else {
        ROOT_PRIVATE_FILE
    };
    let (cert, key) = (
        c.setting_name(&side.flag("cert-file")),
        c.setting_name(&side.flag("key-file")),
    );
    let mut notes = vec![format!(
        "planned on the result of fix {} ({}), which gives etcd's {} {cert} and {key}: beside them etcd makes no automatic certificate, so turning it off changes nothing it serves. Apply the two together: alone, this fix is refused (the file no longer holds what it was planned on)",
        tls_fix.0,
        tls_fix.1,
        side.callers()
    )];
    notes.extend(write.notes);
    push_fix(
        out,
        &[f],
        FixParts {
            kind: write.kind,
            target: Target::new(write.target_kind, "etcd", Some(write.path.clone())),
            edits: vec![file_edit(&write.path, &write.read, write.text, attrs)],
            changes: write.changes,
            may_break: vec![format!(
                "without the certificate files of fix {} etcd would not start (an https:// URL with neither {cert} nor {key} needs its automatic certificate): review and apply the two together",
                tls_fix.0
            )],
            // Reviewed as the fix it needs is: chosen without it, apply would refuse both.
            safety: Safety::Review,
            notes,
            restart: write.restart,
        },
    );
    let tag = match side {
        EtcdSide::Client => "no-auto-tls",
        EtcdSide::Peer => "no-peer-auto-tls",
    };
    name_last_fix(
        out,
        tag,
        format!(
            "Turn off etcd's automatic certificate for its {} ({})",
            side.callers(),
            write.path
        ),
    );
    Ok(())
}

/// Everything of a fix but its checks (which come from the failing outcomes it closes).
pub(super) struct FixParts {
    pub(super) kind: FixKind,
    pub(super) target: Target,
    pub(super) edits: Vec<FileEdit>,
    pub(super) changes: Vec<String>,
    pub(super) may_break: Vec<String>,
    pub(super) safety: Safety,
    pub(super) notes: Vec<String>,
    pub(super) restart: Option<Restart>,
}

/// What the checks one fix closes add up to: each change and each risk listed once however many
/// checks ask for it, and review needed as soon as one of their specs needs it.
#[derive(Default)]
struct Closing {
    changes: Vec<String>,
    may_break: Vec<String>,
    review: bool,
}

impl Closing {
    /// A change the fix makes.
    fn change(&mut self, change: String) {
        if !self.changes.contains(&change) {
            self.changes.push(change);
        }
    }

    /// A check closed by `spec`: what it may break and whether it needs review.
    fn closes(&mut self, spec: &Spec) {
        if let Some(risk) = spec.may_break {
            self.risk(risk);
        }
        self.review |= spec.safety == Safety::Review;
    }

    /// Something the fix may break beyond what its specs say, on this node.
    fn risk(&mut self, risk: &str) {
        if !self.may_break.iter().any(|m| m == risk) {
            self.may_break.push(risk.to_string());
        }
    }

    fn safety(&self) -> Safety {
        if self.review {
            Safety::Review
        } else {
            Safety::Safe
        }
    }
}

pub(super) fn push_fix(out: &mut Planned, fixed: &[&Failing], parts: FixParts) {
    let FixParts {
        kind,
        target,
        edits,
        changes,
        may_break,
        safety,
        notes,
        restart,
    } = parts;
    let (checks, controls) = ids_of(fixed.iter().copied());
    let id = format!(
        "{}:{}",
        kind.as_str(),
        target.path.clone().unwrap_or_else(|| target.name.clone())
    );
    out.fixes.push(Fix {
        id,
        title: match kind {
            FixKind::KubeletConfig => format!(
                "Harden the kubelet configuration {}",
                target.path.clone().unwrap_or_default()
            ),
            FixKind::StaticPod => format!(
                "Harden the flags of {} in its static pod manifest",
                target.name
            ),
            FixKind::ServiceConfig => format!(
                "Harden {} in {}",
                target.name,
                target.path.clone().unwrap_or_default()
            ),
            FixKind::EtcdConfig => format!(
                "Harden etcd's configuration file {}",
                target.path.clone().unwrap_or_default()
            ),
            _ => format!("Harden {}", target.name),
        },
        checks,
        controls,
        threats: Vec::new(),
        target,
        kind,
        safety,
        changes,
        may_break,
        notes,
        action: Action {
            edits,
            ..Default::default()
        },
        restart,
        findings: Vec::new(),
    });
}

fn plan_static_pod(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    c: &Component,
    items: &[(&Failing, Spec)],
    out: &mut Planned,
) {
    let mut m = match find_manifest(ctx, kube, &c.name) {
        Ok(m) => m,
        Err(e) => {
            for (f, s) in items {
                out.unfixed.push(f.unfixed(
                    Some(&c.label()),
                    format!("{e}; set --{} in the way {} is started", s.flag, c.name),
                ));
            }
            return;
        }
    };
    let mut fixed = Vec::new();
    let mut closing = Closing::default();
    let original = m.text.clone();
    for (f, s) in items {
        let blocked = match f.control_id() {
            "k8s.apiserver.anonymous_auth_disabled" => {
                anonymous_in_authentication_config(kube).or_else(|| probes_without_credentials(&m))
            }
            "k8s.controller_manager.bind_localhost" | "k8s.scheduler.bind_localhost" => {
                probes_off_loopback(&m, &c.name)
            }
            "k8s.apiserver.authorization_not_always_allow"
            | "k8s.apiserver.authorization_node"
            | "k8s.apiserver.authorization_rbac" => authorizers_in_file(c),
            _ => None,
        };
        if let Some(why) = blocked {
            out.unfixed.push(f.unfixed(Some(&c.label()), why));
            continue;
        }
        // Several controls may ask for one flag (--authorization-mode): each is fixed once the
        // manifest holds what it wants, whichever control's edit wrote it.
        let running = c.setting(s.flag).map(|st| st.value);
        if wanted_value(running.as_deref(), s.wants) == running {
            out.unfixed.push(f.unfixed(
                Some(&c.label()),
                format!(
                    "{} already runs with this --{}; audit again",
                    c.name, s.flag
                ),
            ));
            continue;
        }
        // etcd exits at start when a flag repeats an ETCD_* variable of its environment
        // ("conflicting environment variable ... is shadowed by corresponding command-line
        // flag"): a setting it takes from its environment is changed there, in the container's
        // `env`, never by adding the flag.
        if c.name == ETCD {
            let var = bulkhead_facts::kube::etcd_env_name(s.flag);
            if c.env.contains_key(&var) {
                let new = wanted_value(running.as_deref(), s.wants);
                let edited = match &new {
                    Some(v) => edit_manifest_env(&mut m, &var, v),
                    None => Ok(None),
                };
                match edited {
                    Ok(Some(changed)) => {
                        fixed.push(*f);
                        if changed {
                            closing.change(format!(
                                "{var}={} (the container's env)",
                                new.unwrap_or_default()
                            ));
                        }
                        closing.closes(s);
                    }
                    Ok(None) => {
                        let defined = c
                            .env_files
                            .iter()
                            .find(|(_, vars)| vars.contains_key(&var))
                            .map(|(path, _)| format!(" (it is defined in {path})"))
                            .unwrap_or_default();
                        out.unfixed.push(f.unfixed(
                            Some(&c.label()),
                            format!(
                                "etcd takes --{} from {var} in its environment, which the container's env in {} does not set{defined}; adding the flag would stop etcd (it refuses a flag that repeats one of its ETCD_* variables): set {var}={} where it is defined, then restart etcd",
                                s.flag,
                                m.path,
                                new.as_deref().unwrap_or("(unset)")
                            ),
                        ));
                    }
                    Err(e) => out.unfixed.push(f.unfixed(Some(&c.label()), e)),
                }
                continue;
            }
        }
        let boolean = bulkhead_facts::kube::boolean_flags(&c.name).contains(&s.flag);
        match edit_manifest_flag(&mut m, s.flag, boolean, |cur| wanted_value(cur, s.wants)) {
            Ok(changed) => {
                fixed.push(*f);
                if changed {
                    closing.change(match s.wants.first() {
                        Some(Want::Remove) => format!("removes --{}", s.flag),
                        Some(Want::Set(v)) => format!("--{}={v}", s.flag),
                        _ => format!(
                            "--{} adjusted ({})",
                            s.flag,
                            s.wants
                                .iter()
                                .map(|w| match w {
                                    Want::Include(v) => format!("+{v}"),
                                    Want::Exclude(v) => format!("-{v}"),
                                    _ => String::new(),
                                })
                                .collect::<Vec<_>>()
                                .join(" ")
                        ),
                    });
                }
                closing.closes(s);
            }
            Err(e) => out.unfixed.push(f.unfixed(Some(&c.label()), e)),
        }
    }
    if m.text == original {
        for f in fixed {
            out.unfixed.push(f.unfixed(Some(&c.label()), format!("{} already has the setting; the running {} predates it: wait for the kubelet to restart the static pod", m.path, c.name)));
        }
        return;
    }
    if fixed.is_empty() {
        return;
    }
    let edit = file_edit(&m.path, &m.read, m.text.clone(), ROOT_PRIVATE_FILE);
    push_fix(
        out,
        &fixed,
        FixParts {
            kind: FixKind::StaticPod,
            target: Target::new("static-pod", c.name.clone(), Some(m.path.clone())),
            edits: vec![edit],
            safety: closing.safety(),
            changes: closing.changes,
            may_break: closing.may_break,
            notes: vec![format!("the kubelet restarts {} when its manifest changes; a typo keeps it down, so keep a console on the node", c.name)],
            restart: None,
        },
    );
}

fn plan_etcd_env(
    ctx: &PlanContext<'_>,
    c: &Component,
    items: &[(&Failing, Spec)],
    out: &mut Planned,
) {
    let path = c
        .env_files
        .keys()
        .next()
        .cloned()
        .unwrap_or_else(|| "/etc/default/etcd".into());
    let read = match files::read(&ctx.root, &path) {
        Ok(r) => r,
        Err(e) => {
            for (f, _) in items {
                out.unfixed.push(f.unfixed(Some(&c.label()), e.clone()));
            }
            return;
        }
    };
    let mut text = read.content.clone().unwrap_or_default();
    let mut fixed = Vec::new();
    let mut closing = Closing::default();
    for (f, s) in items {
        let var = bulkhead_facts::kube::etcd_env_name(s.flag);
        let current = c.setting(s.flag).map(|st| st.value);
        let new = wanted_value(current.as_deref(), s.wants);
        let before = text.clone();
        text = edit_env_file(&text, &var, new.as_deref());
        if text == before {
            out.unfixed.push(f.unfixed(
                Some(&c.label()),
                format!("{path} already sets {var}; restart etcd"),
            ));
            continue;
        }
        closing.change(format!(
            "{var}={}",
            new.unwrap_or_else(|| "(removed)".into())
        ));
        closing.closes(s);
        fixed.push(*f);
    }
    if fixed.is_empty() {
        return;
    }
    let edit = file_edit(&path, &read, text, ROOT_FILE);
    push_fix(
        out,
        &fixed,
        FixParts {
            kind: FixKind::ServiceConfig,
            target: Target::new("etcd", "etcd", Some(path.clone())),
            edits: vec![edit],
            changes: closing.changes,
            may_break: closing.may_break,
            // A service's environment file is read by more than etcd's start: always reviewed.
            safety: Safety::Review,
            notes: vec!["etcd reads its environment file when its service starts".into()],
            restart: Some(Restart {
                service: "etcd".into(),
                reload_suffices: false,
            }),
        },
    );
}

/// etcd's configuration file as etcd reads it: the first YAML document, with YAML 1.1 scalars
/// (`yes` is a boolean); a file holding no document, or an empty one, sets nothing. A document
/// that is not a mapping of settings is refused, as etcd refuses it.
fn etcd_document(text: &str) -> Result<Value, String> {
    let docs = bulkhead_sources::yaml::parse(text).map_err(|e| e.to_string())?;
    let Some(doc) = docs.first().filter(|d| !d.root.is_null()) else {
        return Ok(json!({}));
    };
    if !doc.root.is_map() {
        let at = doc.root.span.start;
        return Err(format!(
            "line {}, column {}: the file holds no mapping of settings, and etcd does not start with it",
            at.line, at.column
        ));
    }
    Ok(doc.root.to_json(bulkhead_sources::yaml::Schema::Yaml11))
}

/// The value of the dotted `key` in etcd's document, as text (None: not set).
fn etcd_document_value(doc: &Value, key: &str) -> Option<String> {
    let mut cur = doc;
    for part in key.split('.') {
        cur = cur.get(part)?;
    }
    bulkhead_facts::kube::json_scalar(cur)
}

/// A flag's value as etcd's configuration file types it: its boolean flags are YAML booleans
/// there (etcd refuses a quoted `"true"`), everything else a string.
fn etcd_file_value(flag: &str, value: &str) -> Value {
    let boolean = bulkhead_facts::kube::boolean_flags(ETCD).contains(&flag);
    match bulkhead_facts::flags::parse_go_bool(value).filter(|_| boolean) {
        Some(b) => json!(b),
        None => json!(value),
    }
}

/// Set the dotted `key` of etcd's configuration file to `value`, creating the sections it lies
/// in. A file that holds no settings yet gets them as new lines after whatever it holds
/// (comments).
fn set_etcd_key(text: &str, key: &str, value: &Value) -> Result<String, String> {
    let parts: Vec<&str> = key.split('.').collect();
    let (last, parents) = parts.split_last().expect("a key has a name");
    let empty = bulkhead_sources::yaml::parse(text)
        .map(|docs| docs.first().is_none_or(|d| d.root.is_null()))
        .unwrap_or(false);
    if empty {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        for (depth, p) in parents.iter().enumerate() {
            out.push_str(&format!("{}{p}:\n", "  ".repeat(depth)));
        }
        out.push_str(&format!(
            "{}{last}: {}\n",
            "  ".repeat(parents.len()),
            yaml::block_scalar(value)
        ));
        return Ok(out);
    }
    let segs: Vec<Seg> = parents.iter().map(|p| Seg::Key(p)).collect();
    yaml::set(text, 0, &segs, last, value).map_err(|e| e.to_string())
}

/// etcd started with a configuration file (`--config-file` or `ETCD_CONFIG_FILE`) takes every
/// setting from it and ignores its flags and `ETCD_*` environment, so its fixes are keys of that
/// file (`client-transport-security.client-cert-auth: true`), never flags. A file the audit could
/// not use, or that cannot be read or parsed now, is not edited: what etcd runs with is unknown.
/// Before a fix claims a check, the check's evaluator judges etcd as the edited file leaves it.
fn plan_etcd_config(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    c: &Component,
    items: &[(&Failing, Spec)],
    out: &mut Planned,
) {
    let cfg = c.config.as_ref().expect("etcd has a configuration file");
    let path = cfg.path.as_str();
    let source = cfg.source.as_str();
    let refuse = |out: &mut Planned, why: &dyn Fn(&Spec) -> String| {
        for (f, s) in items {
            out.unfixed.push(f.unfixed(Some(&c.label()), why(s)));
        }
    };
    if let Fact::Unavailable(why) = &cfg.content {
        refuse(out, &|s| {
            format!(
                "etcd takes its settings only from {path} ({source}), ignoring its flags and ETCD_* variables, and that file could not be used: {why}; harden neither edits a file it cannot read as etcd does nor sets --{} (etcd would ignore it): correct the file by hand, then run harden again",
                s.flag
            )
        });
        return;
    }
    let read = match files::read(&ctx.root, path) {
        Ok(r) => r,
        Err(e) => {
            refuse(out, &|_| {
                format!("etcd takes its settings only from {path} ({source}), which harden cannot read now: {e}; no flag can stand in for it (etcd ignores its flags beside the file)")
            });
            return;
        }
    };
    let Some(original) = read.content.clone() else {
        refuse(out, &|s| {
            format!(
                "etcd takes its settings only from {path} ({source}), which was not found under --root {}: etcd may read it inside its own mount namespace; set {}: {} there by hand, then restart etcd",
                ctx.root.display(),
                bulkhead_facts::kube::etcd_config_key(s.flag),
                wanted_value(None, s.wants).unwrap_or_default()
            )
        });
        return;
    };
    let now = match etcd_document(&original) {
        Ok(v) => v,
        Err(e) => {
            refuse(out, &|_| {
                format!("{path} ({source}): {e}; harden does not edit a file etcd would not start with: correct it by hand, then run harden again")
            });
            return;
        }
    };
    // Unfixed entries keep the order of the checks, whichever step rules a check out.
    let mut not_fixed: Vec<(usize, Unfixed)> = Vec::new();
    let mut candidates: Vec<(usize, &Failing, &Spec, String, Value)> = Vec::new();
    for (i, (f, s)) in items.iter().enumerate() {
        let key = bulkhead_facts::kube::etcd_config_key(s.flag);
        let current = etcd_document_value(&now, &key);
        let Some(new) = wanted_value(current.as_deref(), s.wants) else {
            not_fixed.push((
                i,
                f.unfixed(
                    Some(&c.label()),
                    format!("remove {key} from {path} by hand, then restart etcd"),
                ),
            ));
            continue;
        };
        if current.as_deref() == Some(new.as_str()) {
            not_fixed.push((
                i,
                f.unfixed(
                    Some(&c.label()),
                    format!("{path} already sets {key}: {new}; the running etcd predates it: restart etcd, then audit again"),
                ),
            ));
            continue;
        }
        let value = etcd_file_value(s.flag, &new);
        candidates.push((i, *f, s, key, value));
    }
    // Edit, judge the result, and drop the edits of checks they would not close until every
    // remaining check is closed by the edits that remain.
    loop {
        let mut text = original.clone();
        let mut applied = Vec::new();
        for (i, f, s, key, value) in candidates {
            match set_etcd_key(&text, &key, &value) {
                Ok(t) => {
                    text = t;
                    applied.push((i, f, s, key, value));
                }
                Err(e) => not_fixed.push((i, f.unfixed(Some(&c.label()), format!("{path}: {e}")))),
            }
        }
        if applied.is_empty() {
            break;
        }
        let checks: Vec<&Failing> = applied.iter().map(|(_, f, _, _, _)| *f).collect();
        let verdicts = match etcd_document(&text) {
            Ok(doc) => {
                let mut projected = ctx.snapshot.clone();
                if let Some(e) = projected
                    .kubernetes
                    .as_mut()
                    .and_then(|k| k.components.get_mut(ETCD))
                {
                    e.started_at = None;
                    if let Some(cfg) = e.config.as_mut() {
                        cfg.content = Fact::Value(doc);
                        cfg.modified_at = None;
                    }
                }
                judge_projected(&projected, &checks, "etcd with the edited configuration file")
            }
            Err(e) => vec![
                Some(format!(
                    "{path} as this fix would edit it: {e}; harden does not write a file etcd would not start with"
                ));
                applied.len()
            ],
        };
        if verdicts.iter().all(Option::is_none) {
            push_etcd_config_fix(ctx, kube, c, &read, text, &applied, out);
            break;
        }
        candidates = keep_closing(applied, verdicts, &c.label(), &mut not_fixed, |a| {
            (a.0, a.1)
        });
    }
    finish_unfixed(not_fixed, out);
}

/// The fix writing etcd's edited configuration file, claiming the checks of `applied`.
fn push_etcd_config_fix(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    c: &Component,
    read: &files::ReadFile,
    text: String,
    applied: &[(usize, &Failing, &Spec, String, Value)],
    out: &mut Planned,
) {
    let cfg = c.config.as_ref().expect("etcd has a configuration file");
    let fixed: Vec<&Failing> = applied.iter().map(|(_, f, _, _, _)| *f).collect();
    let mut closing = Closing::default();
    for (_, _, s, key, value) in applied {
        closing.change(format!("{key}: {value}"));
        closing.closes(s);
    }
    let mut notes = vec![format!(
        "etcd takes every setting from {} ({}) and ignores its flags and ETCD_* variables, so the change is made in that file",
        cfg.path, cfg.source
    )];
    // The kubelet restarts a static pod when its manifest changes, not when a file it mounts
    // does.
    let restart = if find_manifest(ctx, kube, ETCD).is_ok() {
        notes.push(format!("etcd runs as a static pod: the kubelet does not restart it for a change to {}; restart its container (crictl stop on the etcd container; the kubelet starts it again)", cfg.path));
        None
    } else {
        notes.push(format!("etcd reads {} only when it starts", cfg.path));
        Some(Restart {
            service: "etcd".into(),
            reload_suffices: false,
        })
    };
    let edit = file_edit(&cfg.path, read, text, ROOT_PRIVATE_FILE);
    push_fix(
        out,
        &fixed,
        FixParts {
            kind: FixKind::EtcdConfig,
            target: Target::new("etcd", "etcd", Some(cfg.path.clone())),
            edits: vec![edit],
            safety: closing.safety(),
            changes: closing.changes,
            may_break: closing.may_break,
            notes,
            restart,
        },
    );
}

/// One KubeletConfiguration value written to one file.
struct KubeletEdit {
    file: String,
    field: String,
    value: Value,
}

/// The edits that give the kubelet what `s` asks for, each in the file the kubelet takes the
/// field from: the file that sets it last (a drop-in wins over the main file), else the
/// `--config` file, else the last drop-in. A field that needs a feature gate also turns the
/// gate on where a file turns it off; a gate turned off on the command line cannot be fixed in
/// a file.
fn kubelet_edits(
    kube: &KubeFacts,
    cfg: &KubeletConfig,
    s: &Spec,
) -> Result<Vec<KubeletEdit>, String> {
    let KubeletField {
        path: field,
        value,
        gate,
    } = s.kubelet.expect("kubelet specs name their field");
    let home = |dotted: &str| {
        cfg.lookup(dotted)
            .map(|(_, p)| p)
            .or_else(|| cfg.file.as_ref().map(|f| f.path.clone()))
            .or_else(|| cfg.drop_ins.last().map(|f| f.path.clone()))
            .expect("a file or a drop-in exists")
    };
    let mut edits = Vec::new();
    if let Some(gate) = gate {
        let g = kube
            .kubelet_feature_gate(gate, true)
            .expect("the kubelet runs")?;
        if g.as_bool() == Some(false) {
            // A flag outranks the configuration file, wherever it was written: on the kubelet's
            // own command line, or in a file a wrapper turns into flags (k3s's `kubelet-arg:`).
            let flag_origin = g
                .source
                .strip_prefix(&format!("--feature-gates {gate} ("))
                .and_then(|rest| rest.strip_suffix(')'));
            match flag_origin {
                Some(bulkhead_facts::flags::COMMAND_LINE) => return Err(format!("{field} needs the {gate} feature gate, which --feature-gates turns off on the kubelet's command line ({gate}={}); the kubelet does not start with {field} and the gate off: remove the gate from the kubelet's service arguments (kubeadm: /var/lib/kubelet/kubeadm-flags.env), then run harden again", g.value)),
                Some(file) => return Err(format!("{field} needs the {gate} feature gate, which a --feature-gates flag written in {file} turns off ({gate}={}); that flag outranks the kubelet's configuration file, and the kubelet does not start with {field} and the gate off: remove the gate there, then run harden again", g.value)),
                None => {}
            }
            let dotted = format!("featureGates.{gate}");
            edits.push(KubeletEdit {
                file: home(&dotted),
                field: dotted,
                value: json!(true),
            });
        }
    }
    edits.push(KubeletEdit {
        file: home(field),
        field: field.to_string(),
        value: value(),
    });
    Ok(edits)
}

/// A kubelet configuration file as read, and its text with the planned edits.
struct KubeletText {
    read: files::ReadFile,
    text: String,
}

/// Apply `edits` to the texts (each file read on first use), all of them or none. `Ok(false)`:
/// the files already hold every value.
fn apply_kubelet_edits(
    ctx: &PlanContext<'_>,
    texts: &mut BTreeMap<String, KubeletText>,
    edits: &[KubeletEdit],
) -> Result<bool, String> {
    let mut staged: BTreeMap<String, String> = BTreeMap::new();
    for e in edits {
        if !texts.contains_key(&e.file) {
            let read = files::read(&ctx.root, &e.file)?;
            // The edits go to a file the audit read: missing here, there is nothing to edit
            // (an empty text would only fail as "no document").
            let Some(text) = read.content.clone() else {
                return Err(format!(
                    "{} does not exist on this host, though the audit read it (the snapshot comes from another host, or the file was removed since): plan on the node where this kubelet runs",
                    e.file
                ));
            };
            texts.insert(e.file.clone(), KubeletText { read, text });
        }
        let current = staged
            .get(&e.file)
            .cloned()
            .unwrap_or_else(|| texts[&e.file].text.clone());
        let parts: Vec<&str> = e.field.split('.').collect();
        let new = if current.trim_start().starts_with('{') {
            json::set(&current, &parts, &e.value).map_err(|err| format!("{}: {err}", e.file))?
        } else {
            let (last, parents) = parts.split_last().expect("a field has a name");
            let segs: Vec<Seg> = parents.iter().map(|p| Seg::Key(p)).collect();
            yaml::set(&current, 0, &segs, last, &e.value)
                .map_err(|err| format!("{}: {err}", e.file))?
        };
        staged.insert(e.file.clone(), new);
    }
    let mut changed = false;
    for (file, text) in staged {
        let t = texts.get_mut(&file).expect("read above");
        if t.text != text {
            t.text = text;
            changed = true;
        }
    }
    Ok(changed)
}

/// Judge `failing` on the kubelet configuration as the edited texts leave it, once the kubelet
/// has restarted (as the fix asks): None for a check that then passes, else why it would not.
/// `loaded` is the configuration as the kubelet would load it with the edits; the files the
/// edits do not touch keep the snapshot's reading.
fn judge_kubelet(
    ctx: &PlanContext<'_>,
    texts: &BTreeMap<String, KubeletText>,
    loaded: &[(&ConfigFile, Load)],
    failing: &[&Failing<'_>],
) -> Vec<Option<String>> {
    let mut projected = ctx.snapshot.clone();
    if let Some(k) = projected.kubernetes.as_mut() {
        if let Some(c) = k.components.get_mut(KUBELET) {
            c.started_at = None;
        }
        if let Some(cfg) = k.kubelet.as_mut() {
            for f in cfg.file.iter_mut().chain(cfg.drop_ins.iter_mut()) {
                if !texts.contains_key(&f.path) {
                    continue;
                }
                let load = loaded
                    .iter()
                    .find(|(l, _)| l.path == f.path)
                    .map(|(_, l)| l);
                f.content = match load {
                    Some(Load::Doc(v)) => Fact::Value(v.clone()),
                    Some(Load::Refused { why, .. }) => {
                        Fact::Unavailable(format!("{}: {why}", f.path))
                    }
                    // An edited file always has its text: never unread.
                    Some(Load::Unread) | None => continue,
                };
                f.modified_at = None;
            }
        }
    }
    judge_projected(&projected, failing, "the edited kubelet configuration")
}

/// One round of the planners that edit, judge and retry (the kubelet's files, etcd's
/// configuration file): the edits whose check the projected configuration closes (`verdicts`
/// None) stay for the next round; each other one is left unfixed with the reason, under its
/// check's position (`at` gives the position and the check of an edit).
fn keep_closing<'a, T>(
    applied: Vec<T>,
    verdicts: Vec<Option<String>>,
    label: &str,
    not_fixed: &mut Vec<(usize, Unfixed)>,
    at: impl Fn(&T) -> (usize, &Failing<'a>),
) -> Vec<T> {
    let mut kept = Vec::new();
    for (item, verdict) in applied.into_iter().zip(verdicts) {
        match verdict {
            None => kept.push(item),
            Some(why) => {
                let (i, f) = at(&item);
                not_fixed.push((i, f.unfixed(Some(label), why)));
            }
        }
    }
    kept
}

/// The unfixed checks of a planner, in the order of the checks whichever step ruled them out.
fn finish_unfixed(mut not_fixed: Vec<(usize, Unfixed)>, out: &mut Planned) {
    not_fixed.sort_by_key(|(i, _)| *i);
    out.unfixed.extend(not_fixed.into_iter().map(|(_, u)| u));
}

/// Run each failing check's own evaluator on `projected` (the node as the planned edits leave
/// it): None for a check that then passes, else why not, starting with `what`.
pub(super) fn judge_projected(
    projected: &bulkhead_facts::Snapshot,
    failing: &[&Failing<'_>],
    what: &str,
) -> Vec<Option<String>> {
    let options = AuditOptions::default();
    let audit = Context::new(projected, &options);
    failing
        .iter()
        .map(|f| {
            let Some(evaluate) = bulkhead_checks::registry::evaluator(f.control_id()) else {
                return Some("no evaluator can judge the edited configuration".into());
            };
            let r = evaluate(&audit);
            (r.status != Status::Pass).then(|| {
                format!(
                    "{what} would still leave it {}: {}",
                    r.status.as_str(),
                    r.message.unwrap_or_default()
                )
            })
        })
        .collect()
}

/// One of the kubelet's files as the kubelet would load it.
enum Load {
    /// It decodes: the document it adds to the merge.
    Doc(Value),
    /// The kubelet refuses it and does not start: where and why (`line L, column C: ...`), and
    /// what to correct by hand.
    Refused { why: String, correction: String },
    /// Not readable under the root (gone since the snapshot, or visible only inside the
    /// kubelet's mount namespace): only the snapshot's reading of it is known.
    Unread,
}

/// The kubelet's files in the order it merges them (`--config`, then the drop-ins), each as the
/// kubelet would load it with `texts` in place of the files they name and the others as they are
/// under the root now: the restart a fix asks for loads them all again.
fn load_kubelet<'a>(
    ctx: &PlanContext<'_>,
    cfg: &'a KubeletConfig,
    texts: &BTreeMap<String, String>,
) -> Vec<(&'a ConfigFile, Load)> {
    let files: Vec<(&ConfigFile, Role)> = cfg
        .file
        .iter()
        .map(|f| (f, Role::Config))
        .chain(cfg.drop_ins.iter().map(|f| (f, Role::DropIn)))
        .collect();
    let decoded: Vec<Option<Result<Decoded, Refused>>> = files
        .iter()
        .map(|(f, role)| {
            let text = match texts.get(&f.path) {
                Some(t) => Some(t.clone()),
                None => files::read(&ctx.root, &f.path).ok().and_then(|r| r.content),
            };
            text.map(|t| kubelet_decode::decode(&t, *role))
        })
        .collect();
    // What each file adds to the merge, as far as it is known: a drop-in's mistyped value
    // reaches the kubelet's decoder only when no later drop-in replaces it.
    let docs: Vec<Option<&Value>> = files
        .iter()
        .zip(&decoded)
        .map(|((f, _), d)| match d {
            Some(Ok(d)) => Some(&d.value),
            Some(Err(_)) => None,
            None => f.content.value(),
        })
        .collect();
    files
        .iter()
        .zip(&decoded)
        .enumerate()
        .map(|(i, ((f, role), d))| {
            let load = match d {
                None => Load::Unread,
                Some(Err(r)) => Load::Refused {
                    why: r.to_string(),
                    correction: r.correction.clone(),
                },
                Some(Ok(d)) => {
                    // The --config file is decoded alone: all of its mistyped values count.
                    let standing: Vec<&Mistyped> = d
                        .mistyped
                        .iter()
                        .filter(|m| {
                            *role == Role::Config
                                || !docs[i + 1..]
                                    .iter()
                                    .flatten()
                                    .any(|later| kubelet_decode::replaces(later, &m.path))
                        })
                        .collect();
                    match kubelet_decode::refusal(&standing) {
                        None => Load::Doc(d.value.clone()),
                        Some(why) => Load::Refused {
                            why,
                            correction: standing
                                .iter()
                                .map(|m| m.correction.as_str())
                                .collect::<Vec<_>>()
                                .join("; "),
                        },
                    }
                }
            };
            (*f, load)
        })
        .collect()
}

/// Why a fix editing `targets` cannot be planned while the kubelet refuses one of its files:
/// a refused target is named first (harden edits only files the kubelet accepts); another
/// refused file would keep the restarted kubelet down. `edited` says whether `loaded` holds the
/// planned edits: then only the targets count, since another file refused then is one some
/// other check's edit broke, and dropping that check's edits mends it.
fn refused_reason(
    loaded: &[(&ConfigFile, Load)],
    targets: &BTreeSet<&str>,
    edited: bool,
) -> Option<String> {
    let refused = |want_target: bool| {
        loaded.iter().find_map(|(f, l)| match l {
            Load::Refused { why, correction }
                if targets.contains(f.path.as_str()) == want_target =>
            {
                Some((f, why, correction))
            }
            _ => None,
        })
    };
    if let Some((f, why, correction)) = refused(true) {
        return Some(if edited {
            format!("{} as this fix would edit it: {why}; harden does not write a file the kubelet refuses: make the change by hand ({correction}), then run harden again", f.path)
        } else {
            format!("{}: {why}; harden does not edit a file the kubelet refuses: correct it by hand ({correction}), then run harden again", f.path)
        });
    }
    if edited {
        return None;
    }
    refused(false).map(|(f, why, correction)| {
        format!("{} ({}): {why}; the kubelet reads that file too when this fix restarts it, and would not start: correct it by hand ({correction}), then run harden again", f.path, f.source)
    })
}

/// The files a check's edits write.
fn targets(edits: &[KubeletEdit]) -> BTreeSet<&str> {
    edits.iter().map(|e| e.file.as_str()).collect()
}

fn plan_kubelet(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    c: &Component,
    items: &[(&Failing, Spec)],
    out: &mut Planned,
) {
    let Some(cfg) = kube
        .kubelet
        .as_ref()
        .filter(|k| k.file.is_some() || !k.drop_ins.is_empty())
    else {
        for (f, s) in items {
            out.unfixed.push(f.unfixed(Some(&c.label()), format!("the kubelet runs from command-line flags alone (no --config file): set --{} in its service definition", s.flag)));
        }
        return;
    };
    // Unfixed entries keep the order of the checks, whichever step rules a check out.
    let mut not_fixed: Vec<(usize, Unfixed)> = Vec::new();
    // The files as they are now: the snapshot may predate them, or have read them otherwise.
    let originals = load_kubelet(ctx, cfg, &BTreeMap::new());
    let mut candidates: Vec<(usize, &Failing, &Spec, Vec<KubeletEdit>)> = Vec::new();
    for (i, (f, s)) in items.iter().enumerate() {
        // PITFALLS (CIS Kubernetes 1): a command-line flag overrides the config file; writing the
        // file would change nothing.
        if let Some(v) = c.flags.last(s.flag) {
            // Quote the flag as the service files spell it, and what the kubelet makes of it.
            let written = match bulkhead_checks::kube::bool_flag_written_apart(c, s.flag) {
                Some(word) => format!(
                    "`--{} {word}` (read as --{}={v}: a boolean flag does not take the next word)",
                    s.flag, s.flag
                ),
                None => format!("--{}={v}", s.flag),
            };
            not_fixed.push((i, f.unfixed(
                Some(&c.label()),
                format!("{written} on the kubelet's command line overrides its config file; remove it from the kubelet's service arguments (kubeadm: /var/lib/kubelet/kubeadm-flags.env), then run harden again"),
            )));
            continue;
        }
        match kubelet_edits(kube, cfg, s) {
            Ok(edits) => match refused_reason(&originals, &targets(&edits), false) {
                Some(why) => not_fixed.push((i, f.unfixed(Some(&c.label()), why))),
                None => candidates.push((i, f, s, edits)),
            },
            Err(e) => not_fixed.push((i, f.unfixed(Some(&c.label()), e))),
        }
    }
    // Edit, judge the result, and drop the edits of checks they would not close until every
    // remaining check is closed by the edits that remain.
    loop {
        let mut texts: BTreeMap<String, KubeletText> = BTreeMap::new();
        let mut applied = Vec::new();
        for (i, f, s, edits) in candidates {
            match apply_kubelet_edits(ctx, &mut texts, &edits) {
                Ok(true) => applied.push((i, f, s, edits)),
                Ok(false) => {
                    let last = edits.last().expect("at least the field");
                    not_fixed.push((
                        i,
                        f.unfixed(
                            Some(&c.label()),
                            format!(
                                "{} already sets {}; restart the kubelet",
                                last.file, last.field
                            ),
                        ),
                    ));
                }
                Err(e) => not_fixed.push((i, f.unfixed(Some(&c.label()), e))),
            }
        }
        let edited: BTreeMap<String, String> = texts
            .iter()
            .map(|(path, t)| (path.clone(), t.text.clone()))
            .collect();
        let loaded = load_kubelet(ctx, cfg, &edited);
        let checks: Vec<&Failing> = applied.iter().map(|(_, f, _, _)| *f).collect();
        let refusals: Vec<Option<String>> = applied
            .iter()
            .map(|(_, _, _, edits)| refused_reason(&loaded, &targets(edits), true))
            .collect();
        // Edits that leave a file the kubelet refuses go first, without judging the others on a
        // configuration that holds them: the next round judges what remains.
        let verdicts = if refusals.iter().any(Option::is_some) {
            refusals
        } else {
            judge_kubelet(ctx, &texts, &loaded, &checks)
        };
        if verdicts.iter().all(Option::is_none) {
            let applied: Vec<_> = applied
                .into_iter()
                .map(|(_, f, s, edits)| (f, s, edits))
                .collect();
            push_kubelet_fixes(kube, &texts, &applied, out);
            break;
        }
        candidates = keep_closing(applied, verdicts, &c.label(), &mut not_fixed, |a| {
            (a.0, a.1)
        });
    }
    finish_unfixed(not_fixed, out);
}

/// What refusing anonymous requests does to a kubelet that authenticates callers no other way:
/// no client CA for certificates, no token review by the API server (None: it has one, or its
/// settings cannot be known).
fn kubelet_without_authenticators(kube: &KubeFacts) -> Option<String> {
    let ca = kube.kubelet_setting(&KubeletKey::CLIENT_CA_FILE)?.ok()?;
    let webhook = kube.kubelet_setting(&KubeletKey::WEBHOOK_AUTHN)?.ok()?;
    (ca.value.trim().is_empty() && webhook.as_bool() != Some(true)).then(|| {
        format!(
            "the kubelet has no other way to authenticate a caller ({}; {} = {}): every request to its API is refused, the API server's logs, exec and port-forward included",
            ca.source, webhook.source, webhook.value
        )
    })
}

/// One fix per set of files that checks edit together (a check whose edits span two files
/// joins them), claiming the checks whose edits it holds.
fn push_kubelet_fixes(
    kube: &KubeFacts,
    texts: &BTreeMap<String, KubeletText>,
    applied: &[(&Failing, &Spec, Vec<KubeletEdit>)],
    out: &mut Planned,
) {
    let mut groups: Vec<(BTreeSet<String>, Vec<usize>)> = Vec::new();
    for (i, (_, _, edits)) in applied.iter().enumerate() {
        let files: BTreeSet<String> = edits.iter().map(|e| e.file.clone()).collect();
        let mut merged = (files, vec![i]);
        let mut rest = Vec::new();
        for g in groups {
            if g.0.is_disjoint(&merged.0) {
                rest.push(g);
            } else {
                merged.0.extend(g.0);
                merged.1.extend(g.1);
            }
        }
        rest.push(merged);
        groups = rest;
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    for (files, mut members) in groups {
        members.sort_unstable();
        let fixed: Vec<&Failing> = members.iter().map(|&i| applied[i].0).collect();
        let mut closing = Closing::default();
        for &i in &members {
            let (_, s, edits) = &applied[i];
            for e in edits {
                closing.change(format!("{}: {}", e.field, e.value));
            }
            closing.closes(s);
            let refuses_anonymous = s
                .kubelet
                .is_some_and(|k| k.path == KubeletKey::ANONYMOUS_AUTH.config);
            if let Some(risk) = kubelet_without_authenticators(kube).filter(|_| refuses_anonymous) {
                closing.risk(&risk);
            }
        }
        let edits: Vec<FileEdit> = files
            .iter()
            .filter_map(|path| {
                let t = texts.get(path)?;
                (t.read.content.as_deref() != Some(t.text.as_str()))
                    .then(|| file_edit(path, &t.read, t.text.clone(), ROOT_PRIVATE_FILE))
            })
            .collect();
        let notes = if files.len() > 1 {
            vec![format!(
                "the kubelet takes these settings from several files, edited together: {}",
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            )]
        } else {
            Vec::new()
        };
        let first = files.iter().next().cloned().unwrap_or_default();
        push_fix(
            out,
            &fixed,
            FixParts {
                kind: FixKind::KubeletConfig,
                target: Target::new("kubelet", "kubelet", Some(first)),
                edits,
                safety: closing.safety(),
                changes: closing.changes,
                may_break: closing.may_break,
                notes,
                restart: Some(Restart {
                    service: "kubelet".into(),
                    reload_suffices: false,
                }),
            },
        );
    }
}

/// Standard base64 (RFC 4648) of `bytes`.
fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                s.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// A fresh 32-byte key from the kernel's random source.
pub(super) fn random_key() -> Result<String, String> {
    use std::io::Read;
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| format!("reading /dev/urandom: {e}"))?;
    Ok(base64(&b))
}

/// The EncryptionConfiguration bulkhead writes: secrets encrypted with AES-CBC under a new key,
/// identity last so existing unencrypted secrets stay readable until rewritten.
pub fn encryption_config(key: &str) -> String {
    format!(
        "# Written by bulkhead harden (CIS Kubernetes 1.2.27, 1.2.28): Secrets are encrypted at rest\n\
         # with AES-CBC. Keep this file private (mode 0600) and back up the key: without it the\n\
         # encrypted Secrets cannot be read.\n\
         apiVersion: apiserver.config.k8s.io/v1\n\
         kind: EncryptionConfiguration\n\
         resources:\n\
         \x20 - resources:\n\
         \x20     - secrets\n\
         \x20   providers:\n\
         \x20     - aescbc:\n\
         \x20         keys:\n\
         \x20           - name: key1\n\
         \x20             secret: {key}\n\
         \x20     - identity: {{}}\n"
    )
}

fn plan_encryption(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    failing: &[&Failing<'_>],
    out: &mut Planned,
) {
    match &kube.encryption {
        // The API server already reads a configuration: it is edited where it is.
        Some(Fact::Value(existing)) => {
            return super::kube_encryption::plan_existing(ctx, kube, existing, failing, out);
        }
        // Nothing is derived from a configuration the audit could not read (its checks are
        // errors then; this guards a plan made from other verdicts).
        Some(Fact::Unavailable(why)) => {
            for f in failing {
                out.unfixed.push(f.unfixed(
                    None,
                    format!("the API server's encryption configuration could not be read: {why}"),
                ));
            }
            return;
        }
        None => {}
    }
    let Some(api) = component(kube, APISERVER) else {
        for f in failing {
            out.unfixed
                .push(f.unfixed(None, "kube-apiserver does not run on this node"));
        }
        return;
    };
    let mut m = match find_manifest(ctx, kube, APISERVER) {
        Ok(m) => m,
        Err(e) => {
            for f in failing {
                out.unfixed.push(f.unfixed(Some(&api.label()), e.clone()));
            }
            return;
        }
    };
    // The API server's flag fixes edit the same manifest: one fix carries both, so the file is
    // written once from the text the plan read.
    let absorbed = out
        .fixes
        .iter()
        .position(|f| f.kind == FixKind::StaticPod && f.target.name == APISERVER)
        .map(|i| out.fixes.remove(i));
    if let Some(prev) = &absorbed {
        m.text = prev.action.edits[0].after.clone();
    }
    let enc_path = ctx.options().encryption_config_path.clone();
    let enc_dir = enc_path
        .rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_else(|| "/".into());
    let key = match random_key() {
        Ok(k) => k,
        Err(e) => {
            for f in failing {
                out.unfixed.push(f.unfixed(None, e.clone()));
            }
            return;
        }
    };
    let enc_read = match files::read(&ctx.root, &enc_path) {
        Ok(r) if r.content.is_none() => r,
        Ok(_) => {
            for f in failing {
                out.unfixed.push(f.unfixed(Some(&enc_path), format!("{enc_path} exists but the API server does not use it; wire it with --encryption-provider-config by hand after checking it")));
            }
            return;
        }
        Err(e) => {
            for f in failing {
                out.unfixed.push(f.unfixed(Some(&enc_path), e.clone()));
            }
            return;
        }
    };
    let steps: Result<(), String> = (|| {
        edit_manifest_flag(&mut m, "encryption-provider-config", false, |_| {
            Some(enc_path.clone())
        })?;
        let c = [
            Seg::Key("spec"),
            Seg::Key("containers"),
            Seg::Index(m.container),
            Seg::Key("volumeMounts"),
        ];
        m.text = yaml::append(
            &m.text,
            0,
            &c,
            &json!({"mountPath": enc_dir, "name": "bulkhead-encryption-config", "readOnly": true}),
        )
        .map_err(|e| format!("{}: {e}", m.path))?;
        let v = [Seg::Key("spec"), Seg::Key("volumes")];
        m.text = yaml::append(&m.text, 0, &v, &json!({"hostPath": {"path": enc_dir, "type": "DirectoryOrCreate"}, "name": "bulkhead-encryption-config"}))
            .map_err(|e| format!("{}: {e}", m.path))?;
        Ok(())
    })();
    if let Err(e) = steps {
        for f in failing {
            out.unfixed.push(f.unfixed(Some(&api.label()), e.clone()));
        }
        return;
    }
    let edits = vec![
        FileEdit {
            // The key differs on every plan: a reviewed plan's hash of it cannot match.
            generated_secret: true,
            ..file_edit(
                &enc_path,
                &enc_read,
                encryption_config(&key),
                ROOT_PRIVATE_FILE,
            )
        },
        file_edit(&m.path, &m.read, m.text.clone(), ROOT_PRIVATE_FILE),
    ];
    let mut changes = vec![
        format!("a new EncryptionConfiguration at {enc_path} (mode 0600): Secrets encrypted with AES-CBC under a freshly generated key"),
        format!("kube-apiserver reads it (--encryption-provider-config) from a read-only hostPath mount of {enc_dir}"),
    ];
    let mut may_break = vec!["losing the key makes every encrypted Secret unreadable: back it up where the cluster's backups are".to_string()];
    let mut notes = vec![
        "Secrets written before the change stay unencrypted until rewritten: `kubectl get secrets -A -o json | kubectl replace -f -`".to_string(),
        "the key is shown masked; it is written only to the file".to_string(),
    ];
    push_fix(
        out,
        failing,
        FixParts {
            kind: FixKind::EncryptionConfig,
            target: Target::new("static-pod", APISERVER, Some(enc_path.clone())),
            edits,
            changes: Vec::new(),
            may_break: Vec::new(),
            safety: Safety::Review,
            notes: Vec::new(),
            restart: None,
        },
    );
    if let Some(prev) = absorbed {
        let fix = out.fixes.last_mut().expect("just pushed");
        // Checks and controls stay aligned and in check order (see `ids_of`).
        let mut pairs: Vec<(String, String)> = fix
            .checks
            .iter()
            .cloned()
            .zip(fix.controls.iter().cloned())
            .chain(
                prev.checks
                    .iter()
                    .cloned()
                    .zip(prev.controls.iter().cloned()),
            )
            .collect();
        pairs.sort_by(|a, b| bulkhead_checks::catalog::compare_check_ids(&a.0, &b.0));
        pairs.dedup();
        fix.checks = pairs.iter().map(|(c, _)| c.clone()).collect();
        fix.controls = Vec::new();
        for (_, k) in pairs {
            if !fix.controls.contains(&k) {
                fix.controls.push(k);
            }
        }
        changes.extend(prev.changes);
        may_break.extend(prev.may_break);
        notes.extend(prev.notes);
        fix.title = "Encrypt Secrets at rest and harden the API server's flags".into();
    }
    let fix = out.fixes.last_mut().expect("just pushed");
    fix.changes = changes;
    fix.may_break = may_break;
    fix.notes = notes;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fix_lists_each_risk_and_change_once_and_needs_review_if_one_check_does() {
        let spec = |id| spec(id).expect("a known control");
        let mut closing = Closing::default();
        // Two checks with the same risk, apart from each other (`dedup` would keep both).
        closing.closes(&spec("k8s.apiserver.authorization_rbac"));
        closing.closes(&spec("k8s.apiserver.no_token_auth_file"));
        closing.closes(&spec("k8s.apiserver.authorization_not_always_allow"));
        closing.change("--authorization-mode=Node,RBAC".into());
        closing.change("removes --token-auth-file".into());
        closing.change("--authorization-mode=Node,RBAC".into());
        assert_eq!(
            closing.may_break,
            [
                "requests RBAC does not allow are refused",
                "clients that authenticate with the static tokens are refused"
            ]
        );
        assert_eq!(
            closing.changes,
            [
                "--authorization-mode=Node,RBAC",
                "removes --token-auth-file"
            ]
        );
        assert_eq!(closing.safety(), Safety::Review);
        assert_eq!(Closing::default().safety(), Safety::Safe);
    }

    #[test]
    fn list_flags_keep_their_items() {
        let w = [
            Want::Exclude("AlwaysAllow"),
            Want::Include("Node"),
            Want::Include("RBAC"),
        ];
        assert_eq!(list_value("AlwaysAllow", &w), "Node,RBAC");
        assert_eq!(list_value("Node,Webhook", &w), "Node,Webhook,RBAC");
        assert_eq!(
            wanted_value(
                Some("NamespaceLifecycle"),
                &[Want::Exclude("NamespaceLifecycle")]
            ),
            None
        );
    }

    #[test]
    fn env_file_lines_are_replaced_or_appended() {
        let t = "# etcd\nETCD_NAME=n1\nETCD_CLIENT_CERT_AUTH=false\n";
        assert_eq!(
            edit_env_file(t, "ETCD_CLIENT_CERT_AUTH", Some("true")),
            "# etcd\nETCD_NAME=n1\nETCD_CLIENT_CERT_AUTH=\"true\"\n"
        );
        assert_eq!(
            edit_env_file("ETCD_NAME=n1", "ETCD_AUTO_TLS", Some("false")),
            "ETCD_NAME=n1\nETCD_AUTO_TLS=\"false\"\n"
        );
    }

    /// etcd's file gets its booleans unquoted, sections created where missing (also in a file
    /// that holds no settings yet) and edited in the style they are written in.
    #[test]
    fn etcd_config_keys_are_set_in_place() {
        assert_eq!(etcd_file_value("client-cert-auth", "true"), json!(true));
        assert_eq!(etcd_file_value("name", "true"), json!("true"));
        let key = "client-transport-security.client-cert-auth";
        assert_eq!(
            set_etcd_key("name: n1\n", key, &json!(true)).unwrap(),
            "name: n1\nclient-transport-security:\n  client-cert-auth: true\n"
        );
        assert_eq!(
            set_etcd_key("---\n# nothing yet", key, &json!(true)).unwrap(),
            "---\n# nothing yet\nclient-transport-security:\n  client-cert-auth: true\n"
        );
        let flow = set_etcd_key(
            "client-transport-security: {cert-file: /x}\n",
            key,
            &json!(true),
        )
        .unwrap();
        assert_eq!(
            etcd_document(&flow).unwrap()["client-transport-security"],
            json!({"cert-file": "/x", "client-cert-auth": true})
        );
        assert!(etcd_document("- a\n")
            .unwrap_err()
            .contains("no mapping of settings"));
        assert_eq!(etcd_document("").unwrap(), json!({}));
    }

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }
}
