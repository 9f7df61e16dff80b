//! Behaviour of `bulkhead scan` on real files: each test names the pitfall or point of the
//! issue it covers and would fail on the reference tools' behaviour.

use bulkhead_scan::{
    apply_edits, scan_inputs, scan_paths, ArtifactKind, Baseline, Config, Input, ScanOptions,
    ScanReport, SuppressionProblem, SuppressionSource,
};
use std::path::PathBuf;

mod common;
use common::printed_fields;

fn scan(path: &str, kind: ArtifactKind, text: &str) -> ScanReport {
    scan_with(path, kind, text, &ScanOptions::default())
}

fn scan_with(path: &str, kind: ArtifactKind, text: &str, opts: &ScanOptions) -> ScanReport {
    scan_inputs(
        &[Input {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
            kind: Some(kind),
        }],
        opts,
    )
}

/// (rule, line) of every finding.
fn hits(r: &ScanReport) -> Vec<(String, u32)> {
    r.findings
        .iter()
        .map(|f| (f.rule.clone(), f.location.line))
        .collect()
}

fn has(r: &ScanReport, rule: &str) -> bool {
    r.findings.iter().any(|f| f.rule == rule)
}

fn lines_of(r: &ScanReport, rule: &str) -> Vec<u32> {
    r.findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.location.line)
        .collect()
}

const BUILDER_USER: &str = "FROM golang:1.22 AS build\nUSER builder\nRUN go build -o /app .\n\nFROM debian:12.5\nCOPY --from=build /app /app\nCMD [\"/app\"]\n";

#[test]
fn pitfall_builder_user_does_not_hide_root_final_stage() {
    // PITFALLS "Artifact scanners" 1: hadolint, Checkov and Trivy pass this file.
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, BUILDER_USER);
    assert_eq!(
        lines_of(&r, "dockerfile-no-user"),
        vec![5],
        "{:?}",
        hits(&r)
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-no-user")
        .unwrap();
    assert!(f.message.contains("stage 0 (build)"), "{}", f.message);
    assert_eq!(f.control.as_deref(), Some("docker.image.non_root_user"));
    assert_eq!(
        f.benchmark_refs.get("cis-docker-1.6.0").map(String::as_str),
        Some("4.1")
    );
    // --target build: that stage has a USER, so no finding
    let opts = ScanOptions {
        target: Some("build".into()),
        ..ScanOptions::default()
    };
    let r = scan_with("Dockerfile", ArtifactKind::Dockerfile, BUILDER_USER, &opts);
    assert!(!has(&r, "dockerfile-no-user"), "{:?}", hits(&r));
}

#[test]
fn pitfall_root_in_builder_stage_is_not_a_finding_but_root_in_final_is() {
    let ok = "FROM alpine:3.19 AS build\nUSER root\nRUN make\nFROM alpine:3.19\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, ok);
    assert!(
        !has(&r, "dockerfile-root-final-stage") && !has(&r, "dockerfile-no-user"),
        "{:?}",
        hits(&r)
    );
    let bad = "FROM alpine:3.19 AS build\nUSER app\nFROM alpine:3.19\nUSER 0:0\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, bad);
    // PITFALLS CIS Docker 16: 0:0 is root.
    assert_eq!(lines_of(&r, "dockerfile-root-final-stage"), vec![4]);
}

#[test]
fn pitfall_user_from_build_arg_is_resolved() {
    // PITFALLS "Artifact scanners" 1: `USER ${ARG}` is never resolved by the references.
    let root = "FROM alpine:3.19\nARG RUN_AS=root\nUSER ${RUN_AS}\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, root);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-root-final-stage")
        .expect("root via ARG");
    assert!(f.message.contains("resolves to root"), "{}", f.message);
    let non_root = "FROM alpine:3.19\nARG RUN_AS=10001\nUSER ${RUN_AS}\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, non_root);
    assert!(!has(&r, "dockerfile-root-final-stage") && !has(&r, "dockerfile-no-user"));
}

/// A global ARG (declared before the first FROM) is not visible in a stage that does not
/// declare it again: `ARG APP_UID=10001` then `USER ${APP_UID}` builds an image whose USER is
/// empty, which is root. The USER used to count as "unknown" and nothing was reported, not even
/// `dockerfile-no-user`.
#[test]
fn user_from_a_global_arg_the_stage_does_not_declare_is_root() {
    for (text, line) in [
        ("ARG APP_UID=10001\nFROM alpine:3.19\nUSER ${APP_UID}\n", 3),
        ("ARG APP_UID=10001\nFROM alpine:3.19\nRUN true\nUSER $APP_UID\n", 4),
        // a builder stage that declares it does not declare it for the final stage
        (
            "ARG UID=10001\nFROM alpine:3.19 AS build\nARG UID\nUSER $UID\nFROM alpine:3.19\nUSER $UID\n",
            6,
        ),
    ] {
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == "dockerfile-root-final-stage")
            .unwrap_or_else(|| panic!("{text}: {:?}", hits(&r)));
        assert_eq!(f.location.line, line, "{text}");
        assert!(
            f.message.contains("declared before the first FROM")
                && f.message.contains("add ARG ")
                && f.message.contains("root"),
            "{}",
            f.message
        );
        assert!(f.fix.is_some(), "{text}");
        assert!(!has(&r, "dockerfile-no-user"), "{text}: {:?}", hits(&r));
    }
    // Declared again in the stage (or in the stage it builds on): the global default applies.
    for text in [
        "ARG APP_UID=10001\nFROM alpine:3.19\nARG APP_UID\nUSER ${APP_UID}\n",
        "ARG APP_UID=10001\nFROM alpine:3.19 AS base\nARG APP_UID\nFROM base\nUSER ${APP_UID}\n",
        // a USER that expands to a non-root name without the variable
        "ARG SUFFIX=x\nFROM alpine:3.19\nUSER app${SUFFIX}\n",
        // a build argument without any default: unknown, not judged
        "FROM alpine:3.19\nARG APP_UID\nUSER ${APP_UID}\n",
    ] {
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
        assert!(
            !has(&r, "dockerfile-root-final-stage") && !has(&r, "dockerfile-no-user"),
            "{text}: {:?}",
            hits(&r)
        );
    }
}

/// `ContainerAdministrator` is the administrator account of Windows containers, root's
/// equivalent, and Windows has no numeric uids: the USER fixes of a Windows stage write
/// `ContainerUser`, never `10001:10001` (which the container would fail to start with).
#[test]
fn windows_administrator_user_is_root_and_the_fix_writes_a_windows_account() {
    let text = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN echo hi\nUSER ContainerAdministrator\nCMD [\"app.exe\"]\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-root-final-stage")
        .unwrap_or_else(|| panic!("{:?}", hits(&r)));
    assert_eq!(f.location.line, 3);
    assert!(f.message.contains("administrator"), "{}", f.message);
    let fix = f.fix.as_ref().expect("a fix");
    assert!(
        fix.description.contains("ContainerUser"),
        "{}",
        fix.description
    );
    let fixed = apply_edits(text, &fix.edits).unwrap();
    assert!(fixed.contains("\nUSER ContainerUser\n"), "{fixed}");
    assert!(!fixed.contains("10001"), "{fixed}");
    // no USER at all: the added USER is a Windows account too
    let text = "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022\nCOPY app.exe /app.exe\nCMD [\"app.exe\"]\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-no-user")
        .unwrap_or_else(|| panic!("{:?}", hits(&r)));
    let fix = f.fix.as_ref().expect("a fix");
    let fixed = apply_edits(text, &fix.edits).unwrap();
    assert!(fixed.contains("USER ContainerUser\n"), "{fixed}");
    assert!(
        !fixed.contains("10001") && !fix.description.contains("10001"),
        "{}",
        fix.description
    );
    // On Linux the name is just a name (and the fix stays a uid).
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM alpine:3.19\nUSER ContainerAdministrator\n",
    );
    assert!(!has(&r, "dockerfile-root-final-stage"), "{:?}", hits(&r));
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM alpine:3.19\nUSER root\n",
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-root-final-stage")
        .unwrap();
    assert!(f.fix.as_ref().unwrap().description.contains("uid 10001"));
}

#[test]
fn pitfall_heredocs_keep_line_numbers() {
    // PITFALLS "Artifact scanners" 2: heredocs break hadolint's parser and Checkov's lines.
    let text = "FROM alpine:3.19\nRUN <<EOF\nset -e\napk add --no-cache curl=8.5.0-r0\nADD is just text here\nEOF\nADD app.conf /etc/app.conf\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-add-instead-of-copy"),
        vec![7],
        "{:?}",
        hits(&r)
    );
    let fix = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-add-instead-of-copy")
        .unwrap()
        .fix
        .clone()
        .unwrap();
    let fixed = apply_edits(text, &fix.edits).unwrap();
    assert!(fixed.contains("COPY app.conf /etc/app.conf"));
    assert!(
        fixed.contains("ADD is just text here"),
        "heredoc body untouched"
    );
}

#[test]
fn pitfall_kind_list_is_scanned() {
    // PITFALLS "Artifact scanners" 3: Trivy returns nothing for `kind: List`.
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, namespace: team}\n  spec:\n    containers:\n    - name: c\n      image: nginx:1.25\n      securityContext: {privileged: true}\n";
    let r = scan("dump.yaml", ArtifactKind::Kubernetes, text);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "k8s-privileged")
        .expect("privileged in List item");
    assert_eq!(f.location.line, 11);
    assert_eq!(f.object, "Pod/team/p container c");
    assert_eq!(
        f.benchmark_refs.get("pss").map(String::as_str),
        Some("baseline")
    );
}

#[test]
fn pitfall_effective_security_context_per_container() {
    // PITFALLS "Artifact scanners" 4: the container setting overrides the pod's, for init and
    // ephemeral containers too.
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n      initContainers:\n      - name: init\n        image: busybox:1.36\n        securityContext:\n          runAsNonRoot: false\n      containers:\n      - name: app\n        image: nginx:1.25\n      ephemeralContainers:\n      - name: debug\n        image: busybox:1.36\n        securityContext:\n          runAsUser: 0\n";
    let r = scan("deploy.yaml", ArtifactKind::Kubernetes, text);
    let objs: Vec<(&str, u32)> = r
        .findings
        .iter()
        .filter(|f| f.rule == "k8s-run-as-root")
        .map(|f| (f.object.as_str(), f.location.line))
        .collect();
    assert_eq!(
        objs,
        vec![
            ("Deployment/prod/web initContainer init", 13),
            ("Deployment/prod/web ephemeralContainer debug", 21)
        ],
        "app inherits runAsNonRoot: true from the pod and must not be reported"
    );
}

#[test]
fn pitfall_containerd_socket_and_compose_and_daemon_json() {
    // PITFALLS "Artifact scanners" 5: containerd.sock, compose files and daemon.json.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: x:1}]\n  volumes:\n  - name: sock\n    hostPath: {path: /run/containerd/containerd.sock}\n";
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, pod);
    assert_eq!(lines_of(&r, "k8s-runtime-socket"), vec![8]);
    assert!(!has(&r, "k8s-host-path"), "reported once, as the socket");
    let compose = "services:\n  ci:\n    image: docker:27.1\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n      - /etc/ssl:/etc/ssl:ro\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, compose);
    assert_eq!(lines_of(&r, "compose-runtime-socket"), vec![5]);
    // PITFALLS CIS Docker 11: a subdirectory of /etc is sensitive too.
    assert_eq!(lines_of(&r, "compose-sensitive-mount"), vec![6]);
    let daemon = "{\n  \"icc\": true,\n  \"hosts\": [\"tcp://0.0.0.0:2376\"],\n  \"tlsverify\": true,\n  \"tlscacert\": \"/ca.pem\",\n  \"tlscert\": \"/c.pem\",\n  \"tlskey\": \"/k.pem\"\n}\n";
    let r = scan("daemon.json", ArtifactKind::DaemonJson, daemon);
    assert_eq!(lines_of(&r, "daemon-icc"), vec![2]);
    // PITFALLS CIS Docker 2: TLS settings in daemon.json count.
    assert!(!has(&r, "daemon-tcp-no-tls"), "{:?}", hits(&r));
    let r = scan(
        "daemon.json",
        ArtifactKind::DaemonJson,
        "{\"hosts\": [\"tcp://0.0.0.0:2375\"]}",
    );
    assert!(has(&r, "daemon-tcp-no-tls"));
}

/// daemon.json is decoded into typed fields: a quoted boolean is a file dockerd refuses to start
/// with, reported as written (not as the default it would otherwise read as); the log level is
/// read without regard to case, as dockerd reads it.
#[test]
fn daemon_json_values_are_judged_as_dockerd_decodes_them() {
    let r = scan(
        "daemon.json",
        ArtifactKind::DaemonJson,
        "{\n  \"icc\": \"false\",\n  \"live-restore\": \"true\",\n  \"iptables\": \"false\",\n  \"log-level\": \"INFO\"\n}\n",
    );
    let message = |rule: &str| {
        r.findings
            .iter()
            .find(|f| f.rule == rule)
            .map(|f| (f.location.line, f.message.clone()))
            .unwrap_or_else(|| panic!("no {rule} in {:?}", hits(&r)))
    };
    assert_eq!(
        message("daemon-icc"),
        (
            2,
            "\"icc\": \"false\" is not a JSON boolean: dockerd refuses to start with this file"
                .to_string()
        )
    );
    assert_eq!(message("daemon-live-restore").0, 3);
    assert!(message("daemon-live-restore")
        .1
        .contains("\"true\" is not a JSON boolean"));
    assert_eq!(message("daemon-iptables").0, 4);
    assert!(!has(&r, "daemon-log-level"), "{:?}", hits(&r));
}

/// The daemon-icc finding on `text`, if any: (line, message, the text after its fix).
fn icc_finding(text: &str) -> Option<(u32, String, Option<String>)> {
    let r = scan("daemon.json", ArtifactKind::DaemonJson, text);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let f = r.findings.iter().find(|f| f.rule == "daemon-icc")?;
    let fixed = f.fix.as_ref().map(|x| apply_edits(text, &x.edits).unwrap());
    Some((f.location.line, f.message.clone(), fixed))
}

/// The fix of the `rule` finding on the daemon.json `text`, when there is such a finding (it must
/// carry a fix).
fn daemon_fix(text: &str, rule: &str) -> Option<bulkhead_scan::Fix> {
    let r = scan("daemon.json", ArtifactKind::DaemonJson, text);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let f = r.findings.iter().find(|f| f.rule == rule)?;
    Some(f.fix.clone().expect("a fix"))
}

/// The top-level members of a daemon.json text (it must be JSON).
fn members(text: &str) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str::<serde_json::Value>(text)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
        .as_object()
        .cloned()
        .unwrap()
}

/// dockerd refuses to start with `"icc": false` while it may not manage iptables ("You specified
/// --iptables=false with --icc=false. ICC=false uses iptables to function"), whatever `bridge`
/// says: daemon-icc judges icc together with the file's iptables, and its fix never writes that
/// combination. With the default bridge disabled (`"bridge": "none"`) icc has nothing to act on,
/// as the host check 2.2 says (not applicable), so leaving it on is no finding.
#[test]
fn daemon_icc_is_judged_together_with_iptables_and_bridge() {
    // icc off with iptables off: the file does not start.
    let (line, msg, fixed) =
        icc_finding("{\n  \"icc\": false,\n  \"iptables\": false\n}\n").expect("daemon-icc");
    assert_eq!(line, 2);
    assert!(msg.contains("dockerd refuses to start"), "{msg}");
    assert!(msg.contains("\"iptables\": true"), "{msg}");
    assert_eq!(
        fixed.as_deref(),
        Some("{\n  \"icc\": false,\n  \"iptables\": true\n}\n")
    );
    // The same with the default bridge disabled: dockerd still refuses it.
    let (_, msg, fixed) =
        icc_finding("{\"bridge\": \"none\", \"icc\": false, \"iptables\": false}")
            .expect("daemon-icc with bridge none");
    assert!(msg.contains("dockerd refuses to start"), "{msg}");
    assert_eq!(
        fixed.as_deref(),
        Some("{\"bridge\": \"none\", \"icc\": false, \"iptables\": true}")
    );

    // icc left on (unset, true, or not a boolean) with iptables off: the fix turns icc off and
    // iptables back on, in one fix.
    for (text, line) in [
        ("{\n  \"iptables\": false\n}\n", 1),
        (
            "{\n  \"iptables\": false,\n  \"log-driver\": \"journald\"\n}\n",
            1,
        ),
        ("{\n  \"icc\": true,\n  \"iptables\": false\n}\n", 2),
        ("{\n  \"iptables\": false,\n  \"icc\": \"true\"\n}\n", 3),
        ("{\"iptables\": false}", 1),
        // Not a boolean: dockerd refuses the file for the type; the fix still writes a file
        // that starts.
        ("{\"iptables\": \"false\"}", 1),
    ] {
        let (l, _, fixed) = icc_finding(text).unwrap_or_else(|| panic!("no daemon-icc: {text}"));
        assert_eq!(l, line, "{text}");
        let fixed = fixed.unwrap_or_else(|| panic!("no fix: {text}"));
        let m = members(&fixed);
        assert_eq!(m.get("icc"), Some(&serde_json::json!(false)), "{fixed}");
        assert_eq!(m.get("iptables"), Some(&serde_json::json!(true)), "{fixed}");
        assert_eq!(fixed.matches("\"iptables\"").count(), 1, "{fixed}");
        assert!(icc_finding(&fixed).is_none(), "{fixed}");
    }
    let fix = daemon_fix(
        "{\n  \"icc\": true,\n  \"iptables\": false\n}\n",
        "daemon-icc",
    )
    .unwrap();
    assert_eq!(fix.description, "set \"icc\": false and \"iptables\": true");
    assert_eq!(fix.safety, bulkhead_scan::Safety::Review);
    assert_eq!(fix.edits.len(), 2);

    // The default bridge disabled: icc is moot, whatever it says.
    for text in [
        "{\"bridge\": \"none\"}",
        "{\"bridge\": \"none\", \"icc\": true}",
        "{\"bridge\": \"none\", \"iptables\": false}",
    ] {
        assert!(icc_finding(text).is_none(), "{text}");
    }

    // The ordinary cases are unchanged: icc alone, fixed alone.
    for (text, line, after) in [
        ("{\n  \"icc\": true\n}\n", 2, "{\n  \"icc\": false\n}\n"),
        ("{}\n", 1, "{\n  \"icc\": false\n}\n"),
        (
            "{\"iptables\": true, \"icc\": true}",
            1,
            "{\"iptables\": true, \"icc\": false}",
        ),
        (
            "{\"bridge\": \"docker1\"}",
            1,
            "{\"bridge\": \"docker1\", \"icc\": false}",
        ),
    ] {
        let (l, msg, fixed) = icc_finding(text).unwrap_or_else(|| panic!("no daemon-icc: {text}"));
        assert_eq!((l, fixed.as_deref()), (line, Some(after)), "{text}");
        assert!(!msg.contains("refuses"), "{msg}");
    }
    let fix = daemon_fix("{\"icc\": true}", "daemon-icc").unwrap();
    assert_eq!(fix.description, "set \"icc\": false");
    assert_eq!(fix.edits.len(), 1);
    for text in [
        "{\"icc\": false}",
        "{\"icc\": false, \"iptables\": true}",
        // iptables not a boolean is daemon-iptables' finding (the file is refused for its type).
        "{\"icc\": false, \"iptables\": \"false\"}",
    ] {
        assert!(icc_finding(text).is_none(), "{text}");
    }
}

#[test]
fn compose_booleans_are_read_like_compose_go() {
    let r = scan("compose.yaml", ArtifactKind::Compose, "services:\n  a:\n    image: x:1\n    privileged: \"yes\"\n  b:\n    image: x:1\n    privileged: \"no\"\n");
    let objs: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.rule == "compose-privileged")
        .map(|f| f.object.as_str())
        .collect();
    assert_eq!(objs, vec!["service a"]);
}

/// Docker reads the host IP of a short-syntax port as everything before the last two fields, so
/// an unbracketed IPv6 address is an address, not "every interface" (and `:::53:53` is `::`).
#[test]
fn compose_unbracketed_ipv6_ports_are_judged_by_their_address() {
    let text = "services:\n  web:\n    image: x:1\n    ports:\n      - \"::1:9090:9090\"\n      - \"[::1]:9091:9091\"\n      - \":::53:53/udp\"\n      - \"8080:80\"\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, text);
    assert_eq!(lines_of(&r, "compose-port-all-interfaces"), vec![7, 8]);
}

/// CIS Docker 5.18 (5.17 in 1.2.0) for compose: host devices in short and long syntax, with the
/// permissions Docker gives when none are written (rwm); a CDI device name has no host path.
#[test]
fn compose_host_devices_are_reported_with_their_permissions() {
    let text = "services:\n  app:\n    image: x:1\n    devices:\n      - /dev/mem:/dev/mem\n      - \"/dev/ttyUSB0:/dev/ttyUSB0:r\"\n      - type: bind\n        source: /dev/sda\n        target: /dev/xvda\n        permissions: rw\n      - nvidia.com/gpu=all\n  quiet:\n    image: x:1\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, text);
    let found: Vec<(u32, String, String)> = r
        .findings
        .iter()
        .filter(|f| f.rule == "compose-host-devices")
        .map(|f| (f.location.line, f.object.clone(), f.message.clone()))
        .collect();
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_eq!(found[0].0, 5);
    assert!(
        found[0].2.contains("/dev/mem")
            && found[0].2.contains("rwm")
            && found[0].2.contains("physical memory"),
        "{}",
        found[0].2
    );
    assert_eq!(found[1].0, 6);
    assert!(
        found[1]
            .2
            .contains("/dev/ttyUSB0 is passed into the service with permissions r"),
        "{}",
        found[1].2
    );
    assert!(!found[1].2.contains("block device"), "{}", found[1].2);
    assert_eq!(found[2].0, 7);
    assert!(
        found[2].2.contains("/dev/sda")
            && found[2].2.contains("permissions rw")
            && found[2].2.contains("block device"),
        "{}",
        found[2].2
    );
    assert!(found.iter().all(|f| f.1 == "service app"));
}

#[test]
fn compose_user_from_a_variable_default_is_resolved_without_reading_the_environment() {
    let compose = "services:\n  b:\n    image: alpine:3.19\n    user: \"${APP_UID:-0}\"\n  c:\n    image: alpine:3.19\n    user: \"${HOME-0}:${GID:-0}\"\n  d:\n    image: alpine:3.19\n    user: \"${APP_UID}\"\n  e:\n    image: alpine:3.19\n    user: \"${APP_UID:-10001}\"\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, compose);
    assert_eq!(
        lines_of(&r, "compose-user-root"),
        vec![4, 7],
        "{:?}",
        hits(&r)
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "compose-user-root" && f.location.line == 4)
        .unwrap();
    assert!(
        f.message.contains("${APP_UID:-0}") && f.message.contains("APP_UID is not set"),
        "{}",
        f.message
    );
    assert!(f.message.contains("default"), "{}", f.message);
    // HOME is set in this process; the scanner still treats it as unset.
    assert!(std::env::var("HOME").is_ok());
    let c = r
        .findings
        .iter()
        .find(|f| f.rule == "compose-user-root" && f.location.line == 7)
        .unwrap();
    assert!(c.message.contains("HOME, GID"), "{}", c.message);
    assert!(f.fix.is_some());
}

#[test]
fn compose_variable_defaults_are_resolved_in_every_setting_not_only_user() {
    // Compose substitutes `${VAR:-default}` in every value before it reads the setting, so with
    // the variables unset this service is privileged, on the host network and PID namespace,
    // and holds the Docker socket and the host's root directory.
    let compose = "services:\n  proxy:\n    image: traefik:v3.0\n    privileged: ${PRIVILEGED:-true}\n    network_mode: ${NET_MODE:-host}\n    pid: \"${PID_MODE-host}\"\n    volumes:\n      - ${DOCKER_SOCK:-/var/run/docker.sock}:/var/run/docker.sock:ro\n      - type: bind\n        source: ${HOST_ROOT:-/}\n        target: /host\n    ports:\n      - \"${BIND_ADDR:-0.0.0.0}:${SSH_PORT:-22}:22\"\n  keep:\n    image: alpine:3.19\n    privileged: ${PRIVILEGED}\n    network_mode: ${NET_MODE:+host}\n    pids_limit: $${PIDS}\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, compose);
    for (rule, line) in [
        ("compose-privileged", 4),
        ("compose-host-network", 5),
        ("compose-host-pid", 6),
        ("compose-runtime-socket", 8),
        ("compose-sensitive-mount", 9),
        ("compose-privileged-port", 13),
        ("compose-ssh-port", 13),
    ] {
        assert_eq!(lines_of(&r, rule), vec![line], "{rule}: {:?}", hits(&r));
    }
    // Findings and fixes point at the value as written.
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "compose-privileged")
        .unwrap();
    assert_eq!(f.snippet, "    privileged: ${PRIVILEGED:-true}");
    let fixed = apply_edits(compose, &f.fix.as_ref().unwrap().edits).unwrap();
    assert!(fixed.contains("    privileged: false\n"), "{fixed}");
    // A variable without a default is the deploying environment's to decide, `${VAR:+alt}` is
    // empty when VAR is unset, and `$$` is a literal dollar.
    assert!(
        r.findings.iter().all(|f| f.object != "service keep"
            || !["compose-privileged", "compose-host-network"].contains(&f.rule.as_str())),
        "{:?}",
        hits(&r)
    );
}

#[test]
fn kubernetes_pull_policy_considers_what_the_api_server_defaults() {
    let containers = [
        ("a", "nginx:1.25", None),   // unset -> IfNotPresent: finding
        ("b", "nginx:latest", None), // unset -> Always
        ("c", "nginx", None),        // unset -> Always
        (
            "d",
            "nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            None,
        ), // pinned
        ("e", "nginx:1.25", Some("IfNotPresent")), // explicit: finding
        ("f", "nginx:1.25", Some("Always")),
        ("g", "nginx:latest", Some("Never")), // explicit: finding
        ("h", "registry.example.com:5000/app:2", None), // a port is no tag: finding
    ];
    let mut text =
        String::from("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n");
    for (name, image, policy) in containers {
        text.push_str(&format!("  - name: {name}\n    image: \"{image}\"\n"));
        if let Some(p) = policy {
            text.push_str(&format!("    imagePullPolicy: {p}\n"));
        }
    }
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, &text);
    let flagged: Vec<String> = r
        .findings
        .iter()
        .filter(|f| f.rule == "k8s-image-pull-policy")
        .map(|f| f.object.rsplit(' ').next().unwrap_or("").to_string())
        .collect();
    assert_eq!(flagged, vec!["a", "e", "g", "h"], "{:?}", hits(&r));
    let a = r
        .findings
        .iter()
        .find(|f| f.rule == "k8s-image-pull-policy" && f.object.ends_with(" a"))
        .unwrap();
    assert!(
        a.message.contains("not set") && a.message.contains("IfNotPresent"),
        "{}",
        a.message
    );
}

#[test]
fn kubernetes_reads_yaml_1_1_booleans() {
    // sigs.k8s.io/yaml decodes with go-yaml v2: `privileged: yes` IS true for the API server.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: yes\n  containers: [{name: c, image: x:1}]\n";
    let r = scan("p.yaml", ArtifactKind::Kubernetes, text);
    assert_eq!(lines_of(&r, "k8s-host-network"), vec![5]);
}

const SECRET: &str = "hunter2-Sup3r";

#[test]
fn secrets_are_detected_and_never_printed() {
    let df = format!("FROM alpine:3.19\nENV DB_PASSWORD={SECRET} APP=1\nUSER 10001\n");
    let compose = format!("services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: {SECRET}\n      - unused\n");
    let compose = compose.replace("      - unused\n", "");
    let k8s = format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    env:\n    - name: API_TOKEN\n      value: \"{SECRET}\"\n");
    let aws =
        "FROM alpine:3.19\nRUN curl -H 'x: AKIAABCDEFGHIJKLMNOP' https://example.invalid\nUSER 1\n";
    for (path, kind, text, rule) in [
        (
            "Dockerfile",
            ArtifactKind::Dockerfile,
            df.as_str(),
            "dockerfile-secret",
        ),
        (
            "compose.yaml",
            ArtifactKind::Compose,
            compose.as_str(),
            "compose-secret-env",
        ),
        (
            "pod.yaml",
            ArtifactKind::Kubernetes,
            k8s.as_str(),
            "k8s-env-secret",
        ),
        (
            "Dockerfile",
            ArtifactKind::Dockerfile,
            aws,
            "dockerfile-secret",
        ),
    ] {
        let r = scan(path, kind, text);
        assert!(has(&r, rule), "{path}: {:?}", hits(&r));
        let json = serde_json::to_string(&r).unwrap();
        assert!(
            !json.contains(SECRET),
            "{path}: secret value leaked: {json}"
        );
        assert!(!json.contains("AKIAABCDEFGHIJKLMNOP"), "{path}: key leaked");
        let f = r.findings.iter().find(|f| f.rule == rule).unwrap();
        assert!(
            f.snippet.contains("***"),
            "{path}: snippet not masked: {}",
            f.snippet
        );
    }
}

/// The reviewer's Dockerfile: credentials in commands, URLs and headers.
const RUN_SECRETS: &str = "FROM debian:12.5\nRUN curl -k -u admin:S3cr3tPassw0rd https://internal.example.com/artifact.tgz -o /a.tgz\nRUN curl -H \"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\" https://x | sh\nRUN pip install --index-url https://user:glpat-abcdefghij1234567890@gitlab.example.com/simple foo\nENV AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nADD https://user:pw123456@example.com/x.tgz /x\nARG GITHUB_TOKEN=ghp_1234567890abcdefghijklmnopqrstuvwxyzAB\nLABEL key=\"sk_live_abcdefghijklmnop1234\"\nRUN wget --password=wgetpw4321 https://example.com/x \\\n  && curl \\\n  --user ci:curlpw8765 https://example.com/y\nUSER 1000\n";

const RUN_SECRET_VALUES: &[&str] = &[
    "S3cr3tPassw0rd",
    "dozjgNryP4J3jVmNHl0w5N",
    "eyJzdWIiOiIxMjM0NTY3ODkwIn0",
    "glpat-abcdefghij1234567890",
    "pw123456",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_1234567890abcdefghijklmnopqrstuvwxyzAB",
    "sk_live_abcdefghijklmnop1234",
    "wgetpw4321",
    "curlpw8765",
    "pgpass9876",
];

fn assert_no_secret_values(what: &str, r: &ScanReport) {
    let json = serde_json::to_string(r).unwrap();
    for v in RUN_SECRET_VALUES {
        assert!(!json.contains(v), "{what}: {v} printed: {json}");
    }
}

#[test]
fn credentials_in_commands_and_urls_are_reported_once_and_masked() {
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, RUN_SECRETS);
    // one finding per instruction: ENV/ARG values that are both secret-named and a known token
    // format are not reported twice
    assert_eq!(
        lines_of(&r, "dockerfile-secret"),
        vec![2, 3, 4, 5, 6, 7, 8, 9],
        "{:?}",
        hits(&r)
    );
    let message = |line: u32| {
        r.findings
            .iter()
            .find(|f| f.rule == "dockerfile-secret" && f.location.line == line)
            .map(|f| f.message.clone())
            .unwrap()
    };
    assert_eq!(message(2), "RUN contains a password in a curl user option");
    assert_eq!(message(3), "RUN contains a JSON Web Token");
    assert_eq!(message(6), "ADD contains a password in a URL");
    assert_eq!(
        message(7),
        "ARG GITHUB_TOKEN holds a GitHub token; it is stored in the image"
    );
    assert_eq!(
        message(9),
        "RUN contains a password in a wget option and a password in a curl user option"
    );
    let snippet = |rule: &str, line: u32| {
        r.findings
            .iter()
            .find(|f| f.rule == rule && f.location.line == line)
            .map(|f| f.snippet.clone())
            .unwrap_or_else(|| panic!("{rule} {line}: {:?}", hits(&r)))
    };
    // what the masking keeps: the user, the host, the scheme
    assert!(snippet("dockerfile-tls-verification-disabled", 2)
        .contains("-u admin:*** https://internal.example.com/"));
    assert!(snippet("dockerfile-curl-pipe-shell", 3).contains("\"Authorization: Bearer ***\""));
    assert!(snippet("dockerfile-secret", 4).contains("https://user:***@gitlab.example.com/simple"));
    assert!(snippet("dockerfile-secret", 6).contains("ADD https://user:***@example.com/x.tgz /x"));
    assert!(snippet("dockerfile-secret", 9).contains("  --user ci:*** https://example.com/y"));
    assert_no_secret_values("Dockerfile", &r);

    // Masking does not depend on the secret rule: disabled, the other rules' snippets are
    // still masked.
    let opts = ScanOptions {
        config: Config::parse("[scan]\ndisable = [\"dockerfile-secret\"]\n").unwrap(),
        ..ScanOptions::default()
    };
    let r = scan_with("Dockerfile", ArtifactKind::Dockerfile, RUN_SECRETS, &opts);
    assert!(!has(&r, "dockerfile-secret"));
    assert!(has(&r, "dockerfile-tls-verification-disabled"));
    assert_no_secret_values("Dockerfile, secret rule disabled", &r);

    // Kubernetes and compose: a password in a URL value is a secret too.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg, namespace: shop}\ndata:\n  DATABASE_URL: postgres://app:pgpass9876@db:5432/app\n";
    let r = scan("cm.yaml", ArtifactKind::Kubernetes, cm);
    assert_eq!(
        lines_of(&r, "k8s-configmap-secret"),
        vec![5],
        "{:?}",
        hits(&r)
    );
    assert_eq!(
        snippet_of(&r, "k8s-configmap-secret"),
        "  DATABASE_URL: postgres://app:***@db:5432/app"
    );
    assert_no_secret_values("ConfigMap", &r);
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    env:\n    - name: DATABASE_URL\n      value: postgres://app:pgpass9876@db/app\n";
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, pod);
    assert_eq!(lines_of(&r, "k8s-env-secret"), vec![10], "{:?}", hits(&r));
    assert_no_secret_values("Pod", &r);
    let compose = "services:\n  app:\n    image: x:1\n    environment:\n      DATABASE_URL: postgres://app:pgpass9876@db/app\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, compose);
    assert_eq!(
        lines_of(&r, "compose-secret-env"),
        vec![5],
        "{:?}",
        hits(&r)
    );
    assert_no_secret_values("compose", &r);
}

/// Webhook URLs carry their credential in the path, signed URLs in the query. The variable's
/// name does not say it is secret (`webhook` names a setting), so the URL itself must: the
/// finding names the URL, and no output shows the token, while the host and the rest of the path
/// stay to say what it is. Ordinary URLs are neither findings nor masked.
#[test]
fn webhook_and_signed_urls_are_secrets_and_their_tokens_are_never_printed() {
    const TOKENS: &[&str] = &[
        "XXXXXXXXXXXXXXXXXXXXXXXX",
        "dIsCoRdToKeN-0123456789_abcdef",
        "TeamsKey0123456789",
        "SaSsIgNaTuRe",
        "k8sSlackToken0123456789",
        "composeHookToken0123",
    ];
    let df = "FROM alpine:3.20\nENV SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX\nRUN curl -fsS -H 'Content-Type: application/json' -d @msg.json \"https://discord.com/api/webhooks/123456789012345678/dIsCoRdToKeN-0123456789_abcdef\"\nLABEL alerts=\"https://contoso.webhook.office.com/webhookb2/a1b2@c3d4/IncomingWebhook/TeamsKey0123456789/e5f6\"\nADD https://acct.blob.core.windows.net/c/app.tgz?sv=2022-11-02&sp=r&sig=SaSsIgNaTuRe%3D /app.tgz\nENV REGISTRY_MIRROR=https://mirror.gcr.io DOCS=https://example.com/path/to/file\nADD https://example.com/releases/app.tgz?version=2 /app2.tgz\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, df);
    assert_eq!(
        lines_of(&r, "dockerfile-secret"),
        vec![2, 3, 4, 5],
        "{:?}",
        hits(&r)
    );
    let finding = |line: u32| {
        r.findings
            .iter()
            .find(|f| f.rule == "dockerfile-secret" && f.location.line == line)
            .unwrap()
    };
    assert_eq!(
        finding(2).message,
        "ENV SLACK_WEBHOOK holds a Slack webhook URL; it is stored in the image"
    );
    assert_eq!(
        finding(2).snippet,
        "ENV SLACK_WEBHOOK=https://hooks.slack.com/services/T00000000/B00000000/***"
    );
    assert_eq!(finding(3).message, "RUN contains a Discord webhook URL");
    assert!(finding(3)
        .snippet
        .contains("\"https://discord.com/api/webhooks/123456789012345678/***\""));
    assert_eq!(
        finding(4).message,
        "LABEL contains a Microsoft Teams webhook URL"
    );
    assert!(finding(4)
        .snippet
        .ends_with("/webhookb2/a1b2@c3d4/IncomingWebhook/***\""));
    assert_eq!(finding(5).message, "ADD contains a secret in a URL query");
    assert!(finding(5)
        .snippet
        .contains("app.tgz?sv=2022-11-02&sp=r&sig=*** /app.tgz"));
    // The snippets of the other rules on those lines are masked too.
    for f in r
        .findings
        .iter()
        .filter(|f| (2..=5).contains(&f.location.line))
    {
        assert!(f.snippet.contains("***"), "{}: {}", f.rule, f.snippet);
    }
    // Everything any output prints of a finding (the text format: place, rule, object, message,
    // snippet, fix; JSON and SARIF: the same fields) comes from the report.
    let json = serde_json::to_string(&r).unwrap();
    let text = printed_fields(&r);
    for out in [&json, &text] {
        for t in TOKENS {
            assert!(!out.contains(t), "{t} printed:\n{out}");
        }
        assert!(out.contains("https://hooks.slack.com/services/T00000000/B00000000/***"));
        assert!(
            out.contains("https://example.com/releases/app.tgz?version=2"),
            "{out}"
        );
    }

    // Compose and Kubernetes environments: a webhook URL is a secret value there too.
    let compose = "services:\n  app:\n    image: app:1.0\n    environment:\n      ALERT_WEBHOOK: https://hooks.slack.com/services/T1/B2/composeHookToken0123\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, compose);
    assert_eq!(
        lines_of(&r, "compose-secret-env"),
        vec![5],
        "{:?}",
        hits(&r)
    );
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    env:\n    - name: SLACK_WEBHOOK_URL\n      value: https://hooks.slack.com/services/T1/B2/k8sSlackToken0123456789\n";
    let k = scan("pod.yaml", ArtifactKind::Kubernetes, pod);
    assert_eq!(lines_of(&k, "k8s-env-secret"), vec![10], "{:?}", hits(&k));
    for out in [
        serde_json::to_string(&r).unwrap(),
        serde_json::to_string(&k).unwrap(),
    ] {
        for t in TOKENS {
            assert!(!out.contains(t), "{t} printed:\n{out}");
        }
    }
}

/// The reviewer's Dockerfiles: passwords given on the command line of programs that take one
/// (`docker login -p`, `mysql -pPASS`, `sshpass -p`, `htpasswd -b`, a netrc entry). Each is a
/// secret finding, and no output shows it, whether or not the secret rule runs: the masking
/// keeps the option and masks the value. Look-alikes that hold no password (`docker run -p
/// 8080:80`, `mysql -p` that prompts, `ssh -p 22`) are neither findings nor masked.
const PROGRAM_PASSWORDS: &str = "FROM alpine:3.19\nRUN docker login -u me -p Dock3rPass reg.example.com | tee /x\nRUN docker login --password Dock3rPass reg | cat\nRUN mysql -uroot -pMyPassw0rd123 -e \"select 1\" | tee /x\nRUN mysql --password=MyPass123 x | cat\nRUN sshpass -p Hunter2Pass ssh -p 22 x | tee y\nRUN htpasswd -b -c /x admin Adm1nPass | cat\nRUN echo \"machine x login u password Pa55word99\" > ~/.netrc | cat\nRUN docker run -p 8080:80 nginx | cat && mysql -u root -p shop | cat\nUSER 1\nCMD [\"x\"]\n";

const PROGRAM_PASSWORD_VALUES: &[&str] = &[
    "Dock3rPass",
    "MyPassw0rd123",
    "MyPass123",
    "Hunter2Pass",
    "Adm1nPass",
    "Pa55word99",
];

#[test]
fn passwords_given_to_programs_on_their_command_line_are_never_printed() {
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, PROGRAM_PASSWORDS);
    assert_eq!(
        lines_of(&r, "dockerfile-secret"),
        vec![2, 3, 4, 5, 6, 7, 8],
        "{:?}",
        hits(&r)
    );
    let finding = |rule: &str, line: u32| {
        r.findings
            .iter()
            .find(|f| f.rule == rule && f.location.line == line)
            .unwrap_or_else(|| panic!("{rule} {line}: {:?}", hits(&r)))
    };
    assert_eq!(
        finding("dockerfile-secret", 2).message,
        "RUN contains a password given to a registry login"
    );
    assert_eq!(
        finding("dockerfile-secret", 4).message,
        "RUN contains a password in a MySQL client option"
    );
    assert_eq!(
        finding("dockerfile-secret", 6).message,
        "RUN contains a password given to sshpass"
    );
    assert_eq!(
        finding("dockerfile-secret", 7).message,
        "RUN contains a password given to htpasswd"
    );
    assert_eq!(
        finding("dockerfile-secret", 8).message,
        "RUN contains a password in netrc content"
    );
    // The option stays, the value goes; the look-alikes stay as written.
    for (line, shown) in [
        (2, "RUN docker login -u me -p *** reg.example.com | tee /x"),
        (3, "RUN docker login --password *** reg | cat"),
        (4, "RUN mysql -uroot -p*** -e \"select 1\" | tee /x"),
        (5, "RUN mysql --password=*** x | cat"),
        (6, "RUN sshpass -p *** ssh -p 22 x | tee y"),
        (7, "RUN htpasswd -b -c /x admin *** | cat"),
        (
            8,
            "RUN echo \"machine x login u password ***\" > ~/.netrc | cat",
        ),
        (
            9,
            "RUN docker run -p 8080:80 nginx | cat && mysql -u root -p shop | cat",
        ),
    ] {
        assert_eq!(finding("dockerfile-pipefail", line).snippet, shown);
    }
    assert_eq!(
        finding("dockerfile-secret", 2).snippet,
        "RUN docker login -u me -p *** reg.example.com | tee /x"
    );
    // Every output format prints fields of the report (JSON, SARIF, JUnit, GitHub annotations
    // and the text format: place, rule, object, message, snippet, fix), and a baseline is made
    // from the findings.
    let outputs = |r: &ScanReport| {
        [
            serde_json::to_string(r).unwrap(),
            printed_fields(r),
            Baseline::render(&r.findings),
        ]
    };
    for out in outputs(&r) {
        for v in PROGRAM_PASSWORD_VALUES {
            assert!(!out.contains(v), "{v} printed:\n{out}");
        }
    }
    // The masking does not depend on the secret rule.
    let opts = ScanOptions {
        config: Config::parse("[scan]\ndisable = [\"dockerfile-secret\"]\n").unwrap(),
        ..ScanOptions::default()
    };
    let r = scan_with(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        PROGRAM_PASSWORDS,
        &opts,
    );
    assert!(!has(&r, "dockerfile-secret"));
    assert_eq!(
        lines_of(&r, "dockerfile-pipefail").len(),
        8,
        "{:?}",
        hits(&r)
    );
    for out in outputs(&r) {
        for v in PROGRAM_PASSWORD_VALUES {
            assert!(!out.contains(v), "{v} printed:\n{out}");
        }
    }
}

fn snippet_of(r: &ScanReport, rule: &str) -> String {
    r.findings
        .iter()
        .find(|f| f.rule == rule)
        .map(|f| f.snippet.clone())
        .unwrap()
}

#[test]
fn env_secret_literal_is_high_and_reading_a_secret_is_low_advice() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    env:\n    - name: DB_PASSWORD\n      value: \"literalpw12345\"\n    - name: API_TOKEN\n      valueFrom:\n        secretKeyRef: {name: api, key: token}\n    - name: MODE\n      valueFrom:\n        configMapKeyRef: {name: cfg, key: mode}\n    envFrom:\n    - secretRef: {name: all-of-it}\n    - configMapRef: {name: cfg}\n";
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, pod);
    let sev = |rule: &str| {
        r.findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| (f.location.line, f.severity))
            .collect::<Vec<_>>()
    };
    use bulkhead_scan::Severity;
    assert_eq!(
        sev("k8s-env-secret"),
        vec![(10, Severity::High)],
        "{:?}",
        hits(&r)
    );
    assert_eq!(
        sev("k8s-env-from-secret"),
        vec![(13, Severity::Low), (18, Severity::Low)],
        "{:?}",
        hits(&r)
    );
    let advice = r
        .findings
        .iter()
        .find(|f| f.rule == "k8s-env-from-secret")
        .unwrap();
    assert_eq!(
        advice.message,
        "env API_TOKEN reads a Secret into an environment variable"
    );
    assert_eq!(
        advice
            .benchmark_refs
            .get("cis-kubernetes-1.12")
            .map(String::as_str),
        Some("5.4.1"),
        "{:?}",
        advice.benchmark_refs
    );
    // The old aliases still find the rule each names.
    let rules = bulkhead_scan::all_rules();
    let named = |alias: &str| {
        rules
            .iter()
            .filter(|r| r.is_named(alias))
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
    };
    assert_eq!(named("CKV_K8S_35"), vec!["k8s-env-from-secret"]);
    assert_eq!(
        named("read-secret-from-env-var"),
        vec!["k8s-env-from-secret"]
    );
    assert_eq!(named("env-var-secret"), vec!["k8s-env-secret"]);
}

#[test]
fn inline_suppressions_by_line_and_file_and_unused_ones_are_reported() {
    let text = "FROM alpine:3.19\n# bulkhead:ignore DL3002 demo image runs as root on purpose\nUSER root\n# bulkhead:ignore dockerfile-sudo needed by the vendor script\nRUN sudo true\n# bulkhead:ignore-file dockerfile-healthcheck-missing one-shot job\n# bulkhead:ignore dockerfile-apt stale comment\n# bulkhead:ignore no-such-rule typo\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    for rule in [
        "dockerfile-root-final-stage",
        "dockerfile-sudo",
        "dockerfile-healthcheck-missing",
    ] {
        assert!(
            !has(&r, rule),
            "{rule} should be suppressed: {:?}",
            hits(&r)
        );
        let s = r
            .suppressed
            .iter()
            .find(|s| s.finding.rule == rule)
            .unwrap();
        assert!(!s.reason.is_empty());
    }
    let sup = r
        .suppressed
        .iter()
        .find(|s| s.finding.rule == "dockerfile-healthcheck-missing")
        .unwrap();
    assert_eq!(sup.source, SuppressionSource::InlineFile);
    let notes: Vec<(&str, SuppressionProblem)> = r
        .suppression_notes
        .iter()
        .map(|n| (n.rule.as_str(), n.problem))
        .collect();
    assert!(
        notes.contains(&("dockerfile-apt", SuppressionProblem::Unused)),
        "{notes:?}"
    );
    assert!(
        notes.contains(&("no-such-rule", SuppressionProblem::UnknownRule)),
        "{notes:?}"
    );
}

#[test]
fn suppression_markers_inside_values_silence_nothing() {
    // A marker is honoured only in a real comment: text in a value may come from anyone who
    // can get a string into the file.
    let df = "FROM debian:12.5\nUSER root\nRUN echo \"# bulkhead:ignore-file dockerfile-secret,dockerfile-root-final-stage harmless\"\nRUN sudo true # bulkhead:ignore dockerfile-sudo the shell's comment, not the Dockerfile's\nENV API_TOKEN=abcdef1234567890\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, df);
    for rule in [
        "dockerfile-secret",
        "dockerfile-root-final-stage",
        "dockerfile-sudo",
    ] {
        assert!(has(&r, rule), "{rule} was silenced: {:?}", hits(&r));
    }
    assert!(r.suppressed.is_empty(), "{:?}", r.suppressed);
    assert!(r.suppression_notes.is_empty(), "{:?}", r.suppression_notes);
    // A `#` line inside a heredoc is script text, not a Dockerfile comment.
    let heredoc = "FROM debian:12.5\nRUN <<EOF\n# bulkhead:ignore-file dockerfile-sudo in the script\nsudo true\nEOF\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, heredoc);
    assert!(has(&r, "dockerfile-sudo"), "{:?}", hits(&r));
    // A real comment line, inside a continued instruction too, still counts.
    let comment = "FROM debian:12.5\nRUN apt-get update && \\\n# bulkhead:ignore dockerfile-sudo the vendor script needs it\n    sudo true\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, comment);
    assert!(!has(&r, "dockerfile-sudo"), "{:?}", hits(&r));

    let k8s = |description: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\n  annotations:\n    description: {description}\nspec:\n  hostPID: true\n  containers:\n  - name: c\n    image: nginx:1.25\n    securityContext: {{privileged: true}}\n")
    };
    for description in [
        "\"see docs # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed\"",
        "'see docs # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed'",
        "\"see docs\n      # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed\"",
        "|\n      see docs\n      # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed",
    ] {
        let text = k8s(description);
        for (path, kind) in [
            ("pod.yaml", ArtifactKind::Kubernetes),
            ("compose.yaml", ArtifactKind::Compose),
        ] {
            let r = scan(path, kind, &text);
            assert!(r.suppressed.is_empty(), "{path} {text}: {:?}", r.suppressed);
            if kind == ArtifactKind::Kubernetes {
                assert!(
                    has(&r, "k8s-privileged") && has(&r, "k8s-host-pid"),
                    "{text}: {:?}",
                    hits(&r)
                );
            }
        }
    }
    // The same marker in a real YAML comment still works: after a plain scalar, after a quoted
    // one, at the end of the line it is about, and after a block scalar (the parser's spans of
    // the scalars must not swallow the comments next to them).
    for description in [
        "see docs # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed",
        "\"see # docs\" # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed",
        "|\n      see docs\n\n    # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed",
        ">-\n      see docs\n  # bulkhead:ignore-file k8s-privileged,k8s-host-pid reviewed",
    ] {
        let r = scan("pod.yaml", ArtifactKind::Kubernetes, &k8s(description));
        assert!(
            !has(&r, "k8s-privileged") && !has(&r, "k8s-host-pid"),
            "{description}: {:?}",
            hits(&r)
        );
    }
    let line = k8s("x").replace(
        "  hostPID: true\n",
        "  hostPID: true # bulkhead:ignore k8s-host-pid the node agent reads /proc\n",
    );
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, &line);
    assert!(!has(&r, "k8s-host-pid") && has(&r, "k8s-privileged"));
    // JSON manifests have no comments.
    let json = "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\", \"annotations\": {\"d\": \"x # bulkhead:ignore-file k8s-privileged y\"}}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"x:1\", \"securityContext\": {\"privileged\": true}}]}}\n";
    let r = scan("pod.json", ArtifactKind::Kubernetes, json);
    assert!(has(&r, "k8s-privileged"), "{:?}", hits(&r));
}

#[test]
fn annotation_on_pod_template_suppresses_inside_that_object_only() {
    let text = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: cni, namespace: kube-system}\nspec:\n  template:\n    metadata:\n      annotations:\n        ignore.bulkhead.dev/k8s-host-network: \"the CNI agent programs the node network\"\n        ignore.bulkhead.dev/k8s-host-pid: \"not used\"\n    spec:\n      hostNetwork: true\n      containers: [{name: agent, image: cni:1.0}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: other}\nspec:\n  hostNetwork: true\n  containers: [{name: c, image: x:1}]\n";
    let r = scan("cni.yaml", ArtifactKind::Kubernetes, text);
    assert_eq!(
        lines_of(&r, "k8s-host-network"),
        vec![18],
        "only the other pod: {:?}",
        hits(&r)
    );
    let s = r
        .suppressed
        .iter()
        .find(|s| s.finding.rule == "k8s-host-network")
        .unwrap();
    assert_eq!(s.source, SuppressionSource::Annotation);
    assert!(r
        .suppression_notes
        .iter()
        .any(|n| n.rule == "k8s-host-pid" && n.problem == SuppressionProblem::Unused));
}

#[test]
fn config_suppressions_with_expiry_and_baseline() {
    let compose =
        "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n    network_mode: host\n";
    let config = Config::parse("[[scan.ignore]]\nrule = \"compose-privileged\"\npaths = [\"deploy/*.yaml\"]\nreason = \"legacy\"\nexpires = \"2000-01-01\"\n[[scan.ignore]]\nrule = \"compose-host-network\"\nobject = \"service web\"\nreason = \"needs mDNS\"\nexpires = \"2999-01-01\"\n[[scan.ignore]]\nrule = \"compose-pids-limit\"\npaths = [\"elsewhere/**\"]\nreason = \"unused\"\n").unwrap();
    let opts = ScanOptions {
        config,
        ..ScanOptions::default()
    };
    let r = scan_with("deploy/compose.yaml", ArtifactKind::Compose, compose, &opts);
    assert!(
        has(&r, "compose-privileged"),
        "an expired entry no longer suppresses"
    );
    assert!(!has(&r, "compose-host-network"));
    let problems: Vec<(&str, SuppressionProblem)> = r
        .suppression_notes
        .iter()
        .map(|n| (n.rule.as_str(), n.problem))
        .collect();
    assert!(
        problems.contains(&("compose-privileged", SuppressionProblem::Expired)),
        "{problems:?}"
    );
    assert!(
        problems.contains(&("compose-pids-limit", SuppressionProblem::Unused)),
        "{problems:?}"
    );

    // Baseline: everything now known is accepted; fingerprints survive moving the service down.
    let baseline = Baseline::parse(&Baseline::render(&r.findings)).unwrap();
    let moved = format!("# a comment\n\n{compose}");
    let opts = ScanOptions {
        baseline: Some(baseline),
        ..opts
    };
    let r2 = scan_with("deploy/compose.yaml", ArtifactKind::Compose, &moved, &opts);
    assert!(r2.findings.is_empty(), "{:?}", hits(&r2));
    assert!(r2
        .suppressed
        .iter()
        .any(|s| s.source == SuppressionSource::Baseline));
    let fixed = moved.replace("    privileged: true\n", "");
    let r3 = scan_with("deploy/compose.yaml", ArtifactKind::Compose, &fixed, &opts);
    assert_eq!(
        r3.baseline_resolved, 1,
        "the privileged finding was fixed since the baseline"
    );
}

#[test]
fn a_suppression_without_a_reason_suppresses_nothing_and_is_a_finding() {
    let text = "FROM debian:12.5\n# bulkhead:ignore dockerfile-root-final-stage\nUSER root\n# bulkhead:ignore-file DL3002\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-root-final-stage"),
        vec![3],
        "{:?}",
        hits(&r)
    );
    assert_eq!(
        lines_of(&r, "dockerfile-suppression-without-reason"),
        vec![2, 4],
        "{:?}",
        hits(&r)
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-suppression-without-reason")
        .unwrap();
    assert!(
        f.message.contains("dockerfile-root-final-stage"),
        "{}",
        f.message
    );
    assert_eq!(f.snippet, "# bulkhead:ignore dockerfile-root-final-stage");
    assert_eq!(f.location.column, 3);
    assert!(r.suppressed.is_empty(), "{:?}", r.suppressed);
    assert!(
        r.suppression_notes.is_empty(),
        "reported once, as a finding: {:?}",
        r.suppression_notes
    );
    // With a reason it suppresses, and the reason is recorded as written.
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM debian:12.5\n# bulkhead:ignore dockerfile-root-final-stage binds :80\nUSER root\n",
    );
    assert!(!has(&r, "dockerfile-root-final-stage"));
    assert!(!has(&r, "dockerfile-suppression-without-reason"));
    assert_eq!(r.suppressed[0].reason, "binds :80");

    // YAML comments and Kubernetes annotations with an empty value alike.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop\n  annotations:\n    ignore.bulkhead.dev/k8s-host-pid: \"\"\nspec:\n  hostPID: true # bulkhead:ignore k8s-host-pid\n  containers: [{name: c, image: \"nginx:1.25\"}]\n";
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, pod);
    assert_eq!(lines_of(&r, "k8s-host-pid"), vec![9], "{:?}", hits(&r));
    assert_eq!(
        lines_of(&r, "k8s-suppression-without-reason"),
        vec![7, 9],
        "{:?}",
        hits(&r)
    );
    assert!(r
        .findings
        .iter()
        .any(|f| f.rule == "k8s-suppression-without-reason" && f.object == "Pod/shop/p"));
    assert!(r.suppression_notes.is_empty(), "{:?}", r.suppression_notes);
    let compose = "services:\n  web:\n    image: nginx:1.25\n    privileged: true # bulkhead:ignore compose-privileged\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, compose);
    assert!(has(&r, "compose-privileged"));
    assert_eq!(lines_of(&r, "compose-suppression-without-reason"), vec![4]);
    // The rule can be disabled like any other; the reasonless comment still suppresses nothing.
    let opts = ScanOptions {
        config: Config::parse("[scan]\ndisable = [\"compose-suppression-without-reason\"]\n")
            .unwrap(),
        ..ScanOptions::default()
    };
    let r = scan_with("compose.yaml", ArtifactKind::Compose, compose, &opts);
    assert!(has(&r, "compose-privileged"));
    assert!(!has(&r, "compose-suppression-without-reason"));
}

#[test]
fn config_entries_are_reported_at_their_file_and_line() {
    let config = Config::parse_file(
        "[scan]\n[[scan.ignore]]\nrule = \"k8s-host-pid\"\npaths = [\"inject.yaml\"]\nreason = \"expired\"\nexpires = \"2020-01-01\"\n\n[[scan.ignore]]\nrule = \"k8s-privileged\"\nreason = \"everywhere\"\n",
        "ci/cfg2.toml",
    )
    .unwrap();
    let opts = ScanOptions {
        config,
        ..ScanOptions::default()
    };
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  hostPID: true\n  containers: [{name: c, image: \"nginx:1.25\"}]\n";
    let r = scan_with("inject.yaml", ArtifactKind::Kubernetes, pod, &opts);
    assert!(has(&r, "k8s-host-pid"));
    let notes: Vec<(&str, &str, SuppressionProblem)> = r
        .suppression_notes
        .iter()
        .map(|n| (n.rule.as_str(), n.location.as_str(), n.problem))
        .collect();
    assert_eq!(
        notes,
        vec![
            (
                "k8s-host-pid",
                "ci/cfg2.toml:2",
                SuppressionProblem::Expired
            ),
            (
                "k8s-privileged",
                "ci/cfg2.toml:8",
                SuppressionProblem::Unused
            ),
        ]
    );
}

#[test]
fn hostile_inputs_give_errors_with_file_and_line() {
    let deep = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  x: {}\n",
        "[".repeat(50_000)
    );
    let huge = "a".repeat(17 * 1024 * 1024);
    let inputs = vec![
        Input {
            path: "bin.yaml".into(),
            bytes: b"apiVersion: v1\nkind: Pod\n\x00\x01\x02\xff".to_vec(),
            kind: Some(ArtifactKind::Kubernetes),
        },
        Input {
            path: "deep.yaml".into(),
            bytes: deep.into_bytes(),
            kind: Some(ArtifactKind::Kubernetes),
        },
        Input {
            path: "huge/Dockerfile".into(),
            bytes: huge.into_bytes(),
            kind: Some(ArtifactKind::Dockerfile),
        },
        Input {
            path: "bad.yaml".into(),
            bytes: b"apiVersion: v1\nkind: Pod\nspec: [1, 2\n".to_vec(),
            kind: Some(ArtifactKind::Kubernetes),
        },
        Input {
            path: "Dockerfile".into(),
            bytes: b"FROM alpine:3.19\nRUN <<EOF\necho never closed\n".to_vec(),
            kind: Some(ArtifactKind::Dockerfile),
        },
        Input {
            path: "daemon.json".into(),
            bytes: b"{\n  \"icc\": false,\n}\n".to_vec(),
            kind: Some(ArtifactKind::DaemonJson),
        },
        Input {
            path: "ok/Dockerfile".into(),
            bytes: b"FROM alpine:3.19\nUSER root\n".to_vec(),
            kind: Some(ArtifactKind::Dockerfile),
        },
    ];
    let r = scan_inputs(&inputs, &ScanOptions::default());
    let errs: Vec<(String, u32)> = r.errors.iter().map(|e| (e.path.clone(), e.line)).collect();
    assert_eq!(errs.len(), 6, "{:#?}", r.errors);
    let line = |p: &str| {
        r.errors
            .iter()
            .find(|e| e.path == p)
            .map(|e| e.line)
            .unwrap()
    };
    assert_eq!(line("bin.yaml"), 3);
    assert_eq!(line("deep.yaml"), 4);
    assert_eq!(line("huge/Dockerfile"), 1);
    assert!(line("bad.yaml") >= 3);
    assert_eq!(line("Dockerfile"), 2);
    assert_eq!(line("daemon.json"), 3);
    for e in &r.errors {
        assert!(
            !e.message.is_empty() && e.to_string().starts_with(&e.path),
            "{e}"
        );
    }
    assert!(
        has(&r, "dockerfile-root-final-stage"),
        "the good file is still scanned"
    );
    assert!(
        r.reaches(bulkhead_scan::Severity::Critical),
        "errors reach every threshold"
    );
}

#[test]
fn a_broken_yaml_document_does_not_hide_the_documents_around_it() {
    // doc 1 valid (hostPID), doc 2 broken, doc 3 valid (privileged).
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: first, namespace: shop}\nspec:\n  hostPID: true\n  containers: [{name: c, image: \"nginx:1.25\"}]\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: second\nspec: {}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: third, namespace: shop}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n    securityContext: {privileged: true}\n";
    let r = scan("pods.yaml", ArtifactKind::Kubernetes, text);
    assert_eq!(lines_of(&r, "k8s-host-pid"), vec![5], "{:?}", hits(&r));
    assert_eq!(lines_of(&r, "k8s-privileged"), vec![20], "{:?}", hits(&r));
    assert!(
        r.findings.iter().all(|f| !f.object.contains("second")),
        "{:?}",
        hits(&r)
    );
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    let e = &r.errors[0];
    assert_eq!(
        (e.path.as_str(), e.line, e.column),
        ("pods.yaml", 11, 5),
        "{e}"
    );
    assert!(e.message.contains("invalid YAML"), "{e}");
    assert!(e.message.contains("not scanned"), "{e}");
    assert_eq!(r.files.len(), 1, "the file is scanned, one document is not");
    assert!(r.reaches(bulkhead_scan::Severity::Critical));

    // A suppression inside the broken document neither suppresses nor is reported as stale.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostPID: true\n---\n# bulkhead:ignore k8s-host-pid the broken pod needs it\napiVersion: v1\nkind: Pod\nmetadata: {name: b\n";
    let r = scan("pods.yaml", ArtifactKind::Kubernetes, text);
    assert_eq!(lines_of(&r, "k8s-host-pid"), vec![5], "{:?}", hits(&r));
    assert!(r.suppression_notes.is_empty(), "{:?}", r.suppression_notes);

    // Every document broken: errors only, as before.
    let r = scan(
        "pods.yaml",
        ArtifactKind::Kubernetes,
        "apiVersion: v1\nkind: Pod\nspec: [1\n---\nkind: Pod\nspec: {a\n",
    );
    assert!(
        r.findings.is_empty() && r.files.is_empty(),
        "{:?}",
        hits(&r)
    );
    assert_eq!(r.errors.len(), 2, "{:?}", r.errors);
    assert!(r
        .errors
        .iter()
        .all(|e| !e.message.contains("other documents")));
}

#[test]
fn duplicate_mapping_keys_are_errors_and_their_document_is_not_scanned() {
    // The last value would win silently: `privileged: false` would hide `privileged: true`.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dup\n  namespace: shop\nspec:\n  containers:\n  - name: c\n    image: nginx:1.25\n    securityContext:\n      privileged: true\n      privileged: false\n";
    let r = scan("dupkey.yaml", ArtifactKind::Kubernetes, pod);
    assert!(r.findings.is_empty(), "{:?}", hits(&r));
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    let e = &r.errors[0];
    assert_eq!((e.line, e.column), (12, 7), "{e}");
    assert!(e.message.contains("\"privileged\""), "{e}");
    assert!(
        e.message.contains("line 11") && e.message.contains("line 12"),
        "{e}"
    );
    // In a stream, the other documents are still scanned.
    let stream = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: ok}}\nspec:\n  hostIPC: true\n---\n{pod}"
    );
    let r = scan("two.yaml", ArtifactKind::Kubernetes, &stream);
    assert_eq!(lines_of(&r, "k8s-host-ipc"), vec![5], "{:?}", hits(&r));
    assert!(r.findings.iter().all(|f| !f.object.contains("dup")));
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].line, 18);

    // Compose: two `web:` services are not two services.
    let services = "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n  web:\n    image: nginx:1.25\n    read_only: true\n";
    let r = scan("docker-compose.yml", ArtifactKind::Compose, services);
    assert!(r.findings.is_empty(), "{:?}", hits(&r));
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    let e = &r.errors[0];
    assert_eq!(e.line, 5, "{e}");
    assert!(e.message.contains("\"web\""), "{e}");
    assert!(
        e.message.contains("line 2") && e.message.contains("line 5"),
        "{e}"
    );
    assert!(!e.message.contains("other documents"), "{e}");
    let keys = "services:\n  web:\n    image: nginx:1.25\n    privileged: true\n    user: \"1000\"\n    privileged: false\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, keys);
    assert!(r.findings.is_empty(), "{:?}", hits(&r));
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors[0].line, 6);
    assert!(r.errors[0].message.contains("line 4"), "{}", r.errors[0]);
}

#[test]
fn unknown_dockerfile_instruction_is_an_error_with_its_line() {
    // docker build refuses `FRUM foo`; a scan must not call the file clean.
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM debian:12.5\nRUN echo ok\nFRUM foo\nUSER 1000\n",
    );
    assert_eq!(r.errors.len(), 1, "{:?}", hits(&r));
    let e = &r.errors[0];
    assert_eq!((e.line, e.column), (3, 1), "{e}");
    assert!(e.message.contains("FRUM"), "{e}");
    assert!(r.reaches(bulkhead_scan::Severity::Critical));
    // Lower-case keywords are instructions too.
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "from debian:12.5\nuser root\n",
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert!(has(&r, "dockerfile-root-final-stage"));
}

#[test]
fn findings_in_a_run_heredoc_point_at_the_offending_line() {
    let text = "# syntax=docker/dockerfile:1.4\nFROM ubuntu:22.04\nRUN <<EOT bash\nset -e\napt-get update\napt-get install -y curl\ncurl -k https://example.com/install.sh | sh\nEOT\nCOPY <<-EOF2 /etc/app.conf\n\tpassword=https://u:inheredoc123@db.example\nEOF2\nUSER 1000\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    for (rule, line) in [
        ("dockerfile-curl-pipe-shell", 7),
        ("dockerfile-tls-verification-disabled", 7),
        ("dockerfile-pipefail", 7),
        ("dockerfile-apt-recommends", 6),
        ("dockerfile-unpinned-packages", 6),
        ("dockerfile-secret", 10),
    ] {
        assert_eq!(lines_of(&r, rule), vec![line], "{rule}: {:?}", hits(&r));
    }
    let snippet = snippet_of(&r, "dockerfile-curl-pipe-shell");
    assert_eq!(snippet, "curl -k https://example.com/install.sh | sh");
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-curl-pipe-shell")
        .unwrap();
    assert_eq!((f.location.column, f.location.end_line), (1, 7));
    // The secret's line is shown, masked.
    let secret = snippet_of(&r, "dockerfile-secret");
    assert!(
        secret.contains("password=") && !secret.contains("inheredoc123"),
        "{secret}"
    );
    // Outside heredocs the whole instruction is still the place (the arguments keep no
    // positions of their own).
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM ubuntu:22.04\nRUN apt-get update && \\\n    curl -k https://x | sh\nUSER 1000\n",
    );
    assert_eq!(lines_of(&r, "dockerfile-curl-pipe-shell"), vec![2]);
    // A comment above the RUN still suppresses what is found in its heredoc.
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM ubuntu:22.04\n# bulkhead:ignore dockerfile-curl-pipe-shell vendor installer, checked by hand\nRUN <<EOT\nset -e\ncurl -fsSL https://example.com/i.sh | sh\nEOT\nUSER 1000\n",
    );
    assert!(!has(&r, "dockerfile-curl-pipe-shell"), "{:?}", hits(&r));
    assert!(r
        .suppressed
        .iter()
        .any(|s| s.finding.rule == "dockerfile-curl-pipe-shell" && s.finding.location.line == 5));
    assert!(r.suppression_notes.is_empty(), "{:?}", r.suppression_notes);
}

#[test]
fn pipefail_is_read_from_the_set_options_and_the_base_stage_shell() {
    // The usual ways of turning pipefail on in a script: option clusters ending in `o`
    // (`-euxo pipefail`, `-Eeuo pipefail`) and `-o` among other options.
    let on = "FROM alpine:3.19\nRUN set -euxo pipefail; ls | wc -l\nRUN set -Eeuo pipefail && ls | wc -l\nRUN set -ex -o pipefail && ls | wc -l\nRUN <<EOF\nset -eo pipefail\nls | wc -l\nEOF\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, on);
    assert!(!has(&r, "dockerfile-pipefail"), "{:?}", hits(&r));
    // Only a `set` command that runs before the pipe counts, not the words in a string, and
    // `set +o pipefail` turns it off again.
    let off = "FROM alpine:3.19\nRUN ls | wc -l; echo \"set -o pipefail\"\nRUN set -o pipefail; set +o pipefail; ls | wc -l\nRUN ls | wc -l && set -o pipefail\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, off);
    assert_eq!(
        lines_of(&r, "dockerfile-pipefail"),
        vec![2, 3, 4],
        "{:?}",
        hits(&r)
    );
    // SHELL belongs to the image: a stage built on a stage of this file keeps its shell, a
    // stage built on another image does not.
    let stages = "FROM alpine:3.19 AS base\nSHELL [\"/bin/ash\", \"-eo\", \"pipefail\", \"-c\"]\nFROM alpine:3.19 AS other\nRUN ls | wc -l\nFROM base\nRUN ls | wc -l\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, stages);
    assert_eq!(
        lines_of(&r, "dockerfile-pipefail"),
        vec![4],
        "{:?}",
        hits(&r)
    );
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bulkhead-scan-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `allowPrivilegeEscalation: false` beside `privileged: true` or an added `CAP_SYS_ADMIN` is a
/// pod the API server refuses: the finding stays, says so, and carries no fix (SARIF consumers
/// would offer it as a one-click change); `SYS_ADMIN` without the prefix is not refused.
#[test]
fn no_escalation_fix_that_the_api_server_would_refuse() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x:1, securityContext: {privileged: true}}\n  - {name: b, image: x:1, securityContext: {capabilities: {add: [CAP_SYS_ADMIN]}}}\n  - {name: c, image: x:1, securityContext: {capabilities: {add: [SYS_ADMIN]}}}\n";
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, text);
    let escalation: Vec<_> = r
        .findings
        .iter()
        .filter(|f| f.rule == "k8s-privilege-escalation")
        .map(|f| {
            (
                f.object.rsplit(' ').next().unwrap().to_string(),
                f.fix.is_some(),
                f.message.clone(),
            )
        })
        .collect();
    assert_eq!(escalation.len(), 3, "{escalation:#?}");
    assert!(
        !escalation[0].1 && escalation[0].2.contains("privileged"),
        "{escalation:?}"
    );
    assert!(
        !escalation[1].1 && escalation[1].2.contains("CAP_SYS_ADMIN"),
        "{escalation:?}"
    );
    assert!(escalation[2].1, "{escalation:?}");
}

/// One file named by several spellings (its directory, the directory again through a `..`, the
/// file itself, a link to it) is scanned once: each finding is reported once, under the spelling
/// that reads best (relative before absolute, then the shortest).
#[test]
fn a_file_reached_by_several_spellings_is_scanned_once() {
    let d = tempdir("spellings");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(
        d.join("sub/Dockerfile"),
        "FROM debian:12\nRUN apt-get install -y curl\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(d.join("sub/Dockerfile"), d.join("Dockerfile.link")).unwrap();
    // A hard link is another file that shares the inode: it is scanned on its own.
    std::fs::hard_link(d.join("sub/Dockerfile"), d.join("Dockerfile.hard")).unwrap();
    let once = scan_paths(&[d.join("sub")], &ScanOptions::default());
    assert!(!once.findings.is_empty());
    let paths = [
        d.join("sub"),
        d.join("sub/../sub"),
        d.join("sub/Dockerfile"),
        d.join("Dockerfile.link"),
        d.join("Dockerfile.hard"),
    ];
    let r = scan_paths(&paths, &ScanOptions::default());
    let files: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        files,
        vec![
            d.join("Dockerfile.hard").display().to_string(),
            d.join("sub/Dockerfile").display().to_string()
        ],
        "{:?}",
        r.files
    );
    assert_eq!(r.findings.len(), 2 * once.findings.len());
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn discovery_finds_every_kind_and_honours_gitignore() {
    let d = tempdir("discover");
    let w = |p: &str, t: &str| {
        let p = d.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    };
    w(".gitignore", "ignored/\n");
    w("ignored/Dockerfile", "FROM alpine\n");
    w("svc/api.Dockerfile", "FROM alpine:3.19\nUSER 1000\n");
    w("Containerfile", "FROM alpine:3.19\nUSER 1000\n");
    w("compose.yaml", "services:\n  a:\n    image: x:1\n");
    w(
        "ops/docker-compose.prod.yml",
        "services:\n  b:\n    image: x:1\n",
    );
    w("etc/docker/daemon.json", "{}\n");
    w("k8s/pod.json", "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"j\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"x:1\"}]}}\n");
    w("k8s/all.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {containers: [{name: c, image: x:1}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: [{name: c, image: x:1}]}\n");
    w("package.json", "{\"name\": \"not-an-artifact\"}\n");
    w("charts/templates/dep.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n  labels: {{ toYaml .Values.labels }}\n");
    let r = scan_paths(std::slice::from_ref(&d), &ScanOptions::default());
    let mut kinds: Vec<(String, ArtifactKind)> = r
        .files
        .iter()
        .map(|f| {
            (
                f.path
                    .strip_prefix(&format!("{}/", d.display()))
                    .unwrap_or(&f.path)
                    .to_string(),
                f.kind,
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("Containerfile".to_string(), ArtifactKind::Dockerfile),
            ("compose.yaml".into(), ArtifactKind::Compose),
            ("etc/docker/daemon.json".into(), ArtifactKind::DaemonJson),
            ("k8s/all.yaml".into(), ArtifactKind::Kubernetes),
            ("k8s/pod.json".into(), ArtifactKind::Kubernetes),
            ("ops/docker-compose.prod.yml".into(), ArtifactKind::Compose),
            ("svc/api.Dockerfile".into(), ArtifactKind::Dockerfile),
        ]
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // a Helm template is not silently dropped: it is listed as skipped, with the reason
    assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
    assert!(r.skipped[0].path.ends_with("charts/templates/dep.yaml") && r.skipped[0].line == 4);
    let pods: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.rule == "k8s-run-as-root")
        .map(|f| f.object.as_str())
        .collect();
    assert_eq!(
        pods.len(),
        3,
        "both documents and the JSON manifest: {pods:?}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Hidden directories hold real artifacts (`.devcontainer/Dockerfile`, `.docker/compose.yaml`,
/// `.deploy/*.yaml`): they are walked like any other, and only version-control metadata
/// (`.git`, which keeps old copies of files) is left out. The walk used to skip every hidden
/// path quietly, and the directory was then even reported as holding no artifact.
#[test]
fn discovery_walks_hidden_directories_but_not_version_control() {
    let d = tempdir("hidden");
    let w = |p: &str, t: &str| {
        let p = d.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, t).unwrap();
    };
    w(".devcontainer/Dockerfile", "FROM alpine:3.19\nUSER root\n");
    w(
        ".docker/compose.yaml",
        "services:\n  a:\n    image: x:1\n    privileged: true\n",
    );
    w(
        ".deploy/pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x:1}]}\n",
    );
    w(".gitlab-ci.yml", "stages: [build]\n");
    // CI workflows are YAML with `${{ }}` expressions, not manifests: left out quietly
    w(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.sha }}\n        env:\n          TOKEN: ${{ secrets.TOKEN }}\n",
    );
    w(".git/Dockerfile", "FROM alpine\nUSER root\n");
    w(".hg/store/compose.yaml", "services:\n  a:\n    image: x\n");
    w(".gitignore", ".cache/\n");
    w(".cache/Dockerfile", "FROM alpine\n");
    let r = scan_paths(std::slice::from_ref(&d), &ScanOptions::default());
    let mut files: Vec<String> = r
        .files
        .iter()
        .map(|f| {
            f.path
                .strip_prefix(&format!("{}/", d.display()))
                .unwrap_or(&f.path)
                .to_string()
        })
        .collect();
    files.sort();
    assert_eq!(
        files,
        vec![
            ".deploy/pod.yaml",
            ".devcontainer/Dockerfile",
            ".docker/compose.yaml"
        ],
        "{:?}",
        r.files
    );
    assert!(
        r.errors.is_empty() && r.skipped.is_empty(),
        "{:?} {:?}",
        r.errors,
        r.skipped
    );
    assert!(has(&r, "dockerfile-root-final-stage") && has(&r, "compose-privileged"));
    let _ = std::fs::remove_dir_all(&d);
}

/// A directory the scan may not read is an error about that directory, with the system's reason
/// and no line (it has none), not an error at "line 1" of the directory the walk started from;
/// and the walked directory is then not also listed as holding no artifact, since what the
/// unreadable part holds is not known. Needs a user the permissions apply to: skipped as root
/// (run the test binary through `setpriv --reuid=nobody --regid=nogroup --clear-groups`).
#[test]
fn unreadable_directory_is_an_error_naming_that_directory() {
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: root reads every directory");
        return;
    }
    let d = tempdir("unreadable-dir");
    let locked = d.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    std::fs::write(locked.join("Dockerfile"), "FROM alpine\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    let r = scan_paths(std::slice::from_ref(&d), &ScanOptions::default());
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    let e = &r.errors[0];
    assert_eq!(e.path, locked.display().to_string(), "{e:?}");
    assert_eq!((e.line, e.column), (0, 0), "{e:?}");
    assert!(
        e.message.starts_with("cannot read: ") && e.message.contains("ermission denied"),
        "{e:?}"
    );
    assert!(
        !e.message.contains(&d.display().to_string()),
        "the path is said once, in the path: {e:?}"
    );
    assert!(r.skipped.is_empty(), "{:?}", r.skipped);
    let _ = std::fs::remove_dir_all(&d);
}

/// Scan `text` as a YAML file whose kind comes from its content, as a directory walk reads it.
fn scan_by_content(path: &str, text: &str) -> ScanReport {
    scan_inputs(
        &[Input {
            path: path.into(),
            bytes: text.as_bytes().to_vec(),
            kind: None,
        }],
        &ScanOptions::default(),
    )
}

#[test]
fn go_template_text_inside_string_values_does_not_skip_a_rendered_manifest() {
    // `helm template` output keeps the `{{ ... }}` of alert rules and notification templates:
    // they are string values the API server stores as written. The privileged Deployment
    // beside them must be scanned, not skipped as a Helm template.
    let rendered = "---\n# Source: app/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: team}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n        securityContext: {privileged: true}\n---\n# Source: app/templates/rules.yaml\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {name: web, namespace: team}\nspec:\n  groups:\n  - name: web\n    rules:\n    - alert: WebDown\n      expr: up == 0\n      annotations:\n        summary: \"{{ $labels.instance }} is down\"\n        runbook: '{{ $externalURL }}/web'\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: notify, namespace: team}\ndata:\n  slack.tmpl: |\n    {{ define \"slack.text\" }}{{ range .Alerts }}{{ .Annotations.summary }}{{ end }}{{ end }}\n";
    let r = scan_by_content("rendered.yaml", rendered);
    assert!(r.skipped.is_empty(), "{:?}", r.skipped);
    assert_eq!(lines_of(&r, "k8s-privileged"), vec![12], "{:?}", hits(&r));

    // A template is still a template: `{{` outside a quoted or block scalar (structure or a
    // plain scalar), or Helm's own objects inside a quoted one, are not a manifest yet.
    for (template, line) in [
        ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: app-{{ .Release.Name }}\nspec: {containers: [{name: c, image: x:1}]}\n", 4),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n", 7),
        ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n{{- if .Values.hostNetwork }}\n  hostNetwork: true\n{{- end }}\n  containers: [{name: c, image: x:1}]\n", 5),
    ] {
        let r = scan_by_content("pod.yaml", template);
        assert!(r.findings.is_empty() && r.errors.is_empty(), "{template}: {:?}", hits(&r));
        assert_eq!(r.skipped.len(), 1, "{template}");
        assert_eq!(r.skipped[0].line, line, "{template}");
        assert!(r.skipped[0].message.contains("Helm/Go template"));
    }
}

#[test]
fn explicitly_named_paths_that_are_not_scanned_are_listed_as_skipped() {
    let d = tempdir("explicit");
    let w = |p: &str, t: &str| {
        let p = d.join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, t).unwrap();
        p
    };
    let typo = w(
        "typo.yaml",
        "apiversion: v1\nkind: Pod\nmetadata: {name: t}\nspec:\n  hostPID: true\n  containers: [{name: c, image: \"nginx:1.25\", securityContext: {privileged: true}}]\n",
    );
    let empty = w("empty.yaml", "# nothing here\n---\n");
    let stack = w("stack.yml", "services:\n  web:\n    image: nginx:1.25\n");
    let notes = w("notes.json", "{\"x\": 1}\n");
    let pod = w(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, image: x:1}]}\n",
    );
    let nothing = d.join("nothing");
    std::fs::create_dir_all(nothing.join("sub")).unwrap();
    std::fs::write(nothing.join("sub/values.yaml"), "replicas: 2\n").unwrap();
    let r = scan_paths(
        &[
            typo.clone(),
            empty.clone(),
            stack.clone(),
            notes.clone(),
            pod.clone(),
            nothing.clone(),
        ],
        &ScanOptions::default(),
    );
    assert_eq!(r.files.len(), 1, "{:?}", r.files);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    let skipped: Vec<(String, u32, &str)> = r
        .skipped
        .iter()
        .map(|s| {
            (
                s.path
                    .strip_prefix(&format!("{}/", d.display()))
                    .unwrap_or(&s.path)
                    .to_string(),
                s.line,
                s.message.as_str(),
            )
        })
        .collect();
    let reason = |p: &str| {
        skipped
            .iter()
            .find(|s| s.0 == p)
            .unwrap_or_else(|| panic!("{p} not listed as skipped: {skipped:#?}"))
    };
    assert_eq!(skipped.len(), 5, "{skipped:#?}");
    let t = reason("typo.yaml");
    assert_eq!(t.1, 1);
    assert!(
        t.2.contains("\"apiversion\" is not \"apiVersion\""),
        "{}",
        t.2
    );
    assert!(reason("empty.yaml").2.starts_with("empty"));
    assert!(reason("stack.yml").2.contains("--kind compose"));
    assert!(reason("notes.json").2.contains("--kind"));
    assert!(reason("nothing")
        .2
        .contains("no Dockerfile, compose file, Kubernetes manifest or daemon.json"));
    // the message names the path; with line 0 there is no line and column
    let s = r
        .skipped
        .iter()
        .find(|s| s.path.ends_with("empty.yaml"))
        .unwrap();
    assert_eq!(s.to_string(), format!("{}: {}", empty.display(), s.message));

    // Found by walking a directory, the same files stay quiet (most YAML in a repository is
    // not a manifest); the directory held a pod, so it is not reported either.
    let r = scan_paths(std::slice::from_ref(&d), &ScanOptions::default());
    assert_eq!(r.files.len(), 1);
    assert!(r.skipped.is_empty(), "{:?}", r.skipped);
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn target_stage_missing_from_some_dockerfiles_of_a_directory_is_a_note() {
    let d = tempdir("target");
    std::fs::write(
        d.join("Dockerfile.target"),
        "FROM debian:12.5 AS debug\nUSER root\nFROM debian:12.5 AS runtime\nUSER 1000\n",
    )
    .unwrap();
    std::fs::write(
        d.join("Dockerfile.other"),
        "FROM debian:12.5 AS build\nRUN make\nFROM debian:12.5\nUSER root\n",
    )
    .unwrap();
    let opts = ScanOptions {
        target: Some("runtime".into()),
        ..ScanOptions::default()
    };
    let r = scan_paths(std::slice::from_ref(&d), &opts);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.files.len(), 2);
    // The Dockerfile without `runtime` is judged by its last stage: root there is found.
    let root: Vec<&str> = r
        .findings
        .iter()
        .filter(|f| f.rule == "dockerfile-root-final-stage")
        .map(|f| f.location.path.as_str())
        .collect();
    assert_eq!(root.len(), 1, "{:?}", hits(&r));
    assert!(root[0].ends_with("Dockerfile.other"), "{root:?}");
    let other = r
        .files
        .iter()
        .find(|f| f.path.ends_with("Dockerfile.other"))
        .unwrap();
    let note = other.note.as_deref().unwrap_or("");
    assert!(
        note.contains("\"runtime\"") && note.contains("last stage"),
        "{note}"
    );
    assert!(r
        .files
        .iter()
        .find(|f| f.path.ends_with("Dockerfile.target"))
        .unwrap()
        .note
        .is_none());
    // Several files named: the same.
    let r = scan_paths(
        &[d.join("Dockerfile.other"), d.join("Dockerfile.target")],
        &opts,
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(lines_of(&r, "dockerfile-root-final-stage"), vec![4]);
    // One named Dockerfile without the stage: an error, as `docker build --target` fails.
    let r = scan_paths(&[d.join("Dockerfile.other")], &opts);
    assert!(r.findings.is_empty(), "{:?}", hits(&r));
    assert_eq!(r.errors.len(), 1);
    assert!(
        r.errors[0].message.contains("\"runtime\""),
        "{}",
        r.errors[0]
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn network_policy_in_another_file_covers_the_namespace() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec: {containers: [{name: c, image: x:1}]}\n";
    let np = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n";
    let only_pod = scan("pod.yaml", ArtifactKind::Kubernetes, pod);
    assert!(has(&only_pod, "k8s-no-network-policy"));
    let both = scan_inputs(
        &[
            Input {
                path: "pod.yaml".into(),
                bytes: pod.as_bytes().to_vec(),
                kind: Some(ArtifactKind::Kubernetes),
            },
            Input {
                path: "np.yaml".into(),
                bytes: np.as_bytes().to_vec(),
                kind: Some(ArtifactKind::Kubernetes),
            },
        ],
        &ScanOptions::default(),
    );
    assert!(!has(&both, "k8s-no-network-policy"));
}

#[test]
fn fixes_apply_and_remove_their_findings() {
    let cases: &[(&str, ArtifactKind, &str, &str)] = &[
        ("compose.yaml", ArtifactKind::Compose, "services:\n  web:\n    image: nginx:1.25\n", "compose-read-only"),
        ("compose.yaml", ArtifactKind::Compose, "services:\n  web:\n    image: nginx:1.25\n", "compose-no-new-privileges"),
        ("pod.yaml", ArtifactKind::Kubernetes, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    securityContext:\n      runAsNonRoot: true\n", "k8s-privilege-escalation"),
        ("pod.yaml", ArtifactKind::Kubernetes, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:1\n", "k8s-writable-root-fs"),
        ("Dockerfile", ArtifactKind::Dockerfile, BUILDER_USER, "dockerfile-no-user"),
        ("Dockerfile", ArtifactKind::Dockerfile, "FROM debian:12\nRUN apt-get update && apt-get install -y curl=7.88 && rm -rf /var/lib/apt/lists/*\nUSER 1\n", "dockerfile-apt-recommends"),
        ("daemon.json", ArtifactKind::DaemonJson, "{\n  \"icc\": true\n}\n", "daemon-icc"),
        ("daemon.json", ArtifactKind::DaemonJson, "{\n  \"icc\": false\n}\n", "daemon-live-restore"),
    ];
    for (path, kind, text, rule) in cases {
        let r = scan(path, *kind, text);
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == *rule)
            .unwrap_or_else(|| panic!("{rule}: {:?}", hits(&r)));
        let fix = f
            .fix
            .as_ref()
            .unwrap_or_else(|| panic!("{rule} has no fix"));
        let fixed = apply_edits(text, &fix.edits).unwrap();
        let again = scan(path, *kind, &fixed);
        assert!(
            again.errors.is_empty(),
            "{rule}: fixed text does not parse: {:?}\n{fixed}",
            again.errors
        );
        assert!(
            !has(&again, rule),
            "{rule} still reported after its fix:\n{fixed}"
        );
    }
}

#[test]
fn harden_plan_applies_safe_fixes_per_file_without_overlaps() {
    let text = "FROM debian:12\nMAINTAINER someone@example.invalid\nRUN apt-get install -y curl=7.88 && rm -rf /var/lib/apt/lists/*\nADD app.conf /etc/app.conf\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let plan = bulkhead_scan::fixes::plan(&r.findings, bulkhead_scan::Safety::Safe);
    assert_eq!(plan.len(), 1);
    let rules: Vec<&str> = plan[0].fixes.iter().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(
        rules,
        vec![
            "dockerfile-maintainer",
            "dockerfile-apt-recommends",
            "dockerfile-add-instead-of-copy"
        ]
    );
    let fixed = bulkhead_scan::fixes::apply(text, &plan[0]).unwrap();
    let again = scan("Dockerfile", ArtifactKind::Dockerfile, &fixed);
    for rule in rules {
        assert!(!has(&again, rule), "{rule} remains:\n{fixed}");
    }
    // review fixes are left out of a safe-only plan
    let review = bulkhead_scan::fixes::plan(
        &scan("Dockerfile", ArtifactKind::Dockerfile, BUILDER_USER).findings,
        bulkhead_scan::Safety::Safe,
    );
    assert!(review.is_empty());
}

/// Without iptables rules the userland proxy is what forwards published ports, so the fix of
/// daemon-userland-proxy in a file that turns iptables off (or holds a value dockerd cannot
/// read) turns iptables back on in the same fix; elsewhere it sets the proxy alone. A file that
/// already disables the proxy is no finding of this rule.
#[test]
fn daemon_userland_proxy_fix_never_leaves_published_ports_unforwarded() {
    let fix_of = |text: &str| {
        let fix = daemon_fix(text, "daemon-userland-proxy")?;
        Some((
            fix.description,
            members(&apply_edits(text, &fix.edits).unwrap()),
        ))
    };
    for text in [
        "{\n  \"iptables\": false\n}\n",
        "{\n  \"userland-proxy\": true,\n  \"iptables\": false\n}\n",
        "{\"iptables\": \"false\"}",
    ] {
        let (description, m) = fix_of(text).unwrap_or_else(|| panic!("no finding: {text}"));
        assert_eq!(
            m.get("userland-proxy"),
            Some(&serde_json::json!(false)),
            "{text}"
        );
        assert_eq!(m.get("iptables"), Some(&serde_json::json!(true)), "{text}");
        assert!(description.contains("\"iptables\": true"), "{description}");
    }
    let (description, m) = fix_of("{\n  \"iptables\": true\n}\n").expect("finding");
    assert_eq!(description, "set \"userland-proxy\": false");
    assert_eq!(m.get("iptables"), Some(&serde_json::json!(true)));
    let (_, m) = fix_of("{}\n").expect("finding");
    assert_eq!(
        m.get("iptables"),
        None,
        "iptables is left at its default (on)"
    );
    assert!(fix_of("{\"userland-proxy\": false, \"iptables\": false}").is_none());
}

/// Finding of `rule` on `line`, or a panic listing every finding.
fn finding_at<'r>(r: &'r ScanReport, rule: &str, line: u32) -> &'r bulkhead_scan::Finding {
    r.findings
        .iter()
        .find(|f| f.rule == rule && f.location.line == line)
        .unwrap_or_else(|| panic!("{rule} {line}: {:?}", hits(r)))
}

/// A variable a RUN command sets to a literal secret is written in the RUN line, which the
/// image history keeps (`docker history --no-trunc` prints it): one finding per variable, at
/// the assignment, its value masked everywhere. References, empty values and mounted secrets
/// are not findings.
#[test]
fn secrets_assigned_in_run_commands_are_reported_at_their_place_and_masked() {
    let text = "FROM alpine:3.19\nRUN DB_PASSWORD=hunter2hunter2 ./migrate\nRUN apk add curl && export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMIK7MDENGbPxRfiCYzz && ./sync\nRUN <<EOF\nset -e\nexport API_TOKEN=\"s3cr3t-t0ken-value\"\n./deploy\nEOF\nRUN env GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyz make\nRUN docker login -u me -p Dock3rPass reg && mysql -uroot -pMyPassw0rd123 -e 'select 1'\nRUN if [ -f package.json ]; then NPM_TOKEN=abcd1234efgh5678 npm ci; fi\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-secret"),
        vec![2, 3, 6, 9, 10, 11],
        "{:?}",
        hits(&r)
    );
    let f = finding_at(&r, "dockerfile-secret", 2);
    assert_eq!(
        f.message,
        "RUN sets DB_PASSWORD to a literal secret value; the image history keeps the RUN line, value included"
    );
    assert_eq!((f.location.column, f.location.end_column), (5, 31));
    assert_eq!(f.snippet, "RUN DB_PASSWORD=*** ./migrate");
    let f = finding_at(&r, "dockerfile-secret", 3);
    assert_eq!(f.location.column, 28);
    assert!(
        f.message
            .starts_with("RUN sets AWS_SECRET_ACCESS_KEY to a literal"),
        "{}",
        f.message
    );
    // In a heredoc: the line of the export.
    let f = finding_at(&r, "dockerfile-secret", 6);
    assert_eq!(f.snippet, "export API_TOKEN=\"***\"");
    // A token format in a secret-named variable is one finding, named by its format.
    assert_eq!(
        finding_at(&r, "dockerfile-secret", 9).message,
        "RUN sets GITHUB_TOKEN to a GitHub token; the image history keeps the RUN line, value included"
    );
    // Passwords given to programs stay one finding per instruction.
    assert_eq!(
        finding_at(&r, "dockerfile-secret", 10).message,
        "RUN contains a password given to a registry login and a password in a MySQL client option"
    );
    let json = serde_json::to_string(&r).unwrap();
    for v in [
        "hunter2hunter2",
        "wJalrXUtnFEMIK7MDENGbPxRfiCYzz",
        "s3cr3t-t0ken-value",
        "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
        "Dock3rPass",
        "MyPassw0rd123",
        "abcd1234efgh5678",
    ] {
        assert!(!json.contains(v), "{v} printed: {json}");
    }
    // Not secrets written in the file: references, build-time expansions, empty values,
    // files, switches, and a secret mounted for the one RUN.
    let fine = "FROM alpine:3.19\nRUN DB_PASSWORD=$DB_PASSWORD ./migrate\nRUN export API_TOKEN=\"${API_TOKEN}\" && ./x\nRUN DB_PASSWORD= ./migrate\nRUN export AWS_SECRET_ACCESS_KEY=$(cat /run/secrets/aws) && ./sync\nRUN TOKEN=`cat /run/secrets/t` ./x\nRUN DB_PASSWORD_FILE=/run/secrets/db ./migrate\nRUN --mount=type=secret,id=npm,env=NPM_TOKEN npm ci\nRUN --mount=type=secret,id=pw DB_PASSWORD=\"$(cat /run/secrets/pw)\" ./migrate\nRUN APP_NAME=web PASSWORD_MIN_LENGTH=12 ./configure\nRUN echo DB_PASSWORD=hunter2hunter2 is not assigned here\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, fine);
    assert!(!has(&r, "dockerfile-secret"), "{:?}", hits(&r));
}

/// Compose build arguments become build arguments of the image, which its history keeps: a
/// literal secret there is reported like one in `environment`, in both forms of `args`.
#[test]
fn compose_build_args_with_literal_secrets_are_reported_and_masked() {
    let text = "services:\n  web:\n    image: web:1\n    build:\n      context: .\n      args:\n        NPM_TOKEN: npm_abcdefghijklmnopqrstuvwxyz0123456789\n        DB_PASSWORD: hunter2hunter2\n        VERSION: \"1.2\"\n        API_TOKEN: ${API_TOKEN}\n        EMPTY_PASSWORD:\n  api:\n    image: api:1\n    build:\n      context: ./api\n      args: [ \"GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyz\", \"COMMIT=abc\", \"SECRET_KEY\" ]\n  plain:\n    image: p:1\n    build: ./plain\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, text);
    assert_eq!(
        lines_of(&r, "compose-secret-env"),
        vec![7, 8, 16],
        "{:?}",
        hits(&r)
    );
    assert_eq!(
        finding_at(&r, "compose-secret-env", 7).message,
        "build argument NPM_TOKEN holds an npm token; build arguments are kept in the image history"
    );
    assert_eq!(
        finding_at(&r, "compose-secret-env", 8).message,
        "build argument DB_PASSWORD holds a literal secret value; build arguments are kept in the image history"
    );
    assert_eq!(
        finding_at(&r, "compose-secret-env", 8).snippet,
        "        DB_PASSWORD: ***"
    );
    let json = serde_json::to_string(&r).unwrap();
    for v in [
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        "hunter2hunter2",
        "ghp_0123456789abcdefghijklmnopqrstuvwxyz",
    ] {
        assert!(!json.contains(v), "{v} printed: {json}");
    }
}

/// A download piped into an interpreter, whichever way the interpreter is started, and
/// PowerShell's download-and-invoke; checksums and copies of the download are not.
#[test]
fn curl_pipe_shell_knows_more_interpreters_and_powershell() {
    let text = "FROM alpine:3.19\nRUN curl -fsSL https://x/i.sh | busybox sh\nRUN curl -fsSL https://x/i.sh | sh -s -- -y\nRUN curl -fsSL https://x/i.sh | sudo -E bash -\nRUN wget -qO- https://x/i.sh | env bash\nRUN wget -qO- https://x/i.sh | /bin/busybox ash -s\nRUN bash -c \"curl -fsSL https://x/i.sh | bash\"\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-curl-pipe-shell"),
        vec![2, 3, 4, 5, 6, 7],
        "{:?}",
        hits(&r)
    );
    let ps = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN powershell -Command iwr https://x/install.ps1 -UseBasicParsing | iex\nRUN powershell -Command \"Invoke-WebRequest https://x/i.ps1 -UseBasicParsing | Invoke-Expression\"\nRUN powershell -Command \"IEX ((New-Object System.Net.WebClient).DownloadString('https://x/i.ps1'))\"\nRUN powershell -NoProfile -Command \"irm https://x/i.ps1 | iex\"\nSHELL [\"powershell\", \"-Command\"]\nRUN Invoke-Expression (Invoke-RestMethod https://x/i.ps1)\nRUN iwr https://x/tool.zip -OutFile tool.zip; Expand-Archive tool.zip\nRUN Get-ChildItem | Select-Object Name\nUSER ContainerUser\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, ps);
    assert_eq!(
        lines_of(&r, "dockerfile-curl-pipe-shell"),
        vec![3, 4, 5, 6, 8],
        "{:?}",
        hits(&r)
    );
    let fine = "FROM alpine:3.19\nRUN curl -fsSL https://x/i.sh | shasum -a 256\nRUN wget -qO- https://x/i.sh | sha256sum -c i.sha256\nRUN curl -fsSL https://x/i.sh | tee /tmp/i.sh\nRUN curl -fsSL https://x/a.tgz | tar xz\nRUN curl -fsSL https://x/i.sh -o /i.sh && sha256sum -c i.sha256 && sh /i.sh\nRUN echo iex | sh\nRUN echo iwr | sh\nRUN sh -c \"curl -fsSL https://x/a.tgz | tar xz\"\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, fine);
    assert!(!has(&r, "dockerfile-curl-pipe-shell"), "{:?}", hits(&r));
}

/// A Windows stage runs RUN under cmd unless it says otherwise: pipes there are not POSIX
/// shell pipes, so pipefail is not asked for; a Linux stage of the same file still is.
#[test]
fn pipefail_judges_linux_stages_only_or_the_stage_shell() {
    let windows = "FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN powershell -Command \"Get-ChildItem | Select-Object Name\"\nRUN dir | findstr x\nFROM mcr.microsoft.com/powershell:lts-nanoserver-ltsc2022\nRUN pwsh -Command Get-Item x | Select-Object Name\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, windows);
    assert!(!has(&r, "dockerfile-pipefail"), "{:?}", hits(&r));
    // `# escape=` with a backtick: the convention of Windows Dockerfiles.
    let escaped = "# escape=`\nFROM example.com/team/winbase:1\nRUN powershell -Command Get-ChildItem | Select-Object Name\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, escaped);
    assert!(!has(&r, "dockerfile-pipefail"), "{:?}", hits(&r));
    // A Linux stage next to a Windows one, and a Windows stage whose SHELL is a POSIX shell.
    let mixed = "FROM mcr.microsoft.com/windows/nanoserver:ltsc2022 AS win\nRUN dir | findstr x\nFROM win AS wsh\nSHELL [\"C:\\\\msys64\\\\usr\\\\bin\\\\bash.exe\", \"-c\"]\nRUN ls | wc -l\nFROM alpine:3.19\nRUN ls | wc -l\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, mixed);
    assert_eq!(
        lines_of(&r, "dockerfile-pipefail"),
        vec![5, 7],
        "{:?}",
        hits(&r)
    );
}

/// The credential directories of the user who deploys (`~/.ssh`, `${HOME}/.aws`, ...) are
/// sensitive host mounts; other paths in the home directory are not.
#[test]
fn compose_mounts_of_home_credential_directories_are_sensitive() {
    let text = "services:\n  web:\n    image: web:1\n    volumes:\n      - ~/.ssh:/root/.ssh:ro\n      - ${HOME}/.aws:/root/.aws\n      - $HOME/.kube/config:/root/.kube/config\n      - ~/.docker:/root/.docker\n      - type: bind\n        source: ~/.config/gcloud\n        target: /root/.config/gcloud\n      - ~/src/app:/app\n      - ./data:/data\n      - ${HOME:-/home/ci}/.ssh:/ssh\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, text);
    assert_eq!(
        lines_of(&r, "compose-sensitive-mount"),
        vec![5, 6, 7, 8, 9, 14],
        "{:?}",
        hits(&r)
    );
    let m = &finding_at(&r, "compose-sensitive-mount", 5).message;
    assert!(m.contains("~/.ssh") && m.contains("SSH"), "{m}");
    let m = &finding_at(&r, "compose-sensitive-mount", 6).message;
    assert!(m.contains("${HOME}/.aws") && m.contains("AWS"), "{m}");
}

/// Snippets are shown line by line in every output: the carriage returns of a CRLF file are
/// line ends, not text.
#[test]
fn snippets_of_crlf_files_have_no_carriage_returns() {
    let text = "FROM alpine:3.19\r\nRUN apt-get update && \\\r\n    apt-get install -y curl\r\nUSER 10001\r\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let snippet = snippet_of(&r, "dockerfile-unpinned-packages");
    assert_eq!(
        snippet,
        "RUN apt-get update && \\\n    apt-get install -y curl"
    );
    let compose = "services:\r\n  web:\r\n    image: web:1\r\n    environment:\r\n      DB_PASSWORD: >-\r\n        hunter2hunter2\r\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, compose);
    assert!(
        r.findings.iter().all(|f| !f.snippet.contains('\r')),
        "{:?}",
        r.findings.iter().map(|f| &f.snippet).collect::<Vec<_>>()
    );
}

/// A secret-looking option written with a blank before its value (`kubectl --token X`) masks
/// in a scan as it masks in a process's argv, and so do the passwords given to `oras login`,
/// `crane auth login`, `regctl registry login` and `mount -o`: no output prints the values,
/// also when the value sits on a continued line or in an exec-form array.
const OPTION_SECRETS: &str = "FROM alpine:3.19\nRUN kubectl --token K8sT0kenBlank123 get pods | tee /x\nRUN oras login -u me -p 0r4sPassw0rd reg.example.com | cat\nRUN kubectl get pods --token \\\n    K8sT0kenCont456 | cat\nRUN crane auth login reg -u me -p Cr4nePassw0rd | cat && regctl registry login reg -u me --pass R3gctlPassw0rd | cat\nRUN mount -t cifs -o username=u,password=M0untPassw0rd //srv/x /mnt | cat\nRUN docker login -u me --password-stdin reg.example.com < /run/secrets/pw | cat\nCMD [\"kubectl\", \"--token\", \"K8sT0kenExec789\", \"get\", \"pods\"]\n";

const OPTION_SECRET_VALUES: &[&str] = &[
    "K8sT0kenBlank123",
    "0r4sPassw0rd",
    "K8sT0kenCont456",
    "Cr4nePassw0rd",
    "R3gctlPassw0rd",
    "M0untPassw0rd",
    "K8sT0kenExec789",
];

#[test]
fn secret_option_values_and_registry_tool_passwords_are_never_printed() {
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, OPTION_SECRETS);
    let snippet = |rule: &str, line: u32| {
        r.findings
            .iter()
            .find(|f| f.rule == rule && f.location.line == line)
            .map(|f| f.snippet.clone())
            .unwrap_or_else(|| panic!("{rule} {line}: {:?}", hits(&r)))
    };
    // The option stays, the value goes; the host after `--password-stdin` stays.
    assert_eq!(
        snippet("dockerfile-pipefail", 2),
        "RUN kubectl --token *** get pods | tee /x"
    );
    assert_eq!(
        snippet("dockerfile-pipefail", 3),
        "RUN oras login -u me -p *** reg.example.com | cat"
    );
    assert_eq!(
        snippet("dockerfile-pipefail", 8),
        "RUN docker login -u me --password-stdin reg.example.com < /run/secrets/pw | cat"
    );
    // A password given to one of these programs is a secret finding, as `docker login -p` is.
    for line in [3, 6, 7] {
        assert!(
            r.findings
                .iter()
                .any(|f| f.rule == "dockerfile-secret" && f.location.line == line),
            "{line}: {:?}",
            hits(&r)
        );
    }
    let outputs = [
        serde_json::to_string(&r).unwrap(),
        printed_fields(&r),
        Baseline::render(&r.findings),
    ];
    for out in &outputs {
        for v in OPTION_SECRET_VALUES {
            assert!(!out.contains(v), "{v} printed:\n{out}");
        }
    }
    assert!(outputs[1].contains("--token ***"), "{}", outputs[1]);
}

/// An exec-form RUN that starts a POSIX shell with `-c` (also in an option cluster, through
/// `env` or `busybox`) runs its script argument as a shell-form RUN runs its arguments: the
/// secret assignments in it are findings at their place in the JSON string, with the value
/// masked even when the JSON writes it with escapes. The argv outside the script is read as
/// words, so `env TOKEN=...` before the shell counts too.
#[test]
fn exec_form_shell_scripts_are_read_like_shell_form_runs() {
    let text = concat!(
        "FROM alpine:3.19\n",
        "RUN [\"sh\", \"-c\", \"TOKEN=s3cr3tvalue ./install.sh\"]\n",
        "RUN [\"/bin/bash\",\"-c\",\"export GITHUB_TOKEN=ghp_xxx && make\"]\n",
        "RUN [\"sh\", \"-euxc\", \"DB_PASSWORD=hunter2hunter2 ./migrate\"]\n",
        "RUN [\"busybox\", \"sh\", \"-c\", \"export API_KEY=abcd1234efgh && ./x\"]\n",
        "RUN [\"/usr/bin/env\", \"API_TOKEN=tok3nvalue99\", \"sh\", \"-c\", \"./deploy\"]\n",
        "RUN [\"sh\", \"-c\", \"export DB_PASSWORD=\\\"p\\u0061ss w0rdEsc\\\" && ./x\"]\n",
        "RUN [\"curl\", \"-u\", \"user:curlpw8765\", \"https://example.com/x\"]\n",
        "RUN [\"docker\",\"login\",\"-p\",\"Dock3rPass\",\"reg\"]\n",
        "RUN [\"env\", \"DB_PASSWORD=hunt3r two!\", \"./migrate\"]\n",
        "USER 10001\n",
    );
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-secret"),
        vec![2, 3, 4, 5, 6, 7, 8, 9, 10],
        "{:?}",
        hits(&r)
    );
    let f = finding_at(&r, "dockerfile-secret", 2);
    assert_eq!(
        f.message,
        "RUN sets TOKEN to a literal secret value; the image history keeps the RUN line, value included"
    );
    // The assignment inside the JSON string: `TOKEN=s3cr3tvalue` is columns 19..36.
    assert_eq!((f.location.column, f.location.end_column), (19, 36));
    assert_eq!(
        f.snippet,
        "RUN [\"sh\", \"-c\", \"TOKEN=*** ./install.sh\"]"
    );
    assert!(
        finding_at(&r, "dockerfile-secret", 3)
            .message
            .starts_with("RUN sets GITHUB_TOKEN to"),
        "{:?}",
        hits(&r)
    );
    for (line, name) in [(6, "API_TOKEN"), (10, "DB_PASSWORD")] {
        let message = &finding_at(&r, "dockerfile-secret", line).message;
        assert!(
            message.starts_with(&format!("RUN sets {name} to")),
            "{message}"
        );
    }
    // Written with JSON escapes, the value is still masked where it is written, blank included.
    let f = finding_at(&r, "dockerfile-secret", 7);
    assert_eq!(
        f.snippet,
        "RUN [\"sh\", \"-c\", \"export DB_PASSWORD=*** && ./x\"]"
    );
    let json = serde_json::to_string(&r).unwrap();
    let printed = printed_fields(&r);
    for v in [
        "s3cr3tvalue",
        "ghp_xxx",
        "hunter2hunter2",
        "abcd1234efgh",
        "tok3nvalue99",
        "w0rdEsc",
        "curlpw8765",
        "Dock3rPass",
        "hunt3r",
    ] {
        assert!(!json.contains(v), "{v} printed: {json}");
        assert!(!printed.contains(v), "{v} printed: {printed}");
    }

    // Values expanded when the script runs, a word that only looks like an assignment, a
    // script file run without -c, and an array that is not valid JSON (shell form: the shell
    // sees one quoted word, no assignment) are not findings.
    let fine = concat!(
        "FROM alpine:3.19\n",
        "RUN [\"sh\", \"-c\", \"DB_PASSWORD=$DB_PASSWORD ./migrate\"]\n",
        "RUN [\"echo\", \"DB_PASSWORD=hunter2hunter2\"]\n",
        "RUN [\"sh\", \"./TOKEN=abc123def456.sh\"]\n",
        "RUN ['sh', '-c', 'TOKEN=s3cr3tvalue ./install.sh']\n",
        "USER 10001\n",
    );
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, fine);
    assert!(!has(&r, "dockerfile-secret"), "{:?}", hits(&r));
}

/// The other shell rules see the script of an exec-form `sh -c` too, and an exec form without a
/// shell is its argv: a `|` there is an argument, not a pipe. SHELL does not apply to the exec
/// form, so only the options on the shell's own command line set pipefail.
#[test]
fn shell_rules_judge_the_script_of_an_exec_form_shell() {
    let text = concat!(
        "FROM alpine:3.19\n",
        "RUN [\"sh\", \"-c\", \"curl -fsSL https://x/i.sh | sh\"]\n",
        "RUN [\"/bin/bash\", \"-exc\", \"wget -qO- https://x/i.sh | bash\"]\n",
        "RUN [\"sh\", \"-c\", \"apk add curl\"]\n",
        "RUN [\"sh\", \"-c\", \"cd /src && make\"]\n",
        "RUN [\"bash\", \"-o\", \"pipefail\", \"-c\", \"ls | wc -l\"]\n",
        "RUN [\"bash\", \"-euo\", \"pipefail\", \"-c\", \"ls | wc -l\"]\n",
        "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]\n",
        "RUN [\"sh\", \"-c\", \"ls | wc -l\"]\n",
        "RUN [\"curl\", \"-fsSL\", \"https://x/i.sh\", \"|\", \"sh\"]\n",
        "RUN [\"sh\", \"-c\", \"curl -fsSL https://x/i.sh | sh\",]\n",
        "USER 10001\n",
    );
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-curl-pipe-shell"),
        vec![2, 3],
        "{:?}",
        hits(&r)
    );
    assert_eq!(
        lines_of(&r, "dockerfile-unpinned-packages"),
        vec![4],
        "{:?}",
        hits(&r)
    );
    assert_eq!(lines_of(&r, "dockerfile-run-cd"), vec![5], "{:?}", hits(&r));
    assert_eq!(
        lines_of(&r, "dockerfile-pipefail"),
        vec![2, 3, 9],
        "{:?}",
        hits(&r)
    );
}

/// `env`'s options that take an argument (`-u NAME`, `-C DIR`, `--unset NAME`, `--chdir DIR`)
/// do not hide the command env runs, in the exec form and the shell form alike: the script of
/// the shell it starts is read, and so are the assignments env makes.
#[test]
fn env_options_with_an_argument_do_not_hide_the_command() {
    let text = concat!(
        "FROM alpine:3.19\n",
        "RUN [\"env\", \"-u\", \"HOME\", \"sh\", \"-c\", \"curl https://x/i.sh | sh\"]\n",
        "RUN [\"/usr/bin/env\", \"--chdir\", \"/app\", \"sh\", \"-c\", \"DB_PASSWORD=hunter2hunter2 ./migrate\"]\n",
        "RUN env -u HOME curl https://x/i.sh | sh\n",
        "RUN env -C /app sh -c 'curl https://x/i.sh | sh'\n",
        "RUN env --unset HOME DB_PASSWORD=s3cr3tvalue ./migrate\n",
        "RUN [\"env\", \"-u\", \"HOME\", \"API_TOKEN=tok3nvalue99\", \"./deploy\"]\n",
        "USER 10001\n",
    );
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-curl-pipe-shell"),
        vec![2, 4, 5],
        "{:?}",
        hits(&r)
    );
    assert_eq!(
        lines_of(&r, "dockerfile-secret"),
        vec![3, 6, 7],
        "{:?}",
        hits(&r)
    );
    assert_eq!(
        finding_at(&r, "dockerfile-secret", 3).snippet,
        "RUN [\"/usr/bin/env\", \"--chdir\", \"/app\", \"sh\", \"-c\", \"DB_PASSWORD=*** ./migrate\"]"
    );
    let json = serde_json::to_string(&r).unwrap();
    let printed = printed_fields(&r);
    for v in ["hunter2hunter2", "s3cr3tvalue", "tok3nvalue99"] {
        assert!(!json.contains(v), "{v} printed: {json}");
        assert!(!printed.contains(v), "{v} printed: {printed}");
    }
}

/// A download that reaches an interpreter through `tee` or `cat` (which pass their input on
/// unchanged) is run unverified like `curl | sh`; filters that check or select (`grep`,
/// `sha256sum -c`, `gpg --verify`), a `cat` of another file, and a `tee` at the end of the
/// pipe are not.
#[test]
fn download_passed_through_tee_or_cat_into_a_shell_is_run_unverified() {
    let text = concat!(
        "FROM alpine:3.19\n",
        "RUN curl -fsSL https://x/i.sh | tee /tmp/i.sh | sh\n",
        "RUN wget -O- https://x/i.sh | tee f | bash\n",
        "RUN curl https://x/i.sh | tee -a log | sudo sh\n",
        "RUN curl https://x/i.sh | tee /dev/stderr | sh\n",
        "RUN curl https://x/i.sh | cat | tee f | sh -s -- -y\n",
        "RUN curl https://x/i.sh | cat - | sh\n",
        "RUN sh -c \"curl https://x/i.sh | tee f | sh\"\n",
        "RUN [\"sh\", \"-c\", \"curl https://x/i.sh | tee f | sh\"]\n",
        "USER 10001\n",
    );
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-curl-pipe-shell"),
        vec![2, 3, 4, 5, 6, 7, 8, 9],
        "{:?}",
        hits(&r)
    );
    let fine = concat!(
        "FROM alpine:3.19\n",
        "RUN curl -fsSL https://x/i.sh | tee /tmp/i.sh\n",
        "RUN curl -fsSL https://x/i.sh -o f && sha256sum -c f.sha256 && sh f\n",
        "RUN curl -fsSL https://x/i.sh | grep -v '^#' | sh\n",
        "RUN curl -fsSL https://x/i.sh | sha256sum -c f.sha256 | sh\n",
        "RUN curl -fsSL https://x/i.sh | gpg --verify sig - | sh\n",
        "RUN curl -fsSL https://x/i.sh | cat local.sh | sh\n",
        "RUN curl -fsSL https://x/a.tgz | tee a.tgz | tar xz\n",
        "USER 10001\n",
    );
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, fine);
    assert!(!has(&r, "dockerfile-curl-pipe-shell"), "{:?}", hits(&r));
}

/// Docker joins an instruction's continuation lines as they are written: BuildKit drops the
/// backslash and the line break and adds no blank. A token split over two lines is one value:
/// reported by its format and masked where each part is written (on each line of the snippet).
/// Read with a blank between the lines, it was two words and no token.
#[test]
fn a_token_split_by_a_line_continuation_is_one_secret_masked_on_every_line() {
    let text = concat!(
        "FROM alpine:3.19\n",
        "ENV GITHUB_TOKEN=ghp_0123456789abcdef\\\n",
        "ghijklmnopqrstuvwxyzAB\n",
        "RUN echo ghp_abcdefghijklmnopqrstuvwxyz\\\n",
        "  # a comment line is not part of the instruction\n",
        "0123456789 > /token\n",
        "USER 10001\n",
    );
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let secrets: Vec<(u32, u32, &str, &str)> = r
        .findings
        .iter()
        .filter(|f| f.rule == "dockerfile-secret")
        .map(|f| {
            (
                f.location.line,
                f.location.end_line,
                f.message.as_str(),
                f.snippet.as_str(),
            )
        })
        .collect();
    assert_eq!(
        secrets,
        [
            (
                2,
                3,
                "ENV GITHUB_TOKEN holds a GitHub token; it is stored in the image",
                // The shared masking of `NAME=value` takes the backslash with the value.
                "ENV GITHUB_TOKEN=***\n***"
            ),
            (
                4,
                6,
                "RUN contains a GitHub token",
                "RUN echo ***\\\n  # a comment line is not part of the instruction\n*** > /token"
            ),
        ],
        "{:?}",
        hits(&r)
    );
    let printed = serde_json::to_string(&r).unwrap();
    for part in [
        "0123456789abcdef",
        "ghijklmnopqrstuvwxyzAB",
        "abcdefghijklmnopqrstuvwxyz",
        "0123456789 ",
    ] {
        assert!(!printed.contains(part), "{part} printed: {printed}");
    }
}

/// Continuation lines joined as written: a word split by the escape character is one word
/// (`alpine:\` + `latest` is the latest tag), and a pipe with no blank around it is still a
/// pipe (`curl ... |\` + `sh`).
#[test]
fn words_split_by_a_line_continuation_are_read_whole() {
    let text = "FROM alpine:\\\nlatest\nRUN curl -fsSL https://get.example.com/install.sh |\\\nsh\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let message = |rule: &str| {
        r.findings
            .iter()
            .find(|f| f.rule == rule)
            .map(|f| (f.location.line, f.message.clone()))
            .unwrap_or_else(|| panic!("no {rule}: {:?}", hits(&r)))
    };
    assert_eq!(
        message("dockerfile-latest-tag"),
        (
            1,
            "FROM alpine:latest uses the moving latest tag".to_string()
        )
    );
    assert_eq!(message("dockerfile-curl-pipe-shell").0, 3);
}

/// A message that shows an instruction's arguments shows a run of blanks (a continuation
/// line's indentation, kept in the arguments as Docker keeps it) as one blank.
#[test]
fn messages_show_arguments_joined_from_continuation_lines_with_single_blanks() {
    let text = "FROM alpine:3.19\nWORKDIR build \\\n    output\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-workdir-relative")
        .unwrap_or_else(|| panic!("{:?}", hits(&r)));
    assert_eq!(f.message, "WORKDIR build output is relative");
    assert_eq!((f.location.line, f.location.end_line), (2, 3));
}

/// PITFALLS "Artifact scanners" 6 (stable `partialFingerprints`): with the source tree known
/// (the CLI's case), a file has one fingerprint whether it was named relative to the tree's top,
/// by its absolute path, or from a subdirectory; so `bulkhead scan "$PWD"` in CI matches a
/// baseline written with `bulkhead scan .`, and moving the checkout changes nothing.
#[test]
fn fingerprints_do_not_depend_on_the_checkout_directory() {
    let text = "FROM debian:12\nRUN apt-get install -y curl\nENV DB_PASSWORD=hunter2-value\n";
    let fps = |path: &str, cwd: &str, top: &str| -> Vec<String> {
        let opts = ScanOptions {
            source_root: Some(bulkhead_scan::SourceRoot {
                cwd: cwd.into(),
                top: top.into(),
            }),
            ..ScanOptions::default()
        };
        let r = scan_with(path, ArtifactKind::Dockerfile, text, &opts);
        assert!(r.findings.len() > 2);
        r.findings.iter().map(|f| f.fingerprint.clone()).collect()
    };
    let at_top = fps("sub dir/Dockerfile", "/work/repo", "/work/repo");
    assert_eq!(
        at_top,
        fps("/work/repo/sub dir/Dockerfile", "/work/repo", "/work/repo")
    );
    assert_eq!(
        at_top,
        fps("Dockerfile", "/work/repo/sub dir", "/work/repo")
    );
    assert_eq!(
        at_top,
        fps("sub dir/Dockerfile", "/srv/ci/checkout", "/srv/ci/checkout")
    );
    // Without a source tree (the library's default) the path is hashed as given, as before.
    let as_given = |path: &str| -> Vec<String> {
        scan(path, ArtifactKind::Dockerfile, text)
            .findings
            .iter()
            .map(|f| f.fingerprint.clone())
            .collect()
    };
    assert_eq!(at_top, as_given("sub dir/Dockerfile"));
    // A file outside the tree keeps its own.
    assert_ne!(
        at_top,
        fps("/elsewhere/sub dir/Dockerfile", "/work/repo", "/work/repo")
    );
}

// ---- Differential run against hadolint 2.15.1 and Checkov 3.3.30 ----

fn messages_of(r: &ScanReport, rule: &str) -> Vec<(u32, String)> {
    r.findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| (f.location.line, f.message.clone()))
        .collect()
}

#[test]
fn diff_option_values_are_not_packages() {
    // The value of an option written apart is neither a package nor the subcommand: hadolint
    // reads these lines right; bulkhead took `.build-deps`, `off`, `constraints.txt`,
    // `pypi.internal.example` and `bookworm-backports` for unpinned packages and did not see
    // the `install` of `apt-get -o ... install`.
    let text = "FROM python:3.12-slim\n\
RUN apk add --no-cache --virtual .build-deps gcc=13.2.1-r0 \\\n && apk del .build-deps\n\
RUN pip install --no-cache-dir --progress-bar off -c constraints.txt uvicorn==0.29.0\n\
RUN pip install --no-cache-dir --trusted-host pypi.internal.example --index-url https://pypi.internal.example/simple lib==1.0\n\
RUN apt-get update && apt-get install -y -t bookworm-backports --no-install-recommends golang=2:1.21 && rm -rf /var/lib/apt/lists/*\n\
RUN apt-get update && apt-get -o Dpkg::Options::=--force-confold install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*\n\
RUN apk add --no-cache --allow-untrusted /tmp/custom.apk\n\
USER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        messages_of(&r, "dockerfile-unpinned-packages"),
        vec![(7, "packages installed without a version: nginx".to_string())],
        "{:?}",
        hits(&r)
    );
}

#[test]
fn diff_apt_lists_are_judged_where_update_writes_them() {
    // hadolint DL3009: the lists come from `update`. An install in a RUN that does not update
    // adds none (an earlier layer keeps them: that is dockerfile-lone-update's finding), and
    // `apt update && apt install` leaves them like apt-get does.
    let text = "FROM ubuntu:24.04\n\
RUN apt-get update\n\
RUN apt-get install -y --no-install-recommends curl=8.5.0-2ubuntu10\n\
RUN apt update && apt install -y --no-install-recommends python3=3.12.3-0ubuntu1\n\
USER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-package-cache"),
        vec![4],
        "{:?}",
        hits(&r)
    );
    assert_eq!(lines_of(&r, "dockerfile-lone-update"), vec![2]);
}

#[test]
fn diff_download_piped_into_php_is_remote_code() {
    // The composer installer piped into php runs a downloaded script unverified, like `| sh`.
    let text = "FROM php:8.2-cli\n\
RUN curl -sS https://getcomposer.org/installer | php -- --install-dir=/usr/local/bin\n\
RUN php -c /etc/php.ini -r 'echo 1;'\n\
USER www-data\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    assert_eq!(
        lines_of(&r, "dockerfile-curl-pipe-shell"),
        vec![2],
        "{:?}",
        hits(&r)
    );
}

#[test]
fn diff_wildcard_verbs_include_bind_escalate_impersonate() {
    // Checkov CKV_K8S_157/158 report a `verbs: ["*"]` role; bulkhead reported its secrets and
    // pod-exec grants but not the escalation it allows.
    let text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: ci\nrules:\n  - apiGroups: [\"*\"]\n    resources: [\"*\"]\n    verbs: [\"*\"]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: cm\n  namespace: app\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\"]\n    verbs: [\"*\"]\n";
    let r = scan("rbac.yaml", ArtifactKind::Kubernetes, text);
    assert_eq!(
        messages_of(&r, "k8s-rbac-escalate"),
        vec![(
            6,
            "verbs * (includes bind, escalate, impersonate)".to_string()
        )],
        "{:?}",
        hits(&r)
    );
}

#[test]
fn diff_root_group_is_reported() {
    // runAsGroup: 0 (Trivy KSV-0116, an alias of k8s-run-as-root) was reported by no rule:
    // k8s-low-uid skips 0 and k8s-run-as-root looked at the user only. The container's own
    // runAsGroup overrides the pod's.
    let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: app}\nspec:\n  securityContext:\n    runAsNonRoot: true\n    runAsUser: 20000\n    runAsGroup: 0\n  containers:\n  - name: a\n    image: app:1.0\n  - name: b\n    image: app:1.0\n    securityContext:\n      runAsGroup: 20000\n";
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, text);
    let objs: Vec<(&str, u32)> = r
        .findings
        .iter()
        .filter(|f| f.rule == "k8s-run-as-root")
        .map(|f| (f.object.as_str(), f.location.line))
        .collect();
    assert_eq!(objs, vec![("Pod/app/p container a", 8)], "{:?}", hits(&r));
}

#[test]
fn diff_digest_pinning_is_not_checkov_latest_tag() {
    // CKV_DOCKER_7 is Checkov's latest-tag check: it passes `FROM debian:12.5`, which
    // dockerfile-image-not-pinned reports. Naming it as the same check told users a wrong
    // equivalence, and `bulkhead:ignore CKV_DOCKER_7` meant for the tag silenced the digest
    // finding too.
    let text = "# bulkhead:ignore CKV_DOCKER_7 tag reviewed\nFROM debian:12.5\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-image-not-pinned")
        .unwrap_or_else(|| panic!("{:?}", hits(&r)));
    assert!(
        !f.aliases.iter().any(|a| a == "CKV_DOCKER_7"),
        "{:?}",
        f.aliases
    );
    let latest = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM debian:latest\nUSER 10001\n",
    );
    let f = latest
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-latest-tag")
        .unwrap();
    assert!(f.aliases.iter().any(|a| a == "CKV_DOCKER_7"));
}

#[test]
fn diff_k8s_images_not_pinned_by_digest_are_reported_apart_from_latest() {
    // Checkov's CKV_K8S_43 (image by digest) was listed as an alias of k8s-image-latest, which
    // passes `registry:5000/app:1.2`: no rule reported a tag without a digest. Every kind of
    // container counts, in a `kind: List` too, and a registry port is not a tag.
    let digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    let text = format!(
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {{name: p, namespace: app}}\n  spec:\n    initContainers:\n    - name: init\n      image: registry:5000/init:1.2\n    containers:\n    - name: a\n      image: registry:5000/app:1.2\n    - name: b\n      image: registry:5000/app@{digest}\n    - name: c\n      image: registry:5000/app:1.2@{digest}\n    - name: d\n      image: busybox\n    - name: e\n      image: $(IMAGE)\n    ephemeralContainers:\n    - name: debug\n      image: registry:5000/debug:2.0\n"
    );
    let r = scan("pods.yaml", ArtifactKind::Kubernetes, &text);
    let mut pinned: Vec<(&str, u32)> = r
        .findings
        .iter()
        .filter(|f| f.rule == "k8s-image-not-pinned")
        .map(|f| (f.object.as_str(), f.location.line))
        .collect();
    pinned.sort_by_key(|p| p.1);
    assert_eq!(
        pinned,
        vec![
            ("Pod/app/p initContainer init", 10),
            ("Pod/app/p container a", 13),
            ("Pod/app/p container d", 19),
            ("Pod/app/p ephemeralContainer debug", 24),
        ],
        "{:?}",
        hits(&r)
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "k8s-image-not-pinned")
        .unwrap();
    assert_eq!(f.severity.as_str(), "info");
    assert!(
        f.aliases.iter().any(|a| a == "CKV_K8S_43"),
        "{:?}",
        f.aliases
    );
    assert!(f.message.contains("not pinned by digest"), "{}", f.message);
    // The registry port is not read as a tag: only busybox is a latest finding, and
    // k8s-image-latest no longer claims the digest check.
    assert_eq!(lines_of(&r, "k8s-image-latest"), vec![19], "{:?}", hits(&r));
    let latest = r
        .findings
        .iter()
        .find(|f| f.rule == "k8s-image-latest")
        .unwrap();
    assert!(!latest.aliases.iter().any(|a| a == "CKV_K8S_43"));
    assert_eq!(
        bulkhead_scan::catalog::lookup("CKV_K8S_43").map(|r| r.id.as_str()),
        Some("k8s-image-not-pinned")
    );
    // Suppressing Checkov's digest check silences the digest finding, not the latest one.
    let suppressed =
        format!("# bulkhead:ignore-file CKV_K8S_43 digests are pinned by the release job\n{text}");
    let r = scan("pods.yaml", ArtifactKind::Kubernetes, &suppressed);
    assert!(!has(&r, "k8s-image-not-pinned"), "{:?}", hits(&r));
    assert!(has(&r, "k8s-image-latest"), "{:?}", hits(&r));
}

#[test]
fn diff_root_group_from_fs_group_and_supplemental_groups_is_reported() {
    // KSV-0116 (an alias of k8s-run-as-root) covers the root group however the pod gets it:
    // fsGroup is added to every process's supplementary groups (and owns the volumes), and
    // supplementalGroups are its groups. Neither can be overridden by a container, so the
    // finding is the pod's, once, at the value.
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsNonRoot: true\n        runAsUser: 20000\n        runAsGroup: 20000\n        fsGroup: 0\n        supplementalGroups: [20001, 0]\n      containers:\n      - name: a\n        image: app:1.0\n      - name: b\n        image: app:1.0\n";
    let r = scan("deploy.yaml", ArtifactKind::Kubernetes, text);
    let found: Vec<(&str, u32, &str)> = r
        .findings
        .iter()
        .filter(|f| f.rule == "k8s-run-as-root")
        .map(|f| (f.object.as_str(), f.location.line, f.message.as_str()))
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!((found[0].0, found[0].1), ("Deployment/app/web", 11));
    assert!(found[0].2.starts_with("fsGroup is 0"), "{}", found[0].2);
    assert!(found[0].2.contains("volumes"), "{}", found[0].2);
    assert_eq!((found[1].0, found[1].1), ("Deployment/app/web", 12));
    assert!(
        found[1].2.starts_with("supplementalGroups includes 0"),
        "{}",
        found[1].2
    );
    assert_eq!(
        r.findings
            .iter()
            .find(|f| f.rule == "k8s-run-as-root")
            .map(|f| f.location.column),
        Some(18)
    );
    // Non-zero groups are not findings; a block list is read like a flow list.
    let clean = text.replace("fsGroup: 0", "fsGroup: 20000").replace(
        "supplementalGroups: [20001, 0]",
        "supplementalGroups:\n        - 20001",
    );
    let r = scan("deploy.yaml", ArtifactKind::Kubernetes, &clean);
    assert!(!has(&r, "k8s-run-as-root"), "{:?}", hits(&r));
    let block = text.replace(
        "supplementalGroups: [20001, 0]",
        "supplementalGroups:\n        - 20001\n        - 0",
    );
    let r = scan("deploy.yaml", ArtifactKind::Kubernetes, &block);
    assert_eq!(
        lines_of(&r, "k8s-run-as-root"),
        vec![11, 14],
        "{:?}",
        hits(&r)
    );
}

/// Apply the fix of the only `rule` finding of a Dockerfile and return the result.
fn fixed_by(rule: &str, text: &str) -> String {
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let found: Vec<_> = r.findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(found.len(), 1, "{text}: {:?}", hits(&r));
    let fix = found[0]
        .fix
        .as_ref()
        .unwrap_or_else(|| panic!("{text}: no fix"));
    let fixed = apply_edits(text, &fix.edits).unwrap();
    let again = scan("Dockerfile", ArtifactKind::Dockerfile, &fixed);
    assert!(!has(&again, rule), "{fixed}: {:?}", hits(&again));
    fixed
}

#[test]
fn diff_apt_recommends_covers_apt_and_fixes_installs_after_options() {
    // hadolint DL3015 and bulkhead looked at `apt-get install` only, and the fix searched for
    // the text "apt-get install", so options before the subcommand left the finding without a
    // fix (and a second install in the RUN got the flag of the first).
    let cases = [
        (
            "FROM debian:12\nRUN apt install -y curl\n",
            "FROM debian:12\nRUN apt install --no-install-recommends -y curl\n",
        ),
        (
            "FROM debian:12\nRUN apt-get -o Acquire::Retries=3 install -y curl\n",
            "FROM debian:12\nRUN apt-get -o Acquire::Retries=3 install --no-install-recommends -y curl\n",
        ),
        (
            "FROM debian:12\nRUN apt-get update \\\n && apt-get -o Acquire::Retries=3 \\\n      -t bookworm-backports install  -y curl   # tools\n",
            "FROM debian:12\nRUN apt-get update \\\n && apt-get -o Acquire::Retries=3 \\\n      -t bookworm-backports install --no-install-recommends  -y curl   # tools\n",
        ),
        (
            "FROM debian:12\nRUN apt-get install --no-install-recommends -y a && DEBIAN_FRONTEND=noninteractive apt-get -q install -y b\n",
            "FROM debian:12\nRUN apt-get install --no-install-recommends -y a && DEBIAN_FRONTEND=noninteractive apt-get -q install --no-install-recommends -y b\n",
        ),
        (
            "FROM debian:12\nRUN [\"apt-get\", \"-q\", \"install\", \"-y\", \"curl\"]\n",
            "FROM debian:12\nRUN [\"apt-get\", \"-q\", \"install\", \"--no-install-recommends\", \"-y\", \"curl\"]\n",
        ),
        (
            "FROM debian:12\nRUN [\"sh\", \"-c\", \"apt-get -q install -y curl\"]\n",
            "FROM debian:12\nRUN [\"sh\", \"-c\", \"apt-get -q install --no-install-recommends -y curl\"]\n",
        ),
        (
            "FROM debian:12\nRUN <<-EOF\n\tset -e\n\tapt -o Debug::NoLocking=1 install -y curl\nEOF\n",
            "FROM debian:12\nRUN <<-EOF\n\tset -e\n\tapt -o Debug::NoLocking=1 install --no-install-recommends -y curl\nEOF\n",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(fixed_by("dockerfile-apt-recommends", text), want);
    }
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM debian:12\nRUN apt install -y curl\n",
    );
    let f = r
        .findings
        .iter()
        .find(|f| f.rule == "dockerfile-apt-recommends")
        .unwrap();
    assert_eq!(f.message, "apt install without --no-install-recommends");
    // Every install of one RUN is fixed by its one finding.
    let two = "FROM debian:12\nRUN apt-get install -y a && apt install -y b\n";
    assert_eq!(
        fixed_by("dockerfile-apt-recommends", two),
        "FROM debian:12\nRUN apt-get install --no-install-recommends -y a && apt install --no-install-recommends -y b\n"
    );
    // Recommends switched off through an option is not a finding.
    let r = scan(
        "Dockerfile",
        ArtifactKind::Dockerfile,
        "FROM debian:12\nRUN apt -o APT::Install-Recommends=false install -y curl\n",
    );
    assert!(!has(&r, "dockerfile-apt-recommends"), "{:?}", hits(&r));
}

#[test]
fn diff_nopasswd_sudoers_rules_are_reported() {
    // A NOPASSWD rule makes the image's unprivileged user root at will; no rule reported it
    // (dockerfile-sudo looks for sudo being run).
    let yes = [
        ("RUN echo \"app ALL=(ALL) NOPASSWD:ALL\" >> /etc/sudoers", "user app"),
        ("RUN useradd -m app && echo 'app ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/app && chmod 0440 /etc/sudoers.d/app", "user app"),
        ("RUN echo '%wheel ALL=(ALL) NOPASSWD: ALL' | tee -a /etc/sudoers.d/wheel >/dev/null", "group wheel"),
        ("RUN sed -i 's/^%sudo.*/%sudo ALL=(ALL:ALL) NOPASSWD:ALL/' /etc/sudoers", "group sudo"),
        ("RUN printf '%s\\n' 'ALL ALL=(ALL) NOPASSWD: ALL' >/etc/sudoers.d/all", "every user"),
        ("RUN cat > /etc/sudoers.d/app <<EOF\napp ALL=(root) NOPASSWD: /usr/bin/apt-get\nEOF", "user app"),
        ("COPY <<EOF /etc/sudoers.d/app\napp ALL=(ALL) NOPASSWD:ALL\nEOF", "user app"),
    ];
    for (ins, who) in yes {
        let text = format!("FROM debian:12\n{ins}\nUSER app\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == "dockerfile-sudoers-nopasswd")
            .unwrap_or_else(|| panic!("{ins}: {:?}", hits(&r)));
        assert_eq!(f.location.line, 2, "{ins}");
        assert!(f.message.contains(who), "{ins}: {}", f.message);
        assert!(f.message.contains("without a password"), "{}", f.message);
        assert_eq!(f.severity.as_str(), "high");
        assert_eq!(f.stride, vec![bulkhead_checks::Stride::E]);
        // Not named by hadolint's sudo check: `ignore DL3004` must not silence it.
        assert!(!f.aliases.iter().any(|a| a == "DL3004"));
    }
    let no = [
        // a rule that asks for the password
        "RUN echo 'app ALL=(ALL) ALL' >> /etc/sudoers",
        // looking for, or deleting, NOPASSWD rules
        "RUN grep -q NOPASSWD /etc/sudoers || true",
        "RUN sed -i '/NOPASSWD/d' /etc/sudoers",
        // commented out
        "RUN echo '# app ALL=(ALL) NOPASSWD:ALL' >> /etc/sudoers",
        // written somewhere else
        "RUN echo 'app ALL=(ALL) NOPASSWD:ALL' > /tmp/example",
        // a quoted `>` is text, not a redirection
        "RUN echo 'app ALL=(ALL) NOPASSWD:ALL > /etc/sudoers'",
        // written and removed in the same layer
        "RUN echo 'app ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/app && make install && rm -f /etc/sudoers.d/app",
    ];
    for ins in no {
        let text = format!("FROM debian:12\n{ins}\nUSER app\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        assert!(
            !has(&r, "dockerfile-sudoers-nopasswd"),
            "{ins}: {:?}",
            hits(&r)
        );
    }
}

#[test]
fn diff_secret_build_argument_written_into_a_file_is_reported_and_masked() {
    // bulkhead reported `ARG SSH_PRIVATE_KEY` (build arguments are in the history) but not the
    // RUN that stores the value in a file of the layer, which a later `rm` does not take out.
    let text = "FROM debian:12\nARG SSH_PRIVATE_KEY\nARG NPM_TOKEN=npm_Sup3rSecretValue0123456789abcdefgh\nARG APP_VERSION=1.2\nRUN mkdir -p /root/.ssh && echo \"$SSH_PRIVATE_KEY\" > /root/.ssh/id_rsa && chmod 600 /root/.ssh/id_rsa\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" >> .npmrc && npm ci\nRUN echo \"$APP_VERSION\" > /etc/app-version\nRUN echo \"$NPM_TOKEN\" | base64 -d | tee /tmp/token > /dev/null\nRUN npm config set //registry.npmjs.org/:_authToken \"$NPM_TOKEN\"\nRUN git config --global url.\"https://${NPM_TOKEN}@github.com/\".insteadOf https://github.com/\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let written: Vec<(u32, &str)> = r
        .findings
        .iter()
        .filter(|f| {
            f.rule == "dockerfile-secret" && f.message.starts_with("RUN writes build argument")
        })
        .map(|f| (f.location.line, f.message.as_str()))
        .collect();
    let lines: Vec<u32> = written.iter().map(|w| w.0).collect();
    assert_eq!(lines, vec![5, 6, 8, 9, 10], "{written:?}");
    assert!(
        written[0]
            .1
            .contains("SSH_PRIVATE_KEY into /root/.ssh/id_rsa"),
        "{}",
        written[0].1
    );
    assert!(
        written[1].1.contains("NPM_TOKEN into .npmrc"),
        "{}",
        written[1].1
    );
    assert!(
        written[2].1.contains("NPM_TOKEN into /tmp/token"),
        "{}",
        written[2].1
    );
    assert!(written[3].1.contains("into ~/.npmrc"), "{}", written[3].1);
    assert!(
        written[4].1.contains("into ~/.gitconfig"),
        "{}",
        written[4].1
    );
    // The ARG findings stay, and the default value is shown nowhere.
    assert_eq!(
        r.findings
            .iter()
            .filter(|f| f.rule == "dockerfile-secret" && f.message.starts_with("ARG"))
            .count(),
        2,
        "{:?}",
        hits(&r)
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("Sup3rSecretValue"), "{json}");
    assert!(!printed_fields(&r).contains("Sup3rSecretValue"));

    let no = [
        // single quotes: the shell writes the name, not the value
        "RUN echo '$SSH_PRIVATE_KEY' > /tmp/literal",
        // used, not stored
        "RUN ssh-agent sh -c 'echo \"$SSH_PRIVATE_KEY\" | ssh-add - && git clone git@example.com:x/y.git'",
        // written and removed in the same RUN
        "RUN echo \"$SSH_PRIVATE_KEY\" > /root/.ssh/id_rsa && git clone git@example.com:x/y.git && rm -rf /root/.ssh",
        // a heredoc with a quoted delimiter is not expanded
        "RUN cat > /tmp/key <<'EOF'\n$SSH_PRIVATE_KEY\nEOF",
    ];
    for ins in no {
        let text = format!("FROM debian:12\nARG SSH_PRIVATE_KEY\n{ins}\nUSER 10001\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        assert!(
            !r.findings
                .iter()
                .any(|f| f.message.starts_with("RUN writes build argument")),
            "{ins}: {:?}",
            hits(&r)
        );
    }
    // Out of scope: an ARG of another stage, or a global ARG not declared again in the stage.
    let other = "ARG SSH_PRIVATE_KEY\nFROM debian:12 AS a\nARG SSH_PRIVATE_KEY\nFROM debian:12\nRUN echo \"$SSH_PRIVATE_KEY\" > /tmp/k\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, other);
    assert!(
        !r.findings
            .iter()
            .any(|f| f.message.starts_with("RUN writes build argument")),
        "{:?}",
        hits(&r)
    );
    // An unquoted heredoc expands it; a builder stage says so.
    let heredoc = "FROM debian:12 AS build\nARG SSH_PRIVATE_KEY\nRUN cat > /root/.ssh/id_ed25519 <<EOF\n${SSH_PRIVATE_KEY}\nEOF\nFROM debian:12\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, heredoc);
    let f = r
        .findings
        .iter()
        .find(|f| f.message.starts_with("RUN writes build argument"))
        .unwrap_or_else(|| panic!("{:?}", hits(&r)));
    assert_eq!(f.location.line, 3);
    assert!(f.message.contains("builder stage"), "{}", f.message);
}

#[test]
fn hard_links_in_a_directory_are_separate_files() {
    // `h/Dockerfile.dev` hard-linked to `h/Dockerfile` shares its device and inode; both are
    // artifacts and both are reported.
    let d = tempdir("hardlinks");
    std::fs::create_dir_all(d.join("h")).unwrap();
    std::fs::write(
        d.join("h/Dockerfile"),
        "FROM debian:12\nRUN apt-get install -y curl\n",
    )
    .unwrap();
    std::fs::hard_link(d.join("h/Dockerfile"), d.join("h/Dockerfile.dev")).unwrap();
    let r = scan_paths(&[d.join("h")], &ScanOptions::default());
    let mut files: Vec<&str> = r.files.iter().map(|f| f.path.as_str()).collect();
    files.sort();
    assert_eq!(
        files,
        vec![
            d.join("h/Dockerfile").display().to_string(),
            d.join("h/Dockerfile.dev").display().to_string()
        ]
    );
    let mut reported: Vec<&str> = r
        .findings
        .iter()
        .map(|f| f.location.path.as_str())
        .collect();
    reported.sort();
    reported.dedup();
    assert_eq!(reported.len(), 2, "{:?}", reported);
    // Named twice, by its name and through the directory, the same file is still scanned once.
    let r = scan_paths(
        &[d.join("h"), d.join("h/./Dockerfile.dev")],
        &ScanOptions::default(),
    );
    assert_eq!(r.files.len(), 2, "{:?}", r.files);
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn pitfall_secret_argument_sent_by_a_download_is_not_written_into_its_output() {
    // curl's output is the server's response, not its arguments: the token it sends is not
    // stored in the file it writes.
    let no = [
        "RUN curl -fsSL -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.github.com/x > /tmp/release.json",
        "RUN curl -fsSL -H \"Authorization: Bearer $GITHUB_TOKEN\" https://api.github.com/x | tee /tmp/release.json",
        "RUN wget -qO- --header \"Authorization: token ${GITHUB_TOKEN}\" https://x/y | tar -xz -C /opt > /tmp/log",
        "RUN pip install --index-url \"https://u:${GITHUB_TOKEN}@pypi.example.com/simple\" foo==1.0 > /tmp/pip.log 2>&1",
        "RUN git clone https://${GITHUB_TOKEN}@github.com/x/y.git /src >> /tmp/clone.log",
        "RUN echo \"$GITHUB_TOKEN\" | curl -d @- https://x/y > /tmp/response.json",
        "RUN curl -H \"Authorization: Bearer $GITHUB_TOKEN\" https://x/y | base64 > /tmp/release.b64",
    ];
    for ins in no {
        let text = format!("FROM debian:12\nARG GITHUB_TOKEN\n{ins}\nUSER 10001\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        assert!(
            !r.findings
                .iter()
                .any(|f| f.message.starts_with("RUN writes build argument")),
            "{ins}: {:?}",
            hits(&r)
        );
    }
    // What prints the value, and filters after it, still write it.
    let yes = [
        ("RUN curl -fsSL https://x/y > /tmp/a && echo \"$GITHUB_TOKEN\" > /tmp/token", "/tmp/token"),
        ("RUN printf '%s' \"$GITHUB_TOKEN\" | base64 | tr -d '\\n' > /tmp/t64", "/tmp/t64"),
        ("RUN base64 -d <<< \"$GITHUB_TOKEN\" > /tmp/token", "/tmp/token"),
        ("RUN cat <<EOF | sed 's/^/x/' > /tmp/netrc\nmachine github.com password ${GITHUB_TOKEN}\nEOF", "/tmp/netrc"),
        ("RUN sed \"s/@TOKEN@/$GITHUB_TOKEN/\" /tmp/npmrc.in > /root/.npmrc", "/root/.npmrc"),
        ("RUN echo \"$GITHUB_TOKEN\" | dd of=/tmp/token", "/tmp/token"),
    ];
    for (ins, path) in yes {
        let text = format!("FROM debian:12\nARG GITHUB_TOKEN\n{ins}\nUSER 10001\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        let f = r
            .findings
            .iter()
            .find(|f| f.message.starts_with("RUN writes build argument"))
            .unwrap_or_else(|| panic!("{ins}: {:?}", hits(&r)));
        assert!(
            f.message.contains(&format!("GITHUB_TOKEN into {path}:")),
            "{ins}: {}",
            f.message
        );
    }
}

#[test]
fn pitfall_ampersand_redirections_are_read_as_redirections() {
    // `&>`, `&>>` and `2>&1` are redirections, not a command put in the background.
    let text = "FROM debian:12\nARG NPM_TOKEN\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" &> /root/.npmrc\nRUN echo \"x${NPM_TOKEN}\" 2>&1 | tee /root/.npmrc2\nUSER 10001\n";
    let r = scan("Dockerfile", ArtifactKind::Dockerfile, text);
    let written: Vec<(u32, &str)> = r
        .findings
        .iter()
        .filter(|f| f.message.starts_with("RUN writes build argument"))
        .map(|f| (f.location.line, f.message.as_str()))
        .collect();
    assert_eq!(written.len(), 2, "{:?}", hits(&r));
    assert!(
        written[0].1.contains("NPM_TOKEN into /root/.npmrc:"),
        "{written:?}"
    );
    assert!(
        written[1].1.contains("NPM_TOKEN into /root/.npmrc2:"),
        "{written:?}"
    );
    for ins in [
        "RUN echo 'app ALL=(ALL) NOPASSWD:ALL' 2>&1 | tee /etc/sudoers.d/app",
        "RUN echo 'app ALL=(ALL) NOPASSWD:ALL' &>> /etc/sudoers",
        "RUN echo 'app ALL=(ALL) NOPASSWD:ALL' &> /etc/sudoers.d/app",
    ] {
        let text = format!("FROM debian:12\n{ins}\nUSER app\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == "dockerfile-sudoers-nopasswd")
            .unwrap_or_else(|| panic!("{ins}: {:?}", hits(&r)));
        assert!(f.message.contains("user app"), "{ins}: {}", f.message);
    }
    // A redirection is not a package.
    for ins in [
        "RUN pip install foo==1.0 2>&1 | tee log",
        "RUN pip install foo==1.0 2> /tmp/err.log",
        "RUN pip install foo==1.0 &> /tmp/pip.log",
        "RUN apt-get install -y curl=7.88.1-10 >/dev/null 2>&1",
    ] {
        let text = format!("FROM debian:12\n{ins}\nUSER 10001\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        let unpinned: Vec<&str> = r
            .findings
            .iter()
            .filter(|f| f.rule == "dockerfile-unpinned-packages")
            .map(|f| f.message.as_str())
            .collect();
        assert!(unpinned.is_empty(), "{ins}: {unpinned:?}");
    }
}

#[test]
fn pitfall_sudoers_sed_scripts_and_rule_owners_are_read_properly() {
    // Deleting NOPASSWD rules hardens the image; an address is not an `a`/`i`/`c` command.
    for ins in [
        "RUN sed -i '/^jenkins.*NOPASSWD/d' /etc/sudoers",
        "RUN sed -i -e '/^%admin.*NOPASSWD/d' -e '/^app/d' /etc/sudoers",
        "RUN sed -i '\\,^ci.*NOPASSWD,d' /etc/sudoers",
        "RUN sed -i '3,$ {/NOPASSWD/d}' /etc/sudoers",
        "RUN sed -i 's/NOPASSWD://' /etc/sudoers",
    ] {
        let text = format!("FROM debian:12\n{ins}\nUSER app\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        assert!(
            !has(&r, "dockerfile-sudoers-nopasswd"),
            "{ins}: {:?}",
            hits(&r)
        );
    }
    let yes = [
        (
            "RUN sed -i '$a app ALL=(ALL) NOPASSWD:ALL' /etc/sudoers",
            "user app",
        ),
        (
            "RUN sed -i '/^root/a deploy ALL=(ALL) NOPASSWD: ALL' /etc/sudoers",
            "user deploy",
        ),
        (
            "RUN sed -i -e '/^#/d' -e '1i %ops ALL=(ALL) NOPASSWD: ALL' /etc/sudoers",
            "group ops",
        ),
        (
            "RUN printf '%s ALL=(ALL) NOPASSWD:ALL\\n' app > /etc/sudoers.d/app",
            "user app",
        ),
        (
            "RUN echo app ALL=\\(ALL\\) NOPASSWD:ALL >> /etc/sudoers",
            "user app",
        ),
        (
            "RUN echo \"$USERNAME ALL=(ALL) NOPASSWD:ALL\" > /etc/sudoers.d/dev",
            "a user can",
        ),
    ];
    for (ins, who) in yes {
        let text = format!("FROM debian:12\n{ins}\nUSER app\n");
        let r = scan("Dockerfile", ArtifactKind::Dockerfile, &text);
        let f = r
            .findings
            .iter()
            .find(|f| f.rule == "dockerfile-sudoers-nopasswd")
            .unwrap_or_else(|| panic!("{ins}: {:?}", hits(&r)));
        assert!(f.message.contains(who), "{ins}: {}", f.message);
    }
}

#[test]
fn rbac_grants_follow_the_api_groups_of_the_rule() {
    // `verbs: ["*"]` on every resource of `apps` and `batch` covers no role, user or secret:
    // bind, escalate and impersonate exist only for the RBAC, core and authentication groups,
    // and secrets and pods/exec are core resources. It can still create workloads.
    let role = |groups: &str, resources: &str, verbs: &str| {
        format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: r\n  namespace: app\nrules:\n  - apiGroups: {groups}\n    resources: {resources}\n    verbs: {verbs}\n")
    };
    let check = |text: &str, escalate: Option<&str>, secrets: bool, exec: bool| {
        let r = scan("rbac.yaml", ArtifactKind::Kubernetes, text);
        let got: Vec<String> = messages_of(&r, "k8s-rbac-escalate")
            .into_iter()
            .map(|(_, m)| m)
            .collect();
        let want: Vec<String> = escalate
            .map(|m| format!("verbs * (includes {m})"))
            .into_iter()
            .collect();
        assert_eq!(got, want, "{text}\n{:?}", hits(&r));
        assert_eq!(
            has(&r, "k8s-rbac-secrets"),
            secrets,
            "{text}\n{:?}",
            hits(&r)
        );
        assert_eq!(has(&r, "k8s-rbac-pod-exec"), exec, "{text}\n{:?}", hits(&r));
    };
    check(
        &role("[\"apps\", \"batch\"]", "[\"*\"]", "[\"*\"]"),
        None,
        false,
        true,
    );
    check(
        &role("[\"rbac.authorization.k8s.io\"]", "[\"*\"]", "[\"*\"]"),
        Some("bind, escalate"),
        false,
        false,
    );
    check(
        &role("[\"authentication.k8s.io\"]", "[\"*\"]", "[\"*\"]"),
        Some("impersonate"),
        false,
        false,
    );
    check(
        &role("[\"\"]", "[\"*\"]", "[\"*\"]"),
        Some("impersonate"),
        true,
        true,
    );
    check(
        &role("[\"*\"]", "[\"*\"]", "[\"*\"]"),
        Some("bind, escalate, impersonate"),
        true,
        true,
    );
    // The names alone, in a group that does not serve them.
    check(
        &role(
            "[\"apps\"]",
            "[\"roles\", \"users\", \"userextras/scopes\"]",
            "[\"*\"]",
        ),
        None,
        false,
        false,
    );
    check(
        &role("[\"apps\"]", "[\"secrets\"]", "[\"get\", \"list\"]"),
        None,
        false,
        false,
    );
    check(
        &role("[\"apps\"]", "[\"pods/exec\", \"pods\"]", "[\"create\"]"),
        None,
        false,
        false,
    );
    check(
        &role("[\"\"]", "[\"secrets\"]", "[\"get\"]"),
        None,
        true,
        false,
    );
    check(
        &role("[\"\", \"apps\"]", "[\"pods/exec\"]", "[\"create\"]"),
        None,
        false,
        true,
    );
    check(
        &role("[\"batch\"]", "[\"jobs\"]", "[\"create\"]"),
        None,
        false,
        true,
    );
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    assert_eq!(
        unsafe { libc::mkfifo(c.as_ptr(), 0o600) },
        0,
        "mkfifo {}",
        path.display()
    );
}

/// `bulkhead scan <(helm template chart)` or a named pipe: what the user named is read, as `cat`
/// would. It used to be walked as if it were a directory, found empty, and left out of the report
/// without a word ("0 findings in 0 files", exit 0).
#[test]
fn a_pipe_named_on_the_command_line_is_read_and_scanned() {
    let d = tempdir("named-pipe");
    let pipe = d.join("Dockerfile");
    mkfifo(&pipe);
    let writer = {
        let pipe = pipe.clone();
        std::thread::spawn(move || std::fs::write(pipe, "FROM debian:12\nUSER root\n").unwrap())
    };
    let r = scan_paths(std::slice::from_ref(&pipe), &ScanOptions::default());
    writer.join().unwrap();
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(r.files.len(), 1, "{:?}", r.files);
    assert!(
        r.findings
            .iter()
            .any(|f| f.rule == "dockerfile-root-final-stage"),
        "{:?}",
        r.findings.iter().map(|f| &f.rule).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A name that leads to a device that never ends (`compose.yaml -> /dev/zero`) is read only up to
/// the size limit and reported as an error naming the file; it neither fills memory nor vanishes.
#[test]
fn a_device_named_on_the_command_line_is_an_error_not_an_empty_report() {
    let d = tempdir("named-device");
    let link = d.join("compose.yaml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let mut opts = ScanOptions::default();
    opts.limits.max_bytes = 4096;
    let r = scan_paths(std::slice::from_ref(&link), &opts);
    assert!(r.files.is_empty(), "{:?}", r.files);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(r.errors[0].path, link.display().to_string());
    assert_eq!(
        r.errors[0].message,
        "cannot read: holds more than the limit of 4096 bytes; not read"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A regular file over the size limit is refused before it is read, with both sizes.
#[test]
fn a_file_over_the_size_limit_is_refused_with_both_sizes() {
    let d = tempdir("over-limit");
    let big = d.join("Dockerfile");
    std::fs::write(
        &big,
        format!("FROM debian:12\n{}", "# padding\n".repeat(1000)),
    )
    .unwrap();
    let mut opts = ScanOptions::default();
    opts.limits.max_bytes = 4096;
    let r = scan_paths(std::slice::from_ref(&big), &opts);
    assert_eq!(r.errors.len(), 1, "{:?}", r.errors);
    assert_eq!(
        r.errors[0].message,
        "cannot read: is 10015 bytes, more than the limit of 4096 bytes; not read"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// A limit given alone also sets the request (Kubernetes copies it), so a container with limits
/// only is not reported; a request alone caps nothing, so it still is, for its missing limit.
#[test]
fn kubernetes_limits_alone_set_the_requests() {
    let pod = |resources: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: app\n    image: nginx:1.25\n{resources}")
    };
    let messages = |text: &str| -> Vec<String> {
        scan("pod.yaml", ArtifactKind::Kubernetes, text)
            .findings
            .iter()
            .filter(|f| matches!(f.rule.as_str(), "k8s-cpu-limits" | "k8s-memory-limits"))
            .map(|f| format!("{}: {}", f.rule, f.message))
            .collect()
    };
    let limits_only = pod("    resources:\n      limits: {cpu: 100m, memory: 64Mi}\n");
    assert_eq!(messages(&limits_only), Vec::<String>::new());
    let requests_only = pod("    resources:\n      requests: {cpu: 100m, memory: 64Mi}\n");
    assert_eq!(
        messages(&requests_only),
        [
            "k8s-cpu-limits: no cpu limits",
            "k8s-memory-limits: no memory limits"
        ]
    );
    assert_eq!(
        messages(&pod("")),
        [
            "k8s-cpu-limits: no cpu requests or limits",
            "k8s-memory-limits: no memory requests or limits"
        ]
    );
}

/// A hostPath volume of `/`, of a system directory or of a parent of one is its own finding at
/// compose-sensitive-mount's severity (high), so `--fail-on high` stops a pod that mounts the
/// node's root file system; other host paths stay k8s-host-path (medium) and runtime sockets
/// k8s-runtime-socket (critical), each volume reported once.
#[test]
fn sensitive_host_path_volumes_are_high_and_reported_once() {
    let pod = |path: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    volumeMounts: [{{name: host, mountPath: /host, readOnly: true}}]\n  volumes:\n  - name: host\n    hostPath:\n      path: {path}\n"
        )
    };
    let volume_findings = |path: &str| -> Vec<(String, bulkhead_scan::Severity, u32)> {
        let r = scan("pod.yaml", ArtifactKind::Kubernetes, &pod(path));
        r.findings
            .iter()
            .filter(|f| {
                matches!(
                    f.rule.as_str(),
                    "k8s-host-path" | "k8s-sensitive-mount" | "k8s-runtime-socket"
                )
            })
            .map(|f| (f.rule.clone(), f.severity, f.location.line))
            .collect()
    };
    use bulkhead_scan::Severity::{Critical, High, Medium};
    for path in [
        "/",
        "//",
        "/etc",
        "/etc/",
        "//etc",
        "/etc/.",
        "/./etc",
        "/var/lib/kubelet",
        "/root",
        "/proc",
        "/sys",
        "/boot",
        "/var",
        "/var/lib",
        "/usr",
    ] {
        assert_eq!(
            volume_findings(path),
            [("k8s-sensitive-mount".to_string(), High, 12)],
            "{path}"
        );
    }
    for path in ["/data", "/srv/app", "/var/lib/app", "/opt/cache/"] {
        assert_eq!(
            volume_findings(path),
            [("k8s-host-path".to_string(), Medium, 12)],
            "{path}"
        );
    }
    for path in [
        "/var/run/docker.sock",
        "/var/run",
        "/run/containerd/containerd.sock",
    ] {
        assert_eq!(
            volume_findings(path),
            [("k8s-runtime-socket".to_string(), Critical, 12)],
            "{path}"
        );
    }
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, &pod("/"));
    let f = finding_at(&r, "k8s-sensitive-mount", 12);
    assert_eq!(
        f.title,
        "Sensitive host directory mounted as a hostPath volume"
    );
    assert_eq!(f.object, "Pod/p");
    assert!(
        f.message
            .starts_with("volume host mounts host path / (the host's whole file system"),
        "{}",
        f.message
    );
    assert_eq!(f.control.as_deref(), Some("k8s.pss.no_hostpath"));
    assert_eq!(
        f.benchmark_refs.get("pss").map(String::as_str),
        Some("baseline")
    );
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, &pod("/var"));
    let m = &finding_at(&r, "k8s-sensitive-mount", 12).message;
    assert!(
        m.contains("a parent of the sensitive host directories /var/run,")
            && m.contains("/var/lib/kubelet"),
        "{m}"
    );
    // The rule is suppressed by its own name and by the other tools' names for it.
    let suppressed = pod("/").replace(
        "metadata: {name: p}",
        "metadata: {name: p, annotations: {ignore.bulkhead.dev/sensitive-host-mounts: node agent}}",
    );
    let r = scan("pod.yaml", ArtifactKind::Kubernetes, &suppressed);
    assert!(!has(&r, "k8s-sensitive-mount"), "{:?}", hits(&r));
}

/// Compose judges host paths with the same helper: other spellings of a system directory and
/// parents of system directories are compose-sensitive-mount findings too.
#[test]
fn compose_sensitive_mounts_are_recognised_however_spelled_and_for_parents() {
    let text = "services:\n  web:\n    image: web:1\n    volumes:\n      - //etc:/e:ro\n      - /./etc/.:/e2\n      - /var:/v\n      - /srv/data:/data\n      - /var/run/./docker.sock:/s\n";
    let r = scan("compose.yaml", ArtifactKind::Compose, text);
    assert_eq!(
        lines_of(&r, "compose-sensitive-mount"),
        vec![5, 6, 7],
        "{:?}",
        hits(&r)
    );
    assert_eq!(lines_of(&r, "compose-runtime-socket"), vec![9]);
    let m = &finding_at(&r, "compose-sensitive-mount", 7).message;
    assert!(m.contains("parent") && m.contains("/var/lib/docker"), "{m}");
}
