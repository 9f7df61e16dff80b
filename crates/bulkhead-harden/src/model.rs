//! The plan and its fixes: what `bulkhead harden` proposes, serialized as `bulkhead.harden/1`.
//!
//! A [`Fix`] closes one or more checks on one target (the daemon's daemon.json, a file, a
//! container, a compose service, a Dockerfile, a kubelet config, a static pod). It says what it
//! changes, what it may break, whether it is safe to apply automatically, and either the file
//! edits it makes (rendered as a unified diff) or the command a human runs.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// JSON schema name of a serialized plan.
pub const HARDEN_SCHEMA: &str = "bulkhead.harden/1";

/// What kind of change a fix makes. The names are the JSON contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FixKind {
    /// Keys merged into the daemon's daemon.json, keeping everything else as written.
    DaemonJson,
    /// A system-wide shell profile snippet (`/etc/profile.d/...`).
    Profile,
    /// chmod/chown of a file to what the benchmark requires.
    FileMode,
    /// An audit rules file watching the Docker paths.
    AuditRules,
    /// The container recreated with a `docker run` command carrying the missing flags.
    DockerRun,
    /// A patch to the compose file that created the container.
    Compose,
    /// USER / HEALTHCHECK added to the Dockerfile that builds the image.
    Dockerfile,
    /// Keys set in the kubelet's config file.
    KubeletConfig,
    /// Flags set in a static pod manifest (API server, controller manager, scheduler, etcd).
    StaticPod,
    /// A generated EncryptionConfiguration wired into the API server.
    EncryptionConfig,
    /// securityContext set on a workload's pod template.
    PodSecurityContext,
    /// Flags or environment of a component that is not a static pod (etcd configured by
    /// `/etc/default/etcd`, for example).
    ServiceConfig,
    /// Keys set in etcd's configuration file (`--config-file`), which replaces its flags and
    /// `ETCD_*` environment.
    EtcdConfig,
}

impl FixKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::DaemonJson => "daemon-json",
            FixKind::Profile => "profile",
            FixKind::FileMode => "file-mode",
            FixKind::AuditRules => "audit-rules",
            FixKind::DockerRun => "docker-run",
            FixKind::Compose => "compose",
            FixKind::Dockerfile => "dockerfile",
            FixKind::KubeletConfig => "kubelet-config",
            FixKind::StaticPod => "static-pod",
            FixKind::EncryptionConfig => "encryption-config",
            FixKind::PodSecurityContext => "pod-security-context",
            FixKind::ServiceConfig => "service-config",
            FixKind::EtcdConfig => "etcd-config",
        }
    }
}

/// Whether a fix may be applied without a human reading it first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Safety {
    /// Changes nothing a workload depends on; `--apply` applies it.
    Safe,
    /// May break something (listed in `may_break`); `--apply` applies it only with
    /// `--include-review`, and command fixes are always left to a human.
    Review,
}

impl Safety {
    pub fn as_str(self) -> &'static str {
        match self {
            Safety::Safe => "safe",
            Safety::Review => "review",
        }
    }
}

/// The object a fix changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// `daemon`, `host`, `file`, `container`, `compose-service`, `image`, `kubelet`,
    /// `static-pod`, `etcd`, `workload`.
    pub kind: String,
    /// Human name: the container name, the file path, `kube-apiserver`, `deployment/ns/web`.
    pub name: String,
    /// The file the fix edits, when it edits one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Target {
    pub fn new(kind: &str, name: impl Into<String>, path: Option<String>) -> Self {
        Target {
            kind: kind.into(),
            name: name.into(),
            path,
        }
    }
}

/// How a file is owned and what its permission bits are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileAttrs {
    /// Permission bits (including setuid/setgid/sticky).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// One file's new content. `path` is the path on the audited host; the file is read and written
/// under the plan's root.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEdit {
    pub path: String,
    /// SHA-256 of the content the plan was computed from; `None` when the file does not exist
    /// and the edit creates it. Apply refuses when the file no longer matches.
    pub before_sha256: Option<String>,
    pub after_sha256: String,
    /// Mode and owner for a file the edit creates (an existing file keeps its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_attrs: Option<FileAttrs>,
    /// The new content. Not serialized: it may hold secrets (a generated encryption key, a
    /// compose file's environment); the diff shows it with secret values masked.
    #[serde(skip)]
    pub after: String,
    /// The content the plan read (not serialized, for the same reason).
    #[serde(skip)]
    pub before: Option<String>,
    /// Where the file is on this machine when `path` is not a host path under the plan's root:
    /// a scanned artifact (`harden --scan`), named in `path` as the user gave it.
    #[serde(skip)]
    pub real_path: Option<PathBuf>,
    /// The new content holds a secret the plan generated (an encryption key), so it differs on
    /// every plan: `--apply --plan FILE` compares the content read, not `after_sha256`.
    #[serde(skip)]
    pub generated_secret: bool,
}

impl FileEdit {
    pub fn creates(&self) -> bool {
        self.before_sha256.is_none()
    }
}

/// A permission or ownership change of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttrChange {
    pub path: String,
    pub before: FileAttrs,
    pub after: FileAttrs,
}

/// A command for a human to run (recreating a container, patching a workload). bulkhead never
/// runs these itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandStep {
    /// What the step does.
    pub comment: String,
    /// The program and its arguments, unquoted (for tools).
    pub argv: Vec<String>,
}

/// What a fix does to the system.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Action {
    pub edits: Vec<FileEdit>,
    pub attrs: Vec<AttrChange>,
    pub steps: Vec<CommandStep>,
}

/// One planned fix.
#[derive(Debug, Clone, PartialEq)]
pub struct Fix {
    /// Stable within a plan: `<kind>:<target name>`.
    pub id: String,
    pub title: String,
    /// Check IDs in the plan's numbering.
    pub checks: Vec<String>,
    /// Stable control IDs.
    pub controls: Vec<String>,
    /// Threat IDs these controls mitigate.
    pub threats: Vec<String>,
    pub target: Target,
    pub kind: FixKind,
    pub safety: Safety,
    /// What it changes, one sentence each.
    pub changes: Vec<String>,
    /// What it may break, one sentence each.
    pub may_break: Vec<String>,
    /// Anything else the reader must know (retired features, placeholders to fill in).
    pub notes: Vec<String>,
    pub action: Action,
    /// The service that must restart (or reload) for the change to take effect.
    pub restart: Option<Restart>,
    /// The scan findings this fix removes (`harden --scan`); empty for fixes of audit checks.
    pub findings: Vec<FixedFinding>,
}

/// A scan finding a fix removes, where the scan saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedFinding {
    pub rule: String,
    /// The artifact as the scan named it.
    pub path: String,
    pub line: u32,
    /// The object inside the file (`service web`, `Deployment/shop/web container app`).
    pub object: String,
    /// What the fix does, from the rule.
    pub description: String,
}

/// A service restart a fix needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restart {
    /// `docker`, `kubelet`, `auditd`.
    pub service: String,
    /// A reload (SIGHUP) applies every changed setting; no full restart is needed.
    pub reload_suffices: bool,
}

impl Fix {
    /// Does `--apply` change the system for this fix (file edits or attribute changes), or is it
    /// a command for a human?
    pub fn is_file_fix(&self) -> bool {
        !self.action.edits.is_empty() || !self.action.attrs.is_empty()
    }

    /// The unified diff of every edit, secret values masked.
    pub fn diff(&self) -> Option<String> {
        if self.action.edits.is_empty() {
            return None;
        }
        Some(
            self.action
                .edits
                .iter()
                .map(crate::diff::unified)
                .collect::<Vec<_>>()
                .join(""),
        )
    }

    /// The shell text of the fix: chmod/chown lines for attribute changes, then command steps.
    /// Secret values are masked word by word and every word is then quoted for a POSIX shell (bash's
    /// `$'...'` for a word with characters unsafe to print, see [`crate::shell::quote`]), so
    /// masking can never eat a quote, a `;` or a line break: the text splits back into exactly
    /// the words the JSON `steps` show.
    pub fn command(&self) -> Option<String> {
        let lines: Vec<String> = self
            .attr_lines()
            .into_iter()
            .chain(self.step_lines())
            .collect();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// The chmod/chown lines of the attribute changes (what `--apply` does to modes and owners).
    pub fn attrs_command(&self) -> Option<String> {
        let lines = self.attr_lines();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    /// The command steps alone: what a human runs (after applying, for a file fix).
    pub fn steps_command(&self) -> Option<String> {
        let lines = self.step_lines();
        (!lines.is_empty()).then(|| lines.join("\n"))
    }

    fn attr_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for a in &self.action.attrs {
            if a.before.mode != a.after.mode {
                lines.push(crate::shell::join(&[
                    "chmod".to_string(),
                    format!("{:04o}", a.after.mode),
                    a.path.clone(),
                ]));
            }
            if (a.before.uid, a.before.gid) != (a.after.uid, a.after.gid) {
                lines.push(crate::shell::join(&[
                    "chown".to_string(),
                    format!("{}:{}", a.after.uid, a.after.gid),
                    a.path.clone(),
                ]));
            }
        }
        lines
    }

    fn step_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for s in &self.action.steps {
            if !s.comment.is_empty() {
                // A comment is one line of prose; masking it cannot change a command.
                lines.push(format!(
                    "# {}",
                    bulkhead_facts::mask::mask_text(&s.comment.replace('\n', " "))
                ));
            }
            lines.push(crate::shell::join(&bulkhead_facts::mask::mask_argv(
                &s.argv,
            )));
        }
        lines
    }
}

/// A selected check that failed but gets no fix, with the reason. Nothing is dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unfixed {
    /// The check ID; for a scan finding without one, its rule ID.
    pub check: String,
    /// The stable control ID; empty for a scan finding that corresponds to no control.
    pub control: String,
    /// The object the reason is about (a container, a file), when it is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    pub reason: String,
    /// The scan rule, for a finding of `harden --scan`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

/// The plan: fixes for the selected failing checks, and what could not be fixed.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// `benchmark id -> edition` of the numbering check IDs are shown in.
    pub numbering: Vec<(String, String)>,
    /// The host files were read under.
    pub root: String,
    pub fixes: Vec<Fix>,
    pub unfixed: Vec<Unfixed>,
    /// What `--scan` looked at, when it was given.
    pub scan: Option<ScanSummary>,
}

/// The scan behind the scan fixes of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanSummary {
    /// The paths given to `--scan`.
    pub paths: Vec<String>,
    /// Artifacts scanned.
    pub files: usize,
    /// Findings (not suppressed).
    pub findings: usize,
    /// Findings selected by `--select`/`--threat` (all of them without either).
    pub selected: usize,
    /// Of the selected findings, those that are informational (status `info`) and have no fix:
    /// they describe the artifact and fail nothing, so none is listed as not fixed. One that has
    /// a fix (MAINTAINER -> LABEL) is planned and counted in its fix's `findings` instead: each
    /// selected finding is in exactly one of a fix's `findings`, `unfixed` and this count.
    #[serde(default)]
    pub informational: usize,
    /// Files that could not be scanned, with the place and reason.
    pub errors: Vec<String>,
    /// `benchmark id -> edition` the check IDs of the scan fixes are in, for every benchmark: a
    /// plan of one audit (`harden docker --scan`) numbers a manifest's findings in CIS
    /// Kubernetes too, and says so ([`Plan::numbering_shown`]).
    #[serde(skip)]
    pub numbering: Vec<(String, String)>,
}

impl Plan {
    /// Stable IDs of every control some fix in this plan closes. The threats crate computes the
    /// severity projected after the plan from this set.
    pub fn fixed_controls(&self) -> BTreeSet<String> {
        self.fixes
            .iter()
            .flat_map(|f| f.controls.iter().cloned())
            .collect()
    }

    /// Check IDs (in the plan's numbering) some fix closes.
    pub fn fixed_checks(&self) -> BTreeSet<String> {
        self.fixes
            .iter()
            .flat_map(|f| f.checks.iter().cloned())
            .collect()
    }

    /// The numbering the plan's check IDs are in: the audits', then that of the scan fixes for
    /// the benchmarks no audit numbers.
    pub fn numbering_shown(&self) -> Vec<(String, String)> {
        let mut out = self.numbering.clone();
        for (b, e) in self.scan.iter().flat_map(|s| &s.numbering) {
            if !out.iter().any(|(x, _)| x == b) {
                out.push((b.clone(), e.clone()));
            }
        }
        out
    }

    pub fn fix(&self, id: &str) -> Option<&Fix> {
        self.fixes.iter().find(|f| f.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix_with_steps(steps: Vec<CommandStep>) -> Fix {
        Fix {
            id: "t".into(),
            title: "t".into(),
            checks: vec![],
            controls: vec![],
            threats: vec![],
            target: Target::new("container", "t", None),
            kind: FixKind::DockerRun,
            safety: Safety::Review,
            changes: vec![],
            may_break: vec![],
            notes: vec![],
            action: Action {
                steps,
                ..Default::default()
            },
            restart: None,
            findings: vec![],
        }
    }

    #[test]
    fn command_masks_each_word_before_quoting() {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let f = fix_with_steps(vec![
            CommandStep {
                comment: "first".into(),
                argv: words(&["app", "sh", "-c", "echo --password=hunter2'"]),
            },
            CommandStep {
                comment: "then".into(),
                argv: words(&["app", "--token", "abc123", "x;y"]),
            },
        ]);
        let text = f.command().unwrap();
        assert!(
            !text.contains("hunter2") && !text.contains("abc123"),
            "{text}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert_eq!(lines[0], "# first");
        assert_eq!(lines[2], "# then");
        // The quoting survives: each command line splits back into the masked words.
        for (line, step) in [lines[1], lines[3]].iter().zip(&f.action.steps) {
            assert_eq!(
                crate::shell::split(line).unwrap(),
                bulkhead_facts::mask::mask_argv(&step.argv),
                "{line}"
            );
        }
        assert_eq!(lines[3], "app --token '***' 'x;y'");
    }
}
