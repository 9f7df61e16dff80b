//! Section 3: ownership and permissions of the daemon's files: systemd units, the configuration
//! directory and file, registry and TLS certificates and keys, the API and containerd sockets,
//! and the distribution's environment files.
//!
//! Every path comes from the daemon's resolved configuration (`DaemonFacts.paths`), never from
//! a default written here. Modes are judged as bitmasks (`mode & !allowed == 0`), owners by uid
//! AND gid. A file the configuration names but that does not exist is not applicable, with the
//! path. Under rootless Docker the files in the daemon user's own locations (home directory and
//! runtime directory) belong to that user, and are judged against that user; the evidence says so.

use super::{
    docker_paths, env_file, file_mode, file_owner, host_side_guard, is_rootless, mode_object,
    single_file_result, unit_file, OwnerGroup,
};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::host::{FileFact, FileKind};

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("docker.files.docker_service_owner", docker_service_owner),
    ("docker.files.docker_service_mode", docker_service_mode),
    (
        "docker.files.docker_socket_unit_owner",
        docker_socket_unit_owner,
    ),
    (
        "docker.files.docker_socket_unit_mode",
        docker_socket_unit_mode,
    ),
    ("docker.files.etc_docker_owner", etc_docker_owner),
    ("docker.files.etc_docker_mode", etc_docker_mode),
    ("docker.files.registry_certs_owner", registry_certs_owner),
    ("docker.files.registry_certs_mode", registry_certs_mode),
    ("docker.files.tls_ca_owner", tls_ca_owner),
    ("docker.files.tls_ca_mode", tls_ca_mode),
    ("docker.files.tls_cert_owner", tls_cert_owner),
    ("docker.files.tls_cert_mode", tls_cert_mode),
    ("docker.files.tls_key_owner", tls_key_owner),
    ("docker.files.tls_key_mode", tls_key_mode),
    ("docker.files.docker_sock_owner", docker_sock_owner),
    ("docker.files.docker_sock_mode", docker_sock_mode),
    ("docker.files.daemon_json_owner", daemon_json_owner),
    ("docker.files.daemon_json_mode", daemon_json_mode),
    (
        "docker.files.etc_default_docker_owner",
        etc_default_docker_owner,
    ),
    (
        "docker.files.etc_default_docker_mode",
        etc_default_docker_mode,
    ),
    (
        "docker.files.etc_sysconfig_docker_mode",
        etc_sysconfig_docker_mode,
    ),
    (
        "docker.files.etc_sysconfig_docker_owner",
        etc_sysconfig_docker_owner,
    ),
    ("docker.files.containerd_sock_owner", containerd_sock_owner),
    ("docker.files.containerd_sock_mode", containerd_sock_mode),
];

// ---------------------------------------------------------------------------------------------
// The checks, pair by pair (owner, mode)

fn docker_service_owner(ctx: &Context<'_>) -> CheckResult {
    unit_check(ctx, "docker.service", |path| {
        owner_object(ctx, path, Group::Root)
    })
}

fn docker_service_mode(ctx: &Context<'_>) -> CheckResult {
    unit_check(ctx, "docker.service", |path| mode_object(ctx, path, 0o644))
}

fn docker_socket_unit_owner(ctx: &Context<'_>) -> CheckResult {
    unit_check(ctx, "docker.socket", |path| {
        owner_object(ctx, path, Group::Root)
    })
}

fn docker_socket_unit_mode(ctx: &Context<'_>) -> CheckResult {
    unit_check(ctx, "docker.socket", |path| mode_object(ctx, path, 0o644))
}

/// 3.1 - 3.4: the unit file systemd loads for `unit`, and each of its drop-ins: a drop-in can
/// replace any setting of the unit (`ExecStart=` of docker.service, `ListenStream=` or
/// `SocketMode=` of docker.socket), so whoever may write one controls the daemon as much as
/// whoever may write the unit file. Each is judged against the same owner and mode.
fn unit_check(ctx: &Context<'_>, unit: &str, judge: impl Fn(&str) -> ObjectResult) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let file = match unit_file(ctx, unit) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let dropins = docker_paths(ctx)
        .ok()
        .and_then(|p| p.unit_dropins.get(unit))
        .cloned()
        .unwrap_or_default();
    let what = format!("the {unit} unit file");
    if dropins.is_empty() {
        return single_file_result(&what, judge(&file));
    }
    let mut objects = vec![judge(&file)];
    objects.extend(dropins.iter().map(|d| {
        append_note(
            judge(d),
            &format!("a drop-in of {unit}: its settings apply over the unit file's"),
        )
    }));
    let r = CheckResult::from_objects(objects, "");
    let failing: Vec<&str> = r
        .objects
        .iter()
        .filter(|o| matches!(o.status, Status::Fail | Status::Error))
        .map(|o| o.name.as_str())
        .collect();
    let message = if failing.is_empty() {
        format!(
            "{what} {file} and its {} drop-in(s) ({}) are as expected",
            dropins.len(),
            dropins.join(", ")
        )
    } else {
        format!(
            "{what} {file} or its drop-ins ({}): not as expected: {}",
            dropins.join(", "),
            failing.join(", ")
        )
    };
    CheckResult::new(r.status, message).with_objects(r.objects)
}

/// Add `extra` to an object's note (after any note it has).
fn append_note(mut o: ObjectResult, extra: &str) -> ObjectResult {
    o.note = Some(match o.note.take() {
        Some(n) if !n.is_empty() => format!("{n}; {extra}"),
        _ => extra.to_string(),
    });
    o
}

fn config_dir(ctx: &Context<'_>) -> Result<String, CheckResult> {
    docker_paths(ctx).map(|p| p.config_dir.clone())
}

fn etc_docker_owner(ctx: &Context<'_>) -> CheckResult {
    owner_check(
        ctx,
        "the Docker configuration directory",
        config_dir(ctx),
        Group::Root,
    )
}

fn etc_docker_mode(ctx: &Context<'_>) -> CheckResult {
    mode_check(
        ctx,
        "the Docker configuration directory",
        config_dir(ctx),
        0o755,
    )
}

fn registry_certs_owner(ctx: &Context<'_>) -> CheckResult {
    certs_check(ctx, |path| owner_object(ctx, path, Group::Root))
}

/// Certificates at 0444 or stricter; a private key (`*.key`) at 0400 or stricter, since a key
/// readable by others gives away the client identity it proves.
fn registry_certs_mode(ctx: &Context<'_>) -> CheckResult {
    certs_check(ctx, |path| {
        if path.ends_with(".key") {
            let o = mode_object(ctx, path, 0o400);
            o.note("a private key: readable by its owner only")
        } else {
            mode_object(ctx, path, 0o444)
        }
    })
}

/// A TLS file the daemon's configuration names (`tlscacert`, `tlscert`, `tlskey`).
fn tls_file(
    ctx: &Context<'_>,
    pick: fn(&bulkhead_facts::docker::DockerPaths) -> &Option<String>,
    key: &str,
) -> Result<String, CheckResult> {
    let paths = docker_paths(ctx)?;
    pick(paths).clone().ok_or_else(|| {
        CheckResult::not_applicable(format!(
            "the daemon's configuration sets no `{key}` (no TLS file of this kind is in use)"
        ))
    })
}

fn tls_ca(ctx: &Context<'_>) -> Result<String, CheckResult> {
    tls_file(ctx, |p| &p.tls_ca, "tlscacert")
}

fn tls_cert(ctx: &Context<'_>) -> Result<String, CheckResult> {
    tls_file(ctx, |p| &p.tls_cert, "tlscert")
}

fn tls_key(ctx: &Context<'_>) -> Result<String, CheckResult> {
    tls_file(ctx, |p| &p.tls_key, "tlskey")
}

fn tls_ca_owner(ctx: &Context<'_>) -> CheckResult {
    owner_check(ctx, "the TLS CA certificate", tls_ca(ctx), Group::Root)
}

fn tls_ca_mode(ctx: &Context<'_>) -> CheckResult {
    mode_check(ctx, "the TLS CA certificate", tls_ca(ctx), 0o444)
}

fn tls_cert_owner(ctx: &Context<'_>) -> CheckResult {
    owner_check(ctx, "the server certificate", tls_cert(ctx), Group::Root)
}

fn tls_cert_mode(ctx: &Context<'_>) -> CheckResult {
    mode_check(ctx, "the server certificate", tls_cert(ctx), 0o444)
}

fn tls_key_owner(ctx: &Context<'_>) -> CheckResult {
    owner_check(ctx, "the server key", tls_key(ctx), Group::Root)
}

/// 3.14: 0400 or stricter, as a bitmask: 0600 grants the owner write and fails; 0000 passes.
fn tls_key_mode(ctx: &Context<'_>) -> CheckResult {
    mode_check(ctx, "the server key", tls_key(ctx), 0o400)
}

/// 3.15: every unix socket the daemon listens on is owned by root and the socket group.
fn docker_sock_owner(ctx: &Context<'_>) -> CheckResult {
    sockets_check(ctx, |path| {
        let o = owner_object(ctx, path, Group::Socket);
        match socket_activation(ctx, path) {
            Some(unit) => {
                let user = unit.socket_user.as_ref();
                let group = unit.socket_group.as_ref();
                let set_in = [user, group]
                    .into_iter()
                    .flatten()
                    .map(|v| v.file.as_str())
                    .collect::<std::collections::BTreeSet<_>>();
                let set_in = if set_in.is_empty() {
                    format!("neither is set in {} or its drop-ins", unit.file)
                } else {
                    format!(
                        "set in {}",
                        set_in.into_iter().collect::<Vec<_>>().join(", ")
                    )
                };
                append_note(
                    o,
                    &format!(
                        "systemd creates it as {}:{} (SocketUser=, SocketGroup= of docker.socket, {set_in}; unset is root)",
                        user.map_or("root", |v| v.value.as_str()),
                        group.map_or("root", |v| v.value.as_str()),
                    ),
                )
            }
            None => o,
        }
    })
}

fn docker_sock_mode(ctx: &Context<'_>) -> CheckResult {
    sockets_check(ctx, |path| {
        let o = mode_object(ctx, path, 0o660);
        match socket_activation(ctx, path) {
            Some(unit) => {
                let note = match &unit.socket_mode {
                    Some(m) => format!(
                        "systemd creates it with mode {} (SocketMode= in {})",
                        m.value, m.file
                    ),
                    None => format!(
                        "systemd creates it with mode 0666, its default: {} and its drop-ins set no SocketMode=",
                        unit.file
                    ),
                };
                append_note(o, &note)
            }
            None => o,
        }
    })
}

/// The socket unit that made `path`, when the daemon is socket-activated and its unit names it.
fn socket_activation<'a>(
    ctx: &Context<'a>,
    path: &str,
) -> Option<&'a bulkhead_facts::docker::SocketUnit> {
    let unit = docker_paths(ctx).ok()?.socket_unit.as_ref()?;
    unit.socket_files().any(|v| v.value == path).then_some(unit)
}

fn config_file(ctx: &Context<'_>) -> Result<String, CheckResult> {
    docker_paths(ctx).map(|p| p.config_file.clone())
}

fn daemon_json_owner(ctx: &Context<'_>) -> CheckResult {
    owner_check(
        ctx,
        "the daemon's configuration file",
        config_file(ctx),
        Group::Root,
    )
}

fn daemon_json_mode(ctx: &Context<'_>) -> CheckResult {
    mode_check(
        ctx,
        "the daemon's configuration file",
        config_file(ctx),
        0o644,
    )
}

fn etc_default_docker_owner(ctx: &Context<'_>) -> CheckResult {
    owner_check(
        ctx,
        "the Debian-style defaults file",
        env_file(ctx, "/default/docker"),
        Group::Root,
    )
}

fn etc_default_docker_mode(ctx: &Context<'_>) -> CheckResult {
    mode_check(
        ctx,
        "the Debian-style defaults file",
        env_file(ctx, "/default/docker"),
        0o644,
    )
}

fn etc_sysconfig_docker_mode(ctx: &Context<'_>) -> CheckResult {
    mode_check(
        ctx,
        "the Red Hat-style sysconfig file",
        env_file(ctx, "/sysconfig/docker"),
        0o644,
    )
}

fn etc_sysconfig_docker_owner(ctx: &Context<'_>) -> CheckResult {
    owner_check(
        ctx,
        "the Red Hat-style sysconfig file",
        env_file(ctx, "/sysconfig/docker"),
        Group::Root,
    )
}

fn containerd_socket(ctx: &Context<'_>) -> Result<String, CheckResult> {
    let paths = docker_paths(ctx)?;
    paths.containerd_socket.clone().ok_or_else(|| {
        CheckResult::not_applicable("the daemon's configuration names no containerd socket")
    })
}

fn containerd_sock_owner(ctx: &Context<'_>) -> CheckResult {
    owner_check(
        ctx,
        "the containerd socket",
        containerd_socket(ctx),
        Group::Root,
    )
}

fn containerd_sock_mode(ctx: &Context<'_>) -> CheckResult {
    mode_check(ctx, "the containerd socket", containerd_socket(ctx), 0o660)
}

// ---------------------------------------------------------------------------------------------
// Who must own what

/// The group a file must belong to (besides its owner).
#[derive(Clone, Copy)]
enum Group {
    /// root's group (gid 0).
    Root,
    /// The group the daemon gives its API socket (`group` setting / `-G`, default `docker`),
    /// resolved by name on the audited host; gid 0 is accepted too, being stricter.
    Socket,
}

/// The rootless daemon's user: (uid, primary gid, name, home, runtime directory).
fn rootless_user(ctx: &Context<'_>) -> Option<(u32, u32, String, String, String)> {
    let d = ctx.docker()?;
    let p = d.daemon.process.value()?.as_ref()?;
    let host = &ctx.snapshot.host;
    let entry = host.users.value()?.iter().find(|u| u.uid == p.uid)?;
    // The runtime directory is where the daemon keeps its exec root (`$XDG_RUNTIME_DIR/docker`).
    let exec_root = d.daemon.paths.exec_root.trim_end_matches('/');
    let runtime = exec_root
        .rsplit_once('/')
        .map(|(parent, _)| parent.to_string())
        .unwrap_or_else(|| format!("/run/user/{}", p.uid));
    Some((
        p.uid,
        entry.gid,
        entry.name.clone(),
        entry.home.clone(),
        runtime,
    ))
}

fn is_under(path: &str, dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    !dir.is_empty() && (path == dir || path.starts_with(&format!("{dir}/")))
}

/// Who must own `path`: (uid, group, a note for evidence when that is not plain root). Err when
/// the daemon is rootless but its user cannot be identified.
fn expected_owner(
    ctx: &Context<'_>,
    path: &str,
    group: Group,
) -> Result<(u32, OwnerGroup, Option<String>), String> {
    if is_rootless(ctx) {
        let Some((uid, gid, name, home, runtime)) = rootless_user(ctx) else {
            return Err(
                "rootless Docker, but the user running the daemon could not be identified".into(),
            );
        };
        if is_under(path, &home) || is_under(path, &runtime) {
            let note = format!(
                "rootless Docker: files in {name}'s own locations belong to {name}, the user running the daemon"
            );
            return Ok((uid, OwnerGroup::Gid(gid), Some(note)));
        }
    }
    Ok(match group {
        Group::Root => (0, OwnerGroup::Gid(0), None),
        Group::Socket => {
            let name = ctx
                .daemon_settings()
                .string("group")
                .map(|(g, _)| g)
                .unwrap_or_else(|| "docker".to_string());
            (0, OwnerGroup::Named(name), None)
        }
    })
}

fn add_note(mut o: ObjectResult, note: Option<String>) -> ObjectResult {
    if matches!(o.status, Status::Pass | Status::Fail) {
        if let Some(n) = note {
            o.note = Some(n);
        }
    }
    o
}

fn owner_object(ctx: &Context<'_>, path: &str, group: Group) -> ObjectResult {
    match expected_owner(ctx, path, group) {
        Ok((uid, g, note)) => subordinate_group_accepted(
            ctx,
            path,
            add_note(super::owner_object(ctx, path, uid, g), note),
        ),
        Err(reason) => ObjectResult::new("file", path, Status::Error).note(reason),
    }
}

/// A rootless daemon's file in its user's locations, owned by the user and by a group of the
/// daemon's user namespace (rootless dockerd gives its socket its own `docker` group, which the
/// host sees as one of the user's subordinate gids): only the user's own namespaced processes
/// can hold that group, so the failure `obj` stands for is none.
fn subordinate_group_accepted(ctx: &Context<'_>, path: &str, obj: ObjectResult) -> ObjectResult {
    if obj.status != Status::Fail || !is_rootless(ctx) {
        return obj;
    }
    let (Some(d), Some((uid, _, name, home, runtime))) = (ctx.docker(), rootless_user(ctx)) else {
        return obj;
    };
    let Some(FileFact::Present(st)) = ctx.snapshot.host.file(path) else {
        return obj;
    };
    let subordinate = d
        .daemon
        .rootless_subgids
        .iter()
        .any(|&(first, count)| st.gid >= first && st.gid - first < count);
    if st.uid != uid || !subordinate || !(is_under(path, &home) || is_under(path, &runtime)) {
        return obj;
    }
    let mut obj = obj;
    obj.status = Status::Pass;
    obj.note(format!(
        "rootless Docker: gid {} is one of {name}'s subordinate gids (/etc/subgid), a group inside the daemon's user namespace that only {name}'s own processes can hold",
        st.gid
    ))
}

// ---------------------------------------------------------------------------------------------
// Turning objects into results

fn owner_check(
    ctx: &Context<'_>,
    what: &str,
    located: Result<String, CheckResult>,
    group: Group,
) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let path = match located {
        Ok(p) => p,
        Err(r) => return r,
    };
    match expected_owner(ctx, &path, group) {
        Ok((uid, g, note)) => {
            let mut r = file_owner(ctx, Some(&path), uid, g, what);
            r.objects = r
                .objects
                .into_iter()
                .map(|o| add_note(o, note.clone()))
                .collect();
            r
        }
        Err(reason) => single_file_result(
            what,
            ObjectResult::new("file", &path, Status::Error).note(reason),
        ),
    }
}

fn mode_check(
    ctx: &Context<'_>,
    what: &str,
    located: Result<String, CheckResult>,
    allowed: u32,
) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    match located {
        Ok(path) => file_mode(ctx, Some(&path), allowed, what),
        Err(r) => r,
    }
}

/// Roll several files up (a single file reads like a single-file check); when none applies,
/// say why for each.
fn many(what: &str, mut objects: Vec<ObjectResult>, empty: &str) -> CheckResult {
    if objects.len() == 1 {
        return single_file_result(what, objects.remove(0));
    }
    let r = CheckResult::from_objects(objects, empty);
    if r.status == Status::NotApplicable && !r.objects.is_empty() {
        let why: Vec<String> = r
            .objects
            .iter()
            .map(|o| {
                format!(
                    "{}: {}",
                    o.name,
                    o.note.as_deref().unwrap_or("not applicable")
                )
            })
            .collect();
        let objects = r.objects.clone();
        return CheckResult::not_applicable(why.join("; ")).with_objects(objects);
    }
    r
}

/// Judge every file under the registry certificates directory (`certs.d`), whatever its name.
fn certs_check(ctx: &Context<'_>, judge: impl Fn(&str) -> ObjectResult) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let dir = match docker_paths(ctx) {
        Ok(p) => p.certs_dir.clone(),
        Err(r) => return r,
    };
    let host = &ctx.snapshot.host;
    let listing = host.listings.get(&dir);
    match (host.file(&dir), listing) {
        (Some(FileFact::Missing), _) => {
            return CheckResult::not_applicable(format!(
                "{dir} does not exist: no registry certificates are configured"
            ))
        }
        (Some(FileFact::Unreadable { reason }), None) => {
            return CheckResult::error(format!("{dir} could not be read: {reason}"))
        }
        (_, None) => {
            return CheckResult::error(format!(
                "the listing of {dir} was not collected in this snapshot"
            ))
        }
        _ => {}
    }
    let files = match listing.expect("matched above").as_result() {
        Ok(f) => f,
        Err(reason) => return CheckResult::error(format!("{dir} could not be listed: {reason}")),
    };
    let objects: Vec<ObjectResult> = files
        .iter()
        .filter(|f| {
            !matches!(host.file(f), Some(FileFact::Present(st)) if st.kind == FileKind::Directory)
        })
        .map(|f| judge(f))
        .collect();
    many(
        "the registry certificate file",
        objects,
        &format!("{dir} holds no files"),
    )
}

/// Judge every unix socket the daemon listens on.
fn sockets_check(ctx: &Context<'_>, judge: impl Fn(&str) -> ObjectResult) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let paths = match docker_paths(ctx) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // Where each path came from (snapshots older than `socket_sources` do not say).
    let source = |s: &str| {
        paths
            .socket_sources
            .get(s)
            .map(|from| format!("path from {from}"))
    };
    let objects: Vec<ObjectResult> = paths
        .sockets
        .iter()
        .map(|s| match source(s) {
            Some(from) => append_note(judge(s), &from),
            None => judge(s),
        })
        .collect();
    let empty = match &paths.socket_unit {
        Some(unit) => format!(
            "the daemon listens on no unix socket: it is socket-activated (fd://) and the ListenStream= entries of {} name no socket file (only addresses or abstract sockets)",
            unit.file
        ),
        None => "the daemon listens on no unix socket".to_string(),
    };
    let mut r = many("the API socket", objects, &empty);
    if let ([one], Some(message)) = (paths.sockets.as_slice(), r.message.as_mut()) {
        match source(one) {
            Some(from) if !message.contains(&from) => message.push_str(&format!(" ({from})")),
            _ => {}
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::super::fixture::Fixture;
    use crate::model::{CheckResult, Status};
    use serde_json::json;

    fn evidence(r: &CheckResult) -> (String, String) {
        let e = r.objects[0].evidence.as_ref().expect("evidence");
        (e.actual.clone(), e.expected.clone())
    }

    #[test]
    fn pitfall_5_modes_are_bitmasks_not_decimal_numbers() {
        // docker-bench compares `stat -c %a` as decimal numbers: 622 <= 644, 737 <= 755 and
        // 606 <= 660 all pass there. Each grants a bit the limit does not.
        let unit = "/lib/systemd/system/docker.service";
        for mode in [0o622, 0o633, 0o602] {
            let f = Fixture::new()
                .dockerd("", None)
                .unit("docker.service", Some(unit))
                .file(unit, mode, 0, 0);
            let r = f.check("docker.files.docker_service_mode");
            assert_eq!(r.status, Status::Fail, "{mode:o}");
        }
        let f = Fixture::new()
            .dockerd("", None)
            .dir("/etc/docker", 0o737, 0, 0);
        assert_eq!(f.check("docker.files.etc_docker_mode").status, Status::Fail);
        let f = Fixture::new()
            .dockerd("", None)
            .socket("/var/run/docker.sock", 0o606, 0, 999);
        let r = f.check("docker.files.docker_sock_mode");
        assert_eq!(r.status, Status::Fail);
        assert!(
            r.objects[0].note.as_deref().unwrap().contains("0006"),
            "{r:?}"
        );
        // Stricter modes that are numerically "larger" in no way still pass.
        let f = Fixture::new()
            .dockerd("", None)
            .dir("/etc/docker", 0o555, 0, 0);
        assert_eq!(f.check("docker.files.etc_docker_mode").status, Status::Pass);
        let f = Fixture::new()
            .dockerd("", None)
            .socket("/var/run/docker.sock", 0o600, 0, 999);
        assert_eq!(
            f.check("docker.files.docker_sock_mode").status,
            Status::Pass
        );
    }

    #[test]
    fn pitfall_5_owner_checks_test_uid_and_gid() {
        // docker-bench's 3.7 compares only the uid of registry certificates: a root-owned
        // certificate whose group is a user's group passes there. root:root needs gid 0 too.
        let f = Fixture::new()
            .dockerd("", None)
            .dir("/etc/docker/certs.d", 0o755, 0, 0)
            .listing("/etc/docker/certs.d", &["/etc/docker/certs.d/reg/ca.crt"])
            .file("/etc/docker/certs.d/reg/ca.crt", 0o444, 0, 1000);
        let r = f.check("docker.files.registry_certs_owner");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            evidence(&r),
            ("0:1000 (uid 0, gid 1000)".into(), "root:root".into())
        );
        // The same holds for every owner check: wrong uid or wrong gid each fail on their own.
        for (uid, gid, want) in [
            (0, 1000, Status::Fail),
            (1000, 0, Status::Fail),
            (0, 0, Status::Pass),
        ] {
            let f =
                Fixture::new()
                    .dockerd("", None)
                    .file("/etc/docker/daemon.json", 0o644, uid, gid);
            assert_eq!(
                f.check("docker.files.daemon_json_owner").status,
                want,
                "{uid}:{gid}"
            );
        }
    }

    #[test]
    fn pitfall_5_tls_key_0600_fails_0400_and_stricter_pass() {
        // docker-bench requires exactly 400 (so 0000 and 0440 "fail"); the control is
        // "0400 or stricter": 0600 grants write and fails, 0000 passes, 0440 grants group read.
        let args = "-H tcp://0.0.0.0:2376 --tlsverify --tlscacert /etc/docker/ca.pem --tlscert /etc/docker/cert.pem --tlskey /etc/docker/key.pem";
        for (mode, want) in [
            (0o600, Status::Fail),
            (0o440, Status::Fail),
            (0o400, Status::Pass),
            (0o000, Status::Pass),
        ] {
            let f = Fixture::new()
                .dockerd(args, None)
                .file("/etc/docker/key.pem", mode, 0, 0);
            assert_eq!(
                f.check("docker.files.tls_key_mode").status,
                want,
                "{mode:o}"
            );
        }
    }

    #[test]
    fn pitfall_6_paths_come_from_the_daemons_configuration() {
        // --config-file, -H and --containerd move the files; the defaults are irrelevant.
        let f = Fixture::new()
            .dockerd(
                "--config-file /opt/docker/daemon.json -H unix:///srv/run/docker.sock --containerd /run/docker/containerd/containerd.sock",
                None,
            )
            .file("/etc/docker/daemon.json", 0o666, 1000, 1000)
            .file("/opt/docker/daemon.json", 0o600, 0, 0)
            .socket("/var/run/docker.sock", 0o666, 0, 0)
            .socket("/srv/run/docker.sock", 0o660, 0, 999)
            .socket("/run/docker/containerd/containerd.sock", 0o660, 0, 0);
        let r = f.check("docker.files.daemon_json_mode");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.objects[0].name, "/opt/docker/daemon.json");
        assert_eq!(
            f.check("docker.files.daemon_json_owner").status,
            Status::Pass
        );
        let r = f.check("docker.files.docker_sock_mode");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.objects[0].name, "/srv/run/docker.sock");
        let r = f.check("docker.files.containerd_sock_owner");
        assert_eq!(r.objects[0].name, "/run/docker/containerd/containerd.sock");
        assert_eq!(r.status, Status::Pass);
        // TLS files named in daemon.json are found too.
        let f = Fixture::new()
            .dockerd("", Some(json!({"hosts": ["tcp://0.0.0.0:2376"], "tlsverify": true, "tlscacert": "/pki/ca.pem"})))
            .file("/pki/ca.pem", 0o644, 0, 0);
        let r = f.check("docker.files.tls_ca_mode");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.objects[0].name, "/pki/ca.pem");
    }

    #[test]
    fn docker_socket_group_is_resolved_by_name_on_the_host() {
        let f = Fixture::new()
            .dockerd("", None)
            .accounts("root:x:0:0::/root:/bin/sh\n", "root:x:0:\ndocker:x:131:\n")
            .socket("/var/run/docker.sock", 0o660, 0, 131);
        let r = f.check("docker.files.docker_sock_owner");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(evidence(&r).1, "root:docker (or root)");
        // gid 999 is "docker" on many hosts, but not on this one.
        let f = Fixture::new()
            .dockerd("", None)
            .accounts(
                "root:x:0:0::/root:/bin/sh\n",
                "root:x:0:\ndocker:x:131:\nusers:x:999:\n",
            )
            .socket("/var/run/docker.sock", 0o660, 0, 999);
        assert_eq!(
            f.check("docker.files.docker_sock_owner").status,
            Status::Fail
        );
        // The daemon's own group setting (-G ops) decides which group is expected.
        let f = Fixture::new()
            .dockerd("-G ops", None)
            .accounts(
                "root:x:0:0::/root:/bin/sh\n",
                "root:x:0:\ndocker:x:131:\nops:x:500:\n",
            )
            .socket("/var/run/docker.sock", 0o660, 0, 500);
        assert_eq!(
            f.check("docker.files.docker_sock_owner").status,
            Status::Pass
        );
        // No such group: root:root is expected and said so.
        let f = Fixture::new()
            .dockerd("", None)
            .accounts("root:x:0:0::/root:/bin/sh\n", "root:x:0:\n")
            .socket("/var/run/docker.sock", 0o660, 0, 0);
        let r = f.check("docker.files.docker_sock_owner");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(evidence(&r).1, "root:root (no group docker on this host)");
    }

    #[test]
    fn registry_certs_every_file_uid_and_gid() {
        // docker-bench only looks at *.crt and only at the uid.
        let f = Fixture::new()
            .dockerd("", None)
            .dir("/etc/docker/certs.d", 0o755, 0, 0)
            .dir("/etc/docker/certs.d/reg:5000", 0o755, 0, 0)
            .listing(
                "/etc/docker/certs.d",
                &[
                    "/etc/docker/certs.d/reg:5000",
                    "/etc/docker/certs.d/reg:5000/ca.crt",
                    "/etc/docker/certs.d/reg:5000/client.cert",
                    "/etc/docker/certs.d/reg:5000/client.key",
                ],
            )
            .file("/etc/docker/certs.d/reg:5000/ca.crt", 0o444, 0, 0)
            .file("/etc/docker/certs.d/reg:5000/client.cert", 0o644, 0, 1000)
            .file("/etc/docker/certs.d/reg:5000/client.key", 0o444, 0, 0);
        let r = f.check("docker.files.registry_certs_owner");
        assert_eq!(r.status, Status::Fail);
        let by_name: Vec<_> = r
            .objects
            .iter()
            .map(|o| (o.name.rsplit('/').next().unwrap(), o.status))
            .collect();
        assert_eq!(
            by_name,
            vec![
                ("ca.crt", Status::Pass),
                ("client.cert", Status::Fail),
                ("client.key", Status::Pass)
            ]
        );
        let r = f.check("docker.files.registry_certs_mode");
        let by_name: Vec<_> = r
            .objects
            .iter()
            .map(|o| (o.name.rsplit('/').next().unwrap(), o.status))
            .collect();
        assert_eq!(
            by_name,
            vec![
                ("ca.crt", Status::Pass),
                ("client.cert", Status::Fail),
                ("client.key", Status::Fail)
            ]
        );
    }

    /// Under --root a missing file is said to be missing there, not on the host: a trial on a
    /// copy of /etc lacks the binaries and units the running host has.
    #[test]
    fn a_file_missing_under_root_is_said_to_be_missing_there() {
        let mut f = Fixture::new()
            .dockerd("", None)
            .missing("/etc/docker/daemon.json");
        f.snapshot.host.root = "/tmp/copy".into();
        let r = f.check("docker.files.daemon_json_mode");
        assert_eq!(r.status, Status::NotApplicable);
        assert_eq!(
            r.message.as_deref(),
            Some("the daemon's configuration file /etc/docker/daemon.json: file does not exist under /tmp/copy (--root)")
        );
    }

    #[test]
    fn missing_optional_files_are_not_applicable_with_the_reason() {
        let f = Fixture::new()
            .dockerd("", None)
            .missing("/etc/docker/daemon.json")
            .missing("/etc/sysconfig/docker")
            .missing("/etc/docker/certs.d")
            .unit("docker.socket", None);
        let r = f.check("docker.files.daemon_json_mode");
        assert_eq!(r.status, Status::NotApplicable);
        assert_eq!(
            r.message.as_deref(),
            Some("the daemon's configuration file /etc/docker/daemon.json: file does not exist")
        );
        assert_eq!(
            f.check("docker.files.etc_sysconfig_docker_owner").status,
            Status::NotApplicable
        );
        let r = f.check("docker.files.registry_certs_mode");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r
            .message
            .unwrap()
            .contains("/etc/docker/certs.d does not exist"));
        let r = f.check("docker.files.docker_socket_unit_owner");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("no docker.socket unit file"));
        // No TLS configured: the TLS file checks do not apply, and say which setting is absent.
        let r = f.check("docker.files.tls_key_owner");
        assert_eq!(r.status, Status::NotApplicable);
        assert!(r.message.unwrap().contains("tlskey"));
        // Uncollected facts are errors, not passes.
        let r = f.check("docker.files.docker_service_owner");
        assert_eq!(r.status, Status::Error);
        let r = f.check("docker.files.etc_default_docker_mode");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("not collected"));
    }

    #[test]
    fn pitfall_22_rootless_files_are_judged_against_the_rootless_user() {
        // docker-bench checks /var/run/docker.sock and /etc/docker for a rootless daemon, whose
        // socket and configuration live in the user's own directories.
        let f = Fixture::new()
            .rootless("alice", 1000, "", None)
            .socket("/run/user/1000/docker.sock", 0o660, 1000, 1000)
            .dir("/home/alice/.config/docker", 0o700, 1000, 1000)
            .file("/home/alice/.config/docker/daemon.json", 0o600, 1000, 1000)
            .file("/etc/default/docker", 0o644, 1000, 1000);
        let r = f.check("docker.files.docker_sock_owner");
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert_eq!(r.objects[0].name, "/run/user/1000/docker.sock");
        assert_eq!(evidence(&r).1, "alice:alice");
        assert!(r.objects[0]
            .note
            .as_deref()
            .unwrap()
            .contains("rootless Docker"));
        assert_eq!(
            f.check("docker.files.etc_docker_owner").status,
            Status::Pass
        );
        let r = f.check("docker.files.daemon_json_owner");
        assert_eq!(r.status, Status::Pass);
        assert_eq!(r.objects[0].name, "/home/alice/.config/docker/daemon.json");
        // A system file outside the user's locations is still root's.
        assert_eq!(
            f.check("docker.files.etc_default_docker_owner").status,
            Status::Fail
        );
        // Someone else owning the rootless socket fails.
        let f = Fixture::new().rootless("alice", 1000, "", None).socket(
            "/run/user/1000/docker.sock",
            0o660,
            0,
            0,
        );
        assert_eq!(
            f.check("docker.files.docker_sock_owner").status,
            Status::Fail
        );
    }

    /// Found against a real rootless dockerd: inside its user namespace it gives its socket
    /// its own `docker` group, which the host sees as one of the user's subordinate gids. Only
    /// the user's namespaced processes can hold that group: not a failure. Outside the range
    /// (another user's group), or a file of someone else, still fails.
    #[test]
    fn a_rootless_socket_group_from_the_users_subordinate_gids_passes() {
        let with_group = |gid: u32| {
            let mut f = Fixture::new().rootless("alice", 1000, "", None).socket(
                "/run/user/1000/docker.sock",
                0o660,
                1000,
                gid,
            );
            f.docker().daemon.rootless_subgids = vec![(165536, 65536)];
            f.check("docker.files.docker_sock_owner")
        };
        let r = with_group(165641);
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert!(
            r.objects[0]
                .note
                .as_deref()
                .unwrap()
                .contains("gid 165641 is one of alice's subordinate gids"),
            "{r:?}"
        );
        assert_eq!(with_group(165536 + 65536).status, Status::Fail);
        assert_eq!(with_group(50).status, Status::Fail);
        // Without the ranges (a snapshot from before they were collected), as before.
        let f = Fixture::new().rootless("alice", 1000, "", None).socket(
            "/run/user/1000/docker.sock",
            0o660,
            1000,
            165641,
        );
        assert_eq!(
            f.check("docker.files.docker_sock_owner").status,
            Status::Fail
        );
    }

    /// Found against a real rootless dockerd: it makes its socket `srw-rw---T` (1660), the
    /// sticky bit keeping XDG_RUNTIME_DIR's cleanup away. That bit grants no access.
    #[test]
    fn the_sticky_bit_of_a_rootless_socket_grants_nothing() {
        let f = Fixture::new().rootless("alice", 1000, "", None).socket(
            "/run/user/1000/docker.sock",
            0o1660,
            1000,
            1000,
        );
        let r = f.check("docker.files.docker_sock_mode");
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert_eq!(evidence(&r).0, "1660", "the evidence shows the real mode");
        // Then where the socket's path came from.
        assert_eq!(
            r.objects[0].note.as_deref(),
            Some("the sticky bit grants no access; path from dockerd's default (no -H flag, no hosts in daemon.json)")
        );
        // Real excess still fails, and the note names only the bits that grant something.
        let f = Fixture::new().rootless("alice", 1000, "", None).socket(
            "/run/user/1000/docker.sock",
            0o1666,
            1000,
            1000,
        );
        let r = f.check("docker.files.docker_sock_mode");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(
            r.objects[0].note.as_deref(),
            Some("grants 0006 beyond 0660; path from dockerd's default (no -H flag, no hosts in daemon.json)")
        );
    }

    #[test]
    fn a_rootless_daemon_without_a_user_unit_says_where_it_was_looked_for() {
        let f = Fixture::new()
            .rootless("alice", 1000, "", None)
            .unit("docker.socket", None);
        let r = f.check("docker.files.docker_socket_unit_owner");
        assert_eq!(r.status, Status::NotApplicable);
        let message = r.message.unwrap();
        assert!(
            message.contains("no docker.socket user unit file")
                && message.contains("~/.config/systemd/user")
                && !message.contains("/lib/systemd/system"),
            "{message}"
        );
    }

    #[test]
    fn pitfall_21_file_checks_on_a_remote_daemon_are_not_applicable() {
        // docker-bench reads the local files even when the API talks to another machine.
        let f = Fixture::new()
            .dockerd("", None)
            .file("/etc/docker/daemon.json", 0o666, 1000, 1000)
            .remote();
        for id in [
            "docker.files.daemon_json_mode",
            "docker.files.daemon_json_owner",
            "docker.files.docker_sock_owner",
            "docker.files.registry_certs_mode",
        ] {
            let r = f.check(id);
            assert_eq!(r.status, Status::NotApplicable, "{id}");
            assert!(r.message.unwrap().contains("remote daemon"), "{id}");
        }
    }

    #[test]
    fn unreadable_file_is_an_error_naming_the_reason() {
        let f = Fixture::new()
            .dockerd("", None)
            .unreadable("/etc/docker/daemon.json", "permission denied");
        let r = f.check("docker.files.daemon_json_mode");
        assert_eq!(r.status, Status::Error);
        assert!(r.message.unwrap().contains("permission denied"));
    }
}
