//! Mermaid flowchart export of the data-flow diagram, for Markdown renderers (GitHub, GitLab).
//! Boundaries become nested subgraphs, element shapes follow their kind, and a class per threat
//! status colours elements (the worst status of their threats on them, from the evidence about
//! that element). One edge per line: some renderers drop chained edges.

use crate::model::{ElementKind, Model};
use crate::{ThreatModel, ThreatStatus};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Mermaid node IDs must be plain words: map each model ID to a unique one.
struct Ids(BTreeMap<String, String>);

impl Ids {
    fn new(m: &Model) -> Ids {
        let mut map = BTreeMap::new();
        let mut used = std::collections::BTreeSet::new();
        let all = m
            .boundaries
            .iter()
            .map(|b| &b.id)
            .chain(m.elements.iter().map(|e| &e.id));
        for id in all {
            let base: String = id
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let mut cand = base.clone();
            let mut n = 2;
            while !used.insert(cand.clone()) {
                cand = format!("{base}_{n}");
                n += 1;
            }
            map.insert(id.clone(), cand);
        }
        Ids(map)
    }

    fn get(&self, id: &str) -> &str {
        self.0.get(id).map(String::as_str).unwrap_or("unknown")
    }
}

/// A label inside `["..."]`. Mermaid draws labels as HTML and decodes its own entity codes
/// (`#lt;`, `#35;`), so every character that could open markup, an entity, a Markdown string
/// (a leading backtick) or end the quotes is written as one; host values (container and image
/// names) reach the diagram this way.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '`' => out.push_str("#96;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn subgraph(m: &Model, ids: &Ids, boundary: &str, depth: usize, out: &mut String) {
    let b = m.boundary(boundary).expect("boundary exists");
    let pad = "  ".repeat(depth);
    let _ = writeln!(
        out,
        "{pad}subgraph {}[\"{} · trust {}\"]",
        ids.get(&b.id),
        text(&b.name),
        b.trust
    );
    for child in m
        .boundaries
        .iter()
        .filter(|c| c.parent.as_deref() == Some(boundary))
    {
        subgraph(m, ids, &child.id, depth + 1, out);
    }
    for e in m
        .elements
        .iter()
        .filter(|e| e.boundary.as_deref() == Some(boundary))
    {
        node(e, ids, depth + 1, out);
    }
    let _ = writeln!(out, "{pad}end");
}

fn node(e: &crate::Element, ids: &Ids, depth: usize, out: &mut String) {
    let (open, close) = match e.kind {
        ElementKind::ExternalEntity => ("[", "]"),
        ElementKind::Process => ("([", "])"),
        ElementKind::DataStore => ("[(", ")]"),
    };
    let _ = writeln!(
        out,
        "{}{}{open}\"{}\"{close}",
        "  ".repeat(depth),
        ids.get(&e.id),
        text(&e.name)
    );
}

pub fn render(tm: &ThreatModel) -> String {
    let m = tm.model();
    let ids = Ids::new(&m);
    let mut out = String::from("flowchart LR\n");
    for b in m.boundaries.iter().filter(|b| b.parent.is_none()) {
        subgraph(&m, &ids, &b.id, 1, &mut out);
    }
    for e in m.elements.iter().filter(|e| e.boundary.is_none()) {
        node(e, &ids, 1, &mut out);
    }
    for (n, f) in m.flows.iter().enumerate() {
        let arrow = if f.bidirectional { "<-->" } else { "-->" };
        let _ = writeln!(
            out,
            "  {} {arrow}|\"{}: {} {}\"| {}",
            ids.get(&f.from),
            n + 1,
            text(&f.protocol),
            text(&f.port),
            ids.get(&f.to)
        );
    }
    for s in ThreatStatus::ALL {
        let _ = writeln!(
            out,
            "  classDef {} stroke:{},stroke-width:3px{}",
            s.as_str(),
            s.colour(),
            s.dash()
                .map(|d| format!(",stroke-dasharray:{d}"))
                .unwrap_or_default()
        );
    }
    let mut by_status: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &m.elements {
        if let Some(s) = tm.worst_status(&e.id) {
            by_status
                .entry(s.as_str())
                .or_default()
                .push(ids.get(&e.id));
        }
    }
    for (s, v) in by_status {
        let _ = writeln!(out, "  class {} {s}", v.join(","));
    }
    for b in &m.boundaries {
        let _ = writeln!(
            out,
            "  style {} stroke:#b71c1c,stroke-dasharray:6 4,fill:none",
            ids.get(&b.id)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    /// A hostile container name stays text in the diagram: no tag, entity, quote or line break
    /// of its own survives.
    #[test]
    fn labels_hold_no_markup_of_their_own() {
        let label = super::text("we<b>b&\"x'|`y`#lt;\nz");
        assert_eq!(label, "we#lt;b#gt;b#amp;#quot;x'|#96;y#96;#35;lt; z");
        for raw in ['<', '>', '&', '"', '`', '\n'] {
            assert!(!label.contains(raw), "{raw:?} in {label}");
        }
    }
}
