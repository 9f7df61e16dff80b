//! Exit codes (issue 2, point 9): 0 when no result reaches `--fail-on` (default `fail`; `never`
//! always 0), 1 when one does, 2 for usage and tool errors.
//!
//! PITFALL 20 (docker-bench-security): it exits 0 whatever it finds, so CI has to parse the
//! score. Every "1" below fails on that behaviour.

use crate::lab_or_skip;
use crate::support::{results_by_id, Lab, TempDir};

/// Exit code of a live audit of the lab.
fn code(lab: &Lab, args: &[&str]) -> i32 {
    let _gate = lab.read();
    lab.audit(args).code
}

/// The status of the single selected check, to show the test selects what it claims.
fn status_of(lab: &Lab, args: &[&str], id: &str) -> String {
    let _gate = lab.read();
    let mut all = vec!["--format", "json", "--fail-on", "never"];
    all.extend_from_slice(args);
    let doc = lab.audit(&all).json();
    results_by_id(&doc)[id]["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn fail_is_the_default_threshold() {
    let lab = lab_or_skip!();
    assert_eq!(status_of(lab, &["--only", "5.13"], "5.13"), "fail");
    assert_eq!(code(lab, &["--only", "5.13"]), 1);
    assert_eq!(code(lab, &["--only", "5.13", "--fail-on", "fail"]), 1);
    let hardened = ["--only", "5.13", "--include", "^hardened$"];
    assert_eq!(status_of(lab, &hardened, "5.13"), "pass");
    assert_eq!(code(lab, &hardened), 0);
    // The exit code does not depend on the format.
    for format in ["json", "docker-bench-json", "junit", "text"] {
        assert_eq!(
            code(lab, &["--only", "5.13", "--format", format]),
            1,
            "{format}"
        );
    }
    // The whole audit of the lab fails, and `never` is always 0.
    assert_eq!(code(lab, &[]), 1);
    assert_eq!(code(lab, &["--fail-on", "never"]), 0);
}

#[test]
fn warn_threshold_counts_warn_and_worse() {
    let lab = lab_or_skip!();
    let warn = ["--only", "5.4"];
    assert_eq!(status_of(lab, &warn, "5.4"), "warn");
    assert_eq!(code(lab, &warn), 0, "warn does not reach fail");
    assert_eq!(code(lab, &["--only", "5.4", "--fail-on", "warn"]), 1);
    assert_eq!(
        code(lab, &["--only", "5.13", "--fail-on", "warn"]),
        1,
        "fail reaches warn"
    );
    let info = ["--only", "6.1"];
    assert_eq!(status_of(lab, &info, "6.1"), "info");
    assert_eq!(code(lab, &["--only", "6.1", "--fail-on", "warn"]), 0);
}

#[test]
fn info_threshold_counts_info_and_manual() {
    let lab = lab_or_skip!();
    assert_eq!(code(lab, &["--only", "6.1", "--fail-on", "info"]), 1);
    assert_eq!(status_of(lab, &["--only", "4.2"], "4.2"), "manual");
    assert_eq!(code(lab, &["--only", "4.2", "--fail-on", "info"]), 1);
    assert_eq!(code(lab, &["--only", "4.2", "--fail-on", "warn"]), 0);
    // not_applicable never counts.
    assert_eq!(status_of(lab, &["--only", "7.1"], "7.1"), "not_applicable");
    assert_eq!(code(lab, &["--only", "7.1", "--fail-on", "info"]), 0);
}

#[test]
fn error_threshold_counts_only_checks_that_could_not_be_evaluated() {
    let lab = lab_or_skip!();
    // An empty proc directory: dockerd's command line cannot be read, so 2.3 (log level)
    // cannot be evaluated.
    let proc = TempDir::new("empty-proc");
    let p = proc.path().to_str().unwrap();
    let args = ["--proc", p, "--only", "2.3"];
    assert_eq!(status_of(lab, &args, "2.3"), "error");
    let with = |fail_on: &str| {
        let mut a = args.to_vec();
        a.extend_from_slice(&["--fail-on", fail_on]);
        code(lab, &a)
    };
    assert_eq!(with("error"), 1);
    assert_eq!(with("fail"), 1, "fail also counts error");
    assert_eq!(with("never"), 0);
    assert_eq!(
        code(lab, &["--only", "5.13", "--fail-on", "error"]),
        0,
        "a fail is not an error"
    );
}

#[test]
fn usage_errors_exit_2() {
    let lab = lab_or_skip!();
    for args in [
        vec!["--fail-on", "sometimes"],
        vec!["--format", "yaml"],
        vec!["--no-such-flag"],
        vec!["--only", "9.99"],
        vec!["--ids", "cis-0.1"],
        vec!["--include", "("],
    ] {
        let _gate = lab.read();
        let r = lab.audit(&args);
        r.expect_code(2);
        assert_eq!(r.stdout, "", "{r}");
        assert!(!r.stderr.is_empty(), "{r}");
    }
}
