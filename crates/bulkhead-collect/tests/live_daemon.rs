//! Section 2 against a real dockerd started with chosen flags and a chosen daemon.json: settings
//! given on the command line and in daemon.json are both seen, and the API is reached over
//! tcp+TLS with client certificates as well as over the unix socket, with identical verdicts.
//!
//! Swarm facts come from the same daemon made a single-manager swarm on a loopback port.
//!
//! The daemon: `--iptables=true --icc=false --log-level=debug` on the command line; daemon.json
//! with a TLS tcp
//! listener on 127.0.0.1 (`hosts`, `tls`, `tlsverify`, `tlscacert`, `tlscert`, `tlskey`) and
//! `cgroup-parent`. Certificates come from a throwaway CA (openssl).

use bulkhead_checks::{catalog, Audit, AuditOptions, Context, Selection, Status};
use bulkhead_collect::endpoint::Environment;
use bulkhead_collect::{collect, collect_with, CollectOptions, Want};
use bulkhead_facts::docker::VersionSource;
use bulkhead_facts::host::FileFact;
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_testkit::{scratch_dir, DaemonOptions, Issued, TestDockerd, TestPki};
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

struct Lab {
    d: &'static TestDockerd,
    /// The swarm's advertised address, or why no swarm could be made here.
    swarm: Result<String, String>,
    tcp: String,
    pki_dir: PathBuf,
    client_dir: PathBuf,
    server_cert: PathBuf,
    over_unix: Snapshot,
}

static LAB: OnceLock<Result<Option<Lab>, String>> = OnceLock::new();

/// The lab, built once. A failure to build it is kept and reported by every test, instead of
/// each test retrying into the leftovers of the first attempt.
fn lab() -> Option<&'static Lab> {
    let built = LAB.get_or_init(|| {
        std::panic::catch_unwind(build).map_err(|e| {
            e.downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "building the lab panicked".into())
        })
    });
    match built {
        Ok(lab) => lab.as_ref(),
        Err(e) => panic!("the lab could not be built: {e}"),
    }
}

fn build() -> Option<Lab> {
    let scratch = scratch_dir("tls");
    let pki_dir = scratch.join("ca");
    let pki = TestPki::new(&pki_dir)?;
    let server = pki.issue("server", &["IP:127.0.0.1", "DNS:localhost"], false);
    let client_dir = pki.docker_client_dir(&scratch.join("client"));
    let port = (23760..23900)
        .find(|p| std::net::TcpListener::bind(("127.0.0.1", *p)).is_ok())
        .expect("a free port");
    let tcp = format!("tcp://127.0.0.1:{port}");
    // --icc=false acts on the default bridge and only works with iptables: this one daemon has
    // a bridge of its own and manages iptables (its rules are removed at cleanup; Docker's empty
    // chains stay, as after any dockerd); the other test daemons run without either.
    let d = TestDockerd::start_with(
        DaemonOptions::default()
            .own_bridge()
            .arg("--iptables=true")
            .arg("--icc=false")
            .arg("--log-level=debug")
            .daemon_json({
                let mut config = tls_listener(&tcp, &pki, &server);
                config["cgroup-parent"] = json!("/bulkhead-test");
                config
            }),
    )?
    .until_exit();
    // A single-manager swarm with a secret and two overlay networks, one encrypted (made before
    // any collection, so every test sees the same state).
    let swarm = d.swarm_init();
    if swarm.is_ok() {
        d.api()
            .post_json(
                "/secrets/create",
                &json!({"Name": "db-password", "Data": "c2VjcmV0"}),
            )
            .and_then(|r| r.ok("creating a secret"))
            .unwrap();
        for (name, encrypted) in [("plain-overlay", false), ("encrypted-overlay", true)] {
            let mut body = json!({"Name": name, "Driver": "overlay", "CheckDuplicate": true});
            if encrypted {
                body["Options"] = json!({"encrypted": ""});
            }
            d.api()
                .post_json("/networks/create", &body)
                .and_then(|r| r.ok("creating an overlay network"))
                .unwrap();
        }
        // The swarm records a new network asynchronously; wait until the daemon shows its
        // options, so every collection sees the settled state.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let n = d
                .api()
                .get("/networks/encrypted-overlay")
                .unwrap()
                .json()
                .unwrap();
            if n["Options"].get("encrypted").is_some() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the encrypted overlay never showed its options: {n}"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let over_unix = collect_over_unix(d);
    Some(Lab {
        d,
        swarm,
        tcp,
        pki_dir,
        client_dir,
        server_cert: server.cert,
        over_unix,
    })
}

/// daemon.json for a tcp listener at `tcp` that requires TLS with client certificates from
/// `pki`, the daemon presenting `server`.
fn tls_listener(tcp: &str, pki: &TestPki, server: &Issued) -> serde_json::Value {
    json!({
        "hosts": [tcp],
        "tls": true,
        "tlsverify": true,
        "tlscacert": pki.ca(),
        "tlscert": server.cert,
        "tlskey": server.key,
    })
}

/// A Docker-only snapshot of `d`, read over its unix socket.
fn collect_over_unix(d: &TestDockerd) -> Snapshot {
    collect_docker(&d.docker_host())
}

/// A Docker-only snapshot of the daemon at `docker_host` (as `--docker-host` names it).
fn collect_docker(docker_host: &str) -> Snapshot {
    collect(&CollectOptions {
        docker: Want::Required,
        docker_host: Some(docker_host.to_string()),
        kubernetes: Want::Skip,
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("collect from {docker_host}: {e}"))
}

/// A Docker-only snapshot read over tcp+TLS from `tcp`, with the client certificates in
/// `cert_path`, as a docker CLI user's environment would give them.
fn over_tls(
    tcp: &str,
    cert_path: &std::path::Path,
    own: &dyn Fn(&str) -> bool,
) -> Result<Snapshot, String> {
    let vars: HashMap<&'static str, String> = [
        ("DOCKER_HOST", tcp.to_string()),
        ("DOCKER_TLS_VERIFY", "1".to_string()),
        ("DOCKER_CERT_PATH", cert_path.display().to_string()),
    ]
    .into_iter()
    .collect();
    // The environment of a docker CLI user pointed at the TLS listener.
    let var = |k: &str| vars.get(k).cloned();
    let exists = |p: &str| std::path::Path::new(p).exists();
    let env = Environment {
        var: &var,
        socket_exists: &exists,
        is_own_host: own,
    };
    collect_with(
        &CollectOptions {
            docker: Want::Required,
            kubernetes: Want::Skip,
            ..Default::default()
        },
        &env,
    )
    .map_err(|e| e.to_string())
}

fn audit(s: &Snapshot) -> Audit {
    let options = AuditOptions::default();
    let ctx = Context::new(s, &options);
    bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default())
}

fn status(a: &Audit, id: &str) -> Status {
    a.outcomes
        .iter()
        .find(|o| o.check_id == id)
        .unwrap_or_else(|| panic!("{id} evaluated"))
        .result
        .status
}

#[test]
fn flags_and_daemon_json_are_both_collected() {
    let Some(lab) = lab() else { return };
    let docker = lab.over_unix.docker.as_ref().unwrap();
    let daemon = &docker.daemon;
    assert_eq!(
        daemon.process.value().unwrap().as_ref().unwrap().pid,
        lab.d.pid()
    );
    assert_eq!(daemon.flags.last("log-level").as_deref(), Some("debug"));
    assert_eq!(daemon.flags.bool("icc"), Some(false));
    let config = daemon.config.value().unwrap().as_ref().unwrap();
    assert_eq!(config["cgroup-parent"], "/bulkhead-test");
    assert_eq!(config["tlsverify"], true);
    let paths = &daemon.paths;
    assert_eq!(paths.tcp_hosts, vec![lab.tcp.clone()]);
    assert_eq!(
        paths.sockets,
        vec![lab.d.socket_path().display().to_string()],
        "the harness's unix socket, from daemon.json hosts"
    );
    assert_eq!(paths.tls_cert.as_deref(), lab.server_cert.to_str());
    for p in [&paths.tls_ca, &paths.tls_cert, &paths.tls_key] {
        let p = p.as_deref().expect("TLS path resolved");
        assert!(
            matches!(lab.over_unix.host.file(p), Some(FileFact::Present(_))),
            "{p} stat'ed"
        );
    }
    assert!(lab.pki_dir.exists());
}

#[test]
fn section_2_verdicts_from_flags_and_daemon_json() {
    let Some(lab) = lab() else { return };
    let a = audit(&lab.over_unix);
    assert_eq!(
        status(&a, "2.2"),
        Status::Pass,
        "--icc=false on the command line"
    );
    // PITFALL 1: --log-level=debug on the command line is seen although daemon.json has no
    // log-level key (docker-bench passes it).
    assert_eq!(status(&a, "2.3"), Status::Fail);
    // PITFALL 2: TLS configured in daemon.json is read (docker-bench reports plain TCP).
    assert_eq!(status(&a, "2.7"), Status::Pass);
    // PITFALL 3: cgroup-parent in daemon.json is seen (docker-bench never reads it): a custom
    // parent needs confirming.
    let r = &a
        .outcomes
        .iter()
        .find(|o| o.check_id == "2.10")
        .unwrap()
        .result;
    assert_ne!(r.status, Status::Pass, "{r:?}");
    let shown = serde_json::to_string(r).unwrap();
    assert!(shown.contains("/bulkhead-test"), "{shown}");
}

#[test]
fn tcp_tls_with_client_certificates_gives_identical_verdicts() {
    let Some(lab) = lab() else { return };
    let s = over_tls(
        &lab.tcp,
        &lab.client_dir,
        &bulkhead_collect::endpoint::is_own_host,
    )
    .expect("collect over tcp+TLS");
    let docker = s.docker.as_ref().unwrap();
    assert_eq!(docker.endpoint.transport, "tcp");
    assert!(docker.endpoint.tls);
    assert!(docker.endpoint.local, "127.0.0.1 is this machine");
    assert_eq!(docker.endpoint.source, "env");
    // The daemon behind the tcp endpoint is found by the address it listens on.
    assert_eq!(
        docker.daemon.process.value().unwrap().as_ref().unwrap().pid,
        lab.d.pid(),
        "{}",
        docker.daemon.process_reason
    );
    let summary = |a: &Audit| {
        a.outcomes
            .iter()
            .map(|o| (o.check_id.clone(), o.result.status))
            .collect::<Vec<_>>()
    };
    assert_eq!(summary(&audit(&s)), summary(&audit(&lab.over_unix)));
}

#[test]
fn tls_errors_name_the_files_and_the_endpoint() {
    let Some(lab) = lab() else { return };
    let missing = lab.client_dir.join("nothing-here");
    let e = over_tls(&lab.tcp, &missing, &bulkhead_collect::endpoint::is_own_host).unwrap_err();
    assert!(
        e.contains(&missing.join("ca.pem").display().to_string()),
        "{e}"
    );
    assert!(e.contains("DOCKER_CERT_PATH"), "{e}");
    // A client certificate the daemon's CA never signed: refused, and the message names it.
    let stranger_dir = scratch_dir("stranger");
    let stranger = TestPki::new(&stranger_dir.join("ca")).unwrap();
    let wrong = stranger.docker_client_dir(&stranger_dir.join("client"));
    std::fs::copy(lab.client_dir.join("ca.pem"), wrong.join("ca.pem")).unwrap();
    let e = over_tls(&lab.tcp, &wrong, &bulkhead_collect::endpoint::is_own_host).unwrap_err();
    assert!(e.contains(&lab.tcp), "{e}");
    assert!(
        e.contains(&wrong.join("cert.pem").display().to_string()),
        "{e}"
    );
}

/// PITFALL 21: when the API endpoint is another machine, nothing of this host is attributed to
/// it and host-side checks are not applicable with that reason. A second machine cannot exist in
/// this test, so the environment declares 127.0.0.1 not to be this machine (the only stand-in).
#[test]
fn pitfall_21_remote_daemon_host_side_not_applicable() {
    let Some(lab) = lab() else { return };
    let s = over_tls(&lab.tcp, &lab.client_dir, &|_| false).expect("collect the 'remote' daemon");
    let docker = s.docker.as_ref().unwrap();
    assert!(!docker.endpoint.local);
    assert!(matches!(docker.daemon.process, Fact::Unavailable(_)));
    assert!(matches!(docker.daemon.config, Fact::Unavailable(_)));
    assert!(
        s.host.files.is_empty(),
        "no file of this host recorded for the remote daemon: {:?}",
        s.host.files.keys().collect::<Vec<_>>()
    );
    assert!(
        docker.info.value().is_some(),
        "the API facts are still read"
    );
    let a = audit(&s);
    for id in ["1.1.1", "1.1.3", "3.1", "3.16", "3.18"] {
        let o = a.outcomes.iter().find(|o| o.check_id == id).unwrap();
        assert_eq!(
            o.result.status,
            Status::NotApplicable,
            "{id}: {:?}",
            o.result
        );
        assert!(
            o.result.message.as_deref().unwrap_or("").contains("remote"),
            "{id}: {:?}",
            o.result.message
        );
    }
}

/// Swarm facts (swarm inspect, node list, secrets, overlay networks) and the section 5.1 and 7
/// verdicts on them.
#[test]
fn single_manager_swarm() {
    let Some(lab) = lab() else { return };
    let addr = match &lab.swarm {
        Ok(a) => a.clone(),
        Err(reason) => {
            // Not a missing component: this host already runs a swarm whose bridge the test
            // would have to share.
            eprintln!("skipped: {reason}");
            return;
        }
    };
    let s = &lab.over_unix;
    let docker = s.docker.as_ref().unwrap();
    let swarm = docker.swarm.value().expect("swarm facts");
    assert_eq!(swarm.state, "active");
    assert!(swarm.is_manager);
    assert_eq!(swarm.managers, 1);
    assert_eq!(swarm.autolock, Some(false));
    assert_eq!(swarm.node_cert_expiry_seconds, Some(90 * 24 * 3600));
    assert_eq!(swarm.secrets, Some(1));
    assert_eq!(swarm.advertise_addr.as_deref(), Some(addr.as_str()));
    assert_eq!(swarm.data_path_addr.as_deref(), Some("127.0.0.1"));
    let networks = docker.networks.value().unwrap();
    let enc = networks
        .iter()
        .find(|n| n.name == "encrypted-overlay")
        .unwrap();
    assert!(enc.options.contains_key("encrypted"), "{enc:?}");
    assert_eq!(enc.driver, "overlay");

    let options = AuditOptions::default();
    let ctx = Context::new(s, &options);
    let audit = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
    let result = |id: &str| {
        audit
            .outcomes
            .iter()
            .find(|o| o.check_id == id)
            .unwrap_or_else(|| panic!("{id}"))
            .result
            .clone()
    };
    assert_eq!(
        result("5.1").status,
        Status::Warn,
        "swarm mode on: confirm it is needed"
    );
    assert_eq!(result("7.1").status, Status::Pass, "one manager");
    assert_eq!(
        result("7.2").status,
        Status::Pass,
        "management port on 127.0.0.1 only"
    );
    let overlays = result("7.3");
    assert_eq!(overlays.status, Status::Fail);
    let per: Vec<(String, Status)> = overlays
        .objects
        .iter()
        .map(|o| (o.name.clone(), o.status))
        .collect();
    assert!(
        per.contains(&("plain-overlay".into(), Status::Fail)),
        "{per:?}"
    );
    assert!(
        per.contains(&("encrypted-overlay".into(), Status::Pass)),
        "{per:?}"
    );
    assert_eq!(result("7.5").status, Status::Fail, "autolock off");
}

/// PITFALL 18: with no containers the container checks do not vanish: each of 5.2-5.32 is
/// reported, not applicable with the reason.
#[test]
fn pitfall_18_no_containers_every_container_check_reported() {
    let Some(lab) = lab() else { return };
    let docker = lab.over_unix.docker.as_ref().unwrap();
    assert_eq!(docker.containers.value().map(|c| c.len()), Some(0));
    let a = audit(&lab.over_unix);
    for n in 2..=32 {
        let id = format!("5.{n}");
        let o = a
            .outcomes
            .iter()
            .find(|o| o.check_id == id)
            .unwrap_or_else(|| panic!("{id} is reported"));
        assert_eq!(
            o.result.status,
            Status::NotApplicable,
            "{id}: {:?}",
            o.result
        );
        assert!(
            !o.result.message.as_deref().unwrap_or("").is_empty(),
            "{id} says why"
        );
    }
}

/// What `d` served while `run` ran, as `GET /v1.41/info`, from its debug log (`--log-level=debug`
/// records each request it serves), and what `run` returned.
fn served_while<T>(d: &TestDockerd, run: impl FnOnce() -> T) -> (Vec<String>, T) {
    let before = std::fs::read_to_string(d.log_path()).unwrap().len();
    let out = run();
    let log = std::fs::read_to_string(d.log_path()).unwrap();
    let served = log[before..]
        .lines()
        .filter_map(|l| l.split("msg=\"Calling ").nth(1))
        .filter_map(|l| l.split('"').next())
        .map(String::from)
        .collect();
    (served, out)
}

/// Every request of a collection from `snapshot` was served, and each but the version `probe`
/// named the negotiated API version in its path.
fn assert_versioned(served: &[String], snapshot: &Snapshot, probe: &str) {
    let docker = snapshot.docker.as_ref().unwrap();
    let prefix = format!("/v{}/", docker.endpoint.api_version);
    for expected in [
        probe,
        "/info",
        "/containers/json",
        "/images/json",
        "/networks",
    ] {
        assert!(
            served
                .iter()
                .any(|s| s.ends_with(expected) || s.contains(&format!("{expected}?"))),
            "{expected} served: {served:?}"
        );
    }
    assert!(served
        .iter()
        .any(|s| s.contains("/containers/") && s.ends_with("/json")));
    let unversioned: Vec<&String> = served
        .iter()
        .filter(|s| {
            *s != probe
                && !s
                    .split_once(' ')
                    .is_some_and(|(_, p)| p.starts_with(&prefix))
        })
        .collect();
    assert!(
        unversioned.is_empty(),
        "requests without {prefix}: {unversioned:?}"
    );
}

/// A debug-logging daemon of its own (so no other test's requests mix into its log) with one
/// running container, started with `options`.
fn versioning_daemon(options: DaemonOptions) -> Option<TestDockerd> {
    let d = TestDockerd::start_with(options.arg("--log-level=debug"))?;
    d.ensure_image();
    d.run(
        "versioned",
        &bulkhead_testkit::ContainerSpec::new().cmd(&["sleep", "1000"]),
    );
    Some(d)
}

/// A loopback port nothing listens on, different on every call: tests run in parallel, and
/// two of them must not pick the same free port before either daemon binds it.
fn free_port() -> u16 {
    static NEXT: std::sync::atomic::AtomicU16 = std::sync::atomic::AtomicU16::new(23900);
    loop {
        let port = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        assert!(port < 24100, "no free loopback port in 23900..24100");
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// API version negotiation holds for every request, not only the first: after the unversioned
/// `/_ping` that learns the daemon's version, each request names the negotiated version in its
/// path (`/v1.41/info`), as the docker CLI does. `/version` is never asked over a unix socket
/// (dockerd runs `runc --version` and `docker-init --version` to answer it): the version
/// assembled from `/info` and `/_ping` says what `/version` says, and names the components by
/// the commits `/info` reports.
#[test]
fn every_request_after_the_ping_names_the_negotiated_version() {
    let Some(d) = versioning_daemon(DaemonOptions::default()) else {
        return;
    };
    let (served, snapshot) = served_while(&d, || collect_over_unix(&d));
    assert_versioned(&served, &snapshot, "GET /_ping");
    assert!(served.iter().any(|s| s.ends_with("/info")), "{served:?}");
    assert!(
        !served.iter().any(|s| s.ends_with("/version")),
        "asked /version: {served:?}"
    );
    let v = snapshot.docker.as_ref().unwrap().version.value().unwrap();
    let asked = d.api().get("/version").unwrap().json().unwrap();
    let info = d.api().get("/info").unwrap().json().unwrap();
    assert_eq!(v.source, VersionSource::InfoAndPing);
    for (field, ours) in [
        ("Version", &v.version),
        ("ApiVersion", &v.api_version),
        ("KernelVersion", &v.kernel_version),
        ("Os", &v.os),
    ] {
        assert_eq!(ours, asked[field].as_str().unwrap(), "{field}");
    }
    let runc = v.components.iter().find(|c| c.name == "runc").unwrap();
    assert_eq!(runc.commit, info["RuncCommit"]["ID"].as_str().unwrap());
}

/// The same over plain tcp, where the version is learnt from an unversioned `GET /version`.
#[test]
fn every_request_over_tcp_names_the_negotiated_version() {
    let tcp = format!("tcp://127.0.0.1:{}", free_port());
    let Some(d) = versioning_daemon(DaemonOptions::default().daemon_json(json!({"hosts": [tcp]})))
    else {
        return;
    };
    let (served, snapshot) = served_while(&d, || collect_docker(&tcp));
    assert_eq!(snapshot.docker.as_ref().unwrap().endpoint.transport, "tcp");
    assert_versioned(&served, &snapshot, "GET /version");
}

/// And over tcp+TLS with client certificates.
#[test]
fn every_request_over_tcp_tls_names_the_negotiated_version() {
    let scratch = scratch_dir("tls-versioned");
    let Some(pki) = TestPki::new(&scratch.join("ca")) else {
        return;
    };
    let server = pki.issue("server", &["IP:127.0.0.1"], false);
    let client_dir = pki.docker_client_dir(&scratch.join("client"));
    let tcp = format!("tcp://127.0.0.1:{}", free_port());
    let Some(d) =
        versioning_daemon(DaemonOptions::default().daemon_json(tls_listener(&tcp, &pki, &server)))
    else {
        return;
    };
    let (served, snapshot) = served_while(&d, || {
        over_tls(&tcp, &client_dir, &bulkhead_collect::endpoint::is_own_host)
            .expect("collect over tcp+TLS")
    });
    let endpoint = &snapshot.docker.as_ref().unwrap().endpoint;
    assert!(endpoint.transport == "tcp" && endpoint.tls, "{endpoint:?}");
    assert_versioned(&served, &snapshot, "GET /version");
}

/// daemon.json changed after dockerd started: the collection records both times, and 2.14,
/// which rests on the file, is a warn until the daemon restarts (then a pass again).
#[test]
fn daemon_json_newer_than_the_running_daemon_is_not_proven() {
    let Some(mut d) = TestDockerd::start_with(
        DaemonOptions::default().daemon_json(json!({"no-new-privileges": true})),
    ) else {
        return;
    };
    let before = collect_over_unix(&d);
    let daemon = &before.docker.as_ref().unwrap().daemon;
    assert!(daemon.started_at.is_some(), "the daemon's start time");
    assert!(daemon.config_modified_at.is_some(), "daemon.json's time");
    assert_eq!(daemon.config_changed_after_start(), None);
    assert_eq!(status(&audit(&before), "2.14"), Status::Pass);
    // Edited after the daemon started, and not restarted.
    std::fs::File::options()
        .write(true)
        .open(d.config_file())
        .unwrap()
        .set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(60))
        .unwrap();
    let a = audit(&collect_over_unix(&d));
    let o = a.outcomes.iter().find(|o| o.check_id == "2.14").unwrap();
    assert_eq!(o.result.status, Status::Warn);
    let note = o.result.objects[0].note.as_deref().unwrap_or_default();
    assert!(note.contains("may not have loaded this setting"), "{note}");
    // Restarted with the file: in force again.
    d.restart_with_daemon_json(json!({"no-new-privileges": true}));
    assert_eq!(status(&audit(&collect_over_unix(&d)), "2.14"), Status::Pass);
}
