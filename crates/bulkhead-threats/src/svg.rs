//! The data-flow diagram as SVG, drawn by bulkhead itself (no Graphviz, no JavaScript).
//!
//! Layout is deterministic "zone bands": trust boundaries are laid out left to right by their
//! `rank`, nested boundaries inside their parent, elements stacked in columns inside their
//! boundary. Boundaries are dashed labelled boxes with their trust level; external entities are
//! rectangles, processes rounded rectangles, data stores open-sided boxes. Elements and flows
//! are stroked in the colour of the worst status of their threats *on them* (from the evidence
//! about that item, [`ThreatModel::worst_status`]), and in its dash pattern where it has one
//! ([`ThreatStatus::dash`]: unknown dash-dotted, not applicable dotted), as the status legend
//! under the diagram shows; each element links to its
//! threats (the [`element_anchor`] of its ID in the HTML report) and carries a tooltip listing
//! them. Flows are numbered; a legend under the diagram gives each number's protocol, port,
//! authentication and encryption.

use crate::model::{Element, ElementKind, Model, Platform};
use crate::{ThreatModel, ThreatStatus};
use std::collections::BTreeMap;
use std::fmt::Write;

const ELEMENT_W: i32 = 176;
const LINE_H: i32 = 14;
const PAD: i32 = 14;
const TITLE_H: i32 = 22;
const COL_GAP: i32 = 56;
const ROW_GAP: i32 = 18;
const CHARS_PER_LINE: usize = 26;
/// An element's name takes at most this many lines in its box; a longer name (a host value can
/// be one 5,000-character word) ends in `…` there, whole in the box's tooltip and the tables.
const MAX_NAME_LINES: usize = 6;
/// Boundary labels and the names in the flow legend are cut to this many characters, so one
/// long name cannot make the diagram tens of thousands of pixels wide.
const MAX_LABEL_CHARS: usize = 120;
/// The protocol, port, authentication and encryption of a flow in the legend (bulkhead's own
/// words, which name host paths) are cut to this many characters.
const MAX_VALUE_CHARS: usize = 400;
/// At most this many boxes are drawn in one column of a boundary (or of the diagram); the rest
/// are summed up in one box that links to the first of them in the element table, where every
/// element is listed. A host with 500 containers would otherwise draw a diagram 65,000 px tall.
const MAX_COLUMN_NODES: usize = 16;

/// Escape text for XML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => o.push(c),
        }
    }
    o
}

/// The HTML id of the element with this model ID, also the fragment that links to it
/// (`#el-...`): the diagram's boxes and the report's tables both link with it.
pub fn element_anchor(id: &str) -> String {
    anchor("el-", id)
}

/// The HTML id of the threat with this ID, also the fragment that links to it (`#threat-...`).
pub fn threat_anchor(id: &str) -> String {
    anchor("threat-", id)
}

/// `prefix` and `id` made safe as an HTML id and as a URL fragment, which treat characters
/// differently: a URL drops line breaks and tabs and percent-encodes blanks, quotes and `<>`
/// while an id keeps them, so the link would miss its target. Letters, digits and `-_.:/` stay
/// as they are (the reference model's IDs are normally made of these, so their anchors read like
/// the IDs); every other byte becomes `~` and two hex digits, `~` included, so two different IDs
/// never share an anchor. No `%` is written: the fragment reads the same whether or not a
/// browser percent-decodes it, and no character of it needs HTML escaping.
fn anchor(prefix: &str, id: &str) -> String {
    let mut out = String::with_capacity(prefix.len() + id.len());
    out.push_str(prefix);
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/') {
            out.push(b as char);
        } else {
            let _ = write!(out, "~{b:02X}");
        }
    }
    out
}

/// `s` cut to at most `max` characters, the last of them `…` when anything was cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// [`wrap`] kept to `max_lines` lines, the last one ending in `…` when lines were dropped.
fn wrap_lines(s: &str, width: usize, max_lines: usize) -> Vec<String> {
    let mut lines = wrap(s, width);
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        let last = lines.last_mut().expect("max_lines > 0");
        let kept: String = last.chars().take(width.saturating_sub(1)).collect();
        *last = format!("{kept}…");
    }
    lines
}

/// Break a label into lines of at most `width` characters, at spaces where possible.
fn wrap(s: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let mut word = word.to_string();
        while word.chars().count() > width {
            if !cur.is_empty() {
                lines.push(std::mem::take(&mut cur));
            }
            let head: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(head);
        }
        if cur.is_empty() {
            cur = word;
        } else if cur.chars().count() + 1 + word.chars().count() <= width {
            cur.push(' ');
            cur.push_str(&word);
        } else {
            lines.push(std::mem::replace(&mut cur, word));
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

#[derive(Debug, Clone, Copy)]
struct Rect {
    x: i32,
    y: i32,
    w: i32,
    h: i32,
}

/// A boundary or element with its size, before placement.
enum Node<'a> {
    Boundary {
        id: &'a str,
        columns: Vec<Vec<Node<'a>>>,
        w: i32,
        h: i32,
    },
    Element {
        e: &'a Element,
        lines: Vec<String>,
        w: i32,
        h: i32,
    },
    /// The boxes of a column beyond [`MAX_COLUMN_NODES`], drawn as one box.
    More {
        /// The element IDs they hold (those of nested boundaries too).
        elements: Vec<&'a str>,
        /// How many boxes (elements and boundaries) it stands for.
        count: usize,
        w: i32,
        h: i32,
    },
}

impl<'a> Node<'a> {
    fn size(&self) -> (i32, i32) {
        match self {
            Node::Boundary { w, h, .. } | Node::Element { w, h, .. } | Node::More { w, h, .. } => {
                (*w, *h)
            }
        }
    }

    /// The element IDs drawn in (or summed up by) this node.
    fn element_ids(&self, out: &mut Vec<&'a str>) {
        match self {
            Node::Element { e, .. } => out.push(&e.id),
            Node::Boundary { columns, .. } => {
                for n in columns.iter().flatten() {
                    n.element_ids(out);
                }
            }
            Node::More { elements, .. } => out.extend(elements.iter().copied()),
        }
    }
}

fn element_node(e: &Element) -> Node<'_> {
    let lines = wrap_lines(&e.name, CHARS_PER_LINE, MAX_NAME_LINES);
    let h = 16 + LINE_H * lines.len() as i32 + 16;
    Node::Element {
        e,
        lines,
        w: ELEMENT_W,
        h,
    }
}

/// Arrange items into columns by rank, keeping model order inside a column. A column of more
/// than [`MAX_COLUMN_NODES`] boxes keeps the first ones and sums up the rest in one box.
fn columns<'a>(items: Vec<(u32, Node<'a>)>) -> Vec<Vec<Node<'a>>> {
    let mut by_rank: BTreeMap<u32, Vec<Node<'a>>> = BTreeMap::new();
    for (rank, n) in items {
        by_rank.entry(rank).or_default().push(n);
    }
    by_rank
        .into_values()
        .map(|mut col| {
            if col.len() > MAX_COLUMN_NODES {
                let rest = col.split_off(MAX_COLUMN_NODES - 1);
                let mut elements = Vec::new();
                for n in &rest {
                    n.element_ids(&mut elements);
                }
                col.push(Node::More {
                    elements,
                    count: rest.len(),
                    w: ELEMENT_W,
                    h: 16 + 2 * LINE_H + 16,
                });
            }
            col
        })
        .collect()
}

fn columns_size(cols: &[Vec<Node<'_>>], gap: i32) -> (i32, i32) {
    let w: i32 = cols
        .iter()
        .map(|c| c.iter().map(|n| n.size().0).max().unwrap_or(0))
        .sum::<i32>()
        + gap * (cols.len() as i32 - 1).max(0);
    let h = cols
        .iter()
        .map(|c| c.iter().map(|n| n.size().1).sum::<i32>() + ROW_GAP * (c.len() as i32 - 1).max(0))
        .max()
        .unwrap_or(0);
    (w, h)
}

fn boundary_node<'a>(m: &'a Model, id: &'a str) -> Node<'a> {
    let mut items: Vec<(u32, Node<'a>)> = Vec::new();
    for b in m
        .boundaries
        .iter()
        .filter(|b| b.parent.as_deref() == Some(id))
    {
        items.push((b.rank, boundary_node(m, &b.id)));
    }
    for e in m
        .elements
        .iter()
        .filter(|e| e.boundary.as_deref() == Some(id))
    {
        items.push((e.rank, element_node(e)));
    }
    let cols = columns(items);
    let (cw, ch) = columns_size(&cols, COL_GAP / 2);
    let name = m.boundary(id).map(|b| b.name.as_str()).unwrap_or(id);
    let label_w = 8 * (shorten(name, MAX_LABEL_CHARS).chars().count() as i32 + 12);
    Node::Boundary {
        id,
        w: (cw + 2 * PAD).max(label_w).max(ELEMENT_W + 2 * PAD),
        h: TITLE_H + PAD + ch.max(20) + PAD,
        columns: cols,
    }
}

/// Absolute positions of everything drawn.
#[derive(Default)]
struct Placed {
    boundaries: Vec<(String, Rect)>,
    elements: BTreeMap<String, (Rect, Vec<String>)>,
    /// Summary boxes: where, how many boxes, and the element IDs they stand for.
    more: Vec<(Rect, usize, Vec<String>)>,
}

fn place(n: &Node<'_>, x: i32, y: i32, out: &mut Placed) {
    match n {
        Node::Element { e, lines, w, h } => {
            out.elements
                .insert(e.id.clone(), (Rect { x, y, w: *w, h: *h }, lines.clone()));
        }
        Node::Boundary { id, columns, w, h } => {
            out.boundaries
                .push((id.to_string(), Rect { x, y, w: *w, h: *h }));
            place_columns(columns, x + PAD, y + TITLE_H + PAD, COL_GAP / 2, out);
        }
        Node::More {
            elements,
            count,
            w,
            h,
        } => out.more.push((
            Rect { x, y, w: *w, h: *h },
            *count,
            elements.iter().map(|e| e.to_string()).collect(),
        )),
    }
}

fn place_columns(cols: &[Vec<Node<'_>>], x0: i32, y0: i32, gap: i32, out: &mut Placed) {
    let mut x = x0;
    for col in cols {
        let cw = col.iter().map(|n| n.size().0).max().unwrap_or(0);
        let mut y = y0;
        for n in col {
            let (w, h) = n.size();
            place(n, x + (cw - w) / 2, y, out);
            y += h + ROW_GAP;
        }
        x += cw + gap;
    }
}

/// Where the segment from the centre of `a` toward the centre of `b` leaves `a`'s rectangle.
fn exit_point(a: Rect, b: Rect) -> (i32, i32) {
    let (ax, ay) = (a.x as f64 + a.w as f64 / 2.0, a.y as f64 + a.h as f64 / 2.0);
    let (bx, by) = (b.x as f64 + b.w as f64 / 2.0, b.y as f64 + b.h as f64 / 2.0);
    let (dx, dy) = (bx - ax, by - ay);
    if dx == 0.0 && dy == 0.0 {
        return (ax as i32, ay as i32);
    }
    let sx = if dx != 0.0 {
        (a.w as f64 / 2.0) / dx.abs()
    } else {
        f64::INFINITY
    };
    let sy = if dy != 0.0 {
        (a.h as f64 / 2.0) / dy.abs()
    } else {
        f64::INFINITY
    };
    let s = sx.min(sy);
    ((ax + dx * s).round() as i32, (ay + dy * s).round() as i32)
}

fn status_of(tm: &ThreatModel, id: &str) -> ThreatStatus {
    tm.worst_status(id).unwrap_or(ThreatStatus::NotApplicable)
}

/// The ` stroke-dasharray` attribute of a stroke drawn in `st` ([`ThreatStatus::dash`]), empty
/// for the statuses drawn solid.
fn dash_attr(st: ThreatStatus) -> String {
    st.dash()
        .map(|d| format!(" stroke-dasharray=\"{d}\""))
        .unwrap_or_default()
}

/// The `data-open-threats` and `data-mitigated-threats` attributes of an element or flow: the
/// IDs of its threats that are open on it (exposed, partially mitigated or unknown there) and of
/// those its own evidence mitigates. `data-threats` keeps listing every threat that targets it.
fn split_attrs(tm: &ThreatModel, id: &str) -> String {
    let ids = |want: &dyn Fn(ThreatStatus) -> bool| -> String {
        tm.threats_on(id)
            .filter(|(_, s)| want(*s))
            .map(|(t, _)| t.id.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    format!(
        " data-open-threats=\"{}\" data-mitigated-threats=\"{}\"",
        esc(&ids(&|s| matches!(
            s,
            ThreatStatus::Exposed | ThreatStatus::PartiallyMitigated | ThreatStatus::Unknown
        ))),
        esc(&ids(&|s| s == ThreatStatus::Mitigated))
    )
}

/// A threat's status on an item as a tooltip says it: `mitigated`, or `mitigated here, exposed
/// overall` when the threat's own status differs.
fn status_here(t: &crate::ThreatResult, here: ThreatStatus) -> String {
    if here == t.status {
        here.label().to_string()
    } else {
        format!("{} here, {} overall", here.label(), t.status.label())
    }
}

/// One platform's diagram as an SVG group at (x0, y0); returns the SVG text and its size.
fn section(
    tm: &ThreatModel,
    m: &Model,
    platform: Platform,
    x0: i32,
    y0: i32,
    numbers: &BTreeMap<String, usize>,
    markers: &str,
) -> (String, i32, i32) {
    let mut items: Vec<(u32, Node<'_>)> = Vec::new();
    for b in m
        .boundaries
        .iter()
        .filter(|b| b.parent.is_none() && b.platform == platform)
    {
        items.push((b.rank, boundary_node(m, &b.id)));
    }
    for e in m
        .elements
        .iter()
        .filter(|e| e.boundary.is_none() && e.platform == platform)
    {
        items.push((e.rank, element_node(e)));
    }
    let cols = columns(items);
    let (w, h) = columns_size(&cols, COL_GAP);
    let top = y0 + 30;
    let mut placed = Placed::default();
    place_columns(&cols, x0, top, COL_GAP, &mut placed);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<g class=\"platform\" data-platform=\"{}\"><text class=\"section-title\" x=\"{x0}\" y=\"{}\">{} data-flow diagram</text>",
        platform.as_str(),
        y0 + 18,
        match platform {
            Platform::Docker => "Docker host",
            Platform::Kubernetes => "Kubernetes cluster",
        }
    );
    for (id, r) in &placed.boundaries {
        let b = m.boundary(id).expect("placed boundary exists");
        // A long name is cut on the label, whole in the tooltip.
        let label = shorten(&b.name, MAX_LABEL_CHARS);
        let _ = writeln!(
            s,
            "<g class=\"boundary\" data-boundary=\"{}\" data-trust=\"{}\">{}<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"10\" fill=\"none\" stroke=\"#b71c1c\" stroke-width=\"1.5\" stroke-dasharray=\"7 4\"/><text class=\"boundary-label\" x=\"{}\" y=\"{}\">{} · trust {}</text></g>",
            esc(id),
            b.trust,
            if label == b.name {
                String::new()
            } else {
                format!("<title>{} · trust {}</title>", esc(&b.name), b.trust)
            },
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + 10,
            r.y + 16,
            esc(&label),
            b.trust
        );
    }
    // Flows under elements, so boxes stay readable where a line passes behind them.
    for f in m.flows.iter().filter(|f| f.platform == platform) {
        let (Some((a, _)), Some((b, _))) =
            (placed.elements.get(&f.from), placed.elements.get(&f.to))
        else {
            continue;
        };
        let (x1, y1) = exit_point(*a, *b);
        let (x2, y2) = exit_point(*b, *a);
        let st = status_of(tm, &f.id);
        let n = numbers.get(&f.id).copied().unwrap_or(0);
        let (mx, my) = ((x1 + x2) / 2, (y1 + y2) / 2);
        let threats: Vec<&str> = tm.threats_of(&f.id).map(|t| t.id.as_str()).collect();
        let _ = writeln!(
            s,
            "<g class=\"flow\" data-flow=\"{}\" data-status=\"{}\"{}><title>{}. {}: {} {} (authentication: {}; encryption: {}){}</title><line x1=\"{x1}\" y1=\"{y1}\" x2=\"{x2}\" y2=\"{y2}\" stroke=\"{}\" stroke-width=\"1.6\"{} marker-end=\"url(#{markers}-arrow-{})\"{}/><circle cx=\"{mx}\" cy=\"{my}\" r=\"9\" fill=\"#ffffff\" stroke=\"{}\"/><text class=\"flow-number\" x=\"{mx}\" y=\"{}\" text-anchor=\"middle\">{n}</text></g>",
            esc(&f.id),
            st.as_str(),
            split_attrs(tm, &f.id),
            n,
            esc(&f.name),
            esc(&f.protocol),
            esc(&f.port),
            esc(&f.authentication),
            esc(&f.encryption),
            if threats.is_empty() { String::new() } else { format!(" — threats: {}", threats.join(", ")) },
            st.colour(),
            dash_attr(st),
            st.as_str(),
            if f.bidirectional { format!(" marker-start=\"url(#{markers}-arrow-start-{})\"", st.as_str()) } else { String::new() },
            st.colour(),
            my + 4
        );
    }
    for e in m.elements.iter().filter(|e| e.platform == platform) {
        let Some((r, lines)) = placed.elements.get(&e.id) else {
            continue;
        };
        let st = status_of(tm, &e.id);
        let threats: Vec<String> = tm
            .threats_on(&e.id)
            .map(|(t, here)| format!("{} {} ({})", t.id, t.title, status_here(t, here)))
            .collect();
        // The stroke: the status's colour, dashed for the statuses that have a pattern.
        let stroke = format!(
            "stroke=\"{}\" stroke-width=\"2.5\"{}",
            st.colour(),
            dash_attr(st)
        );
        let shape = match e.kind {
            ElementKind::ExternalEntity => format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" {stroke}/>",
                r.x, r.y, r.w, r.h
            ),
            ElementKind::Process => format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"18\" fill=\"#ffffff\" {stroke}/>",
                r.x, r.y, r.w, r.h
            ),
            ElementKind::DataStore => format!(
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" stroke=\"none\"/><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {stroke}/><line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" {stroke}/>",
                r.x, r.y, r.w, r.h, r.x, r.y, r.x + r.w, r.y, r.x, r.y + r.h, r.x + r.w, r.y + r.h
            ),
        };
        let mut text = String::new();
        for (i, l) in lines.iter().enumerate() {
            let _ = write!(
                text,
                "<text class=\"element-name\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                r.x + r.w / 2,
                r.y + 18 + LINE_H * i as i32,
                esc(l)
            );
        }
        let ids: Vec<&str> = tm.threats_of(&e.id).map(|t| t.id.as_str()).collect();
        let badge = if ids.is_empty() {
            format!("{} · no threats", e.kind.label())
        } else {
            format!(
                "{} · {} threat{} · {}",
                e.kind.label(),
                ids.len(),
                if ids.len() == 1 { "" } else { "s" },
                st.label()
            )
        };
        let _ = write!(
            text,
            "<text class=\"element-kind\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>",
            r.x + r.w / 2,
            r.y + r.h - 8,
            st.colour(),
            esc(&badge)
        );
        let _ = writeln!(
            s,
            "<a href=\"#{}\"><g class=\"element\" data-element=\"{}\" data-kind=\"{}\" data-status=\"{}\" data-threats=\"{}\"{}><title>{} ({}){}</title>{shape}{text}</g></a>",
            element_anchor(&e.id),
            esc(&e.id),
            e.kind.as_str(),
            st.as_str(),
            esc(&ids.join(" ")),
            split_attrs(tm, &e.id),
            esc(&e.name),
            e.kind.label(),
            esc(&if threats.is_empty() { String::new() } else { format!(": {}", threats.join("; ")) })
        );
    }
    // The boxes that stand for the elements of a long column not drawn.
    let mut hidden: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for (r, count, ids) in &placed.more {
        hidden.extend(ids.iter().map(String::as_str));
        let st = ids
            .iter()
            .filter_map(|id| tm.worst_status(id))
            .max_by_key(|s| s.badness())
            .unwrap_or(ThreatStatus::NotApplicable);
        let (cx, first) = (r.x + r.w / 2, ids.first().map(String::as_str).unwrap_or(""));
        let _ = writeln!(
            s,
            "<a href=\"#{}\"><g class=\"more\" data-count=\"{count}\" data-status=\"{}\"><title>{count} more, not drawn: listed in the element table (worst status {})</title><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\" fill=\"#ffffff\" stroke=\"{}\" stroke-width=\"2.5\" stroke-dasharray=\"{}\"/><text class=\"element-name\" x=\"{cx}\" y=\"{}\" text-anchor=\"middle\">… and {count} more</text><text class=\"element-kind\" x=\"{cx}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">listed in the table · worst {}</text></g></a>",
            element_anchor(first),
            st.as_str(),
            st.label(),
            r.x,
            r.y,
            r.w,
            r.h,
            st.colour(),
            // A summary box is dashed; in its status's pattern when that has one.
            st.dash().unwrap_or("4 3"),
            r.y + 18,
            r.y + r.h - 8,
            st.colour(),
            st.label()
        );
    }
    // Legend of numbered flows: those to or from an element not drawn are only counted.
    let mut ly = top + h + 28;
    let _ = writeln!(s, "<g class=\"flow-legend\"><text class=\"legend-title\" x=\"{x0}\" y=\"{ly}\">Data flows</text>");
    let not_drawn = m
        .flows
        .iter()
        .filter(|f| f.platform == platform)
        .filter(|f| hidden.contains(f.from.as_str()) || hidden.contains(f.to.as_str()))
        .count();
    for f in m
        .flows
        .iter()
        .filter(|f| f.platform == platform)
        .filter(|f| !hidden.contains(f.from.as_str()) && !hidden.contains(f.to.as_str()))
    {
        ly += 16;
        let st = status_of(tm, &f.id);
        let n = numbers.get(&f.id).copied().unwrap_or(0);
        let from = m
            .element(&f.from)
            .map(|e| e.name.as_str())
            .unwrap_or(&f.from);
        let to = m.element(&f.to).map(|e| e.name.as_str()).unwrap_or(&f.to);
        let _ = writeln!(
            s,
            "<text class=\"legend-row\" x=\"{x0}\" y=\"{ly}\" fill=\"{}\">{n}. {} {} {}: {}, {}; authentication: {}; encryption: {}</text>",
            st.colour(),
            esc(&shorten(from, MAX_LABEL_CHARS)),
            if f.bidirectional { "⇄" } else { "→" },
            esc(&shorten(to, MAX_LABEL_CHARS)),
            esc(&shorten(&f.protocol, MAX_VALUE_CHARS)),
            esc(&shorten(&f.port, MAX_VALUE_CHARS)),
            esc(&shorten(&f.authentication, MAX_VALUE_CHARS)),
            esc(&shorten(&f.encryption, MAX_VALUE_CHARS))
        );
    }
    if not_drawn > 0 {
        ly += 16;
        let _ = writeln!(
            s,
            "<text class=\"legend-row\" x=\"{x0}\" y=\"{ly}\">… and {not_drawn} more flows of the elements not drawn</text>"
        );
    }
    s.push_str("</g></g>\n");
    let legend_w = m
        .flows
        .iter()
        .filter(|f| f.platform == platform)
        .map(|f| {
            6 * (f.name.len()
                + f.protocol.len()
                + f.port.len()
                + f.authentication.len()
                + f.encryption.len()
                + 70) as i32
        })
        .max()
        .unwrap_or(0);
    (s, w.max(legend_w.min(1400)), ly - y0 + 10)
}

/// Render the diagram of one platform, or of every platform in the model stacked vertically.
/// The result is a standalone SVG document (also valid inline in HTML).
pub fn render(tm: &ThreatModel, platform: Option<Platform>) -> String {
    let m = tm.model();
    let platforms: Vec<Platform> = match platform {
        Some(p) => vec![p],
        None => m.platforms(),
    };
    // Flow numbers are global, so the legend, DOT, Mermaid and the report agree.
    let numbers: BTreeMap<String, usize> = m
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| (f.id.clone(), i + 1))
        .collect();
    // The document's id also names its arrow markers: a page holding two diagrams (the report:
    // Docker and Kubernetes) must not define one marker id twice.
    let id = match platform {
        Some(p) => format!("dfd-{}", p.as_str()),
        None => "dfd".to_string(),
    };
    let mut body = String::new();
    let (mut width, mut y) = (0, 10);
    for p in &platforms {
        let (s, w, h) = section(tm, &m, *p, 10, y, &numbers, &id);
        body.push_str(&s);
        width = width.max(w + 20);
        y += h + 20;
    }
    // Status legend: each swatch stroked as the elements and flows of that status are, in its
    // colour and dash pattern, and named in words.
    let mut lx = 10;
    body.push_str("<g class=\"status-legend\">");
    for s in ThreatStatus::ALL {
        let _ = write!(
            body,
            "<rect class=\"legend-swatch\" data-status=\"{}\" x=\"{lx}\" y=\"{}\" width=\"22\" height=\"10\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.5\"{}/><text class=\"legend-row\" x=\"{}\" y=\"{}\">{}</text>",
            s.as_str(),
            y,
            s.colour(),
            dash_attr(s),
            lx + 28,
            y + 10,
            s.label()
        );
        lx += 38 + 7 * s.label().len() as i32 + 16;
    }
    body.push_str("</g>\n");
    let height = y + 24;
    let width = width.max(lx + 10);
    let mut defs = String::new();
    for s in ThreatStatus::ALL {
        let _ = write!(
            defs,
            "<marker id=\"{id}-arrow-{n}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{c}\"/></marker><marker id=\"{id}-arrow-start-{n}\" viewBox=\"0 0 10 10\" refX=\"0\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M10,0 L0,5 L10,10 z\" fill=\"{c}\"/></marker>",
            n = s.as_str(),
            c = s.colour()
        );
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"{id}\" class=\"dfd\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}-title\">\n<title id=\"{id}-title\">Data-flow diagram of {} ({})</title>\n<defs>{defs}</defs>\n<style>text{{font-family:Helvetica,Arial,sans-serif}} .section-title{{font-size:15px;font-weight:bold}} .boundary-label{{font-size:12px;fill:#b71c1c;font-weight:bold}} .element-name{{font-size:11.5px;fill:#212121}} .element-kind{{font-size:9.5px}} .flow-number{{font-size:10px;font-weight:bold}} .legend-title{{font-size:12px;font-weight:bold}} .legend-row{{font-size:10.5px}}</style>\n{body}</svg>\n",
        esc(&tm.system.host),
        esc(&tm.system.collected_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_keep_plain_ids_and_encode_the_rest() {
        assert_eq!(
            element_anchor("k8s.workload:app/pod/debug"),
            "el-k8s.workload:app/pod/debug"
        );
        assert_eq!(threat_anchor("DKR-S01"), "threat-DKR-S01");
        assert_eq!(element_anchor("app\ndb"), "el-app~0Adb");
        assert_eq!(element_anchor("a b\"<é"), "el-a~20b~22~3C~C3~A9");
        assert_eq!(element_anchor(""), "el-");
    }

    #[test]
    fn different_ids_get_different_anchors() {
        // The ID with its line break dropped, the blank percent-encoded, the escape written out.
        let ids = [
            "app\ndb",
            "appdb",
            "app db",
            "app%20db",
            "app~20db",
            "app~7E20db",
            "app~0Adb",
        ];
        let anchors: std::collections::BTreeSet<String> =
            ids.iter().map(|i| element_anchor(i)).collect();
        assert_eq!(anchors.len(), ids.len(), "{anchors:?}");
        for a in &anchors {
            assert!(
                a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:/~".contains(&b)),
                "{a}"
            );
        }
    }
}
