//! `bulkhead audit --store sqlite:PATH` records runs; `bulkhead history` lists them and
//! `history --diff` shows what changed between the last two. The change here is real: a
//! container that is not read-only starts between the two audits.

use crate::lab_or_skip;
use crate::support::{run, TempDir};
use bulkhead_testkit::ContainerSpec;

#[test]
fn two_recorded_runs_with_a_change_in_between_show_in_history_and_diff() {
    let lab = lab_or_skip!();
    let dir = TempDir::new("history");
    let store = format!("sqlite:{}", dir.arg("runs.db"));
    // Only the hardened container and the newcomer are audited, so the change is the newcomer.
    let args = [
        "--only",
        "5.13,5.26",
        "--include",
        "^(hardened|newcomer)$",
        "--store",
        &store,
    ];
    let _exclusive = lab.write();
    let first = lab.audit(&args);
    first.expect_code(0);
    assert!(first.stderr.contains("recorded docker run 1"), "{first}");

    let id = lab.d.run("newcomer", &ContainerSpec::new());
    let second = lab.audit(&args);
    lab.d.remove(&id);
    second.expect_code(1);
    assert!(second.stderr.contains("recorded docker run 2"), "{second}");

    let h = run(&["history", "--store", &store]);
    h.expect_code(0);
    let rows: Vec<&str> = h.stdout.lines().collect();
    assert_eq!(rows.len(), 3, "a header and two runs\n{h}");
    assert!(
        rows[1].trim_start().starts_with("2 ") && rows[2].trim_start().starts_with("1 "),
        "{h}"
    );
    assert!(
        rows[1].contains("docker") && rows[1].contains("0 pass, 2 fail"),
        "{h}"
    );
    assert!(rows[2].contains("2 pass, 0 fail"), "{h}");

    let d = run(&["history", "--store", &store, "--diff"]);
    d.expect_code(0);
    assert!(
        d.stdout.contains("run 1") && d.stdout.contains("-> run 2"),
        "{d}"
    );
    let lines: Vec<&str> = d.stdout.lines().collect();
    for (check, control) in [
        ("5.13", "docker.container.read_only_rootfs"),
        ("5.26", "docker.container.no_new_privileges"),
    ] {
        let at = lines
            .iter()
            .position(|l| {
                let w: Vec<&str> = l.split_whitespace().collect();
                w == [check, "pass", "->", "fail", control]
            })
            .unwrap_or_else(|| panic!("no {check} pass -> fail line\n{d}"));
        // Under the check, the object that made it fail: the container that started.
        assert_eq!(
            lines.get(at + 1).map(|l| l.trim()),
            Some("container newcomer: absent -> fail"),
            "{d}"
        );
    }

    let j = run(&["history", "--store", &store, "--diff", "--format", "json"]);
    j.expect_code(0);
    let changes = j.json();
    let changes = changes.as_array().unwrap();
    assert_eq!(changes.len(), 2, "{j}");
    for c in changes {
        assert_eq!(c["before"], "pass");
        assert_eq!(c["after"], "fail");
        assert_eq!(c["before_run"], 1);
        assert_eq!(c["after_run"], 2);
        assert_eq!(c["kind"], "docker");
        let objects = c["objects"].as_array().unwrap();
        assert_eq!(objects.len(), 1, "{j}");
        assert_eq!(
            [
                &objects[0]["kind"],
                &objects[0]["name"],
                &objects[0]["before"],
                &objects[0]["after"]
            ],
            ["container", "newcomer", "absent", "fail"],
            "{j}"
        );
    }
}

/// Reading the history never creates one: a `--store` file that does not exist (a typo) is an
/// error naming it, exit 2, and nothing appears on disk; `--limit 0` is a usage error rather
/// than an empty list that reads like "no runs".
#[test]
fn history_reads_a_store_but_never_creates_one() {
    let dir = TempDir::new("history-missing");
    let path = dir.arg("typo/runs.db");
    let h = run(&["history", "--store", &format!("sqlite:{path}")]);
    h.expect_code(2);
    assert!(
        h.stderr.contains(&format!("no run history at {path}")),
        "{h}"
    );
    assert!(!dir.path().join("typo").exists(), "nothing created\n{h}");
    let h = run(&[
        "history",
        "--store",
        &format!("sqlite:{path}"),
        "--limit",
        "0",
    ]);
    h.expect_code(2);
    assert!(h.stderr.contains("--limit"), "{h}");
}
