//! Section 1: host configuration. The data root's own partition, who can drive the daemon through
//! its unix socket, audit rules on every file and binary Docker depends on (judged against the
//! paths the running daemon really uses), host hardening, and the engine's version.
//!
//! Everything here except 1.2.2 reads the host itself, so a remote daemon makes it not applicable
//! (`host_side_guard`) instead of judging one machine by another's files.

use super::{
    binary_file, docker_paths, env_file, host_side_guard, is_rootless, no_docker, unit_file,
};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::docker::VersionSource;
use bulkhead_facts::host::{AuditRule, AuditRules, FileFact, FileKind, MountInfo};

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("docker.host.separate_partition", separate_partition),
    ("docker.host.trusted_docker_group", trusted_docker_group),
    ("docker.audit.dockerd", audit_dockerd),
    ("docker.audit.run_containerd", audit_run_containerd),
    ("docker.audit.data_root", audit_data_root),
    ("docker.audit.etc_docker", audit_etc_docker),
    ("docker.audit.docker_service", audit_docker_service),
    ("docker.audit.containerd_sock", audit_containerd_sock),
    ("docker.audit.docker_socket", audit_docker_socket),
    ("docker.audit.etc_default_docker", audit_etc_default_docker),
    ("docker.audit.daemon_json", audit_daemon_json),
    ("docker.audit.containerd_config", audit_containerd_config),
    (
        "docker.audit.etc_sysconfig_docker",
        audit_etc_sysconfig_docker,
    ),
    ("docker.audit.containerd_binary", audit_containerd_binary),
    ("docker.audit.containerd_shim", audit_containerd_shim),
    (
        "docker.audit.containerd_shim_runc_v1",
        audit_containerd_shim_runc_v1,
    ),
    (
        "docker.audit.containerd_shim_runc_v2",
        audit_containerd_shim_runc_v2,
    ),
    ("docker.audit.runc", audit_runc),
    ("docker.host.hardened", hardened),
    ("docker.host.docker_up_to_date", docker_up_to_date),
];

// ---------------------------------------------------------------------------------------------
// 1.1.1 and 1.1.2

/// 1.1.1: the data root is its own mount point. Under userns-remap the daemon keeps its state in
/// `<data-root>/<uid>.<gid>`, so when the configured path has that shape its parent counts too.
fn separate_partition(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let docker = ctx.docker().expect("guarded");
    let mounts = match ctx.snapshot.host.mounts.as_result() {
        Ok(m) => m,
        Err(reason) => {
            return CheckResult::error(format!("the mount table could not be read: {reason}"))
        }
    };
    let configured = if docker.daemon.paths.data_root.is_empty() {
        docker
            .info
            .value()
            .map(|i| i.docker_root_dir.clone())
            .unwrap_or_default()
    } else {
        docker.daemon.paths.data_root.clone()
    };
    if configured.is_empty() {
        return CheckResult::error(
            "the daemon's data root is unknown (neither configured nor reported by the API)",
        );
    }
    let data_root = normalize(&configured);
    let userns = ctx.daemon_settings().string("userns-remap").is_some()
        || docker
            .info
            .value()
            .is_some_and(|i| i.has_security_option("userns"));
    let mut candidates = vec![data_root.clone()];
    if userns && is_remap_dir(&data_root) {
        candidates.push(parent(&data_root).to_string());
    }
    // The topmost mount at a candidate path is the one in force (mounts stack in table order).
    let own = candidates.iter().find_map(|c| {
        mounts
            .iter()
            .rev()
            .find(|m| normalize(&m.mount_point) == *c)
            .map(|m| (c, m))
    });
    let expected = "its own file system (a separate partition or volume)";
    let describe = |m: &MountInfo| {
        format!(
            "on the file system mounted at {} ({} {})",
            m.mount_point, m.fs_type, m.source
        )
    };
    let (status, actual, note) = match own {
        Some((at, m)) => {
            // dockerd bind-mounts its data root onto itself (to set mount propagation), so being
            // a mount point proves nothing: the mount must not be the file system that holds the
            // parent directory, seen again.
            let below = mounts.iter().filter(|o| normalize(&o.mount_point) != *at);
            match containing_mount(below, parent(at)) {
                Some(holder) if holder.source == m.source && holder.fs_type == m.fs_type => (
                    Status::Fail,
                    format!("a bind mount of a directory {}", describe(holder)),
                    Some(format!(
                        "{at} is a mount point only because a directory of {} is mounted onto it (dockerd does this itself); it is not a separate partition",
                        holder.mount_point
                    )),
                ),
                _ => (
                    Status::Pass,
                    format!("mount point of {} ({})", m.source, m.fs_type),
                    (*at != data_root).then(|| {
                        format!("userns-remap keeps state in {data_root}; its parent {at} is the mount")
                    }),
                ),
            }
        }
        None => {
            let actual = match containing_mount(mounts.iter(), &data_root) {
                Some(m) => describe(m),
                None => "no mount contains it in the mount table".to_string(),
            };
            (Status::Fail, actual, None)
        }
    };
    let mut obj =
        ObjectResult::new("directory", &data_root, status).evidence("mount", actual, expected);
    if let Some(n) = note {
        obj = obj.note(n);
    }
    let message = match status {
        Status::Pass => format!("the data root {data_root} is on its own file system"),
        _ => format!("the data root {data_root} shares a file system with the rest of the host"),
    };
    CheckResult::new(status, message).with_object(obj)
}

/// `/var/lib/docker/` and `/var/lib/docker` name the same directory.
fn normalize(path: &str) -> String {
    let t = path.trim_end_matches('/');
    if t.is_empty() {
        "/".to_string()
    } else {
        t.to_string()
    }
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) => "/",
        Some(i) => &path[..i],
        None => path,
    }
}

/// A userns-remap state directory is named `<uid>.<gid>`.
fn is_remap_dir(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or("");
    match last.split_once('.') {
        Some((u, g)) => {
            !u.is_empty()
                && !g.is_empty()
                && u.bytes().all(|b| b.is_ascii_digit())
                && g.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    }
}

/// The mount whose mount point is the longest directory prefix of `path` (the topmost one when
/// several are stacked there).
fn containing_mount<'m>(
    mounts: impl Iterator<Item = &'m MountInfo>,
    path: &str,
) -> Option<&'m MountInfo> {
    let mut best: Option<&'m MountInfo> = None;
    for m in mounts {
        let mp = normalize(&m.mount_point);
        let holds = mp == "/" || path == mp || path.starts_with(&format!("{mp}/"));
        if holds && best.is_none_or(|b| mp.len() >= normalize(&b.mount_point).len()) {
            best = Some(m);
        }
    }
    best
}

/// 1.1.2: everyone who can use the daemon's socket through its group is root in all but name.
/// The group is the one the daemon gives its socket (`group` setting / `-G`, default `docker`);
/// its members are the group's member list plus every account whose primary group it is.
fn trusted_docker_group(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    if is_rootless(ctx) {
        return CheckResult::not_applicable(
            "rootless Docker: the socket belongs to the user running the daemon, so no group grants access to it",
        );
    }
    let host = &ctx.snapshot.host;
    let groups = match host.groups.as_result() {
        Ok(g) => g,
        Err(reason) => {
            return CheckResult::error(format!("the group database could not be read: {reason}"))
        }
    };
    let users = match host.users.as_result() {
        Ok(u) => u,
        Err(reason) => {
            return CheckResult::error(format!(
                "the account database could not be read (needed for primary groups): {reason}"
            ))
        }
    };
    let (group_name, group_source) = match ctx.daemon_settings().string("group") {
        Some((g, source)) => (g, source),
        None => ("docker".to_string(), "default".to_string()),
    };
    // Groups and members a directory service (sssd, LDAP, NIS) adds are not in /etc/group:
    // the verdict is what the files show, and the message says what they cannot.
    let unseen = directory_services(ctx)
        .map(|services| {
            format!(
                "; note: /etc/nsswitch.conf also takes groups from {services}, whose members of {group_name} cannot be seen in /etc/group: list them there (for sssd: `getent group {group_name}`) and review them too"
            )
        })
        .unwrap_or_default();
    let Some(group) = groups.iter().find(|g| g.name == group_name) else {
        return CheckResult::pass(format!(
            "no group {group_name} exists on this host ({group_source}): only root can use the daemon's socket{unseen}"
        ));
    };
    let mut members: Vec<(String, &str)> = group
        .members
        .iter()
        .map(|m| (m.clone(), "listed member"))
        .collect();
    for u in users.iter().filter(|u| u.gid == group.gid) {
        if !members.iter().any(|(m, _)| *m == u.name) {
            members.push((u.name.clone(), "primary group"));
        }
    }
    let field = format!("group {} (gid {})", group.name, group.gid);
    if members.is_empty() {
        return CheckResult::pass(format!("{field} has no members{unseen}"));
    }
    let trusted = ctx.options.trusted_users.as_ref();
    let objects: Vec<ObjectResult> = members
        .iter()
        .map(|(name, how)| {
            let (status, expected) = match trusted {
                Some(list) if list.iter().any(|t| t == name) => (Status::Pass, "a trusted user"),
                Some(_) => (Status::Fail, "a trusted user (--trusted-users)"),
                None => (Status::Warn, "confirmed trusted by a person"),
            };
            let o = ObjectResult::new("user", name, status).evidence(field.clone(), *how, expected);
            if users.iter().any(|u| u.name == *name) {
                o
            } else {
                o.note(
                    "no account of this name in /etc/passwd: a stale entry, or a user from a directory service",
                )
            }
        })
        .collect();
    let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    let status = CheckResult::from_objects(objects.clone(), "").status;
    let message = match (status, trusted) {
        (Status::Pass, _) => format!(
            "every member of {} is trusted: {}",
            group.name,
            names.join(", ")
        ),
        (Status::Fail, _) => {
            let untrusted: Vec<&str> = objects
                .iter()
                .filter(|o| o.status == Status::Fail)
                .map(|o| o.name.as_str())
                .collect();
            format!(
                "members of {} not in the trusted list: {}",
                group.name,
                untrusted.join(", ")
            )
        }
        _ => format!(
            "members of {} can control the daemon (root-equivalent); review: {}",
            group.name,
            names.join(", ")
        ),
    };
    CheckResult::new(status, format!("{message}{unseen}")).with_objects(objects)
}

/// The services other than `files` and `systemd` (which read only local files and the units'
/// dynamic users) that the `group:` line of /etc/nsswitch.conf names, when any: `sss, ldap`.
fn directory_services(ctx: &Context<'_>) -> Option<String> {
    let sources = ctx.snapshot.host.group_sources.as_ref()?;
    let others: Vec<&str> = sources
        .iter()
        .map(String::as_str)
        .filter(|s| !matches!(*s, "files" | "systemd"))
        .collect();
    (!others.is_empty()).then(|| others.join(", "))
}

// ---------------------------------------------------------------------------------------------
// 1.1.3 - 1.1.18: audit rules

fn audit_dockerd(ctx: &Context<'_>) -> CheckResult {
    audit_located(ctx, "the dockerd binary", binary_file(ctx, "dockerd"))
}

/// containerd's state directory: the directory of the containerd socket the daemon uses
/// (`/run/containerd` for a system containerd).
fn audit_run_containerd(ctx: &Context<'_>) -> CheckResult {
    let located = docker_paths(ctx).and_then(|p| match &p.containerd_socket {
        Some(sock) => Ok(parent(sock).to_string()),
        None => Err(CheckResult::not_applicable(
            "the daemon's configuration names no containerd socket, so no containerd state directory",
        )),
    });
    audit_located(ctx, "containerd's state directory", located)
}

fn audit_data_root(ctx: &Context<'_>) -> CheckResult {
    let located = docker_paths(ctx).map(|p| p.data_root.clone());
    audit_located(ctx, "the Docker data root", located)
}

fn audit_etc_docker(ctx: &Context<'_>) -> CheckResult {
    let located = docker_paths(ctx).map(|p| p.config_dir.clone());
    audit_located(ctx, "the Docker configuration directory", located)
}

fn audit_docker_service(ctx: &Context<'_>) -> CheckResult {
    audit_located(
        ctx,
        "the docker.service unit file",
        unit_file(ctx, "docker.service"),
    )
}

fn audit_containerd_sock(ctx: &Context<'_>) -> CheckResult {
    let located = docker_paths(ctx).and_then(|p| {
        p.containerd_socket.clone().ok_or_else(|| {
            CheckResult::not_applicable("the daemon's configuration names no containerd socket")
        })
    });
    audit_located(ctx, "the containerd socket", located)
}

fn audit_docker_socket(ctx: &Context<'_>) -> CheckResult {
    audit_located(
        ctx,
        "the docker.socket unit file",
        unit_file(ctx, "docker.socket"),
    )
}

fn audit_etc_default_docker(ctx: &Context<'_>) -> CheckResult {
    audit_located(
        ctx,
        "the Debian-style defaults file",
        env_file(ctx, "/default/docker"),
    )
}

fn audit_daemon_json(ctx: &Context<'_>) -> CheckResult {
    let located = docker_paths(ctx).map(|p| p.config_file.clone());
    audit_located(ctx, "the daemon's configuration file", located)
}

fn audit_containerd_config(ctx: &Context<'_>) -> CheckResult {
    let located = docker_paths(ctx).map(|p| p.containerd_config.clone());
    audit_located(ctx, "containerd's configuration file", located)
}

fn audit_etc_sysconfig_docker(ctx: &Context<'_>) -> CheckResult {
    audit_located(
        ctx,
        "the Red Hat-style sysconfig file",
        env_file(ctx, "/sysconfig/docker"),
    )
}

fn audit_containerd_binary(ctx: &Context<'_>) -> CheckResult {
    audit_located(ctx, "the containerd binary", binary_file(ctx, "containerd"))
}

fn audit_containerd_shim(ctx: &Context<'_>) -> CheckResult {
    audit_located(
        ctx,
        "the containerd-shim binary",
        binary_file(ctx, "containerd-shim"),
    )
}

fn audit_containerd_shim_runc_v1(ctx: &Context<'_>) -> CheckResult {
    audit_located(
        ctx,
        "the containerd-shim-runc-v1 binary",
        binary_file(ctx, "containerd-shim-runc-v1"),
    )
}

fn audit_containerd_shim_runc_v2(ctx: &Context<'_>) -> CheckResult {
    audit_located(
        ctx,
        "the containerd-shim-runc-v2 binary",
        binary_file(ctx, "containerd-shim-runc-v2"),
    )
}

fn audit_runc(ctx: &Context<'_>) -> CheckResult {
    audit_located(ctx, "the runc binary", binary_file(ctx, "runc"))
}

/// Judge whether audit rules watch `located` (a path resolved from the daemon's configuration,
/// or the result to report when it could not be). Only a rule on that exact path, or on a
/// directory tree above it, counts; a rule whose text merely contains the path does not.
fn audit_located(
    ctx: &Context<'_>,
    what: &str,
    located: Result<String, CheckResult>,
) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let path = match located {
        Ok(p) => normalize(&p),
        Err(r) => return r,
    };
    let host = &ctx.snapshot.host;
    match host.file(&path) {
        Some(FileFact::Missing) => {
            let place = match super::under_root(ctx) {
                r if r.is_empty() => " on this host".to_string(),
                r => r,
            };
            return CheckResult::not_applicable(format!("{what} {path} does not exist{place}"));
        }
        Some(FileFact::Unreadable { reason }) => {
            // Existence is unknown, but the rules can still be judged: go on, and say so.
            let r = audit_judgement(ctx, what, &path);
            return annotate(r, format!("{path} could not be examined: {reason}"));
        }
        _ => {}
    }
    audit_judgement(ctx, what, &path)
}

fn annotate(mut r: CheckResult, note: String) -> CheckResult {
    for o in &mut r.objects {
        if o.note.is_none() {
            o.note = Some(note.clone());
        }
    }
    r
}

fn audit_judgement(ctx: &Context<'_>, what: &str, path: &str) -> CheckResult {
    let host = &ctx.snapshot.host;
    let rules = match host.audit.as_result() {
        Ok(r) => r,
        Err(reason) => {
            // Still name the file: which path would be judged is known, and is evidence too.
            return CheckResult::error(format!("the audit rules could not be read: {reason}"))
                .with_object(
                    ObjectResult::new("file", path, Status::Error)
                        .note("whether a rule watches it is unknown"),
                );
        }
    };
    let field = rules_field(rules);
    let expected = format!("a rule watching writes to {path} or a directory tree above it");
    let covering: Vec<&AuditRule> = rules
        .rules
        .iter()
        .filter(|r| rule_covers(ctx, r, path))
        .collect();
    let effective = covering.iter().find(|r| watches_changes(r));
    let (status, actual, message) = match (effective, covering.first()) {
        (Some(rule), _) => (
            Status::Pass,
            rule.text.clone(),
            format!("{what} {path} is audited"),
        ),
        (None, Some(rule)) => (
            Status::Fail,
            rule.text.clone(),
            format!(
                "{what} {path} is watched only for -p {} (writes and attribute changes go unrecorded)",
                rule.perms
            ),
        ),
        (None, None) => match rule_on_a_link(ctx, &rules.rules, path) {
            Some((rule, link)) => (
                Status::Fail,
                format!(
                    "{} ({link}: the kernel watches the link itself, not what it points to)",
                    rule.text
                ),
                format!("the audit rule for {what} {path} watches a symbolic link, not the file"),
            ),
            None => (
                Status::Fail,
                "no rule watches this path".to_string(),
                format!("no audit rule watches {what} {path}"),
            ),
        },
    };
    let real = resolve_links(ctx, path, true);
    let expected = if real != path {
        format!("a rule watching writes to {real} (the real path of {path}) or a directory tree above it")
    } else {
        expected
    };
    let obj = ObjectResult::new("file", path, status).evidence(field, actual, expected);
    CheckResult::new(status, message).with_object(obj)
}

/// Name the rules' source for evidence: the kernel's loaded list, or the rule files read.
fn rules_field(rules: &AuditRules) -> String {
    match rules.source.as_str() {
        "files" if !rules.files.is_empty() => {
            format!("audit rules (files: {})", rules.files.join(", "))
        }
        "" => "audit rules".to_string(),
        s => format!("audit rules ({s})"),
    }
}

/// Does `rule` watch `target`? Both are compared as the kernel sees them, through the symbolic
/// links recorded among the host's files ([`resolve_links`]): the target is the file it finally
/// names (`/lib/systemd/system/docker.socket` is `/usr/lib/...` on a merged-/usr system), the
/// rule's path has every link but its last component followed, as the kernel places a watch on
/// the named entry of its real parent directory and roots a directory tree at the named entry
/// itself (a watch on a link, such as a linked /etc/docker, records changes to the link, never
/// to what it points to). A `-w` watch placed on a directory covers its whole tree.
fn rule_covers(ctx: &Context<'_>, rule: &AuditRule, target: &str) -> bool {
    let Some(watched) = rule.path.as_deref() else {
        return false;
    };
    let target = resolve_links(ctx, &normalize(target), true);
    // auditctl strips a trailing slash: the last component is never followed.
    let watched = resolve_links(ctx, &normalize(watched), false);
    if watched == target {
        return true;
    }
    let is_watch = rule.text.split_whitespace().next() == Some("-w");
    let is_dir = rule.path.as_deref().is_some_and(|p| p.ends_with('/'))
        || matches!(
            ctx.snapshot.host.file(&watched),
            Some(FileFact::Present(st)) if st.kind == FileKind::Directory && st.symlink_target.is_none()
        );
    (rule.recursive || (is_watch && is_dir))
        && (watched == "/" || target.starts_with(&format!("{watched}/")))
}

/// A rule that names `target` only through a symbolic link it stops at: the kernel then watches
/// the link itself, not the file or directory behind it. For the evidence of a failure.
fn rule_on_a_link<'r>(
    ctx: &Context<'_>,
    rules: &'r [AuditRule],
    target: &str,
) -> Option<(&'r AuditRule, String)> {
    let target = resolve_links(ctx, &normalize(target), true);
    rules.iter().find_map(|r| {
        let p = normalize(r.path.as_deref()?);
        let link = resolve_links(ctx, &p, false);
        let behind = resolve_links(ctx, &p, true);
        let names_it = behind == target || target.starts_with(&format!("{behind}/"));
        (link != behind && names_it).then(|| (r, format!("{link} is a symbolic link to {behind}")))
    })
}

/// `path` with the symbolic links the snapshot recorded on its way resolved (the last component's
/// too when `follow_last`), as the kernel resolves it under the audited root. Paths whose links
/// were not recorded are taken as written.
fn resolve_links(ctx: &Context<'_>, path: &str, follow_last: bool) -> String {
    let host = &ctx.snapshot.host;
    let mut pending: Vec<String> = path
        .split('/')
        .filter(|c| !c.is_empty())
        .rev()
        .map(String::from)
        .collect();
    let mut current: Vec<String> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        match part.as_str() {
            "." => continue,
            ".." => {
                current.pop();
                continue;
            }
            _ => current.push(part),
        }
        if pending.is_empty() && !follow_last {
            break;
        }
        let here = format!("/{}", current.join("/"));
        let Some(FileFact::Present(st)) = host.file(&here) else {
            continue;
        };
        let Some(target) = st.symlink_target.as_deref() else {
            continue;
        };
        links += 1;
        if links > 40 {
            break;
        }
        current.pop();
        if target.starts_with('/') {
            current.clear();
        }
        pending.extend(
            target
                .split('/')
                .filter(|c| !c.is_empty())
                .rev()
                .map(String::from),
        );
    }
    format!("/{}", current.join("/"))
}

/// A rule records changes when it watches writes (`w`) or attribute changes (`a`), or names no
/// permission filter at all (every access).
fn watches_changes(rule: &AuditRule) -> bool {
    rule.perms.is_empty() || rule.perms.contains('w') || rule.perms.contains('a')
}

// ---------------------------------------------------------------------------------------------
// 1.2.1 and 1.2.2

/// 1.2.1 (manual): hardening the host is a human judgement; show what bulkhead can read about it.
fn hardened(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let host = &ctx.snapshot.host;
    let fact = |field: &str, v: Result<String, String>| match v {
        Ok(actual) => ObjectResult::new("host", field, Status::Info).evidence(
            field,
            actual,
            "reviewed by a person",
        ),
        Err(reason) => {
            ObjectResult::new("host", field, Status::Info).note(format!("not read: {reason}"))
        }
    };
    let os = host
        .os_release
        .as_result()
        .map(|m| {
            m.get("PRETTY_NAME")
                .or_else(|| m.get("NAME"))
                .cloned()
                .unwrap_or_else(|| "unnamed".into())
        })
        .map_err(String::from);
    let kernel = host.kernel.as_result().cloned().map_err(String::from);
    let lsm = |f: &bulkhead_facts::Fact<bool>| {
        f.as_result()
            .map(|b| if *b { "enabled" } else { "not enabled" }.to_string())
            .map_err(String::from)
    };
    let objects = vec![
        fact("operating system", os),
        fact("kernel", kernel),
        fact("AppArmor", lsm(&host.security_modules.apparmor)),
        fact("SELinux", lsm(&host.security_modules.selinux)),
    ];
    CheckResult::manual(
        "review the host's hardening by hand (minimal packages, patched kernel, a mandatory access control module)",
    )
    .with_objects(objects)
}

/// An engine version as the API reports it, split into the upstream release and whatever a
/// distribution appended (`20.10.24+dfsg1`, `24.0.7-0ubuntu2`, `17.03.2-ce`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
    /// Everything after the numeric release, including its leading `+`, `-` or `~`.
    pub suffix: String,
}

impl EngineVersion {
    /// Parse `MAJOR.MINOR[.PATCH][suffix]`; None when the text does not start that way.
    pub fn parse(text: &str) -> Option<EngineVersion> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let numeric_end = text
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(text.len());
        let (numbers, suffix) = text.split_at(numeric_end);
        let numbers = numbers.trim_end_matches('.');
        let parts: Vec<&str> = numbers.split('.').collect();
        if parts.len() < 2 || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        let n = |i: usize| {
            parts
                .get(i)
                .map(|p| p.parse::<u32>().ok())
                .unwrap_or(Some(0))
        };
        Some(EngineVersion {
            major: n(0)?,
            minor: n(1)?,
            patch: n(2)?,
            suffix: suffix.to_string(),
        })
    }

    pub fn upstream(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }

    /// Who built this package, from the suffix's conventions.
    pub fn build(&self) -> Option<&'static str> {
        let s = self.suffix.as_str();
        if s.is_empty() {
            None
        } else if s.contains("dfsg") || s.contains("deb") {
            Some("Debian package build")
        } else if s.contains("ubuntu") {
            Some("Ubuntu package build")
        } else if s.contains(".el") || s.contains(".fc") || s.contains("redhat") {
            Some("Red Hat family package build")
        } else if s.starts_with("-rc") || s.starts_with("-beta") {
            Some("pre-release")
        } else {
            Some("distribution or vendor build")
        }
    }
}

/// 1.2.2 (manual): report the engine's version for a person to compare with supported releases.
/// Deliberately no verdict from the local clock: a date says nothing about whether a release
/// still receives fixes (distributions backport them to old version numbers).
fn docker_up_to_date(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let docker = ctx.docker().expect("checked");
    let version = match docker.version.as_result() {
        Ok(v) => v,
        Err(reason) => {
            return CheckResult::error(format!("the engine version could not be read: {reason}"))
        }
    };
    let expected = "a release that still receives security fixes (compare with Docker's or the distribution's release notes)";
    let (actual, summary) = match EngineVersion::parse(&version.version) {
        Some(v) => match v.build() {
            Some(build) => (
                format!(
                    "{} (upstream {}, {build} {})",
                    version.version,
                    v.upstream(),
                    v.suffix
                ),
                format!(
                    "Docker Engine {} ({build} {})",
                    v.upstream(),
                    version.version
                ),
            ),
            None => (
                version.version.clone(),
                format!("Docker Engine {}", v.upstream()),
            ),
        },
        None => (
            format!("{} (not a recognised version format)", version.version),
            format!("Docker Engine {}", version.version),
        ),
    };
    let from_info = version.source == VersionSource::InfoAndPing;
    let field = if from_info {
        "Info.ServerVersion"
    } else {
        "Version"
    };
    let mut objects = vec![ObjectResult::new("daemon", "Docker Engine", Status::Info)
        .evidence(field, actual, expected)];
    for c in &version.components {
        if c.name == "Engine" {
            continue;
        }
        // Read from /info, a component is known by the commit the daemon reports (runc's
        // includes its version upstream; distributions put their package version there).
        let (field, actual) = if c.version.is_empty() && !c.commit.is_empty() {
            ("Components.Commit", format!("commit {}", c.commit))
        } else {
            ("Components.Version", c.version.clone())
        };
        objects.push(
            ObjectResult::new("component", &c.name, Status::Info).evidence(field, actual, expected),
        );
    }
    CheckResult::info(format!(
        "{summary}; whether it is current is for a person to confirm against supported releases"
    ))
    .with_objects(objects)
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use super::EngineVersion;
    use crate::model::Status;
    use bulkhead_facts::Fact;
    use serde_json::json;

    fn statuses(r: &crate::model::CheckResult) -> Vec<(&str, Status)> {
        r.objects
            .iter()
            .map(|o| (o.name.as_str(), o.status))
            .collect()
    }

    // 1.1.1 ------------------------------------------------------------------------------

    #[test]
    fn data_root_on_its_own_mount_passes() {
        let f = Fixture::new()
            .dockerd("", None)
            .mounts(&["/", "/var/lib/docker"]);
        let r = f.check("docker.host.separate_partition");
        assert_eq!(r.status, Status::Pass, "{r:?}");
        let e = r.objects[0].evidence.as_ref().unwrap();
        assert!(e.actual.contains("/dev/sda2"), "{e:?}");
    }

    #[test]
    fn dockerds_self_bind_mount_is_not_a_separate_partition() {
        // dockerd bind-mounts its data root onto itself, so `mountpoint -q` (docker-bench's test)
        // always succeeds. Seen on a real dockerd 20.10 here: the data root's mount has the same
        // source and type as the root file system that holds it.
        let f = Fixture::new().dockerd("", None).mounts_with(&[
            ("/", "/dev/vda", "ext4"),
            ("/var/lib/docker", "/dev/vda", "ext4"),
        ]);
        let r = f.check("docker.host.separate_partition");
        assert_eq!(r.status, Status::Fail, "{r:?}");
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("dockerd does this itself"));
        let e = r.objects[0].evidence.as_ref().unwrap();
        assert_eq!(
            e.actual,
            "a bind mount of a directory on the file system mounted at / (ext4 /dev/vda)"
        );
        // A real partition with dockerd's self bind-mount stacked on top is still separate.
        let f = Fixture::new().dockerd("", None).mounts_with(&[
            ("/", "/dev/vda", "ext4"),
            ("/var/lib/docker", "/dev/vdb1", "xfs"),
            ("/var/lib/docker", "/dev/vdb1", "xfs"),
        ]);
        assert_eq!(
            f.check("docker.host.separate_partition").status,
            Status::Pass
        );
        // Same device under a separately mounted /var: the data root is still just a directory.
        let f = Fixture::new().dockerd("", None).mounts_with(&[
            ("/", "/dev/vda", "ext4"),
            ("/var", "/dev/mapper/vg-var", "ext4"),
            ("/var/lib/docker", "/dev/mapper/vg-var", "ext4"),
        ]);
        let r = f.check("docker.host.separate_partition");
        assert_eq!(r.status, Status::Fail);
        assert!(r.objects[0]
            .evidence
            .as_ref()
            .unwrap()
            .actual
            .contains("mounted at /var "));
    }

    #[test]
    fn data_root_sharing_root_fs_fails_and_names_the_holder() {
        let f = Fixture::new()
            .dockerd("", None)
            .mounts(&["/", "/var", "/var/lib/dockerx"]);
        let r = f.check("docker.host.separate_partition");
        assert_eq!(r.status, Status::Fail);
        let e = r.objects[0].evidence.as_ref().unwrap();
        assert!(e.actual.contains("mounted at /var "), "{e:?}");
    }

    #[test]
    fn pitfall_6_data_root_comes_from_configuration() {
        // The daemon runs with --data-root /srv/docker: /var/lib/docker being a mount is irrelevant.
        let f = Fixture::new()
            .dockerd("--data-root /srv/docker", None)
            .mounts(&["/", "/var/lib/docker"]);
        let r = f.check("docker.host.separate_partition");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.objects[0].name, "/srv/docker");
        let f = Fixture::new()
            .dockerd("", Some(json!({"data-root": "/srv/docker/"})))
            .mounts(&["/", "/srv/docker"]);
        assert_eq!(
            f.check("docker.host.separate_partition").status,
            Status::Pass
        );
    }

    #[test]
    fn userns_remap_state_dir_accepts_its_parent_mount() {
        let mut f = Fixture::new()
            .dockerd("--userns-remap default", None)
            .mounts(&["/", "/var/lib/docker"]);
        f.docker().daemon.paths.data_root = "/var/lib/docker/100000.100000".into();
        let r = f.check("docker.host.separate_partition");
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("userns-remap"));
        // Without userns-remap the same layout is not its own mount.
        let mut f = Fixture::new()
            .dockerd("", None)
            .mounts(&["/", "/var/lib/docker"]);
        f.docker().daemon.paths.data_root = "/var/lib/docker/100000.100000".into();
        assert_eq!(
            f.check("docker.host.separate_partition").status,
            Status::Fail
        );
    }

    #[test]
    fn unreadable_mount_table_is_an_error_and_remote_is_not_applicable() {
        let mut f = Fixture::new().dockerd("", None);
        f.snapshot.host.mounts = bulkhead_facts::Fact::unavailable("permission denied");
        let r = f.check("docker.host.separate_partition");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("permission denied"));
        let r = Fixture::new()
            .mounts(&["/"])
            .remote()
            .check("docker.host.separate_partition");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("remote daemon"));
    }

    // 1.1.2 ------------------------------------------------------------------------------

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbob:x:1001:1001::/home/bob:/bin/sh\nci:x:1002:999::/home/ci:/bin/sh\nalicex:x:1003:1003::/home/alicex:/bin/sh\n";
    const GROUP: &str = "root:x:0:\ndocker:x:999:alice,alicex\nbob:x:1001:\n";

    #[test]
    fn docker_group_members_include_primary_group_users_and_warn_without_list() {
        let f = Fixture::new().dockerd("", None).accounts(PASSWD, GROUP);
        let r = f.check("docker.host.trusted_docker_group");
        assert_eq!(r.status, Status::Warn);
        assert_eq!(
            statuses(&r),
            vec![
                ("alice", Status::Warn),
                ("alicex", Status::Warn),
                ("ci", Status::Warn)
            ]
        );
        assert_eq!(
            r.objects[2].evidence.as_ref().unwrap().actual,
            "primary group"
        );
    }

    #[test]
    fn trusted_users_are_matched_exactly_not_as_substrings() {
        // docker-bench accepts "alicex" when "alice" is trusted (substring match).
        let mut f = Fixture::new().dockerd("", None).accounts(PASSWD, GROUP);
        f.options.trusted_users = Some(vec!["alice".into(), "ci".into()]);
        let r = f.check("docker.host.trusted_docker_group");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            statuses(&r),
            vec![
                ("alice", Status::Pass),
                ("alicex", Status::Fail),
                ("ci", Status::Pass)
            ]
        );
        assert!(r.message.unwrap().contains("alicex"));
        f.options.trusted_users = Some(vec!["alice".into(), "alicex".into(), "ci".into()]);
        assert_eq!(
            f.check("docker.host.trusted_docker_group").status,
            Status::Pass
        );
    }

    #[test]
    fn empty_or_absent_group_passes_and_socket_group_setting_is_followed() {
        let f = Fixture::new()
            .dockerd("", None)
            .accounts(PASSWD, "root:x:0:\ndocker:x:999:\n");
        // ci's primary group is 999: still a member.
        assert_eq!(
            f.check("docker.host.trusted_docker_group").status,
            Status::Warn
        );
        let f = Fixture::new().dockerd("", None).accounts(
            "root:x:0:0:root:/root:/bin/bash\n",
            "root:x:0:\ndocker:x:999:\n",
        );
        let r = f.check("docker.host.trusted_docker_group");
        assert_eq!(r.status, Status::Pass);
        assert!(r.message.unwrap().contains("no members"));
        // The daemon gives its socket to group "ops" (-G ops): docker's members are irrelevant.
        let f = Fixture::new()
            .dockerd("-G ops", None)
            .accounts(PASSWD, "docker:x:999:alice\nops:x:500:bob\n");
        let r = f.check("docker.host.trusted_docker_group");
        assert_eq!(statuses(&r), vec![("bob", Status::Warn)]);
        let f = Fixture::new()
            .dockerd("", Some(json!({"group": "nosuch"})))
            .accounts(PASSWD, GROUP);
        assert_eq!(
            f.check("docker.host.trusted_docker_group").status,
            Status::Pass
        );
    }

    #[test]
    fn pitfall_22_rootless_daemon_group_check_is_not_applicable() {
        // docker-bench does not detect rootless Docker and lists the docker group regardless.
        let f = Fixture::new().rootless("alice", 1000, "", None);
        let r = f.check("docker.host.trusted_docker_group");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("rootless"));
    }

    // 1.1.3 - 1.1.18 ---------------------------------------------------------------------

    fn audited_host() -> Fixture {
        Fixture::new()
            .dockerd("", None)
            .binary("dockerd", Some("/usr/sbin/dockerd"))
            .binary("containerd", Some("/usr/bin/containerd"))
            .binary("containerd-shim", None)
            .binary("containerd-shim-runc-v1", None)
            .binary(
                "containerd-shim-runc-v2",
                Some("/usr/bin/containerd-shim-runc-v2"),
            )
            .binary("runc", Some("/usr/sbin/runc"))
            .unit("docker.service", Some("/lib/systemd/system/docker.service"))
            .unit("docker.socket", None)
            .file("/usr/sbin/dockerd", 0o755, 0, 0)
            .dir("/var/lib/docker", 0o710, 0, 0)
            .dir("/etc/docker", 0o755, 0, 0)
            .missing("/etc/sysconfig/docker")
            .file("/etc/default/docker", 0o644, 0, 0)
    }

    #[test]
    fn audit_rule_on_real_binary_path_passes_substring_does_not() {
        let f = audited_host().audit_rules(
            "kernel",
            "-w /usr/sbin/dockerd -p rwxa -k docker\n-w /usr/sbin/runc.bak -p wa -k docker\n",
        );
        let r = f.check("docker.audit.dockerd");
        assert_eq!(r.status, Status::Pass, "{r:?}");
        let e = r.objects[0].evidence.as_ref().unwrap();
        assert_eq!(e.field, "audit rules (kernel)");
        assert_eq!(e.actual, "-w /usr/sbin/dockerd -p rwxa -k docker");
        // A rule on /usr/sbin/runc.bak contains "/usr/sbin/runc" but does not watch it.
        let r = f.check("docker.audit.runc");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.objects[0].name, "/usr/sbin/runc");
    }

    #[test]
    fn pitfall_6_audit_checks_follow_the_real_paths() {
        // docker-bench looks for /usr/bin/dockerd and /var/lib/docker; this daemon lives elsewhere.
        let f = audited_host()
            .dockerd("--data-root /srv/docker", None)
            .binary("dockerd", Some("/usr/sbin/dockerd"))
            .dir("/srv/docker", 0o710, 0, 0)
            .audit_rules(
                "kernel",
                "-w /usr/bin/dockerd -k docker\n-w /var/lib/docker -k docker\n",
            );
        assert_eq!(f.check("docker.audit.dockerd").status, Status::Fail);
        let r = f.check("docker.audit.data_root");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.objects[0].name, "/srv/docker");
        let f = f.audit_rules("kernel", "-w /srv/docker/ -k docker\n");
        assert_eq!(f.check("docker.audit.data_root").status, Status::Pass);
    }

    #[test]
    fn directory_tree_rules_cover_files_below() {
        let f = audited_host().audit_rules(
            "files",
            "-a always,exit -F dir=/etc/docker -F perm=wa -k docker\n-w /lib/systemd/system/ -p wa\n",
        );
        let r = f.check("docker.audit.daemon_json");
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert_eq!(r.objects[0].name, "/etc/docker/daemon.json");
        assert!(r.objects[0]
            .evidence
            .as_ref()
            .unwrap()
            .field
            .contains("/etc/audit/rules.d/docker.rules"));
        assert_eq!(f.check("docker.audit.docker_service").status, Status::Pass);
        // A -w watch on a directory the host reports as a directory covers its tree too.
        let f = audited_host().audit_rules("kernel", "-w /etc/docker -p wa -k docker\n");
        assert_eq!(f.check("docker.audit.daemon_json").status, Status::Pass);
        // ... but a -w watch on a file never covers a sibling that shares its prefix.
        let f = audited_host().audit_rules("kernel", "-w /etc/docker/daemon.json.bak -p wa\n");
        assert_eq!(f.check("docker.audit.daemon_json").status, Status::Fail);
    }

    /// Found auditing a real rootless daemon as its own user, who may read neither the kernel's
    /// rules nor /etc/audit: the check cannot judge, but still names the path it would judge.
    #[test]
    fn unknown_audit_rules_are_an_error_naming_the_path() {
        let mut f = audited_host().dockerd("--data-root /srv/docker", None);
        f.snapshot.host.audit = Fact::Unavailable(
            "cannot read /etc/audit/rules.d: Permission denied (os error 13)".into(),
        );
        let r = f.check("docker.audit.data_root");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("Permission denied"));
        assert_eq!(r.objects.len(), 1);
        assert_eq!(r.objects[0].name, "/srv/docker");
        assert_eq!(r.objects[0].status, Status::Error);
    }

    #[test]
    fn read_only_watch_does_not_count() {
        let f = audited_host().audit_rules("kernel", "-w /usr/sbin/dockerd -p r -k docker\n");
        let r = f.check("docker.audit.dockerd");
        assert_eq!(r.status, Status::Fail);
        assert!(r.message.unwrap().contains("-p r"));
    }

    #[test]
    fn absent_paths_are_not_applicable_with_reason() {
        let f = audited_host().audit_rules("kernel", "");
        let r = f.check("docker.audit.containerd_shim");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("no containerd-shim binary"));
        let r = f.check("docker.audit.docker_socket");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("docker.socket"));
        let r = f.check("docker.audit.etc_sysconfig_docker");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r
            .message
            .unwrap()
            .contains("/etc/sysconfig/docker does not exist"));
        // Present files without a rule fail.
        assert_eq!(
            f.check("docker.audit.etc_default_docker").status,
            Status::Fail
        );
        assert_eq!(
            f.check("docker.audit.containerd_shim_runc_v2").status,
            Status::Fail
        );
    }

    #[test]
    fn uncollected_locations_and_rules_are_errors() {
        let f = Fixture::new().dockerd("", None).audit_rules("kernel", "");
        let r = f.check("docker.audit.containerd_binary");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("not collected"));
        // dockerd falls back to the running process's executable.
        assert_eq!(
            f.check("docker.audit.dockerd").objects[0].name,
            "/usr/bin/dockerd"
        );
        let mut f = audited_host();
        f.snapshot.host.audit =
            bulkhead_facts::Fact::unavailable("auditd is not installed and no rule files exist");
        let r = f.check("docker.audit.dockerd");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("auditd is not installed"));
    }

    #[test]
    fn containerd_paths_follow_the_configured_socket() {
        let f = audited_host()
            .dockerd("--containerd /run/docker/containerd/containerd.sock", None)
            .audit_rules(
                "kernel",
                "-w /run/containerd -k docker\n-w /run/containerd/containerd.sock -k docker\n",
            );
        let r = f.check("docker.audit.containerd_sock");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.objects[0].name, "/run/docker/containerd/containerd.sock");
        let r = f.check("docker.audit.run_containerd");
        assert_eq!(r.objects[0].name, "/run/docker/containerd");
        assert_eq!(r.status, Status::Fail);
        let f = audited_host().audit_rules("kernel", "-w /run/containerd -k docker\n");
        assert_eq!(f.check("docker.audit.run_containerd").status, Status::Pass);
    }

    #[test]
    fn pitfall_21_audit_checks_on_remote_daemon_are_not_applicable() {
        // docker-bench greps the local audit rules even when the API talks to another machine.
        let f = audited_host().audit_rules("kernel", "").remote();
        for id in [
            "docker.audit.dockerd",
            "docker.audit.data_root",
            "docker.audit.runc",
        ] {
            assert_eq!(f.check(id).status, Status::NotApplicable, "{id}");
        }
    }

    // 1.2.1 and 1.2.2 --------------------------------------------------------------------

    #[test]
    fn hardening_is_manual_with_host_evidence() {
        let mut f = Fixture::new();
        f.snapshot.host.kernel = bulkhead_facts::Fact::Value("6.1.0-18-amd64".into());
        f.snapshot.host.security_modules.apparmor = bulkhead_facts::Fact::Value(true);
        let r = f.check("docker.host.hardened");
        assert_eq!(r.status, Status::Manual);
        let kernel = r.objects.iter().find(|o| o.name == "kernel").unwrap();
        assert_eq!(kernel.evidence.as_ref().unwrap().actual, "6.1.0-18-amd64");
        let aa = r.objects.iter().find(|o| o.name == "AppArmor").unwrap();
        assert_eq!(aa.evidence.as_ref().unwrap().actual, "enabled");
    }

    #[test]
    fn pitfall_7_debian_versions_parse() {
        let v = EngineVersion::parse("20.10.24+dfsg1").unwrap();
        assert_eq!((v.major, v.minor, v.patch), (20, 10, 24));
        assert_eq!(v.suffix, "+dfsg1");
        assert_eq!(v.upstream(), "20.10.24");
        assert_eq!(v.build(), Some("Debian package build"));
        let v = EngineVersion::parse("17.03.2-ce").unwrap();
        assert_eq!(
            (v.major, v.minor, v.patch, v.suffix.as_str()),
            (17, 3, 2, "-ce")
        );
        assert_eq!(EngineVersion::parse("26.1.5").unwrap().suffix, "");
        assert_eq!(EngineVersion::parse("27.0").unwrap().upstream(), "27.0.0");
        assert_eq!(EngineVersion::parse("dev"), None);
        assert_eq!(EngineVersion::parse("1..2"), None);
    }

    #[test]
    fn pitfall_7_version_is_info_and_never_judged_by_the_clock() {
        // docker-bench compares with a date-derived yy.mm.0 and prints PASS while its JSON says
        // INFO. bulkhead reports info, with the same verdict whatever the collection date.
        let mut f = Fixture::new();
        let r = f.check("docker.host.docker_up_to_date");
        assert_eq!(r.status, Status::Info);
        let e = r.objects[0].evidence.as_ref().unwrap();
        assert!(
            e.actual
                .starts_with("20.10.24+dfsg1 (upstream 20.10.24, Debian"),
            "{e:?}"
        );
        f.snapshot.collected_at = "2035-06-01T00:00:00Z".into();
        assert_eq!(f.check("docker.host.docker_up_to_date"), r);
        let f = Fixture::new().engine(|_, v| {
            v.version = "99.0.0".into();
            v.components = vec![bulkhead_facts::docker::VersionComponent {
                name: "containerd".into(),
                version: "1.6.20~ds1".into(),
                ..Default::default()
            }];
        });
        let r = f.check("docker.host.docker_up_to_date");
        assert_eq!(r.status, Status::Info);
        assert_eq!(r.objects[1].name, "containerd");
    }

    #[test]
    fn a_version_read_from_info_names_the_components_by_commit() {
        use bulkhead_facts::docker::{VersionComponent, VersionSource};
        let f = Fixture::new().engine(|_, v| {
            v.source = VersionSource::InfoAndPing;
            v.components = vec![
                VersionComponent {
                    name: "runc".into(),
                    commit: "v1.1.12-0-g51d5e94".into(),
                    ..Default::default()
                },
                VersionComponent {
                    name: "containerd".into(),
                    version: "1.7.13".into(),
                    ..Default::default()
                },
            ];
        });
        let r = f.check("docker.host.docker_up_to_date");
        assert_eq!(r.status, Status::Info);
        let evidence = |i: usize| r.objects[i].evidence.clone().unwrap();
        assert_eq!(evidence(0).field, "Info.ServerVersion");
        assert_eq!(r.objects[1].name, "runc");
        assert_eq!(evidence(1).field, "Components.Commit");
        assert_eq!(evidence(1).actual, "commit v1.1.12-0-g51d5e94");
        assert_eq!(evidence(2).field, "Components.Version");
        assert_eq!(evidence(2).actual, "1.7.13");
    }

    #[test]
    fn version_unavailable_is_an_error() {
        let mut f = Fixture::new();
        f.docker().version = bulkhead_facts::Fact::unavailable("GET /version: connection refused");
        let r = f.check("docker.host.docker_up_to_date");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("connection refused"));
    }
}
