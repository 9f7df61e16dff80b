//! Analysis of failed findings for the assessment report: which failed controls matter most
//! (ranked by the risk of the threats they leave open), what each means, which threats it
//! leaves open, and how to fix it.
//!
//! Risk of a failed control = the highest likelihood x impact among the open threats that list
//! it (a preventive control counts fully, a limiting one with one point less likelihood).
//! The ranking takes the controls one at a time: next comes the one whose open threats that no
//! control above it already leaves open carry the highest risk, so the first few findings name
//! different threats rather than three limits of the same one. Ties are broken by that count of
//! threats, then the control's whole risk, the number of failing objects, and the check's
//! position in the benchmark.

use crate::evidence::{EvidenceItem, EvidenceSet};
use crate::library::{ControlNote, Role};
use crate::{Severity, ThreatModel, ThreatStatus};
use bulkhead_checks::Status;
use serde::Serialize;

/// A threat a failed control leaves open.
#[derive(Debug, Clone, Serialize)]
pub struct OpenThreat {
    pub id: String,
    pub title: String,
    pub role: Role,
    pub status: ThreatStatus,
    pub severity: Severity,
    pub projected_severity: Severity,
}

/// One analysed finding.
#[derive(Debug, Clone, Serialize)]
pub struct FindingAnalysis {
    pub control: String,
    /// Check ID in the displayed numbering.
    pub check: String,
    pub title: String,
    pub status: Option<Status>,
    pub risk: u8,
    /// Each open threat's risk as this control counts it (the largest is `risk`), for ranking.
    #[serde(skip)]
    pub threat_risks: Vec<(String, u8)>,
    /// The objects that fail (or the check-level evidence).
    pub evidence: Vec<EvidenceItem>,
    pub open_threats: Vec<OpenThreat>,
    /// Why the control matters, in the catalog's words (empty when not yet written there).
    pub rationale: String,
    /// How to make it hold, in the catalog's words (empty when not yet written there).
    pub remediation: String,
    pub notes: Vec<ControlNote>,
}

fn documented(s: &str) -> String {
    let t = s.trim();
    if t.is_empty() || t == "TODO" {
        String::new()
    } else {
        t.to_string()
    }
}

/// Analyse one control (failed or not: a selected control that passes says so).
pub fn analyse(tm: &ThreatModel, evidence: &EvidenceSet, control: &str) -> FindingAnalysis {
    let cat = bulkhead_checks::catalog().control(control);
    let mut open = Vec::new();
    let mut risk = 0u8;
    let mut risks = Vec::new();
    for t in &tm.threats {
        let Some(c) = t.controls.iter().find(|c| c.control == control) else {
            continue;
        };
        if matches!(t.status, ThreatStatus::NotApplicable) {
            continue;
        }
        if c.role == Role::Detect {
            continue;
        }
        let l = if c.role == Role::Prevent {
            t.likelihood.current
        } else {
            t.likelihood.current.saturating_sub(1).max(1)
        };
        if t.status != ThreatStatus::Mitigated {
            risk = risk.max(l * t.impact);
            risks.push((t.id.clone(), l * t.impact));
        }
        open.push(OpenThreat {
            id: t.id.clone(),
            title: t.title.clone(),
            role: c.role,
            status: t.status,
            severity: t.severity,
            projected_severity: t.projected_severity,
        });
    }
    let status = evidence.status(control);
    let mut items: Vec<EvidenceItem> = evidence
        .items_for(control)
        .filter(|i| matches!(i.status, Status::Fail | Status::Warn | Status::Error))
        .cloned()
        .collect();
    if items.is_empty() {
        items = evidence.items_for(control).cloned().collect();
    }

    FindingAnalysis {
        control: control.to_string(),
        check: evidence
            .check_id(control)
            .map(String::from)
            .unwrap_or_else(|| control.to_string()),
        title: cat.map(|c| c.title.clone()).unwrap_or_default(),
        status,
        risk: if status == Some(Status::Fail) {
            risk
        } else {
            0
        },
        threat_risks: if status == Some(Status::Fail) {
            risks
        } else {
            Vec::new()
        },
        evidence: items,
        open_threats: open,
        rationale: cat.map(|c| documented(&c.rationale)).unwrap_or_default(),
        remediation: cat.map(|c| documented(&c.remediation)).unwrap_or_default(),
        notes: crate::library::load()
            .map(|lib| lib.notes_for(control).cloned().collect())
            .unwrap_or_default(),
    }
}

/// Every failed control, most important first (see the module's notes on the order).
pub fn ranked_failures(tm: &ThreatModel, evidence: &EvidenceSet) -> Vec<FindingAnalysis> {
    let mut left: Vec<(usize, FindingAnalysis)> = evidence
        .failing_controls()
        .iter()
        .enumerate()
        .map(|(i, c)| (i, analyse(tm, evidence, c)))
        .collect();
    let mut named: Vec<String> = Vec::new();
    let mut ranked = Vec::with_capacity(left.len());
    while !left.is_empty() {
        // The risk and count of the threats a control would add to those already named.
        let adds = |a: &FindingAnalysis| {
            let new = a.threat_risks.iter().filter(|(id, _)| !named.contains(id));
            (new.clone().map(|(_, r)| *r).max().unwrap_or(0), new.count())
        };
        let best = (0..left.len())
            .max_by(|&x, &y| {
                let ((ax, a), (ay, b)) = (&left[x], &left[y]);
                let (ra, na) = adds(a);
                let (rb, nb) = adds(b);
                ra.cmp(&rb)
                    .then(na.cmp(&nb))
                    .then(a.risk.cmp(&b.risk))
                    .then(a.open_threats.len().cmp(&b.open_threats.len()))
                    .then(a.evidence.len().cmp(&b.evidence.len()))
                    // The earlier check wins a tie: max_by keeps the last of equals.
                    .then(ay.cmp(ax))
            })
            .expect("left is not empty");
        let (_, a) = left.remove(best);
        named.extend(a.threat_risks.iter().map(|(id, _)| id.clone()));
        ranked.push(a);
    }
    ranked
}
