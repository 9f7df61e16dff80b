//! Which containers are audited (`--all-containers`, `--include`, `--exclude`, `--label`), and
//! why every other one was left out. bulkhead's own container (label
//! [`bulkhead_facts::docker::SELF_LABEL`]) is always left out. Nothing is dropped silently: each
//! container not audited is listed in [`ContainerSelection::skipped`] with the reason.

use crate::{CollectError, ContainerFilter};
use bulkhead_facts::docker::{ContainerSelection, SkippedContainer, SELF_LABEL};
use regex::Regex;
use std::collections::BTreeMap;

/// What the container list says about one container.
#[derive(Debug, Clone)]
pub struct Listed {
    pub id: String,
    /// Without the leading slash.
    pub name: String,
    pub state: String,
    pub labels: BTreeMap<String, String>,
}

/// States audited without `--all-containers`.
const RUNNING_STATES: &[&str] = &["running", "restarting"];

/// Why a container is left out.
#[derive(Debug, Clone, PartialEq)]
pub struct SkipReason {
    pub text: String,
    /// A filter the user gave left it out (not its state or bulkhead's own label).
    pub by_filter: bool,
}

impl SkipReason {
    fn other(text: String) -> Option<SkipReason> {
        Some(SkipReason {
            text,
            by_filter: false,
        })
    }
    fn filter(text: String) -> Option<SkipReason> {
        Some(SkipReason {
            text,
            by_filter: true,
        })
    }

    /// The selection record of `c` left out for this reason.
    pub fn record(self, c: Listed) -> SkippedContainer {
        SkippedContainer {
            id: c.id,
            name: c.name,
            state: c.state,
            reason: self.text,
            unreadable: false,
            by_filter: self.by_filter,
        }
    }
}

/// A compiled filter.
pub struct Selector {
    filter: ContainerFilter,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
}

impl Selector {
    pub fn new(filter: &ContainerFilter) -> Result<Selector, CollectError> {
        let compile = |flag: &str, patterns: &[String]| {
            patterns
                .iter()
                .map(|p| {
                    Regex::new(p).map_err(|e| {
                        CollectError(format!(
                            "{flag} {p:?} is not a valid regular expression: {e}"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        if let Some(bad) = filter
            .labels
            .iter()
            .find(|l| l.split_once('=').map_or(l.as_str(), |(k, _)| k).is_empty())
        {
            return Err(CollectError(format!(
                "--label {bad:?} names no label: give KEY or KEY=VALUE"
            )));
        }
        Ok(Selector {
            include: compile("--include", &filter.include)?,
            exclude: compile("--exclude", &filter.exclude)?,
            filter: filter.clone(),
        })
    }

    /// Why `c` is left out, or None when it is audited.
    pub fn reason_to_skip(&self, c: &Listed) -> Option<SkipReason> {
        if c.labels.contains_key(SELF_LABEL) {
            return SkipReason::other(format!("bulkhead's own container (label {SELF_LABEL})"));
        }
        if !self.filter.all_states && !RUNNING_STATES.contains(&c.state.as_str()) {
            return SkipReason::other(format!(
                "not running (state {}); --all-containers includes it",
                c.state
            ));
        }
        if !self.include.is_empty() && !self.include.iter().any(|r| r.is_match(&c.name)) {
            return SkipReason::filter(format!(
                "name matches no --include ({})",
                self.filter.include.join(", ")
            ));
        }
        if let Some(r) = self.exclude.iter().find(|r| r.is_match(&c.name)) {
            return SkipReason::filter(format!("name matches excluded pattern {}", r.as_str()));
        }
        for wanted in &self.filter.labels {
            let ok = match wanted.split_once('=') {
                Some((k, v)) => c.labels.get(k).is_some_and(|have| have == v),
                None => c.labels.contains_key(wanted),
            };
            if !ok {
                return SkipReason::filter(format!("lacks label {wanted}"));
            }
        }
        None
    }

    /// Split the listed containers into the audited ones and the selection record.
    pub fn select(&self, listed: Vec<Listed>) -> (Vec<Listed>, ContainerSelection) {
        let mut selection = ContainerSelection {
            all_states: self.filter.all_states,
            include: self.filter.include.clone(),
            exclude: self.filter.exclude.clone(),
            labels: self.filter.labels.clone(),
            skipped: Vec::new(),
        };
        let mut chosen = Vec::new();
        for c in listed {
            match self.reason_to_skip(&c) {
                Some(reason) => selection.skipped.push(reason.record(c)),
                None => chosen.push(c),
            }
        }
        (chosen, selection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, state: &str, labels: &[(&str, &str)]) -> Listed {
        Listed {
            id: format!("id-{name}"),
            name: name.into(),
            state: state.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn names(v: &[Listed]) -> Vec<&str> {
        v.iter().map(|c| c.name.as_str()).collect()
    }

    /// `--label ''` or `--label =x` names no label: refused rather than matching nothing and
    /// leaving every container check not applicable.
    #[test]
    fn a_label_without_a_key_is_refused() {
        for bad in ["", "=x"] {
            let filter = ContainerFilter {
                labels: vec![bad.to_string()],
                ..Default::default()
            };
            let e = Selector::new(&filter).err().expect("refused");
            assert!(e.0.contains("names no label"), "{}", e.0);
        }
        let filter = ContainerFilter {
            labels: vec!["tier".into(), "tier=web".into(), "tier=".into()],
            ..Default::default()
        };
        assert!(Selector::new(&filter).is_ok());
    }

    #[test]
    fn running_by_default_and_every_skip_has_a_reason() {
        let s = Selector::new(&ContainerFilter::default()).unwrap();
        let (chosen, sel) = s.select(vec![
            c("web", "running", &[]),
            c("old", "exited", &[]),
            c("new", "created", &[]),
            c("me", "running", &[(SELF_LABEL, "")]),
            // PITFALL 18: a name containing "nil" is a name like any other.
            c("vanilla-nil", "running", &[]),
        ]);
        assert_eq!(names(&chosen), vec!["web", "vanilla-nil"]);
        let skipped: Vec<(&str, &str)> = sel
            .skipped
            .iter()
            .map(|s| (s.name.as_str(), s.reason.as_str()))
            .collect();
        assert_eq!(skipped.len(), 3);
        assert!(skipped[0].1.contains("state exited"));
        assert!(skipped[2].1.contains("bulkhead's own container"));
        // Neither its state nor bulkhead's own label is a filter the user gave.
        assert!(sel.skipped.iter().all(|s| !s.by_filter));
    }

    #[test]
    fn all_states_include_exclude_labels() {
        let f = ContainerFilter {
            all_states: true,
            include: vec!["^app-".into()],
            exclude: vec!["-debug$".into()],
            labels: vec!["tier=web".into(), "owner".into()],
        };
        let s = Selector::new(&f).unwrap();
        let (chosen, sel) = s.select(vec![
            c("app-1", "exited", &[("tier", "web"), ("owner", "x")]),
            c("app-2-debug", "running", &[("tier", "web"), ("owner", "x")]),
            c("app-3", "running", &[("tier", "db"), ("owner", "x")]),
            c("app-4", "paused", &[("tier", "web")]),
            c("db", "running", &[("tier", "web"), ("owner", "x")]),
        ]);
        assert_eq!(names(&chosen), vec!["app-1"]);
        let reasons: Vec<&str> = sel.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(
            reasons,
            vec![
                "name matches excluded pattern -debug$",
                "lacks label tier=web",
                "lacks label owner",
                "name matches no --include (^app-)"
            ]
        );
        assert!(sel.skipped.iter().all(|s| s.by_filter));
        assert!(Selector::new(&ContainerFilter {
            include: vec!["(".into()],
            ..Default::default()
        })
        .is_err());
    }
}
