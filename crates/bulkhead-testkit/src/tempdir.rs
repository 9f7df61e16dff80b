//! A fresh temporary directory for one test, removed when the guard is dropped.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// `<tmp>/bulkhead-<tag>-<pid>-<n>`: unique within the test process (parallel tests may use the
/// same tag) and across processes; removed on drop. Dereferences to its path.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("bulkhead-{tag}-{}-{n}", std::process::id()));
        // Left over by an earlier process that had the same pid and was killed.
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("creating {}: {e}", p.display()));
        TempDir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    /// `join(name)` as a `&str` argument for a command line.
    pub fn arg(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("UTF-8 path").to_string()
    }
}

impl std::ops::Deref for TempDir {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_guard_has_its_own_directory_removed_on_drop() {
        let a = TempDir::new("same-tag");
        let b = TempDir::new("same-tag");
        assert_ne!(a.path(), b.path());
        assert!(a.is_dir() && b.is_dir());
        std::fs::write(a.join("f"), "x").unwrap();
        let kept = a.path().to_path_buf();
        drop(a);
        assert!(
            !kept.exists(),
            "{} removed with its contents",
            kept.display()
        );
        assert!(b.is_dir());
    }
}
