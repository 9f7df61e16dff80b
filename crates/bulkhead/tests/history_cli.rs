//! `bulkhead history` through the real binary: what a user sees when the store it names cannot
//! be used. The store itself is tested against real SQLite and PostgreSQL in bulkhead-store.

use bulkhead_testkit::{TempDir, TestPostgres};
use serde_json::json;
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

/// `bulkhead audit docker` of one check (5.13) of `snapshot`, recorded into `store`.
fn record_5_13<'a>(snapshot: &'a str, store: &'a str) -> [&'a str; 10] {
    [
        "audit",
        "docker",
        "--snapshot",
        snapshot,
        "--only",
        "5.13",
        "--fail-on",
        "never",
        "--store",
        store,
    ]
}

fn bulkhead(args: &[&str]) -> (String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(args)
        .env_remove("BULKHEAD_STORE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{args:?}: {stderr}");
    (stdout, stderr)
}

/// The golden lab a while later: `hostile` was recreated with a read-only root file system (a
/// new ID), `hardened` lost its own, `labelled` was removed, `newcomer` (a copy of `plain`)
/// started, and dockerd was restarted (a new pid) without `--iptables=false`.
fn remediated_snapshot(dir: &TempDir) -> String {
    let mut snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden_snapshot()).unwrap()).unwrap();
    let containers = snap
        .pointer_mut("/docker/containers/value")
        .and_then(|v| v.as_array_mut())
        .unwrap();
    let name = |c: &serde_json::Value| c["inspect"]["Name"].as_str().unwrap().to_string();
    let mut newcomer = containers
        .iter()
        .find(|c| name(c) == "/plain")
        .unwrap()
        .clone();
    newcomer["inspect"]["Name"] = "/newcomer".into();
    newcomer["inspect"]["Id"] = "0a".repeat(32).into();
    containers.retain(|c| name(c) != "/labelled");
    for c in containers.iter_mut() {
        match name(c).as_str() {
            "/hostile" => {
                c["inspect"]["HostConfig"]["ReadonlyRootfs"] = true.into();
                c["inspect"]["Id"] = "0c".repeat(32).into();
            }
            "/hardened" => c["inspect"]["HostConfig"]["ReadonlyRootfs"] = false.into(),
            _ => {}
        }
    }
    containers.push(newcomer);
    let daemon = &mut snap["docker"]["daemon"];
    daemon["process"]["value"]["pid"] = 2000.into();
    daemon["process"]["value"]["argv"]
        .as_array_mut()
        .unwrap()
        .retain(|a| a != "--iptables=false");
    daemon["flags"]["occurrences"]
        .as_array_mut()
        .unwrap()
        .retain(|o| o["name"] != "iptables");
    let path = dir.arg("remediated.json");
    std::fs::write(&path, serde_json::to_string(&snap).unwrap()).unwrap();
    path
}

/// Two real audits whose check statuses barely move while their objects do: `--diff` lists
/// each object that changed status, appeared or disappeared under its check, also where the
/// check itself kept its status, in text and JSON; a restarted daemon is the same object; a
/// third run like the second shows that nothing changed.
fn object_changes_show_in_the_diff(store: &str, dir: &TempDir) {
    let golden = golden_snapshot();
    let remediated = remediated_snapshot(dir);
    // 2.3 (log level) has the daemon as its object too, unchanged but for its pid.
    let only = [
        "--only",
        "5.13,2.4,2.3",
        "--fail-on",
        "never",
        "--store",
        store,
    ];
    for snap in [&golden, &remediated] {
        let mut args = vec!["audit", "docker", "--snapshot", snap];
        args.extend(only);
        bulkhead(&args);
    }

    let (text, _) = bulkhead(&["history", "--store", store, "--diff"]);
    let lines: Vec<&str> = text.lines().collect();
    let block = |check: &str| -> Vec<&str> {
        let at = lines
            .iter()
            .position(|l| l.split_whitespace().next() == Some(check))
            .unwrap_or_else(|| panic!("no {check} line\n{text}"));
        let end = lines[at + 1..]
            .iter()
            .position(|l| !l.starts_with("      "))
            .map_or(lines.len(), |n| at + 1 + n);
        lines[at..end].iter().map(|l| l.trim()).collect()
    };
    assert_eq!(
        block("5.13"),
        [
            "5.13     fail -> fail  docker.container.read_only_rootfs",
            "container hardened: pass -> fail",
            "container hostile: fail -> pass (id 020202020202 -> 0c0c0c0c0c0c)",
            "container newcomer: absent -> fail",
            "container labelled: fail -> absent",
        ],
        "{text}"
    );
    assert_eq!(
        block("2.4"),
        [
            "2.4      fail -> pass  docker.daemon.iptables_allowed",
            "daemon dockerd (pid 2000): fail -> pass",
        ],
        "{text}"
    );
    assert!(
        !text.contains("2.3 "),
        "the restart alone is no change\n{text}"
    );
    assert!(!text.contains("no check"), "{text}");

    let (json, _) = bulkhead(&["history", "--store", store, "--diff", "--format", "json"]);
    let changes: serde_json::Value = serde_json::from_str(&json).unwrap();
    let changes = changes.as_array().unwrap();
    assert_eq!(changes.len(), 2, "{json}");
    let change = |check: &str| {
        changes
            .iter()
            .find(|c| c["check"] == check)
            .unwrap_or_else(|| panic!("no {check}\n{json}"))
    };
    let objects = |check: &str| -> Vec<(String, String, String, String)> {
        change(check)["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| {
                let s = |k: &str| {
                    o[k].as_str()
                        .unwrap_or_else(|| panic!("{k}: {o}"))
                        .to_string()
                };
                (s("kind"), s("name"), s("before"), s("after"))
            })
            .collect()
    };
    let c = change("5.13");
    for (key, value) in [
        ("host", json!("lab-host")),
        ("kind", json!("docker")),
        ("control", json!("docker.container.read_only_rootfs")),
        ("before", json!("fail")),
        ("after", json!("fail")),
        ("before_run", json!(1)),
        ("after_run", json!(2)),
    ] {
        assert_eq!(c[key], value, "{key}: {c}");
    }
    let t = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    assert_eq!(
        objects("5.13"),
        [
            t("container", "hardened", "pass", "fail"),
            t("container", "hostile", "fail", "pass"),
            t("container", "newcomer", "absent", "fail"),
            t("container", "labelled", "fail", "absent"),
        ]
    );
    assert_eq!(change("2.4")["before"], "fail");
    assert_eq!(change("2.4")["after"], "pass");
    assert_eq!(
        objects("2.4"),
        [t("daemon", "dockerd (pid 2000)", "fail", "pass")]
    );

    // A third run of the same host: compared with the second, nothing changed.
    let mut args = vec!["audit", "docker", "--snapshot", &remediated];
    args.extend(only);
    bulkhead(&args);
    let (text, _) = bulkhead(&["history", "--store", store, "--diff"]);
    assert!(
        text.contains("run 2 (") && text.contains("-> run 3 ("),
        "{text}"
    );
    assert!(text.contains("no check or object changed status"), "{text}");
    let (json, _) = bulkhead(&["history", "--store", store, "--diff", "--format", "json"]);
    assert_eq!(json.trim(), "[]");
}

#[test]
fn history_diff_lists_object_changes_in_sqlite() {
    let dir = TempDir::new("history-objects");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    object_changes_show_in_the_diff(&store, &dir);
}

#[test]
fn history_diff_lists_object_changes_in_postgres() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let dir = TempDir::new("history-objects-pg");
    let store = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    object_changes_show_in_the_diff(&store, &dir);
}

/// A snapshot collected earlier but recorded later (an old node's snapshot uploaded after a
/// fresh live audit) is the older state of the host: --diff compares the runs in the order their
/// facts were collected, not the order they were recorded, so a fix is not shown as undone.
#[test]
fn history_diff_orders_runs_by_when_their_facts_were_collected() {
    let dir = TempDir::new("history-collected-order");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    let remediated = remediated_snapshot(&dir);
    let mut later: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&remediated).unwrap()).unwrap();
    later["collected_at"] = "2026-02-01T00:00:00Z".into();
    std::fs::write(&remediated, serde_json::to_string(&later).unwrap()).unwrap();
    // The later state first, then the earlier one (collected 2026-01-01).
    for snap in [remediated.as_str(), golden_snapshot().as_str()] {
        bulkhead(&record_5_13(snap, &store));
    }
    let (text, _) = bulkhead(&["history", "--store", &store, "--diff"]);
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("run 2 (2026-01-01T00:00:00Z) -> run 1 (2026-02-01T00:00:00Z)"),
        "{text}"
    );
    // hostile was made read-only in the later state: fixed, not broken.
    assert!(
        text.lines()
            .any(|l| l.trim().starts_with("container hostile: fail -> pass")),
        "{text}"
    );
}

/// A store URL whose scheme bulkhead does not know (a mistyped `postgres`, another database) or
/// that carries stray blanks (as a value pasted into a Secret often does): neither audit nor
/// history takes it for a relative file name, which would record the run into the working
/// directory under directories named after the URL and its password, say "recorded" and exit
/// 0 while the fleet database never sees the run. Both exit 2 without showing the password, and
/// nothing is created.
#[test]
fn a_store_url_bulkhead_does_not_know_is_refused_without_its_password() {
    let dir = TempDir::new("history-unknown-scheme");
    let snapshot = golden_snapshot();
    for url in [
        "postgress://app:hunter2@db.example/fleet",
        "pg:host=db.example user=app password=hunter2",
        "mysql://app:hunter2@db.example/fleet",
        " postgres://app:hunter2@127.0.0.1:1/fleet",
    ] {
        let audit = [
            "audit",
            "docker",
            "--snapshot",
            &snapshot,
            "--fail-on",
            "never",
            "--format",
            "json",
            "--store",
            url,
        ];
        let history = ["history", "--store", url];
        for args in [&audit[..], &history[..]] {
            let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
                .args(args)
                .current_dir(&dir.0)
                .env_remove("BULKHEAD_STORE")
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(!err.contains("hunter2"), "{args:?}: {err}");
            assert!(!err.contains("recorded"), "{args:?}: {err}");
        }
    }
    let created: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(created.is_empty(), "created {created:?}");
}

/// The golden Docker lab on a host that is also a Kubernetes node: one audit, two runs.
fn docker_and_kubernetes_snapshot(dir: &TempDir) -> String {
    let read = |path: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let mut snap = read(&golden_snapshot());
    let kube = read(&format!(
        "{}/../bulkhead-threats/tests/fixtures/k8s-insecure.snapshot.json",
        env!("CARGO_MANIFEST_DIR")
    ));
    snap["kubernetes"] = kube["kubernetes"].clone();
    let path = dir.arg("docker-and-kubernetes.json");
    std::fs::write(&path, serde_json::to_string(&snap).unwrap()).unwrap();
    path
}

/// An audit of both benchmarks records two runs. When the second cannot be written (here the
/// server refuses it, as a full disk or a dropped connection would), the audit exits 2 and must
/// have recorded neither: a Docker run kept behind that error is recorded again when the audit
/// is retried, and `history --diff` then compares the retry with its own duplicate.
#[test]
fn an_audit_whose_second_run_cannot_be_written_records_neither() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let dir = TempDir::new("history-atomic");
    let store = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    bulkhead(&[
        "audit",
        "docker",
        "--snapshot",
        &golden_snapshot(),
        "--fail-on",
        "never",
        "--store",
        &store,
    ]);
    pg.psql("CREATE FUNCTION refuse_kubernetes() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.kind = 'kubernetes' THEN RAISE EXCEPTION 'no space left on device (simulated)'; END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER refuse_kubernetes BEFORE INSERT ON bulkhead_runs
             FOR EACH ROW EXECUTE FUNCTION refuse_kubernetes();");
    let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["audit", "--snapshot", &docker_and_kubernetes_snapshot(&dir)])
        .args(["--fail-on", "never", "--format", "json", "--store", &store])
        .env_remove("BULKHEAD_STORE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no space left on device (simulated)"), "{err}");
    assert!(!err.contains("recorded docker run"), "{err}");
    let (json, _) = bulkhead(&["history", "--store", &store, "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_str(&json).unwrap();
    let ids: Vec<&serde_json::Value> = runs.as_array().unwrap().iter().map(|r| &r["id"]).collect();
    assert_eq!(
        ids,
        [&json!(1)],
        "only the first audit's run is kept\n{json}"
    );
}

/// `audit --store` and `history` of a store whose marked schema version is newer than this
/// bulkhead's: both exit 2 naming the store (without its password) and saying to upgrade, and
/// nothing is recorded. `mark_newer` marks the store as a newer bulkhead would have;
/// `runs_recorded` counts its runs without bulkhead.
fn a_newer_history_is_refused(
    store: &str,
    named: &str,
    mark_newer: impl Fn(i64),
    runs_recorded: impl Fn() -> i64,
) {
    let snapshot = golden_snapshot();
    let audit = record_5_13(&snapshot, store);
    bulkhead(&audit);
    let newer = bulkhead_store::SCHEMA_VERSION + 1;
    mark_newer(newer);
    for args in [&audit[..], &["history", "--store", store][..]] {
        let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
            .args(args)
            .env_remove("BULKHEAD_STORE")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: {err}");
        assert!(
            err.contains(&format!("schema version {newer}")),
            "{args:?}: {err}"
        );
        assert!(err.contains("upgrade bulkhead"), "{args:?}: {err}");
        assert!(!err.contains("hunter2"), "{args:?}: {err}");
        assert!(!err.contains("recorded docker run"), "{args:?}: {err}");
    }
    assert_eq!(runs_recorded(), 1, "the refused audit recorded its run");
}

#[test]
fn a_history_of_a_newer_schema_is_refused_by_audit_and_history_in_sqlite() {
    let dir = TempDir::new("history-newer-sqlite");
    let path = dir.0.join("runs.db");
    let store = format!("sqlite:{}", path.display());
    let recorded = std::cell::RefCell::new(Vec::new());
    a_newer_history_is_refused(
        &store,
        &format!("SQLite store {}", path.display()),
        |version| {
            // The header's user_version (offset 60, big-endian), as `PRAGMA user_version` writes
            // it; this crate does not link SQLite itself.
            let mut file = std::fs::read(&path).unwrap();
            file[60..64].copy_from_slice(&u32::try_from(version).unwrap().to_be_bytes());
            std::fs::write(&path, &file).unwrap();
            *recorded.borrow_mut() = file;
        },
        // Unchanged since it was marked: still the one run recorded before.
        || i64::from(std::fs::read(&path).unwrap() == *recorded.borrow()),
    );
}

#[test]
fn a_history_of_a_newer_schema_is_refused_by_audit_and_history_in_postgres() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let store = format!(
        "postgres:{} password=hunter2",
        pg.conninfo("bulkhead", "postgres")
    );
    a_newer_history_is_refused(
        &store,
        &format!(
            "PostgreSQL store host={} port=5999 user=bulkhead password=*** dbname=postgres",
            pg.socket_dir().display()
        ),
        |version| {
            pg.psql(&format!("UPDATE bulkhead_schema SET version = {version}"));
        },
        || {
            pg.psql("SELECT count(*) FROM bulkhead_runs")
                .parse()
                .unwrap()
        },
    );
}

/// The owner of a history in a directory it may not write to (here `nobody`, owning the file in
/// a directory of root's; not root, the directory's write permission is taken away): SQLite
/// cannot create the journal it keeps next to the file, and refuses the write as a read-only
/// database. The audit exits 2 saying that the directory must be writable, not telling the owner
/// to record as the owner; `history` still reads it.
#[test]
fn recording_into_a_directory_that_may_not_be_written_says_the_directory_must_be_writable() {
    let dir = TempDir::new("history-unwritable-dir");
    let history_dir = dir.0.join("history");
    std::fs::create_dir(&history_dir).unwrap();
    let path = history_dir.join("runs.db");
    let store = format!("sqlite:{}", path.display());
    let snapshot = golden_snapshot();
    let audit = record_5_13(&snapshot, &store);
    bulkhead(&audit);
    let root = unsafe { libc::geteuid() } == 0;
    let as_owner = |args: &[&str]| -> Output {
        let mut cmd = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "nobody", "--", env!("CARGO_BIN_EXE_bulkhead")]);
            c
        } else {
            Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        };
        cmd.args(args)
            .env_remove("BULKHEAD_STORE")
            .output()
            .unwrap()
    };
    let chmod = |mode: &str| {
        let ok = Command::new("chmod")
            .arg(mode)
            .arg(&history_dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chmod {mode} {}", history_dir.display());
    };
    if root {
        let ok = Command::new("chown")
            .args(["nobody"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown nobody {}", path.display());
    } else {
        chmod("0555");
    }
    let recorded = as_owner(&audit);
    let read = as_owner(&["history", "--store", &store]);
    if !root {
        chmod("0755");
    }
    let err = String::from_utf8_lossy(&recorded.stderr);
    assert_eq!(recorded.status.code(), Some(2), "{err}");
    // Found when the store is opened, before the audit ran: no report was printed.
    assert!(recorded.stdout.is_empty(), "the audit ran first: {err}");
    assert!(
        err.contains(&format!("cannot create it in {}", history_dir.display())),
        "{err}"
    );
    assert!(err.contains("journal"), "{err}");
    assert!(err.contains("directory must be writable"), "{err}");
    assert!(!err.contains("record as its owner"), "{err}");
    assert_eq!(
        read.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    assert!(
        String::from_utf8_lossy(&read.stdout).contains("lab-host"),
        "reading needs no journal"
    );

    // A user who may not write the file either, in a directory that is writable for the file's
    // owner (root's file, or one made read-only, in a writable directory): that is still a
    // user who should record as the owner.
    if root {
        let ok = Command::new("chown")
            .args(["root"])
            .arg(&path)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "chown root {}", path.display());
        chmod("0777");
    } else {
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o444))
            .unwrap();
    }
    let recorded = as_owner(&audit);
    chmod("0755");
    let err = String::from_utf8_lossy(&recorded.stderr);
    assert_eq!(recorded.status.code(), Some(2), "{err}");
    assert!(err.contains("record as its owner"), "{err}");
    assert!(!err.contains("journal"), "{err}");
}

/// Run bulkhead with `args` and the environment changes `env` (None removes the variable);
/// BULKHEAD_STORE and libpq's password variables start unset, and HOME is `home` (so no
/// ~/.pgpass of the machine is read).
fn bulkhead_env(args: &[&str], env: &[(&str, Option<&str>)], home: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bulkhead"));
    cmd.args(args)
        .env_remove("BULKHEAD_STORE")
        .env_remove("PGPASSWORD")
        .env_remove("PGPASSFILE")
        .env("HOME", home);
    for (k, v) in env {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    cmd.output().unwrap()
}

/// A private server whose role `bulkhead` must give the password `hunter2` (SCRAM) on its socket,
/// as a fleet's database does. Returns it with the store's connection string, which carries no
/// password.
fn postgres_with_password(home: &str) -> Option<(TestPostgres, String)> {
    let pg = TestPostgres::start()?;
    pg.psql("ALTER ROLE bulkhead PASSWORD 'hunter2'");
    let data = pg.socket_dir().join("data");
    std::fs::write(data.join("pg_hba.conf"), "local all all scram-sha-256\n").unwrap();
    pg.run(&["pg_ctl", "-D", data.to_str().unwrap(), "reload"]);
    let store = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    // The reload is taken in the background: wait until a password is asked for.
    for _ in 0..100 {
        let o = bulkhead_env(&["history", "--store", &store], &[], home);
        if String::from_utf8_lossy(&o.stderr).contains("password missing") {
            return Some((pg, store));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server never asked for a password");
}

/// A fleet keeps the database password out of the store URL (which shows in `ps`, in shell
/// history and in a DaemonSet's spec) by giving it as every libpq client takes it: PGPASSWORD or
/// a password file (~/.pgpass, PGPASSFILE). bulkhead ignored both and failed with "password
/// missing (is the server running and listening there?)". Now both are used; without a
/// password the message says where to put one; a wrong one is refused as the server says; and
/// no password shows in any output.
#[test]
fn a_password_from_pgpassword_or_the_password_file_is_used_and_never_shown() {
    let dir = TempDir::new("history-pgpass");
    let home = dir.arg("home");
    std::fs::create_dir_all(&home).unwrap();
    let Some((pg, store)) = postgres_with_password(&home) else {
        return;
    };
    let mut outputs = Vec::new();
    let snapshot = golden_snapshot();
    let o = bulkhead_env(
        &record_5_13(&snapshot, &store),
        &[("PGPASSWORD", Some("hunter2"))],
        &home,
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains("recorded docker run 1 for lab-host"), "{err}");
    outputs.push(o);

    // The password file, as libpq reads it (only when its owner alone may read it; a socket
    // outside the default directory is matched by its path).
    let passfile = dir.arg("pgpass");
    let line = format!(
        "{}:5999:postgres:bulkhead:hunter2\n",
        pg.socket_dir().display()
    );
    std::fs::write(&passfile, line).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&passfile, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = bulkhead_env(
        &["history", "--store", &store],
        &[("PGPASSFILE", Some(&passfile))],
        &home,
    );
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("lab-host"), "{out}");
    outputs.push(o);

    // No password anywhere: the message says where one goes.
    let o = bulkhead_env(&["history", "--store", &store], &[], &home);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("asks for a password"), "{err}");
    assert!(err.contains("PGPASSWORD"), "{err}");
    assert!(err.contains(".pgpass"), "{err}");
    assert!(!err.contains("is the server running"), "{err}");
    outputs.push(o);

    // A wrong one: the server's word, and the wrong password is not shown either.
    let o = bulkhead_env(
        &["history", "--store", &store],
        &[("PGPASSWORD", Some("hunter3"))],
        &home,
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("password authentication failed"), "{err}");
    assert!(!err.contains("hunter3"), "{err}");
    outputs.push(o);

    for o in &outputs {
        for stream in [&o.stdout, &o.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.contains("hunter2"), "{text}");
        }
    }
}

/// `--help` shows the value of an option's environment variable, and BULKHEAD_STORE is where a
/// fleet puts its database URL, password and all: the help names the variable, never its value.
#[test]
fn help_never_shows_the_store_password_from_the_environment() {
    for args in [
        &["history", "--help"][..],
        &["history", "-h"],
        &["audit", "--help"],
        &["audit", "-h"],
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
            .args(args)
            .env("BULKHEAD_STORE", "postgres://app:hunter2@db/fleet")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("BULKHEAD_STORE"), "{args:?}: {out}");
        assert!(!out.contains("hunter2"), "{args:?}: {out}");
    }
}

/// The host name of a recorded run is the audited host's (or a snapshot's) word: the line that
/// says the run was recorded writes characters that would act on a terminal as escapes, as
/// every other output does, and so does the listing.
#[test]
fn a_hostile_host_name_is_escaped_when_its_run_is_recorded_and_listed() {
    let dir = TempDir::new("history-hostile");
    let mut snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden_snapshot()).unwrap()).unwrap();
    snap["host"]["hostname"]["value"] = "evil\u{1b}]0;owned\u{7}\u{1b}[2Jhost".into();
    let snapshot = dir.arg("hostile.json");
    std::fs::write(&snapshot, serde_json::to_string(&snap).unwrap()).unwrap();
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    let (_, err) = bulkhead(&record_5_13(&snapshot, &store));
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(
        err.contains(r"recorded docker run 1 for evil\u001b]0;owned\u0007\u001b[2Jhost"),
        "{err}"
    );
    let (out, _) = bulkhead(&["history", "--store", &store]);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains(r"evil\u001b]0;owned"), "{out}");
}

/// A --host (or --kind) that matches none of the runs of a store that holds runs, a mistyped
/// host name: the listing and --diff say so, rather than "no runs recorded" about a history
/// that has them. An empty list is still no error (exit 0), and JSON is still [].
#[test]
fn a_filter_that_matches_no_run_says_so() {
    let dir = TempDir::new("history-nomatch");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    let snapshot = golden_snapshot();
    bulkhead(&record_5_13(&snapshot, &store));
    for extra in [&[][..], &["--diff"]] {
        let mut args = vec!["history", "--store", &store, "--host", "lab-hots"];
        args.extend_from_slice(extra);
        let (out, _) = bulkhead(&args);
        assert_eq!(
            out,
            "no runs of host lab-hots recorded; the store holds runs of others (`bulkhead history` without --host and --kind lists them; a host is named as its runs show it)\n",
            "{args:?}"
        );
        args.extend_from_slice(&["--format", "json"]);
        let (out, _) = bulkhead(&args);
        assert_eq!(out, "[]\n", "{args:?}");
    }
    let (out, _) = bulkhead(&["history", "--store", &store, "--kind", "kubernetes"]);
    assert!(
        out.starts_with("no runs of kind kubernetes recorded"),
        "{out}"
    );
    let (out, _) = bulkhead(&["history", "--store", &store, "--host", "lab-host"]);
    assert!(out.contains("lab-host"), "{out}");
}

/// BULKHEAD_STORE set to nothing (a variable declared for a value that never came): `history`
/// said "no run history at : the file does not exist". It now says that the store is empty and
/// what to do.
#[test]
fn an_empty_store_is_named_as_such() {
    let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(["history"])
        .env("BULKHEAD_STORE", "")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("is set to nothing"), "{err}");
    assert!(err.contains("sqlite:PATH"), "{err}");
}

/// `history --prune` through the binary on an SQLite file: the dry run lists per host and kind
/// what would go and deletes nothing; --apply deletes it, says how much of the file it freed,
/// and --diff still compares the two runs kept.
#[test]
fn prune_is_a_dry_run_until_applied_and_keeps_the_newest_runs() {
    let dir = TempDir::new("history-prune");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    let snapshot = golden_snapshot();
    for _ in 0..4 {
        bulkhead(&record_5_13(&snapshot, &store));
    }
    let file = dir.0.join("runs.db");
    let bytes = std::fs::read(&file).unwrap();
    let (out, _) = bulkhead(&["history", "--store", &store, "--prune", "--keep-last", "2"]);
    let shown = format!("SQLite store {}", dir.arg("runs.db"));
    assert!(
        out.starts_with(&format!(
            "{shown}: would delete 2 of 4 runs (keeping each host's newest 2 runs of each kind)\n"
        )),
        "{out}"
    );
    assert!(
        out.contains("\n  lab-host              docker            2       2\n"),
        "{out}"
    );
    assert!(
        out.ends_with("dry run: nothing was deleted; add --apply to delete these runs\n"),
        "{out}"
    );
    assert!(
        std::fs::read(&file).unwrap() == bytes,
        "the dry run changed the file"
    );

    let (out, _) = bulkhead(&[
        "history",
        "--store",
        &store,
        "--prune",
        "--keep-last",
        "2",
        "--apply",
    ]);
    assert!(out.contains("deleted 2 of 4 runs"), "{out}");
    assert!(out.contains("freed "), "{out}");
    assert!(!out.contains("dry run"), "{out}");
    let (list, _) = bulkhead(&["history", "--store", &store, "--format", "json"]);
    let runs: serde_json::Value = serde_json::from_str(&list).unwrap();
    let ids: Vec<i64> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [4, 3]);
    let (diff, _) = bulkhead(&["history", "--store", &store, "--diff"]);
    assert!(diff.contains("run 3 ("), "{diff}");

    // JSON says the same for a pipeline; a second prune has nothing left to do.
    let (json, _) = bulkhead(&[
        "history",
        "--store",
        &store,
        "--prune",
        "--keep-last",
        "2",
        "--apply",
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (r["applied"].as_bool(), r["delete"].as_i64()),
        (Some(true), Some(0))
    );
    assert_eq!(r["runs"], 2);
}

/// The latest run of a host survives --older-than whatever its age, and the output says so;
/// --include-latest deletes it. (A date still to come makes every run old.)
#[test]
fn prune_older_than_keeps_a_hosts_latest_run_unless_asked() {
    let dir = TempDir::new("history-prune-age");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    let snapshot = golden_snapshot();
    for _ in 0..3 {
        bulkhead(&record_5_13(&snapshot, &store));
    }
    let (out, _) = bulkhead(&[
        "history",
        "--store",
        &store,
        "--prune",
        "--older-than",
        "2999-01-01",
        "--apply",
    ]);
    assert!(out.contains("deleted 2 of 3 runs"), "{out}");
    assert!(
        out.contains("recorded before 2999-01-01T00:00:00Z"),
        "{out}"
    );
    assert!(out.contains("(latest run kept, though older)"), "{out}");
    assert!(out.contains("--include-latest deletes it too"), "{out}");
    // 0 days: runs recorded before now.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (out, _) = bulkhead(&[
        "history",
        "--store",
        &store,
        "--prune",
        "--older-than",
        "0",
        "--include-latest",
        "--apply",
    ]);
    assert!(out.contains("deleted 1 of 1 run "), "{out}");
    let (list, _) = bulkhead(&["history", "--store", &store]);
    assert_eq!(list, "no runs recorded\n");
}

/// Usage errors (exit 2, nothing read): --prune without a rule, a rule without --prune, a
/// --keep-last of 0 (the latest run is always kept), a date that is none, --prune with --diff.
#[test]
fn prune_usage_errors_exit_2() {
    let dir = TempDir::new("history-prune-usage");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    for (args, says) in [
        (&["--prune"][..], "--keep-last <N>|--older-than <DAYS|DATE>"),
        (&["--keep-last", "3"][..], "--prune"),
        (&["--prune", "--keep-last", "0"][..], "0 is not in 1.."),
        (
            &["--prune", "--older-than", "2026-02-30"][..],
            "neither a number of days",
        ),
        (
            &["--prune", "--keep-last", "1", "--diff"][..],
            "cannot be used with",
        ),
        (
            &["--prune", "--keep-last", "1", "--include-latest"][..],
            "--older-than",
        ),
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
            .args(["history", "--store", &store])
            .args(args)
            .env_remove("BULKHEAD_STORE")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
    assert!(!dir.0.join("runs.db").exists());
}

/// A fleet database: the store is named without its password; a role that may not delete is
/// refused with the grant it lacks (exit 2) after a dry run that warned of it, and nothing is
/// deleted.
#[test]
fn prune_in_postgres_names_the_grant_it_lacks_and_never_the_password() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let owner = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    let snapshot = golden_snapshot();
    for _ in 0..3 {
        bulkhead(&record_5_13(&snapshot, &owner));
    }
    pg.psql("CREATE ROLE reader LOGIN PASSWORD 'hunter2'; GRANT SELECT ON bulkhead_runs, bulkhead_checks TO reader;");
    let reader = format!(
        "postgres:{} password=hunter2",
        pg.conninfo("reader", "postgres")
    );
    let prune = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_bulkhead"))
            .args(["history", "--store", &reader, "--prune", "--keep-last", "1"])
            .args(extra)
            .env_remove("BULKHEAD_STORE")
            .output()
            .unwrap()
    };
    let o = prune(&[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains("user=reader password=*** dbname=postgres: would delete 2 of 3 runs"),
        "{out}"
    );
    assert!(
        out.contains("GRANT SELECT, DELETE ON bulkhead_runs, bulkhead_checks TO reader"),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
    let o = prune(&["--apply"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("password=***"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    assert!(err.contains("DELETE privilege"), "{err}");
    assert!(err.contains("Nothing was deleted"), "{err}");
    let (list, _) = bulkhead(&["history", "--store", &owner]);
    assert_eq!(list.lines().count(), 4, "{list}");
    // The owner prunes.
    let (out, _) = bulkhead(&[
        "history",
        "--store",
        &owner,
        "--prune",
        "--keep-last",
        "1",
        "--apply",
    ]);
    assert!(out.contains("deleted 2 of 3 runs"), "{out}");
    assert!(out.contains("(auto)vacuum"), "{out}");
}

/// A store that cannot be used fails the audit before anything is collected or printed: a
/// server that refuses the connection, a history whose directory cannot be made. Before, the
/// audit ran (a live collection may take minutes), printed its report and wrote its -o file,
/// and only then found the store unusable. Now it exits 2 at once, naming the store without
/// its password, and the report is neither printed nor written; a live audit names the store,
/// not the host it never got to read.
#[test]
fn a_store_that_cannot_be_used_fails_before_the_audit_collects_or_prints() {
    let dir = TempDir::new("history-fail-fast");
    let snapshot = golden_snapshot();
    let blocker = dir.arg("notes.txt");
    std::fs::write(&blocker, "not a directory\n").unwrap();
    let out = dir.arg("report.json");
    for (store, says) in [
        (
            "postgresql://app:hunter2@127.0.0.1:1/fleet".to_string(),
            "Connection refused",
        ),
        (
            format!("sqlite:{blocker}/runs.db"),
            "is a file, not a directory",
        ),
    ] {
        for target in [
            vec!["--snapshot", &snapshot],
            vec!["--docker-host", "unix:///nonexistent/docker.sock"],
        ] {
            let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
                .args(["audit", "docker"])
                .args(&target)
                .args(["--fail-on", "never", "--format", "json", "--store", &store])
                .env_remove("BULKHEAD_STORE")
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{target:?} {store}: {err}");
            assert!(
                o.stdout.is_empty(),
                "{target:?} {store}: the report was printed"
            );
            assert!(err.contains(says), "{target:?} {store}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
            assert!(
                !err.contains("Docker socket"),
                "the store comes first: {err}"
            );
            assert!(err.contains("the audit was not run"), "{err}");
        }
        let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
            .args([
                "audit",
                "docker",
                "--snapshot",
                &snapshot,
                "--fail-on",
                "never",
            ])
            .args(["-o", &out, "--store", &store])
            .env_remove("BULKHEAD_STORE")
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(
            !std::path::Path::new(&out).exists(),
            "{store}: -o was written"
        );
    }
}

/// A write that fails at the end, after the store was opened (here a trigger refuses it, as a
/// full disk would): the report is out and stays out, and the error says the run was not
/// recorded, so the audit is run again to record it.
#[test]
fn a_run_that_cannot_be_recorded_keeps_its_report_and_says_it_was_not_recorded() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let store = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    let snapshot = golden_snapshot();
    bulkhead(&record_5_13(&snapshot, &store));
    pg.psql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON bulkhead_runs
             FOR EACH ROW EXECUTE FUNCTION refuse();",
    );
    let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(record_5_13(&snapshot, &store))
        .env_remove("BULKHEAD_STORE")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(out.contains("5.13"), "the report: {out}");
    assert!(err.contains("disk full (simulated)"), "{err}");
    assert!(err.contains("its run was not recorded"), "{err}");
    assert!(!err.contains("recorded docker run"), "{err}");
}

/// The golden snapshot as host `host` saw it.
fn snapshot_of_host(dir: &TempDir, host: &str) -> String {
    let mut snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden_snapshot()).unwrap()).unwrap();
    snap["host"]["hostname"]["value"] = json!(host);
    let path = dir.arg(&format!("{host}.json"));
    std::fs::write(&path, snap.to_string()).unwrap();
    path
}

/// 20 nodes record at once into `store`: every audit exits as its checks say (never 2), every
/// node's run is recorded once, each under an ID of its own. Returns the runs listed as JSON.
fn twenty_nodes_record_at_once(dir: &TempDir, store: &str) -> Vec<serde_json::Value> {
    let hosts: Vec<String> = (0..20).map(|i| format!("node-{i:02}")).collect();
    let snapshots: Vec<String> = hosts.iter().map(|h| snapshot_of_host(dir, h)).collect();
    let children: Vec<_> = snapshots
        .iter()
        .map(|snapshot| {
            Command::new(env!("CARGO_BIN_EXE_bulkhead"))
                .args(record_5_13(snapshot, store))
                .env_remove("BULKHEAD_STORE")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(0), "{err}");
        assert!(err.contains("recorded docker run"), "{err}");
    }
    let (out, _) = bulkhead(&[
        "history", "--store", store, "--limit", "100", "--format", "json",
    ]);
    let runs: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let mut recorded: Vec<&str> = runs.iter().map(|r| r["host"].as_str().unwrap()).collect();
    recorded.sort_unstable();
    assert_eq!(recorded, hosts);
    let mut ids: Vec<i64> = runs.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 20, "{ids:?}");
    runs
}

#[test]
fn twenty_nodes_recording_at_once_into_one_sqlite_file_are_all_recorded() {
    let dir = TempDir::new("history-concurrent-sqlite");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    twenty_nodes_record_at_once(&dir, &store);
}

/// A fleet's database has fewer connection slots than nodes that record at once (here the role's
/// CONNECTION LIMIT of 3; in a fleet, 200 nodes against the default max_connections of 100).
/// The nodes refused a slot failed at once with "too many connections" and exit 2, their audits
/// not even run; now they wait for a slot, and every run is recorded.
#[test]
fn twenty_nodes_recording_at_once_into_postgres_with_few_connection_slots_are_all_recorded() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let dir = TempDir::new("history-concurrent-pg");
    let owner = format!("postgres:{}", pg.conninfo("bulkhead", "postgres"));
    // The owner creates the tables with a first run, then leaves them to the nodes' role.
    let first = snapshot_of_host(&dir, "first");
    bulkhead(&record_5_13(&first, &owner));
    pg.psql(
        "CREATE ROLE node LOGIN CONNECTION LIMIT 3;
         GRANT SELECT, INSERT ON bulkhead_runs, bulkhead_checks TO node;
         GRANT USAGE ON SEQUENCE bulkhead_runs_id_seq TO node;
         DELETE FROM bulkhead_checks; DELETE FROM bulkhead_runs;",
    );
    let store = format!("postgres:{}", pg.conninfo("node", "postgres"));
    twenty_nodes_record_at_once(&dir, &store);
}

/// A store URL that carries the password, on the command line, shows it to every user of the
/// host in `ps` while bulkhead runs: bulkhead now says so and where the password goes instead
/// (given in BULKHEAD_STORE, it says nothing). A store on a Unix socket is named as a URL must
/// write it (`%2Ftmp%2F...`), so the name shown can be given to --store again; it was shown as
/// `postgres://user:***@/tmp/...:5999/db`, which is no URL.
#[test]
fn a_password_on_the_command_line_is_warned_of_and_a_socket_store_is_named_as_a_url() {
    let Some(pg) = TestPostgres::start() else {
        return;
    };
    let dir = TempDir::new("history-argv-password");
    let home = dir.arg("home");
    std::fs::create_dir_all(&home).unwrap();
    let socket: String = pg.socket_dir().display().to_string().replace('/', "%2F");
    let url =
        |password: &str, db: &str| format!("postgres://bulkhead{password}@{socket}:5999/{db}");
    let snapshot = golden_snapshot();
    let warning = "the password in --store is visible to every user of this host";
    let mut outputs = Vec::new();

    let with_password = url(":hunter2", "postgres");
    let o = bulkhead_env(&record_5_13(&snapshot, &with_password), &[], &home);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(err.contains(warning), "{err}");
    assert!(err.contains("PGPASSWORD"), "{err}");
    outputs.push(o);

    let store_eq = format!("--store={with_password}");
    let o = bulkhead_env(&["history", &store_eq], &[], &home);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains(warning));
    outputs.push(o);

    // From the environment: no warning.
    let o = bulkhead_env(
        &["history"],
        &[("BULKHEAD_STORE", Some(&with_password))],
        &home,
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(!err.contains(warning), "{err}");
    outputs.push(o);

    // Without a password in the URL: no warning either.
    let o = bulkhead_env(&["history", "--store", &url("", "postgres")], &[], &home);
    assert_eq!(o.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&o.stderr).contains(warning));
    outputs.push(o);

    // A database that does not exist: named as a URL, with the password masked; the name, with
    // the database corrected, reaches the store.
    let o = bulkhead_env(
        &["history", "--store", &url(":hunter2", "nodb")],
        &[],
        &home,
    );
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "{err}");
    let shown = url(":***", "nodb");
    assert!(err.contains(&shown), "{shown} in {err}");
    assert!(err.contains("does not exist"), "{err}");
    outputs.push(o);
    let again = shown.replace(":***", "").replace("/nodb", "/postgres");
    let o = bulkhead_env(&["history", "--store", &again], &[], &home);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("lab-host"));

    for o in &outputs {
        for stream in [&o.stdout, &o.stderr] {
            let text = String::from_utf8_lossy(stream);
            assert!(!text.contains("hunter2"), "{text}");
        }
    }
}

/// `history --store STORE ARGS` is refused: exit 2, nothing on standard output, and standard
/// error says each of `says`.
fn assert_refused(store: &str, args: &[&str], says: &[&str]) {
    let mut argv = vec!["history", "--store", store];
    argv.extend_from_slice(args);
    let (code, out, err) = bulkhead_exit(&argv);
    assert_eq!(code, Some(2), "{args:?}: {err}");
    assert!(out.is_empty(), "{args:?}: {out}");
    for s in says {
        assert!(err.contains(s), "{args:?}: no {s:?} in {err}");
    }
}

/// `bulkhead ARGS` with no store in the environment, whatever its exit.
fn bulkhead_exit(args: &[&str]) -> (Option<i32>, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(args)
        .env_remove("BULKHEAD_STORE")
        .output()
        .unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The golden snapshot with its facts collected at `at`, saved as `name`.
fn snapshot_collected_at(dir: &TempDir, name: &str, at: &str) -> String {
    let mut snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(golden_snapshot()).unwrap()).unwrap();
    snap["collected_at"] = at.into();
    let path = dir.arg(name);
    std::fs::write(&path, snap.to_string()).unwrap();
    path
}

/// `--diff --from ID --to ID` compares the two runs named, whatever lies between them and
/// whichever are the newest: here runs 1 and 3, where plain --diff compares 2 with 3 (equal)
/// and says nothing changed. The output is --diff's, in text and JSON.
#[test]
fn history_diff_from_to_compares_the_two_runs_named() {
    let dir = TempDir::new("history-from-to");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    let remediated = remediated_snapshot(&dir);
    for snap in [golden_snapshot().as_str(), &remediated, &remediated] {
        bulkhead(&record_5_13(snap, &store));
    }
    let (newest, _) = bulkhead(&["history", "--store", &store, "--diff"]);
    assert!(
        newest.contains("no check or object changed status"),
        "{newest}"
    );

    let (text, _) = bulkhead(&[
        "history", "--store", &store, "--diff", "--from", "1", "--to", "3",
    ]);
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    assert_eq!(
        lines,
        [
            "lab-host docker: run 1 (2026-01-01T00:00:00Z) -> run 3 (2026-01-01T00:00:00Z), score -1 -> -1",
            "5.13     fail -> fail  docker.container.read_only_rootfs",
            "container hardened: pass -> fail",
            "container hostile: fail -> pass (id 020202020202 -> 0c0c0c0c0c0c)",
            "container newcomer: absent -> fail",
            "container labelled: fail -> absent",
        ],
        "{text}"
    );

    let (json, _) = bulkhead(&[
        "history", "--store", &store, "--diff", "--from", "1", "--to", "3", "--format", "json",
    ]);
    let changes: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(changes.as_array().unwrap().len(), 1, "{json}");
    let c = &changes[0];
    for (key, value) in [
        ("host", json!("lab-host")),
        ("kind", json!("docker")),
        ("check", json!("5.13")),
        ("before", json!("fail")),
        ("after", json!("fail")),
        ("before_run", json!(1)),
        ("after_run", json!(3)),
    ] {
        assert_eq!(c[key], value, "{key}: {c}");
    }
    assert!(c.get("before_host").is_none(), "one host: {c}");
    assert_eq!(c["objects"].as_array().unwrap().len(), 4, "{c}");

    // Named the other way round, the comparison runs the other way: what was fixed is broken.
    let (text, _) = bulkhead(&[
        "history", "--store", &store, "--diff", "--from", "3", "--to", "1",
    ]);
    assert!(text.starts_with("lab-host docker: run 3 ("), "{text}");
    assert!(
        text.lines().any(
            |l| l.trim() == "container hostile: pass -> fail (id 0c0c0c0c0c0c -> 020202020202)"
        ),
        "{text}"
    );
}

/// Runs of two hosts may be compared (a new node against a known good one): the header names
/// both hosts, a note says that two hosts are compared rather than one over time, and each JSON
/// entry carries `before_host`.
#[test]
fn history_diff_from_to_of_two_hosts_says_so() {
    let dir = TempDir::new("history-two-hosts");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    bulkhead(&record_5_13(&golden_snapshot(), &store));
    let mut other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(remediated_snapshot(&dir)).unwrap()).unwrap();
    other["host"]["hostname"]["value"] = json!("node-b");
    let other_path = dir.arg("node-b.json");
    std::fs::write(&other_path, other.to_string()).unwrap();
    bulkhead(&record_5_13(&other_path, &store));

    let (text, _) = bulkhead(&[
        "history", "--store", &store, "--diff", "--from", "1", "--to", "2",
    ]);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("lab-host -> node-b docker: run 1 ("),
        "{text}"
    );
    assert_eq!(
        lines[1],
        "  note: run 1 is of host lab-host, run 2 of host node-b: this compares two hosts, not one host over time",
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.trim() == "container newcomer: absent -> fail"),
        "{text}"
    );
    let (json, _) = bulkhead(&[
        "history", "--store", &store, "--diff", "--from", "1", "--to", "2", "--format", "json",
    ]);
    let changes: serde_json::Value = serde_json::from_str(&json).unwrap();
    for c in changes.as_array().unwrap() {
        assert_eq!(
            (&c["host"], &c["before_host"]),
            (&json!("node-b"), &json!("lab-host")),
            "{c}"
        );
    }
    // Plain --diff still takes each host on its own: neither has two runs.
    let (text, _) = bulkhead(&["history", "--store", &store, "--diff"]);
    assert_eq!(text, "no host has two recorded runs to compare\n");
}

/// What --from and --to refuse (exit 2, nothing on standard output): a run ID the store does not
/// hold (named, with the store), runs of different kinds, the same run twice, one without the
/// other, either without --diff, and --host or --kind beside them.
#[test]
fn history_diff_from_to_refusals_name_what_is_wrong() {
    let dir = TempDir::new("history-from-to-refusals");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    // Runs 1 (docker) and 2 (kubernetes), from one audit of both benchmarks.
    bulkhead(&[
        "audit",
        "--snapshot",
        &docker_and_kubernetes_snapshot(&dir),
        "--fail-on",
        "never",
        "--format",
        "json",
        "--store",
        &store,
    ]);
    let (_, list, _) = bulkhead_exit(&["history", "--store", &store, "--format", "json"]);
    let kinds: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(kinds[1]["kind"], "docker", "{list}");
    assert_eq!(kinds[0]["kind"], "kubernetes", "{list}");
    let shown = format!("SQLite store {}", dir.arg("runs.db"));
    for (args, says) in [
        (
            &["--diff", "--from", "1", "--to", "9"][..],
            vec!["--to 9: ", &shown, "holds no run 9"],
        ),
        (
            &["--diff", "--from", "42", "--to", "1"][..],
            vec!["--from 42: ", "holds no run 42"],
        ),
        (
            &["--diff", "--from", "1", "--to", "2"][..],
            vec![
                "run 1 (--from) is a docker run and run 2 (--to) a kubernetes run",
                "different kinds",
            ],
        ),
        (
            &["--diff", "--from", "1", "--to", "1"][..],
            vec!["--from and --to both name run 1"],
        ),
        (&["--diff", "--from", "1"][..], vec!["--to <ID>"]),
        (&["--from", "1", "--to", "2"][..], vec!["--diff"]),
        (
            &["--diff", "--from", "1", "--to", "2", "--host", "lab-host"][..],
            vec!["cannot be used with", "--host"],
        ),
        (
            &["--diff", "--from", "one", "--to", "2"][..],
            vec!["'one'", "--from"],
        ),
    ] {
        assert_refused(&store, args, &says);
    }
}

/// --since and --until list the runs whose facts were collected in the window (since included,
/// until left out), in whatever order they were recorded; --limit counts the runs of the
/// window; a window without runs says so (JSON: []). DAYS counts back from now.
#[test]
fn history_since_and_until_list_runs_by_when_their_facts_were_collected() {
    let dir = TempDir::new("history-window");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    // Runs 1 (March), 2 (January) and 3 (February): recorded out of collection order.
    for (name, at) in [
        ("march.json", "2026-03-01T00:00:00Z"),
        ("january.json", "2026-01-01T00:00:00Z"),
        ("february.json", "2026-02-01T00:00:00Z"),
    ] {
        bulkhead(&record_5_13(&snapshot_collected_at(&dir, name, at), &store));
    }
    let ids = |extra: &[&str]| -> Vec<i64> {
        let mut args = vec!["history", "--store", &store, "--format", "json"];
        args.extend_from_slice(extra);
        let (out, _) = bulkhead(&args);
        let runs: serde_json::Value = serde_json::from_str(&out).unwrap();
        runs.as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(ids(&[]), [3, 2, 1]);
    assert_eq!(ids(&["--since", "2026-02-01"]), [3, 1]);
    assert_eq!(ids(&["--until", "2026-02-01"]), [2]);
    assert_eq!(
        ids(&["--since", "2026-01-01", "--until", "2026-03-01"]),
        [3, 2]
    );
    assert_eq!(ids(&["--since", "2026-02-01T00:00:01Z"]), [1]);
    // The newest of the window, not the newest of the store (run 3, February, is outside it).
    assert_eq!(ids(&["--until", "2026-02-01", "--limit", "1"]), [2]);
    assert!(ids(&["--until", "2025-12-01"]).is_empty());

    let (text, _) = bulkhead(&["history", "--store", &store, "--since", "2026-02-01"]);
    let listed: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(listed, ["3", "1"], "{text}");
    let (text, _) = bulkhead(&["history", "--store", &store, "--until", "2025-12-01"]);
    assert_eq!(
        text,
        "no runs collected before 2025-12-01T00:00:00Z recorded; the store holds other runs (`bulkhead history` without --since and --until lists them)\n"
    );

    // DAYS: a run collected two days ago is within --since 7, the others (2026's first months,
    // at least as old as 2026-03-01) are not, unless this clock is wrong.
    let now = bulkhead_facts::time::unix_now();
    let recent = bulkhead_facts::time::rfc3339_utc(now - 2 * 86_400);
    bulkhead(&record_5_13(
        &snapshot_collected_at(&dir, "recent.json", &recent),
        &store,
    ));
    if now > bulkhead_facts::time::rfc3339_to_unix("2026-03-08T00:00:00Z").unwrap() {
        assert_eq!(ids(&["--since", "7"]), [4]);
        assert_eq!(ids(&["--until", "7"]), [3, 2, 1]);
    }
    assert_eq!(ids(&["--since", "3", "--until", "1"]), [4]);
}

/// Values --since and --until refuse, and the flags they do not go with: exit 2, naming the flag
/// and the value, nothing listed.
#[test]
fn history_since_and_until_refusals_name_the_flag_and_value() {
    let dir = TempDir::new("history-window-usage");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    bulkhead(&record_5_13(&golden_snapshot(), &store));
    for (args, says) in [
        (
            &["--since", "2026-02-30"][..],
            vec!["--since", "'2026-02-30'", "neither a number of days"],
        ),
        (
            &["--until", "yesterday"][..],
            vec!["--until", "'yesterday'", "neither a number of days"],
        ),
        (&["--since=-3"][..], vec!["--since", "'-3'"]),
        (
            &["--since", "2026-03-01", "--until", "2026-02-01"][..],
            vec!["--since (2026-03-01T00:00:00Z) is not before --until (2026-02-01T00:00:00Z)"],
        ),
        (
            &["--since", "7", "--diff"][..],
            vec!["--since", "cannot be used with", "--diff"],
        ),
        (
            &["--until", "7", "--prune", "--keep-last", "1"][..],
            vec!["--until", "cannot be used with"],
        ),
    ] {
        assert_refused(&store, args, &says);
    }
}

/// `--diff --fail-on-regression`: exit 1 when a check or object moved into fail (or error) from
/// another status or appeared failing, with the same output and a count on standard error; exit
/// 0 when things only got better or did not move; a usage error (2) without --diff.
#[test]
fn history_diff_fail_on_regression_exits_1_only_on_a_regression() {
    let dir = TempDir::new("history-regression");
    let golden = golden_snapshot();
    let remediated = remediated_snapshot(&dir);
    let record = |snap: &str, only: &str, store: &str| {
        bulkhead(&[
            "audit",
            "docker",
            "--snapshot",
            snap,
            "--only",
            only,
            "--fail-on",
            "never",
            "--store",
            store,
        ]);
    };
    let gate = |store: &str, extra: &[&str]| {
        let mut args = vec![
            "history",
            "--store",
            store,
            "--diff",
            "--fail-on-regression",
        ];
        args.extend_from_slice(extra);
        bulkhead_exit(&args)
    };

    // 2.4 fixed (fail -> pass, its daemon too): better, exit 0, the diff printed as ever.
    let better = format!("sqlite:{}", dir.arg("better.db"));
    record(&golden, "2.4", &better);
    record(&remediated, "2.4", &better);
    let (code, out, err) = gate(&better, &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("2.4      fail -> pass"), "{out}");
    assert!(!err.contains("regression"), "{err}");
    // The same two runs the other way round: 2.4 and its daemon moved into fail.
    let (code, out, err) = gate(&better, &["--from", "2", "--to", "1"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("2.4      pass -> fail"), "{out}");
    assert!(
        err.contains("--fail-on-regression: 2 checks or objects moved into fail or error"),
        "{err}"
    );

    // 5.13 stays fail, but one container lost its read-only root and a new one fails: exit 1,
    // in JSON as in text.
    let objects = format!("sqlite:{}", dir.arg("objects.db"));
    record(&golden, "5.13", &objects);
    record(&remediated, "5.13", &objects);
    let (code, out, err) = gate(&objects, &["--format", "json"]);
    assert_eq!(code, Some(1), "{err}");
    let changes: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(changes[0]["before"], "fail");
    assert!(err.contains("2 checks or objects"), "{err}");
    // Without the flag the same diff exits 0.
    let (code, _, err) =
        bulkhead_exit(&["history", "--store", &objects, "--diff", "--format", "json"]);
    assert_eq!(code, Some(0), "{err}");

    // A check the older run did not have, failing now: a regression.
    let appeared = format!("sqlite:{}", dir.arg("appeared.db"));
    record(&remediated, "2.4", &appeared);
    record(&remediated, "2.4,5.13", &appeared);
    let (code, out, err) = gate(&appeared, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("5.13     absent -> fail"), "{out}");
    assert!(err.contains("1 check or object moved"), "{err}");
    // ... and one that disappeared is none.
    let (code, _, err) = gate(&appeared, &["--from", "2", "--to", "1"]);
    assert_eq!(code, Some(0), "{err}");

    // Nothing changed, or nothing to compare: exit 0.
    let same = format!("sqlite:{}", dir.arg("same.db"));
    record(&golden, "5.13", &same);
    let (code, out, _) = gate(&same, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(out, "no host has two recorded runs to compare\n");
    record(&golden, "5.13", &same);
    let (code, out, _) = gate(&same, &[]);
    assert_eq!(code, Some(0));
    assert!(out.contains("no check or object changed status"), "{out}");

    // Without --diff: a usage error naming the flag, nothing read.
    let (code, out, err) = bulkhead_exit(&["history", "--store", &same, "--fail-on-regression"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains("--fail-on-regression") && err.contains("--diff"),
        "{err}"
    );
}

/// Where each column of a line of the text listing is anchored (in characters: the host names
/// here are ASCII): the end of the right-aligned run and score, the start of host, kind,
/// collected and summary. Fields are separated by two blanks or more.
fn column_anchors(line: &str) -> Vec<usize> {
    let mut spans = Vec::new();
    let mut rest = line.trim_start();
    let mut at = line.len() - rest.len();
    while !rest.is_empty() {
        let end = rest.find("  ").unwrap_or(rest.len());
        spans.push((at, at + end));
        let after = rest[end..].trim_start();
        at += rest.len() - after.len();
        rest = after;
    }
    assert_eq!(spans.len(), 6, "{line}");
    vec![
        spans[0].1, spans[1].0, spans[2].0, spans[3].0, spans[4].1, spans[5].0,
    ]
}

/// `bulkhead history` lines its columns up whatever the host names: the host column is as wide
/// as the longest name of up to 40 characters; a longer one is listed whole on its own line,
/// which alone is pushed right, and the other runs keep their columns. One run is one line.
#[test]
fn the_listing_lines_up_for_any_host_name_length() {
    let dir = TempDir::new("history-align");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    let long = "a-very-long-host-name-of-a-cluster-node.eu-west-1.compute.internal";
    let hosts = [
        "db",
        "node-with-a-thirty-one-char-nam",
        long,
        "web-01.example.com",
    ];
    for h in hosts {
        bulkhead(&record_5_13(&snapshot_of_host(&dir, h), &store));
    }
    let (text, _) = bulkhead(&["history", "--store", &store]);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + hosts.len(), "{text}");
    let header = column_anchors(lines[0]);
    // The host column fits the 31-character name (and two blanks), not the 66-character one.
    assert_eq!(header[2] - header[1], 31 + 2, "{text}");
    for (line, host) in lines[1..].iter().zip(hosts.iter().rev()) {
        assert!(
            line.contains(&format!("  {host}  ")),
            "{host} whole:\n{text}"
        );
        let anchors = column_anchors(line);
        if *host == long {
            let over = long.len() - 31;
            let shifted: Vec<usize> = header
                .iter()
                .enumerate()
                .map(|(i, at)| if i >= 2 { at + over } else { *at })
                .collect();
            assert_eq!(anchors, shifted, "\n{text}");
        } else {
            assert_eq!(anchors, header, "{host}:\n{text}");
        }
    }
    // Without the long name the column is just as wide: one run's name does not set it.
    let (text, _) = bulkhead(&["history", "--store", &store, "--host", "db"]);
    assert!(
        text.lines()
            .nth(1)
            .is_some_and(|l| l.starts_with("     1  db                    docker      ")),
        "{text}"
    );
}

/// --diff takes the newest run of a host by when its facts were collected, reading fractions of
/// a second as a time: `10:00:00.5Z` is after `10:00:00Z`, though it sorts before it as text.
#[test]
fn history_diff_orders_fractions_of_a_second_as_times() {
    let dir = TempDir::new("history-fractions");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    // Run 1: half a second later than run 2, recorded first.
    for (name, at) in [
        ("later.json", "2026-01-01T10:00:00.5Z"),
        ("earlier.json", "2026-01-01T10:00:00Z"),
    ] {
        bulkhead(&record_5_13(&snapshot_collected_at(&dir, name, at), &store));
    }
    let (text, _) = bulkhead(&["history", "--store", &store, "--diff"]);
    let header = text.lines().next().unwrap_or_default();
    assert!(
        header.contains("run 2 (2026-01-01T10:00:00Z) -> run 1 (2026-01-01T10:00:00.5Z)"),
        "{text}"
    );
    // Named the other way round, the comparison says the --from run is the later one.
    let (text, _) = bulkhead(&[
        "history", "--store", &store, "--diff", "--from", "1", "--to", "2",
    ]);
    assert!(
        text.contains("note: run 1 was collected after run 2"),
        "{text}"
    );
    let (text, _) = bulkhead(&[
        "history", "--store", &store, "--diff", "--from", "2", "--to", "1",
    ]);
    assert!(!text.contains("was collected after"), "{text}");
}
