//! `bulkhead threats`: audit (or load a snapshot) with every benchmark the snapshot has facts for
//! (Docker, Kubernetes), add the findings of `--scan` artifacts, build the STRIDE threat model
//! from that evidence, and render it as JSON, Markdown, HTML, Mermaid, DOT, OTM or SVG.
//!
//! The shared steps (audit, evidence, hardening plan, threat model) are also used by
//! `bulkhead report`.

use super::{acquire_snapshot, audit, VERSION};
use crate::cli::{AuditArgs, AuditTarget, SourceArgs};
use bulkhead_checks::Audit;
use bulkhead_report::Target;
use bulkhead_threats::{accept, EvidenceSet, Finding, ThreatModel, UserModel};
use clap::{Args, FromArgMatches};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThreatsFormat {
    /// The documented bulkhead.threats/1 document.
    Json,
    /// The threat register for a terminal: each threat's status and severity, and under each
    /// open one why and the evidence that keeps it open.
    Text,
    /// The threat register as Markdown, with the data-flow diagram as a Mermaid block.
    Markdown,
    /// One self-contained page with the data-flow diagram as inline SVG.
    Html,
    /// The data-flow diagram as a Mermaid flowchart.
    Mermaid,
    /// The data-flow diagram for Graphviz (`dot -Tsvg`).
    Dot,
    /// Open Threat Model JSON (Threat Dragon, IriusRisk).
    Otm,
    /// The data-flow diagram alone, as SVG.
    Svg,
}

/// Inputs shared by `threats` and `report`.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// What to model (default: all found).
    ///
    /// docker or kubernetes audits and models that platform only, as `bulkhead audit docker`
    /// audits only the Docker engine: the other platform's threats are not listed, even when a
    /// --snapshot holds its facts.
    #[arg(value_enum)]
    pub target: Option<AuditTarget>,
    #[command(flatten)]
    pub source: SourceArgs,
    #[arg(
        long,
        value_name = "NUMBERING",
        help = "Numbering of the cited checks (default: the newest edition)",
        long_help = concat!(
            "Numbering of the checks cited as evidence.\n\n",
            crate::cli::numberings_help!(),
            " It also numbers report's --select. When both benchmarks are audited, the other \
             one keeps its default numbering."
        ),
        help_heading = "Selection"
    )]
    pub ids: Option<String>,
    /// Risk acceptances: a YAML file of `accept:` entries.
    ///
    /// Each entry names a threat (its ID, such as DKR-R01), a reason, an owner and the date it
    /// expires (YYYY-MM-DD; it holds through that day). An accepted threat keeps its computed
    /// status beside accepted; an expired acceptance is ignored and says so. A threat ID the
    /// model does not have is an error.
    #[arg(long, value_name = "FILE", help_heading = "Threat model")]
    pub accept: Option<PathBuf>,
    /// Your own elements, flows, boundaries and threats (YAML).
    ///
    /// A YAML file with the lists elements, flows, boundaries and threats, in the shapes of the
    /// reference models and the threat library. Required: an element's id, name, kind
    /// (external_entity, process or data_store) and component; a flow's id, name, from, to,
    /// protocol, port, authentication and encryption; a boundary's id, name, type and trust (0
    /// to 100); a threat's id, title, stride, targets (each one element, component or flow),
    /// description, mitigation, likelihood and impact (1 to 4) and controls (at least one
    /// prevent or limit control ID; detect optional). Optional: an element's boundary, rank,
    /// attrs and platform; a flow's data, bidirectional and platform; a boundary's parent, rank
    /// and platform; a threat's applies_when, raise, refs and platform. Items of the reference
    /// models are named by their IDs, such as dkr.b.host or dkr.container:web; README.md shows
    /// a whole file. A missing or unknown key is an error naming file and line.
    #[arg(long, value_name = "FILE", help_heading = "Threat model")]
    pub model: Option<PathBuf>,
    #[arg(
        long,
        value_name = "USERS",
        value_delimiter = ',',
        help = crate::cli::TRUSTED_USERS_HELP,
        long_help = crate::cli::TRUSTED_USERS_LONG_HELP,
        help_heading = "Selection"
    )]
    pub trusted_users: Vec<String>,
    /// Date to judge risk acceptances on (default: today).
    ///
    /// YYYY-MM-DD. An acceptance holds through the day it expires.
    #[arg(long, value_name = "DATE", help_heading = "Threat model")]
    pub as_of: Option<String>,
    /// Scan these artifacts (or read a scan report) for evidence.
    ///
    /// Repeatable. Dockerfiles, compose files, Kubernetes manifests and daemon.json, as files or
    /// directories, scanned with `bulkhead scan`'s defaults; or a saved `bulkhead scan --format
    /// json` report. Each finding that corresponds to a control is evidence too: a Dockerfile
    /// whose final stage runs as root for 4.1, a secret in a compose file, a privileged pod.
    #[arg(long, value_name = "PATH", help_heading = "Threat model")]
    pub scan: Vec<PathBuf>,
}

impl ModelArgs {
    /// The files these arguments name for reading, each with its option (scanned directories
    /// included: an output file inside one is simply not the same file as any input).
    pub fn input_files(&self) -> Vec<(&'static str, &Path)> {
        let mut files = self.source.input_files();
        files.extend(self.accept.as_deref().map(|p| ("--accept", p)));
        files.extend(self.model.as_deref().map(|p| ("--model", p)));
        files.extend(self.scan.iter().map(|p| ("--scan", p.as_path())));
        files
    }
}

#[derive(Debug, Clone, Args)]
pub struct ThreatsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ThreatsFormat::Json, help_heading = "Output")]
    pub format: ThreatsFormat,
    #[command(flatten)]
    pub out: crate::cli::OutputArgs,
}

/// Everything built from one audit: the snapshot, the audits, the hardening plan (or why there
/// is none) and the threat model.
pub struct Built {
    pub audits: Vec<(Audit, Target)>,
    pub evidence: EvidenceSet,
    pub plan: Result<bulkhead_harden::Plan, String>,
    pub model: ThreatModel,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Audit arguments as `bulkhead audit` would parse them, with this command's source and numbering.
fn audit_args(m: &ModelArgs) -> Result<AuditArgs, String> {
    let cmd = AuditArgs::augment_args(clap::Command::new("audit"));
    let matches = cmd
        .try_get_matches_from(["audit"])
        .map_err(|e| format!("internal: default audit arguments: {e}"))?;
    let mut a = AuditArgs::from_arg_matches(&matches).map_err(|e| format!("internal: {e}"))?;
    a.source = m.source.clone();
    a.select.ids = m.ids.clone();
    a.trusted_users = m.trusted_users.clone();
    Ok(a)
}

/// Audit, plan and build the threat model. `select` narrows the hardening plan (report --select).
/// What [`build`] plans beside the model: `threats` needs only which controls the plan would
/// fix; `report` shows the plan itself, so it must be the plan harden makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanDetail {
    ControlsOnly,
    AsHardenWould,
}

pub fn build(m: &ModelArgs, select: &[String], detail: PlanDetail) -> Result<Built, String> {
    m.source.refuse_live_paths_with_snapshot()?;
    let target = m.target.unwrap_or(AuditTarget::All);
    let mut snapshot = acquire_snapshot(&m.source, target, &[])?;
    // The model is instantiated from the facts: the other platform's (a snapshot holds both)
    // stay out of it, as they stay out of the audit.
    match target {
        AuditTarget::Docker => snapshot.kubernetes = None,
        AuditTarget::Kubernetes => snapshot.docker = None,
        AuditTarget::All => {}
    }
    let args = audit_args(m)?;
    let audits = audit::evaluate(&snapshot, target, &args, Vec::new())?;
    let mut evidence = EvidenceSet::new();
    let mut sources = Vec::new();
    for (a, _) in &audits {
        evidence.add_audit(a);
        sources.push(format!("{} {}", a.benchmark.id, a.edition));
    }
    let scanned = scan_evidence(&m.scan, &mut evidence)?;
    if let Some(s) = &scanned {
        sources.push(s.source.clone());
    }
    let only_audits: Vec<Audit> = audits.iter().map(|(a, _)| a.clone()).collect();
    // For report, the plan `harden` would make on the same facts: on a live daemon, what each
    // container to be made read-only wrote (read-only GETs, as harden reads it), so that
    // report's tmpfs mounts are harden's; a snapshot does not hold it, and the fix says so. The
    // threat model needs only which controls get fixed, which those writes do not change: it
    // does not ask (one walk of each container's writable layer by the daemon).
    let live = m.source.snapshot.is_none();
    let request = bulkhead_harden::PlanRequest {
        select: select.to_vec(),
        container_writes: if live && detail == PlanDetail::AsHardenWould {
            bulkhead_harden::docker_api::container_writes(&snapshot, &only_audits)
        } else {
            Default::default()
        },
        from_snapshot: !live,
        ..Default::default()
    };
    let plan = bulkhead_harden::plan(&snapshot, &only_audits, &request);
    let fixes: BTreeSet<String> = plan
        .as_ref()
        .map(|p| p.fixed_controls())
        .unwrap_or_default();
    let user = match &m.model {
        Some(p) => Some(UserModel::parse(&read(p)?, &p.display().to_string())?),
        None => None,
    };
    let acceptances = match &m.accept {
        Some(p) => accept::parse(&read(p)?, &p.display().to_string())?,
        None => Vec::new(),
    };
    let as_of = match &m.as_of {
        Some(d) if accept::parse_date(d).is_some() => d.clone(),
        Some(d) => return Err(format!("--as-of {d:?} is not a date (YYYY-MM-DD)")),
        None => accept::today(),
    };
    let user_file = m
        .model
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let model = bulkhead_threats::build(&bulkhead_threats::Input {
        snapshot: &snapshot,
        evidence: &evidence,
        evidence_sources: sources,
        user: user.as_ref(),
        user_file: &user_file,
        acceptances: &acceptances,
        planned_fixes: &fixes,
        as_of: &as_of,
        tool_version: VERSION,
    })?;
    if let Some(s) = &scanned {
        s.note_uncited(&model);
    }
    Ok(Built {
        audits,
        evidence,
        plan,
        model,
    })
}

/// What `--scan` added to the evidence.
struct Scanned {
    /// `bulkhead scan (3 files, 4 findings as evidence)`, for the evidence sources.
    source: String,
    /// Controls the findings speak about, with the rules that found them.
    controls: Vec<(String, String)>,
}

impl Scanned {
    /// Findings no threat of this model cites (a Kubernetes manifest scanned on a host without
    /// Kubernetes facts) are said to be unused, never silently dropped.
    fn note_uncited(&self, model: &ThreatModel) {
        let cited = |c: &str| {
            model
                .threats
                .iter()
                .any(|t| t.controls.iter().any(|x| x.control == c))
        };
        let unused: BTreeSet<&str> = self
            .controls
            .iter()
            .filter(|(c, _)| !cited(c))
            .map(|(_, r)| r.as_str())
            .collect();
        if !unused.is_empty() {
            eprintln!(
                "bulkhead: note: --scan: no threat of this model cites the findings of {} (a Kubernetes manifest needs a node audit or --cluster-dump for the Kubernetes threats)",
                bulkhead_facts::visible::visible(&unused.into_iter().collect::<Vec<_>>().join(", "))
            );
        }
    }
}

/// Add the findings of `--scan` as evidence: a path holding a `bulkhead.scan/1` report is read,
/// any other path is scanned with the scanner's defaults. Each finding that maps to a control
/// counts (a root final stage for `docker.image.non_root_user`, a secret in a compose file for
/// `docker.image.no_secrets`, a privileged pod for `k8s.pss.no_privileged`). Files that cannot
/// be scanned are reported on stderr; a path that does not exist is an error.
fn scan_evidence(paths: &[PathBuf], evidence: &mut EvidenceSet) -> Result<Option<Scanned>, String> {
    if paths.is_empty() {
        return Ok(None);
    }
    let mut findings = Vec::new();
    let mut artifacts = Vec::new();
    let mut files = 0;
    for p in paths {
        if !p.exists() {
            return Err(format!("--scan {}: no such file or directory", p.display()));
        }
        match saved_report(p)? {
            Some(saved) => {
                findings.extend(saved);
                files += 1;
            }
            None => artifacts.push(p.clone()),
        }
    }
    if !artifacts.is_empty() {
        let report = bulkhead_scan::scan_paths(&artifacts, &bulkhead_scan::ScanOptions::default());
        for e in &report.errors {
            let e = bulkhead_facts::visible::visible(&e.to_string()).into_owned();
            eprintln!("bulkhead: note: --scan: {e}; this file gives no evidence");
        }
        files += report.files.len();
        findings.extend(report.findings);
    }
    let mut controls = Vec::new();
    for f in findings {
        let Some(control) = f.control else { continue };
        controls.push((control.clone(), f.rule.clone()));
        evidence.add_finding(Finding {
            control,
            rule: f.rule,
            object: format!("{}:{} {}", f.location.path, f.location.line, f.object),
            status: f.status,
            message: f.message,
            source: "scan".into(),
        });
    }
    Ok(Some(Scanned {
        source: format!(
            "bulkhead scan ({files} file{}, {} finding{} as evidence)",
            if files == 1 { "" } else { "s" },
            controls.len(),
            if controls.len() == 1 { "" } else { "s" }
        ),
        controls,
    }))
}

/// The findings of a saved `bulkhead.scan/1` report, or None when `path` is not one (then it is
/// an artifact to scan).
fn saved_report(path: &Path) -> Result<Option<Vec<bulkhead_scan::Finding>>, String> {
    if !path.is_file() || path.extension().and_then(|e| e.to_str()) != Some("json") {
        return Ok(None);
    }
    let text = read(path)?;
    let is_report = serde_json::from_str::<serde_json::Value>(&text)
        .is_ok_and(|v| v.get("schema").and_then(|s| s.as_str()) == Some("bulkhead.scan/1"));
    if !is_report {
        return Ok(None);
    }
    bulkhead_scan::fixes::findings_from_json(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub fn run(args: ThreatsArgs) -> Result<ExitCode, String> {
    let output = args.out.output.as_deref();
    crate::output::refuse_overwriting_inputs(output, &args.model.input_files())?;
    let b = build(&args.model, &[], PlanDetail::ControlsOnly)?;
    if let Err(e) = &b.plan {
        eprintln!(
            "bulkhead: note: no hardening plan, so projected severities equal current ones: {e}"
        );
    }
    let tm = &b.model;
    let text = match args.format {
        ThreatsFormat::Json => tm.to_json(),
        ThreatsFormat::Text => {
            bulkhead_report::threats_text::render(tm, args.out.color.enabled(output.is_some()))
        }
        ThreatsFormat::Markdown => bulkhead_report::threats_markdown::render(tm),
        ThreatsFormat::Html => bulkhead_report::threats_html::render(tm),
        ThreatsFormat::Mermaid => bulkhead_threats::mermaid::render(tm),
        ThreatsFormat::Dot => bulkhead_threats::dot::render(tm),
        ThreatsFormat::Otm => bulkhead_threats::otm::render(tm),
        ThreatsFormat::Svg => bulkhead_threats::svg::render(tm, None),
    };
    crate::output::emit(&text, output)?;
    Ok(ExitCode::SUCCESS)
}
