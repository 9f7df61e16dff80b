//! File permission and ownership fixes on a temporary host root with real files, real modes and
//! real owners (chowned to other uids), stat'ed by the collector's own code and judged by the
//! real section-3 evaluators before and after `apply`.

mod common;

use bulkhead_checks::{catalog, AuditOptions, Context, Selection, Status};
use bulkhead_collect::daemon::{local_daemon, DaemonInputs};
use bulkhead_collect::hostfs::{Accounts, HostFs};
use bulkhead_facts::docker::{ContainerSelection, DockerFacts, Endpoint, SwarmFacts};
use bulkhead_facts::host::Process;
use bulkhead_facts::{Fact, Snapshot};
use bulkhead_harden::apply::{apply, rollback, ApplyOptions};
use bulkhead_harden::{plan, FixKind, PlanRequest};
use common::{put, temp_root};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n";
const GROUP: &str = "root:x:0:\ndocker:x:999:alice\nalice:x:1000:\n";

fn set(root: &Path, p: &str, mode: u32, uid: u32, gid: u32) {
    let real = root.join(p.trim_start_matches('/'));
    std::os::unix::fs::chown(&real, Some(uid), Some(gid)).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_owner(root: &Path, p: &str) -> (u32, u32, u32) {
    let m = std::fs::metadata(root.join(p.trim_start_matches('/'))).unwrap();
    (m.mode() & 0o7777, m.uid(), m.gid())
}

/// What the collector would record for this root: host accounts, the daemon found from a
/// dockerd command line, and a stat of every file sections 1 and 3 name.
fn snapshot_of(root: &Path) -> Snapshot {
    let fs = HostFs::new(root);
    let accounts = Accounts {
        users: bulkhead_facts::host::parse_passwd(PASSWD),
        groups: bulkhead_facts::host::parse_group(GROUP),
    };
    let endpoint = Endpoint {
        host: "unix:///var/run/docker.sock".into(),
        transport: "unix".into(),
        source: "default".into(),
        local: true,
        ..Default::default()
    };
    // A dockerd process as /proc would show it (this host's real dockerd is never involved).
    let dockerd = Process {
        pid: 4242,
        ppid: 1,
        comm: "dockerd".into(),
        exe: Some("/usr/bin/dockerd".into()),
        argv: vec![
            "/usr/bin/dockerd".into(),
            "-H".into(),
            "unix:///var/run/docker.sock".into(),
        ],
        uid: 0,
        ..Default::default()
    };
    let processes = vec![dockerd];
    let daemon = local_daemon(&DaemonInputs {
        processes: &processes,
        endpoint: &endpoint,
        info: None,
        fs: &fs,
        users: &accounts.users,
    });
    let mut snap = common::snapshot(root);
    snap.host.users = Fact::Value(accounts.users.clone());
    snap.host.groups = Fact::Value(accounts.groups.clone());
    snap.host.processes = Fact::Value(processes.clone());
    bulkhead_collect::files::collect(&mut snap.host, &fs, &accounts, &daemon.paths);
    snap.docker = Some(DockerFacts {
        endpoint,
        version: Fact::Value(Default::default()),
        info: Fact::Value(Default::default()),
        daemon,
        containers: Fact::Value(vec![]),
        selection: ContainerSelection::default(),
        images: Fact::Value(vec![]),
        networks: Fact::Value(vec![]),
        swarm: Fact::Value(SwarmFacts::default()),
    });
    snap
}

fn section_3(snap: &Snapshot) -> bulkhead_checks::Audit {
    let opts = AuditOptions::default();
    bulkhead_checks::run(
        catalog().docker(),
        "1.6.0",
        &Context::new(snap, &opts),
        &Selection::new(vec!["3".into()], vec![]),
    )
}

#[test]
fn section_3_modes_and_owners_fixed_on_a_temporary_root() {
    let root = temp_root("files");
    put(&root, "/etc/passwd", PASSWD);
    put(&root, "/etc/group", GROUP);
    put(
        &root,
        "/etc/docker/daemon.json",
        "{\n  \"tlsverify\": true,\n  \"tlscacert\": \"/etc/docker/tls/ca.pem\",\n  \"tlscert\": \"/etc/docker/tls/cert.pem\",\n  \"tlskey\": \"/etc/docker/tls/key.pem\"\n}\n",
    );
    put(&root, "/etc/docker/tls/ca.pem", "CA\n");
    put(&root, "/etc/docker/tls/cert.pem", "CERT\n");
    put(&root, "/etc/docker/tls/key.pem", "KEY\n");
    put(
        &root,
        "/lib/systemd/system/docker.service",
        "[Service]\nExecStart=/usr/bin/dockerd\n",
    );
    set(&root, "/etc/docker", 0o777, 1000, 1000);
    set(&root, "/etc/docker/daemon.json", 0o666, 1000, 1000);
    set(&root, "/etc/docker/tls/ca.pem", 0o664, 1000, 1000);
    set(&root, "/etc/docker/tls/cert.pem", 0o644, 0, 0);
    // PITFALL 5 (CIS Docker): 0622 passes "644 or stricter" when modes are compared as decimal
    // numbers. It grants group and other write: it fails, and the fix removes exactly those bits.
    set(&root, "/etc/docker/tls/key.pem", 0o622, 0, 0);
    set(&root, "/lib/systemd/system/docker.service", 0o622, 0, 0);
    // A real unix socket, world-writable and owned by the wrong group.
    std::fs::create_dir_all(root.join("var/run")).unwrap();
    let sock_path = root.join("var/run/docker.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
    set(&root, "/var/run/docker.sock", 0o666, 0, 1000);

    let snap = snapshot_of(&root);
    let before = section_3(&snap);
    let failing: Vec<&str> = before
        .outcomes
        .iter()
        .filter(|o| o.result.status == Status::Fail)
        .map(|o| o.check_id.as_str())
        .collect();
    for c in [
        "3.2", "3.5", "3.6", "3.9", "3.12", "3.10", "3.14", "3.15", "3.16", "3.17", "3.18",
    ] {
        assert!(failing.contains(&c), "{c} fails before: {failing:?}");
    }
    let p = plan(
        &snap,
        std::slice::from_ref(&before),
        &PlanRequest {
            select: vec!["3".into()],
            root: Some(root.clone()),
            threat_links: Some(vec![]),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(p.fixes.iter().all(|f| f.kind == FixKind::FileMode));
    let unit = p
        .fix("file-mode:/lib/systemd/system/docker.service")
        .unwrap();
    assert_eq!(
        unit.command().unwrap(),
        "chmod 0600 /lib/systemd/system/docker.service"
    );
    let dj = p.fix("file-mode:/etc/docker/daemon.json").unwrap();
    assert_eq!(dj.checks, vec!["3.17", "3.18"]);
    assert_eq!(
        dj.command().unwrap(),
        "chmod 0644 /etc/docker/daemon.json\nchown 0:0 /etc/docker/daemon.json"
    );
    let state = root.join("state-dir");
    let opts = ApplyOptions {
        root: root.clone(),
        include_review: true,
        state_dir: Some(state),
    };
    apply(&p, &opts).unwrap();
    assert_eq!(
        mode_owner(&root, "/lib/systemd/system/docker.service"),
        (0o600, 0, 0),
        "0622 & 0644, not 0644"
    );
    assert_eq!(mode_owner(&root, "/etc/docker/tls/key.pem"), (0o400, 0, 0));
    assert_eq!(mode_owner(&root, "/etc/docker/tls/ca.pem"), (0o444, 0, 0));
    assert_eq!(mode_owner(&root, "/etc/docker/tls/cert.pem"), (0o444, 0, 0));
    assert_eq!(mode_owner(&root, "/etc/docker"), (0o755, 0, 0));
    assert_eq!(mode_owner(&root, "/etc/docker/daemon.json"), (0o644, 0, 0));
    assert_eq!(
        mode_owner(&root, "/var/run/docker.sock"),
        (0o660, 0, 999),
        "root:docker by the root's own group file"
    );
    // Audit again from the disk: every section-3 check that failed passes.
    let after = section_3(&snapshot_of(&root));
    for c in &failing {
        let o = after.outcomes.iter().find(|o| o.check_id == *c).unwrap();
        assert_eq!(o.result.status, Status::Pass, "{c}: {:?}", o.result);
    }
    // And everything goes back.
    rollback(&opts).unwrap();
    assert_eq!(mode_owner(&root, "/etc/docker/tls/key.pem"), (0o622, 0, 0));
    assert_eq!(
        mode_owner(&root, "/etc/docker/daemon.json"),
        (0o666, 1000, 1000)
    );
    assert_eq!(mode_owner(&root, "/var/run/docker.sock"), (0o666, 0, 1000));
}
