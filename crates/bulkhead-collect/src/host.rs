//! Host facts: identity (hostname, os-release, kernel), processes, accounts, mounts, listening
//! sockets, audit rules, kernel security modules, and the `DOCKER_*` variables of the auditing
//! environment and of the system-wide shell profile files (read literally, never evaluated).
//! Files the checks need are added by the Docker part, which knows their real paths.

use crate::hostfs::{Accounts, HostFs};
use crate::{audit, listen, procfs};
use bulkhead_facts::host::{
    parse_env_file, parse_group, parse_mountinfo, parse_nsswitch, parse_os_release, parse_passwd,
    HostFacts, SecurityModules,
};
use bulkhead_facts::mask::mask_assignment;
use bulkhead_facts::Fact;
use std::collections::BTreeMap;
use std::path::Path;

/// Variables of the environment that checks consult: every `DOCKER_*` (4.5 reads
/// `DOCKER_CONTENT_TRUST`).
fn consulted(name: &str) -> bool {
    name.starts_with("DOCKER_")
}

/// System-wide shell profile files that can set variables for every login.
const PROFILE_FILES: &[&str] = &["/etc/environment", "/etc/profile", "/etc/bash.bashrc"];

/// Read everything about the host except Docker's files.
pub fn collect(fs: &HostFs, proc: &Path) -> (HostFacts, Accounts) {
    let users = read_with(fs, "/etc/passwd", parse_passwd);
    let groups = read_with(fs, "/etc/group", parse_group);
    let accounts = Accounts {
        users: users.value().cloned().unwrap_or_default(),
        groups: groups.value().cloned().unwrap_or_default(),
    };
    let hostname = match fs.read_to_string("/etc/hostname") {
        Ok(h) if !h.trim().is_empty() => Fact::Value(h.trim().to_string()),
        _ => read_proc_line(proc, "sys/kernel/hostname"),
    };
    // The audit list and the listening sockets are a few system calls each: a thread of their
    // own would cost more than it saves. Processes are read on two threads (`read_processes`).
    let listeners = listen::listeners(proc);
    let processes = procfs::read_processes(proc);
    let audit = audit::collect(fs, proc, processes.as_deref().unwrap_or_default());
    let facts = HostFacts {
        root: fs.root().display().to_string(),
        proc: proc.display().to_string(),
        hostname,
        os_release: match fs.read_to_string("/etc/os-release") {
            Ok(t) => Fact::Value(parse_os_release(&t)),
            Err(_) => read_with(fs, "/usr/lib/os-release", parse_os_release),
        },
        kernel: read_proc_line(proc, "sys/kernel/osrelease"),
        processes: processes.into(),
        files: BTreeMap::new(),
        listings: BTreeMap::new(),
        users,
        groups,
        mounts: read_mounts(proc),
        audit,
        security_modules: security_modules(fs),
        environment: std::env::vars()
            .filter(|(k, _)| consulted(k))
            .map(|(k, v)| {
                let masked = mask_assignment(&format!("{k}={v}"));
                let v = masked.split_once('=').map(|(_, v)| v.to_string());
                (k, v.unwrap_or_default())
            })
            .collect(),
        profile_environment: profile_environment(fs),
        listeners,
        group_sources: fs
            .read_to_string("/etc/nsswitch.conf")
            .ok()
            .and_then(|t| parse_nsswitch(&t, "group")),
    };
    (facts, accounts)
}

fn read_with<T>(fs: &HostFs, path: &str, parse: impl Fn(&str) -> T) -> Fact<T> {
    match fs.read_to_string(path) {
        Ok(t) => Fact::Value(parse(&t)),
        Err(e) => Fact::Unavailable(format!("cannot read {}: {e}", fs.describe(path))),
    }
}

fn read_proc_line(proc: &Path, rel: &str) -> Fact<String> {
    let p = proc.join(rel);
    match std::fs::read_to_string(&p) {
        Ok(t) => Fact::Value(t.trim().to_string()),
        Err(e) => Fact::Unavailable(format!("cannot read {}: {e}", p.display())),
    }
}

/// The host's mount table: that of pid 1 (the host's mount namespace when bulkhead shares the
/// host's PID namespace), else this process's own.
fn read_mounts(proc: &Path) -> Fact<Vec<bulkhead_facts::host::MountInfo>> {
    let mut last = String::new();
    // Tens of kilobytes on a host with many containers (one overlay mount each): read in
    // page-sized reads, not the small probing reads `read_to_string` starts with for /proc files.
    let mut buf = Vec::with_capacity(64 * 1024);
    for rel in ["1/mountinfo", "self/mountinfo"] {
        match procfs::read_small(&proc.join(rel), &mut buf) {
            Ok(()) => return Fact::Value(parse_mountinfo(&String::from_utf8_lossy(&buf))),
            Err(e) => last = format!("cannot read {}: {e}", proc.join(rel).display()),
        }
    }
    Fact::Unavailable(last)
}

fn security_modules(fs: &HostFs) -> SecurityModules {
    let apparmor = match fs.read_to_string("/sys/module/apparmor/parameters/enabled") {
        Ok(t) => Fact::Value(t.trim() == "Y"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Fact::Value(false),
        Err(e) => Fact::Unavailable(format!("cannot read AppArmor state: {e}")),
    };
    let selinux = Fact::Value(fs.exists("/sys/fs/selinux/enforce"));
    SecurityModules { apparmor, selinux }
}

/// `DOCKER_*` assignments in each system-wide profile file that exists (values masked).
fn profile_environment(fs: &HostFs) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut files: Vec<String> = PROFILE_FILES.iter().map(|s| s.to_string()).collect();
    if let Ok(names) = fs.read_dir("/etc/profile.d") {
        files.extend(
            names
                .into_iter()
                .filter(|n| n.ends_with(".sh"))
                .map(|n| format!("/etc/profile.d/{n}")),
        );
    }
    let mut out = BTreeMap::new();
    for f in files {
        let Ok(text) = fs.read_to_string(&f) else {
            continue;
        };
        let vars: BTreeMap<String, String> = parse_env_file(&text)
            .into_iter()
            .filter(|(k, _)| consulted(k))
            .map(|(k, v)| {
                let masked = mask_assignment(&format!("{k}={v}"));
                let v = masked.split_once('=').map(|(_, v)| v.to_string());
                (k, v.unwrap_or_default())
            })
            .collect();
        out.insert(f, vars);
    }
    out
}
