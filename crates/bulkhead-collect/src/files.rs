//! Which host files the Docker checks need (sections 1 and 3), at the paths the daemon's real
//! configuration resolves to, and their `stat` facts. The canonical paths the benchmark names
//! (`/usr/bin/runc`, `/etc/docker`, ...) are recorded too, so a check can always tell a file
//! that is missing from one that was never looked at.

use crate::hostfs::{Accounts, HostFs};
use bulkhead_facts::docker::DockerPaths;
use bulkhead_facts::host::HostFacts;
use bulkhead_facts::Fact;
use std::collections::BTreeSet;

/// Paths named by the benchmark itself, looked at whatever the configuration says.
const CANONICAL: &[&str] = &[
    "/etc/docker",
    "/etc/docker/daemon.json",
    "/etc/docker/certs.d",
    "/etc/default/docker",
    "/etc/sysconfig/docker",
    "/etc/containerd/config.toml",
    "/run/containerd",
    "/run/containerd/containerd.sock",
    "/var/lib/docker",
    "/var/run/docker.sock",
    "/usr/bin/dockerd",
    "/usr/bin/containerd",
    "/usr/bin/containerd-shim",
    "/usr/bin/containerd-shim-runc-v1",
    "/usr/bin/containerd-shim-runc-v2",
    "/usr/bin/runc",
];

/// Every path to stat for these daemon paths.
pub fn docker_paths(paths: &DockerPaths) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = CANONICAL.iter().map(|s| s.to_string()).collect();
    let mut add = |p: &str| {
        if !p.is_empty() {
            out.insert(p.to_string());
        }
    };
    for s in &paths.sockets {
        add(s);
    }
    add(&paths.data_root);
    if let Some((parent, _)) = paths.data_root.rsplit_once('/') {
        add(if parent.is_empty() { "/" } else { parent });
    }
    add(&paths.exec_root);
    if let Some(s) = &paths.containerd_socket {
        add(s);
        if let Some((dir, _)) = s.rsplit_once('/') {
            add(dir);
        }
    }
    add(&paths.config_dir);
    add(&paths.config_file);
    add(&paths.certs_dir);
    for p in [&paths.tls_ca, &paths.tls_cert, &paths.tls_key]
        .into_iter()
        .flatten()
    {
        add(p);
    }
    for p in paths.units.values().flatten() {
        add(p);
    }
    for p in paths.unit_dropins.values().flatten() {
        add(p);
    }
    for p in &paths.default_env_files {
        add(p);
    }
    add(&paths.containerd_config);
    for p in paths.binaries.values().flatten() {
        add(p);
    }
    out
}

/// Stat every file the Docker checks need into `host.files`, and list the registry certificate
/// directory (recursively) into `host.listings`, each file found stat'ed as well. Paths already
/// recorded (by an earlier call) are not read again.
pub fn collect(host: &mut HostFacts, fs: &HostFs, accounts: &Accounts, paths: &DockerPaths) {
    let mut wanted = docker_paths(paths);
    if !host.listings.contains_key(&paths.certs_dir) {
        let listing = match fs.list_recursive(&paths.certs_dir) {
            Ok(files) => Fact::Value(files),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Fact::Value(vec![]),
            Err(e) => Fact::Unavailable(format!(
                "cannot list {}: {e}",
                fs.describe(&paths.certs_dir)
            )),
        };
        host.listings.insert(paths.certs_dir.clone(), listing);
    }
    if let Some(Fact::Value(files)) = host.listings.get(&paths.certs_dir) {
        wanted.extend(files.iter().cloned());
    }
    // The paths audit rules watch, so that a check can see what each really names (a
    // directory, a link), and every symbolic link on the way to any of these paths (`/lib`,
    // `/bin` on a merged-/usr system, a linked /etc/docker): a rule and a file may name one
    // file by two paths, or a rule may watch a link rather than the file it points to.
    if let Fact::Value(rules) = &host.audit {
        wanted.extend(rules.rules.iter().filter_map(|r| r.path.clone()));
    }
    let links = fs.links_on_paths(&wanted);
    wanted.extend(links);
    wanted.retain(|p| !host.files.contains_key(p));
    host.files.extend(fs.stat_many(&wanted, accounts));
}
