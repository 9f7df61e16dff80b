//! `bulkhead history` through the real binary: what a user sees when the store it names cannot
//! be used. The store itself is tested against real SQLite and PostgreSQL in bulkhead-store.

use bulkhead_testkit::{TempDir, TestPostgres};
use std::process::{Command, Output};

fn history(store: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["history", "--store", store])
        .env_remove("BULKHEAD_STORE")
        .output()
        .unwrap()
}

/// A --store naming a file that is not a run history: exit 2, and the message names the file,
/// says what is wrong with it and what --store should name.
#[test]
fn a_file_that_is_not_a_run_history_is_named_with_what_to_do() {
    let dir = TempDir::new("history-cli");
    let notes = dir.0.join("notes.txt");
    std::fs::write(&notes, "these are not runs\n").unwrap();
    let o = history(&format!("sqlite:{}", notes.display()));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&notes.display().to_string()), "{err}");
    assert!(err.contains("not an SQLite database"), "{err}");
    assert!(err.contains("bulkhead audit --store"), "{err}");
}

/// A PostgreSQL store that cannot be reached: the message says why (nothing listens on port 1)
/// and never shows the password, here given as a URL parameter.
#[test]
fn an_unreachable_postgres_store_says_why_without_its_password() {
    let o = history("postgresql://app@127.0.0.1:1/fleet?password=hunter2");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(
        err.contains("postgresql://app:***@127.0.0.1:1/fleet"),
        "{err}"
    );
    assert!(err.contains("Connection refused"), "{err}");
}

fn golden_snapshot() -> String {
    format!(
        "{}/tests/golden/audit/snapshot.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The list shows how many checks ended in each status, all of them (manual, info and not
/// applicable as well), so the counts add up to the number of checks, and are the counts of
/// the summary `--format json` lists.
#[test]
fn the_list_counts_every_status() {
    let dir = TempDir::new("history-counts");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["audit", "docker", "--snapshot", &golden_snapshot()])
        .args(["--fail-on", "never", "--store", &store])
        .env_remove("BULKHEAD_STORE")
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = history(&store);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let line = out
        .lines()
        .find(|l| l.contains("lab-host"))
        .unwrap_or_else(|| panic!("{out}"));
    let summary = &line[line
        .find("117 checks: ")
        .unwrap_or_else(|| panic!("{line}"))..];
    assert_eq!(
        summary,
        "117 checks: 40 pass, 33 fail, 1 warn, 3 info, 15 manual, 25 not applicable, 0 error"
    );
    let counted: u64 = summary["117 checks: ".len()..]
        .split(", ")
        .map(|part| part.split(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(counted, 117, "{summary}");

    let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["history", "--store", &store, "--format", "json"])
        .env_remove("BULKHEAD_STORE")
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = &runs[0]["summary"];
    for (key, n) in [
        ("total", 117),
        ("pass", 40),
        ("fail", 33),
        ("warn", 1),
        ("info", 3),
        ("manual", 15),
        ("not_applicable", 25),
        ("error", 0),
    ] {
        assert_eq!(s[key], n, "{key} in {s}");
    }
}

/// Reading an SQLite file that holds no run history (here an empty one) creates no table in
/// it: it is an error naming the file, and the file stays empty.
#[test]
fn reading_an_empty_sqlite_file_creates_nothing() {
    let dir = TempDir::new("history-empty");
    let path = dir.0.join("runs.db");
    std::fs::write(&path, "").unwrap();
    let o = history(&format!("sqlite:{}", path.display()));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(err.contains("holds no bulkhead run history"), "{err}");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        0,
        "tables were created"
    );
}

/// `history` against a PostgreSQL database without bulkhead's tables (a mistyped database the
/// role may connect to and create in): exit 2, saying that it holds no run history, naming the
/// store without its password, and creating nothing: a second look finds it just as empty.
#[test]
fn a_postgres_database_without_the_history_is_named_and_left_unchanged() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let store = format!(
        "postgres:{} password=hunter2",
        pg.conninfo("bulkhead", "postgres")
    );
    for attempt in ["first", "second"] {
        let o = history(&store);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{attempt}: {err}");
        assert!(
            err.contains("holds no bulkhead run history"),
            "{attempt}: {err}"
        );
        assert!(
            err.contains(&format!(
                "host={} port=5999 user=bulkhead password=*** dbname=postgres",
                pg.socket_dir().display()
            )),
            "{attempt}: {err}"
        );
        assert!(!err.contains("hunter2"), "{attempt}: {err}");
        assert!(err.contains("bulkhead audit --store"), "{attempt}: {err}");
        assert!(o.stdout.is_empty(), "{attempt}");
    }
}
