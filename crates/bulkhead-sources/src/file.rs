//! Reading files whose path came from somewhere bulkhead does not control: a host audited under
//! `--root`, a repository being scanned, a compose file's `extends`.
//!
//! A plain `std::fs::read` trusts the path to name a small regular file. Under an audited root or
//! in a scanned pull request it may instead be a FIFO (the read blocks forever, and with it the
//! audit), a device such as `/dev/zero` (the read fills memory until the kernel kills bulkhead),
//! or simply a file of many gigabytes. Every configuration file bulkhead reads is small, so reads
//! here stop at a limit and say so, and [`read_regular`] refuses anything but a regular file
//! without ever blocking on it.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most bytes read from one configuration file: the parsers' own limit
/// ([`crate::Limits`]), far above any real daemon.json, unit file, manifest or rule file.
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// Read a file that must be a regular file of at most `max_bytes`. Opening does not block (a
/// FIFO is opened without waiting for a writer, then refused); anything but a regular file is an
/// error that names what it is. For host files and files a scanned file points to, where a
/// FIFO or a device is never what was meant.
pub fn read_regular(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    read_regular_with(path, max_bytes, 0)
}

/// [`read_regular`] that does not follow a symbolic link as the last component of `path`: for a
/// path whose links the caller resolved itself (harden, inside `--root`), so that a link planted
/// there since is refused, never followed.
pub fn read_regular_no_follow(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    read_regular_with(path, max_bytes, libc::O_NOFOLLOW)
}

fn read_regular_with(path: &Path, max_bytes: u64, flags: libc::c_int) -> io::Result<Vec<u8>> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | flags)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) if flags & libc::O_NOFOLLOW != 0 => not_regular("a symbolic link"),
            _ => e,
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(kind_name(&meta.file_type())));
    }
    read_open(file, Some(meta.len()), max_bytes)
}

fn not_regular(kind: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("is {kind}, not a regular file; only regular files are read"),
    )
}

/// [`read_regular`] as UTF-8 text (invalid UTF-8 is an `InvalidData` error, as
/// `std::fs::read_to_string` gives).
pub fn read_regular_text(path: &Path, max_bytes: u64) -> io::Result<String> {
    String::from_utf8(read_regular(path, max_bytes)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        )
    })
}

/// Read at most `max_bytes` from a path the user named, whatever it is: a regular file, or a
/// pipe such as `<(kubectl get ...)` or `/dev/stdin`, which the user asked to be read (and which
/// may block until its writer writes). A longer input is an error, not a truncated read.
pub fn read_limited(path: &Path, max_bytes: u64) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    let known_len = meta.is_file().then_some(meta.len());
    read_open(file, known_len, max_bytes)
}

fn read_open(file: File, known_len: Option<u64>, max_bytes: u64) -> io::Result<Vec<u8>> {
    let too_large = |size: String| io::Error::new(io::ErrorKind::InvalidData, size);
    // Whole mebibytes as such (16 MiB), other limits in bytes.
    let limit = match max_bytes % (1 << 20) {
        0 => format!("{} MiB", max_bytes >> 20),
        _ => format!("{max_bytes} bytes"),
    };
    if let Some(len) = known_len.filter(|&l| l > max_bytes) {
        return Err(too_large(format!(
            "is {len} bytes, more than the limit of {limit}; not read"
        )));
    }
    let mut bytes = Vec::with_capacity(known_len.unwrap_or(0) as usize);
    // One byte past the limit tells a file at the limit from one that grew (or a stream) beyond
    // it.
    file.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(format!(
            "holds more than the limit of {limit}; not read"
        )));
    }
    Ok(bytes)
}

/// What kind of file `t` is, in the words `ls -l` and `stat` users know, for messages that say
/// why a file was not read.
pub fn kind_name(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("bulkhead-file-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
    }

    #[test]
    fn a_regular_file_within_the_limit_is_read_whole() {
        let dir = scratch("regular");
        let p = dir.join("daemon.json");
        std::fs::write(&p, b"{\"icc\": false}\n").unwrap();
        assert_eq!(read_regular(&p, 1024).unwrap(), b"{\"icc\": false}\n");
        assert_eq!(read_regular_text(&p, 15).unwrap(), "{\"icc\": false}\n");
        assert_eq!(read_limited(&p, 15).unwrap(), b"{\"icc\": false}\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_file_over_the_limit_is_an_error_that_gives_both_sizes() {
        let dir = scratch("large");
        let p = dir.join("big.yaml");
        std::fs::write(&p, vec![b'a'; 2048]).unwrap();
        let e = read_regular(&p, 1024).unwrap_err();
        assert_eq!(
            e.to_string(),
            "is 2048 bytes, more than the limit of 1024 bytes; not read"
        );
        assert!(read_limited(&p, 1024).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_fifo_without_a_writer_is_refused_at_once_instead_of_blocking() {
        let dir = scratch("fifo");
        let p = dir.join("daemon.json");
        mkfifo(&p);
        let e = read_regular(&p, 1024).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(
            e.to_string(),
            "is a FIFO (named pipe), not a regular file; only regular files are read"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_device_that_never_ends_is_refused_or_stopped_at_the_limit() {
        let zero = Path::new("/dev/zero");
        assert_eq!(
            read_regular(zero, 1024).unwrap_err().to_string(),
            "is a character device, not a regular file; only regular files are read"
        );
        // Named by the user, it is read, up to the limit only.
        assert_eq!(
            read_limited(zero, 1024).unwrap_err().to_string(),
            "holds more than the limit of 1024 bytes; not read"
        );
    }

    #[test]
    fn a_link_is_followed_unless_told_not_to() {
        let dir = scratch("link");
        std::fs::write(dir.join("real.json"), b"{}").unwrap();
        std::os::unix::fs::symlink("real.json", dir.join("daemon.json")).unwrap();
        let link = dir.join("daemon.json");
        assert_eq!(read_regular(&link, 1024).unwrap(), b"{}");
        assert_eq!(
            read_regular_no_follow(&link, 1024).unwrap_err().to_string(),
            "is a symbolic link, not a regular file; only regular files are read"
        );
        assert_eq!(
            read_regular_no_follow(&dir.join("real.json"), 1024).unwrap(),
            b"{}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_limit_in_whole_mebibytes_is_given_as_such() {
        let dir = scratch("mib");
        let p = dir.join("big.yaml");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(MAX_CONFIG_BYTES + 1).unwrap();
        assert_eq!(
            read_regular(&p, MAX_CONFIG_BYTES).unwrap_err().to_string(),
            "is 16777217 bytes, more than the limit of 16 MiB; not read"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_directory_is_named_as_one() {
        let dir = scratch("dir");
        assert_eq!(
            read_regular(&dir, 1024).unwrap_err().to_string(),
            "is a directory, not a regular file; only regular files are read"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_pipe_the_user_named_is_read_until_its_writer_closes() {
        let dir = scratch("pipe");
        let p = dir.join("manifest.yaml");
        mkfifo(&p);
        let writer = {
            let p = p.clone();
            std::thread::spawn(move || std::fs::write(p, b"kind: Pod\n").unwrap())
        };
        assert_eq!(read_limited(&p, 1024).unwrap(), b"kind: Pod\n");
        writer.join().unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
