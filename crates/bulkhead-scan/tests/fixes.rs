//! The scanner's fixes are made with the one editor of each kind in `bulkhead_scan::fixes` (the
//! editors bulkhead-harden's fixers use too): each test applies a finding's fix, checks the text
//! byte for byte, and checks that the same editor called directly (as harden calls it) writes
//! the same thing.

use bulkhead_scan::fixes::{compose, dockerfile, json, yaml};
use bulkhead_scan::{apply_edits, scan_inputs, ArtifactKind, Finding, Input, ScanOptions};
use serde_json::json;

fn findings(path: &str, kind: ArtifactKind, text: &str) -> Vec<Finding> {
    let r = scan_inputs(
        &[Input {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
            kind: Some(kind),
        }],
        &ScanOptions::default(),
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r.findings
}

/// The text after the fix of the first finding of `rule` (the finding must have one).
fn fixed(path: &str, kind: ArtifactKind, text: &str, rule: &str) -> String {
    let all = findings(path, kind, text);
    let f = all
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} in {text}"));
    let fix = f
        .fix
        .as_ref()
        .unwrap_or_else(|| panic!("{rule} has no fix"));
    apply_edits(text, &fix.edits).unwrap()
}

fn rules(path: &str, kind: ArtifactKind, text: &str) -> Vec<String> {
    findings(path, kind, text)
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

#[test]
fn dockerfile_user_is_the_editor_harden_uses() {
    // PITFALLS "Artifact scanners" 1: the builder's USER does not cover the final stage; the new
    // USER goes after the last build step of the final stage, before its run-time metadata.
    let text = "FROM golang:1.22 AS build\nUSER builder\nRUN go build -o /app .\n\nFROM debian:12.5\nCOPY --from=build /app /app\nRUN chown -R 10001 /srv\nEXPOSE 8080\nCMD [\"/app\"]\n";
    let out = fixed(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        text,
        "dockerfile-no-user",
    );
    assert_eq!(
        out,
        text.replace("EXPOSE 8080\n", "USER 10001:10001\nEXPOSE 8080\n")
    );
    assert_eq!(
        dockerfile::set_user(text, None, "10001:10001").unwrap(),
        Some(out.clone()),
        "harden's Dockerfile fixer writes the same"
    );
    assert!(!rules("Dockerfile", ArtifactKind::Dockerfile, &out)
        .contains(&"dockerfile-no-user".to_string()));
    // A root USER is replaced in place, trailing text kept.
    let text = "FROM alpine:3.20\nARG UID=0\nUSER ${UID}   \nCMD [\"sh\"]\n";
    let out = fixed(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        text,
        "dockerfile-root-final-stage",
    );
    assert_eq!(out, text.replace("USER ${UID}   ", "USER 10001:10001   "));
}

#[test]
fn dockerfile_healthcheck_probes_the_exposed_port() {
    let text = "FROM nginx:1.25\nCOPY site /usr/share/nginx/html\nUSER 10001\nEXPOSE 80\n";
    let out = fixed(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        text,
        "dockerfile-healthcheck-missing",
    );
    assert_eq!(
        out,
        "FROM nginx:1.25\nCOPY site /usr/share/nginx/html\nUSER 10001\nHEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD nc -z 127.0.0.1 80 || exit 1\nEXPOSE 80\n"
    );
    assert_eq!(
        dockerfile::add_healthcheck(text, None, "nc -z 127.0.0.1 80 || exit 1").unwrap(),
        Some(out)
    );
    // Without a port nothing says what to probe: the finding has no fix.
    let none = findings(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM alpine:3.20\nUSER 10001\n",
    );
    let f = none
        .iter()
        .find(|f| f.rule == "dockerfile-healthcheck-missing")
        .unwrap();
    assert!(f.fix.is_none());
}

#[test]
fn kubernetes_security_context_is_written_as_a_block_and_comments_survive() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web  # the shop\nspec:\n  template:\n    spec:\n      containers:\n        - name: app   # main\n          image: shop:1.4\n          # ports follow\n          ports:\n            - containerPort: 8080\n";
    let once = fixed(
        "deploy.yaml",
        ArtifactKind::Kubernetes,
        text,
        "k8s-privilege-escalation",
    );
    assert_eq!(
        once,
        text.replace(
            "            - containerPort: 8080\n",
            "            - containerPort: 8080\n          securityContext:\n            allowPrivilegeEscalation: false\n"
        )
    );
    // The next fix, computed on the fixed text, joins the securityContext it created.
    let twice = fixed(
        "deploy.yaml",
        ArtifactKind::Kubernetes,
        &once,
        "k8s-writable-root-fs",
    );
    assert!(
        twice.ends_with("          securityContext:\n            allowPrivilegeEscalation: false\n            readOnlyRootFilesystem: true\n"),
        "{twice}"
    );
    assert!(twice.contains("  name: web  # the shop\n") && twice.contains("# ports follow"));
    let left = rules("deploy.yaml", ArtifactKind::Kubernetes, &twice);
    assert!(!left.contains(&"k8s-privilege-escalation".to_string()));
    assert!(!left.contains(&"k8s-writable-root-fs".to_string()));
    // A value written as a YAML 1.1 boolean is replaced in place.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: yes   # debug\n  containers:\n  - name: c\n    image: x:1\n";
    assert_eq!(
        fixed("pod.yaml", ArtifactKind::Kubernetes, text, "k8s-host-pid"),
        text.replace("hostPID: yes", "hostPID: false")
    );
}

#[test]
fn compose_no_new_privileges_is_added_to_an_existing_list() {
    // The list already holds another option: the option is appended, the rest stays.
    let text = "services:\n  web:\n    image: nginx:1.25\n    security_opt:\n      - apparmor=docker-default\n    ports:\n      - \"8080:80\"\n";
    let out = fixed(
        "compose.yaml",
        ArtifactKind::Compose,
        text,
        "compose-no-new-privileges",
    );
    assert_eq!(
        out,
        text.replace(
            "      - apparmor=docker-default\n",
            "      - apparmor=docker-default\n      - no-new-privileges:true\n"
        )
    );
    let sp = compose::no_new_privileges(text, "web").unwrap().unwrap();
    assert_eq!(
        sp.apply(text),
        out,
        "harden's compose patch writes the same"
    );
    let out = fixed(
        "compose.yaml",
        ArtifactKind::Compose,
        text,
        "compose-read-only",
    );
    assert_eq!(
        out,
        yaml::set(
            text,
            0,
            &[yaml::Seg::Key("services"), yaml::Seg::Key("web")],
            "read_only",
            &json!(true)
        )
        .unwrap()
    );
    assert!(
        out.ends_with("      - \"8080:80\"\n    read_only: true\n"),
        "{out}"
    );
}

#[test]
fn daemon_json_keys_follow_the_files_layout() {
    // Four-space indentation and CRLF line ends are the file's; the key goes after the last one.
    let text = "{\r\n    \"icc\": false,\r\n    \"log-driver\": \"journald\"\r\n}\r\n";
    let out = fixed(
        "daemon.json",
        ArtifactKind::DaemonJson,
        text,
        "daemon-live-restore",
    );
    assert_eq!(
        out,
        "{\r\n    \"icc\": false,\r\n    \"log-driver\": \"journald\",\r\n    \"live-restore\": true\r\n}\r\n"
    );
    assert_eq!(
        json::set(text, &["live-restore"], &json!(true)).unwrap(),
        out
    );
}
