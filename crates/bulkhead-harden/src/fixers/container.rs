//! Container fixes: the `docker run` command that recreates a container with the flags its
//! failing checks ask for, reconstructed from its inspect document, and — when the container's
//! compose labels name the file and service that created it — the same settings as a patch to
//! that compose file.
//!
//! The run command keeps what the container has (name, image, command, environment, mounts,
//! ports, limits, ...) and changes only what the selected failing checks need. A command is never
//! built from masked text: an environment variable whose value is (or would be printed) masked is
//! passed by name (`--env NAME`), to be exported in the shell that runs the command; a container
//! whose command line or other repeated setting holds a secret gets no run command, and each of
//! its checks is left unfixed naming the word. bulkhead never runs the command itself; every word
//! is quoted for bash (see [`crate::shell`]: a word with control or invisible characters in
//! ANSI-C quoting, so the printed command is terminal-safe and runs exactly these words).

use super::{file_edit, Fixer, ROOT_FILE};
use crate::edit::yaml::{self, Seg};
use crate::files;
use crate::model::{Action, CommandStep, Fix, FixKind, Safety, Target};
use crate::planner::{Failing, PlanContext, Planned};
use crate::request::{ChangeKind, ChangedPath, FixOptions};
use bulkhead_checks::ObjectResult;
use bulkhead_facts::docker::{ContainerFacts, ImageFacts};
use bulkhead_facts::mask::{mask_argv, MASK};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const FIXER: Fixer = Fixer {
    name: "container",
    handles,
    plan,
};

/// Compose labels that name the file and service a container came from.
pub const COMPOSE_FILES_LABEL: &str = "com.docker.compose.project.config_files";
pub const COMPOSE_SERVICE_LABEL: &str = "com.docker.compose.service";
pub const COMPOSE_WORKDIR_LABEL: &str = "com.docker.compose.project.working_dir";

/// Capabilities whose presence makes a container a host-level risk; an explicit `--cap-add` of
/// one is not carried over (the fix says so).
const DANGEROUS_CAPS: &[&str] = &[
    "ALL",
    "SYS_ADMIN",
    "SYS_MODULE",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_BOOT",
    "SYS_TIME",
    "NET_ADMIN",
    "DAC_READ_SEARCH",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "BPF",
    "PERFMON",
    "SYSLOG",
];

/// Paths Docker itself manages inside every container; writes there are not the image's.
const DOCKER_MANAGED: &[&str] = &[
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/dev",
    "/proc",
    "/sys",
];

/// Mount options of the tmpfs a read-only container gets: no executables or setuid binaries in
/// scratch space, bounded size, and writable by whichever user the container runs as (sticky, so
/// users cannot remove each other's files).
pub const TMPFS_OPTIONS: &str = "rw,noexec,nosuid,size=64m,mode=1777";

/// The scratch directories kept writable when the container's own writes are not known.
pub const DEFAULT_TMPFS: &[&str] = &["/tmp", "/run"];

fn handles(control: &str) -> bool {
    change_for(control).is_some()
}

/// One change a control asks of a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    User,
    ReadOnly,
    NoNewPrivileges,
    CapDropAll,
    Unprivileged,
    Memory,
    CpuShares,
    PidsLimit,
    RestartOnFailure,
    HealthCheck,
    NoHostNetwork,
    NoHostPid,
    NoHostIpc,
    NoHostUts,
    NoHostUserns,
    SeccompDefault,
    PrivatePropagation,
    NoDockerSocket,
    AppArmor,
}

fn change_for(control: &str) -> Option<Change> {
    use Change::*;
    Some(match control {
        "docker.image.non_root_user" => User,
        "docker.container.read_only_rootfs" => ReadOnly,
        "docker.container.no_new_privileges" => NoNewPrivileges,
        "docker.container.capabilities" => CapDropAll,
        "docker.container.not_privileged" => Unprivileged,
        "docker.container.memory_limit" => Memory,
        "docker.container.cpu_shares" => CpuShares,
        "docker.container.pids_limit" => PidsLimit,
        "docker.container.restart_on_failure_5" => RestartOnFailure,
        "docker.container.healthcheck_runtime" => HealthCheck,
        "docker.container.no_host_network" => NoHostNetwork,
        "docker.container.no_host_pid" => NoHostPid,
        "docker.container.no_host_ipc" => NoHostIpc,
        "docker.container.no_host_uts" => NoHostUts,
        "docker.container.no_host_userns" => NoHostUserns,
        "docker.container.seccomp_enabled" => SeccompDefault,
        "docker.container.no_shared_propagation" => PrivatePropagation,
        "docker.container.no_docker_socket" => NoDockerSocket,
        "docker.container.apparmor" => AppArmor,
        _ => return None,
    })
}

/// What the fix does for a change: the sentence, and what it may break. (Every container fix
/// needs review: recreating a container interrupts it.)
fn describe(change: Change, o: &FixOptions) -> (String, Option<&'static str>) {
    use Change::*;
    match change {
        User => (
            format!("runs as user {} instead of root", o.container_user),
            Some("files the process writes (volumes, bind mounts) must be writable by that user; programs that expect root fail"),
        ),
        ReadOnly => (
            "root file system mounted read-only; the directories it writes get tmpfs mounts".into(),
            Some("writes outside the tmpfs mounts and volumes fail; tmpfs content is lost when the container stops"),
        ),
        NoNewPrivileges => (
            "--security-opt no-new-privileges:true: setuid binaries and file capabilities no longer raise privileges".into(),
            Some("programs inside that rely on setuid (su, sudo, ping on old images) stop elevating"),
        ),
        CapDropAll => (
            "--cap-drop ALL, adding back only the capabilities the workload shows it needs".into(),
            Some("operations needing a dropped capability fail with EPERM; add it back with --cap-add"),
        ),
        Unprivileged => (
            "no longer --privileged".into(),
            Some("access to host devices and kernel interfaces the container used is gone"),
        ),
        Memory => (
            format!("--memory {}", o.memory),
            Some("the kernel kills the container's processes when they exceed the limit; size it from observed usage"),
        ),
        CpuShares => (
            format!("--cpu-shares {} (relative weight under contention)", o.cpu_shares),
            Some("under CPU contention the container gets a smaller share than before"),
        ),
        PidsLimit => (
            format!("--pids-limit {}", o.pids_limit),
            Some("workloads that start many processes or threads hit the limit"),
        ),
        RestartOnFailure => (
            format!("--restart on-failure:{}", o.restart_retries),
            Some("a container that exits with status 0 is no longer restarted; after the retries it stays down"),
        ),
        HealthCheck => (
            "a health check reports whether the service works".into(),
            Some("an unsuitable probe marks a working container unhealthy; orchestrators may restart it"),
        ),
        NoHostNetwork => (
            "own network namespace instead of the host's".into(),
            Some("the container no longer sees host interfaces; publish the ports it serves"),
        ),
        NoHostPid => ("own PID namespace instead of the host's".into(), Some("host processes are no longer visible or signalable")),
        NoHostIpc => ("own IPC namespace instead of the host's".into(), Some("shared memory with host processes stops working")),
        NoHostUts => ("own UTS namespace (hostname) instead of the host's".into(), Some("the container can no longer read or set the host's name")),
        NoHostUserns => ("the daemon's user-namespace remapping applies again".into(), Some("bind-mounted files need ownership for the remapped ids")),
        SeccompDefault => ("Docker's default seccomp profile applies again".into(), Some("system calls the profile blocks fail with EPERM")),
        PrivatePropagation => ("bind mounts use private propagation instead of shared".into(), Some("mounts made inside the container no longer appear on the host")),
        NoDockerSocket => (
            "the Docker socket is no longer mounted".into(),
            Some("tools in the container that drive Docker (CI runners, proxies, monitors) stop working; give them a restricted API proxy instead"),
        ),
        AppArmor => ("--security-opt apparmor=docker-default".into(), Some("actions the profile denies fail")),
    }
}

/// The directories to mount tmpfs on for a read-only root file system: for each written path the
/// directory holding it, or the top of a new directory tree; nested results collapse into their
/// outermost directory, together with the `always` directories. Paths Docker manages and paths
/// under volumes are left out.
pub fn tmpfs_dirs(
    changes: &[ChangedPath],
    volume_targets: &[String],
    always: &[&str],
) -> Vec<String> {
    let added: BTreeSet<&str> = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Added)
        .map(|c| c.path.as_str())
        .collect();
    let parent = |p: &str| -> String {
        match p.rfind('/') {
            Some(0) | None => "/".to_string(),
            Some(i) => p[..i].to_string(),
        }
    };
    let under =
        |p: &str, dir: &str| p == dir || p.starts_with(&format!("{}/", dir.trim_end_matches('/')));
    let mut dirs: BTreeSet<String> = always.iter().map(|s| s.to_string()).collect();
    for c in changes {
        let p = c.path.as_str();
        if DOCKER_MANAGED.iter().any(|m| under(p, m)) || volume_targets.iter().any(|v| under(p, v))
        {
            continue;
        }
        // Only leaves: a change with another change below it is just the directory being touched.
        if changes
            .iter()
            .any(|o| o.path != c.path && under(&o.path, p))
        {
            continue;
        }
        let mut dir = if c.kind == ChangeKind::Added {
            p.to_string()
        } else {
            parent(p)
        };
        if c.kind == ChangeKind::Added {
            // Climb to the top of a newly created tree (nothing of the image is hidden there).
            while added.contains(parent(&dir).as_str()) {
                dir = parent(&dir);
            }
            // A new file (not directory) gets its directory mounted.
            if !changes
                .iter()
                .any(|o| o.path != dir && under(&o.path, &dir))
                && dir == p
            {
                let pd = parent(&dir);
                if pd != "/" {
                    dir = pd;
                }
            }
        }
        if dir != "/" {
            dirs.insert(dir);
        }
    }
    let all: Vec<String> = dirs.iter().cloned().collect();
    all.iter()
        .filter(|d| !all.iter().any(|o| o != *d && under(d, o)))
        .cloned()
        .collect()
}

/// A container's failing checks and the changes they ask for.
struct Wanted<'a> {
    container: &'a ContainerFacts,
    changes: BTreeMap<Change, Vec<&'a Failing<'a>>>,
}

fn find_container<'a>(
    containers: &'a [ContainerFacts],
    o: &ObjectResult,
) -> Option<&'a ContainerFacts> {
    containers
        .iter()
        .find(|c| {
            o.id.as_deref()
                .is_some_and(|id| c.inspect.id.starts_with(id))
        })
        .or_else(|| containers.iter().find(|c| c.name() == o.name))
}

fn plan(ctx: &PlanContext<'_>, failing: &[Failing<'_>]) -> Planned {
    let mut out = Planned::default();
    let containers = match ctx
        .snapshot
        .docker
        .as_ref()
        .map(|d| d.containers.as_result())
    {
        Some(Ok(c)) => c.as_slice(),
        Some(Err(reason)) => {
            for f in failing {
                out.unfixed
                    .push(f.unfixed(None, format!("containers could not be listed: {reason}")));
            }
            return out;
        }
        None => {
            for f in failing {
                out.unfixed
                    .push(f.unfixed(None, "the snapshot holds no Docker facts"));
            }
            return out;
        }
    };
    let images: &[ImageFacts] = ctx
        .snapshot
        .docker
        .as_ref()
        .and_then(|d| d.images.value())
        .map(|v| v.as_slice())
        .unwrap_or(&[]);
    // By name, then ID: the plan lists containers in the order a person looks for them.
    let mut by_container: BTreeMap<(String, String), Wanted> = BTreeMap::new();
    for f in failing {
        let change = change_for(f.control_id()).expect("handles() checked the control");
        let objects: Vec<&ObjectResult> = f
            .objects
            .iter()
            .copied()
            .filter(|o| o.kind == "container")
            .collect();
        if objects.is_empty() {
            if f.control_id() != "docker.image.non_root_user" {
                out.unfixed
                    .push(f.unfixed(None, "the check names no container to fix"));
            }
            continue;
        }
        for o in objects {
            let Some(c) = find_container(containers, o) else {
                out.unfixed
                    .push(f.unfixed(Some(&o.name), "the container is not in the snapshot"));
                continue;
            };
            if change == Change::HealthCheck {
                let configured = c
                    .inspect
                    .config
                    .healthcheck
                    .as_ref()
                    .is_some_and(|h| !h.test.is_empty() && h.test[0] != "NONE");
                if configured {
                    out.unfixed.push(f.unfixed(
                        Some(c.name()),
                        "the container has a health check and it reports unhealthy: find out why the service fails its probe",
                    ));
                    continue;
                }
                if ctx.options().health_cmd.is_none() && published_tcp_port(c).is_none() {
                    out.unfixed.push(f.unfixed(
                        Some(c.name()),
                        "no command that proves this service works is known (it publishes no TCP port); give one with --health-cmd and run harden again",
                    ));
                    continue;
                }
            }
            if change == Change::AppArmor
                && ctx.snapshot.host.security_modules.apparmor.value() != Some(&true)
            {
                out.unfixed
                    .push(f.unfixed(Some(c.name()), "AppArmor is not enabled on this host"));
                continue;
            }
            by_container
                .entry((c.name().to_string(), c.inspect.id.clone()))
                .or_insert_with(|| Wanted {
                    container: c,
                    changes: BTreeMap::new(),
                })
                .changes
                .entry(change)
                .or_default()
                .push(f);
        }
    }
    // The content each compose file will have after the fixes planned so far: the services of
    // one file are patched one after another, each fix on the previous one's result (apply
    // takes such a chain and writes the file once; two edits of the original it refuses).
    let mut compose_texts: BTreeMap<String, String> = BTreeMap::new();
    let mut shared: Vec<SharedService> = Vec::new();
    for w in by_container.values() {
        plan_container(ctx, w, images, &mut compose_texts, &mut shared, &mut out);
    }
    // What a patched service passes on to the mappings that merge or repeat it is said once
    // every service is planned: whether those are patched too is known only then.
    for s in &shared {
        let last = compose_texts.get(&s.path).map(String::as_str);
        let notes: Vec<String> = s
            .users
            .iter()
            .map(|u| {
                let patched = u.service.as_ref().is_some_and(|x| {
                    *x != s.service
                        && out
                            .fixes
                            .iter()
                            .any(|f| f.id == format!("compose:{}#{x}", s.path))
                });
                sharing_note(u, patched.then_some(last).flatten())
            })
            .collect();
        let fix = &mut out.fixes[s.fix];
        fix.notes.extend(notes);
        // It changes another service than the one it names: never without a human reading it.
        if fix.safety == Safety::Safe {
            fix.safety = Safety::Review;
        }
    }
    out
}

/// A planned compose fix (`fix`, an index into the plan's fixes) of a service whose mapping, or
/// a mapping holding it, carries an anchor that other places merge or repeat.
struct SharedService {
    fix: usize,
    /// The compose file.
    path: String,
    service: String,
    users: Vec<ServiceUser>,
}

/// One place that merges or repeats the anchor of a patched service (see
/// [`yaml::anchor_users`]), and what it inherits from that service's fix.
struct ServiceUser {
    /// Who it is, where, and how it uses the anchor:
    /// `worker (line 6) merges web through <<: *default`.
    lead: String,
    merge: bool,
    /// The compose service it is, when it is one (`services.<name>`).
    service: Option<String>,
    path: Vec<yaml::SegBuf>,
    /// Where the patched service sits below the anchored mapping (`services.web` when the
    /// document root carries it, `web` for `services`); empty when the service carries it.
    below: Vec<String>,
    /// The keys of the service the fix adds or changes that read differently at the user after
    /// the fix than before (so not those it sets itself), in the service's order.
    inherited: Vec<String>,
}

/// The keys of a path of mapping keys.
fn below_keys(path: &[Seg]) -> Vec<String> {
    path.iter()
        .map(|s| match s {
            Seg::Key(k) => k.to_string(),
            Seg::Index(i) => i.to_string(),
        })
        .collect()
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The places that merge or repeat an anchor carried by `service` of the compose file (or by a
/// mapping holding it) in `before`, and what each reads differently in `after`, the text with
/// that service patched.
fn service_users(before: &str, after: &str, service: &str) -> Vec<ServiceUser> {
    use bulkhead_sources::yaml::{parse, Schema};
    let svc = [Seg::Key("services"), Seg::Key(service)];
    let Ok(users) = yaml::anchor_users(before, 0, &svc) else {
        return Vec::new();
    };
    if users.is_empty() {
        return Vec::new();
    }
    let (Ok(b), Ok(a)) = (parse(before), parse(after)) else {
        return Vec::new();
    };
    // The service's keys in its own order, new ones last (as they are written).
    let mut order: Vec<String> = Vec::new();
    for docs in [&a, &b] {
        for (k, _) in yaml::node_at(docs, 0, &svc)
            .and_then(|n| n.as_map())
            .unwrap_or_default()
        {
            if let Some(k) = k.as_str().filter(|k| !order.iter().any(|o| o == k)) {
                order.push(k.to_string());
            }
        }
    }
    users
        .into_iter()
        .map(|u| {
            let below = below_keys(&svc[u.carrier_depth.min(svc.len())..]);
            let steps: Vec<Seg> = u.path.iter().map(yaml::SegBuf::as_seg).collect();
            let read = |docs: &[bulkhead_sources::yaml::Document]| {
                let mut v =
                    yaml::node_at(docs, 0, &steps).map_or(Value::Null, |n| n.to_json(Schema::Core));
                for k in &below {
                    v = v.get(k).cloned().unwrap_or(Value::Null);
                }
                match v {
                    Value::Object(m) => m,
                    _ => serde_json::Map::new(),
                }
            };
            let (was, now) = (read(&b), read(&a));
            let mut inherited: Vec<String> = was
                .keys()
                .chain(now.keys())
                .filter(|k| was.get(*k) != now.get(*k))
                .cloned()
                .collect::<BTreeSet<String>>()
                .into_iter()
                .collect();
            inherited.sort_by_key(|k| order.iter().position(|o| o == k).unwrap_or(usize::MAX));
            let own = match u.path.as_slice() {
                [yaml::SegBuf::Key(top), yaml::SegBuf::Key(name)] if top == "services" => {
                    Some(name.clone())
                }
                _ => None,
            };
            let who = own.clone().unwrap_or_else(|| u.label.clone());
            let what = if below.is_empty() {
                service.to_string()
            } else if u.carrier_depth == 0 {
                format!("the whole file, which holds {service},")
            } else {
                let carrier: Vec<String> = below_keys(&svc[..u.carrier_depth]);
                format!("{}, which holds {service},", carrier.join("."))
            };
            let how = if u.merge { "merges" } else { "repeats" };
            ServiceUser {
                lead: format!("{who} (line {}) {how} {what} through {}", u.line, u.written),
                merge: u.merge,
                service: own,
                path: u.path,
                below,
                inherited,
            }
        })
        .collect()
}

/// The note about one user of a patched service's anchor. `patched_text`: the user is another
/// service this plan patches too, and this is the compose file once every fix is made.
fn sharing_note(u: &ServiceUser, patched_text: Option<&str>) -> String {
    let keys = and_list(&u.inherited);
    if let (Some(text), Some(name)) = (patched_text, &u.service) {
        // Keys the user writes itself in the end override what it would inherit.
        let steps: Vec<Seg> = u.path.iter().map(yaml::SegBuf::as_seg).collect();
        let docs = bulkhead_sources::yaml::parse(text).unwrap_or_default();
        let own: Vec<&str> = yaml::node_at(&docs, 0, &steps)
            .map(|n| {
                n.as_map()
                    .unwrap_or_default()
                    .iter()
                    .filter(|(k, _)| n.span.range().contains(&k.span.start.offset))
                    .filter_map(|(k, _)| k.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let left: Vec<String> = u
            .inherited
            .iter()
            .filter(|k| !own.contains(&k.as_str()))
            .cloned()
            .collect();
        return if u.inherited.is_empty() {
            format!(
                "{}; {name} is patched too and inherits nothing from this change",
                u.lead
            )
        } else if left.is_empty() {
            format!("{}; {name} is patched too and sets {keys} itself", u.lead)
        } else {
            format!(
                "{}; {name} is patched too, but its own fix does not set {}, which it inherits from this change",
                u.lead,
                and_list(&left)
            )
        };
    }
    if u.inherited.is_empty() {
        return format!("{}: this change does not alter what it reads", u.lead);
    }
    if !u.below.is_empty() {
        return format!(
            "{}: its {} gets {keys} from this change",
            u.lead,
            u.below.join(".")
        );
    }
    if u.merge {
        format!(
            "{}: it inherits {keys} from this change unless it sets them itself",
            u.lead
        )
    } else {
        format!(
            "{}: it is the same mapping, so it gets {keys} from this change too",
            u.lead
        )
    }
}

/// The first published TCP port inside the container, for a default health probe.
fn published_tcp_port(c: &ContainerFacts) -> Option<u16> {
    c.inspect
        .host_config
        .port_bindings
        .iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_suffix("/tcp")?.parse().ok())
        .min()
}

/// The health probe: the operator's command, else a TCP probe of the first published port.
fn health_command(c: &ContainerFacts, o: &FixOptions) -> Option<(String, bool)> {
    if let Some(cmd) = &o.health_cmd {
        return Some((cmd.clone(), false));
    }
    published_tcp_port(c).map(|p| (format!("nc -z 127.0.0.1 {p} || exit 1"), true))
}

fn capability(raw: &str) -> String {
    let u = raw.trim().to_ascii_uppercase();
    u.strip_prefix("CAP_").unwrap_or(&u).to_string()
}

/// Capabilities to add back after `--cap-drop ALL`, with the reason for each, and the explicit
/// additions left out.
fn needed_caps(c: &ContainerFacts, runs_as_root: bool) -> (Vec<(String, String)>, Vec<String>) {
    let mut keep: Vec<(String, String)> = Vec::new();
    let mut dropped = Vec::new();
    for cap in c
        .inspect
        .host_config
        .cap_add
        .iter()
        .flatten()
        .map(|s| capability(s))
    {
        if DANGEROUS_CAPS.contains(&cap.as_str()) {
            dropped.push(cap);
        } else if !keep.iter().any(|(k, _)| *k == cap) {
            keep.push((
                cap,
                "added explicitly when the container was created".into(),
            ));
        }
    }
    if runs_as_root {
        let privileged_port = c
            .inspect
            .host_config
            .port_bindings
            .iter()
            .flatten()
            .filter_map(|(k, _)| k.split('/').next()?.parse::<u16>().ok())
            .any(|p| p < 1024);
        if privileged_port && !keep.iter().any(|(k, _)| k == "NET_BIND_SERVICE") {
            keep.push((
                "NET_BIND_SERVICE".into(),
                "it serves a port below 1024".into(),
            ));
        }
        let uids: BTreeSet<u32> = c
            .processes
            .value()
            .map(|ps| ps.iter().map(|p| p.uid).collect())
            .unwrap_or_default();
        if uids.len() > 1 {
            for cap in ["SETUID", "SETGID"] {
                if !keep.iter().any(|(k, _)| k == cap) {
                    keep.push((cap.into(), "its processes switch to other users".into()));
                }
            }
        }
    }
    (keep, dropped)
}

/// Nanoseconds as a Docker duration (`30s`, `1m30s`).
fn duration(ns: i64) -> String {
    let s = ns / 1_000_000_000;
    if s >= 60 && s % 60 == 0 {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}

fn is_docker_socket(path: &str, sockets: &[String]) -> bool {
    sockets.iter().any(|s| s == path) || path.ends_with("/docker.sock")
}

/// Does this word hold a secret value: masked when it was collected (the mask stands where the
/// value was), or one that the output masker would hide?
fn holds_secret(word: &str) -> bool {
    word.contains(MASK) || mask_argv(&[word.to_string()])[0] != word
}

/// The words of a planned run command that hold a secret value, each said as a human finds it
/// in `docker inspect`, with its masked text. The command is printed as the masker shows it,
/// so a word the masker changes (also by the context of the flag before it, `--token VALUE`)
/// counts as well as a word the snapshot holds masked.
fn secret_words(
    argv: &[String],
    entrypoint_at: Option<usize>,
    image_at: usize,
    entrypoint_len: usize,
) -> Vec<String> {
    let shown = mask_argv(argv);
    let command_word = |j: usize| {
        let field = if j < entrypoint_len {
            format!("Config.Entrypoint[{j}]")
        } else {
            format!("Config.Cmd[{}]", j - entrypoint_len)
        };
        format!("word {} of the command line it runs ({field} = ", j + 1)
    };
    argv.iter()
        .zip(&shown)
        .enumerate()
        .filter(|(_, (word, masked))| word.contains(MASK) || word != masked)
        .map(|(i, (_, masked))| {
            let place = if Some(i) == entrypoint_at {
                command_word(0)
            } else if i == image_at {
                "the image reference (".to_string()
            } else if i > image_at {
                command_word(i - image_at - 1 + usize::from(entrypoint_at.is_some()))
            } else {
                format!("the value of {} (", argv[i.saturating_sub(1)])
            };
            // Debug-quoted: a command word may hold line breaks or quotes of its own.
            format!("{place}{masked:?})")
        })
        .collect()
}

/// The steps that recreate a container: keep the old one aside, create the new one, remove the
/// old one once the new one works.
fn run_fix(
    w: &Wanted<'_>,
    name: &str,
    running: bool,
    argv: Vec<String>,
    changes: &[String],
    may_break: &[String],
    notes: &[String],
) -> Fix {
    let old = format!("{name}-pre-harden");
    let mut steps = vec![CommandStep {
        comment: format!("keep the current container as {old} until the new one works"),
        argv: vec!["docker".into(), "rename".into(), name.into(), old.clone()],
    }];
    if running {
        steps.push(CommandStep {
            comment: String::new(),
            argv: vec!["docker".into(), "stop".into(), old.clone()],
        });
    }
    steps.push(CommandStep {
        comment: format!("recreate {name} with the hardened settings"),
        argv,
    });
    steps.push(CommandStep {
        comment: format!("once {name} works: remove the old container"),
        argv: vec!["docker".into(), "rm".into(), old],
    });
    let (checks, controls) = super::ids_of(w.changes.values().flatten().copied());
    Fix {
        id: format!("docker-run:{name}"),
        title: format!("Recreate container {name} with hardened settings"),
        checks,
        controls,
        threats: Vec::new(),
        target: Target::new("container", name, None),
        kind: FixKind::DockerRun,
        safety: Safety::Review,
        changes: changes.to_vec(),
        may_break: may_break.to_vec(),
        notes: notes.to_vec(),
        action: Action {
            steps,
            ..Default::default()
        },
        restart: None,
        findings: Vec::new(),
    }
}

/// Append a flag and its value.
fn pair(argv: &mut Vec<String>, flag: &str, value: String) {
    argv.push(flag.to_string());
    argv.push(value);
}

fn plan_container(
    ctx: &PlanContext<'_>,
    w: &Wanted<'_>,
    images: &[ImageFacts],
    compose_texts: &mut BTreeMap<String, String>,
    shared: &mut Vec<SharedService>,
    out: &mut Planned,
) {
    let c = w.container;
    let o = ctx.options();
    let has = |ch: Change| w.changes.contains_key(&ch);
    let hc = &c.inspect.host_config;
    let cfg = &c.inspect.config;
    let image = images.iter().find(|i| i.inspect.id == c.inspect.image);
    let sockets: Vec<String> = ctx
        .snapshot
        .docker
        .as_ref()
        .map(|d| d.daemon.paths.sockets.clone())
        .unwrap_or_default();
    let mut notes: Vec<String> = Vec::new();
    let mut changes_text = Vec::new();
    let mut may_break = Vec::new();
    for ch in w.changes.keys() {
        let (text, brk) = describe(*ch, o);
        changes_text.push(text);
        may_break.extend(brk.map(String::from));
    }
    may_break.push("recreating the container stops it briefly; its writable layer (files written outside volumes) is not carried over".into());

    let volume_targets: Vec<String> = c
        .inspect
        .mounts
        .iter()
        .map(|m| m.destination.clone())
        .collect();
    let tmpfs_new: Vec<String> = if has(Change::ReadOnly) {
        match ctx.request.container_writes.get(&c.inspect.id) {
            Some(writes) => {
                // /tmp is always kept writable: many programs expect to write there.
                let d = tmpfs_dirs(writes, &volume_targets, &["/tmp"]);
                notes.push(if tmpfs_dirs(writes, &volume_targets, &[]).is_empty() {
                    "the container wrote nothing outside its volumes; only /tmp gets a tmpfs mount, as many programs expect to write there".to_string()
                } else {
                    format!(
                        "tmpfs mounts for the directories the container wrote, and /tmp ({}); files kept there vanish when it stops: use a volume for data that must persist",
                        d.join(", ")
                    )
                });
                d
            }
            None => {
                notes.push(if ctx.request.from_snapshot {
                    format!(
                        "the paths this container writes are not in the snapshot (the Engine API tells them, as `docker diff` does, only on a live daemon: plan without --snapshot on the Docker host to keep exactly those writable); only {} are kept writable",
                        DEFAULT_TMPFS.join(" and ")
                    )
                } else {
                    format!(
                        "the paths this container writes were not read (run harden on the Docker host with its API reachable); only {} are kept writable",
                        DEFAULT_TMPFS.join(" and ")
                    )
                });
                DEFAULT_TMPFS.iter().map(|s| s.to_string()).collect()
            }
        }
        .into_iter()
        .filter(|d| !hc.tmpfs.as_ref().is_some_and(|t| t.contains_key(d)) && !volume_targets.contains(d))
        .collect()
    } else {
        Vec::new()
    };

    // --- the run command -----------------------------------------------------------------
    let name = c.name().to_string();
    let running = c.inspect.state.running;
    let mut argv: Vec<String> = vec![
        "docker".into(),
        if running { "run" } else { "create" }.into(),
    ];
    if running {
        argv.push("--detach".into());
    }
    pair(&mut argv, "--name", name.clone());
    let user = if has(Change::User) {
        o.container_user.clone()
    } else {
        cfg.user.clone()
    };
    if !user.is_empty() {
        pair(&mut argv, "--user", user);
    }
    if !cfg.working_dir.is_empty() {
        pair(&mut argv, "--workdir", cfg.working_dir.clone());
    }
    let image_env: Vec<&String> = image
        .map(|i| i.inspect.config.env.iter().collect())
        .unwrap_or_default();
    let mut by_name = Vec::new();
    for e in &cfg.env {
        match e.split_once('=') {
            // A secret is never written into the command, masked or not: docker copies the
            // variable from the environment of the shell that runs it. This also holds when the
            // image sets the same name: two masked values look equal whatever they really are,
            // and an unset variable leaves the image's own value in place.
            Some((k, v)) if holds_secret(e) || holds_secret(v) => {
                by_name.push(k.to_string());
                pair(&mut argv, "--env", k.to_string());
            }
            _ if image_env.contains(&e) => {}
            _ => pair(&mut argv, "--env", e.clone()),
        }
    }
    if !by_name.is_empty() {
        notes.push(format!(
            "secret values are not copied: export {} with the current value{} in the shell that runs the command (docker copies {} from that environment; a variable left unset there is missing from the new container)",
            by_name.join(", "),
            if by_name.len() == 1 { "" } else { "s" },
            if by_name.len() == 1 { "it" } else { "them" },
        ));
    }
    let image_labels = image
        .and_then(|i| i.inspect.config.labels.clone())
        .unwrap_or_default();
    for (k, v) in &cfg.labels {
        if k.starts_with("com.docker.compose.") || image_labels.get(k) == Some(v) {
            continue;
        }
        pair(&mut argv, "--label", format!("{k}={v}"));
    }
    let nm = hc.network_mode.as_str();
    match nm {
        "" | "default" | "bridge" => {}
        "host" if has(Change::NoHostNetwork) => {}
        other => pair(&mut argv, "--network", other.to_string()),
    }
    for (cport, bindings) in hc.port_bindings.iter().flatten() {
        for b in bindings.iter().flatten() {
            let host_ip = if b.host_ip.contains(':') {
                format!("[{}]:", b.host_ip)
            } else if b.host_ip.is_empty() {
                String::new()
            } else {
                format!("{}:", b.host_ip)
            };
            pair(
                &mut argv,
                "--publish",
                format!("{host_ip}{}:{cport}", b.host_port),
            );
        }
    }
    for m in &c.inspect.mounts {
        match m.kind.as_str() {
            "bind" => {
                if has(Change::NoDockerSocket) && is_docker_socket(&m.source, &sockets) {
                    continue;
                }
                let mut spec = format!("type=bind,source={},target={}", m.source, m.destination);
                if !m.rw {
                    spec.push_str(",readonly");
                }
                let prop = if has(Change::PrivatePropagation) && m.propagation.contains("shared") {
                    "rprivate"
                } else {
                    m.propagation.as_str()
                };
                if !prop.is_empty() && prop != "rprivate" {
                    spec.push_str(&format!(",bind-propagation={prop}"));
                }
                pair(&mut argv, "--mount", spec);
            }
            "volume" => {
                let mut spec = format!("type=volume,source={},target={}", m.name, m.destination);
                if !m.rw {
                    spec.push_str(",readonly");
                }
                pair(&mut argv, "--mount", spec);
            }
            _ => {}
        }
    }
    for (path, opts) in hc.tmpfs.iter().flatten() {
        pair(
            &mut argv,
            "--tmpfs",
            if opts.is_empty() {
                path.clone()
            } else {
                format!("{path}:{opts}")
            },
        );
    }
    for d in &tmpfs_new {
        pair(&mut argv, "--tmpfs", format!("{d}:{TMPFS_OPTIONS}"));
    }
    if has(Change::RestartOnFailure) {
        pair(
            &mut argv,
            "--restart",
            format!("on-failure:{}", o.restart_retries),
        );
    } else {
        let rp = &hc.restart_policy;
        match rp.name.as_str() {
            "" | "no" => {}
            "on-failure" if rp.maximum_retry_count > 0 => pair(
                &mut argv,
                "--restart",
                format!("on-failure:{}", rp.maximum_retry_count),
            ),
            other => pair(&mut argv, "--restart", other.to_string()),
        }
    }
    if hc.privileged && !has(Change::Unprivileged) {
        argv.push("--privileged".into());
    }
    let runs_as_root = {
        let u = if has(Change::User) {
            o.container_user.as_str()
        } else {
            cfg.user.as_str()
        };
        let who = u.split(':').next().unwrap_or("");
        who.is_empty() || who == "0" || who == "root"
    };
    if has(Change::CapDropAll) {
        argv.push("--cap-drop".into());
        argv.push("ALL".into());
        let (keep, dropped) = needed_caps(c, runs_as_root);
        for (cap, why) in &keep {
            argv.push("--cap-add".into());
            argv.push(cap.clone());
            notes.push(format!("keeps {cap}: {why}"));
        }
        if !dropped.is_empty() {
            notes.push(format!(
                "no longer adds {}: add back only a capability the workload is shown to need",
                dropped.join(", ")
            ));
        }
    } else {
        for cap in hc.cap_add.iter().flatten() {
            argv.push("--cap-add".into());
            argv.push(cap.clone());
        }
        for cap in hc.cap_drop.iter().flatten() {
            argv.push("--cap-drop".into());
            argv.push(cap.clone());
        }
    }
    // The daemon adds `label=disable` to the security options by itself when a container is
    // created with the host's PID or IPC namespace or privileged (and no label option of its
    // own). Once the fix removes every such cause, keeping the option would leave the hardened
    // container without SELinux confinement. Each cause the container has, and whether the fix
    // removes it:
    let label_causes: Vec<(&str, bool)> = [
        ("--privileged", hc.privileged, Change::Unprivileged),
        ("--pid host", hc.pid_mode == "host", Change::NoHostPid),
        ("--ipc host", hc.ipc_mode == "host", Change::NoHostIpc),
    ]
    .into_iter()
    .filter(|(_, had, _)| *had)
    .map(|(flag, _, change)| (flag, has(change)))
    .collect();
    let drop_label_disable =
        !label_causes.is_empty() && label_causes.iter().all(|(_, removed)| *removed);
    let mut run_notes: Vec<String> = Vec::new();
    let mut sec: Vec<String> = Vec::new();
    for opt in hc.security_opt.iter().flatten() {
        let key = opt.split(['=', ':']).next().unwrap_or("");
        if drop_label_disable && matches!(opt.as_str(), "label=disable" | "label:disable") {
            run_notes.push(format!(
                "{opt} is not carried over: Docker added it by itself for {}, which the new container no longer has; add it back by hand if it was asked for on purpose",
                label_causes
                    .iter()
                    .map(|(flag, _)| *flag)
                    .collect::<Vec<_>>()
                    .join(" and ")
            ));
            continue;
        }
        if has(Change::NoNewPrivileges) && key == "no-new-privileges" {
            continue;
        }
        if has(Change::SeccompDefault) && key == "seccomp" {
            continue;
        }
        if key == "seccomp" && opt.contains('{') {
            sec.push("seccomp=PROFILE.json".into());
            notes.push("the container runs a custom seccomp profile: save it as PROFILE.json and keep seccomp=PROFILE.json".into());
            continue;
        }
        sec.push(opt.clone());
    }
    if has(Change::NoNewPrivileges) {
        sec.push("no-new-privileges:true".into());
    }
    if has(Change::AppArmor) {
        sec.retain(|s| !s.starts_with("apparmor"));
        sec.push("apparmor=docker-default".into());
    }
    for s in sec {
        pair(&mut argv, "--security-opt", s);
    }
    for (flag, mode, change) in [
        ("--pid", hc.pid_mode.as_str(), Change::NoHostPid),
        ("--ipc", hc.ipc_mode.as_str(), Change::NoHostIpc),
        ("--uts", hc.uts_mode.as_str(), Change::NoHostUts),
        ("--userns", hc.userns_mode.as_str(), Change::NoHostUserns),
    ] {
        let default = matches!(mode, "" | "private" | "shareable");
        let dropped = mode == "host" && has(change);
        if !default && !dropped {
            pair(&mut argv, flag, mode.to_string());
        }
    }
    if !hc.cgroup_parent.is_empty() {
        pair(&mut argv, "--cgroup-parent", hc.cgroup_parent.clone());
    }
    if has(Change::Memory) {
        pair(&mut argv, "--memory", o.memory.clone());
    } else if hc.memory > 0 {
        pair(&mut argv, "--memory", format!("{}b", hc.memory));
    }
    if hc.memory_swap > 0 && !has(Change::Memory) {
        pair(&mut argv, "--memory-swap", format!("{}b", hc.memory_swap));
    }
    if has(Change::CpuShares) {
        pair(&mut argv, "--cpu-shares", o.cpu_shares.to_string());
    } else if hc.cpu_shares > 0 {
        pair(&mut argv, "--cpu-shares", hc.cpu_shares.to_string());
    }
    if hc.nano_cpus > 0 {
        pair(
            &mut argv,
            "--cpus",
            format!("{}", hc.nano_cpus as f64 / 1e9),
        );
    }
    if hc.cpu_quota > 0 {
        pair(&mut argv, "--cpu-quota", hc.cpu_quota.to_string());
    }
    if !hc.cpuset_cpus.is_empty() {
        pair(&mut argv, "--cpuset-cpus", hc.cpuset_cpus.clone());
    }
    if has(Change::PidsLimit) {
        pair(&mut argv, "--pids-limit", o.pids_limit.to_string());
    } else if let Some(p) = hc.pids_limit.filter(|p| *p > 0) {
        pair(&mut argv, "--pids-limit", p.to_string());
    }
    for d in hc.devices.iter().flatten() {
        pair(
            &mut argv,
            "--device",
            format!(
                "{}:{}:{}",
                d.path_on_host, d.path_in_container, d.cgroup_permissions
            ),
        );
    }
    for u in hc.ulimits.iter().flatten() {
        pair(
            &mut argv,
            "--ulimit",
            format!("{}={}:{}", u.name, u.soft, u.hard),
        );
    }
    if hc.readonly_rootfs || has(Change::ReadOnly) {
        argv.push("--read-only".into());
    }
    let health = if has(Change::HealthCheck) {
        health_command(c, o).map(|(cmd, derived)| {
            if derived {
                notes.push(format!(
                    "the probe `{cmd}` only proves the port accepts connections and needs an `nc` with `-z` in the image (netcat-openbsd or Alpine's busybox; Debian's busybox nc has none); prefer an application-level check (--health-cmd)"
                ));
            }
            (cmd, "30s".to_string(), "5s".to_string(), 3i64)
        })
    } else {
        cfg.healthcheck
            .as_ref()
            .filter(|h| !h.test.is_empty() && h.test[0] != "NONE")
            .map(|h| {
                let cmd = match h.test[0].as_str() {
                    "CMD-SHELL" => h.test.get(1).cloned().unwrap_or_default(),
                    // Docker runs it with the container's /bin/sh, which may know no `$'...'`;
                    // the run command quotes the whole string again for the human's shell.
                    _ => crate::shell::join_posix(&h.test[1..]),
                };
                (
                    cmd,
                    duration(if h.interval > 0 {
                        h.interval
                    } else {
                        30_000_000_000
                    }),
                    duration(if h.timeout > 0 {
                        h.timeout
                    } else {
                        30_000_000_000
                    }),
                    if h.retries > 0 { h.retries } else { 3 },
                )
            })
    };
    if let Some((cmd, interval, timeout, retries)) = &health {
        pair(&mut argv, "--health-cmd", cmd.clone());
        pair(&mut argv, "--health-interval", interval.clone());
        pair(&mut argv, "--health-timeout", timeout.clone());
        pair(&mut argv, "--health-retries", retries.to_string());
    }
    let entry = cfg.entrypoint.clone().unwrap_or_default();
    let entrypoint_at = entry.first().map(|first| {
        pair(&mut argv, "--entrypoint", first.clone());
        argv.len() - 1
    });
    argv.push(if cfg.image.is_empty() {
        c.inspect.image.clone()
    } else {
        cfg.image.clone()
    });
    let image_at = argv.len() - 1;
    argv.extend(entry.iter().skip(1).cloned());
    argv.extend(cfg.cmd.iter().flatten().cloned());

    let secrets = secret_words(&argv, entrypoint_at, image_at, entry.len());
    if secrets.is_empty() {
        out.fixes.push(run_fix(
            w,
            &name,
            running,
            argv,
            &changes_text,
            &may_break,
            &[notes.clone(), run_notes].concat(),
        ));
    } else {
        // The snapshot holds the secret masked (or it would be masked when printed): a command
        // rebuilt from it would run something else, so none is planned.
        let places = secrets.join(" and ");
        let verb = if secrets.len() == 1 { "holds" } else { "hold" };
        for (change, failing) in &w.changes {
            let (what, _) = describe(*change, o);
            for f in failing {
                out.unfixed.push(f.unfixed(
                    Some(c.name()),
                    format!(
                        "no docker run command is planned for container {name}: {places} {verb} a secret value that bulkhead masks, and a command rebuilt from the masked text would run something else; recreate the container by hand from its real settings, adding: {what}"
                    ),
                ));
            }
        }
    }
    let all: Vec<&Failing> = w.changes.values().flatten().copied().collect();
    let (checks, controls) = super::ids_of(all.iter().copied());

    // --- the compose file that created it ------------------------------------------------
    let (Some(files_label), Some(service)) = (
        cfg.labels.get(COMPOSE_FILES_LABEL),
        cfg.labels.get(COMPOSE_SERVICE_LABEL),
    ) else {
        return;
    };
    let workdir = cfg
        .labels
        .get(COMPOSE_WORKDIR_LABEL)
        .cloned()
        .unwrap_or_default();
    match compose_fix(
        ctx,
        w,
        compose_texts,
        files_label,
        &workdir,
        service,
        &tmpfs_new,
        health.as_ref().map(|h| h.0.clone()),
    ) {
        Ok(Some((mut fix, users))) => {
            fix.checks = checks;
            fix.controls = controls;
            fix.changes = changes_text;
            fix.may_break = may_break
                .into_iter()
                .filter(|m| !m.starts_with("recreating the container"))
                .chain([
                    "`docker compose up -d` recreates the service with the new settings"
                        .to_string(),
                ])
                .collect();
            fix.notes = notes;
            if !users.is_empty() {
                shared.push(SharedService {
                    fix: out.fixes.len(),
                    path: fix.target.path.clone().unwrap_or_default(),
                    service: service.clone(),
                    users,
                });
            }
            out.fixes.push(fix);
        }
        Ok(None) => {}
        Err(reason) => {
            for f in w.changes.values().flatten() {
                out.unfixed.push(f.unfixed(
                    Some(c.name()),
                    format!("compose file not patched: {reason}"),
                ));
            }
        }
    }
}

/// The patch to the compose file (the last of the project's files that defines the service),
/// made on what the fixes of other services already planned for that file (`compose_texts`),
/// and the places that merge or repeat an anchor of the service, which the patch changes too.
#[allow(clippy::too_many_arguments)]
fn compose_fix(
    ctx: &PlanContext<'_>,
    w: &Wanted<'_>,
    compose_texts: &mut BTreeMap<String, String>,
    files_label: &str,
    workdir: &str,
    service: &str,
    tmpfs_new: &[String],
    health_cmd: Option<String>,
) -> Result<Option<(Fix, Vec<ServiceUser>)>, String> {
    let o = ctx.options();
    let c = w.container;
    let has = |ch: Change| w.changes.contains_key(&ch);
    let mut chosen = None;
    for f in files_label
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
    {
        let path = if f.starts_with('/') {
            f.to_string()
        } else {
            format!("{}/{f}", workdir.trim_end_matches('/'))
        };
        let read = files::read(&ctx.root, &path)?;
        let Some(text) = read.content.clone() else {
            continue;
        };
        let docs = bulkhead_sources::yaml::parse(&text).map_err(|e| format!("{path}: {e}"))?;
        if bulkhead_sources::compose::services(&docs)
            .iter()
            .any(|s| s.name == service)
        {
            chosen = Some((path, read, text));
        }
    }
    let Some((path, mut read, mut text)) = chosen else {
        return Err(format!(
            "no file of {files_label} defines service {service}"
        ));
    };
    // Another service of this file was patched already: build on that.
    if let Some(planned) = compose_texts.get(&path) {
        text = planned.clone();
        read.content = Some(planned.clone());
    }
    let before = text.clone();
    let svc = [Seg::Key("services"), Seg::Key(service)];
    let e = |r: Result<String, yaml::YamlEditError>| r.map_err(|e| format!("{path}: {e}"));
    let doc_value = |text: &str, key: &str| -> Option<Value> {
        let docs = bulkhead_sources::yaml::parse(text).ok()?;
        yaml::node_at(
            &docs,
            0,
            &[Seg::Key("services"), Seg::Key(service), Seg::Key(key)],
        )
        .map(|n| n.to_json(bulkhead_sources::yaml::Schema::Core))
    };
    if has(Change::User) {
        text = e(yaml::set(&text, 0, &svc, "user", &json!(o.container_user)))?;
    }
    if has(Change::ReadOnly) {
        text = e(yaml::set(&text, 0, &svc, "read_only", &json!(true)))?;
        let existing: Vec<String> = match doc_value(&text, "tmpfs") {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            Some(Value::String(s)) => vec![s],
            _ => Vec::new(),
        };
        let path_of = |s: &str| s.split(':').next().unwrap_or(s).to_string();
        if matches!(doc_value(&text, "tmpfs"), Some(Value::String(_))) {
            let mut all = existing.clone();
            all.extend(
                tmpfs_new
                    .iter()
                    .filter(|d| !existing.iter().any(|x| path_of(x) == **d))
                    .map(|d| format!("{d}:{TMPFS_OPTIONS}")),
            );
            text = e(yaml::set(&text, 0, &svc, "tmpfs", &json!(all)))?;
        } else {
            for d in tmpfs_new {
                if !existing.iter().any(|x| path_of(x) == *d) {
                    let tpath = [Seg::Key("services"), Seg::Key(service), Seg::Key("tmpfs")];
                    text = e(yaml::append(
                        &text,
                        0,
                        &tpath,
                        &json!(format!("{d}:{TMPFS_OPTIONS}")),
                    ))?;
                }
            }
        }
    }
    if has(Change::NoNewPrivileges) {
        if let Some(sp) = crate::edit::compose::no_new_privileges(&text, service)
            .map_err(|e| format!("{path}: {e}"))?
        {
            text = sp.apply(&text);
        }
    }
    if has(Change::CapDropAll) {
        text = e(yaml::set(&text, 0, &svc, "cap_drop", &json!(["ALL"])))?;
        let runs_as_root = !has(Change::User) && {
            let who = c.inspect.config.user.split(':').next().unwrap_or("");
            who.is_empty() || who == "0" || who == "root"
        };
        let (keep, _) = needed_caps(c, runs_as_root);
        if !keep.is_empty() || doc_value(&text, "cap_add").is_some() {
            let caps: Vec<String> = keep.into_iter().map(|(k, _)| k).collect();
            text = e(yaml::set(&text, 0, &svc, "cap_add", &json!(caps)))?;
        }
    }
    if has(Change::Unprivileged) {
        text = e(yaml::set(&text, 0, &svc, "privileged", &json!(false)))?;
    }
    if has(Change::Memory) {
        text = e(yaml::set(&text, 0, &svc, "mem_limit", &json!(o.memory)))?;
    }
    if has(Change::CpuShares) {
        text = e(yaml::set(
            &text,
            0,
            &svc,
            "cpu_shares",
            &json!(o.cpu_shares),
        ))?;
    }
    if has(Change::PidsLimit) {
        text = e(yaml::set(
            &text,
            0,
            &svc,
            "pids_limit",
            &json!(o.pids_limit),
        ))?;
    }
    if has(Change::RestartOnFailure) {
        text = e(yaml::set(
            &text,
            0,
            &svc,
            "restart",
            &json!(format!("on-failure:{}", o.restart_retries)),
        ))?;
    }
    if let (true, Some(cmd)) = (has(Change::HealthCheck), health_cmd) {
        text = e(yaml::set(
            &text,
            0,
            &svc,
            "healthcheck",
            &json!({"test": ["CMD-SHELL", cmd], "interval": "30s", "timeout": "5s", "retries": 3}),
        ))?;
    }
    // Changes that remove what the service asked for (host namespaces, unconfined seccomp, the
    // Docker socket, shared propagation) are shown by the run command; the compose keys are left
    // for a human to delete rather than guessing which line meant what.
    if Some(&text) == read.content.as_ref() {
        return Ok(None);
    }
    compose_texts.insert(path.clone(), text.clone());
    // Keys added to a service carrying an anchor reach every mapping that merges or repeats it.
    let users = service_users(&before, &text, service);
    let fix = Fix {
        id: format!("compose:{path}#{service}"),
        title: format!("Harden service {service} in {path}"),
        checks: Vec::new(),
        controls: Vec::new(),
        threats: Vec::new(),
        target: Target::new("compose-service", service.to_string(), Some(path.clone())),
        kind: FixKind::Compose,
        safety: Safety::Review,
        changes: Vec::new(),
        may_break: Vec::new(),
        notes: Vec::new(),
        action: Action {
            edits: vec![file_edit(&path, &read, text, ROOT_FILE)],
            ..Default::default()
        },
        restart: None,
        findings: Vec::new(),
    };
    Ok(Some((fix, users)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ch(path: &str, kind: ChangeKind) -> ChangedPath {
        ChangedPath {
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn tmpfs_covers_each_written_directory_once() {
        use ChangeKind::*;
        let changes = vec![
            ch("/tmp", Modified),
            ch("/tmp/cache", Added),
            ch("/tmp/cache/x", Added),
            ch("/var", Modified),
            ch("/var/log", Modified),
            ch("/var/log/app.log", Added),
            ch("/data", Added),
            ch("/data/db", Added),
            ch("/etc", Modified),
            ch("/etc/hosts", Modified),
            ch("/srv/vol/file", Added),
        ];
        assert_eq!(
            tmpfs_dirs(&changes, &["/srv/vol".to_string()], &["/tmp"]),
            vec!["/data", "/tmp", "/var/log"]
        );
        // A new directory tree is mounted at its top, where nothing of the image is hidden.
        assert_eq!(
            tmpfs_dirs(&changes, &[], &[]),
            vec!["/data", "/srv/vol", "/tmp/cache", "/var/log"]
        );
    }
}
