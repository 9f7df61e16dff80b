//! Results: one status vocabulary, per-object results that roll up to the check.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The one status vocabulary used everywhere (audit, scan, JSON, text, JUnit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The control holds.
    Pass,
    /// The control does not hold.
    Fail,
    /// Needs a human to review: bulkhead found something it cannot judge alone.
    Warn,
    /// Information only (counts, versions); not a verdict.
    Info,
    /// The benchmark leaves this check to human judgement; evidence is shown where bulkhead can read it.
    Manual,
    /// Does not apply here, with the reason (no running containers, swarm not enabled, ...).
    NotApplicable,
    /// Could not be evaluated, with the reason (a fact could not be read).
    Error,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Pass,
        Status::Fail,
        Status::Warn,
        Status::Info,
        Status::Manual,
        Status::NotApplicable,
        Status::Error,
    ];

    /// Upper-case label for terminal output, docker-bench style.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Warn => "WARN",
            Status::Info => "INFO",
            Status::Manual => "MANUAL",
            Status::NotApplicable => "N/A",
            Status::Error => "ERROR",
        }
    }

    /// snake_case name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Info => "info",
            Status::Manual => "manual",
            Status::NotApplicable => "not_applicable",
            Status::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s || st.label().eq_ignore_ascii_case(s))
    }

    /// How strongly this status dominates when per-object results roll up: a known failure beats
    /// an error elsewhere (the check fails whatever the unknown object says), an error beats a
    /// pass (the check cannot be called passing), and so on.
    pub fn rollup_rank(self) -> u8 {
        match self {
            Status::Fail => 6,
            Status::Error => 5,
            Status::Warn => 4,
            Status::Manual => 3,
            Status::Info => 2,
            Status::Pass => 1,
            Status::NotApplicable => 0,
        }
    }

    /// Severity order for `--fail-on`: is `self` at least as bad as `threshold`?
    pub fn reaches(self, threshold: Status) -> bool {
        let rank = |s: Status| match s {
            Status::Fail | Status::Error => 3,
            Status::Warn => 2,
            Status::Manual | Status::Info => 1,
            Status::Pass | Status::NotApplicable => 0,
        };
        match threshold {
            // `--fail-on error` means tool errors only.
            Status::Error => self == Status::Error,
            _ => rank(self) >= rank(threshold) && rank(self) > 0,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// STRIDE categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Stride {
    S,
    T,
    R,
    I,
    D,
    E,
}

impl Stride {
    pub const ALL: [Stride; 6] = [
        Stride::S,
        Stride::T,
        Stride::R,
        Stride::I,
        Stride::D,
        Stride::E,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stride::S => "Spoofing",
            Stride::T => "Tampering",
            Stride::R => "Repudiation",
            Stride::I => "Information disclosure",
            Stride::D => "Denial of service",
            Stride::E => "Elevation of privilege",
        }
    }

    pub fn letter(self) -> char {
        match self {
            Stride::S => 'S',
            Stride::T => 'T',
            Stride::R => 'R',
            Stride::I => 'I',
            Stride::D => 'D',
            Stride::E => 'E',
        }
    }
}

/// What was observed against what the control expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Where the value was read: `HostConfig.ReadonlyRootfs`, `daemon.json icc`, `mode`.
    pub field: String,
    pub actual: String,
    pub expected: String,
}

impl Evidence {
    pub fn new(
        field: impl Into<String>,
        actual: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        Evidence {
            field: field.into(),
            actual: actual.into(),
            expected: expected.into(),
        }
    }
}

/// The verdict on one object (a container, image, file, process, the daemon, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectResult {
    /// `container`, `image`, `file`, `process`, `daemon`, `host`, `network`, `user`, `swarm`,
    /// `kubelet`, `pod`, `role`, ...
    pub kind: String,
    /// Human name: container name without the leading slash, file path, image tag.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    /// A sentence for the reader when evidence alone does not say it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl ObjectResult {
    pub fn new(kind: impl Into<String>, name: impl Into<String>, status: Status) -> Self {
        ObjectResult {
            kind: kind.into(),
            name: name.into(),
            id: None,
            status,
            evidence: None,
            note: None,
        }
    }

    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    pub fn evidence(
        mut self,
        field: impl Into<String>,
        actual: impl Into<String>,
        expected: impl Into<String>,
    ) -> Self {
        self.evidence = Some(Evidence::new(field, actual, expected));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// Does an object's note say its warn stands only until a component loads a changed file? The
/// checks that judge a setting from a file the running dockerd, kubelet, etcd or API server
/// read before the file changed all write "... may not have loaded ..." (the file and both
/// times, then what to restart), and `bulkhead verify` tells such a warn, which a restart
/// settles, from a warn a person must judge.
pub fn is_not_loaded_note(note: &str) -> bool {
    note.contains("may not have loaded")
}

/// Does an object's note say that what it fails or warns on is written where the component
/// reads it but not in force yet, so that a reload or restart settles it? Besides the notes of
/// [`is_not_loaded_note`], the Docker daemon checks write "..., which the running dockerd has not
/// loaded: reload dockerd (...)" (a daemon.json setting the daemon's API does not show yet) and
/// the etcd checks "..., which the running etcd (pid N) does not have: restart etcd ..." (a
/// variable of its environment file). Each names what to reload or restart.
pub fn is_pending_setting_note(note: &str) -> bool {
    is_not_loaded_note(note)
        || note.contains("which the running dockerd has not loaded")
        || (note.contains("which the running ") && note.contains(" does not have: restart"))
}

/// The verdict on one check: a status, a one-line message, and the objects behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ObjectResult>,
}

impl CheckResult {
    pub fn new(status: Status, message: impl Into<String>) -> Self {
        CheckResult {
            status,
            message: Some(message.into()),
            objects: Vec::new(),
        }
    }
    pub fn pass(message: impl Into<String>) -> Self {
        Self::new(Status::Pass, message)
    }
    pub fn fail(message: impl Into<String>) -> Self {
        Self::new(Status::Fail, message)
    }
    pub fn warn(message: impl Into<String>) -> Self {
        Self::new(Status::Warn, message)
    }
    pub fn info(message: impl Into<String>) -> Self {
        Self::new(Status::Info, message)
    }
    pub fn manual(message: impl Into<String>) -> Self {
        Self::new(Status::Manual, message)
    }
    pub fn not_applicable(reason: impl Into<String>) -> Self {
        Self::new(Status::NotApplicable, reason)
    }
    pub fn error(reason: impl Into<String>) -> Self {
        Self::new(Status::Error, reason)
    }

    /// Roll per-object results up to the check: the most dominant object status wins (a failure
    /// beats an error, an error beats a pass). With no objects the check is not applicable, for
    /// `empty_reason`.
    pub fn from_objects(objects: Vec<ObjectResult>, empty_reason: impl Into<String>) -> Self {
        if objects.is_empty() {
            return CheckResult::not_applicable(empty_reason);
        }
        let status = objects
            .iter()
            .map(|o| o.status)
            .max_by_key(|s| s.rollup_rank())
            .unwrap_or(Status::NotApplicable);
        let count = |s: Status| objects.iter().filter(|o| o.status == s).count();
        let kind = objects[0].kind.clone();
        let plural = |n: usize| {
            if n == 1 {
                kind.clone()
            } else {
                format!("{kind}s")
            }
        };
        // The verb agrees with the count it follows: "1 of 3 containers fails".
        let agreeing = |n: usize, one: &'static str, many: &'static str| {
            if n == 1 {
                one
            } else {
                many
            }
        };
        let message = match status {
            Status::Fail => format!(
                "{} of {} {} {}",
                count(Status::Fail),
                objects.len(),
                plural(objects.len()),
                agreeing(count(Status::Fail), "fails", "fail")
            ),
            Status::Error => format!(
                "{} of {} {} could not be evaluated",
                count(Status::Error),
                objects.len(),
                plural(objects.len())
            ),
            Status::Warn => format!(
                "{} of {} {} {}",
                count(Status::Warn),
                objects.len(),
                plural(objects.len()),
                agreeing(count(Status::Warn), "needs review", "need review")
            ),
            Status::Pass if objects.len() == 1 => format!("the 1 {kind} passes"),
            Status::Pass => format!("all {} {} pass", objects.len(), plural(objects.len())),
            _ => format!("{} {}", objects.len(), plural(objects.len())),
        };
        CheckResult {
            status,
            message: Some(message),
            objects,
        }
    }

    pub fn with_objects(mut self, objects: Vec<ObjectResult>) -> Self {
        self.objects = objects;
        self
    }

    pub fn with_object(mut self, object: ObjectResult) -> Self {
        self.objects.push(object);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollup_prefers_known_failure() {
        let objs = vec![
            ObjectResult::new("container", "a", Status::Pass),
            ObjectResult::new("container", "b", Status::Error),
            ObjectResult::new("container", "c", Status::Fail),
        ];
        let r = CheckResult::from_objects(objs, "none");
        assert_eq!(r.status, Status::Fail);
        assert_eq!(r.message.as_deref(), Some("1 of 3 containers fails"));
        let r = CheckResult::from_objects(
            vec![
                ObjectResult::new("file", "x", Status::Pass),
                ObjectResult::new("file", "y", Status::Error),
            ],
            "none",
        );
        assert_eq!(r.status, Status::Error);
        // The verb agrees with the count before it.
        let warned = |n: usize| {
            let objs = (0..3)
                .map(|i| {
                    let status = if i < n { Status::Warn } else { Status::Pass };
                    ObjectResult::new("container", format!("c{i}"), status)
                })
                .collect();
            CheckResult::from_objects(objs, "none").message.unwrap()
        };
        assert_eq!(warned(1), "1 of 3 containers needs review");
        assert_eq!(warned(2), "2 of 3 containers need review");
        assert_eq!(
            CheckResult::from_objects(vec![], "no running containers").status,
            Status::NotApplicable
        );
    }

    #[test]
    fn fail_on_thresholds() {
        assert!(Status::Fail.reaches(Status::Fail));
        assert!(Status::Error.reaches(Status::Fail));
        assert!(!Status::Warn.reaches(Status::Fail));
        assert!(Status::Warn.reaches(Status::Warn));
        assert!(!Status::Pass.reaches(Status::Info));
        assert!(!Status::NotApplicable.reaches(Status::Warn));
        assert!(!Status::Fail.reaches(Status::Error));
    }
}
