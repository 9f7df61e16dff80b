//! RBAC and service accounts (5.1), from the cluster dump.
//!
//! Access checks list who holds a permission: each binding whose role grants it, with its
//! subjects. Bindings Kubernetes itself maintains (`system:*`) are left out and counted. A grant
//! to everyone (`system:authenticated`, `system:unauthenticated`) fails; any other grant needs a
//! person to confirm it is required (warn). Nothing found passes.

use super::pods::{pod_views, PodView};
use super::{guard, manual};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{ClusterDump, KubeObject};
use bulkhead_facts::Fact;
use serde_json::Value;

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("k8s.rbac.cluster_admin_limited", cluster_admin_limited),
    ("k8s.rbac.secrets_access", secrets_access),
    ("k8s.rbac.no_wildcards", no_wildcards),
    ("k8s.rbac.pod_create_access", pod_create_access),
    ("k8s.rbac.default_sa_unused", default_sa_unused),
    ("k8s.rbac.sa_token_mount", sa_token_mount),
    ("k8s.rbac.no_system_masters", no_system_masters),
    (
        "k8s.rbac.bind_impersonate_escalate",
        bind_impersonate_escalate,
    ),
    ("k8s.rbac.pv_create_access", pv_create_access),
    ("k8s.rbac.node_proxy_access", node_proxy_access),
    ("k8s.rbac.csr_approval_access", csr_approval_access),
    ("k8s.rbac.webhook_config_access", webhook_config_access),
    ("k8s.rbac.sa_token_create_access", sa_token_create_access),
];

/// The cluster dump, or why the policy checks cannot run.
pub(crate) fn dump<'a>(ctx: &Context<'a>) -> Result<&'a ClusterDump, CheckResult> {
    let k = guard(ctx, "policies")?;
    match &k.cluster {
        None => Err(CheckResult::not_applicable(
            "the policies target was selected but no cluster dump was given: pass --cluster-dump FILE",
        )),
        Some(Fact::Unavailable(why)) => Err(CheckResult::error(format!("the cluster dump could not be read: {why}"))),
        Some(Fact::Value(d)) => Ok(d),
    }
}

/// The dump must hold `kinds` for the check to say anything; otherwise manual with the reason.
pub(crate) fn needs(d: &ClusterDump, kinds: &[&str]) -> Option<CheckResult> {
    (!kinds.iter().any(|k| d.has_kind(k))).then(|| {
        CheckResult::manual(format!(
            "the cluster dump holds no {}: dump them with the README's kubectl command to evaluate this",
            kinds.join(" or ")
        ))
    })
}

/// One RBAC rule.
pub(crate) struct Rule<'a>(&'a Value);

impl Rule<'_> {
    fn list(&self, key: &str) -> Vec<&str> {
        self.0
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// Does the rule grant `verb` on `resource` (`pods`, `nodes/proxy`) in API group `group`?
    pub(crate) fn grants(&self, group: &str, resource: &str, verb: &str) -> bool {
        let any = |l: Vec<&str>, want: &str| l.iter().any(|x| *x == "*" || *x == want);
        let (base, sub) = match resource.split_once('/') {
            Some((b, s)) => (b, Some(s)),
            None => (resource, None),
        };
        let resources = self.list("resources");
        let res_ok = resources.iter().any(|r| {
            *r == "*"
                || *r == resource
                || sub.is_some_and(|s| *r == format!("{base}/*") || *r == format!("*/{s}"))
        });
        any(self.list("apiGroups"), group) && res_ok && any(self.list("verbs"), verb)
    }

    fn has_wildcard(&self) -> bool {
        ["apiGroups", "resources", "verbs"]
            .iter()
            .any(|k| self.list(k).contains(&"*"))
    }
}

pub(crate) fn rules(role: &KubeObject) -> Vec<Rule<'_>> {
    role.body
        .get("rules")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(Rule).collect())
        .unwrap_or_default()
}

fn is_system(name: &str) -> bool {
    name.starts_with("system:")
}

fn label(o: &KubeObject) -> String {
    match &o.namespace {
        Some(ns) => format!("{ns}/{}", o.name),
        None => o.name.clone(),
    }
}

/// The role a binding points at (a RoleBinding may point at a ClusterRole).
fn role_of<'a>(d: &'a ClusterDump, binding: &'a KubeObject) -> Option<&'a KubeObject> {
    let r = binding.body.get("roleRef")?;
    let kind = r.get("kind")?.as_str()?;
    let name = r.get("name")?.as_str()?;
    d.of_kind(kind)
        .find(|o| o.name == name && (kind == "ClusterRole" || o.namespace == binding.namespace))
}

fn subjects(binding: &KubeObject) -> Vec<String> {
    binding
        .body
        .get("subjects")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| {
                    let kind = s.get("kind").and_then(Value::as_str).unwrap_or("?");
                    let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
                    match s.get("namespace").and_then(Value::as_str) {
                        Some(ns) if kind == "ServiceAccount" => format!("{kind} {ns}/{name}"),
                        _ => format!("{kind} {name}"),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The bootstrap `cluster-admin` binding to `system:masters`: Kubernetes' own, judged by 5.1.1
/// and 5.1.7, not repeated in every access check.
fn is_default_admin_binding(b: &KubeObject) -> bool {
    b.kind == "ClusterRoleBinding"
        && b.name == "cluster-admin"
        && subjects(b) == ["Group system:masters"]
}

const EVERYONE: &[&str] = &[
    "Group system:authenticated",
    "Group system:unauthenticated",
    "User system:anonymous",
];

/// Who holds a permission: one object per non-system binding whose role matches `grants`.
fn access_check(ctx: &Context<'_>, what: &str, grants: impl Fn(&Rule<'_>) -> bool) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = needs(d, &["ClusterRoleBinding", "RoleBinding"]) {
        return r;
    }
    let mut objects = Vec::new();
    let mut system = 0;
    for b in d
        .of_kind("ClusterRoleBinding")
        .chain(d.of_kind("RoleBinding"))
    {
        let Some(role) = role_of(d, b) else { continue };
        if !rules(role).iter().any(&grants) {
            continue;
        }
        if is_system(&b.name) || is_system(&role.name) || is_default_admin_binding(b) {
            system += 1;
            continue;
        }
        let subs = subjects(b);
        let everyone = subs.iter().any(|s| EVERYONE.contains(&s.as_str()));
        let status = if everyone { Status::Fail } else { Status::Warn };
        objects.push(
            ObjectResult::new(b.kind.to_lowercase(), label(b), status)
                .evidence(
                    format!("{} {}", role.kind, role.name),
                    subs.join(", "),
                    format!("only subjects that need to {what}"),
                )
                .note(if everyone {
                    "granted to every user".to_string()
                } else {
                    "confirm these subjects need it".to_string()
                }),
        );
    }
    let mut r = CheckResult::from_objects(
        objects,
        format!("no binding outside Kubernetes' own system:* bindings grants access to {what}"),
    );
    if r.status == Status::NotApplicable {
        r.status = Status::Pass;
    }
    if system > 0 {
        let m = r.message.take().unwrap_or_default();
        r.message = Some(format!("{m} ({system} system:* bindings not shown)"));
    }
    r
}

/// 5.1.1: the default `cluster-admin` binding (to system:masters) is expected; every other
/// binding to cluster-admin is for review.
fn cluster_admin_limited(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = needs(d, &["ClusterRoleBinding", "RoleBinding"]) {
        return r;
    }
    let objects: Vec<ObjectResult> = d
        .of_kind("ClusterRoleBinding")
        .chain(d.of_kind("RoleBinding"))
        .filter(|b| {
            b.body.pointer("/roleRef/name").and_then(Value::as_str) == Some("cluster-admin")
        })
        .map(|b| {
            let subs = subjects(b);
            let default = is_default_admin_binding(b);
            let everyone = subs.iter().any(|s| EVERYONE.contains(&s.as_str()));
            let status = if default {
                Status::Pass
            } else if everyone {
                Status::Fail
            } else {
                Status::Warn
            };
            ObjectResult::new(b.kind.to_lowercase(), label(b), status).evidence(
                "subjects",
                subs.join(", "),
                "only where required",
            )
        })
        .collect();
    let mut r = CheckResult::from_objects(objects, "no binding to cluster-admin");
    if r.status == Status::NotApplicable {
        r.status = Status::Pass;
    }
    r
}
/// 5.1.2
fn secrets_access(ctx: &Context<'_>) -> CheckResult {
    access_check(ctx, "read secrets", |r| {
        ["get", "list", "watch"]
            .iter()
            .any(|v| r.grants("", "secrets", v))
    })
}
/// 5.1.3: roles and cluster roles with `*` in groups, resources or verbs (the built-in
/// cluster-admin and system:* roles are Kubernetes' own).
fn no_wildcards(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = needs(d, &["ClusterRole", "Role"]) {
        return r;
    }
    let objects: Vec<ObjectResult> = d
        .of_kind("ClusterRole")
        .chain(d.of_kind("Role"))
        .filter(|r| !is_system(&r.name) && r.name != "cluster-admin")
        .filter(|r| rules(r).iter().any(Rule::has_wildcard))
        .map(|r| {
            ObjectResult::new(r.kind.to_lowercase(), label(r), Status::Warn).evidence(
                "rules",
                "contain *",
                "explicit groups, resources and verbs",
            )
        })
        .collect();
    let mut r =
        CheckResult::from_objects(objects, "no role outside Kubernetes' own uses a wildcard");
    if r.status == Status::NotApplicable {
        r.status = Status::Pass;
    }
    r
}
/// 5.1.4
fn pod_create_access(ctx: &Context<'_>) -> CheckResult {
    access_check(ctx, "create pods", |r| r.grants("", "pods", "create"))
}
/// 5.1.5: each namespace's default service account must not mount a token, and nothing should
/// be bound to it.
fn default_sa_unused(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if let Some(r) = needs(d, &["ServiceAccount"]) {
        return r;
    }
    let bound_to = |ns: &str| -> Vec<String> {
        d.of_kind("ClusterRoleBinding")
            .chain(d.of_kind("RoleBinding"))
            .filter(|b| {
                subjects(b)
                    .iter()
                    .any(|s| *s == format!("ServiceAccount {ns}/default"))
            })
            .map(label)
            .collect()
    };
    let objects = d
        .of_kind("ServiceAccount")
        .filter(|sa| sa.name == "default")
        .map(|sa| {
            let ns = sa.namespace.clone().unwrap_or_default();
            let automount = sa
                .body
                .get("automountServiceAccountToken")
                .and_then(Value::as_bool);
            let bindings = bound_to(&ns);
            let o = ObjectResult::new(
                "serviceaccount",
                label(sa),
                if automount == Some(false) && bindings.is_empty() {
                    Status::Pass
                } else {
                    Status::Fail
                },
            )
            .evidence(
                "automountServiceAccountToken",
                automount
                    .map(|b| b.to_string())
                    .unwrap_or_else(|| "(not set: true)".into()),
                "false",
            );
            if bindings.is_empty() {
                o
            } else {
                o.note(format!("bound by {}", bindings.join(", ")))
            }
        })
        .collect();
    CheckResult::from_objects(objects, "the dump holds no default service account")
}
/// 5.1.6: effective automounting per pod: the pod's field, else its service account's, else
/// true.
fn sa_token_mount(ctx: &Context<'_>) -> CheckResult {
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
    let objects = pod_views(d)
        .iter()
        .map(|p: &PodView<'_>| {
            let sa_name = p
                .spec
                .get("serviceAccountName")
                .and_then(Value::as_str)
                .unwrap_or("default");
            let sa = d.of_kind("ServiceAccount").find(|s| {
                s.name == sa_name && s.namespace.as_deref() == Some(p.namespace.as_str())
            });
            let (value, source) = match p
                .spec
                .get("automountServiceAccountToken")
                .and_then(Value::as_bool)
            {
                Some(v) => (v, "pod spec".to_string()),
                None => match sa
                    .and_then(|s| s.body.get("automountServiceAccountToken"))
                    .and_then(Value::as_bool)
                {
                    Some(v) => (v, format!("service account {sa_name}")),
                    None => (
                        true,
                        format!("default (neither the pod nor service account {sa_name} sets it)"),
                    ),
                },
            };
            ObjectResult::new(
                p.kind_label(),
                p.label(),
                if value { Status::Warn } else { Status::Pass },
            )
            .evidence(
                format!("automountServiceAccountToken ({source})"),
                value.to_string(),
                "false unless the pod calls the API",
            )
        })
        .collect();
    CheckResult::from_objects(objects, "the dump holds no pods")
}
/// 5.1.7: membership of system:masters comes from client certificates the dump cannot show;
/// bindings naming the group are shown.
fn no_system_masters(ctx: &Context<'_>) -> CheckResult {
    let d = match dump(ctx) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let objects = d
        .of_kind("ClusterRoleBinding")
        .chain(d.of_kind("RoleBinding"))
        .filter(|b| {
            b.name != "cluster-admin" && subjects(b).iter().any(|s| s == "Group system:masters")
        })
        .map(|b| {
            ObjectResult::new(b.kind.to_lowercase(), label(b), Status::Manual).evidence(
                "subjects",
                subjects(b).join(", "),
                "no system:masters",
            )
        })
        .collect();
    manual(
        "system:masters bypasses RBAC and cannot be revoked: confirm no issued client certificate carries O=system:masters besides the break-glass admin credential",
        objects,
    )
}
/// 5.1.8
fn bind_impersonate_escalate(ctx: &Context<'_>) -> CheckResult {
    access_check(ctx, "bind, escalate or impersonate", |r| {
        r.grants("rbac.authorization.k8s.io", "roles", "bind")
            || r.grants("rbac.authorization.k8s.io", "clusterroles", "bind")
            || r.grants("rbac.authorization.k8s.io", "roles", "escalate")
            || r.grants("rbac.authorization.k8s.io", "clusterroles", "escalate")
            || ["users", "groups", "serviceaccounts"]
                .iter()
                .any(|res| r.grants("", res, "impersonate"))
    })
}
/// 5.1.9
fn pv_create_access(ctx: &Context<'_>) -> CheckResult {
    access_check(ctx, "create persistent volumes", |r| {
        r.grants("", "persistentvolumes", "create")
    })
}
/// 5.1.10
fn node_proxy_access(ctx: &Context<'_>) -> CheckResult {
    access_check(ctx, "use the nodes/proxy sub-resource", |r| {
        ["get", "create"]
            .iter()
            .any(|v| r.grants("", "nodes/proxy", v))
    })
}
/// 5.1.11
fn csr_approval_access(ctx: &Context<'_>) -> CheckResult {
    access_check(ctx, "approve certificate signing requests", |r| {
        ["update", "patch"].iter().any(|v| {
            r.grants(
                "certificates.k8s.io",
                "certificatesigningrequests/approval",
                v,
            )
        })
    })
}
/// 5.1.12
fn webhook_config_access(ctx: &Context<'_>) -> CheckResult {
    access_check(ctx, "change admission webhook configurations", |r| {
        [
            "validatingwebhookconfigurations",
            "mutatingwebhookconfigurations",
        ]
        .iter()
        .any(|res| {
            ["create", "update", "patch", "delete"]
                .iter()
                .any(|v| r.grants("admissionregistration.k8s.io", res, v))
        })
    })
}
/// 5.1.13
fn sa_token_create_access(ctx: &Context<'_>) -> CheckResult {
    access_check(ctx, "create service account tokens", |r| {
        r.grants("", "serviceaccounts/token", "create")
    })
}
