//! CIS Kubernetes Benchmark checks (cis-1.12), one module per target and section. Each module
//! lists its evaluators; the helpers here hold what several sections share: deciding whether a
//! target applies on this node (and why not), judging a component's effective setting with the
//! place it came from, and judging files by bitmask and by uid/gid with effective access through
//! parent directories.

use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::host::{FileFact, FileStat};
use bulkhead_facts::kube::{Component, KubeFacts, ResolvedPath, Setting};

pub mod apiserver;
pub mod controlplane;
pub mod etcd;
pub mod files;
pub mod kubelet;
pub mod master_components;
pub mod pods;
pub mod policies;
pub mod rbac;

#[cfg(test)]
pub(crate) mod fixture;
#[cfg(test)]
mod tests;

/// Every Kubernetes evaluator, target by target.
pub const EVALUATORS: &[&[(&str, Evaluator)]] = &[
    files::EVALUATORS,
    apiserver::EVALUATORS,
    master_components::EVALUATORS,
    etcd::EVALUATORS,
    controlplane::EVALUATORS,
    kubelet::EVALUATORS,
    rbac::EVALUATORS,
    pods::EVALUATORS,
    policies::EVALUATORS,
];

/// The Kubernetes facts, or the reason the check cannot run at all.
pub(crate) fn kube<'a>(ctx: &Context<'a>) -> Result<&'a KubeFacts, CheckResult> {
    ctx.snapshot.kubernetes.as_ref().ok_or_else(|| {
        CheckResult::not_applicable(
            "Kubernetes was not audited (no Kubernetes facts in this snapshot)",
        )
    })
}

/// Target groups whose components a managed provider runs out of reach of the node.
fn provider_managed_target(target: &str) -> bool {
    matches!(target, "master" | "etcd" | "controlplane")
}

/// The facts when `target` is audited on this node; otherwise the not-applicable result that says
/// why (not selected, nothing of it runs here, or the provider manages it).
pub(crate) fn guard<'a>(ctx: &Context<'a>, target: &str) -> Result<&'a KubeFacts, CheckResult> {
    let k = kube(ctx)?;
    // On a managed platform the control plane runs out of the node's reach: its checks are the
    // provider's, even when --targets names them, unless a control-plane process does run here.
    let control_plane_here = [
        bulkhead_facts::kube::APISERVER,
        bulkhead_facts::kube::CONTROLLER_MANAGER,
        bulkhead_facts::kube::SCHEDULER,
        bulkhead_facts::kube::ETCD,
    ]
    .iter()
    .any(|c| k.component(c).is_some());
    if k.platform.managed && provider_managed_target(target) && !control_plane_here {
        return Err(managed(k));
    }
    if k.target_selected(target) {
        return Ok(k);
    }
    let why = if k.targets.source == "--targets" {
        format!(
            "target {target} not selected by --targets ({})",
            k.targets.selected.join(",")
        )
    } else {
        match target {
            "master" => "no control-plane component (kube-apiserver, kube-controller-manager, kube-scheduler) runs on this node".to_string(),
            "etcd" => "no etcd process runs on this node".to_string(),
            "controlplane" => "kube-apiserver does not run on this node".to_string(),
            "node" => "neither kubelet nor kube-proxy runs on this node".to_string(),
            "policies" => "no cluster dump given: pass --cluster-dump FILE (the output of the kubectl command that `bulkhead audit --help` shows)".to_string(),
            other => format!("target {other} not detected"),
        }
    };
    Err(CheckResult::not_applicable(why))
}

fn managed(k: &KubeFacts) -> CheckResult {
    CheckResult::not_applicable(format!(
        "provider-managed control plane ({}: {}): the provider runs and configures it, not this node",
        k.platform.provider_name(),
        k.platform.evidence.join(", ")
    ))
}

/// The facts and a running component of `target` whose settings can be read, or why the check
/// does not apply, or (for a component inside k3s whose configuration file could not be used)
/// the error saying why its settings are unknown. Every check that judges a component's
/// settings goes through here.
pub(crate) fn running<'a>(
    ctx: &Context<'a>,
    target: &str,
    component: &str,
) -> Result<(&'a KubeFacts, &'a Component), CheckResult> {
    let (k, c) = found(ctx, target, component)?;
    match k3s_config_error(c) {
        Some(r) => Err(r),
        None => Ok((k, c)),
    }
}

/// The facts and a running component of `target`, or why the check does not apply; its
/// settings may be unknown (see [`running`]).
pub(crate) fn found<'a>(
    ctx: &Context<'a>,
    target: &str,
    component: &str,
) -> Result<(&'a KubeFacts, &'a Component), CheckResult> {
    let k = guard(ctx, target)?;
    match k.component(component) {
        Some(c) => Ok((k, c)),
        None if k.platform.managed && provider_managed_target(target) => Err(managed(k)),
        None => Err(CheckResult::not_applicable(
            k.absent
                .get(component)
                .cloned()
                .unwrap_or_else(|| format!("{component} does not run on this node")),
        )),
    }
}

/// The text shown for a setting's value: `none` for an empty default (the source beside it
/// already says the setting is not set: `--audit-log-path not set = none`).
pub(crate) fn shown(s: &Setting) -> String {
    if s.value.is_empty() {
        "none".into()
    } else {
        s.value.clone()
    }
}

/// One component's verdict on one setting, as a check result with its evidence.
pub(crate) fn setting_result(c: &Component, s: &Setting, ok: bool, expected: &str) -> CheckResult {
    let status = if ok { Status::Pass } else { Status::Fail };
    setting_result_with(c, s, status, expected, None)
}

/// The word after a boolean flag written bare on the command line, when that word is a Go
/// boolean: `--anonymous-auth false`. pflag, and etcd's flag package, never give a boolean flag
/// the next word, so the flag reads as true and the word is left over as a stray argument,
/// while a person reading the command line sees the opposite. None unless the flag's last
/// occurrence on `c`'s command line is written that way.
pub fn bool_flag_written_apart(c: &Component, flag: &str) -> Option<String> {
    if !bulkhead_facts::kube::boolean_flags(&c.name).contains(&flag) {
        return None;
    }
    let bare = format!("--{flag}");
    let eq = format!("--{flag}=");
    let argv = &c.process.argv;
    let last = argv
        .iter()
        .enumerate()
        .skip(1)
        .filter(|(_, w)| **w == bare || w.starts_with(&eq))
        .map(|(i, _)| i)
        .next_back()?;
    if argv[last] != bare {
        return None;
    }
    let next = argv.get(last + 1)?;
    bulkhead_facts::flags::parse_go_bool(next.trim()).map(|_| next.clone())
}

/// What a two-word boolean flag (see [`bool_flag_written_apart`]) really sets, for a setting
/// read from the command line.
fn written_apart_note(c: &Component, s: &Setting) -> Option<String> {
    let flag = s
        .source
        .strip_suffix(" (command line)")?
        .strip_prefix("--")?;
    let word = bool_flag_written_apart(c, flag)?;
    Some(format!(
        "written `--{flag} {word}`: a boolean flag does not take the next word, so it reads as true and `{word}` is a stray argument; to mean {word}, write --{flag}={word}"
    ))
}

/// A result whose passes may rest on a file the component has not loaded yet (it reads the file
/// only when it starts, and the file changed since): each passing object not taken from the
/// command line becomes a warn with `why`, and so does the result. `bulkhead verify` after
/// `harden --apply` must not call a fix proven before the restart that loads it.
pub(crate) fn not_loaded_yet(mut r: CheckResult, why: &str) -> CheckResult {
    let mut changed = false;
    for o in r.objects.iter_mut().filter(|o| o.status == Status::Pass) {
        let on_command_line = o.evidence.as_ref().is_some_and(|e| given_as_flag(&e.field));
        if !on_command_line {
            o.status = Status::Warn;
            o.note = Some(match o.note.take() {
                Some(earlier) => format!("{why}; {earlier}"),
                None => why.to_string(),
            });
            changed = true;
        }
    }
    if changed && r.status == Status::Pass {
        r.status = Status::Warn;
    }
    r
}

/// Is an evidence field a flag the process was started with: `--flag (command line)`, or a flag
/// k3s passed its embedded component from its configuration (`--flag
/// (/etc/rancher/k3s/config.yaml, line 4)`, several places separated by `; ` for a list)? Such a
/// value is in the process since it started, whatever a component's own configuration file
/// says now.
pub(crate) fn given_as_flag(field: &str) -> bool {
    let Some((_, origins)) = field
        .strip_prefix("--")
        .and_then(|f| f.strip_suffix(')'))
        .and_then(|f| f.rsplit_once(" ("))
    else {
        return false;
    };
    origins.split("; ").all(|o| {
        o == bulkhead_facts::flags::COMMAND_LINE
            || (o.starts_with('/')
                && o.rsplit_once(", line ")
                    .is_some_and(|(_, n)| n.parse::<u32>().is_ok()))
    })
}

/// The error result of a check whose file (or set of files, `role`) cannot be located: k3s's
/// data directory is unknown (see `KubeFacts::unknown_paths`). None when its place is known.
pub(crate) fn path_unknown(k: &KubeFacts, role: &str) -> Option<CheckResult> {
    let why = k.unknown_paths.get(role)?;
    let why = format!("no file is judged: {why}");
    Some(CheckResult::error(why.clone()).with_object(
        ObjectResult::new("directory", "k3s data directory (unknown)", Status::Error).note(why),
    ))
}

/// Is `c` a component k3s runs inside its own process? Its flags are then only what k3s's
/// pass-through options (`--kube-apiserver-arg`, `--kubelet-arg`, ...) give it; k3s adds
/// arguments of its own, which depend on its version and are not visible on the node.
pub(crate) fn inside_k3s(c: &Component) -> bool {
    c.source.starts_with("inside k3s ")
}

/// For a component inside k3s: its k3s configuration files that could not be read or parsed,
/// as `path: reason`. k3s does not start with such a file, so the running k3s read a version
/// of it bulkhead cannot see, and every flag k3s passes the component is unknown.
pub(crate) fn k3s_unusable_files(c: &Component) -> Vec<String> {
    if !inside_k3s(c) {
        return vec![];
    }
    c.unusable_config
        .iter()
        .map(|(path, why)| format!("{path}: {why}"))
        .collect()
}

/// The error result for a setting of `c` when `c` runs inside a k3s whose configuration could
/// not be used (see [`k3s_unusable_files`]); None otherwise.
pub(crate) fn k3s_config_error(c: &Component) -> Option<CheckResult> {
    let files = k3s_unusable_files(c);
    if files.is_empty() {
        return None;
    }
    let why = format!(
        "{}'s settings are unknown: k3s passes them through {} from its configuration, and {} could not be used ({}); k3s does not start with such a file, so the running k3s read a version bulkhead cannot see. Correct the file (or restore the one k3s started with) and audit again",
        c.name,
        k3s_option(c),
        if files.len() == 1 { "this file" } else { "these files" },
        files.join("; ")
    );
    Some(
        CheckResult::error(why.clone())
            .with_object(ObjectResult::new("process", c.label(), Status::Error).note(why)),
    )
}

/// A file check on a path the platform's layout supplies (no flag named it) for a component
/// inside k3s whose configuration could not be used: the flag that would name the file may be
/// in that configuration, so the file is unknown.
pub(crate) fn k3s_path_unknown(
    k: &KubeFacts,
    component: &str,
    p: &ResolvedPath,
) -> Option<CheckResult> {
    if p.configured {
        return None;
    }
    let c = k.component(component)?;
    let files = k3s_unusable_files(c);
    if files.is_empty() {
        return None;
    }
    let why = format!(
        "the file {} uses is unknown: {} is only the k3s default ({}), and the k3s configuration that could name another through {} could not be used ({})",
        c.name,
        p.path,
        p.source,
        k3s_option(c),
        files.join("; ")
    );
    Some(
        CheckResult::error(why.clone())
            .with_object(ObjectResult::new("file", &p.path, Status::Error).note(why)),
    )
}

/// The component whose flag names the file of `role`, for [`k3s_path_unknown`].
fn role_component(role: &str) -> Option<&'static str> {
    use bulkhead_facts::kube::{CONTROLLER_MANAGER, ETCD, KUBELET, PROXY, SCHEDULER};
    Some(match role {
        "kubelet_kubeconfig" | "kubelet_client_ca" => KUBELET,
        "proxy_kubeconfig" => PROXY,
        "scheduler_kubeconfig" => SCHEDULER,
        "controller_manager_kubeconfig" => CONTROLLER_MANAGER,
        "etcd_data_dir" => ETCD,
        _ => return None,
    })
}

/// The pass-through option of k3s that sets `c`'s flags (`--kube-apiserver-arg`).
fn k3s_option(c: &Component) -> &str {
    c.source
        .rsplit_once("flags from ")
        .map(|(_, o)| o)
        .unwrap_or("--<component>-arg")
}

/// For a component inside k3s, a setting nothing on the node gives (its value would be the
/// upstream default) is k3s's to choose: a manual result saying so, never a verdict on a
/// default k3s may not use.
fn k3s_chooses(c: &Component, s: &Setting, expected: &str) -> Option<CheckResult> {
    if !inside_k3s(c) || !s.is_default {
        return None;
    }
    let why = format!(
        "{} is not given by {} (k3s configuration file or command line), so k3s sets its own value, which bulkhead cannot see: read the `Running {}` line k3s logs when it starts (journalctl -u k3s) and compare it with: {expected}",
        s.source.split(" not set").next().unwrap_or(&s.source),
        k3s_option(c),
        c.name
    );
    let obj = ObjectResult::new("process", c.label(), Status::Manual)
        .evidence(s.source.clone(), "set by k3s (not visible)", expected)
        .note(why);
    Some(
        CheckResult::manual(format!(
            "{}: chosen by k3s, not given by {}",
            s.source,
            k3s_option(c)
        ))
        .with_object(obj),
    )
}

pub(crate) fn setting_result_with(
    c: &Component,
    s: &Setting,
    status: Status,
    expected: &str,
    note: Option<String>,
) -> CheckResult {
    if let Some(r) = k3s_chooses(c, s, expected) {
        return r;
    }
    let note = match (note, written_apart_note(c, s)) {
        (Some(n), Some(w)) => Some(format!("{w}; {n}")),
        (n, w) => w.or(n),
    };
    let mut obj = ObjectResult::new("process", c.label(), status).evidence(
        s.source.clone(),
        shown(s),
        expected,
    );
    if let Some(n) = &note {
        obj = obj.note(n.clone());
    }
    let msg = match &note {
        Some(n) => format!("{}: {} ({n})", s.source, shown(s)),
        None => format!("{}: {}", s.source, shown(s)),
    };
    CheckResult::new(status, msg).with_object(obj)
}

/// Judge one flag of a running component: `default` is the component's built-in value when the
/// flag is not given (None: unset means empty).
pub(crate) fn flag_check(
    ctx: &Context<'_>,
    target: &str,
    component: &str,
    flag: &str,
    default: Option<&str>,
    expected: &str,
    ok: impl Fn(&Setting) -> bool,
) -> CheckResult {
    let (_, c) = match running(ctx, target, component) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let s = match default {
        Some(d) => c.setting_or(flag, d),
        None => c
            .setting(flag)
            .unwrap_or_else(|| Setting::default_value("", format!("--{flag} not set"))),
    };
    setting_result(c, &s, ok(&s), expected)
}

/// Is the flag given a non-empty value?
pub(crate) fn is_set(s: &Setting) -> bool {
    !s.value.trim().is_empty()
}

/// Settings that must name files (`--tls-cert-file` and `--tls-private-key-file`): each must be
/// set, and a file it names that bulkhead could stat must exist. The message names what fails
/// and why when something does, else every setting with its value.
pub(crate) fn file_settings_result(
    ctx: &Context<'_>,
    c: &Component,
    settings: Vec<Setting>,
    expected: &str,
) -> CheckResult {
    if let Some(r) = settings.iter().find_map(|s| k3s_chooses(c, s, expected)) {
        return r;
    }
    let objects: Vec<ObjectResult> = settings
        .iter()
        .map(|s| {
            let base = ObjectResult::new("process", c.label(), Status::Pass);
            if !is_set(s) {
                return ObjectResult {
                    status: Status::Fail,
                    ..base
                }
                .evidence(s.source.clone(), "none", expected);
            }
            let obj = base.evidence(s.source.clone(), s.value.clone(), expected);
            match ctx.snapshot.host.file(&s.value) {
                Some(FileFact::Missing) => ObjectResult {
                    status: Status::Fail,
                    ..obj
                }
                .note(format!("{} does not exist on the node", s.value)),
                _ => obj,
            }
        })
        .collect();
    let parts: Vec<(bool, String)> = settings
        .iter()
        .zip(&objects)
        .map(|(s, o)| {
            let failed = o.status == Status::Fail;
            let part = match (&o.note, failed) {
                (Some(n), true) => format!("{}: {} ({n})", s.source, shown(s)),
                _ => format!("{}: {}", s.source, shown(s)),
            };
            (failed, part)
        })
        .collect();
    let mut r = CheckResult::from_objects(objects, "no setting to judge");
    let any_failed = parts.iter().any(|(f, _)| *f);
    r.message = Some(
        parts
            .into_iter()
            .filter(|(f, _)| *f || !any_failed)
            .map(|(_, p)| p)
            .collect::<Vec<_>>()
            .join("; "),
    );
    r
}

/// The file-owner rule of a check.
#[derive(Clone, Copy)]
pub(crate) enum Owner {
    /// uid 0, gid 0.
    Root,
    /// The `etcd` user and group of the node, else the user etcd runs as.
    Etcd,
}

/// The effective permission bits after parent directories: a directory that denies "other"
/// traversal removes the other bits; one that denies group and other traversal leaves only its
/// owner able to reach the file.
pub(crate) fn effective_mode(st: &FileStat) -> (u32, Option<String>) {
    let mut mode = st.mode.0 & 0o7777;
    let mut why = None;
    for a in &st.ancestors {
        if a.mode.0 & 0o001 == 0 && mode & 0o007 != 0 {
            mode &= !0o007;
            why = Some(format!(
                "{} ({}) lets no other user through",
                a.path, a.mode
            ));
        }
        if a.mode.0 & 0o011 == 0 && mode & 0o070 != 0 && a.uid == st.uid {
            mode &= !0o070;
            why = Some(format!(
                "{} ({}) lets only its owner through",
                a.path, a.mode
            ));
        }
    }
    (mode, why)
}

/// One file's mode verdict as a bitmask comparison, with effective access through parents.
pub(crate) fn mode_object(ctx: &Context<'_>, p: &ResolvedPath, allowed: u32) -> ObjectResult {
    let expected = format!("{allowed:04o} or stricter");
    match ctx.snapshot.host.file(&p.path) {
        Some(FileFact::Present(st)) => {
            if st.mode.at_most(allowed) {
                return ObjectResult::new("file", &p.path, Status::Pass).evidence(
                    "mode",
                    st.mode.to_string(),
                    expected,
                );
            }
            let (eff, why) = effective_mode(st);
            if eff & !allowed & 0o7777 == 0 {
                // CIS Kubernetes pitfall 5: a 0644 file in a 0700 directory is private in effect.
                ObjectResult::new("file", &p.path, Status::Pass)
                    .evidence("effective mode", format!("{eff:04o}"), expected)
                    .note(format!(
                        "file mode {} grants {:04o} beyond {allowed:04o}, but {}: effective access {eff:04o}",
                        st.mode,
                        st.mode.excess(allowed),
                        why.unwrap_or_default()
                    ))
            } else {
                ObjectResult::new("file", &p.path, Status::Fail)
                    .evidence("mode", st.mode.to_string(), expected)
                    .note(format!(
                        "grants {:04o} beyond {allowed:04o}; effective access through parent directories {eff:04o}",
                        st.mode.excess(allowed)
                    ))
            }
        }
        other => missing_object(p, other),
    }
}

/// A file that is not there or could not be read: not applicable for a conventional path the
/// layout does not use, an error when the running configuration names it (bulkhead cannot see
/// what the component reads: check --root).
fn missing_object(p: &ResolvedPath, fact: Option<&FileFact>) -> ObjectResult {
    match fact {
        Some(FileFact::Missing) if p.configured => ObjectResult::new("file", &p.path, Status::Error)
            .note(format!(
                "named by {} but not found under the audited root (is the host's root mounted at --root?)",
                p.source
            )),
        Some(FileFact::Missing) => ObjectResult::new("file", &p.path, Status::NotApplicable)
            .note(format!("does not exist ({})", p.source)),
        Some(FileFact::Unreadable { reason }) => {
            ObjectResult::new("file", &p.path, Status::Error).note(reason.clone())
        }
        Some(FileFact::Present(_)) => unreachable!("present files are judged by the caller"),
        None => ObjectResult::new("file", &p.path, Status::Error).note("not collected"),
    }
}

/// One file's owner verdict by uid and gid, named from the node's own accounts.
pub(crate) fn owner_object(
    ctx: &Context<'_>,
    k: &KubeFacts,
    p: &ResolvedPath,
    owner: Owner,
) -> ObjectResult {
    let host = &ctx.snapshot.host;
    let st = match host.file(&p.path) {
        Some(FileFact::Present(st)) => st,
        other => return missing_object(p, other),
    };
    let name_of = |uid: u32| {
        host.user_name(uid)
            .map(String::from)
            .unwrap_or_else(|| uid.to_string())
    };
    let group_of = |gid: u32| {
        host.group_name(gid)
            .map(String::from)
            .unwrap_or_else(|| gid.to_string())
    };
    let (uid, gid, note) = match owner {
        Owner::Root => (0, 0, None),
        Owner::Etcd => {
            let user = host
                .users
                .value()
                .and_then(|u| u.iter().find(|e| e.name == "etcd"));
            let group = host.group("etcd");
            match (user, group) {
                (Some(u), Some(g)) => (u.uid, g.gid, None),
                _ => {
                    let run_uid = k
                        .component(bulkhead_facts::kube::ETCD)
                        .map(|c| c.process.uid)
                        .unwrap_or(0);
                    (
                        run_uid,
                        if run_uid == 0 { 0 } else { st.gid },
                        Some(format!(
                            "the node has no etcd user and group; etcd runs as {}, which must own its data",
                            name_of(run_uid)
                        )),
                    )
                }
            }
        }
    };
    let ok = st.uid == uid && st.gid == gid;
    let actual = format!("{} (uid {}, gid {})", st.owner_label(), st.uid, st.gid);
    let expected = format!("{}:{} (uid {uid}, gid {gid})", name_of(uid), group_of(gid));
    let o = ObjectResult::new(
        "file",
        &p.path,
        if ok { Status::Pass } else { Status::Fail },
    )
    .evidence("owner", actual, expected);
    match note {
        Some(n) => o.note(n),
        None => o,
    }
}

/// Judge the file at `role` (mode at most `allowed`).
pub(crate) fn file_mode_check(
    ctx: &Context<'_>,
    target: &str,
    role: &str,
    allowed: u32,
    what: &str,
) -> CheckResult {
    let k = match guard(ctx, target) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if let Some(r) = path_unknown(k, role).or_else(|| k3s_role_unknown(k, role)) {
        return r;
    }
    match k.path(role) {
        Some(p) => roll_one(mode_object(ctx, p, allowed), p),
        None => CheckResult::not_applicable(format!("no {what} on this node")),
    }
}

/// Judge the owner of the file at `role`.
pub(crate) fn file_owner_check(
    ctx: &Context<'_>,
    target: &str,
    role: &str,
    owner: Owner,
    what: &str,
) -> CheckResult {
    let k = match guard(ctx, target) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if let Some(r) = path_unknown(k, role).or_else(|| k3s_role_unknown(k, role)) {
        return r;
    }
    match k.path(role) {
        Some(p) => roll_one(owner_object(ctx, k, p, owner), p),
        None => CheckResult::not_applicable(format!("no {what} on this node")),
    }
}

/// [`k3s_path_unknown`] for the file of `role`.
fn k3s_role_unknown(k: &KubeFacts, role: &str) -> Option<CheckResult> {
    k3s_path_unknown(k, role_component(role)?, k.path(role)?)
}

pub(crate) fn roll_one(obj: ObjectResult, p: &ResolvedPath) -> CheckResult {
    let msg = match (&obj.evidence, &obj.note) {
        (_, Some(n)) if obj.status != Status::Pass => format!("{}: {n}", p.path),
        (Some(e), _) => format!("{} {} {} ({})", p.path, e.field, e.actual, p.source),
        (None, Some(n)) => format!("{}: {n}", p.path),
        (None, None) => p.path.clone(),
    };
    CheckResult::new(obj.status, msg).with_object(obj)
}

/// Judge every file of the set `role` (`pki`, `cni`, `kubelet_service`) with `judge`; `filter`
/// picks the files the check is about (e.g. `*.key`).
pub(crate) fn file_set_check(
    ctx: &Context<'_>,
    target: &str,
    role: &str,
    what: &str,
    filter: impl Fn(&str) -> bool,
    judge: impl Fn(&KubeFacts, &ResolvedPath) -> ObjectResult,
) -> CheckResult {
    let k = match guard(ctx, target) {
        Ok(k) => k,
        Err(r) => return r,
    };
    if let Some(r) = path_unknown(k, role) {
        return r;
    }
    let Some(set) = k.file_sets.get(role) else {
        return CheckResult::not_applicable(format!("no {what} on this node"));
    };
    let source = set
        .roots
        .iter()
        .map(|r| format!("{} ({})", r.path, r.source))
        .collect::<Vec<_>>()
        .join(", ");
    let mut objects: Vec<ObjectResult> = set
        .paths
        .iter()
        .filter(|p| filter(p))
        .map(|p| judge(k, &ResolvedPath::conventional(p.clone(), source.clone())))
        .collect();
    for (root, reason) in &set.unreadable {
        objects.push(ObjectResult::new("directory", root, Status::Error).note(reason.clone()));
    }
    let empty = if source.is_empty() {
        format!("no {what} on this node")
    } else {
        format!("no {what} found in {source}")
    };
    CheckResult::from_objects(objects, empty)
}

/// A `manual` result: the benchmark leaves the judgement to a person; `evidence` shows what
/// bulkhead could read.
pub(crate) fn manual(message: impl Into<String>, objects: Vec<ObjectResult>) -> CheckResult {
    CheckResult::manual(message).with_objects(
        objects
            .into_iter()
            .map(|o| ObjectResult {
                status: Status::Manual,
                ..o
            })
            .collect(),
    )
}

/// The strong TLS cipher suites: AEAD suites with forward secrecy (ECDHE), and the TLS 1.3 suites.
pub(crate) const STRONG_CIPHERS: &[&str] = &[
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
];

/// Judge a cipher-suite list: every suite must be strong. Unset means Go's default list, which
/// still offers CBC and RSA key-exchange suites.
pub(crate) fn cipher_result(c: &Component, s: &Setting) -> CheckResult {
    let expected = "only ECDHE AEAD suites (GCM, ChaCha20-Poly1305) and TLS 1.3 suites";
    if !is_set(s) {
        return setting_result_with(
            c,
            s,
            Status::Fail,
            expected,
            Some("unset: the Go default list also offers CBC and static-RSA suites".into()),
        );
    }
    let weak: Vec<String> = s
        .items()
        .into_iter()
        .filter(|x| !STRONG_CIPHERS.contains(&x.as_str()))
        .collect();
    if weak.is_empty() {
        setting_result(c, s, true, expected)
    } else {
        setting_result_with(
            c,
            s,
            Status::Fail,
            expected,
            Some(format!("weak: {}", weak.join(", "))),
        )
    }
}
