//! The Snapshot: everything one collection learned, serializable, versioned.
//!
//! `bulkhead collect -o snapshot.json` writes it; `bulkhead audit --snapshot snapshot.json`
//! evaluates it offline with the same results as a live audit. The format is documented in
//! `docs/snapshot.md`; `schema` changes its major number on any incompatible change.

use crate::docker::DockerFacts;
use crate::host::HostFacts;
use crate::kube::KubeFacts;
use serde::{Deserialize, Serialize};

pub const SNAPSHOT_SCHEMA: &str = "bulkhead.snapshot/1";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub schema: String,
    pub tool: ToolInfo,
    /// RFC 3339 UTC time the collection started.
    pub collected_at: String,
    pub host: HostFacts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docker: Option<DockerFacts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<KubeFacts>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub version: String,
}

impl ToolInfo {
    pub fn bulkhead(version: &str) -> Self {
        ToolInfo {
            name: "bulkhead".into(),
            version: version.into(),
        }
    }
}

impl Snapshot {
    pub fn new(tool: ToolInfo, collected_at: String, host: HostFacts) -> Self {
        Snapshot {
            schema: SNAPSHOT_SCHEMA.into(),
            tool,
            collected_at,
            host,
            docker: None,
            kubernetes: None,
        }
    }

    /// Read a snapshot, refusing an unknown major schema with a message that says which.
    pub fn from_json(text: &str) -> Result<Snapshot, String> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
        match v.get("schema").and_then(|s| s.as_str()) {
            Some(SNAPSHOT_SCHEMA) => {}
            Some(other) => return Err(format!("snapshot schema {other:?} is not supported (this bulkhead reads {SNAPSHOT_SCHEMA:?})")),
            None => return Err("not a bulkhead snapshot: no \"schema\" field".into()),
        }
        check_complete(&v)?;
        serde_json::from_value(v).map_err(|e| {
            // Parsing the text again gives the line and column, which the value has lost.
            let e = serde_json::from_str::<Snapshot>(text).err().unwrap_or(e);
            format!("malformed snapshot: {}", shorten_quoted(&e.to_string()))
        })
    }
}

/// `message` with each quoted value longer than 80 characters cut to its first 60: a malformed
/// snapshot quotes the offending value whole, which may be a 5,000-character label.
fn shorten_quoted(message: &str) -> String {
    message
        .split('"')
        .enumerate()
        .map(|(i, part)| match part.chars().count() {
            n if i % 2 == 1 && n > 80 => {
                let head: String = part.chars().take(60).collect();
                format!("{head}…({n} characters)")
            }
            _ => part.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\"")
}

/// The sections of a container's inspect document the checks judge. The Engine API always sends
/// them; parsing fills a missing one with defaults (no HostConfig reads as "not privileged"), so
/// a snapshot cut short or edited by hand would pass checks on evidence nobody collected.
const CONTAINER_SECTIONS: &[&str] = &[
    "Id",
    "Name",
    "State",
    "Config",
    "HostConfig",
    "NetworkSettings",
];

/// Refuse a snapshot whose evidence is incomplete in ways that parsing would paper over: a
/// container without a section the checks judge, or a collection time that is not RFC 3339
/// (reports print it and docker-bench-json's `start` and `end` come from it).
fn check_complete(v: &serde_json::Value) -> Result<(), String> {
    let Some(at) = v.get("collected_at") else {
        return Err(
            "it has no collected_at (when it was collected, an RFC 3339 time such as 2026-01-01T00:00:00Z)"
                .into(),
        );
    };
    let at = at.as_str().unwrap_or("");
    if crate::time::rfc3339_to_unix(at).is_none() {
        return Err(format!(
            "collected_at {at:?} is not an RFC 3339 time (such as 2026-01-01T00:00:00Z)"
        ));
    }
    let containers = v
        .pointer("/docker/containers/value")
        .and_then(|c| c.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    for (i, c) in containers.iter().enumerate() {
        let inspect = c.get("inspect").and_then(|i| i.as_object());
        let name = inspect
            .and_then(|i| i.get("Name").or_else(|| i.get("Id")))
            .and_then(|n| n.as_str())
            .map(|n| n.trim_start_matches('/').to_string())
            .unwrap_or_else(|| format!("number {}", i + 1));
        let missing: Vec<&str> = CONTAINER_SECTIONS
            .iter()
            .copied()
            .filter(|k| inspect.is_none_or(|i| !i.contains_key(*k)))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "container {name} has no {} in its inspect document: the snapshot is incomplete or was edited; collect it again with `bulkhead collect`",
                missing.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot_with(collected_at: &str, inspect: serde_json::Value) -> String {
        json!({
            "schema": SNAPSHOT_SCHEMA,
            "tool": {"name": "bulkhead", "version": "0"},
            "collected_at": collected_at,
            "host": {},
            "docker": {"containers": {"value": [{"inspect": inspect, "processes": {"value": []}}]}}
        })
        .to_string()
    }

    fn complete() -> serde_json::Value {
        json!({"Id": "abc", "Name": "/c0", "State": {}, "Config": {}, "HostConfig": {}, "NetworkSettings": {}})
    }

    /// A container whose inspect lost a section the checks judge is refused by name: parsed
    /// with defaults, a missing HostConfig would pass 5.5 (privileged) on evidence never read.
    #[test]
    fn a_container_missing_a_judged_section_is_refused() {
        let mut inspect = complete();
        inspect.as_object_mut().unwrap().remove("HostConfig");
        let e = Snapshot::from_json(&snapshot_with("2026-01-01T00:00:00Z", inspect)).unwrap_err();
        assert!(e.contains("container c0 has no HostConfig"), "{e}");
    }

    #[test]
    fn collected_at_must_be_rfc3339() {
        let e = Snapshot::from_json(&snapshot_with("yesterday", complete())).unwrap_err();
        assert!(
            e.contains("collected_at \"yesterday\" is not an RFC 3339 time"),
            "{e}"
        );
        // A snapshot without the field is told so, not that "" is a bad time.
        let mut v: serde_json::Value =
            serde_json::from_str(&snapshot_with("2026-01-01T00:00:00Z", complete())).unwrap();
        v.as_object_mut().unwrap().remove("collected_at");
        let e = Snapshot::from_json(&v.to_string()).unwrap_err();
        assert!(e.contains("it has no collected_at"), "{e}");
    }

    /// A value of the wrong type is named with where it is, and a long one is not quoted whole.
    #[test]
    fn a_malformed_snapshot_says_where_and_quotes_a_long_value_shortened() {
        let long = "B".repeat(5000);
        let text = format!(
            "{{\"schema\": \"{SNAPSHOT_SCHEMA}\", \"collected_at\": \"2026-11-29T10:00:00Z\",\n\"host\": \"{long}\"}}"
        );
        let e = Snapshot::from_json(&text).unwrap_err();
        assert!(
            e.starts_with("malformed snapshot: invalid type: string \"BBBB"),
            "{e}"
        );
        assert!(e.contains("…(5000 characters)\""), "{e}");
        assert!(e.ends_with("at line 2 column 5010"), "{e}");
        assert!(e.len() < 200, "{e}");
    }
}
