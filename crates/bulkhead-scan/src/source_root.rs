//! Where the paths of a scan are anchored. Findings name files as the user named them, relative
//! to the directory the scan ran in; fingerprints and SARIF need one name per file whatever that
//! directory was: its path relative to the root of the source tree (the nearest directory above
//! holding `.git`, as code scanning reads SARIF against the repository's root), so that
//! `bulkhead scan` at the top, in a subdirectory, or given `"$PWD"` agree.

use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRoot {
    /// The directory relative paths are relative to (the scan's working directory).
    pub cwd: PathBuf,
    /// The root of the source tree: the nearest ancestor of `cwd` (itself included) holding
    /// `.git`, else `cwd`.
    pub top: PathBuf,
}

impl SourceRoot {
    /// For a scan running in `cwd`, which must be absolute.
    pub fn for_dir(cwd: &Path) -> SourceRoot {
        let top = cwd
            .ancestors()
            .find(|d| d.join(".git").symlink_metadata().is_ok())
            .unwrap_or(cwd);
        SourceRoot {
            cwd: cwd.to_path_buf(),
            top: top.to_path_buf(),
        }
    }

    /// For a scan running in this process's working directory; None when it cannot be read.
    pub fn of_current_dir() -> Option<SourceRoot> {
        std::env::current_dir()
            .ok()
            .filter(|d| d.is_absolute())
            .map(|d| SourceRoot::for_dir(&d))
    }

    /// `path` (as a finding names it) as an absolute path with `.` and `..` resolved by name;
    /// None when it is not valid UTF-8 after joining.
    pub fn absolute(&self, path: &str) -> Option<String> {
        let joined = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{}/{path}", self.cwd.to_str()?)
        };
        Some(normalize(&joined))
    }

    /// `path` relative to the source tree's root, when it lies inside it. Paths spelled under
    /// the root are compared by name; one that is not (`$PWD/x` while the working directory was
    /// read as its real path, a symlinked directory in between) is compared again with both
    /// sides resolved on the file system.
    pub fn relative(&self, path: &str) -> Option<String> {
        let full = self.absolute(path)?;
        let top = normalize(self.top.to_str()?);
        if let Some(r) = strip_dir(&full, &top) {
            return Some(r);
        }
        strip_dir(&resolve(&full)?, &resolve(&top)?)
    }
}

/// `path` below directory `dir` (both normalized absolute paths), when it is strictly inside.
fn strip_dir(path: &str, dir: &str) -> Option<String> {
    let prefix = if dir == "/" {
        dir.to_string()
    } else {
        format!("{dir}/")
    };
    path.strip_prefix(&prefix)
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

/// A normalized absolute path with symlinks resolved: its longest existing ancestor
/// canonicalized, the rest (which does not exist, so holds no link) kept as spelled. None when
/// no ancestor resolves or the result is not UTF-8.
fn resolve(path: &str) -> Option<String> {
    let path = Path::new(path);
    for base in path.ancestors() {
        if let Ok(real) = std::fs::canonicalize(base) {
            let rest = path.strip_prefix(base).ok()?;
            let joined = if rest.as_os_str().is_empty() {
                real
            } else {
                real.join(rest)
            };
            return Some(normalize(joined.to_str()?));
        }
    }
    None
}

/// An absolute path with `.` and `..` segments resolved without looking at the file system (`..`
/// at `/` stays at `/`).
fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(cwd: &str, top: &str) -> SourceRoot {
        SourceRoot {
            cwd: cwd.into(),
            top: top.into(),
        }
    }

    #[test]
    fn paths_are_named_from_the_top_of_the_tree() {
        let at_top = root("/work/repo", "/work/repo");
        let in_sub = root("/work/repo/deploy", "/work/repo");
        assert_eq!(
            at_top.relative("deploy/Dockerfile").unwrap(),
            "deploy/Dockerfile"
        );
        assert_eq!(in_sub.relative("Dockerfile").unwrap(), "deploy/Dockerfile");
        assert_eq!(
            in_sub.relative("./x/../Dockerfile").unwrap(),
            "deploy/Dockerfile"
        );
        assert_eq!(
            at_top.relative("/work/repo/deploy/Dockerfile").unwrap(),
            "deploy/Dockerfile"
        );
        assert_eq!(in_sub.relative("../compose.yaml").unwrap(), "compose.yaml");
        assert_eq!(in_sub.relative("../../other/Dockerfile"), None);
        assert_eq!(at_top.relative("/work/repository/Dockerfile"), None);
        assert_eq!(at_top.relative("/work/repo"), None);
        assert_eq!(
            in_sub.absolute("../../other/Dockerfile").unwrap(),
            "/work/other/Dockerfile"
        );
        assert_eq!(
            root("/", "/").relative("etc/docker/daemon.json").unwrap(),
            "etc/docker/daemon.json"
        );
    }

    #[test]
    fn the_top_is_the_nearest_directory_holding_git() {
        let dir = std::env::temp_dir().join(format!("bhs-source-root-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let repo = dir.join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("deploy/k8s")).unwrap();
        let found = SourceRoot::for_dir(&repo.join("deploy/k8s"));
        assert_eq!(found.top, repo);
        // A worktree or submodule has a `.git` file instead of a directory.
        std::fs::write(repo.join("deploy/.git"), "gitdir: ../.git/modules/deploy\n").unwrap();
        assert_eq!(
            SourceRoot::for_dir(&repo.join("deploy/k8s")).top,
            repo.join("deploy")
        );
        // Outside any repository the working directory is the top.
        let plain = dir.join("plain");
        std::fs::create_dir_all(&plain).unwrap();
        assert_eq!(SourceRoot::for_dir(&plain).top, plain);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_path_through_a_symlinked_directory_is_inside_the_tree() {
        // `/tmp/x/link -> real`: the working directory reads as `real/repo` while `$PWD` (what
        // the user types) spells `link/repo`.
        let dir = std::env::temp_dir().join(format!("bhs-source-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let real = dir.join("real/repo");
        std::fs::create_dir_all(real.join(".git")).unwrap();
        std::fs::create_dir_all(real.join("deploy")).unwrap();
        std::fs::write(real.join("deploy/Dockerfile"), "FROM alpine\n").unwrap();
        std::os::unix::fs::symlink(dir.join("real"), dir.join("link")).unwrap();
        let real = std::fs::canonicalize(&real).unwrap();
        let through = std::fs::canonicalize(&dir).unwrap().join("link/repo");
        let s = |p: &Path| p.to_str().unwrap().to_string();
        let root = SourceRoot::for_dir(&real);
        assert_eq!(root.top, real);
        for spelled in [
            "deploy/Dockerfile".to_string(),
            s(&real.join("deploy/Dockerfile")),
            s(&through.join("deploy/Dockerfile")),
            s(&through.join("deploy/../deploy/Dockerfile")),
        ] {
            assert_eq!(
                root.relative(&spelled).as_deref(),
                Some("deploy/Dockerfile"),
                "{spelled}"
            );
        }
        // A file that does not exist (yet) under the link still resolves through its parent.
        assert_eq!(
            root.relative(&s(&through.join("deploy/new/x.yaml")))
                .as_deref(),
            Some("deploy/new/x.yaml")
        );
        // The link's target outside the tree stays outside, and so does the root itself.
        assert_eq!(root.relative(&s(&through)), None);
        assert_eq!(root.relative(&s(&dir.join("link/other"))), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
