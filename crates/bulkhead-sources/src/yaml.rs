//! YAML (and JSON) documents as trees of nodes that remember where they came from.
//!
//! Owns: parsing a multi-document stream with `saphyr-parser` (a maintained, pure-Rust YAML 1.2
//! parser), byte spans and line/column for every node, anchors, aliases and `<<` merge keys,
//! limits against hostile input (depth, node count, alias bombs), conversion of a node to
//! `serde_json::Value`, and the one boolean reader the scanners use. [`parse_stream`] is the
//! strict reading the scanner uses: a mapping key written twice is an error (as kubectl's strict
//! decoding and compose-go make it), and one broken document does not hide the others.
//!
//! Scalars keep the text as written plus their style, because what a scalar *means* depends on
//! who reads it: Kubernetes decodes YAML with go-yaml v2 (YAML 1.1: `yes`, `on`, `y` are
//! booleans; see sigs.k8s.io/yaml), Compose with go-yaml v3 and then converts strings such as
//! `"yes"` to booleans for boolean fields, daemon.json is JSON. [`Schema`] and [`BoolDialect`]
//! name those readers explicitly instead of guessing.

use crate::span::{Limits, LineIndex, Pos, SourceError, Span};
use saphyr_parser::{Event, Parser, ScalarStyle as RawStyle};
use serde_json::Value;
use std::collections::HashMap;

/// How a scalar was written. Quoted and block scalars are always strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl Style {
    pub fn is_plain(self) -> bool {
        self == Style::Plain
    }
}

/// A scalar as written: its (unescaped) value, style and explicit tag (`!!str`, `!!bool`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub value: String,
    pub style: Style,
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in source order, `<<` merges already applied (explicit keys win over merged ones).
    Map(Vec<(Node, Node)>),
}

/// A node and the span of source text it came from. An alias node carries the span of the
/// anchored node it repeats (that is where a fix would have to edit).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

/// One document of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// 0-based position in the stream.
    pub index: usize,
    pub root: Node,
    pub span: Span,
}

/// Which reader's rules give a plain scalar its type when converting to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// YAML 1.1 as go-yaml v2 resolves it; this is what Kubernetes (sigs.k8s.io/yaml) uses:
    /// `yes/no/on/off/y/n` are booleans, `0755` is octal.
    Yaml11,
    /// YAML 1.2 core schema (go-yaml v3, Compose, JSON): only `true/false` (any of three
    /// casings) are booleans.
    Core,
}

/// Which reader decides whether a value is a boolean (see [`Node::as_bool`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolDialect {
    /// The Kubernetes API (sigs.k8s.io/yaml over go-yaml v2): an unquoted YAML 1.1 boolean
    /// (`true`, `True`, `TRUE`, `yes`, `Yes`, `YES`, `y`, `Y`, `on`, `On`, `ON` and their
    /// negatives). A quoted `"true"` is a string, which the API refuses for a boolean field, so it
    /// is not a boolean here either.
    Kubernetes,
    /// Docker Compose (compose-go): the YAML 1.2 booleans, plus any scalar, quoted or not, that
    /// reads `y`, `yes`, `true`, `on` / `n`, `no`, `false`, `off` in any letter case (compose-go
    /// converts such strings for boolean fields).
    Compose,
    /// JSON and strict YAML 1.2 core: `true`/`false` (and `True`, `TRUE`, `False`, `FALSE` in YAML).
    Core,
}

impl Node {
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's text as written (quoted or not); `None` for collections.
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.value.as_str())
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            NodeKind::Seq(v) => Some(v),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.kind {
            NodeKind::Map(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind, NodeKind::Map(_))
    }

    /// A null: `~`, `null` (three casings) or nothing, unquoted and untagged.
    pub fn is_null(&self) -> bool {
        match self.as_scalar() {
            Some(s) => {
                s.style.is_plain()
                    && s.tag.is_none()
                    && matches!(s.value.as_str(), "" | "~" | "null" | "Null" | "NULL")
            }
            None => false,
        }
    }

    /// The key node and value node of mapping entry `key` (the last one when a key repeats, as
    /// the Go decoders do).
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The value of mapping entry `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Follow a path of mapping keys.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// The value read as a boolean the way `dialect` reads it; `None` when that reader would not
    /// see a boolean (a number, a mapping, an unresolved `${VAR}`, a quoted value for Kubernetes).
    pub fn as_bool(&self, dialect: BoolDialect) -> Option<bool> {
        let s = self.as_scalar()?;
        if let Some(tag) = &s.tag {
            if tag != "!!bool" && !(dialect == BoolDialect::Compose && tag == "!!str") {
                return None;
            }
        }
        match dialect {
            BoolDialect::Kubernetes => {
                if !s.style.is_plain() {
                    return None;
                }
                yaml11_bool(&s.value)
            }
            BoolDialect::Compose => match s.value.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" | "true" | "on" => Some(true),
                "n" | "no" | "false" | "off" => Some(false),
                _ => None,
            },
            BoolDialect::Core => {
                if !s.style.is_plain() {
                    return None;
                }
                core_bool(&s.value)
            }
        }
    }

    /// The value as an integer (plain scalars only, in `schema`'s notation).
    pub fn as_i64(&self, schema: Schema) -> Option<i64> {
        match scalar_to_json(self.as_scalar()?, schema) {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    /// Convert to JSON, typing plain scalars by `schema`. Mapping keys become strings;
    /// numbers that JSON cannot hold (`.inf`, `.nan`) stay strings.
    pub fn to_json(&self, schema: Schema) -> Value {
        match &self.kind {
            NodeKind::Scalar(s) => scalar_to_json(s, schema),
            NodeKind::Seq(items) => Value::Array(items.iter().map(|n| n.to_json(schema)).collect()),
            NodeKind::Map(entries) => {
                let mut m = serde_json::Map::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = match &k.kind {
                        NodeKind::Scalar(s) => match scalar_to_json(s, schema) {
                            Value::String(s) => s,
                            Value::Null => "null".to_string(),
                            other => other.to_string(),
                        },
                        _ => serde_json::to_string(&k.to_json(schema)).unwrap_or_default(),
                    };
                    m.insert(key, v.to_json(schema));
                }
                Value::Object(m)
            }
        }
    }

    /// Number of nodes in this tree (this node included).
    pub fn count(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar(_) => 1,
            NodeKind::Seq(v) => 1 + v.iter().map(Node::count).sum::<usize>(),
            NodeKind::Map(v) => 1 + v.iter().map(|(k, v)| k.count() + v.count()).sum::<usize>(),
        }
    }
}

fn yaml11_bool(v: &str) -> Option<bool> {
    match v {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn core_bool(v: &str) -> Option<bool> {
    match v {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn scalar_to_json(s: &Scalar, schema: Schema) -> Value {
    let text = s.value.as_str();
    let as_string = || Value::String(s.value.clone());
    match s.tag.as_deref() {
        Some("!!str") | Some("!!binary") | Some("!!timestamp") => return as_string(),
        Some("!!bool") | Some("!!int") | Some("!!float") | Some("!!null") | None => {}
        Some(_) => return as_string(),
    }
    if !s.style.is_plain() {
        return as_string();
    }
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Value::Null;
    }
    let b = match schema {
        Schema::Yaml11 => yaml11_bool(text),
        Schema::Core => core_bool(text),
    };
    if let Some(b) = b {
        return Value::Bool(b);
    }
    if let Some(i) = parse_int(text, schema) {
        return Value::from(i);
    }
    if let Some(f) = parse_float(text) {
        if let Some(n) = serde_json::Number::from_f64(f) {
            return Value::Number(n);
        }
    }
    as_string()
}

fn parse_int(text: &str, schema: Schema) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let cleaned: String;
    let body = if schema == Schema::Yaml11 && body.contains('_') {
        cleaned = body.replace('_', "");
        cleaned.as_str()
    } else {
        body
    };
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = body.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = body.strip_prefix("0b").filter(|_| schema == Schema::Yaml11) {
        (2, b)
    } else if schema == Schema::Yaml11 && body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -v } else { v })
}

fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim_start_matches(['-', '+']);
    let first = t.chars().next()?;
    if !(first.is_ascii_digit() || first == '.') {
        return None;
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+'))
    {
        return None;
    }
    text.parse::<f64>().ok()
}

/// Parse every document of a YAML (or JSON) stream. An empty stream gives no documents.
pub fn parse(text: &str) -> Result<Vec<Document>, SourceError> {
    parse_with(text, &Limits::default())
}

/// [`parse`] with explicit limits.
pub fn parse_with(text: &str, limits: &Limits) -> Result<Vec<Document>, SourceError> {
    if text.len() > limits.max_bytes {
        return Err(SourceError::at(
            1,
            1,
            format!(
                "input is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        ));
    }
    let mut b = Builder::new(text, limits, Pos::default(), false);
    b.run()?;
    Ok(b.docs)
}

/// A stream read document by document: the documents that parse, and an error for each one that
/// does not.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stream {
    pub documents: Vec<Document>,
    pub errors: Vec<DocumentError>,
}

/// A document that could not be read: the error, and the text the document spans (from its
/// `---` to the next one), so callers can tell what belongs to it.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentError {
    pub error: SourceError,
    pub span: Span,
}

/// Parse a stream the way the scanner reads Kubernetes manifests and compose files:
///
/// - strictly: a mapping key written twice in one mapping (`<<` merge keys aside) is an error
///   naming the key and both lines, as kubectl's strict decoding and compose-go report it, since
///   which of the two values counts is ambiguous;
/// - per document: when the stream does not parse as a whole, it is split at its document
///   markers (`---` at the start of a line, which YAML never allows inside a scalar) and each
///   document is parsed on its own, keeping the positions of the whole text, so one broken
///   document costs only itself. If every document parses on its own but the stream does not,
///   the stream's own error is reported and no document is returned.
pub fn parse_stream(text: &str, limits: &Limits) -> Stream {
    let whole = |error: SourceError| {
        let lines = LineIndex::new(text);
        DocumentError {
            error,
            span: Span::new(Pos::default(), lines.pos(text, text.len())),
        }
    };
    if text.len() > limits.max_bytes {
        return Stream {
            documents: Vec::new(),
            errors: vec![whole(SourceError::at(
                1,
                1,
                format!(
                    "input is {} bytes, more than the limit of {} bytes",
                    text.len(),
                    limits.max_bytes
                ),
            ))],
        };
    }
    let mut b = Builder::new(text, limits, Pos::default(), true);
    let stream_error = match b.run() {
        Ok(()) => {
            return Stream {
                documents: b.docs,
                errors: Vec::new(),
            }
        }
        Err(e) => e,
    };
    let chunks = split_documents(text);
    if chunks.len() <= 1 {
        return Stream {
            documents: Vec::new(),
            errors: vec![whole(stream_error)],
        };
    }
    let lines = LineIndex::new(text);
    let mut out = Stream::default();
    // One node budget for the whole file, so many documents cannot multiply it.
    let mut nodes = 0;
    let mut index = 0;
    for range in chunks {
        let base = lines.pos(text, range.start);
        let chunk = &text[range.clone()];
        let mut b = Builder::new(chunk, limits, base, true);
        b.nodes = nodes;
        let result = b.run();
        nodes = b.nodes;
        match result {
            Ok(()) => {
                for mut d in b.docs {
                    d.index = index;
                    index += 1;
                    out.documents.push(d);
                }
            }
            Err(error) => {
                index += 1;
                let end = chunk.trim_end().len() + range.start;
                out.errors.push(DocumentError {
                    error,
                    span: Span::new(base, lines.pos(text, end)),
                });
            }
        }
    }
    if out.errors.is_empty() {
        // The split found no culprit: do not trust documents the stream as a whole refuses.
        return Stream {
            documents: Vec::new(),
            errors: vec![whole(stream_error)],
        };
    }
    out
}

/// Byte ranges of the documents of a stream, split before every line that is a document start
/// marker (`---` followed by a blank or the line end). Directive lines (`%YAML`) right before a
/// marker belong to the document it starts.
fn split_documents(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut starts = vec![0];
    let mut directives_from: Option<usize> = None;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let rest = line.strip_prefix("---");
        let marker = rest.is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '\r', '\n']));
        if marker && at > 0 {
            starts.push(directives_from.unwrap_or(at));
        }
        if line.starts_with('%') {
            directives_from.get_or_insert(at);
        } else {
            directives_from = None;
        }
        at += line.len();
    }
    starts.dedup();
    let mut ranges: Vec<std::ops::Range<usize>> = starts.windows(2).map(|w| w[0]..w[1]).collect();
    ranges.push(*starts.last().unwrap_or(&0)..text.len());
    ranges.retain(|r| !r.is_empty());
    ranges
}

/// Turns saphyr's character indices into our byte positions.
struct Locator<'t> {
    text: &'t str,
    lines: LineIndex,
    /// Byte offset of each character, only for non-ASCII text (ASCII: index == offset).
    char_offsets: Option<Vec<u32>>,
    /// Where `text` starts in the whole file (it is one document of it when parsed on its own);
    /// `text` always starts at the beginning of a line.
    base: Pos,
}

impl<'t> Locator<'t> {
    fn new(text: &'t str, base: Pos) -> Self {
        let char_offsets = (!text.is_ascii()).then(|| {
            let mut v: Vec<u32> = text.char_indices().map(|(i, _)| i as u32).collect();
            v.push(text.len() as u32);
            v
        });
        Locator {
            text,
            lines: LineIndex::new(text),
            char_offsets,
            base,
        }
    }

    fn pos(&self, char_index: usize) -> Pos {
        let offset = match &self.char_offsets {
            None => char_index,
            Some(v) => v
                .get(char_index)
                .map(|&o| o as usize)
                .unwrap_or(self.text.len()),
        };
        self.byte_pos(offset)
    }

    /// The position of byte `offset` of `text`, in the whole file.
    fn byte_pos(&self, offset: usize) -> Pos {
        let p = self.lines.pos(self.text, offset);
        Pos {
            offset: p.offset + self.base.offset,
            line: p.line + self.base.line.max(1) - 1,
            column: p.column,
        }
    }

    fn span(&self, s: saphyr_parser::Span) -> Span {
        Span::new(self.pos(s.start.index()), self.pos(s.end.index()))
    }
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: Pos,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        start: Pos,
        anchor: usize,
        /// Keys written so far and where (only when duplicates are refused).
        seen: HashMap<String, Pos>,
    },
}

struct Builder<'t> {
    text: &'t str,
    limits: Limits,
    loc: Locator<'t>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    docs: Vec<Document>,
    doc_start: Pos,
    root: Option<Node>,
    /// A key written twice in one mapping is an error (else the last one wins, as in go-yaml).
    reject_duplicates: bool,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, limits: &Limits, base: Pos, reject_duplicates: bool) -> Self {
        let loc = Locator::new(text, base);
        Builder {
            text,
            limits: *limits,
            doc_start: loc.byte_pos(0),
            loc,
            stack: Vec::new(),
            anchors: HashMap::new(),
            nodes: 0,
            docs: Vec::new(),
            root: None,
            reject_duplicates,
        }
    }

    fn run(&mut self) -> Result<(), SourceError> {
        let mut parser = Parser::new_from_str(self.text);
        while let Some(event) = parser.next_event() {
            let (event, span) = event.map_err(|e| {
                let p = self.loc.pos(e.marker().index());
                if e.info().contains("recursion limit") {
                    SourceError::new(p, "nesting deeper than the YAML parser's recursion limit; refusing to parse further")
                } else {
                    SourceError::new(p, format!("invalid YAML: {}", e.info()))
                }
            })?;
            let span = self.loc.span(span);
            match event {
                Event::StreamStart | Event::Nothing => {}
                Event::StreamEnd => break,
                Event::DocumentStart(_) => {
                    self.doc_start = span.start;
                    self.root = None;
                    // Anchors are scoped to their document.
                    self.anchors.clear();
                }
                Event::DocumentEnd => {
                    let root = self.root.take().unwrap_or(Node {
                        kind: NodeKind::Scalar(Scalar {
                            value: String::new(),
                            style: Style::Plain,
                            tag: None,
                        }),
                        span: Span::empty(self.doc_start),
                    });
                    let end = if span.end.offset > root.span.end.offset {
                        span.end
                    } else {
                        root.span.end
                    };
                    self.docs.push(Document {
                        index: self.docs.len(),
                        span: Span::new(self.doc_start, end),
                        root,
                    });
                }
                Event::Scalar(value, style, anchor, tag) => {
                    // The event parser ends a quoted scalar's span wherever it stopped looking
                    // ahead (after the spaces and a comment that follow it): cut it back to the
                    // closing quote, so an edit of the value leaves what follows it alone.
                    let span = match style {
                        RawStyle::SingleQuoted | RawStyle::DoubleQuoted => {
                            quoted_end(self.text, &self.loc, span)
                        }
                        _ => span,
                    };
                    let node = Node {
                        kind: NodeKind::Scalar(Scalar {
                            value: value.into_owned(),
                            style: match style {
                                RawStyle::Plain => Style::Plain,
                                RawStyle::SingleQuoted => Style::SingleQuoted,
                                RawStyle::DoubleQuoted => Style::DoubleQuoted,
                                RawStyle::Literal => Style::Literal,
                                RawStyle::Folded => Style::Folded,
                            },
                            tag: tag.map(|t| short_tag(&t.handle, &t.suffix)),
                        }),
                        span,
                    };
                    self.count(1, span.start)?;
                    self.remember(anchor, &node, 1);
                    self.push(node, span.start)?;
                }
                Event::Alias(id) => {
                    let (node, size) = self.anchors.get(&id).cloned().ok_or_else(|| {
                        SourceError::new(span.start, "alias refers to an unknown anchor")
                    })?;
                    self.count(size, span.start)?;
                    self.push(node, span.start)?;
                }
                Event::SequenceStart(anchor, _) => {
                    self.enter(span.start)?;
                    self.stack.push(Frame::Seq {
                        items: Vec::new(),
                        start: span.start,
                        anchor,
                    });
                }
                Event::MappingStart(anchor, _) => {
                    self.enter(span.start)?;
                    self.stack.push(Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        start: span.start,
                        anchor,
                        seen: HashMap::new(),
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let frame = self
                        .stack
                        .pop()
                        .ok_or_else(|| SourceError::new(span.start, "unbalanced collection end"))?;
                    // A flow collection's end event starts at its closing bracket but runs on
                    // over the spaces and a comment after it: the collection ends at the bracket.
                    let at = span.start.offset - self.loc.base.offset;
                    let end = if span.end.offset > span.start.offset
                        && self
                            .text
                            .as_bytes()
                            .get(at)
                            .is_some_and(|b| b"]}".contains(b))
                    {
                        self.loc.byte_pos(at + 1)
                    } else {
                        span.end
                    };
                    let (kind, start, anchor) = match frame {
                        Frame::Seq {
                            items,
                            start,
                            anchor,
                        } => (NodeKind::Seq(items), start, anchor),
                        Frame::Map {
                            entries,
                            start,
                            anchor,
                            ..
                        } => (NodeKind::Map(apply_merges(entries)), start, anchor),
                    };
                    let end = if end.offset >= start.offset {
                        end
                    } else {
                        start
                    };
                    let node = Node {
                        kind,
                        span: Span::new(start, trim_end(self.text, &self.loc, start, end)),
                    };
                    self.count(1, start)?;
                    if anchor != 0 {
                        let size = node.count();
                        self.remember(anchor, &node, size);
                    }
                    self.push(node, start)?;
                }
            }
        }
        Ok(())
    }

    fn enter(&self, at: Pos) -> Result<(), SourceError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(SourceError::new(
                at,
                format!(
                    "nesting deeper than {} levels; refusing to parse further",
                    self.limits.max_depth
                ),
            ));
        }
        Ok(())
    }

    fn count(&mut self, n: usize, at: Pos) -> Result<(), SourceError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(SourceError::new(
                at,
                format!(
                    "more than {} nodes (counting alias expansions); refusing to expand further",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node, size: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
    }

    fn push(&mut self, node: Node, at: Pos) -> Result<(), SourceError> {
        match self.stack.last_mut() {
            None => {
                self.root = Some(node);
                Ok(())
            }
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Frame::Map {
                entries, key, seen, ..
            }) => {
                match key.take() {
                    None => {
                        if self.reject_duplicates {
                            if let Some(name) = node.as_str().filter(|k| *k != "<<") {
                                if let Some(first) = seen.insert(name.to_string(), node.span.start)
                                {
                                    return Err(duplicate_key(name, first, node.span.start));
                                }
                            }
                        }
                        *key = Some(node)
                    }
                    Some(k) => entries.push((k, node)),
                }
                let _ = at;
                Ok(())
            }
        }
    }
}

/// `span` of a quoted scalar ended just after its closing quote. The span starts at the
/// scalar's properties (`&anchor`, `!tag`) or its opening quote; the closing quote is found as a
/// YAML reader finds it: in double quotes a backslash escapes the next character (`\"`, `\\`),
/// in single quotes a doubled quote (`''`) is one quote, and a `#` inside the quotes is text.
/// When the text does not read that way the span is returned unchanged.
fn quoted_end(text: &str, loc: &Locator<'_>, span: Span) -> Span {
    let base = loc.base.offset;
    let (Some(start), Some(end)) = (
        span.start.offset.checked_sub(base),
        span.end.offset.checked_sub(base),
    ) else {
        return span;
    };
    let Some(written) = text.get(start..end.min(text.len())) else {
        return span;
    };
    let bytes = written.as_bytes();
    let mut i = 0;
    // Skip the node's properties: each runs to the next blank or line break.
    while matches!(bytes.get(i), Some(b'&') | Some(b'!')) {
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
    }
    let quote = match bytes.get(i) {
        Some(&q @ (b'"' | b'\'')) => q,
        _ => return span,
    };
    i += 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => {
                return Span::new(span.start, loc.byte_pos(start + i + 1));
            }
            _ => i += 1,
        }
    }
    span
}

/// Mapping ends are reported after trailing line breaks; keep spans on the last content byte.
fn trim_end(text: &str, loc: &Locator<'_>, start: Pos, end: Pos) -> Pos {
    let base = loc.base.offset;
    let slice = text
        .get(start.offset - base..end.offset - base)
        .unwrap_or("");
    let trimmed = slice.trim_end();
    if trimmed.len() == slice.len() {
        end
    } else {
        loc.byte_pos(start.offset - base + trimmed.len())
    }
}

/// The error for a mapping key written a second time.
fn duplicate_key(name: &str, first: Pos, again: Pos) -> SourceError {
    let shown: String = name.chars().take(60).collect();
    let more = if shown.len() < name.len() { "..." } else { "" };
    SourceError::new(
        again,
        format!(
            "duplicate mapping key {:?}: written on line {} and again on line {}; kubectl and docker compose refuse this, and which value counts is ambiguous",
            format!("{shown}{more}"),
            first.line,
            again.line
        ),
    )
}

fn short_tag(handle: &str, suffix: &str) -> String {
    if handle == "tag:yaml.org,2002:" || handle == "!!" {
        format!("!!{suffix}")
    } else {
        format!("{handle}{suffix}")
    }
}

/// Apply YAML merge keys (`<<: *base` or `<<: [*a, *b]`): merged entries are added for keys not
/// written explicitly; among several sources the first one wins.
fn apply_merges(entries: Vec<(Node, Node)>) -> Vec<(Node, Node)> {
    let is_merge = |k: &Node| {
        k.as_scalar()
            .is_some_and(|s| s.style.is_plain() && s.value == "<<")
    };
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return entries;
    }
    let (merges, mut explicit): (Vec<_>, Vec<_>) =
        entries.into_iter().partition(|(k, _)| is_merge(k));
    let mut sources: Vec<Node> = Vec::new();
    for (_, v) in merges {
        match v.kind {
            NodeKind::Map(_) => sources.push(v),
            NodeKind::Seq(items) => sources.extend(items.into_iter().filter(Node::is_map)),
            NodeKind::Scalar(_) => {}
        }
    }
    for src in sources {
        if let NodeKind::Map(src_entries) = src.kind {
            for (k, v) in src_entries {
                let present = explicit
                    .iter()
                    .any(|(ek, _)| ek.as_str().is_some() && ek.as_str() == k.as_str());
                if !present {
                    explicit.push((k, v));
                }
            }
        }
    }
    explicit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = parse(text).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0).root
    }

    #[test]
    fn spans_and_positions_of_nested_nodes() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - name: app\n      image: nginx:1.25\n";
        let root = one(text);
        let image = root
            .path(&["spec", "containers"])
            .and_then(|c| c.as_seq())
            .map(|c| &c[0])
            .and_then(|c| c.get("image"))
            .unwrap();
        assert_eq!(image.as_str(), Some("nginx:1.25"));
        assert_eq!((image.span.start.line, image.span.start.column), (6, 14));
        assert_eq!(image.span.text(text), "nginx:1.25");
        let container = &root
            .path(&["spec", "containers"])
            .unwrap()
            .as_seq()
            .unwrap()[0];
        assert_eq!(container.span.start.line, 5);
        assert!(container.span.text(text).ends_with("nginx:1.25"));
    }

    /// The first item of a list document, else the value of its key `a`.
    fn first_value(root: &Node) -> &Node {
        match &root.kind {
            NodeKind::Seq(items) => &items[0],
            _ => root.get("a").unwrap(),
        }
    }

    /// A quoted scalar's span covers its quotes and nothing after them: not the spaces, nor a
    /// comment, nor a `#` written inside the quotes taken for one.
    #[test]
    fn quoted_scalar_spans_end_at_the_closing_quote() {
        let cases = [
            ("a: \"AlwaysAllow\"   # set by kubeadm\n", "\"AlwaysAllow\""),
            ("a: 'true' # keep\n", "'true'"),
            ("a: \"a#b\" # c\n", "\"a#b\""),
            ("a: \"a\\\"b\" # c\n", "\"a\\\"b\""),
            ("a: \"a\\\\\" # c\n", "\"a\\\\\""),
            ("a: 'it''s' #c\n", "'it''s'"),
            ("a: 'x'", "'x'"),
            ("a: \"x\"  # c\r\nb: 1\r\n", "\"x\""),
            ("a: \"x\"\nb: 1\n", "\"x\""),
            ("a: &anchor \"x\" # c\n", "&anchor \"x\""),
            ("a: \"é#ü\"  # ö\n", "\"é#ü\""),
            ("a: \"two\n  lines\"  # c\n", "\"two\n  lines\""),
            ("a: [\"x\" , 'y' ]  # c\n", "[\"x\" , 'y' ]"),
            ("a: {k: \"x\" }  # c\n", "{k: \"x\" }"),
            ("- \"--x=1\"   # c\n", "\"--x=1\""),
        ];
        for (text, want) in cases {
            assert_eq!(first_value(&one(text)).span.text(text), want, "in {text:?}");
        }
        let root = one("a: [\"x\" , 'y' ]  # c\n");
        let items = root.get("a").unwrap().as_seq().unwrap();
        assert_eq!(items[0].span.text("a: [\"x\" , 'y' ]  # c\n"), "\"x\"");
        assert_eq!(items[1].span.text("a: [\"x\" , 'y' ]  # c\n"), "'y'");
        let text = "a: {k: \"x\" , j: 'y'}\n";
        let root = one(text);
        let m = root.get("a").unwrap();
        assert_eq!(m.get("k").unwrap().span.text(text), "\"x\"");
        assert_eq!(m.get("j").unwrap().span.text(text), "'y'");
    }

    /// A flow collection ends at its closing bracket, not after the comment that follows it
    /// (which may hold brackets of its own).
    #[test]
    fn flow_collection_spans_end_at_the_closing_bracket() {
        let cases = [
            ("a: [x, y]  # see [docs]\nb: 1\n", "[x, y]"),
            ("a: {k: x}  # {c}\n", "{k: x}"),
            ("a: [x, 'y']  # c\n", "[x, 'y']"),
            ("a: [x,\n  y\n]  # c\n", "[x,\n  y\n]"),
            ("a: [x, y]\n", "[x, y]"),
            ("- [x, y]  # c\n- 1\n", "[x, y]"),
        ];
        for (text, want) in cases {
            assert_eq!(first_value(&one(text)).span.text(text), want, "in {text:?}");
        }
        // Each document of a stream split at its markers keeps whole-file offsets.
        let text = "a: [1\n---\nb: {k: 'v'}  # c\n";
        let stream = parse_stream(text, &Limits::default());
        let b = stream.documents[0].root.get("b").unwrap();
        assert_eq!(b.span.text(text), "{k: 'v'}");
        assert_eq!(b.get("k").unwrap().span.text(text), "'v'");
        let text = "a: [1\n---\nb: 'v'  # c\n";
        let stream = parse_stream(text, &Limits::default());
        let b = stream.documents[0].root.get("b").unwrap();
        assert_eq!(b.span.text(text), "'v'");
    }

    #[test]
    fn multi_document_streams_and_empty_documents() {
        let docs = parse("a: 1\n---\nb: 2\n---\n# only a comment\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].root.get("b").unwrap().span.start.line, 3);
        assert!(docs[2].root.is_null());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn json_input_is_parsed_with_positions() {
        let text = "{\n\t\"kind\": \"Pod\",\n\t\"spec\": {\"hostPID\": true}\n}\n";
        let root = one(text);
        assert_eq!(root.get("kind").unwrap().as_str(), Some("Pod"));
        let host_pid = root.path(&["spec", "hostPID"]).unwrap();
        assert_eq!(host_pid.as_bool(BoolDialect::Core), Some(true));
        assert_eq!(host_pid.span.start.line, 3);
    }

    #[test]
    fn kubernetes_reads_yaml_1_1_booleans_unquoted_only() {
        let root = one("a: yes\nb: \"true\"\nc: On\nd: n\ne: 1\nf: TRUE\n");
        let k = |key: &str| root.get(key).unwrap().as_bool(BoolDialect::Kubernetes);
        assert_eq!(k("a"), Some(true));
        assert_eq!(k("b"), None, "a quoted string is not a boolean for the API");
        assert_eq!(k("c"), Some(true));
        assert_eq!(k("d"), Some(false));
        assert_eq!(k("e"), None);
        assert_eq!(k("f"), Some(true));
    }

    #[test]
    fn compose_reads_quoted_and_any_case_booleans() {
        let root = one("a: \"yes\"\nb: 'On'\nc: nope\nd: ${PRIV}\n");
        let c = |key: &str| root.get(key).unwrap().as_bool(BoolDialect::Compose);
        assert_eq!(c("a"), Some(true));
        assert_eq!(c("b"), Some(true));
        assert_eq!(c("c"), None);
        assert_eq!(c("d"), None);
        let core = |key: &str| root.get(key).unwrap().as_bool(BoolDialect::Core);
        assert_eq!(core("a"), None);
    }

    #[test]
    fn to_json_types_scalars_by_schema() {
        let root = one("a: yes\nb: 0755\nc: '1'\nd: ~\ne: 1.5\nf: [x, 2]\ng: !!str true\n");
        let k8s = root.to_json(Schema::Yaml11);
        assert_eq!(
            k8s,
            serde_json::json!({"a": true, "b": 493, "c": "1", "d": null, "e": 1.5, "f": ["x", 2], "g": "true"})
        );
        let core = root.to_json(Schema::Core);
        assert_eq!(core["a"], "yes");
        assert_eq!(core["b"], 755);
    }

    #[test]
    fn merge_keys_and_aliases_resolve() {
        let root = one(
            "base: &b\n  privileged: true\n  user: root\nsvc:\n  <<: *b\n  user: app\nother: *b\n",
        );
        let svc = root.get("svc").unwrap();
        assert_eq!(svc.get("user").unwrap().as_str(), Some("app"));
        assert_eq!(
            svc.get("privileged").unwrap().as_bool(BoolDialect::Compose),
            Some(true)
        );
        // merged entries keep the span of the anchored text
        assert_eq!(svc.get("privileged").unwrap().span.start.line, 2);
        assert_eq!(
            root.get("other").unwrap().get("user").unwrap().as_str(),
            Some("root")
        );
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = parse("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(e.line >= 2, "{e}");
        assert!(e.to_string().starts_with("line "), "{e}");
        let e = parse("a:\n  - x\n - y\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn hostile_depth_is_refused_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        let e = parse(&deep).unwrap_err();
        assert!(e.message.contains("nesting deeper"), "{e}");
        assert_eq!(e.line, 1);
        let nested_maps: String = (0..500).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        let e = parse(&nested_maps).unwrap_err();
        assert!(e.message.contains("nesting deeper"), "{e}");
        assert!(e.line > 100, "error points at the too-deep line: {e}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = format!("*a{}", i - 1);
            bomb.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                [prev.as_str(); 10].join(", ")
            ));
        }
        // 10^12 nodes if expanded: the node budget must stop it with an error.
        let e = parse(&bomb).unwrap_err();
        assert!(e.message.contains("alias expansions"), "{e}");
    }

    #[test]
    fn duplicate_keys_are_errors_naming_the_key_and_both_lines() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: c\n    securityContext:\n      privileged: true\n      privileged: false\n";
        let s = parse_stream(text, &Limits::default());
        assert!(s.documents.is_empty());
        assert_eq!(s.errors.len(), 1);
        let e = &s.errors[0].error;
        assert_eq!((e.line, e.column), (8, 7), "{e}");
        assert!(e.message.contains("\"privileged\""), "{e}");
        assert!(
            e.message.contains("line 7") && e.message.contains("line 8"),
            "{e}"
        );
        // Flow mappings and JSON too; merge keys and keys of different mappings are no duplicates.
        let e = &parse_stream("{\"a\": 1, \"a\": 2}\n", &Limits::default()).errors[0];
        assert!(e.error.message.contains("\"a\""), "{}", e.error);
        let ok = "b: &b {x: 1}\nc: &c {y: 1}\nm:\n  <<: *b\n  <<: *c\n  x: 2\nn: {x: 3}\n";
        let s = parse_stream(ok, &Limits::default());
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        // The lenient reading keeps the last value, as the Go decoders do without strictness.
        let root = one("a: 1\na: 2\n");
        assert_eq!(root.get("a").unwrap().as_str(), Some("2"));
    }

    #[test]
    fn one_broken_document_does_not_hide_the_others() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: first}\nspec:\n  hostPID: true\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: second\nspec: {}\n---\n# third\napiVersion: v1\nkind: Pod\nmetadata:\n  name: third\n  name: again\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: fourth, namespace: \"é\"}\n";
        let s = parse_stream(text, &Limits::default());
        let names: Vec<_> = s
            .documents
            .iter()
            .map(|d| {
                (
                    d.index,
                    d.root.path(&["metadata", "name"]).unwrap().as_str(),
                )
            })
            .collect();
        assert_eq!(names, vec![(0, Some("first")), (3, Some("fourth"))]);
        let lines: Vec<u32> = s.errors.iter().map(|e| e.error.line).collect();
        assert_eq!(lines, vec![10, 17], "{:?}", s.errors);
        assert!(s.errors[1].error.message.contains("\"name\""));
        assert_eq!(
            (s.errors[0].span.start.line, s.errors[0].span.end.line),
            (6, 10)
        );
        // Positions inside documents parsed on their own are those of the whole text.
        let first = s.documents[0].root.path(&["spec", "hostPID"]).unwrap();
        assert_eq!((first.span.start.line, first.span.start.column), (5, 12));
        let fourth = &s.documents[1].root;
        let ns = fourth.path(&["metadata", "namespace"]).unwrap();
        assert_eq!(ns.span.start.line, 21);
        assert_eq!(ns.span.text(text), "\"é\"");
        let kind = fourth.get("kind").unwrap();
        assert_eq!(kind.span.text(text), "Pod");
        assert_eq!(s.documents[1].span.start.line, 18);
        // A stream with one document and an error: that error, no documents.
        let s = parse_stream("a: [1\n", &Limits::default());
        assert!(s.documents.is_empty() && s.errors.len() == 1);
        // A `---` inside a block scalar's indented text is no marker; a valid stream is whole.
        let s = parse_stream("a: |\n  ---\n  x\n---\nb: 1\n", &Limits::default());
        assert_eq!(s.documents.len(), 2);
        assert!(s.errors.is_empty());
    }

    #[test]
    fn non_ascii_text_keeps_byte_spans_right() {
        let text = "name: \"héllo wörld\"\nimage: ümage\n";
        let root = one(text);
        let image = root.get("image").unwrap();
        assert_eq!(image.span.text(text), "ümage");
        assert_eq!((image.span.start.line, image.span.start.column), (2, 8));
    }
}
