//! The terminal report (issue 2, point 7): docker-bench's shape (`[PASS] 5.13 - <title>`,
//! section headers, indented detail lines naming each failing object, a summary with counts per
//! status and the score), plain when not a terminal or with `--color never`, coloured on a
//! terminal and with `--color always`, and `NO_COLOR` respected.

use crate::support::{self, command, HOSTILE_DIR, RUNNING_AUDITED};
use crate::{audit_snapshot, lab_or_skip};
use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;

const TITLE_5_13: &str = "Ensure that the container's root filesystem is mounted as read only";
const ESC: char = '\u{1b}';

/// The text label docker-bench users know for each status.
fn label(status: &str) -> &'static str {
    match status {
        "pass" => "PASS",
        "fail" => "FAIL",
        "warn" => "WARN",
        "info" => "INFO",
        "manual" => "MANUAL",
        "not_applicable" => "N/A",
        "error" => "ERROR",
        other => panic!("unknown status {other}"),
    }
}

#[test]
fn text_report_has_sections_check_lines_details_and_summary() {
    let lab = lab_or_skip!();
    let text = audit_snapshot(lab, &["--color", "never"]);
    text.expect_code(1);
    let json = audit_snapshot(lab, &["--format", "json"]).json();
    let out = &text.stdout;
    let lines: Vec<&str> = out.lines().collect();

    assert!(
        lines[0].starts_with("# bulkhead ") && lines[0].contains("CIS Docker Benchmark 1.6.0"),
        "{}",
        lines[0]
    );
    let engine = json["target"]["engine_version"].as_str().unwrap();
    assert!(
        lines[1].starts_with(&format!("# target: docker {engine} (API "))
            && lines[1].ends_with(&format!(" via {}", lab.host)),
        "{}",
        lines[1]
    );
    for header in [
        "[INFO] 1 - Host Configuration",
        "[INFO] 1.1 - Linux Hosts Specific Configuration",
        "[INFO] 2 - Docker daemon configuration",
        "[INFO] 3 - Docker daemon configuration files",
        "[INFO] 4 - Container Images and Build File",
        "[INFO] 5 - Container Runtime",
        "[INFO] 6 - Docker Security Operations",
        "[INFO] 7 - Docker Swarm Configuration",
    ] {
        assert!(
            lines.contains(&header),
            "no section header {header:?}\n{out}"
        );
    }

    // One line per check, in the order of the JSON results, with the same status. PITFALL 19
    // (and 7): docker-bench shows NOTE or PASS in the terminal where its JSON says INFO; here
    // every format reports the one status of the audit.
    let results = json["results"].as_array().unwrap();
    assert_eq!(results.len(), 117);
    let mut at = 0;
    for r in results {
        let want = format!(
            "[{}] {} - {}",
            label(r["status"].as_str().unwrap()),
            r["id"].as_str().unwrap(),
            r["title"].as_str().unwrap()
        );
        let found = lines[at..]
            .iter()
            .position(|l| *l == want)
            .unwrap_or_else(|| panic!("no line {want:?} after line {at}\n{out}"));
        at += found + 1;
    }

    // 5.13: the check line, then one indented detail line per failing container, naming it
    // with its evidence; nothing for the passing container.
    let i = lines
        .iter()
        .position(|l| *l == format!("[FAIL] 5.13 - {TITLE_5_13}"))
        .expect("5.13 line");
    let details: Vec<&str> = lines[i + 1..]
        .iter()
        .take_while(|l| l.starts_with("       * "))
        .copied()
        .collect();
    let failing: Vec<&str> = RUNNING_AUDITED
        .iter()
        .copied()
        .filter(|n| *n != support::HARDENED)
        .collect();
    assert_eq!(
        details,
        failing
            .iter()
            .map(|n| format!(
                "       * [FAIL] container {n}: HostConfig.ReadonlyRootfs = false (expected true)"
            ))
            .collect::<Vec<_>>()
    );

    // The summary counts each status and matches the JSON summary; then the score.
    let s = &json["summary"];
    let summary = format!(
        "Summary: 117 checks: {} pass, {} fail, {} warn, {} info, {} manual, {} not applicable, {} error",
        s["pass"], s["fail"], s["warn"], s["info"], s["manual"], s["not_applicable"], s["error"]
    );
    assert!(lines.contains(&summary.as_str()), "no {summary:?}\n{out}");
    let score = format!(
        "Score: {} ({}% of scored, evaluated checks pass)",
        s["score"],
        s["score_percent"]
            .as_f64()
            .expect("score_percent is a number here")
    );
    assert!(lines.contains(&score.as_str()), "no {score:?}\n{out}");
    assert!(
        !out.contains(ESC),
        "--color never printed an escape sequence"
    );
}

#[test]
fn passing_check_line_and_verbose_passing_objects() {
    let lab = lab_or_skip!();
    let _gate = lab.read();
    let r = lab.audit(&["--only", "5.13", "--include", "^hardened$"]);
    r.expect_code(0);
    assert!(
        r.stdout
            .lines()
            .any(|l| l == format!("[PASS] 5.13 - {TITLE_5_13}")),
        "{r}"
    );
    assert!(!r.stdout.contains("[PASS] container hardened"), "{r}");
    let v = lab.audit(&["--only", "5.13", "--include", "^hardened$", "-v"]);
    assert!(
        v.stdout.lines().any(|l| l
            == "       * [PASS] container hardened: HostConfig.ReadonlyRootfs = true (expected true)"),
        "{v}"
    );
}

#[test]
fn older_numbering_shows_5_12_and_5_25_and_no_note_for_checks_not_run() {
    let lab = lab_or_skip!();
    let r = audit_snapshot(lab, &["--ids", "cis-1.2.0", "--only", "5.12,5.25"]);
    r.expect_code(1);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].contains("(numbering cis-1.2.0)"), "{r}");
    assert!(
        lines.contains(&format!("[FAIL] 5.12 - {TITLE_5_13}").as_str()),
        "{r}"
    );
    assert!(
        lines.contains(
            &"[FAIL] 5.25 - Ensure that the container is restricted from acquiring additional privileges"
        ),
        "{r}"
    );
    assert!(lines.contains(&"Summary: 2 checks: 0 pass, 2 fail, 0 warn, 0 info, 0 manual, 0 not applicable, 0 error"), "{r}");
    // The two checks that ran both have numbers in cis-1.2.0: no note about checks it lacks,
    // which the summary would not count.
    assert!(!lines.iter().any(|l| l.starts_with("Note:")), "{r}");
}

#[test]
fn plain_when_piped_coloured_when_forced_and_never_overrides() {
    let lab = lab_or_skip!();
    let args = ["--only", "5.13,5.2"];
    let piped = audit_snapshot(lab, &args);
    assert!(
        !piped.stdout.contains(ESC),
        "piped output is coloured\n{piped}"
    );

    let mut forced = vec!["--color", "always"];
    forced.extend_from_slice(&args);
    let coloured = audit_snapshot(lab, &forced);
    assert!(
        coloured
            .stdout
            .contains(&format!("{ESC}[31;1m[FAIL]{ESC}[0m 5.13 - {TITLE_5_13}")),
        "{coloured}"
    );
    assert!(
        coloured
            .stdout
            .contains(&format!("{ESC}[2m[N/A]{ESC}[0m 5.2 - ")),
        "{coloured}"
    );
    // The colours change nothing else.
    assert_eq!(strip_ansi(&coloured.stdout), piped.stdout);

    let mut never = vec!["--color", "never"];
    never.extend_from_slice(&args);
    assert_eq!(audit_snapshot(lab, &never).stdout, piped.stdout);

    // NO_COLOR turns off automatic colour, not an explicit --color always.
    let snap = crate::lab_snapshot(lab);
    let mut all = vec![
        "audit",
        "docker",
        "--snapshot",
        snap.to_str().unwrap(),
        "--color",
        "always",
    ];
    all.extend_from_slice(&args);
    let r = support::run_env(&all, &[("NO_COLOR", "1")]);
    assert!(r.stdout.contains(ESC), "{r}");
}

#[test]
fn writing_to_a_file_is_plain_even_with_colour_auto() {
    let lab = lab_or_skip!();
    let dir = support::TempDir::new("text-file");
    let out = dir.arg("report.txt");
    let r = audit_snapshot(lab, &["--only", "5.13", "-o", &out]);
    r.expect_code(1);
    assert_eq!(r.stdout, "", "with -o nothing goes to stdout");
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains(&format!("[FAIL] 5.13 - {TITLE_5_13}")));
    assert!(!written.contains(ESC));
}

/// Run the binary with stdout on a pseudo-terminal (a real tty, as an interactive user has) and
/// return what it printed.
fn run_on_tty(args: &[&str], env: &[(&str, &str)]) -> String {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty fills two descriptors we then own; no name, termios or size is passed.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned by nothing else.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = command(args, env)
        .stdout(Stdio::from(slave))
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn bulkhead");
    let mut reader = std::fs::File::from(master);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            // Linux answers EIO on the master once the last slave descriptor is closed.
            Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
            Err(e) => panic!("reading the pty: {e}"),
        }
    }
    child.wait().expect("wait");
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn coloured_on_a_terminal_unless_no_color_is_set() {
    let lab = lab_or_skip!();
    let snap = crate::lab_snapshot(lab);
    let args = [
        "audit",
        "docker",
        "--snapshot",
        snap.to_str().unwrap(),
        "--only",
        "5.13",
    ];
    let tty = run_on_tty(&args, &[]);
    assert!(
        tty.contains(&format!("{ESC}[31;1m[FAIL]{ESC}[0m 5.13")),
        "no colour on a terminal:\n{tty}"
    );
    let no_color = run_on_tty(&args, &[("NO_COLOR", "1")]);
    assert!(no_color.contains("[FAIL] 5.13"), "{no_color}");
    assert!(!no_color.contains(ESC), "NO_COLOR=1 ignored:\n{no_color}");
    // no-color.org: an empty NO_COLOR is the same as unset.
    let empty = run_on_tty(&args, &[("NO_COLOR", "")]);
    assert!(
        empty.contains(ESC),
        "empty NO_COLOR turned colour off:\n{empty}"
    );
}

#[test]
fn hostile_mount_path_cannot_forge_lines_or_inject_escapes() {
    let lab = lab_or_skip!();
    let r = audit_snapshot(lab, &["--only", "5.6", "--color", "never"]);
    r.expect_code(1);
    assert!(
        !r.stdout.contains(ESC),
        "raw escape sequence in the report\n{r}"
    );
    let escaped = HOSTILE_DIR
        .replace('\u{1b}', "\\u{1b}")
        .replace('\n', "\\n");
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("[FAIL] container hostile: Mounts = "))
        .unwrap_or_else(|| panic!("no detail line for the hostile container\n{r}"));
    assert!(
        line.contains(&escaped),
        "the path is not shown escaped on one line: {line:?}"
    );
    assert!(!r.stdout.lines().any(|l| l.starts_with("line")), "{r}");
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ESC && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
