//! `bulkhead history` through the real binary: what a user sees when the store it names cannot
//! be used. The store itself is tested against real SQLite and PostgreSQL in bulkhead-store.

use bulkhead_testkit::TempDir;
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
