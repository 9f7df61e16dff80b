//! What a scan produces: findings with locations, objects, benchmark references, STRIDE
//! categories and fixes; file errors; suppression bookkeeping. Renderers and other pipeline
//! stages (`threats`, `harden`) consume these types; they never re-read the scanned files.

use bulkhead_checks::{Status, Stride};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// How much a finding matters. SARIF's `security-severity` is derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }

    /// The CVSS-like score GitHub code scanning reads from `security-severity`.
    pub fn security_severity(self) -> &'static str {
        match self {
            Severity::Critical => "9.5",
            Severity::High => "8.0",
            Severity::Medium => "5.5",
            Severity::Low => "3.0",
            Severity::Info => "0.5",
        }
    }

    /// The status vocabulary's view of a finding: informational findings are `info`, the rest
    /// `fail`.
    pub fn status(self) -> Status {
        match self {
            Severity::Info => Status::Info,
            _ => Status::Fail,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Artifact kinds the scanner understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    Dockerfile,
    Compose,
    Kubernetes,
    DaemonJson,
}

impl ArtifactKind {
    pub const ALL: [ArtifactKind; 4] = [
        ArtifactKind::Dockerfile,
        ArtifactKind::Compose,
        ArtifactKind::Kubernetes,
        ArtifactKind::DaemonJson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Dockerfile => "dockerfile",
            ArtifactKind::Compose => "compose",
            ArtifactKind::Kubernetes => "kubernetes",
            ArtifactKind::DaemonJson => "daemon-json",
        }
    }

    pub fn parse(s: &str) -> Option<ArtifactKind> {
        match s.to_ascii_lowercase().as_str() {
            "dockerfile" | "containerfile" => Some(ArtifactKind::Dockerfile),
            "compose" | "docker-compose" => Some(ArtifactKind::Compose),
            "kubernetes" | "k8s" | "manifest" => Some(ArtifactKind::Kubernetes),
            "daemon-json" | "daemon.json" | "daemon" => Some(ArtifactKind::DaemonJson),
            _ => None,
        }
    }
}

/// Where a finding is: path as given on the command line (relative paths stay relative), 1-based
/// line and column (Unicode code points), and the byte range for tools that edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub offset: usize,
    pub length: usize,
}

/// Whether a fix can be applied without a person looking at it (ruff's safe/unsafe split).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Safety {
    /// Does not change what the artifact does beyond the finding (ADD -> COPY of a local file).
    Safe,
    /// Changes behaviour (a non-root user, a read-only root file system): review and test.
    Review,
}

/// Replace `length` bytes at `offset` with `replacement` (insertions have length 0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edit {
    pub offset: usize,
    pub length: usize,
    pub replacement: String,
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    pub description: String,
    pub safety: Safety,
    pub edits: Vec<Edit>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub rule: String,
    pub title: String,
    pub severity: Severity,
    /// `fail`, or `info` for informational findings.
    pub status: Status,
    /// What is wrong here, in a sentence. Never contains a secret value.
    pub message: String,
    pub artifact: ArtifactKind,
    pub location: Location,
    /// The object inside the file: `Deployment/prod/web container app`, `service web`,
    /// `stage 2 (runtime)`, `daemon.json`.
    pub object: String,
    /// Stable control ID when the rule corresponds to an audit control.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// Benchmark references: `{"cis-docker-1.6.0": "4.1", "pss": "restricted"}`.
    pub benchmark_refs: BTreeMap<String, String>,
    /// IDs of the same check in hadolint, Trivy, Checkov, kube-linter.
    pub aliases: Vec<String>,
    pub stride: Vec<Stride>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// The source line(s) the finding points at, with secret values masked.
    pub snippet: String,
    /// Stable across line moves: rule, path, object and the masked source text of the location.
    pub fingerprint: String,
}

/// A file that could not be scanned (unreadable, binary, too large, malformed), with the place;
/// or one document of a YAML stream that could not be read (invalid, a duplicate key) while the
/// file's other documents were scanned; also what a skipped path is, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileError {
    pub path: String,
    /// 0 when the message is about the whole file or directory rather than a place in it.
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // about the whole file or directory, not a place in it
            return write!(f, "{}: {}", self.path, self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.column, self.message
        )
    }
}

/// Where a suppression was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionSource {
    /// `# bulkhead:ignore RULE reason` on (or just above) the line.
    InlineLine,
    /// `# bulkhead:ignore-file RULE reason`.
    InlineFile,
    /// `ignore.bulkhead.dev/RULE: reason` on a Kubernetes object or its pod template.
    Annotation,
    /// `[[scan.ignore]]` in the configuration file.
    Config,
    /// A fingerprint in the baseline file.
    Baseline,
}

/// A finding that a suppression silenced, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suppressed {
    pub finding: Finding,
    pub source: SuppressionSource,
    pub reason: String,
}

/// A suppression that silenced nothing, or whose expiry date has passed (an expired one no
/// longer silences anything).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressionNote {
    pub source: SuppressionSource,
    /// `path:line` for inline comments, annotations and configuration entries (the line of the
    /// entry's `[[scan.ignore]]`), or `config:N` for the N-th entry of a configuration that was
    /// not read from a file.
    pub location: String,
    pub rule: String,
    pub problem: SuppressionProblem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionProblem {
    Unused,
    Expired,
    UnknownRule,
}

/// A scanned file and what it turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScannedFile {
    pub path: String,
    pub kind: ArtifactKind,
    /// How the file was read when that differs from what was asked: a Dockerfile without the
    /// `--target` stage is judged by its last stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything a scan found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScanReport {
    pub files: Vec<ScannedFile>,
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
    /// Paths not scanned, with why: files that look like artifacts but cannot be scanned as they
    /// are (templates), and paths named explicitly that turn out not to be artifacts (an empty
    /// YAML file, `apiversion:` for `apiVersion:`, a directory holding no artifact).
    pub skipped: Vec<FileError>,
    pub suppressed: Vec<Suppressed>,
    pub suppression_notes: Vec<SuppressionNote>,
    /// Baseline fingerprints that no current finding has (fixed since the baseline).
    pub baseline_resolved: usize,
}

impl ScanReport {
    /// Does anything reach `threshold`? File errors count as reaching every threshold
    /// (a file that could not be scanned cannot be called clean).
    pub fn reaches(&self, threshold: Severity) -> bool {
        !self.errors.is_empty() || self.findings.iter().any(|f| f.severity >= threshold)
    }

    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}
