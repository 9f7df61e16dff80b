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
                // `endpoint` stays an address (tools read it as one); the context it came
                // from is said beside it.
                if let Some(name) = d.endpoint.source.strip_prefix("context ") {
                    t.details.insert("docker_context".into(), name.into());
                }
                // Only the exception is said: answers from an unverified TLS peer.
                if d.endpoint.tls_verified == Some(false) {
                    t.details.insert("tls_verified".into(), false.into());
                }
                t.local = Some(d.endpoint.local);
                t.rootless = Some(d.daemon.rootless);
            }
        }
        if kind == "kubernetes" {
            if let Some(k) = &s.kubernetes {
                t.details = kubernetes_details(k);
            }
        }
        t
    }

    /// The Kubernetes benchmark choice and its reason, for report headers.
    pub fn benchmark_reason(&self) -> Option<&str> {
        self.details.get("benchmark")?.get("reason")?.as_str()
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
            if let Some(name) = self.details.get("docker_context").and_then(|n| n.as_str()) {
                s.push_str(&format!(" (docker context {name})"));
            }
            if self.details.get("tls_verified") == Some(&serde_json::Value::Bool(false)) {
                s.push_str(" (daemon certificate not verified)");
            }
        }
        if self.rootless == Some(true) {
            s.push_str(" (rootless)");
        }
        if let Some(p) = self
            .details
            .get("platform")
            .and_then(|p| p.get("kind"))
            .and_then(|k| k.as_str())
        {
            let targets: Vec<&str> = self
                .details
                .get("targets")
                .and_then(|t| t.get("selected"))
                .and_then(|t| t.as_array())
                .map(|a| a.iter().filter_map(|x| x.as_str()).collect())
                .unwrap_or_default();
            s.push_str(&format!(" (platform {p}; targets {})", targets.join(",")));
        }
        s
    }
}

/// The Kubernetes part of the target: platform, version, benchmark choice with its reason,
/// targets (selected and why each was detected) and the components found.
fn kubernetes_details(
    k: &bulkhead_facts::kube::KubeFacts,
) -> serde_json::Map<String, serde_json::Value> {
    use serde_json::json;
    let mut m = serde_json::Map::new();
    m.insert(
        "platform".into(),
        json!({"kind": k.platform.kind, "managed": k.platform.managed, "evidence": k.platform.evidence}),
    );
    if let Some(v) = &k.version {
        m.insert(
            "kubernetes_version".into(),
            json!({"version": v.version, "source": v.source}),
        );
    }
    m.insert(
        "benchmark".into(),
        json!({"id": k.benchmark.id, "version": k.benchmark.version, "reason": k.benchmark.reason}),
    );
    m.insert(
        "targets".into(),
        json!({"selected": k.targets.selected, "source": k.targets.source, "detected": k.targets.detected}),
    );
    let components: serde_json::Map<String, serde_json::Value> = k
        .components
        .iter()
        .map(|(name, c)| {
            (
                name.clone(),
                json!({"pid": c.process.pid, "source": c.source}),
            )
        })
        .collect();
    m.insert("components".into(), serde_json::Value::Object(components));
    if let Some(bulkhead_facts::Fact::Value(d)) = &k.cluster {
        m.insert(
            "cluster_dump".into(),
            json!({"source": d.source, "objects": d.objects.len()}),
        );
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writeup() -> Snapshot {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../bulkhead-threats/tests/fixtures/writeup.snapshot.json"
        );
        Snapshot::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    /// A daemon reached over TLS without verifying its certificate is said in the target line
    /// and in `details`; a verified or plain connection adds nothing.
    #[test]
    fn an_unverified_daemon_certificate_is_said() {
        let mut s = writeup();
        for verified in [None, Some(true)] {
            s.docker.as_mut().unwrap().endpoint.tls_verified = verified;
            let t = Target::from_snapshot("docker", &s);
            assert!(!t.details.contains_key("tls_verified"), "{verified:?}");
            assert!(!t.describe().contains("not verified"), "{verified:?}");
        }
        s.docker.as_mut().unwrap().endpoint.tls_verified = Some(false);
        let t = Target::from_snapshot("docker", &s);
        assert_eq!(t.details.get("tls_verified"), Some(&false.into()));
        assert!(
            t.describe().contains(" (daemon certificate not verified)"),
            "{}",
            t.describe()
        );
    }
}
