//! The cluster dump given with `--cluster-dump FILE`: the output of `kubectl get ... -o yaml` or
//! `-o json`, one or several documents, `kind: List` included. It is read from the auditing
//! machine (not under `--root`), and only what the policy checks need is kept (see
//! `bulkhead_facts::kube::ClusterDump`).

use bulkhead_facts::kube::ClusterDump;
use bulkhead_facts::Fact;
use serde_json::Value;
use std::path::Path;

/// Read and parse the dump. Errors name the file (and the line, for YAML).
pub fn read(path: &Path) -> Fact<ClusterDump> {
    let shown = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Fact::Unavailable(format!("cannot read cluster dump {shown}: {e}")),
    };
    match parse_all(&text) {
        Ok(docs) => Fact::Value(ClusterDump::from_documents(&shown, docs)),
        Err(e) => Fact::Unavailable(format!("cluster dump {shown}: {e}")),
    }
}

/// Every document of a YAML stream, or one JSON document.
pub fn parse_all(text: &str) -> Result<Vec<Value>, String> {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        return match serde_json::from_str::<Value>(t) {
            Ok(Value::Array(items)) => Ok(items),
            Ok(v) => Ok(vec![v]),
            Err(e) => Err(format!("not valid JSON: {e}")),
        };
    }
    let docs = bulkhead_sources::yaml::parse(text).map_err(|e| e.to_string())?;
    Ok(docs
        .into_iter()
        .map(|d| d.root.to_json(bulkhead_sources::yaml::Schema::Yaml11))
        .collect())
}

/// Provider IDs and label keys of the dump's nodes (managed-platform markers).
pub fn node_markers(d: &ClusterDump) -> Vec<String> {
    let mut out = Vec::new();
    for n in d.of_kind("Node") {
        if let Some(id) = n.body.pointer("/spec/providerID").and_then(Value::as_str) {
            out.push(format!("{} providerID {id}", n.name));
        }
        if let Some(labels) = n
            .body
            .pointer("/metadata/labels")
            .and_then(Value::as_object)
        {
            out.extend(labels.keys().map(|k| format!("{} label {k}", n.name)));
        }
    }
    out
}
