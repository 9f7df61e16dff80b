//! `bulkhead scan [PATH...]`: scan Dockerfiles, compose files, Kubernetes manifests and
//! daemon.json before they are deployed. Read-only: it never changes a scanned file and never
//! runs anything taken from one.
//!
//! Exit codes as for the audit: 0 when nothing reaches `--fail-on`, 1 when a finding does (or a
//! file could not be scanned), 2 for usage or tool errors. `--write-baseline` records the
//! findings instead of failing on them: 0 once the baseline is written (1 still when a file could
//! not be scanned, since the baseline cannot cover it).

use super::VERSION;
use crate::cli::OutputArgs;
use bulkhead_facts::visible::visible;
use bulkhead_scan::{ArtifactKind, Baseline, Config, Input, ScanOptions, Severity};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFormat {
    /// Findings with source snippets, references and fixes.
    Text,
    /// bulkhead's documented schema (bulkhead.scan/1).
    Json,
    /// SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions annotations (workflow commands).
    Github,
    /// JUnit XML: one test case per finding.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScanFailOn {
    /// Exit 1 on a critical finding only.
    Critical,
    /// On a high or critical finding.
    High,
    /// On a medium finding or worse.
    Medium,
    /// On a low finding or worse.
    Low,
    /// On any finding.
    Info,
    /// Always exit 0 (files that could not be scanned still print errors).
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    /// A Dockerfile or Containerfile.
    Dockerfile,
    /// A Docker Compose file.
    Compose,
    /// Kubernetes manifests (YAML or JSON, `kind: List` included).
    #[value(alias = "k8s")]
    Kubernetes,
    /// The Docker daemon's daemon.json.
    DaemonJson,
}

impl From<KindArg> for ArtifactKind {
    fn from(k: KindArg) -> ArtifactKind {
        match k {
            KindArg::Dockerfile => ArtifactKind::Dockerfile,
            KindArg::Compose => ArtifactKind::Compose,
            KindArg::Kubernetes => ArtifactKind::Kubernetes,
            KindArg::DaemonJson => ArtifactKind::DaemonJson,
        }
    }
}

// The command's long help (examples, suppressions, exit codes) is in cli.rs with every other
// command's.
#[derive(Debug, Clone, clap::Args)]
pub struct ScanArgs {
    /// Files or directories, or - for standard input (default: .).
    ///
    /// Directories are searched recursively, hidden ones too, honouring .gitignore and leaving
    /// out version control (.git); a named file is scanned as
    /// its name or --kind says. `-` reads one file from standard input and needs --kind (or a
    /// --stdin-filename whose name says it). A path that does not exist is an error.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Read standard input and the files named as this kind.
    ///
    /// Inside directories it only settles YAML and JSON files that no name identifies. Default:
    /// each file's kind from its name (Dockerfile, compose.yaml, daemon.json, ...) or, for YAML
    /// and JSON, its content.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// The file that standard input (`-`) stands for.
    ///
    /// As editors and pre-commit hooks pass it. Findings, fingerprints and SARIF name that path instead of `stdin`, so they match a scan
    /// of the file itself (and its baseline); its name also gives the kind when --kind is not
    /// given (`Dockerfile`, `compose.yaml`, `daemon.json`, ...). Nothing is read from that path.
    #[arg(long, value_name = "PATH", requires = "paths")]
    pub stdin_filename: Option<PathBuf>,
    /// Dockerfile stage that ships (default: the last stage).
    ///
    /// As `docker build --target STAGE`: root in that stage is a finding, root in a builder
    /// stage is not. A single named Dockerfile without that stage is an error; in a directory,
    /// such a Dockerfile is judged by its last stage, with a note.
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ScanFormat::Text, help_heading = "Output")]
    pub format: ScanFormat,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Lowest severity that makes the exit status 1.
    ///
    /// A file that could not be scanned also exits 1, unless never.
    #[arg(
        long,
        value_enum,
        value_name = "SEVERITY",
        default_value_t = ScanFailOn::Low,
        help_heading = "Output"
    )]
    pub fail_on: ScanFailOn,
    /// Accept the findings whose fingerprints FILE lists.
    ///
    /// FILE is a baseline written by --write-baseline or an earlier `--format json` report.
    /// Accepted findings are counted as suppressed, not reported. Fingerprints hash the rule,
    /// path, object and source text, so moving code does not change them.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in FILE as a baseline.
    ///
    /// The findings are still printed, but accepted: the exit code is 0 once FILE is written (1
    /// only when a file could not be scanned, 2 on a tool error), so `--write-baseline F && ...
    /// --baseline F` works. FILE holds the findings' fingerprints, for --baseline.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Configuration file (default: ./.bulkhead.toml if present).
    ///
    /// TOML: [scan] trusted_registries (enables the registry rules), disable (rule IDs),
    /// exclude (path globs), and [[scan.ignore]] suppressions with rule, paths, object, reason
    /// and expires. See docs/scan.md. A FILE named here that cannot be read is an error.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// List every rule and exit.
    ///
    /// Its ID, severity, artifact and title, then its benchmark references and the IDs of the
    /// same check in hadolint, Trivy, Checkov and kube-linter.
    #[arg(long)]
    pub list_rules: bool,
}

pub fn run(args: ScanArgs) -> Result<ExitCode, String> {
    if args.list_rules {
        crate::output::emit(&list_rules(), args.out.output.as_deref())?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = load_config(args.config.as_ref())?;
    let baseline = match &args.baseline {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read baseline {}: {e}", p.display()))?;
            Some(Baseline::parse(&text).map_err(|e| format!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    // Fingerprints and SARIF name each file from the top of the repository the scan runs in;
    // standard input without --stdin-filename is no file of it (see below).
    let source_root = bulkhead_scan::SourceRoot::of_current_dir();
    let unnamed_stdin =
        args.stdin_filename.is_none() && args.paths.iter().any(|p| p.as_os_str() == "-");
    let opts = ScanOptions {
        config,
        target: args.target.clone(),
        kind: args.kind.map(Into::into),
        baseline,
        source_root: source_root.clone(),
        ..ScanOptions::default()
    };
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    // A path named on the command line that does not exist is a mistake in the command (a typo,
    // the wrong directory), not a file that failed to scan: say so once, exit 2.
    if let Some(missing) = paths
        .iter()
        .find(|p| p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err())
    {
        return Err(format!("{}: no such file or directory", missing.display()));
    }
    if args.stdin_filename.is_some() && !paths.iter().any(|p| p.as_os_str() == "-") {
        return Err(
            "--stdin-filename names what standard input stands for: give `-` as the path".into(),
        );
    }
    let report = if paths.iter().any(|p| p.as_os_str() == "-") {
        if paths.len() > 1 {
            return Err("`-` (standard input) cannot be combined with other paths".into());
        }
        let name = args.stdin_filename.as_deref();
        let kind = opts
            .kind
            .or_else(|| name.and_then(bulkhead_scan::kind_by_name))
            .ok_or(match name {
                Some(_) => "reading standard input needs --kind (dockerfile, compose, kubernetes or daemon-json): the --stdin-filename does not say which",
                None => "reading standard input needs --kind (dockerfile, compose, kubernetes or daemon-json) or a --stdin-filename whose name says it",
            })?;
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(opts.limits.max_bytes as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("reading standard input: {e}"))?;
        // Standard input is one named file: a --target it lacks is an error, as for one path.
        // Unnamed, it is no file of the source tree: `stdin` is not `<subdir>/stdin` of the
        // repository, so its fingerprints do not depend on the directory the scan ran in.
        let opts = ScanOptions {
            strict_target: true,
            source_root: if name.is_some() {
                opts.source_root.clone()
            } else {
                None
            },
            ..opts
        };
        bulkhead_scan::scan_inputs(
            &[Input {
                path: name.map_or_else(|| "stdin".into(), |n| n.display().to_string()),
                bytes,
                kind: Some(kind),
            }],
            &opts,
        )
    } else {
        bulkhead_scan::scan_paths(&paths, &opts)
    };
    // How files were read when that differs from what was asked (a Dockerfile without the
    // --target stage, judged by its last stage). Not findings: on stderr, in every format.
    for f in report.files.iter().filter(|f| f.note.is_some()) {
        eprintln!(
            "bulkhead: note: {}: {}",
            visible(&f.path),
            visible(f.note.as_deref().unwrap_or(""))
        );
    }
    if let Some(target) = &args.target {
        // A --target that a scanned Dockerfile lacks is noted per file (an error for a single
        // named Dockerfile); say it once clearly when no Dockerfile has it or none was scanned.
        let dockerfiles: Vec<_> = report
            .files
            .iter()
            .filter(|f| f.kind == ArtifactKind::Dockerfile)
            .collect();
        if dockerfiles.is_empty() && report.errors.is_empty() {
            eprintln!(
                "bulkhead: note: --target {target} applies to Dockerfiles, and none was scanned"
            );
        } else if !dockerfiles.is_empty() && dockerfiles.iter().all(|f| f.note.is_some()) {
            eprintln!(
                "bulkhead: note: no scanned Dockerfile has a stage named {target:?}; each was judged by its last stage"
            );
        }
    }
    if let Some(p) = &args.write_baseline {
        crate::output::emit(&Baseline::render(&report.findings), Some(p))?;
    }
    let to_file = args.out.output.is_some();
    let text = match args.format {
        ScanFormat::Text => {
            bulkhead_report::scan_text::render(&report, args.out.color.enabled(to_file))
        }
        ScanFormat::Json => bulkhead_report::scan_json::render(&report, VERSION),
        ScanFormat::Sarif => {
            let root = source_root.as_ref().filter(|_| !unnamed_stdin);
            bulkhead_report::scan_sarif::render(&report, VERSION, root)
        }
        ScanFormat::Github => bulkhead_report::scan_github::render(&report),
        ScanFormat::Junit => bulkhead_report::scan_junit::render(&report),
    };
    crate::output::emit(&text, args.out.output.as_deref())?;
    if args.format != ScanFormat::Text {
        for e in &report.errors {
            eprintln!("bulkhead: error: {}", visible(&e.to_string()));
        }
    }
    if args.write_baseline.is_some() {
        // Recording the findings is the point of the run; only files left unscanned (which the
        // baseline cannot cover) still fail it.
        return Ok(if report.errors.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let threshold = match args.fail_on {
        ScanFailOn::Critical => Some(Severity::Critical),
        ScanFailOn::High => Some(Severity::High),
        ScanFailOn::Medium => Some(Severity::Medium),
        ScanFailOn::Low => Some(Severity::Low),
        ScanFailOn::Info => Some(Severity::Info),
        ScanFailOn::Never => None,
    };
    Ok(match threshold {
        Some(t) if report.reaches(t) => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

pub(crate) fn load_config(path: Option<&PathBuf>) -> Result<Config, String> {
    let (path, required) = match path {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from(".bulkhead.toml"), false),
    };
    // The `.bulkhead.toml` found in the working directory belongs to the repository being
    // scanned (a pull request's checkout), so it must be a regular file of sane size; one named
    // with --config may be a pipe the user made.
    use bulkhead_sources::file::{read_limited, read_regular, MAX_CONFIG_BYTES};
    let read = if required { read_limited } else { read_regular };
    let text = read(&path, MAX_CONFIG_BYTES).and_then(|bytes| {
        String::from_utf8(bytes)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
    });
    match text {
        Ok(text) => Config::parse_file(&text, &path.display().to_string())
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if required || e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot read config {}: {e}", path.display()))
        }
        Err(_) => Ok(Config::default()),
    }
}

fn list_rules() -> String {
    let mut out = String::new();
    for r in bulkhead_scan::all_rules() {
        let refs: Vec<String> = r
            .benchmark_refs
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        out.push_str(&format!(
            "{:<38} {:<8} {:<11} {}\n",
            r.id,
            r.severity.as_str(),
            r.artifact().as_str(),
            r.title
        ));
        if !refs.is_empty() || !r.aliases.is_empty() {
            out.push_str(&format!(
                "{:<38} {}{}{}\n",
                "",
                refs.join(", "),
                if refs.is_empty() || r.aliases.is_empty() {
                    ""
                } else {
                    "; "
                },
                r.aliases.join(", ")
            ));
        }
    }
    out
}
