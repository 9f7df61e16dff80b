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
    /// Docker: how many containers were audited, and each one left out with why (stopped
    /// without `--all-containers`, the filters, bulkhead's own), so a report never leaves a
    /// reader to wonder where a container went.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub containers: Option<ContainerScope>,
    pub collected_at: String,
}

/// The containers a Docker audit looked at.
#[derive(Debug, Clone, Serialize)]
pub struct ContainerScope {
    pub audited: usize,
    pub left_out: Vec<LeftOut>,
}

/// A container the audit left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct LeftOut {
    pub name: String,
    pub id: String,
    pub state: String,
    pub reason: String,
}

impl ContainerScope {
    /// From the snapshot's containers and selection; None when the container list could not
    /// be read (the checks say why).
    fn of(d: &bulkhead_facts::docker::DockerFacts) -> Option<ContainerScope> {
        let audited = d.containers.value()?.len();
        let mut left_out: Vec<LeftOut> = d
            .selection
            .skipped
            .iter()
            // Selected but unreadable: audited as far as it goes, the checks report the error.
            .filter(|c| !c.unreadable)
            .map(|c| LeftOut {
                name: c.name.trim_start_matches('/').to_string(),
                id: c.id.chars().take(12).collect(),
                state: c.state.clone(),
                reason: c.reason.clone(),
            })
            .collect();
        // By name, as the checks list containers: the daemon's list order is not stable, and a
        // snapshot re-selected offline must read as the live audit does.
        left_out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Some(ContainerScope { audited, left_out })
    }

    /// One line for headers: `3 audited; left out: old (not running ...), ...`, the first few
    /// left out by name.
    pub fn describe(&self) -> String {
        const SHOWN: usize = 5;
        let mut s = format!("{} audited", self.audited);
        if self.left_out.is_empty() {
            return s;
        }
        let named: Vec<String> = self
            .left_out
            .iter()
            .take(SHOWN)
            .map(|c| format!("{} ({})", c.name, c.reason))
            .collect();
        s.push_str(&format!(
            "; {} left out: {}",
            self.left_out.len(),
            named.join(", ")
        ));
        if self.left_out.len() > SHOWN {
            s.push_str(&format!(
                " and {} more (`--format json` lists them all)",
                self.left_out.len() - SHOWN
            ));
        }
        s
    }
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
            containers: None,
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
                t.containers = ContainerScope::of(d);
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

    /// Every container left out of the audit is named with why, in the JSON and in the text
    /// header (the first few); one selected whose inspect failed is not "left out": the checks
    /// report its error.
    #[test]
    fn containers_left_out_are_named_with_the_reason() {
        use bulkhead_facts::docker::SkippedContainer;
        let mut s = writeup();
        let audited = s.docker.as_ref().unwrap().containers.value().unwrap().len();
        let t = Target::from_snapshot("docker", &s);
        assert_eq!(
            t.containers.as_ref().unwrap().describe(),
            format!("{audited} audited")
        );
        let skipped = |name: &str, reason: &str, unreadable: bool| SkippedContainer {
            id: "0123456789abcdef0123".into(),
            name: format!("/{name}"),
            state: "exited".into(),
            reason: reason.into(),
            unreadable,
            by_filter: false,
        };
        s.docker.as_mut().unwrap().selection.skipped = vec![
            skipped(
                "old",
                "not running (state exited); --all-containers includes it",
                false,
            ),
            skipped(
                "bulkhead-audit",
                "bulkhead's own container (label io.bulkhead.self)",
                false,
            ),
            skipped("gone", "inspect failed: no such container", true),
        ];
        let t = Target::from_snapshot("docker", &s);
        let scope = t.containers.as_ref().unwrap();
        assert_eq!(
            scope.describe(),
            format!(
                "{audited} audited; 2 left out: bulkhead-audit (bulkhead's own container (label \
                 io.bulkhead.self)), old (not running (state exited); --all-containers includes \
                 it)"
            )
        );
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["containers"]["audited"], audited);
        assert_eq!(
            json["containers"]["left_out"][1],
            serde_json::json!({"name": "old", "id": "0123456789ab", "state": "exited",
                               "reason": "not running (state exited); --all-containers includes it"})
        );
        // A long list names the first few and says how to see the rest.
        s.docker.as_mut().unwrap().selection.skipped = (0..7)
            .map(|n| skipped(&format!("c{n}"), "name matches excluded pattern c", false))
            .collect();
        let t = Target::from_snapshot("docker", &s);
        assert!(t.containers.unwrap().describe().ends_with(
            "c4 (name matches excluded pattern c) and 2 more (`--format json` lists them all)"
        ));
        // No Docker part in a Kubernetes target.
        assert!(Target::from_snapshot("kubernetes", &s).containers.is_none());
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
