//! What the assessment report (`bulkhead report`) shows, gathered before rendering: the threat
//! model, the audits, the analysed findings and the hardening plan. Renderers in
//! assessment_markdown.rs and assessment_html.rs only format it.

use crate::Target;
use bulkhead_checks::{Audit, Status};
use bulkhead_harden::Plan;
use bulkhead_threats::analysis::FindingAnalysis;
use bulkhead_threats::ThreatModel;

pub struct Assessment<'a> {
    pub tool_version: &'a str,
    pub threats: &'a ThreatModel,
    pub audits: &'a [(Audit, Target)],
    /// The findings to analyse, most important first.
    pub findings: Vec<FindingAnalysis>,
    /// How they were chosen ("the three failed checks with the highest risk", "selected: ...").
    pub selection: String,
    /// The hardening plan for the failing checks, or why there is none.
    pub plan: Result<&'a Plan, String>,
}

/// Failed checks of an audit, in benchmark order.
pub fn failed(a: &Audit) -> Vec<&bulkhead_checks::Outcome> {
    a.outcomes
        .iter()
        .filter(|o| o.result.status == Status::Fail)
        .collect()
}

/// "CIS Docker Benchmark, numbering cis-1.2.0".
pub fn audit_label(a: &Audit) -> String {
    format!("{} (numbering cis-{})", a.benchmark.name, a.edition)
}

/// The fixes of the plan that close `control`.
pub fn fixes_for<'p>(plan: &'p Plan, control: &str) -> Vec<&'p bulkhead_harden::Fix> {
    plan.fixes
        .iter()
        .filter(|f| f.controls.iter().any(|c| c == control))
        .collect()
}
