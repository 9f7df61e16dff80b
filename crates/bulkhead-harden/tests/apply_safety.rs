//! Applying without losing a file: backups beside each file, atomic writes with the original mode
//! and owner, refusal when a file changed since the plan read it, rollback, and fault injection —
//! a process killed with SIGKILL between backup and rename (and at every other pause point)
//! leaves every file whole, old or new, never half written.
//!
//! The killed process is this test binary re-executed with `BULKHEAD_FAULT_CHILD` set: it runs
//! only the `fault_child` test, which applies a plan and stops at the failpoint named by
//! `BULKHEAD_FAILPOINT` (compiled in through the crate's `failpoints` feature, tests only).

mod common;

use bulkhead_facts::host::FileKind;
use bulkhead_harden::apply::{apply, rollback, ApplyError, ApplyOptions};
use bulkhead_harden::files::sha256_hex;
use bulkhead_harden::{plan, Plan, PlanRequest};
use common::*;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DAEMON_JSON: &str = "{\n  \"icc\": true,\n  \"data-root\": \"/srv/docker\"\n}\n";
const RULES: &str = "## site rules\n-w /etc/passwd -p wa -k identity\n";

/// A host root with a daemon.json (mode 0640, owned by uid 1234), an audit rules file and a
/// profile directory, and the plan that edits daemon.json, appends to the rules file, creates a
/// profile snippet and tightens a file's mode.
fn fixture(root: &Path) -> Plan {
    let dj = put(root, "/etc/docker/daemon.json", DAEMON_JSON);
    std::fs::set_permissions(&dj, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(&dj, Some(1234), Some(1234)).unwrap();
    put(root, "/etc/audit/rules.d/bulkhead-docker.rules", RULES);
    std::fs::create_dir_all(root.join("etc/profile.d")).unwrap();
    let key = put(root, "/etc/docker/tls/key.pem", "KEY\n");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    put(root, "/usr/bin/dockerd", "binary\n");
    fixture_plan_only(root)
}

fn options(root: &Path) -> ApplyOptions {
    ApplyOptions {
        root: root.to_path_buf(),
        include_review: true,
        state_dir: Some(root.join("state")),
    }
}

fn read(root: &Path, p: &str) -> Option<String> {
    std::fs::read_to_string(root.join(p.trim_start_matches('/'))).ok()
}

#[test]
fn apply_backs_up_writes_atomically_keeps_mode_and_owner_and_rolls_back() {
    let root = temp_root("apply");
    let p = fixture(&root);
    assert_eq!(p.fixes.len(), 4, "{:#?}", p.unfixed);
    let report = apply(&p, &options(&root)).unwrap();
    assert_eq!(report.applied.len(), 4);
    // daemon.json: new content, same mode and owner, backup beside it with the old content.
    let dj = root.join("etc/docker/daemon.json");
    let meta = std::fs::metadata(&dj).unwrap();
    assert_eq!(
        (meta.mode() & 0o7777, meta.uid(), meta.gid()),
        (0o640, 1234, 1234)
    );
    assert!(read(&root, "/etc/docker/daemon.json")
        .unwrap()
        .contains("\"icc\": false"));
    let (_, backup) = report
        .backups
        .iter()
        .find(|(p, _)| Path::new(p) == dj)
        .unwrap();
    assert_eq!(
        backup.parent(),
        dj.parent(),
        "the backup is beside the file"
    );
    assert_eq!(std::fs::read_to_string(backup).unwrap(), DAEMON_JSON);
    // The backup is private (it may hold what the fix removes), owned like the file.
    let bmeta = std::fs::metadata(backup).unwrap();
    assert_eq!((bmeta.mode() & 0o7777, bmeta.uid()), (0o600, 1234));
    // The rules file kept its lines and gained the watch; the profile was created.
    let rules = read(&root, "/etc/audit/rules.d/bulkhead-docker.rules").unwrap();
    assert!(
        rules.starts_with(RULES) && rules.ends_with("-w /usr/bin/dockerd -p rwxa -k docker\n"),
        "{rules}"
    );
    assert!(read(&root, "/etc/profile.d/bulkhead-content-trust.sh")
        .unwrap()
        .contains("export DOCKER_CONTENT_TRUST=1"));
    let key_mode = std::fs::metadata(root.join("etc/docker/tls/key.pem"))
        .unwrap()
        .mode()
        & 0o7777;
    assert_eq!(key_mode, 0o400);
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(root.join("etc/docker"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("bulkhead-tmp"))
        .collect();
    assert!(leftovers.is_empty());

    let r = rollback(&options(&root)).unwrap();
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), DAEMON_JSON);
    let meta = std::fs::metadata(&dj).unwrap();
    assert_eq!(
        (meta.mode() & 0o7777, meta.uid(), meta.gid()),
        (0o640, 1234, 1234)
    );
    assert_eq!(
        read(&root, "/etc/audit/rules.d/bulkhead-docker.rules").unwrap(),
        RULES
    );
    assert_eq!(
        read(&root, "/etc/profile.d/bulkhead-content-trust.sh"),
        None,
        "created file removed"
    );
    assert!(r.removed.contains(
        &root
            .join("etc/profile.d/bulkhead-content-trust.sh")
            .display()
            .to_string()
    ));
    // dockerd and the audit rules still run on what the apply wrote, until they load the
    // restored files: the rollback names them, once each (the journal recorded them).
    let mut services: Vec<&str> = r.restarts.iter().map(|x| x.service.as_str()).collect();
    services.sort_unstable();
    assert_eq!(services, ["auditd", "docker"], "{:?}", r.restarts);
    let key_mode = std::fs::metadata(root.join("etc/docker/tls/key.pem"))
        .unwrap()
        .mode()
        & 0o7777;
    assert_eq!(key_mode, 0o644);
    // Nothing left to roll back.
    assert!(matches!(
        rollback(&options(&root)),
        Err(ApplyError::Refused(_))
    ));
}

#[test]
fn apply_refuses_when_a_file_changed_since_the_plan_read_it() {
    let root = temp_root("refuse");
    let p = fixture(&root);
    // Someone edits daemon.json between planning and applying.
    std::fs::write(
        root.join("etc/docker/daemon.json"),
        "{\"icc\": true, \"debug\": true}\n",
    )
    .unwrap();
    let e = apply(&p, &options(&root)).unwrap_err();
    match e {
        ApplyError::Refused(m) => assert!(
            m.contains("/etc/docker/daemon.json changed after the plan read it"),
            "{m}"
        ),
        other => panic!("{other:?}"),
    }
    // Nothing at all was changed: the other files are untouched too.
    assert_eq!(
        read(&root, "/etc/audit/rules.d/bulkhead-docker.rules").unwrap(),
        RULES
    );
    assert_eq!(
        read(&root, "/etc/profile.d/bulkhead-content-trust.sh"),
        None
    );
    // A file that appeared after planning is refused as well.
    let root = temp_root("refuse2");
    let p = fixture(&root);
    put(
        &root,
        "/etc/profile.d/bulkhead-content-trust.sh",
        "# mine\n",
    );
    assert!(
        matches!(apply(&p, &options(&root)), Err(ApplyError::Refused(m)) if m.contains("created after the plan"))
    );
}

#[test]
fn review_fixes_need_include_review() {
    let root = temp_root("review");
    let p = fixture(&root);
    let mut opts = options(&root);
    opts.include_review = false;
    let r = apply(&p, &opts).unwrap();
    let applied: Vec<&str> = r.applied.iter().map(|(id, _)| id.as_str()).collect();
    // icc makes the daemon.json fix a review fix; the profile may break pulls: review too.
    assert!(
        !applied.iter().any(|a| a.starts_with("daemon-json:")),
        "{applied:?}"
    );
    assert!(
        !applied.iter().any(|a| a.starts_with("profile:")),
        "{applied:?}"
    );
    assert!(
        applied.iter().any(|a| a.starts_with("file-mode:")),
        "{applied:?}"
    );
    assert!(r
        .skipped
        .iter()
        .any(|(id, why)| id.starts_with("daemon-json:") && why.contains("--include-review")));
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), DAEMON_JSON);
}

#[test]
fn rollback_refuses_a_file_changed_after_apply() {
    let root = temp_root("rb-refuse");
    let p = fixture(&root);
    apply(&p, &options(&root)).unwrap();
    std::fs::write(root.join("etc/docker/daemon.json"), "{}\n").unwrap();
    let e = rollback(&options(&root)).unwrap_err();
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains("changed after harden applied it")),
        "{e:?}"
    );
    // Refused means untouched: the hand edit and the applied profile are still there.
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), "{}\n");
    assert!(read(&root, "/etc/profile.d/bulkhead-content-trust.sh").is_some());
}

/// An apply that fails part-way (here: an I/O error injected when the second file is about to
/// replace the original) lists every file as it is now — the one already changed with its
/// backup, the one whose backup was written but not itself, those not reached — and names the
/// rollback command, which then restores the host.
#[test]
fn a_failure_part_way_lists_what_was_already_changed() {
    use bulkhead_harden::failpoint::fail_on_this_thread;
    let root = temp_root("part-way");
    let p = fixture(&root);
    let opts = options(&root);
    fail_on_this_thread(Some(("edit-before-rename", 2)));
    let e = apply(&p, &opts).unwrap_err();
    fail_on_this_thread(None);
    let ApplyError::Failed(m) = &e else {
        panic!("{e:?}")
    };
    // What is on disk is what the message says.
    assert!(read(&root, "/etc/docker/daemon.json")
        .unwrap()
        .contains("\"icc\": false"));
    assert_eq!(
        read(&root, "/etc/audit/rules.d/bulkhead-docker.rules").unwrap(),
        RULES
    );
    assert_eq!(
        read(&root, "/etc/profile.d/bulkhead-content-trust.sh"),
        None
    );
    let backup = |name: &str| {
        walk(&root)
            .into_iter()
            .find(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with(&format!("{name}.bulkhead-")) && n.ends_with(".bak")
            })
            .unwrap_or_else(|| panic!("no backup of {name}"))
    };
    let lines: Vec<&str> = m.lines().collect();
    assert!(
        lines[0].contains("failure injected at edit-before-rename"),
        "{m}"
    );
    let line = |prefix: &str| {
        lines
            .iter()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{m}"))
            .to_string()
    };
    assert_eq!(
        line("changed: /etc/docker/daemon.json"),
        format!(
            "  changed: /etc/docker/daemon.json (backup {})",
            backup("daemon.json").display()
        )
    );
    assert_eq!(
        line("not changed: /etc/audit/rules.d/bulkhead-docker.rules"),
        format!(
            "  not changed: /etc/audit/rules.d/bulkhead-docker.rules (its backup {} was already written)",
            backup("bulkhead-docker.rules").display()
        )
    );
    line("not changed: /etc/profile.d/bulkhead-content-trust.sh");
    line("not changed: /etc/docker/tls/key.pem");
    assert_eq!(
        lines.iter().filter(|l| l.contains("changed: ")).count(),
        4,
        "every file of the plan is named once:\n{m}"
    );
    assert!(
        m.contains(&format!("run `{}`", opts.rollback_command())),
        "{m}"
    );
    // The next apply refuses until the rollback the message names has run.
    assert!(matches!(apply(&p, &opts), Err(ApplyError::Refused(r)) if r.contains("interrupted")));
    let r = rollback(&opts).unwrap();
    assert_eq!(r.restored.len(), 1, "{:?}", r.restored);
    assert!(
        r.restored[0].starts_with(&format!(
            "{} (from its backup ",
            root.join("etc/docker/daemon.json").display()
        )),
        "{:?}",
        r.restored
    );
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), DAEMON_JSON);

    // Every file written, then the journal cannot be closed: all of them are named as changed.
    fail_on_this_thread(Some(("journal-before-rename", 2)));
    let e = apply(&p, &opts).unwrap_err();
    fail_on_this_thread(None);
    let m = e.to_string();
    for changed in [
        "changed: /etc/docker/daemon.json (backup ",
        "changed: /etc/audit/rules.d/bulkhead-docker.rules (backup ",
        "changed: /etc/profile.d/bulkhead-content-trust.sh (created by this apply)",
        "changed: /etc/docker/tls/key.pem (mode 0400 owner 0:0, was 0644 0:0)",
    ] {
        assert!(m.contains(changed), "{changed:?} in:\n{m}");
    }
    assert!(!m.contains("not changed"), "{m}");
    rollback(&opts).unwrap();
    assert_eq!(
        read(&root, "/etc/audit/rules.d/bulkhead-docker.rules").unwrap(),
        RULES
    );
    assert_eq!(
        read(&root, "/etc/profile.d/bulkhead-content-trust.sh"),
        None
    );
}

/// Run by the re-executed child only: apply the fixture's plan under the root the parent named.
#[test]
fn fault_child() {
    let Ok(root) = std::env::var("BULKHEAD_FAULT_CHILD") else {
        return;
    };
    let root = PathBuf::from(root);
    let p = fixture_plan_only(&root);
    let _ = apply(&p, &options(&root));
    // Reaching here means the failpoint was not hit: tell the parent.
    std::fs::write(root.join("child-finished"), "1").unwrap();
}

/// The snapshot the fixture's audit saw.
fn fixture_snapshot(root: &Path) -> bulkhead_facts::Snapshot {
    with_file(
        with_file(
            with_daemon(snapshot(root), "", Some(DAEMON_JSON)),
            "/etc/docker/tls/key.pem",
            FileKind::File,
            0o644,
            0,
            0,
        ),
        "/usr/bin/dockerd",
        FileKind::File,
        0o755,
        0,
        0,
    )
}

/// The fixture's failing checks.
fn fixture_audit() -> bulkhead_checks::Audit {
    docker_audit(
        "1.6.0",
        vec![
            ("docker.daemon.icc_disabled", fail()),
            ("docker.daemon.live_restore", fail()),
            ("docker.image.content_trust", fail()),
            (
                "docker.files.tls_key_mode",
                fail_file("/etc/docker/tls/key.pem", "0400 or stricter"),
            ),
            (
                "docker.audit.dockerd",
                bulkhead_checks::CheckResult::from_objects(
                    vec![bulkhead_checks::ObjectResult::new(
                        "file",
                        "/usr/bin/dockerd",
                        bulkhead_checks::Status::Fail,
                    )],
                    "",
                ),
            ),
        ],
    )
}

/// The plan for a root the parent already populated.
fn fixture_plan_only(root: &Path) -> Plan {
    plan(
        &fixture_snapshot(root),
        &[fixture_audit()],
        &PlanRequest {
            root: Some(root.to_path_buf()),
            threat_links: Some(vec![]),
            ..Default::default()
        },
    )
    .unwrap()
}

/// Kill the child with SIGKILL at `point` and check that every planned file is whole.
fn kill_at(point: &str) {
    let root = temp_root(&format!("fault-{point}"));
    let p = fixture(&root);
    kill_child_at_failpoint("fault_child", "BULKHEAD_FAULT_CHILD", &root, point);
    // Every edited file holds exactly its old or its new content.
    for f in &p.fixes {
        for e in &f.action.edits {
            let now = std::fs::read(root.join(e.path.trim_start_matches('/'))).ok();
            let h = now.as_deref().map(sha256_hex);
            assert!(
                h == e.before_sha256 || h.as_deref() == Some(e.after_sha256.as_str()),
                "{point}: {} is neither old nor new: {:?}",
                e.path,
                now.map(|b| String::from_utf8_lossy(&b).into_owned())
            );
        }
    }
    // Every backup that exists is whole.
    for entry in walk(&root) {
        let name = entry.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("daemon.json.bulkhead-") && name.ends_with(".bak") {
            assert_eq!(
                std::fs::read_to_string(&entry).unwrap(),
                DAEMON_JSON,
                "{point}: backup {name}"
            );
        }
    }
    // And rollback brings back the original state from whatever the journal recorded.
    rollback(&options(&root)).unwrap();
    assert_eq!(
        read(&root, "/etc/docker/daemon.json").unwrap(),
        DAEMON_JSON,
        "{point}"
    );
    assert_eq!(
        read(&root, "/etc/audit/rules.d/bulkhead-docker.rules").unwrap(),
        RULES,
        "{point}"
    );
    assert_eq!(
        read(&root, "/etc/profile.d/bulkhead-content-trust.sh"),
        None,
        "{point}"
    );
    let meta = std::fs::metadata(root.join("etc/docker/daemon.json")).unwrap();
    assert_eq!((meta.mode() & 0o7777, meta.uid()), (0o640, 1234), "{point}");
    // Temporary files of the killed run are cleaned up by the rollback.
    let left: Vec<_> = walk(&root)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .contains("bulkhead-tmp")
        })
        .collect();
    assert!(left.is_empty(), "{point}: {left:?}");
}

#[test]
fn an_interrupted_apply_must_be_rolled_back_before_the_next() {
    let root = temp_root("interrupted");
    let p = fixture(&root);
    // Simulate the journal of a run that was killed (written before the first change).
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fault_child", "--nocapture", "--test-threads=1"])
        .env("BULKHEAD_FAULT_CHILD", root.as_os_str())
        .env("BULKHEAD_FAILPOINT", "after-backup")
        .env("BULKHEAD_FAILPOINT_MARKER", root.join("marker"))
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !root.join("marker").exists() {
        assert!(start.elapsed() < Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: signalling the child we spawned.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    child.wait().unwrap();
    let e = apply(&p, &options(&root)).unwrap_err();
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains("interrupted")),
        "{e:?}"
    );
    rollback(&options(&root)).unwrap();
    apply(&p, &options(&root)).unwrap();
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn killed_between_backup_and_rename_leaves_every_file_whole() {
    kill_at("after-backup");
}

#[test]
fn killed_with_the_new_content_written_but_not_renamed_leaves_every_file_whole() {
    kill_at("edit-before-rename");
}

#[test]
fn killed_while_writing_the_backup_leaves_every_file_whole() {
    kill_at("backup-before-rename");
}

#[test]
fn killed_right_after_a_rename_leaves_every_file_whole() {
    kill_at("after-rename");
}

/// `--apply --plan FILE`: only what was reviewed is applied, and nothing at all when a file
/// changed after the reviewed plan read it.
#[test]
fn apply_of_a_reviewed_plan_refuses_files_changed_since_the_review() {
    use bulkhead_harden::apply::restrict_to_reviewed;
    let root = temp_root("reviewed");
    let p = fixture(&root);
    let mut reviewed: serde_json::Value =
        serde_json::from_str(&bulkhead_harden::render::json(&p, "test")).unwrap();
    // The reviewer kept only the daemon.json and file-mode fixes.
    reviewed["fixes"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["kind"] == "daemon-json" || f["kind"] == "file-mode");
    let again = fixture_plan_only(&root);
    let kept = restrict_to_reviewed(&again, &reviewed).unwrap();
    let ids: Vec<&str> = kept.fixes.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            "daemon-json:/etc/docker/daemon.json",
            "file-mode:/etc/docker/tls/key.pem"
        ]
    );
    // daemon.json is edited by hand after the review: the new plan differs, nothing is applied.
    std::fs::write(
        root.join("etc/docker/daemon.json"),
        "{\n  \"icc\": true\n}\n",
    )
    .unwrap();
    let again = fixture_plan_only(&root);
    let e = restrict_to_reviewed(&again, &reviewed).unwrap_err();
    // The snapshot still describes the old file: the planner refuses to plan from it, so the
    // reviewed fix can no longer be applied.
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains("daemon-json:/etc/docker/daemon.json of the reviewed plan is no longer planned") && m.contains("not what the audit read")),
        "{e:?}"
    );
    // Audited again (the snapshot describes the edited file), the edit differs from the reviewed
    // one: refused too.
    let mut snap = with_daemon(snapshot(&root), "", Some("{\n  \"icc\": true\n}\n"));
    snap.host.files = fixture_snapshot(&root).host.files;
    let again = plan(
        &snap,
        &[fixture_audit()],
        &PlanRequest {
            root: Some(root.to_path_buf()),
            threat_links: Some(vec![]),
            ..Default::default()
        },
    )
    .unwrap();
    let e = restrict_to_reviewed(&again, &reviewed).unwrap_err();
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains("/etc/docker/daemon.json changed since the reviewed plan")),
        "{e:?}"
    );
    // A mode changed after the review is refused as well.
    std::fs::write(root.join("etc/docker/daemon.json"), DAEMON_JSON).unwrap();
    std::fs::set_permissions(
        root.join("etc/docker/tls/key.pem"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    let snapless = fixture_plan_only(&root);
    // (The plan still describes the mode the audit saw; apply itself compares with the disk.)
    let kept = restrict_to_reviewed(&snapless, &reviewed).unwrap();
    let e = apply(&kept, &options(&root)).unwrap_err();
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains("key.pem changed after the audit")),
        "{e:?}"
    );
    assert_eq!(
        read(&root, "/etc/docker/daemon.json").unwrap(),
        DAEMON_JSON,
        "nothing applied"
    );
}

/// apply and rollback hold an exclusive lock on the state directory: while another one holds it
/// they wait briefly, then refuse naming its pid, changing nothing; once it is released they run.
#[test]
fn apply_and_rollback_are_exclusive() {
    use bulkhead_harden::apply::lock;
    let root = temp_root("lock");
    let p = fixture(&root);
    let opts = options(&root);
    let held = lock(&opts.state_dir(), Duration::ZERO).unwrap();
    let pid = format!("(pid {}", std::process::id());
    let e = apply(&p, &opts).unwrap_err();
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains("another harden --apply/--rollback is running") && m.contains(&pid)),
        "{e}"
    );
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), DAEMON_JSON);
    assert!(
        !std::fs::read_dir(opts.state_dir()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("journal-")),
        "no journal was written"
    );
    drop(held);
    apply(&p, &opts).unwrap();
    let held = lock(&opts.state_dir(), Duration::ZERO).unwrap();
    let e = rollback(&opts).unwrap_err();
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains("another harden")),
        "{e}"
    );
    assert!(read(&root, "/etc/docker/daemon.json")
        .unwrap()
        .contains("\"icc\": false"));
    // A holder that finishes within the wait: rollback waits for it, then runs.
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        drop(held);
    });
    rollback(&opts).unwrap();
    t.join().unwrap();
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), DAEMON_JSON);
}

/// Two runs with different `--state-dir`s do not meet at a state directory's lock, so the root
/// directory itself is locked as well: an apply or rollback under a root another one is changing
/// waits, then refuses naming the holder's pid (from the kernel's lock table) and changes nothing.
#[test]
fn apply_and_rollback_under_one_root_are_exclusive_across_state_dirs() {
    use bulkhead_harden::apply::lock_root;
    let root = temp_root("root-lock");
    let p = fixture(&root);
    let mut elsewhere = options(&root);
    elsewhere.state_dir = Some(root.join("other-state"));
    // Another run, holding the root's lock while it changes files there (the flock is taken on
    // a descriptor of its own, as another process's would be).
    let held = lock_root(&root, Duration::ZERO).unwrap();
    let e = apply(&p, &elsewhere).unwrap_err();
    let holder = format!("(pid {}, with another state directory)", std::process::id());
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains(&format!("is changing files under {}", root.display())) && m.contains(&holder)),
        "{e}"
    );
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), DAEMON_JSON);
    drop(held);
    apply(&p, &elsewhere).unwrap();
    let held = lock_root(&root, Duration::ZERO).unwrap();
    let e = rollback(&elsewhere).unwrap_err();
    assert!(
        matches!(&e, ApplyError::Refused(m) if m.contains("is changing files under")),
        "{e}"
    );
    assert!(read(&root, "/etc/docker/daemon.json")
        .unwrap()
        .contains("\"icc\": false"));
    drop(held);
    rollback(&elsewhere).unwrap();
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), DAEMON_JSON);
}

/// A backup holds the file's old content, secrets included: it is written 0600 whatever the
/// file's mode was, and rollback gives the file back its own mode (recorded in the journal).
/// Extended attributes survive the rename that replaces the file.
#[test]
fn backups_are_private_and_rollback_restores_the_original_mode() {
    let root = temp_root("backup-mode");
    let p = fixture(&root);
    let dj = root.join("etc/docker/daemon.json");
    std::fs::set_permissions(&dj, std::fs::Permissions::from_mode(0o666)).unwrap();
    let xattr = {
        let path = std::ffi::CString::new(dj.to_str().unwrap()).unwrap();
        // SAFETY: valid C strings and a buffer of the given length.
        unsafe {
            libc::setxattr(
                path.as_ptr(),
                c"user.bulkhead-test".as_ptr(),
                b"kept".as_ptr().cast(),
                4,
                0,
            ) == 0
        }
    };
    let mut p = p;
    for f in &mut p.fixes {
        for a in &mut f.action.attrs {
            if a.path == "/etc/docker/daemon.json" {
                a.before.mode = 0o666;
            }
        }
    }
    let report = apply(&p, &options(&root)).unwrap();
    let (_, backup) = report
        .backups
        .iter()
        .find(|(p, _)| Path::new(p) == dj)
        .unwrap();
    assert_eq!(std::fs::metadata(backup).unwrap().mode() & 0o7777, 0o600);
    if xattr {
        let path = std::ffi::CString::new(dj.to_str().unwrap()).unwrap();
        let mut buf = [0u8; 16];
        // SAFETY: as above.
        let n = unsafe {
            libc::getxattr(
                path.as_ptr(),
                c"user.bulkhead-test".as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        assert_eq!(n, 4, "the xattr was dropped by the rewrite");
        assert_eq!(&buf[..4], b"kept");
    }
    rollback(&options(&root)).unwrap();
    let meta = std::fs::metadata(&dj).unwrap();
    assert_eq!((meta.mode() & 0o7777, meta.uid()), (0o666, 1234));
    assert_eq!(read(&root, "/etc/docker/daemon.json").unwrap(), DAEMON_JSON);
}

/// Under `--root`, what apply and rollback report (and the CLI prints) is where each file is on
/// this machine, root included: `/etc/docker/daemon.json` alone would read as the real /etc
/// having been changed.
#[test]
fn apply_and_rollback_under_a_root_name_the_files_under_it() {
    let root = temp_root("paths-under-root");
    let p = fixture(&root);
    let under = |host: &str| {
        root.join(host.trim_start_matches('/'))
            .display()
            .to_string()
    };
    let report = apply(&p, &options(&root)).unwrap();
    let files: Vec<&String> = report.applied.iter().flat_map(|(_, f)| f).collect();
    assert!(!files.is_empty());
    for f in &files {
        assert!(
            f.starts_with(&root.display().to_string()),
            "{f} is not under {}",
            root.display()
        );
    }
    assert!(
        files.contains(&&under("/etc/docker/daemon.json")),
        "{files:?}"
    );
    assert!(
        files.contains(&&under("/etc/docker/tls/key.pem")),
        "{files:?}"
    );
    for (f, b) in &report.backups {
        assert!(f.starts_with(&root.display().to_string()), "{f}");
        assert!(b.starts_with(&root), "{}", b.display());
    }
    assert!(report
        .backups
        .iter()
        .any(|(f, _)| *f == under("/etc/docker/daemon.json")));
    let r = rollback(&options(&root)).unwrap();
    let dj = under("/etc/docker/daemon.json");
    assert!(
        r.restored.iter().any(
            |x| x.starts_with(&format!("{dj} (from its backup {dj}.bulkhead-"))
                && x.ends_with(".bak, now deleted)")
        ),
        "{:?}",
        r.restored
    );
    assert!(
        r.restored
            .iter()
            .any(|x| x.starts_with(&under("/etc/docker/tls/key.pem"))),
        "{:?}",
        r.restored
    );
    assert_eq!(
        r.removed,
        vec![under("/etc/profile.d/bulkhead-content-trust.sh")]
    );
    for x in r.restored.iter().chain(&r.removed).chain(&r.unchanged) {
        assert!(x.starts_with(&root.display().to_string()), "{x}");
    }
    // The backups did their job and are gone.
    assert!(
        walk(&root)
            .iter()
            .all(|p| !p.to_string_lossy().ends_with(".bak")),
        "{:?}",
        walk(&root)
    );
}
