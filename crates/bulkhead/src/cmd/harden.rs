//! `bulkhead harden` and `bulkhead verify`: plan fixes for failing checks (a dry run with diffs by
//! default), apply the file fixes safely with `--apply`, undo with `--rollback`, restart the
//! daemon on request, and prove the result by auditing again.
//!
//! The audit plumbing is the audit command's own (`acquire_snapshot`, `audit::evaluate`); the
//! planning, application and comparison live in bulkhead-harden.

use super::{acquire_snapshot, VERSION};
use crate::cli::{AuditArgs, AuditTarget, SourceArgs};
use bulkhead_checks::Audit;
use bulkhead_facts::Snapshot;
use bulkhead_harden::apply::{self, ApplyOptions};
use bulkhead_harden::verify::{self, Baseline};
use bulkhead_harden::{docker_api, render, restart, FixOptions, Plan, PlanRequest};
use clap::{Args, FromArgMatches};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HardenFormat {
    /// Fixes with unified diffs and commands.
    Text,
    /// The bulkhead.harden/1 document.
    Json,
}

/// Values fixes write where the benchmark leaves the choice to you.
#[derive(Debug, Clone, Args)]
pub struct FixArgs {
    /// User for containers (--user) and Dockerfiles (USER).
    #[arg(
        long = "user",
        value_name = "UID:GID",
        default_value = "1000:1000",
        help_heading = "Fix values"
    )]
    pub container_user: String,
    /// Memory limit for containers (5.11).
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "512m",
        help_heading = "Fix values"
    )]
    pub memory: String,
    /// PIDs limit for containers (5.29).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 100,
        help_heading = "Fix values"
    )]
    pub pids_limit: i64,
    /// CPU shares for containers (5.12).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 512,
        help_heading = "Fix values"
    )]
    pub cpu_shares: i64,
    /// Health command for containers and Dockerfiles (5.27, 4.6), run by a shell in the container.
    #[arg(long, value_name = "CMD", help_heading = "Fix values")]
    pub health_cmd: Option<String>,
    /// Remote log collector for daemon.json (2.13), e.g. udp://logs.example:514.
    #[arg(long, value_name = "URL", help_heading = "Fix values")]
    pub log_address: Option<String>,
    /// Authorization plugin to enable in daemon.json (2.12); it must be installed.
    #[arg(long, value_name = "NAME", help_heading = "Fix values")]
    pub authz_plugin: Option<String>,
    /// userns-remap value for daemon.json (2.9).
    #[arg(
        long,
        value_name = "USER",
        default_value = "default",
        help_heading = "Fix values"
    )]
    pub userns_remap: String,
    /// A Dockerfile to fix for the image checks (USER, HEALTHCHECK); repeatable.
    #[arg(long, value_name = "PATH", help_heading = "Fix values")]
    pub dockerfile: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct HardenArgs {
    /// What to harden; default: everything found on this host.
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Fix only these checks: IDs in the numbering of --ids (4.5,5.12,5.25 with --ids
    /// cis-1.2.0), sections, or control IDs. Explicitly selected warn and manual checks are
    /// planned too.
    #[arg(
        long,
        value_name = "IDS",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub select: Vec<String>,
    /// Numbering of --select and of the output: cis-1.6.0 (default), cis-1.2.0, ...
    #[arg(long, value_name = "NUMBERING", help_heading = "Selection")]
    pub ids: Option<String>,
    /// Fix only the controls that mitigate this threat (DKR-E01, K8S-I01, ...).
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub threat: Vec<String>,
    /// Kubernetes targets (master, etcd, controlplane, node, policies).
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub targets: Vec<String>,
    /// Users trusted to control the Docker daemon (1.1.2).
    #[arg(
        long,
        value_name = "USERS",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub trusted_users: Vec<String>,
    #[arg(short, long, value_enum, default_value_t = HardenFormat::Text, help_heading = "Output")]
    pub format: HardenFormat,
    /// Write to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Apply the file fixes: back up each file beside it, write atomically, keep a journal.
    /// Without it nothing is changed (dry run).
    #[arg(long, help_heading = "Apply")]
    pub apply: bool,
    /// With --apply: also apply fixes marked `review` (read what they may break first).
    #[arg(long, requires = "apply", help_heading = "Apply")]
    pub include_review: bool,
    /// Undo the last --apply: restore the backups, remove files it created, restore modes.
    #[arg(long, conflicts_with_all = ["apply", "verify"], help_heading = "Apply")]
    pub rollback: bool,
    /// After --apply or --rollback: restart (or reload) dockerd so it loads daemon.json, and wait
    /// until its API answers. Through systemd's D-Bus API when systemd runs it, else by SIGHUP
    /// for settings dockerd reloads.
    #[arg(long, help_heading = "Apply")]
    pub restart_daemon: bool,
    /// After --apply: audit again and show each selected check before and after, and the
    /// threats whose status changed.
    #[arg(long, requires = "apply", help_heading = "Apply")]
    pub verify: bool,
    /// Where journals and the verify baseline are kept (default: ROOT/var/lib/bulkhead/harden).
    #[arg(long, value_name = "DIR", help_heading = "Apply")]
    pub state_dir: Option<PathBuf>,
    /// With --apply: apply only the fixes of this reviewed plan (`--format json -o FILE` of a dry
    /// run), refusing if any file differs from what that plan read or would write.
    #[arg(long, value_name = "FILE", requires = "apply", help_heading = "Apply")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub fix: FixArgs,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// What to audit; default: everything found on this host.
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Numbering of the output (default: the one harden used).
    #[arg(long, value_name = "NUMBERING")]
    pub ids: Option<String>,
    /// Kubernetes targets (master, etcd, controlplane, node, policies).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub targets: Vec<String>,
    /// Users trusted to control the Docker daemon (1.1.2).
    #[arg(long, value_name = "USERS", value_delimiter = ',')]
    pub trusted_users: Vec<String>,
    /// Where harden kept the baseline (default: ROOT/var/lib/bulkhead/harden).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    #[arg(short, long, value_enum, default_value_t = HardenFormat::Text)]
    pub format: HardenFormat,
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The audit command's arguments with every default, then the fields harden sets: the audit is
/// evaluated exactly as `bulkhead audit` would.
fn audit_args(
    target: Option<AuditTarget>,
    source: &SourceArgs,
    ids: Option<String>,
    targets: &[String],
    trusted_users: &[String],
) -> Result<AuditArgs, String> {
    let cmd = AuditArgs::augment_args(clap::Command::new("audit"));
    let matches = cmd
        .try_get_matches_from(["audit"])
        .map_err(|e| format!("internal: default audit arguments: {e}"))?;
    let mut a = AuditArgs::from_arg_matches(&matches)
        .map_err(|e| format!("internal: default audit arguments: {e}"))?;
    a.target = target;
    a.source = source.clone();
    a.select.ids = ids;
    a.targets = targets.to_vec();
    a.trusted_users = trusted_users.to_vec();
    Ok(a)
}

fn audit(
    snapshot: &Snapshot,
    target: Option<AuditTarget>,
    args: &AuditArgs,
) -> Result<Vec<Audit>, String> {
    Ok(super::audit::evaluate(
        snapshot,
        target.unwrap_or(AuditTarget::All),
        args,
        Vec::new(),
    )?
    .into_iter()
    .map(|(a, _)| a)
    .collect())
}

fn state_dir(explicit: &Option<PathBuf>, root: &std::path::Path) -> PathBuf {
    explicit
        .clone()
        .unwrap_or_else(|| ApplyOptions::new(root).state_dir())
}

fn today() -> String {
    // The threat model judges acceptances by date; hardening uses none, any date works.
    "1970-01-01".into()
}

/// Paths each container that must become read-only wrote, read from the Engine API.
fn container_writes(
    snapshot: &Snapshot,
    audits: &[Audit],
) -> BTreeMap<String, Vec<bulkhead_harden::ChangedPath>> {
    let mut out = BTreeMap::new();
    let Some(docker) = snapshot.docker.as_ref() else {
        return out;
    };
    let Some(socket) = docker_api::socket_of(&docker.endpoint.host) else {
        return out;
    };
    let ids: Vec<String> = audits
        .iter()
        .flat_map(|a| &a.outcomes)
        .filter(|o| o.control.id == "docker.container.read_only_rootfs")
        .flat_map(|o| &o.result.objects)
        .filter(|o| o.status == bulkhead_checks::Status::Fail)
        .filter_map(|o| o.id.clone())
        .collect();
    for c in docker.containers.value().into_iter().flatten() {
        if ids.iter().any(|id| c.inspect.id.starts_with(id)) {
            if let Ok(changes) =
                docker_api::container_changes(std::path::Path::new(socket), &c.inspect.id)
            {
                out.insert(c.inspect.id.clone(), changes);
            }
        }
    }
    out
}

pub fn run(args: HardenArgs) -> Result<ExitCode, String> {
    let root = args.source.root.clone();
    let state = state_dir(&args.state_dir, &root);
    let apply_opts = ApplyOptions {
        root: root.clone(),
        include_review: args.include_review,
        state_dir: Some(state.clone()),
    };
    if args.rollback {
        let r = apply::rollback(&apply_opts).map_err(|e| e.to_string())?;
        let mut text = format!("Rolled back {}\n", r.journal.display());
        for p in &r.restored {
            text.push_str(&format!("  restored {p}\n"));
        }
        for p in &r.removed {
            text.push_str(&format!("  removed {p} (created by harden)\n"));
        }
        for p in &r.unchanged {
            text.push_str(&format!("  {p} was already in its original state\n"));
        }
        if args.restart_daemon {
            let snapshot = acquire_snapshot(&args.source, AuditTarget::Docker, &[])?;
            let r = restart::restart_docker(
                &snapshot,
                &args.source.proc,
                false,
                Duration::from_secs(120),
            )?;
            text.push_str(&format!("{r}\n"));
        }
        crate::output::emit(&text, args.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    let target = args.target;
    let aargs = audit_args(
        target,
        &args.source,
        args.ids.clone(),
        &args.targets,
        &args.trusted_users,
    )?;
    let snapshot = acquire_snapshot(&args.source, target.unwrap_or(AuditTarget::All), &[])?;
    if args.apply && args.source.snapshot.is_some() {
        same_host(&snapshot, &root)?;
    }
    let audits = audit(&snapshot, target, &aargs)?;
    let live = args.source.snapshot.is_none();
    let request = PlanRequest {
        select: args.select.clone(),
        threats: args.threat.clone(),
        root: Some(root.clone()),
        options: FixOptions {
            container_user: args.fix.container_user.clone(),
            pids_limit: args.fix.pids_limit,
            memory: args.fix.memory.clone(),
            cpu_shares: args.fix.cpu_shares,
            health_cmd: args.fix.health_cmd.clone(),
            log_address: args.fix.log_address.clone(),
            authz_plugin: args.fix.authz_plugin.clone(),
            userns_remap: args.fix.userns_remap.clone(),
            ..FixOptions::default()
        },
        container_writes: if live {
            container_writes(&snapshot, &audits)
        } else {
            BTreeMap::new()
        },
        dockerfiles: args.fix.dockerfile.clone(),
        threat_links: None,
    };
    let mut plan = bulkhead_harden::plan(&snapshot, &audits, &request)?;
    if let Some(reviewed) = &args.plan {
        let text = std::fs::read_to_string(reviewed)
            .map_err(|e| format!("cannot read the reviewed plan {}: {e}", reviewed.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", reviewed.display()))?;
        plan = apply::restrict_to_reviewed(&plan, &v)
            .map_err(|e| format!("{}: {e}", reviewed.display()))?;
    }
    if !args.apply {
        let text = match args.format {
            HardenFormat::Text => render::text(&plan, true),
            HardenFormat::Json => render::json(&plan, VERSION),
        };
        crate::output::emit(&text, args.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    // Record what verify compares against, before anything changes.
    let selected = selected_controls(&plan, &audits, &args.select);
    let threats_before =
        bulkhead_harden::threats::statuses(&snapshot, &audits, &today()).unwrap_or_default();
    Baseline::new(&audits, selected, threats_before).save(&state)?;
    let report = apply::apply(&plan, &apply_opts).map_err(|e| e.to_string())?;
    let mut text = String::new();
    let mut json = match args.format {
        HardenFormat::Json => Some(render::json_value(&plan, VERSION)),
        HardenFormat::Text => {
            text.push_str(&render::text(&plan, false));
            None
        }
    };
    text.push_str(&apply_text(&report));
    if let Some(j) = json.as_mut() {
        j["applied"] = serde_json::json!({
            "fixes": report.applied.iter().map(|(id, files)| serde_json::json!({"id": id, "files": files})).collect::<Vec<_>>(),
            "skipped": report.skipped.iter().map(|(id, why)| serde_json::json!({"id": id, "reason": why})).collect::<Vec<_>>(),
            "backups": report.backups.iter().map(|(p, b)| serde_json::json!({"path": p, "backup": b.display().to_string()})).collect::<Vec<_>>(),
            "journal": report.journal.as_ref().map(|p| p.display().to_string()),
        });
    }
    let needs_restart = plan
        .fixes
        .iter()
        .filter(|f| report.applied.iter().any(|(id, _)| *id == f.id))
        .filter_map(|f| f.restart.as_ref())
        .filter(|r| r.service == "docker")
        .collect::<Vec<_>>();
    let mut restart_error = None;
    if args.restart_daemon && !needs_restart.is_empty() {
        let reload = needs_restart.iter().all(|r| r.reload_suffices);
        match restart::restart_docker(
            &snapshot,
            &args.source.proc,
            reload,
            Duration::from_secs(120),
        ) {
            Ok(r) => {
                text.push_str(&format!("{r}\n"));
                if let Some(j) = json.as_mut() {
                    j["restart"] = serde_json::json!(r.to_string());
                }
            }
            Err(e) => {
                text.push_str(&format!("the daemon was not restarted: {e}\n"));
                if let Some(j) = json.as_mut() {
                    j["restart_error"] = serde_json::json!(e);
                }
                restart_error = Some(e);
            }
        }
    } else if !needs_restart.is_empty() {
        text.push_str("dockerd must restart to load daemon.json: run again with --restart-daemon, or restart it yourself, then `bulkhead verify`.\n");
    }
    let mut code = ExitCode::SUCCESS;
    if args.verify && restart_error.is_none() {
        let v = verify_now(&args.source, target, &aargs, &state)?;
        text.push('\n');
        text.push_str(&verify::text(&v));
        if !v.still_failing().is_empty() {
            code = ExitCode::from(1);
        }
        if let Some(j) = json.as_mut() {
            j["verification"] = serde_json::to_value(&v).unwrap_or_default();
        }
    }
    let out = match json {
        Some(j) => format!("{}\n", serde_json::to_string_pretty(&j).unwrap_or_default()),
        None => text,
    };
    crate::output::emit(&out, args.output.as_deref())?;
    // The files were changed (and the journal says how to undo it); the restart was not done.
    if let Some(e) = restart_error {
        return Err(format!(
            "the fixes were applied but the daemon was not restarted: {e}"
        ));
    }
    Ok(code)
}

/// A saved snapshot may only drive `--apply` on the host it was collected on.
fn same_host(snapshot: &Snapshot, root: &std::path::Path) -> Result<(), String> {
    // As the collector reads it: the root's /etc/hostname, else the kernel's.
    let here = std::fs::read_to_string(root.join("etc/hostname"))
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_default();
    match snapshot.host.hostname.value() {
        Some(h) if !here.is_empty() && *h == here => Ok(()),
        Some(h) => Err(format!(
            "the snapshot was collected on {h:?}, not on this host ({here:?}): apply its fixes on that host, or plan from a fresh audit here"
        )),
        None => Err("the snapshot does not say which host it was collected on: plan from a fresh audit to apply".into()),
    }
}

/// Control IDs of the checks the user selected (by --select or --threat), fixed or not.
fn selected_controls(plan: &Plan, audits: &[Audit], select: &[String]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    if !select.is_empty() {
        let selection = bulkhead_checks::Selection::new(select.to_vec(), Vec::new());
        for a in audits {
            for o in &a.outcomes {
                if selection.includes(o.control, a.benchmark, &a.edition)
                    && !v.contains(&o.control.id)
                {
                    v.push(o.control.id.clone());
                }
            }
        }
    }
    for c in plan
        .fixed_controls()
        .into_iter()
        .chain(plan.unfixed.iter().map(|u| u.control.clone()))
    {
        if !v.contains(&c) {
            v.push(c);
        }
    }
    v
}

fn apply_text(r: &apply::ApplyReport) -> String {
    let mut s = String::new();
    if r.applied.is_empty() {
        s.push_str("Nothing was applied.\n");
    }
    for (id, files) in &r.applied {
        s.push_str(&format!("applied {id}: {}\n", files.join(", ")));
    }
    for (path, b) in &r.backups {
        s.push_str(&format!("  backup of {path}: {}\n", b.display()));
    }
    for (id, why) in &r.skipped {
        s.push_str(&format!("not applied {id}: {why}\n"));
    }
    if let Some(j) = &r.journal {
        s.push_str(&format!(
            "journal: {} (undo with `bulkhead harden --rollback`)\n",
            j.display()
        ));
    }
    s
}

fn verify_now(
    source: &SourceArgs,
    target: Option<AuditTarget>,
    aargs: &AuditArgs,
    state: &std::path::Path,
) -> Result<verify::Verification, String> {
    let baseline = Baseline::load(state)?;
    let snapshot = acquire_snapshot(source, target.unwrap_or(AuditTarget::All), &[])?;
    let audits = audit(&snapshot, target, aargs)?;
    let threats =
        bulkhead_harden::threats::statuses(&snapshot, &audits, &today()).unwrap_or_default();
    Ok(verify::compare(&baseline, &audits, &threats))
}

pub fn run_verify(args: VerifyArgs) -> Result<ExitCode, String> {
    let state = state_dir(&args.state_dir, &args.source.root);
    let baseline = Baseline::load(&state)?;
    let ids = args.ids.clone().or_else(|| {
        baseline
            .numbering
            .iter()
            .find(|(b, _)| b == "cis-docker")
            .or_else(|| baseline.numbering.first())
            .map(|(_, e)| format!("cis-{e}"))
    });
    let aargs = audit_args(
        args.target,
        &args.source,
        ids,
        &args.targets,
        &args.trusted_users,
    )?;
    let v = verify_now(&args.source, args.target, &aargs, &state)?;
    let text = match args.format {
        HardenFormat::Text => verify::text(&v),
        HardenFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "bulkhead.verify/1",
                "tool": {"name": "bulkhead", "version": VERSION},
                "checks": v.checks,
                "threats": v.threats,
            }))
            .unwrap_or_default()
        ),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(if v.still_failing().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
