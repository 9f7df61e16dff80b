//! RBAC and service accounts (5.1), from the cluster dump.
//!
//! Access checks list who holds a permission: each binding whose role grants it, with its
//! subjects. Bindings Kubernetes itself maintains (`system:*`) are left out and counted. A grant
//! to everyone (`system:authenticated`, `system:unauthenticated`) fails; any other grant needs a
//! person to confirm it is required (warn). Nothing found passes.
//!
//! A binding's role is read from the dump. A default ClusterRole the dump lacks (`cluster-admin`,
//! `admin`, `edit`, `view`) is judged by Kubernetes' fixed rules for it; any other role the dump
//! lacks cannot be judged, so its binding warns with the command that adds roles to the dump: a
//! binding to a role that is not in the dump never counts as granting nothing.

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

/// The role a binding points at (a RoleBinding may point at a ClusterRole, or at a Role of its
/// own namespace).
enum Bound<'a> {
    /// The role as the dump holds it.
    Dumped(&'a KubeObject),
    /// A default ClusterRole with fixed, well-known rules that the dump lacks: judged by
    /// Kubernetes' default rules for it.
    Default(&'static KubeObject),
    /// Neither in the dump nor a known default: what the binding grants cannot be told.
    Missing(MissingRole),
}

/// A role a binding refers to that the dump does not hold.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct MissingRole {
    kind: String,
    name: String,
    /// The binding's namespace, for a Role.
    namespace: Option<String>,
}

impl MissingRole {
    /// `deployer`, `app/reader`.
    fn label(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `ClusterRole deployer`, `Role app/reader`.
    fn shown(&self) -> String {
        format!("{} {}", self.kind, self.label())
    }

    /// The kubectl command that prints this one role.
    fn kubectl(&self) -> String {
        match &self.namespace {
            Some(ns) => format!(
                "kubectl get {} {} -n {ns} -o yaml",
                self.kind.to_lowercase(),
                self.name
            ),
            None => format!(
                "kubectl get {} {} -o yaml",
                self.kind.to_lowercase(),
                self.name
            ),
        }
    }
}

/// The default ClusterRoles whose rules Kubernetes fixes, for dumps that lack them (a partial
/// dump, one made by an account that may not list ClusterRoles, `kubectl get
/// clusterrolebindings` alone). The API server recreates and reconciles these at every start
/// (`rbac.authorization.kubernetes.io/autoupdate: "true"`), so a binding to one grants what is
/// written here. A role the dump holds always wins over these.
///
/// Written after the RBAC bootstrap policy of Kubernetes v1.31 (the user-facing roles of
/// https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles). `admin`,
/// `edit` and `view` are aggregated: the rules below are Kubernetes' own part of them (the
/// `system:aggregate-to-*` roles); rules that CRDs or add-ons aggregate into them are not known
/// without the dumped role. Rules added in later releases that no 5.1 check reads (such as
/// access to coordination.k8s.io leases) are left out.
mod defaults {
    use bulkhead_facts::kube::KubeObject;
    use serde_json::{json, Value};
    use std::sync::OnceLock;

    /// Where the rules of a default role come from, for the reader.
    pub(super) const SOURCE: &str = "Kubernetes' default rules for it (v1.31)";

    const READ: &[&str] = &["get", "list", "watch"];
    /// What the default roles mean by write: everything but reading.
    const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
    const READ_WRITE: &[&str] = &[
        "get",
        "list",
        "watch",
        "create",
        "delete",
        "deletecollection",
        "patch",
        "update",
    ];

    fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
        json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
    }

    /// `view`: read most namespaced objects; no secrets, no roles or bindings, nothing that
    /// runs commands in pods.
    fn view() -> Vec<Value> {
        vec![
            rule(
                &[""],
                &[
                    "pods",
                    "pods/log",
                    "pods/status",
                    "replicationcontrollers",
                    "replicationcontrollers/scale",
                    "replicationcontrollers/status",
                    "serviceaccounts",
                    "services",
                    "services/status",
                    "endpoints",
                    "persistentvolumeclaims",
                    "persistentvolumeclaims/status",
                    "configmaps",
                    "limitranges",
                    "resourcequotas",
                    "resourcequotas/status",
                    "bindings",
                    "events",
                    "namespaces",
                    "namespaces/status",
                ],
                READ,
            ),
            rule(&["discovery.k8s.io"], &["endpointslices"], READ),
            rule(
                &["apps"],
                &[
                    "controllerrevisions",
                    "daemonsets",
                    "daemonsets/status",
                    "deployments",
                    "deployments/scale",
                    "deployments/status",
                    "replicasets",
                    "replicasets/scale",
                    "replicasets/status",
                    "statefulsets",
                    "statefulsets/scale",
                    "statefulsets/status",
                ],
                READ,
            ),
            rule(
                &["autoscaling"],
                &[
                    "horizontalpodautoscalers",
                    "horizontalpodautoscalers/status",
                ],
                READ,
            ),
            rule(
                &["batch"],
                &["jobs", "jobs/status", "cronjobs", "cronjobs/status"],
                READ,
            ),
            rule(
                &["extensions"],
                &[
                    "daemonsets",
                    "daemonsets/status",
                    "deployments",
                    "deployments/scale",
                    "deployments/status",
                    "ingresses",
                    "ingresses/status",
                    "networkpolicies",
                    "replicasets",
                    "replicasets/scale",
                    "replicasets/status",
                    "replicationcontrollers/scale",
                ],
                READ,
            ),
            rule(
                &["policy"],
                &["poddisruptionbudgets", "poddisruptionbudgets/status"],
                READ,
            ),
            rule(
                &["networking.k8s.io"],
                &["ingresses", "ingresses/status", "networkpolicies"],
                READ,
            ),
        ]
    }

    /// What `edit` adds to `view`: read secrets and the pod sub-resources that run commands,
    /// write workloads, services, config and secrets, impersonate service accounts and create
    /// their tokens. No roles or bindings.
    fn edit_only() -> Vec<Value> {
        vec![
            rule(
                &[""],
                &[
                    "secrets",
                    "pods/attach",
                    "pods/exec",
                    "pods/portforward",
                    "pods/proxy",
                    "services/proxy",
                ],
                READ,
            ),
            rule(&[""], &["serviceaccounts"], &["impersonate"]),
            rule(
                &[""],
                &[
                    "pods",
                    "pods/attach",
                    "pods/exec",
                    "pods/portforward",
                    "pods/proxy",
                ],
                WRITE,
            ),
            rule(&[""], &["pods/eviction"], &["create"]),
            rule(
                &[""],
                &[
                    "configmaps",
                    "events",
                    "persistentvolumeclaims",
                    "replicationcontrollers",
                    "replicationcontrollers/scale",
                    "secrets",
                    "serviceaccounts",
                    "services",
                    "services/proxy",
                ],
                WRITE,
            ),
            rule(&[""], &["serviceaccounts/token"], &["create"]),
            rule(
                &["apps"],
                &[
                    "daemonsets",
                    "deployments",
                    "deployments/rollback",
                    "deployments/scale",
                    "replicasets",
                    "replicasets/scale",
                    "statefulsets",
                    "statefulsets/scale",
                ],
                WRITE,
            ),
            rule(&["autoscaling"], &["horizontalpodautoscalers"], WRITE),
            rule(&["batch"], &["jobs", "cronjobs"], WRITE),
            rule(
                &["extensions"],
                &[
                    "daemonsets",
                    "deployments",
                    "deployments/rollback",
                    "deployments/scale",
                    "ingresses",
                    "networkpolicies",
                    "replicasets",
                    "replicasets/scale",
                    "replicationcontrollers/scale",
                ],
                WRITE,
            ),
            rule(&["policy"], &["poddisruptionbudgets"], WRITE),
            rule(
                &["networking.k8s.io"],
                &["ingresses", "networkpolicies"],
                WRITE,
            ),
        ]
    }

    /// What `admin` adds to `edit`: manage Roles and RoleBindings of the namespace (without the
    /// bind and escalate verbs: RBAC lets it grant only what it holds) and ask what a subject
    /// may do there.
    fn admin_only() -> Vec<Value> {
        vec![
            rule(
                &["rbac.authorization.k8s.io"],
                &["roles", "rolebindings"],
                READ_WRITE,
            ),
            rule(
                &["authorization.k8s.io"],
                &["localsubjectaccessreviews"],
                &["create"],
            ),
        ]
    }

    fn role(name: &str, rules: Vec<Value>) -> KubeObject {
        KubeObject {
            kind: "ClusterRole".into(),
            api_version: "rbac.authorization.k8s.io/v1".into(),
            namespace: None,
            name: name.into(),
            body: json!({"kind": "ClusterRole", "metadata": {"name": name}, "rules": rules}),
        }
    }

    fn all() -> &'static [KubeObject] {
        static ROLES: OnceLock<Vec<KubeObject>> = OnceLock::new();
        ROLES.get_or_init(|| {
            let edit: Vec<Value> = view().into_iter().chain(edit_only()).collect();
            let admin: Vec<Value> = edit.iter().cloned().chain(admin_only()).collect();
            vec![
                // Everything, everywhere, and every non-resource URL.
                role(
                    "cluster-admin",
                    vec![
                        rule(&["*"], &["*"], &["*"]),
                        json!({"nonResourceURLs": ["*"], "verbs": ["*"]}),
                    ],
                ),
                role("admin", admin),
                role("edit", edit),
                role("view", view()),
            ]
        })
    }

    /// Kubernetes' default ClusterRole `name`, when its rules are fixed and known.
    pub(super) fn cluster_role(name: &str) -> Option<&'static KubeObject> {
        all().iter().find(|r| r.name == name)
    }
}

/// The command that dumps every role, to add to a dump that lacks some.
const DUMP_ROLES: &str = "kubectl get clusterroles,roles --all-namespaces -o yaml";

fn role_of<'a>(d: &'a ClusterDump, binding: &'a KubeObject) -> Bound<'a> {
    let r = binding.body.get("roleRef");
    let field = |k: &str| r.and_then(|r| r.get(k)).and_then(Value::as_str);
    let kind = field("kind").unwrap_or("?");
    let name = field("name").unwrap_or("?");
    let cluster_wide = kind == "ClusterRole";
    if let Some(role) = d
        .of_kind(kind)
        .find(|o| o.name == name && (cluster_wide || o.namespace == binding.namespace))
    {
        return Bound::Dumped(role);
    }
    if cluster_wide {
        if let Some(role) = defaults::cluster_role(name) {
            return Bound::Default(role);
        }
    }
    Bound::Missing(MissingRole {
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: if cluster_wide {
            None
        } else {
            binding.namespace.clone()
        },
    })
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
    let mut missing: Vec<MissingRole> = Vec::new();
    for b in d
        .of_kind("ClusterRoleBinding")
        .chain(d.of_kind("RoleBinding"))
    {
        let subs = subjects(b);
        let everyone = subs.iter().any(|s| EVERYONE.contains(&s.as_str()));
        let (role, default) = match role_of(d, b) {
            Bound::Dumped(role) => (role, false),
            Bound::Default(role) => (role, true),
            Bound::Missing(m) => {
                // Kubernetes' own bindings are left out whatever their role grants.
                if is_system(&b.name) || is_system(&m.name) {
                    continue;
                }
                objects.push(
                    ObjectResult::new(b.kind.to_lowercase(), label(b), Status::Warn)
                        .evidence(
                            m.shown(),
                            subs.join(", "),
                            format!("only subjects that need to {what}"),
                        )
                        .note(format!(
                            "{} is not in the dump, so whether it grants access to {what} cannot be told{}: add it to the dump (`{}`, or every role: `{DUMP_ROLES}`)",
                            m.shown(),
                            if everyone { " (bound to every user)" } else { "" },
                            m.kubectl()
                        )),
                );
                if !missing.contains(&m) {
                    missing.push(m);
                }
                continue;
            }
        };
        if !rules(role).iter().any(&grants) {
            continue;
        }
        if is_system(&b.name) || is_system(&role.name) || is_default_admin_binding(b) {
            system += 1;
            continue;
        }
        let status = if everyone { Status::Fail } else { Status::Warn };
        let note = if everyone {
            "granted to every user".to_string()
        } else {
            "confirm these subjects need it".to_string()
        };
        let note = if default {
            format!(
                "{note}; {} {} is not in the dump: judged by {}",
                role.kind,
                role.name,
                defaults::SOURCE
            )
        } else {
            note
        };
        objects.push(
            ObjectResult::new(b.kind.to_lowercase(), label(b), status)
                .evidence(
                    format!("{} {}", role.kind, role.name),
                    subs.join(", "),
                    format!("only subjects that need to {what}"),
                )
                .note(note),
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
    if !missing.is_empty() {
        let m = r.message.take().unwrap_or_default();
        r.message = Some(format!(
            "{m}; bound but not in the dump, so not judged: {}: add `{DUMP_ROLES}` to the dump",
            missing
                .iter()
                .map(MissingRole::shown)
                .collect::<Vec<_>>()
                .join(", ")
        ));
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
    let mut objects: Vec<ObjectResult> = d
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
    // Roles that bindings name but the dump lacks: their rules cannot be read.
    let mut missing: Vec<(MissingRole, Vec<String>)> = Vec::new();
    for b in d
        .of_kind("ClusterRoleBinding")
        .chain(d.of_kind("RoleBinding"))
    {
        let Bound::Missing(m) = role_of(d, b) else {
            continue;
        };
        if is_system(&b.name) || is_system(&m.name) {
            continue;
        }
        match missing.iter_mut().find(|(x, _)| *x == m) {
            Some((_, by)) => by.push(format!("{} {}", b.kind, label(b))),
            None => missing.push((m, vec![format!("{} {}", b.kind, label(b))])),
        }
    }
    objects.extend(missing.into_iter().map(|(m, by)| {
        ObjectResult::new(m.kind.to_lowercase(), m.label(), Status::Warn)
            .evidence("rules", "not in the dump", "explicit groups, resources and verbs")
            .note(format!(
                "bound by {} but not in the dump, so its rules cannot be checked: add it to the dump (`{}`, or every role: `{DUMP_ROLES}`)",
                by.join(", "),
                m.kubectl()
            ))
    }));
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

#[cfg(test)]
mod tests {
    use super::super::fixture::KubeFixture;
    use crate::model::CheckResult;
    use crate::model::Status::{self, *};
    use serde_json::{json, Value};

    /// The access checks: 5.1.2, 5.1.4, 5.1.8 to 5.1.13.
    const ACCESS: &[&str] = &[
        "k8s.rbac.secrets_access",
        "k8s.rbac.pod_create_access",
        "k8s.rbac.bind_impersonate_escalate",
        "k8s.rbac.pv_create_access",
        "k8s.rbac.node_proxy_access",
        "k8s.rbac.csr_approval_access",
        "k8s.rbac.webhook_config_access",
        "k8s.rbac.sa_token_create_access",
    ];

    fn crb(name: &str, role: &str, subject: Value) -> Value {
        json!({"kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [subject]})
    }

    fn rb(ns: &str, name: &str, kind: &str, role: &str, subject: Value) -> Value {
        json!({"kind": "RoleBinding", "metadata": {"name": name, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [subject]})
    }

    fn group(name: &str) -> Value {
        json!({"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name})
    }

    fn user(name: &str) -> Value {
        json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": name})
    }

    fn cluster_admin_role() -> Value {
        json!({"kind": "ClusterRole", "metadata": {"name": "cluster-admin"}, "rules": [
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
            {"nonResourceURLs": ["*"], "verbs": ["*"]}]})
    }

    fn run(items: &[Value], id: &str) -> CheckResult {
        KubeFixture::new()
            .dump(vec![json!({"kind": "List", "items": items})])
            .run(id)
    }

    /// (kind, name, status) of each object.
    fn objects(r: &CheckResult) -> Vec<(String, String, Status)> {
        r.objects
            .iter()
            .map(|o| (o.kind.clone(), o.name.clone(), o.status))
            .collect()
    }

    fn obj(kind: &str, name: &str, status: Status) -> (String, String, Status) {
        (kind.to_string(), name.to_string(), status)
    }

    /// The reported bug: cluster-admin bound to every authenticated user, in a dump without the
    /// cluster-admin ClusterRole (`kubectl get clusterrolebindings` alone), passed 5.1.2, 5.1.4
    /// and 5.1.8 to 5.1.13. Kubernetes fixes cluster-admin's rules, so the verdicts are those
    /// of the same dump with the role.
    #[test]
    fn missing_cluster_admin_bound_to_everyone_fails_as_with_the_role_present() {
        let bindings = vec![
            crb("cluster-admin", "cluster-admin", group("system:masters")),
            crb(
                "everyone-admin",
                "cluster-admin",
                group("system:authenticated"),
            ),
        ];
        let mut with_role = bindings.clone();
        with_role.push(cluster_admin_role());
        let admin_limited = "k8s.rbac.cluster_admin_limited";
        for id in std::iter::once(admin_limited).chain(ACCESS.iter().copied()) {
            let without = run(&bindings, id);
            let with = run(&with_role, id);
            assert_eq!(with.status, Fail, "{id} with the role: {with:?}");
            assert_eq!(without.status, Fail, "{id} without the role: {without:?}");
            assert_eq!(objects(&without), objects(&with), "{id}");
            let mut expected = vec![obj("clusterrolebinding", "everyone-admin", Fail)];
            if id == admin_limited {
                expected.insert(0, obj("clusterrolebinding", "cluster-admin", Pass));
            }
            assert_eq!(objects(&without), expected, "{id}: {without:?}");
        }
    }

    /// A binding to a role that is neither in the dump nor one of Kubernetes' fixed defaults
    /// cannot be judged: each access check warns (never passes) naming the binding, the role
    /// and the kubectl command that adds roles to the dump. A RoleBinding's Role is looked up
    /// in the binding's own namespace only. 5.1.3 cannot see the role's rules either.
    #[test]
    fn missing_custom_role_warns_naming_it() {
        let items = vec![
            cluster_admin_role(),
            crb("cluster-admin", "cluster-admin", group("system:masters")),
            crb("ci-deployer", "deployer", user("ci")),
            // Role `reader` exists, but in another namespace than the binding.
            json!({"kind": "Role", "metadata": {"name": "reader", "namespace": "other"},
                "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]}),
            rb(
                "app",
                "app-reader",
                "Role",
                "reader",
                group("system:authenticated"),
            ),
            // Kubernetes' own binding to its own role: left out as when the role is present.
            crb(
                "system:kube-dns",
                "system:kube-dns",
                user("system:serviceaccount:kube-system:kube-dns"),
            ),
        ];
        for id in ACCESS {
            let r = run(&items, id);
            assert_eq!(r.status, Warn, "{id}: {r:?}");
            assert_eq!(
                objects(&r),
                [
                    obj("clusterrolebinding", "ci-deployer", Warn),
                    obj("rolebinding", "app/app-reader", Warn)
                ],
                "{id}: {r:?}"
            );
            let msg = r.message.clone().unwrap();
            assert!(msg.contains("ClusterRole deployer"), "{id}: {msg}");
            assert!(msg.contains("Role app/reader"), "{id}: {msg}");
            assert!(
                msg.contains("kubectl get clusterroles,roles --all-namespaces -o yaml"),
                "{id}: {msg}"
            );
            let deployer = &r.objects[0];
            let e = deployer.evidence.as_ref().unwrap();
            assert_eq!(e.field, "ClusterRole deployer", "{id}");
            let note = deployer.note.clone().unwrap();
            assert!(note.contains("not in the dump"), "{id}: {note}");
            assert!(
                note.contains("kubectl get clusterrole deployer -o yaml"),
                "{id}: {note}"
            );
            let note = r.objects[1].note.clone().unwrap();
            assert!(
                note.contains("kubectl get role reader -n app -o yaml"),
                "{id}: {note}"
            );
            assert!(note.contains("every user"), "{id}: {note}");
        }
        let r = run(&items, "k8s.rbac.no_wildcards");
        assert_eq!(r.status, Warn, "{r:?}");
        assert_eq!(
            objects(&r),
            [
                obj("clusterrole", "deployer", Warn),
                obj("role", "app/reader", Warn)
            ],
            "{r:?}"
        );
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("ci-deployer"));
    }

    /// A dump that holds every bound role is judged as before: by the roles' own rules.
    #[test]
    fn dump_with_the_roles_present_is_unchanged() {
        let items = vec![
            cluster_admin_role(),
            crb("cluster-admin", "cluster-admin", group("system:masters")),
            json!({"kind": "ClusterRole", "metadata": {"name": "secret-reader"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}]}),
            crb("ops-secrets", "secret-reader", user("ops")),
            // A dumped `view` that someone changed wins over Kubernetes' default.
            json!({"kind": "ClusterRole", "metadata": {"name": "view"},
                "rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]}),
            crb("everyone-view", "view", group("system:authenticated")),
        ];
        let r = run(&items, "k8s.rbac.secrets_access");
        assert_eq!(r.status, Fail, "{r:?}");
        assert_eq!(
            objects(&r),
            [
                obj("clusterrolebinding", "ops-secrets", Warn),
                obj("clusterrolebinding", "everyone-view", Fail)
            ]
        );
        assert_eq!(
            r.message.as_deref(),
            Some("1 of 2 clusterrolebindings fails (1 system:* bindings not shown)")
        );
        let e = r.objects[0].evidence.as_ref().unwrap();
        assert_eq!(
            (e.field.as_str(), e.actual.as_str(), e.expected.as_str()),
            (
                "ClusterRole secret-reader",
                "User ops",
                "only subjects that need to read secrets"
            )
        );
        assert_eq!(
            r.objects[0].note.as_deref(),
            Some("confirm these subjects need it")
        );
        assert_eq!(r.objects[1].note.as_deref(), Some("granted to every user"));
        for id in ["k8s.rbac.pod_create_access", "k8s.rbac.pv_create_access"] {
            let r = run(&items, id);
            assert_eq!(r.status, Pass, "{id}: {r:?}");
            assert_eq!(
                r.message.as_deref(),
                Some(
                    format!(
                        "no binding outside Kubernetes' own system:* bindings grants access to {} (1 system:* bindings not shown)",
                        if id.contains("pod") { "create pods" } else { "create persistent volumes" }
                    )
                    .as_str()
                )
            );
        }
        let r = run(&items, "k8s.rbac.no_wildcards");
        assert_eq!(r.status, Pass, "{r:?}");
    }

    /// `view`, `edit` and `admin` are judged by Kubernetes' default rules when the dump lacks
    /// them: `view` reads no secrets, so binding it to everyone fails nothing; `edit` and
    /// `admin` read secrets, create pods, impersonate service accounts and create their tokens.
    #[test]
    fn default_view_edit_admin_are_judged_by_their_known_rules() {
        let items = vec![
            crb("everyone-view", "view", group("system:authenticated")),
            rb("app", "dev-edit", "ClusterRole", "edit", user("dev")),
            rb("app", "lead-admin", "ClusterRole", "admin", user("lead")),
        ];
        let r = run(&items, "k8s.rbac.secrets_access");
        assert_eq!(r.status, Warn, "{r:?}");
        assert_eq!(
            objects(&r),
            [
                obj("rolebinding", "app/dev-edit", Warn),
                obj("rolebinding", "app/lead-admin", Warn)
            ],
            "view grants no secrets: {r:?}"
        );
        let note = r.objects[0].note.clone().unwrap();
        assert!(note.contains("default"), "{note}");
        for id in [
            "k8s.rbac.pod_create_access",
            "k8s.rbac.bind_impersonate_escalate",
            "k8s.rbac.sa_token_create_access",
        ] {
            let r = run(&items, id);
            assert_eq!(r.status, Warn, "{id}: {r:?}");
            assert_eq!(objects(&r).len(), 2, "{id}: {r:?}");
        }
        for id in [
            "k8s.rbac.pv_create_access",
            "k8s.rbac.node_proxy_access",
            "k8s.rbac.csr_approval_access",
            "k8s.rbac.webhook_config_access",
        ] {
            let r = run(&items, id);
            assert_eq!(r.status, Pass, "{id}: {r:?}");
        }
        // view alone, bound to everyone: nothing in 5.1.2 to report.
        let r = run(&items[..1], "k8s.rbac.secrets_access");
        assert_eq!(r.status, Pass, "{r:?}");
        assert!(r.objects.is_empty(), "{r:?}");
    }
}
