//! A span-aware JSON editor: set or remove object members by rewriting only the bytes of that
//! member. Everything else in the file (key order, values, indentation, blank lines, the final
//! newline) stays exactly as the user wrote it; the whole file is never re-serialized.
//!
//! Used for daemon.json (the scanner's daemon rules and harden's daemon.json merge) and for
//! JSON-form kubelet configs and manifests. The parser is strict JSON (dockerd refuses comments
//! too) and reports errors with line and column. Each operation exists as a [`Splice`] and as the
//! edited text.

use super::Splice;
use serde_json::Value;
use std::ops::Range;

/// A parse error with its 1-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

#[derive(Debug, Clone)]
enum Node {
    Object {
        span: Range<usize>,
        members: Vec<Member>,
    },
    Array {
        span: Range<usize>,
    },
    Scalar {
        span: Range<usize>,
    },
}

impl Node {
    fn span(&self) -> Range<usize> {
        match self {
            Node::Object { span, .. } | Node::Array { span } | Node::Scalar { span } => {
                span.clone()
            }
        }
    }
}

#[derive(Debug, Clone)]
struct Member {
    key: String,
    key_span: Range<usize>,
    value: Node,
}

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 128;

impl<'a> Parser<'a> {
    fn err(&self, message: impl Into<String>) -> JsonError {
        let (line, column) = line_col(self.text, self.pos);
        JsonError {
            line,
            column,
            message: message.into(),
        }
    }

    fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1;
        }
    }

    fn value(&mut self) -> Result<Node, JsonError> {
        self.ws();
        let start = self.pos;
        match self.s.get(self.pos) {
            Some(b'{') => self.object(),
            Some(b'[') => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(self.err("nested too deeply"));
                }
                self.pos += 1;
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        self.value()?;
                        self.ws();
                        match self.s.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err("expected ',' or ']'")),
                        }
                    }
                }
                self.depth -= 1;
                Ok(Node::Array {
                    span: start..self.pos,
                })
            }
            Some(b'"') => {
                self.string()?;
                Ok(Node::Scalar {
                    span: start..self.pos,
                })
            }
            Some(_) => {
                while self.pos < self.s.len()
                    && (self.s[self.pos].is_ascii_alphanumeric()
                        || matches!(self.s[self.pos], b'-' | b'+' | b'.'))
                {
                    self.pos += 1;
                }
                let word = &self.text[start..self.pos];
                let ok = matches!(word, "true" | "false" | "null")
                    || (!word.is_empty() && serde_json::from_str::<f64>(word).is_ok());
                if !ok {
                    self.pos = start;
                    return Err(self.err("expected a JSON value"));
                }
                Ok(Node::Scalar {
                    span: start..self.pos,
                })
            }
            None => Err(self.err("unexpected end of file")),
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        self.pos += 1;
        loop {
            match self.s.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => self.pos += 2,
                Some(c) if *c < 0x20 => return Err(self.err("control character in string")),
                Some(_) => self.pos += 1,
                None => {
                    self.pos = start;
                    return Err(self.err("unterminated string"));
                }
            }
        }
        serde_json::from_str::<String>(&self.text[start..self.pos]).map_err(|e| {
            let mut err = self.err(format!("invalid string: {e}"));
            let (line, column) = line_col(self.text, start);
            err.line = line;
            err.column = column;
            err
        })
    }

    fn object(&mut self) -> Result<Node, JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let start = self.pos;
        self.pos += 1;
        let mut members = Vec::new();
        self.ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                if self.s.get(self.pos) != Some(&b'"') {
                    return Err(self.err("expected a quoted key"));
                }
                let key_start = self.pos;
                let key = self.string()?;
                let key_span = key_start..self.pos;
                self.ws();
                if self.s.get(self.pos) != Some(&b':') {
                    return Err(self.err("expected ':' after key"));
                }
                self.pos += 1;
                let value = self.value()?;
                members.push(Member {
                    key,
                    key_span,
                    value,
                });
                self.ws();
                match self.s.get(self.pos) {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.err("expected ',' or '}'")),
                }
            }
        }
        self.depth -= 1;
        Ok(Node::Object {
            span: start..self.pos,
            members,
        })
    }
}

fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text[..pos.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, column)
}

fn parse(text: &str) -> Result<Node, JsonError> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        pos: 0,
        depth: 0,
    };
    let root = p.value()?;
    p.ws();
    if p.pos != text.len() {
        return Err(p.err("unexpected text after the JSON value"));
    }
    Ok(root)
}

/// Check that `text` is one JSON value (for error messages before editing).
pub fn validate(text: &str) -> Result<(), JsonError> {
    parse(text).map(|_| ())
}

/// The layout of the document, learned from what is there.
struct Style {
    /// One level of indentation (`"  "`, `"    "`, `"\t"`).
    unit: String,
    /// The file's line break, decided as for every editor ([`super::line_break`]).
    newline: &'static str,
}

fn style_of(text: &str) -> Style {
    let newline = super::line_break(text);
    // The smallest indentation of any indented line is one level.
    let unit = text
        .lines()
        .filter_map(|l| {
            let ws: String = l.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
            (!ws.is_empty() && ws.len() < l.len()).then_some(ws)
        })
        .min_by_key(|w| w.len())
        .unwrap_or_else(|| "  ".to_string());
    Style { unit, newline }
}

/// Indentation of the line that holds byte `pos`.
fn line_indent(text: &str, pos: usize) -> &str {
    let line_start = text[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let rest = &text[line_start..];
    let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..n]
}

/// Render `value` as JSON. `indent` is the indentation of the line the value starts on; `None`
/// renders it on one line (`{"a": 1, "b": [2]}`), matching files written compactly.
fn render(value: &Value, indent: Option<&str>, style: &Style) -> String {
    match (value, indent) {
        (Value::Object(m), Some(ind)) if !m.is_empty() => {
            let inner = format!("{ind}{}", style.unit);
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{inner}{}: {}",
                        Value::String(k.clone()),
                        render(v, Some(&inner), style)
                    )
                })
                .collect();
            format!(
                "{{{nl}{}{nl}{ind}}}",
                items.join(&format!(",{}", style.newline)),
                nl = style.newline
            )
        }
        (Value::Array(a), Some(ind)) if a.iter().any(|v| v.is_object() || v.is_array()) => {
            let inner = format!("{ind}{}", style.unit);
            let items: Vec<String> = a
                .iter()
                .map(|v| format!("{inner}{}", render(v, Some(&inner), style)))
                .collect();
            format!(
                "[{nl}{}{nl}{ind}]",
                items.join(&format!(",{}", style.newline)),
                nl = style.newline
            )
        }
        (Value::Object(m), _) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), render(v, None, style)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        (Value::Array(a), _) => {
            let items: Vec<String> = a.iter().map(|v| render(v, None, style)).collect();
            format!("[{}]", items.join(", "))
        }
        (scalar, _) => scalar.to_string(),
    }
}

/// Is the object laid out one member per line (as opposed to `{"a": 1, "b": 2}`)?
fn is_multiline(text: &str, span: &Range<usize>) -> bool {
    text[span.clone()].contains('\n')
}

/// Set `path` (object keys from the root) to `value`. An existing member keeps its place and only
/// its value is rewritten; a new member is appended after the object's last member, indented like
/// its siblings. Missing parent objects are created. An empty or whitespace-only text becomes a
/// new object.
pub fn set(text: &str, path: &[&str], value: &Value) -> Result<String, JsonError> {
    set_splice(text, path, value).map(|s| s.apply(text))
}

/// [`set`] as a splice of `text`.
pub fn set_splice(text: &str, path: &[&str], value: &Value) -> Result<Splice, JsonError> {
    assert!(!path.is_empty(), "set needs a key");
    if text.trim().is_empty() {
        let mut v = value.clone();
        for k in path.iter().rev() {
            let mut m = serde_json::Map::new();
            m.insert(k.to_string(), v);
            v = Value::Object(m);
        }
        let style = Style {
            unit: "  ".into(),
            newline: super::line_break(text),
        };
        return Ok(Splice::new(
            0..text.len(),
            format!("{}{}", render(&v, Some(""), &style), style.newline),
        ));
    }
    let style = style_of(text);
    let root = parse(text)?;
    let mut node = &root;
    for (depth, key) in path.iter().enumerate() {
        let Node::Object { span, members } = node else {
            let (line, column) = line_col(text, node.span().start);
            return Err(JsonError {
                line,
                column,
                message: format!(
                    "expected an object at {}",
                    if depth == 0 {
                        "the top level".to_string()
                    } else {
                        format!("\"{}\"", path[..depth].join("."))
                    }
                ),
            });
        };
        let last = depth + 1 == path.len();
        // The last occurrence wins when a key is duplicated (Go's encoding/json does the same).
        match members.iter().rev().find(|m| m.key == *key) {
            Some(m) if last => {
                let vspan = m.value.span();
                let ind = line_indent(text, m.key_span.start);
                let rendered = if is_multiline(text, span) {
                    render(value, Some(ind), &style)
                } else {
                    render(value, None, &style)
                };
                return Ok(Splice::new(vspan, &rendered));
            }
            Some(m) => node = &m.value,
            None => {
                // Build the missing remainder of the path as one new member.
                let mut v = value.clone();
                for k in path[depth + 1..].iter().rev() {
                    let mut m = serde_json::Map::new();
                    m.insert(k.to_string(), v);
                    v = Value::Object(m);
                }
                return Ok(insert_member(text, span, members, key, &v, &style));
            }
        }
    }
    unreachable!("the loop returns at the last key")
}

fn insert_member(
    text: &str,
    span: &Range<usize>,
    members: &[Member],
    key: &str,
    value: &Value,
    style: &Style,
) -> Splice {
    let key_json = Value::String(key.to_string()).to_string();
    let obj_indent = line_indent(text, span.start).to_string();
    match members.last() {
        Some(last) if is_multiline(text, span) => {
            let ind = line_indent(text, last.key_span.start).to_string();
            let member = format!("{key_json}: {}", render(value, Some(&ind), style));
            let at = last.value.span().end;
            Splice::new(at..at, format!(",{}{ind}{member}", style.newline))
        }
        Some(last) => {
            let member = format!("{key_json}: {}", render(value, None, style));
            let at = last.value.span().end;
            Splice::new(at..at, format!(", {member}"))
        }
        None => {
            let ind = format!("{obj_indent}{}", style.unit);
            let member = format!("{key_json}: {}", render(value, Some(&ind), style));
            let interior = span.start + 1..span.end - 1;
            Splice::new(
                interior,
                format!("{nl}{ind}{member}{nl}{obj_indent}", nl = style.newline),
            )
        }
    }
}

/// Remove the member at `path`, with its comma and its line. Returns the text unchanged when the
/// member does not exist.
pub fn remove(text: &str, path: &[&str]) -> Result<String, JsonError> {
    Ok(match remove_splice(text, path)? {
        Some(s) => s.apply(text),
        None => text.to_string(),
    })
}

/// [`remove`] as a splice of `text`; `None` when the member does not exist.
pub fn remove_splice(text: &str, path: &[&str]) -> Result<Option<Splice>, JsonError> {
    assert!(!path.is_empty(), "remove needs a key");
    if text.trim().is_empty() {
        return Ok(None);
    }
    let root = parse(text)?;
    let mut node = &root;
    for (depth, key) in path.iter().enumerate() {
        let Node::Object { members, .. } = node else {
            return Ok(None);
        };
        let Some(i) = members.iter().rposition(|m| m.key == *key) else {
            return Ok(None);
        };
        if depth + 1 < path.len() {
            node = &members[i].value;
            continue;
        }
        let m = &members[i];
        let range = if i + 1 < members.len() {
            // Up to the next member's key, so its comma and the line break go too; start at the
            // beginning of this member's line when only indentation precedes it.
            let next = members[i + 1].key_span.start;
            let start = start_of_line_if_blank_before(text, m.key_span.start);
            let comma = m.value.span().end
                + text[m.value.span().end..]
                    .find(',')
                    .expect("a member followed by another has a comma")
                + 1;
            let rest_of_line = &text[comma..];
            let line_end = rest_of_line.find('\n').map(|i| comma + i + 1);
            let end = match line_end {
                // The member had its own line: take the line, keep blank lines around it.
                Some(e) if start < m.key_span.start && text[comma..e].trim().is_empty() => e,
                _ => next,
            };
            start..end
        } else if i > 0 {
            // The last member: from the end of the previous value (its comma) to our end.
            members[i - 1].value.span().end..m.value.span().end
        } else {
            m.key_span.start..m.value.span().end
        };
        return Ok(Some(Splice::new(range, "")));
    }
    Ok(None)
}

fn start_of_line_if_blank_before(text: &str, pos: usize) -> usize {
    let line_start = text[..pos].rfind('\n').map(|i| i + 1).unwrap_or(0);
    if text[line_start..pos].chars().all(|c| c == ' ' || c == '\t') {
        line_start
    } else {
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DAEMON: &str = r#"{
    "log-driver": "json-file",
    "insecure-registries" : [ "10.0.0.5:5000" ],

    "icc": true,
    "data-root": "/srv/docker"
}
"#;

    #[test]
    fn replacing_keeps_everything_else_byte_for_byte() {
        let out = set(DAEMON, &["icc"], &json!(false)).unwrap();
        assert_eq!(out, DAEMON.replace("\"icc\": true", "\"icc\": false"));
    }

    #[test]
    fn new_keys_follow_the_last_member_with_sibling_indentation() {
        let out = set(DAEMON, &["live-restore"], &json!(true)).unwrap();
        assert_eq!(
            out,
            DAEMON.replace(
                "\"data-root\": \"/srv/docker\"\n",
                "\"data-root\": \"/srv/docker\",\n    \"live-restore\": true\n"
            )
        );
        let out = set(
            &out,
            &["log-opts"],
            &json!({"max-size": "10m", "max-file": "3"}),
        )
        .unwrap();
        assert!(out.ends_with(
            "    \"live-restore\": true,\n    \"log-opts\": {\n        \"max-file\": \"3\",\n        \"max-size\": \"10m\"\n    }\n}\n"
        ), "{out}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["insecure-registries"], json!(["10.0.0.5:5000"]));
    }

    #[test]
    fn nested_keys_merge_into_existing_objects() {
        let text = "{\n  \"log-opts\": {\n    \"max-size\": \"10m\"\n  }\n}\n";
        let out = set(text, &["log-opts", "max-file"], &json!("3")).unwrap();
        assert_eq!(
            out,
            "{\n  \"log-opts\": {\n    \"max-size\": \"10m\",\n    \"max-file\": \"3\"\n  }\n}\n"
        );
        let out = set("{\n  \"a\": 1\n}\n", &["b", "c"], &json!(2)).unwrap();
        assert_eq!(out, "{\n  \"a\": 1,\n  \"b\": {\n    \"c\": 2\n  }\n}\n");
    }

    #[test]
    fn compact_and_empty_files() {
        assert_eq!(
            set("{\"icc\": true}", &["live-restore"], &json!(true)).unwrap(),
            "{\"icc\": true, \"live-restore\": true}"
        );
        assert_eq!(
            set("{}\n", &["icc"], &json!(false)).unwrap(),
            "{\n  \"icc\": false\n}\n"
        );
        assert_eq!(
            set("", &["icc"], &json!(false)).unwrap(),
            "{\n  \"icc\": false\n}\n"
        );
        assert_eq!(
            set("\t{\n\t\"a\": 1\n}", &["b"], &json!([1, 2])).unwrap(),
            "\t{\n\t\"a\": 1,\n\t\"b\": [1, 2]\n}"
        );
    }

    #[test]
    fn crlf_files_stay_crlf() {
        let text = "{\r\n  \"icc\": true\r\n}\r\n";
        assert_eq!(
            set(text, &["live-restore"], &json!(true)).unwrap(),
            "{\r\n  \"icc\": true,\r\n  \"live-restore\": true\r\n}\r\n"
        );
    }

    #[test]
    fn remove_takes_the_line_and_comma() {
        let out = remove(DAEMON, &["insecure-registries"]).unwrap();
        assert_eq!(
            out,
            "{\n    \"log-driver\": \"json-file\",\n\n    \"icc\": true,\n    \"data-root\": \"/srv/docker\"\n}\n"
        );
        let out = remove(DAEMON, &["data-root"]).unwrap();
        assert!(out.ends_with("\"icc\": true\n}\n"), "{out}");
        serde_json::from_str::<Value>(&out).unwrap();
        assert_eq!(remove(DAEMON, &["nope"]).unwrap(), DAEMON);
        assert_eq!(remove("{\"a\": 1}", &["a"]).unwrap(), "{}");
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = set("{\n  \"icc\": true,\n}\n", &["x"], &json!(1)).unwrap_err();
        assert_eq!((e.line, e.column), (3, 1), "{e}");
        let e = set("{\n  \"icc\": tru\n}", &["x"], &json!(1)).unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = set("[1]", &["x"], &json!(1)).unwrap_err();
        assert!(e.message.contains("top level"), "{e}");
        let deep = "[".repeat(500);
        assert!(validate(&deep).is_err());
    }

    #[test]
    fn escaped_keys_and_strings_are_understood() {
        let text = "{\"a\\u0062\": \"x\\\"y\", \"c\": 1}";
        assert_eq!(
            set(text, &["ab"], &json!(2)).unwrap(),
            "{\"a\\u0062\": 2, \"c\": 1}"
        );
    }
}
