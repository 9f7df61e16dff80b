//! Collection: the only stage that touches the audited system. Everything learned goes into one
//! serializable [`Snapshot`]; a fact that cannot be read is recorded with the reason.
//!
//! Nothing here spawns a process to learn a fact: the Docker Engine API is spoken directly
//! (bollard; the one exception is the `ssh://` transport, which runs the system's `ssh` client
//! exactly as the docker CLI does), files and `/proc` are read, audit rules and listening sockets
//! come from the kernel over netlink.
//!
//! Modules: [`endpoint`] (where the API is, connecting, errors that say what to do), [`ssh`] (the
//! `ssh://` transport), [`api`] (everything the API reports), [`select`] (which containers are
//! audited), [`host`], [`procfs`] and [`listen`] (the host, its processes and listening sockets),
//! [`daemon`] (the dockerd process, its configuration and paths), [`files`] and [`hostfs`] (file
//! facts under `--root`), [`audit`] (audit rules).

pub mod api;
pub mod audit;
pub mod daemon;
pub mod endpoint;
pub mod files;
pub mod host;
pub mod hostfs;
pub mod kube;
pub mod listen;
pub mod procfs;
pub mod select;
pub mod ssh;
pub mod unix;

use bulkhead_facts::docker::{ContainerFacts, DockerFacts};
use bulkhead_facts::{Fact, Snapshot, ToolInfo};
use std::path::PathBuf;

/// Whether to collect a platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Want {
    /// Not at all.
    Skip,
    /// If it is found on this host.
    #[default]
    Auto,
    /// It must be reachable; failing to reach it is an error.
    Required,
}

/// Which containers to audit.
#[derive(Debug, Clone, Default)]
pub struct ContainerFilter {
    /// Include created, exited and paused containers too (default: running only).
    pub all_states: bool,
    /// Name regexes; a container must match one (when any are given).
    pub include: Vec<String>,
    /// Name regexes; a matching container is left out.
    pub exclude: Vec<String>,
    /// `key` or `key=value`; a container must carry every one.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The host's file system root (`/`, or `/host` when run in a container).
    pub root: PathBuf,
    /// The proc file system to read processes from.
    pub proc: PathBuf,
    pub docker: Want,
    /// `--docker-host`; falls back to `DOCKER_HOST`, then the rootless or default socket.
    pub docker_host: Option<String>,
    pub containers: ContainerFilter,
    pub kubernetes: Want,
    /// A `kubectl get ... -o yaml|json` dump of cluster objects for the policy checks.
    pub cluster_dump: Option<PathBuf>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            root: PathBuf::from("/"),
            proc: PathBuf::from("/proc"),
            docker: Want::Auto,
            docker_host: None,
            containers: ContainerFilter::default(),
            kubernetes: Want::Auto,
            cluster_dump: None,
        }
    }
}

/// A failure that stops collection: the message says what failed and what to do.
#[derive(Debug)]
pub struct CollectError(pub String);

impl std::fmt::Display for CollectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CollectError {}

/// Collect a snapshot of this host: host facts always, Docker facts as `options.docker` asks.
/// The host is read on its own thread while the API requests are in flight.
pub fn collect(options: &CollectOptions) -> Result<Snapshot, CollectError> {
    collect_with(options, &endpoint::Environment::process())
}

/// [`collect`] with the environment the endpoint is resolved from (`DOCKER_HOST`,
/// `DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`, which addresses are this machine) given explicitly.
pub fn collect_with(
    options: &CollectOptions,
    env: &endpoint::Environment<'_>,
) -> Result<Snapshot, CollectError> {
    let collected_at = rfc3339_utc(std::time::SystemTime::now());
    let fs = hostfs::HostFs::new(&options.root);
    let selector = select::Selector::new(&options.containers)?;
    let target = match options.docker {
        Want::Skip => None,
        _ => Some(endpoint::resolve(options.docker_host.as_deref(), env)?),
    };
    let (host_part, api_part) = std::thread::scope(|s| {
        // Named, as bulkhead's other threads are, so that profilers and `top -H` tell them apart.
        let host_thread = std::thread::Builder::new()
            .name("host".into())
            .spawn_scoped(s, || {
                lower_thread_priority();
                let (mut host, accounts) = host::collect(&fs, &options.proc);
                // While the API answers: stat the daemon's files at the paths its process and
                // configuration name (what the API adds, such as the data root it reports, is
                // stat'ed afterwards).
                if let Some(t) = target.as_ref().filter(|t| t.endpoint.local) {
                    let early = daemon::local_daemon(&daemon::DaemonInputs {
                        processes: host.process_list(),
                        endpoint: &t.endpoint,
                        info: None,
                        fs: &fs,
                        users: &accounts.users,
                    });
                    files::collect(&mut host, &fs, &accounts, &early.paths);
                }
                (host, accounts)
            });
        let host_thread = match host_thread {
            Ok(t) => t,
            Err(e) => {
                let e = CollectError(format!("cannot start a thread to read the host: {e}"));
                return (Err(e), None);
            }
        };
        let api_part = target.as_ref().map(|t| read_api(t, &selector));
        let host_part = host_thread
            .join()
            .map_err(|_| CollectError("reading the host failed unexpectedly".into()));
        (host_part, api_part)
    });
    let (mut host, accounts) = host_part?;
    let docker = match (target, api_part) {
        (Some(target), Some(Ok((api, api_version)))) => {
            let mut endpoint = target.endpoint.clone();
            endpoint.api_version = api_version;
            Some(assemble_docker(
                endpoint, api, &mut host, &fs, &accounts, options,
            ))
        }
        (Some(target), Some(Err(e))) => match options.docker {
            // Only a guessed socket (the default or the rootless one) may be absent: an address
            // the user named, by --docker-host, DOCKER_HOST or a docker context, that does not answer is an
            // error.
            Want::Auto if endpoint::is_absent(&target) && !endpoint::is_named(&target) => None,
            _ => return Err(e),
        },
        _ => None,
    };
    let kubernetes = kube::collect(
        &mut host,
        &kube::Inputs {
            fs: &fs,
            accounts: &accounts,
            proc: &options.proc,
            cluster_dump: options.cluster_dump.as_deref(),
            want: options.kubernetes,
        },
    )?;
    let mut snapshot = Snapshot::new(
        ToolInfo::bulkhead(env!("CARGO_PKG_VERSION")),
        collected_at,
        host,
    );
    snapshot.docker = docker;
    snapshot.kubernetes = kubernetes;
    Ok(snapshot)
}

/// Lower the calling thread's scheduling priority (on Linux the nice value is per thread).
///
/// For the threads that read the host and parse the check catalog while the Docker API is
/// being read: on a small machine they compete for the same cores as the daemon answering the
/// API, whose answers are the longer path to a finished audit. At a lower priority they take the
/// time the daemon leaves free. A thread cannot raise its priority again without privileges, so
/// call this only on a thread of its own that ends with that work.
pub fn lower_thread_priority() {
    // SAFETY: setpriority only reads its arguments; `who` 0 is the calling thread.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, BACKGROUND_NICE);
    }
}

/// The nice value of background threads. The API thread keeps 0; at 10 a background thread gets
/// about a tenth of a core it competes for, so it yields without starving.
const BACKGROUND_NICE: libc::c_int = 10;

/// Connect and read the API on a small runtime of our own (collect stays a plain function).
fn read_api(
    target: &endpoint::Target,
    selector: &select::Selector,
) -> Result<(api::ApiFacts, String), CollectError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectError(format!("cannot start the I/O runtime: {e}")))?;
    runtime.block_on(async {
        let c = endpoint::connect(target).await?;
        let concurrency = match target.transport {
            endpoint::Transport::Ssh(_) => api::SSH_CONCURRENCY,
            _ => api::CONCURRENCY,
        };
        Ok((
            api::collect(
                &c.docker,
                c.raw_get.as_ref(),
                selector,
                match (c.version, c.ping) {
                    (Some(v), _) => api::VersionFrom::Known(v),
                    (None, Some(ping)) => api::VersionFrom::InfoAndPing(ping),
                    (None, None) => api::VersionFrom::Ask,
                },
                concurrency,
            )
            .await,
            c.api_version,
        ))
    })
}

/// The processes of a container from its init pid and whether it shares the host's PID namespace.
type ProcessesOf<'a> = Box<dyn Fn(i64, bool) -> Fact<Vec<bulkhead_facts::host::Process>> + 'a>;

/// Join what the API said with what the host shows. For a remote daemon nothing of this host is
/// attributed to it.
fn assemble_docker(
    endpoint: bulkhead_facts::docker::Endpoint,
    api: api::ApiFacts,
    host: &mut bulkhead_facts::host::HostFacts,
    fs: &hostfs::HostFs,
    accounts: &hostfs::Accounts,
    options: &CollectOptions,
) -> DockerFacts {
    let info = api.info.value();
    let (daemon, processes_of): (_, ProcessesOf<'_>) = if endpoint.local {
        let mut daemon = daemon::local_daemon(&daemon::DaemonInputs {
            processes: host.process_list(),
            endpoint: &endpoint,
            info,
            fs,
            users: &accounts.users,
        });
        // Whether daemon.json changed after the daemon started (and so may not be in force).
        let pid = daemon.process.value().cloned().flatten().map(|p| p.pid);
        daemon.started_at = pid
            .and_then(|pid| procfs::start_time(&options.proc, pid))
            .map(bulkhead_facts::time::rfc3339_utc);
        daemon.config_modified_at = fs
            .modified(&daemon.config_path)
            .map(bulkhead_facts::time::rfc3339_utc);
        daemon.open_files_limit = pid.and_then(|pid| procfs::open_files_limit(&options.proc, pid));
        files::collect(host, fs, accounts, &daemon.paths);
        let proc = &options.proc;
        let by_container: ProcessesOf<'_> = match &host.processes {
            Fact::Value(all) => {
                Box::new(move |pid, host_pid| procfs::container_processes(all, pid, host_pid, proc))
            }
            Fact::Unavailable(r) => Box::new(move |_, _| Fact::Unavailable(r.clone())),
        };
        (daemon, by_container)
    } else {
        let reason = format!(
            "remote daemon: the processes of {} cannot be read from this host",
            endpoint.host
        );
        let by_container: ProcessesOf<'_> = Box::new(move |_, _| Fact::Unavailable(reason.clone()));
        (daemon::remote_daemon(&endpoint, info), by_container)
    };
    let containers = api.containers.map(|list| {
        list.into_iter()
            .map(|mut inspect| {
                // The Engine API lists a container's mounts in no fixed order: sorted, two
                // snapshots of an unchanged container are the same file.
                inspect
                    .mounts
                    .sort_by(|a, b| (&a.source, &a.destination).cmp(&(&b.source, &b.destination)));
                let processes = if inspect.state.running {
                    processes_of(inspect.state.pid, inspect.host_config.pid_mode == "host")
                } else {
                    Fact::Value(vec![])
                };
                ContainerFacts { inspect, processes }
            })
            .collect()
    });
    DockerFacts {
        endpoint,
        version: api.version,
        info: api.info,
        daemon,
        containers,
        selection: api.selection,
        images: api.images,
        networks: api.networks,
        swarm: api.swarm,
    }
}

/// `2026-01-01T12:00:00Z`
fn rfc3339_utc(t: std::time::SystemTime) -> String {
    bulkhead_facts::time::rfc3339_utc(bulkhead_facts::time::unix_seconds(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600 + 3_723);
        assert_eq!(rfc3339_utc(t), "2026-01-01T01:02:03Z");
        assert_eq!(rfc3339_utc(std::time::UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }
}
