//! Reading the user's YAML files (the model file of `--model`, the risk acceptances of
//! `--accept`) with the project's one YAML parser, `bulkhead_sources::yaml`.
//!
//! The file is parsed into a tree that remembers where every node came from, converted to JSON
//! with the YAML 1.2 core schema (only `true`/`false` are booleans, so `expires: 2027-06-30` stays
//! a date string), and then deserialized into the caller's type. A mistake in either step is
//! reported as `FILE:LINE:COLUMN: ...`: a syntax error at the parser's position, a key written
//! twice in one mapping at its second occurrence (the YAML parser would keep the last value, so a
//! repeated `expires` would quietly extend a risk acceptance), a wrong or unknown field at the
//! node the field path leads to.

use bulkhead_sources::yaml::{self, Node, NodeKind, Schema};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// Parse `text` (one YAML document) as `T`. `file` names the file in messages.
pub fn from_yaml<T: DeserializeOwned>(text: &str, file: &str) -> Result<T, String> {
    from_yaml_with_tree(text, file).map(|(value, _)| value)
}

/// [`from_yaml`], also returning the parsed tree so that later validation can point at a field
/// with [`position`].
pub fn from_yaml_with_tree<T: DeserializeOwned>(
    text: &str,
    file: &str,
) -> Result<(T, Node), String> {
    let docs =
        yaml::parse(text).map_err(|e| format!("{file}:{}:{}: {}", e.line, e.column, e.message))?;
    let root = match docs.as_slice() {
        [] => return Err(format!("{file}:1:1: the file holds no YAML document")),
        [doc] => &doc.root,
        [_, second, ..] => {
            let at = second.span.start;
            return Err(format!(
                "{file}:{}:{}: a second YAML document starts here; put everything in one document",
                at.line, at.column
            ));
        }
    };
    let repeated = duplicate_keys(file, root);
    if !repeated.is_empty() {
        return Err(repeated.join("\n"));
    }
    let value = serde_path_to_error::deserialize(root.to_json(Schema::Core)).map_err(|e| {
        let path: Vec<Segment> = e.path().iter().map(Segment::from).collect();
        let (line, column) = locate(root, &path);
        let shown = e.path().to_string();
        let inner = e.into_inner();
        if shown == "." {
            format!("{file}:{line}:{column}: {inner}")
        } else {
            format!("{file}:{line}:{column}: {shown}: {inner}")
        }
    })?;
    Ok((value, root.clone()))
}

/// Every key written twice in one mapping, as `FILE:LINE:COLUMN: ...` at the second occurrence.
/// Keys a `<<` merge brought in lie outside the mapping's own text and are not repeats.
fn duplicate_keys(file: &str, node: &Node) -> Vec<String> {
    let mut errs = Vec::new();
    match &node.kind {
        NodeKind::Map(entries) => {
            let own = |k: &Node| {
                k.span.start.offset >= node.span.start.offset
                    && k.span.start.offset < node.span.end.offset
            };
            let mut first: BTreeMap<&str, u32> = BTreeMap::new();
            for (k, v) in entries {
                if let Some(name) = k.as_str().filter(|n| *n != "<<" && own(k)) {
                    let at = k.span.start;
                    match first.get(name) {
                        Some(line) => errs.push(format!(
                            "{file}:{}:{}: key {name:?} is written twice in one mapping, on line {line} and again on line {}; which value would count is ambiguous, so write it once",
                            at.line.max(1),
                            at.column.max(1),
                            at.line.max(1)
                        )),
                        None => {
                            first.insert(name, at.line.max(1));
                        }
                    }
                }
                errs.extend(duplicate_keys(file, v));
            }
        }
        NodeKind::Seq(items) => {
            for n in items {
                errs.extend(duplicate_keys(file, n));
            }
        }
        NodeKind::Scalar(_) => {}
    }
    errs
}

/// `FILE:LINE:COLUMN` of the field at `path` (`accept[0].reason`), or of the deepest part of the
/// path that exists.
pub fn position(file: &str, root: &Node, path: &str) -> String {
    let (line, column) = line_column(root, path);
    format!("{file}:{line}:{column}")
}

/// Line and column of the field at `path`, as [`position`] finds it.
pub fn line_column(root: &Node, path: &str) -> (u32, u32) {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, indices) = part
            .split_once('[')
            .map_or((part, ""), |(k, rest)| (k, rest));
        if !key.is_empty() {
            segments.push(Segment::Key(key.to_string()));
        }
        for i in indices
            .split('[')
            .filter_map(|x| x.trim_end_matches(']').parse().ok())
        {
            segments.push(Segment::Index(i));
        }
    }
    locate(root, &segments)
}

/// One step of a field path: a mapping key or a sequence index.
enum Segment {
    Key(String),
    Index(usize),
    Other,
}

impl From<&serde_path_to_error::Segment> for Segment {
    fn from(s: &serde_path_to_error::Segment) -> Segment {
        match s {
            serde_path_to_error::Segment::Map { key } => Segment::Key(key.clone()),
            serde_path_to_error::Segment::Seq { index } => Segment::Index(*index),
            _ => Segment::Other,
        }
    }
}

/// Line and column of the deepest node the path reaches (a mapping entry is shown at its key,
/// so an unknown field points at the field's name).
fn locate(root: &Node, path: &[Segment]) -> (u32, u32) {
    let mut node = root;
    let mut at = root.span.start;
    for seg in path {
        let next = match (seg, &node.kind) {
            (Segment::Key(k), NodeKind::Map(entries)) => entries
                .iter()
                .rev()
                .find(|(key, _)| key.as_str() == Some(k.as_str()))
                .map(|(key, value)| (key.span.start, value)),
            (Segment::Index(i), NodeKind::Seq(items)) => items.get(*i).map(|n| (n.span.start, n)),
            _ => None,
        };
        match next {
            Some((pos, child)) => {
                at = pos;
                node = child;
            }
            None => break,
        }
    }
    (at.line.max(1), at.column.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        name: String,
        count: u8,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct File {
        items: Vec<Item>,
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let e = from_yaml::<File>("items:\n  - name: a\n    count: [1\n", "f.yaml").unwrap_err();
        assert!(e.starts_with("f.yaml:"), "{e}");
        let mut parts = e.splitn(4, ':');
        parts.next();
        let line: u32 = parts.next().unwrap().parse().expect("a line number");
        let column: u32 = parts.next().unwrap().parse().expect("a column number");
        assert!(line >= 3 && column >= 1, "{e}");
    }

    #[test]
    fn wrong_and_unknown_fields_point_at_their_node() {
        let e = from_yaml::<File>(
            "items:\n  - name: a\n    count: 1\n  - name: b\n    count: many\n",
            "f.yaml",
        )
        .unwrap_err();
        assert!(e.starts_with("f.yaml:5:5: items[1].count:"), "{e}");
        let e = from_yaml::<File>("items:\n  - name: a\n    cuont: 1\n", "f.yaml").unwrap_err();
        assert!(e.starts_with("f.yaml:3:5:") && e.contains("cuont"), "{e}");
        let (_, tree) =
            from_yaml_with_tree::<File>("items:\n  - name: a\n    count: 1\n", "f.yaml").unwrap();
        assert_eq!(position("f.yaml", &tree, "items[0].count"), "f.yaml:3:5");
        assert_eq!(
            position("f.yaml", &tree, "items[7].name"),
            "f.yaml:1:1",
            "the deepest part that exists: the key `items`"
        );
        let e = from_yaml::<File>("items: []\n---\nitems: []\n", "f.yaml").unwrap_err();
        assert!(e.starts_with("f.yaml:2:1: a second YAML document"), "{e}");
    }

    #[test]
    fn a_key_written_twice_is_an_error_naming_both_lines() {
        let e = from_yaml::<File>(
            "items:\n  - name: a\n    count: 1\n    count: 9\n",
            "f.yaml",
        )
        .unwrap_err();
        assert_eq!(
            e,
            "f.yaml:4:5: key \"count\" is written twice in one mapping, on line 3 and again on line 4; which value would count is ambiguous, so write it once"
        );
        // The same key in different mappings, and keys a merge brings in, are no repeats.
        from_yaml::<File>(
            "items:\n  - name: a\n    count: 1\n  - name: b\n    count: 2\n",
            "f.yaml",
        )
        .unwrap();
        #[derive(Deserialize)]
        #[allow(dead_code)]
        struct Merged {
            base: Item,
            item: Item,
        }
        from_yaml::<Merged>(
            "base: &b {name: a, count: 1}\nitem:\n  <<: *b\n  count: 2\n",
            "f.yaml",
        )
        .unwrap();
    }

    #[test]
    fn core_schema_keeps_dates_and_numbers_apart() {
        #[derive(Deserialize)]
        struct D {
            expires: String,
            n: u8,
        }
        let d: D = from_yaml("expires: 2027-06-30\nn: 3\n", "d.yaml").unwrap();
        assert_eq!((d.expires.as_str(), d.n), ("2027-06-30", 3));
    }
}
