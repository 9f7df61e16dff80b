//! Test fixtures: a snapshot built in code, with only the facts a test cares about.

use crate::engine::{AuditOptions, Context};
use crate::model::CheckResult;
use bulkhead_facts::docker::*;
use bulkhead_facts::host::{FileFact, FileKind, FileStat, HostFacts};
use bulkhead_facts::{Fact, Mode, Snapshot, ToolInfo};

pub struct Fixture {
    pub snapshot: Snapshot,
    pub options: AuditOptions,
}

impl Fixture {
    /// A local Docker host with no containers, no images, default daemon configuration.
    pub fn new() -> Self {
        let mut host = HostFacts {
            root: "/".into(),
            proc: "/proc".into(),
            ..Default::default()
        };
        host.users = Fact::Value(bulkhead_facts::host::parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\n",
        ));
        host.groups = Fact::Value(bulkhead_facts::host::parse_group(
            "root:x:0:\ndocker:x:999:\n",
        ));
        let mut snapshot = Snapshot::new(
            ToolInfo::bulkhead("test"),
            "2026-01-01T00:00:00Z".into(),
            host,
        );
        let settings = DaemonSettings::default();
        snapshot.docker = Some(DockerFacts {
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
                ..Default::default()
            }),
            info: Fact::Value(Info {
                docker_root_dir: "/var/lib/docker".into(),
                logging_driver: "json-file".into(),
                ..Default::default()
            }),
            daemon: DaemonFacts {
                process: Fact::Value(None),
                config_path: DEFAULT_CONFIG_FILE.into(),
                config: Fact::Value(None),
                paths: resolve_paths(&settings, None),
                ..Default::default()
            },
            containers: Fact::Value(vec![]),
            selection: ContainerSelection::default(),
            images: Fact::Value(vec![]),
            networks: Fact::Value(vec![]),
            swarm: Fact::Value(SwarmFacts {
                state: "inactive".into(),
                ..Default::default()
            }),
        });
        Fixture {
            snapshot,
            options: AuditOptions::default(),
        }
    }

    pub fn docker(&mut self) -> &mut DockerFacts {
        self.snapshot.docker.as_mut().unwrap()
    }

    /// Add a running container named `name`, adjusted by `edit`.
    pub fn container(mut self, name: &str, edit: impl FnOnce(&mut Container)) -> Self {
        let n = match self.docker().containers.value() {
            Some(v) => v.len(),
            None => 0,
        };
        let mut c = Container {
            id: format!("{:0>64}", n + 1),
            name: format!("/{name}"),
            state: ContainerState {
                status: "running".into(),
                running: true,
                pid: 1000 + n as i64,
                health: None,
            },
            ..Default::default()
        };
        edit(&mut c);
        if let Fact::Value(v) = &mut self.docker().containers {
            v.push(ContainerFacts {
                inspect: c,
                processes: Fact::Value(vec![]),
            });
        }
        self
    }

    /// Record a file on the host.
    pub fn file(mut self, path: &str, mode: u32, uid: u32, gid: u32) -> Self {
        self.snapshot.host.files.insert(
            path.into(),
            FileFact::Present(FileStat {
                kind: FileKind::File,
                mode: Mode(mode),
                uid,
                gid,
                owner: None,
                group: None,
                size: 0,
                symlink_target: None,
                ancestors: vec![],
            }),
        );
        self
    }

    /// Set the daemon's command line and daemon.json, and resolve paths from them.
    pub fn daemon(mut self, args: &str, config: Option<serde_json::Value>) -> Self {
        let flags = parse_dockerd_flags(
            &args
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        );
        let d = &mut self.docker().daemon;
        d.flags = flags.clone();
        d.config = Fact::Value(config.clone());
        let settings = DaemonSettings::new(flags, config, d.config_path.clone());
        d.paths = resolve_paths(&settings, None);
        self
    }

    pub fn check(&self, control: &str) -> CheckResult {
        let ctx = Context::new(&self.snapshot, &self.options);
        let eval = crate::registry::evaluator(control)
            .unwrap_or_else(|| panic!("no evaluator for {control}"));
        eval(&ctx)
    }
}

/// Builders for host-side facts (sections 1-3): files of every kind, directory listings, unit
/// files, binaries, audit rules, mounts, accounts, and the daemon process itself.
impl Fixture {
    fn stat(kind: FileKind, mode: u32, uid: u32, gid: u32) -> FileFact {
        FileFact::Present(FileStat {
            kind,
            mode: Mode(mode),
            uid,
            gid,
            owner: None,
            group: None,
            size: 0,
            symlink_target: None,
            ancestors: vec![],
        })
    }

    /// Record a directory on the host.
    pub fn dir(mut self, path: &str, mode: u32, uid: u32, gid: u32) -> Self {
        let st = Self::stat(FileKind::Directory, mode, uid, gid);
        self.snapshot.host.files.insert(path.into(), st);
        self
    }

    /// Record a unix socket on the host.
    pub fn socket(mut self, path: &str, mode: u32, uid: u32, gid: u32) -> Self {
        let st = Self::stat(FileKind::Socket, mode, uid, gid);
        self.snapshot.host.files.insert(path.into(), st);
        self
    }

    /// Record that a path does not exist on the host.
    pub fn missing(mut self, path: &str) -> Self {
        self.snapshot
            .host
            .files
            .insert(path.into(), FileFact::Missing);
        self
    }

    /// Record that a path could not be read, and why.
    pub fn unreadable(mut self, path: &str, reason: &str) -> Self {
        let f = FileFact::Unreadable {
            reason: reason.into(),
        };
        self.snapshot.host.files.insert(path.into(), f);
        self
    }

    /// Record the recursive listing of a directory (the files themselves are recorded apart).
    pub fn listing(mut self, dir: &str, files: &[&str]) -> Self {
        let v = files.iter().map(|s| s.to_string()).collect();
        self.snapshot
            .host
            .listings
            .insert(dir.into(), Fact::Value(v));
        self
    }

    /// Record where systemd's unit file for `unit` was found (None: looked for, not found).
    pub fn unit(mut self, unit: &str, path: Option<&str>) -> Self {
        let p = path.map(String::from);
        self.docker().daemon.paths.units.insert(unit.into(), p);
        self
    }

    /// Record where a binary was found (None: looked for, not found).
    pub fn binary(mut self, name: &str, path: Option<&str>) -> Self {
        let p = path.map(String::from);
        self.docker().daemon.paths.binaries.insert(name.into(), p);
        self
    }

    /// Load audit rules in auditctl syntax, as read from `source` (`kernel` or `files`).
    pub fn audit_rules(mut self, source: &str, text: &str) -> Self {
        self.snapshot.host.audit = Fact::Value(bulkhead_facts::host::AuditRules {
            source: source.into(),
            files: if source == "files" {
                vec!["/etc/audit/rules.d/docker.rules".into()]
            } else {
                vec![]
            },
            rules: bulkhead_facts::host::parse_audit_rules(text),
            ..Default::default()
        });
        self
    }

    /// Set the host's mount table to these mount points (ext4, /dev/sdaN).
    pub fn mounts(mut self, mount_points: &[&str]) -> Self {
        let m = mount_points
            .iter()
            .enumerate()
            .map(|(i, p)| bulkhead_facts::host::MountInfo {
                mount_point: p.to_string(),
                fs_type: "ext4".into(),
                source: format!("/dev/sda{}", i + 1),
                options: "rw,relatime".into(),
            })
            .collect();
        self.snapshot.host.mounts = Fact::Value(m);
        self
    }

    /// Set the host's mount table from (mount point, source, file system type) triples, in
    /// mount order (a later mount at the same point stacks on top).
    pub fn mounts_with(mut self, table: &[(&str, &str, &str)]) -> Self {
        let m = table
            .iter()
            .map(|(p, source, fs)| bulkhead_facts::host::MountInfo {
                mount_point: p.to_string(),
                fs_type: fs.to_string(),
                source: source.to_string(),
                options: "rw,relatime".into(),
            })
            .collect();
        self.snapshot.host.mounts = Fact::Value(m);
        self
    }

    /// Replace the host's /etc/passwd and /etc/group.
    pub fn accounts(mut self, passwd: &str, group: &str) -> Self {
        self.snapshot.host.users = Fact::Value(bulkhead_facts::host::parse_passwd(passwd));
        self.snapshot.host.groups = Fact::Value(bulkhead_facts::host::parse_group(group));
        self
    }

    /// Make the API endpoint a remote daemon (host-side facts then belong to another machine).
    pub fn remote(mut self) -> Self {
        let e = &mut self.docker().endpoint;
        e.host = "tcp://10.0.0.5:2376".into();
        e.transport = "tcp".into();
        e.tls = true;
        e.local = false;
        self
    }

    /// A rootful dockerd process (uid 0) with this command line and daemon.json.
    pub fn dockerd(mut self, args: &str, config: Option<serde_json::Value>) -> Self {
        let mut argv = vec!["/usr/bin/dockerd".to_string()];
        argv.extend(args.split_whitespace().map(String::from));
        self.docker().daemon.process = Fact::Value(Some(bulkhead_facts::host::Process {
            pid: 4242,
            ppid: 1,
            comm: "dockerd".into(),
            exe: Some("/usr/bin/dockerd".into()),
            argv,
            uid: 0,
            ..Default::default()
        }));
        self.docker().daemon.process_reason = "the only dockerd".into();
        self.daemon(args, config)
    }

    /// A rootless dockerd run by `user` (uid = gid = `uid`, home /home/<user>), with its own
    /// XDG locations resolved from `args` and `config`.
    pub fn rootless(
        mut self,
        user: &str,
        uid: u32,
        args: &str,
        config: Option<serde_json::Value>,
    ) -> Self {
        let home = format!("/home/{user}");
        let run = format!("/run/user/{uid}");
        let passwd =
            format!("root:x:0:0:root:/root:/bin/bash\n{user}:x:{uid}:{uid}::{home}:/bin/sh\n");
        let group = format!("root:x:0:\ndocker:x:999:\n{user}:x:{uid}:\n");
        self = self.accounts(&passwd, &group).dockerd(args, config.clone());
        let d = &mut self.docker().daemon;
        d.rootless = true;
        if let Fact::Value(Some(p)) = &mut d.process {
            p.uid = uid;
        }
        d.config_path = format!("{home}/.config/docker/daemon.json");
        let settings = DaemonSettings::new(d.flags.clone(), config, d.config_path.clone());
        d.paths = resolve_paths(&settings, Some((&home, &run)));
        if let Fact::Value(i) = &mut self.docker().info {
            i.security_options.push("name=rootless".into());
        }
        self
    }

    /// Adjust what the Engine API reported (`/info` and `/version`).
    pub fn engine(mut self, edit: impl FnOnce(&mut Info, &mut Version)) -> Self {
        let d = self.docker();
        if let (Fact::Value(i), Fact::Value(v)) = (&mut d.info, &mut d.version) {
            edit(i, v);
        }
        self
    }
}

/// Builders for images, networks, swarm state, container processes and the host's environment
/// (sections 4-7).
impl Fixture {
    /// Add an image tagged `tag` (an untagged image when `tag` is empty), adjusted by `edit`. Its
    /// ID is derived from the order of addition; its history starts empty.
    pub fn image(mut self, tag: &str, edit: impl FnOnce(&mut ImageFacts)) -> Self {
        let n = self.docker().images.value().map_or(0, |v| v.len());
        let mut image = ImageFacts {
            inspect: Image {
                id: format!("sha256:{:0>64}", format!("a{}", n + 1)),
                repo_tags: if tag.is_empty() {
                    vec![]
                } else {
                    vec![tag.to_string()]
                },
                ..Default::default()
            },
            history: Fact::Value(vec![]),
        };
        edit(&mut image);
        if let Fact::Value(v) = &mut self.docker().images {
            v.push(image);
        }
        self
    }

    /// Add a network named `name` with driver `driver`, adjusted by `edit`.
    pub fn network(mut self, name: &str, driver: &str, edit: impl FnOnce(&mut Network)) -> Self {
        let n = self.docker().networks.value().map_or(0, |v| v.len());
        let mut network = Network {
            id: format!("{:0>64}", format!("b{}", n + 1)),
            name: name.into(),
            driver: driver.into(),
            scope: if driver == "overlay" {
                "swarm"
            } else {
                "local"
            }
            .into(),
            ..Default::default()
        };
        edit(&mut network);
        if let Fact::Value(v) = &mut self.docker().networks {
            v.push(network);
        }
        self
    }

    /// Put the daemon in swarm mode (`LocalNodeState` `state`, this node a manager), adjusted by
    /// `edit` on what `/info` and the swarm inspection report.
    pub fn swarm(
        mut self,
        state: &str,
        edit: impl FnOnce(&mut SwarmInfo, &mut SwarmFacts),
    ) -> Self {
        let d = self.docker();
        let mut facts = SwarmFacts {
            state: state.into(),
            is_manager: true,
            managers: 1,
            ..Default::default()
        };
        let mut info = SwarmInfo {
            node_id: "node1".into(),
            local_node_state: state.into(),
            control_available: true,
            managers: 1,
            nodes: 1,
        };
        edit(&mut info, &mut facts);
        if let Fact::Value(i) = &mut d.info {
            i.swarm = info;
        }
        d.swarm = Fact::Value(facts);
        self
    }

    /// Adjust the container named `name` (added before) beyond its inspect document, e.g. the
    /// processes read for it from the host's /proc.
    pub fn edit_container(mut self, name: &str, edit: impl FnOnce(&mut ContainerFacts)) -> Self {
        if let Fact::Value(v) = &mut self.docker().containers {
            let c = v
                .iter_mut()
                .find(|c| c.name() == name)
                .unwrap_or_else(|| panic!("no container {name} in the fixture"));
            edit(c);
        }
        self
    }

    /// Adjust the host facts (environment, profiles, security modules, listeners, ...).
    pub fn edit_host(mut self, edit: impl FnOnce(&mut HostFacts)) -> Self {
        edit(&mut self.snapshot.host);
        self
    }

    /// Adjust the Docker facts directly (endpoint, `/info`, selection, ...).
    pub fn edit_docker(mut self, edit: impl FnOnce(&mut DockerFacts)) -> Self {
        edit(self.docker());
        self
    }
}
