//! The evidence-backed STRIDE threat model.
//!
//! This crate owns the reference models of a Docker host and a Kubernetes cluster (as data,
//! `models/*.toml`), the threat library (as data, `library/*.toml`), their instantiation from a
//! snapshot's facts, the evaluation of every threat from audit (and scan) evidence, and the
//! machine-readable exports: the `bulkhead.threats/1` JSON document, the data-flow diagram as
//! SVG, Graphviz DOT, Mermaid, and Open Threat Model (OTM) JSON. Markdown and HTML reports are
//! rendered by bulkhead-report from the [`ThreatModel`] built here.
//!
//! It never reads the host and never depends on the hardening crate: the set of control IDs a
//! hardening plan fixes is an input ([`Input::planned_fixes`]).

pub mod accept;
pub mod analysis;
pub mod condition;
pub mod dot;
pub mod evaluate;
pub mod evidence;
pub mod facts;
pub mod library;
pub mod mermaid;
pub mod model;
pub mod otm;
pub mod reference;
pub mod svg;
pub mod user;
pub mod yaml;

pub use accept::Acceptance;
pub use evaluate::{Severity, TargetStatus, ThreatResult, ThreatStatus};
pub use evidence::{EvidenceSet, Finding, MissingInput};
pub use model::{Boundary, Element, ElementKind, Flow, Model, Platform};
pub use user::UserModel;

use bulkhead_facts::Snapshot;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

pub const SCHEMA: &str = "bulkhead.threats/1";

/// Everything a threat model is built from.
pub struct Input<'a> {
    pub snapshot: &'a Snapshot,
    pub evidence: &'a EvidenceSet,
    /// Benchmarks and numberings the evidence came from (`cis-docker 1.2.0`).
    pub evidence_sources: Vec<String>,
    pub user: Option<&'a UserModel>,
    /// Name of the user model file, for messages.
    pub user_file: &'a str,
    pub acceptances: &'a [Acceptance],
    /// Control IDs the hardening plan fixes: the projected severity assumes they pass.
    pub planned_fixes: &'a BTreeSet<String>,
    /// The date acceptances are judged on (`YYYY-MM-DD`).
    pub as_of: &'a str,
    pub tool_version: &'a str,
}

/// The evaluated threat model: the `bulkhead.threats/1` document.
#[derive(Debug, Clone, Serialize)]
pub struct ThreatModel {
    pub schema: &'static str,
    pub tool: Tool,
    pub system: SystemRef,
    pub evidence_sources: Vec<String>,
    pub as_of: String,
    /// Control IDs the hardening plan fixes (basis of `projected_severity`).
    pub planned_fixes: Vec<String>,
    pub elements: Vec<Element>,
    pub flows: Vec<Flow>,
    pub boundaries: Vec<Boundary>,
    pub threats: Vec<ThreatResult>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SystemRef {
    pub host: String,
    pub collected_at: String,
    pub platforms: Vec<Platform>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub threats: usize,
    pub by_status: BTreeMap<String, usize>,
    pub by_severity: BTreeMap<String, usize>,
    pub by_projected_severity: BTreeMap<String, usize>,
}

impl ThreatModel {
    pub fn threat(&self, id: &str) -> Option<&ThreatResult> {
        self.threats.iter().find(|t| t.id == id)
    }

    /// The display name of an element or flow (its ID when the model has no such item).
    pub fn item_name<'a>(&'a self, id: &'a str) -> &'a str {
        self.elements
            .iter()
            .find(|e| e.id == id)
            .map(|e| e.name.as_str())
            .or_else(|| {
                self.flows
                    .iter()
                    .find(|f| f.id == id)
                    .map(|f| f.name.as_str())
            })
            .unwrap_or(id)
    }

    /// Threats that target an element or flow, in model order.
    pub fn threats_of<'a>(&'a self, item: &'a str) -> impl Iterator<Item = &'a ThreatResult> + 'a {
        self.threats
            .iter()
            .filter(move |t| t.targets.iter().any(|x| x == item))
    }

    /// A threat's status on one element or flow, from the evidence about that item
    /// ([`ThreatResult::by_target`]); the threat's own status for an item it does not target.
    pub fn status_on(t: &ThreatResult, item: &str) -> ThreatStatus {
        t.by_target
            .iter()
            .find(|x| x.target == item)
            .map(|x| x.status)
            .unwrap_or(t.status)
    }

    /// The threats of an element or flow with their status on it, in model order.
    pub fn threats_on<'a>(
        &'a self,
        item: &'a str,
    ) -> impl Iterator<Item = (&'a ThreatResult, ThreatStatus)> + 'a {
        self.threats_of(item)
            .map(move |t| (t, ThreatModel::status_on(t, item)))
    }

    /// The worst status of an element or flow: the worst among its threats' statuses on it
    /// (None when it has none). An element is coloured by this, so a hardened container is not
    /// drawn exposed because a neighbour fails the same control.
    pub fn worst_status(&self, item: &str) -> Option<ThreatStatus> {
        self.threats_on(item)
            .map(|(_, s)| s)
            .max_by_key(|s| s.badness())
    }

    pub fn model(&self) -> Model {
        Model {
            elements: self.elements.clone(),
            flows: self.flows.clone(),
            boundaries: self.boundaries.clone(),
        }
    }

    /// Threats of one platform.
    pub fn threats_for(&self, p: Platform) -> impl Iterator<Item = &ThreatResult> {
        self.threats.iter().filter(move |t| t.platform == Some(p))
    }

    /// Serialize as the documented JSON (pretty, newline-terminated).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("threat model serializes");
        s.push('\n');
        s
    }
}

/// Build the model of the audited system and evaluate every threat.
pub fn build(input: &Input<'_>) -> Result<ThreatModel, String> {
    let facts = facts::Facts::from_snapshot(input.snapshot);
    let control = |c: &str| input.evidence.status(c);
    let inputs = reference::Inputs {
        facts: &facts,
        control: &control,
    };
    let templates = reference::templates()?;
    let pairs: Vec<(Platform, &reference::Template)> =
        templates.iter().map(|t| (t.platform, t)).collect();
    let mut model = reference::instantiate(&pairs, &inputs, "reference");
    let lib = library::load()?;
    let mut defs: Vec<(library::ThreatDef, &str)> = lib
        .threats
        .iter()
        .cloned()
        .map(|t| (t, "library"))
        .collect();
    if let Some(user) = input.user {
        let t = user.template();
        let added = reference::instantiate(&[(Platform::Docker, &t)], &inputs, "user");
        model.boundaries.extend(added.boundaries);
        model.elements.extend(added.elements);
        model.flows.extend(added.flows);
        adopt_platforms(&mut model, user);
        // Messages about the user's items point at the item in the file.
        let at = |id: &str| user.position(id).unwrap_or(input.user_file).to_string();
        let problems = reference::reference_problems(&model);
        if !problems.is_empty() {
            return Err(problems
                .iter()
                .map(|(id, p)| format!("{}: {p}", at(id)))
                .collect::<Vec<_>>()
                .join("\n"));
        }
        let mut errs = Vec::new();
        for ut in &user.threats {
            if lib.threat(&ut.id).is_some() {
                errs.push(format!(
                    "{}: threat {} has the ID of a library threat; choose another",
                    at(&ut.id),
                    ut.id
                ));
            }
            errs.extend(
                library::check_threat(ut, &|c| bulkhead_checks::catalog().control(c).is_some())
                    .into_iter()
                    .map(|e| format!("{}: {e}", at(&ut.id))),
            );
            errs.extend(
                library::check_against_model(ut, &model)
                    .into_iter()
                    .map(|e| format!("{}: {e}", at(&ut.id))),
            );
            let mut ut = ut.clone();
            ut.platform = ut
                .targets
                .iter()
                .flat_map(|s| s.matches(&model, &facts.values))
                .map(|it| match it {
                    library::Item::Element(e) => e.platform,
                    library::Item::Flow(f) => f.platform,
                })
                .next();
            defs.push((ut, "user"));
        }
        if !errs.is_empty() {
            return Err(errs.join("\n"));
        }
    }
    reference::check_references(&model, "reference model")?;
    model.compute_crossings();
    accept::check_threats(input.acceptances, defs.iter().map(|(d, _)| d.id.as_str()))?;
    let missing = input.evidence.missing_inputs(input.snapshot);
    let ctx = evaluate::Context {
        model: &model,
        facts: &facts.values,
        evidence: input.evidence,
        missing: &missing,
        acceptances: input.acceptances,
        planned_fixes: input.planned_fixes,
        as_of: input.as_of,
    };
    let threats: Vec<ThreatResult> = defs
        .iter()
        .filter(|(d, _)| {
            // A platform that is not part of this system is left out entirely, not listed as
            // "not applicable" forty times; user threats are always evaluated.
            d.platform.is_none_or(|p| model.platforms().contains(&p))
        })
        .map(|(d, origin)| evaluate::evaluate(d, &ctx, origin))
        .collect();
    let count = |f: &dyn Fn(&ThreatResult) -> String| {
        let mut m = BTreeMap::new();
        for t in &threats {
            *m.entry(f(t)).or_insert(0) += 1;
        }
        m
    };
    let summary = Summary {
        threats: threats.len(),
        by_status: count(&|t| t.status.as_str().to_string()),
        by_severity: count(&|t| t.severity.as_str().to_string()),
        by_projected_severity: count(&|t| t.projected_severity.as_str().to_string()),
    };
    Ok(ThreatModel {
        schema: SCHEMA,
        tool: Tool {
            name: "bulkhead",
            version: input.tool_version.to_string(),
        },
        system: SystemRef {
            host: input
                .snapshot
                .host
                .hostname
                .value()
                .cloned()
                .unwrap_or_else(|| "unknown".into()),
            collected_at: input.snapshot.collected_at.clone(),
            platforms: model.platforms(),
        },
        evidence_sources: input.evidence_sources.clone(),
        as_of: input.as_of.to_string(),
        planned_fixes: input.planned_fixes.iter().cloned().collect(),
        elements: model.elements,
        flows: model.flows,
        boundaries: model.boundaries,
        threats,
        summary,
    })
}

/// User items without an explicit platform take the platform of the boundary (or element) they
/// attach to.
fn adopt_platforms(model: &mut Model, user: &UserModel) {
    let explicit = |id: &str| {
        user.elements
            .iter()
            .any(|e| e.id == id && e.platform.is_some())
            || user
                .flows
                .iter()
                .any(|f| f.id == id && f.platform.is_some())
            || user
                .boundaries
                .iter()
                .any(|b| b.id == id && b.platform.is_some())
    };
    for i in 0..model.boundaries.len() {
        let b = &model.boundaries[i];
        if b.origin == "user" && !explicit(&b.id) {
            if let Some(p) = b
                .parent
                .as_ref()
                .and_then(|p| model.boundary(p))
                .map(|p| p.platform)
            {
                model.boundaries[i].platform = p;
            }
        }
    }
    for i in 0..model.elements.len() {
        let e = &model.elements[i];
        if e.origin == "user" && !explicit(&e.id) {
            if let Some(p) = e
                .boundary
                .as_ref()
                .and_then(|b| model.boundary(b))
                .map(|b| b.platform)
            {
                model.elements[i].platform = p;
            }
        }
    }
    for i in 0..model.flows.len() {
        let f = &model.flows[i];
        if f.origin == "user" && !explicit(&f.id) {
            let p = model
                .element(&f.from)
                .or_else(|| model.element(&f.to))
                .map(|e| e.platform);
            if let Some(p) = p {
                model.flows[i].platform = p;
            }
        }
    }
}
