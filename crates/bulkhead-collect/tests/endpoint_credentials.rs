//! A tcp address with credentials in it (`tcp://user:password@host:port`, as some write one
//! for a proxy in front of the daemon) is still matched to this machine and to the dockerd that
//! listens there: the credentials are not part of the address compared, while every output
//! shows them masked (`user:***@`).
//!
//! No daemon is needed: the dockerd processes are made up, as a process list would show them.

use bulkhead_collect::daemon::{local_daemon, DaemonInputs};
use bulkhead_collect::endpoint::{is_own_host, resolve, Environment, Target};
use bulkhead_collect::hostfs::HostFs;
use bulkhead_facts::host::Process;

fn resolve_flag(flag: &str) -> Target {
    let env = Environment {
        var: &|_| None,
        socket_exists: &|_| false,
        is_own_host: &is_own_host,
    };
    resolve(Some(flag), &env).unwrap()
}

/// A dockerd listening on `hosts` (its `-H` flags).
fn dockerd(pid: u32, hosts: &[&str]) -> Process {
    let mut argv = vec!["/usr/bin/dockerd".to_string()];
    for h in hosts {
        argv.push("-H".into());
        argv.push(h.to_string());
    }
    Process {
        pid,
        ppid: 1,
        comm: "dockerd".into(),
        exe: Some("/usr/bin/dockerd".into()),
        argv,
        uid: 0,
        ..Default::default()
    }
}

/// The dockerd `target` is matched to among two on this host: one listening on
/// 127.0.0.1:2375, the other on every address at port 2376.
fn matched_dockerd(target: &Target) -> (Option<u32>, String) {
    let processes = vec![
        dockerd(100, &["unix:///run/other.sock", "tcp://127.0.0.1:2375"]),
        dockerd(200, &["unix:///run/docker.sock", "tcp://0.0.0.0:2376"]),
    ];
    let fs = HostFs::new("/nonexistent-bulkhead-root");
    let daemon = local_daemon(&DaemonInputs {
        processes: &processes,
        endpoint: &target.endpoint,
        info: None,
        fs: &fs,
        users: &[],
    });
    (
        daemon.process.value().cloned().flatten().map(|p| p.pid),
        daemon.process_reason,
    )
}

/// The same address without credentials is matched (what the case below must equal).
#[test]
fn an_address_without_credentials_finds_its_dockerd() {
    let target = resolve_flag("tcp://127.0.0.1:2376");
    assert!(target.endpoint.local);
    let (pid, reason) = matched_dockerd(&target);
    assert_eq!(pid, Some(200), "{reason}");
}

/// Credentials in the address are not part of where the daemon listens: the address still
/// matches the dockerd whose -H flag names that host and port, and the reason stays masked.
#[test]
fn an_address_with_credentials_is_this_machine_and_finds_its_dockerd() {
    let target = resolve_flag("tcp://admin:Hunter2-Secret@127.0.0.1:2376");
    assert_eq!(target.endpoint.host, "tcp://admin:***@127.0.0.1:2376");
    assert!(
        target.endpoint.local,
        "127.0.0.1 behind credentials is this machine"
    );

    let (pid, reason) = matched_dockerd(&target);
    assert_eq!(pid, Some(200), "{reason}");
    // The reason names the endpoint as every output does: masked.
    assert!(
        reason.contains("tcp://admin:***@127.0.0.1:2376"),
        "{reason}"
    );
    assert!(!reason.contains("Hunter2"), "{reason}");
}
