//! Golden outputs of `bulkhead audit`: a fixed snapshot of the end-to-end lab (collected once
//! from the testkit's private dockerd, then normalised so it is stable and holds nothing of the
//! machine it came from) is rendered in every format and must match the files under
//! `tests/golden/audit/` byte for byte. A renderer, catalog or evaluator change shows up here as a
//! readable diff of what users and CI systems see.
//!
//! Regenerate after checking that a difference is intended:
//! - `BULKHEAD_BLESS=1 cargo test -p bulkhead --test audit_golden` re-renders the outputs from the
//!   committed snapshot (no daemon needed);
//! - `BULKHEAD_BLESS=snapshot ...` first collects a new snapshot from a private dockerd (root and
//!   docker.io needed), normalises it, then re-renders.

#[path = "audit_support/mod.rs"]
mod support;

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use support::{left_out, run, HOSTILE_DIR, SECRET_VALUE};

/// Each golden output: file name and the arguments after `audit docker --snapshot SNAPSHOT`.
const CASES: &[(&str, &[&str])] = &[
    ("text.txt", &["--color", "never"]),
    ("text-color.txt", &["--color", "always"]),
    ("text-verbose.txt", &["--color", "never", "--verbose"]),
    (
        "text-cis-1.2.0.txt",
        &["--color", "never", "--ids", "cis-1.2.0"],
    ),
    ("audit.json", &["--format", "json"]),
    (
        "audit-cis-1.2.0.json",
        &["--format", "json", "--ids", "cis-1.2.0"],
    ),
    ("docker-bench.json", &["--format", "docker-bench-json"]),
    ("junit.xml", &["--format", "junit"]),
];

/// Where the normalised lab lives in the snapshot (the harness's `/tmp/bhk-<pid>-<n>`).
const LAB_DIR: &str = "/srv/bulkhead-lab";
const LAB_HOST: &str = "lab-host";
const LAB_KERNEL: &str = "6.1.0-lab-amd64";
const LAB_TIME: &str = "2026-01-01T00:00:00Z";
const LAB_EPOCH: i64 = 1_767_225_600;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/audit")
}

fn snapshot_path() -> PathBuf {
    golden_dir().join("snapshot.json")
}

fn render(args: &[&str]) -> support::Run {
    let snap = snapshot_path();
    let mut all = vec!["audit", "docker", "--snapshot", snap.to_str().unwrap()];
    all.extend_from_slice(args);
    run(&all)
}

#[test]
fn every_format_matches_its_golden_output() {
    let bless = std::env::var("BULKHEAD_BLESS").unwrap_or_default();
    if bless == "snapshot" {
        collect_normalised_snapshot();
    }
    let mut mismatches = Vec::new();
    for (file, args) in CASES {
        let r = render(args);
        // The lab has failing checks: every rendering exits 1 (and renders in full).
        r.expect_code(1);
        let path = golden_dir().join(file);
        if !bless.is_empty() {
            std::fs::write(&path, &r.stdout)
                .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
            eprintln!("blessed {}", path.display());
            continue;
        }
        let golden = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; create it with BULKHEAD_BLESS=1 cargo test -p bulkhead --test audit_golden",
                path.display()
            )
        });
        if golden != r.stdout {
            mismatches.push(first_difference(file, &golden, &r.stdout));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}\n\nIf the change is intended: BULKHEAD_BLESS=1 cargo test -p bulkhead --test audit_golden",
        mismatches.join("\n")
    );
}

fn first_difference(file: &str, golden: &str, actual: &str) -> String {
    let at = bulkhead_testkit::golden::first_difference(golden, actual).unwrap_or_default();
    format!("{file} differs {at}")
}

/// The golden snapshot is the lab as the tests describe it, and carries no secret.
#[test]
fn golden_snapshot_is_the_lab() {
    let text = std::fs::read_to_string(snapshot_path()).expect("golden snapshot");
    assert!(!text.contains(SECRET_VALUE));
    assert!(
        text.contains("DB_PASSWORD=***"),
        "the masked variable is there"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], "bulkhead.snapshot/1");
    assert_eq!(v["collected_at"], LAB_TIME);
    let mut names: Vec<&str> = v["docker"]["containers"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["inspect"]["Name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["/hardened", "/hostile", "/labelled", "/plain"]);
    let skipped: Vec<&str> = v["docker"]["selection"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert!(skipped.contains(&"self") && skipped.contains(&"created"));
    let hostile = serde_json::to_string(HOSTILE_DIR).unwrap();
    assert!(
        text.contains(&hostile[1..hostile.len() - 1]),
        "the hostile bind mount is in the snapshot"
    );
    assert!(
        !text.contains("/tmp/bhk-"),
        "the harness directory is normalised away"
    );
}

/// Collect the lab from a private dockerd and write the normalised snapshot.
fn collect_normalised_snapshot() {
    let d = bulkhead_testkit::TestDockerd::shared()
        .expect("BULKHEAD_BLESS=snapshot needs a test dockerd (root and docker.io)");
    let lab = support::build_lab(d);
    let dir = support::TempDir::new("golden");
    let raw = dir.arg("raw.json");
    run(&["collect", "docker", "--docker-host", &lab.host, "-o", &raw]).expect_code(0);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&raw).unwrap()).unwrap();
    normalise(&mut v, d.dir().to_str().unwrap());
    let mut text = serde_json::to_string_pretty(&v).unwrap();
    text.push('\n');
    std::fs::write(snapshot_path(), text).unwrap();
    eprintln!("blessed {}", snapshot_path().display());
}

/// Make a collected snapshot stable and anonymous, keeping it self-consistent: the harness
/// directory becomes [`LAB_DIR`]; host name, kernel, times, IDs and pids become fixed values;
/// processes, mounts and listeners of everything but the lab's daemon are dropped; dockerd's
/// environment is reduced to a fixed PATH and its DOCKER_* variables.
fn normalise(v: &mut Value, harness_dir: &str) {
    let hostname = v["host"]["hostname"]["value"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let kernel = v["host"]["kernel"]["value"]
        .as_str()
        .unwrap_or("")
        .to_string();

    // Only the lab's processes: those naming the harness directory (dockerd, containerd, shims)
    // and the containers' own processes.
    let container_pids: Vec<Value> = v["docker"]["containers"]["value"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c["processes"]["value"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|p| p["pid"].clone())
        .collect();
    let lab_program = |p: &Value| {
        let daemon = matches!(
            p["comm"].as_str().unwrap_or(""),
            "dockerd" | "containerd" | "containerd-shim"
        );
        daemon && p["argv"].to_string().contains(harness_dir)
    };
    if let Some(ps) = v["host"]["processes"]["value"].as_array_mut() {
        ps.retain(|p| lab_program(p) || container_pids.contains(&p["pid"]));
    }
    if let Some(ms) = v["host"]["mounts"]["value"].as_array_mut() {
        ms.retain(|m| {
            let mp = m["mount_point"].as_str().unwrap_or("");
            mp == "/" || mp == harness_dir || mp.starts_with(&format!("{harness_dir}/"))
        });
    }
    if v["host"]["listeners"]["value"].is_array() {
        v["host"]["listeners"]["value"] = Value::Array(vec![]);
    }
    if let Some(info) = v["docker"]["info"]["value"].as_object_mut() {
        info.insert(
            "ID".into(),
            "LAB0:LAB0:LAB0:LAB0:LAB0:LAB0:LAB0:LAB0:LAB0:LAB0:LAB0:LAB0".into(),
        );
    }

    let mut n = Normaliser {
        harness_dir: harness_dir.to_string(),
        hostname,
        kernel,
        ids: BTreeMap::new(),
        short_ids: BTreeMap::new(),
        pids: BTreeMap::new(),
        namespaces: BTreeMap::new(),
    };
    // Replacements are handed out in an order that does not depend on the random IDs and pids
    // of one run: containers by name (their ID, init pid, shim and processes), then images by
    // tag, networks by name and their endpoints by container name, then whatever else appears,
    // in document order. Full IDs are all assigned before the walk, so a short ID that is a
    // prefix of one maps to the prefix of its replacement.
    let mut ordered_ids: Vec<String> = Vec::new();
    let mut ordered_pids: Vec<u64> = vec![];
    let mut ordered_ns: Vec<u64> = vec![];
    let daemon_process = &v["docker"]["daemon"]["process"]["value"];
    ordered_pids.extend(daemon_process["pid"].as_u64());
    ordered_ns.extend(daemon_process["pid_ns"].as_u64());
    let processes = v["host"]["processes"]["value"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    ordered_pids.extend(
        processes
            .iter()
            .filter(|p| p["comm"] == "containerd")
            .filter_map(|p| p["pid"].as_u64()),
    );
    let mut containers = v["docker"]["containers"]["value"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    containers.sort_by_key(|c| c["inspect"]["Name"].as_str().unwrap_or("").to_string());
    for c in &containers {
        let id = c["inspect"]["Id"].as_str().unwrap_or("").to_string();
        ordered_pids.extend(c["inspect"]["State"]["Pid"].as_u64());
        ordered_pids.extend(
            processes
                .iter()
                .filter(|p| p["comm"] == "containerd-shim" && p["argv"].to_string().contains(&id))
                .filter_map(|p| p["pid"].as_u64()),
        );
        for p in c["processes"]["value"].as_array().into_iter().flatten() {
            ordered_pids.extend(p["pid"].as_u64());
            ordered_ns.extend(p["pid_ns"].as_u64());
        }
        ordered_ids.push(id);
    }
    let mut skipped = v["docker"]["selection"]["skipped"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    skipped.sort_by_key(|c| c["name"].as_str().unwrap_or("").to_string());
    ordered_ids.extend(
        skipped
            .iter()
            .filter_map(|c| c["id"].as_str().map(String::from)),
    );
    let mut images = v["docker"]["images"]["value"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    images.sort_by_key(|i| i["inspect"]["RepoTags"].to_string());
    ordered_ids.extend(
        images
            .iter()
            .filter_map(|i| i["inspect"]["Id"].as_str().map(String::from)),
    );
    let mut networks = v["docker"]["networks"]["value"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    networks.sort_by_key(|n| n["Name"].as_str().unwrap_or("").to_string());
    for net in &networks {
        ordered_ids.extend(net["Id"].as_str().map(String::from));
        let mut endpoints: Vec<&Value> = net["Containers"]
            .as_object()
            .into_iter()
            .flat_map(|m| m.values())
            .collect();
        endpoints.sort_by_key(|e| e["Name"].as_str().unwrap_or("").to_string());
        ordered_ids.extend(
            endpoints
                .iter()
                .filter_map(|e| e["EndpointID"].as_str().map(String::from)),
        );
    }
    let text = v.to_string();
    ordered_ids.extend(
        text.char_indices()
            .filter_map(|(i, _)| hex_word(&text, i, 64).map(String::from)),
    );
    for id in ordered_ids {
        let sha = id.trim_start_matches("sha256:").to_string();
        if hex_word(&sha, 0, 64).is_some() {
            let next = n.ids.len() + 1;
            n.ids
                .entry(sha)
                .or_insert_with(|| format!("{:02x}", next % 256).repeat(32));
        }
    }
    for pid in ordered_pids {
        n.pid(pid);
    }
    for ns in ordered_ns {
        n.namespace(ns);
    }
    n.value(v, "");
    if let Some(ps) = v["host"]["processes"]["value"].as_array_mut() {
        ps.sort_by_key(|p| p["pid"].as_u64());
    }
    let pid = v["docker"]["daemon"]["process"]["value"]["pid"].clone();
    v["docker"]["daemon"]["process_reason"] =
        format!("the only dockerd process (pid {pid})").into();
}

struct Normaliser {
    harness_dir: String,
    hostname: String,
    kernel: String,
    ids: BTreeMap<String, String>,
    short_ids: BTreeMap<String, String>,
    pids: BTreeMap<u64, u64>,
    namespaces: BTreeMap<u64, u64>,
}

impl Normaliser {
    fn value(&mut self, v: &mut Value, key: &str) {
        if key == "environ" {
            // A process's environment (dockerd's is collected) is the test runner's: keep
            // only what could matter to Docker, and a fixed PATH.
            if let Some(env) = v.as_object_mut() {
                env.retain(|k, _| {
                    k.starts_with("DOCKER_") || k.to_ascii_uppercase().ends_with("_PROXY")
                });
                env.insert(
                    "PATH".into(),
                    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                );
            }
        }
        match v {
            Value::String(s) => *s = self.string(s),
            Value::Number(num) => {
                if let Some(x) = num.as_u64() {
                    let mapped = match key {
                        "pid" | "ppid" | "Pid" if x > 1 => Some(self.pid(x)),
                        "pid_ns" => Some(self.namespace(x)),
                        "Created" => Some(LAB_EPOCH as u64),
                        _ => None,
                    };
                    if let Some(m) = mapped {
                        *v = Value::from(m);
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.value(item, key);
                }
            }
            Value::Object(map) => {
                let old = std::mem::take(map);
                let mut new = Map::new();
                for (k, mut item) in old {
                    self.value(&mut item, &k);
                    new.insert(self.string(&k), item);
                }
                *map = new;
            }
            _ => {}
        }
    }

    fn namespace(&mut self, ns: u64) -> u64 {
        let next = 4_026_532_000 + self.namespaces.len() as u64;
        *self.namespaces.entry(ns).or_insert(next)
    }

    fn pid(&mut self, pid: u64) -> u64 {
        let next = 1000 + self.pids.len() as u64;
        *self.pids.entry(pid).or_insert(next)
    }

    fn string(&mut self, s: &str) -> String {
        if !self.hostname.is_empty() && s == self.hostname {
            return LAB_HOST.into();
        }
        if !self.kernel.is_empty() && s == self.kernel {
            return LAB_KERNEL.into();
        }
        if looks_like_a_time(s) {
            return LAB_TIME.into();
        }
        let s = s.replace(&self.harness_dir, LAB_DIR);
        self.hex_ids(&s)
    }

    /// Replace each 64-digit hex word (container, image, network, layer IDs) by its fixed
    /// replacement, and each 12-digit hex word (short IDs, network sandbox names) by the prefix
    /// of the full ID it abbreviates, else by a fixed short ID of its own.
    fn hex_ids(&mut self, s: &str) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < s.len() {
            if let Some(id) = hex_word(s, i, 64) {
                out.push_str(&self.ids[id]);
                i += 64;
            } else if let Some(short) = hex_word(s, i, 12) {
                let prefix = self
                    .ids
                    .iter()
                    .find(|(full, _)| full.starts_with(short))
                    .map(|(_, fake)| fake[..12].to_string());
                let next = self.short_ids.len() + 1;
                let fake = prefix.unwrap_or_else(|| {
                    self.short_ids
                        .entry(short.to_string())
                        .or_insert_with(|| format!("5{next:011x}"))
                        .clone()
                });
                out.push_str(&fake);
                i += 12;
            } else {
                let c = s[i..].chars().next().expect("in bounds");
                out.push(c);
                i += c.len_utf8();
            }
        }
        out
    }
}

/// The word of exactly `len` lowercase hex digits starting at byte `i` of `s`, if there is one
/// (not part of a longer run of letters or digits).
fn hex_word(s: &str, i: usize, len: usize) -> Option<&str> {
    let b = s.as_bytes();
    let is_hex = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
    let starts = i == 0 || !b[i - 1].is_ascii_alphanumeric();
    let ends = !b.get(i + len).is_some_and(|c| c.is_ascii_alphanumeric());
    (starts && ends && b.len() >= i + len && b[i..i + len].iter().all(|c| is_hex(*c)))
        .then(|| &s[i..i + len])
}

/// `2026-11-28T06:09:00.245434306Z` and the like.
fn looks_like_a_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && (s.ends_with('Z') || s.contains('+'))
}

/// `--ids` with a numbering the audited benchmark does not have lists that benchmark's own
/// numberings, and says whose numbering it is when another benchmark has it.
#[test]
fn a_numbering_of_the_other_benchmark_is_named_as_such() {
    let r = render(&["--ids", "cis-1.12"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "--ids cis-1.12: CIS Docker Benchmark has no such numbering (its numberings: cis-1.6.0, cis-1.5.0, cis-1.4.0, cis-1.3.1, cis-1.2.0); cis-1.12 numbers the CIS Kubernetes Benchmark"
        ),
        "{}",
        r.stderr
    );
    let r = render(&["--ids", "cis-9.9"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("(its numberings: cis-1.6.0,"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("numbers the"), "{}", r.stderr);
}

/// `checks list` in an older numbering lists every check an audit evaluates, as the audit does:
/// those the numbering has no number for come last, as `-`, with their current number, and a
/// line says how many; in JSON their `id` is null. It used to leave them out without a word.
#[test]
fn checks_list_in_an_older_numbering_lists_every_check_the_audit_evaluates() {
    let text = run(&["checks", "list", "docker", "--ids", "cis-1.2.0"]);
    text.expect_code(0);
    assert!(
        text.stdout
            .contains("  -        docker.image.signed_artifacts_validated")
            && text.stdout.contains("(4.12 in cis-1.6.0)"),
        "{}",
        text.stdout
    );
    assert!(
        text.stdout
            .contains("(10 checks have no number in cis-1.2.0, shown as -"),
        "{}",
        text.stdout
    );
    let json = run(&[
        "checks",
        "list",
        "docker",
        "--ids",
        "cis-1.2.0",
        "--format",
        "json",
    ]);
    json.expect_code(0);
    let rows: Vec<Value> = serde_json::from_str(&json.stdout).unwrap();
    let audited = render(&["--ids", "cis-1.2.0", "--format", "json"]);
    let audit: Value = serde_json::from_str(&audited.stdout).unwrap();
    assert_eq!(rows.len(), audit["results"].as_array().unwrap().len());
    assert_eq!(rows.iter().filter(|r| r["id"].is_null()).count(), 10);
}

/// A check ID that names nothing is a usage error naming the option and the ID, reported before
/// anything is collected: the daemon named here does not exist, and it is not the error.
#[test]
fn an_unknown_check_id_is_refused_before_the_host_is_read() {
    let nowhere = "unix:///nonexistent/bulkhead-test/docker.sock";
    for (args, said) in [
        (vec!["--only", "9.9"], "--only 9.9: names no check"),
        (vec!["--only", "5.13,5.99"], "--only 5.99: names no check"),
        (vec!["--exclude", "5.99"], "--exclude 5.99: names no check"),
        // 5.32 exists in 1.6.0, not in the numbering asked for: the error says which check it
        // is there and its number in the numbering asked for.
        (
            vec!["--ids", "cis-1.2.0", "--only", "5.32"],
            "--only 5.32: names no check",
        ),
        (
            vec!["--ids", "cis-1.2.0", "--only", "5.32"],
            "5.32 is the cis-1.6.0 number of the check that cis-1.2.0 numbers 5.31",
        ),
        (vec!["--ids", "cis-1.12"], "has no such numbering"),
    ] {
        let mut full = vec!["audit", "docker", "--docker-host", nowhere];
        full.extend(&args);
        let r = run(&full);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(said), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("nonexistent"), "{args:?}: {}", r.stderr);
    }
    // A container name given to --exclude is not a check ID: the run goes on to the daemon.
    let r = run(&[
        "audit",
        "docker",
        "--docker-host",
        nowhere,
        "--exclude",
        "web",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("nonexistent"), "{}", r.stderr);
    // Without a target, an ID either benchmark knows is accepted (1.1.1 is both Docker's and
    // Kubernetes'; 4.2.1 only Kubernetes'); one neither knows is refused.
    let r = run(&["audit", "--docker-host", nowhere, "--only", "4.2.1"]);
    assert!(!r.stderr.contains("names no check"), "{}", r.stderr);
    let r = run(&["audit", "--docker-host", nowhere, "--only", "9.9"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--only 9.9: names no check"),
        "{}",
        r.stderr
    );
}

/// `-o` naming the snapshot being evaluated is refused before anything is written: the report
/// would replace the evidence it was made from. The same path through a symbolic link counts.
#[test]
fn the_output_never_replaces_the_snapshot_it_reads() {
    let dir = std::env::temp_dir().join(format!("bulkhead-o-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let snap = dir.join("snap.json");
    std::fs::copy(snapshot_path(), &snap).unwrap();
    let link = dir.join("link.json");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&snap, &link).unwrap();
    let before = std::fs::read(&snap).unwrap();
    for out in [&snap, &link] {
        let r = run(&[
            "audit",
            "docker",
            "--snapshot",
            snap.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("is the file given to --snapshot"),
            "{}",
            r.stderr
        );
        assert_eq!(std::fs::read(&snap).unwrap(), before, "snapshot untouched");
    }
    // Another file is written as usual.
    let report = dir.join("report.txt");
    let r = run(&[
        "audit",
        "docker",
        "--snapshot",
        snap.to_str().unwrap(),
        "--fail-on",
        "never",
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(std::fs::read_to_string(&report)
        .unwrap()
        .starts_with("# bulkhead"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `history --diff` reports a check the newer run no longer has (`fail -> absent`), not only
/// the ones it gained, and notes when the two runs are numbered differently.
#[test]
fn history_diff_names_checks_the_newer_run_lacks() {
    let dir = std::env::temp_dir().join(format!("bulkhead-diff-absent-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let store = format!("sqlite:{}", dir.join("runs.db").display());
    for only in ["5.13,5.5", "5.5"] {
        let r = render(&["--only", only, "--fail-on", "never", "--store", &store]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let d = run(&["history", "--store", &store, "--diff"]);
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(
        d.stdout.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w == [
                "5.13",
                "fail",
                "->",
                "absent",
                "docker.container.read_only_rootfs",
            ]
        }),
        "{}",
        d.stdout
    );
    assert!(!d.stdout.contains("no check changed"), "{}", d.stdout);
    let r = render(&[
        "--ids",
        "cis-1.2.0",
        "--only",
        "5.12",
        "--fail-on",
        "never",
        "--store",
        &store,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d = run(&["history", "--store", &store, "--diff"]);
    assert!(
        d.stdout.contains("is numbered cis-1.6.0") && d.stdout.contains("run 3 cis-1.2.0"),
        "{}",
        d.stdout
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A `--cluster-dump` that cannot be read or parsed is one usage error naming the file (and the
/// line), exit 2, not an `[ERROR]` on every policy check with exit 1; the source options that
/// only a live collection reads are refused beside `--snapshot` instead of silently ignored.
#[test]
fn an_unreadable_cluster_dump_and_ignored_source_options_are_usage_errors() {
    let dir = std::env::temp_dir().join(format!("bulkhead-bad-dump-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["root", "proc"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let bad = dir.join("bad.yaml");
    std::fs::write(
        &bad,
        "kind: List\nitems:\n  - kind: Pod\n    metadata: {name: a\n",
    )
    .unwrap();
    let node = |dump: &Path| {
        run(&[
            "audit",
            "kubernetes",
            "--root",
            dir.join("root").to_str().unwrap(),
            "--proc",
            dir.join("proc").to_str().unwrap(),
            "--cluster-dump",
            dump.to_str().unwrap(),
        ])
    };
    let r = node(&bad);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "--cluster-dump: cluster dump {}: line 5",
            bad.display()
        )),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "no report: {}", r.stdout);
    let r = node(&dir.join("missing.yaml"));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("cannot read cluster dump"),
        "{}",
        r.stderr
    );
    for (option, value) in [
        ("--docker-host", "unix:///nowhere.sock"),
        ("--cluster-dump", bad.to_str().unwrap()),
    ] {
        let r = render(&[option, value]);
        assert_eq!(r.code, 2, "{option}: {}", r.stderr);
        assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
    }
    for (option, value) in [("--root", "/srv"), ("--proc", "/srv/proc")] {
        let r = render(&[option, value]);
        assert_eq!(r.code, 2, "{option}: {}", r.stderr);
        assert!(
            r.stderr
                .contains(&format!("{option} {value} reads a live host")),
            "{}",
            r.stderr
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A snapshot whose container lost its HostConfig (cut short, or edited) is refused by name:
/// parsed with defaults it would pass 5.5 (privileged) and others on evidence never collected.
#[test]
fn a_snapshot_missing_judged_evidence_is_refused() {
    let dir = std::env::temp_dir().join(format!("bulkhead-cut-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot_path()).unwrap()).unwrap();
    let inspect = &mut v["docker"]["containers"]["value"][0]["inspect"];
    let name = inspect["Name"]
        .as_str()
        .unwrap()
        .trim_start_matches('/')
        .to_string();
    inspect.as_object_mut().unwrap().remove("HostConfig");
    let cut = dir.join("cut.json");
    std::fs::write(&cut, v.to_string()).unwrap();
    let r = run(&[
        "audit",
        "docker",
        "--snapshot",
        cut.to_str().unwrap(),
        "--only",
        "5.5",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains(&format!("container {name} has no HostConfig")),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A container filter that matches nothing is said on stderr (a CI log shows it), not only as
/// section 5 being not applicable; a `--label` without a key is a usage error.
#[test]
fn a_selection_that_matches_no_container_is_a_warning() {
    let r = render(&["--include", "^no-such-container$", "--fail-on", "never"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "warning: the container selection (--include ^no-such-container$) leaves out all 4 containers"
        ),
        "{}",
        r.stderr
    );
    let r = render(&["--fail-on", "never"]);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let r = render(&["--label", "=web"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--label \"=web\" names no label"),
        "{}",
        r.stderr
    );
}

/// A numbering changes names, never which checks count: with `--ids cis-1.2.0` the checks that
/// numbering lacks are still evaluated, counted in the summary and the score, and reach
/// `--fail-on`; they are listed under their control ID and can be selected by it.
#[test]
fn an_older_numbering_evaluates_and_counts_every_check() {
    let current = render(&["--format", "json"]).json();
    let older = render(&["--format", "json", "--ids", "cis-1.2.0"]).json();
    assert_eq!(older["summary"], current["summary"]);
    let ids = |doc: &Value| -> Vec<String> {
        let mut v: Vec<String> = doc["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["control"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        ids(&older),
        ids(&current),
        "the same controls, whatever the numbering"
    );
    let r = render(&[
        "--ids",
        "cis-1.2.0",
        "--only",
        "docker.audit.run_containerd",
    ]);
    assert_eq!(
        r.code, 1,
        "the failing check reaches --fail-on: {}",
        r.stderr
    );
    assert!(
        r.stdout
            .contains("[FAIL] docker.audit.run_containerd (1.1.4 in cis-1.6.0) - "),
        "{}",
        r.stdout
    );
}

/// A daemon named with --docker-host is wanted even when no target is given: one that does not
/// answer is reported as such (exit 2), not folded into "found neither Docker nor Kubernetes".
#[test]
fn a_named_docker_host_that_does_not_answer_is_reported() {
    let r = run(&[
        "audit",
        "--docker-host",
        "unix:///nonexistent/bulkhead.sock",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("no Docker socket at /nonexistent/bulkhead.sock")
            && r.stderr.contains("from --docker-host"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("found neither"), "{}", r.stderr);
}

/// A snapshot collected where bulkhead found neither Docker nor Kubernetes is named as such when
/// audited elsewhere, not blamed on the host doing the audit.
#[test]
fn a_snapshot_without_docker_or_kubernetes_facts_is_named() {
    let dir = support::TempDir::new("empty-snapshot");
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot_path()).unwrap()).unwrap();
    let o = v.as_object_mut().unwrap();
    o.remove("docker");
    o.remove("kubernetes");
    let path = dir.join("host-only.json");
    std::fs::write(&path, v.to_string()).unwrap();
    let r = run(&["audit", "--snapshot", path.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "the snapshot {} holds neither Docker nor Kubernetes facts",
            path.display()
        )),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("on this host;"), "{}", r.stderr);
}

/// The containers 5.13 (read-only root, one object per audited container) judged in an audit
/// JSON document, sorted.
fn audited_by_5_13(doc: &Value) -> Vec<String> {
    let result = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "5.13")
        .expect("5.13 in the results");
    let mut names = support::container_names(result);
    names.sort();
    names
}

/// `--exclude-container` narrows a saved snapshot in every command that reads one, as
/// `--include` does: audit, threats, report and harden leave `plain` out, and audit and report
/// list it as left out with the pattern that did it. Without the option `plain` is
/// there in each, so each assertion can fail.
#[test]
fn exclude_container_narrows_a_snapshot_in_every_command() {
    let snap = snapshot_path();
    let snap = snap.to_str().unwrap();
    const EXCL: [&str; 2] = ["--exclude-container", "^plain$"];
    let with = |args: &[&str], excl: bool| {
        let mut all = args.to_vec();
        all.extend(["--snapshot", snap]);
        if excl {
            all.extend(EXCL);
        }
        let r = run(&all);
        assert!(r.code == 0 || r.code == 1, "{r}");
        assert!(!r.stderr.contains("error"), "{r}");
        r.stdout
    };

    // audit: 5.13 judges plain without the option, not with it, and says why.
    let audit = ["audit", "docker", "--format", "json", "--fail-on", "never"];
    let before: Value = serde_json::from_str(&with(&audit, false)).unwrap();
    let after: Value = serde_json::from_str(&with(&audit, true)).unwrap();
    assert_eq!(
        audited_by_5_13(&before),
        ["hardened", "hostile", "labelled", "plain"]
    );
    assert_eq!(audited_by_5_13(&after), ["hardened", "hostile", "labelled"]);
    assert!(!left_out(&before).contains_key("plain"));
    assert_eq!(
        left_out(&after)["plain"],
        "name matches excluded pattern ^plain$"
    );
    assert_eq!(after["target"]["containers"]["audited"], 3);

    // threats: plain is no instance of the model any more.
    let threats = [
        "threats",
        "docker",
        "--format",
        "json",
        "--as-of",
        "2026-01-15",
    ];
    assert!(with(&threats, false).contains("\"dkr.container:plain\""));
    let model = with(&threats, true);
    assert!(!model.contains("dkr.container:plain"), "{model}");
    assert!(model.contains("\"dkr.container:hardened\""));

    // report: plain is listed as left out, with the reason.
    let report = ["report", "docker", "--select", "5.13"];
    let line = |doc: &str| -> String {
        doc.lines()
            .find(|l| l.starts_with("Containers: "))
            .unwrap_or_else(|| panic!("no Containers line in\n{doc}"))
            .to_string()
    };
    let before = with(&report, false);
    assert!(
        line(&before).starts_with("Containers: 4 audited;"),
        "{}",
        line(&before)
    );
    assert!(before.contains("Recreate container plain"), "{before}");
    let after = with(&report, true);
    assert!(
        line(&after).starts_with("Containers: 3 audited;")
            && line(&after).contains("plain (name matches excluded pattern ^plain$)"),
        "{}",
        line(&after)
    );
    assert!(!after.contains("Recreate container plain"), "{after}");

    // harden: no fix for plain in the plan.
    let harden = ["harden", "docker", "--select", "5.13", "--format", "json"];
    let fix_ids = |plan: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(plan).unwrap();
        v["fixes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(fix_ids(&with(&harden, false)).contains(&"docker-run:plain".to_string()));
    let planned = fix_ids(&with(&harden, true));
    assert!(
        !planned.contains(&"docker-run:plain".to_string()),
        "{planned:?}"
    );
    assert!(
        planned.contains(&"docker-run:labelled".to_string()),
        "{planned:?}"
    );
}

/// `audit --exclude REGEX` keeps working and means what `--exclude-container REGEX` means: the
/// same document. A regex holding a comma stays whole in both.
#[test]
fn audit_exclude_regex_and_exclude_container_give_the_same_result() {
    for pattern in ["plain", "^p{1,1}lain$"] {
        let doc = |option: &str| {
            let r = render(&["--format", "json", "--fail-on", "never", option, pattern]);
            r.expect_code(0);
            r.json()
        };
        let by_exclude = doc("--exclude");
        let by_exclude_container = doc("--exclude-container");
        assert_eq!(
            audited_by_5_13(&by_exclude),
            ["hardened", "hostile", "labelled"],
            "--exclude {pattern}"
        );
        assert_eq!(
            left_out(&by_exclude)["plain"],
            format!("name matches excluded pattern {pattern}")
        );
        assert_eq!(
            by_exclude_container, by_exclude,
            "--exclude-container {pattern}"
        );
    }
    // Given both ways, the container is left out once.
    let r = render(&[
        "--format",
        "json",
        "--fail-on",
        "never",
        "--exclude",
        "plain",
        "--exclude-container",
        "plain",
    ]);
    r.expect_code(0);
    assert_eq!(
        audited_by_5_13(&r.json()),
        ["hardened", "hostile", "labelled"]
    );
    // A selection that leaves every container out names the option it came from.
    let r = render(&["--exclude-container", ".", "--fail-on", "never"]);
    assert!(
        r.stderr.contains(
            "warning: the container selection (--exclude-container .) leaves out all 4 containers"
        ),
        "{}",
        r.stderr
    );
}

/// A `--exclude-container` that is no regular expression is a usage error in every command,
/// naming the option and the value, before anything is read; audit's `--exclude` still names
/// itself.
#[test]
fn an_invalid_exclude_container_names_the_option_and_the_value() {
    let snap = snapshot_path();
    let snap = snap.to_str().unwrap();
    for command in [
        &["audit", "--snapshot", snap][..],
        &["threats", "--snapshot", snap],
        &["report", "--snapshot", snap],
        &["harden", "--snapshot", snap],
        &[
            "verify",
            "--snapshot",
            snap,
            "--state-dir",
            "/nonexistent/bulkhead",
        ],
        &[
            "collect",
            "docker",
            "--docker-host",
            "unix:///nonexistent/bulkhead.sock",
        ],
    ] {
        let mut args = command.to_vec();
        args.extend(["--exclude-container", "web["]);
        let r = run(&args);
        assert_eq!(r.code, 2, "{r}");
        assert_eq!(r.stdout, "", "{r}");
        assert!(
            r.stderr.contains("'--exclude-container <REGEX>'")
                && r.stderr.contains("'web['")
                && r.stderr.contains("not a valid regular expression"),
            "{r}"
        );
    }
    let r = render(&["--exclude", "web["]);
    assert_eq!(r.code, 2, "{r}");
    assert!(
        r.stderr
            .contains("--exclude \"web[\" is not a valid regular expression"),
        "{r}"
    );
}
