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
    /// How they were chosen ("the three failed checks with the highest risk", "selected: ..."),
    /// as the caller words it; renderers show [`Assessment::selection_line`].
    pub selection: String,
    /// The hardening plan for the failing checks, or why there is none.
    pub plan: Result<&'a Plan, String>,
    /// The platform the report was asked to leave out (`bulkhead report docker` leaves out
    /// Kubernetes): its section says so rather than that nothing of it was found.
    pub left_out: Option<bulkhead_threats::Platform>,
}

impl Assessment<'_> {
    /// Why a platform's threat model section is empty, when the report was asked to leave it out.
    pub fn left_out_note(&self, p: bulkhead_threats::Platform) -> Option<String> {
        (self.left_out == Some(p)).then(|| {
            let (name, asked) = match p {
                bulkhead_threats::Platform::Docker => ("Docker", "kubernetes"),
                _ => ("Kubernetes", "docker"),
            };
            format!("Left out: this report covers {asked} only (`bulkhead report {asked}`); the {name} threats were not evaluated.")
        })
    }

    /// The sentence that opens the analysis section. With no finding to analyse, a count of zero
    /// ("the 0 failed checks ...") would read as a glitch: it says why there is none.
    pub fn selection_line(&self) -> String {
        if self.findings.is_empty() {
            let failing = self
                .audits
                .iter()
                .any(|(a, _)| a.outcomes.iter().any(|o| o.result.status == Status::Fail));
            return if failing {
                "No finding was asked for, so none is analysed.".to_string()
            } else {
                "No check failed, so there is no failed finding to analyse.".to_string()
            };
        }
        self.selection.clone()
    }
}

/// The check numbering of the audits: "cis-1.6.0", or each benchmark's when there are several
/// ("cis-1.6.0 for CIS Docker Benchmark, cis-1.9.0 for CIS Kubernetes Benchmark").
pub fn numbering(audits: &[(Audit, Target)]) -> String {
    match audits {
        [] => "no numbering (nothing was audited)".to_string(),
        [(a, _)] => format!("cis-{}", a.edition),
        _ => audits
            .iter()
            .map(|(a, _)| format!("cis-{} for {}", a.edition, a.benchmark.name))
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The heading over the threats a finding's control takes part in. Only a failing control
/// leaves them open; a passing one guards against them, and one that was not settled may.
pub fn threats_heading(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Fail) => "Threats it leaves open",
        Some(Status::Pass) => "Threats it guards against",
        Some(Status::Info | Status::NotApplicable) => "Threats it bears on",
        Some(Status::Warn | Status::Error | Status::Manual) | None => "Threats it may leave open",
    }
}

/// The heading over the remediation of a finding: a selected check that passes needs no fix,
/// but the same steps keep it passing.
pub fn fix_heading(status: Option<Status>) -> &'static str {
    if status == Some(Status::Pass) {
        "How to keep it passing"
    } else {
        "How to fix it"
    }
}

/// What a finding's line about the plan says when the plan has no step for its control.
pub fn no_plan_step(status: Option<Status>) -> &'static str {
    if status == Some(Status::Pass) {
        "The check passes, so the hardening plan has nothing to change for it."
    } else {
        "The hardening plan has no automatic fix for this check."
    }
}

/// The count of each status in an audit, and its score: the same sentence in every format, so an
/// auditor comparing the HTML and the Markdown finds the same figures.
pub fn results_line(a: &Audit) -> String {
    let s = crate::audit_json::Summary::of(a);
    format!(
        "{} checks: {}. Score {}{}.",
        s.total,
        s.counts(),
        s.score,
        s.score_percent
            .map(|p| format!(" ({p}% of scored checks pass)"))
            .unwrap_or_default()
    )
}

/// Checks of an audit that need attention (fail, error, warn), in benchmark order.
pub fn needing_attention(a: &Audit) -> Vec<&bulkhead_checks::Outcome> {
    a.outcomes
        .iter()
        .filter(|o| matches!(o.result.status, Status::Fail | Status::Error | Status::Warn))
        .collect()
}

/// What the results table of section 3 lists, said above it; `code` wraps the command.
pub fn attention_note(code: impl Fn(&str) -> String) -> String {
    format!(
        "The checks that fail, could not be evaluated or need review; those that pass, inform, are left to judgement or do not apply are in the full audit report ({}).",
        code("bulkhead audit")
    )
}

/// `[FAIL]`, `[ERROR]`, `[WARN]`.
pub fn status_tag(s: Status) -> String {
    format!("[{}]", s.as_str().to_uppercase())
}

/// How many fixes of a plan `--apply` applies as it is, and how many also need
/// `--include-review`.
pub fn safe_and_review(plan: &Plan) -> (usize, usize) {
    let review = plan
        .fixes
        .iter()
        .filter(|f| f.safety == bulkhead_harden::Safety::Review)
        .count();
    (plan.fixes.len() - review, review)
}

/// The sentence above the plan's fixes, with `code` wrapping each command for the format.
pub fn apply_advice(plan: &Plan, code: impl Fn(&str) -> String) -> String {
    let apply = code("bulkhead harden --apply");
    let with_review = code("bulkhead harden --apply --include-review");
    let verify = code("bulkhead verify");
    match safe_and_review(plan) {
        (_, 0) => format!("Apply with {apply} (each file is backed up first), then {verify}."),
        (0, _) => format!(
            "Every fix below may break something (see each one's risks): read them, then apply with {with_review} (each file is backed up first; commands are left to you), and run {verify}."
        ),
        (safe, review) => format!(
            "{apply} applies the {safe} safe {} (each file is backed up first); the {review} marked review may break something and need {with_review} after reading them (commands are left to you). Then run {verify}.",
            if safe == 1 { "fix" } else { "fixes" }
        ),
    }
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

/// The line above the plan's list of what it cannot fix, with `code` wrapping the command. When
/// that list is all the plan holds, it says so: the checks still fail, and each entry says what
/// is needed (a value to give harden, or work by hand).
pub fn unfixed_heading(plan: &Plan, code: impl Fn(&str) -> String) -> String {
    if plan.fixes.is_empty() {
        format!(
            "No failing check has an automatic fix. Each needs what its line says (a value to give {}, or a change by hand):",
            code("bulkhead harden")
        )
    } else {
        "Not fixed automatically:".to_string()
    }
}

/// What a finding means: the catalog's rationale, else what its status says about the threats
/// its control takes part in (a selected check need not fail). The rationale is authored prose,
/// shown through `rationale`; the check's and the threats' IDs and titles go through `text`,
/// since a user's `--model` file can supply them.
pub fn meaning(
    f: &FindingAnalysis,
    rationale: impl Fn(&str) -> String,
    text: impl Fn(&str) -> String,
) -> String {
    if !f.rationale.is_empty() {
        return rationale(&f.rationale);
    }
    let list = f
        .open_threats
        .iter()
        .map(|t| format!("{} ({})", text(&t.id), text(&t.title)))
        .collect::<Vec<_>>()
        .join(", ");
    let (verdict, threats) = match f.status {
        Some(Status::Fail) => ("does not hold", format!(", which leaves {list} open")),
        Some(Status::Pass) => ("holds", format!(", which guards against {list}")),
        Some(Status::NotApplicable) => ("does not apply here", format!("; it bears on {list}")),
        Some(Status::Info) => ("only informs", format!("; it bears on {list}")),
        _ => ("was not settled here", format!("; it bears on {list}")),
    };
    let title = text(&f.title);
    if f.open_threats.is_empty() {
        format!("The check \"{title}\" {verdict}.")
    } else {
        format!("The check \"{title}\" {verdict}{threats}.")
    }
}
