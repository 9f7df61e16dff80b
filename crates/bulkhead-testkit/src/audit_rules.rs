//! Audit rules a test loads into the running kernel with `auditctl` (package auditd), all
//! carrying one key of the test's own, and deleted again when the guard is dropped, also when an
//! assertion fails. The kernel's rules are the machine's: the key keeps a test's rules apart
//! from any other's.

use std::process::Command;

/// Run auditctl with `args`; its standard output, or a panic with its message.
pub fn auditctl(args: &[&str]) -> String {
    let out = Command::new("auditctl")
        .args(args)
        .output()
        .expect("auditctl runs (package auditd)");
    assert!(
        out.status.success(),
        "auditctl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rules carrying `key`, deleted on drop.
pub struct KernelAuditRules {
    key: String,
}

impl KernelAuditRules {
    /// A key unique to this test process: `prefix` and the process id.
    pub fn new(prefix: &str) -> KernelAuditRules {
        KernelAuditRules {
            key: format!("{prefix}-{}", std::process::id()),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Load one rule: `auditctl ARGS -k KEY`.
    pub fn add(&self, args: &[&str]) {
        let mut all = args.to_vec();
        all.extend(["-k", &self.key]);
        auditctl(&all);
    }
}

impl Drop for KernelAuditRules {
    fn drop(&mut self) {
        let _ = Command::new("auditctl")
            .args(["-D", "-k", &self.key])
            .output();
    }
}
