//! The host side of collection on temporary roots holding real files with real modes and owners,
//! and fake proc trees (`--proc DIR`) with real `comm`, `cmdline`, `exe` and namespace links. No
//! Docker daemon is needed: the daemon facts are derived from these processes and files exactly
//! as for a live host, then the section 1-3 checks are run on them.

use bulkhead_checks::{catalog, AuditOptions, Context, Selection, Status};
use bulkhead_collect::daemon::{local_daemon, DaemonInputs};
use bulkhead_collect::hostfs::{Accounts, HostFs};
use bulkhead_collect::{collect, files, CollectOptions, Want};
use bulkhead_facts::docker::{DaemonFacts, DockerFacts, Endpoint, Info};
use bulkhead_facts::host::{FileFact, FileKind, Process};
use bulkhead_facts::{Fact, Mode};
use std::os::unix::fs::{chown, symlink, PermissionsExt};
use std::path::{Path, PathBuf};

/// A temporary directory removed on drop.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str) -> Temp {
        let p = std::env::temp_dir().join(format!("bhc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Temp(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
    /// Write a file under the root with a mode and owner.
    fn file(&self, host_path: &str, content: &str, mode: u32, owner: (u32, u32)) -> PathBuf {
        let p = self.0.join(host_path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        chown_if_root(&p, owner);
        std::fs::set_permissions(&p, PermissionsExt::from_mode(mode)).unwrap();
        p
    }
    fn dir(&self, host_path: &str, mode: u32) -> PathBuf {
        let p = self.0.join(host_path.trim_start_matches('/'));
        std::fs::create_dir_all(&p).unwrap();
        std::fs::set_permissions(&p, PermissionsExt::from_mode(mode)).unwrap();
        p
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether owners can be set; under `CI=true` they must be (the suite runs as root).
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() == 0 };
    assert!(
        root || !bulkhead_testkit::ci(),
        "CI=true: owners need root to set"
    );
    root
}

/// Owners other than the running user can only be set as root; without root the ownership
/// assertions are skipped (and say so), the mode assertions still run.
fn chown_if_root(p: &Path, (uid, gid): (u32, u32)) {
    if is_root() {
        chown(p, Some(uid), Some(gid)).unwrap();
    }
}

/// A fake proc tree: one directory per process with the files bulkhead reads.
struct FakeProc(Temp);

impl FakeProc {
    fn new(name: &str) -> FakeProc {
        FakeProc(Temp::new(name))
    }
    #[allow(clippy::too_many_arguments)]
    fn add(
        &self,
        pid: u32,
        ppid: u32,
        uid: u32,
        comm: &str,
        exe: &str,
        argv: &[&str],
        env: &[&str],
    ) {
        let d = self.0.path().join(pid.to_string());
        std::fs::create_dir_all(d.join("ns")).unwrap();
        std::fs::write(
            d.join("status"),
            format!("Name:\t{comm}\nPPid:\t{ppid}\nUid:\t{uid}\t{uid}\t{uid}\t{uid}\n"),
        )
        .unwrap();
        std::fs::write(d.join("comm"), format!("{comm}\n")).unwrap();
        let mut cmdline = argv.join("\0");
        cmdline.push('\0');
        std::fs::write(d.join("cmdline"), cmdline).unwrap();
        symlink(exe, d.join("exe")).unwrap();
        symlink("pid:[4026531836]", d.join("ns/pid")).unwrap();
        let mut environ = env.join("\0");
        environ.push('\0');
        std::fs::write(d.join("environ"), environ).unwrap();
    }
    fn path(&self) -> &Path {
        self.0.path()
    }
    fn processes(&self) -> Vec<Process> {
        bulkhead_collect::procfs::read_processes(self.path()).unwrap()
    }
}

fn unix_endpoint(path: &str) -> Endpoint {
    Endpoint {
        host: format!("unix://{path}"),
        transport: "unix".into(),
        source: "default".into(),
        local: true,
        ..Default::default()
    }
}

const PASSWD: &str =
    "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000:Alice:/home/alice:/bin/bash\n";
const GROUP: &str = "root:x:0:\ndocker:x:999:alice\nalice:x:1000:\n";

fn accounts() -> Accounts {
    Accounts {
        users: bulkhead_facts::host::parse_passwd(PASSWD),
        groups: bulkhead_facts::host::parse_group(GROUP),
    }
}

/// PITFALL 4: docker-bench takes the newest process whose command line contains "dockerd":
/// an editor, `dockerd-rootless.sh`, or the wrong one of two daemons.
#[test]
fn pitfall_4_dockerd_by_executable_name_and_endpoint_socket() {
    let root = Temp::new("p4-root");
    root.file(
        "/etc/docker/b.json",
        r#"{"log-level": "warn"}"#,
        0o644,
        (0, 0),
    );
    let proc = systemd_proc("p4-proc");
    proc.add(
        100,
        1,
        0,
        "dockerd",
        "/usr/bin/dockerd",
        &[
            "/usr/bin/dockerd",
            "-H",
            "unix:///run/a.sock",
            "--data-root",
            "/srv/a",
        ],
        &[],
    );
    proc.add(
        200,
        1,
        0,
        "dockerd",
        "/usr/sbin/dockerd",
        &[
            "/usr/sbin/dockerd",
            "-H",
            "fd://",
            "--config-file",
            "/etc/docker/b.json",
        ],
        &[],
    );
    proc.add(
        300,
        1,
        1000,
        "dockerd-rootles",
        "/usr/bin/dash",
        &["/bin/sh", "/usr/bin/dockerd-rootless.sh"],
        &[],
    );
    proc.add(
        400,
        1,
        1000,
        "vim",
        "/usr/bin/vim.basic",
        &["vim", "/etc/dockerd.conf"],
        &[],
    );
    let processes = proc.processes();
    let fs = HostFs::new(root.path());
    let users = accounts().users;
    let daemon_for = |socket: &str| {
        local_daemon(&DaemonInputs {
            processes: &processes,
            endpoint: &unix_endpoint(socket),
            info: None,
            fs: &fs,
            users: &users,
        })
    };
    // fd:// (socket activation) serves the default socket; /var/run and /run are one.
    let d = daemon_for("/var/run/docker.sock");
    let p = d.process.value().unwrap().as_ref().expect("a dockerd");
    assert_eq!(p.pid, 200, "{}", d.process_reason);
    assert!(
        d.process_reason.contains("listens on"),
        "{}",
        d.process_reason
    );
    // --config-file is honoured (PITFALL 6), and its settings are read.
    assert_eq!(d.config_path, "/etc/docker/b.json");
    assert_eq!(
        d.config.value().unwrap().as_ref().unwrap()["log-level"],
        "warn"
    );
    let d = daemon_for("/run/a.sock");
    assert_eq!(d.process.value().unwrap().as_ref().unwrap().pid, 100);
    assert_eq!(
        d.paths.data_root, "/srv/a",
        "data-root from that daemon's flags"
    );
    let d = daemon_for("/run/other.sock");
    match &d.process {
        Fact::Unavailable(r) => {
            assert!(r.contains("none listens on unix:///run/other.sock"), "{r}")
        }
        other => panic!("no dockerd serves that socket: {other:?}"),
    }
    // Only an editor and the rootless wrapper script: no dockerd at all.
    let others: Vec<Process> = processes
        .iter()
        .filter(|p| p.pid >= 300 || p.pid == 1)
        .cloned()
        .collect();
    let d = local_daemon(&DaemonInputs {
        processes: &others,
        endpoint: &unix_endpoint("/var/run/docker.sock"),
        info: None,
        fs: &fs,
        users: &users,
    });
    assert_eq!(d.process, Fact::Value(None), "{}", d.process_reason);
}

/// daemon.json: absent, unreadable, invalid JSON (naming the file and line), and secret values
/// masked.
#[test]
fn daemon_json_states() {
    let root = Temp::new("json-root");
    let fs = HostFs::new(root.path());
    let read = |p: &str| bulkhead_collect::daemon::read_daemon_json(&fs, p);
    assert_eq!(read("/etc/docker/daemon.json"), Fact::Value(None));
    root.file(
        "/etc/docker/daemon.json",
        "{\n  \"icc\": false,\n  \"log-level\" \"debug\"\n}\n",
        0o644,
        (0, 0),
    );
    match read("/etc/docker/daemon.json") {
        Fact::Unavailable(r) => {
            assert!(r.contains("/etc/docker/daemon.json"), "{r}");
            assert!(r.contains("line 3"), "{r}");
        }
        other => panic!("invalid JSON is unavailable with the reason: {other:?}"),
    }
    root.dir("/etc/docker/dir.json", 0o755);
    match read("/etc/docker/dir.json") {
        Fact::Unavailable(r) => assert!(r.starts_with("cannot read /etc/docker/dir.json"), "{r}"),
        other => panic!("an unreadable daemon.json is unavailable: {other:?}"),
    }
    root.file(
        "/etc/docker/secret.json",
        r#"{"registry-password": "hunter2", "icc": false,
            "log-opts": {"splunk-url": "https://u:hunter2s@splunk:8088"},
            "registry-mirrors": ["https://bob:hunter2t@mirror.example", "https://open.example"]}"#,
        0o600,
        (0, 0),
    );
    let v = read("/etc/docker/secret.json");
    let v = v.value().unwrap().as_ref().unwrap();
    assert_eq!(v["registry-password"], "***");
    assert_eq!(v["icc"], false);
    // Credentials inside other values: the password of a URL, the rest kept as evidence.
    assert_eq!(v["log-opts"]["splunk-url"], "https://u:***@splunk:8088");
    assert_eq!(
        v["registry-mirrors"],
        serde_json::json!(["https://bob:***@mirror.example", "https://open.example"])
    );
}

/// Unit files where systemd looks, in its precedence; binaries in the usual directories; an
/// absolute symlink inside the root resolves inside the root.
#[test]
fn units_and_binaries_where_the_system_looks() {
    let root = Temp::new("units-root");
    root.file(
        "/lib/systemd/system/docker.service",
        "[Unit]\n",
        0o644,
        (0, 0),
    );
    root.file(
        "/etc/systemd/system/docker.service",
        "[Unit]\n# override\n",
        0o600,
        (0, 0),
    );
    root.file(
        "/usr/lib/systemd/system/docker.socket",
        "[Socket]\n",
        0o644,
        (0, 0),
    );
    root.file("/usr/bin/containerd", "#!bin", 0o755, (0, 0));
    root.file("/usr/sbin/runc", "#!bin", 0o755, (0, 0));
    // Debian's runc package links /usr/bin/runc, found first, to the program in /usr/sbin.
    symlink("../sbin/runc", root.path().join("usr/bin/runc")).unwrap();
    root.dir("/etc/systemd/system/multi-user.target.wants", 0o755);
    symlink(
        "/etc/systemd/system/docker.service",
        root.path()
            .join("etc/systemd/system/multi-user.target.wants/docker.service"),
    )
    .unwrap();
    let proc = systemd_proc("units-proc");
    let d = daemon_on(&root, &proc);
    let fs = HostFs::new(root.path());
    let units = &d.paths.units;
    assert_eq!(
        units["docker.service"].as_deref(),
        Some("/etc/systemd/system/docker.service"),
        "/etc wins over /lib"
    );
    assert_eq!(
        units["docker.socket"].as_deref(),
        Some("/usr/lib/systemd/system/docker.socket")
    );
    assert_eq!(units["containerd.service"], None, "looked for, not found");
    let bins = &d.paths.binaries;
    assert_eq!(bins["containerd"].as_deref(), Some("/usr/bin/containerd"));
    assert_eq!(
        bins["runc"].as_deref(),
        Some("/usr/sbin/runc"),
        "the program, not the link found first: an audit watch on a link watches the link"
    );
    assert_eq!(bins["dockerd"], None);
    let accounts = accounts();
    let st = fs.stat(
        "/etc/systemd/system/multi-user.target.wants/docker.service",
        &accounts,
    );
    let st = st.stat().expect("link followed inside the root");
    assert_eq!(
        st.mode,
        Mode(0o600),
        "the override's mode, not the auditing host's"
    );
}

/// PITFALL 22: a rootless daemon's socket, daemon.json, data root and units are its user's.
#[test]
fn pitfall_22_rootless_locations() {
    let root = Temp::new("rootless-root");
    root.file(
        "/home/alice/.config/docker/daemon.json",
        r#"{"debug": true}"#,
        0o644,
        (1000, 1000),
    );
    root.file(
        "/home/alice/.config/systemd/user/docker.service",
        "[Service]\n",
        0o644,
        (1000, 1000),
    );
    let proc = systemd_proc("rootless-proc");
    proc.add(
        500,
        1,
        1000,
        "rootlesskit",
        "/usr/bin/rootlesskit",
        &["rootlesskit", "--net=slirp4netns", "dockerd-rootless.sh"],
        &["XDG_RUNTIME_DIR=/run/user/1000"],
    );
    proc.add(
        510,
        500,
        1000,
        "dockerd",
        "/usr/bin/dockerd",
        &["dockerd"],
        &["XDG_RUNTIME_DIR=/run/user/1000", "HOME=/home/alice"],
    );
    let processes = proc.processes();
    let fs = HostFs::new(root.path());
    let users = accounts().users;
    let info = Info {
        security_options: vec![
            "name=seccomp,profile=default".into(),
            "name=rootless".into(),
        ],
        ..Default::default()
    };
    let d = local_daemon(&DaemonInputs {
        processes: &processes,
        endpoint: &unix_endpoint("/run/user/1000/docker.sock"),
        info: Some(&info),
        fs: &fs,
        users: &users,
    });
    assert!(d.rootless);
    assert_eq!(d.process.value().unwrap().as_ref().unwrap().pid, 510);
    assert_eq!(d.config_path, "/home/alice/.config/docker/daemon.json");
    assert_eq!(d.config.value().unwrap().as_ref().unwrap()["debug"], true);
    assert_eq!(d.paths.sockets, vec!["/run/user/1000/docker.sock"]);
    assert_eq!(d.paths.data_root, "/home/alice/.local/share/docker");
    assert_eq!(
        d.paths.units["docker.service"].as_deref(),
        Some("/home/alice/.config/systemd/user/docker.service")
    );
}

/// Host facts through `collect()` itself: identity, accounts, profile variables read literally.
#[test]
fn host_facts_under_a_root() {
    let root = Temp::new("hostfacts-root");
    root.file("/etc/hostname", "node-7\n", 0o644, (0, 0));
    root.file(
        "/etc/os-release",
        "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n",
        0o644,
        (0, 0),
    );
    root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
    root.file("/etc/group", GROUP, 0o644, (0, 0));
    let marker = root.path().join("pwned");
    root.file(
        "/etc/profile.d/trust.sh",
        &format!(
            "export DOCKER_CONTENT_TRUST=1\n$(touch {})\nDOCKER_TOKEN=abc\n",
            marker.display()
        ),
        0o644,
        (0, 0),
    );
    root.file(
        "/etc/environment",
        "DOCKER_CONTENT_TRUST=0\nLANG=C\n",
        0o644,
        (0, 0),
    );
    let proc = systemd_proc("hostfacts-proc");
    std::fs::create_dir_all(proc.path().join("sys/kernel")).unwrap();
    std::fs::write(proc.path().join("sys/kernel/osrelease"), "6.1.0-test\n").unwrap();
    let snap = collect(&CollectOptions {
        root: root.path().to_path_buf(),
        proc: proc.path().to_path_buf(),
        docker: Want::Skip,
        kubernetes: Want::Skip,
        ..Default::default()
    })
    .unwrap();
    let h = &snap.host;
    assert_eq!(h.hostname, Fact::Value("node-7".into()));
    assert_eq!(h.kernel, Fact::Value("6.1.0-test".into()));
    assert_eq!(h.os_release.value().unwrap()["ID"], "debian");
    assert_eq!(h.group("docker").unwrap().members, vec!["alice"]);
    assert_eq!(h.process_list().len(), 1);
    let trust = &h.profile_environment["/etc/profile.d/trust.sh"];
    assert_eq!(trust["DOCKER_CONTENT_TRUST"], "1");
    assert_eq!(trust["DOCKER_TOKEN"], "***", "secret values masked");
    assert_eq!(
        h.profile_environment["/etc/environment"]["DOCKER_CONTENT_TRUST"],
        "0"
    );
    assert!(
        !marker.exists(),
        "nothing in a profile file is ever executed"
    );
    // Another root than /: the audit rules come from its files, and the fact says why.
    let audit = h.audit.value().unwrap();
    assert_eq!(audit.source, "files");
    assert!(audit.reason.contains("rule files"), "{}", audit.reason);
    assert!(snap.docker.is_none());
}

/// Sections 1 and 3 on a temporary root with real modes and owners: the daemon's real paths
/// (from its command line and daemon.json) are stat'ed, and the checks judge them as bitmasks
/// and by uid and gid.
#[test]
fn host_file_checks_on_real_modes_and_owners() {
    let root = Temp::new("files-root");
    root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
    root.file("/etc/group", GROUP, 0o644, (0, 0));
    root.dir("/etc/docker", 0o755);
    // PITFALL 5: 0622 passes docker-bench's decimal "644 or stricter" but grants group and
    // other write.
    root.file(
        "/etc/docker/daemon.json",
        r#"{"tlsverify": true, "tlscacert": "/etc/docker/tls/ca.pem", "tlscert": "/etc/docker/tls/cert.pem", "tlskey": "/etc/docker/tls/key.pem", "data-root": "/srv/docker"}"#,
        0o622,
        (0, 0),
    );
    root.dir("/etc/docker/tls", 0o700);
    root.file("/etc/docker/tls/ca.pem", "ca", 0o444, (0, 0));
    root.file("/etc/docker/tls/cert.pem", "cert", 0o444, (0, 1000));
    // PITFALL 5: 0606 passes the decimal "600 or stricter"/"400" comparisons in spirit; a key
    // readable by others must fail.
    root.file("/etc/docker/tls/key.pem", "key", 0o604, (0, 0));
    root.file(
        "/etc/docker/certs.d/registry.example:5000/ca.crt",
        "ca",
        0o444,
        (0, 0),
    );
    root.file(
        "/etc/docker/certs.d/registry.example:5000/client.key",
        "k",
        0o644,
        (1000, 1000),
    );
    root.file(
        "/lib/systemd/system/docker.service",
        "[Unit]\n",
        0o644,
        (0, 0),
    );
    root.file(
        "/lib/systemd/system/docker.socket",
        "[Socket]\n",
        0o664,
        (0, 0),
    );
    root.file("/etc/default/docker", "DOCKER_OPTS=\n", 0o644, (0, 0));
    root.dir("/srv/docker", 0o710);
    root.dir("/run", 0o755);
    let sock_path = root.path().join("run/docker.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
    chown_if_root(&sock_path, (0, 999));
    std::fs::set_permissions(&sock_path, PermissionsExt::from_mode(0o660)).unwrap();
    std::fs::create_dir_all(root.path().join("var")).unwrap();
    symlink("/run", root.path().join("var/run")).unwrap();

    let proc = systemd_proc("files-proc");
    proc.add(
        700,
        1,
        0,
        "dockerd",
        "/usr/sbin/dockerd",
        &["/usr/sbin/dockerd", "-H", "fd://"],
        &[],
    );
    std::fs::write(
        proc.path().join("1/mountinfo"),
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n",
    )
    .unwrap();
    let processes = proc.processes();
    let fs = HostFs::new(root.path());
    let accounts = accounts();
    let daemon = local_daemon(&DaemonInputs {
        processes: &processes,
        endpoint: &unix_endpoint("/var/run/docker.sock"),
        info: None,
        fs: &fs,
        users: &accounts.users,
    });
    assert_eq!(
        daemon.paths.data_root, "/srv/docker",
        "data-root from daemon.json"
    );
    assert_eq!(
        daemon.paths.tls_key.as_deref(),
        Some("/etc/docker/tls/key.pem")
    );
    let mut snap = collect(&CollectOptions {
        root: root.path().to_path_buf(),
        proc: proc.path().to_path_buf(),
        docker: Want::Skip,
        kubernetes: Want::Skip,
        ..Default::default()
    })
    .unwrap();
    files::collect(&mut snap.host, &fs, &accounts, &daemon.paths);
    let stat = |p: &str| match snap.host.file(p) {
        Some(FileFact::Present(s)) => s.clone(),
        other => panic!("{p}: {other:?}"),
    };
    assert_eq!(stat("/etc/docker/daemon.json").mode, Mode(0o622));
    let sock = stat("/var/run/docker.sock");
    assert_eq!(sock.kind, FileKind::Socket);
    assert_eq!(
        sock.symlink_target, None,
        "/var/run is the link, not the socket"
    );
    if is_root() {
        assert_eq!((sock.uid, sock.gid), (0, 999));
        assert_eq!(
            sock.group.as_deref(),
            Some("docker"),
            "group name from the root's /etc/group"
        );
        assert_eq!(stat("/etc/docker/tls/cert.pem").gid, 1000);
    } else {
        eprintln!("not root: ownership assertions skipped (chown needs root)");
    }
    assert_eq!(
        snap.host.listings["/etc/docker/certs.d"],
        Fact::Value(vec![
            "/etc/docker/certs.d/registry.example:5000/ca.crt".to_string(),
            "/etc/docker/certs.d/registry.example:5000/client.key".to_string(),
        ])
    );
    assert!(matches!(
        snap.host.file("/etc/sysconfig/docker"),
        Some(FileFact::Missing)
    ));

    // Evaluate sections 1 and 3 on these facts.
    snap.docker = Some(DockerFacts {
        endpoint: unix_endpoint("/var/run/docker.sock"),
        version: Fact::Unavailable("not asked (host-side test)".into()),
        info: Fact::Value(Info {
            docker_root_dir: "/srv/docker".into(),
            ..Default::default()
        }),
        daemon,
        containers: Fact::Value(vec![]),
        selection: Default::default(),
        images: Fact::Value(vec![]),
        networks: Fact::Value(vec![]),
        swarm: Fact::Unavailable("not asked (host-side test)".into()),
    });
    let options = AuditOptions::default();
    let ctx = Context::new(&snap, &options);
    let audit = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
    let status = |id: &str| {
        audit
            .outcomes
            .iter()
            .find(|o| o.check_id == id)
            .unwrap_or_else(|| panic!("{id} evaluated"))
            .result
            .status
    };
    assert_eq!(status("3.2"), Status::Pass, "docker.service 0644");
    assert_eq!(
        status("3.4"),
        Status::Fail,
        "docker.socket 0664 grants group write"
    );
    assert_eq!(status("3.6"), Status::Pass, "/etc/docker 0755");
    assert_eq!(
        status("3.8"),
        Status::Fail,
        "a registry key 0644 is more than 0444"
    );
    assert_eq!(status("3.10"), Status::Pass, "CA 0444");
    assert_eq!(status("3.14"), Status::Fail, "key 0604 is not 0400");
    assert_eq!(status("3.16"), Status::Pass, "socket 0660");
    assert_eq!(
        status("3.18"),
        Status::Fail,
        "daemon.json 0622 grants write"
    );
    assert_eq!(status("3.20"), Status::Pass, "/etc/default/docker 0644");
    assert_eq!(
        status("3.21"),
        Status::NotApplicable,
        "/etc/sysconfig/docker missing"
    );
    if is_root() {
        assert_eq!(
            status("3.7"),
            Status::Fail,
            "a registry key owned by uid 1000"
        );
        assert_eq!(status("3.11"), Status::Fail, "cert group 1000, not root");
        assert_eq!(status("3.15"), Status::Pass, "socket root:docker");
        assert_eq!(status("3.17"), Status::Pass, "daemon.json root:root");
    }
    assert_eq!(
        status("1.1.1"),
        Status::Fail,
        "/srv/docker is no mount point in this root"
    );
}

/// A merged-/usr Ubuntu host (`/lib`, `/bin` links into /usr) whose /etc/docker is a link to
/// /srv/etc-docker, as found in review: the registry certificates under the linked directory
/// were never listed (3.7 and 3.8 said certs.d held no files), rules written for
/// `/usr/lib/systemd/system/docker.socket` or `/bin/containerd-shim-runc-v2` failed 1.1.9 and
/// 1.1.17 although the kernel watches those very files, and `-w /etc/docker` passed 1.1.6 although
/// the kernel roots that watch at the link itself, so nothing in /srv/etc-docker is recorded.
#[test]
fn merged_usr_and_a_linked_etc_docker_are_judged_as_the_kernel_sees_them() {
    let root = Temp::new("usrmerge-root");
    root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
    root.file("/etc/group", GROUP, 0o644, (0, 0));
    for (link, target) in [("lib", "usr/lib"), ("bin", "usr/bin")] {
        std::fs::create_dir_all(root.path().join(target)).unwrap();
        symlink(target, root.path().join(link)).unwrap();
    }
    for b in ["dockerd", "containerd", "containerd-shim-runc-v2", "runc"] {
        root.file(&format!("/usr/bin/{b}"), "\x7fELF", 0o755, (0, 0));
    }
    for unit in ["docker.service", "docker.socket"] {
        root.file(
            &format!("/usr/lib/systemd/system/{unit}"),
            "[Unit]\n",
            0o644,
            (0, 0),
        );
    }
    root.dir("/srv/etc-docker", 0o755);
    root.file("/srv/etc-docker/daemon.json", "{}", 0o644, (0, 0));
    root.file(
        "/srv/etc-docker/certs.d/registry.example:5000/ca.crt",
        "ca",
        0o644,
        (0, 0),
    );
    root.file(
        "/srv/etc-docker/certs.d/other.example/ca.crt",
        "ca",
        0o444,
        (1000, 1000),
    );
    symlink("/srv/etc-docker", root.path().join("etc/docker")).unwrap();
    root.file(
        "/etc/audit/rules.d/docker.rules",
        "# docker\n\
         -w /usr/bin/dockerd -p rwxa -k docker\n\
         -a exit,always -F path=/usr/bin/runc -F perm=wa -k docker\n\
         -w /usr/lib/systemd/system/docker.socket -p wa -k docker\n\
         -w /lib/systemd/system/docker.service -p wa -k docker\n\
         -a always,exit -F path=/bin/containerd-shim-runc-v2 -F perm=wa -k docker\n\
         -w /etc/docker -p wa -k docker\n\
         -w /etc/docker/daemon.json -p wa -k docker\n",
        0o640,
        (0, 0),
    );
    let proc = docker_ce_proc("usrmerge-proc", &[]);
    let snap = host_snapshot(&root, &proc);
    assert_eq!(
        snap.host.listings["/etc/docker/certs.d"],
        Fact::Value(vec![
            "/etc/docker/certs.d/other.example/ca.crt".to_string(),
            "/etc/docker/certs.d/registry.example:5000/ca.crt".to_string(),
        ]),
        "the files under the linked directory are listed"
    );
    let options = AuditOptions::default();
    let ctx = Context::new(&snap, &options);
    let audit = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
    let result = |id: &str| {
        audit
            .outcomes
            .iter()
            .find(|o| o.check_id == id)
            .unwrap_or_else(|| panic!("{id} evaluated"))
            .result
            .clone()
    };
    for id in ["1.1.3", "1.1.7", "1.1.9", "1.1.11", "1.1.17", "1.1.18"] {
        assert_eq!(result(id).status, Status::Pass, "{id}: {:?}", result(id));
    }
    let r = result("1.1.6");
    assert_eq!(r.status, Status::Fail, "{r:?}");
    let e = r.objects[0].evidence.as_ref().unwrap();
    assert!(
        e.actual
            .contains("/etc/docker is a symbolic link to /srv/etc-docker"),
        "{e:?}"
    );
    assert!(e.expected.contains("/srv/etc-docker"), "{e:?}");
    let r = result("3.8");
    assert_eq!(r.status, Status::Fail, "{r:?}");
    assert_eq!(
        r.objects
            .iter()
            .filter(|o| o.status == Status::Fail)
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>(),
        vec!["/etc/docker/certs.d/registry.example:5000/ca.crt"]
    );
    if is_root() {
        assert_eq!(result("3.7").status, Status::Fail, "{:?}", result("3.7"));
    }
}

/// The host's facts under `root` and `proc`, the daemon found there for the default endpoint
/// and its files stat'ed, audited with sections 1-3: every outcome by check ID.
fn audit_host(
    root: &Temp,
    proc: &FakeProc,
) -> std::collections::BTreeMap<String, bulkhead_checks::CheckResult> {
    let snap = host_snapshot(root, proc);
    let options = AuditOptions::default();
    let ctx = Context::new(&snap, &options);
    let audit = bulkhead_checks::run(catalog().docker(), "1.6.0", &ctx, &Selection::default());
    audit
        .outcomes
        .into_iter()
        .map(|o| (o.check_id, o.result))
        .collect()
}

/// The host's facts under `root` and `proc` with the daemon found there for the default
/// endpoint and its files stat'ed, as a live collection on that host would give them (the API's
/// part left out).
fn host_snapshot(root: &Temp, proc: &FakeProc) -> bulkhead_facts::Snapshot {
    let processes = proc.processes();
    let fs = HostFs::new(root.path());
    let mut snap = collect(&CollectOptions {
        root: root.path().to_path_buf(),
        proc: proc.path().to_path_buf(),
        docker: Want::Skip,
        kubernetes: Want::Skip,
        ..Default::default()
    })
    .unwrap();
    let accounts = Accounts {
        users: snap.host.users.value().cloned().unwrap_or_default(),
        groups: snap.host.groups.value().cloned().unwrap_or_default(),
    };
    let daemon = local_daemon(&DaemonInputs {
        processes: &processes,
        endpoint: &unix_endpoint("/var/run/docker.sock"),
        info: None,
        fs: &fs,
        users: &accounts.users,
    });
    files::collect(&mut snap.host, &fs, &accounts, &daemon.paths);
    snap.docker = Some(DockerFacts {
        endpoint: unix_endpoint("/var/run/docker.sock"),
        version: Fact::Unavailable("not asked (host-side test)".into()),
        info: Fact::Value(Info::default()),
        daemon,
        containers: Fact::Value(vec![]),
        selection: Default::default(),
        images: Fact::Value(vec![]),
        networks: Fact::Value(vec![]),
        swarm: Fact::Unavailable("not asked (host-side test)".into()),
    });
    snap
}

/// The daemon bulkhead finds on `root` and `proc` when the API is the default socket and
/// `/info` is not at hand.
fn daemon_on(root: &Temp, proc: &FakeProc) -> DaemonFacts {
    local_daemon(&DaemonInputs {
        processes: &proc.processes(),
        endpoint: &unix_endpoint("/var/run/docker.sock"),
        info: None,
        fs: &HostFs::new(root.path()),
        users: &accounts().users,
    })
}

/// A proc tree holding systemd as pid 1, the parent of the daemons the tests add.
fn systemd_proc(name: &str) -> FakeProc {
    let proc = FakeProc::new(name);
    proc.add(
        1,
        0,
        0,
        "systemd",
        "/usr/lib/systemd/systemd",
        &["/sbin/init"],
        &[],
    );
    proc
}

/// A proc tree with systemd and Ubuntu's docker-ce dockerd (`-H fd://`, socket activation).
fn docker_ce_proc(name: &str, extra: &[&str]) -> FakeProc {
    let proc = systemd_proc(name);
    let mut argv = vec![
        "/usr/bin/dockerd",
        "-H",
        "fd://",
        "--containerd=/run/containerd/containerd.sock",
    ];
    argv.extend(extra);
    proc.add(700, 1, 0, "dockerd", "/usr/bin/dockerd", &argv, &[]);
    std::fs::write(
        proc.path().join("1/mountinfo"),
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n",
    )
    .unwrap();
    proc
}

/// A socket file at `path` under the root with a mode and owner.
fn socket(root: &Temp, path: &str, mode: u32, owner: (u32, u32)) {
    let p = root.path().join(path.trim_start_matches('/'));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    // Closing a listener leaves its socket file.
    std::os::unix::net::UnixListener::bind(&p).unwrap();
    chown_if_root(&p, owner);
    std::fs::set_permissions(&p, PermissionsExt::from_mode(mode)).unwrap();
}

/// Found in review on an Ubuntu docker-ce host: with `dockerd -H fd://` 3.15/3.16 judged
/// /var/run/docker.sock whatever docker.socket said. The sockets are the socket files of
/// docker.socket's `ListenStream=` as its drop-ins leave them (an empty assignment resets the
/// list; a drop-in hides one of the same name further down the unit path; abstract sockets and
/// ports are no files; `%t` is /run), each named with the file its path came from, with
/// SocketUser=/SocketGroup=/SocketMode= saying how systemd creates it.
#[test]
fn socket_activation_judges_the_sockets_docker_socket_names() {
    let root = Temp::new("fd-root");
    root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
    root.file("/etc/group", GROUP, 0o644, (0, 0));
    root.file(
        "/lib/systemd/system/docker.service",
        "[Service]\nExecStart=/usr/bin/dockerd -H fd://\n",
        0o644,
        (0, 0),
    );
    root.file(
        "/lib/systemd/system/docker.socket",
        "[Unit]\nDescription=Docker Socket for the API\n\n[Socket]\n# the packaged path\nListenStream=/run/docker.sock\nSocketMode=0660\nSocketUser=root\nSocketGroup=docker\n",
        0o644,
        (0, 0),
    );
    root.file(
        "/etc/systemd/system/docker.socket.d/override.conf",
        "[Socket]\nListenStream=\nListenStream=/run/custom/docker.sock\nListenStream=@docker-abstract\nListenStream=127.0.0.1:2375\nSocketMode=0666\n",
        0o644,
        (0, 0),
    );
    // Hidden by /etc's override.conf of the same name.
    root.file(
        "/lib/systemd/system/docker.socket.d/override.conf",
        "[Socket]\nListenStream=/run/hidden.sock\n",
        0o644,
        (0, 0),
    );
    // Applies after override.conf (file-name order), from a directory further down.
    root.file(
        "/usr/lib/systemd/system/docker.socket.d/zz-second.conf",
        "[Socket]\nListenStream=%t/second.sock\n",
        0o644,
        (0, 0),
    );
    // The default path exists and is fine: the old code judged it, and passed.
    socket(&root, "/run/docker.sock", 0o660, (0, 999));
    socket(&root, "/run/custom/docker.sock", 0o666, (0, 999));
    socket(&root, "/run/second.sock", 0o660, (0, 999));
    std::fs::create_dir_all(root.path().join("var")).unwrap();
    symlink("/run", root.path().join("var/run")).unwrap();
    let proc = docker_ce_proc("fd-proc", &[]);

    let d = daemon_on(&root, &proc);
    assert_eq!(d.process.value().unwrap().as_ref().unwrap().pid, 700);
    assert_eq!(
        d.paths.sockets,
        vec!["/run/custom/docker.sock", "/run/second.sock"]
    );
    assert_eq!(
        d.paths.socket_sources["/run/custom/docker.sock"],
        "ListenStream= in /etc/systemd/system/docker.socket.d/override.conf (socket activation: flag --host is fd://)"
    );
    let unit = d.paths.socket_unit.as_ref().expect("docker.socket read");
    assert_eq!(unit.file, "/lib/systemd/system/docker.socket");
    assert_eq!(
        unit.dropins,
        vec![
            "/etc/systemd/system/docker.socket.d/override.conf",
            "/usr/lib/systemd/system/docker.socket.d/zz-second.conf",
        ]
    );
    assert_eq!(unit.socket_mode.as_ref().unwrap().value, "0666");

    let results = audit_host(&root, &proc);
    let r = &results["3.16"];
    assert_eq!(r.status, Status::Fail, "{r:?}");
    let names: Vec<(&str, Status)> = r
        .objects
        .iter()
        .map(|o| (o.name.as_str(), o.status))
        .collect();
    assert_eq!(
        names,
        vec![
            ("/run/custom/docker.sock", Status::Fail),
            ("/run/second.sock", Status::Pass)
        ]
    );
    let note = r.objects[0].note.as_deref().unwrap();
    assert!(
        note.contains(
            "path from ListenStream= in /etc/systemd/system/docker.socket.d/override.conf"
        ),
        "{note}"
    );
    assert!(
        note.contains(
            "systemd creates it with mode 0666 (SocketMode= in /etc/systemd/system/docker.socket.d/override.conf)"
        ),
        "{note}"
    );
    let note = r.objects[1].note.as_deref().unwrap();
    assert!(
        note.contains("ListenStream= in /usr/lib/systemd/system/docker.socket.d/zz-second.conf"),
        "{note}"
    );
    let r = &results["3.15"];
    let note = r.objects[0].note.as_deref().unwrap();
    assert!(
        note.contains("systemd creates it as root:docker")
            && note.contains("set in /lib/systemd/system/docker.socket"),
        "{note}"
    );
    if is_root() {
        assert_eq!(r.status, Status::Pass, "{r:?}");
    }

    // Without drop-ins, the packaged unit's socket; one socket names its source in the message.
    std::fs::remove_dir_all(root.path().join("etc/systemd/system/docker.socket.d")).unwrap();
    std::fs::remove_dir_all(root.path().join("usr/lib/systemd/system/docker.socket.d")).unwrap();
    std::fs::remove_dir_all(root.path().join("lib/systemd/system/docker.socket.d")).unwrap();
    let results = audit_host(&root, &proc);
    let r = &results["3.16"];
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert_eq!(r.objects.len(), 1);
    assert_eq!(r.objects[0].name, "/run/docker.sock");
    let message = r.message.as_deref().unwrap();
    assert!(
        message.contains("/run/docker.sock")
            && message.contains("path from ListenStream= in /lib/systemd/system/docker.socket"),
        "{message}"
    );

    // Only an abstract socket: no socket file to judge, and the reason says why.
    root.file(
        "/etc/systemd/system/docker.socket.d/abstract.conf",
        "[Socket]\nListenStream=\nListenStream=@docker\n",
        0o644,
        (0, 0),
    );
    let results = audit_host(&root, &proc);
    let r = &results["3.16"];
    assert_eq!(r.status, Status::NotApplicable, "{r:?}");
    assert!(
        r.message
            .as_deref()
            .unwrap()
            .contains("name no socket file"),
        "{r:?}"
    );
}

/// Socket activation with a TCP `ListenStream=` in docker.socket: the daemon listens on TCP
/// without any `-H tcp://`, so the TCP listener comes from the unit. It is a TCP host like any
/// other (the TLS check and the threat model read tcp_hosts), named with the file that opened
/// it, and dockerd's TLS flags apply to it (dockerd wraps socket-activated TCP sockets in TLS).
#[test]
fn socket_activation_tcp_listen_stream_is_a_tcp_host() {
    let setup = |name: &str, flags: &[&str]| {
        let root = Temp::new(&format!("{name}-root"));
        root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
        root.file("/etc/group", GROUP, 0o644, (0, 0));
        root.file(
            "/lib/systemd/system/docker.service",
            "[Service]\nExecStart=/usr/bin/dockerd -H fd://\n",
            0o644,
            (0, 0),
        );
        root.file(
            "/lib/systemd/system/docker.socket",
            "[Socket]\nListenStream=/run/docker.sock\nListenStream=0.0.0.0:2375\nSocketMode=0660\nSocketUser=root\nSocketGroup=docker\n",
            0o644,
            (0, 0),
        );
        socket(&root, "/run/docker.sock", 0o660, (0, 999));
        std::fs::create_dir_all(root.path().join("var")).unwrap();
        symlink("/run", root.path().join("var/run")).unwrap();
        let proc = docker_ce_proc(&format!("{name}-proc"), flags);
        (root, proc)
    };

    let (root, proc) = setup("fd-tcp", &[]);
    let d = daemon_on(&root, &proc);
    assert_eq!(d.paths.sockets, vec!["/run/docker.sock"]);
    assert_eq!(d.paths.tcp_hosts, vec!["tcp://0.0.0.0:2375"]);
    assert_eq!(
        d.paths.socket_sources["tcp://0.0.0.0:2375"],
        "ListenStream=0.0.0.0:2375 in /lib/systemd/system/docker.socket (socket activation: flag --host is fd://)"
    );

    let results = audit_host(&root, &proc);
    let r = &results["2.7"];
    assert_eq!(r.status, Status::Fail, "{r:?}");
    assert_eq!(r.objects.len(), 1, "{r:?}");
    assert_eq!(r.objects[0].name, "tcp://0.0.0.0:2375");
    assert_eq!(r.objects[0].status, Status::Fail);
    let note = r.objects[0].note.as_deref().unwrap();
    assert!(
        note.contains("plain TCP")
            && note.contains("ListenStream=0.0.0.0:2375 in /lib/systemd/system/docker.socket"),
        "{note}"
    );

    // dockerd's TLS flags cover the socket systemd passes it.
    let (root, proc) = setup(
        "fd-tcp-tls",
        &[
            "--tlsverify",
            "--tlscacert",
            "/etc/docker/ca.pem",
            "--tlscert",
            "/etc/docker/cert.pem",
            "--tlskey",
            "/etc/docker/key.pem",
        ],
    );
    let results = audit_host(&root, &proc);
    let r = &results["2.7"];
    assert_eq!(r.status, Status::Pass, "{r:?}");
    assert_eq!(r.objects[0].name, "tcp://0.0.0.0:2375");
    assert!(r.objects[0]
        .note
        .as_deref()
        .unwrap()
        .contains("/lib/systemd/system/docker.socket"));
}

/// `-H fd://N` serves only the socket systemd passed as descriptor N: the unit's ListenStream=
/// number N-2; a bare port is every address (`[::]`, dual-stack).
#[test]
fn socket_activation_fd_number_picks_one_listen_stream() {
    let root = Temp::new("fd-n-root");
    root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
    root.file("/etc/group", GROUP, 0o644, (0, 0));
    root.file(
        "/lib/systemd/system/docker.socket",
        "[Socket]\nListenStream=/run/docker.sock\nListenStream=2375\nListenStream=127.0.0.1:2376\n",
        0o644,
        (0, 0),
    );
    let proc = systemd_proc("fd-n-proc");
    proc.add(
        700,
        1,
        0,
        "dockerd",
        "/usr/bin/dockerd",
        &["/usr/bin/dockerd", "-H", "fd://4"],
        &[],
    );
    let d = daemon_on(&root, &proc);
    assert!(d.paths.sockets.is_empty(), "{:?}", d.paths.sockets);
    assert_eq!(d.paths.tcp_hosts, vec!["tcp://[::]:2375"]);
    let from = &d.paths.socket_sources["tcp://[::]:2375"];
    assert!(
        from.contains("fd://4, the unit's ListenStream= number 2") && from.contains("a bare port"),
        "{from}"
    );
}

/// Found in review: the unit search path lacked /usr/local/lib/systemd/system,
/// /etc/systemd/system.control, /run/systemd/system.control and /run/systemd/transient. Filled
/// from the lowest precedence up, each directory's copy must win over all the ones before.
#[test]
fn the_unit_chosen_is_the_first_in_systemds_order() {
    let root = Temp::new("unit-order-root");
    let proc = docker_ce_proc("unit-order-proc", &[]);
    let processes = proc.processes();
    let fs = HostFs::new(root.path());
    let users = accounts().users;
    let order = [
        "/etc/systemd/system.control",
        "/run/systemd/system.control",
        "/run/systemd/transient",
        "/run/systemd/generator.early",
        "/etc/systemd/system",
        "/etc/systemd/system.attached",
        "/run/systemd/system",
        "/run/systemd/system.attached",
        "/run/systemd/generator",
        "/usr/local/lib/systemd/system",
        "/lib/systemd/system",
        "/usr/lib/systemd/system",
        "/run/systemd/generator.late",
    ];
    for dir in order.iter().rev() {
        root.file(
            &format!("{dir}/docker.service"),
            "[Service]\n",
            0o644,
            (0, 0),
        );
        let d = local_daemon(&DaemonInputs {
            processes: &processes,
            endpoint: &unix_endpoint("/var/run/docker.sock"),
            info: None,
            fs: &fs,
            users: &users,
        });
        assert_eq!(
            d.paths.units["docker.service"].as_deref(),
            Some(format!("{dir}/docker.service").as_str()),
            "{dir} comes before every directory after it"
        );
    }
}

/// Found in review: /etc/systemd/system/docker.service.d/override.conf at 0664 (it can replace
/// ExecStart) went unreported by 3.1/3.2. Every drop-in of docker.service and docker.socket is
/// judged as the unit file is, named by its path.
#[test]
fn drop_ins_of_the_docker_units_are_judged_with_the_unit_files() {
    let root = Temp::new("dropins-root");
    root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
    root.file("/etc/group", GROUP, 0o644, (0, 0));
    root.file(
        "/lib/systemd/system/docker.service",
        "[Service]\nExecStart=/usr/bin/dockerd -H fd://\n",
        0o644,
        (0, 0),
    );
    root.file(
        "/etc/systemd/system/docker.service.d/override.conf",
        "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// -H tcp://0.0.0.0:2375\n",
        0o664,
        (0, 0),
    );
    root.file(
        "/run/systemd/system/docker.service.d/50-env.conf",
        "[Service]\nEnvironment=A=1\n",
        0o644,
        (1000, 1000),
    );
    // Not a drop-in: only *.conf files are read.
    root.file(
        "/etc/systemd/system/docker.service.d/README",
        "notes\n",
        0o666,
        (0, 0),
    );
    root.file(
        "/lib/systemd/system/docker.socket",
        "[Socket]\nListenStream=/run/docker.sock\nSocketMode=0660\nSocketGroup=docker\n",
        0o644,
        (0, 0),
    );
    root.file(
        "/etc/systemd/system/socket.d/10-all-sockets.conf",
        "[Socket]\n",
        0o666,
        (0, 0),
    );
    let proc = docker_ce_proc("dropins-proc", &[]);
    let results = audit_host(&root, &proc);
    let objects = |id: &str| -> Vec<(String, Status)> {
        results[id]
            .objects
            .iter()
            .map(|o| (o.name.clone(), o.status))
            .collect()
    };
    let r = &results["3.2"];
    assert_eq!(r.status, Status::Fail, "{r:?}");
    assert_eq!(
        objects("3.2"),
        vec![
            (
                "/lib/systemd/system/docker.service".to_string(),
                Status::Pass
            ),
            (
                "/run/systemd/system/docker.service.d/50-env.conf".to_string(),
                Status::Pass
            ),
            (
                "/etc/systemd/system/docker.service.d/override.conf".to_string(),
                Status::Fail
            ),
        ]
    );
    assert!(
        r.message
            .as_deref()
            .unwrap()
            .contains("/etc/systemd/system/docker.service.d/override.conf"),
        "{r:?}"
    );
    assert!(r.objects[2]
        .note
        .as_deref()
        .unwrap()
        .contains("a drop-in of docker.service"));
    // The type's drop-in directory applies to docker.socket too.
    assert_eq!(results["3.4"].status, Status::Fail, "{:?}", results["3.4"]);
    assert_eq!(
        objects("3.4")[1],
        (
            "/etc/systemd/system/socket.d/10-all-sockets.conf".to_string(),
            Status::Fail
        )
    );
    if is_root() {
        assert_eq!(results["3.1"].status, Status::Fail, "{:?}", results["3.1"]);
        assert_eq!(
            objects("3.1")[1],
            (
                "/run/systemd/system/docker.service.d/50-env.conf".to_string(),
                Status::Fail
            )
        );
    }
}

/// Found in review: 1.1.2 listed a member with no /etc/passwd entry without saying so, and
/// never said that a directory service (sssd here) may add members /etc/group cannot show.
#[test]
fn docker_group_members_without_accounts_and_directory_services_are_said() {
    let root = Temp::new("nss-root");
    root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
    root.file(
        "/etc/group",
        "root:x:0:\ndocker:x:999:alice,ghost\nalice:x:1000:\n",
        0o644,
        (0, 0),
    );
    root.file(
        "/etc/nsswitch.conf",
        "# /etc/nsswitch.conf\npasswd:         files systemd sss\ngroup:          files [SUCCESS=merge] systemd sss # directory\nshadow:         files\n",
        0o644,
        (0, 0),
    );
    let proc = docker_ce_proc("nss-proc", &[]);
    let results = audit_host(&root, &proc);
    let r = &results["1.1.2"];
    assert_eq!(r.status, Status::Warn, "{r:?}");
    let message = r.message.as_deref().unwrap();
    assert!(
        message.contains("/etc/nsswitch.conf also takes groups from sss"),
        "{message}"
    );
    let ghost = r.objects.iter().find(|o| o.name == "ghost").unwrap();
    assert!(
        ghost
            .note
            .as_deref()
            .is_some_and(|n| n.contains("no account of this name in /etc/passwd")),
        "{ghost:?}"
    );
    let alice = r.objects.iter().find(|o| o.name == "alice").unwrap();
    assert_eq!(alice.note, None);
    // Local files only: no note.
    root.file(
        "/etc/nsswitch.conf",
        "group: files systemd\n",
        0o644,
        (0, 0),
    );
    let results = audit_host(&root, &proc);
    let message = results["1.1.2"].message.clone().unwrap();
    assert!(!message.contains("nsswitch"), "{message}");
}

/// Found in review: with daemon.json malformed, 2.3 said "`debug` is not on the command line"
/// and never named `--log-level`, which it looks for too; a `--log-level` other than info on
/// the command line fails whatever daemon.json holds.
#[test]
fn log_level_with_an_unreadable_daemon_json_names_both_flags() {
    let root = Temp::new("loglevel-root");
    root.file("/etc/passwd", PASSWD, 0o644, (0, 0));
    root.file("/etc/group", GROUP, 0o644, (0, 0));
    root.file(
        "/etc/docker/daemon.json",
        "{\"log-level\": \"info\",}\n",
        0o644,
        (0, 0),
    );
    let proc = docker_ce_proc("loglevel-proc", &[]);
    let r = &audit_host(&root, &proc)["2.3"];
    assert_eq!(r.status, Status::Error, "{r:?}");
    let message = r.message.as_deref().unwrap();
    assert!(
        message.contains("`--log-level`") && message.contains("`--debug`"),
        "{message}"
    );
    assert!(message.contains("/etc/docker/daemon.json"), "{message}");
    let proc = docker_ce_proc("loglevel-proc2", &["--log-level=debug"]);
    let r = &audit_host(&root, &proc)["2.3"];
    assert_eq!(r.status, Status::Fail, "{r:?}");
}
