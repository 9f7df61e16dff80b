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
        serde_json::from_value(v).map_err(|e| format!("malformed snapshot: {e}"))
    }
}
