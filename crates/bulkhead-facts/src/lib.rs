//! The Snapshot model and pure parsers of host formats.
//!
//! This crate owns the vocabulary shared by every stage of the pipeline: what was collected
//! ([`Snapshot`]), and how a fact that could not be read is recorded ([`Fact`]). It performs no
//! I/O: parsers take text and return values, so every format is testable from a string.

pub mod docker;
pub mod fact;
pub mod flags;
pub mod host;
pub mod kube;
pub mod mask;
pub mod mode;
pub mod snapshot;
pub mod time;
pub mod visible;

pub use fact::Fact;
pub use mode::Mode;
pub use snapshot::{Snapshot, ToolInfo, SNAPSHOT_SCHEMA};
