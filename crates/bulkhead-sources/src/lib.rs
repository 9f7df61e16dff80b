//! Parsers with byte spans for the artifacts `bulkhead scan` reads: YAML (and JSON) documents,
//! Dockerfiles, Compose files, Kubernetes manifests and daemon.json; and the kubelet's own
//! reading of its configuration files ([`kubelet_decode`]), shared by the audit that reads them
//! and by `harden`, which must not plan an edit the kubelet would refuse to start with.
//!
//! Every parser returns positions (byte offset, line, column) for what it found, so findings,
//! SARIF regions and fix edits all point at the same bytes. Parsers never execute anything they
//! read, and refuse hostile input (binary, huge, deeply nested) with an error naming the line.
//! Files whose path bulkhead does not control are read through [`file`], which stops at a size
//! limit and does not block on (or fill memory from) a FIFO or a device.

pub mod compose;
pub mod daemon_json;
pub mod dockerfile;
pub mod file;
pub mod fuzzing;
pub mod kubelet_decode;
pub mod kubernetes;
pub mod span;
pub mod yaml;

pub use span::{check_text, Limits, LineIndex, Pos, SourceError, Span};
