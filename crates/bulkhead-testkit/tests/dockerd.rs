//! The harness against a real dockerd: it starts on its own socket, imports the busybox image,
//! runs containers, restarts with a new daemon.json, and leaves nothing behind.

use bulkhead_testkit::{ContainerSpec, DaemonOptions, TestDockerd};
use serde_json::json;
use std::time::Duration;

#[test]
fn starts_runs_restarts_and_cleans_up() {
    let Some(mut d) = TestDockerd::start_with(
        DaemonOptions::default().daemon_json(json!({"labels": ["bulkhead-test=1"]})),
    ) else {
        return;
    };
    let dir = d.dir().to_path_buf();
    assert!(d.socket_path().starts_with(&dir));
    assert!(d.docker_host().starts_with("unix:///tmp/bhk-"));
    let info = d.api().get("/info").unwrap().json().unwrap();
    assert_eq!(info["DockerRootDir"], d.data_root().display().to_string());
    assert_eq!(info["Labels"], json!(["bulkhead-test=1"]));

    // The image runs: busybox sleep as uid 1000 with a read-only root file system.
    let id = d.run(
        "kit-ro",
        &ContainerSpec::new()
            .read_only()
            .user("1000")
            .health_cmd("true", 1, 1),
    );
    let c = d.inspect(&id);
    assert_eq!(c["State"]["Running"], true);
    assert_eq!(c["HostConfig"]["ReadonlyRootfs"], true);
    assert_eq!(c["Config"]["User"], "1000");
    d.wait_health(&id, "healthy", Duration::from_secs(30));
    let pid = c["State"]["Pid"].as_u64().unwrap();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(
        status.lines().any(|l| l.starts_with("Uid:\t1000\t")),
        "container process runs as uid 1000: {status}"
    );

    // `user root` resolves through the image's /etc/passwd.
    let root = d.run("kit-root", &ContainerSpec::new().user("root"));
    assert_eq!(d.inspect(&root)["State"]["Running"], true);

    // Restart with a changed daemon.json: the new setting is live.
    d.restart_with_daemon_json(json!({"labels": ["bulkhead-test=2"]}));
    let info = d.api().get("/info").unwrap().json().unwrap();
    assert_eq!(info["Labels"], json!(["bulkhead-test=2"]));
    assert!(
        !d.container_ids().is_empty(),
        "containers survive a restart"
    );

    let pid = d.pid();
    drop(d);
    assert!(!dir.exists(), "{} is removed", dir.display());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "dockerd {pid} is gone"
    );
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(&dir.display().to_string()),
        "nothing stays mounted under {}",
        dir.display()
    );
}

#[test]
fn publishes_ports_on_its_own_bridge_and_shares_a_mount() {
    let Some(d) = TestDockerd::shared() else {
        return;
    };
    let net = d.network();
    let id = d.run(
        "kit-ports",
        &ContainerSpec::new()
            .network(&net)
            .publish("127.0.0.1", 0, 80)
            .publish("::", 0, 81),
    );
    let c = d.inspect(&id);
    let ports = &c["NetworkSettings"]["Ports"];
    assert_eq!(ports["80/tcp"][0]["HostIp"], "127.0.0.1");
    assert_eq!(ports["81/tcp"][0]["HostIp"], "::");
    let shared = d.shared_mount_dir();
    let id = d.run(
        "kit-shared",
        &ContainerSpec::new().bind_mount(shared.to_str().unwrap(), "/s", Some("shared")),
    );
    assert_eq!(d.inspect(&id)["Mounts"][0]["Propagation"], "shared");
}
