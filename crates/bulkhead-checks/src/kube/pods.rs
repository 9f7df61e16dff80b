//! Pod security (5.2) and pod-level general policies (5.6.2, 5.6.3), from the cluster dump.
//!
//! Values are judged per container as Kubernetes applies them: a container's securityContext
//! overrides the pod's (runAsUser, runAsNonRoot, seccompProfile), fields that exist only on the
//! container (privileged, allowPrivilegeEscalation, capabilities) are read there, and init and
//! ephemeral containers count like any other. Pods in the dump are judged as they run, and with
//! them the template of every workload no Pod of the dump stands for ([`pod_views`]). A finding in
//! `kube-system` is a warning (system add-ons often need host access), elsewhere a failure.

use super::rbac::{dump, needs};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{ClusterDump, KubeObject, KUBELET};
use serde_json::Value;

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("k8s.pss.no_privileged", no_privileged),
    ("k8s.pss.no_host_pid", no_host_pid),
    ("k8s.pss.no_host_ipc", no_host_ipc),
    ("k8s.pss.no_host_network", no_host_network),
    ("k8s.pss.no_privilege_escalation", no_privilege_escalation),
    ("k8s.pss.no_root", no_root),
    ("k8s.pss.no_net_raw", no_net_raw),
    ("k8s.pss.no_added_capabilities", no_added_capabilities),
    ("k8s.pss.no_windows_hostprocess", no_windows_hostprocess),
    ("k8s.pss.no_hostpath", no_hostpath),
    ("k8s.pss.no_host_ports", no_host_ports),
    ("k8s.general.seccomp_profile", seccomp_profile),
    ("k8s.general.security_context", security_context),
];

/// Workload kinds whose pod templates the checks judge, and that a controller reference may name.
pub const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// A pod spec: a Pod's, or a workload's template.
pub struct PodView<'a> {
    pub kind: &'a str,
    pub namespace: String,
    pub name: &'a str,
    pub spec: &'a Value,
    pub annotations: Option<&'a Value>,
}

impl PodView<'_> {
    pub fn label(&self) -> String {
        if self.kind == "Pod" {
            format!("{}/{}", self.namespace, self.name)
        } else {
            format!("{}/{} {}", self.namespace, self.kind, self.name)
        }
    }

    pub fn kind_label(&self) -> String {
        self.kind.to_lowercase()
    }

    fn pod_sc(&self, key: &str) -> Option<&Value> {
        self.spec.get("securityContext")?.get(key)
    }

    fn flag(&self, key: &str) -> bool {
        self.spec.get(key).and_then(Value::as_bool) == Some(true)
    }

    /// Severity of a finding in this pod's namespace.
    fn finding(&self) -> Status {
        if self.namespace == "kube-system" {
            Status::Warn
        } else {
            Status::Fail
        }
    }
}

fn template_spec(o: &KubeObject) -> Option<(&Value, Option<&Value>)> {
    let tpl = if o.kind == "CronJob" {
        o.body.pointer("/spec/jobTemplate/spec/template")?
    } else {
        o.body.pointer("/spec/template")?
    };
    Some((tpl.get("spec")?, tpl.pointer("/metadata/annotations")))
}

/// The workload that controls `o`, as `(kind, name)` in `o`'s namespace: its ownerReference
/// marked `controller: true`, or one that does not say (a hand-written dump), when it names a
/// workload kind.
pub fn controller_of(o: &KubeObject) -> Option<(&str, &str)> {
    o.body
        .pointer("/metadata/ownerReferences")?
        .as_array()?
        .iter()
        .filter(|r| r.get("controller").and_then(Value::as_bool) != Some(false))
        .find_map(|r| {
            let kind = r.get("kind")?.as_str()?;
            let name = r.get("name")?.as_str()?;
            WORKLOADS.contains(&kind).then_some((kind, name))
        })
}

/// The owner of a ReplicaSet or Job the dump lacks, from the name its controller gave it: a
/// Deployment names its ReplicaSets `NAME-HASH`, HASH being the Pod's `pod-template-hash`
/// label; a CronJob names its Jobs `NAME-MINUTES`.
fn generated_by<'a>(pod: &'a KubeObject, kind: &str, name: &'a str) -> Option<(&'a str, &'a str)> {
    match kind {
        "ReplicaSet" => {
            let hash = pod
                .body
                .pointer("/metadata/labels/pod-template-hash")?
                .as_str()?;
            Some(("Deployment", name.strip_suffix(hash)?.strip_suffix('-')?))
        }
        "Job" => {
            let (owner, minutes) = name.rsplit_once('-')?;
            (!minutes.is_empty() && minutes.bytes().all(|b| b.is_ascii_digit()))
                .then_some(("CronJob", owner))
        }
        _ => None,
    }
}

/// Every pod spec to judge. Pods are judged as they run. A workload's template is judged when
/// nothing else in the dump stands for it: no Pod of the dump descends from it (a Pod of a
/// Deployment shows the Deployment's template as admitted), and it is not controlled by a
/// workload of the dump (a Deployment's ReplicaSets and a CronJob's Jobs carry their owner's
/// template, judged once through the owner). So a Deployment scaled to zero or a CronJob between
/// runs is judged even when the dump holds unrelated Pods, and no template twice.
pub fn pod_views(d: &ClusterDump) -> Vec<PodView<'_>> {
    fn view<'a>(o: &'a KubeObject, spec: &'a Value, ann: Option<&'a Value>) -> PodView<'a> {
        PodView {
            kind: if o.kind == "Pod" {
                "Pod"
            } else {
                WORKLOADS
                    .iter()
                    .find(|w| **w == o.kind)
                    .copied()
                    .unwrap_or("Pod")
            },
            namespace: o.namespace.clone().unwrap_or_else(|| "default".into()),
            name: o.name.as_str(),
            spec,
            annotations: ann,
        }
    }
    let find = |kind: &str, namespace: Option<&str>, name: &str| {
        d.objects
            .iter()
            .find(|o| o.kind == kind && o.name == name && o.namespace.as_deref() == namespace)
    };
    // Workloads a Pod of the dump descends from, as (kind, namespace, name).
    let mut stood_for: std::collections::BTreeSet<(&str, Option<&str>, &str)> = Default::default();
    for pod in d.of_kind("Pod") {
        let namespace = pod.namespace.as_deref();
        let mut owner = controller_of(pod);
        // Owner chains are two links long (Pod, ReplicaSet, Deployment); the bound only guards
        // against a dump whose references loop.
        for _ in 0..8 {
            let Some((kind, name)) = owner else { break };
            if !stood_for.insert((kind, namespace, name)) {
                break;
            }
            owner = match find(kind, namespace, name) {
                Some(o) => controller_of(o),
                None => generated_by(pod, kind, name),
            };
        }
    }
    let mut views: Vec<PodView<'_>> = d
        .of_kind("Pod")
        .filter_map(|o| {
            Some(view(
                o,
                o.body.get("spec")?,
                o.body.pointer("/metadata/annotations"),
            ))
        })
        .collect();
    views.extend(
        d.objects
            .iter()
            .filter(|o| WORKLOADS.contains(&o.kind.as_str()))
            .filter(|o| {
                !stood_for.contains(&(o.kind.as_str(), o.namespace.as_deref(), o.name.as_str()))
            })
            .filter(|o| {
                controller_of(o)
                    .is_none_or(|(kind, name)| find(kind, o.namespace.as_deref(), name).is_none())
            })
            .filter_map(|o| {
                let (spec, ann) = template_spec(o)?;
                Some(view(o, spec, ann))
            }),
    );
    views
}

/// One container of a pod view.
pub struct ContainerView<'a, 'p> {
    pub pod: &'p PodView<'a>,
    /// `container`, `initContainer` or `ephemeralContainer`.
    pub role: &'static str,
    pub name: &'a str,
    pub spec: &'a Value,
}

impl ContainerView<'_, '_> {
    pub fn label(&self) -> String {
        format!("{} {} {}", self.pod.label(), self.role, self.name)
    }

    fn sc(&self, key: &str) -> Option<&Value> {
        self.spec.get("securityContext")?.get(key)
    }

    /// The container's value, else the pod's (for fields both levels have).
    fn inherited(&self, key: &str) -> Option<(&Value, &'static str)> {
        self.sc(key)
            .map(|v| (v, "container"))
            .or_else(|| self.pod.pod_sc(key).map(|v| (v, "pod")))
    }

    fn caps(&self, list: &str) -> Vec<String> {
        self.spec
            .pointer(&format!("/securityContext/capabilities/{list}"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|c| c.trim_start_matches("CAP_").to_uppercase())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn privileged(&self) -> bool {
        self.sc("privileged").and_then(Value::as_bool) == Some(true)
    }
}

pub fn containers<'a, 'p>(p: &'p PodView<'a>) -> Vec<ContainerView<'a, 'p>> {
    let mut out = Vec::new();
    for (key, role) in [
        ("initContainers", "initContainer"),
        ("containers", "container"),
        ("ephemeralContainers", "ephemeralContainer"),
    ] {
        for c in p
            .spec
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push(ContainerView {
                pod: p,
                role,
                name: c.get("name").and_then(Value::as_str).unwrap_or("?"),
                spec: c,
            });
        }
    }
    out
}

fn pods_required(d: &ClusterDump) -> Option<CheckResult> {
    let mut kinds = vec!["Pod"];
    kinds.extend_from_slice(WORKLOADS);
    needs(d, &kinds)
}

/// Judge every container; `judge` returns None when the container is fine, or the finding.
fn per_container(
    ctx: &Context<'_>,
    expected: &str,
    judge: impl Fn(&ContainerView<'_, '_>) -> Result<(String, String), (String, String)>,
) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = pods_required(d) {
        return r;
    }
    let views = pod_views(d);
    let mut objects = Vec::new();
    for p in &views {
        for c in containers(p) {
            let (status, (field, actual)) = match judge(&c) {
                Ok(ev) => (Status::Pass, ev),
                Err(ev) => (p.finding(), ev),
            };
            objects.push(
                ObjectResult::new("container", c.label(), status).evidence(field, actual, expected),
            );
        }
    }
    CheckResult::from_objects(objects, "the dump holds no containers")
}

/// Judge every pod spec.
fn per_pod(
    ctx: &Context<'_>,
    expected: &str,
    judge: impl Fn(&PodView<'_>) -> Result<(String, String), (String, String)>,
) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = pods_required(d) {
        return r;
    }
    let objects = pod_views(d)
        .iter()
        .map(|p| {
            let (status, (field, actual)) = match judge(p) {
                Ok(ev) => (Status::Pass, ev),
                Err(ev) => (p.finding(), ev),
            };
            ObjectResult::new(p.kind_label(), p.label(), status).evidence(field, actual, expected)
        })
        .collect();
    CheckResult::from_objects(objects, "the dump holds no pods")
}

fn ev(field: &str, actual: impl Into<String>) -> (String, String) {
    (field.to_string(), actual.into())
}

/// 5.2.2
fn no_privileged(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, "not privileged", |c| {
        if c.privileged() {
            Err(ev("securityContext.privileged", "true"))
        } else {
            Ok(ev(
                "securityContext.privileged",
                c.sc("privileged")
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(not set)".into()),
            ))
        }
    })
}

fn host_ns(ctx: &Context<'_>, key: &'static str) -> CheckResult {
    per_pod(ctx, "false or not set", move |p| {
        if p.flag(key) {
            Err(ev(&format!("spec.{key}"), "true"))
        } else {
            Ok(ev(
                &format!("spec.{key}"),
                p.spec
                    .get(key)
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "(not set)".into()),
            ))
        }
    })
}
/// 5.2.3
fn no_host_pid(ctx: &Context<'_>) -> CheckResult {
    host_ns(ctx, "hostPID")
}
/// 5.2.4
fn no_host_ipc(ctx: &Context<'_>) -> CheckResult {
    host_ns(ctx, "hostIPC")
}
/// 5.2.5
fn no_host_network(ctx: &Context<'_>) -> CheckResult {
    host_ns(ctx, "hostNetwork")
}
/// 5.2.6: unset means escalation is allowed (no_new_privs is not set); privileged implies it.
fn no_privilege_escalation(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, "allowPrivilegeEscalation: false", |c| {
        let v = c.sc("allowPrivilegeEscalation").and_then(Value::as_bool);
        match v {
            Some(false) if !c.privileged() => {
                Ok(ev("securityContext.allowPrivilegeEscalation", "false"))
            }
            Some(false) => Err(ev(
                "securityContext.privileged",
                "true (implies escalation)",
            )),
            Some(true) => Err(ev("securityContext.allowPrivilegeEscalation", "true")),
            None => Err(ev(
                "securityContext.allowPrivilegeEscalation",
                "(not set: allowed)",
            )),
        }
    })
}
/// 5.2.7: effective runAsUser / runAsNonRoot (container over pod). Without either, the image
/// decides, which the dump cannot show: a warning, not a pass.
fn no_root(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = pods_required(d) {
        return r;
    }
    let views = pod_views(d);
    let mut objects = Vec::new();
    for p in &views {
        for c in containers(p) {
            let user = c
                .inherited("runAsUser")
                .and_then(|(v, l)| Some((v.as_i64()?, l)));
            let non_root = c
                .inherited("runAsNonRoot")
                .and_then(|(v, l)| Some((v.as_bool()?, l)));
            let (status, field, actual) = match (user, non_root) {
                (Some((0, lvl)), _) => (p.finding(), format!("runAsUser ({lvl})"), "0".to_string()),
                (Some((u, lvl)), _) => (Status::Pass, format!("runAsUser ({lvl})"), u.to_string()),
                (None, Some((true, lvl))) => {
                    (Status::Pass, format!("runAsNonRoot ({lvl})"), "true".into())
                }
                (None, Some((false, lvl))) => (
                    Status::Warn,
                    format!("runAsNonRoot ({lvl})"),
                    "false: the image's user decides".into(),
                ),
                (None, None) => (
                    Status::Warn,
                    "runAsUser / runAsNonRoot".into(),
                    "(not set: the image's user decides)".into(),
                ),
            };
            objects.push(ObjectResult::new("container", c.label(), status).evidence(
                field,
                actual,
                "runAsNonRoot: true or a non-zero runAsUser",
            ));
        }
    }
    CheckResult::from_objects(objects, "the dump holds no containers")
}
/// 5.2.8: container runtimes grant NET_RAW by default; only dropping it (or ALL) removes it.
fn no_net_raw(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, "drop NET_RAW (or ALL)", |c| {
        let drop = c.caps("drop");
        let add = c.caps("add");
        if c.privileged() {
            Err(ev("securityContext.privileged", "true (every capability)"))
        } else if add.iter().any(|a| a == "NET_RAW" || a == "ALL") {
            Err(ev("capabilities.add", add.join(",")))
        } else if drop.iter().any(|d| d == "NET_RAW" || d == "ALL") {
            Ok(ev("capabilities.drop", drop.join(",")))
        } else {
            Err(ev(
                "capabilities.drop",
                if drop.is_empty() {
                    "(none: the runtime default keeps NET_RAW)".into()
                } else {
                    drop.join(",")
                },
            ))
        }
    })
}
/// 5.2.9
fn no_added_capabilities(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, "no added capabilities", |c| {
        let add = c.caps("add");
        if add.is_empty() {
            Ok(ev("capabilities.add", "(none)"))
        } else {
            Err(ev("capabilities.add", add.join(",")))
        }
    })
}
/// 5.2.10: the pod's windowsOptions apply unless the container overrides them.
fn no_windows_hostprocess(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, "hostProcess false or not set", |c| {
        let v = c
            .sc("windowsOptions")
            .and_then(|w| w.get("hostProcess"))
            .or_else(|| {
                c.pod
                    .pod_sc("windowsOptions")
                    .and_then(|w| w.get("hostProcess"))
            })
            .and_then(Value::as_bool);
        if v == Some(true) {
            Err(ev("windowsOptions.hostProcess", "true"))
        } else {
            Ok(ev(
                "windowsOptions.hostProcess",
                v.map(|b| b.to_string())
                    .unwrap_or_else(|| "(not set)".into()),
            ))
        }
    })
}
/// 5.2.11
fn no_hostpath(ctx: &Context<'_>) -> CheckResult {
    per_pod(ctx, "no hostPath volumes", |p| {
        let paths: Vec<String> = p
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
        if paths.is_empty() {
            Ok(ev("volumes hostPath", "(none)"))
        } else {
            Err(ev("volumes hostPath", paths.join(", ")))
        }
    })
}
/// 5.2.12
fn no_host_ports(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, "no hostPort", |c| {
        let ports: Vec<String> = c
            .spec
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("hostPort").and_then(Value::as_i64))
            .filter(|p| *p != 0)
            .map(|p| p.to_string())
            .collect();
        if ports.is_empty() {
            Ok(ev("ports hostPort", "(none)"))
        } else {
            Err(ev("ports hostPort", ports.join(", ")))
        }
    })
}

/// The effective seccomp profile of a container: its own field, the pod's, then the legacy
/// annotations; None when nothing sets one.
pub fn effective_seccomp(c: &ContainerView<'_, '_>) -> Option<(String, String)> {
    if let Some((v, lvl)) = c.inherited("seccompProfile") {
        let t = v
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        return Some((t, format!("seccompProfile.type ({lvl})")));
    }
    let ann = c.pod.annotations?;
    let legacy = |key: &str| ann.get(key).and_then(Value::as_str).map(String::from);
    let container_key = format!("container.seccomp.security.alpha.kubernetes.io/{}", c.name);
    let (v, key) = legacy(&container_key)
        .map(|v| (v, container_key.clone()))
        .or_else(|| {
            legacy("seccomp.security.alpha.kubernetes.io/pod")
                .map(|v| (v, "seccomp.security.alpha.kubernetes.io/pod".into()))
        })?;
    let t = match v.as_str() {
        "runtime/default" | "docker/default" => "RuntimeDefault".to_string(),
        "unconfined" => "Unconfined".to_string(),
        x if x.starts_with("localhost/") => "Localhost".to_string(),
        x => x.to_string(),
    };
    Some((t, format!("annotation {key}")))
}

/// 5.6.2: RuntimeDefault or Localhost per container. Unset runs unconfined unless the kubelet
/// runs with seccompDefault, which the note says when this node's kubelet was read.
fn seccomp_profile(ctx: &Context<'_>) -> CheckResult {
    let node_default = ctx
        .snapshot
        .kubernetes
        .as_ref()
        .filter(|k| k.component(KUBELET).is_some())
        .and_then(|k| k.kubelet_setting(&bulkhead_facts::kube::KubeletKey::SECCOMP_DEFAULT))
        .and_then(Result::ok)
        .and_then(|s| s.as_bool());
    let mut r = per_container(
        ctx,
        "RuntimeDefault or Localhost",
        |c| match effective_seccomp(c) {
            Some((t, field)) if t == "RuntimeDefault" || t == "Localhost" => Ok((field, t)),
            Some((t, field)) => Err((field, t)),
            None => Err(ev(
                "seccompProfile",
                "(not set: Unconfined unless the kubelet's seccompDefault is on)",
            )),
        },
    );
    if node_default == Some(true) {
        r.message = Some(format!(
            "{} (this node's kubelet runs with seccompDefault: unset profiles get RuntimeDefault here, not necessarily on other nodes)",
            r.message.unwrap_or_default()
        ));
    }
    r
}
/// 5.6.3: a pod or container with no securityContext at all runs entirely on defaults.
fn security_context(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, "a securityContext on the pod or container", |c| {
        let set = |v: Option<&Value>| v.and_then(Value::as_object).is_some_and(|m| !m.is_empty());
        match (
            set(c.spec.get("securityContext")),
            set(c.pod.spec.get("securityContext")),
        ) {
            (true, _) => Ok(ev("securityContext", "set on the container")),
            (false, true) => Ok(ev("securityContext", "set on the pod")),
            (false, false) => Err(ev("securityContext", "(not set on pod or container)")),
        }
    })
}
