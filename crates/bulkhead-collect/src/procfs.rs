//! Processes, read from a proc file system (`/proc`, or `--proc DIR`, which may be a fake tree
//! in tests): comm, exe, argv (secret values masked), real uid, parent, PID namespace, and the
//! environment of the few daemons whose configuration can come from it.
//!
//! Nothing is executed: the processes of a container are the host processes sharing the PID
//! namespace of its init process, which is how bulkhead sees an `sshd` inside a container
//! without `docker exec`.

use bulkhead_facts::host::Process;
use bulkhead_facts::mask::{mask_argv, mask_assignment};
use bulkhead_facts::Fact;
use std::collections::BTreeMap;
use std::path::Path;

/// Programs whose environment is read (their settings may come from it), matched by name.
fn environment_matters(p: &Process) -> bool {
    ["dockerd", "containerd", "etcd", "rootlesskit"]
        .iter()
        .any(|n| p.is_program(n))
        || p.program().starts_with("kube")
}

/// Read every process under `proc`.
pub fn read_processes(proc: &Path) -> Result<Vec<Process>, String> {
    let entries =
        std::fs::read_dir(proc).map_err(|e| format!("cannot list {}: {e}", proc.display()))?;
    let mut pids: Vec<u32> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    pids.sort_unstable();
    // A process may exit while it is read: it is then simply no longer there. Reading /proc is
    // kernel work per process; two threads halve the wait on a host with hundreds of them.
    let half = pids.len() / 2;
    let (first, second) = pids.split_at(half);
    let read = |chunk: &[u32]| -> Vec<Process> {
        let mut buf = Vec::with_capacity(8192);
        chunk
            .iter()
            .filter_map(|pid| read_process_with(proc, *pid, &mut buf))
            .collect()
    };
    let (mut a, b) = std::thread::scope(|s| {
        // Named so that profilers and `top -H` tell it apart; without a second thread, one
        // reads both halves.
        let other = std::thread::Builder::new()
            .name("proc-scan".into())
            .spawn_scoped(s, || read(second));
        let mine = read(first);
        match other {
            Ok(other) => (mine, other.join().unwrap_or_default()),
            Err(_) => (mine, read(second)),
        }
    });
    a.extend(b);
    Ok(a)
}

/// Read a small file into `buf` (cleared first) in page-sized reads. Files under /proc report
/// a size of 0, for which `std::fs::read` probes with reads of 32 bytes and grows from there:
/// seven system calls for one `status`. Over every process of a host that was the largest share
/// of bulkhead's own CPU time in an audit.
pub(crate) fn read_small(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    buf.clear();
    let mut file = std::fs::File::open(path)?;
    let mut chunk = [0u8; 4096];
    loop {
        match file.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// One process; None when it vanished or is not a process directory.
pub fn read_process(proc: &Path, pid: u32) -> Option<Process> {
    read_process_with(proc, pid, &mut Vec::new())
}

/// [`read_process`] reading through `buf`, reused from one process to the next.
fn read_process_with(proc: &Path, pid: u32, buf: &mut Vec<u8>) -> Option<Process> {
    let dir = proc.join(pid.to_string());
    read_small(&dir.join("status"), buf).ok()?;
    let (name, ppid, uid) = parse_status(buf)?;
    // status's Name is comm, escaped; read comm itself only when an escape shows.
    let comm = if name.contains('\\') {
        std::fs::read_to_string(dir.join("comm"))
            .map(|c| c.trim_end_matches('\n').to_string())
            .unwrap_or(name)
    } else {
        name
    };
    // Kernel threads (children of kthreadd, pid 2) have no command line and no executable.
    let kernel_thread = pid == 2 || ppid == 2;
    let argv: Vec<String> = if kernel_thread {
        Vec::new()
    } else {
        match read_small(&dir.join("cmdline"), buf) {
            Ok(()) => split_nul(buf),
            Err(_) => Vec::new(),
        }
    };
    let exe = if kernel_thread {
        None
    } else {
        std::fs::read_link(dir.join("exe"))
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    };
    // Kernel threads all live in the initial PID namespace; kthreadd's link stands for them
    // (and for the host's namespace when pid 1's cannot be read).
    let pid_ns = if kernel_thread && pid != 2 {
        None
    } else {
        std::fs::read_link(dir.join("ns/pid"))
            .ok()
            .and_then(|l| parse_ns_inode(&l.to_string_lossy()))
    };
    let mut p = Process {
        pid,
        ppid,
        comm,
        exe,
        argv,
        uid,
        pid_ns,
        environ: None,
    };
    if environment_matters(&p) {
        p.environ = std::fs::read(dir.join("environ")).ok().map(|raw| {
            split_nul(&raw)
                .iter()
                .filter_map(|a| {
                    let masked = mask_assignment(a);
                    masked
                        .split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                })
                .collect::<BTreeMap<_, _>>()
        });
    }
    p.argv = mask_argv(&p.argv);
    Some(p)
}

/// When process `pid` started, in Unix seconds: its start time in clock ticks after boot
/// (`/proc/PID/stat`, field 22) plus the boot time (`btime` in `/proc/stat`). None when either
/// cannot be read (a fake proc tree, a process that exited).
pub fn start_time(proc: &Path, pid: u32) -> Option<i64> {
    let stat = std::fs::read_to_string(proc.join(pid.to_string()).join("stat")).ok()?;
    // The fields after the parenthesised command name (which may itself hold spaces and
    // parentheses) start at field 3; starttime is field 22.
    let ticks: i64 = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()?;
    let boot: i64 = std::fs::read_to_string(proc.join("stat"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = (unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as i64).max(1);
    Some(boot + ticks / per_second)
}

/// Name, PPid and the real uid (0 when not shown) from a `status` file; None when the uid is
/// unreadable. Parsed as bytes and only up to the `Uid:` line, which follows the other two: the
/// rest of the file (memory, signals, capabilities) is not needed, and this runs for every
/// process of the host.
fn parse_status(status: &[u8]) -> Option<(String, u32, u32)> {
    fn number<T: std::str::FromStr>(v: &[u8]) -> Option<T> {
        std::str::from_utf8(v).ok()?.trim().parse().ok()
    }
    let (mut name, mut ppid) = (None, 0);
    for line in status.split(|b| *b == b'\n') {
        if let Some(v) = line.strip_prefix(b"Name:") {
            name = Some(String::from_utf8_lossy(v.trim_ascii()).into_owned());
        } else if let Some(v) = line.strip_prefix(b"PPid:") {
            ppid = number(v).unwrap_or(0);
        } else if let Some(v) = line.strip_prefix(b"Uid:") {
            // Real, effective, saved and file-system uid: the first is the real one.
            let real = v.trim_ascii().split(|b| b.is_ascii_whitespace()).next()?;
            return Some((name.unwrap_or_default(), ppid, number(real)?));
        }
    }
    Some((name.unwrap_or_default(), ppid, 0))
}

fn split_nul(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// `pid:[4026531836]` -> 4026531836.
fn parse_ns_inode(link: &str) -> Option<u64> {
    link.strip_prefix("pid:[")?.strip_suffix(']')?.parse().ok()
}

/// The PID namespace of the host: that of pid 1, or of the kernel's thread parent (pid 2,
/// `kthreadd`) when pid 1's namespace link cannot be read.
fn host_pid_ns(all: &[Process]) -> Option<u64> {
    [1, 2]
        .iter()
        .find_map(|pid| all.iter().find(|p| p.pid == *pid).and_then(|p| p.pid_ns))
}

/// The processes of a container whose init process is `init_pid`: every process in its PID
/// namespace. A container sharing the host's PID namespace (`--pid host`, `shares_host_pid`)
/// would take in the whole host that way, so then only the descendants of its init process
/// count.
pub fn container_processes(
    all: &[Process],
    init_pid: i64,
    shares_host_pid: bool,
    proc: &Path,
) -> Fact<Vec<Process>> {
    if init_pid <= 0 {
        return Fact::Value(vec![]);
    }
    let init_pid = init_pid as u32;
    let Some(init) = all.iter().find(|p| p.pid == init_pid) else {
        return Fact::unavailable(format!(
            "the container's init process {init_pid} is not visible in {} (bulkhead must see the host's PID namespace)",
            proc.display()
        ));
    };
    if shares_host_pid {
        return Fact::Value(descendants(all, init_pid));
    }
    match (init.pid_ns, host_pid_ns(all)) {
        (Some(ns), Some(host)) if ns == host => Fact::Value(descendants(all, init_pid)),
        (Some(ns), _) => Fact::Value(
            all.iter()
                .filter(|p| p.pid_ns == Some(ns))
                .cloned()
                .collect(),
        ),
        (None, _) => Fact::unavailable(format!(
            "the PID namespace of process {init_pid} cannot be read in {}",
            proc.display()
        )),
    }
}

/// `pid` and every process below it.
fn descendants(all: &[Process], pid: u32) -> Vec<Process> {
    let mut out: Vec<Process> = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        for child in all.iter().filter(|c| c.ppid == p && c.pid != p) {
            frontier.push(child.pid);
        }
        if let Some(me) = all.iter().find(|x| x.pid == p) {
            out.push(me.clone());
        }
    }
    out.sort_by_key(|p| p.pid);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_name_parent_and_real_uid() {
        let status = b"Name:\tkube-apiserver\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t812\n\
PPid:\t1\nTracerPid:\t0\nUid:\t1001\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmRSS:\t1 kB\n";
        assert_eq!(
            parse_status(status),
            Some(("kube-apiserver".to_string(), 1, 1001))
        );
        // A status without a Uid line (a minimal fake tree) reads as uid 0; one whose uid is
        // not a number is not a process that can be read.
        assert_eq!(
            parse_status(b"Name:\tsh\nPPid:\t7\n"),
            Some(("sh".to_string(), 7, 0))
        );
        assert_eq!(parse_status(b"Name:\tsh\nPPid:\t7\nUid:\tx\t0\n"), None);
    }

    fn proc_entry(root: &Path, pid: u32, ppid: u32, uid: u32, comm: &str, argv: &[&str], ns: u64) {
        let d = root.join(pid.to_string());
        std::fs::create_dir_all(d.join("ns")).unwrap();
        std::fs::write(
            d.join("status"),
            format!("Name:\t{comm}\nPPid:\t{ppid}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
        )
        .unwrap();
        std::fs::write(d.join("comm"), format!("{comm}\n")).unwrap();
        let mut cmd = argv.join("\0");
        cmd.push('\0');
        std::fs::write(d.join("cmdline"), cmd).unwrap();
        std::os::unix::fs::symlink(format!("pid:[{ns}]"), d.join("ns/pid")).unwrap();
        std::fs::write(
            d.join("environ"),
            "PATH=/usr/bin\0DOCKER_PASSWORD=hunter2\0",
        )
        .unwrap();
    }

    /// The start time is the boot time plus field 22 of `stat` in clock ticks, however the
    /// command name is spelled.
    #[test]
    fn start_time_from_stat_and_boot_time() {
        let root = std::env::temp_dir().join(format!("bhc-start-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("812")).unwrap();
        std::fs::write(
            root.join("stat"),
            "cpu  1 2 3\nbtime 1767225600\nprocesses 9\n",
        )
        .unwrap();
        // SAFETY: sysconf only reads a configuration value.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as i64;
        let stat = format!(
            "812 (docker d) (x)) S 1 812 812 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 12 0 {} 1 1",
            90 * hz
        );
        std::fs::write(root.join("812/stat"), stat).unwrap();
        assert_eq!(start_time(&root, 812), Some(1_767_225_690));
        assert_eq!(start_time(&root, 813), None, "no such process");
        std::fs::remove_dir_all(&root).unwrap();
        // This very process started after the machine booted and not after now.
        let me = start_time(Path::new("/proc"), std::process::id()).expect("our own start time");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        assert!(me <= now && me > now - 86_400 * 365, "{me} vs now {now}");
    }

    #[test]
    fn fake_proc_tree_with_masking_and_namespaces() {
        let root = std::env::temp_dir().join(format!("bhc-proc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        proc_entry(&root, 1, 0, 0, "init", &["/sbin/init"], 100);
        proc_entry(
            &root,
            10,
            1,
            0,
            "dockerd",
            &[
                "/usr/bin/dockerd",
                "--tlskey-password",
                "s3cret",
                "-H",
                "fd://",
            ],
            100,
        );
        proc_entry(&root, 20, 1, 0, "sleep", &["sleep", "1000"], 200);
        proc_entry(&root, 21, 20, 0, "sshd", &["/usr/sbin/sshd", "-D"], 200);
        proc_entry(&root, 30, 1, 1000, "vim", &["vim", "dockerd.go"], 100);
        proc_entry(&root, 2, 0, 0, "kthreadd", &[], 100);
        proc_entry(&root, 3, 2, 0, "kworker/0:0", &[], 100);
        std::fs::create_dir_all(root.join("self")).unwrap();
        let all = read_processes(&root).unwrap();
        assert_eq!(all.len(), 7);
        let ns_of = |pid: u32| all.iter().find(|p| p.pid == pid).unwrap().pid_ns;
        // Kernel threads share the initial namespace: kthreadd's link is read for them all.
        assert_eq!((ns_of(2), ns_of(3)), (Some(100), None));
        let dockerd = all.iter().find(|p| p.pid == 10).unwrap();
        assert_eq!(dockerd.argv[2], "***", "secret flag value masked");
        let env = dockerd.environ.as_ref().expect("dockerd environment read");
        assert_eq!(env["DOCKER_PASSWORD"], "***");
        assert_eq!(env["PATH"], "/usr/bin");
        let vim = all.iter().find(|p| p.pid == 30).unwrap();
        assert!(vim.environ.is_none(), "only daemons' environments are read");
        assert_eq!(vim.uid, 1000);
        let in_container = container_processes(&all, 20, false, &root);
        let pids: Vec<u32> = in_container
            .value()
            .unwrap()
            .iter()
            .map(|p| p.pid)
            .collect();
        assert_eq!(pids, vec![20, 21]);
        // --pid host: the namespace is the host's; only the init process's own tree counts.
        let host_pid = container_processes(&all, 10, false, &root);
        assert_eq!(
            host_pid
                .value()
                .unwrap()
                .iter()
                .map(|p| p.pid)
                .collect::<Vec<_>>(),
            vec![10]
        );
        // Also when the host's namespace cannot be told from pid 1 (its link unreadable):
        // HostConfig.PidMode says so.
        let host_pid = container_processes(&all, 10, true, &root);
        assert_eq!(
            host_pid
                .value()
                .unwrap()
                .iter()
                .map(|p| p.pid)
                .collect::<Vec<_>>(),
            vec![10]
        );
        assert!(matches!(
            container_processes(&all, 99, false, &root),
            Fact::Unavailable(_)
        ));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
