//! A span-aware YAML editor for compose files, Kubernetes manifests, kubelet configs and static
//! pod manifests: set a key (creating missing mappings), append to or change a list item, remove
//! a list item. The structure comes from `bulkhead_sources::yaml` (byte spans for every node); an
//! edit rewrites only the lines or bytes of what it changes, so comments, key order, quoting,
//! blank lines and indentation elsewhere stay exactly as written.
//!
//! New lines are indented like their siblings; nested blocks use the file's own indentation step
//! ([`Layout`]), and every new line ends the way the file's lines do ([`super::line_break`]).
//! Flow collections (`[a, b]`, `{a: 1}`) are edited in place in flow style. Entries a mapping
//! only inherits through a merge key (`<<: *base`) are never edited where the anchor defines
//! them (that would change every mapping sharing it): the mapping gets its own entry, and for a
//! list it appends to or removes from, its own copy of the list. A value written as an alias
//! (`key: *name`), or anything below one, is refused for the same reason.
//!
//! Each operation exists as a [`Splice`] (`*_splice`, [`set_in`]) and as the edited text. The
//! scanner's fixes and harden's compose, kubelet and manifest fixers both use it.

use super::{line_start, Splice};
use bulkhead_sources::yaml::{self, Document, Node, NodeKind, Style};
use serde_json::Value;

/// One step of a path into a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// A YAML edit failure, naming the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlEditError(pub String);

impl std::fmt::Display for YamlEditError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

type Result<T> = std::result::Result<T, YamlEditError>;

fn err<T>(msg: impl Into<String>) -> Result<T> {
    Err(YamlEditError(msg.into()))
}

fn parse(text: &str) -> Result<Vec<Document>> {
    yaml::parse(text).map_err(|e| YamlEditError(e.to_string()))
}

fn path_label(path: &[Seg]) -> String {
    let mut s = String::new();
    for p in path {
        match p {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    if s.is_empty() {
        "the document root".into()
    } else {
        s
    }
}

/// The node at `path` in document `doc`.
pub fn node_at<'d>(docs: &'d [Document], doc: usize, path: &[Seg]) -> Option<&'d Node> {
    let mut n = &docs.get(doc)?.root;
    for seg in path {
        n = match (seg, &n.kind) {
            (Seg::Key(k), NodeKind::Map(_)) => n.get(k)?,
            (Seg::Index(i), NodeKind::Seq(items)) => items.get(*i)?,
            _ => return None,
        };
    }
    Some(n)
}

/// Offset just after the newline ending the line that holds `off` (or the text's end).
fn line_end(text: &str, off: usize) -> usize {
    text[off..]
        .find('\n')
        .map(|i| off + i + 1)
        .unwrap_or(text.len())
}

fn column(text: &str, off: usize) -> usize {
    off - line_start(text, off)
}

fn is_flow(text: &str, n: &Node) -> bool {
    let mut rest = text[n.span.start.offset..].trim_start();
    // The span of an anchored or tagged collection starts at its anchor or tag (`&caps [a]`).
    while rest.starts_with(['&', '!']) {
        let end = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    matches!(rest.chars().next(), Some('{') | Some('['))
        && matches!(n.kind, NodeKind::Map(_) | NodeKind::Seq(_))
}

/// What a block measured by [`block_end`] holds.
#[derive(Debug, Clone, Copy)]
enum Holds<'n> {
    /// A mapping entry, key and value.
    Entry(&'n Node, &'n Node),
    /// A block sequence item written as itself.
    Item(&'n Node),
    /// A block sequence item written as an alias (`- *name`): nothing of it below its line.
    Alias,
}

/// End of the block belonging to a line at column `col` starting at `start`: every following
/// line indented deeper (and, when `dash_at_col`, list items at the same column), with blank and
/// comment lines counted only when more of the block follows them. The lines of a block scalar
/// the block `holds` (as its value or nested deeper) always count, even when they start with `#`
/// or are blank lines a keep-chomping scalar (`|+`) ends with: they are the scalar's content.
fn block_end(text: &str, start: usize, col: usize, dash_at_col: bool, holds: Holds) -> usize {
    let lines = lines_end(text, start, col, dash_at_col);
    // Lines of a block scalar in the block that `lines_end` stopped before can only be ones
    // that look like comments or blank lines (the scalar's other lines are indented deeper than
    // `col`, like the rest of the block), so the block runs on through them.
    block_scalars_end(text, holds).map_or(lines, |e| e.max(lines))
}

/// [`block_end`] by indentation alone.
fn lines_end(text: &str, start: usize, col: usize, dash_at_col: bool) -> usize {
    let mut end = line_end(text, start);
    let mut pos = end;
    while pos < text.len() {
        let next = line_end(text, pos);
        let line = text[pos..next].trim_end_matches(['\n', '\r']);
        let trimmed = line.trim_start_matches(' ');
        let ind = line.len() - trimmed.len();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            pos = next;
            continue;
        }
        let dash = trimmed == "-" || trimmed.starts_with("- ");
        if ind > col || (dash_at_col && ind == col && dash) {
            end = next;
            pos = next;
        } else {
            break;
        }
    }
    end
}

/// Offset just after the last line of the last block scalar written in what `holds` (its value
/// itself, or one nested in its mappings and lists; aliases and merged entries are written
/// elsewhere and are skipped). `None` when it holds none whose header is found.
fn block_scalars_end(text: &str, holds: Holds) -> Option<usize> {
    let (n, own) = match holds {
        Holds::Alias => return None,
        Holds::Entry(k, v) if is_alias(k, v) => return None,
        Holds::Entry(k, v) => (v, is_block_scalar(v).then(|| entry_block_scalar(text, k))),
        Holds::Item(n) => (n, is_block_scalar(n).then(|| item_block_scalar(text, n))),
    };
    let mut end = own.flatten().map(|bs| bs.lines_end(text));
    if is_flow(text, n) {
        return end;
    }
    match &n.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries.iter().filter(|(k, _)| within(k, n)) {
                end = end.max(block_scalars_end(text, Holds::Entry(k, v)));
            }
        }
        NodeKind::Seq(items) => {
            for (item, w) in items.iter().zip(items_written(text, n)) {
                if w.alias.is_none() {
                    end = end.max(block_scalars_end(text, Holds::Item(item)));
                }
            }
        }
        NodeKind::Scalar(_) => {}
    }
    end
}

/// How one item of a sequence is written: as itself or as an alias (`*name`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct ItemText<'t> {
    /// For an alias, the anchor's name (empty when it cannot be read from the anchored node).
    alias: Option<&'t str>,
    /// Where the item is written: its span, or for an alias the `*name` text; `None` for an
    /// alias whose text is not found.
    range: Option<std::ops::Range<usize>>,
}

/// How the items of `list` are written. The parser gives an alias the span of the node it
/// repeats, and YAML writes that node before any alias of it: before the list or inside an
/// earlier item. So an item whose span starts before the end of what the list has written so
/// far is an alias, and its `*name` is the first one after that.
fn items_written<'t>(text: &'t str, list: &Node) -> Vec<ItemText<'t>> {
    let Some(items) = list.as_seq() else {
        return Vec::new();
    };
    let list_end = list.span.end.offset.min(text.len());
    let mut bound = list.span.start.offset;
    items
        .iter()
        .map(|n| {
            if n.span.start.offset >= bound {
                bound = bound.max(n.span.end.offset);
                return ItemText {
                    alias: None,
                    range: Some(n.span.range()),
                };
            }
            let name = anchor_name(text, n).unwrap_or("");
            let range = (!name.is_empty())
                .then(|| alias_text(text, bound, list_end, name))
                .flatten();
            if let Some(r) = &range {
                bound = r.end;
            }
            ItemText {
                alias: Some(name),
                range,
            }
        })
        .collect()
}

/// The name of the anchor (`&name`) among the properties the span of `n` starts with.
fn anchor_name<'t>(text: &'t str, n: &Node) -> Option<&'t str> {
    let mut rest = text.get(n.span.start.offset..)?;
    while rest.starts_with(['&', '!']) {
        let end = rest.find([' ', '\t', '\r', '\n']).unwrap_or(rest.len());
        if let Some(name) = rest[..end].strip_prefix('&') {
            return Some(name);
        }
        rest = rest[end..].trim_start_matches([' ', '\t', '\r', '\n']);
    }
    None
}

/// The first alias `*name` written in `from..to` (as a node: after a blank, a line break, `[` or
/// `,`, not in a comment, and ended by a blank, a line break, `,`, `]` or `}`).
fn alias_text(text: &str, from: usize, to: usize, name: &str) -> Option<std::ops::Range<usize>> {
    let pat = format!("*{name}");
    let mut at = from;
    while let Some(i) = text.get(at..to)?.find(&pat) {
        let start = at + i;
        let end = start + pat.len();
        let before_ok = start == 0 || b" \t\r\n[,".contains(&text.as_bytes()[start - 1]);
        let after_ok = text[end..]
            .chars()
            .next()
            .is_none_or(|c| " \t\r\n,]}".contains(c));
        let in_comment = text[line_start(text, start)..start].contains('#');
        if before_ok && after_ok && !in_comment {
            return Some(start..end);
        }
        at = start + 1;
    }
    None
}

/// 1-based line and column (in characters) of `off`.
fn line_col(text: &str, off: usize) -> (usize, usize) {
    let line = text[..off].matches('\n').count() + 1;
    let col = text[line_start(text, off)..off].chars().count() + 1;
    (line, col)
}

fn item_label(path: &[Seg], index: usize) -> String {
    if path.is_empty() {
        format!("item {index} of the document root")
    } else {
        format!("{}[{index}]", path_label(path))
    }
}

/// An item written as an alias lives where its anchor is, shared with every other alias of it:
/// it is not edited there, as [`aliased`] values are not.
fn aliased_item<T>(text: &str, path: &[Seg], index: usize, w: &ItemText) -> Result<T> {
    let at = w.range.as_ref().map_or(String::new(), |r| {
        let (line, col) = line_col(text, r.start);
        format!(" at line {line}, column {col}")
    });
    let name = w
        .alias
        .filter(|n| !n.is_empty())
        .map_or(String::new(), |n| format!(" (*{n})"));
    err(format!(
        "{}{at} is an alias{name} of an anchor shared elsewhere; change it by hand",
        item_label(path, index)
    ))
}

/// The node at `path` of document `doc`, for an edit of what is there. Refused when the path
/// runs through an alias or an entry merged in with `<<`: those are written where their anchor
/// is, and an edit there would change every node sharing it. `Ok(None)` when nothing is there.
fn own_node_at<'d>(
    text: &str,
    docs: &'d [Document],
    doc: usize,
    path: &[Seg],
) -> Result<Option<&'d Node>> {
    let Some(d) = docs.get(doc) else {
        return Ok(None);
    };
    let mut n = &d.root;
    for (depth, seg) in path.iter().enumerate() {
        n = match (seg, &n.kind) {
            (Seg::Key(k), NodeKind::Map(_)) => match n.entry(k) {
                None => return Ok(None),
                Some((kn, _)) if !within(kn, n) => {
                    return err(format!(
                        "{} is merged in from an anchor (<<) and shared with every mapping merging it; change it by hand",
                        path_label(&path[..=depth])
                    ))
                }
                Some((kn, v)) if is_alias(kn, v) => return aliased(kn),
                Some((_, v)) => v,
            },
            (Seg::Index(i), NodeKind::Seq(items)) => {
                let Some(item) = items.get(*i) else {
                    return Ok(None);
                };
                if let Some(w) = items_written(text, n).get(*i) {
                    if w.alias.is_some() {
                        return aliased_item(text, &path[..depth], *i, w);
                    }
                }
                item
            }
            _ => return Ok(None),
        };
    }
    Ok(Some(n))
}

/// Where the list at `path` is, for [`append`] and [`remove_item`].
enum ListAt<'d> {
    /// Nothing is there.
    Missing,
    /// The node written at `path` itself (possibly empty, `key:`, or not a list).
    Own(&'d Node),
    /// A value the mapping `map` (at `path` less its last key) only has through a merge key
    /// (`<<: *base`): it is written where the merged anchor is.
    Merged { map: &'d Node, list: &'d Node },
}

/// The list at `path` of document `doc`, for an edit of its items. Like [`own_node_at`], the path
/// may not run through an alias or a merged entry, and a list written as an alias
/// (`key: *name`) is refused: its items are written where the anchor is and shared with every
/// other alias of it. A list that the last mapping only merges in is returned as such, for the
/// caller to give that mapping a copy of its own (as [`set`] gives it its own scalar entries).
fn list_at<'d>(text: &str, docs: &'d [Document], doc: usize, path: &[Seg]) -> Result<ListAt<'d>> {
    let Some((Seg::Key(last), parent)) = path.split_last().map(|(l, p)| (*l, p)) else {
        return Ok(own_node_at(text, docs, doc, path)?.map_or(ListAt::Missing, ListAt::Own));
    };
    let Some(map) = own_node_at(text, docs, doc, parent)? else {
        return Ok(ListAt::Missing);
    };
    Ok(match map.entry(last) {
        None => ListAt::Missing,
        Some((k, list)) if !within(k, map) => ListAt::Merged { map, list },
        Some((k, v)) if is_alias(k, v) => return aliased_list(text, path, k, v),
        Some((_, v)) => ListAt::Own(v),
    })
}

/// The refusal of an edit of the value at `path`, written as an alias after its key `key`:
/// it names the alias, where it is written, and the anchor it repeats.
fn aliased_list<T>(text: &str, path: &[Seg], key: &Node, value: &Node) -> Result<T> {
    let Some((at, name)) = alias_after_key(text, key) else {
        return aliased(key);
    };
    let what = match value.kind {
        NodeKind::Seq(_) => "a list",
        NodeKind::Map(_) => "a mapping",
        NodeKind::Scalar(_) => "a value",
    };
    let (line, col) = line_col(text, at);
    let anchor = match anchor_before(text, at, name) {
        Some(a) => format!(" (its anchor &{name} is at line {})", line_col(text, a).0),
        None => format!(" (its anchor is &{name})"),
    };
    err(format!(
        "{} at line {line}, column {col} is an alias (*{name}) of {what} shared elsewhere{anchor}; change it by hand",
        path_label(path)
    ))
}

/// The alias (`*name`) written as the value of the mapping entry keyed `key`: where it starts
/// and the name.
fn alias_after_key<'t>(text: &'t str, key: &Node) -> Option<(usize, &'t str)> {
    let after = key.span.end.offset;
    let mut at = after + text.get(after..)?.find(':')? + 1;
    // The alias may follow on a later line, after blank and comment lines.
    loop {
        let rest = &text[at..];
        at += rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
        if text[at..].starts_with('#') {
            at = line_end(text, at);
        } else {
            break;
        }
    }
    let rest = text[at..].strip_prefix('*')?;
    let len = rest
        .find([' ', '\t', '\r', '\n', ',', ']', '}'])
        .unwrap_or(rest.len());
    (len > 0).then(|| (at, &rest[..len]))
}

/// The last anchor `&name` written before `to` (the one an alias at `to` repeats).
fn anchor_before(text: &str, to: usize, name: &str) -> Option<usize> {
    let pat = format!("&{name}");
    let mut upto = to;
    while let Some(start) = text[..upto].rfind(&pat) {
        let end = start + pat.len();
        let before_ok = start == 0 || b" \t\r\n[{,:".contains(&text.as_bytes()[start - 1]);
        let after_ok = text[end..]
            .chars()
            .next()
            .is_none_or(|c| " \t\r\n,]}".contains(c));
        let in_comment = text[line_start(text, start)..start].contains('#');
        if before_ok && after_ok && !in_comment {
            return Some(start);
        }
        upto = start;
    }
    None
}

/// The text of a scalar written as `s` (its properties first), without its anchor (`&name`):
/// tags and quoting are kept.
fn without_anchor(s: &str) -> String {
    let mut parts = Vec::new();
    let mut rest = s;
    while rest.starts_with(['&', '!']) {
        let end = rest.find([' ', '\t']).unwrap_or(rest.len());
        if rest.starts_with('!') {
            parts.push(&rest[..end]);
        }
        rest = rest[end..].trim_start_matches([' ', '\t']);
    }
    if !rest.is_empty() {
        parts.push(rest);
    }
    if parts.is_empty() {
        // An empty item (`- ` or `- &a`) is null.
        return "null".into();
    }
    parts.join(" ")
}

/// The mapping `map` (at `path` less its last key) only has the list at `path` through a merge
/// key: the list is written where the merged anchor is, and every mapping merging that anchor
/// reads it. Rather than edit it there, `map` gets an entry of its own holding the merged items
/// (without item `drop`) and then `add`; in YAML a key written in a mapping overrides a merged
/// one, so only `map` changes. This is what [`set`] does for a merged scalar. The anchor is left
/// as written.
///
/// The items are copied as written (quoting and tags kept, anchors left out: a second `&name`
/// would change what later aliases of it mean), in the list's own style (`[a, b]` or block
/// lines). An item that is an alias, a collection, a block scalar or written over several lines
/// is not copied: the edit is refused naming the merge.
fn merged_copy(
    text: &str,
    l: &Layout,
    path: &[Seg],
    map: &Node,
    list: &Node,
    drop: Option<usize>,
    add: Option<&Value>,
) -> Result<Splice> {
    let Some(Seg::Key(key)) = path.last() else {
        return err(format!("{} is not a mapping entry", path_label(path)));
    };
    let Some(items) = list.as_seq() else {
        return err(format!("{} is not a list", path_label(path)));
    };
    let flow = is_flow(text, map) || is_flow(text, list);
    let refuse = |i: usize, why: &str| {
        err(format!(
            "{} is merged in from an anchor (<<) and shared with every mapping merging it; its item {i} {why} and is not copied into the mapping's own list; change it by hand",
            path_label(path)
        ))
    };
    let mut copy = Vec::new();
    for (i, (n, w)) in items.iter().zip(items_written(text, list)).enumerate() {
        if Some(i) == drop {
            continue;
        }
        if let Some(name) = w.alias {
            let name = if name.is_empty() {
                String::new()
            } else {
                format!(" (*{name})")
            };
            return refuse(i, &format!("is an alias{name}"));
        }
        if n.as_scalar().is_none() || is_block_scalar(n) {
            return refuse(i, "is not a scalar on one line");
        }
        let written = &text[n.span.range()];
        if written.contains(['\r', '\n']) {
            return refuse(i, "is written over several lines");
        }
        let t = without_anchor(written);
        // A plain scalar of a block list may hold what ends an item in a flow one.
        let mut value = t.as_str();
        while value.starts_with('!') {
            value = value.find(' ').map_or("", |i| value[i..].trim_start());
        }
        let quoted = value.starts_with(['"', '\'']);
        if flow && !is_flow(text, list) && !quoted && t.contains([',', '[', ']', '{', '}']) {
            return refuse(i, "would read differently in a flow list");
        }
        copy.push(t);
    }
    let key_text = scalar(&Value::String(key.to_string()));
    if let Some(v) = add {
        if flow {
            copy.push(scalar(v));
        }
    }
    if is_flow(text, map) {
        let close = map.span.end.offset - 1;
        let close = text[..=close].rfind('}').unwrap_or(close);
        return Ok(Splice::insert(
            close,
            format!(", {key_text}: [{}]", copy.join(", ")),
        ));
    }
    let (col, end) = after_own_entries(text, map, key)?;
    let pad = " ".repeat(col);
    let lines = if flow {
        format!("{pad}{key_text}: [{}]\n", copy.join(", "))
    } else if copy.is_empty() && add.is_none() {
        format!("{pad}{key_text}: []\n")
    } else {
        let item_col = if l.indentless { col } else { col + l.unit };
        let item_pad = " ".repeat(item_col);
        let mut lines = format!("{pad}{key_text}:\n");
        for t in &copy {
            lines.push_str(&format!("{item_pad}- {t}\n"));
        }
        if let Some(v) = add {
            lines.push_str(&block(&Value::Array(vec![v.clone()]), item_col, l));
        }
        lines
    };
    Ok(insert_lines(text, end, lines))
}

/// The dash of a block sequence item written as `w`.
fn written_dash(text: &str, n: &Node, w: &ItemText) -> Option<usize> {
    match (&w.alias, &w.range) {
        (None, _) => item_dash(text, n),
        (Some(_), Some(r)) => dash_before(text, r.start),
        (Some(_), None) => None,
    }
}

fn holds_item<'n>(n: &'n Node, w: &ItemText) -> Holds<'n> {
    if w.alias.is_some() {
        Holds::Alias
    } else {
        Holds::Item(n)
    }
}

/// A scalar's span without an anchor it starts with (`&name `): an edit of the value keeps the
/// anchor, which its aliases need.
fn after_anchor(text: &str, mut range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    if let Some(rest) = text[range.clone()].strip_prefix('&') {
        let name = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let gap = rest[name..].len() - rest[name..].trim_start().len();
        range.start += 1 + name + gap;
    }
    range
}

/// The file's indentation step: the smallest positive difference between a nested key's column
/// and its parent's, else 2.
fn indent_unit(text: &str, docs: &[Document]) -> usize {
    fn walk(text: &str, n: &Node, parent_col: Option<usize>, best: &mut Option<usize>) {
        match &n.kind {
            NodeKind::Map(entries) => {
                for (k, v) in entries {
                    let c = column(text, k.span.start.offset);
                    if let Some(p) = parent_col {
                        if c > p {
                            *best = Some(best.map_or(c - p, |b: usize| b.min(c - p)));
                        }
                    }
                    walk(text, v, Some(c), best);
                }
            }
            NodeKind::Seq(items) => {
                for i in items {
                    walk(text, i, parent_col, best);
                }
            }
            NodeKind::Scalar(_) => {}
        }
    }
    let mut best = None;
    for d in docs {
        walk(text, &d.root, None, &mut best);
    }
    best.unwrap_or(2)
}

/// Does the file write list items under a key at the key's own column (`key:\n- a`)?
fn indentless_lists(text: &str, docs: &[Document]) -> bool {
    fn walk(text: &str, n: &Node, found: &mut Option<bool>) {
        if let NodeKind::Map(entries) = &n.kind {
            for (k, v) in entries {
                if let NodeKind::Seq(items) = &v.kind {
                    if let Some(first) = items.first() {
                        if !is_flow(text, v) && found.is_none() {
                            let kc = column(text, k.span.start.offset);
                            let dash = item_dash(text, first);
                            *found = dash.map(|d| column(text, d) == kc);
                        }
                    }
                }
                walk(text, v, found);
            }
        } else if let NodeKind::Seq(items) = &n.kind {
            for i in items {
                walk(text, i, found);
            }
        }
    }
    let mut found = None;
    for d in docs {
        walk(text, &d.root, &mut found);
    }
    found.unwrap_or(false)
}

/// The `-` that introduces the block sequence item starting at `off`.
fn dash_before(text: &str, off: usize) -> Option<usize> {
    let ls = line_start(text, off);
    let before = &text[ls..off];
    before.rfind('-').map(|i| ls + i).filter(|_| {
        before
            .trim_end()
            .trim_end_matches('-')
            .trim_end()
            .chars()
            .all(|c| c == ' ' || c == '-')
    })
}

/// A YAML 1.1 reader (Kubernetes) would take this plain text as something other than a string:
/// a boolean or null word, or something number-like (`8080:80` is even a base-60 integer there).
fn ambiguous_plain(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null" | "~"
    ) {
        return true;
    }
    let mut chars = s.chars();
    let first = chars.next().unwrap_or(' ');
    let second = chars.next().unwrap_or(' ');
    let numeric_start = first.is_ascii_digit()
        || ("+-.".contains(first) && (second.is_ascii_digit() || second == '.'));
    numeric_start
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || "_:.+-xXoO".contains(c))
}

/// A scalar as YAML text for a flow collection (`[a, b]`): plain when unambiguous, else
/// double-quoted (JSON escaping is valid YAML).
pub fn scalar(v: &Value) -> String {
    scalar_in(v, true)
}

/// A scalar as YAML text in block context, where commas need no quoting.
pub fn block_scalar(v: &Value) -> String {
    scalar_in(v, false)
}

fn scalar_in(v: &Value, flow: bool) -> String {
    match v {
        Value::String(s) => {
            let plain = !s.is_empty()
                && s.chars().all(|c| {
                    c.is_ascii_alphanumeric() || "_./=+@-:".contains(c) || (!flow && c == ',')
                })
                && !s.starts_with([':', '@'])
                && s != "-"
                && !s.starts_with("- ")
                && !s.ends_with(':')
                && !s.contains(": ")
                && !ambiguous_plain(s);
            if plain {
                s.clone()
            } else {
                Value::String(s.clone()).to_string()
            }
        }
        Value::Null => "null".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(scalar).collect::<Vec<_>>().join(", ")),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", scalar(&Value::String(k.clone())), scalar(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Is the whole text one JSON document (a manifest written as JSON, which YAML also reads)? Its
/// edits must stay JSON: quoted keys, JSON values, commas where JSON puts them.
fn is_json(text: &str) -> bool {
    text.trim_start().starts_with(['{', '['])
        && serde_json::from_str::<serde_json::Value>(text).is_ok()
}

/// A value as JSON text, spaced as people write flow JSON (`{"a": 1, "b": [2, 3]}`).
fn json_text(v: &Value) -> String {
    match v {
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(json_text).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), json_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Where a new member or item goes after the last one of a JSON collection (`last` its last
/// written node): right after it, on a line of its own indented like it when it starts its
/// line.
fn json_after(text: &str, first_of_last: usize, last: &Node, entry: String) -> Splice {
    let end = text[..last.span.end.offset].trim_end().len();
    let own_line = text[line_start(text, first_of_last)..first_of_last]
        .trim()
        .is_empty();
    let sep = if own_line {
        format!(",\n{}", " ".repeat(column(text, first_of_last)))
    } else {
        ", ".to_string()
    };
    Splice::insert(end, format!("{sep}{entry}")).with_line_breaks_of(text)
}

fn is_collection(v: &Value) -> bool {
    matches!(v, Value::Array(a) if !a.is_empty()) || matches!(v, Value::Object(m) if !m.is_empty())
}

/// How a file lays out its blocks, learned from what is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// One indentation step in columns.
    pub unit: usize,
    /// List items written at their key's own column (`key:\n- a`).
    pub indentless: bool,
}

impl Layout {
    pub fn of(text: &str, docs: &[Document]) -> Layout {
        Layout {
            unit: indent_unit(text, docs),
            indentless: indentless_lists(text, docs),
        }
    }
}

/// Lines for a collection value nested at `indent` (every line ends in a newline).
fn block(v: &Value, indent: usize, l: &Layout) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    match v {
        Value::Object(m) => {
            for (k, val) in m {
                let key = scalar(&Value::String(k.clone()));
                if is_collection(val) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    let child = match val {
                        Value::Array(_) if l.indentless => indent,
                        _ => indent + l.unit,
                    };
                    out.push_str(&block(val, child, l));
                } else {
                    out.push_str(&format!("{pad}{key}: {}\n", block_scalar(val)));
                }
            }
        }
        Value::Array(a) => {
            for item in a {
                if is_collection(item) {
                    let inner = block(item, indent + 2, l);
                    out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                } else {
                    out.push_str(&format!("{pad}- {}\n", block_scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", block_scalar(other))),
    }
    out
}

/// `lines` appended at `at`, on a line of their own even when the text lacks a final newline,
/// ended like the file's lines.
fn insert_lines(text: &str, at: usize, lines: String) -> Splice {
    let splice = if at == text.len() && !text.is_empty() && !text.ends_with('\n') {
        Splice::insert(at, format!("\n{lines}"))
    } else {
        Splice::insert(at, lines)
    };
    splice.with_line_breaks_of(text)
}

/// Set `key` in the mapping at `path` of document `doc` to `value`, creating missing mappings
/// along `path`. An existing entry keeps its place (and its trailing comment when the value is a
/// scalar on the key's line); a new entry goes after the mapping's last entry.
pub fn set(text: &str, doc: usize, path: &[Seg], key: &str, value: &Value) -> Result<String> {
    set_splice(text, doc, path, key, value).map(|s| s.apply(text))
}

/// [`set`] as a splice of `text`.
pub fn set_splice(
    text: &str,
    doc: usize,
    path: &[Seg],
    key: &str,
    value: &Value,
) -> Result<Splice> {
    let docs = parse(text)?;
    let layout = Layout::of(text, &docs);
    let root = &docs
        .get(doc)
        .ok_or_else(|| YamlEditError(format!("the file has no document {}", doc + 1)))?
        .root;
    set_in(text, &layout, root, path, key, value)
}

/// Is `n` written inside `outer` (rather than merged in from an anchor elsewhere)?
fn within(n: &Node, outer: &Node) -> bool {
    outer.span.start.offset <= n.span.start.offset && n.span.start.offset < outer.span.end.offset
}

/// Is `value` an alias (`key: *anchor`)? The parser gives an alias the span of the anchored
/// node, which YAML writes before any alias of it, so before the key.
fn is_alias(key: &Node, value: &Node) -> bool {
    value.span.start.offset < key.span.end.offset
}

/// A value written as an alias lives where the anchor is, shared with every other alias of it:
/// it is not edited there.
fn aliased<T>(key: &Node) -> Result<T> {
    let p = key.span.start;
    err(format!(
        "{} at line {}, column {} is an alias of an anchor shared elsewhere; change it by hand",
        key.as_str().unwrap_or("the value"),
        p.line,
        p.column
    ))
}

/// [`set`] below `node` of an already parsed document (`layout` from [`Layout::of`]): what the
/// scanner's rules use, as they hold the node a finding is about.
pub fn set_in(
    text: &str,
    layout: &Layout,
    node: &Node,
    path: &[Seg],
    key: &str,
    value: &Value,
) -> Result<Splice> {
    // The deepest existing mapping along path.
    let mut depth = 0;
    let mut node = node;
    while depth < path.len() {
        match (path[depth], &node.kind) {
            (Seg::Key(k), NodeKind::Map(_)) => match node.entry(k) {
                // An entry merged in from an anchor is overridden here, not edited there.
                Some((kn, _)) if !within(kn, node) => break,
                Some((kn, n)) if is_alias(kn, n) => return aliased(kn),
                Some((_, n)) if n.is_map() || !n.is_null() => node = n,
                // `key:` with no value: treated as a missing mapping below.
                _ => break,
            },
            (Seg::Index(i), NodeKind::Seq(items)) => match items.get(i) {
                Some(n) => node = n,
                None => return err(format!("{} has no item {i}", path_label(&path[..depth]))),
            },
            _ => {
                return err(format!(
                    "{} is not a {}",
                    path_label(&path[..depth]),
                    if matches!(path[depth], Seg::Key(_)) {
                        "mapping"
                    } else {
                        "list"
                    }
                ))
            }
        }
        depth += 1;
    }
    // Build the part of the path that does not exist yet as one nested value.
    let mut v = value.clone();
    let mut new_key = key.to_string();
    if depth < path.len() {
        let mut rest: Vec<&str> = Vec::new();
        for seg in &path[depth..] {
            match seg {
                Seg::Key(k) => rest.push(k),
                Seg::Index(_) => return err(format!("{} does not exist", path_label(path))),
            }
        }
        rest.push(key);
        new_key = rest[0].to_string();
        for k in rest[1..].iter().rev() {
            let mut m = serde_json::Map::new();
            m.insert(k.to_string(), v);
            v = Value::Object(m);
        }
    }
    let NodeKind::Map(entries) = &node.kind else {
        return err(format!("{} is not a mapping", path_label(&path[..depth])));
    };
    if let Some((k, existing)) = entries
        .iter()
        .rev()
        .find(|(k, _)| k.as_str() == Some(&new_key) && within(k, node))
    {
        if is_alias(k, existing) {
            return aliased(k);
        }
        return replace_value(text, k, existing, &v, layout);
    }
    insert_entry(text, node, &new_key, &v, layout)
}

/// Is `n` a block scalar (`|` or `>`)?
fn is_block_scalar(n: &Node) -> bool {
    matches!(&n.kind, NodeKind::Scalar(s) if matches!(s.style, Style::Literal | Style::Folded))
}

/// Where a block scalar (`|`, `>-`, `|2+`, ...) is written. The parser's span of one does not
/// cover it (it starts at the first content character, or at an anchor or tag before the
/// indicator), so the editor finds the header and the content lines itself.
#[derive(Debug, Clone, PartialEq, Eq)]
struct BlockScalarText<'t> {
    /// The first property (anchor or tag) or the indicator: where a replacement starts.
    start: usize,
    /// Anchors among the properties (`&name`): a replacement keeps them, as aliases need them.
    anchors: Vec<&'t str>,
    /// The spaces and comment after the indicator on the header line (empty without a comment).
    comment: std::ops::Range<usize>,
    /// End of the last content line, before its line break; the end of the header line, before
    /// its line break, when the scalar has no content. Blank lines after the content are left
    /// alone, as they are for other values.
    end: usize,
    /// Keep chomping (`+`): the blank lines after the content are part of the value.
    keep: bool,
}

impl BlockScalarText<'_> {
    /// Offset just after the scalar's last line: its last content line, or with keep chomping
    /// the last of the blank lines after it (they are part of the value, so a line inserted
    /// after the scalar goes after them).
    fn lines_end(&self, text: &str) -> usize {
        let mut end = line_end(text, self.end);
        if self.keep {
            while end < text.len() {
                let next = line_end(text, end);
                if !text[end..next]
                    .trim_matches([' ', '\t', '\r', '\n'])
                    .is_empty()
                {
                    break;
                }
                end = next;
            }
        }
        end
    }
}

/// The block scalar whose properties and indicator come first after `from` (just after a
/// mapping key's colon or a sequence item's dash), in a block whose own indentation is
/// `parent_col` (the key's or the dash's column). `None` when no block scalar header is there.
fn block_scalar_text(text: &str, from: usize, parent_col: usize) -> Option<BlockScalarText<'_>> {
    let b = text.as_bytes();
    let token_end = |i: usize| {
        text[i..]
            .find([' ', '\t', '\r', '\n'])
            .map_or(text.len(), |k| i + k)
    };
    let mut i = from;
    let mut start = None;
    let mut anchors = Vec::new();
    let indicator = loop {
        match *b.get(i)? {
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            b'#' => i = text[i..].find('\n').map_or(text.len(), |k| i + k),
            c @ (b'&' | b'!') => {
                start.get_or_insert(i);
                let end = token_end(i);
                if c == b'&' {
                    anchors.push(&text[i..end]);
                }
                i = end;
            }
            b'|' | b'>' => break i,
            _ => return None,
        }
    };
    // Chomping (`-`, `+`) and indentation (`1`-`9`) indicators, in either order.
    let mut j = indicator + 1;
    let mut digit = None;
    let mut keep = false;
    while let Some(&c) = b.get(j) {
        match c {
            b'-' => {}
            b'+' => keep = true,
            b'1'..=b'9' => digit = Some(usize::from(c - b'0')),
            _ => break,
        }
        j += 1;
    }
    let eol = text[j..].find('\n').map_or(text.len(), |k| j + k);
    let eol = if eol > j && b[eol - 1] == b'\r' {
        eol - 1
    } else {
        eol
    };
    let rest = &text[j..eol];
    let after = rest.trim_start_matches([' ', '\t']);
    // Only spaces and a comment (`#` after a space) may follow the indicators.
    let comment_only = after.starts_with('#') && after.len() < rest.len();
    if !after.is_empty() && !comment_only {
        return None;
    }
    let comment = j..j + rest.trim_end().len();
    // Content lines: everything indented at least as deep as the content (given by the
    // indentation indicator, else by the first non-blank line), blank lines between them
    // included.
    let mut content_col = digit.map(|d| parent_col + d);
    let mut end = eol;
    let mut pos = line_end(text, eol);
    while pos < text.len() {
        let next = line_end(text, pos);
        let line = text[pos..next].trim_end_matches(['\n', '\r']);
        let body = line.trim_start_matches(' ');
        if body.trim_start_matches('\t').is_empty() {
            pos = next;
            continue;
        }
        let ind = line.len() - body.len();
        let col = *content_col.get_or_insert(ind);
        if ind < col || ind <= parent_col {
            break;
        }
        end = pos + line.len();
        pos = next;
    }
    Some(BlockScalarText {
        start: start.unwrap_or(indicator),
        anchors,
        comment,
        end,
        keep,
    })
}

/// The block scalar written as the value of the mapping entry keyed `key`.
fn entry_block_scalar<'t>(text: &'t str, key: &Node) -> Option<BlockScalarText<'t>> {
    let after_key = key.span.end.offset;
    let colon = after_key + text[after_key..].find(':')?;
    block_scalar_text(text, colon + 1, column(text, key.span.start.offset))
}

/// The block scalar written as the block sequence item `n` (not an alias).
fn item_block_scalar<'t>(text: &'t str, n: &Node) -> Option<BlockScalarText<'t>> {
    let dash = item_dash(text, n)?;
    block_scalar_text(text, dash + 1, column(text, dash))
}

/// The `-` that introduces the block sequence item `n` (not an alias). The span of a block
/// scalar item usually starts on its first content line, below the dash, so its header line is
/// looked for above that.
fn item_dash(text: &str, n: &Node) -> Option<usize> {
    if !is_block_scalar(n) {
        return dash_before(text, n.span.start.offset);
    }
    // The header is on the item's line (`- |`): the line of the span's start when an anchor
    // or tag starts it, else the last non-blank line above the first content line.
    let start = n.span.start.offset;
    let mut header = line_start(text, start);
    if text[header..start].trim().is_empty() {
        loop {
            if header == 0 {
                return None;
            }
            header = line_start(text, header - 1);
            if !text[header..line_end(text, header)].trim().is_empty() {
                break;
            }
        }
    }
    // The item's dash is the last of the `- ` run that begins the line (`- - |`).
    let b = text.as_bytes();
    let mut i = header;
    let mut dash = None;
    loop {
        while matches!(b.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if b.get(i) == Some(&b'-')
            && matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n'))
        {
            dash = Some(i);
            i += 1;
        } else {
            break;
        }
    }
    dash
}

/// The block scalar `bs` replaced by the one-line scalar `new`, written where the indicator
/// was: its anchors and the header line's comment stay, its tags and content lines go.
fn replace_block_scalar(text: &str, bs: &BlockScalarText, new: &str) -> Splice {
    let mut out = String::new();
    for a in &bs.anchors {
        out.push_str(a);
        out.push(' ');
    }
    out.push_str(new);
    out.push_str(&text[bs.comment.clone()]);
    Splice::new(bs.start..bs.end, out)
}

fn no_block_scalar_header<T>(n: &Node) -> Result<T> {
    let p = n.span.start;
    err(format!(
        "cannot find the header (| or >) of the block scalar at line {}, column {}; change it by hand",
        p.line, p.column
    ))
}

fn replace_value(text: &str, key: &Node, existing: &Node, v: &Value, l: &Layout) -> Result<Splice> {
    if is_json(text) {
        return Ok(Splice::new(existing.span.range(), json_text(v)));
    }
    let key_col = column(text, key.span.start.offset);
    let after_key = key.span.end.offset;
    let colon = after_key + text[after_key..].find(':').unwrap_or(0);
    let written_block = if is_block_scalar(existing) {
        match block_scalar_text(text, colon + 1, key_col) {
            Some(bs) => Some(bs),
            None => return no_block_scalar_header(existing),
        }
    } else {
        None
    };
    if let Some(bs) = &written_block {
        if !is_collection(v) {
            return Ok(replace_block_scalar(text, bs, &block_scalar(v)));
        }
    }
    let existing_block =
        matches!(existing.kind, NodeKind::Map(_) | NodeKind::Seq(_)) && !is_flow(text, existing);
    if !existing_block && !existing.is_null() && !is_collection(v) {
        // A scalar inside a flow mapping keeps flow quoting rules.
        let in_flow = text[..existing.span.start.offset]
            .rfind(['{', '\n'])
            .is_some_and(|i| text.as_bytes()[i] == b'{');
        // An anchor on the value (`&name true`) stays: its aliases still need it.
        let range = after_anchor(text, existing.span.range());
        return Ok(Splice::new(range, scalar_in(v, in_flow)));
    }
    // Rewrite from the colon after the key to the end of the entry's block (for a block scalar,
    // through its last content line even when that line looks like a comment; blank lines after
    // it stay, as they do when it is replaced by a scalar).
    let seq = matches!(existing.kind, NodeKind::Seq(_));
    let end = match &written_block {
        Some(bs) => {
            lines_end(text, key.span.start.offset, key_col, seq).max(line_end(text, bs.end))
        }
        None => block_end(
            text,
            key.span.start.offset,
            key_col,
            seq,
            Holds::Entry(key, existing),
        ),
    };
    let body = if is_collection(v) {
        let child = match v {
            Value::Array(_) if l.indentless => key_col,
            _ => key_col + l.unit,
        };
        format!(":\n{}", block(v, child, l))
    } else {
        format!(": {}\n", block_scalar(v))
    };
    Ok(Splice::new(colon..end, body).with_line_breaks_of(text))
}

fn insert_entry(text: &str, map: &Node, key: &str, v: &Value, l: &Layout) -> Result<Splice> {
    let NodeKind::Map(entries) = &map.kind else {
        unreachable!("insert_entry is called on mappings")
    };
    if is_json(text) && is_flow(text, map) {
        let entry = format!("{}: {}", Value::String(key.to_string()), json_text(v));
        return Ok(match entries.last() {
            Some((k, last)) => json_after(text, k.span.start.offset, last, entry),
            None => {
                let close = map.span.end.offset - 1;
                Splice::insert(text[..=close].rfind('}').unwrap_or(close), entry)
            }
        });
    }
    let key_text = scalar(&Value::String(key.to_string()));
    if is_flow(text, map) {
        let close = map.span.end.offset - 1;
        let close = text[..=close].rfind('}').unwrap_or(close);
        let sep = if entries.is_empty() { "" } else { ", " };
        return Ok(Splice::insert(
            close,
            format!("{sep}{key_text}: {}", scalar(v)),
        ));
    }
    let mut m = serde_json::Map::new();
    m.insert(key.to_string(), v.clone());
    let entry = Value::Object(m);
    if entries.is_empty() {
        // An empty block mapping only arises as the document itself: write at the end.
        return Ok(insert_lines(text, text.len(), block(&entry, 0, l)));
    }
    let (col, end) = after_own_entries(text, map, key)?;
    Ok(insert_lines(text, end, block(&entry, col, l)))
}

/// Where a new entry `key` of the block mapping `map` goes: the column of its entries and the
/// offset just after the last one's lines. Entries merged in from an anchor live elsewhere: only
/// the mapping's own entries place the new line, and a mapping with none is refused.
fn after_own_entries(text: &str, map: &Node, key: &str) -> Result<(usize, usize)> {
    let entries = map.as_map().unwrap_or_default();
    let Some((last_k, last_v)) = entries.iter().rev().find(|(k, _)| within(k, map)) else {
        let p = map.span.start;
        return err(format!(
            "the mapping at line {}, column {} only merges another one (<<); add {key} by hand",
            p.line, p.column
        ));
    };
    let col = column(text, last_k.span.start.offset);
    let end = block_end(
        text,
        last_k.span.start.offset,
        col,
        matches!(last_v.kind, NodeKind::Seq(_)),
        Holds::Entry(last_k, last_v),
    );
    Ok((col, end))
}

/// Append `item` to the list at `path` (the list is created with [`set`] when missing).
pub fn append(text: &str, doc: usize, path: &[Seg], item: &Value) -> Result<String> {
    append_splice(text, doc, path, item).map(|s| s.apply(text))
}

/// [`append`] as a splice of `text`.
pub fn append_splice(text: &str, doc: usize, path: &[Seg], item: &Value) -> Result<Splice> {
    let docs = parse(text)?;
    let Some((Seg::Key(last), parent)) = path.split_last().map(|(l, p)| (*l, p)) else {
        return err("append needs a path ending in a key");
    };
    let layout = Layout::of(text, &docs);
    // A list reached through an alias is refused; one the mapping only merges in is copied
    // into the mapping with the new item, leaving the anchor (and every other mapping merging
    // it) as it is.
    let list = match list_at(text, &docs, doc, path)? {
        ListAt::Own(n) if !n.is_null() => n,
        ListAt::Merged { map, list } if !list.is_null() => {
            return merged_copy(text, &layout, path, map, list, None, Some(item));
        }
        _ => return set_splice(text, doc, parent, last, &Value::Array(vec![item.clone()])),
    };
    let NodeKind::Seq(items) = &list.kind else {
        return err(format!("{} is not a list", path_label(path)));
    };
    if is_json(text) && is_flow(text, list) {
        return Ok(match items.last() {
            Some(last) => json_after(text, last.span.start.offset, last, json_text(item)),
            None => {
                let close = list.span.end.offset - 1;
                Splice::insert(text[..=close].rfind(']').unwrap_or(close), json_text(item))
            }
        });
    }
    if is_flow(text, list) {
        let close = list.span.end.offset - 1;
        let close = text[..=close].rfind(']').unwrap_or(close);
        let sep = if items.is_empty() { "" } else { ", " };
        return Ok(Splice::insert(close, format!("{sep}{}", scalar(item))));
    }
    let Some(last_item) = items.last() else {
        return set_splice(text, doc, parent, last, &Value::Array(vec![item.clone()]));
    };
    // The new item goes after the last one's lines: for a block scalar, after its last content
    // line; for an alias (`- *name`), after the alias rather than where its anchor is.
    let written = items_written(text, list);
    let last_written = written.last().expect("the list has items");
    let dash = written_dash(text, last_item, last_written).ok_or_else(|| {
        YamlEditError(format!(
            "cannot find the list items of {}",
            path_label(path)
        ))
    })?;
    let col = column(text, dash);
    let end = block_end(text, dash, col, false, holds_item(last_item, last_written));
    Ok(insert_lines(
        text,
        end,
        block(&Value::Array(vec![item.clone()]), col, &layout),
    ))
}

/// Replace the scalar list item `index` of the list at `path`.
pub fn replace_item(
    text: &str,
    doc: usize,
    path: &[Seg],
    index: usize,
    item: &Value,
) -> Result<String> {
    replace_item_splice(text, doc, path, index, item).map(|s| s.apply(text))
}

/// [`replace_item`] as a splice of `text`.
pub fn replace_item_splice(
    text: &str,
    doc: usize,
    path: &[Seg],
    index: usize,
    item: &Value,
) -> Result<Splice> {
    let docs = parse(text)?;
    // An item reached through an alias or a merge, or written as an alias itself, lives where
    // its anchor is: it is refused, as `set` refuses such values.
    let no_item = || YamlEditError(format!("{} has no item {index}", path_label(path)));
    let list = own_node_at(text, &docs, doc, path)?.ok_or_else(no_item)?;
    let n = list
        .as_seq()
        .and_then(|s| s.get(index))
        .ok_or_else(no_item)?;
    if let Some(w) = items_written(text, list).get(index) {
        if w.alias.is_some() {
            return aliased_item(text, path, index, w);
        }
    }
    if n.as_scalar().is_none() {
        return err(format!("{}[{index}] is not a scalar", path_label(path)));
    }
    if is_json(text) {
        return Ok(Splice::new(n.span.range(), json_text(item)));
    }
    if is_block_scalar(n) {
        let Some(bs) = item_block_scalar(text, n) else {
            return no_block_scalar_header(n);
        };
        return Ok(replace_block_scalar(text, &bs, &block_scalar(item)));
    }
    // An anchor on the item (`- &name x`) stays: its aliases still need it.
    let range = after_anchor(text, n.span.range());
    Ok(Splice::new(range, scalar_in(item, is_flow(text, list))))
}

/// Remove list item `index` of the list at `path` (its whole line block, or its text and comma in
/// a flow list).
pub fn remove_item(text: &str, doc: usize, path: &[Seg], index: usize) -> Result<String> {
    remove_item_splice(text, doc, path, index).map(|s| s.apply(text))
}

/// [`remove_item`] as a splice of `text`.
pub fn remove_item_splice(text: &str, doc: usize, path: &[Seg], index: usize) -> Result<Splice> {
    let docs = parse(text)?;
    // As for `append`: a list reached through an alias is refused, and a merged one is copied
    // into the mapping without the item.
    let list = match list_at(text, &docs, doc, path)? {
        ListAt::Missing => return err(format!("{} does not exist", path_label(path))),
        ListAt::Own(n) => n,
        ListAt::Merged { map, list } => {
            if list.as_seq().is_some_and(|s| index >= s.len()) {
                return err(format!("{} has no item {index}", path_label(path)));
            }
            let layout = Layout::of(text, &docs);
            return merged_copy(text, &layout, path, map, list, Some(index), None);
        }
    };
    let items = list
        .as_seq()
        .ok_or_else(|| YamlEditError(format!("{} is not a list", path_label(path))))?;
    let n = items
        .get(index)
        .ok_or_else(|| YamlEditError(format!("{} has no item {index}", path_label(path))))?;
    // Where the items are written: an alias item (`*name`) is removed where it is written, not
    // where its anchor is.
    let written = items_written(text, list);
    let not_found =
        |i: usize| YamlEditError(format!("cannot find item {i} of {}", path_label(path)));
    let range_of = |i: usize| written[i].range.clone().ok_or_else(|| not_found(i));
    if is_flow(text, list) {
        let this = range_of(index)?;
        let range = if index + 1 < items.len() {
            this.start..range_of(index + 1)?.start
        } else if index > 0 {
            range_of(index - 1)?.end..this.end
        } else {
            this
        };
        return Ok(Splice::new(range, ""));
    }
    let dash = written_dash(text, n, &written[index]).ok_or_else(|| not_found(index))?;
    let col = column(text, dash);
    let start = line_start(text, dash);
    let end = block_end(text, dash, col, false, holds_item(n, &written[index]));
    Ok(Splice::new(start..end, ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const COMPOSE: &str = "# app stack\nservices:\n  web:\n    image: nginx:1.25   # pinned\n    ports:\n      - \"8080:80\"\n    environment:\n      MODE: prod\n\n  db:\n    image: postgres:16\n";

    /// A Kubernetes manifest written as JSON stays JSON: quoted keys, JSON values and commas
    /// (YAML flow syntax such as `{a: false}` is not JSON; kubectl and jq reject it).
    #[test]
    fn json_documents_get_json_edits() {
        let pod = "{\n  \"kind\": \"Pod\",\n  \"spec\": {\n    \"containers\": [\n      {\"name\": \"c\", \"securityContext\": {\"privileged\": true}}\n    ]\n  }\n}\n";
        let c = [Seg::Key("spec"), Seg::Key("containers"), Seg::Index(0)];
        let sc = [c[0], c[1], c[2], Seg::Key("securityContext")];
        let mut t = set(pod, 0, &sc, "privileged", &json!(false)).unwrap();
        t = set(&t, 0, &sc, "allowPrivilegeEscalation", &json!(false)).unwrap();
        t = set(
            &t,
            0,
            &sc,
            "seccompProfile",
            &json!({"type": "RuntimeDefault"}),
        )
        .unwrap();
        t = set(&t, 0, &c, "image", &json!("busybox:1.36")).unwrap();
        t = set(
            &t,
            0,
            &[Seg::Key("spec")],
            "automountServiceAccountToken",
            &json!(false),
        )
        .unwrap();
        t = set(
            &t,
            0,
            &[Seg::Key("spec")],
            "securityContext",
            &json!({"runAsNonRoot": true}),
        )
        .unwrap();
        t = append(
            &t,
            0,
            &[Seg::Key("spec"), Seg::Key("containers")],
            &json!({"name": "d"}),
        )
        .unwrap();
        t = set(&t, 0, &[Seg::Key("spec")], "kind2", &json!("x: y")).unwrap();
        let v: Value = serde_json::from_str(&t).unwrap_or_else(|e| panic!("{e}\n{t}"));
        assert_eq!(
            v,
            json!({"kind": "Pod", "spec": {"containers": [
                {"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": false,
                 "allowPrivilegeEscalation": false, "seccompProfile": {"type": "RuntimeDefault"}}},
                {"name": "d"}],
                "automountServiceAccountToken": false, "securityContext": {"runAsNonRoot": true},
                "kind2": "x: y"}})
        );
        assert!(
            t.contains("{\"privileged\": false, \"allowPrivilegeEscalation\": false, \"seccompProfile\": {\"type\": \"RuntimeDefault\"}}"),
            "{t}"
        );
        assert!(
            t.contains("    ],\n    \"automountServiceAccountToken\": false,\n"),
            "{t}"
        );
        // A flow mapping in a YAML file keeps YAML flow style.
        let y = "spec: {a: 1}\n";
        assert_eq!(
            set(y, 0, &[Seg::Key("spec")], "b", &json!(2)).unwrap(),
            "spec: {a: 1, b: 2}\n"
        );
    }

    #[test]
    fn new_keys_go_after_the_last_entry_with_sibling_indentation() {
        let out = set(
            COMPOSE,
            0,
            &[Seg::Key("services"), Seg::Key("web")],
            "read_only",
            &json!(true),
        )
        .unwrap();
        assert_eq!(
            out,
            COMPOSE.replace(
                "      MODE: prod\n",
                "      MODE: prod\n    read_only: true\n"
            )
        );
        let out = set(
            &out,
            0,
            &[Seg::Key("services"), Seg::Key("web")],
            "security_opt",
            &json!(["no-new-privileges:true"]),
        )
        .unwrap();
        assert!(
            out.contains(
                "    read_only: true\n    security_opt:\n      - no-new-privileges:true\n\n  db:\n"
            ),
            "{out}"
        );
        let out = set(&out, 0, &[Seg::Key("services"), Seg::Key("web")], "healthcheck", &json!({"test": ["CMD-SHELL", "wget -q -O /dev/null http://127.0.0.1:80/ || exit 1"], "interval": "30s"})).unwrap();
        assert!(out.contains("    healthcheck:\n      interval: 30s\n      test:\n        - CMD-SHELL\n        - \"wget -q -O /dev/null http://127.0.0.1:80/ || exit 1\"\n"), "{out}");
        // Everything else is untouched, comments included.
        assert!(
            out.starts_with("# app stack\nservices:\n  web:\n    image: nginx:1.25   # pinned\n")
        );
        assert!(out.ends_with("  db:\n    image: postgres:16\n"));
    }

    #[test]
    fn scalars_are_replaced_in_place_keeping_comments() {
        let text = "kind: KubeletConfiguration\nreadOnlyPort: 10255 # legacy\nauthentication:\n  anonymous:\n    enabled: true\n";
        let out = set(text, 0, &[], "readOnlyPort", &json!(0)).unwrap();
        assert_eq!(out, text.replace("10255 # legacy", "0 # legacy"));
        let out = set(
            &out,
            0,
            &[Seg::Key("authentication"), Seg::Key("anonymous")],
            "enabled",
            &json!(false),
        )
        .unwrap();
        assert!(out.ends_with("  anonymous:\n    enabled: false\n"), "{out}");
        // Missing parents are created as nested blocks.
        let out = set(
            &out,
            0,
            &[Seg::Key("authentication"), Seg::Key("webhook")],
            "enabled",
            &json!(true),
        )
        .unwrap();
        assert!(
            out.ends_with("    enabled: false\n  webhook:\n    enabled: true\n"),
            "{out}"
        );
        let out = set(text, 0, &[], "protectKernelDefaults", &json!(true)).unwrap();
        assert!(
            out.ends_with("    enabled: true\nprotectKernelDefaults: true\n"),
            "{out}"
        );
    }

    #[test]
    fn lists_append_replace_and_remove_items() {
        let m = "spec:\n  containers:\n  - name: kube-apiserver\n    command:\n    - kube-apiserver\n    - --profiling=true   # debug\n    - --token-auth-file=/etc/tokens.csv\n    image: k8s\n";
        let path = [
            Seg::Key("spec"),
            Seg::Key("containers"),
            Seg::Index(0),
            Seg::Key("command"),
        ];
        let out = replace_item(m, 0, &path, 1, &json!("--profiling=false")).unwrap();
        assert!(out.contains("    - --profiling=false   # debug\n"), "{out}");
        let out = remove_item(&out, 0, &path, 2).unwrap();
        assert!(!out.contains("token-auth-file"));
        let out = append(
            &out,
            0,
            &path,
            &json!("--audit-log-path=/var/log/apiserver/audit.log"),
        )
        .unwrap();
        assert_eq!(
            out,
            "spec:\n  containers:\n  - name: kube-apiserver\n    command:\n    - kube-apiserver\n    - --profiling=false   # debug\n    - --audit-log-path=/var/log/apiserver/audit.log\n    image: k8s\n"
        );
        let flow = "cap_add: [NET_ADMIN, SYS_TIME]\n";
        assert_eq!(
            append(flow, 0, &[Seg::Key("cap_add")], &json!("CHOWN")).unwrap(),
            "cap_add: [NET_ADMIN, SYS_TIME, CHOWN]\n"
        );
        assert_eq!(
            remove_item(flow, 0, &[Seg::Key("cap_add")], 0).unwrap(),
            "cap_add: [SYS_TIME]\n"
        );
        // A missing list is created.
        let out = append("a: 1\n", 0, &[Seg::Key("tmpfs")], &json!("/tmp")).unwrap();
        assert_eq!(out, "a: 1\ntmpfs:\n  - /tmp\n");
    }

    #[test]
    fn collection_replaces_scalar_and_back() {
        let text = "web:\n  security_opt: none\n  user: root\n";
        let out = set(
            text,
            0,
            &[Seg::Key("web")],
            "security_opt",
            &json!(["no-new-privileges:true"]),
        )
        .unwrap();
        assert_eq!(
            out,
            "web:\n  security_opt:\n    - no-new-privileges:true\n  user: root\n"
        );
        let out = set(&out, 0, &[Seg::Key("web")], "security_opt", &json!("x")).unwrap();
        assert_eq!(out, "web:\n  security_opt: x\n  user: root\n");
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        assert_eq!(scalar(&json!("1000:1000")), "\"1000:1000\"");
        assert_eq!(scalar(&json!("on-failure:5")), "on-failure:5");
        assert_eq!(scalar(&json!("yes")), "\"yes\"");
        assert_eq!(scalar(&json!("a: b")), "\"a: b\"");
        assert_eq!(scalar(&json!("512m")), "512m");
        assert_eq!(scalar(&json!("/tmp")), "/tmp");
    }

    #[test]
    fn indentless_lists_and_four_space_files_keep_their_style() {
        let text = "services:\n    app:\n        cap_drop:\n        - NET_RAW\n";
        let out = set(
            text,
            0,
            &[Seg::Key("services"), Seg::Key("app")],
            "tmpfs",
            &json!(["/tmp"]),
        )
        .unwrap();
        assert_eq!(out, "services:\n    app:\n        cap_drop:\n        - NET_RAW\n        tmpfs:\n        - /tmp\n");
    }

    #[test]
    fn errors_are_clear() {
        let e = set("a: [1\n", 0, &[], "b", &json!(1)).unwrap_err();
        assert!(e.0.contains("line"), "{e}");
        let e = set("a: 1\n", 0, &[Seg::Key("a")], "b", &json!(1)).unwrap_err();
        assert!(e.0.contains("not a mapping"), "{e}");
    }

    #[test]
    fn merged_entries_are_overridden_in_place_not_in_the_anchor() {
        // Editing the anchor would change every service that merges it.
        let text = "x-base: &base\n  image: app:1\n  privileged: true\nservices:\n  web:\n    <<: *base\n    ports: [\"80:80\"]\n";
        let out = set(
            text,
            0,
            &[Seg::Key("services"), Seg::Key("web")],
            "privileged",
            &json!(false),
        )
        .unwrap();
        assert_eq!(
            out,
            text.replace(
                "    ports: [\"80:80\"]\n",
                "    ports: [\"80:80\"]\n    privileged: false\n"
            )
        );
        let only_merge = "x-base: &base\n  image: app:1\nservices:\n  web:\n    <<: *base\n";
        let e = set(
            only_merge,
            0,
            &[Seg::Key("services"), Seg::Key("web")],
            "read_only",
            &json!(true),
        )
        .unwrap_err();
        assert!(e.0.contains("line 5") && e.0.contains("<<"), "{e}");
    }

    #[test]
    fn a_file_without_final_newline_gets_the_new_line_after_its_last() {
        assert_eq!(set("a: 1", 0, &[], "b", &json!(2)).unwrap(), "a: 1\nb: 2\n");
        assert_eq!(
            append("l:\n  - x", 0, &[Seg::Key("l")], &json!("z")).unwrap(),
            "l:\n  - x\n  - z\n"
        );
    }

    #[test]
    fn set_in_edits_below_a_node_the_caller_holds() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app   # main\n      image: app:1\n    - name: side\n      image: side:1\n";
        let docs = bulkhead_sources::yaml::parse(text).unwrap();
        let layout = Layout::of(text, &docs);
        let app = node_at(
            &docs,
            0,
            &[Seg::Key("spec"), Seg::Key("containers"), Seg::Index(0)],
        )
        .unwrap();
        let s = set_in(
            text,
            &layout,
            app,
            &[Seg::Key("securityContext")],
            "allowPrivilegeEscalation",
            &json!(false),
        )
        .unwrap();
        assert_eq!(
            s.range,
            (text.find("    - name: side").unwrap()..text.find("    - name: side").unwrap())
        );
        assert_eq!(
            s.apply(text),
            text.replace(
                "      image: app:1\n",
                "      image: app:1\n      securityContext:\n        allowPrivilegeEscalation: false\n"
            )
        );
    }

    #[test]
    fn aliased_values_are_not_edited_where_the_anchor_is() {
        let text = "x-sc: &sc\n  runAsNonRoot: true\nspec:\n  securityContext: *sc\n  flag: &on true\n  other: *on\n";
        let e = set(
            text,
            0,
            &[Seg::Key("spec"), Seg::Key("securityContext")],
            "readOnlyRootFilesystem",
            &json!(true),
        )
        .unwrap_err();
        assert!(
            e.0.contains("securityContext at line 4") && e.0.contains("alias"),
            "{e}"
        );
        let e = set(text, 0, &[Seg::Key("spec")], "other", &json!(false)).unwrap_err();
        assert!(e.0.contains("other at line 6"), "{e}");
        // The anchor's own entry is an ordinary value.
        assert_eq!(
            set(text, 0, &[Seg::Key("spec")], "flag", &json!(false)).unwrap(),
            text.replace("flag: &on true", "flag: &on false")
        );
    }

    /// The document as JSON (YAML 1.2 core), to check that an edited file still reads as meant.
    fn read(text: &str) -> Value {
        let docs = bulkhead_sources::yaml::parse(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        docs[0].root.to_json(bulkhead_sources::yaml::Schema::Core)
    }

    #[test]
    fn a_literal_block_scalar_is_replaced_header_and_content() {
        let text = "a: |\n  one\n  two\nb: 1\n";
        assert_eq!(set(text, 0, &[], "a", &json!("z")).unwrap(), "a: z\nb: 1\n");
        // A comment on the header line stays, as it does for other scalars.
        let text = "a: |   # the script\n  one\nb: 1\n";
        assert_eq!(
            set(text, 0, &[], "a", &json!("z")).unwrap(),
            "a: z   # the script\nb: 1\n"
        );
        // A line inside the scalar that looks like a comment is content, and goes with it.
        let text = "a: |\n  one\n  # two\nb: 1\n";
        assert_eq!(set(text, 0, &[], "a", &json!("z")).unwrap(), "a: z\nb: 1\n");
        // An empty block scalar.
        let text = "a: |\nb: 1\n";
        assert_eq!(set(text, 0, &[], "a", &json!("z")).unwrap(), "a: z\nb: 1\n");
    }

    #[test]
    fn a_folded_strip_block_scalar_is_replaced() {
        let text = "a: >-\n  one\n  two\n\n# about b\nb: 1\n";
        let out = set(text, 0, &[], "a", &json!("z")).unwrap();
        assert_eq!(out, "a: z\n\n# about b\nb: 1\n");
        assert_eq!(read(&out), json!({"a": "z", "b": 1}));
    }

    #[test]
    fn a_keep_block_scalar_with_blank_lines_inside_is_replaced_whole() {
        let text = "a: |+\n  one\n\n\n  two\n   \n  three\n\nb: 1\n";
        let out = set(text, 0, &[], "a", &json!("z")).unwrap();
        // The blank line after the content stays where it was, like blank lines after any value.
        assert_eq!(out, "a: z\n\nb: 1\n");
        assert_eq!(read(&out), json!({"a": "z", "b": 1}));
    }

    #[test]
    fn a_block_scalar_before_a_sibling_or_a_parent_key() {
        let text = "spec:\n  script: |\n    echo one\n\n    echo two\n  next: 1\ntop: x\n";
        let spec = [Seg::Key("spec")];
        assert_eq!(
            set(text, 0, &spec, "script", &json!("true")).unwrap(),
            "spec:\n  script: \"true\"\n  next: 1\ntop: x\n"
        );
        let text = "top:\n  inner:\n    script: >\n      echo one\n      echo two\nnext: 2\n";
        let path = [Seg::Key("top"), Seg::Key("inner")];
        let out = set(text, 0, &path, "script", &json!("echo")).unwrap();
        assert_eq!(out, "top:\n  inner:\n    script: echo\nnext: 2\n");
        assert_eq!(
            read(&out),
            json!({"top": {"inner": {"script": "echo"}}, "next": 2})
        );
        // An indentation indicator gives the content's indentation (here 1 past the key's), so
        // a first line indented further does not decide it.
        let text = "m:\n  s: |1\n     deep\n   shallow\n  t: 1\n";
        let out = set(text, 0, &[Seg::Key("m")], "s", &json!("z")).unwrap();
        assert_eq!(out, "m:\n  s: z\n  t: 1\n");
    }

    #[test]
    fn a_block_scalar_at_the_end_without_a_final_newline() {
        assert_eq!(
            set("a: |\n  one", 0, &[], "a", &json!("z")).unwrap(),
            "a: z"
        );
        assert_eq!(
            set("x: 1\na: >-\n  one\n  two", 0, &[], "a", &json!(2)).unwrap(),
            "x: 1\na: 2"
        );
        assert_eq!(
            set("a: |\n  one", 0, &[], "a", &json!(["p"])).unwrap(),
            "a:\n  - p\n"
        );
    }

    #[test]
    fn a_block_scalar_replaced_by_a_collection() {
        let text = "a: |  # c\n  one\n  # two\nb: 1\n";
        assert_eq!(
            set(text, 0, &[], "a", &json!(["p", "q"])).unwrap(),
            "a:\n  - p\n  - q\nb: 1\n"
        );
        assert_eq!(
            set(text, 0, &[], "a", &json!({"k": "v"})).unwrap(),
            "a:\n  k: v\nb: 1\n"
        );
    }

    #[test]
    fn anchors_on_a_block_scalar_stay_and_tags_go() {
        let text = "a: &x |\n  one\nb: *x\n";
        let out = set(text, 0, &[], "a", &json!("z")).unwrap();
        assert_eq!(out, "a: &x z\nb: *x\n");
        assert_eq!(read(&out), json!({"a": "z", "b": "z"}));
        let text = "a: !!str &x >-\n  one\nb: *x\n";
        assert_eq!(
            set(text, 0, &[], "a", &json!(5)).unwrap(),
            "a: &x 5\nb: *x\n"
        );
        // The alias itself is not edited.
        let e = set(text, 0, &[], "b", &json!(5)).unwrap_err();
        assert!(e.0.contains("alias"), "{e}");
    }

    #[test]
    fn block_scalar_list_items_are_replaced_whole() {
        let text = "args:\n- |\n  one\n  two\n- x\n";
        let path = [Seg::Key("args")];
        assert_eq!(
            replace_item(text, 0, &path, 0, &json!("z")).unwrap(),
            "args:\n- z\n- x\n"
        );
        let text = "spec:\n  args:\n    - --a\n    - >-   # long flag\n      --b=one\n      two\n\n    - --c\n";
        let path = [Seg::Key("spec"), Seg::Key("args")];
        let out = replace_item(text, 0, &path, 1, &json!("--b=two")).unwrap();
        assert_eq!(
            out,
            "spec:\n  args:\n    - --a\n    - --b=two   # long flag\n\n    - --c\n"
        );
        // The last item, an anchored one, an empty one and one in a nested list.
        let text = "l:\n  - a\n  - &t |\n    one";
        assert_eq!(
            replace_item(text, 0, &[Seg::Key("l")], 1, &json!("b")).unwrap(),
            "l:\n  - a\n  - &t b"
        );
        let text = "l:\n- |\n\n- x\n";
        assert_eq!(
            replace_item(text, 0, &[Seg::Key("l")], 0, &json!("b")).unwrap(),
            "l:\n- b\n\n- x\n"
        );
        let text = "- - |\n    one\n  - y\n";
        assert_eq!(
            replace_item(text, 0, &[Seg::Index(0)], 0, &json!("z")).unwrap(),
            "- - z\n  - y\n"
        );
    }

    #[test]
    fn block_scalars_in_crlf_files_stay_crlf() {
        let text = "a: |  # c\r\n  one\r\n\r\n  two\r\nb: 1\r\n";
        assert_eq!(
            set(text, 0, &[], "a", &json!("z")).unwrap(),
            "a: z  # c\r\nb: 1\r\n"
        );
        assert_eq!(
            set(text, 0, &[], "a", &json!(["p"])).unwrap(),
            "a:\r\n  - p\r\nb: 1\r\n"
        );
        let text = "l:\r\n- >-\r\n  one\r\n- x\r\n";
        assert_eq!(
            replace_item(text, 0, &[Seg::Key("l")], 0, &json!("z")).unwrap(),
            "l:\r\n- z\r\n- x\r\n"
        );
    }

    #[test]
    fn a_block_scalar_after_an_edited_value_is_untouched() {
        let text = "a: 1   # n\nb: |\n  keep\n  this\nc:\n  - >-\n    and this\n";
        assert_eq!(
            set(text, 0, &[], "a", &json!(2)).unwrap(),
            text.replace("a: 1 ", "a: 2 ")
        );
        let out = set(text, 0, &[], "a", &json!(["p"])).unwrap();
        assert_eq!(out, text.replace("a: 1   # n\n", "a:\n  - p\n"));
        assert_eq!(
            read(&out),
            json!({"a": ["p"], "b": "keep\nthis\n", "c": ["and this"]})
        );
        assert_eq!(
            replace_item("l:\n- a\n- |\n  b\n", 0, &[Seg::Key("l")], 0, &json!("z")).unwrap(),
            "l:\n- z\n- |\n  b\n"
        );
    }

    #[test]
    fn a_new_key_after_a_block_scalar_ending_in_a_hash_line_goes_after_it() {
        // `# y` is the scalar's last content line, not a comment after it.
        let text = "s: |\n  x\n  # y\n";
        let out = set(text, 0, &[], "t", &json!(1)).unwrap();
        assert_eq!(out, "s: |\n  x\n  # y\nt: 1\n");
        assert_eq!(read(&out), json!({"s": "x\n# y\n", "t": 1}));
        // Only hash lines, no final newline, CRLF.
        assert_eq!(
            set("s: |\n  # a\n  # b", 0, &[], "t", &json!(1)).unwrap(),
            "s: |\n  # a\n  # b\nt: 1\n"
        );
        assert_eq!(
            set("s: >-\r\n  x\r\n  # y\r\n", 0, &[], "t", &json!(1)).unwrap(),
            "s: >-\r\n  x\r\n  # y\r\nt: 1\r\n"
        );
        // A real comment after the scalar (less indented than its content) stays after the new
        // key's line, as comments after other values do.
        let text = "s: |\n  x\n  # y\n# about the end\n";
        assert_eq!(
            set(text, 0, &[], "t", &json!(1)).unwrap(),
            "s: |\n  x\n  # y\nt: 1\n# about the end\n"
        );
    }

    #[test]
    fn a_new_key_after_a_mapping_with_a_block_scalar_inside_goes_after_the_scalar() {
        let text = "spec:\n  script: |\n    echo hi\n    # done\ntop: 1\n";
        let out = set(text, 0, &[Seg::Key("spec")], "next", &json!(2)).unwrap();
        assert_eq!(
            out,
            "spec:\n  script: |\n    echo hi\n    # done\n  next: 2\ntop: 1\n"
        );
        assert_eq!(
            read(&out),
            json!({"spec": {"script": "echo hi\n# done\n", "next": 2}, "top": 1})
        );
        // The new key after the whole `spec` block.
        let out = set(
            "spec:\n  script: |\n    echo hi\n    # done\n",
            0,
            &[],
            "top",
            &json!(1),
        )
        .unwrap();
        assert_eq!(out, "spec:\n  script: |\n    echo hi\n    # done\ntop: 1\n");
        // A list item holding a mapping with a block scalar.
        let text = "steps:\n  - run: |\n      make\n      # then test\n";
        let out = append(text, 0, &[Seg::Key("steps")], &json!("z")).unwrap();
        assert_eq!(out, format!("{text}  - z\n"));
        assert_eq!(
            read(&out),
            json!({"steps": [{"run": "make\n# then test\n"}, "z"]})
        );
    }

    #[test]
    fn append_after_a_block_scalar_item() {
        let path = [Seg::Key("l")];
        // A block scalar item before others.
        let text = "l:\n  - |\n    text\n  - b\n";
        assert_eq!(
            append(text, 0, &path, &json!("z")).unwrap(),
            "l:\n  - |\n    text\n  - b\n  - z\n"
        );
        // The last item a block scalar, ending in a hash line, with a sibling key after it.
        let text = "l:\n  - a\n  - >-\n    text\n    # more\nm: 1\n";
        let out = append(text, 0, &path, &json!("z")).unwrap();
        assert_eq!(
            out,
            "l:\n  - a\n  - >-\n    text\n    # more\n  - z\nm: 1\n"
        );
        assert_eq!(read(&out), json!({"l": ["a", "text # more", "z"], "m": 1}));
        // The only item, indentless, without a final newline.
        let text = "l:\n- |\n  text";
        assert_eq!(
            append(text, 0, &path, &json!("z")).unwrap(),
            "l:\n- |\n  text\n- z\n"
        );
        // Blank lines after the scalar stay after the new item, unless the scalar keeps them
        // (`|+`): then they are content, and the new item goes after them. CRLF stays CRLF.
        let text = "l:\r\n  - |\r\n    text\r\n\r\nm: 1\r\n";
        assert_eq!(
            append(text, 0, &path, &json!("z")).unwrap(),
            "l:\r\n  - |\r\n    text\r\n  - z\r\n\r\nm: 1\r\n"
        );
        let text = "l:\n  - |+\n    text\n\nm: 1\n";
        let out = append(text, 0, &path, &json!("z")).unwrap();
        assert_eq!(out, "l:\n  - |+\n    text\n\n  - z\nm: 1\n");
        assert_eq!(read(&out), json!({"l": ["text\n\n", "z"], "m": 1}));
        // The last item a list whose last item is a block scalar.
        let text = "l:\n- - |\n    one\n    # two\n";
        let out = append(text, 0, &path, &json!("z")).unwrap();
        assert_eq!(out, "l:\n- - |\n    one\n    # two\n- z\n");
        assert_eq!(read(&out), json!({"l": [["one\n# two\n"], "z"]}));
    }

    #[test]
    fn remove_a_block_scalar_item_or_the_item_before_one() {
        let path = [Seg::Key("l")];
        let text = "l:\n  - a\n  - |\n    text\n    # more\n  - b\n";
        assert_eq!(
            remove_item(text, 0, &path, 1).unwrap(),
            "l:\n  - a\n  - b\n"
        );
        let text = "l:\n  - a\n  - |\n    text\n    # more\nm: 1\n";
        assert_eq!(remove_item(text, 0, &path, 1).unwrap(), "l:\n  - a\nm: 1\n");
        // An item before a block scalar leaves the scalar whole.
        assert_eq!(
            remove_item(text, 0, &path, 0).unwrap(),
            "l:\n  - |\n    text\n    # more\nm: 1\n"
        );
        // A mapping item whose last entry is a block scalar goes with all its lines.
        let text = "l:\n- run: |\n    make\n    # x\n- b\n";
        assert_eq!(remove_item(text, 0, &path, 0).unwrap(), "l:\n- b\n");
        // CRLF.
        let text = "l:\r\n- >\r\n  text\r\n  # more\r\n- b\r\n";
        assert_eq!(remove_item(text, 0, &path, 0).unwrap(), "l:\r\n- b\r\n");
    }

    #[test]
    fn aliased_list_items_are_not_edited_where_the_anchor_is() {
        let path = [Seg::Key("l")];
        let text = "x: &a one\nl:\n  - p\n  - *a\n";
        let e = replace_item(text, 0, &path, 1, &json!("z")).unwrap_err();
        assert!(
            e.0.contains("l[1]") && e.0.contains("alias") && e.0.contains("*a"),
            "{e}"
        );
        // An alias of a block scalar, defined outside the list or as another item.
        let text = "x: &a |\n  one\nl:\n  - *a\n";
        let e = replace_item(text, 0, &path, 0, &json!("z")).unwrap_err();
        assert!(
            e.0.contains("l[0]") && e.0.contains("alias") && e.0.contains("*a"),
            "{e}"
        );
        let text = "l:\n  - &a |\n    one\n  - *a\n";
        let e = replace_item(text, 0, &path, 1, &json!("z")).unwrap_err();
        assert!(e.0.contains("l[1]") && e.0.contains("alias"), "{e}");
        let text = "l: [&a p, *a]\n";
        let e = replace_item(text, 0, &path, 1, &json!("z")).unwrap_err();
        assert!(e.0.contains("l[1]") && e.0.contains("*a"), "{e}");
        let text = "l:\n- &a p\n- q\n- *a\n";
        let e = replace_item(text, 0, &path, 2, &json!("z")).unwrap_err();
        assert!(e.0.contains("l[2]") && e.0.contains("*a"), "{e}");
        // An item after an alias is an ordinary item.
        assert_eq!(
            replace_item("x: &a 1\nl: [*a, q]\n", 0, &path, 1, &json!("z")).unwrap(),
            "x: &a 1\nl: [*a, z]\n"
        );
    }

    #[test]
    fn an_anchored_list_item_keeps_its_anchor() {
        let path = [Seg::Key("l")];
        let text = "l:\n  - &a p   # c\n  - *a\n";
        let out = replace_item(text, 0, &path, 0, &json!("z")).unwrap();
        assert_eq!(out, "l:\n  - &a z   # c\n  - *a\n");
        assert_eq!(read(&out), json!({"l": ["z", "z"]}));
        let text = "l: [&a p, *a]\n";
        assert_eq!(
            replace_item(text, 0, &path, 0, &json!("z")).unwrap(),
            "l: [&a z, *a]\n"
        );
    }

    #[test]
    fn a_list_reached_through_an_alias_or_a_merge_is_not_edited() {
        let text = "base: &b [p, q]\nl: *b\n";
        let e = replace_item(text, 0, &[Seg::Key("l")], 0, &json!("z")).unwrap_err();
        assert!(e.0.contains("l at line 2") && e.0.contains("alias"), "{e}");
        let text = "x: &m\n  args: [a]\ny:\n  <<: *m\n";
        let e =
            replace_item(text, 0, &[Seg::Key("y"), Seg::Key("args")], 0, &json!("z")).unwrap_err();
        assert!(e.0.contains("y.args") && e.0.contains("<<"), "{e}");
    }

    #[test]
    fn alias_items_are_removed_and_appended_after_where_they_are_written() {
        let path = [Seg::Key("l")];
        // Removing an alias item removes its own line, never the anchored item's.
        let text = "l:\n  - &a p\n  - q\n  - *a   # again\n  - r\n";
        let out = remove_item(text, 0, &path, 2).unwrap();
        assert_eq!(out, "l:\n  - &a p\n  - q\n  - r\n");
        let text = "l: [&a p, q, *a]\n";
        assert_eq!(remove_item(text, 0, &path, 2).unwrap(), "l: [&a p, q]\n");
        assert_eq!(remove_item(text, 0, &path, 1).unwrap(), "l: [&a p, *a]\n");
        // Two aliases of one anchor: each is found where it is written.
        let text = "x: &a |\n  one\n  # two\nl:\n- *a\n- *a\n- b\n";
        assert_eq!(
            remove_item(text, 0, &path, 1).unwrap(),
            "x: &a |\n  one\n  # two\nl:\n- *a\n- b\n"
        );
        // A new item goes after a last item that is an alias.
        let text = "l:\n  - &a p\n  - q\n  - *a\nm: 1\n";
        assert_eq!(
            append(text, 0, &path, &json!("z")).unwrap(),
            "l:\n  - &a p\n  - q\n  - *a\n  - z\nm: 1\n"
        );
        let text = "x: &a |\n  one\nl:\n- *a\n";
        assert_eq!(
            append(text, 0, &path, &json!("z")).unwrap(),
            "x: &a |\n  one\nl:\n- *a\n- z\n"
        );
    }

    #[test]
    fn items_after_a_block_scalar_item_are_edited_in_place() {
        let path = [Seg::Key("l")];
        let text = "l:\n- |\n  a\n\n- b # c\n";
        assert_eq!(
            replace_item(text, 0, &path, 1, &json!("z")).unwrap(),
            "l:\n- |\n  a\n\n- z # c\n"
        );
        let text = "l:\n  - &a >-\n    x\n    # y\n\n  - b\n";
        assert_eq!(
            replace_item(text, 0, &path, 1, &json!("z")).unwrap(),
            "l:\n  - &a >-\n    x\n    # y\n\n  - z\n"
        );
        assert_eq!(
            replace_item(text, 0, &path, 0, &json!("z")).unwrap(),
            "l:\n  - &a z\n\n  - b\n"
        );
    }

    /// Two services sharing one list: through an alias (`cap_add: *caps`) or a merge
    /// (`<<: *base`). An edit of service a must leave the anchor and service b as they are.
    fn a_cap_add() -> [Seg<'static>; 3] {
        [Seg::Key("services"), Seg::Key("a"), Seg::Key("cap_add")]
    }

    #[test]
    fn a_list_written_as_an_alias_is_not_appended_to_or_shrunk() {
        let flow = "x-caps: &caps [NET_ADMIN]\nservices:\n  a:\n    cap_add: *caps\n  b:\n    cap_add: *caps\n";
        let block = "x-caps: &caps\n  - NET_ADMIN   # net\nservices:\n  a:\n    cap_add: *caps # shared\n  b:\n    cap_add: *caps\n";
        let crlf = block.replace('\n', "\r\n");
        for (text, line) in [(flow, 4), (block, 5), (crlf.as_str(), 5)] {
            let e = append(text, 0, &a_cap_add(), &json!("SYS_TIME")).unwrap_err();
            let at = format!("services.a.cap_add at line {line}, column 14");
            assert!(
                e.0.contains(&at) && e.0.contains("alias (*caps)") && e.0.contains("&caps"),
                "{e}"
            );
            let e = remove_item(text, 0, &a_cap_add(), 0).unwrap_err();
            assert!(
                e.0.contains(&at) && e.0.contains("alias (*caps)") && e.0.contains("&caps"),
                "{e}"
            );
        }
        // The anchor's own list is an ordinary list: editing it is what was asked.
        assert_eq!(
            append(flow, 0, &[Seg::Key("x-caps")], &json!("SYS_TIME")).unwrap(),
            flow.replace("[NET_ADMIN]", "[NET_ADMIN, SYS_TIME]")
        );
    }

    #[test]
    fn a_merged_flow_list_gets_its_own_copy_in_the_mapping() {
        let base =
            "x-base: &base\n  cap_add: [NET_ADMIN, \"SYS_TIME\"]   # base caps\n  image: app:1\n";
        let text = format!(
            "{base}services:\n  a:\n    <<: *base\n    user: app   # a\n  b:\n    <<: *base\n"
        );
        let out = append(&text, 0, &a_cap_add(), &json!("CHOWN")).unwrap();
        assert_eq!(
            out,
            format!("{base}services:\n  a:\n    <<: *base\n    user: app   # a\n    cap_add: [NET_ADMIN, \"SYS_TIME\", CHOWN]\n  b:\n    <<: *base\n")
        );
        let v = read(&out);
        assert_eq!(
            v["services"]["a"]["cap_add"],
            json!(["NET_ADMIN", "SYS_TIME", "CHOWN"])
        );
        assert_eq!(
            v["services"]["b"]["cap_add"],
            json!(["NET_ADMIN", "SYS_TIME"])
        );
        let out = remove_item(&text, 0, &a_cap_add(), 0).unwrap();
        assert_eq!(
            out,
            format!("{base}services:\n  a:\n    <<: *base\n    user: app   # a\n    cap_add: [\"SYS_TIME\"]\n  b:\n    <<: *base\n")
        );
        // Removing the only item leaves an empty list of the mapping's own.
        let one = "x-base: &base {cap_add: [NET_ADMIN]}\nservices:\n  a:\n    <<: *base\n    image: a\n  b:\n    <<: *base\n";
        assert_eq!(
            remove_item(one, 0, &a_cap_add(), 0).unwrap(),
            one.replace("    image: a\n", "    image: a\n    cap_add: []\n")
        );
        // In a flow mapping the copy goes in flow style; an anchor on the merged list stays.
        let text = "x-base: &base\n  cap_add: &c [NET_ADMIN]\nservices:\n  a: {<<: *base, image: a}\n  b: {<<: *base}\nx: *c\n";
        let out = append(text, 0, &a_cap_add(), &json!("CHOWN")).unwrap();
        assert_eq!(
            out,
            text.replace("image: a}", "image: a, cap_add: [NET_ADMIN, CHOWN]}")
        );
        assert_eq!(read(&out)["x"], json!(["NET_ADMIN"]));
    }

    #[test]
    fn a_merged_block_list_gets_its_own_copy_in_the_mapping() {
        let base = "x-base: &base\n  cap_add:\n    - NET_ADMIN   # net\n    - &t 'SYS_TIME'\n    - !!str 123\n";
        let text = format!("{base}services:\n  a:\n    <<: *base\n    user: app\n  b:\n    <<: *base\n    cap_drop: [ALL]\nx: *t\n");
        let out = append(&text, 0, &a_cap_add(), &json!("CHOWN")).unwrap();
        // The copy leaves the anchor `&t` where it is (a second one would change what `*t`
        // means) and keeps the items' quoting and tags.
        assert_eq!(
            out,
            format!("{base}services:\n  a:\n    <<: *base\n    user: app\n    cap_add:\n      - NET_ADMIN\n      - 'SYS_TIME'\n      - !!str 123\n      - CHOWN\n  b:\n    <<: *base\n    cap_drop: [ALL]\nx: *t\n")
        );
        let v = read(&out);
        assert_eq!(
            v["services"]["a"]["cap_add"],
            json!(["NET_ADMIN", "SYS_TIME", "123", "CHOWN"])
        );
        assert_eq!(
            v["services"]["b"]["cap_add"],
            json!(["NET_ADMIN", "SYS_TIME", "123"])
        );
        assert_eq!(v["x"], json!("SYS_TIME"));
        let out = remove_item(&text, 0, &a_cap_add(), 1).unwrap();
        assert_eq!(
            out,
            format!("{base}services:\n  a:\n    <<: *base\n    user: app\n    cap_add:\n      - NET_ADMIN\n      - !!str 123\n  b:\n    <<: *base\n    cap_drop: [ALL]\nx: *t\n")
        );
        // Indentless lists stay indentless; CRLF files stay CRLF.
        let text = "x-base: &base\n  l:\n  - p\nm:\n  <<: *base\n  k: 1\n".replace('\n', "\r\n");
        assert_eq!(
            append(&text, 0, &[Seg::Key("m"), Seg::Key("l")], &json!("q")).unwrap(),
            format!("{text}  l:\r\n  - p\r\n  - q\r\n")
        );
        assert_eq!(
            remove_item(&text, 0, &[Seg::Key("m"), Seg::Key("l")], 0).unwrap(),
            format!("{text}  l: []\r\n")
        );
    }

    #[test]
    fn a_merged_list_that_cannot_be_copied_or_placed_is_refused_naming_the_merge() {
        // The mapping has nothing of its own to place the copy after.
        let text = "x-base: &base\n  cap_add: [NET_ADMIN]\nservices:\n  a:\n    <<: *base\n";
        let e = append(text, 0, &a_cap_add(), &json!("CHOWN")).unwrap_err();
        assert!(e.0.contains("<<") && e.0.contains("cap_add"), "{e}");
        let e = remove_item(text, 0, &a_cap_add(), 0).unwrap_err();
        assert!(e.0.contains("<<") && e.0.contains("cap_add"), "{e}");
        // An item of the merged list that is an alias or a collection is not copied.
        let text = "v: &v x\nx-base: &base\n  cap_add: [NET_ADMIN, *v]\nservices:\n  a:\n    <<: *base\n    k: 1\n";
        let e = append(text, 0, &a_cap_add(), &json!("CHOWN")).unwrap_err();
        assert!(
            e.0.contains("services.a.cap_add") && e.0.contains("<<"),
            "{e}"
        );
        // Removing that alias item needs no copy of it.
        assert_eq!(
            remove_item(text, 0, &a_cap_add(), 1).unwrap(),
            format!("{text}    cap_add: [NET_ADMIN]\n")
        );
        // A list below a mapping reached through a merge.
        let text = "x: &m\n  sub:\n    l: [a]\ny:\n  <<: *m\n  k: 1\n";
        let path = [Seg::Key("y"), Seg::Key("sub"), Seg::Key("l")];
        let e = append(text, 0, &path, &json!("z")).unwrap_err();
        assert!(e.0.contains("y.sub") && e.0.contains("<<"), "{e}");
        let e = remove_item(text, 0, &path, 0).unwrap_err();
        assert!(e.0.contains("y.sub") && e.0.contains("<<"), "{e}");
    }
}
