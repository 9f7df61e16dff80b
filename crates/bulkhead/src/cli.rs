//! The one registry of commands and flags. Help text, the man page and shell completions are all
//! generated from these definitions, so they cannot drift apart.

use crate::output::ColorChoice;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "bulkhead",
    version,
    about = "Audit Docker hosts and Kubernetes nodes against the CIS benchmarks, model threats from the evidence, harden what fails, and prove the fix.",
    long_about = "bulkhead audits a Docker host or Kubernetes node against the CIS benchmarks, builds a STRIDE threat model of the real system from that evidence, plans and applies hardening, and proves the fix by auditing again.\n\nAuditing, scanning and planning are read-only. Only `harden --apply` changes files, and it backs each one up first.",
    after_help = "Examples:\n  bulkhead audit                         audit everything found on this host\n  bulkhead audit docker --ids cis-1.2.0  show CIS Docker 1.2.0 numbering (5.12 read-only rootfs)\n  bulkhead audit docker --format json -o audit.json\n  bulkhead collect -o snap.json && bulkhead audit --snapshot snap.json\n  bulkhead checks explain 5.13\n  bulkhead threats --format html -o threats.html\n  bulkhead harden --select 4.5,5.12,5.25 --ids cis-1.2.0\n\nExit codes: 0 nothing reached --fail-on, 1 something did, 2 usage or tool error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit this host (or a snapshot) against the CIS benchmarks.
    Audit(AuditArgs),
    /// Collect every fact the checks need into a snapshot file, without judging anything.
    // --snapshot comes with the shared source arguments but means nothing to collect.
    #[command(mut_arg("snapshot", |a| a.hide(true)))]
    Collect(CollectCmdArgs),
    /// Browse the control catalog: list checks, explain one.
    Checks(ChecksArgs),
    /// Scan Dockerfiles, compose files, Kubernetes manifests and daemon.json before deployment.
    Scan(crate::cmd::scan::ScanArgs),
    /// Build the STRIDE threat model of the audited system, each threat's status from evidence.
    Threats(crate::cmd::threats::ThreatsArgs),
    /// Write the whole assessment: threat models, benchmark results, analysis and hardening plan.
    Report(crate::cmd::report::ReportArgs),
    /// Plan fixes for failing checks; apply them safely with --apply; undo with --rollback.
    Harden(crate::cmd::harden::HardenArgs),
    /// Audit again and show, for each selected check, the status before and after.
    Verify(crate::cmd::harden::VerifyArgs),
    /// Show recorded runs from the run history, and what changed between runs.
    ///
    /// Lists the runs that `bulkhead audit --store URL` recorded, newest first: run ID, host,
    /// kind, when the facts were collected, score, and how many checks ended in each status.
    ///
    /// With --diff, each host (and kind) is taken on its own: its newest run is compared with the
    /// run before it, check by check, and every check whose status changed is listed ("absent"
    /// where one of the two runs lacks the check). Checks are matched by control, so two runs in
    /// different numberings still compare.
    ///
    /// Reading changes nothing: no file or table is created, and a store that holds no bulkhead
    /// run history (a mistyped database, another application's file) is an error naming it.
    #[command(
        after_help = "Examples:\n  bulkhead audit docker --store sqlite:runs.db   record a run (the first one creates the file)\n  bulkhead history --store sqlite:runs.db        its 20 newest runs\n  bulkhead history --host web-1 --kind docker --limit 5\n  bulkhead history --diff                        what changed since each host's previous run\n  bulkhead history --diff --format json          the same, one object per changed check\n  BULKHEAD_STORE=postgres://reader@db/fleet bulkhead history --diff\n\nExit codes: 0 listed (also when the default history does not exist yet), 2 a store that\ncannot be read or holds no bulkhead run history."
    )]
    History(HistoryArgs),
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    Completions {
        /// The shell to print completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) generated from this help.
    Man,
}

/// Where facts come from: this host (with these roots and endpoints) or a saved snapshot.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Evaluate a snapshot written by `bulkhead collect` instead of reading this host.
    /// Container selection flags narrow the containers the snapshot holds.
    #[arg(long, value_name = "FILE", help_heading = "Source")]
    pub snapshot: Option<PathBuf>,
    /// Read the host's files under DIR (use /host when bulkhead runs in a container with the
    /// host's root mounted there).
    #[arg(long, value_name = "DIR", default_value = "/", help_heading = "Source")]
    pub root: PathBuf,
    /// Read processes from this proc file system.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/proc",
        help_heading = "Source"
    )]
    pub proc: PathBuf,
    /// Docker Engine API endpoint: unix:///path, tcp://host:port (TLS from DOCKER_CERT_PATH and
    /// DOCKER_TLS_VERIFY) or ssh://user@host. Default: DOCKER_HOST, else the docker CLI context
    /// selected by DOCKER_CONTEXT or `docker context use`, else the rootless socket of the
    /// current user, else unix:///var/run/docker.sock.
    // Not `env = "DOCKER_HOST"`: the collector reads DOCKER_HOST itself, so that reports and
    // error messages say where the address came from (--docker-host or DOCKER_HOST).
    #[arg(
        long,
        value_name = "URL",
        help_heading = "Source",
        conflicts_with = "snapshot"
    )]
    pub docker_host: Option<String>,
    /// Also audit created, exited and paused containers (default: running only).
    #[arg(long, help_heading = "Container selection")]
    pub all_containers: bool,
    /// Audit only containers whose name matches REGEX (repeatable).
    #[arg(long, value_name = "REGEX", help_heading = "Container selection")]
    pub include: Vec<String>,
    /// Audit only containers carrying this label (KEY or KEY=VALUE, repeatable).
    #[arg(long, value_name = "LABEL", help_heading = "Container selection")]
    pub label: Vec<String>,
    /// A cluster dump for the Kubernetes policy checks (section 5): the output of
    /// `kubectl get ... -o yaml` (or json), `kind: List` included. See README.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Source",
        conflicts_with = "snapshot"
    )]
    pub cluster_dump: Option<PathBuf>,
}

impl SourceArgs {
    /// With `--snapshot`, `--root` and `--proc` read nothing when the command only evaluates
    /// (harden still patches files under --root and restarts through --proc): an error rather
    /// than silently ignored.
    pub fn refuse_live_paths_with_snapshot(&self) -> Result<(), String> {
        if self.snapshot.is_none() {
            return Ok(());
        }
        for (option, given, default) in
            [("--root", &self.root, "/"), ("--proc", &self.proc, "/proc")]
        {
            if given.as_path() != std::path::Path::new(default) {
                return Err(format!(
                    "{option} {} reads a live host; with --snapshot the facts come from the snapshot, so leave {option} out",
                    given.display()
                ));
            }
        }
        Ok(())
    }

    /// The files these arguments name for reading, each with its option.
    pub fn input_files(&self) -> Vec<(&'static str, &std::path::Path)> {
        let mut files = Vec::new();
        if let Some(p) = &self.snapshot {
            files.push(("--snapshot", p.as_path()));
        }
        if let Some(p) = &self.cluster_dump {
            files.push(("--cluster-dump", p.as_path()));
        }
        files
    }
}

/// How results are shown.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Colour the terminal output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Output")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditTarget {
    /// CIS Docker Benchmark on the Docker engine.
    Docker,
    /// CIS Kubernetes Benchmark on this node (and a cluster dump).
    #[value(alias = "k8s")]
    Kubernetes,
    /// Everything found on this host.
    All,
}

/// One benchmark, where "everything found on this host" means nothing (the catalog, the run
/// history): leaving the option out takes both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Benchmark {
    /// CIS Docker Benchmark.
    Docker,
    /// CIS Kubernetes Benchmark.
    #[value(alias = "k8s")]
    Kubernetes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// docker-bench style terminal report.
    Text,
    /// bulkhead's documented schema (bulkhead.audit/1).
    Json,
    /// docker-bench-security's JSON field names, properly escaped, one stable shape.
    DockerBenchJson,
    /// JUnit XML: one test case per check.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    // From the narrowest gate to the broadest.
    /// Only a check that could not be evaluated (`error`); failures alone exit 0.
    Error,
    /// A check that fails, or could not be evaluated.
    Fail,
    /// Also a check that needs review (`warn`).
    Warn,
    /// Also `info` and `manual` results.
    Info,
    /// Always exit 0.
    Never,
}

#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Check numbering to show and accept: cis-1.6.0 (default for Docker), cis-1.5.0, cis-1.4.0,
    /// cis-1.3.1, cis-1.2.0 (the numbering of older write-ups: 5.12 read-only rootfs), cis-1.12
    /// (Kubernetes). It changes names only: checks an older numbering lacks are still evaluated
    /// and counted, listed last by control ID.
    #[arg(long, value_name = "NUMBERING", help_heading = "Selection")]
    pub ids: Option<String>,
    /// Run only these checks: check IDs in the selected numbering (5.13), sections (5, 1.1) or
    /// control IDs (docker.container.read_only_rootfs). Comma-separated or repeated.
    #[arg(long, value_name = "IDS", help_heading = "Selection")]
    pub only: Vec<String>,
    /// Leave out checks (same forms as --only) or containers. A value of digits and dots (5.13,
    /// 5) or starting with docker. or k8s. must name a check, section or control ID (a typo is
    /// an error); any other value is a container-name REGEX, and such containers are not
    /// audited.
    #[arg(long, value_name = "IDS|REGEX", help_heading = "Selection")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// What to audit; default: everything found on this host.
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Kubernetes targets to check (master, etcd, controlplane, node, policies); default:
    /// detected from the components running on this node.
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub targets: Vec<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = AuditFormat::Text, help_heading = "Output")]
    pub format: AuditFormat,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Which results make the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Fail, help_heading = "Output")]
    pub fail_on: FailOn,
    /// Users trusted to control the Docker daemon (1.1.2); other docker group members fail.
    #[arg(
        long,
        value_name = "USERS",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub trusted_users: Vec<String>,
    /// Text output: also show passing objects under each check.
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
    /// Also record this run in a run history: sqlite:PATH (one host) or postgres://... (a fleet
    /// database every node writes to). See `bulkhead history`.
    #[arg(
        long,
        value_name = "URL",
        env = "BULKHEAD_STORE",
        help_heading = "Output"
    )]
    pub store: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The run history: sqlite:PATH or postgres://... (default: BULKHEAD_STORE, else
    /// $XDG_STATE_HOME/bulkhead/runs.db, else ~/.local/state/bulkhead/runs.db, or
    /// /var/lib/bulkhead/runs.db for root).
    #[arg(long, value_name = "URL", env = "BULKHEAD_STORE")]
    pub store: Option<String>,
    /// Only runs of this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only docker or kubernetes runs (default: both).
    #[arg(long, value_enum)]
    pub kind: Option<Benchmark>,
    /// How many runs to list, newest first (at least 1). --diff reads every run, whatever this
    /// says.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..))]
    pub limit: u32,
    /// For each host and kind, compare the newest run with the one before it: which checks
    /// changed status between those two consecutive runs.
    #[arg(long)]
    pub diff: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Args)]
pub struct CollectCmdArgs {
    /// What to collect; default: everything found on this host.
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Leave out containers whose name matches REGEX (repeatable).
    #[arg(long, value_name = "REGEX", help_heading = "Container selection")]
    pub exclude: Vec<String>,
    /// Write the snapshot to FILE (default: stdout).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ChecksArgs {
    #[command(subcommand)]
    pub command: ChecksCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ChecksCommand {
    /// List every check with its ID, control ID and title.
    List {
        /// Benchmark: docker or kubernetes (default: both).
        #[arg(value_enum)]
        target: Option<Benchmark>,
        /// Numbering to list the checks in: cis-1.6.0 (default for Docker), cis-1.5.0,
        /// cis-1.4.0, cis-1.3.1, cis-1.2.0, cis-1.12 (Kubernetes). Without a TARGET, the other
        /// benchmark is listed in its own default numbering.
        #[arg(long, value_name = "NUMBERING")]
        ids: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Explain one check: what it verifies, why, how bulkhead evaluates it, how to fix it.
    Explain {
        /// A check ID in the selected numbering (5.13) or a control ID.
        id: String,
        /// Numbering the ID is given in: with cis-1.2.0, 5.12 is the read-only root file
        /// system check (5.13 in the default cis-1.6.0); cis-1.12 for Kubernetes. Needed when
        /// an ID exists in both benchmarks (1.2.1).
        #[arg(long, value_name = "NUMBERING")]
        ids: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table for people.
    Text,
    /// JSON for tools.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// `--help` teaches: every option and argument of every command says what it does.
    #[test]
    fn every_argument_has_help() {
        fn undocumented(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            for arg in cmd.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    out.push(format!("{path}: {}", arg.get_id()));
                }
                // Where some values of an argument are explained, all are: help lists them
                // one per line, and an unexplained one stands out as a gap.
                let values = arg.get_possible_values();
                if values.iter().any(|v| v.get_help().is_some()) {
                    for v in values.iter().filter(|v| v.get_help().is_none()) {
                        out.push(format!("{path}: {} value {}", arg.get_id(), v.get_name()));
                    }
                }
            }
            for sub in cmd.get_subcommands() {
                undocumented(sub, &path, out);
            }
        }
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }
}
