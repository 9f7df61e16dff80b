//! `--format json`: the documented `bulkhead.audit/1` schema (see docs/json-audit.md).

use crate::Target;
use bulkhead_checks::{Audit, ObjectResult, Outcome, Status};
use serde::Serialize;
use std::collections::BTreeMap;

pub const SCHEMA: &str = "bulkhead.audit/1";

#[derive(Debug, Serialize)]
pub struct AuditDocument<'a> {
    pub schema: &'static str,
    pub tool: Tool,
    pub target: &'a Target,
    pub benchmark: BenchmarkRef,
    pub results: Vec<ResultEntry<'a>>,
    pub summary: Summary,
}

#[derive(Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: String,
}

#[derive(Debug, Serialize)]
pub struct BenchmarkRef {
    /// `cis-docker`, `cis-kubernetes`.
    pub id: String,
    /// The benchmark edition whose checks were evaluated.
    pub version: String,
    /// The numbering the IDs are shown in (`cis-1.2.0` when `--ids cis-1.2.0`).
    pub numbering: String,
    /// Checks of this edition the selected numbering has no ID for: evaluated like the others
    /// and listed last, under their control ID, in section [`UNNUMBERED`].
    pub not_numbered: usize,
}

#[derive(Debug, Serialize)]
pub struct ResultEntry<'a> {
    pub id: &'a str,
    pub control: &'a str,
    pub title: &'a str,
    pub section: String,
    pub status: Status,
    pub scored: bool,
    pub automated: bool,
    pub stride: String,
    /// Kubernetes: the target group of the check (`master`, `etcd`, `controlplane`, `node`,
    /// `policies`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    pub aliases: BTreeMap<String, String>,
    pub objects: &'a [ObjectResult],
    pub remediation: &'a str,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub total: usize,
    pub pass: usize,
    pub fail: usize,
    pub warn: usize,
    pub info: usize,
    pub manual: usize,
    pub not_applicable: usize,
    pub error: usize,
    /// docker-bench's score on correct verdicts: scored passes minus scored failures.
    pub score: i64,
    /// Share of scored, evaluated checks that pass (null when none was evaluated).
    pub score_percent: Option<f64>,
}

impl Summary {
    pub fn of(audit: &Audit) -> Summary {
        Summary {
            total: audit.outcomes.len(),
            pass: audit.count(Status::Pass),
            fail: audit.count(Status::Fail),
            warn: audit.count(Status::Warn),
            info: audit.count(Status::Info),
            manual: audit.count(Status::Manual),
            not_applicable: audit.count(Status::NotApplicable),
            error: audit.count(Status::Error),
            score: audit.score(),
            score_percent: audit.score_percent(),
        }
    }

    /// "N pass, N fail, N warn, N info, N manual, N not applicable, N error": every status, in
    /// the order every output lists them, so the terminal summary and the reports agree.
    pub fn counts(&self) -> String {
        format!(
            "{} pass, {} fail, {} warn, {} info, {} manual, {} not applicable, {} error",
            self.pass,
            self.fail,
            self.warn,
            self.info,
            self.manual,
            self.not_applicable,
            self.error
        )
    }
}

/// The section a check ID belongs to: its first component (`5.13` -> `5`).
pub fn section_of(check_id: &str) -> String {
    check_id.split('.').next().unwrap_or(check_id).to_string()
}

/// The section of the checks a numbering does not number (newer than it): they are evaluated
/// all the same and listed last, each under its control ID.
pub const UNNUMBERED: &str = "unnumbered";

/// The section a result is listed in: its check ID's first component, or [`UNNUMBERED`].
pub fn section_of_outcome(audit: &Audit, o: &Outcome) -> String {
    if o.control.id_in(&audit.edition).is_some() {
        section_of(&o.check_id)
    } else {
        UNNUMBERED.to_string()
    }
}

/// A section's title in the audit's numbering, [`UNNUMBERED`] included.
pub fn section_title(audit: &Audit, section: &str) -> String {
    if section == UNNUMBERED {
        return format!(
            "Checks of {} {} that {} does not number (by control ID)",
            audit.benchmark.name,
            audit.benchmark.default_edition(),
            numbering_label(&audit.edition)
        );
    }
    audit
        .benchmark
        .section_titles(&audit.edition)
        .get(section)
        .cloned()
        .unwrap_or_default()
}

/// How many checks of the audit's edition its numbering does not number.
pub fn not_numbered(audit: &Audit) -> usize {
    let b = audit.benchmark;
    b.controls_in(b.default_edition()).len() - b.controls_in(&audit.edition).len()
}

/// The default edition the catalog's checks are written against.
pub fn numbering_label(edition: &str) -> String {
    format!("cis-{edition}")
}

pub fn document<'a>(audit: &'a Audit, target: &'a Target, tool_version: &str) -> AuditDocument<'a> {
    let b = audit.benchmark;
    AuditDocument {
        schema: SCHEMA,
        tool: Tool {
            name: "bulkhead",
            version: tool_version.to_string(),
        },
        target,
        benchmark: BenchmarkRef {
            id: b.id.clone(),
            version: b.default_edition().to_string(),
            numbering: numbering_label(&audit.edition),
            not_numbered: not_numbered(audit),
        },
        results: audit
            .outcomes
            .iter()
            .map(|o| ResultEntry {
                id: &o.check_id,
                control: &o.control.id,
                title: &o.control.title,
                section: section_of_outcome(audit, o),
                status: o.result.status,
                scored: o.control.scored,
                automated: o.control.automated,
                stride: o.control.stride.iter().map(|s| s.letter()).collect(),
                target: o.control.target.as_deref(),
                message: o.result.message.as_deref(),
                aliases: o.control.aliases(&audit.edition),
                objects: &o.result.objects,
                remediation: o.control.remediation.trim(),
            })
            .collect(),
        summary: Summary::of(audit),
    }
}

/// One document for one audit; an array of documents when several benchmarks were audited.
pub fn render(audits: &[(Audit, Target)], tool_version: &str) -> String {
    let docs: Vec<_> = audits
        .iter()
        .map(|(a, t)| document(a, t, tool_version))
        .collect();
    let mut s = if docs.len() == 1 {
        serde_json::to_string_pretty(&docs[0])
    } else {
        serde_json::to_string_pretty(&docs)
    }
    .expect("audit documents serialize");
    s.push('\n');
    s
}
