//! Cluster-wide policies from the dump: a policy control mechanism (5.2.1), network policies
//! (5.3), secrets handling (5.4), image provenance (5.5) and namespaces (5.6.1, 5.6.4).

use super::pods::{containers, pod_views};
use super::rbac::{dump, needs};
use super::{guard, kube, manual};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{ClusterDump, APISERVER};
use serde_json::Value;
use std::collections::BTreeSet;

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("k8s.pss.policy_control", policy_control),
    ("k8s.network.cni_supports_policies", cni_supports_policies),
    ("k8s.network.policies_per_namespace", policies_per_namespace),
    ("k8s.secrets.no_env_secrets", no_env_secrets),
    ("k8s.secrets.external_storage", external_storage),
    ("k8s.admission.image_provenance", image_provenance),
    ("k8s.general.namespaces", namespaces),
    ("k8s.general.no_default_namespace", no_default_namespace),
];

/// Namespaces of the cluster: the Namespace objects, else every namespace objects live in.
fn namespace_names(d: &ClusterDump) -> BTreeSet<String> {
    let declared: BTreeSet<String> = d.of_kind("Namespace").map(|n| n.name.clone()).collect();
    if !declared.is_empty() {
        return declared;
    }
    d.objects
        .iter()
        .filter_map(|o| o.namespace.clone())
        .collect()
}

fn labels(o: &bulkhead_facts::kube::KubeObject) -> Vec<(String, String)> {
    o.body
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// 5.2.1: Pod Security Admission labels, ValidatingAdmissionPolicies or a policy engine's
/// webhooks count as a mechanism.
fn policy_control(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mut objects = Vec::new();
    for ns in d.of_kind("Namespace") {
        if let Some((_, level)) = labels(ns)
            .into_iter()
            .find(|(k, _)| k == "pod-security.kubernetes.io/enforce")
        {
            objects.push(
                ObjectResult::new("namespace", &ns.name, Status::Pass).evidence(
                    "pod-security.kubernetes.io/enforce",
                    level,
                    "a Pod Security level",
                ),
            );
        }
    }
    for p in d.of_kind("ValidatingAdmissionPolicyBinding") {
        objects.push(ObjectResult::new(
            "validatingadmissionpolicybinding",
            &p.name,
            Status::Pass,
        ));
    }
    const ENGINES: &[&str] = &[
        "gatekeeper",
        "kyverno",
        "kubewarden",
        "polaris",
        "datree",
        "jspolicy",
    ];
    for w in d
        .of_kind("ValidatingWebhookConfiguration")
        .chain(d.of_kind("MutatingWebhookConfiguration"))
    {
        if let Some(e) = ENGINES.iter().find(|e| w.name.to_lowercase().contains(*e)) {
            objects.push(
                ObjectResult::new(w.kind.to_lowercase(), &w.name, Status::Pass)
                    .note(format!("{e} policy engine")),
            );
        }
    }
    if objects.is_empty() {
        if !d.has_kind("Namespace") {
            return CheckResult::manual("the cluster dump holds no namespaces or admission configuration: dump them with the README's kubectl command to evaluate this");
        }
        return CheckResult::warn("no Pod Security Admission enforce label, ValidatingAdmissionPolicy binding or policy-engine webhook in the dump: confirm another mechanism is in place");
    }
    let mut r = CheckResult::from_objects(objects, "");
    r.message = Some(format!(
        "{} policy control mechanism(s) seen",
        r.objects.len()
    ));
    r
}

/// 5.3.1: judged from the CNI seen (configuration files on this node, add-on pods in the dump).
fn cni_supports_policies(ctx: &Context<'_>) -> CheckResult {
    let k = match guard(ctx, "policies") {
        Ok(k) => k,
        Err(r) => return r,
    };
    let mut seen: Vec<String> = k
        .file_sets
        .get("cni")
        .map(|s| s.paths.clone())
        .unwrap_or_default();
    match dump(ctx) {
        Ok(d) => seen.extend(
            d.of_kind("DaemonSet")
                .chain(d.of_kind("Pod"))
                .filter(|o| o.namespace.as_deref() == Some("kube-system"))
                .map(|o| o.name.clone()),
        ),
        Err(r) if seen.is_empty() => return r,
        Err(_) => {}
    }
    const SUPPORTING: &[&str] = &[
        "calico",
        "cilium",
        "weave",
        "antrea",
        "kube-router",
        "canal",
        "romana",
    ];
    const NOT_SUPPORTING: &[&str] = &["flannel"];
    let has = |names: &[&str]| -> Vec<String> {
        names
            .iter()
            .filter(|n| seen.iter().any(|s| s.to_lowercase().contains(*n)))
            .map(|n| n.to_string())
            .collect()
    };
    let yes = has(SUPPORTING);
    let no = has(NOT_SUPPORTING);
    if !yes.is_empty() {
        CheckResult::pass(format!(
            "CNI enforcing NetworkPolicy seen: {}",
            yes.join(", ")
        ))
    } else if !no.is_empty() {
        CheckResult::fail(format!(
            "only {} seen, which does not enforce NetworkPolicy",
            no.join(", ")
        ))
    } else {
        CheckResult::manual(format!("no known CNI recognised among {} CNI files and kube-system add-ons: confirm the CNI enforces NetworkPolicy", seen.len()))
    }
}
/// 5.3.2
fn policies_per_namespace(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = needs(d, &["Namespace", "NetworkPolicy"]) {
        return r;
    }
    let objects = namespace_names(d)
        .into_iter()
        .map(|ns| {
            let n = d
                .of_kind("NetworkPolicy")
                .filter(|p| p.namespace.as_deref() == Some(ns.as_str()))
                .count();
            ObjectResult::new(
                "namespace",
                &ns,
                if n > 0 { Status::Pass } else { Status::Fail },
            )
            .evidence("NetworkPolicies", n.to_string(), "at least 1")
        })
        .collect();
    CheckResult::from_objects(objects, "the dump holds no namespaces")
}
/// 5.4.1: environment variables filled from secrets (names shown, never values).
fn no_env_secrets(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = needs(
        d,
        &[
            "Pod",
            "Deployment",
            "DaemonSet",
            "StatefulSet",
            "Job",
            "CronJob",
            "ReplicaSet",
        ],
    ) {
        return r;
    }
    let views = pod_views(d);
    let mut objects = Vec::new();
    for p in &views {
        for c in containers(p) {
            let mut refs: Vec<String> = c
                .spec
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|e| e.pointer("/valueFrom/secretKeyRef").is_some())
                .filter_map(|e| e.get("name").and_then(Value::as_str).map(String::from))
                .collect();
            refs.extend(
                c.spec
                    .get("envFrom")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.pointer("/secretRef/name").and_then(Value::as_str))
                    .map(|s| format!("envFrom secret {s}")),
            );
            let status = if refs.is_empty() {
                Status::Pass
            } else {
                Status::Fail
            };
            objects.push(ObjectResult::new("container", c.label(), status).evidence(
                "env from secrets",
                if refs.is_empty() {
                    "(none)".into()
                } else {
                    refs.join(", ")
                },
                "secrets mounted as files",
            ));
        }
    }
    CheckResult::from_objects(objects, "the dump holds no containers")
}
/// 5.4.2: which store to use is a decision; external-secret objects in the dump are shown.
fn external_storage(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let found: Vec<ObjectResult> = [
        "ExternalSecret",
        "SecretProviderClass",
        "SealedSecret",
        "VaultStaticSecret",
    ]
    .iter()
    .filter_map(|k| {
        d.ignored_kinds.get(*k).map(|n| {
            ObjectResult::new("kind", *k, Status::Manual).evidence(
                "objects in dump",
                n.to_string(),
                "an external secret store",
            )
        })
    })
    .collect();
    let msg = if found.is_empty() {
        "no external secret store objects seen in the dump: consider one (a KMS, Vault or a cloud secret manager)"
    } else {
        "external secret store objects seen: confirm sensitive secrets live there"
    };
    manual(msg, found)
}
/// 5.5.1: shows whether this node's API server enables ImagePolicyWebhook.
fn image_provenance(ctx: &Context<'_>) -> CheckResult {
    let k = match kube(ctx) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if let Err(r) = guard(ctx, "policies") {
        return r;
    }
    match k.component(APISERVER) {
        Some(c) => {
            let plugins = c.flags.list("enable-admission-plugins", true);
            let on = plugins.iter().any(|p| p == "ImagePolicyWebhook");
            manual(
                if on { "ImagePolicyWebhook is enabled: review its backend's policy" } else { "ImagePolicyWebhook is not enabled on this API server: consider it, or an admission policy that verifies image signatures" },
                vec![ObjectResult::new("process", c.label(), Status::Manual).evidence(c.flag_list_source("enable-admission-plugins"), plugins.join(","), "includes ImagePolicyWebhook")],
            )
        }
        None => CheckResult::manual("the API server does not run on this node: review its --enable-admission-plugins for ImagePolicyWebhook"),
    }
}
/// 5.6.1: how to split the cluster is a decision; the namespaces and what runs in them are shown.
fn namespaces(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let views = pod_views(d);
    let objects = namespace_names(d)
        .into_iter()
        .map(|ns| {
            let n = views.iter().filter(|p| p.namespace == ns).count();
            ObjectResult::new("namespace", &ns, Status::Manual).evidence(
                "pods or workloads",
                n.to_string(),
                "resources grouped by trust boundary",
            )
        })
        .collect();
    manual(
        "review that namespaces separate teams, applications and trust levels",
        objects,
    )
}
/// 5.6.4: nothing but the built-in `kubernetes` service should live in `default`.
fn no_default_namespace(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let objects: Vec<ObjectResult> = d
        .objects
        .iter()
        .filter(|o| o.namespace.as_deref() == Some("default"))
        .filter(|o| !(o.kind == "ServiceAccount" && o.name == "default"))
        .map(|o| {
            ObjectResult::new(
                o.kind.to_lowercase(),
                format!("default/{}", o.name),
                Status::Fail,
            )
        })
        .collect();
    if objects.is_empty() {
        return CheckResult::pass(
            "no workload, role or service account of its own in the default namespace",
        );
    }
    CheckResult::from_objects(objects, "")
}
