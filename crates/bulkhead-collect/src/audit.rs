//! Audit rules: the kernel's loaded rules, read over a raw `NETLINK_AUDIT` socket with
//! `AUDIT_LIST_RULES` (what `auditctl -l` does, without running it); when that is not possible
//! (no permission, no audit support in the kernel, or auditing a root other than the running
//! system's), the rule files `/etc/audit/audit.rules` and `/etc/audit/rules.d/*.rules`. The
//! fact says which source was used and why.

use crate::hostfs::HostFs;
use bulkhead_facts::host::{parse_audit_rules, AuditRule, AuditRules, Process};
use bulkhead_facts::Fact;
use std::path::Path;

const NETLINK_AUDIT: libc::c_int = 9;
const AUDIT_LIST_RULES: u16 = 1013;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLMSG_HDRLEN: usize = 16;

// struct audit_rule_data (include/uapi/linux/audit.h)
const AUDIT_BITMASK_SIZE: usize = 64;
const AUDIT_MAX_FIELDS: usize = 64;
const OFF_FLAGS: usize = 0;
const OFF_ACTION: usize = 4;
const OFF_FIELD_COUNT: usize = 8;
const OFF_MASK: usize = 12;
const OFF_FIELDS: usize = OFF_MASK + 4 * AUDIT_BITMASK_SIZE;
const OFF_VALUES: usize = OFF_FIELDS + 4 * AUDIT_MAX_FIELDS;
const OFF_FIELDFLAGS: usize = OFF_VALUES + 4 * AUDIT_MAX_FIELDS;
const OFF_BUFLEN: usize = OFF_FIELDFLAGS + 4 * AUDIT_MAX_FIELDS;
const OFF_BUF: usize = OFF_BUFLEN + 4;

// Field types.
const AUDIT_WATCH: u32 = 105;
const AUDIT_PERM: u32 = 106;
const AUDIT_DIR: u32 = 107;
const AUDIT_EXE: u32 = 112;
const AUDIT_FILTERKEY: u32 = 210;
const AUDIT_ARCH: u32 = 11;

// Filter lists and actions.
const AUDIT_FILTER_EXIT: u32 = 0x04;
const AUDIT_FILTER_TASK: u32 = 0x01;
const AUDIT_FILTER_USER: u32 = 0x00;
const AUDIT_FILTER_EXCLUDE: u32 = 0x05;
const AUDIT_FILTER_FS: u32 = 0x06;
const AUDIT_FILTER_URING_EXIT: u32 = 0x07;

// Field operators (the high bits of fieldflags).
const AUDIT_EQUAL: u32 = 0x4000_0000;
const AUDIT_NOT_EQUAL: u32 = 0x3000_0000;
const AUDIT_BIT_MASK: u32 = 0x0800_0000;
const AUDIT_LESS_THAN: u32 = 0x1000_0000;
const AUDIT_GREATER_THAN: u32 = 0x2000_0000;
const AUDIT_LESS_THAN_OR_EQUAL: u32 = AUDIT_LESS_THAN | AUDIT_EQUAL;
const AUDIT_GREATER_THAN_OR_EQUAL: u32 = AUDIT_GREATER_THAN | AUDIT_EQUAL;
const AUDIT_BIT_TEST: u32 = AUDIT_BIT_MASK | AUDIT_EQUAL;

/// Key separator when a rule carries several keys.
const AUDIT_KEY_SEPARATOR: char = '\u{1}';

/// The audit rules in force on the audited host; unavailable when neither the kernel's list nor
/// every rule file could be read. The kernel's list is the audited host's when its root is `/`,
/// or when pid 1 or one of the daemons bulkhead audits runs on that root (bulkhead in a
/// container, with `--pid host` and the host's `/` mounted as `--root /host`): `processes` are
/// the host's, read from `proc`.
pub fn collect(fs: &HostFs, proc: &Path, processes: &[Process]) -> Fact<AuditRules> {
    let live_root = fs.root() == Path::new("/") || runs_on_root(fs.root(), proc, processes);
    let kernel_reason = if !live_root {
        format!(
            "auditing the root {}: the running kernel's rules belong to this machine, so the rule files under that root were read",
            fs.root().display()
        )
    } else {
        match list_kernel_rules() {
            Ok(rules) => {
                return Fact::Value(AuditRules {
                    source: "kernel".into(),
                    files: vec![],
                    rules,
                    reason: "the kernel's loaded rules, read over netlink (as auditctl -l)".into(),
                })
            }
            Err(e) => format!("the kernel's audit rules could not be listed ({e}); the rule files were read instead"),
        }
    };
    match from_files(fs, kernel_reason) {
        Ok(rules) => Fact::Value(rules),
        Err(reason) => Fact::Unavailable(reason),
    }
}

/// Whether `root` is the root directory of a running system on this kernel: the same
/// directory (device and inode) as the one pid 1, dockerd, containerd or the kubelet sees as
/// `/`. Reading a process's root needs the right to inspect it (root, with CAP_SYS_PTRACE in a
/// container); when none can be read, or `proc` is not a live process tree, the answer is no and
/// the rule files are read.
fn runs_on_root(root: &Path, proc: &Path, processes: &[Process]) -> bool {
    let Some(wanted) = crate::hostfs::file_identity(root) else {
        return false;
    };
    let daemons = processes
        .iter()
        .filter(|p| {
            ["dockerd", "containerd", "kubelet"]
                .iter()
                .any(|n| p.is_program(n))
        })
        .map(|p| p.pid);
    std::iter::once(1)
        .chain(daemons)
        .any(|pid| crate::hostfs::file_identity(&proc.join(format!("{pid}/root"))) == Some(wanted))
}

/// The rules in `/etc/audit/audit.rules` and `/etc/audit/rules.d/*.rules`. Err when one of them
/// exists but cannot be read (auditd keeps /etc/audit to root): the rules it holds are unknown,
/// and no rule is not the same as no rule known.
pub fn from_files(fs: &HostFs, reason: String) -> Result<AuditRules, String> {
    let unreadable = |path: &str, e: std::io::Error| {
        format!("{reason}, but {} cannot be read: {e}", fs.describe(path))
    };
    let mut files = vec!["/etc/audit/audit.rules".to_string()];
    match fs.read_dir("/etc/audit/rules.d") {
        Ok(names) => files.extend(
            names
                .into_iter()
                .filter(|n| n.ends_with(".rules"))
                .map(|n| format!("/etc/audit/rules.d/{n}")),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(unreadable("/etc/audit/rules.d", e)),
    }
    let mut read = Vec::new();
    let mut rules = Vec::new();
    for f in files {
        match fs.read_to_string(&f) {
            Ok(text) => {
                rules.extend(parse_audit_rules(&text));
                read.push(f);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(unreadable(&f, e)),
        }
    }
    // `-w DIR` watches the whole tree (auditctl loads it as a directory rule); the text does not
    // say whether the path is a directory, the audited file system does.
    for r in &mut rules {
        if r.text.trim_start().starts_with("-w") {
            if let Some(p) = &r.path {
                if fs
                    .resolve(p)
                    .ok()
                    .and_then(|real| std::fs::metadata(real).ok())
                    .is_some_and(|m| m.is_dir())
                {
                    r.recursive = true;
                }
            }
        }
    }
    let reason = if read.is_empty() {
        format!("{reason}; no audit rule file exists")
    } else {
        reason
    };
    Ok(AuditRules {
        source: "files".into(),
        files: read,
        rules,
        reason,
    })
}

/// List the kernel's rules over netlink.
pub fn list_kernel_rules() -> Result<Vec<AuditRule>, String> {
    let sock = NetlinkSocket::open()?;
    let mut req = [0u8; NLMSG_HDRLEN];
    req[0..4].copy_from_slice(&(NLMSG_HDRLEN as u32).to_ne_bytes());
    req[4..6].copy_from_slice(&AUDIT_LIST_RULES.to_ne_bytes());
    req[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
    req[8..12].copy_from_slice(&1u32.to_ne_bytes());
    sock.send(&req)?;
    let mut rules = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = sock.recv(&mut buf)?;
        let mut off = 0;
        while off + NLMSG_HDRLEN <= n {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
            if len < NLMSG_HDRLEN || off + len > n {
                return Err("malformed netlink message from the kernel".into());
            }
            let payload = &buf[off + NLMSG_HDRLEN..off + len];
            match kind {
                NLMSG_DONE => return Ok(rules),
                NLMSG_ERROR => {
                    let errno = i32::from_ne_bytes(payload[0..4].try_into().unwrap_or([0; 4]));
                    if errno == 0 {
                        // An acknowledgement; the listing follows.
                    } else {
                        return Err(describe_errno(-errno));
                    }
                }
                AUDIT_LIST_RULES => {
                    if let Some(r) = decode_rule(payload) {
                        rules.push(r);
                    }
                }
                _ => {}
            }
            off += (len + 3) & !3;
        }
    }
}

fn describe_errno(errno: i32) -> String {
    let e = std::io::Error::from_raw_os_error(errno);
    match errno {
        libc::EPERM | libc::EACCES => {
            format!("{e}: listing audit rules needs CAP_AUDIT_CONTROL (run as root; in a container, add --cap-add AUDIT_CONTROL)")
        }
        _ => e.to_string(),
    }
}

struct NetlinkSocket(libc::c_int);

impl NetlinkSocket {
    fn open() -> Result<Self, String> {
        // SAFETY: plain socket calls; the descriptor is owned by the returned value.
        unsafe {
            let fd = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                NETLINK_AUDIT,
            );
            if fd < 0 {
                let e = std::io::Error::last_os_error();
                return Err(match e.raw_os_error() {
                    Some(libc::EPROTONOSUPPORT) => {
                        "the kernel has no audit support (NETLINK_AUDIT unavailable)".into()
                    }
                    _ => format!("opening a netlink audit socket: {e}"),
                });
            }
            let s = NetlinkSocket(fd);
            let tv = libc::timeval {
                tv_sec: 2,
                tv_usec: 0,
            };
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            );
            let mut addr: libc::sockaddr_nl = std::mem::zeroed();
            addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
            if libc::bind(
                fd,
                &addr as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            ) != 0
            {
                return Err(format!(
                    "binding a netlink audit socket: {}",
                    std::io::Error::last_os_error()
                ));
            }
            Ok(s)
        }
    }

    fn send(&self, msg: &[u8]) -> Result<(), String> {
        // SAFETY: sending a buffer we own to the kernel (nl_pid 0).
        unsafe {
            let mut addr: libc::sockaddr_nl = std::mem::zeroed();
            addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
            let n = libc::sendto(
                self.0,
                msg.as_ptr() as *const libc::c_void,
                msg.len(),
                0,
                &addr as *const _ as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            );
            if n < 0 {
                let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
                return Err(describe_errno(errno));
            }
        }
        Ok(())
    }

    fn recv(&self, buf: &mut [u8]) -> Result<usize, String> {
        // SAFETY: receiving into a buffer we own.
        let n = unsafe { libc::recv(self.0, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            return Err(format!("reading the kernel's audit rules: {e}"));
        }
        Ok(n as usize)
    }
}

impl Drop for NetlinkSocket {
    fn drop(&mut self) {
        // SAFETY: closing the descriptor we own.
        unsafe { libc::close(self.0) };
    }
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off + 4)
        .map(|s| u32::from_ne_bytes(s.try_into().unwrap()))
}

/// Fields whose value is a string in the rule's buffer (its length in `values`).
fn is_string_field(field: u32) -> bool {
    matches!(field, 13..=17 | 19..=23 | AUDIT_WATCH | AUDIT_DIR | AUDIT_EXE | AUDIT_FILTERKEY)
}

/// Decode one `struct audit_rule_data` into the same [`AuditRule`] the rule-file parser makes,
/// with `text` written as `auditctl -l` prints it.
pub fn decode_rule(b: &[u8]) -> Option<AuditRule> {
    let flags = u32_at(b, OFF_FLAGS)?;
    let action = u32_at(b, OFF_ACTION)?;
    let count = (u32_at(b, OFF_FIELD_COUNT)? as usize).min(AUDIT_MAX_FIELDS);
    let buflen = u32_at(b, OFF_BUFLEN)? as usize;
    let strings = b.get(OFF_BUF..OFF_BUF + buflen)?;
    let all_syscalls =
        (0..AUDIT_BITMASK_SIZE - 1).all(|i| u32_at(b, OFF_MASK + 4 * i) == Some(u32::MAX));
    let mut pos = 0;
    let mut path = None;
    let mut dir = false;
    let mut perm: Option<u32> = None;
    let mut keys: Vec<String> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for i in 0..count {
        let field = u32_at(b, OFF_FIELDS + 4 * i)?;
        let value = u32_at(b, OFF_VALUES + 4 * i)?;
        let op = u32_at(b, OFF_FIELDFLAGS + 4 * i)?;
        let text = if is_string_field(field) {
            let s = strings.get(pos..pos + value as usize)?;
            pos += value as usize;
            Some(String::from_utf8_lossy(s).into_owned())
        } else {
            None
        };
        match (field, text) {
            (AUDIT_WATCH, Some(t)) => path = Some(t),
            (AUDIT_DIR, Some(t)) => {
                path = Some(t);
                dir = true;
            }
            (AUDIT_FILTERKEY, Some(t)) => {
                keys.extend(t.split(AUDIT_KEY_SEPARATOR).map(String::from))
            }
            (AUDIT_PERM, None) => perm = Some(value),
            (f, t) => others.push(format!(
                "-F {}{}{}",
                field_name(f),
                op_text(op),
                t.unwrap_or_else(|| if f == AUDIT_ARCH {
                    arch_name(value)
                } else {
                    value.to_string()
                })
            )),
        }
    }
    let perms = perm.map(perm_text).unwrap_or_default();
    let list = flags & !0x10; // AUDIT_FILTER_PREPEND
    let is_watch = list == AUDIT_FILTER_EXIT && action == 2 && all_syscalls && others.is_empty();
    let text = match (&path, is_watch) {
        (Some(p), true) => {
            let mut t = format!(
                "-w {p} -p {}",
                if perms.is_empty() { "rwxa" } else { &perms }
            );
            for k in &keys {
                t.push_str(&format!(" -k {k}"));
            }
            t
        }
        _ => {
            let mut t = format!("-a {},{}", action_name(action), list_name(list));
            if list == AUDIT_FILTER_EXIT && all_syscalls {
                t.push_str(" -S all");
            }
            for o in &others {
                t.push(' ');
                t.push_str(o);
            }
            if let Some(p) = &path {
                t.push_str(&format!(" -F {}={p}", if dir { "dir" } else { "path" }));
            }
            if !perms.is_empty() {
                t.push_str(&format!(" -F perm={perms}"));
            }
            for k in &keys {
                t.push_str(&format!(" -F key={k}"));
            }
            t
        }
    };
    Some(AuditRule {
        text,
        path,
        recursive: dir,
        perms,
        key: keys.into_iter().next(),
    })
}

/// AUDIT_PERM bits (exec 1, write 2, read 4, attr 8) as `auditctl` writes them: `rwxa` order.
fn perm_text(bits: u32) -> String {
    let mut s = String::new();
    if bits & 4 != 0 {
        s.push('r');
    }
    if bits & 2 != 0 {
        s.push('w');
    }
    if bits & 1 != 0 {
        s.push('x');
    }
    if bits & 8 != 0 {
        s.push('a');
    }
    s
}

fn action_name(a: u32) -> &'static str {
    match a {
        0 => "never",
        1 => "possible",
        _ => "always",
    }
}

fn list_name(l: u32) -> &'static str {
    match l {
        AUDIT_FILTER_USER => "user",
        AUDIT_FILTER_TASK => "task",
        AUDIT_FILTER_EXIT => "exit",
        AUDIT_FILTER_EXCLUDE => "exclude",
        AUDIT_FILTER_FS => "filesystem",
        AUDIT_FILTER_URING_EXIT => "io_uring",
        _ => "entry",
    }
}

fn op_text(op: u32) -> &'static str {
    match op {
        AUDIT_NOT_EQUAL => "!=",
        AUDIT_LESS_THAN_OR_EQUAL => "<=",
        AUDIT_GREATER_THAN_OR_EQUAL => ">=",
        AUDIT_BIT_TEST => "&=",
        AUDIT_BIT_MASK => "&",
        AUDIT_LESS_THAN => "<",
        AUDIT_GREATER_THAN => ">",
        _ => "=",
    }
}

fn field_name(f: u32) -> String {
    match f {
        0 => "pid".into(),
        1 => "uid".into(),
        2 => "euid".into(),
        3 => "suid".into(),
        4 => "fsuid".into(),
        5 => "gid".into(),
        6 => "egid".into(),
        7 => "sgid".into(),
        8 => "fsgid".into(),
        9 => "auid".into(),
        10 => "pers".into(),
        AUDIT_ARCH => "arch".into(),
        12 => "msgtype".into(),
        13 => "subj_user".into(),
        14 => "subj_role".into(),
        15 => "subj_type".into(),
        16 => "subj_sen".into(),
        17 => "subj_clr".into(),
        18 => "ppid".into(),
        19 => "obj_user".into(),
        20 => "obj_role".into(),
        21 => "obj_type".into(),
        22 => "obj_lev_low".into(),
        23 => "obj_lev_high".into(),
        24 => "loginuid_set".into(),
        25 => "sessionid".into(),
        26 => "fstype".into(),
        100 => "devmajor".into(),
        101 => "devminor".into(),
        102 => "inode".into(),
        103 => "exit".into(),
        104 => "success".into(),
        108 => "filetype".into(),
        109 => "obj_uid".into(),
        110 => "obj_gid".into(),
        111 => "field_compare".into(),
        AUDIT_EXE => "exe".into(),
        200 => "a0".into(),
        201 => "a1".into(),
        202 => "a2".into(),
        203 => "a3".into(),
        other => format!("field{other}"),
    }
}

fn arch_name(v: u32) -> String {
    match v {
        0xC000_003E => "b64".into(),
        0x4000_0003 => "b32".into(),
        0xC000_00B7 => "aarch64".into(),
        other => format!("0x{other:x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a `struct audit_rule_data` as the kernel sends it.
    fn rule_data(list: u32, fields: &[(u32, u32, Option<&str>)], all_syscalls: bool) -> Vec<u8> {
        let mut strings = Vec::new();
        let mut b = vec![0u8; OFF_BUF];
        b[OFF_FLAGS..OFF_FLAGS + 4].copy_from_slice(&list.to_ne_bytes());
        b[OFF_ACTION..OFF_ACTION + 4].copy_from_slice(&2u32.to_ne_bytes());
        b[OFF_FIELD_COUNT..OFF_FIELD_COUNT + 4]
            .copy_from_slice(&(fields.len() as u32).to_ne_bytes());
        if all_syscalls {
            for i in 0..AUDIT_BITMASK_SIZE {
                b[OFF_MASK + 4 * i..OFF_MASK + 4 * i + 4].copy_from_slice(&u32::MAX.to_ne_bytes());
            }
        }
        for (i, (f, v, s)) in fields.iter().enumerate() {
            let value = match s {
                Some(s) => {
                    strings.extend_from_slice(s.as_bytes());
                    s.len() as u32
                }
                None => *v,
            };
            b[OFF_FIELDS + 4 * i..OFF_FIELDS + 4 * i + 4].copy_from_slice(&f.to_ne_bytes());
            b[OFF_VALUES + 4 * i..OFF_VALUES + 4 * i + 4].copy_from_slice(&value.to_ne_bytes());
            b[OFF_FIELDFLAGS + 4 * i..OFF_FIELDFLAGS + 4 * i + 4]
                .copy_from_slice(&AUDIT_EQUAL.to_ne_bytes());
        }
        b[OFF_BUFLEN..OFF_BUFLEN + 4].copy_from_slice(&(strings.len() as u32).to_ne_bytes());
        b.extend_from_slice(&strings);
        b
    }

    #[test]
    fn decodes_watches_like_auditctl() {
        let w = decode_rule(&rule_data(
            AUDIT_FILTER_EXIT,
            &[
                (AUDIT_WATCH, 0, Some("/usr/bin/dockerd")),
                (AUDIT_PERM, 0xf, None),
                (AUDIT_FILTERKEY, 0, Some("docker")),
            ],
            true,
        ))
        .unwrap();
        assert_eq!(w.text, "-w /usr/bin/dockerd -p rwxa -k docker");
        assert_eq!(w.path.as_deref(), Some("/usr/bin/dockerd"));
        assert_eq!(w.perms, "rwxa");
        assert_eq!(w.key.as_deref(), Some("docker"));
        // The text form reads back into the same rule.
        let reparsed = bulkhead_facts::host::parse_audit_rule(&w.text).unwrap();
        assert_eq!(
            (reparsed.path, reparsed.perms, reparsed.key),
            (w.path, w.perms, w.key)
        );

        let d = decode_rule(&rule_data(
            AUDIT_FILTER_EXIT,
            &[
                (AUDIT_DIR, 0, Some("/var/lib/docker")),
                (AUDIT_PERM, 0xa, None),
            ],
            true,
        ))
        .unwrap();
        assert!(d.recursive);
        assert_eq!(d.perms, "wa");
        assert!(d.covers("/var/lib/docker/containers"));

        let syscall = decode_rule(&rule_data(
            AUDIT_FILTER_EXIT,
            &[
                (AUDIT_ARCH, 0xC000_003E, None),
                (AUDIT_FILTERKEY, 0, Some("exec")),
            ],
            false,
        ))
        .unwrap();
        assert_eq!(syscall.path, None);
        assert!(syscall.text.starts_with("-a always,exit -F arch=b64"));
    }

    #[test]
    fn rule_files_under_a_root() {
        let root = std::env::temp_dir().join(format!("bhc-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("etc/audit/rules.d")).unwrap();
        std::fs::write(
            root.join("etc/audit/rules.d/docker.rules"),
            "-w /usr/bin/dockerd -p rwxa -k docker\n-w /etc/docker -k docker\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("etc/docker")).unwrap();
        std::fs::write(root.join("etc/audit/rules.d/notes.txt"), "-w /x\n").unwrap();
        let r = collect(&HostFs::new(&root), Path::new("/proc"), &[])
            .value()
            .cloned()
            .unwrap();
        assert_eq!(r.source, "files");
        assert_eq!(r.files, vec!["/etc/audit/rules.d/docker.rules"]);
        assert_eq!(r.rules.len(), 2);
        assert!(!r.rules[0].recursive);
        assert!(
            r.rules[1].recursive,
            "-w on a directory of the root watches its tree"
        );
        assert!(r.rules[1].covers("/etc/docker/daemon.json"));
        assert!(
            r.reason.contains(&root.display().to_string()),
            "{}",
            r.reason
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    /// Found auditing a real rootless daemon as its own user: auditd keeps /etc/audit to root
    /// (0750), the kernel's list needs root too, and the unreadable rule files were taken for
    /// "no rules", so every 1.1.x check failed on rules bulkhead never saw.
    #[test]
    fn unreadable_rule_files_leave_the_rules_unknown() {
        let root = bulkhead_testkit::TempDir::new("audit-unreadable");
        std::fs::create_dir_all(root.join("etc/audit/rules.d")).unwrap();
        // A directory in place of a file makes reading it fail with something other than
        // "not found", whoever runs the test (root reads any file whatever its mode).
        std::fs::create_dir_all(root.join("etc/audit/audit.rules")).unwrap();
        let fs = HostFs::new(root.path());
        let reason = match collect(&fs, Path::new("/proc"), &[]) {
            Fact::Unavailable(reason) => reason,
            other => panic!("the rules are unknown, not {other:?}"),
        };
        assert!(
            reason.contains("/etc/audit/audit.rules") && reason.contains("cannot be read"),
            "{reason}"
        );
        // Missing files are no rules, as before.
        std::fs::remove_dir(root.join("etc/audit/audit.rules")).unwrap();
        let r = collect(&fs, Path::new("/proc"), &[])
            .value()
            .cloned()
            .unwrap();
        assert!(r.rules.is_empty() && r.files.is_empty(), "{r:?}");
    }

    /// Only a running system's own root gets the kernel's list (the live case, bulkhead in its
    /// container, is in crates/bulkhead/tests/in_container.rs): a tree that merely looks like a host, or a fake process tree
    /// with no process to compare with, gets the rule files.
    #[test]
    fn a_copied_tree_or_a_fake_process_tree_is_not_the_running_system() {
        let tree = bulkhead_testkit::TempDir::new("audit-root-alias");
        assert!(!runs_on_root(tree.path(), Path::new("/proc"), &[]));
        let fake_proc = tree.join("proc");
        std::fs::create_dir_all(fake_proc.join("1")).unwrap();
        std::os::unix::fs::symlink(tree.path(), fake_proc.join("1/root")).unwrap();
        assert!(
            !runs_on_root(Path::new("/"), &fake_proc, &[]),
            "a pid 1 rooted elsewhere"
        );
        assert!(
            runs_on_root(tree.path(), &fake_proc, &[]),
            "pid 1's root is compared by device and inode, not by name"
        );
        // Another process counts only when it is one of the audited daemons.
        std::fs::create_dir_all(fake_proc.join("40")).unwrap();
        std::os::unix::fs::symlink("/", fake_proc.join("40/root")).unwrap();
        let process = |exe: &str| Process {
            pid: 40,
            exe: Some(exe.into()),
            argv: vec![exe.into()],
            ..Process::default()
        };
        assert!(!runs_on_root(
            Path::new("/"),
            &fake_proc,
            &[process("/usr/bin/vim")]
        ));
        assert!(runs_on_root(
            Path::new("/"),
            &fake_proc,
            &[process("/usr/sbin/dockerd")]
        ));
    }
}
