//! Test fixtures: a Kubernetes node snapshot built in code, with only the facts a test needs.

use crate::engine::{AuditOptions, Context};
use crate::model::CheckResult;
use bulkhead_facts::host::{AncestorDir, FileFact, FileKind, FileStat, HostFacts, Process};
use bulkhead_facts::kube::*;
use bulkhead_facts::{Fact, Mode, Snapshot, ToolInfo};
use serde_json::Value;
use std::collections::BTreeMap;

pub struct KubeFixture {
    pub snapshot: Snapshot,
    pub options: AuditOptions,
}

impl KubeFixture {
    /// A kubeadm node with nothing running, accounts root and etcd.
    pub fn new() -> Self {
        let mut host = HostFacts {
            root: "/".into(),
            proc: "/proc".into(),
            ..Default::default()
        };
        host.users = Fact::Value(bulkhead_facts::host::parse_passwd(
            "root:x:0:0:root:/root:/bin/bash\netcd:x:998:997::/var/lib/etcd:/usr/sbin/nologin\n",
        ));
        host.groups = Fact::Value(bulkhead_facts::host::parse_group(
            "root:x:0:\netcd:x:997:\n",
        ));
        let mut snapshot = Snapshot::new(
            ToolInfo::bulkhead("test"),
            "2026-01-01T00:00:00Z".into(),
            host,
        );
        snapshot.kubernetes = Some(KubeFacts {
            platform: Platform {
                kind: "kubeadm".into(),
                managed: false,
                evidence: vec!["file /etc/kubernetes/kubelet.conf".into()],
            },
            ..Default::default()
        });
        KubeFixture {
            snapshot,
            options: AuditOptions::default(),
        }
    }

    pub fn kube(&mut self) -> &mut KubeFacts {
        self.snapshot.kubernetes.as_mut().unwrap()
    }

    fn retarget(&mut self) {
        let k = self.kube();
        let has_dump = k.cluster.is_some();
        k.targets = Targets::detect(&k.components, has_dump);
    }

    /// A running component with this command line (argv\[0\] is the component name).
    pub fn component(mut self, name: &str, args: &[&str]) -> Self {
        let argv: Vec<String> = std::iter::once(format!("/usr/bin/{name}"))
            .chain(args.iter().map(|s| s.to_string()))
            .collect();
        let pid = 100 + self.kube().components.len() as u32;
        let c = Component {
            name: name.into(),
            process: Process {
                pid,
                ppid: 1,
                comm: name.chars().take(15).collect(),
                exe: Some(format!("/usr/bin/{name}")),
                argv: mask_component_argv(&argv),
                ..Default::default()
            },
            cwd: Some("/".into()),
            flags: parse_component_flags(name, &argv[1..]),
            env: BTreeMap::new(),
            env_files: BTreeMap::new(),
            pending_env: BTreeMap::new(),
            config: None,
            unusable_config: BTreeMap::new(),
            source: "process".into(),
            other_pids: vec![],
            started_at: None,
        };
        self.kube().components.insert(name.into(), c);
        self.retarget();
        self
    }

    pub fn etcd_env(mut self, vars: &[(&str, &str)]) -> Self {
        let c = self
            .kube()
            .components
            .get_mut(ETCD)
            .expect("etcd added first");
        for (k, v) in vars {
            c.env.insert(k.to_string(), v.to_string());
        }
        self
    }

    /// A file at `path` with mode and owner; `dir_modes` adds ancestors (path, mode, uid).
    pub fn file(mut self, path: &str, mode: u32, uid: u32, gid: u32) -> Self {
        self.put(path, FileKind::File, mode, uid, gid, vec![]);
        self
    }

    pub fn file_in(
        mut self,
        path: &str,
        mode: u32,
        uid: u32,
        gid: u32,
        ancestors: &[(&str, u32, u32)],
    ) -> Self {
        let anc = ancestors
            .iter()
            .map(|(p, m, u)| AncestorDir {
                path: p.to_string(),
                mode: Mode(*m),
                uid: *u,
                gid: *u,
            })
            .collect();
        self.put(path, FileKind::File, mode, uid, gid, anc);
        self
    }

    pub fn dir(mut self, path: &str, mode: u32, uid: u32, gid: u32) -> Self {
        self.put(path, FileKind::Directory, mode, uid, gid, vec![]);
        self
    }

    fn put(
        &mut self,
        path: &str,
        kind: FileKind,
        mode: u32,
        uid: u32,
        gid: u32,
        ancestors: Vec<AncestorDir>,
    ) {
        let owner = self.snapshot.host.user_name(uid).map(String::from);
        let group = self.snapshot.host.group_name(gid).map(String::from);
        self.snapshot.host.files.insert(
            path.into(),
            FileFact::Present(FileStat {
                kind,
                mode: Mode(mode),
                uid,
                gid,
                owner,
                group,
                size: 1,
                symlink_target: None,
                ancestors,
            }),
        );
    }

    pub fn missing(mut self, path: &str) -> Self {
        self.snapshot
            .host
            .files
            .insert(path.into(), FileFact::Missing);
        self
    }

    pub fn path(mut self, role: &str, path: &str, configured: bool) -> Self {
        let p = if configured {
            ResolvedPath::configured(path, "test configuration")
        } else {
            ResolvedPath::conventional(path, "kubeadm default")
        };
        self.kube().paths.insert(role.into(), p);
        self
    }

    pub fn file_set(mut self, role: &str, paths: &[&str]) -> Self {
        self.kube().file_sets.insert(
            role.into(),
            FileSet {
                roots: vec![ResolvedPath::conventional(
                    "/etc/kubernetes/pki",
                    "kubeadm default",
                )],
                paths: paths.iter().map(|s| s.to_string()).collect(),
                unreadable: BTreeMap::new(),
            },
        );
        self
    }

    pub fn kubelet_config(mut self, doc: Value) -> Self {
        self.kube().kubelet = Some(KubeletConfig {
            file: Some(ConfigFile {
                path: "/srv/kubelet/config.json".into(),
                source: "kubelet --config".into(),
                content: Fact::Value(doc),
                modified_at: None,
            }),
            drop_in_dir: None,
            drop_ins: vec![],
            drop_in_dir_error: None,
        });
        self
    }

    /// The `--config` file (added by [`KubeFixture::kubelet_config`]) could not be used.
    pub fn kubelet_config_unusable(mut self, reason: &str) -> Self {
        let cfg = self.kube().kubelet.as_mut().expect("kubelet_config first");
        cfg.file.as_mut().expect("a --config file").content = Fact::Unavailable(reason.into());
        self
    }

    /// A drop-in of `/etc/kubernetes/kubelet.conf.d`, applied after those added before it.
    pub fn kubelet_drop_in(mut self, name: &str, content: Fact<Value>) -> Self {
        let cfg = self.kube().kubelet.get_or_insert_with(Default::default);
        cfg.drop_in_dir = Some("/etc/kubernetes/kubelet.conf.d".into());
        cfg.drop_ins.push(ConfigFile {
            path: format!("/etc/kubernetes/kubelet.conf.d/{name}"),
            source: "kubelet --config-dir".into(),
            content,
            modified_at: None,
        });
        self
    }

    /// kube-proxy's `--config` file (KubeProxyConfiguration), or why it could not be used.
    pub fn proxy_config(mut self, path: &str, content: Fact<Value>) -> Self {
        self.kube().proxy_config = Some(ConfigFile {
            path: path.into(),
            source: "kube-proxy --config".into(),
            content,
            modified_at: None,
        });
        self
    }

    /// The configuration file a running component was started with (`--config` of
    /// kube-scheduler), or why it could not be used.
    pub fn component_config(mut self, name: &str, path: &str, content: Fact<Value>) -> Self {
        let c = self
            .kube()
            .components
            .get_mut(name)
            .expect("component added first");
        c.config = Some(ConfigFile {
            path: path.into(),
            source: format!("{name} --config"),
            content,
            modified_at: None,
        });
        self
    }

    /// Variables `file` sets for etcd's service that the running etcd does not have (written
    /// after it started).
    pub fn pending_etcd_env(mut self, file: &str, vars: &[(&str, &str)]) -> Self {
        let c = self
            .kube()
            .components
            .get_mut("etcd")
            .expect("etcd added first");
        c.pending_env.insert(
            file.into(),
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self
    }

    /// Variables a running component's service sets, written in `file`.
    pub fn service_env(mut self, name: &str, file: &str, vars: &[(&str, &str)]) -> Self {
        let c = self
            .kube()
            .components
            .get_mut(name)
            .expect("component added first");
        c.env_files.insert(
            file.into(),
            vars.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        self
    }

    pub fn encryption(mut self, doc: Value) -> Self {
        let cfg = EncryptionConfig::from_value("/etc/kubernetes/enc.yaml", &doc)
            .map_err(|e| e.to_string());
        self.kube().encryption = Some(cfg.into());
        self
    }

    pub fn dump(mut self, docs: Vec<Value>) -> Self {
        self.kube().cluster = Some(Fact::Value(ClusterDump::from_documents("dump.yaml", docs)));
        self.retarget();
        self
    }

    pub fn managed(mut self, kind: &str) -> Self {
        self.kube().platform = Platform {
            kind: kind.into(),
            managed: true,
            evidence: vec!["file /etc/eks/release".into()],
        };
        self
    }

    /// Run the evaluator of `control_id`.
    pub fn run(&self, control_id: &str) -> CheckResult {
        let ctx = Context::new(&self.snapshot, &self.options);
        let eval = crate::registry::evaluator(control_id)
            .unwrap_or_else(|| panic!("no evaluator {control_id}"));
        eval(&ctx)
    }
}
