//! Hardening: turn failing checks into concrete fixes, apply them without ever losing a file,
//! and prove the fix by auditing again.
//!
//! # API
//!
//! - [`plan`]`(snapshot, audits, request) -> Result<Plan, String>`: fixes for the failing checks
//!   of `audits` (as produced by `bulkhead_checks::run`), all of them or those selected by
//!   [`PlanRequest::select`] (check IDs in the audits' numbering, sections or control IDs) or by
//!   [`PlanRequest::threats`]. Planning only reads (files under the root, for diffs and hashes).
//! - [`Plan`]: `fixes` ([`Fix`]: checks in the selected numbering, stable controls, threats,
//!   target {kind, name, path}, [`FixKind`], [`Safety`], what it changes, what it may break, and
//!   file edits rendered as a diff or a command), `unfixed` (each selected failing check that
//!   gets no fix, with the reason), and [`Plan::fixed_controls`]: the set of control IDs the plan
//!   closes (the threats crate projects severities from it).
//! - [`render::json`] / [`render::text`]: the `bulkhead.harden/1` JSON contract and the
//!   terminal view (unified diffs, secret values masked).
//! - [`apply::apply`]`(plan, options)`: the file fixes, each file checked against the hash the
//!   plan recorded, backed up beside itself and replaced atomically, with a journal (a failure
//!   part-way lists every file as it is now and the rollback command); [`apply::rollback`]
//!   undoes the latest apply; [`apply::restrict_to_reviewed`] keeps only the fixes of a
//!   reviewed JSON plan.
//! - [`restart::restart_docker`]: make dockerd load its configuration (systemd over D-Bus, or
//!   SIGHUP for reloadable settings) and wait until its API answers.
//! - [`scan_fixes::plan`]`(request)`: `harden --scan`: scan artifacts with bulkhead-scan and
//!   turn the fixes of the selected findings into [`Fix`]es (dockerfile, compose,
//!   pod-security-context, daemon-json) that the same [`apply::apply`] writes; the plan's
//!   [`Plan::scan`] says what was scanned.
//! - [`verify`]: the audit before (a [`verify::Baseline`]) against the audit after, per
//!   selected check, and the threats whose status changed ([`threats::statuses`]); for scan
//!   fixes, each fixed finding before and after a new scan.
//!
//! Each fixer lives in [`fixers`], one module per kind of change, listed in the explicit
//! [`fixers::REGISTRY`]; the format-preserving editors are in [`edit`]. See docs/harden.md.

pub mod apply;
pub mod dbus;
pub mod diff;
pub mod docker_api;
pub mod edit;
pub mod failpoint;
pub mod files;
pub mod fixers;
pub mod model;
pub mod planner;
pub mod render;
pub mod request;
pub mod restart;
pub(crate) mod safe_dir;
pub mod scan_fixes;
pub mod shell;
pub mod threats;
pub mod verify;

pub use model::{
    Action, AttrChange, CommandStep, FileAttrs, FileEdit, Fix, FixKind, FixedFinding, Plan,
    Restart, Safety, ScanSummary, Target, Unfixed, HARDEN_SCHEMA,
};
pub use planner::plan;
pub use request::{ChangeKind, ChangedPath, FixOptions, PlanRequest, ThreatLink};
