//! File permissions and ownership: control-plane files (1.1) and worker-node files (4.1).
//!
//! Paths come from the running configuration (kubelet `--kubeconfig`, `--config` and the
//! `*.conf` drop-ins of its `--config-dir`, staticPodPath,
//! the components' `--kubeconfig`, or the clientConnection.kubeconfig of the `--config` file that
//! replaces it for kube-proxy and kube-scheduler, etcd's data directory) and fall back to the
//! platform's conventional layout; the collector records which. The kubelet's service files
//! include the environment files its unit names. Modes are bitmasks, owners uid and gid.

use super::{
    file_mode_check, file_owner_check, file_set_check, guard, mode_object, owner_object, roll_one,
    Owner,
};
use crate::engine::Context;
use crate::model::{CheckResult, ObjectResult, Status};
use crate::registry::Evaluator;
use bulkhead_facts::kube::{KubeFacts, KubeletKey, ResolvedPath, ETCD, PROXY, SCHEDULER};

pub const EVALUATORS: &[(&str, Evaluator)] = &[
    ("k8s.files.apiserver_manifest_mode", apiserver_manifest_mode),
    (
        "k8s.files.apiserver_manifest_owner",
        apiserver_manifest_owner,
    ),
    (
        "k8s.files.controller_manager_manifest_mode",
        controller_manager_manifest_mode,
    ),
    (
        "k8s.files.controller_manager_manifest_owner",
        controller_manager_manifest_owner,
    ),
    ("k8s.files.scheduler_manifest_mode", scheduler_manifest_mode),
    (
        "k8s.files.scheduler_manifest_owner",
        scheduler_manifest_owner,
    ),
    ("k8s.files.etcd_manifest_mode", etcd_manifest_mode),
    ("k8s.files.etcd_manifest_owner", etcd_manifest_owner),
    ("k8s.files.cni_config_mode", cni_config_mode),
    ("k8s.files.cni_config_owner", cni_config_owner),
    ("k8s.files.etcd_data_dir_mode", etcd_data_dir_mode),
    ("k8s.files.etcd_data_dir_owner", etcd_data_dir_owner),
    ("k8s.files.admin_conf_mode", admin_conf_mode),
    ("k8s.files.admin_conf_owner", admin_conf_owner),
    ("k8s.files.scheduler_conf_mode", scheduler_conf_mode),
    ("k8s.files.scheduler_conf_owner", scheduler_conf_owner),
    (
        "k8s.files.controller_manager_conf_mode",
        controller_manager_conf_mode,
    ),
    (
        "k8s.files.controller_manager_conf_owner",
        controller_manager_conf_owner,
    ),
    ("k8s.files.pki_owner", pki_owner),
    ("k8s.files.pki_cert_mode", pki_cert_mode),
    ("k8s.files.pki_key_mode", pki_key_mode),
    ("k8s.files.kubelet_service_mode", kubelet_service_mode),
    ("k8s.files.kubelet_service_owner", kubelet_service_owner),
    ("k8s.files.proxy_kubeconfig_mode", proxy_kubeconfig_mode),
    ("k8s.files.proxy_kubeconfig_owner", proxy_kubeconfig_owner),
    ("k8s.files.kubelet_kubeconfig_mode", kubelet_kubeconfig_mode),
    (
        "k8s.files.kubelet_kubeconfig_owner",
        kubelet_kubeconfig_owner,
    ),
    ("k8s.files.kubelet_client_ca_mode", kubelet_client_ca_mode),
    ("k8s.files.kubelet_client_ca_owner", kubelet_client_ca_owner),
    ("k8s.files.kubelet_config_mode", kubelet_config_mode),
    ("k8s.files.kubelet_config_owner", kubelet_config_owner),
];

/// 1.1.1
fn apiserver_manifest_mode(ctx: &Context<'_>) -> CheckResult {
    manifest_check(
        ctx,
        "apiserver_manifest",
        "kube-apiserver static pod manifest",
        |_, p| mode_object(ctx, p, 0o600),
    )
}
/// 1.1.2
fn apiserver_manifest_owner(ctx: &Context<'_>) -> CheckResult {
    manifest_check(
        ctx,
        "apiserver_manifest",
        "kube-apiserver static pod manifest",
        |k, p| owner_object(ctx, k, p, Owner::Root),
    )
}
/// 1.1.3
fn controller_manager_manifest_mode(ctx: &Context<'_>) -> CheckResult {
    manifest_check(
        ctx,
        "controller_manager_manifest",
        "kube-controller-manager static pod manifest",
        |_, p| mode_object(ctx, p, 0o600),
    )
}
/// 1.1.4
fn controller_manager_manifest_owner(ctx: &Context<'_>) -> CheckResult {
    manifest_check(
        ctx,
        "controller_manager_manifest",
        "kube-controller-manager static pod manifest",
        |k, p| owner_object(ctx, k, p, Owner::Root),
    )
}
/// 1.1.5
fn scheduler_manifest_mode(ctx: &Context<'_>) -> CheckResult {
    manifest_check(
        ctx,
        "scheduler_manifest",
        "kube-scheduler static pod manifest",
        |_, p| mode_object(ctx, p, 0o600),
    )
}
/// 1.1.6
fn scheduler_manifest_owner(ctx: &Context<'_>) -> CheckResult {
    manifest_check(
        ctx,
        "scheduler_manifest",
        "kube-scheduler static pod manifest",
        |k, p| owner_object(ctx, k, p, Owner::Root),
    )
}
/// 1.1.7
fn etcd_manifest_mode(ctx: &Context<'_>) -> CheckResult {
    manifest_check(ctx, "etcd_manifest", "etcd static pod manifest", |_, p| {
        mode_object(ctx, p, 0o600)
    })
}
/// 1.1.8
fn etcd_manifest_owner(ctx: &Context<'_>) -> CheckResult {
    manifest_check(ctx, "etcd_manifest", "etcd static pod manifest", |k, p| {
        owner_object(ctx, k, p, Owner::Root)
    })
}

/// Where the static pod manifests are, as far as bulkhead knows.
enum StaticPodDir {
    /// The kubelet names the directory (staticPodPath or --pod-manifest-path).
    Named,
    /// The layout's default is judged in its place, for the reason given.
    Assumed(&'static str),
    /// The kubelet runs, but a configuration file that could name the directory could not be
    /// used: why.
    Unknown(String),
}

fn static_pod_dir(k: &KubeFacts) -> StaticPodDir {
    match k.kubelet_setting(&KubeletKey::STATIC_POD_PATH) {
        Some(Ok(s)) if !s.value.is_empty() => StaticPodDir::Named,
        Some(Ok(_)) => StaticPodDir::Assumed(
            "the kubelet names no static pod directory (no staticPodPath or --pod-manifest-path)",
        ),
        Some(Err(why)) => StaticPodDir::Unknown(why),
        None => {
            StaticPodDir::Assumed("no kubelet runs on this node to name its static pod directory")
        }
    }
}

/// 1.1.1 to 1.1.8 judge the manifests in the kubelet's static pod directory. Where the kubelet
/// names none, the layout's default is judged and every verdict says the path is assumed. Where
/// the kubelet's configuration that would name it cannot be used, the kubelet may run its
/// control plane from anywhere: an error, not a verdict on the default.
fn manifest_check(
    ctx: &Context<'_>,
    role: &str,
    what: &str,
    judge: impl Fn(&KubeFacts, &ResolvedPath) -> ObjectResult,
) -> CheckResult {
    let k = match guard(ctx, "master") {
        Ok(k) => k,
        Err(r) => return r,
    };
    if let Some(r) = super::path_unknown(k, role) {
        return r;
    }
    let Some(p) = k.path(role) else {
        return CheckResult::not_applicable(format!("no {what} on this node"));
    };
    let assumed = match static_pod_dir(k) {
        StaticPodDir::Named => None,
        StaticPodDir::Assumed(why) => Some(why),
        StaticPodDir::Unknown(why) => {
            let why = format!(
                "the kubelet's static pod directory is unknown, so {} is only a guess at where \
                 the {what} is: {why}",
                p.path
            );
            return CheckResult::error(why.clone())
                .with_object(ObjectResult::new("file", &p.path, Status::Error).note(why));
        }
    };
    // A directory under a manifest's name is no manifest: the kubelet skips subdirectories of
    // its static pod directory, so no pod is read from it, and its mode or owner says nothing
    // about the file the benchmark means.
    let is_dir = ctx
        .snapshot
        .host
        .file(&p.path)
        .and_then(|f| f.stat())
        .is_some_and(|s| s.kind == bulkhead_facts::host::FileKind::Directory);
    if is_dir {
        let why = format!(
            "{} is a directory, not a {what} file: the kubelet reads no pod from a subdirectory \
             of its static pod directory; remove it or put the manifest file there",
            p.path
        );
        return CheckResult::error(why.clone())
            .with_object(ObjectResult::new("file", &p.path, Status::Error).note(why));
    }
    let mut obj = judge(k, p);
    if let (Some(why), Status::Pass | Status::Fail) = (assumed, obj.status) {
        let assumption = format!("path assumed, as {why}");
        obj.note = Some(match obj.note.take() {
            Some(n) => format!("{assumption}; {n}"),
            None => assumption,
        });
    }
    roll_one(obj, p)
}

/// 1.1.9 (manual in the benchmark; the modes are readable, so bulkhead judges them)
fn cni_config_mode(ctx: &Context<'_>) -> CheckResult {
    file_set_check(
        ctx,
        "master",
        "cni",
        "CNI configuration file",
        |p| is_not_dir(ctx, p),
        |_, p| mode_object(ctx, p, 0o600),
    )
}
/// 1.1.10
fn cni_config_owner(ctx: &Context<'_>) -> CheckResult {
    file_set_check(
        ctx,
        "master",
        "cni",
        "CNI configuration file",
        |_| true,
        |k, p| owner_object(ctx, k, p, Owner::Root),
    )
}
/// The data directory belongs to the master group in the benchmark, but it exists where etcd
/// runs: on a dedicated etcd node (external etcd topology) the etcd target applies.
fn etcd_data_target(ctx: &Context<'_>) -> &'static str {
    match super::kube(ctx) {
        Ok(k) if k.target_selected("etcd") => "etcd",
        _ => "master",
    }
}
/// Why etcd's data directory cannot be known, as the error result of 1.1.11 and 1.1.12: etcd
/// runs with a configuration file that could not be used, and etcd takes `data-dir` (and the
/// `name` its default derives from) from that file alone. None when the directory is known, or
/// when the check does not apply (left to the file check's own guard).
fn etcd_data_dir_unknown(ctx: &Context<'_>, target: &str) -> Option<CheckResult> {
    let k = guard(ctx, target).ok()?;
    let c = k.component(ETCD)?;
    let why = c.try_setting("data-dir").err()?;
    let why = format!("the etcd data directory is unknown, so no directory is judged: {why}");
    Some(
        CheckResult::error(why.clone())
            .with_object(ObjectResult::new("process", c.label(), Status::Error).note(why)),
    )
}
/// 1.1.11
fn etcd_data_dir_mode(ctx: &Context<'_>) -> CheckResult {
    let target = etcd_data_target(ctx);
    if let Some(r) = etcd_data_dir_unknown(ctx, target) {
        return r;
    }
    file_mode_check(ctx, target, "etcd_data_dir", 0o700, "etcd data directory")
}
/// 1.1.12
fn etcd_data_dir_owner(ctx: &Context<'_>) -> CheckResult {
    let target = etcd_data_target(ctx);
    if let Some(r) = etcd_data_dir_unknown(ctx, target) {
        return r;
    }
    file_owner_check(
        ctx,
        target,
        "etcd_data_dir",
        Owner::Etcd,
        "etcd data directory",
    )
}
/// 1.1.13: admin.conf and super-admin.conf, each where present.
fn admin_conf_mode(ctx: &Context<'_>) -> CheckResult {
    admin_files(ctx, |k, p| {
        let _ = k;
        mode_object(ctx, p, 0o600)
    })
}
/// 1.1.14
fn admin_conf_owner(ctx: &Context<'_>) -> CheckResult {
    admin_files(ctx, |k, p| owner_object(ctx, k, p, Owner::Root))
}

fn admin_files(
    ctx: &Context<'_>,
    judge: impl Fn(&KubeFacts, &bulkhead_facts::kube::ResolvedPath) -> crate::model::ObjectResult,
) -> CheckResult {
    let k = match guard(ctx, "master") {
        Ok(k) => k,
        Err(r) => return r,
    };
    let judged: Vec<(&ResolvedPath, ObjectResult)> = ["admin_conf", "super_admin_conf"]
        .iter()
        .filter_map(|role| k.path(role))
        .map(|p| (p, judge(k, p)))
        .collect();
    // Neither file kept on the node (removed once the cluster was set up): say so, rather than
    // only counting files that are not there.
    let absent: Vec<String> = judged
        .iter()
        .filter(|(_, o)| o.status == Status::NotApplicable)
        .map(|(p, _)| format!("{} ({})", p.path, p.source))
        .collect();
    let all_absent = !judged.is_empty() && absent.len() == judged.len();
    let objects = judged.into_iter().map(|(_, o)| o).collect();
    let mut r = CheckResult::from_objects(objects, "no administrator kubeconfig on this node");
    if all_absent {
        r.message = Some(format!(
            "no administrator kubeconfig is kept on this node: {} do not exist",
            absent.join(", ")
        ));
    }
    r
}
/// 1.1.15: the kubeconfig the scheduler connects with. Started with `--config`, the scheduler
/// ignores its `--kubeconfig` flag and uses the file's clientConnection.kubeconfig.
fn scheduler_conf_mode(ctx: &Context<'_>) -> CheckResult {
    scheduler_conf(ctx, |_, p| mode_object(ctx, p, 0o600))
}
/// 1.1.16
fn scheduler_conf_owner(ctx: &Context<'_>) -> CheckResult {
    scheduler_conf(ctx, |k, p| owner_object(ctx, k, p, Owner::Root))
}

fn scheduler_conf(
    ctx: &Context<'_>,
    judge: impl Fn(&KubeFacts, &ResolvedPath) -> ObjectResult,
) -> CheckResult {
    let k = match guard(ctx, "master") {
        Ok(k) => k,
        Err(r) => return r,
    };
    let config = k.component(SCHEDULER).and_then(|c| {
        let cfg = c.config.as_ref()?;
        let ignored = c
            .setting("kubeconfig")
            .filter(|s| !s.value.is_empty())
            .map(|s| {
                format!(
                    "--kubeconfig={} on the command line is ignored: kube-scheduler started with --config ({}) connects with the file's clientConnection.kubeconfig",
                    s.value, cfg.path
                )
            });
        Some((c, cfg, ignored))
    });
    if let Some(r) = super::path_unknown(k, "scheduler_kubeconfig") {
        return r;
    }
    let Some(p) = k.path("scheduler_kubeconfig") else {
        return match config {
            Some((c, cfg, _)) => match &cfg.content {
                bulkhead_facts::Fact::Unavailable(why) => {
                    let why = format!(
                        "the scheduler's kubeconfig is unknown: it is named by {} (--config), which could not be used: {why}",
                        cfg.path
                    );
                    CheckResult::error(why.clone()).with_object(
                        ObjectResult::new("process", c.label(), Status::Error).note(why),
                    )
                }
                bulkhead_facts::Fact::Value(_) => CheckResult::not_applicable(format!(
                    "{} names no clientConnection.kubeconfig: kube-scheduler uses in-cluster credentials",
                    cfg.path
                )),
            },
            None => CheckResult::not_applicable("no kube-scheduler kubeconfig on this node"),
        };
    };
    let mut o = judge(k, p);
    if let Some((_, _, Some(n))) = config {
        o.note = Some(match o.note.take() {
            Some(earlier) => format!("{earlier}; {n}"),
            None => n,
        });
    }
    roll_one(o, p)
}
/// 1.1.17
fn controller_manager_conf_mode(ctx: &Context<'_>) -> CheckResult {
    file_mode_check(
        ctx,
        "master",
        "controller_manager_kubeconfig",
        0o600,
        "kube-controller-manager kubeconfig",
    )
}
/// 1.1.18
fn controller_manager_conf_owner(ctx: &Context<'_>) -> CheckResult {
    file_owner_check(
        ctx,
        "master",
        "controller_manager_kubeconfig",
        Owner::Root,
        "kube-controller-manager kubeconfig",
    )
}
/// 1.1.19: the PKI directory and everything in it.
fn pki_owner(ctx: &Context<'_>) -> CheckResult {
    file_set_check(
        ctx,
        "master",
        "pki",
        "Kubernetes PKI directory",
        |_| true,
        |k, p| owner_object(ctx, k, p, Owner::Root),
    )
}
/// 1.1.20
fn pki_cert_mode(ctx: &Context<'_>) -> CheckResult {
    file_set_check(
        ctx,
        "master",
        "pki",
        "PKI certificate",
        |p| p.ends_with(".crt") && is_not_dir(ctx, p),
        |_, p| mode_object(ctx, p, 0o644),
    )
}
/// 1.1.21
fn pki_key_mode(ctx: &Context<'_>) -> CheckResult {
    file_set_check(
        ctx,
        "master",
        "pki",
        "PKI key",
        |p| p.ends_with(".key") && is_not_dir(ctx, p),
        |_, p| mode_object(ctx, p, 0o600),
    )
}
/// 4.1.1: every kubelet unit file and drop-in found, and the environment files they name
/// (`EnvironmentFile=`): systemd expands their variables into the kubelet's command line, so
/// they hold its flags as much as the unit does.
fn kubelet_service_mode(ctx: &Context<'_>) -> CheckResult {
    let r = file_set_check(
        ctx,
        "node",
        "kubelet_service",
        "kubelet service file",
        |p| is_not_dir(ctx, p),
        |_, p| mode_object(ctx, p, 0o600),
    );
    name_environment_files(ctx, r)
}
/// 4.1.2
fn kubelet_service_owner(ctx: &Context<'_>) -> CheckResult {
    let r = file_set_check(
        ctx,
        "node",
        "kubelet_service",
        "kubelet service file",
        |p| is_not_dir(ctx, p),
        |k, p| owner_object(ctx, k, p, Owner::Root),
    );
    name_environment_files(ctx, r)
}

/// Say of each environment file among the kubelet's service files which unit names it.
fn name_environment_files(ctx: &Context<'_>, mut r: CheckResult) -> CheckResult {
    let Some(set) = super::kube(ctx)
        .ok()
        .and_then(|k| k.file_sets.get("kubelet_service"))
    else {
        return r;
    };
    for o in r.objects.iter_mut() {
        let Some(named_by) = set
            .roots
            .iter()
            .find(|root| root.path == o.name && root.source.starts_with("EnvironmentFile="))
        else {
            continue;
        };
        let what = format!(
            "environment file of the kubelet's service ({}): its variables become kubelet flags",
            named_by.source
        );
        o.note = Some(match o.note.take() {
            Some(earlier) => format!("{earlier}; {what}"),
            None => what,
        });
    }
    r
}
/// 4.1.3: only when kube-proxy runs and its kubeconfig exists (Cilium and others replace it).
fn proxy_kubeconfig_mode(ctx: &Context<'_>) -> CheckResult {
    proxy_file(ctx, |_, p| mode_object(ctx, p, 0o600))
}
/// 4.1.4
fn proxy_kubeconfig_owner(ctx: &Context<'_>) -> CheckResult {
    proxy_file(ctx, |k, p| owner_object(ctx, k, p, Owner::Root))
}

fn proxy_file(
    ctx: &Context<'_>,
    judge: impl Fn(&KubeFacts, &bulkhead_facts::kube::ResolvedPath) -> crate::model::ObjectResult,
) -> CheckResult {
    let k = match guard(ctx, "node") {
        Ok(k) => k,
        Err(r) => return r,
    };
    if k.component(PROXY).is_none() {
        return CheckResult::not_applicable(
            "kube-proxy does not run on this node (an optional component: a CNI such as Cilium may replace it)",
        );
    }
    let c = k.component(PROXY).expect("checked above");
    if let Some(r) = super::path_unknown(k, "proxy_kubeconfig") {
        return r;
    }
    // Started with --config, kube-proxy connects with the file's clientConnection.kubeconfig
    // and ignores its --kubeconfig flag.
    let ignored_flag = k.proxy_config.as_ref().and_then(|cfg| {
        let flag = c.setting("kubeconfig").filter(|s| !s.value.is_empty())?;
        Some(format!(
            "--kubeconfig={} on the command line is ignored: kube-proxy started with --config ({}) connects with the file's clientConnection.kubeconfig",
            flag.value, cfg.path
        ))
    });
    match k.path("proxy_kubeconfig") {
        Some(p) => {
            if let Some(r) = super::k3s_path_unknown(k, PROXY, p) {
                return r;
            }
            let mut o = judge(k, p);
            if let Some(n) = ignored_flag {
                o.note = Some(match o.note.take() {
                    Some(earlier) => format!("{earlier}; {n}"),
                    None => n,
                });
            }
            CheckResult::from_objects(vec![o], "")
        }
        None => match k.proxy_config.as_ref().map(|cfg| (cfg, &cfg.content)) {
            Some((cfg, bulkhead_facts::Fact::Unavailable(why))) => {
                let why = format!(
                    "kube-proxy's kubeconfig is unknown: it is named by {} (--config), which could not be used: {why}",
                    cfg.path
                );
                CheckResult::error(why.clone())
                    .with_object(ObjectResult::new("process", c.label(), Status::Error).note(why))
            }
            Some((cfg, _)) => CheckResult::not_applicable(match ignored_flag {
                Some(n) => format!(
                    "{} names no clientConnection.kubeconfig, so kube-proxy uses in-cluster credentials; {n}",
                    cfg.path
                ),
                None => format!(
                    "{} names no clientConnection.kubeconfig: kube-proxy uses in-cluster credentials",
                    cfg.path
                ),
            }),
            None => CheckResult::not_applicable(
                "kube-proxy runs without a kubeconfig file on this node (in-cluster credentials)",
            ),
        },
    }
}
/// 4.1.5
fn kubelet_kubeconfig_mode(ctx: &Context<'_>) -> CheckResult {
    file_mode_check(
        ctx,
        "node",
        "kubelet_kubeconfig",
        0o600,
        "kubelet kubeconfig",
    )
}
/// 4.1.6
fn kubelet_kubeconfig_owner(ctx: &Context<'_>) -> CheckResult {
    file_owner_check(
        ctx,
        "node",
        "kubelet_kubeconfig",
        Owner::Root,
        "kubelet kubeconfig",
    )
}
/// Which client CA file the kubelet uses, when no flag names it and a configuration file that
/// could cannot be read: the conventional path is then no evidence.
fn kubelet_client_ca_unknown(ctx: &Context<'_>) -> Option<CheckResult> {
    let k = guard(ctx, "node").ok()?;
    let why = k.kubelet_setting(&KubeletKey::CLIENT_CA_FILE)?.err()?;
    Some(CheckResult::error(format!(
        "the kubelet's client CA file is unknown: {why}"
    )))
}
/// 4.1.7
fn kubelet_client_ca_mode(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = kubelet_client_ca_unknown(ctx) {
        return r;
    }
    file_mode_check(
        ctx,
        "node",
        "kubelet_client_ca",
        0o644,
        "kubelet client CA file",
    )
}
/// 4.1.8
fn kubelet_client_ca_owner(ctx: &Context<'_>) -> CheckResult {
    if let Some(r) = kubelet_client_ca_unknown(ctx) {
        return r;
    }
    file_owner_check(
        ctx,
        "node",
        "kubelet_client_ca",
        Owner::Root,
        "kubelet client CA file",
    )
}
/// 4.1.9
fn kubelet_config_mode(ctx: &Context<'_>) -> CheckResult {
    kubelet_config_files(ctx, |_, p| mode_object(ctx, p, 0o600))
}
/// 4.1.10
fn kubelet_config_owner(ctx: &Context<'_>) -> CheckResult {
    kubelet_config_files(ctx, |k, p| owner_object(ctx, k, p, Owner::Root))
}

/// Judge the kubelet's configuration files: its `--config` file and, when it runs with
/// `--config-dir`, every `*.conf` drop-in it merges over that file (each one object). A drop-in
/// directory that could not be listed is an error: the files the kubelet read are unknown.
/// Without `--config-dir` the verdict is the `--config` file's alone, as it always was.
fn kubelet_config_files(
    ctx: &Context<'_>,
    judge: impl Fn(&KubeFacts, &ResolvedPath) -> ObjectResult,
) -> CheckResult {
    let k = match guard(ctx, "node") {
        Ok(k) => k,
        Err(r) => return r,
    };
    let config = k.path("kubelet_config");
    let dir_cfg = k
        .kubelet
        .as_ref()
        .and_then(|cfg| cfg.drop_in_dir.as_deref().map(|d| (d, cfg)));
    let Some((dir, cfg)) = dir_cfg else {
        return match config {
            Some(p) => roll_one(judge(k, p), p),
            None => {
                CheckResult::not_applicable("no kubelet configuration file (--config) on this node")
            }
        };
    };
    let mut judged: Vec<(ObjectResult, ResolvedPath)> = config
        .map(|p| (judge(k, p), p.clone()))
        .into_iter()
        .collect();
    for f in &cfg.drop_ins {
        let p = ResolvedPath::configured(
            f.path.clone(),
            format!("drop-in of kubelet --config-dir {dir}"),
        );
        judged.push((judge(k, &p), p));
    }
    if let Some(why) = &cfg.drop_in_dir_error {
        let p = ResolvedPath::configured(dir, "kubelet --config-dir");
        let o = ObjectResult::new("directory", dir, Status::Error).note(why.clone());
        judged.push((o, p));
    }
    match judged.len() {
        0 => CheckResult::not_applicable(format!(
            "no kubelet configuration file on this node: no --config, and --config-dir {dir} holds no *.conf drop-in"
        )),
        1 => {
            let (o, p) = judged.pop().expect("one object");
            roll_one(o, &p)
        }
        _ => {
            let objects: Vec<ObjectResult> = judged.iter().map(|(o, _)| o.clone()).collect();
            let mut r = CheckResult::from_objects(objects, "");
            // Name the files that decide the verdict, so a drop-in is not hidden behind a count.
            let deciding: Vec<String> = judged
                .iter()
                .filter(|(o, _)| o.status == r.status && o.status != Status::Pass)
                .map(|(o, p)| roll_one(o.clone(), p).message.unwrap_or_default())
                .collect();
            let read = match config {
                Some(p) => format!("{} and the *.conf drop-ins of {dir}", p.path),
                None => format!("the *.conf drop-ins of {dir}"),
            };
            let counted = r.message.take().unwrap_or_default();
            r.message = Some(if deciding.is_empty() {
                format!("{counted}: {read}")
            } else {
                format!("{counted} ({read}): {}", deciding.join("; "))
            });
            r
        }
    }
}

/// File sets list directories too; mode checks judge the files in them.
fn is_not_dir(ctx: &Context<'_>, p: &str) -> bool {
    !matches!(
        ctx.snapshot
            .host
            .file(p)
            .and_then(|f| f.stat())
            .map(|s| s.kind),
        Some(bulkhead_facts::host::FileKind::Directory)
    )
}
