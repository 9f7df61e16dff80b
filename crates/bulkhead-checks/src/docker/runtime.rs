//! Section 5: container runtime. Every check judges each audited container from its inspect
//! document (and, for sshd and no-new-privileges, from its processes as seen in the host's
//! /proc). Swarm mode (5.1) lives with the other swarm checks in `swarm.rs`.
//!
//! Unscored (Manual) checks follow one rule: a deviation bulkhead can see but not judge alone is
//! `warn`, no deviation is `pass`, and where only a human can decide the object is `manual` with
//! the setting as evidence.

use super::{container_object, host_side_guard, no_docker, per_container};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::docker::{ContainerFacts, Network, PortBinding};
use bulkhead_facts::flags::parse_go_bool;
use bulkhead_facts::host::{Process, SecurityModules};
use bulkhead_facts::time::rfc3339_to_unix;
use bulkhead_facts::Fact;

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("docker.container.apparmor", apparmor),
    ("docker.container.selinux", selinux),
    ("docker.container.capabilities", capabilities),
    ("docker.container.not_privileged", not_privileged),
    ("docker.container.no_sensitive_mounts", no_sensitive_mounts),
    ("docker.container.no_sshd", no_sshd),
    ("docker.container.no_privileged_ports", no_privileged_ports),
    ("docker.container.needed_ports_only", needed_ports_only),
    ("docker.container.no_host_network", no_host_network),
    ("docker.container.memory_limit", memory_limit),
    ("docker.container.cpu_shares", cpu_shares),
    ("docker.container.read_only_rootfs", read_only_rootfs),
    (
        "docker.container.ports_bound_to_interface",
        ports_bound_to_interface,
    ),
    (
        "docker.container.restart_on_failure_5",
        restart_on_failure_5,
    ),
    ("docker.container.no_host_pid", no_host_pid),
    ("docker.container.no_host_ipc", no_host_ipc),
    ("docker.container.no_host_devices", no_host_devices),
    ("docker.container.ulimits", ulimits),
    (
        "docker.container.no_shared_propagation",
        no_shared_propagation,
    ),
    ("docker.container.no_host_uts", no_host_uts),
    ("docker.container.seccomp_enabled", seccomp_enabled),
    ("docker.container.no_privileged_exec", no_privileged_exec),
    ("docker.container.no_root_exec", no_root_exec),
    ("docker.container.cgroup_confirmed", cgroup_confirmed),
    ("docker.container.no_new_privileges", no_new_privileges),
    ("docker.container.healthcheck_runtime", healthcheck_runtime),
    ("docker.container.latest_image", latest_image),
    ("docker.container.pids_limit", pids_limit),
    ("docker.container.no_default_bridge", no_default_bridge),
    ("docker.container.no_host_userns", no_host_userns),
    ("docker.container.no_docker_socket", no_docker_socket),
];

/// `1 process`, `3 processes`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn pass_or_fail(ok: bool) -> Status {
    if ok {
        Status::Pass
    } else {
        Status::Fail
    }
}

/// Show an empty inspect string the way a reader recognises it.
fn shown(value: &str) -> String {
    if value.is_empty() {
        "(empty)".to_string()
    } else {
        value.to_string()
    }
}

// ---------------------------------------------------------------------------------------------
// Security options (`HostConfig.SecurityOpt`)
// ---------------------------------------------------------------------------------------------

/// Split one `--security-opt` entry into key and value the way dockerd does: `key=value`, or the
/// older `key:value`; a bare `no-new-privileges` has no value.
fn security_opt(opt: &str) -> (&str, Option<&str>) {
    if let Some((k, v)) = opt.split_once('=') {
        return (k, Some(v));
    }
    match opt.split_once(':') {
        Some((k, v)) => (k, Some(v)),
        None => (opt, None),
    }
}

/// Every value given for security option `key` on a container, in order.
fn security_opt_values<'a>(c: &'a ContainerFacts, key: &str) -> Vec<Option<&'a str>> {
    c.inspect
        .host_config
        .security_opt
        .iter()
        .flatten()
        .map(|o| security_opt(o))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .collect()
}

/// A security option for evidence: custom seccomp profiles are whole JSON documents, shortened.
fn describe_security_opt(opt: &str) -> String {
    match security_opt(opt) {
        ("seccomp", Some(v)) if v.trim_start().starts_with('{') => {
            format!("seccomp=<custom profile, {} bytes>", v.len())
        }
        _ => opt.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Linux security modules (5.2, 5.3)
// ---------------------------------------------------------------------------------------------

/// Whether a Linux security module confines containers on the audited daemon's host.
enum Lsm {
    Enabled(String),
    Disabled(String),
    Unknown(String),
}

/// Decide whether AppArmor or SELinux (`name` as in `Info.SecurityOptions`) is in force. The
/// daemon's own report comes first (it describes the right host even for a remote daemon); the
/// host's kernel state counts only when the daemon runs on the host bulkhead read.
fn lsm_state(
    ctx: &Context<'_>,
    name: &str,
    label: &str,
    host_flag: fn(&SecurityModules) -> &Fact<bool>,
) -> Lsm {
    let Some(docker) = ctx.docker() else {
        return Lsm::Unknown("Docker was not audited".into());
    };
    let info = docker.info.value();
    if info.is_some_and(|i| i.has_security_option(name)) {
        return Lsm::Enabled(format!(
            "the daemon reports name={name} in Info.SecurityOptions"
        ));
    }
    let daemon_silent = format!(
        "{label} is not in use: the daemon does not report name={name} in Info.SecurityOptions"
    );
    if ctx.remote_daemon_reason().is_some() {
        return match info {
            Some(_) => Lsm::Disabled(daemon_silent),
            None => Lsm::Unknown(format!(
                "the daemon's security options could not be read and the daemon is remote: {}",
                docker.info.as_result().err().unwrap_or_default()
            )),
        };
    }
    match host_flag(&ctx.snapshot.host.security_modules) {
        Fact::Value(true) => Lsm::Enabled(format!("{label} is enabled in the host's kernel")),
        Fact::Value(false) => Lsm::Disabled(format!("{label} is not enabled on this host")),
        Fact::Unavailable(reason) => match info {
            Some(_) => Lsm::Disabled(daemon_silent),
            None => Lsm::Unknown(format!(
                "whether {label} is enabled could not be read: {reason}"
            )),
        },
    }
}

/// The AppArmor profile a container runs (or will run) under, and why bulkhead thinks so.
/// dockerd records the profile when the container starts: before that the inspect field is
/// empty, and the profile it will get follows from its options.
fn effective_apparmor(c: &ContainerFacts) -> (String, Option<&'static str>) {
    let recorded = &c.inspect.app_armor_profile;
    if !recorded.is_empty() {
        return (recorded.clone(), None);
    }
    if let Some(Some(p)) = security_opt_values(c, "apparmor").last() {
        return (
            p.to_string(),
            Some("set by --security-opt, applied at start"),
        );
    }
    if c.inspect.host_config.privileged {
        return (
            "unconfined".into(),
            Some("privileged containers run unconfined"),
        );
    }
    if c.inspect.state.status == "created" {
        return (
            "docker-default".into(),
            Some("never started: dockerd applies docker-default at start"),
        );
    }
    (String::new(), None)
}

/// 5.2: every container runs under an AppArmor profile. Not applicable where AppArmor is off.
fn apparmor(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let why = match lsm_state(ctx, "apparmor", "AppArmor", |m| &m.apparmor) {
        Lsm::Enabled(why) => why,
        Lsm::Disabled(reason) => return CheckResult::not_applicable(reason),
        Lsm::Unknown(reason) => return CheckResult::error(reason),
    };
    per_container(ctx, |c| {
        let (profile, how) = effective_apparmor(c);
        let ok = !profile.is_empty() && profile != "unconfined";
        let o = container_object(c, pass_or_fail(ok)).evidence(
            "AppArmorProfile",
            shown(&profile),
            "a profile other than unconfined (docker-default or your own)",
        );
        match how {
            Some(how) => o.note(how),
            None if !ok => o.note(format!("AppArmor is in use here ({why})")),
            None => o,
        }
    })
}

/// 5.3: every container runs with an SELinux label. Only `label=` options count; `label=disable`
/// turns labelling off. Not applicable on hosts without SELinux.
fn selinux(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    match lsm_state(ctx, "selinux", "SELinux", |m| &m.selinux) {
        Lsm::Enabled(_) => {}
        Lsm::Disabled(reason) => return CheckResult::not_applicable(reason),
        Lsm::Unknown(reason) => return CheckResult::error(reason),
    }
    // Whether dockerd labels containers at all (None: its security options are unknown).
    let daemon_labels = ctx
        .docker()
        .and_then(|d| d.info.value())
        .map(|i| i.has_security_option("selinux"));
    per_container(ctx, |c| {
        let labels: Vec<String> = security_opt_values(c, "label")
            .into_iter()
            .map(|v| format!("label={}", v.unwrap_or_default()))
            .collect();
        let disabled = labels.iter().any(|l| l == "label=disable");
        let process_label = &c.inspect.process_label;
        let actual = if labels.is_empty() {
            format!("no label= options; ProcessLabel {}", shown(process_label))
        } else {
            format!(
                "{}; ProcessLabel {}",
                labels.join(", "),
                shown(process_label)
            )
        };
        let expected = "label= options (type, level, user or role) or a daemon-assigned ProcessLabel, never label=disable";
        let (status, note) = if disabled {
            (
                Status::Fail,
                Some("label=disable turns SELinux separation off".to_string()),
            )
        } else if c.inspect.host_config.privileged {
            (
                Status::Fail,
                Some("privileged containers run without an SELinux label".to_string()),
            )
        } else if daemon_labels == Some(false) {
            (
                Status::Fail,
                Some(
                    "the daemon does not label containers (label= options have no effect): start dockerd with --selinux-enabled"
                        .to_string(),
                ),
            )
        } else if !labels.is_empty() {
            (Status::Pass, None)
        } else if !process_label.is_empty() {
            (
                Status::Pass,
                Some("labelled by the daemon's default SELinux policy".to_string()),
            )
        } else if c.inspect.state.status == "created" {
            (
                Status::Pass,
                Some("never started: the daemon labels it at start".to_string()),
            )
        } else {
            (Status::Fail, None)
        };
        let o = container_object(c, status).evidence("HostConfig.SecurityOpt", actual, expected);
        match note {
            Some(n) => o.note(n),
            None => o,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Capabilities and privilege (5.4, 5.5)
// ---------------------------------------------------------------------------------------------

/// The capabilities Docker grants a container by default.
const DEFAULT_CAPABILITIES: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "NET_RAW",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// `cap_sys_admin`, `CAP_SYS_ADMIN` and `SYS_ADMIN` all name one capability.
fn capability_name(raw: &str) -> String {
    let upper = raw.trim().to_ascii_uppercase();
    upper.strip_prefix("CAP_").unwrap_or(&upper).to_string()
}

fn capability_list(raw: &Option<Vec<String>>) -> Vec<String> {
    raw.iter().flatten().map(|c| capability_name(c)).collect()
}

fn comma_list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// 5.4: no capability beyond Docker's defaults is added, and the defaults are trimmed. Reads
/// CapAdd AND CapDrop: dropping ALL passes, adding a non-default capability fails, keeping the
/// whole default set untouched is a warning to review.
fn capabilities(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let hc = &c.inspect.host_config;
        let added = capability_list(&hc.cap_add);
        let dropped = capability_list(&hc.cap_drop);
        let actual = format!(
            "added: {}; dropped: {}",
            comma_list(&added),
            comma_list(&dropped)
        );
        let expected =
            "nothing beyond Docker's defaults added; unneeded defaults dropped (--cap-drop ALL)";
        let beyond: Vec<String> = if added.iter().any(|c| c == "ALL") {
            vec!["ALL".to_string()]
        } else {
            added
                .iter()
                .filter(|c| !DEFAULT_CAPABILITIES.contains(&c.as_str()))
                .cloned()
                .collect()
        };
        let o = |status| {
            container_object(c, status).evidence(
                "HostConfig.CapAdd, HostConfig.CapDrop",
                actual.clone(),
                expected,
            )
        };
        if hc.privileged {
            o(Status::Fail).note("privileged: the container holds every capability")
        } else if !beyond.is_empty() {
            o(Status::Fail).note(format!(
                "adds capabilities beyond Docker's defaults: {}",
                beyond.join(", ")
            ))
        } else if dropped.iter().any(|c| c == "ALL") {
            o(Status::Pass)
        } else if !dropped.is_empty() {
            o(Status::Pass)
                .note("some default capabilities dropped; review whether the rest are needed")
        } else {
            o(Status::Warn).note(format!(
                "keeps all {} of Docker's default capabilities; drop those the workload does not need",
                DEFAULT_CAPABILITIES.len()
            ))
        }
    })
}

/// 5.5: no container is privileged.
fn not_privileged(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let p = c.inspect.host_config.privileged;
        container_object(c, pass_or_fail(!p)).evidence(
            "HostConfig.Privileged",
            p.to_string(),
            "false",
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Mounts (5.6, 5.20, 5.32)
// ---------------------------------------------------------------------------------------------

/// A host path no container should see.
struct SensitivePath {
    path: String,
    /// What it is, for the reader.
    what: String,
    /// The path and everything below it (false: only the path itself, for `/`).
    subtree: bool,
    /// A daemon's API socket: even a read-only bind lets the container drive the daemon.
    socket: bool,
}

/// System directories whose contents let a container read secrets of, or change, the host.
const SENSITIVE_DIRS: &[(&str, &str)] = &[
    ("/boot", "the host's boot files"),
    ("/dev", "the host's devices"),
    ("/etc", "the host's configuration"),
    ("/lib", "the host's libraries"),
    ("/lib32", "the host's libraries"),
    ("/lib64", "the host's libraries"),
    ("/usr", "the host's programs and libraries"),
    ("/bin", "the host's programs"),
    ("/sbin", "the host's programs"),
    ("/proc", "the host's process information"),
    ("/sys", "the host's kernel interfaces"),
    ("/run", "the host's runtime state and sockets"),
    ("/var/run", "the host's runtime state and sockets"),
    ("/root", "root's home directory"),
    ("/home", "users' home directories"),
];

/// Every sensitive host path for this daemon: the fixed system directories, the daemon's data
/// root, exec root and API sockets and the containerd socket as configured, and the home
/// directories of login users on the host.
fn sensitive_paths(ctx: &Context<'_>) -> Vec<SensitivePath> {
    let mut out = vec![SensitivePath {
        path: "/".into(),
        what: "the host's whole file system".into(),
        subtree: false,
        socket: false,
    }];
    let dir = |path: &str, what: &str| SensitivePath {
        path: path.trim_end_matches('/').to_string(),
        what: what.to_string(),
        subtree: true,
        socket: false,
    };
    out.extend(SENSITIVE_DIRS.iter().map(|(p, w)| dir(p, w)));
    if let Some(d) = ctx.docker() {
        let paths = &d.daemon.paths;
        if !paths.data_root.is_empty() {
            out.push(dir(&paths.data_root, "Docker's data root"));
        }
        if !paths.exec_root.is_empty() {
            out.push(dir(&paths.exec_root, "Docker's exec root"));
        }
        for s in &paths.sockets {
            out.push(SensitivePath {
                path: s.clone(),
                what: "the Docker API socket".into(),
                subtree: false,
                socket: true,
            });
        }
        if let Some(s) = &paths.containerd_socket {
            out.push(SensitivePath {
                path: s.clone(),
                what: "the containerd socket".into(),
                subtree: false,
                socket: true,
            });
        }
    }
    if let Some(users) = ctx.snapshot.host.users.value() {
        for u in users {
            let login_user = u.uid >= 1000 && u.uid != 65534;
            let real_home = u.home.starts_with('/') && u.home != "/" && u.home != "/nonexistent";
            if login_user && real_home {
                out.push(dir(&u.home, &format!("the home directory of {}", u.name)));
            }
        }
    }
    out
}

/// `/a/b/` -> `/a/b`, keeping `/`.
fn trim_path(p: &str) -> &str {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        "/"
    } else {
        t
    }
}

/// `/var/run` is a symbolic link to `/run` on current distributions: compare socket paths as
/// one.
fn same_run_dir(p: &str) -> String {
    match p.strip_prefix("/var/run") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/run{rest}"),
        _ => p.to_string(),
    }
}

/// Is the socket at `socket` reachable through a bind of `source` (the socket itself or a
/// directory above it)?
fn reaches_socket(source: &str, socket: &str) -> bool {
    is_under(&same_run_dir(socket), &same_run_dir(source))
}

fn is_under(path: &str, dir: &str) -> bool {
    path == dir || (dir == "/" || path.starts_with(&format!("{dir}/")))
}

/// What a bind mount of a host path exposes: the most specific sensitive area it is or lies in,
/// and every daemon socket it is or holds (a bind of `/var/run` holds `/var/run/docker.sock`).
struct Exposure<'a> {
    area: Option<&'a SensitivePath>,
    sockets: Vec<&'a SensitivePath>,
}

impl Exposure<'_> {
    fn is_sensitive(&self) -> bool {
        self.area.is_some() || !self.sockets.is_empty()
    }

    /// Why it is sensitive, for evidence.
    fn describe(&self, source: &str) -> String {
        if let [s] = self.sockets.as_slice() {
            if same_run_dir(&s.path) == same_run_dir(source) {
                return s.what.clone();
            }
        }
        let mut parts = Vec::new();
        if let Some(a) = self.area {
            parts.push(a.what.clone());
        }
        for s in &self.sockets {
            parts.push(format!("holds {} {}", s.what, s.path));
        }
        parts.join("; ")
    }
}

fn exposure<'a>(source: &str, sensitive: &'a [SensitivePath]) -> Exposure<'a> {
    let source = trim_path(source);
    let mut area: Option<&SensitivePath> = None;
    let mut sockets = Vec::new();
    for s in sensitive {
        if s.socket {
            if reaches_socket(source, &s.path) {
                sockets.push(s);
            }
            continue;
        }
        let hit = if s.subtree {
            is_under(source, &s.path)
        } else {
            source == s.path
        };
        if hit && area.is_none_or(|a| s.path.len() > a.path.len()) {
            area = Some(s);
        }
    }
    Exposure { area, sockets }
}

/// The container's mounts ordered by host path, then destination. The Engine API lists them in
/// no fixed order (two inspects of one container can differ; `collect` sorts them, a snapshot
/// written elsewhere may not), and evidence must read the same on every run.
fn mounts_in_order(c: &ContainerFacts) -> Vec<&bulkhead_facts::docker::MountPoint> {
    let mut all: Vec<_> = c.inspect.mounts.iter().collect();
    all.sort_by(|a, b| (&a.source, &a.destination).cmp(&(&b.source, &b.destination)));
    all
}

/// Host paths bound into the container: bind mounts only (named volumes live in Docker's own
/// storage and are not host directories the user chose).
fn bind_mounts(c: &ContainerFacts) -> impl Iterator<Item = &bulkhead_facts::docker::MountPoint> {
    mounts_in_order(c)
        .into_iter()
        .filter(|m| m.kind == "bind" && !m.source.is_empty())
}

/// 5.6: no sensitive host directory, socket or home directory is bind-mounted. Read-write binds
/// and any bind of a socket fail; read-only binds of other sensitive paths are a warning.
fn no_sensitive_mounts(ctx: &Context<'_>) -> CheckResult {
    let sensitive = sensitive_paths(ctx);
    per_container(ctx, |c| {
        let mut worst = Status::Pass;
        let mut found = Vec::new();
        for m in bind_mounts(c) {
            let e = exposure(&m.source, &sensitive);
            if !e.is_sensitive() {
                continue;
            }
            let access = if m.rw { "read-write" } else { "read-only" };
            let status = if m.rw || !e.sockets.is_empty() {
                Status::Fail
            } else {
                Status::Warn
            };
            if status == Status::Fail || worst == Status::Pass {
                worst = status;
            }
            found.push(format!(
                "{} -> {} ({access}: {})",
                m.source,
                m.destination,
                e.describe(trim_path(&m.source))
            ));
        }
        let o = container_object(c, worst).evidence(
            "Mounts",
            if found.is_empty() {
                "no sensitive host path".to_string()
            } else {
                found.join("; ")
            },
            "no bind mount of host system directories, Docker or containerd sockets, or home directories",
        );
        match worst {
            Status::Fail => o.note("a read-write bind lets the container change the host; a socket gives control of the daemon even when bound read-only"),
            // Read-only stops changes, not reading: a root process in the container (without
            // user namespace remapping) reads even the files only root may read there.
            Status::Warn => o.note("read-only: the container cannot change these host files but can read them, and as root without user namespace remapping also those only root may read (password hashes in /etc/shadow, private keys)"),
            _ => o,
        }
    })
}

/// 5.20: no mount uses shared (or recursive shared) propagation.
fn no_shared_propagation(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let shared: Vec<String> = mounts_in_order(c)
            .into_iter()
            .filter(|m| matches!(m.propagation.as_str(), "shared" | "rshared"))
            .map(|m| format!("{} -> {} ({})", m.source, m.destination, m.propagation))
            .collect();
        container_object(c, pass_or_fail(shared.is_empty())).evidence(
            "Mounts[].Propagation",
            if shared.is_empty() {
                "no shared mount".to_string()
            } else {
                shared.join("; ")
            },
            "private, rprivate, slave or rslave",
        )
    })
}

/// 5.32: no Docker API socket is reachable inside a container: neither the socket itself nor a
/// directory that holds it (a bind of `/var/run` exposes `/var/run/docker.sock`).
fn no_docker_socket(ctx: &Context<'_>) -> CheckResult {
    let sockets: Vec<String> = ctx
        .docker()
        .map(|d| d.daemon.paths.sockets.clone())
        .unwrap_or_default();
    per_container(ctx, |c| {
        let mut found = Vec::new();
        for m in bind_mounts(c) {
            let source = trim_path(&m.source);
            let named = source.ends_with("/docker.sock");
            let holds = sockets.iter().find(|s| reaches_socket(source, s));
            if named || holds.is_some() {
                let what = match holds {
                    Some(s) if same_run_dir(s) != same_run_dir(source) => format!(" (holds {s})"),
                    _ => String::new(),
                };
                found.push(format!("{} -> {}{what}", m.source, m.destination));
            }
        }
        container_object(c, pass_or_fail(found.is_empty())).evidence(
            "Mounts",
            if found.is_empty() {
                "no Docker socket".to_string()
            } else {
                found.join("; ")
            },
            format!(
                "no bind of {} or a directory holding it",
                if sockets.is_empty() {
                    "docker.sock".to_string()
                } else {
                    sockets.join(", ")
                }
            ),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Processes (5.7)
// ---------------------------------------------------------------------------------------------

/// SSH servers, matched by executable name (sshd rewrites its command line to
/// `sshd: /usr/sbin/sshd -D [listener] ...`, so argv\[0\] is checked by its first word too).
const SSH_SERVERS: &[&str] = &["sshd", "dropbear"];

fn is_ssh_server(p: &Process) -> bool {
    let exe = p
        .exe
        .as_deref()
        .map(|e| e.trim_end_matches(" (deleted)"))
        .map(|e| e.rsplit('/').next().unwrap_or(e));
    let argv0 = p
        .argv
        .first()
        .and_then(|a| a.split([' ', ':']).next())
        .map(|a| a.rsplit('/').next().unwrap_or(a));
    SSH_SERVERS
        .iter()
        .any(|s| p.comm == *s || exe == Some(s) || argv0 == Some(s))
}

/// 5.7: no SSH server runs in a container. Processes come from the host's /proc (the
/// container's PID namespace), never from executing anything in the container; a container
/// whose processes could not be read is an error, not a pass.
fn no_sshd(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let mut r = per_container(ctx, |c| {
        if !c.inspect.state.running {
            return container_object(c, Status::NotApplicable).note(format!(
                "not running ({}): no processes to inspect",
                shown(&c.inspect.state.status)
            ));
        }
        let procs = match c.processes.as_result() {
            Ok(p) => p,
            Err(reason) => {
                return container_object(c, Status::Error)
                    .note(format!("its processes could not be read: {reason}"))
            }
        };
        let ssh: Vec<String> = procs
            .iter()
            .filter(|p| is_ssh_server(p))
            .map(|p| format!("{} (pid {})", p.comm, p.pid))
            .collect();
        container_object(c, pass_or_fail(ssh.is_empty())).evidence(
            "processes",
            if ssh.is_empty() {
                format!(
                    "{}, no SSH server",
                    count(procs.len(), "process", "processes")
                )
            } else {
                ssh.join(", ")
            },
            "no sshd or dropbear process",
        )
    });
    // Say how many were looked at when some could not be (not running).
    let idle = r
        .objects
        .iter()
        .filter(|o| o.status == Status::NotApplicable)
        .count();
    if r.status == Status::Pass && idle > 0 {
        let running = r.objects.len() - idle;
        r.message = Some(format!(
            "all {} pass; {} not running",
            count(running, "running container", "running containers"),
            idle
        ));
    }
    r
}

// ---------------------------------------------------------------------------------------------
// Ports (5.8, 5.9, 5.14)
// ---------------------------------------------------------------------------------------------

/// One published port: container port (`80/tcp`) and the host address it is reachable on.
struct Published {
    container_port: String,
    host_ip: String,
    host_port: String,
}

impl Published {
    /// The lowest host port of the binding (`8000-8010` -> 8000); None for "any free port".
    fn lowest_host_port(&self) -> Option<u16> {
        let first = self.host_port.split('-').next().unwrap_or("");
        first.trim().parse().ok()
    }

    /// Addresses meaning "every interface": empty, 0.0.0.0 and the IPv6 `::`.
    fn on_all_interfaces(&self) -> bool {
        matches!(
            self.host_ip.trim_start_matches('[').trim_end_matches(']'),
            "" | "0.0.0.0" | "::"
        )
    }

    fn describe(&self) -> String {
        let ip = self.host_ip.trim_start_matches('[').trim_end_matches(']');
        let ip = if ip.contains(':') {
            format!("[{ip}]")
        } else if ip.is_empty() {
            "(all interfaces)".to_string()
        } else {
            ip.to_string()
        };
        let port = if self.host_port.is_empty() {
            "(any)"
        } else {
            &self.host_port
        };
        format!("{ip}:{port}->{}", self.container_port)
    }
}

/// The container's published ports: the live bindings of a running container
/// (`NetworkSettings.Ports`, one entry per address family), else the configured ones
/// (`HostConfig.PortBindings`), where an empty host address means the daemon's default binding
/// address (`ip` in daemon.json, 0.0.0.0 unless set).
fn published_ports(c: &ContainerFacts, default_ip: &str) -> Vec<Published> {
    let live = c.inspect.network_settings.ports.as_ref();
    let (bindings, configured) = match live {
        Some(p) if c.inspect.state.running => (Some(p), false),
        _ => (c.inspect.host_config.port_bindings.as_ref(), true),
    };
    let mut out = Vec::new();
    for (port, list) in bindings.into_iter().flatten() {
        for b in list.iter().flatten() {
            let PortBinding { host_ip, host_port } = b;
            let host_ip = if configured && host_ip.is_empty() {
                default_ip.to_string()
            } else {
                host_ip.clone()
            };
            out.push(Published {
                container_port: port.clone(),
                host_ip,
                host_port: host_port.clone(),
            });
        }
    }
    out
}

/// The daemon's default binding address for published ports (`ip` setting).
fn default_binding_ip(ctx: &Context<'_>) -> String {
    ctx.daemon_settings()
        .string("ip")
        .map(|(v, _)| v)
        .unwrap_or_default()
}

fn describe_ports(ports: &[&Published]) -> String {
    ports
        .iter()
        .map(|p| p.describe())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A container on the host's network stack (`--network host`): Docker publishes nothing for it
/// (it discards `-p` there), and every socket its processes open listens on the host directly.
fn on_host_network(c: &ContainerFacts) -> bool {
    c.inspect
        .host_config
        .network_mode
        .eq_ignore_ascii_case("host")
}

/// The object for a host-network container in the port checks (5.8, 5.9, 5.14): the published
/// ports say nothing about what it exposes, so a person reviews what it listens on.
fn host_network_ports(
    c: &ContainerFacts,
    status: Status,
    expected: &str,
    why: &str,
) -> ObjectResult {
    container_object(c, status)
        .evidence(
            "HostConfig.NetworkMode",
            "host: Docker publishes no ports (the container uses the host's network stack)",
            expected,
        )
        .note(format!(
            "whatever its processes listen on is open on the host's own interfaces, {why}; review its listening sockets (5.10 covers the shared network namespace)"
        ))
}

/// 5.8: no published host port below 1024 (IPv4 and IPv6 bindings alike).
fn no_privileged_ports(ctx: &Context<'_>) -> CheckResult {
    let default_ip = default_binding_ip(ctx);
    per_container(ctx, |c| {
        if on_host_network(c) {
            return host_network_ports(
                c,
                Status::Warn,
                "host ports 1024 and above",
                "privileged ports included when it keeps NET_BIND_SERVICE",
            );
        }
        let ports = published_ports(c, &default_ip);
        let low: Vec<&Published> = ports
            .iter()
            .filter(|p| p.lowest_host_port().is_some_and(|n| n > 0 && n < 1024))
            .collect();
        container_object(c, pass_or_fail(low.is_empty())).evidence(
            "NetworkSettings.Ports",
            if low.is_empty() {
                format!("{} published, none below 1024", ports.len())
            } else {
                describe_ports(&low)
            },
            "host ports 1024 and above",
        )
    })
}

/// 5.9 (manual): which ports each container publishes, for a human to confirm they are needed.
fn needed_ports_only(ctx: &Context<'_>) -> CheckResult {
    let default_ip = default_binding_ip(ctx);
    per_container(ctx, |c| {
        if on_host_network(c) {
            return host_network_ports(
                c,
                Status::Manual,
                "only the ports the service needs",
                "with no port mapping to limit them",
            );
        }
        let ports = published_ports(c, &default_ip);
        let all: Vec<&Published> = ports.iter().collect();
        if all.is_empty() {
            return container_object(c, Status::Pass).evidence(
                "NetworkSettings.Ports",
                "nothing published",
                "only the ports the service needs",
            );
        }
        container_object(c, Status::Manual)
            .evidence(
                "NetworkSettings.Ports",
                describe_ports(&all),
                "only the ports the service needs",
            )
            .note("confirm each published port is needed")
    })
}

/// 5.14: no published port listens on every interface (empty, 0.0.0.0 or `::`).
fn ports_bound_to_interface(ctx: &Context<'_>) -> CheckResult {
    let default_ip = default_binding_ip(ctx);
    per_container(ctx, |c| {
        if on_host_network(c) {
            return host_network_ports(
                c,
                Status::Warn,
                "each published port bound to one host address (-p 127.0.0.1:8080:80)",
                "on every interface unless the program itself binds one address",
            );
        }
        let ports = published_ports(c, &default_ip);
        let wide: Vec<&Published> = ports.iter().filter(|p| p.on_all_interfaces()).collect();
        container_object(c, pass_or_fail(wide.is_empty())).evidence(
            "NetworkSettings.Ports",
            if wide.is_empty() {
                format!("{} published, each on a specific address", ports.len())
            } else {
                describe_ports(&wide)
            },
            "each published port bound to one host address (-p 127.0.0.1:8080:80)",
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Namespaces (5.10, 5.16, 5.17, 5.21, 5.31)
// ---------------------------------------------------------------------------------------------

/// Judge one namespace mode: `host` shares the host's namespace.
fn namespace_check(
    ctx: &Context<'_>,
    field: &'static str,
    mode: fn(&ContainerFacts) -> &str,
) -> CheckResult {
    per_container(ctx, |c| {
        let m = mode(c);
        container_object(c, pass_or_fail(!m.eq_ignore_ascii_case("host"))).evidence(
            field,
            shown(m),
            "anything but host",
        )
    })
}

/// 5.10: the host's network namespace is not shared.
fn no_host_network(ctx: &Context<'_>) -> CheckResult {
    namespace_check(ctx, "HostConfig.NetworkMode", |c| {
        &c.inspect.host_config.network_mode
    })
}

/// 5.16: the host's PID namespace is not shared.
fn no_host_pid(ctx: &Context<'_>) -> CheckResult {
    namespace_check(ctx, "HostConfig.PidMode", |c| {
        &c.inspect.host_config.pid_mode
    })
}

/// 5.17: the host's IPC namespace is not shared.
fn no_host_ipc(ctx: &Context<'_>) -> CheckResult {
    namespace_check(ctx, "HostConfig.IpcMode", |c| {
        &c.inspect.host_config.ipc_mode
    })
}

/// 5.21: the host's UTS namespace is not shared.
fn no_host_uts(ctx: &Context<'_>) -> CheckResult {
    namespace_check(ctx, "HostConfig.UTSMode", |c| {
        &c.inspect.host_config.uts_mode
    })
}

/// 5.31: no container opts out of user-namespace remapping with `--userns=host`. Whether the
/// daemon remaps at all is check 2.9's business; the note says when it does not.
fn no_host_userns(ctx: &Context<'_>) -> CheckResult {
    let remap = ctx.daemon_settings().string("userns-remap");
    per_container(ctx, |c| {
        let m = &c.inspect.host_config.userns_mode;
        let host = m.eq_ignore_ascii_case("host");
        let o = container_object(c, pass_or_fail(!host)).evidence(
            "HostConfig.UsernsMode",
            shown(m),
            "anything but host",
        );
        if !host && remap.is_none() {
            o.note("the daemon does not remap user namespaces (userns-remap unset), so this container shares the host's user IDs anyway")
        } else {
            o
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Resources (5.11, 5.12, 5.19, 5.25, 5.29)
// ---------------------------------------------------------------------------------------------

fn bytes(n: i64) -> String {
    const MIB: i64 = 1024 * 1024;
    if n >= MIB && n % MIB == 0 {
        format!("{n} ({} MiB)", n / MIB)
    } else {
        n.to_string()
    }
}

/// 5.11: a memory limit is set.
fn memory_limit(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let m = c.inspect.host_config.memory;
        container_object(c, pass_or_fail(m > 0)).evidence(
            "HostConfig.Memory",
            if m > 0 {
                bytes(m)
            } else {
                "0 (unlimited)".into()
            },
            "a limit above 0 (--memory)",
        )
    })
}

/// 5.12: CPU use is bounded or weighted: CpuShares, NanoCpus or CpuQuota set.
fn cpu_shares(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let hc = &c.inspect.host_config;
        let set = hc.cpu_shares > 0 || hc.nano_cpus > 0 || hc.cpu_quota > 0;
        container_object(c, pass_or_fail(set)).evidence(
            "HostConfig.CpuShares, NanoCpus, CpuQuota",
            format!(
                "CpuShares {}, NanoCpus {}, CpuQuota {}",
                hc.cpu_shares, hc.nano_cpus, hc.cpu_quota
            ),
            "at least one set (--cpu-shares, --cpus or --cpu-quota)",
        )
    })
}

/// The daemon's `default-ulimits` as (name, soft, hard): daemon.json's
/// `{"nofile": {"Soft": S, "Hard": H}}` or the flag's `nofile=SOFT:HARD` (`nofile=N` sets both).
fn daemon_default_ulimits(value: &serde_json::Value) -> Vec<(String, i64, i64)> {
    use serde_json::Value;
    match value {
        Value::Object(m) => m
            .iter()
            .filter_map(|(k, v)| {
                let soft = v.get("Soft")?.as_i64()?;
                let hard = v.get("Hard")?.as_i64()?;
                Some((k.clone(), soft, hard))
            })
            .collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|v| {
                let (name, limits) = v.split_once('=')?;
                let (soft, hard) = limits.split_once(':').unwrap_or((limits, limits));
                Some((name.to_string(), soft.parse().ok()?, hard.parse().ok()?))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// 5.19 (manual): which ulimits apply, the container's own or the daemon's defaults. The Engine
/// API merges the daemon's default-ulimits into every container's `HostConfig.Ulimits` when it
/// answers an inspect, so an entry equal to the daemon default is reported as that default, not
/// as a limit the container set.
fn ulimits(ctx: &Context<'_>) -> CheckResult {
    let defaults = ctx.daemon_settings().get("default-ulimits");
    let default_list = defaults
        .as_ref()
        .map(|s| daemon_default_ulimits(&s.value))
        .unwrap_or_default();
    per_container(ctx, |c| {
        let (inherited, own): (Vec<_>, Vec<_>) = c
            .inspect
            .host_config
            .ulimits
            .iter()
            .flatten()
            .partition(|u| {
                default_list
                    .iter()
                    .any(|(n, s, h)| *n == u.name && *s == u.soft && *h == u.hard)
            });
        let fmt = |l: &[&bulkhead_facts::docker::Ulimit]| {
            l.iter()
                .map(|u| format!("{}={}:{}", u.name, u.soft, u.hard))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let actual = if !own.is_empty() || !inherited.is_empty() {
            let mut parts = Vec::new();
            if !own.is_empty() {
                parts.push(format!("container sets {}", fmt(&own)));
            }
            if let (false, Some(s)) = (inherited.is_empty(), &defaults) {
                parts.push(format!("daemon default ({}) {}", s.source, fmt(&inherited)));
            }
            parts.join("; ")
        } else {
            match &defaults {
                Some(s) => format!(
                    "none of its own; daemon defaults from {}: {}",
                    s.source, s.value
                ),
                None => {
                    "none of its own; no daemon default-ulimits (the host's limits apply)".into()
                }
            }
        };
        container_object(c, Status::Manual)
            .evidence(
                "HostConfig.Ulimits",
                actual,
                "limits that fit the workload (--ulimit where the defaults do not)",
            )
            .note("decide whether the defaults suit this workload")
    })
}

/// 5.25: the container stays in Docker's cgroup; a custom `--cgroup-parent` needs confirming.
fn cgroup_confirmed(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let p = &c.inspect.host_config.cgroup_parent;
        let o = container_object(
            c,
            if p.is_empty() {
                Status::Pass
            } else {
                Status::Warn
            },
        )
        .evidence(
            "HostConfig.CgroupParent",
            shown(p),
            "(empty): Docker's own cgroup",
        );
        if p.is_empty() {
            o
        } else {
            o.note("confirm this cgroup parent limits the container as intended")
        }
    })
}

/// 5.29: a PIDs limit above 0 is set (0 and -1 mean unlimited).
fn pids_limit(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let l = c.inspect.host_config.pids_limit;
        let ok = l.is_some_and(|n| n > 0);
        container_object(c, pass_or_fail(ok)).evidence(
            "HostConfig.PidsLimit",
            match l {
                None => "unset (unlimited)".to_string(),
                Some(n) if n <= 0 => format!("{n} (unlimited)"),
                Some(n) => n.to_string(),
            },
            "a limit above 0 (--pids-limit)",
        )
    })
}

// ---------------------------------------------------------------------------------------------
// Read-only root, restart, devices, seccomp, no-new-privileges, health, exec, image, bridge
// ---------------------------------------------------------------------------------------------

/// 5.13: the root file system is mounted read-only.
fn read_only_rootfs(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let ro = c.inspect.host_config.readonly_rootfs;
        container_object(c, if ro { Status::Pass } else { Status::Fail }).evidence(
            "HostConfig.ReadonlyRootfs",
            ro.to_string(),
            "true",
        )
    })
}

/// Label dockerd puts on the containers of swarm service tasks.
const SWARM_SERVICE_LABEL: &str = "com.docker.swarm.service.name";

/// 5.15: restarts are bounded: `on-failure` with 1 to 5 retries, or no restart policy at all.
/// `always` and `unless-stopped` restart forever and fail, as does on-failure without a bound.
/// Containers of swarm tasks are restarted by their service's policy, which is left to review.
fn restart_on_failure_5(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let rp = &c.inspect.host_config.restart_policy;
        if let Some(service) = c.inspect.config.labels.get(SWARM_SERVICE_LABEL) {
            return container_object(c, Status::Manual)
                .evidence(
                    "Config.Labels",
                    format!("task of swarm service {service}"),
                    "on-failure with at most 5 attempts",
                )
                .note(format!(
                    "the swarm restarts this task by the service's restart policy, not the container's: check --restart-condition and --restart-max-attempts with docker service inspect {service}"
                ));
        }
        let name = if rp.name.is_empty() {
            "no"
        } else {
            rp.name.as_str()
        };
        let (ok, actual) = match name {
            "no" => (true, "no".to_string()),
            "on-failure" => (
                (1..=5).contains(&rp.maximum_retry_count),
                if rp.maximum_retry_count == 0 {
                    "on-failure (unlimited retries)".to_string()
                } else {
                    format!("on-failure:{}", rp.maximum_retry_count)
                },
            ),
            other => (false, other.to_string()),
        };
        container_object(c, pass_or_fail(ok)).evidence(
            "HostConfig.RestartPolicy",
            actual,
            "on-failure with at most 5 retries (or no restart)",
        )
    })
}

/// 5.18 (manual): host devices passed into the container.
fn no_host_devices(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let hc = &c.inspect.host_config;
        let devices: Vec<String> = hc
            .devices
            .iter()
            .flatten()
            .map(|d| {
                format!(
                    "{}:{}:{}",
                    d.path_on_host, d.path_in_container, d.cgroup_permissions
                )
            })
            .collect();
        let expected =
            "no host device, or only the ones the workload needs with the least permissions";
        if hc.privileged {
            return container_object(c, Status::Warn)
                .evidence("HostConfig.Privileged", "true", expected)
                .note("privileged: every host device is visible in the container");
        }
        if devices.is_empty() {
            return container_object(c, Status::Pass).evidence(
                "HostConfig.Devices",
                "none",
                expected,
            );
        }
        container_object(c, Status::Warn)
            .evidence("HostConfig.Devices", devices.join(", "), expected)
            .note("confirm each device is needed and its permissions (rwm) are the least that work")
    })
}

/// The daemon-wide reason containers without their own seccomp option run unconfined, if any.
fn daemon_seccomp_off(ctx: &Context<'_>) -> Option<String> {
    if let Some((p, source)) = ctx.daemon_settings().string("seccomp-profile") {
        if p == "unconfined" {
            return Some(format!(
                "the daemon's default profile is unconfined ({source})"
            ));
        }
    }
    let info = ctx.docker()?.info.value()?;
    let seccomp = info
        .security_options
        .iter()
        .find(|o| o.split(',').any(|kv| kv == "name=seccomp"));
    match seccomp {
        Some(o) if o.split(',').any(|kv| kv == "profile=unconfined") => {
            Some(format!("the daemon reports {o} in Info.SecurityOptions"))
        }
        None if !info.security_options.is_empty() => {
            Some("the daemon reports no seccomp support in Info.SecurityOptions".to_string())
        }
        _ => None,
    }
}

/// 5.22: the container runs with a seccomp filter: not `seccomp=unconfined`, not privileged
/// (privileged containers run without one), and not under a daemon whose default is unconfined.
fn seccomp_enabled(ctx: &Context<'_>) -> CheckResult {
    let daemon_off = daemon_seccomp_off(ctx);
    per_container(ctx, |c| {
        let opts: Vec<String> = c
            .inspect
            .host_config
            .security_opt
            .iter()
            .flatten()
            .filter(|o| security_opt(o).0 == "seccomp")
            .map(|o| describe_security_opt(o))
            .collect();
        let own = security_opt_values(c, "seccomp")
            .into_iter()
            .flatten()
            .last();
        let actual = if opts.is_empty() {
            "no seccomp option (daemon default)".to_string()
        } else {
            opts.join(", ")
        };
        let expected = "Docker's default profile or a custom one; never unconfined";
        let o = |status| {
            container_object(c, status).evidence("HostConfig.SecurityOpt", actual.clone(), expected)
        };
        if c.inspect.host_config.privileged {
            return o(Status::Fail).note("privileged containers run without a seccomp filter");
        }
        match own {
            Some("unconfined") => o(Status::Fail),
            Some(_) => o(Status::Pass),
            None => match &daemon_off {
                Some(why) => o(Status::Fail).note(why.clone()),
                None => o(Status::Pass),
            },
        }
    })
}

/// 5.23 (automated in the benchmark, but Docker keeps no readable record): privileged exec.
fn no_privileged_exec(ctx: &Context<'_>) -> CheckResult {
    exec_review(ctx, "--privileged")
}

/// 5.24 (manual): exec sessions as root.
fn no_root_exec(ctx: &Context<'_>) -> CheckResult {
    exec_review(ctx, "--user root (or 0)")
}

fn exec_review(ctx: &Context<'_>, option: &str) -> CheckResult {
    per_container(ctx, |c| {
        container_object(c, Status::Manual)
            .evidence(
                "exec sessions",
                "not recorded by the Engine API",
                format!("no docker exec with {option}"),
            )
            .note(format!(
            "the Engine API keeps no history of finished exec sessions; review the daemon's audit trail (auditd rules on the Docker binaries, `docker events --filter event=exec_create`) for exec with {option}"
        ))
    })
}

/// Whether `no-new-privileges` is on for this container, where that came from, and, when the
/// daemon-wide setting is all there is and nothing shows this container was created with it,
/// why not (the status is then a warn). A container's own option (`no-new-privileges`, `=true`,
/// `:false`, ...) overrides the daemon-wide setting.
fn effective_no_new_privileges(
    c: &ContainerFacts,
    daemon: &Option<(bool, String)>,
    not_inherited: impl Fn(&ContainerFacts) -> Option<String>,
) -> (Status, String, Option<String>) {
    // The last option wins, as in dockerd; evidence shows it as written.
    let own = c
        .inspect
        .host_config
        .security_opt
        .iter()
        .flatten()
        .rfind(|o| security_opt(o).0 == "no-new-privileges");
    match own.map(|o| (o, security_opt(o).1)) {
        Some((written, None)) => (Status::Pass, written.clone(), None),
        Some((written, Some(v))) => match parse_go_bool(v) {
            Some(b) => (pass_or_fail(b), written.clone(), None),
            // dockerd refuses to create such a container; treat an unreadable value as off.
            None => (Status::Fail, format!("{written} (not a boolean)"), None),
        },
        None => match daemon {
            Some((true, source)) => {
                let actual = format!("not set on the container; daemon-wide true ({source})");
                match not_inherited(c) {
                    None => (Status::Pass, actual, None),
                    Some(why) => (Status::Warn, actual, Some(why)),
                }
            }
            Some((false, source)) => (
                Status::Fail,
                format!("not set on the container; daemon-wide false ({source})"),
                None,
            ),
            None => (
                Status::Fail,
                "not set on the container or the daemon".to_string(),
                None,
            ),
        },
    }
}

/// Why a container without its own option may run without the daemon-wide no-new-privileges
/// that the running dockerd has (`source` names where that setting comes from). dockerd copies
/// the setting into a container when it creates it, never later: a container created before
/// the running daemon loaded the setting keeps running without it, across restarts. So the
/// setting counts only for a container created after the running dockerd started, by a daemon
/// that has loaded it (a flag, or a daemon.json not changed since the start), and, for a
/// setting from daemon.json, after the file last changed (its earlier content may not have
/// had it). None when all of that is shown.
fn daemon_nnp_not_inherited(ctx: &Context<'_>, c: &ContainerFacts, source: &str) -> Option<String> {
    let fix =
        "recreate it, or give it --security-opt no-new-privileges, so that it provably has it";
    let daemon = &ctx.docker()?.daemon;
    let label = ctx.daemon_settings().config_path_label();
    let from_file = source
        .strip_prefix(label)
        .is_some_and(|rest| rest.starts_with(' '));
    if from_file {
        if let Some((modified, started)) = daemon.config_changed_after_start() {
            return Some(format!(
                "{label} changed at {modified}, after dockerd started at {started}: the running daemon may not have loaded the setting, and dockerd gives it only to containers it creates after loading it; restart dockerd, then {fix}"
            ));
        }
    }
    let created = c.inspect.created.as_str();
    let how = "dockerd gives a container its daemon-wide no-new-privileges only when it creates it";
    let (Some(started), Some(created_s)) = (daemon.started_at.as_deref(), rfc3339_to_unix(created))
    else {
        return Some(format!(
            "when the container was created ({}) or when dockerd started ({}) is not known: {how}, so nothing shows this one has it; {fix}",
            if created.is_empty() { "not recorded" } else { created },
            daemon.started_at.as_deref().unwrap_or("not recorded"),
        ));
    };
    // Whole seconds on every side. The daemon answers the API (and creates containers) only
    // some time after its process starts, so the same second counts as after the start; a
    // container created in the second the file changed may predate the change.
    if rfc3339_to_unix(started).is_some_and(|s| created_s < s) {
        return Some(format!(
            "created at {created}, before the running dockerd started at {started}: {how}, so this one has it only if the daemon that created it did; {fix}"
        ));
    }
    if let (true, Some(modified)) = (from_file, daemon.config_modified_at.as_deref()) {
        if rfc3339_to_unix(modified).is_some_and(|m| created_s <= m) {
            return Some(format!(
                "created at {created}, not after {label} last changed at {modified}: {how}, so this one has it only if the file already set it then; {fix}"
            ));
        }
    }
    None
}

/// The kernel's no_new_privs flag on a running container's init process (`State.Pid`), as
/// read from the host's /proc: the process and the flag. None when it was not read: a remote
/// daemon, a container that is not running, an init process that was not visible, a kernel or
/// snapshot without the flag.
fn init_no_new_privs(c: &ContainerFacts) -> Option<(&Process, bool)> {
    let state = &c.inspect.state;
    if !state.running {
        return None;
    }
    let pid = u32::try_from(state.pid).ok().filter(|p| *p > 0)?;
    let init = c.processes.value()?.iter().find(|p| p.pid == pid)?;
    Some((init, init.no_new_privs?))
}

/// The verdict from the flag the kernel shows on the container's init process, which every
/// process it starts inherits and none can clear. The configuration (`configured`: the status,
/// evidence and note [`effective_no_new_privileges`] gives) explains it in the note: the flag
/// off fails whatever the configuration says; the flag on passes when the configuration asks for
/// it, and is a warn when it does not (processes started by `docker exec` would lack it).
fn kernel_no_new_privileges(
    c: &ContainerFacts,
    init: &Process,
    on: bool,
    configured: (Status, String, Option<String>),
) -> ObjectResult {
    let (status, actual, why) = configured;
    let process = format!("its init process {} ({})", init.pid, shown(&init.comm));
    let note = match (on, status) {
        (true, Status::Fail) => format!(
            "{process} has the flag although the configuration does not ask for it ({actual}): something in the container set it; processes started with docker exec do not descend from it and may run without it"
        ),
        (true, _) => format!("configured: {actual}; the kernel confirms it for {process}"),
        (false, Status::Fail) => format!("configured: {actual}"),
        (false, Status::Pass) => format!(
            "configured: {actual}, yet {process} runs without the flag: the container does not run as configured; recreate it and check that it then has the flag"
        ),
        // Only the daemon-wide setting with nothing to show the container was created under
        // it: the flag shows it was not.
        (false, _) => match why {
            Some(why) => format!(
                "configured: {actual}, yet {process} runs without the flag: the daemon-wide setting did not reach this container ({why})"
            ),
            None => format!("configured: {actual}, yet {process} runs without the flag"),
        },
    };
    // The flag on without the configuration asking for it covers the workload but not what
    // `docker exec` starts later: not proven for the container as a whole.
    let verdict = match (on, status) {
        (true, Status::Fail) => Status::Warn,
        _ => pass_or_fail(on),
    };
    container_object(c, verdict)
        .evidence(
            format!("/proc/{}/status NoNewPrivs", init.pid),
            if on { "1" } else { "0" },
            "1 (no-new-privileges on the container or daemon-wide)",
        )
        .note(note)
}

/// 5.26: processes cannot gain privileges (setuid binaries, file capabilities). For a running
/// container whose init process was read from the host's /proc, the kernel's no_new_privs flag
/// on that process decides ([`kernel_no_new_privileges`]). Otherwise the configuration does,
/// parsed as dockerd parses it: `no-new-privileges:false` turns the protection off, and a
/// container that relies on the daemon-wide setting passes only when it was created by the
/// running daemon with that setting loaded ([`daemon_nnp_not_inherited`]); else it is a warn.
fn no_new_privileges(ctx: &Context<'_>) -> CheckResult {
    let daemon = ctx.daemon_settings().bool("no-new-privileges");
    let source = daemon.as_ref().map(|(_, s)| s.clone()).unwrap_or_default();
    per_container(ctx, |c| {
        let configured =
            effective_no_new_privileges(c, &daemon, |c| daemon_nnp_not_inherited(ctx, c, &source));
        if let Some((init, on)) = init_no_new_privs(c) {
            return kernel_no_new_privileges(c, init, on, configured);
        }
        let (status, actual, why) = configured;
        let o = container_object(c, status).evidence(
            "HostConfig.SecurityOpt",
            actual,
            "no-new-privileges (on the container or daemon-wide)",
        );
        match why {
            Some(why) => o.note(why),
            None => o,
        }
    })
}

/// 5.27: the container has a health check and is healthy. Unhealthy fails; starting is a
/// warning; no health check (or one disabled with NONE) fails.
fn healthcheck_runtime(ctx: &Context<'_>) -> CheckResult {
    per_container(ctx, |c| {
        let hc = c.inspect.config.healthcheck.as_ref();
        let configured = hc.is_some_and(|h| !h.test.is_empty() && h.test[0] != "NONE");
        let health = c.inspect.state.health.as_ref().map(|h| h.status.as_str());
        let expected = "a health check that reports healthy";
        let o = |status, actual: String| {
            container_object(c, status).evidence("State.Health.Status", actual, expected)
        };
        if !configured {
            let actual = if hc.is_some() {
                "health check disabled (NONE)"
            } else {
                "no health check"
            };
            return o(Status::Fail, actual.to_string());
        }
        if !c.inspect.state.running {
            return o(
                Status::Pass,
                format!(
                    "health check configured; not running ({})",
                    shown(&c.inspect.state.status)
                ),
            )
            .note("its health is checked once it runs");
        }
        match health {
            Some("healthy") => o(Status::Pass, "healthy".into()),
            Some("unhealthy") => {
                let streak = c
                    .inspect
                    .state
                    .health
                    .as_ref()
                    .map_or(0, |h| h.failing_streak);
                o(Status::Fail, "unhealthy".into())
                    .note(format!("{streak} consecutive failed probes"))
            }
            Some("starting") => {
                o(Status::Warn, "starting".into()).note("the first probes have not completed yet")
            }
            Some(other) => o(Status::Fail, shown(other)),
            None => o(Status::Fail, "no health state".into()),
        }
    })
}

/// `nginx` -> `nginx:latest`; references with a tag or digest stay as they are.
fn with_default_tag(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if reference.contains('@') || last.contains(':') {
        reference.to_string()
    } else {
        format!("{reference}:latest")
    }
}

/// 5.28 (manual): which image each container runs, and whether its tag has moved on since.
fn latest_image(ctx: &Context<'_>) -> CheckResult {
    let images = ctx.docker().and_then(|d| d.images.value());
    per_container(ctx, |c| {
        let reference = &c.inspect.config.image;
        let actual = format!(
            "{} ({})",
            shown(reference),
            bulkhead_facts::docker::short_image_id(&c.inspect.image)
        );
        let expected =
            "the image the tag currently names, pulled fresh when the container was created";
        let tagged = with_default_tag(reference);
        let now = images.and_then(|all| all.iter().find(|i| i.inspect.repo_tags.contains(&tagged)));
        match now {
            Some(i) if i.inspect.id != c.inspect.image => container_object(c, Status::Warn)
                .evidence("Image", actual, expected)
                .note(format!(
                    "{tagged} now names image {}: the container runs an older image; recreate it",
                    bulkhead_facts::docker::short_image_id(&i.inspect.id)
                )),
            _ => container_object(c, Status::Manual)
                .evidence("Image", actual, expected)
                .note("confirm the image is pulled fresh (docker pull, or --pull always) before containers are created"),
        }
    })
}

/// The daemon's default bridge network (`bridge`, interface docker0 unless configured).
fn default_bridge(networks: &[Network]) -> Option<&Network> {
    networks
        .iter()
        .find(|n| {
            n.options
                .get("com.docker.network.bridge.default_bridge")
                .is_some_and(|v| v == "true")
        })
        .or_else(|| {
            networks
                .iter()
                .find(|n| n.name == "bridge" && n.driver == "bridge")
        })
}

/// 5.30 (manual): containers attached to the default bridge, where every container can reach
/// every other.
fn no_default_bridge(ctx: &Context<'_>) -> CheckResult {
    let networks = ctx.docker().and_then(|d| d.networks.value());
    let bridge = networks.and_then(|n| default_bridge(n));
    if networks.is_some() && bridge.is_none() {
        // dockerd started with `bridge: none` creates no default bridge; its containers' endpoint
        // named "bridge" then has no network behind it (no NetworkID, no address).
        return CheckResult::not_applicable(
            "this daemon has no default bridge network (its network list holds none: dockerd runs with bridge: none), so no container can be on it",
        );
    }
    let (bridge_name, bridge_id, iface) = match bridge {
        Some(b) => (
            b.name.clone(),
            b.id.clone(),
            b.options
                .get("com.docker.network.bridge.name")
                .cloned()
                .unwrap_or_else(|| "docker0".into()),
        ),
        None => ("bridge".to_string(), String::new(), "docker0".to_string()),
    };
    per_container(ctx, |c| {
        let nets = c.inspect.network_settings.networks.as_ref();
        let on_bridge = nets.is_some_and(|m| {
            m.iter().any(|(name, ep)| {
                *name == bridge_name || (!bridge_id.is_empty() && ep.network_id == bridge_id)
            })
        }) || (nets.is_none_or(|m| m.is_empty())
            && matches!(
                c.inspect.host_config.network_mode.as_str(),
                "default" | "bridge"
            ));
        let names: Vec<String> = nets.into_iter().flatten().map(|(n, _)| n.clone()).collect();
        let actual = if names.is_empty() {
            format!("NetworkMode {}", shown(&c.inspect.host_config.network_mode))
        } else {
            names.join(", ")
        };
        let o = container_object(
            c,
            if on_bridge {
                Status::Warn
            } else {
                Status::Pass
            },
        )
        .evidence(
            "NetworkSettings.Networks",
            actual,
            format!("a user-defined network, not the default {bridge_name} ({iface})"),
        );
        if on_bridge {
            o.note("on the default bridge every container can reach every other; move it to a user-defined network")
        } else {
            o
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use crate::model::{CheckResult, Status};
    use bulkhead_facts::docker::*;
    use bulkhead_facts::host::Process;
    use bulkhead_facts::Fact;
    use std::collections::BTreeMap;

    fn verdicts(r: &CheckResult) -> Vec<(&str, Status)> {
        r.objects
            .iter()
            .map(|o| (o.name.as_str(), o.status))
            .collect()
    }

    fn status_of(r: &CheckResult, name: &str) -> Status {
        r.objects
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no object {name} in {r:?}"))
            .status
    }

    fn actual_of(r: &CheckResult, name: &str) -> String {
        r.objects
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.evidence.as_ref())
            .map(|e| e.actual.clone())
            .unwrap_or_default()
    }

    fn opts(list: &[&str]) -> Option<Vec<String>> {
        Some(list.iter().map(|s| s.to_string()).collect())
    }

    fn bind(source: &str, destination: &str, rw: bool) -> MountPoint {
        MountPoint {
            kind: "bind".into(),
            source: source.into(),
            destination: destination.into(),
            rw,
            propagation: "rprivate".into(),
            ..Default::default()
        }
    }

    fn ports(list: &[(&str, &str, &str)]) -> Option<BTreeMap<String, Option<Vec<PortBinding>>>> {
        let mut m: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
        for (cport, ip, hport) in list {
            m.entry(cport.to_string())
                .or_insert_with(|| Some(vec![]))
                .as_mut()
                .unwrap()
                .push(PortBinding {
                    host_ip: ip.to_string(),
                    host_port: hport.to_string(),
                });
        }
        Some(m)
    }

    fn with_security_options(f: Fixture, options: &[&str]) -> Fixture {
        f.edit_docker(|d| {
            if let Fact::Value(i) = &mut d.info {
                i.security_options = options.iter().map(|s| s.to_string()).collect();
            }
        })
    }

    #[test]
    fn read_only_rootfs_per_container() {
        let f = Fixture::new()
            .container("ro", |c| c.host_config.readonly_rootfs = true)
            .container("rw", |_| {});
        let r = f.check("docker.container.read_only_rootfs");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            verdicts(&r),
            vec![("ro", Status::Pass), ("rw", Status::Fail)]
        );
    }

    #[test]
    fn no_containers_is_not_applicable_with_reason() {
        let r = Fixture::new().check("docker.container.read_only_rootfs");
        assert_eq!(r.status, Status::NotApplicable);
        assert_eq!(r.message.as_deref(), Some("no running containers"));
    }

    #[test]
    fn pitfall_18_no_containers_every_container_check_reports_not_applicable() {
        // docker-bench drops 31 checks from its output when no container runs.
        for (id, _) in super::EVALUATORS {
            let r = Fixture::new()
                .edit_host(|h| h.security_modules.apparmor = Fact::Value(true))
                .edit_host(|h| h.security_modules.selinux = Fact::Value(true))
                .check(id);
            assert_eq!(r.status, Status::NotApplicable, "{id}: {r:?}");
            assert!(r.message.as_deref().is_some_and(|m| !m.is_empty()), "{id}");
        }
    }

    #[test]
    fn pitfall_18_container_named_nil_and_stopped_ones_are_judged() {
        let f = Fixture::new()
            .container("nil", |_| {})
            .container("nil-proxy", |c| c.host_config.privileged = true)
            .container("stopped", |c| {
                c.state.status = "exited".into();
                c.state.running = false;
                c.host_config.privileged = true;
            })
            .container("fresh", |c| {
                c.state.status = "created".into();
                c.state.running = false;
            })
            .edit_docker(|d| d.selection.all_states = true);
        let r = f.check("docker.container.not_privileged");
        assert_eq!(
            verdicts(&r),
            vec![
                ("nil", Status::Pass),
                ("nil-proxy", Status::Fail),
                ("stopped", Status::Fail),
                ("fresh", Status::Pass)
            ]
        );
        assert_eq!(r.message.as_deref(), Some("2 of 4 containers fail"));
    }

    #[test]
    fn selection_leaves_out_is_said_when_nothing_is_left() {
        let r = Fixture::new()
            .edit_docker(|d| {
                d.selection.skipped.push(SkippedContainer {
                    id: "abc".into(),
                    name: "db".into(),
                    state: "running".into(),
                    reason: "excluded by --exclude db".into(),
                    unreadable: false,
                    by_filter: true,
                })
            })
            .check("docker.container.memory_limit");
        assert_eq!(r.status, Status::NotApplicable);
        assert_eq!(
            r.message.as_deref(),
            Some("no running containers were selected (1 left out by the selection)")
        );
    }

    #[test]
    fn a_container_that_could_not_be_inspected_is_an_error_not_left_out() {
        let r = Fixture::new()
            .container("web", |c| c.host_config.memory = 256 << 20)
            .edit_docker(|d| {
                d.selection.skipped.push(SkippedContainer {
                    id: "0123456789abcdef".into(),
                    name: "db".into(),
                    state: "running".into(),
                    reason: "inspect of container db failed: no answer within 120 s".into(),
                    unreadable: true,
                    by_filter: false,
                })
            })
            .check("docker.container.memory_limit");
        assert_eq!(r.status, Status::Error);
        assert_eq!(
            verdicts(&r),
            vec![("web", Status::Pass), ("db", Status::Error)]
        );
        let db = &r.objects[1];
        assert_eq!(db.id.as_deref(), Some("0123456789ab"));
        assert_eq!(
            db.note.as_deref(),
            Some("inspect of container db failed: no answer within 120 s")
        );
        assert_eq!(
            r.message.as_deref(),
            Some("1 of 2 containers could not be evaluated")
        );
    }

    // --- 5.2 / 5.3: PITFALL 9 ---------------------------------------------------------------

    #[test]
    fn pitfall_9_apparmor_not_applicable_without_apparmor() {
        let f = Fixture::new()
            .container("web", |c| c.app_armor_profile = String::new())
            .edit_host(|h| h.security_modules.apparmor = Fact::Value(false));
        let r = f.check("docker.container.apparmor");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("AppArmor is not enabled"));
    }

    #[test]
    fn apparmor_judged_per_container_when_enabled() {
        let f = with_security_options(
            Fixture::new(),
            &["name=apparmor", "name=seccomp,profile=builtin"],
        )
        .container("default", |c| c.app_armor_profile = "docker-default".into())
        .container("unconfined", |c| c.app_armor_profile = "unconfined".into())
        .container("created", |c| {
            c.state.status = "created".into();
            c.state.running = false;
        })
        .container("priv-created", |c| {
            c.state.status = "created".into();
            c.state.running = false;
            c.host_config.privileged = true;
        });
        let r = f.check("docker.container.apparmor");
        assert_eq!(
            verdicts(&r),
            vec![
                ("default", Status::Pass),
                ("unconfined", Status::Fail),
                ("created", Status::Pass),
                ("priv-created", Status::Fail)
            ]
        );
    }

    #[test]
    fn apparmor_unknown_is_an_error_not_a_pass() {
        let f = Fixture::new()
            .container("web", |_| {})
            .edit_docker(|d| d.info = Fact::unavailable("permission denied"))
            .edit_host(|h| h.security_modules.apparmor = Fact::unavailable("no /sys"));
        assert_eq!(f.check("docker.container.apparmor").status, Status::Error);
    }

    #[test]
    fn pitfall_9_selinux_not_applicable_without_selinux() {
        let f = Fixture::new()
            .container("web", |c| {
                c.host_config.security_opt = opts(&["label=disable"])
            })
            .edit_host(|h| h.security_modules.selinux = Fact::Value(false));
        let r = f.check("docker.container.selinux");
        assert_eq!(r.status, Status::NotApplicable);
    }

    #[test]
    fn pitfall_9_selinux_counts_only_label_options() {
        // docker-bench counts any security option as "SELinux options": label=disable,
        // seccomp=unconfined and no-new-privileges all pass there.
        let f = with_security_options(
            Fixture::new(),
            &["name=selinux", "name=seccomp,profile=builtin"],
        )
        .container("disabled", |c| {
            c.host_config.security_opt = opts(&["label=disable"])
        })
        .container("seccomp-only", |c| {
            c.host_config.security_opt = opts(&["seccomp=unconfined", "no-new-privileges"])
        })
        .container("level", |c| {
            c.host_config.security_opt = opts(&["label=level:s0:c100,c200"]);
            c.process_label = "system_u:system_r:container_t:s0:c100,c200".into();
        })
        .container("default-label", |c| {
            c.process_label = "system_u:system_r:container_t:s0:c1,c2".into()
        });
        let r = f.check("docker.container.selinux");
        assert_eq!(
            verdicts(&r),
            vec![
                ("disabled", Status::Fail),
                ("seccomp-only", Status::Fail),
                ("level", Status::Pass),
                ("default-label", Status::Pass)
            ]
        );
        assert_eq!(
            actual_of(&r, "seccomp-only"),
            "no label= options; ProcessLabel (empty)"
        );
    }

    #[test]
    fn selinux_host_without_daemon_labelling_fails_with_the_fix() {
        let f = Fixture::new()
            .container("web", |_| {})
            .edit_host(|h| h.security_modules.selinux = Fact::Value(true));
        let r = f.check("docker.container.selinux");
        assert_eq!(r.status, Status::Fail);
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("--selinux-enabled"));
    }

    // --- 5.4: PITFALL 10 --------------------------------------------------------------------

    #[test]
    fn pitfall_10_cap_drop_is_read() {
        let f = Fixture::new()
            .container("drop-all", |c| c.host_config.cap_drop = opts(&["ALL"]))
            .container("drop-all-add-bind", |c| {
                c.host_config.cap_drop = opts(&["ALL"]);
                c.host_config.cap_add = opts(&["NET_BIND_SERVICE"]);
            })
            .container("drop-all-add-admin", |c| {
                c.host_config.cap_drop = opts(&["all"]);
                c.host_config.cap_add = opts(&["CAP_SYS_ADMIN"]);
            })
            .container("untouched", |_| {});
        let r = f.check("docker.container.capabilities");
        assert_eq!(
            verdicts(&r),
            vec![
                ("drop-all", Status::Pass),
                ("drop-all-add-bind", Status::Pass),
                ("drop-all-add-admin", Status::Fail),
                ("untouched", Status::Warn)
            ]
        );
    }

    #[test]
    fn pitfall_10_added_capabilities_listed_with_separators() {
        let f = Fixture::new().container("net", |c| {
            c.host_config.cap_add = opts(&["NET_ADMIN", "cap_sys_ptrace", "CHOWN"]);
            c.host_config.cap_drop = opts(&["MKNOD", "NET_RAW"]);
        });
        let r = f.check("docker.container.capabilities");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            actual_of(&r, "net"),
            "added: NET_ADMIN, SYS_PTRACE, CHOWN; dropped: MKNOD, NET_RAW"
        );
        assert_eq!(
            r.objects[0].note.as_deref(),
            Some("adds capabilities beyond Docker's defaults: NET_ADMIN, SYS_PTRACE")
        );
    }

    #[test]
    fn privileged_or_add_all_fails_capabilities() {
        let f = Fixture::new()
            .container("priv", |c| c.host_config.privileged = true)
            .container("all", |c| c.host_config.cap_add = opts(&["ALL"]));
        let r = f.check("docker.container.capabilities");
        assert_eq!(
            verdicts(&r),
            vec![("priv", Status::Fail), ("all", Status::Fail)]
        );
    }

    // --- 5.6 / 5.32: PITFALL 11 -------------------------------------------------------------

    #[test]
    fn pitfall_11_sensitive_mounts_include_subdirectories_sockets_and_homes() {
        let f = Fixture::new()
            .edit_host(|h| {
                h.users = Fact::Value(bulkhead_facts::host::parse_passwd(
                    "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/srv/alice:/bin/bash\n",
                ))
            })
            .daemon(
                "--containerd /run/containerd/containerd.sock -H unix:///tmp/d/docker.sock",
                None,
            )
            .container("ssl-ro", |c| {
                c.mounts = vec![bind("/etc/ssl", "/etc/ssl", false)]
            })
            .container("ssl-rw", |c| {
                c.mounts = vec![bind("/etc/ssl/", "/certs", true)]
            })
            .container("var-run", |c| {
                c.mounts = vec![bind("/var/run", "/host-run", false)]
            })
            .container("run", |c| {
                c.mounts = vec![bind("/run/user/1000", "/r", true)]
            })
            .container("containerd", |c| {
                c.mounts = vec![bind("/run/containerd/containerd.sock", "/c.sock", false)]
            })
            .container("custom-sock-dir", |c| {
                c.mounts = vec![bind("/tmp/d", "/d", false)]
            })
            .container("home", |c| {
                c.mounts = vec![bind("/srv/alice/.ssh", "/ssh", false)]
            })
            .container("root-home", |c| {
                c.mounts = vec![bind("/root", "/root", true)]
            })
            .container("host-root", |c| c.mounts = vec![bind("/", "/host", false)])
            .container("data", |c| {
                c.mounts = vec![bind("/srv/data", "/data", true)]
            })
            .container("etcetera", |c| {
                c.mounts = vec![bind("/etcetera", "/x", true)]
            })
            .container("volume", |c| {
                c.mounts = vec![MountPoint {
                    kind: "volume".into(),
                    name: "db".into(),
                    source: "/var/lib/docker/volumes/db/_data".into(),
                    destination: "/db".into(),
                    rw: true,
                    ..Default::default()
                }]
            });
        let r = f.check("docker.container.no_sensitive_mounts");
        assert_eq!(
            verdicts(&r),
            vec![
                ("ssl-ro", Status::Warn),
                ("ssl-rw", Status::Fail),
                ("var-run", Status::Fail),
                ("run", Status::Fail),
                ("containerd", Status::Fail),
                ("custom-sock-dir", Status::Fail),
                ("home", Status::Warn),
                ("root-home", Status::Fail),
                ("host-root", Status::Fail),
                ("data", Status::Pass),
                ("etcetera", Status::Pass),
                ("volume", Status::Pass),
            ]
        );
        assert_eq!(
            actual_of(&r, "ssl-ro"),
            "/etc/ssl -> /etc/ssl (read-only: the host's configuration)"
        );
        assert_eq!(
            actual_of(&r, "custom-sock-dir"),
            "/tmp/d -> /d (read-only: holds the Docker API socket /tmp/d/docker.sock)"
        );
        assert!(actual_of(&r, "ssl-rw").contains("read-write"));
        assert_eq!(
            actual_of(&r, "var-run"),
            "/var/run -> /host-run (read-only: the host's runtime state and sockets; holds the containerd socket /run/containerd/containerd.sock)"
        );
        assert_eq!(
            actual_of(&r, "host-root"),
            "/ -> /host (read-only: the host's whole file system; holds the Docker API socket /tmp/d/docker.sock; holds the containerd socket /run/containerd/containerd.sock)"
        );
        assert_eq!(
            actual_of(&r, "containerd"),
            "/run/containerd/containerd.sock -> /c.sock (read-only: the containerd socket)"
        );
    }

    #[test]
    fn golden_sensitive_mounts_result() {
        let f = Fixture::new().container("agent", |c| {
            c.mounts = vec![
                bind("/etc/ssl", "/etc/ssl", false),
                bind("/var/run/docker.sock", "/var/run/docker.sock", true),
                bind("/srv/www", "/www", false),
            ]
        });
        let r = f.check("docker.container.no_sensitive_mounts");
        let golden = serde_json::json!({
            "status": "fail",
            "message": "1 of 1 container fails",
            "objects": [{
                "kind": "container",
                "name": "agent",
                "id": "000000000000",
                "status": "fail",
                "evidence": {
                    "field": "Mounts",
                    "actual": "/etc/ssl -> /etc/ssl (read-only: the host's configuration); /var/run/docker.sock -> /var/run/docker.sock (read-write: the Docker API socket)",
                    "expected": "no bind mount of host system directories, Docker or containerd sockets, or home directories"
                },
                "note": "a read-write bind lets the container change the host; a socket gives control of the daemon even when bound read-only"
            }]
        });
        assert_eq!(serde_json::to_value(&r).unwrap(), golden);
    }

    /// The Engine API returns a container's mounts in no fixed order (two inspects of one
    /// container on dockerd 20.10 listed them differently): the evidence must not follow it.
    #[test]
    fn mount_evidence_does_not_depend_on_the_apis_order() {
        let one = vec![
            bind("/etc/ssl", "/x", true),
            bind("/run/docker.sock", "/var/run/docker.sock", true),
            MountPoint {
                propagation: "shared".into(),
                ..bind("/srv/a", "/a", true)
            },
            MountPoint {
                propagation: "rshared".into(),
                ..bind("/srv/b", "/b", true)
            },
        ];
        let mut other = one.clone();
        other.reverse();
        for control in [
            "docker.container.no_sensitive_mounts",
            "docker.container.no_shared_propagation",
            "docker.container.no_docker_socket",
        ] {
            let a = Fixture::new().container("c", |c| c.mounts = one.clone());
            let b = Fixture::new().container("c", |c| c.mounts = other.clone());
            assert_eq!(
                actual_of(&a.check(control), "c"),
                actual_of(&b.check(control), "c"),
                "{control}"
            );
        }
        let r = Fixture::new()
            .container("c", |c| c.mounts = other.clone())
            .check("docker.container.no_sensitive_mounts");
        assert!(
            actual_of(&r, "c").starts_with("/etc/ssl -> /x"),
            "{}",
            actual_of(&r, "c")
        );
    }

    #[test]
    fn var_run_and_run_are_one_directory_for_sockets() {
        // The default socket is configured as /var/run/docker.sock; /var/run links to /run.
        let f = Fixture::new()
            .container("run", |c| c.mounts = vec![bind("/run", "/host-run", false)])
            .container("run-sock", |c| {
                c.mounts = vec![bind("/run/docker.sock", "/d.sock", false)]
            });
        let r = f.check("docker.container.no_docker_socket");
        assert_eq!(
            verdicts(&r),
            vec![("run", Status::Fail), ("run-sock", Status::Fail)]
        );
        assert_eq!(
            actual_of(&r, "run"),
            "/run -> /host-run (holds /var/run/docker.sock)"
        );
        let r = f.check("docker.container.no_sensitive_mounts");
        assert_eq!(
            actual_of(&r, "run-sock"),
            "/run/docker.sock -> /d.sock (read-only: the Docker API socket)"
        );
    }

    #[test]
    fn docker_socket_mounts_found_by_path_and_by_configuration() {
        let f = Fixture::new()
            .daemon("-H unix:///srv/docker/api.sock", None)
            .container("default-sock", |c| {
                c.mounts = vec![bind("/var/run/docker.sock", "/var/run/docker.sock", false)]
            })
            .container("configured", |c| {
                c.mounts = vec![bind("/srv/docker/api.sock", "/s", true)]
            })
            .container("parent", |c| {
                c.mounts = vec![bind("/srv/docker", "/d", false)]
            })
            .container("clean", |c| {
                c.mounts = vec![bind("/srv/www", "/www", false)]
            });
        let r = f.check("docker.container.no_docker_socket");
        assert_eq!(
            verdicts(&r),
            vec![
                ("default-sock", Status::Fail),
                ("configured", Status::Fail),
                ("parent", Status::Fail),
                ("clean", Status::Pass)
            ]
        );
    }

    #[test]
    fn shared_propagation_fails() {
        let f = Fixture::new()
            .container("shared", |c| {
                let mut m = bind("/mnt", "/mnt", true);
                m.propagation = "rshared".into();
                c.mounts = vec![m];
            })
            .container("slave", |c| {
                let mut m = bind("/mnt", "/mnt", true);
                m.propagation = "rslave".into();
                c.mounts = vec![m];
            });
        let r = f.check("docker.container.no_shared_propagation");
        assert_eq!(
            verdicts(&r),
            vec![("shared", Status::Fail), ("slave", Status::Pass)]
        );
    }

    // --- 5.7: PITFALL 12 --------------------------------------------------------------------

    fn process(pid: u32, comm: &str, argv: &[&str]) -> Process {
        Process {
            pid,
            comm: comm.into(),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn pitfall_12_sshd_read_from_host_processes() {
        let f = Fixture::new()
            .container("ssh", |_| {})
            .container("busybox", |_| {})
            .container("unreadable", |_| {})
            .edit_container("ssh", |c| {
                c.processes = Fact::Value(vec![
                    process(10, "sh", &["/bin/sh"]),
                    process(
                        11,
                        "sshd",
                        &["sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"],
                    ),
                ])
            })
            .edit_container("busybox", |c| {
                c.processes = Fact::Value(vec![process(20, "sh", &["sh", "-c", "echo sshd"])])
            })
            .edit_container("unreadable", |c| {
                c.processes = Fact::unavailable("permission denied reading /proc/1234/ns/pid")
            });
        let r = f.check("docker.container.no_sshd");
        assert_eq!(
            verdicts(&r),
            vec![
                ("ssh", Status::Fail),
                ("busybox", Status::Pass),
                ("unreadable", Status::Error)
            ]
        );
        assert_eq!(actual_of(&r, "ssh"), "sshd (pid 11)");
        assert!(r.objects[2]
            .note
            .as_deref()
            .unwrap()
            .contains("permission denied"));
    }

    #[test]
    fn sshd_counts_only_running_containers_as_passing() {
        let f = Fixture::new()
            .container("up", |_| {})
            .container("down", |c| {
                c.state.status = "exited".into();
                c.state.running = false;
            });
        let r = f.check("docker.container.no_sshd");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(
            r.message.as_deref(),
            Some("all 1 running container pass; 1 not running")
        );
        assert_eq!(actual_of(&r, "up"), "0 processes, no SSH server");
        assert_eq!(status_of(&r, "down"), Status::NotApplicable);
    }

    #[test]
    fn sshd_on_a_remote_daemon_is_not_applicable() {
        let f = Fixture::new()
            .container("web", |_| {})
            .edit_docker(|d| d.endpoint.local = false);
        assert_eq!(
            f.check("docker.container.no_sshd").status,
            Status::NotApplicable
        );
    }

    // --- 5.8 / 5.9 / 5.14: PITFALL 13 -------------------------------------------------------

    #[test]
    fn pitfall_13_ipv6_bindings_are_parsed() {
        let f = Fixture::new()
            .container("v6-wide-80", |c| {
                c.network_settings.ports = ports(&[("80/tcp", "::", "80")])
            })
            .container("v4-local", |c| {
                c.network_settings.ports = ports(&[("80/tcp", "127.0.0.1", "8080")])
            })
            .container("v6-local", |c| {
                c.network_settings.ports = ports(&[("80/tcp", "::1", "8080")])
            })
            .container("dual", |c| {
                c.network_settings.ports =
                    ports(&[("80/tcp", "0.0.0.0", "8080"), ("80/tcp", "::", "8080")])
            });
        let low = f.check("docker.container.no_privileged_ports");
        assert_eq!(
            verdicts(&low),
            vec![
                ("v6-wide-80", Status::Fail),
                ("v4-local", Status::Pass),
                ("v6-local", Status::Pass),
                ("dual", Status::Pass)
            ]
        );
        assert_eq!(actual_of(&low, "v6-wide-80"), "[::]:80->80/tcp");
        let wide = f.check("docker.container.ports_bound_to_interface");
        assert_eq!(
            verdicts(&wide),
            vec![
                ("v6-wide-80", Status::Fail),
                ("v4-local", Status::Pass),
                ("v6-local", Status::Pass),
                ("dual", Status::Fail)
            ]
        );
        assert_eq!(
            actual_of(&wide, "dual"),
            "0.0.0.0:8080->80/tcp, [::]:8080->80/tcp"
        );
    }

    #[test]
    fn created_containers_use_configured_bindings_and_the_daemon_default_address() {
        let created = |c: &mut Container| {
            c.state.status = "created".into();
            c.state.running = false;
            c.host_config.port_bindings = ports(&[("443/tcp", "", "443")]);
        };
        let f = Fixture::new().container("c", created);
        assert_eq!(
            f.check("docker.container.ports_bound_to_interface").status,
            Status::Fail
        );
        assert_eq!(
            f.check("docker.container.no_privileged_ports").status,
            Status::Fail
        );
        let f = Fixture::new()
            .daemon("", Some(serde_json::json!({"ip": "127.0.0.1"})))
            .container("c", created);
        let r = f.check("docker.container.ports_bound_to_interface");
        assert_eq!(r.status, Status::Pass, "{r:?}");
    }

    /// `--network host` publishes nothing (Docker discards `-p` there), yet every port the
    /// container listens on is open on the host: "0 published" must not pass 5.8 and 5.14.
    #[test]
    fn host_network_containers_are_not_passed_on_empty_port_lists() {
        let f = Fixture::new()
            .container("hostnet", |c| c.host_config.network_mode = "host".into())
            .container("hostnet-created", |c| {
                c.host_config.network_mode = "host".into();
                c.state.status = "created".into();
                c.state.running = false;
                c.host_config.port_bindings = ports(&[("8080/tcp", "127.0.0.1", "8080")]);
            })
            .container("isolated", |c| c.host_config.network_mode = "none".into());
        for (control, host_status) in [
            ("docker.container.no_privileged_ports", Status::Warn),
            ("docker.container.ports_bound_to_interface", Status::Warn),
            ("docker.container.needed_ports_only", Status::Manual),
        ] {
            let r = f.check(control);
            assert_eq!(
                verdicts(&r),
                vec![
                    ("hostnet", host_status),
                    ("hostnet-created", host_status),
                    ("isolated", Status::Pass)
                ],
                "{control}"
            );
            assert!(
                actual_of(&r, "hostnet").starts_with("host: Docker publishes no ports"),
                "{control}"
            );
            assert!(
                note_of(&r, "hostnet").contains("host's own interfaces"),
                "{control}"
            );
        }
    }

    #[test]
    fn port_1024_is_not_privileged() {
        let f = Fixture::new()
            .container("p1023", |c| {
                c.network_settings.ports = ports(&[("1/tcp", "127.0.0.1", "1023")])
            })
            .container("p1024", |c| {
                c.network_settings.ports = ports(&[("1/tcp", "127.0.0.1", "1024")])
            });
        let r = f.check("docker.container.no_privileged_ports");
        assert_eq!(
            verdicts(&r),
            vec![("p1023", Status::Fail), ("p1024", Status::Pass)]
        );
    }

    #[test]
    fn needed_ports_is_manual_with_the_ports_as_evidence() {
        let f = Fixture::new()
            .container("web", |c| {
                c.network_settings.ports = ports(&[("80/tcp", "10.0.0.1", "8080")])
            })
            .container("worker", |_| {});
        let r = f.check("docker.container.needed_ports_only");
        assert_eq!(r.status, Status::Manual);
        assert_eq!(
            verdicts(&r),
            vec![("web", Status::Manual), ("worker", Status::Pass)]
        );
        assert_eq!(actual_of(&r, "web"), "10.0.0.1:8080->80/tcp");
    }

    // --- namespaces and resources ----------------------------------------------------------

    #[test]
    fn host_namespaces_fail() {
        let f = Fixture::new()
            .container("host", |c| {
                c.host_config.network_mode = "host".into();
                c.host_config.pid_mode = "host".into();
                c.host_config.ipc_mode = "host".into();
                c.host_config.uts_mode = "host".into();
                c.host_config.userns_mode = "host".into();
            })
            .container("private", |c| {
                c.host_config.network_mode = "bridge".into();
                c.host_config.pid_mode = "container:abc".into();
                c.host_config.ipc_mode = "private".into();
            });
        for id in [
            "docker.container.no_host_network",
            "docker.container.no_host_pid",
            "docker.container.no_host_ipc",
            "docker.container.no_host_uts",
            "docker.container.no_host_userns",
        ] {
            let r = f.check(id);
            assert_eq!(
                verdicts(&r),
                vec![("host", Status::Fail), ("private", Status::Pass)],
                "{id}"
            );
        }
    }

    #[test]
    fn resource_limits() {
        let f = Fixture::new()
            .container("limited", |c| {
                c.host_config.memory = 256 * 1024 * 1024;
                c.host_config.cpu_shares = 512;
                c.host_config.pids_limit = Some(100);
            })
            .container("quota", |c| c.host_config.cpu_quota = 50000)
            .container("nano", |c| {
                c.host_config.nano_cpus = 500_000_000;
                c.host_config.pids_limit = Some(-1);
            })
            .container("none", |c| c.host_config.pids_limit = Some(0));
        let m = f.check("docker.container.memory_limit");
        assert_eq!(status_of(&m, "limited"), Status::Pass);
        assert_eq!(actual_of(&m, "limited"), "268435456 (256 MiB)");
        assert_eq!(status_of(&m, "none"), Status::Fail);
        let c = f.check("docker.container.cpu_shares");
        assert_eq!(
            verdicts(&c),
            vec![
                ("limited", Status::Pass),
                ("quota", Status::Pass),
                ("nano", Status::Pass),
                ("none", Status::Fail)
            ]
        );
        let p = f.check("docker.container.pids_limit");
        assert_eq!(
            verdicts(&p),
            vec![
                ("limited", Status::Pass),
                ("quota", Status::Fail),
                ("nano", Status::Fail),
                ("none", Status::Fail)
            ]
        );
    }

    #[test]
    fn cgroup_parent_needs_confirming() {
        let f = Fixture::new()
            .container("default", |_| {})
            .container("custom", |c| {
                c.host_config.cgroup_parent = "/tenants/a".into()
            });
        let r = f.check("docker.container.cgroup_confirmed");
        assert_eq!(
            verdicts(&r),
            vec![("default", Status::Pass), ("custom", Status::Warn)]
        );
    }

    #[test]
    fn ulimits_manual_with_evidence() {
        let f = Fixture::new()
            .daemon("", Some(serde_json::json!({"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 1024, "Hard": 2048}}})))
            .container("own", |c| {
                c.host_config.ulimits = Some(vec![Ulimit { name: "nofile".into(), soft: 100, hard: 200 }])
            })
            .container("inherits", |_| {});
        let r = f.check("docker.container.ulimits");
        assert_eq!(r.status, Status::Manual);
        assert_eq!(actual_of(&r, "own"), "container sets nofile=100:200");
        assert!(actual_of(&r, "inherits")
            .contains("daemon defaults from /etc/docker/daemon.json default-ulimits"));
    }

    /// The Engine API merges the daemon's default-ulimits into each container's
    /// `HostConfig.Ulimits` when answering an inspect (seen on dockerd 20.10): an entry equal to
    /// the daemon default is the default, not a limit the container set.
    #[test]
    fn ulimits_merged_daemon_default_is_not_the_containers_own() {
        let f = Fixture::new()
            .daemon("", Some(serde_json::json!({"default-ulimits": {"nofile": {"Name": "nofile", "Soft": 8192, "Hard": 8192}}})))
            .container("merged", |c| {
                c.host_config.ulimits = Some(vec![Ulimit { name: "nofile".into(), soft: 8192, hard: 8192 }])
            })
            .container("mixed", |c| {
                c.host_config.ulimits = Some(vec![
                    Ulimit { name: "nofile".into(), soft: 8192, hard: 8192 },
                    Ulimit { name: "nproc".into(), soft: 50, hard: 50 },
                ])
            })
            .container("overrides", |c| {
                c.host_config.ulimits = Some(vec![Ulimit { name: "nofile".into(), soft: 100, hard: 100 }])
            });
        let r = f.check("docker.container.ulimits");
        assert_eq!(
            actual_of(&r, "merged"),
            "daemon default (/etc/docker/daemon.json default-ulimits) nofile=8192:8192"
        );
        assert_eq!(
            actual_of(&r, "mixed"),
            "container sets nproc=50:50; daemon default (/etc/docker/daemon.json default-ulimits) nofile=8192:8192"
        );
        assert_eq!(actual_of(&r, "overrides"), "container sets nofile=100:100");
    }

    #[test]
    fn daemon_default_ulimits_flag_and_file_forms() {
        use super::daemon_default_ulimits;
        assert_eq!(
            daemon_default_ulimits(&serde_json::json!(["nofile=100:200", "nproc=50"])),
            vec![
                ("nofile".to_string(), 100, 200),
                ("nproc".to_string(), 50, 50)
            ]
        );
        assert_eq!(
            daemon_default_ulimits(
                &serde_json::json!({"nofile": {"Name": "nofile", "Soft": 1, "Hard": 2}})
            ),
            vec![("nofile".to_string(), 1, 2)]
        );
    }

    #[test]
    fn devices_are_reviewed() {
        let f = Fixture::new()
            .container("dev", |c| {
                c.host_config.devices = Some(vec![DeviceMapping {
                    path_on_host: "/dev/fuse".into(),
                    path_in_container: "/dev/fuse".into(),
                    cgroup_permissions: "rwm".into(),
                }])
            })
            .container("priv", |c| c.host_config.privileged = true)
            .container("none", |_| {});
        let r = f.check("docker.container.no_host_devices");
        assert_eq!(
            verdicts(&r),
            vec![
                ("dev", Status::Warn),
                ("priv", Status::Warn),
                ("none", Status::Pass)
            ]
        );
        assert_eq!(actual_of(&r, "dev"), "/dev/fuse:/dev/fuse:rwm");
    }

    // --- 5.15 / 5.27: PITFALL 15 ------------------------------------------------------------

    #[test]
    fn pitfall_15_restart_always_fails() {
        let policy = |name: &str, n: i64| {
            let name = name.to_string();
            move |c: &mut Container| {
                c.host_config.restart_policy = RestartPolicy {
                    name,
                    maximum_retry_count: n,
                }
            }
        };
        let f = Fixture::new()
            .container("always", policy("always", 0))
            .container("unless-stopped", policy("unless-stopped", 0))
            .container("on-failure-3", policy("on-failure", 3))
            .container("on-failure-5", policy("on-failure", 5))
            .container("on-failure-10", policy("on-failure", 10))
            .container("on-failure-unbounded", policy("on-failure", 0))
            .container("no", policy("no", 0))
            .container("unset", policy("", 0));
        let r = f.check("docker.container.restart_on_failure_5");
        assert_eq!(
            verdicts(&r),
            vec![
                ("always", Status::Fail),
                ("unless-stopped", Status::Fail),
                ("on-failure-3", Status::Pass),
                ("on-failure-5", Status::Pass),
                ("on-failure-10", Status::Fail),
                ("on-failure-unbounded", Status::Fail),
                ("no", Status::Pass),
                ("unset", Status::Pass)
            ]
        );
    }

    #[test]
    fn swarm_task_restarts_follow_the_service() {
        let f = Fixture::new().container("web.1.abc", |c| {
            c.config
                .labels
                .insert("com.docker.swarm.service.name".into(), "web".into());
        });
        let r = f.check("docker.container.restart_on_failure_5");
        assert_eq!(r.status, Status::Manual);
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("docker service inspect web"));
    }

    #[test]
    fn pitfall_15_unhealthy_containers_fail() {
        let probe = Some(HealthConfig {
            test: vec!["CMD-SHELL".into(), "true".into()],
            ..Default::default()
        });
        let health = |status: &str| {
            Some(Health {
                status: status.into(),
                failing_streak: if status == "unhealthy" { 3 } else { 0 },
            })
        };
        let f = Fixture::new()
            .container("healthy", |c| {
                c.config.healthcheck = probe.clone();
                c.state.health = health("healthy");
            })
            .container("unhealthy", |c| {
                c.config.healthcheck = probe.clone();
                c.state.health = health("unhealthy");
            })
            .container("starting", |c| {
                c.config.healthcheck = probe.clone();
                c.state.health = health("starting");
            })
            .container("none", |_| {})
            .container("disabled", |c| {
                c.config.healthcheck = Some(HealthConfig {
                    test: vec!["NONE".into()],
                    ..Default::default()
                })
            });
        let r = f.check("docker.container.healthcheck_runtime");
        assert_eq!(
            verdicts(&r),
            vec![
                ("healthy", Status::Pass),
                ("unhealthy", Status::Fail),
                ("starting", Status::Warn),
                ("none", Status::Fail),
                ("disabled", Status::Fail)
            ]
        );
    }

    // --- 5.22 / 5.26: PITFALL 14 ------------------------------------------------------------

    #[test]
    fn pitfall_14_no_new_privileges_false_fails() {
        let f = Fixture::new()
            .container("on", |c| {
                c.host_config.security_opt = opts(&["no-new-privileges"])
            })
            .container("on-true", |c| {
                c.host_config.security_opt = opts(&["no-new-privileges=true"])
            })
            .container("off-colon", |c| {
                c.host_config.security_opt = opts(&["no-new-privileges:false"])
            })
            .container("off-equals", |c| {
                c.host_config.security_opt = opts(&["no-new-privileges=false"])
            })
            .container("unset", |_| {});
        let r = f.check("docker.container.no_new_privileges");
        assert_eq!(
            verdicts(&r),
            vec![
                ("on", Status::Pass),
                ("on-true", Status::Pass),
                ("off-colon", Status::Fail),
                ("off-equals", Status::Fail),
                ("unset", Status::Fail)
            ]
        );
    }

    /// The daemon started at 10:00; daemon.json last changed at 09:00, so the running daemon has
    /// loaded it.
    fn daemon_started_at_ten(mut f: Fixture) -> Fixture {
        f.docker().daemon.started_at = Some("2026-11-28T10:00:00Z".into());
        f.docker().daemon.config_modified_at = Some("2026-11-28T09:00:00Z".into());
        f
    }

    #[test]
    fn pitfall_14_daemon_wide_no_new_privileges_counts_unless_overridden() {
        let f = daemon_started_at_ten(
            Fixture::new().daemon("", Some(serde_json::json!({"no-new-privileges": true}))),
        )
        .container("inherits", |c| c.created = "2026-11-28T10:00:05.5Z".into())
        .container("overrides", |c| {
            c.created = "2026-11-28T10:00:05.5Z".into();
            c.host_config.security_opt = opts(&["no-new-privileges:false"])
        });
        let r = f.check("docker.container.no_new_privileges");
        assert_eq!(
            verdicts(&r),
            vec![("inherits", Status::Pass), ("overrides", Status::Fail)]
        );
        assert_eq!(
            actual_of(&r, "inherits"),
            "not set on the container; daemon-wide true (/etc/docker/daemon.json no-new-privileges)"
        );
        assert_eq!(actual_of(&r, "overrides"), "no-new-privileges:false");
        let mut f = Fixture::new()
            .daemon("--no-new-privileges", None)
            .container("c", |c| c.created = "2026-11-28T10:00:05Z".into());
        f.docker().daemon.started_at = Some("2026-11-28T10:00:00Z".into());
        assert_eq!(
            f.check("docker.container.no_new_privileges").status,
            Status::Pass
        );
    }

    /// dockerd copies its daemon-wide no-new-privileges into a container when it creates the
    /// container, and only then: a container created before the running daemon loaded the
    /// setting keeps running without it, across restarts (seen on dockerd 20.10: after adding
    /// the key and restarting, the old container's process had NoNewPrivs 0, a new one 1).
    /// The daemon-wide setting proves nothing for such a container.
    #[test]
    fn pitfall_14_daemon_wide_no_new_privileges_only_covers_containers_created_with_it() {
        let base = || {
            daemon_started_at_ten(
                Fixture::new().daemon("", Some(serde_json::json!({"no-new-privileges": true}))),
            )
        };
        // Created by an earlier daemon process, which may not have had the setting.
        let r = base()
            .container("older", |c| c.created = "2026-11-28T09:30:00.25Z".into())
            .container("newer", |c| c.created = "2026-11-28T10:30:00.25Z".into())
            .check("docker.container.no_new_privileges");
        assert_eq!(
            verdicts(&r),
            vec![("older", Status::Warn), ("newer", Status::Pass)]
        );
        let older = r.objects.iter().find(|o| o.name == "older").unwrap();
        let note = older.note.as_deref().unwrap_or("");
        assert!(
            note.contains("created at 2026-11-28T09:30:00.25Z, before the running dockerd started at 2026-11-28T10:00:00Z"),
            "{note}"
        );
        assert!(note.contains("--security-opt no-new-privileges"), "{note}");

        // daemon.json gained the key after dockerd started (harden --apply before a restart):
        // no container has it yet, the new ones included.
        let mut f = base().container("newer", |c| c.created = "2026-11-28T10:30:00Z".into());
        f.docker().daemon.config_modified_at = Some("2026-11-28T11:00:00Z".into());
        let r = f.check("docker.container.no_new_privileges");
        assert_eq!(verdicts(&r), vec![("newer", Status::Warn)]);
        let note = r.objects[0].note.as_deref().unwrap_or("");
        assert!(note.contains("changed at 2026-11-28T11:00:00Z"), "{note}");
        // `bulkhead verify` tells a warn a restart settles by this note.
        assert!(crate::is_not_loaded_note(note), "{note}");

        // The file changed in the seconds after dockerd started (too close to tell whether the
        // daemon read the old or the new content): a container created before the change may
        // have been created under the old content.
        let mut f = base()
            .container("before-change", |c| {
                c.created = "2026-11-28T10:00:00.5Z".into()
            })
            .container("after-change", |c| {
                c.created = "2026-11-28T10:00:03Z".into()
            });
        f.docker().daemon.config_modified_at = Some("2026-11-28T10:00:01Z".into());
        let r = f.check("docker.container.no_new_privileges");
        assert_eq!(
            verdicts(&r),
            vec![
                ("before-change", Status::Warn),
                ("after-change", Status::Pass)
            ]
        );

        // When dockerd started is not known, nothing shows the container was created with it.
        let r = Fixture::new()
            .daemon("", Some(serde_json::json!({"no-new-privileges": true})))
            .container("c", |c| c.created = "2026-11-28T10:30:00Z".into())
            .check("docker.container.no_new_privileges");
        assert_eq!(verdicts(&r), vec![("c", Status::Warn)]);

        // A container's own option never depends on when it was created.
        let r = base()
            .container("own", |c| {
                c.created = "2026-11-28T09:30:00Z".into();
                c.host_config.security_opt = opts(&["no-new-privileges"])
            })
            .check("docker.container.no_new_privileges");
        assert_eq!(verdicts(&r), vec![("own", Status::Pass)]);
    }

    /// The container's init process (`State.Pid`) as read from the host's /proc, with the
    /// kernel's no_new_privs flag (None: a status file without it), and a child of it.
    fn init_with_flag(c: &mut ContainerFacts, flag: Option<bool>) {
        let pid = c.inspect.state.pid as u32;
        let mut init = process(pid, "sleep", &["sleep", "100000"]);
        init.no_new_privs = flag;
        let mut child = process(pid + 1, "sh", &["sh"]);
        child.ppid = pid;
        child.no_new_privs = flag;
        c.processes = Fact::Value(vec![init, child]);
    }

    fn evidence_of(r: &CheckResult, name: &str) -> (String, String) {
        let e = r
            .objects
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.evidence.as_ref())
            .unwrap_or_else(|| panic!("no evidence on {name} in {r:?}"));
        (e.field.clone(), e.actual.clone())
    }

    fn note_of(r: &CheckResult, name: &str) -> String {
        r.objects
            .iter()
            .find(|o| o.name == name)
            .and_then(|o| o.note.clone())
            .unwrap_or_default()
    }

    /// A daemon started at ten with no-new-privileges in daemon.json, and container creation
    /// times before and after that start.
    fn daemon_wide_no_new_privileges() -> Fixture {
        daemon_started_at_ten(
            Fixture::new().daemon("", Some(serde_json::json!({"no-new-privileges": true}))),
        )
    }
    const BEFORE_TEN: &str = "2026-11-28T09:30:00Z";
    const AFTER_TEN: &str = "2026-11-28T10:30:00Z";

    /// The kernel's flag on the init process settles what the daemon-wide setting alone could
    /// only warn about: a container created before the running dockerd passes when its process
    /// has the flag, and any container fails when it has not, however it is configured.
    #[test]
    fn pitfall_14_the_init_process_flag_decides() {
        let (base, older, newer) = (daemon_wide_no_new_privileges, BEFORE_TEN, AFTER_TEN);
        let r = base()
            .container("older-on", |c| c.created = older.into())
            .container("older-off", |c| c.created = older.into())
            .container("newer-off", |c| c.created = newer.into())
            .container("own-on-off", |c| {
                c.created = newer.into();
                c.host_config.security_opt = opts(&["no-new-privileges"])
            })
            .container("own-false-on", |c| {
                c.created = newer.into();
                c.host_config.security_opt = opts(&["no-new-privileges:false"])
            })
            .edit_container("older-on", |c| init_with_flag(c, Some(true)))
            .edit_container("older-off", |c| init_with_flag(c, Some(false)))
            .edit_container("newer-off", |c| init_with_flag(c, Some(false)))
            .edit_container("own-on-off", |c| init_with_flag(c, Some(false)))
            .edit_container("own-false-on", |c| init_with_flag(c, Some(true)))
            .check("docker.container.no_new_privileges");
        assert_eq!(
            verdicts(&r),
            vec![
                // Daemon-wide on, created before the daemon started: the flag settles it.
                ("older-on", Status::Pass),
                ("older-off", Status::Fail),
                // Daemon-wide on and created after it loaded: the configuration would pass.
                ("newer-off", Status::Fail),
                // Its own option asks for it, the kernel shows it off.
                ("own-on-off", Status::Fail),
                // Turned off in the configuration, yet the process has the flag: docker exec
                // sessions would not.
                ("own-false-on", Status::Warn),
            ]
        );
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            evidence_of(&r, "older-on"),
            ("/proc/1000/status NoNewPrivs".to_string(), "1".to_string())
        );
        assert_eq!(
            evidence_of(&r, "older-off"),
            ("/proc/1001/status NoNewPrivs".to_string(), "0".to_string())
        );
        assert_eq!(
            evidence_of(&r, "own-on-off"),
            ("/proc/1003/status NoNewPrivs".to_string(), "0".to_string())
        );
        let note = note_of(&r, "older-on");
        assert!(note.contains("daemon-wide true"), "{note}");
        assert!(note.contains("init process 1000 (sleep)"), "{note}");
        // The reason the configuration alone was not enough stays in the note.
        let note = note_of(&r, "older-off");
        assert!(
            note.contains("before the running dockerd started at 2026-11-28T10:00:00Z"),
            "{note}"
        );
        assert!(note.contains("runs without the flag"), "{note}");
        let note = note_of(&r, "own-on-off");
        assert!(note.contains("configured: no-new-privileges,"), "{note}");
        assert!(note.contains("does not run as configured"), "{note}");
        let note = note_of(&r, "own-false-on");
        assert!(note.contains("no-new-privileges:false"), "{note}");
        assert!(note.contains("docker exec"), "{note}");

        // Without the daemon-wide setting: the flag off fails; on, unasked for, it is a warn.
        let r = Fixture::new()
            .container("unset-on", |_| {})
            .container("unset-off", |_| {})
            .edit_container("unset-on", |c| init_with_flag(c, Some(true)))
            .edit_container("unset-off", |c| init_with_flag(c, Some(false)))
            .check("docker.container.no_new_privileges");
        assert_eq!(
            verdicts(&r),
            vec![("unset-on", Status::Warn), ("unset-off", Status::Fail)]
        );
        assert_eq!(
            note_of(&r, "unset-off"),
            "configured: not set on the container or the daemon"
        );
    }

    /// Whenever the flag of the init process is not known, the configuration decides exactly as
    /// before: a status file without the line, processes that could not be read (a remote
    /// daemon), an init process that is not among them, a container that is not running.
    #[test]
    fn pitfall_14_without_the_flag_the_configuration_decides() {
        let (base, older, newer) = (daemon_wide_no_new_privileges, BEFORE_TEN, AFTER_TEN);
        let r = base()
            .container("no-line-older", |c| c.created = older.into())
            .container("no-line-newer", |c| c.created = newer.into())
            .container("unreadable", |c| c.created = older.into())
            .container("init-missing", |c| c.created = older.into())
            .container("stopped", |c| {
                c.created = older.into();
                c.state.status = "exited".into();
                c.state.running = false;
            })
            .container("own-false", |c| {
                c.created = newer.into();
                c.host_config.security_opt = opts(&["no-new-privileges:false"])
            })
            .edit_container("no-line-older", |c| init_with_flag(c, None))
            .edit_container("no-line-newer", |c| init_with_flag(c, None))
            .edit_container("unreadable", |c| {
                c.processes = Fact::unavailable("remote daemon: the processes cannot be read")
            })
            .edit_container("init-missing", |c| {
                // Only a process that is not the container's init, with the flag.
                let mut other = process(4321, "sh", &["sh"]);
                other.no_new_privs = Some(true);
                c.processes = Fact::Value(vec![other]);
            })
            .edit_container("stopped", |c| {
                // A stale process list must not count for a container that is not running.
                init_with_flag(c, Some(true))
            })
            .edit_container("own-false", |c| init_with_flag(c, None))
            .check("docker.container.no_new_privileges");
        assert_eq!(
            verdicts(&r),
            vec![
                ("no-line-older", Status::Warn),
                ("no-line-newer", Status::Pass),
                ("unreadable", Status::Warn),
                ("init-missing", Status::Warn),
                ("stopped", Status::Warn),
                ("own-false", Status::Fail),
            ]
        );
        for o in &r.objects {
            assert_eq!(
                o.evidence.as_ref().map(|e| e.field.as_str()),
                Some("HostConfig.SecurityOpt"),
                "{o:?}"
            );
        }
        assert_eq!(
            actual_of(&r, "no-line-newer"),
            "not set on the container; daemon-wide true (/etc/docker/daemon.json no-new-privileges)"
        );
        assert!(note_of(&r, "no-line-older").contains("before the running dockerd started"));
    }

    #[test]
    fn seccomp_unconfined_and_privileged_fail() {
        let f = with_security_options(Fixture::new(), &["name=seccomp,profile=builtin"])
            .container("default", |_| {})
            .container("unconfined", |c| {
                c.host_config.security_opt = opts(&["seccomp=unconfined"])
            })
            .container("old-syntax", |c| {
                c.host_config.security_opt = opts(&["seccomp:unconfined"])
            })
            .container("custom", |c| {
                c.host_config.security_opt =
                    opts(&["seccomp={\"defaultAction\":\"SCMP_ACT_ERRNO\"}"])
            })
            .container("privileged", |c| c.host_config.privileged = true);
        let r = f.check("docker.container.seccomp_enabled");
        assert_eq!(
            verdicts(&r),
            vec![
                ("default", Status::Pass),
                ("unconfined", Status::Fail),
                ("old-syntax", Status::Fail),
                ("custom", Status::Pass),
                ("privileged", Status::Fail)
            ]
        );
        assert_eq!(
            actual_of(&r, "custom"),
            "seccomp=<custom profile, 34 bytes>"
        );
        assert!(r.objects[4]
            .note
            .as_deref()
            .unwrap()
            .contains("without a seccomp filter"));
    }

    #[test]
    fn seccomp_daemon_default_unconfined_fails_containers_without_their_own() {
        let f = Fixture::new()
            .daemon("--seccomp-profile unconfined", None)
            .container("inherits", |_| {})
            .container("own", |c| {
                c.host_config.security_opt = opts(&["seccomp=/etc/p.json"])
            });
        let r = f.check("docker.container.seccomp_enabled");
        assert_eq!(
            verdicts(&r),
            vec![("inherits", Status::Fail), ("own", Status::Pass)]
        );
    }

    // --- manual 5.x -------------------------------------------------------------------------

    #[test]
    fn exec_checks_are_manual_per_container() {
        let f = Fixture::new().container("web", |_| {});
        for id in [
            "docker.container.no_privileged_exec",
            "docker.container.no_root_exec",
        ] {
            let r = f.check(id);
            assert_eq!(r.status, Status::Manual, "{id}");
            assert!(r.objects[0]
                .note
                .as_deref()
                .unwrap()
                .contains("exec_create"));
        }
    }

    #[test]
    fn latest_image_warns_when_the_tag_moved_on() {
        let f = Fixture::new()
            .image("app:1.0", |_| {})
            .image("nginx:latest", |_| {})
            .container("stale", |c| {
                c.config.image = "nginx".into();
                c.image = "sha256:0123456789abcdef".into();
            })
            .container("current", |c| {
                c.config.image = "app:1.0".into();
                c.image = format!("sha256:{:0>64}", "a1");
            });
        let r = f.check("docker.container.latest_image");
        assert_eq!(
            verdicts(&r),
            vec![("stale", Status::Warn), ("current", Status::Manual)]
        );
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("nginx:latest now names image"));
    }

    #[test]
    fn default_bridge_is_found_by_network_id_and_name() {
        let f = Fixture::new()
            .network("bridge", "bridge", |n| {
                n.options.insert(
                    "com.docker.network.bridge.default_bridge".into(),
                    "true".into(),
                );
                n.options
                    .insert("com.docker.network.bridge.name".into(), "docker0".into());
            })
            .network("app", "bridge", |_| {})
            .container("on-bridge", |c| {
                let mut m = BTreeMap::new();
                m.insert(
                    "bridge".to_string(),
                    EndpointSettings {
                        network_id: format!("{:0>64}", "b1"),
                        ip_address: "172.17.0.2".into(),
                    },
                );
                c.network_settings.networks = Some(m);
            })
            .container("on-app", |c| {
                let mut m = BTreeMap::new();
                m.insert(
                    "app".to_string(),
                    EndpointSettings {
                        network_id: format!("{:0>64}", "b2"),
                        ip_address: "172.18.0.2".into(),
                    },
                );
                c.network_settings.networks = Some(m);
            })
            .container("host-net", |c| c.host_config.network_mode = "host".into());
        let r = f.check("docker.container.no_default_bridge");
        assert_eq!(
            verdicts(&r),
            vec![
                ("on-bridge", Status::Warn),
                ("on-app", Status::Pass),
                ("host-net", Status::Pass)
            ]
        );
    }

    /// A daemon started with `bridge: none` has no default bridge: its containers still carry an
    /// endpoint named "bridge" without a network behind it, and 5.30 agrees with 2.2 that there
    /// is nothing to judge (it used to warn on every container and recommend `bridge: none`).
    #[test]
    fn no_default_bridge_on_a_daemon_without_one_is_not_applicable() {
        let f = Fixture::new()
            .network("host", "host", |_| {})
            .network("none", "null", |_| {})
            .container("c1", |c| {
                let mut m = BTreeMap::new();
                m.insert("bridge".to_string(), EndpointSettings::default());
                c.network_settings.networks = Some(m);
            });
        let r = f.check("docker.container.no_default_bridge");
        assert_eq!(r.status, Status::NotApplicable, "{r:?}");
        assert!(r.message.unwrap().contains("bridge: none"));
    }
}
