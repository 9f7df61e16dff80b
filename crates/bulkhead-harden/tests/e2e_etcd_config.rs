//! A real etcd (Debian's etcd-server) started with `--config-file`, serving its clients over TLS
//! with certificates from a test CA: its file turns automatic TLS on (which etcd ignores beside
//! the certificate files, and says so in its log), while an `--auto-tls=false` flag beside it is
//! ignored too. The real collector and evaluators fail 2.3; harden plans the fix as an edit of
//! the YAML file, applies it (backup, atomic write); the audit warns (not proven yet) until etcd
//! is restarted with the same command line, and that of the restarted etcd passes 2.3. That etcd starts again shows it accepts
//! the edited file (it refuses a quoted boolean, for one), and its log shows it took the key from
//! it. Its CA file makes it refuse a client without a certificate throughout, so 2.2 passes
//! although `client-cert-auth` is never set.
//!
//! A second etcd serves https with its automatic certificate alone: harden leaves automatic TLS
//! on, saying why, and the same etcd started on the file edited by hand shows why (it exits).
//! A third, on automatic TLS with a server pair beside its CA file, gets both in one plan when
//! 2.1 is selected with 2.3: the pair, then automatic TLS off on that fix's result; restarted,
//! it serves the pair.
//!
//! Files are the real ones under `/` (the file, the certificates and etcd's data live in a
//! temporary directory); the collector sees etcd alone, through a proc view.

mod common;

use bulkhead_checks::Status;
use bulkhead_collect::{CollectOptions, Want};
use bulkhead_facts::Snapshot;
use bulkhead_harden::apply::{apply, ApplyOptions};
use bulkhead_harden::{plan, FixKind};
use bulkhead_testkit::etcd::{etcd_answers_without_client_cert, free_ports, https_get_verified};
use bulkhead_testkit::TestPki;
use common::{kube_audit, request, status, temp_root};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running etcd, killed on drop.
struct Etcd(Child);

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `etcd` with `args` in `dir` and wait until it listens on `port`.
fn start(etcd: &Path, dir: &Path, args: &[String], port: u16) -> Etcd {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("etcd.log"))
        .unwrap();
    let child = Command::new(etcd)
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", etcd.display()));
    let mut e = Etcd(child);
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        let log = || std::fs::read_to_string(dir.join("etcd.log")).unwrap_or_default();
        if let Ok(Some(status)) = e.0.try_wait() {
            panic!("etcd exited ({status}) before listening:\n{}", log());
        }
        assert!(
            Instant::now() < deadline,
            "etcd did not listen on {addr} within 20s:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    e
}

/// Collect from `/`, seeing only `etcd` through a proc view in `dir`.
fn collect(dir: &Path, etcd: &Etcd) -> Snapshot {
    let proc = dir.join("proc-view");
    let _ = std::fs::remove_dir_all(&proc);
    std::fs::create_dir_all(&proc).unwrap();
    let pid = etcd.0.id();
    std::os::unix::fs::symlink(format!("/proc/{pid}"), proc.join(pid.to_string())).unwrap();
    std::os::unix::fs::symlink("/proc/stat", proc.join("stat")).unwrap();
    bulkhead_collect::collect(&CollectOptions {
        root: PathBuf::from("/"),
        proc,
        docker: Want::Skip,
        kubernetes: Want::Required,
        ..Default::default()
    })
    .unwrap()
}

/// etcd's data directory in `dir`, private as etcd wants it.
fn data_dir(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    data
}

/// The plan for checks `ids` of audit `before` of `snap`, for the real files under `/`.
fn plan_on_root(
    snap: &Snapshot,
    before: &bulkhead_checks::Audit,
    ids: &[&str],
) -> bulkhead_harden::Plan {
    plan(
        snap,
        std::slice::from_ref(before),
        &request(Path::new("/"), ids),
    )
    .unwrap()
}

/// Apply plan `p` to the real files under `/`, fixes that need review included, with the state
/// directory in `dir`.
fn apply_reviewed(p: &bulkhead_harden::Plan, dir: &Path) -> bulkhead_harden::apply::ApplyReport {
    apply(
        p,
        &ApplyOptions {
            root: PathBuf::from("/"),
            include_review: true,
            state_dir: Some(dir.join("state")),
        },
    )
    .unwrap()
}

/// The etcd binary; None (with `skipped: ...` printed) when there is none outside CI, where its
/// absence fails the run.
fn etcd_program() -> Option<PathBuf> {
    let found = bulkhead_testkit::find_program("etcd");
    if found.is_none() {
        let reason = "no etcd binary (apt-get install etcd-server)";
        assert!(!bulkhead_testkit::ci(), "{reason}");
        eprintln!("skipped: {reason}");
    }
    found
}

#[test]
fn real_etcd_with_a_config_file_is_hardened_in_that_file() {
    let Some(etcd) = etcd_program() else {
        return;
    };
    let dir = temp_root("etcd-config-e2e");
    let Some(pki) = TestPki::new(&dir.join("pki")) else {
        return;
    };
    let server = pki.issue("etcd", &["IP:127.0.0.1"], false);
    let data = data_dir(&dir);
    let (client, peer) = free_ports();
    let config = dir.join("etcd.yaml");
    let config_path = config.display().to_string();
    let text = format!(
        "# etcd of the harden end-to-end test\nname: harden-e2e\ndata-dir: {}\nlisten-client-urls: https://127.0.0.1:{client}\nadvertise-client-urls: https://127.0.0.1:{client}\nlisten-peer-urls: http://127.0.0.1:{peer}\ninitial-advertise-peer-urls: http://127.0.0.1:{peer}\ninitial-cluster: harden-e2e=http://127.0.0.1:{peer}\nclient-transport-security:\n  cert-file: {}\n  key-file: {}\n  trusted-ca-file: {}\n  auto-tls: true\n",
        data.display(),
        server.cert.display(),
        server.key.display(),
        pki.ca().display()
    );
    std::fs::write(&config, &text).unwrap();
    let args = vec![
        format!("--config-file={config_path}"),
        "--auto-tls=false".to_string(),
    ];
    // Whether etcd answers a client that shows no certificate.
    let answers_anyone = || etcd_answers_without_client_cert(&format!("127.0.0.1:{client}"));
    // What etcd logs when automatic TLS is on beside certificate files: never from the flag.
    let auto_tls_ignored = || {
        std::fs::read_to_string(dir.join("etcd.log"))
            .unwrap_or_default()
            .matches("ignoring client auto TLS since certs given")
            .count()
    };

    let running = start(&etcd, &dir, &args, client);
    assert_eq!(
        auto_tls_ignored(),
        1,
        "etcd takes auto-tls from its file, not the flag"
    );
    assert!(
        !answers_anyone(),
        "the CA file makes etcd ask for certificates"
    );
    let snap = collect(&dir, &running);
    let c = snap
        .kubernetes
        .as_ref()
        .unwrap()
        .component("etcd")
        .expect("etcd is collected");
    assert_eq!(
        c.config.as_ref().map(|f| f.path.as_str()),
        Some(config_path.as_str())
    );
    let before = kube_audit(&snap, &["2.2", "2.3"]);
    assert_eq!(
        status(&before, "2.3"),
        Status::Fail,
        "{:?}",
        before.outcomes
    );
    assert_eq!(
        status(&before, "2.2"),
        Status::Pass,
        "{:?}",
        before.outcomes
    );

    let p = plan_on_root(&snap, &before, &["2.3"]);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::EtcdConfig);
    assert_eq!(fix.target.path.as_deref(), Some(config_path.as_str()));
    assert_eq!(
        fix.changes,
        vec!["client-transport-security.auto-tls: false"]
    );
    // File times and process start times are compared with two seconds of slack: let the file
    // be written clearly after etcd started.
    std::thread::sleep(Duration::from_secs(3));
    let report = apply_reviewed(&p, &dir);
    assert_eq!(report.applied.len(), 1, "{report:?}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        text.replace("  auto-tls: true\n", "  auto-tls: false\n")
    );
    // A backup of the file as it was sits beside it.
    let backups: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("etcd.yaml.bulkhead-") && n.ends_with(".bak"))
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(
        std::fs::read_to_string(dir.join(&backups[0])).unwrap(),
        text
    );

    // Until etcd restarts, the file says more than etcd runs with: not proven yet.
    let pending = kube_audit(&collect(&dir, &running), &["2.3"]);
    assert_eq!(
        status(&pending, "2.3"),
        Status::Warn,
        "{:?}",
        pending.outcomes
    );

    // etcd restarted with the same command line reads the edited file.
    drop(running);
    let running = start(&etcd, &dir, &args, client);
    assert_eq!(
        auto_tls_ignored(),
        1,
        "etcd runs with the key the fix wrote"
    );
    assert!(!answers_anyone());
    let after = kube_audit(&collect(&dir, &running), &["2.2", "2.3"]);
    assert_eq!(status(&after, "2.3"), Status::Pass, "{:?}", after.outcomes);
    assert_eq!(status(&after, "2.2"), Status::Pass, "{:?}", after.outcomes);
}

/// etcd serving https with its automatic certificate alone (no certificate files): 2.3 fails,
/// but turning automatic TLS off would keep etcd from starting, which the same etcd shows on
/// the file edited by hand. harden leaves 2.3 unfixed saying so, and leaves 2.2 to a person
/// too: client certificates need certificate files and a CA no one has named.
#[test]
fn real_etcd_on_automatic_tls_keeps_it() {
    let Some(etcd) = etcd_program() else {
        return;
    };
    let dir = temp_root("etcd-auto-tls-e2e");
    let data = data_dir(&dir);
    let (client, peer) = free_ports();
    let config = dir.join("etcd.yaml");
    let text = format!(
        "name: auto-tls-e2e\ndata-dir: {}\nlisten-client-urls: https://127.0.0.1:{client}\nadvertise-client-urls: https://127.0.0.1:{client}\nlisten-peer-urls: http://127.0.0.1:{peer}\ninitial-advertise-peer-urls: http://127.0.0.1:{peer}\ninitial-cluster: auto-tls-e2e=http://127.0.0.1:{peer}\nclient-transport-security:\n  auto-tls: true\n",
        data.display()
    );
    std::fs::write(&config, &text).unwrap();
    let args = vec![format!("--config-file={}", config.display())];
    let running = start(&etcd, &dir, &args, client);
    let snap = collect(&dir, &running);
    let before = kube_audit(&snap, &["2.2", "2.3"]);
    for id in ["2.2", "2.3"] {
        assert_eq!(
            status(&before, id),
            Status::Fail,
            "{id}: {:?}",
            before.outcomes
        );
    }
    let p = plan_on_root(&snap, &before, &["2.2", "2.3"]);
    assert!(p.fixes.is_empty(), "{:#?}", p.fixes);
    let reason = |id: &str| {
        p.unfixed
            .iter()
            .find(|u| u.check == id)
            .map(|u| u.reason.clone())
            .unwrap_or_else(|| panic!("{id} unfixed: {:#?}", p.unfixed))
    };
    assert_eq!(
        reason("2.3"),
        format!("etcd serves its clients with its automatic certificate (listen-client-urls https://127.0.0.1:{client}, and neither client-transport-security.cert-file nor client-transport-security.key-file is set): with client-transport-security.auto-tls off it would not start; give it client-transport-security.cert-file and client-transport-security.key-file first, then run harden again")
    );
    assert!(
        reason("2.2").starts_with("client-transport-security.auto-tls is on and neither client-transport-security.cert-file nor client-transport-security.key-file is set: "),
        "{}",
        reason("2.2")
    );
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        text,
        "planning writes nothing"
    );

    // The edit harden refused, made by hand: etcd exits at start.
    drop(running);
    std::fs::write(&config, text.replace("auto-tls: true", "auto-tls: false")).unwrap();
    let log = std::fs::File::create(dir.join("refused.log")).unwrap();
    let mut child = Command::new(&etcd)
        .args(&args)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("etcd kept running without its automatic certificate");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!exit.success());
    let said = std::fs::read_to_string(dir.join("refused.log")).unwrap();
    assert!(
        said.contains("TLS key/cert (--cert-file, --key-file) must be provided"),
        "{said}"
    );
}

/// A real etcd serving its clients in plain HTTP, with a CA file in a directory that also holds a
/// server certificate and key (cfssl's names): 2.1 fails; harden plans the pair it found and
/// https:// URLs (listen and advertised: etcd refuses explicit listen URLs without the second)
/// in the configuration file, needing review; applied, and etcd restarted with the same command
/// line, etcd starts on the edited file, serves its clients over TLS (its log says so, and a
/// client without a certificate is refused at the handshake), and the audit passes 2.1.
#[test]
fn real_etcd_in_plain_http_gets_tls_from_certificates_it_already_has() {
    let Some(etcd) = etcd_program() else {
        return;
    };
    let dir = temp_root("etcd-tls-e2e");
    let Some(pki) = TestPki::new(&dir.join("pki")) else {
        return;
    };
    let issued = pki.issue("server", &["IP:127.0.0.1"], false);
    // cfssl's layout: server.pem beside server-key.pem and the CA.
    let cert = dir.join("pki/server.pem");
    std::fs::copy(&issued.cert, &cert).unwrap();
    assert_eq!(issued.key, dir.join("pki/server-key.pem"));
    let data = data_dir(&dir);
    let (client, peer) = free_ports();
    let config = dir.join("etcd.yaml");
    let config_path = config.display().to_string();
    let text = format!(
        "name: tls-e2e\ndata-dir: {}\nlisten-client-urls: http://127.0.0.1:{client}\nadvertise-client-urls: http://127.0.0.1:{client}\nlisten-peer-urls: http://127.0.0.1:{peer}\ninitial-advertise-peer-urls: http://127.0.0.1:{peer}\ninitial-cluster: tls-e2e=http://127.0.0.1:{peer}\nclient-transport-security:\n  trusted-ca-file: {}\n",
        data.display(),
        pki.ca().display()
    );
    std::fs::write(&config, &text).unwrap();
    let args = vec![format!("--config-file={config_path}")];
    // etcd 3.4 logs "serving client requests on ADDR" for TLS and "serving insecure client
    // requests on ADDR, ..." for plain HTTP (3.5: "serving client traffic securely" or
    // "insecurely"), once it is ready, after it has begun to accept connections.
    let log = || std::fs::read_to_string(dir.join("etcd.log")).unwrap_or_default();
    let serving_tls = || {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = log();
            if text.contains("serving client requests on")
                || text.contains("serving client traffic securely")
            {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };

    let running = start(&etcd, &dir, &args, client);
    let snap = collect(&dir, &running);
    let before = kube_audit(&snap, &["2.1"]);
    assert_eq!(
        status(&before, "2.1"),
        Status::Fail,
        "{:?}",
        before.outcomes
    );
    let p = plan_on_root(&snap, &before, &["2.1"]);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::EtcdConfig);
    assert_eq!(fix.target.path.as_deref(), Some(config_path.as_str()));
    let changes = fix.changes.join("\n");
    for wanted in [
        format!("client-transport-security.cert-file: {}", cert.display()),
        format!(
            "client-transport-security.key-file: {}",
            issued.key.display()
        ),
        format!("listen-client-urls: https://127.0.0.1:{client}"),
        format!("advertise-client-urls: https://127.0.0.1:{client}"),
    ] {
        assert!(changes.contains(&wanted), "{wanted} in {changes}");
    }
    std::thread::sleep(Duration::from_secs(3));
    let report = apply_reviewed(&p, &dir);
    assert_eq!(report.applied.len(), 1, "{report:?}");

    drop(running);
    let running = start(&etcd, &dir, &args, client);
    assert!(
        serving_tls(),
        "etcd serves its clients over TLS:\n{}\n{}",
        std::fs::read_to_string(&config).unwrap(),
        log()
    );
    assert!(
        !etcd_answers_without_client_cert(&format!("127.0.0.1:{client}")),
        "its CA file makes etcd ask clients for a certificate"
    );
    let after = kube_audit(&collect(&dir, &running), &["2.1"]);
    assert_eq!(status(&after, "2.1"), Status::Pass, "{:?}", after.outcomes);
}

/// A real etcd serving its clients on https:// with its automatic certificate alone, a CA file
/// in a directory that also holds a server pair (cfssl's names). Selected alone, 2.3 stays
/// unfixed (etcd would not start); selected with 2.1, harden plans two fixes of the
/// configuration file: the pair (2.1), then automatic TLS off on that result (2.3). Applied
/// together and etcd restarted with the same command line, etcd starts, serves the pair (a client
/// that verifies against the test CA and shows a client certificate gets its answer; one without
/// a certificate is refused, which the automatic certificate never did), and the audit passes
/// 2.1 and 2.3.
#[test]
fn real_etcd_on_automatic_tls_gets_the_pair_and_automatic_tls_off_in_one_plan() {
    let Some(etcd) = etcd_program() else {
        return;
    };
    let dir = temp_root("etcd-auto-tls-pair-e2e");
    let Some(pki) = TestPki::new(&dir.join("pki")) else {
        return;
    };
    let issued = pki.issue("server", &["IP:127.0.0.1"], false);
    let cert = dir.join("pki/server.pem");
    std::fs::copy(&issued.cert, &cert).unwrap();
    let client_pair = pki.issue("client", &[], true);
    let data = data_dir(&dir);
    let (client, peer) = free_ports();
    let config = dir.join("etcd.yaml");
    let text = format!(
        "name: auto-pair-e2e\ndata-dir: {}\nlisten-client-urls: https://127.0.0.1:{client}\nadvertise-client-urls: https://127.0.0.1:{client}\nlisten-peer-urls: http://127.0.0.1:{peer}\ninitial-advertise-peer-urls: http://127.0.0.1:{peer}\ninitial-cluster: auto-pair-e2e=http://127.0.0.1:{peer}\nclient-transport-security:\n  trusted-ca-file: {}\n  auto-tls: true\n",
        data.display(),
        pki.ca().display()
    );
    std::fs::write(&config, &text).unwrap();
    let args = vec![format!("--config-file={}", config.display())];
    let authority = format!("127.0.0.1:{client}");

    let running = start(&etcd, &dir, &args, client);
    // The automatic certificate asks for no client certificate, CA file or not.
    assert!(etcd_answers_without_client_cert(&authority));
    let snap = collect(&dir, &running);
    let before = kube_audit(&snap, &["2.1", "2.3"]);
    for id in ["2.1", "2.3"] {
        assert_eq!(
            status(&before, id),
            Status::Fail,
            "{id}: {:?}",
            before.outcomes
        );
    }
    let alone = plan_on_root(&snap, &before, &["2.3"]);
    assert!(alone.fixes.is_empty(), "{:#?}", alone.fixes);
    assert!(
        alone.unfixed[0]
            .reason
            .ends_with("first, then run harden again"),
        "{}",
        alone.unfixed[0].reason
    );
    let p = plan_on_root(&snap, &before, &["2.1", "2.3"]);
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 2, "{:#?}", p.fixes);
    assert_eq!(p.fixes[0].checks, vec!["2.1"]);
    assert_eq!(
        p.fixes[0].changes,
        vec![
            format!("client-transport-security.cert-file: {}", cert.display()),
            format!(
                "client-transport-security.key-file: {}",
                issued.key.display()
            ),
        ]
    );
    assert_eq!(p.fixes[1].checks, vec!["2.3"]);
    assert_eq!(
        p.fixes[1].changes,
        vec!["client-transport-security.auto-tls: false"]
    );
    assert_eq!(
        p.fixes[1].action.edits[0].before.as_deref(),
        Some(p.fixes[0].action.edits[0].after.as_str())
    );
    std::thread::sleep(Duration::from_secs(3));
    let report = apply_reviewed(&p, &dir);
    assert_eq!(report.applied.len(), 2, "{report:?}");
    let written = std::fs::read_to_string(&config).unwrap();
    assert_eq!(written, p.fixes[1].action.edits[0].after);

    drop(running);
    let running = start(&etcd, &dir, &args, client);
    let log = || std::fs::read_to_string(dir.join("etcd.log")).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let answer = loop {
        match https_get_verified(&authority, "/version", &pki.ca(), &client_pair) {
            Ok(answer) => break answer,
            Err(why) if Instant::now() > deadline => {
                panic!("etcd does not serve the pair: {why}\n{written}\n{}", log())
            }
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    assert!(answer.contains("etcdserver"), "{answer}");
    assert!(
        !etcd_answers_without_client_cert(&authority),
        "served from the files, etcd asks its clients for a certificate"
    );
    let after = kube_audit(&collect(&dir, &running), &["2.1", "2.3"]);
    for id in ["2.1", "2.3"] {
        assert_eq!(
            status(&after, id),
            Status::Pass,
            "{id}: {:?}",
            after.outcomes
        );
    }
}
