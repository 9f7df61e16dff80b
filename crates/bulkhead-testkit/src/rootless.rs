//! What a rootless test daemon ([`crate::TestDockerd::start_rootless`]) needs from this machine:
//! a dedicated unprivileged account with subordinate id ranges, the rootless programs, user
//! namespaces, and a choice of network driver.
//!
//! The account [`TEST_USER`] (home [`TEST_HOME`]) and its `/etc/subuid` and `/etc/subgid` lines
//! are created once and left in place: later runs find them and change nothing. Everything a
//! daemon starts runs as that account or one of its subordinate ids, so after a daemon stops,
//! any process with such an id is a leftover of a test daemon and is killed.

use crate::dockerd::find_program;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The account rootless test daemons run as.
pub const TEST_USER: &str = "bhrootless";
/// Its home: private to it, outside /home so that no real user's files are near.
pub const TEST_HOME: &str = "/var/tmp/bhrootless";
/// How many subordinate ids it gets (what `useradd` gives a regular account).
const SUBORDINATE_COUNT: u64 = 65536;
/// Where Debian's docker.io keeps the rootless launcher.
pub const CONTRIB_DIR: &str = "/usr/share/docker.io/contrib";

/// The test account as the daemon runs it.
#[derive(Debug, Clone)]
pub struct RootlessUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
    /// Its first subordinate uid and how many it has (`/etc/subuid`).
    pub subuids: (u64, u64),
}

impl RootlessUser {
    /// `~/.config/docker/daemon.json`, the file a rootless dockerd reads by default.
    pub fn daemon_json(&self) -> PathBuf {
        self.home.join(".config/docker/daemon.json")
    }

    /// `~/.local/share/docker`, a rootless dockerd's default data root.
    pub fn data_root(&self) -> PathBuf {
        self.home.join(".local/share/docker")
    }

    /// Whether a process with real uid `uid` belongs to this account's daemons.
    pub fn owns_uid(&self, uid: u32) -> bool {
        let (start, count) = self.subuids;
        uid == self.uid || (start..start + count).contains(&(uid as u64))
    }
}

/// Why rootless Docker cannot run here at all (a missing program, user namespaces off), or None.
pub fn unavailable_reason() -> Option<String> {
    let mut missing = Vec::new();
    for (program, package) in [
        ("rootlesskit", "rootlesskit"),
        ("newuidmap", "uidmap"),
        ("newgidmap", "uidmap"),
        ("useradd", "passwd"),
    ] {
        if find_program(program).is_none() {
            missing.push(format!("{program} (install {package})"));
        }
    }
    if launcher().is_none() {
        missing.push(format!(
            "dockerd-rootless.sh (in {CONTRIB_DIR}, from docker.io)"
        ));
    }
    if !missing.is_empty() {
        return Some(format!(
            "rootless Docker needs programs this machine lacks: {}",
            missing.join(", ")
        ));
    }
    // Debian's own switch (kernels before 6.1 patched by Debian) and the generic limit.
    let sysctl = |name: &str| {
        std::fs::read_to_string(format!("/proc/sys/{}", name.replace('.', "/")))
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if sysctl("kernel.unprivileged_userns_clone") == Some(0) {
        return Some(
            "unprivileged user namespaces are disabled (sysctl kernel.unprivileged_userns_clone = 0)"
                .into(),
        );
    }
    if sysctl("user.max_user_namespaces") == Some(0) {
        return Some("user namespaces are disabled (sysctl user.max_user_namespaces = 0)".into());
    }
    None
}

/// `dockerd-rootless.sh`: on PATH, else in docker.io's contrib directory.
pub fn launcher() -> Option<PathBuf> {
    find_program("dockerd-rootless.sh").or_else(|| {
        let p = Path::new(CONTRIB_DIR).join("dockerd-rootless.sh");
        p.is_file().then_some(p)
    })
}

/// The rootlesskit network driver, and why: slirp4netns (what rootless Docker uses by default)
/// needs a TAP device, which an unprivileged user can make only where `/dev/net/tun` is open to
/// everyone (udev's default rule; machines without udev often leave it 0600). Otherwise the
/// daemon shares the host's network namespace (`host`), which is enough for containers without
/// a network of their own; the harness then disables the default bridge as for its other daemons.
pub fn network_driver() -> (&'static str, String) {
    let tun = std::fs::metadata("/dev/net/tun");
    let open_to_all = tun
        .as_ref()
        .is_ok_and(|m| m.permissions().mode() & 0o006 == 0o006);
    match (open_to_all, find_program("slirp4netns")) {
        (true, Some(_)) => ("slirp4netns", "slirp4netns".into()),
        (false, _) => (
            "host",
            match tun {
                Ok(m) => format!(
                    "host network: /dev/net/tun is {:04o}, so the test user cannot make the TAP device slirp4netns needs",
                    m.permissions().mode() & 0o7777
                ),
                Err(e) => format!("host network: /dev/net/tun: {e}"),
            },
        ),
        (true, None) => (
            "host",
            "host network: slirp4netns is not installed".to_string(),
        ),
    }
}

/// Create [`TEST_USER`] with its home and subordinate ranges unless they exist; return it.
/// Idempotent, and safe against another test binary doing the same at the same moment (useradd
/// locks /etc/passwd; the id files are written under an exclusive lock of their own).
pub fn ensure_test_user() -> Result<RootlessUser, String> {
    if passwd_entry(TEST_USER).is_none() {
        let out = Command::new(find_program("useradd").ok_or("no useradd")?)
            .args([
                "--system",
                "--user-group",
                "--home-dir",
                TEST_HOME,
                "--create-home",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "bulkhead rootless Docker tests",
                TEST_USER,
            ])
            .output()
            .map_err(|e| format!("running useradd: {e}"))?;
        // Lost a race with another test binary: the account is there all the same.
        if !out.status.success() && passwd_entry(TEST_USER).is_none() {
            return Err(format!(
                "useradd {TEST_USER}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    let (uid, gid, home) =
        passwd_entry(TEST_USER).ok_or_else(|| format!("{TEST_USER} is not in /etc/passwd"))?;
    let home = PathBuf::from(home);
    std::fs::create_dir_all(&home).map_err(|e| format!("creating {}: {e}", home.display()))?;
    chown(&home, uid, gid)?;
    // Private: the daemon's configuration and data root live here.
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("chmod {}: {e}", home.display()))?;
    let _lock = lock_file(Path::new("/etc/.bhk-subid.lock"))?;
    let subuids = ensure_subordinate_range(Path::new("/etc/subuid"), TEST_USER)?;
    ensure_subordinate_range(Path::new("/etc/subgid"), TEST_USER)?;
    Ok(RootlessUser {
        name: TEST_USER.into(),
        uid,
        gid,
        home,
        subuids,
    })
}

/// (uid, gid, home) of `name` in /etc/passwd.
fn passwd_entry(name: &str) -> Option<(u32, u32, String)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() >= 7 && f[0] == name)
            .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?, f[5].to_string())))
            .flatten()
    })
}

/// `name`'s range in a subordinate id file, added after every existing range when missing (so it
/// overlaps none): (first id, count).
fn ensure_subordinate_range(file: &Path, name: &str) -> Result<(u64, u64), String> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("reading {}: {e}", file.display())),
    };
    let (existing, start) = plan_subordinate_range(&text, name);
    if let Some(range) = existing {
        return Ok(range);
    }
    let mut line = format!("{name}:{start}:{SUBORDINATE_COUNT}\n");
    if !text.is_empty() && !text.ends_with('\n') {
        line.insert(0, '\n');
    }
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| format!("adding {name}'s range to {}: {e}", file.display()))?;
    Ok((start, SUBORDINATE_COUNT))
}

/// `name`'s existing range in a subordinate id file's text, and where a new range would start:
/// at the end of the last range there, and never below 100000 (the first id useradd hands out,
/// above every system and regular account).
fn plan_subordinate_range(text: &str, name: &str) -> (Option<(u64, u64)>, u64) {
    let mut end = 100_000u64;
    let mut existing = None;
    for line in text.lines() {
        let f: Vec<&str> = line.trim().split(':').collect();
        let [owner, start, count] = f[..] else {
            continue;
        };
        let (Ok(start), Ok(count)) = (start.parse::<u64>(), count.parse::<u64>()) else {
            continue;
        };
        if owner == name && existing.is_none() {
            existing = Some((start, count));
        }
        end = end.max(start + count);
    }
    (existing, end)
}

pub(crate) fn chown(path: &Path, uid: u32, gid: u32) -> Result<(), String> {
    std::os::unix::fs::chown(path, Some(uid), Some(gid))
        .map_err(|e| format!("chown {uid}:{gid} {}: {e}", path.display()))
}

/// `chown -R`: the harness writes the daemon's configuration as root, the daemon reads it as the
/// test user.
pub(crate) fn chown_tree(path: &Path, uid: u32, gid: u32) -> Result<(), String> {
    chown(path, uid, gid)?;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        for e in std::fs::read_dir(path).map_err(|e| format!("{}: {e}", path.display()))? {
            let e = e.map_err(|e| e.to_string())?;
            chown_tree(&e.path(), uid, gid)?;
        }
    }
    Ok(())
}

/// An exclusive `flock` on `path`, held until the file is dropped.
pub(crate) fn lock_file(path: &Path) -> Result<File, String> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| format!("opening {}: {e}", path.display()))?;
    // SAFETY: flock on a descriptor we own.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(format!(
            "locking {}: {}",
            path.display(),
            std::io::Error::last_os_error()
        ));
    }
    Ok(f)
}

/// Every process of the test account's daemons (its uid or one of its subordinate uids).
pub(crate) fn processes_of(user: &RootlessUser) -> Vec<u32> {
    crate::dockerd::other_processes()
        .into_iter()
        .filter(|pid| real_uid(*pid).is_some_and(|uid| user.owns_uid(uid)))
        .collect()
}

/// A live process's real uid from `/proc/PID/status` (the owner of `/proc/PID` is root for a
/// process that made itself non-dumpable, as container runtimes do). None for a zombie: it has
/// exited, and waits only for its new parent (often a slow init) to reap it.
fn real_uid(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
    };
    if field("State:") == Some("Z") {
        return None;
    }
    field("Uid:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_new_subordinate_range_starts_after_every_existing_one() {
        let text = "dockremap:100000:65536\nalice:165536:65536\n";
        assert_eq!(plan_subordinate_range(text, "bhrootless"), (None, 231072));
        // Out of order, a comment and a malformed line: past the highest end all the same.
        let text = "x:300000:10\n# note\nbad line\ny:100000:65536\n";
        assert_eq!(plan_subordinate_range(text, "b"), (None, 300010));
        // Nothing there yet: useradd's first id.
        assert_eq!(plan_subordinate_range("", "b"), (None, 100000));
        // Present: kept as it is.
        let text = "dockremap:100000:65536\nbhrootless:300000:65536\n";
        assert_eq!(
            plan_subordinate_range(text, "bhrootless").0,
            Some((300000, 65536))
        );
    }

    #[test]
    fn the_accounts_own_and_subordinate_uids_are_its_processes() {
        let u = RootlessUser {
            name: "t".into(),
            uid: 999,
            gid: 999,
            home: "/x".into(),
            subuids: (231072, 65536),
        };
        assert!(u.owns_uid(999) && u.owns_uid(231072) && u.owns_uid(296607));
        assert!(!u.owns_uid(0) && !u.owns_uid(1000) && !u.owns_uid(296608));
    }

    /// A real rootless daemon: run by the test account in a user namespace, in the account's
    /// own locations, able to run a container, and gone without a trace when dropped.
    #[test]
    fn a_rootless_daemon_runs_as_the_test_account_and_leaves_nothing_behind() {
        let Some(d) = crate::TestDockerd::start_rootless_with(
            crate::DaemonOptions::default()
                .daemon_json(serde_json::json!({"labels": ["bulkhead-rootless=1"]})),
        ) else {
            return;
        };
        let user = d
            .rootless_user()
            .expect("a rootless daemon has its account")
            .clone();
        let runtime = d.runtime_dir().unwrap().to_path_buf();
        let meta = std::fs::metadata(&runtime).unwrap();
        assert_eq!(
            (meta.uid(), meta.permissions().mode() & 0o777),
            (user.uid, 0o700)
        );
        let info = d.api().get("/info").unwrap().json().unwrap();
        assert!(
            info["SecurityOptions"]
                .to_string()
                .contains("name=rootless"),
            "{}",
            info["SecurityOptions"]
        );
        assert_eq!(
            info["DockerRootDir"],
            user.data_root().display().to_string()
        );
        // The label proves the daemon read the account's ~/.config/docker/daemon.json.
        assert_eq!(info["Labels"], serde_json::json!(["bulkhead-rootless=1"]));
        let socket = std::fs::metadata(runtime.join("docker.sock")).unwrap();
        assert_eq!(socket.uid(), user.uid, "the socket is the account's");

        // Container uid 0 is the account itself; uid 1000 is its subordinate id 999 (the
        // namespace maps 0 to the account and 1.. to the subordinate range).
        let uid_of = |spec: &crate::ContainerSpec, name: &str| {
            let pid = d.inspect(&d.run(name, spec))["State"]["Pid"]
                .as_u64()
                .unwrap();
            std::fs::metadata(format!("/proc/{pid}")).unwrap().uid()
        };
        assert_eq!(
            uid_of(&crate::ContainerSpec::new(), "rootless-root"),
            user.uid
        );
        let app = uid_of(&crate::ContainerSpec::new().user("1000"), "rootless-app");
        assert_eq!(app as u64, user.subuids.0 + 999);
        let launcher = d.pid();
        drop(d);
        assert!(!runtime.exists(), "{} is removed", runtime.display());
        assert!(!Path::new(&format!("/proc/{launcher}")).exists());
        assert_eq!(
            processes_of(&user),
            Vec::<u32>::new(),
            "nothing of the account runs"
        );
        assert!(!user.data_root().exists(), "the data root is emptied");
        assert!(passwd_entry(TEST_USER).is_some(), "the account is kept");
    }
}
