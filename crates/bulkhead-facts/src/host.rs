//! Facts about the host itself: processes, files, accounts, mounts, audit rules, kernel security
//! modules. Parsers for the host's text formats live here too, as pure functions.

use crate::{Fact, Mode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Everything bulkhead read from the host (under `--root` and `--proc`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct HostFacts {
    /// The directory the host's file system was read under (`/` unless `--root` was given).
    pub root: String,
    /// The proc file system processes were read from (`/proc` unless `--proc` was given).
    pub proc: String,
    pub hostname: Fact<String>,
    /// `/etc/os-release` as key/value pairs.
    pub os_release: Fact<BTreeMap<String, String>>,
    pub kernel: Fact<String>,
    pub processes: Fact<Vec<Process>>,
    /// Every file a check needs, keyed by its path on the host (without the `--root` prefix).
    pub files: BTreeMap<String, FileFact>,
    /// Directory listings a check needs (e.g. `/etc/docker/certs.d`), keyed by host path: the
    /// files found (recursively), each also present in `files`.
    pub listings: BTreeMap<String, Fact<Vec<String>>>,
    pub users: Fact<Vec<PasswdEntry>>,
    pub groups: Fact<Vec<GroupEntry>>,
    pub mounts: Fact<Vec<MountInfo>>,
    pub audit: Fact<AuditRules>,
    pub security_modules: SecurityModules,
    /// Variables of the auditing process's environment that checks consult (for example
    /// `DOCKER_CONTENT_TRUST`), secret values masked.
    pub environment: BTreeMap<String, String>,
    /// System-wide shell profile files that set variables checks consult: path -> assignments
    /// found (`/etc/environment`, `/etc/profile`, `/etc/profile.d/*.sh`, `/etc/bash.bashrc`).
    pub profile_environment: BTreeMap<String, BTreeMap<String, String>>,
    /// TCP sockets in LISTEN state (from `/proc/net/tcp` and `tcp6`).
    pub listeners: Fact<Vec<Listener>>,
    /// The services of the `group:` line of /etc/nsswitch.conf (`files`, `systemd`, `sss`,
    /// `ldap`, ...), in order; None when the file or the line is absent (glibc then reads
    /// /etc/group only) or in snapshots older than this field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_sources: Option<Vec<String>>,
}

impl HostFacts {
    pub fn file(&self, path: &str) -> Option<&FileFact> {
        self.files.get(path)
    }

    pub fn process_list(&self) -> &[Process] {
        self.processes.value().map(|v| v.as_slice()).unwrap_or(&[])
    }

    pub fn user_name(&self, uid: u32) -> Option<&str> {
        self.users
            .value()?
            .iter()
            .find(|u| u.uid == uid)
            .map(|u| u.name.as_str())
    }

    pub fn group_name(&self, gid: u32) -> Option<&str> {
        self.groups
            .value()?
            .iter()
            .find(|g| g.gid == gid)
            .map(|g| g.name.as_str())
    }

    pub fn group(&self, name: &str) -> Option<&GroupEntry> {
        self.groups.value()?.iter().find(|g| g.name == name)
    }
}

/// One process from `/proc/<pid>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    /// `/proc/<pid>/comm`: the executable name, truncated by the kernel to 15 bytes.
    pub comm: String,
    /// Target of `/proc/<pid>/exe`, when readable (a host path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    /// `/proc/<pid>/cmdline`, secret values masked.
    pub argv: Vec<String>,
    /// Real uid.
    pub uid: u32,
    /// Inode of `/proc/<pid>/ns/pid`: processes of one container share it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid_ns: Option<u64>,
    /// Environment, read only for the processes whose configuration can come from it (dockerd,
    /// etcd, kube components), secret values masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environ: Option<BTreeMap<String, String>>,
    /// The kernel's no_new_privs flag (`NoNewPrivs:` in `/proc/<pid>/status`): once set, no
    /// setuid or setgid bit and no file capability can raise the process's privileges, in it
    /// and in every process it starts. None when the status file has no such line (kernels
    /// before 4.10, fake proc trees, snapshots written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_new_privs: Option<bool>,
}

impl Process {
    /// The program name: basename of argv\[0\], else of exe, else comm. Unlike `comm` it is not
    /// truncated to 15 bytes.
    pub fn program(&self) -> &str {
        if let Some(a0) = self.argv.first().filter(|a| !a.is_empty()) {
            return a0.rsplit('/').next().unwrap_or(a0);
        }
        if let Some(exe) = &self.exe {
            return exe.rsplit('/').next().unwrap_or(exe);
        }
        &self.comm
    }

    /// Is this process an instance of `program`, matched by executable name only? `comm` is
    /// compared with the kernel's 15-byte truncation in mind, and confirmed by exe or argv\[0\]
    /// when the name was truncated; no command-line substring ever matches.
    pub fn is_program(&self, program: &str) -> bool {
        let exe_base = self
            .exe
            .as_deref()
            .map(|e| e.rsplit('/').next().unwrap_or(e));
        let exe_base = exe_base.map(|b| b.strip_suffix(" (deleted)").unwrap_or(b));
        let argv0 = self.argv.first().map(|a| a.rsplit('/').next().unwrap_or(a));
        if exe_base == Some(program) || argv0 == Some(program) {
            return true;
        }
        // Only comm is left to go by (exe and argv0 may be missing for kernel-hidden
        // processes): exact for short names, the first 15 characters of longer ones.
        if exe_base.is_some() || argv0.is_some() {
            return false;
        }
        let shown = program
            .char_indices()
            .nth(15)
            .map_or(program, |(end, _)| &program[..end]);
        self.comm == shown
    }

    /// Arguments after argv\[0\].
    pub fn args(&self) -> &[String] {
        if self.argv.is_empty() {
            &[]
        } else {
            &self.argv[1..]
        }
    }
}

/// The state of one path on the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FileFact {
    Present(FileStat),
    Missing,
    Unreadable { reason: String },
}

impl FileFact {
    pub fn stat(&self) -> Option<&FileStat> {
        match self {
            FileFact::Present(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    File,
    Directory,
    Socket,
    Symlink,
    Other,
}

/// `stat` of a path (symbolic links followed; the link itself is noted in `symlink_target`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileStat {
    pub kind: FileKind,
    pub mode: Mode,
    pub uid: u32,
    pub gid: u32,
    /// Owner and group names from the audited host's own /etc/passwd and /etc/group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symlink_target: Option<String>,
    /// Each ancestor directory from `/` down, to judge effective access (a 0644 file inside a
    /// 0700 directory is private to the directory's owner).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ancestors: Vec<AncestorDir>,
}

impl FileStat {
    /// `owner:group` by name where known, else by number.
    pub fn owner_label(&self) -> String {
        let o = self.owner.clone().unwrap_or_else(|| self.uid.to_string());
        let g = self.group.clone().unwrap_or_else(|| self.gid.to_string());
        format!("{o}:{g}")
    }

    /// The nearest ancestor that denies "other" users traversal (no `o+x`), if any: then the
    /// file's own "other" bits grant nothing in practice.
    pub fn closed_ancestor(&self) -> Option<&AncestorDir> {
        self.ancestors.iter().rev().find(|a| a.mode.0 & 0o001 == 0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AncestorDir {
    pub path: String,
    pub mode: Mode,
    pub uid: u32,
    pub gid: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

/// One line of `/proc/self/mountinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountInfo {
    pub mount_point: String,
    pub fs_type: String,
    pub source: String,
    pub options: String,
}

/// The audit rules in force, and where they came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRules {
    /// `kernel` (the loaded rules, read over netlink as `auditctl -l` does) or `files` (the rule
    /// files under /etc/audit, when the kernel list cannot be read).
    pub source: String,
    /// Files read when `source` is `files`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    pub rules: Vec<AuditRule>,
    /// Why this source was used (e.g. why the kernel's list could not be read).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// A file-watch audit rule, normalised from `-w PATH -p PERMS -k KEY` or
/// `-a always,exit -F path=PATH -F perm=PERMS -k KEY` (also `dir=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRule {
    /// The rule as written or listed.
    pub text: String,
    /// The watched path, when the rule watches one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// True when `path` is watched as a directory tree (`-F dir=`, or `-w` on a directory).
    #[serde(default)]
    pub recursive: bool,
    /// Permissions watched (`rwxa`); empty means all.
    #[serde(default)]
    pub perms: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl AuditRule {
    /// Does this rule audit `target` (exactly, or as a directory tree containing it)?
    pub fn covers(&self, target: &str) -> bool {
        match &self.path {
            Some(p) if p == target => true,
            Some(p) => {
                let p = p.trim_end_matches('/');
                (self.recursive || p.is_empty()) && target.starts_with(&format!("{p}/"))
            }
            None => false,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecurityModules {
    /// AppArmor enabled in the kernel (`/sys/module/apparmor/parameters/enabled` is `Y`).
    pub apparmor: Fact<bool>,
    /// SELinux enabled (`/sys/fs/selinux/enforce` exists).
    pub selinux: Fact<bool>,
}

/// A listening TCP socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listener {
    /// Address as text: `0.0.0.0`, `127.0.0.1`, `::`, `::1`.
    pub address: String,
    pub port: u16,
}

/// Parse `/etc/passwd`. Malformed lines are skipped (they cannot name an owner).
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

/// Parse `/etc/group`.
/// The services named for `database` (`group`, `passwd`) in /etc/nsswitch.conf text, in order,
/// without the `[STATUS=action]` items; None when there is no such line.
pub fn parse_nsswitch(text: &str, database: &str) -> Option<Vec<String>> {
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or_default().trim();
        let (db, services) = line.split_once(':')?;
        (db.trim() == database).then(|| {
            let mut out = Vec::new();
            let mut in_action = false;
            for word in services.split_whitespace() {
                if word.starts_with('[') {
                    in_action = true;
                }
                if !in_action {
                    out.push(word.to_string());
                }
                if word.ends_with(']') {
                    in_action = false;
                }
            }
            out
        })
    })
}

pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_string(),
                gid: f[2].parse().ok()?,
                members: f[3]
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(String::from)
                    .collect(),
            })
        })
        .collect()
}

/// Parse `/proc/<pid>/mountinfo`, unescaping octal escapes (`\040` for a space).
pub fn parse_mountinfo(text: &str) -> Vec<MountInfo> {
    text.lines()
        .filter_map(|l| {
            let (left, right) = l.split_once(" - ")?;
            let lf: Vec<&str> = left.split(' ').collect();
            let rf: Vec<&str> = right.split(' ').collect();
            if lf.len() < 6 || rf.len() < 2 {
                return None;
            }
            Some(MountInfo {
                mount_point: unescape_octal(lf[4]),
                options: lf[5].to_string(),
                fs_type: rf[0].to_string(),
                source: unescape_octal(rf[1]),
            })
        })
        .collect()
}

fn unescape_octal(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse audit rules in `auditctl` syntax (rule files, or the text of a listing). Comments,
/// blank lines and control lines (`-D`, `-b`, `-e`, `-f`) are ignored.
pub fn parse_audit_rules(text: &str) -> Vec<AuditRule> {
    text.lines().filter_map(parse_audit_rule).collect()
}

/// Parse one rule line; `None` for comments, control lines, and rules without a path.
pub fn parse_audit_rule(line: &str) -> Option<AuditRule> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut rule = AuditRule {
        text: line.to_string(),
        path: None,
        recursive: false,
        perms: String::new(),
        key: None,
    };
    let mut i = 0;
    let mut is_rule = false;
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied();
        match w {
            "-w" => {
                rule.path = next.map(String::from);
                is_rule = true;
                i += 1;
            }
            "-p" => {
                rule.perms = next.unwrap_or_default().to_string();
                i += 1;
            }
            "-k" => {
                rule.key = next.map(String::from);
                i += 1;
            }
            "-a" | "-A" => {
                is_rule = true;
                i += 1;
            }
            "-F" => {
                if let Some((k, v)) = next.and_then(|n| n.split_once('=')) {
                    match k {
                        "path" => rule.path = Some(v.to_string()),
                        "dir" => {
                            rule.path = Some(v.to_string());
                            rule.recursive = true;
                        }
                        "perm" => rule.perms = v.to_string(),
                        "key" => rule.key = Some(v.to_string()),
                        _ => {}
                    }
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    (is_rule && rule.path.is_some()).then_some(rule)
}

/// Parse `/etc/os-release` (`KEY=value`, values optionally quoted).
pub fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    parse_env_file(text)
}

/// Parse a shell-style environment file: `KEY=value`, `export KEY=value`, quotes removed,
/// comments ignored. Only literal assignments are read; nothing is ever evaluated.
pub fn parse_env_file(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let v = v.trim();
        let v = v.split(" #").next().unwrap_or(v).trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(v);
        out.insert(k.to_string(), v.to_string());
    }
    out
}

/// Parse `/proc/net/tcp` or `/proc/net/tcp6` into listening sockets.
pub fn parse_proc_net_tcp(text: &str, v6: bool) -> Vec<Listener> {
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 4 || f[3] != "0A" {
                return None;
            }
            let (addr_hex, port_hex) = f[1].split_once(':')?;
            let port = u16::from_str_radix(port_hex, 16).ok()?;
            let address = if v6 {
                hex_ipv6(addr_hex)?
            } else {
                hex_ipv4(addr_hex)?
            };
            Some(Listener { address, port })
        })
        .collect()
}

fn hex_ipv4(h: &str) -> Option<String> {
    let n = u32::from_str_radix(h, 16).ok()?;
    Some(std::net::Ipv4Addr::from(n.swap_bytes()).to_string())
}

fn hex_ipv6(h: &str) -> Option<String> {
    if h.len() != 32 {
        return None;
    }
    let mut bytes = [0u8; 16];
    for word in 0..4 {
        let w = u32::from_str_radix(&h[word * 8..word * 8 + 8], 16).ok()?;
        bytes[word * 4..word * 4 + 4].copy_from_slice(&w.to_le_bytes());
    }
    Some(std::net::Ipv6Addr::from(bytes).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_and_group() {
        let p = parse_passwd("root:x:0:0:root:/root:/bin/bash\nbad\netcd:x:998:997::/var/lib/etcd:/usr/sbin/nologin\n");
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].name, "etcd");
        let g = parse_group("docker:x:999:alice,bob\nroot:x:0:\n");
        assert_eq!(g[0].members, vec!["alice", "bob"]);
        assert!(g[1].members.is_empty());
    }

    #[test]
    fn mountinfo() {
        let m = parse_mountinfo("36 35 98:0 /mnt1 /var/lib/docker rw,noatime master:1 - ext4 /dev/sdb1 rw\n37 35 98:0 / /with\\040space rw - tmpfs none rw\n");
        assert_eq!(m[0].mount_point, "/var/lib/docker");
        assert_eq!(m[0].fs_type, "ext4");
        assert_eq!(m[1].mount_point, "/with space");
    }

    #[test]
    fn audit_rules_forms() {
        let r = parse_audit_rules(
            "# comment\n-D\n-w /usr/bin/dockerd -p rwxa -k docker\n-a always,exit -F path=/usr/bin/runc -F perm=x -k docker\n-a always,exit -F dir=/var/lib/docker -F perm=wa\n-a always,exit -F arch=b64 -S execve\n",
        );
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].path.as_deref(), Some("/usr/bin/dockerd"));
        assert_eq!(r[0].key.as_deref(), Some("docker"));
        assert!(r[2].covers("/var/lib/docker/containers"));
        assert!(
            !r[0].covers("/usr/bin/dockerd-rootless.sh"),
            "a substring is not a match"
        );
    }

    #[test]
    fn env_file_is_read_literally() {
        let e = parse_env_file("export DOCKER_CONTENT_TRUST=1\n# X=2\nPATH=\"/usr/bin\"\nFOO='a b' # note\n$(rm -rf /)=x\n");
        assert_eq!(e.get("DOCKER_CONTENT_TRUST").map(String::as_str), Some("1"));
        assert_eq!(e.get("PATH").map(String::as_str), Some("/usr/bin"));
        assert_eq!(e.get("FOO").map(String::as_str), Some("a b"));
        assert_eq!(e.len(), 3);
    }

    #[test]
    fn proc_net_tcp() {
        let v4 = "  sl  local_address rem_address   st\n   0: 00000000:0016 00000000:0000 0A 0\n   1: 0100007F:0947 00000000:0000 0A 0\n   2: 0100007F:0948 0100007F:1234 01 0\n";
        let l = parse_proc_net_tcp(v4, false);
        assert_eq!(
            l,
            vec![
                Listener {
                    address: "0.0.0.0".into(),
                    port: 22
                },
                Listener {
                    address: "127.0.0.1".into(),
                    port: 2375
                }
            ]
        );
        let v6 = "  sl  local_address\n   0: 00000000000000000000000000000000:0959 00000000000000000000000000000000:0000 0A 0\n";
        assert_eq!(
            parse_proc_net_tcp(v6, true),
            vec![Listener {
                address: "::".into(),
                port: 2393
            }]
        );
    }

    #[test]
    fn program_matching_is_exact() {
        let editor = Process {
            pid: 9,
            comm: "vim".into(),
            argv: vec!["vim".into(), "/etc/dockerd.conf".into()],
            ..Default::default()
        };
        assert!(!editor.is_program("dockerd"));
        let rootless = Process {
            pid: 8,
            comm: "dockerd-rootles".into(),
            argv: vec!["/usr/bin/dockerd-rootless.sh".into()],
            ..Default::default()
        };
        assert!(!rootless.is_program("dockerd"));
        let cm = Process {
            pid: 7,
            comm: "kube-controller".into(),
            exe: Some("/usr/local/bin/kube-controller-manager".into()),
            argv: vec![
                "kube-controller-manager".into(),
                "--kubeconfig=/etc/kubernetes/controller-manager.conf".into(),
            ],
            ..Default::default()
        };
        assert!(cm.is_program("kube-controller-manager"));
        let api = Process {
            pid: 6,
            comm: "kube-apiserver".into(),
            argv: vec!["kube-apiserver".into(), "--kubelet-client-key=/k".into()],
            ..Default::default()
        };
        assert!(!api.is_program("kubelet"));
    }

    /// The no_new_privs flag is left out of the JSON when unknown, so a snapshot written before
    /// it was recorded reads back unchanged, and one that has it keeps it.
    #[test]
    fn no_new_privs_is_optional_in_json() {
        let old = r#"{"pid":42,"ppid":1,"comm":"sleep","argv":["sleep","60"],"uid":0}"#;
        let p: Process = serde_json::from_str(old).unwrap();
        assert_eq!(p.no_new_privs, None);
        assert!(!serde_json::to_string(&p).unwrap().contains("no_new_privs"));
        let on = Process {
            no_new_privs: Some(true),
            ..p
        };
        let json = serde_json::to_string(&on).unwrap();
        assert!(json.contains(r#""no_new_privs":true"#), "{json}");
        assert_eq!(serde_json::from_str::<Process>(&json).unwrap(), on);
    }

    /// With neither exe nor argv (a process whose links cannot be read), only comm is left: the
    /// whole name when short, the kernel's first 15 characters when long.
    #[test]
    fn program_matching_by_comm_alone() {
        let hidden = |comm: &str| Process {
            pid: 5,
            comm: comm.into(),
            ..Default::default()
        };
        assert!(hidden("dockerd").is_program("dockerd"));
        assert!(!hidden("dockerd").is_program("dockerd-rootless"));
        assert!(!hidden("docker").is_program("dockerd"));
        assert!(hidden("kube-controller").is_program("kube-controller-manager"));
        assert!(!hidden("kube-controller").is_program("kube-control"));
        assert!(!hidden("kube-controll").is_program("kube-controller-manager"));
    }
}
