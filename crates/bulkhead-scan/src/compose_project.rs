//! Compose projects: the files `docker compose` reads together, judged as the one model it
//! deploys.
//!
//! Owns: pairing a base file with its override file (compose's default names, in the same
//! directory), resolving `extends` (same file or another file, relative to the extending file),
//! merging the way compose-go merges (mappings key by key, scalars replaced, sequences
//! appended, `ports`/`volumes`/`cap_add`/... unique by their key, `environment` by name,
//! `command`/`entrypoint`/`healthcheck.test` replaced, `!reset`/`!override`), running the compose
//! rules once on the merged services, and handing each file the hits located in it. The rules
//! about secrets written in a file ([`compose_rules::AS_WRITTEN`]) are the exception: they
//! judge each file of the project as written, since a secret committed in the base file ships
//! in it whatever the override makes of the variable.
//!
//! A merged node keeps the span of the text it was written in; which file that is, is encoded
//! in the offset (file index times [`STRIDE`]), so the rules run unchanged on the merged model
//! and every hit can be placed in its file afterwards. The first file of a project has index 0:
//! a single file is scanned with its offsets as they are.

use crate::engine::Input;
use crate::engine::ScanOptions;
use crate::fixes::yaml as yaml_fix;
use crate::fixes::Splice;
use crate::model::{ArtifactKind, Edit, FileError};
use crate::rules::{compose as compose_rules, ComposeRule, Hit, Out};
use bulkhead_sources::compose::{self, Service};
use bulkhead_sources::yaml::{self, Document, Node, NodeKind, Scalar, Style};
use bulkhead_sources::{check_text, LineIndex, Span};
use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

/// The offset distance between the files of a project in merged spans.
pub const STRIDE: usize = 1 << 40;

/// compose-go's default file names, in its order of preference (cli/options.go).
pub const BASE_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yml",
    "docker-compose.yaml",
];
/// The override file compose reads after the base file found in the same directory.
pub const OVERRIDE_FILES: [&str; 4] = [
    "compose.override.yml",
    "compose.override.yaml",
    "docker-compose.override.yml",
    "docker-compose.override.yaml",
];

/// Group compose files (display paths) into projects: `[base, override]` when a directory holds
/// both under compose's default names (the first of each list present, as compose picks), and
/// every other file alone.
pub fn projects(paths: &[&str]) -> Vec<Vec<usize>> {
    let rank = |i: usize, names: &[&str]| {
        let name = Path::new(paths[i]).file_name()?.to_str()?;
        names.iter().position(|n| *n == name)
    };
    let dir = |i: usize| Path::new(paths[i]).parent().map(Path::to_path_buf);
    let chosen = |i: usize, names: &[&str]| {
        let r = rank(i, names)?;
        let better = (0..paths.len())
            .any(|j| j != i && dir(j) == dir(i) && rank(j, names).is_some_and(|s| s < r));
        (!better).then_some(())
    };
    let partner = |i: usize, names: &[&str]| {
        (0..paths.len()).find(|&j| j != i && dir(j) == dir(i) && chosen(j, names).is_some())
    };
    let mut out = Vec::new();
    for i in 0..paths.len() {
        if chosen(i, &OVERRIDE_FILES).is_some() && partner(i, &BASE_FILES).is_some() {
            continue; // read with its base
        }
        match chosen(i, &BASE_FILES).and_then(|_| partner(i, &OVERRIDE_FILES)) {
            Some(o) => out.push(vec![i, o]),
            None => out.push(vec![i]),
        }
    }
    out
}

/// What the project evaluation gives one file: the hits located in it and the errors about it.
#[derive(Default, Clone)]
pub struct Injected {
    pub hits: Vec<Hit>,
    pub errors: Vec<FileError>,
}

/// Hits and errors per display path, and the files outside the inputs that findings point into
/// (files named by `extends`), to be scanned for them.
#[derive(Default)]
pub struct Plan {
    pub files: HashMap<String, Injected>,
    pub extra: Vec<Input>,
}

pub struct ProjectFile {
    pub path: String,
    pub text: String,
    pub lines: LineIndex,
    pub docs: Vec<Document>,
}

/// Where a merged service's settings come from: one service definition in one file.
struct Origin {
    file: usize,
    service: String,
    span: Span,
    /// The service's own definition (the base or override file), not one it extends.
    own: bool,
}

pub struct Merged {
    name: String,
    key: Node,
    written: Node,
    resolved: Node,
    origins: Vec<Origin>,
}

pub struct Project {
    pub files: Vec<ProjectFile>,
    services: Vec<Merged>,
}

/// Evaluate every project among `compose` (display path, bytes): parse, resolve `extends`,
/// merge, run the compose rules. `read` gives the bytes of a file named by `extends`; such a
/// file is in [`Plan::extra`] when it holds a finding or error and is not in `inputs` (the
/// display paths of everything scanned).
pub fn plan(
    compose: &[(String, Vec<u8>)],
    inputs: &[String],
    read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
    opts: &ScanOptions,
) -> Plan {
    let paths: Vec<&str> = compose.iter().map(|(p, _)| p.as_str()).collect();
    let mut plan = Plan::default();
    let mut extra_texts: HashMap<String, String> = HashMap::new();
    for unit in projects(&paths) {
        let mut project = Project {
            files: Vec::new(),
            services: Vec::new(),
        };
        for &i in &unit {
            // A file that cannot be read is reported by its own scan; the others are judged.
            if let Some(f) = load(&compose[i].0, &compose[i].1, opts) {
                project.files.push(f);
            }
        }
        let unit_files = project.files.len();
        if unit_files == 0 {
            continue;
        }
        let errors = project.merge_files(unit_files, read, opts);
        for (path, e) in errors {
            if let Some(f) = project.files[unit_files..].iter().find(|f| f.path == path) {
                extra_texts.insert(path.clone(), f.text.clone());
            }
            plan.files.entry(path).or_default().errors.push(e);
        }
        let (as_written, on_merged): (Vec<_>, Vec<_>) = compose_rules::REGISTRY
            .iter()
            .copied()
            .partition(|(id, _)| compose_rules::AS_WRITTEN.contains(id));
        let mut out = Out::for_project(&project);
        let ctx = compose_rules::Ctx {
            services: project
                .services
                .iter()
                .map(|m| Service {
                    name: &m.name,
                    key: &m.key,
                    node: &m.resolved,
                })
                .collect(),
            written: project
                .services
                .iter()
                .map(|m| Service {
                    name: &m.name,
                    key: &m.key,
                    node: &m.written,
                })
                .collect(),
        };
        for f in crate::engine::enabled(&on_merged, &opts.config) {
            f(&ctx, &mut out);
        }
        let mut hits: Vec<(usize, Hit)> = std::mem::take(&mut out.hits)
            .into_iter()
            .map(|h| project.place(h))
            .collect();
        for (index, f) in project.files.iter().enumerate() {
            plan.files.entry(f.path.clone()).or_default();
            let as_written = project.as_written(index, unit_files, inputs, &as_written, opts);
            hits.extend(as_written.into_iter().map(|h| (index, h)));
        }
        for (file, h) in hits {
            let path = &project.files[file].path;
            let entry = plan.files.entry(path.clone()).or_default();
            // A file read by several projects (named by `extends`, or an input of its own) is
            // judged by each of them.
            let same = |o: &Hit| o.rule == h.rule && o.span == h.span && o.object == h.object;
            if !entry.hits.iter().any(same) {
                entry.hits.push(h);
            }
            if file >= unit_files {
                extra_texts.insert(path.clone(), project.files[file].text.clone());
            }
        }
    }
    for (path, text) in extra_texts {
        if !inputs.contains(&path) {
            plan.extra.push(Input {
                path,
                bytes: text.into_bytes(),
                kind: Some(ArtifactKind::Compose),
            });
        }
    }
    plan.extra.sort_by(|a, b| a.path.cmp(&b.path));
    plan
}

/// A compose file read strictly, as its own scan reads it; `None` when that scan reports an error.
fn load(path: &str, bytes: &[u8], opts: &ScanOptions) -> Option<ProjectFile> {
    let text = check_text(bytes, &opts.limits).ok()?;
    let stream = yaml::parse_stream(text, &opts.limits);
    if !stream.errors.is_empty() || stream.documents.len() != 1 {
        return None;
    }
    Some(ProjectFile {
        path: path.to_string(),
        lines: LineIndex::new(text),
        text: text.to_string(),
        docs: stream.documents,
    })
}

/// `a/b/../c` as `a/c`, and no `./`: the display path of a file found by walking.
fn normalize(p: &Path) -> String {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out.display().to_string()
}

fn shifted(node: &Node, by: usize) -> Node {
    let mut span = node.span;
    span.start.offset += by;
    span.end.offset += by;
    let kind = match &node.kind {
        NodeKind::Scalar(s) => NodeKind::Scalar(s.clone()),
        NodeKind::Seq(items) => NodeKind::Seq(items.iter().map(|n| shifted(n, by)).collect()),
        NodeKind::Map(entries) => NodeKind::Map(
            entries
                .iter()
                .map(|(k, v)| (shifted(k, by), shifted(v, by)))
                .collect(),
        ),
    };
    Node { kind, span }
}

fn unshift(span: &mut Span) -> usize {
    let file = span.start.offset / STRIDE;
    span.start.offset -= file * STRIDE;
    span.end.offset = span.end.offset.saturating_sub(file * STRIDE);
    file
}

#[derive(PartialEq)]
enum Tag {
    Reset,
    Override,
}

/// Sequences whose items compose keeps unique, and the key an item is known by (compose-go's
/// override/uncity.go): a later item with the same key replaces the earlier one in place.
fn unique_key(path: &str, item: &Node) -> Option<String> {
    let target = || {
        item.get("target")
            .and_then(Node::as_str)
            .map(str::to_string)
    };
    match path {
        "ports" => match item.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                let get = |k: &str| item.get(k).and_then(Node::as_str).unwrap_or("");
                let host = item
                    .get("host_ip")
                    .and_then(Node::as_str)
                    .unwrap_or("0.0.0.0");
                let protocol = item.get("protocol").and_then(Node::as_str).unwrap_or("tcp");
                Some(format!(
                    "{host}:{}:{}/{protocol}",
                    get("published"),
                    get("target")
                ))
            }
        },
        "volumes" | "devices" => match item.as_str() {
            Some(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                Some(parts.get(1).unwrap_or(&parts[0]).to_string())
            }
            None => target(),
        },
        "cap_add" | "cap_drop" | "dns" | "dns_opt" | "dns_search" | "expose" | "links"
        | "profiles" | "tmpfs" | "secrets" | "configs" => match item.as_str() {
            Some(s) => Some(s.split('=').next().unwrap_or(s).to_string()),
            None => target().or_else(|| {
                item.get("source")
                    .and_then(Node::as_str)
                    .map(str::to_string)
            }),
        },
        _ => None,
    }
}

/// Settings compose merges by variable name whether written as a mapping or a `NAME=value` list.
const KEY_VALUE: &[&str] = &[
    "environment",
    "labels",
    "annotations",
    "sysctls",
    "build.args",
    "build.labels",
    "deploy.labels",
];

/// Settings an override replaces rather than appends to.
const REPLACED: &[&str] = &["command", "entrypoint", "healthcheck.test"];

impl Project {
    fn tag(&self, node: &Node) -> Option<Tag> {
        let of = |t: &str| match t {
            "!reset" => Some(Tag::Reset),
            "!override" => Some(Tag::Override),
            _ => None,
        };
        if let Some(s) = node.as_scalar() {
            return s.tag.as_deref().and_then(of);
        }
        // The YAML layer keeps the tags of scalars only: read a collection's from the text
        // before it (`ports: !override` then the list).
        let file = node.span.start.offset / STRIDE;
        let text = &self.files.get(file)?.text;
        let at = (node.span.start.offset - file * STRIDE).min(text.len());
        let before = text[..at].trim_end();
        let after = &text[at..];
        ["!reset", "!override"].into_iter().find_map(|t| {
            (before.ends_with(t) || after.starts_with(t))
                .then(|| of(t))
                .flatten()
        })
    }

    /// `over` merged onto `base` at the service-relative `path`; `None` when `over` resets it.
    fn merge(&self, base: &Node, over: &Node, path: &str) -> Option<Node> {
        match self.tag(over) {
            Some(Tag::Reset) => return None,
            Some(Tag::Override) => return Some(over.clone()),
            None => {}
        }
        if over.is_null() {
            return Some(base.clone());
        }
        if REPLACED.contains(&path) {
            return Some(over.clone());
        }
        if KEY_VALUE.contains(&path) && !(base.is_map() && over.is_map()) {
            return Some(self.merge_key_values(base, over));
        }
        match (&base.kind, &over.kind) {
            (NodeKind::Map(_), NodeKind::Map(_)) => Some(self.merge_maps(base, over, path)),
            (NodeKind::Seq(a), NodeKind::Seq(b)) => {
                let mut items: Vec<Node> = Vec::new();
                let mut keys: Vec<Option<String>> = Vec::new();
                for item in a.iter().chain(b) {
                    let key = unique_key(path, item);
                    match key
                        .as_ref()
                        .and_then(|k| keys.iter().position(|o| o.as_ref() == Some(k)))
                    {
                        Some(i) => items[i] = item.clone(),
                        None => {
                            items.push(item.clone());
                            keys.push(key);
                        }
                    }
                }
                Some(Node {
                    kind: NodeKind::Seq(items),
                    span: base.span,
                })
            }
            _ => Some(over.clone()),
        }
    }

    fn merge_maps(&self, base: &Node, over: &Node, path: &str) -> Node {
        let mut entries: Vec<(Node, Node)> = base.as_map().unwrap_or(&[]).to_vec();
        for (k, v) in over.as_map().unwrap_or(&[]) {
            let Some(name) = k.as_str() else { continue };
            let at = entries.iter().position(|(e, _)| e.as_str() == Some(name));
            let sub = if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}.{name}")
            };
            let merged = match at {
                Some(i) => self.merge(&entries[i].1, v, &sub),
                None if self.tag(v) == Some(Tag::Reset) => None,
                None => Some(v.clone()),
            };
            match (at, merged) {
                (Some(i), Some(m)) => entries[i].1 = m,
                (Some(i), None) => {
                    entries.remove(i);
                }
                (None, Some(m)) => entries.push((k.clone(), m)),
                (None, None) => {}
            }
        }
        Node {
            kind: NodeKind::Map(entries),
            span: base.span,
        }
    }

    /// A mapping and a `NAME=value` list (or two lists) merged by name as a list; a mapping
    /// entry becomes `NAME=value` with the span of its value, where a finding about it points.
    fn merge_key_values(&self, base: &Node, over: &Node) -> Node {
        let as_items = |n: &Node| -> Vec<Node> {
            if let Some(items) = n.as_seq() {
                return items.to_vec();
            }
            n.as_map()
                .unwrap_or(&[])
                .iter()
                .filter_map(|(k, v)| {
                    let name = k.as_str()?;
                    let (value, span) = if v.is_null() {
                        (name.to_string(), k.span)
                    } else {
                        (format!("{name}={}", v.as_str()?), v.span)
                    };
                    Some(Node {
                        kind: NodeKind::Scalar(Scalar {
                            value,
                            style: Style::Plain,
                            tag: None,
                        }),
                        span,
                    })
                })
                .collect()
        };
        let name = |n: &Node| {
            n.as_str()
                .map(|s| s.split('=').next().unwrap_or(s).to_string())
        };
        let mut items: Vec<Node> = Vec::new();
        for item in as_items(base).into_iter().chain(as_items(over)) {
            match items
                .iter()
                .position(|o| name(o).is_some() && name(o) == name(&item))
            {
                Some(i) => items[i] = item,
                None => items.push(item),
            }
        }
        Node {
            kind: NodeKind::Seq(items),
            span: base.span,
        }
    }

    /// Index of the file at `path`, read (through `read`) when not yet part of the project.
    fn file_index(
        &mut self,
        path: &str,
        read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
        opts: &ScanOptions,
    ) -> Result<usize, String> {
        if let Some(i) = self.files.iter().position(|f| f.path == path) {
            return Ok(i);
        }
        let bytes = read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let f = load(path, &bytes, opts)
            .ok_or_else(|| format!("{path} is not a compose file that can be read"))?;
        self.files.push(f);
        Ok(self.files.len() - 1)
    }

    /// Service `name` of file `file` with everything it extends merged in, as written (spans
    /// shifted to the file), and where its settings come from.
    fn resolve(
        &mut self,
        file: usize,
        name: &str,
        chain: &mut Vec<(usize, String)>,
        read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
        opts: &ScanOptions,
    ) -> Result<(Node, Vec<Origin>), (usize, FileError)> {
        let f = &self.files[file];
        let service = compose::services(&f.docs)
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| (s.node.clone(), s.node.span))
            .expect("the caller found the service");
        let (node, span) = service;
        let own = shifted(&node, file * STRIDE);
        let origin = Origin {
            file,
            service: name.to_string(),
            span,
            own: chain.is_empty(),
        };
        let Some(extends) = node.get("extends") else {
            return Ok((own, vec![origin]));
        };
        let extending_path = self.files[file].path.clone();
        let error = |at: &Node, message: String| {
            (
                file,
                FileError {
                    path: extending_path.clone(),
                    line: at.span.start.line,
                    column: at.span.start.column,
                    message,
                },
            )
        };
        let (target_file, target) = match (extends.as_str(), extends.get("service")) {
            (Some(s), _) => (None, s.to_string()),
            (None, Some(s)) if s.as_str().is_some() => (
                extends.get("file"),
                s.as_str().unwrap_or_default().to_string(),
            ),
            _ => {
                return Err(error(
                    extends,
                    format!("extends of service {name} names no service"),
                ))
            }
        };
        let target_index = match target_file {
            None => file,
            Some(n) => {
                let written = n.as_str().unwrap_or_default();
                let dir = Path::new(&self.files[file].path)
                    .parent()
                    .unwrap_or(Path::new(""));
                let path = normalize(&dir.join(written));
                match self.file_index(&path, read, opts) {
                    Ok(i) => i,
                    Err(why) => return Err(error(n, format!("extends of service {name}: {why}"))),
                }
            }
        };
        if !compose::services(&self.files[target_index].docs)
            .iter()
            .any(|s| s.name == target)
        {
            let message = format!(
                "extends of service {name}: no service {target} in {}",
                self.files[target_index].path
            );
            return Err(error(extends, message));
        }
        chain.push((file, name.to_string()));
        if chain.contains(&(target_index, target.clone())) {
            let message = format!(
                "extends of service {name} is a cycle: {} -> {target}",
                chain
                    .iter()
                    .map(|(f, s)| format!("{s} ({})", self.files[*f].path))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            );
            return Err(error(extends, message));
        }
        let (base, mut origins) = self.resolve(target_index, &target, chain, read, opts)?;
        chain.pop();
        let mut own = own;
        if let NodeKind::Map(entries) = &mut own.kind {
            entries.retain(|(k, _)| k.as_str() != Some("extends"));
        }
        let mut merged = self.merge_maps(&base, &own, "");
        merged.span = own.span;
        origins.push(origin);
        Ok((merged, origins))
    }

    /// Resolve `extends` in each of the first `count` files, then merge them in order into the
    /// project's services. Errors by file path.
    fn merge_files(
        &mut self,
        count: usize,
        read: &dyn Fn(&str) -> Result<Vec<u8>, String>,
        opts: &ScanOptions,
    ) -> Vec<(String, FileError)> {
        let mut errors = Vec::new();
        let mut refused: Vec<String> = Vec::new();
        for file in 0..count {
            let names: Vec<(String, Node)> = compose::services(&self.files[file].docs)
                .iter()
                .map(|s| (s.name.to_string(), shifted(s.key, file * STRIDE)))
                .collect();
            for (name, key) in names {
                if refused.contains(&name) {
                    continue;
                }
                let (written, origins) =
                    match self.resolve(file, &name, &mut Vec::new(), read, opts) {
                        Ok(r) => r,
                        Err((f, e)) => {
                            errors.push((self.files[f].path.clone(), e));
                            // Compose refuses the project; this service is not judged.
                            self.services.retain(|m| m.name != name);
                            refused.push(name);
                            continue;
                        }
                    };
                match self.services.iter().position(|m| m.name == name) {
                    Some(i) => {
                        let merged = self.merge_maps(&self.services[i].written, &written, "");
                        let m = &mut self.services[i];
                        m.written = merged;
                        m.origins.extend(origins);
                    }
                    None => self.services.push(Merged {
                        name,
                        key,
                        written,
                        resolved: Node {
                            kind: NodeKind::Map(Vec::new()),
                            span: Span::default(),
                        },
                        origins,
                    }),
                }
            }
        }
        for m in &mut self.services {
            m.resolved = compose_rules::substitute_defaults(&m.written);
        }
        errors
    }

    /// The hits of the rules in `rules` (those of [`compose_rules::AS_WRITTEN`]) on the file at
    /// `index` as written, read as its own scan reads it (variable defaults substituted), with
    /// offsets into that file. A file of the project's inputs is judged whole; a file read only
    /// for `extends` (`index >= unit_files`, not scanned itself) is judged for the services the
    /// project takes from it.
    fn as_written(
        &self,
        index: usize,
        unit_files: usize,
        inputs: &[String],
        rules: &[(&'static str, ComposeRule)],
        opts: &ScanOptions,
    ) -> Vec<Hit> {
        let f = &self.files[index];
        let whole = index < unit_files || inputs.contains(&f.path);
        let read = |name: &str| {
            whole
                || self.services.iter().any(|m| {
                    m.origins
                        .iter()
                        .any(|o| o.file == index && o.service == name)
                })
        };
        let resolved = compose_rules::with_variable_defaults(&f.docs);
        let ctx = compose_rules::Ctx {
            services: compose::services(&resolved)
                .into_iter()
                .filter(|s| read(s.name))
                .collect(),
            written: compose::services(&f.docs)
                .into_iter()
                .filter(|s| read(s.name))
                .collect(),
        };
        let mut out = Out::new(&f.text, &f.lines);
        for rule in crate::engine::enabled(rules, &opts.config) {
            rule(&ctx, &mut out);
        }
        out.hits
    }

    /// The file a hit is located in, and the hit with offsets into that file. A finding about a
    /// value one service inherits through `extends` says so; its fix, which would have to edit
    /// another service, is left out (see [`Project::fix_target`]).
    fn place(&self, mut h: Hit) -> (usize, Hit) {
        let file = unshift(&mut h.span);
        for s in &mut h.secrets {
            unshift(s);
        }
        if let Some(w) = &mut h.within {
            unshift(w);
        }
        if let Some(fix) = &mut h.fix {
            let mut elsewhere = false;
            for e in &mut fix.edits {
                let f = e.offset / STRIDE;
                e.offset -= f * STRIDE;
                elsewhere |= f != file;
            }
            if elsewhere {
                h.fix = None;
            }
        }
        let service = h.object.strip_prefix("service ");
        if let Some(m) = self
            .services
            .iter()
            .find(|m| Some(m.name.as_str()) == service)
        {
            let holds =
                |o: &&Origin| o.file == file && o.span.range().contains(&h.span.start.offset);
            if !m.origins.iter().filter(|o| o.own).any(|o| holds(&o)) {
                if let Some(o) = m.origins.iter().filter(|o| !o.own).find(holds) {
                    h.message.push_str(&format!(
                        " (inherited through extends from service {})",
                        o.service
                    ));
                }
            }
        }
        (file, h)
    }

    /// Where a fix for merged service `node` goes: the file and the service definition (node
    /// and name) that holds `value`, or the service's first definition when `value` is `None`
    /// (a setting to add). `None` when the value is inherited through `extends`: the fix would
    /// edit the extended service, which other services may extend too, or another file than
    /// the finding's; that is left to a person.
    fn fix_target(&self, node: &Node, value: Option<&Node>) -> Option<(usize, &Node, &str)> {
        let m = self
            .services
            .iter()
            .find(|m| std::ptr::eq(&m.resolved, node) || std::ptr::eq(&m.written, node))?;
        let mut at = value.map_or(node.span, |v| v.span);
        let file = unshift(&mut at);
        let in_file: Vec<&Origin> = m.origins.iter().filter(|o| o.file == file).collect();
        let origin = match in_file
            .iter()
            .find(|o| o.span.range().contains(&at.start.offset) || o.span.start == at.start)
        {
            Some(o) => *o,
            // Merged in from an anchor outside the services: the one definition in this file.
            None if in_file.len() == 1 => in_file[0],
            None => return None,
        };
        if !origin.own {
            return None;
        }
        let f = &self.files[file];
        let service = compose::services(&f.docs)
            .into_iter()
            .find(|s| s.name == origin.service)?;
        Some((file, service.node, service.name))
    }

    /// An edit of the service definition chosen by [`Project::fix_target`], with the offset
    /// carrying its file (see [`STRIDE`]).
    pub(crate) fn service_edit(
        &self,
        node: &Node,
        value: Option<&Node>,
        edit: impl FnOnce(&str, &yaml_fix::Layout, &Node, &str) -> Option<Splice>,
    ) -> Option<Edit> {
        let (file, service, name) = self.fix_target(node, value)?;
        let f = &self.files[file];
        let layout = yaml_fix::Layout::of(&f.text, &f.docs);
        let mut e = edit(&f.text, &layout, service, name)?.to_edit(&f.text, &f.lines);
        e.offset += file * STRIDE;
        Some(e)
    }

    /// The text of a (shifted) span.
    pub(crate) fn span_text(&self, span: Span) -> &str {
        let mut s = span;
        let file = unshift(&mut s);
        self.files.get(file).map_or("", |f| s.text(&f.text))
    }
}
