//! What the caller asks the planner for, and the values fixes write where the benchmark leaves
//! the choice to the operator (a memory limit, a user, a log collector's address).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Which failing checks to plan for, and where the host's files are.
#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    /// `--select`: check IDs in the audits' numbering (`5.12`), sections (`5`) or stable control
    /// IDs (`docker.container.read_only_rootfs`). Empty: every failing check. An explicitly
    /// selected check is also planned when it is `warn` or `manual`, not only `fail`.
    pub select: Vec<String>,
    /// `--threat`: plan only for controls that mitigate these threats (`DKR-E01`).
    pub threats: Vec<String>,
    /// The directory the host's files are read under (and written under by apply). Default: the
    /// snapshot's own root.
    pub root: Option<PathBuf>,
    pub options: FixOptions,
    /// Paths each container wrote to its root file system (the Docker API's
    /// `GET /containers/{id}/changes`), by full container ID. `--read-only` gets a tmpfs for
    /// each directory written; without this list only the usual scratch directories are kept
    /// writable, and the fix says so.
    pub container_writes: BTreeMap<String, Vec<ChangedPath>>,
    /// Dockerfiles to fix for the image checks (USER, HEALTHCHECK), besides those a compose
    /// service's `build:` names.
    pub dockerfiles: Vec<String>,
    /// Threat library links (threat ID -> mitigating control IDs). `None`: the library of
    /// bulkhead-threats.
    pub threat_links: Option<Vec<ThreatLink>>,
}

/// One entry of a container's file system changes (`GET /containers/{id}/changes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedPath {
    pub path: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Modified,
    Added,
    Deleted,
}

/// One threat and the controls that mitigate it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatLink {
    pub threat: String,
    pub controls: Vec<String>,
}

/// Values written by fixes where the operator chooses. Defaults are conservative starting points;
/// every fix that uses one says so and is marked for review.
#[derive(Debug, Clone)]
pub struct FixOptions {
    /// `--user` for containers and `USER` for Dockerfiles.
    pub container_user: String,
    pub pids_limit: i64,
    /// `--memory`, in Docker's notation.
    pub memory: String,
    pub cpu_shares: i64,
    /// `--restart on-failure:N`.
    pub restart_retries: u32,
    /// `--health-cmd` (shell form inside the container). Default: derived from the container's
    /// published ports, else a check that its main process is alive.
    pub health_cmd: Option<String>,
    /// Where container logs go (2.13): `udp://host:514`, `tcp://host:514`. Without it 2.13 is
    /// left unfixed with the reason.
    pub log_address: Option<String>,
    /// The authorization plugin to enable (2.12). Without it 2.12 is left unfixed.
    pub authz_plugin: Option<String>,
    /// `userns-remap` value (2.9).
    pub userns_remap: String,
    /// TLS files for a daemon that listens on TCP (2.7).
    pub tls_ca: String,
    pub tls_cert: String,
    pub tls_key: String,
    /// `default-ulimits` nofile soft and hard limits (2.8).
    pub nofile_limit: (i64, i64),
    /// The profile snippet for content trust (4.5).
    pub profile_path: String,
    /// The audit rules file (1.1.x).
    pub audit_rules_path: String,
    /// The generated EncryptionConfiguration (1.2.27/1.2.28).
    pub encryption_config_path: String,
}

impl Default for FixOptions {
    fn default() -> Self {
        FixOptions {
            container_user: "1000:1000".into(),
            pids_limit: 100,
            memory: "512m".into(),
            cpu_shares: 512,
            restart_retries: 5,
            health_cmd: None,
            log_address: None,
            authz_plugin: None,
            userns_remap: "default".into(),
            tls_ca: "/etc/docker/tls/ca.pem".into(),
            tls_cert: "/etc/docker/tls/server-cert.pem".into(),
            tls_key: "/etc/docker/tls/server-key.pem".into(),
            nofile_limit: (65536, 65536),
            profile_path: "/etc/profile.d/bulkhead-content-trust.sh".into(),
            audit_rules_path: "/etc/audit/rules.d/bulkhead-docker.rules".into(),
            encryption_config_path: "/etc/kubernetes/enc/encryption-config.yaml".into(),
        }
    }
}
