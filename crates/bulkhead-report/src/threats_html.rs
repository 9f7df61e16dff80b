//! Self-contained HTML rendering of a threat model: inline CSS, the data-flow diagram as inline
//! SVG drawn by bulkhead, no script and no reference to anything outside the file (no fonts,
//! images or styles fetched). Each diagram element links to the row that lists its threats, each
//! threat ID to the threat's section; their anchors come from `svg::element_anchor` and
//! `svg::threat_anchor`, so the diagram and the tables link alike.

use bulkhead_threats::svg::{element_anchor, esc, threat_anchor};
use bulkhead_threats::{Boundary, Element, Flow, Platform, ThreatModel, ThreatResult};
use std::collections::{HashMap, HashSet};
use std::fmt::Write;

/// The page's style. Host values (container and image names, digests, paths) can be one long
/// word: they wrap, in table cells too (where `anywhere` lets the column shrink, and the minimum
/// width keeps short words whole), so no table pushes the page wider than the window. On paper
/// nothing scrolls, so in print the diagram is scaled to the page width and code wraps, rather
/// than being cut off at the margin. Each status colour has at least WCAG AA contrast for text
/// (4.5:1) on the white page, and no status is told by colour alone: `.vh` text is read by
/// screen readers (and copied) but takes no room on the page. A check status in a cell is never
/// broken inside its word. Printed, each table's header row (its `<thead>`) is repeated on
/// every page it runs over, a row or list item is not split across two pages, and a heading
/// stays with what follows it. On screen, the threat links of an element-table row that many
/// elements share stay in view while the reader scrolls down its list of names, and the element
/// a link went to (or the shared row that a threat's targets link to) is highlighted; a short
/// name in that list is not broken at its hyphen (a long one still wraps, inside its own box).
/// The page keeps a margin at the window's edges however narrow the window (a phone's), and a
/// table of many columns (threats, flows, evidence) that cannot fit one scrolls sideways in its
/// own box, as the diagram does, rather than making the whole page wider than the window. The
/// element table is not boxed: its sticky threat links need the page as their scroller.
/// A check's status in a cell stays on one line with its ID (`[FAIL] 1.1.10`), and a control
/// ID breaks only at its dots (where [`breakable_id`] allows it), not inside its words. An
/// evidence row's observations folded into a `<details>` are printed unfolded.
pub const STYLE: &str = "body{font-family:Helvetica,Arial,sans-serif;margin:24px auto;padding:0 16px;max-width:1500px;color:#212121;line-height:1.4}\
h1{font-size:24px}h2{font-size:20px;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:32px}h3{font-size:16px}\
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;font-size:13px}th{background:#f5f5f5;text-align:left}\
.status{font-weight:bold}.exposed{color:#c62828}.partially_mitigated{color:#9a4a00}.unknown{color:#6a1b9a}.accepted{color:#1565c0}.mitigated{color:#2e7d32}.not_applicable{color:#757575}\
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;border:0;overflow:hidden;clip:rect(0 0 0 0);clip-path:inset(50%);white-space:nowrap}\
.fail{color:#c62828}.pass{color:#2e7d32}.warn,.manual,.error,.info{color:#616161}\
td.fail,td.pass,td.warn,td.manual,td.error,td.info,td.not_applicable{overflow-wrap:normal;white-space:nowrap}td.control{overflow-wrap:break-word}details.each ul{margin:4px 0;padding-left:1.2em}\
.wide{overflow-x:auto}.diagram{overflow-x:auto;border:1px solid #eee;padding:8px;margin:12px 0}\
pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}code{font-size:12px}.note{border-left:4px solid #1565c0;padding:4px 12px;background:#f3f7fc}\
body{overflow-wrap:break-word}td{overflow-wrap:anywhere;min-width:5em}td a{white-space:nowrap}.flows td a{white-space:normal}\
.names{max-width:60em}.names span{display:inline-block}.shared .links{position:sticky;top:0}[id^=\"el-\"]:target,tr.shared:target{background:#fff59d}\
@media print{.diagram{overflow:visible}.diagram svg{max-width:100%;height:auto}pre{white-space:pre-wrap;overflow-wrap:anywhere}\
thead{display:table-header-group}tr,li,.note{break-inside:avoid}h1,h2,h3,h4{break-after:avoid}details.each::details-content{content-visibility:visible}}";

pub fn status_span(s: bulkhead_threats::ThreatStatus) -> String {
    format!("<span class=\"status {}\">{}</span>", s.as_str(), s.label())
}

/// Diagram, element index, threat table and details of one platform.
pub fn platform_section(tm: &ThreatModel, p: Platform, level: u8, out: &mut String) {
    let h = level;
    let _ = writeln!(
        out,
        "<div class=\"diagram\">{}</div>",
        bulkhead_threats::svg::render(tm, Some(p))
    );
    let groups = Groups::new(tm, p);
    flows_table(tm, p, &groups, h, out);
    let _ = writeln!(out, "<h{h}>Elements and their threats</h{h}><table class=\"elements\"><thead><tr><th>Element</th><th>Kind</th><th>Trust boundary</th><th>Threats</th></tr></thead>");
    for row in &groups.rows {
        // The colour shows each threat's status at a glance; the words say it too, to a screen
        // reader (hidden text) and on hover (the title, worded like the diagram's tooltips).
        // Each threat in its status on these elements, from the evidence about them: a hardened
        // container shows its threats mitigated although a neighbour leaves them exposed.
        let links: Vec<String> = row
            .threats
            .iter()
            .map(|(t, here)| {
                format!(
                    "<a href=\"#{}\" class=\"{}\" title=\"{} ({})\">{}<span class=\"vh\"> ({})</span></a>",
                    threat_anchor(&t.id),
                    here.as_str(),
                    esc(&t.title),
                    if *here == t.status {
                        here.label().to_string()
                    } else {
                        format!("{} here, {} overall", here.label(), t.status.label())
                    },
                    esc(&t.id),
                    here.label()
                )
            })
            .collect();
        let links = if links.is_empty() {
            "-".into()
        } else {
            links.join(" ")
        };
        let boundaries: Vec<String> = row.elements.iter().map(|e| boundary_cell(tm, e)).collect();
        match row.elements.as_slice() {
            [e] => {
                let _ = writeln!(
                    out,
                    "<tr id=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    element_anchor(&e.id),
                    esc(&e.name),
                    e.kind.label(),
                    esc(&boundaries[0]),
                    links
                );
            }
            many => {
                // One boundary for all; or each element's own, named after it ("Container web"
                // for the container web), said once; or else each element's named with it. The
                // trust is the same (it is part of what the elements share).
                let trust = boundary_of(tm, many[0])
                    .map(|b| b.trust)
                    .unwrap_or_default();
                let one_boundary = boundaries.iter().all(|b| b == &boundaries[0]);
                let named_after = if one_boundary {
                    None
                } else {
                    boundary_named_after(tm, many)
                };
                let names: Vec<String> = many
                    .iter()
                    .map(|e| {
                        let within = match boundary_of(tm, e) {
                            Some(b) if !one_boundary && named_after.is_none() => {
                                format!(" in {}", esc(&b.name))
                            }
                            _ => String::new(),
                        };
                        format!(
                            "<span id=\"{}\">{}</span>{within}",
                            element_anchor(&e.id),
                            esc(&e.name)
                        )
                    })
                    .collect();
                let boundary = match (one_boundary, named_after) {
                    (true, _) => esc(&boundaries[0]),
                    (false, Some((before, after))) => format!(
                        "each its own: {}<var>its name</var>{} (trust {trust})",
                        esc(before),
                        esc(after)
                    ),
                    (false, None) => format!("given with each element (trust {trust})"),
                };
                let _ = writeln!(
                    out,
                    "<tr class=\"shared\" id=\"{}\"><td><div class=\"names\">{} elements: {}</div></td><td>{}</td><td>{}</td><td><div class=\"links\">{}</div></td></tr>",
                    row_anchor(row),
                    many.len(),
                    names.join(", "),
                    many[0].kind.label(),
                    boundary,
                    links
                );
            }
        }
    }
    out.push_str("</table>\n");
    let _ = writeln!(out, "<h{h}>Threats</h{h}><div class=\"wide\"><table class=\"threats\"><thead><tr><th>ID</th><th>STRIDE</th><th>Threat</th><th>Status</th><th>Severity</th><th>After planned fixes</th><th>Confidence</th></tr></thead>");
    for t in tm.threats_for(p) {
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            threat_anchor(&t.id),
            esc(&t.id),
            t.stride.join(""),
            esc(&t.title),
            status_span(t.status),
            t.severity,
            t.projected_severity,
            t.confidence.as_str()
        );
    }
    out.push_str("</table></div>\n");
    for t in tm.threats_for(p) {
        threat_details(tm, t, &groups, h + 1, out);
    }
}

/// The platform's data flows as a table, numbered as the diagram numbers them: the diagram is
/// one image to a screen reader, on a phone most of its legend is off screen, and it draws only
/// some of the flows of a host with many containers ("… and 17 more flows of the elements not
/// drawn"); here each flow is text, with its status in words. The flows that go one to each
/// element of a large shared row of the element table from the same element, alike in all
/// else, share one row, as the threat sections name them.
fn flows_table(tm: &ThreatModel, p: Platform, g: &Groups, h: u8, out: &mut String) {
    type Key<'a> = (
        Option<usize>,
        &'a str,
        Option<usize>,
        &'a str,
        &'a Flow,
        bulkhead_threats::ThreatStatus,
    );
    // Each flow's number (its place among all the model's flows, as in the diagram), its
    // status (the worst of its threats), and its row.
    let mut rows: Vec<(Key, Vec<(usize, &Flow)>)> = Vec::new();
    for (i, f) in tm.flows.iter().enumerate().filter(|(_, f)| f.platform == p) {
        let status = tm
            .worst_status(&f.id)
            .unwrap_or(bulkhead_threats::ThreatStatus::NotApplicable);
        let (rf, rt) = (
            g.row_of.get(f.from.as_str()).copied(),
            g.row_of.get(f.to.as_str()).copied(),
        );
        let key: Key = (rf, f.from.as_str(), rt, f.to.as_str(), f, status);
        let alike = |k: &Key| {
            let (a, b) = (k.4, f);
            (rf.is_some() != rt.is_some())
                && k.0 == rf
                && k.2 == rt
                && (rf.is_some() || k.1 == f.from)
                && (rt.is_some() || k.3 == f.to)
                && a.protocol == b.protocol
                && (a.port == b.port || (rf.is_some() || rt.is_some()))
                && a.authentication == b.authentication
                && a.encryption == b.encryption
                && a.bidirectional == b.bidirectional
                && k.5 == status
        };
        match rows.iter_mut().find(|(k, _)| alike(k)) {
            Some((_, members)) => members.push((i + 1, f)),
            None => rows.push((key, vec![(i + 1, f)])),
        }
    }
    // Flows to only some of a row's elements are listed one by one: the row's link would say
    // all of them.
    let rows: Vec<(Key, Vec<(usize, &Flow)>)> = rows
        .into_iter()
        .flat_map(|(k, members)| {
            let size = k.0.or(k.2).map_or(0, |r| g.rows[r].elements.len());
            if members.len() == 1 || members.len() == size {
                vec![(k, members)]
            } else {
                members
                    .into_iter()
                    .map(|(n, f)| {
                        (
                            (None, f.from.as_str(), None, f.to.as_str(), f, k.5),
                            vec![(n, f)],
                        )
                    })
                    .collect()
            }
        })
        .collect();
    let mut rows = rows;
    rows.sort_by_key(|(_, members)| members[0].0);
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "<h{h}>Data flows</h{h}><div class=\"wide\"><table class=\"flows\"><thead><tr><th>No.</th><th>From</th><th>To</th><th>Protocol, address</th><th>Authentication</th><th>Encryption</th><th>Status</th></tr></thead>");
    let end = |row: Option<usize>, id: &str| match row {
        Some(r) => {
            let row = &g.rows[r];
            group_ref(
                row,
                &row.elements[0].name,
                &row.elements[row.elements.len() - 1].name,
            )
        }
        None => match g.elements.get(id) {
            Some(e) => format!("<a href=\"#{}\">{}</a>", element_anchor(id), esc(&e.name)),
            None => esc(tm.item_name(id)),
        },
    };
    for ((rf, from, rt, to, f, status), members) in rows {
        // A shared row's flows: how many, and which numbers; each its own address.
        let (number, rf, rt) = match members.as_slice() {
            [(n, _)] => (n.to_string(), None, None),
            [(first, _), .., (last, _)] => (
                format!("{first} … {last} ({} flows)", members.len()),
                rf,
                rt,
            ),
            [] => unreachable!("a row has a flow"),
        };
        // The address, when the flow has one (`-`: a fork/exec has none).
        let port = if members.iter().all(|(_, x)| x.port == f.port) {
            match f.port.as_str() {
                "-" | "" => String::new(),
                p => format!(", {}", esc(p)),
            }
        } else {
            ", each its own address".to_string()
        };
        let _ = write!(
            out,
            "<tr><td>{number}</td><td>{}</td><td>{}{}</td><td>{}{port}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            end(rf, from),
            end(rt, to),
            if f.bidirectional { " (both ways)" } else { "" },
            esc(&f.protocol),
            esc(&f.authentication),
            esc(&f.encryption),
            status_span(status)
        );
    }
    out.push_str("</table></div>\n");
}

/// A threat's section: its status and why, its targets, its evidence, mitigation and references.
/// `groups` are its platform's rows of the element table, which the targets and the evidence
/// objects refer to when they are all the elements of a large shared row.
fn threat_details(tm: &ThreatModel, t: &ThreatResult, groups: &Groups, h: u8, out: &mut String) {
    let _ = writeln!(
        out,
        "<section class=\"threat\" id=\"{}\" data-threat=\"{}\" data-status=\"{}\"><h{h}>{} {}</h{h}>",
        threat_anchor(&t.id),
        esc(&t.id),
        t.status.as_str(),
        esc(&t.id),
        esc(&t.title)
    );
    let _ = writeln!(
        out,
        "<p>{}{} — {}. Severity <b>{}</b> now, <b>{}</b> after the planned fixes (likelihood {}{}, impact {}). STRIDE {}. Confidence {}.</p>",
        status_span(t.status),
        t.computed_status.map(|c| format!(" (evidence says {})", c.label())).unwrap_or_default(),
        esc(&t.reason),
        t.severity,
        t.projected_severity,
        t.likelihood.current,
        esc(&if t.likelihood.raised_by.is_empty() { String::new() } else { format!(", raised because {}", t.likelihood.raised_by.join("; ")) }),
        t.impact,
        t.stride.join(""),
        t.confidence.as_str()
    );
    if let Some(a) = &t.acceptance {
        let _ = writeln!(
            out,
            "<p class=\"note\">Accepted by {} until {}: {}</p>",
            esc(&a.owner),
            esc(&a.expires),
            esc(&a.reason)
        );
    }
    for n in &t.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(n));
    }
    // A threat that does not apply here can target nothing on this host: said, not left blank.
    let targets = targets_cell(tm, t, groups);
    let _ = writeln!(
        out,
        "<p>{}</p><p class=\"targets\">Targets: {}</p>",
        esc(&t.description),
        if targets.is_empty() {
            "none on this host".to_string()
        } else {
            targets
        }
    );
    if !t.evidence.is_empty() {
        out.push_str("<div class=\"wide\"><table class=\"evidence\"><thead><tr><th>Check</th><th>Control</th><th>Object</th><th>Status</th><th>Observed</th><th>Confidence</th></tr></thead>");
        for items in evidence_rows(t) {
            let e = items[0];
            let objects: Vec<&str> = items.iter().map(|x| x.object.as_str()).collect();
            let observed = if items.iter().all(|x| x.actual == e.actual) {
                observed_cell(e.actual.as_deref().unwrap_or("-"), groups)
            } else {
                each_observed_cell(&items, groups)
            };
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"control\">{}</td><td>{}</td><td class=\"{s}\">{s}</td><td>{}</td><td>{}</td></tr>",
                esc(&e.check),
                breakable_id(&e.control),
                objects_cell(&objects, groups),
                observed,
                e.confidence.as_str(),
                s = e.status.as_str()
            );
        }
        out.push_str("</table></div>\n");
    }
    let _ = writeln!(out, "<p>Mitigation: {}</p>", esc(&t.mitigation));
    let refs = t.refs.labelled();
    if !refs.is_empty() {
        let _ = writeln!(out, "<p>References: {}</p>", esc(&refs.join(", ")));
    }
    out.push_str("</section>\n");
}

/// Elements of one platform that share a row of the element table: the same kind, the same
/// trust and the same threats in the same statuses on them.
struct ElementRow<'a> {
    elements: Vec<&'a Element>,
    /// Each threat with its status on these elements ([`ThreatModel::status_on`]).
    threats: Vec<(&'a ThreatResult, bulkhead_threats::ThreatStatus)>,
}

/// The element table's rows: elements that share their kind, their boundary's trust and their
/// threats with their statuses share one row, which names each of them (with its anchor, so
/// that the diagram's and a threat's links land on its name; a large row has its own anchor,
/// which the threat sections link to when they name all its elements) and links those threats
/// once.
/// A host with 500 containers that are run alike otherwise repeats the same nine threat links
/// on 500 rows (838 KB of a 1.7 MB page). A row stands where its first element would, and an
/// element that shares with no other has its own row, as before.
fn element_rows(tm: &ThreatModel, p: Platform) -> Vec<ElementRow<'_>> {
    let mut of: std::collections::HashMap<&str, Vec<&ThreatResult>> = Default::default();
    for t in &tm.threats {
        for x in &t.targets {
            let list = of.entry(x.as_str()).or_default();
            // A threat that names an element twice is listed once, as `threats_of` lists it.
            if !list.last().is_some_and(|l| std::ptr::eq(*l, t)) {
                list.push(t);
            }
        }
    }
    type Key<'a> = (&'static str, Option<u8>, Vec<(&'a str, &'static str)>);
    let mut rows: Vec<ElementRow> = Vec::new();
    let mut index: std::collections::HashMap<Key, usize> = Default::default();
    for e in tm.elements.iter().filter(|e| e.platform == p) {
        let threats: Vec<(&ThreatResult, bulkhead_threats::ThreatStatus)> = of
            .get(e.id.as_str())
            .map(|v| {
                v.iter()
                    .map(|t| (*t, ThreatModel::status_on(t, &e.id)))
                    .collect()
            })
            .unwrap_or_default();
        let key: Key = (
            e.kind.label(),
            boundary_of(tm, e).map(|b| b.trust),
            threats
                .iter()
                .map(|(t, here)| (t.id.as_str(), here.as_str()))
                .collect(),
        );
        match index.get(&key) {
            Some(&i) => rows[i].elements.push(e),
            None => {
                index.insert(key, rows.len());
                rows.push(ElementRow {
                    elements: vec![e],
                    threats,
                });
            }
        }
    }
    rows
}

fn boundary_of<'a>(tm: &'a ThreatModel, e: &Element) -> Option<&'a Boundary> {
    e.boundary
        .as_ref()
        .and_then(|b| tm.boundaries.iter().find(|x| &x.id == b))
}

/// When each of these elements is in a boundary of its own whose name is the element's name
/// with the same words before and after it (each container in "Container <name>"), those words.
fn boundary_named_after<'a>(
    tm: &'a ThreatModel,
    elements: &[&Element],
) -> Option<(&'a str, &'a str)> {
    let first = boundary_of(tm, elements[0])?;
    let at = first.name.find(elements[0].name.as_str())?;
    let (before, after) = (
        &first.name[..at],
        &first.name[at + elements[0].name.len()..],
    );
    let mut seen = std::collections::HashSet::new();
    elements
        .iter()
        .all(|e| {
            boundary_of(tm, e).is_some_and(|b| {
                seen.insert(b.id.as_str())
                    && b.name.len() == before.len() + e.name.len() + after.len()
                    && b.name.starts_with(before)
                    && b.name.ends_with(after)
                    && b.name[before.len()..b.name.len() - after.len()] == e.name
            })
        })
        .then_some((before, after))
}

/// An element's trust boundary as the table shows it: its name and trust, or `-`.
fn boundary_cell(tm: &ThreatModel, e: &Element) -> String {
    boundary_of(tm, e)
        .map(|b| format!("{} (trust {})", b.name, b.trust))
        .unwrap_or_else(|| "-".into())
}

/// A threat's evidence as table rows: the items that differ only in their object (the same check
/// with the same result on many containers) share one row naming all those objects, in the
/// order they came. A host with 500 containers otherwise repeats each check's row 500 times
/// in every threat it backs (3,500 rows in one table, 3.9 MB of the page).
///
/// What was seen can name the object itself (5.26 reads `/proc/<pid>/status` of each
/// container), so the same result on many containers can be as many different observations:
/// when at least [`GROUP_MIN`] items of one check, status and confidence are each alone in
/// their row, they share one row too, at the first one's place, which lists each object with
/// its observation. A real host with 30 containers otherwise shows 25 rows of 5.26 in each
/// threat it backs, one per container.
fn evidence_rows(t: &ThreatResult) -> Vec<Vec<&bulkhead_threats::evidence::EvidenceItem>> {
    use bulkhead_threats::evidence::EvidenceItem;
    let mut rows: Vec<Vec<&EvidenceItem>> = Vec::new();
    for e in &t.evidence {
        let same = |x: &EvidenceItem| {
            x.check == e.check
                && x.control == e.control
                && x.status.as_str() == e.status.as_str()
                && x.actual == e.actual
                && x.confidence.as_str() == e.confidence.as_str()
        };
        match rows.iter_mut().find(|r| same(r[0])) {
            Some(r) => r.push(e),
            None => rows.push(vec![e]),
        }
    }
    let key = |x: &EvidenceItem| {
        (
            x.check.clone(),
            x.control.clone(),
            x.status.as_str(),
            x.confidence.as_str(),
        )
    };
    let mut alone: HashMap<_, usize> = HashMap::new();
    for r in rows.iter().filter(|r| r.len() == 1) {
        *alone.entry(key(r[0])).or_default() += 1;
    }
    let mut merged: Vec<Vec<&EvidenceItem>> = Vec::new();
    let mut at: HashMap<_, usize> = HashMap::new();
    for r in rows {
        let k = key(r[0]);
        if r.len() == 1 && alone.get(&k).is_some_and(|n| *n >= GROUP_MIN) {
            match at.get(&k) {
                Some(&i) => merged[i].push(r[0]),
                None => {
                    at.insert(k, merged.len());
                    merged.push(r);
                }
            }
        } else {
            merged.push(r);
        }
    }
    merged
}

/// The observed cell of a row whose objects were each seen differently: how many observations,
/// then, folded away until the reader opens them (on paper they are printed), each object with
/// what was seen on it.
fn each_observed_cell(
    items: &[&bulkhead_threats::evidence::EvidenceItem],
    groups: &Groups,
) -> String {
    let mut s = format!(
        "<details class=\"each\"><summary>{} observations, one for each object</summary><ul>",
        items.len()
    );
    for x in items {
        let _ = write!(
            s,
            "<li>{}: {}</li>",
            esc(&x.object),
            observed_cell(x.actual.as_deref().unwrap_or("-"), groups)
        );
    }
    s.push_str("</ul></details>");
    s
}

/// A dotted identifier (a control's `docker.container.no_new_privileges`) escaped, with a
/// line-break opportunity after each dot: a narrow column breaks it between its words rather
/// than anywhere inside one (`docker.contain` / `er.no_new_pri` / `vileges`).
pub fn breakable_id(id: &str) -> String {
    esc(id).replace('.', ".<wbr>")
}

/// The object cell of a row that stands for several items, as HTML: how many, then each of
/// them; objects that are all the elements of a large shared row of the element table (each
/// container `web-000` to `web-499` as `container web-000`) are named once, by a link to that
/// row, with its first and last (the row names every one of them).
fn objects_cell(objects: &[&str], groups: &Groups) -> String {
    let many = match objects {
        [one] => return esc(one),
        many => many,
    };
    let mut seen: HashMap<usize, HashSet<&str>> = HashMap::new();
    for o in many {
        if let Some(&r) = groups.row_of_object.get(*o) {
            seen.entry(r).or_default().insert(o);
        }
    }
    let whole = |r: &usize| {
        seen.get(r)
            .is_some_and(|s| s.len() == groups.rows[*r].elements.len())
    };
    let mut said = HashSet::new();
    let mut parts = Vec::new();
    for o in many {
        match groups.row_of_object.get(*o).filter(|r| whole(r)) {
            Some(&r) => {
                if said.insert(r) {
                    let row = &groups.rows[r];
                    parts.push(group_ref(
                        row,
                        &object_of(row.elements[0]),
                        &object_of(row.elements[row.elements.len() - 1]),
                    ));
                }
            }
            None => parts.push(esc(o)),
        }
    }
    format!("{} objects: {}", many.len(), parts.join(", "))
}

/// An observed value as HTML. One that lists the names of all the elements of a large shared
/// row, in the row's order, one after another (`used by = web-000, web-001, ..., web-499`, what
/// an image is used by) names them by a link to the row instead, with its first and last. Only
/// whole names are taken: the list is preceded by a blank or the start and followed by the end,
/// a comma, a semicolon or a blank.
fn observed_cell(actual: &str, groups: &Groups) -> String {
    for row in groups.rows.iter().filter(|r| r.elements.len() >= GROUP_MIN) {
        let names = row
            .elements
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let whole = |at: usize| {
            let (before, after) = (&actual[..at], &actual[at + names.len()..]);
            before.chars().last().map_or(true, char::is_whitespace)
                && after
                    .chars()
                    .next()
                    .map_or(true, |c| c == ',' || c == ';' || c.is_whitespace())
        };
        if let Some((at, _)) = actual.match_indices(&names).find(|(at, _)| whole(*at)) {
            let (first, last) = (
                &row.elements[0].name,
                &row.elements[row.elements.len() - 1].name,
            );
            return format!(
                "{}{}{}",
                esc(&actual[..at]),
                group_ref(row, first, last),
                esc(&actual[at + names.len()..])
            );
        }
    }
    esc(actual)
}

/// A shared row of the element table with at least this many elements is named once, by a
/// link to it, where a threat's targets or a check's objects are all of its elements.
const GROUP_MIN: usize = 10;

/// A platform's rows of the element table, and what the threat sections need to refer to them:
/// which large shared row each element is in (by its ID, and by the object evidence names it
/// as), and each element and flow by its ID.
struct Groups<'a> {
    rows: Vec<ElementRow<'a>>,
    row_of: HashMap<&'a str, usize>,
    row_of_object: HashMap<String, usize>,
    elements: HashMap<&'a str, &'a Element>,
    flows: HashMap<&'a str, &'a Flow>,
}

impl<'a> Groups<'a> {
    fn new(tm: &'a ThreatModel, p: Platform) -> Self {
        let rows = element_rows(tm, p);
        let (mut row_of, mut row_of_object) = (HashMap::new(), HashMap::new());
        for (i, row) in rows.iter().enumerate() {
            if row.elements.len() >= GROUP_MIN {
                for e in &row.elements {
                    row_of.insert(e.id.as_str(), i);
                    row_of_object.insert(object_of(e), i);
                }
            }
        }
        Groups {
            rows,
            row_of,
            row_of_object,
            elements: tm.elements.iter().map(|e| (e.id.as_str(), e)).collect(),
            flows: tm.flows.iter().map(|f| (f.id.as_str(), f)).collect(),
        }
    }
}

/// The object an evidence item names an element as: its component and name (`container web`).
fn object_of(e: &Element) -> String {
    format!("{} {}", e.component, e.name)
}

/// The anchor of a shared row of the element table, after its first element.
fn row_anchor(row: &ElementRow) -> String {
    format!("row-{}", element_anchor(&row.elements[0].id))
}

/// All the elements of a shared row, as a link to the row and the first and last of them
/// (given as the caller names them, unescaped).
fn group_ref(row: &ElementRow, first: &str, last: &str) -> String {
    format!(
        "the <a href=\"#{}\">{} elements</a> of one element-table row ({} … {})",
        row_anchor(row),
        row.elements.len(),
        esc(first),
        esc(last)
    )
}

/// A threat's targets, as HTML: each element as a link to its row of the element table, each
/// flow by its name. A threat that targets one element of a shared row targets them all (they
/// share their threats); when the row is large they are named once, by a link to the row, and
/// so are the flows that go one to each of them from the same element, named alike ("Start and
/// supervise web-000" to "... web-499"). A threat on 500 containers otherwise lists 500 links
/// and 500 flows (25 KB in each of nine threats).
fn targets_cell(tm: &ThreatModel, t: &ThreatResult, g: &Groups) -> String {
    // A flow that goes one to each element of a large row: the row, the element at the other end,
    // whether the row's element is the flow's destination, and the words before and after its
    // name in the flow's name.
    type FlowKey<'a> = (usize, &'a str, bool, &'a str, &'a str);
    let flow_key = |x: &str| -> Option<(FlowKey, &str)> {
        let f = g.flows.get(x)?;
        let (member, other, to, r) =
            match (g.row_of.get(f.to.as_str()), g.row_of.get(f.from.as_str())) {
                (Some(&r), None) => (f.to.as_str(), f.from.as_str(), true, r),
                (None, Some(&r)) => (f.from.as_str(), f.to.as_str(), false, r),
                _ => return None,
            };
        let name = g.elements.get(member)?.name.as_str();
        let at = f.name.find(name)?;
        Some((
            (r, other, to, &f.name[..at], &f.name[at + name.len()..]),
            member,
        ))
    };
    let (mut elements, mut flows) = (
        HashMap::<usize, HashSet<&str>>::new(),
        HashMap::<FlowKey, HashSet<&str>>::new(),
    );
    for x in &t.targets {
        if let Some(&r) = g.row_of.get(x.as_str()) {
            elements.entry(r).or_default().insert(x);
        } else if let Some((k, member)) = flow_key(x) {
            flows.entry(k).or_default().insert(member);
        }
    }
    let size = |r: usize| g.rows[r].elements.len();
    let ends = |r: usize| {
        let row = &g.rows[r];
        group_ref(
            row,
            &row.elements[0].name,
            &row.elements[row.elements.len() - 1].name,
        )
    };
    let (mut said_rows, mut said_flows) = (HashSet::new(), HashSet::new());
    let mut parts = Vec::new();
    for x in &t.targets {
        if let Some(&r) = g
            .row_of
            .get(x.as_str())
            .filter(|r| elements[r].len() == size(**r))
        {
            if said_rows.insert(r) {
                parts.push(ends(r));
            }
        } else if let Some((k, _)) = flow_key(x).filter(|(k, _)| flows[k].len() == size(k.0)) {
            if said_flows.insert(k) {
                // Inside a span: the link is to the elements the flows go to, not to targets.
                parts.push(format!(
                    "<span>{} flows {}<var>name</var>{}, one for each of {}</span>",
                    size(k.0),
                    esc(k.3),
                    esc(k.4),
                    ends(k.0)
                ));
            }
        } else if let Some(e) = g.elements.get(x.as_str()) {
            parts.push(format!(
                "<a href=\"#{}\">{}</a>",
                element_anchor(x),
                esc(&e.name)
            ));
        } else {
            parts.push(format!("flow {}", esc(tm.item_name(x))));
        }
    }
    parts.join(", ")
}

/// Wrap a body in a complete, self-contained page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        esc(title)
    )
}

/// `bulkhead threats --format html`.
pub fn render(tm: &ThreatModel) -> String {
    let mut body = String::new();
    let _ = writeln!(body, "<h1>Threat model of {}</h1>", esc(&tm.system.host));
    let _ = writeln!(
        body,
        "<p>Generated by bulkhead {} on {} from evidence collected at {} ({}). Each status is computed from that evidence.</p>",
        esc(&tm.tool.version),
        esc(&tm.as_of),
        esc(&tm.system.collected_at),
        esc(&tm.evidence_sources.join(", "))
    );
    let _ = writeln!(body, "<p>{}</p>", esc(&crate::threats_markdown::counts(tm)));
    for p in tm.system.platforms.clone() {
        let _ = writeln!(
            body,
            "<h2 id=\"{}-threat-model\">{} threat model</h2>",
            p.as_str(),
            p.title()
        );
        platform_section(tm, p, 3, &mut body);
    }
    page(&format!("Threat model of {}", tm.system.host), &body)
}

#[cfg(test)]
mod tests {
    use super::STYLE;
    use bulkhead_threats::ThreatStatus;

    /// A status's words in the report's tables have the colour the diagram draws it in.
    #[test]
    fn each_status_is_written_in_its_diagram_colour() {
        for s in ThreatStatus::ALL {
            let rule = format!(".{}{{color:{}}}", s.as_str(), s.colour());
            assert!(STYLE.contains(&rule), "no {rule} in the page's style");
        }
    }
}
