//! `bulkhead scan`: Dockerfiles, Compose files, Kubernetes manifests and daemon.json, checked
//! before they are deployed.
//!
//! The library API is what the CLI, `bulkhead threats` (findings as evidence, through each
//! finding's `control`) and `bulkhead harden` (fixes as byte edits marked safe or review) use:
//!
//! ```no_run
//! let opts = bulkhead_scan::ScanOptions::default();
//! let report = bulkhead_scan::scan_paths(&[std::path::PathBuf::from(".")], &opts);
//! for f in &report.findings {
//!     println!("{}:{} {} {}", f.location.path, f.location.line, f.rule, f.message);
//! }
//! ```

pub mod catalog;
mod compose_project;
pub mod config;
pub mod engine;
pub mod fixes;
pub mod model;
pub mod rules;
pub mod source_root;
pub mod suppress;

pub use catalog::{rules as all_rules, Rule};
pub use compose_project::{
    projects as compose_projects, BASE_FILES as COMPOSE_BASE_FILES,
    OVERRIDE_FILES as COMPOSE_OVERRIDE_FILES,
};
pub use config::Config;
pub use engine::{
    apply_edits, discover, kind_by_name, scan_inputs, scan_paths, Input, ScanOptions,
};
pub use model::*;
pub use source_root::SourceRoot;
pub use suppress::Baseline;
