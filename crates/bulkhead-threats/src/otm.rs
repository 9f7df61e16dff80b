//! Open Threat Model (OTM 0.2.0) JSON export, for Threat Dragon and IriusRisk users.
//!
//! Boundaries become trust zones (with `trustRating`), elements become components whose parent
//! is their zone, flows become dataflows, library threats become threats (STRIDE categories,
//! likelihood and impact on OTM's 0-100 scale), and controls become mitigations whose state on
//! each component says whether the evidence shows them implemented.

use crate::evaluate::ControlRef;
use crate::model::ElementKind;
use crate::{ThreatModel, ThreatStatus};
use bulkhead_checks::{Status, Stride};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const OTM_VERSION: &str = "0.2.0";

fn otm_threat_state(s: ThreatStatus) -> &'static str {
    match s {
        ThreatStatus::Exposed => "EXPOSED",
        ThreatStatus::PartiallyMitigated => "PARTIALLY_MITIGATED",
        ThreatStatus::Unknown => "UNKNOWN",
        ThreatStatus::Accepted => "ACCEPTED",
        ThreatStatus::Mitigated => "MITIGATED",
        ThreatStatus::NotApplicable => "NOT_APPLICABLE",
    }
}

fn mitigation_state(c: &ControlRef) -> &'static str {
    match c.status {
        Some(Status::Pass) => "IMPLEMENTED",
        Some(Status::Fail) => "REQUIRED",
        Some(Status::NotApplicable) => "NOT_APPLICABLE",
        _ => "RECOMMENDED",
    }
}

fn stride_name(letter: &str) -> &'static str {
    Stride::ALL
        .iter()
        .find(|s| s.letter().to_string() == letter)
        .map(|s| s.name())
        .unwrap_or("Unknown")
}

/// Scale 1-4 to OTM's 0-100.
fn pct(v: u8) -> u8 {
    v.min(4) * 25
}

pub fn render(tm: &ThreatModel) -> String {
    let trust_zones: Vec<Value> = tm
        .boundaries
        .iter()
        .map(|b| {
            let mut z = json!({
                "id": b.id,
                "name": b.name,
                "type": b.kind,
                "risk": {"trustRating": b.trust},
                "attributes": {"platform": b.platform.as_str()},
            });
            if let Some(p) = &b.parent {
                z["parent"] = json!({"trustZone": p});
            }
            z
        })
        .collect();
    let threat_refs = |item: &str| -> Vec<Value> {
        tm.threats_on(item)
            .map(|(t, here)| {
                json!({
                    "threat": t.id,
                    "state": otm_threat_state(here),
                    "mitigations": t.controls.iter().map(|c| json!({
                        "mitigation": c.control,
                        "state": mitigation_state(c),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect()
    };
    let components: Vec<Value> = tm
        .elements
        .iter()
        .map(|e| {
            let parent = match &e.boundary {
                Some(b) => json!({"trustZone": b}),
                None => json!({"trustZone": "outside"}),
            };
            json!({
                "id": e.id,
                "name": e.name,
                "type": match e.kind {
                    ElementKind::ExternalEntity => "external-entity",
                    ElementKind::Process => "process",
                    ElementKind::DataStore => "data-store",
                },
                "parent": parent,
                "tags": [e.component, e.platform.as_str()],
                "threats": threat_refs(&e.id),
                "attributes": e.attrs,
            })
        })
        .collect();
    let dataflows: Vec<Value> = tm
        .flows
        .iter()
        .map(|f| {
            json!({
                "id": f.id,
                "name": f.name,
                "source": f.from,
                "destination": f.to,
                "bidirectional": f.bidirectional,
                "tags": [f.protocol],
                "threats": threat_refs(&f.id),
                "attributes": {
                    "protocol": f.protocol,
                    "port": f.port,
                    "authentication": f.authentication,
                    "encryption": f.encryption,
                    "data": f.data,
                    "crosses": f.crosses,
                },
            })
        })
        .collect();
    let threats: Vec<Value> = tm
        .threats
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "name": t.title,
                "description": t.description,
                "categories": t.stride.iter().map(|l| stride_name(l)).collect::<Vec<_>>(),
                "risk": {
                    "likelihood": pct(t.likelihood.current),
                    "likelihoodComment": if t.likelihood.raised_by.is_empty() { "base likelihood".to_string() } else { format!("raised: {}", t.likelihood.raised_by.join("; ")) },
                    "impact": pct(t.impact),
                    "impactComment": format!("severity {} (after planned fixes: {})", t.severity, t.projected_severity),
                },
                "tags": t.refs.labelled(),
                "attributes": {"status": t.status.as_str(), "reason": t.reason, "confidence": t.confidence.as_str()},
            })
        })
        .collect();
    let mut mitigations: BTreeMap<String, Value> = BTreeMap::new();
    for t in &tm.threats {
        for c in &t.controls {
            mitigations.entry(c.control.clone()).or_insert_with(|| {
                json!({
                    "id": c.control,
                    "name": c.title,
                    "description": match &c.check { Some(ch) => format!("CIS check {ch}"), None => "control".to_string() },
                    // Preventive controls are credited with most of the reduction.
                    "riskReduction": match c.role { crate::library::Role::Prevent => 75, crate::library::Role::Limit => 40, crate::library::Role::Detect => 20 },
                })
            });
        }
    }
    let mut needs_outside = false;
    for e in &tm.elements {
        needs_outside |= e.boundary.is_none();
    }
    let mut zones = trust_zones;
    if needs_outside {
        zones.push(
            json!({"id": "outside", "name": "Outside any boundary", "risk": {"trustRating": 0}}),
        );
    }
    let doc = json!({
        "otmVersion": OTM_VERSION,
        "project": {
            "name": format!("bulkhead threat model of {}", tm.system.host),
            "id": format!("bulkhead-{}", tm.system.host),
            "description": format!("Generated by bulkhead {} from evidence collected at {}", tm.tool.version, tm.system.collected_at),
            "tags": tm.system.platforms.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        },
        "representations": [{"name": "Data-flow diagram", "id": "dfd", "type": "diagram"}],
        "trustZones": zones,
        "components": components,
        "dataflows": dataflows,
        "threats": threats,
        "mitigations": mitigations.into_values().collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("OTM serializes");
    s.push('\n');
    s
}
