//! `bulkhead checks list` and `bulkhead checks explain` (issue 2, point 7): the catalog as a user
//! browses it, in either numbering, agreeing with what an audit reports. These read only the
//! embedded catalog, so they need no daemon.

use crate::support::run;

const TITLE_5_13: &str = "Ensure that the container's root filesystem is mounted as read only";

#[test]
fn list_shows_every_docker_check_with_id_control_and_title() {
    let r = run(&["checks", "list", "docker"]);
    r.expect_code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], "CIS Docker Benchmark (numbering cis-1.6.0)");
    let rows: Vec<Vec<&str>> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 117);
    let row = rows.iter().find(|r| r[0] == "5.13").expect("5.13 listed");
    assert_eq!(row[1], "docker.container.read_only_rootfs");
    assert_eq!(row[2], "automated");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("  5.13 ") && l.ends_with(TITLE_5_13)));
    assert!(rows.iter().all(|r| r[1].starts_with("docker.")));
}

#[test]
fn list_in_the_older_numbering_and_as_json() {
    let r = run(&["checks", "list", "docker", "--ids", "cis-1.2.0"]);
    r.expect_code(0);
    let find = |id: &str| {
        r.stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} not listed\n{r}"))
            .to_string()
    };
    assert!(find("5.12").contains("docker.container.read_only_rootfs"));
    assert!(find("5.25").contains("docker.container.no_new_privileges"));

    let j = run(&["checks", "list", "docker", "--format", "json"]);
    j.expect_code(0);
    let rows = j.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 117);
    let ro = rows.iter().find(|x| x["id"] == "5.13").unwrap();
    assert_eq!(ro["control"], "docker.container.read_only_rootfs");
    assert_eq!(ro["title"], TITLE_5_13);
    assert_eq!(ro["numbering"], "cis-1.6.0");
    assert_eq!(ro["aliases"]["cis-docker-1.2.0"], "5.12");
}

#[test]
fn explain_by_current_id_older_id_and_control_id() {
    let r = run(&["checks", "explain", "5.13"]);
    r.expect_code(0);
    let out = &r.stdout;
    assert!(out.starts_with(&format!("5.13 - {TITLE_5_13}\n")), "{r}");
    for part in [
        "control     docker.container.read_only_rootfs",
        "5.12 in cis-1.2.0",
        "automated, scored",
        "Why it matters",
        "How bulkhead checks it",
        "How to fix it",
        "--read-only",
    ] {
        assert!(out.contains(part), "explain 5.13 lacks {part:?}\n{out}");
    }

    let old = run(&["checks", "explain", "5.12", "--ids", "cis-1.2.0"]);
    old.expect_code(0);
    assert!(
        old.stdout.starts_with(&format!("5.12 - {TITLE_5_13}\n")),
        "{old}"
    );
    assert!(old.stdout.contains("(numbering cis-1.2.0)"));
    assert!(old.stdout.contains("5.13 in cis-1.6.0"));
    // Same explanation apart from the numbering it is shown in.
    let body = |s: &str| s.split("Why it matters").nth(1).unwrap().to_string();
    assert_eq!(body(&old.stdout), body(out));

    let by_control = run(&["checks", "explain", "docker.container.read_only_rootfs"]);
    by_control.expect_code(0);
    assert_eq!(by_control.stdout, r.stdout);

    // 5.12 in the current numbering is another check (CPU priority).
    let cpu = run(&["checks", "explain", "5.12"]);
    cpu.expect_code(0);
    assert!(cpu.stdout.contains("docker.container.cpu_shares"), "{cpu}");
}

#[test]
fn explain_of_an_unknown_id_is_an_error_naming_it() {
    let r = run(&["checks", "explain", "9.99"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("9.99") && r.stderr.contains("bulkhead checks list"),
        "{r}"
    );
    // Not in the numbering asked for: say which numbering was searched and where 5.32 is.
    let r = run(&["checks", "explain", "5.32", "--ids", "cis-1.2.0"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("no check \"5.32\" in cis-1.2.0")
            && r.stderr
                .contains("5.32 is a check in cis-1.6.0 (docker.container.no_docker_socket"),
        "{r}"
    );
    // A numbering nobody has is named as unknown, not as a missing check.
    let r = run(&["checks", "explain", "5.13", "--ids", "bogus"]);
    r.expect_code(2);
    assert!(r.stderr.contains("--ids bogus: unknown numbering"), "{r}");
    // A numbering of the other benchmark says whose it is.
    let r = run(&["checks", "list", "kubernetes", "--ids", "cis-1.2.0"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("CIS Kubernetes Benchmark has no such numbering (its numberings: cis-1.12); cis-1.2.0 numbers the CIS Docker Benchmark"),
        "{r}"
    );
}
