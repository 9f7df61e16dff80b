//! The run history against both real backends: an SQLite file, and a PostgreSQL server that this
//! test starts itself (its own data directory and socket; never a server of the machine).

use bulkhead_store::{open, open_existing, NewRun, RunFilter, Store, SCHEMA_VERSION};
use bulkhead_testkit::TestPostgres;
use serde_json::json;
use std::path::{Path, PathBuf};

fn audit_doc(host: &str, read_only: &str, score: i64) -> serde_json::Value {
    json!({
        "schema": "bulkhead.audit/1",
        "tool": {"name": "bulkhead", "version": "0.1.0"},
        "target": {"kind": "docker", "host": host, "collected_at": "2026-11-28T06:00:00Z"},
        "benchmark": {"id": "cis-docker", "version": "1.6.0", "numbering": "cis-1.6.0", "not_numbered": 0},
        "results": [
            {"id": "5.13", "control": "docker.container.read_only_rootfs", "status": read_only, "message": "1 of 1 container"},
            {"id": "2.3", "control": "docker.daemon.log_level_info", "status": "pass"}
        ],
        "summary": {"total": 2, "pass": 1, "score": score}
    })
}

fn exercise(store: &mut dyn Store) {
    let a1 = store
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    let b1 = store
        .record(&NewRun::from_document(&audit_doc("node-b", "pass", 2)).unwrap())
        .unwrap();
    let a2 = store
        .record(&NewRun::from_document(&audit_doc("node-a", "pass", 2)).unwrap())
        .unwrap();
    assert!(a1 < b1 && b1 < a2, "run ids increase");

    let all = store.runs(&RunFilter::default()).unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![a2, b1, a1],
        "newest first"
    );

    let a = store
        .runs(&RunFilter {
            host: Some("node-a".into()),
            kind: Some("docker".into()),
            limit: Some(1),
            ..RunFilter::default()
        })
        .unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!((a[0].id, a[0].score), (a2, 2));
    assert_eq!(a[0].summary["total"], 2);

    let checks = store.checks(a1).unwrap();
    assert_eq!(
        checks
            .iter()
            .map(|c| (c.check_id.as_str(), c.status.as_str()))
            .collect::<Vec<_>>(),
        vec![("5.13", "fail"), ("2.3", "pass")]
    );
    assert_eq!(store.document(b1).unwrap()["target"]["host"], "node-b");
}

#[test]
fn sqlite_records_and_lists_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/runs.db");
    let mut store = open(&format!("sqlite:{}", path.display())).unwrap();
    exercise(store.as_mut());
    drop(store);
    // Reopening finds the same history.
    let mut again = open(path.to_str().unwrap()).unwrap();
    assert_eq!(again.runs(&RunFilter::default()).unwrap().len(), 3);
}

/// A --store that names the wrong file: SQLite's own words ("file is not a database", "unable
/// to open database file") say neither what is wrong with it nor what to do.
#[test]
fn sqlite_errors_name_the_file_and_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "these are not runs\n").unwrap();
    let err = match open(&format!("sqlite:{}", notes.display())) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened a text file as a run history"),
    };
    assert!(err.contains(&notes.display().to_string()), "{err}");
    assert!(err.contains("not an SQLite database"), "{err}");
    assert!(err.contains("bulkhead audit --store"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&notes).unwrap(),
        "these are not runs\n",
        "the file is left alone"
    );

    let err = match open(&format!("sqlite:{}", dir.path().display())) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened a directory as a run history"),
    };
    assert!(err.contains("is a directory"), "{err}");
    assert!(
        err.contains(&format!("sqlite:{}", dir.path().join("runs.db").display())),
        "{err}"
    );
}

/// Another application's SQLite database named by --store (its tables have other names, or
/// `runs` and `checks` that are not bulkhead's): refused for recording and for reading, naming
/// the file, and left exactly as it was instead of gaining bulkhead's tables.
#[test]
fn sqlite_refuses_another_applications_database() {
    let dir = tempfile::tempdir().unwrap();
    for (name, schema) in [
        (
            "app.db",
            "CREATE TABLE users (id INTEGER, name TEXT); INSERT INTO users VALUES (1, 'a');",
        ),
        (
            "ci.db",
            "CREATE TABLE runs (id INTEGER PRIMARY KEY, pipeline TEXT, started TEXT);",
        ),
    ] {
        let path = dir.path().join(name);
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(schema).unwrap();
        drop(conn);
        let before = std::fs::read(&path).unwrap();
        for (what, opened) in [
            ("record", open(&format!("sqlite:{}", path.display()))),
            ("read", open_existing(&format!("sqlite:{}", path.display()))),
        ] {
            let err = match opened {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{name}: opened another application's database to {what}"),
            };
            assert!(err.contains(&path.display().to_string()), "{err}");
            assert!(err.contains("not a bulkhead run history"), "{err}");
        }
        assert_eq!(std::fs::read(&path).unwrap(), before, "{name} was changed");
    }
}

/// Recording into an empty database (a file created empty, as `touch` or another tool leaves
/// it) creates bulkhead's tables, as a new file does.
#[test]
fn sqlite_records_into_an_empty_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    std::fs::write(&path, "").unwrap();
    let mut store = open(&format!("sqlite:{}", path.display())).unwrap();
    store
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    drop(store);
    let mut reader = open_existing(&format!("sqlite:{}", path.display())).unwrap();
    assert_eq!(reader.runs(&RunFilter::default()).unwrap().len(), 1);
}

/// Reading creates nothing: not a missing file, and no table in an empty one; each is an
/// error naming the file.
#[test]
fn sqlite_reading_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("typo/runs.db");
    let err = match open_existing(&format!("sqlite:{}", missing.display())) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened a file that does not exist"),
    };
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("does not exist"), "{err}");
    assert!(
        !missing.parent().unwrap().exists(),
        "its directory was created"
    );

    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, "").unwrap();
    let err = match open_existing(&format!("sqlite:{}", empty.display())) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("read an empty database as a run history"),
    };
    assert!(err.contains(&empty.display().to_string()), "{err}");
    assert!(err.contains("holds no bulkhead run history"), "{err}");
    assert_eq!(
        std::fs::metadata(&empty).unwrap().len(),
        0,
        "tables were created"
    );
}

/// The SQLite tables exactly as bulkhead created them before stores carried a schema version:
/// every history recorded until then looks like this, with nothing in the file header.
const SQLITE_TABLES_BEFORE_VERSIONS: &str = "
CREATE TABLE runs (
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
CREATE INDEX runs_host_kind ON runs (host, kind, id);
CREATE TABLE checks (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX checks_control_status ON checks (control, status);
";

/// One run as bulkhead recorded it before schema versions (its document abridged).
const A_RUN_BEFORE_VERSIONS: &str = r#"
INSERT INTO runs (host, kind, benchmark, benchmark_version, numbering, tool_version, collected_at, recorded_at, score, summary, document)
VALUES ('node-old', 'docker', 'cis-docker', '1.6.0', 'cis-1.6.0', '0.1.0', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 1, '{"total": 1, "pass": 1}', '{"schema": "bulkhead.audit/1"}');
INSERT INTO checks (run_id, position, check_id, control, status, message)
VALUES (1, 0, '2.3', 'docker.daemon.log_level_info', 'pass', '');
"#;

/// (application_id, user_version) of an SQLite file's header.
fn sqlite_header(path: &Path) -> (i64, i64) {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let read = |name: &str| {
        conn.pragma_query_value(None, name, |r| r.get::<_, i64>(0))
            .unwrap()
    };
    (read("application_id"), read("user_version"))
}

fn hosts(store: &mut dyn Store) -> Vec<String> {
    store
        .runs(&RunFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.host)
        .collect()
}

/// A new history records its schema version in the file header, with bulkhead's application
/// ID, in the transaction that creates its tables.
#[test]
fn sqlite_a_new_history_is_marked_with_its_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let mut store = open(&format!("sqlite:{}", path.display())).unwrap();
    store
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    drop(store);
    // "bulk" in ASCII.
    assert_eq!(sqlite_header(&path), (0x6275_6c6b, SCHEMA_VERSION));
}

/// A history written by a newer bulkhead (its schema version above this one's) is neither
/// recorded into nor read, whether it still has tables this bulkhead recognises or not: the
/// error names the file and says to upgrade, and the file is left exactly as it was.
#[test]
fn sqlite_a_history_of_a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let newer = SCHEMA_VERSION + 1;
    let marked_newer = dir.path().join("newer.db");
    let mut store = open(&format!("sqlite:{}", marked_newer.display())).unwrap();
    store
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    drop(store);
    rusqlite::Connection::open(&marked_newer)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {newer}"))
        .unwrap();
    // A newer bulkhead that renamed the tables: only its application ID says whose file it is.
    let renamed = dir.path().join("renamed.db");
    rusqlite::Connection::open(&renamed)
        .unwrap()
        .execute_batch(&format!(
            "CREATE TABLE audit_runs (id INTEGER PRIMARY KEY, document TEXT NOT NULL);
             PRAGMA application_id = {}; PRAGMA user_version = {newer};",
            0x6275_6c6b
        ))
        .unwrap();
    for path in [&marked_newer, &renamed] {
        let before = std::fs::read(path).unwrap();
        let url = format!("sqlite:{}", path.display());
        for (what, opened) in [("record", open(&url)), ("read", open_existing(&url))] {
            let err = match opened {
                Err(e) => e.to_string(),
                Ok(_) => panic!("{}: opened a newer history to {what}", path.display()),
            };
            assert!(
                err.contains(&format!("SQLite store {}", path.display())),
                "{err}"
            );
            assert!(err.contains(&format!("schema version {newer}")), "{err}");
            assert!(err.contains("upgrade bulkhead"), "{err}");
            assert!(!err.contains("another application"), "{err}");
        }
        assert_eq!(std::fs::read(path).unwrap(), before, "{}", path.display());
    }
}

/// A newer bulkhead that migrates the history while this one has it open (a long audit): the
/// recording is refused, not written into tables it does not know.
#[test]
fn sqlite_a_history_migrated_since_it_was_opened_is_not_recorded_into() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let mut store = open(&format!("sqlite:{}", path.display())).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    let err = match store.record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap()) {
        Err(e) => e.to_string(),
        Ok(id) => panic!("recorded run {id} into a newer history"),
    };
    assert!(err.contains("upgrade bulkhead"), "{err}");
    let conn = rusqlite::Connection::open(&path).unwrap();
    let runs: i64 = conn
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(runs, 0);
}

/// Every history recorded before schema versions has bulkhead's tables and no mark: it is
/// version 1, read through a read-only connection (a reader needs no write access to it) and
/// recorded into as before.
#[test]
fn sqlite_a_history_recorded_before_schema_versions_is_read_and_recorded_into() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(&format!(
            "{SQLITE_TABLES_BEFORE_VERSIONS}{A_RUN_BEFORE_VERSIONS}"
        ))
        .unwrap();
    assert_eq!(sqlite_header(&path), (0, 0));
    let url = format!("sqlite:{}", path.display());
    let mut reader = open_existing(&url).unwrap();
    assert_eq!(hosts(reader.as_mut()), ["node-old"]);
    assert_eq!(reader.checks(1).unwrap()[0].check_id, "2.3");
    drop(reader);
    let mut node = open(&url).unwrap();
    node.record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    drop(node);
    let mut reader = open_existing(&url).unwrap();
    assert_eq!(hosts(reader.as_mut()), ["node-a", "node-old"]);
}

/// A directory that the test may not create files in, even as root (where permission bits
/// stop nothing): not root, its write permission is taken away; as root it is made immutable
/// (`chattr +i`: nothing can be created in it, while the files in it stay writable), or where
/// the file system has no such flag, it is bind-mounted read-only on itself. Undone on drop.
struct UnwritableDir {
    path: PathBuf,
    undo: &'static [&'static str],
}

impl UnwritableDir {
    fn new(path: &Path) -> Option<UnwritableDir> {
        let run = |argv: &[&str]| {
            std::process::Command::new(argv[0])
                .args(&argv[1..])
                .arg(path)
                .stderr(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let ways: [(&[&str], &'static [&'static str]); 3] = [
            (&["chmod", "0555"], &["chmod", "0755"]),
            (&["chattr", "+i"], &["chattr", "-i"]),
            (
                &["mount", "--bind", "-o", "ro", path.to_str()?],
                &["umount"],
            ),
        ];
        let root = unsafe { libc::geteuid() } == 0;
        for (make, undo) in ways.into_iter().skip(usize::from(root)) {
            if run(make) {
                let dir = UnwritableDir {
                    path: path.to_path_buf(),
                    undo,
                };
                // A mount or flag that does not stop root (a file system that ignores it).
                if std::fs::write(path.join(".probe"), "").is_ok() {
                    let _ = std::fs::remove_file(path.join(".probe"));
                    continue;
                }
                return Some(dir);
            }
        }
        None
    }
}

impl Drop for UnwritableDir {
    fn drop(&mut self) {
        let _ = std::process::Command::new(self.undo[0])
            .args(&self.undo[1..])
            .arg(&self.path)
            .status();
    }
}

/// The owner of a history whose directory it may not write to: SQLite cannot create the
/// journal it writes next to the file, and refuses the write as a read-only database. The error
/// must say that the directory has to be writable, not send the owner to "record as its owner";
/// the history can still be read.
#[test]
fn sqlite_a_directory_that_may_not_be_written_is_named_as_what_stops_a_recording() {
    let dir = tempfile::tempdir().unwrap();
    let history = dir.path().join("history");
    std::fs::create_dir(&history).unwrap();
    let url = format!("sqlite:{}", history.join("runs.db").display());
    open(&url)
        .unwrap()
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    let Some(unwritable) = UnwritableDir::new(&history) else {
        if bulkhead_testkit::ci() {
            panic!("CI=true but no way to make a directory unwritable for this user (chmod, chattr +i, a read-only bind mount)");
        }
        eprintln!("skipped: no way to make a directory unwritable for this user");
        return;
    };
    let recorded = open(&url).and_then(|mut store| {
        store.record(&NewRun::from_document(&audit_doc("node-a", "pass", 2)).unwrap())
    });
    let read = open_existing(&url).and_then(|mut store| store.runs(&RunFilter::default()));
    drop(unwritable);
    let err = match recorded {
        Err(e) => e.to_string(),
        Ok(id) => panic!("recorded run {id} into an unwritable directory"),
    };
    assert!(
        err.contains(&format!("cannot create it in {}", history.display())),
        "{err}"
    );
    assert!(err.contains("journal"), "{err}");
    assert!(err.contains("directory must be writable"), "{err}");
    assert!(!err.contains("record as its owner"), "{err}");
    assert_eq!(read.unwrap().len(), 1, "reading needs no journal");
}

#[test]
fn refuses_a_document_that_is_not_an_audit() {
    let err = NewRun::from_document(&json!({"schema": "bulkhead.threats/1"})).unwrap_err();
    assert!(err.contains("bulkhead.audit/1"), "{err}");
}

/// Store URLs and SQL as the superuser for the testkit's private PostgreSQL server.
trait PostgresStore {
    fn url(&self) -> String;
    fn url_as(&self, user: &str, dbname: &str) -> String;
    fn admin(&self, sql: &str);
    fn admin_in(&self, dbname: &str, sql: &str);
    fn scalar_in(&self, dbname: &str, sql: &str) -> Option<i64>;
}

impl PostgresStore for TestPostgres {
    fn url(&self) -> String {
        self.url_as("bulkhead", "postgres")
    }

    /// The store URL for another role or database of this server.
    fn url_as(&self, user: &str, dbname: &str) -> String {
        format!("postgres:{}", self.conninfo(user, dbname))
    }

    /// Run SQL as the superuser the server was initialised with.
    fn admin(&self, sql: &str) {
        self.admin_in("postgres", sql)
    }

    fn admin_in(&self, dbname: &str, sql: &str) {
        let conninfo = self.conninfo("bulkhead", dbname);
        let mut client = postgres::Client::connect(&conninfo, postgres::NoTls).unwrap();
        client
            .batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    }

    /// One BIGINT (or NULL) queried as the superuser.
    fn scalar_in(&self, dbname: &str, sql: &str) -> Option<i64> {
        let conninfo = self.conninfo("bulkhead", dbname);
        let mut client = postgres::Client::connect(&conninfo, postgres::NoTls).unwrap();
        client
            .query_one(sql, &[])
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"))
            .get(0)
    }
}

/// The schema version marked in a PostgreSQL store: None without a mark.
fn pg_marked_version(pg: &TestPostgres, dbname: &str) -> Option<i64> {
    if pg.scalar_in(
        dbname,
        "SELECT CASE WHEN to_regclass('bulkhead_schema') IS NULL THEN 0 ELSE 1 END::int8",
    ) == Some(0)
    {
        return None;
    }
    assert_eq!(
        pg.scalar_in(dbname, "SELECT count(*) FROM bulkhead_schema"),
        Some(1),
        "the mark is one row"
    );
    pg.scalar_in(dbname, "SELECT version::int8 FROM bulkhead_schema")
}

#[test]
fn postgres_fleet_store_records_and_lists_runs() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let mut store = open(&pg.url()).unwrap();
    exercise(store.as_mut());
    drop(store);
    // A second node connecting to the same database sees the fleet's history.
    let mut other = open(&pg.url()).unwrap();
    let hosts: Vec<String> = other
        .runs(&RunFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.host)
        .collect();
    assert_eq!(hosts, vec!["node-a", "node-b", "node-a"]);
}

#[test]
fn postgres_connection_error_names_the_store_without_password() {
    let err = match open("postgres://app:hunter2@127.0.0.1:1/fleet") {
        Err(e) => e.to_string(),
        Ok(_) => panic!("connected to port 1?"),
    };
    assert!(
        err.contains("postgres://app:***@127.0.0.1:1/fleet"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

/// A fleet runs its nodes and readers as roles that may insert or select, not create: the
/// tables are made once by a role that may. Such roles must be able to record and list runs
/// (PostgreSQL 15 and later already deny CREATE on the public schema to all but its owner; the
/// REVOKE makes older servers behave the same).
#[test]
fn postgres_roles_without_create_record_and_read_an_existing_history() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let mut owner = open(&pg.url()).unwrap();
    owner
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    drop(owner);
    // The history is marked with its version, which the roles below read without a grant of
    // their own on the mark.
    assert_eq!(pg_marked_version(&pg, "postgres"), Some(SCHEMA_VERSION));
    pg.admin(
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;
         CREATE ROLE reader LOGIN;
         GRANT SELECT ON bulkhead_runs, bulkhead_checks TO reader;
         CREATE ROLE node LOGIN;
         GRANT SELECT, INSERT ON bulkhead_runs, bulkhead_checks TO node;
         GRANT USAGE ON SEQUENCE bulkhead_runs_id_seq TO node;",
    );
    let mut node = open(&pg.url_as("node", "postgres"))
        .unwrap_or_else(|e| panic!("a node role without CREATE cannot open the store: {e}"));
    node.record(&NewRun::from_document(&audit_doc("node-b", "pass", 2)).unwrap())
        .unwrap();
    let mut reader = open_existing(&pg.url_as("reader", "postgres"))
        .unwrap_or_else(|e| panic!("a read-only role cannot open the store: {e}"));
    let hosts: Vec<String> = reader
        .runs(&RunFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.host)
        .collect();
    assert_eq!(hosts, vec!["node-b", "node-a"]);
    // A role that may not create, on a database without the tables, is told what is missing
    // and what to do, in the server's words.
    // (CREATE DATABASE cannot share a batch: a batch is one transaction.)
    pg.admin("CREATE DATABASE empty");
    pg.admin_in("empty", "REVOKE CREATE ON SCHEMA public FROM PUBLIC");
    let err = match open(&pg.url_as("reader", "empty")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a role without CREATE created the tables"),
    };
    assert!(err.contains("creating the tables"), "{err}");
    assert!(err.contains("permission denied for schema public"), "{err}");
    assert!(err.contains("grant the role what it needs"), "{err}");
}

/// Reading a database that holds no run history (a mistyped database name the role may
/// connect to) creates nothing: it is an error naming the store without its password. The
/// first recorded run creates the tables, and then reading works.
#[test]
fn postgres_reading_a_database_without_the_tables_creates_nothing() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    pg.admin("CREATE DATABASE fleet_typo");
    let url = format!("{} password=hunter2", pg.url_as("bulkhead", "fleet_typo"));
    let err = match open_existing(&url) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("read a database without the tables as a run history"),
    };
    assert!(err.contains("holds no bulkhead run history"), "{err}");
    assert!(
        err.contains("user=bulkhead password=*** dbname=fleet_typo"),
        "names the store: {err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert!(
        err.contains("bulkhead audit --store"),
        "says what to do: {err}"
    );
    let tables = |pg: &TestPostgres| -> i64 {
        let url = pg.url_as("bulkhead", "fleet_typo");
        let mut client =
            postgres::Client::connect(url.strip_prefix("postgres:").unwrap(), postgres::NoTls)
                .unwrap();
        client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
                &[],
            )
            .unwrap()
            .get(0)
    };
    assert_eq!(tables(&pg), 0, "reading created tables");

    let mut node = open(&url).unwrap();
    node.record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    drop(node);
    // bulkhead_runs, bulkhead_checks and bulkhead_schema, which marks their version.
    assert_eq!(tables(&pg), 3);
    let mut reader = open_existing(&url).unwrap();
    assert_eq!(reader.runs(&RunFilter::default()).unwrap().len(), 1);
}

/// The driver's own message is only a category ("db error"); the error must carry what the
/// server said and what to do.
#[test]
fn postgres_errors_say_what_the_server_said_and_what_to_do() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let err = match open(&pg.url_as("bulkhead", "fleet")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("connected to a database that does not exist"),
    };
    assert!(err.contains("database \"fleet\" does not exist"), "{err}");
    assert!(err.contains("createdb"), "{err}");
    assert!(
        err.contains("user=bulkhead dbname=fleet"),
        "names the store: {err}"
    );
}

/// A connection that fails names the store without its password however the password was
/// written, and says why it failed (here: nothing listens on port 1).
#[test]
fn postgres_connection_errors_never_show_a_password_in_any_spelling() {
    for url in [
        "postgresql://app@127.0.0.1:1/fleet?password=hunter2",
        "postgres:host=127.0.0.1 port=1 user=app password = hunter2",
        "postgres:host=127.0.0.1 port=1 user=app password='hunter2 hunter2'",
        "postgres://app:hunter2@127.0.0.1:notaport/fleet",
    ] {
        let err = match open(url) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("connected with {url}?"),
        };
        assert!(!err.contains("hunter2"), "{url}: {err}");
        assert!(err.contains("PostgreSQL store"), "{url}: {err}");
    }
    let err = match open("postgresql://app@127.0.0.1:1/fleet?password=hunter2") {
        Err(e) => e.to_string(),
        Ok(_) => unreachable!(),
    };
    assert!(
        err.contains("postgresql://app:***@127.0.0.1:1/fleet"),
        "{err}"
    );
    assert!(err.contains("refused"), "the reason is given: {err}");
}

/// A fleet rolled out at once against a new database: every node's first recording finds no
/// tables and creates them at the same moment. PostgreSQL does not make concurrent
/// `CREATE TABLE IF NOT EXISTS` safe (the loser fails on a duplicate catalog entry), so unless
/// the nodes take turns, some of their runs are lost. Several fresh databases, to give the race
/// its chances.
#[test]
fn postgres_first_recordings_at_the_same_moment_are_all_kept() {
    use std::sync::{Arc, Barrier};
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    const NODES: usize = 8;
    for round in 0..4 {
        let dbname = format!("fleet_rollout_{round}");
        pg.admin(&format!("CREATE DATABASE {dbname}"));
        let url = pg.url_as("bulkhead", &dbname);
        let start = Arc::new(Barrier::new(NODES));
        let nodes: Vec<_> = (0..NODES)
            .map(|i| {
                let (url, start) = (url.clone(), Arc::clone(&start));
                std::thread::spawn(move || -> Result<i64, String> {
                    let run =
                        NewRun::from_document(&audit_doc(&format!("node-{i}"), "fail", 0)).unwrap();
                    start.wait();
                    let mut store = open(&url).map_err(|e| e.to_string())?;
                    store.record(&run).map_err(|e| e.to_string())
                })
            })
            .collect();
        let failures: Vec<String> = nodes
            .into_iter()
            .filter_map(|n| n.join().unwrap().err())
            .collect();
        assert!(failures.is_empty(), "{dbname}: runs lost: {failures:#?}");
        let mut reader = open_existing(&url).unwrap();
        assert_eq!(
            reader.runs(&RunFilter::default()).unwrap().len(),
            NODES,
            "{dbname}"
        );
        assert_eq!(
            pg_marked_version(&pg, &dbname),
            Some(SCHEMA_VERSION),
            "{dbname}"
        );
    }
}

/// The PostgreSQL tables exactly as bulkhead created them before stores carried a schema
/// version, and one run recorded then.
const POSTGRES_HISTORY_BEFORE_VERSIONS: &str = r#"
CREATE TABLE bulkhead_runs (
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
CREATE INDEX bulkhead_runs_host_kind ON bulkhead_runs (host, kind, id);
CREATE TABLE bulkhead_checks (
    run_id BIGINT NOT NULL REFERENCES bulkhead_runs(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    check_id TEXT NOT NULL,
    control TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
);
CREATE INDEX bulkhead_checks_control_status ON bulkhead_checks (control, status);
INSERT INTO bulkhead_runs (host, kind, benchmark, benchmark_version, numbering, tool_version, collected_at, recorded_at, score, summary, document)
VALUES ('node-old', 'docker', 'cis-docker', '1.6.0', 'cis-1.6.0', '0.1.0', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z', 1, '{"total": 1, "pass": 1}', '{"schema": "bulkhead.audit/1"}');
INSERT INTO bulkhead_checks (run_id, position, check_id, control, status, message)
VALUES (1, 0, '2.3', 'docker.daemon.log_level_info', 'pass', '');
"#;

/// A fleet database recorded into before schema versions, used by roles granted only what the
/// README said then: the reader (SELECT on the two tables) reads it and the node records into
/// it, neither able nor needing to create a mark.
#[test]
fn postgres_a_history_recorded_before_schema_versions_is_read_and_recorded_into() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    pg.admin("CREATE DATABASE fleet_before_versions");
    pg.admin_in(
        "fleet_before_versions",
        &format!(
            "{POSTGRES_HISTORY_BEFORE_VERSIONS}
             REVOKE CREATE ON SCHEMA public FROM PUBLIC;
             CREATE ROLE reader LOGIN;
             GRANT SELECT ON bulkhead_runs, bulkhead_checks TO reader;
             CREATE ROLE node LOGIN;
             GRANT SELECT, INSERT ON bulkhead_runs, bulkhead_checks TO node;
             GRANT USAGE ON SEQUENCE bulkhead_runs_id_seq TO node;"
        ),
    );
    let reader_url = pg.url_as("reader", "fleet_before_versions");
    let mut reader = open_existing(&reader_url)
        .unwrap_or_else(|e| panic!("a reader cannot open a history without a version: {e}"));
    assert_eq!(hosts(reader.as_mut()), ["node-old"]);
    drop(reader);
    let mut node = open(&pg.url_as("node", "fleet_before_versions"))
        .unwrap_or_else(|e| panic!("a node cannot open a history without a version: {e}"));
    node.record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    drop(node);
    let mut reader = open_existing(&reader_url).unwrap();
    assert_eq!(hosts(reader.as_mut()), ["node-a", "node-old"]);
    assert_eq!(pg_marked_version(&pg, "fleet_before_versions"), None);
}

/// A fleet database that a newer bulkhead has migrated: refused for recording and reading,
/// naming the store without its password; and a node that opened it before the migration does
/// not record into it after. Nothing is written.
#[test]
fn postgres_a_history_of_a_newer_schema_is_refused() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let url = format!("{} password=hunter2", pg.url());
    let mut early = open(&url).unwrap();
    early
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    let newer = SCHEMA_VERSION + 1;
    pg.admin(&format!("UPDATE bulkhead_schema SET version = {newer}"));
    let late = open(&url);
    let read = open_existing(&url);
    let recorded = early.record(&NewRun::from_document(&audit_doc("node-b", "pass", 2)).unwrap());
    for (what, err) in [
        ("record", late.err()),
        ("read", read.err()),
        ("record after opening", recorded.err()),
    ] {
        let err = err
            .unwrap_or_else(|| panic!("a newer history was opened to {what}"))
            .to_string();
        assert!(
            err.contains("PostgreSQL store host=") && err.contains("password=*** dbname=postgres"),
            "{what}: {err}"
        );
        assert!(!err.contains("hunter2"), "{what}: {err}");
        assert!(
            err.contains(&format!("schema version {newer}")),
            "{what}: {err}"
        );
        assert!(err.contains("upgrade bulkhead"), "{what}: {err}");
    }
    assert_eq!(
        pg.scalar_in("postgres", "SELECT count(*) FROM bulkhead_runs"),
        Some(1)
    );
}

/// The Docker and Kubernetes runs of one audit are kept together or not at all: when the second
/// cannot be written (here a trigger refuses it, as a full disk would), the first is not kept
/// either.
#[test]
fn sqlite_records_the_runs_of_one_audit_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    let docker = NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap();
    let mut store = open(&url).unwrap();
    store.record(&docker).unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_kubernetes BEFORE INSERT ON runs WHEN NEW.kind = 'kubernetes'
             BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;",
        )
        .unwrap();
    let mut doc = audit_doc("node-a", "pass", 2);
    doc["target"]["kind"] = "kubernetes".into();
    let kubernetes = NewRun::from_document(&doc).unwrap();
    let err = match store.record_all(&[docker, kubernetes]) {
        Err(e) => e.to_string(),
        Ok(ids) => panic!("recorded {ids:?} past the trigger"),
    };
    assert!(err.contains("database or disk is full"), "{err}");
    assert_eq!(store.runs(&RunFilter::default()).unwrap().len(), 1);
}

/// Another process holding the file's write lock for longer than rusqlite's default five seconds
/// (a `sqlite3` session, a backup, a slow concurrent audit) delays a recording; it must not lose
/// it ("database is locked") after the audit's report was printed.
#[test]
fn sqlite_waits_for_a_lock_held_longer_than_five_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    let mut store = open(&url).unwrap();
    store
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    let holder = rusqlite::Connection::open(&path).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let held = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(7));
        holder.execute_batch("COMMIT").unwrap();
    });
    store
        .record(&NewRun::from_document(&audit_doc("node-a", "pass", 2)).unwrap())
        .expect("recorded once the lock was released");
    held.join().unwrap();
    assert_eq!(store.runs(&RunFilter::default()).unwrap().len(), 2);
}

/// `host`'s audit document with its facts collected at `collected_at`.
fn audit_doc_at(host: &str, collected_at: &str) -> serde_json::Value {
    let mut doc = audit_doc(host, "fail", 0);
    doc["target"]["collected_at"] = collected_at.into();
    doc
}

/// A run is read by the ID the listing shows (what `history --diff --from ID --to ID` names);
/// an ID the store does not hold is an error that names the store and the ID, never an empty
/// run.
fn a_run_is_found_by_its_id(store: &mut dyn Store, store_named: &str) {
    let a = store
        .record(&NewRun::from_document(&audit_doc("node-a", "fail", 0)).unwrap())
        .unwrap();
    let b = store
        .record(&NewRun::from_document(&audit_doc("node-b", "pass", 2)).unwrap())
        .unwrap();
    let run = store.run(a).unwrap();
    assert_eq!((run.id, run.host.as_str(), run.score), (a, "node-a", 0));
    assert_eq!(store.run(b).unwrap().host, "node-b");
    assert_eq!(
        store.run(b).unwrap(),
        store.runs(&RunFilter::default()).unwrap()[0],
        "the same run as listed"
    );
    let missing = b + 40;
    let err = match store.run(missing) {
        Err(e) => e.to_string(),
        Ok(r) => panic!("found run {missing}: {r:?}"),
    };
    assert!(err.contains(store_named), "{err}");
    assert!(err.contains(&format!("holds no run {missing}")), "{err}");
    assert!(err.contains("bulkhead history"), "{err}");
}

/// --since and --until: runs are kept by when their facts were collected (not recorded, nor
/// their ID), from `collected_since` (included) up to `collected_before` (left out); a time
/// written with fractions of a second is read as a time, one that is none is in no window, and
/// the limit counts the newest runs of the window, not of the store.
fn runs_are_listed_within_a_window_of_collection_times(store: &mut dyn Store) {
    let t = |s: &str| bulkhead_facts::time::rfc3339_to_unix(s).unwrap();
    // Recorded out of collection order: a late snapshot is placed where it was taken.
    for (host, at) in [
        ("march", "2026-03-01T00:00:00Z"),
        ("january", "2026-01-01T00:00:00Z"),
        ("february", "2026-02-01T00:00:00Z"),
        ("late-january", "2026-01-31T23:59:59.750Z"),
        ("unreadable", "yesterday"),
    ] {
        store
            .record(&NewRun::from_document(&audit_doc_at(host, at)).unwrap())
            .unwrap();
    }
    let listed = |store: &mut dyn Store, filter: RunFilter| -> Vec<String> {
        store
            .runs(&filter)
            .unwrap()
            .into_iter()
            .map(|r| r.host)
            .collect()
    };
    let since = |at: &str| RunFilter {
        collected_since: Some(t(at)),
        ..RunFilter::default()
    };
    let before = |at: &str| RunFilter {
        collected_before: Some(t(at)),
        ..RunFilter::default()
    };
    assert_eq!(
        listed(store, since("2026-02-01T00:00:00Z")),
        ["february", "march"],
        "newest (by ID) first; the moment itself is in"
    );
    assert_eq!(
        listed(store, before("2026-02-01T00:00:00Z")),
        ["late-january", "january"],
        "the moment itself is out; a fraction of a second is still January"
    );
    let january = RunFilter {
        collected_since: Some(t("2026-01-01T00:00:00Z")),
        collected_before: Some(t("2026-02-01T00:00:00Z")),
        ..RunFilter::default()
    };
    assert_eq!(listed(store, january), ["late-january", "january"]);
    // The newest run of the store (unreadable) and the one before (late-january) are not the
    // newest of the window.
    let newest_of_march_and_before = RunFilter {
        collected_before: Some(t("2026-02-15T00:00:00Z")),
        limit: Some(1),
        ..RunFilter::default()
    };
    assert_eq!(listed(store, newest_of_march_and_before), ["late-january"]);
    let by_host = RunFilter {
        host: Some("march".into()),
        ..since("2026-01-01T00:00:00Z")
    };
    assert_eq!(listed(store, by_host), ["march"]);
    assert!(listed(store, since("2026-03-01T00:00:01Z")).is_empty());
    // Without a window every run is listed, the unreadable time too.
    assert_eq!(listed(store, RunFilter::default()).len(), 5);
}

#[test]
fn sqlite_finds_a_run_by_its_id_and_names_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let mut store = open(&format!("sqlite:{}", path.display())).unwrap();
    a_run_is_found_by_its_id(store.as_mut(), &format!("SQLite store {}", path.display()));
}

#[test]
fn sqlite_lists_runs_within_a_window_of_collection_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let mut store = open(&format!("sqlite:{}", path.display())).unwrap();
    runs_are_listed_within_a_window_of_collection_times(store.as_mut());
    // A reader sees the same.
    drop(store);
    let mut reader = open_existing(&format!("sqlite:{}", path.display())).unwrap();
    let feb = RunFilter {
        collected_since: bulkhead_facts::time::rfc3339_to_unix("2026-02-01T00:00:00Z"),
        ..RunFilter::default()
    };
    assert_eq!(reader.runs(&feb).unwrap().len(), 2);
}

#[test]
fn postgres_finds_a_run_by_its_id_and_lists_runs_within_a_window() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    // (CREATE DATABASE cannot share a batch: a batch is one transaction.)
    pg.admin("CREATE DATABASE lookup");
    pg.admin("CREATE DATABASE window_of_time");
    let mut store = open(&pg.url_as("bulkhead", "lookup")).unwrap();
    a_run_is_found_by_its_id(store.as_mut(), "PostgreSQL store");
    let mut store = open(&pg.url_as("bulkhead", "window_of_time")).unwrap();
    runs_are_listed_within_a_window_of_collection_times(store.as_mut());
}
