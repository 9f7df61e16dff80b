//! Applying a plan without ever losing a file, and undoing it.
//!
//! For each file a fix edits, in this order:
//! 1. before anything is written, every file is checked against the SHA-256 the plan recorded
//!    when it read it (and every mode/owner against what the plan saw): if one changed since,
//!    nothing is applied;
//! 2. a journal listing every change is written (and fsynced) under the state directory;
//! 3. the file is backed up beside itself (`NAME.bulkhead-STAMP.bak`, same mode and owner);
//! 4. the new content goes to a temporary file in the same directory, gets the original mode and
//!    owner, is fsynced, and is renamed over the original (then the directory is fsynced).
//!
//! A rename is atomic, so at every instant the file is either wholly old or wholly new; a process
//! killed at any point leaves no half-written file (the failpoint tests prove it). `rollback`
//! reads the latest journal and restores the backups the same way, refusing a file that changed
//! after it was applied.
//!
//! An apply that fails part-way (an I/O error) stops where it is and undoes nothing: its error
//! lists every file of the journal as it is now, changed (with the backup) or not, and the
//! `--rollback` command that restores them; the journal stays in progress until then.

use crate::failpoint;
use crate::files::{self, attrs_of, sha256_hex};
use crate::model::{FileAttrs, Fix, Plan, Restart, Safety};
use serde::{Deserialize, Serialize};
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
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
    /// `--state-dir` are named when they are not the defaults (quoted for a POSIX shell).
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
    /// Fix IDs applied, with the files each changed.
    pub applied: Vec<(String, Vec<String>)>,
    /// Fix IDs not applied, with why (review without --include-review, a command for a human).
    pub skipped: Vec<(String, String)>,
    /// Backups written: (host path, backup path on this machine).
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
        /// is 0600). Absent in journals of older versions.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before_attrs: Option<FileAttrs>,
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
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{:09}Z-{}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_nanos(),
        std::process::id()
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's method).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn io_err(what: &str, path: &Path, e: std::io::Error) -> String {
    format!("{what} {}: {e}", path.display())
}

fn fsync_dir(dir: &Path) -> Result<(), String> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_err("fsync of directory", dir, e))
}

/// Copy the extended attributes of `from` (SELinux labels, file capabilities, user.* tags) to
/// the open file `to`, best effort: the temporary file that replaces a file by rename would
/// otherwise drop them. An attribute the filesystem or our privileges refuse is skipped.
fn copy_xattrs(from: &Path, to: &fs::File) {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::AsRawFd;
    let Ok(src) = CString::new(from.as_os_str().as_bytes()) else {
        return;
    };
    // SAFETY: every buffer passed is owned here and its length is the one given.
    unsafe {
        let n = libc::llistxattr(src.as_ptr(), std::ptr::null_mut(), 0);
        if n <= 0 {
            return;
        }
        let mut names = vec![0u8; n as usize];
        let n = libc::llistxattr(src.as_ptr(), names.as_mut_ptr().cast(), names.len());
        if n <= 0 {
            return;
        }
        names.truncate(n as usize);
        for name in names.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let Ok(cname) = CString::new(name) else {
                continue;
            };
            let len = libc::lgetxattr(src.as_ptr(), cname.as_ptr(), std::ptr::null_mut(), 0);
            if len < 0 {
                continue;
            }
            let mut value = vec![0u8; len as usize];
            let len = libc::lgetxattr(
                src.as_ptr(),
                cname.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            );
            if len < 0 {
                continue;
            }
            let _ = libc::fsetxattr(
                to.as_raw_fd(),
                cname.as_ptr(),
                value.as_ptr().cast(),
                len as usize,
                0,
            );
        }
    }
}

/// Write `content` to `target` atomically: a temporary file in the same directory with `attrs`,
/// fsynced, renamed over `target`, then the directory fsynced. `point` prefixes the failpoints.
fn write_atomic(
    target: &Path,
    content: &[u8],
    attrs: FileAttrs,
    point: &str,
    xattrs_from: Option<&Path>,
) -> Result<(), String> {
    let dir = target
        .parent()
        .ok_or_else(|| format!("{}: no parent directory", target.display()))?;
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.bulkhead-tmp-{}", std::process::id()));
    // A temporary file left by a killed run of the same pid is ours to replace.
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| io_err("creating", &tmp, e))?;
        f.write_all(content)
            .map_err(|e| io_err("writing", &tmp, e))?;
        // Owner first: chown clears setuid/setgid bits, chmod then sets the final mode.
        std::os::unix::fs::fchown(&f, Some(attrs.uid), Some(attrs.gid))
            .map_err(|e| io_err("setting the owner of", &tmp, e))?;
        f.set_permissions(fs::Permissions::from_mode(attrs.mode))
            .map_err(|e| io_err("setting the mode of", &tmp, e))?;
        if let Some(from) = xattrs_from {
            copy_xattrs(from, &f);
        }
        f.sync_all().map_err(|e| io_err("fsync of", &tmp, e))?;
        drop(f);
        failpoint::hit(&format!("{point}-before-rename"));
        failpoint::io(&format!("{point}-before-rename"))
            .map_err(|e| io_err("renaming over", target, e))?;
        fs::rename(&tmp, target).map_err(|e| io_err("renaming over", target, e))?;
        fsync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
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
        None,
    )?;
    Ok(path)
}

impl FileAttrs {
    /// The same mode, owned by the user running bulkhead (journals belong to whoever applies).
    fn with_owner_of_process(self) -> FileAttrs {
        // SAFETY: getuid/getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
        FileAttrs { uid, gid, ..self }
    }
}

fn current_hash(real: &Path) -> Result<Option<String>, String> {
    match fs::read(real) {
        Ok(b) => Ok(Some(sha256_hex(&b))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err("reading", real, e)),
    }
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

/// Take the lock, waiting up to `wait` for another holder to finish.
pub fn lock(state_dir: &Path, wait: std::time::Duration) -> Result<HardenLock, ApplyError> {
    use std::io::{Read, Seek};
    use std::os::unix::io::AsRawFd;
    fs::create_dir_all(state_dir)
        .map_err(|e| ApplyError::Refused(io_err("creating", state_dir, e)))?;
    let path = state_dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| ApplyError::Refused(io_err("opening", &path, e)))?;
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
            (Some(_), None) => fs::read_to_string(&real).ok(),
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
        entries.push(Entry::Edit {
            fix: chain
                .iter()
                .map(|(f, _)| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            path: e.path.clone(),
            before_attrs: match backup {
                Some(_) => Some(current_attrs(&real).map_err(ApplyError::Refused)?),
                None => None,
            },
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
            entries.push(Entry::Attrs {
                fix: f.id.clone(),
                path: a.path.clone(),
                real_path: real,
                before: a.before,
                after: a.after,
            });
        }
    }
    before_changes().map_err(ApplyError::Refused)?;
    // 2. The journal, before the first change.
    let mut journal = Journal {
        schema: JOURNAL_SCHEMA.into(),
        id: id.clone(),
        state: JournalState::InProgress,
        root: opts.root.clone(),
        entries,
    };
    let journal_path = write_journal(&state_dir, &journal).map_err(ApplyError::Refused)?;
    report.journal = Some(journal_path.clone());
    // 3. Back up and write, file by file.
    let written = write_entries(&journal.entries, &writes, &mut report);
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
    for f in &chosen {
        let mut paths: Vec<String> = f.action.edits.iter().map(|e| e.path.clone()).collect();
        paths.extend(f.action.attrs.iter().map(|a| a.path.clone()));
        report.applied.push((f.id.clone(), paths));
    }
    Ok(report)
}

/// Step 3 of [`apply`]: back up and write each journal entry in turn (`writes[i]` is the content
/// of the i-th entry when it is an edit). Stops at the first error.
fn write_entries(
    entries: &[Entry],
    writes: &[&crate::model::FileEdit],
    report: &mut ApplyReport,
) -> Result<(), String> {
    for (i, entry) in entries.iter().enumerate() {
        match entry {
            Entry::Edit {
                path,
                real_path,
                backup,
                before_sha256,
                created_dirs,
                ..
            } => {
                let edit = writes[i];
                let attrs = match backup {
                    Some(b) => {
                        let old =
                            fs::read(real_path).map_err(|e| io_err("reading", real_path, e))?;
                        if Some(sha256_hex(&old)) != *before_sha256 {
                            return Err(format!(
                                "{path} changed while applying; stopped before touching it"
                            ));
                        }
                        let attrs = current_attrs(real_path)?;
                        // The backup may hold what the fix removes (a secret in a 0666
                        // daemon.json): only its owner reads it. The journal keeps the mode
                        // rollback restores.
                        let private = FileAttrs {
                            mode: 0o600,
                            ..attrs
                        };
                        write_atomic(b, &old, private, "backup", None)?;
                        report.backups.push((path.clone(), b.clone()));
                        failpoint::hit("after-backup");
                        attrs
                    }
                    None => {
                        for d in created_dirs {
                            fs::create_dir(d)
                                .or_else(|e| if d.is_dir() { Ok(()) } else { Err(e) })
                                .map_err(|e| io_err("creating", d, e))?;
                        }
                        edit.create_attrs.unwrap_or(crate::fixers::ROOT_FILE)
                    }
                };
                write_atomic(
                    real_path,
                    edit.after.as_bytes(),
                    attrs,
                    "edit",
                    backup.as_ref().map(|_| real_path.as_path()),
                )?;
                failpoint::hit("after-rename");
            }
            Entry::Attrs {
                path,
                real_path,
                after,
                before,
                ..
            } => {
                set_attrs(real_path, before, after).map_err(|e| format!("{path}: {e}"))?;
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

/// chown then chmod (chown clears setuid bits), only what differs.
fn set_attrs(real: &Path, from: &FileAttrs, to: &FileAttrs) -> Result<(), String> {
    if (from.uid, from.gid) != (to.uid, to.gid) {
        std::os::unix::fs::chown(real, Some(to.uid), Some(to.gid))
            .map_err(|e| format!("chown: {e}"))?;
    }
    fs::set_permissions(real, fs::Permissions::from_mode(to.mode))
        .map_err(|e| format!("chmod: {e}"))
}

/// What `rollback` restored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RollbackReport {
    pub journal: PathBuf,
    /// Host paths restored from backups, removed (created by the fix) or given back their mode.
    pub restored: Vec<String>,
    pub removed: Vec<String>,
    /// Host paths already in their original state.
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
        let text = fs::read_to_string(p).map_err(|e| io_err("reading", p, e))?;
        let j: Journal = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not a journal: {e}", p.display()))?;
        if j.state != JournalState::RolledBack {
            return Ok(Some((p.clone(), j)));
        }
    }
    Ok(None)
}

/// Remove temporary files a killed run left beside `real` (`.NAME.bulkhead-tmp-PID`).
fn remove_stale_temporaries(real: &Path) {
    let (Some(dir), Some(name)) = (real.parent(), real.file_name()) else {
        return;
    };
    let prefix = format!(".{}.bulkhead-tmp-", name.to_string_lossy());
    let backup_prefix = format!(".{}.bulkhead-", name.to_string_lossy());
    if let Ok(rd) = fs::read_dir(dir) {
        for e in rd.filter_map(|e| e.ok()) {
            let n = e.file_name().to_string_lossy().into_owned();
            // Also the temporaries of a backup being written (`.NAME.bulkhead-STAMP.bak...`).
            if n.starts_with(&prefix)
                || (n.starts_with(&backup_prefix) && n.contains(".bulkhead-tmp-"))
            {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}

/// Undo the latest apply that has not been rolled back: restore each backup atomically, remove
/// files the fixes created, give files back their mode and owner. Refuses (changing nothing) when
/// a file changed after it was applied.
pub fn rollback(opts: &ApplyOptions) -> Result<RollbackReport, ApplyError> {
    rollback_inner(opts).map_err(|e| undo_hint(e, opts))
}

fn rollback_inner(opts: &ApplyOptions) -> Result<RollbackReport, ApplyError> {
    let state_dir = opts.state_dir();
    let _lock = match state_dir.is_dir() {
        true => Some(lock(&state_dir, LOCK_WAIT)?),
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
    // Check every file first.
    for entry in &journal.entries {
        match entry {
            Entry::Edit {
                path,
                real_path,
                before_sha256,
                after_sha256,
                backup,
                ..
            } => {
                let now = current_hash(real_path).map_err(ApplyError::Refused)?;
                if now == *before_sha256 {
                    continue;
                }
                if now.as_deref() != Some(after_sha256.as_str()) {
                    return Err(ApplyError::Refused(format!(
                        "{path} changed after harden applied it; restore it by hand from {}",
                        backup
                            .as_ref()
                            .map(|b| b.display().to_string())
                            .unwrap_or_else(|| "(no backup: the fix created it)".into())
                    )));
                }
                if let Some(b) = backup {
                    let bytes = fs::read(b)
                        .map_err(|e| ApplyError::Refused(io_err("reading backup", b, e)))?;
                    if Some(sha256_hex(&bytes)) != *before_sha256 {
                        return Err(ApplyError::Refused(format!(
                            "the backup {} no longer holds the original content of {path}",
                            b.display()
                        )));
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
                let now = current_attrs(real_path).map_err(ApplyError::Refused)?;
                if now != *before && now != *after {
                    return Err(ApplyError::Refused(format!(
                        "{path} changed mode or owner after harden applied it; fix it by hand"
                    )));
                }
            }
        }
    }
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
                let now = current_hash(real_path).map_err(ApplyError::Failed)?;
                if now == *before_sha256 {
                    report.unchanged.push(path.clone());
                } else if let Some(b) = backup {
                    let bytes = fs::read(b)
                        .map_err(|e| ApplyError::Failed(io_err("reading backup", b, e)))?;
                    // The mode and owner the file had before the apply (the backup itself is
                    // 0600); journals written before they recorded it: the backup's.
                    let attrs = match before_attrs {
                        Some(a) => *a,
                        None => current_attrs(b).map_err(ApplyError::Failed)?,
                    };
                    write_atomic(real_path, &bytes, attrs, "restore", Some(real_path))
                        .map_err(ApplyError::Failed)?;
                    report.restored.push(path.clone());
                    report.needs(restart);
                } else {
                    fs::remove_file(real_path)
                        .map_err(|e| ApplyError::Failed(io_err("removing", real_path, e)))?;
                    if let Some(dir) = real_path.parent() {
                        fsync_dir(dir).map_err(ApplyError::Failed)?;
                    }
                    report.removed.push(path.clone());
                    report.needs(restart);
                }
                remove_stale_temporaries(real_path);
                if let Some(b) = backup {
                    remove_stale_temporaries(b);
                }
                // Directories the fix created go too, when they are empty again.
                for d in created_dirs.iter().rev() {
                    let _ = fs::remove_dir(d);
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
                if now == *before {
                    report.unchanged.push(path.clone());
                } else {
                    set_attrs(real_path, after, before)
                        .map_err(|e| ApplyError::Failed(format!("{path}: {e}")))?;
                    report.restored.push(path.clone());
                }
            }
        }
    }
    journal.state = JournalState::RolledBack;
    let text = serde_json::to_string_pretty(&journal).expect("journal serializes");
    let attrs = current_attrs(&path).map_err(ApplyError::Failed)?;
    write_atomic(&path, text.as_bytes(), attrs, "journal", None).map_err(ApplyError::Failed)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }
}
