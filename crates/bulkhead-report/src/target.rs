//! What was audited, described from the snapshot: the `target` object of every report.

use bulkhead_facts::Snapshot;
use serde::Serialize;

/// The audited system as shown in reports.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// `docker` or `kubernetes`.
    pub kind: String,
    /// Host name of the audited machine.
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Docker: engine version, API version, endpoint, rootless, local.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rootless: Option<bool>,
    /// Kubernetes: extra facts (platform, detected targets, benchmark choice), filled by the
    /// Kubernetes audit.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
    pub collected_at: String,
}

impl Target {
    pub fn from_snapshot(kind: &str, s: &Snapshot) -> Target {
        let host = s
            .host
            .hostname
            .value()
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        let os = s
            .host
            .os_release
            .value()
            .and_then(|m| m.get("PRETTY_NAME").cloned());
        let mut t = Target {
            kind: kind.into(),
            host,
            os,
            kernel: s.host.kernel.value().cloned(),
            engine_version: None,
            api_version: None,
            endpoint: None,
            local: None,
            rootless: None,
            details: serde_json::Map::new(),
            collected_at: s.collected_at.clone(),
        };
        if kind == "docker" {
            if let Some(d) = &s.docker {
                if let Some(v) = d.version.value() {
                    t.engine_version = Some(v.version.clone());
                    t.api_version = Some(v.api_version.clone());
                }
                if let Some(i) = d.info.value() {
                    if !d.endpoint.local && !i.name.is_empty() {
                        t.host = i.name.clone();
                    }
                }
                t.endpoint = Some(d.endpoint.host.clone());
                t.local = Some(d.endpoint.local);
                t.rootless = Some(d.daemon.rootless);
            }
        }
        t
    }

    /// One line for headers: `docker 20.10.24 on vm via unix:///var/run/docker.sock`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} on {}", self.kind, self.host);
        if let Some(v) = &self.engine_version {
            s = format!(
                "{} {v} (API {}) on {}",
                self.kind,
                self.api_version.as_deref().unwrap_or("?"),
                self.host
            );
        }
        if let Some(e) = &self.endpoint {
            s.push_str(&format!(" via {e}"));
        }
        if self.rootless == Some(true) {
            s.push_str(" (rootless)");
        }
        s
    }
}
