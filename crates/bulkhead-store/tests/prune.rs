//! Pruning the run history (`bulkhead history --prune`) against both real backends: an SQLite
//! file, and a PostgreSQL server that this test starts itself (never a server of the machine).

use bulkhead_store::{open, open_existing, open_for_pruning, NewRun, Prune, RunFilter, Store};
use bulkhead_testkit::TestPostgres;
use serde_json::json;
use std::collections::BTreeMap;

/// An audit of `host` whose facts were collected on day `day` of January 2026, `minute` minutes
/// after midnight, with
/// `padding` bytes of evidence: a real audit document is about 120 KB.
fn run(host: &str, kind: &str, day: u32, minute: u32, padding: usize) -> NewRun {
    let doc = json!({
        "schema": "bulkhead.audit/1",
        "tool": {"name": "bulkhead", "version": "0.1.0"},
        "target": {"kind": kind, "host": host,
                   "collected_at": format!("2026-01-{day:02}T{:02}:{:02}:00Z", minute / 60, minute % 60)},
        "benchmark": {"id": "cis-docker", "version": "1.6.0", "numbering": "cis-1.6.0", "not_numbered": 0},
        "results": [
            {"id": "5.13", "control": "docker.container.read_only_rootfs", "status": "fail",
             "message": "1 of 1 container", "evidence": "x".repeat(padding)},
            {"id": "2.3", "control": "docker.daemon.log_level_info", "status": "pass"}
        ],
        "summary": {"total": 2, "pass": 1, "fail": 1, "score": 1}
    });
    NewRun::from_document(&doc).unwrap()
}

/// The store's run IDs per "host kind", newest (by ID) first.
fn ids(store: &mut dyn Store) -> BTreeMap<String, Vec<i64>> {
    let mut by = BTreeMap::new();
    for r in store.runs(&RunFilter::default()).unwrap() {
        by.entry(format!("{} {}", r.host, r.kind))
            .or_insert_with(Vec::new)
            .push(r.id);
    }
    by
}

/// Record: node-a docker on days 1..=6, node-a kubernetes on days 1..=3, node-b docker on days
/// 1..=2, and node-c docker once, plus one node-a docker run recorded last but collected on day
/// 1 (a snapshot recorded late: an old state, though the newest ID). Returns their IDs by
/// group, in recording order.
fn populate(store: &mut dyn Store) -> BTreeMap<&'static str, Vec<i64>> {
    let mut by: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    for (group, host, kind, days) in [
        ("a docker", "node-a", "docker", 1..=6),
        ("a kubernetes", "node-a", "kubernetes", 1..=3),
        ("b docker", "node-b", "docker", 1..=2),
        ("c docker", "node-c", "docker", 1..=1),
    ] {
        for day in days {
            let id = store.record(&run(host, kind, day, 0, 10)).unwrap();
            by.entry(group).or_default().push(id);
        }
    }
    // Collected on day 1 like the first run, recorded after every other: by (collected, ID),
    // as --diff orders runs, it is the second oldest of node-a's Docker runs.
    let late = store.record(&run("node-a", "docker", 1, 0, 10)).unwrap();
    by.entry("a docker late").or_default().push(late);
    by
}

/// Keep-last keeps each host and kind's newest N runs, newest by when their facts were collected
/// (a snapshot recorded late is old), and a dry run before it changes nothing.
fn keep_last_keeps_the_newest_per_host_and_kind(url: &str, count_checks: &dyn Fn() -> i64) {
    let mut store = open(url).unwrap();
    let by = populate(store.as_mut());
    let before = ids(store.as_mut());
    let checks_before = count_checks();
    assert_eq!(checks_before, 2 * 13);
    drop(store);

    let policy = Prune {
        keep_last: Some(2),
        ..Prune::default()
    };
    // The dry run, as a reader opens the store: it counts and deletes nothing.
    let mut reader = open_existing(url).unwrap();
    let dry = reader.prune(&policy, false).unwrap();
    assert!(!dry.applied);
    assert_eq!((dry.runs, dry.delete, dry.keep), (13, 6, 7), "{dry:?}");
    let per: Vec<(&str, &str, usize, usize)> = dry
        .hosts
        .iter()
        .map(|g| (g.host.as_str(), g.kind.as_str(), g.delete, g.keep))
        .collect();
    assert_eq!(
        per,
        [("node-a", "docker", 5, 2), ("node-a", "kubernetes", 1, 2)]
    );
    assert_eq!(ids(reader.as_mut()), before, "the dry run deleted runs");
    assert_eq!(count_checks(), checks_before, "the dry run deleted checks");
    drop(reader);

    let mut pruner = open_for_pruning(url).unwrap();
    let done = pruner.prune(&policy, true).unwrap();
    assert!(done.applied);
    assert_eq!((done.delete, done.hosts), (dry.delete, dry.hosts));
    let after = ids(pruner.as_mut());
    let a = &by["a docker"];
    // Days 6 and 5; the late snapshot (collected day 1, after the first run's ID) and days 1..4
    // are gone.
    assert_eq!(after["node-a docker"], vec![a[5], a[4]]);
    let k = &by["a kubernetes"];
    assert_eq!(after["node-a kubernetes"], vec![k[2], k[1]]);
    assert_eq!(after["node-b docker"].len(), 2);
    assert_eq!(after["node-c docker"], by["c docker"]);
    // Each deleted run's checks went with it; the kept runs' are whole.
    assert_eq!(count_checks(), 2 * 7);
    assert_eq!(pruner.checks(a[5]).unwrap().len(), 2);
    assert!(pruner.document(by["a docker late"][0]).is_err());
    // Pruning again finds nothing more to delete.
    let again = pruner.prune(&policy, true).unwrap();
    assert_eq!((again.delete, again.runs), (0, 7));
}

/// Older-than ages runs by when they were recorded; a host's latest run survives however old,
/// unless include_latest; host and kind narrow it.
fn older_than_spares_the_latest(url: &str, set_recorded: &dyn Fn(i64, &str)) {
    let mut store = open(url).unwrap();
    let by = populate(store.as_mut());
    // node-a docker: days 1..=3 recorded in 2020, the rest now. node-c (gone): its only run in
    // 2020. node-b: both runs in 2020.
    let a = &by["a docker"];
    for id in &a[..3] {
        set_recorded(*id, "2020-06-01T00:00:00Z");
    }
    set_recorded(by["c docker"][0], "2020-06-01T00:00:00Z");
    for id in &by["b docker"] {
        set_recorded(*id, "2020-06-01T00:00:00Z");
    }
    // 2021-01-01T00:00:00Z
    let cutoff = 1_609_459_200;
    let policy = Prune {
        recorded_before: Some(cutoff),
        ..Prune::default()
    };
    drop(store);
    let mut pruner = open_for_pruning(url).unwrap();
    let r = pruner.prune(&policy, true).unwrap();
    assert_eq!(r.delete, 4, "{r:?}");
    let after = ids(pruner.as_mut());
    assert_eq!(
        after["node-a docker"],
        vec![by["a docker late"][0], a[5], a[4], a[3]]
    );
    // node-b keeps its latest (day 2), node-c its only run: both flagged.
    assert_eq!(after["node-b docker"], vec![by["b docker"][1]]);
    assert_eq!(after["node-c docker"], by["c docker"]);
    let flagged: Vec<&str> = r
        .hosts
        .iter()
        .filter(|g| g.latest_kept)
        .map(|g| g.host.as_str())
        .collect();
    assert_eq!(flagged, ["node-b", "node-c"]);
    // Asked explicitly, for the host that is gone: its last run goes too, and no other host's.
    let gone = Prune {
        host: Some("node-c".into()),
        include_latest: true,
        ..policy.clone()
    };
    let r = pruner.prune(&gone, true).unwrap();
    assert_eq!((r.runs, r.delete), (1, 1));
    let after = ids(pruner.as_mut());
    assert!(!after.contains_key("node-c docker"));
    assert_eq!(after["node-b docker"], vec![by["b docker"][1]]);
}

/// Recordings (each on a connection of its own, as separate `bulkhead audit` processes) while
/// another connection prunes over and over, deleting runs each time (and, in SQLite, compacting
/// the file): every recording succeeds and every recorded run is still there. Each recorder's
/// host gets at most `keep` runs, all newer than its old ones, so none of them is ever beyond
/// the newest `keep`; the host `churn` gets a run per round for the prunes to delete.
fn recordings_during_prunes_are_all_kept(url: &str) {
    const RECORDERS: usize = 3;
    const RUNS: u32 = 8;
    let keep = RUNS as usize;
    let mut setup = open(url).unwrap();
    // Old runs of the recorders' hosts, to be pruned while they record.
    for r in 0..RECORDERS {
        for day in 1..=10 {
            setup
                .record(&run(&format!("rec-{r}"), "docker", day, 0, 20_000))
                .unwrap();
        }
    }
    drop(setup);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pruner = {
        let url = url.to_string();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut store = open_for_pruning(&url).unwrap();
            let mut churn = open(&url).unwrap();
            let policy = Prune {
                keep_last: Some(keep),
                ..Prune::default()
            };
            let (mut rounds, mut deleted) = (0, 0);
            while !done.load(std::sync::atomic::Ordering::SeqCst) || rounds < 3 {
                for m in 0..keep as u32 + 2 {
                    churn
                        .record(&run("churn", "docker", 20, rounds * 10 + m, 20_000))
                        .unwrap();
                }
                let r = store.prune(&policy, true).unwrap();
                deleted += r.delete;
                rounds += 1;
            }
            (rounds, deleted)
        })
    };
    let recorders: Vec<_> = (0..RECORDERS)
        .map(|r| {
            let url = url.to_string();
            std::thread::spawn(move || {
                let mut store = open(&url).unwrap();
                (0..RUNS)
                    .map(|m| {
                        let id = store
                            .record(&run(&format!("rec-{r}"), "docker", 25, m, 20_000))
                            .unwrap_or_else(|e| panic!("a recording during a prune failed: {e}"));
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        id
                    })
                    .collect::<Vec<i64>>()
            })
        })
        .collect();
    let recorded: Vec<Vec<i64>> = recorders.into_iter().map(|t| t.join().unwrap()).collect();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (rounds, deleted) = pruner.join().unwrap();
    assert!(
        rounds >= 3 && deleted > 0,
        "{rounds} rounds, {deleted} deleted"
    );
    let mut store = open_for_pruning(url).unwrap();
    let after = ids(store.as_mut());
    for (r, ids) in recorded.iter().enumerate() {
        let mut newest_first = ids.clone();
        newest_first.reverse();
        // The recorder's runs are all there (its old ones may or may not be pruned yet).
        let kept = &after[&format!("rec-{r} docker")];
        assert_eq!(
            &kept[..RUNS as usize],
            &newest_first[..],
            "recorder {r} lost a run"
        );
    }
    // A last prune leaves every host its newest `keep`.
    store
        .prune(
            &Prune {
                keep_last: Some(keep),
                ..Prune::default()
            },
            true,
        )
        .unwrap();
    for (group, ids) in ids(store.as_mut()) {
        assert_eq!(ids.len(), keep, "{group}");
    }
}

// ----------------------------------------------------------------------------------------------
// SQLite

fn sqlite_count(path: &std::path::Path, sql: &str) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

#[test]
fn sqlite_keep_last_keeps_the_newest_runs_per_host_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    keep_last_keeps_the_newest_per_host_and_kind(&url, &|| {
        sqlite_count(&path, "SELECT count(*) FROM checks")
    });
    // No check row is left without its run.
    assert_eq!(
        sqlite_count(
            &path,
            "SELECT count(*) FROM checks WHERE run_id NOT IN (SELECT id FROM runs)"
        ),
        0
    );
}

#[test]
fn sqlite_a_dry_run_leaves_the_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    let mut store = open(&url).unwrap();
    populate(store.as_mut());
    drop(store);
    let bytes = std::fs::read(&path).unwrap();
    let mut reader = open_existing(&url).unwrap();
    let r = reader
        .prune(
            &Prune {
                keep_last: Some(1),
                recorded_before: Some(i64::MAX),
                include_latest: true,
                ..Prune::default()
            },
            false,
        )
        .unwrap();
    // Everything but the newest run of each of the 4 hosts and kinds.
    assert_eq!(r.delete, 9);
    assert!(r.file_size.is_none());
    drop(reader);
    assert!(std::fs::read(&path).unwrap() == bytes, "the file changed");
}

#[test]
fn sqlite_older_than_ages_runs_by_recording_and_spares_the_latest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    older_than_spares_the_latest(&url, &|id, at| {
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute(
                "UPDATE runs SET recorded_at = ?1 WHERE id = ?2",
                rusqlite::params![at, id],
            )
            .unwrap();
    });
}

/// 60 runs of about 120 KB each, pruned to the newest 5: the file shrinks to a fraction, says
/// by how much, and keeps its marks (application ID, schema version). The first prune turns
/// on incremental vacuuming; the next prune shrinks the file without a full rewrite.
#[test]
fn sqlite_pruning_gives_the_space_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    let mut store = open(&url).unwrap();
    for m in 0..60 {
        store
            .record(&run("lab-host", "docker", 1 + m / 30, m % 30, 120_000))
            .unwrap();
    }
    drop(store);
    let header = |name: &str| sqlite_count(&path, &format!("PRAGMA {name}"));
    let marks = (header("application_id"), header("user_version"));
    let size = || std::fs::metadata(&path).unwrap().len();
    let before = size();
    assert!(before > 60 * 120_000, "{before}");
    let mut pruner = open_for_pruning(&url).unwrap();
    let r = pruner
        .prune(
            &Prune {
                keep_last: Some(5),
                ..Prune::default()
            },
            true,
        )
        .unwrap();
    let after = size();
    assert_eq!(r.delete, 55);
    let fs = r.file_size.expect("the file's sizes");
    assert_eq!((fs.before, fs.after), (before, after));
    assert!(after < before / 8, "{before} -> {after}");
    assert_eq!(
        (header("application_id"), header("user_version")),
        marks,
        "VACUUM kept the marks"
    );
    assert_eq!(header("auto_vacuum"), 2, "incremental from now on");
    assert_eq!(ids(pruner.as_mut())["lab-host docker"].len(), 5);
    // The next prune: incremental, and the file shrinks again.
    let r = pruner
        .prune(
            &Prune {
                keep_last: Some(1),
                ..Prune::default()
            },
            true,
        )
        .unwrap();
    assert_eq!(r.delete, 4);
    assert!(size() < after / 3, "{after} -> {}", size());
    assert_eq!(header("freelist_count"), 0);
    // Recording goes on in the compacted file.
    drop(pruner);
    let mut store = open(&url).unwrap();
    store.record(&run("lab-host", "docker", 9, 0, 10)).unwrap();
    assert_eq!(store.runs(&RunFilter::default()).unwrap().len(), 2);
}

#[test]
fn sqlite_recordings_during_prunes_are_all_kept() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("runs.db").display());
    recordings_during_prunes_are_all_kept(&url);
}

/// Pruning never creates a store: a file that does not exist stays so.
#[test]
fn sqlite_pruning_a_missing_file_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.db");
    let err = match open_for_pruning(&format!("sqlite:{}", path.display())) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("opened a file that does not exist"),
    };
    assert!(err.contains("does not exist"), "{err}");
    assert!(!path.exists());
}

// ----------------------------------------------------------------------------------------------
// PostgreSQL

fn pg_url(pg: &TestPostgres, user: &str) -> String {
    format!("postgres:{}", pg.conninfo(user, "postgres"))
}

fn pg_admin(pg: &TestPostgres, sql: &str) {
    let mut c =
        postgres::Client::connect(&pg.conninfo("bulkhead", "postgres"), postgres::NoTls).unwrap();
    c.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn pg_count(pg: &TestPostgres, sql: &str) -> i64 {
    let mut c =
        postgres::Client::connect(&pg.conninfo("bulkhead", "postgres"), postgres::NoTls).unwrap();
    c.query_one(sql, &[]).unwrap().get(0)
}

#[test]
fn postgres_keep_last_keeps_the_newest_runs_per_host_and_kind() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    keep_last_keeps_the_newest_per_host_and_kind(&pg_url(&pg, "bulkhead"), &|| {
        pg_count(&pg, "SELECT count(*) FROM bulkhead_checks")
    });
}

#[test]
fn postgres_older_than_ages_runs_by_recording_and_spares_the_latest() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    older_than_spares_the_latest(&pg_url(&pg, "bulkhead"), &|id, at| {
        pg_admin(
            &pg,
            &format!("UPDATE bulkhead_runs SET recorded_at = '{at}' WHERE id = {id}"),
        )
    });
}

#[test]
fn postgres_recordings_during_prunes_are_all_kept() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    recordings_during_prunes_are_all_kept(&pg_url(&pg, "bulkhead"));
}

/// A role that may read but not delete: its dry run works and says what --apply would lack;
/// --apply is refused with the grant it needs, and deletes nothing. Given DELETE (and no more:
/// no CREATE, no ownership), it prunes.
#[test]
fn postgres_pruning_needs_delete_and_says_so() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let mut owner = open(&pg_url(&pg, "bulkhead")).unwrap();
    for day in 1..=4 {
        owner.record(&run("node-a", "docker", day, 0, 10)).unwrap();
    }
    drop(owner);
    pg_admin(
        &pg,
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;
         CREATE ROLE reader LOGIN;
         GRANT SELECT ON bulkhead_runs, bulkhead_checks TO reader;
         CREATE ROLE janitor LOGIN;
         GRANT SELECT, DELETE ON bulkhead_runs, bulkhead_checks TO janitor;",
    );
    let policy = Prune {
        keep_last: Some(1),
        ..Prune::default()
    };
    let mut reader = open_existing(&pg_url(&pg, "reader")).unwrap();
    let dry = reader.prune(&policy, false).unwrap();
    assert_eq!(dry.delete, 3);
    assert!(
        dry.notes.iter().any(|n| n.contains(
            "GRANT SELECT, DELETE ON bulkhead_runs, bulkhead_checks TO reader"
        )),
        "{dry:?}"
    );
    let mut reader = open_for_pruning(&pg_url(&pg, "reader")).unwrap();
    let err = reader.prune(&policy, true).unwrap_err().to_string();
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains("DELETE privilege"), "{err}");
    assert!(
        err.contains("GRANT SELECT, DELETE ON bulkhead_runs, bulkhead_checks TO reader"),
        "{err}"
    );
    assert!(err.contains("Nothing was deleted"), "{err}");
    assert_eq!(pg_count(&pg, "SELECT count(*) FROM bulkhead_runs"), 4);
    assert_eq!(pg_count(&pg, "SELECT count(*) FROM bulkhead_checks"), 8);

    let mut janitor = open_for_pruning(&pg_url(&pg, "janitor")).unwrap();
    let dry = janitor.prune(&policy, false).unwrap();
    assert!(dry.notes.is_empty(), "{dry:?}");
    let done = janitor.prune(&policy, true).unwrap();
    assert_eq!(done.delete, 3);
    assert!(done.file_size.is_none());
    assert!(done.notes.iter().any(|n| n.contains("(auto)vacuum")));
    assert_eq!(pg_count(&pg, "SELECT count(*) FROM bulkhead_runs"), 1);
    assert_eq!(pg_count(&pg, "SELECT count(*) FROM bulkhead_checks"), 2);
}

// ----------------------------------------------------------------------------------------------
// SQLite: pruning a large history while audits record into it

/// Record `count` runs of about 120 KB (an audit document's size) for `lab-host` into `url`.
fn record_big_runs(url: &str, count: u32) {
    let mut store = open(url).unwrap();
    for m in 0..count {
        store
            .record(&run("lab-host", "docker", 1 + m / 1000, m % 1000, 120_000))
            .unwrap();
    }
}

/// Turn `path` into a history as bulkhead created them before its histories used incremental
/// vacuuming (auto_vacuum NONE, which only a VACUUM can change).
fn without_incremental_vacuum(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("PRAGMA auto_vacuum = NONE; VACUUM")
        .unwrap();
    let mode: i64 = conn
        .pragma_query_value(None, "auto_vacuum", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, 0);
}

/// How long a full rewrite (VACUUM, what a prune ran on a history without incremental
/// vacuuming) of what `path` keeps after deleting `delete` of its oldest runs takes on this
/// machine, measured on a copy: the time a recording waited for the lock behind it.
fn rewrite_time(path: &std::path::Path, delete: usize) -> std::time::Duration {
    let copy = path.with_extension("copy.db");
    std::fs::copy(path, &copy).unwrap();
    let conn = rusqlite::Connection::open(&copy).unwrap();
    conn.execute_batch(&format!(
        "DELETE FROM checks WHERE run_id IN (SELECT id FROM runs ORDER BY id LIMIT {delete});
         DELETE FROM runs WHERE id IN (SELECT id FROM runs ORDER BY id LIMIT {delete});"
    ))
    .unwrap();
    let started = std::time::Instant::now();
    conn.execute_batch("VACUUM").unwrap();
    let took = started.elapsed();
    drop(conn);
    std::fs::remove_file(&copy).unwrap();
    took
}

/// Prune `url` to its newest `keep` runs while another connection (a `bulkhead audit --store`)
/// records a run of about 120 KB over and over. Returns the prune's report and the longest any
/// recording took; every recording must succeed and be kept.
fn prune_while_recording(
    url: &str,
    keep: usize,
) -> (bulkhead_store::PruneReport, std::time::Duration) {
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let started = std::sync::Arc::new(std::sync::Barrier::new(2));
    let recorder = {
        let (url, done, started) = (url.to_string(), done.clone(), started.clone());
        std::thread::spawn(move || {
            let mut store = open(&url).unwrap();
            let (mut ids, mut longest) = (Vec::new(), std::time::Duration::ZERO);
            started.wait();
            let mut m = 0;
            // Past the prune's end too: a step of it may still be under way.
            while !done.load(std::sync::atomic::Ordering::SeqCst) || m < 5 {
                let t = std::time::Instant::now();
                let id = store
                    .record(&run("rec", "docker", 28, m, 120_000))
                    .unwrap_or_else(|e| panic!("a recording during the prune failed: {e}"));
                longest = longest.max(t.elapsed());
                ids.push(id);
                m += 1;
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            (ids, longest)
        })
    };
    let mut pruner = open_for_pruning(url).unwrap();
    started.wait();
    // Let the recorder get going.
    std::thread::sleep(std::time::Duration::from_millis(50));
    let report = pruner
        .prune(
            &Prune {
                host: Some("lab-host".into()),
                keep_last: Some(keep),
                ..Prune::default()
            },
            true,
        )
        .unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (recorded, longest) = recorder.join().unwrap();
    let after = ids(pruner.as_mut());
    let mut newest_first = recorded.clone();
    newest_first.reverse();
    assert_eq!(after["rec docker"], newest_first, "a recording was lost");
    assert_eq!(after["lab-host docker"].len(), keep);
    (report, longest)
}

/// A new history uses incremental vacuuming from its first run, so pruning it never rewrites
/// the file: the deletion is one transaction and the space goes back in short steps, between
/// which waiting recordings go first. A prune of 30 of 600 runs of 120 KB used to VACUUM the
/// 68 MB kept while holding the write lock, and a recording waited for all of it (on a history
/// large enough, or a disk slow enough, longer than its minute, and its run was lost); now no
/// recording waits for half of that, and the file still shrinks.
#[test]
fn sqlite_a_large_prune_holds_recordings_up_only_briefly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    record_big_runs(&url, 600);
    assert_eq!(
        sqlite_count(&path, "PRAGMA auto_vacuum"),
        2,
        "a new history is created with incremental vacuuming"
    );
    let rewrite = rewrite_time(&path, 30);
    let (report, longest) = prune_while_recording(&url, 570);
    eprintln!("a rewrite takes {rewrite:?}; the longest recording took {longest:?}");
    assert_eq!(report.delete, 30);
    assert!(report.notes.is_empty(), "{:?}", report.notes);
    let fs = report.file_size.unwrap();
    // 30 runs of 120 KB handed back, less the recorder's runs written meanwhile.
    assert!(fs.after < fs.before - 1_500_000, "{fs:?}");
    assert_eq!(sqlite_count(&path, "PRAGMA freelist_count"), 0);
    assert!(
        longest < rewrite / 2,
        "a recording waited {longest:?}; rewriting the file takes {rewrite:?}"
    );
}

/// A large history created by an earlier bulkhead, without incremental vacuuming: turning it
/// on takes a VACUUM, a rewrite of all that is kept under the write lock, so the prune leaves
/// the file at its size, says so and how to compact it at a quiet time; recordings meanwhile
/// are held up only by the deletion. Its free pages are reused by the next runs.
#[test]
fn sqlite_a_large_history_without_incremental_vacuuming_is_not_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    record_big_runs(&url, 600);
    without_incremental_vacuum(&path);
    let rewrite = rewrite_time(&path, 30);
    let (report, longest) = prune_while_recording(&url, 570);
    eprintln!("a rewrite takes {rewrite:?}; the longest recording took {longest:?}");
    assert_eq!(report.delete, 30);
    let fs = report.file_size.unwrap();
    assert!(fs.after >= fs.before, "{fs:?}");
    assert_eq!(sqlite_count(&path, "PRAGMA auto_vacuum"), 0, "rewritten");
    let note = report.notes.join("\n");
    assert!(note.contains("keeps its size"), "{note}");
    assert!(
        note.contains(&format!(
            "sqlite3 {} 'PRAGMA auto_vacuum = INCREMENTAL; VACUUM'",
            path.display()
        )),
        "{note}"
    );
    assert!(
        longest < rewrite / 2,
        "a recording waited {longest:?}; rewriting the file takes {rewrite:?}"
    );
    // The space is reused: recording as much as was deleted again barely grows the file.
    let size = std::fs::metadata(&path).unwrap().len();
    record_big_runs(&url, 20);
    assert!(
        std::fs::metadata(&path).unwrap().len() < size + 1_000_000,
        "the free pages were not reused"
    );
}

/// A small history created without incremental vacuuming is rewritten once (a second or less
/// under the lock) and prunes incrementally from then on; its marks survive.
#[test]
fn sqlite_a_small_history_without_incremental_vacuuming_is_rewritten_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.db");
    let url = format!("sqlite:{}", path.display());
    record_big_runs(&url, 40);
    without_incremental_vacuum(&path);
    let marks = (
        sqlite_count(&path, "PRAGMA application_id"),
        sqlite_count(&path, "PRAGMA user_version"),
    );
    let mut pruner = open_for_pruning(&url).unwrap();
    let r = pruner
        .prune(
            &Prune {
                keep_last: Some(5),
                ..Prune::default()
            },
            true,
        )
        .unwrap();
    assert_eq!(r.delete, 35);
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    let fs = r.file_size.unwrap();
    assert!(fs.after < fs.before / 5, "{fs:?}");
    assert_eq!(sqlite_count(&path, "PRAGMA auto_vacuum"), 2);
    assert_eq!(
        (
            sqlite_count(&path, "PRAGMA application_id"),
            sqlite_count(&path, "PRAGMA user_version"),
        ),
        marks
    );
}
