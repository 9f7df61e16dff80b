//! `bulkhead threats`: audit (or load a snapshot), build the STRIDE threat model from that
//! evidence, and render it as JSON, Markdown, HTML, Mermaid, DOT, OTM or SVG.
//!
//! The shared steps (audit, evidence, hardening plan, threat model) are also used by
//! `bulkhead report`.

use super::{acquire_snapshot, audit, VERSION};
use crate::cli::{AuditArgs, AuditTarget, SourceArgs};
use bulkhead_checks::Audit;
use bulkhead_report::Target;
use bulkhead_threats::{accept, EvidenceSet, ThreatModel, UserModel};
use clap::{Args, FromArgMatches};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ThreatsFormat {
    /// The documented `bulkhead.threats/1` document.
    Json,
    Markdown,
    /// One self-contained page with the data-flow diagram as inline SVG.
    Html,
    Mermaid,
    Dot,
    /// Open Threat Model JSON (Threat Dragon, IriusRisk).
    Otm,
    /// The data-flow diagram alone.
    Svg,
}

/// Inputs shared by `threats` and `report`.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Check numbering for evidence and selections: cis-1.6.0 (default), cis-1.2.0 (the
    /// write-up's: 4.5, 5.12, 5.25), ... and cis-1.12 for Kubernetes.
    #[arg(long, value_name = "NUMBERING", help_heading = "Selection")]
    pub ids: Option<String>,
    /// Risk acceptances: YAML with `accept:` entries {threat, reason, owner, expires}.
    #[arg(long, value_name = "FILE", help_heading = "Threat model")]
    pub accept: Option<PathBuf>,
    /// Your additions to the model: YAML with `elements`, `flows`, `boundaries`, `threats`.
    #[arg(long, value_name = "FILE", help_heading = "Threat model")]
    pub model: Option<PathBuf>,
    /// Users trusted to control the Docker daemon (1.1.2).
    #[arg(long, value_name = "USERS", value_delimiter = ',', help_heading = "Selection")]
    pub trusted_users: Vec<String>,
    /// Judge risk acceptances on this date (YYYY-MM-DD) instead of today.
    #[arg(long, value_name = "DATE", help_heading = "Threat model")]
    pub as_of: Option<String>,
    /// Findings of `bulkhead scan --format json` to use as evidence too (artifact findings
    /// that correspond to a control, such as a Dockerfile without USER for 4.1).
    #[arg(long, value_name = "FILE", help_heading = "Threat model")]
    pub scan: Option<PathBuf>,
}

#[derive(Debug, Clone, Args)]
pub struct ThreatsArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ThreatsFormat::Json, help_heading = "Output")]
    pub format: ThreatsFormat,
    /// Write to FILE instead of stdout (atomically).
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
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
pub fn build(m: &ModelArgs, select: &[String]) -> Result<Built, String> {
    let snapshot = acquire_snapshot(&m.source, AuditTarget::All, &[])?;
    let args = audit_args(m)?;
    let audits = audit::evaluate(&snapshot, AuditTarget::All, &args, Vec::new())?;
    let mut evidence = EvidenceSet::new();
    let mut sources = Vec::new();
    for (a, _) in &audits {
        evidence.add_audit(a);
        sources.push(format!("{} {}", a.benchmark.id, a.edition));
    }
    if let Some(p) = &m.scan {
        let findings = bulkhead_scan::fixes::findings_from_json(&read(p)?)
            .map_err(|e| format!("{}: {e}", p.display()))?;
        for f in findings {
            let Some(control) = f.control else { continue };
            evidence.add_finding(bulkhead_threats::Finding {
                control,
                rule: f.rule,
                object: format!("{}:{} {}", f.location.path, f.location.line, f.object),
                status: f.status,
                message: f.message,
                source: "scan".into(),
            });
        }
        sources.push(format!("bulkhead scan {}", p.display()));
    }
    let only_audits: Vec<Audit> = audits.iter().map(|(a, _)| a.clone()).collect();
    let request = bulkhead_harden::PlanRequest {
        select: select.to_vec(),
        ..Default::default()
    };
    let plan = bulkhead_harden::plan(&snapshot, &only_audits, &request);
    let fixes: BTreeSet<String> = plan.as_ref().map(|p| p.fixed_controls()).unwrap_or_default();
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
    let user_file = m.model.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
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
    Ok(Built {
        audits,
        evidence,
        plan,
        model,
    })
}

pub fn run(args: ThreatsArgs) -> Result<ExitCode, String> {
    let b = build(&args.model, &[])?;
    if let Err(e) = &b.plan {
        eprintln!("bulkhead: note: no hardening plan, so projected severities equal current ones: {e}");
    }
    let tm = &b.model;
    let text = match args.format {
        ThreatsFormat::Json => tm.to_json(),
        ThreatsFormat::Markdown => bulkhead_report::threats_markdown::render(tm),
        ThreatsFormat::Html => bulkhead_report::threats_html::render(tm),
        ThreatsFormat::Mermaid => bulkhead_threats::mermaid::render(tm),
        ThreatsFormat::Dot => bulkhead_threats::dot::render(tm),
        ThreatsFormat::Otm => bulkhead_threats::otm::render(tm),
        ThreatsFormat::Svg => bulkhead_threats::svg::render(tm, None),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
