//! Applying a plan without ever losing a file, and undoing it.
//!
//! For each file a fix edits, in this order:
//! 1. before anything is written, every file is checked against the SHA-256 the plan recorded
//!    when it read it (and every mode/owner against what the plan saw): if one changed since,
//!    nothing is applied. So is every file that cannot be replaced safely, and every file system
//!    without room for what is written on it (see "What is refused" below);
//! 2. a journal listing every change is written (and fsynced) under the state directory;
//! 3. the file is backed up beside itself (`NAME.bulkhead-STAMP.bak`, same owner, its owner's
//!    read/write bits only, no ACL);
//! 4. the new content goes to a temporary file in the same directory, gets the original mode,
//!    owner and extended attributes (ACL included, and no ACL the directory's default would add),
//!    is fsynced, and is renamed over the original (then the directory is fsynced).
//!
//! Steps 3 and 4 (and every write of `rollback`) go through the file's directory opened once,
//! after every check, inside `--root` (openat2 with `RESOLVE_IN_ROOT`, see safe_dir.rs), and
//! refused, nothing written, unless it is the directory the checks saw (same device and inode):
//! a directory on the path swapped for a symbolic link after the checks can send no write
//! outside the root or onto another file. The backup, the temporary file, its owner, mode and
//! extended attributes, the rename and the fsyncs are all relative to that descriptor.
//!
//! A rename is atomic, so at every instant the file is either wholly old or wholly new; a process
//! killed at any point leaves no half-written file (the failpoint tests prove it). `rollback`
//! reads the latest journal and restores the backups the same way, refusing (changing nothing) a
//! file whose content, mode or owner changed after it was applied, or that became a symbolic link.
//! Once a file is restored its backup is deleted (it holds the old content, possibly a secret,
//! beside the file: in a scanned source tree it would be committed); the report names it.
//! Rolling back again undoes the apply before, until none is left.
//!
//! An apply that fails part-way (an I/O error) stops where it is and undoes nothing: its error
//! lists every file of the journal as it is now, changed (with the backup) or not, and the
//! `--rollback` command that restores them; the journal stays in progress until then.
//!
//! # What is refused, before anything is written
//!
//! - A symbolic link is followed inside `--root` (files.rs): the file it points to is edited and
//!   backed up beside itself, the link stays. A link whose target does not exist is refused, as
//!   is a path that became a link after it was resolved.
//! - Anything but a regular file (a FIFO, a device, a directory, a socket) and a file over
//!   [`files::MAX_FILE_SIZE`]: never read, so nothing blocks or fills memory.
//! - A file with several hard links: the rename would silently leave the other names with the
//!   old content.
//! - A file or directory with `chattr +i` (or `+a`), a read-only file system (a read-only bind
//!   mount), a directory this user cannot write, a file that is a mount point (a bind-mounted
//!   file cannot be renamed over), a file system without the room or inodes the backups, new
//!   contents and journal need.
//! - A state directory (journals, lock, verify baseline) someone other than root or the user
//!   running bulkhead could write, through its own modes, a parent's, or a symbolic link they
//!   planted; a journal or lock file in it that is not ours. A journal decides what rollback
//!   writes where, so a planted one would be a way to overwrite any file as root.
//!
//! These checks make a failure part-way unlikely, not impossible (the disk may fill meanwhile):
//! that case is reported file by file, as above.

use crate::failpoint;
use crate::files::{self, attrs_of, sha256_hex};
use crate::model::{FileAttrs, Fix, Plan, Restart, Safety};
use crate::safe_dir::{Dir, DirId};
use serde::{Deserialize, Serialize};
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const JOURNAL_SCHEMA: &str = "bulkhead.harden-journal/1";

/// How to apply.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// The host root the plan was made under.
    pub root: PathBuf,
    /// Also apply fixes marked `review`.
    pub include_review: bool,
    /// Where journals are kept. Default: `<root>/var/lib/bulkhead/harden`.
    pub state_dir: Option<PathBuf>,
}

impl ApplyOptions {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ApplyOptions {
            root: root.into(),
            include_review: false,
            state_dir: None,
        }
    }

    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| self.root.join("var/lib/bulkhead/harden"))
    }

    /// The exact command that undoes an apply made with these options: `--root` and
    /// `--state-dir` are named when they are not the defaults (quoted as [`crate::shell::quote`]
    /// quotes).
    pub fn rollback_command(&self) -> String {
        let mut argv = vec!["bulkhead".to_string(), "harden".into(), "--rollback".into()];
        let default_state = self.root.join("var/lib/bulkhead/harden");
        if self.root != Path::new("/") {
            argv.push("--root".into());
            argv.push(self.root.display().to_string());
        }
        if let Some(s) = self.state_dir.as_ref().filter(|s| **s != default_state) {
            argv.push("--state-dir".into());
            argv.push(s.display().to_string());
        }
        crate::shell::join(&argv)
    }
}

/// What `apply` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Fix IDs applied, with the files each changed, named where they are on this machine
    /// (under `--root` when that is not `/`).
    pub applied: Vec<(String, Vec<String>)>,
    /// Fix IDs not applied, with why (review without --include-review, a command for a human).
    pub skipped: Vec<(String, String)>,
    /// Backups written: (the file, its backup), both where they are on this machine.
    pub backups: Vec<(String, PathBuf)>,
    /// The journal `rollback` reads.
    pub journal: Option<PathBuf>,
}

/// Why apply or rollback refused or failed. Nothing was changed when `Refused` is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyError {
    /// A file is not what the plan (or the journal) expects; nothing was changed.
    Refused(String),
    /// An I/O error part-way; the journal says what was done and `rollback` undoes it. The
    /// message of an apply lists every file as it is now (changed, with its backup, or not) and
    /// names the rollback command.
    Failed(String),
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApplyError::Refused(m) => write!(f, "refused, nothing was changed: {m}"),
            ApplyError::Failed(m) => write!(f, "{m}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum JournalState {
    InProgress,
    Applied,
    RolledBack,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Entry {
    Edit {
        fix: String,
        path: String,
        real_path: PathBuf,
        /// Where the old content was saved; None for a file the fix created.
        backup: Option<PathBuf>,
        before_sha256: Option<String>,
        after_sha256: String,
        /// Directories created for a new file, outermost first.
        #[serde(default)]
        created_dirs: Vec<PathBuf>,
        /// Mode and owner of the file before the apply (rollback restores them; the backup
        /// keeps only the owner's read/write bits). Absent in journals of older versions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before_attrs: Option<FileAttrs>,
        /// Mode and owner the apply left the file with (an `Attrs` entry of the same file may
        /// change them after): rollback refuses a file whose mode or owner changed since, as it
        /// refuses one whose content did. Absent in journals of older versions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after_attrs: Option<FileAttrs>,
        /// The service that reads the file and must restart (or reload) to see a change of
        /// it, the fix's: a rollback changes the file back and says so. Absent in journals of
        /// older versions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        restart: Option<Restart>,
    },
    Attrs {
        fix: String,
        path: String,
        real_path: PathBuf,
        before: FileAttrs,
        after: FileAttrs,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Journal {
    schema: String,
    id: String,
    state: JournalState,
    root: PathBuf,
    entries: Vec<Entry>,
}

/// A UTC timestamp for file names, `20260102T030405.123456789Z`, plus the pid so two runs in
/// the same nanosecond cannot collide.
fn stamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = bulkhead_facts::time::civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{:09}Z-{}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_nanos(),
        std::process::id()
    )
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

/// What the file `write_atomic` writes gets for extended attributes (ACLs included).
#[derive(Clone, Copy)]
pub(crate) enum Xattrs<'a> {
    /// Exactly those of this open file (the file being replaced, named by the path): SELinux
    /// label, file capabilities, `user.*` tags, and its POSIX ACL, not the default ACL its
    /// directory would hand down.
    CopyFrom(&'a fs::File, &'a Path),
    /// None: a backup or a journal may hold secrets, and a default ACL of its directory must not
    /// let anyone read it.
    Private,
    /// Those a new file gets in its directory (a default ACL applies, as to any file created
    /// there).
    Inherit,
}

/// The POSIX access ACL, stored as an extended attribute.
const ACL_ACCESS: &std::ffi::CStr = c"system.posix_acl_access";

/// Drop the access ACL a new file inherited from its directory's default ACL. Combined with a
/// mode set afterwards, such an ACL can grant a named user or group more than the file it
/// replaces ever granted.
fn drop_inherited_acl(path: &Path, f: &fs::File) -> Result<(), String> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: a descriptor this function borrows and a NUL-terminated name.
    let r = unsafe { libc::fremovexattr(f.as_raw_fd(), ACL_ACCESS.as_ptr()) };
    let err = std::io::Error::last_os_error();
    match (r, err.raw_os_error()) {
        (0, _) => Ok(()),
        (_, Some(libc::ENODATA | libc::ENOTSUP)) => Ok(()),
        _ => Err(io_err("removing the inherited ACL of", path, err)),
    }
}

/// Copy the extended attributes of the open file `from` (`from_path` in errors: SELinux labels,
/// file capabilities, user.* tags, the POSIX ACL) to the open file `to`, which `to_path` names in
/// errors. Both are read and written through their descriptors, never by path. An attribute the
/// filesystem or our privileges refuse is skipped, except the ACL: without it the new file's
/// group bits (the ACL's mask) would apply to its owning group, which the ACL may have denied.
fn copy_xattrs(
    from: &fs::File,
    from_path: &Path,
    to: &fs::File,
    to_path: &Path,
) -> Result<(), String> {
    use std::ffi::CString;
    use std::os::unix::io::AsRawFd;
    let src = from.as_raw_fd();
    // SAFETY: every buffer passed is owned here and its length is the one given.
    unsafe {
        let n = libc::flistxattr(src, std::ptr::null_mut(), 0);
        if n <= 0 {
            return Ok(());
        }
        let mut names = vec![0u8; n as usize];
        let n = libc::flistxattr(src, names.as_mut_ptr().cast(), names.len());
        if n <= 0 {
            return Ok(());
        }
        names.truncate(n as usize);
        for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let Ok(cname) = CString::new(name) else {
                continue;
            };
            let is_acl = cname.as_c_str() == ACL_ACCESS;
            let len = libc::fgetxattr(src, cname.as_ptr(), std::ptr::null_mut(), 0);
            let mut value = vec![0u8; len.max(0) as usize];
            let len = match len {
                l if l < 0 => l,
                _ => libc::fgetxattr(src, cname.as_ptr(), value.as_mut_ptr().cast(), value.len()),
            };
            let set = len >= 0
                && libc::fsetxattr(
                    to.as_raw_fd(),
                    cname.as_ptr(),
                    value.as_ptr().cast(),
                    len as usize,
                    0,
                ) == 0;
            if !set && is_acl {
                return Err(io_err(
                    &format!("copying the ACL of {} to", from_path.display()),
                    to_path,
                    std::io::Error::last_os_error(),
                ));
            }
        }
    }
    Ok(())
}

/// An error of the temporary file that becomes `target`, naming both.
fn tmp_err(what: &str, target: &Path, tmp: &Path, e: std::io::Error) -> String {
    format!(
        "writing {}: {what} its temporary file {}: {e}",
        target.display(),
        tmp.display()
    )
}

/// Write `content` to `target` atomically ([`write_at`] in its directory, opened by path): for
/// the state directory (journals, the verify baseline), which no one else can write in.
pub(crate) fn write_atomic(
    target: &Path,
    content: &[u8],
    attrs: FileAttrs,
    point: &str,
    xattrs: Xattrs,
) -> Result<(), String> {
    let (dir, name) = split(target)?;
    let dir = Dir::open_path(dir).map_err(|e| io_err("opening the directory of", target, e))?;
    write_at(&dir, name, content, attrs, point, xattrs)
}

/// The directory and the name of `path`.
fn split(path: &Path) -> Result<(&Path, &OsStr), String> {
    match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => Ok((d, n)),
        _ => Err(format!("{}: no parent directory", path.display())),
    }
}

/// Write `content` as `name` in the open directory `dir`, atomically: a temporary file created
/// in it (`openat`, `O_CREAT|O_EXCL|O_NOFOLLOW`) with `attrs` (fchown, fchmod) and the extended
/// attributes `xattrs` says, fsynced, renamed over `name` (`renameat`), then the directory
/// fsynced. Every step is relative to the directory's descriptor: a directory on its path
/// replaced meanwhile (by a symbolic link) changes nothing of where it lands. `point` prefixes
/// the failpoints. On an error the temporary file is removed and `name` is untouched.
pub(crate) fn write_at(
    dir: &Dir,
    name: &OsStr,
    content: &[u8],
    attrs: FileAttrs,
    point: &str,
    xattrs: Xattrs,
) -> Result<(), String> {
    let target = dir.path().join(name);
    let tmp_name = std::ffi::OsString::from(format!(
        ".{}.bulkhead-tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let tmp = dir.path().join(&tmp_name);
    // A temporary file left by a killed run of the same pid is ours to replace.
    let _ = dir.unlink(&tmp_name);
    let result = (|| {
        // O_EXCL|O_NOFOLLOW never follows a link planted at the temporary name.
        let mut f = dir
            .create_new(&tmp_name, 0o600)
            .map_err(|e| tmp_err("creating", &target, &tmp, e))?;
        f.write_all(content)
            .map_err(|e| tmp_err("writing", &target, &tmp, e))?;
        // Owner first: chown clears setuid/setgid bits and file capabilities, which the
        // extended attributes and the mode then set.
        std::os::unix::fs::fchown(&f, Some(attrs.uid), Some(attrs.gid))
            .map_err(|e| io_err("setting the owner of", &tmp, e))?;
        match xattrs {
            Xattrs::CopyFrom(from, from_path) => {
                drop_inherited_acl(&tmp, &f)?;
                copy_xattrs(from, from_path, &f, &tmp)?;
            }
            Xattrs::Private => drop_inherited_acl(&tmp, &f)?,
            Xattrs::Inherit => {}
        }
        // The mode last: with an ACL it also sets the mask, which must be the original's.
        f.set_permissions(fs::Permissions::from_mode(attrs.mode))
            .map_err(|e| io_err("setting the mode of", &tmp, e))?;
        f.sync_all().map_err(|e| io_err("fsync of", &tmp, e))?;
        drop(f);
        failpoint::hit(&format!("{point}-before-rename"));
        failpoint::io(&format!("{point}-before-rename"))
            .map_err(|e| io_err("renaming over", &target, e))?;
        dir.rename(&tmp_name, name)
            .map_err(|e| io_err("renaming over", &target, e))?;
        dir.sync()
            .map_err(|e| io_err("fsync of directory", dir.path(), e))
    })();
    if result.is_err() {
        let _ = dir.unlink(&tmp_name);
    }
    result
}

fn write_journal(dir: &Path, journal: &Journal) -> Result<PathBuf, String> {
    fs::create_dir_all(dir).map_err(|e| io_err("creating", dir, e))?;
    let path = dir.join(format!("journal-{}.json", journal.id));
    let text = serde_json::to_string_pretty(journal).expect("journal serializes");
    write_atomic(
        &path,
        text.as_bytes(),
        FileAttrs {
            mode: 0o600,
            uid: 0,
            gid: 0,
        }
        .with_owner_of_process(),
        "journal",
        Xattrs::Private,
    )?;
    Ok(path)
}

impl FileAttrs {
    /// The same mode, owned by the user running bulkhead (journals belong to whoever applies).
    pub(crate) fn with_owner_of_process(self) -> FileAttrs {
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        FileAttrs { uid, gid, ..self }
    }
}

/// The SHA-256 of the regular file at `real`, `None` when it does not exist; anything else there
/// (a FIFO, a device, a directory, a link, a huge file) is an error naming it, never read.
fn current_hash(real: &Path) -> Result<Option<String>, String> {
    Ok(read_file(real)?.map(|b| sha256_hex(&b)))
}

/// [`files::read_regular`], naming the file by where it is.
fn read_file(real: &Path) -> Result<Option<Vec<u8>>, String> {
    files::read_regular(real, &real.display().to_string())
}

/// The formats whose syntax `apply` re-checks before writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    Json,
    Yaml,
}

/// The syntax of the file at `path`: by its name (`.json`, `.yaml`/`.yml`), else JSON when its
/// current content is a JSON document (a manifest written as JSON under another name).
fn syntax_of(path: &str, before: Option<&str>) -> Option<Syntax> {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".json") {
        Some(Syntax::Json)
    } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        Some(Syntax::Yaml)
    } else {
        before
            .filter(|b| b.trim_start().starts_with(['{', '[']))
            .filter(|b| serde_json::from_str::<serde_json::Value>(b).is_ok())
            .map(|_| Syntax::Json)
    }
}

fn parse_error(syntax: Syntax, text: &str) -> Option<String> {
    match syntax {
        // An empty daemon.json is what dockerd reads as no settings.
        Syntax::Json if text.trim().is_empty() => None,
        Syntax::Json => serde_json::from_str::<serde_json::Value>(text)
            .err()
            .map(|e| e.to_string()),
        Syntax::Yaml => bulkhead_sources::yaml::parse(text)
            .err()
            .map(|e| e.to_string()),
    }
}

/// A safety net under every editor: the content an edit writes must still parse as the file's
/// own format (JSON as JSON, YAML as YAML) when the content it replaces did.
fn check_syntax(path: &str, before: Option<&str>, after: &str) -> Result<(), String> {
    let Some(syntax) = syntax_of(path, before) else {
        return Ok(());
    };
    if before.is_some_and(|b| parse_error(syntax, b).is_some()) {
        return Ok(());
    }
    match parse_error(syntax, after) {
        None => Ok(()),
        Some(e) => Err(format!(
            "the fixed content of {path} is no longer valid {} ({e}); this is a bug in the fix, please report it",
            match syntax {
                Syntax::Json => "JSON",
                Syntax::Yaml => "YAML",
            }
        )),
    }
}

fn current_attrs(real: &Path) -> Result<FileAttrs, String> {
    fs::metadata(real)
        .map(|m| attrs_of(&m))
        .map_err(|e| io_err("stat of", real, e))
}

/// `chattr` flags (`FS_IMMUTABLE_FL`, `FS_APPEND_FL` of linux/fs.h).
const FS_IMMUTABLE_FL: libc::c_int = 0x10;
const FS_APPEND_FL: libc::c_int = 0x20;

/// Whether `path` (a regular file or a directory) carries `chattr +i` or `+a`, which make a
/// rename over it, an unlink of it or a chmod of it fail even for root.
fn chattr_flag(path: &Path) -> Option<&'static str> {
    use std::os::unix::io::AsRawFd;
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.is_file() && !meta.is_dir() {
        return None;
    }
    let f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(path)
        .ok()?;
    let mut flags: libc::c_int = 0;
    // SAFETY: FS_IOC_GETFLAGS writes one int to the address given, which is ours.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), libc::FS_IOC_GETFLAGS, &mut flags) };
    if r != 0 {
        // A file system without these flags (ENOTTY) has nothing to refuse.
        return None;
    }
    if flags & FS_IMMUTABLE_FL != 0 {
        Some("immutable (chattr +i)")
    } else if flags & FS_APPEND_FL != 0 {
        Some("append-only (chattr +a)")
    } else {
        None
    }
}

/// statvfs(3) of `path`.
fn statvfs(path: &Path) -> Option<libc::statvfs> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: a NUL-terminated path and a zeroed struct the call fills.
    unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        (libc::statvfs(c.as_ptr(), &mut st) == 0).then_some(st)
    }
}

/// The mount points of this process's mount namespace (`/proc/self/mountinfo`, octal escapes
/// decoded); empty when it cannot be read.
fn mount_points() -> Vec<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let Ok(text) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|field| {
            let b = field.as_bytes();
            let mut out = Vec::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                let octal = b
                    .get(i + 1..i + 4)
                    .filter(|d| d.iter().all(u8::is_ascii_digit));
                match (b[i], octal) {
                    (b'\\', Some(d)) => {
                        out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                        i += 4;
                    }
                    (c, _) => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            PathBuf::from(std::ffi::OsString::from_vec(out))
        })
        .collect()
}

/// Host path `path` as it is on this machine: under `root` (`/etc/x` under `/tmp/r` is
/// `/tmp/r/etc/x`), unchanged when the root is `/`. What reports print for every file written,
/// backed up, removed or restored, so that nobody reads a change under --root as one of the
/// real host's.
pub fn on_disk(root: &Path, path: &str) -> String {
    if root == Path::new("/") || !path.starts_with('/') {
        return path.to_string();
    }
    root.join(path.trim_start_matches('/'))
        .display()
        .to_string()
}

/// Host path `path` in a message, with where it is on this machine when that differs (under
/// --root, or a link's target).
fn named(path: &str, real: &Path) -> String {
    if real == Path::new(path) {
        path.to_string()
    } else {
        format!("{path} ({})", real.display())
    }
}

/// What an apply (or a rollback) is about to write, checked before the first change: each file
/// can be replaced by a rename (or given its new mode), and each file system has room for the
/// backups, the new contents and the journal. What these checks catch would otherwise stop the
/// run part-way, with some files changed (a full disk, `chattr +i`, a read-only mount); they
/// cannot promise the writes succeed, but a run they let through fails part-way only on what
/// changed after them.
struct Preflight {
    /// The root the files are under (their directories are opened inside it).
    root: PathBuf,
    /// Loaded on first use.
    mounts: Option<Vec<PathBuf>>,
    /// Per file system (device of the directory): a directory on it, bytes and inodes needed,
    /// and the host paths they are for.
    needs: Vec<(u64, PathBuf, u64, u64, Vec<String>)>,
    /// Every directory a write lands in, with its (device, inode) as checked and the host path
    /// it was checked for: [`Preflight::open_checked`] opens them again and refuses any other.
    dirs: Vec<(PathBuf, DirId, String)>,
}

/// The directories of [`Preflight::open_checked`], each the one the preflight checked.
struct Opened(Vec<(PathBuf, Dir)>);

impl Opened {
    fn find(&self, dir: &Path) -> Option<&Dir> {
        self.0.iter().find(|(p, _)| p == dir).map(|(_, d)| d)
    }

    fn get(&self, dir: &Path) -> Result<&Dir, String> {
        self.find(dir)
            .ok_or_else(|| format!("{}: not a directory checked before writing", dir.display()))
    }
}

impl Preflight {
    fn new(root: &Path) -> Preflight {
        Preflight {
            root: root.to_path_buf(),
            mounts: None,
            needs: Vec::new(),
            dirs: Vec::new(),
        }
    }

    /// Record the identity of `dir` (for host path `path`), opened inside the root as the write
    /// will open it; it must be the directory the path-based checks see, else a link on its way
    /// leads out of the root (or it changed while being checked).
    fn check_dir(&mut self, path: &str, dir: &Path) -> Result<(), String> {
        if self.dirs.iter().any(|(d, _, _)| d == dir) {
            return Ok(());
        }
        let changed = |why: String| {
            format!(
                "{path}: the directory {} {why}; something on its path changed since it was resolved (a directory replaced by a symbolic link?): plan again",
                dir.display()
            )
        };
        let id = Dir::open_in_root(&self.root, dir)
            .and_then(|d| d.id())
            .map_err(|e| {
                changed(format!(
                    "cannot be opened inside {} ({e})",
                    self.root.display()
                ))
            })?;
        let by_path = fs::metadata(dir).map(|m| (m.dev(), m.ino())).ok();
        if by_path != Some(id) {
            return Err(changed(format!(
                "does not lead to the same directory by its path as inside {}",
                self.root.display()
            )));
        }
        self.dirs.push((dir.to_path_buf(), id, path.to_string()));
        Ok(())
    }

    /// Open every directory checked, once, inside the root (openat2, `RESOLVE_IN_ROOT`), and
    /// refuse, naming the path, one that is no longer the directory checked (its device and
    /// inode differ: a directory on its path was replaced, by a symbolic link or another
    /// directory, after the preflight). Every write then goes through these descriptors.
    fn open_checked(&self) -> Result<Opened, String> {
        let mut out = Vec::new();
        for (dir, id, path) in &self.dirs {
            let replaced = |why: String| {
                format!(
                    "{path}: the directory {} is no longer the one checked before writing ({why}); something on its path was replaced since, by a symbolic link or another directory. Nothing was written there: check it, and plan again",
                    dir.display()
                )
            };
            let d = Dir::open_in_root(&self.root, dir).map_err(|e| {
                replaced(format!(
                    "it cannot be opened inside {}: {e}",
                    self.root.display()
                ))
            })?;
            let now = d.id().map_err(|e| replaced(format!("stat: {e}")))?;
            if now != *id {
                return Err(replaced(format!(
                    "device and inode {}:{} instead of {}:{}",
                    now.0, now.1, id.0, id.1
                )));
            }
            out.push((dir.clone(), d));
        }
        Ok(Opened(out))
    }

    /// `real` (host path `path`) exists and gets replaced by a rename, after a backup of
    /// `backup_len` bytes (0: none) is written beside it; the new content has `new_len` bytes.
    fn replace(
        &mut self,
        path: &str,
        real: &Path,
        backup_name: Option<&str>,
        backup_len: u64,
        new_len: u64,
    ) -> Result<(), String> {
        let (at, it) = (real.display(), named(path, real));
        let meta = fs::symlink_metadata(real).map_err(|e| io_err("stat of", real, e))?;
        if meta.file_type().is_symlink() {
            return Err(format!(
                "{it} is now a symbolic link; it was a file when its path was resolved, so something replaced it since: plan again"
            ));
        }
        if !meta.is_file() {
            return Err(format!(
                "{it} is {}, not a regular file; bulkhead only edits regular files",
                files::kind_name(&meta.file_type())
            ));
        }
        if meta.nlink() > 1 {
            // A rename gives the path a new inode: the file's other names would keep the old
            // content without anyone noticing (and rollback would split them again).
            return Err(format!(
                "{it} has {} hard links; replacing it would leave its other names with the old content. bulkhead does not edit a hard-linked file: find the other names (find / -samefile {at}), make them copies or symbolic links, and plan again",
                meta.nlink()
            ));
        }
        if let Some(flag) = chattr_flag(real) {
            return Err(format!(
                "{it} is {flag}: it cannot be replaced; remove the flag (chattr -i -a {at}) if the change is wanted, and apply again"
            ));
        }
        self.not_a_mount_point(path, real, &meta)?;
        let dir = real
            .parent()
            .ok_or_else(|| format!("{path}: {at} has no parent directory"))?;
        self.writable_dir(path, dir, true)?;
        let name = real.file_name().map(|n| n.len()).unwrap_or(0);
        let longest =
            backup_name.map(str::len).unwrap_or(name) + ".bulkhead-tmp-4294967295".len() + 1;
        if longest > 255 {
            return Err(format!(
                "{it}: its name is too long for the temporary file and backup written beside it"
            ));
        }
        let files = 1 + u64::from(backup_name.is_some());
        self.need(path, dir, &[backup_len, new_len], files)
    }

    /// `real` (host path `path`) does not exist and is created with `new_len` bytes, with the
    /// directories `created_dirs` (outermost first) made for it.
    fn create(
        &mut self,
        path: &str,
        real: &Path,
        created_dirs: &[PathBuf],
        new_len: u64,
    ) -> Result<(), String> {
        let dir = match created_dirs.first() {
            Some(outer) => outer.parent(),
            None => real.parent(),
        }
        .ok_or_else(|| format!("{path}: {} has no parent directory", real.display()))?;
        self.writable_dir(path, dir, false)?;
        let blocks: Vec<u64> = created_dirs.iter().map(|_| 0).chain([new_len]).collect();
        self.need(path, dir, &blocks, blocks.len() as u64)
    }

    /// `real` (host path `path`), a file the apply created, is removed.
    fn remove(&mut self, path: &str, real: &Path) -> Result<(), String> {
        let (at, it) = (real.display(), named(path, real));
        if let Some(flag) = chattr_flag(real) {
            return Err(format!(
                "{it} is {flag}: it cannot be removed; remove the flag (chattr -i -a {at}) and roll back again"
            ));
        }
        let dir = real
            .parent()
            .ok_or_else(|| format!("{path}: {at} has no parent directory"))?;
        self.writable_dir(path, dir, true)
    }

    /// `real` (host path `path`) is given a new mode and owner in place.
    fn chmod(&mut self, path: &str, real: &Path) -> Result<(), String> {
        let (at, it) = (real.display(), named(path, real));
        if let Some(flag) = chattr_flag(real) {
            return Err(format!(
                "{it} is {flag}: its mode and owner cannot change; remove the flag (chattr -i -a {at}) if the change is wanted, and apply again"
            ));
        }
        if statvfs(real).is_some_and(|st| st.f_flag & libc::ST_RDONLY != 0) {
            return Err(format!(
                "{it} is on a read-only file system: its mode and owner cannot change"
            ));
        }
        let dir = real
            .parent()
            .ok_or_else(|| format!("{path}: {at} has no parent directory"))?;
        self.check_dir(path, dir)
    }

    /// A file mounted over (a bind-mounted file, a Kubernetes subPath) cannot be renamed over.
    fn not_a_mount_point(
        &mut self,
        path: &str,
        real: &Path,
        meta: &fs::Metadata,
    ) -> Result<(), String> {
        let parent_dev = real
            .parent()
            .and_then(|d| fs::metadata(d).ok())
            .map(|m| m.dev());
        let abs = std::path::absolute(real).unwrap_or_else(|_| real.to_path_buf());
        let mounted = parent_dev.is_some_and(|d| d != meta.dev())
            || self.mounts.get_or_insert_with(mount_points).contains(&abs);
        if mounted {
            return Err(format!(
                "{} is a mount point (a file mounted over another): it cannot be replaced by a rename; edit the file it is mounted from",
                named(path, real)
            ));
        }
        Ok(())
    }

    /// A new entry can be created in `dir` (and, with `replacing`, an existing one replaced).
    fn writable_dir(&mut self, path: &str, dir: &Path, replacing: bool) -> Result<(), String> {
        use std::os::unix::ffi::OsStrExt;
        self.check_dir(path, dir)?;
        let at = dir.display();
        if statvfs(dir).is_some_and(|st| st.f_flag & libc::ST_RDONLY != 0) {
            return Err(format!(
                "{path}: the directory {at} is on a read-only file system (a read-only mount); nothing can be written there"
            ));
        }
        match chattr_flag(dir) {
            Some(flag) if replacing || flag.starts_with("immutable") => {
                return Err(format!(
                    "{path}: the directory {at} is {flag}, so a file in it cannot be {}; remove the flag (chattr -i -a {at}) and apply again",
                    if replacing { "replaced" } else { "created" }
                ))
            }
            _ => {}
        }
        let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
            .map_err(|_| format!("{path}: {at}: a path with a NUL byte"))?;
        // SAFETY: a NUL-terminated path; access touches no memory of ours.
        if unsafe { libc::access(c.as_ptr(), libc::W_OK | libc::X_OK) } != 0 {
            return Err(format!(
                "{path}: cannot write in the directory {at}: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(())
    }

    /// Files of `sizes` bytes (and `inodes` new inodes) are written in `dir` for `path`.
    // statvfs's fields are narrower than u64 on 32-bit targets: the casts are not idle there.
    #[allow(clippy::unnecessary_cast)]
    fn need(&mut self, path: &str, dir: &Path, sizes: &[u64], inodes: u64) -> Result<(), String> {
        let st = statvfs(dir).ok_or_else(|| {
            format!(
                "{path}: statvfs of {}: {}",
                dir.display(),
                std::io::Error::last_os_error()
            )
        })?;
        let dev = fs::metadata(dir)
            .map_err(|e| io_err("stat of", dir, e))?
            .dev();
        // Whole blocks, plus one for each file's metadata: a rough bound, on the safe side.
        let block = (st.f_frsize as u64).max(512);
        let bytes: u64 = sizes
            .iter()
            .map(|s| s.div_ceil(block) * block + block)
            .sum();
        match self.needs.iter_mut().find(|n| n.0 == dev) {
            Some(n) => {
                n.2 += bytes;
                n.3 += inodes;
                n.4.push(path.to_string());
            }
            None => self.needs.push((
                dev,
                dir.to_path_buf(),
                bytes,
                inodes,
                vec![path.to_string()],
            )),
        }
        Ok(())
    }

    /// Every file system has room for what is written on it.
    #[allow(clippy::unnecessary_cast)]
    fn check_space(&self) -> Result<(), String> {
        // SAFETY: geteuid cannot fail and touches no memory.
        let root = unsafe { libc::geteuid() } == 0;
        for (_, dir, bytes, inodes, paths) in &self.needs {
            let Some(st) = statvfs(dir) else { continue };
            // Root may use the blocks and inodes a file system reserves for it.
            let (blocks, files) = match root {
                true => (st.f_bfree as u64, st.f_ffree as u64),
                false => (st.f_bavail as u64, st.f_favail as u64),
            };
            let free = blocks.saturating_mul(st.f_frsize as u64);
            let what = match paths.len() {
                n if n <= 4 => paths.join(", "),
                n => format!("{} and {} other files", paths[..3].join(", "), n - 3),
            };
            if free < *bytes {
                return Err(format!(
                    "not enough free space on the file system of {} for {what}: the backups, new contents and journal need about {bytes} bytes and {free} are free; free some space and apply again",
                    dir.display()
                ));
            }
            // A file system that does not count inodes reports none in total.
            if st.f_files != 0 && files < *inodes {
                return Err(format!(
                    "no free inodes on the file system of {} for {what}: {inodes} new files are needed and {files} can be created",
                    dir.display()
                ));
            }
        }
        Ok(())
    }
}

/// Create the directory `d` for a new file in its open parent `parent` (`mkdirat`) with mode
/// 0755 whatever the umask: 0777 minus the umask could be writable by everyone (umask 000) or
/// unreadable by the users and services that read the file in it (umask 077 on
/// /etc/profile.d). It is made 0700 first, so it is never writable by others even for an
/// instant, then opened with `O_NOFOLLOW` (a link planted in its place is refused).
fn create_dir_0755_at(parent: &Dir, d: &Path) -> Result<Dir, String> {
    let name = d
        .file_name()
        .ok_or_else(|| format!("{}: not a directory name", d.display()))?;
    match parent.mkdir(name, 0o700) {
        Ok(()) => {
            let sub = parent.subdir(name).map_err(|e| io_err("opening", d, e))?;
            sub.chmod(0o755)
                .map_err(|e| io_err("setting the mode of", d, e))?;
            Ok(sub)
        }
        // Created meanwhile by someone else: theirs, as it is.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            parent.subdir(name).map_err(|e| io_err("opening", d, e))
        }
        Err(e) => Err(io_err("creating", d, e)),
    }
}

/// The lock file under the state directory that makes apply and rollback exclusive.
pub const LOCK_FILE: &str = "harden.lock";

/// How long apply or rollback waits for another one to finish before giving up.
pub const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// An exclusive `flock` on `<state dir>/harden.lock`, held by one apply or rollback at a time
/// (a rollback during an apply would otherwise mark the journal rolled back while the apply goes
/// on writing outside any journal). The kernel drops it with the process, so a killed run never
/// leaves it held: its in-progress journal says it was interrupted.
#[derive(Debug)]
pub struct HardenLock {
    _file: fs::File,
}

/// Take the lock, waiting up to `wait` for another holder to finish. The state directory is
/// created (0700) when missing, and refused when anyone but root and the user running bulkhead
/// could have put files in it (see [`prepare_state_dir`]).
pub fn lock(state_dir: &Path, wait: std::time::Duration) -> Result<HardenLock, ApplyError> {
    use std::io::{Read, Seek};
    use std::os::unix::io::AsRawFd;
    prepare_state_dir(state_dir).map_err(ApplyError::Refused)?;
    let path = state_dir.join(LOCK_FILE);
    // O_NOFOLLOW: a link planted as the lock would have the truncation below empty its target.
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) => ApplyError::Refused(format!(
                "{} is a symbolic link, not the lock file bulkhead makes; someone planted it: remove it",
                path.display()
            )),
            _ => ApplyError::Refused(io_err("opening", &path, e)),
        })?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(ApplyError::Refused(format!(
            "{}: the lock is not a regular file",
            path.display()
        )));
    }
    let deadline = std::time::Instant::now() + wait;
    loop {
        // SAFETY: flock on a descriptor this function owns; no memory is touched.
        let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(ApplyError::Refused(io_err("locking", &path, err)));
        }
        if std::time::Instant::now() >= deadline {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let pid = holder.trim();
            return Err(ApplyError::Refused(format!(
                "another harden --apply/--rollback is running ({}; lock {}); wait for it to finish",
                if pid.is_empty() {
                    "pid unknown".to_string()
                } else {
                    format!("pid {pid}")
                },
                path.display()
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = file.set_len(0);
    let _ = file.rewind();
    let _ = write!(file, "{}", std::process::id());
    let _ = file.sync_all();
    Ok(HardenLock { _file: file })
}

/// An exclusive `flock` on the root directory itself (`/`, or `--root`), held beside the state
/// directory's lock by every apply and rollback. Two runs given different `--state-dir`s keep
/// separate journals and so do not meet at the state directory's lock; without this one they
/// could change the same file at the same time, each backing up what the other half-wrote and
/// each later rolling back over the other.
#[derive(Debug)]
pub struct RootLock {
    _dir: fs::File,
}

/// Take the root's lock, waiting up to `wait` for another holder to finish; a refusal names the
/// holder's pid when the kernel's lock table (`/proc/locks`) shows it.
pub fn lock_root(root: &Path, wait: std::time::Duration) -> Result<RootLock, ApplyError> {
    use std::os::unix::io::AsRawFd;
    let dir = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOCTTY)
        .open(root)
        .map_err(|e| ApplyError::Refused(io_err("opening the root directory", root, e)))?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        // SAFETY: flock on a descriptor this function owns; no memory is touched.
        let r = unsafe { libc::flock(dir.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if r == 0 {
            return Ok(RootLock { _dir: dir });
        }
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(ApplyError::Refused(io_err("locking", root, err)));
        }
        if std::time::Instant::now() >= deadline {
            let holder = dir
                .metadata()
                .ok()
                .and_then(|m| flock_holder(&fs::read_to_string("/proc/locks").ok()?, &m));
            return Err(ApplyError::Refused(format!(
                "another harden --apply/--rollback is changing files under {} ({}, with another state directory); wait for it to finish",
                root.display(),
                holder.map_or_else(|| "pid unknown".to_string(), |pid| format!("pid {pid}"))
            )));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// The pid holding an exclusive `flock` on the file `m` describes, from the text of
/// `/proc/locks` (`1: FLOCK  ADVISORY  WRITE 4242 fd:01:1234 0 EOF`: the device's major and
/// minor numbers in hex, then the inode).
fn flock_holder(locks: &str, m: &fs::Metadata) -> Option<u32> {
    let dev = m.dev();
    let wanted = format!(
        "{:02x}:{:02x}:{}",
        libc::major(dev),
        libc::minor(dev),
        m.ino()
    );
    locks.lines().find_map(|line| {
        let f: Vec<&str> = line.split_whitespace().collect();
        // After the entry's number; a process waiting for the lock (`1: -> FLOCK ...`) is not
        // its holder.
        let f = f.get(1..).filter(|f| f.first() != Some(&"->"))?;
        (f.first() == Some(&"FLOCK")
            && f.get(2) == Some(&"WRITE")
            && f.get(4) == Some(&wanted.as_str()))
        .then(|| f.get(3)?.parse().ok())
        .flatten()
    })
}

/// Whether uid `uid` may own what the state directory trusts: root, or the user running bulkhead.
fn trusted_uid(uid: u32) -> bool {
    // SAFETY: geteuid cannot fail and touches no memory.
    uid == 0 || uid == unsafe { libc::geteuid() }
}

/// Every directory from `/` down to `path` (and `path` itself, lstat'ed) is owned by root or by
/// us, and no other user can replace an entry in it: not writable by others or by a group other
/// than root's, unless sticky (/tmp: others can add entries but not replace ours).
fn check_chain(path: &Path) -> Result<(), String> {
    let mut at = PathBuf::new();
    for c in path.components() {
        at.push(c);
        let m = fs::symlink_metadata(&at).map_err(|e| io_err("stat of", &at, e))?;
        if !trusted_uid(m.uid()) {
            return Err(format!("{} is owned by uid {}", at.display(), m.uid()));
        }
        let mode = m.mode();
        let sticky = mode & 0o1000 != 0;
        if m.is_dir() && !sticky && (mode & 0o002 != 0 || (mode & 0o020 != 0 && m.gid() != 0)) {
            return Err(format!(
                "{} is writable by {} (mode {:04o})",
                at.display(),
                if mode & 0o002 != 0 {
                    "every user".to_string()
                } else {
                    format!("group {}", m.gid())
                },
                mode & 0o7777
            ));
        }
    }
    Ok(())
}

/// Create the state directory when it is missing (0700; its missing parents 0755) and make sure
/// nobody but root and the user running bulkhead can have put anything in it. `--rollback` writes
/// whatever a journal there names with the content of the backup it names: a journal planted by
/// someone else (through a directory they own or can write, or a symbolic link they planted for
/// the directory) would make it write any file on the machine. Journals, the lock and the verify
/// baseline all live there.
pub fn prepare_state_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::path::absolute(dir).map_err(|e| io_err("resolving", dir, e))?;
    let untrusted = |why: String| {
        format!(
            "the state directory {} cannot be trusted: {why}. A journal someone else put there would make --rollback overwrite any file; use a directory only root (or you) can write (--state-dir)",
            dir.display()
        )
    };
    // Both the path as given (its links must be ours) and where it leads.
    let check = |p: &Path| -> Result<(), String> {
        check_chain(p)?;
        check_chain(&fs::canonicalize(p).map_err(|e| io_err("resolving", p, e))?)
    };
    let mut missing = Vec::new();
    let mut existing = dir.as_path();
    while fs::symlink_metadata(existing).is_err() {
        missing.push(existing.to_path_buf());
        existing = existing
            .parent()
            .ok_or_else(|| format!("{}: no existing parent directory", dir.display()))?;
    }
    // What exists is checked before anything is created in it: a planted directory must not
    // even get the state directory made inside it.
    check(existing).map_err(untrusted)?;
    for (i, p) in missing.iter().enumerate().rev() {
        let mode = if i == 0 { 0o700 } else { 0o755 };
        match fs::DirBuilder::new().mode(mode).create(p) {
            Ok(()) => {}
            Err(_) if p.is_dir() => {}
            Err(e) => return Err(io_err("creating the state directory", p, e)),
        }
    }
    check(&dir).map_err(untrusted)?;
    let m = fs::metadata(&dir).map_err(|e| io_err("stat of", &dir, e))?;
    if !m.is_dir() {
        return Err(untrusted(format!("{} is not a directory", dir.display())));
    }
    if m.mode() & 0o022 != 0 {
        return Err(untrusted(format!(
            "it is writable by other users (mode {:04o}); make it 0700",
            m.mode() & 0o7777
        )));
    }
    Ok(())
}

/// A journal must be a regular file only root or we could have written.
fn check_journal_file(p: &Path) -> Result<(), String> {
    let m = fs::symlink_metadata(p).map_err(|e| io_err("stat of", p, e))?;
    if !m.is_file() || !trusted_uid(m.uid()) || m.mode() & 0o022 != 0 {
        return Err(format!(
            "the journal {} cannot be trusted ({}, owned by uid {}, mode {:04o}): rollback would write what it names; remove it or restore by hand",
            p.display(),
            files::kind_name(&m.file_type()),
            m.uid(),
            m.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Which fixes `apply` would change, and why the others are left alone.
pub fn partition<'a>(plan: &'a Plan, opts: &ApplyOptions) -> (Vec<&'a Fix>, Vec<(String, String)>) {
    let mut chosen = Vec::new();
    let mut skipped = Vec::new();
    for f in &plan.fixes {
        if !f.is_file_fix() {
            skipped.push((
                f.id.clone(),
                "a command for a human to run after review; bulkhead never runs it".into(),
            ));
        } else if f.safety == Safety::Review && !opts.include_review {
            skipped.push((
                f.id.clone(),
                "needs review (see what it may break); apply it with --include-review".into(),
            ));
        } else {
            chosen.push(f);
        }
    }
    (chosen, skipped)
}

/// Keep only the fixes of `plan` that a reviewed plan (a `bulkhead.harden/1` document saved from
/// a dry run) holds, and refuse — changing nothing — when a file differs from what the reviewed
/// plan read or would write. This is how `--apply --plan FILE` applies exactly what was reviewed.
pub fn restrict_to_reviewed(plan: &Plan, reviewed: &serde_json::Value) -> Result<Plan, ApplyError> {
    if reviewed.get("schema").and_then(|s| s.as_str()) != Some(crate::model::HARDEN_SCHEMA) {
        return Err(ApplyError::Refused(format!(
            "the reviewed plan is not a {} document",
            crate::model::HARDEN_SCHEMA
        )));
    }
    let saved = reviewed
        .get("fixes")
        .and_then(|f| f.as_array())
        .cloned()
        .unwrap_or_default();
    let mut kept = Plan {
        numbering: plan.numbering.clone(),
        root: plan.root.clone(),
        fixes: Vec::new(),
        unfixed: plan.unfixed.clone(),
        scan: plan.scan.clone(),
    };
    // Every reviewed fix must still be planned: otherwise what was reviewed cannot be applied.
    for s in &saved {
        let id = s["id"].as_str().unwrap_or_default();
        if plan.fix(id).is_none() {
            let checks: Vec<&str> = s["checks"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
                .unwrap_or_default();
            let why = plan
                .unfixed
                .iter()
                .find(|u| checks.contains(&u.check.as_str()))
                .map(|u| format!(": {}", u.reason))
                .unwrap_or_default();
            return Err(ApplyError::Refused(format!(
                "{id} of the reviewed plan is no longer planned{why}; review a new plan"
            )));
        }
    }
    for fix in &plan.fixes {
        let Some(s) = saved
            .iter()
            .find(|s| s["id"].as_str() == Some(fix.id.as_str()))
        else {
            continue;
        };
        for e in &fix.action.edits {
            let se = s["edits"].as_array().and_then(|a| {
                a.iter()
                    .find(|x| x["path"].as_str() == Some(e.path.as_str()))
            });
            let Some(se) = se else {
                return Err(ApplyError::Refused(format!(
                    "{}: the reviewed plan does not edit {}",
                    fix.id, e.path
                )));
            };
            if se["before_sha256"].as_str() != e.before_sha256.as_deref() {
                return Err(ApplyError::Refused(format!(
                    "{} changed since the reviewed plan read it (its SHA-256 differs); review a new plan",
                    e.path
                )));
            }
            // A generated key differs on every plan (the file read is still the one reviewed,
            // checked above); every other edit must write what was shown.
            if !e.generated_secret && se["after_sha256"].as_str() != Some(e.after_sha256.as_str()) {
                return Err(ApplyError::Refused(format!(
                    "{}: the edit of {} is no longer the one reviewed; review a new plan",
                    fix.id, e.path
                )));
            }
        }
        for a in &fix.action.attrs {
            let same = s["attributes"].as_array().is_some_and(|list| {
                list.iter().any(|x| {
                    x["path"].as_str() == Some(a.path.as_str())
                        && x["before"]["mode"].as_str()
                            == Some(format!("{:04o}", a.before.mode).as_str())
                        && x["before"]["uid"].as_u64() == Some(a.before.uid as u64)
                        && x["before"]["gid"].as_u64() == Some(a.before.gid as u64)
                        && x["after"]["mode"].as_str()
                            == Some(format!("{:04o}", a.after.mode).as_str())
                })
            });
            if !same {
                return Err(ApplyError::Refused(format!(
                    "{} changed mode or owner since the reviewed plan; review a new plan",
                    a.path
                )));
            }
        }
        kept.fixes.push(fix.clone());
    }
    Ok(kept)
}

/// Apply the file fixes of `plan` (see the module documentation).
pub fn apply(plan: &Plan, opts: &ApplyOptions) -> Result<ApplyReport, ApplyError> {
    apply_with(plan, opts, || Ok(()))
}

/// [`apply`], calling `before_changes` under the lock once every check has passed and just
/// before the first change (the journal): only when something is applied. A failing
/// `before_changes` refuses the apply, nothing changed (the CLI records the verify baseline
/// there).
pub fn apply_with(
    plan: &Plan,
    opts: &ApplyOptions,
    before_changes: impl FnOnce() -> Result<(), String>,
) -> Result<ApplyReport, ApplyError> {
    // A failure part-way already lists what was changed and names the undo command.
    apply_inner(plan, opts, before_changes)
}

/// A rollback failing part-way names the command that finishes it.
fn undo_hint(e: ApplyError, opts: &ApplyOptions) -> ApplyError {
    match e {
        ApplyError::Failed(m) => ApplyError::Failed(format!(
            "{m} (the journal records what was done; `{}` undoes it)",
            opts.rollback_command()
        )),
        refused => refused,
    }
}

fn apply_inner(
    plan: &Plan,
    opts: &ApplyOptions,
    before_changes: impl FnOnce() -> Result<(), String>,
) -> Result<ApplyReport, ApplyError> {
    let (chosen, skipped) = partition(plan, opts);
    let mut report = ApplyReport {
        skipped,
        ..Default::default()
    };
    if chosen.is_empty() {
        return Ok(report);
    }
    let state_dir = opts.state_dir();
    let _lock = lock(&state_dir, LOCK_WAIT)?;
    let _root_lock = lock_root(&opts.root, LOCK_WAIT)?;
    let id = stamp();
    // 0. An interrupted run must be undone first: its journal is the only record of what it did.
    if let Some((path, j)) = latest_journal(&state_dir).map_err(ApplyError::Refused)? {
        if j.state == JournalState::InProgress {
            return Err(ApplyError::Refused(format!(
                "a previous apply was interrupted ({}); run `{}` first",
                path.display(),
                opts.rollback_command()
            )));
        }
    }
    // 1. Check everything before changing anything. Several fixes may edit one file only as a
    // chain, each building on the content the previous one writes (the scan fixes of one
    // artifact: safe ones first, then those that need review); the file is written once.
    let mut chains: Vec<(PathBuf, Vec<(&Fix, &crate::model::FileEdit)>)> = Vec::new();
    for f in &chosen {
        for e in &f.action.edits {
            let real = match &e.real_path {
                Some(p) => p.clone(),
                None => files::resolve(&opts.root, &e.path).map_err(ApplyError::Refused)?,
            };
            match chains.iter_mut().find(|(r, _)| *r == real) {
                Some((_, chain)) => {
                    let (prev_fix, prev) = chain.last().expect("chains are never empty");
                    if e.before_sha256.as_deref() != Some(prev.after_sha256.as_str()) {
                        return Err(ApplyError::Refused(format!(
                            "{} is edited by {} and {}, and the second was not planned on the first's result; apply them one at a time",
                            e.path, prev_fix.id, f.id
                        )));
                    }
                    chain.push((f, e));
                }
                None => chains.push((real, vec![(f, e)])),
            }
        }
    }
    let mut entries = Vec::new();
    // The content each edit entry writes: the last of its chain.
    let mut writes: Vec<&crate::model::FileEdit> = Vec::new();
    let mut preflight = Preflight::new(&opts.root);
    for (real, chain) in &chains {
        let (_, e) = chain[0];
        let last = chain.last().expect("chains are never empty").1;
        let real = real.clone();
        let now = current_hash(&real).map_err(ApplyError::Refused)?;
        if now != e.before_sha256 {
            return Err(ApplyError::Refused(match (&now, &e.before_sha256) {
                (None, Some(_)) => {
                    format!("{} was deleted after the plan read it; plan again", e.path)
                }
                (Some(_), None) => {
                    format!("{} was created after the plan was made; plan again", e.path)
                }
                _ => format!(
                    "{} changed after the plan read it (its SHA-256 differs); plan again",
                    e.path
                ),
            }));
        }
        let current = match (&now, e.before.as_ref()) {
            (Some(_), None) => read_file(&real)
                .ok()
                .flatten()
                .and_then(|b| String::from_utf8(b).ok()),
            (_, b) => b.cloned(),
        };
        check_syntax(&e.path, current.as_deref(), &last.after).map_err(ApplyError::Refused)?;
        let mut created_dirs = Vec::new();
        if e.creates() {
            let mut d = real.parent().map(Path::to_path_buf);
            while let Some(dir) = d {
                if dir.exists() || !dir.starts_with(&opts.root) {
                    break;
                }
                created_dirs.push(dir.clone());
                d = dir.parent().map(Path::to_path_buf);
            }
            created_dirs.reverse();
        }
        let backup = (!e.creates()).then(|| {
            let name = real
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            real.with_file_name(format!("{name}.bulkhead-{id}.bak"))
        });
        let new_len = last.after.len() as u64;
        match &backup {
            Some(b) => {
                let old_len = fs::metadata(&real).map(|m| m.len()).unwrap_or(0);
                let backup_name = b.file_name().map(|n| n.to_string_lossy().into_owned());
                preflight.replace(&e.path, &real, backup_name.as_deref(), old_len, new_len)
            }
            None => {
                // A link that points at nothing is not followed to create its target (see
                // files.rs); one planted since the plan is refused here too.
                let dangling = match e.real_path {
                    None => files::dangling_link(&opts.root, &e.path).map_err(ApplyError::Refused)?,
                    Some(_) => None,
                };
                if let Some((link, target)) = dangling {
                    return Err(ApplyError::Refused(format!(
                        "{}: the symbolic link {link} points to {}, which does not exist; bulkhead does not create files through a dangling link",
                        e.path,
                        target.display()
                    )));
                }
                preflight.create(&e.path, &real, &created_dirs, new_len)
            }
        }
        .map_err(ApplyError::Refused)?;
        let before_attrs = match backup {
            Some(_) => Some(current_attrs(&real).map_err(ApplyError::Refused)?),
            None => None,
        };
        entries.push(Entry::Edit {
            fix: chain
                .iter()
                .map(|(f, _)| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            path: e.path.clone(),
            before_attrs,
            // An edit keeps the file's mode and owner; a new file gets those of its fix.
            after_attrs: before_attrs.or(Some(e.create_attrs.unwrap_or(crate::fixers::ROOT_FILE))),
            real_path: real,
            backup,
            before_sha256: e.before_sha256.clone(),
            after_sha256: last.after_sha256.clone(),
            created_dirs,
            restart: chain.iter().find_map(|(f, _)| f.restart.clone()),
        });
        writes.push(last);
    }
    for f in &chosen {
        for a in &f.action.attrs {
            let real = files::resolve(&opts.root, &a.path).map_err(ApplyError::Refused)?;
            let now = current_attrs(&real).map_err(ApplyError::Refused)?;
            if now != a.before {
                return Err(ApplyError::Refused(format!(
                    "{} changed after the audit (mode {:04o} owner {}:{}, the plan saw {:04o} {}:{}); audit and plan again",
                    a.path, now.mode, now.uid, now.gid, a.before.mode, a.before.uid, a.before.gid
                )));
            }
            preflight
                .chmod(&a.path, &real)
                .map_err(ApplyError::Refused)?;
            entries.push(Entry::Attrs {
                fix: f.id.clone(),
                path: a.path.clone(),
                real_path: real,
                before: a.before,
                after: a.after,
            });
        }
    }
    let mut journal = Journal {
        schema: JOURNAL_SCHEMA.into(),
        id: id.clone(),
        state: JournalState::InProgress,
        root: opts.root.clone(),
        entries,
    };
    // The journal is written twice (in progress, then applied), the second time beside the
    // first until its rename.
    let journal_len = serde_json::to_string_pretty(&journal).map_or(0, |t| t.len() as u64);
    preflight
        .need(
            "the journal",
            &state_dir,
            &[journal_len, journal_len + 16],
            2,
        )
        .and_then(|()| preflight.check_space())
        .map_err(ApplyError::Refused)?;
    // Every directory written in is opened now, once, inside the root, and must be the one
    // checked: a directory on its path swapped for a symbolic link since is refused here,
    // nothing changed; one swapped later changes nothing, every write going through these.
    failpoint::hit("after-preflight");
    let dirs = preflight.open_checked().map_err(ApplyError::Refused)?;
    before_changes().map_err(ApplyError::Refused)?;
    // 2. The journal, before the first change.
    let journal_path = write_journal(&state_dir, &journal).map_err(ApplyError::Refused)?;
    report.journal = Some(journal_path.clone());
    // 3. Back up and write, file by file.
    let written = write_entries(&journal.entries, &writes, &dirs, &mut report);
    // 4. Done: the journal says so.
    let done = written.and_then(|()| {
        journal.state = JournalState::Applied;
        write_journal(&state_dir, &journal).map(|_| ())
    });
    if let Err(cause) = done {
        // Not undone here: what stopped the apply (a full disk, a read-only or failing file
        // system) would most likely stop the restore part-way too, leaving a state no journal
        // describes. The journal stays in progress, so the next apply refuses until the user
        // has rolled back, and the message says exactly what is changed now.
        return Err(ApplyError::Failed(stopped_part_way(
            &cause,
            &journal.entries,
            &journal_path,
            opts,
        )));
    }
    // Each file as it is named on this machine: under --root, the path a user reading the
    // report must look at is the one under it, never the host path (which would read as the
    // real /etc having changed).
    for f in &chosen {
        let mut paths: Vec<String> = f
            .action
            .edits
            .iter()
            .map(|e| match &e.real_path {
                Some(r) => r.display().to_string(),
                None => on_disk(&opts.root, &e.path),
            })
            .collect();
        paths.extend(f.action.attrs.iter().map(|a| on_disk(&opts.root, &a.path)));
        report.applied.push((f.id.clone(), paths));
    }
    Ok(report)
}

/// The directory of `entry` that the preflight checked and [`Preflight::open_checked`] opened:
/// the file's own, or, for a file created in new directories, the existing one they go in.
fn checked_dir_of(entry: &Entry) -> Option<&Path> {
    match entry {
        Entry::Edit {
            real_path,
            created_dirs,
            ..
        } => match created_dirs.first() {
            Some(outer) => outer.parent(),
            None => real_path.parent(),
        },
        Entry::Attrs { real_path, .. } => real_path.parent(),
    }
}

/// The regular file `name` in `dir` (never through a link), opened, and its bytes.
fn read_at(dir: &Dir, name: &OsStr) -> Result<Option<(fs::File, Vec<u8>)>, String> {
    dir.read_regular(name, files::MAX_FILE_SIZE)
        .map_err(|e| format!("cannot read {}: {e}", dir.path().join(name).display()))
}

/// Step 3 of [`apply`]: back up and write each journal entry in turn (`writes[i]` is the content
/// of the i-th entry when it is an edit), each in its directory of `dirs`. Stops at the first
/// error.
fn write_entries(
    entries: &[Entry],
    writes: &[&crate::model::FileEdit],
    dirs: &Opened,
    report: &mut ApplyReport,
) -> Result<(), String> {
    for (i, entry) in entries.iter().enumerate() {
        let checked = checked_dir_of(entry)
            .ok_or_else(|| "a file without a directory".to_string())
            .and_then(|d| dirs.get(d))?;
        match entry {
            Entry::Edit {
                path,
                real_path,
                backup,
                before_sha256,
                created_dirs,
                before_attrs,
                ..
            } => {
                let edit = writes[i];
                let (_, name) = split(real_path)?;
                let mut made: Option<Dir> = None;
                if backup.is_none() {
                    for d in created_dirs {
                        made = Some(create_dir_0755_at(made.as_ref().unwrap_or(checked), d)?);
                    }
                }
                let dir = made.as_ref().unwrap_or(checked);
                let (attrs, current) = match backup {
                    Some(b) => {
                        let (backup_dir, backup_name) = split(b)?;
                        if Some(backup_dir) != real_path.parent() {
                            return Err(format!(
                                "{path}: its backup {} is not beside it",
                                b.display()
                            ));
                        }
                        let changed =
                            || format!("{path} changed while applying; stopped before touching it");
                        let (file, old) = read_at(dir, name)?.ok_or_else(changed)?;
                        let attrs = attrs_of(
                            &file
                                .metadata()
                                .map_err(|e| io_err("stat of", real_path, e))?,
                        );
                        // The journal says what rollback restores: the file must still be what
                        // it recorded, mode and owner included.
                        if Some(sha256_hex(&old)) != *before_sha256
                            || before_attrs.is_some_and(|a| a != attrs)
                        {
                            return Err(changed());
                        }
                        // The backup may hold what the fix removes (a secret in a 0666
                        // daemon.json): only its owner reads it, and only if the owner could
                        // read the file (a 0400 file gets a 0400 backup, a 0000 one 0000). The
                        // journal keeps the mode rollback restores.
                        let private = FileAttrs {
                            mode: attrs.mode & 0o600,
                            ..attrs
                        };
                        write_at(dir, backup_name, &old, private, "backup", Xattrs::Private)?;
                        // Named by where the file is (under --root, not the host path).
                        report
                            .backups
                            .push((real_path.display().to_string(), b.clone()));
                        failpoint::hit("after-backup");
                        (attrs, Some(file))
                    }
                    None => (edit.create_attrs.unwrap_or(crate::fixers::ROOT_FILE), None),
                };
                let xattrs = match &current {
                    Some(f) => Xattrs::CopyFrom(f, real_path),
                    None => Xattrs::Inherit,
                };
                write_at(dir, name, edit.after.as_bytes(), attrs, "edit", xattrs)?;
                failpoint::hit("after-rename");
            }
            Entry::Attrs {
                path,
                real_path,
                after,
                before,
                ..
            } => {
                let (_, name) = split(real_path)?;
                checked
                    .set_attrs_at(name, before, after)
                    .map_err(|e| format!("{path}: {e}"))?;
            }
        }
    }
    Ok(())
}

/// The error of an apply that failed after its journal was written: the cause, then every file
/// of the journal as it is on disk now (changed, with its backup; or not changed, with a backup
/// already written beside it), and the command that undoes it.
fn stopped_part_way(cause: &str, entries: &[Entry], journal: &Path, opts: &ApplyOptions) -> String {
    let mut changed = Vec::new();
    let mut unchanged = Vec::new();
    for entry in entries {
        match entry {
            Entry::Edit {
                path,
                real_path,
                backup,
                before_sha256,
                after_sha256,
                ..
            } => match current_hash(real_path) {
                Ok(now) if now.as_deref() == Some(after_sha256.as_str()) => {
                    changed.push(match backup {
                        Some(b) => format!("{path} (backup {})", b.display()),
                        None => format!("{path} (created by this apply)"),
                    })
                }
                Ok(now) if now == *before_sha256 => unchanged.push(match backup {
                    Some(b) if b.exists() => {
                        format!("{path} (its backup {} was already written)", b.display())
                    }
                    _ => path.clone(),
                }),
                Ok(_) => changed.push(format!(
                    "{path} (neither its old nor its new content: something else changed it meanwhile)"
                )),
                Err(e) => changed.push(format!("{path} (state unknown: {e})")),
            },
            Entry::Attrs {
                path,
                real_path,
                before,
                after,
                ..
            } => match current_attrs(real_path) {
                Ok(now) if now == *before => unchanged.push(path.clone()),
                Ok(now) if now == *after => changed.push(format!(
                    "{path} (mode {:04o} owner {}:{}, was {:04o} {}:{})",
                    after.mode, after.uid, after.gid, before.mode, before.uid, before.gid
                )),
                Ok(_) => changed.push(format!("{path} (mode or owner partly changed)")),
                Err(e) => changed.push(format!("{path} (state unknown: {e})")),
            },
        }
    }
    let mut m = format!("{cause}\nharden --apply stopped part-way and did not undo anything:\n");
    if changed.is_empty() {
        m.push_str("  no file was changed yet\n");
    }
    for c in &changed {
        m.push_str(&format!("  changed: {c}\n"));
    }
    for u in &unchanged {
        m.push_str(&format!("  not changed: {u}\n"));
    }
    m.push_str(&format!(
        "The journal {} records every change; run `{}` to restore the files as they were (the next --apply refuses until then).",
        journal.display(),
        opts.rollback_command()
    ));
    m
}

/// What `rollback` restored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackReport {
    pub journal: PathBuf,
    /// Files restored from their backups (each with where its backup was, now deleted) or given
    /// back their mode, and files removed (created by the fix). Each named where it is on this
    /// machine: under `--root` when that is not `/`.
    pub restored: Vec<String>,
    pub removed: Vec<String>,
    /// Files already in their original state (named the same way).
    pub unchanged: Vec<String>,
    /// The services that read a restored or removed file, once each: they still run with the
    /// rolled-back settings until they restart (or reload, when that suffices for them all).
    pub restarts: Vec<Restart>,
}

impl RollbackReport {
    fn needs(&mut self, restart: &Option<Restart>) {
        let Some(r) = restart else { return };
        match self.restarts.iter_mut().find(|x| x.service == r.service) {
            Some(x) => x.reload_suffices &= r.reload_suffices,
            None => self.restarts.push(r.clone()),
        }
    }
}

fn journals(state_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut v: Vec<PathBuf> = match fs::read_dir(state_dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .map(|n| n.starts_with("journal-") && n.ends_with(".json"))
                    .unwrap_or(false)
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err("listing", state_dir, e)),
    };
    v.sort();
    Ok(v)
}

/// The newest journal that has not been rolled back.
fn latest_journal(state_dir: &Path) -> Result<Option<(PathBuf, Journal)>, String> {
    for p in journals(state_dir)?.iter().rev() {
        check_journal_file(p)?;
        let text = fs::read_to_string(p).map_err(|e| io_err("reading", p, e))?;
        let j: Journal = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a journal: {e}", p.display()))?;
        if j.state != JournalState::RolledBack {
            return Ok(Some((p.clone(), j)));
        }
    }
    Ok(None)
}

/// Remove temporary files a killed run left beside `real` (`.NAME.bulkhead-tmp-PID`), its
/// directory opened by path (the state directory's files).
pub(crate) fn remove_stale_temporaries(real: &Path) {
    let Ok((dir, name)) = split(real) else {
        return;
    };
    if let Ok(dir) = Dir::open_path(dir) {
        remove_stale_temporaries_at(&dir, name);
    }
}

/// Remove the temporary files a killed run left beside `name` in the open directory `dir`.
fn remove_stale_temporaries_at(dir: &Dir, name: &OsStr) {
    let prefix = format!(".{}.bulkhead-tmp-", name.to_string_lossy());
    let backup_prefix = format!(".{}.bulkhead-", name.to_string_lossy());
    for n in dir.names().unwrap_or_default() {
        let s = n.to_string_lossy();
        // Also the temporaries of a backup being written (`.NAME.bulkhead-STAMP.bak...`).
        if s.starts_with(&prefix) || (s.starts_with(&backup_prefix) && s.contains(".bulkhead-tmp-"))
        {
            let _ = dir.unlink(&n);
        }
    }
}

/// Undo the latest apply that has not been rolled back: restore each backup atomically, remove
/// files the fixes created, give files back their mode and owner. Refuses (changing nothing) when
/// a file changed after it was applied.
/// Remove the backup `b` (in `dir`, beside the file) of a file that holds its original
/// content again, when the backup holds exactly that content (`before_sha256`): what the
/// rollback report says about it. None when there is no such backup (already removed, or not
/// the original content: then it is kept, untouched).
fn remove_backup(dir: &Dir, b: &Path, before_sha256: &Option<String>) -> Option<String> {
    let (_, name) = split(b).ok()?;
    let (_, bytes) = read_at(dir, name).ok()??;
    if Some(sha256_hex(&bytes)) != *before_sha256 {
        return None;
    }
    Some(match dir.unlink(name).and_then(|()| dir.sync()) {
        Ok(()) => format!("from its backup {}, now deleted", b.display()),
        Err(e) => format!(
            "from its backup {}, which could not be deleted ({e}): delete it, it holds the old content",
            b.display()
        ),
    })
}

pub fn rollback(opts: &ApplyOptions) -> Result<RollbackReport, ApplyError> {
    rollback_inner(opts).map_err(|e| undo_hint(e, opts))
}

fn rollback_inner(opts: &ApplyOptions) -> Result<RollbackReport, ApplyError> {
    let state_dir = opts.state_dir();
    let _lock = match state_dir.is_dir() {
        true => Some((
            lock(&state_dir, LOCK_WAIT)?,
            lock_root(&opts.root, LOCK_WAIT)?,
        )),
        false => None,
    };
    let latest = latest_journal(&state_dir).map_err(ApplyError::Refused)?;
    let Some((path, mut journal)) = latest else {
        return Err(ApplyError::Refused(format!(
            "nothing to roll back: no applied change is recorded in {}",
            state_dir.display()
        )));
    };
    let mut report = RollbackReport {
        journal: path.clone(),
        ..Default::default()
    };
    // Check every file first: rollback changes nothing unless it can undo everything, and never
    // overwrites a change someone made after the apply.
    let mut preflight = Preflight::new(&opts.root);
    for entry in &journal.entries {
        match entry {
            Entry::Edit {
                path,
                real_path,
                before_sha256,
                after_sha256,
                backup,
                after_attrs,
                ..
            } => {
                let by_hand = || {
                    backup
                        .as_ref()
                        .map(|b| format!("restore it by hand from {}", b.display()))
                        .unwrap_or_else(|| "the fix created it (no backup)".into())
                };
                if fs::symlink_metadata(real_path).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(ApplyError::Refused(format!(
                        "{path} ({}) was replaced by a symbolic link after harden applied it; rolling back would replace the link: {}",
                        real_path.display(),
                        by_hand()
                    )));
                }
                let now = current_hash(real_path).map_err(ApplyError::Refused)?;
                if now == *before_sha256 {
                    continue;
                }
                if now.as_deref() != Some(after_sha256.as_str()) {
                    return Err(ApplyError::Refused(format!(
                        "{path} changed after harden applied it; {}",
                        by_hand()
                    )));
                }
                // The content is what the apply wrote; its mode and owner must be too (those the
                // edit left, or those a file-mode fix of the same apply set after it).
                let cur = current_attrs(real_path).map_err(ApplyError::Refused)?;
                let mut left: Vec<FileAttrs> = after_attrs.iter().copied().collect();
                left.extend(journal.entries.iter().filter_map(|x| match x {
                    Entry::Attrs {
                        real_path: r,
                        after,
                        ..
                    } if r == real_path => Some(*after),
                    _ => None,
                }));
                if let Some(l) = left.first().filter(|_| !left.contains(&cur)) {
                    return Err(ApplyError::Refused(format!(
                        "{path} changed mode or owner after harden applied it (now {:04o} {}:{}, harden left {:04o} {}:{}); rolling back would undo that change: put them back first, or {}",
                        cur.mode,
                        cur.uid,
                        cur.gid,
                        l.mode,
                        l.uid,
                        l.gid,
                        by_hand()
                    )));
                }
                match backup {
                    Some(b) => {
                        let bytes =
                            read_file(b).map_err(ApplyError::Refused)?.ok_or_else(|| {
                                ApplyError::Refused(format!(
                                    "the backup {} of {path} is gone",
                                    b.display()
                                ))
                            })?;
                        if Some(sha256_hex(&bytes)) != *before_sha256 {
                            return Err(ApplyError::Refused(format!(
                                "the backup {} no longer holds the original content of {path}",
                                b.display()
                            )));
                        }
                        preflight.replace(path, real_path, None, 0, bytes.len() as u64)
                    }
                    None => preflight.remove(path, real_path),
                }
                .map_err(ApplyError::Refused)?;
            }
            Entry::Attrs {
                path,
                real_path,
                before,
                after,
                ..
            } => {
                let now = current_attrs(real_path).map_err(ApplyError::Refused)?;
                if now != *before && now != *after {
                    return Err(ApplyError::Refused(format!(
                        "{path} changed mode or owner after harden applied it; fix it by hand"
                    )));
                }
                if now != *before {
                    preflight
                        .chmod(path, real_path)
                        .map_err(ApplyError::Refused)?;
                }
            }
        }
    }
    let journal_len = fs::metadata(&path).map_or(0, |m| m.len());
    preflight
        .need("the journal", &state_dir, &[journal_len + 16], 1)
        .and_then(|()| preflight.check_space())
        .map_err(ApplyError::Refused)?;
    // As in apply: every directory written in is opened once, inside the root, and must be the
    // one checked; every write, removal and chmod below goes through it.
    failpoint::hit("rollback-after-preflight");
    let dirs = preflight.open_checked().map_err(ApplyError::Refused)?;
    let failed = ApplyError::Failed;
    for entry in journal.entries.iter().rev() {
        match entry {
            Entry::Edit {
                path,
                real_path,
                before_sha256,
                backup,
                created_dirs,
                before_attrs,
                restart,
                ..
            } => {
                let (parent, name) = split(real_path).map_err(failed)?;
                // A file already as it was was not checked for writing: its directory is only
                // opened (inside the root) to remove what a killed run left there.
                let checked = dirs.find(parent);
                let unchecked;
                let dir = match checked {
                    Some(d) => Some(d),
                    None => {
                        unchecked = Dir::open_in_root(&opts.root, parent).ok();
                        unchecked.as_ref()
                    }
                };
                let current = match dir {
                    Some(d) => read_at(d, name).map_err(failed)?,
                    None => None,
                };
                let now = current.as_ref().map(|(_, bytes)| sha256_hex(bytes));
                // Every path reported is where the file is on this machine (under --root).
                let shown = real_path.display().to_string();
                if now == *before_sha256 {
                    // Already as it was (an interrupted rollback run again): its backup, if it
                    // still holds that content, is of no more use, and may hold a secret.
                    let gone = match (dir, backup) {
                        (Some(d), Some(b)) => remove_backup(d, b, before_sha256),
                        _ => None,
                    };
                    report.unchanged.push(match gone {
                        Some(note) => format!("{shown} ({note})"),
                        None => shown,
                    });
                } else {
                    let dir = checked.ok_or_else(|| {
                        failed(format!(
                            "{path} changed while rolling back; stopped before touching it"
                        ))
                    })?;
                    match backup {
                        Some(b) => {
                            let (_, backup_name) = split(b).map_err(failed)?;
                            let (backup_file, bytes) =
                                read_at(dir, backup_name)
                                    .map_err(failed)?
                                    .ok_or_else(|| failed(format!("{}: gone", b.display())))?;
                            if Some(sha256_hex(&bytes)) != *before_sha256 {
                                return Err(failed(format!(
                                    "the backup {} no longer holds the original content of {path}",
                                    b.display()
                                )));
                            }
                            // The mode and owner the file had before the apply (the backup keeps
                            // only the owner's bits); journals written before they recorded it:
                            // the backup's.
                            let attrs = match before_attrs {
                                Some(a) => *a,
                                None => attrs_of(
                                    &backup_file
                                        .metadata()
                                        .map_err(|e| failed(io_err("stat of", b, e)))?,
                                ),
                            };
                            let (file, _) = current.as_ref().ok_or_else(|| {
                                failed(format!("{path} was removed while rolling back"))
                            })?;
                            write_at(
                                dir,
                                name,
                                &bytes,
                                attrs,
                                "restore",
                                Xattrs::CopyFrom(file, real_path),
                            )
                            .map_err(failed)?;
                            // Restored (written, fsynced, renamed, the directory fsynced): the
                            // backup has done its job. It is removed rather than left beside
                            // the file, where it would hold the old content (a secret the fix
                            // removed, a password in a scanned compose file) for anyone to
                            // commit or read; the report says where it was.
                            let note = remove_backup(dir, b, before_sha256)
                                .unwrap_or_else(|| format!("from {}", b.display()));
                            report.restored.push(format!("{shown} ({note})"));
                            report.needs(restart);
                        }
                        None => {
                            dir.unlink(name)
                                .map_err(|e| failed(io_err("removing", real_path, e)))?;
                            dir.sync()
                                .map_err(|e| failed(io_err("fsync of directory", parent, e)))?;
                            report.removed.push(shown);
                            report.needs(restart);
                        }
                    }
                }
                if let Some(dir) = dir {
                    remove_stale_temporaries_at(dir, name);
                    if let Some((_, backup_name)) = backup.as_deref().and_then(|b| split(b).ok()) {
                        remove_stale_temporaries_at(dir, backup_name);
                    }
                }
                // Directories the fix created go too, when they are empty again (each removed
                // from its parent opened inside the root).
                for d in created_dirs.iter().rev() {
                    if let Ok((p, n)) = split(d) {
                        if let Ok(p) = Dir::open_in_root(&opts.root, p) {
                            let _ = p.rmdir(n);
                        }
                    }
                }
            }
            Entry::Attrs {
                path,
                real_path,
                before,
                after,
                ..
            } => {
                let now = current_attrs(real_path).map_err(ApplyError::Failed)?;
                let shown = real_path.display().to_string();
                if now == *before {
                    report.unchanged.push(shown);
                } else {
                    let (parent, name) = split(real_path).map_err(failed)?;
                    dirs.get(parent)
                        .and_then(|d| d.set_attrs_at(name, after, before))
                        .map_err(|e| failed(format!("{path}: {e}")))?;
                    report.restored.push(format!(
                        "{shown} (mode {:04o}, owner {}:{})",
                        before.mode, before.uid, before.gid
                    ));
                }
            }
        }
    }
    journal.state = JournalState::RolledBack;
    let text = serde_json::to_string_pretty(&journal).expect("journal serializes");
    let attrs = current_attrs(&path).map_err(ApplyError::Failed)?;
    write_atomic(
        &path,
        text.as_bytes(),
        attrs,
        "rollback-journal",
        Xattrs::Private,
    )
    .map_err(ApplyError::Failed)?;
    // A run killed while writing this journal left its temporary file beside it.
    remove_stale_temporaries(&path);
    Ok(report)
}
