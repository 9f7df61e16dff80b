//! `harden --apply` and `--rollback` on a host that does not cooperate, with real files: links
//! (inside the root, escaping it, dangling), hard links, FIFOs, devices, directories and huge
//! files where a configuration file should be; ACLs, extended attributes and odd modes that must
//! survive; `chattr +i`, read-only and bind mounts, a full file system; files changed between
//! plan and apply or after apply; two applies at once; a rollback killed half-way; and a state
//! directory someone else planted.
//!
//! Every refusal is checked to have changed nothing: no file edited, no backup, no temporary file
//! and no journal left. Tests that need a privilege this machine lacks (mount, chattr, mknod,
//! setfacl) say so on stderr and skip that part; under `CI=true` they fail instead.

mod common;

use bulkhead_facts::host::FileKind;
use bulkhead_harden::apply::{apply, apply_with, rollback, ApplyError, ApplyOptions};
use bulkhead_harden::verify::Baseline;
use bulkhead_harden::{plan, Plan, PlanRequest};
use common::*;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

const DAEMON_JSON: &str = "{\n  \"icc\": true,\n  \"data-root\": \"/srv/docker\"\n}\n";
const DJ: &str = "/etc/docker/daemon.json";
const PROFILE: &str = "/etc/profile.d/bulkhead-content-trust.sh";
const KEY: &str = "/etc/docker/tls/key.pem";

/// The plan for `root`: daemon.json edited (icc), a profile snippet created, key.pem chmod'ed.
fn plan_for(root: &Path, daemon_json: &str) -> Plan {
    let snap = with_file(
        with_daemon(snapshot(root), "", Some(daemon_json)),
        KEY,
        FileKind::File,
        0o644,
        0,
        0,
    );
    let audit = docker_audit(
        "1.6.0",
        vec![
            ("docker.daemon.icc_disabled", fail()),
            ("docker.image.content_trust", fail()),
            (
                "docker.files.tls_key_mode",
                fail_file(KEY, "0400 or stricter"),
            ),
        ],
    );
    plan(
        &snap,
        &[audit],
        &PlanRequest {
            root: Some(root.to_path_buf()),
            threat_links: Some(vec![]),
            ..Default::default()
        },
    )
    .unwrap()
}

/// daemon.json (0640, uid 1234), /etc/profile.d, key.pem (0644); the plan of its three fixes.
fn host(root: &Path) -> Plan {
    host_files(root, DAEMON_JSON);
    let p = plan_for(root, DAEMON_JSON);
    assert_eq!(p.fixes.len(), 3, "{:#?}", p.unfixed);
    p
}

fn host_files(root: &Path, daemon_json: &str) {
    let dj = put(root, DJ, daemon_json);
    std::fs::set_permissions(&dj, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::os::unix::fs::chown(&dj, Some(1234), Some(1234)).unwrap();
    std::fs::create_dir_all(root.join("etc/profile.d")).unwrap();
    let key = put(root, KEY, "KEY\n");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
}

fn options(root: &Path) -> ApplyOptions {
    ApplyOptions {
        root: root.to_path_buf(),
        include_review: true,
        state_dir: Some(root.join("state")),
    }
}

fn at(root: &Path, host_path: &str) -> PathBuf {
    root.join(host_path.trim_start_matches('/'))
}

fn read(root: &Path, host_path: &str) -> Option<String> {
    std::fs::read_to_string(at(root, host_path)).ok()
}

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().mode() & 0o7777
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// Backups and temporary files under `dir`.
fn leftovers(dir: &Path) -> Vec<PathBuf> {
    walk(dir)
        .into_iter()
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.contains(".bulkhead-") || n.contains("bulkhead-tmp")
        })
        .collect()
}

fn journals(state: &Path) -> usize {
    walk(state)
        .iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("journal-")
        })
        .count()
}

/// The host is as `host` made it: nothing edited, created, backed up or journaled.
fn assert_untouched(root: &Path, daemon_json: &str) {
    assert_eq!(read(root, DJ).as_deref(), Some(daemon_json));
    assert_eq!(read(root, PROFILE), None, "the profile was created");
    assert_eq!(mode(&at(root, KEY)), 0o644, "key.pem was chmod'ed");
    assert_eq!(leftovers(root), Vec::<PathBuf>::new());
    assert_eq!(journals(&root.join("state")), 0, "a journal was written");
}

fn refused(r: Result<bulkhead_harden::apply::ApplyReport, ApplyError>) -> String {
    match r {
        Err(ApplyError::Refused(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn xattr(p: &Path, name: &str) -> Option<Vec<u8>> {
    use std::os::unix::ffi::OsStrExt;
    let path = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    let name = std::ffi::CString::new(name).unwrap();
    let mut buf = vec![0u8; 4096];
    // SAFETY: NUL-terminated strings and a buffer of the length given.
    let n = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    (n >= 0).then(|| buf[..n as usize].to_vec())
}

/// Run a tool; false (and a note) when it is missing or fails (no privilege, no support).
fn tool(args: &[&str]) -> bool {
    let ok = std::process::Command::new(args[0])
        .args(&args[1..])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        unavailable(&format!("`{}` is not available here", args.join(" ")));
    }
    ok
}

/// A tool or privilege a part of a test needs is missing: that part is skipped with a note, and
/// under `CI=true` (where scripts/test installs acl and e2fsprogs and runs as root) the test fails.
fn unavailable(why: &str) {
    assert!(
        !bulkhead_testkit::ci(),
        "{why} (under CI=true a missing tool fails)"
    );
    eprintln!("skipped: {why}");
}

/// A mount made by a test, detached when dropped (before the temporary root is removed).
struct Mount(PathBuf);

impl Mount {
    fn new(
        src: &str,
        target: &Path,
        fstype: Option<&str>,
        flags: libc::c_ulong,
        data: Option<&str>,
    ) -> Option<Mount> {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let t = CString::new(target.as_os_str().as_bytes()).unwrap();
        let s = CString::new(src).unwrap();
        let f = fstype.map(|f| CString::new(f).unwrap());
        let d = data.map(|d| CString::new(d).unwrap());
        // SAFETY: NUL-terminated strings, or null where mount(2) allows it.
        let r = unsafe {
            libc::mount(
                s.as_ptr(),
                t.as_ptr(),
                f.as_ref().map_or(std::ptr::null(), |f| f.as_ptr()),
                flags,
                d.as_ref()
                    .map_or(std::ptr::null(), |d| d.as_ptr().cast::<libc::c_void>()),
            )
        };
        if r != 0 {
            unavailable(&format!(
                "cannot mount on {}: {}",
                target.display(),
                std::io::Error::last_os_error()
            ));
            return None;
        }
        Some(Mount(target.to_path_buf()))
    }

    /// `target` bind-mounted on itself, then made read-only.
    fn read_only(target: &Path) -> Option<Mount> {
        let src = target.to_str().unwrap();
        let m = Mount::new(src, target, None, libc::MS_BIND, None)?;
        Mount::new(
            src,
            target,
            None,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
            None,
        )
        .map(|again| {
            std::mem::forget(again);
            m
        })
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        use std::os::unix::ffi::OsStrExt;
        let t = std::ffi::CString::new(self.0.as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path.
        unsafe { libc::umount2(t.as_ptr(), libc::MNT_DETACH) };
    }
}

/// `chattr` flags set by a test, cleared when dropped so the temporary root can be removed.
struct Chattr(Vec<PathBuf>);

impl Drop for Chattr {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::process::Command::new("chattr")
                .args(["-i", "-a"])
                .arg(p)
                .status();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Symbolic links

/// A link to daemon.json is followed inside the root: relative, absolute (the root's /srv, never
/// this machine's), and one climbing with `..` above the root. The file it points to is edited
/// and backed up beside itself; the link stays a link; nothing is written outside the root.
#[test]
fn links_are_edited_through_inside_the_root_and_survive() {
    let outside = format!("bulkhead-outside-{}", std::process::id());
    for (name, link) in [
        ("relative", "../../srv/conf/daemon.json".to_string()),
        ("absolute", format!("/{outside}/conf/daemon.json")),
        (
            "escaping",
            format!("../../../../../../../../{outside}/conf/daemon.json"),
        ),
    ] {
        let root = temp_root(&format!("link-{name}"));
        host_files(&root, DAEMON_JSON);
        let dj = at(&root, DJ);
        let target_host = if name == "relative" {
            "/srv/conf/daemon.json".to_string()
        } else {
            format!("/{outside}/conf/daemon.json")
        };
        let target = at(&root, &target_host);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::rename(&dj, &target).unwrap();
        std::os::unix::fs::symlink(&link, &dj).unwrap();
        let p = plan_for(&root, DAEMON_JSON);
        let r = apply(&p, &options(&root)).unwrap();
        assert!(
            std::fs::symlink_metadata(&dj)
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name}: the link was replaced"
        );
        assert_eq!(std::fs::read_link(&dj).unwrap(), PathBuf::from(&link));
        let now = std::fs::read_to_string(&target).unwrap();
        assert!(now.contains("\"icc\": false"), "{name}: {now}");
        let meta = std::fs::metadata(&target).unwrap();
        assert_eq!((mode(&target), meta.uid()), (0o640, 1234), "{name}");
        let (_, backup) = r
            .backups
            .iter()
            .find(|(p, _)| p.ends_with("daemon.json"))
            .unwrap();
        assert_eq!(
            backup.parent(),
            target.parent(),
            "{name}: backup beside the target"
        );
        assert!(
            !Path::new(&format!("/{outside}")).exists(),
            "{name}: wrote outside the root"
        );
        rollback(&options(&root)).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), DAEMON_JSON);
        assert!(std::fs::symlink_metadata(&dj)
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

/// A link whose target does not exist is not followed to create a file wherever it points: the
/// planner leaves the fix out, naming the link, and a link planted after the plan is refused by
/// apply, nothing changed.
#[test]
fn a_dangling_link_is_refused_not_followed() {
    let root = temp_root("dangling");
    host_files(&root, DAEMON_JSON);
    let profile = at(&root, PROFILE);
    std::os::unix::fs::symlink("/etc/cron.d/bulkhead-planted", &profile).unwrap();
    let p = plan_for(&root, DAEMON_JSON);
    assert!(
        p.fixes.iter().all(|f| !f.id.starts_with("profile:")),
        "{:#?}",
        p.fixes
    );
    let why = p
        .unfixed
        .iter()
        .find(|u| u.reason.contains("dangling"))
        .unwrap_or_else(|| panic!("{:#?}", p.unfixed));
    assert!(
        why.reason.contains(&format!(
            "the symbolic link {PROFILE} points to /etc/cron.d/bulkhead-planted, which does not exist"
        )),
        "{}",
        why.reason
    );

    // Planted after the plan.
    std::fs::remove_file(&profile).unwrap();
    let p = plan_for(&root, DAEMON_JSON);
    std::os::unix::fs::symlink("/etc/cron.d/bulkhead-planted", &profile).unwrap();
    let m = refused(apply(&p, &options(&root)));
    assert!(m.contains("dangling link"), "{m}");
    assert!(!at(&root, "/etc/cron.d").exists(), "the link was followed");
    std::fs::remove_file(&profile).unwrap();
    assert_untouched(&root, DAEMON_JSON);
}

// ---------------------------------------------------------------------------------------------
// Not a plain file

/// A hard-linked file is refused: the rename would give daemon.json a new inode and silently
/// leave its other name with the old content.
#[test]
fn a_hard_linked_file_is_refused() {
    let root = temp_root("hardlink");
    let p = host(&root);
    std::fs::hard_link(at(&root, DJ), root.join("daemon.json.copy")).unwrap();
    let m = refused(apply(&p, &options(&root)));
    assert!(
        m.contains(&format!("{DJ} (")) && m.contains("has 2 hard links"),
        "{m}"
    );
    std::fs::remove_file(root.join("daemon.json.copy")).unwrap();
    assert_untouched(&root, DAEMON_JSON);
}

/// Run `apply` on another thread: a FIFO must not block it.
fn apply_within(p: &Plan, opts: &ApplyOptions, limit: Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    let (p, opts) = (p.clone(), opts.clone());
    std::thread::spawn(move || {
        let _ = tx.send(apply(&p, &opts));
    });
    refused(
        rx.recv_timeout(limit)
            .expect("apply blocked on the file (a FIFO must never be opened for reading)"),
    )
}

/// A FIFO, a character device (/dev/zero's numbers: reading it never ends), a directory or a
/// file over 16 MiB where daemon.json was planned: refused without reading it, naming it.
/// Planning never reads one either.
#[test]
fn a_fifo_device_directory_or_huge_file_is_refused_without_reading_it() {
    use std::os::unix::ffi::OsStrExt;
    let root = temp_root("special");
    let p = host(&root);
    let dj = at(&root, DJ);
    let c = std::ffi::CString::new(dj.as_os_str().as_bytes()).unwrap();

    std::fs::remove_file(&dj).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    let m = apply_within(&p, &options(&root), Duration::from_secs(20));
    assert!(
        m.contains("is a FIFO (named pipe), not a regular file"),
        "{m}"
    );
    assert!(m.contains(&dj.display().to_string()), "{m}");
    // The planner does not block on it either: the fix is left out with the reason.
    let (tx, rx) = std::sync::mpsc::channel();
    let r2 = root.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(plan_for(&r2, DAEMON_JSON));
    });
    let again = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("planning blocked");
    assert!(
        again.unfixed.iter().any(|u| u.reason.contains("FIFO")),
        "{:#?}",
        again.unfixed
    );
    std::fs::remove_file(&dj).unwrap();

    // SAFETY: as above; makedev(1, 5) is /dev/zero.
    if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o644, libc::makedev(1, 5)) } == 0 {
        let m = apply_within(&p, &options(&root), Duration::from_secs(20));
        assert!(m.contains("is a character device"), "{m}");
        std::fs::remove_file(&dj).unwrap();
    } else {
        unavailable("mknod is not permitted here");
    }

    std::fs::create_dir(&dj).unwrap();
    let m = refused(apply(&p, &options(&root)));
    assert!(m.contains("is a directory, not a regular file"), "{m}");
    std::fs::remove_dir(&dj).unwrap();

    let f = std::fs::File::create(&dj).unwrap();
    f.set_len(bulkhead_harden::files::MAX_FILE_SIZE + 1)
        .unwrap();
    let m = refused(apply(&p, &options(&root)));
    assert!(m.contains("more than the limit of 16 MiB"), "{m}");
    std::fs::remove_file(&dj).unwrap();

    put(&root, DJ, DAEMON_JSON);
    std::fs::set_permissions(&dj, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(read(&root, PROFILE), None);
    assert_eq!(leftovers(&root), Vec::<PathBuf>::new());
    assert_eq!(journals(&root.join("state")), 0);
}

// ---------------------------------------------------------------------------------------------
// What the edited file keeps

/// The edited file keeps its mode, owner, ACL and extended attributes, and gets no ACL entry
/// its directory's default ACL would hand a new file (that entry would let uid 4321 read a file
/// it could not read before). The backup gets no ACL and no more than the owner's read and
/// write bits: it is never more readable than the file. New files are root's, 0644.
#[test]
fn mode_owner_acl_and_xattrs_survive_and_no_default_acl_leaks_in() {
    let root = temp_root("acl");
    let p = host(&root);
    let dj = at(&root, DJ);
    let dir = dj.parent().unwrap().to_path_buf();
    std::fs::create_dir(root.join("state")).unwrap();
    std::fs::set_permissions(root.join("state"), std::fs::Permissions::from_mode(0o700)).unwrap();
    if !tool(&["setfacl", "-m", "u:4321:r,g:5555:rw", dj.to_str().unwrap()])
        || !tool(&["setfacl", "-d", "-m", "u:7777:rw", dir.to_str().unwrap()])
        || !tool(&[
            "setfacl",
            "-d",
            "-m",
            "u:7777:rw",
            root.join("state").to_str().unwrap(),
        ])
    {
        return;
    }
    let acl = xattr(&dj, "system.posix_acl_access").expect("an ACL");
    let mode_before = mode(&dj);
    let tagged = {
        use std::os::unix::ffi::OsStrExt;
        let c = std::ffi::CString::new(dj.as_os_str().as_bytes()).unwrap();
        // SAFETY: NUL-terminated strings and a value of the length given.
        unsafe {
            libc::setxattr(
                c.as_ptr(),
                c"user.bulkhead-test".as_ptr(),
                b"kept".as_ptr().cast(),
                4,
                0,
            ) == 0
        }
    };
    let r = apply(&p, &options(&root)).unwrap();
    assert!(read(&root, DJ).unwrap().contains("\"icc\": false"));
    let meta = std::fs::metadata(&dj).unwrap();
    assert_eq!(
        (mode(&dj), meta.uid(), meta.gid()),
        (mode_before, 1234, 1234)
    );
    assert_eq!(
        xattr(&dj, "system.posix_acl_access").as_deref(),
        Some(acl.as_slice()),
        "the ACL changed (the directory's default ACL leaked in, or the file's was lost)"
    );
    if tagged {
        assert_eq!(
            xattr(&dj, "user.bulkhead-test").as_deref(),
            Some(&b"kept"[..])
        );
    }
    let (_, backup) = r
        .backups
        .iter()
        .find(|(p, _)| p.ends_with("daemon.json"))
        .unwrap();
    assert_eq!(mode(backup), 0o600);
    assert_eq!(
        xattr(backup, "system.posix_acl_access"),
        None,
        "the backup inherited the default ACL"
    );
    let journal = r.journal.as_ref().unwrap();
    assert_eq!(
        (mode(journal), xattr(journal, "system.posix_acl_access")),
        (0o600, None)
    );
    // A new file: root's, 0644.
    let profile = at(&root, PROFILE);
    let pm = std::fs::metadata(&profile).unwrap();
    assert_eq!((mode(&profile), pm.uid(), pm.gid()), (0o644, 0, 0));

    rollback(&options(&root)).unwrap();
    assert_eq!(read(&root, DJ).unwrap(), DAEMON_JSON);
    assert_eq!(mode(&dj), mode_before);
    assert_eq!(
        xattr(&dj, "system.posix_acl_access").as_deref(),
        Some(acl.as_slice())
    );
}

/// The case that leaked: daemon.json has no ACL, its directory has a default ACL. The file
/// replacing it must not pick that ACL up (with mode 0640 it would let uid 4321 read it).
#[test]
fn a_directory_default_acl_does_not_reach_an_edited_file_without_one() {
    let root = temp_root("default-acl");
    let p = host(&root);
    let dj = at(&root, DJ);
    let dir = dj.parent().unwrap().to_path_buf();
    if !tool(&["setfacl", "-d", "-m", "u:4321:rw", dir.to_str().unwrap()]) {
        return;
    }
    assert_eq!(xattr(&dj, "system.posix_acl_access"), None);
    let r = apply(&p, &options(&root)).unwrap();
    assert!(read(&root, DJ).unwrap().contains("\"icc\": false"));
    assert_eq!(
        xattr(&dj, "system.posix_acl_access"),
        None,
        "the edited file inherited its directory's default ACL"
    );
    assert_eq!(mode(&dj), 0o640);
    let (_, backup) = r
        .backups
        .iter()
        .find(|(p, _)| p.ends_with("daemon.json"))
        .unwrap();
    assert_eq!(xattr(backup, "system.posix_acl_access"), None);
    rollback(&options(&root)).unwrap();
    assert_eq!(xattr(&dj, "system.posix_acl_access"), None);
    assert_eq!(
        (read(&root, DJ).unwrap(), mode(&dj)),
        (DAEMON_JSON.into(), 0o640)
    );
}

/// The backup of a file only its owner may read (0400) is 0400 too, not 0600; one nobody may
/// read (0000) is 0000: a backup is never more readable than its file.
#[test]
fn a_backup_is_never_more_readable_than_its_file() {
    for m in [0o400, 0o000, 0o604] {
        let root = temp_root("backup-mode");
        let p = host(&root);
        let dj = at(&root, DJ);
        std::fs::set_permissions(&dj, std::fs::Permissions::from_mode(m)).unwrap();
        let r = apply(&p, &options(&root)).unwrap();
        let (_, backup) = r
            .backups
            .iter()
            .find(|(p, _)| p.ends_with("daemon.json"))
            .unwrap();
        assert_eq!(mode(backup), m & 0o600, "{m:04o}");
        assert_eq!(mode(&dj), m, "{m:04o}");
        rollback(&options(&root)).unwrap();
        assert_eq!(
            (read(&root, DJ).unwrap(), mode(&dj)),
            (DAEMON_JSON.into(), m)
        );
    }
}

/// Run by the re-executed child only: apply under the root the parent named, with the umask
/// it names (the umask is per process, so tests running side by side must not share it).
#[test]
fn umask_child() {
    let Ok(arg) = std::env::var("BULKHEAD_UMASK_CHILD") else {
        return;
    };
    let (root, umask) = arg.rsplit_once(':').unwrap();
    // SAFETY: umask only sets the process's file creation mask.
    unsafe { libc::umask(u32::from_str_radix(umask, 8).unwrap()) };
    let root = PathBuf::from(root);
    let p = plan_for(&root, DAEMON_JSON);
    let mut opts = options(&root);
    opts.state_dir = None;
    // With the verify baseline, as `harden --apply` saves it.
    let state = opts.state_dir();
    apply_with(&p, &opts, || baseline(1000).save(&state).map(|_| ())).unwrap();
    std::fs::write(root.join("child-finished"), "1").unwrap();
}

/// Directories the apply creates are 0755 whatever the umask: not world-writable under umask
/// 000 (anyone could then swap the file in /etc/profile.d), and not closed to the login shells
/// that read the file under umask 077. The state directory is 0700, the journal and the verify
/// baseline 0600.
#[test]
fn created_directories_do_not_follow_the_umask() {
    for umask in ["000", "077"] {
        let root = temp_root(&format!("umask-{umask}"));
        host_files(&root, DAEMON_JSON);
        std::fs::remove_dir(root.join("etc/profile.d")).unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "umask_child", "--nocapture", "--test-threads=1"])
            .env(
                "BULKHEAD_UMASK_CHILD",
                format!("{}:{umask}", root.display()),
            )
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success() && root.join("child-finished").exists());
        assert_eq!(mode(&root.join("etc/profile.d")), 0o755, "umask {umask}");
        let profile = at(&root, PROFILE);
        assert_eq!(mode(&profile), 0o644, "umask {umask}");
        let state = root.join("var/lib/bulkhead/harden");
        assert_eq!(mode(&state), 0o700, "umask {umask}");
        for dir in ["var", "var/lib", "var/lib/bulkhead"] {
            assert_eq!(mode(&root.join(dir)) & 0o022, 0, "umask {umask}: {dir}");
        }
        let journal = walk(&state)
            .into_iter()
            .find(|p| p.to_string_lossy().contains("journal-"))
            .unwrap();
        assert_eq!(mode(&journal), 0o600, "umask {umask}");
        assert_eq!(mode(&Baseline::path(&state)), 0o600, "umask {umask}");
    }
}

// ---------------------------------------------------------------------------------------------
// What cannot be written: refused before the first change

/// `chattr +i` on the file, `+a` on its directory, `+i` on a file whose mode is to change: each
/// is refused before anything is written (before, the rename failed after the backup was
/// written, leaving a half-applied host to roll back). A rollback whose file became immutable
/// is refused the same way, changing nothing.
#[test]
fn immutable_and_append_only_files_are_refused_before_anything_is_written() {
    let root = temp_root("immutable");
    let p = host(&root);
    let dj = at(&root, DJ);
    let _clear = Chattr(vec![
        dj.clone(),
        dj.parent().unwrap().into(),
        at(&root, KEY),
    ]);
    if !tool(&["chattr", "+i", dj.to_str().unwrap()]) {
        return;
    }
    let m = refused(apply(&p, &options(&root)));
    assert!(
        m.contains(&format!("{DJ} ({}) is immutable (chattr +i)", dj.display())),
        "{m}"
    );
    assert!(tool(&["chattr", "-i", dj.to_str().unwrap()]));
    assert_untouched(&root, DAEMON_JSON);

    let dir = dj.parent().unwrap();
    assert!(tool(&["chattr", "+a", dir.to_str().unwrap()]));
    let m = refused(apply(&p, &options(&root)));
    assert!(
        m.contains("is append-only (chattr +a), so a file in it cannot be replaced"),
        "{m}"
    );
    assert!(tool(&["chattr", "-a", dir.to_str().unwrap()]));
    assert_untouched(&root, DAEMON_JSON);

    let key = at(&root, KEY);
    assert!(tool(&["chattr", "+i", key.to_str().unwrap()]));
    let m = refused(apply(&p, &options(&root)));
    assert!(
        m.contains("is immutable (chattr +i): its mode and owner cannot change"),
        "{m}"
    );
    assert!(tool(&["chattr", "-i", key.to_str().unwrap()]));
    assert_untouched(&root, DAEMON_JSON);

    // Applied, then made immutable: the rollback refuses, restoring nothing (the profile it
    // would remove first is still there).
    apply(&p, &options(&root)).unwrap();
    assert!(tool(&["chattr", "+i", dj.to_str().unwrap()]));
    let m = match rollback(&options(&root)) {
        Err(ApplyError::Refused(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(m.contains("is immutable"), "{m}");
    assert!(read(&root, PROFILE).is_some());
    assert_eq!(mode(&key), 0o400);
    assert!(tool(&["chattr", "-i", dj.to_str().unwrap()]));
    rollback(&options(&root)).unwrap();
    assert_eq!(read(&root, DJ).unwrap(), DAEMON_JSON);
}

/// A read-only bind mount over the file's directory, and a file bind-mounted over daemon.json
/// (which a rename cannot replace): refused before anything is written, naming the file.
#[test]
fn read_only_and_bind_mounts_are_refused_before_anything_is_written() {
    let root = temp_root("ro-mount");
    let p = host(&root);
    let docker = at(&root, "/etc/docker");
    {
        let Some(_ro) = Mount::read_only(&docker) else {
            return;
        };
        let m = refused(apply(&p, &options(&root)));
        assert!(
            m.contains(&format!(
                "{DJ}: the directory {} is on a read-only file system",
                docker.display()
            )),
            "{m}"
        );
        assert_untouched(&root, DAEMON_JSON);
    }
    let other = put(&root, "/srv/daemon.json", DAEMON_JSON);
    {
        let dj = at(&root, DJ);
        let Some(_bind) = Mount::new(other.to_str().unwrap(), &dj, None, libc::MS_BIND, None)
        else {
            return;
        };
        let m = refused(apply(&p, &options(&root)));
        assert!(
            m.contains(&format!("{DJ} (")) && m.contains("is a mount point"),
            "{m}"
        );
        assert_untouched(&root, DAEMON_JSON);
    }
    apply(&p, &options(&root)).unwrap();
}

/// A tiny tmpfs as the root. Too small for the backup and the new content: refused before
/// anything is written. Filled up after the checks (here, just before the journal): the apply
/// stops part-way naming the file and the cause, leaves no temporary file, the next apply
/// refuses until the rollback, and the rollback restores everything once there is room.
#[test]
fn a_full_file_system_is_refused_or_reported_and_leaves_no_temporary_file() {
    // A daemon.json of about 40 KiB: ten pages of a 64 KiB tmpfs.
    let big = format!(
        "{{\n  \"icc\": true,\n  \"labels\": [{}]\n}}\n",
        (0..600)
            .map(|i| format!("\"label-{i:04}={}\"", "x".repeat(50)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let outer = temp_root("enospc");
    let root = outer.join("root");
    std::fs::create_dir(&root).unwrap();
    {
        let Some(_fs) = Mount::new("tmpfs", &root, Some("tmpfs"), 0, Some("size=64k")) else {
            return;
        };
        host_files(&root, &big);
        let p = plan_for(&root, &big);
        let m = refused(apply(&p, &options(&root)));
        assert!(
            m.contains("not enough free space on the file system of")
                && m.contains(&format!("for {DJ}")),
            "{m}"
        );
        assert_untouched(&root, &big);
    }
    {
        let Some(_fs) = Mount::new("tmpfs", &root, Some("tmpfs"), 0, Some("size=256k")) else {
            return;
        };
        host_files(&root, &big);
        let p = plan_for(&root, &big);
        let filler = root.join("filler");
        let fill = || {
            let st = nix_statvfs(&root);
            // Room for the journal, not for the backup of daemon.json.
            let keep = 12 * 1024;
            let f = std::fs::File::create(&filler).unwrap();
            f.set_len(0).unwrap();
            let mut w = std::io::BufWriter::new(f);
            std::io::Write::write_all(&mut w, &vec![0u8; (st - keep) as usize])
                .map_err(|e| e.to_string())?;
            std::io::Write::flush(&mut w).map_err(|e| e.to_string())
        };
        let e = apply_with(&p, &options(&root), fill).unwrap_err();
        let ApplyError::Failed(m) = &e else {
            panic!("{e:?}")
        };
        assert!(
            m.contains("No space left on device") && m.contains("daemon.json"),
            "{m}"
        );
        assert!(m.contains(&format!("not changed: {DJ}")), "{m}");
        assert!(m.contains("--rollback"), "{m}");
        let temps: Vec<_> = walk(&root)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("bulkhead-tmp"))
            .collect();
        assert!(temps.is_empty(), "{temps:?}");
        assert_eq!(read(&root, DJ).unwrap(), big);
        assert!(
            matches!(apply(&p, &options(&root)), Err(ApplyError::Refused(r)) if r.contains("interrupted"))
        );
        std::fs::remove_file(&filler).unwrap();
        rollback(&options(&root)).unwrap();
        assert_eq!(read(&root, DJ).unwrap(), big);
        assert_eq!(read(&root, PROFILE), None);
        assert_eq!(mode(&at(&root, KEY)), 0o644);
    }
}

/// Free bytes on the file system of `p` for root.
fn nix_statvfs(p: &Path) -> u64 {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
    // SAFETY: a NUL-terminated path and a zeroed struct the call fills.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        assert_eq!(libc::statvfs(c.as_ptr(), &mut st), 0);
        st.f_bfree as u64 * st.f_frsize as u64
    }
}

// ---------------------------------------------------------------------------------------------
// Changes by others: between plan and apply, during, and after

/// daemon.json given another mode after the plan (its content unchanged): the edit keeps the
/// mode the admin chose, and rollback gives that mode back. key.pem given another mode after the
/// plan: refused, its fix was computed from the old one.
#[test]
fn a_mode_changed_between_plan_and_apply() {
    let root = temp_root("mode-between");
    let p = host(&root);
    let dj = at(&root, DJ);
    std::fs::set_permissions(&dj, std::fs::Permissions::from_mode(0o600)).unwrap();
    apply(&p, &options(&root)).unwrap();
    assert_eq!(mode(&dj), 0o600);
    rollback(&options(&root)).unwrap();
    assert_eq!(
        (read(&root, DJ).unwrap(), mode(&dj)),
        (DAEMON_JSON.into(), 0o600)
    );

    let root = temp_root("mode-between-key");
    let p = host(&root);
    std::fs::set_permissions(at(&root, KEY), std::fs::Permissions::from_mode(0o640)).unwrap();
    let m = refused(apply(&p, &options(&root)));
    assert!(
        m.contains(&format!("{KEY} changed after the audit (mode 0640")),
        "{m}"
    );
    assert_eq!(read(&root, DJ).unwrap(), DAEMON_JSON);
    assert_eq!(read(&root, PROFILE), None);
}

/// Two applies of the same plan at once: one applies, the other refuses (it waits for the lock,
/// then finds the files changed); each file is backed up and written once, one journal.
#[test]
fn two_applies_at_once_change_each_file_once() {
    let root = temp_root("concurrent");
    let p = host(&root);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    // Both threads must be started before either is joined (they meet at the barrier).
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let (p, opts, b) = (p.clone(), options(&root), barrier.clone());
            std::thread::spawn(move || {
                b.wait();
                apply(&p, &opts)
            })
        })
        .collect();
    let runs: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let ok = runs.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{runs:?}");
    let other = runs.into_iter().find(|r| r.is_err()).unwrap();
    let m = refused(other);
    assert!(
        m.contains("changed after the plan read it")
            || m.contains("was created after the plan")
            || m.contains("another harden --apply/--rollback is running"),
        "{m}"
    );
    assert_eq!(journals(&root.join("state")), 1);
    let backups: Vec<_> = leftovers(&root)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("daemon.json.bulkhead-"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    rollback(&options(&root)).unwrap();
    assert_eq!(read(&root, DJ).unwrap(), DAEMON_JSON);
}

/// After the apply, the admin changes daemon.json's mode, or its owner, or replaces it with a
/// link to a file holding the same content: rollback refuses, changing nothing (not even the
/// other files), instead of silently undoing the admin's change. Once the admin's change is
/// undone, rollback works.
#[test]
fn rollback_refuses_to_clobber_a_newer_change_of_mode_owner_or_link() {
    let root = temp_root("rb-newer");
    let p = host(&root);
    apply(&p, &options(&root)).unwrap();
    let dj = at(&root, DJ);
    let applied = read(&root, DJ).unwrap();
    let still_applied = |root: &Path| {
        assert_eq!(read(root, DJ).unwrap(), applied);
        assert!(read(root, PROFILE).is_some());
        assert_eq!(mode(&at(root, KEY)), 0o400);
    };
    let rb = |root: &Path| match rollback(&options(root)) {
        Err(ApplyError::Refused(m)) => m,
        other => panic!("{other:?}"),
    };

    std::fs::set_permissions(&dj, std::fs::Permissions::from_mode(0o600)).unwrap();
    let m = rb(&root);
    assert!(
        m.contains(&format!(
            "{DJ} changed mode or owner after harden applied it (now 0600 1234:1234, harden left 0640 1234:1234)"
        )),
        "{m}"
    );
    still_applied(&root);
    std::fs::set_permissions(&dj, std::fs::Permissions::from_mode(0o640)).unwrap();

    std::os::unix::fs::chown(&dj, Some(0), None).unwrap();
    let m = rb(&root);
    assert!(
        m.contains("(now 0640 0:1234, harden left 0640 1234:1234)"),
        "{m}"
    );
    still_applied(&root);
    std::os::unix::fs::chown(&dj, Some(1234), None).unwrap();

    let moved = at(&root, "/srv/daemon.json");
    std::fs::create_dir_all(moved.parent().unwrap()).unwrap();
    std::fs::rename(&dj, &moved).unwrap();
    std::os::unix::fs::symlink("/srv/daemon.json", &dj).unwrap();
    let m = rb(&root);
    assert!(
        m.contains("was replaced by a symbolic link after harden applied it"),
        "{m}"
    );
    assert!(std::fs::symlink_metadata(&dj)
        .unwrap()
        .file_type()
        .is_symlink());
    std::fs::remove_file(&dj).unwrap();
    std::fs::rename(&moved, &dj).unwrap();

    rollback(&options(&root)).unwrap();
    assert_eq!(
        (read(&root, DJ).unwrap(), mode(&dj)),
        (DAEMON_JSON.into(), 0o640)
    );
}

/// Rollback undoes one apply at a time, newest first; once all are undone it refuses, changing
/// nothing.
#[test]
fn rollback_twice_undoes_the_applies_in_turn_then_refuses() {
    let root = temp_root("rb-twice");
    let p = host(&root);
    let only = |kind: &str| Plan {
        fixes: p
            .fixes
            .iter()
            .filter(|f| f.id.starts_with(kind))
            .cloned()
            .collect(),
        ..p.clone()
    };
    apply(&only("file-mode:"), &options(&root)).unwrap();
    apply(&only("profile:"), &options(&root)).unwrap();
    rollback(&options(&root)).unwrap();
    assert_eq!(read(&root, PROFILE), None);
    assert_eq!(
        mode(&at(&root, KEY)),
        0o400,
        "the older apply is still there"
    );
    rollback(&options(&root)).unwrap();
    assert_eq!(mode(&at(&root, KEY)), 0o644);
    let m = match rollback(&options(&root)) {
        Err(ApplyError::Refused(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(m.contains("nothing to roll back"), "{m}");
    assert_eq!(read(&root, DJ).unwrap(), DAEMON_JSON);
}

/// Run by the re-executed child only: apply, then roll back, stopping at the failpoint the
/// parent named.
#[test]
fn rollback_child() {
    let Ok(root) = std::env::var("BULKHEAD_ROLLBACK_CHILD") else {
        return;
    };
    let root = PathBuf::from(root);
    let p = plan_for(&root, DAEMON_JSON);
    apply(&p, &options(&root)).unwrap();
    let _ = rollback(&options(&root));
    std::fs::write(root.join("child-finished"), "1").unwrap();
}

/// A rollback killed (SIGKILL) with the restored daemon.json written but not renamed yet, or
/// with the journal not yet marked rolled back: every file is whole, and running the rollback
/// again finishes it, leaving no temporary file.
#[test]
fn a_rollback_killed_half_way_can_be_run_again() {
    for point in ["restore-before-rename", "rollback-journal-before-rename"] {
        let root = temp_root("rb-killed");
        host(&root);
        kill_child_at_failpoint("rollback_child", "BULKHEAD_ROLLBACK_CHILD", &root, point);
        let dj = read(&root, DJ).unwrap();
        assert!(
            dj == DAEMON_JSON || dj.contains("\"icc\": false"),
            "{point}: {dj}"
        );
        let r = rollback(&options(&root)).unwrap();
        assert_eq!(read(&root, DJ).unwrap(), DAEMON_JSON, "{point}: {r:?}");
        assert_eq!(read(&root, PROFILE), None, "{point}");
        assert_eq!(mode(&at(&root, KEY)), 0o644, "{point}");
        assert_eq!(mode(&at(&root, DJ)), 0o640, "{point}");
        let temps: Vec<_> = walk(&root)
            .into_iter()
            .filter(|p| p.to_string_lossy().contains("bulkhead-tmp"))
            .collect();
        assert!(temps.is_empty(), "{point}: {temps:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// The state directory

/// `--rollback` writes whatever its journal names with the content of the backup it names: a
/// state directory someone else could write would hand them every file on the machine. A
/// directory planted as a link owned by another user, a root-owned link to another user's
/// directory, a world-writable state directory: apply refuses, writing nothing there or anywhere.
#[test]
fn a_state_directory_someone_else_controls_is_refused() {
    let outer = temp_root("planted");
    let root = outer.join("root");
    std::fs::create_dir(&root).unwrap();
    let p = host(&root);
    let evil = outer.join("evil");
    std::fs::create_dir(&evil).unwrap();
    std::os::unix::fs::chown(&evil, Some(1234), Some(1234)).unwrap();
    std::fs::create_dir_all(root.join("var/lib")).unwrap();
    let link = root.join("var/lib/bulkhead");
    std::os::unix::fs::symlink(&evil, &link).unwrap();
    let default_state = ApplyOptions {
        state_dir: None,
        ..options(&root)
    };

    std::os::unix::fs::lchown(&link, Some(1234), Some(1234)).unwrap();
    let m = refused(apply(&p, &default_state));
    assert!(
        m.contains("the state directory")
            && m.contains("cannot be trusted")
            && m.contains(&format!("{} is owned by uid 1234", link.display())),
        "{m}"
    );
    assert_eq!(
        walk(&evil),
        Vec::<PathBuf>::new(),
        "wrote into the planted directory"
    );

    // Our own link, to a directory another user owns.
    std::os::unix::fs::lchown(&link, Some(0), Some(0)).unwrap();
    let m = refused(apply(&p, &default_state));
    assert!(
        m.contains(&format!("{} is owned by uid 1234", evil.display())),
        "{m}"
    );
    assert_eq!(walk(&evil), Vec::<PathBuf>::new());

    // A journal forged there: it names a root-owned file and a "backup" of the attacker's
    // choosing, with the hashes rollback checks. Rollback refuses to read it.
    let victim = put(&root, "/etc/victim", "precious\n");
    let payload = evil.join("payload");
    std::fs::write(&payload, "owned\n").unwrap();
    std::fs::create_dir(evil.join("harden")).unwrap();
    let sha = bulkhead_harden::files::sha256_hex;
    let forged = serde_json::json!({
        "schema": bulkhead_harden::apply::JOURNAL_SCHEMA,
        "id": "forged",
        "state": "applied",
        "root": "/",
        "entries": [{
            "type": "edit",
            "fix": "forged",
            "path": "/etc/victim",
            "real_path": victim,
            "backup": payload,
            "before_sha256": sha(b"owned\n"),
            "after_sha256": sha(b"precious\n"),
        }],
    });
    std::fs::write(evil.join("harden/journal-forged.json"), forged.to_string()).unwrap();
    for p in [
        evil.join("harden"),
        evil.join("harden/journal-forged.json"),
        payload,
    ] {
        std::os::unix::fs::chown(&p, Some(1234), Some(1234)).unwrap();
    }
    assert!(
        matches!(rollback(&default_state), Err(ApplyError::Refused(m)) if m.contains("cannot be trusted"))
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    std::fs::remove_file(&victim).unwrap();

    // A world-writable state directory.
    std::fs::remove_file(&link).unwrap();
    let state = root.join("var/lib/bulkhead/harden");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o777)).unwrap();
    let m = refused(apply(&p, &default_state));
    assert!(m.contains("is writable by"), "{m}");
    assert_untouched(&root, DAEMON_JSON);
    assert_eq!(journals(&state), 0);
}

/// Inside a state directory that is ours, a journal another user owns or may write is refused
/// by rollback, and a link planted as the lock file is refused by apply without emptying (or
/// even opening) its target.
#[test]
fn a_planted_journal_or_lock_is_refused() {
    let root = temp_root("planted-journal");
    let p = host(&root);
    let r = apply(&p, &options(&root)).unwrap();
    let journal = r.journal.unwrap();
    std::os::unix::fs::chown(&journal, Some(1234), None).unwrap();
    let m = match rollback(&options(&root)) {
        Err(ApplyError::Refused(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(
        m.contains(&format!(
            "the journal {} cannot be trusted",
            journal.display()
        )),
        "{m}"
    );
    assert!(read(&root, DJ).unwrap().contains("\"icc\": false"));
    std::os::unix::fs::chown(&journal, Some(0), None).unwrap();
    std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o666)).unwrap();
    assert!(
        matches!(rollback(&options(&root)), Err(ApplyError::Refused(m)) if m.contains("cannot be trusted"))
    );
    std::fs::set_permissions(&journal, std::fs::Permissions::from_mode(0o600)).unwrap();
    rollback(&options(&root)).unwrap();

    let victim = put(&root, "/etc/victim", "precious\n");
    let lock = root.join("state").join(bulkhead_harden::apply::LOCK_FILE);
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&victim, &lock).unwrap();
    let m = refused(apply(&p, &options(&root)));
    assert!(m.contains(&lock.display().to_string()), "{m}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(read(&root, DJ).unwrap(), DAEMON_JSON);
}

// ---------------------------------------------------------------------------------------------
// The verify baseline: written by `harden --apply` beside the journals, as privately

/// A verify baseline as `harden --apply` records it, `size` bytes of threat titles or more.
fn baseline(size: usize) -> Baseline {
    let threats = (0..size / 100 + 1)
        .map(|i| (format!("T{i:05}"), ("x".repeat(90), "open".to_string())))
        .collect();
    Baseline::new(&[], vec!["docker.daemon.icc_disabled".into()], threats)
}

/// Every name in `dir` (not recursive), sorted, with the journals' stamps cut off.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .map(|n| match n.starts_with("journal-") {
            true => "journal-*".into(),
            false => n,
        })
        .collect();
    v.sort();
    v
}

/// The baseline records the host's audit state: like a journal it is 0600, owned by the user
/// running bulkhead, with no ACL from the state directory's default ACL, whatever mode an earlier
/// baseline had. A link planted at a temporary name (the one earlier versions wrote through,
/// `.baseline.json.tmp`, and the one it is written through now) is never followed: its target,
/// existing or not, is untouched, and baseline.json is a regular file. A write that fails at the
/// last step leaves the previous baseline and no temporary file.
#[test]
fn the_verify_baseline_is_private_and_never_written_through_a_planted_link() {
    let root = temp_root("baseline-private");
    let p = host(&root);
    let state = root.join("state");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&state)
        .unwrap();
    let acl = tool(&["setfacl", "-d", "-m", "u:7777:rw", state.to_str().unwrap()]);
    // An earlier baseline, readable by all.
    let earlier = put(&root, "/state/baseline.json", "{}\n");
    std::fs::set_permissions(&earlier, std::fs::Permissions::from_mode(0o644)).unwrap();
    let victim = put(&root, "/etc/victim", "precious\n");
    let absent = at(&root, "/etc/cron.d/bulkhead-planted");
    std::os::unix::fs::symlink(&victim, state.join(".baseline.json.tmp")).unwrap();
    let tmp = format!(".baseline.json.bulkhead-tmp-{}", std::process::id());
    std::os::unix::fs::symlink(&absent, state.join(&tmp)).unwrap();

    let b = baseline(1000);
    apply_with(&p, &options(&root), || b.save(&state).map(|_| ())).unwrap();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(!absent.exists(), "the planted link was followed");
    let saved = Baseline::path(&state);
    let meta = std::fs::symlink_metadata(&saved).unwrap();
    assert!(meta.is_file(), "{:?}", meta.file_type());
    assert_eq!((mode(&saved), meta.uid(), meta.gid()), (0o600, 0, 0));
    if acl {
        assert_eq!(xattr(&saved, "system.posix_acl_access"), None);
    }
    assert_eq!(Baseline::load(&state).unwrap(), b);
    assert_eq!(
        names(&state),
        ["baseline.json", "harden.lock", "journal-*"],
        "a temporary file or a planted link is left"
    );

    // Saved again, failing just before the rename: the previous baseline stays, alone.
    use bulkhead_harden::failpoint::fail_on_this_thread;
    fail_on_this_thread(Some(("baseline-before-rename", 1)));
    let e = baseline(2000).save(&state).unwrap_err();
    fail_on_this_thread(None);
    assert!(
        e.contains("failure injected") && e.contains(&saved.display().to_string()),
        "{e}"
    );
    assert_eq!(Baseline::load(&state).unwrap(), b);
    assert_eq!(names(&state), ["baseline.json", "harden.lock", "journal-*"]);
}

/// The state directory on a tiny tmpfs: a baseline that does not fit fails with the cause and
/// the file named, leaves the baseline saved before as it was and no temporary file. Through
/// `apply_with`, as `harden --apply` saves it (on a tmpfs with room for the journal, which apply
/// checks first), the apply is refused and nothing is changed.
#[test]
fn a_baseline_that_does_not_fit_leaves_no_temporary_file() {
    let root = temp_root("baseline-enospc");
    let p = host(&root);
    let state = root.join("state");
    std::fs::create_dir(&state).unwrap();
    let small = baseline(1000);
    // Four times the 16 KiB file system, more than the 64 KiB one has left.
    let big = baseline(64 * 1024);
    {
        let Some(_fs) = Mount::new(
            "tmpfs",
            &state,
            Some("tmpfs"),
            0,
            Some("size=16k,mode=0700"),
        ) else {
            return;
        };
        small.save(&state).unwrap();
        let e = big.save(&state).unwrap_err();
        assert!(
            e.contains("No space left on device")
                && e.contains(&Baseline::path(&state).display().to_string()),
            "{e}"
        );
        assert_eq!(names(&state), ["baseline.json"], "a temporary file is left");
        assert_eq!(Baseline::load(&state).unwrap(), small);
        assert_eq!(mode(&Baseline::path(&state)), 0o600);
    }
    {
        let Some(_fs) = Mount::new(
            "tmpfs",
            &state,
            Some("tmpfs"),
            0,
            Some("size=64k,mode=0700"),
        ) else {
            return;
        };
        small.save(&state).unwrap();
        let m = refused(apply_with(&p, &options(&root), || {
            big.save(&state).map(|_| ())
        }));
        assert!(m.contains("No space left on device"), "{m}");
        assert_untouched(&root, DAEMON_JSON);
        assert_eq!(names(&state), ["baseline.json", "harden.lock"]);
        assert_eq!(Baseline::load(&state).unwrap(), small);
    }
    assert_eq!(
        names(&state),
        Vec::<String>::new(),
        "a tmpfs is left mounted"
    );
}

// ---------------------------------------------------------------------------------------------
// A directory swapped for a symbolic link between the preflight and the write

/// Every file under `dir` with its content (directories and links by their kind): what a test
/// compares before and after to prove nothing was written there.
fn contents(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut v: Vec<(PathBuf, String)> = walk(dir)
        .into_iter()
        .map(|p| {
            let m = std::fs::symlink_metadata(&p).unwrap();
            let what = if m.is_file() {
                format!(
                    "{:o} {}:{} {}",
                    m.mode() & 0o7777,
                    m.uid(),
                    m.gid(),
                    std::fs::read_to_string(&p).unwrap()
                )
            } else {
                format!("{:?} {:o}", m.file_type(), m.mode() & 0o7777)
            };
            (p, what)
        })
        .collect();
    v.sort();
    v
}

/// A directory outside the root laid out like /etc/docker (daemon.json, tls/key.pem), where a
/// swapped link would send the writes.
fn outside_docker(name: &str) -> (TempRoot, PathBuf) {
    let outside = temp_root(name);
    let dir = outside.join("docker");
    std::fs::create_dir_all(dir.join("tls")).unwrap();
    std::fs::write(dir.join("daemon.json"), DAEMON_JSON).unwrap();
    std::fs::write(dir.join("tls/key.pem"), "KEY\n").unwrap();
    std::fs::set_permissions(
        dir.join("tls/key.pem"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    (outside, dir)
}

/// Replace the root's /etc/docker by a symbolic link to `link` (the real directory is moved
/// to /etc/docker.moved, as someone able to write in /etc could).
fn swap_etc_docker(root: &Path, link: &Path) {
    std::fs::rename(at(root, "/etc/docker"), at(root, "/etc/docker.moved")).unwrap();
    std::os::unix::fs::symlink(link, at(root, "/etc/docker")).unwrap();
}

/// Between the preflight (which checked /etc/docker, its owner, modes and mount) and the
/// write, /etc/docker is swapped for a symbolic link: to a directory outside the root (by its
/// absolute path, and climbing with `..`), or to another directory inside it. The directory is
/// opened inside the root (openat2, RESOLVE_IN_ROOT) and must be the one checked: the apply is
/// refused naming the file and the directory, and nothing is written anywhere (outside the
/// root, in the other directory, in the moved one), no journal either.
#[test]
fn a_directory_swapped_for_a_link_after_the_preflight_is_refused() {
    use bulkhead_harden::failpoint::call_on_this_thread;
    let (outside, outside_dir) = outside_docker("swap-outside");
    let escaping = PathBuf::from(format!(
        "{}{}",
        "../".repeat(30),
        outside_dir.display().to_string().trim_start_matches('/')
    ));
    for (name, link) in [
        ("absolute", outside_dir.clone()),
        ("escaping", escaping),
        ("inside", PathBuf::from("/srv/decoy")),
    ] {
        let root = temp_root(&format!("swap-{name}"));
        let p = host(&root);
        let decoy = at(&root, "/srv/decoy");
        std::fs::create_dir_all(decoy.join("tls")).unwrap();
        std::fs::write(decoy.join("daemon.json"), DAEMON_JSON).unwrap();
        let outside_before = contents(&outside);
        let decoy_before = contents(&decoy);
        let moved_before = contents(&at(&root, "/etc/docker"));
        let (r, l) = (root.to_path_buf(), link.clone());
        call_on_this_thread(Some((
            "after-preflight",
            Box::new(move || swap_etc_docker(&r, &l)),
        )));
        let result = apply(&p, &options(&root));
        call_on_this_thread(None);
        let m = refused(result);
        assert!(
            m.contains(&format!(
                "{DJ}: the directory {}",
                at(&root, "/etc/docker").display()
            )) && m.contains("is no longer the one checked before writing"),
            "{name}: {m}"
        );
        assert!(
            std::fs::symlink_metadata(at(&root, "/etc/docker"))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{name}: the swap did not happen"
        );
        assert_eq!(
            contents(&outside),
            outside_before,
            "{name}: wrote outside the root"
        );
        assert_eq!(contents(&decoy), decoy_before, "{name}: wrote in the decoy");
        assert_eq!(
            contents(&at(&root, "/etc/docker.moved"))
                .into_iter()
                .map(|(p, c)| (
                    at(&root, "/etc/docker")
                        .join(p.strip_prefix(at(&root, "/etc/docker.moved")).unwrap()),
                    c
                ))
                .collect::<Vec<_>>(),
            moved_before,
            "{name}: wrote in the moved directory"
        );
        assert_eq!(
            read(&root, PROFILE),
            None,
            "{name}: the profile was created"
        );
        assert_eq!(leftovers(&root), Vec::<PathBuf>::new(), "{name}");
        assert_eq!(
            journals(&root.join("state")),
            0,
            "{name}: a journal was written"
        );
    }
}

/// Once the directories are open, a swap changes nothing of where the writes land: /etc/docker
/// swapped for a link to a directory outside the root right after daemon.json's backup, the new
/// content, and the chmod of tls/key.pem, still go to the directory that was checked (now
/// /etc/docker.moved); nothing is written outside the root.
#[test]
fn a_directory_swapped_after_it_was_opened_keeps_every_write_inside_the_root() {
    use bulkhead_harden::failpoint::call_on_this_thread;
    let (outside, outside_dir) = outside_docker("swap-late-outside");
    let root = temp_root("swap-late");
    let p = host(&root);
    let outside_before = contents(&outside);
    let (r, l) = (root.to_path_buf(), outside_dir.clone());
    call_on_this_thread(Some((
        "after-backup",
        Box::new(move || swap_etc_docker(&r, &l)),
    )));
    let result = apply(&p, &options(&root));
    call_on_this_thread(None);
    result.unwrap();
    assert_eq!(contents(&outside), outside_before, "wrote outside the root");
    let moved = at(&root, "/etc/docker.moved");
    let now = std::fs::read_to_string(moved.join("daemon.json")).unwrap();
    assert!(now.contains("\"icc\": false"), "{now}");
    assert_eq!(mode(&moved.join("daemon.json")), 0o640);
    assert_eq!(mode(&moved.join("tls/key.pem")), 0o400);
    let backups: Vec<PathBuf> = leftovers(&root)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(backups[0].parent(), Some(moved.as_path()));
    assert!(leftovers(&root)
        .iter()
        .all(|p| !p.to_string_lossy().contains("bulkhead-tmp")));
}

/// Rollback opens its directories the same way: /etc/docker swapped for a link to a directory
/// outside the root between its checks and its writes is refused, naming the file, and nothing
/// is restored there or anywhere else.
#[test]
fn a_directory_swapped_for_a_link_during_rollback_is_refused() {
    use bulkhead_harden::failpoint::call_on_this_thread;
    let (outside, outside_dir) = outside_docker("swap-rb-outside");
    // What the apply left there, so that the content check before the write passes.
    let root = temp_root("swap-rb");
    let p = host(&root);
    apply(&p, &options(&root)).unwrap();
    let applied = read(&root, DJ).unwrap();
    std::fs::write(outside_dir.join("daemon.json"), &applied).unwrap();
    let outside_before = contents(&outside);
    let (r, l) = (root.to_path_buf(), outside_dir.clone());
    call_on_this_thread(Some((
        "rollback-after-preflight",
        Box::new(move || swap_etc_docker(&r, &l)),
    )));
    let result = rollback(&options(&root));
    call_on_this_thread(None);
    let m = match result {
        Err(ApplyError::Refused(m)) => m,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(
        m.contains(&format!("{DJ}: the directory")) && m.contains("is no longer the one checked"),
        "{m}"
    );
    assert_eq!(contents(&outside), outside_before, "wrote outside the root");
    let moved = at(&root, "/etc/docker.moved");
    assert_eq!(
        std::fs::read_to_string(moved.join("daemon.json")).unwrap(),
        applied
    );
    assert!(read(&root, PROFILE).is_some(), "the profile was removed");
    // Put back, the rollback works.
    std::fs::remove_file(at(&root, "/etc/docker")).unwrap();
    std::fs::rename(&moved, at(&root, "/etc/docker")).unwrap();
    rollback(&options(&root)).unwrap();
    assert_eq!(read(&root, DJ).as_deref(), Some(DAEMON_JSON));
}
