//! Compose projects: a base file and its override, and `extends`, are judged as the one model
//! `docker compose` deploys (compose-spec 13-merge.md, 05-services.md#extends).

use bulkhead_scan::{
    apply_edits, scan_inputs, scan_paths, ArtifactKind, Baseline, Input, ScanOptions, ScanReport,
};
use std::path::PathBuf;

mod common;
use common::printed_fields;

fn compose(path: &str, text: &str) -> Input {
    Input {
        path: path.into(),
        bytes: text.as_bytes().to_vec(),
        kind: Some(ArtifactKind::Compose),
    }
}

fn scan(inputs: &[Input]) -> ScanReport {
    scan_inputs(inputs, &ScanOptions::default())
}

/// (path, line) of each finding of `rule`.
fn places(r: &ScanReport, rule: &str) -> Vec<(String, u32)> {
    r.findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.location.path.clone(), f.location.line))
        .collect()
}

const BASE: &str = "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n    user: \"1000\"\n    cap_add: [SYS_ADMIN]\n    ports:\n      - \"8080:80\"\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n    environment:\n      DB_PASSWORD: hunter2hunter2\n";

const OVERRIDE: &str = "services:\n  web:\n    privileged: false\n    user: root\n    cap_drop: [ALL]\n    ports: !override\n      - \"127.0.0.1:8443:443\"\n    volumes:\n      - ./fake.sock:/var/run/docker.sock\n    environment:\n      - DB_PASSWORD=${DB_PASSWORD}\n      - API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789\n    build:\n      context: .\n      args:\n        NPM_TOKEN: npmOverrideSecret42\n";

#[test]
fn the_override_file_changes_what_the_base_file_is_judged_by() {
    let r = scan(&[
        compose("app/compose.yaml", BASE),
        compose("app/compose.override.yaml", OVERRIDE),
    ]);
    let base = "app/compose.yaml".to_string();
    let over = "app/compose.override.yaml".to_string();
    // Replaced scalars: not privileged, but root (written in the override).
    assert!(
        places(&r, "compose-privileged").is_empty(),
        "{:?}",
        r.findings
    );
    assert_eq!(places(&r, "compose-user-root"), vec![(over.clone(), 4)]);
    // Appended lists: cap_drop ALL from the override, cap_add from the base.
    assert!(places(&r, "compose-cap-drop").is_empty());
    assert_eq!(places(&r, "compose-cap-add"), vec![(base.clone(), 6)]);
    // `!override` replaces the ports; volumes merge by target, environment by name.
    assert!(places(&r, "compose-port-all-interfaces").is_empty());
    assert!(places(&r, "compose-runtime-socket").is_empty());
    // Secrets are judged in each file as written, not on the merged model: the base file's
    // password is committed and ships in that file whatever the override sets the variable to
    // (here a reference). Each written secret is reported once.
    assert_eq!(
        places(&r, "compose-secret-env"),
        vec![(over.clone(), 12), (over.clone(), 16), (base.clone(), 12)],
        "{:?}",
        r.findings
    );
    // Something missing points at the service in the base file; the override is no project
    // of its own (no finding about what it leaves out).
    assert_eq!(places(&r, "compose-memory-limit"), vec![(base.clone(), 2)]);
    assert_eq!(places(&r, "compose-read-only"), vec![(base.clone(), 2)]);
    // Secrets of every file are masked in every output: by the compose secret rule, which
    // reports these two, and by the shared masking of snippets, which also masks a secret-named
    // mapping value since it reads `key: value` pairs.
    let finding = |path: &str, line: u32| {
        r.findings
            .iter()
            .find(|f| {
                f.rule == "compose-secret-env" && f.location.path == path && f.location.line == line
            })
            .unwrap_or_else(|| panic!("{path}:{line}: {:?}", r.findings))
    };
    assert_eq!(finding(&base, 12).snippet, "      DB_PASSWORD: ***");
    assert_eq!(finding(&over, 16).snippet, "        NPM_TOKEN: ***");
    for out in [
        serde_json::to_string(&r).unwrap(),
        printed_fields(&r),
        Baseline::render(&r.findings),
    ] {
        for secret in ["hunter2hunter2", "npmOverrideSecret42", "ghp_abcdefghij"] {
            assert!(!out.contains(secret), "{secret} printed:\n{out}");
        }
    }
}

/// A secret is a property of the file it is written in: reported once, at its place, for the
/// service that writes it, however many services inherit it through `extends`. A file outside
/// the inputs is judged only for the services the project reads from it.
#[test]
fn a_secret_inherited_through_extends_is_reported_once_where_it_is_written() {
    let text = "services:\n  base:\n    image: app:1\n    environment:\n      DB_PASSWORD: hunter2hunter2\n  web:\n    extends: base\n  worker:\n    extends: base\n";
    let r = scan(&[compose("compose.yaml", text)]);
    let secrets = |r: &ScanReport| -> Vec<(String, u32, String)> {
        r.findings
            .iter()
            .filter(|f| f.rule == "compose-secret-env")
            .map(|f| (f.location.path.clone(), f.location.line, f.object.clone()))
            .collect()
    };
    assert_eq!(
        secrets(&r),
        vec![("compose.yaml".into(), 5, "service base".into())]
    );

    let d = tempdir("extends-secret");
    std::fs::write(
        d.join("common.yml"),
        "services:\n  base:\n    image: app:1\n    environment:\n      DB_PASSWORD: hunter2hunter2\n  unused:\n    image: app:1\n    environment:\n      API_KEY: unusedSecret99\n",
    )
    .unwrap();
    std::fs::write(
        d.join("app/compose.yaml"),
        "services:\n  web:\n    extends:\n      file: ../common.yml\n      service: base\n  worker:\n    extends:\n      file: ../common.yml\n      service: base\n",
    )
    .unwrap();
    let r = scan_paths(&[d.join("app/compose.yaml")], &ScanOptions::default());
    let common = d.join("common.yml").display().to_string();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(secrets(&r), vec![(common, 5, "service base".into())]);
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("hunter2hunter2"), "{json}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn an_override_that_sets_the_user_leaves_no_user_unset_finding() {
    let r = scan(&[
        compose(
            "docker-compose.yml",
            "services:\n  web:\n    image: app:1\n",
        ),
        compose(
            "docker-compose.override.yml",
            "services:\n  web:\n    user: \"1000\"\n    read_only: true\n",
        ),
    ]);
    assert!(
        places(&r, "compose-user-unset").is_empty(),
        "{:?}",
        r.findings
    );
    assert!(places(&r, "compose-read-only").is_empty());
    // Only compose's default names pair: another file beside them is its own project.
    let r = scan(&[
        compose("compose.yaml", "services:\n  web:\n    image: app:1\n"),
        compose(
            "compose.prod.yaml",
            "services:\n  web:\n    user: \"1000\"\n",
        ),
    ]);
    assert_eq!(
        places(&r, "compose-user-unset"),
        vec![("compose.yaml".into(), 2)]
    );
}

#[test]
fn fixes_edit_the_file_that_holds_the_effective_value() {
    let base = "services:\n  web:\n    image: app:1\n    user: \"1000\"\n    security_opt: [label=disable]\n";
    let over =
        "services:\n  web:\n    user: root\n    security_opt:\n      - no-new-privileges:false\n";
    let r = scan(&[
        compose("compose.yaml", base),
        compose("compose.override.yaml", over),
    ]);
    let fixed = |rule: &str| {
        let f = r.findings.iter().find(|f| f.rule == rule).expect(rule);
        assert_eq!(f.location.path, "compose.override.yaml", "{rule}");
        apply_edits(over, &f.fix.as_ref().expect("a fix").edits).unwrap()
    };
    assert!(fixed("compose-user-root").contains("user: \"10001:10001\""));
    assert!(fixed("compose-no-new-privileges").contains("- no-new-privileges:true"));
    // A setting to add goes to the service in the base file.
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "compose-read-only")
        .unwrap();
    assert_eq!(f.location.path, "compose.yaml");
    let text = apply_edits(base, &f.fix.as_ref().unwrap().edits).unwrap();
    assert!(text.contains("read_only: true"), "{text}");
}

#[test]
fn reset_removes_a_setting_of_the_base_file() {
    let r = scan(&[
        compose(
            "compose.yaml",
            "services:\n  web:\n    image: app:1\n    pid: host\n    network_mode: host\n",
        ),
        compose(
            "compose.override.yml",
            "services:\n  web:\n    pid: !reset null\n",
        ),
    ]);
    assert!(
        places(&r, "compose-host-pid").is_empty(),
        "{:?}",
        r.findings
    );
    assert_eq!(
        places(&r, "compose-host-network"),
        vec![("compose.yaml".into(), 5)]
    );
}

#[test]
fn extends_in_the_same_file_inherits_the_settings() {
    let text = "services:\n  base:\n    image: app:1\n    privileged: true\n    user: root\n  web:\n    extends: base\n    privileged: false\n  worker:\n    extends:\n      service: base\n";
    let r = scan(&[compose("compose.yaml", text)]);
    let objects = |rule: &str| -> Vec<(String, u32)> {
        r.findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| (f.object.clone(), f.location.line))
            .collect()
    };
    assert_eq!(
        objects("compose-privileged"),
        vec![("service base".into(), 4), ("service worker".into(), 4)]
    );
    assert_eq!(objects("compose-user-root").len(), 3);
    let inherited = r
        .findings
        .iter()
        .find(|f| f.rule == "compose-privileged" && f.object == "service worker")
        .unwrap();
    assert!(
        inherited.message.contains("extends from service base"),
        "{}",
        inherited.message
    );
    // Its fix would edit `base`, which the other services extend too: left to a person.
    assert!(inherited.fix.is_none());
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bulkhead-project-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("app")).unwrap();
    d
}

#[test]
fn extends_from_another_file_points_at_that_file() {
    let d = tempdir("extends");
    std::fs::write(
        d.join("common.yml"),
        "services:\n  base:\n    image: app:1\n    user: root\n",
    )
    .unwrap();
    std::fs::write(
        d.join("app/compose.yaml"),
        "services:\n  web:\n    extends:\n      file: ../common.yml\n      service: base\n",
    )
    .unwrap();
    let r = scan_paths(&[d.join("app/compose.yaml")], &ScanOptions::default());
    let common = d.join("common.yml").display().to_string();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(places(&r, "compose-user-root"), vec![(common, 4)]);
    assert!(places(&r, "compose-user-unset").is_empty());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn extends_of_a_missing_file_or_service_or_a_cycle_is_an_error() {
    let d = tempdir("extends-errors");
    let path = d.join("compose.yaml");
    for (text, line, says) in [
        (
            "services:\n  web:\n    image: app:1\n    extends:\n      file: nope.yml\n      service: base\n",
            5,
            "nope.yml",
        ),
        (
            "services:\n  web:\n    image: app:1\n    extends: base\n",
            4,
            "no service base",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let r = scan_paths(std::slice::from_ref(&path), &ScanOptions::default());
        assert_eq!(r.errors.len(), 1, "{text}: {:?}", r.errors);
        let e = &r.errors[0];
        assert_eq!(e.path, path.display().to_string());
        assert_eq!(e.line, line, "{text}");
        assert!(e.message.contains(says), "{}", e.message);
    }
    // Each service of a cycle is refused, at its own `extends`.
    std::fs::write(
        &path,
        "services:\n  a:\n    extends: b\n  b:\n    extends: a\n",
    )
    .unwrap();
    let r = scan_paths(std::slice::from_ref(&path), &ScanOptions::default());
    let lines: Vec<u32> = r.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![3, 5], "{:?}", r.errors);
    assert!(r.errors.iter().all(|e| e.message.contains("cycle")));
    let _ = std::fs::remove_dir_all(&d);
}

/// `extends: {file: ...}` names a file from the scanned file itself, so a pull request chooses
/// it: a device or a FIFO there is refused at the `extends` line, without blocking on the FIFO or
/// reading the device into memory.
#[test]
fn extends_of_a_device_or_a_fifo_is_refused_without_reading_it() {
    let d = tempdir("extends-hostile");
    let fifo = d.join("fifo.yml");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let path = d.join("compose.yaml");
    for (target, says) in [
        ("/dev/zero", "is a character device, not a regular file"),
        ("fifo.yml", "is a FIFO (named pipe), not a regular file"),
    ] {
        std::fs::write(
            &path,
            format!("services:\n  web:\n    image: app:1\n    extends:\n      file: {target}\n      service: base\n"),
        )
        .unwrap();
        let r = scan_paths(std::slice::from_ref(&path), &ScanOptions::default());
        assert_eq!(r.errors.len(), 1, "{target}: {:?}", r.errors);
        assert_eq!(r.errors[0].line, 5, "{target}");
        assert!(
            r.errors[0].message.contains(says),
            "{}",
            r.errors[0].message
        );
    }
    let _ = std::fs::remove_dir_all(&d);
}
