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
