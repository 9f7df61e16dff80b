//! Where output goes (stdout or `--output FILE`) and whether it is coloured.

use std::io::{IsTerminal, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Colour only a terminal, and never when `NO_COLOR` is set to a non-empty value (unless
    /// forced with `always`). no-color.org: an empty `NO_COLOR` is the same as unset.
    pub fn enabled(self, to_file: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                !to_file
                    && std::env::var_os("NO_COLOR").unwrap_or_default().is_empty()
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

/// Write `text` to `path` or to stdout. A regular file is replaced atomically (a temporary file
/// beside it, then rename); see [`write_file`].
pub fn emit(text: &str, path: Option<&Path>) -> Result<(), String> {
    // Every output quotes what bulkhead read (scanned lines, command lines, labels, paths):
    // characters that would act on a terminal are written as escapes, in every format, as a
    // report written to a file is as likely to be `cat` than one sent to stdout.
    let text = &*bulkhead_facts::visible::visible(text);
    match path {
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|_| out.flush())
                .or_else(|e| {
                    // A closed pipe (`bulkhead audit | head`) is not an error worth reporting.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        Ok(())
                    } else {
                        Err(format!("writing to stdout: {e}"))
                    }
                })
        }
        Some(p) => write_file(p, text),
    }
}

/// Refuse to write the output over one of the files the command reads: `-o` naming the
/// snapshot or cluster dump being evaluated would replace the evidence with the report made from
/// it. `inputs` pairs each file with the option that named it.
pub fn refuse_overwriting_inputs(
    output: Option<&Path>,
    inputs: &[(&str, &Path)],
) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let Some(out) = output else { return Ok(()) };
    // An output that does not exist yet cannot be an input; a device (`-o /dev/stdout`) is
    // written in place and replaces nothing.
    let Some(o) = std::fs::metadata(out).ok().filter(|m| m.is_file()) else {
        return Ok(());
    };
    for (option, input) in inputs {
        let same = std::fs::metadata(input).is_ok_and(|i| (i.dev(), i.ino()) == (o.dev(), o.ino()));
        if same {
            return Err(format!(
                "-o {} is the file given to {option} ({}), which this command reads; write the output to another file",
                out.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// Write a report file. A regular file (or one that does not exist yet) is replaced atomically,
/// keeping the old file's permission bits, so a reader never sees half a report; a symbolic link
/// is followed and its target replaced, leaving the link in place. Anything else that exists
/// (`/dev/null`, `/dev/stdout`, a FIFO) is written in place: renaming over it would replace a
/// device node with a regular file.
fn write_file(p: &Path, text: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let existing = std::fs::metadata(p).ok();
    if let Some(m) = &existing {
        if m.is_dir() {
            return Err(format!(
                "cannot write {}: it is a directory; name a file in it",
                p.display()
            ));
        }
        if !m.file_type().is_file() {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .open(p)
                .map_err(|e| format!("opening {}: {e}", p.display()))?;
            return f
                .write_all(text.as_bytes())
                .map_err(|e| format!("writing {}: {e}", p.display()));
        }
    }
    let target = match std::fs::symlink_metadata(p) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(p).map_err(|e| format!("resolving {}: {e}", p.display()))?
        }
        _ => p.to_path_buf(),
    };
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.bulkhead-tmp",
        target.file_name().and_then(|n| n.to_str()).unwrap_or("out")
    ));
    std::fs::write(&tmp, text).map_err(|e| {
        if !dir.is_dir() {
            format!(
                "cannot write {}: the directory {} does not exist",
                p.display(),
                dir.display()
            )
        } else {
            format!(
                "cannot write {} (through the temporary file {} beside it): {e}",
                p.display(),
                tmp.display()
            )
        }
    })?;
    if let Some(m) = &existing {
        let _ = std::fs::set_permissions(
            &tmp,
            std::fs::Permissions::from_mode(m.permissions().mode()),
        );
    }
    std::fs::rename(&tmp, &target).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("renaming {} to {}: {e}", tmp.display(), target.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, PermissionsExt};

    #[test]
    fn a_device_is_written_in_place_never_replaced() {
        // A private copy of /dev/null (same major/minor), so a regression damages only this node.
        let dir = std::env::temp_dir().join(format!("bulkhead-emit-dev-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let node = dir.join("null");
        let c_path = std::ffi::CString::new(node.to_str().unwrap()).unwrap();
        // SAFETY: mknod with a valid NUL-terminated path; the result is checked.
        let rc =
            unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true: mknod needs root: {err}"
            );
            eprintln!("skipped: cannot make a device node here ({err})");
            return;
        }
        write_file(&node, "report\n").unwrap();
        let m = std::fs::metadata(&node).unwrap();
        assert!(
            m.file_type().is_char_device(),
            "the device node must stay a character device"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A missing directory and a directory given as the file are named as such, not through
    /// the temporary file's name or a bare "Is a directory".
    #[test]
    fn errors_name_the_file_asked_for() {
        let dir = std::env::temp_dir().join(format!("bulkhead-emit-err-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("no-such-dir/report.txt");
        assert_eq!(
            write_file(&missing, "x").unwrap_err(),
            format!(
                "cannot write {}: the directory {} does not exist",
                missing.display(),
                dir.join("no-such-dir").display()
            )
        );
        assert_eq!(
            write_file(&dir, "x").unwrap_err(),
            format!(
                "cannot write {}: it is a directory; name a file in it",
                dir.display()
            )
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_keeps_pointing_at_the_replaced_file() {
        let dir = std::env::temp_dir().join(format!("bulkhead-emit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let real = dir.join("real.txt");
        std::fs::write(&real, "old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.join("link.txt");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_file(&link, "new").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(
            std::fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640,
            "mode kept"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
