//! A span-aware YAML editor for compose files, Kubernetes manifests, kubelet configs and static
//! pod manifests: set a key (creating missing mappings), append to or change a list item, remove
//! a list item. The structure comes from `bulkhead_sources::yaml` (byte spans for every node); an
//! edit rewrites only the lines or bytes of what it changes, so comments, key order, quoting,
//! blank lines and indentation elsewhere stay exactly as written.
//!
//! New lines are indented like their siblings; nested blocks use the file's own indentation step
//! ([`Layout`]), and every new line ends the way the file's lines do ([`super::line_break`]).
//! Flow collections (`[a, b]`, `{a: 1}`) are edited in place in flow style.
//!
//! What several places share through an anchor is never changed for all of them by an edit of
//! one. Entries a mapping only inherits through a merge key (`<<: *base`) are not edited where
//! the anchor defines them: the mapping gets its own entry (a key written in a mapping overrides
//! the merged one); for a list it appends to or removes from, its own copy of the list; for a
//! key set below a merged mapping, its own copy of that whole mapping with the key added, so the
//! merged entries are kept. A copy holds the merged entries as written (anchors left out), and
//! an entry that cannot be copied on one line makes the edit a refusal naming the merge. A value
//! written as an alias (`key: *name`), or anything below one, is refused. So is an edit of an
//! anchored value itself (`&name`) that an alias or a merge elsewhere in the document repeats:
//! replacing it, appending to it, removing or replacing its items, or removing an item holding
//! such an anchor. An anchor nothing repeats is an ordinary value and keeps its `&name`.
//!
//! Each operation exists as a [`Splice`] (`*_splice`, [`set_in`]) and as the edited text. The
//! scanner's fixes and harden's compose, kubelet and manifest fixers both use it.
//!
//! An entry added to or changed in an anchored mapping (rather than the anchored value being
//! replaced whole) is an edit like any other, and every place that merges or repeats the
//! mapping reads it too; the same goes for any edit below a mapping or list carrying an anchor.
//! [`anchor_users`] lists those places, for a caller to say what else its edit changes.
//!
//! The parser resolves aliases without saying where they are written, so anchors (`&name`) and
//! aliases (`*name`) are read from the text, but only where YAML puts node properties: the
//! text of every scalar the parser found is passed over, as are comments and tags. A `&name`
//! inside a quoted or plain value (a URL's query string) neither defines an anchor again nor
//! hides the aliases after it.

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

/// The name of the anchor (`&name`) `n` is written with, if any.
fn anchor_name<'t>(text: &'t str, n: &Node) -> Option<&'t str> {
    anchor_at(text, n).map(|(_, name)| name)
}

/// The first alias `*name` written as a node in `from..to`, which starts outside any scalar
/// (just after an item of a list, or at the list's start).
fn alias_text(text: &str, from: usize, to: usize, name: &str) -> Option<std::ops::Range<usize>> {
    Props::new(text, &[], from..to)
        .find(|p| p.alias && p.name == name)
        .map(|p| p.at..p.end())
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
    let anchor = match anchor_before(&props_around(text, at), at, name) {
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

/// The last anchor `&name` among `props` written before `to` (the one an alias at `to`
/// repeats).
fn anchor_before(props: &[Prop], to: usize, name: &str) -> Option<usize> {
    props
        .iter()
        .rev()
        .find(|p| !p.alias && p.at < to && p.name == name)
        .map(|p| p.at)
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

/// The anchor (`&name`) of `n` itself: where it is written and its name.
///
/// It is among the properties the span of `n` starts with. A block collection whose first
/// child starts where it does (an indentless list, `key:\n- &a x`, or a mapping whose first key
/// is anchored, `&k a: 1`) has a span starting at that child's properties: those are the
/// child's, not the collection's.
fn anchor_at<'t>(text: &'t str, n: &Node) -> Option<(usize, &'t str)> {
    let start = n.span.start.offset;
    let first_child = match &n.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .filter(|(k, _)| within(k, n))
            .map(|(k, _)| k.span.start.offset)
            .min(),
        // An item written before the list is an alias: its `*name` is inside the list, after
        // the list's own properties.
        NodeKind::Seq(items) => items
            .first()
            .map(|i| i.span.start.offset)
            .filter(|&i| i >= start),
        NodeKind::Scalar(_) => None,
    };
    if first_child.is_some_and(|c| c <= start) {
        return None;
    }
    node_props(text, n).0
}

/// The properties (`&anchor`, `!tag`) the span of `n` starts with: its anchor, if any, and
/// where what follows them starts (for a scalar, its text). Comments and line breaks may
/// separate properties from each other and from the node.
fn node_props<'t>(text: &'t str, n: &Node) -> (Option<(usize, &'t str)>, usize) {
    let mut at = n.span.start.offset.min(text.len());
    if block_scalar_from_content(text, n) {
        return (None, at);
    }
    let b = text.as_bytes();
    let mut anchor = None;
    while let Some(&c @ (b'&' | b'!')) = b.get(at) {
        let end = if c == b'!' {
            tag_end(text, at)
        } else {
            name_end(text, at + 1)
        };
        if c == b'&' && end > at + 1 && anchor.is_none() {
            anchor = Some((at, &text[at + 1..end]));
        }
        at = end.max(at + 1);
        // The separation before the next property or the node: blanks, line breaks and
        // comments (a `#` after a blank).
        loop {
            match b.get(at) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => at += 1,
                Some(b'#') if b[at - 1].is_ascii_whitespace() => at = line_end(text, at),
                _ => break,
            }
        }
    }
    (anchor, at)
}

/// Does the span of the block scalar `n` start at its first content line? The parser starts it
/// there when the scalar has no properties; with properties, at the first of them. Text that
/// merely looks like a property (`- >` then `&d z`) is content then. The content starts a line
/// below the header (`|`, `>-`, `|2+` ..., maybe followed by a comment), with only blank lines
/// between.
fn block_scalar_from_content(text: &str, n: &Node) -> bool {
    if !is_block_scalar(n) {
        return false;
    }
    let start = n.span.start.offset.min(text.len());
    let text_start = text_start(text);
    let first = line_start(text, start);
    if !text[first..start].trim().is_empty() || first <= text_start {
        return false;
    }
    // The last line above that is not blank.
    let mut end = first - 1;
    let line = loop {
        let from = line_start(text, end);
        let line = text[from..end].trim_end_matches('\r');
        if !line.trim().is_empty() {
            break line;
        }
        if from <= text_start {
            return false;
        }
        end = from - 1;
    };
    ends_in_block_header(line)
}

/// Where the text starts: after a byte order mark, if there is one.
fn text_start(text: &str) -> usize {
    if text.starts_with(super::BOM) {
        super::BOM.len()
    } else {
        0
    }
}

/// Does `line` end in a block scalar header: an indicator (`|`, `>`) after a blank or at the
/// start of the line, then chomping and indentation indicators, and at most a comment?
fn ends_in_block_header(line: &str) -> bool {
    let b = line.as_bytes();
    for (j, &c) in b.iter().enumerate() {
        let after_blank = j == 0 || b[j - 1] == b' ' || b[j - 1] == b'\t';
        if c == b'#' && after_blank {
            // A comment: no header after it.
            return false;
        }
        if !(matches!(c, b'|' | b'>') && after_blank) {
            continue;
        }
        let rest = line[j + 1..]
            .trim_start_matches(['-', '+', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
        let tail = rest.trim_start_matches([' ', '\t']);
        if tail.is_empty() || (tail.starts_with('#') && tail.len() < rest.len()) {
            return true;
        }
    }
    false
}

/// Where the name of an anchor or alias that starts at `from` (just after `&` or `*`) ends: at
/// a blank, a line break or a flow indicator (`,[]{}`), as the parser reads it. A colon is part
/// of the name: `*k: 1` names the anchor `k:`.
fn name_end(text: &str, from: usize) -> usize {
    text.get(from..)
        .and_then(|t| t.find([' ', '\t', '\r', '\n', ',', '[', ']', '{', '}']))
        .map_or(text.len(), |i| from + i)
}

/// Where the tag that starts at `at` (`!`, `!!str`, `!e!x`, `!<tag:x>`) ends.
fn tag_end(text: &str, at: usize) -> usize {
    if text[at..].starts_with("!<") {
        return text[at..].find('>').map_or(text.len(), |i| at + i + 1);
    }
    name_end(text, at + 1)
}

/// An anchor (`&name`) or an alias (`*name`) written as a node's property, where YAML allows
/// one: at the start of a node, never inside a scalar, a tag or a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Prop<'t> {
    /// Where the `&` or `*` is.
    at: usize,
    /// The name, without the `&` or `*`.
    name: &'t str,
    /// An alias, rather than an anchor.
    alias: bool,
}

impl Prop<'_> {
    /// Just after the name.
    fn end(&self) -> usize {
        self.at + 1 + self.name.len()
    }
}

/// Where the text of the scalars of `root` is written (their properties left out), sorted and
/// merged: nothing in there is a property. Aliases and merged entries repeat nodes written
/// elsewhere in the document, so their scalars are among those ranges already; a collection
/// met again is not walked again.
fn scalar_texts(text: &str, root: &Node) -> Vec<std::ops::Range<usize>> {
    fn walk(
        text: &str,
        n: &Node,
        seen: &mut std::collections::HashSet<(usize, usize, bool)>,
        out: &mut Vec<std::ops::Range<usize>>,
    ) {
        let (start, end) = (n.span.start.offset, n.span.end.offset.min(text.len()));
        match &n.kind {
            NodeKind::Scalar(_) => {
                let from = node_props(text, n).1;
                if from < end {
                    out.push(from..end);
                }
            }
            NodeKind::Seq(items) => {
                if seen.insert((start, end, false)) {
                    for item in items {
                        walk(text, item, seen, out);
                    }
                }
            }
            NodeKind::Map(entries) => {
                if seen.insert((start, end, true)) {
                    for (k, v) in entries {
                        walk(text, k, seen, out);
                        walk(text, v, seen, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(text, root, &mut std::collections::HashSet::new(), &mut out);
    out.sort_by_key(|r| r.start);
    let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(out.len());
    for r in out {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    merged
}

/// The anchors and aliases written as properties in a stretch of text that starts outside any
/// scalar, comment or tag, in the order they are written.
///
/// What is not a property is passed over: the scalars the parser found (`texts`, from
/// [`scalar_texts`]), comments, tags, directives (`%TAG`) and document markers. A quoted or
/// plain scalar that is not among `texts` (an entry a merge overrides, or text read without
/// the parsed document) is passed over as it is written; such a plain scalar ends with its
/// line.
struct Props<'t, 'r> {
    text: &'t str,
    texts: &'r [std::ops::Range<usize>],
    /// The first of `texts` that does not end before `at`.
    next_text: usize,
    at: usize,
    end: usize,
    /// How many flow collections (`[`, `{`) are open.
    flow: usize,
}

impl<'t, 'r> Props<'t, 'r> {
    fn new(
        text: &'t str,
        texts: &'r [std::ops::Range<usize>],
        range: std::ops::Range<usize>,
    ) -> Self {
        let end = range.end.min(text.len());
        let at = range.start.max(text_start(text)).min(end);
        Props {
            text,
            texts,
            next_text: 0,
            at,
            end,
            flow: 0,
        }
    }

    /// Where the scalar text that `at` is in ends, if it is in one of `texts`.
    fn in_text(&mut self, at: usize) -> Option<usize> {
        while self.texts.get(self.next_text).is_some_and(|r| r.end <= at) {
            self.next_text += 1;
        }
        self.texts
            .get(self.next_text)
            .filter(|r| r.start <= at)
            .map(|r| r.end)
    }

    /// Where a quoted scalar that opens at `at` (`"` or `'`) closes, just after its quote.
    fn quoted_end(&self, at: usize) -> usize {
        let b = self.text.as_bytes();
        let q = b[at];
        let mut i = at + 1;
        while i < b.len() {
            match b[i] {
                b'\\' if q == b'"' => i += 2,
                c if c == q => {
                    if q == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        i += 2;
                    } else {
                        return i + 1;
                    }
                }
                _ => i += 1,
            }
        }
        b.len()
    }

    /// Where a plain scalar that starts at `at` ends on its line: before `: `, ` #`, the line
    /// break, the next known scalar text and, in a flow collection, a flow indicator.
    fn plain_end(&mut self, at: usize) -> usize {
        let b = self.text.as_bytes();
        let next_text = self
            .texts
            .get(self.next_text)
            .map_or(b.len(), |r| r.start.max(at + 1));
        let flow_indicator = |c: u8| matches!(c, b',' | b'[' | b']' | b'{' | b'}');
        let mut i = at + 1;
        while i < b.len().min(next_text) {
            let c = b[i];
            let next = b.get(i + 1).copied();
            let ends = match c {
                b'\r' | b'\n' => true,
                b':' => {
                    next.is_none_or(|n| n.is_ascii_whitespace())
                        || (self.flow > 0 && next.is_some_and(flow_indicator))
                }
                b' ' | b'\t' => next == Some(b'#'),
                _ => self.flow > 0 && flow_indicator(c),
            };
            if ends {
                break;
            }
            i += 1;
        }
        i
    }
}

impl<'t> Iterator for Props<'t, '_> {
    type Item = Prop<'t>;

    fn next(&mut self) -> Option<Prop<'t>> {
        let text = self.text;
        let b = text.as_bytes();
        while self.at < self.end {
            let i = self.at;
            if let Some(end) = self.in_text(i) {
                self.at = end;
                continue;
            }
            let line_first = i == text_start(text) || b[i - 1] == b'\n';
            if line_first && self.flow == 0 {
                let rest = &text[i..];
                if rest.starts_with('%') {
                    self.at = line_end(text, i);
                    continue;
                }
                let marker = rest.starts_with("---") || rest.starts_with("...");
                if marker && b.get(i + 3).is_none_or(|c| c.is_ascii_whitespace()) {
                    self.at = i + 3;
                    continue;
                }
            }
            match b[i] {
                b'&' | b'*' => {
                    let end = name_end(text, i + 1);
                    self.at = end.max(i + 1);
                    if end > i + 1 {
                        return Some(Prop {
                            at: i,
                            name: &text[i + 1..end],
                            alias: b[i] == b'*',
                        });
                    }
                }
                // Outside scalars and tags, a `#` starts a comment.
                b'#' => self.at = line_end(text, i),
                b'!' => self.at = tag_end(text, i).max(i + 1),
                b'"' | b'\'' => self.at = self.quoted_end(i),
                b'[' | b'{' => {
                    self.flow += 1;
                    self.at += 1;
                }
                b']' | b'}' => {
                    self.flow = self.flow.saturating_sub(1);
                    self.at += 1;
                }
                // A block scalar header: the indicator, then chomping and indentation.
                b'|' | b'>' => {
                    self.at += 1;
                    while b
                        .get(self.at)
                        .is_some_and(|c| *c == b'-' || *c == b'+' || c.is_ascii_digit())
                    {
                        self.at += 1;
                    }
                }
                b' ' | b'\t' | b'\r' | b'\n' | b',' | b'-' | b'?' | b':' => self.at += 1,
                _ => self.at = self.plain_end(i),
            }
        }
        None
    }
}

/// Where document `d` of `docs` is written: from its start (the text's start for the first
/// one) to where the next one starts. Directives and comments before a document's `---` are
/// in the one before it.
fn doc_range(text: &str, docs: &[Document], d: usize) -> std::ops::Range<usize> {
    let start = if d == 0 {
        0
    } else {
        docs.get(d).map_or(text.len(), |d| d.span.start.offset)
    };
    let end = docs.get(d + 1).map_or(text.len(), |d| d.span.start.offset);
    start.min(end)..end
}

/// The anchors and aliases written as properties in document `d` of `docs` (parsed from
/// `text`), in the order they are written.
fn doc_props<'t>(text: &'t str, docs: &[Document], d: usize) -> Vec<Prop<'t>> {
    let Some(doc) = docs.get(d) else {
        return Vec::new();
    };
    let texts = scalar_texts(text, &doc.root);
    Props::new(text, &texts, doc_range(text, docs, d)).collect()
}

/// [`doc_props`] of the document of `text` that holds `at`; none when `text` does not parse.
fn props_around(text: &str, at: usize) -> Vec<Prop<'_>> {
    let Ok(docs) = parse(text) else {
        return Vec::new();
    };
    let d = docs
        .iter()
        .rposition(|d| d.span.start.offset <= at)
        .unwrap_or(0);
    doc_props(text, &docs, d)
}

/// The anchors written on `n` and on the nodes written inside it (not those of what it only
/// repeats through an alias or a merge), in the order they are written.
fn anchors_in<'t>(text: &'t str, n: &Node, out: &mut Vec<(usize, &'t str)>) {
    out.extend(anchor_at(text, n));
    match &n.kind {
        NodeKind::Map(entries) => {
            for (k, v) in entries.iter().filter(|(k, _)| within(k, n)) {
                out.extend(anchor_at(text, k));
                if !is_alias(k, v) {
                    anchors_in(text, v, out);
                }
            }
        }
        NodeKind::Seq(items) => {
            for (item, w) in items.iter().zip(items_written(text, n)) {
                if w.alias.is_none() {
                    anchors_in(text, item, out);
                }
            }
        }
        NodeKind::Scalar(_) => {}
    }
}

/// One place that repeats an anchor: an alias (`key: *name`, `- *name`) or a merge
/// (`<<: *name`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct AnchorUse {
    /// The path of the value that is the alias, or of the mapping that merges the anchor.
    label: String,
    /// The same path, step by step.
    path: Vec<SegBuf>,
    /// Where the `*name` text is.
    at: usize,
    line: usize,
    merge: bool,
}

/// Is the alias at `at` (one of) the value of a merge key (`<<: *a`, `<<: [*a, *b]`, or a block
/// list of aliases below `<<:`)?
fn merge_alias(text: &str, at: usize) -> bool {
    let b = text.as_bytes();
    let mut i = at;
    loop {
        while i > 0 && b" \t\r\n".contains(&b[i - 1]) {
            i -= 1;
        }
        match i.checked_sub(1).map(|j| b[j]) {
            None => return false,
            Some(b'[' | b',' | b'-') => i -= 1,
            Some(b':') => {
                return text[..i - 1].trim_end_matches([' ', '\t']).ends_with("<<");
            }
            Some(_) => {
                // An earlier alias of the same merge list.
                let word = text[..i]
                    .rfind([' ', '\t', '\r', '\n', '[', ','])
                    .map_or(0, |j| j + 1);
                if !text[word..i].starts_with('*') {
                    return false;
                }
                i = word;
            }
        }
    }
}

/// Where the value `v` of the entry keyed `k` is written, block scalar lines included.
fn value_extent(text: &str, k: &Node, v: &Node) -> std::ops::Range<usize> {
    let r = v.span.range();
    match is_block_scalar(v)
        .then(|| entry_block_scalar(text, k))
        .flatten()
    {
        Some(bs) => r.start.min(bs.start)..r.end.max(bs.end),
        None => r,
    }
}

/// Where the sequence item `n` (not an alias) is written, block scalar lines included.
fn item_extent(text: &str, n: &Node) -> std::ops::Range<usize> {
    let r = n.span.range();
    match is_block_scalar(n)
        .then(|| item_block_scalar(text, n))
        .flatten()
    {
        Some(bs) => r.start.min(bs.start)..r.end.max(bs.end),
        None => r,
    }
}

/// The key of `map` that the alias at `at`, of the anchor written at `anchor`, is when it is
/// written as a key (`{*name : v}`, or `*name : v` in a block): the anchored scalar's value.
fn alias_key<'n>(text: &str, map: &'n Node, at: usize, anchor: usize) -> Option<&'n str> {
    let end = name_end(text, at + 1);
    if !text[end..].trim_start_matches([' ', '\t']).starts_with(':') {
        return None;
    }
    // The parser gives the key the anchored node's span.
    map.as_map()?
        .iter()
        .find(|(k, _)| !within(k, map) && k.span.range().contains(&anchor))
        .and_then(|(k, _)| k.as_str())
}

/// What the alias at `at` (of the anchor written at `anchor`) is in the document `root`: the
/// alias a value or a key is written as, a merge of a mapping, or `None` when it is text inside
/// a scalar. Text that cannot be placed is taken for a use of the anchor (refusing an edit is
/// the safe side).
fn anchor_use_at<'n>(text: &str, root: &'n Node, at: usize, anchor: usize) -> Option<AnchorUse> {
    let line = line_col(text, at).0;
    let mut path: Vec<Seg<'n>> = Vec::new();
    let mut n = root;
    let found = |path: &[Seg], merge: bool| AnchorUse {
        label: path_label(path),
        path: path.iter().map(SegBuf::from).collect(),
        at,
        line,
        merge,
    };
    loop {
        match &n.kind {
            NodeKind::Scalar(_) => return None,
            NodeKind::Map(entries) => {
                // Not inside an entry written here: a key of this mapping written as the
                // alias, or the value of a merge key or of an alias key.
                let here = |mut path: Vec<Seg<'n>>| match alias_key(text, n, at, anchor) {
                    Some(key) => {
                        path.push(Seg::Key(key));
                        found(&path, false)
                    }
                    None => found(&path, merge_alias(text, at)),
                };
                let mut own: Vec<&(Node, Node)> =
                    entries.iter().filter(|(k, _)| within(k, n)).collect();
                own.sort_by_key(|(k, _)| k.span.start.offset);
                let Some((k, v)) = own
                    .iter()
                    .rev()
                    .find(|(k, _)| k.span.start.offset <= at)
                    .map(|e| (&e.0, &e.1))
                else {
                    return Some(here(path));
                };
                let key = k.as_str().unwrap_or("?");
                if k.span.range().contains(&at) {
                    path.push(Seg::Key(key));
                    return Some(found(&path, false));
                }
                if is_alias(k, v) {
                    if alias_after_key(text, k).is_some_and(|(a, _)| a == at) {
                        path.push(Seg::Key(key));
                        return Some(found(&path, false));
                    }
                    return Some(here(path));
                }
                if !value_extent(text, k, v).contains(&at) {
                    return Some(here(path));
                }
                if v.as_scalar().is_some() {
                    return None;
                }
                path.push(Seg::Key(key));
                n = v;
            }
            NodeKind::Seq(items) => {
                let written = items_written(text, n);
                let mut next = None;
                for (i, (item, w)) in items.iter().zip(&written).enumerate() {
                    if w.alias.is_some() {
                        if w.range.as_ref().is_some_and(|r| r.start == at) {
                            path.push(Seg::Index(i));
                            return Some(found(&path, false));
                        }
                    } else if item_extent(text, item).contains(&at) {
                        next = Some((i, item));
                        break;
                    }
                }
                let Some((i, item)) = next else {
                    return Some(found(&path, false));
                };
                if item.as_scalar().is_some() {
                    return None;
                }
                path.push(Seg::Index(i));
                n = item;
            }
        }
    }
}

/// The places of document `root` that repeat the anchor `&name` written at `anchor`: its
/// aliases and merges after it, up to where the anchor is defined again, among the document's
/// properties `props` ([`doc_props`]). Those inside `skip` (what the edit replaces or removes
/// anyway) do not count.
fn anchor_uses(
    text: &str,
    root: &Node,
    props: &[Prop],
    anchor: usize,
    name: &str,
    skip: &std::ops::Range<usize>,
) -> Vec<AnchorUse> {
    let mut uses = Vec::new();
    for p in props.iter().filter(|p| p.at > anchor && p.name == name) {
        if !p.alias {
            break;
        }
        if !skip.contains(&p.at) {
            uses.extend(anchor_use_at(text, root, p.at, anchor));
        }
    }
    uses
}

/// One step of a path, owning its key: for results that outlive the parsed document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegBuf {
    Key(String),
    Index(usize),
}

impl SegBuf {
    pub fn as_seg(&self) -> Seg<'_> {
        match self {
            SegBuf::Key(k) => Seg::Key(k),
            SegBuf::Index(i) => Seg::Index(*i),
        }
    }
}

impl From<&Seg<'_>> for SegBuf {
    fn from(s: &Seg<'_>) -> Self {
        match *s {
            Seg::Key(k) => SegBuf::Key(k.to_string()),
            Seg::Index(i) => SegBuf::Index(i),
        }
    }
}

/// A place that repeats an anchor carried by a node or by a collection holding it, as
/// [`anchor_users`] finds it. Whatever is added to or changed in that node shows up there too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorUser {
    /// The anchor's name, without the `&`.
    pub anchor: String,
    /// 1-based line of the `&name`.
    pub anchor_line: usize,
    /// How many steps of the path asked about lead to the node carrying the anchor: all of them
    /// when the node itself carries it, fewer when a mapping or list above it does.
    pub carrier_depth: usize,
    /// For a merge, the path of the mapping that merges the anchor; for an alias, the path of the
    /// value (or key) written as the alias.
    pub path: Vec<SegBuf>,
    /// `path` written out: `services.worker`, `x-all`, `l[0]`.
    pub label: String,
    /// 1-based line of the `*name` text.
    pub line: usize,
    /// Repeated through a merge key (`<<`), rather than as an alias.
    pub merge: bool,
    /// The use as written: `<<: *name`, `<<: [*a, *name]` (every anchor that merge lists), or
    /// `*name`.
    pub written: String,
}

/// The aliases (`*a`, `*b`) a merge key (`<<`) lists when the alias at `at` is one of them:
/// its value (`<<: *a`), an item of its flow list (`<<: [*a, *b]`) or of its block list, with
/// comments allowed between the items. `None` when the alias at `at` is not merged.
fn merge_at(text: &str, at: usize) -> Option<Vec<&str>> {
    // Between a merge key and its aliases there is only punctuation, dashes, blanks, comments
    // and other aliases of the same merge, so the key is the last `<<` before the alias; its
    // aliases, read forward from there, reach the one at `at` if it is merged.
    let p = text[..at].rfind("<<")?;
    let rest = text[p + 2..]
        .trim_start_matches([' ', '\t'])
        .strip_prefix(':')?;
    let mut q = text.len() - rest.len();
    let mut names = Vec::new();
    let mut reached = false;
    loop {
        let r = &text[q..];
        let t = r.trim_start_matches([' ', '\t', '\r', '\n', '[', ',', '-']);
        q += r.len() - t.len();
        if t.starts_with('#') {
            q = line_end(text, q);
            continue;
        }
        let Some(alias) = t.strip_prefix('*') else {
            break;
        };
        let len = alias
            .find([' ', '\t', '\r', '\n', ',', '[', ']', '{', '}'])
            .unwrap_or(alias.len());
        reached |= q == at;
        names.push(&alias[..len]);
        q += 1 + len;
    }
    reached.then_some(names)
}

/// The places of document `doc` that repeat an anchor carried by the node at `path` or by any
/// mapping or list on the way to it (the document root included): each alias (`*name`) and
/// each merge (`<<: *name`, or a list of anchors to merge that names it), in the order they
/// are written, for one anchor after another from the root down. An edit of that node,
/// even one this editor makes (adding a key), changes what those places read as well; this
/// says where they are. Read-only.
///
/// The walk follows entries written in place: where the path runs through an alias or an entry
/// merged in from elsewhere, or reaches something that does not exist, only the nodes above
/// that step are looked at. Text that only looks like an alias (in a comment or inside a
/// scalar) is not a use, and an alias written after the anchor is defined again belongs to the
/// new anchor.
pub fn anchor_users(text: &str, doc: usize, path: &[Seg]) -> Result<Vec<AnchorUser>> {
    let docs = parse(text)?;
    let Some(d) = docs.get(doc) else {
        return Ok(Vec::new());
    };
    let mut chain = vec![&d.root];
    let mut n = &d.root;
    for seg in path {
        let next = match (seg, &n.kind) {
            (Seg::Key(k), NodeKind::Map(_)) => match n.entry(k) {
                Some((kn, v)) if within(kn, n) && !is_alias(kn, v) => Some(v),
                _ => None,
            },
            (Seg::Index(i), NodeKind::Seq(items)) => items.get(*i).filter(|_| {
                items_written(text, n)
                    .get(*i)
                    .is_some_and(|w| w.alias.is_none())
            }),
            _ => None,
        };
        let Some(next) = next else {
            break;
        };
        chain.push(next);
        n = next;
    }
    let mut users = Vec::new();
    let mut props = None;
    for (depth, node) in chain.into_iter().enumerate() {
        let Some((anchor, name)) = anchor_at(text, node) else {
            continue;
        };
        let props = props.get_or_insert_with(|| doc_props(text, &docs, doc));
        for u in anchor_uses(text, &d.root, props, anchor, name, &(0..0)) {
            // A merge whose block list has comments between its items is still a merge (the
            // use is placed at the merging mapping either way).
            let merged = merge_at(text, u.at);
            let written = match &merged {
                Some(names) if names.len() > 1 => format!(
                    "<<: [{}]",
                    names
                        .iter()
                        .map(|n| format!("*{n}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Some(_) => format!("<<: *{name}"),
                None if u.merge => format!("<<: *{name}"),
                None => format!("*{name}"),
            };
            users.push(AnchorUser {
                anchor: name.to_string(),
                anchor_line: line_col(text, anchor).0,
                carrier_depth: depth,
                written,
                path: u.path,
                label: u.label,
                line: u.line,
                merge: u.merge || merged.is_some(),
            });
        }
    }
    Ok(users)
}

/// Refuse an edit of `n` (at `label`) when an anchor among `anchors` (written on `n` or inside
/// it) is repeated elsewhere in its document through an alias or a merge: the edit would change
/// those places too, which nobody asked for. Uses inside `skip` go with the edit and do not
/// count. An anchor nothing repeats is an ordinary value.
fn refuse_shared_anchors(
    text: &str,
    docs: &[Document],
    label: &str,
    n: &Node,
    anchors: &[(usize, &str)],
    skip: std::ops::Range<usize>,
) -> Result<()> {
    if anchors.is_empty() {
        return Ok(());
    }
    if docs.is_empty() {
        return Ok(());
    }
    let at = n.span.start.offset;
    let d = docs
        .iter()
        .rposition(|d| d.span.start.offset <= at)
        .unwrap_or(0);
    let props = doc_props(text, docs, d);
    let own = anchor_at(text, n).map(|(a, _)| a);
    for &(anchor, name) in anchors {
        let uses = anchor_uses(text, &docs[d].root, &props, anchor, name, &skip);
        if uses.is_empty() {
            continue;
        }
        let what = if own == Some(anchor) {
            format!("{label} carries the anchor &{name}")
        } else {
            let line = line_col(text, anchor).0;
            format!("{label} holds the anchor &{name} (line {line})")
        };
        let via = |u: &AnchorUse| {
            if u.merge {
                format!("<<: *{name}")
            } else {
                format!("*{name}")
            }
        };
        let users = if let [u] = uses.as_slice() {
            format!("{} (line {}) also uses through {}", u.label, u.line, via(u))
        } else {
            let each: Vec<String> = uses
                .iter()
                .map(|u| format!("{} (line {}, through {})", u.label, u.line, via(u)))
                .collect();
            let (last, rest) = each.split_last().expect("several uses");
            format!("{} and {last} also use", rest.join(", "))
        };
        return err(format!(
            "{what}, which {users}; change it by hand, or give each its own value"
        ));
    }
    Ok(())
}

/// The merge key (`<<`) written in the mapping `map` that brings in its entry keyed `key`: the
/// merge as written (`<<: *base`, `<<: [*a, *b]`) and its line.
fn merge_of(text: &str, map: &Node, key: &Node) -> Option<(String, usize)> {
    let span = map.span.range();
    let children: Vec<std::ops::Range<usize>> = map
        .as_map()
        .unwrap_or_default()
        .iter()
        .filter(|(k, v)| within(k, map) && !is_alias(k, v))
        .map(|(k, v)| value_extent(text, k, v))
        .collect();
    let mut merges: Vec<(usize, Vec<(usize, &str)>)> = Vec::new();
    let mut at = span.start;
    while let Some(i) = text.get(at..span.end).and_then(|t| t.find("<<")) {
        let p = at + i;
        at = p + 2;
        let before = text[..p].trim_end_matches([' ', '\t']);
        let starts_key = before.is_empty() || before.ends_with(['\n', '{', ',', '-']);
        if !starts_key
            || children.iter().any(|r| r.contains(&p))
            || text[line_start(text, p)..p].contains('#')
        {
            continue;
        }
        let Some(rest) = text[p + 2..]
            .trim_start_matches([' ', '\t'])
            .strip_prefix(':')
        else {
            continue;
        };
        // The aliases it merges: one, a flow list of them or a block list of them.
        let mut q = text.len() - rest.len();
        let mut names = Vec::new();
        loop {
            let r = &text[q..];
            let t = r.trim_start_matches([' ', '\t', '\r', '\n', '[', ',', '-']);
            q += r.len() - t.len();
            let Some(name) = t.strip_prefix('*') else {
                break;
            };
            let len = name
                .find([' ', '\t', '\r', '\n', ',', '[', ']', '{', '}'])
                .unwrap_or(name.len());
            names.push((q, &name[..len]));
            q += 1 + len;
        }
        merges.push((p, names));
    }
    // Several merge keys: the one whose anchor comes last before the merged key's text.
    let key_at = key.span.start.offset;
    let props = if merges.len() > 1 {
        props_around(text, span.start)
    } else {
        Vec::new()
    };
    let (p, names) = merges.into_iter().max_by_key(|(_, names)| {
        names
            .iter()
            .filter_map(|&(a, n)| anchor_before(&props, a, n))
            .filter(|&o| o <= key_at)
            .max()
    })?;
    let written = match names.as_slice() {
        [] => "<<".to_string(),
        [(_, n)] => format!("<<: *{n}"),
        many => format!(
            "<<: [{}]",
            many.iter()
                .map(|(_, n)| format!("*{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    Some((written, line_col(text, p).0))
}

/// Does the flow collection written as `t` hold an anchor or an alias (outside quotes)?
fn has_properties_inside(t: &str) -> bool {
    let mut quote = None;
    let mut prev = ' ';
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some(q) if c == q => {
                if q == '\'' && chars.peek() == Some(&'\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if (c == '&' || c == '*') && " \t[{,:".contains(prev) => return true,
            None => {}
        }
        prev = c;
    }
    false
}

/// The one-line scalar `n` as written, for a copy: quoting and tags kept, its anchor left out.
/// `into_flow`: the copy goes into a flow collection from a block one, where a plain scalar may
/// not hold `,[]{}`.
fn copied_scalar(text: &str, n: &Node, into_flow: bool) -> std::result::Result<String, String> {
    if n.as_scalar().is_none() {
        return Err("is not a scalar".into());
    }
    if is_block_scalar(n) {
        return Err("is a block scalar".into());
    }
    let written = &text[n.span.range()];
    if written.contains(['\r', '\n']) {
        return Err("is written over several lines".into());
    }
    let t = without_anchor(written);
    let mut value = t.as_str();
    while value.starts_with('!') {
        value = value.find(' ').map_or("", |i| value[i..].trim_start());
    }
    if into_flow && !value.starts_with(['"', '\'']) && value.contains([',', '[', ']', '{', '}']) {
        return Err("would read differently in a flow mapping".into());
    }
    Ok(t)
}

/// The value `v` of the entry keyed `k`, as written, for a copy: a one-line scalar or a flow
/// collection on one line without anchors or aliases inside (its own anchor left out).
fn copied_value(
    text: &str,
    k: &Node,
    v: &Node,
    into_flow: bool,
) -> std::result::Result<String, String> {
    if is_alias(k, v) {
        return Err("is an alias".into());
    }
    match &v.kind {
        NodeKind::Scalar(_) => copied_scalar(text, v, into_flow),
        NodeKind::Map(_) | NodeKind::Seq(_) => {
            let what = if v.is_map() { "mapping" } else { "list" };
            if !is_flow(text, v) {
                return Err(format!("is a block {what}"));
            }
            let written = &text[v.span.range()];
            if written.contains(['\r', '\n']) {
                return Err(format!("is a {what} written over several lines"));
            }
            let t = without_anchor(written);
            if has_properties_inside(&t) {
                return Err(format!("is a {what} with anchors or aliases inside"));
            }
            Ok(t)
        }
    }
}

/// An entry `kt: v` of a mapping copy: in flow style, or as block lines at `indent`.
fn copy_entry(kt: &str, v: &Value, flow: bool, indent: usize, l: &Layout) -> String {
    if flow {
        return format!("{kt}: {}", scalar(v));
    }
    let pad = " ".repeat(indent);
    if is_collection(v) {
        let child = match v {
            Value::Array(_) if l.indentless => indent,
            _ => indent + l.unit,
        };
        format!("{pad}{kt}:\n{}", block(v, child, l))
    } else {
        format!("{pad}{kt}: {}\n", block_scalar(v))
    }
}

/// `value` under `key` under the mapping keys of `rest` (nested mappings).
fn nested(rest: &[Seg], key: &str, value: &Value) -> Value {
    let mut v = value.clone();
    for k in std::iter::once(key).chain(rest.iter().rev().filter_map(|s| match s {
        Seg::Key(k) => Some(*k),
        Seg::Index(_) => None,
    })) {
        let mut m = serde_json::Map::new();
        m.insert(k.to_string(), v);
        v = Value::Object(m);
    }
    v
}

/// The mapping `m` (at `label`, merged in from an anchor) written out whole, with `key` set to
/// `value` below the mapping keys `rest`: every entry it reads as (its own merges applied; a key
/// written twice counts once, as its last entry) copied as written, the mappings along `rest`
/// copied the same way with the edit applied. In flow style (`{a: 1, b: 2}`), or as block lines
/// at `indent` (each ending in a newline). An entry that is not a one-line scalar or a flow
/// collection on one line is not copied: the reason is returned.
#[allow(clippy::too_many_arguments)]
fn copy_merged_map(
    text: &str,
    l: &Layout,
    m: &Node,
    rest: &[Seg],
    key: &str,
    value: &Value,
    flow: bool,
    indent: usize,
    label: &str,
) -> std::result::Result<String, String> {
    let entries = m.as_map().unwrap_or_default();
    let mut keep: Vec<&(Node, Node)> = Vec::new();
    for e in entries.iter().rev() {
        if !keep
            .iter()
            .any(|k| k.0.as_str().is_some() && k.0.as_str() == e.0.as_str())
        {
            keep.push(e);
        }
    }
    keep.reverse();
    let into_flow = flow && !is_flow(text, m);
    let next = match rest.first() {
        Some(Seg::Key(k)) => Some(*k),
        _ => None,
    };
    let pad = " ".repeat(indent);
    let mut parts = Vec::new();
    let mut placed = false;
    for (k, v) in keep {
        let name = k.as_str();
        let at = format!("{label}.{}", name.unwrap_or("?"));
        let line = k.span.start.line;
        let kt = copied_scalar(text, k, into_flow)
            .map_err(|why| format!("the key of {at} (line {line}) {why}"))?;
        if next.is_some() && name == next {
            placed = true;
            if v.is_null() {
                parts.push(copy_entry(
                    &kt,
                    &nested(&rest[1..], key, value),
                    flow,
                    indent,
                    l,
                ));
                continue;
            }
            if !v.is_map() {
                return Err(format!("{at} (line {line}) is not a mapping"));
            }
            let inner_flow = flow || is_flow(text, v);
            let inner = copy_merged_map(
                text,
                l,
                v,
                &rest[1..],
                key,
                value,
                inner_flow,
                indent + l.unit,
                &at,
            )?;
            parts.push(if flow {
                format!("{kt}: {inner}")
            } else if inner_flow {
                format!("{pad}{kt}: {inner}\n")
            } else {
                format!("{pad}{kt}:\n{inner}")
            });
            continue;
        }
        if next.is_none() && name == Some(key) {
            placed = true;
            parts.push(copy_entry(&kt, value, flow, indent, l));
            continue;
        }
        let vt = copied_value(text, k, v, into_flow)
            .map_err(|why| format!("{at} (line {line}) {why}"))?;
        parts.push(if flow {
            format!("{kt}: {vt}")
        } else {
            format!("{pad}{kt}: {vt}\n")
        });
    }
    if !placed {
        parts.push(match next {
            Some(k) => copy_entry(
                &scalar(&Value::String(k.to_string())),
                &nested(&rest[1..], key, value),
                flow,
                indent,
                l,
            ),
            None => copy_entry(
                &scalar(&Value::String(key.to_string())),
                value,
                flow,
                indent,
                l,
            ),
        });
    }
    Ok(if flow {
        format!("{{{}}}", parts.join(", "))
    } else {
        parts.concat()
    })
}

/// The mapping written in `n` (not reached through an alias or a merge) whose span starts at
/// `at`.
fn map_starting_at<'d>(text: &str, n: &'d Node, at: usize) -> Option<&'d Node> {
    if n.span.start.offset == at && n.is_map() {
        return Some(n);
    }
    if !(n.span.start.offset..=n.span.end.offset).contains(&at) {
        return None;
    }
    match &n.kind {
        NodeKind::Map(entries) => entries
            .iter()
            .filter(|(k, v)| within(k, n) && !is_alias(k, v))
            .find_map(|(_, v)| map_starting_at(text, v, at)),
        NodeKind::Seq(items) => items
            .iter()
            .zip(items_written(text, n))
            .filter(|(_, w)| w.alias.is_none())
            .find_map(|(item, _)| map_starting_at(text, item, at)),
        NodeKind::Scalar(_) => None,
    }
}

/// Does `splice` of `text` leave the mapping `map` reading as it did, with `key` set to `value`
/// below the mapping keys `rest` (merges applied on both sides)? A check of a copy before it is
/// offered: a copied value that reads differently where it lands would change the mapping.
fn reads_back(
    text: &str,
    splice: &Splice,
    map: &Node,
    rest: &[Seg],
    key: &str,
    value: &Value,
) -> bool {
    let schema = yaml::Schema::Core;
    let mut want = map.to_json(schema);
    let mut cur = &mut want;
    for seg in rest {
        let (Seg::Key(k), Some(obj)) = (seg, cur.as_object_mut()) else {
            return false;
        };
        let next = obj.entry(k.to_string()).or_insert(Value::Null);
        if !next.is_object() {
            *next = Value::Object(serde_json::Map::new());
        }
        cur = next;
    }
    let Some(obj) = cur.as_object_mut() else {
        return false;
    };
    obj.insert(key.to_string(), value.clone());
    let new = splice.apply(text);
    let Ok(docs) = yaml::parse(&new) else {
        return false;
    };
    let at = map.span.start.offset;
    docs.iter()
        .find_map(|d| map_starting_at(&new, &d.root, at))
        .is_some_and(|m| m.to_json(schema) == want)
}

/// [`set_in`] below the entry `path[depth]` that the mapping `map` only has through a merge key
/// (`<<: *base`), as `(mk, mv)`. Writing the entry into `map` with just the new key would
/// override the whole merged mapping and drop what it holds; editing it where the anchor is
/// would change every mapping merging it. So `map` gets an entry of its own holding a copy of
/// the merged mapping (see [`copy_merged_map`]) with the edit applied, in the style of `map`
/// (flow) or of the merged mapping (block lines or one flow line). When no faithful copy can be
/// written the edit is refused naming the merge.
#[allow(clippy::too_many_arguments)]
fn merged_map_copy(
    text: &str,
    l: &Layout,
    map: &Node,
    path: &[Seg],
    depth: usize,
    (mk, mv): (&Node, &Node),
    key: &str,
    value: &Value,
) -> Result<Splice> {
    let Seg::Key(k) = path[depth] else {
        return err(format!("{} is not a list", path_label(&path[..depth])));
    };
    let label = path_label(&path[..=depth]);
    let rest = &path[depth + 1..];
    let refuse = |why: &str| {
        let from = match merge_of(text, map, mk) {
            Some((written, line)) => format!("the merge {written} at line {line}"),
            None => "a merge (<<)".to_string(),
        };
        err(format!(
            "{label} comes from {from}; {why}; change it by hand"
        ))
    };
    if rest.iter().any(|s| matches!(s, Seg::Index(_))) {
        return refuse("a list item below it is not edited through the merge");
    }
    if !mv.is_map() {
        return err(format!("{label} is not a mapping"));
    }
    let flow = is_flow(text, map);
    let inner_flow = flow || is_flow(text, mv);
    let kt = scalar(&Value::String(k.to_string()));
    let copy = |indent: usize| {
        copy_merged_map(text, l, mv, rest, key, value, inner_flow, indent, &label)
            .map_err(|why| format!("{why}, so it is not copied into the mapping whole"))
    };
    let splice = if flow {
        let copy = match copy(0) {
            Ok(c) => c,
            Err(why) => return refuse(&why),
        };
        let close = map.span.end.offset - 1;
        let close = text[..=close].rfind('}').unwrap_or(close);
        Splice::insert(close, format!(", {kt}: {copy}"))
    } else {
        let (col, end) = after_own_entries(text, map, k)?;
        let copy = match copy(col + l.unit) {
            Ok(c) => c,
            Err(why) => return refuse(&why),
        };
        let pad = " ".repeat(col);
        let lines = if inner_flow {
            format!("{pad}{kt}: {copy}\n")
        } else {
            format!("{pad}{kt}:\n{copy}")
        };
        insert_lines(text, end, lines)
    };
    if !reads_back(text, &splice, map, &path[depth..], key, value) {
        return refuse("a copy of it would not read the same in the mapping");
    }
    Ok(splice)
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
/// and its parent's, else 2. A mapping that is a list item is not measured against the key
/// above the list: its keys sit after the item's dash (`resources:` then `  - resources:` is a
/// list indented by 2 and a dash, not a step of 4).
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
                    walk(text, i, None, best);
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
    let mut merged = None;
    while depth < path.len() {
        match (path[depth], &node.kind) {
            (Seg::Key(k), NodeKind::Map(_)) => match node.entry(k) {
                // An entry merged in from an anchor is overridden here, not edited there: with
                // a copy of what it holds when the path goes on into it.
                Some((kn, n)) if !within(kn, node) => {
                    if !n.is_null() {
                        merged = Some((kn, n));
                    }
                    break;
                }
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
    if let Some(entry) = merged {
        return merged_map_copy(text, layout, node, path, depth, entry, key, value);
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
        // The value, or something written inside it, may be an anchor other places repeat.
        let mut anchors = Vec::new();
        anchors_in(text, existing, &mut anchors);
        if !anchors.is_empty() {
            let docs = parse(text)?;
            let mut at = path[..depth].to_vec();
            at.push(Seg::Key(&new_key));
            let replaced = value_extent(text, k, existing);
            refuse_shared_anchors(text, &docs, &path_label(&at), existing, &anchors, replaced)?;
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
    // An anchored list that aliases repeat would grow there too.
    let anchor: Vec<_> = anchor_at(text, list).into_iter().collect();
    refuse_shared_anchors(text, &docs, &path_label(path), list, &anchor, 0..0)?;
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
    // Neither the list nor the item may be an anchor other places repeat.
    let anchor: Vec<_> = anchor_at(text, list).into_iter().collect();
    refuse_shared_anchors(text, &docs, &path_label(path), list, &anchor, 0..0)?;
    let anchor: Vec<_> = anchor_at(text, n).into_iter().collect();
    let label = item_label(path, index);
    refuse_shared_anchors(text, &docs, &label, n, &anchor, item_extent(text, n))?;
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
    // The list may be an anchor other places repeat; the item, or something written in it, may
    // be one that would be gone. (Removing an alias item leaves its anchor as it is.)
    let anchor: Vec<_> = anchor_at(text, list).into_iter().collect();
    refuse_shared_anchors(text, &docs, &path_label(path), list, &anchor, 0..0)?;
    if written[index].alias.is_none() {
        let mut anchors = Vec::new();
        anchors_in(text, n, &mut anchors);
        let label = item_label(path, index);
        refuse_shared_anchors(text, &docs, &label, n, &anchors, item_extent(text, n))?;
    }
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

    /// A list of mappings indented under its key (`key:` then `  - name:`) puts the item's keys
    /// 4 columns in, which is a list indent and a dash, not the file's mapping step: a new
    /// nested mapping is indented by 2, and its list as the file indents lists.
    #[test]
    fn list_items_do_not_set_the_mapping_step() {
        let text = "providers:\n  - identity: {}\n";
        let out = set(
            text,
            0,
            &[Seg::Key("providers"), Seg::Index(0)],
            "aescbc",
            &json!({"keys": [{"name": "k1"}]}),
        )
        .unwrap();
        assert_eq!(
            out,
            "providers:\n  - identity: {}\n    aescbc:\n      keys:\n        - name: k1\n"
        );
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
        // The anchor's own entry is what `other` repeats: changing it would change `other`.
        let e = set(text, 0, &[Seg::Key("spec")], "flag", &json!(false)).unwrap_err();
        assert!(
            e.0.contains("spec.flag carries the anchor &on, which spec.other (line 6)"),
            "{e}"
        );
        // With no alias of it, it is an ordinary value (the anchor stays).
        let text = text.replace("  other: *on\n", "");
        assert_eq!(
            set(&text, 0, &[Seg::Key("spec")], "flag", &json!(false)).unwrap(),
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
        let text = "a: &x |\n  one\nb: 1\n";
        let out = set(text, 0, &[], "a", &json!("z")).unwrap();
        assert_eq!(out, "a: &x z\nb: 1\n");
        assert_eq!(read(&out), json!({"a": "z", "b": 1}));
        let text = "a: !!str &x >-\n  one\nb: 1\n";
        assert_eq!(
            set(text, 0, &[], "a", &json!(5)).unwrap(),
            "a: &x 5\nb: 1\n"
        );
        // With an alias of it, neither the anchored scalar nor the alias is edited.
        let text = "a: !!str &x >-\n  one\nb: *x\n";
        let e = set(text, 0, &[], "a", &json!(5)).unwrap_err();
        assert!(
            e.0.contains("a carries the anchor &x, which b (line 3)"),
            "{e}"
        );
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
        let text = "l:\n  - &a p   # c\n  - q\n";
        let out = replace_item(text, 0, &path, 0, &json!("z")).unwrap();
        assert_eq!(out, "l:\n  - &a z   # c\n  - q\n");
        assert_eq!(read(&out), json!({"l": ["z", "q"]}));
        let text = "l: [&a p, q]\n";
        assert_eq!(
            replace_item(text, 0, &path, 0, &json!("z")).unwrap(),
            "l: [&a z, q]\n"
        );
        // An alias of it would change too: refused.
        for text in ["l:\n  - &a p   # c\n  - *a\n", "l: [&a p, *a]\n"] {
            let e = replace_item(text, 0, &path, 0, &json!("z")).unwrap_err();
            assert!(
                e.0.starts_with("l[0] carries the anchor &a, which l[1] (line "),
                "{e}"
            );
        }
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
        // The anchor's own list is what both aliases repeat: it is not edited either.
        let e = append(flow, 0, &[Seg::Key("x-caps")], &json!("SYS_TIME")).unwrap_err();
        assert_eq!(e.0, "x-caps carries the anchor &caps, which services.a.cap_add (line 4, through *caps) and services.b.cap_add (line 6, through *caps) also use; change it by hand, or give each its own value");
        // With no alias of it left, it is an ordinary list.
        let alone = "x-caps: &caps [NET_ADMIN]\nservices:\n  a:\n    image: a\n";
        assert_eq!(
            append(alone, 0, &[Seg::Key("x-caps")], &json!("SYS_TIME")).unwrap(),
            alone.replace("[NET_ADMIN]", "[NET_ADMIN, SYS_TIME]")
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

    /// `set` at `path` through a mapping merged in with `<<`, checked against what the document
    /// reads before the edit: the edited mapping (merges applied) is the old one plus the new
    /// key, and every other part of the document reads as before. Returns the edited text.
    fn set_reads_back(text: &str, path: &[&str], key: &str, value: Value) -> String {
        let segs: Vec<Seg> = path.iter().map(|k| Seg::Key(k)).collect();
        let out = set(text, 0, &segs, key, &value).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut want = read(text);
        let mut cur = &mut want;
        for k in path {
            cur = cur
                .as_object_mut()
                .unwrap()
                .entry(k.to_string())
                .or_insert(json!({}));
            if !cur.is_object() {
                // A null (`key:`) becomes the mapping set writes.
                *cur = json!({});
            }
        }
        cur.as_object_mut().unwrap().insert(key.to_string(), value);
        assert_eq!(read(&out), want, "{out}");
        out
    }

    fn y_sc() -> [Seg<'static>; 2] {
        [Seg::Key("y"), Seg::Key("sc")]
    }

    #[test]
    fn set_below_a_merged_mapping_gives_the_mapping_a_whole_copy_of_it() {
        // A flow mapping in the anchor, merged into a block and a flow mapping.
        let base = "x: &m\n  sc: {a: 1, c: 3}   # shared\n";
        let text = format!("{base}y:\n  <<: *m\n  k: 1\nz:\n  <<: *m\n");
        let out = set_reads_back(&text, &["y", "sc"], "b", json!(2));
        assert_eq!(
            out,
            format!("{base}y:\n  <<: *m\n  k: 1\n  sc: {{a: 1, c: 3, b: 2}}\nz:\n  <<: *m\n")
        );
        let text = format!("{base}y: {{<<: *m}}\nz: {{<<: *m, k: 1}}\n");
        let out = set_reads_back(&text, &["y", "sc"], "b", json!(2));
        assert_eq!(
            out,
            format!("{base}y: {{<<: *m, sc: {{a: 1, c: 3, b: 2}}}}\nz: {{<<: *m, k: 1}}\n")
        );
        // A block mapping in the anchor: copied as block lines (comments stay with the anchor),
        // or in flow style into a flow mapping; quoting and tags are kept.
        let base = "x: &m\n  sc:\n    a: 1   # one\n    c: '3'\n    d: !!str 4\n";
        let text = format!("{base}y:\n  <<: *m\n  k: 1\nz:\n  <<: *m\n  k: 2\n");
        let out = set_reads_back(&text, &["y", "sc"], "b", json!(2));
        assert_eq!(
            out,
            format!("{base}y:\n  <<: *m\n  k: 1\n  sc:\n    a: 1\n    c: '3'\n    d: !!str 4\n    b: 2\nz:\n  <<: *m\n  k: 2\n")
        );
        let text = format!("{base}y: {{<<: *m}}\n");
        let out = set_reads_back(&text, &["y", "sc"], "b", json!(2));
        assert_eq!(
            out,
            format!("{base}y: {{<<: *m, sc: {{a: 1, c: '3', d: !!str 4, b: 2}}}}\n")
        );
        // CRLF stays CRLF.
        let text = format!("{base}y:\n  <<: *m\n  k: 1\n").replace('\n', "\r\n");
        let out = set_reads_back(&text, &["y", "sc"], "b", json!(2));
        assert_eq!(
            out,
            format!("{text}  sc:\r\n    a: 1\r\n    c: '3'\r\n    d: !!str 4\r\n    b: 2\r\n")
        );
        // A key the merged mapping has already gets the new value in the copy.
        let text = "x: &m\n  sc: {a: 1, c: 3}\ny:\n  <<: *m\n  k: 1\n";
        let out = set_reads_back(text, &["y", "sc"], "a", json!("on"));
        assert_eq!(out, format!("{text}  sc: {{a: \"on\", c: 3}}\n"));
    }

    #[test]
    fn set_deep_below_a_merged_mapping_copies_each_mapping_on_the_way() {
        // The compose case: a service merges `logging` from a common block and gets a key set
        // two levels below it.
        let common = "x-common: &common\n  restart: unless-stopped\n  logging:\n    driver: json-file   # all services\n    options:\n      max-size: 10m\n";
        let text = format!("{common}services:\n  web:\n    <<: *common\n    image: nginx\n  db:\n    <<: *common\n    image: postgres\n");
        let out = set_reads_back(
            &text,
            &["services", "web", "logging", "options"],
            "max-file",
            json!("3"),
        );
        assert_eq!(
            out,
            format!("{common}services:\n  web:\n    <<: *common\n    image: nginx\n    logging:\n      driver: json-file\n      options:\n        max-size: 10m\n        max-file: \"3\"\n  db:\n    <<: *common\n    image: postgres\n")
        );
        // Flow style all the way, and a level that does not exist yet.
        let text = "x-common: &common\n  logging: {driver: json-file, options: {max-size: 10m}}\nservices:\n  web: {<<: *common, image: nginx}\n";
        let out = set_reads_back(
            text,
            &["services", "web", "logging", "options"],
            "max-file",
            json!("3"),
        );
        assert_eq!(
            out,
            text.replace(
                "image: nginx}",
                "image: nginx, logging: {driver: json-file, options: {max-size: 10m, max-file: \"3\"}}}"
            )
        );
        // A flow mapping inside a block one stays one flow line in the copy.
        let text = "# compose\nx-common: &common\n  logging:\n    driver: local\n    options: {max-size: 10m}   # small\nservices:\n  web:\n    <<: *common\n    image: nginx\n";
        let out = set_reads_back(
            text,
            &["services", "web", "logging", "options"],
            "max-file",
            json!("3"),
        );
        assert_eq!(
            out,
            format!("{text}    logging:\n      driver: local\n      options: {{max-size: 10m, max-file: \"3\"}}\n")
        );
        let text = "x-common: &common\n  logging: {driver: json-file, options: {max-size: 10m}}\nservices:\n  web: {<<: *common, image: nginx}\n";
        let out = set_reads_back(
            text,
            &["services", "web", "logging", "labels"],
            "tier",
            json!("web"),
        );
        assert_eq!(
            out,
            text.replace(
                "image: nginx}",
                "image: nginx, logging: {driver: json-file, options: {max-size: 10m}, labels: {tier: web}}}"
            )
        );
    }

    #[test]
    fn set_below_a_merge_of_several_anchors_copies_the_mapping_that_wins() {
        // Earlier sources win: y.sc is a's, y.other is b's.
        let text =
            "a: &a {sc: {p: 1}}\nb: &b {sc: {q: 2}, other: {r: 3}}\ny:\n  <<: [*a, *b]\n  k: 1\n";
        let out = set_reads_back(text, &["y", "sc"], "x", json!(0));
        assert_eq!(out, format!("{text}  sc: {{p: 1, x: 0}}\n"));
        let out = set_reads_back(text, &["y", "other"], "s", json!(4));
        assert_eq!(out, format!("{text}  other: {{r: 3, s: 4}}\n"));
        // A merged mapping that itself merges another: its entries as they read.
        let text =
            "base: &base {a: 1, c: 3}\nm: &m\n  sc: {<<: *base, c: 4}\ny:\n  <<: *m\n  k: 1\n";
        let out = set_reads_back(text, &["y", "sc"], "b", json!(2));
        assert_eq!(out, format!("{text}  sc: {{c: 4, a: 1, b: 2}}\n"));
        // Anchors in the copied values are left out (a second `&one` would change what a later
        // `*one` means); the anchor's own text keeps them.
        let text = "x: &m\n  sc: {a: &one 1, l: &l [p]}\ny:\n  <<: *m\n  k: 1\nw: *one\nv: *l\n";
        let out = set_reads_back(text, &["y", "sc"], "b", json!(2));
        assert_eq!(
            out,
            text.replace("  k: 1\n", "  k: 1\n  sc: {a: 1, l: [p], b: 2}\n")
        );
    }

    #[test]
    fn set_below_a_merged_mapping_that_cannot_be_copied_is_refused_naming_the_merge() {
        let path = y_sc();
        let refused = |text: &str, line: usize| {
            let e = set(text, 0, &path, "b", &json!(2)).unwrap_err();
            assert!(
                e.0.contains(&format!("y.sc comes from the merge <<: *m at line {line}"))
                    && e.0.contains("change it by hand"),
                "{e}"
            );
        };
        // A block list, a block scalar, an alias, a plain scalar over two lines.
        refused(
            "x: &m\n  sc:\n    a: 1\n    l:\n      - p\ny:\n  <<: *m\n  k: 1\n",
            7,
        );
        refused(
            "x: &m\n  sc:\n    s: |\n      text\ny:\n  <<: *m\n  k: 1\n",
            6,
        );
        refused("v: &v 1\nx: &m\n  sc: {a: *v}\ny:\n  <<: *m\n  k: 1\n", 5);
        refused(
            "x: &m\n  sc:\n    a: one\n      two\ny:\n  <<: *m\n  k: 1\n",
            6,
        );
        // Anchors or aliases inside a copied flow collection.
        refused("v: &v 1\nx: &m\n  sc: {l: [*v]}\ny:\n  <<: *m\n  k: 1\n", 5);
        refused("x: &m\n  sc: {l: [&w p]}\ny:\n  <<: *m\n  k: 1\nz: *w\n", 4);
        // A plain scalar of a block mapping that would read differently in a flow one; in a
        // block mapping it is copied as written.
        let text = "x: &m\n  sc:\n    a: p,q\ny: {<<: *m}\n";
        let e = set(text, 0, &path, "b", &json!(2)).unwrap_err();
        assert!(
            e.0.contains("y.sc comes from the merge <<: *m at line 4"),
            "{e}"
        );
        let text = "x: &m\n  sc:\n    a: p,q\ny:\n  <<: *m\n  k: 1\n";
        let out = set_reads_back(text, &["y", "sc"], "b", json!(2));
        assert_eq!(out, format!("{text}  sc:\n    a: p,q\n    b: 2\n"));
        // Several merges: the message quotes the merge as written.
        let text = "x: &m\n  sc:\n    l:\n      - p\nn: &n {}\ny:\n  <<: [*n, *m]\n  k: 1\n";
        let e = set(text, 0, &path, "b", &json!(2)).unwrap_err();
        assert!(
            e.0.contains("y.sc comes from the merge <<: [*n, *m] at line 7"),
            "{e}"
        );
        // A merged value that is not a mapping, and a mapping with nothing of its own to place
        // the copy after: refused as before, never overwritten.
        let e = set(
            "x: &m\n  sc: 5\ny:\n  <<: *m\n  k: 1\n",
            0,
            &path,
            "b",
            &json!(2),
        )
        .unwrap_err();
        assert!(e.0.contains("y.sc is not a mapping"), "{e}");
        let e = set(
            "x: &m\n  sc: {a: 1}\ny:\n  <<: *m\n",
            0,
            &path,
            "b",
            &json!(2),
        )
        .unwrap_err();
        assert!(e.0.contains("<<"), "{e}");
        // An item of a merged list is not edited through the merge.
        let text = "x: &m\n  l:\n    - {a: 1}\ny:\n  <<: *m\n  k: 1\n";
        let e = set(
            text,
            0,
            &[Seg::Key("y"), Seg::Key("l"), Seg::Index(0)],
            "b",
            &json!(2),
        )
        .unwrap_err();
        assert!(
            e.0.contains("y.l comes from the merge <<: *m at line 5"),
            "{e}"
        );
        // A merged null is no mapping to copy: the new mapping replaces it.
        let text = "x: &m\n  sc:\ny:\n  <<: *m\n  k: 1\n";
        let out = set_reads_back(text, &["y", "sc"], "b", json!(2));
        assert_eq!(out, format!("{text}  sc:\n    b: 2\n"));
    }

    /// The services of a compose-like file sharing one list through an anchor on service a's
    /// own list.
    fn shared_caps(block: bool) -> String {
        let a = if block {
            "    cap_add: &caps\n      - NET_ADMIN   # a\n"
        } else {
            "    cap_add: &caps [NET_ADMIN]   # a\n"
        };
        format!("services:\n  a:\n{a}  b:\n    cap_add: *caps\n    image: b\n")
    }

    #[test]
    fn an_anchored_list_with_aliases_is_not_edited() {
        for text in [
            shared_caps(false),
            shared_caps(true),
            shared_caps(true).replace('\n', "\r\n"),
        ] {
            let line = if text.contains("- NET_ADMIN") { 6 } else { 5 };
            let want = format!("services.a.cap_add carries the anchor &caps, which services.b.cap_add (line {line}) also uses through *caps; change it by hand, or give each its own value");
            let e = append(&text, 0, &a_cap_add(), &json!("SYS_TIME")).unwrap_err();
            assert_eq!(e.0, want);
            let e = remove_item(&text, 0, &a_cap_add(), 0).unwrap_err();
            assert_eq!(e.0, want);
            let e = replace_item(&text, 0, &a_cap_add(), 0, &json!("CHOWN")).unwrap_err();
            assert_eq!(e.0, want);
            let e = set(&text, 0, &a_cap_add()[..2], "cap_add", &json!(["CHOWN"])).unwrap_err();
            assert_eq!(e.0, want);
        }
        // Without an alias the anchored list is an ordinary list (the anchor stays).
        let text = shared_caps(false).replace("    cap_add: *caps\n", "");
        assert_eq!(
            append(&text, 0, &a_cap_add(), &json!("SYS_TIME")).unwrap(),
            text.replace("[NET_ADMIN]", "[NET_ADMIN, SYS_TIME]")
        );
        let text = shared_caps(true).replace("    cap_add: *caps\n", "");
        assert_eq!(
            append(&text, 0, &a_cap_add(), &json!("SYS_TIME")).unwrap(),
            text.replace("# a\n", "# a\n      - SYS_TIME\n")
        );
        assert_eq!(
            replace_item(&text, 0, &a_cap_add(), 0, &json!("CHOWN")).unwrap(),
            text.replace("- NET_ADMIN", "- CHOWN")
        );
    }

    #[test]
    fn an_anchored_scalar_with_aliases_is_not_replaced() {
        let text = "spec:\n  flag: &on true   # c\n  other: *on\n";
        let e = set(text, 0, &[Seg::Key("spec")], "flag", &json!(false)).unwrap_err();
        assert_eq!(e.0, "spec.flag carries the anchor &on, which spec.other (line 3) also uses through *on; change it by hand, or give each its own value");
        // Comments and a document marker before the document.
        let later = format!("# settings\n\n---\n{text}");
        let e = set(&later, 0, &[Seg::Key("spec")], "flag", &json!(false)).unwrap_err();
        assert!(e.0.contains("spec.other (line 6)"), "{e}");
        let crlf = text.replace('\n', "\r\n");
        let e = set(&crlf, 0, &[Seg::Key("spec")], "flag", &json!(false)).unwrap_err();
        assert!(e.0.contains("spec.other (line 3)"), "{e}");
        // Flow style; several users, one through a merge.
        let text = "m: &m {flag: &on true}\nl: [*on, x]\nn: {<<: *m, k: 1}\nw: *on\n";
        let e = set(text, 0, &[Seg::Key("m")], "flag", &json!(false)).unwrap_err();
        assert_eq!(e.0, "m.flag carries the anchor &on, which l[0] (line 2, through *on) and w (line 4, through *on) also use; change it by hand, or give each its own value");
        let e = set(text, 0, &[], "m", &json!({"flag": false})).unwrap_err();
        assert!(
            e.0.starts_with("m carries the anchor &m, which n (line 3) also uses through <<: *m;"),
            "{e}"
        );
        // An anchored block scalar, and an anchored list item.
        let text = "a: &x |\n  one\nb: *x\n";
        let e = set(text, 0, &[], "a", &json!("z")).unwrap_err();
        assert!(
            e.0.starts_with("a carries the anchor &x, which b (line 3)"),
            "{e}"
        );
        let text = "l:\n  - &a p\n  - q\nm: [*a]\n";
        let e = replace_item(text, 0, &[Seg::Key("l")], 0, &json!("z")).unwrap_err();
        assert!(
            e.0.starts_with("l[0] carries the anchor &a, which m[0] (line 4)"),
            "{e}"
        );
        let e = remove_item(text, 0, &[Seg::Key("l")], 0).unwrap_err();
        assert!(
            e.0.starts_with("l[0] carries the anchor &a, which m[0] (line 4)"),
            "{e}"
        );
        // The other items are edited as usual.
        assert_eq!(
            replace_item(text, 0, &[Seg::Key("l")], 1, &json!("z")).unwrap(),
            text.replace("- q", "- z")
        );
        // An anchor written inside a replaced value.
        let text = "a:\n  l: &l [x]\nb: *l\n";
        let e = set(text, 0, &[], "a", &json!("z")).unwrap_err();
        assert!(
            e.0.starts_with(
                "a holds the anchor &l (line 2), which b (line 3) also uses through *l;"
            ),
            "{e}"
        );
    }

    #[test]
    fn the_anchor_of_a_first_item_or_key_is_not_the_collections() {
        // An indentless list and a mapping start where their first child does: the anchor
        // there is the child's, and the list or mapping is edited as usual.
        let path = [Seg::Key("args")];
        let text = "args:\n- &flag --profiling=true\n- *flag\n";
        assert_eq!(
            append(text, 0, &path, &json!("z")).unwrap(),
            format!("{text}- z\n")
        );
        let e = replace_item(text, 0, &path, 0, &json!("z")).unwrap_err();
        assert!(
            e.0.starts_with("args[0] carries the anchor &flag, which args[1] (line 3)"),
            "{e}"
        );
        let text = "m:\n  &k a: 1\n  b: 2\nn: {*k : 3}\n";
        assert_eq!(
            set(text, 0, &[Seg::Key("m")], "b", &json!(5)).unwrap(),
            text.replace("b: 2", "b: 5")
        );
        let text = "l:\n- &m\n  a: 1\nx: *m\n";
        assert_eq!(
            append(text, 0, &[Seg::Key("l")], &json!("z")).unwrap(),
            "l:\n- &m\n  a: 1\n- z\nx: *m\n"
        );
        // The list's own anchor written before an indentless list.
        let text = "args: &l\n- &flag x\nother: *l\n";
        let e = append(text, 0, &path, &json!("z")).unwrap_err();
        assert!(
            e.0.starts_with("args carries the anchor &l, which other (line 3)"),
            "{e}"
        );
        let text = "args: &l\n- &flag x\nother: *flag\n";
        assert_eq!(
            append(text, 0, &path, &json!("z")).unwrap(),
            "args: &l\n- &flag x\n- z\nother: *flag\n"
        );
    }

    #[test]
    fn only_real_aliases_of_the_same_anchor_count() {
        // No alias: an ordinary value whose anchor stays.
        let text = "spec:\n  flag: &on true\n";
        assert_eq!(
            set(text, 0, &[Seg::Key("spec")], "flag", &json!(false)).unwrap(),
            "spec:\n  flag: &on false\n"
        );
        // `*on` in a comment, a plain scalar, a quoted one or a block scalar is text.
        let text = "a: &on 1   # see *on\nb: see *on\nc: '*on'\nd: |\n  *on\n";
        assert_eq!(
            set(text, 0, &[], "a", &json!(2)).unwrap(),
            text.replace("&on 1", "&on 2")
        );
        // An alias after the anchor is defined again belongs to the new one.
        let text = "a: &x 1\nb: *x\nc: &x 2\nd: *x\n";
        let e = set(text, 0, &[], "a", &json!(5)).unwrap_err();
        assert!(e.0.contains("which b (line 2) also uses"), "{e}");
        let e = set(text, 0, &[], "c", &json!(5)).unwrap_err();
        assert!(e.0.contains("which d (line 4) also uses"), "{e}");
        // Anchors belong to their document.
        let text = "a: &x 1\n---\nb: &x 2\nc: *x\n";
        assert_eq!(
            set(text, 0, &[], "a", &json!(5)).unwrap(),
            text.replace("&x 1", "&x 5")
        );
        // An alias inside what is replaced goes with it.
        let text = "a: {l: &l [x], m: *l}\nb: 1\n";
        assert_eq!(set(text, 0, &[], "a", &json!("z")).unwrap(), "a: z\nb: 1\n");
        // Removing an alias item, or an item after an anchored one, is no edit of the anchor.
        let text = "l: [&a p, q, *a]\n";
        assert_eq!(
            remove_item(text, 0, &[Seg::Key("l")], 2).unwrap(),
            "l: [&a p, q]\n"
        );
        assert_eq!(
            remove_item(text, 0, &[Seg::Key("l")], 1).unwrap(),
            "l: [&a p, *a]\n"
        );
    }

    fn users_of(text: &str, path: &[Seg]) -> Vec<(usize, String, usize, bool, String)> {
        anchor_users(text, 0, path)
            .unwrap()
            .into_iter()
            .map(|u| {
                let steps: Vec<Seg> = u.path.iter().map(SegBuf::as_seg).collect();
                assert_eq!(path_label(&steps), u.label);
                (u.carrier_depth, u.label, u.line, u.merge, u.written)
            })
            .collect()
    }

    fn web() -> [Seg<'static>; 2] {
        [Seg::Key("services"), Seg::Key("web")]
    }

    #[test]
    fn anchor_users_of_a_block_service_merged_by_another() {
        let text = "services:\n  web: &default\n    image: app:1\n    environment: {A: \"1\"}\n  worker:\n    <<: *default\n    command: [\"worker\"]\n";
        let users = anchor_users(text, 0, &web()).unwrap();
        assert_eq!(
            users,
            vec![AnchorUser {
                anchor: "default".into(),
                anchor_line: 2,
                carrier_depth: 2,
                path: vec![SegBuf::Key("services".into()), SegBuf::Key("worker".into())],
                label: "services.worker".into(),
                line: 6,
                merge: true,
                written: "<<: *default".into(),
            }]
        );
        // The same below the service, and nothing for the other service.
        let image = [web()[0], web()[1], Seg::Key("image")];
        assert_eq!(anchor_users(text, 0, &image).unwrap(), users);
        let worker = [Seg::Key("services"), Seg::Key("worker")];
        assert_eq!(anchor_users(text, 0, &worker).unwrap(), vec![]);
        // CRLF line ends and a missing final newline change nothing.
        let crlf = text.replace('\n', "\r\n");
        assert_eq!(anchor_users(&crlf, 0, &web()).unwrap(), users);
        assert_eq!(anchor_users(text.trim_end(), 0, &web()).unwrap(), users);
        // Read-only: asking twice gives the same answer for the same text.
        assert_eq!(anchor_users(text, 0, &web()).unwrap(), users);
    }

    #[test]
    fn anchor_users_in_flow_style_and_through_aliases() {
        let text = "services: {web: &d {image: a}, worker: {<<: *d, command: x}, copy: *d}\n";
        assert_eq!(
            users_of(text, &web()),
            vec![
                (2, "services.worker".into(), 1, true, "<<: *d".into()),
                (2, "services.copy".into(), 1, false, "*d".into()),
            ]
        );
        // Block style, an alias as a value and as a list item.
        let text = "services:\n  web: &d\n    image: a\n  copy: *d\nall:\n  - *d\n";
        assert_eq!(
            users_of(text, &web()),
            vec![
                (2, "services.copy".into(), 4, false, "*d".into()),
                (2, "all[0]".into(), 6, false, "*d".into()),
            ]
        );
    }

    #[test]
    fn anchor_users_in_merge_lists_of_several_anchors() {
        let flow = "x-base: &base {restart: always}\nservices:\n  web: &web\n    image: a\n  worker:\n    <<: [*base, *web]\n    command: x\n";
        assert_eq!(
            users_of(flow, &web()),
            vec![(
                2,
                "services.worker".into(),
                6,
                true,
                "<<: [*base, *web]".into()
            )]
        );
        let block = "x-base: &base {restart: always}\nservices:\n  web: &web\n    image: a\n  worker:\n    <<:\n      - *base   # defaults\n      - *web\n    command: x\n";
        assert_eq!(
            users_of(block, &web()),
            vec![(
                2,
                "services.worker".into(),
                8,
                true,
                "<<: [*base, *web]".into()
            )]
        );
        // In a flow mapping, with the anchor first.
        let text = "x-base: &base {}\nservices:\n  web: &web {image: a}\n  worker: {<<: [*web, *base], command: x}\n";
        assert_eq!(
            users_of(text, &web()),
            vec![(
                2,
                "services.worker".into(),
                4,
                true,
                "<<: [*web, *base]".into()
            )]
        );
        // Merging only the other anchor is no use of this one.
        let text = flow.replace("[*base, *web]", "*base");
        assert_eq!(users_of(&text, &web()), vec![]);
    }

    #[test]
    fn anchor_users_of_an_anchor_carried_above_the_node() {
        let text = "services: &svcs\n  web:\n    image: a\nx-copy: *svcs\nx-more:\n  <<: *svcs\n";
        assert_eq!(
            users_of(text, &web()),
            vec![
                (1, "x-copy".into(), 4, false, "*svcs".into()),
                (1, "x-more".into(), 6, true, "<<: *svcs".into()),
            ]
        );
        // The service's own anchor and the one above it, from the root down.
        let text =
            "services: &svcs\n  web: &web\n    image: a\n  worker:\n    <<: *web\nx-copy: *svcs\n";
        assert_eq!(
            users_of(text, &web()),
            vec![
                (1, "x-copy".into(), 6, false, "*svcs".into()),
                (2, "services.worker".into(), 5, true, "<<: *web".into()),
            ]
        );
        // An anchor below the node (on one of its values) is not the node's: adding a key to
        // the node does not change what repeats that value.
        let text =
            "services:\n  web:\n    environment: &env {A: 1}\n  worker:\n    environment: *env\n";
        assert_eq!(users_of(text, &web()), vec![]);
        // Nor is an anchor the node only merges in.
        let text = "x-base: &base {restart: always}\nservices:\n  web:\n    <<: *base\n  worker:\n    <<: *base\n";
        assert_eq!(users_of(text, &web()), vec![]);
    }

    #[test]
    fn anchor_users_ignore_lookalikes_and_unused_anchors() {
        // An anchor nothing repeats.
        let text = "services:\n  web: &default\n    image: app:1\n  worker:\n    image: app:1\n";
        assert_eq!(users_of(text, &web()), vec![]);
        // `*default` in comments and scalars is text; `&default` in a comment or a quoted
        // scalar does not define the anchor again.
        let text = "services:\n  web: &default   # merged by *default users\n    image: app:1\n  # worker: {<<: *default}\n  one:\n    command: \"*default\"\n    entrypoint: see *default\n    labels:\n      note: '&default'\n    # &default\n    healthcheck:\n      test: |\n        *default\n  worker:\n    <<: *default\n";
        assert_eq!(
            users_of(text, &web()),
            vec![(2, "services.worker".into(), 15, true, "<<: *default".into())]
        );
        // An alias after the anchor is defined again belongs to the new one.
        let text =
            "services:\n  web: &d\n    image: a\n  db: &d\n    image: b\n  worker:\n    <<: *d\n";
        assert_eq!(users_of(text, &web()), vec![]);
        // Anchors belong to their document.
        let text = "services:\n  web: &d\n    image: a\n---\nservices:\n  web: &d {}\n  worker: {<<: *d}\n";
        assert_eq!(users_of(text, &web()), vec![]);
        assert_eq!(
            anchor_users(text, 1, &web()).unwrap()[0].label,
            "services.worker"
        );
        assert_eq!(anchor_users(text, 2, &web()).unwrap(), vec![]);
    }

    #[test]
    fn anchor_users_stop_where_the_path_is_not_written_in_place() {
        // A service that is an alias, or merged in, is written elsewhere: only what holds it
        // is looked at.
        let text =
            "x: &x\n  image: a\nservices: &svcs\n  web: *x\n  other:\n    <<: *x\ncopy: *svcs\n";
        assert_eq!(
            users_of(text, &web()),
            vec![(1, "copy".into(), 7, false, "*svcs".into())]
        );
        // A service that does not exist (yet): its ancestors still count.
        let missing = [Seg::Key("services"), Seg::Key("nope")];
        assert_eq!(
            users_of(text, &missing),
            vec![(1, "copy".into(), 7, false, "*svcs".into())]
        );
        assert!(anchor_users("a: [", 0, &web()).is_err());
    }

    /// The anchors (`&name`) and aliases (`*name`) the document `doc` of `text` holds as node
    /// properties, in the order they are written.
    fn props_of(text: &str, doc: usize) -> Vec<String> {
        let docs = parse(text).unwrap();
        doc_props(text, &docs, doc)
            .into_iter()
            .map(|p| {
                let sigil = if p.alias { '*' } else { '&' };
                assert_eq!(
                    &text[p.at..p.at + 1 + p.name.len()],
                    format!("{sigil}{}", p.name)
                );
                format!("{sigil}{}", p.name)
            })
            .collect()
    }

    #[test]
    fn properties_are_read_only_where_a_node_starts() {
        // Block style: anchors and aliases after `key: `, after `- `, on their own line, on a
        // key; none in plain, quoted or block scalars, comments or tags.
        let text = "a: &x 1   # &c *c\nb: \"&q *q\"\nc: 'it''s &q *q'\nd: see &q and *q\ne: http://h/?a=1&q=2\nf: |\n  &q *q\n  more\ng: >-\n  &q\nh: !t&q v\n&k i: *x\nl:\n  - &y [*x, '&q']\n  - *y\nm: first\n  &q *q continued\n*x : keyed\n";
        assert_eq!(
            props_of(text, 0),
            ["&x", "&k", "*x", "&y", "*x", "*y", "*x"]
        );
        // Flow style: after `[`, `{` and `,`, as keys and values; a `#` inside quotes starts
        // no comment.
        let text = "x: &x 1\na: {b: \"#\", c: *x, *x : 1, d: [&y v, x &q, \"&q\"], e: {*y : 2}}\nf: ['#', *y]\n";
        assert_eq!(props_of(text, 0), ["&x", "*x", "*x", "&y", "*y", "*y"]);
        // Each document on its own; directives and document markers are no properties.
        let text = "a: &x 1\nb: \"&y\"\n---\n# &x\nc: &y [x]\nd: *y\n...\n%TAG !e! tag:h&z,2000:\n--- &z\nd: !e!t&z v\n";
        assert_eq!(props_of(text, 0), ["&x"]);
        assert_eq!(props_of(text, 1), ["&y", "*y"]);
        assert_eq!(props_of(text, 2), ["&z"]);
        // A block scalar whose content starts like an anchor has none; one with properties
        // keeps them.
        let text = "l:\n- >\n  &d z\n- &e |\n  &f y\n- !t &g >+\n  &h\n\nm: *e\n";
        assert_eq!(props_of(text, 0), ["&e", "&g", "*e"]);
        // A byte order mark, tags holding `&` (verbatim or not), and an entry of an inline
        // merge that the mapping overrides (the parser drops it, its quotes are still text).
        let text = "\u{feff}&r\nx: !<tag:h&q> &a 1\ny: !!str&q 2\nz: *a\nm: {<<: {b: \"x &q\", c: 'y *a'}, b: 2}\n";
        assert_eq!(props_of(text, 0), ["&r", "&a", "*a"]);
    }

    /// A compose file where `web` carries `&default`, `worker` merges it at the end, and
    /// `lookalike` (lines written in between) holds text that only looks like the anchor.
    fn shared_with(lookalike: &str) -> String {
        format!("services:\n  web: &default\n    image: app:1\n  one:\n{lookalike}  worker:\n    image: app:2\n    <<: *default\n")
    }

    #[test]
    fn anchor_lookalikes_in_scalars_and_comments_do_not_hide_later_users() {
        let lookalikes = [
            // Plain scalars, on one line and over several.
            "    entrypoint: see &default here\n",
            "    entrypoint: see\n      &default here\n",
            "    healthcheck: {test: run &default}\n",
            // A URL query string, with `&` after `?` or after a blank.
            "    url: http://x/?a=1&default=2\n",
            "    url: http://x/? &default=2\n",
            // Quoted scalars, on one line and over several.
            "    command: 'run &default now'\n",
            "    command: \"run &default now\"\n",
            "    command: \"run\n      &default now\"\n",
            "    command: ['&default', \"&default\", x &default]\n",
            // Block scalars, their first line and a later one.
            "    healthcheck: |\n      &default\n",
            "    healthcheck: >-\n      run\n      &default\n",
            // Comments, after a value and after a `#` inside quotes.
            "    # &default\n",
            "    image: app:1 # &default\n",
            "    labels: {a: \"#\"} # &default\n",
            // A key holding the text.
            "    see &default: 1\n",
        ];
        let services = [Seg::Key("services")];
        let text = shared_with("    image: app:1\n");
        let want = users_of(&text, &web());
        assert_eq!(
            want,
            vec![(2, "services.worker".into(), 8, true, "<<: *default".into())]
        );
        for lookalike in lookalikes {
            let text = shared_with(lookalike);
            let line = text.lines().count();
            assert_eq!(
                users_of(&text, &web()),
                vec![(
                    2,
                    "services.worker".into(),
                    line,
                    true,
                    "<<: *default".into()
                )],
                "{text}"
            );
            // Replacing the shared service is refused, naming the user.
            let e = set(&text, 0, &services, "web", &json!({"image": "app:3"})).unwrap_err();
            assert!(
                e.0.contains(&format!(
                    "services.web carries the anchor &default, which services.worker (line {line})"
                )),
                "{e}\n{text}"
            );
        }
    }

    #[test]
    fn uses_after_a_hash_inside_quotes_are_uses() {
        // A `#` inside quotes starts no comment: what follows on the line is still read.
        let text = "services:\n  web: &d\n    image: a\n  worker: {labels: {a: \"#1\"}, <<: *d}\n  copy: ['#', *d]\n";
        assert_eq!(
            users_of(text, &web()),
            vec![
                (2, "services.worker".into(), 4, true, "<<: *d".into()),
                (2, "services.copy[1]".into(), 5, false, "*d".into()),
            ]
        );
        let e = set(text, 0, &[Seg::Key("services")], "web", &json!({})).unwrap_err();
        assert!(e.0.contains("services.web carries the anchor &d"), "{e}");
        // The same for an anchor defined again after such a `#`: later aliases are the new
        // anchor's.
        let text = "services:\n  web: &d\n    image: a\n  db: {note: \"#\", x: &d {}}\n  worker:\n    <<: *d\n";
        assert_eq!(users_of(text, &web()), vec![]);
    }

    #[test]
    fn an_anchor_defined_again_as_a_property_still_ends_the_first_ones_users() {
        // Block style: the aliases before the second `&d` are the first anchor's, the ones
        // after it are not, wherever the second one is written.
        for again in [
            "  db: &d\n    image: b\n",
            "  db: {x: &d 1}\n",
            "  db:\n    - &d x\n",
            "  db: [y, &d x]\n",
            "  db:\n    &d k: v\n",
            "  db: &d \"quoted\"\n",
            "  db: !!str &d |\n    text\n",
        ] {
            let text = format!(
                "services:\n  web: &d\n    image: a\n  copy: *d\n{again}  worker:\n    <<: *d\n"
            );
            assert_eq!(
                users_of(&text, &web()),
                vec![(2, "services.copy".into(), 4, false, "*d".into())],
                "{text}"
            );
        }
        // Flow style.
        let text = "services: {web: &d {image: a}, copy: *d, db: &d {}, worker: {<<: *d}}\n";
        assert_eq!(
            users_of(text, &web()),
            vec![(2, "services.copy".into(), 1, false, "*d".into())]
        );
        // Text that only looks like the second anchor ends nothing.
        let text = "services: {web: &d {image: a}, db: {x: \"&d\", y: a &d}, worker: {<<: *d}}\n";
        assert_eq!(
            users_of(text, &web()),
            vec![(2, "services.worker".into(), 1, true, "<<: *d".into())]
        );
    }

    #[test]
    fn an_alias_written_as_a_flow_mapping_key_is_a_use() {
        let x = [Seg::Key("x")];
        for text in [
            "x: &k key\nm: {*k : 1}\n",
            "x: &k key\nm: { *k : 1, b: 2}\n",
            "x: &k key\nm: {b: 2,*k : 1}\n",
        ] {
            assert_eq!(
                users_of(text, &x),
                vec![(1, "m.key".into(), 2, false, "*k".into())],
                "{text}"
            );
            let e = set(text, 0, &[], "x", &json!("other")).unwrap_err();
            assert!(
                e.0.contains("x carries the anchor &k, which m.key (line 2)"),
                "{e}"
            );
        }
        // In block style too.
        let text = "x: &k key\nm:\n  *k : 1\n";
        assert_eq!(
            users_of(text, &x),
            vec![(1, "m.key".into(), 3, false, "*k".into())]
        );
        // Without a blank before the colon the parser reads `k:` as the alias's name, which no
        // anchor has: the file is not edited at all.
        let text = "x: &k key\nm: {*k: 1}\n";
        assert!(anchor_users(text, 0, &x).is_err());
        assert!(set(text, 0, &[], "x", &json!("other")).is_err());
    }

    #[test]
    fn anchor_lookalikes_in_other_documents_and_edits_of_lists_and_items() {
        // Each document has its own anchors; a lookalike in one document hides no use in it.
        let text = "services:\n  web: &d\n    image: a\n  x: \"&d\"\n---\nservices:\n  web: &d {}\n  x: see &d\n  worker: {<<: *d}\n---\nservices:\n  web: &d {}\n";
        assert_eq!(users_of(text, &web()), vec![]);
        let users = anchor_users(text, 1, &web()).unwrap();
        assert_eq!(
            users
                .iter()
                .map(|u| (u.label.as_str(), u.line, u.anchor_line))
                .collect::<Vec<_>>(),
            [("services.worker", 9, 7)]
        );
        assert_eq!(anchor_users(text, 2, &web()).unwrap(), vec![]);
        let services = [Seg::Key("services")];
        let e = set(text, 1, &services, "web", &json!({"image": "b"})).unwrap_err();
        assert!(e.0.contains("services.worker (line 9)"), "{e}");
        assert!(set(text, 0, &services, "web", &json!({"image": "b"})).is_ok());
        assert!(set(text, 2, &services, "web", &json!({"image": "b"})).is_ok());
        // An anchored list: lookalikes between it and its alias hide nothing.
        let caps = [Seg::Key("x-caps")];
        let text = "x-caps: &caps [NET_ADMIN]\nnote: \"&caps\"\nurl: http://h/?a&caps\nservices:\n  a:\n    cap_add: *caps\n";
        let e = append(text, 0, &caps, &json!("SYS_TIME")).unwrap_err();
        assert!(
            e.0.contains("x-caps carries the anchor &caps, which services.a.cap_add (line 6)"),
            "{e}"
        );
        // An anchored item, with the same lookalikes in the list itself.
        let l = [Seg::Key("l")];
        let text = "l:\n  - &a p\n  - \"&a\"\n  - x &a\n  - *a\n";
        let e = replace_item(text, 0, &l, 0, &json!("z")).unwrap_err();
        assert!(
            e.0.contains("l[0] carries the anchor &a, which l[3] (line 5)"),
            "{e}"
        );
        let text = "l: [&a p, \"&a\", x &a, *a]\n";
        let e = replace_item(text, 0, &l, 0, &json!("z")).unwrap_err();
        assert!(
            e.0.contains("l[0] carries the anchor &a, which l[3] (line 1)"),
            "{e}"
        );
        // A block scalar item whose text starts like an anchor carries none: it is an
        // ordinary value, and the alias further down repeats the real anchor.
        let text = "x: &d 1\nl:\n- >\n  &d z\n- q\ny: *d\n";
        assert_eq!(
            replace_item(text, 0, &l, 0, &json!("w")).unwrap(),
            "x: &d 1\nl:\n- w\n- q\ny: *d\n"
        );
        let e = set(text, 0, &[], "x", &json!(2)).unwrap_err();
        assert!(
            e.0.contains("x carries the anchor &d, which y (line 6)"),
            "{e}"
        );
    }
}
