//! The planner: failing check outcomes + the snapshot -> fixes.
//!
//! It selects the outcomes to fix (all failing, `--select`, or the controls of `--threat`), hands
//! each fixer of the registry ([`crate::fixers::REGISTRY`]) the outcomes whose controls it
//! handles, and collects fixes and the reasons for what stays unfixed. A selected failing check
//! that no fixer handles is reported as unfixed, never dropped.

use crate::fixers::REGISTRY;
use crate::model::{Fix, Plan, Unfixed};
use crate::request::{PlanRequest, ThreatLink};
use bulkhead_checks::{Audit, Benchmark, ObjectResult, Outcome, Selection, Status};
use bulkhead_facts::Snapshot;
use std::collections::BTreeSet;
use std::path::PathBuf;

/// One selected check outcome to fix, with the objects that need fixing.
#[derive(Debug, Clone)]
pub struct Failing<'a> {
    pub benchmark: &'static Benchmark,
    pub edition: &'a str,
    pub outcome: &'a Outcome,
    /// Objects whose status asks for a fix (fail; warn and manual too when explicitly selected).
    /// Empty when the check has no per-object results.
    pub objects: Vec<&'a ObjectResult>,
}

impl Failing<'_> {
    pub fn check_id(&self) -> &str {
        &self.outcome.check_id
    }

    pub fn control_id(&self) -> &str {
        &self.outcome.control.id
    }

    /// An unfixed entry for this check.
    pub fn unfixed(&self, object: Option<&str>, reason: impl Into<String>) -> Unfixed {
        Unfixed {
            check: self.check_id().to_string(),
            control: self.control_id().to_string(),
            object: object.map(String::from),
            reason: reason.into(),
            rule: None,
        }
    }
}

/// What a fixer sees besides its outcomes.
pub struct PlanContext<'a> {
    pub snapshot: &'a Snapshot,
    pub request: &'a PlanRequest,
    /// Where host files are read.
    pub root: PathBuf,
}

impl PlanContext<'_> {
    pub fn options(&self) -> &crate::request::FixOptions {
        &self.request.options
    }
}

/// What one fixer produced.
#[derive(Debug, Default)]
pub struct Planned {
    pub fixes: Vec<Fix>,
    pub unfixed: Vec<Unfixed>,
}

impl Planned {
    pub fn extend(&mut self, other: Planned) {
        self.fixes.extend(other.fixes);
        self.unfixed.extend(other.unfixed);
    }
}

/// Plan fixes for the failing checks of `audits` (see the crate documentation).
pub fn plan(snapshot: &Snapshot, audits: &[Audit], request: &PlanRequest) -> Result<Plan, String> {
    request.options.validate()?;
    let links = threat_links(request);
    let threat_controls = controls_of_threats(&request.threats, &links)?;
    let selection = Selection::new(request.select.clone(), Vec::new());
    let explicit = !request.select.is_empty();
    if explicit {
        let pairs: Vec<(&Benchmark, &str)> = audits
            .iter()
            .map(|a| (a.benchmark, a.edition.as_str()))
            .collect();
        let unknown = selection.unknown_tokens(&pairs);
        if !unknown.is_empty() {
            return Err(format!(
                "--select: {} names no check, section or control in the selected numbering (see `bulkhead checks list`)",
                unknown.join(", ")
            ));
        }
    }
    let wanted =
        |s: Status| s == Status::Fail || (explicit && matches!(s, Status::Warn | Status::Manual));
    let mut failing: Vec<Failing> = Vec::new();
    // What the audit could not judge gets no fix, and says why (see `unjudged`).
    let mut not_judged: Vec<Unfixed> = Vec::new();
    for audit in audits {
        for outcome in &audit.outcomes {
            if explicit && !selection.includes(outcome.control, audit.benchmark, &audit.edition) {
                continue;
            }
            if let Some(tc) = &threat_controls {
                if !tc.contains(&outcome.control.id) {
                    continue;
                }
            }
            if outcome.result.status == Status::Error || wanted(outcome.result.status) {
                not_judged.extend(unjudged(outcome));
            }
            if !wanted(outcome.result.status) {
                continue;
            }
            failing.push(Failing {
                benchmark: audit.benchmark,
                edition: &audit.edition,
                outcome,
                objects: outcome
                    .result
                    .objects
                    .iter()
                    .filter(|o| wanted(o.status))
                    .collect(),
            });
        }
    }
    let root = request.root.clone().unwrap_or_else(|| {
        PathBuf::from(if snapshot.host.root.is_empty() {
            "/"
        } else {
            &snapshot.host.root
        })
    });
    let ctx = PlanContext {
        snapshot,
        request,
        root: root.clone(),
    };
    let mut out = Planned::default();
    for fixer in REGISTRY {
        let mine: Vec<Failing> = failing
            .iter()
            .filter(|f| (fixer.handles)(f.control_id()))
            .cloned()
            .collect();
        if !mine.is_empty() {
            out.extend((fixer.plan)(&ctx, &mine));
        }
    }
    // Nothing is dropped: a failing check that got neither a fix nor a reason gets one.
    for f in &failing {
        let covered = out
            .fixes
            .iter()
            .any(|x| x.controls.iter().any(|c| c == f.control_id()))
            || out.unfixed.iter().any(|u| u.control == f.control_id());
        if !covered {
            let handled = REGISTRY.iter().any(|x| (x.handles)(f.control_id()));
            out.unfixed
                .push(f.unfixed(None, uncovered_reason(f.check_id(), handled)));
        }
    }
    out.unfixed.extend(not_judged);
    for fix in &mut out.fixes {
        fix.threats = threats_for(&fix.controls, &links);
    }
    Ok(Plan {
        numbering: audits
            .iter()
            .map(|a| (a.benchmark.id.clone(), a.edition.clone()))
            .collect(),
        root: root.display().to_string(),
        fixes: out.fixes,
        unfixed: out.unfixed,
        scan: None,
    })
}

/// Why a failing check got neither a fix nor a reason from a fixer: none handles it, or the one
/// that does found nothing to change in the evidence. Either way the command that shows the
/// check's remediation names the check, so that it can be run as printed.
fn uncovered_reason(check: &str, handled: bool) -> String {
    if handled {
        format!("no fix could be derived from the evidence; see `bulkhead checks explain {check}` for the remediation")
    } else {
        format!(
            "bulkhead has no automatic fix for this check; see `bulkhead checks explain {check}`"
        )
    }
}

/// The parts of an outcome the audit could not judge (status `error`): the whole check, or the
/// objects in error of a check whose other objects are planned. No fix is derived from facts that
/// could not be read; each says why, so that the plan is not silently shorter than the audit.
fn unjudged(outcome: &Outcome) -> Vec<Unfixed> {
    let r = &outcome.result;
    let unfixed = |object: Option<String>, why: &str| {
        Unfixed {
        check: outcome.check_id.clone(),
        control: outcome.control.id.clone(),
        object,
        reason: format!(
            "the audit could not judge it ({why}); nothing is planned until it can: correct what it names, then run harden again"
        ),
        rule: None,
    }
    };
    let why_of = |o: &ObjectResult| {
        o.note.clone().or_else(|| {
            o.evidence
                .as_ref()
                .map(|e| format!("{}: {}", e.field, e.actual))
        })
    };
    let errors: Vec<&ObjectResult> = r
        .objects
        .iter()
        .filter(|o| o.status == Status::Error)
        .collect();
    if r.status == Status::Error {
        let why = r
            .message
            .clone()
            .or_else(|| errors.first().and_then(|o| why_of(o)))
            .unwrap_or_else(|| "no reason was recorded".into());
        return vec![unfixed(None, &why)];
    }
    errors
        .into_iter()
        .map(|o| {
            let why = why_of(o).unwrap_or_else(|| "no reason was recorded".into());
            unfixed(Some(o.name.clone()), &why)
        })
        .collect()
}

pub(crate) fn threat_links(request: &PlanRequest) -> Vec<ThreatLink> {
    match &request.threat_links {
        Some(l) => l.clone(),
        None => crate::threats::library_links(),
    }
}

pub(crate) fn controls_of_threats(
    threats: &[String],
    links: &[ThreatLink],
) -> Result<Option<BTreeSet<String>>, String> {
    if threats.is_empty() {
        return Ok(None);
    }
    let mut set = BTreeSet::new();
    for t in threats
        .iter()
        .flat_map(|t| t.split(','))
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        match links.iter().find(|l| l.threat.eq_ignore_ascii_case(t)) {
            Some(l) => set.extend(l.controls.iter().cloned()),
            None if links.is_empty() => {
                return Err(format!(
                    "--threat {t}: the threat library is not available in this build"
                ))
            }
            None => {
                return Err(format!(
                    "--threat {t}: no such threat (see `bulkhead threats`; known: {})",
                    links
                        .iter()
                        .map(|l| l.threat.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            }
        }
    }
    Ok(Some(set))
}

pub(crate) fn threats_for(controls: &[String], links: &[ThreatLink]) -> Vec<String> {
    let set: BTreeSet<String> = links
        .iter()
        .filter(|l| l.controls.iter().any(|c| controls.contains(c)))
        .map(|l| l.threat.clone())
        .collect();
    set.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both reasons for a check no fixer covered name it in the command they point to: `bulkhead
    /// checks explain` without an ID explains nothing.
    #[test]
    fn an_uncovered_check_is_named_in_the_command_its_reason_gives() {
        for handled in [true, false] {
            let why = uncovered_reason("5.12", handled);
            assert!(why.contains("`bulkhead checks explain 5.12`"), "{why}");
        }
    }
}
