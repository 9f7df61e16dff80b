//! Scan configuration (`--config FILE`, or `.bulkhead.toml` in the current directory):
//! trusted registries, disabled rules, excluded paths, and suppressions with a reason and an
//! optional expiry date.
//!
//! ```toml
//! [scan]
//! trusted_registries = ["registry.example.com"]
//! disable = ["dockerfile-maintainer"]
//! exclude = ["vendor/**"]
//!
//! [[scan.ignore]]
//! rule = "k8s-host-network"
//! paths = ["deploy/cni/*.yaml"]
//! object = "DaemonSet/kube-system/cilium"
//! reason = "the CNI agent must use the host network"
//! expires = "2027-01-31"
//! ```

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub scan: Config,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Registries base images and pod images may come from; empty disables the registry rules.
    #[serde(default)]
    pub trusted_registries: Vec<String>,
    /// Rule IDs (or aliases) not to run.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Path globs not to scan.
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<IgnoreEntry>,
    /// The file the configuration was read from (see [`Config::parse_file`]), to name where a
    /// suppression entry is.
    #[serde(skip)]
    pub path: Option<String>,
}

/// A suppression in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    /// Rule ID or alias.
    pub rule: String,
    /// Path globs (relative paths as reported); empty means every file.
    #[serde(default)]
    pub paths: Vec<String>,
    /// Substring of the finding's object (`Deployment/prod/web`, `service db`).
    #[serde(default)]
    pub object: Option<String>,
    /// Why the finding is accepted. Required: an unexplained suppression is a finding hidden.
    pub reason: String,
    /// `YYYY-MM-DD`; after this day the entry no longer suppresses and is reported as expired.
    #[serde(default)]
    pub expires: Option<String>,
    /// 1-based line of the entry in the configuration text (its `[[scan.ignore]]` header); 0
    /// when the entry was not parsed from text.
    #[serde(skip)]
    pub line: u32,
}

impl IgnoreEntry {
    /// Where the entry is written, for notes about it: `PATH:LINE` when the configuration was read
    /// from a file, else `config:N` for the N-th entry (`index` is 0-based).
    pub fn location(&self, config: &Config, index: usize) -> String {
        match (&config.path, self.line) {
            (Some(path), line) if line > 0 => format!("{path}:{line}"),
            _ => format!("config:{}", index + 1),
        }
    }
}

/// Only the positions of the `[[scan.ignore]]` entries, read beside the entries themselves.
#[derive(Deserialize)]
struct Positions {
    #[serde(default)]
    scan: Option<ScanPositions>,
}

#[derive(Deserialize)]
struct ScanPositions {
    #[serde(default)]
    ignore: Vec<toml::Spanned<toml::Value>>,
}

impl Config {
    /// Parse a configuration file's text. Errors name the problem; callers add the path.
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut f: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Ok(Positions { scan: Some(p) }) = toml::from_str::<Positions>(text) {
            for (e, at) in f.scan.ignore.iter_mut().zip(p.ignore) {
                e.line = 1 + text[..at.span().start.min(text.len())]
                    .matches('\n')
                    .count() as u32;
            }
        }
        for (i, e) in f.scan.ignore.iter().enumerate() {
            if e.reason.trim().is_empty() {
                return Err(format!(
                    "scan.ignore entry {} (rule {}): reason must not be empty",
                    i + 1,
                    e.rule
                ));
            }
            if let Some(d) = &e.expires {
                if parse_date(d).is_none() {
                    return Err(format!(
                        "scan.ignore entry {} (rule {}): expires {d:?} is not YYYY-MM-DD",
                        i + 1,
                        e.rule
                    ));
                }
            }
            for p in &e.paths {
                Glob::new(p)
                    .map_err(|err| format!("scan.ignore entry {}: bad glob {p:?}: {err}", i + 1))?;
            }
        }
        for p in &f.scan.exclude {
            Glob::new(p).map_err(|err| format!("scan.exclude: bad glob {p:?}: {err}"))?;
        }
        Ok(f.scan)
    }

    /// [`Config::parse`] for the text of the file at `path`, which notes about its entries name.
    pub fn parse_file(text: &str, path: &str) -> Result<Config, String> {
        let mut c = Config::parse(text)?;
        c.path = Some(path.to_string());
        Ok(c)
    }

    pub fn exclude_set(&self) -> GlobSet {
        globs(&self.exclude)
    }

    pub fn is_disabled(&self, rule: &crate::catalog::Rule) -> bool {
        self.disable.iter().any(|d| rule.is_named(d))
    }
}

pub fn globs(patterns: &[String]) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        if let Ok(g) = Glob::new(p) {
            b.add(g);
        }
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

/// `YYYY-MM-DD` as a comparable day number.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.trim().split('-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: i64 = it.next()?.parse().ok()?;
    let d: i64 = it.next()?.parse().ok()?;
    if it.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(bulkhead_facts::time::days_from_civil(y, m, d))
}

/// Today as a day number (UTC).
pub fn today() -> i64 {
    bulkhead_facts::time::unix_now().div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_entries_and_rejects_missing_reason() {
        let c = Config::parse("[scan]\ntrusted_registries=[\"r.example\"]\n[[scan.ignore]]\nrule=\"k8s-host-network\"\nreason=\"cni\"\nexpires=\"2030-01-02\"\n").unwrap();
        assert_eq!(c.ignore.len(), 1);
        let e = Config::parse("[[scan.ignore]]\nrule=\"x\"\nreason=\"\"\n").unwrap_err();
        assert!(e.contains("reason"), "{e}");
        let e = Config::parse("[[scan.ignore]]\nrule=\"x\"\nreason=\"r\"\nexpires=\"soon\"\n")
            .unwrap_err();
        assert!(e.contains("YYYY-MM-DD"), "{e}");
        assert!(Config::parse("[scan]\nunknown=1\n").is_err());
    }

    #[test]
    fn entries_know_their_file_and_line() {
        let text = "[scan]\ndisable = []\n\n[[scan.ignore]]\nrule = \"a\"\nreason = \"r\"\n\n[[scan.ignore]]\nreason = \"r\"\nrule = \"b\"\n";
        let c = Config::parse_file(text, "ci/.bulkhead.toml").unwrap();
        let lines: Vec<u32> = c.ignore.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![4, 8]);
        assert_eq!(c.ignore[1].location(&c, 1), "ci/.bulkhead.toml:8");
        let c = Config::parse(text).unwrap();
        assert_eq!(c.ignore[1].location(&c, 1), "config:2");
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2000-03-01"), Some(11017));
        assert!(parse_date("2026-02-30").is_some());
        assert!(parse_date("2026-13-01").is_none());
    }
}
