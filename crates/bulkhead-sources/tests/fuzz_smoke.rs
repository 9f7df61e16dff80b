//! A stable-toolchain stand-in for the cargo-fuzz targets (fuzz/): deterministic mutations
//! (bit flips, truncation, duplication, splicing, deep nesting, long lines) of a seed corpus are
//! fed to the same entry points. The test passes when nothing panics; parse errors are expected.

use bulkhead_sources::fuzzing;

const SEEDS: &[&str] = &[
    "# escape=`\nFROM golang:1.22 AS build\nARG U=1000\nUSER ${U:-0}\nRUN <<EOF\necho hi\nEOF\nFROM build\nONBUILD USER root\nCOPY --from=build /a /b\n",
    "FROM alpine\nRUN apk add \\\n  curl \\\n  # comment\n  git\nUSER $NOPE:${X+y}\n",
    "services:\n  web:\n    image: nginx\n    privileged: \"yes\"\n    environment: [A=1, B]\n    volumes: [\"/a:/b:ro\", {type: bind, source: /c, target: /d}]\n    ports: [\"[::]:80:80\", 443]\n",
    "apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  apiVersion: v1\n  metadata: {name: a, annotations: {x: y}}\n  spec:\n    securityContext: {runAsNonRoot: yes}\n    containers: [{name: c, securityContext: {runAsUser: 0}}]\n    initContainers: [{name: i}]\n",
    "base: &b {a: [1, 2, {c: *b}]}\nx: {<<: *b}\n---\n{\"kind\": \"CronJob\", \"spec\": {\"jobTemplate\": {\"spec\": {\"template\": {\"spec\": {\"containers\": [{}]}}}}}}\n",
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

fn mutate(r: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + r.below(4) {
        match r.below(7) {
            0 if !v.is_empty() => {
                let i = r.below(v.len());
                v[i] ^= 1 << r.below(8);
            }
            1 => v.truncate(r.below(v.len() + 1)),
            2 if !v.is_empty() => {
                let a = r.below(v.len());
                let b = (a + r.below(64)).min(v.len());
                let chunk = v[a..b].to_vec();
                let at = r.below(v.len() + 1);
                v.splice(at..at, chunk);
            }
            3 => {
                let at = r.below(v.len() + 1);
                let b = r.below(other.len() + 1);
                v.splice(at..at, other[..b].iter().copied());
            }
            4 => {
                let at = r.below(v.len() + 1);
                let open =
                    [b"[".as_slice(), b"{", b"- ", b"a:\n ", b"<<EOF\n", b"\\\n"][r.below(6)];
                let deep: Vec<u8> = open
                    .iter()
                    .copied()
                    .cycle()
                    .take(open.len() * (1 + r.below(400)))
                    .collect();
                v.splice(at..at, deep);
            }
            5 => {
                let at = r.below(v.len() + 1);
                let b = [
                    b'"', b'\'', b'&', b'*', b'!', b'|', b'>', b'%', b'#', b'$', b'{', b'}', b'\t',
                    b'\r', 0xff, 0xc3,
                ][r.below(16)];
                v.insert(at, b);
            }
            _ => {
                let at = r.below(v.len() + 1);
                v.splice(at..at, std::iter::repeat_n(b'x', r.below(5000)));
            }
        }
    }
    v
}

#[test]
fn parsers_never_panic_on_mutated_inputs() {
    let mut r = Rng(0x9e3779b97f4a7c15);
    let iterations = std::env::var("FUZZ_SMOKE_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for i in 0..iterations {
        let seed = SEEDS[i % SEEDS.len()].as_bytes();
        let other = SEEDS[r.below(SEEDS.len())].as_bytes();
        let input = mutate(&mut r, seed, other);
        fuzzing::dockerfile(&input);
        fuzzing::compose(&input);
        fuzzing::kubernetes(&input);
    }
}
