//! The rule catalog: metadata as data (TOML under `rules/`), embedded in the binary.
//!
//! Each rule names its artifact, severity, STRIDE categories, the audit control it corresponds
//! to (so `threats` can use a finding as evidence and `harden` can apply its fix), the IDs of the
//! same check in other tools, and the concepts of `static-checks-xref.csv` it covers. The
//! evaluation of each rule is Rust, in `rules/<artifact>.rs`, listed in `rules::REGISTRY`.

use crate::model::{ArtifactKind, Severity};
use bulkhead_checks::Stride;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub stride: Vec<Stride>,
    #[serde(default)]
    pub control: Option<String>,
    /// Pod Security Standards level that forbids the setting (`baseline`, `restricted`).
    #[serde(default)]
    pub pss: Option<String>,
    /// Benchmark references beyond the control's own (`cis-docker-1.6.0 = "5.5"` for a
    /// Kubernetes rule whose runtime twin is a Docker check).
    #[serde(default)]
    pub refs: BTreeMap<String, String>,
    pub aliases: Vec<String>,
    /// Concepts of static-checks-xref.csv this rule covers (exact text of its `concept` column).
    pub concepts: Vec<String>,
    /// Why it matters (bulkhead's own words).
    pub why: String,
    /// How to fix it (bulkhead's own words).
    pub fix: String,
    #[serde(skip)]
    pub artifact: Option<ArtifactKind>,
    /// Control refs + `refs` + `pss`, computed at load time.
    #[serde(skip)]
    pub benchmark_refs: BTreeMap<String, String>,
}

impl Rule {
    pub fn artifact(&self) -> ArtifactKind {
        self.artifact.expect("artifact set at load")
    }

    /// Does `key` name this rule (its ID, or one of its aliases, case-insensitive)?
    pub fn is_named(&self, key: &str) -> bool {
        self.id.eq_ignore_ascii_case(key)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(key))
    }
}

const FILES: &[(ArtifactKind, &str, &str)] = &[
    (
        ArtifactKind::Dockerfile,
        "rules/dockerfile.toml",
        include_str!("../rules/dockerfile.toml"),
    ),
    (
        ArtifactKind::Compose,
        "rules/compose.toml",
        include_str!("../rules/compose.toml"),
    ),
    (
        ArtifactKind::Kubernetes,
        "rules/kubernetes.toml",
        include_str!("../rules/kubernetes.toml"),
    ),
    (
        ArtifactKind::DaemonJson,
        "rules/daemon.toml",
        include_str!("../rules/daemon.toml"),
    ),
];

#[derive(Deserialize)]
struct RuleFile {
    rule: Vec<Rule>,
}

/// Parse the embedded rule files and resolve control references. Errors name the file and rule.
pub fn load() -> Result<Vec<Rule>, String> {
    let controls = bulkhead_checks::catalog();
    let mut out: Vec<Rule> = Vec::new();
    for (kind, name, text) in FILES {
        let f: RuleFile = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        for mut r in f.rule {
            r.artifact = Some(*kind);
            if let Some(c) = &r.control {
                let control = controls
                    .control(c)
                    .ok_or_else(|| format!("{name}: rule {}: unknown control {c}", r.id))?;
                let bench = controls
                    .benchmark(&control.benchmark)
                    .ok_or_else(|| format!("{name}: rule {}: no benchmark for {c}", r.id))?;
                let edition = bench.default_edition();
                if let Some(id) = control.id_in(edition) {
                    r.benchmark_refs
                        .insert(format!("{}-{edition}", bench.id), id.to_string());
                }
            }
            for (k, v) in &r.refs {
                r.benchmark_refs
                    .entry(k.clone())
                    .or_insert_with(|| v.clone());
            }
            if let Some(level) = &r.pss {
                r.benchmark_refs.insert("pss".into(), level.clone());
            }
            if out.iter().any(|o| o.id == r.id) {
                return Err(format!("{name}: duplicate rule id {}", r.id));
            }
            out.push(r);
        }
    }
    Ok(out)
}

/// The rules, loaded once. The embedded files are validated by tests.
pub fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| load().unwrap_or_else(|e| panic!("embedded rule catalog is invalid: {e}")))
}

pub fn rule(id: &str) -> Option<&'static Rule> {
    rules().iter().find(|r| r.id == id)
}

/// Find a rule by ID or alias.
pub fn lookup(key: &str) -> Option<&'static Rule> {
    rules()
        .iter()
        .find(|r| r.id.eq_ignore_ascii_case(key))
        .or_else(|| rules().iter().find(|r| r.is_named(key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_loads_and_every_rule_is_documented() {
        let rules = load().unwrap();
        assert!(rules.len() > 100);
        for r in &rules {
            assert!(
                !r.why.trim().is_empty() && !r.fix.trim().is_empty(),
                "{}",
                r.id
            );
            let prefix = match r.artifact() {
                ArtifactKind::Dockerfile => "dockerfile-",
                ArtifactKind::Compose => "compose-",
                ArtifactKind::Kubernetes => "k8s-",
                ArtifactKind::DaemonJson => "daemon-",
            };
            assert!(
                r.id.starts_with(prefix),
                "{} should start with {prefix}",
                r.id
            );
        }
    }

    #[test]
    fn control_references_become_benchmark_refs() {
        let r = rule("dockerfile-root-final-stage").unwrap();
        assert_eq!(
            r.benchmark_refs.get("cis-docker-1.6.0").map(String::as_str),
            Some("4.1")
        );
        let r = rule("compose-read-only").unwrap();
        assert_eq!(
            r.benchmark_refs.get("cis-docker-1.6.0").map(String::as_str),
            Some("5.13")
        );
        let r = rule("k8s-privileged").unwrap();
        assert_eq!(
            r.benchmark_refs.get("pss").map(String::as_str),
            Some("baseline")
        );
        assert!(r.benchmark_refs.contains_key("cis-kubernetes-1.12"));
        assert_eq!(lookup("DL3002").unwrap().id, "dockerfile-root-final-stage");
    }
}
