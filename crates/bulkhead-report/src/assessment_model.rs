//! What the assessment report (`bulkhead report`) shows, gathered before rendering: the threat
//! model, the audits, the analysed findings and the hardening plan. Renderers in
//! assessment_markdown.rs and assessment_html.rs only format it.

use crate::Target;
use bulkhead_checks::{Audit, Status};
use bulkhead_harden::Plan;
use bulkhead_threats::analysis::FindingAnalysis;
use bulkhead_threats::evidence::EvidenceItem;
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

/// A finding's observations with at least this many objects that read the same (the same check,
/// status, value, source and confidence) are one item of its "What bulkhead saw" list, the
/// threshold at which the threat model's element table names a shared row once.
pub const SAME_OBSERVATION_MIN: usize = 10;

/// One item of a finding's "What bulkhead saw" list.
pub enum Seen<'a> {
    /// An observation on its own, shown as it always was.
    One(&'a EvidenceItem),
    /// The same observation on many objects ([`SAME_OBSERVATION_MIN`] or more), in the order
    /// they came: `item` is the first of them.
    Many {
        item: &'a EvidenceItem,
        objects: Vec<&'a str>,
    },
}

/// A finding's observations as the reports list them. Those that differ only in their object
/// (one check failing alike on many containers) are one item naming how many objects there are
/// and each of them, where the first of them stood; the others stay where they were, each on
/// its own, as do all of them when fewer than [`SAME_OBSERVATION_MIN`] read the same. A host
/// with 500 containers otherwise lists one line per container (41 KB of the page for one
/// finding).
pub fn seen(evidence: &[EvidenceItem]) -> Vec<Seen<'_>> {
    let same = |a: &EvidenceItem, b: &EvidenceItem| {
        a.check == b.check
            && a.control == b.control
            && a.status == b.status
            && a.actual == b.actual
            && a.source == b.source
            && a.confidence == b.confidence
    };
    // For each observation on an object, the first one that reads the same.
    let mut firsts: Vec<usize> = Vec::new();
    let mut group_of = vec![None; evidence.len()];
    let mut sizes: Vec<usize> = Vec::new();
    for (i, e) in evidence.iter().enumerate() {
        if e.named_object().is_none() {
            continue;
        }
        let g = match firsts.iter().position(|&f| same(&evidence[f], e)) {
            Some(g) => g,
            None => {
                firsts.push(i);
                sizes.push(0);
                firsts.len() - 1
            }
        };
        sizes[g] += 1;
        group_of[i] = Some(g);
    }
    let mut out = Vec::new();
    for (i, e) in evidence.iter().enumerate() {
        match group_of[i].filter(|&g| sizes[g] >= SAME_OBSERVATION_MIN) {
            Some(g) if firsts[g] == i => out.push(Seen::Many {
                item: e,
                objects: evidence
                    .iter()
                    .zip(&group_of)
                    .filter(|(_, x)| **x == Some(g))
                    .map(|(x, _)| x.object.as_str())
                    .collect(),
            }),
            Some(_) => {}
            None => out.push(Seen::One(e)),
        }
    }
    out
}

/// How the reports name the objects of a [`Seen::Many`]: `500 containers` and each container's
/// name when they are all of one kind (each object is its kind, one lowercase word, then its
/// name: `container web-000`), else `12 objects` and each object as it is.
pub fn objects_named(objects: &[&str]) -> (String, Vec<String>) {
    let kind = objects
        .first()
        .and_then(|o| o.split_once(' '))
        .map(|(k, _)| k)
        .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_lowercase()))
        .filter(|k| {
            objects.iter().all(|o| {
                o.split_once(' ')
                    .is_some_and(|(x, n)| x == *k && !n.is_empty())
            })
        });
    match kind {
        Some(k) => (
            format!("{} {}", objects.len(), plural(k)),
            objects
                .iter()
                .map(|o| o[k.len() + 1..].to_string())
                .collect(),
        ),
        None => (
            format!("{} objects", objects.len()),
            objects.iter().map(|o| o.to_string()).collect(),
        ),
    }
}

/// The English plural of an object kind (`container`, `process`, `directory`).
fn plural(kind: &str) -> String {
    let consonant_y =
        kind.ends_with('y') && !kind[..kind.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if consonant_y {
        format!("{}ies", &kind[..kind.len() - 1])
    } else if kind.ends_with(['s', 'x', 'z']) || kind.ends_with("ch") || kind.ends_with("sh") {
        format!("{kind}es")
    } else {
        format!("{kind}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulkhead_threats::evidence::Confidence;

    fn item(object: &str, actual: &str) -> EvidenceItem {
        EvidenceItem {
            check: "5.12".into(),
            control: "docker.container.read_only_rootfs".into(),
            object: object.into(),
            status: Status::Fail,
            actual: Some(actual.into()),
            source: "cis-docker 1.2.0".into(),
            confidence: Confidence::High,
        }
    }

    fn shown(s: &[Seen]) -> Vec<String> {
        s.iter()
            .map(|s| match s {
                Seen::One(e) => e.object.clone(),
                Seen::Many { objects, .. } => format!("{} from {}", objects.len(), objects[0]),
            })
            .collect()
    }

    #[test]
    fn the_same_observation_on_ten_objects_is_one_item_where_the_first_stood() {
        let mut ev = vec![item("daemon docker", "x")];
        for i in 0..12 {
            ev.push(item(
                &format!("container web-{i:02}"),
                "ReadonlyRootfs = false",
            ));
            if i == 3 {
                ev.push(item("container odd", "ReadonlyRootfs = maybe"));
            }
        }
        ev.push(item(
            bulkhead_threats::evidence::NO_OBJECT,
            "ReadonlyRootfs = false",
        ));
        assert_eq!(
            shown(&seen(&ev)),
            [
                "daemon docker",
                "12 from container web-00",
                "container odd",
                "-"
            ]
        );
        // Nine alike stay nine items, in their order.
        let nine: Vec<_> = (0..9)
            .map(|i| item(&format!("container web-{i}"), "v"))
            .collect();
        assert_eq!(shown(&seen(&nine)).len(), 9);
        assert!(matches!(seen(&nine)[0], Seen::One(_)));
    }

    #[test]
    fn objects_are_named_by_their_kind_when_they_share_it() {
        assert_eq!(
            objects_named(&["container a", "container b"]),
            (
                "2 containers".to_string(),
                vec!["a".to_string(), "b".to_string()]
            )
        );
        assert_eq!(
            objects_named(&["process kubelet (pid 1)", "process dockerd (pid 2)"]).0,
            "2 processes"
        );
        assert_eq!(
            objects_named(&["directory /a", "directory /b"]).0,
            "2 directories"
        );
        assert_eq!(
            objects_named(&["container a", "image b"]),
            (
                "2 objects".to_string(),
                vec!["container a".to_string(), "image b".to_string()]
            )
        );
        assert_eq!(
            objects_named(&["Container a", "Container b"]).0,
            "2 objects"
        );
    }
}
