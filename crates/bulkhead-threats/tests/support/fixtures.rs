//! Snapshot fixtures built in code: a host like the write-up's (a default Debian Docker host with
//! one web container running as root, content trust off, writable root file system, no
//! no-new-privileges) and the same host hardened. Tests compare them with the JSON files under
//! tests/fixtures/ (regenerate with BULKHEAD_BLESS=1), which the CLI can read with --snapshot.

use bulkhead_facts::docker::*;
use bulkhead_facts::host::*;
use bulkhead_facts::{Fact, Mode, Snapshot, ToolInfo};
use serde_json::json;
use std::collections::BTreeMap;

fn stat(kind: FileKind, mode: u32, uid: u32, gid: u32) -> FileFact {
    FileFact::Present(FileStat {
        kind,
        mode: Mode(mode),
        uid,
        gid,
        owner: Some(if uid == 0 {
            "root".into()
        } else {
            uid.to_string()
        }),
        group: Some(match gid {
            0 => "root".into(),
            999 => "docker".into(),
            g => g.to_string(),
        }),
        size: 0,
        symlink_target: None,
        ancestors: vec![],
    })
}

fn process(pid: u32, argv: &str) -> Process {
    let argv: Vec<String> = argv.split_whitespace().map(String::from).collect();
    Process {
        pid,
        ppid: 1,
        comm: argv[0]
            .rsplit('/')
            .next()
            .unwrap()
            .chars()
            .take(15)
            .collect(),
        exe: Some(argv[0].clone()),
        argv,
        uid: 0,
        pid_ns: None,
        environ: None,
        no_new_privs: None,
    }
}

const DOCKERD: &str = "/usr/sbin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock";

fn base(hardened: bool) -> Snapshot {
    let mut host = HostFacts {
        root: "/".into(),
        proc: "/proc".into(),
        hostname: Fact::Value("docker-lab".into()),
        os_release: Fact::Value(BTreeMap::from([(
            "PRETTY_NAME".to_string(),
            "Debian GNU/Linux 12 (bookworm)".to_string(),
        )])),
        kernel: Fact::Value("6.1.0-18-amd64".into()),
        processes: Fact::Value(vec![
            process(1, "/sbin/init"),
            process(612, DOCKERD),
            process(540, "/usr/bin/containerd"),
        ]),
        users: Fact::Value(parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000:admin:/home/admin:/bin/bash\n",
        )),
        groups: Fact::Value(parse_group(if hardened {
            "root:x:0:\ndocker:x:999:admin\n"
        } else {
            "root:x:0:\ndocker:x:999:admin,dev,ci\n"
        })),
        mounts: Fact::Value(vec![MountInfo {
            mount_point: "/".into(),
            fs_type: "ext4".into(),
            source: "/dev/sda1".into(),
            options: "rw".into(),
        }]),
        ..Default::default()
    };
    host.security_modules.apparmor = Fact::Value(true);
    host.security_modules.selinux = Fact::Value(false);
    host.listeners = Fact::Value(vec![Listener {
        address: "0.0.0.0".into(),
        port: 22,
    }]);
    let files: &[(&str, FileKind, u32, u32, u32)] = &[
        ("/var/run/docker.sock", FileKind::Socket, 0o660, 0, 999),
        (
            "/run/containerd/containerd.sock",
            FileKind::Socket,
            0o660,
            0,
            0,
        ),
        ("/etc/docker", FileKind::Directory, 0o755, 0, 0),
        (
            "/lib/systemd/system/docker.service",
            FileKind::File,
            0o644,
            0,
            0,
        ),
        (
            "/lib/systemd/system/docker.socket",
            FileKind::File,
            0o644,
            0,
            0,
        ),
        ("/etc/default/docker", FileKind::File, 0o644, 0, 0),
    ];
    for (p, k, m, u, g) in files {
        host.files.insert((*p).into(), stat(*k, *m, *u, *g));
    }
    host.files
        .insert("/etc/sysconfig/docker".into(), FileFact::Missing);
    host.files
        .insert("/etc/docker/certs.d".into(), FileFact::Missing);
    host.listings
        .insert("/etc/docker/certs.d".into(), Fact::Value(vec![]));
    host.audit = Fact::Value(AuditRules {
        source: "files".into(),
        files: vec!["/etc/audit/audit.rules".into()],
        rules: vec![],
        ..Default::default()
    });
    let mut s = Snapshot::new(
        ToolInfo::bulkhead("fixture"),
        "2026-01-15T09:30:00Z".into(),
        host,
    );
    s.docker = Some(DockerFacts {
        endpoint: Endpoint {
            host: "unix:///var/run/docker.sock".into(),
            transport: "unix".into(),
            tls: false,
            tls_verified: None,
            source: "default".into(),
            local: true,
            api_version: "1.41".into(),
        },
        version: Fact::Value(Version {
            version: "20.10.24+dfsg1".into(),
            api_version: "1.41".into(),
            os: "linux".into(),
            arch: "amd64".into(),
            ..Default::default()
        }),
        info: Fact::Value(Info {
            name: "docker-lab".into(),
            docker_root_dir: "/var/lib/docker".into(),
            logging_driver: "json-file".into(),
            driver: "overlay2".into(),
            cgroup_driver: "systemd".into(),
            security_options: vec![
                "name=apparmor".into(),
                "name=seccomp,profile=builtin".into(),
                "name=cgroupns".into(),
            ],
            swarm: SwarmInfo {
                local_node_state: "inactive".into(),
                ..Default::default()
            },
            ..Default::default()
        }),
        daemon: DaemonFacts::default(),
        containers: Fact::Value(vec![]),
        selection: ContainerSelection::default(),
        images: Fact::Value(vec![]),
        networks: Fact::Value(vec![Network {
            id: "b1".into(),
            name: "bridge".into(),
            driver: "bridge".into(),
            scope: "local".into(),
            options: BTreeMap::from([(
                "com.docker.network.bridge.enable_icc".to_string(),
                (!hardened).to_string(),
            )]),
            ..Default::default()
        }]),
        swarm: Fact::Value(SwarmFacts {
            state: "inactive".into(),
            ..Default::default()
        }),
    });
    s
}

fn set_daemon(s: &mut Snapshot, config: Option<serde_json::Value>) {
    let d = &mut s.docker.as_mut().unwrap().daemon;
    let args: Vec<String> = DOCKERD
        .split_whitespace()
        .skip(1)
        .map(String::from)
        .collect();
    d.flags = parse_dockerd_flags(&args);
    d.process = Fact::Value(Some(process(612, DOCKERD)));
    d.process_reason = "the only dockerd".into();
    d.config_path = DEFAULT_CONFIG_FILE.into();
    d.config = Fact::Value(config.clone());
    let settings = DaemonSettings::new(d.flags.clone(), config, DEFAULT_CONFIG_FILE);
    d.paths = resolve_paths(&settings, None);
    d.paths.units = BTreeMap::from([
        (
            "docker.service".to_string(),
            Some("/lib/systemd/system/docker.service".to_string()),
        ),
        (
            "docker.socket".to_string(),
            Some("/lib/systemd/system/docker.socket".to_string()),
        ),
    ]);
    d.paths.binaries = BTreeMap::from([
        ("dockerd".to_string(), Some("/usr/sbin/dockerd".to_string())),
        (
            "containerd".to_string(),
            Some("/usr/bin/containerd".to_string()),
        ),
        ("runc".to_string(), Some("/usr/sbin/runc".to_string())),
        ("containerd-shim".to_string(), None),
        ("containerd-shim-runc-v1".to_string(), None),
        (
            "containerd-shim-runc-v2".to_string(),
            Some("/usr/bin/containerd-shim-runc-v2".to_string()),
        ),
    ]);
}

fn image(user: &str, healthcheck: bool) -> ImageFacts {
    ImageFacts {
        inspect: Image {
            id: "sha256:5d1c7c0f2a9e4b3f8a6d0e1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a".into(),
            repo_tags: vec!["webapp:1.4".into()],
            created: "2026-01-10T08:00:00Z".into(),
            os: "linux".into(),
            architecture: "amd64".into(),
            config: ImageConfig {
                user: user.into(),
                healthcheck: healthcheck.then(|| HealthConfig {
                    test: vec!["CMD".into(), "/bin/healthcheck".into()],
                    interval: 30_000_000_000,
                    timeout: 5_000_000_000,
                    retries: 3,
                }),
                env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into()],
                ..Default::default()
            },
            ..Default::default()
        },
        history: Fact::Value(vec![HistoryItem {
            created_by: "/bin/sh -c #(nop) COPY dir:app in /app".into(),
            ..Default::default()
        }]),
    }
}

fn web_container(hardened: bool) -> ContainerFacts {
    let img = image(if hardened { "10001" } else { "" }, hardened);
    let mut hc = HostConfig {
        network_mode: if hardened {
            "webnet".into()
        } else {
            "default".into()
        },
        restart_policy: RestartPolicy {
            name: if hardened {
                "on-failure".into()
            } else {
                "no".into()
            },
            maximum_retry_count: if hardened { 5 } else { 0 },
        },
        port_bindings: Some(BTreeMap::from([(
            "80/tcp".to_string(),
            Some(vec![PortBinding {
                host_ip: if hardened {
                    "127.0.0.1".into()
                } else {
                    String::new()
                },
                host_port: "8080".into(),
            }]),
        )])),
        cgroupns_mode: "private".into(),
        ..Default::default()
    };
    if hardened {
        hc.readonly_rootfs = true;
        hc.security_opt = Some(vec!["no-new-privileges:true".into()]);
        hc.cap_drop = Some(vec!["ALL".into()]);
        hc.memory = 268_435_456;
        hc.cpu_shares = 512;
        hc.pids_limit = Some(100);
        hc.tmpfs = Some(BTreeMap::from([(
            "/tmp".to_string(),
            "rw,noexec,nosuid".to_string(),
        )]));
        hc.ulimits = Some(vec![Ulimit {
            name: "nofile".into(),
            soft: 1024,
            hard: 2048,
        }]);
    }
    let ports = hc.port_bindings.clone();
    ContainerFacts {
        inspect: Container {
            id: "3f1e9a7c5b2d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f".into(),
            name: "/web".into(),
            created: "2026-01-12T10:00:00Z".into(),
            image: img.inspect.id.clone(),
            state: ContainerState {
                status: "running".into(),
                running: true,
                pid: 4242,
                health: hardened.then(|| Health {
                    status: "healthy".into(),
                    failing_streak: 0,
                }),
            },
            config: ContainerConfig {
                // The engine copies the image's USER into the container's configuration.
                user: if hardened {
                    "10001".into()
                } else {
                    String::new()
                },
                image: "webapp:1.4".into(),
                env: vec![
                    "PATH=/usr/local/bin:/usr/bin:/bin".into(),
                    "APP_MODE=production".into(),
                ],
                healthcheck: img.inspect.config.healthcheck.clone(),
                ..Default::default()
            },
            host_config: hc,
            mounts: vec![],
            network_settings: NetworkSettings {
                ports,
                networks: None,
            },
            app_armor_profile: "docker-default".into(),
            process_label: String::new(),
        },
        processes: Fact::Value(vec![process(4242, "nginx: master process")]),
    }
}

/// A host like the write-up's: Docker defaults, one web container running as root with a
/// writable root file system and no no-new-privileges; DOCKER_CONTENT_TRUST unset.
pub fn writeup() -> Snapshot {
    let mut s = base(false);
    set_daemon(&mut s, None);
    s.host
        .files
        .insert("/etc/docker/daemon.json".into(), FileFact::Missing);
    let d = s.docker.as_mut().unwrap();
    d.images = Fact::Value(vec![image("", false)]);
    d.containers = Fact::Value(vec![web_container(false)]);
    if let Fact::Value(info) = &mut d.info {
        info.containers = 1;
        info.containers_running = 1;
        info.images = 1;
    }
    s
}

/// The same host hardened: daemon.json with inter-container traffic off, user namespaces,
/// no-new-privileges, live restore, remote logging; content trust set system-wide; files owned
/// and moded as the benchmark asks and audited; the container non-root, read-only, limited.
pub fn hardened() -> Snapshot {
    let mut s = base(true);
    let config = json!({
        "icc": false,
        "userns-remap": "default",
        "no-new-privileges": true,
        "live-restore": true,
        "userland-proxy": false,
        "log-level": "info",
        "log-driver": "syslog",
        "log-opts": {"syslog-address": "tcp://logs.internal:514"},
        "default-ulimits": {"nofile": {"Name": "nofile", "Hard": 64000, "Soft": 64000}},
        "cgroup-parent": "/docker",
        "authorization-plugins": ["authz-broker"]
    });
    set_daemon(&mut s, Some(config));
    s.host.files.insert(
        "/etc/docker/daemon.json".into(),
        stat(FileKind::File, 0o644, 0, 0),
    );
    s.host
        .environment
        .insert("DOCKER_CONTENT_TRUST".into(), "1".into());
    s.host.profile_environment.insert(
        "/etc/environment".into(),
        BTreeMap::from([("DOCKER_CONTENT_TRUST".to_string(), "1".to_string())]),
    );
    s.host.mounts = Fact::Value(vec![
        MountInfo {
            mount_point: "/".into(),
            fs_type: "ext4".into(),
            source: "/dev/sda1".into(),
            options: "rw".into(),
        },
        MountInfo {
            mount_point: "/var/lib/docker".into(),
            fs_type: "ext4".into(),
            source: "/dev/sdb1".into(),
            options: "rw".into(),
        },
    ]);
    let watched = [
        "/usr/sbin/dockerd",
        "/run/containerd",
        "/var/lib/docker",
        "/etc/docker",
        "/lib/systemd/system/docker.service",
        "/run/containerd/containerd.sock",
        "/lib/systemd/system/docker.socket",
        "/etc/default/docker",
        "/etc/docker/daemon.json",
        "/etc/containerd/config.toml",
        "/etc/sysconfig/docker",
        "/usr/bin/containerd",
        "/usr/bin/containerd-shim",
        "/usr/bin/containerd-shim-runc-v1",
        "/usr/bin/containerd-shim-runc-v2",
        "/usr/sbin/runc",
    ];
    let text: String = watched
        .iter()
        .map(|p| format!("-w {p} -p rwxa -k docker\n"))
        .collect();
    s.host.audit = Fact::Value(AuditRules {
        source: "files".into(),
        files: vec!["/etc/audit/rules.d/docker.rules".into()],
        rules: parse_audit_rules(&text),
        ..Default::default()
    });
    let d = s.docker.as_mut().unwrap();
    // What the running daemon reports once daemon.json is in force.
    if let Fact::Value(info) = &mut d.info {
        info.logging_driver = "syslog".into();
        info.live_restore_enabled = true;
        info.security_options.push("name=userns".into());
        info.containers = 1;
        info.containers_running = 1;
        info.images = 1;
    }
    d.images = Fact::Value(vec![image("10001", true)]);
    d.containers = Fact::Value(vec![web_container(true)]);
    s
}

/// The hardened daemon running two containers: `web` as the write-up runs it (root, writable
/// root file system, no no-new-privileges, no limits) and `hardened` run with `--read-only
/// --user 1000 --memory 64m --pids-limit 50 --cpu-shares 512 --cap-drop ALL --security-opt
/// no-new-privileges`: the threats on containers are exposed overall, and mitigated on
/// `hardened` by its own evidence.
pub fn mixed() -> Snapshot {
    let mut s = hardened();
    let d = s.docker.as_mut().unwrap();
    let mut hard = web_container(true);
    hard.inspect.id = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b".into();
    hard.inspect.name = "/hardened".into();
    hard.inspect.config.user = "1000".into();
    hard.inspect.host_config.memory = 67_108_864;
    hard.inspect.host_config.pids_limit = Some(50);
    hard.inspect.host_config.port_bindings = None;
    hard.inspect.network_settings.ports = None;
    hard.inspect.state.pid = 4343;
    hard.processes = Fact::Value(vec![process(4343, "/app/server")]);
    // Both run the write-up's image (no USER): `hardened` sets its user on the command line.
    d.images = Fact::Value(vec![image("", false)]);
    d.containers = Fact::Value(vec![web_container(false), hard]);
    if let Fact::Value(info) = &mut d.info {
        info.containers = 2;
        info.containers_running = 2;
    }
    s
}

/// The write-up's host with dockerd started with `--bridge=none`: no default bridge network, so
/// the network list holds none, and the container's endpoint named `bridge` has nothing behind it.
pub fn no_default_bridge() -> Snapshot {
    let mut s = writeup();
    let d = &mut s.docker.as_mut().unwrap();
    let mut args: Vec<String> = DOCKERD
        .split_whitespace()
        .skip(1)
        .map(String::from)
        .collect();
    args.push("--bridge=none".into());
    d.daemon.flags = parse_dockerd_flags(&args);
    d.networks = Fact::Value(vec![]);
    s
}
