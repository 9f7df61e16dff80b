//! Format-preserving editors: each rewrites only the bytes of what it changes (a JSON member, a
//! YAML key or list item, a Dockerfile instruction), so the user's comments, order, quoting and
//! indentation survive. None of them re-serializes a whole file.

pub mod dockerfile;
pub mod json;
pub mod yaml;
