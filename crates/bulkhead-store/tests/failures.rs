//! What a store that fails part-way says, with real parts: a PostgreSQL server that this test
//! starts and stops itself, a listener that accepts connections and never answers, and SQLite
//! files that are damaged or sit where no directory can be made.

use bulkhead_store::{open, open_existing, NewRun, RunFilter};
use bulkhead_testkit::TestPostgres;
use serde_json::json;
use std::time::{Duration, Instant};

fn run(host: &str) -> NewRun {
    NewRun::from_document(&json!({
        "schema": "bulkhead.audit/1",
        "tool": {"name": "bulkhead", "version": "0.1.0"},
        "target": {"kind": "docker", "host": host, "collected_at": "2026-11-28T06:00:00Z"},
        "benchmark": {"id": "cis-docker", "version": "1.6.0", "numbering": "cis-1.6.0", "not_numbered": 0},
        "results": [{"id": "5.13", "control": "docker.container.read_only_rootfs", "status": "fail"}],
        "summary": {"total": 1, "fail": 1, "score": -1}
    }))
    .unwrap()
}

fn error_of<T>(r: bulkhead_store::Result<T>) -> String {
    match r {
        Err(e) => e.to_string(),
        Ok(_) => panic!("expected an error"),
    }
}

/// Run `f` on a thread and give up after `limit`: a store that hangs fails the test instead of
/// the test run.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("still waiting after {limit:?}"))
}

/// Something accepts TCP connections where the store should be and never answers (a stopped
/// server's port held by a proxy, a firewall, an overloaded server): the driver's own
/// connect_timeout bounds only the socket, so the audit waited forever. Now the whole connection
/// is bounded by connect_timeout (here from the URL), and the message says what happened
/// without the password.
#[test]
fn postgres_a_server_that_never_answers_is_given_up_on() {
    // The kernel completes connections into the backlog of a socket that never accepts.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("postgres://app:hunter2@127.0.0.1:{port}/fleet?connect_timeout=2");
    let started = Instant::now();
    let err = within(Duration::from_secs(30), move || error_of(open(&url)));
    assert!(started.elapsed() < Duration::from_secs(10), "{err}");
    assert!(err.contains("no answer within 2 seconds"), "{err}");
    assert!(
        err.contains(&format!("postgres://app:***@127.0.0.1:{port}/fleet")),
        "{err}"
    );
    assert!(err.contains("connect_timeout"), "what to do: {err}");
    assert!(!err.contains("hunter2"), "{err}");
    drop(listener);
}

/// The server stops between opening the store and recording (a restart, a failover): the error
/// names the store, says that the connection was lost and that the run was not recorded, and
/// the history, once the server is back, holds nothing half-written.
#[test]
fn postgres_a_server_gone_mid_run_is_said_and_records_nothing() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let url = format!(
        "postgres:{} password=hunter2",
        pg.conninfo("bulkhead", "postgres")
    );
    let mut store = open(&url).unwrap();
    let data = pg.socket_dir().join("data").display().to_string();
    pg.run(&["pg_ctl", "-D", &data, "-m", "fast", "-w", "stop"]);
    let err = error_of(store.record(&run("node-a")));
    assert!(err.contains("PostgreSQL store host="), "{err}");
    assert!(err.contains("password=***"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(
        err.contains("connection to the server was lost"),
        "says what happened: {err}"
    );
    assert!(err.contains("not recorded"), "says what it means: {err}");
    drop(store);
    let opts = format!(
        "-k {} -c listen_addresses= -p 5999 -F",
        pg.socket_dir().display()
    );
    let log = pg.socket_dir().join("log").display().to_string();
    pg.run(&[
        "pg_ctl", "-D", &data, "-o", &opts, "-w", "-l", &log, "start",
    ]);
    let mut again = open_existing(&url).unwrap();
    assert!(again.runs(&RunFilter::default()).unwrap().is_empty());
}

/// An SQLite history that was truncated (a disk that filled up while it was copied, a partial
/// restore): SQLite says only "database disk image is malformed"; the message names the file and
/// says what to do.
#[test]
fn sqlite_a_damaged_history_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    let mut store = open(&url).unwrap();
    for i in 0..50 {
        store.record(&run(&format!("node-{i}"))).unwrap();
    }
    drop(store);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(2000).unwrap();
    for err in [error_of(open_existing(&url)), error_of(open(&url))] {
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("malformed"), "{err}");
        assert!(err.contains("damaged"), "{err}");
        assert!(err.contains("backup"), "what to do: {err}");
    }
}

/// A --store whose directory cannot be made because a file stands in its path: the file
/// system's "File exists" named neither the store nor what is wrong.
#[test]
fn sqlite_a_file_in_the_way_of_the_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("runs.db");
    std::fs::write(&file, "").unwrap();
    let store = file.join("nested/runs.db");
    let err = error_of(open(&format!("sqlite:{}", store.display())));
    assert!(err.contains(&store.display().to_string()), "{err}");
    assert!(
        err.contains(&format!("{} is a file, not a directory", file.display())),
        "{err}"
    );
}

/// An audit opens its store before it collects, which may take minutes; the server may drop
/// that idle connection meanwhile (a restart, idle_session_timeout, a failover). The recording
/// connects again instead of losing the run.
#[test]
fn postgres_a_connection_dropped_while_the_audit_collects_is_made_again() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let url = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    let mut store = open(&url).unwrap();
    pg.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE usename = 'bulkhead' AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
    );
    let id = store
        .record(&run("node-a"))
        .unwrap_or_else(|e| panic!("the run was lost: {e}"));
    let mut reader = open_existing(&url).unwrap();
    let runs = reader.runs(&RunFilter::default()).unwrap();
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
}

/// A node's role that may read the history but not insert into it is refused when the store
/// is opened to record, naming what it lacks and the grant, not after the audit's collection.
#[test]
fn postgres_a_role_that_may_not_record_is_refused_when_the_store_is_opened() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let owner = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    open(&owner).unwrap().record(&run("node-a")).unwrap();
    pg.psql(
        "CREATE ROLE node LOGIN; GRANT SELECT ON bulkhead_runs, bulkhead_checks TO node;
         CREATE ROLE full_node LOGIN;
         GRANT SELECT, INSERT ON bulkhead_runs, bulkhead_checks TO full_node;
         GRANT USAGE ON SEQUENCE bulkhead_runs_id_seq TO full_node;",
    );
    let err = error_of(open(&format!(
        "postgres:{}",
        pg.conninfo("node", "postgres")
    )));
    assert!(err.contains("the role node may not record runs"), "{err}");
    assert!(
        err.contains(
            "INSERT on bulkhead_runs and INSERT on bulkhead_checks and USAGE on the sequence"
        ),
        "{err}"
    );
    assert!(
        err.contains("GRANT SELECT, INSERT ON bulkhead_runs, bulkhead_checks TO node"),
        "{err}"
    );
    let mut node = open(&format!(
        "postgres:{}",
        pg.conninfo("full_node", "postgres")
    ))
    .unwrap();
    node.record(&run("node-b")).unwrap();
}

/// A fleet records on one schedule, and the server has fewer connection slots than nodes (its
/// max_connections, here the role's CONNECTION LIMIT): a node refused with "too many
/// connections" lost its whole audit at once. It now waits for a slot, which a node frees as
/// soon as it has recorded.
#[test]
fn postgres_a_node_waits_for_a_free_connection_slot() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let owner = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    open(&owner).unwrap().record(&run("node-a")).unwrap();
    pg.psql(
        "CREATE ROLE node LOGIN CONNECTION LIMIT 1;
         GRANT SELECT, INSERT ON bulkhead_runs, bulkhead_checks TO node;
         GRANT USAGE ON SEQUENCE bulkhead_runs_id_seq TO node;",
    );
    let url = format!("postgres:{}", pg.conninfo("node", "postgres"));
    // The one slot, held by another node while it records.
    let holder = open(&url).unwrap();
    let second = url.clone();
    let waiting = std::thread::spawn(move || {
        let started = Instant::now();
        let recorded = open(&second).and_then(|mut s| s.record(&run("node-b")));
        (recorded, started.elapsed())
    });
    std::thread::sleep(Duration::from_secs(2));
    drop(holder);
    let (recorded, waited) = waiting.join().unwrap();
    recorded.unwrap_or_else(|e| panic!("the node did not wait for the slot: {e}"));
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
    assert!(waited < Duration::from_secs(30), "{waited:?}");
    let hosts: Vec<String> = open_existing(&owner)
        .unwrap()
        .runs(&RunFilter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.host)
        .collect();
    assert_eq!(hosts, ["node-b", "node-a"]);
}

/// A history whose lock another process holds (here an `sqlite3`-like session left in a write
/// transaction) was blamed on "another bulkhead", which may not exist: the message now says what
/// may hold it and how to find it.
#[test]
fn sqlite_a_history_held_locked_says_what_may_hold_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    open(&url).unwrap().record(&run("node-a")).unwrap();
    let session = rusqlite::Connection::open(&path).unwrap();
    session.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let err = within(Duration::from_secs(60), move || {
        error_of(open_existing(&url).and_then(|mut s| s.runs(&RunFilter::default())))
    });
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("database is locked"), "{err}");
    assert!(err.contains("`sqlite3` session"), "{err}");
    assert!(
        err.contains(&format!("fuser -v {}", path.display())),
        "{err}"
    );
    assert!(!err.contains("another bulkhead is writing"), "{err}");
    session.execute_batch("ROLLBACK").unwrap();
}
