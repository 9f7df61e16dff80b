//! `bulkhead report`: the whole assessment in the write-up's structure (threat models,
//! benchmark results, analysis of the most important failed findings, hardening plan).

use super::threats::{build, ModelArgs, PlanDetail};
use super::VERSION;
use crate::cli::AuditTarget;
use bulkhead_report::assessment_model::Assessment;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for a repository, a wiki or a ticket.
    Markdown,
    /// One self-contained page (inline CSS and SVG, nothing fetched).
    Html,
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Findings to analyse (default: the --top riskiest failures).
    ///
    /// Comma-separated or repeated: check IDs in the --ids numbering (4.5,5.12,5.25 with --ids
    /// cis-1.2.0) or control IDs. An ID that names no check is an error. The hardening plan in
    /// the report then covers these checks only.
    #[arg(
        long,
        value_name = "IDS",
        value_delimiter = ',',
        help_heading = "Selection"
    )]
    pub select: Vec<String>,
    /// How many failures to analyse without --select.
    ///
    /// The failed checks are ranked by the likelihood times impact of the threats they leave
    /// open, each next one by those of its threats that no check above it already leaves open,
    /// so the first few name different threats.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 3,
        help_heading = "Selection"
    )]
    pub top: usize,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Markdown, help_heading = "Output")]
    pub format: ReportFormat,
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

pub fn run(args: ReportArgs) -> Result<ExitCode, String> {
    crate::output::refuse_overwriting_inputs(args.output.as_deref(), &args.model.input_files())?;
    let select: Vec<String> = args
        .select
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let b = build(&args.model, &select, PlanDetail::AsHardenWould)?;
    let numbering = args
        .model
        .ids
        .clone()
        .unwrap_or_else(|| bulkhead_report::assessment_model::numbering(&b.audits));
    let (findings, selection) = if select.is_empty() {
        let ranked = bulkhead_threats::analysis::ranked_failures(&b.model, &b.evidence);
        let n = args.top.min(ranked.len());
        (
            ranked.into_iter().take(args.top).collect::<Vec<_>>(),
            format!(
                "The {n} failed checks with the highest risk: each is ranked by the likelihood x impact of the threats it leaves open that no check above it already leaves open (use --select to choose others)."
            ),
        )
    } else {
        let mut v = Vec::new();
        for token in &select {
            let control = b
                .audits
                .iter()
                .find_map(|(a, _)| a.benchmark.find(token, &a.edition).filter(|c| c.id_in(&a.edition).is_some() || c.id == *token))
                .map(|c| c.id.clone())
                .ok_or_else(|| {
                    format!("--select {token}: no check or control with that ID in {numbering} (see `bulkhead checks list --ids ...`)")
                })?;
            v.push(bulkhead_threats::analysis::analyse(
                &b.model,
                &b.evidence,
                &control,
            ));
        }
        (
            v,
            format!("Selected findings: {} ({numbering}).", select.join(", ")),
        )
    };
    let assessment = Assessment {
        tool_version: VERSION,
        threats: &b.model,
        audits: &b.audits,
        findings,
        selection,
        plan: b.plan.as_ref().map_err(|e| e.clone()),
        left_out: match args.model.target {
            Some(AuditTarget::Docker) => Some(bulkhead_threats::Platform::Kubernetes),
            Some(AuditTarget::Kubernetes) => Some(bulkhead_threats::Platform::Docker),
            _ => None,
        },
    };
    let text = match args.format {
        ReportFormat::Markdown => bulkhead_report::assessment_markdown::render(&assessment),
        ReportFormat::Html => bulkhead_report::assessment_html::render(&assessment),
    };
    crate::output::emit(&text, args.output.as_deref())?;
    Ok(ExitCode::SUCCESS)
}
