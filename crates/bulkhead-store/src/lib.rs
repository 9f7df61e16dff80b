//! Run history. Every recorded audit keeps its whole `bulkhead.audit/1` document plus one row per
//! check, so a fleet can be asked "which hosts fail 5.13 today" and a host "what changed since
//! the last run".
//!
//! Two backends behind one trait: SQLite (embedded, a file; the default for one host) and
//! PostgreSQL (shared by a fleet: each node's bulkhead writes to it). The store takes audit
//! documents as JSON values, so it does not depend on the check engine.

mod pg;
mod prune;
mod record;
mod sqlite;

pub use prune::{human_bytes, FileSize, Prune, PruneGroup, PruneReport};
pub use record::{CheckRow, NewRun, RunFilter, RunSummary};

/// A failure of the store, saying which store and what to do.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The version of the store's tables that this bulkhead reads and writes. Each backend records
/// it when it creates the tables; a bulkhead that changes them (a new NOT NULL column, a table
/// split in two) raises it and marks the stores it migrates, and every older bulkhead then
/// refuses them instead of failing on raw SQL errors or writing rows the newer one misreads.
/// A history that carries no version was recorded before versions were: it is version 1.
pub const SCHEMA_VERSION: i64 = 1;

/// Whether this bulkhead knows how to read and write a store of `version`.
pub(crate) fn schema_known(version: i64) -> bool {
    (1..=SCHEMA_VERSION).contains(&version)
}

/// The refusal of a store whose schema version this bulkhead does not know. `store` names it as
/// the backend's other messages do ("SQLite store PATH", "PostgreSQL store CONNINFO"), without
/// any password.
pub(crate) fn unknown_schema(store: &str, version: i64) -> StoreError {
    let known = match SCHEMA_VERSION {
        1 => "only schema version 1".to_string(),
        n => format!("schema versions 1 to {n}"),
    };
    StoreError(format!(
        "{store} holds a run history of schema version {version}, and this bulkhead ({}) knows {known}: a newer bulkhead has recorded into it. bulkhead neither reads it nor records into it; upgrade bulkhead (on every host that records into or reads this store) to the version that wrote it",
        env!("CARGO_PKG_VERSION"),
    ))
}

/// What every backend offers.
pub trait Store {
    /// Record one audit run; returns its run ID.
    fn record(&mut self, run: &NewRun) -> Result<i64> {
        Ok(self.record_all(std::slice::from_ref(run))?[0])
    }
    /// Record the runs of one audit (its Docker and its Kubernetes run) in one transaction:
    /// when any write fails, none of them is kept, so an audit that exits with a store error
    /// has recorded nothing and can simply be run again. Returns their run IDs, in order.
    fn record_all(&mut self, runs: &[NewRun]) -> Result<Vec<i64>>;
    /// Runs matching `filter`, newest first.
    fn runs(&mut self, filter: &RunFilter) -> Result<Vec<RunSummary>>;
    /// One run, by the ID the listing shows. A run the store does not hold (a mistyped ID, a
    /// run pruned since) is an error that names the store and the ID, so that a caller comparing
    /// two chosen runs never takes a missing one for an empty one.
    fn run(&mut self, run_id: i64) -> Result<RunSummary>;
    /// The per-check rows of one run, in benchmark order.
    fn checks(&mut self, run_id: i64) -> Result<Vec<CheckRow>>;
    /// The stored audit document of one run.
    fn document(&mut self, run_id: i64) -> Result<serde_json::Value>;
    /// The runs `policy` deletes, counted per host and kind. Without `apply` nothing is changed
    /// (a dry run, which a store opened to read can answer). With `apply` (on a store opened
    /// by [`open_for_pruning`]) they are deleted, each with its check rows, in one transaction;
    /// runs recorded meanwhile are never among them. An SQLite file is then compacted, and the
    /// report gives its size before and after.
    fn prune(&mut self, policy: &Prune, apply: bool) -> Result<PruneReport>;
}

/// Open a store to record runs into, from a URL: `sqlite:PATH` (or a plain path ending in
/// .db/.sqlite), `postgres://user@host/db` or `postgresql://...` (libpq-style key=value strings
/// also work after `postgres:`). A new or empty database gets bulkhead's tables; an SQLite file
/// holding another application's tables is refused.
pub fn open(url: &str) -> Result<Box<dyn Store>> {
    open_as(url, true)
}

/// Open a store that already holds a run history, to read it. Nothing is created, neither a
/// file nor a table: a store without bulkhead's tables (a mistyped database, another
/// application's file, an empty one) is an error that names it.
pub fn open_existing(url: &str) -> Result<Box<dyn Store>> {
    open_as(url, false)
}

/// Open a store that already holds a run history, to delete runs from it: like
/// [`open_existing`], nothing is created, but an SQLite file is opened for writing.
pub fn open_for_pruning(url: &str) -> Result<Box<dyn Store>> {
    open_with(url, Mode::Prune)
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Record: create the file and tables when missing.
    Record,
    /// Read: create nothing, read-only.
    Read,
    /// Prune: create nothing, but write.
    Prune,
}

fn open_as(url: &str, create: bool) -> Result<Box<dyn Store>> {
    open_with(url, if create { Mode::Record } else { Mode::Read })
}

fn open_with(url: &str, mode: Mode) -> Result<Box<dyn Store>> {
    let create = mode == Mode::Record;
    // Blanks around the URL (the trailing newline of a value kept in a file or a Secret) are
    // no part of it; left in, they would turn a postgres:// URL into a relative file name.
    let url = url.trim();
    let conninfo = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(url)
    } else {
        url.strip_prefix("postgres:")
    };
    if let Some(conninfo) = conninfo {
        return Ok(Box::new(if create {
            pg::PgStore::connect(conninfo)?
        } else {
            pg::PgStore::connect_existing(conninfo)?
        }));
    }
    if let Some(scheme) = unknown_scheme(url) {
        // Only the scheme is shown: the rest may be a connection string with its password.
        return Err(StoreError(format!(
            "the store URL starts with {scheme}:, which bulkhead does not know; write sqlite:PATH for a file (sqlite:./NAME when the file name has a colon), or postgres://USER@HOST/DATABASE (postgresql:// and postgres:KEY=VALUE... also work)"
        )));
    }
    let path = sqlite_path(url).unwrap_or_default();
    if path.as_os_str().is_empty() {
        return Err(StoreError(
            "empty store path; use sqlite:/var/lib/bulkhead/runs.db or postgres://...".into(),
        ));
    }
    Ok(Box::new(match mode {
        Mode::Record => sqlite::SqliteStore::open(&path)?,
        Mode::Read => sqlite::SqliteStore::open_existing(&path)?,
        Mode::Prune => sqlite::SqliteStore::open_existing_writable(&path)?,
    }))
}

/// Whether a PostgreSQL store URL carries a password itself (`user:pw@`, `?password=`,
/// `password=...`), rather than leaving it to PGPASSWORD or the password file. A string that
/// cannot be parsed counts as carrying one when it mentions a password at all.
pub fn url_has_password(url: &str) -> bool {
    let url = url.trim();
    let conninfo = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        url
    } else {
        match url.strip_prefix("postgres:") {
            Some(c) => c,
            None => return false,
        }
    };
    match conninfo.parse::<postgres::Config>() {
        Ok(config) => config.get_password().is_some(),
        Err(_) => conninfo.contains("password") || conninfo.contains(':'),
    }
}

/// The file of a SQLite store URL (`sqlite:PATH`, `sqlite://PATH` or a plain path); None for
/// PostgreSQL. Readers use it to tell a store that does not exist from an empty one, without
/// creating it.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let url = url.trim();
    if url.starts_with("postgres://")
        || url.starts_with("postgresql://")
        || url.starts_with("postgres:")
        || unknown_scheme(url).is_some()
    {
        return None;
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Some(home_expanded(path, std::env::var_os("HOME").as_deref()))
}

/// `~/runs.db` under the home directory. The shell expands `~` only at the start of a word, so
/// in `--store sqlite:~/runs.db` it reaches bulkhead as written; taken literally it would be a
/// directory named `~` in the working directory, and the history would seem lost from any other.
fn home_expanded(path: &str, home: Option<&std::ffi::OsStr>) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) if !home.is_empty() => std::path::Path::new(home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

/// The scheme of a URL that is neither SQLite nor PostgreSQL (`postgress` in a mistyped
/// `postgress://app:pw@db/fleet`, `mysql`, `pg`). Taking such a URL for a relative file name would
/// record the run into a local file instead of the fleet database, under directories named
/// after the URL and its password, and still report it recorded.
fn unknown_scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let is_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (is_scheme && scheme != "sqlite").then_some(scheme)
}

/// The store used when none is given: `$XDG_STATE_HOME/bulkhead/runs.db`, else
/// `~/.local/state/bulkhead/runs.db`, else (root, or no home) `/var/lib/bulkhead/runs.db`.
pub fn default_url() -> String {
    if let Some(dir) = std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
        return format!(
            "sqlite:{}/bulkhead/runs.db",
            std::path::Path::new(&dir).display()
        );
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty() && h != "/" && h != "/root") {
        Some(home) => format!(
            "sqlite:{}/.local/state/bulkhead/runs.db",
            std::path::Path::new(&home).display()
        ),
        None => "sqlite:/var/lib/bulkhead/runs.db".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::path::PathBuf;

    /// `--store sqlite:~/runs.db` reaches bulkhead unexpanded (the shell expands `~` only at the
    /// start of a word): it names the home directory's file, not a directory called `~`.
    #[test]
    fn a_tilde_path_is_under_the_home_directory() {
        let home = Some(OsStr::new("/home/ops"));
        assert_eq!(
            home_expanded("~/runs.db", home),
            PathBuf::from("/home/ops/runs.db")
        );
        assert_eq!(
            home_expanded("./~/runs.db", home),
            PathBuf::from("./~/runs.db")
        );
        assert_eq!(
            home_expanded("~other/runs.db", home),
            PathBuf::from("~other/runs.db")
        );
        assert_eq!(home_expanded("~/runs.db", None), PathBuf::from("~/runs.db"));
    }
}
