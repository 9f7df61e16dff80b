//! The one registry of commands and flags. Help text, the man page and shell completions are all
//! generated from these definitions, so they cannot drift apart.
//!
//! How the help is written (the tests at the end of this file hold it to this):
//! - an option's first doc paragraph is its `-h` line, one short sentence; values, defaults and
//!   interplay follow in later paragraphs, which only `--help` shows;
//! - a command's first doc paragraph is its summary; the rest says what it reads and writes;
//! - every command's `--help` ends with "Examples:" (2 to 4 examples, each a `#` comment line
//!   followed by command lines that parse) and "Exit codes:", in `after_long_help` so that `-h`
//!   stays short;
//! - text laid out by hand keeps to 80 columns (72 at the top level, which is also the man
//!   page): clap re-wraps a longer line to the terminal's width, and an example broken in two
//!   no longer runs when pasted;
//! - an option several commands share reads the same in each (the constants below).

use crate::output::ColorChoice;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

// ---------------------------------------------------------------------------------------------
// Help shared by options of several commands. One text per meaning, so that an option never
// reads differently from one command to the next.

/// What a numbering is and which exist, in the long help of every `--ids`.
macro_rules! numberings_help {
    () => {
        "A numbering is the check numbers of one CIS edition. It renames checks, never changes \
         them: the read-only root file system check is 5.13 in cis-1.6.0 and 5.12 in \
         cis-1.2.0. Docker: cis-1.6.0 (the default), cis-1.5.0, cis-1.4.0, cis-1.3.1, \
         cis-1.2.0. Kubernetes: cis-1.12 (the default and only one). `bulkhead checks list \
         docker --ids cis-1.2.0` shows one."
    };
}
pub(crate) use numberings_help;

pub(crate) const OUTPUT_HELP: &str = "Write to FILE instead of standard output";
pub(crate) const OUTPUT_LONG_HELP: &str = "Write to FILE instead of standard output.\n\n\
    The file is replaced atomically (written beside it, then renamed) with its permissions kept, \
    so a reader never sees half of it; a device such as /dev/stdout is written in place.";

pub(crate) const TRUSTED_USERS_HELP: &str =
    "Users trusted to control the Docker daemon (check 1.1.2)";
pub(crate) const TRUSTED_USERS_LONG_HELP: &str =
    "Users trusted to control the Docker daemon (check 1.1.2).\n\n\
    Comma-separated or repeated user names. Members of the daemon's socket group (docker) who \
    are listed pass, others fail. Without this option every member is a warn, to be confirmed \
    by a person.";

pub(crate) const TARGETS_HELP: &str = "Kubernetes node groups to check (default: detected)";
pub(crate) const TARGETS_LONG_HELP: &str = "Kubernetes node groups to check.\n\n\
    Comma-separated: master (section 1: API server, controller manager, scheduler), etcd \
    (section 2), controlplane (section 3), node (section 4: kubelet, kube-proxy), policies \
    (section 5, read from --cluster-dump). Default: the groups whose components run on this \
    node (found by executable name), and policies when a cluster dump is given.";

// ---------------------------------------------------------------------------------------------
// Long help of each command: what `--help` adds after the options. Lines of at most 80 columns.

// Also the man page's EXTRA section, which man indents by 7 columns and re-fills: lines of at
// most 72 columns come out as written on an 80-column terminal.
const TOP_HELP: &str = "\
Terms:
  check        one CIS recommendation as bulkhead evaluates it; it
               ends as pass, fail, warn, info, manual, not_applicable
               or error
  numbering    the check numbers of one CIS edition (--ids): the
               read-only root file system check is 5.13 in cis-1.6.0,
               the default, and 5.12 in cis-1.2.0; numbers in this
               help are cis-1.6.0's
  control ID   a check's name in every edition, such as
               docker.container.read_only_rootfs; `bulkhead checks
               list` shows them all
  TARGET       what to audit: docker, kubernetes or all (default: all
               found); --targets narrows Kubernetes to node groups
  snapshot     a JSON file of the facts `bulkhead collect` read, with
               no verdicts; --snapshot evaluates it anywhere (see
               docs/snapshot.md)
  cluster dump `kubectl get ... -o yaml` output, read by the Kubernetes
               policy checks (section 5); the command to make one is
               in `bulkhead audit --help`

`bulkhead checks explain ID` says what a check verifies, why, and how
to fix it.

Examples:
  # Audit everything found on this host (as root, to read every file)
  bulkhead audit
  # Collect the facts once, audit them anywhere
  bulkhead collect -o snap.json && bulkhead audit --snapshot snap.json
  # The STRIDE threat model as one HTML page
  bulkhead threats --format html -o threats.html
  # Plan (dry run) the fixes of three checks, CIS Docker 1.2.0 numbers
  bulkhead harden --select 4.5,5.12,5.25 --ids cis-1.2.0

Exit codes:
  0  success (audit and scan: no result reached --fail-on)
  1  audit or scan: a result reached --fail-on; verify and
     harden --verify: a check that failed is not shown fixed (still
     failing, or not proven until a component restarts), or one newly
     fails
  2  usage or tool error; the message says what failed and what to do";

const AUDIT_HELP: &str = "\
Cluster dump: the policy checks (section 5) read the cluster's objects, as
kubectl prints them for anyone allowed to read these kinds (no Secrets):
  K=namespaces,nodes,pods,deployments,statefulsets,daemonsets,replicasets
  K=$K,jobs,cronjobs,serviceaccounts,roles,rolebindings,clusterroles
  K=$K,clusterrolebindings,networkpolicies,validatingwebhookconfigurations
  K=$K,mutatingwebhookconfigurations,validatingadmissionpolicies
  K=$K,validatingadmissionpolicybindings
  kubectl get \"$K\" --all-namespaces -o yaml > cluster-dump.yaml

Examples:
  # Everything found on this host
  bulkhead audit
  # Three checks of the Docker engine, numbered as in CIS Docker 1.2.0
  bulkhead audit docker --ids cis-1.2.0 --only 4.5,5.12,5.25
  # This Kubernetes node and the cluster's policies
  bulkhead audit kubernetes --cluster-dump cluster-dump.yaml
  # A snapshot from `bulkhead collect`, as JSON; exit 1 on a warn too
  bulkhead audit --snapshot snap.json --format json -o audit.json --fail-on warn

Exit codes:
  0  no result reached --fail-on (by default: no check failed or errored)
  1  a result reached --fail-on
  2  usage or tool error: nothing found to audit, a daemon that does not
     answer, an unreadable snapshot or cluster dump, an unknown check ID";

const COLLECT_HELP: &str = "\
Examples:
  # Every fact of this host, then the audit, here or on another machine
  bulkhead collect -o snap.json
  bulkhead audit --snapshot snap.json
  # The Docker engine only, stopped containers included
  bulkhead collect docker --all-containers -o docker.json
  # A Kubernetes node and the cluster's policies (dump: `bulkhead audit --help`)
  bulkhead collect kubernetes --cluster-dump cluster-dump.yaml -o node.json

Exit codes:
  0  the snapshot was written (even one in which nothing was found)
  2  usage or tool error: a daemon that does not answer, an unreadable
     cluster dump, an output that cannot be written";

const CHECKS_HELP: &str = "\
Examples:
  # Every Docker check, numbered as in CIS Docker 1.2.0
  bulkhead checks list docker --ids cis-1.2.0
  # What 5.13 verifies, why, and how to fix it
  bulkhead checks explain 5.13

Exit codes:
  0  listed or explained
  2  an unknown or ambiguous check ID, an unknown numbering";

const CHECKS_LIST_HELP: &str = "\
Examples:
  # Both benchmarks, each in its default numbering
  bulkhead checks list
  # The Docker checks as CIS Docker 1.2.0 numbers them
  bulkhead checks list docker --ids cis-1.2.0
  # The Kubernetes checks as JSON, with STRIDE categories and other numbers
  bulkhead checks list kubernetes --format json

Exit codes:
  0  listed
  2  an unknown numbering, or one the TARGET's benchmark does not have";

const CHECKS_EXPLAIN_HELP: &str = "\
Examples:
  # The read-only root file system check, by its cis-1.6.0 number
  bulkhead checks explain 5.13
  # The same check by its CIS Docker 1.2.0 number, or by its control ID
  bulkhead checks explain 5.12 --ids cis-1.2.0
  bulkhead checks explain docker.container.read_only_rootfs
  # 1.2.1 is a check in both benchmarks: --ids picks the Kubernetes one
  bulkhead checks explain 1.2.1 --ids cis-1.12

Exit codes:
  0  explained
  2  no such check, an ID of both benchmarks without --ids, an unknown
     numbering";

const SCAN_HELP: &str = "\
Suppressions (docs/scan.md): `# bulkhead:ignore RULE reason` in a comment above
the line (in YAML also at its end), `# bulkhead:ignore-file RULE reason`, the
annotation `ignore.bulkhead.dev/RULE: reason` on a Kubernetes object or its pod
template, [[scan.ignore]] entries (rule, paths, object, reason, expires) in the
config file, or a baseline. Only real comments count, never text in a value.

Examples:
  # The current directory, honouring .gitignore
  bulkhead scan
  # Judge the `runtime` stage as the image that ships
  bulkhead scan Dockerfile --target runtime
  # What runs in the cluster now, from standard input
  kubectl get deploy -A -o yaml | bulkhead scan - --kind kubernetes
  # Accept today's findings, then report only new ones as SARIF
  bulkhead scan --write-baseline base.json
  bulkhead scan --baseline base.json --format sarif -o bulkhead.sarif

Exit codes:
  0  no finding reached --fail-on and every file was scanned
     (with --write-baseline: the baseline was written)
  1  a finding reached --fail-on, or a file could not be scanned
  2  usage or tool error: a path that does not exist, `-` without --kind,
     an unreadable config or baseline";

const THREATS_HELP: &str = "\
Examples:
  # Each threat's status and the evidence behind it, on the terminal
  bulkhead threats --format text
  # One self-contained page with the data-flow diagram, from a snapshot
  bulkhead threats --snapshot snap.json --format html -o threats.html
  # Findings in a Dockerfile and manifests count as evidence too
  bulkhead threats --scan Dockerfile --scan k8s/ --format markdown
  # Accepted risks, judged as of a date
  bulkhead threats --accept accept.yaml --as-of 2026-06-30

Exit codes:
  0  the model was written, whatever the threats' statuses
  2  usage or tool error: nothing found to model, an unreadable or invalid
     --snapshot, --scan, --accept or --model file";

const REPORT_HELP: &str = "\
Examples:
  # The whole assessment as one HTML page
  bulkhead report --format html -o report.html
  # Analyse three chosen findings, numbered as in CIS Docker 1.2.0
  bulkhead report --select 4.5,5.12,5.25 --ids cis-1.2.0 -o report.md
  # From a snapshot, analysing the five riskiest failures
  bulkhead report --snapshot snap.json --top 5
  # Leave the database containers out (they are listed as left out)
  bulkhead report --exclude-container '^db-' -o report.md

Exit codes:
  0  the report was written
  2  usage or tool error: nothing found to audit, a --select ID that names
     no check";

const HARDEN_HELP: &str = "\
Examples:
  # Plan (dry run) the fixes of three checks, CIS Docker 1.2.0 numbers
  bulkhead harden --select 4.5,5.12,5.25 --ids cis-1.2.0
  # Save the plan for review, then apply exactly it and audit again
  bulkhead harden --format json -o plan.json
  bulkhead harden --apply --plan plan.json --verify
  # Undo the last --apply
  bulkhead harden --rollback
  # Plan the fixes of `bulkhead scan` findings in a directory only
  bulkhead harden --scan deploy/

Exit codes:
  0  planned, applied or rolled back
  1  with --verify: a selected check that failed is not shown fixed (still
     failing, or not proven until a component restarts), one that did not
     fail fails now, or a fixed finding is still reported
  2  usage or tool error; also an --apply refused (a file changed since it
     was read) and a --restart-daemon that failed after the fixes applied";

const VERIFY_HELP: &str = "\
Examples:
  # After `bulkhead harden --apply`: each selected check, before and after
  bulkhead verify
  # After restarting dockerd, as JSON for a pipeline
  bulkhead verify docker --format json -o verify.json
  # An apply made with --root /host (its baseline is under /host)
  bulkhead verify --root /host

Exit codes:
  0  every selected check that failed is fixed (or no longer applies), none
     that did not fail fails now, and no fixed finding is reported again
  1  a selected check that failed still fails, errors, is not proven yet
     (its fix is written but the process that reads it has not restarted;
     a warn for what a person must judge is not held against it)
     or is not proven (a container it failed on is no longer audited), a
     selected check that did not fail before fails now, or a fixed finding
     is still reported
  2  no baseline (run `bulkhead harden --apply` first), or a usage or tool
     error";

const HISTORY_HELP: &str = "\
Examples:
  # Record two runs (the first creates runs.db); list the last 7 days' runs
  bulkhead audit docker --store sqlite:runs.db
  bulkhead audit docker --store sqlite:runs.db
  bulkhead history --store sqlite:runs.db --since 7
  # Changes since each host's last run (exit 1 on a new failure); run 1 to 2
  bulkhead history --store sqlite:runs.db --diff --fail-on-regression
  bulkhead history --store sqlite:runs.db --diff --from 1 --to 2 --format json
  # A fleet database: one host's last five Docker runs before February 2026
  export BULKHEAD_STORE=postgres://reader@db.example/fleet
  bulkhead history --host web-1 --kind docker --limit 5 --until 2026-02-01
  # Delete runs beyond each host's newest 30: see what would go, then do it
  bulkhead history --store sqlite:runs.db --prune --keep-last 30
  bulkhead history --store sqlite:runs.db --prune --keep-last 30 --apply

Exit codes:
  0  listed, compared or pruned (or a prune's dry run), also when the default
     history does not exist yet; with --fail-on-regression, no regression
  1  --diff --fail-on-regression found a regression: a check or object that
     moved into fail or error from another status, or appeared failing or
     erroring where the older run had no such check or object
  2  a usage error (--fail-on-regression without --diff, a --since that is
     no date), a store that cannot be read, a --store file that does not
     exist, a database that holds no bulkhead run history, a --from or --to
     run ID the store does not hold, --from and --to runs of different kinds";

const COMPLETIONS_HELP: &str = "\
Examples:
  # bash, for every user (as root)
  bulkhead completions bash > /etc/bash_completion.d/bulkhead
  # zsh, into the first directory of $fpath
  bulkhead completions zsh > \"${fpath[1]}/_bulkhead\"
  # fish, for the current user
  bulkhead completions fish > ~/.config/fish/completions/bulkhead.fish

Exit codes:
  0  printed
  2  usage error (an unknown shell)";

const MAN_HELP: &str = "\
Examples:
  # Read it now
  bulkhead man | man -l -
  # Install it for every user (as root)
  bulkhead man | gzip > /usr/local/share/man/man1/bulkhead.1.gz

Exit codes:
  0  printed
  2  the output could not be written";

// ---------------------------------------------------------------------------------------------

/// Audit Docker hosts and Kubernetes nodes against the CIS benchmarks, model threats from the
/// evidence, harden what fails, and prove the fix.
///
/// bulkhead audits a Docker host or Kubernetes node against the CIS benchmarks, builds a STRIDE
/// threat model of the real system from that evidence, plans and applies hardening, and proves
/// the fix by auditing again.
///
/// Auditing, scanning and planning are read-only: audit, collect, checks, scan, threats, report,
/// verify and a harden dry run read the host (files under --root, processes under --proc, the
/// Docker Engine API) or the files named, and write only to standard output or the -o file.
/// Only `harden --apply` and `harden --rollback` change the system, backing up each file first
/// (and `--restart-daemon` restarts dockerd); `audit --store` and `scan --write-baseline` write
/// the history or baseline they name.
///
/// `bulkhead COMMAND --help` says what a command reads and writes, its defaults, exit codes and
/// examples; `-h` gives one line per option.
#[derive(Debug, Parser)]
#[command(name = "bulkhead", version, after_long_help = TOP_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit this host (or a snapshot) against the CIS benchmarks.
    ///
    /// The CIS Docker Benchmark 1.6.0 (117 checks) is run against the Docker engine, the CIS
    /// Kubernetes Benchmark cis-1.12 (131 checks) against this node's components and, given a
    /// cluster dump, the cluster's policies. Without a TARGET, whatever is found on this host is
    /// audited; a TARGET named but not found is an error.
    ///
    /// Read-only: it reads files under --root, processes under --proc and the Docker Engine API
    /// (see --docker-host), or only the --snapshot file, and writes the report to standard output
    /// or the -o file; --store also records the run in a run history. Run it as root so that
    /// every file and process can be read.
    ///
    /// Each check ends as pass, fail, warn (to review), info, manual (to judge by hand),
    /// not_applicable (with the reason) or error (could not be evaluated). `bulkhead checks
    /// explain ID` says what a check verifies and how to fix it; `bulkhead --help` explains
    /// numbering, control ID and snapshot.
    #[command(after_long_help = AUDIT_HELP)]
    Audit(AuditArgs),
    /// Collect every fact the checks need into a snapshot file, without judging anything.
    ///
    /// A snapshot is one JSON document (bulkhead.snapshot/1, described in docs/snapshot.md) with
    /// what an audit reads: the Docker daemon's configuration, containers and images, the host's
    /// files and processes, the Kubernetes components and the cluster dump. `bulkhead audit
    /// --snapshot FILE` (and threats, report, harden) evaluates it later, on any machine, with the
    /// same results. Secret values are masked before anything is written.
    ///
    /// Read-only, like audit: it reads files under --root, processes under --proc and the Docker
    /// Engine API, and writes only the snapshot, to standard output or the -o file.
    // --snapshot comes with the shared source arguments but means nothing to collect.
    #[command(mut_arg("snapshot", |a| a.hide(true)), after_long_help = COLLECT_HELP)]
    Collect(CollectCmdArgs),
    /// Browse the control catalog: list checks, explain one.
    ///
    /// The catalog is built into bulkhead: these commands read nothing else, need no Docker,
    /// Kubernetes or root, and write only to standard output.
    #[command(after_long_help = CHECKS_HELP)]
    Checks(ChecksArgs),
    /// Scan Dockerfiles, compose files, Kubernetes manifests and daemon.json before deployment.
    ///
    /// Directories are searched recursively, hidden ones too (.devcontainer, .docker), honouring
    /// .gitignore and leaving out version control (.git). Dockerfiles (Dockerfile,
    /// Dockerfile.*, *.Dockerfile, Containerfile), compose files (compose.yaml, compose.*.yaml,
    /// docker-compose*.yml; .yml or .yaml) and daemon.json are recognised by name, Kubernetes
    /// manifests by content (multi-document YAML, JSON, `kind: List`); --kind settles the
    /// others. `--list-rules` prints every rule. See docs/scan.md.
    ///
    /// Read-only: it never changes a scanned file and never runs anything taken from one. It
    /// writes the findings to standard output or the -o file, and a baseline only with
    /// --write-baseline.
    #[command(after_long_help = SCAN_HELP)]
    Scan(crate::cmd::scan::ScanArgs),
    /// Build the STRIDE threat model of the audited system, each threat's status from evidence.
    ///
    /// Reference models of a Docker host and a Kubernetes cluster are instantiated from the facts
    /// (a TCP listener only if dockerd listens on TCP, each container and node as an instance),
    /// and each threat of the library gets a status computed from the audit: mitigated,
    /// partially_mitigated, exposed, unknown (an input such as --cluster-dump was not given; the
    /// threat names it), not_applicable or accepted (--accept). Each threat lists the checks and
    /// objects behind its status and its severity now and after the planned fixes.
    ///
    /// Read-only: it audits the host as `bulkhead audit` does (or reads only --snapshot), reads
    /// the --scan, --accept and --model files, and writes the model to standard output or the -o
    /// file.
    #[command(after_long_help = THREATS_HELP)]
    Threats(crate::cmd::threats::ThreatsArgs),
    /// Write the whole assessment: threat models, benchmark results, analysis and hardening plan.
    ///
    /// One Markdown document or HTML page in the structure of a written assessment: the Docker
    /// and Kubernetes threat models, the benchmark results, an analysis of the most important
    /// failed findings (the --top ones by the risk of the threats they leave open, each next one
    /// by the threats the ones before it do not already name; or the --select ones), and the
    /// hardening plan.
    ///
    /// Read-only, like `bulkhead threats`: it audits the host (or reads only --snapshot), reads
    /// the files named, and writes the report to standard output or the -o file. The hardening
    /// plan in it is a dry run; `bulkhead harden --apply` applies it.
    #[command(after_long_help = REPORT_HELP)]
    Report(crate::cmd::report::ReportArgs),
    /// Plan fixes for failing checks; apply them safely with --apply; undo with --rollback.
    ///
    /// Each failing check (or each --select or --threat one) becomes an exact change: keys merged
    /// into daemon.json or the kubelet's configuration, a file to write, or a command (`docker
    /// run`, `kubectl patch`) for you to run. Each fix names the checks and threats it closes and
    /// what it may break, and is marked safe or review.
    ///
    /// Without --apply it is a dry run: it audits the host as `bulkhead audit` does (or reads
    /// --snapshot), asks the Engine API which paths the containers to make read-only wrote, and
    /// prints the plan with unified diffs; nothing is changed. --apply writes the safe file fixes
    /// (--include-review adds the others): each file is backed up beside it and replaced atomically
    /// with its mode and owner, a journal in --state-dir records how to undo it, and a file that
    /// changed since it was read is refused. bulkhead never runs a command it prints. --rollback
    /// restores the last --apply. See docs/harden.md.
    #[command(after_long_help = HARDEN_HELP)]
    Harden(crate::cmd::harden::HardenArgs),
    /// Audit again and show, for each selected check, the status before and after.
    ///
    /// `bulkhead harden --apply` records the audit it planned from (baseline.json in its state
    /// directory). verify audits again and shows each check harden selected (--select, --threat,
    /// else those its plan fixed) before and after, the threats whose status changed and, when
    /// harden fixed artifacts (--scan), each of those findings after scanning them again. Checks
    /// are matched by control ID, so another numbering compares the same checks.
    ///
    /// Containers are recreated one at a time (harden prints the commands; you run them), and a
    /// check stays failing until the last is fixed: under each check that did not pass, verify
    /// names the containers fixed so far ("fixed on") and those left ("not passing on").
    ///
    /// dockerd and the kubelet read their configuration when they start: until they restart, a
    /// check that would pass on the new file is a warn, marked "not proven yet", and verify
    /// exits 1. A last line counts the checks that failed and how many of them are fixed.
    ///
    /// Read-only: it reads the baseline, then the host (or --snapshot) as `bulkhead audit` does,
    /// and writes to standard output or the -o file.
    #[command(after_long_help = VERIFY_HELP)]
    Verify(crate::cmd::harden::VerifyArgs),
    /// Show recorded runs from the run history, and what changed between runs.
    ///
    /// Lists the runs that `bulkhead audit --store URL` recorded, newest first: run ID, host,
    /// kind, when the facts were collected, score, and how many checks ended in each status.
    /// --since and --until keep the runs whose facts were collected in a time window.
    ///
    /// With --diff, each host (and kind) is taken on its own: its newest run (by when its facts
    /// were collected) is compared with the run before it, check by check, and every check whose
    /// status changed is listed ("absent"
    /// where one of the two runs lacks the check). Under each check come its objects (containers,
    /// images, files, processes) whose status changed, appeared or disappeared, so a check that
    /// stays "fail" while one container is fixed and another breaks is listed too. Checks are
    /// matched by control, so two runs in different numberings still compare; objects by kind and
    /// name. --from and --to compare two runs chosen by their IDs instead, and
    /// --fail-on-regression makes the comparison a gate for CI (exit 1 on a new fail or error).
    ///
    /// Reading changes nothing: no file or table is created, and a store that holds no bulkhead
    /// run history (a mistyped database, another application's file) is an error naming it.
    #[command(after_long_help = HISTORY_HELP)]
    History(HistoryArgs),
    /// Print shell completions for bash, zsh, fish, elvish or powershell.
    ///
    /// The script completes commands, options and their values; save it where your shell loads
    /// completions from. It is printed to standard output; nothing else is read or written.
    #[command(after_long_help = COMPLETIONS_HELP)]
    Completions {
        /// Shell to print completions for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) generated from this help.
    ///
    /// The page describes bulkhead and lists its commands; each command's options, examples and
    /// exit codes are in `bulkhead COMMAND --help`. It is printed to standard output; nothing
    /// else is read or written.
    #[command(after_long_help = MAN_HELP)]
    Man,
}

/// Where facts come from: this host (with these roots and endpoints) or a saved snapshot.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Evaluate a snapshot from `bulkhead collect`, not this host.
    ///
    /// A snapshot (`bulkhead collect -o FILE`) holds every fact a live run reads, so the results
    /// are those of the host it was collected on. --docker-host and --cluster-dump cannot be
    /// combined with it; audit, threats and report refuse --root and --proc with it. --include,
    /// --exclude-container and --label (and audit's --exclude) narrow the containers it holds;
    /// --all-containers needs a snapshot collected with --all-containers.
    #[arg(long, value_name = "FILE", help_heading = "Source")]
    pub snapshot: Option<PathBuf>,
    /// Directory the host's files are read under.
    ///
    /// Use /host when bulkhead runs in a container with the host's root mounted there (see
    /// deploy/ in the source). `harden --apply` also writes its fixes, backups and journal under
    /// DIR.
    #[arg(long, value_name = "DIR", default_value = "/", help_heading = "Source")]
    pub root: PathBuf,
    /// Proc file system to read processes from.
    ///
    /// In a container, share the host's PID namespace (hostPID) so that it shows the host's
    /// processes: dockerd, containerd, the kubelet, etcd.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "/proc",
        help_heading = "Source"
    )]
    pub proc: PathBuf,
    /// Docker Engine API address (default: the one `docker` uses).
    ///
    /// unix:///PATH, tcp://HOST:PORT or ssh://USER@HOST[:PORT]. tcp uses TLS with https:// or
    /// when DOCKER_TLS_VERIFY or DOCKER_TLS is set, with the files in DOCKER_CERT_PATH (default:
    /// DOCKER_CONFIG, else ~/.docker): DOCKER_TLS_VERIFY verifies the daemon against ca.pem;
    /// cert.pem and key.pem, when both are there, are the client certificate; DOCKER_TLS alone
    /// does not verify the daemon (a warning says so). ssh runs `docker system dial-stdio` on
    /// the host through the system's ssh, host keys checked against known_hosts.
    ///
    /// Default, as the docker CLI chooses: DOCKER_HOST, else the docker context named by
    /// DOCKER_CONTEXT or chosen with `docker context use`, else the current user's rootless
    /// socket when only that exists, else unix:///var/run/docker.sock. An address that was named
    /// (here, in DOCKER_HOST or by a context) and does not answer is an error. For a daemon on
    /// another machine, the host-side checks are not_applicable: run bulkhead on that host too.
    // Not `env = "DOCKER_HOST"`: the collector reads DOCKER_HOST itself, so that reports and
    // error messages say where the address came from (--docker-host or DOCKER_HOST).
    #[arg(
        long,
        value_name = "URL",
        help_heading = "Source",
        conflicts_with = "snapshot"
    )]
    pub docker_host: Option<String>,
    /// Include non-running containers (default: running only).
    ///
    /// Also created, exited and paused containers; by default only running and restarting ones are
    /// read. bulkhead's own container is always left out.
    #[arg(long, help_heading = "Container selection")]
    pub all_containers: bool,
    /// Only containers whose name matches REGEX (any, if repeated).
    ///
    /// The regular expression may match anywhere in the name: anchor it (^web-) to match the
    /// start. Repeated, a container matching any of them is kept. Containers left out are listed
    /// in the report with the reason.
    #[arg(long, value_name = "REGEX", help_heading = "Container selection")]
    pub include: Vec<String>,
    /// Leave out containers whose name matches REGEX (repeatable).
    ///
    /// The regular expression may match anywhere in the name: anchor it (^db-) to match the
    /// start. Repeated, a container matching any of them is left out; a value is never split at
    /// commas, so a REGEX may hold one (^db-[0-9]{1,3}$). Containers left out are listed in the
    /// report with the reason. bulkhead's own container is always left out. audit's and
    /// collect's --exclude REGEX add to the same list.
    #[arg(
        long,
        value_name = "REGEX",
        value_parser = container_regex,
        help_heading = "Container selection"
    )]
    pub exclude_container: Vec<String>,
    /// Only containers labelled KEY or KEY=VALUE (all, if repeated).
    ///
    /// KEY alone matches any value. Repeated, a container must carry every one of them.
    #[arg(long, value_name = "LABEL", help_heading = "Container selection")]
    pub label: Vec<String>,
    /// Cluster dump (kubectl get -o yaml) for the policy checks.
    ///
    /// The output of kubectl get for the kinds listed in `bulkhead audit --help`, as YAML or JSON
    /// (a `kind: List` included). Secrets are not needed: no check reads them, and secret values
    /// are dropped from what is read. Without a dump the policy checks are not_applicable and
    /// the policy threats unknown, each saying that this input is missing.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Source",
        conflicts_with = "snapshot"
    )]
    pub cluster_dump: Option<PathBuf>,
}

/// A container-name regular expression of `--exclude-container`, checked as the command line is
/// read: a typo is a usage error naming the option and the value before
/// anything is collected, in every command (verify and `harden --rollback` included). The
/// collector compiles it with the same regex crate and features.
fn container_regex(value: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        return Err(
            "an empty REGEX would leave out every container; give a name pattern such as ^db-"
                .into(),
        );
    }
    regex::Regex::new(value)
        .map(|_| value.to_string())
        .map_err(|e| format!("not a valid regular expression: {e}"))
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
    #[arg(
        short,
        long,
        value_name = "FILE",
        help = OUTPUT_HELP,
        long_help = OUTPUT_LONG_HELP,
        help_heading = "Output"
    )]
    pub output: Option<PathBuf>,
    /// Colour the text output.
    ///
    /// auto colours only a terminal (never the -o file), and not when NO_COLOR is set to a
    /// non-empty value; always colours even a file or pipe.
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
    /// bulkhead's documented schema (bulkhead.audit/1, docs/json-audit.md).
    Json,
    /// docker-bench-security's JSON field names, properly escaped (needs a Docker audit).
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
    #[arg(
        long,
        value_name = "NUMBERING",
        help = "Check numbering, e.g. cis-1.2.0 (default: the newest edition)",
        long_help = concat!(
            "Check numbering to show and accept.\n\n",
            numberings_help!(),
            " It applies to the report and to --only and --exclude. Checks an older edition \
             lacks are still evaluated and counted, listed last by control ID. When both \
             benchmarks are audited, the other one keeps its default numbering."
        ),
        help_heading = "Selection"
    )]
    pub ids: Option<String>,
    /// Run only these checks, sections or control IDs.
    ///
    /// Comma-separated or repeated. A check ID in the --ids numbering (5.13), a section (5, 1.1), a
    /// control ID (docker.container.read_only_rootfs) or a group of them (docker.container). A
    /// value that names nothing is an error. Default: every check.
    #[arg(long, value_name = "IDS", help_heading = "Selection")]
    pub only: Vec<String>,
    /// Leave out these checks, or containers matching REGEX.
    ///
    /// Comma-separated or repeated; checks take the forms of --only. A value of digits and dots
    /// (5.13, 5) or starting with docker. or k8s. must name a check, section or control ID (a typo
    /// is an error); any other value is a container-name regular expression, and such containers
    /// are not audited. --exclude-container REGEX leaves containers out without this guesswork
    /// (and in every command); both add to the same list.
    #[arg(long, value_name = "IDS|REGEX", help_heading = "Selection")]
    pub exclude: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// What to audit (default: all found).
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        help = TARGETS_HELP,
        long_help = TARGETS_LONG_HELP,
        help_heading = "Selection"
    )]
    pub targets: Vec<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = AuditFormat::Text, help_heading = "Output")]
    pub format: AuditFormat,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Which results make the exit status 1.
    #[arg(
        long,
        value_enum,
        value_name = "LEVEL",
        default_value_t = FailOn::Fail,
        help_heading = "Output"
    )]
    pub fail_on: FailOn,
    #[arg(
        long,
        value_name = "USERS",
        value_delimiter = ',',
        help = TRUSTED_USERS_HELP,
        long_help = TRUSTED_USERS_LONG_HELP,
        help_heading = "Selection"
    )]
    pub trusted_users: Vec<String>,
    /// Text output: also list passing objects.
    ///
    /// Under each check, the objects (containers, files, users, ...) that pass, not only those
    /// that fail.
    #[arg(short, long, help_heading = "Output")]
    pub verbose: bool,
    /// Also record the run in sqlite:PATH or postgres://...
    ///
    /// sqlite:PATH keeps one host's history in a file, created by the first run (a file holding
    /// another application's tables is refused). postgres://USER@HOST/DB (or
    /// postgres:host=/var/run/postgresql user=... dbname=...) is a fleet database every node
    /// writes to; bulkhead creates its tables on first use. The run is stored as the
    /// bulkhead.audit/1 document --format json prints, whatever --format says. Set
    /// BULKHEAD_STORE to record every audit. Read the runs with `bulkhead history`.
    #[arg(
        long,
        value_name = "URL",
        env = "BULKHEAD_STORE",
        // The URL may carry the database password: --help must not print it.
        hide_env_values = true,
        help_heading = "Output"
    )]
    pub store: Option<String>,
}

#[derive(Debug, Clone, Args)]
#[command(group(clap::ArgGroup::new("retention").args(["keep_last", "older_than"]).multiple(true)))]
pub struct HistoryArgs {
    /// Run history to read: sqlite:PATH or postgres://...
    ///
    /// Default: BULKHEAD_STORE, else $XDG_STATE_HOME/bulkhead/runs.db, else
    /// ~/.local/state/bulkhead/runs.db, else (for root, or without a home)
    /// /var/lib/bulkhead/runs.db. audit records only where --store (or BULKHEAD_STORE) says,
    /// so name this default there to use it. Reading never creates the file or tables.
    #[arg(
        long,
        value_name = "URL",
        env = "BULKHEAD_STORE",
        hide_env_values = true
    )]
    pub store: Option<String>,
    /// Only runs of this host (its host name as the report shows it).
    #[arg(long)]
    pub host: Option<String>,
    /// Only docker or kubernetes runs (default: both).
    #[arg(long, value_enum)]
    pub kind: Option<Benchmark>,
    /// How many runs to list, newest first.
    ///
    /// At least 1. With --since or --until, the newest N of the runs in that window. --diff
    /// reads every run, whatever this says.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 20,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub limit: u32,
    /// Compare each host's last two runs, per check and per object.
    ///
    /// For each host and kind, its newest run against the one before it, by when their facts were
    /// collected (a snapshot recorded late is not the newest state): every check whose
    /// status changed, and under each check the objects (containers, images, files, processes,
    /// ...) whose status changed, that appeared or that disappeared. A check that kept its status
    /// while its objects changed is listed too (`fail -> fail`). Objects are matched by kind and
    /// name, so a container recreated under its name or a restarted daemon is the same object.
    /// Only statuses count, not evidence. --from and --to compare two chosen runs instead, and
    /// --fail-on-regression exits 1 when something newly fails or errors.
    #[arg(long)]
    pub diff: bool,
    /// With --diff: the older of two runs to compare, by its run ID.
    #[arg(
        long,
        value_name = "ID",
        requires = "diff",
        requires = "to",
        conflicts_with_all = ["host", "kind"],
        value_parser = clap::value_parser!(i64).range(1..),
        long_help = "\
With --diff: the older of two runs to compare, by its run ID (with --to).

The ID is the run column of the listing (id in its JSON). The two runs are compared as \
--diff compares a host's last two, with the same output in text and JSON: --from is the \
before side, --to the after side, whatever their order in time (a note says when --from was \
collected after --to). Runs of two different hosts may be compared (to see how a new node \
differs from a known good one): the output names both hosts, and in JSON each entry has \
before_host. Runs of different kinds (docker, kubernetes) share no check and are refused, and \
so is an ID the store does not hold (exit 2, naming it).

For example, the state of run 12 against that of run 40:
  bulkhead history --diff --from 12 --to 40"
    )]
    pub from: Option<i64>,
    /// With --diff: the newer of two runs to compare, by its run ID.
    ///
    /// The after side of the comparison; see --from.
    #[arg(
        long,
        value_name = "ID",
        requires = "diff",
        requires = "from",
        conflicts_with_all = ["host", "kind"],
        value_parser = clap::value_parser!(i64).range(1..)
    )]
    pub to: Option<i64>,
    /// With --diff: exit 1 when a check or object newly fails or errors.
    #[arg(
        long,
        requires = "diff",
        long_help = "\
With --diff: exit 1 when a check or object newly fails or errors.

A regression is a check, or an object under a check (a container, an image, a file, a \
process), whose status moved into fail or error from any other status (pass, warn, manual, \
not applicable, fail to error and error to fail alike), or that appeared as fail or error \
where the older run had no such check or object. An object counts by the status shown for \
it, the roll-up of its entries. A check or object that disappeared, or that kept failing, \
is not one. Every compared pair counts (each host's last two runs, or --from and \
--to). Without a regression the exit is 0, as without this flag; a host with a single run \
has nothing to compare. The output is the same; standard error says how many regressions \
there were.

For example, in CI after each audit is recorded:
  bulkhead audit docker --store sqlite:runs.db --fail-on never
  bulkhead history --store sqlite:runs.db --diff --fail-on-regression"
    )]
    pub fail_on_regression: bool,
    /// List only runs collected at or after DAYS days ago, or DATE.
    #[arg(
        long,
        value_name = "DAYS|DATE",
        conflicts_with_all = ["diff", "prune"],
        value_parser = crate::cmd::history::parse_days_or_date,
        long_help = "\
List only runs whose facts were collected at or after DAYS days ago, or DATE.

DAYS is a whole number (7: the last seven days); DATE is 2026-01-31 (midnight UTC) or \
2026-01-31T12:00:00Z, as for --older-than. Runs are placed by when their facts were \
collected (the collected column, collected_at in JSON), not when they were recorded: a \
snapshot recorded a week late counts where it was taken. --limit counts the runs inside the \
window. For the listing only, not --diff or --prune."
    )]
    pub since: Option<crate::cmd::history::DaysOrDate>,
    /// List only runs collected before DAYS days ago, or DATE.
    #[arg(
        long,
        value_name = "DAYS|DATE",
        conflicts_with_all = ["diff", "prune"],
        value_parser = crate::cmd::history::parse_days_or_date,
        long_help = "\
List only runs whose facts were collected before DAYS days ago, or before DATE.

The same forms and the same time as --since (the collected column). The moment itself is \
left out: --until 2026-02-01 ends with the last second of January 31, so --since 2026-01-01 \
--until 2026-02-01 is January, and back-to-back windows never share a run. --until 30 lists \
what was collected more than 30 days ago."
    )]
    pub until: Option<crate::cmd::history::DaysOrDate>,
    /// Delete old runs (see --keep-last, --older-than and --apply).
    #[arg(
        long,
        requires = "retention",
        conflicts_with_all = ["diff", "limit"],
        long_help = "\
Delete old runs, by --keep-last, --older-than or both: a dry run unless --apply.

Lists, per host and kind, how many runs would be deleted and kept, and deletes nothing. With \
--apply it deletes them, each with its checks, in one transaction; runs recorded meanwhile are \
kept. Given both rules, a run is deleted only when both say so. A host's latest run of each \
kind (the newest by when its facts were collected, as --diff reads them) is never deleted, so \
--diff and its last known state remain, unless --include-latest. --host and --kind prune only \
those runs. An SQLite file is then compacted, and the space freed is shown; PostgreSQL reuses \
the space after (auto)vacuum, and the role needs DELETE (and SELECT) on bulkhead_runs and \
bulkhead_checks.

For example, see what keeping each host's newest 30 runs of each kind (and any run of the last \
90 days) would delete, then delete it:
  bulkhead history --prune --keep-last 30 --older-than 90
  bulkhead history --prune --keep-last 30 --older-than 90 --apply"
    )]
    pub prune: bool,
    /// With --prune: keep each host's newest N runs of each kind.
    ///
    /// At least 1. Newest by when their facts were collected, as --diff orders them.
    #[arg(
        long,
        value_name = "N",
        requires = "prune",
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    pub keep_last: Option<u32>,
    /// With --prune: delete runs older than DAYS days, or than DATE.
    ///
    /// DAYS is a whole number (90); DATE is 2026-01-31 (midnight UTC) or 2026-01-31T12:00:00Z.
    /// Runs are aged by when they were recorded.
    #[arg(
        long,
        value_name = "DAYS|DATE",
        requires = "prune",
        value_parser = crate::cmd::history::parse_days_or_date
    )]
    pub older_than: Option<crate::cmd::history::DaysOrDate>,
    /// With --older-than: also delete a host's latest run if as old.
    ///
    /// For hosts that are gone: without it, each host and kind keeps its latest run, however
    /// old.
    #[arg(long, requires = "older_than")]
    pub include_latest: bool,
    /// With --prune: delete the runs (else only list what would go).
    #[arg(long, requires = "prune")]
    pub apply: bool,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Args)]
pub struct CollectCmdArgs {
    /// What to collect (default: all found).
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Leave out containers whose name matches REGEX.
    ///
    /// Repeatable. Containers left out are recorded in the snapshot with the reason. The same as
    /// --exclude-container, the name every command accepts; both add to the same list.
    #[arg(long, value_name = "REGEX", help_heading = "Container selection")]
    pub exclude: Vec<String>,
    #[arg(
        short,
        long,
        value_name = "FILE",
        help = OUTPUT_HELP,
        long_help = OUTPUT_LONG_HELP
    )]
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
    ///
    /// One line per check: its number in the chosen numbering, its control ID, whether bulkhead
    /// evaluates it (automated) or a person must (manual), and its title. The JSON adds whether
    /// it is scored, its STRIDE categories and its numbers in other editions. Reads only the
    /// built-in catalog.
    #[command(after_long_help = CHECKS_LIST_HELP)]
    List {
        /// Benchmark to list (default: both).
        #[arg(value_enum)]
        target: Option<Benchmark>,
        #[arg(
            long,
            value_name = "NUMBERING",
            help = "Numbering to list the checks in (default: the newest edition)",
            long_help = concat!(
                "Numbering to list the checks in.\n\n",
                numberings_help!(),
                " Without a TARGET, the benchmark the numbering does not belong to is listed in \
                 its own default numbering."
            )
        )]
        ids: Option<String>,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Explain one check: what it verifies, why, how bulkhead evaluates it, how to fix it.
    ///
    /// Also its benchmark, control ID, numbers in other editions, whether it is automated and
    /// scored, its STRIDE categories and references. Reads only the built-in catalog.
    #[command(after_long_help = CHECKS_EXPLAIN_HELP)]
    Explain {
        /// A check ID in the --ids numbering (5.13) or a control ID.
        ///
        /// Without --ids, the default numberings (cis-1.6.0, cis-1.12). A control ID
        /// (docker.container.read_only_rootfs) is the same in every edition; `bulkhead checks
        /// list` shows them.
        id: String,
        #[arg(
            long,
            value_name = "NUMBERING",
            help = "Numbering the ID is given in (default: the newest edition)",
            long_help = concat!(
                "Numbering the ID is given in.\n\n",
                numberings_help!(),
                " Needed when a check ID exists in both benchmarks (1.2.1)."
            )
        )]
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

    /// Every command with its path (`bulkhead checks list`), the top level included; clap's own
    /// `help` sub-command is generated and out of our hands.
    fn commands() -> Vec<(String, clap::Command)> {
        fn walk(cmd: &clap::Command, path: &str, out: &mut Vec<(String, clap::Command)>) {
            let path = match path {
                "" => cmd.get_name().to_string(),
                _ => format!("{path} {}", cmd.get_name()),
            };
            out.push((path.clone(), cmd.clone()));
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                walk(sub, &path, out);
            }
        }
        let mut out = Vec::new();
        walk(&Cli::command(), "", &mut out);
        out
    }

    fn long_help_after_options(cmd: &clap::Command) -> String {
        cmd.get_after_long_help()
            .map(|s| s.to_string())
            .unwrap_or_default()
    }

    /// The examples of a command's long help: the lines under "Examples:" up to a blank line,
    /// grouped by the `#` comment that introduces each example.
    fn examples(cmd: &clap::Command) -> Vec<Vec<String>> {
        let text = long_help_after_options(cmd);
        let mut groups: Vec<Vec<String>> = Vec::new();
        let section = text
            .lines()
            .skip_while(|l| *l != "Examples:")
            .skip(1)
            .take_while(|l| !l.trim().is_empty());
        for line in section.map(str::trim) {
            if line.starts_with('#') || groups.is_empty() {
                groups.push(Vec::new());
            }
            if !line.starts_with('#') {
                groups
                    .last_mut()
                    .expect("pushed above")
                    .push(line.to_string());
            }
        }
        groups
    }

    /// A command line of an example as the shell would split it, one argv per `bulkhead`
    /// invocation: pipes, `&&`, `||` and `;` separate commands, redirections and leading
    /// `VAR=value` assignments are dropped, and commands other than bulkhead (kubectl, man,
    /// export) are left out.
    fn invocations(line: &str) -> Vec<Vec<String>> {
        let words = bulkhead_testkit::shell::words(line);
        let mut out = Vec::new();
        for command in words.split(|w| matches!(w.as_str(), "|" | "&&" | "||" | ";")) {
            let mut argv = Vec::new();
            let mut redirect = false;
            for w in command {
                if std::mem::take(&mut redirect) {
                    continue;
                }
                match w.as_str() {
                    ">" | ">>" | "<" | "2>" => redirect = true,
                    _ if w.starts_with('>') || w.starts_with('<') => {}
                    _ if argv.is_empty() && w.contains('=') && !w.starts_with('-') => {}
                    _ => argv.push(w.clone()),
                }
            }
            if argv.first().map(String::as_str) == Some("bulkhead") {
                out.push(argv);
            }
        }
        out
    }

    /// `--help` teaches by example: every command's long help shows 2 to 4 examples, each a
    /// `#` comment followed by the command lines it explains, and says what its exit codes mean.
    #[test]
    fn every_command_has_examples_and_exit_codes() {
        let mut problems = Vec::new();
        for (path, cmd) in commands() {
            let text = long_help_after_options(&cmd);
            if !text.lines().any(|l| l == "Examples:") {
                problems.push(format!("{path}: no \"Examples:\" section in its long help"));
                continue;
            }
            if !text.lines().any(|l| l == "Exit codes:") {
                problems.push(format!(
                    "{path}: no \"Exit codes:\" section in its long help"
                ));
            }
            let groups = examples(&cmd);
            if !(2..=4).contains(&groups.len()) {
                problems.push(format!("{path}: {} examples, not 2 to 4", groups.len()));
            }
            if groups.iter().any(|g| g.is_empty()) {
                problems.push(format!(
                    "{path}: an example comment without a command under it"
                ));
            }
            // An example section that never runs the command it documents was pasted from
            // another command's help.
            let own: Vec<&str> = path.split(' ').collect();
            let runs_itself = groups
                .iter()
                .flatten()
                .flat_map(|l| invocations(l))
                .any(|argv| {
                    own.len() == 1
                        || argv
                            .iter()
                            .map(String::as_str)
                            .take(own.len())
                            .eq(own.iter().copied())
                });
            if !runs_itself {
                problems.push(format!("{path}: no example runs `{path}`"));
            }
            // `-h` stays a summary: examples and exit codes are for `--help` only.
            if cmd.get_after_help().is_some() {
                problems.push(format!(
                    "{path}: after_help makes `-h` long; use after_long_help"
                ));
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }

    /// Help laid out by hand (examples, exit codes, terms) keeps to 80 columns: clap re-wraps a
    /// longer line to the terminal's width, and an example broken over two lines no longer runs
    /// when pasted. The top level's also forms the man page, which man indents by 7 columns and
    /// re-fills: 72 there.
    #[test]
    fn hand_written_help_fits_80_columns() {
        let mut long = Vec::new();
        for (path, cmd) in commands() {
            let width = if path == "bulkhead" { 72 } else { 80 };
            for line in long_help_after_options(&cmd).lines() {
                if line.chars().count() > width {
                    long.push(format!("{path}: {line}"));
                }
            }
        }
        assert!(long.is_empty(), "lines over 80 columns: {long:#?}");
    }

    /// Every example names only commands, options and values that exist: each `bulkhead`
    /// invocation shown in any help parses exactly as a user would type it. (Running them, in a
    /// safe form, is tests/help_examples.rs.)
    #[test]
    fn every_example_parses() {
        let mut failures = Vec::new();
        let mut parsed = 0;
        for (path, cmd) in commands() {
            for line in examples(&cmd).iter().flatten() {
                for argv in invocations(line) {
                    parsed += 1;
                    if let Err(e) = Cli::try_parse_from(&argv) {
                        failures.push(format!("{path}: `{line}`: {}", e.render()));
                    }
                }
            }
        }
        assert!(parsed > 30, "only {parsed} example invocations found");
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// `-h` is one line per option: an option's short help is one sentence, short enough to
    /// sit beside its name on a 100-column terminal (clap may still add its own `[default: ...]`
    /// and `[possible values: ...]` notes). Longer explanations go in later doc paragraphs,
    /// which only `--help` shows.
    #[test]
    fn short_help_is_one_short_line() {
        const MAX: usize = 64;
        let mut long = Vec::new();
        for (path, cmd) in commands() {
            for arg in cmd.get_arguments() {
                let Some(help) = arg.get_help().map(|h| h.to_string()) else {
                    continue;
                };
                if help.contains('\n') || help.chars().count() > MAX {
                    long.push(format!("{path} {}: {help:?}", arg.get_id()));
                }
            }
        }
        assert!(
            long.is_empty(),
            "short help over one line of {MAX}: {long:#?}"
        );
    }

    /// Every command that selects containers takes --exclude-container, repeated, each value
    /// whole (a regex may hold a comma); a value that is no regular expression is a usage error
    /// naming the option and the value.
    #[test]
    fn every_container_command_takes_exclude_container() {
        let source = |argv: &[&str]| -> SourceArgs {
            let mut full = vec!["bulkhead"];
            full.extend(argv);
            full.extend([
                "--exclude-container",
                "^db-",
                "--exclude-container",
                "^app-[0-9]{1,3}$",
            ]);
            match Cli::try_parse_from(&full)
                .unwrap_or_else(|e| panic!("{full:?}: {e}"))
                .command
            {
                Command::Audit(a) => a.source,
                Command::Collect(a) => a.source,
                Command::Threats(a) => a.model.source,
                Command::Report(a) => a.model.source,
                Command::Harden(a) => a.source,
                Command::Verify(a) => a.source,
                other => panic!("{other:?}"),
            }
        };
        for cmd in ["audit", "collect", "threats", "report", "harden", "verify"] {
            assert_eq!(
                source(&[cmd]).exclude_container,
                ["^db-", "^app-[0-9]{1,3}$"],
                "{cmd}"
            );
        }
        for bad in ["web[", "("] {
            let e = Cli::try_parse_from(["bulkhead", "harden", "--exclude-container", bad])
                .expect_err(bad);
            assert_eq!(e.exit_code(), 2);
            let text = e.render().to_string();
            assert!(
                text.contains("--exclude-container") && text.contains(&format!("'{bad}'")),
                "{text}"
            );
        }
        let e = Cli::try_parse_from(["bulkhead", "report", "--exclude-container", ""])
            .expect_err("empty");
        assert!(e.render().to_string().contains("every container"), "{e}");
    }

    /// An option that means the same in several commands is explained the same way in each,
    /// and every `--ids` explains numberings with the same words.
    #[test]
    fn shared_options_read_the_same_everywhere() {
        use std::collections::BTreeMap;
        const SHARED: [&str; 14] = [
            "snapshot",
            "root",
            "proc",
            "docker-host",
            "cluster-dump",
            "all-containers",
            "include",
            "exclude-container",
            "label",
            "output",
            "color",
            "trusted-users",
            "targets",
            "format",
        ];
        let mut seen: BTreeMap<&str, Vec<(String, String)>> = BTreeMap::new();
        let mut problems = Vec::new();
        for (path, cmd) in commands() {
            for arg in cmd.get_arguments() {
                let Some(long) = arg.get_long() else { continue };
                let text = |s: Option<&clap::builder::StyledStr>| {
                    s.map(|s| s.to_string()).unwrap_or_default()
                };
                let both = format!("{}\n{}", text(arg.get_help()), text(arg.get_long_help()));
                if long == "ids" && !both.contains(numberings_help!()) {
                    problems.push(format!("{path} --ids does not explain numberings"));
                }
                if let Some(name) = SHARED.iter().find(|n| **n == long) {
                    seen.entry(name).or_default().push((path.clone(), both));
                }
            }
        }
        for (name, uses) in &seen {
            let (first_path, first) = &uses[0];
            for (path, text) in &uses[1..] {
                // Formats differ by command; only their one-line help must agree.
                let differs = match *name {
                    "format" => text.lines().next() != first.lines().next(),
                    _ => text != first,
                };
                if differs {
                    problems.push(format!(
                        "--{name} reads differently in {first_path} and {path}"
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
    }
}
