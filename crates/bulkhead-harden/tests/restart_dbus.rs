//! `--restart-daemon` for a systemd-managed dockerd: bulkhead asks systemd over the system bus
//! (`org.freedesktop.systemd1.Manager.RestartUnit`), then waits until the old daemon is gone and
//! the new one answers.
//!
//! Real parts: a real `dbus-daemon` (Debian package dbus) on a private socket, found through
//! `DBUS_SYSTEM_BUS_ADDRESS` exactly as on a host; a real dockerd (the testkit's). What cannot
//! exist here is systemd itself (this machine's init is not systemd): a stand-in service owns
//! the name `org.freedesktop.systemd1` on that bus, answers RestartUnit as systemd does (a job
//! path) and restarts the test dockerd. The dockerd's cgroup, which tells bulkhead that systemd
//! runs it, is likewise given through a proc view whose `cgroup` file names docker.service.

use bulkhead_collect::{CollectOptions, Want};
use bulkhead_harden::dbus::{Arg, Connection, Message};
use bulkhead_harden::restart::{restart_docker, RestartMethod};
use bulkhead_testkit::{find_program, DaemonOptions, TestDockerd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Bus(Child, PathBuf);

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

fn start_bus(dir: &Path) -> Option<(Bus, String)> {
    let Some(dbus) = find_program("dbus-daemon") else {
        let reason = "no dbus-daemon (install the Debian package dbus-daemon)";
        assert!(!bulkhead_testkit::ci(), "{reason}");
        eprintln!("skipped: {reason}");
        return None;
    };
    std::fs::create_dir_all(dir).unwrap();
    let socket = dir.join("system_bus_socket");
    let conf = dir.join("bus.conf");
    std::fs::write(
        &conf,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
            socket.display()
        ),
    )
    .unwrap();
    let child = Command::new(dbus)
        .args(["--nofork", "--nopidfile", "--config-file"])
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if socket.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        socket.exists(),
        "dbus-daemon did not create {}",
        socket.display()
    );
    Some((Bus(child, dir.to_path_buf()), socket.display().to_string()))
}

/// The stand-in for systemd: owns org.freedesktop.systemd1, records the calls it gets, answers
/// RestartUnit with a job path, then restarts the daemon the way systemd would.
/// Method calls the stand-in received: (member, string arguments).
type Calls = Arc<Mutex<Vec<(String, Vec<String>)>>>;

fn stand_in_systemd(
    bus: String,
    dockerd: Arc<Mutex<TestDockerd>>,
    calls: Calls,
) -> std::thread::JoinHandle<()> {
    let mut c = Connection::open(&bus, Duration::from_secs(60)).unwrap();
    let r = c
        .call_args(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus",
            "RequestName",
            vec![Arg::Str("org.freedesktop.systemd1".into()), Arg::U32(4)],
        )
        .unwrap();
    assert_eq!(
        r.args.first(),
        Some(&Arg::U32(1)),
        "the stand-in is the primary owner"
    );
    std::thread::spawn(move || loop {
        let Ok(m) = c.read() else { return };
        if m.kind != 1 {
            continue;
        }
        let member = m.member.clone().unwrap_or_default();
        let args: Vec<String> = m
            .args
            .iter()
            .filter_map(|a| a.text().map(String::from))
            .collect();
        calls.lock().unwrap().push((member.clone(), args));
        let _ = c.send(Message {
            kind: 2,
            reply_serial: Some(m.serial),
            destination: m.sender.clone(),
            args: vec![Arg::ObjectPath("/org/freedesktop/systemd1/job/42".into())],
            ..Default::default()
        });
        if member == "RestartUnit" {
            dockerd.lock().unwrap().restart();
            return;
        }
    })
}

#[test]
fn systemd_restart_over_the_system_bus_waits_for_the_new_daemon() {
    let dir = std::env::temp_dir().join(format!("bulkhead-dbus-{}", std::process::id()));
    let Some((_bus, socket)) = start_bus(&dir.join("bus")) else {
        return;
    };
    let Some(d) = TestDockerd::start_with(DaemonOptions::default()) else {
        return;
    };
    let old_pid = d.pid();
    let host = d.docker_host();
    let snap = bulkhead_collect::collect(&CollectOptions {
        docker: Want::Required,
        docker_host: Some(host.clone()),
        kubernetes: Want::Skip,
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        snap.docker
            .as_ref()
            .unwrap()
            .daemon
            .process
            .value()
            .cloned()
            .flatten()
            .map(|p| p.pid),
        Some(old_pid),
        "the collector found the test dockerd"
    );
    // The proc view: the daemon's real comm, and a cgroup naming docker.service.
    let proc = dir.join("proc");
    std::fs::create_dir_all(proc.join(old_pid.to_string())).unwrap();
    std::os::unix::fs::symlink(
        format!("/proc/{old_pid}/comm"),
        proc.join(format!("{old_pid}/comm")),
    )
    .unwrap();
    std::fs::write(
        proc.join(format!("{old_pid}/cgroup")),
        "0::/system.slice/docker.service\n",
    )
    .unwrap();

    let dockerd = Arc::new(Mutex::new(d));
    let calls = Arc::new(Mutex::new(Vec::new()));
    let systemd = stand_in_systemd(socket.clone(), dockerd.clone(), calls.clone());
    std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", format!("unix:path={socket}"));
    let report = restart_docker(&snap, &proc, false, Duration::from_secs(60)).expect("restart");
    systemd.join().unwrap();
    assert_eq!(
        calls.lock().unwrap().as_slice(),
        &[(
            "RestartUnit".to_string(),
            vec!["docker.service".to_string(), "replace".to_string()]
        )]
    );
    assert_eq!(
        report.method,
        RestartMethod::Systemd {
            unit: "docker.service".into(),
            reload: false,
            job: "/org/freedesktop/systemd1/job/42".into()
        }
    );
    let d = dockerd.lock().unwrap();
    assert_ne!(d.pid(), old_pid, "a new daemon runs");
    assert!(d.api().get("/_ping").unwrap().is_success(), "and answers");
    assert!(
        report
            .to_string()
            .starts_with("systemd restarted docker.service"),
        "{report}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
