//! The two Engine API calls hardening makes itself, over the daemon's unix socket: `GET /_ping`
//! (is the daemon answering again after a restart?) and `GET /containers/{id}/changes` (which
//! paths a container wrote, so `--read-only` keeps exactly those writable with tmpfs mounts;
//! `report` reads them too, so that its plan is the one `harden` makes).
//! Both are reads; HTTP/1.1 is spoken directly (no client library, no process spawned).

use crate::request::{ChangeKind, ChangedPath};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// The socket path of a `unix://` endpoint.
pub fn socket_of(endpoint: &str) -> Option<&str> {
    endpoint.strip_prefix("unix://").filter(|p| !p.is_empty())
}

/// One GET request; returns the status code and the body.
pub fn get(socket: &Path, path: &str, timeout: Duration) -> Result<(u16, Vec<u8>), String> {
    let mut s = UnixStream::connect(socket)
        .map_err(|e| format!("cannot connect to {}: {e}", socket.display()))?;
    s.set_read_timeout(Some(timeout)).ok();
    s.set_write_timeout(Some(timeout)).ok();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: bulkhead\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("writing to {}: {e}", socket.display()))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("reading from {}: {e}", socket.display()))?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("malformed HTTP response: no end of headers")?;
    let head = String::from_utf8_lossy(&raw[..head_end]);
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or("malformed HTTP status line")?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = &raw[head_end + 4..];
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok((status, body))
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let nl = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("malformed chunked body")?;
        let size_text = String::from_utf8_lossy(&body[..nl]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "malformed chunk size")?;
        body = &body[nl + 2..];
        if size == 0 {
            return Ok(out);
        }
        if body.len() < size {
            return Err("truncated chunked body".into());
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
}

/// Does the daemon answer `GET /_ping` with 200?
pub fn ping(socket: &Path) -> bool {
    matches!(get(socket, "/_ping", Duration::from_secs(2)), Ok((200, _)))
}

/// Poll `/_ping` until it answers or `timeout` passes.
pub fn wait_until_answering(socket: &Path, timeout: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    loop {
        if ping(socket) {
            return Ok(start.elapsed());
        }
        if start.elapsed() > timeout {
            return Err(format!(
                "the daemon at {} did not answer within {}s",
                socket.display(),
                timeout.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// What container `id` changed in its root file system.
pub fn container_changes(socket: &Path, id: &str) -> Result<Vec<ChangedPath>, String> {
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(format!("{id:?} is not a container ID"));
    }
    let (status, body) = get(
        socket,
        &format!("/containers/{id}/changes"),
        Duration::from_secs(30),
    )?;
    if status != 200 {
        return Err(format!(
            "GET /containers/{id}/changes answered {status}: {}",
            String::from_utf8_lossy(&body).trim()
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| format!("GET /containers/{id}/changes: not JSON: {e}"))?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    Some(ChangedPath {
                        path: c.get("Path")?.as_str()?.to_string(),
                        kind: match c.get("Kind")?.as_i64()? {
                            0 => ChangeKind::Modified,
                            1 => ChangeKind::Added,
                            _ => ChangeKind::Deleted,
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default())
}

/// What each container that a plan makes read-only wrote to its root file system, by full
/// container ID: `GET /containers/{id}/changes` (what `docker diff` shows) for every container
/// the read-only root file system check fails on. Read-only GETs to a live daemon over its unix
/// socket; nothing for a daemon reached otherwise, and nothing for a container that does not
/// answer. `harden` and `report` both plan with this, so both show the same tmpfs mounts; with
/// `--snapshot` there is no daemon to ask (the changes are not in a snapshot): pass an empty
/// list and [`crate::PlanRequest::from_snapshot`].
pub fn container_writes(
    snapshot: &bulkhead_facts::Snapshot,
    audits: &[bulkhead_checks::Audit],
) -> BTreeMap<String, Vec<ChangedPath>> {
    let mut out = BTreeMap::new();
    let Some(docker) = snapshot.docker.as_ref() else {
        return out;
    };
    let Some(socket) = socket_of(&docker.endpoint.host) else {
        return out;
    };
    let ids: Vec<&str> = audits
        .iter()
        .flat_map(|a| &a.outcomes)
        .filter(|o| o.control.id == READ_ONLY_ROOTFS)
        .flat_map(|o| &o.result.objects)
        .filter(|o| o.status == bulkhead_checks::Status::Fail)
        .filter_map(|o| o.id.as_deref())
        .collect();
    for c in docker.containers.value().into_iter().flatten() {
        if ids.iter().any(|id| c.inspect.id.starts_with(id)) {
            if let Ok(changes) = container_changes(Path::new(socket), &c.inspect.id) {
                out.insert(c.inspect.id.clone(), changes);
            }
        }
    }
    out
}

/// The control whose fix needs the paths a container writes.
const READ_ONLY_ROOTFS: &str = "docker.container.read_only_rootfs";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_plain_and_chunked() {
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK").unwrap();
        assert_eq!(r, (200, b"OK".to_vec()));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n[{}]\r\n2\r\n, \r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.1, b"[{}], ".to_vec());
        assert!(parse_response(b"garbage").is_err());
    }
}
