//! Reading the audited host's files under a root directory (`/`, or `/host` when bulkhead runs
//! in a container, or a temporary root in tests).
//!
//! A host path such as `/etc/docker/daemon.json` is resolved inside the root, following symbolic
//! links as the host would: an absolute link target is taken relative to the root, never to the
//! machine bulkhead runs on, and `..` never climbs above the root. Edits are written to the file
//! a link points to, so the link itself survives.

use crate::model::FileAttrs;
use sha2::{Digest, Sha256};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Maximum symbolic links followed while resolving one path (as Linux's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

/// The real location under `root` of host path `host_path`, with every symbolic link resolved
/// inside `root`. The final component need not exist.
pub fn resolve(root: &Path, host_path: &str) -> Result<PathBuf, String> {
    if !host_path.starts_with('/') {
        return Err(format!("{host_path}: not an absolute host path"));
    }
    // `done` holds the resolved components below root; `todo` what is left, in reverse.
    let mut done: Vec<std::ffi::OsString> = Vec::new();
    let mut todo: Vec<std::ffi::OsString> = Path::new(host_path)
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut links = 0;
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
                links += 1;
                if links > MAX_LINKS {
                    return Err(format!("{host_path}: too many levels of symbolic links"));
                }
                let target = std::fs::read_link(&candidate)
                    .map_err(|e| format!("{}: {e}", candidate.display()))?;
                if target.is_absolute() {
                    done.clear();
                }
                let parts: Vec<std::ffi::OsString> = target
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(n) => Some(n.to_os_string()),
                        Component::ParentDir => Some("..".into()),
                        _ => None,
                    })
                    .collect();
                todo.extend(parts.into_iter().rev());
            }
            _ => done.push(part),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(done.iter());
    Ok(out)
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

/// Read a host file as text. A missing file is `content: None`; an unreadable one or one that is
/// not UTF-8 text is an error naming the file.
pub fn read(root: &Path, host_path: &str) -> Result<ReadFile, String> {
    let real_path = resolve(root, host_path)?;
    match std::fs::read(&real_path) {
        Ok(bytes) => {
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
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ReadFile {
            real_path,
            content: None,
            attrs: None,
        }),
        Err(e) => Err(format!(
            "cannot read {host_path} (at {}): {e}",
            real_path.display()
        )),
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
