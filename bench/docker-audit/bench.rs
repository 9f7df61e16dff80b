//! Benchmark of a Docker audit against a real dockerd (the testkit's private daemon, never the
//! user's) at 0, 10, 50 and 200 running containers.
//!
//! For each size it measures, as the median of several runs after a warm-up:
//! - **raw API**: the requests an audit cannot do without, one container list plus one inspect
//!   per container, sent one after another over a single keep-alive connection;
//! - **every request, in turn**: all the requests an audit of the daemon makes (the list and
//!   inspects, `/info`, images and networks), one after another over one connection:
//!   not the target's reference, but what a plain client pays for the same answers, so the last
//!   column shows how the audit compares with that;
//! - **every request, concurrently**: the same requests sent as the audit sends them (`/info`,
//!   images and networks alongside the list, then the inspects several at a time),
//!   by a client that does nothing else: the time the daemon itself needs to answer an audit's
//!   requests sent that way on this machine, against the raw API time;
//! - **collect + evaluate**: `bulkhead_collect::collect` (API, host files, /proc, audit rules)
//!   then every CIS Docker check, called as a library;
//! - **bulkhead audit docker**: the release binary end to end, run as users run it (process
//!   start, collection, evaluation, the default text report written to a pipe), when its path
//!   is given as the first argument.
//!
//! Then, for scale, it measures where the CPU goes: over [`CPU_RUNS`] back-to-back runs of the
//! raw API calls and of the binary, the CPU time the daemon used per run (dockerd's own, that of
//! the processes it ran and waited for, such as `runc --version`, and that of its containerd)
//! and the CPU time of bulkhead itself. An audit doing that work cannot take less wall time than
//! the sum of those divided by the machine's cores: that floor is printed beside them. Last, the
//! daemon's CPU time per answer to each kind of request an audit makes, which shows what the
//! requests beyond the raw calls (`/info` above all) cost the daemon, and what `/version`, which an
//! audit over a unix socket does not ask, would cost.
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

/// Back-to-back runs of the CPU pass, per size: enough that the kernel's clock-tick accounting
/// of dockerd (a tick is usually 10 ms) is averaged down to a fraction of a millisecond per run.
const CPU_RUNS: u32 = 30;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The cores this process may run on.
fn cores() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as u32)
}

/// Lowest, median and highest of some ratios (sorted in place).
fn spread(ratios: &mut [f64]) -> (f64, f64, f64) {
    ratios.sort_by(f64::total_cmp);
    let half = ratios.len() / 2;
    let middle = if ratios.len().is_multiple_of(2) {
        (ratios[half - 1] + ratios[half]) / 2.0
    } else {
        ratios[half]
    };
    (ratios[0], middle, ratios[ratios.len() - 1])
}

/// `1.10x to 1.40x, median 1.20x,` over several ratios; the one ratio alone.
fn describe_spread(ratios: &mut [f64]) -> String {
    let (lowest, middle, highest) = spread(ratios);
    if ratios.len() > 1 {
        format!("{lowest:.2}x to {highest:.2}x, median {middle:.2}x,")
    } else {
        format!("{middle:.2}x")
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One list plus one inspect per running container over one connection.
fn raw_api(d: &TestDockerd) -> (Duration, usize) {
    let start = Instant::now();
    let mut conn = KeepAlive::connect(&d.socket_path()).expect("connect");
    let listed = list_and_inspect(&mut conn, "/containers/json");
    (start.elapsed(), listed)
}

/// The container list at `list`, then one inspect per listed container, each answer parsed;
/// how many containers were listed.
fn list_and_inspect(conn: &mut KeepAlive, list: &str) -> usize {
    let ids = ids(&get_json(conn, list), "Id");
    for id in &ids {
        get_json(conn, &format!("/containers/{id}/json"));
    }
    ids.len()
}

/// CPU time (user and system) a process has used, with that of the children it has waited for,
/// from `/proc/PID/stat` in clock ticks.
fn process_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("a /proc/PID/stat");
    // The fields after the parenthesised command name; utime, stime, cutime and cstime are
    // fields 14 to 17 of the whole line, 12 to 15 of these.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .expect("stat line")
        .1
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().expect("a tick count"))
        .collect();
    // SAFETY: sysconf only reads a configuration value.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Duration::from_secs_f64(fields.iter().sum::<u64>() as f64 / ticks_per_second)
}

/// CPU time of the daemon: dockerd with the processes it ran and waited for (`runc --version`
/// and the like), and its live children (the containerd it supervises, which answers some of
/// dockerd's questions).
fn daemon_cpu(dockerd: u32) -> Duration {
    let children: Vec<u32> = std::fs::read_dir(format!("/proc/{dockerd}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|pid| pid.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    process_cpu(dockerd) + children.into_iter().map(process_cpu).sum::<Duration>()
}

/// CPU time (user and system) of every child process this one has waited for.
fn children_cpu() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// CPU per run, from [`CPU_RUNS`] back-to-back runs of the raw API calls and of the binary.
struct CpuUse {
    /// Mean wall time of a raw run in this pass: the floor is compared with this rather than
    /// with the timed median, because the machine's speed can drift between the two passes.
    raw_wall: Duration,
    /// Mean wall time of an audit in this pass.
    audit_wall: Duration,
    /// The daemon ([`daemon_cpu`]) per raw run (list plus inspects).
    raw_daemon: Duration,
    /// The daemon per `bulkhead audit docker`.
    audit_daemon: Duration,
    /// The bulkhead process per audit.
    audit_bulkhead: Duration,
}

impl CpuUse {
    /// The shortest wall time the audit's work allows on this machine: the daemon's and
    /// bulkhead's CPU time spread perfectly over every core.
    fn floor(&self) -> Duration {
        (self.audit_daemon + self.audit_bulkhead) / cores()
    }
}

fn cpu_use(bin: &PathBuf, d: &TestDockerd) -> CpuUse {
    let dockerd = d.pid();
    let (before, start) = (daemon_cpu(dockerd), Instant::now());
    for _ in 0..CPU_RUNS {
        raw_api(d);
    }
    let raw_wall = start.elapsed() / CPU_RUNS;
    let raw_daemon = (daemon_cpu(dockerd) - before) / CPU_RUNS;
    let (before, before_children) = (daemon_cpu(dockerd), children_cpu());
    let start = Instant::now();
    for _ in 0..CPU_RUNS {
        binary(bin, d);
    }
    CpuUse {
        raw_wall,
        audit_wall: start.elapsed() / CPU_RUNS,
        raw_daemon,
        audit_daemon: (daemon_cpu(dockerd) - before) / CPU_RUNS,
        audit_bulkhead: (children_cpu() - before_children) / CPU_RUNS,
    }
}

/// The daemon's CPU time for one answer to each kind of request an audit makes (dockerd with
/// the processes it runs and waits for, and its containerd), measured by repeating each request
/// over one connection until the repeats take [`PER_REQUEST_WALL`]: `/info` makes dockerd 20.10
/// run `runc --version` and `docker-init --version`, which is why an audit costs the daemon more
/// CPU than the raw calls do. `/version` does the same; it is measured to show what an audit
/// saves by not asking it over a unix socket (the version comes from `/info` and `/_ping`).
struct RequestCosts {
    containers: usize,
    /// (what was asked, daemon CPU per answer)
    costs: Vec<(&'static str, Duration)>,
}

impl RequestCosts {
    fn cost(&self, what: &str) -> Option<Duration> {
        self.costs.iter().find(|(w, _)| *w == what).map(|(_, t)| *t)
    }

    /// The daemon's CPU time for one answer to `what` against that for the raw API calls (the
    /// list and one inspect per container); None without containers.
    fn share(&self, what: &str) -> Option<f64> {
        let raw = self.cost("container list")?
            + self.cost("one container inspect")? * self.containers as u32;
        Some(self.cost(what)?.as_secs_f64() / raw.as_secs_f64())
    }
}

/// How long each request kind of [`request_costs`] is repeated: long enough that the kernel's
/// clock-tick accounting (usually 10 ms) is averaged down to a small fraction of the figure.
const PER_REQUEST_WALL: Duration = Duration::from_millis(600);

fn request_costs(d: &TestDockerd, containers: usize) -> RequestCosts {
    let mut conn = KeepAlive::connect(&d.socket_path()).expect("connect");
    let listed = get_json(&mut conn, "/containers/json?all=1");
    let first_container = ids(&listed, "Id").into_iter().next();
    let first_image = ids(&get_json(&mut conn, "/images/json"), "Id")
        .into_iter()
        .next();
    let mut asks: Vec<(&'static str, String)> = vec![
        ("container list", "/containers/json?all=1".into()),
        ("/info", "/info".into()),
        ("/version", "/version".into()),
        ("image list", "/images/json".into()),
        ("network list", "/networks".into()),
    ];
    if let Some(id) = first_container {
        asks.insert(
            1,
            ("one container inspect", format!("/containers/{id}/json")),
        );
    }
    if let Some(id) = first_image {
        asks.push(("one image inspect", format!("/images/{id}/json")));
        asks.push(("one image history", format!("/images/{id}/history")));
    }
    let dockerd = d.pid();
    let costs = asks
        .into_iter()
        .map(|(what, path)| {
            get_json(&mut conn, &path);
            let (before, start) = (daemon_cpu(dockerd), Instant::now());
            let mut repeats = 0u32;
            while repeats < 20 || start.elapsed() < PER_REQUEST_WALL {
                get_json(&mut conn, &path);
                repeats += 1;
            }
            (what, (daemon_cpu(dockerd) - before) / repeats)
        })
        .collect();
    RequestCosts { containers, costs }
}

/// The table of [`request_costs`], one column per size.
fn print_request_costs(all: &[&RequestCosts]) {
    // A size without containers or images has fewer rows: take the rows of the fullest.
    let Some(fullest) = all.iter().max_by_key(|c| c.costs.len()) else {
        return;
    };
    println!("\nDaemon CPU time per answer (dockerd, the processes it ran and waited for, its containerd),");
    println!(
        "each request repeated over one connection for {} ms:",
        PER_REQUEST_WALL.as_millis()
    );
    print!("{:>22}", "containers:");
    for c in all {
        print!(" | {:>8}", c.containers);
    }
    println!();
    println!("{}", "-".repeat(22 + 11 * all.len()));
    for (what, _) in &fullest.costs {
        print!("{what:>22}");
        for c in all {
            let cost = c.cost(what);
            print!(
                " | {:>8}",
                cost.map_or("-".to_string(), |t| format!(
                    "{:.2} ms",
                    t.as_secs_f64() * 1000.0
                ))
            );
        }
        println!();
    }
}

/// One request's answer, parsed as any client that uses it must.
fn get_json(conn: &mut KeepAlive, path: &str) -> serde_json::Value {
    conn.get(path)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .json()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
}

/// The values of `field` in a list answer (the IDs of containers, images or networks).
fn ids(list: &serde_json::Value, field: &str) -> Vec<String> {
    let items = list.as_array().expect("a list");
    items
        .iter()
        .filter_map(|i| i[field].as_str().map(String::from))
        .collect()
}

/// The requests an audit makes besides the container list and inspects: `/info`, the image list
/// with an inspect and the history of each image, and the network list (swarm requests only
/// follow on an active manager, which the test daemon is not), in that order. (Its `/_ping`,
/// answered in about 0.1 ms, is left out.)
fn other_audit_requests(conn: &mut KeepAlive) {
    get_json(conn, "/info");
    images_and_networks(conn);
}

fn images_and_networks(conn: &mut KeepAlive) {
    let images = get_json(conn, "/images/json");
    for id in ids(&images, "Id") {
        get_json(conn, &format!("/images/{id}/json"));
        get_json(conn, &format!("/images/{id}/history"));
    }
    get_json(conn, "/networks");
}

/// Every request an audit of this daemon makes, one after another over one connection, each
/// answer parsed: [`raw_api`]'s list (of every container, as the audit lists them) and
/// inspects, then [`other_audit_requests`]. Not the target's reference: it shows how much of an
/// audit's time is the daemon answering what the checks need beyond list and inspects.
fn every_audit_request(d: &TestDockerd) -> Duration {
    let start = Instant::now();
    let mut conn = KeepAlive::connect(&d.socket_path()).expect("connect");
    list_and_inspect(&mut conn, "/containers/json?all=1");
    other_audit_requests(&mut conn);
    start.elapsed()
}

/// The same requests as [`every_audit_request`], sent the way the audit sends them: `/info`,
/// and the images and networks each on a connection of their own at the same time
/// as the container list, then the inspects [`bulkhead_collect::api::CONCURRENCY`] at a time.
/// Nothing else: no process to start, no host to read, nothing to evaluate or render. It is the
/// wall time in which this daemon on this machine answers what an audit asks, sent that way: an
/// audit's time minus this is bulkhead's own.
fn every_audit_request_concurrently(d: &TestDockerd) -> Duration {
    let socket = d.socket_path();
    let connect = || KeepAlive::connect(&socket).expect("connect");
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| get_json(&mut connect(), "/info"));
        s.spawn(|| images_and_networks(&mut connect()));
        let containers = get_json(&mut connect(), "/containers/json?all=1");
        let ids = ids(&containers, "Id");
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|inspects| {
            for _ in 0..bulkhead_collect::api::CONCURRENCY.min(ids.len()) {
                inspects.spawn(|| {
                    let mut conn = connect();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(id) = ids.get(i) else { break };
                        get_json(&mut conn, &format!("/containers/{id}/json"));
                    }
                });
            }
        });
    });
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
    let cores = cores();
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
    every_request_concurrently: Duration,
    library: Duration,
    binary: Option<Duration>,
    cpu: Option<CpuUse>,
    requests: RequestCosts,
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

    /// The audit's CPU floor against the raw API time: how close to the target the work alone,
    /// spread perfectly over every core, would come.
    fn floor_ratio(&self) -> Option<f64> {
        self.cpu
            .as_ref()
            .map(|c| c.floor().as_secs_f64() / c.raw_wall.as_secs_f64())
    }

    /// The audit's requests alone, sent concurrently, against the raw API time: the share of the
    /// target the daemon's answers take before bulkhead does anything.
    fn requests_ratio(&self) -> f64 {
        self.every_request_concurrently.as_secs_f64() / self.raw.as_secs_f64()
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
        "{:>10} | {:>26} | {:>20} | {:>7} | {:>22} | {:>7} | {:>22} | {:>7} | {:>27} | {:>7}",
        "containers",
        "raw API (list+N inspects)",
        "collect + evaluate",
        "ratio",
        "bulkhead audit docker",
        "ratio",
        "every request, in turn",
        "ratio",
        "every request, concurrently",
        "÷ raw"
    );
    println!("{}", "-".repeat(182));
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
        every_audit_request_concurrently(&d);
        collect_and_evaluate(&d);
        if let Some(b) = bin {
            binary(b, &d);
        }
        let mut raw = Vec::new();
        let mut every = Vec::new();
        let mut concurrently = Vec::new();
        let mut full = Vec::new();
        let mut cli = Vec::new();
        for _ in 0..RUNS {
            let (t, seen) = raw_api(&d);
            assert_eq!(seen, n, "the daemon runs {n} containers");
            raw.push(t);
            every.push(every_audit_request(&d));
            concurrently.push(every_audit_request_concurrently(&d));
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
            every_request_concurrently: median(concurrently),
            library: median(full),
            binary: (!cli.is_empty()).then(|| median(cli)),
            cpu: bin.map(|b| cpu_use(b, &d)),
            requests: request_costs(&d, n),
        };
        println!(
            "{n:>10} | {:>26} | {:>20} | {:>6.2}x | {:>22} | {:>7} | {:>22} | {:>6.2}x | {:>27} | {:>6.2}x",
            ms(row.raw),
            ms(row.library),
            row.library_ratio(),
            row.binary.map_or("(no binary given)".to_string(), ms),
            row.binary_ratio()
                .map_or(String::new(), |r| format!("{r:.2}x")),
            ms(row.every_request),
            row.every_request_ratio(),
            ms(row.every_request_concurrently),
            row.requests_ratio()
        );
        rows.push(row);
    }
    print_cpu_use(&rows);
    let costs: Vec<&RequestCosts> = rows.iter().map(|r| &r.requests).collect();
    print_request_costs(&costs);
    rows
}

/// The CPU pass of each size: what dockerd and bulkhead spend per run, and the wall time that
/// work alone needs on this machine's cores.
fn print_cpu_use(rows: &[Row]) {
    if rows.iter().all(|r| r.cpu.is_none()) {
        return;
    }
    let cores = cores();
    println!("\nMeans over {CPU_RUNS} back-to-back runs of each: wall time, and CPU time of the daemon (dockerd, the");
    println!("processes it ran and waited for, its containerd) and of bulkhead. The floor is the audit's CPU time");
    println!("spread perfectly over the machine's {cores} cores: an audit doing this work cannot finish sooner here.");
    println!(
        "{:>10} | {:>13} | {:>15} | {:>13} | {:>14} | {:>15} | {:>12} | {:>7}",
        "containers",
        "raw API: wall",
        "raw API: daemon",
        "audit: wall",
        "audit: daemon",
        "audit: bulkhead",
        "audit: floor",
        "÷ raw"
    );
    println!("{}", "-".repeat(128));
    for row in rows {
        let Some(cpu) = &row.cpu else { continue };
        println!(
            "{:>10} | {:>13} | {:>15} | {:>13} | {:>14} | {:>15} | {:>12} | {:>6.2}x",
            row.containers,
            ms(cpu.raw_wall),
            ms(cpu.raw_daemon),
            ms(cpu.audit_wall),
            ms(cpu.audit_daemon),
            ms(cpu.audit_bulkhead),
            ms(cpu.floor()),
            row.floor_ratio().unwrap_or(f64::NAN)
        );
    }
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
    let mut floors_at_50 = Vec::new();
    let mut requests_at_50 = Vec::new();
    let mut info_at_50 = Vec::new();
    let mut version_at_50 = Vec::new();
    for r in 0..rounds {
        if rounds > 1 {
            println!("round {} of {rounds}", r + 1);
        }
        let rows = round(bin.as_ref(), &sizes, r == 0);
        for row in rows.iter().filter(|row| row.containers == 50) {
            at_50.push(row.judged_ratio());
            floors_at_50.extend(row.floor_ratio());
            requests_at_50.push(row.requests_ratio());
            info_at_50.extend(row.requests.share("/info"));
            version_at_50.extend(row.requests.share("/version"));
        }
        println!();
    }
    if at_50.is_empty() {
        return;
    }
    let (lowest, middle, highest) = spread(&mut at_50);
    if rounds > 1 {
        println!(
            "at 50 containers over {rounds} rounds, {judged}: {lowest:.2}x to {highest:.2}x, median {middle:.2}x; {} of {rounds} at or under 1.5x",
            at_50.iter().filter(|r| **r <= 1.5).count()
        );
    }
    if !floors_at_50.is_empty() {
        println!(
            "at 50 containers the audit's CPU floor (its work spread perfectly over every core) is {} of the raw API time",
            describe_spread(&mut floors_at_50)
        );
    }
    println!(
        "at 50 containers the daemon answers every request of an audit, sent concurrently by a client that does nothing else, in {} of the raw API time",
        describe_spread(&mut requests_at_50)
    );
    if !info_at_50.is_empty() {
        println!(
            "at 50 containers one `/info` costs the daemon {} of the CPU time of the raw API calls (the list and 50 inspects); one `/version`, which an audit over a unix socket does not ask, would cost {} more",
            describe_spread(&mut info_at_50),
            describe_spread(&mut version_at_50)
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
