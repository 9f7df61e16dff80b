//! `bulkhead harden` and `bulkhead verify`: plan fixes for failing checks (a dry run with diffs by
//! default), apply the file fixes safely with `--apply`, undo with `--rollback`, restart the
//! daemon on request, and prove the result by auditing again.
//!
//! `--scan PATH` (repeatable) adds the fixes of the scanner's findings in those artifacts
//! (Dockerfiles, compose files, Kubernetes manifests, daemon.json); without a target it fixes
//! only the artifacts and never audits the host. They are applied by the same machinery and
//! verified by scanning again.
//!
//! The audit plumbing is the audit command's own (`acquire_snapshot`, `audit::evaluate`), the
//! scan configuration the scan command's (`scan::load_config`); the planning, application and
//! comparison live in bulkhead-harden.

use super::{acquire_snapshot, VERSION};
use crate::cli::{AuditArgs, AuditTarget, SourceArgs};
use bulkhead_checks::Audit;
use bulkhead_facts::Snapshot;
use bulkhead_harden::apply::{self, ApplyOptions};
use bulkhead_harden::request::values;
use bulkhead_harden::scan_fixes::{self, ScanPlan, ScanRequest};
use bulkhead_harden::verify::{self, Baseline, FindingStatus, ScanBaseline};
use bulkhead_harden::{docker_api, render, restart, FixOptions, Plan, PlanRequest};
use clap::{Args, FromArgMatches};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    /// Each selected check before and after, then the threats and scan findings that changed.
    Text,
    /// The bulkhead.verify/1 document.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HardenFormat {
    /// Fixes with unified diffs and commands.
    Text,
    /// The bulkhead.harden/1 document.
    Json,
}

/// Values fixes write where the benchmark leaves the choice to you. Defaults are filled in by
/// [`FixArgs::options`], not by clap, so that `--apply --plan` can tell a value given on the
/// command line from one left out (which takes the plan's).
#[derive(Debug, Clone, Args)]
pub struct FixArgs {
    /// Non-root user to run as (default: 1000:1000).
    ///
    /// USER or USER:GROUP, names or numeric IDs. Written as `docker run --user` where a
    /// container is recreated and as USER in a Dockerfile (4.1).
    #[arg(
        long = "user",
        value_name = "USER[:GROUP]",
        value_parser = values::container_user,
        help_heading = "Fix values"
    )]
    pub container_user: Option<String>,
    /// Memory limit for containers, check 5.11 (default: 512m).
    ///
    /// A whole number with an optional unit b, k, m or g; at least 6m, the smallest limit Docker
    /// accepts.
    #[arg(
        long,
        value_name = "SIZE",
        value_parser = values::memory,
        help_heading = "Fix values"
    )]
    pub memory: Option<String>,
    /// PIDs limit for containers, check 5.29 (default: 100).
    ///
    /// A whole number above 0 (0 and below mean no limit).
    #[arg(
        long,
        value_name = "N",
        value_parser = values::pids_limit,
        allow_negative_numbers = true,
        help_heading = "Fix values"
    )]
    pub pids_limit: Option<i64>,
    /// CPU shares for containers, check 5.12 (default: 512).
    ///
    /// A relative weight from 2 to 262144 (1024 is an unweighted container's).
    #[arg(
        long,
        value_name = "N",
        value_parser = values::cpu_shares,
        allow_negative_numbers = true,
        help_heading = "Fix values"
    )]
    pub cpu_shares: Option<i64>,
    /// Health command, checks 5.27 and 4.6 (default: a port probe).
    ///
    /// Run by a shell in the container; it must exit 0 when the service works. Default: a probe
    /// that the published (or, in a Dockerfile, exposed) TCP port accepts connections; with no
    /// such port the fix is left undone and asks for this option. A plan records the command
    /// masked when it holds a secret: give it again with --apply --plan.
    #[arg(
        long,
        value_name = "CMD",
        value_parser = values::health_cmd,
        help_heading = "Fix values"
    )]
    pub health_cmd: Option<String>,
    /// Remote log collector, check 2.13 (default: none).
    ///
    /// udp://, tcp:// or tcp+tls://HOST[:PORT], such as udp://logs.example:514. Without it the
    /// remote logging fix says to give one.
    #[arg(
        long,
        value_name = "URL",
        value_parser = values::log_address,
        help_heading = "Fix values"
    )]
    pub log_address: Option<String>,
    /// Authorization plugin to enable, check 2.12 (default: none).
    ///
    /// The plugin's name; it must be installed. Without it the authorization fix says to give
    /// one.
    #[arg(
        long,
        value_name = "NAME",
        value_parser = values::authz_plugin,
        help_heading = "Fix values"
    )]
    pub authz_plugin: Option<String>,
    /// userns-remap value, check 2.9 (default: default).
    ///
    /// default (dockerd creates and uses the user dockremap), or USER[:GROUP] other than root.
    #[arg(
        long,
        value_name = "USER",
        value_parser = values::userns_remap,
        help_heading = "Fix values"
    )]
    pub userns_remap: Option<String>,
    /// A Dockerfile to fix for USER and HEALTHCHECK (repeatable).
    ///
    /// For the image checks 4.1 and 4.6. Dockerfiles a compose file builds are found without it.
    #[arg(long, value_name = "PATH", help_heading = "Fix values")]
    pub dockerfile: Vec<String>,
}

impl FixArgs {
    /// The values the fixes write: those given, else the defaults.
    fn options(&self) -> FixOptions {
        let mut o = FixOptions::default();
        if let Some(v) = &self.container_user {
            o.container_user = v.clone();
        }
        if let Some(v) = &self.memory {
            o.memory = v.clone();
        }
        if let Some(v) = self.pids_limit {
            o.pids_limit = v;
        }
        if let Some(v) = self.cpu_shares {
            o.cpu_shares = v;
        }
        if let Some(v) = &self.userns_remap {
            o.userns_remap = v.clone();
        }
        o.health_cmd = self.health_cmd.clone();
        o.log_address = self.log_address.clone();
        o.authz_plugin = self.authz_plugin.clone();
        o
    }
}

/// Artifacts whose scan findings harden fixes.
#[derive(Debug, Clone, Args)]
pub struct ScanFixArgs {
    /// Also fix `bulkhead scan` findings in these paths (repeatable).
    ///
    /// Files or directories, found as `bulkhead scan` finds them (directories recursively,
    /// honouring .gitignore). Without a TARGET only these artifacts are planned and the host is not
    /// audited; with one (`harden docker --scan deploy/`), the host's fixes and the artifacts'
    /// together.
    #[arg(long = "scan", value_name = "PATH", help_heading = "Scan fixes")]
    pub scan_paths: Vec<PathBuf>,
    /// Dockerfile stage that ships, as `bulkhead scan --target`.
    #[arg(
        long = "scan-target",
        value_name = "STAGE",
        help_heading = "Scan fixes"
    )]
    pub scan_target: Option<String>,
    /// Kind of unrecognised files, as `bulkhead scan --kind`.
    #[arg(
        long = "scan-kind",
        value_enum,
        value_name = "KIND",
        help_heading = "Scan fixes"
    )]
    pub scan_kind: Option<crate::cmd::scan::KindArg>,
    /// Scan configuration, as `bulkhead scan --config`.
    ///
    /// Default: ./.bulkhead.toml if present. Suppressions, disabled rules and excludes: a
    /// suppressed finding is not fixed.
    #[arg(long = "scan-config", value_name = "FILE", help_heading = "Scan fixes")]
    pub scan_config: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct HardenArgs {
    /// What to harden (default: all found, or only the --scan paths).
    ///
    /// With --scan and no TARGET only the scanned artifacts are planned.
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Fix only these checks, sections or control IDs.
    ///
    /// Comma-separated or repeated: check IDs in the --ids numbering (4.5,5.12,5.25 with --ids
    /// cis-1.2.0), sections or control IDs; with --scan also scan rule IDs and their aliases
    /// (compose-privileged, DL3002). Explicitly selected warn and manual checks are planned too.
    #[arg(
        long,
        value_name = "IDS",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub select: Vec<String>,
    #[arg(
        long,
        value_name = "NUMBERING",
        help = "Numbering of --select and the plan (default: newest edition)",
        long_help = concat!(
            "Numbering of --select and of the plan.\n\n",
            crate::cli::numberings_help!(),
            " The plan records it for verify."
        ),
        help_heading = "Selection"
    )]
    pub ids: Option<String>,
    /// Fix only the controls that mitigate these threats.
    ///
    /// Comma-separated or repeated threat IDs of `bulkhead threats`, such as DKR-E01 or K8S-I01.
    #[arg(
        long,
        value_name = "ID",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub threat: Vec<String>,
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help = crate::cli::TARGETS_HELP,
        long_help = crate::cli::TARGETS_LONG_HELP,
        help_heading = "Selection"
    )]
    pub targets: Vec<String>,
    #[arg(
        long,
        value_name = "USERS",
        value_delimiter = ',',
        help = crate::cli::TRUSTED_USERS_HELP,
        long_help = crate::cli::TRUSTED_USERS_LONG_HELP,
        help_heading = "Selection"
    )]
    pub trusted_users: Vec<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = HardenFormat::Text, help_heading = "Output")]
    pub format: HardenFormat,
    #[arg(
        short,
        long,
        value_name = "FILE",
        help = crate::cli::OUTPUT_HELP,
        long_help = crate::cli::OUTPUT_LONG_HELP,
        help_heading = "Output"
    )]
    pub output: Option<PathBuf>,
    /// Apply the safe file fixes (default: a dry run).
    ///
    /// Each file is backed up beside it and replaced atomically with its mode and owner; a
    /// journal in --state-dir records how to undo it; a file that changed since it was read is
    /// refused. Commands (docker run, kubectl patch) are printed, never run.
    #[arg(long, help_heading = "Apply")]
    pub apply: bool,
    /// With --apply: also apply the fixes marked review.
    ///
    /// Read what each may break (`may break:` in the plan) first.
    #[arg(long, requires = "apply", help_heading = "Apply")]
    pub include_review: bool,
    /// Undo the last --apply from its journal.
    ///
    /// Reads the newest journal in --state-dir, restores its backups (modes and owners too) and
    /// removes the files it created. Give the same --root and --state-dir as the --apply (its
    /// output names the exact command).
    #[arg(long, conflicts_with_all = ["apply", "verify"], help_heading = "Apply")]
    pub rollback: bool,
    /// Restart or reload dockerd after --apply or --rollback.
    ///
    /// Through systemd's D-Bus API when systemd runs dockerd (a reload when every changed setting
    /// is one dockerd reloads), else by SIGHUP, for reloadable settings only; then waits until
    /// its API answers. A full restart stops the containers unless live restore is on. Without
    /// it, restart dockerd yourself before verifying.
    #[arg(long, help_heading = "Apply")]
    pub restart_daemon: bool,
    /// After --apply: audit again, each check before and after.
    ///
    /// Also the threats whose status changed, as `bulkhead verify` does; exits 1 when a selected
    /// check that failed is not shown fixed (still failing, or not proven yet because the
    /// process that reads the fixed file has not restarted), or one that passed fails now.
    #[arg(long, requires = "apply", help_heading = "Apply")]
    pub verify: bool,
    /// Where journals and the baseline go (default: under --root).
    ///
    /// Default: var/lib/bulkhead/harden under --root (/var/lib/bulkhead/harden). verify reads
    /// the baseline from the same place.
    #[arg(long, value_name = "DIR", help_heading = "Apply")]
    pub state_dir: Option<PathBuf>,
    /// With --apply: apply only this reviewed plan (--format json).
    ///
    /// Refused if any file differs from what that plan read or would write. The plan records
    /// its selection and fix values (--select, --ids, --threat, --targets; --user, --memory,
    /// --pids-limit, --cpu-shares, --health-cmd, --log-address, --authz-plugin, --userns-remap,
    /// --dockerfile): those left out are the plan's, and one given that differs from the plan's
    /// is refused, so nothing is applied that was not reviewed.
    #[arg(long, value_name = "FILE", requires = "apply", help_heading = "Apply")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub fix: FixArgs,
    #[command(flatten)]
    pub scan: Box<ScanFixArgs>,
}

#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// What to audit (default: all found).
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(
        long,
        value_name = "NUMBERING",
        help = "Numbering of the output (default: the one harden used)",
        long_help = concat!(
            "Numbering of the output.\n\n",
            crate::cli::numberings_help!(),
            " Default here: the numbering the harden --apply used. Checks are matched by \
             control ID, so another numbering compares the same checks."
        ),
        help_heading = "Selection"
    )]
    pub ids: Option<String>,
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help = crate::cli::TARGETS_HELP,
        long_help = crate::cli::TARGETS_LONG_HELP,
        help_heading = "Selection"
    )]
    pub targets: Vec<String>,
    #[arg(
        long,
        value_name = "USERS",
        value_delimiter = ',',
        help = crate::cli::TRUSTED_USERS_HELP,
        long_help = crate::cli::TRUSTED_USERS_LONG_HELP,
        help_heading = "Selection"
    )]
    pub trusted_users: Vec<String>,
    /// Where harden kept the baseline (default: under --root).
    ///
    /// Default: var/lib/bulkhead/harden under --root, as harden's --state-dir.
    #[arg(long, value_name = "DIR", help_heading = "Source")]
    pub state_dir: Option<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = VerifyFormat::Text, help_heading = "Output")]
    pub format: VerifyFormat,
    #[arg(
        short,
        long,
        value_name = "FILE",
        help = crate::cli::OUTPUT_HELP,
        long_help = crate::cli::OUTPUT_LONG_HELP,
        help_heading = "Output"
    )]
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

/// The selection a plan was made with, recorded in its JSON (`selection`) so that `--apply --plan
/// FILE` re-plans with it.
fn selection_json(args: &HardenArgs) -> serde_json::Value {
    serde_json::json!({
        "select": args.select.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>(),
        "ids": args.ids,
        "threat": args.threat,
        "targets": args.targets,
    })
}

/// The fix values a plan was made with, recorded in its JSON (`values`) so that `--apply --plan
/// FILE` re-plans with them. A health command is recorded masked: the plan is shown to
/// reviewers and must not carry a secret the command holds.
fn values_json(fix: &FixArgs) -> serde_json::Value {
    let o = fix.options();
    serde_json::json!({
        "user": o.container_user,
        "memory": o.memory,
        "pids_limit": o.pids_limit,
        "cpu_shares": o.cpu_shares,
        "health_cmd": o.health_cmd.as_deref().map(bulkhead_facts::mask::mask_text),
        "log_address": o.log_address,
        "authz_plugin": o.authz_plugin,
        "userns_remap": o.userns_remap,
        "dockerfile": fix.dockerfile,
    })
}

/// With `--apply --plan FILE`: re-plan with the selection and the fix values the reviewed plan
/// records. What is left out on the command line is taken from the plan; what is given must be
/// the plan's.
fn adopt_reviewed(args: &mut HardenArgs) -> Result<(), String> {
    let Some(path) = args.plan.clone().filter(|_| args.apply) else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read the reviewed plan {}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    // Plans written before these were recorded: the command line's are used as given.
    if let Some(recorded) = v.get("selection").filter(|s| s.is_object()) {
        adopt_reviewed_selection(args, &path, recorded)?;
    }
    if let Some(recorded) = v.get("values").filter(|s| s.is_object()) {
        adopt_reviewed_values(&mut args.fix, &path, recorded)?;
    }
    Ok(())
}

/// The selection part of [`adopt_reviewed`].
fn adopt_reviewed_selection(
    args: &mut HardenArgs,
    path: &std::path::Path,
    recorded: &serde_json::Value,
) -> Result<(), String> {
    let list = |key: &str| -> Vec<String> {
        recorded[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let given = selection_json(args);
    let mismatch = |flag: &str, was: String| {
        format!(
            "{}: the plan was made with {}; pass the same selection, or leave {flag} out to use the plan's",
            path.display(),
            if was.is_empty() { format!("no {flag}") } else { format!("{flag} {was}") }
        )
    };
    for (flag, key) in [
        ("--select", "select"),
        ("--threat", "threat"),
        ("--targets", "targets"),
    ] {
        let was = list(key);
        let now: Vec<String> = serde_json::from_value(given[key].clone()).unwrap_or_default();
        if now.is_empty() {
            match key {
                "select" => args.select = was,
                "threat" => args.threat = was,
                _ => args.targets = was,
            }
        } else if now != was {
            return Err(mismatch(flag, was.join(",")));
        }
    }
    let was = recorded["ids"].as_str().map(String::from);
    match (&args.ids, &was) {
        (None, _) => args.ids = was,
        (Some(now), Some(w)) if now == w => {}
        _ => return Err(mismatch("--ids", was.unwrap_or_default())),
    }
    Ok(())
}

/// The fix value part of [`adopt_reviewed`]. A value that differs from the plan's is refused
/// rather than used: the plan's diffs were reviewed with the plan's values, and applying others
/// would write something nobody reviewed (and a value merely warned about is easy to miss).
fn adopt_reviewed_values(
    fix: &mut FixArgs,
    path: &std::path::Path,
    recorded: &serde_json::Value,
) -> Result<(), String> {
    use serde_json::Value;
    let given = values_json(fix);
    let given_keys: Vec<&str> = [
        ("user", fix.container_user.is_some()),
        ("memory", fix.memory.is_some()),
        ("pids_limit", fix.pids_limit.is_some()),
        ("cpu_shares", fix.cpu_shares.is_some()),
        ("health_cmd", fix.health_cmd.is_some()),
        ("log_address", fix.log_address.is_some()),
        ("authz_plugin", fix.authz_plugin.is_some()),
        ("userns_remap", fix.userns_remap.is_some()),
        ("dockerfile", !fix.dockerfile.is_empty()),
    ]
    .into_iter()
    .filter_map(|(key, given)| given.then_some(key))
    .collect();
    let shown = |v: &Value| match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    };
    let text = |v: &Value| v.as_str().map(String::from);
    for (flag, key) in [
        ("--user", "user"),
        ("--memory", "memory"),
        ("--pids-limit", "pids_limit"),
        ("--cpu-shares", "cpu_shares"),
        ("--health-cmd", "health_cmd"),
        ("--log-address", "log_address"),
        ("--authz-plugin", "authz_plugin"),
        ("--userns-remap", "userns_remap"),
        ("--dockerfile", "dockerfile"),
    ] {
        // A plan that does not record this value leaves it to the command line.
        let Some(was) = recorded.get(key) else {
            continue;
        };
        if given_keys.contains(&key) {
            if given[key] != *was {
                return Err(format!(
                    "{}: the plan was made with {}; pass the same value, or leave {flag} out to use the plan's",
                    path.display(),
                    if was.is_null() || was.as_array().is_some_and(|a| a.is_empty()) {
                        format!("no {flag}")
                    } else {
                        format!("{flag} {}", shown(was))
                    }
                ));
            }
            continue;
        }
        let typed = match key {
            "pids_limit" | "cpu_shares" => was.is_i64(),
            "dockerfile" => was
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            "user" | "memory" | "userns_remap" => was.is_string(),
            _ => was.is_string() || was.is_null(),
        };
        if !typed {
            return Err(format!(
                "{}: the plan's {flag} ({was}) is not a value {flag} takes",
                path.display()
            ));
        }
        if text(was).is_some_and(|w| w.contains(bulkhead_facts::mask::MASK)) {
            return Err(format!(
                "{}: the plan records {flag} masked ({}), as it holds a secret; give {flag} with the full command again",
                path.display(),
                shown(was)
            ));
        }
        match key {
            "user" => fix.container_user = text(was),
            "memory" => fix.memory = text(was),
            "pids_limit" => fix.pids_limit = was.as_i64(),
            "cpu_shares" => fix.cpu_shares = was.as_i64(),
            "health_cmd" => fix.health_cmd = text(was),
            "log_address" => fix.log_address = text(was),
            "authz_plugin" => fix.authz_plugin = text(was),
            "userns_remap" => fix.userns_remap = text(was),
            _ => {
                fix.dockerfile = was
                    .as_array()
                    .map(|a| a.iter().filter_map(text).collect())
                    .unwrap_or_default()
            }
        }
    }
    // A plan is a file anyone could have edited: its values pass the same checks as the
    // command line's.
    fix.options()
        .validate()
        .map_err(|e| format!("{}: the plan's fix values: {e}", path.display()))
}

/// `Containers: 3 audited; 1 left out: db-1 (name matches excluded pattern ^db-)`, as report
/// heads its analysis, when the plan leaves containers out (a filter, not running): a container
/// the plan has no fix for is otherwise indistinguishable from one that needs none.
fn left_out_containers(snapshot: &Snapshot) -> Option<String> {
    let scope = bulkhead_report::Target::from_snapshot("docker", snapshot).containers?;
    (!scope.left_out.is_empty()).then(|| {
        let line = format!("Containers: {}.", scope.describe());
        bulkhead_facts::visible::visible(&line).into_owned()
    })
}

/// The plan's text with the container scope under its title line.
fn with_scope(text: String, scope: Option<&str>) -> String {
    let Some(scope) = scope else { return text };
    match text.split_once("\n\n") {
        Some((title, rest)) => format!("{title}\n{scope}\n\n{rest}"),
        None => format!("{text}{scope}\n"),
    }
}

pub fn run(mut args: HardenArgs) -> Result<ExitCode, String> {
    if args.restart_daemon && !args.apply && !args.rollback {
        return Err(
            "--restart-daemon restarts dockerd after --apply or --rollback changed its configuration; a dry run changes nothing, so there is nothing to restart for"
                .into(),
        );
    }
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
            let restarted = restart::restart_docker(
                &snapshot,
                &args.source.proc,
                false,
                Duration::from_secs(120),
            )?;
            text.push_str(&format!("{restarted}\n"));
        }
        let restarts: Vec<_> = r.restarts.iter().collect();
        for line in restart::advice(
            &restarts,
            restart::FilesWere::RolledBack,
            args.restart_daemon,
        ) {
            text.push_str(&line);
            text.push('\n');
        }
        crate::output::emit(&text, args.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    adopt_reviewed(&mut args)?;
    let target = args.target;
    // `--scan` without a target fixes the artifacts only: the host is not audited at all.
    let scan_only = !args.scan.scan_paths.is_empty() && target.is_none();
    if scan_only && args.restart_daemon {
        return Err("--restart-daemon restarts the audited host's dockerd; with --scan alone no host is hardened (name a target: `bulkhead harden docker --scan ...`)".into());
    }
    // Scan rule IDs in --select only select scan findings.
    let (rule_tokens, check_tokens): (Vec<String>, Vec<String>) = args
        .select
        .iter()
        .flat_map(|s| s.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .partition(|t| {
            !args.scan.scan_paths.is_empty() && bulkhead_scan::catalog::lookup(t).is_some()
        });
    let audit_selects_nothing = check_tokens.is_empty() && !rule_tokens.is_empty();
    let aargs = audit_args(
        target,
        &args.source,
        args.ids.clone(),
        &args.targets,
        &args.trusted_users,
    )?;
    let mut host: Option<(Snapshot, Vec<Audit>)> = None;
    let mut plan = if scan_only {
        Plan {
            numbering: numbering_of(args.ids.as_deref())?,
            root: root.display().to_string(),
            ..Plan::default()
        }
    } else {
        let snapshot = acquire_snapshot(&args.source, target.unwrap_or(AuditTarget::All), &[])?;
        if args.apply && args.source.snapshot.is_some() {
            same_host(&snapshot, &root)?;
        }
        let audits = audit(&snapshot, target, &aargs)?;
        let live = args.source.snapshot.is_none();
        let request = PlanRequest {
            select: check_tokens.clone(),
            threats: args.threat.clone(),
            root: Some(root.clone()),
            options: args.fix.options(),
            container_writes: if live {
                docker_api::container_writes(&snapshot, &audits)
            } else {
                BTreeMap::new()
            },
            from_snapshot: !live,
            dockerfiles: args.fix.dockerfile.clone(),
            threat_links: None,
        };
        let mut plan = bulkhead_harden::plan(&snapshot, &audits, &request)?;
        if audit_selects_nothing {
            // Only scan rules were selected: no host check is.
            plan.fixes.clear();
            plan.unfixed.clear();
        }
        host = Some((snapshot, audits));
        plan
    };
    let scanned = if args.scan.scan_paths.is_empty() {
        None
    } else {
        let (mut request, baseline) = scan_request(&args, &plan)?;
        request.daemon = host
            .as_ref()
            .and_then(|(snapshot, _)| running_daemon(snapshot, &root));
        let sp = scan_fixes::plan(&request)?;
        for e in &sp.summary.errors {
            let e = bulkhead_facts::visible::visible(&e.to_string()).into_owned();
            eprintln!("bulkhead: note: --scan: {e}; nothing in it is fixed");
        }
        plan.fixes.extend(sp.fixes.iter().cloned());
        plan.unfixed.extend(sp.unfixed.iter().cloned());
        plan.scan = Some(sp.summary.clone());
        Some((sp, baseline))
    };
    if let Some(reviewed) = &args.plan {
        let text = std::fs::read_to_string(reviewed)
            .map_err(|e| format!("cannot read the reviewed plan {}: {e}", reviewed.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not JSON: {e}", reviewed.display()))?;
        plan = apply::restrict_to_reviewed(&plan, &v)
            .map_err(|e| format!("{}: {e}", reviewed.display()))?;
    }
    let scope = host
        .as_ref()
        .and_then(|(snapshot, _)| left_out_containers(snapshot));
    if !args.apply {
        let text = match args.format {
            HardenFormat::Text => with_scope(render::text(&plan, true), scope.as_deref()),
            HardenFormat::Json => {
                let mut j = render::json_value(&plan, VERSION);
                j["selection"] = selection_json(&args);
                j["values"] = values_json(&args.fix);
                format!("{}\n", serde_json::to_string_pretty(&j).unwrap_or_default())
            }
        };
        crate::output::emit(&text, args.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    // Record what verify compares against, before anything changes.
    let mut baseline = match &host {
        Some((snapshot, audits)) => {
            let selected = selected_controls(&plan, audits, &check_tokens);
            let threats_before =
                bulkhead_harden::threats::statuses(snapshot, audits, &today()).unwrap_or_default();
            let mut b = Baseline::new(audits, selected, threats_before);
            // Only scan rules were selected: there is no host check to audit again.
            b.audited = !audit_selects_nothing;
            b
        }
        None => {
            let mut b = Baseline::new(&[], Vec::new(), BTreeMap::new());
            b.numbering = plan.numbering.clone();
            b.audited = false;
            b
        }
    };
    if let Some((sp, scan_baseline)) = &scanned {
        let (chosen, _) = apply::partition(&plan, &apply_opts);
        baseline.scan = Some(ScanBaseline {
            findings: fixed_findings(sp, &chosen),
            ..scan_baseline.clone()
        });
    }
    // Recorded under the apply lock, only when something is applied: an apply that changes
    // nothing keeps the baseline of the last one that did.
    let report = apply::apply_with(&plan, &apply_opts, || baseline.save(&state).map(|_| ()))
        .map_err(|e| e.to_string())?;
    // Fixes that are commands (recreating a container) change nothing here: the user runs them
    // next, and `bulkhead verify` must then have the audit they were planned from.
    let commands_to_run = report.applied.is_empty()
        && baseline.audited
        && plan.fixes.iter().any(|f| !f.is_file_fix());
    if commands_to_run {
        let _lock = apply::lock(&state, Duration::from_secs(10)).map_err(|e| e.to_string())?;
        baseline.save(&state)?;
    }
    let mut text = String::new();
    let mut json = match args.format {
        HardenFormat::Json => {
            let mut j = render::json_value(&plan, VERSION);
            j["selection"] = selection_json(&args);
            j["values"] = values_json(&args.fix);
            Some(j)
        }
        HardenFormat::Text => {
            text.push_str(&with_scope(render::text(&plan, false), scope.as_deref()));
            None
        }
    };
    text.push_str(&apply_text(&report, &apply_opts));
    if let Some(j) = json.as_mut() {
        j["applied"] = serde_json::json!({
            "fixes": report.applied.iter().map(|(id, files)| serde_json::json!({"id": id, "files": files})).collect::<Vec<_>>(),
            "skipped": report.skipped.iter().map(|(id, why)| serde_json::json!({"id": id, "reason": why})).collect::<Vec<_>>(),
            "backups": report.backups.iter().map(|(p, b)| serde_json::json!({"path": p, "backup": b.display().to_string()})).collect::<Vec<_>>(),
            "journal": report.journal.as_ref().map(|p| p.display().to_string()),
        });
    }
    let restarts = plan
        .fixes
        .iter()
        .filter(|f| report.applied.iter().any(|(id, _)| *id == f.id))
        .filter_map(|f| f.restart.as_ref())
        .collect::<Vec<_>>();
    let docker_restarts: Vec<_> = restarts.iter().filter(|r| r.service == "docker").collect();
    // daemon.json changed after dockerd started (an earlier --apply without --restart-daemon,
    // or an edit by hand): --restart-daemon is how the user asks for it to be loaded, even in a
    // run that applies nothing more. Which settings changed is not known, so a full restart.
    let pending = host
        .as_ref()
        .and_then(|(s, _)| s.docker.as_ref())
        .is_some_and(|d| d.daemon.config_changed_after_start().is_some());
    let mut restart_error = None;
    let mut docker_restarted = false;
    if let (true, true, Some((snapshot, _))) = (
        args.restart_daemon,
        !docker_restarts.is_empty() || pending,
        &host,
    ) {
        let reload = !pending && docker_restarts.iter().all(|r| r.reload_suffices);
        match restart::restart_docker(
            snapshot,
            &args.source.proc,
            reload,
            Duration::from_secs(120),
        ) {
            Ok(r) => {
                docker_restarted = true;
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
    }
    let audited_docker = host.as_ref().is_some_and(|(s, _)| s.docker.is_some());
    if args.restart_daemon && docker_restarts.is_empty() && !pending && audited_docker {
        text.push_str("dockerd was not restarted: nothing it reads changed (no fix of daemon.json was applied, and the file is older than the running dockerd)\n");
    }
    // What still runs on the old files; for dockerd, a failed restart has said what to do.
    let advice = restart::advice(
        &restarts,
        restart::FilesWere::Applied,
        docker_restarted || restart_error.is_some(),
    );
    for line in &advice {
        text.push_str(line);
        text.push('\n');
    }
    if let Some(j) = json.as_mut() {
        if !advice.is_empty() {
            j["restart_needed"] = serde_json::json!(advice);
        }
    }
    let mut code = ExitCode::SUCCESS;
    if args.verify && report.applied.is_empty() {
        // The baseline is recorded only when something is applied, so there is none to compare
        // with (or only an older apply's, which this run did not change): say so, and let the
        // plan and its result stand, rather than fail the whole command over it.
        text.push_str("\nNothing to verify: no fix was applied.\n");
        if commands_to_run {
            text.push_str("Run the commands above, then `bulkhead verify` to audit again.\n");
        }
        if let Some(j) = json.as_mut() {
            j["verification"] = serde_json::Value::Null;
        }
    } else if args.verify && restart_error.is_none() {
        let v = verify_now(&args.source, target, &aargs, &state)?;
        text.push('\n');
        text.push_str(&verify::text(&v));
        if !v.not_fixed().is_empty() || !v.findings_left().is_empty() {
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
        return Err(if report.applied.is_empty() {
            format!("the daemon was not restarted: {e}")
        } else {
            format!("the fixes were applied but the daemon was not restarted: {e}")
        });
    }
    Ok(code)
}

/// `benchmark -> edition` for `--ids` when no audit says it: the named numbering where a
/// benchmark has it, else the benchmark's default.
fn numbering_of(ids: Option<&str>) -> Result<Vec<(String, String)>, String> {
    let catalog = bulkhead_checks::catalog();
    let mut out = Vec::new();
    let mut known = false;
    for b in catalog.benchmarks() {
        let e = match super::edition_for(ids, b) {
            Some(e) => {
                known = true;
                e
            }
            None => b.default_edition().to_string(),
        };
        out.push((b.id.clone(), e));
    }
    match ids {
        Some(ids) if !known => Err(format!(
            "--ids {ids}: unknown numbering (known: {})",
            super::known_numberings().join(", ")
        )),
        _ => Ok(out),
    }
}

/// The audited local dockerd, for the scan fixes of the daemon.json it reads.
fn running_daemon(
    snapshot: &Snapshot,
    root: &std::path::Path,
) -> Option<scan_fixes::RunningDaemon> {
    let docker = snapshot.docker.as_ref()?;
    if !docker.endpoint.local {
        return None;
    }
    let d = &docker.daemon;
    let path = if d.config_path.is_empty() {
        &d.paths.config_file
    } else {
        &d.config_path
    };
    if path.is_empty() {
        return None;
    }
    Some(scan_fixes::RunningDaemon {
        config_file: root.join(path.trim_start_matches('/')),
        flags: d.flags.clone(),
    })
}

/// The scan request of `--scan`, and the part of the verify baseline that says how to scan
/// again.
fn scan_request(args: &HardenArgs, plan: &Plan) -> Result<(ScanRequest, ScanBaseline), String> {
    let config_path = match &args.scan.scan_config {
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from(".bulkhead.toml")).filter(|p| p.is_file()),
    };
    let config = super::scan::load_config(args.scan.scan_config.as_ref())?;
    for p in &args.scan.scan_paths {
        if !p.exists() {
            return Err(format!("--scan {}: no such file or directory", p.display()));
        }
    }
    // The audit's numbering where there is one; --ids (or the default) for the others.
    let mut numbering = numbering_of(args.ids.as_deref()).unwrap_or_default();
    for (b, e) in &plan.numbering {
        match numbering.iter_mut().find(|(x, _)| x == b) {
            Some(slot) => slot.1 = e.clone(),
            None => numbering.push((b.clone(), e.clone())),
        }
    }
    let absolute = |p: &PathBuf| std::path::absolute(p).unwrap_or_else(|_| p.clone());
    let request = ScanRequest {
        paths: args.scan.scan_paths.clone(),
        options: bulkhead_scan::ScanOptions {
            config,
            target: args.scan.scan_target.clone(),
            kind: args.scan.scan_kind.map(Into::into),
            source_root: bulkhead_scan::SourceRoot::of_current_dir(),
            ..bulkhead_scan::ScanOptions::default()
        },
        select: args.select.clone(),
        threats: args.threat.clone(),
        numbering,
        threat_links: None,
        daemon: None,
    };
    let baseline = ScanBaseline {
        inputs: args.scan.scan_paths.iter().map(absolute).collect(),
        target: args.scan.scan_target.clone(),
        kind: args.scan.scan_kind.map(Into::into),
        config: config_path.as_ref().map(absolute),
        findings: Vec::new(),
    };
    Ok((request, baseline))
}

/// The findings the fixes `apply` will write name, as the scan before saw them.
fn fixed_findings(sp: &ScanPlan, chosen: &[&bulkhead_harden::Fix]) -> Vec<FindingStatus> {
    chosen
        .iter()
        .flat_map(|f| f.findings.iter())
        .map(|f| FindingStatus {
            rule: f.rule.clone(),
            title: bulkhead_scan::catalog::rule(&f.rule)
                .map(|r| r.title.clone())
                .unwrap_or_default(),
            path: f.path.clone(),
            real_path: sp
                .real_paths
                .get(&f.path)
                .cloned()
                .unwrap_or_else(|| PathBuf::from(&f.path)),
            line: f.line,
            object: f.object.clone(),
        })
        .collect()
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
    // Scan fixes (they name findings) are verified by scanning again, not by the audit.
    let host_fixes = plan.fixes.iter().filter(|f| f.findings.is_empty());
    let host_unfixed = plan.unfixed.iter().filter(|u| u.rule.is_none());
    for c in host_fixes
        .flat_map(|f| f.controls.iter().cloned())
        .chain(host_unfixed.map(|u| u.control.clone()))
    {
        if !v.contains(&c) {
            v.push(c);
        }
    }
    v
}

fn apply_text(r: &apply::ApplyReport, opts: &apply::ApplyOptions) -> String {
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
            "journal: {} (undo with `{}`)\n",
            j.display(),
            opts.rollback_command()
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
    let mut v = if baseline.audited {
        let snapshot = acquire_snapshot(source, target.unwrap_or(AuditTarget::All), &[])?;
        let audits = audit(&snapshot, target, aargs)?;
        let threats =
            bulkhead_harden::threats::statuses(&snapshot, &audits, &today()).unwrap_or_default();
        verify::compare(&baseline, &audits, &threats)
    } else {
        verify::compare(&baseline, &[], &BTreeMap::new())
    };
    if let Some(scan) = &baseline.scan {
        v.findings = verify::compare_scan(scan, &rescan(scan)?);
    }
    Ok(v)
}

/// Scan the artifacts of a baseline again, as they were scanned before hardening.
fn rescan(scan: &ScanBaseline) -> Result<bulkhead_scan::ScanReport, String> {
    let config = match &scan.config {
        Some(p) => super::scan::load_config(Some(p))?,
        None => bulkhead_scan::Config::default(),
    };
    let opts = bulkhead_scan::ScanOptions {
        config,
        target: scan.target.clone(),
        kind: scan.kind,
        source_root: bulkhead_scan::SourceRoot::of_current_dir(),
        ..bulkhead_scan::ScanOptions::default()
    };
    Ok(bulkhead_scan::scan_paths(&scan.inputs, &opts))
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
        VerifyFormat::Text => verify::text(&v),
        VerifyFormat::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "bulkhead.verify/1",
                "tool": {"name": "bulkhead", "version": VERSION},
                "checks": v.checks,
                "summary": v.summary(),
                "threats": v.threats,
                "findings": v.findings,
            }))
            .unwrap_or_default()
        ),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(
        if v.not_fixed().is_empty() && v.findings_left().is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use bulkhead_testkit::{ContainerSpec, TempDir, TestDockerd};
    use clap::Parser;
    use serde_json::json;

    fn harden_args(argv: &[&str]) -> HardenArgs {
        let mut full = vec!["bulkhead", "harden"];
        full.extend(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Command::Harden(a) => a,
            _ => unreachable!(),
        }
    }

    fn bulkhead(argv: &[&str]) -> Result<ExitCode, String> {
        let mut full = vec!["bulkhead"];
        full.extend(argv);
        crate::cmd::run(Cli::try_parse_from(full).map_err(|e| e.to_string())?)
    }

    /// The reviewed plan carries its fix values: `--apply --plan FILE` without `--user` and
    /// `--memory` writes the plan's values (not the defaults) into the compose file, and a value
    /// that differs from the plan's is refused naming the plan's, changing nothing.
    #[test]
    fn a_reviewed_plan_is_applied_with_its_own_fix_values() {
        let Some(d) = TestDockerd::shared() else {
            return;
        };
        d.ensure_image();
        let name = "bh-unit-plan-values";
        let _ = d.docker_cli(&["rm", "-f", name]);
        let root = TempDir::new("harden-plan-values");
        let root_s = root.path().to_str().unwrap();
        let compose = "services:\n  app:\n    command: [\"sleep\", \"3600\"]\n";
        let compose_path = root.path().join("srv/values/compose.yaml");
        std::fs::create_dir_all(compose_path.parent().unwrap()).unwrap();
        std::fs::write(&compose_path, compose).unwrap();
        let mut spec = ContainerSpec::new().cmd(&["sleep", "3600"]);
        for (k, v) in [
            ("com.docker.compose.project", "values"),
            ("com.docker.compose.service", "app"),
            ("com.docker.compose.project.working_dir", "/srv/values"),
            (
                "com.docker.compose.project.config_files",
                "/srv/values/compose.yaml",
            ),
        ] {
            spec = spec.label(k, v);
        }
        d.run(name, &spec);
        let snap = root.path().join("snap.json");
        let snap_s = snap.to_str().unwrap();
        let host = d.docker_host();
        let include = format!("^{name}$");
        bulkhead(&[
            "collect",
            "docker",
            "--docker-host",
            &host,
            "--root",
            root_s,
            "--include",
            &include,
            "-o",
            snap_s,
        ])
        .unwrap();
        let state = root.path().join("state");
        let out = root.path().join("out.txt");
        let plan_file = root.path().join("plan.json");
        let harden = |extra: &[&str]| {
            let mut argv = vec![
                "harden",
                "docker",
                "--snapshot",
                snap_s,
                "--root",
                root_s,
                "--state-dir",
                state.to_str().unwrap(),
            ];
            argv.extend(extra);
            bulkhead(&argv)
        };
        harden(&[
            "--select",
            "4.1,5.11",
            "--user",
            "2000:2000",
            "--memory",
            "256m",
            "-f",
            "json",
            "-o",
            plan_file.to_str().unwrap(),
        ])
        .unwrap();
        let plan: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
        assert_eq!(plan["values"]["user"], "2000:2000", "{}", plan["values"]);
        assert_eq!(plan["values"]["memory"], "256m", "{}", plan["values"]);
        assert_eq!(
            plan["values"]["pids_limit"], 100,
            "defaults are recorded too"
        );
        assert!(
            plan["fixes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["kind"] == "compose"),
            "{plan}"
        );
        let apply = |extra: &[&str]| {
            let mut argv = extra.to_vec();
            argv.extend([
                "--apply",
                "--include-review",
                "--plan",
                plan_file.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ]);
            harden(&argv)
        };
        // A value other than the reviewed one is refused, naming the plan's.
        let e = apply(&["--user", "3000:3000"]).unwrap_err();
        assert!(e.contains("the plan was made with --user 2000:2000"), "{e}");
        assert_eq!(std::fs::read_to_string(&compose_path).unwrap(), compose);
        // Without the values: the plan's own, applied.
        apply(&[]).unwrap();
        let applied = std::fs::read_to_string(&compose_path).unwrap();
        assert!(applied.contains("user: \"2000:2000\""), "{applied}");
        assert!(applied.contains("mem_limit: 256m"), "{applied}");
        let _ = d.docker_cli(&["rm", "-f", name]);
    }

    /// A health command holding a secret is recorded masked: the plan cannot supply it, so it
    /// must be given again, and then its masked form must be the plan's.
    #[test]
    fn a_masked_health_command_must_be_given_again() {
        let path = std::path::Path::new("plan.json");
        let secret = "curl -fsS -u admin:hunter2 http://localhost/";
        let recorded = values_json(&harden_args(&["--health-cmd", secret]).fix);
        assert!(
            !recorded.to_string().contains("hunter2"),
            "the plan holds no secret: {recorded}"
        );
        let mut fix = harden_args(&[]).fix;
        let e = adopt_reviewed_values(&mut fix, path, &recorded).unwrap_err();
        assert!(e.contains("records --health-cmd masked"), "{e}");
        let mut fix = harden_args(&["--health-cmd", secret]).fix;
        adopt_reviewed_values(&mut fix, path, &recorded).unwrap();
        assert_eq!(fix.health_cmd.as_deref(), Some(secret));
        // Values the plan does not record (an older plan) are left to the command line.
        let mut fix = harden_args(&["--user", "4000"]).fix;
        adopt_reviewed_values(&mut fix, path, &json!({"memory": "1g"})).unwrap();
        assert_eq!(fix.options().container_user, "4000");
        assert_eq!(fix.options().memory, "1g");
    }
}
