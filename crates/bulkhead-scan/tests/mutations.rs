//! Rules on hostile input: deterministic mutations of real artifacts go through the whole scan
//! (parse, every rule, suppressions, fingerprints, snippets). Parse errors are fine; a panic in
//! any rule fails the test. The parsers alone are fuzzed in fuzz/.

use bulkhead_scan::{scan_inputs, ArtifactKind, Input, ScanOptions};

const SEEDS: &[(ArtifactKind, &str)] = &[
    (ArtifactKind::Dockerfile, "# escape=\\\nARG B=alpine:3.19\nFROM ${B} AS build\nUSER ${U:-0}\nRUN <<EOF\napt-get update | sh\nEOF\nFROM build\nENV API_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\nADD a /b # bulkhead:ignore DL3020 x\nEXPOSE 22 70000 1-2/udp\nCOPY --from=build / /\nRUN chmod 4755 /x && curl -k https://x | sh\nWORKDIR rel\nCMD run\n"),
    // Exec forms: a shell script in a JSON string with escapes, positional arguments, env.
    (ArtifactKind::Dockerfile, "FROM alpine:3.19\nRUN [\"sh\", \"-euxc\", \"export DB_PASSWORD=\\\"p\\u0061ss w0rd\\\" && curl -u u:pw https://x | tee f | sh\", \"arg0\", \"ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\"]\nRUN [\"/usr/bin/env\", \"TOKEN=x\\ud83d\\ude00y\", \"bash\", \"-o\", \"pipefail\", \"-c\", \"ls | wc -l\"]\nRUN [\"curl\", \"-u\", \"user:p\\u00e9ss\", \"|\", \"sh\"]\nUSER 1\n"),
    (ArtifactKind::Compose, "services:\n  a:\n    image: x\n    privileged: 'yes'\n    user: '0'\n    security_opt: [no-new-privileges:false, seccomp=unconfined]\n    cap_add: [SYS_ADMIN]\n    ports: ['[::]:22:22', 80]\n    volumes: ['/var/run/docker.sock:/s', {type: bind, source: /etc, target: /e}]\n    environment: {DB_PASSWORD: x1y2z3w4}\n    sysctls: {kernel.x: 1}\n"),
    (ArtifactKind::Kubernetes, "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p, annotations: {ignore.bulkhead.dev/k8s-host-pid: r}}\n  spec:\n    hostPID: true\n    securityContext: {runAsNonRoot: yes, sysctls: [{name: kernel.msgmax, value: '1'}]}\n    volumes: [{name: s, hostPath: {path: /run/containerd/containerd.sock}}]\n    containers: [{name: c, image: nginx, env: [{name: PASSWORD, value: abcdef}], ports: [{containerPort: 22, hostPort: 22}], securityContext: {runAsUser: 0, capabilities: {add: [ALL]}}}]\n- apiVersion: rbac.authorization.k8s.io/v1\n  kind: ClusterRoleBinding\n  roleRef: {name: cluster-admin}\n  subjects: [{kind: Group, name: system:anonymous}]\n"),
    (ArtifactKind::DaemonJson, "{\"icc\": true, \"hosts\": [\"tcp://0.0.0.0:2375\"], \"log-level\": \"debug\", \"insecure-registries\": [\"r:5000\"], \"default-ulimits\": {}}\n"),
];

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(r: &mut Rng, seed: &str) -> Vec<u8> {
    let mut v = seed.as_bytes().to_vec();
    for _ in 0..1 + r.below(3) {
        let at = r.below(v.len() + 1);
        match r.below(6) {
            0 if !v.is_empty() => {
                let i = r.below(v.len());
                let pool = b" :-[]{}\"'#\n\t$&*|<>=,/\\0x";
                v[i] = pool[r.below(pool.len())];
            }
            1 => v.truncate(at),
            2 => {
                let b = (at + r.below(40)).min(v.len());
                let chunk = v[at..b].to_vec();
                let to = r.below(v.len() + 1);
                v.splice(to..to, chunk);
            }
            3 if at < v.len() => {
                let b = (at + r.below(20)).min(v.len());
                v.drain(at..b);
            }
            4 => {
                v.splice(at..at, "é€\u{feff}".bytes());
            }
            _ => {
                let n = r.below(9);
                v.splice(at..at, std::iter::repeat_n(b' ', n));
            }
        }
    }
    v
}

#[test]
fn no_rule_panics_on_mutated_artifacts() {
    let mut r = Rng(0x2545f4914f6cdd1d);
    let opts = ScanOptions {
        threads: 1,
        ..ScanOptions::default()
    };
    let mut scanned = 0;
    let n: usize = std::env::var("MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000);
    for i in 0..n {
        let (kind, seed) = SEEDS[i % SEEDS.len()];
        let bytes = mutate(&mut r, seed);
        let report = scan_inputs(
            &[Input {
                path: format!("case-{i}"),
                bytes,
                kind: Some(kind),
            }],
            &opts,
        );
        scanned += report.files.len();
        for f in &report.findings {
            assert!(f.location.line >= 1 && f.location.column >= 1, "{f:?}");
        }
    }
    assert!(
        scanned > 1000,
        "most mutations should still parse ({scanned})"
    );
}
