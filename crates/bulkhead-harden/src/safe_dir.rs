//! Directories opened once, safely, with every later step of a write done relative to the open
//! descriptor.
//!
//! `apply` and `rollback` check every file and directory before they write (owners, modes, links
//! resolved inside `--root`, hard links, FIFOs, read-only mounts, `chattr`...). Between that check
//! and the write, someone who can write in a directory on the path could replace a directory by
//! a symbolic link (to somewhere outside `--root`, or to another file's directory): a write by
//! path would follow it. So the directory a write lands in is opened once, with openat2(2) and
//! `RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS` from the root (a symbolic link on the way resolves
//! inside the root, as `files::resolve` does by hand; `..` never climbs above it; `/proc`'s magic
//! links are refused), and its (device, inode) is compared with the one the preflight checked
//! (apply.rs refuses otherwise, naming the path). Every later step is relative to that
//! descriptor: the temporary file (`openat` with `O_CREAT|O_EXCL|O_NOFOLLOW`), its write, fsync,
//! `fchown`/`fchmod` and extended attributes on its descriptor, `renameat` over the file, the
//! directory's fsync, the backup (written the same way), reading the file being replaced
//! (`O_NOFOLLOW`), removing a file rollback deletes (`unlinkat`), the directories a fix creates
//! (`mkdirat`, then opened with `O_NOFOLLOW`) and the chmod/chown of a file-mode fix (an
//! `O_PATH|O_NOFOLLOW` descriptor of the file).
//!
//! `RESOLVE_NO_XDEV` is not used: a file under `--root` may lie on another mount than the root
//! (a separate /var, the host's bind mounts under /host), which the preflight accepts; a mount
//! placed over a directory after the check changes its (device, inode) and is refused by the
//! identity check instead.
//!
//! A path that is not under the root (an artifact of `harden --scan`, named by its canonical
//! path) is resolved from `/` the same way.

use crate::model::FileAttrs;
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A directory's identity: (device, inode).
pub(crate) type DirId = (u64, u64);

/// An open directory and where it was when opened (for messages).
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
    path: PathBuf,
}

fn cstr(p: &OsStr) -> io::Result<CString> {
    CString::new(p.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path with a NUL byte"))
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// One name inside a directory: not empty, `.`, `..`, and without `/`.
fn component(name: &OsStr) -> io::Result<CString> {
    let b = name.as_bytes();
    if b.is_empty() || b == b"." || b == b".." || b.contains(&b'/') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a file name", name.to_string_lossy()),
        ));
    }
    cstr(name)
}

fn fstat(fd: RawFd) -> io::Result<libc::stat> {
    // SAFETY: a descriptor the caller holds and a zeroed struct the call fills.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        cvt(libc::fstat(fd, &mut st))?;
        Ok(st)
    }
}

const DIR_FLAGS: libc::c_int =
    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC | libc::O_NOCTTY;

/// The name of the file type `mode` (`st_mode`) in a message.
fn kind_of(mode: libc::mode_t) -> &'static str {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => "a directory",
        libc::S_IFLNK => "a symbolic link",
        libc::S_IFIFO => "a FIFO (named pipe)",
        libc::S_IFCHR => "a character device",
        libc::S_IFBLK => "a block device",
        libc::S_IFSOCK => "a socket",
        _ => "a regular file",
    }
}

impl Dir {
    /// The directory at `dir`, opened by its path (links followed as the kernel follows them):
    /// for directories already trusted (the state directory), and the fallback of
    /// [`Dir::open_in_root`] on kernels without openat2.
    pub(crate) fn open_path(dir: &Path) -> io::Result<Dir> {
        let c = cstr(dir.as_os_str())?;
        // SAFETY: a NUL-terminated path; the descriptor returned is owned below.
        let fd = cvt(unsafe { libc::open(c.as_ptr(), DIR_FLAGS) })?;
        Ok(Dir {
            // SAFETY: a descriptor open() just returned, owned by nobody else.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            path: dir.to_path_buf(),
        })
    }

    /// The directory at `dir` (a path under `root` on this machine, or any absolute path), opened
    /// with openat2(2) from `root` (from `/` when `dir` is not under it) with `RESOLVE_IN_ROOT |
    /// RESOLVE_NO_MAGICLINKS`: a symbolic link on the way is followed inside the root only.
    pub(crate) fn open_in_root(root: &Path, dir: &Path) -> io::Result<Dir> {
        let (anchor, rel) = match dir.strip_prefix(root) {
            Ok(rel) => (root.to_path_buf(), rel.to_path_buf()),
            Err(_) => {
                let abs = std::path::absolute(dir)?;
                let rel = abs.strip_prefix("/").unwrap_or(&abs).to_path_buf();
                (PathBuf::from("/"), rel)
            }
        };
        let base = Dir::open_path(&anchor)?;
        let rel = match rel.as_os_str().is_empty() {
            true => PathBuf::from("."),
            false => rel,
        };
        let c = cstr(rel.as_os_str())?;
        // SAFETY: open_how is plain data; zeroed is its "nothing set" value.
        let mut how: libc::open_how = unsafe { std::mem::zeroed() };
        how.flags = DIR_FLAGS as u64;
        how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
        for _ in 0..32 {
            // SAFETY: a descriptor we hold, a NUL-terminated path, and an open_how of the size
            // given; the descriptor returned is owned below.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_openat2,
                    base.fd.as_raw_fd(),
                    c.as_ptr(),
                    &how as *const libc::open_how,
                    std::mem::size_of::<libc::open_how>(),
                )
            };
            if r >= 0 {
                return Ok(Dir {
                    // SAFETY: a descriptor openat2 just returned, owned by nobody else.
                    fd: unsafe { OwnedFd::from_raw_fd(r as RawFd) },
                    path: dir.to_path_buf(),
                });
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                // A rename elsewhere on the file system raced the lookup: the kernel asks to
                // try again rather than risk resolving outside the root.
                Some(libc::EAGAIN) => continue,
                // Kernels before 5.6 have no openat2: open by path, as bulkhead did before it
                // used openat2. The caller's (device, inode) check still refuses a directory
                // other than the one checked, and every later step stays relative to the
                // descriptor; only a link resolved by the kernel outside the root goes unseen
                // until that check. A seccomp filter that does not know openat2 answers as if
                // it did not exist: ENOSYS, or EPERM in the default profiles of container
                // engines older than it (bulkhead may run in such a container); neither is an
                // answer openat2 itself gives for a directory opened this way.
                Some(libc::ENOSYS | libc::EPERM) => return Dir::open_path(dir),
                _ => return Err(e),
            }
        }
        Err(io::Error::from_raw_os_error(libc::EAGAIN))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// The (device, inode) of the open directory.
    pub(crate) fn id(&self) -> io::Result<DirId> {
        let st = fstat(self.raw())?;
        Ok((st.st_dev, st.st_ino))
    }

    /// `openat(dir, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode)`.
    fn open_at(&self, name: &OsStr, flags: libc::c_int, mode: u32) -> io::Result<File> {
        let c = component(name)?;
        // SAFETY: a descriptor we hold and a NUL-terminated name; the descriptor returned is
        // owned below.
        let fd = cvt(unsafe {
            libc::openat(
                self.raw(),
                c.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NOCTTY,
                mode as libc::c_uint,
            )
        })?;
        // SAFETY: a descriptor openat just returned, owned by nobody else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Create the new file `name` (`O_CREAT|O_EXCL|O_NOFOLLOW`: never through a link planted
    /// there, never an existing file), write-only, with `mode` (before the umask).
    pub(crate) fn create_new(&self, name: &OsStr, mode: u32) -> io::Result<File> {
        self.open_at(name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, mode)
    }

    /// The open regular file `name` and its bytes (at most `max` of them), `None` when nothing
    /// is there. A symbolic link, a FIFO, a device, a socket or a directory is an error, never
    /// read (a FIFO's open does not wait for a writer).
    pub(crate) fn read_regular(
        &self,
        name: &OsStr,
        max: u64,
    ) -> io::Result<Option<(File, Vec<u8>)>> {
        let not_regular = |kind: &str| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("is {kind}, not a regular file; only regular files are read"),
            )
        };
        let f = match self.open_at(name, libc::O_RDONLY | libc::O_NONBLOCK, 0) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(not_regular("a symbolic link"))
            }
            Err(e) => return Err(e),
        };
        let m = f.metadata()?;
        if !m.is_file() {
            return Err(not_regular(kind_of(m.mode() as libc::mode_t)));
        }
        if m.len() > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("is {} bytes, over the {max} bytes bulkhead reads", m.len()),
            ));
        }
        let mut bytes = Vec::with_capacity(m.len() as usize);
        (&f).take(max + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("grew over the {max} bytes bulkhead reads"),
            ));
        }
        Ok(Some((f, bytes)))
    }

    /// `renameat(dir, from, dir, to)`.
    pub(crate) fn rename(&self, from: &OsStr, to: &OsStr) -> io::Result<()> {
        let (a, b) = (component(from)?, component(to)?);
        // SAFETY: descriptors we hold and NUL-terminated names.
        cvt(unsafe { libc::renameat(self.raw(), a.as_ptr(), self.raw(), b.as_ptr()) }).map(drop)
    }

    /// `unlinkat(dir, name, 0)`: a file (or a link itself), never what a link points to.
    pub(crate) fn unlink(&self, name: &OsStr) -> io::Result<()> {
        let c = component(name)?;
        // SAFETY: a descriptor we hold and a NUL-terminated name.
        cvt(unsafe { libc::unlinkat(self.raw(), c.as_ptr(), 0) }).map(drop)
    }

    /// `unlinkat(dir, name, AT_REMOVEDIR)`: an empty directory.
    pub(crate) fn rmdir(&self, name: &OsStr) -> io::Result<()> {
        let c = component(name)?;
        // SAFETY: a descriptor we hold and a NUL-terminated name.
        cvt(unsafe { libc::unlinkat(self.raw(), c.as_ptr(), libc::AT_REMOVEDIR) }).map(drop)
    }

    /// `mkdirat(dir, name, mode)`.
    pub(crate) fn mkdir(&self, name: &OsStr, mode: u32) -> io::Result<()> {
        let c = component(name)?;
        // SAFETY: a descriptor we hold and a NUL-terminated name.
        cvt(unsafe { libc::mkdirat(self.raw(), c.as_ptr(), mode as libc::mode_t) }).map(drop)
    }

    /// The directory `name` in this one, opened with `O_NOFOLLOW`: a link there is refused.
    pub(crate) fn subdir(&self, name: &OsStr) -> io::Result<Dir> {
        let f = self.open_at(name, DIR_FLAGS, 0)?;
        Ok(Dir {
            fd: f.into(),
            path: self.path.join(name),
        })
    }

    /// fchmod(2) of the directory itself.
    pub(crate) fn chmod(&self, mode: u32) -> io::Result<()> {
        // SAFETY: a descriptor we hold.
        cvt(unsafe { libc::fchmod(self.raw(), mode as libc::mode_t) }).map(drop)
    }

    /// fsync(2) of the directory: a rename or removal in it is on disk.
    pub(crate) fn sync(&self) -> io::Result<()> {
        // SAFETY: a descriptor we hold.
        cvt(unsafe { libc::fsync(self.raw()) }).map(drop)
    }

    /// The names in the directory (without `.` and `..`).
    pub(crate) fn names(&self) -> io::Result<Vec<OsString>> {
        // SAFETY: fdopendir takes over the duplicate descriptor (closedir closes it); readdir's
        // entries are read before the next call; the stream is closed on every path.
        unsafe {
            let dup = cvt(libc::fcntl(self.raw(), libc::F_DUPFD_CLOEXEC, 0))?;
            let stream = libc::fdopendir(dup);
            if stream.is_null() {
                let e = io::Error::last_os_error();
                libc::close(dup);
                return Err(e);
            }
            // The duplicate shares the descriptor's position: start from the beginning.
            libc::rewinddir(stream);
            let mut out = Vec::new();
            loop {
                let ent = libc::readdir(stream);
                if ent.is_null() {
                    break;
                }
                let name = std::ffi::CStr::from_ptr((*ent).d_name.as_ptr()).to_bytes();
                if name != b"." && name != b".." {
                    out.push(OsString::from_vec(name.to_vec()));
                }
            }
            libc::closedir(stream);
            Ok(out)
        }
    }

    /// Give the entry `name` (a file, a directory, a socket: never followed if it is a symbolic
    /// link) the owner and mode of `to`, chown first (it clears setuid bits), and only when the
    /// owner differs from `from`'s. Errors are `chown: ...` or `chmod: ...`.
    pub(crate) fn set_attrs_at(
        &self,
        name: &OsStr,
        from: &FileAttrs,
        to: &FileAttrs,
    ) -> Result<(), String> {
        let f = self
            .open_at(name, libc::O_PATH, 0)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => "is a symbolic link now; not followed".to_string(),
                _ => format!("opening: {e}"),
            })?;
        let st = fstat(f.as_raw_fd()).map_err(|e| format!("stat: {e}"))?;
        if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            return Err("is a symbolic link now; not followed".into());
        }
        if (from.uid, from.gid) != (to.uid, to.gid) {
            // SAFETY: a descriptor we hold and an empty NUL-terminated path (AT_EMPTY_PATH:
            // the file the descriptor is).
            cvt(unsafe {
                libc::fchownat(
                    f.as_raw_fd(),
                    c"".as_ptr(),
                    to.uid,
                    to.gid,
                    libc::AT_EMPTY_PATH,
                )
            })
            .map_err(|e| format!("chown: {e}"))?;
        }
        // fchmod does not take an O_PATH descriptor: its /proc/self/fd link names exactly the
        // file it holds (what glibc's fchmodat(AT_SYMLINK_NOFOLLOW) does).
        let proc = CString::new(format!("/proc/self/fd/{}", f.as_raw_fd())).expect("no NUL");
        // SAFETY: a NUL-terminated path.
        let r = cvt(unsafe { libc::chmod(proc.as_ptr(), to.mode as libc::mode_t) });
        match r {
            Ok(_) => Ok(()),
            // No /proc: by name in this directory, after checking it is still no link.
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let c = component(name).map_err(|e| format!("chmod: {e}"))?;
                // SAFETY: a descriptor we hold, a NUL-terminated name and a zeroed struct.
                let st = unsafe {
                    let mut st: libc::stat = std::mem::zeroed();
                    cvt(libc::fstatat(
                        self.raw(),
                        c.as_ptr(),
                        &mut st,
                        libc::AT_SYMLINK_NOFOLLOW,
                    ))
                    .map_err(|e| format!("chmod: {e}"))?;
                    st
                };
                if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
                    return Err("is a symbolic link now; not followed".into());
                }
                // SAFETY: a descriptor we hold and a NUL-terminated name.
                cvt(unsafe { libc::fchmodat(self.raw(), c.as_ptr(), to.mode as libc::mode_t, 0) })
                    .map(drop)
                    .map_err(|e| format!("chmod: {e}"))
            }
            Err(e) => Err(format!("chmod: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_on_the_way_resolve_inside_the_root() {
        let dir = std::env::temp_dir().join(format!("bulkhead-safe-dir-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = dir.join("root");
        std::fs::create_dir_all(root.join("etc/docker")).unwrap();
        std::fs::create_dir_all(dir.join("outside")).unwrap();
        // An absolute link is the root's path, and `..` stops at the root.
        std::os::unix::fs::symlink(dir.join("outside"), root.join("etc/abs")).unwrap();
        std::os::unix::fs::symlink("../../../../../../outside", root.join("etc/up")).unwrap();
        std::os::unix::fs::symlink("docker", root.join("etc/rel")).unwrap();
        let docker = std::fs::metadata(root.join("etc/docker")).unwrap();
        let d = Dir::open_in_root(&root, &root.join("etc/rel")).unwrap();
        assert_eq!(d.id().unwrap(), (docker.dev(), docker.ino()));
        for l in ["etc/abs", "etc/up"] {
            let e = Dir::open_in_root(&root, &root.join(l)).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotFound, "{l}: {e}");
        }
        let d = Dir::open_in_root(&root, &root.join("etc/docker")).unwrap();
        let mut f = d.create_new(OsStr::new("a"), 0o600).unwrap();
        std::io::Write::write_all(&mut f, b"x").unwrap();
        d.rename(OsStr::new("a"), OsStr::new("b")).unwrap();
        assert_eq!(d.names().unwrap(), vec![OsString::from("b")]);
        let (_, bytes) = d.read_regular(OsStr::new("b"), 10).unwrap().unwrap();
        assert_eq!(bytes, b"x");
        assert!(d.create_new(OsStr::new("b"), 0o600).is_err());
        assert!(d.subdir(OsStr::new("..")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
