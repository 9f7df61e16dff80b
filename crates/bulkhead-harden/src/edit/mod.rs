//! Format-preserving editors: each rewrites only the bytes of what it changes (a JSON member, a
//! YAML key or list item, a Dockerfile instruction), so the user's comments, order, quoting and
//! indentation survive. None of them re-serializes a whole file.
//!
//! There is one implementation of each: they live in `bulkhead_scan::fixes`, where the scanner's
//! rules build their fixes with them, and harden's fixers use them through these names.

pub use bulkhead_scan::fixes::{compose, dockerfile, json, yaml};
