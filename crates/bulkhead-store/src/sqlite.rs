//! SQLite backend: one file, created with its directory when a run is recorded into it.

use crate::prune::{FileSize, Planner, Prune, PruneReport, CHUNK};
use crate::record::{now_rfc3339, CheckRow, NewRun, RunFilter, RunSummary, RUN_COLUMNS};
use crate::{schema_known, unknown_schema, Result, Store, StoreError, SCHEMA_VERSION};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};

/// How long a recording waits for another process's lock on the file (a concurrent audit, a
/// `sqlite3` session, a backup) before giving up. SQLite's own default is none, rusqlite's five
/// seconds; a run given up on is lost after its report was already printed, so wait longer.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long the trial write made when a store is opened to record into waits for another
/// process's lock. A lock held longer means a working history that another process is writing
/// to: the trial is then taken as passed, and the recording itself waits [`LOCK_WAIT`].
const PROBE_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// How many pages one step of a prune's compaction (`PRAGMA incremental_vacuum(N)`, one write
/// transaction of its own) hands back: 4 MB of 4 KB pages, a fraction of a second's work.
const COMPACT_STEP: i64 = 1024;

/// The pause between two steps of a compaction. A recording that waits for the lock looks
/// again at least every 100 ms (SQLite's busy handler): a longer pause lets every waiting
/// recording in between two steps, so a compaction never holds recordings up for longer than
/// one step, however much it hands back.
const COMPACT_PAUSE: std::time::Duration = std::time::Duration::from_millis(150);

/// The most a prune rewrites (VACUUM) to turn on incremental vacuuming in a history created
/// without it (by an earlier bulkhead): the data kept, which VACUUM
/// copies twice while it holds the write lock, so that recordings, which wait up to
/// [`LOCK_WAIT`] for it, are held up for a second or two at most. A larger history is not
/// rewritten: its free pages are reused by the runs recorded next, and the report says how to
/// compact it at a quiet time.
const REWRITE_LIMIT: u64 = 32 << 20;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    host TEXT NOT NULL,
    kind TEXT NOT NULL,
    benchmark TEXT NOT NULL,
    benchmark_version TEXT NOT NULL,
    numbering TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    score INTEGER NOT NULL,
    summary TEXT NOT NULL,
    document TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_host_kind ON runs (host, kind, id);
CREATE TABLE IF NOT EXISTS checks (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX IF NOT EXISTS checks_control_status ON checks (control, status);
";

/// How a history is marked as bulkhead's, and with which schema version: in the file header,
/// `PRAGMA application_id` (this value, "bulk" in ASCII) and `PRAGMA user_version`
/// ([`SCHEMA_VERSION`]). The header is where SQLite keeps such marks for applications: it is
/// read by a read-only connection with no table to grant or create, it is written in the same
/// transaction as the tables (so no store has tables without a mark), and it travels with every
/// copy and backup of the file. The application ID lets a newer bulkhead's history be told from
/// another application's database even when its tables have changed beyond recognition; the
/// user version alone is also honoured, on a file that has bulkhead's tables.
const APPLICATION_ID: i32 = 0x6275_6c6b;

pub struct SqliteStore {
    conn: Connection,
    /// The file, for the checks that explain a refused write.
    file: PathBuf,
    /// The file as messages name it.
    path: String,
}

/// The columns bulkhead reads and writes in each of its tables. A table of that name without
/// them belongs to some other application (`runs` and `checks` are common names).
const RUNS_COLUMNS: &[&str] = &[
    "id",
    "host",
    "kind",
    "benchmark",
    "benchmark_version",
    "numbering",
    "tool_version",
    "collected_at",
    "recorded_at",
    "score",
    "summary",
    "document",
];
const CHECKS_COLUMNS: &[&str] = &[
    "run_id", "position", "check_id", "control", "status", "message",
];

/// What an existing SQLite database holds, judged before anything is written to it.
enum Contents {
    /// No tables at all: a new file, or one created empty.
    Empty,
    /// bulkhead's tables; `complete` when both are there.
    History { complete: bool },
    /// Tables of another application; `runs` or `checks`, when present, are not bulkhead's.
    Foreign(Vec<String>),
}

impl SqliteStore {
    /// Open the store to record into: the file (and its directory) and bulkhead's tables are
    /// created when missing, but a database that holds another application's tables is refused
    /// rather than given bulkhead's beside them.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| directory_failure(path, dir, e))?;
        }
        if path.is_dir() {
            return Err(is_a_directory(path));
        }
        let conn = Connection::open(path).map_err(|e| open_failure(path, e))?;
        conn.busy_timeout(LOCK_WAIT)
            .map_err(|e| open_failure(path, e))?;
        let store = SqliteStore {
            conn,
            file: path.to_path_buf(),
            path: shown,
        };
        match store.judge()? {
            // Nothing to create (and an unmarked history of version 1 is left unmarked).
            Contents::History { complete: true } => {}
            Contents::Empty | Contents::History { complete: false } => store.create_tables()?,
            Contents::Foreign(tables) => return Err(store.foreign(&tables)),
        }
        store.try_write()?;
        Ok(store)
    }

    /// Make sure a recording will be able to write, before the audit collects anything: a user
    /// who may only read the file, a directory where SQLite cannot create its journal, a
    /// read-only mount are found now, with the same error the recording would give, rather
    /// than after a long collection. A real write, rolled back: the file's first page is
    /// rewritten with what it holds (which opens the journal, as a recording does), and nothing
    /// reaches the file. A lock held by another process for more than [`PROBE_WAIT`] is taken as
    /// a working history (the recording waits for it).
    fn try_write(&self) -> Result<()> {
        let wrap = |e| self.err("opening it to record runs", e);
        self.conn.busy_timeout(PROBE_WAIT).map_err(wrap)?;
        let tried = self.conn.execute_batch("BEGIN IMMEDIATE").and_then(|()| {
            let version: i64 = self
                .conn
                .pragma_query_value(None, "user_version", |r| r.get(0))?;
            self.conn
                .execute_batch(&format!("PRAGMA user_version = {version}"))
        });
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.conn.busy_timeout(LOCK_WAIT).map_err(wrap)?;
        match tried {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) =>
            {
                Ok(())
            }
            other => other.map_err(wrap),
        }
    }

    /// Create the missing tables and mark the file with [`SCHEMA_VERSION`], in one
    /// `BEGIN IMMEDIATE` transaction: a failure part-way leaves no half of the schema behind, and
    /// recordings that start together (the first runs of a new file) take turns. The store is
    /// judged again under that lock, since another bulkhead may have created it in the meantime,
    /// or a newer one migrated it, whose mark must not be overwritten with an older version.
    fn create_tables(&self) -> Result<()> {
        // Incremental vacuuming lets a prune hand space back in short steps, never rewriting
        // the file while recordings wait. Only a new file can choose it, before its first page
        // is written (which BEGIN IMMEDIATE does): on any other it changes nothing.
        self.conn
            .execute_batch("PRAGMA auto_vacuum = INCREMENTAL")
            .map_err(|e| self.err("creating the tables", e))?;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| self.err("creating the tables", e))?;
        let created = self
            .judge()
            .and_then(|contents| match contents {
                Contents::History { complete: true } => Ok(()),
                Contents::Foreign(tables) => Err(self.foreign(&tables)),
                Contents::Empty | Contents::History { complete: false } => self
                    .conn
                    .execute_batch(&format!(
                        "{SCHEMA}PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
                    ))
                    .map_err(|e| self.err("creating the tables", e)),
            })
            .and_then(|()| {
                self.conn
                    .execute_batch("COMMIT")
                    .map_err(|e| self.err("creating the tables", e))
            });
        if created.is_err() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        created
    }

    /// Open an existing store to read: neither the file nor any table is created, and the
    /// connection is read-only, so a mistyped --store cannot turn into a new, empty history.
    pub fn open_existing(path: &Path) -> Result<SqliteStore> {
        Self::existing(path, false)
    }

    /// Open an existing store to delete runs from (`history --prune --apply`): as
    /// [`SqliteStore::open_existing`], nothing is created, but the connection may write, and
    /// waits for other processes' locks as a recording does.
    pub fn open_existing_writable(path: &Path) -> Result<SqliteStore> {
        Self::existing(path, true)
    }

    fn existing(path: &Path, write: bool) -> Result<SqliteStore> {
        let shown = path.display().to_string();
        if path.is_dir() {
            return Err(is_a_directory(path));
        }
        if !path.exists() {
            return Err(StoreError(format!(
                "no run history at {shown}: the file does not exist (runs are recorded there by `bulkhead audit --store sqlite:{shown}`)"
            )));
        }
        // Without SQLITE_OPEN_CREATE either way: a file removed meanwhile is not made anew.
        let access = if write {
            OpenFlags::SQLITE_OPEN_READ_WRITE
        } else {
            OpenFlags::SQLITE_OPEN_READ_ONLY
        };
        let conn = Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| open_failure(path, e))?;
        if write {
            conn.busy_timeout(LOCK_WAIT)
                .map_err(|e| open_failure(path, e))?;
        }
        let store = SqliteStore {
            conn,
            file: path.to_path_buf(),
            path: shown,
        };
        match store.judge()? {
            Contents::History { .. } => Ok(store),
            Contents::Foreign(tables) => Err(store.foreign(&tables)),
            Contents::Empty => Err(StoreError(format!(
                "SQLite store {} holds no bulkhead run history: it is an empty database. Record runs into it with `bulkhead audit --store sqlite:{}`, or name the file they were recorded in",
                store.path, store.path
            ))),
        }
    }

    /// What the store holds, judged before anything is written to it or read from its tables;
    /// a history whose schema version this bulkhead does not know is refused. Only reads, so a
    /// user who may not write the file can still read a history recorded before versions were.
    fn judge(&self) -> Result<Contents> {
        let header = |name: &str| {
            self.conn
                .pragma_query_value(None, name, |r| r.get::<_, i64>(0))
                .map_err(|e| self.err("reading its schema version", e))
        };
        let (application_id, version) = (header("application_id")?, header("user_version")?);
        // 0 is no version: bulkhead's tables without one were recorded before versions were,
        // and are version 1.
        let unknown = version != 0 && !schema_known(version);
        let named = format!("SQLite store {}", self.path);
        // Marked as bulkhead's: the version decides, whatever its tables look like now.
        if application_id == i64::from(APPLICATION_ID) && unknown {
            return Err(unknown_schema(&named, version));
        }
        match self.contents()? {
            Contents::History { .. } if unknown => Err(unknown_schema(&named, version)),
            contents => Ok(contents),
        }
    }

    fn contents(&self) -> Result<Contents> {
        let tables: Vec<String> = self
            .conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
            )
            .and_then(|mut stmt| {
                stmt.query_map([], |r| r.get::<_, String>(0))?
                    .collect::<std::result::Result<Vec<_>, _>>()
            })
            .map_err(|e| self.err("reading its tables", e))?;
        if tables.is_empty() {
            return Ok(Contents::Empty);
        }
        let mut ours = 0;
        for (table, wanted) in [("runs", RUNS_COLUMNS), ("checks", CHECKS_COLUMNS)] {
            if !tables.iter().any(|t| t == table) {
                continue;
            }
            let columns: Vec<String> = self
                .conn
                .prepare("SELECT name FROM pragma_table_info(?1)")
                .and_then(|mut stmt| {
                    stmt.query_map([table], |r| r.get::<_, String>(0))?
                        .collect::<std::result::Result<Vec<_>, _>>()
                })
                .map_err(|e| self.err("reading its tables", e))?;
            if !wanted.iter().all(|w| columns.iter().any(|c| c == w)) {
                return Ok(Contents::Foreign(tables));
            }
            ours += 1;
        }
        Ok(match ours {
            0 => Contents::Foreign(tables),
            n => Contents::History { complete: n == 2 },
        })
    }

    fn foreign(&self, tables: &[String]) -> StoreError {
        const SHOWN: usize = 5;
        let mut list = tables
            .iter()
            .take(SHOWN)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if tables.len() > SHOWN {
            list.push_str(&format!(" and {} more", tables.len() - SHOWN));
        }
        StoreError(format!(
            "SQLite store {} is another application's database, not a bulkhead run history: its tables ({list}) are not bulkhead's. bulkhead neither reads nor changes it; give --store a file of bulkhead's own, such as {}",
            self.path,
            crate::default_url()
        ))
    }

    fn err(&self, what: &str, e: rusqlite::Error) -> StoreError {
        failure(&self.file, what, e)
    }
}

/// A failure of SQLite on the store `file` while doing `what`, with what to do about it.
fn failure(file: &Path, what: &str, e: rusqlite::Error) -> StoreError {
    StoreError(format!(
        "SQLite store {}: {what}: {e}{}",
        file.display(),
        advice(&e, file)
    ))
}

/// The directory of a new history could not be made: say which store it is for, why, and what
/// to do (the file system's word alone, "File exists", names neither).
fn directory_failure(path: &Path, dir: &Path, e: std::io::Error) -> StoreError {
    // The nearest existing ancestor: a file where a directory should be, or a directory this
    // user may not write to.
    let blocker = dir
        .ancestors()
        .find(|a| a.exists() && !a.as_os_str().is_empty());
    let what = match blocker {
        Some(b) if !b.is_dir() => format!(
            "{} is a file, not a directory, so nothing can be created under it; give --store a path through directories",
            b.display()
        ),
        Some(b) if e.kind() == std::io::ErrorKind::PermissionDenied => format!(
            "this user may not create it in {}; create {} as a user who may and give it to the user that records, or record with a --store in a writable directory",
            b.display(),
            dir.display()
        ),
        _ => "record with a --store in a writable directory".to_string(),
    };
    StoreError(format!(
        "cannot create the directory {} of SQLite store {}: {e}: {what}",
        dir.display(),
        path.display()
    ))
}

fn is_a_directory(path: &Path) -> StoreError {
    StoreError(format!(
        "cannot open SQLite store {}: it is a directory; name a file, such as sqlite:{}",
        path.display(),
        path.join("runs.db").display()
    ))
}

/// SQLite says only "unable to open database file"; the file system says why.
fn open_failure(path: &Path, e: rusqlite::Error) -> StoreError {
    let shown = path.display();
    if path.exists() {
        if let Err(io) = std::fs::File::open(path) {
            return StoreError(format!(
                "cannot open SQLite store {shown}: {io}; run as a user who may read and write it"
            ));
        }
        return StoreError(format!("cannot open SQLite store {shown}: {e}"));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    StoreError(format!(
        "cannot create SQLite store {shown}: {e}; check that this user may write to {}",
        dir.display()
    ))
}

/// What to do about the SQLite errors a user can act on, as a clause to append.
fn advice(e: &rusqlite::Error, file: &Path) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            " (the file is not an SQLite database, so not a run history: --store names the file `bulkhead audit --store` records runs in)".into()
        }
        Some(rusqlite::ErrorCode::ReadOnly) | Some(rusqlite::ErrorCode::CannotOpen) => {
            write_advice(e, file)
        }
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => format!(
            " (the file is damaged, truncated or partly overwritten: restore it from a backup (`sqlite3 {file} .recover` may salvage its runs into a new file), and meanwhile record into another file; bulkhead does not write to a damaged history)",
            file = file.display()
        ),
        // Not necessarily a bulkhead: an `sqlite3` session left in a transaction, or a backup,
        // holds the lock as well, and only the file's name finds it.
        Some(rusqlite::ErrorCode::DatabaseBusy) | Some(rusqlite::ErrorCode::DatabaseLocked) => format!(
            " (another process held the file's lock for longer than bulkhead waits for it (a minute to record or prune, 5 seconds to read): a bulkhead pruning it, an `sqlite3` session left in a transaction, a backup. `fuser -v {}` shows which processes have it open; try again when they are done)",
            file.display()
        ),
        _ => String::new(),
    }
}

/// Why SQLite may not write to a history, as a clause to append. Writing takes more than write
/// access to the file: for every write SQLite creates a journal next to it (`runs.db-journal`),
/// so the directory must be writable too. A directory that is not (made by root, mounted
/// read-only) makes SQLite open the file read-only, or fail to open the journal, even for the
/// file's owner, and telling the owner to record as the owner would leave them nowhere. Only a
/// user who may write neither (on a writable file system) is told to record as the owner.
fn write_advice(e: &rusqlite::Error, file: &Path) -> String {
    let dir = file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_writable = may_write(file).is_ok();
    let dir_refusal = may_write(dir).err();
    let the_directory = match &dir_refusal {
        Some(reason) => file_writable || reason.raw_os_error() == Some(libc::EROFS),
        // SQLite's own word for it, though access(2) no longer sees it (changed since).
        None => e.sqlite_extended_error_code() == Some(rusqlite::ffi::SQLITE_READONLY_DIRECTORY),
    };
    if the_directory {
        let reason = dir_refusal.map(|r| format!(": {r}")).unwrap_or_default();
        format!(
            " (SQLite writes a journal next to the history while it records, and cannot create it in {}{reason}. The directory must be writable by the user that records, not only the file: make it writable, or record with a --store in a writable directory)",
            dir.display()
        )
    } else if !file_writable {
        " (this user may read the history but not write it: record as its owner, or with a --store of your own)".into()
    } else {
        String::new()
    }
}

/// Whether this process may write to `path`, by access(2) with the effective user (as the
/// kernel will judge the write): the permission bits, ACLs, a read-only mount, an immutable
/// flag. Err is the kernel's reason.
fn may_write(path: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    // SAFETY: c_path is a NUL-terminated string that outlives the call.
    let rc = unsafe {
        libc::faccessat(
            libc::AT_FDCWD,
            c_path.as_ptr(),
            libc::W_OK,
            libc::AT_EACCESS,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A run as listed, from a row of [`RUN_COLUMNS`] (of `runs`).
fn run_summary(r: &rusqlite::Row) -> rusqlite::Result<RunSummary> {
    let summary: String = r.get(10)?;
    Ok(RunSummary {
        id: r.get(0)?,
        host: r.get(1)?,
        kind: r.get(2)?,
        benchmark: r.get(3)?,
        benchmark_version: r.get(4)?,
        numbering: r.get(5)?,
        tool_version: r.get(6)?,
        collected_at: r.get(7)?,
        recorded_at: r.get(8)?,
        score: r.get(9)?,
        summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
    })
}

/// Insert one run and its checks inside the caller's transaction; returns its run ID.
fn insert_run(tx: &rusqlite::Transaction, run: &NewRun, file: &Path) -> Result<i64> {
    tx.execute(
        "INSERT INTO runs (host, kind, benchmark, benchmark_version, numbering, tool_version, collected_at, recorded_at, score, summary, document)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            run.host, run.kind, run.benchmark, run.benchmark_version, run.numbering, run.tool_version, run.collected_at,
            now_rfc3339(), run.score, run.summary.to_string(), run.document.to_string()
        ],
    )
    .map_err(|e| failure(file, "recording run", e))?;
    let id = tx.last_insert_rowid();
    let mut stmt = tx
        .prepare("INSERT INTO checks (run_id, position, check_id, control, status, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .map_err(|e| failure(file, "recording checks", e))?;
    for (i, c) in run.checks.iter().enumerate() {
        stmt.execute(params![
            id, i as i64, c.check_id, c.control, c.status, c.message
        ])
        .map_err(|e| failure(file, "recording checks", e))?;
    }
    Ok(id)
}

impl Store for SqliteStore {
    fn record_all(&mut self, runs: &[NewRun]) -> Result<Vec<i64>> {
        let file = self.file.clone();
        let named = format!("SQLite store {}", self.path);
        // IMMEDIATE: the write lock is taken before the version is read, so that a newer
        // bulkhead cannot migrate the store between this check and the rows written after it.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failure(&file, "recording run", e))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| failure(&file, "reading its schema version", e))?;
        if version != 0 && !schema_known(version) {
            return Err(unknown_schema(&named, version));
        }
        let mut ids = Vec::with_capacity(runs.len());
        for run in runs {
            ids.push(insert_run(&tx, run, &file)?);
        }
        tx.commit().map_err(|e| failure(&file, "commit", e))?;
        Ok(ids)
    }

    fn runs(&mut self, filter: &RunFilter) -> Result<Vec<RunSummary>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE (?1 IS NULL OR host = ?1) AND (?2 IS NULL OR kind = ?2) ORDER BY id DESC LIMIT ?3"
            ))
            .map_err(|e| self.err("listing runs", e))?;
        let limit = filter.query_limit().map(|l| l as i64).unwrap_or(-1);
        let rows = stmt
            .query_map(params![filter.host, filter.kind, limit], run_summary)
            .map_err(|e| StoreError(format!("SQLite store {}: listing runs: {e}", self.path)))?;
        let runs = rows
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| StoreError(format!("SQLite store {}: {e}", self.path)))?;
        Ok(filter.windowed(runs))
    }

    fn run(&mut self, run_id: i64) -> Result<RunSummary> {
        self.conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                params![run_id],
                run_summary,
            )
            .optional()
            .map_err(|e| self.err(&format!("reading run {run_id}"), e))?
            .ok_or_else(|| {
                StoreError(format!(
                    "SQLite store {} holds no run {run_id} (`bulkhead history` lists the runs it holds, with their IDs)",
                    self.path
                ))
            })
    }

    fn checks(&mut self, run_id: i64) -> Result<Vec<CheckRow>> {
        let mut stmt = self
            .conn
            .prepare("SELECT check_id, control, status, message FROM checks WHERE run_id = ?1 ORDER BY position")
            .map_err(|e| self.err("reading checks", e))?;
        let rows = stmt
            .query_map(params![run_id], |r| {
                Ok(CheckRow {
                    check_id: r.get(0)?,
                    control: r.get(1)?,
                    status: r.get(2)?,
                    message: r.get(3)?,
                })
            })
            .map_err(|e| StoreError(format!("SQLite store {}: reading checks: {e}", self.path)))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| StoreError(format!("SQLite store {}: {e}", self.path)))
    }

    fn document(&mut self, run_id: i64) -> Result<serde_json::Value> {
        let text: String = self
            .conn
            .query_row(
                "SELECT document FROM runs WHERE id = ?1",
                params![run_id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(&format!("run {run_id}"), e))?;
        serde_json::from_str(&text).map_err(|e| {
            StoreError(format!(
                "SQLite store {}: run {run_id} document: {e}",
                self.path
            ))
        })
    }

    fn prune(&mut self, policy: &Prune, apply: bool) -> Result<PruneReport> {
        let file = self.file.clone();
        let named = format!("SQLite store {}", self.path);
        if !apply {
            let (_, report) = plan(&self.conn, policy, &named, &file)?;
            return Ok(report);
        }
        let size = |file: &Path| std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let before = size(&file);
        // IMMEDIATE: the write lock is held from the plan to the commit, so the runs planned are
        // the runs deleted; recordings wait for it (as for each other) and are kept, since only
        // the planned IDs are deleted.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| failure(&file, "deleting runs", e))?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(|e| failure(&file, "reading its schema version", e))?;
        if version != 0 && !schema_known(version) {
            return Err(unknown_schema(&named, version));
        }
        let (ids, mut report) = plan(&tx, policy, &named, &file)?;
        for chunk in ids.chunks(CHUNK) {
            let marks = vec!["?"; chunk.len()].join(", ");
            for sql in [
                format!("DELETE FROM checks WHERE run_id IN ({marks})"),
                format!("DELETE FROM runs WHERE id IN ({marks})"),
            ] {
                tx.execute(&sql, rusqlite::params_from_iter(chunk))
                    .map_err(|e| failure(&file, "deleting runs", e))?;
            }
        }
        tx.commit()
            .map_err(|e| failure(&file, "deleting runs (commit)", e))?;
        report.applied = true;
        // The runs are gone; their pages are free in the file, which keeps its size until they
        // are handed back.
        let note = self.reclaim().map_err(|e| {
            StoreError(format!(
                "{e}. The {} runs are deleted; their space is reused by the runs recorded next, and `bulkhead history --prune --apply` hands it back the next time it runs",
                report.delete,
            ))
        })?;
        report.notes.extend(note);
        report.file_size = Some(FileSize {
            before,
            after: size(&file),
        });
        Ok(report)
    }
}

impl SqliteStore {
    /// Give the free pages of the file back to the file system, never holding the write lock
    /// for long: a recording that waits for it longer than [`LOCK_WAIT`] would be lost. A
    /// history with incremental vacuuming (every history bulkhead creates) is compacted in
    /// steps of [`COMPACT_STEP`] pages, each a transaction of its own, with a pause between
    /// them in which waiting recordings go first. A history created without it (by an earlier
    /// bulkhead) can only turn it on by a VACUUM, which rewrites the file under the write lock:
    /// that is done only for a history that keeps at most [`REWRITE_LIMIT`]; a larger one is
    /// left at its size, and the returned note says so and how to compact it.
    fn reclaim(&self) -> Result<Option<String>> {
        let wrap = |e| self.err("reclaiming the space of the deleted runs", e);
        let pragma = |name: &str| {
            self.conn
                .pragma_query_value(None, name, |r| r.get::<_, i64>(0))
                .map_err(wrap)
        };
        if pragma("freelist_count")? == 0 {
            return Ok(None);
        }
        if pragma("auto_vacuum")? != 2 {
            let free = pragma("freelist_count")? as u64 * pragma("page_size")? as u64;
            let kept =
                (pragma("page_count")? as u64 * pragma("page_size")? as u64).saturating_sub(free);
            if kept <= REWRITE_LIMIT {
                self.conn
                    .execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM")
                    .map_err(wrap)?;
                return Ok(None);
            }
            return Ok(Some(format!(
                "the file keeps its size: it was created by an earlier bulkhead, which could only give back space by rewriting the whole file ({} kept) while recordings wait, and their wait (up to a minute) could run out. The {} freed are reused by the runs recorded next. To give them back, once: stop recording (the audit timer or DaemonSet) and run `sqlite3 {} 'PRAGMA auto_vacuum = INCREMENTAL; VACUUM'` (it needs free room for a copy of the file in the temporary directory); from then on every prune hands space back as it goes",
                crate::prune::human_bytes(kept),
                crate::prune::human_bytes(free),
                self.file.display()
            )));
        }
        loop {
            // Each step of this pragma frees one page: step it to the end (executing it once,
            // as execute_batch does, would hand back 4 KB).
            {
                let mut stmt = self
                    .conn
                    .prepare(&format!("PRAGMA incremental_vacuum({COMPACT_STEP})"))
                    .map_err(wrap)?;
                let mut rows = stmt.query([]).map_err(wrap)?;
                while rows.next().map_err(wrap)?.is_some() {}
            }
            if pragma("freelist_count")? == 0 {
                return Ok(None);
            }
            std::thread::sleep(COMPACT_PAUSE);
        }
    }
}

/// Plan a prune of the store on `conn` (the store's connection, or its open transaction).
fn plan(
    conn: &Connection,
    policy: &Prune,
    named: &str,
    file: &Path,
) -> Result<(Vec<i64>, PruneReport)> {
    let mut planner = Planner::new(policy);
    let mut stmt = conn
        .prepare(
            "SELECT id, host, kind, recorded_at FROM runs
             WHERE (?1 IS NULL OR host = ?1) AND (?2 IS NULL OR kind = ?2)
             ORDER BY host, kind, collected_at DESC, id DESC",
        )
        .map_err(|e| failure(file, "reading the runs to prune", e))?;
    let mut rows = stmt
        .query(params![policy.host, policy.kind])
        .map_err(|e| failure(file, "reading the runs to prune", e))?;
    while let Some(r) = rows
        .next()
        .map_err(|e| failure(file, "reading the runs to prune", e))?
    {
        let text = |i: usize| r.get_ref(i).ok().and_then(|v| v.as_str().ok());
        let id: i64 = r
            .get(0)
            .map_err(|e| failure(file, "reading the runs to prune", e))?;
        planner.push(
            id,
            text(1).unwrap_or_default(),
            text(2).unwrap_or_default(),
            text(3).unwrap_or_default(),
        );
    }
    Ok(planner.report(named))
}
