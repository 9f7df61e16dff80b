//! Test-only pause and failure points inside `apply` and `rollback`, to prove that a process
//! killed at any moment leaves every file whole, and that an apply failing part-way says exactly
//! what it already changed.
//!
//! Compiled only with the `failpoints` feature (the crate's own tests enable it; releases never
//! do). When `BULKHEAD_FAILPOINT` names the point being passed, the process writes the point's
//! name to the file `BULKHEAD_FAILPOINT_MARKER` (so the test knows where it stopped) and sleeps
//! until it is killed. [`fail_on_this_thread`] makes one pass of a point return an I/O error
//! instead; it is per thread, so tests running side by side in one process do not see it.
//! [`call_on_this_thread`] runs a closure when a point is passed (on that thread only): a test
//! changes the host there, between two steps of an apply (a directory swapped for a symbolic
//! link between the preflight and the write).

/// Pass the point `name`.
#[cfg(feature = "failpoints")]
pub fn hit(name: &str) {
    // Taken out while it runs, so that it may itself pass points.
    let call = CALL_AT.with(|c| c.borrow_mut().take());
    if let Some((point, mut f)) = call {
        if point == name {
            f();
        }
        CALL_AT.with(|c| {
            c.borrow_mut().get_or_insert((point, f));
        });
    }
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

#[cfg(feature = "failpoints")]
thread_local! {
    /// The point that fails on this thread, the pass (from 1) that fails, and the passes seen.
    static FAIL_AT: std::cell::RefCell<Option<(String, usize, usize)>> =
        const { std::cell::RefCell::new(None) };
}

#[cfg(feature = "failpoints")]
type Callback = Box<dyn FnMut()>;

#[cfg(feature = "failpoints")]
thread_local! {
    /// The point that runs a closure on this thread, and the closure.
    static CALL_AT: std::cell::RefCell<Option<(String, Callback)>> =
        const { std::cell::RefCell::new(None) };
}

/// Run `f` each time the calling thread passes the point `name` ([`hit`]); `None` clears it.
#[cfg(feature = "failpoints")]
pub fn call_on_this_thread(point: Option<(&str, Callback)>) {
    CALL_AT.with(|c| *c.borrow_mut() = point.map(|(name, f)| (name.to_string(), f)));
}

/// Make the `nth` pass (counting from 1) of the point `name` on the calling thread fail with an
/// I/O error, as a full disk or a failing device would; `None` clears it.
#[cfg(feature = "failpoints")]
pub fn fail_on_this_thread(point: Option<(&str, usize)>) {
    FAIL_AT.with(|f| *f.borrow_mut() = point.map(|(name, nth)| (name.to_string(), nth, 0)));
}

/// Pass the point `name` where an I/O operation could fail: the error set by
/// [`fail_on_this_thread`] when this is the pass it names.
#[cfg(feature = "failpoints")]
pub fn io(name: &str) -> std::io::Result<()> {
    FAIL_AT.with(|f| match f.borrow_mut().as_mut() {
        Some((point, nth, seen)) if point == name => {
            *seen += 1;
            if *seen == *nth {
                Err(std::io::Error::other(format!("failure injected at {name}")))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    })
}

#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn io(_name: &str) -> std::io::Result<()> {
    Ok(())
}
