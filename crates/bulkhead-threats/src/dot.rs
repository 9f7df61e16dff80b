//! Graphviz DOT export of the data-flow diagram: boundaries as dashed clusters (nested as in the
//! model), elements shaped by kind, elements and flows coloured by the worst status of their
//! threats on them (from the evidence about that item), each element's tooltip listing its threats
//! with their status there, flows numbered and labelled with protocol and port.

use crate::model::{ElementKind, Model};
use crate::{ThreatModel, ThreatStatus};
use std::fmt::Write;

fn quote(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            c if c.is_control() => {}
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn status(tm: &ThreatModel, id: &str) -> ThreatStatus {
    tm.worst_status(id).unwrap_or(ThreatStatus::NotApplicable)
}

fn colour(tm: &ThreatModel, id: &str) -> &'static str {
    status(tm, id).colour()
}

/// `, style=...` for a status drawn with a dash pattern ([`ThreatStatus::dash`]): Graphviz has
/// only named styles, so unknown is dashed and not applicable dotted.
fn style(tm: &ThreatModel, id: &str) -> &'static str {
    match status(tm, id) {
        ThreatStatus::Unknown => ", style=dashed",
        ThreatStatus::NotApplicable => ", style=dotted",
        _ => "",
    }
}

fn cluster(tm: &ThreatModel, m: &Model, boundary: &str, depth: usize, out: &mut String) {
    let b = m.boundary(boundary).expect("boundary exists");
    let pad = "  ".repeat(depth);
    let _ = writeln!(
        out,
        "{pad}subgraph {} {{",
        quote(&format!("cluster_{}", b.id))
    );
    let _ = writeln!(
        out,
        "{pad}  label={};",
        quote(&format!("{} (trust {})", b.name, b.trust))
    );
    let _ = writeln!(
        out,
        "{pad}  style=\"dashed,rounded\"; color=\"#b71c1c\"; fontcolor=\"#b71c1c\";"
    );
    for child in m
        .boundaries
        .iter()
        .filter(|c| c.parent.as_deref() == Some(boundary))
    {
        cluster(tm, m, &child.id, depth + 1, out);
    }
    for e in m
        .elements
        .iter()
        .filter(|e| e.boundary.as_deref() == Some(boundary))
    {
        node(tm, e, depth + 1, out);
    }
    let _ = writeln!(out, "{pad}}}");
}

fn node(tm: &ThreatModel, e: &crate::Element, depth: usize, out: &mut String) {
    let shape = match e.kind {
        ElementKind::ExternalEntity => "box",
        ElementKind::Process => "ellipse",
        ElementKind::DataStore => "cylinder",
    };
    // Each threat with its status on this element, so open and mitigated ones stand apart.
    let threats: Vec<String> = tm
        .threats_on(&e.id)
        .map(|(t, s)| format!("{} {}", t.id, s.label()))
        .collect();
    let _ = writeln!(
        out,
        "{}{} [label={}, shape={shape}, color={}{}, penwidth=2, tooltip={}];",
        "  ".repeat(depth),
        quote(&e.id),
        quote(&e.name),
        quote(colour(tm, &e.id)),
        style(tm, &e.id),
        quote(&format!(
            "{} ({}): {}",
            e.name,
            e.kind.label(),
            threats.join(", ")
        ))
    );
}

/// Render the model (one platform, or all) as a DOT digraph.
pub fn render(tm: &ThreatModel) -> String {
    let m = tm.model();
    let mut out = String::new();
    out.push_str("digraph bulkhead_dfd {\n");
    out.push_str("  rankdir=LR; compound=true; node [fontname=\"Helvetica\", fontsize=11]; edge [fontname=\"Helvetica\", fontsize=9];\n");
    let _ = writeln!(
        out,
        "  label={}; labelloc=t;",
        quote(&format!(
            "Data-flow diagram of {} (bulkhead {})",
            tm.system.host, tm.tool.version
        ))
    );
    for b in m.boundaries.iter().filter(|b| b.parent.is_none()) {
        cluster(tm, &m, &b.id, 1, &mut out);
    }
    for e in m.elements.iter().filter(|e| e.boundary.is_none()) {
        node(tm, e, 1, &mut out);
    }
    for (n, f) in m.flows.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, color={}, fontcolor={}{}{}];",
            quote(&f.from),
            quote(&f.to),
            quote(&format!("{}: {}\n{}", n + 1, f.protocol, f.port)),
            quote(colour(tm, &f.id)),
            quote(colour(tm, &f.id)),
            style(tm, &f.id),
            if f.bidirectional { ", dir=both" } else { "" }
        );
    }
    out.push_str("}\n");
    out
}
