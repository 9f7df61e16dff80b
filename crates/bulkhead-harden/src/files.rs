//! Reading the audited host's files under a root directory (`/`, or `/host` when bulkhead runs
//! in a container, or a temporary root in tests).
//!
//! A host path such as `/etc/docker/daemon.json` is resolved inside the root, following symbolic
//! links as the host would: an absolute link target is taken relative to the root, never to the
//! machine bulkhead runs on, and `..` never climbs above the root. Edits are written to the file
//! a link points to, so the link itself survives. A link whose target does not exist (dangling)
//! is refused rather than followed: creating a file wherever a link happens to point is not an
//! edit anyone reviewed.
//!
//! Only regular files are read: a FIFO would block forever, a device such as /dev/zero never
//! ends, a directory has no content to edit, and a file larger than [`MAX_FILE_SIZE`] is no
//! configuration file (reading it whole, as hashing and editing do, could exhaust memory). Each
//! is refused without being read, naming the file.

use crate::model::FileAttrs;
use sha2::{Digest, Sha256};
use std::ffi::OsString;
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Maximum symbolic links followed while resolving one path (as Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// The largest file bulkhead reads, hashes or rewrites: 16 MiB, far above any configuration file
/// or manifest it edits.
pub const MAX_FILE_SIZE: u64 = bulkhead_sources::file::MAX_CONFIG_BYTES;

/// The real location under `root` of host path `host_path`, with every symbolic link resolved
/// inside `root`. The final component need not exist.
pub fn resolve(root: &Path, host_path: &str) -> Result<PathBuf, String> {
    resolve_links(root, host_path).map(|(real, _)| real)
}

/// [`resolve`], plus every symbolic link followed on the way: its host path and where it is.
#[allow(clippy::type_complexity)]
fn resolve_links(
    root: &Path,
    host_path: &str,
) -> Result<(PathBuf, Vec<(String, PathBuf)>), String> {
    if !host_path.starts_with('/') {
        return Err(format!("{host_path}: not an absolute host path"));
    }
    // `done` holds the resolved components below root; `todo` what is left, in reverse.
    let mut done: Vec<OsString> = Vec::new();
    let mut todo: Vec<OsString> = parts(Path::new(host_path));
    todo.reverse();
    let mut links = Vec::new();
    while let Some(part) = todo.pop() {
        if part == ".." {
            done.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(done.iter());
        candidate.push(&part);
        match std::fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                if links.len() >= MAX_LINKS {
                    return Err(format!("{host_path}: too many levels of symbolic links"));
                }
                let mut at = PathBuf::from("/");
                at.extend(done.iter());
                at.push(&part);
                links.push((at.display().to_string(), candidate.clone()));
                let target = std::fs::read_link(&candidate)
                    .map_err(|e| format!("{}: {e}", candidate.display()))?;
                if target.is_absolute() {
                    done.clear();
                }
                todo.extend(parts(&target).into_iter().rev());
            }
            _ => done.push(part),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(done.iter());
    Ok((out, links))
}

fn parts(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect()
}

/// When `host_path` does not exist because a symbolic link on its way points at nothing: the
/// link's host path and where it points (as read). `None` when the path exists, or is missing
/// only because plain directories or the file itself are missing (a file a fix may create).
pub fn dangling_link(root: &Path, host_path: &str) -> Result<Option<(String, PathBuf)>, String> {
    let (real, links) = resolve_links(root, host_path)?;
    if std::fs::symlink_metadata(&real).is_ok() {
        return Ok(None);
    }
    for (link, at) in links {
        let target = resolve(root, &link)?;
        if std::fs::symlink_metadata(&target).is_err() {
            let text = std::fs::read_link(&at).unwrap_or(target);
            return Ok(Some((link, text)));
        }
    }
    Ok(None)
}

pub use bulkhead_sources::file::kind_name;

/// The bytes of the regular file at `real` (a path on this machine whose links are resolved),
/// `None` when nothing is there. `shown` names it in errors. A FIFO, device, socket, directory or
/// symbolic link, or a file over [`MAX_FILE_SIZE`], is an error, and is never read (a FIFO's open
/// does not wait for a writer, and a link planted since the path was resolved is not followed).
pub fn read_regular(real: &Path, shown: &str) -> Result<Option<Vec<u8>>, String> {
    match bulkhead_sources::file::read_regular_no_follow(real, MAX_FILE_SIZE) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {shown}: {e}")),
    }
}

/// A file as the planner read it.
#[derive(Debug, Clone)]
pub struct ReadFile {
    /// Where it lives under the root (links resolved).
    pub real_path: PathBuf,
    /// `None` when the file does not exist.
    pub content: Option<String>,
    pub attrs: Option<FileAttrs>,
}

/// Read a host file as text. A missing file is `content: None`; an unreadable one, one that is
/// not a regular file or not UTF-8 text, and a dangling symbolic link are errors naming the file.
pub fn read(root: &Path, host_path: &str) -> Result<ReadFile, String> {
    let real_path = resolve(root, host_path)?;
    let shown = if real_path == root.join(host_path.trim_start_matches('/')) {
        host_path.to_string()
    } else {
        format!("{host_path} (at {})", real_path.display())
    };
    match read_regular(&real_path, &shown)? {
        Some(bytes) => {
            let meta = std::fs::metadata(&real_path)
                .map_err(|e| format!("{}: {e}", real_path.display()))?;
            let content = String::from_utf8(bytes).map_err(|_| {
                format!("{host_path}: not UTF-8 text; bulkhead edits text files only")
            })?;
            Ok(ReadFile {
                real_path,
                content: Some(content),
                attrs: Some(attrs_of(&meta)),
            })
        }
        None => {
            if let Some((link, target)) = dangling_link(root, host_path)? {
                return Err(format!(
                    "{host_path}: the symbolic link {link} points to {}, which does not exist; \
                     bulkhead does not create files through a dangling link (create the target or \
                     remove the link, and plan again)",
                    target.display()
                ));
            }
            Ok(ReadFile {
                real_path,
                content: None,
                attrs: None,
            })
        }
    }
}

pub fn attrs_of(meta: &std::fs::Metadata) -> FileAttrs {
    FileAttrs {
        mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_root() {
        let dir = std::env::temp_dir().join(format!("bulkhead-resolve-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("etc/docker")).unwrap();
        std::fs::create_dir_all(dir.join("srv/conf")).unwrap();
        std::fs::write(dir.join("srv/conf/daemon.json"), "{}").unwrap();
        // An absolute link target means /srv/... of the audited host, not of this machine.
        std::os::unix::fs::symlink("/srv/conf/daemon.json", dir.join("etc/docker/daemon.json"))
            .unwrap();
        // `..` cannot climb out of the root.
        std::os::unix::fs::symlink("../../../../../../etc/passwd", dir.join("etc/escape")).unwrap();
        assert_eq!(
            resolve(&dir, "/etc/docker/daemon.json").unwrap(),
            dir.join("srv/conf/daemon.json")
        );
        assert_eq!(
            resolve(&dir, "/etc/escape").unwrap(),
            dir.join("etc/passwd")
        );
        assert_eq!(
            resolve(&dir, "/etc/new/file").unwrap(),
            dir.join("etc/new/file")
        );
        let r = read(&dir, "/etc/docker/daemon.json").unwrap();
        assert_eq!(r.content.as_deref(), Some("{}"));
        assert!(read(&dir, "/etc/none").unwrap().content.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn sha256_is_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
