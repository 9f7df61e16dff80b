//! Compose rules: the runtime settings of CIS Docker section 5, per service, read the way
//! compose-go reads them (booleans such as `"yes"` included).

use super::{
    cap_name, home_credentials, is_literal_secret, parse_image, runtime_socket, secret_patterns,
    sensitive_host_dir, ComposeRule, Out, SensitiveDir, DANGEROUS_CAPS, SAFE_SYSCTLS,
};
use crate::model::Safety;
use bulkhead_sources::compose::{interpolate_defaults, Service};
use bulkhead_sources::yaml::{BoolDialect, Document, Node, NodeKind, Scalar, Schema};
use serde_json::json;

pub struct Ctx<'a> {
    /// The services as compose reads them with no variable set (see [`with_variable_defaults`]).
    pub services: Vec<Service<'a>>,
    /// The same services as written, for a rule that says which variable a value came from.
    pub written: Vec<Service<'a>>,
}

/// The documents as compose reads them when no variable is set: compose substitutes variables
/// in every string value before it reads any setting, so `privileged: ${PRIV:-true}` is
/// privileged and `- ${SOCK:-/var/run/docker.sock}:/var/run/docker.sock` mounts the socket.
/// Keys are not substituted, as in compose. A value that needs a variable without a default
/// keeps its text: what it becomes is for the deploying environment to say. Spans stay those
/// of the text as written, so findings and fixes point at it.
pub fn with_variable_defaults(docs: &[Document]) -> Vec<Document> {
    docs.iter()
        .map(|d| Document {
            root: substitute_defaults(&d.root),
            ..d.clone()
        })
        .collect()
}

pub(crate) fn substitute_defaults(node: &Node) -> Node {
    let kind = match &node.kind {
        NodeKind::Scalar(s) if s.value.contains('$') => match interpolate_defaults(&s.value) {
            Some(resolved) => NodeKind::Scalar(Scalar {
                value: resolved.value,
                ..s.clone()
            }),
            None => node.kind.clone(),
        },
        NodeKind::Scalar(_) => node.kind.clone(),
        NodeKind::Seq(items) => NodeKind::Seq(items.iter().map(substitute_defaults).collect()),
        NodeKind::Map(entries) => NodeKind::Map(
            entries
                .iter()
                .map(|(k, v)| (k.clone(), substitute_defaults(v)))
                .collect(),
        ),
    };
    Node {
        kind,
        span: node.span,
    }
}

pub const REGISTRY: &[(&str, ComposeRule)] = &[
    ("compose-privileged", privileged),
    ("compose-no-new-privileges", no_new_privileges),
    ("compose-user-root", user_root),
    ("compose-user-unset", user_unset),
    ("compose-read-only", read_only),
    ("compose-cap-drop", cap_drop),
    ("compose-cap-add", cap_add),
    ("compose-host-pid", host_pid),
    ("compose-host-ipc", host_ipc),
    ("compose-host-network", host_network),
    ("compose-host-uts", host_uts),
    ("compose-userns-host", userns_host),
    ("compose-port-all-interfaces", port_all_interfaces),
    ("compose-privileged-port", privileged_port),
    ("compose-ssh-port", ssh_port),
    ("compose-sensitive-mount", sensitive_mount),
    ("compose-runtime-socket", runtime_socket_mount),
    ("compose-host-devices", host_devices),
    ("compose-sysctls", sysctls),
    ("compose-seccomp-unconfined", seccomp_unconfined),
    ("compose-apparmor-unconfined", apparmor_unconfined),
    ("compose-selinux-disabled", selinux_disabled),
    ("compose-memory-limit", memory_limit),
    ("compose-cpu-limit", cpu_limit),
    ("compose-pids-limit", pids_limit),
    ("compose-secret-env", secret_env),
    ("compose-latest-tag", latest_tag),
    ("compose-pull-policy", pull_policy),
    ("compose-healthcheck", healthcheck),
    ("compose-default-bridge", default_bridge),
];

/// Rules whose finding is "a secret is written in this file". In a compose project (see
/// [`crate::compose_project`]) they judge each file as written, not the merged model: an
/// override that replaces the value does not take it out of the base file, which is committed
/// and ships as it is, and a value a service inherits through `extends` is written once, in
/// the service that writes it.
pub const AS_WRITTEN: &[&str] = &["compose-secret-env"];

fn object(s: &Service<'_>) -> String {
    format!("service {}", s.name)
}

fn flag(s: &Service<'_>, key: &str) -> Option<bool> {
    s.get(key)?.as_bool(BoolDialect::Compose)
}

fn strings(n: Option<&Node>) -> Vec<&Node> {
    match n {
        Some(n) => match n.as_seq() {
            Some(items) => items.iter().filter(|i| i.as_str().is_some()).collect(),
            None if n.as_str().is_some() => vec![n],
            None => Vec::new(),
        },
        None => Vec::new(),
    }
}

fn security_opts<'a>(s: &Service<'a>) -> Vec<(&'a Node, String)> {
    strings(s.get("security_opt"))
        .into_iter()
        .map(|n| {
            (
                n,
                n.as_str()
                    .unwrap_or("")
                    .replace('=', ":")
                    .to_ascii_lowercase(),
            )
        })
        .collect()
}

fn privileged(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        if flag(s, "privileged") == Some(true) {
            let n = s.get("privileged").expect("read above");
            let edit = out.compose_set(s, "privileged", json!(false));
            out.hit(
                "compose-privileged",
                n.span,
                object(s),
                "privileged: true gives the service every capability and host device",
            )
            .fix(
                "set privileged: false (grant specific capabilities instead)",
                Safety::Review,
                edit.into_iter().collect(),
            );
        }
    }
}

fn no_new_privileges(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        let opts = security_opts(s);
        let set = opts
            .iter()
            .any(|(_, o)| o == "no-new-privileges" || o == "no-new-privileges:true");
        if set {
            continue;
        }
        // PITFALLS CIS Docker 14: `no-new-privileges:false` is not a pass.
        let explicit_false = opts.iter().find(|(_, o)| o == "no-new-privileges:false");
        let (span, msg) = match explicit_false {
            Some((n, _)) => (n.span, "security_opt sets no-new-privileges:false"),
            None => (
                s.key.span,
                "security_opt does not set no-new-privileges:true",
            ),
        };
        // The shared compose edit: replace the `false` in place, or add the option to the list.
        let value = explicit_false.map(|(n, _)| *n);
        let fix = out.compose_edit(s, value, |text, _, _, name| {
            crate::fixes::compose::no_new_privileges(text, name)
                .ok()
                .flatten()
        });
        out.hit("compose-no-new-privileges", span, object(s), msg)
            .fix(
                "set no-new-privileges:true",
                Safety::Review,
                fix.into_iter().collect(),
            );
    }
}

fn user_value<'a>(s: &Service<'a>) -> Option<(&'a Node, String)> {
    let n = s.get("user")?;
    let v = match n.as_scalar() {
        Some(_) => n.as_str()?.to_string(),
        None => return None,
    };
    Some((n, v))
}

fn user_root(c: &Ctx<'_>, out: &mut Out<'_>) {
    // As written: the message says when the value comes from a variable's default.
    for s in &c.written {
        if let Some((n, v)) = user_value(s) {
            // `${APP_UID:-0}` is root wherever APP_UID is not set; a variable without a default
            // is for the deploying environment to say.
            let Some(resolved) = interpolate_defaults(&v) else {
                continue;
            };
            if bulkhead_sources::dockerfile::is_root_user(&resolved.value) {
                let message = if resolved.defaulted.is_empty() {
                    format!("user: {v} runs the service as root")
                } else {
                    format!(
                        "user: {v} runs the service as root when {} is not set: the value {} comes from the default",
                        resolved.defaulted.join(", "),
                        resolved.value
                    )
                };
                let edit = out.compose_set(s, "user", json!("10001:10001"));
                out.hit("compose-user-root", n.span, object(s), message)
                    .fix(
                        "run as uid 10001 (make sure the service works unprivileged)",
                        Safety::Review,
                        edit.into_iter().collect(),
                    );
            }
        }
    }
}

fn user_unset(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        if s.get("user").is_none() {
            out.hit(
                "compose-user-unset",
                s.key.span,
                object(s),
                "no user: the service runs as the image's user",
            );
        }
    }
}

fn read_only(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        match s.get("read_only") {
            Some(n) if n.as_bool(BoolDialect::Compose) == Some(true) => {}
            Some(n) => {
                let edit = out.compose_set(s, "read_only", json!(true));
                out.hit(
                    "compose-read-only",
                    n.span,
                    object(s),
                    "read_only is not true",
                )
                .fix(
                    "set read_only: true (mount tmpfs where the service writes)",
                    Safety::Review,
                    edit.into_iter().collect(),
                );
            }
            None => {
                let fix = out.compose_set(s, "read_only", json!(true));
                let h = out.hit(
                    "compose-read-only",
                    s.key.span,
                    object(s),
                    "read_only: true is not set",
                );
                if let Some(e) = fix {
                    h.fix(
                        "add read_only: true (mount tmpfs where the service writes)",
                        Safety::Review,
                        vec![e],
                    );
                }
            }
        }
    }
}

fn cap_drop(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        let drops: Vec<String> = strings(s.get("cap_drop"))
            .iter()
            .filter_map(|n| n.as_str())
            .map(cap_name)
            .collect();
        if !drops.iter().any(|d| d == "ALL") {
            let span = s.get("cap_drop").map(|n| n.span).unwrap_or(s.key.span);
            out.hit(
                "compose-cap-drop",
                span,
                object(s),
                "cap_drop does not include ALL",
            );
        }
    }
}

fn cap_add(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        for n in strings(s.get("cap_add")) {
            let cap = cap_name(n.as_str().unwrap_or(""));
            if DANGEROUS_CAPS.contains(&cap.as_str()) {
                out.hit(
                    "compose-cap-add",
                    n.span,
                    object(s),
                    format!("cap_add: {cap}"),
                );
            }
        }
    }
}

fn mode_is_host(c: &Ctx<'_>, out: &mut Out<'_>, key: &str, rule: &'static str) {
    for s in &c.services {
        if let Some(n) = s.get(key) {
            if n.as_str() == Some("host") {
                out.hit(rule, n.span, object(s), format!("{key}: host"));
            }
        }
    }
}

fn host_pid(c: &Ctx<'_>, out: &mut Out<'_>) {
    mode_is_host(c, out, "pid", "compose-host-pid");
}
fn host_ipc(c: &Ctx<'_>, out: &mut Out<'_>) {
    mode_is_host(c, out, "ipc", "compose-host-ipc");
}
fn host_network(c: &Ctx<'_>, out: &mut Out<'_>) {
    mode_is_host(c, out, "network_mode", "compose-host-network");
}
fn host_uts(c: &Ctx<'_>, out: &mut Out<'_>) {
    mode_is_host(c, out, "uts", "compose-host-uts");
}
fn userns_host(c: &Ctx<'_>, out: &mut Out<'_>) {
    mode_is_host(c, out, "userns_mode", "compose-userns-host");
}

fn port_all_interfaces(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        for p in s.ports() {
            let all = match p.host_ip.as_deref() {
                None => true,
                Some(ip) => matches!(ip, "0.0.0.0" | "::" | ""),
            };
            if all {
                out.hit(
                    "compose-port-all-interfaces",
                    p.node.span,
                    object(s),
                    format!(
                        "port {} is published on every host interface",
                        p.container_port
                    ),
                );
            }
        }
    }
}

fn host_port_low(p: &str) -> Option<u32> {
    let first = p.split('-').next()?.parse::<u32>().ok()?;
    (first < 1024).then_some(first)
}

fn privileged_port(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        for p in s.ports() {
            if let Some(port) = p.host_port.as_deref().and_then(host_port_low) {
                out.hit(
                    "compose-privileged-port",
                    p.node.span,
                    object(s),
                    format!("host port {port} is below 1024"),
                );
            }
        }
    }
}

fn ssh_port(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        for p in s.ports() {
            if p.container_port == "22" {
                out.hit(
                    "compose-ssh-port",
                    p.node.span,
                    object(s),
                    "container port 22 (SSH) is published",
                );
            }
        }
    }
}

fn bind_sources<'a>(s: &Service<'a>) -> Vec<(String, bool, &'a Node)> {
    s.volumes()
        .into_iter()
        .filter_map(|v| {
            let src = v.source?;
            // `$HOME` is set wherever compose runs, to an absolute path: a bind mount.
            let bind = src.starts_with(['/', '.', '~'])
                || src.starts_with("$HOME")
                || src.starts_with("${HOME}");
            bind.then_some((src, v.read_only, v.node))
        })
        .collect()
}

fn sensitive_mount(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        for (src, ro, node) in bind_sources(s) {
            if runtime_socket(&src).is_some() {
                continue; // reported by compose-runtime-socket
            }
            let credentials = home_credentials(&src);
            let sensitive = sensitive_host_dir(&src);
            if sensitive.is_some() || credentials.is_some() {
                let mut message = format!(
                    "host path {src} is mounted{}",
                    if ro { " (read-only)" } else { " read-write" }
                );
                // A parent of sensitive directories (`/var`) is not one itself: say why.
                if let Some(parent @ SensitiveDir::Contains(_)) = &sensitive {
                    message.push_str(&format!(": it is {}", parent.describe(&src)));
                }
                if let Some(what) = credentials {
                    message.push_str(&format!(
                        ": it holds {what}, which anything running in the container can read and use"
                    ));
                }
                out.hit("compose-sensitive-mount", node.span, object(s), message);
            }
        }
    }
}

fn runtime_socket_mount(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        for (src, _, node) in bind_sources(s) {
            if let Some(what) = runtime_socket(&src) {
                out.hit(
                    "compose-runtime-socket",
                    node.span,
                    object(s),
                    format!("{src} ({what}) is mounted into the container"),
                );
            }
        }
    }
}

/// `devices:` entries: `HOST[:CONTAINER[:PERMISSIONS]]`, or the long form with `source`,
/// `target` and `permissions`. A CDI name (`vendor.com/class=name`) names no host path and is
/// left alone: what it grants is defined on the host, not in the file.
fn host_devices(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        let Some(list) = s.get("devices").and_then(Node::as_seq) else {
            continue;
        };
        for n in list {
            let (host, permissions) = match n.as_str() {
                Some(text) => {
                    let mut parts = text.split(':');
                    let host = parts.next().unwrap_or("").to_string();
                    (host, parts.nth(1).map(str::to_string))
                }
                None => (
                    n.get("source")
                        .and_then(Node::as_str)
                        .unwrap_or("")
                        .to_string(),
                    n.get("permissions")
                        .and_then(Node::as_str)
                        .map(str::to_string),
                ),
            };
            if host.is_empty() || (!host.starts_with('/') && host.contains('=')) {
                continue;
            }
            let permissions = permissions.unwrap_or_else(|| "rwm".into());
            let mut message = format!(
                "host device {host} is passed into the service with permissions {permissions}"
            );
            if let Some(what) = raw_host_access(&host) {
                message.push_str(&format!(": {what}"));
            }
            out.hit("compose-host-devices", n.span, object(s), message);
        }
    }
}

/// What a device node opens up when it is one of the host's memory or disks.
fn raw_host_access(path: &str) -> Option<&'static str> {
    let name = path.strip_prefix("/dev/")?;
    if matches!(name, "mem" | "kmem" | "port") {
        return Some("it is the host's physical memory or I/O ports");
    }
    let disk = [
        "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "dm-", "md", "loop", "mapper/",
    ]
    .iter()
    .any(|p| name.starts_with(p));
    disk.then_some("it is a block device of the host: its files can be read and changed below every permission")
}

fn sysctls(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        let Some(n) = s.get("sysctls") else { continue };
        let mut entries: Vec<(String, &Node)> = Vec::new();
        if let Some(m) = n.as_map() {
            entries.extend(
                m.iter()
                    .filter_map(|(k, _)| Some((k.as_str()?.to_string(), k))),
            );
        } else if let Some(items) = n.as_seq() {
            entries.extend(
                items
                    .iter()
                    .filter_map(|i| Some((i.as_str()?.split('=').next()?.to_string(), i))),
            );
        }
        for (name, node) in entries {
            if !SAFE_SYSCTLS.contains(&name.as_str()) {
                out.hit(
                    "compose-sysctls",
                    node.span,
                    object(s),
                    format!("sysctl {name} is not in the safe set"),
                );
            }
        }
    }
}

fn opt_rule(
    c: &Ctx<'_>,
    out: &mut Out<'_>,
    rule: &'static str,
    test: fn(&str) -> bool,
    what: &str,
) {
    for s in &c.services {
        for (n, o) in security_opts(s) {
            if test(&o) {
                out.hit(
                    rule,
                    n.span,
                    object(s),
                    format!("security_opt {} {what}", n.as_str().unwrap_or("")),
                );
            }
        }
    }
}

fn seccomp_unconfined(c: &Ctx<'_>, out: &mut Out<'_>) {
    opt_rule(
        c,
        out,
        "compose-seccomp-unconfined",
        |o| o == "seccomp:unconfined",
        "turns seccomp off",
    );
}
fn apparmor_unconfined(c: &Ctx<'_>, out: &mut Out<'_>) {
    opt_rule(
        c,
        out,
        "compose-apparmor-unconfined",
        |o| o == "apparmor:unconfined",
        "turns AppArmor off",
    );
}
fn selinux_disabled(c: &Ctx<'_>, out: &mut Out<'_>) {
    opt_rule(
        c,
        out,
        "compose-selinux-disabled",
        |o| o == "label:disable",
        "turns SELinux labelling off",
    );
}

fn limit(s: &Service<'_>, direct: &[&str], deploy: &str) -> bool {
    direct
        .iter()
        .any(|k| s.get(k).is_some_and(|n| !n.is_null()))
        || s.node
            .path(&["deploy", "resources", "limits", deploy])
            .is_some_and(|n| !n.is_null())
}

fn memory_limit(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        if !limit(s, &["mem_limit"], "memory") {
            out.hit(
                "compose-memory-limit",
                s.key.span,
                object(s),
                "no mem_limit or deploy.resources.limits.memory",
            );
        }
    }
}
fn cpu_limit(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        if !limit(s, &["cpus", "cpu_shares", "cpu_quota"], "cpus") {
            out.hit(
                "compose-cpu-limit",
                s.key.span,
                object(s),
                "no cpus, cpu_shares or deploy.resources.limits.cpus",
            );
        }
    }
}
fn pids_limit(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        let set = s
            .get("pids_limit")
            .and_then(|n| n.as_i64(Schema::Core))
            .is_some_and(|v| v > 0)
            || s.node
                .path(&["deploy", "resources", "limits", "pids"])
                .is_some_and(|n| !n.is_null());
        if !set {
            out.hit(
                "compose-pids-limit",
                s.key.span,
                object(s),
                "no positive pids_limit",
            );
        }
    }
}

fn secret_env(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        for e in s.environment() {
            let Some(value) = e.value.as_deref() else {
                continue;
            };
            report_secret_value(out, s, &e.name, value, e.node, |what| {
                format!("environment {} holds {what}", e.name)
            });
        }
        // Build arguments are recorded in the history of the image they build, which goes
        // wherever the image is pushed.
        for (name, value, node) in build_args(s) {
            report_secret_value(out, s, &name, &value, node, |what| {
                format!(
                    "build argument {name} holds {what}; build arguments are kept in the image history"
                )
            });
        }
    }
}

/// `build.args` in mapping or list form, with their values. An argument without a value
/// (`- NPM_TOKEN`, `NPM_TOKEN:`) is taken from the environment of the build: nothing written.
fn build_args<'a>(s: &Service<'a>) -> Vec<(String, String, &'a Node)> {
    let Some(args) = s.node.path(&["build", "args"]) else {
        return Vec::new();
    };
    if let Some(items) = args.as_seq() {
        return items
            .iter()
            .filter_map(|n| {
                let (name, value) = n.as_str()?.split_once('=')?;
                Some((name.trim().to_string(), value.to_string(), n))
            })
            .collect();
    }
    args.as_map()
        .unwrap_or(&[])
        .iter()
        .filter(|(_, v)| !v.is_null())
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string(), v)))
        .collect()
}

/// Report `value` of the variable `name`, written at `node`, when it is a secret: by its name
/// (a literal value, not a reference) or by its form (a token, a password in a URL). The
/// value is masked in the snippet.
fn report_secret_value(
    out: &mut Out<'_>,
    s: &Service<'_>,
    name: &str,
    value: &str,
    node: &Node,
    message: impl FnOnce(&str) -> String,
) {
    let named = is_literal_secret(name, value);
    let pattern = secret_patterns(value).first().map(|p| p.2);
    if !named && pattern.is_none() {
        return;
    }
    let msg = message(pattern.unwrap_or("a literal secret value"));
    let span = node.span;
    let node_text = out.span_text(span).to_string();
    let h = out.hit("compose-secret-env", span, object(s), msg);
    // mask the value part of the node
    if let Some(i) = node_text.find(value).filter(|_| !value.is_empty()) {
        let mut v = span;
        v.start.offset = span.start.offset + i;
        v.end.offset = v.start.offset + value.len();
        h.secret(v);
    } else {
        h.secret(span);
    }
}

fn mutable_image(image: &str) -> Option<&'static str> {
    if image.contains('$') {
        return None;
    }
    let r = parse_image(image);
    if r.digest.is_some() {
        return None;
    }
    match r.tag.as_deref() {
        None => Some("has no tag (latest)"),
        Some("latest") => Some("uses the latest tag"),
        _ => None,
    }
}

fn latest_tag(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        if let Some(n) = s.get("image") {
            if let Some(why) = mutable_image(n.as_str().unwrap_or("")) {
                out.hit(
                    "compose-latest-tag",
                    n.span,
                    object(s),
                    format!("image {} {why}", n.as_str().unwrap_or("")),
                );
            }
        }
    }
}

fn pull_policy(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        let Some(n) = s.get("image") else { continue };
        let image = n.as_str().unwrap_or("");
        if image.contains('$') || parse_image(image).digest.is_some() || s.get("build").is_some() {
            continue;
        }
        let always = s.get("pull_policy").and_then(Node::as_str) == Some("always");
        if !always {
            out.hit(
                "compose-pull-policy",
                n.span,
                object(s),
                format!("image {image} is a mutable tag and pull_policy is not always"),
            );
        }
    }
}

fn healthcheck(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        if let Some(d) = s.node.path(&["healthcheck", "disable"]) {
            if d.as_bool(BoolDialect::Compose) == Some(true) {
                out.hit(
                    "compose-healthcheck",
                    d.span,
                    object(s),
                    "healthcheck: disable: true",
                );
            }
        }
        if let Some(t) = s.node.path(&["healthcheck", "test"]) {
            let first = t
                .as_seq()
                .and_then(|v| v.first())
                .and_then(Node::as_str)
                .or(t.as_str());
            if first == Some("NONE") {
                out.hit(
                    "compose-healthcheck",
                    t.span,
                    object(s),
                    "healthcheck test NONE disables the image's health check",
                );
            }
        }
    }
}

fn default_bridge(c: &Ctx<'_>, out: &mut Out<'_>) {
    for s in &c.services {
        if let Some(n) = s.get("network_mode") {
            if n.as_str() == Some("bridge") {
                out.hit(
                    "compose-default-bridge",
                    n.span,
                    object(s),
                    "network_mode: bridge uses docker0",
                );
            }
        }
    }
}
