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
        serde_json::from_value(v).map_err(|e| format!("malformed snapshot: {e}"))
    }
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
    let at = v.get("collected_at").and_then(|t| t.as_str()).unwrap_or("");
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
    }
}
