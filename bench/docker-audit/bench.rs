//! Benchmark of a Docker audit against a real dockerd (the testkit's private daemon, never the
//! user's) at 0, 10, 50 and 200 running containers.
//!
//! For each size it measures, as the median of several runs after a warm-up:
//! - **raw API**: the requests an audit cannot do without, one container list plus one inspect
//!   per container, sent one after another over a single keep-alive connection;
//! - **every request, in turn**: all the requests an audit of the daemon makes (the list and
//!   inspects, `/info`, `/version`, images and networks), one after another over one connection:
//!   not the target's reference, but what a plain client pays for the same answers, so the last
//!   column shows how the audit compares with that;
//! - **collect + evaluate**: `bulkhead_collect::collect` (API, host files, /proc, audit rules)
//!   then every CIS Docker check, called as a library;
//! - **bulkhead audit docker**: the release binary end to end, run as users run it (process
//!   start, collection, evaluation, the default text report written to a pipe), when its path
//!   is given as the first argument.
//!
//! Target: at 50 containers, `bulkhead audit docker` within 1.5x of the raw API time (judged on
//! collect + evaluate when no binary is given).
//!
//!   cargo run --release -p bulkhead-collect --example docker_audit_bench -- [BULKHEAD_BIN] [SIZES] [ROUNDS]
//!
//! (bench/docker-audit/run.sh builds both and runs it.) With ROUNDS above 1 every round starts a
//! fresh daemon and the target is judged on the median ratio of the rounds. Exit status 1 when
//! the target is missed.

use bulkhead_checks::{catalog, AuditOptions, Context, Selection};
use bulkhead_collect::{collect, CollectOptions, Want};
use bulkhead_testkit::{ContainerSpec, KeepAlive, TestDockerd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Measured runs per figure (after one warm-up run).
const RUNS: usize = 15;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One list plus one inspect per running container over one connection.
fn raw_api(d: &TestDockerd) -> (Duration, usize) {
    let start = Instant::now();
    let mut conn = KeepAlive::connect(&d.socket_path()).expect("connect");
    let list = conn.get("/containers/json").expect("list");
    let list: serde_json::Value = list.json().expect("list JSON");
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["Id"].as_str().unwrap().to_string())
        .collect();
    for id in &ids {
        let r = conn
            .get(&format!("/containers/{id}/json"))
            .expect("inspect");
        // Parse the document, as any client that uses it must.
        let _: serde_json::Value = r.json().expect("inspect JSON");
    }
    (start.elapsed(), ids.len())
}

/// Every request an audit of this daemon makes, one after another over one connection, each
/// answer parsed: [`raw_api`]'s list (of every container, as the audit lists them) and
/// inspects, then `/info`, `/version`, the image list with an inspect and the history of each
/// image, and the network list with an inspect of each network (swarm requests only follow on an
/// active manager, which the test daemon is not). Not the target's reference: it shows how much
/// of an audit's time is the daemon answering what the checks need beyond list and inspects.
fn every_audit_request(d: &TestDockerd) -> Duration {
    fn json(conn: &mut KeepAlive, path: &str) -> serde_json::Value {
        conn.get(path)
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
            .json()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
    fn ids(list: &serde_json::Value, field: &str) -> Vec<String> {
        let items = list.as_array().expect("a list");
        items
            .iter()
            .filter_map(|i| i[field].as_str().map(String::from))
            .collect()
    }
    let start = Instant::now();
    let mut conn = KeepAlive::connect(&d.socket_path()).expect("connect");
    let containers = json(&mut conn, "/containers/json?all=1");
    for id in ids(&containers, "Id") {
        json(&mut conn, &format!("/containers/{id}/json"));
    }
    json(&mut conn, "/info");
    json(&mut conn, "/version");
    let images = json(&mut conn, "/images/json");
    for id in ids(&images, "Id") {
        json(&mut conn, &format!("/images/{id}/json"));
        json(&mut conn, &format!("/images/{id}/history"));
    }
    let networks = json(&mut conn, "/networks");
    for id in ids(&networks, "Id") {
        json(&mut conn, &format!("/networks/{id}"));
    }
    start.elapsed()
}

fn collect_and_evaluate(d: &TestDockerd) -> (Duration, usize) {
    let options = CollectOptions {
        docker: Want::Required,
        docker_host: Some(d.docker_host()),
        kubernetes: Want::Skip,
        ..Default::default()
    };
    let start = Instant::now();
    let snapshot = collect(&options).expect("collect");
    let audit_options = AuditOptions::default();
    let ctx = Context::new(&snapshot, &audit_options);
    let audit = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
    let elapsed = start.elapsed();
    assert!(!audit.outcomes.is_empty());
    let n = snapshot
        .docker
        .as_ref()
        .and_then(|d| d.containers.value().map(|c| c.len()))
        .unwrap_or(0);
    (elapsed, n)
}

fn binary(bin: &PathBuf, d: &TestDockerd) -> Duration {
    let start = Instant::now();
    let out = std::process::Command::new(bin)
        .args([
            "audit",
            "docker",
            "--docker-host",
            &d.docker_host(),
            "--fail-on",
            "never",
        ])
        // Discard the report through stdout: `-o /dev/null` would rename a file over it.
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run bulkhead");
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "bulkhead audit docker failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    format!(
        "{cores} cores ({cpu}), {:.0} GiB RAM, Linux {kernel}",
        mem_kb as f64 / 1024.0 / 1024.0
    )
}

/// One size's figures in one round: the medians of [`RUNS`] runs each.
struct Row {
    containers: usize,
    raw: Duration,
    every_request: Duration,
    library: Duration,
    binary: Option<Duration>,
}

impl Row {
    fn library_ratio(&self) -> f64 {
        self.library.as_secs_f64() / self.raw.as_secs_f64()
    }

    fn binary_ratio(&self) -> Option<f64> {
        self.binary
            .map(|b| b.as_secs_f64() / self.raw.as_secs_f64())
    }

    /// The ratio the target is judged on: the binary's when it was run, else the library's.
    fn judged_ratio(&self) -> f64 {
        self.binary_ratio().unwrap_or_else(|| self.library_ratio())
    }

    /// The judged figure (the binary's, else the library's) against every request in turn.
    fn every_request_ratio(&self) -> f64 {
        self.binary.unwrap_or(self.library).as_secs_f64() / self.every_request.as_secs_f64()
    }
}

/// One round: a fresh private dockerd, brought to each size in turn, measured at each.
fn round(bin: Option<&PathBuf>, sizes: &[usize], first: bool) -> Vec<Row> {
    let Some(d) = TestDockerd::start() else {
        eprintln!("no test dockerd can run here; nothing measured");
        std::process::exit(2);
    };
    d.ensure_image();
    if first {
        let version = d.api().get("/version").unwrap().json().unwrap();
        println!("machine: {}", machine());
        println!(
            "dockerd {} (API {}), private test daemon {}",
            version["Version"].as_str().unwrap_or("?"),
            version["ApiVersion"].as_str().unwrap_or("?"),
            d.docker_host()
        );
        println!("each figure: median of {RUNS} runs after one warm-up\n");
    }
    println!(
        "{:>10} | {:>26} | {:>20} | {:>7} | {:>22} | {:>7} | {:>22} | {:>7}",
        "containers",
        "raw API (list+N inspects)",
        "collect + evaluate",
        "ratio",
        "bulkhead audit docker",
        "ratio",
        "every request, in turn",
        "ratio"
    );
    println!("{}", "-".repeat(142));
    let mut rows = Vec::new();
    let mut running = 0;
    for &n in sizes {
        while running < n {
            d.run(
                &format!("bench-{running}"),
                &ContainerSpec::new().cmd(&["sleep", "1000000"]),
            );
            running += 1;
        }
        raw_api(&d);
        every_audit_request(&d);
        collect_and_evaluate(&d);
        if let Some(b) = bin {
            binary(b, &d);
        }
        let mut raw = Vec::new();
        let mut every = Vec::new();
        let mut full = Vec::new();
        let mut cli = Vec::new();
        for _ in 0..RUNS {
            let (t, seen) = raw_api(&d);
            assert_eq!(seen, n, "the daemon runs {n} containers");
            raw.push(t);
            every.push(every_audit_request(&d));
            let (t, audited) = collect_and_evaluate(&d);
            assert_eq!(audited, n, "every running container audited");
            full.push(t);
            if let Some(b) = bin {
                cli.push(binary(b, &d));
            }
        }
        let row = Row {
            containers: n,
            raw: median(raw),
            every_request: median(every),
            library: median(full),
            binary: (!cli.is_empty()).then(|| median(cli)),
        };
        println!(
            "{n:>10} | {:>26} | {:>20} | {:>6.2}x | {:>22} | {:>7} | {:>22} | {:>6.2}x",
            ms(row.raw),
            ms(row.library),
            row.library_ratio(),
            row.binary.map_or("(no binary given)".to_string(), ms),
            row.binary_ratio()
                .map_or(String::new(), |r| format!("{r:.2}x")),
            ms(row.every_request),
            row.every_request_ratio()
        );
        rows.push(row);
    }
    rows
}

fn main() {
    let mut args = std::env::args().skip(1);
    let bin = args.next().map(PathBuf::from).filter(|p| p.is_file());
    let sizes: Vec<usize> = args
        .next()
        .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![0, 10, 50, 200]);
    // The figures move from one daemon instance to the next more than within one: rounds, each
    // on a fresh daemon, show that spread, and the target is judged on their median.
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(1).max(1);
    let judged = if bin.is_some() {
        "bulkhead audit docker"
    } else {
        "collect + evaluate"
    };
    let mut at_50 = Vec::new();
    for r in 0..rounds {
        if rounds > 1 {
            println!("round {} of {rounds}", r + 1);
        }
        let rows = round(bin.as_ref(), &sizes, r == 0);
        at_50.extend(
            rows.iter()
                .filter(|row| row.containers == 50)
                .map(Row::judged_ratio),
        );
        println!();
    }
    if at_50.is_empty() {
        return;
    }
    at_50.sort_by(f64::total_cmp);
    let half = at_50.len() / 2;
    let middle = if at_50.len() % 2 == 0 {
        (at_50[half - 1] + at_50[half]) / 2.0
    } else {
        at_50[half]
    };
    if rounds > 1 {
        println!(
            "at 50 containers over {rounds} rounds, {judged}: {:.2}x to {:.2}x, median {middle:.2}x; {} of {rounds} at or under 1.5x",
            at_50[0],
            at_50[at_50.len() - 1],
            at_50.iter().filter(|r| **r <= 1.5).count()
        );
    }
    let met = middle <= 1.5;
    println!(
        "target at 50 containers: {judged} within 1.5x of the raw API time: {}",
        if met { "met" } else { "MISSED" }
    );
    if !met {
        std::process::exit(1);
    }
}
