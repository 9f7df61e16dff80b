//! Processes, read from a proc file system (`/proc`, or `--proc DIR`, which may be a fake tree
//! in tests): comm, exe, argv (secret values masked), real uid, parent, PID namespace, the
//! kernel's no_new_privs flag, and the environment of the few daemons whose configuration can
//! come from it.
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
    ["dockerd", "containerd", "etcd", "rootlesskit", "k3s"]
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

/// Read a small file into `buf` (cleared first). Files under /proc report a size of 0, for
/// which `std::fs::read` probes with reads of 32 bytes and grows from there: seven system calls
/// for one `status`. Over every process of a host that was the largest share of bulkhead's own
/// CPU time in an audit. Here the file is read straight into the buffer's spare capacity, kept
/// from one file to the next: one read for the text and one for its end, nothing zeroed first.
pub(crate) fn read_small(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    use std::io::Read;
    buf.clear();
    buf.reserve(4096);
    // Through `take`, which has no size to ask: `File`'s own `read_to_end` first asks the
    // file's size and position (statx and lseek), two wasted calls for a /proc file.
    std::fs::File::open(path)?
        .take(u64::MAX)
        .read_to_end(buf)
        .map(drop)
}

/// One process; None when it vanished or is not a process directory.
pub fn read_process(proc: &Path, pid: u32) -> Option<Process> {
    read_process_with(proc, pid, &mut Vec::new())
}

/// [`read_process`] reading through `buf`, reused from one process to the next.
fn read_process_with(proc: &Path, pid: u32, buf: &mut Vec<u8>) -> Option<Process> {
    let dir = proc.join(pid.to_string());
    read_small(&dir.join("status"), buf).ok()?;
    let Status {
        name,
        ppid,
        uid,
        no_new_privs,
    } = parse_status(buf)?;
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
        no_new_privs,
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

/// The `Max open files` limits of process `pid` (/proc/PID/limits); None when the file or the
/// line cannot be read.
pub fn open_files_limit(proc: &Path, pid: u32) -> Option<bulkhead_facts::docker::ResourceLimit> {
    let text = std::fs::read_to_string(proc.join(pid.to_string()).join("limits")).ok()?;
    parse_open_files_limit(&text)
}

/// The `Max open files` line of a limits file: its soft and hard columns, `unlimited` as None.
fn parse_open_files_limit(limits: &str) -> Option<bulkhead_facts::docker::ResourceLimit> {
    let rest = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))?;
    let mut columns = rest.split_whitespace();
    let value = |v: &str| match v {
        "unlimited" => Some(None),
        n => n.parse().ok().map(Some),
    };
    Some(bulkhead_facts::docker::ResourceLimit {
        soft: value(columns.next()?)?,
        hard: value(columns.next()?)?,
    })
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

/// What bulkhead keeps of a `status` file.
#[derive(Debug, PartialEq)]
struct Status {
    name: String,
    ppid: u32,
    /// The real uid; 0 when the file shows none.
    uid: u32,
    /// `NoNewPrivs:` (0 or 1); None when the file has no such line.
    no_new_privs: Option<bool>,
}

/// Name, PPid, the real uid and the no_new_privs flag from a `status` file; None when the uid
/// is unreadable. Parsed as bytes, and this runs for every process of the host: the first
/// three come before the `Uid:` line, after which only `NoNewPrivs:` is looked for (it follows
/// the capability sets); the lines after it (seccomp, CPU lists, context switches) are never
/// read.
fn parse_status(status: &[u8]) -> Option<Status> {
    fn number<T: std::str::FromStr>(v: &[u8]) -> Option<T> {
        std::str::from_utf8(v).ok()?.trim().parse().ok()
    }
    fn flag(v: &[u8]) -> Option<bool> {
        match v.trim_ascii() {
            b"0" => Some(false),
            b"1" => Some(true),
            _ => None,
        }
    }
    let mut lines = status.split(|b| *b == b'\n');
    let (mut name, mut ppid, mut uid, mut no_new_privs) = (None, 0, None, None);
    for line in lines.by_ref() {
        if let Some(v) = line.strip_prefix(b"Name:") {
            name = Some(owned_text(v.trim_ascii()));
        } else if let Some(v) = line.strip_prefix(b"PPid:") {
            ppid = number(v).unwrap_or(0);
        } else if let Some(v) = line.strip_prefix(b"Uid:") {
            // Real, effective, saved and file-system uid: the first is the real one.
            let real = v.trim_ascii().split(|b| b.is_ascii_whitespace()).next()?;
            uid = Some(number(real)?);
            break;
        } else if let Some(v) = line.strip_prefix(b"NoNewPrivs:") {
            // Only in a hand-written file whose Uid line is missing or comes later.
            no_new_privs = flag(v);
        }
    }
    if no_new_privs.is_none() {
        // Nothing left to scan when the loop above ran to the end (no Uid line).
        no_new_privs = lines
            .find_map(|l| l.strip_prefix(b"NoNewPrivs:"))
            .and_then(flag);
    }
    Some(Status {
        name: name.unwrap_or_default(),
        ppid,
        uid: uid.unwrap_or(0),
        no_new_privs,
    })
}

fn split_nul(raw: &[u8]) -> Vec<String> {
    raw.split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .map(owned_text)
        .collect()
}

/// `bytes` as text, any invalid UTF-8 replaced. Checked first as it nearly always is, valid:
/// `from_utf8_lossy` walks every word chunk by chunk, several times slower over the hundreds of
/// short arguments of a host's processes.
fn owned_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
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
    fn open_files_limit_reads_both_columns_and_unlimited() {
        let limits =
            "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max open files            1024                 20000                files     \n\
Max locked memory         8388608              8388608              bytes     \n";
        let l = parse_open_files_limit(limits).unwrap();
        assert_eq!((l.soft, l.hard), (Some(1024), Some(20000)));
        let l = parse_open_files_limit(
            "Max open files            unlimited            unlimited            files\n",
        )
        .unwrap();
        assert_eq!((l.soft, l.hard), (None, None));
        assert!(parse_open_files_limit("Max cpu time  unlimited  unlimited  seconds\n").is_none());
        // The real file of this process.
        let me = open_files_limit(Path::new("/proc"), std::process::id()).unwrap();
        assert!(me.hard.is_none_or(|h| me.soft.is_some_and(|s| s <= h)));
    }

    fn status(name: &str, ppid: u32, uid: u32, no_new_privs: Option<bool>) -> Option<Status> {
        Some(Status {
            name: name.into(),
            ppid,
            uid,
            no_new_privs,
        })
    }

    /// A command line's words, the empty ones (a trailing NUL, doubled NULs) left out, and a
    /// word that is not UTF-8 kept with its bad bytes replaced rather than dropped.
    #[test]
    fn command_line_words_valid_or_not() {
        let raw = b"/usr/bin/dockerd\0--data-root\0/srv/d\xffta\0\0caf\xc3\xa9\0";
        assert_eq!(
            split_nul(raw),
            [
                "/usr/bin/dockerd",
                "--data-root",
                "/srv/d\u{fffd}ta",
                "café"
            ]
        );
        assert!(split_nul(b"").is_empty());
    }

    #[test]
    fn status_name_parent_and_real_uid() {
        let status_text = b"Name:\tkube-apiserver\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t812\n\
PPid:\t1\nTracerPid:\t0\nUid:\t1001\t0\t0\t0\nGid:\t0\t0\t0\t0\nVmRSS:\t1 kB\n";
        assert_eq!(
            parse_status(status_text),
            status("kube-apiserver", 1, 1001, None),
            "no NoNewPrivs line (a kernel before 4.10): the flag is unknown"
        );
        // A status without a Uid line (a minimal fake tree) reads as uid 0; one whose uid is
        // not a number is not a process that can be read.
        assert_eq!(
            parse_status(b"Name:\tsh\nPPid:\t7\n"),
            status("sh", 7, 0, None)
        );
        assert_eq!(parse_status(b"Name:\tsh\nPPid:\t7\nUid:\tx\t0\n"), None);
    }

    /// A status file as Linux 6.1 writes it for a container's init process: the flag comes
    /// after the uid and the capability sets.
    const CONTAINER_INIT_STATUS: &str = "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\n\
Tgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4218\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\n\
Gid:\t1000\t1000\t1000\t1000\nFDSize:\t64\nGroups:\t10 \nNStgid:\t4242\t1\nNSpid:\t4242\t1\n\
NSpgid:\t4242\t1\nNSsid:\t4242\t1\nVmPeak:\t    1320 kB\nVmSize:\t    1320 kB\nVmRSS:\t       4 kB\n\
Threads:\t1\nSigQ:\t0/31457\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n\
SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000000000000\n\
CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\nCapEff:\t0000000000000000\n\
CapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n\
Seccomp_filters:\t1\nSpeculation_Store_Bypass:\tthread force mitigated\n\
Cpus_allowed:\tf\nCpus_allowed_list:\t0-3\nvoluntary_ctxt_switches:\t2\n";

    #[test]
    fn status_no_new_privs_after_the_uid() {
        assert_eq!(
            parse_status(CONTAINER_INIT_STATUS.as_bytes()),
            status("sleep", 4218, 1000, Some(true))
        );
        let off = CONTAINER_INIT_STATUS.replace("NoNewPrivs:\t1", "NoNewPrivs:\t0");
        assert_eq!(
            parse_status(off.as_bytes()),
            status("sleep", 4218, 1000, Some(false))
        );
        // A value that is neither 0 nor 1 says nothing.
        let odd = CONTAINER_INIT_STATUS.replace("NoNewPrivs:\t1", "NoNewPrivs:\tyes");
        assert_eq!(
            parse_status(odd.as_bytes()),
            status("sleep", 4218, 1000, None)
        );
        // An unreadable uid still makes the process unreadable, whatever follows.
        let bad_uid = CONTAINER_INIT_STATUS.replace("Uid:\t1000", "Uid:\tx");
        assert_eq!(parse_status(bad_uid.as_bytes()), None);
        // A hand-written file without a Uid line (uid 0), the flag in any place.
        assert_eq!(
            parse_status(b"Name:\tsh\nNoNewPrivs:\t1\nPPid:\t7\n"),
            status("sh", 7, 0, Some(true))
        );
        // The last line without its newline.
        assert_eq!(
            parse_status(b"Name:\tsh\nPPid:\t7\nUid:\t0\t0\t0\t0\nNoNewPrivs:\t0"),
            status("sh", 7, 0, Some(false))
        );
    }

    /// The flag of this very process, read through the real /proc, is what the kernel shows in
    /// its status (whichever value that is where the tests run).
    #[test]
    fn own_status_has_the_flag() {
        let me = read_process(Path::new("/proc"), std::process::id()).expect("this process");
        let raw = std::fs::read_to_string("/proc/self/status").unwrap();
        let kernel = raw
            .lines()
            .find_map(|l| l.strip_prefix("NoNewPrivs:"))
            .map(|v| v.trim() == "1");
        assert_eq!(me.no_new_privs, kernel);
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
        // The container's two processes as a current kernel shows them: with the flag, set on
        // its init process and inherited by the child.
        for (pid, ppid, comm) in [(20, 1, "sleep"), (21, 20, "sshd")] {
            let text = CONTAINER_INIT_STATUS
                .replace("Name:\tsleep", &format!("Name:\t{comm}"))
                .replace("PPid:\t4218", &format!("PPid:\t{ppid}"))
                .replace("Uid:\t1000\t1000\t1000\t1000", "Uid:\t0\t0\t0\t0");
            std::fs::write(root.join(format!("{pid}/status")), text).unwrap();
        }
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
        let flag_of = |pid: u32| all.iter().find(|p| p.pid == pid).unwrap().no_new_privs;
        assert_eq!((flag_of(20), flag_of(21)), (Some(true), Some(true)));
        assert_eq!(
            flag_of(10),
            None,
            "a status without the line leaves it unknown"
        );
        let sshd = all.iter().find(|p| p.pid == 21).unwrap();
        assert_eq!((sshd.ppid, sshd.uid, sshd.comm.as_str()), (20, 0, "sshd"));
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
