//! Evaluation: each threat's status, severity and confidence, computed from evidence.
//!
//! A control's verdict counts as: pass; fail; *needs review* (warn, manual, info: observed, but a
//! person must judge it); *not evaluated* (its check reported an error, an input it needs was not
//! given, such as the cluster dump for the policy checks, or nothing observed it); or not
//! applicable (the check says it does not apply here, with the input it needed at hand).
//!
//! Status rules (a threat's `prevent` controls must all hold; `limit` and `detect` help; a threat
//! that names no preventive control is judged on its limiting ones instead):
//! - **not_applicable**: its own condition (`applies_when`) does not hold, nothing it targets
//!   exists here, or a provider runs the control plane every one of its controls belongs to. A
//!   failing preventive control overrides the second reason: the evidence then shows the threat
//!   on this system although the model has no item for it (a scanned manifest, a workload the
//!   model could not place), and the threat is judged by the rules below. A not-applicable
//!   threat never cites evidence that keeps a threat open (a failure, a verdict that needs
//!   review): that evidence bears on other threats, and a note names what was left out;
//! - **unknown** when every control it names is not applicable: a control that does not apply
//!   mitigates nothing, so nothing bulkhead checks mitigates the threat ([`NOTHING_MITIGATES`]);
//!   a threat that should not apply then needs an `applies_when` condition saying when it does;
//! - **exposed**: a preventive control fails;
//! - **unknown**: a preventive control was not evaluated (the reason names the missing input or
//!   the error), no preventive control passes, or none applies here while other controls do;
//! - **mitigated**: every applicable preventive control passes and no limiting control fails;
//! - **partially_mitigated**: prevention holds but a limiting control fails, or some preventive
//!   controls pass while the others need review;
//! - **accepted**: a risk-acceptance entry in force covers it (the computed status is kept).
//!
//! Limiting and detecting controls that were not evaluated are named at the end of the reason.
//!
//! The same rules give a threat's status on each of its targets ([`ThreatResult::by_target`]),
//! judged on the evidence about that item: a control's observations whose object names it
//! (`container web` names `dkr.container:web`, see [`ItemObjects`]) decide that control there;
//! a control with no observation naming the item (a daemon-wide setting) counts with its
//! overall verdict. Diagrams colour elements and flows by these statuses.
//!
//! Severity is likelihood x impact (both 1-4): up to 2 low, up to 4 medium, up to 8 high, above
//! that critical. Each `raise` whose evidence holds adds one to the likelihood (at most 4); a
//! partially mitigated threat counts one less; a mitigated one is low; not applicable is none.
//! The projected severity repeats this as if the planned fixes were applied: their controls
//! pass, and the raises they remove no longer count.

use crate::accept::{in_force, Acceptance};
use crate::condition::Scope;
use crate::evidence::{Confidence, EvidenceItem, EvidenceSet, MissingInput};
use crate::library::{Refs, Role, ThreatDef};
use crate::model::{Model, Platform};
use bulkhead_checks::Status;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ThreatStatus {
    Mitigated,
    PartiallyMitigated,
    Exposed,
    Unknown,
    NotApplicable,
    Accepted,
}

impl ThreatStatus {
    pub const ALL: [ThreatStatus; 6] = [
        ThreatStatus::Exposed,
        ThreatStatus::PartiallyMitigated,
        ThreatStatus::Unknown,
        ThreatStatus::Accepted,
        ThreatStatus::Mitigated,
        ThreatStatus::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ThreatStatus::Mitigated => "mitigated",
            ThreatStatus::PartiallyMitigated => "partially_mitigated",
            ThreatStatus::Exposed => "exposed",
            ThreatStatus::Unknown => "unknown",
            ThreatStatus::NotApplicable => "not_applicable",
            ThreatStatus::Accepted => "accepted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ThreatStatus::Mitigated => "mitigated",
            ThreatStatus::PartiallyMitigated => "partially mitigated",
            ThreatStatus::Exposed => "exposed",
            ThreatStatus::Unknown => "unknown",
            ThreatStatus::NotApplicable => "not applicable",
            ThreatStatus::Accepted => "accepted",
        }
    }

    /// The colour diagrams use for this status (stroke and legend).
    ///
    /// Each colour reaches WCAG AA contrast (4.5:1) on white, as text in the diagram's badges
    /// and legend: exposed red `#c62828` 5.6:1, partially mitigated burnt orange `#9a4a00`
    /// 6.3:1, unknown purple `#6a1b9a` 9.4:1, accepted blue `#1565c0` 5.8:1, mitigated green
    /// `#2e7d32` 5.1:1, not applicable grey `#757575` 4.6:1. They differ in hue and lightness
    /// (CIELAB L* from 30 for unknown to 49 for not applicable), so no two are closer than
    /// ΔE2000 18 for normal vision or 5 under simulated protanopia, deuteranopia or tritanopia;
    /// unknown and not applicable (two greys once, ΔE2000 7.7) are at least 24 apart under
    /// each. Colour is never the only cue: see [`ThreatStatus::dash`].
    pub fn colour(self) -> &'static str {
        match self {
            ThreatStatus::Exposed => "#c62828",
            ThreatStatus::PartiallyMitigated => "#9a4a00",
            ThreatStatus::Unknown => "#6a1b9a",
            ThreatStatus::Accepted => "#1565c0",
            ThreatStatus::Mitigated => "#2e7d32",
            ThreatStatus::NotApplicable => "#757575",
        }
    }

    /// The dash pattern (an SVG `stroke-dasharray`) of the strokes drawn in this status, the
    /// cue besides colour for the statuses that say the evidence does not settle the threat:
    /// unknown is dash-dotted, not applicable dotted, every other status solid. Diagrams draw
    /// elements, flows and their legend swatch with it (DOT and Mermaid as their nearest
    /// styles), so the two read apart without colour, in greyscale print too.
    pub fn dash(self) -> Option<&'static str> {
        match self {
            ThreatStatus::Unknown => Some("8 3 2 3"),
            ThreatStatus::NotApplicable => Some("2 3"),
            _ => None,
        }
    }

    /// How bad, for colouring an element by the worst status of its threats.
    pub fn badness(self) -> u8 {
        match self {
            ThreatStatus::Exposed => 5,
            ThreatStatus::PartiallyMitigated => 4,
            ThreatStatus::Unknown => 3,
            ThreatStatus::Accepted => 2,
            ThreatStatus::Mitigated => 1,
            ThreatStatus::NotApplicable => 0,
        }
    }
}

impl fmt::Display for ThreatStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The band of a likelihood x impact score.
    pub fn of_score(score: u8) -> Severity {
        match score {
            0 => Severity::None,
            1..=2 => Severity::Low,
            3..=4 => Severity::Medium,
            5..=8 => Severity::High,
            _ => Severity::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A control of a threat, with what the evidence says about it.
#[derive(Debug, Clone, Serialize)]
pub struct ControlRef {
    pub control: String,
    /// The check's ID in the displayed numbering, when audited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    pub title: String,
    pub role: Role,
    /// The verdict, or None when it was not evaluated (`not_evaluated` in JSON): nothing observed
    /// it, or its check lacked an input (`missing_input`).
    #[serde(serialize_with = "ser_status_or_not_evaluated")]
    pub status: Option<Status>,
    /// The input its check needed and was not given (`cluster_dump`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing_input: Option<MissingInput>,
    /// True when the hardening plan fixes this control.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub planned_fix: bool,
}

fn ser_status_or_not_evaluated<S: serde::Serializer>(
    s: &Option<Status>,
    ser: S,
) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s.map(|s| s.as_str()).unwrap_or("not_evaluated"))
}

#[derive(Debug, Clone, Serialize)]
pub struct AcceptanceRecord {
    pub reason: String,
    pub owner: String,
    pub expires: String,
}

/// The likelihood and what changed it.
#[derive(Debug, Clone, Serialize)]
pub struct Likelihood {
    pub base: u8,
    /// After evidence raised it (capped at 4).
    pub current: u8,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub raised_by: Vec<String>,
}

/// One evaluated threat.
#[derive(Debug, Clone, Serialize)]
pub struct ThreatResult {
    pub id: String,
    pub title: String,
    pub platform: Option<Platform>,
    /// STRIDE letters.
    pub stride: Vec<String>,
    pub status: ThreatStatus,
    /// Why this status, in one sentence.
    pub reason: String,
    /// The status evidence gives, when `status` is `accepted`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_status: Option<ThreatStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acceptance: Option<AcceptanceRecord>,
    pub severity: Severity,
    pub projected_status: ThreatStatus,
    pub projected_severity: Severity,
    pub likelihood: Likelihood,
    pub impact: u8,
    pub confidence: Confidence,
    /// Element and flow IDs.
    pub targets: Vec<String>,
    /// The status on each target, from the evidence about that item: the observations of its
    /// controls whose object names it (`container web` names `dkr.container:web`); a control
    /// with no observation about the item counts with its overall verdict. A hardened container
    /// among exposed ones is mitigated here while the threat is exposed.
    pub by_target: Vec<TargetStatus>,
    pub controls: Vec<ControlRef>,
    pub evidence: Vec<EvidenceItem>,
    pub refs: Refs,
    pub description: String,
    pub mitigation: String,
    /// Things the reader should know (an expired acceptance, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// `library` or `user`.
    pub origin: String,
}

/// A threat's status on one of its targets.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    /// The element or flow ID.
    pub target: String,
    pub status: ThreatStatus,
    /// Why this status on this item, in one sentence.
    pub reason: String,
}

/// What evaluation reads besides the model and the library.
pub struct Context<'a> {
    pub model: &'a Model,
    pub facts: &'a BTreeMap<String, Value>,
    pub evidence: &'a EvidenceSet,
    /// Controls whose `not_applicable` only says an input was missing
    /// ([`EvidenceSet::missing_inputs`]).
    pub missing: &'a BTreeMap<String, MissingInput>,
    pub acceptances: &'a [Acceptance],
    pub planned_fixes: &'a BTreeSet<String>,
    pub as_of: &'a str,
}

/// A control's verdict as the status rules count it.
#[derive(Clone, Copy, PartialEq)]
enum Norm {
    Pass,
    Fail,
    /// Observed, but a person must judge it (warn, manual, info).
    Review,
    /// Nothing settles it either way, and the reason is not a judgement call.
    NotEvaluated(Unevaluated),
    NotApplicable,
}

/// Why a control was not evaluated.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Unevaluated {
    /// Its check lacked an input the audit was not given.
    Missing(MissingInput),
    /// Its check could not evaluate it and said why (`error`).
    Error,
    /// No check or other source observed it.
    NotObserved,
}

impl Unevaluated {
    fn describe(self) -> String {
        match self {
            Unevaluated::Missing(m) => format!("not evaluated because {}", m.describe()),
            Unevaluated::Error => "could not be evaluated (its check reported an error)".into(),
            Unevaluated::NotObserved => "not observed by any check".into(),
        }
    }
}

fn norm(ctx: &Context<'_>, control: &str, projected: bool) -> Norm {
    norm_of(ctx, control, verdict(ctx, control, projected))
}

/// A control's verdict as the status rules count it, on one model item: the evidence about that
/// item (the observations whose object names it) when there is any, else the control's verdict.
/// A control whose check lacked an input stays not evaluated.
fn norm_on(ctx: &Context<'_>, control: &str, on: Option<&ItemObjects>, projected: bool) -> Norm {
    let Some(on) = on else {
        return norm(ctx, control, projected);
    };
    if ctx.missing.contains_key(control) {
        return norm(ctx, control, projected);
    }
    let own = on
        .keys()
        .filter_map(|k| ctx.evidence.object_status(control, k))
        .max_by_key(|s| s.rollup_rank());
    match own {
        Some(s) => norm_of(ctx, control, Some(fixed(ctx, control, s, projected))),
        None => norm(ctx, control, projected),
    }
}

/// The evidence objects (`container web`, `pod app/debug`) that name one element or flow: an
/// element is named as its component and name (`container web`), by its name (`Pod app/debug`),
/// or as its component and instance key (`serviceaccount app/default`); the containers of a pod
/// (`container app/debug container shell`) name the pod; a flow is named by what names either
/// of its ends.
pub struct ItemObjects {
    exact: Vec<String>,
    prefixes: Vec<String>,
}

impl ItemObjects {
    pub fn of(model: &Model, item: &str) -> ItemObjects {
        let mut o = ItemObjects {
            exact: Vec::new(),
            prefixes: Vec::new(),
        };
        let ends: Vec<&str> = match model.flow(item) {
            Some(f) => vec![f.from.as_str(), f.to.as_str()],
            None => vec![item],
        };
        for e in ends.iter().filter_map(|id| model.element(id)) {
            let component = e.component.to_lowercase();
            let name = e.name.to_lowercase();
            o.exact.push(format!("{component} {name}"));
            o.exact.push(name.clone());
            if let Some((_, key)) = e.id.split_once(':') {
                o.exact.push(format!(
                    "{} {}",
                    component.replace('-', ""),
                    key.to_lowercase()
                ));
            }
            if let Some(bare) = name.strip_prefix(&format!("{component} ")) {
                o.prefixes.push(format!("container {bare} "));
            }
        }
        o
    }

    /// The keys of [`EvidenceSet::object_status`] that name this item: its exact names, and the
    /// `container NS/POD ` prefixes of its containers.
    fn keys(&self) -> impl Iterator<Item = &str> {
        self.exact
            .iter()
            .chain(self.prefixes.iter())
            .map(String::as_str)
    }
}

fn norm_of(ctx: &Context<'_>, control: &str, verdict: Option<Status>) -> Norm {
    match verdict {
        Some(Status::Pass) => Norm::Pass,
        Some(Status::Fail) => Norm::Fail,
        Some(Status::Warn | Status::Manual | Status::Info) => Norm::Review,
        Some(Status::Error) => Norm::NotEvaluated(Unevaluated::Error),
        Some(Status::NotApplicable) => match ctx.missing.get(control) {
            Some(m) => Norm::NotEvaluated(Unevaluated::Missing(*m)),
            None => Norm::NotApplicable,
        },
        None => Norm::NotEvaluated(Unevaluated::NotObserved),
    }
}

/// The controls' verdicts as evaluation sees them: now, or after the planned fixes.
fn verdict(ctx: &Context<'_>, control: &str, projected: bool) -> Option<Status> {
    ctx.evidence
        .status(control)
        .map(|s| fixed(ctx, control, s, projected))
}

/// A verdict after the planned fixes, when `projected`: a fixed control that fails passes.
fn fixed(ctx: &Context<'_>, control: &str, s: Status, projected: bool) -> Status {
    if projected && ctx.planned_fixes.contains(control) && matches!(s, Status::Fail | Status::Warn)
    {
        return Status::Pass;
    }
    s
}

fn label(ctx: &Context<'_>, control: &str) -> String {
    match ctx.evidence.check_id(control) {
        Some(check) => format!("{check} ({control})"),
        None => control.to_string(),
    }
}

/// The provider that runs this cluster's control plane (EKS, GKE, AKS), when one does.
fn control_plane_provider<'a>(ctx: &Context<'a>) -> Option<&'a str> {
    if ctx.facts.get("k8s.managed") != Some(&Value::Bool(true)) {
        return None;
    }
    ctx.facts.get("k8s.provider").and_then(Value::as_str)
}

/// Is this control not applicable because it belongs to a control plane the provider runs? The
/// audit reports such checks `not_applicable`; the threat says why rather than "no control
/// applies".
fn provider_managed(ctx: &Context<'_>, control: &str) -> bool {
    control_plane_provider(ctx).is_some()
        && ctx.evidence.status(control) == Some(Status::NotApplicable)
        && bulkhead_checks::catalog()
            .control(control)
            .and_then(|c| c.target.as_deref())
            .is_some_and(|t| matches!(t, "master" | "etcd" | "controlplane"))
}

/// Status and reason from the controls' verdicts (on one model item when `on` names it);
/// controls left to a provider-managed control plane are named in the reason, and a threat whose
/// every control is such a control is the provider's: not applicable to the audited system.
fn judge(
    def: &ThreatDef,
    ctx: &Context<'_>,
    projected: bool,
    on: Option<&ItemObjects>,
) -> (ThreatStatus, String) {
    let (status, reason) = judge_controls(def, ctx, projected, on);
    let Some(provider) = control_plane_provider(ctx) else {
        return (status, reason);
    };
    let managed: Vec<String> = def
        .controls
        .all()
        .filter(|(c, _)| provider_managed(ctx, c))
        .map(|(c, _)| label(ctx, c))
        .collect();
    if managed.is_empty() {
        return (status, reason);
    }
    let none_applies = def
        .controls
        .all()
        .all(|(c, _)| norm_on(ctx, c, on, projected) == Norm::NotApplicable);
    if none_applies {
        return (
            ThreatStatus::NotApplicable,
            format!(
                "provider-managed: {provider} runs the control plane its controls belong to ({})",
                managed.join(", ")
            ),
        );
    }
    (
        status,
        format!(
            "{reason}; {} control-plane controls are left to {provider}",
            managed.len()
        ),
    )
}

/// The reason of a threat none of whose controls applies here.
pub const NOTHING_MITIGATES: &str =
    "none of its controls applies to this system, so nothing bulkhead checks mitigates it";

/// Controls with their verdicts, in the library's order.
type Judged<'a, 'b> = &'a [(&'b str, Norm)];

fn judge_controls(
    def: &ThreatDef,
    ctx: &Context<'_>,
    projected: bool,
    on: Option<&ItemObjects>,
) -> (ThreatStatus, String) {
    let by_role = |role: Role| -> Vec<(&str, Norm)> {
        def.controls
            .all()
            .filter(|(_, r)| *r == role)
            .map(|(c, _)| (c, norm_on(ctx, c, on, projected)))
            .filter(|(_, n)| *n != Norm::NotApplicable)
            .collect()
    };
    let prevent = by_role(Role::Prevent);
    let limit = by_role(Role::Limit);
    let detect = by_role(Role::Detect);
    let names = |v: &[(&str, Norm)], want: Norm| -> Vec<String> {
        v.iter()
            .filter(|(_, n)| *n == want)
            .map(|(c, _)| label(ctx, c))
            .collect()
    };
    if prevent.is_empty() && limit.is_empty() && detect.is_empty() {
        // A control that does not apply mitigates nothing: the threat stays open, unless its
        // own condition (or the absence of what it targets) says it does not apply.
        return (ThreatStatus::Unknown, NOTHING_MITIGATES.into());
    }
    // A threat that names no preventive control is judged on its limiting controls, as its
    // confidence is.
    let (deciding, kind, limiting): (Judged, &str, Judged) = if def.controls.prevent.is_empty() {
        (&limit, "limiting", &[])
    } else {
        (&prevent, "preventive", &limit)
    };
    let failing = names(deciding, Norm::Fail);
    if !failing.is_empty() {
        return (
            ThreatStatus::Exposed,
            format!("{kind} control failing: {}", failing.join(", ")),
        );
    }
    // What was not evaluated among the other controls, said after the verdict.
    let others: Vec<(&str, Norm)> = limiting.iter().chain(&detect).copied().collect();
    let tail = match unevaluated(ctx, &others) {
        Some(s) => format!("; limiting or detecting controls {s}"),
        None => String::new(),
    };
    if deciding.is_empty() {
        let review = names(&others, Norm::Review);
        let review = if review.is_empty() {
            String::new()
        } else {
            format!(
                "; limiting or detecting controls need review: {}",
                review.join(", ")
            )
        };
        return (
            ThreatStatus::Unknown,
            format!(
                "none of its {kind} controls applies to this system, so nothing shows the threat prevented{review}{tail}"
            ),
        );
    }
    let passing = names(deciding, Norm::Pass).len();
    let review = names(deciding, Norm::Review);
    let verified = format!("{passing} of {} {kind} controls verified", deciding.len());
    let needs_review = if review.is_empty() {
        String::new()
    } else {
        format!("; needs review: {}", review.join(", "))
    };
    if let Some(s) = unevaluated(ctx, deciding) {
        return (
            ThreatStatus::Unknown,
            format!("{verified}; {s}{needs_review}"),
        );
    }
    if passing == deciding.len() {
        let limit_fail = names(limiting, Norm::Fail);
        if limit_fail.is_empty() {
            return (
                ThreatStatus::Mitigated,
                format!("all {passing} {kind} controls pass{tail}"),
            );
        }
        return (
            ThreatStatus::PartiallyMitigated,
            format!(
                "prevented, but damage-limiting controls fail: {}{tail}",
                limit_fail.join(", ")
            ),
        );
    }
    let status = if passing > 0 {
        ThreatStatus::PartiallyMitigated
    } else {
        ThreatStatus::Unknown
    };
    (status, format!("{verified}{needs_review}{tail}"))
}

/// The controls of `v` that were not evaluated, grouped by why (`not evaluated because no cluster
/// dump was given (...): 5.1.1 (...), 5.1.8 (...)`), or None when every one was.
fn unevaluated(ctx: &Context<'_>, v: &[(&str, Norm)]) -> Option<String> {
    let mut groups: BTreeMap<Unevaluated, Vec<String>> = BTreeMap::new();
    for (c, n) in v {
        if let Norm::NotEvaluated(why) = n {
            groups.entry(*why).or_default().push(label(ctx, c));
        }
    }
    (!groups.is_empty()).then(|| {
        groups
            .into_iter()
            .map(|(why, controls)| format!("{}: {}", why.describe(), controls.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    })
}

fn severity(status: ThreatStatus, likelihood: u8, impact: u8) -> Severity {
    match status {
        ThreatStatus::NotApplicable => Severity::None,
        ThreatStatus::Mitigated => Severity::Low,
        ThreatStatus::PartiallyMitigated => {
            Severity::of_score(likelihood.saturating_sub(1).max(1) * impact)
        }
        ThreatStatus::Exposed | ThreatStatus::Unknown | ThreatStatus::Accepted => {
            Severity::of_score(likelihood * impact)
        }
    }
}

/// The likelihood after evidence raised it.
fn likelihood(def: &ThreatDef, ctx: &Context<'_>, projected: bool) -> Likelihood {
    let attrs = BTreeMap::new();
    let control = |c: &str| verdict(ctx, c, projected);
    let scope = Scope {
        facts: ctx.facts,
        attrs: &attrs,
        control: &control,
    };
    let raised_by: Vec<String> = def
        .raise
        .iter()
        .filter(|r| {
            !(projected
                && r.fixed_by
                    .as_ref()
                    .is_some_and(|c| ctx.planned_fixes.contains(c)))
        })
        .filter(|r| r.when.holds(&scope))
        .map(|r| r.reason.clone())
        .collect();
    Likelihood {
        base: def.likelihood,
        current: (def.likelihood + raised_by.len() as u8).min(4),
        raised_by,
    }
}

/// Share of preventive controls (limiting ones when none applies) that automated evidence
/// settled either way.
fn confidence(def: &ThreatDef, ctx: &Context<'_>) -> Confidence {
    // A control not evaluated for lack of an input is applicable and unsettled.
    let applicable = |pool: &[String]| -> Vec<String> {
        pool.iter()
            .filter(|c| {
                ctx.evidence.status(c) != Some(Status::NotApplicable)
                    || ctx.missing.contains_key(*c)
            })
            .cloned()
            .collect()
    };
    let Some(applicable) = [&def.controls.prevent, &def.controls.limit]
        .into_iter()
        .map(|pool| applicable(pool))
        .find(|v| !v.is_empty())
    else {
        return Confidence::High;
    };
    let settled = applicable
        .iter()
        .filter(|c| {
            matches!(ctx.evidence.status(c), Some(Status::Pass | Status::Fail))
                && ctx
                    .evidence
                    .items_for(c)
                    .any(|i| i.confidence == Confidence::High)
        })
        .count();
    let share = settled as f64 / applicable.len() as f64;
    if share >= 0.75 {
        Confidence::High
    } else if share >= 0.4 {
        Confidence::Medium
    } else {
        Confidence::Low
    }
}

/// Why a threat may not apply, found before its controls are judged.
enum Gap {
    /// Its `applies_when` condition does not hold.
    Condition(String),
    /// No element or flow of the model matches its targets.
    NoTargets(String),
}

/// Does a preventive control of the threat fail (now, or after the planned fixes)?
fn preventive_failing(def: &ThreatDef, ctx: &Context<'_>, projected: bool) -> bool {
    def.controls
        .prevent
        .iter()
        .any(|c| verdict(ctx, c, projected) == Some(Status::Fail))
}

/// Status and reason, now or after the planned fixes.
fn status_of(
    def: &ThreatDef,
    ctx: &Context<'_>,
    gap: Option<&Gap>,
    projected: bool,
) -> (ThreatStatus, String) {
    match gap {
        None => judge(def, ctx, projected, None),
        // The model may lack what the evidence saw (a workload it could not place, an artifact
        // that is not deployed yet); a failing preventive control is that thing, so judge it.
        Some(Gap::NoTargets(why)) if preventive_failing(def, ctx, projected) => {
            let (status, reason) = judge(def, ctx, projected, None);
            (
                status,
                format!(
                    "{reason}; no item of the model matches its targets ({why}), yet the failing evidence shows the threat on this system"
                ),
            )
        }
        Some(Gap::Condition(why)) => (
            ThreatStatus::NotApplicable,
            format!("applies only when {why}"),
        ),
        Some(Gap::NoTargets(why)) => (
            ThreatStatus::NotApplicable,
            format!("nothing it targets exists in this system ({why})"),
        ),
    }
}

/// Does this evidence keep a threat open (anything but a pass or not applicable)?
fn keeps_open(e: &EvidenceItem) -> bool {
    !matches!(e.status, Status::Pass | Status::NotApplicable)
}

/// Evaluate one threat against the model and the evidence.
pub fn evaluate(def: &ThreatDef, ctx: &Context<'_>, origin: &str) -> ThreatResult {
    let mut targets: Vec<String> = Vec::new();
    for s in &def.targets {
        for it in s.matches(ctx.model, ctx.facts) {
            if !targets.iter().any(|t| t == it.id()) {
                targets.push(it.id().to_string());
            }
        }
    }
    let no_attrs = BTreeMap::new();
    let current = |c: &str| ctx.evidence.status(c);
    let applies = def.applies_when.as_ref().is_none_or(|c| {
        c.holds(&Scope {
            facts: ctx.facts,
            attrs: &no_attrs,
            control: &current,
        })
    });
    let gap = if !applies {
        Some(Gap::Condition(
            def.applies_when
                .as_ref()
                .map(|c| c.describe())
                .unwrap_or_default(),
        ))
    } else if targets.is_empty() {
        Some(Gap::NoTargets(
            def.targets
                .iter()
                .map(|s| s.describe())
                .collect::<Vec<_>>()
                .join(", "),
        ))
    } else {
        None
    };
    let (mut status, reason) = status_of(def, ctx, gap.as_ref(), false);
    let projected_status = status_of(def, ctx, gap.as_ref(), true).0;
    let like = likelihood(def, ctx, false);
    let severity_now = severity(status, like.current, def.impact);
    let projected_severity = severity(
        projected_status,
        likelihood(def, ctx, true).current,
        def.impact,
    );
    let mut notes = Vec::new();
    let mut computed_status = None;
    let mut acceptance = None;
    for a in ctx.acceptances.iter().filter(|a| a.threat == def.id) {
        if in_force(a, ctx.as_of) {
            if status != ThreatStatus::NotApplicable {
                computed_status = Some(status);
                status = ThreatStatus::Accepted;
            }
            acceptance = Some(AcceptanceRecord {
                reason: a.reason.clone(),
                owner: a.owner.clone(),
                expires: a.expires.clone(),
            });
        } else {
            notes.push(format!(
                "a risk acceptance by {} expired on {}; the evidence status applies",
                a.owner, a.expires
            ));
        }
    }
    let by_target = targets
        .iter()
        .map(|x| {
            let (mut st, reason) = match &gap {
                Some(g) => status_of(def, ctx, Some(g), false),
                None => judge(def, ctx, false, Some(&ItemObjects::of(ctx.model, x))),
            };
            if acceptance.is_some()
                && computed_status.is_some()
                && st != ThreatStatus::NotApplicable
            {
                st = ThreatStatus::Accepted;
            }
            TargetStatus {
                target: x.clone(),
                status: st,
                reason,
            }
        })
        .collect();
    let controls = def
        .controls
        .all()
        .map(|(c, role)| ControlRef {
            control: c.to_string(),
            check: ctx.evidence.check_id(c).map(String::from),
            title: bulkhead_checks::catalog()
                .control(c)
                .map(|x| x.title.clone())
                .unwrap_or_default(),
            role,
            status: ctx
                .evidence
                .status(c)
                .filter(|_| !ctx.missing.contains_key(c)),
            missing_input: ctx.missing.get(c).copied(),
            planned_fix: ctx.planned_fixes.contains(c),
        })
        .collect();
    let mut evidence: Vec<EvidenceItem> = def
        .controls
        .all()
        .flat_map(|(c, _)| ctx.evidence.items_for(c).cloned().collect::<Vec<_>>())
        .collect();
    if status == ThreatStatus::NotApplicable && evidence.iter().any(keeps_open) {
        // Such evidence is about something this threat does not cover here (a daemon-wide
        // setting shared with threats that do apply): citing it would show a threat that does
        // not apply as held open. Say what was left out rather than drop it silently.
        let (open, kept): (Vec<EvidenceItem>, Vec<EvidenceItem>) =
            evidence.into_iter().partition(keeps_open);
        evidence = kept;
        let mut checks: Vec<&str> = Vec::new();
        for e in &open {
            if !checks.contains(&e.check.as_str()) {
                checks.push(&e.check);
            }
        }
        notes.push(format!(
            "{} observation{} of its controls that do not pass ({}) {} not cited: the threat does not apply here, so {} only for the threats that do",
            open.len(),
            if open.len() == 1 { "" } else { "s" },
            checks.join(", "),
            if open.len() == 1 { "is" } else { "are" },
            if open.len() == 1 { "it counts" } else { "they count" },
        ));
    }
    debug_assert!(
        status != ThreatStatus::NotApplicable || !evidence.iter().any(keeps_open),
        "{}: not applicable while citing evidence that keeps it open",
        def.id
    );
    ThreatResult {
        id: def.id.clone(),
        title: def.title.clone(),
        platform: def.platform,
        stride: def.stride.iter().map(|s| s.letter().to_string()).collect(),
        status,
        reason,
        computed_status,
        acceptance,
        severity: severity_now,
        projected_status,
        projected_severity,
        likelihood: like,
        impact: def.impact,
        confidence: confidence(def, ctx),
        targets,
        by_target,
        controls,
        evidence,
        refs: def.refs.clone(),
        description: def.description.trim().to_string(),
        mitigation: def.mitigation.trim().to_string(),
        notes,
        origin: origin.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Status colours are text too (diagram badges, the legend): each must be readable on
    /// white at WCAG AA, 4.5:1 (the old not-applicable grey was 2.68:1).
    #[test]
    fn status_colours_are_readable_on_white() {
        let channel = |hex: &str| {
            let c = u8::from_str_radix(hex, 16).unwrap() as f64 / 255.0;
            if c <= 0.03928 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        for s in ThreatStatus::ALL {
            let c = s.colour().trim_start_matches('#');
            let l = 0.2126 * channel(&c[0..2])
                + 0.7152 * channel(&c[2..4])
                + 0.0722 * channel(&c[4..6]);
            let ratio = 1.05 / (l + 0.05);
            assert!(ratio >= 4.5, "{s:?} {}: {ratio:.2}:1", s.colour());
        }
    }
    use crate::evidence::Finding;

    /// A threat on a `probe` flow the empty model does not have; `extra` adds TOML lines.
    fn threat(extra: &str) -> ThreatDef {
        toml::from_str(&format!(
            r#"
id = "TST-01"
title = "test threat"
stride = ["T"]
targets = [{{ flow = "probe" }}]
description = "d"
mitigation = "m"
likelihood = 2
impact = 2
controls.prevent = ["ctl.prevent"]
controls.limit = ["ctl.limit"]
{extra}
"#
        ))
        .unwrap()
    }

    fn finding(control: &str, status: Status) -> Finding {
        Finding {
            control: control.into(),
            rule: format!("rule-{control}"),
            object: "artifact.yaml:1".into(),
            status,
            message: "observed".into(),
            source: "scan".into(),
        }
    }

    fn run(def: &ThreatDef, findings: &[(&str, Status)]) -> ThreatResult {
        let mut ev = EvidenceSet::new();
        for (c, s) in findings {
            ev.add_finding(finding(c, *s));
        }
        let model = Model::default();
        let facts = BTreeMap::new();
        let fixes = BTreeSet::from(["ctl.prevent".to_string()]);
        let missing = BTreeMap::new();
        let ctx = Context {
            model: &model,
            facts: &facts,
            evidence: &ev,
            missing: &missing,
            acceptances: &[],
            planned_fixes: &fixes,
            as_of: "2026-01-15",
        };
        evaluate(def, &ctx, "library")
    }

    #[test]
    fn failing_prevention_is_judged_even_when_nothing_it_targets_exists() {
        let t = run(
            &threat(""),
            &[("ctl.prevent", Status::Fail), ("ctl.limit", Status::Pass)],
        );
        assert!(t.targets.is_empty());
        assert_eq!(t.status, ThreatStatus::Exposed, "{}", t.reason);
        assert!(
            t.reason.contains("ctl.prevent") && t.reason.contains("flow probe"),
            "{}",
            t.reason
        );
        assert!(t.evidence.iter().any(|e| e.status == Status::Fail));
        assert_ne!(t.severity, Severity::None);
        // Once the plan fixes the control, nothing shows the threat here any more.
        assert_eq!(t.projected_status, ThreatStatus::NotApplicable);
        assert_eq!(t.projected_severity, Severity::None);
    }

    #[test]
    fn not_applicable_threats_cite_no_evidence_that_keeps_them_open() {
        // Nothing it targets exists and only a limiting control fails.
        let t = run(
            &threat(""),
            &[
                ("ctl.prevent", Status::Pass),
                ("ctl.limit", Status::Fail),
                ("ctl.limit", Status::Warn),
            ],
        );
        assert_eq!(t.status, ThreatStatus::NotApplicable, "{}", t.reason);
        assert_eq!(t.evidence.len(), 1, "{:?}", t.evidence);
        assert_eq!(t.evidence[0].status, Status::Pass);
        assert_eq!(
            t.notes,
            ["2 observations of its controls that do not pass (rule-ctl.limit) are not cited: the threat does not apply here, so they count only for the threats that do"]
        );
        // Its condition does not hold: even a failing preventive control leaves it not
        // applicable, and uncited.
        let t = run(
            &threat(r#"applies_when = { fact = "docker.daemon.tcp_listener", equals = true }"#),
            &[("ctl.prevent", Status::Fail)],
        );
        assert_eq!(t.status, ThreatStatus::NotApplicable, "{}", t.reason);
        assert!(t.reason.starts_with("applies only when"), "{}", t.reason);
        assert!(t.evidence.is_empty(), "{:?}", t.evidence);
        assert_eq!(t.notes.len(), 1, "{:?}", t.notes);
    }

    /// Status and reason from the controls alone (no targets or conditions in the way), with
    /// `missing` naming controls whose checks lacked an input.
    fn judged(
        def: &ThreatDef,
        findings: &[(&str, Status)],
        missing: &[(&str, MissingInput)],
    ) -> (ThreatStatus, String) {
        let mut ev = EvidenceSet::new();
        for (c, s) in findings {
            ev.add_finding(finding(c, *s));
        }
        let model = Model::default();
        let facts = BTreeMap::new();
        let missing: BTreeMap<String, MissingInput> =
            missing.iter().map(|(c, m)| (c.to_string(), *m)).collect();
        let ctx = Context {
            model: &model,
            facts: &facts,
            evidence: &ev,
            missing: &missing,
            acceptances: &[],
            planned_fixes: &BTreeSet::new(),
            as_of: "2026-01-15",
        };
        judge_controls(def, &ctx, false, None)
    }

    /// The test threat with its preventive controls replaced by `prevent`, and a detecting one.
    fn with_prevent(prevent: &[&str]) -> ThreatDef {
        let mut t = threat(r#"controls.detect = ["ctl.detect"]"#);
        t.controls.prevent = prevent.iter().map(|c| c.to_string()).collect();
        t
    }

    fn two_preventive() -> ThreatDef {
        with_prevent(&["ctl.prevent", "ctl.prevent2"])
    }

    #[test]
    fn a_preventive_control_in_error_leaves_the_threat_unknown() {
        let (status, reason) = judged(
            &two_preventive(),
            &[
                ("ctl.prevent", Status::Pass),
                ("ctl.prevent2", Status::Error),
                ("ctl.limit", Status::Pass),
                ("ctl.detect", Status::Pass),
            ],
            &[],
        );
        assert_eq!(status, ThreatStatus::Unknown, "{reason}");
        assert_eq!(
            reason,
            "1 of 2 preventive controls verified; could not be evaluated (its check reported an error): ctl.prevent2"
        );
    }

    #[test]
    fn a_control_without_its_input_is_not_evaluated_and_names_the_input() {
        // Every preventive control lacked the dump, a limiting one fails: unknown, and the
        // reason lists what was not evaluated (never an empty list).
        let (status, reason) = judged(
            &two_preventive(),
            &[
                ("ctl.prevent", Status::NotApplicable),
                ("ctl.prevent2", Status::NotApplicable),
                ("ctl.limit", Status::Fail),
            ],
            &[
                ("ctl.prevent", MissingInput::ClusterDump),
                ("ctl.prevent2", MissingInput::ClusterDump),
            ],
        );
        assert_eq!(status, ThreatStatus::Unknown, "{reason}");
        assert_eq!(
            reason,
            "0 of 2 preventive controls verified; not evaluated because no cluster dump was given (pass --cluster-dump FILE): ctl.prevent, ctl.prevent2"
        );
        // The same controls, not applicable with the input at hand: nothing bulkhead checks
        // mitigates the threat, so it stays open (only its own condition makes it not apply).
        let (status, reason) = judged(
            &two_preventive(),
            &[
                ("ctl.prevent", Status::NotApplicable),
                ("ctl.prevent2", Status::NotApplicable),
                ("ctl.limit", Status::NotApplicable),
                ("ctl.detect", Status::NotApplicable),
            ],
            &[],
        );
        assert_eq!(status, ThreatStatus::Unknown, "{reason}");
        assert_eq!(reason, NOTHING_MITIGATES);
        // A limiting control without its input does not undo a mitigation; the reason says so.
        let (status, reason) = judged(
            &two_preventive(),
            &[
                ("ctl.prevent", Status::Pass),
                ("ctl.prevent2", Status::Pass),
                ("ctl.limit", Status::NotApplicable),
                ("ctl.detect", Status::Pass),
            ],
            &[("ctl.limit", MissingInput::ClusterDump)],
        );
        assert_eq!(status, ThreatStatus::Mitigated, "{reason}");
        assert!(
            reason.ends_with("limiting or detecting controls not evaluated because no cluster dump was given (pass --cluster-dump FILE): ctl.limit"),
            "{reason}"
        );
    }

    #[test]
    fn partial_mitigation_needs_a_verified_preventive_control() {
        // No preventive control applies, a limiting one passes: nothing shows prevention.
        let (status, reason) = judged(
            &two_preventive(),
            &[
                ("ctl.prevent", Status::NotApplicable),
                ("ctl.prevent2", Status::NotApplicable),
                ("ctl.limit", Status::Pass),
            ],
            &[],
        );
        assert_eq!(status, ThreatStatus::Unknown, "{reason}");
        assert!(!reason.contains("0 of 0"), "{reason}");
        assert!(
            reason.starts_with("none of its preventive controls applies to this system"),
            "{reason}"
        );
        // Preventive controls that need review, a limiting one passes: still unknown.
        let (status, reason) = judged(
            &two_preventive(),
            &[
                ("ctl.prevent", Status::Manual),
                ("ctl.prevent2", Status::Warn),
                ("ctl.limit", Status::Pass),
                ("ctl.detect", Status::Pass),
            ],
            &[],
        );
        assert_eq!(status, ThreatStatus::Unknown, "{reason}");
        assert_eq!(
            reason,
            "0 of 2 preventive controls verified; needs review: ctl.prevent, ctl.prevent2"
        );
        // One passes, one needs review: partially mitigated.
        let (status, reason) = judged(
            &two_preventive(),
            &[
                ("ctl.prevent", Status::Pass),
                ("ctl.prevent2", Status::Manual),
                ("ctl.limit", Status::Pass),
                ("ctl.detect", Status::Pass),
            ],
            &[],
        );
        assert_eq!(status, ThreatStatus::PartiallyMitigated, "{reason}");
        assert_eq!(
            reason,
            "1 of 2 preventive controls verified; needs review: ctl.prevent2"
        );
    }

    #[test]
    fn a_threat_with_only_limiting_controls_is_judged_on_them() {
        let mut limit_only = threat("");
        limit_only.controls.prevent.clear();
        let (status, reason) = judged(&limit_only, &[("ctl.limit", Status::Pass)], &[]);
        assert_eq!(status, ThreatStatus::Mitigated, "{reason}");
        assert_eq!(reason, "all 1 limiting controls pass");
        let (status, reason) = judged(&limit_only, &[("ctl.limit", Status::Fail)], &[]);
        assert_eq!(status, ThreatStatus::Exposed, "{reason}");
        assert_eq!(reason, "limiting control failing: ctl.limit");
    }
}
