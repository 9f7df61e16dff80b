//! Control catalog, benchmark ID maps, checks and the evaluation engine.
//!
//! Everything here is pure: `Snapshot -> Vec<CheckResult>`. That is what makes every check
//! testable from a fixture and lets an audit be re-run offline from a saved snapshot.

pub mod catalog;
pub mod docker;
pub mod engine;
pub mod kube;
pub mod model;
pub mod registry;

pub use catalog::{catalog, Benchmark, Catalog, Control};
pub use engine::{run, Audit, AuditOptions, Context, Outcome, Selection};
pub use model::{
    is_not_loaded_note, is_pending_setting_note, CheckResult, Evidence, ObjectResult, Status,
    Stride,
};
