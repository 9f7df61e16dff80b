//! The Kubernetes collector: components found by executable name in `/proc` (or `--proc`), their
//! command lines read raw and parsed in every flag form, etcd's `ETCD_*` environment and its
//! service's environment file, the kubelet's `--config` file and `--config-dir` drop-ins and the
//! environment its systemd unit gives it, kube-proxy's and kube-scheduler's `--config` files, the
//! EncryptionConfiguration, the files the checks judge (stat under `--root`, or inside the
//! component's own mount namespace when only it can see them), the platform and benchmark
//! choice, the targets, and the cluster dump. Nothing is executed; no file's content is ever run.

mod components;
mod configs;
mod dump;
mod k3s;
mod paths;
mod units;

/// etcd's `--config-file` decoded as etcd decodes it (the collector's reading of it).
pub use configs::decode_etcd_config;

use crate::hostfs::{Accounts, HostFs};
use crate::{CollectError, Want};
use bulkhead_facts::host::HostFacts;
use bulkhead_facts::kube::{
    BenchmarkChoice, KubeFacts, Platform, Targets, VersionFact, COMPONENTS,
};
use std::path::Path;

/// What the Kubernetes collector needs from the rest of collection.
pub struct Inputs<'a> {
    pub fs: &'a HostFs,
    pub accounts: &'a Accounts,
    pub proc: &'a Path,
    pub cluster_dump: Option<&'a Path>,
    pub want: Want,
}

/// Collect Kubernetes facts. `Ok(None)` when nothing of Kubernetes is on this host and it was
/// not required; an error when it was required (`bulkhead audit kubernetes`) and nothing is
/// there, saying where bulkhead looked.
pub fn collect(
    host: &mut HostFacts,
    input: &Inputs<'_>,
) -> Result<Option<KubeFacts>, CollectError> {
    if input.want == Want::Skip {
        return Ok(None);
    }
    let found = components::find(host, input);
    let cluster = input.cluster_dump.map(dump::read);
    let programs: Vec<String> = host
        .process_list()
        .iter()
        .filter(|p| p.is_program("k3s") || p.is_program("rke2"))
        .map(|p| {
            if p.is_program("k3s") {
                "k3s".to_string()
            } else {
                "rke2".to_string()
            }
        })
        .collect();
    let markers = paths::platform_markers(input.fs);
    let node_markers = cluster
        .as_ref()
        .and_then(|c| c.value())
        .map(dump::node_markers)
        .unwrap_or_default();
    if found.components.is_empty() && cluster.is_none() && programs.is_empty() {
        return match input.want {
            Want::Required => Err(CollectError(format!(
                "no Kubernetes component ({}) runs on this host (processes read from {}); point --proc and --root at the node, or give --cluster-dump FILE",
                COMPONENTS.join(", "),
                input.proc.display()
            ))),
            _ => Ok(None),
        };
    }
    let platform = Platform::detect(&markers, &programs, &node_markers);
    let mut k = KubeFacts {
        platform,
        components: found.components,
        absent: found.absent,
        ..Default::default()
    };
    if matches!(k.platform.kind.as_str(), "k3s") {
        // The components k3s runs inside its own process (server or agent): each with the flags
        // k3s passes through to it. A component that runs as its own process wins.
        let mut k3s_procs: Vec<&bulkhead_facts::host::Process> = host
            .process_list()
            .iter()
            .filter(|p| p.is_program("k3s"))
            .collect();
        k3s_procs.sort_by_key(|p| p.pid);
        // The k3s whose data directory holds the files judged: the first server, else the
        // first agent (one node runs one k3s; a second one would share nothing with it).
        let mut data_dir: Option<Result<bulkhead_facts::kube::ResolvedPath, String>> = None;
        let mut data_dir_of_server = false;
        for p in k3s_procs {
            let started =
                crate::procfs::start_time(input.proc, p.pid).map(bulkhead_facts::time::rfc3339_utc);
            let read = k3s::read(p, input);
            let is_server = p.args().first().is_some_and(|s| s == "server");
            if data_dir.is_none() || (is_server && !data_dir_of_server) {
                data_dir = Some(read.data_dir.clone());
                data_dir_of_server = is_server;
            }
            for c in k3s::embedded(p, &read, input, started) {
                if !k.components.contains_key(&c.name) {
                    k.absent.remove(&c.name);
                    k.components.insert(c.name.clone(), c);
                }
            }
        }
        // Without a running k3s (only its files), the default directory is assumed.
        let data_dir = data_dir.unwrap_or_else(|| {
            Ok(bulkhead_facts::kube::ResolvedPath::conventional(
                k3s::DEFAULT_DATA_DIR,
                k3s::DEFAULT_SOURCE,
            ))
        });
        let etcd_dir = match &data_dir {
            Ok(d) => format!("no {}", k3s::join(&d.path, "server/db/etcd")),
            Err(_) => "no way to look for its data: k3s's data directory is unknown".into(),
        };
        match data_dir {
            Ok(d) => {
                k.paths.insert(paths::K3S_DATA_DIR.into(), d);
            }
            Err(why) => {
                k.unknown_paths.insert(paths::K3S_DATA_DIR.into(), why);
            }
        }
        for c in COMPONENTS {
            if !k.components.contains_key(c) {
                let why = if c == bulkhead_facts::kube::ETCD {
                    format!("etcd does not run on this node: k3s runs no embedded etcd here (no --cluster-init, {etcd_dir}, or --disable-etcd or --datastore-endpoint given)")
                } else {
                    format!("{c} does not run on this node: no process named {c}, and no k3s server or agent carries it (a k3s agent runs only the kubelet and kube-proxy; --disable-* options turn components off)")
                };
                k.absent.insert(c.to_string(), why);
            }
        }
    }
    configs::read_all(&mut k, host, input);
    paths::resolve(&mut k, host, input);
    k.version = version(&k, cluster.as_ref().and_then(|c| c.value()));
    k.benchmark = BenchmarkChoice::choose(k.version.as_ref(), &k.platform);
    k.cluster = cluster;
    k.targets = Targets::detect(&k.components, k.cluster.is_some());
    Ok(Some(k))
}

/// The Kubernetes version: the API server manifest's image tag, else the kubelet version of a
/// node in the dump.
fn version(k: &KubeFacts, dump: Option<&bulkhead_facts::kube::ClusterDump>) -> Option<VersionFact> {
    // The API server manifest's image tag, read while resolving paths.
    if let Some(v) = k.version.clone() {
        return Some(v);
    }
    let d = dump?;
    let node = d.of_kind("Node").next()?;
    let v = node
        .body
        .pointer("/status/nodeInfo/kubeletVersion")?
        .as_str()?;
    Some(VersionFact {
        version: v.to_string(),
        source: format!("kubelet version of node {} in {}", node.name, d.source),
    })
}
