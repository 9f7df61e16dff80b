//! A real etcd (Debian's etcd-server) started with `--config-file`: its file lacks
//! `client-cert-auth`, while a `--client-cert-auth=true` flag beside it is ignored by etcd. The
//! real collector and evaluators fail 2.2; harden plans the fix as an edit of the YAML file,
//! applies it (backup, atomic write), etcd is restarted with the same command line, and the
//! audit of the restarted etcd passes 2.2. That etcd starts again shows it accepts the edited
//! file (it refuses a quoted boolean, for one), and its log shows it took the key from it.
//!
//! Files are the real ones under `/` (the file and etcd's data live in a temporary directory);
//! the collector sees etcd alone, through a proc view.

mod common;

use bulkhead_checks::Status;
use bulkhead_collect::{CollectOptions, Want};
use bulkhead_facts::Snapshot;
use bulkhead_harden::apply::{apply, ApplyOptions};
use bulkhead_harden::{plan, FixKind};
use common::{kube_audit, request, status, temp_root};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

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

#[test]
fn real_etcd_with_a_config_file_is_hardened_in_that_file() {
    let Some(etcd) = bulkhead_testkit::find_program("etcd") else {
        let reason = "no etcd binary (apt-get install etcd-server)";
        assert!(!bulkhead_testkit::ci(), "{reason}");
        eprintln!("skipped: {reason}");
        return;
    };
    let dir = temp_root("etcd-config-e2e");
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let (client, peer) = (free_port(), free_port());
    let config = dir.join("etcd.yaml");
    let config_path = config.display().to_string();
    let text = format!(
        "# etcd of the harden end-to-end test\nname: harden-e2e\ndata-dir: {}\nlisten-client-urls: http://127.0.0.1:{client}\nadvertise-client-urls: http://127.0.0.1:{client}\nlisten-peer-urls: http://127.0.0.1:{peer}\ninitial-advertise-peer-urls: http://127.0.0.1:{peer}\ninitial-cluster: harden-e2e=http://127.0.0.1:{peer}\n",
        data.display()
    );
    std::fs::write(&config, &text).unwrap();
    let args = vec![
        format!("--config-file={config_path}"),
        "--client-cert-auth=true".to_string(),
    ];

    // What etcd says once it runs with client-certificate authentication on (over plain HTTP,
    // it ignores it for the URL): never from the flag beside its file.
    let enabled = || {
        std::fs::read_to_string(dir.join("etcd.log"))
            .unwrap_or_default()
            .matches("client cert auth (--client-cert-auth) is enabled")
            .count()
    };
    let running = start(&etcd, &dir, &args, client);
    assert_eq!(enabled(), 0, "etcd ignores the flag beside its file");
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
    let before = kube_audit(&snap, &["2.2"]);
    assert_eq!(
        status(&before, "2.2"),
        Status::Fail,
        "{:?}",
        before.outcomes
    );

    let p = plan(
        &snap,
        std::slice::from_ref(&before),
        &request(Path::new("/"), &["2.2"]),
    )
    .unwrap();
    assert!(p.unfixed.is_empty(), "{:#?}", p.unfixed);
    assert_eq!(p.fixes.len(), 1, "{:#?}", p.fixes);
    let fix = &p.fixes[0];
    assert_eq!(fix.kind, FixKind::EtcdConfig);
    assert_eq!(fix.target.path.as_deref(), Some(config_path.as_str()));
    assert_eq!(
        fix.changes,
        vec!["client-transport-security.client-cert-auth: true"]
    );
    let report = apply(
        &p,
        &ApplyOptions {
            root: PathBuf::from("/"),
            include_review: true,
            state_dir: Some(dir.join("state")),
        },
    )
    .unwrap();
    assert_eq!(report.applied.len(), 1, "{report:?}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        format!("{text}client-transport-security:\n  client-cert-auth: true\n")
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

    // etcd restarted with the same command line reads the edited file.
    drop(running);
    let running = start(&etcd, &dir, &args, client);
    assert_eq!(enabled(), 1, "etcd runs with the key the fix wrote");
    let after = kube_audit(&collect(&dir, &running), &["2.2"]);
    assert_eq!(status(&after, "2.2"), Status::Pass, "{:?}", after.outcomes);
}
