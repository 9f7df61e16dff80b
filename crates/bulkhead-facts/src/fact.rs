//! A value that was read, or the reason it could not be.

use serde::{Deserialize, Serialize};

/// A collected value, or why it is missing. Nothing is ever silently dropped: a check that needs
/// an unavailable fact reports `error` (or `not_applicable`) quoting this reason.
///
/// JSON: `{"value": ...}` or `{"unavailable": "permission denied reading /etc/docker/daemon.json"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact<T> {
    Value(T),
    Unavailable(String),
}

impl<T> Fact<T> {
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Fact::Unavailable(reason.into())
    }

    pub fn value(&self) -> Option<&T> {
        match self {
            Fact::Value(v) => Some(v),
            Fact::Unavailable(_) => None,
        }
    }

    pub fn as_result(&self) -> Result<&T, &str> {
        match self {
            Fact::Value(v) => Ok(v),
            Fact::Unavailable(reason) => Err(reason),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Fact<U> {
        match self {
            Fact::Value(v) => Fact::Value(f(v)),
            Fact::Unavailable(r) => Fact::Unavailable(r),
        }
    }
}

impl<T, E: std::fmt::Display> From<Result<T, E>> for Fact<T> {
    fn from(r: Result<T, E>) -> Self {
        match r {
            Ok(v) => Fact::Value(v),
            Err(e) => Fact::Unavailable(e.to_string()),
        }
    }
}

impl<T: Default> Default for Fact<T> {
    fn default() -> Self {
        Fact::Unavailable("not collected".into())
    }
}
