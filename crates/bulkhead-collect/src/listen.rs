//! Listening TCP sockets of the host, for checks that look at what the daemon exposes (for
//! example the swarm management port). Read with the kernel's socket-diagnostics netlink
//! interface (`NETLINK_SOCK_DIAG`, as `ss -ltn` does), which lists only listening sockets;
//! `/proc/net/tcp` and `tcp6` walk every socket hash bucket and take milliseconds even on an idle
//! host. The proc files remain the fallback, and the source when `--proc` is not `/proc`.

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
