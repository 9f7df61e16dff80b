//! What a run is, independent of the backend.

use serde::Serialize;

/// A run to record, taken from a `bulkhead.audit/1` document.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub host: String,
    pub kind: String,
    pub benchmark: String,
    pub benchmark_version: String,
    pub numbering: String,
    pub tool_version: String,
    pub collected_at: String,
    pub score: i64,
    pub summary: serde_json::Value,
    pub checks: Vec<CheckRow>,
    pub document: serde_json::Value,
}

/// One check's verdict in one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckRow {
    pub check_id: String,
    pub control: String,
    pub status: String,
    pub message: String,
}

/// A recorded run, without its per-check rows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: i64,
    pub host: String,
    pub kind: String,
    pub benchmark: String,
    pub benchmark_version: String,
    pub numbering: String,
    pub tool_version: String,
    pub collected_at: String,
    pub recorded_at: String,
    pub score: i64,
    pub summary: serde_json::Value,
}

/// The columns of a run's row that a [`RunSummary`] is read from, in the same order in both
/// backends' tables: all but the document, which only `document` reads (it is most of a run's
/// size).
pub(crate) const RUN_COLUMNS: &str = "id, host, kind, benchmark, benchmark_version, numbering, tool_version, collected_at, recorded_at, score, summary";

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub host: Option<String>,
    pub kind: Option<String>,
    /// The most runs to list (the newest), counted among those in the window.
    pub limit: Option<usize>,
    /// Only runs whose facts were collected at or after this time (Unix seconds).
    pub collected_since: Option<i64>,
    /// Only runs whose facts were collected before this time (Unix seconds): with
    /// `collected_since`, a half-open window, so that back-to-back windows never share a run.
    pub collected_before: Option<i64>,
}

impl RunFilter {
    /// Whether the filter has a time window, which the backends apply after reading (see
    /// [`RunFilter::windowed`]).
    pub fn has_window(&self) -> bool {
        self.collected_since.is_some() || self.collected_before.is_some()
    }

    /// The LIMIT a backend may give its query: none when a window is applied afterwards, since
    /// the newest N runs of the store need not be the newest N of the window.
    pub(crate) fn query_limit(&self) -> Option<usize> {
        if self.has_window() {
            None
        } else {
            self.limit
        }
    }

    /// The runs (newest first, as the backend read them) that fall in the window, at most
    /// `limit` of them. The window is applied to the parsed time rather than in SQL: the
    /// collection time is the collecting host's text, and compared as text a time written with
    /// fractions of a second ("...:00.5Z") sorts before the same second without them. A time
    /// that does not read as one (not written by bulkhead) is in no window.
    pub(crate) fn windowed(&self, runs: Vec<RunSummary>) -> Vec<RunSummary> {
        if !self.has_window() {
            return runs;
        }
        let inside = |r: &RunSummary| {
            bulkhead_facts::time::rfc3339_to_unix(&r.collected_at).is_some_and(|t| {
                self.collected_since.is_none_or(|since| t >= since)
                    && self.collected_before.is_none_or(|before| t < before)
            })
        };
        runs.into_iter()
            .filter(inside)
            .take(self.limit.unwrap_or(usize::MAX))
            .collect()
    }
}

impl NewRun {
    /// Read a run out of an audit document. Errors name the missing field.
    pub fn from_document(doc: &serde_json::Value) -> Result<NewRun, String> {
        let s = |path: &[&str]| -> Result<String, String> {
            let mut v = doc;
            for p in path {
                v = v
                    .get(p)
                    .ok_or_else(|| format!("audit document has no {}", path.join(".")))?;
            }
            Ok(v.as_str()
                .map(String::from)
                .unwrap_or_else(|| v.to_string()))
        };
        if doc.get("schema").and_then(|v| v.as_str()) != Some("bulkhead.audit/1") {
            return Err("not a bulkhead.audit/1 document".into());
        }
        let results = doc
            .get("results")
            .and_then(|r| r.as_array())
            .ok_or("audit document has no results")?;
        let checks = results
            .iter()
            .map(|r| CheckRow {
                check_id: r
                    .get("id")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                control: r
                    .get("control")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                status: r
                    .get("status")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
                message: r
                    .get("message")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string(),
            })
            .collect();
        Ok(NewRun {
            host: s(&["target", "host"])?,
            kind: s(&["target", "kind"])?,
            benchmark: s(&["benchmark", "id"])?,
            benchmark_version: s(&["benchmark", "version"])?,
            numbering: s(&["benchmark", "numbering"])?,
            tool_version: s(&["tool", "version"])?,
            collected_at: s(&["target", "collected_at"])?,
            score: doc
                .pointer("/summary/score")
                .and_then(|v| v.as_i64())
                .unwrap_or(0),
            summary: doc
                .get("summary")
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            checks,
            document: doc.clone(),
        })
    }
}

/// Current UTC time as RFC 3339, as the snapshot writes its times.
pub(crate) fn now_rfc3339() -> String {
    bulkhead_facts::time::rfc3339_utc(bulkhead_facts::time::unix_now())
}
