//! Behaviour of `bulkhead scan` on real files: each test names the pitfall or point of the
//! issue it covers and would fail on the reference tools' behaviour.

use bulkhead_scan::{
    apply_edits, scan_inputs, scan_paths, ArtifactKind, Baseline, Config, Input, ScanOptions,
    ScanReport, SuppressionProblem, SuppressionSource,
};
use std::path::PathBuf;

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

#[test]
fn inline_suppressions_by_line_and_file_and_unused_ones_are_reported() {
    let text = "FROM alpine:3.19\n# bulkhead:ignore DL3002 demo image runs as root on purpose\nUSER root\nRUN sudo true # bulkhead:ignore dockerfile-sudo needed by the vendor script\n# bulkhead:ignore-file dockerfile-healthcheck-missing one-shot job\n# bulkhead:ignore dockerfile-apt stale comment\n# bulkhead:ignore no-such-rule typo\n";
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

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bulkhead-scan-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
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
