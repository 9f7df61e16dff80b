//! Test-only pause points inside `apply` and `rollback`, to prove that a process killed at any
//! moment leaves every file whole.
//!
//! Compiled only with the `failpoints` feature (the crate's own tests enable it; releases never
//! do). When `BULKHEAD_FAILPOINT` names the point being passed, the process writes the point's
//! name to the file `BULKHEAD_FAILPOINT_MARKER` (so the test knows where it stopped) and sleeps
//! until it is killed.

/// Pass the point `name`.
#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    if std::env::var("BULKHEAD_FAILPOINT").ok().as_deref() != Some(name) {
        return;
    }
    if let Some(marker) = std::env::var_os("BULKHEAD_FAILPOINT_MARKER") {
        let _ = std::fs::write(marker, name);
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_name: &str) {}
