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

    /// `path` relative to the source tree's root, when it lies inside it.
    pub fn relative(&self, path: &str) -> Option<String> {
        let full = self.absolute(path)?;
        let top = normalize(self.top.to_str()?);
        let prefix = if top == "/" { top } else { format!("{top}/") };
        full.strip_prefix(&prefix)
            .filter(|r| !r.is_empty())
            .map(str::to_string)
    }
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
}
