//! PostgreSQL backend: one database shared by a fleet. Every node's bulkhead records into it.

use crate::record::{now_rfc3339, CheckRow, NewRun, RunFilter, RunSummary};
use crate::{schema_known, unknown_schema, Result, Store, StoreError, SCHEMA_VERSION};
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
CREATE TABLE IF NOT EXISTS bulkhead_schema (
    version INTEGER NOT NULL,
    one_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one_row)
);
GRANT SELECT ON bulkhead_schema TO PUBLIC;
";

/// The store's schema version is a row of its own table, `bulkhead_schema`, rather than a
/// COMMENT ON TABLE. A comment is documentation: a DBA or a migration tool that describes the
/// table replaces it, the mark is silently lost, and a newer history would pass for version 1.
/// A row is data: created in the transaction that creates the tables, changed by a newer
/// bulkhead in the transaction that migrates them, dumped and restored with them. Its SELECT is
/// granted to PUBLIC (a version number is no secret), so the nodes and readers of a fleet need
/// no grant beyond those on the two tables of runs.
fn mark_schema() -> String {
    format!(
        "INSERT INTO bulkhead_schema (version) VALUES ({SCHEMA_VERSION}) ON CONFLICT DO NOTHING"
    )
}

/// Which of bulkhead's tables the database has: (bulkhead_runs, bulkhead_checks, bulkhead_schema).
/// to_regclass needs no privilege on the tables.
const TABLES: &str = "SELECT to_regclass('bulkhead_runs') IS NOT NULL, to_regclass('bulkhead_checks') IS NOT NULL, to_regclass('bulkhead_schema') IS NOT NULL";

/// The schema version marked in the store, None when it has no mark (a history recorded before
/// versions were, which is version 1, or no history at all).
fn marked_version<C: postgres::GenericClient>(
    client: &mut C,
    marked: bool,
) -> std::result::Result<Option<i64>, postgres::Error> {
    if !marked {
        return Ok(None);
    }
    let row = client.query_one("SELECT max(version) FROM bulkhead_schema", &[])?;
    Ok(row.get::<_, Option<i32>>(0).map(i64::from))
}

pub struct PgStore {
    client: Client,
    /// The connection string with any password removed, for messages.
    shown: String,
}

/// How a connection string is named in messages: rebuilt from what the driver parsed (hosts,
/// ports, user, database), so a password can never appear, wherever it was written (after the
/// user in a URL, as a `?password=` parameter, as `password = 'a b'` with quotes and spaces).
/// A string the driver cannot parse is not shown at all: there is no telling where its password
/// ends.
fn redact(url: &str) -> String {
    let Ok(config) = url.parse::<postgres::Config>() else {
        return "(connection string not shown: it could not be parsed and may hold a password)"
            .into();
    };
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            postgres::config::Host::Tcp(name) => name.clone(),
            postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .chain(config.get_hostaddrs().iter().map(|a| a.to_string()))
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(|p| p.to_string()).collect();
    let user = config.get_user();
    let password = config.get_password().is_some();
    let dbname = config.get_dbname();
    if let Some(scheme) = ["postgres://", "postgresql://"]
        .into_iter()
        .find(|s| url.starts_with(s))
    {
        let mut out = scheme.to_string();
        if let Some(u) = user {
            out.push_str(u);
            if password {
                out.push_str(":***");
            }
            out.push('@');
        }
        // The URL parser records one port per host, in order.
        let places: Vec<String> = hosts
            .iter()
            .enumerate()
            .map(|(i, h)| match ports.get(i).or(ports.first()) {
                Some(p) => format!("{h}:{p}"),
                None => h.clone(),
            })
            .collect();
        out.push_str(&places.join(","));
        if let Some(d) = dbname {
            out.push('/');
            out.push_str(d);
        }
        return out;
    }
    let mut parts = Vec::new();
    if !hosts.is_empty() {
        parts.push(format!("host={}", hosts.join(",")));
    }
    if !ports.is_empty() {
        parts.push(format!("port={}", ports.join(",")));
    }
    if let Some(u) = user {
        parts.push(format!("user={u}"));
    }
    if password {
        parts.push("password=***".into());
    }
    if let Some(d) = dbname {
        parts.push(format!("dbname={d}"));
    }
    parts.join(" ")
}

/// The whole reason of a driver error. The driver's own message is only its category ("db
/// error", "error connecting to server"); what the server said (a wrong password, a database
/// that does not exist, a missing privilege) or what the socket said is in its source.
fn reason(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{}: {}", db.severity(), db.message());
        if let Some(detail) = db.detail() {
            s.push_str(&format!(" ({detail})"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        source = cause.source();
    }
    s
}

/// What to do about a driver error, by what went wrong.
fn advice(e: &postgres::Error) -> &'static str {
    use postgres::error::SqlState;
    match e.code() {
        Some(c) if *c == SqlState::INVALID_PASSWORD || *c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
            "check the user and password of the store URL, and the server's pg_hba.conf"
        }
        Some(c) if *c == SqlState::INVALID_CATALOG_NAME => {
            "create the database first (`createdb NAME`), or name an existing one"
        }
        Some(c) if *c == SqlState::INSUFFICIENT_PRIVILEGE => {
            "grant the role what it needs: a reader SELECT on bulkhead_runs and bulkhead_checks, a node also INSERT on both and USAGE on bulkhead_runs_id_seq (bulkhead_schema, which holds the schema version, is readable by PUBLIC unless that was revoked); the tables are created when a role that may create them records the first run (see README, Run history and fleets)"
        }
        Some(_) => "see the server's log for more",
        // The driver does not expose the kind of a client-side error, only its message
        // ("error performing TLS handshake").
        None if e.to_string().contains("TLS") => {
            "bulkhead connects without TLS: use sslmode=disable or prefer, through a local socket or a tunnel"
        }
        None => "is the server running and listening there?",
    }
}

/// The advisory lock that the first recordings into a database take turns on (the key is
/// "bulkhead" in ASCII; advisory locks are per database, so other databases are not held up).
const SCHEMA_LOCK: i64 = 0x6275_6c6b_6865_6164;

/// Create bulkhead's tables and mark their schema version, one node at a time. A fleet rolled
/// out at once against a new database has every node find no tables and create them together,
/// and PostgreSQL does not make that safe: concurrent `CREATE TABLE IF NOT EXISTS` of one name
/// fails in all but one session ("duplicate key value violates unique constraint
/// pg_type_typname_nsp_index"), losing those nodes' runs. Behind the lock, a node that waited
/// finds the tables made and leaves them alone, which also spares a role without CREATE the DDL
/// it may not run. The mark is read again behind the lock too: a newer bulkhead that created or
/// migrated the store meanwhile is not overwritten. Returns the version marked in the store
/// when this bulkhead does not know it (and then has created nothing).
fn create_schema(client: &mut Client) -> std::result::Result<Option<i64>, postgres::Error> {
    let mut tx = client.transaction()?;
    tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))?;
    let row = tx.query_one(TABLES, &[])?;
    let (runs, checks, marked): (bool, bool, bool) = (row.get(0), row.get(1), row.get(2));
    let version = marked_version(&mut tx, marked)?;
    if let Some(v) = version.filter(|v| !schema_known(*v)) {
        return Ok(Some(v));
    }
    if !(runs && checks) {
        tx.batch_execute(SCHEMA)?;
        tx.batch_execute(&mark_schema())?;
    }
    tx.commit()?;
    Ok(None)
}

impl PgStore {
    /// Connect to record into the store: the tables are created when the database has none.
    pub fn connect(url: &str) -> Result<PgStore> {
        Self::connect_as(url, true)
    }

    /// Connect to read the store: nothing is created, and a database without the tables is
    /// refused, so that a mistyped database name is not mistaken for an empty history.
    pub fn connect_existing(url: &str) -> Result<PgStore> {
        Self::connect_as(url, false)
    }

    fn connect_as(url: &str, create: bool) -> Result<PgStore> {
        let shown = redact(url);
        let config: postgres::Config = url.parse().map_err(|e: postgres::Error| {
            StoreError(format!(
                "the PostgreSQL store {shown} is not a valid connection string: {}; write it as postgres://USER@HOST:PORT/DATABASE or postgres:host=HOST user=USER dbname=DATABASE",
                reason(&e)
            ))
        })?;
        let mut client = config.connect(NoTls).map_err(|e| {
            StoreError(format!(
                "cannot connect to PostgreSQL store {shown}: {} ({})",
                reason(&e),
                advice(&e)
            ))
        })?;
        // Create the tables only when they are missing: a fleet's nodes and readers connect as
        // roles that may insert or select but not create (PostgreSQL 15 and later give no one
        // but the owner CREATE on the public schema), and CREATE ... IF NOT EXISTS still
        // demands that privilege even when the table is there.
        let wrap = |what: &str, e: postgres::Error| {
            StoreError(format!(
                "PostgreSQL store {shown}: {what}: {} ({})",
                reason(&e),
                advice(&e)
            ))
        };
        let named = format!("PostgreSQL store {shown}");
        let row = client
            .query_one(TABLES, &[])
            .map_err(|e| wrap("looking for the tables", e))?;
        let (runs, checks, marked): (bool, bool, bool) = (row.get(0), row.get(1), row.get(2));
        // The version first: a newer bulkhead may have changed or renamed the tables of runs.
        let version = marked_version(&mut client, marked)
            .map_err(|e| wrap("reading its schema version", e))?;
        if let Some(v) = version.filter(|v| !schema_known(*v)) {
            return Err(unknown_schema(&named, v));
        }
        if !(runs && checks) {
            if !create {
                let missing = match (runs, checks) {
                    (false, false) => "neither bulkhead_runs nor bulkhead_checks",
                    (false, true) => "no bulkhead_runs table",
                    _ => "no bulkhead_checks table",
                };
                return Err(StoreError(format!(
                    "PostgreSQL store {shown} holds no bulkhead run history: the database has {missing}. Check the database (and host) in --store: it must be the one `bulkhead audit --store` records into, whose first recorded run creates the tables"
                )));
            }
            if let Some(v) =
                create_schema(&mut client).map_err(|e| wrap("creating the tables", e))?
            {
                return Err(unknown_schema(&named, v));
            }
        }
        Ok(PgStore { client, shown })
    }

    fn err(&self, what: &str, e: postgres::Error) -> StoreError {
        StoreError(format!(
            "PostgreSQL store {}: {what}: {} ({})",
            self.shown,
            reason(&e),
            advice(&e)
        ))
    }
}

/// Insert one run and its checks inside the caller's transaction; returns its run ID.
fn insert_run(
    tx: &mut postgres::Transaction,
    run: &NewRun,
    wrap: &dyn Fn(&str, postgres::Error) -> StoreError,
) -> Result<i64> {
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
    Ok(id)
}

impl Store for PgStore {
    fn record_all(&mut self, runs: &[NewRun]) -> Result<Vec<i64>> {
        let shown = self.shown.clone();
        let wrap = |what: &str, e: postgres::Error| {
            StoreError(format!(
                "PostgreSQL store {shown}: {what}: {} ({})",
                reason(&e),
                advice(&e)
            ))
        };
        let mut tx = self.client.transaction().map_err(|e| wrap("begin", e))?;
        // The version again, holding the schema lock shared until the runs are written: a newer
        // bulkhead that migrates the store takes that lock exclusively, as the creation does, so
        // it cannot change the tables between this check and these rows, and a migration made
        // since the store was opened is seen here. Recordings share the lock and do not wait
        // for each other.
        let marked: bool = tx
            .query_one(
                "SELECT to_regclass('bulkhead_schema') IS NOT NULL FROM pg_advisory_xact_lock_shared($1)",
                &[&SCHEMA_LOCK],
            )
            .map_err(|e| wrap("reading its schema version", e))?
            .get(0);
        let version =
            marked_version(&mut tx, marked).map_err(|e| wrap("reading its schema version", e))?;
        if let Some(v) = version.filter(|v| !schema_known(*v)) {
            return Err(unknown_schema(&format!("PostgreSQL store {shown}"), v));
        }
        let mut ids = Vec::with_capacity(runs.len());
        for run in runs {
            ids.push(insert_run(&mut tx, run, &wrap)?);
        }
        tx.commit().map_err(|e| wrap("commit", e))?;
        Ok(ids)
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

    /// Every way libpq and the driver accept a password, and a string the driver cannot parse
    /// (where the end of the password is unknown): the message names the store without it.
    #[test]
    fn passwords_never_shown_in_any_spelling() {
        for (url, shown) in [
            (
                "postgresql://app@db:5432/fleet?password=hunter2",
                "postgresql://app:***@db:5432/fleet",
            ),
            (
                "postgres://app@db/fleet?sslmode=disable&password=hunter2",
                "postgres://app:***@db:5432/fleet",
            ),
            (
                "host=db user=app password = hunter2",
                "host=db user=app password=***",
            ),
            (
                "host=db user=app password='hunter2 hunter2' dbname=fleet",
                "host=db user=app password=*** dbname=fleet",
            ),
            // An escaped space: the password runs on to the end ("hunter2 user=app").
            (
                "host=db password=hunter2\\ user=app",
                "host=db password=***",
            ),
            // An unencoded slash in the password: the driver reads the user information up to
            // the first @.
            (
                "postgres://app:hun/ter2@db:5432/fleet",
                "postgres://app:***@db:5432/fleet",
            ),
            (
                "postgres://app:hunter2@db:notaport/fleet",
                "(connection string not shown: it could not be parsed and may hold a password)",
            ),
            (
                "host=db password='hunter2",
                "(connection string not shown: it could not be parsed and may hold a password)",
            ),
        ] {
            let got = super::redact(url);
            assert_eq!(got, shown, "{url}");
            assert!(!got.contains("hun"), "{url} shown as {got}");
        }
    }
}
