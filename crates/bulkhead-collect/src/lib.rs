//! Collection: the only stage that touches the audited system. Everything learned goes into one
//! serializable [`Snapshot`]; a fact that cannot be read is recorded with the reason.
//!
//! Nothing here spawns a process to learn a fact: the Docker Engine API is spoken directly,
//! files and `/proc` are read, audit rules come from the kernel over netlink.

use bulkhead_facts::Snapshot;
use std::path::PathBuf;

/// Whether to collect a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Want {
    /// Not at all.
    Skip,
    /// If it is found on this host.
    #[default]
    Auto,
    /// It must be reachable; failing to reach it is an error.
    Required,
}

/// Which containers to audit.
#[derive(Debug, Clone, Default)]
pub struct ContainerFilter {
    /// Include created, exited and paused containers too (default: running only).
    pub all_states: bool,
    /// Name regexes; a container must match one (when any are given).
    pub include: Vec<String>,
    /// Name regexes; a matching container is left out.
    pub exclude: Vec<String>,
    /// `key` or `key=value`; a container must carry every one.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The host's file system root (`/`, or `/host` when run in a container).
    pub root: PathBuf,
    /// The proc file system to read processes from.
    pub proc: PathBuf,
    pub docker: Want,
    /// `--docker-host`; falls back to `DOCKER_HOST`, then the rootless or default socket.
    pub docker_host: Option<String>,
    pub containers: ContainerFilter,
    pub kubernetes: Want,
    /// A `kubectl get ... -o yaml|json` dump of cluster objects for the policy checks.
    pub cluster_dump: Option<PathBuf>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            root: PathBuf::from("/"),
            proc: PathBuf::from("/proc"),
            docker: Want::Auto,
            docker_host: None,
            containers: ContainerFilter::default(),
            kubernetes: Want::Auto,
            cluster_dump: None,
        }
    }
}

/// A failure that stops collection: the message says what failed and what to do.
#[derive(Debug)]
pub struct CollectError(pub String);

impl std::fmt::Display for CollectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CollectError {}

/// Collect a snapshot of this host.
pub fn collect(_options: &CollectOptions) -> Result<Snapshot, CollectError> {
    Err(CollectError("collection is not written yet".into()))
}
