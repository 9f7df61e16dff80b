//! Analysis of failed findings for the assessment report: which failed controls matter most
//! (ranked by the risk of the threats they leave open), what each means, which threats it
//! leaves open, and how to fix it.
//!
//! Risk of a failed control = the highest likelihood x impact among the open threats that list
//! it (a preventive control counts fully, a limiting one with one point less likelihood);
//! ties are broken by the number of threats, then the number of failing objects, then the
//! check's position in the benchmark.

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
        evidence: items,
        open_threats: open,
        rationale: cat.map(|c| documented(&c.rationale)).unwrap_or_default(),
        remediation: cat.map(|c| documented(&c.remediation)).unwrap_or_default(),
        notes: crate::library::load()
            .map(|lib| lib.notes_for(control).cloned().collect())
            .unwrap_or_default(),
    }
}

/// Every failed control, most important first.
pub fn ranked_failures(tm: &ThreatModel, evidence: &EvidenceSet) -> Vec<FindingAnalysis> {
    let order: Vec<String> = evidence.failing_controls();
    let mut v: Vec<(usize, FindingAnalysis)> = order
        .iter()
        .enumerate()
        .map(|(i, c)| (i, analyse(tm, evidence, c)))
        .collect();
    v.sort_by(|(ia, a), (ib, b)| {
        b.risk
            .cmp(&a.risk)
            .then(b.open_threats.len().cmp(&a.open_threats.len()))
            .then(b.evidence.len().cmp(&a.evidence.len()))
            .then(ia.cmp(ib))
    });
    v.into_iter().map(|(_, a)| a).collect()
}
