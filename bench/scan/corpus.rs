//! Labelled corpus and benchmark for `bulkhead scan` (run through bench/scan/run.sh).
//!
//! `generate DIR [N_DOCKERFILES N_K8S SEED]` writes N Dockerfiles and N Kubernetes files, half
//! secure (they must produce no finding at all) and half insecure (each with one to three injected
//! problems), plus DIR/labels.json: every finding each file must produce, as (path, rule, line).
//! Because the secure files are fully clean, the labels are complete: precision counts every
//! finding of every rule, not only the injected ones.
//!
//! `measure BIN DIR` runs `BIN scan DIR --format json`, and prints wall time, peak memory (the
//! child's maximum resident set size), recall and precision against the labels, and every miss and
//! false alarm (up to 20 of each).

use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Small deterministic PRNG (xorshift64*), so a seed always gives the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545F4914F6CDD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| format!("{:x}", self.next() % 16))
            .collect()
    }
}

/// An expected finding: the rule and a marker whose first line in the file is the finding's line.
struct Expect {
    rule: &'static str,
    marker: String,
}

fn e(rule: &'static str, marker: impl Into<String>) -> Expect {
    Expect {
        rule,
        marker: marker.into(),
    }
}

/// 1-based line of the first occurrence of `marker`; a marker starting with a line break names
/// the line that follows that break.
fn line_of(text: &str, marker: &str) -> usize {
    let padded = format!("\n{text}");
    let at = padded
        .find(marker)
        .unwrap_or_else(|| panic!("marker {marker:?} not in:\n{text}"));
    let n = padded[..at].matches('\n').count();
    if marker.starts_with('\n') {
        n + 1
    } else {
        n
    }
}

// ---------------- Dockerfiles ----------------

fn digest(r: &mut Rng) -> String {
    format!("sha256:{}", r.hex(64))
}

/// A Dockerfile and what it must produce.
fn dockerfile(r: &mut Rng, i: usize, insecure: bool) -> (String, Vec<Expect>) {
    let base = format!("alpine:3.{}@{}", 17 + i % 4, digest(r));
    let mut from = format!("FROM {base}");
    let mut pre: Vec<String> = Vec::new(); // lines before the final FROM (builder stage)
    let mut body: Vec<String> = vec![
        format!("RUN apk add --no-cache curl=8.{}.0-r0", i % 9),
        "WORKDIR /app".into(),
        format!("COPY app-{i} /app/app"),
    ];
    let mut user = Some("USER 10001:10001".to_string());
    let mut health = Some("HEALTHCHECK CMD [\"/app/app\", \"health\"]".to_string());
    let tail = "CMD [\"/app/app\"]".to_string();
    let mut expect = Vec::new();
    if insecure {
        let n = 1 + r.below(3);
        let mut chosen = BTreeSet::new();
        while chosen.len() < n {
            chosen.insert(r.below(12));
        }
        let mut user_variant = false;
        for k in chosen {
            // the three user variants exclude each other
            if k <= 2 {
                if user_variant {
                    continue;
                }
                user_variant = true;
            }
            match k {
                0 => {
                    user = Some("USER root".to_string());
                    expect.push(e("dockerfile-root-final-stage", "\nUSER root\n"));
                }
                1 => {
                    // builder stage with a USER; the final stage has none (PITFALLS scanners 1)
                    pre = vec![
                        format!("FROM golang:1.22@{} AS build", digest(r)),
                        "USER builder".into(),
                        format!("RUN go build -o /out/app-{i} ."),
                        String::new(),
                    ];
                    body.push(format!("COPY --from=build /out/app-{i} /app/app2"));
                    user = None;
                    expect.push(e("dockerfile-no-user", FINAL_FROM));
                }
                2 => {
                    pre.insert(0, "ARG RUN_AS=0".into());
                    body.push("ARG RUN_AS".into());
                    user = Some("USER ${RUN_AS}".to_string());
                    expect.push(e("dockerfile-root-final-stage", "\nUSER ${RUN_AS}\n"));
                }
                3 => {
                    body.push(format!("ENV DB_PASSWORD={}", r.hex(16)));
                    expect.push(e("dockerfile-secret", "ENV DB_PASSWORD="));
                }
                4 => {
                    body.push(format!("ADD config-{i}.yml /app/config.yml"));
                    expect.push(e(
                        "dockerfile-add-instead-of-copy",
                        format!("ADD config-{i}.yml"),
                    ));
                }
                5 => {
                    from = "FROM alpine:latest".into();
                    expect.push(e("dockerfile-latest-tag", "FROM alpine:latest"));
                    expect.push(e("dockerfile-image-not-pinned", "FROM alpine:latest"));
                }
                6 => {
                    body.push(format!(
                        "RUN curl -fsSL https://get.example.invalid/{i}.sh | sh"
                    ));
                    expect.push(e("dockerfile-curl-pipe-shell", format!("/{i}.sh | sh")));
                    expect.push(e("dockerfile-pipefail", format!("/{i}.sh | sh")));
                }
                7 => {
                    body.push(format!("RUN sudo chown -R 10001 /app/data{i}"));
                    expect.push(e(
                        "dockerfile-sudo",
                        format!("sudo chown -R 10001 /app/data{i}"),
                    ));
                }
                8 => {
                    // a heredoc whose text looks like instructions, then a real finding after it
                    body.push("RUN <<EOF\nset -e\necho 'USER root'\necho 'ADD x y'\nEOF".into());
                    body.push(format!("ADD after-heredoc-{i}.txt /app/"));
                    expect.push(e(
                        "dockerfile-add-instead-of-copy",
                        format!("ADD after-heredoc-{i}"),
                    ));
                }
                9 => {
                    health = None;
                    expect.push(e("dockerfile-healthcheck-missing", FINAL_FROM));
                }
                10 => {
                    body.push("EXPOSE 8080 22".to_string());
                    expect.push(e("dockerfile-expose-ssh", "EXPOSE 8080 22"));
                }
                _ => {
                    body.push(format!("RUN chmod u+s /app/tool{i}"));
                    expect.push(e("dockerfile-setuid", format!("chmod u+s /app/tool{i}")));
                }
            }
        }
    }
    // Markers that name the final FROM must point at the final FROM line, not a builder FROM.
    let mut text = String::new();
    for l in &pre {
        text.push_str(l);
        text.push('\n');
    }
    let from_line = text.matches('\n').count() + 1;
    text.push_str(&from);
    text.push('\n');
    for l in &body {
        text.push_str(l);
        text.push('\n');
    }
    if let Some(u) = user {
        text.push_str(&u);
        text.push('\n');
    }
    if let Some(h) = health {
        text.push_str(&h);
        text.push('\n');
    }
    text.push_str(&tail);
    text.push('\n');
    // Resolve the final-FROM marker to that line's own text (unique: it is the last FROM).
    let from_text = text.lines().nth(from_line - 1).unwrap_or("").to_string();
    for x in &mut expect {
        if x.marker == FINAL_FROM {
            x.marker = format!("\n{from_text}\n");
        }
    }
    (text, expect)
}

/// Marker for "the final FROM line", resolved once the file is assembled.
const FINAL_FROM: &str = "<final FROM>";

// ---------------- Kubernetes ----------------

fn k8s(r: &mut Rng, i: usize, insecure: bool) -> (String, Vec<Expect>) {
    let ns = format!("team-{}", i % 50);
    let image = format!(
        "registry.example.com/web:1.{}.{}@{}",
        i % 7,
        i % 11,
        digest(r)
    );
    let pod_sc = vec![
        "runAsNonRoot: true".to_string(),
        "runAsUser: 10001".into(),
        "runAsGroup: 10001".into(),
        "seccompProfile: {type: RuntimeDefault}".into(),
    ];
    let mut pod_extra: Vec<String> = Vec::new();
    let mut c_sc = vec![
        "allowPrivilegeEscalation: false".to_string(),
        "readOnlyRootFilesystem: true".into(),
        "capabilities: {drop: [ALL]}".into(),
    ];
    let mut c_extra: Vec<String> = Vec::new();
    let mut c_image = image.clone();
    let mut volumes: Vec<String> = Vec::new();
    let mut init: Vec<String> = Vec::new();
    let mut kind = "Deployment";
    let mut as_list = false;
    let mut expect = Vec::new();
    if insecure {
        let n = 1 + r.below(2);
        let mut chosen = BTreeSet::new();
        while chosen.len() < n {
            chosen.insert(r.below(12));
        }
        for k in chosen {
            match k {
                0 => {
                    c_sc.push(format!("privileged: true # p{i}"));
                    expect.push(e("k8s-privileged", format!("privileged: true # p{i}")));
                }
                1 => {
                    // the container overrides the pod's runAsUser (PITFALLS scanners 4)
                    c_sc.push(format!("runAsUser: 0 # o{i}"));
                    expect.push(e("k8s-run-as-root", format!("runAsUser: 0 # o{i}")));
                }
                2 => {
                    pod_extra.push(format!("hostPID: true # h{i}"));
                    expect.push(e("k8s-host-pid", format!("hostPID: true # h{i}")));
                }
                3 => {
                    volumes.push(format!("- name: sock\n        hostPath: {{path: /run/containerd/containerd.sock}} # s{i}"));
                    expect.push(e(
                        "k8s-runtime-socket",
                        format!("/run/containerd/containerd.sock}} # s{i}"),
                    ));
                }
                4 => {
                    c_sc[0] = format!("allowPrivilegeEscalation: true # e{i}");
                    expect.push(e(
                        "k8s-privilege-escalation",
                        format!("allowPrivilegeEscalation: true # e{i}"),
                    ));
                }
                5 => {
                    c_sc[1] = format!("readOnlyRootFilesystem: false # w{i}");
                    expect.push(e(
                        "k8s-writable-root-fs",
                        format!("readOnlyRootFilesystem: false # w{i}"),
                    ));
                }
                6 => {
                    c_extra.push(format!(
                        "env:\n        - name: API_TOKEN\n          value: \"{}\"",
                        r.hex(24)
                    ));
                    expect.push(e("k8s-env-secret", "value: \""));
                }
                7 => {
                    as_list = true;
                    pod_extra.push(format!("hostNetwork: true # n{i}"));
                    expect.push(e("k8s-host-network", format!("hostNetwork: true # n{i}")));
                }
                8 => {
                    init.push(format!("- name: init-{i}\n        image: {image}"));
                    for rule in [
                        "k8s-privilege-escalation",
                        "k8s-writable-root-fs",
                        "k8s-capabilities-not-dropped",
                        "k8s-net-raw",
                        "k8s-cpu-limits",
                        "k8s-memory-limits",
                    ] {
                        expect.push(e(rule, format!("- name: init-{i}")));
                    }
                }
                9 => {
                    kind = "CronJob";
                    pod_extra.push(format!("hostIPC: true # c{i}"));
                    expect.push(e("k8s-host-ipc", format!("hostIPC: true # c{i}")));
                }
                10 => {
                    c_sc[2] = format!("capabilities: {{drop: [ALL], add: [SYS_ADMIN]}} # a{i}");
                    expect.push(e(
                        "k8s-dangerous-capabilities",
                        format!("add: [SYS_ADMIN]}} # a{i}"),
                    ));
                }
                _ => {
                    c_image = format!("nginx:latest # l{i}");
                    expect.push(e("k8s-image-latest", format!("nginx:latest # l{i}")));
                    expect.push(e("k8s-image-not-pinned", format!("nginx:latest # l{i}")));
                }
            }
        }
    }
    let ind = |n: usize, lines: &[String]| {
        lines
            .iter()
            .map(|l| format!("{}{l}\n", " ".repeat(n)))
            .collect::<String>()
    };
    let mut pod = String::new();
    pod.push_str(
        "serviceAccountName: web\nautomountServiceAccountToken: false\nhostUsers: false\n",
    );
    for l in &pod_extra {
        pod.push_str(l);
        pod.push('\n');
    }
    pod.push_str("securityContext:\n");
    pod.push_str(&ind(2, &pod_sc));
    if !init.is_empty() {
        pod.push_str("initContainers:\n");
        for c in &init {
            pod.push_str(&format!("{}\n", c.replace("\n        ", "\n  ")));
        }
    }
    pod.push_str("containers:\n");
    pod.push_str(&format!(
        "- name: app\n  image: {c_image}\n  ports: [{{containerPort: 8080}}]\n  securityContext:\n"
    ));
    pod.push_str(&ind(4, &c_sc));
    pod.push_str("  resources:\n    requests: {cpu: 100m, memory: 128Mi}\n    limits: {cpu: 500m, memory: 256Mi}\n");
    pod.push_str("  livenessProbe: {httpGet: {path: /healthz, port: 8080}}\n  readinessProbe: {httpGet: {path: /ready, port: 8080}}\n");
    for x in &c_extra {
        pod.push_str(&format!("  {}\n", x.replace("\n        ", "\n  ")));
    }
    if !volumes.is_empty() {
        pod.push_str("volumes:\n");
        for v in &volumes {
            pod.push_str(&format!("{}\n", v.replace("\n        ", "\n  ")));
        }
    }
    let pod_lines: Vec<String> = pod.lines().map(str::to_string).collect();
    let mut text = String::new();
    if as_list {
        text.push_str("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n");
        text.push_str(&format!(
            "  metadata: {{name: web-{i}, namespace: {ns}}}\n  spec:\n"
        ));
        text.push_str(&ind(4, &pod_lines));
    } else if kind == "CronJob" {
        text.push_str(&format!("apiVersion: batch/v1\nkind: CronJob\nmetadata: {{name: job-{i}, namespace: {ns}}}\nspec:\n  schedule: \"*/5 * * * *\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n"));
        text.push_str(&ind(10, &pod_lines));
    } else {
        text.push_str(&format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n  namespace: {ns}\nspec:\n  replicas: 2\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n"));
        text.push_str(&ind(6, &pod_lines));
    }
    text.push_str(&format!("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: default-deny, namespace: {ns}}}\nspec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}\n"));
    // CronJobs are not long-running: no probes needed, and the container keeps its probes anyway.
    (text, expect)
}

fn generate(dir: &Path, n_docker: usize, n_k8s: usize, seed: u64) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("docker")).unwrap();
    std::fs::create_dir_all(dir.join("k8s")).unwrap();
    let mut r = Rng(seed | 1);
    let mut labels: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut write = |rel: String, text: String, expect: Vec<Expect>| {
        std::fs::write(dir.join(&rel), &text).unwrap();
        let v: Vec<Value> = expect
            .iter()
            .map(|x| json!({"rule": x.rule, "line": line_of(&text, &x.marker)}))
            .collect();
        labels.insert(rel, v);
    };
    for i in 0..n_docker {
        let (t, x) = dockerfile(&mut r, i, i % 2 == 1);
        write(format!("docker/svc-{i:04}.Dockerfile"), t, x);
    }
    for i in 0..n_k8s {
        let (t, x) = k8s(&mut r, i, i % 2 == 1);
        write(format!("k8s/app-{i:04}.yaml"), t, x);
    }
    let total: usize = labels.values().map(Vec::len).sum();
    std::fs::write(
        dir.join("labels.json"),
        serde_json::to_string_pretty(&json!({"files": labels})).unwrap(),
    )
    .unwrap();
    println!("generated {n_docker} Dockerfiles and {n_k8s} Kubernetes files in {} ({total} labelled findings)", dir.display());
}

fn peak_rss_children_kib() -> i64 {
    // SAFETY: getrusage only writes into the struct we pass.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru);
        ru.ru_maxrss
    }
}

fn measure(bin: &Path, dir: &Path) -> bool {
    let labels: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("labels.json")).expect("labels.json: run generate first"),
    )
    .unwrap();
    let start = Instant::now();
    let out = Command::new(bin)
        .args(["scan", "--format", "json", "--fail-on", "never"])
        .arg(dir.join("docker"))
        .arg(dir.join("k8s"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run bulkhead");
    let wall = start.elapsed();
    let rss_kib = peak_rss_children_kib();
    assert!(
        out.status.success(),
        "bulkhead scan failed: {:?}",
        out.status
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("bulkhead.scan/1 JSON");
    let prefix = format!("{}/", dir.display());
    let actual: BTreeSet<(String, String, u64)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["location"]["path"].as_str().unwrap();
            (
                p.strip_prefix(&prefix).unwrap_or(p).to_string(),
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut expected = BTreeSet::new();
    for (path, list) in labels["files"].as_object().unwrap() {
        for x in list.as_array().unwrap() {
            expected.insert((
                path.clone(),
                x["rule"].as_str().unwrap().to_string(),
                x["line"].as_u64().unwrap(),
            ));
        }
    }
    let tp = actual.intersection(&expected).count();
    let recall = tp as f64 / expected.len().max(1) as f64;
    let precision = tp as f64 / actual.len().max(1) as f64;
    let files = report["summary"]["files"].as_u64().unwrap_or(0);
    let errors = report["summary"]["errors"].as_u64().unwrap_or(0);
    println!("files scanned     {files} ({errors} errors)");
    println!("wall time         {:.3} s", wall.as_secs_f64());
    println!(
        "peak memory       {:.1} MB (max RSS of the bulkhead process)",
        rss_kib as f64 / 1024.0
    );
    println!("labelled findings {}", expected.len());
    println!("reported findings {}", actual.len());
    println!(
        "recall            {:.2}% ({tp}/{})",
        recall * 100.0,
        expected.len()
    );
    println!(
        "precision         {:.2}% ({tp}/{})",
        precision * 100.0,
        actual.len()
    );
    for (what, set) in [
        ("missed", expected.difference(&actual).collect::<Vec<_>>()),
        (
            "false alarm",
            actual.difference(&expected).collect::<Vec<_>>(),
        ),
    ] {
        for (p, r, l) in set.iter().take(20) {
            println!("  {what}: {p}:{l} {r}");
        }
    }
    let ok = wall.as_secs_f64() < 1.0
        && rss_kib < 100 * 1024
        && recall > 0.99
        && precision > 0.99
        && errors == 0;
    println!(
        "targets (<1 s, <100 MB, recall and precision >99%): {}",
        if ok { "met" } else { "NOT met" }
    );
    ok
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => {
            let dir = PathBuf::from(args.get(2).expect("generate DIR"));
            let n = |i: usize, d: usize| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
            generate(&dir, n(3, 1000), n(4, 1000), n(5, 20260101) as u64);
        }
        Some("measure") => {
            let bin = PathBuf::from(args.get(2).expect("measure BIN DIR"));
            let dir = PathBuf::from(args.get(3).expect("measure BIN DIR"));
            if !measure(&bin, &dir) {
                std::process::exit(1);
            }
        }
        _ => {
            eprintln!(
                "usage: scan_corpus generate DIR [N_DOCKERFILES N_K8S SEED] | measure BIN DIR"
            );
            std::process::exit(2);
        }
    }
}
