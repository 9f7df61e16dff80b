//! The fixers, one module per kind of change, and the explicit registry the planner walks.
//!
//! A fixer declares which controls it handles and turns the failing outcomes of those controls
//! into fixes (or unfixed entries with the reason). Several fixers may handle one control: a
//! container running as root (4.1) is fixed by its `docker run` command, its compose service and
//! its Dockerfile.

use crate::files::{sha256_hex, ReadFile};
use crate::model::{FileAttrs, FileEdit};
use crate::planner::{Failing, PlanContext, Planned};

pub mod audit_rules;
pub mod container;
pub mod daemon_json;
pub mod dockerfile;
pub mod file_mode;
pub mod kube;
pub mod kube_encryption;
pub mod kube_pods;
pub mod profile;

/// One fixer of the registry.
pub struct Fixer {
    pub name: &'static str,
    /// Does this fixer handle the control with this stable ID?
    pub handles: fn(&str) -> bool,
    pub plan: fn(&PlanContext<'_>, &[Failing<'_>]) -> Planned,
}

/// Every fixer, in the order fixes are listed.
pub const REGISTRY: &[Fixer] = &[
    daemon_json::FIXER,
    file_mode::FIXER,
    audit_rules::FIXER,
    profile::FIXER,
    container::FIXER,
    dockerfile::FIXER,
    kube::FIXER,
];

/// An edit of a file the planner read, or a new file when it did not exist.
pub(crate) fn file_edit(
    host_path: &str,
    read: &ReadFile,
    after: String,
    create_attrs: FileAttrs,
) -> FileEdit {
    FileEdit {
        path: host_path.to_string(),
        before_sha256: read.content.as_deref().map(|c| sha256_hex(c.as_bytes())),
        after_sha256: sha256_hex(after.as_bytes()),
        create_attrs: read.content.is_none().then_some(create_attrs),
        before: read.content.clone(),
        after,
        real_path: None,
        generated_secret: false,
    }
}

/// De-duplicated check IDs and control IDs of `failing`, both in check order (so the n-th
/// control is the n-th check's).
pub(crate) fn ids_of<'a>(
    failing: impl IntoIterator<Item = &'a Failing<'a>>,
) -> (Vec<String>, Vec<String>) {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for f in failing {
        if !pairs.iter().any(|(c, _)| c == f.check_id()) {
            pairs.push((f.check_id().to_string(), f.control_id().to_string()));
        }
    }
    pairs.sort_by(|a, b| bulkhead_checks::catalog::compare_check_ids(&a.0, &b.0));
    let mut controls: Vec<String> = Vec::new();
    for (_, c) in &pairs {
        if !controls.contains(c) {
            controls.push(c.clone());
        }
    }
    (pairs.into_iter().map(|(c, _)| c).collect(), controls)
}

pub(crate) const ROOT_FILE: FileAttrs = FileAttrs {
    mode: 0o644,
    uid: 0,
    gid: 0,
};

/// A root-owned file only root may read (a static pod manifest, a configuration holding keys).
pub(crate) const ROOT_PRIVATE_FILE: FileAttrs = FileAttrs {
    mode: 0o600,
    ..ROOT_FILE
};
