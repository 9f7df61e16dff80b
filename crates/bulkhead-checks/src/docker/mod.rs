//! CIS Docker Benchmark checks, one module per section. Each module lists its evaluators in
//! `EVALUATORS`; the helpers here hold what several sections share (walking containers, judging a
//! file's mode and owner, refusing host-side checks for a remote daemon).

use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::docker::ContainerFacts;
use bulkhead_facts::host::FileFact;

pub mod daemon;
pub mod files;
pub mod host;
pub mod images;
pub mod ops;
pub mod runtime;
pub mod swarm;

/// Where a file that was not found was looked for, when that is not this host's own root
/// (` under DIR (--root)`, else empty). Under --root a file may be missing only from the copy
/// being audited, and the message must not read as if the host lacked it.
pub(crate) fn under_root(ctx: &Context<'_>) -> String {
    match ctx.snapshot.host.root.as_str() {
        "" | "/" => String::new(),
        root => format!(" under {root} (--root)"),
    }
}

#[cfg(test)]
pub(crate) mod fixture;

/// Every Docker evaluator, section by section.
pub const EVALUATORS: &[&[(&str, Evaluator)]] = &[
    host::EVALUATORS,
    daemon::EVALUATORS,
    files::EVALUATORS,
    images::EVALUATORS,
    runtime::EVALUATORS,
    ops::EVALUATORS,
    swarm::EVALUATORS,
];

/// The result to report instead of evaluating, when Docker facts are missing altogether.
pub(crate) fn no_docker(ctx: &Context<'_>) -> Option<CheckResult> {
    match ctx.docker() {
        None => Some(CheckResult::not_applicable(
            "Docker was not audited (no Docker facts in this snapshot)",
        )),
        Some(_) => None,
    }
}

/// For checks that read the host (files, processes, audit rules): not applicable when the API
/// endpoint is remote.
pub(crate) fn host_side_guard(ctx: &Context<'_>) -> Option<CheckResult> {
    no_docker(ctx).or_else(|| ctx.remote_daemon_reason().map(CheckResult::not_applicable))
}

/// Evaluate `judge` on every audited container and roll the results up; a selected container
/// that could not be inspected is an `error` object. No containers is `not_applicable` with the
/// reason (including how many were left out by the selection).
pub(crate) fn per_container(
    ctx: &Context<'_>,
    judge: impl Fn(&ContainerFacts) -> ObjectResult,
) -> CheckResult {
    if let Some(r) = no_docker(ctx) {
        return r;
    }
    let docker = ctx.docker().expect("checked above");
    let containers = match docker.containers.as_result() {
        Ok(c) => c,
        Err(reason) => {
            return CheckResult::error(format!("containers could not be listed: {reason}"))
        }
    };
    let mut objects: Vec<ObjectResult> = containers
        .iter()
        .map(|c| judge(c).id(c.short_id()))
        .collect();
    // A selected container whose inspect failed was not judged: an error, never a silence.
    let (unreadable, left_out): (Vec<_>, Vec<_>) =
        docker.selection.skipped.iter().partition(|s| s.unreadable);
    objects.extend(unreadable.iter().map(|s| {
        ObjectResult::new("container", &s.name, Status::Error)
            .id(s.id.get(..12).unwrap_or(&s.id))
            .note(&s.reason)
    }));
    let empty = if docker.selection.all_states {
        "no containers exist"
    } else {
        "no running containers"
    };
    let empty = if left_out.is_empty() {
        empty.to_string()
    } else {
        format!(
            "{empty} were selected ({} left out by the selection)",
            left_out.len()
        )
    };
    CheckResult::from_objects(objects, empty)
}

/// An object result for one container.
pub(crate) fn container_object(c: &ContainerFacts, status: Status) -> ObjectResult {
    ObjectResult::new("container", c.name(), status)
}

/// Judge a file's permission bits against `allowed` as a bitmask (`mode & !allowed == 0`).
/// `what` names the file for messages; a path of None means the configuration names no such file.
pub(crate) fn file_mode(
    ctx: &Context<'_>,
    path: Option<&str>,
    allowed: u32,
    what: &str,
) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let Some(path) = path else {
        return CheckResult::not_applicable(format!("the daemon's configuration names no {what}"));
    };
    single_file_result(what, mode_object(ctx, path, allowed))
}

const STICKY: u32 = 0o1000;

/// One file's mode verdict (missing files are not applicable, unreadable ones an error).
pub(crate) fn mode_object(ctx: &Context<'_>, path: &str, allowed: u32) -> ObjectResult {
    let expected = format!("{:04o} or stricter", allowed);
    match ctx.snapshot.host.file(path) {
        Some(FileFact::Present(st)) => {
            // The sticky bit grants nobody anything (on a directory it only restricts who may
            // delete entries). Rootless dockerd sets it on everything it makes in
            // XDG_RUNTIME_DIR, its socket included, so the runtime directory's periodic cleanup
            // leaves them alone.
            let granting = bulkhead_facts::mode::Mode(st.mode.0 & !STICKY);
            let status = if granting.at_most(allowed) {
                Status::Pass
            } else {
                Status::Fail
            };
            let o = ObjectResult::new("file", path, status).evidence(
                "mode",
                st.mode.to_string(),
                expected,
            );
            if status == Status::Fail {
                o.note(format!(
                    "grants {:04o} beyond {:04o}",
                    granting.excess(allowed),
                    allowed
                ))
            } else if granting != st.mode {
                o.note("the sticky bit grants no access")
            } else {
                o
            }
        }
        Some(FileFact::Missing) => ObjectResult::new("file", path, Status::NotApplicable)
            .note(format!("file does not exist{}", under_root(ctx))),
        Some(FileFact::Unreadable { reason }) => {
            ObjectResult::new("file", path, Status::Error).note(reason.clone())
        }
        None => ObjectResult::new("file", path, Status::Error).note("not collected"),
    }
}

/// Judge a file's owner and group by number: uid `uid` and either gid `gid` or the gid of group
/// `group_name` on the audited host.
pub(crate) fn file_owner(
    ctx: &Context<'_>,
    path: Option<&str>,
    uid: u32,
    group: OwnerGroup,
    what: &str,
) -> CheckResult {
    if let Some(r) = host_side_guard(ctx) {
        return r;
    }
    let Some(path) = path else {
        return CheckResult::not_applicable(format!("the daemon's configuration names no {what}"));
    };
    single_file_result(what, owner_object(ctx, path, uid, group))
}

/// One file's verdict as a check result, with a message that names the file and says what was
/// found (or, for not applicable and error, why).
pub(crate) fn single_file_result(what: &str, o: ObjectResult) -> CheckResult {
    let path = o.name.clone();
    let message = match (o.status, &o.evidence, &o.note) {
        (Status::Pass, Some(e), _) => format!("{what} {path} is {}", e.actual),
        (Status::Fail, Some(e), _) => {
            format!("{what} {path} is {}, expected {}", e.actual, e.expected)
        }
        (_, _, Some(note)) => format!("{what} {path}: {note}"),
        _ => format!("{what} {path}"),
    };
    CheckResult::new(o.status, message).with_object(o)
}

/// The group a file must belong to.
#[derive(Clone)]
pub(crate) enum OwnerGroup {
    Gid(u32),
    /// A named group (e.g. `docker`, or the daemon's `group` / `-G` setting), resolved through
    /// the host's /etc/group; root's group is accepted too, being stricter, and alone when no
    /// such group exists.
    Named(String),
}

pub(crate) fn owner_object(
    ctx: &Context<'_>,
    path: &str,
    uid: u32,
    group: OwnerGroup,
) -> ObjectResult {
    let host = &ctx.snapshot.host;
    let user_label = host
        .user_name(uid)
        .map(String::from)
        .unwrap_or_else(|| uid.to_string());
    let (gids, group_label): (Vec<u32>, String) = match group {
        OwnerGroup::Gid(g) => (
            vec![g],
            host.group_name(g)
                .map(String::from)
                .unwrap_or_else(|| g.to_string()),
        ),
        OwnerGroup::Named(name) => match host.group(&name) {
            Some(g) => (vec![g.gid, 0], format!("{name} (or root)")),
            None => (vec![0], format!("root (no group {name} on this host)")),
        },
    };
    let expected = format!("{user_label}:{group_label}");
    owner_object_ids(ctx, path, uid, &gids, &expected)
}

/// Judge a file's owner against an explicit expectation: uid `uid` and any gid of `gids`.
/// `expected` is how the expectation reads in evidence (`root:docker`, `alice:alice`).
/// Missing files are not applicable, unreadable or uncollected ones an error.
pub(crate) fn owner_object_ids(
    ctx: &Context<'_>,
    path: &str,
    uid: u32,
    gids: &[u32],
    expected: &str,
) -> ObjectResult {
    match ctx.snapshot.host.file(path) {
        Some(FileFact::Present(st)) => {
            let ok = st.uid == uid && gids.contains(&st.gid);
            let actual = format!("{} (uid {}, gid {})", st.owner_label(), st.uid, st.gid);
            ObjectResult::new("file", path, if ok { Status::Pass } else { Status::Fail })
                .evidence("owner", actual, expected)
        }
        Some(FileFact::Missing) => ObjectResult::new("file", path, Status::NotApplicable)
            .note(format!("file does not exist{}", under_root(ctx))),
        Some(FileFact::Unreadable { reason }) => {
            ObjectResult::new("file", path, Status::Error).note(reason.clone())
        }
        None => ObjectResult::new("file", path, Status::Error).note("not collected"),
    }
}

/// Is the audited daemon rootless Docker (run by an unprivileged user through rootlesskit)?
/// Either the host-side discovery said so or the Engine API lists the `rootless` security option.
pub(crate) fn is_rootless(ctx: &Context<'_>) -> bool {
    let Some(d) = ctx.docker() else { return false };
    d.daemon.rootless
        || d.info
            .value()
            .is_some_and(|i| i.has_security_option("rootless"))
}

/// The unit file systemd loads for `unit` (`docker.service`, `docker.socket`), as collected.
/// Err is the result to report instead: not applicable when no such unit file exists, an error
/// when the snapshot never looked for it.
pub(crate) fn unit_file(ctx: &Context<'_>, unit: &str) -> Result<String, CheckResult> {
    let Some(d) = ctx.docker() else {
        return Err(CheckResult::not_applicable(
            "Docker was not audited (no Docker facts in this snapshot)",
        ));
    };
    match d.daemon.paths.units.get(unit) {
        Some(Some(p)) => Ok(p.clone()),
        // A rootless daemon runs from its user's units; the system's are the root daemon's.
        Some(None) if is_rootless(ctx) => Err(CheckResult::not_applicable(format!(
            "rootless Docker: no {unit} user unit file exists where systemd's user manager looks (~/.config/systemd/user, /etc/systemd/user, /usr/lib/systemd/user, ...)"
        ))),
        Some(None) => Err(CheckResult::not_applicable(format!(
            "no {unit} unit file exists where systemd looks ({})",
            bulkhead_facts::docker::SYSTEMD_UNIT_DIRS.join(", ")
        ))),
        None => Err(CheckResult::error(format!(
            "the location of the {unit} unit file was not collected in this snapshot"
        ))),
    }
}

/// Where a Docker or containerd binary (`dockerd`, `containerd`, `runc`, ...) lives on the host.
/// For dockerd the running process's executable counts too. Err as for [`unit_file`].
pub(crate) fn binary_file(ctx: &Context<'_>, name: &str) -> Result<String, CheckResult> {
    let Some(d) = ctx.docker() else {
        return Err(CheckResult::not_applicable(
            "Docker was not audited (no Docker facts in this snapshot)",
        ));
    };
    let from_process = || {
        (name == "dockerd")
            .then(|| d.daemon.process.value().cloned().flatten())
            .flatten()
            .and_then(|p| p.exe)
            .map(|e| e.trim_end_matches(" (deleted)").to_string())
    };
    match d.daemon.paths.binaries.get(name) {
        Some(Some(p)) => Ok(p.clone()),
        Some(None) => from_process().ok_or_else(|| {
            CheckResult::not_applicable(format!("no {name} binary was found on this host"))
        }),
        None => from_process().ok_or_else(|| {
            CheckResult::error(format!(
                "the location of the {name} binary was not collected in this snapshot"
            ))
        }),
    }
}

/// The daemon's resolved paths, or the result to report when Docker was not audited at all.
pub(crate) fn docker_paths<'a>(
    ctx: &Context<'a>,
) -> Result<&'a bulkhead_facts::docker::DockerPaths, CheckResult> {
    match ctx.docker() {
        Some(d) => Ok(&d.daemon.paths),
        None => Err(CheckResult::not_applicable(
            "Docker was not audited (no Docker facts in this snapshot)",
        )),
    }
}

/// The daemon's environment file whose path ends in `suffix` (`/default/docker`,
/// `/sysconfig/docker`), from the resolved `default_env_files`; not applicable when none does.
pub(crate) fn env_file(ctx: &Context<'_>, suffix: &str) -> Result<String, CheckResult> {
    let paths = docker_paths(ctx)?;
    paths
        .default_env_files
        .iter()
        .find(|p| p.ends_with(suffix))
        .cloned()
        .ok_or_else(|| {
            CheckResult::not_applicable(format!(
                "the daemon's configuration names no environment file ending in {suffix}"
            ))
        })
}
