//! Kubernetes rules: pod security (per container, with the EFFECTIVE value of each setting: a
//! container's securityContext overrides the pod's), resources, service accounts, secrets, RBAC
//! and exposure. Init and ephemeral containers are checked like the others.

use super::{
    cap_name, clean_host_path, home_credentials, is_literal_secret, parse_image, runtime_socket,
    secret_patterns, sensitive_host_dir, KubernetesRule, Out, DANGEROUS_CAPS, SAFE_SYSCTLS,
};
use crate::config::Config;
use crate::model::Safety;
use bulkhead_sources::kubernetes::{Container, ContainerKind, Object, Origin, Pod};
use bulkhead_sources::yaml::{BoolDialect, Node, Schema};
use bulkhead_sources::Span;
use serde_json::json;

pub struct Ctx<'a> {
    pub objects: Vec<Object<'a>>,
    pub config: &'a Config,
}

impl<'a> Ctx<'a> {
    fn pods(&self) -> Vec<Pod<'a>> {
        self.objects.iter().filter_map(|o| o.pod()).collect()
    }
}

pub const REGISTRY: &[(&str, KubernetesRule)] = &[
    ("k8s-privileged", privileged),
    ("k8s-privilege-escalation", privilege_escalation),
    ("k8s-run-as-root", run_as_root),
    ("k8s-low-uid", low_uid),
    ("k8s-writable-root-fs", writable_root_fs),
    ("k8s-capabilities-not-dropped", capabilities_not_dropped),
    ("k8s-dangerous-capabilities", dangerous_capabilities),
    ("k8s-net-raw", net_raw),
    ("k8s-host-pid", host_pid),
    ("k8s-host-ipc", host_ipc),
    ("k8s-host-network", host_network),
    ("k8s-host-port", host_port),
    ("k8s-privileged-port", privileged_port),
    ("k8s-host-path", host_path),
    ("k8s-sensitive-mount", sensitive_mount),
    ("k8s-runtime-socket", runtime_socket_mount),
    ("k8s-proc-mount", proc_mount),
    ("k8s-unsafe-sysctls", unsafe_sysctls),
    ("k8s-seccomp", seccomp),
    ("k8s-apparmor", apparmor),
    ("k8s-selinux", selinux),
    ("k8s-windows-hostprocess", windows_hostprocess),
    ("k8s-cpu-limits", cpu_limits),
    ("k8s-memory-limits", memory_limits),
    ("k8s-sa-token-automount", sa_token_automount),
    ("k8s-default-service-account", default_service_account),
    ("k8s-image-latest", image_latest),
    ("k8s-image-not-pinned", image_not_pinned),
    ("k8s-image-pull-policy", image_pull_policy),
    ("k8s-untrusted-registry", untrusted_registry),
    ("k8s-env-secret", env_secret),
    ("k8s-env-from-secret", env_from_secret),
    ("k8s-configmap-secret", configmap_secret),
    ("k8s-secret-in-manifest", secret_in_manifest),
    ("k8s-probes", probes),
    ("k8s-default-namespace", default_namespace),
    ("k8s-no-network-policy", no_network_policy),
    ("k8s-exposed-service", exposed_service),
    ("k8s-ssh-port", ssh_port),
    ("k8s-host-aliases", host_aliases),
    ("k8s-host-users", host_users),
    ("k8s-rbac-wildcard", rbac_wildcard),
    ("k8s-rbac-secrets", rbac_secrets),
    ("k8s-rbac-cluster-admin", rbac_cluster_admin),
    ("k8s-rbac-pod-exec", rbac_pod_exec),
    ("k8s-rbac-escalate", rbac_escalate),
    ("k8s-rbac-system-groups", rbac_system_groups),
    ("k8s-tiller-dashboard", tiller_dashboard),
];

fn container_object(pod: &Pod<'_>, c: &Container<'_>) -> String {
    format!("{} {} {}", pod.object.display(), c.kind.label(), c.name())
}

/// Span to point at for a container: its `name:` value, else the container mapping.
fn container_span(c: &Container<'_>) -> Span {
    c.node.get("name").map(|n| n.span).unwrap_or(c.node.span)
}

/// Run `f` for every container of every pod.
fn each_container<'a>(ctx: &Ctx<'a>, mut f: impl FnMut(&Pod<'a>, &Container<'a>)) {
    for pod in ctx.pods() {
        for c in pod.containers() {
            f(&pod, &c);
        }
    }
}

fn origin_note(o: Origin) -> &'static str {
    match o {
        Origin::Container => "set on the container",
        Origin::Pod => "inherited from the pod securityContext",
        Origin::Unset => "not set",
    }
}

fn privileged(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        let e = pod.container_only(c, &["privileged"]);
        if e.as_bool() == Some(true) {
            let n = e.node.expect("bool read");
            let edit = out.yaml_set(c.node, &["securityContext"], "privileged", json!(false));
            out.hit(
                "k8s-privileged",
                n.span,
                container_object(pod, c),
                "securityContext.privileged: true",
            )
            .fix(
                "set privileged: false (grant specific capabilities instead)",
                Safety::Review,
                edit.into_iter().collect(),
            );
        }
    });
}

fn privilege_escalation(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        let e = pod.container_only(c, &["allowPrivilegeEscalation"]);
        if e.as_bool() == Some(false) {
            return;
        }
        let (span, msg) = match e.node {
            Some(n) => (n.span, "allowPrivilegeEscalation is not false"),
            None => (
                container_span(c),
                "allowPrivilegeEscalation is not set (it defaults to true)",
            ),
        };
        // The API server refuses `allowPrivilegeEscalation: false` beside `privileged: true` or
        // an added CAP_SYS_ADMIN (compared as written): such a container gets no fix here; taking
        // the privilege away (k8s-privileged, k8s-dangerous-capabilities) comes first.
        let sys_admin = pod
            .container_only(c, &["capabilities", "add"])
            .node
            .and_then(|n| n.as_seq())
            .is_some_and(|caps| caps.iter().any(|n| n.as_str() == Some("CAP_SYS_ADMIN")));
        let refused = pod.container_only(c, &["privileged"]).as_bool() == Some(true) || sys_admin;
        let fix = match refused {
            true => None,
            false => out.yaml_set(
                c.node,
                &["securityContext"],
                "allowPrivilegeEscalation",
                json!(false),
            ),
        };
        let msg = match refused {
            true => format!(
                "{msg}; it cannot be set to false while the container is {} (the API server refuses both together)",
                if sys_admin { "given CAP_SYS_ADMIN" } else { "privileged" }
            ),
            false => msg.to_string(),
        };
        let h = out.hit(
            "k8s-privilege-escalation",
            span,
            container_object(pod, c),
            msg,
        );
        if let Some(e) = fix {
            h.fix(
                "set allowPrivilegeEscalation: false",
                Safety::Review,
                vec![e],
            );
        }
    });
}

fn run_as_root(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        let non_root = pod.effective(c, &["runAsNonRoot"]);
        let user = pod.effective(c, &["runAsUser"]);
        let uid = user.as_i64();
        if uid == Some(0) {
            let n = user.node.expect("uid read");
            out.hit(
                "k8s-run-as-root",
                n.span,
                container_object(pod, c),
                format!("runAsUser is 0 ({})", origin_note(user.origin)),
            );
            return;
        }
        // A root primary group gives the processes group root's access to files (KSV-0116),
        // whatever the user.
        let group = pod.effective(c, &["runAsGroup"]);
        if group.as_i64() == Some(0) {
            out.hit(
                "k8s-run-as-root",
                group.node.expect("gid read").span,
                container_object(pod, c),
                format!(
                    "runAsGroup is 0: the processes run with the root group ({})",
                    origin_note(group.origin)
                ),
            );
        }
        if non_root.as_bool() == Some(true) || uid.is_some_and(|u| u > 0) {
            return;
        }
        let (span, msg) = match non_root.node {
            Some(n) => (n.span, format!("runAsNonRoot is not true ({})", origin_note(non_root.origin))),
            None => (container_span(c), "neither runAsNonRoot: true nor a non-zero runAsUser is set for this container or its pod".to_string()),
        };
        out.hit("k8s-run-as-root", span, container_object(pod, c), msg);
    });
    // The root group can also come from the pod's group settings, which no container can
    // override: fsGroup is added to the supplementary groups of every process of the pod (and
    // the volumes the kubelet manages are made group-owned and group-writable by it), and each
    // of supplementalGroups is one of those processes' groups. Either way they get the root
    // group's access to files, whatever their user.
    for pod in ctx.pods() {
        let Some(sc) = pod.security_context() else {
            continue;
        };
        let root = |n: &&Node| n.as_i64(Schema::Yaml11) == Some(0);
        if let Some(n) = sc.get("fsGroup").filter(root) {
            out.hit(
                "k8s-run-as-root",
                n.span,
                pod.object.display(),
                "fsGroup is 0: every process of the pod gets the root group as a supplementary group, and the volumes the kubelet manages become group-owned and group-writable by root",
            );
        }
        for n in sc
            .get("supplementalGroups")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter(root)
        {
            out.hit(
                "k8s-run-as-root",
                n.span,
                pod.object.display(),
                "supplementalGroups includes 0: every process of the pod runs with the root group as a supplementary group",
            );
        }
    }
}

fn low_uid(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        for field in ["runAsUser", "runAsGroup"] {
            let e = pod.effective(c, &[field]);
            if let Some(v) = e.as_i64() {
                if v > 0 && v <= 10000 {
                    out.hit(
                        "k8s-low-uid",
                        e.node.expect("read").span,
                        container_object(pod, c),
                        format!("{field} {v} is 10000 or below ({})", origin_note(e.origin)),
                    );
                }
            }
        }
    });
}

fn writable_root_fs(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        let e = pod.container_only(c, &["readOnlyRootFilesystem"]);
        if e.as_bool() == Some(true) {
            return;
        }
        let span = e.node.map(|n| n.span).unwrap_or(container_span(c));
        let fix = out.yaml_set(
            c.node,
            &["securityContext"],
            "readOnlyRootFilesystem",
            json!(true),
        );
        let h = out.hit(
            "k8s-writable-root-fs",
            span,
            container_object(pod, c),
            "readOnlyRootFilesystem is not true",
        );
        if let Some(e) = fix {
            h.fix(
                "set readOnlyRootFilesystem: true (mount emptyDir where the container writes)",
                Safety::Review,
                vec![e],
            );
        }
    });
}

fn caps<'a>(pod: &Pod<'a>, c: &Container<'a>, list: &str) -> Vec<(String, &'a Node)> {
    pod.container_only(c, &["capabilities", list])
        .node
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| Some((cap_name(n.as_str()?), n)))
        .collect()
}

fn capabilities_not_dropped(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        if !caps(pod, c, "drop").iter().any(|(n, _)| n == "ALL") {
            let span = pod
                .container_only(c, &["capabilities"])
                .node
                .map(|n| n.span)
                .unwrap_or(container_span(c));
            out.hit(
                "k8s-capabilities-not-dropped",
                span,
                container_object(pod, c),
                "capabilities.drop does not include ALL",
            );
        }
    });
}

fn dangerous_capabilities(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        for (cap, n) in caps(pod, c, "add") {
            if DANGEROUS_CAPS.contains(&cap.as_str()) {
                out.hit(
                    "k8s-dangerous-capabilities",
                    n.span,
                    container_object(pod, c),
                    format!("capabilities.add: {cap}"),
                );
            }
        }
    });
}

fn net_raw(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        if let Some((_, n)) = caps(pod, c, "add")
            .into_iter()
            .find(|(cap, _)| cap == "NET_RAW")
        {
            out.hit(
                "k8s-net-raw",
                n.span,
                container_object(pod, c),
                "capabilities.add: NET_RAW",
            );
            return;
        }
        let drops = caps(pod, c, "drop");
        if !drops.iter().any(|(n, _)| n == "ALL" || n == "NET_RAW") {
            out.hit(
                "k8s-net-raw",
                container_span(c),
                container_object(pod, c),
                "NET_RAW is not dropped",
            );
        }
    });
}

fn pod_flag(ctx: &Ctx<'_>, out: &mut Out<'_>, key: &str, rule: &'static str) {
    for pod in ctx.pods() {
        if let Some(n) = pod.spec.get(key) {
            if n.as_bool(BoolDialect::Kubernetes) == Some(true) {
                let edit = out.yaml_set(pod.spec, &[], key, json!(false));
                out.hit(rule, n.span, pod.object.display(), format!("{key}: true"))
                    .fix(
                        format!("set {key}: false"),
                        Safety::Review,
                        edit.into_iter().collect(),
                    );
            }
        }
    }
}

fn host_pid(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    pod_flag(ctx, out, "hostPID", "k8s-host-pid");
}
fn host_ipc(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    pod_flag(ctx, out, "hostIPC", "k8s-host-ipc");
}
fn host_network(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    pod_flag(ctx, out, "hostNetwork", "k8s-host-network");
}

fn ports<'a>(c: &Container<'a>) -> &'a [Node] {
    c.node.get("ports").and_then(Node::as_seq).unwrap_or(&[])
}

fn host_port(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        for p in ports(c) {
            if let Some(n) = p.get("hostPort") {
                if n.as_i64(Schema::Yaml11).is_some_and(|v| v > 0) {
                    out.hit(
                        "k8s-host-port",
                        n.span,
                        container_object(pod, c),
                        format!("hostPort {}", n.as_str().unwrap_or("")),
                    );
                }
            }
        }
    });
}

fn privileged_port(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        for p in ports(c) {
            if let Some(n) = p.get("containerPort") {
                if n.as_i64(Schema::Yaml11).is_some_and(|v| v > 0 && v < 1024) {
                    out.hit(
                        "k8s-privileged-port",
                        n.span,
                        container_object(pod, c),
                        format!("containerPort {} is below 1024", n.as_str().unwrap_or("")),
                    );
                }
            }
        }
    });
}

fn ssh_port(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        for p in ports(c) {
            if let Some(n) = p.get("containerPort") {
                if n.as_i64(Schema::Yaml11) == Some(22) {
                    out.hit(
                        "k8s-ssh-port",
                        n.span,
                        container_object(pod, c),
                        "containerPort 22 (SSH)",
                    );
                }
            }
        }
    });
}

/// hostPath volumes of a pod: (volume name, path, node of the path).
fn host_paths<'a>(pod: &Pod<'a>) -> Vec<(&'a str, &'a str, &'a Node)> {
    pod.spec
        .get("volumes")
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|v| {
            let p = v.path(&["hostPath", "path"])?;
            Some((
                v.get("name").and_then(Node::as_str).unwrap_or(""),
                p.as_str()?,
                p,
            ))
        })
        .collect()
}

/// hostPath volumes of other host paths than the sensitive ones (k8s-sensitive-mount) and the
/// runtime sockets (k8s-runtime-socket): each volume is reported by one of the three.
fn host_path(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        for (name, path, n) in host_paths(&pod) {
            if runtime_socket(path).is_some() || sensitive_host_dir(path).is_some() {
                continue;
            }
            out.hit(
                "k8s-host-path",
                n.span,
                pod.object.display(),
                format!("volume {name} mounts host path {path}"),
            );
        }
    }
}

/// hostPath volumes of `/`, of a sensitive directory of the node or below one, or of a parent
/// of such directories (`/var`), however the path is spelled (`//etc`, `/etc/.`). Runtime
/// sockets and the directories that hold them are k8s-runtime-socket's.
fn sensitive_mount(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        for (name, path, n) in host_paths(&pod) {
            if runtime_socket(path).is_some() {
                continue; // k8s-runtime-socket
            }
            let Some(why) = sensitive_host_dir(path) else {
                continue;
            };
            let mut message = format!(
                "volume {name} mounts host path {path} ({})",
                why.describe(path)
            );
            if let Some(what) = home_credentials(path) {
                message.push_str(&format!(
                    ": it holds {what}, which anything running in the pod can read and use"
                ));
            }
            out.hit("k8s-sensitive-mount", n.span, pod.object.display(), message);
        }
    }
}

fn runtime_socket_mount(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        for (name, path, n) in host_paths(&pod) {
            if let Some(what) = runtime_socket(path) {
                out.hit(
                    "k8s-runtime-socket",
                    n.span,
                    pod.object.display(),
                    format!("volume {name} mounts {path} ({what})"),
                );
            }
        }
    }
}

fn proc_mount(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        let e = pod.container_only(c, &["procMount"]);
        if e.as_str() == Some("Unmasked") {
            out.hit(
                "k8s-proc-mount",
                e.node.expect("read").span,
                container_object(pod, c),
                "procMount: Unmasked",
            );
        }
    });
    for pod in ctx.pods() {
        for (name, path, n) in host_paths(&pod) {
            let clean = clean_host_path(path);
            if clean == "/proc" || clean.starts_with("/proc/") {
                out.hit(
                    "k8s-proc-mount",
                    n.span,
                    pod.object.display(),
                    format!("volume {name} mounts the host's {path}"),
                );
            }
        }
    }
}

fn unsafe_sysctls(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        let list = pod
            .security_context()
            .and_then(|sc| sc.get("sysctls"))
            .and_then(Node::as_seq)
            .unwrap_or(&[]);
        for s in list {
            if let Some(n) = s.get("name") {
                let name = n.as_str().unwrap_or("");
                if !SAFE_SYSCTLS.contains(&name) {
                    out.hit(
                        "k8s-unsafe-sysctls",
                        n.span,
                        pod.object.display(),
                        format!("sysctl {name} is not in the safe set"),
                    );
                }
            }
        }
    }
}

fn seccomp(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        let e = pod.effective(c, &["seccompProfile", "type"]);
        match e.as_str() {
            Some("RuntimeDefault") | Some("Localhost") => {}
            Some(other) => {
                out.hit(
                    "k8s-seccomp",
                    e.node.expect("read").span,
                    container_object(pod, c),
                    format!("seccompProfile.type is {other} ({})", origin_note(e.origin)),
                );
            }
            None => {
                // the older annotation still counts
                let ann = pod
                    .metadata
                    .and_then(|m| m.path(&["annotations"]))
                    .and_then(|a| {
                        a.get(&format!(
                            "container.seccomp.security.alpha.kubernetes.io/{}",
                            c.name()
                        ))
                        .or_else(|| a.get("seccomp.security.alpha.kubernetes.io/pod"))
                    });
                match ann.and_then(Node::as_str) {
                    Some("runtime/default") | Some("docker/default") => {}
                    Some(v) if v.starts_with("localhost/") => {}
                    _ => {
                        out.hit(
                            "k8s-seccomp",
                            container_span(c),
                            container_object(pod, c),
                            "no seccomp profile is set for this container or its pod",
                        );
                    }
                }
            }
        }
    });
}

fn apparmor(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        if let Some((ty, n)) = pod.apparmor(c) {
            if !matches!(ty.as_str(), "RuntimeDefault" | "Localhost") {
                out.hit(
                    "k8s-apparmor",
                    n.span,
                    container_object(pod, c),
                    format!("AppArmor profile {ty}"),
                );
            }
        }
    });
}

fn selinux(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        let e = pod.effective(c, &["seLinuxOptions"]);
        let Some(opts) = e.node else { return };
        let ty = opts.get("type").and_then(Node::as_str);
        let bad_type = ty.is_some_and(|t| {
            !matches!(
                t,
                "container_t" | "container_init_t" | "container_kvm_t" | ""
            )
        });
        let user_role = ["user", "role"].iter().any(|k| {
            opts.get(k)
                .and_then(Node::as_str)
                .is_some_and(|v| !v.is_empty())
        });
        if bad_type || user_role {
            out.hit(
                "k8s-selinux",
                opts.span,
                container_object(pod, c),
                "seLinuxOptions sets a user, role or non-container type",
            );
        }
    });
}

fn windows_hostprocess(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        let e = pod.effective(c, &["windowsOptions", "hostProcess"]);
        if e.as_bool() == Some(true) {
            out.hit(
                "k8s-windows-hostprocess",
                e.node.expect("read").span,
                container_object(pod, c),
                "windowsOptions.hostProcess: true",
            );
        }
    });
}

fn resources(ctx: &Ctx<'_>, out: &mut Out<'_>, resource: &str, rule: &'static str) {
    each_container(ctx, |pod, c| {
        if c.kind == ContainerKind::Ephemeral {
            return; // ephemeral containers cannot have resources
        }
        let set = |k: &str| {
            c.node
                .path(&["resources", k, resource])
                .is_some_and(|n| !n.is_null())
        };
        // A limit alone also sets the request: Kubernetes copies a container's limit into its
        // request when the request is not given. A request alone caps nothing.
        let missing: Vec<&str> = match (set("requests"), set("limits")) {
            (_, true) => vec![],
            (true, false) => vec!["limits"],
            (false, false) => vec!["requests", "limits"],
        };
        if !missing.is_empty() {
            let span = c
                .node
                .get("resources")
                .map(|n| n.span)
                .unwrap_or(container_span(c));
            out.hit(
                rule,
                span,
                container_object(pod, c),
                format!("no {resource} {}", missing.join(" or ")),
            );
        }
    });
}

fn cpu_limits(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    resources(ctx, out, "cpu", "k8s-cpu-limits");
}
fn memory_limits(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    resources(ctx, out, "memory", "k8s-memory-limits");
}

fn sa_token_automount(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        match pod.spec.get("automountServiceAccountToken") {
            Some(n) if n.as_bool(BoolDialect::Kubernetes) == Some(false) => {}
            Some(n) => {
                let edit =
                    out.yaml_set(pod.spec, &[], "automountServiceAccountToken", json!(false));
                out.hit(
                    "k8s-sa-token-automount",
                    n.span,
                    pod.object.display(),
                    "automountServiceAccountToken is not false",
                )
                .fix(
                    "set automountServiceAccountToken: false",
                    Safety::Review,
                    edit.into_iter().collect(),
                );
            }
            None => {
                let fix = out.yaml_set(pod.spec, &[], "automountServiceAccountToken", json!(false));
                let h = out.hit(
                    "k8s-sa-token-automount",
                    pod.object
                        .node
                        .get("kind")
                        .map(|k| k.span)
                        .unwrap_or(pod.spec.span),
                    pod.object.display(),
                    "automountServiceAccountToken is not set to false",
                );
                if let Some(e) = fix {
                    h.fix(
                        "add automountServiceAccountToken: false",
                        Safety::Review,
                        vec![e],
                    );
                }
            }
        }
    }
    // ServiceAccount objects that mount by default are a pod setting too
    for o in &ctx.objects {
        if o.kind() == "ServiceAccount" {
            if let Some(n) = o.node.get("automountServiceAccountToken") {
                if n.as_bool(BoolDialect::Kubernetes) == Some(true) {
                    out.hit(
                        "k8s-sa-token-automount",
                        n.span,
                        o.display(),
                        "the service account mounts its token into every pod",
                    );
                }
            }
        }
    }
}

fn default_service_account(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        let sa = pod
            .spec
            .get("serviceAccountName")
            .or_else(|| pod.spec.get("serviceAccount"));
        match sa {
            Some(n) if n.as_str().is_some_and(|v| v != "default" && !v.is_empty()) => {}
            Some(n) => {
                out.hit(
                    "k8s-default-service-account",
                    n.span,
                    pod.object.display(),
                    "serviceAccountName is default",
                );
            }
            None => {
                out.hit(
                    "k8s-default-service-account",
                    pod.object
                        .node
                        .get("kind")
                        .map(|k| k.span)
                        .unwrap_or(pod.spec.span),
                    pod.object.display(),
                    "no serviceAccountName: the pod uses the default service account",
                );
            }
        }
    }
    for o in &ctx.objects {
        if matches!(o.kind(), "RoleBinding" | "ClusterRoleBinding") {
            for s in o.node.get("subjects").and_then(Node::as_seq).unwrap_or(&[]) {
                if s.get("kind").and_then(Node::as_str) == Some("ServiceAccount")
                    && s.get("name").and_then(Node::as_str) == Some("default")
                {
                    out.hit(
                        "k8s-default-service-account",
                        s.span,
                        o.display(),
                        "a role is bound to the default service account",
                    );
                }
            }
        }
    }
}

fn images<'a>(c: &Container<'a>) -> Option<(&'a str, &'a Node)> {
    let n = c.node.get("image")?;
    Some((n.as_str()?, n))
}

fn mutable(image: &str) -> Option<&'static str> {
    let r = parse_image(image);
    if r.digest.is_some() || image.contains('$') {
        return None;
    }
    match r.tag.as_deref() {
        None => Some("has no tag (latest)"),
        Some("latest") => Some("uses the latest tag"),
        _ => None,
    }
}

fn image_latest(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        if let Some((image, n)) = images(c) {
            if let Some(why) = mutable(image) {
                out.hit(
                    "k8s-image-latest",
                    n.span,
                    container_object(pod, c),
                    format!("image {image} {why}"),
                );
            }
        }
    });
}

/// Every image that names no digest: a tag (any tag, `latest` included) is a pointer the registry
/// can move, so the nodes may run other content than the one reviewed. Images built from
/// variables (`$(IMAGE)`, `${TAG}`) are left alone, as their value is not in the file.
fn image_not_pinned(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        if let Some((image, n)) = images(c) {
            if image.trim().is_empty() || image.contains('$') {
                return;
            }
            if parse_image(image).digest.is_some_and(|d| !d.is_empty()) {
                return;
            }
            out.hit(
                "k8s-image-not-pinned",
                n.span,
                container_object(pod, c),
                format!(
                    "image {image} is not pinned by digest: the registry can point its tag at other content"
                ),
            );
        }
    });
}

/// The pull policy the API server gives a container that sets none: `Always` for an image tagged
/// `latest` or not tagged at all (no digest either), `IfNotPresent` for any other tag or a digest.
fn defaulted_pull_policy(image: &str) -> &'static str {
    let r = parse_image(image);
    match (r.tag.as_deref(), r.digest.is_some()) {
        (Some("latest"), _) | (None, false) => "Always",
        _ => "IfNotPresent",
    }
}

fn image_pull_policy(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        if let Some((image, n)) = images(c) {
            let pinned = parse_image(image).digest.is_some();
            if pinned || image.contains('$') {
                return;
            }
            let message = match c.node.get("imagePullPolicy").and_then(Node::as_str) {
                Some("Always") => return,
                Some(policy) => format!(
                    "image {image} is a mutable tag and imagePullPolicy is {policy}, so a node keeps the image it pulled first"
                ),
                None => match defaulted_pull_policy(image) {
                    "Always" => return,
                    policy => format!(
                        "image {image} is a mutable tag and imagePullPolicy is not set, which Kubernetes turns into {policy} for a tag other than latest, so a node keeps the image it pulled first"
                    ),
                },
            };
            out.hit(
                "k8s-image-pull-policy",
                n.span,
                container_object(pod, c),
                message,
            );
        }
    });
}

fn untrusted_registry(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    if ctx.config.trusted_registries.is_empty() {
        return;
    }
    each_container(ctx, |pod, c| {
        if let Some((image, n)) = images(c) {
            if !super::dockerfile::trusted(image, &ctx.config.trusted_registries) {
                out.hit(
                    "k8s-untrusted-registry",
                    n.span,
                    container_object(pod, c),
                    format!("image {image} is not from a trusted registry"),
                );
            }
        }
    });
}

fn env_secret(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        for e in c.node.get("env").and_then(Node::as_seq).unwrap_or(&[]) {
            let name = e.get("name").and_then(Node::as_str).unwrap_or("");
            if let Some(v) = e.get("value") {
                let value = v.as_str().unwrap_or("");
                let pattern = secret_patterns(value).first().map(|p| p.2);
                if is_literal_secret(name, value) || pattern.is_some() {
                    let msg = match pattern {
                        Some(what) => format!("env {name} holds {what}"),
                        None => format!("env {name} holds a literal secret value"),
                    };
                    out.hit("k8s-env-secret", v.span, container_object(pod, c), msg)
                        .secret(v.span);
                }
            }
        }
    });
}

/// `valueFrom.secretKeyRef` (and `envFrom.secretRef`): the value stays out of the manifest, but
/// lives in the process environment. Advice, at low severity; a literal value is
/// `k8s-env-secret`.
fn env_from_secret(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        for e in c.node.get("env").and_then(Node::as_seq).unwrap_or(&[]) {
            let name = e.get("name").and_then(Node::as_str).unwrap_or("");
            if e.get("value").is_some() {
                continue;
            }
            if let Some(r) = e.path(&["valueFrom", "secretKeyRef"]) {
                out.hit(
                    "k8s-env-from-secret",
                    r.span,
                    container_object(pod, c),
                    format!("env {name} reads a Secret into an environment variable"),
                );
            }
        }
        for e in c.node.get("envFrom").and_then(Node::as_seq).unwrap_or(&[]) {
            if let Some(r) = e.get("secretRef") {
                let secret = r.get("name").and_then(Node::as_str).unwrap_or("");
                out.hit(
                    "k8s-env-from-secret",
                    r.span,
                    container_object(pod, c),
                    format!(
                        "envFrom reads every key of Secret {secret} into environment variables"
                    ),
                );
            }
        }
    });
}

fn configmap_secret(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        if o.kind() != "ConfigMap" {
            continue;
        }
        for (k, v) in o.node.get("data").and_then(Node::as_map).unwrap_or(&[]) {
            let key = k.as_str().unwrap_or("");
            let value = v.as_str().unwrap_or("");
            let pattern = secret_patterns(value);
            if let Some((a, b, what)) = pattern.first().copied() {
                let mut s = v.span;
                let text = v.span.text(out.text);
                let inner = &value[a..b];
                if let Some(i) = text.find(inner) {
                    s.start.offset = v.span.start.offset + i;
                    s.end.offset = s.start.offset + inner.len();
                }
                out.hit(
                    "k8s-configmap-secret",
                    v.span,
                    o.display(),
                    format!("data {key} holds {what}"),
                )
                .secret(s);
            } else if is_literal_secret(key, value) && !value.contains('\n') {
                out.hit(
                    "k8s-configmap-secret",
                    v.span,
                    o.display(),
                    format!("data {key} looks like a secret value"),
                )
                .secret(v.span);
            }
        }
    }
}

fn secret_in_manifest(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        if o.kind() != "Secret" {
            continue;
        }
        for field in ["data", "stringData"] {
            for (k, v) in o.node.get(field).and_then(Node::as_map).unwrap_or(&[]) {
                if v.as_str().is_some_and(|s| !s.is_empty()) {
                    let key = k.as_str().unwrap_or("");
                    out.hit(
                        "k8s-secret-in-manifest",
                        v.span,
                        o.display(),
                        format!("{field}.{key} holds a secret value"),
                    )
                    .secret(v.span);
                }
            }
        }
    }
}

fn probes(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        if matches!(pod.object.kind(), "Job" | "CronJob") {
            continue; // run-to-completion workloads do not serve
        }
        for c in pod
            .containers()
            .iter()
            .filter(|c| c.kind == ContainerKind::Container)
        {
            let missing: Vec<&str> = ["livenessProbe", "readinessProbe"]
                .into_iter()
                .filter(|p| c.node.get(p).is_none())
                .collect();
            if !missing.is_empty() {
                out.hit(
                    "k8s-probes",
                    container_span(c),
                    container_object(&pod, c),
                    format!("no {}", missing.join(" or ")),
                );
            }
        }
    }
}

fn default_namespace(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        if let Some(n) = o.node.path(&["metadata", "namespace"]) {
            if n.as_str() == Some("default") {
                out.hit(
                    "k8s-default-namespace",
                    n.span,
                    o.display(),
                    "metadata.namespace is default",
                );
            }
        }
    }
}

/// Emitted for every pod; the engine drops those whose namespace has a NetworkPolicy in any
/// scanned file (a cross-file fact).
fn no_network_policy(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        let ns = pod.object.namespace().unwrap_or("default");
        out.hit(
            "k8s-no-network-policy",
            pod.object
                .node
                .get("kind")
                .map(|k| k.span)
                .unwrap_or(pod.spec.span),
            pod.object.display(),
            format!("no NetworkPolicy in the scanned files applies to namespace {ns}"),
        );
    }
}

fn exposed_service(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        if o.kind() != "Service" {
            continue;
        }
        if let Some(t) = o.node.path(&["spec", "type"]) {
            if matches!(t.as_str(), Some("NodePort") | Some("LoadBalancer")) {
                out.hit(
                    "k8s-exposed-service",
                    t.span,
                    o.display(),
                    format!("type {}", t.as_str().unwrap_or("")),
                );
            }
        }
        if let Some(ips) = o.node.path(&["spec", "externalIPs"]).and_then(Node::as_seq) {
            if !ips.is_empty() {
                out.hit(
                    "k8s-exposed-service",
                    ips[0].span,
                    o.display(),
                    "externalIPs set",
                );
            }
        }
    }
}

fn host_aliases(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        if let Some(n) = pod
            .spec
            .get("hostAliases")
            .filter(|n| n.as_seq().is_some_and(|s| !s.is_empty()))
        {
            out.hit(
                "k8s-host-aliases",
                n.span,
                pod.object.display(),
                "hostAliases rewrite /etc/hosts",
            );
        }
    }
}

fn host_users(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for pod in ctx.pods() {
        match pod.spec.get("hostUsers") {
            Some(n) if n.as_bool(BoolDialect::Kubernetes) == Some(false) => {}
            Some(n) => {
                out.hit(
                    "k8s-host-users",
                    n.span,
                    pod.object.display(),
                    "hostUsers is not false",
                );
            }
            None => {
                out.hit(
                    "k8s-host-users",
                    pod.object
                        .node
                        .get("kind")
                        .map(|k| k.span)
                        .unwrap_or(pod.spec.span),
                    pod.object.display(),
                    "hostUsers: false is not set",
                );
            }
        }
    }
}

// ---- RBAC ----

fn rules_of<'a>(o: &Object<'a>) -> &'a [Node] {
    if !matches!(o.kind(), "Role" | "ClusterRole") {
        return &[];
    }
    o.node.get("rules").and_then(Node::as_seq).unwrap_or(&[])
}

fn words<'a>(rule: &'a Node, key: &str) -> Vec<&'a str> {
    rule.get(key)
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(Node::as_str)
        .collect()
}

fn rbac_wildcard(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        for r in rules_of(o) {
            let wild: Vec<&str> = ["verbs", "resources", "apiGroups"]
                .into_iter()
                .filter(|k| words(r, k).contains(&"*"))
                .collect();
            if !wild.is_empty() {
                out.hit(
                    "k8s-rbac-wildcard",
                    r.span,
                    o.display(),
                    format!("* in {}", wild.join(", ")),
                );
            }
        }
    }
}

/// The core API group, which `apiGroups` spells `""`.
const CORE: &str = "";
const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
const AUTHN_GROUP: &str = "authentication.k8s.io";

/// Whether the rule covers API group `group`: its `apiGroups` lists it or `*`. A rule without
/// `apiGroups` (which the API server rejects, so a fragment or template) is taken to cover every
/// group rather than to hide what its resources name.
fn covers_group(r: &Node, group: &str) -> bool {
    if r.get("apiGroups").is_none() {
        return true;
    }
    let g = words(r, "apiGroups");
    g.contains(&"*") || g.contains(&group)
}

/// Whether the rule allows one of `verbs` on one of `resources`, each named with its API group:
/// a resource is covered only when the rule's `apiGroups` covers that group too (`secrets` in a
/// rule for `apps` is another, nonexistent resource).
fn grants(r: &Node, resources: &[(&str, &str)], verbs: &[&str]) -> bool {
    let res = words(r, "resources");
    let v = words(r, "verbs");
    resources
        .iter()
        .any(|(g, x)| covers_group(r, g) && (res.contains(&"*") || res.contains(x)))
        && (v.contains(&"*") || verbs.iter().any(|x| v.contains(x)))
}

fn rbac_secrets(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        for r in rules_of(o) {
            if grants(r, &[(CORE, "secrets")], &["get", "list", "watch"])
                && words(r, "resourceNames").is_empty()
            {
                out.hit(
                    "k8s-rbac-secrets",
                    r.span,
                    o.display(),
                    "the role can read secrets",
                );
            }
        }
    }
}

fn role_ref<'a>(o: &Object<'a>) -> Option<(&'a str, &'a Node)> {
    let n = o.node.path(&["roleRef", "name"])?;
    Some((n.as_str()?, n))
}

fn rbac_cluster_admin(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        if matches!(o.kind(), "RoleBinding" | "ClusterRoleBinding") {
            if let Some(("cluster-admin", n)) = role_ref(o) {
                out.hit(
                    "k8s-rbac-cluster-admin",
                    n.span,
                    o.display(),
                    "binds cluster-admin",
                );
            }
        }
    }
}

fn rbac_pod_exec(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        for r in rules_of(o) {
            if grants(
                r,
                &[(CORE, "pods/exec"), (CORE, "pods/attach")],
                &["create", "get"],
            ) || grants(
                r,
                &[
                    (CORE, "pods"),
                    ("apps", "deployments"),
                    ("apps", "daemonsets"),
                    ("apps", "statefulsets"),
                    ("apps", "replicasets"),
                    // Served by clusters before 1.16; roles still list it.
                    ("extensions", "deployments"),
                    ("extensions", "daemonsets"),
                    ("extensions", "replicasets"),
                    ("batch", "jobs"),
                    ("batch", "cronjobs"),
                ],
                &["create"],
            ) {
                out.hit(
                    "k8s-rbac-pod-exec",
                    r.span,
                    o.display(),
                    "the role can create workloads or exec into pods",
                );
            }
        }
    }
}

fn rbac_escalate(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        for r in rules_of(o) {
            let v = words(r, "verbs");
            let bad: Vec<&str> = ["bind", "escalate", "impersonate"]
                .into_iter()
                .filter(|x| v.contains(x))
                .collect();
            if !bad.is_empty() {
                out.hit(
                    "k8s-rbac-escalate",
                    r.span,
                    o.display(),
                    format!("verbs {}", bad.join(", ")),
                );
                continue;
            }
            // `verbs: ["*"]` includes bind and escalate on the roles it covers (in the RBAC API
            // group) and impersonate on users, groups and service accounts (core group) and on
            // uids and user extras (authentication.k8s.io); on other groups' resources it
            // includes neither.
            if v.contains(&"*") {
                let mut implied = Vec::new();
                if grants(
                    r,
                    &[(RBAC_GROUP, "roles"), (RBAC_GROUP, "clusterroles")],
                    &["*"],
                ) {
                    implied.extend(["bind", "escalate"]);
                }
                if grants(
                    r,
                    &[
                        (CORE, "users"),
                        (CORE, "groups"),
                        (CORE, "serviceaccounts"),
                        (AUTHN_GROUP, "uids"),
                        (AUTHN_GROUP, "userextras"),
                    ],
                    &["*"],
                ) || (covers_group(r, AUTHN_GROUP)
                    && words(r, "resources")
                        .iter()
                        .any(|x| x.starts_with("userextras/")))
                {
                    implied.push("impersonate");
                }
                if !implied.is_empty() {
                    out.hit(
                        "k8s-rbac-escalate",
                        r.span,
                        o.display(),
                        format!("verbs * (includes {})", implied.join(", ")),
                    );
                }
            }
        }
    }
}

fn rbac_system_groups(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    for o in &ctx.objects {
        if !matches!(o.kind(), "RoleBinding" | "ClusterRoleBinding") {
            continue;
        }
        for s in o.node.get("subjects").and_then(Node::as_seq).unwrap_or(&[]) {
            let name = s.get("name").and_then(Node::as_str).unwrap_or("");
            if matches!(
                name,
                "system:anonymous" | "system:unauthenticated" | "system:masters"
            ) {
                out.hit(
                    "k8s-rbac-system-groups",
                    s.span,
                    o.display(),
                    format!("binds {name}"),
                );
            } else if name == "system:authenticated"
                && role_ref(o).is_some_and(|(r, _)| !r.starts_with("system:"))
            {
                out.hit(
                    "k8s-rbac-system-groups",
                    s.span,
                    o.display(),
                    "binds a custom role to every authenticated user (system:authenticated)",
                );
            }
        }
    }
}

fn tiller_dashboard(ctx: &Ctx<'_>, out: &mut Out<'_>) {
    each_container(ctx, |pod, c| {
        if let Some((image, n)) = images(c) {
            let l = image.to_ascii_lowercase();
            if l.contains("tiller")
                || l.contains("kubernetes-dashboard")
                || l.contains("kubernetesui/dashboard")
            {
                out.hit(
                    "k8s-tiller-dashboard",
                    n.span,
                    container_object(pod, c),
                    format!("image {image}"),
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulkhead_sources::kubernetes::objects;
    use bulkhead_sources::LineIndex;

    /// (rule, message) of the hostPath rules on a pod with one hostPath volume per path.
    fn host_path_hits(paths: &[&str]) -> Vec<(&'static str, String)> {
        let volumes: String = paths
            .iter()
            .enumerate()
            .map(|(i, p)| format!("  - name: v{i}\n    hostPath: {{path: '{p}'}}\n"))
            .collect();
        let text = format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers: [{{name: c, image: x:1}}]\n  volumes:\n{volumes}"
        );
        let docs = bulkhead_sources::yaml::parse(&text).unwrap();
        let config = Config::default();
        let ctx = Ctx {
            objects: objects(&docs),
            config: &config,
        };
        let lines = LineIndex::new(&text);
        let mut out = Out::new(&text, &lines);
        for (id, f) in REGISTRY {
            if matches!(
                *id,
                "k8s-host-path" | "k8s-sensitive-mount" | "k8s-runtime-socket"
            ) {
                f(&ctx, &mut out);
            }
        }
        let mut hits: Vec<(usize, &'static str, String)> = out
            .hits
            .into_iter()
            .map(|h| (h.span.start.line as usize, h.rule, h.message))
            .collect();
        hits.sort();
        hits.into_iter().map(|(_, r, m)| (r, m)).collect()
    }

    #[test]
    fn each_host_path_volume_is_reported_by_one_rule() {
        let paths = [
            "/",
            "/etc",
            "/data",
            "/var/run/docker.sock",
            "/var",
            "/srv/app",
            "/run/containerd",
        ];
        let rules: Vec<&str> = host_path_hits(&paths).iter().map(|(r, _)| *r).collect();
        assert_eq!(
            rules,
            [
                "k8s-sensitive-mount",
                "k8s-sensitive-mount",
                "k8s-host-path",
                "k8s-runtime-socket",
                "k8s-sensitive-mount",
                "k8s-host-path",
                "k8s-runtime-socket",
            ]
        );
    }

    #[test]
    fn sensitive_host_paths_are_recognised_in_every_spelling() {
        for p in ["/etc", "/etc/", "//etc", "/etc/.", "/./etc", "/srv/../etc"] {
            let hits = host_path_hits(&[p]);
            assert_eq!(hits.len(), 1, "{p}: {hits:?}");
            assert_eq!(hits[0].0, "k8s-sensitive-mount", "{p}");
            // The message shows the path as written, and what it holds.
            assert!(
                hits[0].1.contains(&format!("host path {p} ")) && hits[0].1.contains("credentials"),
                "{p}: {}",
                hits[0].1
            );
        }
        for p in ["//var/run/docker.sock", "/var/run/.", "/run/containerd/"] {
            let hits = host_path_hits(&[p]);
            let rules: Vec<&str> = hits.iter().map(|(r, _)| *r).collect();
            assert_eq!(rules, ["k8s-runtime-socket"], "{p}");
        }
    }

    #[test]
    fn messages_explain_why_the_path_is_sensitive() {
        let hits = host_path_hits(&["/", "/var", "/var/lib/kubelet", "/root/.ssh", "/usr/bin"]);
        let m: Vec<&str> = hits.iter().map(|(_, m)| m.as_str()).collect();
        assert!(m[0].contains("whole file system"), "{}", m[0]);
        assert!(
            m[1].contains("parent")
                && m[1].contains("/var/run")
                && m[1].contains("/var/lib/kubelet"),
            "{}",
            m[1]
        );
        assert!(m[2].contains("kubelet's credentials"), "{}", m[2]);
        assert!(m[3].contains("SSH private keys"), "{}", m[3]);
        assert!(m[4].contains("inside /usr"), "{}", m[4]);
    }
}
