//! The kernel's audit rules read over netlink agree with `auditctl -l` (the tool docker-bench
//! shells out to; bulkhead reads the same list without running anything). The test loads a few
//! rules with a key of its own into the running kernel, compares both listings, and deletes its
//! rules again, also when it fails.

use bulkhead_collect::audit::list_kernel_rules;
use bulkhead_facts::host::{parse_audit_rules, AuditRule};
use bulkhead_testkit::audit_rules::auditctl;
use bulkhead_testkit::{ci, find_program, scratch_dir, KernelAuditRules};

/// The comparable part of a rule: what a check reads. (Whether a `-w` watch covers a directory
/// tree is not in auditctl's text; the kernel's own record says so, asserted below.)
fn shape(r: &AuditRule) -> (Option<String>, String, Option<String>) {
    (r.path.clone(), r.perms.clone(), r.key.clone())
}

#[test]
fn netlink_listing_matches_auditctl() {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let missing = if !root {
        Some("loading audit rules needs root")
    } else if find_program("auditctl").is_none() {
        Some("no auditctl to compare with (install auditd)")
    } else {
        None
    };
    if let Some(reason) = missing {
        assert!(!ci(), "CI=true: {reason}");
        eprintln!("skipped: {reason}");
        return;
    }
    if let Err(e) = list_kernel_rules() {
        assert!(
            !ci(),
            "CI=true: the kernel's audit rules cannot be listed: {e}"
        );
        eprintln!("skipped: the kernel's audit rules cannot be listed: {e}");
        return;
    }
    let dir = scratch_dir("audit");
    let file = dir.join("watched");
    std::fs::write(&file, "x").unwrap();
    let rules = KernelAuditRules::new("bulkhead-test");
    let key = rules.key().to_string();
    let (file, dir_s) = (file.display().to_string(), dir.display().to_string());
    let exec_path = format!("{dir_s}/binary");
    rules.add(&["-w", &file, "-p", "wa"]);
    rules.add(&["-w", &dir_s, "-p", "rwxa"]);
    rules.add(&[
        "-a",
        "always,exit",
        "-F",
        &format!("path={exec_path}"),
        "-F",
        "perm=x",
    ]);
    rules.add(&[
        "-a",
        "always,exit",
        "-F",
        "arch=b64",
        "-S",
        "openat",
        "-F",
        &format!("dir={dir_s}"),
    ]);

    let ours: Vec<AuditRule> = list_kernel_rules()
        .expect("netlink listing")
        .into_iter()
        .filter(|r| r.key.as_deref() == Some(key.as_str()))
        .collect();
    let theirs: Vec<AuditRule> = parse_audit_rules(&auditctl(&["-l"]))
        .into_iter()
        .filter(|r| r.key.as_deref() == Some(key.as_str()))
        .collect();
    assert_eq!(ours.len(), 4, "{ours:#?}");
    assert_eq!(
        ours.iter().map(shape).collect::<Vec<_>>(),
        theirs.iter().map(shape).collect::<Vec<_>>(),
        "netlink and auditctl -l list the same rules"
    );
    // Watches are written exactly as auditctl -l writes them.
    for (o, t) in ours.iter().zip(&theirs).take(3) {
        assert_eq!(o.text, t.text);
    }
    assert!(ours[1].recursive, "-w on a directory watches the tree");
    assert!(ours[0].covers(&file));
    assert!(ours[3].covers(&format!("{dir_s}/sub/file")));
}
