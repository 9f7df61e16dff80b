//! securityContext fixes for the workloads of a cluster dump (CIS Kubernetes 5.2.x, 5.6.2,
//! 5.6.3): a strategic merge patch of each workload's pod spec, built from what its containers
//! really hold, and judged by the checks' own evaluators before the fix claims anything.
//!
//! Kubernetes applies a container's securityContext over the pod's, so a pod-level value does
//! not fix a container that overrides it: a container's own `seccompProfile: Unconfined`,
//! `runAsUser: 0` or `runAsNonRoot: false` is changed where it is written. Capability lists have
//! no merge strategy (a patch replaces them whole), so `add` is set to what may stay, not left
//! to a `drop: [ALL]` that the runtime applies before the adds. Init containers are patched
//! under `initContainers`: a name under `containers` that the pod lacks would add a container.
//! The API server refuses `allowPrivilegeEscalation: false` on a privileged container and the
//! kubelet refuses to start `runAsNonRoot: true` with uid 0, so such a patch also clears
//! `privileged` and sets the non-root uid of `--user` where uid 0 is written. Legacy seccomp
//! annotations that contradict the profile set are removed (older kubelets let a container's
//! annotation override the pod's field, and the API server refuses a field and annotation that
//! disagree).
//!
//! How the change reaches the cluster depends on the object. A Deployment, StatefulSet,
//! DaemonSet, ReplicaSet or CronJob template changes in place: `kubectl patch` (printed, never
//! run). A Pod's spec and a Job's template cannot change after creation: the fix merges the same
//! patch into the object's manifest locally (`kubectl patch --local`), then the object is deleted
//! and created again. A Pod that a controller manages is fixed in its owner's template.
//!
//! Before a fix claims a check, its patch is merged into the object the way the API server
//! merges it (the object as recreated, for a Pod or Job) and the check's evaluator judges the
//! result: a check the patch would not close for the workload is listed as unfixed with the
//! evidence, never claimed.

use super::ids_of;
use crate::model::{Action, CommandStep, Fix, FixKind, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};
use bulkhead_checks::{AuditOptions, Context, Status};
use bulkhead_facts::kube::{ClusterDump, KubeFacts, KubeObject};
use bulkhead_facts::{Fact, Snapshot};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// What a pod-security control asks of a pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    NotPrivileged,
    HostNamespace(&'static str),
    NoEscalation,
    NonRoot,
    NoNetRaw,
    NoAddedCapabilities,
    Seccomp,
    /// Some securityContext on the pod or container (5.6.3): the pod gets the usual restrictive
    /// one (non-root, RuntimeDefault seccomp), containers without one no privilege escalation.
    SecurityContext,
}

fn change(control: &str) -> Option<Change> {
    Some(match control {
        "k8s.pss.no_privileged" => Change::NotPrivileged,
        "k8s.pss.no_host_pid" => Change::HostNamespace("hostPID"),
        "k8s.pss.no_host_ipc" => Change::HostNamespace("hostIPC"),
        "k8s.pss.no_host_network" => Change::HostNamespace("hostNetwork"),
        "k8s.pss.no_privilege_escalation" => Change::NoEscalation,
        "k8s.pss.no_root" => Change::NonRoot,
        "k8s.pss.no_net_raw" => Change::NoNetRaw,
        "k8s.pss.no_added_capabilities" => Change::NoAddedCapabilities,
        "k8s.general.seccomp_profile" => Change::Seccomp,
        "k8s.general.security_context" => Change::SecurityContext,
        _ => return None,
    })
}

/// Does this fixer handle the control?
pub(super) fn handles(control: &str) -> bool {
    change(control).is_some()
}

/// Where a kind keeps its pod spec (JSON object keys from the object's root), and the kubectl
/// resource name.
fn pod_spec_path(kind: &str) -> Option<(&'static [&'static str], &'static str)> {
    Some(match kind {
        "Deployment" => (&["spec", "template", "spec"], "deployment"),
        "StatefulSet" => (&["spec", "template", "spec"], "statefulset"),
        "DaemonSet" => (&["spec", "template", "spec"], "daemonset"),
        "ReplicaSet" => (&["spec", "template", "spec"], "replicaset"),
        "Job" => (&["spec", "template", "spec"], "job"),
        "CronJob" => (
            &["spec", "jobTemplate", "spec", "template", "spec"],
            "cronjob",
        ),
        "Pod" => (&["spec"], "pod"),
        _ => return None,
    })
}

/// How a workload's patched pod spec reaches the cluster.
enum Rollout {
    /// `kubectl patch` of the template; the controller rolls the change out (or not: the note
    /// says).
    InPlace {
        resource: &'static str,
        note: String,
    },
    /// The object cannot change after creation (a Pod's spec, a Job's template): its manifest is
    /// patched locally and the object recreated.
    Recreate { resource: &'static str },
    /// A Pod a controller manages: its owner's template must change.
    Owner { kind: String, name: String },
}

fn rollout(o: &KubeObject, resource: &'static str) -> Rollout {
    match o.kind.as_str() {
        // The owner as the checks find it, so plan and verdict name the same controller.
        "Pod" => match bulkhead_checks::kube::pods::controller_of(o) {
            Some((kind, name)) => Rollout::Owner {
                kind: kind.to_string(),
                name: name.to_string(),
            },
            None => Rollout::Recreate { resource },
        },
        "Job" => Rollout::Recreate { resource },
        kind => Rollout::InPlace {
            resource,
            note: match kind {
                "Deployment" => "the Deployment replaces its Pods with ones from the patched template (a rolling update)".into(),
                "ReplicaSet" => "a ReplicaSet does not replace running Pods when its template changes: delete them and it creates them from the patched template (patch the Deployment instead when one owns it)".into(),
                "CronJob" => "Jobs the CronJob starts from now on use the patched template; a Job already running keeps the old one".into(),
                _ => format!("the {kind} replaces its Pods with ones from the patched template (with updateStrategy OnDelete, only as its Pods are deleted)"),
            },
        },
    }
}

/// The uid written where a container would run as uid 0 next to `runAsNonRoot: true`: the uid
/// of `--user`, or 1000 when that is no non-zero number; and how the plan explains it.
fn non_root_uid(user: &str) -> (i64, String) {
    let uid = user.split(':').next().unwrap_or("").trim();
    match uid.parse::<i64>() {
        Ok(n) if n > 0 => (n, "the uid of --user".into()),
        _ => (1000, format!("--user {user} names no non-zero uid")),
    }
}

fn is_good_seccomp(profile: Option<&Value>) -> bool {
    matches!(
        profile.and_then(|p| p.get("type")).and_then(Value::as_str),
        Some("RuntimeDefault" | "Localhost")
    )
}

/// `{"type": "RuntimeDefault"}`, clearing a `localhostProfile` the old value carries (only
/// `Localhost` may have one).
fn runtime_default(old: Option<&Value>) -> Value {
    let mut p = json!({"type": "RuntimeDefault"});
    if old.and_then(|o| o.get("localhostProfile")).is_some() {
        p["localhostProfile"] = Value::Null;
    }
    p
}

/// A capability as the checks compare it: upper case, without `CAP_`.
fn capability(c: &str) -> String {
    let up = c.to_ascii_uppercase();
    up.strip_prefix("CAP_").unwrap_or(&up).to_string()
}

fn object_at<'v>(v: &'v Value, key: &str) -> Option<&'v Map<String, Value>> {
    v.get(key).and_then(Value::as_object)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Set `value` at `path` of `root`, creating the objects on the way.
fn set_path(root: &mut Value, path: &[&str], value: Value) {
    let mut at = root;
    for k in path {
        if !at.is_object() {
            *at = json!({});
        }
        at = at
            .as_object_mut()
            .expect("just made an object")
            .entry(k.to_string())
            .or_insert(Value::Null);
    }
    *at = value;
}

/// A workload's patch and what the plan says about it.
#[derive(Debug, Default)]
struct PodPatch {
    /// The strategic merge patch, rooted at the object.
    patch: Value,
    changes: Vec<String>,
    may_break: Vec<String>,
}

/// The patch of `o`'s pod spec (at `path`) that makes the `changes`.
fn build_patch(o: &KubeObject, path: &[&str], changes: &[Change], user: &str) -> PodPatch {
    let has = |c: Change| changes.contains(&c);
    let null = Value::Null;
    let spec = path.iter().fold(&o.body, |v, k| v.get(*k).unwrap_or(&null));
    let empty = Map::new();
    let old_pod_sc = object_at(spec, "securityContext").unwrap_or(&empty);
    let (uid, uid_source) = non_root_uid(user);

    let mut out = PodPatch::default();
    let mut pod = Map::new();
    let mut pod_sc = Map::new();
    let mut said: Vec<String> = Vec::new();
    for c in changes {
        if let Change::HostNamespace(key) = c {
            if spec.get(*key).and_then(Value::as_bool) == Some(true) {
                pod.insert((*key).into(), json!(false));
                said.push(format!("{key}: false"));
            }
        }
    }
    let wants_non_root = has(Change::NonRoot) || has(Change::SecurityContext);
    if wants_non_root && old_pod_sc.get("runAsNonRoot").and_then(Value::as_bool) != Some(true) {
        pod_sc.insert("runAsNonRoot".into(), json!(true));
        said.push("runAsNonRoot: true".into());
    }
    let pod_non_root = pod_sc
        .get("runAsNonRoot")
        .or(old_pod_sc.get("runAsNonRoot"))
        .and_then(Value::as_bool)
        == Some(true);
    let mut uid_changed: Vec<String> = Vec::new();
    if pod_non_root && old_pod_sc.get("runAsUser").and_then(Value::as_i64) == Some(0) {
        pod_sc.insert("runAsUser".into(), json!(uid));
        said.push(format!(
            "runAsUser: {uid} instead of 0 (runAsNonRoot: true refuses uid 0; {uid_source})"
        ));
        uid_changed.push("the pod".into());
    }
    let pod_seccomp_set = (has(Change::Seccomp) || has(Change::SecurityContext))
        && !is_good_seccomp(old_pod_sc.get("seccompProfile"));
    if pod_seccomp_set {
        pod_sc.insert(
            "seccompProfile".into(),
            runtime_default(old_pod_sc.get("seccompProfile")),
        );
        said.push("seccompProfile: RuntimeDefault".into());
    }
    if !said.is_empty() {
        out.changes.push(format!("pod: {}", said.join(", ")));
    }
    // Containers whose own seccomp profile the patch replaces.
    let mut container_seccomp: Vec<String> = Vec::new();
    for (list, role) in [
        ("initContainers", "initContainer"),
        ("containers", "container"),
    ] {
        let mut entries = Vec::new();
        for c in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = c.get("name").and_then(Value::as_str) else {
                continue;
            };
            let old = object_at(c, "securityContext").unwrap_or(&empty);
            let privileged = old.get("privileged").and_then(Value::as_bool) == Some(true);
            let mut sc = Map::new();
            let mut caps = Map::new();
            let mut said: Vec<String> = Vec::new();
            // Privileged mode implies escalation and every capability: clearing it is part of
            // fixing either, and the API server refuses allowPrivilegeEscalation: false with it.
            let mut clear_privileged = privileged && has(Change::NotPrivileged);
            let escalation_off =
                has(Change::NoEscalation) || (has(Change::SecurityContext) && old.is_empty());
            if escalation_off
                && old.get("allowPrivilegeEscalation").and_then(Value::as_bool) != Some(false)
            {
                sc.insert("allowPrivilegeEscalation".into(), json!(false));
                said.push("allowPrivilegeEscalation: false".into());
                clear_privileged |= privileged;
            }
            let old_caps = old.get("capabilities");
            let add = strings(old_caps.and_then(|c| c.get("add")));
            let drop = strings(old_caps.and_then(|c| c.get("drop")));
            let mut keep = add.clone();
            if has(Change::NoAddedCapabilities) {
                keep.clear();
            }
            if has(Change::NoNetRaw) {
                keep.retain(|a| !matches!(capability(a).as_str(), "NET_RAW" | "ALL"));
                // Read as the checks read it (`cap_net_raw` is no NET_RAW to them): in doubt,
                // the patch drops ALL.
                if !drop.iter().any(|d| {
                    matches!(
                        d.trim_start_matches("CAP_").to_uppercase().as_str(),
                        "NET_RAW" | "ALL"
                    )
                }) {
                    caps.insert("drop".into(), json!(["ALL"]));
                    said.push("capabilities.drop: [ALL]".into());
                }
                clear_privileged |= privileged;
            }
            if keep != add {
                caps.insert("add".into(), json!(keep));
                said.push(format!(
                    "capabilities.add: [{}] (was [{}])",
                    keep.join(", "),
                    add.join(", ")
                ));
            }
            if clear_privileged {
                sc.insert("privileged".into(), json!(false));
                said.push("privileged: false".into());
            }
            if !caps.is_empty() {
                sc.insert("capabilities".into(), Value::Object(caps));
            }
            if has(Change::Seccomp) {
                if let Some(p) = old
                    .get("seccompProfile")
                    .filter(|p| !is_good_seccomp(Some(p)))
                {
                    let t = p.get("type").and_then(Value::as_str).unwrap_or("(no type)");
                    sc.insert("seccompProfile".into(), runtime_default(Some(p)));
                    said.push(format!(
                        "seccompProfile: RuntimeDefault (its own {t} overrides the pod's)"
                    ));
                    container_seccomp.push(name.to_string());
                }
            }
            if has(Change::NonRoot)
                && old.get("runAsNonRoot").and_then(Value::as_bool) == Some(false)
            {
                sc.insert("runAsNonRoot".into(), json!(true));
                said.push("runAsNonRoot: true (its own false overrides the pod's)".into());
            }
            let non_root = sc
                .get("runAsNonRoot")
                .or(old.get("runAsNonRoot"))
                .and_then(Value::as_bool)
                .unwrap_or(pod_non_root);
            let own_user = old.get("runAsUser").and_then(Value::as_i64);
            if non_root && own_user == Some(0) {
                sc.insert("runAsUser".into(), json!(uid));
                said.push(format!(
                    "runAsUser: {uid} instead of 0 (runAsNonRoot: true refuses uid 0; {uid_source})"
                ));
                uid_changed.push(format!("{role} {name}"));
            }
            if !sc.is_empty() {
                out.changes
                    .push(format!("{role} {name}: {}", said.join(", ")));
                entries.push(json!({"name": name, "securityContext": Value::Object(sc)}));
            }
        }
        if !entries.is_empty() {
            pod.insert(list.into(), Value::Array(entries));
        }
    }
    if !pod_sc.is_empty() {
        pod.insert("securityContext".into(), Value::Object(pod_sc));
    }

    // Legacy seccomp annotations that contradict the profile now set.
    let meta_path: Vec<&str> = path[..path.len() - 1]
        .iter()
        .copied()
        .chain(["metadata"])
        .collect();
    let mut removed = Map::new();
    if has(Change::Seccomp) || pod_seccomp_set {
        let annotations = meta_path
            .iter()
            .chain(["annotations"].iter())
            .fold(&o.body, |v, k| v.get(*k).unwrap_or(&null));
        for (key, value) in annotations.as_object().into_iter().flatten() {
            let v = value.as_str().unwrap_or("");
            let set_here = if key == "seccomp.security.alpha.kubernetes.io/pod" {
                pod_seccomp_set
            } else if let Some(c) =
                key.strip_prefix("container.seccomp.security.alpha.kubernetes.io/")
            {
                if !has(Change::Seccomp) {
                    continue;
                }
                container_seccomp.iter().any(|n| n == c)
            } else {
                continue;
            };
            let agrees = matches!(v, "runtime/default" | "docker/default")
                || (v.starts_with("localhost/") && !set_here);
            if !agrees {
                removed.insert(key.clone(), Value::Null);
                out.changes.push(format!(
                    "annotation {key} removed (it asks for {v}; the seccompProfile fields replace it)"
                ));
            }
        }
    }

    let mut patch = json!({});
    if !pod.is_empty() {
        set_path(&mut patch, path, Value::Object(pod));
    }
    if !removed.is_empty() {
        let mut at = meta_path.clone();
        at.push("annotations");
        set_path(&mut patch, &at, Value::Object(removed));
    }
    out.patch = patch;
    if !uid_changed.is_empty() {
        out.may_break.push(format!(
            "{} ran as uid 0 by its own setting and now run{} as uid {uid}: what {} writes and any port below 1024 must work for that uid",
            uid_changed.join(", "),
            if uid_changed.len() == 1 { "s" } else { "" },
            if uid_changed.len() == 1 { "it" } else { "they" },
        ));
    }
    out
}

/// What the API server does with a strategic merge patch of these fields: objects merged key by
/// key, `null` deletes a key, the container lists merged by `name` (a name the object lacks is
/// added as a new container), every other list replaced whole (capability lists have no merge
/// strategy).
pub(crate) fn strategic_merge(target: &mut Value, patch: &Value) {
    let (Some(t), Some(p)) = (target.as_object_mut(), patch.as_object()) else {
        *target = strip_nulls(patch);
        return;
    };
    for (k, v) in p {
        if v.is_null() {
            t.remove(k);
            continue;
        }
        let slot = t.entry(k.clone()).or_insert(Value::Null);
        if matches!(
            k.as_str(),
            "containers" | "initContainers" | "ephemeralContainers"
        ) && slot.is_array()
        {
            let list = slot.as_array_mut().expect("checked");
            for item in v.as_array().into_iter().flatten() {
                match list.iter_mut().find(|c| c.get("name") == item.get("name")) {
                    Some(c) => strategic_merge(c, item),
                    None => list.push(strip_nulls(item)),
                }
            }
        } else if v.is_object() && slot.is_object() {
            strategic_merge(slot, v);
        } else {
            *slot = strip_nulls(v);
        }
    }
}

/// A patch value put where nothing was: its `null`s delete nothing and are dropped.
fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), strip_nulls(x)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Judge the checks of `failing` on `o` as its patch leaves it: the ones it closes for `label`,
/// and the others with the evidence why not.
fn judge<'f>(
    projected: &mut Snapshot,
    o: &KubeObject,
    label: &str,
    patch: &Value,
    recreated: bool,
    failing: &[&'f Failing<'f>],
) -> (Vec<&'f Failing<'f>>, Vec<(&'f Failing<'f>, String)>) {
    let mut body = o.body.clone();
    strategic_merge(&mut body, patch);
    if recreated {
        // A Pod created from its manifest has no status and no ephemeral containers (those are
        // only ever added to a running Pod).
        if let Some(m) = body.as_object_mut() {
            m.remove("status");
        }
        if let Some(spec) = body.get_mut("spec").and_then(Value::as_object_mut) {
            spec.remove("ephemeralContainers");
        }
    }
    let dump = ClusterDump {
        source: "(the object as its patch leaves it)".into(),
        objects: vec![KubeObject { body, ..o.clone() }],
        ignored_kinds: Default::default(),
    };
    let mut closed = Vec::new();
    let mut open = Vec::new();
    let Some(kube) = projected.kubernetes.as_mut() else {
        return (closed, open);
    };
    kube.cluster = Some(Fact::Value(dump));
    let options = AuditOptions::default();
    let ctx = Context::new(projected, &options);
    for f in failing {
        let Some(evaluate) = bulkhead_checks::registry::evaluator(f.control_id()) else {
            open.push((*f, "no evaluator can judge the patched object".to_string()));
            continue;
        };
        let result = evaluate(&ctx);
        let prefix = format!("{label} ");
        let mine: Vec<_> = result
            .objects
            .iter()
            .filter(|x| x.name == label || x.name.starts_with(&prefix))
            .collect();
        let left: Vec<String> = mine
            .iter()
            .filter(|x| x.status != Status::Pass)
            .map(|x| match &x.evidence {
                Some(e) => format!("{}: {} = {}", x.name, e.field, e.actual),
                None => x.name.clone(),
            })
            .collect();
        if mine.is_empty() {
            open.push((
                *f,
                format!(
                    "the patched object could not be judged: {}",
                    result
                        .message
                        .unwrap_or_else(|| result.status.as_str().into())
                ),
            ));
        } else if left.is_empty() {
            closed.push(*f);
        } else {
            open.push((
                *f,
                format!(
                    "the securityContext patch of {label} would not close it: {}",
                    left.join("; ")
                ),
            ));
        }
    }
    (closed, open)
}

pub(super) fn plan_pods(
    ctx: &PlanContext<'_>,
    kube: &KubeFacts,
    failing: &[&Failing<'_>],
    out: &mut Planned,
) {
    let Some(Fact::Value(dump)) = &kube.cluster else {
        for f in failing {
            out.unfixed
                .push(f.unfixed(None, "no cluster dump was given (--cluster-dump)"));
        }
        return;
    };
    // workload label -> (object, changes wanted, failing checks)
    let mut wanted: BTreeMap<String, (&KubeObject, Vec<Change>, Vec<&Failing>)> = BTreeMap::new();
    for f in failing {
        let ch = change(f.control_id()).expect("partitioned");
        let mut matched = false;
        for o in dump
            .objects
            .iter()
            .filter(|o| pod_spec_path(&o.kind).is_some())
        {
            let ns = o.namespace.clone().unwrap_or_else(|| "default".into());
            let label = if o.kind == "Pod" {
                format!("{ns}/{}", o.name)
            } else {
                format!("{ns}/{} {}", o.kind, o.name)
            };
            if f.objects
                .iter()
                .any(|x| x.name == label || x.name.starts_with(&format!("{label} ")))
            {
                let e = wanted.entry(label).or_insert((o, Vec::new(), Vec::new()));
                if !e.1.contains(&ch) {
                    e.1.push(ch);
                }
                e.2.push(f);
                matched = true;
            }
        }
        if !matched {
            out.unfixed.push(f.unfixed(
                None,
                "the failing objects are not workloads of the cluster dump",
            ));
        }
    }
    if wanted.is_empty() {
        return;
    }
    let mut projected = ctx.snapshot.clone();
    for (label, (o, mut changes, fixed)) in wanted {
        changes.sort();
        let (path, resource) = pod_spec_path(&o.kind).expect("filtered");
        let how = rollout(o, resource);
        let built = build_patch(o, path, &changes, &ctx.options().container_user);
        let recreated = matches!(how, Rollout::Recreate { .. });
        let (closed, open) = judge(&mut projected, o, &label, &built.patch, recreated, &fixed);
        for (f, reason) in open {
            out.unfixed.push(f.unfixed(Some(&label), reason));
        }
        if closed.is_empty() {
            continue;
        }
        let patch = built.patch.to_string();
        let ns_args = |argv: &mut Vec<String>| {
            if let Some(ns) = &o.namespace {
                argv.push("--namespace".into());
                argv.push(ns.clone());
            }
        };
        let mut notes = Vec::new();
        let mut steps = Vec::new();
        match &how {
            Rollout::InPlace { resource, note } => {
                let mut argv = vec![
                    "kubectl".to_string(),
                    "patch".into(),
                    (*resource).into(),
                    o.name.clone(),
                ];
                ns_args(&mut argv);
                argv.extend(["--type".into(), "strategic".into(), "--patch".into(), patch]);
                steps.push(CommandStep {
                    comment: format!("patch the pod template of {label}"),
                    argv,
                });
                notes.push(note.clone());
            }
            Rollout::Recreate { resource } => {
                let (what, part) = if o.kind == "Pod" {
                    (
                        "Pod",
                        "a Pod's securityContext, host namespaces and containers",
                    )
                } else {
                    ("Job", "a Job's pod template")
                };
                notes.push(format!(
                    "{part} cannot change in place (the API server refuses such an update): merge these fields into the manifest the {what} was created from (MANIFEST in the commands), then delete the {what} and create it again from that manifest"
                ));
                steps.push(CommandStep {
                    comment: format!(
                        "the {what}'s manifest with these fields merged in (kubectl merges the file locally; nothing is sent to the API server): save the output as the new MANIFEST"
                    ),
                    argv: [
                        "kubectl", "patch", "--local", "--filename", "MANIFEST", "--type",
                        "strategic", "--patch",
                    ]
                    .iter()
                    .map(|s| s.to_string())
                    .chain([patch, "--output".into(), "yaml".into()])
                    .collect(),
                });
                let mut delete = vec![
                    "kubectl".to_string(),
                    "delete".into(),
                    (*resource).into(),
                    o.name.clone(),
                ];
                ns_args(&mut delete);
                steps.push(CommandStep {
                    comment: format!(
                        "then replace the {what} with one created from the new manifest"
                    ),
                    argv: delete,
                });
                steps.push(CommandStep {
                    comment: String::new(),
                    argv: vec![
                        "kubectl".into(),
                        "apply".into(),
                        "--filename".into(),
                        "MANIFEST".into(),
                    ],
                });
            }
            Rollout::Owner { kind, name } => {
                notes.push(format!(
                    "the Pod is managed by {kind} {name} and cannot change in place: set these fields in the pod template of what manages it ({kind} {name}, or the workload that owns that one) and let the controller replace the Pod"
                ));
                notes.push(format!(
                    "the fields, as a strategic merge patch of the Pod: {patch}"
                ));
            }
        }
        let (checks, controls) = ids_of(closed.iter().copied());
        let mut may_break = vec!["images that need root, extra capabilities or host namespaces fail to start; test the patched template first".to_string()];
        may_break.extend(built.may_break);
        out.fixes.push(Fix {
            id: format!("pod-security-context:{label}"),
            title: format!("Set a restrictive securityContext on {label}"),
            checks,
            controls,
            threats: Vec::new(),
            target: Target::new("workload", label.clone(), None),
            kind: FixKind::PodSecurityContext,
            safety: Safety::Review,
            changes: built.changes,
            may_break,
            notes,
            action: Action {
                steps,
                ..Default::default()
            },
            restart: None,
            findings: Vec::new(),
        });
    }
}
