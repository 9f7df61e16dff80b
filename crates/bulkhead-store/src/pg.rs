//! PostgreSQL backend: one database shared by a fleet. Every node's bulkhead records into it.

use crate::record::{now_rfc3339, CheckRow, NewRun, RunFilter, RunSummary};
use crate::{Result, Store, StoreError};
use postgres::{Client, NoTls};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS bulkhead_runs (
    id BIGSERIAL PRIMARY KEY,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    benchmark_version TEXT NOT NULL,
    numbering TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    score BIGINT NOT NULL,
    summary TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bulkhead_runs_host_kind ON bulkhead_runs (host, kind, id);
CREATE TABLE IF NOT EXISTS bulkhead_checks (
    run_id BIGINT NOT NULL REFERENCES bulkhead_runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS bulkhead_checks_control_status ON bulkhead_checks (control, status);
";

pub struct PgStore {
    client: Client,
    /// The connection string with any password removed, for messages.
    shown: String,
}

/// `postgres://user:secret@host/db` -> `postgres://user:***@host/db`; key=value strings lose
/// their `password=` value.
fn redact(url: &str) -> String {
    let u = url
        .split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***".to_string()
            } else {
                kv.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(scheme_end) = u.find("://") {
        let rest = &u[scheme_end + 3..];
        let end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..end].rfind('@') {
            if let Some(colon) = rest[..at].find(':') {
                return format!(
                    "{}{}:***{}",
                    &u[..scheme_end + 3],
                    &rest[..colon],
                    &rest[at..]
                );
            }
        }
    }
    u
}

impl PgStore {
    pub fn connect(url: &str) -> Result<PgStore> {
        let shown = redact(url);
        let mut client = Client::connect(url, NoTls)
            .map_err(|e| StoreError(format!("cannot connect to PostgreSQL store {shown}: {e} (is the server running and the role allowed?)")))?;
        client
            .batch_execute(SCHEMA)
            .map_err(|e| StoreError(format!("PostgreSQL store {shown}: creating schema: {e}")))?;
        Ok(PgStore { client, shown })
    }

    fn err(&self, what: &str, e: postgres::Error) -> StoreError {
        StoreError(format!("PostgreSQL store {}: {what}: {e}", self.shown))
    }
}

impl Store for PgStore {
    fn record(&mut self, run: &NewRun) -> Result<i64> {
        let shown = self.shown.clone();
        let wrap = |what: &str, e: postgres::Error| {
            StoreError(format!("PostgreSQL store {shown}: {what}: {e}"))
        };
        let mut tx = self.client.transaction().map_err(|e| wrap("begin", e))?;
        let row = tx
            .query_one(
                "INSERT INTO bulkhead_runs (host, kind, benchmark, benchmark_version, numbering, tool_version, collected_at, recorded_at, score, summary, document)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
                &[
                    &run.host, &run.kind, &run.benchmark, &run.benchmark_version, &run.numbering, &run.tool_version,
                    &run.collected_at, &now_rfc3339(), &run.score, &run.summary.to_string(), &run.document.to_string(),
                ],
            )
            .map_err(|e| wrap("recording run", e))?;
        let id: i64 = row.get(0);
        let stmt = tx
            .prepare("INSERT INTO bulkhead_checks (run_id, position, check_id, control, status, message) VALUES ($1, $2, $3, $4, $5, $6)")
            .map_err(|e| wrap("recording checks", e))?;
        for (i, c) in run.checks.iter().enumerate() {
            tx.execute(
                &stmt,
                &[
                    &id,
                    &(i as i32),
                    &c.check_id,
                    &c.control,
                    &c.status,
                    &c.message,
                ],
            )
            .map_err(|e| wrap("recording checks", e))?;
        }
        tx.commit().map_err(|e| wrap("commit", e))?;
        Ok(id)
    }

    fn runs(&mut self, filter: &RunFilter) -> Result<Vec<RunSummary>> {
        let limit = filter.limit.map(|l| l as i64).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(
                "SELECT id, host, kind, benchmark, benchmark_version, numbering, tool_version, collected_at, recorded_at, score, summary
                 FROM bulkhead_runs WHERE ($1::TEXT IS NULL OR host = $1) AND ($2::TEXT IS NULL OR kind = $2) ORDER BY id DESC LIMIT $3",
                &[&filter.host, &filter.kind, &limit],
            )
            .map_err(|e| self.err("listing runs", e))?;
        Ok(rows
            .iter()
            .map(|r| RunSummary {
                id: r.get(0),
                host: r.get(1),
                kind: r.get(2),
                benchmark: r.get(3),
                benchmark_version: r.get(4),
                numbering: r.get(5),
                tool_version: r.get(6),
                collected_at: r.get(7),
                recorded_at: r.get(8),
                score: r.get(9),
                summary: serde_json::from_str(r.get::<_, &str>(10))
                    .unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }

    fn checks(&mut self, run_id: i64) -> Result<Vec<CheckRow>> {
        let rows = self
            .client
            .query("SELECT check_id, control, status, message FROM bulkhead_checks WHERE run_id = $1 ORDER BY position", &[&run_id])
            .map_err(|e| self.err("reading checks", e))?;
        Ok(rows
            .iter()
            .map(|r| CheckRow {
                check_id: r.get(0),
                control: r.get(1),
                status: r.get(2),
                message: r.get(3),
            })
            .collect())
    }

    fn document(&mut self, run_id: i64) -> Result<serde_json::Value> {
        let row = self
            .client
            .query_opt(
                "SELECT document FROM bulkhead_runs WHERE id = $1",
                &[&run_id],
            )
            .map_err(|e| self.err(&format!("run {run_id}"), e))?
            .ok_or_else(|| {
                StoreError(format!("PostgreSQL store {}: no run {run_id}", self.shown))
            })?;
        serde_json::from_str(row.get::<_, &str>(0)).map_err(|e| {
            StoreError(format!(
                "PostgreSQL store {}: run {run_id} document: {e}",
                self.shown
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_shown() {
        assert_eq!(
            super::redact("postgres://app:hunter2@db:5432/fleet"),
            "postgres://app:***@db:5432/fleet"
        );
        assert_eq!(
            super::redact("host=db user=app password=hunter2"),
            "host=db user=app password=***"
        );
    }
}
