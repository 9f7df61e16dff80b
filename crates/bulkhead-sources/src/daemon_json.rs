//! daemon.json: Docker's daemon configuration, parsed as strict JSON with spans.
//!
//! Owns: rejecting what dockerd would reject (it is JSON, not YAML: unquoted keys, comments or
//! trailing commas make dockerd refuse to start) with the line and column of the problem, and
//! giving the scanner a span for every key.

use crate::span::{check_text, Limits, SourceError};
use crate::yaml::{self, Node};

/// Parse daemon.json bytes. The result is the top-level object.
pub fn parse_bytes(bytes: &[u8], limits: &Limits) -> Result<Node, SourceError> {
    let text = check_text(bytes, limits)?;
    parse(text, limits)
}

pub fn parse(text: &str, limits: &Limits) -> Result<Node, SourceError> {
    // serde_json decides validity (dockerd uses a strict JSON decoder); its own recursion limit
    // (128) bounds nesting.
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        return Err(SourceError::at(
            e.line() as u32,
            e.column() as u32,
            format!("invalid JSON: {e}"),
        ));
    }
    let mut docs = yaml::parse_with(text, limits)?;
    let root = docs
        .pop()
        .map(|d| d.root)
        .ok_or_else(|| SourceError::at(1, 1, "empty daemon.json"))?;
    if !root.is_map() {
        return Err(SourceError::new(
            root.span.start,
            "daemon.json must be a JSON object ({ ... })",
        ));
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::BoolDialect;

    #[test]
    fn keys_have_spans_and_yaml_is_refused() {
        let text = "{\n  \"icc\": false,\n  \"userns-remap\": \"default\"\n}\n";
        let root = parse(text, &Limits::default()).unwrap();
        let icc = root.get("icc").unwrap();
        assert_eq!(icc.as_bool(BoolDialect::Core), Some(false));
        assert_eq!(icc.span.start.line, 2);
        let e = parse("{\n  icc: false\n}\n", &Limits::default()).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("{\"a\": 1,}\n", &Limits::default()).unwrap_err();
        assert!(e.message.contains("invalid JSON"), "{e}");
    }
}
