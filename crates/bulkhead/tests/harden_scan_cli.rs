//! `bulkhead harden --scan` as a user runs it, on real artifacts in a temporary directory: the
//! dry run (text and the bulkhead.harden/1 contract, in CIS Docker 1.2.0 numbering), `--apply
//! --include-review --verify` (backups, the verification scan), `bulkhead scan` afterwards,
//! `bulkhead verify` later, `--rollback`, and a file changed between the reviewed plan and
//! `--apply --plan`. The host is never audited: `--scan` without a target touches only the
//! artifacts (no Docker daemon is needed or contacted).

use bulkhead_testkit::TempDir;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

const SECRET: &str = "Sup3rSecretValue-91";

fn bulkhead(dir: &Path, args: &[&str]) -> Output {
    // harden's default state directory is the machine's own (/var/lib/bulkhead/harden under
    // --root /): a test that applies, rolls back or verifies names its own.
    let uses_state = args.first() == Some(&"verify")
        || args.iter().any(|a| *a == "--apply" || *a == "--rollback");
    assert!(
        !uses_state || args.iter().any(|a| *a == "--state-dir" || *a == "--root"),
        "an apply, rollback or verify in a test must name --state-dir or --root: {args:?}"
    );
    Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args(args)
        .current_dir(dir)
        // No daemon may be reached by accident: a scan-only harden never asks one.
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("running bulkhead")
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The artifacts under `<dir>/src`, returned with their content.
fn artifacts(name: &str) -> (TempDir, Vec<(&'static str, String)>) {
    let dir = TempDir::new(&format!("hscan-{name}"));
    let files = vec![
        ("src/Dockerfile", "FROM golang:1.22 AS build\nUSER builder\nRUN go build -o /out/app .\n\nFROM debian:12.5\nCOPY --from=build /out/app /app\nUSER root\nCMD [\"/app\"]\n".to_string()),
        ("src/compose.yaml", format!("services:\n  web:\n    image: shop:1.4   # pinned\n    privileged: true\n    environment:\n      - API_TOKEN={SECRET}\n")),
        ("src/k8s/web.yaml", "# web tier\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    spec:\n      containers:\n        - name: app   # main\n          image: shop:1.4\n".to_string()),
        ("src/daemon.json", "{\n  \"icc\": true\n}\n".to_string()),
    ];
    for (n, c) in &files {
        let p = dir.join(n);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, c).unwrap();
    }
    (dir, files)
}

fn scan_rules(dir: &Path) -> Vec<(String, String, String)> {
    let o = bulkhead(
        dir,
        &["scan", "src", "--format", "json", "--fail-on", "never"],
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["location"]["path"].as_str().unwrap().to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["object"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn harden_scan_dry_run_apply_verify_rescan_and_rollback() {
    let (tmp, files) = artifacts("e2e");
    let dir = &tmp.0;
    let before = scan_rules(dir);

    // The dry run is the default: text with diffs, nothing changed, no secret printed.
    let o = bulkhead(dir, &["harden", "--scan", "src", "--ids", "cis-1.2.0"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("dry run, nothing was changed"), "{out}");
    // PITFALLS "Artifact scanners" 1: the builder's USER does not hide the final stage's root.
    assert!(
        out.contains("    -USER root\n    +USER 10001:10001\n"),
        "{out}"
    );
    assert!(out.contains("API_TOKEN=***"), "{out}");
    assert!(!text(&o).contains(SECRET), "a secret was printed");
    for (n, c) in &files {
        assert_eq!(
            &std::fs::read_to_string(dir.join(n)).unwrap(),
            c,
            "{n} changed by a dry run"
        );
    }

    // The JSON contract.
    let plan_file = dir.join("plan.json");
    let o = bulkhead(
        dir,
        &[
            "harden",
            "--scan",
            "src",
            "--ids",
            "cis-1.2.0",
            "--format",
            "json",
            "-o",
            plan_file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let plan_text = std::fs::read_to_string(&plan_file).unwrap();
    assert!(!plan_text.contains(SECRET));
    let plan: Value = serde_json::from_str(&plan_text).unwrap();
    assert_eq!(plan["schema"], "bulkhead.harden/1");
    assert_eq!(plan["numbering"]["cis-docker"], "1.2.0");
    assert_eq!(plan["scan"]["paths"][0], "src");
    let fixes = plan["fixes"].as_array().unwrap();
    let by_kind = |k: &str| -> Vec<&Value> { fixes.iter().filter(|f| f["kind"] == k).collect() };
    let compose = by_kind("compose");
    assert_eq!(compose.len(), 1, "{compose:?}");
    let c = compose[0];
    assert_eq!(c["target"]["kind"], "compose-service");
    assert_eq!(c["target"]["name"], "service web");
    assert_eq!(c["target"]["path"], "src/compose.yaml");
    assert_eq!(c["safety"], "review");
    // privileged 5.4, read-only 5.12, no-new-privileges 5.25 in the 1.2.0 numbering
    for id in ["5.4", "5.12", "5.25"] {
        assert!(
            c["checks"].as_array().unwrap().iter().any(|x| x == id),
            "{id}: {}",
            c["checks"]
        );
    }
    assert!(
        c["threats"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "DKR-E01"),
        "{}",
        c["threats"]
    );
    assert!(c["diff"]
        .as_str()
        .unwrap()
        .starts_with("--- a/src/compose.yaml\n+++ b/src/compose.yaml\n"));
    let df = by_kind("dockerfile");
    assert!(df
        .iter()
        .any(|f| f["checks"].as_array().unwrap().iter().any(|x| x == "4.1")));
    assert_eq!(
        by_kind("pod-security-context").len(),
        2,
        "pod and container"
    );
    assert_eq!(by_kind("daemon-json").len(), 2, "safe and review");
    assert!(plan["unfixed"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["rule"] == "compose-secret-env"));

    // Apply everything and verify by scanning again.
    let state = dir.join("state");
    let o = bulkhead(
        dir,
        &[
            "harden",
            "--scan",
            "src",
            "--apply",
            "--include-review",
            "--verify",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Verification: the artifacts scanned again"),
        "{out}"
    );
    assert!(
        !out.contains("audited again"),
        "the host was audited:\n{out}"
    );
    assert!(!out.contains("still reported"), "{out}");
    assert!(
        out.contains("compose-privileged") && out.contains("fixed"),
        "{out}"
    );
    assert!(!text(&o).contains(SECRET));
    for (n, c) in &files {
        let bak: Vec<_> = std::fs::read_dir(dir.join(n).parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let s = p.file_name().unwrap().to_string_lossy().into_owned();
                s.starts_with(&format!(
                    "{}.bulkhead-",
                    Path::new(n).file_name().unwrap().to_string_lossy()
                )) && s.ends_with(".bak")
            })
            .collect();
        assert_eq!(bak.len(), 1, "{n}: one backup beside it");
        assert_eq!(
            &std::fs::read_to_string(&bak[0]).unwrap(),
            c,
            "{n}: backup content"
        );
    }
    let k8s = std::fs::read_to_string(dir.join("src/k8s/web.yaml")).unwrap();
    assert!(
        k8s.contains("# web tier") && k8s.contains("- name: app   # main"),
        "{k8s}"
    );

    // `bulkhead scan` afterwards: the fixed rules are gone, what had no fix is still there.
    let after = scan_rules(dir);
    for gone in [
        "dockerfile-root-final-stage",
        "compose-privileged",
        "compose-read-only",
        "compose-no-new-privileges",
        "k8s-privilege-escalation",
        "k8s-writable-root-fs",
        "daemon-icc",
    ] {
        assert!(
            before.iter().any(|(_, r, _)| r == gone),
            "{gone} was not reported before"
        );
        assert!(
            !after.iter().any(|(_, r, _)| r == gone),
            "{gone} still reported: {after:?}"
        );
    }
    assert!(after.iter().any(|(_, r, _)| r == "compose-secret-env"));
    assert!(
        after.iter().all(|(p, _, _)| !p.ends_with(".bak")),
        "backups scanned: {after:?}"
    );

    // `bulkhead verify` later, from another directory: it scans again and does not audit.
    let o = bulkhead(
        &std::env::temp_dir(),
        &[
            "verify",
            "--state-dir",
            state.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["schema"], "bulkhead.verify/1");
    assert!(v["checks"].as_array().unwrap().is_empty());
    let findings = v["findings"].as_array().unwrap();
    assert!(findings.len() >= 7, "{findings:?}");
    assert!(
        findings
            .iter()
            .all(|f| f["before"] == "fail" && f["after"] == "pass"),
        "{findings:?}"
    );

    // Rollback restores every byte.
    let o = bulkhead(
        dir,
        &[
            "harden",
            "--rollback",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    for (n, c) in &files {
        assert_eq!(
            &std::fs::read_to_string(dir.join(n)).unwrap(),
            c,
            "{n} after rollback"
        );
    }
    // With the fixes undone, verify says so and fails.
    let o = bulkhead(dir, &["verify", "--state-dir", state.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("still reported"),
        "{}",
        text(&o)
    );
}

/// Secret values of Kubernetes manifests (env values, Secret data, ConfigMap entries, token
/// shapes) stand next to the lines the fixes change, so they show up as diff context: every
/// output of harden masks them, as `bulkhead scan` does. The reviewer's case: a Pod whose
/// privileged container has a literal password and a GitHub token in its env.
#[test]
fn kubernetes_secrets_are_masked_in_text_json_and_the_plan_file() {
    let dir = TempDir::new("hscan-k8s-secrets");
    let secrets = [
        "literalpw12345",
        "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
        "aHVudGVyMg==",
        "plaintexttoken123",
        "pgpass9876",
    ];
    let manifest = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p1, namespace: shop}\n  spec:\n    hostNetwork: true\n    securityContext: {runAsNonRoot: true}\n    containers:\n    - name: c\n      image: nginx:1.25\n      securityContext:\n        runAsUser: 10001\n        privileged: yes\n      env:\n      - name: DB_PASSWORD\n        value: \"literalpw12345\"\n      - name: GH\n        value: ghp_1234567890abcdefghijklmnopqrstuvwxyzAB\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: db, namespace: shop}\n  type: Opaque\n  data:\n    password: aHVudGVyMg==\n  stringData:\n    token: plaintexttoken123\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: cfg, namespace: shop}\n  data:\n    DATABASE_URL: postgres://app:pgpass9876@db:5432/app\n";
    std::fs::create_dir_all(dir.join("k8s")).unwrap();
    std::fs::write(dir.join("k8s/insecure.yaml"), manifest).unwrap();
    let leaked = |what: &str, out: &str| {
        for s in secrets {
            assert!(!out.contains(s), "{what}: {s} printed:\n{out}");
        }
    };

    let o = bulkhead(&dir.0, &["harden", "--scan", "k8s"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    leaked("text", &out);
    // The diff still shows where the values are, masked.
    assert!(out.contains("             value: \"***\"\n"), "{out}");
    assert!(out.contains("             value: ***\n"), "{out}");

    let o = bulkhead(&dir.0, &["harden", "--scan", "k8s", "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    leaked("json", &text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["fixes"].as_array().unwrap().iter().any(|f| f["diff"]
            .as_str()
            .is_some_and(|d| d.contains("value: \"***\""))),
        "{v}"
    );

    let plan_file = dir.join("plan.json");
    let o = bulkhead(
        &dir.0,
        &[
            "harden",
            "--scan",
            "k8s",
            "--format",
            "json",
            "-o",
            plan_file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    leaked("plan file", &std::fs::read_to_string(&plan_file).unwrap());
}

#[test]
fn a_reviewed_plan_is_refused_when_a_file_changed_since() {
    let (tmp, files) = artifacts("changed");
    let dir = &tmp.0;
    let plan_file = dir.join("plan.json");
    let o = bulkhead(
        dir,
        &[
            "harden",
            "--scan",
            "src",
            "--select",
            "compose-privileged",
            "--format",
            "json",
            "-o",
            plan_file.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let plan: Value = serde_json::from_str(&std::fs::read_to_string(&plan_file).unwrap()).unwrap();
    let ids: Vec<&str> = plan["fixes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec!["compose:src/compose.yaml#service web"],
        "--select by rule"
    );
    // Someone edits the file after the review.
    let edited = files[1].1.replace("shop:1.4", "shop:1.5");
    std::fs::write(dir.join("src/compose.yaml"), &edited).unwrap();
    let state = dir.join("state");
    let o = bulkhead(
        dir,
        &[
            "harden",
            "--scan",
            "src",
            "--select",
            "compose-privileged",
            "--apply",
            "--include-review",
            "--plan",
            plan_file.to_str().unwrap(),
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("src/compose.yaml changed since the reviewed plan read it"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("src/compose.yaml")).unwrap(),
        edited
    );
    // Without the reviewed plan, a plan made now from the file as it is applies.
    let o = bulkhead(
        dir,
        &[
            "harden",
            "--scan",
            "src",
            "--select",
            "compose-privileged",
            "--apply",
            "--include-review",
            "--state-dir",
            state.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let now = std::fs::read_to_string(dir.join("src/compose.yaml")).unwrap();
    assert_eq!(now, edited.replace("privileged: true", "privileged: false"));
}

/// With a target, `--scan` adds the artifact fixes to the host's: against the testkit's private
/// dockerd (its own socket, never the user's daemon), 4.5 (content trust, a profile file under
/// the temporary root) and the compose file's read_only are planned together, applied, and
/// `--verify` audits the host again and scans the artifacts again.
#[test]
fn with_a_target_host_and_artifact_fixes_are_applied_and_verified_together() {
    let Some(d) = bulkhead_testkit::TestDockerd::shared() else {
        return;
    };
    let (tmp, files) = artifacts("combined");
    let dir = &tmp.0;
    let root = dir.join("root");
    std::fs::create_dir_all(root.join("etc/profile.d")).unwrap();
    std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(root.join("etc/group"), "root:x:0:\n").unwrap();
    let state = dir.join("state");
    let host = d.docker_host();
    let o = Command::new(env!("CARGO_BIN_EXE_bulkhead"))
        .args([
            "harden",
            "docker",
            "--docker-host",
            &host,
            "--root",
            root.to_str().unwrap(),
            "--ids",
            "cis-1.2.0",
            "--select",
            "4.5,compose-read-only",
            "--scan",
            "src",
            "--apply",
            "--include-review",
            "--verify",
            "--state-dir",
            state.to_str().unwrap(),
        ])
        .current_dir(dir)
        .env_remove("DOCKER_CONTENT_TRUST")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        out.contains("applied profile:/etc/profile.d/bulkhead-content-trust.sh"),
        "{out}"
    );
    assert!(
        out.contains("applied compose:src/compose.yaml#service web"),
        "{out}"
    );
    assert!(out.contains("Verification: audited again"), "{out}");
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("4.5 "))
        .unwrap_or_else(|| panic!("4.5 in {out}"));
    // The verdict is a column of its own, before the title.
    let cells: Vec<&str> = line
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cells.get(3), Some(&"fixed"), "{line}");
    // The host part lists the host's selected checks only; 5.12 came in through the artifact.
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with("5.12 ")),
        "{out}"
    );
    assert!(
        out.contains("Verification: the artifacts scanned again"),
        "{out}"
    );
    assert!(
        out.contains("1 of 1 finding fixed."),
        "only the selected rule was fixed:\n{out}"
    );
    let compose = std::fs::read_to_string(dir.join("src/compose.yaml")).unwrap();
    assert_eq!(compose, format!("{}    read_only: true\n", files[1].1));
}

/// An `--apply` that applies nothing keeps the verify baseline of the last one that did (verify
/// must show the state before the changes, not after), and the undo hint names the state
/// directory the journal is in.
#[test]
fn an_apply_that_changes_nothing_keeps_the_baseline() {
    let (tmp, _) = artifacts("baseline");
    let dir = &tmp.0;
    let state = dir.join("st");
    let args = [
        "harden",
        "--scan",
        "src",
        "--apply",
        "--include-review",
        "--state-dir",
        state.to_str().unwrap(),
    ];
    let o = bulkhead(dir, &args);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!(
            "undo with `bulkhead harden --rollback --state-dir {}`",
            state.display()
        )),
        "{out}"
    );
    let baseline = std::fs::read_to_string(state.join("baseline.json")).unwrap();
    let o = bulkhead(dir, &args);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        std::fs::read_to_string(state.join("baseline.json")).unwrap(),
        baseline,
        "an apply that applied nothing rewrote the baseline"
    );
}

/// A compose anchor merged by several services (`<<: *base`) is never edited: the service the
/// fix is for gets its own `security_opt` (the merged items and the new option), which
/// overrides the merged list; the anchor and every other service merging it stay as written.
#[test]
fn a_merged_anchor_list_is_overridden_in_the_service_not_edited() {
    for list in [
        "  security_opt: [seccomp:unconfined]\n",
        "  security_opt:\n    - seccomp:unconfined\n",
    ] {
        let dir = TempDir::new("hscan-anchor");
        let state = dir.join("state");
        let before = format!(
            "x-base: &base\n  image: app:1\n{list}services:\n  a:\n    <<: *base\n    ports: [\"80:80\"]\n  b:\n    <<: *base\n    command: [run]\n"
        );
        std::fs::write(dir.join("compose.yaml"), &before).unwrap();
        let o = bulkhead(
            &dir,
            &[
                "harden",
                "--scan",
                "compose.yaml",
                "--select",
                "compose-no-new-privileges",
                "--apply",
                "--include-review",
                "--state-dir",
                state.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        let after = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
        let own_a = "    ports: [\"80:80\"]\n    security_opt:\n      - seccomp:unconfined\n      - no-new-privileges:true\n";
        let own_b = "    command: [run]\n    security_opt:\n      - seccomp:unconfined\n      - no-new-privileges:true\n";
        // Both services are fixed, each in its own mapping; the anchor is untouched.
        assert!(
            after.starts_with(&format!("x-base: &base\n  image: app:1\n{list}")),
            "{after}"
        );
        assert!(after.contains(own_a) && after.contains(own_b), "{after}");
        let expected = before
            .replace("    ports: [\"80:80\"]\n", own_a)
            .replace("    command: [run]\n", own_b);
        assert_eq!(after, expected);
    }
}

/// dockerd refuses a daemon.json with `"icc": false` while `"iptables": false`. A user who fixes
/// only 2.2 (`--select 2.2`) in a file that disables iptables gets iptables turned back on in
/// the same fix (the dry run shows it and says why), and `bulkhead scan` afterwards finds neither
/// daemon-icc nor daemon-iptables in a file that is still JSON with one `iptables` member.
#[test]
fn selecting_only_icc_in_a_file_without_iptables_writes_a_file_dockerd_starts_with() {
    let dir = TempDir::new("hscan-icc-iptables");
    let before = "{\n  \"iptables\": false,\n  \"log-driver\": \"journald\"\n}\n";
    std::fs::write(dir.join("daemon.json"), before).unwrap();
    let state = dir.join("st");
    let args = ["harden", "--scan", "daemon.json", "--select", "2.2"];
    let o = bulkhead(&dir, &args);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    for line in [
        "    -  \"iptables\": false,\n",
        "    +  \"iptables\": true,\n",
        "    +  \"icc\": false\n",
        "changes: daemon-icc (line 1): set \"icc\": false and \"iptables\": true\n",
    ] {
        assert!(out.contains(line), "{line:?} not in\n{out}");
    }
    assert!(out.contains("turns iptables back on"), "{out}");
    assert_eq!(
        std::fs::read_to_string(dir.join("daemon.json")).unwrap(),
        before
    );

    let mut apply = args.to_vec();
    apply.extend([
        "--apply",
        "--include-review",
        "--state-dir",
        state.to_str().unwrap(),
    ]);
    let o = bulkhead(&dir, &apply);
    assert!(o.status.success(), "{}", text(&o));
    let after = std::fs::read_to_string(dir.join("daemon.json")).unwrap();
    assert_eq!(
        after,
        "{\n  \"iptables\": true,\n  \"log-driver\": \"journald\",\n  \"icc\": false\n}\n"
    );
    let v: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(
        (&v["icc"], &v["iptables"]),
        (&Value::Bool(false), &Value::Bool(true))
    );

    let o = bulkhead(
        &dir,
        &[
            "scan",
            "daemon.json",
            "--format",
            "json",
            "--fail-on",
            "never",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rules: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    for gone in ["daemon-icc", "daemon-iptables"] {
        assert!(!rules.contains(&gone), "{gone} still reported: {rules:?}");
    }
}
