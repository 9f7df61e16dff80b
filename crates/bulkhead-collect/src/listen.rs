//! Listening TCP sockets of the host, for checks that look at what the daemon exposes (for
//! example the swarm management port). Read with the kernel's socket-diagnostics netlink
//! interface (`NETLINK_SOCK_DIAG`, as `ss -ltn` does), which lists only listening sockets;
//! `/proc/net/tcp` and `tcp6` walk every socket hash bucket and take milliseconds even on an idle
//! host. The proc files remain the fallback, and the source when `--proc` is not `/proc`.
//!
//! The host's sockets are those of pid 1's network namespace. bulkhead run in a container that
//! shares the host's PID namespace (`--pid host`) but not its network (deploy/README.md) sits in
//! a namespace of its own, where netlink and `/proc/net` list only the container's sockets: then
//! pid 1's proc files (`/proc/1/net/tcp`, `tcp6`) are read instead, as the mount table is read
//! from pid 1 (`host::read_mounts`).

use bulkhead_facts::host::{parse_proc_net_tcp, Listener};
use bulkhead_facts::Fact;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

const NETLINK_SOCK_DIAG: libc::c_int = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const TCP_LISTEN: u32 = 10;
const NLMSG_HDRLEN: usize = 16;
/// `struct inet_diag_req_v2`
const REQ_LEN: usize = 56;

/// Listening TCP sockets: over netlink when reading the live `/proc`, else from the proc files.
pub fn listeners(proc: &Path) -> Fact<Vec<Listener>> {
    if let Some(host) = host_network_proc(proc) {
        return from_proc_files(&host);
    }
    if proc == Path::new("/proc") {
        if let Ok(mut v4) = dump(libc::AF_INET as u8) {
            if let Ok(v6) = dump(libc::AF_INET6 as u8) {
                v4.extend(v6);
                return Fact::Value(v4);
            }
        }
    }
    from_proc_files(proc)
}

/// `<proc>/1` when pid 1 is in another network namespace than this process; None when it is
/// the same one or it cannot be told. Told apart by the TCP table each shows: the kernel makes one
/// `net/tcp` entry per network namespace, so the two are the same file (device and inode) exactly
/// when the namespace is the same. (Pid 1's `ns/net` link would say it as well, but reading it
/// needs the right to inspect pid 1, which even root lacks where pid 1 holds capabilities root
/// was not given; its proc files need none.)
fn host_network_proc(proc: &Path) -> Option<std::path::PathBuf> {
    let pid1 = proc.join("1");
    let pid1_table = crate::hostfs::file_identity(&pid1.join("net/tcp"))?;
    let own_table = crate::hostfs::file_identity(&proc.join("self/net/tcp"))?;
    (pid1_table != own_table).then_some(pid1)
}

/// `/proc/net/tcp` and `/proc/net/tcp6`.
pub fn from_proc_files(proc: &Path) -> Fact<Vec<Listener>> {
    let v4 = std::fs::read_to_string(proc.join("net/tcp"));
    let v6 = std::fs::read_to_string(proc.join("net/tcp6"));
    match (v4, v6) {
        (Err(e), Err(_)) => Fact::Unavailable(format!(
            "cannot read {}: {e}",
            proc.join("net/tcp").display()
        )),
        (a, b) => {
            let mut l = a.map(|t| parse_proc_net_tcp(&t, false)).unwrap_or_default();
            l.extend(b.map(|t| parse_proc_net_tcp(&t, true)).unwrap_or_default());
            Fact::Value(l)
        }
    }
}

/// Every listening TCP socket of one address family.
fn dump(family: u8) -> Result<Vec<Listener>, String> {
    // SAFETY: a plain netlink socket owned by this function and closed before it returns.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    let r = dump_on(fd, family);
    // SAFETY: closing the descriptor opened above.
    unsafe { libc::close(fd) };
    r
}

fn dump_on(fd: libc::c_int, family: u8) -> Result<Vec<Listener>, String> {
    let mut msg = [0u8; NLMSG_HDRLEN + REQ_LEN];
    msg[0..4].copy_from_slice(&((NLMSG_HDRLEN + REQ_LEN) as u32).to_ne_bytes());
    msg[4..6].copy_from_slice(&SOCK_DIAG_BY_FAMILY.to_ne_bytes());
    msg[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    msg[8..12].copy_from_slice(&1u32.to_ne_bytes());
    let req = &mut msg[NLMSG_HDRLEN..];
    req[0] = family;
    req[1] = libc::IPPROTO_TCP as u8;
    req[4..8].copy_from_slice(&(1u32 << TCP_LISTEN).to_ne_bytes());
    // SAFETY: sending a buffer we own to the kernel (nl_pid 0).
    let sent = unsafe {
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        libc::sendto(
            fd,
            msg.as_ptr() as *const libc::c_void,
            msg.len(),
            0,
            &addr as *const _ as *const libc::sockaddr,
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    let mut out = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        // SAFETY: receiving into a buffer we own.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len(), 0) };
        if n < 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
        let n = n as usize;
        let mut off = 0;
        while off + NLMSG_HDRLEN <= n {
            let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
            if len < NLMSG_HDRLEN || off + len > n {
                return Err("malformed netlink message".into());
            }
            match kind {
                NLMSG_DONE => return Ok(out),
                NLMSG_ERROR => return Err("the kernel refused the socket dump".into()),
                SOCK_DIAG_BY_FAMILY => {
                    if let Some(l) = decode(&buf[off + NLMSG_HDRLEN..off + len]) {
                        out.push(l);
                    }
                }
                _ => {}
            }
            off += (len + 3) & !3;
        }
        if n == 0 {
            return Ok(out);
        }
    }
}

/// `struct inet_diag_msg`: family, state, timer, retrans, then `inet_diag_sockid` (source port
/// and destination port big-endian, then the 16-byte source address).
fn decode(m: &[u8]) -> Option<Listener> {
    if m.len() < 24 {
        return None;
    }
    let port = u16::from_be_bytes([m[4], m[5]]);
    let address = match m[0] as i32 {
        libc::AF_INET => Ipv4Addr::new(m[8], m[9], m[10], m[11]).to_string(),
        libc::AF_INET6 => {
            let b: [u8; 16] = m[8..24].try_into().ok()?;
            Ipv6Addr::from(b).to_string()
        }
        _ => return None,
    };
    Some(Listener { address, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One listener on 0.0.0.0:2377, as a `net/tcp` file shows it.
    const TCP_TABLE: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0949 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n";

    /// A proc directory where pid 1's `net/tcp` holds [`TCP_TABLE`]; `self` is pid 1 (one
    /// namespace: the same file) or a process with an empty table of its own.
    fn fake_proc(self_is_pid1: bool) -> bulkhead_testkit::TempDir {
        let proc = bulkhead_testkit::TempDir::new("listen-proc");
        std::fs::create_dir_all(proc.join("1/net")).unwrap();
        std::fs::write(proc.join("1/net/tcp"), TCP_TABLE).unwrap();
        if self_is_pid1 {
            std::os::unix::fs::symlink("1", proc.join("self")).unwrap();
        } else {
            std::fs::create_dir_all(proc.join("self/net")).unwrap();
            std::fs::write(proc.join("self/net/tcp"), "  sl  local_address\n").unwrap();
        }
        proc
    }

    #[test]
    fn in_a_network_namespace_of_its_own_the_hosts_sockets_are_pid_1s() {
        let proc = fake_proc(false);
        assert_eq!(host_network_proc(&proc), Some(proc.join("1")));
        let found = listeners(&proc).value().cloned().unwrap();
        assert!(
            found
                .iter()
                .any(|l| l.port == 2377 && l.address == "0.0.0.0"),
            "{found:?}"
        );
        // The same namespace (bulkhead on the host itself): its own sockets, as before.
        assert_eq!(host_network_proc(&fake_proc(true)), None);
        // Cannot be told (no table for pid 1): nothing is guessed.
        let empty = bulkhead_testkit::TempDir::new("listen-proc");
        assert_eq!(host_network_proc(&empty), None);
    }

    /// The kernel's side of the rule: this process and pid 1 are in one namespace when bulkhead
    /// runs on the host, and a process in a namespace of its own has another table.
    #[test]
    fn one_tcp_table_per_network_namespace() {
        let proc = Path::new("/proc");
        if crate::hostfs::file_identity(&proc.join("1/net/tcp")).is_none() {
            assert!(
                !bulkhead_testkit::ci(),
                "CI=true: /proc/1/net/tcp unreadable"
            );
            eprintln!("skipped: /proc/1/net/tcp unreadable");
            return;
        }
        let own = std::fs::read_link("/proc/self/ns/net").ok();
        let init = std::fs::read_link("/proc/1/ns/net").ok();
        if own.is_some() && init.is_some() && own != init {
            eprintln!("skipped: this test itself runs in a network namespace of its own");
            return;
        }
        assert_eq!(host_network_proc(proc), None);
    }

    #[test]
    fn netlink_agrees_with_proc_files() {
        // A socket of our own, so there is at least one listener on each family.
        let v4 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let v6 = std::net::TcpListener::bind("[::1]:0").ok();
        let mut nl = match (dump(libc::AF_INET as u8), dump(libc::AF_INET6 as u8)) {
            (Ok(mut a), Ok(b)) => {
                a.extend(b);
                a
            }
            (e1, e2) => {
                let reason = format!("sock_diag unavailable here ({e1:?}, {e2:?})");
                assert!(!bulkhead_testkit::ci(), "CI=true: {reason}");
                eprintln!("skipped: {reason}");
                return;
            }
        };
        let port = v4.local_addr().unwrap().port();
        assert!(nl
            .iter()
            .any(|l| l.port == port && l.address == "127.0.0.1"));
        if let Some(v6) = &v6 {
            let p6 = v6.local_addr().unwrap().port();
            assert!(nl.iter().any(|l| l.port == p6 && l.address == "::1"));
        }
        let mut files = from_proc_files(Path::new("/proc"))
            .value()
            .cloned()
            .unwrap();
        let key = |l: &Listener| (l.address.clone(), l.port);
        nl.sort_by_key(key);
        files.sort_by_key(key);
        nl.dedup();
        files.dedup();
        assert_eq!(nl, files);
    }
}
