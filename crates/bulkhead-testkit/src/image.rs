//! The local test image: a root file system holding a statically linked busybox, packed as a tar
//! and imported into the test daemon (`POST /images/create?fromSrc=-`, what `docker import` does).
//! No registry is reachable here, so every test image is made this way.

use std::path::{Path, PathBuf};

/// The image every test container runs.
pub const TEST_IMAGE: &str = "bulkhead-test/busybox:1";

/// busybox applets linked in `/bin` (containers run `sleep`, health checks run `true`/`false`).
pub const APPLETS: &[&str] = &[
    "sh", "sleep", "ps", "cat", "id", "true", "false", "wget", "nc", "ls", "echo", "env",
];

/// Accounts in the image, so that `--user root` and named users resolve.
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP: &str = "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n";

/// Where a statically linked busybox is looked for (Debian's busybox-static installs both).
const BUSYBOX_CANDIDATES: &[&str] = &["/usr/bin/busybox", "/bin/busybox"];

/// Find a statically linked busybox on this machine.
pub fn find_static_busybox() -> Result<PathBuf, String> {
    let mut seen = Vec::new();
    for c in BUSYBOX_CANDIDATES {
        let p = Path::new(c);
        if !p.exists() {
            continue;
        }
        match is_static_elf(p) {
            Ok(true) => return Ok(p.to_path_buf()),
            Ok(false) => seen.push(format!("{c} is dynamically linked")),
            Err(e) => seen.push(format!("{c}: {e}")),
        }
    }
    Err(format!(
        "no statically linked busybox found ({}); install it with `apt-get install -y busybox-static`",
        if seen.is_empty() {
            "none of /usr/bin/busybox, /bin/busybox exists".to_string()
        } else {
            seen.join("; ")
        }
    ))
}

/// True when the ELF file has no program interpreter (`PT_INTERP`): it runs without a loader,
/// as it must inside an image that holds nothing else.
fn is_static_elf(path: &Path) -> Result<bool, String> {
    let data = std::fs::read(path).map_err(|e| e.to_string())?;
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 {
        return Err("not a 64-bit ELF file".into());
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(data[o..o + 8].try_into().unwrap()) as usize;
    let (phoff, phentsize, phnum) = (u64_at(0x20), u16_at(0x36), u16_at(0x38));
    for i in 0..phnum {
        let off = phoff + i * phentsize;
        if off + 4 > data.len() {
            return Err("truncated program header table".into());
        }
        let p_type = u32::from_le_bytes(data[off..off + 4].try_into().unwrap());
        if p_type == 3 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// An extra file for an image: its path inside the image (without the leading slash), mode and
/// content. `busybox_copy` makes it a copy of the busybox binary (for a process that must run
/// under a given executable name, e.g. `usr/sbin/sshd`, started as `exec -a sleep /usr/sbin/sshd`).
#[derive(Debug, Clone)]
pub struct ExtraFile {
    pub path: String,
    pub mode: u32,
    pub content: Vec<u8>,
    pub busybox_copy: bool,
}

impl ExtraFile {
    pub fn new(path: &str, mode: u32, content: &[u8]) -> Self {
        ExtraFile {
            path: path.trim_start_matches('/').to_string(),
            mode,
            content: content.to_vec(),
            busybox_copy: false,
        }
    }

    /// A copy of busybox at `path`: a real executable whose name (`/proc/<pid>/comm`, `exe`) is
    /// that of `path`.
    pub fn busybox_copy(path: &str) -> Self {
        ExtraFile {
            path: path.trim_start_matches('/').to_string(),
            mode: 0o755,
            content: Vec::new(),
            busybox_copy: true,
        }
    }
}

/// The root file system as an uncompressed tar: `/bin/busybox` plus applet symlinks, `/etc/passwd`
/// and `/etc/group`, and the empty directories a container expects.
pub fn rootfs_tar(busybox: &Path) -> Result<Vec<u8>, String> {
    rootfs_tar_with(busybox, &[])
}

/// [`rootfs_tar`] plus extra files (their parent directories are created).
pub fn rootfs_tar_with(busybox: &Path, extra: &[ExtraFile]) -> Result<Vec<u8>, String> {
    let bin = std::fs::read(busybox).map_err(|e| format!("reading {}: {e}", busybox.display()))?;
    build_rootfs_tar(Some(&bin), extra)
}

/// A root file system holding only `files` (and the empty directories a container expects), for
/// an image of a program that needs no busybox, such as [`program_with_libraries`] gives.
/// A file marked [`ExtraFile::busybox_copy`] is refused: there is no busybox here to copy.
pub fn rootfs_tar_of(files: &[ExtraFile]) -> Result<Vec<u8>, String> {
    build_rootfs_tar(None, files)
}

/// The directories every test root file system has, with their modes.
const STANDARD_DIRS: &[(&str, u32)] = &[
    ("bin", 0o755),
    ("etc", 0o755),
    ("tmp", 0o1777),
    ("root", 0o700),
    ("home", 0o755),
    ("proc", 0o555),
    ("sys", 0o555),
    ("dev", 0o755),
    ("run", 0o755),
    ("var", 0o755),
];

fn build_rootfs_tar(busybox: Option<&[u8]>, extra: &[ExtraFile]) -> Result<Vec<u8>, String> {
    if busybox.is_none() {
        if let Some(f) = extra.iter().find(|f| f.busybox_copy) {
            return Err(format!(
                "{} is a busybox copy, but this root file system has no busybox",
                f.path
            ));
        }
    }
    let mut b = tar::Builder::new(Vec::new());
    let dir = |b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(mode);
        h.set_size(0);
        h.set_mtime(0);
        b.append_data(&mut h, path, std::io::empty())
    };
    let file = |b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        b.append_data(&mut h, path, data)
    };
    let result: std::io::Result<()> = (|| {
        for (d, mode) in STANDARD_DIRS {
            dir(&mut b, d, *mode)?;
        }
        if let Some(bin) = busybox {
            file(&mut b, "bin/busybox", 0o755, bin)?;
            for applet in APPLETS {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                h.set_mtime(0);
                b.append_link(&mut h, format!("bin/{applet}"), "busybox")?;
            }
            file(&mut b, "etc/passwd", 0o644, PASSWD.as_bytes())?;
            file(&mut b, "etc/group", 0o644, GROUP.as_bytes())?;
        }
        let mut made: Vec<String> = Vec::new();
        for f in extra {
            let parts: Vec<&str> = f.path.split('/').collect();
            for i in 1..parts.len() {
                let d = parts[..i].join("/");
                let standard = STANDARD_DIRS.iter().any(|(s, _)| *s == d);
                if !standard && !made.contains(&d) {
                    dir(&mut b, &d, 0o755)?;
                    made.push(d);
                }
            }
            let content = match busybox {
                Some(bin) if f.busybox_copy => bin,
                _ => &f.content[..],
            };
            file(&mut b, &f.path, f.mode, content)?;
        }
        b.finish()
    })();
    result.map_err(|e| format!("building the image tar: {e}"))?;
    b.into_inner()
        .map_err(|e| format!("building the image tar: {e}"))
}

/// A dynamically linked program of this machine as image files: the program at `path_in_image`
/// (mode 0755), and every shared library and the dynamic loader it needs, each at the path the
/// loader found it on this machine (so the loader finds it there in the image too, without a
/// cache). The libraries are those `ldd` lists (test setup only: ldd runs the loader on a program
/// the test built, never on anything read from an audited host). A library ldd cannot find is an
/// error naming it.
pub fn program_with_libraries(
    program: &Path,
    path_in_image: &str,
) -> Result<Vec<ExtraFile>, String> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("reading {}: {e}", p.display()));
    let mut files = vec![ExtraFile::new(path_in_image, 0o755, &read(program)?)];
    let out = std::process::Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|e| format!("running ldd {}: {e} (install libc-bin)", program.display()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    for lib in needed_libraries(&text)? {
        // Read through symbolic links (the loader path is usually one): the image holds the file.
        files.push(ExtraFile::new(&lib, 0o755, &read(Path::new(&lib))?));
    }
    Ok(files)
}

/// The absolute paths of the libraries and loader in `ldd` output. The vDSO (no path) is the
/// kernel's; "not found" is an error; a statically linked program needs nothing.
fn needed_libraries(ldd_output: &str) -> Result<Vec<String>, String> {
    let mut libs = Vec::new();
    for line in ldd_output.lines().map(str::trim) {
        if line.contains("statically linked") || line.contains("not a dynamic executable") {
            return Ok(vec![]);
        }
        let target = match line.split_once("=>") {
            Some((name, rest)) => {
                let rest = rest.trim();
                if rest.starts_with("not found") {
                    return Err(format!("ldd: {} not found", name.trim()));
                }
                rest
            }
            None => line,
        };
        let path = target.split_whitespace().next().unwrap_or("");
        if path.starts_with('/') && !libs.iter().any(|l| l == path) {
            libs.push(path.to_string());
        }
    }
    Ok(libs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output_gives_libraries_and_loader_without_the_vdso() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x7f01)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x7f02)\n\t/lib64/ld-linux-x86-64.so.2 (0x7f03)\n";
        assert_eq!(
            needed_libraries(out).unwrap(),
            [
                "/lib/x86_64-linux-gnu/libgcc_s.so.1",
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
        assert!(needed_libraries("\tlibfoo.so.1 => not found\n")
            .unwrap_err()
            .contains("libfoo.so.1"));
        assert!(needed_libraries("\tstatically linked\n")
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_root_without_busybox_holds_only_the_given_files() {
        let tar = rootfs_tar_of(&[ExtraFile::new("/usr/local/bin/tool", 0o755, b"x")]).unwrap();
        let mut names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        names.sort();
        assert!(
            names.contains(&"usr/local/bin/tool".to_string()),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.contains("busybox")), "{names:?}");
        assert!(rootfs_tar_of(&[ExtraFile::busybox_copy("/usr/sbin/sshd")]).is_err());
    }
}
