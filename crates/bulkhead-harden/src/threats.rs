//! Links from threats to the controls that mitigate them, from the threat library of
//! bulkhead-threats (harden depends on threats, never the reverse), and the threat statuses
//! before and after hardening.

use crate::request::ThreatLink;
use bulkhead_checks::Audit;
use bulkhead_facts::Snapshot;
use std::collections::{BTreeMap, BTreeSet};

/// Every threat of the library with every control that prevents, limits or detects it.
pub fn library_links() -> Vec<ThreatLink> {
    match bulkhead_threats::library::load() {
        Ok(lib) => lib
            .threats
            .iter()
            .map(|t| ThreatLink {
                threat: t.id.clone(),
                controls: t.controls.all().map(|(c, _)| c.to_string()).collect(),
            })
            .collect(),
        // The library is embedded and validated by its own tests; an error here is a build
        // defect, reported as "no links" rather than a panic in the middle of a plan.
        Err(_) => Vec::new(),
    }
}

/// Status of every threat (ID -> (title, status)) for a snapshot and its audits.
pub fn statuses(
    snapshot: &Snapshot,
    audits: &[Audit],
    as_of: &str,
) -> Result<BTreeMap<String, (String, String)>, String> {
    let mut evidence = bulkhead_threats::EvidenceSet::new();
    for a in audits {
        evidence.add_audit(a);
    }
    let none = BTreeSet::new();
    let model = bulkhead_threats::build(&bulkhead_threats::Input {
        snapshot,
        evidence: &evidence,
        evidence_sources: audits
            .iter()
            .map(|a| format!("{} {}", a.benchmark.id, a.edition))
            .collect(),
        user: None,
        user_file: "",
        acceptances: &[],
        planned_fixes: &none,
        as_of,
        tool_version: "",
    })?;
    Ok(model
        .threats
        .iter()
        .map(|t| {
            (
                t.id.clone(),
                (t.title.clone(), t.status.as_str().to_string()),
            )
        })
        .collect())
}
